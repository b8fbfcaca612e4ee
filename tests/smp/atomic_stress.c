/* SMP stress test run inside the Linux guest: N threads each add 1 to shared counters 10^6
 * times with AMOADD (amoadd.w / amoadd.d) and with LR/SC retry loops; the totals must be exact.
 * Prints "atomic-stress: ok N" or the wrong totals and exits non-zero. Built static with
 * Debian's riscv64 cross compiler. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ITERATIONS 1000000

static uint32_t amo_w;
static uint64_t amo_d;
static uint32_t lrsc_w;
static uint64_t lrsc_d;

static void lrsc_add_w(uint32_t *p)
{
    uint32_t tmp, fail;
    __asm__ volatile("1: lr.w.aq %0, (%2)\n"
                     "   addiw %0, %0, 1\n"
                     "   sc.w.rl %1, %0, (%2)\n"
                     "   bnez %1, 1b\n"
                     : "=&r"(tmp), "=&r"(fail)
                     : "r"(p)
                     : "memory");
}

static void lrsc_add_d(uint64_t *p)
{
    uint64_t tmp, fail;
    __asm__ volatile("1: lr.d.aq %0, (%2)\n"
                     "   addi %0, %0, 1\n"
                     "   sc.d.rl %1, %0, (%2)\n"
                     "   bnez %1, 1b\n"
                     : "=&r"(tmp), "=&r"(fail)
                     : "r"(p)
                     : "memory");
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERATIONS; i++) {
        __atomic_fetch_add(&amo_w, 1, __ATOMIC_RELAXED); /* amoadd.w */
        __atomic_fetch_add(&amo_d, 1, __ATOMIC_SEQ_CST); /* amoadd.d.aqrl */
        lrsc_add_w(&lrsc_w);
        lrsc_add_d(&lrsc_d);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    if (threads < 1 || threads > 64)
        return 2;
    pthread_t t[64];
    for (int i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, worker, NULL) != 0)
            return 2;
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    uint64_t want = (uint64_t)threads * ITERATIONS;
    if (amo_w != (uint32_t)want || amo_d != want || lrsc_w != (uint32_t)want || lrsc_d != want) {
        printf("atomic-stress: WRONG amo.w=%u amo.d=%llu lrsc.w=%u lrsc.d=%llu want %llu\n",
               amo_w, (unsigned long long)amo_d, lrsc_w, (unsigned long long)lrsc_d,
               (unsigned long long)want);
        return 1;
    }
    printf("atomic-stress: ok %llu\n", (unsigned long long)want);
    return 0;
}
