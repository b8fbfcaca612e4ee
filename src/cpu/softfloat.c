/* Software IEEE-754 arithmetic with RISC-V semantics: add, sub, mul, div, sqrt, fused
 * multiply-add. Conversions, comparisons and classification are in softfloat_conv.c; the
 * unpacked representation and the rounding step are described in softfloat_internal.h.
 *
 * NaN handling common to every operation here (F extension, "NaN Generation and Propagation"):
 * a NaN result is always the canonical NaN, and NV is raised when an operand is a signalling NaN
 * or the operation is invalid (inf - inf, 0 * inf, 0 / 0, inf / inf, sqrt of a negative). */
#include "cpu/softfloat.h"

#include "cpu/softfloat_internal.h"

/* NaN result for an operation with at least one NaN operand: NV only for a signalling one. */
SF_INLINE uint64_t sf_nan2(unsigned mb, uint64_t a, uint64_t b, unsigned *flags)
{
    if (sf_is_snan(mb, a) || sf_is_snan(mb, b))
        *flags |= RV_FF_NV;
    return sf_default_nan(mb);
}

SF_INLINE uint64_t sf_invalid(unsigned mb, unsigned *flags)
{
    *flags |= RV_FF_NV;
    return sf_default_nan(mb);
}

/* a + b, or a - b when `subtract` is set. */
SF_INLINE uint64_t sf_add(unsigned mb, uint64_t a, uint64_t b, bool subtract, unsigned rm,
                          unsigned *flags)
{
    if (__builtin_expect(sf_is_special(mb, a) || sf_is_special(mb, b), 0)) {
        if (sf_is_nan(mb, a) || sf_is_nan(mb, b))
            return sf_nan2(mb, a, b, flags);
        if (subtract)
            b ^= sf_sign_bit(mb);
        if (sf_is_inf(mb, a) && sf_is_inf(mb, b) && a != b)
            return sf_invalid(mb, flags); /* inf - inf */
        return sf_is_inf(mb, a) ? a : b;
    }
    if (subtract)
        b ^= sf_sign_bit(mb);
    bool sign = sf_sign(mb, a);
    bool sign_b = sf_sign(mb, b);
    if (__builtin_expect(sf_is_zero(mb, a) || sf_is_zero(mb, b), 0)) {
        if (!sf_is_zero(mb, a))
            return a;
        if (!sf_is_zero(mb, b))
            return b;
        return sign == sign_b ? a : sf_cancel_zero(mb, rm);
    }

    uint64_t sig_a, sig_b;
    int exp_a = sf_unpack(mb, a, &sig_a);
    int exp_b = sf_unpack(mb, b, &sig_b);
    /* Make a the operand of larger magnitude. */
    if (exp_a < exp_b || (exp_a == exp_b && sig_a < sig_b)) {
        uint64_t t = sig_a;
        sig_a = sig_b;
        sig_b = t;
        int te = exp_a;
        exp_a = exp_b;
        exp_b = te;
        bool ts = sign;
        sign = sign_b;
        sign_b = ts;
    }
    /* The significands carry 62 - mb >= 10 zero bits below the fraction, so an alignment shift
     * by 0 or 1 (the only shifts after which massive cancellation can occur) is exact, and for
     * larger shifts the jammed sticky bit is far enough below the rounding position. */
    sig_b = sf_shr_jam64(sig_b, (unsigned)(exp_a - exp_b));
    if (sign == sign_b) {
        uint64_t sum = sig_a + sig_b;
        if (sum >> 63) {
            sum = sf_shr_jam64(sum, 1);
            exp_a++;
        }
        return sf_round_pack(mb, sign, exp_a, sum, rm, flags);
    }
    uint64_t diff = sig_a - sig_b;
    if (diff == 0)
        return sf_cancel_zero(mb, rm);
    unsigned shift = (unsigned)__builtin_clzll(diff) - 1;
    return sf_round_pack(mb, sign, exp_a - (int)shift, diff << shift, rm, flags);
}

SF_INLINE uint64_t sf_mul(unsigned mb, uint64_t a, uint64_t b, unsigned rm, unsigned *flags)
{
    bool sign = sf_sign(mb, a) ^ sf_sign(mb, b);
    uint64_t sign_bits = (uint64_t)sign << sf_sign_pos(mb);
    if (__builtin_expect(sf_is_special(mb, a) || sf_is_special(mb, b), 0)) {
        if (sf_is_nan(mb, a) || sf_is_nan(mb, b))
            return sf_nan2(mb, a, b, flags);
        if (sf_is_zero(mb, a) || sf_is_zero(mb, b))
            return sf_invalid(mb, flags); /* inf * 0 */
        return sign_bits | sf_inf(mb);
    }
    if (sf_is_zero(mb, a) || sf_is_zero(mb, b))
        return sign_bits;

    uint64_t sig_a, sig_b;
    int exp = sf_unpack(mb, a, &sig_a) + sf_unpack(mb, b, &sig_b) - sf_bias(mb);
    /* 2^124 <= product < 2^126; bring its leading bit to bit 126, i.e. to bit 62 of the high
     * half. */
    sf_u128 prod = (sf_u128)sig_a * sig_b;
    if (prod >> 125) {
        prod <<= 1;
        exp++;
    } else {
        prod <<= 2;
    }
    return sf_round_pack(mb, sign, exp, sf_hi_jam(prod), rm, flags);
}

/* (hi:lo) / d for hi < d, so that the quotient fits in 64 bits; *rem gets the remainder. */
SF_INLINE uint64_t sf_div128(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
#if defined(__x86_64__)
    uint64_t q, r;
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d) : "cc");
    *rem = r;
    return q;
#else
    sf_u128 n = ((sf_u128)hi << 64) | lo;
    uint64_t q = (uint64_t)(n / d);
    *rem = lo - q * d;
    return q;
#endif
}

SF_INLINE uint64_t sf_div(unsigned mb, uint64_t a, uint64_t b, unsigned rm, unsigned *flags)
{
    bool sign = sf_sign(mb, a) ^ sf_sign(mb, b);
    uint64_t sign_bits = (uint64_t)sign << sf_sign_pos(mb);
    if (__builtin_expect(sf_is_special(mb, a) || sf_is_special(mb, b), 0)) {
        if (sf_is_nan(mb, a) || sf_is_nan(mb, b))
            return sf_nan2(mb, a, b, flags);
        if (sf_is_inf(mb, a))
            return sf_is_inf(mb, b) ? sf_invalid(mb, flags) : sign_bits | sf_inf(mb);
        return sign_bits; /* finite / inf */
    }
    if (__builtin_expect(sf_is_zero(mb, b), 0)) {
        if (sf_is_zero(mb, a))
            return sf_invalid(mb, flags); /* 0 / 0 */
        *flags |= RV_FF_DZ;
        return sign_bits | sf_inf(mb);
    }
    if (sf_is_zero(mb, a))
        return sign_bits;

    uint64_t sig_a, sig_b;
    int exp = sf_unpack(mb, a, &sig_a) - sf_unpack(mb, b, &sig_b) + sf_bias(mb);
    /* q = sig_a * 2^k / sig_b with k = 62, or 63 when sig_a < sig_b, lies in [2^62, 2^63);
     * a non-zero remainder becomes the sticky bit. */
    bool small = sig_a < sig_b;
    exp -= small;
    uint64_t q, rem;
    if (mb == SF_F32) {
        /* 24-bit significands: a 64-bit division gives 38 quotient bits, plenty for 24 + 2. */
        uint64_t n = (sig_a >> 39) << (38 + small);
        uint64_t d = sig_b >> 39;
        q = n / d;
        rem = n % d;
        q <<= 24;
    } else {
        q = sf_div128(sig_a >> (2 - small), sig_a << (62 + small), sig_b, &rem);
    }
    return sf_round_pack(mb, sign, exp, q | (rem != 0), rm, flags);
}

/* sqrt(a) * 2^62, slightly low, for a = x / 2^62 in [1, 4): Newton-Raphson on y = 1/sqrt(a),
 * y' = y (3 - a y^2) / 2, in fixed point (y in Q63, a in Q62), from a chord of 1/sqrt(a) over
 * [1, 2] or [2, 4] (relative error <= 4.5%). Each step squares the relative error (times 1.5):
 * 3 steps give ~2^-31, 4 steps are limited by the ~2^-61 truncation error. The caller corrects
 * the last few units exactly. */
SF_INLINE uint64_t sf_sqrt_estimate(uint64_t x, bool upper, unsigned steps)
{
    const uint64_t rsqrt2 = 0x5a827999fcef3242ull; /* 1/sqrt(2) in Q63 */
    uint64_t y;
    if (!upper) { /* 1 - (1 - 1/sqrt2)(a - 1) */
        sf_u128 dec = (sf_u128)(x - (1ull << 62)) * ((1ull << 63) - rsqrt2);
        y = (1ull << 63) - (uint64_t)(dec >> 62);
    } else { /* 1/sqrt2 - (1/sqrt2 - 1/2)(a - 2)/2 */
        sf_u128 dec = (sf_u128)(x - (2ull << 62)) * ((rsqrt2 - (1ull << 62)) / 2);
        y = rsqrt2 - (uint64_t)(dec >> 62);
    }
    for (unsigned i = 0; i < steps; i++) {
        /* The chord lies above 1/sqrt(a) and later iterates below it, so y <= 1 and
         * a y^2 < 3: no intermediate overflows. */
        uint64_t y2 = (uint64_t)(((sf_u128)y * y) >> 63);
        uint64_t ay2 = (uint64_t)(((sf_u128)x * y2) >> 63);
        y = (uint64_t)(((sf_u128)y * ((3ull << 62) - ay2)) >> 63);
    }
    return (uint64_t)(((sf_u128)x * y) >> 63); /* sqrt(a) = a * y */
}

SF_INLINE uint64_t sf_sqrt(unsigned mb, uint64_t a, unsigned rm, unsigned *flags)
{
    if (__builtin_expect(sf_is_special(mb, a) || sf_sign(mb, a) || sf_is_zero(mb, a), 0)) {
        if (sf_is_nan(mb, a))
            return sf_nan2(mb, a, a, flags);
        if (sf_is_zero(mb, a))
            return a; /* sqrt(-0) = -0 */
        if (sf_sign(mb, a))
            return sf_invalid(mb, flags);
        return a; /* +inf */
    }
    uint64_t sig;
    int exp = sf_unpack(mb, a, &sig) - sf_bias(mb); /* a = sig / 2^62 * 2^exp */
    /* Make the exponent even: a = m * 2^(exp - odd) with m = sig / 2^62 * 2^odd in [1, 4), so
     * sqrt(a) = sqrt(m) * 2^((exp - odd) / 2) and the significand wanted is
     * floor(sqrt(m) * 2^62), in [2^62, 2^63), plus a sticky bit telling whether it is exact. */
    unsigned odd = (unsigned)exp & 1;
    exp = (exp - (int)odd) / 2 + sf_bias(mb);
    uint64_t m = sig << odd; /* m in Q62 */
    uint64_t root;
    bool exact;
    if (mb == SF_F32) {
        /* 26 bits (significand, guard, round) suffice: root = floor(sqrt(m * 2^50)), checked
         * in 64 bits. m * 2^50 = sig >> (12 - odd) drops only zero bits. */
        uint64_t n = sig >> (12 - odd);
        root = sf_sqrt_estimate(m, odd, 3) >> 37;
        int64_t rem = (int64_t)(n - root * root);
        while (rem < 0) {
            root--;
            rem += (int64_t)(2 * root + 1);
        }
        while (rem > (int64_t)(2 * root)) {
            rem -= (int64_t)(2 * root + 1);
            root++;
        }
        exact = rem == 0;
        root <<= 37;
    } else {
        /* root = floor(sqrt(m * 2^124)), checked with the 128-bit remainder. */
        sf_u128 n = (sf_u128)m << 62;
        root = sf_sqrt_estimate(m, odd, 4);
        __int128 rem = (__int128)(n - (sf_u128)root * root);
        while (rem < 0) {
            root--;
            rem += (__int128)(2 * (sf_u128)root + 1);
        }
        while (rem > (__int128)(2 * (sf_u128)root)) {
            rem -= (__int128)(2 * (sf_u128)root + 1);
            root++;
        }
        exact = rem == 0;
    }
    return sf_round_pack(mb, false, exp, root | !exact, rm, flags);
}

/* (+-a * b) +- c with a single rounding: the exact product (up to 126 bits) and the aligned
 * addend are combined in 128 bits, with the addend jammed when shifted right. */
SF_INLINE uint64_t sf_muladd(unsigned mb, uint64_t a, uint64_t b, uint64_t c, bool negate_product,
                             bool negate_addend, unsigned rm, unsigned *flags)
{
    bool sign_p = sf_sign(mb, a) ^ sf_sign(mb, b) ^ negate_product;
    bool sign_c = sf_sign(mb, c) ^ negate_addend;
    if (negate_addend)
        c ^= sf_sign_bit(mb);

    if (__builtin_expect(sf_is_special(mb, a) || sf_is_special(mb, b) || sf_is_special(mb, c), 0)) {
        /* F extension: FMA must raise NV for inf * 0 even when the addend is a quiet NaN. */
        bool inf_times_zero = (sf_is_inf(mb, a) && sf_is_zero(mb, b)) ||
                              (sf_is_zero(mb, a) && sf_is_inf(mb, b));
        if (inf_times_zero || sf_is_snan(mb, a) || sf_is_snan(mb, b) || sf_is_snan(mb, c))
            *flags |= RV_FF_NV;
        if (inf_times_zero || sf_is_nan(mb, a) || sf_is_nan(mb, b) || sf_is_nan(mb, c))
            return sf_default_nan(mb);
        if (sf_is_inf(mb, a) || sf_is_inf(mb, b)) {
            if (sf_is_inf(mb, c) && sign_c != sign_p)
                return sf_invalid(mb, flags); /* inf - inf */
            return ((uint64_t)sign_p << sf_sign_pos(mb)) | sf_inf(mb);
        }
        return c; /* finite * finite + inf */
    }
    if (sf_is_zero(mb, a) || sf_is_zero(mb, b)) {
        if (!sf_is_zero(mb, c))
            return c;
        return sign_p == sign_c ? c : sf_cancel_zero(mb, rm);
    }

    uint64_t sig_a, sig_b;
    int exp_p = sf_unpack(mb, a, &sig_a) + sf_unpack(mb, b, &sig_b) - sf_bias(mb);
    /* Product with its leading bit at 125: value = prod * 2^(exp_p - bias - 125). */
    sf_u128 prod = (sf_u128)sig_a * sig_b;
    if (prod >> 125)
        exp_p++;
    else
        prod <<= 1;
    if (sf_is_zero(mb, c)) /* exact result is the non-zero product */
        return sf_round_pack(mb, sign_p, exp_p, sf_hi_jam(prod << 1), rm, flags);

    uint64_t sig_c;
    int exp_c = sf_unpack(mb, c, &sig_c);
    sf_u128 add = (sf_u128)sig_c << 63; /* same scale as prod */
    int diff = exp_p - exp_c;
    int exp;
    sf_u128 r;
    if (sign_p == sign_c) {
        if (diff >= 0) {
            add = sf_shr_jam128(add, (unsigned)diff);
            exp = exp_p;
        } else {
            prod = sf_shr_jam128(prod, (unsigned)-diff);
            exp = exp_c;
        }
        r = prod + add; /* < 2^127 */
        if (r >> 126)
            exp++;
        else
            r <<= 1;
        return sf_round_pack(mb, sign_p, exp, sf_hi_jam(r), rm, flags);
    }

    /* Effective subtraction. Both operands have many trailing zero bits (the product at least
     * 2 * (62 - mb), the addend 63), so when the exponents differ by at most one the aligned
     * difference is exact; otherwise at most one bit cancels and the jammed sticky bit stays far
     * below the rounding position. */
    bool sign;
    if (diff > 0 || (diff == 0 && prod >= add)) {
        r = prod - sf_shr_jam128(add, (unsigned)diff);
        exp = exp_p;
        sign = sign_p;
    } else {
        r = add - sf_shr_jam128(prod, (unsigned)-diff);
        exp = exp_c;
        sign = sign_c;
    }
    if (r == 0)
        return sf_cancel_zero(mb, rm);
    unsigned shift = sf_clz128(r) - 1; /* leading bit to 126 */
    return sf_round_pack(mb, sign, exp - (int)shift + 1, sf_hi_jam(r << shift), rm, flags);
}

uint32_t rv_f32_add(uint32_t a, uint32_t b, unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_add(SF_F32, a, b, false, rm, flags);
}

uint32_t rv_f32_sub(uint32_t a, uint32_t b, unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_add(SF_F32, a, b, true, rm, flags);
}

uint32_t rv_f32_mul(uint32_t a, uint32_t b, unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_mul(SF_F32, a, b, rm, flags);
}

uint32_t rv_f32_div(uint32_t a, uint32_t b, unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_div(SF_F32, a, b, rm, flags);
}

uint32_t rv_f32_sqrt(uint32_t a, unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_sqrt(SF_F32, a, rm, flags);
}

uint32_t rv_f32_muladd(uint32_t a, uint32_t b, uint32_t c, bool negate_product, bool negate_addend,
                       unsigned rm, unsigned *flags)
{
    return (uint32_t)sf_muladd(SF_F32, a, b, c, negate_product, negate_addend, rm, flags);
}

uint64_t rv_f64_add(uint64_t a, uint64_t b, unsigned rm, unsigned *flags)
{
    return sf_add(SF_F64, a, b, false, rm, flags);
}

uint64_t rv_f64_sub(uint64_t a, uint64_t b, unsigned rm, unsigned *flags)
{
    return sf_add(SF_F64, a, b, true, rm, flags);
}

uint64_t rv_f64_mul(uint64_t a, uint64_t b, unsigned rm, unsigned *flags)
{
    return sf_mul(SF_F64, a, b, rm, flags);
}

uint64_t rv_f64_div(uint64_t a, uint64_t b, unsigned rm, unsigned *flags)
{
    return sf_div(SF_F64, a, b, rm, flags);
}

uint64_t rv_f64_sqrt(uint64_t a, unsigned rm, unsigned *flags)
{
    return sf_sqrt(SF_F64, a, rm, flags);
}

uint64_t rv_f64_muladd(uint64_t a, uint64_t b, uint64_t c, bool negate_product, bool negate_addend,
                       unsigned rm, unsigned *flags)
{
    return sf_muladd(SF_F64, a, b, c, negate_product, negate_addend, rm, flags);
}
