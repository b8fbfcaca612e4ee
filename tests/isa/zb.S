/* Bit manipulation: every Zba, Zbb, Zbc and Zbs instruction, with the edge cases of counts
 * (zero input), 32-bit W forms (upper input bits ignored, results sign-extended), shift/rotate
 * amounts taken modulo XLEN, and carry-less multiplication high/reversed parts. */
#include "env.h"

TEST_MAIN
    /* ---------------- Zba */
    TEST_RR 1, add.uw, 0x80000001, 0xffffffff80000000, 1
    TEST_RR 2, add.uw, 0x100000000, 0xffffffff, 1
    TEST_RR 3, sh1add, 16, 3, 10
    TEST_RR 4, sh2add, 22, 3, 10
    TEST_RR 5, sh3add, 34, 3, 10
    TEST_RR 6, sh3add, 0, 0x2000000000000000, 0
    TEST_RR 7, sh1add.uw, 16, 0xffffffff00000003, 10
    TEST_RR 8, sh2add.uw, 0x200000000, 0x80000000, 0
    TEST_RR 9, sh3add.uw, 0x7fffffff9, 0xffffffffffffffff, 1
    TEST_RI 10, slli.uw, 0x800000010, 0xffffffff80000001, 4
    TEST_RI 11, slli.uw, 0xffffffff00000000, 0x12345678ffffffff, 32

    /* ---------------- Zbb: logic with negation */
    TEST_RR 20, andn, 0xf0, 0xff, 0x0f
    TEST_RR 21, orn, 0xf0, 0, 0xffffffffffffff0f
    TEST_RR 22, xnor, 0xffffffffffffff0f, 0xff, 0x0f
    /* counts */
    TEST_R 23, clz, 64, 0
    TEST_R 24, clz, 63, 1
    TEST_R 25, clz, 0, -1
    TEST_R 26, clz, 8, 0x00ff000000000000
    TEST_R 27, clzw, 32, 0
    TEST_R 28, clzw, 31, 0xffffffff00000001
    TEST_R 29, clzw, 0, 0x80000000
    TEST_R 30, ctz, 64, 0
    TEST_R 31, ctz, 63, 0x8000000000000000
    TEST_R 32, ctz, 8, 0x100
    TEST_R 33, ctzw, 32, 0
    TEST_R 34, ctzw, 32, 0x100000000
    TEST_R 35, ctzw, 31, 0x80000000
    TEST_R 36, cpop, 64, -1
    TEST_R 37, cpop, 8, 0x0f0f
    TEST_R 38, cpop, 0, 0
    TEST_R 39, cpopw, 32, -1
    TEST_R 40, cpopw, 3, 0xffffffff00000007
    /* min / max */
    TEST_RR 41, max, 1, -1, 1
    TEST_RR 42, maxu, -1, -1, 1
    TEST_RR 43, min, -1, -1, 1
    TEST_RR 44, minu, 1, -1, 1
    TEST_RR 45, max, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    TEST_RR 46, minu, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    /* sign and zero extension */
    TEST_R 47, sext.b, 0xffffffffffffff80, 0x80
    TEST_R 48, sext.b, 0x7f, 0xffffffffffffff7f
    TEST_R 49, sext.h, 0xffffffffffff8000, 0x8000
    TEST_R 50, sext.h, 0x7fff, 0x12347fff
    TEST_R 51, zext.h, 0x8000, 0xffffffffffff8000
    /* rotates */
    TEST_RR 52, rol, 3, 0x8000000000000001, 1
    TEST_RR 53, rol, 3, 0x8000000000000001, 65
    TEST_RR 54, ror, 0x8000000000000000, 1, 1
    TEST_RR 55, ror, 0x0123456789abcdef, 0x0123456789abcdef, 64
    TEST_RI 56, rori, 0xf0123456789abcde, 0x0123456789abcdef, 4
    TEST_RI 57, rori, 0x0123456789abcdef, 0x0123456789abcdef, 0
    TEST_RR 58, rolw, 3, 0x80000001, 1
    TEST_RR 59, rolw, 1, 0xffffffff00000001, 32
    TEST_RR 60, rorw, 0xffffffff80000000, 1, 1
    TEST_RI 61, roriw, 0xf, 0xf0, 4
    TEST_RI 62, roriw, 0xffffffff80000000, 0x1234567800000001, 1
    /* byte operations */
    TEST_R 63, orc.b, 0x00ff000000ff00ff, 0x0001000000ff0010
    TEST_R 64, orc.b, 0, 0
    TEST_R 65, rev8, 0xefcdab8967452301, 0x0123456789abcdef

    /* ---------------- Zbc: carry-less multiplication */
    TEST_RR 70, clmul, 15, 5, 3
    TEST_RR 71, clmul, 0xfffffffffffffffe, -1, 2
    TEST_RR 72, clmulh, 1, -1, 2
    TEST_RR 73, clmulr, 3, -1, 2
    TEST_RR 74, clmul, 0, 0x8000000000000000, 0x8000000000000000
    TEST_RR 75, clmulh, 0x4000000000000000, 0x8000000000000000, 0x8000000000000000
    TEST_RR 76, clmulr, 0x8000000000000000, 0x8000000000000000, 0x8000000000000000
    TEST_RR 77, clmul, 0x40a0789828c810f0, 0x123456789abcdef0, 0x0fedcba987654321
    TEST_RR 78, clmulh, 0x00e038d8688850b0, 0x123456789abcdef0, 0x0fedcba987654321
    TEST_RR 79, clmulr, 0x01c071b0d110a160, 0x123456789abcdef0, 0x0fedcba987654321

    /* ---------------- Zbs: single bits (index modulo 64) */
    TEST_RR 80, bclr, 0x7fffffffffffffff, -1, 63
    TEST_RR 81, bclr, 0xfffffffffffffffe, -1, 64
    TEST_RI 82, bclri, 0xfe, 0xff, 0
    TEST_RR 83, bext, 1, 0x8000000000000000, 63
    TEST_RR 84, bext, 0, 0x8000000000000000, 62
    TEST_RI 85, bexti, 1, 0x10, 4
    TEST_RI 86, bexti, 0, 0x10, 3
    TEST_RR 87, binv, 0x8000000000000000, 0, 63
    TEST_RR 88, binv, 0, 1, 0xffffffffffffffc0
    TEST_RI 89, binvi, 0x7f, 0xff, 7
    TEST_RR 90, bset, 0x100000000, 0, 32
    TEST_RI 91, bseti, 0x8000000000000000, 0, 63
    TEST_RI 92, bseti, 0xff, 0xff, 3
    PASS
