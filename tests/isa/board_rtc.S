/* The goldfish RTC of the virt board (QEMU's register layout, which Linux's rtc-goldfish uses;
 * time in ns) and its interrupt, PLIC source 11:
 *   - the time runs at the rate of mtime (1 tick = 100 ns);
 *   - it can be set (TIME_HIGH, then TIME_LOW, as Linux does);
 *   - an alarm that is due fires at once (ALARM_STATUS drops); the line is the fired alarm
 *     gated by IRQ_ENABLED, lowered by CLEAR_INTERRUPT; CLEAR_ALARM disarms a pending alarm;
 *   - an alarm 20 ms ahead raises MEIP in time to wake a hart waiting in WFI. */
#include "env.h"
#include "board.inc"

#define RTC_TIME_LOW     0x00
#define RTC_TIME_HIGH    0x04
#define RTC_ALARM_STATUS 0x18
#define MS_NS            1000000

/* \reg = the RTC time: TIME_LOW, then the TIME_HIGH it latched */
.macro RTC_NOW reg
    R32 \reg, RTC + RTC_TIME_LOW
    R32 t5, RTC + RTC_TIME_HIGH
    slli t5, t5, 32
    or \reg, \reg, t5
.endm

/* alarm at the time in \reg: ALARM_HIGH, then ALARM_LOW (which arms it) */
.macro RTC_ALARM reg
    srli t5, \reg, 32
    li t6, RTC + RTC_ALARM_HIGH
    sw t5, 0(t6)
    li t6, RTC + RTC_ALARM_LOW
    sw \reg, 0(t6)
.endm

/* \reg = |a - b| for registers \a, \b */
.macro ABSDIFF reg, a, b
    sub \reg, \a, \b
    bgez \reg, .Lpos\@
    neg \reg, \reg
.Lpos\@:
.endm

TEST_MAIN
    csrw mie, zero
    W32 PLIC_ENABLE(0), 1 << RTC_IRQ
    W32 PLIC_PRIO(RTC_IRQ), 1
    W32 PLIC_THRESHOLD(0), 0
    W32 RTC + RTC_IRQ_ENABLED, 0
    W32 RTC + RTC_CLEAR_ALARM, 1
    W32 RTC + RTC_CLEAR_INTERRUPT, 1

    TESTCASE 1                      /* 50 ms of mtime are 50 ms of RTC time (+-10 ms) */
    RTC_NOW s1
    R64 s2, MTIME
    li a0, 50 * TICKS_PER_MS
    add s3, s2, a0
1:  R64 a0, MTIME
    bltu a0, s3, 1b
    RTC_NOW s4
    R64 s5, MTIME
    sub a0, s4, s1                  /* RTC ns */
    sub a1, s5, s2                  /* mtime ticks */
    li a2, 100
    mul a1, a1, a2
    ABSDIFF a0, a0, a1
    li a1, 10 * MS_NS
    sltu a0, a0, a1
    CHECK a0, 1

    TESTCASE 2                      /* set the time: 2^40 ns, then it runs on from there */
    li s1, 1 << 40
    W32 RTC + RTC_TIME_HIGH, 1 << 8
    W32 RTC + RTC_TIME_LOW, 0
    RTC_NOW a0
    sub a0, a0, s1
    li a1, 1000 * MS_NS             /* (1 s of slack for a busy host) */
    sltu a0, a0, a1
    CHECK a0, 1

    TESTCASE 3                      /* an alarm already due fires at once; line gated */
    RTC_NOW a0
    RTC_ALARM a0
    R32 a0, RTC + RTC_ALARM_STATUS
    CHECK a0, 0
    PENDING_BIT a0, RTC_IRQ         /* IRQ_ENABLED = 0: the line stays low */
    CHECK a0, 0
    W32 RTC + RTC_IRQ_ENABLED, 1    /* the fired alarm now drives the line */
    R32 a0, RTC + RTC_IRQ_ENABLED
    CHECK a0, 1
    PENDING_BIT a0, RTC_IRQ
    CHECK a0, 1
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 1
    TESTCASE 4                      /* CLEAR_INTERRUPT lowers the line; claim, complete */
    W32 RTC + RTC_CLEAR_INTERRUPT, 1
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, RTC_IRQ
    W32 PLIC_CLAIM(0), RTC_IRQ
    PENDING_BIT a0, RTC_IRQ
    CHECK a0, 0
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0

    TESTCASE 5                      /* CLEAR_ALARM disarms an alarm 20 ms ahead */
    RTC_NOW s1
    li a0, 20 * MS_NS
    add s1, s1, a0
    RTC_ALARM s1
    R32 a0, RTC + RTC_ALARM_STATUS
    CHECK a0, 1
    W32 RTC + RTC_CLEAR_ALARM, 1
    R32 a0, RTC + RTC_ALARM_STATUS
    CHECK a0, 0
    li a0, 40 * MS_NS               /* 40 ms later: nothing */
    add s1, s1, a0
2:  RTC_NOW a0
    bltu a0, s1, 2b
    PENDING_BIT a0, RTC_IRQ
    CHECK a0, 0

    TESTCASE 6                      /* an alarm 20 ms ahead wakes a WFI (MIE = 0) */
    RTC_NOW s1
    li a0, 20 * MS_NS
    add s1, s1, a0
    RTC_ALARM s1
    R32 a0, RTC + RTC_ALARM_STATUS
    CHECK a0, 1
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    li a0, MIP_MEIP
    csrw mie, a0
    rdtime s2
    li a0, 2000 * TICKS_PER_MS
    add s2, s2, a0
3:  wfi
    MIP_BIT a0, IRQ_MEI
    bnez a0, 4f
    rdtime a0
    bltu a0, s2, 3b
    FAIL
4:  csrw mie, zero
    RTC_NOW s3                      /* not before the alarm time */
    sltu a0, s3, s1
    CHECK a0, 0
    sub s3, s3, s1                  /* s3 = how late (ns), checked in test 7 */
    R32 a0, RTC + RTC_ALARM_STATUS  /* fired: no longer armed */
    CHECK a0, 0
    R32 a0, PLIC_CLAIM(0)
    CHECK a0, RTC_IRQ
    W32 RTC + RTC_CLEAR_INTERRUPT, 1
    W32 PLIC_CLAIM(0), RTC_IRQ
    MIP_BIT a0, IRQ_MEI
    CHECK a0, 0
    TESTCASE 7                      /* ... and on time (250 ms of slack for a busy host) */
    li a1, 250 * MS_NS
    bltu s3, a1, 5f
    mv a0, s3
    j rt_fail                       /* got = ns late */
5:  W32 RTC + RTC_IRQ_ENABLED, 0
    W32 PLIC_ENABLE(0), 0
    W32 PLIC_PRIO(RTC_IRQ), 0
    PASS
