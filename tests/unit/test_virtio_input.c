/* virtio-input power button (virtio 1.2 spec 5.8): the configuration space for every select,
 * event delivery (press, SYN_REPORT, release, SYN_REPORT) into the driver's buffers now or
 * when it adds some, the statusq, presses without a driver or beyond the pending limit,
 * malformed buffers, reset, and save/load with events still pending. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/log.h"
#include "core/serial.h"
#include "dev/virtio_input.h"
#include "test.h"
#include "virtio_driver.h"

#define EVENTQ 0
#define STATUSQ 1
#define F_BASE (1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_EVENT_IDX)

static struct rv_virtio_input *rig(struct vdrv *d)
{
    CHECK(vd_init(d));
    struct rv_irq irq = vd_rv_irq(d);
    struct rv_virtio_input *in = NULL;
    CHECK_EQ(rv_virtio_input_create(&d->map, NULL, VD_BASE, &irq, &d->dev_lock, &d->bus, &in),
             0);
    CHECK(vd_attach(d));
    return in;
}

/* Selects select/subsel, returns `size` and copies the union into u[128]. */
static unsigned cfg_query(struct vdrv *d, uint8_t select, uint8_t subsel, uint8_t *u)
{
    vd_wr(d, VR_CONFIG + 0, select, 1);
    vd_wr(d, VR_CONFIG + 1, subsel, 1);
    for (unsigned i = 0; i < 128; i += 4)
        rv_put_le32(u + i, vd_rd32(d, VR_CONFIG + 8 + i));
    return vd_rd(d, VR_CONFIG + 2, 1);
}

static void test_config(void)
{
    struct vdrv d;
    rig(&d);
    uint8_t u[128];
    CHECK_EQ(vd_rd32(&d, VR_DEVICE_ID), 18);
    CHECK_EQ(vd_device_features(&d) & 0xffffffull, 0); /* no feature bits (5.8.3) */
    vd_wr32(&d, VR_QUEUE_SEL, 1);
    CHECK(vd_rd32(&d, VR_QUEUE_NUM_MAX) > 0);
    vd_wr32(&d, VR_QUEUE_SEL, 2);
    CHECK_EQ(vd_rd32(&d, VR_QUEUE_NUM_MAX), 0); /* eventq and statusq only */

    CHECK_EQ(cfg_query(&d, 0x00, 0, u), 0); /* UNSET */
    unsigned n = cfg_query(&d, 0x01, 0, u);  /* ID_NAME, no NUL terminator */
    CHECK_EQ(n, strlen(RV_VIRTIO_INPUT_NAME));
    CHECK(!memcmp(u, RV_VIRTIO_INPUT_NAME, n) && u[n] == 0);
    CHECK_EQ(cfg_query(&d, 0x01, 1, u), 0); /* subsel must be zero */
    n = cfg_query(&d, 0x02, 0, u);          /* ID_SERIAL */
    CHECK(n > 0 && n < 128 && u[0] != 0);
    CHECK_EQ(cfg_query(&d, 0x03, 0, u), 8); /* ID_DEVIDS: bustype BUS_VIRTUAL */
    CHECK_EQ(rv_get_le16(u), 0x06);
    CHECK_EQ(rv_get_le16(u + 4), 1);
    CHECK_EQ(cfg_query(&d, 0x10, 0, u), 0); /* PROP_BITS: none */
    n = cfg_query(&d, 0x11, RV_INPUT_EV_KEY, u); /* EV_BITS EV_KEY: KEY_POWER (116) only */
    CHECK_EQ(n, 116 / 8 + 1);
    for (unsigned i = 0; i < 128; i++)
        CHECK_EQ(u[i], i == 116 / 8 ? 1u << (116 % 8) : 0);
    CHECK_EQ(cfg_query(&d, 0x11, RV_INPUT_EV_SYN, u), 1); /* EV_SYN: SYN_REPORT */
    CHECK_EQ(u[0], 1);
    CHECK_EQ(cfg_query(&d, 0x11, 0x02, u), 0);  /* EV_REL: not supported */
    CHECK_EQ(cfg_query(&d, 0x11, 0x03, u), 0);  /* EV_ABS */
    CHECK_EQ(cfg_query(&d, 0x12, 0x00, u), 0);  /* ABS_INFO */
    CHECK_EQ(cfg_query(&d, 0xff, 0xff, u), 0);  /* unknown select */
    /* select and subsel read back; writes elsewhere (5.8.5.1) change nothing */
    cfg_query(&d, 0x11, RV_INPUT_EV_KEY, u);
    vd_wr32(&d, VR_CONFIG + 0, 0x0111ffffu); /* 32-bit write: select 0xff, subsel 0xff ... */
    CHECK_EQ(vd_rd(&d, VR_CONFIG + 0, 1), 0xff);
    CHECK_EQ(vd_rd(&d, VR_CONFIG + 1, 1), 0xff);
    CHECK_EQ(vd_rd(&d, VR_CONFIG + 2, 1), 0); /* ... its size byte was not taken */
    vd_wr(&d, VR_CONFIG + 8, 0xaa, 1);
    CHECK_EQ(vd_rd(&d, VR_CONFIG + 8, 1), 0);
    CHECK_EQ(vd_rd32(&d, VR_CONFIG + 136), 0); /* beyond the config: reads 0 */
    vd_free(&d);
}

/* Puts `n` event buffers of `len` bytes on the eventq; returns the first one's address (the
 * rest follow, `len` apart). */
static uint64_t event_buffers(struct vdrv *d, unsigned n, uint32_t len)
{
    uint64_t base = vd_alloc(d, (uint64_t)n * len, 8);
    for (unsigned i = 0; i < n; i++) {
        struct vd_seg s = {base + (uint64_t)i * len, len, true};
        vd_submit(d, EVENTQ, &s, 1);
    }
    return base;
}

/* Takes one used eventq entry and checks it holds {type, code, value}. */
static void expect_event(struct vdrv *d, uint64_t buffers, uint16_t type, uint16_t code,
                         uint32_t value)
{
    uint32_t id, len;
    CHECK(vd_get_used(d, EVENTQ, &id, &len));
    CHECK_EQ(len, 8);
    const uint8_t *e = vd_ptr(d, buffers + 8ull * (id % d->q[EVENTQ].num));
    CHECK_EQ(rv_get_le16(e), type);
    CHECK_EQ(rv_get_le16(e + 2), code);
    CHECK_EQ(rv_get_le32(e + 4), value);
}

static void expect_press(struct vdrv *d, uint64_t buffers)
{
    expect_event(d, buffers, RV_INPUT_EV_KEY, RV_INPUT_KEY_POWER, 1);
    expect_event(d, buffers, RV_INPUT_EV_SYN, RV_INPUT_SYN_REPORT, 0);
    expect_event(d, buffers, RV_INPUT_EV_KEY, RV_INPUT_KEY_POWER, 0);
    expect_event(d, buffers, RV_INPUT_EV_SYN, RV_INPUT_SYN_REPORT, 0);
}

static void test_events(void)
{
    struct vdrv d;
    struct rv_virtio_input *in = rig(&d);
    CHECK(!rv_virtio_input_active(in));
    CHECK_EQ(rv_virtio_input_press(in, RV_INPUT_KEY_POWER), -ENODEV); /* no driver */
    CHECK_EQ(rv_virtio_input_pending(in), 0);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    CHECK(rv_virtio_input_active(in));
    CHECK_EQ(rv_virtio_input_press(in, 30), -EINVAL); /* KEY_A: not on this device */

    /* buffers first: the press is delivered at once, with an interrupt */
    uint64_t b = event_buffers(&d, 16, 8);
    CHECK_EQ(vd_irq_level(&d), 0);
    CHECK_EQ(rv_virtio_input_press(in, RV_INPUT_KEY_POWER), 0);
    CHECK_EQ(rv_virtio_input_pending(in), 0);
    CHECK_EQ(vd_irq_level(&d), 1);
    expect_press(&d, b);
    uint32_t id, len;
    CHECK(!vd_get_used(&d, EVENTQ, &id, &len));
    vd_ack(&d);
    vd_free(&d);

    /* no buffers: held, then delivered as buffers come (two, then the rest) */
    in = rig(&d);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    CHECK_EQ(rv_virtio_input_press(in, RV_INPUT_KEY_POWER), 0);
    CHECK_EQ(rv_virtio_input_pending(in), 4);
    CHECK_EQ(vd_irq_level(&d), 0);
    b = event_buffers(&d, 2, 8);
    vd_kick(&d, EVENTQ);
    CHECK_EQ(rv_virtio_input_pending(in), 2);
    expect_event(&d, b, RV_INPUT_EV_KEY, RV_INPUT_KEY_POWER, 1);
    expect_event(&d, b, RV_INPUT_EV_SYN, RV_INPUT_SYN_REPORT, 0);
    CHECK(!vd_get_used(&d, EVENTQ, &id, &len));
    uint64_t b2 = event_buffers(&d, 8, 8); /* descriptors 2..9 */
    vd_kick(&d, EVENTQ);
    CHECK_EQ(rv_virtio_input_pending(in), 0);
    expect_event(&d, b2 - 16, RV_INPUT_EV_KEY, RV_INPUT_KEY_POWER, 0);
    expect_event(&d, b2 - 16, RV_INPUT_EV_SYN, RV_INPUT_SYN_REPORT, 0);

    /* 64 pending events at most, whole presses only (the 6 buffers left take 6 events) */
    for (unsigned i = 0; i < RV_VIRTIO_INPUT_MAX_PENDING / 4 + 6; i++)
        rv_virtio_input_press(in, RV_INPUT_KEY_POWER);
    CHECK_EQ(rv_virtio_input_pending(in), RV_VIRTIO_INPUT_MAX_PENDING - 2);
    CHECK_EQ(rv_virtio_input_press(in, RV_INPUT_KEY_POWER), -EBUSY);
    CHECK_EQ(rv_virtio_input_pending(in), RV_VIRTIO_INPUT_MAX_PENDING - 2);
    /* a reset (the driver going away) drops them */
    vd_wr32(&d, VR_STATUS, 0);
    CHECK_EQ(rv_virtio_input_pending(in), 0);
    CHECK_EQ(rv_virtio_input_press(in, RV_INPUT_KEY_POWER), -ENODEV);
    vd_free(&d);
}

static void test_statusq(void)
{
    struct vdrv d;
    struct rv_virtio_input *in = rig(&d);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    uint64_t g = vd_alloc(&d, 8, 8);
    uint8_t *led = vd_ptr(&d, g); /* EV_LED LED_CAPSL on: meaningless here, given back */
    rv_put_le16(led, 0x11);
    rv_put_le16(led + 2, 1);
    rv_put_le32(led + 4, 1);
    struct vd_seg s = {g, 8, false};
    uint16_t head = vd_submit(&d, STATUSQ, &s, 1);
    vd_submit(&d, STATUSQ, &s, 1);
    vd_kick(&d, STATUSQ);
    uint32_t id, len;
    CHECK(vd_get_used(&d, STATUSQ, &id, &len));
    CHECK_EQ(id, head);
    CHECK_EQ(len, 0);
    CHECK(vd_get_used(&d, STATUSQ, &id, &len));
    CHECK(rv_virtio_input_active(in));
    vd_free(&d);
}

static void test_malformed(void)
{
    struct vdrv d;
    struct rv_virtio_input *in = rig(&d);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    /* a 4-byte buffer cannot hold an event (5.8.6.1): the device needs a reset */
    event_buffers(&d, 1, 4);
    CHECK_EQ(rv_virtio_input_press(in, RV_INPUT_KEY_POWER), 0);
    CHECK(vd_rd32(&d, VR_STATUS) & VS_NEEDS_RESET);
    CHECK(!rv_virtio_input_active(in));
    CHECK_EQ(rv_virtio_input_press(in, RV_INPUT_KEY_POWER), -ENODEV);
    vd_free(&d);

    /* a buffer outside RAM, a read-only buffer: the ring code refuses them */
    in = rig(&d);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    struct vd_seg out = {VD_RAM_BASE + VD_RAM_SIZE - 4, 8, true};
    vd_submit(&d, EVENTQ, &out, 1);
    CHECK_EQ(rv_virtio_input_press(in, RV_INPUT_KEY_POWER), 0);
    CHECK(vd_rd32(&d, VR_STATUS) & VS_NEEDS_RESET);
    vd_free(&d);
    in = rig(&d);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    struct vd_seg ro = {vd_alloc(&d, 8, 8), 8, false};
    vd_submit(&d, EVENTQ, &ro, 1);
    vd_kick(&d, EVENTQ);
    CHECK_EQ(rv_virtio_input_press(in, RV_INPUT_KEY_POWER), 0);
    CHECK(vd_rd32(&d, VR_STATUS) & VS_NEEDS_RESET);
    /* and a driver reset brings it back */
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    CHECK(rv_virtio_input_active(in));
    vd_free(&d);
}

static void test_save_load(void)
{
    struct vdrv d;
    struct rv_virtio_input *in = rig(&d);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    CHECK_EQ(rv_virtio_input_press(in, RV_INPUT_KEY_POWER), 0); /* no buffers: pending */
    uint8_t u[128];
    cfg_query(&d, 0x11, RV_INPUT_EV_KEY, u);
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    CHECK_EQ(d.r->ops->save(d.r->dev, &w), 0);
    d.r->ops->reset(d.r->dev);
    CHECK_EQ(rv_virtio_input_pending(in), 0);
    CHECK(!rv_virtio_input_active(in));
    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(d.r->ops->load(d.r->dev, &r), 0);
    CHECK(rv_virtio_input_active(in));
    CHECK_EQ(rv_virtio_input_pending(in), 4);
    CHECK_EQ(vd_rd(&d, VR_CONFIG + 0, 1), 0x11); /* the selection came back too */
    CHECK_EQ(vd_rd(&d, VR_CONFIG + 2, 1), 116 / 8 + 1);
    uint64_t b = event_buffers(&d, 4, 8);
    vd_kick(&d, EVENTQ);
    expect_press(&d, b);
    /* truncated, and a pending count beyond the limit, are refused */
    for (size_t cut = 1; cut < 16; cut++) {
        rv_state_reader_init(&r, w.buf, w.len - cut);
        CHECK(d.r->ops->load(d.r->dev, &r) < 0);
    }
    uint8_t *bad = malloc(w.len);
    memcpy(bad, w.buf, w.len);
    size_t count_at = w.len - 4 * 8 - 4; /* u32 count before four 8-byte events */
    CHECK_EQ(rv_get_le32(bad + count_at), 4);
    rv_put_le32(bad + count_at, RV_VIRTIO_INPUT_MAX_PENDING + 1);
    rv_state_reader_init(&r, bad, w.len);
    CHECK(d.r->ops->load(d.r->dev, &r) < 0);
    CHECK_EQ(rv_virtio_input_pending(in), 0); /* a refused state changed nothing */
    free(bad);
    rv_state_writer_free(&w);
    vd_free(&d);
}

int main(void)
{
    rv_log_set_level(RV_LOG_ERROR);
    test_config();
    test_events();
    test_statusq();
    test_malformed();
    test_save_load();
    TEST_MAIN_END();
}
