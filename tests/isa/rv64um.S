/* M extension: multiplications (low and high parts, all signedness combinations, W forms) and
 * divisions, including the results the spec defines for division by zero and for the signed
 * overflow -2^(XLEN-1) / -1 (unprivileged spec, "M" chapter, table of special cases). */
#include "env.h"

#define MIN64 0x8000000000000000
#define MAX64 0x7fffffffffffffff

TEST_MAIN
    /* ---------------- mul */
    TEST_RR 1, mul, 0, 0, 5
    TEST_RR 2, mul, 42, 6, 7
    TEST_RR 3, mul, -42, -6, 7
    TEST_RR 4, mul, 0x0000000000000001, -1, -1
    TEST_RR 5, mul, 0x4458fab20783af02, 0x123456789abcdef1, 0x0fedcba987654322
    TEST_RR 6, mul, MIN64, MIN64, 1
    TEST_RR 7, mul, 0, MIN64, 2
    TEST_RR_ALIAS 8, mul, 0xfffffffe00000001, 0xffffffff, 0xffffffff
    /* ---------------- mulh (signed x signed) */
    TEST_RR 10, mulh, 0, 6, 7
    TEST_RR 11, mulh, -1, -6, 7
    TEST_RR 12, mulh, 0, -1, -1
    TEST_RR 13, mulh, 0x4000000000000000, MIN64, MIN64
    TEST_RR 14, mulh, 0xc000000000000000, MIN64, MAX64
    TEST_RR 15, mulh, 0x3fffffffffffffff, MAX64, MAX64
    TEST_RR 16, mulh, 0x0123456789abcdef >> 4, 0x0123456789abcdef, 0x1000000000000000
    /* ---------------- mulhu (unsigned x unsigned) */
    TEST_RR 20, mulhu, 0xfffffffffffffffe, -1, -1
    TEST_RR 21, mulhu, 0, -1, 1
    TEST_RR 22, mulhu, 0x4000000000000000, MIN64, MIN64
    TEST_RR 23, mulhu, 0x7fffffffffffffff, -1, MIN64
    TEST_RR 24, mulhu, 0x0000000000000001, 0x100000000, 0x100000000
    /* ---------------- mulhsu (signed rs1 x unsigned rs2) */
    TEST_RR 30, mulhsu, 0xffffffffffffffff, -1, -1     /* -1 * (2^64-1) = -(2^64) + 1 */
    TEST_RR 31, mulhsu, 0xfffffffffffffffe, -2, -1
    TEST_RR 32, mulhsu, 0xc000000000000000, MIN64, MIN64
    TEST_RR 33, mulhsu, 0x7ffffffffffffffe, MAX64, -1
    TEST_RR 34, mulhsu, 0, 1, -1
    /* ---------------- mulw (low 32 bits, sign-extended) */
    TEST_RR 40, mulw, 42, 6, 7
    TEST_RR 41, mulw, 0xffffffff80000000, 0x40000000, 2
    TEST_RR 42, mulw, 1, 0xffffffff, 0xffffffff
    TEST_RR 43, mulw, 0, 0x100000000, 0x100000000   /* upper halves are ignored */
    TEST_RR 44, mulw, 0xfffffffff0000000, 0x1234567810000000, 0x0f

    /* ---------------- div / divu */
    TEST_RR 50, div, 3, 20, 6
    TEST_RR 51, div, -3, -20, 6       /* rounds toward zero */
    TEST_RR 52, div, -3, 20, -6
    TEST_RR 53, div, 3, -20, -6
    TEST_RR 54, div, MIN64, MIN64, -1  /* overflow: result is the dividend */
    TEST_RR 55, div, -1, 20, 0         /* by zero: all ones */
    TEST_RR 56, div, -1, MIN64, 0
    TEST_RR 57, divu, 3, 20, 6
    TEST_RR 58, divu, 0x2aaaaaaaaaaaaaa7, -20, 6
    TEST_RR 59, divu, 0, MIN64, -1
    TEST_RR 60, divu, 0xffffffffffffffff, 20, 0
    TEST_RR 61, divu, 0xffffffffffffffff, 0, 0
    /* ---------------- rem / remu */
    TEST_RR 70, rem, 2, 20, 6
    TEST_RR 71, rem, -2, -20, 6        /* sign of the dividend */
    TEST_RR 72, rem, 2, 20, -6
    TEST_RR 73, rem, -2, -20, -6
    TEST_RR 74, rem, 0, MIN64, -1      /* overflow: remainder 0 */
    TEST_RR 75, rem, 20, 20, 0         /* by zero: the dividend */
    TEST_RR 76, rem, MIN64, MIN64, 0
    TEST_RR 77, remu, 2, 20, 6
    TEST_RR 78, remu, 2, -20, 6
    TEST_RR 79, remu, MIN64, MIN64, -1
    TEST_RR 80, remu, -20, -20, 0

    /* ---------------- divw / divuw / remw / remuw: 32-bit operands, sign-extended results */
    TEST_RR 90, divw, 3, 20, 6
    TEST_RR 91, divw, -3, -20, 6
    TEST_RR 92, divw, 0xffffffff80000000, 0x80000000, -1   /* overflow */
    TEST_RR 93, divw, -1, 20, 0
    TEST_RR 94, divw, -1, 20, 0x100000000                  /* divisor's low 32 bits are 0 */
    TEST_RR 95, divw, 5, 0xffffffff0000000a, 2             /* upper bits ignored */
    TEST_RR 96, divuw, 0x7ffffff6, -20, 2                  /* 0xffffffec / 2 */
    TEST_RR 97, divuw, 0xffffffffffffffff, 20, 0           /* 2^32-1, sign-extended */
    TEST_RR 98, divuw, 0xffffffff80000000, 0x80000000, 1
    TEST_RR 99, divuw, 0, 0x80000000, -1
    TEST_RR 100, remw, 2, 20, 6
    TEST_RR 101, remw, -2, -20, 6
    TEST_RR 102, remw, 0, 0x80000000, -1                   /* overflow */
    TEST_RR 103, remw, 0xffffffff80000001, 0x1280000001, 0 /* by zero: sext(dividend[31:0]) */
    TEST_RR 104, remuw, 2, 20, 6
    TEST_RR 105, remuw, 0xffffffffffffffec, -20, 0         /* by zero: sext(dividend[31:0]) */
    TEST_RR 106, remuw, 0xffffffff80000000, 0x80000000, 0x80000001
    TEST_RR 107, remuw, 0x00000001, 0xffffffff, 2

    /* x0 destination */
    TESTCASE 110
    li a1, 7
    li a2, 3
    div zero, a1, a2
    mul zero, a1, a2
    CHECK zero, 0
    PASS
