/* Binary translator (src/jit) with a host-MMU window (cpu/uwin.h): U-mode programs under Sv39
 * whose loads and stores go through the window, run on the translator and on the interpreter in
 * the same slices of budget, the states compared after every slice. They cover what the
 * SIGSEGV handler does: pages mapped on first touch (loads and stores across pages), a load
 * of a page the guest's S-mode handler maps on the page fault (the access is sent to its slow
 * path, which raises the exception; after SRET the retried access maps the page), a store to a
 * read-only page ending the program with a precise store page fault, and stores to the
 * page of code written through the window and then run (its write mapping is revoked when it
 * is translated, so that later stores reach the slow path, which drops the translations). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu/csr.h"
#include "cpu/hart.h"
#include "cpu/mmu.h"
#include "cpu/uwin.h"
#include "jit/jit.h"
#include "jit_lockstep.h"
#include "rv_encode.h"
#include "test.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1u << 20)

#define SFENCE_VMA_ALL 0x12000073u
#define SRET 0x10200073u

/* guest-virtual layout */
#define VA_CODE 0x10000ull  /* U, RWX: the program (it rewrites itself) */
#define VA_DATA 0x20000ull  /* U, RW: four pages */
#define VA_LAZY 0x24000ull  /* U, R: invalid until the S-mode handler maps it */
#define VA_RO 0x25000ull    /* U, R only */
#define VA_S 0x30000ull     /* S, RX: the page-fault handler */
#define VA_L0 0x40000ull    /* S, RW: the leaf table */
#define VA_TOP (RV_UWIN_SIZE - 0x1000)         /* U, R: the last page below the window's end */
#define VA_HIGH 0xffffffc000010000ull          /* U, R: in the upper half (above the window) */
/* guest-physical */
#define PA_ROOT (RAM_BASE + 0x1000)
#define PA_L1 (RAM_BASE + 0x2000)
#define PA_L0 (RAM_BASE + 0x3000)
#define PA_CODE (RAM_BASE + 0x10000)
#define PA_DATA (RAM_BASE + 0x20000)
#define PA_S (RAM_BASE + 0x30000)
#define PA_L1_TOP (RAM_BASE + 0x4000)   /* tables of VA_TOP */
#define PA_L0_TOP (RAM_BASE + 0x5000)
#define PA_L1_HIGH (RAM_BASE + 0x6000)  /* tables of VA_HIGH */
#define PA_L0_HIGH (RAM_BASE + 0x7000)
#define PA_TOP (RAM_BASE + 0x40000)
#define PA_HIGH (RAM_BASE + 0x41000)

#define U_RW (RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_U | RV_PTE_A | RV_PTE_D)
#define U_R (RV_PTE_V | RV_PTE_R | RV_PTE_U | RV_PTE_A)

static struct rv_bus bus, bus_int;
static int ram_fd;
static bool limit_zero; /* run_pair: the window's limit 0, as when it is starved */
static uint64_t x26, x27; /* run_pair: more base registers (test_random) */

static uint64_t pte(uint64_t pa, uint64_t flags)
{
    return (pa >> 12) << 10 | flags;
}

static void set_u64(uint64_t pa, uint64_t value)
{
    memcpy(bus.ram + (pa - RAM_BASE), &value, 8);
}

static void put(uint64_t pa, const uint32_t *insns, unsigned n)
{
    memcpy(bus.ram + (pa - RAM_BASE), insns, 4 * n);
}

static void build_space(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    set_u64(PA_ROOT, pte(PA_L1, RV_PTE_V));
    set_u64(PA_L1, pte(PA_L0, RV_PTE_V));
    set_u64(PA_L0 + 8 * (VA_CODE >> 12), pte(PA_CODE, U_RW | RV_PTE_X));
    for (unsigned i = 0; i < 4; i++)
        set_u64(PA_L0 + 8 * ((VA_DATA >> 12) + i), pte(PA_DATA + 0x1000 * i, U_RW));
    set_u64(PA_L0 + 8 * (VA_RO >> 12),
            pte(PA_DATA + 0x5000, RV_PTE_V | RV_PTE_R | RV_PTE_U | RV_PTE_A));
    set_u64(PA_L0 + 8 * (VA_S >> 12),
            pte(PA_S, RV_PTE_V | RV_PTE_R | RV_PTE_X | RV_PTE_A));
    set_u64(PA_L0 + 8 * (VA_L0 >> 12), pte(PA_L0, RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_A |
                                                      RV_PTE_D));
    set_u64(PA_DATA + 0x4000 + 8, 5); /* what the lazy page holds at VA_LAZY + 8 */
    /* page 0 (a base just above 0), and the pages at the ends of the window: read-only */
    set_u64(PA_L0, pte(PA_DATA + 0x6000, U_R));
    set_u64(PA_ROOT + 8 * ((VA_TOP >> 30) & 511), pte(PA_L1_TOP, RV_PTE_V));
    set_u64(PA_L1_TOP + 8 * ((VA_TOP >> 21) & 511), pte(PA_L0_TOP, RV_PTE_V));
    set_u64(PA_L0_TOP + 8 * ((VA_TOP >> 12) & 511), pte(PA_TOP, U_R));
    set_u64(PA_ROOT + 8 * ((VA_HIGH >> 30) & 511), pte(PA_L1_HIGH, RV_PTE_V));
    set_u64(PA_L1_HIGH + 8 * ((VA_HIGH >> 21) & 511), pte(PA_L0_HIGH, RV_PTE_V));
    set_u64(PA_L0_HIGH + 8 * ((VA_HIGH >> 12) & 511), pte(PA_HIGH, U_R));
    for (unsigned i = 0; i < 512; i++) {
        set_u64(PA_TOP + 8 * i, 3 * i + 1);
        set_u64(PA_HIGH + 8 * i, 5 * i + 2);
        set_u64(PA_DATA + 0x6000 + 8 * i, 7 * i + 3);
    }
    /* the S-mode handler of load page faults: map VA_LAZY, fence, return to the load */
    const uint32_t handler[] = {sd(S4, S3, 0), SFENCE_VMA_ALL, SRET};
    put(PA_S, handler, 3);
}

static void setup(struct rv_hart *h)
{
    h->satp = (uint64_t)SATP_MODE_SV39 << SATP_MODE_SHIFT | 1ull << SATP_ASID_SHIFT |
              PA_ROOT >> 12;
    h->priv = RV_PRIV_U;
    h->medeleg = 1u << 13; /* load page faults to S; the rest (the end) to M */
    h->stvec = VA_S;
    h->pc = VA_CODE;
    h->x[S3] = VA_L0 + 8 * (VA_LAZY >> 12);
    h->x[S4] = pte(PA_DATA + 0x4000, RV_PTE_V | RV_PTE_R | RV_PTE_U | RV_PTE_A);
    h->x[S5] = VA_LAZY + 8;
    h->x[S6] = VA_DATA;
    h->x[S7] = VA_RO;
    h->x[S8] = addi(S0, S0, 7);
    h->x[T2] = addi(S0, S0, 100);
    h->x[A3] = jalr(ZERO, RA, 0);
    h->x[A2] = VA_DATA + 0x3000;
    rv_hart_update_mmu_idx(h);
    rv_tlb_flush_all(h);
}

static struct rv_hart *new_hart(struct rv_bus *b)
{
    struct rv_hart *h = calloc(1, sizeof(*h));
    rv_hart_reset(h, 0, b, RAM_BASE);
    h->monitor_is_m = true; /* traps into M become exits */
    return h;
}

static bool same_state(const struct rv_hart *a, const struct rv_hart *b)
{
    return a->pc == b->pc && a->instret == b->instret && !memcmp(a->x, b->x, sizeof(a->x)) &&
           a->priv == b->priv && a->exit_cause == b->exit_cause && a->exit_epc == b->exit_epc &&
           a->exit_tval == b->exit_tval && !memcmp(bus.ram, bus_int.ram, RAM_SIZE);
}

/* Runs the program on the translator (with a window) and the interpreter in slices of
 * `slice` until it traps into M; x25 = x25 (a base register) and, with `no_deleg`, every fault
 * ends the program. Returns whether the states stayed equal; *end = the translator's hart. */
static bool run_pair(uint64_t slice, uint64_t x25, bool no_deleg, struct rv_hart *end,
                     struct rv_jit_stats *st)
{
    memcpy(bus_int.ram, bus.ram, RAM_SIZE);
    struct rv_hart *a = new_hart(&bus), *b = new_hart(&bus_int);
    static struct rv_uwin_budget budget;
    rv_uwin_budget_init(&budget, RV_UWIN_MAPS_TOTAL);
    struct rv_uwin *w = rv_uwin_create(ram_fd, RAM_SIZE, &budget);
    CHECK(w != NULL);
    rv_uwin_attach(a, w);
    setup(a);
    if (limit_zero)
        a->uwin_limit = 0;
    setup(b);
    if (no_deleg)
        a->medeleg = b->medeleg = 0;
    a->x[25] = b->x[25] = x25;
    a->x[26] = b->x[26] = x26;
    a->x[27] = b->x[27] = x27;
    struct rv_jit_group *g;
    struct rv_jit *j;
    CHECK_EQ(rv_jit_group_create(&bus, &g), 0);
    CHECK_EQ(rv_jit_create(g, a, &j), 0);
    enum rv_exit ea;
    bool same = jit_lockstep(j, a, b, slice, same_state, &ea);
    CHECK_EQ(ea, RV_EXIT_MTRAP);
    rv_jit_get_stats(j, st);
    rv_jit_destroy(j);
    rv_jit_group_destroy(g);
    rv_uwin_attach(a, NULL);
    rv_uwin_destroy(w);
    *end = *a;
    free(a);
    free(b);
    return same && ea == RV_EXIT_MTRAP;
}

/* Runs the program on both harts in slices of `slice`; returns the translator's s0 if the
 * states stayed equal and the program ended with the store page fault at VA_RO. */
static uint64_t run_both(uint64_t slice, struct rv_jit_stats *st)
{
    static struct rv_hart a;
    bool same = run_pair(slice, 0, false, &a, st);
    CHECK(same);
    CHECK_EQ(a.exit_cause, 15); /* store page fault */
    CHECK_EQ(a.exit_tval, VA_RO);
    return same ? a.x[S0] : ~0ull;
}

/* Loads and stores over four pages, and a load of the lazily mapped page, 200 times. */
static void test_loads_and_stores(void)
{
    static const uint64_t slices[] = {1000000, 7, 3};
    for (unsigned i = 0; i < 3; i++) {
        build_space();
        const uint32_t prog[] = {
            addi(S1, ZERO, 200),        /* 00 */
            ld(A0, S5, 0),              /* 04: the lazy page (5) */
            add(S0, S0, A0),            /* 08 */
            sd(S0, S6, 0),              /* 0c */
            ld(A1, S6, 0),              /* 10 */
            add(S0, S0, A1),            /* 14 */
            addi(S6, S6, 64),           /* 18: 200 * 64 bytes: four pages */
            addi(S1, S1, -1),           /* 1c */
            bne(S1, ZERO, 0x04 - 0x20), /* 20 */
            sd(S0, S7, 0),              /* 24: read-only: the end */
        };
        put(PA_CODE, prog, sizeof(prog) / 4);
        struct rv_jit_stats st;
        uint64_t s = 0;
        for (unsigned k = 0; k < 200; k++)
            s = 2 * (s + 5);
        CHECK_EQ(run_both(slices[i], &st), s);
        CHECK(st.uwin_accesses > 0);
        CHECK(st.uwin_slow > 0); /* at least the lazy page's fault and the last store */
    }
}

/* The program writes a function into a data page (its first store maps the page writable in
 * the window), FENCE.I, calls it (the page gets translated code: the write mapping must go),
 * and on every later iteration rewrites it (addi s0, s0, 7 <-> addi s0, s0, 100) through the
 * slow path before calling it again. */
static void test_self_modifying(void)
{
    static const uint64_t slices[] = {1000000, 5, 2};
    for (unsigned i = 0; i < 3; i++) {
        build_space();
        set_u64(PA_L0 + 8 * ((VA_DATA >> 12) + 3), pte(PA_DATA + 0x3000, U_RW | RV_PTE_X));
        const uint32_t prog[] = {
            addi(S1, ZERO, 50),         /* 00: a2 = VA_DATA + 0x3000 (set up) */
            sw(S8, A2, 0),              /* 04: the function's first instruction */
            sw(A3, A2, 4),              /* 08: its return */
            FENCE_I,                    /* 0c */
            jalr(RA, A2, 0),            /* 10: call it */
            xor_(S8, S8, T2),           /* 14: swap the two encodings */
            xor_(T2, T2, S8),           /* 18 */
            xor_(S8, S8, T2),           /* 1c */
            addi(S1, S1, -1),           /* 20 */
            bne(S1, ZERO, 0x04 - 0x24), /* 24 */
            sd(S0, S7, 0),              /* 28: the end */
        };
        put(PA_CODE, prog, sizeof(prog) / 4);
        struct rv_jit_stats st;
        CHECK_EQ(run_both(slices[i], &st), 25 * 7 + 25 * 100);
        CHECK(st.invalidations > 0);
    }
}

/* Translated code compares an access's base register with the window's limit and adds the
 * offset in the access itself: offsets that lead out of the window, below 0 or above
 * 2^38, must land in its guard pages and raise the guest's page fault, as a base at or
 * above the limit does through the slow path. Byte and halfword stores write a cached value
 * register's low bytes. Loads and stores, translator and interpreter in the same slices. */
static void test_window_edges(void)
{
    static const struct {
        uint64_t base;
        int32_t imm;
        bool store;
        uint64_t tval; /* the fault's address, or VA_RO: the access worked, the program ended */
    } cases[] = {
        {8, -16, true, 0xfffffffffffffff8ull},          /* below the window */
        {8, -16, false, 0xfffffffffffffff8ull},
        {0, -2048, false, 0xfffffffffffff800ull},
        {RV_UWIN_SIZE - 8, 16, true, RV_UWIN_SIZE + 8}, /* above it */
        {RV_UWIN_SIZE - 8, 2047, false, RV_UWIN_SIZE + 2039},
        {RV_UWIN_SIZE + 16, -24, true, RV_UWIN_SIZE - 8}, /* base above, address below */
        {VA_DATA - 16, 24, true, VA_RO},                  /* in the window after the offset */
        {VA_DATA + 0x4000 + 16, -24, false, VA_RO},
    };
    static const uint64_t slices[] = {1000000, 3};
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (unsigned i = 0; i < 2; i++) {
            build_space();
            const uint32_t prog[] = {
                addi(S0, ZERO, 0x1a5),      /* 00 */
                s_type(0, S0, S6, 3),       /* 04: sb s0, 3(s6) */
                s_type(1, S0, S6, 6),       /* 08: sh s0, 6(s6) */
                i_type(3, 4, A1, S6, 3),    /* 0c: lbu a1, 3(s6) */
                i_type(3, 5, A2, S6, 6),    /* 10: lhu a2, 6(s6) */
                add(S0, S0, A1),            /* 14 */
                add(S0, S0, A2),            /* 18 */
                cases[c].store ? sd(S0, 25, cases[c].imm) : ld(A0, 25, cases[c].imm), /* 1c */
                sd(S0, S7, 0),              /* 20: read-only: the end */
            };
            put(PA_CODE, prog, sizeof(prog) / 4);
            static struct rv_hart a;
            struct rv_jit_stats st;
            CHECK(run_pair(slices[i], cases[c].base, true, &a, &st));
            CHECK_EQ(a.exit_cause, cases[c].store || cases[c].tval == VA_RO ? 15 : 13);
            CHECK_EQ(a.exit_tval, cases[c].tval);
            CHECK_EQ(a.x[S0], 0x1a5 + 0xa5 + 0x1a5);
            CHECK(st.uwin_accesses > 0);
        }
    }
}

/* Accesses through a base that an earlier access of the block checked skip the limit check
 * (translate_mem.c, plan_window_checks): the base may have moved by ADDI since, up to 2040
 * bytes, so that with the offset every access still lands in the window or a guard page. Cases:
 * the moved base leads past either end of the window (the guard page's fault must become the
 * guest's page fault); the moves add up to more than the slack (the base is checked again);
 * the checked base is above the window, in a user page of the upper half: its slow path
 * works, and the block must not go on to accesses that trust the base; and a window whose
 * limit is 0 (starved), where every checked access takes the slow path and the others fault
 * into the window. The translator's counts say the checks were skipped. */
static void test_unchecked(void)
{
    static const struct {
        uint64_t base;
        int32_t step, imm; /* base += step twice; loads at 0, imm and -imm after each */
        unsigned cause;    /* how the program ends: 15 at VA_RO, or 13 (load page fault) */
        uint64_t tval;
    } cases[] = {
        {VA_TOP + 0xff8, 1000, 0, 13, RV_UWIN_SIZE + 992},  /* past the end: 1 step */
        {VA_TOP + 0x800, 1020, 16, 13, RV_UWIN_SIZE + 8},   /* 2 steps (2040) and 16 */
        {8, -1020, 1024, 13, 8 - 1020},                      /* below 0 */
        {2048, -1020, -2040, 13, 2048 - 2040 - 2040},        /* 2 steps and -2040 */
        {VA_TOP + 0x10, 1020, 1024, 15, VA_RO},              /* 2 steps, inside */
        {VA_TOP + 0x10, 2000, 80, 13, RV_UWIN_SIZE},         /* 4000: checked again */
        {VA_HIGH + 0x10, 1000, 8, 15, VA_RO},                /* above the window */
        {VA_DATA + 0x100, 1000, 16, 15, VA_RO},
    };
    static const uint64_t slices[] = {1000000, 5, 2};
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (unsigned z = 0; z < 2; z++) {
            for (unsigned i = 0; i < 3; i++) {
                build_space();
                const int32_t m = cases[c].imm;
                const uint32_t prog[] = {
                    ld(A0, 25, 0),             /* 00: the check */
                    ld(A1, 25, m),             /* 04 */
                    add(S0, A0, A1),           /* 08 */
                    addi(25, 25, cases[c].step), /* 0c */
                    ld(A0, 25, 0),             /* 10 */
                    ld(A1, 25, -m),            /* 14 */
                    add(S0, S0, A0),           /* 18 */
                    add(S0, S0, A1),           /* 1c */
                    addi(25, 25, cases[c].step), /* 20 */
                    ld(A0, 25, m),             /* 24 */
                    add(S0, S0, A0),           /* 28 */
                    sd(S0, S7, 0),             /* 2c: read-only: the end */
                };
                put(PA_CODE, prog, sizeof(prog) / 4);
                static struct rv_hart a;
                struct rv_jit_stats st;
                limit_zero = z;
                CHECK(run_pair(slices[i], cases[c].base, true, &a, &st));
                limit_zero = false;
                CHECK_EQ(a.exit_cause, cases[c].cause);
                CHECK_EQ(a.exit_tval, cases[c].tval);
                CHECK(st.uwin_unchecked > 0);
            }
        }
    }
    /* three moves without an access between them: 2040 bytes are still trusted, 3000 not */
    static const struct {
        uint64_t base;
        int32_t step, imm;
        uint64_t tval;
    } moves[] = {
        {VA_TOP + 0xff8, 680, 2040, RV_UWIN_SIZE - 8 + 2040 + 2040},
        {VA_TOP + 0xff8, 1000, 2040, RV_UWIN_SIZE - 8 + 3000 + 2040},
        {8, -680, -2040, 8 - 2040 - 2040},
        {8, -1000, -2040, 8 - 3000 - 2040},
    };
    for (unsigned c = 0; c < sizeof(moves) / sizeof(moves[0]); c++) {
        for (unsigned z = 0; z < 2; z++) {
            build_space();
            const uint32_t prog[] = {
                ld(A0, 25, 0),                /* 00: the check */
                addi(25, 25, moves[c].step),  /* 04 */
                addi(25, 25, moves[c].step),  /* 08 */
                addi(25, 25, moves[c].step),  /* 0c */
                ld(A1, 25, moves[c].imm),     /* 10: a load page fault */
                sd(S0, S7, 0),                /* 14 */
            };
            put(PA_CODE, prog, sizeof(prog) / 4);
            static struct rv_hart a;
            struct rv_jit_stats st;
            limit_zero = z;
            CHECK(run_pair(1000000, moves[c].base, true, &a, &st));
            limit_zero = false;
            CHECK_EQ(a.exit_cause, 13);
            CHECK_EQ(a.exit_tval, moves[c].tval);
            CHECK_EQ(st.uwin_unchecked, (uint64_t)(abs(moves[c].step) == 680));
        }
    }
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
    return (uint32_t)rng_below(&rnd_state, n);
}

/* An offset for an access or a move: small and 8-aligned, or anywhere in -2048..2047. */
static int32_t rnd_imm(bool small)
{
    return small ? 8 * ((int32_t)rnd(17) - 8) : (int32_t)rnd(4096) - 2048;
}

/* Random programs of loads and stores of every size, ADDI and moves through three base
 * registers (x25..x27) that start in the data pages, in page 0, near both ends of the window
 * and above it, with forward branches and loads into a base, straight or as the body of a loop
 * (a loop block: its forward branches are join points), against
 * the interpreter in slices of 10^6 and 3: the first fault and its address, every register and
 * every byte of memory must agree. Code is read-only here, so the program cannot rewrite
 * itself into a loop; page 0 and the pages at the window's ends are writable. */
static void test_random(void)
{
    static const uint64_t starts[] = {
        VA_DATA + 0x800, VA_DATA + 0x3ff8, VA_DATA - 0x10, VA_TOP + 0x800, VA_TOP + 0xff0,
        0x10, 0x7f8, VA_HIGH + 0x400, RV_UWIN_SIZE + 0x10,
    };
    const unsigned nstarts = sizeof(starts) / sizeof(starts[0]);
    /* loops start where small moves stay in writable pages for a while */
    static const uint64_t loop_starts[] = {VA_DATA + 0x1800, 0x800, VA_TOP + 0x800,
                                           VA_HIGH + 0x800};
    uint64_t unchecked = 0, accesses = 0;
    uint64_t loops = 0;
    for (unsigned p = 0; p < 300; p++) {
        uint32_t prog[64];
        unsigned n = 0;
        const bool loop = p % 2; /* the body three times: a loop block, forward branches join */
        if (loop) {
            prog[n++] = addi(S1, ZERO, 3);
            /* the loop's first access behind a branch that may skip it */
            prog[n++] = rnd(2) ? beq(ZERO, ZERO, 8) : beq(A0, A1, 8);
            prog[n++] = ld(A0, 25 + rnd(3), rnd_imm(true));
        }
        while (n < 28) {
            const unsigned base = 25 + rnd(3);
            const unsigned kind = rnd(100);
            /* loop bodies: small offsets and moves, no loads into a base */
            if (kind < 35) {
                const unsigned rd = loop || rnd(16) ? A0 + rnd(2) : 25 + rnd(3);
                prog[n++] = i_type(3, rnd(7), rd, base, rnd_imm(loop || rnd(5) != 0));
            } else if (kind < 60) {
                prog[n++] = s_type(rnd(4), rnd(2) ? S0 : A0, base, rnd_imm(loop || rnd(5) != 0));
            } else if (kind < 82) {
                prog[n++] = addi(base, base, loop || rnd(10) ? rnd_imm(true) / 2 : rnd_imm(false));
            } else if (kind < 88) {
                prog[n++] = add(base, 25 + rnd(3), ZERO);
            } else if (kind < 94) {
                prog[n++] = add(S0, S0, rnd(2) ? A0 : A1);
            } else {
                /* skips 1 or 2 instructions: if a0 == a1, always, never */
                const int32_t off = 4 * (int32_t)(2 + rnd(2));
                const unsigned how = rnd(3);
                prog[n++] = how == 0 ? beq(A0, A1, off) : how == 1 ? beq(ZERO, ZERO, off)
                                                                  : bne(ZERO, ZERO, off);
            }
        }
        prog[n++] = addi(0, 0, 0);
        prog[n++] = addi(0, 0, 0);
        if (loop) {
            prog[n++] = addi(S1, S1, -1);
            prog[n] = bne(S1, ZERO, 4 - 4 * (int32_t)n);
            n++;
        }
        prog[n++] = sd(S0, S7, 0); /* read-only: the end */
        uint64_t b25 = starts[rnd(nstarts)], b26 = starts[rnd(nstarts)];
        uint64_t b27 = starts[rnd(nstarts)] + (uint64_t)rnd_imm(false);
        if (loop) {
            b25 = loop_starts[rnd(4)];
            b26 = loop_starts[rnd(4)];
            b27 = loop_starts[rnd(4)];
        }
        static const uint64_t slices[] = {1000000, 3};
        for (unsigned i = 0; i < 2; i++) {
            build_space();
            set_u64(PA_L0 + 8 * (VA_CODE >> 12), pte(PA_CODE, U_R | RV_PTE_X));
            set_u64(PA_L0, pte(PA_DATA + 0x6000, U_RW));
            set_u64(PA_L0_TOP + 8 * ((VA_TOP >> 12) & 511), pte(PA_TOP, U_RW));
            set_u64(PA_L0_HIGH + 8 * ((VA_HIGH >> 12) & 511), pte(PA_HIGH, U_RW));
            put(PA_CODE, prog, n);
            x26 = b26;
            x27 = b27;
            static struct rv_hart a;
            struct rv_jit_stats st;
            const bool same = run_pair(slices[i], b25, true, &a, &st);
            x26 = x27 = 0;
            CHECK(same);
            if (!same) {
                fprintf(stderr, "program %u (slice %llu) differs\n", p,
                        (unsigned long long)slices[i]);
                return;
            }
            unchecked += st.uwin_unchecked;
            accesses += st.uwin_accesses;
            loops += st.loop_blocks;
        }
    }
    /* most programs fault early; enough accesses were translated without a check */
    CHECK(unchecked > 100);
    CHECK(accesses > unchecked);
    CHECK(loops > 20);
}

int main(void)
{
    ram_fd = memfd_create("test-jit-uwin", MFD_CLOEXEC);
    if (ram_fd < 0 || ftruncate(ram_fd, RAM_SIZE) != 0) {
        fprintf(stderr, "memfd\n");
        return 1;
    }
    uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
    if (ram == MAP_FAILED)
        return 1;
    bus = (struct rv_bus){.ram = ram, .ram_base = RAM_BASE, .ram_size = RAM_SIZE};
    bus_int = bus;
    bus_int.ram = calloc(1, RAM_SIZE);
    test_loads_and_stores();
    test_self_modifying();
    test_window_edges();
    test_unchecked();
    test_random();
    free(bus_int.ram);
    TEST_MAIN_END();
}
