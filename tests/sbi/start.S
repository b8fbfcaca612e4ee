    .section .text.init
    .globl _start
_start:
    lla sp, stack_top
    call kmain
1:  j 1b
    .globl hart1_entry
hart1_entry:
    lla sp, hart1_stack + 4096
    call hart1_main
2:  j 2b
    .section .bss
    .align 4
    .space 8192
stack_top:
