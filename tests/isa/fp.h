/* Floating-point test templates (F and D). Operands and results are given as bit patterns so
 * that NaN payloads, signed zeros and exact rounding are spelled out. Every template clears
 * fflags, runs the instruction, and checks the result and the accrued flags (FFLAG_*).
 * Single-precision operands enter through fmv.w.x (NaN-boxed); results are read with fmv.x.w
 * and compared on their low 32 bits (NaN-boxing of results is tested separately). */
#ifndef RVISOR_ISA_FP_H
#define RVISOR_ISA_FP_H

/* canonical NaNs, infinities, and a few constants */
#define S_QNAN  0x7fc00000
#define S_SNAN  0x7f800001
#define S_INF   0x7f800000
#define S_NINF  0xff800000
#define S_ONE   0x3f800000
#define S_NONE  0xbf800000
#define S_TWO   0x40000000
#define S_HALF  0x3f000000
#define S_ZERO  0x00000000
#define S_NZERO 0x80000000
#define S_MAX   0x7f7fffff
#define S_MINN  0x00800000   /* smallest normal */
#define S_MIND  0x00000001   /* smallest subnormal */

#define D_QNAN  0x7ff8000000000000
#define D_SNAN  0x7ff0000000000001
#define D_INF   0x7ff0000000000000
#define D_NINF  0xfff0000000000000
#define D_ONE   0x3ff0000000000000
#define D_NONE  0xbff0000000000000
#define D_TWO   0x4000000000000000
#define D_HALF  0x3fe0000000000000
#define D_ZERO  0x0000000000000000
#define D_NZERO 0x8000000000000000
#define D_MAX   0x7fefffffffffffff
#define D_MINN  0x0010000000000000
#define D_MIND  0x0000000000000001

.macro FCHECK_FLAGS flags
    frflags a1
    CHECK a1, \flags
.endm

/* a0 = low 32 bits of fa2 (zero-extended) */
.macro FGET_S
    fmv.x.w a0, fa2
    slli a0, a0, 32
    srli a0, a0, 32
.endm

/* ---------------------------------------------------------------- single */
.macro FT_S1 n, inst, flags, exp, a, rm=dyn
    TESTCASE \n
    li t0, \a
    fmv.w.x fa0, t0
    fsflags zero
    \inst fa2, fa0, \rm
    FGET_S
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

.macro FT_S2 n, inst, flags, exp, a, b, rm=dyn
    TESTCASE \n
    li t0, \a
    fmv.w.x fa0, t0
    li t0, \b
    fmv.w.x fa1, t0
    fsflags zero
    \inst fa2, fa0, fa1, \rm
    FGET_S
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

/* two operands, no rounding mode (fmin, fmax, fsgnj*) */
.macro FT_S2N n, inst, flags, exp, a, b
    TESTCASE \n
    li t0, \a
    fmv.w.x fa0, t0
    li t0, \b
    fmv.w.x fa1, t0
    fsflags zero
    \inst fa2, fa0, fa1
    FGET_S
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

.macro FT_S3 n, inst, flags, exp, a, b, c, rm=dyn
    TESTCASE \n
    li t0, \a
    fmv.w.x fa0, t0
    li t0, \b
    fmv.w.x fa1, t0
    li t0, \c
    fmv.w.x fa3, t0
    fsflags zero
    \inst fa2, fa0, fa1, fa3, \rm
    FGET_S
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

/* compares: integer result */
.macro FT_SCMP n, inst, flags, exp, a, b
    TESTCASE \n
    li t0, \a
    fmv.w.x fa0, t0
    li t0, \b
    fmv.w.x fa1, t0
    fsflags zero
    \inst a0, fa0, fa1
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

.macro FT_SCLASS n, exp, a
    TESTCASE \n
    li t0, \a
    fmv.w.x fa0, t0
    fsflags zero
    fclass.s a0, fa0
    CHECK a0, \exp
    FCHECK_FLAGS 0
.endm

/* single -> integer */
.macro FT_S2I n, inst, flags, exp, a, rm=dyn
    TESTCASE \n
    li t0, \a
    fmv.w.x fa0, t0
    fsflags zero
    \inst a0, fa0, \rm
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

/* integer -> single */
.macro FT_I2S n, inst, flags, exp, a, rm=dyn
    TESTCASE \n
    li a1, \a
    fsflags zero
    \inst fa2, a1, \rm
    FGET_S
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

/* ---------------------------------------------------------------- double */
.macro FT_D1 n, inst, flags, exp, a, rm=dyn
    TESTCASE \n
    li t0, \a
    fmv.d.x fa0, t0
    fsflags zero
    \inst fa2, fa0, \rm
    fmv.x.d a0, fa2
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

.macro FT_D2 n, inst, flags, exp, a, b, rm=dyn
    TESTCASE \n
    li t0, \a
    fmv.d.x fa0, t0
    li t0, \b
    fmv.d.x fa1, t0
    fsflags zero
    \inst fa2, fa0, fa1, \rm
    fmv.x.d a0, fa2
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

.macro FT_D2N n, inst, flags, exp, a, b
    TESTCASE \n
    li t0, \a
    fmv.d.x fa0, t0
    li t0, \b
    fmv.d.x fa1, t0
    fsflags zero
    \inst fa2, fa0, fa1
    fmv.x.d a0, fa2
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

.macro FT_D3 n, inst, flags, exp, a, b, c, rm=dyn
    TESTCASE \n
    li t0, \a
    fmv.d.x fa0, t0
    li t0, \b
    fmv.d.x fa1, t0
    li t0, \c
    fmv.d.x fa3, t0
    fsflags zero
    \inst fa2, fa0, fa1, fa3, \rm
    fmv.x.d a0, fa2
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

.macro FT_DCMP n, inst, flags, exp, a, b
    TESTCASE \n
    li t0, \a
    fmv.d.x fa0, t0
    li t0, \b
    fmv.d.x fa1, t0
    fsflags zero
    \inst a0, fa0, fa1
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

.macro FT_DCLASS n, exp, a
    TESTCASE \n
    li t0, \a
    fmv.d.x fa0, t0
    fsflags zero
    fclass.d a0, fa0
    CHECK a0, \exp
    FCHECK_FLAGS 0
.endm

.macro FT_D2I n, inst, flags, exp, a, rm=dyn
    TESTCASE \n
    li t0, \a
    fmv.d.x fa0, t0
    fsflags zero
    \inst a0, fa0, \rm
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

.macro FT_I2D n, inst, flags, exp, a, rm=dyn
    TESTCASE \n
    li a1, \a
    fsflags zero
    \inst fa2, a1, \rm
    fmv.x.d a0, fa2
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

/* single -> double */
.macro FT_S2D n, flags, exp, a
    TESTCASE \n
    li t0, \a
    fmv.w.x fa0, t0
    fsflags zero
    fcvt.d.s fa2, fa0
    fmv.x.d a0, fa2
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

/* double -> single */
.macro FT_D2S n, flags, exp, a, rm=dyn
    TESTCASE \n
    li t0, \a
    fmv.d.x fa0, t0
    fsflags zero
    fcvt.s.d fa2, fa0, \rm
    FGET_S
    CHECK a0, \exp
    FCHECK_FLAGS \flags
.endm

#endif
