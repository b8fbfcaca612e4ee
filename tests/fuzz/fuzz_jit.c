/* libFuzzer target: the binary translator against the interpreter on arbitrary code.
 *
 * Two copies of fuzz_hart's machine (256 KiB of RAM at 0x80000000 holding the input, an I/O
 * page, a device page that sets mtimecmp and the interrupt lines; time follows instret), one
 * run by the translator and one by the interpreter, in lockstep: the same budgets, after which
 * the exits, the architectural state and, at the end, RAM and the device page must be equal.
 * The guest may do anything fuzz_hart's may (CSRs, paging with page tables in its own code,
 * traps into its own code, self-modifying code, FP, AMOs, I/O); the translator must never be
 * told apart from the interpreter. */
#include <string.h>

#include "cpu/csr.h"
#include "cpu/hart.h"
#include "fuzz_ram.h"
#include "jit/jit.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (256u << 10)
#define IO_PAGE (RAM_BASE + RAM_SIZE - 4096)
#define DEV_BASE 0x10000000ull
#define DEV_MTIMECMP 0xff0
#define DEV_IRQ_LINES 0xff8
#define IRQ_LINES (MIP_MEIP | MIP_SEIP | MIP_MTIP | MIP_MSIP)
#define BUDGET 3000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct side {
    uint8_t *ram;
    uint8_t dev[4096];
    struct rv_hart *hart;
    struct rv_bus bus;
};

static uint8_t *io_target(struct side *s, uint64_t paddr, unsigned size)
{
    if (paddr >= IO_PAGE && paddr + size <= RAM_BASE + RAM_SIZE)
        return s->ram + (paddr - RAM_BASE);
    if (paddr >= DEV_BASE && paddr + size <= DEV_BASE + sizeof(s->dev))
        return s->dev + (paddr - DEV_BASE);
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
    struct side *s = opaque;
    uint8_t *p = io_target(s, paddr, size);
    if (!p)
        return -1;
    memcpy(p, &value, size);
    if (paddr == DEV_BASE + DEV_MTIMECMP && size == 8) {
        atomic_store(&s->hart->mtimecmp, value);
        rv_hart_set_irq(s->hart, 0, false);
    } else if (paddr == DEV_BASE + DEV_IRQ_LINES) {
        rv_hart_set_irq(s->hart, value & IRQ_LINES, true);
        rv_hart_set_irq(s->hart, ~value & IRQ_LINES, false);
    }
    return 0;
}

static bool page_is_io(void *opaque, uint64_t paddr)
{
    (void)opaque;
    return (paddr & ~0xfffull) == IO_PAGE;
}

static void side_init(struct side *s)
{
    s->ram = fuzz_ram_map(RAM_SIZE);
    s->bus = (struct rv_bus){.ram = s->ram, .ram_base = RAM_BASE, .ram_size = RAM_SIZE,
                             .opaque = s, .io_read = io_read, .io_write = io_write,
                             .page_is_io = page_is_io};
    s->hart = malloc(sizeof(*s->hart));
    FUZZ_CHECK(s->hart != NULL);
}

static void side_reset(struct side *s, const uint8_t *data, size_t size)
{
    memcpy(s->ram, data, size);
    memset(s->ram + size, 0, RAM_SIZE - size);
    memset(s->dev, 0, sizeof(s->dev));
    rv_hart_reset(s->hart, 0, &s->bus, RAM_BASE);
    s->hart->mtvec = RAM_BASE;
}

/* The architectural state (and what the exits report) must be the same. */
static void check_same(const struct rv_hart *a, const struct rv_hart *b)
{
    FUZZ_CHECK(memcmp(a->x, b->x, sizeof(a->x)) == 0);
    FUZZ_CHECK(memcmp(a->f, b->f, sizeof(a->f)) == 0);
#define SAME(field) FUZZ_CHECK(a->field == b->field)
    SAME(pc); SAME(priv); SAME(instret); SAME(fflags); SAME(frm); SAME(mstatus); SAME(mie);
    SAME(mip); SAME(medeleg); SAME(mideleg); SAME(mtvec); SAME(mscratch); SAME(mepc);
    SAME(mcause); SAME(mtval); SAME(menvcfg); SAME(stvec); SAME(sscratch); SAME(sepc);
    SAME(scause); SAME(stval); SAME(satp); SAME(senvcfg); SAME(stimecmp); SAME(resv_valid);
    SAME(wfi); SAME(fetch_mmu_idx); SAME(data_mmu_idx);
#undef SAME
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct side s[2]; /* 0: translator, 1: interpreter */
    static struct rv_jit_group *group;
    static struct rv_jit *jit;
    if (!jit) {
        side_init(&s[0]);
        side_init(&s[1]);
        rv_hart_reset(s[0].hart, 0, &s[0].bus, RAM_BASE);
        FUZZ_CHECK(rv_jit_group_create(&s[0].bus, &group) == 0);
        FUZZ_CHECK(rv_jit_create(group, s[0].hart, &jit) == 0);
    }
    if (size > RAM_SIZE)
        size = RAM_SIZE;
    side_reset(&s[0], data, size);
    side_reset(&s[1], data, size);
    rv_jit_flush(jit); /* RAM was rewritten behind the hart's back */

    /* Runs of different lengths, so that they end anywhere in blocks. */
    static const uint64_t budgets[] = {1, 3, 17, 64, 100, 250, 999, 4096};
    uint64_t left = BUDGET;
    for (unsigned i = 0; left > 0 && i < 64; i++) {
        uint64_t b = budgets[i % (sizeof(budgets) / sizeof(budgets[0]))];
        if (b > left)
            b = left;
        uint64_t before = s[1].hart->instret;
        enum rv_exit e0 = rv_jit_run(jit, b);
        enum rv_exit e1 = rv_hart_run(s[1].hart, b);
        FUZZ_CHECK(e0 == e1);
        check_same(s[0].hart, s[1].hart);
        /* without a monitor only the budget and WFI end a run */
        FUZZ_CHECK(e1 == RV_EXIT_BUDGET || e1 == RV_EXIT_WFI);
        uint64_t used = e1 == RV_EXIT_BUDGET ? b : s[1].hart->instret - before + 1;
        left = used < left ? left - used : 0;
    }
    FUZZ_CHECK(memcmp(s[0].ram, s[1].ram, RAM_SIZE) == 0);
    FUZZ_CHECK(memcmp(s[0].dev, s[1].dev, sizeof(s[0].dev)) == 0);
    return 0;
}
