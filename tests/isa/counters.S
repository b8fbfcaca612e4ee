/* Zicntr/Zihpm counters and their access control (priv spec 3.1.10-3.1.12): instret counts
 * retired instructions, minstret/mcycle are writable, mcountinhibit freezes them, time advances;
 * from S a counter needs its mcounteren bit, from U also its scounteren bit, otherwise the read
 * is an illegal instruction. */
#include "env.h"

/* In the current mode, every counter read in \ok_mask must work and the others must trap.
 * Bits: 0 cycle, 1 time, 2 instret, 3 hpmcounter3. */
.macro COUNTERS_ALLOWED ok_mask
    .if (\ok_mask) & 1
    rdcycle a0
    .else
    ILLEGAL_M rdcycle a0
    .endif
    .if (\ok_mask) & 2
    rdtime a0
    .else
    ILLEGAL_M rdtime a0
    .endif
    .if (\ok_mask) & 4
    rdinstret a0
    .else
    ILLEGAL_M rdinstret a0
    .endif
    .if (\ok_mask) & 8
    csrr a0, hpmcounter3
    .else
    ILLEGAL_M csrr a0, hpmcounter3
    .endif
.endm

TEST_MAIN
    /* ---------------- instret counts instructions */
    TESTCASE 1
    csrw mcountinhibit, zero
    rdinstret a1
    .rept 10
    addi zero, zero, 0
    .endr
    rdinstret a2
    sub a0, a2, a1
    sltiu a3, a0, 10
    CHECK a3, 0                     /* at least the 10 instructions in between */
    sltiu a3, a0, 13
    CHECK a3, 1                     /* and not many more */
    csrr a1, minstret               /* minstret is the same counter */
    csrr a2, instret
    sub a0, a2, a1
    sltiu a3, a0, 3
    CHECK a3, 1
    TESTCASE 2                      /* writing minstret */
    li a1, 1000000
    csrw minstret, a1
    csrr a2, minstret
    sub a0, a2, a1
    sltiu a3, a0, 3
    CHECK a3, 1
    TESTCASE 3                      /* cycle advances */
    rdcycle a1
    .rept 10
    addi zero, zero, 0
    .endr
    rdcycle a2
    sltu a0, a1, a2
    CHECK a0, 1
    li a1, 5000
    csrw mcycle, a1
    csrr a2, mcycle
    sltu a0, a2, a1
    CHECK a0, 0
    TESTCASE 4                      /* mcountinhibit freezes instret and cycle */
    csrwi mcountinhibit, 5          /* IR and CY */
    csrr a1, minstret
    csrr a3, mcycle
    .rept 5
    addi zero, zero, 0
    .endr
    csrr a2, minstret
    csrr a4, mcycle
    CHECKR a1, a2
    CHECKR a3, a4
    li a1, 77
    csrw minstret, a1               /* a frozen counter can still be written */
    csrr a2, minstret
    CHECK a2, 77
    csrwi mcountinhibit, 0
    .rept 5
    addi zero, zero, 0
    .endr
    csrr a2, minstret
    sltiu a0, a2, 82
    CHECK a0, 0
    TESTCASE 5                      /* time advances (10 MHz): it changes within a bounded loop */
    rdtime a1
    li a3, 100000000
1:  rdtime a2
    bne a2, a1, 2f
    addi a3, a3, -1
    bnez a3, 1b
    FAIL
2:  sltu a0, a1, a2
    CHECK a0, 1                     /* and does not go backwards */

    /* ---------------- access from S */
    TESTCASE 10
    csrw mcounteren, zero
    GOTO_S
    COUNTERS_ALLOWED 0
    GOTO_M
    TESTCASE 11
    li a0, 0xf
    csrw mcounteren, a0
    GOTO_S
    COUNTERS_ALLOWED 0xf
    GOTO_M
    TESTCASE 12
    li a0, 0x2                      /* TM only */
    csrw mcounteren, a0
    GOTO_S
    COUNTERS_ALLOWED 0x2
    GOTO_M
    TESTCASE 13
    li a0, 0x5                      /* CY and IR */
    csrw mcounteren, a0
    GOTO_S
    COUNTERS_ALLOWED 0x5
    GOTO_M

    /* ---------------- access from U: both enables needed */
    TESTCASE 20
    li a0, 0xf
    csrw mcounteren, a0
    csrw scounteren, zero
    GOTO_U
    COUNTERS_ALLOWED 0
    GOTO_M
    TESTCASE 21
    csrw mcounteren, zero
    li a0, 0xf
    csrw scounteren, a0
    GOTO_U
    COUNTERS_ALLOWED 0
    GOTO_M
    TESTCASE 22
    li a0, 0xf
    csrw mcounteren, a0
    li a0, 0x3
    csrw scounteren, a0
    GOTO_U
    COUNTERS_ALLOWED 0x3
    GOTO_M
    TESTCASE 23
    li a0, 0x6
    csrw mcounteren, a0
    li a0, 0xc
    csrw scounteren, a0
    GOTO_U
    COUNTERS_ALLOWED 0x4
    GOTO_M
    TESTCASE 24                     /* M ignores both */
    csrw mcounteren, zero
    csrw scounteren, zero
    COUNTERS_ALLOWED 0xf
    PASS
