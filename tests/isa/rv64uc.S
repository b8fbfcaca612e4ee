/* C extension: every RV64C instruction written explicitly (c.*), link value pc+2 of c.jalr,
 * 32-bit instructions at 2-byte aligned addresses and across a page boundary, c.ebreak, and the
 * reserved encodings that must raise illegal-instruction with mtval = the 16 instruction bits. */
#include "env.h"

TEST_MAIN
    /* ---------------- constants and immediates */
    TESTCASE 1
    c.li a0, -32
    CHECK a0, -32
    c.li a0, 31
    CHECK a0, 31
    TESTCASE 2
    c.lui a0, 0x1f
    CHECK a0, 0x1f000
    c.lui a0, 0xfffe0           /* nzimm = -32: sign-extended from bit 17 */
    CHECK a0, 0xfffffffffffe0000
    TESTCASE 3
    c.li a0, 5
    c.addi a0, -6
    CHECK a0, -1
    c.nop
    TESTCASE 4
    li a0, 0x7fffffff
    c.addiw a0, 1               /* 32-bit add, sign-extended */
    CHECK a0, 0xffffffff80000000
    li a0, 0x1234567800000000
    c.addiw a0, 0               /* sext.w */
    CHECK a0, 0
    TESTCASE 5
    mv s2, sp
    c.addi16sp sp, -64
    sub a0, s2, sp
    CHECK a0, 64
    c.addi16sp sp, 496
    sub a0, sp, s2
    CHECK a0, 432
    mv sp, s2
    TESTCASE 6
    c.addi4spn a0, sp, 1020
    sub a0, a0, sp
    CHECK a0, 1020
    c.addi4spn s1, sp, 4
    sub s1, s1, sp
    CHECK s1, 4

    /* ---------------- shifts and logic on the compressed registers */
    TESTCASE 10
    c.li a0, 1
    c.slli a0, 63
    CHECK a0, 0x8000000000000000
    c.srai a0, 63
    CHECK a0, -1
    c.srli a0, 60
    CHECK a0, 15
    c.andi a0, -6               /* 0b...1010 */
    CHECK a0, 10
    TESTCASE 11
    li s0, 0xff00
    li s1, 0x0ff0
    mv a0, s0
    c.and a0, s1
    CHECK a0, 0x0f00
    mv a0, s0
    c.or a0, s1
    CHECK a0, 0xfff0
    mv a0, s0
    c.xor a0, s1
    CHECK a0, 0xf0f0
    mv a0, s0
    c.sub a0, s1
    CHECK a0, 0xef10
    TESTCASE 12
    li a2, 0x7fffffff
    li a3, 1
    c.addw a2, a3
    CHECK a2, 0xffffffff80000000
    li a2, 0x100000000
    c.subw a2, a3
    CHECK a2, -1
    TESTCASE 13
    li a5, 0x1234
    c.mv a0, a5
    CHECK a0, 0x1234
    c.add a0, a5
    CHECK a0, 0x2468
    li t3, 7                    /* c.mv/c.add take any register */
    c.mv t4, t3
    c.add t4, t3
    CHECK t4, 14

    /* ---------------- loads and stores */
    TESTCASE 20
    la a1, cdata
    c.lw a0, 0(a1)
    CHECK a0, 0xffffffff89abcdef
    c.lw a0, 4(a1)
    CHECK a0, 0x01234567
    c.ld a0, 0(a1)
    CHECK a0, 0x0123456789abcdef
    c.ld a0, 248(a1)
    CHECK a0, 0x1122334455667788
    c.lw a0, 124(a1)
    CHECK a0, 0x55555555
    TESTCASE 21
    la a1, cdata
    li a2, 0xcafef00d
    c.sw a2, 8(a1)
    li a2, 0x1111222233334444
    c.sd a2, 16(a1)
    lwu a0, 8(a1)
    CHECK a0, 0xcafef00d
    ld a0, 16(a1)
    CHECK a0, 0x1111222233334444
    TESTCASE 22                 /* sp-relative forms */
    mv s2, sp
    la sp, cdata
    c.lwsp a0, 4(sp)
    CHECK a0, 0x01234567
    c.ldsp a0, 0(sp)
    CHECK a0, 0x0123456789abcdef
    c.ldsp a0, 248(sp)
    CHECK a0, 0x1122334455667788
    li a2, -2
    c.swsp a2, 24(sp)
    c.sdsp a2, 32(sp)
    mv sp, s2
    la a1, cdata
    lwu a0, 24(a1)
    CHECK a0, 0xfffffffe
    ld a0, 32(a1)
    CHECK a0, -2
    TESTCASE 23                 /* FP loads and stores */
    la a1, cdata
    c.fld fa0, 0(a1)
    c.fsd fa0, 40(a1)
    ld a0, 40(a1)
    CHECK a0, 0x0123456789abcdef
    mv s2, sp
    la sp, cdata
    c.fldsp fa1, 248(sp)
    c.fsdsp fa1, 48(sp)
    mv sp, s2
    ld a0, 48(a1)
    CHECK a0, 0x1122334455667788

    /* ---------------- control transfer */
    TESTCASE 30
    c.j 1f
    FAIL
1:  TESTCASE 31
    li s0, 0
    c.beqz s0, 2f
    FAIL
2:  li s0, 1
    c.beqz s0, 3f
    c.bnez s0, 4f
3:  FAIL
4:  li s0, 0
    c.bnez s0, 3b
    TESTCASE 32
    la a1, 5f
    c.jr a1
    FAIL
5:  TESTCASE 33                 /* c.jalr links pc + 2 */
    la a1, 7f
6:  c.jalr a1
    FAIL
7:  la a2, 6b + 2
    CHECKR ra, a2
    TESTCASE 34                 /* a 32-bit instruction at a 2-byte aligned address */
    .balign 4
    c.li a0, 0
    addi a0, a0, 0x123          /* the assembler keeps this 32 bits: imm > 31 */
    CHECK a0, 0x123
    TESTCASE 35                 /* a 32-bit instruction that straddles a page boundary */
    li a0, 0
    la a1, straddle_entry
    jalr a1
    CHECK a0, 0x123

    /* ---------------- c.ebreak and reserved encodings */
    TESTCASE 40
    TRAP_M CAUSE_BREAKPOINT, any, c.ebreak
    RT_LOAD a0, RT_LAST_TVAL    /* mtval: 0 or the address of the c.ebreak */
    beqz a0, 8f
    RT_LOAD a1, RT_LAST_EPC
    CHECKR a0, a1
8:  TESTCASE 41
    ILLEGAL_M .2byte 0x0000     /* the all-zero parcel */
    TESTCASE 42
    ILLEGAL_M .2byte 0x0004     /* c.addi4spn with nzuimm = 0 */
    TESTCASE 43
    ILLEGAL_M .2byte 0x6501     /* c.lui a0, 0 */
    TESTCASE 44
    ILLEGAL_M .2byte 0x6101     /* c.addi16sp with nzimm = 0 */
    TESTCASE 45
    ILLEGAL_M .2byte 0x4002     /* c.lwsp x0 */
    TESTCASE 46
    ILLEGAL_M .2byte 0x6002     /* c.ldsp x0 */
    TESTCASE 47
    ILLEGAL_M .2byte 0x8002     /* c.jr x0 */
    TESTCASE 48
    ILLEGAL_M .2byte 0x2005     /* c.addiw x0 */
    PASS

    .data
    .balign 8
cdata:
    .dword 0x0123456789abcdef
    .fill 14, 8, 0
    .word 0, 0x55555555         /* offset 120, 124 */
    .fill 15, 8, 0
    .dword 0x1122334455667788   /* offset 248 */

    .text
    /* straddle_entry runs three c.nop and then a 32-bit addi whose two halves are in two pages */
    .balign 4096
    .fill 2044, 2, 0x0001       /* c.nop */
straddle_entry:
    .2byte 0x0001
    .2byte 0x0001
    .2byte 0x0001
    .4byte 0x12350513           /* addi a0, a0, 0x123: starts 2 bytes before the page end */
    ret
