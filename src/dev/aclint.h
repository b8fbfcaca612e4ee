/* ACLINT (RISC-V Advanced Core Local Interruptor) as on QEMU's riscv "virt" board with
 * aclint=on: MSWI at 0x02000000 (msip[h], 32-bit, at 4*h), MTIMER at 0x02004000 (mtimecmp[h],
 * 64-bit, at 8*h; mtime at +0x7ff8) and SSWI at 0x02f00000 (setssip[h] at 4*h). MSWI followed
 * by MTIMER is also the register layout of a SiFive CLINT at 0x02000000.
 *
 * The harts and the time base belong to the machine: the device stores msip and mtimecmp,
 * forwards every change through struct rv_aclint_host, and reads/writes mtime through it. The
 * machine's hart raises MTIP itself while mtime >= mtimecmp.
 *
 * Concurrency: like every device, call these with the machine's device lock held. */
#ifndef RV_DEV_ACLINT_H
#define RV_DEV_ACLINT_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"

struct rv_aclint;

#define RV_ACLINT_MSWI_BASE 0x02000000ull
#define RV_ACLINT_MSWI_SIZE 0x4000ull
#define RV_ACLINT_MTIMER_BASE 0x02004000ull
#define RV_ACLINT_MTIMER_SIZE 0x8000ull
#define RV_ACLINT_SSWI_BASE 0x02f00000ull
#define RV_ACLINT_SSWI_SIZE 0x4000ull
#define RV_ACLINT_MAX_HARTS 4095u /* ACLINT spec: per MSWI, MTIMER and SSWI device */

struct rv_aclint_host {
    uint64_t (*get_time)(void *opaque);            /* current mtime */
    void (*set_time)(void *opaque, uint64_t mtime); /* the guest wrote mtime */
    void (*set_mtimecmp)(void *opaque, unsigned hart, uint64_t value);
    void (*set_msip)(void *opaque, unsigned hart, bool level); /* mip.MSIP */
    void (*set_ssip)(void *opaque, unsigned hart);  /* sets mip.SSIP (edge; software clears) */
    void *opaque;
};

/* Creates the device for `nharts` harts (1..RV_ACLINT_MAX_HARTS) and attaches its three
 * windows at the virt addresses above. When fdt is not NULL, adds QEMU's aclint nodes
 * "/soc/mswi@2000000" (riscv,aclint-mswi) and "/soc/mtimer@2004000" (riscv,aclint-mtimer, reg =
 * <mtime 8> then <mtimecmp 0x7ff8>), naming hart_intc_phandles[h] with interrupts 3 (M soft)
 * and 7 (M timer). The SSWI window is attached but not described (aclint.c says why).
 *
 * The MSWI window carries the device's reset/save/load/destroy ops (the iomap owns the device
 * through it); the MTIMER and SSWI windows have register access only. Reset clears msip,
 * sets every mtimecmp to UINT64_MAX and writes mtime = 0, forwarding all three. */
int rv_aclint_create(struct rv_iomap *map, struct rv_fdt *fdt, unsigned nharts,
                     const uint32_t *hart_intc_phandles, const struct rv_aclint_host *host,
                     struct rv_aclint **out);

#endif
