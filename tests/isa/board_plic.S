/* The PLIC of the virt board (riscv-plic-spec 1.0.0) with the UART (source 10) and the goldfish
 * RTC alarm (source 11) as interrupt sources:
 *   - WARL priority and threshold (3 bits on virt), source 0 hardwired to 0 everywhere;
 *   - a source's pending bit is set by its gateway whatever the enables and priority;
 *   - priority 0 never interrupts (no EIP, not claimable);
 *   - EIP only for priority > threshold; the claim is not affected by the threshold;
 *   - claim order: higher priority first, ties to the lower ID; after a claim, EIP follows
 *     what is left above the threshold;
 *   - context 1 (hart 0 S-mode) drives mip.SEIP: the read value is the OR of the software bit
 *     and the PLIC's signal, csrc cannot clear the PLIC's part, and a read-modify-write of mip
 *     does not copy the PLIC's signal into the software bit (priv spec 3.1.9); SEI taken in S
 *     when delegated (S claims and completes), in M when not;
 *   - both contexts enabled: both EIPs, one claim clears the shared pending bit. */
#include "env.h"
#include "board.inc"

/* Arms the RTC alarm in the past: the alarm fires, the line goes high (source 11). */
.macro RTC_FIRE
    W32 RTC + RTC_IRQ_ENABLED, 1
    W32 RTC + RTC_ALARM_HIGH, 0
    W32 RTC + RTC_ALARM_LOW, 0
.endm

.macro RTC_ACK
    W32 RTC + RTC_CLEAR_INTERRUPT, 1
.endm

TEST_MAIN
    la t0, dev_mtrap
    csrw mtvec, t0
    csrw mideleg, zero
    csrw mie, zero
    W64 MTIMER, -1
    W32 PLIC_ENABLE(0), 0
    W32 PLIC_ENABLE(1), 0
    W32 PLIC_THRESHOLD(0), 0
    W32 PLIC_THRESHOLD(1), 0
    W32 PLIC_PRIO(UART_IRQ), 0
    W32 PLIC_PRIO(RTC_IRQ), 0
    W8 UART + UART_IER, 0
    W32 RTC + RTC_IRQ_ENABLED, 0

    /* ================================================================ registers */
    TESTCASE 1                      /* priority: WARL, 3 bits */
    W32 PLIC_PRIO(UART_IRQ), 0xffffffff
    R32 a0, PLIC_PRIO(UART_IRQ)
    CHECK a0, 7
    W32 PLIC_PRIO(UART_IRQ), 5
    R32 a0, PLIC_PRIO(UART_IRQ)
    CHECK a0, 5
    W32 PLIC_PRIO(UART_IRQ), 0
    TESTCASE 2                      /* threshold: WARL, 3 bits */
    W32 PLIC_THRESHOLD(0), 0xffffffff
    R32 a0, PLIC_THRESHOLD(0)
    CHECK a0, 7
    W32 PLIC_THRESHOLD(1), 3
    R32 a0, PLIC_THRESHOLD(1)
    CHECK a0, 3
    R32 a0, PLIC_THRESHOLD(0)       /* contexts are independent */
    CHECK a0, 7
    W32 PLIC_THRESHOLD(0), 0
    W32 PLIC_THRESHOLD(1), 0
    TESTCASE 3                      /* source 0 does not exist */
    W32 PLIC_PRIO(0), 7
    R32 a0, PLIC_PRIO(0)
    CHECK a0, 0
    W32 PLIC_ENABLE(0), 0xffffffff
    R32 a0, PLIC_ENABLE(0)
    CHECK a0, 0xfffffffe
    W32 PLIC_ENABLE(0), 0
    R32 a0, PLIC_ENABLE(0)
    CHECK a0, 0
    R32 a0, PLIC_PENDING
    CHECK a0, 0
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, 0

    /* ================================================================ priority and threshold */
    TESTCASE 10                     /* pending whatever enables and priority say */
    W8 UART + UART_IER, IER_ETBEI
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 1
    csrr a0, mip
    li a1, MIP_MEIP | MIP_SEIP
    and a0, a0, a1
    CHECK a0, 0
    TESTCASE 11                     /* enabled, priority 0: never */
    W32 PLIC_ENABLE(0), 1 << UART_IRQ
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, 0
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 1
    TESTCASE 12                     /* priority 1 > threshold 0 */
    W32 PLIC_PRIO(UART_IRQ), 1
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    TESTCASE 13                     /* priority 1 <= threshold 1: masked */
    W32 PLIC_THRESHOLD(0), 1
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 1
    TESTCASE 14                     /* priority 2 > threshold 1 */
    W32 PLIC_PRIO(UART_IRQ), 2
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    TESTCASE 15                     /* 7 <= 7 masked, 7 > 6 not */
    W32 PLIC_PRIO(UART_IRQ), 7
    W32 PLIC_THRESHOLD(0), 7
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    W32 PLIC_THRESHOLD(0), 6
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    TESTCASE 16                     /* masked, yet claimable: the threshold does not apply */
    W32 PLIC_THRESHOLD(0), 7        /* to claims */
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, UART_IRQ
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_THRI
    W32 PLIC_CLAIM(0), UART_IRQ
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 0
    W32 PLIC_THRESHOLD(0), 0
    W8 UART + UART_IER, 0
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0

    /* ================================================================ two sources */
    TESTCASE 20                     /* the RTC alarm is source 11 */
    W32 PLIC_ENABLE(0), (1 << UART_IRQ) | (1 << RTC_IRQ)
    W32 PLIC_PRIO(UART_IRQ), 1
    W32 PLIC_PRIO(RTC_IRQ), 2
    RTC_FIRE
    PENDING_BIT a0, RTC_IRQ
    CHECK a0, 1
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    W8 UART + UART_IER, IER_ETBEI
    R32 a0, PLIC_PENDING
    li a1, (1 << UART_IRQ) | (1 << RTC_IRQ)
    and a0, a0, a1
    CHECK a0, (1 << UART_IRQ) | (1 << RTC_IRQ)
    TESTCASE 21                     /* higher priority first: 11 (2), then 10 (1) */
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, RTC_IRQ
    MIP_BIT a0, IRQ_MEI             /* 10 is still there */
    CHECK a0, 1
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, UART_IRQ
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, 0
    TESTCASE 22                     /* complete both with the lines still high: both again */
    W32 PLIC_CLAIM(0), UART_IRQ
    W32 PLIC_CLAIM(0), RTC_IRQ
    R32 a0, PLIC_PENDING
    li a1, (1 << UART_IRQ) | (1 << RTC_IRQ)
    and a0, a0, a1
    CHECK a0, (1 << UART_IRQ) | (1 << RTC_IRQ)
    TESTCASE 23                     /* equal priority: the lower ID first */
    W32 PLIC_PRIO(RTC_IRQ), 1
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, UART_IRQ
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, RTC_IRQ
    W32 PLIC_CLAIM(0), UART_IRQ
    W32 PLIC_CLAIM(0), RTC_IRQ
    TESTCASE 24                     /* threshold between them: EIP for 11 only, and after */
    W32 PLIC_PRIO(RTC_IRQ), 3       /* claiming 11, EIP falls although 10 is pending */
    W32 PLIC_THRESHOLD(0), 2
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, RTC_IRQ
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 1
    TESTCASE 25                     /* silence both devices, complete, claim what is left */
    RTC_ACK
    W32 PLIC_CLAIM(0), RTC_IRQ
    PENDING_BIT a0, RTC_IRQ
    CHECK a0, 0
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_THRI
    R32 a0, PLIC_CLAIM(0)           /* the request made before the line dropped */
    CHECK a0, UART_IRQ
    W32 PLIC_CLAIM(0), UART_IRQ
    R32 a0, PLIC_PENDING
    CHECK a0, 0
    W32 PLIC_THRESHOLD(0), 0
    W8 UART + UART_IER, 0
    W32 RTC + RTC_IRQ_ENABLED, 0
    W32 PLIC_ENABLE(0), 0
    W32 PLIC_PRIO(RTC_IRQ), 0

    /* ================================================================ S-mode context */
    TESTCASE 30                     /* context 1 drives SEIP, not MEIP */
    W32 PLIC_PRIO(UART_IRQ), 1
    W32 PLIC_ENABLE(1), 1 << UART_IRQ
    li a0, MIP_SEIP
    csrc mip, a0
    MIP_BIT a0, IRQ_SEI
    CHECK a0, 0
    W8 UART + UART_IER, IER_ETBEI
    MIP_BIT a0, IRQ_SEI
    CHECK a0, 1
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    TESTCASE 31                     /* delegated: visible in sip */
    li a0, MIP_SEIP
    csrw mideleg, a0
    csrr a0, sip
    CHECK a0, MIP_SEIP
    csrw mideleg, zero
    TESTCASE 32                     /* threshold of context 1 */
    W32 PLIC_THRESHOLD(1), 1
    MIP_BIT a0, IRQ_SEI
    CHECK a0, 0
    W32 PLIC_THRESHOLD(1), 0
    MIP_BIT a0, IRQ_SEI
    CHECK a0, 1
    TESTCASE 33                     /* csrc cannot clear the PLIC's SEIP */
    li a0, MIP_SEIP
    csrc mip, a0
    MIP_BIT a0, IRQ_SEI
    CHECK a0, 1
    TESTCASE 34                     /* a read-modify-write of mip keeps the software SEIP bit */
    csrsi mip, MIP_SSIP             /* (0): once the PLIC drops its signal, SEIP reads 0 */
    csrci mip, MIP_SSIP
    R32 a0, PLIC_CLAIM(1)
    CHECK a0, UART_IRQ
    MIP_BIT a0, IRQ_SEI
    CHECK a0, 0
    li a0, MIP_SEIP                 /* (clean up whatever the failure left) */
    csrc mip, a0
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_THRI
    W32 PLIC_CLAIM(1), UART_IRQ
    MIP_BIT a0, IRQ_SEI
    CHECK a0, 0
    TESTCASE 35                     /* software SEIP and the PLIC's: either one suffices */
    li a0, MIP_SEIP
    csrs mip, a0
    MIP_BIT a0, IRQ_SEI
    CHECK a0, 1
    W8 UART + UART_IER, 0
    W8 UART + UART_IER, IER_ETBEI
    li a0, MIP_SEIP
    csrc mip, a0
    MIP_BIT a0, IRQ_SEI             /* the PLIC's */
    CHECK a0, 1
    R32 a0, PLIC_CLAIM(1)
    CHECK a0, UART_IRQ
    MIP_BIT a0, IRQ_SEI
    CHECK a0, 0
    R8 a0, UART + UART_IIR
    W32 PLIC_CLAIM(1), UART_IRQ
    W8 UART + UART_IER, 0
    TESTCASE 36                     /* delegated SEI taken in S; S claims and completes */
    li a0, MIP_SEIP
    csrw mideleg, a0
    csrw mie, a0
    GOTO_S
    csrsi sstatus, MSTATUS_SIE
    EXPECT_IRQ 1, IRQ_SEI
    W8 UART + UART_IER, IER_ETBEI
    WAIT_TRAPPED
    csrci sstatus, MSTATUS_SIE
    csrr a0, scause
    CHECK a0, CAUSE_IRQ | IRQ_SEI
    csrr a0, sip
    CHECK a0, MIP_SEIP
    R32 a0, PLIC_CLAIM(1)
    CHECK a0, UART_IRQ
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_THRI
    W32 PLIC_CLAIM(1), UART_IRQ
    csrr a0, sip
    CHECK a0, 0
    W8 UART + UART_IER, 0
    GOTO_M
    csrw mideleg, zero
    csrw mie, zero
    TESTCASE 37                     /* not delegated: SEI from the PLIC taken in M */
    li a0, MIP_SEIP
    csrw mie, a0
    DEV_RESET
    csrsi mstatus, MSTATUS_MIE
    W8 UART + UART_IER, IER_ETBEI
    DEV_WAIT 1
    csrci mstatus, MSTATUS_MIE
    DEV_LOG a0, 0
    CHECK a0, CAUSE_IRQ | IRQ_SEI
    DEV_LOAD a0, dev_claimed        /* claimed from context 1 */
    CHECK a0, UART_IRQ
    DEV_LOAD a0, dev_iir
    CHECK a0, IIR_THRI
    MIP_BIT a0, IRQ_SEI
    CHECK a0, 0
    csrw mie, zero
    W8 UART + UART_IER, 0

    /* ================================================================ both contexts */
    TESTCASE 40                     /* one request, both targets notified */
    W32 PLIC_ENABLE(0), 1 << UART_IRQ
    W32 PLIC_ENABLE(1), 1 << UART_IRQ
    W8 UART + UART_IER, IER_ETBEI
    csrr a0, mip
    li a1, MIP_MEIP | MIP_SEIP
    and a0, a0, a1
    CHECK a0, MIP_MEIP | MIP_SEIP
    TESTCASE 41                     /* the first claim wins, clearing both */
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, UART_IRQ
    csrr a0, mip
    li a1, MIP_MEIP | MIP_SEIP
    and a0, a0, a1
    CHECK a0, 0
    R32 a0, PLIC_CLAIM(1)
    CHECK a0, 0
    R8 a0, UART + UART_IIR
    W32 PLIC_CLAIM(0), UART_IRQ
    R32 a0, PLIC_PENDING
    CHECK a0, 0
    W8 UART + UART_IER, 0
    W32 PLIC_ENABLE(0), 0
    W32 PLIC_ENABLE(1), 0
    PASS
