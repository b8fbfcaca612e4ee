/* Shared internals of the software FPU (softfloat.c, softfloat_conv.c). Not part of the API.
 *
 * Every routine is written once for both formats and takes the fraction width `mb` (23 for
 * binary32, 52 for binary64) as its first argument. The routines are always inlined into the
 * public wrappers, which pass a constant, so each format gets its own specialised code.
 *
 * Finite non-zero values are handled "unpacked" as (sign, exp, sig) with
 *     value = (-1)^sign * sig * 2^(exp - bias - 62),  2^62 <= sig < 2^63,
 * i.e. the leading significand bit sits at bit 62 for both formats, leaving bit 63 free for a
 * carry and 62 - mb bits below the last fraction bit for rounding. `exp` is the biased exponent
 * it would have when packed; it may be <= 0 (subnormals, underflow) or >= the all-ones exponent
 * (overflow). Bits shifted out below bit 0 are "jammed" (ORed) into bit 0, so it works as a
 * sticky bit: exact ties and inexactness are still recognisable after the shift. */
#ifndef RV_CPU_SOFTFLOAT_INTERNAL_H
#define RV_CPU_SOFTFLOAT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/softfloat.h"

#define SF_INLINE static inline __attribute__((always_inline))

#define SF_F32 23 /* fraction bits of binary32 */
#define SF_F64 52 /* fraction bits of binary64 */

typedef unsigned __int128 sf_u128;

SF_INLINE int sf_emax(unsigned mb) { return mb == SF_F32 ? 0xff : 0x7ff; } /* all-ones exponent */
SF_INLINE int sf_bias(unsigned mb) { return mb == SF_F32 ? 127 : 1023; }
SF_INLINE unsigned sf_sign_pos(unsigned mb) { return mb == SF_F32 ? 31 : 63; }
SF_INLINE uint64_t sf_sign_bit(unsigned mb) { return 1ull << sf_sign_pos(mb); }
SF_INLINE uint64_t sf_frac_mask(unsigned mb) { return (1ull << mb) - 1; }
SF_INLINE uint64_t sf_quiet_bit(unsigned mb) { return 1ull << (mb - 1); }
SF_INLINE uint64_t sf_inf(unsigned mb) { return (uint64_t)sf_emax(mb) << mb; }
SF_INLINE uint64_t sf_default_nan(unsigned mb)
{
    return mb == SF_F32 ? RV_F32_CANONICAL_NAN : RV_F64_CANONICAL_NAN;
}

SF_INLINE bool sf_sign(unsigned mb, uint64_t x) { return (x >> sf_sign_pos(mb)) & 1; }
SF_INLINE int sf_exp_field(unsigned mb, uint64_t x) { return (int)(x >> mb) & sf_emax(mb); }
SF_INLINE uint64_t sf_abs(unsigned mb, uint64_t x) { return x & (sf_sign_bit(mb) - 1); }
SF_INLINE bool sf_is_nan(unsigned mb, uint64_t x) { return sf_abs(mb, x) > sf_inf(mb); }
SF_INLINE bool sf_is_inf(unsigned mb, uint64_t x) { return sf_abs(mb, x) == sf_inf(mb); }
SF_INLINE bool sf_is_zero(unsigned mb, uint64_t x) { return sf_abs(mb, x) == 0; }
/* Infinity or NaN. */
SF_INLINE bool sf_is_special(unsigned mb, uint64_t x) { return sf_abs(mb, x) >= sf_inf(mb); }
SF_INLINE bool sf_is_snan(unsigned mb, uint64_t x)
{
    return sf_is_nan(mb, x) && !(x & sf_quiet_bit(mb));
}

/* x >> n with every bit shifted out ORed into bit 0. */
SF_INLINE uint64_t sf_shr_jam64(uint64_t x, unsigned n)
{
    if (n == 0)
        return x;
    if (n < 64)
        return (x >> n) | ((x << (64 - n)) != 0);
    return x != 0;
}

SF_INLINE sf_u128 sf_shr_jam128(sf_u128 x, unsigned n)
{
    if (n == 0)
        return x;
    if (n < 128)
        return (x >> n) | ((x << (128 - n)) != 0);
    return x != 0;
}

/* Keeps the top bits of a 128-bit significand: (x >> 64) with the low half jammed into bit 0. */
SF_INLINE uint64_t sf_hi_jam(sf_u128 x) { return (uint64_t)(x >> 64) | ((uint64_t)x != 0); }

SF_INLINE unsigned sf_clz128(sf_u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? (unsigned)__builtin_clzll(hi) : 64 + (unsigned)__builtin_clzll((uint64_t)x);
}

/* Unpacks a finite non-zero value into (return value = exp, *sig); subnormals are normalised,
 * so their exp is <= 0. */
SF_INLINE int sf_unpack(unsigned mb, uint64_t x, uint64_t *sig)
{
    int exp = sf_exp_field(mb, x);
    uint64_t frac = x & sf_frac_mask(mb);
    if (__builtin_expect(exp != 0, 1)) {
        *sig = (frac | (1ull << mb)) << (62 - mb);
        return exp;
    }
    /* Subnormal: value = frac * 2^(1 - bias - mb). Shift the leading 1 up to bit 62. */
    unsigned shift = (unsigned)__builtin_clzll(frac) - 1;
    *sig = frac << shift;
    return 1 - (int)(shift - (62 - mb));
}

/* Rounds (sign, exp, sig) as described at the top of this file to the format, packs it and
 * raises NX/UF/OF. sig must be normalised (bit 62 set).
 *
 * Tininess is detected after rounding (F extension, "Subnormal Arithmetic"): the value is tiny
 * when, rounded to full precision with an unbounded exponent, it is still below the smallest
 * normal number. UF is raised only when it is tiny and the final (subnormal) result inexact. */
SF_INLINE uint64_t sf_round_pack(unsigned mb, bool sign, int exp, uint64_t sig, unsigned rm,
                                 unsigned *flags)
{
    const unsigned rbits = 62 - mb;
    const uint64_t rmask = (1ull << rbits) - 1;
    const uint64_t half = 1ull << (rbits - 1);
    const uint64_t sign_bits = (uint64_t)sign << sf_sign_pos(mb);
    uint64_t incr;

    switch (rm) {
    case RV_RM_RTZ: incr = 0; break;
    case RV_RM_RDN: incr = sign ? rmask : 0; break;
    case RV_RM_RUP: incr = sign ? 0 : rmask; break;
    default: incr = half; break; /* RNE, RMM */
    }

    /* e is exp - 1 so that adding the significand, whose leading bit lands on the exponent's
     * lowest bit, yields the right exponent; a rounding carry then bumps the exponent too. */
    int e = exp - 1;
    if (__builtin_expect((unsigned)e >= (unsigned)(sf_emax(mb) - 2), 0)) {
        if (e < 0) {
            /* e == -1 is [2^emin / 2, 2^emin): tiny unless rounding carries up to 2^emin. */
            bool tiny = e < -1 || sig + incr < (1ull << 63);
            sig = sf_shr_jam64(sig, (unsigned)-e);
            e = 0;
            if (tiny && (sig & rmask))
                *flags |= RV_FF_UF;
        } else if (e > sf_emax(mb) - 2 || sig + incr >= (1ull << 63)) {
            /* Overflow: infinity, or the largest finite value when rounding towards zero or
             * away from the result's sign (IEEE 754-2008 7.4). */
            *flags |= RV_FF_OF | RV_FF_NX;
            return sign_bits | (sf_inf(mb) - (incr == 0));
        }
    }
    uint64_t rest = sig & rmask;
    if (rest)
        *flags |= RV_FF_NX;
    sig = (sig + incr) >> rbits;
    if (rm == RV_RM_RNE && rest == half)
        sig &= ~1ull; /* tie: to even */
    return sign_bits + ((uint64_t)e << mb) + sig;
}

/* The zero an exact cancellation x - x produces: +0, except -0 when rounding down
 * (IEEE 754-2008 6.3). */
SF_INLINE uint64_t sf_cancel_zero(unsigned mb, unsigned rm)
{
    return rm == RV_RM_RDN ? sf_sign_bit(mb) : 0;
}

#endif
