/* ACLINT MSWI, MTIMER and SSWI devices (riscv/riscv-aclint), laid out as QEMU's virt board
 * does with aclint=on (hw/riscv/virt.c, hw/intc/riscv_aclint.c).
 *
 *  - MSWI: msip[h] is a 32-bit WARL register, only bit 0 is writable; it is mip.MSIP of hart h.
 *    Reset clears it (ACLINT spec, "MSIP Registers").
 *  - MTIMER: mtimecmp[h] and mtime are 64-bit registers, also accessible as 32-bit halves (the
 *    RV32 way; OpenSBI falls back to it for CLINTs without 64-bit MMIO). The spec leaves
 *    mtimecmp unknown after reset; UINT64_MAX is the value firmware writes to mean "no timer"
 *    and keeps MTIP low. mtime is cleared on reset ("MTIME Register").
 *  - SSWI: writing 1 to setssip[h] sets mip.SSIP of hart h; it is an edge, not a level, so
 *    reads return 0 and writing 0 does nothing (software clears SSIP in sip), as in QEMU.
 *
 * Registers for harts beyond nharts, unaligned halves and unsupported sizes read 0 and ignore
 * writes. */
#include "dev/aclint.h"

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/serial.h"

#define MTIME_OFFSET 0x7ff8u
#define MTIMECMP_SIZE MTIME_OFFSET /* room for 4095 mtimecmp registers */

#define IRQ_M_SOFT 3u
#define IRQ_M_TIMER 7u

#define STATE_VERSION 1

_Static_assert(RV_ACLINT_MAX_HARTS * 8 <= MTIMECMP_SIZE, "mtimecmp registers fit");
_Static_assert(RV_ACLINT_MAX_HARTS * 4 < RV_ACLINT_MSWI_SIZE, "msip registers fit");

struct aclint_hart {
    uint64_t mtimecmp;
    bool msip;
};

struct rv_aclint {
    struct rv_aclint_host host;
    unsigned nharts;
    struct aclint_hart hart[];
};

static void set_msip(struct rv_aclint *a, unsigned h, bool level)
{
    a->hart[h].msip = level;
    if (a->host.set_msip)
        a->host.set_msip(a->host.opaque, h, level);
}

static void set_mtimecmp(struct rv_aclint *a, unsigned h, uint64_t value)
{
    a->hart[h].mtimecmp = value;
    if (a->host.set_mtimecmp)
        a->host.set_mtimecmp(a->host.opaque, h, value);
}

static uint64_t get_time(const struct rv_aclint *a)
{
    return a->host.get_time ? a->host.get_time(a->host.opaque) : 0;
}

static void set_time(struct rv_aclint *a, uint64_t value)
{
    if (a->host.set_time)
        a->host.set_time(a->host.opaque, value);
}

/* Replaces the bytes [offset, offset+size) of a 64-bit register (size 4 or 8, aligned). */
static uint64_t merge64(uint64_t old, uint64_t offset, uint64_t value, unsigned size)
{
    if (size == 8)
        return value;
    unsigned shift = (offset & 4) * 8;
    return (old & ~(0xffffffffull << shift)) | ((value & 0xffffffffull) << shift);
}

static uint64_t extract64(uint64_t reg, uint64_t offset, unsigned size)
{
    return size == 8 ? reg : (reg >> ((offset & 4) * 8)) & 0xffffffffull;
}

/* --- MSWI --- */

static uint64_t mswi_read(void *dev, uint64_t offset, unsigned size)
{
    struct rv_aclint *a = dev;
    uint64_t h = offset / 4;
    if (size != 4 || h >= a->nharts)
        return 0;
    return a->hart[h].msip;
}

static void mswi_write(void *dev, uint64_t offset, uint64_t value, unsigned size)
{
    struct rv_aclint *a = dev;
    uint64_t h = offset / 4;
    if (size != 4 || h >= a->nharts)
        return;
    set_msip(a, (unsigned)h, value & 1);
}

/* --- MTIMER --- */

static uint64_t mtimer_read(void *dev, uint64_t offset, unsigned size)
{
    struct rv_aclint *a = dev;
    if (size != 4 && size != 8)
        return 0;
    if (offset >= MTIME_OFFSET)
        return extract64(get_time(a), offset, size);
    uint64_t h = offset / 8;
    return h < a->nharts ? extract64(a->hart[h].mtimecmp, offset, size) : 0;
}

static void mtimer_write(void *dev, uint64_t offset, uint64_t value, unsigned size)
{
    struct rv_aclint *a = dev;
    if (size != 4 && size != 8)
        return;
    if (offset >= MTIME_OFFSET) {
        /* A half write keeps the other half of the running counter. */
        set_time(a, size == 8 ? value : merge64(get_time(a), offset, value, size));
        return;
    }
    uint64_t h = offset / 8;
    if (h < a->nharts)
        set_mtimecmp(a, (unsigned)h, merge64(a->hart[h].mtimecmp, offset, value, size));
}

/* --- SSWI --- */

static uint64_t sswi_read(void *dev, uint64_t offset, unsigned size)
{
    (void)dev;
    (void)offset;
    (void)size;
    return 0;
}

static void sswi_write(void *dev, uint64_t offset, uint64_t value, unsigned size)
{
    struct rv_aclint *a = dev;
    uint64_t h = offset / 4;
    if (size != 4 || h >= a->nharts || !(value & 1))
        return;
    if (a->host.set_ssip)
        a->host.set_ssip(a->host.opaque, (unsigned)h);
}

/* --- lifecycle --- */

static void aclint_reset(void *dev)
{
    struct rv_aclint *a = dev;
    for (unsigned h = 0; h < a->nharts; h++) {
        set_msip(a, h, false);
        set_mtimecmp(a, h, UINT64_MAX);
    }
    set_time(a, 0);
}

/* Layout: version u32, nharts u32, then per hart msip u8 and mtimecmp u64. mtime is the
 * machine's and is saved with it. */
static int aclint_save(void *dev, struct rv_state_writer *w)
{
    struct rv_aclint *a = dev;
    rv_put_u32(w, STATE_VERSION);
    rv_put_u32(w, a->nharts);
    for (unsigned h = 0; h < a->nharts; h++) {
        rv_put_u8(w, a->hart[h].msip);
        rv_put_u64(w, a->hart[h].mtimecmp);
    }
    return w->error;
}

/* All-or-nothing; on success the restored values are forwarded to the harts. */
static int aclint_load(void *dev, struct rv_state_reader *r)
{
    struct rv_aclint *a = dev;
    uint32_t version = rv_get_u32(r);
    uint32_t nharts = rv_get_u32(r);
    if (r->error)
        return rv_error_set(-EINVAL, "aclint: truncated state");
    if (version != STATE_VERSION)
        return rv_error_set(-EINVAL, "aclint: unsupported state version %u", version);
    if (nharts != a->nharts)
        return rv_error_set(-EINVAL, "aclint: state is for %u harts, this ACLINT has %u",
                            nharts, a->nharts);
    struct aclint_hart *n = malloc((size_t)nharts * sizeof(*n));
    if (!n)
        return rv_error_set(-ENOMEM, "aclint: out of memory");
    bool bad = false;
    for (unsigned h = 0; h < nharts; h++) {
        uint8_t msip = rv_get_u8(r);
        bad |= msip > 1;
        n[h].msip = msip;
        n[h].mtimecmp = rv_get_u64(r);
    }
    int rc = 0;
    if (r->error)
        rc = rv_error_set(-EINVAL, "aclint: truncated state");
    else if (bad)
        rc = rv_error_set(-EINVAL, "aclint: invalid msip value");
    else
        for (unsigned h = 0; h < nharts; h++) {
            set_msip(a, h, n[h].msip);
            set_mtimecmp(a, h, n[h].mtimecmp);
        }
    free(n);
    return rc;
}

static void aclint_destroy(void *dev)
{
    free(dev);
}

static const struct rv_device_ops mswi_ops = {
    .name = "aclint-mswi",
    .read = mswi_read,
    .write = mswi_write,
    .reset = aclint_reset,
    .save = aclint_save,
    .load = aclint_load,
    .destroy = aclint_destroy, /* owns the device; the other two windows do not */
};

static const struct rv_device_ops mtimer_ops = {
    .name = "aclint-mtimer",
    .read = mtimer_read,
    .write = mtimer_write,
};

static const struct rv_device_ops sswi_ops = {
    .name = "aclint-sswi",
    .read = sswi_read,
    .write = sswi_write,
};

/* --- device tree: the nodes of QEMU's create_fdt_socket_aclint() --- */

/* interrupts-extended = <intc_h irq> for every hart, into `cells` (2 per hart). */
static void fdt_irqs(struct rv_fdt *fdt, int node, const uint32_t *intc, unsigned nharts,
                     uint32_t irq, fdt32_t *cells)
{
    for (unsigned h = 0; h < nharts; h++) {
        cells[2 * h] = cpu_to_fdt32(intc[h]);
        cells[2 * h + 1] = cpu_to_fdt32(irq);
    }
    rv_fdt_setprop(fdt, node, "interrupts-extended", cells,
                   (int)(nharts * 2 * sizeof(cells[0])));
}

static void aclint_fdt(struct rv_fdt *fdt, unsigned nharts, const uint32_t *intc,
                       fdt32_t *cells)
{
    static const char mswi[] = "riscv,aclint-mswi";
    static const char mtimer[] = "riscv,aclint-mtimer";

    int node = rv_fdt_add_device(fdt, "mswi", RV_ACLINT_MSWI_BASE, RV_ACLINT_MSWI_SIZE, mswi,
                                 sizeof(mswi));
    if (node >= 0) {
        fdt_irqs(fdt, node, intc, nharts, IRQ_M_SOFT, cells);
        rv_fdt_setprop(fdt, node, "interrupt-controller", NULL, 0);
        rv_fdt_setprop_u32(fdt, node, "#interrupt-cells", 0);
    }

    node = rv_fdt_add_device(fdt, "mtimer", RV_ACLINT_MTIMER_BASE, RV_ACLINT_MTIMER_SIZE,
                             mtimer, sizeof(mtimer));
    if (node >= 0) {
        /* The binding's order: the mtime register, then the mtimecmp array. */
        const fdt64_t reg[4] = {
            cpu_to_fdt64(RV_ACLINT_MTIMER_BASE + MTIME_OFFSET), cpu_to_fdt64(8),
            cpu_to_fdt64(RV_ACLINT_MTIMER_BASE), cpu_to_fdt64(MTIMECMP_SIZE)};
        rv_fdt_setprop(fdt, node, "reg", reg, sizeof(reg));
        fdt_irqs(fdt, node, intc, nharts, IRQ_M_TIMER, cells);
    }
    /* The SSWI is left out of the device tree: without it Linux sends IPIs and remote fences
     * through SBI (as on QEMU's virt board without aclint=on, and on boards that have no
     * SSWI), and the monitor completes a remote SFENCE.VMA to a hart asleep in WFI without
     * waking it (sbi.c), where an SSWI IPI would wake the hart and make the sender spin. */
}

int rv_aclint_create(struct rv_iomap *map, struct rv_fdt *fdt, unsigned nharts,
                     const uint32_t *hart_intc_phandles, const struct rv_aclint_host *host,
                     struct rv_aclint **out)
{
    if (nharts == 0 || nharts > RV_ACLINT_MAX_HARTS)
        return rv_error_set(-EINVAL, "aclint: %u harts (1..%u supported)", nharts,
                            RV_ACLINT_MAX_HARTS);
    if (fdt && !hart_intc_phandles)
        return rv_error_set(-EINVAL, "aclint: the device tree needs the harts' intc phandles");
    struct rv_aclint *a = calloc(1, sizeof(*a) + (size_t)nharts * sizeof(a->hart[0]));
    fdt32_t *cells = fdt ? calloc(2 * (size_t)nharts, sizeof(*cells)) : NULL;
    if (!a || (fdt && !cells)) {
        free(a);
        free(cells);
        return rv_error_set(-ENOMEM, "aclint: out of memory");
    }
    if (host)
        a->host = *host;
    a->nharts = nharts;
    for (unsigned h = 0; h < nharts; h++)
        a->hart[h].mtimecmp = UINT64_MAX;

    unsigned first = map->count;
    int rc = rv_iomap_attach(map, RV_ACLINT_MSWI_BASE, RV_ACLINT_MSWI_SIZE, &mswi_ops, a);
    if (rc == 0)
        rc = rv_iomap_attach(map, RV_ACLINT_MTIMER_BASE, RV_ACLINT_MTIMER_SIZE, &mtimer_ops, a);
    if (rc == 0)
        rc = rv_iomap_attach(map, RV_ACLINT_SSWI_BASE, RV_ACLINT_SSWI_SIZE, &sswi_ops, a);
    if (rc) {
        map->count = first; /* attach appends: drop the windows added above */
        free(a);
        free(cells);
        return rc;
    }
    if (fdt)
        aclint_fdt(fdt, nharts, hart_intc_phandles, cells);
    free(cells);
    *out = a;
    return 0;
}
