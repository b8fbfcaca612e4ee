/* RISC-V instruction decoder (unprivileged spec chapters "RV32I"/"RV64I", "M", "A", "F", "D",
 * "C" (RVC expansion tables), "B", "Zicond", "Zicsr", "Zifencei", "CMO", "Zawrs"). */
#include "cpu/decode.h"

#include <stdbool.h>
#include <string.h>

static const char *const op_names[RV_OP_COUNT] = {
#define RV_OP_NAME(name) #name,
    RV_OPS(RV_OP_NAME)
#undef RV_OP_NAME
};

const char *rv_op_name(unsigned op)
{
    return op < RV_OP_COUNT ? op_names[op] : "?";
}

static inline uint32_t bits(uint32_t x, unsigned hi, unsigned lo)
{
    return (x >> lo) & ((1u << (hi - lo + 1)) - 1);
}

static inline int64_t sext(uint64_t x, unsigned width)
{
    return (int64_t)(x << (64 - width)) >> (64 - width);
}

static void decode_op(uint32_t r, struct rv_insn *d)
{
    unsigned f3 = bits(r, 14, 12), f7 = bits(r, 31, 25);
    static const uint16_t base[8] = {RV_OP_ADD, RV_OP_SLL, RV_OP_SLT, RV_OP_SLTU,
                                     RV_OP_XOR, RV_OP_SRL, RV_OP_OR,  RV_OP_AND};
    static const uint16_t muldiv[8] = {RV_OP_MUL, RV_OP_MULH, RV_OP_MULHSU, RV_OP_MULHU,
                                       RV_OP_DIV, RV_OP_DIVU, RV_OP_REM,    RV_OP_REMU};
    switch (f7) {
    case 0x00: d->op = base[f3]; return;
    case 0x01: d->op = muldiv[f3]; return;
    case 0x20:
        if (f3 == 0) d->op = RV_OP_SUB;
        else if (f3 == 5) d->op = RV_OP_SRA;
        else if (f3 == 7) d->op = RV_OP_ANDN;
        else if (f3 == 6) d->op = RV_OP_ORN;
        else if (f3 == 4) d->op = RV_OP_XNOR;
        return;
    case 0x10:
        if (f3 == 2) d->op = RV_OP_SH1ADD;
        else if (f3 == 4) d->op = RV_OP_SH2ADD;
        else if (f3 == 6) d->op = RV_OP_SH3ADD;
        return;
    case 0x05: {
        static const uint16_t ops[8] = {0, RV_OP_CLMUL, RV_OP_CLMULR, RV_OP_CLMULH,
                                        RV_OP_MIN, RV_OP_MINU, RV_OP_MAX, RV_OP_MAXU};
        d->op = ops[f3];
        return;
    }
    case 0x30:
        if (f3 == 1) d->op = RV_OP_ROL;
        else if (f3 == 5) d->op = RV_OP_ROR;
        return;
    case 0x24:
        if (f3 == 1) d->op = RV_OP_BCLR;
        else if (f3 == 5) d->op = RV_OP_BEXT;
        return;
    case 0x34:
        if (f3 == 1) d->op = RV_OP_BINV;
        return;
    case 0x14:
        if (f3 == 1) d->op = RV_OP_BSET;
        return;
    case 0x07:
        if (f3 == 5) d->op = RV_OP_CZERO_EQZ;
        else if (f3 == 7) d->op = RV_OP_CZERO_NEZ;
        return;
    }
}

static void decode_op32(uint32_t r, struct rv_insn *d)
{
    unsigned f3 = bits(r, 14, 12), f7 = bits(r, 31, 25);
    switch (f7) {
    case 0x00:
        if (f3 == 0) d->op = RV_OP_ADDW;
        else if (f3 == 1) d->op = RV_OP_SLLW;
        else if (f3 == 5) d->op = RV_OP_SRLW;
        return;
    case 0x20:
        if (f3 == 0) d->op = RV_OP_SUBW;
        else if (f3 == 5) d->op = RV_OP_SRAW;
        return;
    case 0x01: {
        static const uint16_t ops[8] = {RV_OP_MULW, 0, 0, 0, RV_OP_DIVW, RV_OP_DIVUW,
                                        RV_OP_REMW, RV_OP_REMUW};
        d->op = ops[f3];
        return;
    }
    case 0x04:
        if (f3 == 0) d->op = RV_OP_ADD_UW;
        else if (f3 == 4 && d->rs2 == 0) d->op = RV_OP_ZEXT_H;
        return;
    case 0x10:
        if (f3 == 2) d->op = RV_OP_SH1ADD_UW;
        else if (f3 == 4) d->op = RV_OP_SH2ADD_UW;
        else if (f3 == 6) d->op = RV_OP_SH3ADD_UW;
        return;
    case 0x30:
        if (f3 == 1) d->op = RV_OP_ROLW;
        else if (f3 == 5) d->op = RV_OP_RORW;
        return;
    }
}

static void decode_op_imm(uint32_t r, struct rv_insn *d)
{
    unsigned f3 = bits(r, 14, 12), f6 = bits(r, 31, 26), imm12 = bits(r, 31, 20);
    d->imm = sext(imm12, 12);
    switch (f3) {
    case 0: d->op = RV_OP_ADDI; return;
    case 2: d->op = RV_OP_SLTI; return;
    case 3: d->op = RV_OP_SLTIU; return;
    case 4: d->op = RV_OP_XORI; return;
    case 6: d->op = RV_OP_ORI; return; /* also Zicbop prefetch.* (rd = x0): a hint */
    case 7: d->op = RV_OP_ANDI; return;
    case 1:
        d->imm = bits(r, 25, 20);
        if (f6 == 0x00) d->op = RV_OP_SLLI;
        else if (f6 == 0x12) d->op = RV_OP_BCLRI;
        else if (f6 == 0x1a) d->op = RV_OP_BINVI;
        else if (f6 == 0x0a) d->op = RV_OP_BSETI;
        else if (imm12 == 0x600) d->op = RV_OP_CLZ;
        else if (imm12 == 0x601) d->op = RV_OP_CTZ;
        else if (imm12 == 0x602) d->op = RV_OP_CPOP;
        else if (imm12 == 0x604) d->op = RV_OP_SEXT_B;
        else if (imm12 == 0x605) d->op = RV_OP_SEXT_H;
        return;
    case 5:
        d->imm = bits(r, 25, 20);
        if (f6 == 0x00) d->op = RV_OP_SRLI;
        else if (f6 == 0x10) d->op = RV_OP_SRAI;
        else if (f6 == 0x18) d->op = RV_OP_RORI;
        else if (f6 == 0x12) d->op = RV_OP_BEXTI;
        else if (imm12 == 0x287) d->op = RV_OP_ORC_B;
        else if (imm12 == 0x6b8) d->op = RV_OP_REV8;
        return;
    }
}

static void decode_op_imm32(uint32_t r, struct rv_insn *d)
{
    unsigned f3 = bits(r, 14, 12), f7 = bits(r, 31, 25), imm12 = bits(r, 31, 20);
    switch (f3) {
    case 0:
        d->op = RV_OP_ADDIW;
        d->imm = sext(imm12, 12);
        return;
    case 1:
        d->imm = bits(r, 24, 20);
        if (f7 == 0x00) d->op = RV_OP_SLLIW;
        else if (bits(r, 31, 26) == 0x02) {
            d->op = RV_OP_SLLI_UW;
            d->imm = bits(r, 25, 20);
        } else if (imm12 == 0x600) d->op = RV_OP_CLZW;
        else if (imm12 == 0x601) d->op = RV_OP_CTZW;
        else if (imm12 == 0x602) d->op = RV_OP_CPOPW;
        return;
    case 5:
        d->imm = bits(r, 24, 20);
        if (f7 == 0x00) d->op = RV_OP_SRLIW;
        else if (f7 == 0x20) d->op = RV_OP_SRAIW;
        else if (f7 == 0x30) d->op = RV_OP_RORIW;
        return;
    }
}

static void decode_amo(uint32_t r, struct rv_insn *d)
{
    unsigned f3 = bits(r, 14, 12), f5 = bits(r, 31, 27);
    d->rm = bits(r, 26, 25); /* aq, rl */
    if (f3 != 2 && f3 != 3)
        return;
    static const uint16_t w[32] = {
        [0x02] = RV_OP_LR_W, [0x03] = RV_OP_SC_W, [0x01] = RV_OP_AMOSWAP_W,
        [0x00] = RV_OP_AMOADD_W, [0x04] = RV_OP_AMOXOR_W, [0x0c] = RV_OP_AMOAND_W,
        [0x08] = RV_OP_AMOOR_W, [0x10] = RV_OP_AMOMIN_W, [0x14] = RV_OP_AMOMAX_W,
        [0x18] = RV_OP_AMOMINU_W, [0x1c] = RV_OP_AMOMAXU_W,
    };
    unsigned op = w[f5];
    if (op == 0 && f5 != 0)
        return;
    if (op == RV_OP_LR_W && d->rs2 != 0)
        return;
    /* The .D forms follow the .W forms in the same order (decode.h). */
    d->op = f3 == 2 ? op : op + (RV_OP_LR_D - RV_OP_LR_W);
}

static void decode_fp(uint32_t r, struct rv_insn *d)
{
    unsigned f7 = bits(r, 31, 25), f3 = bits(r, 14, 12), rs2 = d->rs2;
    bool dbl = f7 & 1;
    unsigned fmt = f7 & 3;
    if (fmt > 1)
        return; /* H and Q formats are not implemented */
#define SD(s, dd) (dbl ? RV_OP_##dd : RV_OP_##s)
    switch (f7 >> 2) {
    case 0x00: d->op = SD(FADD_S, FADD_D); return;
    case 0x01: d->op = SD(FSUB_S, FSUB_D); return;
    case 0x02: d->op = SD(FMUL_S, FMUL_D); return;
    case 0x03: d->op = SD(FDIV_S, FDIV_D); return;
    case 0x0b:
        if (rs2 == 0) d->op = SD(FSQRT_S, FSQRT_D);
        return;
    case 0x04:
        if (f3 == 0) d->op = SD(FSGNJ_S, FSGNJ_D);
        else if (f3 == 1) d->op = SD(FSGNJN_S, FSGNJN_D);
        else if (f3 == 2) d->op = SD(FSGNJX_S, FSGNJX_D);
        return;
    case 0x05:
        if (f3 == 0) d->op = SD(FMIN_S, FMIN_D);
        else if (f3 == 1) d->op = SD(FMAX_S, FMAX_D);
        return;
    case 0x08:
        if (!dbl && rs2 == 1) d->op = RV_OP_FCVT_S_D;
        else if (dbl && rs2 == 0) d->op = RV_OP_FCVT_D_S;
        return;
    case 0x14:
        if (f3 == 2) d->op = SD(FEQ_S, FEQ_D);
        else if (f3 == 1) d->op = SD(FLT_S, FLT_D);
        else if (f3 == 0) d->op = SD(FLE_S, FLE_D);
        return;
    case 0x18: {
        static const uint16_t s[4] = {RV_OP_FCVT_W_S, RV_OP_FCVT_WU_S, RV_OP_FCVT_L_S,
                                      RV_OP_FCVT_LU_S};
        static const uint16_t dd[4] = {RV_OP_FCVT_W_D, RV_OP_FCVT_WU_D, RV_OP_FCVT_L_D,
                                       RV_OP_FCVT_LU_D};
        if (rs2 < 4) d->op = dbl ? dd[rs2] : s[rs2];
        return;
    }
    case 0x1a: {
        static const uint16_t s[4] = {RV_OP_FCVT_S_W, RV_OP_FCVT_S_WU, RV_OP_FCVT_S_L,
                                      RV_OP_FCVT_S_LU};
        static const uint16_t dd[4] = {RV_OP_FCVT_D_W, RV_OP_FCVT_D_WU, RV_OP_FCVT_D_L,
                                       RV_OP_FCVT_D_LU};
        if (rs2 < 4) d->op = dbl ? dd[rs2] : s[rs2];
        return;
    }
    case 0x1c:
        if (rs2 != 0) return;
        if (f3 == 0) d->op = SD(FMV_X_W, FMV_X_D);
        else if (f3 == 1) d->op = SD(FCLASS_S, FCLASS_D);
        return;
    case 0x1e:
        if (rs2 == 0 && f3 == 0) d->op = SD(FMV_W_X, FMV_D_X);
        return;
    }
#undef SD
}

static void decode_system(uint32_t r, struct rv_insn *d)
{
    unsigned f3 = bits(r, 14, 12);
    d->imm = bits(r, 31, 20);
    if (f3 == 0) {
        if (bits(r, 31, 25) == 0x09 && d->rd == 0) {
            d->op = RV_OP_SFENCE_VMA;
            return;
        }
        switch (r) {
        case 0x00000073: d->op = RV_OP_ECALL; return;
        case 0x00100073: d->op = RV_OP_EBREAK; return;
        case 0x10200073: d->op = RV_OP_SRET; return;
        case 0x30200073: d->op = RV_OP_MRET; return;
        case 0x10500073: d->op = RV_OP_WFI; return;
        case 0x00d00073: d->op = RV_OP_WRS_NTO; return;
        case 0x01d00073: d->op = RV_OP_WRS_STO; return;
        }
        return;
    }
    static const uint16_t csr[8] = {0, RV_OP_CSRRW, RV_OP_CSRRS, RV_OP_CSRRC,
                                    0, RV_OP_CSRRWI, RV_OP_CSRRSI, RV_OP_CSRRCI};
    d->op = csr[f3];
}

static void decode32(uint32_t r, struct rv_insn *d)
{
    unsigned f3 = bits(r, 14, 12);
    d->rd = bits(r, 11, 7);
    d->rs1 = bits(r, 19, 15);
    d->rs2 = bits(r, 24, 20);
    d->rs3 = bits(r, 31, 27);
    d->rm = f3;
    switch (bits(r, 6, 0)) {
    case 0x37: d->op = RV_OP_LUI; d->imm = sext(r & 0xfffff000u, 32); return;
    case 0x17: d->op = RV_OP_AUIPC; d->imm = sext(r & 0xfffff000u, 32); return;
    case 0x6f:
        d->op = RV_OP_JAL;
        d->imm = sext((bits(r, 31, 31) << 20) | (bits(r, 19, 12) << 12) | (bits(r, 20, 20) << 11) |
                          (bits(r, 30, 21) << 1),
                      21);
        return;
    case 0x67:
        if (f3 == 0) {
            d->op = RV_OP_JALR;
            d->imm = sext(bits(r, 31, 20), 12);
        }
        return;
    case 0x63: {
        static const uint16_t ops[8] = {RV_OP_BEQ, RV_OP_BNE, 0, 0,
                                        RV_OP_BLT, RV_OP_BGE, RV_OP_BLTU, RV_OP_BGEU};
        d->op = ops[f3];
        d->imm = sext((bits(r, 31, 31) << 12) | (bits(r, 7, 7) << 11) | (bits(r, 30, 25) << 5) |
                          (bits(r, 11, 8) << 1),
                      13);
        return;
    }
    case 0x03: {
        static const uint16_t ops[8] = {RV_OP_LB, RV_OP_LH, RV_OP_LW, RV_OP_LD,
                                        RV_OP_LBU, RV_OP_LHU, RV_OP_LWU, 0};
        d->op = ops[f3];
        d->imm = sext(bits(r, 31, 20), 12);
        return;
    }
    case 0x23: {
        static const uint16_t ops[8] = {RV_OP_SB, RV_OP_SH, RV_OP_SW, RV_OP_SD, 0, 0, 0, 0};
        d->op = ops[f3];
        d->imm = sext((bits(r, 31, 25) << 5) | bits(r, 11, 7), 12);
        return;
    }
    case 0x13: decode_op_imm(r, d); return;
    case 0x1b: decode_op_imm32(r, d); return;
    case 0x33: decode_op(r, d); return;
    case 0x3b: decode_op32(r, d); return;
    case 0x0f:
        if (f3 == 0) {
            d->op = RV_OP_FENCE; /* also PAUSE (Zihintpause) and FENCE.TSO */
        } else if (f3 == 1) {
            d->op = RV_OP_FENCE_I;
        } else if (f3 == 2 && d->rd == 0) {
            switch (bits(r, 31, 20)) {
            case 0: d->op = RV_OP_CBO_INVAL; break;
            case 1: d->op = RV_OP_CBO_CLEAN; break;
            case 2: d->op = RV_OP_CBO_FLUSH; break;
            case 4: d->op = RV_OP_CBO_ZERO; break;
            }
        }
        return;
    case 0x73: decode_system(r, d); return;
    case 0x2f: decode_amo(r, d); return;
    case 0x07:
        d->imm = sext(bits(r, 31, 20), 12);
        if (f3 == 2) d->op = RV_OP_FLW;
        else if (f3 == 3) d->op = RV_OP_FLD;
        return;
    case 0x27:
        d->imm = sext((bits(r, 31, 25) << 5) | bits(r, 11, 7), 12);
        if (f3 == 2) d->op = RV_OP_FSW;
        else if (f3 == 3) d->op = RV_OP_FSD;
        return;
    case 0x43: case 0x47: case 0x4b: case 0x4f: {
        unsigned fmt = bits(r, 26, 25);
        if (fmt > 1)
            return;
        static const uint16_t s[4] = {RV_OP_FMADD_S, RV_OP_FMSUB_S, RV_OP_FNMSUB_S, RV_OP_FNMADD_S};
        unsigned which = (bits(r, 6, 0) - 0x43) >> 2;
        d->op = s[which] + (fmt ? (RV_OP_FMADD_D - RV_OP_FMADD_S) : 0);
        return;
    }
    case 0x53: decode_fp(r, d); return;
    }
}

/* RVC (unprivileged spec chapter "C", tables of RVC opcode maps). Registers rd'/rs1'/rs2' are
 * x8..x15 (or f8..f15). */
static void decode16(uint32_t r, struct rv_insn *d)
{
    unsigned f3 = bits(r, 15, 13);
    unsigned rdp = 8 + bits(r, 4, 2), rs1p = 8 + bits(r, 9, 7);
    unsigned rd = bits(r, 11, 7), rs2 = bits(r, 6, 2);
    int64_t imm6 = sext((bits(r, 12, 12) << 5) | bits(r, 6, 2), 6);
    switch (((r & 3) << 3) | f3) {
    /* quadrant 0 */
    case 0x00: { /* C.ADDI4SPN */
        uint32_t nz = (bits(r, 10, 7) << 6) | (bits(r, 12, 11) << 4) | (bits(r, 5, 5) << 3) |
                      (bits(r, 6, 6) << 2);
        if (nz == 0) return;
        d->op = RV_OP_ADDI; d->rd = rdp; d->rs1 = 2; d->imm = nz;
        return;
    }
    case 0x01: case 0x03: case 0x05: case 0x07: { /* C.FLD C.LD C.FSD C.SD */
        static const uint16_t ops[8] = {0, RV_OP_FLD, 0, RV_OP_LD, 0, RV_OP_FSD, 0, RV_OP_SD};
        d->op = ops[f3];
        d->rs1 = rs1p; d->rd = rdp; d->rs2 = rdp;
        d->imm = (bits(r, 12, 10) << 3) | (bits(r, 6, 5) << 6);
        return;
    }
    case 0x02: case 0x06: /* C.LW C.SW */
        d->op = f3 == 2 ? RV_OP_LW : RV_OP_SW;
        d->rs1 = rs1p; d->rd = rdp; d->rs2 = rdp;
        d->imm = (bits(r, 12, 10) << 3) | (bits(r, 6, 6) << 2) | (bits(r, 5, 5) << 6);
        return;
    /* quadrant 1 */
    case 0x08: /* C.ADDI (rd = 0: C.NOP) */
        d->op = RV_OP_ADDI; d->rd = rd; d->rs1 = rd; d->imm = imm6;
        return;
    case 0x09: /* C.ADDIW */
        if (rd == 0) return;
        d->op = RV_OP_ADDIW; d->rd = rd; d->rs1 = rd; d->imm = imm6;
        return;
    case 0x0a: /* C.LI */
        d->op = RV_OP_ADDI; d->rd = rd; d->rs1 = 0; d->imm = imm6;
        return;
    case 0x0b:
        if (rd == 2) { /* C.ADDI16SP */
            int64_t nz = sext((bits(r, 12, 12) << 9) | (bits(r, 4, 3) << 7) | (bits(r, 5, 5) << 6) |
                                  (bits(r, 2, 2) << 5) | (bits(r, 6, 6) << 4),
                              10);
            if (nz == 0) return;
            d->op = RV_OP_ADDI; d->rd = 2; d->rs1 = 2; d->imm = nz;
        } else { /* C.LUI */
            if (imm6 == 0) return;
            d->op = RV_OP_LUI; d->rd = rd; d->imm = (int64_t)((uint64_t)imm6 << 12);
        }
        return;
    case 0x0c: {
        unsigned f2 = bits(r, 11, 10);
        d->rd = rs1p; d->rs1 = rs1p; d->rs2 = rdp;
        if (f2 == 0) {
            d->op = RV_OP_SRLI; d->imm = (bits(r, 12, 12) << 5) | bits(r, 6, 2);
        } else if (f2 == 1) {
            d->op = RV_OP_SRAI; d->imm = (bits(r, 12, 12) << 5) | bits(r, 6, 2);
        } else if (f2 == 2) {
            d->op = RV_OP_ANDI; d->imm = imm6;
        } else {
            static const uint16_t ops[8] = {RV_OP_SUB, RV_OP_XOR, RV_OP_OR, RV_OP_AND,
                                            RV_OP_SUBW, RV_OP_ADDW, 0, 0};
            d->op = ops[(bits(r, 12, 12) << 2) | bits(r, 6, 5)];
        }
        return;
    }
    case 0x0d: /* C.J */
        d->op = RV_OP_JAL; d->rd = 0;
        d->imm = sext((bits(r, 12, 12) << 11) | (bits(r, 8, 8) << 10) | (bits(r, 10, 9) << 8) |
                          (bits(r, 6, 6) << 7) | (bits(r, 7, 7) << 6) | (bits(r, 2, 2) << 5) |
                          (bits(r, 11, 11) << 4) | (bits(r, 5, 3) << 1),
                      12);
        return;
    case 0x0e: case 0x0f: /* C.BEQZ C.BNEZ */
        d->op = f3 == 6 ? RV_OP_BEQ : RV_OP_BNE; d->rs1 = rs1p; d->rs2 = 0;
        d->imm = sext((bits(r, 12, 12) << 8) | (bits(r, 6, 5) << 6) | (bits(r, 2, 2) << 5) |
                          (bits(r, 11, 10) << 3) | (bits(r, 4, 3) << 1),
                      9);
        return;
    /* quadrant 2 */
    case 0x10: /* C.SLLI */
        d->op = RV_OP_SLLI; d->rd = rd; d->rs1 = rd; d->imm = (bits(r, 12, 12) << 5) | bits(r, 6, 2);
        return;
    case 0x11: case 0x13: /* C.FLDSP C.LDSP */
        if (f3 == 3 && rd == 0) return;
        d->op = f3 == 1 ? RV_OP_FLD : RV_OP_LD; d->rd = rd; d->rs1 = 2;
        d->imm = (bits(r, 12, 12) << 5) | (bits(r, 6, 5) << 3) | (bits(r, 4, 2) << 6);
        return;
    case 0x12: /* C.LWSP */
        if (rd == 0) return;
        d->op = RV_OP_LW; d->rd = rd; d->rs1 = 2;
        d->imm = (bits(r, 12, 12) << 5) | (bits(r, 6, 4) << 2) | (bits(r, 3, 2) << 6);
        return;
    case 0x14:
        if (bits(r, 12, 12) == 0) {
            if (rs2 == 0) { /* C.JR */
                if (rd == 0) return;
                d->op = RV_OP_JALR; d->rd = 0; d->rs1 = rd; d->imm = 0;
            } else { /* C.MV */
                d->op = RV_OP_ADD; d->rd = rd; d->rs1 = 0; d->rs2 = rs2;
            }
        } else {
            if (rd == 0 && rs2 == 0) {
                d->op = RV_OP_EBREAK;
            } else if (rs2 == 0) { /* C.JALR */
                d->op = RV_OP_JALR; d->rd = 1; d->rs1 = rd; d->imm = 0;
            } else { /* C.ADD */
                d->op = RV_OP_ADD; d->rd = rd; d->rs1 = rd; d->rs2 = rs2;
            }
        }
        return;
    case 0x15: case 0x17: /* C.FSDSP C.SDSP */
        d->op = f3 == 5 ? RV_OP_FSD : RV_OP_SD; d->rs1 = 2; d->rs2 = rs2;
        d->imm = (bits(r, 12, 10) << 3) | (bits(r, 9, 7) << 6);
        return;
    case 0x16: /* C.SWSP */
        d->op = RV_OP_SW; d->rs1 = 2; d->rs2 = rs2;
        d->imm = (bits(r, 12, 9) << 2) | (bits(r, 8, 7) << 6);
        return;
    }
}

void rv_decode(uint32_t raw, struct rv_insn *out)
{
    memset(out, 0, sizeof(*out));
    out->op = RV_OP_ILLEGAL;
    if ((raw & 3) == 3) {
        out->raw = raw;
        out->len = 4;
        if ((raw & 0x1c) != 0x1c) /* 48-bit and longer encodings are not supported */
            decode32(raw, out);
    } else {
        raw &= 0xffff;
        out->raw = raw;
        out->len = 2;
        decode16(raw, out);
    }
}
