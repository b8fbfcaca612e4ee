/* Seed for fuzz_hart: M-mode code mixing FP, compressed instructions, CSRs, cache-block ops,
 * I/O (the device page at 0x10000000 and the I/O page at the end of RAM), access faults,
 * MPRV with a page table of zeros, software, timer and external interrupts (through fuzz_hart's
 * device registers), WFI and ecall. Linked at 0x80000000. */
    .section .text.init, "ax"
    .globl _start
_start:
    .option norvc
    la t0, mtrap
    csrw mtvec, t0
    li t0, 1 << 13             /* FS = initial */
    csrs mstatus, t0
    csrwi fcsr, 0
    la s0, buf
    li a0, 0x3ff0000000000000
    fmv.d.x f0, a0
    fadd.d f1, f0, f0
    fsqrt.d f2, f1
    fcvt.w.d a1, f2, rtz
    fmadd.s f3, f0, f1, f2
    fdiv.d f4, f0, f5
    fsd f4, 0(s0)
    flw f5, 0(s0)
    fclass.d a2, f4
    fcvt.s.d f6, f4, rmm
    fsrmi 3
    fmul.d f7, f4, f1
    .option rvc
    c.li a0, 5
    c.addi a0, -3
    c.slli a0, 7
    c.mv a1, a0
    c.add a1, a0
    c.sd a1, 8(s0)
    c.ld a2, 8(s0)
    c.beqz a2, 1f
    c.nop
1:  .option norvc
    csrw mscratch, a0
    csrr a1, mcycle
    csrr a2, minstret
    csrr a3, time
    csrw minstret, zero
    li t0, (1 << 7) | (3 << 4) /* menvcfg: CBZE, CBCFE, CBIE */
    csrs menvcfg, t0
    cbo.zero (s0)
    cbo.flush (s0)
    li s1, 0x10000000          /* device page */
    sd a0, 0(s1)
    lw a1, 4(s1)
    lh a2, 1(s1)               /* misaligned I/O */
    amoadd.w a3, a0, (s1)      /* AMO on I/O: access fault */
    li s2, 0x8003f000          /* I/O page inside RAM */
    sd a0, 8(s2)
    ld a1, 8(s2)
    lw a2, 2(s2)
    lr.d a3, (s2)
    li s3, 0x1000              /* nothing there: access fault */
    ld a4, 0(s3)
    jalr ra, 0(s3)             /* instruction access fault */
    /* MPRV with MPP = S and satp pointing at a zero page table: data accesses page-fault */
    la t0, pt_zero
    srli t0, t0, 12
    li t1, 8 << 60
    or t0, t0, t1
    csrw satp, t0
    li t0, (1 << 17) | (1 << 11)
    csrs mstatus, t0
    ld a5, 0(s0)
    sd a5, 0(s0)
    li t0, 1 << 17
    csrc mstatus, t0
    /* interrupts: SSIP in mip; a timer at time 100 (fuzz_hart: mtimecmp at device +0xff0);
     * MEIP raised through the device's interrupt-line register at +0xff8 */
    li t0, (1 << 1) | (1 << 7) | (1 << 11)
    csrs mie, t0
    li t0, 1 << 1
    csrs mip, t0
    li s4, 0x10000ff0
    li t0, 100
    sd t0, 0(s4)
    li t0, 1 << 11
    sd t0, 8(s4)
    csrsi mstatus, 1 << 3
    nop
    wfi
    fence.i
    ecall
    ebreak
    .word 0
    j _start

mtrap:
    csrr t0, mcause
    bltz t0, 3f
    csrr t0, mepc              /* exception: skip a 4-byte instruction */
    addi t0, t0, 4
    csrw mepc, t0
    mret
3:  li t0, 0x10000ff0          /* interrupt: lower the lines, stop the timer, clear SSIP */
    sd zero, 8(t0)
    li t1, -1
    sd t1, 0(t0)
    li t0, 1 << 1
    csrc mip, t0
    mret

    .data
    .balign 4096
pt_zero: .zero 4096
buf:     .zero 128
