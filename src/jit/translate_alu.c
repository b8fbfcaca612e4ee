/* Native translation of the operations that only compute a register from registers (RV64I,
 * M, Zba, Zbb, Zbs, Zicond) and FENCE. The results equal exec.c's, which is the reference. */
#include "jit/translate.h"

enum { NOT = 2, NEG = 3, MUL = 4, IMUL = 5, DIV = 6, IDIV = 7 }; /* x86_f7() digits */

/* x[rd] = x[rs1] op imm */
static void alu_imm(struct tr *t, enum x86_alu op, const struct rv_insn *in)
{
    struct x86_asm *a = &t->a;
    if (in->rs1 == in->rd) {
        if (in->imm != 0 || op == X86_AND) {
            jit_rc_get(t, in->rd);
            x86_alu_ri(a, op, true, jit_rc_def(t, in->rd), (int32_t)in->imm);
        }
        return;
    }
    if (in->rs1 != 0) { /* rd = rs1 op imm, in rd's host register */
        unsigned h1 = jit_rc_get(t, in->rs1), hd = jit_rc_def(t, in->rd);
        if (op == X86_ADD) {
            x86_lea(a, hd, x86_mem(h1, (int32_t)in->imm));
        } else {
            x86_mov_rr(a, hd, h1);
            x86_alu_ri(a, op, true, hd, (int32_t)in->imm);
        }
        return;
    }
    load_x(t, RAX, in->rs1);
    x86_alu_ri(a, op, true, RAX, (int32_t)in->imm);
    store_x(t, RAX, in->rd);
}

static bool commutes(enum x86_alu op)
{
    return op == X86_ADD || op == X86_AND || op == X86_OR || op == X86_XOR;
}

/* x[rd] = x[rs] (c.mv and the other moves compilers write as add/or/xor with x0) */
static void move_reg(struct tr *t, unsigned rd, unsigned rs)
{
    if (rs == 0) {
        set_reg_imm(t, rd, 0);
    } else if (rd != rs) {
        unsigned h = jit_rc_get(t, rs);
        x86_mov_rr(&t->a, jit_rc_def(t, rd), h);
    }
}

/* the 64-bit forms with x0 as an operand, without the generic path through rax; false if
 * neither operand is x0 */
static bool alu_reg_x0(struct tr *t, enum x86_alu op, const struct rv_insn *in)
{
    unsigned rs1 = in->rs1, rs2 = in->rs2;
    if (rs1 != 0 && rs2 != 0)
        return false;
    if (op == X86_AND) {
        set_reg_imm(t, in->rd, 0);
    } else if (rs2 == 0) { /* add, sub, or, xor: x[rs1] */
        move_reg(t, in->rd, rs1);
    } else if (op != X86_SUB) {
        move_reg(t, in->rd, rs2);
    } else { /* neg (rd may be rs2: get it before defining rd) */
        unsigned h = jit_rc_get(t, rs2), hd = jit_rc_def(t, in->rd);
        if (hd != h)
            x86_mov_rr(&t->a, hd, h);
        x86_f7(&t->a, NEG, true, hd);
    }
    return true;
}

/* x[rd] = x[rs1] op x[rs2], 64 or 32 bits */
static void alu_reg(struct tr *t, enum x86_alu op, bool wide, const struct rv_insn *in)
{
    struct x86_asm *a = &t->a;
    if (wide && alu_reg_x0(t, op, in))
        return;
    if (wide) {
        /* two-address form in the host registers of the cache (the two sources are the most
         * recently used slots, so defining rd never evicts them) */
        unsigned h1 = jit_rc_get(t, in->rs1), h2 = jit_rc_get(t, in->rs2);
        if (in->rd == in->rs1) {
            x86_alu_rr(a, op, true, jit_rc_def(t, in->rd), h2);
            return;
        }
        if (in->rd == in->rs2 && commutes(op)) {
            x86_alu_rr(a, op, true, jit_rc_def(t, in->rd), h1);
            return;
        }
        if (in->rd != in->rs2) {
            unsigned hd = jit_rc_def(t, in->rd);
            x86_mov_rr(a, hd, h1);
            x86_alu_rr(a, op, true, hd, h2);
            return;
        }
        if (op == X86_SUB) { /* rd = rs1 - rd: -rd + rs1 */
            unsigned hd = jit_rc_def(t, in->rd);
            x86_f7(a, NEG, true, hd);
            x86_alu_rr(a, X86_ADD, true, hd, h1);
            return;
        }
    }
    if (wide)
        load_x(t, RAX, in->rs1);
    else
        load_x32(t, RAX, in->rs1);
    alu_x(t, op, wide, RAX, in->rs2);
    if (wide)
        store_x(t, RAX, in->rd);
    else
        store_x_w(t, RAX, in->rd);
}

/* x[rd] = (x[rs1] cc second operand) ? 1 : 0; `imm`: compare with in->imm */
static void set_cc(struct tr *t, enum x86_cc cc, bool imm, const struct rv_insn *in)
{
    struct x86_asm *a = &t->a;
    unsigned h1 = RAX;
    if (in->rs1)
        h1 = jit_rc_get(t, in->rs1);
    else
        x86_mov_ri(a, RAX, 0);
    /* xor before the comparison (it changes the flags): setcc writes only cl, and without
     * the zeroing idiom it would wait for whatever last wrote rcx */
    x86_mov_ri(a, RCX, 0);
    if (imm)
        x86_alu_ri(a, X86_CMP, true, h1, (int32_t)in->imm);
    else
        alu_x(t, X86_CMP, true, h1, in->rs2);
    x86_setcc(a, cc, RCX);
    /* defining rd may store an evicted slot back: a mov, which leaves rcx alone */
    x86_mov_rr(a, jit_rc_def(t, in->rd), RCX);
}

static void shift_imm(struct tr *t, enum x86_shift op, bool wide, const struct rv_insn *in)
{
    if (wide) {
        if (in->rs1 != 0) { /* in rd's host register */
            unsigned h1 = jit_rc_get(t, in->rs1), hd = jit_rc_def(t, in->rd);
            if (hd != h1)
                x86_mov_rr(&t->a, hd, h1);
            x86_shift_ri(&t->a, op, true, hd, (unsigned)in->imm);
            return;
        }
        load_x(t, RAX, in->rs1);
        x86_shift_ri(&t->a, op, true, RAX, (unsigned)in->imm);
        store_x(t, RAX, in->rd);
    } else {
        load_x32(t, RAX, in->rs1);
        x86_shift_ri(&t->a, op, false, RAX, (unsigned)in->imm);
        store_x_w(t, RAX, in->rd);
    }
}

/* x86 masks the count to 6 bits (5 for 32-bit operands), as RISC-V does. */
static void shift_reg(struct tr *t, enum x86_shift op, bool wide, const struct rv_insn *in)
{
    load_x32(t, RCX, in->rs2);
    if (wide && in->rs1 != 0) { /* in rd's host register */
        unsigned h1 = jit_rc_get(t, in->rs1), hd = jit_rc_def(t, in->rd);
        if (hd != h1)
            x86_mov_rr(&t->a, hd, h1);
        x86_shift_cl(&t->a, op, true, hd);
        return;
    }
    if (wide) {
        load_x(t, RAX, in->rs1);
        x86_shift_cl(&t->a, op, true, RAX);
        store_x(t, RAX, in->rd);
    } else {
        load_x32(t, RAX, in->rs1);
        x86_shift_cl(&t->a, op, false, RAX);
        store_x_w(t, RAX, in->rd);
    }
}

/* rax = x[rs1], rcx = x[rs2] (64 bits, or 32 zero-extended) */
static void load_pair(struct tr *t, const struct rv_insn *in, bool wide)
{
    if (wide) {
        load_x(t, RAX, in->rs1);
        load_x(t, RCX, in->rs2);
    } else {
        load_x32(t, RAX, in->rs1);
        load_x32(t, RCX, in->rs2);
    }
}

/* DIV[U][W], REM[U][W] with RISC-V's results for a zero divisor and for overflow (M chapter,
 * "Division Operations"): no host exception can happen. */
static void emit_div(struct tr *t, const struct rv_insn *in, bool sign, bool rem, bool wide)
{
    struct x86_asm *a = &t->a;
    load_pair(t, in, wide);
    x86_test_rr(a, wide, RCX, RCX);
    uint8_t *zero = x86_jcc_fwd(a, X86_CC_E);
    uint8_t *done1 = NULL;
    if (sign) {
        x86_alu_ri(a, X86_CMP, wide, RCX, -1);
        uint8_t *normal = x86_jcc_fwd(a, X86_CC_NE);
        if (rem)
            x86_mov_ri(a, RAX, 0);
        else
            x86_f7(a, NEG, wide, RAX); /* wraps for the most negative dividend, as required */
        done1 = x86_jmp_fwd(a);
        x86_bind(a, normal);
        if (wide)
            x86_cqo(a);
        else
            x86_cdq(a);
        x86_f7(a, IDIV, wide, RCX);
    } else {
        x86_mov_ri(a, RDX, 0);
        x86_f7(a, DIV, wide, RCX);
    }
    if (rem)
        x86_mov_rr(a, RAX, RDX);
    uint8_t *done2 = x86_jmp_fwd(a);
    x86_bind(a, zero);
    if (!rem)
        x86_mov_ri(a, RAX, UINT64_MAX); /* quotient all ones; the remainder is the dividend */
    x86_bind(a, done1);
    x86_bind(a, done2);
    if (wide)
        store_x(t, RAX, in->rd);
    else
        store_x_w(t, RAX, in->rd);
}

/* x[rd] = x[rs2] + (x[rs1] << shift), x[rs1] zero-extended from 32 bits for the .uw forms */
static void shadd(struct tr *t, const struct rv_insn *in, unsigned shift, bool uw)
{
    if (uw)
        load_x32(t, RAX, in->rs1);
    else
        load_x(t, RAX, in->rs1);
    load_x(t, RCX, in->rs2);
    x86_lea(&t->a, RAX, x86_mem_idx(RCX, RAX, shift, 0));
    store_x(t, RAX, in->rd);
}

static void minmax(struct tr *t, const struct rv_insn *in, enum x86_cc take_rs2)
{
    load_pair(t, in, true);
    x86_alu_rr(&t->a, X86_CMP, true, RAX, RCX);
    x86_cmov(&t->a, take_rs2, RAX, RCX);
    store_x(t, RAX, in->rd);
}

/* F3 0F xx counts (lzcnt/tzcnt/popcnt) of x[rs1], 64 or 32 bits */
static void count(struct tr *t, const struct rv_insn *in, unsigned op, bool wide)
{
    if (wide)
        load_x(t, RCX, in->rs1);
    else
        load_x32(t, RCX, in->rs1);
    x86_f3_0f(&t->a, op, wide, RAX, RCX);
    store_x(t, RAX, in->rd);
}

static void bit_reg(struct tr *t, const struct rv_insn *in, unsigned op)
{
    load_pair(t, in, true);
    x86_bt_rr(&t->a, op, RAX, RCX);
    store_x(t, RAX, in->rd);
}

static void bit_imm(struct tr *t, const struct rv_insn *in, unsigned digit)
{
    load_x(t, RAX, in->rs1);
    x86_bt_ri(&t->a, digit, RAX, (unsigned)in->imm);
    store_x(t, RAX, in->rd);
}

static void czero(struct tr *t, const struct rv_insn *in, enum x86_cc zero_if)
{
    if (in->rs2 == 0) { /* x[rs2] is zero: EQZ gives 0, NEZ gives x[rs1] */
        load_x(t, RAX, zero_if == X86_CC_E ? 0 : in->rs1);
        store_x(t, RAX, in->rd);
        return;
    }
    load_x(t, RAX, in->rs1);
    x86_mov_ri(&t->a, RCX, 0);
    x86_test_rr(&t->a, true, jit_rc_get(t, in->rs2), jit_rc_get(t, in->rs2));
    x86_cmov(&t->a, zero_if, RAX, RCX);
    store_x(t, RAX, in->rd);
}

static bool emit(struct tr *t, const struct rv_insn *in)
{
    struct x86_asm *a = &t->a;
    unsigned rd = in->rd;
    switch (in->op) {
    case RV_OP_LUI: set_reg_imm(t, rd, (uint64_t)in->imm); return true;
    case RV_OP_AUIPC: set_reg_imm(t, rd, t->pc + (uint64_t)in->imm); return true;
    case RV_OP_ADDI:
        if (in->rs1 == 0)
            set_reg_imm(t, rd, (uint64_t)in->imm);
        else
            alu_imm(t, X86_ADD, in);
        return true;
    case RV_OP_XORI: alu_imm(t, X86_XOR, in); return true;
    case RV_OP_ORI: alu_imm(t, X86_OR, in); return true;
    case RV_OP_ANDI: alu_imm(t, X86_AND, in); return true;
    case RV_OP_SLTI: set_cc(t, X86_CC_L, true, in); return true;
    case RV_OP_SLTIU: set_cc(t, X86_CC_B, true, in); return true;
    case RV_OP_SLLI: shift_imm(t, X86_SHL, true, in); return true;
    case RV_OP_SRLI: shift_imm(t, X86_SHR, true, in); return true;
    case RV_OP_SRAI: shift_imm(t, X86_SAR, true, in); return true;
    case RV_OP_ADD: alu_reg(t, X86_ADD, true, in); return true;
    case RV_OP_SUB: alu_reg(t, X86_SUB, true, in); return true;
    case RV_OP_AND: alu_reg(t, X86_AND, true, in); return true;
    case RV_OP_OR: alu_reg(t, X86_OR, true, in); return true;
    case RV_OP_XOR: alu_reg(t, X86_XOR, true, in); return true;
    case RV_OP_SLL: shift_reg(t, X86_SHL, true, in); return true;
    case RV_OP_SRL: shift_reg(t, X86_SHR, true, in); return true;
    case RV_OP_SRA: shift_reg(t, X86_SAR, true, in); return true;
    case RV_OP_SLT: set_cc(t, X86_CC_L, false, in); return true;
    case RV_OP_SLTU: set_cc(t, X86_CC_B, false, in); return true;
    case RV_OP_ADDIW:
        if (in->rs1 != 0) { /* sext.w is addiw rd, rs1, 0 */
            unsigned h1 = jit_rc_get(t, in->rs1), hd = jit_rc_def(t, rd);
            if (in->imm) {
                x86_lea32(a, hd, x86_mem(h1, (int32_t)in->imm));
                h1 = hd;
            }
            x86_extend_rr(a, hd, h1, 4, true);
            return true;
        }
        set_reg_imm(t, rd, (uint64_t)in->imm); /* a 12-bit immediate: already sign-extended */
        return true;
    case RV_OP_SLLIW: shift_imm(t, X86_SHL, false, in); return true;
    case RV_OP_SRLIW: shift_imm(t, X86_SHR, false, in); return true;
    case RV_OP_SRAIW: shift_imm(t, X86_SAR, false, in); return true;
    case RV_OP_ADDW: alu_reg(t, X86_ADD, false, in); return true;
    case RV_OP_SUBW: alu_reg(t, X86_SUB, false, in); return true;
    case RV_OP_SLLW: shift_reg(t, X86_SHL, false, in); return true;
    case RV_OP_SRLW: shift_reg(t, X86_SHR, false, in); return true;
    case RV_OP_SRAW: shift_reg(t, X86_SAR, false, in); return true;

    case RV_OP_MUL:
        if (in->rs1 == 0 || in->rs2 == 0) {
            set_reg_imm(t, rd, 0);
        } else {
            unsigned h1 = jit_rc_get(t, in->rs1), h2 = jit_rc_get(t, in->rs2);
            unsigned hd = jit_rc_def(t, rd);
            if (hd == h2) {
                h2 = h1;
            } else if (hd != h1) {
                x86_mov_rr(a, hd, h1);
            }
            x86_imul_rr(a, true, hd, h2);
        }
        return true;
    case RV_OP_MULW:
        load_pair(t, in, in->op == RV_OP_MUL);
        x86_imul_rr(a, in->op == RV_OP_MUL, RAX, RCX);
        if (in->op == RV_OP_MUL)
            store_x(t, RAX, rd);
        else
            store_x_w(t, RAX, rd);
        return true;
    case RV_OP_MULH:
    case RV_OP_MULHU:
        load_pair(t, in, true);
        x86_f7(a, in->op == RV_OP_MULH ? IMUL : MUL, true, RCX);
        store_x(t, RDX, rd);
        return true;
    case RV_OP_MULHSU:
        /* signed x unsigned: the unsigned high half minus x[rs2] if x[rs1] < 0 */
        load_pair(t, in, true);
        x86_f7(a, MUL, true, RCX);
        load_x(t, RAX, in->rs1);
        x86_shift_ri(a, X86_SAR, true, RAX, 63);
        x86_alu_rr(a, X86_AND, true, RAX, RCX);
        x86_alu_rr(a, X86_SUB, true, RDX, RAX);
        store_x(t, RDX, rd);
        return true;
    case RV_OP_DIV: emit_div(t, in, true, false, true); return true;
    case RV_OP_DIVU: emit_div(t, in, false, false, true); return true;
    case RV_OP_REM: emit_div(t, in, true, true, true); return true;
    case RV_OP_REMU: emit_div(t, in, false, true, true); return true;
    case RV_OP_DIVW: emit_div(t, in, true, false, false); return true;
    case RV_OP_DIVUW: emit_div(t, in, false, false, false); return true;
    case RV_OP_REMW: emit_div(t, in, true, true, false); return true;
    case RV_OP_REMUW: emit_div(t, in, false, true, false); return true;

    case RV_OP_ADD_UW: shadd(t, in, 0, true); return true;
    case RV_OP_SH1ADD: shadd(t, in, 1, false); return true;
    case RV_OP_SH2ADD: shadd(t, in, 2, false); return true;
    case RV_OP_SH3ADD: shadd(t, in, 3, false); return true;
    case RV_OP_SH1ADD_UW: shadd(t, in, 1, true); return true;
    case RV_OP_SH2ADD_UW: shadd(t, in, 2, true); return true;
    case RV_OP_SH3ADD_UW: shadd(t, in, 3, true); return true;
    case RV_OP_SLLI_UW:
        load_x32(t, RAX, in->rs1);
        x86_shift_ri(a, X86_SHL, true, RAX, (unsigned)in->imm);
        store_x(t, RAX, rd);
        return true;

    case RV_OP_ANDN:
    case RV_OP_ORN:
        load_x(t, RAX, in->rs2);
        x86_f7(a, NOT, true, RAX);
        alu_x(t, in->op == RV_OP_ANDN ? X86_AND : X86_OR, true, RAX, in->rs1);
        store_x(t, RAX, rd);
        return true;
    case RV_OP_XNOR:
        load_x(t, RAX, in->rs1);
        alu_x(t, X86_XOR, true, RAX, in->rs2);
        x86_f7(a, NOT, true, RAX);
        store_x(t, RAX, rd);
        return true;
    case RV_OP_CLZ: case RV_OP_CLZW:
        if (!t->j->lzcnt)
            return false;
        count(t, in, 0xbd, in->op == RV_OP_CLZ);
        return true;
    case RV_OP_CTZ: case RV_OP_CTZW:
        if (!t->j->bmi1)
            return false;
        count(t, in, 0xbc, in->op == RV_OP_CTZ);
        return true;
    case RV_OP_CPOP: case RV_OP_CPOPW:
        if (!t->j->popcnt)
            return false;
        count(t, in, 0xb8, in->op == RV_OP_CPOP);
        return true;
    case RV_OP_MAX: minmax(t, in, X86_CC_L); return true;
    case RV_OP_MIN: minmax(t, in, X86_CC_G); return true;
    case RV_OP_MAXU: minmax(t, in, X86_CC_B); return true;
    case RV_OP_MINU: minmax(t, in, X86_CC_A); return true;
    case RV_OP_SEXT_B:
    case RV_OP_SEXT_H:
    case RV_OP_ZEXT_H:
        load_x(t, RAX, in->rs1);
        x86_extend_rr(a, RAX, RAX, in->op == RV_OP_SEXT_B ? 1 : 2, in->op != RV_OP_ZEXT_H);
        store_x(t, RAX, rd);
        return true;
    case RV_OP_ROL: shift_reg(t, X86_ROL, true, in); return true;
    case RV_OP_ROR: shift_reg(t, X86_ROR, true, in); return true;
    case RV_OP_ROLW: shift_reg(t, X86_ROL, false, in); return true;
    case RV_OP_RORW: shift_reg(t, X86_ROR, false, in); return true;
    case RV_OP_RORI: shift_imm(t, X86_ROR, true, in); return true;
    case RV_OP_RORIW: shift_imm(t, X86_ROR, false, in); return true;
    case RV_OP_ORC_B:
        /* per byte: bit 7 of ((x & 0x7f) + 0x7f) | x is set iff the byte is nonzero (no
         * carry crosses bytes); that bit times 0xff is the byte of the result */
        load_x(t, RAX, in->rs1);
        x86_mov_ri(a, RDX, 0x7f7f7f7f7f7f7f7full);
        x86_mov_rr(a, RCX, RAX);
        x86_alu_rr(a, X86_AND, true, RCX, RDX);
        x86_alu_rr(a, X86_ADD, true, RCX, RDX);
        x86_alu_rr(a, X86_OR, true, RCX, RAX);
        x86_f7(a, NOT, true, RDX);
        x86_alu_rr(a, X86_AND, true, RCX, RDX);
        x86_shift_ri(a, X86_SHR, true, RCX, 7);
        x86_mov_rr(a, RAX, RCX);
        x86_shift_ri(a, X86_SHL, true, RAX, 8);
        x86_alu_rr(a, X86_SUB, true, RAX, RCX);
        store_x(t, RAX, rd);
        return true;
    case RV_OP_REV8:
        load_x(t, RAX, in->rs1);
        x86_bswap(a, RAX);
        store_x(t, RAX, rd);
        return true;

    case RV_OP_BCLR: bit_reg(t, in, 0xb3); return true;
    case RV_OP_BSET: bit_reg(t, in, 0xab); return true;
    case RV_OP_BINV: bit_reg(t, in, 0xbb); return true;
    case RV_OP_BCLRI: bit_imm(t, in, 6); return true;
    case RV_OP_BSETI: bit_imm(t, in, 5); return true;
    case RV_OP_BINVI: bit_imm(t, in, 7); return true;
    case RV_OP_BEXT:
        load_pair(t, in, true);
        x86_mov_ri(a, RDX, 0);
        x86_bt_rr(a, 0xa3, RAX, RCX);
        x86_setcc(a, X86_CC_B, RDX);
        store_x(t, RDX, rd);
        return true;
    case RV_OP_BEXTI:
        load_x(t, RAX, in->rs1);
        x86_shift_ri(a, X86_SHR, true, RAX, (unsigned)in->imm);
        x86_alu_ri(a, X86_AND, false, RAX, 1);
        store_x(t, RAX, rd);
        return true;
    case RV_OP_CZERO_EQZ: czero(t, in, X86_CC_E); return true;
    case RV_OP_CZERO_NEZ: czero(t, in, X86_CC_NE); return true;
    default:
        return false;
    }
}

bool jit_emit_alu(struct tr *t, const struct rv_insn *in)
{
    if (in->op == RV_OP_WRS_NTO || in->op == RV_OP_WRS_STO || in->raw == RV_PAUSE) {
        /* Spin-wait hints. Zawrs lets WRS.NTO/STO end at any time, and the interpreter ends
         * them at once (exec.c): here they stay in the block as a host PAUSE, which gives the
         * host core's other logical CPU (often the other hart, holding the lock waited
         * for) its resources; the spin loop's next block entry checks for interrupts. */
        x86_pause(&t->a);
        return true;
    }
    if (in->op == RV_OP_FENCE) {
        /* x86 is TSO: only ordering earlier stores before later loads (pred.W, succ.R) needs
         * a host barrier, as in exec.c. */
        if ((in->raw & (1u << 24)) && (in->raw & (1u << 21)))
            x86_mfence(&t->a);
        return true;
    }
    if (in->rd == 0) {
        /* Everything here only writes rd: with rd = x0 it is a no-op (a HINT). Find out
         * whether the operation is one of ours without keeping the code. */
        struct x86_asm mark = t->a;
        struct regcache rc = t->rc;
        bool ours = emit(t, in);
        t->a = mark;
        t->rc = rc;
        return ours;
    }
    return emit(t, in);
}

bool jit_emit_alu_pair(struct tr *t, const struct rv_insn *a, const struct rv_insn *b)
{
    /* slli rd, rs, 32; srli/srai rd, rd, N (N >= 32): the low 32 bits of rs zero- or
     * sign-extended, shifted right by N - 32 (zext.w and its shifted forms in RV64 code
     * without Zba; the intermediate rs << 32 is overwritten by the second) */
    if (a->op != RV_OP_SLLI || a->imm != 32 || a->rd == 0 || a->rs1 == 0)
        return false;
    bool sign = b->op == RV_OP_SRAI;
    if ((b->op != RV_OP_SRLI && !sign) || b->rd != a->rd || b->rs1 != a->rd || b->imm < 32)
        return false;
    unsigned h = jit_rc_get(t, a->rs1), hd = jit_rc_def(t, a->rd);
    x86_extend_rr(&t->a, hd, h, 4, sign);
    if (b->imm > 32)
        x86_shift_ri(&t->a, sign ? X86_SAR : X86_SHR, true, hd, (unsigned)b->imm - 32);
    return true;
}
