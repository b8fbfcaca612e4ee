/* virtio-console (virtio 1.2 spec 5.3) with a single port and no MULTIPORT: receiveq0 (0)
 * and transmitq0 (1). Linux binds it to /dev/hvc0, so "console=hvc0" works.
 *
 * Output: every chain the driver puts on transmitq0 goes to the rv_console callback while the
 * driver's notify is handled (Linux spins until its transmit buffer comes back, so this is
 * done at once, not by a thread). Input: rv_virtio_console_receive() copies host bytes into
 * the buffers the driver left on receiveq0.
 *
 * Concurrency: the functions below take the machine's device lock and the transport lock
 * themselves (both recursive), so they may be called with or without the device lock held. */
#ifndef RV_DEV_VIRTIO_CONSOLE_H
#define RV_DEV_VIRTIO_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/bus.h"
#include "dev/device.h"

struct rv_virtio_console;

/* Creates the device and its virtio-mmio transport at `base`. `output` may be NULL (output is
 * discarded). The iomap owns the device. */
int rv_virtio_console_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                             const struct rv_irq *irq, pthread_mutex_t *dev_lock,
                             struct rv_bus *bus, const struct rv_console *output,
                             struct rv_virtio_console **out);

/* Offers host input; returns how many bytes were accepted (0 while the driver is not ready or
 * has no receive buffer). The caller keeps the rest and offers it again later. */
size_t rv_virtio_console_receive(struct rv_virtio_console *c, const uint8_t *buf, size_t len);

/* True if rv_virtio_console_receive() would accept at least one byte now. */
bool rv_virtio_console_rx_room(struct rv_virtio_console *c);

/* True once the driver has set DRIVER_OK (and the device does not need a reset): the guest
 * is using the console. */
bool rv_virtio_console_active(const struct rv_virtio_console *c);

#endif
