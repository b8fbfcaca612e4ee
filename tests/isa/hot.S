/* Behaviour that a dynamic translator must preserve once code is hot (DESIGN.md: the JIT has the
 * interpreter's observable behaviour): long loops, code patched and made visible with FENCE.I
 * (also an instruction ahead in the running block), precise exceptions in the middle of a hot
 * block (earlier instructions done, later ones not), and an interrupt arriving while a loop
 * runs without any CSR access. */
#include "env.h"

#define NO_MEMORY 0x40000000
#define N 20000

TEST_MAIN
    /* ---------------- a hot loop */
    TESTCASE 1
    li a0, 0
    li a1, 1
    li a2, 100000
1:  add a0, a0, a1
    addi a1, a1, 1
    bleu a1, a2, 1b
    CHECK a0, 5000050000

    /* ---------------- patching a hot function */
    TESTCASE 2
    li s1, 0
    li s2, N
2:  call patched
    add s1, s1, a0
    addi s2, s2, -1
    bnez s2, 2b
    CHECK s1, N
    la a1, patched
    li a2, 0x00200513               /* addi a0, zero, 2 */
    sw a2, 0(a1)
    fence.i
    li s2, N
3:  call patched
    add s1, s1, a0
    addi s2, s2, -1
    bnez s2, 3b
    CHECK s1, 3 * N

    /* ---------------- the loop rewrites an instruction ahead of it in the same block */
    TESTCASE 3
    li a0, 0
    li s2, N
    la a1, patch_site
    li a2, 0x00250513               /* addi a0, a0, 2 */
    .option push
    .option norvc
4:  sw a2, 0(a1)
    fence.i
patch_site:
    addi a0, a0, 1
    addi s2, s2, -1
    bnez s2, 4b
    .option pop
    CHECK a0, 2 * N
    la a1, patch_site               /* put it back for the record */
    li a2, 0x00150513
    sw a2, 0(a1)
    fence.i

    /* ---------------- a precise exception in the middle of a hot block */
    TESTCASE 4
    li s1, 0
    li s2, 0
    li s3, 0                        /* iteration */
    li s4, N
    la s5, buf
    li s6, NO_MEMORY
    mv t5, s6
    ARM 3, CAUSE_LOAD_ACCESS, (EXPF_EPC | EXPF_TVAL), fault_ld, 6f
5:  addi s3, s3, 1
    mv a1, s5
    bne s3, s4, 7f
    mv a1, s6                       /* the last iteration loads from a hole */
7:  addi s1, s1, 1
fault_ld:
    ld a0, 0(a1)
    addi s2, s2, 1
    j 5b
6:  CHECK_TRAPPED
    CHECK s1, N                     /* the instruction before the load completed */
    CHECK s2, N - 1                 /* the one after it did not */

    /* ---------------- an interrupt while a loop runs without CSR accesses */
    TESTCASE 5
    li a0, ENVCFG_STCE
    csrw CSR_MENVCFG, a0
    li a0, MIP_STIP
    csrw mie, a0
    rdtime a0
    li a1, 10000                    /* 1 ms */
    add a0, a0, a1
    csrw CSR_STIMECMP, a0
    EXPECT_IRQ 3, IRQ_STI
    csrsi mstatus, MSTATUS_MIE
    la a1, rt_state
    li a2, 400000000                /* give up eventually instead of hanging */
8:  ld a0, RT_EXP_VALID(a1)
    beqz a0, 9f
    addi a2, a2, -1
    bnez a2, 8b
9:  CHECK_TRAPPED
    csrci mstatus, MSTATUS_MIE
    li a0, -1
    csrw CSR_STIMECMP, a0
    csrw mie, zero
    csrw CSR_MENVCFG, zero
    PASS

    .text
    .option push
    .option norvc
    .balign 4
patched:
    addi a0, zero, 1
    ret
    .option pop

    .data
    .balign 8
buf: .dword 0
