/* virtio-net (virtio 1.2 spec 5.1) over virtio-mmio: one receive queue (0) and one transmit
 * queue (1), no control queue, frames to and from a network backend (net/net.h: user-mode
 * NAT or tap).
 *
 * Offered features: MAC, STATUS (link always up), MRG_RXBUF and CSUM (the device completes a
 * partial checksum in software before the frame leaves); plus the transport's VERSION_1,
 * INDIRECT_DESC and EVENT_IDX. No segmentation offloads: every frame is at most one MTU.
 * Configuration space: mac[6], status, max_virtqueue_pairs (= 1).
 *
 * Threads: the transmit worker (woken by queue_notify) pops chains, flattens them, completes
 * the checksum and sends with no lock held, then pushes under the transport lock. Receiving
 * happens on the backend's thread, entirely under the transport lock (pop, copy into guest
 * buffers, push), then notifies; when the guest has no buffers the frame stays with the
 * backend until the guest adds buffers (queue_notify -> rv_net_rx_ready). Reset, called with
 * the transport lock held, never waits: it bumps a generation counter, and a transmit chain
 * that was in flight across a reset is dropped, never pushed into the new rings. A malformed
 * ring (rv_virtq_pop() == -1) leaves the device in DEVICE_NEEDS_RESET until reset. */
#ifndef RV_DEV_VIRTIO_NET_H
#define RV_DEV_VIRTIO_NET_H

#include <pthread.h>
#include <stdint.h>

#include "cpu/bus.h"
#include "dev/device.h"

struct rv_virtio_net;

/* Opens the network backend described by `netspec` (rv_net_open: "user[,...]" or
 * "tap,ifname=NAME"), starts the transmit worker and creates the virtio-mmio transport at
 * `base` (device-tree node included when fdt is not NULL). `mac` is the NIC's address (NULL:
 * 52:54:00:12:34:56); it must be a unicast address. The iomap owns the device: its region's
 * destroy stops the worker and closes the backend. `bus` gives the guest RAM the rings live
 * in; `dev_lock` is the machine's recursive device lock. */
/* Limits each direction to `bytes_per_sec` (0: no limit) with a token bucket holding 100 ms of
 * it (at least one largest frame). Transmit: frames wait in the guest's ring. Receive: frames
 * wait in the backend's bounded queue (user: a fixed number of frames, then new ones are
 * dropped as a NIC drops; tap: the kernel's queue), so memory stays bounded. Call before the
 * VM runs. */
void rv_virtio_net_set_rate(struct rv_virtio_net *d, uint64_t bytes_per_sec);

int rv_virtio_net_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                         const struct rv_irq *irq, pthread_mutex_t *dev_lock, struct rv_bus *bus,
                         const char *netspec, const uint8_t mac[6], struct rv_virtio_net **out);

/* Quiescing for snapshots and migration: pause() waits for the transmit worker to finish the
 * chain it is sending, hands receive buffers held for a partial frame back to the ring, and
 * makes the backend keep incoming frames; resume() lets both go on. */
void rv_virtio_net_pause(struct rv_virtio_net *d);
void rv_virtio_net_resume(struct rv_virtio_net *d);
/* Changes the MAC address the device reports (clones): a driver reading its configuration
 * afterwards (probe, reboot) sees it; a running guest keeps the address it read. */
void rv_virtio_net_set_mac(struct rv_virtio_net *d, const uint8_t mac[6]);

#endif
