/* M-level interrupts from the virt board's devices, taken in M (priv spec 3.1.9 "mip and mie",
 * ACLINT spec MSWI/MTIMER/SSWI, PLIC spec, PC16550D datasheet):
 *   - MSI: msip[0] is mip.MSIP (bit 0 only, WARL), read-only in mip, taken with mcause 3;
 *   - MTI: mtime is the time CSR (and writable), MTIP = (mtime >= mtimecmp[0]), read-only in
 *     mip, cleared by moving mtimecmp into the future, 32-bit halves of mtimecmp, wakes WFI,
 *     taken with mcause 7 in M and from S whatever mstatus.MIE says;
 *   - MEI: the UART's THRE interrupt (IER.ETBEI) through PLIC source 10, context 0: pending
 *     bit, mip.MEIP (read-only), claim returns 10 and clears the pending bit, reading IIR
 *     acknowledges THRE, completion; the gateway keeps a request when the line drops, and
 *     forwards a new one at completion while the line is still high; completion of a source
 *     not enabled is ignored; loopback RX data interrupt;
 *   - SSWI: setssip[0] sets mip.SSIP (an edge: reads 0, writing 0 does nothing, mip clears it),
 *     taken in M or, delegated, in S;
 *   - all six standard interrupts pending at once are taken in the order MEI, MSI, MTI, SEI,
 *     SSI, STI, each handler silencing its source. */
#include "env.h"
#include "board.inc"

TEST_MAIN
    la t0, dev_mtrap
    csrw mtvec, t0
    csrw mideleg, zero
    csrw mie, zero
    csrw CSR_MENVCFG, zero
    W64 MTIMER, -1
    W32 PLIC_ENABLE(0), 0
    W32 PLIC_ENABLE(1), 0
    W32 PLIC_THRESHOLD(0), 0
    W32 PLIC_THRESHOLD(1), 0
    W32 PLIC_PRIO(UART_IRQ), 1
    W8 UART + UART_IER, 0

    /* ================================================================ MSI (MSWI) */
    TESTCASE 1                      /* reset state: msip[0] = 0, no MSIP */
    R32 a0, MSWI
    CHECK a0, 0
    MIP_BIT a0, IRQ_MSI
    CHECK a0, 0
    TESTCASE 2                      /* MSIP is read-only in mip */
    li a0, MIP_MSIP
    csrs mip, a0
    MIP_BIT a0, IRQ_MSI
    CHECK a0, 0
    TESTCASE 3                      /* msip[0] = 1 -> mip.MSIP */
    W32 MSWI, 1
    R32 a0, MSWI
    CHECK a0, 1
    MIP_BIT a0, IRQ_MSI
    CHECK a0, 1
    TESTCASE 4                      /* mip cannot clear it either */
    li a0, MIP_MSIP
    csrc mip, a0
    MIP_BIT a0, IRQ_MSI
    CHECK a0, 1
    TESTCASE 5                      /* WARL: only bit 0 exists */
    W32 MSWI, 0xffffffff
    R32 a0, MSWI
    CHECK a0, 1
    W32 MSWI, 2                     /* bit 0 = 0: cleared */
    R32 a0, MSWI
    CHECK a0, 0
    MIP_BIT a0, IRQ_MSI
    CHECK a0, 0
    TESTCASE 6                      /* msip of a hart that does not exist: no effect here */
    W32 MSWI + 4 * 7, 1
    MIP_BIT a0, IRQ_MSI
    CHECK a0, 0
    TESTCASE 7                      /* taken in M with mcause 3 once MIE is set */
    W32 MSWI, 1
    li a0, MIP_MSIP
    csrw mie, a0
    DEV_RESET
    csrsi mstatus, MSTATUS_MIE
1:  nop
    DEV_WAIT 1
    csrci mstatus, MSTATUS_MIE
    DEV_LOG a0, 0
    CHECK a0, CAUSE_IRQ | IRQ_MSI
    csrr a0, mcause
    CHECK a0, CAUSE_IRQ | IRQ_MSI
    DEV_LOAD a0, dev_epc            /* taken right after the CSR write that enabled it */
    la a1, 1b
    CHECKR a0, a1
    R32 a0, MSWI                    /* the handler cleared msip[0] */
    CHECK a0, 0
    MIP_BIT a0, IRQ_MSI
    CHECK a0, 0
    csrw mie, zero

    /* ================================================================ MTI (MTIMER) */
    TESTCASE 10                     /* mtimecmp reads back; all ones: no MTIP */
    W64 MTIMER, -1
    R64 a0, MTIMER
    CHECK a0, -1
    MIP_BIT a0, IRQ_MTI
    CHECK a0, 0
    TESTCASE 11                     /* the time CSR is mtime */
    R64 s1, MTIME
    rdtime s2
    R64 s3, MTIME
    bltu s2, s1, 2f
    bltu s3, s2, 2f
    j 3f
2:  mv a0, s2
    mv a1, s1
    j rt_fail
3:  TESTCASE 12                     /* mtime runs */
    li a2, 10000000
4:  R64 a0, MTIME
    bne a0, s3, 5f
    addi a2, a2, -1
    bnez a2, 4b
    FAIL
5:  bltu a0, s3, 2b
    TESTCASE 13                     /* mtimecmp = 0 <= mtime: MTIP at once */
    W64 MTIMER, 0
    MIP_BIT a0, IRQ_MTI
    CHECK a0, 1
    TESTCASE 14                     /* MTIP is read-only in mip */
    li a0, MIP_MTIP
    csrc mip, a0
    MIP_BIT a0, IRQ_MTI
    CHECK a0, 1
    TESTCASE 15                     /* mtimecmp in the future: MTIP drops at once */
    R64 a0, MTIME
    li a1, 1000000 * TICKS_PER_MS   /* 1000 s */
    add a0, a0, a1
    li t6, MTIMER
    sd a0, 0(t6)
    MIP_BIT a0, IRQ_MTI
    CHECK a0, 0
    li a0, MIP_MTIP
    csrs mip, a0
    MIP_BIT a0, IRQ_MTI
    CHECK a0, 0
    TESTCASE 16                     /* 32-bit halves (RV32 style, OpenSBI's fallback) */
    W64 MTIMER, -1
    W32 MTIMER, 0                   /* low word */
    R64 a0, MTIMER
    CHECK a0, 0xffffffff00000000
    MIP_BIT a0, IRQ_MTI
    CHECK a0, 0
    W32 MTIMER + 4, 0               /* high word: mtimecmp = 0 */
    R64 a0, MTIMER
    CHECK a0, 0
    MIP_BIT a0, IRQ_MTI
    CHECK a0, 1
    R32 a0, MTIMER + 4
    CHECK a0, 0
    W64 MTIMER, -1
    TESTCASE 17                     /* WFI with MIE = 0 waits for the timer, no trap */
    li a0, MIP_MTIP
    csrw mie, a0
    DEV_RESET
    R64 s1, MTIME
    li a0, 20 * TICKS_PER_MS
    add s1, s1, a0
    li t6, MTIMER
    sd s1, 0(t6)
    MIP_BIT a0, IRQ_MTI
    CHECK a0, 0
    rdtime s2
    li a0, 2000 * TICKS_PER_MS
    add s2, s2, a0
8:  wfi                             /* (a spurious wake-up is allowed: loop) */
    MIP_BIT a0, IRQ_MTI
    bnez a0, 9f
    rdtime a0
    bltu a0, s2, 8b
    FAIL
9:  R64 a0, MTIME
    sltu a0, a0, s1
    CHECK a0, 0
    DEV_LOAD a0, dev_count
    CHECK a0, 0
    TESTCASE 18                     /* taken from WFI with mcause 7 */
    R64 s1, MTIME
    li a0, 20 * TICKS_PER_MS
    add s1, s1, a0
    li t6, MTIMER
    sd s1, 0(t6)
    DEV_RESET
    csrsi mstatus, MSTATUS_MIE
    DEV_WAIT 1
    csrci mstatus, MSTATUS_MIE
    DEV_LOG a0, 0
    CHECK a0, CAUSE_IRQ | IRQ_MTI
    csrr a0, mcause
    CHECK a0, CAUSE_IRQ | IRQ_MTI
    R64 a0, MTIME
    sltu a0, a0, s1
    CHECK a0, 0
    MIP_BIT a0, IRQ_MTI             /* the handler moved mtimecmp away */
    CHECK a0, 0
    TESTCASE 19                     /* from S: taken in M whatever mstatus.MIE says */
    DEV_RESET
    W64 MTIMER, 0
    GOTO_S
4:  nop                             /* (taken here or on the way back to M) */
    GOTO_M
5:  DEV_WAIT 1
    DEV_LOG a0, 0
    CHECK a0, CAUSE_IRQ | IRQ_MTI
    DEV_LOAD a0, dev_epc            /* interrupted in S */
    la a1, 4b
    bltu a0, a1, 6f
    la a1, 5b
    bltu a0, a1, 7f
6:  FAIL
7:
    csrw mie, zero
    TESTCASE 20                     /* mtime is writable; the time CSR follows */
    li s1, 1 << 40
    li t6, MTIME
    sd s1, 0(t6)
    rdtime a0
    sltu a1, a0, s1
    CHECK a1, 0
    sub a0, a0, s1                  /* ... from there (1 s of slack for a busy host) */
    li a1, 1000 * TICKS_PER_MS
    sltu a0, a0, a1
    CHECK a0, 1
    addi a0, s1, -1                 /* mtimecmp just below: MTIP */
    li t6, MTIMER
    sd a0, 0(t6)
    MIP_BIT a0, IRQ_MTI
    CHECK a0, 1
    li a0, 1 << 41
    li t6, MTIMER
    sd a0, 0(t6)
    MIP_BIT a0, IRQ_MTI
    CHECK a0, 0
    W64 MTIMER, -1

    /* ================================================================ MEI (UART -> PLIC) */
    TESTCASE 21                     /* UART quiet: IIR = 1, nothing pending, no MEIP */
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_NONE
    R8 a0, UART + UART_LSR          /* transmitter empty */
    andi a0, a0, LSR_THRE | LSR_TEMT
    CHECK a0, LSR_THRE | LSR_TEMT
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 0
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    W32 PLIC_ENABLE(0), 1 << UART_IRQ
    R32 a0, PLIC_ENABLE(0)
    CHECK a0, 1 << UART_IRQ
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    TESTCASE 22                     /* IER.ETBEI with THR empty: THRE interrupt */
    W8 UART + UART_IER, IER_ETBEI
    R8 a0, UART + UART_IER
    CHECK a0, IER_ETBEI
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 1
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    TESTCASE 23                     /* MEIP is read-only in mip */
    li a0, MIP_MEIP
    csrc mip, a0
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    TESTCASE 24                     /* claim: 10, and the pending bit and MEIP go */
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, UART_IRQ
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 0
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    TESTCASE 25                     /* IIR says THRE (no FIFOs: bits 7:6 = 0); reading it */
    R8 a0, UART + UART_IIR          /* acknowledges the interrupt */
    CHECK a0, IIR_THRI
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_NONE
    TESTCASE 26                     /* completion with the line low: nothing new */
    W32 PLIC_CLAIM(0), UART_IRQ
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 0
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    li a0, MIP_MEIP
    csrs mip, a0
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    R32 a0, PLIC_CLAIM(0)           /* nothing to claim */
    CHECK a0, 0
    TESTCASE 27                     /* taken in M: mcause 11, the handler claims 10 */
    W8 UART + UART_IER, 0
    li a0, MIP_MEIP
    csrw mie, a0
    DEV_RESET
    csrsi mstatus, MSTATUS_MIE
    W8 UART + UART_IER, IER_ETBEI
    DEV_WAIT 1
    csrci mstatus, MSTATUS_MIE
    DEV_LOG a0, 0
    CHECK a0, CAUSE_IRQ | IRQ_MEI
    csrr a0, mcause
    CHECK a0, CAUSE_IRQ | IRQ_MEI
    DEV_LOAD a0, dev_claimed
    CHECK a0, UART_IRQ
    DEV_LOAD a0, dev_iir
    CHECK a0, IIR_THRI
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 0
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_NONE
    csrw mie, zero
    TESTCASE 28                     /* the line drops (IER = 0) after the request was */
    W8 UART + UART_IER, 0           /* accepted: the request stays (no retraction) */
    W8 UART + UART_IER, IER_ETBEI
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    W8 UART + UART_IER, 0
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_NONE
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 1
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, UART_IRQ
    W32 PLIC_CLAIM(0), UART_IRQ
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 0
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    TESTCASE 29                     /* completion while the line is still high: new request */
    W8 UART + UART_IER, IER_ETBEI
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, UART_IRQ
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    W32 PLIC_CLAIM(0), UART_IRQ
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 1
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_THRI
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, UART_IRQ
    W32 PLIC_CLAIM(0), UART_IRQ
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 0
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    W8 UART + UART_IER, 0
    TESTCASE 30                     /* completion of a source not enabled is ignored */
    W8 UART + UART_IER, IER_ETBEI
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, UART_IRQ
    W32 PLIC_ENABLE(0), 0
    W32 PLIC_CLAIM(0), UART_IRQ     /* ignored: the gateway still waits */
    W32 PLIC_ENABLE(0), 1 << UART_IRQ
    PENDING_BIT a0, UART_IRQ        /* line high, but no new request */
    CHECK a0, 0
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    W32 PLIC_CLAIM(0), UART_IRQ     /* now it counts: the high line is forwarded again */
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 1
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_THRI
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, UART_IRQ
    W32 PLIC_CLAIM(0), UART_IRQ
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    W8 UART + UART_IER, 0
    TESTCASE 31                     /* RX data interrupt in loopback (nothing is printed) */
    W8 UART + UART_MCR, MCR_LOOP
    W8 UART + UART_IER, IER_ERBFI
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    W8 UART + UART_THR, 'x'
    R8 a0, UART + UART_LSR
    andi a0, a0, LSR_DR
    CHECK a0, LSR_DR
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    R8 a0, UART + UART_IIR          /* received data available (trigger level 1) */
    CHECK a0, IIR_RDI
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, UART_IRQ
    R8 a0, UART + UART_RBR          /* reading the data clears the interrupt */
    CHECK a0, 'x'
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_NONE
    R8 a0, UART + UART_LSR
    andi a0, a0, LSR_DR
    CHECK a0, 0
    W32 PLIC_CLAIM(0), UART_IRQ
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    W8 UART + UART_IER, 0
    W8 UART + UART_MCR, 0

    /* ================================================================ SSWI */
    TESTCASE 40                     /* setssip[0] = 1 -> mip.SSIP */
    csrci mip, MIP_SSIP
    W32 SSWI, 1
    MIP_BIT a0, IRQ_SSI
    CHECK a0, 1
    TESTCASE 41                     /* reads 0; writing 0 has no effect */
    R32 a0, SSWI
    CHECK a0, 0
    W32 SSWI, 0
    MIP_BIT a0, IRQ_SSI
    CHECK a0, 1
    TESTCASE 42                     /* an edge: cleared in mip, it stays clear */
    csrci mip, MIP_SSIP
    MIP_BIT a0, IRQ_SSI
    CHECK a0, 0
    nop
    MIP_BIT a0, IRQ_SSI
    CHECK a0, 0
    TESTCASE 43                     /* taken in M with mcause 1 */
    li a0, MIP_SSIP
    csrw mie, a0
    DEV_RESET
    csrsi mstatus, MSTATUS_MIE
    W32 SSWI, 1
    DEV_WAIT 1
    csrci mstatus, MSTATUS_MIE
    DEV_LOG a0, 0
    CHECK a0, CAUSE_IRQ | IRQ_SSI
    MIP_BIT a0, IRQ_SSI
    CHECK a0, 0
    TESTCASE 44                     /* delegated: taken in S, S clears it in sip */
    li a0, MIP_SSIP
    csrw mideleg, a0
    csrw mie, a0
    GOTO_S
    csrsi sstatus, MSTATUS_SIE
    EXPECT_IRQ 1, IRQ_SSI
    W32 SSWI, 1                     /* from S (satp = 0: physical address) */
    WAIT_TRAPPED
    csrci sstatus, MSTATUS_SIE
    csrr a0, scause
    CHECK a0, CAUSE_IRQ | IRQ_SSI
    csrr a0, sip
    CHECK a0, MIP_SSIP
    csrci sip, MIP_SSIP
    csrr a0, sip
    CHECK a0, 0
    GOTO_M
    csrw mideleg, zero
    csrw mie, zero

    /* ================================================================ priority */
    TESTCASE 50                     /* all six pending at once */
    W8 UART + UART_IER, IER_ETBEI   /* MEI */
    W32 MSWI, 1                     /* MSI */
    W64 MTIMER, 0                   /* MTI */
    li a0, MIP_SEIP                 /* SEI (software-written) */
    csrs mip, a0
    W32 SSWI, 1                     /* SSI */
    li a0, ENVCFG_STCE              /* STI (Sstc) */
    csrw CSR_MENVCFG, a0
    csrwi CSR_STIMECMP, 0
    csrr a0, mip
    li a1, MIP_ALL6
    and a0, a0, a1
    CHECK a0, MIP_ALL6
    csrw mie, a1
    DEV_RESET
    csrsi mstatus, MSTATUS_MIE
    nop
    DEV_WAIT 6
    csrci mstatus, MSTATUS_MIE
    DEV_LOG a0, 0
    CHECK a0, CAUSE_IRQ | IRQ_MEI
    DEV_LOG a0, 1
    CHECK a0, CAUSE_IRQ | IRQ_MSI
    DEV_LOG a0, 2
    CHECK a0, CAUSE_IRQ | IRQ_MTI
    DEV_LOG a0, 3
    CHECK a0, CAUSE_IRQ | IRQ_SEI
    DEV_LOG a0, 4
    CHECK a0, CAUSE_IRQ | IRQ_SSI
    DEV_LOG a0, 5
    CHECK a0, CAUSE_IRQ | IRQ_STI
    DEV_LOAD a0, dev_claimed
    CHECK a0, UART_IRQ
    csrr a0, mip                    /* every source was silenced */
    li a1, MIP_ALL6
    and a0, a0, a1
    CHECK a0, 0
    csrw mie, zero
    csrw CSR_MENVCFG, zero
    W8 UART + UART_IER, 0
    PASS
