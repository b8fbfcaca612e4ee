/* Runtime of the bare-metal ISA tests: start-up, M- and S-mode trap handlers with expectations,
 * HTIF console output and exit, and a small page-table builder. See env.h for the conventions. */
#include "env.h"

/* ================================================================ start-up */
    .section .text.init, "ax"
    .globl _start
_start:
    la sp, rt_stack_top
    /* PMP: allow everything to S/U where PMP is implemented (rvisor grants all accesses anyway,
     * but other simulators deny S/U accesses without a matching entry). A CSR that does not
     * exist traps to rt_skip, which steps over it. */
    la t0, rt_skip
    csrw mtvec, t0
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f             /* NAPOT, R, W, X */
    csrw pmpcfg0, t0

    la t0, rt_mtrap
    csrw mtvec, t0
    la t0, rt_strap
    csrw stvec, t0
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    csrwi fcsr, 0
    li gp, 0
    j main

    .balign 4
rt_skip:
    csrr t1, mepc
    addi t1, t1, 4
    csrw mepc, t1
    mret

/* ================================================================ trap handlers */
    .text

/* Saves x1..x31 in \frame (t6 goes through xscratch), then s11 = frame, s0 = cause, s1 = epc,
 * s2 = tval, s3 = status, s4 = rt_state. */
.macro TRAP_ENTRY p, frame
    csrrw t6, \p\()scratch, t6
    la t6, \frame
    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    sd x\r, (\r * 8)(t6)
    .endr
    csrr t5, \p\()scratch
    sd t5, (31 * 8)(t6)
    mv s11, t6
    csrr s0, \p\()cause
    csrr s1, \p\()epc
    csrr s2, \p\()tval
    csrr s3, \p\()status
    la s4, rt_state
.endm

/* Restores all registers from the frame in s11 (except \keep when given). */
.macro RESTORE_REGS
    mv t6, s11
    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    ld x\r, (\r * 8)(t6)
    .endr
    ld t6, (31 * 8)(t6)
.endm

#define FRAME_A0 (10 * 8)
#define FRAME_A1 (11 * 8)
#define FRAME_A7 (17 * 8)
#define FRAME_GP (3 * 8)

/* The checks common to both handlers: expectation, or automatic interrupt acceptance.
 * Jumps to \fail with a0 = reason, or to \ret when the trap has been handled. */
.macro TRAP_CHECK p, mode, fail, ret
    ld t0, RT_EXP_VALID(s4)
    beqz t0, .Lauto\@
    ld t1, RT_EXP_MODE(s4)
    li a0, RT_WHY_WRONG_MODE
    li t2, \mode
    bne t1, t2, \fail
    ld t1, RT_EXP_CAUSE(s4)
    li a0, RT_WHY_BAD_CAUSE
    bne s0, t1, \fail
    ld t3, RT_EXP_FLAGS(s4)
    andi t4, t3, EXPF_TVAL
    beqz t4, 1f
    ld t1, RT_EXP_TVAL(s4)
    li a0, RT_WHY_BAD_TVAL
    bne s2, t1, \fail
1:  andi t4, t3, EXPF_EPC
    beqz t4, 2f
    ld t1, RT_EXP_EPC(s4)
    li a0, RT_WHY_BAD_EPC
    bne s1, t1, \fail
2:  sd zero, RT_EXP_VALID(s4)
    ld t1, RT_EXP_RESUME(s4)
    beqz t1, .Lrecord\@
    csrw \p\()epc, t1
    j .Lrecord\@
.Lauto\@:
    li a0, RT_WHY_UNEXPECTED
    bgez s0, \fail
    ld t0, RT_IRQ_AUTO(s4)
    beqz t0, \fail
.Lrecord\@:
    sd s0, RT_LAST_CAUSE(s4)
    sd s1, RT_LAST_EPC(s4)
    sd s2, RT_LAST_TVAL(s4)
    sd s3, RT_LAST_STATUS(s4)
    li t0, \mode
    sd t0, RT_LAST_MODE(s4)
    ld t0, RT_COUNT(s4)
    li t1, RT_LOG_N
    bgeu t0, t1, 3f
    slli t1, t0, 3
    add t1, t1, s4
    sd s0, RT_LOG(t1)
3:  addi t0, t0, 1
    sd t0, RT_COUNT(s4)
    /* an interrupt is masked in xie so that it is not taken again at once */
    bgez s0, \ret
    andi t0, s0, 63
    li t1, 1
    sll t1, t1, t0
    csrc \p\()ie, t1
    j \ret
.endm

/* ---------------------------------------------------------------- M-mode handler */
    .balign 256
    .globl rt_mtrap
rt_mtrap:
    TRAP_ENTRY m, rt_mframe
    /* runtime system calls: ecall from U (8), S (9) or M (11) with a magic a7 */
    bltz s0, .Lm_check
    li t0, CAUSE_ECALL_U
    beq s0, t0, .Lm_ecall
    li t0, CAUSE_ECALL_S
    beq s0, t0, .Lm_ecall
    li t0, CAUSE_ECALL_M
    bne s0, t0, .Lm_check
.Lm_ecall:
    ld t0, FRAME_A7(s11)
    ld a0, FRAME_A0(s11)
    ld a1, FRAME_A1(s11)
    li t1, SYS_EXIT
    beq t0, t1, rt_exit
    li t1, SYS_FAIL
    beq t0, t1, .Lm_sys_fail
    li t1, SYS_FAILTRAP
    beq t0, t1, .Lm_sys_failtrap
    li t1, SYS_TO_M
    beq t0, t1, .Lm_sys_to_m
.Lm_check:
    TRAP_CHECK m, 3, .Lm_fail, .Lm_ret
.Lm_ret:
    RESTORE_REGS
    mret

.Lm_sys_to_m:
    bnez a0, 1f
    addi a0, s1, 4
1:  csrw mepc, a0
    li t0, MSTATUS_MPP_M
    csrs mstatus, t0
    li t0, MSTATUS_MPIE     /* GOTO_M arrives with MIE = 0 */
    csrc mstatus, t0
    sd zero, FRAME_A0(s11)  /* GOTO_M leaves a0 = a7 = 0 */
    sd zero, FRAME_A7(s11)
    j .Lm_ret

.Lm_sys_fail:
    mv s5, a0
    mv s6, a1
    call rt_print_test
    la a0, rt_msg_got
    call rt_puts
    mv a0, s5
    call rt_puthex
    la a0, rt_msg_exp
    call rt_puts
    mv a0, s6
    call rt_puthex
    j rt_fail_exit

.Lm_sys_failtrap:
    /* from the S handler: a0 cause, a1 epc, a2 tval, a3 reason */
    mv s0, a0
    mv s1, a1
    ld s2, (12 * 8)(s11)
    ld a0, (13 * 8)(s11)
    li s7, 1
    j .Lfail_report

.Lm_fail:
    li s7, 3
.Lfail_report:
    /* a0 = reason, s0/s1/s2 = cause/epc/tval, s7 = handler mode */
    mv s6, a0
    call rt_print_test
    la a0, rt_msg_why
    slli t0, s6, 3
    add a0, a0, t0
    ld a0, 0(a0)
    call rt_puts
    la a0, rt_msg_in_m
    li t0, 3
    beq s7, t0, 1f
    la a0, rt_msg_in_s
1:  call rt_puts
    la a0, rt_msg_cause
    call rt_puts
    mv a0, s0
    call rt_puthex
    la a0, rt_msg_epc
    call rt_puts
    mv a0, s1
    call rt_puthex
    la a0, rt_msg_tval
    call rt_puts
    mv a0, s2
    call rt_puthex
    la a0, rt_msg_expected
    call rt_puts
    ld a0, RT_EXP_CAUSE(s4)
    call rt_puthex
    la a0, rt_msg_tval
    call rt_puts
    ld a0, RT_EXP_TVAL(s4)
    call rt_puthex
    la a0, rt_msg_epc
    call rt_puts
    ld a0, RT_EXP_EPC(s4)
    call rt_puthex
    ld t0, RT_EXP_VALID(s4)
    bnez t0, 2f
    la a0, rt_msg_none
    call rt_puts
2:  j rt_fail_exit

/* ---------------------------------------------------------------- S-mode handler */
    .balign 256
    .globl rt_strap
rt_strap:
    TRAP_ENTRY s, rt_sframe
    bltz s0, .Ls_check
    li t0, CAUSE_ECALL_U
    beq s0, t0, .Ls_ecall
    li t0, CAUSE_ECALL_S
    bne s0, t0, .Ls_check
.Ls_ecall:
    ld t0, FRAME_A7(s11)
    li t1, SYS_EXIT
    beq t0, t1, .Ls_forward
    li t1, SYS_FAIL
    beq t0, t1, .Ls_forward
    li t1, SYS_FAILTRAP
    beq t0, t1, .Ls_forward
    li t1, SYS_TO_M
    beq t0, t1, .Ls_to_m
.Ls_check:
    TRAP_CHECK s, 1, .Ls_fail, .Ls_ret
.Ls_ret:
    RESTORE_REGS
    sret

.Ls_to_m:
    /* continue in M after the U-mode ecall: pass the address on, with the U registers */
    ld a0, FRAME_A0(s11)
    bnez a0, 1f
    addi a0, s1, 4
1:  sd a0, FRAME_A0(s11)
.Ls_forward:
    RESTORE_REGS
    ecall                    /* to the M handler, which does not return here */
1:  j 1b

.Ls_fail:
    mv a3, a0
    mv a0, s0
    mv a1, s1
    mv a2, s2
    ld gp, FRAME_GP(s11)
    li a7, SYS_FAILTRAP
    ecall
1:  j 1b

/* ================================================================ failure, exit, console */

    .globl rt_fail
rt_fail:
    /* a0 = got, a1 = expected, gp = test number; works from any mode */
    li a7, SYS_FAIL
    ecall
1:  j 1b

/* M-mode only from here on. */

/* exit status = gp clamped to 1..255 */
rt_fail_exit:
    la a0, rt_msg_nl
    call rt_puts
    mv a0, gp
    addi t0, a0, -1
    li t1, 254
    bleu t0, t1, rt_exit
    li a0, 255
    .globl rt_exit
rt_exit:
    slli a0, a0, 1
    ori a0, a0, 1
    la t0, tohost
    sd a0, 0(t0)
1:  j 1b

/* prints "FAIL test <gp>: " */
rt_print_test:
    mv s8, ra
    la a0, rt_msg_fail
    call rt_puts
    mv a0, gp
    call rt_putdec
    la a0, rt_msg_colon
    call rt_puts
    mv ra, s8
    ret

/* a0 = character; clobbers t0, t1 */
    .globl rt_putc
rt_putc:
    li t0, 0x0101
    slli t0, t0, 48
    andi t1, a0, 0xff
    or t0, t0, t1
    la t1, tohost
    sd t0, 0(t1)
    la t1, fromhost
1:  ld t0, 0(t1)
    beqz t0, 1b
    sd zero, 0(t1)
    ret

/* a0 = NUL-terminated string; clobbers a0, t0-t3 */
    .globl rt_puts
rt_puts:
    mv t3, ra
    mv t2, a0
1:  lbu a0, 0(t2)
    beqz a0, 2f
    call rt_putc
    addi t2, t2, 1
    j 1b
2:  mv ra, t3
    ret

/* a0 = value, printed as 0x + 16 hex digits; clobbers a0, t0-t4 */
    .globl rt_puthex
rt_puthex:
    mv t3, ra
    mv t4, a0
    li a0, '0'
    call rt_putc
    li a0, 'x'
    call rt_putc
    li t2, 60
1:  srl a0, t4, t2
    andi a0, a0, 15
    addi a0, a0, '0'
    li t0, '9'
    ble a0, t0, 2f
    addi a0, a0, 'a' - '0' - 10
2:  call rt_putc
    addi t2, t2, -4
    bgez t2, 1b
    mv ra, t3
    ret

/* a0 = unsigned value, in decimal; clobbers a0, t0-t5, s9 */
    .globl rt_putdec
rt_putdec:
    mv s9, ra
    la t4, rt_decbuf + 24
    sb zero, 0(t4)
    li t5, 10
1:  remu t0, a0, t5
    divu a0, a0, t5
    addi t0, t0, '0'
    addi t4, t4, -1
    sb t0, 0(t4)
    bnez a0, 1b
    mv a0, t4
    call rt_puts
    mv ra, s9
    ret

/* ================================================================ page tables (M-mode) */

/* a0 = number of levels (3, 4, 5): clears the root table and the table pool. */
    .globl rt_vm_init
rt_vm_init:
    la t0, rt_vm_levels
    sd a0, 0(t0)
    la t0, rt_pt_root
    la t1, rt_pt_pool_end
1:  sd zero, 0(t0)
    addi t0, t0, 8
    bltu t0, t1, 1b
    la t0, rt_pt_pool
    la t1, rt_pt_next
    sd t0, 0(t1)
    ret

/* Returns in a0 the satp value for the current tables (ASID 0). */
    .globl rt_vm_satp
rt_vm_satp:
    la t0, rt_vm_levels
    ld t0, 0(t0)
    addi t0, t0, 5          /* 3 -> Sv39 (8), 4 -> Sv48 (9), 5 -> Sv57 (10) */
    slli t0, t0, 60
    la a0, rt_pt_root
    srli a0, a0, 12
    or a0, a0, t0
    ret

/* Maps a0 = va to a1 = pa with a leaf at level a2 (0: 4 KiB, 1: 2 MiB, 2: 1 GiB, ...),
 * PTE flags a3 (low 10 bits, V included by the caller; extra high bits allowed in a3 too).
 * Intermediate tables come from the pool. Returns a0 = address of the leaf PTE. The pa is
 * written as given, so a misaligned superpage can be built on purpose. */
    .globl rt_vm_map
rt_vm_map:
    la t0, rt_pt_root
    la t1, rt_vm_levels
    ld t1, 0(t1)
    addi t1, t1, -1         /* current level */
1:  slli t2, t1, 3
    add t2, t2, t1          /* 9 * level */
    addi t2, t2, 12
    srl t3, a0, t2
    andi t3, t3, 511
    slli t3, t3, 3
    add t3, t3, t0          /* PTE address at this level */
    beq t1, a2, 3f
    ld t4, 0(t3)
    andi t5, t4, PTE_V
    bnez t5, 2f
    /* allocate a zeroed table */
    la t5, rt_pt_next
    ld t4, 0(t5)
    addi t6, t4, 1024
    addi t6, t6, 1024
    addi t6, t6, 1024
    addi t6, t6, 1024
    sd t6, 0(t5)
    mv t5, t4
4:  sd zero, 0(t5)
    addi t5, t5, 8
    bltu t5, t6, 4b
    srli t4, t4, 12
    slli t4, t4, 10
    ori t4, t4, PTE_V
    sd t4, 0(t3)
2:  srli t4, t4, 10
    slli t0, t4, 12         /* next table */
    addi t1, t1, -1
    j 1b
3:  srli t4, a1, 12
    slli t4, t4, 10
    or t4, t4, a3
    sd t4, 0(t3)
    mv a0, t3
    ret

/* ================================================================ data */

    .section .rodata
rt_msg_fail:     .asciz "FAIL test "
rt_msg_colon:    .asciz ": "
rt_msg_got:      .asciz "got "
rt_msg_exp:      .asciz " expected "
rt_msg_nl:       .asciz "\n"
rt_msg_in_m:     .asciz " (M handler)"
rt_msg_in_s:     .asciz " (S handler)"
rt_msg_cause:    .asciz " cause="
rt_msg_epc:      .asciz " epc="
rt_msg_tval:     .asciz " tval="
rt_msg_expected: .asciz "; armed: cause="
rt_msg_none:     .asciz " (not armed)"
rt_why0:         .asciz "?"
rt_why1:         .asciz "unexpected trap"
rt_why2:         .asciz "trap taken in the wrong mode"
rt_why3:         .asciz "wrong cause"
rt_why4:         .asciz "wrong tval"
rt_why5:         .asciz "wrong epc"
    .balign 8
rt_msg_why:      .dword rt_why0, rt_why1, rt_why2, rt_why3, rt_why4, rt_why5

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
    .type tohost, @object
    .size tohost, 8
tohost:   .dword 0
    .balign 64
    .globl fromhost
    .type fromhost, @object
    .size fromhost, 8
fromhost: .dword 0
    .balign 64

    .data
    .balign 64
    .globl rt_state
rt_state: .space RT_SIZE
rt_decbuf: .space 32

    .bss
    .balign 64
rt_mframe: .space 32 * 8
rt_sframe: .space 32 * 8
    .globl rt_vm_levels
rt_vm_levels: .space 8
rt_pt_next:   .space 8
    .balign 16
rt_stack:  .space 4096
    .globl rt_stack_top
rt_stack_top:
    .balign 4096
    .globl rt_pt_root
rt_pt_root: .space 4096
rt_pt_pool: .space 4096 * 32
rt_pt_pool_end:
