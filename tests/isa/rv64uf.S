/* F extension: every single-precision instruction (arithmetic, fused multiply-add, sqrt,
 * min/max, sign injection, compares, fclass, conversions, moves, loads/stores), with special
 * values: canonical NaN results, signalling NaNs (NV), infinities, signed zeros, subnormals,
 * fcvt saturation, fmin/fmax on +-0 and NaN, and NaN-boxing (unprivileged spec, "F" chapter). */
#include "env.h"
#include "fp.h"

TEST_MAIN
    /* ---------------- fadd / fsub */
    FT_S2 1, fadd.s, 0, 0x40400000, S_ONE, S_TWO                      /* 1 + 2 = 3 */
    FT_S2 2, fadd.s, 0, S_ZERO, 0x40200000, 0xc0200000                /* 2.5 - 2.5 = +0 */
    FT_S2 3, fadd.s, 0, S_NZERO, 0x40200000, 0xc0200000, rdn          /* ... -0 when rounding down */
    FT_S2 4, fadd.s, 0, S_NZERO, S_NZERO, S_NZERO
    FT_S2 5, fadd.s, FFLAG_NX, S_ONE, S_ONE, 0x33800000               /* 1 + 2^-24: tie to even */
    FT_S2 6, fadd.s, FFLAG_NV, S_QNAN, S_INF, S_NINF                  /* inf - inf */
    FT_S2 7, fadd.s, FFLAG_NV, S_QNAN, S_SNAN, S_ONE                  /* signalling input */
    FT_S2 8, fadd.s, 0, S_QNAN, 0x7fc12345, S_ONE                     /* payload not propagated */
    FT_S2 9, fadd.s, (FFLAG_OF | FFLAG_NX), S_INF, S_MAX, S_MAX
    FT_S2 10, fadd.s, (FFLAG_OF | FFLAG_NX), S_MAX, S_MAX, S_MAX, rtz
    FT_S2 11, fadd.s, 0, S_INF, S_INF, S_ONE
    FT_S2 12, fsub.s, 0, 0x40200000, 0x40400000, S_HALF               /* 3 - 0.5 */
    FT_S2 13, fsub.s, 0, S_ZERO, S_ONE, S_ONE
    FT_S2 14, fsub.s, 0, S_NZERO, S_NZERO, S_ZERO                     /* -0 - +0 = -0 */
    FT_S2 15, fsub.s, FFLAG_NV, S_QNAN, S_INF, S_INF
    FT_S2 16, fsub.s, 0, 0x00000001, 0x00800001, 0x00800000           /* subnormal result, exact */

    /* ---------------- fmul / fdiv / fsqrt */
    FT_S2 20, fmul.s, 0, 0x40a00000, 0x40200000, S_TWO                /* 2.5 * 2 = 5 */
    FT_S2 21, fmul.s, 0, S_NZERO, S_NZERO, 0x40400000
    FT_S2 22, fmul.s, FFLAG_NV, S_QNAN, S_ZERO, S_NINF                /* 0 * inf */
    FT_S2 23, fmul.s, 0, 0x00400000, S_MINN, S_HALF                   /* exact subnormal: no UF */
    FT_S2 24, fmul.s, (FFLAG_UF | FFLAG_NX), S_ZERO, S_MIND, S_HALF   /* 2^-150 ties to 0 */
    FT_S2 25, fmul.s, (FFLAG_UF | FFLAG_NX), S_MIND, S_MIND, S_HALF, rup
    FT_S2 26, fmul.s, (FFLAG_OF | FFLAG_NX), S_NINF, S_MAX, 0xc0000000 /* max * -2 */
    FT_S2 27, fdiv.s, FFLAG_NX, 0x3eaaaaab, S_ONE, 0x40400000         /* 1/3 */
    FT_S2 28, fdiv.s, FFLAG_NX, 0x3eaaaaaa, S_ONE, 0x40400000, rtz
    FT_S2 29, fdiv.s, FFLAG_DZ, S_INF, S_ONE, S_ZERO
    FT_S2 30, fdiv.s, FFLAG_DZ, S_NINF, S_NONE, S_ZERO
    FT_S2 31, fdiv.s, FFLAG_DZ, S_NINF, S_ONE, S_NZERO
    FT_S2 32, fdiv.s, FFLAG_NV, S_QNAN, S_ZERO, S_ZERO
    FT_S2 33, fdiv.s, FFLAG_NV, S_QNAN, S_INF, S_NINF
    FT_S2 34, fdiv.s, 0, S_NZERO, S_ONE, S_NINF
    FT_S2 35, fdiv.s, 0, S_INF, S_INF, S_ZERO                          /* inf / 0: no DZ */
    FT_S1 36, fsqrt.s, 0, S_TWO, 0x40800000                            /* sqrt 4 */
    FT_S1 37, fsqrt.s, FFLAG_NX, 0x3fb504f3, S_TWO
    FT_S1 38, fsqrt.s, FFLAG_NV, S_QNAN, S_NONE
    FT_S1 39, fsqrt.s, 0, S_NZERO, S_NZERO
    FT_S1 40, fsqrt.s, 0, S_INF, S_INF
    FT_S1 41, fsqrt.s, FFLAG_NV, S_QNAN, S_NINF
    FT_S1 42, fsqrt.s, 0, S_QNAN, 0x7fc0dead                           /* quiet NaN: no flag */

    /* ---------------- fused multiply-add: one rounding */
    FT_S3 50, fmadd.s, 0, 0x40a00000, S_ONE, S_TWO, 0x40400000         /* 1*2+3 = 5 */
    FT_S3 51, fmadd.s, 0, 0x28800000, 0x3f800001, 0x3f800001, 0xbf800002 /* 2^-46, not 0 */
    FT_S3 52, fmsub.s, 0, 0x40a00000, S_TWO, 0x40400000, S_ONE         /* 2*3-1 = 5 */
    FT_S3 53, fnmsub.s, 0, 0xc0a00000, S_TWO, 0x40400000, S_ONE        /* -(2*3)+1 = -5 */
    FT_S3 54, fnmadd.s, 0, 0xc0e00000, S_TWO, 0x40400000, S_ONE        /* -(2*3)-1 = -7 */
    FT_S3 55, fmadd.s, FFLAG_NV, S_QNAN, S_ZERO, S_INF, 0x7fc00001     /* 0*inf+qNaN: NV */
    FT_S3 56, fmadd.s, FFLAG_NV, S_QNAN, S_INF, S_ONE, S_NINF          /* inf - inf */
    FT_S3 57, fmadd.s, 0, S_QNAN, S_ONE, S_ONE, 0x7fc00001             /* quiet NaN addend */
    FT_S3 58, fmadd.s, FFLAG_NV, S_QNAN, S_ONE, S_SNAN, S_ONE
    FT_S3 59, fnmadd.s, 0, S_NZERO, S_ONE, S_ZERO, S_ZERO              /* -(+0) - (+0) = -0 */
    FT_S3 60, fmadd.s, 0, S_ZERO, S_NONE, S_ZERO, S_ZERO               /* -0 + +0 = +0 */
    FT_S3 61, fmsub.s, (FFLAG_OF | FFLAG_NX), S_INF, S_MAX, S_TWO, S_ONE

    /* ---------------- fmin / fmax (IEEE 754-2019 minimumNumber/maximumNumber) */
    FT_S2N 70, fmin.s, 0, S_ONE, S_ONE, S_TWO
    FT_S2N 71, fmax.s, 0, S_TWO, S_ONE, S_TWO
    FT_S2N 72, fmin.s, 0, S_NZERO, S_ZERO, S_NZERO                    /* -0 < +0 */
    FT_S2N 73, fmin.s, 0, S_NZERO, S_NZERO, S_ZERO
    FT_S2N 74, fmax.s, 0, S_ZERO, S_NZERO, S_ZERO
    FT_S2N 75, fmax.s, 0, S_ZERO, S_ZERO, S_NZERO
    FT_S2N 76, fmin.s, 0, S_ONE, S_QNAN, S_ONE                        /* NaN ignored */
    FT_S2N 77, fmax.s, 0, S_NONE, S_NONE, 0x7fc12345
    FT_S2N 78, fmin.s, FFLAG_NV, S_ONE, S_SNAN, S_ONE                 /* sNaN: NV, other value */
    FT_S2N 79, fmax.s, FFLAG_NV, S_ONE, S_ONE, S_SNAN
    FT_S2N 80, fmin.s, 0, S_QNAN, 0x7fc12345, 0x7fc54321              /* both NaN: canonical */
    FT_S2N 81, fmax.s, FFLAG_NV, S_QNAN, S_SNAN, S_QNAN
    FT_S2N 82, fmin.s, 0, S_NINF, S_NINF, S_ONE
    FT_S2N 83, fmax.s, 0, S_INF, S_MAX, S_INF

    /* ---------------- sign injection: bit operations, NaN payloads kept */
    FT_S2N 90, fsgnj.s, 0, S_NONE, S_ONE, 0xc0000000
    FT_S2N 91, fsgnj.s, 0, S_ONE, S_NONE, S_TWO
    FT_S2N 92, fsgnjn.s, 0, S_ONE, S_ONE, 0xc0000000
    FT_S2N 93, fsgnjn.s, 0, S_NONE, S_ONE, S_TWO
    FT_S2N 94, fsgnjx.s, 0, S_ONE, S_NONE, 0xc0000000
    FT_S2N 95, fsgnjx.s, 0, S_NONE, S_NONE, S_TWO
    FT_S2N 96, fsgnj.s, 0, 0xffc12345, 0x7fc12345, S_NONE
    FT_S2N 97, fsgnjn.s, 0, 0x7f800001, S_SNAN, S_NONE                /* no NV, no quieting */
    FT_S2N 98, fsgnjx.s, 0, 0x00000001, 0x80000001, S_NONE

    /* ---------------- compares */
    FT_SCMP 100, feq.s, 0, 1, S_ONE, S_ONE
    FT_SCMP 101, feq.s, 0, 0, S_ONE, S_TWO
    FT_SCMP 102, feq.s, 0, 1, S_ZERO, S_NZERO
    FT_SCMP 103, feq.s, 0, 0, S_QNAN, S_QNAN                          /* quiet compare */
    FT_SCMP 104, feq.s, FFLAG_NV, 0, S_SNAN, S_ONE
    FT_SCMP 105, flt.s, 0, 1, S_ONE, S_TWO
    FT_SCMP 106, flt.s, 0, 0, S_TWO, S_ONE
    FT_SCMP 107, flt.s, 0, 0, S_NZERO, S_ZERO
    FT_SCMP 108, flt.s, FFLAG_NV, 0, S_QNAN, S_ONE                    /* signalling compare */
    FT_SCMP 109, fle.s, 0, 1, S_NZERO, S_ZERO
    FT_SCMP 110, fle.s, 0, 1, S_NINF, S_NINF
    FT_SCMP 111, fle.s, 0, 0, S_TWO, S_ONE
    FT_SCMP 112, fle.s, FFLAG_NV, 0, S_ONE, S_QNAN
    FT_SCMP 113, flt.s, 0, 1, S_NINF, S_MAX

    /* ---------------- fclass */
    FT_SCLASS 120, 0x001, S_NINF
    FT_SCLASS 121, 0x002, S_NONE
    FT_SCLASS 122, 0x004, 0x807fffff
    FT_SCLASS 123, 0x008, S_NZERO
    FT_SCLASS 124, 0x010, S_ZERO
    FT_SCLASS 125, 0x020, S_MIND
    FT_SCLASS 126, 0x040, S_MAX
    FT_SCLASS 127, 0x080, S_INF
    FT_SCLASS 128, 0x100, S_SNAN
    FT_SCLASS 129, 0x200, S_QNAN
    FT_SCLASS 130, 0x100, 0xffbfffff                                   /* negative sNaN */

    /* ---------------- single -> integer, with saturation */
    FT_S2I 140, fcvt.w.s, FFLAG_NX, 2, 0x3fc00000                     /* 1.5 -> 2 */
    FT_S2I 141, fcvt.w.s, FFLAG_NX, 2, 0x40200000                     /* 2.5 -> 2 (even) */
    FT_S2I 142, fcvt.w.s, FFLAG_NX, 3, 0x40200000, rmm
    FT_S2I 143, fcvt.w.s, FFLAG_NX, -3, 0xc0200000, rdn
    FT_S2I 144, fcvt.w.s, FFLAG_NX, -2, 0xc0200000, rup
    FT_S2I 145, fcvt.w.s, FFLAG_NX, -2, 0xc0200000, rtz
    FT_S2I 146, fcvt.w.s, FFLAG_NX, 3, 0x40200000, rup
    FT_S2I 147, fcvt.w.s, FFLAG_NV, 0x7fffffff, S_QNAN
    FT_S2I 148, fcvt.w.s, FFLAG_NV, 0x7fffffff, S_INF
    FT_S2I 149, fcvt.w.s, FFLAG_NV, 0xffffffff80000000, S_NINF
    FT_S2I 150, fcvt.w.s, FFLAG_NV, 0x7fffffff, 0x4f32d05e             /* 3e9 */
    FT_S2I 151, fcvt.w.s, FFLAG_NV, 0xffffffff80000000, 0xcf32d05e
    FT_S2I 152, fcvt.w.s, 0, 0xffffffff80000000, 0xcf000000            /* -2^31 exactly */
    FT_S2I 153, fcvt.w.s, 0, 0, S_NZERO
    FT_S2I 154, fcvt.wu.s, 0, 0xffffffffb2d05e00, 0x4f32d05e           /* sign-extended */
    FT_S2I 155, fcvt.wu.s, FFLAG_NV, 0, S_NONE
    FT_S2I 156, fcvt.wu.s, FFLAG_NX, 0, 0xbf000000, rtz                /* -0.5 -> 0: inexact only */
    FT_S2I 157, fcvt.wu.s, FFLAG_NV, 0, 0xbf000000, rdn                /* -0.5 -> -1: invalid */
    FT_S2I 158, fcvt.wu.s, FFLAG_NV, 0xffffffffffffffff, S_QNAN
    FT_S2I 159, fcvt.wu.s, FFLAG_NV, 0xffffffffffffffff, S_INF
    FT_S2I 160, fcvt.wu.s, FFLAG_NV, 0, S_NINF
    FT_S2I 161, fcvt.l.s, 0, 0x4000000000000000, 0x5e800000            /* 2^62 */
    FT_S2I 162, fcvt.l.s, FFLAG_NV, 0x7fffffffffffffff, 0x5f000000     /* 2^63 */
    FT_S2I 163, fcvt.l.s, 0, 0x8000000000000000, 0xdf000000            /* -2^63 */
    FT_S2I 164, fcvt.l.s, FFLAG_NV, 0x7fffffffffffffff, S_SNAN
    FT_S2I 165, fcvt.l.s, FFLAG_NV, 0x8000000000000000, S_NINF
    FT_S2I 166, fcvt.l.s, FFLAG_NX, -1, 0xbf400000                      /* -0.75 -> -1 */
    FT_S2I 167, fcvt.lu.s, 0, 0x8000000000000000, 0x5f000000
    FT_S2I 168, fcvt.lu.s, FFLAG_NV, 0xffffffffffffffff, 0x5f800000    /* 2^64 */
    FT_S2I 169, fcvt.lu.s, FFLAG_NV, 0, S_NONE
    FT_S2I 170, fcvt.lu.s, FFLAG_NV, 0xffffffffffffffff, S_QNAN
    FT_S2I 171, fcvt.lu.s, FFLAG_NX, 1, 0x3fc00000, rtz

    /* ---------------- integer -> single */
    FT_I2S 180, fcvt.s.w, FFLAG_NX, 0x4f000000, 0x7fffffff
    FT_I2S 181, fcvt.s.w, FFLAG_NX, 0x4effffff, 0x7fffffff, rtz
    FT_I2S 182, fcvt.s.w, 0, S_NONE, -1
    FT_I2S 183, fcvt.s.w, 0, S_ZERO, 0
    FT_I2S 184, fcvt.s.w, 0, 0x40400000, 0xffffffff00000003            /* low 32 bits only */
    FT_I2S 185, fcvt.s.w, 0, 0xcf000000, 0x80000000
    FT_I2S 186, fcvt.s.wu, FFLAG_NX, 0x4f800000, 0xffffffff
    FT_I2S 187, fcvt.s.wu, FFLAG_NX, 0x4f7fffff, 0xffffffff, rtz
    FT_I2S 188, fcvt.s.wu, 0, 0x4f000000, 0xffffffff80000000
    FT_I2S 189, fcvt.s.l, 0, S_NONE, -1
    FT_I2S 190, fcvt.s.l, FFLAG_NX, 0x5f000000, 0x7fffffffffffffff
    FT_I2S 191, fcvt.s.l, 0, 0xdf000000, 0x8000000000000000
    FT_I2S 192, fcvt.s.l, FFLAG_NX, 0xdf000000, 0x8000000000000001, rne
    FT_I2S 193, fcvt.s.lu, FFLAG_NX, 0x5f800000, 0xffffffffffffffff
    FT_I2S 194, fcvt.s.lu, FFLAG_NX, 0x5f7fffff, 0xffffffffffffffff, rtz
    FT_I2S 195, fcvt.s.lu, 0, 0x4b800000, 0x1000000                     /* 2^24 */

    /* ---------------- moves, loads, stores, NaN-boxing */
    TESTCASE 200            /* fmv.x.w sign-extends; fmv.w.x NaN-boxes */
    li a1, 0x80000000
    fmv.w.x fa0, a1
    fmv.x.w a0, fa0
    CHECK a0, 0xffffffff80000000
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffff80000000
    li a1, 0x123456787fc12345   /* upper bits of the integer are ignored */
    fmv.w.x fa0, a1
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffff7fc12345
    TESTCASE 201            /* flw NaN-boxes, fsw stores the low word */
    fsflags zero
    la a1, fdata
    flw fa0, 0(a1)
    fmv.x.d a0, fa0
    CHECK a0, 0xffffffff3f800000
    flw fa1, 4(a1)
    fsw fa1, 8(a1)
    lwu a0, 8(a1)
    CHECK a0, 0x7f800001    /* signalling NaN moved unchanged, no flags */
    FCHECK_FLAGS 0
    TESTCASE 202            /* arithmetic results are NaN-boxed */
    li a1, S_ONE
    fmv.w.x fa0, a1
    fadd.s fa2, fa0, fa0
    fmv.x.d a0, fa2
    CHECK a0, 0xffffffff40000000
    TESTCASE 203            /* an improperly boxed single reads as the canonical NaN */
    li a1, 0x000000003f800000
    fmv.d.x fa0, a1
    li a1, S_ONE
    fmv.w.x fa1, a1
    fsflags zero
    fadd.s fa2, fa0, fa1
    FGET_S
    CHECK a0, S_QNAN
    FCHECK_FLAGS 0
    fclass.s a0, fa0
    CHECK a0, 0x200
    fmin.s fa2, fa0, fa1
    FGET_S
    CHECK a0, S_ONE
    fsgnj.s fa2, fa0, fa1
    FGET_S
    CHECK a0, S_QNAN
    fsgnjn.s fa2, fa0, fa1
    FGET_S
    CHECK a0, 0xffc00000
    fcvt.d.s fa2, fa0
    fmv.x.d a0, fa2
    CHECK a0, D_QNAN
    feq.s a0, fa0, fa0
    CHECK a0, 0
    FCHECK_FLAGS 0
    /* fmv.x.w and fsw move the low bits without looking at the boxing */
    fmv.x.w a0, fa0
    CHECK a0, 0x3f800000
    la a1, fdata
    fsw fa0, 12(a1)
    lwu a0, 12(a1)
    CHECK a0, 0x3f800000
    TESTCASE 204            /* upper half almost all ones is still not boxed */
    li a1, 0xfffffffe40000000
    fmv.d.x fa0, a1
    fsgnj.s fa2, fa0, fa0
    FGET_S
    CHECK a0, S_QNAN
    TESTCASE 205            /* x0 source and destination */
    fmv.w.x fa0, zero
    fmv.x.w a0, fa0
    CHECK a0, 0
    fmv.x.w zero, fa0
    CHECK zero, 0
    PASS

    .data
    .balign 8
fdata:
    .word 0x3f800000, 0x7f800001, 0, 0
