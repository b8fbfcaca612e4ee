/* Minimal test harness: CHECK records a failure and keeps going; TEST_MAIN_END prints the
 * closing "N passed, N failed" line every test binary ends with. */
#ifndef RV_TEST_H
#define RV_TEST_H

#include <inttypes.h>
#include <stdio.h>

static int test_passed, test_failed;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (cond) {                                                                 \
            test_passed++;                                                          \
        } else {                                                                    \
            test_failed++;                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

#define CHECK_EQ(a, b)                                                                    \
    do {                                                                                  \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                      \
        if (check_a_ == check_b_) {                                                       \
            test_passed++;                                                                \
        } else {                                                                          \
            test_failed++;                                                                \
            fprintf(stderr, "%s:%d: check failed: %s == %s (0x%" PRIx64 " != 0x%" PRIx64 ")\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);                      \
        }                                                                                 \
    } while (0)

/* A deterministic pseudo-random sequence for tests (xorshift64*): state *s, nonzero. */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* A number below n (0 for n = 0). */
static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return n ? rng_next(s) % n : 0;
}

#define TEST_MAIN_END()                                               \
    do {                                                              \
        printf("%d passed, %d failed\n", test_passed, test_failed);   \
        return test_failed ? 1 : 0;                                   \
    } while (0)

#endif
