/* The floating-point CSRs and state (unprivileged "F" chapter, priv spec 3.1.6.6): fcsr =
 * frm << 5 | fflags with its aliases, reserved bits reading zero, flag accrual, every flag,
 * dynamic rounding through frm, reserved rounding modes (static rm 5/6, frm 5/6/7 with a
 * dynamic-rm instruction) raising illegal-instruction, and mstatus.FS: Off makes every FP
 * instruction and FP CSR illegal, any FP state write makes FS Dirty and sets SD. */
#include "env.h"
#include "fp.h"

/* a0 = mstatus.FS (0..3) */
.macro GET_FS
    csrr a0, mstatus
    srli a0, a0, 13
    andi a0, a0, 3
.endm
.macro SET_FS v
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, (\v << 13)
    csrs mstatus, t0
.endm
/* a0 = mstatus.SD */
.macro GET_SD
    csrr a0, mstatus
    srli a0, a0, 63
.endm

TEST_MAIN
    /* ---------------- fcsr, frm, fflags */
    TESTCASE 1
    li a0, 0xff
    csrw fcsr, a0
    frcsr a1
    CHECK a1, 0xff
    frrm a1
    CHECK a1, 7
    frflags a1
    CHECK a1, 0x1f
    TESTCASE 2                      /* fcsr bits 31:8 read as zero */
    li a0, 0xffffff21
    csrw fcsr, a0
    frcsr a1
    CHECK a1, 0x21
    TESTCASE 3                      /* fflags is 5 bits, frm 3 bits, the other field stays */
    li a0, RM_RUP << 5
    csrw fcsr, a0
    li a0, 0xff
    fsflags a1, a0                  /* returns the old flags */
    CHECK a1, 0
    frcsr a1
    CHECK a1, (RM_RUP << 5) | 0x1f
    li a0, 0xfa
    fsrm a1, a0
    CHECK a1, RM_RUP
    frcsr a1
    CHECK a1, (2 << 5) | 0x1f       /* 0xfa & 7 = 2 */
    csrci fflags, FFLAG_NX | FFLAG_UF
    frflags a1
    CHECK a1, FFLAG_NV | FFLAG_DZ | FFLAG_OF
    csrsi frm, 1
    frrm a1
    CHECK a1, 3
    fsrmi a1, RM_RNE
    CHECK a1, 3
    fsflagsi a1, 0
    CHECK a1, FFLAG_NV | FFLAG_DZ | FFLAG_OF

    /* ---------------- flags accrue; each one on its own */
    TESTCASE 10
    fsflags zero
    li a0, S_ONE
    fmv.w.x fa0, a0
    fmv.w.x fa1, zero
    fdiv.s fa2, fa0, fa1            /* DZ */
    li a0, 0x40400000
    fmv.w.x fa1, a0
    fdiv.s fa2, fa0, fa1            /* NX */
    frflags a1
    CHECK a1, FFLAG_DZ | FFLAG_NX
    fadd.s fa2, fa0, fa0            /* exact: the flags stay */
    frflags a1
    CHECK a1, FFLAG_DZ | FFLAG_NX
    FT_S2 11, fmul.s, FFLAG_NV, S_QNAN, S_INF, S_ZERO
    FT_S2 12, fdiv.s, FFLAG_DZ, S_NINF, S_NONE, S_ZERO
    FT_S2 13, fmul.s, (FFLAG_OF | FFLAG_NX), S_INF, S_MAX, S_TWO
    FT_S2 14, fmul.s, (FFLAG_UF | FFLAG_NX), 0x00400000, 0x00800001, S_HALF  /* tiny, inexact */
    FT_S2 15, fadd.s, FFLAG_NX, 0x3f800000, S_ONE, 0x33000000
    FT_S2 16, fmul.s, 0, 0x00400000, S_MINN, S_HALF   /* tiny but exact: no UF */
    /* tininess is detected after rounding: 2^-126 (1 - 2^-25) rounds to 2^-126, not tiny */
    FT_D2S 17, FFLAG_NX, 0x00800000, 0x380ffffff0000000
    FT_D2S 18, (FFLAG_UF | FFLAG_NX), 0x007fffff, 0x380ffffff0000000, rdn
    /* the sign of an exact zero sum: -0 only when rounding down */
    FT_S2 19, fadd.s, 0, S_NZERO, S_ZERO, S_NZERO, rdn
    FT_S2 25, fadd.s, 0, S_ZERO, S_ZERO, S_NZERO, rne
    FT_D2 26, fsub.d, 0, D_NZERO, D_ONE, D_ONE, rdn
    FT_D3 27, fmadd.d, 0, D_NZERO, D_ONE, D_ZERO, D_NZERO, rdn
    FT_D3 28, fmadd.d, 0, D_ZERO, D_ONE, D_ZERO, D_NZERO, rup

    /* ---------------- dynamic rounding mode */
    TESTCASE 20
    fsrmi RM_RTZ
    FT_S2 21, fdiv.s, FFLAG_NX, 0x3eaaaaaa, S_ONE, 0x40400000
    fsrmi RM_RUP
    FT_S2 22, fdiv.s, FFLAG_NX, 0x3eaaaaab, S_ONE, 0x40400000
    fsrmi RM_RDN
    FT_S2 23, fdiv.s, FFLAG_NX, 0xbeaaaaab, S_NONE, 0x40400000
    fsrmi RM_RNE                    /* a static rm overrides frm */
    FT_S2 24, fdiv.s, FFLAG_NX, 0x3eaaaaaa, S_ONE, 0x40400000, rtz

    /* ---------------- reserved rounding modes */
    TESTCASE 30
    ILLEGAL_M .insn r 0x53, 5, 0, fa0, fa1, fa2     /* fadd.s rm = 5 */
    ILLEGAL_M .insn r 0x53, 6, 1, fa0, fa1, fa2     /* fadd.d rm = 6 */
    ILLEGAL_M .insn r 0x53, 5, 0x2c, fa0, fa1, f0   /* fsqrt.s rm = 5 */
    TESTCASE 31
    fsrmi 5
    ILLEGAL_M fadd.s fa0, fa1, fa2, dyn
    ILLEGAL_M fcvt.w.s a0, fa1, dyn
    ILLEGAL_M fmadd.d fa0, fa1, fa2, fa3, dyn
    fsgnj.s fa0, fa1, fa2           /* no rounding: fine */
    fmin.d fa0, fa1, fa2
    feq.s a0, fa1, fa2
    fmv.x.w a0, fa1
    fsrmi 6
    ILLEGAL_M fdiv.s fa0, fa1, fa2, dyn
    fsrmi 7
    ILLEGAL_M fsub.d fa0, fa1, fa2, dyn
    fsrmi RM_RNE
    fadd.s fa0, fa1, fa2, dyn

    /* ---------------- mstatus.FS */
    TESTCASE 40                     /* Off: everything FP is illegal */
    SET_FS 0
    ILLEGAL_M fadd.s fa0, fa1, fa2
    ILLEGAL_M fmv.w.x fa0, a0
    ILLEGAL_M fmv.x.d a0, fa0
    la a1, fpbuf
    ILLEGAL_M flw fa0, 0(a1)
    ILLEGAL_M fsd fa0, 0(a1)
    ILLEGAL_M c.fld fa0, 0(a1)
    ILLEGAL_M fcvt.d.l fa0, a0
    ILLEGAL_M fclass.s a0, fa0
    ILLEGAL_M csrr a0, fflags
    ILLEGAL_M csrr a0, frm
    ILLEGAL_M csrw fcsr, zero
    GET_FS
    CHECK a0, 0
    GET_SD
    CHECK a0, 0
    TESTCASE 41                     /* Initial -> Dirty on an FP register write, SD = 1 */
    SET_FS 1
    GET_SD
    CHECK a0, 0
    fmv.w.x fa0, zero
    GET_FS
    CHECK a0, 3
    GET_SD
    CHECK a0, 1
    csrr a0, sstatus                /* SD is visible in sstatus too */
    srli a0, a0, 63
    CHECK a0, 1
    TESTCASE 42                     /* Clean -> Dirty through an arithmetic result */
    SET_FS 2
    GET_SD
    CHECK a0, 0
    fadd.d fa0, fa1, fa2
    GET_FS
    CHECK a0, 3
    TESTCASE 43                     /* ... through a load */
    SET_FS 2
    la a1, fpbuf
    flw fa0, 0(a1)
    GET_FS
    CHECK a0, 3
    TESTCASE 44                     /* ... through an fcsr write */
    SET_FS 1
    csrwi fflags, 1
    GET_FS
    CHECK a0, 3
    TESTCASE 45                     /* S-mode sees and controls FS through sstatus */
    SET_FS 0
    GOTO_S
    ILLEGAL_M fadd.s fa0, fa1, fa2
    li a0, MSTATUS_FS_INITIAL
    csrs sstatus, a0
    fadd.s fa0, fa1, fa2
    csrr a0, sstatus
    srli a0, a0, 13
    andi a0, a0, 3
    CHECK a0, 3
    GOTO_M
    GOTO_U                          /* and U-mode is governed by the same field */
    fadd.s fa0, fa1, fa2
    GOTO_M
    SET_FS 0
    GOTO_U
    ILLEGAL_M fadd.s fa0, fa1, fa2
    GOTO_M
    SET_FS 1
    PASS

    .data
    .balign 8
fpbuf: .dword 0x3f800000
