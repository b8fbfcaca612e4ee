/* D extension: every double-precision instruction, the conversions between single and double,
 * and the special values (canonical NaN, sNaN -> NV, signed zeros, subnormals, overflow,
 * fcvt saturation, fmin/fmax on +-0 and NaN); fld/fsd and fmv.x.d/fmv.d.x move bits unchanged. */
#include "env.h"
#include "fp.h"

#define D_THREE 0x4008000000000000
#define D_FIVE  0x4014000000000000

/* integer -> double conversions that are always exact take no rounding mode operand */
.macro FT_I2DX n, inst, flags, exp, a
    TESTCASE \n
    li a1, \a
    fsflags zero
    \inst fa2, a1
    fmv.x.d a0, fa2
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

TEST_MAIN
    /* ---------------- fadd / fsub */
    FT_D2 1, fadd.d, 0, D_THREE, D_ONE, D_TWO
    FT_D2 2, fadd.d, 0, D_ZERO, 0x4004000000000000, 0xc004000000000000
    FT_D2 3, fadd.d, 0, D_NZERO, 0x4004000000000000, 0xc004000000000000, rdn
    FT_D2 4, fadd.d, FFLAG_NX, D_ONE, D_ONE, 0x3ca0000000000000           /* 1 + 2^-53: tie */
    FT_D2 5, fadd.d, FFLAG_NX, 0x3ff0000000000001, D_ONE, 0x3ca0000000000000, rup
    FT_D2 6, fadd.d, FFLAG_NV, D_QNAN, D_INF, D_NINF
    FT_D2 7, fadd.d, FFLAG_NV, D_QNAN, D_ONE, D_SNAN
    FT_D2 8, fadd.d, 0, D_QNAN, 0x7ff8000000012345, D_ONE
    FT_D2 9, fadd.d, (FFLAG_OF | FFLAG_NX), D_INF, D_MAX, D_MAX
    FT_D2 10, fadd.d, (FFLAG_OF | FFLAG_NX), D_MAX, D_MAX, D_MAX, rdn
    FT_D2 11, fsub.d, 0, 0x4004000000000000, D_THREE, D_HALF
    FT_D2 12, fsub.d, 0, D_NZERO, D_NZERO, D_ZERO
    FT_D2 13, fsub.d, FFLAG_NV, D_QNAN, D_NINF, D_NINF
    FT_D2 14, fsub.d, 0, D_MIND, 0x0010000000000001, D_MINN

    /* ---------------- fmul / fdiv / fsqrt */
    FT_D2 20, fmul.d, 0, D_FIVE, 0x4004000000000000, D_TWO
    FT_D2 21, fmul.d, FFLAG_NV, D_QNAN, D_INF, D_ZERO
    FT_D2 22, fmul.d, 0, 0x0008000000000000, D_MINN, D_HALF
    FT_D2 23, fmul.d, (FFLAG_UF | FFLAG_NX), D_ZERO, D_MIND, D_HALF
    FT_D2 24, fmul.d, (FFLAG_UF | FFLAG_NX), 0x8000000000000001, D_MIND, 0xbfe0000000000000, rdn
    FT_D2 25, fmul.d, (FFLAG_OF | FFLAG_NX), D_NINF, D_MAX, 0xc000000000000000
    FT_D2 26, fdiv.d, FFLAG_NX, 0x3fd5555555555555, D_ONE, D_THREE
    FT_D2 27, fdiv.d, FFLAG_NX, 0x3fd5555555555556, D_ONE, D_THREE, rup
    FT_D2 28, fdiv.d, FFLAG_DZ, D_NINF, D_NONE, D_ZERO
    FT_D2 29, fdiv.d, FFLAG_NV, D_QNAN, D_NZERO, D_ZERO
    FT_D2 30, fdiv.d, FFLAG_NV, D_QNAN, D_INF, D_INF
    FT_D2 31, fdiv.d, 0, D_NZERO, D_NONE, D_INF
    FT_D1 32, fsqrt.d, 0, D_TWO, 0x4010000000000000
    FT_D1 33, fsqrt.d, FFLAG_NX, 0x3ff6a09e667f3bcd, D_TWO
    FT_D1 34, fsqrt.d, FFLAG_NV, D_QNAN, D_NONE
    FT_D1 35, fsqrt.d, 0, D_NZERO, D_NZERO
    FT_D1 36, fsqrt.d, FFLAG_NV, D_QNAN, D_SNAN

    /* ---------------- fused multiply-add */
    FT_D3 40, fmadd.d, 0, D_FIVE, D_ONE, D_TWO, D_THREE
    FT_D3 41, fmadd.d, 0, 0x3970000000000000, 0x3ff0000000000001, 0x3ff0000000000001, 0xbff0000000000002
    FT_D3 42, fmsub.d, 0, D_FIVE, D_TWO, D_THREE, D_ONE
    FT_D3 43, fnmsub.d, 0, 0xc014000000000000, D_TWO, D_THREE, D_ONE
    FT_D3 44, fnmadd.d, 0, 0xc01c000000000000, D_TWO, D_THREE, D_ONE
    FT_D3 45, fmadd.d, FFLAG_NV, D_QNAN, D_INF, D_ZERO, 0x7ff8000000000001
    FT_D3 46, fmadd.d, 0, D_QNAN, D_ONE, D_ONE, 0x7ff8000000000001
    FT_D3 47, fnmadd.d, 0, D_NZERO, D_ONE, D_ZERO, D_ZERO
    FT_D3 48, fmsub.d, FFLAG_NV, D_QNAN, D_INF, D_ONE, D_INF

    /* ---------------- fmin / fmax */
    FT_D2N 50, fmin.d, 0, D_NZERO, D_ZERO, D_NZERO
    FT_D2N 51, fmin.d, 0, D_NZERO, D_NZERO, D_ZERO
    FT_D2N 52, fmax.d, 0, D_ZERO, D_NZERO, D_ZERO
    FT_D2N 53, fmax.d, 0, D_ZERO, D_ZERO, D_NZERO
    FT_D2N 54, fmin.d, 0, D_TWO, D_QNAN, D_TWO
    FT_D2N 55, fmax.d, FFLAG_NV, D_NONE, D_SNAN, D_NONE
    FT_D2N 56, fmax.d, 0, D_QNAN, 0x7ff8000000012345, 0xfff8000000000000
    FT_D2N 57, fmin.d, FFLAG_NV, D_QNAN, D_SNAN, D_SNAN
    FT_D2N 58, fmin.d, 0, D_NONE, D_ONE, D_NONE
    FT_D2N 59, fmax.d, 0, D_INF, D_INF, D_MAX

    /* ---------------- sign injection */
    FT_D2N 60, fsgnj.d, 0, D_NONE, D_ONE, 0xc000000000000000
    FT_D2N 61, fsgnjn.d, 0, D_NONE, D_ONE, D_TWO
    FT_D2N 62, fsgnjx.d, 0, D_ONE, D_NONE, D_NONE
    FT_D2N 63, fsgnj.d, 0, 0xfff8000000012345, 0x7ff8000000012345, D_NONE
    FT_D2N 64, fsgnjn.d, 0, D_SNAN, 0xfff0000000000001, D_NONE

    /* ---------------- compares */
    FT_DCMP 70, feq.d, 0, 1, D_ZERO, D_NZERO
    FT_DCMP 71, feq.d, 0, 0, D_QNAN, D_ONE
    FT_DCMP 72, feq.d, FFLAG_NV, 0, D_ONE, D_SNAN
    FT_DCMP 73, flt.d, 0, 1, D_NONE, D_ONE
    FT_DCMP 74, flt.d, 0, 0, D_ZERO, D_NZERO
    FT_DCMP 75, flt.d, FFLAG_NV, 0, D_QNAN, D_QNAN
    FT_DCMP 76, fle.d, 0, 1, D_ONE, D_ONE
    FT_DCMP 77, fle.d, 0, 0, D_TWO, D_ONE
    FT_DCMP 78, fle.d, FFLAG_NV, 0, D_SNAN, D_ONE

    /* ---------------- fclass */
    FT_DCLASS 80, 0x001, D_NINF
    FT_DCLASS 81, 0x002, D_NONE
    FT_DCLASS 82, 0x004, 0x800fffffffffffff
    FT_DCLASS 83, 0x008, D_NZERO
    FT_DCLASS 84, 0x010, D_ZERO
    FT_DCLASS 85, 0x020, D_MIND
    FT_DCLASS 86, 0x040, D_MAX
    FT_DCLASS 87, 0x080, D_INF
    FT_DCLASS 88, 0x100, D_SNAN
    FT_DCLASS 89, 0x200, D_QNAN
    FT_DCLASS 90, 0x100, 0xfff7ffffffffffff

    /* ---------------- double -> integer */
    FT_D2I 100, fcvt.w.d, FFLAG_NV, 0x7fffffff, 0x41dfffffffe00000          /* 2^31-0.5 -> 2^31 */
    FT_D2I 101, fcvt.w.d, FFLAG_NX, 0x7fffffff, 0x41dfffffffe00000, rtz
    FT_D2I 102, fcvt.w.d, 0, 0xffffffff80000000, 0xc1e0000000000000
    FT_D2I 103, fcvt.w.d, FFLAG_NV, 0x7fffffff, D_QNAN
    FT_D2I 104, fcvt.w.d, FFLAG_NV, 0xffffffff80000000, D_NINF
    FT_D2I 105, fcvt.w.d, FFLAG_NX, -2, 0xc004000000000000                  /* -2.5 -> -2 */
    FT_D2I 106, fcvt.w.d, FFLAG_NX, -3, 0xc004000000000000, rmm
    FT_D2I 107, fcvt.wu.d, 0, 0xffffffffffffffff, 0x41efffffffe00000        /* 2^32-1 */
    FT_D2I 108, fcvt.wu.d, FFLAG_NV, 0xffffffffffffffff, 0x41f0000000000000
    FT_D2I 109, fcvt.wu.d, FFLAG_NV, 0, D_NONE
    FT_D2I 110, fcvt.wu.d, FFLAG_NV, 0xffffffffffffffff, D_SNAN
    FT_D2I 111, fcvt.l.d, FFLAG_NV, 0x7fffffffffffffff, 0x43e0000000000000
    FT_D2I 112, fcvt.l.d, 0, 0x8000000000000000, 0xc3e0000000000000
    FT_D2I 113, fcvt.l.d, 0, 0x0de0b6b3a7640000, 0x43abc16d674ec800          /* 1e18 */
    FT_D2I 114, fcvt.l.d, FFLAG_NV, 0x7fffffffffffffff, D_QNAN
    FT_D2I 115, fcvt.l.d, FFLAG_NX, 2, 0x3ff8000000000000, rup                /* 1.5 */
    FT_D2I 116, fcvt.lu.d, FFLAG_NV, 0xffffffffffffffff, 0x43f0000000000000
    FT_D2I 117, fcvt.lu.d, 0, 0xfffffffffffff800, 0x43efffffffffffff
    FT_D2I 118, fcvt.lu.d, FFLAG_NX, 0, 0xbfe0000000000000, rtz
    FT_D2I 119, fcvt.lu.d, FFLAG_NV, 0, D_NINF

    /* ---------------- integer -> double */
    FT_I2DX 120, fcvt.d.w, 0, D_NONE, -1
    FT_I2DX 121, fcvt.d.w, 0, 0x41dfffffffc00000, 0x7fffffff
    FT_I2DX 122, fcvt.d.w, 0, 0xc1e0000000000000, 0x0000000080000000  /* low word only */
    FT_I2DX 123, fcvt.d.wu, 0, 0x41efffffffe00000, 0xffffffff
    FT_I2DX 124, fcvt.d.wu, 0, D_ONE, 0xffffffff00000001
    FT_I2D 125, fcvt.d.l, FFLAG_NX, 0x43e0000000000000, 0x7fffffffffffffff
    FT_I2D 126, fcvt.d.l, FFLAG_NX, 0x43dfffffffffffff, 0x7fffffffffffffff, rtz
    FT_I2D 127, fcvt.d.l, 0, 0xc3e0000000000000, 0x8000000000000000
    FT_I2D 128, fcvt.d.lu, FFLAG_NX, 0x43f0000000000000, 0xffffffffffffffff
    FT_I2D 129, fcvt.d.lu, FFLAG_NX, 0x43efffffffffffff, 0xffffffffffffffff, rtz
    FT_I2D 130, fcvt.d.l, 0, 0, 0

    /* ---------------- single <-> double */
    FT_S2D 140, 0, D_ONE, S_ONE
    FT_S2D 141, 0, 0x36a0000000000000, S_MIND          /* subnormal single is normal double */
    FT_S2D 142, 0, D_NINF, S_NINF
    FT_S2D 143, 0, D_NZERO, S_NZERO
    FT_S2D 144, FFLAG_NV, D_QNAN, S_SNAN
    FT_S2D 145, 0, D_QNAN, 0x7fc12345                  /* canonical NaN out */
    FT_S2D 146, 0, 0x47efffffe0000000, S_MAX
    FT_D2S 150, FFLAG_NX, S_ONE, 0x3ff0000010000000     /* 1 + 2^-24: tie to even */
    FT_D2S 151, FFLAG_NX, 0x3f800001, 0x3ff0000010000000, rup
    FT_D2S 152, FFLAG_NX, 0x3f800001, 0x3ff0000010000000, rmm
    FT_D2S 153, (FFLAG_OF | FFLAG_NX), S_INF, D_MAX
    FT_D2S 154, (FFLAG_OF | FFLAG_NX), S_MAX, D_MAX, rtz
    FT_D2S 155, (FFLAG_UF | FFLAG_NX), S_ZERO, 0x3690000000000000   /* 2^-150 */
    FT_D2S 156, FFLAG_NV, S_QNAN, D_SNAN
    FT_D2S 157, 0, S_QNAN, 0xfff8000000012345
    FT_D2S 158, 0, S_NINF, D_NINF
    FT_D2S 159, FFLAG_NX, 0x3eaaaaab, 0x3fd5555555555555              /* 1/3 */

    /* ---------------- moves, loads, stores */
    TESTCASE 170
    fsflags zero
    la a1, ddata
    fld fa0, 0(a1)
    fmv.x.d a0, fa0
    CHECK a0, 0x7ff0000000000001      /* signalling NaN unchanged, no flags */
    fsd fa0, 8(a1)
    ld a0, 8(a1)
    CHECK a0, 0x7ff0000000000001
    FCHECK_FLAGS 0
    TESTCASE 171
    li a1, 0x0123456789abcdef
    fmv.d.x fa1, a1
    fmv.x.d a0, fa1
    CHECK a0, 0x0123456789abcdef
    TESTCASE 172            /* flw boxes, fld of the same register sees the box */
    la a1, ddata
    li a2, 0x40490fdb
    sw a2, 16(a1)
    flw fa0, 16(a1)
    fsd fa0, 24(a1)
    ld a0, 24(a1)
    CHECK a0, 0xffffffff40490fdb
    PASS

    .data
    .balign 8
ddata:
    .dword 0x7ff0000000000001, 0, 0, 0
