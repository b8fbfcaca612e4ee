/* Floating-point and fcsr units for the differential-test generator.
 *
 * gen_unit_fp() applies random F/D instructions to whatever the registers hold (special values
 * are injected from time to time). gen_unit_fp_exact() builds operands on purpose for the
 * cases random bits almost never reach: results exactly halfway between two representable
 * values (round-to-nearest-even vs. -max-magnitude), results at the subnormal boundary
 * (tininess is detected after rounding, so UF depends on the rounding mode and on the bits
 * beyond the precision) and x.5 values
 * converted to integers. */
#include <math.h>
#include <string.h>

#include "gen.h"

void gen_unit_fp(struct gen *g)
{
    static const char *const bin[] = {"fadd", "fsub", "fmul", "fdiv"};
    static const char *const fma[] = {"fmadd", "fmsub", "fnmadd", "fnmsub"};
    static const char *const sgn[] = {"fsgnj", "fsgnjn", "fsgnjx", "fmin", "fmax"};
    static const char *const cmp[] = {"feq", "flt", "fle"};
    static const char *const ints[] = {"w", "wu", "l", "lu"};
    char p = gen_chance(g, 50) ? 's' : 'd', q = p == 's' ? 'd' : 's';
    unsigned kind = (unsigned)gen_below(g, 20);
    unsigned a = gen_frs(g), b = gen_frs(g), c = gen_frs(g);
    if (gen_chance(g, 5))
        b = a;
    if (kind < 4) {
        const char *op = PICK(g, bin);
        unsigned d = gen_frd(g);
        gen_ins(g, "%s.%c %s, %s, %s%s", op, p, F(d), F(a), F(b), gen_rm_opt(g));
    } else if (kind < 5) {
        unsigned d = gen_frd(g);
        gen_ins(g, "fsqrt.%c %s, %s%s", p, F(d), F(a), gen_rm_opt(g));
    } else if (kind < 7) {
        const char *op = PICK(g, fma);
        unsigned d = gen_frd(g);
        gen_ins(g, "%s.%c %s, %s, %s, %s%s", op, p, F(d), F(a), F(b), F(c), gen_rm_opt(g));
    } else if (kind < 9) {
        const char *op = PICK(g, sgn);
        unsigned d = gen_frd(g);
        gen_ins(g, "%s.%c %s, %s, %s", op, p, F(d), F(a), F(b));
    } else if (kind < 10) {
        const char *op = PICK(g, cmp);
        unsigned d = gen_xrd(g);
        gen_ins(g, "%s.%c %s, %s, %s", op, p, X(d), F(a), F(b));
    } else if (kind < 11) {
        unsigned d = gen_xrd(g);
        gen_ins(g, "fclass.%c %s, %s", p, X(d), F(a));
    } else if (kind < 13) {
        const char *it = PICK(g, ints);
        unsigned d = gen_xrd(g);
        gen_ins(g, "fcvt.%s.%c %s, %s%s", it, p, X(d), F(a), gen_rm_opt(g));
    } else if (kind < 15) {
        const char *it = PICK(g, ints);
        unsigned s = gen_xrs(g), d = gen_frd(g);
        bool exact = p == 'd' && it[0] == 'w'; /* fcvt.d.w[u] take no rounding mode */
        gen_ins(g, "fcvt.%c.%s %s, %s%s", p, it, F(d), X(s), exact ? "" : gen_rm_opt(g));
    } else if (kind < 16) {
        unsigned d = gen_frd(g);
        gen_ins(g, "fcvt.%c.%c %s, %s%s", p, q, F(d), F(a), p == 's' ? gen_rm_opt(g) : "");
    } else if (kind < 17) {
        unsigned d = gen_xrd(g);
        gen_ins(g, "fmv.x.%c %s, %s", p == 's' ? 'w' : 'd', X(d), F(a));
    } else if (kind < 18) {
        unsigned s = gen_xrs(g), d = gen_frd(g);
        gen_ins(g, "fmv.%c.x %s, %s", p == 's' ? 'w' : 'd', F(d), X(s));
    } else {
        /* inject a special value (for fmv.d.x, also improperly NaN-boxed singles) */
        unsigned t = gen_xtmp(g), d = gen_frd(g);
        uint64_t v = p == 's' ? gen_f32_value(g) : gen_freg_value(g);
        gen_ins(g, "li %s, 0x%llx", X(t), (unsigned long long)v);
        gen_ins(g, "fmv.%c.x %s, %s", p == 's' ? 'w' : 'd', F(d), X(t));
    }
}

/* fflags/frm/fcsr accesses. frm must stay 0..4, or dynamic-rm instructions become illegal. */
void gen_unit_csr(struct gen *g)
{
    static const char *const rd_ops[] = {"frflags", "frrm", "frcsr"};
    unsigned kind = (unsigned)gen_below(g, 9), rs = gen_xrs(g), rd = gen_xrd(g), t;
    switch (kind) {
    case 0: gen_ins(g, "%s %s", PICK(g, rd_ops), X(rd)); break;
    case 1: gen_ins(g, "fsflags %s, %s", X(rd), X(rs)); break;
    case 2: gen_ins(g, "fsflagsi %s, %u", X(rd), (unsigned)gen_below(g, 32)); break;
    case 3: gen_ins(g, "csrr%c %s, fflags, %s", gen_chance(g, 50) ? 's' : 'c', X(rd), X(rs)); break;
    case 4:
        gen_ins(g, "csrr%ci %s, fflags, %u", gen_chance(g, 50) ? 's' : 'c', X(rd),
                (unsigned)gen_below(g, 32));
        break;
    case 5: gen_ins(g, "fsrmi %s, %u", X(rd), (unsigned)gen_below(g, 5)); break;
    case 6: /* clearing bits of a valid frm leaves it valid */
        if (gen_chance(g, 50))
            gen_ins(g, "csrrc %s, fcsr, %s", X(rd), X(rs));
        else
            gen_ins(g, "csrrci %s, frm, %u", X(rd), (unsigned)gen_below(g, 8));
        break;
    default:
        t = gen_xtmp(g);
        if (kind == 7) {
            gen_ins(g, "andi %s, %s, 0x7f", X(t), X(rs)); /* frm 0..3 */
            if (gen_chance(g, 50))
                gen_ins(g, "fscsr %s, %s", X(rd), X(t));
            else
                gen_ins(g, "csrrw %s, fcsr, %s", X(rd), X(t));
        } else {
            gen_ins(g, "andi %s, %s, 3", X(t), X(rs));
            gen_ins(g, "fsrm %s, %s", X(rd), X(t));
        }
        break;
    }
}


/* ---- operands built on purpose ---- */

static uint64_t f64_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, 8);
    return b;
}

static uint32_t f32_bits(float v)
{
    uint32_t b;
    memcpy(&b, &v, 4);
    return b;
}

/* A random odd significand of exactly `bits` bits. */
static uint64_t odd_sig(struct gen *g, unsigned bits)
{
    if (bits <= 1)
        return 1;
    return 1ull << (bits - 1) | (gen_rand(g) & ((1ull << (bits - 1)) - 1)) | 1;
}

/* Loads the binary32 (NaN-boxed) or binary64 value `v` into a random FP register. */
static unsigned load_fp(struct gen *g, char p, double v)
{
    unsigned t = gen_xtmp(g), d = gen_frd(g);
    uint64_t bits = p == 's' ? f32_bits((float)v) : f64_bits(v);
    gen_ins(g, "li %s, 0x%llx", X(t), (unsigned long long)bits);
    gen_ins(g, "fmv.%c.x %s, %s", p == 's' ? 'w' : 'd', F(d), X(t));
    return d;
}

static double with_sign(struct gen *g, double v)
{
    return gen_chance(g, 50) ? -v : v;
}

void gen_unit_fp_exact(struct gen *g)
{
    static const char *const rms[] = {", rne", ", rmm", ", rtz", ", rdn", ", rup", ""};
    char p = gen_chance(g, 50) ? 's' : 'd';
    int prec = p == 's' ? 24 : 53, emin = p == 's' ? -126 : -1022;
    unsigned kind = (unsigned)gen_below(g, 5);
    const char *rm = PICK(g, rms);
    if (kind == 0) {
        /* a + b where b is an odd multiple of half an ulp of a: an exact tie */
        int e = gen_chance(g, 20) ? emin + (int)gen_below(g, 4) : (int)gen_range(g, -60, 60);
        double a = ldexp((double)odd_sig(g, (unsigned)prec) - (double)gen_below(g, 2), e - prec + 1);
        double b = ldexp((double)(2 * gen_below(g, 4) + 1), e - prec);
        unsigned ra = load_fp(g, p, with_sign(g, a)), rb = load_fp(g, p, with_sign(g, b));
        unsigned d = gen_frd(g);
        gen_ins(g, "f%s.%c %s, %s, %s%s", gen_chance(g, 50) ? "add" : "sub", p, F(d), F(ra),
                F(rb), rm);
    } else if (kind == 1) {
        /* m1 * m2 with odd significands whose product has prec + 1 bits: an exact tie;
         * scaled sometimes into the subnormal range */
        unsigned k = (unsigned)gen_range(g, 2, prec - 1);
        uint64_t m1 = odd_sig(g, k), lo = ((1ull << prec) + m1 - 1) / m1,
                 hi = ((2ull << prec) - 1) / m1, m2 = lo + gen_below(g, hi - lo + 1);
        m2 |= 1;
        if (m2 > hi)
            m2 -= 2;
        int e = gen_chance(g, 30) ? emin - prec + (int)gen_range(g, -2, 3) : (int)gen_range(g, -40, 40);
        int e1 = (int)gen_range(g, -20, 20);
        double a = ldexp((double)m1, e1), b = ldexp((double)m2, e - e1);
        unsigned ra = load_fp(g, p, with_sign(g, a)), rb = load_fp(g, p, with_sign(g, b));
        unsigned d = gen_frd(g);
        if (gen_chance(g, 60)) {
            gen_ins(g, "fmul.%c %s, %s, %s%s", p, F(d), F(ra), F(rb), rm);
        } else {
            static const char *const fma[] = {"fmadd", "fmsub", "fnmadd", "fnmsub"};
            unsigned rc = load_fp(g, p, with_sign(g, 0.0));
            d = gen_frd(g);
            gen_ins(g, "%s.%c %s, %s, %s, %s%s", PICK(g, fma), p, F(d), F(ra), F(rb), F(rc), rm);
        }
    } else if (kind == 2 && gen_chance(g, 50)) {
        /* ma * mb in [2^(2p-1) - 2^(p-2), 2^(2p-1)), scaled so that the product lies in
         * [2^emin * (1 - 2^-(p+1)), 2^emin): it rounds to 2^emin at p bits, so it is not tiny
         * after rounding (no UF under RNE/RMM/RUP) although it is below the smallest normal */
        unsigned __int128 top = (unsigned __int128)1 << (2 * prec - 1), low = top - (1ull << (prec - 2));
        uint64_t ma = 0, mb = 0;
        for (int tries = 0; tries < 64 && !ma; tries++) {
            mb = (1ull << (prec - 1)) | (gen_rand(g) & ((1ull << (prec - 1)) - 1));
            uint64_t c = (uint64_t)((low + mb - 1) / mb);
            if (c >> (prec - 1) == 1 && (unsigned __int128)c * mb < top)
                ma = c;
        }
        if (!ma) {
            ma = 1ull << (prec - 1);
            mb = (1ull << prec) - 1;
        }
        int s = (int)gen_range(g, -8, 8);
        double a = ldexp((double)ma, s - prec), b = ldexp((double)mb, emin - prec + 1 - s);
        unsigned ra = load_fp(g, p, with_sign(g, a)), rb = load_fp(g, p, with_sign(g, b));
        unsigned d = gen_frd(g);
        if (gen_chance(g, 70)) {
            gen_ins(g, "fmul.%c %s, %s, %s%s", p, F(d), F(ra), F(rb), rm);
        } else {
            unsigned rc = load_fp(g, p, with_sign(g, 0.0));
            d = gen_frd(g);
            gen_ins(g, "fmadd.%c %s, %s, %s, %s%s", p, F(d), F(ra), F(rb), F(rc), rm);
        }
    } else if (kind == 2) {
        /* a value at or just below the smallest normal, made by scaling: UF and the
         * subnormal rounding depend on the rounding mode */
        uint64_t m = (1ull << prec) - 1 - gen_below(g, 4);
        int s = (int)gen_range(g, 1, 30);
        double a = ldexp((double)m, emin - prec + s + (int)gen_range(g, -1, 1));
        unsigned ra = load_fp(g, p, with_sign(g, a)), rb = load_fp(g, p, ldexp(1.0, -s));
        unsigned d = gen_frd(g);
        gen_ins(g, "f%s.%c %s, %s, %s%s", gen_chance(g, 70) ? "mul" : "div", p, F(d), F(ra),
                F(rb), rm);
        if (gen_chance(g, 30)) /* and back up: exact or not */
            gen_ins(g, "fmul.%c %s, %s, %s%s", p, F(d), F(d), F(ra), rm);
    } else if (kind == 3) {
        /* x.5 and neighbours converted to integers, near the bounds of each integer type */
        static const double bases[] = {0, 1, 2, 1ull << 31, 1ull << 32, 1ull << 52, 9.2233720368547758e18};
        double base = PICK(g, bases), v = base - 4 + (double)gen_below(g, 8) + 0.5;
        if (p == 's' || base >= 1ull << 52)
            v = base; /* halves are not representable there: the bound itself */
        if (gen_chance(g, 30))
            v = (double)gen_range(g, -40, 40) / 4;
        static const char *const ints[] = {"w", "wu", "l", "lu"};
        unsigned r = load_fp(g, p, with_sign(g, v)), d = gen_xrd(g);
        gen_ins(g, "fcvt.%s.%c %s, %s%s", PICK(g, ints), p, X(d), F(r), rm);
    } else {
        /* binary64 -> binary32 at a tie, at the overflow edge or in the subnormal range */
        int e = PICK(g, ((const int[]){-150, -149, -127, -126, -125, 0, 127, 128}));
        double v = ldexp((double)odd_sig(g, 25), e - 24);
        unsigned r = load_fp(g, 'd', with_sign(g, v)), d = gen_frd(g);
        gen_ins(g, "fcvt.s.d %s, %s%s", F(d), F(r), rm);
    }
}
