/* libFuzzer target: the binary translator against the interpreter on arbitrary code.
 *
 * Two copies of fuzz_hart's machine (256 KiB of RAM at 0x80000000 holding the input, an I/O
 * page, a device page that sets mtimecmp and the interrupt lines; time follows instret), one
 * run by the translator and one by the interpreter, in lockstep: the same budgets, after which
 * the exits, the architectural state and, at the end, RAM and the device page must be equal.
 * The guest may do anything fuzz_hart's may (CSRs, paging with page tables in its own code,
 * traps into its own code, self-modifying code, FP, AMOs, I/O); the translator must never be
 * told apart from the interpreter. */
#include "fuzz_machine.h"
#include "jit/jit.h"

#define BUDGET 3000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    static struct fuzz_machine s[2]; /* 0: translator, 1: interpreter */
    static struct rv_jit_group *group;
    static struct rv_jit *jit;
    if (!jit) {
        fm_init(&s[0]);
        fm_init(&s[1]);
        rv_hart_reset(s[0].hart, 0, &s[0].bus, FM_RAM_BASE);
        FUZZ_CHECK(rv_jit_group_create(&s[0].bus, &group) == 0);
        FUZZ_CHECK(rv_jit_create(group, s[0].hart, &jit) == 0);
    }
    fm_reset(&s[0], data, size);
    fm_reset(&s[1], data, size);
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
    FUZZ_CHECK(memcmp(s[0].ram, s[1].ram, FM_RAM_SIZE) == 0);
    FUZZ_CHECK(memcmp(s[0].dev, s[1].dev, sizeof(s[0].dev)) == 0);
    return 0;
}
