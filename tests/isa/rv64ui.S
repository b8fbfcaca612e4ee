/* RV64I base integer instructions: arithmetic, logic, shifts, compares, lui/auipc, jumps,
 * branches, loads/stores (also misaligned, which rvisor performs in hardware for RAM), x0,
 * FENCE and FENCE.I (Zifencei) with self-modifying code. */
#include "env.h"

TEST_MAIN
    /* ---------------- add/sub */
    TEST_RR 1, add, 0, 0, 0
    TEST_RR 2, add, 5, 2, 3
    TEST_RR 3, add, 0x8000000000000000, 0x7fffffffffffffff, 1
    TEST_RR 4, add, 0xfffffffffffffffe, -1, -1
    TEST_RR 5, sub, -1, 0, 1
    TEST_RR 6, sub, 0x7fffffffffffffff, 0x8000000000000000, 1
    TEST_RR_ALIAS 7, add, 0x100000000, 0xffffffff, 1
    TEST_RI 8, addi, 0x7ff, 0, 0x7ff
    TEST_RI 9, addi, -0x800, 0, -0x800
    TEST_RI 10, addi, 0x7fffffffffffffff, 0x8000000000000000, -1
    /* 32-bit forms sign-extend their 32-bit result */
    TEST_RR 11, addw, 0xffffffff80000000, 0x7fffffff, 1
    TEST_RR 12, addw, 0, 0xffffffff, 1
    TEST_RR 13, addw, 0x12345678, 0xabcdef0012345670, 8
    TEST_RI 14, addiw, 0xffffffff80000000, 0x7fffffff, 1
    TEST_RI 15, addiw, 0x7fffffff, 0xffffffff80000000, -1
    TEST_RI 16, addiw, 5, 0x1234567800000005, 0
    TEST_RR 17, subw, 0x7fffffff, 0xffffffff80000000, 1
    TEST_RR 18, subw, -1, 0, 1
    TEST_RR 19, subw, 0, 0x100000000, 0

    /* ---------------- logic */
    TEST_RR 20, and, 0x0f000f00, 0xff00ff00, 0x0f0f0f0f
    TEST_RR 21, or,  0xff0fff0f, 0xff00ff00, 0x0f0f0f0f
    TEST_RR 22, xor, 0xf00ff00f, 0xff00ff00, 0x0f0f0f0f
    TEST_RI 23, andi, 0xff00ff0f, 0xff00ff0f, -0xf1 /* imm 0xf0f sign-extends to ...ff0f */
    TEST_RI 24, andi, 0x00f, 0xff00ff0f, 0x0ff
    TEST_RI 25, ori, -1, 0, -1
    TEST_RI 26, ori, 0xff00ff0f, 0xff00ff00, 0x00f
    TEST_RI 27, xori, 0xffffffff00ff00f0, 0xff00ff0f, -1
    TEST_RI 28, xori, 0xff00ff00, 0xff00ff0f, 0xf

    /* ---------------- shifts (shift amounts use the low 6 or 5 bits) */
    TEST_RR 30, sll, 0x8000000000000000, 1, 63
    TEST_RR 31, sll, 2, 1, 65
    TEST_RR 32, srl, 1, 0x8000000000000000, 63
    TEST_RR 33, srl, 0x4000000000000000, 0x8000000000000000, 0xffffffffffffffc1
    TEST_RR 34, sra, -1, 0x8000000000000000, 63
    TEST_RR 35, sra, 0xc000000000000000, 0x8000000000000000, 1
    TEST_RI 36, slli, 0xffffffff00000000, 0xffffffff, 32
    TEST_RI 37, srli, 0xffffffff, 0xffffffff00000000, 32
    TEST_RI 38, srai, 0xffffffffffff0000, 0x8000000000000000, 47
    TEST_RI 39, srai, 0x7f, 0x7f00000000000000, 56
    TEST_RR 40, sllw, 0xffffffff80000000, 1, 31
    TEST_RR 41, sllw, 2, 1, 33
    TEST_RR 42, sllw, 0, 0x100000000, 0
    TEST_RR 43, srlw, 1, 0x80000000, 31
    TEST_RR 44, srlw, 0xffffffff80000000, 0x1280000000, 0   /* result bit 31 set: sign-extended */
    TEST_RR 45, srlw, 0x7fffffff, 0xffffffff, 33
    TEST_RR 46, sraw, -1, 0x80000000, 31
    TEST_RR 47, sraw, 0xffffffffc0000000, 0x80000000, 1
    TEST_RR 48, sraw, 0x1, 0xffffffff00000001, 32
    TEST_RI 49, slliw, 0xffffffff80000000, 0x1, 31
    TEST_RI 50, srliw, 0x1, 0xffffffff80000000, 31
    TEST_RI 51, sraiw, -1, 0x0000000080000000, 31
    TEST_RI 52, sraiw, 0x3fffffff, 0x800000007fffffff, 1

    /* ---------------- compares */
    TEST_RR 60, slt, 1, -1, 0
    TEST_RR 61, slt, 0, 0, -1
    TEST_RR 62, slt, 0, 5, 5
    TEST_RR 63, sltu, 0, -1, 0
    TEST_RR 64, sltu, 1, 0, -1
    TEST_RR 65, sltu, 1, 0x7fffffffffffffff, 0x8000000000000000
    TEST_RI 66, slti, 1, 0x8000000000000000, 0
    TEST_RI 67, slti, 0, 0, -0x800
    TEST_RI 68, sltiu, 1, 5, -1      /* immediate sign-extended, then compared unsigned */
    TEST_RI 69, sltiu, 0, -1, -1
    TEST_RI 70, sltiu, 1, 0, 1       /* seqz */

    /* ---------------- lui / auipc */
    TESTCASE 71
    lui a0, 0x80000
    CHECK a0, 0xffffffff80000000
    lui a0, 0x7ffff
    CHECK a0, 0x7ffff000
    TESTCASE 72
1:  auipc a0, 0
    la a1, 1b
    CHECKR a0, a1
2:  auipc a2, 1
    la a4, 2b
    sub a2, a2, a4
    CHECK a2, 0x1000
3:  auipc a3, 0x80000
    la a4, 3b
    sub a3, a3, a4
    CHECK a3, 0xffffffff80000000

    /* ---------------- jal / jalr */
    TESTCASE 80
    jal a0, 1f
2:  FAIL
1:  la a1, 2b
    CHECKR a0, a1
    TESTCASE 81
    la a1, 3f
    addi a1, a1, 1          /* bit 0 of the target is cleared by jalr */
    jalr a0, 0(a1)
    FAIL
    .balign 4
3:  TESTCASE 82
    la a1, 4f - 8
    jalr a0, 8(a1)
    FAIL
4:  TESTCASE 83
    la a1, 5f
    jalr a1, a1             /* rd == rs1: the old value is the target */
5:  la a2, 5b
    CHECKR a1, a2
    TESTCASE 84
    jal zero, 6f
    FAIL
6:

    /* ---------------- branches */
.macro BR_TAKEN n, br, v1, v2
    TESTCASE \n
    li a1, \v1
    li a2, \v2
    \br a1, a2, .Lt\@
    FAIL
.Lt\@:
.endm
.macro BR_NOT n, br, v1, v2
    TESTCASE \n
    li a1, \v1
    li a2, \v2
    \br a1, a2, .Lnt\@
    j .Lc\@
.Lnt\@:
    FAIL
.Lc\@:
.endm
    BR_TAKEN 90, beq, -1, -1
    BR_NOT   91, beq, 0, 1
    BR_TAKEN 92, bne, 0, 1
    BR_NOT   93, bne, 7, 7
    BR_TAKEN 94, blt, -1, 0
    BR_NOT   95, blt, 0, -1
    BR_NOT   96, blt, 3, 3
    BR_TAKEN 97, bge, 3, 3
    BR_TAKEN 98, bge, 0, -1
    BR_NOT   99, bge, -1, 0
    BR_TAKEN 100, bltu, 0, -1
    BR_NOT   101, bltu, -1, 0
    BR_TAKEN 102, bgeu, -1, 0
    BR_NOT   103, bgeu, 0x7fffffffffffffff, 0x8000000000000000
    /* backwards branch loop */
    TESTCASE 104
    li a0, 0
    li a1, 10
1:  addi a0, a0, 3
    addi a1, a1, -1
    bnez a1, 1b
    CHECK a0, 30

    /* ---------------- loads */
.macro TEST_LOAD n, ld, exp, off
    TESTCASE \n
    la a1, ldata
    \ld a0, \off(a1)
    CHECK a0, \exp
.endm
    TEST_LOAD 110, lb, 0xffffffffffffff81, 0
    TEST_LOAD 111, lbu, 0x81, 0
    TEST_LOAD 112, lb, 0x7f, 1
    TEST_LOAD 113, lh, 0xffffffffffff8001, 2
    TEST_LOAD 114, lhu, 0x7f81, 0
    TEST_LOAD 115, lw, 0xffffffff80017f81, 0
    TEST_LOAD 116, lwu, 0x80017f81, 0
    TEST_LOAD 117, ld, 0x0123456780017f81, 0
    TEST_LOAD 118, lw, 0x01234567, 4
    TEST_LOAD 119, ld, 0xfedcba9876543210, 8
    TEST_LOAD 120, lh, 0xfffffffffffffedc, 14
    /* negative offset */
    TESTCASE 121
    la a1, ldata + 16
    ld a0, -8(a1)
    CHECK a0, 0xfedcba9876543210
    /* misaligned loads (rvisor does them in hardware) */
    TEST_LOAD 122, lh, 0x017f, 1
    TEST_LOAD 123, lw, 0x6780017f, 1
    TEST_LOAD 124, ld, 0x100123456780017f, 1
    TEST_LOAD 125, lhu, 0x1001, 7
    TEST_LOAD 126, lwu, 0x98765432, 9

    /* ---------------- stores */
.macro TEST_STORE n, st, ld, val, off, exp
    TESTCASE \n
    la a1, sdata
    sd zero, 0(a1)
    sd zero, 8(a1)
    li a2, \val
    \st a2, \off(a1)
    \ld a0, \off(a1)
    CHECK a0, \exp
.endm
    TEST_STORE 130, sb, lb, 0xabcdef80, 0, 0xffffffffffffff80
    TEST_STORE 131, sh, lh, 0xabcd8001, 2, 0xffffffffffff8001
    TEST_STORE 132, sw, lw, 0x1234567880000001, 4, 0xffffffff80000001
    TEST_STORE 133, sd, ld, 0x1234567880000001, 8, 0x1234567880000001
    TEST_STORE 134, sh, lhu, 0x1234, 3, 0x1234      /* misaligned */
    TEST_STORE 135, sw, lwu, 0x89abcdef, 5, 0x89abcdef
    TEST_STORE 136, sd, ld, 0x0102030405060708, 3, 0x0102030405060708
    /* a store writes exactly its bytes */
    TESTCASE 137
    la a1, sdata
    li a2, -1
    sd a2, 0(a1)
    sb zero, 3(a1)
    ld a0, 0(a1)
    CHECK a0, 0xffffffff00ffffff
    sh zero, 5(a1)
    ld a0, 0(a1)
    CHECK a0, 0xff0000ff00ffffff
    sw zero, 0(a1)
    ld a0, 0(a1)
    CHECK a0, 0xff0000ff00000000

    /* ---------------- x0 is hardwired to zero */
    TESTCASE 140
    li a0, 5
    addi zero, a0, 1
    add a1, zero, zero
    CHECK a1, 0
    lui zero, 0x12345
    CHECK zero, 0
    la a2, ldata
    ld zero, 0(a2)
    CHECK zero, 0

    /* ---------------- fence, fence.i with self-modifying code */
    TESTCASE 150
    fence
    fence rw, rw
    fence iorw, iorw
    fence.tso
    /* patch "addi a0, zero, 1" into "addi a0, zero, 2" and run it */
    TESTCASE 151
    la a1, smc
    li a2, 0x00200513       /* addi a0, zero, 2 */
    sw a2, 0(a1)
    fence.i
    call smc
    CHECK a0, 2
    li a2, 0x00300513       /* addi a0, zero, 3 */
    sw a2, 0(a1)
    fence.i
    call smc
    CHECK a0, 3

    /* sanity of the misaligned expectations above: build the doubleword from bytes */
    TESTCASE 160
    la a1, ldata
    lbu a0, 1(a1)
    lbu a2, 2(a1)
    slli a2, a2, 8
    or a0, a0, a2
    lbu a2, 3(a1)
    slli a2, a2, 16
    or a0, a0, a2
    lbu a2, 4(a1)
    slli a2, a2, 24
    or a0, a0, a2
    lw a3, 1(a1)
    sext.w a0, a0
    CHECKR a3, a0

    PASS

    .data
    .balign 8
ldata:
    .byte 0x81, 0x7f, 0x01, 0x80, 0x67, 0x45, 0x23, 0x01
    .dword 0xfedcba9876543210
sdata:
    .dword 0, 0
    .text
    .option push
    .option norvc
    .balign 4
smc:
    addi a0, zero, 1
    ret
    .option pop
