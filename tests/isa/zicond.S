/* Zicond: czero.eqz and czero.nez (encoded with .insn: binutils 2.40 lacks the mnemonics),
 * including rd aliasing a source and x0 operands. */
#include "env.h"

/* czero.eqz rd, rs1, rs2: rd = rs2 == 0 ? 0 : rs1 (OP, funct3 5, funct7 7) */
.macro czero.eqz rd, rs1, rs2
    .insn r 0x33, 5, 7, \rd, \rs1, \rs2
.endm
/* czero.nez rd, rs1, rs2: rd = rs2 != 0 ? 0 : rs1 (OP, funct3 7, funct7 7) */
.macro czero.nez rd, rs1, rs2
    .insn r 0x33, 7, 7, \rd, \rs1, \rs2
.endm

.macro TEST_CZ n, which, exp, v1, v2
    TESTCASE \n
    li a1, \v1
    li a2, \v2
    li a0, 0x5a5a
    \which a0, a1, a2
    CHECK a0, \exp
.endm

TEST_MAIN
    TEST_CZ 1, czero.eqz, 0x1234, 0x1234, 1
    TEST_CZ 2, czero.eqz, 0, 0x1234, 0
    TEST_CZ 3, czero.eqz, -1, -1, 0x8000000000000000   /* any nonzero bit counts */
    TEST_CZ 4, czero.eqz, 0, -1, 0
    TEST_CZ 5, czero.nez, 0, 0x1234, 1
    TEST_CZ 6, czero.nez, 0x1234, 0x1234, 0
    TEST_CZ 7, czero.nez, 0, -1, 0x100000000            /* upper bits count (not a W form) */
    TEST_CZ 8, czero.nez, 0x8000000000000000, 0x8000000000000000, 0

    TESTCASE 10             /* rd == rs1 and rd == rs2 */
    li a1, 77
    li a2, 3
    czero.eqz a1, a1, a2
    CHECK a1, 77
    li a2, 3
    czero.nez a2, a1, a2
    CHECK a2, 0
    li a2, 0
    li a1, 9
    czero.nez a2, a1, a2
    CHECK a2, 9
    TESTCASE 11             /* x0 as the condition: eqz gives 0, nez passes rs1 */
    li a1, 42
    li a0, 1
    czero.eqz a0, a1, zero
    CHECK a0, 0
    czero.nez a0, a1, zero
    CHECK a0, 42
    TESTCASE 12             /* x0 as the value */
    li a2, 1
    li a0, 1
    czero.eqz a0, zero, a2
    CHECK a0, 0
    TESTCASE 13             /* rd = x0 has no effect */
    li a1, 5
    li a2, 0
    czero.nez zero, a1, a2
    CHECK zero, 0
    TESTCASE 14             /* conditional select idiom: a0 = cond ? a1 : a2 */
    li a3, 1
    li a1, 100
    li a2, 200
    czero.eqz a4, a1, a3
    czero.nez a5, a2, a3
    or a0, a4, a5
    CHECK a0, 100
    li a3, 0
    czero.eqz a4, a1, a3
    czero.nez a5, a2, a3
    or a0, a4, a5
    CHECK a0, 200
    TESTCASE 15             /* neighbouring encodings (funct7 7, funct3 4 and 6) are reserved */
    ILLEGAL_M .insn r 0x33, 4, 7, a0, a1, a2
    ILLEGAL_M .insn r 0x33, 6, 7, a0, a1, a2
    PASS
