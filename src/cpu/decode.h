/* The one RISC-V decoder, shared by the interpreter and (later) the translator.
 * Compressed instructions decode to the operation of their 32-bit expansion with len = 2. */
#ifndef RV_CPU_DECODE_H
#define RV_CPU_DECODE_H

#include <stdint.h>

#define RV_OPS(X)                                                                              \
    X(ILLEGAL) X(LUI) X(AUIPC) X(JAL) X(JALR)                                                  \
    X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU) X(BGEU)                                                \
    X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU) X(SB) X(SH) X(SW) X(SD)                       \
    X(ADDI) X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI)                    \
    X(ADD) X(SUB) X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND)                      \
    X(ADDIW) X(SLLIW) X(SRLIW) X(SRAIW) X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW)                \
    X(FENCE) X(FENCE_I) X(ECALL) X(EBREAK) X(MRET) X(SRET) X(WFI) X(SFENCE_VMA)                \
    X(WRS_NTO) X(WRS_STO) X(CBO_INVAL) X(CBO_CLEAN) X(CBO_FLUSH) X(CBO_ZERO)                   \
    X(CSRRW) X(CSRRS) X(CSRRC) X(CSRRWI) X(CSRRSI) X(CSRRCI)                                   \
    X(MUL) X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU)                            \
    X(MULW) X(DIVW) X(DIVUW) X(REMW) X(REMUW)                                                  \
    X(LR_W) X(SC_W) X(AMOSWAP_W) X(AMOADD_W) X(AMOXOR_W) X(AMOAND_W) X(AMOOR_W)                \
    X(AMOMIN_W) X(AMOMAX_W) X(AMOMINU_W) X(AMOMAXU_W)                                          \
    X(LR_D) X(SC_D) X(AMOSWAP_D) X(AMOADD_D) X(AMOXOR_D) X(AMOAND_D) X(AMOOR_D)                \
    X(AMOMIN_D) X(AMOMAX_D) X(AMOMINU_D) X(AMOMAXU_D)                                          \
    X(ADD_UW) X(SH1ADD) X(SH2ADD) X(SH3ADD) X(SH1ADD_UW) X(SH2ADD_UW) X(SH3ADD_UW) X(SLLI_UW)  \
    X(ANDN) X(ORN) X(XNOR) X(CLZ) X(CLZW) X(CTZ) X(CTZW) X(CPOP) X(CPOPW)                      \
    X(MAX) X(MAXU) X(MIN) X(MINU) X(SEXT_B) X(SEXT_H) X(ZEXT_H)                                \
    X(ROL) X(ROLW) X(ROR) X(RORI) X(RORIW) X(RORW) X(ORC_B) X(REV8)                            \
    X(CLMUL) X(CLMULH) X(CLMULR)                                                               \
    X(BCLR) X(BCLRI) X(BEXT) X(BEXTI) X(BINV) X(BINVI) X(BSET) X(BSETI)                        \
    X(CZERO_EQZ) X(CZERO_NEZ)                                                                  \
    X(FLW) X(FSW) X(FMADD_S) X(FMSUB_S) X(FNMSUB_S) X(FNMADD_S)                                \
    X(FADD_S) X(FSUB_S) X(FMUL_S) X(FDIV_S) X(FSQRT_S) X(FSGNJ_S) X(FSGNJN_S) X(FSGNJX_S)      \
    X(FMIN_S) X(FMAX_S) X(FCVT_W_S) X(FCVT_WU_S) X(FCVT_L_S) X(FCVT_LU_S) X(FMV_X_W)           \
    X(FEQ_S) X(FLT_S) X(FLE_S) X(FCLASS_S) X(FCVT_S_W) X(FCVT_S_WU) X(FCVT_S_L) X(FCVT_S_LU)   \
    X(FMV_W_X)                                                                                 \
    X(FLD) X(FSD) X(FMADD_D) X(FMSUB_D) X(FNMSUB_D) X(FNMADD_D)                                \
    X(FADD_D) X(FSUB_D) X(FMUL_D) X(FDIV_D) X(FSQRT_D) X(FSGNJ_D) X(FSGNJN_D) X(FSGNJX_D)      \
    X(FMIN_D) X(FMAX_D) X(FCVT_W_D) X(FCVT_WU_D) X(FCVT_L_D) X(FCVT_LU_D) X(FMV_X_D)           \
    X(FEQ_D) X(FLT_D) X(FLE_D) X(FCLASS_D) X(FCVT_D_W) X(FCVT_D_WU) X(FCVT_D_L) X(FCVT_D_LU)   \
    X(FMV_D_X) X(FCVT_S_D) X(FCVT_D_S)

enum rv_op {
#define RV_OP_ENUM(name) RV_OP_##name,
    RV_OPS(RV_OP_ENUM)
#undef RV_OP_ENUM
    RV_OP_COUNT
};

/* PAUSE (Zihintpause): FENCE with predecessor W, successor nothing; decoded as RV_OP_FENCE */
#define RV_PAUSE 0x0100000fu

struct rv_insn {
    uint16_t op;   /* enum rv_op */
    uint8_t rd, rs1, rs2, rs3;
    uint8_t len;   /* 2 (compressed) or 4 */
    uint8_t rm;    /* FP rounding-mode field; for AMOs the aq/rl bits */
    int64_t imm;   /* sign-extended immediate, shift amount, or CSR number */
    uint32_t raw;  /* the encoding as fetched (16 or 32 bits), for mtval on illegal */
};

/* Length in bytes of the instruction whose low 16 bits are `lo`. */
static inline unsigned rv_insn_len(uint32_t lo)
{
    return (lo & 3) == 3 ? 4 : 2;
}

/* Decodes `raw` (a 16-bit compressed encoding in the low half, or 32-bit). Unknown and
 * reserved encodings give RV_OP_ILLEGAL. */
void rv_decode(uint32_t raw, struct rv_insn *out);

/* Name of an operation, for traces and test output. */
const char *rv_op_name(unsigned op);

#endif
