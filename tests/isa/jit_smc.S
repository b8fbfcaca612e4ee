/* Code that changes under a binary translator (src/jit), which must keep the interpreter's
 * behaviour: a store is visible to instruction fetch at once, even without FENCE.I (stronger
 * than the ISA requires, but what rvisor promises).
 *   1  a loop patching an instruction ahead of the store in its own block, every iteration
 *   2  patches by sb, sh, sw, sd, a misaligned sw across two instructions, amoswap.w, c.sw
 *   3  a 32-bit instruction crossing a page boundary, patched in either page; a block
 *      running into the next page
 *   4  a loop storing to data in its own code page (translations dropped over and over)
 *   5  one physical code page at two virtual addresses (auipc must see each), patched through
 *      a third, writable alias, then one alias remapped to another page (S-mode, Sv39)
 *   6  hart 1 patches a function hart 0 keeps calling; hart 0 sees it after FENCE.I
 * The code under test lives in .data, which is writable and executable in M- and S-mode
 * here (no PMP restrictions, identity gigapage with RWX in test 5). */
/* isa-options: --smp 2 */
#include "env.h"

#define ADDI_A0_1 0x00150513        /* addi a0, a0, 1 */
#define ADDI_A0_2 0x00250513        /* addi a0, a0, 2 */
#define VA1 0x100000000
#define VA2 0x100001000
#define VA3 0x100002000             /* writable data alias of alias_page */
#define N 1000

/* a0 = \fn(0) */
.macro CALL0 fn
    li a0, 0
    call \fn
.endm

/* maps va -> pa (a symbol) with a 4 KiB leaf */
.macro MAP4K va, pa, flags
    li a0, \va
    la a1, \pa
    li a2, 0
    li a3, \flags
    call rt_vm_map
.endm

TEST_MAIN
    bnez a0, hart1

    /* ---------------------------------------------------------------- 1 */
    TESTCASE 1
    li s2, N
    li a0, 0
    la a1, 2f
    li a3, ADDI_A0_1
    li a4, ADDI_A0_2
    .option push
    .option norvc
1:  andi t0, s2, 1
    mv a2, a3
    beqz t0, 3f
    mv a2, a4
3:  sw a2, 0(a1)
2:  addi a0, a0, 1                  /* rewritten just before it runs */
    addi s2, s2, -1
    bnez s2, 1b
    .option pop
    CHECK a0, (N / 2) * 3

    /* ---------------------------------------------------------------- 2 */
    TESTCASE 2
    CALL0 fn_sb
    CHECK a0, 2
    la a1, fn_sb
    li a2, 0x25                     /* imm[3:0] of the first addi: 1 -> 2 */
    sb a2, 2(a1)
    CALL0 fn_sb
    CHECK a0, 3

    TESTCASE 3
    CALL0 fn_sh
    CHECK a0, 2
    la a1, fn_sh
    li a2, 0x0025
    sh a2, 2(a1)
    CALL0 fn_sh
    CHECK a0, 3

    TESTCASE 4
    CALL0 fn_sw
    CHECK a0, 2
    la a1, fn_sw
    li a2, ADDI_A0_2
    sw a2, 4(a1)
    CALL0 fn_sw
    CHECK a0, 3

    TESTCASE 5
    CALL0 fn_sd
    CHECK a0, 2
    la a1, fn_sd
    li a2, (ADDI_A0_2 << 32) | ADDI_A0_2
    sd a2, 0(a1)
    CALL0 fn_sd
    CHECK a0, 4

    TESTCASE 6                      /* bytes 2..5: both instructions' halves */
    CALL0 fn_mis
    CHECK a0, 2
    la a1, fn_mis
    li a2, 0x05130025               /* high half of the 1st, low half of the 2nd */
    sw a2, 2(a1)
    CALL0 fn_mis
    CHECK a0, 3

    TESTCASE 7
    CALL0 fn_amo
    CHECK a0, 2
    la a1, fn_amo
    li a2, ADDI_A0_2
    amoswap.w a3, a2, (a1)
    li a4, ADDI_A0_1
    CHECKR a3, a4
    CALL0 fn_amo
    CHECK a0, 3

    TESTCASE 8
    CALL0 fn_csw
    CHECK a0, 2
    la s0, fn_csw                   /* s0 and a5: c.sw registers */
    li a5, ADDI_A0_2
    c.sw a5, 4(s0)
    CALL0 fn_csw
    CHECK a0, 3

    /* ---------------------------------------------------------------- 3 */
    TESTCASE 9
    CALL0 cross
    CHECK a0, 5
    la a1, cross_hi                 /* the half in the second page */
    li a2, 0x0025
    sh a2, 0(a1)
    CALL0 cross
    CHECK a0, 6
    la a1, cross_next               /* the first instruction of the second page */
    li a2, ADDI_A0_2
    sw a2, 0(a1)
    CALL0 cross
    CHECK a0, 7
    la a1, cross                    /* and one in the first page */
    li a2, ADDI_A0_2
    sw a2, 0(a1)
    CALL0 cross
    CHECK a0, 8
    la a1, cross_lo                 /* the crossing instruction becomes two c.addi */
    li a2, 0x0505                   /* c.addi a0, 1 (first page) */
    sh a2, 0(a1)
    li a2, 0x050d                   /* c.addi a0, 3 (second page) */
    sh a2, 2(a1)
    CALL0 cross
    CHECK a0, 10                    /* 2 + 1 + 1 + 3 + 2 + 1 */

    /* ---------------------------------------------------------------- 4 */
    TESTCASE 10
    li a0, 0
    li s2, N
    la a1, own_data
    li a3, 0
    call own_loop
    CHECK a0, N
    la a1, own_data
    ld a2, 0(a1)
    CHECK a2, N

    /* ---------------------------------------------------------------- 5 */
    TESTCASE 11
    li a0, 3
    call rt_vm_init
    li a0, 0x80000000
    li a1, 0x80000000
    li a2, 2
    li a3, PTE_LEAF
    call rt_vm_map                  /* the image, identity, one gigapage */
    MAP4K VA1, alias_page, (PTE_V | PTE_R | PTE_X | PTE_A)
    la t0, pte_va1
    sd a0, 0(t0)
    MAP4K VA2, alias_page, (PTE_V | PTE_R | PTE_X | PTE_A)
    MAP4K VA3, alias_page, (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
    call rt_vm_satp
    csrw satp, a0
    sfence.vma
    GOTO_S
    li t1, VA1
    jalr t1
    li t2, VA1
    CHECKR a0, t2
    li t1, VA2
    jalr t1
    li t2, VA2
    CHECKR a0, t2
    TESTCASE 12                     /* patch through the data alias */
    li a1, VA3 + 4                  /* alias_slot */
    li a2, 0x00850513               /* addi a0, a0, 8 */
    sw a2, 0(a1)
    li t1, VA1
    jalr t1
    li t2, VA1 + 8
    CHECKR a0, t2
    li t1, VA2
    jalr t1
    li t2, VA2 + 8
    CHECKR a0, t2
    TESTCASE 13                     /* VA1 now maps other_page */
    la a4, pte_va1
    ld a4, 0(a4)
    la a5, other_page
    srli a5, a5, 12
    slli a5, a5, 10
    ori a5, a5, (PTE_V | PTE_R | PTE_X | PTE_A)
    sd a5, 0(a4)
    sfence.vma
    li t1, VA1
    jalr t1
    li t2, VA1 + 100
    CHECKR a0, t2
    li t1, VA2
    jalr t1
    li t2, VA2 + 8
    CHECKR a0, t2
    GOTO_M
    csrw satp, zero
    sfence.vma

    /* ---------------------------------------------------------------- 6 */
    TESTCASE 14
    li s2, N
1:  call xfn                        /* hot before hart 1 patches it */
    CHECK a0, 1
    addi s2, s2, -1
    bnez s2, 1b
    fence rw, w
    li t0, 1
    la t1, h1_go
    sd t0, 0(t1)
    rdtime a2                       /* 5 s at most */
    li a1, 50000000
    add a2, a2, a1
2:  call xfn                        /* keeps running while hart 1 patches */
    la t1, h1_done
    ld t0, 0(t1)
    bnez t0, 3f
    rdtime a1
    bltu a1, a2, 2b
    FAIL
3:  fence.i
    call xfn
    CHECK a0, 2
    PASS

    /* ---------------------------------------------------------------- hart 1 */
hart1:
    la t1, h1_go
1:  ld t0, 0(t1)
    beqz t0, 1b
    la t1, xfn
    li t0, 0x00200513               /* li a0, 2 */
    sw t0, 0(t1)
    fence rw, w
    li t0, 1
    la t1, h1_done
    sd t0, 0(t1)
2:  wfi
    j 2b

/* ================================================================ code under test */
    .data
    .option push
    .option norvc
    .balign 64
fn_sb:  addi a0, a0, 1
        addi a0, a0, 1
        ret
    .balign 64
fn_sh:  addi a0, a0, 1
        addi a0, a0, 1
        ret
    .balign 64
fn_sw:  addi a0, a0, 1
        addi a0, a0, 1
        ret
    .balign 64
fn_sd:  addi a0, a0, 1
        addi a0, a0, 1
        ret
    .balign 64
fn_mis: addi a0, a0, 1
        addi a0, a0, 1
        ret
    .balign 64
fn_amo: addi a0, a0, 1
        addi a0, a0, 1
        ret
    .balign 64
fn_csw: addi a0, a0, 1
        addi a0, a0, 1
        ret
    .balign 64
xfn:    li a0, 1
        ret

    /* a loop that stores to its own page; a1 = own_data, s2 = count */
    .balign 64
own_loop:
1:      addi a0, a0, 1
        sd a0, 0(a1)
        addi s2, s2, -1
        bnez s2, 1b
        ret
own_data: .dword 0

    /* cross: +1, +1 (c.addi), +1 (crossing the page boundary), +1, +1 */
    .balign 4096
    .skip 4096 - 8
cross:  addi a0, a0, 1              /* page end - 8 */
    .option rvc
        c.addi a0, 1                /* page end - 4 */
    .option norvc
cross_lo:
        addi a0, a0, 1              /* page end - 2 .. next page + 1 */
cross_next:
        addi a0, a0, 1              /* next page + 2 */
        addi a0, a0, 1
        ret
    .equ cross_hi, cross_lo + 2

    .balign 4096
alias_page:
        auipc a0, 0
alias_slot:
        addi a0, a0, 0
        ret
    .balign 4096
other_page:
        auipc a0, 0
        addi a0, a0, 100
        ret
    .option pop
    .balign 4096

    .balign 8
pte_va1: .dword 0
h1_go:   .dword 0
h1_done: .dword 0
