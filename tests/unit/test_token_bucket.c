/* The token bucket (core/token_bucket.h) on a fake clock: bursts, waiting times, exact
 * long-run rates, requests larger than the burst, unlimited buckets, clocks going back. */
#include <errno.h>

#include "core/token_bucket.h"
#include "test.h"

#define MS 1000000ull
#define SEC 1000000000ull

static void test_burst_then_rate(void)
{
    struct rv_token_bucket b;
    rv_tb_init(&b, 100, 10, 0); /* 100/s, bucket of 10 */
    CHECK(rv_tb_limited(&b));
    for (int i = 0; i < 10; i++) { /* the burst passes at once */
        CHECK_EQ(rv_tb_delay(&b, 1, 0), 0);
        rv_tb_take(&b, 1, 0);
    }
    CHECK_EQ(rv_tb_delay(&b, 1, 0), 10 * MS); /* then one token every 10 ms */
    CHECK_EQ(rv_tb_delay(&b, 1, 9 * MS), 1 * MS);
    CHECK_EQ(rv_tb_delay(&b, 1, 10 * MS), 0);
    rv_tb_take(&b, 1, 10 * MS);
    CHECK_EQ(rv_tb_delay(&b, 3, 10 * MS), 30 * MS);
}

/* A caller that always waits exactly as told gets exactly the rate over a long run. */
static void test_long_run_rate(void)
{
    struct rv_token_bucket b;
    rv_tb_init(&b, 1000, 50, 0);
    uint64_t now = 0, done = 0;
    while (now < 10 * SEC) {
        uint64_t d = rv_tb_delay(&b, 1, now);
        if (d) {
            now += d;
            continue;
        }
        rv_tb_take(&b, 1, now);
        done++;
    }
    /* 50 at once, then 1000/s for 10 s: the request at exactly t = 10 s is not counted. */
    CHECK_EQ(done, 50 + 10000 - 1);
}

/* Rates that do not divide 1e9: fractions of tokens are kept between refills, so 3000
 * tokens at 3/s take 1000 s (plus at most the 1 ns per wait that delays are rounded up). */
static void test_no_drift(void)
{
    struct rv_token_bucket b;
    rv_tb_init(&b, 3, 1, 0);
    rv_tb_take(&b, 1, 0);
    uint64_t now = 0;
    for (int i = 0; i < 3000; i++) {
        now += rv_tb_delay(&b, 1, now);
        CHECK_EQ(rv_tb_delay(&b, 1, now), 0);
        rv_tb_take(&b, 1, now);
    }
    CHECK(now >= 1000 * SEC && now <= 1000 * SEC + 3000);
    /* Sampling every 1 ms instead: 3 tokens a second, as well. */
    rv_tb_init(&b, 3, 3, 0);
    rv_tb_take(&b, 3, 0);
    unsigned got = 0;
    for (uint64_t t = MS; t <= 3 * SEC; t += MS) {
        while (rv_tb_delay(&b, 1, t) == 0) {
            rv_tb_take(&b, 1, t);
            got++;
        }
    }
    CHECK_EQ(got, 9);
}

/* Bytes: a request larger than the burst starts when the bucket is full and leaves a debt
 * that the next request waits out. */
static void test_large_request(void)
{
    struct rv_token_bucket b;
    rv_tb_init(&b, 1000000, 65536, 0); /* 1 MB/s, 64 KiB bucket */
    CHECK_EQ(rv_tb_delay(&b, 1 << 20, 0), 0);
    rv_tb_take(&b, 1 << 20, 0);                  /* 1 MiB: 983040 bytes of debt */
    CHECK_EQ(b.tokens, 65536 - (1 << 20));
    /* The next 4 KiB waits until the debt is paid and 4 KiB are back: 987136 us. */
    CHECK_EQ(rv_tb_delay(&b, 4096, 0), 987136000ull);
    CHECK_EQ(rv_tb_delay(&b, 4096, 987136000ull), 0);
}

static void test_refill_caps_at_burst(void)
{
    struct rv_token_bucket b;
    rv_tb_init(&b, 10, 5, 0);
    rv_tb_take(&b, 5, 0);
    CHECK_EQ(rv_tb_delay(&b, 5, 3600 * SEC), 0); /* an hour idle: only 5 saved up */
    rv_tb_take(&b, 5, 3600 * SEC);
    CHECK_EQ(rv_tb_delay(&b, 1, 3600 * SEC), 100 * MS);
}

static void test_unlimited_and_defaults(void)
{
    struct rv_token_bucket b;
    rv_tb_init(&b, 0, 0, 0);
    CHECK(!rv_tb_limited(&b));
    rv_tb_take(&b, 1ull << 50, 0);
    CHECK_EQ(rv_tb_delay(&b, 1ull << 50, 0), 0);
    rv_tb_init(&b, 1000, 0, 0);
    CHECK_EQ(b.burst, 100); /* 100 ms worth */
    rv_tb_init(&b, 5, 0, 0);
    CHECK_EQ(b.burst, 1);
    rv_tb_init(&b, UINT64_MAX, UINT64_MAX, 0); /* clamped, no overflow */
    CHECK_EQ(b.rate, RV_TB_MAX);
    CHECK_EQ(b.burst, RV_TB_MAX);
    rv_tb_take(&b, UINT64_MAX, 0);
    CHECK(rv_tb_delay(&b, 1, UINT64_MAX) == 0);
}

static void test_clock_backwards(void)
{
    struct rv_token_bucket b;
    rv_tb_init(&b, 100, 1, 50 * MS);
    rv_tb_take(&b, 1, 50 * MS);
    CHECK_EQ(rv_tb_delay(&b, 1, 10 * MS), 10 * MS); /* earlier than last: nothing added */
    CHECK_EQ(rv_tb_delay(&b, 1, 60 * MS), 0);
}

static void test_parse_rate(void)
{
    uint64_t v = 0;
    CHECK_EQ(rv_tb_parse_rate("100", false, &v), 0);
    CHECK_EQ(v, 100);
    CHECK_EQ(rv_tb_parse_rate("4M", true, &v), 0);
    CHECK_EQ(v, 4u << 20);
    CHECK_EQ(rv_tb_parse_rate("512k", true, &v), 0);
    CHECK_EQ(v, 512u << 10);
    CHECK_EQ(rv_tb_parse_rate("1G", true, &v), 0);
    CHECK_EQ(v, 1u << 30);
    const char *bad[] = {"", "0", "-1", "+5", "1.5", "4M", "12x", "1099511627777", "1025G",
                         "99999999999999999999999"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) /* "4M": not for counts */
        CHECK_EQ(rv_tb_parse_rate(bad[i], false, &v), -EINVAL);
    CHECK_EQ(rv_tb_parse_rate("1025G", true, &v), -EINVAL);
    CHECK_EQ(rv_tb_parse_rate("4MB", true, &v), -EINVAL);
    CHECK_EQ(rv_tb_parse_rate("1024G", true, &v), 0);
}

int main(void)
{
    test_parse_rate();
    test_burst_then_rate();
    test_long_run_rate();
    test_no_drift();
    test_large_request();
    test_refill_caps_at_burst();
    test_unlimited_and_defaults();
    test_clock_backwards();
    TEST_MAIN_END();
}
