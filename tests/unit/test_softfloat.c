/* Tests for the software FPU (src/cpu/softfloat*.c):
 *  1. hand-written special cases with known results and flags;
 *  2. randomised comparison against the host x86-64 SSE/FMA unit in RNE/RTZ/RDN/RUP, results
 *     and flags (x86 detects tininess after rounding like RISC-V; NaN results, FMA with
 *     inf * 0 + qNaN and out-of-range conversions are mapped to RISC-V semantics);
 *  3. RMM, which the host lacks, checked by its definition: the RNE result and flags, except at
 *     exact ties, which go away from zero. Ties are detected exactly in binary128.
 * The host comparison is x86-64 only (MXCSR is driven with inline assembly, so the compiler can
 * neither fold nor reorder the operations around the rounding-mode switch). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cpu/softfloat.h"
#include "test.h"

enum op {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_SQRT, OP_FMADD, OP_FMSUB, OP_FNMSUB, OP_FNMADD,
    OP_MIN, OP_MAX, OP_EQ, OP_LT, OP_LE, OP_CLASS,
    OP_TO_I32, OP_TO_U32, OP_TO_I64, OP_TO_U64,
    OP_FROM_I32, OP_FROM_U32, OP_FROM_I64, OP_FROM_U64,
    OP_CVT, /* f32 -> f64, or f64 -> f32 for the binary64 variant */
    OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "add", "sub", "mul", "div", "sqrt", "fmadd", "fmsub", "fnmsub", "fnmadd",
    "min", "max", "eq", "lt", "le", "class",
    "to_i32", "to_u32", "to_i64", "to_u64",
    "from_i32", "from_u32", "from_i64", "from_u64", "cvt",
};

static const char *const rm_names[5] = {"rne", "rtz", "rdn", "rup", "rmm"};

enum { RNE = RV_RM_RNE, RTZ = RV_RM_RTZ, RDN = RV_RM_RDN, RUP = RV_RM_RUP, RMM = RV_RM_RMM };
enum { NX = RV_FF_NX, UF = RV_FF_UF, OF = RV_FF_OF, DZ = RV_FF_DZ, NV = RV_FF_NV };

/* Runs one operation of the library. Integer results are returned at their natural width
 * (32-bit results zero-extended); `is64` selects the floating-point format. */
static uint64_t sf_run(bool is64, enum op op, uint64_t a, uint64_t b, uint64_t c, unsigned rm,
                       unsigned *fl)
{
    uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b, c32 = (uint32_t)c;
    if (is64) {
        switch (op) {
        case OP_ADD: return rv_f64_add(a, b, rm, fl);
        case OP_SUB: return rv_f64_sub(a, b, rm, fl);
        case OP_MUL: return rv_f64_mul(a, b, rm, fl);
        case OP_DIV: return rv_f64_div(a, b, rm, fl);
        case OP_SQRT: return rv_f64_sqrt(a, rm, fl);
        case OP_FMADD: return rv_f64_muladd(a, b, c, false, false, rm, fl);
        case OP_FMSUB: return rv_f64_muladd(a, b, c, false, true, rm, fl);
        case OP_FNMSUB: return rv_f64_muladd(a, b, c, true, false, rm, fl);
        case OP_FNMADD: return rv_f64_muladd(a, b, c, true, true, rm, fl);
        case OP_MIN: return rv_f64_min(a, b, fl);
        case OP_MAX: return rv_f64_max(a, b, fl);
        case OP_EQ: return rv_f64_eq(a, b, fl);
        case OP_LT: return rv_f64_lt(a, b, fl);
        case OP_LE: return rv_f64_le(a, b, fl);
        case OP_CLASS: return rv_f64_classify(a);
        case OP_TO_I32: return (uint32_t)rv_f64_to_i32(a, rm, fl);
        case OP_TO_U32: return rv_f64_to_u32(a, rm, fl);
        case OP_TO_I64: return (uint64_t)rv_f64_to_i64(a, rm, fl);
        case OP_TO_U64: return rv_f64_to_u64(a, rm, fl);
        case OP_FROM_I32: return rv_i32_to_f64((int32_t)a32, rm, fl);
        case OP_FROM_U32: return rv_u32_to_f64(a32, rm, fl);
        case OP_FROM_I64: return rv_i64_to_f64((int64_t)a, rm, fl);
        case OP_FROM_U64: return rv_u64_to_f64(a, rm, fl);
        case OP_CVT: return rv_f64_to_f32(a, rm, fl);
        default: break;
        }
    } else {
        switch (op) {
        case OP_ADD: return rv_f32_add(a32, b32, rm, fl);
        case OP_SUB: return rv_f32_sub(a32, b32, rm, fl);
        case OP_MUL: return rv_f32_mul(a32, b32, rm, fl);
        case OP_DIV: return rv_f32_div(a32, b32, rm, fl);
        case OP_SQRT: return rv_f32_sqrt(a32, rm, fl);
        case OP_FMADD: return rv_f32_muladd(a32, b32, c32, false, false, rm, fl);
        case OP_FMSUB: return rv_f32_muladd(a32, b32, c32, false, true, rm, fl);
        case OP_FNMSUB: return rv_f32_muladd(a32, b32, c32, true, false, rm, fl);
        case OP_FNMADD: return rv_f32_muladd(a32, b32, c32, true, true, rm, fl);
        case OP_MIN: return rv_f32_min(a32, b32, fl);
        case OP_MAX: return rv_f32_max(a32, b32, fl);
        case OP_EQ: return rv_f32_eq(a32, b32, fl);
        case OP_LT: return rv_f32_lt(a32, b32, fl);
        case OP_LE: return rv_f32_le(a32, b32, fl);
        case OP_CLASS: return rv_f32_classify(a32);
        case OP_TO_I32: return (uint32_t)rv_f32_to_i32(a32, rm, fl);
        case OP_TO_U32: return rv_f32_to_u32(a32, rm, fl);
        case OP_TO_I64: return (uint64_t)rv_f32_to_i64(a32, rm, fl);
        case OP_TO_U64: return rv_f32_to_u64(a32, rm, fl);
        case OP_FROM_I32: return rv_i32_to_f32((int32_t)a32, rm, fl);
        case OP_FROM_U32: return rv_u32_to_f32(a32, rm, fl);
        case OP_FROM_I64: return rv_i64_to_f32((int64_t)a, rm, fl);
        case OP_FROM_U64: return rv_u64_to_f32(a, rm, fl);
        case OP_CVT: return rv_f32_to_f64(a32, fl);
        default: break;
        }
    }
    return 0;
}

/* ---- 1. hand-written cases ------------------------------------------------------------------ */

#define F32_PZ 0x00000000u
#define F32_NZ 0x80000000u
#define F32_ONE 0x3f800000u
#define F32_NONE 0xbf800000u
#define F32_TWO 0x40000000u
#define F32_HALF 0x3f000000u
#define F32_INF 0x7f800000u
#define F32_NINF 0xff800000u
#define F32_QNAN 0x7fc00000u
#define F32_SNAN 0x7f800001u
#define F32_NQNAN 0xffc12345u /* negative quiet NaN with a payload */
#define F32_MAX 0x7f7fffffu
#define F32_NMAX 0xff7fffffu
#define F32_MINN 0x00800000u
#define F32_MINS 0x00000001u
#define F32_MAXS 0x007fffffu

#define F64_PZ 0x0000000000000000ull
#define F64_NZ 0x8000000000000000ull
#define F64_ONE 0x3ff0000000000000ull
#define F64_NONE 0xbff0000000000000ull
#define F64_TWO 0x4000000000000000ull
#define F64_HALF 0x3fe0000000000000ull
#define F64_INF 0x7ff0000000000000ull
#define F64_NINF 0xfff0000000000000ull
#define F64_QNAN 0x7ff8000000000000ull
#define F64_SNAN 0x7ff0000000000001ull
#define F64_NQNAN 0xfff8000000012345ull
#define F64_MAX 0x7fefffffffffffffull
#define F64_NMAX 0xffefffffffffffffull
#define F64_MINN 0x0010000000000000ull
#define F64_MINS 0x0000000000000001ull
#define F64_MAXS 0x000fffffffffffffull

struct hand_case {
    int line;
    bool is64;
    enum op op;
    unsigned rm;
    uint64_t a, b, c;
    uint64_t expect;
    unsigned flags;
};

#define S(op, rm, a, b, c, expect, flags) {__LINE__, false, op, rm, a, b, c, expect, flags}
#define D(op, rm, a, b, c, expect, flags) {__LINE__, true, op, rm, a, b, c, expect, flags}

static const struct hand_case hand_cases[] = {
    /* Addition: signed zeros, exact cancellation, infinities, NaNs. */
    S(OP_ADD, RNE, F32_ONE, F32_ONE, 0, F32_TWO, 0),
    S(OP_ADD, RNE, F32_PZ, F32_NZ, 0, F32_PZ, 0),
    S(OP_ADD, RDN, F32_PZ, F32_NZ, 0, F32_NZ, 0),
    S(OP_ADD, RUP, F32_NZ, F32_NZ, 0, F32_NZ, 0),
    S(OP_SUB, RNE, F32_NZ, F32_PZ, 0, F32_NZ, 0),
    S(OP_SUB, RNE, F32_ONE, F32_ONE, 0, F32_PZ, 0),
    S(OP_SUB, RDN, F32_ONE, F32_ONE, 0, F32_NZ, 0),
    S(OP_ADD, RMM, F32_NONE, F32_ONE, 0, F32_PZ, 0),
    S(OP_ADD, RNE, F32_INF, F32_NINF, 0, F32_QNAN, NV),
    S(OP_SUB, RNE, F32_INF, F32_INF, 0, F32_QNAN, NV),
    S(OP_ADD, RNE, F32_INF, F32_INF, 0, F32_INF, 0),
    S(OP_ADD, RNE, F32_NINF, F32_MAX, 0, F32_NINF, 0),
    S(OP_SUB, RNE, F32_ONE, F32_INF, 0, F32_NINF, 0),
    S(OP_ADD, RNE, F32_QNAN, F32_ONE, 0, F32_QNAN, 0),
    S(OP_ADD, RNE, F32_NQNAN, F32_ONE, 0, F32_QNAN, 0),
    S(OP_ADD, RNE, F32_ONE, F32_SNAN, 0, F32_QNAN, NV),
    S(OP_ADD, RNE, F32_SNAN, F32_INF, 0, F32_QNAN, NV),
    S(OP_ADD, RNE, F32_INF, F32_QNAN, 0, F32_QNAN, 0),
    S(OP_ADD, RNE, F32_MINS, F32_NZ, 0, F32_MINS, 0),
    S(OP_ADD, RNE, F32_MINS, F32_MINS, 0, 0x00000002, 0), /* subnormal but exact: no UF */
    S(OP_SUB, RNE, F32_MINN, F32_MINS, 0, F32_MAXS, 0),
    /* 1 + 2^-24 is a tie in every direction. */
    S(OP_ADD, RNE, F32_ONE, 0x33800000, 0, F32_ONE, NX),
    S(OP_ADD, RMM, F32_ONE, 0x33800000, 0, 0x3f800001, NX),
    S(OP_ADD, RTZ, F32_ONE, 0x33800000, 0, F32_ONE, NX),
    S(OP_ADD, RDN, F32_ONE, 0x33800000, 0, F32_ONE, NX),
    S(OP_ADD, RUP, F32_ONE, 0x33800000, 0, 0x3f800001, NX),
    S(OP_ADD, RNE, 0x3f800001, 0x33800000, 0, 0x3f800002, NX), /* tie to even, upwards */
    S(OP_ADD, RMM, 0xbf800000, 0xb3800000, 0, 0xbf800001, NX),
    S(OP_SUB, RNE, F32_ONE, 0x33000000, 0, F32_ONE, NX), /* 1 - 2^-25: tie */
    S(OP_SUB, RMM, F32_ONE, 0x33000000, 0, F32_ONE, NX),
    S(OP_SUB, RTZ, F32_ONE, 0x33000000, 0, 0x3f7fffff, NX),
    S(OP_SUB, RNE, F32_ONE, 0x33000001, 0, 0x3f7fffff, NX),
    S(OP_ADD, RNE, F32_ONE, F32_MINS, 0, F32_ONE, NX),
    S(OP_ADD, RUP, F32_ONE, F32_MINS, 0, 0x3f800001, NX),
    S(OP_SUB, RDN, F32_ONE, F32_MINS, 0, 0x3f7fffff, NX),
    /* Overflow in every rounding mode. */
    S(OP_ADD, RNE, F32_MAX, F32_MAX, 0, F32_INF, OF | NX),
    S(OP_ADD, RMM, F32_MAX, F32_MAX, 0, F32_INF, OF | NX),
    S(OP_ADD, RTZ, F32_MAX, F32_MAX, 0, F32_MAX, OF | NX),
    S(OP_ADD, RDN, F32_MAX, F32_MAX, 0, F32_MAX, OF | NX),
    S(OP_ADD, RUP, F32_MAX, F32_MAX, 0, F32_INF, OF | NX),
    S(OP_ADD, RNE, F32_NMAX, F32_NMAX, 0, F32_NINF, OF | NX),
    S(OP_ADD, RTZ, F32_NMAX, F32_NMAX, 0, F32_NMAX, OF | NX),
    S(OP_ADD, RDN, F32_NMAX, F32_NMAX, 0, F32_NINF, OF | NX),
    S(OP_ADD, RUP, F32_NMAX, F32_NMAX, 0, F32_NMAX, OF | NX),
    S(OP_ADD, RMM, F32_NMAX, F32_NMAX, 0, F32_NINF, OF | NX),
    /* MAX + half an ulp is a tie between MAX and 2^128: overflows in RNE and RMM. */
    S(OP_ADD, RNE, F32_MAX, 0x73000000, 0, F32_INF, OF | NX),
    S(OP_ADD, RMM, F32_MAX, 0x73000000, 0, F32_INF, OF | NX),
    S(OP_ADD, RTZ, F32_MAX, 0x73000000, 0, F32_MAX, NX),
    S(OP_ADD, RNE, F32_MAX, 0x72ffffff, 0, F32_MAX, NX),
    S(OP_ADD, RUP, F32_MAX, 0x72ffffff, 0, F32_INF, OF | NX),
    D(OP_ADD, RNE, F64_ONE, 0x3ca0000000000000, 0, F64_ONE, NX), /* 1 + 2^-53 */
    D(OP_ADD, RMM, F64_ONE, 0x3ca0000000000000, 0, 0x3ff0000000000001, NX),
    D(OP_ADD, RUP, F64_ONE, 0x3ca0000000000000, 0, 0x3ff0000000000001, NX),
    D(OP_ADD, RNE, F64_PZ, F64_NZ, 0, F64_PZ, 0),
    D(OP_ADD, RDN, F64_PZ, F64_NZ, 0, F64_NZ, 0),
    D(OP_SUB, RDN, F64_TWO, F64_TWO, 0, F64_NZ, 0),
    D(OP_ADD, RNE, F64_INF, F64_NINF, 0, F64_QNAN, NV),
    D(OP_ADD, RNE, F64_SNAN, F64_ONE, 0, F64_QNAN, NV),
    D(OP_ADD, RNE, F64_NQNAN, F64_ONE, 0, F64_QNAN, 0),
    D(OP_ADD, RNE, F64_MAX, F64_MAX, 0, F64_INF, OF | NX),
    D(OP_ADD, RTZ, F64_MAX, F64_MAX, 0, F64_MAX, OF | NX),
    D(OP_ADD, RDN, F64_NMAX, F64_NMAX, 0, F64_NINF, OF | NX),
    D(OP_ADD, RUP, F64_NMAX, F64_NMAX, 0, F64_NMAX, OF | NX),
    D(OP_SUB, RNE, F64_MINN, F64_MINS, 0, F64_MAXS, 0),

    /* Multiplication. */
    S(OP_MUL, RNE, F32_INF, F32_PZ, 0, F32_QNAN, NV),
    S(OP_MUL, RNE, F32_NZ, F32_INF, 0, F32_QNAN, NV),
    S(OP_MUL, RNE, F32_QNAN, F32_PZ, 0, F32_QNAN, 0),
    S(OP_MUL, RNE, F32_NZ, F32_ONE, 0, F32_NZ, 0),
    S(OP_MUL, RNE, F32_NZ, F32_NZ, 0, F32_PZ, 0),
    S(OP_MUL, RNE, F32_NINF, 0xc0000000, 0, F32_INF, 0),
    S(OP_MUL, RNE, F32_MINN, F32_HALF, 0, 0x00400000, 0), /* tiny but exact: no UF */
    S(OP_MUL, RNE, F32_MINS, F32_HALF, 0, F32_PZ, UF | NX), /* tie: to even (zero) */
    S(OP_MUL, RMM, F32_MINS, F32_HALF, 0, F32_MINS, UF | NX),
    S(OP_MUL, RUP, F32_MINS, F32_HALF, 0, F32_MINS, UF | NX),
    S(OP_MUL, RDN, F32_MINS, 0xbf000000, 0, 0x80000001, UF | NX),
    S(OP_MUL, RNE, F32_MINS, 0xbf000000, 0, F32_NZ, UF | NX),
    S(OP_MUL, RNE, 0x00000003, F32_HALF, 0, 0x00000002, UF | NX),
    S(OP_MUL, RMM, 0x00000003, F32_HALF, 0, 0x00000002, UF | NX),
    S(OP_MUL, RNE, 0x00000005, F32_HALF, 0, 0x00000002, UF | NX),
    S(OP_MUL, RMM, 0x00000005, F32_HALF, 0, 0x00000003, UF | NX),
    /* Tininess after rounding: (1 - 2^-24) * 2^-126 is exactly representable with an unbounded
     * exponent and below 2^-126, so it is tiny; it still rounds (tie, to even) up to MINN. */
    S(OP_MUL, RNE, 0x3f7fffff, F32_MINN, 0, F32_MINN, UF | NX),
    S(OP_MUL, RUP, 0x3f7fffff, F32_MINN, 0, F32_MINN, UF | NX),
    S(OP_MUL, RTZ, 0x3f7fffff, F32_MINN, 0, F32_MAXS, UF | NX),
    S(OP_MUL, RMM, 0x3f7fffff, F32_MINN, 0, F32_MINN, UF | NX),
    /* (1 - 2^-24)(1 + 2^-23) * 2^-126 = (1 + 2^-24 - 2^-47) * 2^-126: normal, no UF. */
    S(OP_MUL, RNE, 0x3f7fffff, 0x00800001, 0, F32_MINN, NX),
    S(OP_MUL, RNE, F32_MAX, F32_TWO, 0, F32_INF, OF | NX),
    S(OP_MUL, RTZ, F32_MAX, F32_TWO, 0, F32_MAX, OF | NX),
    S(OP_MUL, RDN, F32_MAX, 0xc0000000, 0, F32_NINF, OF | NX),
    S(OP_MUL, RUP, F32_MAX, 0xc0000000, 0, F32_NMAX, OF | NX),
    S(OP_MUL, RNE, F32_MAXS, 0x7e800000, 0, 0x3f7ffffe, 0), /* subnormal * 2^126 */
    D(OP_MUL, RNE, F64_MINS, F64_HALF, 0, F64_PZ, UF | NX),
    D(OP_MUL, RMM, F64_MINS, F64_HALF, 0, F64_MINS, UF | NX),
    D(OP_MUL, RNE, 0x3fefffffffffffff, F64_MINN, 0, F64_MINN, UF | NX),
    D(OP_MUL, RTZ, 0x3fefffffffffffff, F64_MINN, 0, F64_MAXS, UF | NX),
    D(OP_MUL, RNE, F64_INF, F64_NZ, 0, F64_QNAN, NV),
    D(OP_MUL, RUP, F64_MAX, F64_NMAX, 0, F64_NMAX, OF | NX),
    D(OP_MUL, RNE, F64_MAX, F64_NMAX, 0, F64_NINF, OF | NX),

    /* Division. */
    S(OP_DIV, RNE, F32_ONE, F32_PZ, 0, F32_INF, DZ),
    S(OP_DIV, RNE, F32_NONE, F32_PZ, 0, F32_NINF, DZ),
    S(OP_DIV, RNE, F32_NONE, F32_NZ, 0, F32_INF, DZ),
    S(OP_DIV, RNE, F32_PZ, F32_PZ, 0, F32_QNAN, NV),
    S(OP_DIV, RNE, F32_INF, F32_NINF, 0, F32_QNAN, NV),
    S(OP_DIV, RNE, F32_QNAN, F32_PZ, 0, F32_QNAN, 0),
    S(OP_DIV, RNE, F32_INF, F32_PZ, 0, F32_INF, 0),
    S(OP_DIV, RNE, F32_NONE, F32_INF, 0, F32_NZ, 0),
    S(OP_DIV, RNE, F32_PZ, F32_NONE, 0, F32_NZ, 0),
    S(OP_DIV, RNE, F32_ONE, 0x40400000, 0, 0x3eaaaaab, NX),
    S(OP_DIV, RTZ, F32_ONE, 0x40400000, 0, 0x3eaaaaaa, NX),
    S(OP_DIV, RDN, F32_ONE, 0x40400000, 0, 0x3eaaaaaa, NX),
    S(OP_DIV, RUP, F32_ONE, 0x40400000, 0, 0x3eaaaaab, NX),
    S(OP_DIV, RDN, F32_NONE, 0x40400000, 0, 0xbeaaaaab, NX),
    S(OP_DIV, RMM, 0x00000003, F32_TWO, 0, 0x00000002, UF | NX), /* subnormal tie */
    S(OP_DIV, RNE, F32_MAX, F32_HALF, 0, F32_INF, OF | NX),
    S(OP_DIV, RTZ, F32_MAX, F32_HALF, 0, F32_MAX, OF | NX),
    D(OP_DIV, RNE, F64_ONE, 0x4008000000000000, 0, 0x3fd5555555555555, NX),
    D(OP_DIV, RUP, F64_ONE, 0x4008000000000000, 0, 0x3fd5555555555556, NX),
    D(OP_DIV, RNE, F64_ONE, F64_NZ, 0, F64_NINF, DZ),
    D(OP_DIV, RNE, F64_NZ, F64_NZ, 0, F64_QNAN, NV),
    D(OP_DIV, RNE, F64_SNAN, F64_NZ, 0, F64_QNAN, NV),
    D(OP_DIV, RNE, F64_MINS, F64_MAX, 0, F64_PZ, UF | NX),
    D(OP_DIV, RUP, F64_MINS, F64_MAX, 0, F64_MINS, UF | NX),

    /* Square root. */
    S(OP_SQRT, RNE, F32_NZ, 0, 0, F32_NZ, 0),
    S(OP_SQRT, RNE, F32_PZ, 0, 0, F32_PZ, 0),
    S(OP_SQRT, RNE, F32_NONE, 0, 0, F32_QNAN, NV),
    S(OP_SQRT, RNE, F32_NINF, 0, 0, F32_QNAN, NV),
    S(OP_SQRT, RNE, 0x80000001, 0, 0, F32_QNAN, NV),
    S(OP_SQRT, RNE, F32_INF, 0, 0, F32_INF, 0),
    S(OP_SQRT, RNE, F32_SNAN, 0, 0, F32_QNAN, NV),
    S(OP_SQRT, RNE, F32_NQNAN, 0, 0, F32_QNAN, 0),
    S(OP_SQRT, RNE, 0x40800000, 0, 0, F32_TWO, 0),
    S(OP_SQRT, RNE, F32_TWO, 0, 0, 0x3fb504f3, NX),
    S(OP_SQRT, RUP, F32_TWO, 0, 0, 0x3fb504f4, NX),
    S(OP_SQRT, RMM, F32_TWO, 0, 0, 0x3fb504f3, NX),
    S(OP_SQRT, RNE, 0x00000002, 0, 0, 0x1a800000, 0), /* sqrt(2^-148) = 2^-74 */
    S(OP_SQRT, RNE, F32_MAX, 0, 0, 0x5f7fffff, NX),
    D(OP_SQRT, RNE, F64_TWO, 0, 0, 0x3ff6a09e667f3bcd, NX),
    D(OP_SQRT, RTZ, F64_TWO, 0, 0, 0x3ff6a09e667f3bcc, NX),
    D(OP_SQRT, RNE, 0x4010000000000000, 0, 0, F64_TWO, 0),
    D(OP_SQRT, RNE, F64_MINS, 0, 0, 0x1e60000000000000, 0), /* sqrt(2^-1074) = 2^-537 */
    D(OP_SQRT, RNE, F64_NZ, 0, 0, F64_NZ, 0),
    D(OP_SQRT, RNE, F64_NONE, 0, 0, F64_QNAN, NV),

    /* Fused multiply-add. F extension: inf * 0 + qNaN raises NV. */
    S(OP_FMADD, RNE, F32_INF, F32_PZ, F32_QNAN, F32_QNAN, NV),
    S(OP_FMADD, RNE, F32_PZ, F32_NINF, F32_NQNAN, F32_QNAN, NV),
    S(OP_FMADD, RNE, F32_INF, F32_PZ, F32_ONE, F32_QNAN, NV),
    S(OP_FMADD, RNE, F32_QNAN, F32_PZ, F32_ONE, F32_QNAN, 0),
    S(OP_FMADD, RNE, F32_QNAN, F32_INF, F32_ONE, F32_QNAN, 0),
    S(OP_FMADD, RNE, F32_ONE, F32_ONE, F32_SNAN, F32_QNAN, NV),
    S(OP_FMADD, RNE, F32_ONE, F32_ONE, F32_QNAN, F32_QNAN, 0),
    S(OP_FMADD, RNE, F32_INF, F32_ONE, F32_NINF, F32_QNAN, NV),
    S(OP_FMSUB, RNE, F32_INF, F32_ONE, F32_INF, F32_QNAN, NV),
    S(OP_FMADD, RNE, F32_INF, F32_ONE, F32_INF, F32_INF, 0),
    S(OP_FNMADD, RNE, F32_INF, F32_ONE, F32_INF, F32_NINF, 0),
    S(OP_FNMADD, RNE, F32_INF, F32_ONE, F32_NINF, F32_QNAN, NV),
    S(OP_FMADD, RNE, F32_MAX, F32_TWO, F32_NINF, F32_NINF, 0), /* no overflow of the product */
    S(OP_FMADD, RNE, F32_MAX, F32_TWO, F32_NMAX, F32_MAX, 0),
    S(OP_FMADD, RNE, F32_PZ, F32_ONE, F32_NZ, F32_PZ, 0),
    S(OP_FMADD, RDN, F32_PZ, F32_ONE, F32_NZ, F32_NZ, 0),
    S(OP_FMADD, RNE, F32_NZ, F32_ONE, F32_NZ, F32_NZ, 0),
    S(OP_FMSUB, RNE, F32_NZ, F32_ONE, F32_PZ, F32_NZ, 0),
    S(OP_FNMSUB, RNE, F32_PZ, F32_ONE, F32_PZ, F32_PZ, 0),
    S(OP_FNMADD, RNE, F32_PZ, F32_ONE, F32_PZ, F32_NZ, 0),
    S(OP_FNMADD, RNE, F32_ONE, F32_ONE, F32_NONE, F32_PZ, 0),
    S(OP_FNMADD, RDN, F32_ONE, F32_ONE, F32_NONE, F32_NZ, 0),
    S(OP_FMSUB, RNE, F32_ONE, F32_TWO, F32_ONE, F32_ONE, 0),
    S(OP_FNMSUB, RNE, F32_ONE, F32_TWO, F32_ONE, F32_NONE, 0),
    S(OP_FNMADD, RNE, F32_ONE, F32_TWO, F32_ONE, 0xc0400000, 0),
    /* (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: the separately rounded product would be 1 + 2^-11. */
    S(OP_FMADD, RNE, 0x3f800800, 0x3f800800, 0xbf801000, 0x33800000, 0),
    S(OP_MUL, RNE, 0x3f800800, 0x3f800800, 0, 0x3f801000, NX),
    S(OP_FMADD, RNE, 0x3f800800, 0x3f800800, F32_PZ, 0x3f801000, NX),
    S(OP_FMADD, RMM, 0x3f800800, 0x3f800800, F32_NZ, 0x3f801001, NX),
    /* A non-zero exact result that rounds to zero keeps its sign. */
    S(OP_FMADD, RNE, F32_MINS, F32_HALF, F32_NZ, F32_PZ, UF | NX),
    S(OP_FMADD, RNE, F32_MINS, 0xbf000000, F32_PZ, F32_NZ, UF | NX),
    S(OP_FMADD, RMM, F32_MINS, 0xbf000000, F32_PZ, 0x80000001, UF | NX),
    /* A tiny product below the addend only sets NX. */
    S(OP_FMADD, RNE, F32_MINS, F32_MINS, F32_ONE, F32_ONE, NX),
    S(OP_FMADD, RUP, F32_MINS, F32_MINS, F32_ONE, 0x3f800001, NX),
    S(OP_FMSUB, RNE, F32_MINS, F32_MINS, F32_ONE, F32_NONE, NX),
    S(OP_FMSUB, RTZ, F32_MINS, F32_MINS, F32_ONE, 0xbf7fffff, NX),
    S(OP_FMADD, RNE, F32_MAX, F32_MAX, F32_NMAX, F32_INF, OF | NX),
    S(OP_FMADD, RTZ, F32_MAX, F32_MAX, F32_NMAX, F32_MAX, OF | NX),
    D(OP_FMADD, RNE, F64_INF, F64_PZ, F64_QNAN, F64_QNAN, NV),
    D(OP_FMADD, RNE, F64_NZ, F64_INF, F64_ONE, F64_QNAN, NV),
    D(OP_FMADD, RNE, F64_ONE, F64_ONE, F64_SNAN, F64_QNAN, NV),
    D(OP_FMADD, RNE, F64_ONE, F64_QNAN, F64_SNAN, F64_QNAN, NV),
    /* (1 + 2^-27)^2 - (1 + 2^-26) = 2^-54. */
    D(OP_FMADD, RNE, 0x3ff0000002000000, 0x3ff0000002000000, 0xbff0000004000000,
      0x3c90000000000000, 0),
    D(OP_FNMADD, RNE, F64_ONE, F64_ONE, F64_NONE, F64_PZ, 0),
    D(OP_FNMADD, RDN, F64_ONE, F64_ONE, F64_NONE, F64_NZ, 0),
    D(OP_FMADD, RNE, F64_MINS, F64_HALF, F64_NZ, F64_PZ, UF | NX),
    D(OP_FMADD, RMM, F64_MINS, F64_HALF, F64_NZ, F64_MINS, UF | NX),
    D(OP_FMADD, RNE, F64_MINS, F64_MINS, F64_NONE, F64_NONE, NX),
    D(OP_FMADD, RDN, F64_MINS, F64_MINS, F64_NONE, 0xbff0000000000000, NX),
    D(OP_FMADD, RUP, F64_MINS, F64_MINS, F64_NONE, 0xbfefffffffffffff, NX),

    /* Min / max (F 2.2): -0 < +0, one NaN gives the other operand, sNaN raises NV. */
    S(OP_MIN, RNE, F32_NZ, F32_PZ, 0, F32_NZ, 0),
    S(OP_MIN, RNE, F32_PZ, F32_NZ, 0, F32_NZ, 0),
    S(OP_MAX, RNE, F32_NZ, F32_PZ, 0, F32_PZ, 0),
    S(OP_MAX, RNE, F32_PZ, F32_NZ, 0, F32_PZ, 0),
    S(OP_MIN, RNE, F32_QNAN, F32_ONE, 0, F32_ONE, 0),
    S(OP_MIN, RNE, F32_ONE, F32_NQNAN, 0, F32_ONE, 0),
    S(OP_MAX, RNE, F32_SNAN, F32_ONE, 0, F32_ONE, NV),
    S(OP_MIN, RNE, F32_NONE, F32_SNAN, 0, F32_NONE, NV),
    S(OP_MIN, RNE, F32_NQNAN, F32_NQNAN, 0, F32_QNAN, 0),
    S(OP_MAX, RNE, F32_SNAN, F32_QNAN, 0, F32_QNAN, NV),
    S(OP_MIN, RNE, F32_NONE, F32_TWO, 0, F32_NONE, 0),
    S(OP_MAX, RNE, F32_NONE, F32_TWO, 0, F32_TWO, 0),
    S(OP_MIN, RNE, 0xc0000000, F32_NONE, 0, 0xc0000000, 0),
    S(OP_MAX, RNE, 0xc0000000, F32_NONE, 0, F32_NONE, 0),
    S(OP_MAX, RNE, F32_NINF, F32_NMAX, 0, F32_NMAX, 0),
    S(OP_MIN, RNE, F32_INF, F32_MAX, 0, F32_MAX, 0),
    S(OP_MIN, RNE, F32_MINS, F32_PZ, 0, F32_PZ, 0),
    D(OP_MIN, RNE, F64_NZ, F64_PZ, 0, F64_NZ, 0),
    D(OP_MAX, RNE, F64_NZ, F64_PZ, 0, F64_PZ, 0),
    D(OP_MAX, RNE, F64_QNAN, F64_NONE, 0, F64_NONE, 0),
    D(OP_MIN, RNE, F64_SNAN, F64_NONE, 0, F64_NONE, NV),
    D(OP_MAX, RNE, F64_NQNAN, F64_SNAN, 0, F64_QNAN, NV),
    D(OP_MIN, RNE, 0xc000000000000000, F64_NONE, 0, 0xc000000000000000, 0),

    /* Comparisons: FEQ quiet, FLT/FLE signalling. */
    S(OP_EQ, RNE, F32_QNAN, F32_QNAN, 0, 0, 0),
    S(OP_EQ, RNE, F32_SNAN, F32_ONE, 0, 0, NV),
    S(OP_EQ, RNE, F32_ONE, F32_SNAN, 0, 0, NV),
    S(OP_EQ, RNE, F32_PZ, F32_NZ, 0, 1, 0),
    S(OP_EQ, RNE, F32_ONE, F32_ONE, 0, 1, 0),
    S(OP_EQ, RNE, F32_ONE, F32_NONE, 0, 0, 0),
    S(OP_LT, RNE, F32_QNAN, F32_ONE, 0, 0, NV),
    S(OP_LE, RNE, F32_ONE, F32_NQNAN, 0, 0, NV),
    S(OP_LT, RNE, F32_NZ, F32_PZ, 0, 0, 0),
    S(OP_LE, RNE, F32_PZ, F32_NZ, 0, 1, 0),
    S(OP_LT, RNE, F32_NONE, 0xbf000000, 0, 1, 0),
    S(OP_LT, RNE, 0xbf000000, F32_NONE, 0, 0, 0),
    S(OP_LE, RNE, F32_NONE, F32_NONE, 0, 1, 0),
    S(OP_LT, RNE, F32_NONE, F32_NONE, 0, 0, 0),
    S(OP_LT, RNE, F32_NINF, F32_INF, 0, 1, 0),
    S(OP_LT, RNE, F32_NONE, F32_PZ, 0, 1, 0),
    S(OP_LE, RNE, F32_ONE, F32_NZ, 0, 0, 0),
    D(OP_EQ, RNE, F64_NZ, F64_PZ, 0, 1, 0),
    D(OP_EQ, RNE, F64_QNAN, F64_ONE, 0, 0, 0),
    D(OP_EQ, RNE, F64_SNAN, F64_SNAN, 0, 0, NV),
    D(OP_LT, RNE, F64_ONE, F64_QNAN, 0, 0, NV),
    D(OP_LE, RNE, F64_NINF, F64_NMAX, 0, 1, 0),
    D(OP_LT, RNE, F64_TWO, F64_ONE, 0, 0, 0),

    /* FCLASS: one bit per class. */
    S(OP_CLASS, RNE, F32_NINF, 0, 0, 1 << 0, 0),
    S(OP_CLASS, RNE, F32_NONE, 0, 0, 1 << 1, 0),
    S(OP_CLASS, RNE, 0x80000001, 0, 0, 1 << 2, 0),
    S(OP_CLASS, RNE, F32_NZ, 0, 0, 1 << 3, 0),
    S(OP_CLASS, RNE, F32_PZ, 0, 0, 1 << 4, 0),
    S(OP_CLASS, RNE, F32_MAXS, 0, 0, 1 << 5, 0),
    S(OP_CLASS, RNE, F32_MINN, 0, 0, 1 << 6, 0),
    S(OP_CLASS, RNE, F32_INF, 0, 0, 1 << 7, 0),
    S(OP_CLASS, RNE, F32_SNAN, 0, 0, 1 << 8, 0),
    S(OP_CLASS, RNE, 0xffbfffff, 0, 0, 1 << 8, 0),
    S(OP_CLASS, RNE, F32_QNAN, 0, 0, 1 << 9, 0),
    S(OP_CLASS, RNE, F32_NQNAN, 0, 0, 1 << 9, 0),
    D(OP_CLASS, RNE, F64_NINF, 0, 0, 1 << 0, 0),
    D(OP_CLASS, RNE, F64_NMAX, 0, 0, 1 << 1, 0),
    D(OP_CLASS, RNE, 0x800fffffffffffff, 0, 0, 1 << 2, 0),
    D(OP_CLASS, RNE, F64_NZ, 0, 0, 1 << 3, 0),
    D(OP_CLASS, RNE, F64_PZ, 0, 0, 1 << 4, 0),
    D(OP_CLASS, RNE, F64_MINS, 0, 0, 1 << 5, 0),
    D(OP_CLASS, RNE, F64_ONE, 0, 0, 1 << 6, 0),
    D(OP_CLASS, RNE, F64_INF, 0, 0, 1 << 7, 0),
    D(OP_CLASS, RNE, F64_SNAN, 0, 0, 1 << 8, 0),
    D(OP_CLASS, RNE, F64_QNAN, 0, 0, 1 << 9, 0),

    /* Float -> integer: rounding, saturation table, NV without NX. */
    S(OP_TO_I32, RNE, 0x3fc00000, 0, 0, 2, NX), /* 1.5 */
    S(OP_TO_I32, RNE, 0x40200000, 0, 0, 2, NX), /* 2.5 */
    S(OP_TO_I32, RMM, 0x40200000, 0, 0, 3, NX),
    S(OP_TO_I32, RMM, 0xc0200000, 0, 0, 0xfffffffd, NX),
    S(OP_TO_I32, RDN, 0xc0200000, 0, 0, 0xfffffffd, NX),
    S(OP_TO_I32, RUP, 0xc0200000, 0, 0, 0xfffffffe, NX),
    S(OP_TO_I32, RTZ, 0xc0200000, 0, 0, 0xfffffffe, NX),
    S(OP_TO_I32, RNE, F32_NZ, 0, 0, 0, 0),
    S(OP_TO_I32, RNE, 0x4f000000, 0, 0, 0x7fffffff, NV), /* 2^31 */
    S(OP_TO_I32, RNE, 0xcf000000, 0, 0, 0x80000000, 0), /* -2^31 */
    S(OP_TO_I32, RNE, 0xcf000001, 0, 0, 0x80000000, NV),
    S(OP_TO_I32, RNE, F32_QNAN, 0, 0, 0x7fffffff, NV),
    S(OP_TO_I32, RNE, F32_NQNAN, 0, 0, 0x7fffffff, NV),
    S(OP_TO_I32, RNE, F32_INF, 0, 0, 0x7fffffff, NV),
    S(OP_TO_I32, RNE, F32_NINF, 0, 0, 0x80000000, NV),
    S(OP_TO_I32, RUP, F32_MINS, 0, 0, 1, NX),
    S(OP_TO_I32, RDN, 0x80000001, 0, 0, 0xffffffff, NX),
    S(OP_TO_I32, RNE, F32_MINS, 0, 0, 0, NX),
    S(OP_TO_U32, RNE, F32_NONE, 0, 0, 0, NV),
    S(OP_TO_U32, RTZ, 0xbe99999a, 0, 0, 0, NX), /* -0.3 */
    S(OP_TO_U32, RNE, 0xbe99999a, 0, 0, 0, NX),
    S(OP_TO_U32, RDN, 0xbe99999a, 0, 0, 0, NV),
    S(OP_TO_U32, RNE, 0xbf000000, 0, 0, 0, NX), /* -0.5: to even */
    S(OP_TO_U32, RMM, 0xbf000000, 0, 0, 0, NV), /* -0.5: away, -1 */
    S(OP_TO_U32, RNE, 0xbf333333, 0, 0, 0, NV), /* -0.7 */
    S(OP_TO_U32, RUP, 0xbf333333, 0, 0, 0, NX),
    S(OP_TO_U32, RNE, F32_NZ, 0, 0, 0, 0),
    S(OP_TO_U32, RNE, 0x4f800000, 0, 0, 0xffffffff, NV), /* 2^32 */
    S(OP_TO_U32, RNE, 0x4f7fffff, 0, 0, 0xffffff00, 0),
    S(OP_TO_U32, RNE, F32_QNAN, 0, 0, 0xffffffff, NV),
    S(OP_TO_U32, RNE, F32_NINF, 0, 0, 0, NV),
    S(OP_TO_I64, RNE, 0x5f000000, 0, 0, 0x7fffffffffffffff, NV), /* 2^63 */
    S(OP_TO_I64, RNE, 0xdf000000, 0, 0, 0x8000000000000000, 0),
    S(OP_TO_I64, RNE, F32_NINF, 0, 0, 0x8000000000000000, NV),
    S(OP_TO_I64, RNE, F32_SNAN, 0, 0, 0x7fffffffffffffff, NV),
    S(OP_TO_U64, RNE, 0x5f800000, 0, 0, 0xffffffffffffffff, NV), /* 2^64 */
    S(OP_TO_U64, RNE, 0x5f7fffff, 0, 0, 0xffffff0000000000, 0),
    S(OP_TO_U64, RNE, F32_NONE, 0, 0, 0, NV),
    S(OP_TO_U64, RTZ, 0xbf7fffff, 0, 0, 0, NX),
    D(OP_TO_U32, RNE, 0x41effffffff00000, 0, 0, 0xffffffff, NV), /* 2^32 - 0.5 -> 2^32 */
    D(OP_TO_U32, RTZ, 0x41effffffff00000, 0, 0, 0xffffffff, NX),
    D(OP_TO_U32, RMM, 0x41efffffffd00000, 0, 0, 0xffffffff, NX), /* 2^32 - 1.5 */
    D(OP_TO_U32, RNE, 0x41efffffffd00000, 0, 0, 0xfffffffe, NX),
    D(OP_TO_I32, RNE, 0x41dfffffffe00000, 0, 0, 0x7fffffff, NV), /* 2^31 - 0.5 -> 2^31 */
    D(OP_TO_I32, RTZ, 0x41dfffffffe00000, 0, 0, 0x7fffffff, NX),
    D(OP_TO_I32, RNE, 0x41dfffffffa00000, 0, 0, 0x7ffffffe, NX), /* 2^31 - 1.5 */
    D(OP_TO_I32, RNE, 0x41dfffffffc00000, 0, 0, 0x7fffffff, 0), /* 2^31 - 1 */
    D(OP_TO_I32, RNE, 0xc1e0000000100000, 0, 0, 0x80000000, NX), /* -2^31 - 0.5 -> even */
    D(OP_TO_I32, RMM, 0xc1e0000000100000, 0, 0, 0x80000000, NV),
    D(OP_TO_I32, RTZ, 0xc1e00000001fffff, 0, 0, 0x80000000, NX),
    D(OP_TO_I64, RNE, 0x43e0000000000000, 0, 0, 0x7fffffffffffffff, NV),
    D(OP_TO_I64, RNE, 0xc3e0000000000000, 0, 0, 0x8000000000000000, 0),
    D(OP_TO_I64, RNE, 0x43dfffffffffffff, 0, 0, 0x7ffffffffffffc00, 0),
    D(OP_TO_I64, RNE, F64_QNAN, 0, 0, 0x7fffffffffffffff, NV),
    D(OP_TO_U64, RNE, 0x43f0000000000000, 0, 0, 0xffffffffffffffff, NV),
    D(OP_TO_U64, RNE, 0x43efffffffffffff, 0, 0, 0xfffffffffffff800, 0),
    D(OP_TO_U64, RNE, F64_NONE, 0, 0, 0, NV),
    D(OP_TO_U64, RNE, F64_NINF, 0, 0, 0, NV),
    D(OP_TO_U64, RNE, F64_NQNAN, 0, 0, 0xffffffffffffffff, NV),
    D(OP_TO_U64, RMM, 0x3fe0000000000000, 0, 0, 1, NX),
    D(OP_TO_U64, RNE, 0x3fe0000000000000, 0, 0, 0, NX),
    D(OP_TO_U64, RNE, 0x3fe0000000000001, 0, 0, 1, NX),
    D(OP_TO_U64, RNE, 0x3fd0000000000000, 0, 0, 0, NX), /* 0.25 */
    D(OP_TO_U64, RUP, 0x3fd0000000000000, 0, 0, 1, NX),

    /* Integer -> float. */
    S(OP_FROM_I32, RNE, 0, 0, 0, F32_PZ, 0),
    S(OP_FROM_I32, RDN, 0, 0, 0, F32_PZ, 0),
    S(OP_FROM_I32, RNE, 1, 0, 0, F32_ONE, 0),
    S(OP_FROM_I32, RNE, 0xffffffff, 0, 0, F32_NONE, 0),
    S(OP_FROM_I32, RNE, 16777217, 0, 0, 0x4b800000, NX), /* 2^24 + 1: tie */
    S(OP_FROM_I32, RMM, 16777217, 0, 0, 0x4b800001, NX),
    S(OP_FROM_I32, RUP, 16777217, 0, 0, 0x4b800001, NX),
    S(OP_FROM_I32, RMM, (uint32_t)-16777217, 0, 0, 0xcb800001, NX),
    S(OP_FROM_I32, RDN, (uint32_t)-16777217, 0, 0, 0xcb800001, NX),
    S(OP_FROM_I32, RTZ, (uint32_t)-16777217, 0, 0, 0xcb800000, NX),
    S(OP_FROM_I32, RNE, 0x80000000, 0, 0, 0xcf000000, 0),
    S(OP_FROM_U32, RNE, 0xffffffff, 0, 0, 0x4f800000, NX),
    S(OP_FROM_U32, RTZ, 0xffffffff, 0, 0, 0x4f7fffff, NX),
    S(OP_FROM_I64, RNE, 0x8000000000000000, 0, 0, 0xdf000000, 0),
    S(OP_FROM_U64, RNE, 0xffffffffffffffff, 0, 0, 0x5f800000, NX),
    S(OP_FROM_U64, RTZ, 0xffffffffffffffff, 0, 0, 0x5f7fffff, NX),
    S(OP_FROM_U64, RNE, 0x8000008000000000, 0, 0, 0x5f000000, NX), /* tie, to even */
    S(OP_FROM_U64, RMM, 0x8000008000000000, 0, 0, 0x5f000001, NX),
    S(OP_FROM_U64, RNE, 0x8000008000000001, 0, 0, 0x5f000001, NX),
    D(OP_FROM_I32, RNE, 0x80000000, 0, 0, 0xc1e0000000000000, 0),
    D(OP_FROM_U32, RNE, 0xffffffff, 0, 0, 0x41efffffffe00000, 0),
    D(OP_FROM_I64, RNE, 0x8000000000000000, 0, 0, 0xc3e0000000000000, 0),
    D(OP_FROM_I64, RNE, 0, 0, 0, F64_PZ, 0),
    D(OP_FROM_U64, RNE, 0xffffffffffffffff, 0, 0, 0x43f0000000000000, NX),
    D(OP_FROM_U64, RTZ, 0xffffffffffffffff, 0, 0, 0x43efffffffffffff, NX),
    D(OP_FROM_I64, RNE, 0x0020000000000001, 0, 0, 0x4340000000000000, NX), /* 2^53 + 1 */
    D(OP_FROM_I64, RMM, 0x0020000000000001, 0, 0, 0x4340000000000001, NX),
    D(OP_FROM_I64, RMM, 0xffdfffffffffffff, 0, 0, 0xc340000000000001, NX),

    /* f32 -> f64 is exact; NaNs become canonical, sNaN raises NV. */
    S(OP_CVT, RNE, F32_SNAN, 0, 0, F64_QNAN, NV),
    S(OP_CVT, RNE, F32_NQNAN, 0, 0, F64_QNAN, 0),
    S(OP_CVT, RNE, F32_MINS, 0, 0, 0x36a0000000000000, 0),
    S(OP_CVT, RNE, F32_MAXS, 0, 0, 0x380fffffc0000000, 0),
    S(OP_CVT, RNE, F32_NINF, 0, 0, F64_NINF, 0),
    S(OP_CVT, RNE, F32_NZ, 0, 0, F64_NZ, 0),
    S(OP_CVT, RNE, F32_MAX, 0, 0, 0x47efffffe0000000, 0),
    S(OP_CVT, RNE, F32_NONE, 0, 0, F64_NONE, 0),
    /* f64 -> f32. */
    D(OP_CVT, RNE, F64_SNAN, 0, 0, F32_QNAN, NV),
    D(OP_CVT, RNE, F64_NQNAN, 0, 0, F32_QNAN, 0),
    D(OP_CVT, RNE, F64_NINF, 0, 0, F32_NINF, 0),
    D(OP_CVT, RNE, F64_NZ, 0, 0, F32_NZ, 0),
    D(OP_CVT, RNE, 0x3ff0000010000000, 0, 0, F32_ONE, NX), /* 1 + 2^-24 */
    D(OP_CVT, RMM, 0x3ff0000010000000, 0, 0, 0x3f800001, NX),
    D(OP_CVT, RNE, F64_MAX, 0, 0, F32_INF, OF | NX),
    D(OP_CVT, RTZ, F64_MAX, 0, 0, F32_MAX, OF | NX),
    D(OP_CVT, RDN, F64_MAX, 0, 0, F32_MAX, OF | NX),
    D(OP_CVT, RDN, F64_NMAX, 0, 0, F32_NINF, OF | NX),
    D(OP_CVT, RUP, F64_NMAX, 0, 0, F32_NMAX, OF | NX),
    D(OP_CVT, RNE, 0x47efffffefffffff, 0, 0, F32_MAX, NX), /* just below MAX + half ulp */
    D(OP_CVT, RNE, 0x47effffff0000000, 0, 0, F32_INF, OF | NX),
    D(OP_CVT, RNE, 0x3690000000000000, 0, 0, F32_PZ, UF | NX), /* 2^-150: tie */
    D(OP_CVT, RMM, 0x3690000000000000, 0, 0, F32_MINS, UF | NX),
    D(OP_CVT, RNE, 0x3690000000000001, 0, 0, F32_MINS, UF | NX),
    D(OP_CVT, RNE, F64_MINS, 0, 0, F32_PZ, UF | NX),
    D(OP_CVT, RUP, F64_MINS, 0, 0, F32_MINS, UF | NX),
    D(OP_CVT, RDN, 0x8000000000000001, 0, 0, 0x80000001, UF | NX),
    D(OP_CVT, RNE, 0x380fffffc0000000, 0, 0, F32_MAXS, 0), /* exact subnormal */
    /* Tininess after rounding: 2^-126 (1 - 2^-25) rounds, with an unbounded exponent, to
     * 2^-126 and so is not tiny; 2^-126 (1 - 2^-24) is. Both round to MINN. */
    D(OP_CVT, RNE, 0x380ffffff0000000, 0, 0, F32_MINN, NX),
    D(OP_CVT, RNE, 0x380fffffe0000000, 0, 0, F32_MINN, UF | NX),
    D(OP_CVT, RUP, 0x380fffffe0000001, 0, 0, F32_MINN, NX),
    D(OP_CVT, RUP, 0x380fffffdfffffff, 0, 0, F32_MINN, UF | NX),
    D(OP_CVT, RTZ, 0x380ffffff0000000, 0, 0, F32_MAXS, UF | NX),
    D(OP_CVT, RMM, 0x380ffffff0000000, 0, 0, F32_MINN, NX),
    D(OP_CVT, RNE, 0x380fffffefffffff, 0, 0, F32_MINN, UF | NX), /* just above the midpoint */
    D(OP_CVT, RNE, 0x380fffffdfffffff, 0, 0, F32_MAXS, UF | NX), /* just below it */
};

static void run_hand_cases(void)
{
    for (size_t i = 0; i < sizeof(hand_cases) / sizeof(hand_cases[0]); i++) {
        const struct hand_case *t = &hand_cases[i];
        unsigned fl = 0;
        uint64_t r = sf_run(t->is64, t->op, t->a, t->b, t->c, t->rm, &fl);
        if (r == t->expect && fl == t->flags) {
            test_passed++;
        } else {
            test_failed++;
            fprintf(stderr,
                    "%s:%d: %s.%s %s(%#" PRIx64 ", %#" PRIx64 ", %#" PRIx64 ") = %#" PRIx64
                    " flags %#x, expected %#" PRIx64 " flags %#x\n",
                    __FILE__, t->line, op_names[t->op], t->is64 ? "d" : "s", rm_names[t->rm],
                    t->a, t->b, t->c, r, fl, t->expect, t->flags);
        }
    }
}

/* Flags accumulate; an exact operation adds nothing. */
static void test_flag_accumulation(void)
{
    unsigned fl = RV_FF_DZ;
    CHECK_EQ(rv_f32_add(F32_ONE, F32_ONE, RNE, &fl), F32_TWO);
    CHECK_EQ(fl, RV_FF_DZ);
    CHECK_EQ(rv_f64_div(F64_ONE, 0x4008000000000000, RNE, &fl), 0x3fd5555555555555);
    CHECK_EQ(fl, RV_FF_DZ | RV_FF_NX);
}

static double d_of(uint64_t x)
{
    double d;
    memcpy(&d, &x, sizeof(d));
    return d;
}
static uint64_t bits_d(double d)
{
    uint64_t x;
    memcpy(&x, &d, sizeof(x));
    return x;
}
static float f_of(uint32_t x)
{
    float v;
    memcpy(&v, &x, sizeof(v));
    return v;
}
static uint32_t bits_f(float v)
{
    uint32_t x;
    memcpy(&x, &v, sizeof(x));
    return x;
}

/* ---- random operands ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd64(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n) { return (unsigned)(rnd64() % n); }

struct fmt {
    bool is64;
    unsigned mb; /* fraction bits */
    int emax;    /* all-ones exponent */
    int bias;
};

static const struct fmt fmt32 = {false, 23, 0xff, 127};
static const struct fmt fmt64 = {true, 52, 0x7ff, 1023};

static uint64_t frac_mask(const struct fmt *f) { return (1ull << f->mb) - 1; }
static int exp_of(const struct fmt *f, uint64_t x) { return (int)(x >> f->mb) & f->emax; }
static bool sign_of(const struct fmt *f, uint64_t x) { return (x >> (f->is64 ? 63 : 31)) & 1; }

static uint64_t width_mask(const struct fmt *f) { return f->is64 ? ~0ull : 0xffffffffull; }

static uint64_t compose(const struct fmt *f, bool sign, int exp, uint64_t frac)
{
    if (exp < 0)
        exp = 0;
    if (exp > f->emax)
        exp = f->emax;
    return ((uint64_t)sign << (f->is64 ? 63 : 31)) | ((uint64_t)exp << f->mb) |
           (frac & frac_mask(f));
}

/* Fractions biased toward patterns that produce exact results, ties and carries. */
static uint64_t gen_frac(const struct fmt *f)
{
    uint64_t m = frac_mask(f);
    switch (rnd_below(9)) {
    case 0: return 0;
    case 1: return m;
    case 2: return m ^ (1ull << rnd_below(f->mb));
    case 3: return (1ull << rnd_below(f->mb)) | (1ull << rnd_below(f->mb));
    case 4: return rnd64() & m & ~((1ull << rnd_below(f->mb)) - 1); /* short significand */
    case 5: return (rnd64() & m) >> rnd_below(f->mb);
    case 6: return (m >> rnd_below(4)) ^ (rnd64() & 7);
    default: return rnd64() & m;
    }
}

static int gen_exp(const struct fmt *f)
{
    switch (rnd_below(10)) {
    case 0: return (int)rnd_below(f->mb + 3); /* subnormal and smallest normals */
    case 1: return f->emax - 1 - (int)rnd_below(f->mb + 3);
    case 2: return 0;
    case 3: return f->emax;
    case 4:
    case 5: return f->bias - 16 + (int)rnd_below(32);
    default: return (int)rnd_below((unsigned)f->emax);
    }
}

static uint64_t gen_float(const struct fmt *f)
{
    if (rnd_below(5) == 0)
        return f->is64 ? rnd64() : (uint32_t)rnd64();
    return compose(f, rnd64() & 1, gen_exp(f), gen_frac(f));
}

/* A second operand related to the first so that alignment, cancellation, ties, overflow and
 * underflow all come up often. */
static uint64_t gen_related(const struct fmt *f, uint64_t a)
{
    int ea = exp_of(f, a);
    int delta = (int)rnd_below(7) - 3;
    switch (rnd_below(10)) {
    case 0:
    case 1: return gen_float(f);
    case 2:
        return ((a + rnd_below(9) - 4) ^ ((uint64_t)(rnd64() & 1) << (f->is64 ? 63 : 31))) &
               width_mask(f);
    case 3: /* exponent close by: alignment shifts up to a full significand and a bit */
        return compose(f, rnd64() & 1, ea + (int)rnd_below(2 * f->mb + 8) - (int)f->mb - 4,
                       rnd64() & 1 ? gen_frac(f) : a);
    case 4: return compose(f, rnd64() & 1, f->emax - 1 + f->bias - ea + delta, gen_frac(f));
    case 5: return compose(f, rnd64() & 1, f->bias - ea + delta, gen_frac(f)); /* a*b tiny */
    case 6: return compose(f, rnd64() & 1, ea - f->emax + 1 + f->bias + delta, gen_frac(f));
    case 7: return compose(f, rnd64() & 1, ea + f->bias + delta, gen_frac(f)); /* a/b tiny */
    case 8: return compose(f, rnd64() & 1, f->bias + delta, gen_frac(f));
    default: return a ^ ((uint64_t)1 << (f->is64 ? 63 : 31));
    }
}

/* An addend for a*b: independent, close to -(a*b), or at a nearby exponent. */
static uint64_t gen_addend(const struct fmt *f, uint64_t a, uint64_t b)
{
    unsigned fl = 0;
    uint64_t p = sf_run(f->is64, OP_MUL, a, b, 0, RNE, &fl);
    switch (rnd_below(6)) {
    case 0:
    case 1: return gen_float(f);
    case 2:
    case 3:
        return ((p + rnd_below(9) - 4) ^ ((uint64_t)(rnd64() & 1) << (f->is64 ? 63 : 31))) &
               width_mask(f);
    default:
        return compose(f, rnd64() & 1,
                       exp_of(f, p) + (int)rnd_below(4 * f->mb + 12) - 2 * (int)f->mb - 6,
                       gen_frac(f));
    }
}

static uint64_t gen_int(void)
{
    switch (rnd_below(7)) {
    case 0: return rnd64();
    case 1: return rnd64() >> rnd_below(64);
    case 2: return (1ull << rnd_below(64)) + rnd_below(5) - 2;
    case 3: return ((rnd64() | 1) >> rnd_below(64)) << rnd_below(64); /* few significant bits */
    case 4: return (uint64_t)((int64_t)rnd_below(101) - 50);
    case 5: return -(rnd64() >> rnd_below(64));
    default: { /* p + 1 significant bits ending in 1: an exact tie for binary32 or binary64 */
        unsigned bits = rnd64() & 1 ? 25 : 54;
        uint64_t v = (rnd64() >> (64 - bits)) | (1ull << (bits - 1)) | 1;
        return v << rnd_below(65 - bits);
    }
    }
}

/* Floats close to integer boundaries, halves and the integer ranges' ends. */
static uint64_t gen_float_for_int(const struct fmt *f)
{
    if (rnd_below(3) == 0)
        return gen_float(f);
    int e = f->bias - 3 + (int)rnd_below(70);
    return compose(f, rnd64() & 1, e, rnd_below(3) ? gen_frac(f) : rnd64());
}

/* ---- 2. host comparison (x86-64 SSE, MXCSR) ------------------------------------------------- */

#if defined(__x86_64__)
#define HAVE_HOST 1

static const unsigned mxcsr_rc[4] = {[RNE] = 0u << 13, [RTZ] = 3u << 13, [RDN] = 1u << 13,
                                     [RUP] = 2u << 13};

/* Sets the rounding mode, all exceptions masked, flags clear, no DAZ/FTZ. */
static inline void host_begin(unsigned rm)
{
    unsigned m = 0x1f80 | mxcsr_rc[rm];
    __asm__ volatile("ldmxcsr %0" : : "m"(m));
}

/* Returns the raised flags as RV_FF_* (DE, the x86-only denormal flag, is ignored) and goes
 * back to the default MXCSR. */
static inline unsigned host_end(void)
{
    unsigned m, def = 0x1f80, fl = 0;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    __asm__ volatile("ldmxcsr %0" : : "m"(def));
    if (m & 0x01)
        fl |= NV;
    if (m & 0x04)
        fl |= DZ;
    if (m & 0x08)
        fl |= OF;
    if (m & 0x10)
        fl |= UF;
    if (m & 0x20)
        fl |= NX;
    return fl;
}

static bool host_has_fma;

/* Binary64 arithmetic on the host: (result, flags) with NaN results mapped to canonical. */
static uint64_t host_f64(enum op op, uint64_t a, uint64_t b, uint64_t c, unsigned rm, unsigned *fl)
{
    double x = d_of(a), y = d_of(b), z = d_of(c);
    if (op == OP_FMSUB || op == OP_FNMADD)
        z = -z;
    if (op == OP_FNMSUB || op == OP_FNMADD)
        x = -x; /* -(a*b) == (-a)*b exactly; NaN signs do not matter */
    host_begin(rm);
    switch (op) {
    case OP_ADD: __asm__ volatile("addsd %1, %0" : "+x"(x) : "x"(y)); break;
    case OP_SUB: __asm__ volatile("subsd %1, %0" : "+x"(x) : "x"(y)); break;
    case OP_MUL: __asm__ volatile("mulsd %1, %0" : "+x"(x) : "x"(y)); break;
    case OP_DIV: __asm__ volatile("divsd %1, %0" : "+x"(x) : "x"(y)); break;
    case OP_SQRT: __asm__ volatile("sqrtsd %1, %0" : "=x"(x) : "x"(x)); break;
    default:
        __asm__ volatile("vfmadd231sd %2, %1, %0" : "+x"(z) : "x"(x), "x"(y));
        x = z;
        break;
    }
    *fl = host_end();
    return isnan(x) ? RV_F64_CANONICAL_NAN : bits_d(x);
}

static uint64_t host_f32(enum op op, uint64_t a, uint64_t b, uint64_t c, unsigned rm, unsigned *fl)
{
    float x = f_of((uint32_t)a), y = f_of((uint32_t)b), z = f_of((uint32_t)c);
    if (op == OP_FMSUB || op == OP_FNMADD)
        z = -z;
    if (op == OP_FNMSUB || op == OP_FNMADD)
        x = -x;
    host_begin(rm);
    switch (op) {
    case OP_ADD: __asm__ volatile("addss %1, %0" : "+x"(x) : "x"(y)); break;
    case OP_SUB: __asm__ volatile("subss %1, %0" : "+x"(x) : "x"(y)); break;
    case OP_MUL: __asm__ volatile("mulss %1, %0" : "+x"(x) : "x"(y)); break;
    case OP_DIV: __asm__ volatile("divss %1, %0" : "+x"(x) : "x"(y)); break;
    case OP_SQRT: __asm__ volatile("sqrtss %1, %0" : "=x"(x) : "x"(x)); break;
    default:
        __asm__ volatile("vfmadd231ss %2, %1, %0" : "+x"(z) : "x"(x), "x"(y));
        x = z;
        break;
    }
    *fl = host_end();
    return isnan(x) ? RV_F32_CANONICAL_NAN : bits_f(x);
}

/* Float -> integer on the host, mapped onto the RISC-V saturation table. The value (exact in
 * binary64 for either format) is converted with a 64-bit cvtsd2si; out-of-range results, which
 * x86 reports as the "integer indefinite" with IE, become the saturated value with NV only. */
static uint64_t host_to_int(double x, bool is_signed, unsigned width, unsigned rm, unsigned *fl)
{
    const double two63 = 9223372036854775808.0;
    uint64_t max_pos = is_signed ? (1ull << (width - 1)) - 1 : ~0ull >> (64 - width);
    uint64_t neg_sat = is_signed ? -(1ull << (width - 1)) : 0;
    uint64_t mask = width == 32 ? 0xffffffffull : ~0ull;
    if (isnan(x)) {
        *fl = NV;
        return max_pos & mask;
    }
    int64_t r;
    bool big = !is_signed && width == 64 && x >= two63;
    double y = big ? x - two63 : x; /* exact: binary64 values >= 2^63 are integers */
    host_begin(rm);
    __asm__ volatile("cvtsd2si %1, %0" : "=r"(r) : "x"(y));
    *fl = host_end();
    bool invalid = *fl & NV;
    if (!invalid) {
        if (big)
            return (uint64_t)r + (1ull << 63);
        if (is_signed && width == 32)
            invalid = r < INT32_MIN || r > INT32_MAX;
        else if (!is_signed)
            invalid = r < 0 || (width == 32 && r > (int64_t)UINT32_MAX);
    }
    if (invalid) {
        *fl = NV;
        return (x < 0 ? neg_sat : max_pos) & mask;
    }
    return (uint64_t)r & mask;
}

/* Integer -> float on the host. Unsigned 64-bit values with the top bit set are halved with
 * the lost bit kept as a sticky bit, converted, and doubled exactly. */
static uint64_t host_from_int(bool is64, uint64_t v, bool is_signed, unsigned width, unsigned rm,
                              unsigned *fl)
{
    int64_t s;
    if (width == 32)
        s = is_signed ? (int64_t)(int32_t)(uint32_t)v : (int64_t)(uint32_t)v;
    else
        s = (int64_t)v;
    bool halve = !is_signed && width == 64 && (int64_t)v < 0;
    if (halve)
        s = (int64_t)((v >> 1) | (v & 1));
    if (is64) {
        double d;
        host_begin(rm);
        __asm__ volatile("cvtsi2sdq %1, %0" : "=x"(d) : "r"(s));
        if (halve)
            __asm__ volatile("addsd %0, %0" : "+x"(d));
        *fl = host_end();
        return bits_d(d);
    }
    float f;
    host_begin(rm);
    __asm__ volatile("cvtsi2ssq %1, %0" : "=x"(f) : "r"(s));
    if (halve)
        __asm__ volatile("addss %0, %0" : "+x"(f));
    *fl = host_end();
    return bits_f(f);
}

static uint64_t host_cvt(bool from64, uint64_t a, unsigned rm, unsigned *fl)
{
    if (from64) {
        double x = d_of(a);
        float r;
        host_begin(rm);
        __asm__ volatile("cvtsd2ss %1, %0" : "=x"(r) : "x"(x));
        *fl = host_end();
        return isnan(r) ? RV_F32_CANONICAL_NAN : bits_f(r);
    }
    float x = f_of((uint32_t)a);
    double r;
    host_begin(rm);
    __asm__ volatile("cvtss2sd %1, %0" : "=x"(r) : "x"(x));
    *fl = host_end();
    return isnan(r) ? RV_F64_CANONICAL_NAN : bits_d(r);
}

/* FEQ is the quiet cmpeq predicate; FLT/FLE are the signalling cmplt/cmple. */
static uint64_t host_cmp(bool is64, enum op op, uint64_t a, uint64_t b, unsigned *fl)
{
    uint64_t r;
    if (is64) {
        double x = d_of(a), y = d_of(b);
        host_begin(RNE);
        if (op == OP_EQ)
            __asm__ volatile("cmpeqsd %1, %0" : "+x"(x) : "x"(y));
        else if (op == OP_LT)
            __asm__ volatile("cmpltsd %1, %0" : "+x"(x) : "x"(y));
        else
            __asm__ volatile("cmplesd %1, %0" : "+x"(x) : "x"(y));
        *fl = host_end();
        r = bits_d(x);
    } else {
        float x = f_of((uint32_t)a), y = f_of((uint32_t)b);
        host_begin(RNE);
        if (op == OP_EQ)
            __asm__ volatile("cmpeqss %1, %0" : "+x"(x) : "x"(y));
        else if (op == OP_LT)
            __asm__ volatile("cmpltss %1, %0" : "+x"(x) : "x"(y));
        else
            __asm__ volatile("cmpless %1, %0" : "+x"(x) : "x"(y));
        *fl = host_end();
        r = bits_f(x);
    }
    return r != 0;
}

static bool is_inf_times_zero(const struct fmt *f, uint64_t a, uint64_t b)
{
    uint64_t abs_mask = f->is64 ? ~0ull >> 1 : 0x7fffffffu;
    uint64_t inf = (uint64_t)f->emax << f->mb;
    uint64_t aa = a & abs_mask, bb = b & abs_mask;
    return (aa == inf && bb == 0) || (aa == 0 && bb == inf);
}

/* The host's answer for one operation in RISC-V terms; false when the host cannot tell. */
static bool host_run(const struct fmt *f, enum op op, uint64_t a, uint64_t b, uint64_t c,
                     unsigned rm, uint64_t *r, unsigned *fl)
{
    switch (op) {
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_SQRT:
    case OP_FMADD:
    case OP_FMSUB:
    case OP_FNMSUB:
    case OP_FNMADD:
        if (op >= OP_FMADD && !host_has_fma)
            return false;
        *r = f->is64 ? host_f64(op, a, b, c, rm, fl) : host_f32(op, a, b, c, rm, fl);
        /* x86 does not raise IE for inf * 0 + qNaN; RISC-V requires NV (F extension). */
        if (op >= OP_FMADD && is_inf_times_zero(f, a, b))
            *fl |= NV;
        return true;
    case OP_EQ:
    case OP_LT:
    case OP_LE: *r = host_cmp(f->is64, op, a, b, fl); return true;
    case OP_TO_I32:
    case OP_TO_U32:
    case OP_TO_I64:
    case OP_TO_U64: {
        double x = f->is64 ? d_of(a) : (double)f_of((uint32_t)a); /* exact */
        *r = host_to_int(x, op == OP_TO_I32 || op == OP_TO_I64,
                         op == OP_TO_I32 || op == OP_TO_U32 ? 32 : 64, rm, fl);
        return true;
    }
    case OP_FROM_I32:
    case OP_FROM_U32:
    case OP_FROM_I64:
    case OP_FROM_U64:
        *r = host_from_int(f->is64, a, op == OP_FROM_I32 || op == OP_FROM_I64,
                           op == OP_FROM_I32 || op == OP_FROM_U32 ? 32 : 64, rm, fl);
        return true;
    case OP_CVT: *r = host_cvt(f->is64, a, rm, fl); return true;
    default: return false;
    }
}
#else
#define HAVE_HOST 0
#endif

/* ---- 3. RMM by definition -------------------------------------------------------------------
 * RMM gives the RNE result and flags, except that an exact tie between the RDN and RUP results
 * rounds to the one of larger magnitude. Ties are detected exactly in binary128: the midpoint
 * m of two adjacent floats has at most p + 1 significant bits, so m * b (div), m * m (sqrt) and
 * a * b (mul, fma) are exact there, and for sums TwoSum gives the exact error. */

typedef __float128 quad;

static quad q_of(const struct fmt *f, uint64_t x)
{
    return f->is64 ? (quad)d_of(x) : (quad)f_of((uint32_t)x);
}

static bool is_nan_bits(const struct fmt *f, uint64_t x)
{
    return exp_of(f, x) == f->emax && (x & frac_mask(f));
}

static uint64_t abs_bits(const struct fmt *f, uint64_t x)
{
    return x & (f->is64 ? ~0ull >> 1 : 0x7fffffffu);
}

/* Value of a rounded result, with infinity standing for 2^(emax + 1) (the next power of two
 * above the largest finite value, which an overflowing tie is halfway to). */
static quad q_result(const struct fmt *f, uint64_t x)
{
    if (abs_bits(f, x) == (uint64_t)f->emax << f->mb) {
        quad big = f->is64 ? (quad)0x1p1023 * 2 : (quad)0x1p127 * 2;
        return sign_of(f, x) ? -big : big;
    }
    return q_of(f, x);
}

static void two_sum(quad a, quad b, quad *s, quad *e)
{
    volatile quad sum = a + b; /* volatile: no reassociation */
    quad bb = sum - a;
    *s = sum;
    *e = (a - (sum - bb)) + (b - bb);
}

static quad q_int(enum op op, uint64_t v)
{
    switch (op) {
    case OP_FROM_I32: return (quad)(int32_t)(uint32_t)v;
    case OP_FROM_U32: return (quad)(uint32_t)v;
    case OP_FROM_I64: return (quad)(int64_t)v;
    default: return (quad)v;
    }
}

/* Whether the exact result of op lies exactly on `mid`. */
static bool exact_result_is(const struct fmt *f, enum op op, uint64_t a, uint64_t b, uint64_t c,
                            quad mid)
{
    quad s, e;
    switch (op) {
    case OP_ADD:
    case OP_SUB:
        two_sum(q_of(f, a), op == OP_SUB ? -q_of(f, b) : q_of(f, b), &s, &e);
        return s == mid && e == 0;
    case OP_MUL: return q_of(f, a) * q_of(f, b) == mid;
    case OP_DIV: return mid * q_of(f, b) == q_of(f, a);
    case OP_SQRT: return mid * mid == q_of(f, a);
    case OP_FMADD:
    case OP_FMSUB:
    case OP_FNMSUB:
    case OP_FNMADD: {
        quad p = q_of(f, a) * q_of(f, b), q = q_of(f, c);
        if (op == OP_FNMSUB || op == OP_FNMADD)
            p = -p;
        if (op == OP_FMSUB || op == OP_FNMADD)
            q = -q;
        two_sum(p, q, &s, &e);
        return s == mid && e == 0;
    }
    case OP_FROM_I32:
    case OP_FROM_U32:
    case OP_FROM_I64:
    case OP_FROM_U64: return q_int(op, a) == mid;
    case OP_CVT: return q_of(&fmt64, a) == mid; /* f64 -> f32 */
    default: return false;
    }
}

/* RMM for float -> integer, straight from the definition with binary64 arithmetic (x is the
 * exact value; trunc and x - trunc(x) are exact). */
static uint64_t ref_rmm_to_int(double x, enum op op, unsigned *fl)
{
    bool is_signed = op == OP_TO_I32 || op == OP_TO_I64;
    unsigned width = op == OP_TO_I32 || op == OP_TO_U32 ? 32 : 64;
    uint64_t mask = width == 32 ? 0xffffffffull : ~0ull;
    uint64_t max_pos = is_signed ? (1ull << (width - 1)) - 1 : mask;
    uint64_t neg_sat = is_signed ? -(1ull << (width - 1)) & mask : 0;
    double lo = is_signed ? -ldexp(1, (int)width - 1) : 0;
    double hi = ldexp(1, (int)width - !!is_signed); /* exclusive */
    if (isnan(x)) {
        *fl = NV;
        return max_pos;
    }
    double t = isinf(x) ? x : trunc(x);
    double frac = isinf(x) ? 0 : x - t;
    double r = fabs(frac) >= 0.5 ? t + copysign(1, x) : t;
    if (!(r >= lo && r < hi)) {
        *fl = NV;
        return x < 0 ? neg_sat : max_pos;
    }
    *fl = frac != 0 ? NX : 0;
    if (r >= 0x1p63)
        return (uint64_t)(r - 0x1p63) + (1ull << 63);
    return (uint64_t)(int64_t)r & mask;
}

/* ---- software references for operations the host cannot check ------------------------------ */

static double value_of(const struct fmt *f, uint64_t x)
{
    return f->is64 ? d_of(x) : (double)f_of((uint32_t)x);
}

static bool is_snan_bits(const struct fmt *f, uint64_t x)
{
    return is_nan_bits(f, x) && !(x & (1ull << (f->mb - 1)));
}

static uint64_t ref_minmax(const struct fmt *f, uint64_t a, uint64_t b, bool is_max, unsigned *fl)
{
    *fl = is_snan_bits(f, a) || is_snan_bits(f, b) ? NV : 0;
    bool na = is_nan_bits(f, a), nb = is_nan_bits(f, b);
    if (na && nb)
        return f->is64 ? RV_F64_CANONICAL_NAN : RV_F32_CANONICAL_NAN;
    if (na || nb)
        return na ? b : a;
    double x = value_of(f, a), y = value_of(f, b);
    if (x == y) { /* equal values; only +0 vs -0 can still differ */
        if (sign_of(f, a) != sign_of(f, b))
            return sign_of(f, a) != is_max ? a : b;
        return a;
    }
    return (x < y) != is_max ? a : b;
}

static uint64_t ref_class(const struct fmt *f, uint64_t a)
{
    bool neg = sign_of(f, a);
    if (is_nan_bits(f, a))
        return is_snan_bits(f, a) ? 1u << 8 : 1u << 9;
    int cls = f->is64 ? fpclassify(d_of(a)) : fpclassify(f_of((uint32_t)a));
    switch (cls) {
    case FP_INFINITE: return neg ? 1u << 0 : 1u << 7;
    case FP_NORMAL: return neg ? 1u << 1 : 1u << 6;
    case FP_SUBNORMAL: return neg ? 1u << 2 : 1u << 5;
    default: return neg ? 1u << 3 : 1u << 4;
    }
}

/* ---- the random driver ---------------------------------------------------------------------- */

static unsigned long long n_tuples, n_host, n_rmm, n_ref;
static unsigned fails[2][OP_COUNT];

static void report(const struct fmt *f, enum op op, const char *what, unsigned rm, uint64_t a,
                   uint64_t b, uint64_t c, uint64_t got, unsigned got_fl, uint64_t want,
                   unsigned want_fl)
{
    if (fails[f->is64][op]++ < 4)
        fprintf(stderr,
                "%s mismatch: %s.%s %s(%#" PRIx64 ", %#" PRIx64 ", %#" PRIx64 ") = %#" PRIx64
                " flags %#x, expected %#" PRIx64 " flags %#x\n",
                what, op_names[op], f->is64 ? "d" : "s", rm_names[rm], a, b, c, got, got_fl,
                want, want_fl);
}

static bool rounds(enum op op)
{
    return !(op == OP_MIN || op == OP_MAX || op == OP_EQ || op == OP_LT || op == OP_LE ||
             op == OP_CLASS);
}

static void check_tuple(const struct fmt *f, enum op op, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t res[5];
    unsigned fls[5];
    unsigned n_rm = rounds(op) ? 4 : 1;
    n_tuples++;
    for (unsigned rm = 0; rm < n_rm; rm++) {
        fls[rm] = 0;
        res[rm] = sf_run(f->is64, op, a, b, c, rm, &fls[rm]);
        uint64_t want = 0;
        unsigned want_fl = 0;
        bool have = false;
#if HAVE_HOST
        have = host_run(f, op, a, b, c, rm, &want, &want_fl);
        n_host += have;
#endif
        if (!have && (op == OP_MIN || op == OP_MAX)) {
            want = ref_minmax(f, a, b, op == OP_MAX, &want_fl);
            have = true;
            n_ref++;
        } else if (!have && op == OP_CLASS) {
            want = ref_class(f, a);
            have = true;
            n_ref++;
        }
        if (have && (res[rm] != want || fls[rm] != want_fl))
            report(f, op, "host/ref", rm, a, b, c, res[rm], fls[rm], want, want_fl);
    }
    if (!rounds(op) || (op == OP_CVT && !f->is64))
        return;

    /* RMM. */
    fls[RMM] = 0;
    res[RMM] = sf_run(f->is64, op, a, b, c, RMM, &fls[RMM]);
    uint64_t want;
    unsigned want_fl = fls[RNE];
    n_rmm++;
    if (op >= OP_TO_I32 && op <= OP_TO_U64) {
        want = ref_rmm_to_int(value_of(f, a), op, &want_fl);
    } else if (!(fls[RNE] & NX)) {
        want = res[RNE]; /* exact (or NaN, or invalid) */
    } else {
        /* Result format: f32 for CVT from f64, otherwise the operation's format. */
        const struct fmt *rf = op == OP_CVT ? &fmt32 : f;
        quad mid = (q_result(rf, res[RDN]) + q_result(rf, res[RUP])) / 2;
        if (exact_result_is(f, op, a, b, c, mid))
            want = abs_bits(rf, res[RDN]) > abs_bits(rf, res[RUP]) ? res[RDN] : res[RUP];
        else
            want = res[RNE];
    }
    if (res[RMM] != want || fls[RMM] != want_fl)
        report(f, op, "rmm", RMM, a, b, c, res[RMM], fls[RMM], want, want_fl);
}

/* Square-root operands: random, near-squares (exact or almost exact roots), mostly positive. */
static uint64_t gen_sqrt_operand(const struct fmt *f)
{
    unsigned fl = 0;
    uint64_t r = compose(f, 0, gen_exp(f), gen_frac(f));
    switch (rnd_below(3)) {
    case 0: return gen_float(f);
    case 1: return (sf_run(f->is64, OP_MUL, r, r, 0, RNE, &fl) + rnd_below(5) - 2) & width_mask(f);
    default: return compose(f, rnd_below(8) == 0, gen_exp(f), gen_frac(f));
    }
}

static void random_tests(unsigned iterations)
{
#if HAVE_HOST
    host_has_fma = __builtin_cpu_supports("fma");
    if (!host_has_fma)
        printf("host has no FMA: fused multiply-add checked for RMM only\n");
#endif
    for (int fi = 0; fi < 2; fi++) {
        const struct fmt *f = fi ? &fmt64 : &fmt32;
        for (unsigned i = 0; i < iterations; i++) {
            uint64_t a = gen_float(f);
            uint64_t b = gen_related(f, a);
            uint64_t c = gen_addend(f, a, b);
            check_tuple(f, OP_ADD, a, b, 0);
            check_tuple(f, OP_SUB, a, b, 0);
            check_tuple(f, OP_MUL, a, b, 0);
            check_tuple(f, OP_DIV, a, b, 0);
            check_tuple(f, (enum op)(OP_FMADD + (i & 3)), a, b, c);
            check_tuple(f, OP_SQRT, gen_sqrt_operand(f), 0, 0);
            check_tuple(f, OP_MIN, a, b, 0);
            check_tuple(f, OP_MAX, a, b, 0);
            check_tuple(f, OP_EQ, a, i & 8 ? a : b, 0);
            check_tuple(f, OP_LT, a, b, 0);
            check_tuple(f, OP_LE, a, i & 16 ? a : b, 0);
            check_tuple(f, OP_CLASS, a, 0, 0);
            check_tuple(f, OP_CVT, f->is64 ? c : a, 0, 0);
            uint64_t v = gen_int();
            for (enum op op = OP_FROM_I32; op <= OP_FROM_U64; op++)
                check_tuple(f, op, v, 0, 0);
            uint64_t x = gen_float_for_int(f);
            for (enum op op = OP_TO_I32; op <= OP_TO_U64; op++)
                check_tuple(f, op, x, 0, 0);
        }
    }
    for (int fi = 0; fi < 2; fi++)
        for (int op = 0; op < OP_COUNT; op++)
            CHECK_EQ(fails[fi][op], 0);
    printf("random: %llu operand tuples, %llu host comparisons, %llu reference comparisons, "
           "%llu RMM checks\n",
           n_tuples, n_host, n_ref, n_rmm);
}

int main(void)
{
    run_hand_cases();
    test_flag_accumulation();
    random_tests(60000);
    TEST_MAIN_END();
}
