/* Synchronous exceptions taken into M-mode: ecall from M/S/U (causes 11/9/8, mtval 0), ebreak
 * (3, mtval 0 or pc), illegal instructions (2, mtval = the instruction bits), access faults on
 * loads, stores, AMOs and fetches outside RAM (5/7/1, mtval = the faulting address, also for
 * the part of a misaligned access past the end of RAM), the mstatus trap stack (MPP, MPIE,
 * MIE), vectored mtvec for exceptions (base), and that a faulting instruction has no effect. */
#include "env.h"

#define NO_MEMORY 0x40000000        /* neither RAM nor a device in bare-metal mode */
#define RAM_END   0x88000000        /* default 128 MiB of RAM at 0x80000000 */

/* A jump to \target (register) must raise an instruction access fault at the target. */
.macro FETCH_FAULT target
    JUMP_FAULT 3, CAUSE_FETCH_ACCESS, \target, \target, \target
.endm

TEST_MAIN
    /* ---------------- ecall */
    TESTCASE 1
    li a7, 0
    csrsi mstatus, MSTATUS_MIE      /* mie = 0: no interrupt can be taken */
    TRAP_M CAUSE_ECALL_M, zero, ecall
    RT_LOAD a0, RT_LAST_STATUS      /* on entry: MPP = M, MPIE = old MIE (1), MIE = 0 */
    li a1, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
    and a0, a0, a1
    CHECK a0, MSTATUS_MPP_M | MSTATUS_MPIE
    csrr a0, mstatus                /* mret restored MIE = MPIE = 1 */
    andi a0, a0, MSTATUS_MIE
    CHECK a0, MSTATUS_MIE
    csrci mstatus, MSTATUS_MIE
    TRAP_M CAUSE_ECALL_M, zero, ecall
    RT_LOAD a0, RT_LAST_STATUS
    andi a0, a0, MSTATUS_MPIE
    CHECK a0, 0
    TESTCASE 2
    GOTO_S
    li a7, 0
    TRAP_M CAUSE_ECALL_S, zero, ecall
    GOTO_M
    RT_LOAD a0, RT_LAST_STATUS
    li a1, MSTATUS_MPP
    and a0, a0, a1
    CHECK a0, MSTATUS_MPP_S
    TESTCASE 3
    GOTO_U
    li a7, 0
    TRAP_M CAUSE_ECALL_U, zero, ecall
    GOTO_M
    RT_LOAD a0, RT_LAST_STATUS
    li a1, MSTATUS_MPP
    and a0, a0, a1
    CHECK a0, 0
    TESTCASE 4                      /* the CSRs hold the trap */
    li a7, 0
    TRAP_M CAUSE_ECALL_M, zero, ecall
    csrr a0, mcause
    CHECK a0, CAUSE_ECALL_M
    csrr a0, mtval
    CHECK a0, 0

    /* ---------------- ebreak */
    TESTCASE 10
    TRAP_M CAUSE_BREAKPOINT, any, ebreak
    RT_LOAD a0, RT_LAST_TVAL
    beqz a0, 1f
    RT_LOAD a1, RT_LAST_EPC
    CHECKR a0, a1
1:  TESTCASE 11
    GOTO_S
    TRAP_M CAUSE_BREAKPOINT, any, ebreak
    GOTO_M
    GOTO_U
    TRAP_M CAUSE_BREAKPOINT, any, ebreak
    GOTO_M

    /* ---------------- illegal instructions (mtval = instruction bits) */
    TESTCASE 20
    ILLEGAL_M .word 0xffffffff
    ILLEGAL_M .2byte 0x0000
    ILLEGAL_M .word 0x0000000b      /* custom-0 */
    ILLEGAL_M .word 0x00004073      /* SYSTEM funct3 = 4 */
    ILLEGAL_M .word 0x00007003      /* LOAD funct3 = 7 */
    ILLEGAL_M .word 0x00004023      /* STORE funct3 = 4 */
    ILLEGAL_M .word 0x0000002f      /* AMO funct3 = 0 */
    ILLEGAL_M .word 0xfe000033      /* OP funct7 = 0x7f */
    ILLEGAL_M .word 0x0000001f      /* 48-bit instruction prefix: not supported */
    TESTCASE 21                     /* privileged instructions from lower modes */
    GOTO_S
    ILLEGAL_M mret
    GOTO_M
    GOTO_U
    ILLEGAL_M mret
    ILLEGAL_M sret
    ILLEGAL_M sfence.vma
    GOTO_M
    TESTCASE 22                     /* a reserved encoding leaves rd alone */
    li a0, 5
    ILLEGAL_M .word 0x02a5053b | (1 << 27)   /* mulw a0,a0,a0 with funct7 = 0x09: reserved */
    CHECK a0, 5                     /* rd unchanged */

    /* ---------------- access faults */
    TESTCASE 30
    li a1, NO_MEMORY
    li a0, 0x77
    TRAP_M CAUSE_LOAD_ACCESS, a1, ld a0, 0(a1)
    CHECK a0, 0x77                  /* rd not written */
    TRAP_M CAUSE_LOAD_ACCESS, a1, lbu a0, 0(a1)
    TRAP_M CAUSE_STORE_ACCESS, a1, sd a0, 0(a1)
    TRAP_M CAUSE_STORE_ACCESS, a1, sb a0, 0(a1)
    TESTCASE 31
    li a1, RAM_END
    TRAP_M CAUSE_LOAD_ACCESS, a1, lw a0, 0(a1)
    TRAP_M CAUSE_STORE_ACCESS, a1, sw a0, 0(a1)
    TRAP_M CAUSE_STORE_ACCESS, a1, amoadd.w a0, a0, (a1)   /* AMOs fault as stores */
    TRAP_M CAUSE_LOAD_ACCESS, a1, lr.d a0, (a1)
    TESTCASE 32                     /* the fault is on the part of a misaligned access past RAM */
    li a1, RAM_END - 4
    li a2, RAM_END
    TRAP_M CAUSE_LOAD_ACCESS, a2, ld a0, 0(a1)
    TRAP_M CAUSE_STORE_ACCESS, a2, sd a0, 0(a1)
    TESTCASE 34                     /* fetch from a hole */
    li a1, NO_MEMORY
    FETCH_FAULT a1
    li a1, RAM_END
    FETCH_FAULT a1
    TESTCASE 35                     /* loads that hit a hole at a high address */
    li a1, 0xfffffffffffff000
    TRAP_M CAUSE_LOAD_ACCESS, a1, ld a0, 0(a1)

    /* ---------------- vectored mtvec: exceptions still go to the base */
    TESTCASE 40
    csrr s0, mtvec
    la a0, rt_mtrap
    ori a0, a0, 1
    csrw mtvec, a0
    li a7, 0
    TRAP_M CAUSE_ECALL_M, zero, ecall
    ILLEGAL_M .word 0
    csrw mtvec, s0
    PASS
