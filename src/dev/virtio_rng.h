/* virtio-rng / entropy device (virtio 1.2 spec 5.4): one request queue whose writable
 * buffers are filled from the host's getrandom(2), at most RV_VIRTIO_RNG_MAX_REQUEST bytes per
 * request (the used length says how many). Requests are served while the driver's notify is
 * handled: a bounded getrandom() call costs less than waking a thread. */
#ifndef RV_DEV_VIRTIO_RNG_H
#define RV_DEV_VIRTIO_RNG_H

#include <pthread.h>
#include <stdint.h>

#include "cpu/bus.h"
#include "dev/device.h"

#define RV_VIRTIO_RNG_MAX_REQUEST (64u * 1024)

struct rv_virtio_rng;

/* Creates the device and its virtio-mmio transport at `base`. The iomap owns the device. */
int rv_virtio_rng_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                         const struct rv_irq *irq, pthread_mutex_t *dev_lock, struct rv_bus *bus,
                         struct rv_virtio_rng **out);

#endif
