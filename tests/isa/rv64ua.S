/* A extension: every AMO in .w and .d form (old value returned, sign-extended for .w; the
 * memory result), aq/rl encodings, LR/SC success and the failure cases (no reservation, a
 * reservation already used by an SC, an SC to another address: SC writes 1 to rd on failure and
 * leaves memory alone), and the address-misaligned exceptions of LR (cause 4), SC and AMOs
 * (cause 6) with mtval = the address. */
#include "env.h"

/* \inst on the 64-bit memory word holding \mem, with rs2 = \src: checks rd and the memory. */
.macro TEST_AMO n, inst, ldm, mem, src, exp_rd, exp_mem
    TESTCASE \n
    la a1, amo_buf
    li a2, \mem
    sd a2, 0(a1)
    sd a2, 8(a1)
    li a3, \src
    \inst a0, a3, (a1)
    CHECK a0, \exp_rd
    \ldm a4, 0(a1)
    CHECK a4, \exp_mem
    /* the neighbouring bytes are untouched */
    la a1, amo_buf
    ld a4, 8(a1)
    CHECK a4, \mem
.endm

TEST_MAIN
    /* ---------------- AMO .d */
    TEST_AMO 1, amoswap.d, ld, 0x1111222233334444, 0x5555666677778888, 0x1111222233334444, 0x5555666677778888
    TEST_AMO 2, amoadd.d,  ld, 0x7fffffffffffffff, 1, 0x7fffffffffffffff, 0x8000000000000000
    TEST_AMO 3, amoxor.d,  ld, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xff00ff00ff00ff00, 0xf0f0f0f0f0f0f0f0
    TEST_AMO 4, amoand.d,  ld, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xff00ff00ff00ff00, 0x0f000f000f000f00
    TEST_AMO 5, amoor.d,   ld, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xff00ff00ff00ff00, 0xfff0fff0fff0fff0
    TEST_AMO 6, amomin.d,  ld, 1, -1, 1, -1
    TEST_AMO 7, amomin.d,  ld, -5, 3, -5, -5
    TEST_AMO 8, amomax.d,  ld, 1, -1, 1, 1
    TEST_AMO 9, amomax.d,  ld, 0x8000000000000000, 0, 0x8000000000000000, 0
    TEST_AMO 10, amominu.d, ld, 1, -1, 1, 1
    TEST_AMO 11, amominu.d, ld, -1, 0x8000000000000000, -1, 0x8000000000000000
    TEST_AMO 12, amomaxu.d, ld, 1, -1, 1, -1
    TEST_AMO 13, amomaxu.d, ld, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x8000000000000000

    /* ---------------- AMO .w: 32-bit memory operation, rd = sign-extended old word */
    TEST_AMO 20, amoswap.w, ld, 0xaaaaaaaa80000000, 0x12345678, 0xffffffff80000000, 0xaaaaaaaa12345678
    TEST_AMO 21, amoadd.w,  ld, 0xaaaaaaaa7fffffff, 1, 0x7fffffff, 0xaaaaaaaa80000000
    TEST_AMO 22, amoadd.w,  ld, 0xaaaaaaaaffffffff, 1, -1, 0xaaaaaaaa00000000  /* no carry out */
    TEST_AMO 23, amoxor.w,  ld, 0x55555555ff00ff00, 0x0ff00ff0, 0xffffffffff00ff00, 0x55555555f0f0f0f0
    TEST_AMO 24, amoand.w,  ld, 0x55555555ff00ff00, 0xfffffffff0f0f0f0, 0xffffffffff00ff00, 0x55555555f000f000
    TEST_AMO 25, amoor.w,   ld, 0x5555555500ff00ff, 0x0ff00000, 0x00ff00ff, 0x555555550fff00ff
    TEST_AMO 26, amomin.w,  ld, 0x0000000000000001, 0x00000000ffffffff, 1, 0x00000000ffffffff  /* -1 < 1 */
    TEST_AMO 27, amomax.w,  ld, 0x0000000000000001, 0x00000000ffffffff, 1, 1
    TEST_AMO 28, amominu.w, ld, 0x0000000000000001, 0x00000000ffffffff, 1, 1
    TEST_AMO 29, amomaxu.w, ld, 0x0000000000000001, 0x00000000ffffffff, 1, 0x00000000ffffffff
    TEST_AMO 30, amomin.w,  ld, 0xffffffff80000000, 0x7fffffff, 0xffffffff80000000, 0xffffffff80000000
    TEST_AMO 31, amomaxu.w, ld, 0x1234567880000000, 0xffffffff7fffffff, 0xffffffff80000000, 0x1234567880000000
    /* the upper half of rs2 is ignored by .w compares: 0x1_00000000 is 0 as a word */
    TEST_AMO 32, amominu.w, ld, 0x5, 0x100000000, 5, 0

    /* ordering bits do not change results */
    TEST_AMO 35, amoadd.d.aq, ld, 10, 5, 10, 15
    TEST_AMO 36, amoadd.d.rl, ld, 10, 5, 10, 15
    TEST_AMO 37, amoadd.w.aqrl, ld, 10, 5, 10, 15
    TEST_AMO 38, amoswap.w.aq, ld, 10, 5, 10, 5

    /* rd = x0, and rd = rs2 */
    TESTCASE 40
    la a1, amo_buf
    li a2, 100
    sd a2, 0(a1)
    li a3, 23
    amoadd.d zero, a3, (a1)
    ld a4, 0(a1)
    CHECK a4, 123
    amoswap.d a3, a3, (a1)
    CHECK a3, 123
    ld a4, 0(a1)
    CHECK a4, 23

    /* ---------------- LR/SC */
    TESTCASE 50             /* lr then sc: success writes 0 to rd */
    la a1, amo_buf
    li a2, 0x1234
    sd a2, 0(a1)
    lr.d a0, (a1)
    CHECK a0, 0x1234
    li a3, 0x5678
    sc.d a4, a3, (a1)
    CHECK a4, 0
    ld a0, 0(a1)
    CHECK a0, 0x5678

    TESTCASE 51             /* a second sc without a new lr fails with code 1 */
    la a1, amo_buf
    li a3, 0x9999
    sc.d a4, a3, (a1)
    CHECK a4, 1
    ld a0, 0(a1)
    CHECK a0, 0x5678

    TESTCASE 52             /* lr.w sign-extends, sc.w writes a word */
    la a1, amo_buf
    li a2, 0x11111111deadbeef
    sd a2, 0(a1)
    lr.w a0, (a1)
    CHECK a0, 0xffffffffdeadbeef
    li a3, 0x2222222233333333
    sc.w a4, a3, (a1)
    CHECK a4, 0
    ld a0, 0(a1)
    CHECK a0, 0x1111111133333333

    TESTCASE 53             /* sc to an address in another page than the reservation fails */
    la a1, amo_buf
    la a2, amo_far
    li a3, 77
    sd a3, 0(a2)
    lr.d a0, (a1)
    li a3, 88
    sc.d a4, a3, (a2)
    CHECK a4, 1
    ld a0, 0(a2)
    CHECK a0, 77
    /* that failed sc also ended the reservation */
    li a3, 99
    sc.d a4, a3, (a1)
    CHECK a4, 1

    TESTCASE 54             /* lr/sc retry loop: atomic increment */
    la a1, amo_buf
    sd zero, 0(a1)
    li a5, 10
1:  lr.d.aq a0, (a1)
    addi a0, a0, 3
    sc.d.rl a4, a0, (a1)
    bnez a4, 1b
    addi a5, a5, -1
    bnez a5, 1b
    ld a0, 0(a1)
    CHECK a0, 30

    TESTCASE 55             /* lr.w/sc.w pair: sc.w writes only the low word */
    la a1, amo_buf
    sd zero, 0(a1)
    lr.w a0, (a1)
    li a3, -1
    sc.w a4, a3, (a1)
    CHECK a4, 0
    ld a0, 0(a1)
    CHECK a0, 0x00000000ffffffff

    /* ---------------- misaligned LR/SC/AMO: address-misaligned exceptions */
    TESTCASE 60
    la a1, amo_buf + 4
    TRAP_M CAUSE_MISALIGNED_LOAD, a1, lr.d a0, (a1)
    TESTCASE 61
    la a1, amo_buf + 2
    TRAP_M CAUSE_MISALIGNED_LOAD, a1, lr.w a0, (a1)
    TESTCASE 62
    la a1, amo_buf
    lr.d a0, (a1)
    la a1, amo_buf + 1
    TRAP_M CAUSE_MISALIGNED_STORE, a1, sc.d a0, a2, (a1)
    TESTCASE 63
    la a1, amo_buf + 6
    TRAP_M CAUSE_MISALIGNED_STORE, a1, sc.w a0, a2, (a1)
    TESTCASE 64
    la a1, amo_buf
    li a2, 0x55
    sd a2, 0(a1)
    addi a1, a1, 4
    li a0, 0x3333
    TRAP_M CAUSE_MISALIGNED_STORE, a1, amoswap.d a0, a2, (a1)
    CHECK a0, 0x3333        /* rd not written */
    la a1, amo_buf
    ld a0, 0(a1)
    CHECK a0, 0x55          /* memory not written */
    TESTCASE 65
    la a1, amo_buf + 2
    TRAP_M CAUSE_MISALIGNED_STORE, a1, amoadd.w a0, a2, (a1)
    TESTCASE 66
    la a1, amo_buf + 3
    TRAP_M CAUSE_MISALIGNED_STORE, a1, amoor.w a0, a2, (a1)
    TESTCASE 67
    la a1, amo_buf + 8 + 7
    TRAP_M CAUSE_MISALIGNED_STORE, a1, amomaxu.d a0, a2, (a1)
    TESTCASE 68
    la a1, amo_buf + 8 + 4
    TRAP_M CAUSE_MISALIGNED_STORE, a1, amominu.d a0, a2, (a1)
    TESTCASE 69             /* a 4-aligned address is fine for .w */
    la a1, amo_buf + 4
    li a2, 0x10
    sw a2, 0(a1)
    li a3, 1
    amoadd.w a0, a3, (a1)
    CHECK a0, 0x10
    PASS

    .data
    .balign 64
amo_buf: .dword 0, 0, 0, 0
    .balign 4096
    .space 128
amo_far: .dword 0
