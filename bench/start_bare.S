    .section .text.init
    .globl _start
_start:
    la sp, stack_top
    call bench_main
1:  j 1b
    .section .bss
    .align 4
    .space 65536
stack_top:
