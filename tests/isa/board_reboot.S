/* Reboot through the syscon test finisher (0x7777 at 0x100000). rvisor, without --no-reboot,
 * resets the VM: harts and devices go back to their reset state and the ELF is loaded again,
 * while the rest of RAM keeps its contents. The program keeps a record at 0x80400000, outside
 * its loaded segments:
 *   first run   no record: checks its start state, dirties its .data/.bss, the devices
 *               (UART, MSWI, PLIC) and mstatus.MIE, waits until mtime has run 500 ms, writes
 *               the record (counter = 1, a1, mtime) and the reset command;
 *   second run  counter == 1: the same a0/a1 (hart 0, the device tree), .data and .bss as in
 *               the ELF again, devices in their reset state (PC16550D master reset: IER = 0,
 *               IIR = 1, LCR = MCR = 0; ACLINT: msip = 0 and mtime cleared, so now below the
 *               recorded value; no PLIC request left over), mstatus.MIE = 0 (priv spec
 *               "Reset"); then exits through HTIF with status 0.
 * A reset that never happens fails test 11; a second reset (counter 2) fails test 20. */
#include "env.h"
#include "board.inc"

#define RECORD        0x80400000
#define REC_MAGIC     0
#define REC_COUNT     8
#define REC_DTB       16
#define REC_MTIME     24
#define MAGIC         0x7276626f6f74    /* "rvboot" */
#define DATA_MARK     0x5eed1234
#define FDT_MAGIC_LE  0xedfe0dd0        /* 0xd00dfeed, big-endian in memory */

TEST_MAIN
    mv s0, a0
    mv s1, a1
    TESTCASE 1                      /* hart 0, a1 = the device tree */
    CHECK s0, 0
    csrr a0, mhartid
    CHECK a0, 0
    TESTCASE 2
    lwu a0, 0(s1)
    CHECK a0, FDT_MAGIC_LE
    li s2, RECORD
    ld a0, REC_MAGIC(s2)
    li a1, MAGIC
    beq a0, a1, second_run

    /* ================================================================ first run */
    TESTCASE 10                     /* the loaded image as the ELF says */
    la a0, data_mark
    ld a0, 0(a0)
    CHECK a0, DATA_MARK
    la a0, bss_mark
    ld a0, 0(a0)
    CHECK a0, 0
    la a1, data_mark                /* dirty them */
    li a0, -1
    sd a0, 0(a1)
    la a1, bss_mark
    sd a0, 0(a1)
    W8 UART + UART_LCR, 0x03        /* 8N1 */
    W8 UART + UART_MCR, 0x08        /* OUT2 */
    W8 UART + UART_IER, IER_ETBEI   /* THRE interrupt: PLIC request for source 10 */
    W32 PLIC_PRIO(UART_IRQ), 1
    W32 PLIC_ENABLE(0), 1 << UART_IRQ
    W32 MSWI, 1
    csrw mie, zero
    csrsi mstatus, MSTATUS_MIE
    PENDING_BIT a0, UART_IRQ
    CHECK a0, 1
    R32 a0, MSWI
    CHECK a0, 1
    R64 s3, MTIME                   /* let mtime run 500 ms, so that its reset shows */
    li a0, 500 * TICKS_PER_MS
    bgeu s3, a0, 2f
1:  R64 s3, MTIME
    bltu s3, a0, 1b
2:  li a0, 1
    sd a0, REC_COUNT(s2)
    sd s1, REC_DTB(s2)
    sd s3, REC_MTIME(s2)
    li a0, MAGIC
    sd a0, REC_MAGIC(s2)
    fence rw, rw
    TESTCASE 11                     /* reset: does not come back */
    W32 FINISHER, FINISHER_RESET
    rdtime s3
    li a0, 2000 * TICKS_PER_MS
    add s3, s3, a0
3:  rdtime a0
    bltu a0, s3, 3b
    sd zero, REC_MAGIC(s2)
    FAIL

    /* ================================================================ second run */
second_run:
    TESTCASE 20                     /* exactly one reset */
    ld a0, REC_COUNT(s2)
    addi a1, a0, 1
    sd a1, REC_COUNT(s2)
    CHECK a0, 1
    TESTCASE 21                     /* same device tree address */
    ld a0, REC_DTB(s2)
    CHECKR s1, a0
    TESTCASE 22                     /* the ELF loaded again: .data restored, .bss zeroed */
    la a0, data_mark
    ld a0, 0(a0)
    CHECK a0, DATA_MARK
    la a0, bss_mark
    ld a0, 0(a0)
    CHECK a0, 0
    TESTCASE 23                     /* mstatus.MIE = 0 after reset */
    csrr a0, mstatus
    andi a0, a0, MSTATUS_MIE
    CHECK a0, 0
    TESTCASE 24                     /* UART master reset */
    R8 a0, UART + UART_IER
    CHECK a0, 0
    R8 a0, UART + UART_IIR
    CHECK a0, IIR_NONE
    R8 a0, UART + UART_LCR
    CHECK a0, 0
    R8 a0, UART + UART_MCR
    CHECK a0, 0
    R8 a0, UART + UART_LSR
    CHECK a0, LSR_THRE | LSR_TEMT
    TESTCASE 25                     /* MSWI: msip cleared */
    R32 a0, MSWI
    CHECK a0, 0
    MIP_BIT a0, IRQ_MSI
    CHECK a0, 0
    TESTCASE 26                     /* PLIC: the old request is gone (the UART's line is */
    R32 a0, PLIC_PENDING            /* low since the reset), nothing to take or claim */
    CHECK a0, 0
    W32 PLIC_PRIO(UART_IRQ), 1
    W32 PLIC_ENABLE(0), 1 << UART_IRQ
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, 0
    W32 PLIC_ENABLE(0), 0
    W32 PLIC_PRIO(UART_IRQ), 0
    TESTCASE 27                     /* MTIMER: mtime was cleared at reset */
    R64 a0, MTIME
    ld a1, REC_MTIME(s2)
    sltu a0, a0, a1
    CHECK a0, 1
    sd zero, REC_MAGIC(s2)
    PASS

    .data
    .balign 8
data_mark: .dword DATA_MARK
    .bss
    .balign 8
bss_mark:  .space 8
