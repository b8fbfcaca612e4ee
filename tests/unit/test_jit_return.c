/* Binary translator (src/jit): function returns and other indirect jumps, which go through the
 * jump cache (and helper_lookup on a miss), when what the return address points to changes
 * between the call and the return: the caller's code is rewritten by the callee (a tracked
 * store and FENCE.I), the callee's code is rewritten by the caller, the caller's page is
 * mapped elsewhere by a satp write or by a page-table store and SFENCE.VMA. Each program runs
 * on the translator and on the interpreter in the same slices of budget; the states must be
 * equal after every slice, and the sums the guest computes must be the ones of the code that
 * was current at each return. Last, a call loop with a real clock, whose chunk ends the
 * translator handles differently, in slices of a little over two chunks. */
#include <stdlib.h>
#include <string.h>

#include "cpu/csr.h"
#include "cpu/hart.h"
#include "cpu/mmu.h"
#include "jit/jit.h"
#include "jit_lockstep.h"
#include "rv_encode.h"
#include "test.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1u << 20)

#define SFENCE_VMA_ALL 0x12000073u
#define CSR_SATP_NUM 0x180

#define CALLS 40 /* calls of each program: the loop counter s1 goes CALLS .. 1 */

/* The translated hart's machine and the interpreted hart's: the same program in each RAM. */
static struct rv_bus bus, bus_int;

static void put(uint64_t pa, const uint32_t *insns, unsigned n)
{
    memcpy(bus.ram + (pa - RAM_BASE), insns, 4 * n);
}

static struct rv_hart *new_hart(struct rv_bus *b)
{
    struct rv_hart *h = calloc(1, sizeof(*h));
    rv_hart_reset(h, 0, b, RAM_BASE);
    h->monitor_is_m = true; /* traps into M (the final ecall) become exits */
    return h;
}

static bool same_state(const struct rv_hart *a, const struct rv_hart *b)
{
    return a->pc == b->pc && a->instret == b->instret && !memcmp(a->x, b->x, sizeof(a->x)) &&
           a->priv == b->priv && a->satp == b->satp && a->exit_cause == b->exit_cause &&
           a->exit_epc == b->exit_epc;
}

/* Runs the program in RAM on a translated hart and on an interpreted one (with a copy of the
 * RAM), both set up by `setup` and given the same slices of budget, until the final ecall
 * (exit `how`). Returns the sum in s0, or ~0 if the states ever differ after a slice
 * or the program does not end as expected; *st gets the translator's statistics. */
static uint64_t run_both(void (*setup)(struct rv_hart *), uint64_t slice, enum rv_exit how,
                         struct rv_jit_stats *st)
{
    memcpy(bus_int.ram, bus.ram, RAM_SIZE);
    struct rv_hart *a = new_hart(&bus), *b = new_hart(&bus_int);
    setup(a);
    setup(b);
    struct rv_jit_group *g;
    struct rv_jit *j;
    CHECK_EQ(rv_jit_group_create(&bus, &g), 0);
    CHECK_EQ(rv_jit_create(g, a, &j), 0);
    enum rv_exit ea;
    bool same = jit_lockstep(j, a, b, slice, same_state, &ea);
    CHECK(same);
    CHECK_EQ(ea, how);
    uint64_t result = same && ea == how ? a->x[S0] : ~0ull;
    rv_jit_get_stats(j, st);
    rv_jit_destroy(j);
    rv_jit_group_destroy(g);
    free(a);
    free(b);
    return result;
}

/* s0 after the CALLS calls: the returns alternately add and subtract a0, starting with an
 * add; a0 is s1, plus `odd_extra` at every second call. */
static uint64_t expected_sum(uint64_t odd_extra)
{
    uint64_t s = 0;
    for (unsigned k = CALLS, i = 0; k >= 1; k--, i++)
        s = (i & 1) ? s - (k + odd_extra) : s + k;
    return s;
}

/* --- self-modifying code, in M-mode (physical addresses) --- */

#define SMC_MAIN (RAM_BASE + 0x10000)
#define SMC_F (RAM_BASE + 0x11000)

static void smc_setup(struct rv_hart *h)
{
    h->pc = SMC_MAIN;
    h->x[S3] = add(S0, S0, A0); /* what the callee writes at the return address next */
    h->x[S4] = sub(S0, S0, A0);
    h->x[S5] = SMC_MAIN;
    h->x[S6] = addi(A0, S1, 0); /* what the caller writes at the callee's entry next */
    h->x[S7] = addi(A0, S1, 1000);
    h->x[S8] = SMC_F;
}

/* The callee rewrites the instruction at its return address (add <-> sub) before returning;
 * the caller rewrites the callee's first instruction before each call (a0 = s1 or s1 + 1000).
 * The stores are tracked (the pages hold translations): each drops the page's blocks and
 * their jump-cache entries at once. */
static void test_return_after_code_rewritten(void)
{
    const uint32_t main_code[] = {
        addi(S1, ZERO, CALLS),                                 /* 00 */
        sw(S6, S8, 0),                                         /* 04: f's first instruction */
        xor_(S6, S6, S7), xor_(S7, S6, S7), xor_(S6, S6, S7),  /* 08: swap s6, s7 */
        FENCE_I,                                               /* 14 */
        jal(RA, (int32_t)(SMC_F - (SMC_MAIN + 0x18))),         /* 18: call f */
        add(S0, S0, A0),                                       /* 1c: rewritten by f */
        addi(S1, S1, -1),                                      /* 20 */
        bne(S1, ZERO, 0x04 - 0x24),                            /* 24 */
        ECALL,                                                 /* 28 */
    };
    const uint32_t f[] = {
        addi(A0, S1, 0),                                       /* 00: rewritten by main */
        sw(S3, S5, 0x1c),                                      /* 04: the return address */
        xor_(S3, S3, S4), xor_(S4, S3, S4), xor_(S3, S3, S4),  /* 08: swap s3, s4 */
        FENCE_I,                                               /* 14 */
        jalr(ZERO, RA, 0),                                     /* 18: return */
    };
    static const uint64_t slices[] = {1000000, 7, 64};
    for (unsigned i = 0; i < 3; i++) {
        memset(bus.ram, 0, RAM_SIZE);
        put(SMC_MAIN, main_code, sizeof(main_code) / 4);
        put(SMC_F, f, sizeof(f) / 4);
        struct rv_jit_stats st;
        CHECK_EQ(run_both(smc_setup, slices[i], RV_EXIT_MTRAP, &st), expected_sum(1000));
        CHECK(st.invalidations >= 2 * CALLS - 1);
    }
}

/* --- remapping, in S-mode with Sv39 --- */

/* Virtual pages: the caller at VA_MAIN, the callee at VA_F, the leaf page table at VA_L0.
 * The caller's page is either CODE_1 or CODE_2, which differ only at the return address. */
#define VA_MAIN 0x10000ull
#define VA_F 0x11000ull
#define VA_L0 0x12000ull
#define CODE_1 (RAM_BASE + 0x10000)
#define CODE_2 (RAM_BASE + 0x12000)
#define CODE_F (RAM_BASE + 0x11000)
#define ROOT(n) (RAM_BASE + 0x20000 + 0x3000 * (n)) /* root, L1, L0 of address space n */
#define LEAF_RWX (RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_X | RV_PTE_A | RV_PTE_D)

static uint64_t pte(uint64_t pa, uint64_t flags)
{
    return (pa >> 12) << 10 | flags;
}

static void set_pte(uint64_t table, unsigned index, uint64_t value)
{
    memcpy(bus.ram + (table - RAM_BASE) + 8 * index, &value, 8);
}

/* Address space n maps VA_MAIN to CODE_1 + 0x2000 * n. */
static void build_space(unsigned n)
{
    uint64_t root = ROOT(n), l1 = root + 0x1000, l0 = root + 0x2000;
    set_pte(root, 0, pte(l1, RV_PTE_V));
    set_pte(l1, 0, pte(l0, RV_PTE_V));
    set_pte(l0, VA_MAIN >> 12, pte(n ? CODE_2 : CODE_1, LEAF_RWX));
    set_pte(l0, VA_F >> 12, pte(CODE_F, LEAF_RWX));
    set_pte(l0, VA_L0 >> 12, pte(l0, LEAF_RWX));
}

static uint64_t satp_of(unsigned n)
{
    return (uint64_t)SATP_MODE_SV39 << SATP_MODE_SHIFT | (uint64_t)(n + 1) << SATP_ASID_SHIFT |
           ROOT(n) >> 12;
}

static void s_mode_setup(struct rv_hart *h)
{
    h->priv = RV_PRIV_S;
    h->satp = satp_of(0);
    rv_hart_update_mmu_idx(h);
    rv_tlb_flush_all(h);
    h->pc = VA_MAIN;
    h->x[S2] = satp_of(1); /* the callee swaps it with satp */
    h->x[S3] = VA_L0 + 8 * (VA_MAIN >> 12); /* the caller's PTE in space 0, mapped */
    h->x[S4] = pte(CODE_1, 0) ^ pte(CODE_2, 0);
}

/* The caller, in CODE_1 and CODE_2: the first call switches to CODE_2 (add), the next back
 * to CODE_1 (sub) ... */
static void load_caller(const uint32_t *f, unsigned n)
{
    memset(bus.ram, 0, RAM_SIZE);
    const uint32_t main_code[] = {
        addi(S1, ZERO, CALLS),                          /* 00 */
        jal(RA, (int32_t)(VA_F - (VA_MAIN + 0x4))),     /* 04: call f */
        sub(S0, S0, A0),                                /* 08: add in CODE_2 */
        addi(S1, S1, -1),                               /* 0c */
        bne(S1, ZERO, 0x04 - 0x10),                     /* 10 */
        ECALL,                                          /* 14 */
    };
    put(CODE_1, main_code, sizeof(main_code) / 4);
    put(CODE_2, main_code, sizeof(main_code) / 4);
    const uint32_t other = add(S0, S0, A0);
    put(CODE_2 + 8, &other, 1);
    put(CODE_F, f, n);
    build_space(0);
    build_space(1);
}

/* Runs the S-mode program with slices of budget of each length in `slices`. */
static void run_s_mode(const uint32_t *f, unsigned n)
{
    static const uint64_t slices[] = {1000000, 5, 3};
    for (unsigned i = 0; i < 3; i++) {
        load_caller(f, n);
        struct rv_jit_stats st;
        CHECK_EQ(run_both(s_mode_setup, slices[i], RV_EXIT_ECALL, &st), expected_sum(0));
    }
}

/* The callee switches to the other address space (csrrw satp, then SFENCE.VMA) and returns
 * to the same virtual address, which now holds the other caller page. */
static void test_return_after_satp_change(void)
{
    const uint32_t f[] = {
        addi(A0, S1, 0),                                /* 00 */
        csrrw(S2, CSR_SATP_NUM, S2),                    /* 04: swap satp and s2 */
        SFENCE_VMA_ALL,                                 /* 08 */
        jalr(ZERO, RA, 0),                              /* 0c: return */
    };
    run_s_mode(f, sizeof(f) / 4);
}

/* The callee rewrites the caller's PTE (CODE_1 <-> CODE_2) and executes SFENCE.VMA before
 * returning: same satp, new mapping. */
static void test_return_after_pte_change(void)
{
    const uint32_t f[] = {
        addi(A0, S1, 0),                                /* 00 */
        ld(T0, S3, 0),                                  /* 04 */
        xor_(T0, T0, S4),                               /* 08 */
        sd(T0, S3, 0),                                  /* 0c */
        SFENCE_VMA_ALL,                                 /* 10 */
        jalr(ZERO, RA, 0),                              /* 14: return */
    };
    run_s_mode(f, sizeof(f) / 4);
}

/* --- a real clock --- */

static uint64_t clock_zero(void *opaque)
{
    (void)opaque;
    return 0; /* no timer ever fires */
}

static void real_clock_setup(struct rv_hart *h)
{
    h->time_read = clock_zero;
    h->pc = SMC_MAIN;
    h->x[S1] = 30000;
}

/* With a real clock the translator may end its internal chunks (after which it looks at the
 * timers) a few instructions early, where a block does not fit; runs still retire exactly
 * their budget. 30000 calls and returns, in slices around two chunks (2 * 65536) long. */
static void test_real_clock_budget_exact(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    const uint32_t main_code[] = {
        jal(RA, (int32_t)(SMC_F - SMC_MAIN)),                  /* 00: call f */
        add(S0, S0, A0),                                       /* 04 */
        addi(S1, S1, -1),                                      /* 08 */
        bne(S1, ZERO, -0x0c),                                  /* 0c */
        ECALL,                                                 /* 10 */
    };
    /* 7 instructions a call: chunk ends fall inside blocks */
    const uint32_t f[] = {addi(A0, S1, 3), xor_(A0, A0, S0), jalr(ZERO, RA, 0)};
    put(SMC_MAIN, main_code, sizeof(main_code) / 4);
    put(SMC_F, f, sizeof(f) / 4);
    static const uint64_t extra[] = {0, 1, 2, 3, 5, 7, 13, 63, 65535};
    for (unsigned i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        struct rv_jit_stats st;
        CHECK(run_both(real_clock_setup, 2 * 65536 + extra[i], RV_EXIT_MTRAP, &st) != ~0ull);
    }
}

int main(void)
{
    bus = (struct rv_bus){.ram = calloc(1, RAM_SIZE), .ram_base = RAM_BASE, .ram_size = RAM_SIZE};
    bus_int = bus;
    bus_int.ram = calloc(1, RAM_SIZE);
    test_return_after_code_rewritten();
    test_return_after_satp_change();
    test_return_after_pte_change();
    test_real_clock_budget_exact();
    free(bus.ram);
    free(bus_int.ram);
    TEST_MAIN_END();
}
