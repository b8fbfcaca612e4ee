/* F and D instructions (unprivileged spec chapters "F" and "D"): register file, NaN-boxing,
 * rounding-mode resolution, fflags accrual and mstatus.FS tracking. Arithmetic is softfloat.c. */
#include "cpu/csr.h"
#include "cpu/exec.h"
#include "cpu/mem.h"
#include "cpu/softfloat.h"

#define STEP_OK (-1)

/* A single held in a 64-bit register is valid only if NaN-boxed (upper 32 bits all ones);
 * otherwise it reads as the canonical NaN (D chapter, "NaN Boxing of Narrower Values"). */
static inline uint32_t f32_of(const struct rv_hart *h, unsigned r)
{
    uint64_t v = h->f[r];
    return (v >> 32) == 0xffffffffu ? (uint32_t)v : RV_F32_CANONICAL_NAN;
}

static inline void set_f32(struct rv_hart *h, unsigned r, uint32_t v)
{
    h->f[r] = 0xffffffff00000000ull | v;
    h->mstatus |= MSTATUS_FS; /* Dirty */
}

static inline void set_f64(struct rv_hart *h, unsigned r, uint64_t v)
{
    h->f[r] = v;
    h->mstatus |= MSTATUS_FS;
}

static inline void accrue(struct rv_hart *h, unsigned flags)
{
    if (flags) {
        h->fflags |= flags;
        h->mstatus |= MSTATUS_FS;
    }
}

static inline uint64_t sext32(uint32_t v)
{
    return (uint64_t)(int64_t)(int32_t)v;
}

static uint32_t fsgnj32(uint32_t a, uint32_t b, unsigned kind)
{
    uint32_t sign = kind == 0 ? b : kind == 1 ? ~b : a ^ b;
    return (a & 0x7fffffffu) | (sign & 0x80000000u);
}

static uint64_t fsgnj64(uint64_t a, uint64_t b, unsigned kind)
{
    uint64_t sign = kind == 0 ? b : kind == 1 ? ~b : a ^ b;
    return (a & ~(1ull << 63)) | (sign & (1ull << 63));
}

int rv_exec_fp(struct rv_hart *h, const struct rv_insn *in)
{
    if (in->op < RV_OP_FLW || in->op > RV_OP_FCVT_D_S || !(h->mstatus & MSTATUS_FS))
        return EXC_ILLEGAL_INSN;
    uint64_t *x = h->x;
    unsigned rd = in->rd, rs1 = in->rs1, rs2 = in->rs2, rs3 = in->rs3;
    unsigned rm = in->rm == RV_RM_DYN ? h->frm : in->rm;
    unsigned fl = 0;
    int exc;

    /* Operations with a rounding-mode field reject the reserved encodings 5, 6 and a dynamic
     * mode when frm holds one of them. The sign-injection, min/max, compare, move and classify
     * operations use funct3 for other purposes. */
    switch (in->op) {
    case RV_OP_FLW: case RV_OP_FSW: case RV_OP_FLD: case RV_OP_FSD:
    case RV_OP_FSGNJ_S: case RV_OP_FSGNJN_S: case RV_OP_FSGNJX_S:
    case RV_OP_FSGNJ_D: case RV_OP_FSGNJN_D: case RV_OP_FSGNJX_D:
    case RV_OP_FMIN_S: case RV_OP_FMAX_S: case RV_OP_FMIN_D: case RV_OP_FMAX_D:
    case RV_OP_FEQ_S: case RV_OP_FLT_S: case RV_OP_FLE_S:
    case RV_OP_FEQ_D: case RV_OP_FLT_D: case RV_OP_FLE_D:
    case RV_OP_FMV_X_W: case RV_OP_FMV_W_X: case RV_OP_FMV_X_D: case RV_OP_FMV_D_X:
    case RV_OP_FCLASS_S: case RV_OP_FCLASS_D:
        break;
    default:
        if (rm > RV_RM_RMM)
            return EXC_ILLEGAL_INSN;
    }

    switch (in->op) {
    case RV_OP_FLW: case RV_OP_FLD: {
        uint64_t v;
        exc = rv_mem_load(h, x[rs1] + (uint64_t)in->imm, in->op == RV_OP_FLW ? 4 : 8, &v);
        if (exc != RV_EXC_NONE)
            return exc;
        if (in->op == RV_OP_FLW)
            set_f32(h, rd, (uint32_t)v);
        else
            set_f64(h, rd, v);
        break;
    }
    case RV_OP_FSW: case RV_OP_FSD:
        /* FSW stores the low 32 bits as they are, boxed or not. */
        exc = rv_mem_store(h, x[rs1] + (uint64_t)in->imm, in->op == RV_OP_FSW ? 4 : 8, h->f[rs2]);
        if (exc != RV_EXC_NONE)
            return exc;
        break;

    case RV_OP_FMADD_S: case RV_OP_FMSUB_S: case RV_OP_FNMSUB_S: case RV_OP_FNMADD_S: {
        unsigned k = in->op - RV_OP_FMADD_S;
        set_f32(h, rd, rv_f32_muladd(f32_of(h, rs1), f32_of(h, rs2), f32_of(h, rs3), k >= 2,
                                     k == 1 || k == 3, rm, &fl));
        break;
    }
    case RV_OP_FMADD_D: case RV_OP_FMSUB_D: case RV_OP_FNMSUB_D: case RV_OP_FNMADD_D: {
        unsigned k = in->op - RV_OP_FMADD_D;
        set_f64(h, rd, rv_f64_muladd(h->f[rs1], h->f[rs2], h->f[rs3], k >= 2, k == 1 || k == 3,
                                     rm, &fl));
        break;
    }
    case RV_OP_FADD_S: set_f32(h, rd, rv_f32_add(f32_of(h, rs1), f32_of(h, rs2), rm, &fl)); break;
    case RV_OP_FSUB_S: set_f32(h, rd, rv_f32_sub(f32_of(h, rs1), f32_of(h, rs2), rm, &fl)); break;
    case RV_OP_FMUL_S: set_f32(h, rd, rv_f32_mul(f32_of(h, rs1), f32_of(h, rs2), rm, &fl)); break;
    case RV_OP_FDIV_S: set_f32(h, rd, rv_f32_div(f32_of(h, rs1), f32_of(h, rs2), rm, &fl)); break;
    case RV_OP_FSQRT_S: set_f32(h, rd, rv_f32_sqrt(f32_of(h, rs1), rm, &fl)); break;
    case RV_OP_FSGNJ_S: case RV_OP_FSGNJN_S: case RV_OP_FSGNJX_S:
        set_f32(h, rd, fsgnj32(f32_of(h, rs1), f32_of(h, rs2), in->op - RV_OP_FSGNJ_S));
        break;
    case RV_OP_FMIN_S: set_f32(h, rd, rv_f32_min(f32_of(h, rs1), f32_of(h, rs2), &fl)); break;
    case RV_OP_FMAX_S: set_f32(h, rd, rv_f32_max(f32_of(h, rs1), f32_of(h, rs2), &fl)); break;
    case RV_OP_FCVT_W_S: x[rd] = sext32((uint32_t)rv_f32_to_i32(f32_of(h, rs1), rm, &fl)); break;
    case RV_OP_FCVT_WU_S: x[rd] = sext32(rv_f32_to_u32(f32_of(h, rs1), rm, &fl)); break;
    case RV_OP_FCVT_L_S: x[rd] = (uint64_t)rv_f32_to_i64(f32_of(h, rs1), rm, &fl); break;
    case RV_OP_FCVT_LU_S: x[rd] = rv_f32_to_u64(f32_of(h, rs1), rm, &fl); break;
    case RV_OP_FMV_X_W: x[rd] = sext32((uint32_t)h->f[rs1]); break;
    case RV_OP_FEQ_S: x[rd] = rv_f32_eq(f32_of(h, rs1), f32_of(h, rs2), &fl); break;
    case RV_OP_FLT_S: x[rd] = rv_f32_lt(f32_of(h, rs1), f32_of(h, rs2), &fl); break;
    case RV_OP_FLE_S: x[rd] = rv_f32_le(f32_of(h, rs1), f32_of(h, rs2), &fl); break;
    case RV_OP_FCLASS_S: x[rd] = rv_f32_classify(f32_of(h, rs1)); break;
    case RV_OP_FCVT_S_W: set_f32(h, rd, rv_i32_to_f32((int32_t)x[rs1], rm, &fl)); break;
    case RV_OP_FCVT_S_WU: set_f32(h, rd, rv_u32_to_f32((uint32_t)x[rs1], rm, &fl)); break;
    case RV_OP_FCVT_S_L: set_f32(h, rd, rv_i64_to_f32((int64_t)x[rs1], rm, &fl)); break;
    case RV_OP_FCVT_S_LU: set_f32(h, rd, rv_u64_to_f32(x[rs1], rm, &fl)); break;
    case RV_OP_FMV_W_X: set_f32(h, rd, (uint32_t)x[rs1]); break;

    case RV_OP_FADD_D: set_f64(h, rd, rv_f64_add(h->f[rs1], h->f[rs2], rm, &fl)); break;
    case RV_OP_FSUB_D: set_f64(h, rd, rv_f64_sub(h->f[rs1], h->f[rs2], rm, &fl)); break;
    case RV_OP_FMUL_D: set_f64(h, rd, rv_f64_mul(h->f[rs1], h->f[rs2], rm, &fl)); break;
    case RV_OP_FDIV_D: set_f64(h, rd, rv_f64_div(h->f[rs1], h->f[rs2], rm, &fl)); break;
    case RV_OP_FSQRT_D: set_f64(h, rd, rv_f64_sqrt(h->f[rs1], rm, &fl)); break;
    case RV_OP_FSGNJ_D: case RV_OP_FSGNJN_D: case RV_OP_FSGNJX_D:
        set_f64(h, rd, fsgnj64(h->f[rs1], h->f[rs2], in->op - RV_OP_FSGNJ_D));
        break;
    case RV_OP_FMIN_D: set_f64(h, rd, rv_f64_min(h->f[rs1], h->f[rs2], &fl)); break;
    case RV_OP_FMAX_D: set_f64(h, rd, rv_f64_max(h->f[rs1], h->f[rs2], &fl)); break;
    case RV_OP_FCVT_W_D: x[rd] = sext32((uint32_t)rv_f64_to_i32(h->f[rs1], rm, &fl)); break;
    case RV_OP_FCVT_WU_D: x[rd] = sext32(rv_f64_to_u32(h->f[rs1], rm, &fl)); break;
    case RV_OP_FCVT_L_D: x[rd] = (uint64_t)rv_f64_to_i64(h->f[rs1], rm, &fl); break;
    case RV_OP_FCVT_LU_D: x[rd] = rv_f64_to_u64(h->f[rs1], rm, &fl); break;
    case RV_OP_FMV_X_D: x[rd] = h->f[rs1]; break;
    case RV_OP_FEQ_D: x[rd] = rv_f64_eq(h->f[rs1], h->f[rs2], &fl); break;
    case RV_OP_FLT_D: x[rd] = rv_f64_lt(h->f[rs1], h->f[rs2], &fl); break;
    case RV_OP_FLE_D: x[rd] = rv_f64_le(h->f[rs1], h->f[rs2], &fl); break;
    case RV_OP_FCLASS_D: x[rd] = rv_f64_classify(h->f[rs1]); break;
    case RV_OP_FCVT_D_W: set_f64(h, rd, rv_i32_to_f64((int32_t)x[rs1], rm, &fl)); break;
    case RV_OP_FCVT_D_WU: set_f64(h, rd, rv_u32_to_f64((uint32_t)x[rs1], rm, &fl)); break;
    case RV_OP_FCVT_D_L: set_f64(h, rd, rv_i64_to_f64((int64_t)x[rs1], rm, &fl)); break;
    case RV_OP_FCVT_D_LU: set_f64(h, rd, rv_u64_to_f64(x[rs1], rm, &fl)); break;
    case RV_OP_FMV_D_X: set_f64(h, rd, x[rs1]); break;
    case RV_OP_FCVT_S_D: set_f32(h, rd, rv_f64_to_f32(h->f[rs1], rm, &fl)); break;
    case RV_OP_FCVT_D_S: set_f64(h, rd, rv_f32_to_f64(f32_of(h, rs1), &fl)); break;
    default:
        return EXC_ILLEGAL_INSN;
    }
    accrue(h, fl);
    h->pc += in->len;
    return STEP_OK;
}
