/* Exception delegation with medeleg (priv spec 3.1.8): delegated exceptions from S and U go to
 * stvec with scause/sepc/stval and sstatus.SPP/SPIE/SIE set as for an S-mode trap; exceptions in
 * M are never delegated; undelegated ones still go to M; stvec in vectored mode sends
 * exceptions to its base. */
#include "env.h"

#define NO_MEMORY 0x40000000

/* a0 = status the handler saw on entry, masked to SIE | SPIE | SPP */
.macro LAST_SSTATUS
    RT_LOAD a0, RT_LAST_STATUS
    andi a0, a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
.endm

TEST_MAIN
    li a0, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_ECALL_U) | (1 << CAUSE_LOAD_ACCESS)
    csrw medeleg, a0

    /* ---------------- ecall from U goes to S */
    TESTCASE 1
    GOTO_S
    li a0, MSTATUS_SPIE             /* sret: SIE = SPIE = 1 in U (nothing is pending) */
    csrs sstatus, a0
    SGOTO_U
    li a7, 0
    TRAP_S CAUSE_ECALL_U, zero, ecall
    LAST_SSTATUS
    CHECK a0, MSTATUS_SPIE          /* SPP = U, SPIE = old SIE (1), SIE = 0 */
    TESTCASE 2                      /* ebreak from U */
    TRAP_S CAUSE_BREAKPOINT, any, ebreak
    LAST_SSTATUS
    CHECK a0, MSTATUS_SPIE          /* the sret of the last trap restored SIE = 1 */
    TESTCASE 3                      /* illegal instruction from U */
    ILLEGAL_S .word 0xffffffff
    GOTO_M                          /* ecall from U: delegated, forwarded by the S handler */

    /* ---------------- traps from S */
    TESTCASE 10
    GOTO_S
    csrci sstatus, MSTATUS_SIE
    ILLEGAL_S csrr a0, mstatus
    LAST_SSTATUS
    CHECK a0, MSTATUS_SPP           /* SPP = S, SPIE = 0 */
    csrr a0, scause                 /* the S CSRs describe the trap */
    CHECK a0, CAUSE_ILLEGAL
    csrr a0, stval
    li a1, 0x30002573               /* csrr a0, mstatus */
    CHECKR a0, a1
    TESTCASE 11
    li a1, NO_MEMORY
    TRAP_S CAUSE_LOAD_ACCESS, a1, ld a0, 0(a1)
    csrr a0, stval
    CHECK a0, NO_MEMORY
    TESTCASE 12                     /* not delegated: ecall from S and store faults go to M */
    li a7, 0
    TRAP_M CAUSE_ECALL_S, zero, ecall
    li a1, NO_MEMORY
    TRAP_M CAUSE_STORE_ACCESS, a1, sd a0, 0(a1)
    TESTCASE 13                     /* vectored stvec: exceptions go to the base */
    csrr s0, stvec
    ori a0, s0, 1
    csrw stvec, a0
    ILLEGAL_S .word 0
    TRAP_S CAUSE_BREAKPOINT, any, ebreak
    csrw stvec, s0
    GOTO_M

    /* ---------------- M-mode exceptions are never delegated */
    TESTCASE 20
    ILLEGAL_M .word 0xffffffff
    TRAP_M CAUSE_BREAKPOINT, any, ebreak
    li a1, NO_MEMORY
    TRAP_M CAUSE_LOAD_ACCESS, a1, ld a0, 0(a1)
    TESTCASE 21                     /* sepc/scause were not touched by those M traps */
    csrw scause, zero
    ILLEGAL_M .word 0
    csrr a0, scause
    CHECK a0, 0

    /* ---------------- delegation of ecall from U does not delegate ecall from S */
    TESTCASE 30
    li a0, 1 << CAUSE_ECALL_U
    csrw medeleg, a0
    GOTO_S
    li a7, 0
    TRAP_M CAUSE_ECALL_S, zero, ecall
    GOTO_M
    TESTCASE 31                     /* with medeleg = 0 U traps go to M again */
    csrw medeleg, zero
    GOTO_U
    li a7, 0
    TRAP_M CAUSE_ECALL_U, zero, ecall
    ILLEGAL_M .word 0xffffffff
    GOTO_M
    PASS
