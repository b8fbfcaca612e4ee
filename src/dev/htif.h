/* HTIF (Berkeley host-target interface), the tohost/fromhost convention of Spike and the
 * RISC-V test programs: exit with a status, console output, and a proxied write() syscall. */
#ifndef RV_DEV_HTIF_H
#define RV_DEV_HTIF_H

#include <stdint.h>

#include "cpu/bus.h"
#include "dev/device.h"

struct rv_htif;

struct rv_htif_host {
    struct rv_bus *bus;                       /* guest RAM, for syscall argument blocks */
    void (*finish)(void *opaque, int status); /* the program finished with `status` */
    void *opaque;
    struct rv_console console;                /* where console output goes */
};

/* Creates the device and attaches its two 8-byte registers at `tohost` and `fromhost`. */
int rv_htif_create(struct rv_iomap *map, const struct rv_htif_host *host, uint64_t tohost,
                   uint64_t fromhost, struct rv_htif **out);

#endif
