/* WFI (priv spec 3.3.3): it returns when an interrupt is pending and enabled in mie/sie even
 * if interrupts are globally disabled (no trap then); an interrupt that is globally enabled is
 * taken with xepc = the instruction after the WFI; an Sstc timer wakes a waiting hart. */
#include "env.h"

#define TICKS_50MS 500000           /* time runs at 10 MHz */

TEST_MAIN
    csrw mideleg, zero
    csrw mie, zero

    /* ---------------- an interrupt already pending */
    TESTCASE 1                      /* M, MIE = 0 */
    li a0, MIP_SSIP
    csrs mie, a0
    csrs mip, a0
    wfi
    csrc mip, a0
    csrw mie, zero
    TESTCASE 2                      /* S, delegated, SIE = 0 */
    li a0, MIP_SSIP
    csrw mideleg, a0
    csrs mie, a0
    csrs mip, a0
    GOTO_S
    csrci sstatus, MSTATUS_SIE
    wfi
    li a0, MIP_SSIP
    csrc sip, a0
    GOTO_M
    csrw mie, zero
    csrw mideleg, zero

    /* ---------------- waiting for the Sstc timer */
    li a0, ENVCFG_STCE
    csrw CSR_MENVCFG, a0
    li a0, -1
    csrw CSR_STIMECMP, a0
    TESTCASE 10                     /* M, MIE = 0: wakes up, no trap */
    li a0, MIP_STIP
    csrw mie, a0
    rdtime s1
    li a0, TICKS_50MS
    add s1, s1, a0
    csrw CSR_STIMECMP, s1
    wfi
    csrr a0, mip                    /* woke because the timer is pending (a spurious */
    andi a0, a0, MIP_STIP           /* wake-up is allowed, so wait for it if needed) */
    bnez a0, 1f
    li s2, 20 * TICKS_50MS          /* but not forever */
    add s2, s2, s1
2:  csrr a0, mip
    andi a0, a0, MIP_STIP
    bnez a0, 1f
    rdtime a0
    bltu a0, s2, 2b
    FAIL
1:  rdtime a0
    sltu a0, a0, s1
    CHECK a0, 0
    TESTCASE 11                     /* M, MIE = 1: the interrupt is taken after the WFI */
    rdtime s1
    li a0, TICKS_50MS
    add s1, s1, a0
    csrw CSR_STIMECMP, s1
    ARM 3, (CAUSE_IRQ | IRQ_STI), EXPF_EPC, 3f, 0
    csrsi mstatus, MSTATUS_MIE
    wfi
3:  nop
    nop
    CHECK_TRAPPED
    csrci mstatus, MSTATUS_MIE
    rdtime a0
    sltu a0, a0, s1
    CHECK a0, 0
    li a0, -1
    csrw CSR_STIMECMP, a0
    TESTCASE 12                     /* S, delegated, SIE = 1 */
    li a0, MIP_STIP
    csrw mideleg, a0
    csrw mie, a0
    li a0, 2
    csrw mcounteren, a0
    GOTO_S
    rdtime s1
    li a0, TICKS_50MS
    add s1, s1, a0
    csrw CSR_STIMECMP, s1
    ARM 1, (CAUSE_IRQ | IRQ_STI), EXPF_EPC, 4f, 0
    csrsi sstatus, MSTATUS_SIE
    wfi
4:  nop
    CHECK_TRAPPED
    csrci sstatus, MSTATUS_SIE
    li a0, -1
    csrw CSR_STIMECMP, a0
    GOTO_M
    csrw mie, zero
    csrw mideleg, zero
    csrw CSR_MENVCFG, zero
    PASS
