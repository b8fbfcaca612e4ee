/* Shared definitions and macros for the rvisor bare-metal ISA tests.
 *
 * Every test program is one .S file that includes this header and is linked with rt.S (start-up
 * code, trap handlers, HTIF console and exit, page-table helpers) and link.ld.
 *
 * Conventions
 *   - The program starts in M-mode at `main` with mstatus.FS = Initial, fcsr = 0,
 *     mtvec = rt_mtrap, stvec = rt_strap, sp = a small stack, gp = 0.
 *   - gp (x3) holds the number of the test case being run (TESTCASE n). A failure ends the
 *     program with exit status n (clamped to 1..255) and prints a line on the HTIF console.
 *   - The macros below use t5 and t6 as scratch registers; tests keep no values in them across
 *     a macro.
 *   - PASS ends the program with status 0 from any privilege mode (ecall to the runtime).
 *
 * Expected traps: TRAP_M/TRAP_S and friends arm an "expectation" (target mode, cause, optionally
 * mtval/stval and the trapping pc), run one instruction, and check that the trap happened. The
 * handler checks the expectation, records the trap in rt_state (RT_LAST_*), and resumes at the
 * instruction after the trapping one. Any trap that was not expected fails the test with a
 * message giving cause, epc and tval.
 */
#ifndef RVISOR_ISA_ENV_H
#define RVISOR_ISA_ENV_H

/* ---------------------------------------------------------------- CSR numbers (numeric so that
 * binutils without the newer names still assembles them) */
#define CSR_STIMECMP   0x14d
#define CSR_MENVCFG    0x30a
#define CSR_SENVCFG    0x10a
#define CSR_MCONFIGPTR 0xf15

/* ---------------------------------------------------------------- mstatus fields */
#define MSTATUS_SIE   (1 << 1)
#define MSTATUS_MIE   (1 << 3)
#define MSTATUS_SPIE  (1 << 5)
#define MSTATUS_UBE   (1 << 6)
#define MSTATUS_MPIE  (1 << 7)
#define MSTATUS_SPP   (1 << 8)
#define MSTATUS_MPP   (3 << 11)
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_MPP_M (3 << 11)
#define MSTATUS_FS    (3 << 13)
#define MSTATUS_FS_INITIAL (1 << 13)
#define MSTATUS_FS_CLEAN   (2 << 13)
#define MSTATUS_FS_DIRTY   (3 << 13)
#define MSTATUS_XS    (3 << 15)
#define MSTATUS_MPRV  (1 << 17)
#define MSTATUS_SUM   (1 << 18)
#define MSTATUS_MXR   (1 << 19)
#define MSTATUS_TVM   (1 << 20)
#define MSTATUS_TW    (1 << 21)
#define MSTATUS_TSR   (1 << 22)
/* 64-bit fields: use with `li` */
#define MSTATUS_UXL   (3 << 32)
#define MSTATUS_SXL   (3 << 34)
#define MSTATUS_SD    (1 << 63)

/* ---------------------------------------------------------------- interrupts */
#define IRQ_SSI 1
#define IRQ_MSI 3
#define IRQ_STI 5
#define IRQ_MTI 7
#define IRQ_SEI 9
#define IRQ_MEI 11
#define MIP_SSIP (1 << IRQ_SSI)
#define MIP_MSIP (1 << IRQ_MSI)
#define MIP_STIP (1 << IRQ_STI)
#define MIP_MTIP (1 << IRQ_MTI)
#define MIP_SEIP (1 << IRQ_SEI)
#define MIP_MEIP (1 << IRQ_MEI)
#define CAUSE_IRQ (1 << 63)

/* ---------------------------------------------------------------- exception causes */
#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS     1
#define CAUSE_ILLEGAL          2
#define CAUSE_BREAKPOINT       3
#define CAUSE_MISALIGNED_LOAD  4
#define CAUSE_LOAD_ACCESS      5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS     7
#define CAUSE_ECALL_U          8
#define CAUSE_ECALL_S          9
#define CAUSE_ECALL_M          11
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT  13
#define CAUSE_STORE_PAGE_FAULT 15

/* ---------------------------------------------------------------- envcfg, satp, PTE */
#define ENVCFG_ADUE  (1 << 61)
#define ENVCFG_PBMTE (1 << 62)
#define ENVCFG_STCE  (1 << 63)

#define SATP_MODE_SV39 8
#define SATP_MODE_SV48 9
#define SATP_MODE_SV57 10

#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_U (1 << 4)
#define PTE_G (1 << 5)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define PTE_RWX   (PTE_R | PTE_W | PTE_X)
#define PTE_LEAF  (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)

/* ---------------------------------------------------------------- fflags */
#define FFLAG_NX 0x01
#define FFLAG_UF 0x02
#define FFLAG_OF 0x04
#define FFLAG_DZ 0x08
#define FFLAG_NV 0x10

/* rounding modes (frm / instruction rm field) */
#define RM_RNE 0
#define RM_RTZ 1
#define RM_RDN 2
#define RM_RUP 3
#define RM_RMM 4
#define RM_DYN 7

/* ---------------------------------------------------------------- runtime interface */
/* ecall "system calls" understood by the runtime's trap handlers (a7 = number). They are
 * recognised before any armed expectation, so tests of ecall itself use other a7 values. */
#define SYS_EXIT     0x5ec0001 /* a0 = exit status */
#define SYS_FAIL     0x5ec0002 /* gp = test, a0 = value got, a1 = value expected */
#define SYS_FAILTRAP 0x5ec0003 /* from the S handler: a0 cause, a1 epc, a2 tval, a3 reason */
#define SYS_TO_M     0x5ec0004 /* continue in M-mode at a0 (0: after the ecall) */

/* rt_state layout (rt.S): the expectation and what the last trap looked like. */
#define RT_EXP_VALID   0   /* nonzero while an expectation is armed */
#define RT_EXP_MODE    8   /* 3: the M handler must take it, 1: the S handler */
#define RT_EXP_CAUSE   16
#define RT_EXP_TVAL    24
#define RT_EXP_EPC     32
#define RT_EXP_RESUME  40  /* 0: return to xepc unchanged */
#define RT_EXP_FLAGS   48
#define RT_IRQ_AUTO    56  /* nonzero: accept any interrupt, log it, mask it in xie */
#define RT_COUNT       64  /* traps handled (expected or auto) */
#define RT_LAST_CAUSE  72
#define RT_LAST_TVAL   80
#define RT_LAST_EPC    88
#define RT_LAST_STATUS 96  /* mstatus/sstatus as the handler saw it on entry */
#define RT_LAST_MODE   104 /* 3 or 1: which handler took the last trap */
#define RT_LOG         112 /* RT_LOG_N causes, in the order taken */
#define RT_LOG_N       16
#define RT_SIZE        (RT_LOG + 8 * RT_LOG_N)

#define EXPF_TVAL 1 /* compare tval with RT_EXP_TVAL */
#define EXPF_EPC  2 /* compare epc with RT_EXP_EPC */

/* reasons reported by the handlers */
#define RT_WHY_UNEXPECTED 1
#define RT_WHY_WRONG_MODE 2
#define RT_WHY_BAD_CAUSE  3
#define RT_WHY_BAD_TVAL   4
#define RT_WHY_BAD_EPC    5

#ifdef __ASSEMBLER__

/* `la` must stay PC-relative (code also runs at virtual aliases of its physical address). */
    .option nopic

/* ================================================================ test bookkeeping */

#define TEST_MAIN .text; .globl main; main:

.macro TESTCASE n
    li gp, \n
.endm

/* Fails the current test unless \reg == \val (an immediate). */
.macro CHECK reg, val
    li t6, \val
    beq \reg, t6, .Lok\@
    mv a0, \reg
    mv a1, t6
    j rt_fail
.Lok\@:
.endm

/* Fails the current test unless \reg == \reg2. */
.macro CHECKR reg, reg2
    beq \reg, \reg2, .Lok\@
    mv t6, \reg2
    mv a0, \reg
    mv a1, t6
    j rt_fail
.Lok\@:
.endm

/* Loads a 64-bit field of rt_state into \reg. */
.macro RT_LOAD reg, off
    la t6, rt_state
    ld \reg, \off(t6)
.endm

.macro RT_STORE reg, off
    la t6, rt_state
    sd \reg, \off(t6)
.endm

.macro PASS
    li a0, 0
    li a7, SYS_EXIT
    ecall
.endm

.macro FAIL
    li a0, -1
    li a1, 0
    j rt_fail
.endm

/* ================================================================ privilege changes */

/* From M: continue at the next instruction in S-mode (or U-mode). mret also sets
 * mstatus.MIE = MPIE, MPIE = 1, MPRV = 0. */
.macro GOTO_S
    li t6, MSTATUS_MPP
    csrc mstatus, t6
    li t6, MSTATUS_MPP_S
    csrs mstatus, t6
    la t6, .Lnext\@
    csrw mepc, t6
    mret
.Lnext\@:
.endm

.macro GOTO_U
    li t6, MSTATUS_MPP
    csrc mstatus, t6
    la t6, .Lnext\@
    csrw mepc, t6
    mret
.Lnext\@:
.endm

/* From S: continue at the next instruction in U-mode with sret. */
.macro SGOTO_U
    li t6, MSTATUS_SPP
    csrc sstatus, t6
    la t6, .Lnext\@
    csrw sepc, t6
    sret
.Lnext\@:
.endm

/* From S or U (or M): continue at the next instruction in M-mode with mstatus.MIE = 0.
 * Sets a0 = a7 = 0. */
.macro GOTO_M
    li a0, 0
    li a7, SYS_TO_M
    ecall
.endm

/* ================================================================ expected traps */

/* Arms an expectation: the handler of mode \mode (3 or 1) must take cause \cause. \flags says
 * which of tval (in t5) and the epc (label \epc) are compared; \resume is where to continue
 * (0: at xepc). Uses t5, t6; tval must be in t5 already when EXPF_TVAL is given. */
.macro ARM mode, cause, flags, epc, resume
    la t6, rt_state
    sd t5, RT_EXP_TVAL(t6)
    li t5, \mode
    sd t5, RT_EXP_MODE(t6)
    li t5, \cause
    sd t5, RT_EXP_CAUSE(t6)
    li t5, \flags
    sd t5, RT_EXP_FLAGS(t6)
    .ifc \epc, 0
    sd zero, RT_EXP_EPC(t6)
    .else
    la t5, \epc
    sd t5, RT_EXP_EPC(t6)
    .endif
    .ifc \resume, 0
    sd zero, RT_EXP_RESUME(t6)
    .else
    la t5, \resume
    sd t5, RT_EXP_RESUME(t6)
    .endif
    li t5, 1
    sd t5, RT_EXP_VALID(t6)
.endm

/* Fails unless the armed expectation has been consumed by a trap. */
.macro CHECK_TRAPPED
    la t6, rt_state
    ld t6, RT_EXP_VALID(t6)
    beqz t6, .Lok\@
    la t6, rt_state
    sd zero, RT_EXP_VALID(t6)
    li a0, 0x7ea9    /* "trap expected but none taken" marker */
    li a1, 0
    j rt_fail
.Lok\@:
.endm

/* The instruction \insn must trap to mode \mode with cause \cause; tval is compared with
 * register \tvalreg (not t5/t6) unless \tvalreg is "any". Execution resumes after \insn. */
.macro TRAP_TO mode, cause, tvalreg, insn:vararg
    .ifc \tvalreg, any
    ARM \mode, \cause, EXPF_EPC, .Lepc\@, .Lres\@
    .else
    mv t5, \tvalreg
    ARM \mode, \cause, (EXPF_EPC | EXPF_TVAL), .Lepc\@, .Lres\@
    .endif
.Lepc\@:
    \insn
.Lres\@:
    CHECK_TRAPPED
.endm

.macro TRAP_M cause, tvalreg, insn:vararg
    TRAP_TO 3, \cause, \tvalreg, \insn
.endm

.macro TRAP_S cause, tvalreg, insn:vararg
    TRAP_TO 1, \cause, \tvalreg, \insn
.endm

/* \insn must raise an illegal-instruction exception in mode \mode with tval = its encoding
 * (16 or 32 bits, read back from memory at run time). */
.macro ILLEGAL_TO mode, insn:vararg
    la t6, .Lepc\@
    lhu t5, 0(t6)
    andi t6, t5, 3
    xori t6, t6, 3
    bnez t6, .Lshort\@
    la t6, .Lepc\@
    lwu t5, 0(t6)
.Lshort\@:
    ARM \mode, CAUSE_ILLEGAL, (EXPF_EPC | EXPF_TVAL), .Lepc\@, .Lres\@
.Lepc\@:
    \insn
.Lres\@:
    CHECK_TRAPPED
.endm

.macro ILLEGAL_M insn:vararg
    ILLEGAL_TO 3, \insn
.endm

.macro ILLEGAL_S insn:vararg
    ILLEGAL_TO 1, \insn
.endm

/* "jalr \target" must fault at the fetch: handler \mode takes \cause with epc and tval equal to
 * registers \epc and \tval (not t5/t6); execution resumes after the jalr. */
.macro JUMP_FAULT mode, cause, target, epc, tval
    la t6, rt_state
    sd \tval, RT_EXP_TVAL(t6)
    sd \epc, RT_EXP_EPC(t6)
    li t5, \mode
    sd t5, RT_EXP_MODE(t6)
    li t5, \cause
    sd t5, RT_EXP_CAUSE(t6)
    li t5, EXPF_TVAL | EXPF_EPC
    sd t5, RT_EXP_FLAGS(t6)
    la t5, .Lres\@
    sd t5, RT_EXP_RESUME(t6)
    li t5, 1
    sd t5, RT_EXP_VALID(t6)
    jalr \target
.Lres\@:
    CHECK_TRAPPED
.endm

/* Checks that \insn executes without trapping (an unexpected trap fails anyway; this macro
 * only documents intent). */
.macro NO_TRAP insn:vararg
    \insn
.endm

/* Fails unless the last trap was taken by handler \mode with cause \cause. */
.macro CHECK_LAST mode, cause
    RT_LOAD t5, RT_LAST_MODE
    CHECK t5, \mode
    RT_LOAD t5, RT_LAST_CAUSE
    CHECK t5, \cause
.endm

/* Arms an interrupt expectation (no epc/tval check, resume at xepc). The handler masks the
 * interrupt in mie/sie so that it is not taken again. */
.macro EXPECT_IRQ mode, code
    ARM \mode, (CAUSE_IRQ | \code), 0, 0, 0
.endm

/* ================================================================ integer test templates */

.macro TEST_RR n, inst, exp, v1, v2
    TESTCASE \n
    li a1, \v1
    li a2, \v2
    \inst a0, a1, a2
    CHECK a0, \exp
.endm

.macro TEST_RI n, inst, exp, v1, imm
    TESTCASE \n
    li a1, \v1
    \inst a0, a1, \imm
    CHECK a0, \exp
.endm

.macro TEST_R n, inst, exp, v1
    TESTCASE \n
    li a1, \v1
    \inst a0, a1
    CHECK a0, \exp
.endm

/* Same operation with rd == rs1 and with rd == x0. */
.macro TEST_RR_ALIAS n, inst, exp, v1, v2
    TESTCASE \n
    li a1, \v1
    li a2, \v2
    \inst a1, a1, a2
    CHECK a1, \exp
    li a1, \v1
    \inst zero, a1, a2
    CHECK zero, 0
.endm

#endif /* __ASSEMBLER__ */
#endif
