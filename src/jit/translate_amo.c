/* Native translation of the A extension's AMOs and LR/SC, and of Zicboz's CBO.ZERO.
 *
 * The fast path handles an aligned access to a RAM page that the TLB maps directly (for
 * writing, except LR), with host atomics of the same semantics as the interpreter's
 * (cpu/exec.c, exec_amo): x86 locked instructions are sequentially consistent, so every
 * aq/rl combination is satisfied. Anything else -- misalignment, a TLB miss, I/O or code
 * pages, faults, CBO.ZERO without permission -- goes to out-of-line code where the
 * interpreter runs the instruction (COLD_EXEC), with exactly its result and traps.
 *
 * LR/SC use the interpreter's reservation (h->resv_*): LR records the host address and the
 * value read, SC succeeds if the reservation is for its address and memory still holds that
 * value, compared and swapped atomically (A extension 8.2 allows this as long as a store by
 * another hart between LR and SC makes SC fail: it changes the value, or writes it back
 * unchanged, which no hart can tell from no store). Either fast path or interpreter may do the
 * LR of a pair and the other the SC. */
#include <stddef.h>

#include "cpu/csr.h"
#include "jit/translate.h"

/* The interpreter's out-of-line path for `in`: the main path jumped there at `jump` (and
 * `jump2`) with the register cache `pre`; the caller continues the main path and then calls
 * exec_cold_resume(). */
static struct cold *exec_cold(struct tr *t, const struct rv_insn *in, uint8_t *jump,
                              uint8_t *jump2, const struct regcache *pre)
{
    struct rv_insn *copy = jit_alloc(t->j, sizeof(*copy));
    if (!copy) {
        t->fail = true;
        return NULL;
    }
    *copy = *in;
    struct cold *c = jit_add_cold(t, COLD_EXEC, jump);
    c->jump2 = jump2;
    c->pre = *pre;
    c->insn = copy;
    c->site = jit_site(t, 0, in->len);
    return c;
}

static void exec_cold_resume(struct tr *t, struct cold *c)
{
    if (!c)
        return;
    c->post = t->rc;
    c->resume = x86_here(&t->a);
}

/* CBO.ZERO: the 64-byte block around x[rs1] (rv_hart's cache-block size) becomes zero. */
static void emit_cbo_zero(struct tr *t, const struct rv_insn *in)
{
    struct x86_asm *a = &t->a;
    jit_emit_va(t, in->rs1, 0);
    struct regcache pre = t->rc;
    /* Permission (CMO spec, envcfg.CBZE): menvcfg's bit, and senvcfg's too in U-mode.
     * M-mode with menvcfg.CBZE clear is allowed as well: the interpreter does it. */
    x86_load(a, RAX, HART(menvcfg), 8, false);
    x86_alu_mi(a, X86_CMP, false, HART(priv), RV_PRIV_U);
    uint8_t *not_u = x86_jcc_fwd(a, X86_CC_NE);
    x86_alu_rm(a, X86_AND, true, RAX, HART(senvcfg));
    x86_bind(a, not_u);
    x86_bt_ri(a, 4, RAX, 7);
    _Static_assert(ENVCFG_CBZE == 1u << 7, "envcfg.CBZE");
    uint8_t *denied = x86_jcc_fwd(a, X86_CC_AE); /* CF clear */
    x86_alu_ri(a, X86_AND, true, RSI, -64);
    uint8_t *miss = jit_emit_tlb(t, 64, true);
    x86_mov_ri(a, RAX, 0);
    for (int32_t i = 0; i < 64; i += 8)
        x86_store(a, RAX, x86_mem(RSI, i), 8);
    exec_cold_resume(t, exec_cold(t, in, denied, miss, &pre));
}

/* LR: the value and the reservation. */
static void emit_lr(struct tr *t, const struct rv_insn *in, unsigned size)
{
    struct x86_asm *a = &t->a;
    x86_load(a, RAX, x86_mem(RSI, 0), size, size == 4);
    x86_mov_ri(a, RDX, 1);
    x86_store(a, RDX, HART(resv_valid), 1);
    x86_store(a, RSI, HART(resv_addr), 8);
    x86_store(a, RAX, HART(resv_value), 8);
    store_x(t, RAX, in->rd);
}

/* SC: x[rs2] (in rcx) is stored if the reservation holds; rd = 0 on success, 1 otherwise. */
static void emit_sc(struct tr *t, const struct rv_insn *in, unsigned size)
{
    struct x86_asm *a = &t->a;
    x86_load(a, RDX, HART(resv_valid), 1, false);
    x86_test_rr(a, false, RDX, RDX);
    uint8_t *no_resv = x86_jcc_fwd(a, X86_CC_E);
    x86_alu_rm(a, X86_CMP, true, RSI, HART(resv_addr));
    uint8_t *other_addr = x86_jcc_fwd(a, X86_CC_NE);
    x86_load(a, RAX, HART(resv_value), 8, false);
    x86_lock_op_mem(a, size == 8, 0x0fb1, RCX, x86_mem(RSI, 0)); /* lock cmpxchg */
    x86_setcc(a, X86_CC_NE, RDX);
    x86_extend_rr(a, RDX, RDX, 1, false);
    uint8_t *done = x86_jmp_fwd(a);
    x86_bind(a, no_resv);
    x86_bind(a, other_addr);
    x86_mov_ri(a, RDX, 1);
    x86_bind(a, done);
    x86_mov_ri(a, RAX, 0);
    x86_store(a, RAX, HART(resv_valid), 1);
    store_x(t, RDX, in->rd);
}

/* An AMO with the value x[rs2] in rcx: the old value ends up in `*old`. */
static void emit_amo_op(struct tr *t, unsigned op, unsigned size, unsigned *old)
{
    struct x86_asm *a = &t->a;
    bool w = size == 8;
    switch (op) {
    case RV_OP_AMOSWAP_W:
        x86_op_mem(a, 0, w, 0x87, RCX, x86_mem(RSI, 0), false); /* xchg: locked */
        *old = RCX;
        return;
    case RV_OP_AMOADD_W:
        x86_lock_op_mem(a, w, 0x0fc1, RCX, x86_mem(RSI, 0)); /* lock xadd */
        *old = RCX;
        return;
    default: {
        /* and/or/xor: a compare-and-swap loop (cmpxchg reloads rax when it fails) */
        enum x86_alu alu = op == RV_OP_AMOAND_W ? X86_AND : op == RV_OP_AMOOR_W ? X86_OR
                                                                                 : X86_XOR;
        x86_load(a, RAX, x86_mem(RSI, 0), size, false);
        uintptr_t loop = x86_here(a);
        x86_mov_rr(a, RDX, RAX);
        x86_alu_rr(a, alu, w, RDX, RCX);
        x86_lock_op_mem(a, w, 0x0fb1, RDX, x86_mem(RSI, 0));
        x86_jcc(a, X86_CC_NE, loop);
        *old = RAX;
        return;
    }
    }
}

static bool amo_native(unsigned op)
{
    switch (op) {
    case RV_OP_LR_W: case RV_OP_SC_W: case RV_OP_AMOSWAP_W: case RV_OP_AMOADD_W:
    case RV_OP_AMOXOR_W: case RV_OP_AMOAND_W: case RV_OP_AMOOR_W:
        return true;
    default:
        return false; /* MIN/MAX: the interpreter, through emit_exec() */
    }
}

bool jit_emit_atomic(struct tr *t, const struct rv_insn *in)
{
    if (in->op == RV_OP_CBO_ZERO) {
        emit_cbo_zero(t, in);
        return true;
    }
    if (in->op < RV_OP_LR_W || in->op > RV_OP_AMOMAXU_D)
        return false;
    bool dbl = in->op >= RV_OP_LR_D;
    unsigned op = dbl ? in->op - (RV_OP_LR_D - RV_OP_LR_W) : in->op;
    unsigned size = dbl ? 8 : 4;
    if (!amo_native(op))
        return false;
    struct x86_asm *a = &t->a;
    if (op != RV_OP_LR_W)
        load_x(t, RCX, in->rs2);
    jit_emit_va(t, in->rs1, 0);
    struct regcache pre = t->rc;
    x86_mov_rr32(a, RAX, RSI);
    x86_alu_ri(a, X86_AND, false, RAX, (int32_t)size - 1);
    uint8_t *misaligned = x86_jcc_fwd(a, X86_CC_NE);
    uint8_t *miss = jit_emit_tlb(t, size, op != RV_OP_LR_W);
    if (op == RV_OP_LR_W) {
        emit_lr(t, in, size);
    } else if (op == RV_OP_SC_W) {
        emit_sc(t, in, size);
    } else {
        unsigned old;
        emit_amo_op(t, op, size, &old);
        if (dbl)
            store_x(t, old, in->rd);
        else
            store_x_w(t, old, in->rd);
    }
    exec_cold_resume(t, exec_cold(t, in, misaligned, miss, &pre));
    return true;
}
