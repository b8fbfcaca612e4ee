/* The syscon test finisher's failure exit: writing 0x3333 | code << 16 to 0x100000 stops the
 * VM and rvisor exits with status `code` (here 5). The CTest for this program expects exit
 * status 5 (see CMakeLists.txt: "isa-exit-status"); if the write is ignored the program fails
 * with status 1 after 2 s. */
/* isa-exit-status: 5 */
#include "env.h"
#include "board.inc"

TEST_MAIN
    TESTCASE 1
    W32 FINISHER, FINISHER_FAIL | (5 << 16)
    rdtime s1
    li a0, 2000 * TICKS_PER_MS
    add s1, s1, a0
1:  rdtime a0
    bltu a0, s1, 1b
    FAIL
