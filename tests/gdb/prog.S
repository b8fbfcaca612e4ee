/* The bare-metal program the scripted gdb session debugs (tests/gdb/session.gdb): known
 * register and memory values at `bp_here`, a run of compressed and 32-bit instructions to
 * single-step over, a store to `watched` for a watchpoint, then exit status 7 through HTIF. */
    .option norvc
    .section .text.init, "ax"
    .globl _start
_start:
    la sp, stack_top
    li t0, 1 << 13              /* mstatus.FS = Initial: the FP registers are usable */
    csrs mstatus, t0

    /* buf[i] = 3 * i + 1, written at run time */
    la t0, buf
    li t1, 0
    li t2, 16
1:  slli t3, t1, 1
    add t3, t3, t1
    addi t3, t3, 1
    add t4, t0, t1
    sb t3, 0(t4)
    addi t1, t1, 1
    blt t1, t2, 1b

    li s1, 0x1122334455667788
    li s2, 0xdeadbeefcafef00d
    li a0, 100
    li a1, 200
    fmv.d.x fa0, s1

    .globl bp_here
bp_here:                        /* the session breaks here, then single-steps */
    .option rvc
    c.addi a0, 1                /* +0, 2 bytes */
    .option norvc
    addi a1, a1, 2              /* +2, 4 bytes */
    .option rvc
    c.mv a2, a0                 /* +6, 2 bytes */
    .option norvc
    lui a3, 0x12345             /* +8, 4 bytes */
    .option rvc
    c.nop                       /* +12, 2 bytes */
    .option norvc
    nop                         /* +14 */

    la t1, other
    li t2, 0x5555
    sd t2, 0(t1)                /* not watched */
    la t0, watched
    li t3, 12345
    .globl store_insn
store_insn:
    sd t3, 0(t0)                /* the watchpoint fires here */
    .globl after_store
after_store:
    ld t4, 0(t0)

    li t0, (7 << 1) | 1         /* HTIF: exit with status 7 */
    la t1, tohost
    sd t0, 0(t1)
    .globl spin
spin:
    j spin

    .section .tohost, "aw"
    .balign 8
    .globl tohost
tohost: .dword 0
    .globl fromhost
fromhost: .dword 0

    .data
    .balign 8
    .globl buf
buf: .space 16
    .globl other
other: .dword 0
    .globl watched
watched: .dword 0

    .bss
    .balign 16
    .space 4096
stack_top:
