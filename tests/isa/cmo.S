/* Cache-block operations (Zicbom, Zicboz, Zicbop), Zawrs and Zihintpause, encoded with .insn.
 * cbo.zero zeroes exactly the naturally aligned block holding the address (size discovered by the
 * test, a power of two); the envcfg enables (CMO spec): from S, menvcfg.CBZE / CBCFE / CBIE,
 * from U also senvcfg's, otherwise illegal-instruction; M-mode is always allowed. */
#include "env.h"

.macro cbo.inval rs1
    .insn i 0x0f, 2, x0, \rs1, 0
.endm
.macro cbo.clean rs1
    .insn i 0x0f, 2, x0, \rs1, 1
.endm
.macro cbo.flush rs1
    .insn i 0x0f, 2, x0, \rs1, 2
.endm
.macro cbo.zero rs1
    .insn i 0x0f, 2, x0, \rs1, 4
.endm

#define ENVCFG_CBIE_FLUSH (1 << 4)
#define ENVCFG_CBIE_INVAL (3 << 4)
#define ENVCFG_CBCFE      (1 << 6)
#define ENVCFG_CBZE       (1 << 7)

/* fills the 512-byte buffer with 0xff bytes; clobbers a0-a2 */
.macro FILL_BUF
    la a0, buf
    li a1, -1
    addi a2, a0, 512
1:  sd a1, 0(a0)
    addi a0, a0, 8
    bltu a0, a2, 1b
.endm

TEST_MAIN
    /* ---------------- cbo.zero in M-mode */
    TESTCASE 1
    FILL_BUF
    la a1, buf + 256
    cbo.zero a1
    /* the byte before the block is untouched */
    lbu a0, -1(a1)
    CHECK a0, 0xff
    /* count the zero bytes: the block size */
    li a3, 0
2:  add a4, a1, a3
    lbu a0, 0(a4)
    bnez a0, 3f
    addi a3, a3, 1
    li a5, 256
    bltu a3, a5, 2b
3:  /* a power of two, at least 16 bytes */
    addi a4, a3, -1
    and a4, a4, a3
    CHECK a4, 0
    sltiu a4, a3, 16
    CHECK a4, 0
    la a5, block_size
    sd a3, 0(a5)
    TESTCASE 2              /* an unaligned address zeroes its whole block */
    FILL_BUF
    la a5, block_size
    ld a3, 0(a5)
    la a1, buf + 256
    add a2, a1, a3
    addi a2, a2, -1         /* last byte of the block */
    cbo.zero a2
    lbu a0, 0(a1)
    CHECK a0, 0
    lbu a0, 0(a2)
    CHECK a0, 0
    add a2, a1, a3
    lbu a0, 0(a2)           /* first byte of the next block */
    CHECK a0, 0xff
    TESTCASE 3              /* clean, flush, inval and the prefetch hints leave data alone */
    FILL_BUF
    la a1, buf
    cbo.clean a1
    cbo.flush a1
    cbo.inval a1
    ori x0, a1, 0           /* prefetch.i 0(a1) */
    ori x0, a1, 1           /* prefetch.r 0(a1) */
    ori x0, a1, 3           /* prefetch.w 0(a1) */
    ld a0, 0(a1)
    CHECK a0, -1

    /* ---------------- permissions from S-mode */
    TESTCASE 10
    csrwi CSR_MENVCFG, 0
    GOTO_S
    la a1, buf
    ILLEGAL_M cbo.zero a1
    ILLEGAL_M cbo.clean a1
    ILLEGAL_M cbo.flush a1
    ILLEGAL_M cbo.inval a1
    GOTO_M
    TESTCASE 11
    li a0, ENVCFG_CBZE | ENVCFG_CBCFE | ENVCFG_CBIE_INVAL
    csrw CSR_MENVCFG, a0
    FILL_BUF
    GOTO_S
    la a1, buf
    cbo.zero a1
    cbo.clean a1
    cbo.flush a1
    cbo.inval a1
    GOTO_M
    la a1, buf
    ld a0, 0(a1)
    CHECK a0, 0

    /* ---------------- permissions from U-mode: both envcfg levels */
    TESTCASE 20
    li a0, ENVCFG_CBZE | ENVCFG_CBCFE | ENVCFG_CBIE_INVAL
    csrw CSR_MENVCFG, a0
    csrwi CSR_SENVCFG, 0
    GOTO_U
    la a1, buf
    ILLEGAL_M cbo.zero a1
    ILLEGAL_M cbo.clean a1
    ILLEGAL_M cbo.inval a1
    GOTO_M
    TESTCASE 21
    csrwi CSR_MENVCFG, 0
    li a0, ENVCFG_CBZE | ENVCFG_CBCFE | ENVCFG_CBIE_INVAL
    csrw CSR_SENVCFG, a0
    GOTO_U
    la a1, buf
    ILLEGAL_M cbo.zero a1
    ILLEGAL_M cbo.flush a1
    ILLEGAL_M cbo.inval a1
    GOTO_M
    TESTCASE 22
    li a0, ENVCFG_CBZE | ENVCFG_CBCFE | ENVCFG_CBIE_FLUSH
    csrw CSR_MENVCFG, a0
    csrw CSR_SENVCFG, a0
    FILL_BUF
    GOTO_U
    la a1, buf + 64
    cbo.zero a1
    cbo.clean a1
    cbo.inval a1            /* CBIE = 01: performed as a flush */
    GOTO_M
    la a1, buf + 64
    ld a0, 0(a1)
    CHECK a0, 0
    csrwi CSR_MENVCFG, 0
    csrwi CSR_SENVCFG, 0

    /* ---------------- Zawrs and PAUSE complete (no reservation or a short wait) */
    TESTCASE 30
    .word 0x00d00073        /* wrs.nto */
    .word 0x01d00073        /* wrs.sto */
    la a1, buf
    lr.d a0, (a1)
    .word 0x01d00073        /* wrs.sto with a reservation: ends within a bounded time */
    .word 0x0100000f        /* pause */
    PASS

    .data
    .balign 8
block_size: .dword 0
    .balign 512
buf: .space 512
