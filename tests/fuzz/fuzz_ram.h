/* Guest RAM for the fuzz targets: one anonymous mapping with an inaccessible guard page on each
 * side, so that an access just outside RAM faults at once (ASan does not watch mmap'd memory),
 * and FUZZ_CHECK, which reports a broken invariant as a crash that libFuzzer saves. */
#ifndef RV_FUZZ_RAM_H
#define RV_FUZZ_RAM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define FUZZ_GUARD 4096u

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* Maps `size` bytes (a multiple of 4 KiB) between two PROT_NONE guard pages. */
static inline uint8_t *fuzz_ram_map(size_t size)
{
    uint8_t *p = mmap(NULL, size + 2 * FUZZ_GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    FUZZ_CHECK(p != MAP_FAILED);
    FUZZ_CHECK(mprotect(p + FUZZ_GUARD, size, PROT_READ | PROT_WRITE) == 0);
    return p + FUZZ_GUARD;
}

#endif
