/* A token bucket rate limiter (disk IOPS and bandwidth, network bandwidth). Pure: the caller
 * passes the time, so the logic is tested with a fake clock (tests/unit/test_token_bucket.c).
 *
 * Tokens accumulate at `rate` per second up to `burst`. A request of n tokens may start when
 * the bucket holds at least min(n, burst) tokens; it then takes all n, which may leave the
 * bucket in debt (negative), so a request larger than the burst is never starved and the
 * long-run average never exceeds the rate. Callers wait (rv_tb_delay) rather than drop. */
#ifndef RV_CORE_TOKEN_BUCKET_H
#define RV_CORE_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct rv_token_bucket {
    uint64_t rate;   /* tokens per second; 0: unlimited (every call says "now") */
    uint64_t burst;  /* bucket size in tokens (>= 1) */
    int64_t tokens;  /* may be negative: debt of a request larger than what was there */
    uint64_t frac;   /* sub-token remainder of the refill, in 1/1e9 tokens */
    uint64_t last;   /* time of the last refill, ns */
};

/* Largest rate and burst accepted (2^40: a terabyte per second is no limit anyway). */
#define RV_TB_MAX ((uint64_t)1 << 40)

/* A full bucket at time `now` (ns, any monotonic origin). burst 0 means rate / 10 (100 ms
 * worth), at least 1. Rates or bursts above RV_TB_MAX are clamped. */
void rv_tb_init(struct rv_token_bucket *b, uint64_t rate, uint64_t burst, uint64_t now);

static inline bool rv_tb_limited(const struct rv_token_bucket *b)
{
    return b->rate != 0;
}

/* Nanoseconds until a request of n tokens may start (0: now). Refills first. */
uint64_t rv_tb_delay(struct rv_token_bucket *b, uint64_t n, uint64_t now);

/* Takes n tokens (after rv_tb_delay() said 0, or to account for work already done). */
void rv_tb_take(struct rv_token_bucket *b, uint64_t n, uint64_t now);

/* Parses a rate for a command-line option: a decimal 1..RV_TB_MAX; with `bytes`, a K, M or G
 * suffix multiplies by 1024, 1024^2, 1024^3. Returns 0 or -EINVAL. */
int rv_tb_parse_rate(const char *s, bool bytes, uint64_t *out);

/* CLOCK_MONOTONIC in ns, for callers that use real time. */
uint64_t rv_tb_now(void);

#endif
