/* virtio 1.2 devices over the virtio-mmio transport (virtio spec 4.2, "modern" version 2
 * registers) with split virtqueues (2.7), indirect descriptors (2.7.5.3) and EVENT_IDX
 * (2.7.7/2.7.10).
 *
 * A device model (virtio_blk.c, virtio_net.c, ...) supplies a const struct rv_virtio_ops and
 * an instance; virtio_mmio.c owns the registers, feature negotiation, status, reset, the
 * queues and the interrupt. Device models see guest buffers only as validated host iovecs.
 *
 * Locking: every transport has its own mutex (`rv_virtio_lock`), taken by the transport around
 * register accesses and by the helpers below. Device callbacks `queue_notify`, `reset`,
 * `config_*` and `features_ok` are called with it held. A device that does slow work (disk or
 * network I/O) must not do it in queue_notify: it wakes its own worker thread, which calls
 * rv_virtq_pop/push/notify (they take the lock themselves) and does the I/O unlocked. The
 * interrupt line is raised through the machine's device lock, which is recursive, so
 * rv_virtq_notify() works from the MMIO path and from worker threads alike. Lock order:
 * machine device lock, then transport lock. */
#ifndef RV_DEV_VIRTIO_H
#define RV_DEV_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/iov.h"
#include "cpu/bus.h"
#include "dev/device.h"

/* Device types (virtio spec 5) */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_BALLOON 5
#define VIRTIO_ID_INPUT 18

/* Transport-level feature bits (virtio spec 6) the transport offers itself. */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define RV_VIRTIO_MAX_QUEUES 8
#define RV_VIRTQ_MAX_SIZE 1024  /* largest queue a device may offer */
#define RV_VIRTQ_MAX_SEGS 1024  /* segments in one chain, indirect ones included */

struct rv_virtio;

struct rv_virtio_ops {
    const char *name;
    uint32_t device_id;          /* VIRTIO_ID_* */
    unsigned num_queues;         /* queues the device has (<= RV_VIRTIO_MAX_QUEUES) */
    unsigned queue_max;          /* QueueNumMax for every queue (power of 2, <= 1024) */
    /* Device-specific feature bits offered (the transport adds VERSION_1, INDIRECT_DESC and
     * EVENT_IDX). A device may compute them per instance: see rv_virtio_create(). */
    uint32_t config_size;        /* bytes of device configuration space */
    /* Reads/writes device configuration space at [off, off+len), inside config_size. */
    void (*config_read)(void *dev, uint32_t off, void *buf, unsigned len);
    void (*config_write)(void *dev, uint32_t off, const void *buf, unsigned len);
    /* The driver accepted `features` (FEATURES_OK). Return false to refuse them. */
    bool (*features_ok)(void *dev, uint64_t features);
    /* The driver set DRIVER_OK: queues are live. */
    void (*driver_ok)(void *dev);
    /* The driver notified queue `q` (it has new available buffers). */
    void (*queue_notify)(void *dev, unsigned q);
    /* Device reset (written 0 to Status, or the VM reset): drop in-flight work. */
    void (*reset)(void *dev);
    /* Device-specific state for snapshots (the transport saves queues and registers). */
    int (*save)(void *dev, struct rv_state_writer *w);
    int (*load)(void *dev, struct rv_state_reader *r);
    void (*destroy)(void *dev);
};

/* One popped descriptor chain, as host memory. `out` are the driver->device (readable)
 * segments, in order; `in` the device->driver (writable) ones. */
struct rv_virtq_elem {
    uint16_t head;               /* descriptor index to give back with rv_virtq_push */
    unsigned out_num, in_num;
    size_t out_len, in_len;      /* total bytes of each direction */
    struct iovec out[RV_VIRTQ_MAX_SEGS];
    struct iovec in[RV_VIRTQ_MAX_SEGS];
};

/* Creates a virtio-mmio transport for a device at `base` (a 0x200-byte window) with
 * interrupt `irq`, adds its device-tree node ("virtio,mmio"), and attaches it. `features` are
 * the device-specific feature bits offered. `dev_lock` is the machine's recursive device lock,
 * taken around interrupt changes from worker threads. */
int rv_virtio_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                     const struct rv_irq *irq, pthread_mutex_t *dev_lock, struct rv_bus *bus,
                     const struct rv_virtio_ops *ops, void *dev, uint64_t features,
                     struct rv_virtio **out);

/* The transport's lock (see the file comment). */
pthread_mutex_t *rv_virtio_lock(struct rv_virtio *vd);

/* Features the driver accepted (valid after FEATURES_OK). */
uint64_t rv_virtio_features(const struct rv_virtio *vd);
/* True once the driver set DRIVER_OK and the device is not in NEEDS_RESET. */
bool rv_virtio_running(const struct rv_virtio *vd);

/* Takes the next available chain of queue `q`. Returns 1 and fills *elem, 0 if the queue is
 * empty (or not ready), or -1 if the driver broke the rules (the device is then marked
 * DEVICE_NEEDS_RESET with a logged reason, and stays quiet until reset). Takes the lock. */
int rv_virtq_pop(struct rv_virtio *vd, unsigned q, struct rv_virtq_elem *elem);
/* Returns a chain to the driver with `written` bytes written into its `in` segments. */
void rv_virtq_push(struct rv_virtio *vd, unsigned q, const struct rv_virtq_elem *elem,
                   uint32_t written);
/* Interrupts the driver for queue `q` if it wants to hear about new used buffers
 * (VIRTQ_AVAIL_F_NO_INTERRUPT / used_event). Call after one or more pushes. */
void rv_virtq_notify(struct rv_virtio *vd, unsigned q);
/* Number of available chains not yet popped (0 if the queue is not ready). */
unsigned rv_virtq_avail(struct rv_virtio *vd, unsigned q);
/* Gives back the last `n` chains popped from queue `q` and not pushed, so that they are
 * popped again later (a device quiescing for a snapshot hands back what it holds). */
void rv_virtq_unpop(struct rv_virtio *vd, unsigned q, unsigned n);
/* Asks the driver not to notify queue `q` for now (true) or to notify again (false). Used by
 * workers that poll while busy. */
void rv_virtq_set_notify(struct rv_virtio *vd, unsigned q, bool enable);

/* The device configuration changed (e.g. capacity, link status): bump the generation and
 * interrupt. */
void rv_virtio_config_changed(struct rv_virtio *vd);
/* Puts the device in DEVICE_NEEDS_RESET and tells the driver (virtio spec 2.1.2). */
void rv_virtio_fail(struct rv_virtio *vd, const char *why);


#endif
