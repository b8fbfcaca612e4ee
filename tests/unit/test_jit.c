/* Binary translator (src/jit): the interpreter's behaviour under budgets, faults, interrupts,
 * code written behind the hart's back (FENCE.I), code written by another hart, and flushes.
 * Programs are hand-encoded; each runs on the translator and, where states are compared, on
 * the interpreter too. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/csr.h"
#include "cpu/hart.h"
#include "cpu/decode.h"
#include "jit/jit.h"
#include "jit/translate.h"
#include "rv_encode.h"
#include "test.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1u << 20)

static struct rv_bus bus;

static void put(uint64_t addr, const uint32_t *insns, unsigned n)
{
    memcpy(bus.ram + (addr - RAM_BASE), insns, 4 * n);
}

/* A hart in M-mode at RAM_BASE with rvisor as the monitor (traps into M become exits). */
static struct rv_hart *new_hart(unsigned id)
{
    struct rv_hart *h = calloc(1, sizeof(*h));
    rv_hart_reset(h, id, &bus, RAM_BASE);
    h->monitor_is_m = true;
    return h;
}

struct jit_env {
    struct rv_jit_group *g;
    struct rv_jit *j[2];
};

static void jit_env_init(struct jit_env *e, struct rv_hart *h0, struct rv_hart *h1)
{
    memset(e, 0, sizeof(*e));
    CHECK_EQ(rv_jit_group_create(&bus, &e->g), 0);
    CHECK_EQ(rv_jit_create(e->g, h0, &e->j[0]), 0);
    if (h1)
        CHECK_EQ(rv_jit_create(e->g, h1, &e->j[1]), 0);
}

static void jit_env_free(struct jit_env *e)
{
    rv_jit_destroy(e->j[0]);
    rv_jit_destroy(e->j[1]);
    rv_jit_group_destroy(e->g);
}

static bool same_state(const struct rv_hart *a, const struct rv_hart *b)
{
    return a->pc == b->pc && a->instret == b->instret && !memcmp(a->x, b->x, sizeof(a->x)) &&
           a->priv == b->priv && a->mstatus == b->mstatus && a->exit_cause == b->exit_cause &&
           a->exit_tval == b->exit_tval && a->exit_epc == b->exit_epc;
}

/* s1 times: s0 += f(), with f in another page, and a FENCE.I each time. */
static void load_call_loop(unsigned count)
{
    const uint32_t main_code[] = {
        addi(S1, ZERO, (int32_t)count), /* 0 */
        jal(RA, 0x1000 - 4),            /* 4: call f at +0x1000 */
        add(S0, S0, A0),                /* 8 */
        FENCE_I,                        /* c */
        addi(S1, S1, -1),               /* 10 */
        bne(S1, ZERO, 4 - 0x14),        /* 14: loop to 4 */
        ECALL,                          /* 18: ecall from M: an exit (MTRAP) */
    };
    const uint32_t f[] = {addi(A0, ZERO, 1), jalr(ZERO, RA, 0)};
    put(RAM_BASE, main_code, 7);
    put(RAM_BASE + 0x1000, f, 2);
}

/* Code written behind the harts' backs (as device DMA does, after rv_bus_note_write()) is
 * seen after FENCE.I. */
static void test_fence_i_sees_untracked_writes(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    load_call_loop(100);
    struct rv_hart *h = new_hart(0);
    struct jit_env e;
    jit_env_init(&e, h, NULL);
    /* 1 + 10 iterations of 6 instructions (the call counts jal, addi, jalr) */
    CHECK_EQ(rv_jit_run(e.j[0], 1 + 10 * 7), RV_EXIT_BUDGET);
    CHECK_EQ(h->x[S0], 10);
    const uint32_t two = addi(A0, ZERO, 2);
    rv_bus_note_write(&bus, RAM_BASE + 0x1000, 4); /* as a device does before its DMA */
    memcpy(bus.ram + 0x1000, &two, 4);             /* no hart store: not tracked */
    CHECK_EQ(rv_jit_run(e.j[0], 1000000), RV_EXIT_MTRAP);
    CHECK_EQ(h->exit_cause, EXC_ECALL_M);
    /* the next call still runs the old code (the ISA allows it: no FENCE.I yet), every call
     * after the FENCE.I of that iteration the new */
    CHECK_EQ(h->x[S0], 10 + 1 + 89 * 2);
    struct rv_jit_stats st;
    rv_jit_get_stats(e.j[0], &st);
    CHECK(st.fence_checks > 0);
    CHECK(st.invalidations > 0);
    jit_env_free(&e);
    free(h);
}

/* Runs of every length from 1 to 150 instructions end in the interpreter's state. */
static void test_budget_exact(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    load_call_loop(1000);
    struct rv_hart *a = new_hart(0), *b = new_hart(0);
    struct jit_env e;
    jit_env_init(&e, a, NULL);
    bool same = true;
    for (uint64_t budget = 1; budget <= 150 && same; budget++) {
        enum rv_exit ea = rv_jit_run(e.j[0], budget), eb = rv_hart_run(b, budget);
        same = ea == eb && same_state(a, b);
        if (!same)
            fprintf(stderr, "budget %llu: jit pc %llx instret %llu, interpreter pc %llx instret %llu\n",
                    (unsigned long long)budget, (unsigned long long)a->pc,
                    (unsigned long long)a->instret, (unsigned long long)b->pc,
                    (unsigned long long)b->instret);
    }
    CHECK(same);
    jit_env_free(&e);
    free(a);
    free(b);
}

/* A load fault in the middle of a block: earlier instructions retired, later ones not. */
static void test_precise_fault(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    const uint32_t code[] = {
        addi(T0, ZERO, 5), addi(T1, ZERO, 6), ld(T2, A1, 0), addi(A2, ZERO, 7), ECALL,
    };
    put(RAM_BASE, code, 5);
    struct rv_hart *a = new_hart(0), *b = new_hart(0);
    a->x[A1] = b->x[A1] = 0x1000; /* no memory there */
    struct jit_env e;
    jit_env_init(&e, a, NULL);
    CHECK_EQ(rv_jit_run(e.j[0], 100), RV_EXIT_MTRAP);
    CHECK_EQ(rv_hart_run(b, 100), RV_EXIT_MTRAP);
    CHECK_EQ(a->exit_cause, EXC_LOAD_ACCESS);
    CHECK_EQ(a->exit_epc, RAM_BASE + 8);
    CHECK_EQ(a->exit_tval, 0x1000);
    CHECK_EQ(a->instret, 2);
    CHECK_EQ(a->x[T1], 6);
    CHECK_EQ(a->x[A2], 0);
    CHECK(same_state(a, b));
    jit_env_free(&e);
    free(a);
    free(b);
}

/* Runs a and b (the same program) for the same pseudo-random budgets (1 to 97 instructions:
 * runs stop anywhere inside blocks, the counting variants run too) until the program's ECALL;
 * both must agree after every run. */
static void check_lockstep(struct rv_jit *j, struct rv_hart *a, struct rv_hart *b)
{
    uint32_t seed = 12345;
    bool same = true;
    enum rv_exit ea = RV_EXIT_BUDGET;
    for (unsigned run = 0; run < 100000 && same && ea == RV_EXIT_BUDGET; run++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t budget = 1 + (seed >> 16) % 97;
        ea = rv_jit_run(j, budget);
        enum rv_exit eb = rv_hart_run(b, budget);
        same = ea == eb && same_state(a, b);
        if (!same)
            fprintf(stderr, "run %u (budget %llu): jit pc %llx instret %llu, interpreter pc %llx "
                    "instret %llu\n", run, (unsigned long long)budget,
                    (unsigned long long)a->pc, (unsigned long long)a->instret,
                    (unsigned long long)b->pc, (unsigned long long)b->instret);
        for (unsigned r = 0; !same && r < 32; r++)
            if (a->x[r] != b->x[r])
                fprintf(stderr, "  x%u: jit %llx, interpreter %llx\n", r,
                        (unsigned long long)a->x[r], (unsigned long long)b->x[r]);
    }
    CHECK(same);
    CHECK_EQ(ea, RV_EXIT_MTRAP);
    CHECK_EQ(a->exit_cause, EXC_ECALL_M);
}

/* A loop using 31 registers, far more than the register cache holds: a side exit taken on
 * about a quarter of the iterations (its code comes back into the middle of the loop), a load
 * and a store (the slow path on their first run), a CSR instruction (a helper inside the
 * block) and the back edge, all under register pressure. */
static void test_register_pressure(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    uint32_t code[128];
    unsigned n = 0;
    for (unsigned r = 1; r <= 26; r++)
        code[n++] = add(r, r, (r * 7) % 26 + 1);
    code[n++] = ld(28, 29, 0);
    code[n++] = add(30, 30, 28);
    code[n++] = sw(30, 29, 8);
    code[n++] = i_type(0x13, 7, 31, 3, 3); /* andi x31, x3, 3 */
    unsigned side = n++, resume = n;
    for (unsigned r = 26; r >= 5; r--) /* 62 instructions to the back edge: one block */
        code[n++] = add(r, (r * 11) % 26 + 1, r);
    code[n++] = i_type(0x73, 2, 12, 12, 0x340); /* csrrs x12, mscratch, x12 */
    for (unsigned r = 1; r <= 26; r += 5)
        code[n++] = add(31, 31, r);
    code[n++] = addi(27, 27, -1);
    code[n] = bne(27, ZERO, -(int32_t)(4 * n));
    n++;
    code[n++] = ECALL;
    code[side] = beq(31, ZERO, (int32_t)(4 * (n - side))); /* to `out` */
    code[n++] = add(10, 10, 11); /* out: */
    code[n] = jal(ZERO, (int32_t)(4 * resume) - (int32_t)(4 * n));
    n++;
    put(RAM_BASE, code, n);
    struct rv_hart *a = new_hart(0), *b = new_hart(0);
    for (unsigned r = 1; r < 32; r++)
        a->x[r] = b->x[r] = 0x9e3779b97f4a7c15ull * r;
    a->x[27] = b->x[27] = 300;
    a->x[29] = b->x[29] = RAM_BASE + 0x8000;
    struct jit_env e;
    jit_env_init(&e, a, NULL);
    check_lockstep(e.j[0], a, b);
    CHECK_EQ(a->x[27], 0);
    struct rv_jit_stats st;
    rv_jit_get_stats(e.j[0], &st);
    CHECK(st.rc_loads > 0 && st.rc_stores > 0);
    jit_env_free(&e);
    free(a);
    free(b);
}

/* The ALU idioms the translator emits specially (moves and negations written with x0,
 * sext.w/addiw, set-on-compare with x0, shifts by a register, mul with rd = a source, and
 * slli 32 followed by srli/srai 32 or more, which it fuses) in a loop, against the
 * interpreter under random budgets (which also stop between the two of a fused pair). */
static void test_alu_idioms(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    const uint32_t code[] = {
        shift_i(1, A0, A1, 32), shift_i(5, A0, A0, 32),          /* zext.w a0, a1 */
        shift_i(1, A2, A3, 32), shift_i(5, A2, A2, 0x400 | 36),  /* sext.w, then >> 4 */
        shift_i(1, A4, A5, 32), shift_i(5, A4, A4, 40),          /* zext.w, then >> 8 */
        shift_i(1, S0, S0, 32), shift_i(5, S0, S0, 0x400 | 32),  /* sext.w s0 in place */
        shift_i(1, T0, T1, 32), shift_i(5, T2, T0, 32),          /* not a pair: rd differs */
        shift_i(1, T1, A0, 32), shift_i(5, T1, T1, 31),          /* not a pair: 31 */
        add(T1, ZERO, A0), add(T2, A2, ZERO),                    /* moves */
        r_type(0x20, 0, A5, ZERO, A5), r_type(0x20, 0, S1, ZERO, A4), /* neg a5, a5; neg s1, a4 */
        r_type(0x20, 0, A3, A1, A3),                             /* sub a3, a1, a3 */
        r_type(0x20, 0, GP, A3, ZERO), r_type(7, 7, TP, ZERO, A3), /* sub gp, a3, x0; and x0 */
        i_type(0x1b, 0, A1, A1, 0), i_type(0x1b, 0, GP, A3, -7), /* sext.w a1; addiw */
        i_type(0x1b, 0, TP, ZERO, -5),                           /* addiw tp, x0, -5 */
        r_type(0, 2, TP, A0, A2), r_type(0, 3, T0, ZERO, S1),    /* slt; snez */
        i_type(0x13, 3, S1, T1, 1), r_type(0, 3, 26, A1, A3),    /* seqz; sltu */
        r_type(0, 1, A4, A4, A2), r_type(0, 5, 25, A3, T0),      /* sll, srl by a register */
        r_type(1, 0, A2, A2, A3), r_type(1, 0, A3, A1, A3),      /* mul rd = rs1, rd = rs2 */
        r_type(1, 0, 24, A0, A0), r_type(1, 0, 23, ZERO, A0),    /* mul squares; by x0 */
        add(A1, A1, 28), add(A3, A3, T2), add(A5, A5, GP), add(S0, S0, TP), add(A0, A0, S1),
        add(A2, A2, 24), add(A4, A4, 25), add(T1, T1, 26), add(S1, S1, 23), add(28, 28, A1),
        addi(27, 27, -1),
        bne(27, ZERO, -4 * 43),
        ECALL,
    };
    _Static_assert(sizeof(code) / 4 == 45, "the branch goes back 43 instructions");
    put(RAM_BASE, code, 45);
    struct rv_hart *a = new_hart(0), *b = new_hart(0);
    for (unsigned r = 1; r < 32; r++)
        a->x[r] = b->x[r] = 0x9e3779b97f4a7c15ull * r ^ (0x80000000ull << (r & 3));
    a->x[27] = b->x[27] = 500;
    struct jit_env e;
    jit_env_init(&e, a, NULL);
    check_lockstep(e.j[0], a, b);
    CHECK_EQ(a->x[27], 0);
    jit_env_free(&e);
    free(a);
    free(b);
}

/* Loops whose body jumps back to a condition laid out elsewhere (`body: ...; j cond` and
 * `cond: ...; bne ..., body`): the block at `body` follows the jump and becomes one loop
 * (translate.c, closes_loop). The condition lies before the body in the first program and
 * after it (past an instruction never run) in the second; the bodies have a load, a store, a
 * forward branch inside the loop and a side exit. Both run against the interpreter under
 * random budgets, so that runs also stop right after the followed jump (the counting
 * variant leaves for the jump's target there). */
static void test_trace_loops(void)
{
    const uint32_t before[] = {
        addi(S1, ZERO, 300),                /* 0 */
        bne(S1, ZERO, 8),                   /* 1 cond: to body */
        ECALL,                              /* 2 */
        ld(T1, A1, 0),                      /* 3 body */
        add(S0, S0, T1),                    /* 4 */
        i_type(0x13, 7, T2, S1, 7),         /* 5 andi t2, s1, 7 */
        beq(T2, ZERO, 12),                  /* 6 to 9, inside the loop */
        addi(A1, A1, 8),                    /* 7 */
        sd(S0, A1, 0),                      /* 8 */
        addi(S1, S1, -1),                   /* 9 */
        jal(ZERO, -4 * 9),                  /* 10 to cond */
    };
    const uint32_t after[] = {
        addi(S1, ZERO, 300),                /* 0 */
        jal(ZERO, 4 * 8),                   /* 1 to cond */
        add(S0, S0, S1),                    /* 2 body */
        xor_(A0, A0, S0),                   /* 3 */
        i_type(0x13, 7, T2, S1, 3),         /* 4 andi t2, s1, 3 */
        beq(T2, ZERO, 4 * 7),               /* 5 to out: leaves the loop */
        addi(A0, A0, 5),                    /* 6 */
        jal(ZERO, 8),                       /* 7 to cond, over 8 */
        addi(A0, A0, 1000),                 /* 8 never run */
        addi(S1, S1, -1),                   /* 9 cond */
        bne(S1, ZERO, -4 * 8),              /* 10 to body */
        ECALL,                              /* 11 */
        addi(A0, A0, 7),                    /* 12 out */
        jal(ZERO, -4 * 4),                  /* 13 to cond */
    };
    const uint32_t *progs[] = {before, after};
    const unsigned sizes[] = {sizeof(before) / 4, sizeof(after) / 4};
    for (unsigned i = 0; i < 2; i++) {
        memset(bus.ram, 0, RAM_SIZE);
        put(RAM_BASE, progs[i], sizes[i]);
        struct rv_hart *a = new_hart(0), *b = new_hart(0);
        a->x[A1] = b->x[A1] = RAM_BASE + 0x8000;
        struct jit_env e;
        jit_env_init(&e, a, NULL);
        check_lockstep(e.j[0], a, b);
        CHECK_EQ(a->x[S1], 0);
        struct rv_jit_stats st;
        rv_jit_get_stats(e.j[0], &st);
        CHECK(st.loops_followed >= 1);
        jit_env_free(&e);
        free(a);
        free(b);
    }
}

/* A FENCE.I after code was written behind the hart's back sees the new condition of such a
 * loop: the block's copy of the guest bytes covers the instructions it took from beyond its
 * jump, not only those from its first instruction on (no other block holds them here). */
static void test_trace_fence_i(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    const uint32_t code[] = {
        FENCE_I,                            /* 0 */
        addi(S1, ZERO, 100),                /* 1 */
        jal(ZERO, 4 * 5),                   /* 2 to body */
        add(S0, S0, S2),                    /* 3 cond: rewritten to sub below */
        addi(S1, S1, -1),                   /* 4 */
        bne(S1, ZERO, 8),                   /* 5 to body */
        ECALL,                              /* 6 */
        addi(A0, A0, 1),                    /* 7 body */
        jal(ZERO, -4 * 5),                  /* 8 to cond */
    };
    put(RAM_BASE, code, sizeof(code) / 4);
    struct rv_hart *h = new_hart(0);
    h->x[S2] = 5;
    struct jit_env e;
    jit_env_init(&e, h, NULL);
    CHECK_EQ(rv_jit_run(e.j[0], 100000), RV_EXIT_MTRAP);
    CHECK_EQ(h->x[S0], 500);
    CHECK_EQ(h->x[A0], 100);
    const uint32_t sub_s0 = sub(S0, S0, S2);
    rv_bus_note_write(&bus, RAM_BASE + 12, 4); /* as a device does before its DMA */
    memcpy(bus.ram + 12, &sub_s0, 4);
    h->pc = RAM_BASE;
    h->x[S0] = 0;
    CHECK_EQ(rv_jit_run(e.j[0], 100000), RV_EXIT_MTRAP);
    CHECK_EQ(h->x[S0], (uint64_t)-500);
    CHECK_EQ(h->x[A0], 200);
    struct rv_jit_stats st;
    rv_jit_get_stats(e.j[0], &st);
    CHECK(st.loops_followed >= 1);
    jit_env_free(&e);
    free(h);
}

/* Spin-wait hints (WRS.NTO, WRS.STO, PAUSE) stay in their block: no return to the
 * dispatcher for each (Zawrs lets them end at any time); the same state as the interpreter's
 * under random budgets. */
static void test_spin_hints(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    const uint32_t code[] = {
        addi(S1, ZERO, 100),                /* 0 */
        0x00d00073u,                        /* 1 loop: wrs.nto */
        RV_PAUSE,                           /* 2 */
        0x01d00073u,                        /* 3 wrs.sto */
        addi(S1, S1, -1),                   /* 4 */
        bne(S1, ZERO, -4 * 4),              /* 5 to loop */
        ECALL,                              /* 6 */
    };
    put(RAM_BASE, code, sizeof(code) / 4);
    struct rv_hart *a = new_hart(0), *b = new_hart(0);
    struct jit_env e;
    jit_env_init(&e, a, NULL);
    CHECK_EQ(rv_jit_run(e.j[0], 1000000), RV_EXIT_MTRAP);
    CHECK_EQ(rv_hart_run(b, 1000000), RV_EXIT_MTRAP);
    CHECK(same_state(a, b));
    struct rv_jit_stats st;
    rv_jit_get_stats(e.j[0], &st);
    CHECK_EQ(st.exits[JIT_EXIT_INTERP], 0);
    a->pc = b->pc = RAM_BASE;
    a->instret = b->instret = 0;
    check_lockstep(e.j[0], a, b);
    jit_env_free(&e);
    free(a);
    free(b);
}

struct irq_arg {
    struct rv_hart *h;
    const _Atomic uint32_t *counter; /* the guest loop's count in RAM */
};

/* Raises the interrupt once the guest loop has gone round 1000 times (no timing involved: under
 * load the hart thread may not run for a long while). Gives up after a minute, which the checks
 * then report. */
static void *raise_when_counted(void *p)
{
    struct irq_arg *arg = p;
    for (unsigned i = 0; i < 60000 && atomic_load(arg->counter) < 1000; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    rv_hart_set_irq(arg->h, MIP_MEIP, true);
    return NULL;
}

/* An interrupt raised by another thread stops a hot loop that has no CSR access. */
static void test_interrupt_in_hot_loop(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    const uint32_t code[] = {addi(A0, A0, 1), sw(A0, A1, 0), jal(ZERO, -8)};
    put(RAM_BASE, code, 3);
    struct rv_hart *h = new_hart(0);
    h->x[A1] = RAM_BASE + 0x1000;
    h->mie = MIP_MEIP;
    h->mstatus |= MSTATUS_MIE;
    struct jit_env e;
    jit_env_init(&e, h, NULL);
    struct irq_arg arg = {h, (const _Atomic uint32_t *)(bus.ram + 0x1000)};
    pthread_t t;
    pthread_create(&t, NULL, raise_when_counted, &arg);
    enum rv_exit why = rv_jit_run(e.j[0], 1ull << 40);
    pthread_join(t, NULL);
    CHECK_EQ(why, RV_EXIT_MTRAP);
    CHECK_EQ(h->exit_cause, (1ull << 63) | IRQ_MEI);
    CHECK(h->exit_epc >= RAM_BASE && h->exit_epc <= RAM_BASE + 8);
    CHECK(h->x[A0] >= 1000);
    jit_env_free(&e);
    free(h);
}

/* Hart 1 stores to code that hart 0 has translated: hart 0 runs the new code from its next
 * run on (the store invalidates hart 0's translations of the page), and a flush in the middle
 * changes nothing. */
static void test_other_hart_store(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    const uint32_t h0_code[] = {jal(RA, 0x1000), add(S0, S0, A0), jal(ZERO, -8)};
    const uint32_t f[] = {addi(A0, ZERO, 1), jalr(ZERO, RA, 0)};
    const uint32_t h1_code[] = {sw(A1, A2, 0), ECALL};
    put(RAM_BASE, h0_code, 3);
    put(RAM_BASE + 0x1000, f, 2);
    put(RAM_BASE + 0x2000, h1_code, 2);
    struct rv_hart *h0 = new_hart(0), *h1 = new_hart(1);
    h1->pc = RAM_BASE + 0x2000;
    h1->x[A1] = addi(A0, ZERO, 3);
    h1->x[A2] = RAM_BASE + 0x1000;
    struct jit_env e;
    jit_env_init(&e, h0, h1);
    CHECK_EQ(rv_jit_run(e.j[0], 5 * 100), RV_EXIT_BUDGET);
    CHECK_EQ(h0->x[S0], 100);
    rv_jit_flush(e.j[0]);
    CHECK_EQ(rv_jit_run(e.j[0], 5 * 100), RV_EXIT_BUDGET);
    CHECK_EQ(h0->x[S0], 200);
    CHECK_EQ(rv_jit_run(e.j[1], 10), RV_EXIT_MTRAP); /* the store, then ecall */
    CHECK_EQ(rv_jit_run(e.j[0], 5 * 100), RV_EXIT_BUDGET);
    CHECK_EQ(h0->x[S0], 200 + 3 * 100);
    jit_env_free(&e);
    free(h0);
    free(h1);
}

/* A page with a cached write translation gets translated code: the hart's stores through that
 * entry must reach the slow path from then on (jit.c, drop_direct_writes, which looks at the
 * slots filled since the last flush only: hart.h, tlb_wfilled), so that a rewritten function
 * runs as rewritten, as under the interpreter; the entry in the first and the last slot of a
 * 64-slot word of that record. */
static void test_store_to_new_code(void)
{
    for (unsigned last = 0; last < 2; last++) {
        memset(bus.ram, 0, RAM_SIZE);
        const uint64_t fpage = RAM_BASE + (last ? 0xff000 : 0x80000); /* slot 255 or 128 */
        const uint32_t code[] = {
            sw(ZERO, S2, 0x400),  /* 00: a write entry for f's page */
            jalr(RA, S2, 0),      /* 04: f's page gets translated */
            add(S0, S0, A0),      /* 08 */
            sw(S3, S2, 0),        /* 0c: through the entry: f returns 7 from now on */
            jalr(RA, S2, 0),      /* 10 */
            add(S0, S0, A0),      /* 14 */
            ECALL,                /* 18 */
        };
        const uint32_t f[] = {addi(A0, ZERO, 1), jalr(ZERO, RA, 0)};
        put(RAM_BASE, code, sizeof(code) / 4);
        put(fpage, f, 2);
        struct rv_hart *h = new_hart(0), *ref = new_hart(0);
        h->x[S2] = ref->x[S2] = fpage;
        h->x[S3] = ref->x[S3] = addi(A0, ZERO, 7);
        struct jit_env e;
        jit_env_init(&e, h, NULL);
        CHECK_EQ(rv_jit_run(e.j[0], 1000), RV_EXIT_MTRAP);
        CHECK_EQ(h->x[S0], 8);
        struct rv_jit_stats st;
        rv_jit_get_stats(e.j[0], &st);
        CHECK_EQ(st.slow_stores, 2); /* the fill, then the store to code */
        jit_env_free(&e);
        /* the interpreter, from the same memory */
        put(fpage, f, 2);
        CHECK_EQ(rv_hart_run(ref, 1000), RV_EXIT_MTRAP);
        CHECK(same_state(h, ref));
        free(h);
        free(ref);
    }
}

/* Data accesses of M-mode code go through Sv39 (MPRV, MPP = S): VA_DATA + 4 KiB * i maps to
 * the physical page DATA_PA + 4 KiB * ((23 * i) % 64), so each page has its own TLB addend;
 * page 63 is read-only. */
#define VA_DATA 0x40000000ull
#define DATA_PA (RAM_BASE + 0x20000)
static void map_data_pages(struct rv_hart *h)
{
    const uint64_t root = RAM_BASE + 0x4000, l1 = root + 0x1000, l0 = root + 0x2000;
    uint64_t *pt = (uint64_t *)(bus.ram + (root - RAM_BASE));
    memset(pt, 0, 3 * 4096);
    pt[1] = (l1 >> 12) << 10 | 1;                 /* VPN[2] = 1 */
    pt[512] = (l0 >> 12) << 10 | 1;               /* VPN[1] = 0 */
    for (unsigned i = 0; i < 64; i++)             /* leaves: V R W A D; the last V R A D */
        pt[1024 + i] = ((DATA_PA >> 12) + (23 * i) % 64) << 10 | (i == 63 ? 0xc3 : 0xc7);
    h->satp = (uint64_t)SATP_MODE_SV39 << SATP_MODE_SHIFT | root >> 12;
    h->mstatus |= MSTATUS_MPRV | 1ull << MSTATUS_MPP_SHIFT;
    rv_hart_update_mmu_idx(h);
}

/* Base groups (translate_mem.c): loads and stores through one base register, moved by ADDI
 * and copied, in a loop whose base walks across the scattered pages above (groups then cross
 * pages, and their members check the TLB themselves), with a store-led group that loads join,
 * and a forward branch inside the loop that skips a group's leader: the plan must start groups
 * again at its target (a join point), or the member after it uses a stale page. Against the
 * interpreter under random budgets. */
static void test_base_groups(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    for (unsigned i = 0x20000; i < 0x60000; i++)
        bus.ram[i] = (uint8_t)(i * 37 + (i >> 8));
    const uint32_t code[] = {
        ld(T0, A1, 0),                  /* 0: leader */
        i_type(0x03, 4, T1, A1, 7),     /* lbu t1, 7(a1): member */
        add(S1, S1, T0), add(S1, S1, T1),
        sd(S1, A1, 16),                 /* leads the store group */
        addi(A2, A1, 8),                /* a2 = a1 + 8: the same base */
        i_type(0x03, 2, T2, A2, 4),     /* lw t2, 4(a2): member (a1 + 12) */
        sw(T2, A2, 20),                 /* member of the store group (a1 + 28) */
        i_type(0x13, 7, 28, S1, 1),     /* andi t3, s1, 1 */
        add(17, A1, S4),                /* a7 = a1 + 2048: a base of its own */
        beq(28, ZERO, 8),               /* over the next one */
        i_type(0x03, 5, 29, 17, 2),     /* lhu t4, 2(a7): leads a7's group, on one path */
        i_type(0x03, 1, 30, A1, 30),    /* join point: lh t5, 30(a1) */
        i_type(0x03, 5, 31, 17, 6),     /* lhu t6, 6(a7) */
        i_type(0x03, 0, A3, A1, 31),    /* lb a3, 31(a1) */
        sd(30, A2, 8),                  /* a2 (a base again after the join) leads, a store */
        ld(A5, A2, -8),                 /* a load in the store's group: a1 + 0 */
        add(A4, A4, 29), add(A4, A4, 30), add(A4, A4, A3), add(A4, A4, A5), add(A4, A4, 31),
        add(16, ZERO, A1),              /* mv a6, a1 */
        s_type(0, A4, 16, 27),          /* sb a4, 27(a6): member */
        addi(A1, A1, 36),
        addi(S2, S2, -1),
        bne(S2, ZERO, -4 * 26),
        ECALL,
    };
    _Static_assert(sizeof(code) / 4 == 28, "the branch goes back 26 instructions");
    put(RAM_BASE, code, 28);
    struct rv_hart *a = new_hart(0), *b = new_hart(0);
    map_data_pages(a);
    map_data_pages(b);
    a->x[A1] = b->x[A1] = VA_DATA + 4096 - 3 * 36;
    a->x[S2] = b->x[S2] = 2000; /* 72,000 bytes: 17 page boundaries */
    a->x[S4] = b->x[S4] = 2048;
    struct jit_env e;
    jit_env_init(&e, a, NULL);
    check_lockstep(e.j[0], a, b);
    CHECK_EQ(a->x[S2], 0);
    struct rv_jit_stats st;
    rv_jit_get_stats(e.j[0], &st);
    CHECK(st.mem_grouped > 0);
    CHECK(st.group_cold > 0); /* groups across pages happened */
    jit_env_free(&e);
    free(a);
    free(b);
}

/* A member beyond the end of RAM faults precisely: its leader and an earlier store done, the
 * member's rd and everything after it untouched. */
static void test_base_group_fault(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    const uint32_t code[] = {
        ld(T0, A1, 0), sd(T0, A1, -8), ld(T2, A1, 8), addi(A2, ZERO, 7), ECALL,
    };
    put(RAM_BASE, code, 5);
    bus.ram[RAM_SIZE - 8] = 0x5a;
    struct rv_hart *a = new_hart(0), *b = new_hart(0);
    a->x[A1] = b->x[A1] = RAM_BASE + RAM_SIZE - 8;
    a->x[T2] = b->x[T2] = 99;
    struct jit_env e;
    jit_env_init(&e, a, NULL);
    for (unsigned run = 0; run < 2; run++) { /* a TLB miss first, then a hit */
        a->pc = b->pc = RAM_BASE;
        a->x[T0] = b->x[T0] = 0;
        CHECK_EQ(rv_jit_run(e.j[0], 100), RV_EXIT_MTRAP);
        CHECK_EQ(rv_hart_run(b, 100), RV_EXIT_MTRAP);
        CHECK_EQ(a->exit_cause, EXC_LOAD_ACCESS);
        CHECK_EQ(a->exit_epc, RAM_BASE + 8);
        CHECK_EQ(a->exit_tval, RAM_BASE + RAM_SIZE);
        CHECK_EQ(a->x[T0], 0x5a);
        CHECK_EQ(bus.ram[RAM_SIZE - 16], 0x5a);
        CHECK_EQ(a->x[T2], 99);
        CHECK_EQ(a->x[A2], 0);
        CHECK(same_state(a, b));
    }
    jit_env_free(&e);
    free(a);
    free(b);
}

/* A store in a group that a load leads, on a read-only page: the store faults, on the first run
 * (TLB misses) and when the load's TLB entry is there (the group must check for writing). */
static void test_base_group_read_only(void)
{
    memset(bus.ram, 0, RAM_SIZE);
    const uint32_t code[] = {ld(T0, A1, 0), addi(T1, T0, 1), sd(T1, A1, 8), addi(A2, ZERO, 7), ECALL};
    put(RAM_BASE, code, 5);
    struct rv_hart *a = new_hart(0), *b = new_hart(0);
    map_data_pages(a);
    map_data_pages(b);
    a->x[A1] = b->x[A1] = VA_DATA + 63 * 4096 + 64;
    struct jit_env e;
    jit_env_init(&e, a, NULL);
    for (unsigned run = 0; run < 2; run++) {
        a->pc = b->pc = RAM_BASE;
        CHECK_EQ(rv_jit_run(e.j[0], 100), RV_EXIT_MTRAP);
        CHECK_EQ(rv_hart_run(b, 100), RV_EXIT_MTRAP);
        CHECK_EQ(a->exit_cause, EXC_STORE_PAGE_FAULT);
        CHECK_EQ(a->exit_epc, RAM_BASE + 8);
        CHECK_EQ(a->x[T1], 1);
        CHECK_EQ(a->x[A2], 0);
        CHECK(same_state(a, b));
    }
    jit_env_free(&e);
    free(a);
    free(b);
}

/* The plan of base groups: which accesses lead, join or check themselves. */
static void test_base_group_plan(void)
{
    const uint32_t code[] = {
        ld(T0, A1, 0),              /* 0 leader [0, 15] */
        ld(T1, A1, 8),              /* 1 member */
        i_type(0x73, 2, 0, 0, 0x340), /* 2 csrrs x0, mscratch, x0: ends all groups */
        ld(T2, A1, 16),             /* 3 leader [0, 31] (a1 + 24 and the stores join) */
        ld(28, A1, 24),             /* 4 member */
        sd(T0, A1, 0),              /* 5 member: the group now checks for writing */
        sd(T1, A1, 8),              /* 6 member */
        ld(T0, A1, 2000),           /* 7 too far from [0, 31]: checks itself */
        addi(A1, A1, 4),            /* 8 the same base, moved */
        ld(T1, A1, 20),             /* 9 member (a1 + 24) */
        add(A1, A1, T0),            /* 10 a new base */
        ld(T1, A1, 0),              /* 11 alone: checks itself */
    };
    static const uint8_t role[] = {MEM_LEADER, MEM_MEMBER, MEM_PLAIN, MEM_LEADER, MEM_MEMBER,
                                   MEM_MEMBER, MEM_MEMBER, MEM_PLAIN, MEM_PLAIN, MEM_MEMBER,
                                   MEM_PLAIN, MEM_PLAIN};
    struct tr *t = calloc(1, sizeof(*t));
    struct rv_insn ins[12];
    for (unsigned k = 0; k < 12; k++)
        rv_decode(code[k], &ins[k]);
    t->n = 12;
    t->ins = ins;
    jit_mem_plan(t, ins);
    for (unsigned k = 0; k < 12; k++)
        CHECK_EQ(t->mrole[k], role[k]);
    CHECK_EQ(t->mlo[0], 0);
    CHECK_EQ(t->mhi[0], 15);
    CHECK_EQ(t->mlo[3], -16);
    CHECK_EQ(t->mhi[3], 15);
    CHECK(!t->mwrite[0] && t->mwrite[3]);
    CHECK(t->mslot[4] == t->mslot[3] && t->mslot[6] == t->mslot[3] && t->mslot[9] == t->mslot[3]);
    free(t);
}

int main(void)
{
    bus = (struct rv_bus){.ram = calloc(1, RAM_SIZE), .ram_base = RAM_BASE, .ram_size = RAM_SIZE};
    test_fence_i_sees_untracked_writes();
    test_budget_exact();
    test_precise_fault();
    test_register_pressure();
    test_alu_idioms();
    test_trace_loops();
    test_trace_fence_i();
    test_spin_hints();
    test_interrupt_in_hot_loop();
    test_other_hart_store();
    test_store_to_new_code();
    test_base_groups();
    test_base_group_fault();
    test_base_group_read_only();
    test_base_group_plan();
    free(bus.ram);
    TEST_MAIN_END();
}
