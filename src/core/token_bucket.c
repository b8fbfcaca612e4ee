/* Token bucket (token_bucket.h). Refill arithmetic is exact: tokens are added as
 * rate * elapsed / 1e9 with the remainder kept, so no rounding drift accumulates. */
#include "core/token_bucket.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define NS 1000000000ull

void rv_tb_init(struct rv_token_bucket *b, uint64_t rate, uint64_t burst, uint64_t now)
{
    if (rate > RV_TB_MAX)
        rate = RV_TB_MAX;
    if (burst == 0)
        burst = rate / 10;
    if (burst == 0)
        burst = 1;
    if (burst > RV_TB_MAX)
        burst = RV_TB_MAX;
    b->rate = rate;
    b->burst = burst;
    b->tokens = (int64_t)burst;
    b->frac = 0;
    b->last = now;
}

static void refill(struct rv_token_bucket *b, uint64_t now)
{
    if (now <= b->last)
        return; /* a clock that went backwards adds nothing */
    uint64_t elapsed = now - b->last;
    b->last = now;
    if (b->tokens >= (int64_t)b->burst)
        return;
    /* rate <= 2^40 and elapsed < 2^64: the product fits in 128 bits. */
    unsigned __int128 total = (unsigned __int128)b->rate * elapsed + b->frac;
    unsigned __int128 add = total / NS;
    uint64_t room = (uint64_t)((int64_t)b->burst - b->tokens);
    if (add >= room) {
        b->tokens = (int64_t)b->burst;
        b->frac = 0;
    } else {
        b->tokens += (int64_t)add;
        b->frac = (uint64_t)(total % NS);
    }
}

uint64_t rv_tb_delay(struct rv_token_bucket *b, uint64_t n, uint64_t now)
{
    if (!b->rate)
        return 0;
    refill(b, now);
    int64_t need = (int64_t)(n < b->burst ? n : b->burst);
    if (b->tokens >= need)
        return 0;
    /* Time until tokens reach `need`, rounded up to whole ns. */
    unsigned __int128 missing = (unsigned __int128)(uint64_t)(need - b->tokens) * NS - b->frac;
    return (uint64_t)((missing + b->rate - 1) / b->rate);
}

void rv_tb_take(struct rv_token_bucket *b, uint64_t n, uint64_t now)
{
    if (!b->rate)
        return;
    refill(b, now);
    if (n > RV_TB_MAX)
        n = RV_TB_MAX;
    b->tokens -= (int64_t)n;
    /* Debt is bounded by one request, so the bucket can always recover. */
    if (b->tokens < -(int64_t)RV_TB_MAX)
        b->tokens = -(int64_t)RV_TB_MAX;
}

uint64_t rv_tb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

int rv_tb_parse_rate(const char *s, bool bytes, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (bytes && end[0] && !end[1]) {
        char u = end[0] & ~0x20; /* upper case */
        shift = u == 'K' ? 10 : u == 'M' ? 20 : u == 'G' ? 30 : 0;
        end += shift != 0;
    }
    if (errno || end == s || *end || *s < '0' || *s > '9' || v == 0 || v > (RV_TB_MAX >> shift))
        return -EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}
