/* The syscon test finisher's power-off: a value it does not know changes nothing (and reads
 * return 0); 0x5555 written to 0x100000 stops the VM with exit status 0, with no HTIF exit.
 * If the power-off is ignored the program fails with status 2 after 2 s. */
#include "env.h"
#include "board.inc"

TEST_MAIN
    TESTCASE 1                      /* other values are ignored */
    W32 FINISHER, 0x1234
    R32 a0, FINISHER
    CHECK a0, 0
    TESTCASE 2                      /* power-off */
    W32 FINISHER, FINISHER_PASS
    rdtime s1
    li a0, 2000 * TICKS_PER_MS
    add s1, s1, a0
1:  rdtime a0
    bltu a0, s1, 1b
    FAIL
