/* PLIC (RISC-V Platform-Level Interrupt Controller spec 1.0.0) as on QEMU's riscv "virt" board:
 * base 0x0c000000, window 0x600000, sources 1..95, priorities 0..7, two contexts per hart
 * (context 2h = hart h M-mode, 2h+1 = hart h S-mode). DT compatible "sifive,plic-1.0.0",
 * "riscv,plic0".
 *
 * Concurrency: like every device, call these with the machine's device lock held. */
#ifndef RV_DEV_PLIC_H
#define RV_DEV_PLIC_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"

struct rv_plic;

#define RV_PLIC_BASE 0x0c000000ull
#define RV_PLIC_SIZE 0x600000ull
#define RV_PLIC_NUM_SOURCES 96u  /* including the non-existent source 0 */
#define RV_PLIC_MAX_PRIORITY 7u
#define RV_PLIC_MAX_HARTS 512u   /* 2 contexts per hart must fit in the window */

/* The machine's side: the PLIC drives each context's external interrupt pending output (EIP)
 * into mip.MEIP (s_mode false) or mip.SEIP (s_mode true) of hart `hart`. Called only when the
 * level changes, and once for every context after reset and load. */
struct rv_plic_host {
    void (*set_eip)(void *opaque, unsigned hart, bool s_mode, bool level);
    void *opaque;
};

/* Creates the PLIC for `nharts` harts (1..RV_PLIC_MAX_HARTS), attaches its RV_PLIC_SIZE window
 * at `base` and, when fdt is not NULL, adds "/soc/plic@<base>" whose interrupts-extended name
 * hart_intc_phandles[h] (the hart's "riscv,cpu-intc" node) with 11 (M external) and 9
 * (S external) for every hart. The iomap owns the device (ops->destroy frees it). */
int rv_plic_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base, unsigned nharts,
                   const uint32_t *hart_intc_phandles, const struct rv_plic_host *host,
                   struct rv_plic **out);

/* Interrupt input `source` (1..95) is at `level`; other sources are ignored. The signature of
 * struct rv_irq's `set`, with the struct rv_plic as `plic`. */
void rv_plic_set_irq(void *plic, unsigned source, bool level);

/* Fills `out` with the line a device uses to raise interrupt `source` of this PLIC. */
void rv_plic_irq(struct rv_plic *p, unsigned source, struct rv_irq *out);

#endif
