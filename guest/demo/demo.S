/* A bare-metal demo for `make run`: prints a greeting through HTIF, computes a checksum in
 * a loop, prints it in hex and exits with status 0. */
    .section .text.init
    .globl _start
_start:
    la      sp, stack_top
    la      a0, greeting
    call    puts
    /* sum of i*i for i = 1..100000, modulo 2^64 */
    li      t0, 100000
    li      t1, 0
1:  mul     t2, t0, t0
    add     t1, t1, t2
    addi    t0, t0, -1
    bnez    t0, 1b
    mv      s0, t1
    la      a0, result
    call    puts
    mv      a0, s0
    call    puthex
    li      a0, '\n'
    call    putc
    li      t0, 1               /* exit status 0: (0 << 1) | 1 */
    la      t1, tohost
    sd      t0, 0(t1)
2:  j       2b

/* putc(a0): HTIF console device 1, command 1; wait for the acknowledgement. */
putc:
    li      t0, 0x0101000000000000
    or      t0, t0, a0
    la      t1, tohost
    sd      t0, 0(t1)
    la      t1, fromhost
3:  ld      t2, 0(t1)
    beqz    t2, 3b
    sd      zero, 0(t1)
    ret

puts:
    addi    sp, sp, -16
    sd      ra, 0(sp)
    sd      s1, 8(sp)
    mv      s1, a0
4:  lbu     a0, 0(s1)
    beqz    a0, 5f
    call    putc
    addi    s1, s1, 1
    j       4b
5:  ld      ra, 0(sp)
    ld      s1, 8(sp)
    addi    sp, sp, 16
    ret

puthex:
    addi    sp, sp, -32
    sd      ra, 0(sp)
    sd      s1, 8(sp)
    sd      s2, 16(sp)
    mv      s1, a0
    li      s2, 60
6:  srl     a0, s1, s2
    andi    a0, a0, 15
    li      t0, 10
    blt     a0, t0, 7f
    addi    a0, a0, 'a' - 10 - '0'
7:  addi    a0, a0, '0'
    call    putc
    addi    s2, s2, -4
    bgez    s2, 6b
    ld      ra, 0(sp)
    ld      s1, 8(sp)
    ld      s2, 16(sp)
    addi    sp, sp, 32
    ret

    .section .rodata
greeting: .asciz "Hello from a bare-metal RISC-V program on rvisor!\n"
result:   .asciz "sum of squares 1..100000 = 0x"

    .section .bss
    .align 4
    .space 4096
stack_top:

    .section .tohost, "aw", @progbits
    .align 6
    .globl tohost
tohost: .dword 0
    .align 6
    .globl fromhost
fromhost: .dword 0
