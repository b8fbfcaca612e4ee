/* virtio-console: identification, output to the console backend, input into the driver's
 * receive buffers (partial acceptance, room, no buffers), readiness, a broken transmit ring,
 * reset and save/load. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/serial.h"
#include "dev/virtio_console.h"
#include "test.h"
#include "virtio_driver.h"

#define RXQ 0
#define TXQ 1
#define F_BASE (1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_EVENT_IDX)

struct sink {
    char buf[256];
    size_t len;
    unsigned calls;
};

static void sink_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct sink *s = opaque;
    s->calls++;
    for (size_t i = 0; i < len && s->len < sizeof(s->buf) - 1; i++)
        s->buf[s->len++] = (char)buf[i];
}

static struct rv_virtio_console *rig(struct vdrv *d, struct sink *s)
{
    CHECK(vd_init(d));
    memset(s, 0, sizeof(*s));
    struct rv_irq irq = vd_rv_irq(d);
    struct rv_console con = {sink_write, s};
    struct rv_virtio_console *c = NULL;
    CHECK_EQ(rv_virtio_console_create(&d->map, NULL, VD_BASE, &irq, &d->dev_lock, &d->bus, &con,
                                      &c), 0);
    CHECK(vd_attach(d));
    return c;
}

/* Puts a receive buffer of `len` bytes on receiveq0; returns its address. */
static uint64_t rx_buffer(struct vdrv *d, uint32_t len)
{
    uint64_t g = vd_alloc(d, len, 1);
    struct vd_seg s = {g, len, true};
    vd_submit(d, RXQ, &s, 1);
    return g;
}

static void test_identity(void)
{
    struct vdrv d;
    struct sink s;
    struct rv_virtio_console *c = rig(&d, &s);
    CHECK_EQ(vd_rd32(&d, VR_DEVICE_ID), 3);
    CHECK_EQ(vd_device_features(&d) & 0xffffff, 0); /* no SIZE, MULTIPORT, EMERG_WRITE */
    CHECK_EQ(vd_rd32(&d, VR_CONFIG), 0);
    CHECK_EQ(vd_rd32(&d, VR_CONFIG + 8), 0);
    vd_wr32(&d, VR_QUEUE_SEL, 2);
    CHECK_EQ(vd_rd32(&d, VR_QUEUE_NUM_MAX), 0); /* two queues only */
    CHECK(!rv_virtio_console_active(c));
    CHECK_EQ(rv_virtio_console_receive(c, (const uint8_t *)"x", 1), 0);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    CHECK(rv_virtio_console_active(c));
    vd_wr32(&d, VR_STATUS, 0);
    CHECK(!rv_virtio_console_active(c));
    vd_free(&d);
}

static void test_output(void)
{
    struct vdrv d;
    struct sink s;
    rig(&d, &s);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    uint64_t a = vd_alloc(&d, 6, 1), b = vd_alloc(&d, 5, 1);
    memcpy(vd_ptr(&d, a), "hello ", 6);
    memcpy(vd_ptr(&d, b), "world", 5);
    struct vd_seg seg[2] = {{a, 6, false}, {b, 5, false}};
    uint16_t head = vd_submit(&d, TXQ, seg, 2);
    vd_kick(&d, TXQ);
    CHECK_EQ(s.len, 11);
    CHECK(!memcmp(s.buf, "hello world", 11));
    uint32_t id, len;
    CHECK(vd_get_used(&d, TXQ, &id, &len));
    CHECK_EQ(id, head);
    CHECK_EQ(len, 0);
    CHECK_EQ(vd_irq_level(&d), 1);
    /* several chains in one notify */
    vd_ack(&d);
    struct vd_seg one = {a, 1, false};
    vd_submit(&d, TXQ, &one, 1);
    vd_submit(&d, TXQ, &one, 1);
    vd_kick(&d, TXQ);
    CHECK_EQ(s.len, 13);
    CHECK(vd_get_used(&d, TXQ, &id, &len) && vd_get_used(&d, TXQ, &id, &len));
    /* a chain pointing outside RAM breaks the device, not the host */
    struct vd_seg bad = {VD_RAM_BASE + VD_RAM_SIZE - 2, 8, false};
    vd_submit(&d, TXQ, &bad, 1);
    vd_kick(&d, TXQ);
    CHECK(vd_rd32(&d, VR_STATUS) & VS_NEEDS_RESET);
    CHECK_EQ(s.len, 13);
    vd_free(&d);
}

static void test_input(void)
{
    struct vdrv d;
    struct sink s;
    struct rv_virtio_console *c = rig(&d, &s);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    CHECK(!rv_virtio_console_rx_room(c));
    CHECK_EQ(rv_virtio_console_receive(c, (const uint8_t *)"abc", 3), 0);
    CHECK_EQ(vd_irq_level(&d), 0);
    uint64_t b1 = rx_buffer(&d, 8), b2 = rx_buffer(&d, 8);
    CHECK(rv_virtio_console_rx_room(c));
    const char *text = "0123456789ABCDEFGHIJ";
    CHECK_EQ(rv_virtio_console_receive(c, (const uint8_t *)text, 20), 16);
    CHECK(!memcmp(vd_ptr(&d, b1), "01234567", 8));
    CHECK(!memcmp(vd_ptr(&d, b2), "89ABCDEF", 8));
    uint32_t id, len;
    CHECK(vd_get_used(&d, RXQ, &id, &len) && len == 8);
    CHECK(vd_get_used(&d, RXQ, &id, &len) && len == 8);
    CHECK_EQ(vd_irq_level(&d), 1);
    CHECK(!rv_virtio_console_rx_room(c));
    CHECK_EQ(rv_virtio_console_receive(c, (const uint8_t *)text + 16, 4), 0);
    /* the rest goes into the next buffer, which is returned partly filled */
    uint64_t b3 = rx_buffer(&d, 64);
    pthread_mutex_lock(&d.dev_lock); /* callers may hold the device lock */
    CHECK_EQ(rv_virtio_console_receive(c, (const uint8_t *)text + 16, 4), 4);
    pthread_mutex_unlock(&d.dev_lock);
    CHECK(!memcmp(vd_ptr(&d, b3), "GHIJ", 4));
    CHECK(vd_get_used(&d, RXQ, &id, &len) && len == 4);
    CHECK_EQ(rv_virtio_console_receive(c, (const uint8_t *)text, 0), 0);
    vd_free(&d);
}

static void test_save_load(void)
{
    struct vdrv d;
    struct sink s;
    struct rv_virtio_console *c = rig(&d, &s);
    CHECK(vd_setup(&d, F_BASE, 2, 16) & VS_DRIVER_OK);
    uint64_t b = rx_buffer(&d, 8);
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    CHECK_EQ(d.r->ops->save(d.r->dev, &w), 0);
    d.r->ops->reset(d.r->dev);
    CHECK(!rv_virtio_console_active(c));
    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(d.r->ops->load(d.r->dev, &r), 0);
    CHECK(rv_virtio_console_active(c));
    CHECK_EQ(rv_virtio_console_receive(c, (const uint8_t *)"ok", 2), 2);
    CHECK(!memcmp(vd_ptr(&d, b), "ok", 2));
    rv_state_reader_init(&r, w.buf, w.len - 1);
    CHECK(d.r->ops->load(d.r->dev, &r) < 0);
    rv_state_writer_free(&w);
    vd_free(&d);
}

int main(void)
{
    rv_log_set_level(RV_LOG_ERROR);
    test_identity();
    test_output();
    test_input();
    test_save_load();
    TEST_MAIN_END();
}
