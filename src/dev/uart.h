/* NS16550A UART as on QEMU's riscv "virt" board (base 0x10000000, window 0x100, reg-shift 0,
 * clock-frequency 3686400, DT compatible "ns16550a"). Transmit is immediate: every byte
 * written to THR goes straight to the console backend.
 *
 * Concurrency: like every device, call these with the machine's device lock held. */
#ifndef RV_DEV_UART_H
#define RV_DEV_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/device.h"

struct rv_uart;

#define RV_UART_SIZE 0x100u

/* Creates the UART, attaches its window at `base` and, when fdt is not NULL, adds its
 * device-tree node "/soc/serial@<base>". irq may be NULL (no interrupt line); out may be NULL
 * (output is discarded). The iomap owns the device (ops->destroy frees it). */
int rv_uart_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                   const struct rv_irq *irq, const struct rv_console *out,
                   struct rv_uart **uart);

/* Offers host input to the receive FIFO (16 bytes with FIFOs enabled, 1 without) and returns
 * how many bytes were accepted, raising the receive interrupt as the guest programmed it.
 * Bytes that do not fit are not taken: the caller keeps them and offers them again once
 * rv_uart_rx_room() says so. In loopback mode the receiver is disconnected and 0 is returned. */
size_t rv_uart_receive(struct rv_uart *u, const uint8_t *buf, size_t len);

/* True if rv_uart_receive() would accept at least one byte now. */
bool rv_uart_rx_room(const struct rv_uart *u);

#endif
