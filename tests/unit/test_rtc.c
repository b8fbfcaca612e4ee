/* Goldfish RTC: time from an injected clock, guest set-time, alarm and interrupt, save/load,
 * device-tree node. */
#include <libfdt.h>
#include <string.h>
#include <time.h>

#include "core/serial.h"
#include "dev/rtc.h"
#include "test.h"

#define BASE 0x101000ull

enum { TIME_LOW = 0x00, TIME_HIGH = 0x04, ALARM_LOW = 0x08, ALARM_HIGH = 0x0c,
       IRQ_ENABLED = 0x10, CLEAR_ALARM = 0x14, ALARM_STATUS = 0x18, CLEAR_INTERRUPT = 0x1c };

struct fake_irq {
    bool level;
    unsigned changes;
};

static void fake_irq_set(void *ctrl, unsigned source, bool level)
{
    struct fake_irq *f = ctrl;
    (void)source;
    f->level = level;
    f->changes++;
}

static uint64_t fake_now(void *opaque)
{
    return *(uint64_t *)opaque;
}

struct rig {
    struct rv_iomap map;
    struct fake_irq irq;
    uint64_t host; /* the injected host clock */
    struct rv_rtc *rtc;
    struct rv_region *r;
};

static void rig_init(struct rig *g, uint64_t host)
{
    memset(g, 0, sizeof(*g));
    struct rv_irq irq = {.set = fake_irq_set, .ctrl = &g->irq, .source = 11, .phandle = 3};
    CHECK_EQ(rv_rtc_create(&g->map, NULL, BASE, &irq, &g->rtc), 0);
    g->host = host;
    rv_rtc_set_clock(g->rtc, fake_now, &g->host);
    g->r = rv_iomap_find(&g->map, BASE, 4);
    CHECK(g->r != NULL);
}

static void rig_free(struct rig *g)
{
    g->r->ops->destroy(g->r->dev);
}

static uint32_t rd(struct rig *g, unsigned reg)
{
    return (uint32_t)g->r->ops->read(g->r->dev, reg, 4);
}

static void wr(struct rig *g, unsigned reg, uint32_t v)
{
    g->r->ops->write(g->r->dev, reg, v, 4);
}

static uint64_t read_time(struct rig *g)
{
    uint64_t lo = rd(g, TIME_LOW);
    return lo | (uint64_t)rd(g, TIME_HIGH) << 32;
}

static void set_time(struct rig *g, uint64_t t)
{
    /* Linux's goldfish_rtc_set_time order */
    wr(g, TIME_HIGH, (uint32_t)(t >> 32));
    wr(g, TIME_LOW, (uint32_t)t);
}

static void test_default_clock(void)
{
    struct rv_iomap map = {0};
    struct rv_rtc *rtc;
    CHECK_EQ(rv_rtc_create(&map, NULL, BASE, NULL, &rtc), 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t host = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    uint64_t v = map.regions[0].ops->read(rtc, TIME_LOW, 8);
    /* within an hour of the host's wall clock (no timing assumption beyond that) */
    CHECK(v >= host && v - host < 3600ull * 1000000000ull);
    CHECK_EQ(rv_rtc_next_alarm_ns(rtc), UINT64_MAX);
    map.regions[0].ops->destroy(rtc);
}

static void test_time_follows_clock(void)
{
    struct rig g;
    rig_init(&g, 0x123456789abcdef0ull);
    CHECK_EQ(read_time(&g), 0x123456789abcdef0ull);
    g.host += 1000;
    CHECK_EQ(read_time(&g), 0x123456789abcdef0ull + 1000);
    /* TIME_HIGH is latched by the TIME_LOW read, not live */
    CHECK_EQ(rd(&g, TIME_LOW), 0x9abcdef0u + 1000);
    g.host += 1ull << 32;
    CHECK_EQ(rd(&g, TIME_HIGH), 0x12345678u);
    CHECK_EQ(rd(&g, TIME_LOW), 0x9abcdef0u + 1000);
    CHECK_EQ(rd(&g, TIME_HIGH), 0x12345679u);
    /* a 64-bit read returns the whole time */
    CHECK_EQ(g.r->ops->read(g.r->dev, TIME_LOW, 8), g.host);
    /* narrow reads see a byte of the register */
    CHECK_EQ(g.r->ops->read(g.r->dev, TIME_HIGH + 3, 1), 0x12);
    rig_free(&g);
}

static void test_set_time(void)
{
    struct rig g;
    rig_init(&g, 5000000000ull);
    uint64_t t = 1700000000ull * 1000000000ull; /* Nov 2023 */
    set_time(&g, t);
    CHECK_EQ(read_time(&g), t);
    g.host += 2500;
    CHECK_EQ(read_time(&g), t + 2500);
    /* time can be set backwards */
    set_time(&g, 42);
    CHECK_EQ(read_time(&g), 42);
    g.host += 8;
    CHECK_EQ(read_time(&g), 50);
    /* a 64-bit write sets both halves */
    g.r->ops->write(g.r->dev, TIME_LOW, 0x0000000700000009ull, 8);
    CHECK_EQ(read_time(&g), 0x0000000700000009ull);
    /* switching clocks keeps the guest's offset */
    uint64_t other = g.host + 1;
    rv_rtc_set_clock(g.rtc, fake_now, &other);
    CHECK_EQ(read_time(&g), 0x000000070000000aull);
    /* reset keeps the clock running (battery-backed) */
    g.r->ops->reset(g.r->dev);
    CHECK_EQ(read_time(&g), 0x000000070000000aull);
    rig_free(&g);
}

static void test_alarm(void)
{
    struct rig g;
    rig_init(&g, 1000);
    set_time(&g, 1ull << 40);
    uint64_t alarm = (1ull << 40) + 500;
    wr(&g, IRQ_ENABLED, 1);
    CHECK_EQ(rd(&g, IRQ_ENABLED), 1);
    wr(&g, ALARM_HIGH, (uint32_t)(alarm >> 32));
    CHECK_EQ(rd(&g, ALARM_STATUS), 0); /* the high half alone does not arm */
    wr(&g, ALARM_LOW, (uint32_t)alarm);
    CHECK_EQ(rd(&g, ALARM_STATUS), 1);
    CHECK_EQ(rd(&g, ALARM_LOW), (uint32_t)alarm);
    CHECK_EQ(rd(&g, ALARM_HIGH), (uint32_t)(alarm >> 32));
    /* in host time: the host now is 1000, the alarm is 500 ns of guest time ahead */
    CHECK_EQ(rv_rtc_next_alarm_ns(g.rtc), 1500);
    g.host = 1499;
    rv_rtc_poll(g.rtc);
    CHECK(!g.irq.level);
    CHECK_EQ(g.irq.changes, 0);
    g.host = 1500;
    rv_rtc_poll(g.rtc);
    CHECK(g.irq.level);
    CHECK_EQ(g.irq.changes, 1);
    CHECK_EQ(rd(&g, ALARM_STATUS), 0);
    CHECK_EQ(rv_rtc_next_alarm_ns(g.rtc), UINT64_MAX);
    /* polling again does nothing new */
    rv_rtc_poll(g.rtc);
    CHECK_EQ(g.irq.changes, 1);
    /* the line is pending && enabled */
    wr(&g, IRQ_ENABLED, 0);
    CHECK(!g.irq.level);
    wr(&g, IRQ_ENABLED, 1);
    CHECK(g.irq.level);
    wr(&g, CLEAR_INTERRUPT, 1);
    CHECK(!g.irq.level);

    /* an alarm in the past fires at once */
    wr(&g, ALARM_LOW, 0);
    CHECK(g.irq.level);
    CHECK_EQ(rd(&g, ALARM_STATUS), 0);
    wr(&g, CLEAR_INTERRUPT, 1);
    CHECK(!g.irq.level);

    /* CLEAR_ALARM disarms */
    wr(&g, ALARM_LOW, (uint32_t)(alarm + 100));
    CHECK_EQ(rd(&g, ALARM_STATUS), 1);
    wr(&g, CLEAR_ALARM, 1);
    CHECK_EQ(rd(&g, ALARM_STATUS), 0);
    g.host += 1000000;
    rv_rtc_poll(g.rtc);
    CHECK(!g.irq.level);

    /* an alarm with interrupts disabled sets status but not the line; an MMIO read polls */
    wr(&g, IRQ_ENABLED, 0);
    uint64_t now = read_time(&g);
    wr(&g, ALARM_HIGH, (uint32_t)((now + 10) >> 32));
    wr(&g, ALARM_LOW, (uint32_t)(now + 10));
    g.host += 10;
    CHECK_EQ(rd(&g, ALARM_STATUS), 0);
    CHECK(!g.irq.level);
    wr(&g, IRQ_ENABLED, 1);
    CHECK(g.irq.level);
    /* reset clears alarm and interrupt state */
    g.r->ops->reset(g.r->dev);
    CHECK(!g.irq.level);
    CHECK_EQ(rd(&g, IRQ_ENABLED), 0);
    rig_free(&g);
}

static void test_save_load(void)
{
    struct rig a, b;
    rig_init(&a, 1000000);
    rig_init(&b, 0);
    set_time(&a, 7000000000ull);
    wr(&a, IRQ_ENABLED, 1);
    wr(&a, ALARM_HIGH, 3); /* 0x300000010 ns: 5.9 s after the time set */
    wr(&a, ALARM_LOW, 0x10);
    CHECK_EQ(rd(&a, ALARM_STATUS), 1);
    rd(&a, TIME_LOW);
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    CHECK_EQ(a.r->ops->save(a.r->dev, &w), 0);

    /* restore on a "host" whose clock is 3 s later: the guest has moved on by 3 s */
    b.host = a.host + 3000000000ull;
    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(b.r->ops->load(b.r->dev, &r), 0);
    CHECK_EQ(r.pos, w.len);
    CHECK_EQ(rd(&b, TIME_HIGH), 1); /* latched value restored (7e9 >> 32) */
    CHECK_EQ(read_time(&b), 10000000000ull);
    CHECK_EQ(rd(&b, IRQ_ENABLED), 1);
    CHECK_EQ(rd(&b, ALARM_STATUS), 1);
    CHECK_EQ(rd(&b, ALARM_LOW), 0x10);
    CHECK_EQ(rd(&b, ALARM_HIGH), 3);
    CHECK(!b.irq.level);
    CHECK_EQ(rv_rtc_next_alarm_ns(b.rtc), b.host + (0x300000010ull - 10000000000ull));
    b.host += 0x300000010ull - 10000000000ull - 1;
    rv_rtc_poll(b.rtc);
    CHECK(!b.irq.level);
    b.host += 1;
    rv_rtc_poll(b.rtc);
    CHECK(b.irq.level);

    /* an alarm that came due while saved fires on load, and the line follows */
    struct rig c;
    rig_init(&c, a.host + 100000000000ull);
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(c.r->ops->load(c.r->dev, &r), 0);
    CHECK(c.irq.level);
    CHECK_EQ(rd(&c, ALARM_STATUS), 0);

    /* truncations and bad values are rejected, leaving the device as it was */
    uint64_t before = read_time(&b);
    for (size_t len = 0; len < w.len; len++) {
        rv_state_reader_init(&r, w.buf, len);
        CHECK(b.r->ops->load(b.r->dev, &r) < 0);
    }
    uint8_t bad[64];
    CHECK(w.len <= sizeof(bad));
    memcpy(bad, w.buf, w.len);
    bad[0] = 9; /* version */
    rv_state_reader_init(&r, bad, w.len);
    CHECK(b.r->ops->load(b.r->dev, &r) < 0);
    memcpy(bad, w.buf, w.len);
    bad[w.len - 1] |= 0x08; /* unknown flag */
    rv_state_reader_init(&r, bad, w.len);
    CHECK(b.r->ops->load(b.r->dev, &r) < 0);
    CHECK_EQ(read_time(&b), before);
    CHECK(b.irq.level);

    rv_state_writer_free(&w);
    rig_free(&a);
    rig_free(&b);
    rig_free(&c);
}

static void test_fdt(void)
{
    static uint8_t blob[65536];
    CHECK_EQ(fdt_create_empty_tree(blob, sizeof(blob)), 0);
    int soc = fdt_add_subnode(blob, 0, "soc");
    fdt_setprop_u32(blob, soc, "#address-cells", 2);
    fdt_setprop_u32(blob, soc, "#size-cells", 2);
    struct rv_fdt f = {.blob = blob, .soc = soc};
    struct rv_iomap map = {0};
    struct fake_irq fi = {0};
    struct rv_irq irq = {.set = fake_irq_set, .ctrl = &fi, .source = 11, .phandle = 5};
    struct rv_rtc *rtc;
    CHECK_EQ(rv_rtc_create(&map, &f, BASE, &irq, &rtc), 0);
    CHECK_EQ(f.error, 0);
    int node = fdt_path_offset(blob, "/soc/rtc@101000");
    CHECK(node >= 0);
    int len;
    const char *compat = fdt_getprop(blob, node, "compatible", &len);
    CHECK(compat && len == 20 && strcmp(compat, "google,goldfish-rtc") == 0);
    const fdt64_t *reg = fdt_getprop(blob, node, "reg", &len);
    CHECK(reg && len == 16);
    if (reg && len == 16) {
        CHECK_EQ(fdt64_ld(&reg[0]), BASE);
        CHECK_EQ(fdt64_ld(&reg[1]), 0x1000);
    }
    const fdt32_t *p = fdt_getprop(blob, node, "interrupts", &len);
    CHECK(p && len == 4 && fdt32_to_cpu(*p) == 11);
    p = fdt_getprop(blob, node, "interrupt-parent", &len);
    CHECK(p && len == 4 && fdt32_to_cpu(*p) == 5);
    map.regions[0].ops->destroy(rtc);
}

int main(void)
{
    test_default_clock();
    test_time_follows_clock();
    test_set_time();
    test_alarm();
    test_save_load();
    test_fdt();
    TEST_MAIN_END();
}
