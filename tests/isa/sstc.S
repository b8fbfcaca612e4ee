/* Sstc (priv spec, "Sstc" and menvcfg.STCE): stimecmp is always accessible in M; in S only
 * with menvcfg.STCE = 1 and mcounteren.TM = 1; never in U. With STCE = 1, mip.STIP is
 * read-only and equals (time >= stimecmp); a timer interrupt delegated to S fires once time
 * reaches stimecmp; not delegated, it is an M-level interrupt. time is readable (10 MHz). */
#include "env.h"

#define TICKS_10MS 100000           /* time runs at 10 MHz */

TEST_MAIN
    csrw mideleg, zero
    csrw mie, zero

    /* ---------------- STCE = 0 */
    TESTCASE 1
    csrw CSR_MENVCFG, zero
    li a0, 12345
    csrw CSR_STIMECMP, a0           /* M may access stimecmp whatever STCE says */
    csrr a1, CSR_STIMECMP
    CHECK a1, 12345
    li a0, MIP_STIP                 /* STIP is the software-writable bit of old */
    csrs mip, a0
    csrr a1, mip
    andi a1, a1, MIP_STIP
    CHECK a1, MIP_STIP
    csrc mip, a0
    csrr a1, mip
    andi a1, a1, MIP_STIP
    CHECK a1, 0
    TESTCASE 2
    li a0, 7
    csrw mcounteren, a0
    GOTO_S
    ILLEGAL_M csrr a0, CSR_STIMECMP
    ILLEGAL_M csrw CSR_STIMECMP, zero
    GOTO_M

    /* ---------------- STCE = 1: STIP follows the comparison */
    TESTCASE 10
    li a0, ENVCFG_STCE
    csrw CSR_MENVCFG, a0
    li a0, -1
    csrw CSR_STIMECMP, a0
    csrr a1, mip
    andi a1, a1, MIP_STIP
    CHECK a1, 0
    li a0, MIP_STIP                 /* no longer writable */
    csrs mip, a0
    csrr a1, mip
    andi a1, a1, MIP_STIP
    CHECK a1, 0
    csrw CSR_STIMECMP, zero         /* time >= 0: pending at once */
    csrr a1, mip
    andi a1, a1, MIP_STIP
    CHECK a1, MIP_STIP
    li a0, MIP_STIP
    csrc mip, a0                    /* clearing through mip does nothing either */
    csrr a1, mip
    andi a1, a1, MIP_STIP
    CHECK a1, MIP_STIP
    li a0, -1
    csrw CSR_STIMECMP, a0           /* a compare value in the future clears it */
    csrr a1, mip
    andi a1, a1, MIP_STIP
    CHECK a1, 0
    TESTCASE 11                     /* time itself: monotonic, readable as rdtime */
    rdtime a1
    csrr a2, time
    sltu a0, a2, a1
    CHECK a0, 0

    /* ---------------- access from S and U */
    TESTCASE 20
    li a0, 2                        /* TM */
    csrw mcounteren, a0
    GOTO_S
    li a0, -2
    csrw CSR_STIMECMP, a0
    csrr a1, CSR_STIMECMP
    CHECK a1, -2
    rdtime a1
    GOTO_M
    TESTCASE 21
    csrw mcounteren, zero           /* TM = 0: stimecmp is illegal in S */
    GOTO_S
    ILLEGAL_M csrr a0, CSR_STIMECMP
    ILLEGAL_M csrw CSR_STIMECMP, zero
    GOTO_M
    TESTCASE 22
    li a0, 2
    csrw mcounteren, a0
    csrw scounteren, a0
    GOTO_U
    ILLEGAL_M csrr a0, CSR_STIMECMP
    GOTO_M

    /* ---------------- the timer interrupt */
    TESTCASE 30                     /* delegated to S */
    li a0, -1
    csrw CSR_STIMECMP, a0
    li a0, MIP_STIP
    csrw mideleg, a0
    csrs mie, a0
    GOTO_S
    rdtime s1
    li a0, TICKS_10MS
    add s1, s1, a0
    csrw CSR_STIMECMP, s1
    EXPECT_IRQ 1, IRQ_STI
    csrsi sstatus, MSTATUS_SIE
    li s2, 100 * TICKS_10MS         /* give up after one second */
    add s2, s2, s1
1:  la t0, rt_state
    ld t0, RT_EXP_VALID(t0)
    beqz t0, 2f
    rdtime a0
    bltu a0, s2, 1b
2:  CHECK_TRAPPED
    csrci sstatus, MSTATUS_SIE
    rdtime a0                       /* the interrupt did not come early */
    sltu a0, a0, s1
    CHECK a0, 0
    csrr a0, sip                    /* still pending until stimecmp moves */
    andi a0, a0, MIP_STIP
    CHECK a0, MIP_STIP
    li a0, -1
    csrw CSR_STIMECMP, a0
    csrr a0, sip
    andi a0, a0, MIP_STIP
    CHECK a0, 0
    GOTO_M
    TESTCASE 31                     /* not delegated: an M-level interrupt */
    csrw mideleg, zero
    li a0, MIP_STIP
    csrw mie, a0
    csrw CSR_STIMECMP, zero
    EXPECT_IRQ 3, IRQ_STI
    csrsi mstatus, MSTATUS_MIE
    CHECK_TRAPPED
    csrci mstatus, MSTATUS_MIE
    li a0, -1
    csrw CSR_STIMECMP, a0
    csrw mie, zero
    csrw CSR_MENVCFG, zero
    PASS
