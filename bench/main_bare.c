/* Bare-metal wrapper: runs the workload, then prints the checksum, the retired instruction
 * count and the elapsed guest time (10 MHz `time` CSR) through HTIF. */
#include <stdint.h>

#include "workload.h"

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64)));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(64)));

static void putc_htif(char c)
{
    tohost = (1ull << 56) | (1ull << 48) | (uint8_t)c;
    while (!fromhost)
        ;
    fromhost = 0;
}

static void puts_htif(const char *s)
{
    while (*s)
        putc_htif(*s++);
}

static void putu(uint64_t v)
{
    char b[24];
    int n = 0;
    do {
        b[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        putc_htif(b[--n]);
}

static inline uint64_t rd_instret(void)
{
    uint64_t v;
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
    return v;
}

static inline uint64_t rd_time(void)
{
    uint64_t v;
    __asm__ volatile("csrr %0, time" : "=r"(v));
    return v;
}

void bench_main(void);
void bench_main(void)
{
    uint64_t i0 = rd_instret(), t0 = rd_time();
    uint64_t sum = workload(BENCH_ROUNDS);
    uint64_t i1 = rd_instret(), t1 = rd_time();
    puts_htif("checksum ");
    putu(sum);
    puts_htif(" instret ");
    putu(i1 - i0);
    puts_htif(" time_us ");
    putu((t1 - t0) / 10);
    puts_htif("\n");
    tohost = 1;
    for (;;)
        ;
}
