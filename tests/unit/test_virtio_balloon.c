/* virtio-balloon: features and configuration (target, actual), inflate releasing exactly the
 * named pages (they read back as zeros: MADV_DONTNEED on private anonymous memory), frame
 * numbers outside RAM ignored, deflate, the statistics protocol (primed before DRIVER_OK as
 * Linux does, request/refresh, stale-age polling), reset and save/load. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/serial.h"
#include "dev/virtio_balloon.h"
#include "test.h"
#include "virtio_driver.h"

#define INFLATEQ 0
#define DEFLATEQ 1
#define STATSQ 2
#define F_STATS (1ull << 1)
#define F_DEFLATE_ON_OOM (1ull << 2)
#define F_BASE (1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_EVENT_IDX)
#define RAM_PAGES (VD_RAM_SIZE / 4096)

static struct rv_virtio_balloon *rig(struct vdrv *d)
{
    CHECK(vd_init(d));
    struct rv_irq irq = vd_rv_irq(d);
    struct rv_virtio_balloon *b = NULL;
    CHECK_EQ(rv_virtio_balloon_create(&d->map, NULL, VD_BASE, &irq, &d->dev_lock, &d->bus, &b),
             0);
    CHECK(vd_attach(d));
    return b;
}

/* Sends an array of frame numbers on `q` and waits for it to be used. */
static bool send_pfns(struct vdrv *d, unsigned q, const uint32_t *pfn, unsigned n)
{
    uint64_t g = vd_alloc(d, 4ull * n, 4);
    memcpy(vd_ptr(d, g), pfn, 4ull * n);
    struct vd_seg s = {g, 4 * n, false};
    vd_submit(d, q, &s, 1);
    vd_kick(d, q);
    uint32_t id, len;
    return vd_get_used(d, q, &id, &len) && len == 0;
}

/* A stats buffer of {le16 tag, le64 value} entries, published on the statsq (no notify). */
static void stats_buffer(struct vdrv *d, const uint16_t *tag, const uint64_t *val, unsigned n)
{
    uint64_t g = vd_alloc(d, 10ull * n, 2);
    uint8_t *p = vd_ptr(d, g);
    for (unsigned i = 0; i < n; i++) {
        memcpy(p + 10 * i, &tag[i], 2);
        memcpy(p + 10 * i + 2, &val[i], 8);
    }
    struct vd_seg s = {g, 10 * n, false};
    vd_submit(d, STATSQ, &s, 1);
}

static void test_config(void)
{
    struct vdrv d;
    struct rv_virtio_balloon *b = rig(&d);
    CHECK_EQ(vd_rd32(&d, VR_DEVICE_ID), 5);
    CHECK_EQ(vd_device_features(&d) & 0xffffff, F_STATS | F_DEFLATE_ON_OOM);
    CHECK(vd_setup(&d, F_BASE | F_DEFLATE_ON_OOM, 2, 16) & VS_DRIVER_OK);
    vd_ack(&d);
    CHECK_EQ(rv_virtio_balloon_set_target(b, RAM_PAGES + 1), -EINVAL);
    uint32_t gen = vd_rd32(&d, VR_GENERATION);
    CHECK_EQ(rv_virtio_balloon_set_target(b, 300), 0);
    CHECK_EQ(vd_rd32(&d, VR_CONFIG), 300);
    CHECK_EQ(rv_virtio_balloon_target(b), 300);
    CHECK_EQ(vd_rd32(&d, VR_GENERATION), gen + 1);
    CHECK_EQ(vd_ack(&d), 2); /* configuration change */
    CHECK_EQ(rv_virtio_balloon_set_target(b, 300), 0); /* unchanged: no interrupt */
    CHECK_EQ(vd_rd32(&d, VR_INT_STATUS), 0);
    /* the driver reports `actual`; num_pages is not writable */
    vd_wr32(&d, VR_CONFIG + 4, 123);
    CHECK_EQ(rv_virtio_balloon_actual(b), 123);
    vd_wr(&d, VR_CONFIG + 5, 0x01, 1);
    CHECK_EQ(rv_virtio_balloon_actual(b), 0x17b);
    vd_wr32(&d, VR_CONFIG, 7);
    CHECK_EQ(vd_rd32(&d, VR_CONFIG), 300);
    CHECK_EQ(vd_rd32(&d, VR_CONFIG + 8), 0);
    /* a reset empties the balloon from the driver's point of view; the target stays */
    vd_wr32(&d, VR_STATUS, 0);
    CHECK_EQ(rv_virtio_balloon_actual(b), 0);
    CHECK_EQ(rv_virtio_balloon_target(b), 300);
    vd_free(&d);
}

static void test_inflate(void)
{
    struct vdrv d;
    struct rv_virtio_balloon *b = rig(&d);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    uint64_t first = VD_RAM_BASE + 0x400000; /* away from the rings */
    uint8_t *p = vd_ptr(&d, first);
    memset(p, 0xa5, 6 * 4096);
    uint32_t base_pfn = (uint32_t)(first >> 12);
    /* pages 1, 2, 3 (one run) and 5; plus frames outside RAM, which are ignored */
    uint32_t pfns[] = {base_pfn + 1, base_pfn + 2, base_pfn + 3, 0x1234, base_pfn + 5,
                       (uint32_t)((VD_RAM_BASE + VD_RAM_SIZE) >> 12), 0xffffffffu};
    CHECK(send_pfns(&d, INFLATEQ, pfns, 7));
    CHECK_EQ(rv_virtio_balloon_released(b), 4);
    static const unsigned zeroed[6] = {0, 1, 1, 1, 0, 1};
    for (unsigned pg = 0; pg < 6; pg++) {
        const uint8_t *q = p + pg * 4096;
        unsigned expect = zeroed[pg] ? 0 : 0xa5;
        CHECK_EQ(q[0], expect);
        CHECK_EQ(q[4095], expect);
    }
    CHECK_EQ(vd_irq_level(&d), 1);
    /* deflate: acknowledged, nothing else; the page is usable again */
    uint32_t back[] = {base_pfn + 1};
    CHECK(send_pfns(&d, DEFLATEQ, back, 1));
    p[4096] = 7;
    CHECK_EQ(p[4096], 7);
    CHECK_EQ(rv_virtio_balloon_released(b), 4);
    /* the last page of RAM is fine */
    uint32_t last[] = {(uint32_t)((VD_RAM_BASE + VD_RAM_SIZE - 4096) >> 12)};
    CHECK(send_pfns(&d, INFLATEQ, last, 1));
    CHECK_EQ(rv_virtio_balloon_released(b), 5);
    vd_free(&d);
}

static void test_stats(void)
{
    struct vdrv d;
    struct rv_virtio_balloon *b = rig(&d);
    struct rv_balloon_stats st;
    rv_virtio_balloon_stats(b, 0, &st);
    CHECK_EQ(st.updates, 0);
    CHECK_EQ(rv_virtio_balloon_request_stats(b), -EAGAIN);
    /* Linux: queues, then the primed stats buffer and its notify, then DRIVER_OK */
    CHECK(vd_negotiate(&d, F_BASE | F_STATS) & VS_FEATURES_OK);
    for (unsigned q = 0; q < 3; q++)
        vd_queue_setup(&d, q, 16);
    uint16_t tags[] = {4, 5, 99, 3};
    uint64_t vals[] = {1000, 5000, 42, 77};
    stats_buffer(&d, tags, vals, 4);
    vd_kick(&d, STATSQ);
    vd_wr32(&d, VR_STATUS, VS_ACK | VS_DRIVER | VS_FEATURES_OK | VS_DRIVER_OK);
    rv_virtio_balloon_stats(b, 0, &st);
    CHECK_EQ(st.updates, 1);
    CHECK_EQ(st.valid, 1u << 4 | 1u << 5 | 1u << 3);
    CHECK_EQ(st.value[RV_BALLOON_S_MEMFREE], 1000);
    CHECK_EQ(st.value[RV_BALLOON_S_MEMTOT], 5000);
    CHECK_EQ(st.value[RV_BALLOON_S_MINFLT], 77);
    uint32_t id, len;
    CHECK(!vd_get_used(&d, STATSQ, &id, &len)); /* the device holds the buffer */
    /* asking for fresh values returns it */
    vd_ack(&d);
    CHECK_EQ(rv_virtio_balloon_request_stats(b), 0);
    CHECK(vd_get_used(&d, STATSQ, &id, &len) && len == 0);
    CHECK_EQ(vd_irq_level(&d), 1);
    CHECK_EQ(rv_virtio_balloon_request_stats(b), -EAGAIN);
    vals[0] = 2000;
    stats_buffer(&d, tags, vals, 2);
    vd_kick(&d, STATSQ);
    rv_virtio_balloon_stats(b, 0, &st);
    CHECK_EQ(st.updates, 2);
    CHECK_EQ(st.value[RV_BALLOON_S_MEMFREE], 2000);
    /* polling with a maximum age: stale values make the device ask again */
    nanosleep(&(struct timespec){0, 3000000}, NULL);
    rv_virtio_balloon_stats(b, 1, &st);
    CHECK(st.age_ns >= 1000000);
    CHECK(vd_get_used(&d, STATSQ, &id, &len));
    /* save with the buffer held, restore, and the buffer comes back with its own head */
    stats_buffer(&d, tags, vals, 2);
    uint16_t held = (uint16_t)(d.q[STATSQ].next_desc - 1);
    vd_kick(&d, STATSQ);
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    CHECK_EQ(d.r->ops->save(d.r->dev, &w), 0);
    vd_wr32(&d, VR_STATUS, 0); /* reset drops the held buffer */
    CHECK_EQ(rv_virtio_balloon_request_stats(b), -EAGAIN);
    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(d.r->ops->load(d.r->dev, &r), 0);
    rv_virtio_balloon_stats(b, 0, &st);
    CHECK_EQ(st.updates, 3);
    CHECK_EQ(rv_virtio_balloon_request_stats(b), 0);
    CHECK(vd_get_used(&d, STATSQ, &id, &len) && id == held);
    rv_state_reader_init(&r, w.buf, w.len - 8);
    CHECK(d.r->ops->load(d.r->dev, &r) < 0);
    rv_state_writer_free(&w);
    vd_free(&d);
}

int main(void)
{
    rv_log_set_level(RV_LOG_ERROR); /* frames outside RAM are logged as warnings */
    test_config();
    test_inflate();
    test_stats();
    TEST_MAIN_END();
}
