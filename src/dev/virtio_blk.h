/* virtio-blk (virtio 1.2 spec 5.2) over virtio-mmio: one request queue served by a worker
 * thread per disk, backed by a block image (block/block.h: raw or qcow2).
 *
 * Offered features: SEG_MAX, BLK_SIZE (512), FLUSH, RO for read-only disks, DISCARD and
 * WRITE_ZEROES when the backend can deallocate; plus the transport's VERSION_1,
 * INDIRECT_DESC and EVENT_IDX. Requests: IN, OUT, FLUSH, GET_ID, DISCARD, WRITE_ZEROES;
 * anything else completes with VIRTIO_BLK_S_UNSUPP. A request without a 16-byte header or
 * without a status byte is a driver bug and puts the device in DEVICE_NEEDS_RESET; a bad
 * sector range or a data length that is not a multiple of 512 completes with IOERR.
 *
 * Threads: queue_notify only wakes the worker. The worker pops one chain at a time with the
 * machine's device lock and the transport lock held (so that pop and "request in flight" are
 * one step as seen by reset), does the I/O with no lock held, then pushes under the transport
 * lock and notifies in batches. Reset (called by the transport with its lock held) bumps a
 * generation counter and waits until no I/O touches guest memory; a request that was in
 * flight across a reset is dropped, never pushed into the new rings. */
#ifndef RV_DEV_VIRTIO_BLK_H
#define RV_DEV_VIRTIO_BLK_H

#include <pthread.h>
#include <stdint.h>

#include "block/block.h"
#include "cpu/bus.h"
#include "dev/device.h"

struct rv_virtio_blk;

/* Parses a --disk value "PATH[,format=raw|qcow2][,readonly][,cache=writeback|none|unsafe]
 * [,iops=N][,bw=BYTES]" (iops: requests per second; bw: bytes per second, K/M/G suffixes are
 * powers of 1024; token buckets with 100 ms of burst, requests wait, never fail). A literal comma in PATH is written ",,". Unknown keys, repeated keys and bad values are
 * errors naming the key. On success *path is a malloc'd copy (the caller frees it). */
int rv_virtio_blk_parse_spec(const char *spec, char **path, struct rv_block_opts *opts);

/* Opens the disk described by `spec` (see rv_virtio_blk_parse_spec), starts its worker and
 * creates the virtio-mmio transport at `base` (device-tree node included when fdt is not
 * NULL). The iomap owns the device: its region's destroy stops the worker and closes the
 * image. `bus` gives the guest RAM the rings and buffers live in; `dev_lock` is the
 * machine's recursive device lock. */
/* Requests that had to wait for the rate limit (iops=, bw=) so far. */
uint64_t rv_virtio_blk_throttled(const struct rv_virtio_blk *b);

int rv_virtio_blk_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                         const struct rv_irq *irq, pthread_mutex_t *dev_lock, struct rv_bus *bus,
                         const char *spec, struct rv_virtio_blk **out);

/* Capacity in 512-byte sectors. */
uint64_t rv_virtio_blk_capacity(const struct rv_virtio_blk *b);

/* Quiescing for snapshots and migration. pause() stops the worker from taking new requests
 * and returns once every request it took has been completed (pushed and the driver
 * notified), so the transport's saved ring state is consistent; resume() lets it go on.
 * Call both WITHOUT the device lock or the transport lock held (the worker needs them to
 * finish). Saving a disk that is not paused fails with -EBUSY if a request is in flight. */
void rv_virtio_blk_pause(struct rv_virtio_blk *b);
void rv_virtio_blk_resume(struct rv_virtio_blk *b);
/* While paused: writes the disk's cached data to its image (0 or -errno). */
int rv_virtio_blk_flush(struct rv_virtio_blk *b);
/* While paused: replaces the disk's image by the one `spec` describes (same virtual size),
 * e.g. a new qcow2 overlay on the current image; the old image is closed. */
int rv_virtio_blk_reopen(struct rv_virtio_blk *b, const char *spec);
/* The same, calling closed(opaque) while no image is open (its error cancels the switch: the
 * old image is opened again). */
int rv_virtio_blk_reopen_with(struct rv_virtio_blk *b, const char *spec,
                              int (*closed)(void *), void *opaque);
/* While paused: the image, for copying it (migrate --copy-storage). */
struct rv_block *rv_virtio_blk_disk(struct rv_virtio_blk *b);

#endif
