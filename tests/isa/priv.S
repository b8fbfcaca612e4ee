/* Trap-return instructions and the mstatus virtualization controls (priv spec 3.1.6, 3.3.2):
 * mret/sret pop the privilege and interrupt-enable stacks (xIE = xPIE, xPIE = 1, xPP = U) and
 * clear MPRV when the new mode is below M; TSR makes sret illegal in S; TVM makes satp and
 * sfence.vma illegal in S; TW makes wfi illegal in S and U (U: always illegal here). */
#include "env.h"

/* Fails unless the hart runs in S-mode (sstatus readable, mstatus not). */
.macro ASSERT_S
    csrr a0, sstatus
    ILLEGAL_M csrr a0, mstatus
.endm
/* Fails unless the hart runs in U-mode. */
.macro ASSERT_U
    ILLEGAL_M csrr a0, sstatus
.endm

TEST_MAIN
    /* ---------------- mret to M */
    TESTCASE 1
    li a0, MSTATUS_MPP_M
    csrs mstatus, a0
    li a0, MSTATUS_MPIE
    csrc mstatus, a0
    csrsi mstatus, MSTATUS_MIE      /* mie = 0: nothing can be taken */
    la a0, 1f
    csrw mepc, a0
    mret
    FAIL
1:  csrr a0, mstatus
    li a1, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP
    and a0, a0, a1
    CHECK a0, MSTATUS_MPIE          /* MIE = old MPIE = 0, MPIE = 1, MPP = U */
    TESTCASE 2
    li a0, MSTATUS_MPP_M
    csrs mstatus, a0                /* MPIE is 1 from the previous mret */
    la a0, 2f
    csrw mepc, a0
    mret
    FAIL
2:  csrr a0, mstatus
    andi a0, a0, MSTATUS_MIE
    CHECK a0, MSTATUS_MIE
    csrci mstatus, MSTATUS_MIE
    TESTCASE 3                      /* mret to M keeps MPRV */
    li a0, MSTATUS_MPP_M
    csrs mstatus, a0
    li a0, MSTATUS_MPRV
    csrs mstatus, a0
    la a0, 3f
    csrw mepc, a0
    mret
3:  csrr a0, mstatus
    li a1, MSTATUS_MPRV
    and a0, a0, a1
    CHECK a0, MSTATUS_MPRV
    li a1, MSTATUS_MPRV
    csrc mstatus, a1

    /* ---------------- mret to S and U clears MPRV */
    TESTCASE 4
    li a0, MSTATUS_MPRV
    csrs mstatus, a0
    GOTO_S
    ASSERT_S
    GOTO_M
    csrr a0, mstatus
    li a1, MSTATUS_MPRV
    and a0, a0, a1
    CHECK a0, 0
    TESTCASE 5
    li a0, MSTATUS_MPRV
    csrs mstatus, a0
    GOTO_U
    ASSERT_U
    GOTO_M
    csrr a0, mstatus
    li a1, MSTATUS_MPRV
    and a0, a0, a1
    CHECK a0, 0

    /* ---------------- sret */
    TESTCASE 10                     /* sret from M with SPP = S: to S, SIE = SPIE, SPIE = 1, SPP = U */
    li a0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_MPRV
    csrs mstatus, a0
    csrci mstatus, MSTATUS_SIE
    la a0, 4f
    csrw sepc, a0
    sret
    FAIL
4:  csrr a0, sstatus
    andi a0, a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    CHECK a0, MSTATUS_SIE | MSTATUS_SPIE
    ASSERT_S
    csrci sstatus, MSTATUS_SIE
    GOTO_M
    csrr a0, mstatus
    li a1, MSTATUS_MPRV
    and a0, a0, a1
    CHECK a0, 0                     /* sret to a mode below M clears MPRV too */
    TESTCASE 11                     /* sret from S with SPP = U */
    GOTO_S
    li a0, MSTATUS_SPIE
    csrc sstatus, a0
    csrsi sstatus, MSTATUS_SIE
    SGOTO_U
    ASSERT_U
    GOTO_M
    csrr a0, mstatus
    andi a0, a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    CHECK a0, MSTATUS_SPIE          /* SIE = old SPIE = 0 */
    TESTCASE 12                     /* sret from S with SPP = S stays in S */
    GOTO_S
    li a0, MSTATUS_SPP
    csrs sstatus, a0
    la a0, 5f
    csrw sepc, a0
    sret
    FAIL
5:  ASSERT_S
    csrr a0, sstatus
    andi a0, a0, MSTATUS_SPP
    CHECK a0, 0
    GOTO_M

    /* ---------------- TSR */
    TESTCASE 20
    li a0, MSTATUS_TSR
    csrs mstatus, a0
    GOTO_S
    ILLEGAL_M sret
    GOTO_M
    li a0, MSTATUS_SPP              /* sret stays legal in M */
    csrs mstatus, a0
    la a0, 6f
    csrw sepc, a0
    sret
    FAIL
6:  ASSERT_S
    GOTO_M
    li a0, MSTATUS_TSR
    csrc mstatus, a0

    /* ---------------- TVM */
    TESTCASE 30
    li a0, MSTATUS_TVM
    csrs mstatus, a0
    csrr a0, satp                   /* fine in M */
    sfence.vma
    GOTO_S
    ILLEGAL_M csrr a0, satp
    ILLEGAL_M csrw satp, zero
    ILLEGAL_M sfence.vma
    ILLEGAL_M sfence.vma a0, zero
    csrr a0, sstatus                /* other S CSRs are unaffected */
    GOTO_M
    li a0, MSTATUS_TVM
    csrc mstatus, a0
    GOTO_S
    csrr a0, satp
    csrw satp, zero
    sfence.vma
    GOTO_M
    TESTCASE 31                     /* sfence.vma is illegal in U whatever TVM says */
    GOTO_U
    ILLEGAL_M sfence.vma
    GOTO_M

    /* ---------------- TW (wfi is never reached without trapping here) */
    TESTCASE 40
    li a0, MSTATUS_TW
    csrs mstatus, a0
    GOTO_S
    ILLEGAL_M wfi
    GOTO_M
    GOTO_U
    ILLEGAL_M wfi
    GOTO_M
    TESTCASE 41                     /* TW = 0: wfi in U is still illegal (S-mode exists) */
    li a0, MSTATUS_TW
    csrc mstatus, a0
    GOTO_U
    ILLEGAL_M wfi
    GOTO_M
    TESTCASE 42                     /* TW does not apply to M: wfi returns at once when an */
    li a0, MSTATUS_TW               /* interrupt is pending and enabled in mie */
    csrs mstatus, a0
    li a0, MIP_SSIP
    csrs mie, a0
    csrs mip, a0
    wfi
    csrc mip, a0
    csrc mie, a0
    li a0, MSTATUS_TW
    csrc mstatus, a0
    PASS
