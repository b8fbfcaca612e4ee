/* Seed for fuzz_hart (and, as an ELF, fuzz_elf): M-mode builds Sv39 page tables in RAM, enters
 * S-mode, touches RAM, the device page and unmapped pages (faults delegated to S), drops to
 * U-mode through an alias mapping, and comes back with ecalls. Linked at 0x80000000. */
    .option norvc
    .section .text.init, "ax"
    .globl _start
_start:
    la t0, mtrap
    csrw mtvec, t0
    /* root[2]: gigapage VA 0x80000000 -> PA 0x80000000, RWX, A, D (S-only) */
    la t0, pt_root
    li t1, (0x80000 << 10) | 0xcf
    sd t1, 16(t0)
    /* root[1]: gigapage VA 0x40000000 -> PA 0x80000000, RWX, U, A, D */
    li t1, (0x80000 << 10) | 0xdf
    sd t1, 8(t0)
    /* root[0] -> pt_l1; pt_l1[128]: megapage VA 0x10000000 -> the device, RW, A, D */
    la t2, pt_l1
    srli t3, t2, 12
    slli t3, t3, 10
    ori t3, t3, 1
    sd t3, 0(t0)
    li t1, (0x10000 << 10) | 0xc7
    sd t1, 1024(t2)
    /* satp = Sv39, ASID 5, root */
    srli t0, t0, 12
    li t1, (8 << 60) | (5 << 44)
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    /* misaligned, access and page faults and U ecalls go to S */
    li t0, (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
    csrw medeleg, t0
    la t0, strap
    csrw stvec, t0
    li t0, 3 << 11
    csrc mstatus, t0
    li t0, (1 << 11) | (1 << 13)   /* MPP = S, FS = initial */
    csrs mstatus, t0
    la t0, s_entry
    csrw mepc, t0
    mret

s_entry:
    la s0, buf
    ld a0, 0(s0)
    sd a0, 8(s0)
    amoadd.d a1, a0, (s0)
    lr.d a2, (s0)
    sc.d a3, a2, (s0)
    fld fa0, 16(s0)
    fadd.d fa1, fa0, fa0
    fsd fa1, 24(s0)
    li s1, 0x10000000          /* device through the megapage */
    sw a0, 0(s1)
    lw a1, 4(s1)
    ld a2, 3(s0)               /* misaligned RAM load */
    sd a2, 5(s1)               /* misaligned device store */
    li s2, 0xc0000000          /* unmapped: page fault */
    ld a3, 0(s2)
    li s3, 0x40000000          /* U page from S without SUM: page fault */
    ld a4, 0(s3)
    li t0, 1 << 18             /* SUM */
    csrs sstatus, t0
    ld a4, 0(s3)
    sfence.vma s3, zero
    /* to U-mode at the alias of u_entry */
    la t0, u_entry
    li t1, 0x80000000 - 0x40000000
    sub t0, t0, t1
    csrw sepc, t0
    li t0, 1 << 8
    csrc sstatus, t0
    sret

u_entry:
    li s3, 0x40000000
    ld a0, 0(s3)
    sd a0, 64(s3)
    li s2, 0x80000000          /* S-only page from U: page fault */
    ld a1, 0(s2)
    csrr a2, sstatus           /* illegal from U (to M: not delegated) */
    ecall

strap:
    csrr t0, scause
    li t1, 8
    beq t0, t1, 1f
    csrr t0, sepc
    addi t0, t0, 4
    csrw sepc, t0
    sret
1:  ecall                      /* from S: to M */

mtrap:
    csrr t0, mcause
    li t1, 2
    bne t0, t1, 2f
    csrr t0, mepc              /* illegal instruction: skip it */
    addi t0, t0, 4
    csrw mepc, t0
    mret
2:  wfi
    j 2b

    .data
    .balign 4096
pt_root: .zero 4096
pt_l1:   .zero 4096
buf:     .dword 0x1122334455667788, 0x99, 0x3ff0000000000000, 0
