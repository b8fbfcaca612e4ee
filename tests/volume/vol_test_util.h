/* Shared by the multi-process volume tests (vol_crash.c, vol_thin_share.c, vol_snap_follow.c):
 * a seeded xorshift generator, a reproducible data pattern per seed, and the exit of a child
 * or parent that hit a library error. */
#ifndef RV_VOL_TEST_UTIL_H
#define RV_VOL_TEST_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "core/error.h"

static uint64_t rng;

static inline uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* `len` bytes that depend only on `seed`. */
static inline void pattern(uint8_t *buf, uint64_t len, uint64_t seed)
{
    uint64_t x = seed | 1;
    for (uint64_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
}

/* Prints the program's name, what failed and the library's error, and exits at once. */
static inline void die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, rv_error_get());
    _exit(1);
}

#endif
