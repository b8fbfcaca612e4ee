/* Software FPU, the non-arithmetic half: conversions between formats and to/from integers,
 * comparisons, FMIN/FMAX and FCLASS, with RISC-V semantics (unprivileged spec, F extension,
 * "Single-Precision Floating-Point Conversion and Move Instructions" and following). */
#include "cpu/softfloat.h"

#include "cpu/softfloat_internal.h"

/* ---- float -> integer ------------------------------------------------------------------------
 * The value is rounded to an integer first and range-checked after rounding ("minimum/maximum
 * valid input (after rounding)"), so -0.3 -> unsigned rounds to 0 and is only inexact, while
 * -0.7 -> unsigned under RNE rounds to -1 and is invalid. Invalid conversions return the
 * saturated value of the conversion table (NaN and +inf give the largest positive value) and
 * raise NV but never NX ("set NX if the rounded result differs ... and NV is not set"). */
SF_INLINE uint64_t sf_to_int(unsigned mb, uint64_t a, unsigned rm, bool is_signed, unsigned width,
                             unsigned *flags)
{
    const uint64_t max_pos = is_signed ? (1ull << (width - 1)) - 1 : ~0ull >> (64 - width);
    const uint64_t max_neg = is_signed ? 1ull << (width - 1) : 0; /* magnitude */
    bool sign = sf_sign(mb, a);

    if (__builtin_expect(sf_is_special(mb, a), 0)) {
        *flags |= RV_FF_NV;
        return sf_is_nan(mb, a) || !sign ? max_pos : -max_neg;
    }
    if (sf_is_zero(mb, a))
        return 0;

    uint64_t sig;
    int exp = sf_unpack(mb, a, &sig) - sf_bias(mb); /* |a| = sig * 2^(exp - 62) */
    uint64_t mag, frac; /* integer part, fraction (bit 63 = one half) */
    if (exp > 63)
        goto invalid;
    if (exp >= 62) {
        mag = sig << (exp - 62);
        frac = 0;
    } else {
        unsigned shift = (unsigned)(62 - exp);
        if (shift < 64) {
            mag = sig >> shift;
            frac = sig << (64 - shift);
        } else {
            mag = 0;
            frac = shift == 64 ? sig : 1; /* below one quarter: only stickiness matters */
        }
    }

    const uint64_t half = 1ull << 63;
    bool up;
    switch (rm) {
    case RV_RM_RNE: up = frac > half || (frac == half && (mag & 1)); break;
    case RV_RM_RTZ: up = false; break;
    case RV_RM_RDN: up = sign && frac; break;
    case RV_RM_RUP: up = !sign && frac; break;
    default: up = frac >= half; break; /* RMM */
    }
    mag += up; /* cannot wrap: frac != 0 implies mag < 2^62 */

    if (sign ? mag > max_neg : mag > max_pos)
        goto invalid;
    if (frac)
        *flags |= RV_FF_NX;
    return sign ? -mag : mag;

invalid:
    *flags |= RV_FF_NV;
    return sign ? -max_neg : max_pos;
}

int32_t rv_f32_to_i32(uint32_t a, unsigned rm, unsigned *flags)
{
    return (int32_t)(uint32_t)sf_to_int(SF_F32, a, rm, true, 32, flags);
}

uint32_t rv_f32_to_u32(uint32_t a, unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_to_int(SF_F32, a, rm, false, 32, flags);
}

int64_t rv_f32_to_i64(uint32_t a, unsigned rm, unsigned *flags)
{
    return (int64_t)sf_to_int(SF_F32, a, rm, true, 64, flags);
}

uint64_t rv_f32_to_u64(uint32_t a, unsigned rm, unsigned *flags)
{
    return sf_to_int(SF_F32, a, rm, false, 64, flags);
}

int32_t rv_f64_to_i32(uint64_t a, unsigned rm, unsigned *flags)
{
    return (int32_t)(uint32_t)sf_to_int(SF_F64, a, rm, true, 32, flags);
}

uint32_t rv_f64_to_u32(uint64_t a, unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_to_int(SF_F64, a, rm, false, 32, flags);
}

int64_t rv_f64_to_i64(uint64_t a, unsigned rm, unsigned *flags)
{
    return (int64_t)sf_to_int(SF_F64, a, rm, true, 64, flags);
}

uint64_t rv_f64_to_u64(uint64_t a, unsigned rm, unsigned *flags)
{
    return sf_to_int(SF_F64, a, rm, false, 64, flags);
}

/* ---- integer -> float ------------------------------------------------------------------------
 * Zero converts to +0 without flags (FCVT.S.W rd, x0 "will never set any exception flags"). */
SF_INLINE uint64_t sf_from_int(unsigned mb, bool sign, uint64_t mag, unsigned rm, unsigned *flags)
{
    if (mag == 0)
        return 0;
    unsigned shift = (unsigned)__builtin_clzll(mag);
    uint64_t norm = mag << shift; /* leading bit at 63 */
    return sf_round_pack(mb, sign, sf_bias(mb) + 63 - (int)shift, (norm >> 1) | (norm & 1), rm,
                         flags);
}

static uint64_t sf_abs64(int64_t a) { return a < 0 ? -(uint64_t)a : (uint64_t)a; }

uint32_t rv_i32_to_f32(int32_t a, unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_from_int(SF_F32, a < 0, sf_abs64(a), rm, flags);
}

uint32_t rv_u32_to_f32(uint32_t a, unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_from_int(SF_F32, false, a, rm, flags);
}

uint32_t rv_i64_to_f32(int64_t a, unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_from_int(SF_F32, a < 0, sf_abs64(a), rm, flags);
}

uint32_t rv_u64_to_f32(uint64_t a, unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_from_int(SF_F32, false, a, rm, flags);
}

uint64_t rv_i32_to_f64(int32_t a, unsigned rm, unsigned *flags)
{
    return sf_from_int(SF_F64, a < 0, sf_abs64(a), rm, flags); /* always exact */
}

uint64_t rv_u32_to_f64(uint32_t a, unsigned rm, unsigned *flags)
{
    return sf_from_int(SF_F64, false, a, rm, flags);
}

uint64_t rv_i64_to_f64(int64_t a, unsigned rm, unsigned *flags)
{
    return sf_from_int(SF_F64, a < 0, sf_abs64(a), rm, flags);
}

uint64_t rv_u64_to_f64(uint64_t a, unsigned rm, unsigned *flags)
{
    return sf_from_int(SF_F64, false, a, rm, flags);
}

/* ---- float <-> float ------------------------------------------------------------------------
 * NaNs become the canonical NaN; NV only for a signalling NaN. */
uint64_t rv_f32_to_f64(uint32_t a, unsigned *flags)
{
    uint64_t sign = (uint64_t)sf_sign(SF_F32, a) << 63;
    if (__builtin_expect(sf_is_special(SF_F32, a) || sf_is_zero(SF_F32, a), 0)) {
        if (sf_is_nan(SF_F32, a)) {
            if (sf_is_snan(SF_F32, a))
                *flags |= RV_FF_NV;
            return RV_F64_CANONICAL_NAN;
        }
        return sign | (sf_is_inf(SF_F32, a) ? sf_inf(SF_F64) : 0);
    }
    uint64_t sig;
    int exp = sf_unpack(SF_F32, a, &sig) - sf_bias(SF_F32) + sf_bias(SF_F64);
    /* Always a normal binary64, and exact: pack directly (the leading bit bumps exp - 1). */
    return sign + ((uint64_t)(exp - 1) << 52) + (sig >> 10);
}

uint32_t rv_f64_to_f32(uint64_t a, unsigned rm, unsigned *flags)
{
    bool sign = sf_sign(SF_F64, a);
    if (__builtin_expect(sf_is_special(SF_F64, a) || sf_is_zero(SF_F64, a), 0)) {
        if (sf_is_nan(SF_F64, a)) {
            if (sf_is_snan(SF_F64, a))
                *flags |= RV_FF_NV;
            return RV_F32_CANONICAL_NAN;
        }
        return ((uint32_t)sign << 31) | (sf_is_inf(SF_F64, a) ? (uint32_t)sf_inf(SF_F32) : 0);
    }
    uint64_t sig;
    int exp = sf_unpack(SF_F64, a, &sig) - sf_bias(SF_F64) + sf_bias(SF_F32);
    return (uint32_t)sf_round_pack(SF_F32, sign, exp, sig, rm, flags);
}

/* ---- comparisons ----------------------------------------------------------------------------
 * FEQ is quiet (NV only for a signalling NaN), FLT/FLE are signalling (NV for any NaN); all are
 * false when an operand is NaN. */
SF_INLINE bool sf_eq(unsigned mb, uint64_t a, uint64_t b, unsigned *flags)
{
    if (__builtin_expect(sf_is_nan(mb, a) || sf_is_nan(mb, b), 0)) {
        if (sf_is_snan(mb, a) || sf_is_snan(mb, b))
            *flags |= RV_FF_NV;
        return false;
    }
    return a == b || sf_abs(mb, a | b) == 0; /* +0 == -0 */
}

/* a < b (or a <= b when or_equal) for non-NaN operands. */
SF_INLINE bool sf_less(unsigned mb, uint64_t a, uint64_t b, bool or_equal)
{
    bool sign_a = sf_sign(mb, a);
    if (sign_a != sf_sign(mb, b)) {
        bool both_zero = sf_abs(mb, a | b) == 0;
        return or_equal ? sign_a || both_zero : sign_a && !both_zero;
    }
    if (a == b)
        return or_equal;
    return (a < b) != sign_a; /* sign-magnitude: larger bits are more negative when negative */
}

SF_INLINE bool sf_lt_le(unsigned mb, uint64_t a, uint64_t b, bool or_equal, unsigned *flags)
{
    if (__builtin_expect(sf_is_nan(mb, a) || sf_is_nan(mb, b), 0)) {
        *flags |= RV_FF_NV;
        return false;
    }
    return sf_less(mb, a, b, or_equal);
}

bool rv_f32_eq(uint32_t a, uint32_t b, unsigned *flags) { return sf_eq(SF_F32, a, b, flags); }
bool rv_f32_lt(uint32_t a, uint32_t b, unsigned *flags)
{
    return sf_lt_le(SF_F32, a, b, false, flags);
}
bool rv_f32_le(uint32_t a, uint32_t b, unsigned *flags)
{
    return sf_lt_le(SF_F32, a, b, true, flags);
}
bool rv_f64_eq(uint64_t a, uint64_t b, unsigned *flags) { return sf_eq(SF_F64, a, b, flags); }
bool rv_f64_lt(uint64_t a, uint64_t b, unsigned *flags)
{
    return sf_lt_le(SF_F64, a, b, false, flags);
}
bool rv_f64_le(uint64_t a, uint64_t b, unsigned *flags)
{
    return sf_lt_le(SF_F64, a, b, true, flags);
}

/* ---- FMIN / FMAX ----------------------------------------------------------------------------
 * F extension 2.2 (IEEE 754-201x minimumNumber/maximumNumber): -0 < +0; one NaN operand yields
 * the other operand; two NaNs yield the canonical NaN; any signalling NaN raises NV. */
SF_INLINE uint64_t sf_minmax(unsigned mb, uint64_t a, uint64_t b, bool is_max, unsigned *flags)
{
    bool nan_a = sf_is_nan(mb, a), nan_b = sf_is_nan(mb, b);
    if (__builtin_expect(nan_a || nan_b, 0)) {
        if (sf_is_snan(mb, a) || sf_is_snan(mb, b))
            *flags |= RV_FF_NV;
        if (nan_a && nan_b)
            return sf_default_nan(mb);
        return nan_a ? b : a;
    }
    /* Ordering the bit patterns with -0 below +0 is exactly "less" without the zero rule. */
    bool a_less = sf_sign(mb, a) != sf_sign(mb, b) ? sf_sign(mb, a) : (a < b) != sf_sign(mb, a);
    return a_less != is_max ? a : b;
}

uint32_t rv_f32_min(uint32_t a, uint32_t b, unsigned *flags)
{
    return (uint32_t)sf_minmax(SF_F32, a, b, false, flags);
}
uint32_t rv_f32_max(uint32_t a, uint32_t b, unsigned *flags)
{
    return (uint32_t)sf_minmax(SF_F32, a, b, true, flags);
}
uint64_t rv_f64_min(uint64_t a, uint64_t b, unsigned *flags)
{
    return sf_minmax(SF_F64, a, b, false, flags);
}
uint64_t rv_f64_max(uint64_t a, uint64_t b, unsigned *flags)
{
    return sf_minmax(SF_F64, a, b, true, flags);
}

/* ---- FCLASS ---------------------------------------------------------------------------------
 * Bit: 0 -inf, 1 -normal, 2 -subnormal, 3 -0, 4 +0, 5 +subnormal, 6 +normal, 7 +inf, 8 sNaN,
 * 9 qNaN; exactly one is set. */
SF_INLINE uint32_t sf_classify(unsigned mb, uint64_t a)
{
    bool sign = sf_sign(mb, a);
    int exp = sf_exp_field(mb, a);
    bool frac = (a & sf_frac_mask(mb)) != 0;
    if (exp == sf_emax(mb)) {
        if (frac)
            return (a & sf_quiet_bit(mb)) ? 1u << 9 : 1u << 8;
        return sign ? 1u << 0 : 1u << 7;
    }
    if (exp != 0)
        return sign ? 1u << 1 : 1u << 6;
    if (frac)
        return sign ? 1u << 2 : 1u << 5;
    return sign ? 1u << 3 : 1u << 4;
}

uint32_t rv_f32_classify(uint32_t a) { return sf_classify(SF_F32, a); }
uint32_t rv_f64_classify(uint64_t a) { return sf_classify(SF_F64, a); }
