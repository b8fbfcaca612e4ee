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

#define TEST_MAIN_END()                                               \
    do {                                                              \
        printf("%d passed, %d failed\n", test_passed, test_failed);   \
        return test_failed ? 1 : 0;                                   \
    } while (0)

#endif
