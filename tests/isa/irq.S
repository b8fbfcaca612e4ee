/* Interrupts (priv spec 3.1.6.1, 3.1.9, 10.1.3): software-set SSIP/STIP/SEIP in mip, taken
 * in M or, when delegated with mideleg, in S; global enables (xIE only matters in mode x:
 * higher-mode interrupts are always enabled in lower modes, lower-mode ones never in higher
 * modes); taken right after the CSR write that enables them (epc = next instruction);
 * priority SEI > SSI > STI, and interrupts for M before interrupts for S; vectored mtvec and
 * stvec (interrupt n enters at base + 4n). MEI/MSI/MTI from real devices: board_irq.S. */
#include "env.h"

/* clears every interrupt source and enable the test uses */
.macro IRQ_RESET
    csrci mstatus, MSTATUS_MIE | MSTATUS_SIE
    csrw mie, zero
    li t0, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrc mip, t0
    csrw mideleg, zero
    RT_STORE zero, RT_IRQ_AUTO
    RT_STORE zero, RT_COUNT
.endm

TEST_MAIN
    csrw CSR_MENVCFG, zero          /* STIP is software-writable (no Sstc) */
    IRQ_RESET

    /* ---------------- M-level software interrupt in M */
    TESTCASE 1
    li a0, MIP_SSIP
    csrs mie, a0
    csrs mip, a0                    /* pending and enabled, but MIE = 0 */
    nop
    nop
    ARM 3, (CAUSE_IRQ | IRQ_SSI), EXPF_EPC, 1f, 0
    csrsi mstatus, MSTATUS_MIE      /* taken right after this instruction */
1:  CHECK_TRAPPED
    RT_LOAD a0, RT_LAST_STATUS      /* MPIE = 1 (MIE was 1), MPP = M */
    li a1, MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP
    and a0, a0, a1
    CHECK a0, MSTATUS_MPIE | MSTATUS_MPP_M
    csrr a0, mcause
    CHECK a0, CAUSE_IRQ | IRQ_SSI
    csrr a0, mtval
    CHECK a0, 0
    IRQ_RESET
    TESTCASE 2                      /* pending but not enabled in mie: never taken */
    li a0, MIP_SSIP
    csrs mip, a0
    csrsi mstatus, MSTATUS_MIE
    nop
    nop
    IRQ_RESET

    /* ---------------- delegated to S */
    TESTCASE 10
    li a0, MIP_SSIP
    csrw mideleg, a0
    csrs mie, a0
    csrs mip, a0
    csrsi mstatus, MSTATUS_MIE      /* an S-level interrupt is never taken in M */
    nop
    nop
    csrci mstatus, MSTATUS_MIE
    GOTO_S                          /* in S with SIE = 0: not taken */
    nop
    nop
    ARM 1, (CAUSE_IRQ | IRQ_SSI), EXPF_EPC, 2f, 0
    csrsi sstatus, MSTATUS_SIE
2:  CHECK_TRAPPED
    RT_LOAD a0, RT_LAST_STATUS
    andi a0, a0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
    CHECK a0, MSTATUS_SPP | MSTATUS_SPIE
    csrr a0, scause
    CHECK a0, CAUSE_IRQ | IRQ_SSI
    csrr a0, sie                    /* the handler masked it */
    CHECK a0, 0
    csrr a0, sip
    CHECK a0, MIP_SSIP
    li a0, MIP_SSIP                 /* S clears its own software interrupt */
    csrc sip, a0
    csrr a0, sip
    CHECK a0, 0
    TESTCASE 11                     /* S raises its own software interrupt through sip */
    li a0, MIP_SSIP
    csrs sie, a0
    EXPECT_IRQ 1, IRQ_SSI
    csrs sip, a0
    CHECK_TRAPPED
    li a0, MIP_SSIP
    csrc sip, a0
    csrci sstatus, MSTATUS_SIE
    GOTO_M
    IRQ_RESET
    TESTCASE 12                     /* in U, S-level interrupts are enabled whatever SIE says */
    li a0, MIP_SSIP
    csrw mideleg, a0
    csrs mie, a0
    csrs mip, a0
    GOTO_S
    csrci sstatus, MSTATUS_SIE
    li a0, MSTATUS_SPIE
    csrc sstatus, a0                /* SIE stays 0 in U */
    EXPECT_IRQ 1, IRQ_SSI
    SGOTO_U
    CHECK_TRAPPED
    RT_LOAD a0, RT_LAST_STATUS
    andi a0, a0, MSTATUS_SPP
    CHECK a0, 0                     /* taken from U */
    GOTO_M
    IRQ_RESET
    TESTCASE 13                     /* an M-level interrupt is taken in S even with MIE = 0 */
    li a0, MIP_SSIP
    csrs mie, a0
    csrs mip, a0
    EXPECT_IRQ 3, IRQ_SSI
    GOTO_S
    CHECK_TRAPPED
    GOTO_M
    RT_LOAD a0, RT_LAST_STATUS
    li a1, MSTATUS_MPP
    and a0, a0, a1
    CHECK a0, MSTATUS_MPP_S
    IRQ_RESET

    /* ---------------- priorities */
    TESTCASE 20                     /* all three pending for M: SEI, then SSI, then STI */
    li a0, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrs mie, a0
    csrs mip, a0
    li a0, 1
    RT_STORE a0, RT_IRQ_AUTO
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    RT_LOAD a0, RT_COUNT
    CHECK a0, 3
    RT_LOAD a0, RT_LOG
    CHECK a0, CAUSE_IRQ | IRQ_SEI
    RT_LOAD a0, RT_LOG + 8
    CHECK a0, CAUSE_IRQ | IRQ_SSI
    RT_LOAD a0, RT_LOG + 16
    CHECK a0, CAUSE_IRQ | IRQ_STI
    IRQ_RESET
    TESTCASE 21                     /* the same three delegated to S */
    li a0, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrw mideleg, a0
    csrs mie, a0
    csrs mip, a0
    li a0, 1
    RT_STORE a0, RT_IRQ_AUTO
    GOTO_S
    csrsi sstatus, MSTATUS_SIE
    nop
    csrci sstatus, MSTATUS_SIE
    GOTO_M
    RT_LOAD a0, RT_COUNT
    CHECK a0, 3
    RT_LOAD a0, RT_LOG
    CHECK a0, CAUSE_IRQ | IRQ_SEI
    RT_LOAD a0, RT_LOG + 8
    CHECK a0, CAUSE_IRQ | IRQ_SSI
    RT_LOAD a0, RT_LOG + 16
    CHECK a0, CAUSE_IRQ | IRQ_STI
    RT_LOAD a0, RT_LAST_MODE
    CHECK a0, 1
    IRQ_RESET
    TESTCASE 22                     /* interrupts for M come before those for S: STI (M) */
    li a0, MIP_SSIP                 /* beats SSI (S) although SSI > STI otherwise */
    csrw mideleg, a0
    li a0, MIP_SSIP | MIP_STIP
    csrs mie, a0
    csrs mip, a0
    csrsi mstatus, MSTATUS_SIE      /* S will have SIE = 1 on entry */
    li a0, 1
    RT_STORE a0, RT_IRQ_AUTO
    GOTO_S
    nop
    csrci sstatus, MSTATUS_SIE
    GOTO_M
    RT_LOAD a0, RT_COUNT
    CHECK a0, 2
    RT_LOAD a0, RT_LOG
    CHECK a0, CAUSE_IRQ | IRQ_STI
    RT_LOAD a0, RT_LOG + 8
    CHECK a0, CAUSE_IRQ | IRQ_SSI
    IRQ_RESET

    /* ---------------- vectored mtvec / stvec */
    TESTCASE 30
    la a0, mvec
    ori a0, a0, 1
    csrw mtvec, a0
    li a0, MIP_SSIP
    csrs mie, a0
    csrs mip, a0
    EXPECT_IRQ 3, IRQ_SSI
    csrsi mstatus, MSTATUS_MIE
    CHECK_TRAPPED
    la a1, vec_hit
    ld a0, 8 * IRQ_SSI(a1)
    CHECKR a0, a1                   /* entered at base + 4 * 1 */
    li a7, 0                        /* exceptions use the base */
    TRAP_M CAUSE_ECALL_M, zero, ecall
    la a0, rt_mtrap
    csrw mtvec, a0
    IRQ_RESET
    TESTCASE 31
    la a0, svec
    ori a0, a0, 1
    csrw stvec, a0
    li a0, MIP_STIP
    csrw mideleg, a0
    csrs mie, a0
    csrs mip, a0
    EXPECT_IRQ 1, IRQ_STI
    GOTO_S
    csrsi sstatus, MSTATUS_SIE
    CHECK_TRAPPED
    csrci sstatus, MSTATUS_SIE
    GOTO_M
    la a1, vec_hit
    ld a0, 8 * IRQ_STI(a1)
    CHECKR a0, a1                   /* entered at base + 4 * 5 */
    la a0, rt_strap
    csrw stvec, a0
    IRQ_RESET
    PASS

/* Vector tables (4-byte jumps: no compression). Entry n of interest stores a nonzero marker
 * (the address of vec_hit) into vec_hit[n] using only xscratch, then enters the runtime handler
 * with all registers intact. */
    .text
    .option push
    .option norvc
    .balign 256
mvec:
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    .if \n == IRQ_SSI
    j mvec_ssi
    .else
    j rt_mtrap
    .endif
    .endr
mvec_ssi:
    csrrw t6, mscratch, t6
    la t6, vec_hit
    sd t6, 8 * IRQ_SSI(t6)
    csrrw t6, mscratch, t6
    j rt_mtrap

    .balign 256
svec:
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    .if \n == IRQ_STI
    j svec_sti
    .else
    j rt_strap
    .endif
    .endr
svec_sti:
    csrrw t6, sscratch, t6
    la t6, vec_hit
    sd t6, 8 * IRQ_STI(t6)
    csrrw t6, sscratch, t6
    j rt_strap
    .option pop

    .data
    .balign 8
vec_hit: .fill 16, 8, 0
