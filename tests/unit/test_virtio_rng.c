/* virtio-rng: identification, buffers filled with random bytes (and different each time),
 * the per-request bound, requests without writable room, save/load. */
#include <stdlib.h>
#include <string.h>

#include "core/serial.h"
#include "dev/virtio_rng.h"
#include "test.h"
#include "virtio_driver.h"

#define F_BASE (1ull << VIRTIO_F_VERSION_1)

static void rig(struct vdrv *d)
{
    CHECK(vd_init(d));
    struct rv_irq irq = vd_rv_irq(d);
    struct rv_virtio_rng *r = NULL;
    CHECK_EQ(rv_virtio_rng_create(&d->map, NULL, VD_BASE, &irq, &d->dev_lock, &d->bus, &r), 0);
    CHECK(r != NULL);
    CHECK(vd_attach(d));
}

static unsigned zeros(const uint8_t *p, size_t n)
{
    unsigned z = 0;
    for (size_t i = 0; i < n; i++)
        z += p[i] == 0;
    return z;
}

static void test_fill(void)
{
    struct vdrv d;
    rig(&d);
    CHECK_EQ(vd_rd32(&d, VR_DEVICE_ID), 4);
    CHECK(vd_setup(&d, F_BASE, 1, 8) & VS_DRIVER_OK);
    uint64_t a = vd_alloc(&d, 32, 1), b = vd_alloc(&d, 64, 1);
    struct vd_seg s[2] = {{a, 32, true}, {b, 64, true}};
    uint16_t head = vd_submit(&d, 0, s, 2);
    vd_kick(&d, 0);
    uint32_t id, len;
    CHECK(vd_get_used(&d, 0, &id, &len));
    CHECK_EQ(id, head);
    CHECK_EQ(len, 96);
    CHECK(zeros(vd_ptr(&d, a), 32) < 8); /* 96 random bytes: a handful of zeros at most */
    CHECK(zeros(vd_ptr(&d, b), 64) < 12);
    CHECK_EQ(vd_irq_level(&d), 1);
    /* another request gets other bytes */
    uint64_t c = vd_alloc(&d, 32, 1);
    struct vd_seg s2 = {c, 32, true};
    vd_submit(&d, 0, &s2, 1);
    vd_kick(&d, 0);
    CHECK(vd_get_used(&d, 0, &id, &len) && len == 32);
    CHECK(memcmp(vd_ptr(&d, a), vd_ptr(&d, c), 32) != 0);
    vd_free(&d);
}

static void test_bounds(void)
{
    struct vdrv d;
    rig(&d);
    CHECK(vd_setup(&d, F_BASE, 1, 8) & VS_DRIVER_OK);
    /* a request larger than the per-request bound is filled up to the bound */
    uint32_t big = RV_VIRTIO_RNG_MAX_REQUEST + 4096;
    uint64_t g = vd_alloc(&d, big, 4096);
    struct vd_seg s = {g, big, true};
    vd_submit(&d, 0, &s, 1);
    vd_kick(&d, 0);
    uint32_t id, len;
    CHECK(vd_get_used(&d, 0, &id, &len));
    CHECK_EQ(len, RV_VIRTIO_RNG_MAX_REQUEST);
    CHECK_EQ(zeros((uint8_t *)vd_ptr(&d, g) + RV_VIRTIO_RNG_MAX_REQUEST, 4096), 4096);
    /* nothing writable: returned with nothing written */
    uint64_t ro = vd_alloc(&d, 16, 1);
    struct vd_seg r = {ro, 16, false};
    vd_submit(&d, 0, &r, 1);
    vd_kick(&d, 0);
    CHECK(vd_get_used(&d, 0, &id, &len) && len == 0);
    CHECK_EQ(zeros(vd_ptr(&d, ro), 16), 16);
    vd_free(&d);
}

static void test_save_load(void)
{
    struct vdrv d;
    rig(&d);
    CHECK(vd_setup(&d, F_BASE, 1, 8) & VS_DRIVER_OK);
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    CHECK_EQ(d.r->ops->save(d.r->dev, &w), 0);
    d.r->ops->reset(d.r->dev);
    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(d.r->ops->load(d.r->dev, &r), 0);
    uint64_t g = vd_alloc(&d, 16, 1);
    struct vd_seg s = {g, 16, true};
    vd_submit(&d, 0, &s, 1);
    vd_kick(&d, 0);
    uint32_t id, len;
    CHECK(vd_get_used(&d, 0, &id, &len) && len == 16);
    rv_state_reader_init(&r, w.buf, w.len - 2);
    CHECK(d.r->ops->load(d.r->dev, &r) < 0);
    rv_state_writer_free(&w);
    vd_free(&d);
}

int main(void)
{
    test_fill();
    test_bounds();
    test_save_load();
    TEST_MAIN_END();
}
