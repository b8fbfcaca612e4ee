/* All five IEEE rounding modes (RNE, RTZ, RDN, RUP, RMM), each as a static rm field and as
 * the dynamic frm, on add (ties with even/odd neighbours, both signs, above and below half),
 * multiply, divide, sqrt, fused multiply-add, overflow (inf or the largest finite value), and
 * the conversions int->float, float->int and double->single. Test n*10 + k: k = 0..4 static
 * RNE..RMM, k = 5..9 dynamic RNE..RMM. */
#include "env.h"
#include "fp.h"

/* a wrapper with the common argument order for fcvt.s.d */
.macro FT_D2S_X n, inst, flags, exp, a, rm=dyn
    FT_D2S \n, \flags, \exp, \a, \rm
.endm

/* \ft is one of the FT_* templates; \ops its operands after the expected value */
.macro RM5 n, ft, inst, flags, r0, r1, r2, r3, r4, ops:vararg
    \ft (\n * 10 + 0), \inst, \flags, \r0, \ops, rne
    \ft (\n * 10 + 1), \inst, \flags, \r1, \ops, rtz
    \ft (\n * 10 + 2), \inst, \flags, \r2, \ops, rdn
    \ft (\n * 10 + 3), \inst, \flags, \r3, \ops, rup
    \ft (\n * 10 + 4), \inst, \flags, \r4, \ops, rmm
    fsrmi RM_RNE
    \ft (\n * 10 + 5), \inst, \flags, \r0, \ops, dyn
    fsrmi RM_RTZ
    \ft (\n * 10 + 6), \inst, \flags, \r1, \ops, dyn
    fsrmi RM_RDN
    \ft (\n * 10 + 7), \inst, \flags, \r2, \ops, dyn
    fsrmi RM_RUP
    \ft (\n * 10 + 8), \inst, \flags, \r3, \ops, dyn
    fsrmi RM_RMM
    \ft (\n * 10 + 9), \inst, \flags, \r4, \ops, dyn
    fsrmi RM_RNE
.endm

TEST_MAIN
    /*      n  template  inst       flags                    RNE         RTZ         RDN         RUP         RMM         operands */
    /* 1 + 2^-24: exactly half an ulp above 1 (even) */
    RM5     1, FT_S2, fadd.s, FFLAG_NX, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800001, 0x3f800001, S_ONE, 0x33800000
    /* -1 - 2^-24 */
    RM5     2, FT_S2, fadd.s, FFLAG_NX, 0xbf800000, 0xbf800000, 0xbf800001, 0xbf800000, 0xbf800001, S_NONE, 0xb3800000
    /* (1 + 2^-23) + 2^-24: half an ulp above an odd value */
    RM5     3, FT_S2, fadd.s, FFLAG_NX, 0x3f800002, 0x3f800001, 0x3f800001, 0x3f800002, 0x3f800002, 0x3f800001, 0x33800000
    /* 1 + 3 * 2^-25: above half */
    RM5     4, FT_S2, fadd.s, FFLAG_NX, 0x3f800001, 0x3f800000, 0x3f800000, 0x3f800001, 0x3f800001, S_ONE, 0x33c00000
    /* 1 + 2^-25: below half */
    RM5     5, FT_S2, fsub.s, FFLAG_NX, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800001, 0x3f800000, S_ONE, 0xb3000000
    /* (1 + 2^-23)^2 = 1 + 2^-22 + 2^-46 */
    RM5     6, FT_S2, fmul.s, FFLAG_NX, 0x3f800002, 0x3f800002, 0x3f800002, 0x3f800003, 0x3f800002, 0x3f800001, 0x3f800001
    /* 1/3 and -1/3 */
    RM5     7, FT_S2, fdiv.s, FFLAG_NX, 0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaaa, 0x3eaaaaab, 0x3eaaaaab, S_ONE, 0x40400000
    RM5     8, FT_S2, fdiv.s, FFLAG_NX, 0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab, S_NONE, 0x40400000
    /* sqrt(2) */
    RM5     9, FT_S1, fsqrt.s, FFLAG_NX, 0x3fb504f3, 0x3fb504f3, 0x3fb504f3, 0x3fb504f4, 0x3fb504f3, S_TWO
    /* 1 * 1 + 2^-24 (one rounding) */
    RM5    10, FT_S3, fmadd.s, FFLAG_NX, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800001, 0x3f800001, S_ONE, S_ONE, 0x33800000
    /* overflow: +max * 2 and -max * 2 */
    RM5    11, FT_S2, fmul.s, (FFLAG_OF | FFLAG_NX), S_INF, S_MAX, S_MAX, S_INF, S_INF, S_MAX, S_TWO
    RM5    12, FT_S2, fmul.s, (FFLAG_OF | FFLAG_NX), S_NINF, 0xff7fffff, S_NINF, 0xff7fffff, S_NINF, S_MAX, 0xc0000000
    /* 2.5 and -2.5 to integer */
    RM5    13, FT_S2I, fcvt.w.s, FFLAG_NX, 2, 2, 2, 3, 3, 0x40200000
    RM5    14, FT_S2I, fcvt.l.s, FFLAG_NX, -2, -2, -3, -2, -3, 0xc0200000
    /* 2^24 + 1 to single: a tie between 2^24 and 2^24 + 2 */
    RM5    15, FT_I2S, fcvt.s.w, FFLAG_NX, 0x4b800000, 0x4b800000, 0x4b800000, 0x4b800001, 0x4b800001, 0x01000001
    /* -(2^24 + 3): a tie between -(2^24 + 2) and -(2^24 + 4) */
    RM5    16, FT_I2S, fcvt.s.l, FFLAG_NX, 0xcb800002, 0xcb800001, 0xcb800002, 0xcb800001, 0xcb800002, -0x1000003
    /* double 1 + 2^-24 to single */
    RM5    17, FT_D2S_X, fcvt.s.d, FFLAG_NX, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800001, 0x3f800001, 0x3ff0000010000000

    /* ---------------- double */
    RM5    18, FT_D2, fadd.d, FFLAG_NX, D_ONE, D_ONE, D_ONE, 0x3ff0000000000001, 0x3ff0000000000001, D_ONE, 0x3ca0000000000000
    RM5    19, FT_D2, fadd.d, FFLAG_NX, D_NONE, D_NONE, 0xbff0000000000001, D_NONE, 0xbff0000000000001, D_NONE, 0xbca0000000000000
    RM5    20, FT_D2, fdiv.d, FFLAG_NX, 0x3fd5555555555555, 0x3fd5555555555555, 0x3fd5555555555555, 0x3fd5555555555556, 0x3fd5555555555555, D_ONE, 0x4008000000000000
    RM5    21, FT_D1, fsqrt.d, FFLAG_NX, 0x3ff6a09e667f3bcd, 0x3ff6a09e667f3bcc, 0x3ff6a09e667f3bcc, 0x3ff6a09e667f3bcd, 0x3ff6a09e667f3bcd, D_TWO
    RM5    22, FT_D3, fmsub.d, FFLAG_NX, 0x3ff0000000000002, 0x3ff0000000000002, 0x3ff0000000000002, 0x3ff0000000000003, 0x3ff0000000000002, 0x3ff0000000000001, 0x3ff0000000000001, D_ZERO
    RM5    23, FT_I2D, fcvt.d.l, FFLAG_NX, 0x4340000000000000, 0x4340000000000000, 0x4340000000000000, 0x4340000000000001, 0x4340000000000001, 0x20000000000001
    RM5    24, FT_D2I, fcvt.w.d, FFLAG_NX, -2, -2, -3, -2, -3, 0xc004000000000000
    PASS
