/* The SiFive test finisher ("sifive,test0"), QEMU virt's power-off/reset register at
 * 0x100000, which Linux drives through the generic syscon-poweroff and syscon-reboot drivers.
 * A 32-bit write to offset 0: 0x5555 powers off (status 0), 0x7777 resets, and
 * 0x3333 | code << 16 powers off with failure status `code`. Other values are ignored. */
#ifndef RV_DEV_SYSCON_H
#define RV_DEV_SYSCON_H

#include <stdint.h>

#include "dev/device.h"

struct rv_syscon;

#define RV_SYSCON_SIZE 0x1000u

enum rv_power_action { RV_POWER_OFF, RV_POWER_RESET };

/* Creates the device and attaches its window at `base`; `power` is called (from the MMIO
 * write, with the device lock held) with the requested action and, for RV_POWER_OFF, the exit
 * status (0 for RESET). When fdt is not NULL, adds "/soc/test@<base>" (with a phandle) and the
 * root nodes "/poweroff" and "/reboot" that point at it. The iomap owns the device. */
int rv_syscon_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                     void (*power)(void *opaque, enum rv_power_action action, int status),
                     void *opaque, struct rv_syscon **out);

#endif
