/* Two harts (run with --smp 2): both enter the program in M-mode at the entry point with
 * a0 = hart id. Hart 1 waits in WFI (MIE = 1) for a machine software interrupt that hart 0
 * sends through msip[1] (ACLINT MSWI), then waits for its own timer (mtimecmp[1]) and for a
 * supervisor software interrupt through setssip[1] (SSWI); hart 0 checks that none of these
 * reached hart 0. Then both harts add 1 to shared counters 100000 times each with amoadd.w,
 * with lr.w/sc.w and with lr.d/sc.d loops; hart 0 checks the totals and exits.
 * Hart 1 never touches tohost or the runtime's trap handler: it reports a failure by storing
 * an error number in h1_err (which hart 0 turns into its exit status) and stopping. */
/* isa-options: --smp 2 */
#include "env.h"
#include "board.inc"

#define N 100000

/* hart 1's progress (h1_phase) */
#define PH_READY     1      /* waiting for the MSI */
#define PH_TIMER     2      /* took the MSI, timer test running */
#define PH_SSI       3      /* waiting for the SSI */
#define PH_GO        4      /* took the SSI, waiting for `go` */

/* hart 1's errors (exit status of the program) */
#define E1_HARTID    101    /* a0 or mhartid is not 1 */
#define E1_CAUSE     102    /* trap other than the MSI */
#define E1_TIMER     103    /* mtimecmp[1] did not raise MTIP on hart 1 in time */
#define E1_MTIP      104    /* MTIP stayed after mtimecmp[1] moved away */
#define E1_SSI       105    /* no SSIP on hart 1 in time */

/* Hart 0: waits up to 5 s for h1_phase >= \ph; fails with the hart 1 error if there is one. */
.macro WAIT_PHASE ph
    rdtime a2
    li a1, 5000 * TICKS_PER_MS
    add a2, a2, a1
.Lwait\@:
    la t6, h1_err
    ld a0, 0(t6)
    bnez a0, hart1_failed
    la t6, h1_phase
    ld a0, 0(t6)
    li a1, \ph
    bgeu a0, a1, .Ldone\@
    rdtime a1
    bltu a1, a2, .Lwait\@
    li a1, \ph
    j rt_fail               /* a0 = phase reached, a1 = phase expected */
.Ldone\@:
    fence r, rw
.endm

/* Hart 1: h1_phase = \ph, after everything before it */
.macro SET_PHASE ph
    fence rw, w
    li t0, \ph
    la t1, h1_phase
    sd t0, 0(t1)
.endm

/* Hart 1: stop with error \e */
.macro H1_FAIL e
    li a0, \e
    j h1_fail
.endm

/* The three counting loops; a0 = N. Uses t0-t4. */
.macro COUNT
    li t0, N
    la t1, cnt_amo
    li t2, 1
1:  amoadd.w zero, t2, (t1)
    addi t0, t0, -1
    bnez t0, 1b
    li t0, N
    la t1, cnt_lrsc_w
2:  lr.w t3, (t1)
    addiw t3, t3, 1
    sc.w t4, t3, (t1)
    bnez t4, 2b
    addi t0, t0, -1
    bnez t0, 2b
    li t0, N
    la t1, cnt_lrsc_d
3:  lr.d.aqrl t3, (t1)
    addi t3, t3, 1
    sc.d.aqrl t4, t3, (t1)
    bnez t4, 3b
    addi t0, t0, -1
    bnez t0, 3b
.endm

TEST_MAIN
    bnez a0, hart1

    /* ================================================================ hart 0 */
    TESTCASE 1
    csrr a0, mhartid
    CHECK a0, 0
    csrw mie, zero
    W64 MTIMER, -1                  /* hart 0's timer off */
    TESTCASE 2                      /* hart 1 is running and waits for its MSI */
    WAIT_PHASE PH_READY
    TESTCASE 3                      /* MSI to hart 1 only */
    W32 MSWI + 4, 1
    MIP_BIT a0, IRQ_MSI
    CHECK a0, 0
    R32 a0, MSWI
    CHECK a0, 0
    TESTCASE 4                      /* hart 1 took it (and cleared msip[1]), then its timer */
    WAIT_PHASE PH_SSI
    la t6, h1_cause
    ld a0, 0(t6)
    CHECK a0, CAUSE_IRQ | IRQ_MSI
    R32 a0, MSWI + 4
    CHECK a0, 0
    TESTCASE 5                      /* hart 1's timer did not reach hart 0 */
    MIP_BIT a0, IRQ_MTI
    CHECK a0, 0
    TESTCASE 6                      /* SSI to hart 1 only */
    csrci mip, MIP_SSIP
    W32 SSWI + 4, 1
    WAIT_PHASE PH_GO
    MIP_BIT a0, IRQ_SSI
    CHECK a0, 0
    TESTCASE 7                      /* both count at once */
    fence rw, w
    li a0, 1
    la t6, go
    sd a0, 0(t6)
    COUNT
    rdtime a2                       /* wait (5 s at most) for hart 1 to finish */
    li a1, 5000 * TICKS_PER_MS
    add a2, a2, a1
4:  la t6, h1_err
    ld a0, 0(t6)
    bnez a0, hart1_failed
    la t6, h1_done
    ld a0, 0(t6)
    bnez a0, 5f
    rdtime a1
    bltu a1, a2, 4b
    FAIL
5:  fence r, rw
    TESTCASE 8
    la t6, cnt_amo
    lwu a0, 0(t6)
    CHECK a0, 2 * N
    TESTCASE 9
    la t6, cnt_lrsc_w
    lwu a0, 0(t6)
    CHECK a0, 2 * N
    TESTCASE 10
    la t6, cnt_lrsc_d
    ld a0, 0(t6)
    CHECK a0, 2 * N
    PASS

hart1_failed:                       /* a0 = hart 1's error number */
    mv gp, a0
    li a1, 0
    j rt_fail

    /* ================================================================ hart 1 */
hart1:
    li t0, 1
    beq a0, t0, 1f
    bgtu a0, t0, h1_park            /* harts 2 and up (--smp > 2) only wait */
    H1_FAIL E1_HARTID
1:  csrr t0, mhartid
    li t1, 1
    beq t0, t1, 2f
    H1_FAIL E1_HARTID
2:  la t0, h1_trap
    csrw mtvec, t0
    li t0, MIP_MSIP
    csrw mie, t0
    SET_PHASE PH_READY
    csrsi mstatus, MSTATUS_MIE
3:  la t1, h1_phase                 /* the handler moves on to PH_TIMER */
    ld t0, 0(t1)
    li t1, PH_TIMER
    beq t0, t1, 4f
    wfi
    j 3b
4:  csrci mstatus, MSTATUS_MIE
    /* own timer: mtimecmp[1] = mtime + 5 ms, WFI (MIE = 0) until MTIP */
    li t0, MIP_MTIP
    csrw mie, t0
    R64 t0, MTIME
    li t1, 5 * TICKS_PER_MS
    add t0, t0, t1
    li t1, MTIMER + 8
    sd t0, 0(t1)
    rdtime t2
    li t1, 2000 * TICKS_PER_MS
    add t2, t2, t1
5:  wfi
    MIP_BIT t0, IRQ_MTI
    bnez t0, 6f
    rdtime t0
    bltu t0, t2, 5b
    H1_FAIL E1_TIMER
6:  W64 MTIMER + 8, -1
    MIP_BIT t0, IRQ_MTI
    beqz t0, 7f
    H1_FAIL E1_MTIP
7:  /* SSI from hart 0 through setssip[1] */
    li t0, MIP_SSIP
    csrw mie, t0
    SET_PHASE PH_SSI
    rdtime t2
    li t1, 5000 * TICKS_PER_MS
    add t2, t2, t1
8:  wfi
    MIP_BIT t0, IRQ_SSI
    bnez t0, 9f
    rdtime t0
    bltu t0, t2, 8b
    H1_FAIL E1_SSI
9:  csrci mip, MIP_SSIP
    csrw mie, zero
    SET_PHASE PH_GO
10: la t1, go
    ld t0, 0(t1)
    beqz t0, 10b
    fence r, rw
    COUNT
    fence rw, w
    li t0, 1
    la t1, h1_done
    sd t0, 0(t1)
h1_park:
    csrw mie, zero
11: wfi
    j 11b

h1_fail:                            /* a0 = error number */
    la t1, h1_err
    sd a0, 0(t1)
    j h1_park

/* hart 1's trap handler: the MSI clears msip[1], records mcause and moves to PH_TIMER;
 * anything else is an error. */
    .balign 4
h1_trap:
    csrw mscratch, t0
    la t0, h1_save
    sd t1, 0(t0)
    csrr t1, mcause
    la t0, h1_cause
    sd t1, 0(t0)
    li t0, CAUSE_IRQ | IRQ_MSI
    bne t1, t0, 1f
    li t0, MSWI + 4
    sw zero, 0(t0)
    fence rw, w
    li t1, PH_TIMER
    la t0, h1_phase
    sd t1, 0(t0)
    la t0, h1_save
    ld t1, 0(t0)
    csrr t0, mscratch
    mret
1:  li a0, E1_CAUSE
    j h1_fail

    .data
    .balign 64
h1_phase:   .dword 0
h1_err:     .dword 0
h1_cause:   .dword 0
h1_done:    .dword 0
h1_save:    .dword 0
go:         .dword 0
    .balign 64
cnt_amo:    .dword 0
    .balign 64
cnt_lrsc_w: .dword 0
    .balign 64
cnt_lrsc_d: .dword 0
