/* virtio-input (virtio 1.2 spec 5.8) as a power button: one key, KEY_POWER, the board's
 * host-initiated "please shut down" signal (the riscv virt board has neither ACPI nor a GPIO
 * power key). Linux binds it with virtio_input + evdev; systemd-logind shuts down on
 * KEY_POWER, and the busybox test guest's init does the same (guest/README.md).
 *
 * eventq (0): rv_virtio_input_press() queues a press, EV_SYN/SYN_REPORT, a release and
 * SYN_REPORT, and delivers them into the driver's buffers at once or, if it has none, as soon
 * as it adds some; undelivered events are part of the saved state. statusq (1): buffers (LED
 * and sound feedback, meaningless for a power button) are given back unread.
 *
 * Concurrency: rv_virtio_input_press() takes the machine's device lock and the transport lock
 * itself (both recursive): call it from any thread, with or without the device lock held. */
#ifndef RV_DEV_VIRTIO_INPUT_H
#define RV_DEV_VIRTIO_INPUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/bus.h"
#include "dev/device.h"

/* Linux input-event-codes.h values (the evdev ABI virtio-input carries, spec 5.8.6) */
#define RV_INPUT_EV_SYN 0x00
#define RV_INPUT_EV_KEY 0x01
#define RV_INPUT_SYN_REPORT 0
#define RV_INPUT_KEY_POWER 116

#define RV_VIRTIO_INPUT_NAME "rvisor power button" /* VIRTIO_INPUT_CFG_ID_NAME */
#define RV_VIRTIO_INPUT_MAX_PENDING 64             /* events held for the driver */

struct rv_virtio_input;

/* Creates the device and its virtio-mmio transport at `base`. The iomap owns the device. */
int rv_virtio_input_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                           const struct rv_irq *irq, pthread_mutex_t *dev_lock,
                           struct rv_bus *bus, struct rv_virtio_input **out);

/* Presses and releases key `code` (only RV_INPUT_KEY_POWER exists). -ENODEV while no driver
 * uses the device (nobody would see the key: the press is not queued), -EBUSY if
 * RV_VIRTIO_INPUT_MAX_PENDING events already wait for buffers, -EINVAL for another key. */
int rv_virtio_input_press(struct rv_virtio_input *in, uint16_t code);

/* True once the driver has set DRIVER_OK (and the device does not need a reset). */
bool rv_virtio_input_active(struct rv_virtio_input *in);

/* Events queued and not yet in a driver buffer. */
unsigned rv_virtio_input_pending(struct rv_virtio_input *in);

#endif
