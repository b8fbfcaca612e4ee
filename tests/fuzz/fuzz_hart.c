/* libFuzzer target: the interpreter on arbitrary code.
 *
 * The input is copied to the start of a 256 KiB RAM at 0x80000000 (between guard pages; the
 * rest is zero) and a bare-metal hart (monitor_is_m = false) starts there in M-mode with mtvec
 * at the same address, so traps re-enter the fuzzed code with new state. It runs 2000
 * instructions: whatever the guest does (CSR writes, satp and page tables made of fuzz data,
 * MPRV, misaligned and I/O accesses, AMOs, FP) the host must not crash or touch memory outside
 * RAM, and a few architectural invariants must hold afterwards.
 *
 * The bus has one device page at 0x10000000 (a 4 KiB scratch register file) and treats the
 * last RAM page as an I/O page (as HTIF's tohost page is), so both I/O paths are exercised; the
 * I/O callbacks check the bus contract (sizes 1/2/4/8, naturally aligned, never plain RAM).
 * Two registers of the device page reach the hart, so the guest can raise every interrupt:
 * 8 bytes at +0xff0 set mtimecmp (as the ACLINT does; time follows instret), and a write to
 * +0xff8 sets the device interrupt lines (MEIP, SEIP, MTIP, MSIP) to the bits written. */
#include <string.h>

#include "cpu/csr.h"
#include "cpu/hart.h"
#include "fuzz_ram.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (256u << 10)
#define IO_PAGE (RAM_BASE + RAM_SIZE - 4096) /* RAM page that page_is_io() reports */
#define DEV_BASE 0x10000000ull
#define BUDGET 2000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEV_MTIMECMP 0xff0
#define DEV_IRQ_LINES 0xff8
#define IRQ_LINES (MIP_MEIP | MIP_SEIP | MIP_MTIP | MIP_MSIP)

struct fuzz_bus {
    uint8_t *ram;
    uint8_t dev[4096];
    struct rv_hart *hart;
};

static uint8_t *io_target(struct fuzz_bus *fb, uint64_t paddr, unsigned size)
{
#ifndef FUZZ_LAX_BUS /* -DFUZZ_LAX_BUS (RV_FUZZ_EXTRA_FLAGS) looks past a known finding */
    FUZZ_CHECK(size == 1 || size == 2 || size == 4 || size == 8);
    FUZZ_CHECK((paddr & (size - 1)) == 0);
#else
    FUZZ_CHECK(size >= 1 && size <= 8);
#endif
    /* Plain RAM never reaches the I/O callbacks; the I/O page does. */
    FUZZ_CHECK(!(paddr >= RAM_BASE && paddr < IO_PAGE));
    if (paddr >= IO_PAGE && paddr + size <= RAM_BASE + RAM_SIZE)
        return fb->ram + (paddr - RAM_BASE);
    if (paddr >= DEV_BASE && paddr + size <= DEV_BASE + sizeof(fb->dev))
        return fb->dev + (paddr - DEV_BASE);
    return NULL;
}

static int io_read(void *opaque, uint64_t paddr, unsigned size, uint64_t *value)
{
    uint8_t *p = io_target(opaque, paddr, size);
    if (!p)
        return -1;
    uint64_t v = 0;
    memcpy(&v, p, size);
    *value = v;
    return 0;
}

static int io_write(void *opaque, uint64_t paddr, unsigned size, uint64_t value)
{
    struct fuzz_bus *fb = opaque;
    uint8_t *p = io_target(fb, paddr, size);
    if (!p)
        return -1;
    memcpy(p, &value, size);
    if (paddr == DEV_BASE + DEV_MTIMECMP && size == 8) {
        atomic_store(&fb->hart->mtimecmp, value);
        rv_hart_set_irq(fb->hart, 0, false); /* look at the timer again */
    } else if (paddr == DEV_BASE + DEV_IRQ_LINES) {
        rv_hart_set_irq(fb->hart, value & IRQ_LINES, true);
        rv_hart_set_irq(fb->hart, ~value & IRQ_LINES, false);
    }
    return 0;
}

static bool page_is_io(void *opaque, uint64_t paddr)
{
    (void)opaque;
    return (paddr & ~0xfffull) == IO_PAGE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_bus fb;
    static struct rv_bus bus;
    static struct rv_hart *h;
    if (!h) {
        fb.ram = fuzz_ram_map(RAM_SIZE);
        bus = (struct rv_bus){.ram = fb.ram, .ram_base = RAM_BASE, .ram_size = RAM_SIZE,
                              .opaque = &fb, .io_read = io_read, .io_write = io_write,
                              .page_is_io = page_is_io};
        h = malloc(sizeof(*h));
        FUZZ_CHECK(h != NULL);
        fb.hart = h;
    }
    if (size > RAM_SIZE)
        size = RAM_SIZE;
    memcpy(fb.ram, data, size);
    memset(fb.ram + size, 0, RAM_SIZE - size);
    memset(fb.dev, 0, sizeof(fb.dev));

    rv_hart_reset(h, 0, &bus, RAM_BASE);
    h->monitor_is_m = false;
    h->mtvec = RAM_BASE;

    /* A WFI exit returns early with pc past the WFI: carry on with what is left of the budget
     * (a bounded number of times). A budget exit has used it all. */
    uint64_t left = BUDGET;
    for (unsigned calls = 0; calls < 8 && left > 0; calls++) {
        uint64_t before = h->instret;
        enum rv_exit e = rv_hart_run(h, left);
        /* Without a monitor every trap is the guest's own; only the budget and WFI end a run. */
        FUZZ_CHECK(e == RV_EXIT_BUDGET || e == RV_EXIT_WFI);
        FUZZ_CHECK(h->x[0] == 0);
        FUZZ_CHECK(h->priv == RV_PRIV_U || h->priv == RV_PRIV_S || h->priv == RV_PRIV_M);
        FUZZ_CHECK((h->pc & 1) == 0);
        FUZZ_CHECK(((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) != 2);
        unsigned mode = h->satp >> SATP_MODE_SHIFT;
        FUZZ_CHECK(mode == SATP_MODE_BARE || mode == SATP_MODE_SV39 || mode == SATP_MODE_SV48 ||
                   mode == SATP_MODE_SV57);
        if (e == RV_EXIT_BUDGET)
            break;
        uint64_t used = h->instret - before + 1;
        left = used < left ? left - used : 0;
    }
    return 0;
}
