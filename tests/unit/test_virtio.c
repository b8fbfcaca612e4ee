/* virtio-mmio transport and split virtqueues, driven by the fake driver of virtio_driver.h
 * against a small echo device: identification, feature negotiation, requests (direct and
 * indirect), malformed rings (every one must end in DEVICE_NEEDS_RESET, never in a host
 * access outside RAM: run under ASan), interrupt suppression (NO_INTERRUPT, EVENT_IDX),
 * reset, configuration space, save/load. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/serial.h"
#include "test.h"
#include "virtio_driver.h"

#define ECHO_ID 42
#define ECHO_F_X 3       /* a device feature bit */
#define ECHO_F_REFUSED 5 /* offered, but features_ok() refuses it */
#define F_VERSION_1 (1ull << VIRTIO_F_VERSION_1)
#define F_INDIRECT (1ull << VIRTIO_F_RING_INDIRECT_DESC)
#define F_EVENT_IDX (1ull << VIRTIO_F_RING_EVENT_IDX)
#define QN 8

struct echo {
    struct rv_virtio *vd;
    unsigned pops, bad_pops, resets, driver_oks;
    bool hold;             /* leave chains in the ring on notify */
    uint8_t config[8];
    unsigned last_out_num, last_in_num;
    struct rv_virtq_elem elem;
};

/* Copies each chain's readable bytes into its writable ones. */
static void echo_notify(void *opaque, unsigned q)
{
    struct echo *e = opaque;
    if (e->hold)
        return;
    bool pushed = false;
    int rc;
    while ((rc = rv_virtq_pop(e->vd, q, &e->elem)) == 1) {
        e->pops++;
        e->last_out_num = e->elem.out_num;
        e->last_in_num = e->elem.in_num;
        uint8_t buf[512];
        size_t n = rv_iov_to_buf(e->elem.out, e->elem.out_num, 0, buf, sizeof(buf));
        size_t w = rv_iov_from_buf(e->elem.in, e->elem.in_num, 0, buf, n);
        rv_virtq_push(e->vd, q, &e->elem, (uint32_t)w);
        pushed = true;
    }
    if (rc < 0)
        e->bad_pops++;
    if (pushed)
        rv_virtq_notify(e->vd, q);
}

static bool echo_features_ok(void *opaque, uint64_t f)
{
    (void)opaque;
    return !(f & (1ull << ECHO_F_REFUSED));
}

static void echo_reset(void *opaque)
{
    ((struct echo *)opaque)->resets++;
}

static void echo_driver_ok(void *opaque)
{
    ((struct echo *)opaque)->driver_oks++;
}

static void echo_config_read(void *opaque, uint32_t off, void *buf, unsigned len)
{
    memcpy(buf, ((struct echo *)opaque)->config + off, len);
}

static void echo_config_write(void *opaque, uint32_t off, const void *buf, unsigned len)
{
    memcpy(((struct echo *)opaque)->config + off, buf, len);
}

static void echo_destroy(void *opaque)
{
    free(opaque);
}

static const struct rv_virtio_ops echo_ops = {
    .name = "echo",
    .device_id = ECHO_ID,
    .num_queues = 2,
    .queue_max = 16,
    .config_size = 8,
    .config_read = echo_config_read,
    .config_write = echo_config_write,
    .features_ok = echo_features_ok,
    .driver_ok = echo_driver_ok,
    .queue_notify = echo_notify,
    .reset = echo_reset,
    .destroy = echo_destroy,
};

static struct echo *rig(struct vdrv *d)
{
    CHECK(vd_init(d));
    struct echo *e = calloc(1, sizeof(*e));
    struct rv_irq irq = vd_rv_irq(d);
    uint64_t f = 1ull << ECHO_F_X | 1ull << ECHO_F_REFUSED;
    CHECK_EQ(rv_virtio_create(&d->map, NULL, VD_BASE, &irq, &d->dev_lock, &d->bus, &echo_ops, e,
                              f, &e->vd), 0);
    CHECK(vd_attach(d));
    return e;
}

/* A request with 16 readable and 16 writable bytes. */
static uint16_t echo_request(struct vdrv *d, unsigned q, uint64_t *in_gpa)
{
    uint64_t out = vd_alloc(d, 16, 8), in = vd_alloc(d, 16, 8);
    memcpy(vd_ptr(d, out), "0123456789abcdef", 16);
    struct vd_seg s[2] = {{out, 16, false}, {in, 16, true}};
    *in_gpa = in;
    return vd_submit(d, q, s, 2);
}

static bool needs_reset(struct vdrv *d)
{
    return (vd_rd32(d, VR_STATUS) & VS_NEEDS_RESET) != 0;
}

static void test_identity(void)
{
    struct vdrv d;
    rig(&d);
    CHECK_EQ(vd_rd32(&d, VR_MAGIC), 0x74726976);
    CHECK_EQ(vd_rd32(&d, VR_VERSION), 2);
    CHECK_EQ(vd_rd32(&d, VR_DEVICE_ID), ECHO_ID);
    CHECK_EQ(vd_rd(&d, VR_MAGIC, 2), 0); /* registers are 32-bit only */
    uint64_t f = vd_device_features(&d);
    CHECK(f & F_VERSION_1);
    CHECK(f & F_INDIRECT);
    CHECK(f & F_EVENT_IDX);
    CHECK(f & (1ull << ECHO_F_X));
    vd_wr32(&d, VR_QUEUE_SEL, 0);
    CHECK_EQ(vd_rd32(&d, VR_QUEUE_NUM_MAX), 16);
    vd_wr32(&d, VR_QUEUE_SEL, 2); /* no such queue */
    CHECK_EQ(vd_rd32(&d, VR_QUEUE_NUM_MAX), 0);
    vd_free(&d);
}

static void test_features(void)
{
    struct vdrv d;
    struct echo *e = rig(&d);
    /* no VERSION_1: a modern-only device refuses */
    CHECK(!(vd_negotiate(&d, 1ull << ECHO_F_X) & VS_FEATURES_OK));
    /* a bit that was not offered */
    CHECK(!(vd_negotiate(&d, F_VERSION_1 | 1ull << 7) & VS_FEATURES_OK));
    /* the device's own veto */
    CHECK(!(vd_negotiate(&d, F_VERSION_1 | 1ull << ECHO_F_REFUSED) & VS_FEATURES_OK));
    /* DRIVER_OK without FEATURES_OK is ignored */
    vd_wr32(&d, VR_STATUS, VS_ACK | VS_DRIVER | VS_DRIVER_OK);
    CHECK(!(vd_rd32(&d, VR_STATUS) & VS_DRIVER_OK));
    CHECK_EQ(e->driver_oks, 0);
    uint64_t want = F_VERSION_1 | F_INDIRECT | 1ull << ECHO_F_X;
    CHECK(vd_negotiate(&d, want) & VS_FEATURES_OK);
    CHECK_EQ(rv_virtio_features(e->vd), want);
    /* features are frozen after FEATURES_OK */
    vd_wr32(&d, VR_DRV_FEATURES_SEL, 0);
    vd_wr32(&d, VR_DRV_FEATURES, 0);
    CHECK_EQ(rv_virtio_features(e->vd), want);
    CHECK(!rv_virtio_running(e->vd));
    vd_queue_setup(&d, 0, QN);
    vd_wr32(&d, VR_STATUS, VS_ACK | VS_DRIVER | VS_FEATURES_OK | VS_DRIVER_OK);
    CHECK_EQ(e->driver_oks, 1);
    CHECK(rv_virtio_running(e->vd));
    vd_free(&d);
}

static void test_request(void)
{
    struct vdrv d;
    struct echo *e = rig(&d);
    CHECK(vd_setup(&d, F_VERSION_1 | F_INDIRECT, 2, QN) & VS_DRIVER_OK);
    uint64_t in;
    uint16_t head = echo_request(&d, 1, &in);
    /* nothing happens before the notify */
    CHECK_EQ(e->pops, 0);
    CHECK_EQ(vd_irq_level(&d), 0);
    vd_kick(&d, 1);
    uint32_t id, len;
    CHECK(vd_get_used(&d, 1, &id, &len));
    CHECK_EQ(id, head);
    CHECK_EQ(len, 16);
    CHECK(!memcmp(vd_ptr(&d, in), "0123456789abcdef", 16));
    CHECK_EQ(vd_irq_level(&d), 1);
    CHECK_EQ(vd_ack(&d), 1); /* used buffer notification */
    CHECK_EQ(vd_irq_level(&d), 0);
    /* the same through an indirect table, 3 segments */
    uint64_t a = vd_alloc(&d, 8, 8), b = vd_alloc(&d, 8, 8), c = vd_alloc(&d, 16, 8);
    memcpy(vd_ptr(&d, a), "ABCDEFGH", 8);
    memcpy(vd_ptr(&d, b), "IJKLMNOP", 8);
    struct vd_seg s[3] = {{a, 8, false}, {b, 8, false}, {c, 16, true}};
    head = vd_submit_indirect(&d, 1, s, 3);
    vd_kick(&d, 1);
    CHECK(vd_get_used(&d, 1, &id, &len));
    CHECK_EQ(id, head);
    CHECK_EQ(len, 16);
    CHECK_EQ(e->last_out_num, 2);
    CHECK_EQ(e->last_in_num, 1);
    CHECK(!memcmp(vd_ptr(&d, c), "ABCDEFGHIJKLMNOP", 16));
    /* an indirect table at an odd address (no alignment is required of it) */
    uint64_t odd = vd_alloc(&d, 48, 16) + 1;
    struct vd_desc tb[2] = {{a, 8, VD_F_NEXT, 1}, {c, 8, VD_F_WRITE, 0}};
    memcpy(vd_ptr(&d, odd), tb, sizeof(tb));
    head = d.q[1].next_desc;
    *vd_desc(&d, 1, head) = (struct vd_desc){odd, sizeof(tb), VD_F_INDIRECT, 0};
    d.q[1].next_desc++;
    vd_publish(&d, 1, head);
    vd_kick(&d, 1);
    CHECK(vd_get_used(&d, 1, &id, &len) && id == head && len == 8);
    /* a notify for a queue that does not exist is ignored */
    vd_kick(&d, 5);
    CHECK(!needs_reset(&d));
    vd_free(&d);
}

/* --- malformed rings --- */

enum breakage {
    B_DESC_OUTSIDE, B_DESC_STRADDLES, B_LOOP, B_NEXT_RANGE, B_READ_AFTER_WRITE, B_AVAIL_JUMP,
    B_HEAD_RANGE, B_INDIRECT_UNNEGOTIATED, B_INDIRECT_NESTED, B_INDIRECT_NEXT, B_INDIRECT_LEN,
    B_INDIRECT_EMPTY, B_INDIRECT_OUTSIDE, B_INDIRECT_LOOP, B_INDIRECT_NEXT_RANGE,
    B_INDIRECT_IN_CHAIN, B_COUNT
};

/* Breaks the ring in one way and notifies. */
static void break_ring(struct vdrv *d, enum breakage how)
{
    struct vd_desc *ds = vd_desc(d, 0, 0);
    uint64_t buf = vd_alloc(d, 64, 16), tbl = vd_alloc(d, 64, 16);
    struct vd_desc *t = vd_ptr(d, tbl);
    memset(ds, 0, 4 * sizeof(*ds));
    for (int i = 0; i < 4; i++) {
        ds[i].addr = buf;
        ds[i].len = 8;
        t[i].addr = buf;
        t[i].len = 8;
    }
    switch (how) {
    case B_DESC_OUTSIDE: ds[0].addr = VD_RAM_BASE + VD_RAM_SIZE + 4096; break;
    case B_DESC_STRADDLES: ds[0].addr = VD_RAM_BASE + VD_RAM_SIZE - 4; break;
    case B_LOOP:
        ds[0].flags = VD_F_NEXT, ds[0].next = 1;
        ds[1].flags = VD_F_NEXT, ds[1].next = 0;
        break;
    case B_NEXT_RANGE: ds[0].flags = VD_F_NEXT, ds[0].next = QN; break;
    case B_READ_AFTER_WRITE:
        ds[0].flags = VD_F_WRITE | VD_F_NEXT, ds[0].next = 1;
        break;
    case B_AVAIL_JUMP: vd_avail(d, 0)[1] = QN + 1; break;
    case B_HEAD_RANGE: vd_avail(d, 0)[2] = QN; break;
    case B_INDIRECT_IN_CHAIN:
        ds[0].flags = VD_F_NEXT, ds[0].next = 1;
        ds[1].addr = tbl, ds[1].len = 16, ds[1].flags = VD_F_INDIRECT;
        break;
    default: /* indirect variants: descriptor 0 points to the table */
        ds[0].addr = tbl, ds[0].len = 32, ds[0].flags = VD_F_INDIRECT;
        break;
    }
    switch (how) {
    case B_INDIRECT_NESTED: t[0].flags = VD_F_INDIRECT; break;
    case B_INDIRECT_NEXT: ds[0].flags |= VD_F_NEXT, ds[0].next = 1; break;
    case B_INDIRECT_LEN: ds[0].len = 24; break;
    case B_INDIRECT_EMPTY: ds[0].len = 0; break;
    case B_INDIRECT_OUTSIDE: ds[0].addr = VD_RAM_BASE + VD_RAM_SIZE - 16; break;
    case B_INDIRECT_LOOP:
        t[0].flags = VD_F_NEXT, t[0].next = 1;
        t[1].flags = VD_F_NEXT, t[1].next = 0;
        break;
    case B_INDIRECT_NEXT_RANGE: t[0].flags = VD_F_NEXT, t[0].next = 2; break;
    default: break;
    }
    if (how == B_AVAIL_JUMP) {
        d->q[0].avail_idx = QN + 1;
    } else {
        vd_publish(d, 0, 0);
        if (how == B_HEAD_RANGE)
            vd_avail(d, 0)[2] = QN;
    }
    vd_kick(d, 0);
}

static void test_malformed(void)
{
    for (int how = 0; how < B_COUNT; how++) {
        struct vdrv d;
        struct echo *e = rig(&d);
        uint64_t f = F_VERSION_1 | (how == B_INDIRECT_UNNEGOTIATED ? 0 : F_INDIRECT);
        CHECK(vd_setup(&d, f, 2, QN) & VS_DRIVER_OK);
        vd_ack(&d);
        break_ring(&d, (enum breakage)how);
        uint32_t id, len;
        if (!needs_reset(&d))
            fprintf(stderr, "breakage %d not detected\n", how);
        CHECK(needs_reset(&d));
        CHECK_EQ(e->bad_pops, 1);
        CHECK(!vd_get_used(&d, 0, &id, &len));
        CHECK(!rv_virtio_running(e->vd));
        CHECK_EQ(vd_ack(&d), 2); /* configuration change notification */
        /* the device stays quiet until reset: other queues too */
        uint64_t in;
        echo_request(&d, 1, &in);
        vd_kick(&d, 1);
        CHECK(!vd_get_used(&d, 1, &id, &len));
        /* a reset brings it back */
        CHECK(vd_setup(&d, f, 2, QN) & VS_DRIVER_OK);
        CHECK(!needs_reset(&d));
        uint16_t head = echo_request(&d, 1, &in);
        vd_kick(&d, 1);
        CHECK(vd_get_used(&d, 1, &id, &len) && id == head && len == 16);
        vd_free(&d);
    }
}

static void test_bad_layout(void)
{
    struct vdrv d;
    struct echo *e = rig(&d);
    CHECK(vd_negotiate(&d, F_VERSION_1) & VS_FEATURES_OK);
    /* QueueNum above the maximum is not taken; QueueReady then fails */
    vd_wr32(&d, VR_QUEUE_SEL, 0);
    vd_wr32(&d, VR_QUEUE_NUM, 32);
    vd_wr32(&d, VR_QUEUE_READY, 1);
    CHECK_EQ(vd_rd32(&d, VR_QUEUE_READY), 0);
    vd_wr32(&d, VR_STATUS, 0);
    /* a used ring outside RAM */
    CHECK(vd_negotiate(&d, F_VERSION_1) & VS_FEATURES_OK);
    vd_wr32(&d, VR_QUEUE_NUM, QN);
    vd_wr32(&d, VR_DESC_LO, (uint32_t)vd_alloc(&d, 16 * QN, 16));
    vd_wr32(&d, VR_DRIVER_LO, (uint32_t)vd_alloc(&d, 64, 2));
    vd_wr32(&d, VR_DEVICE_LO, 0x1000);
    vd_wr32(&d, VR_QUEUE_READY, 1);
    CHECK_EQ(vd_rd32(&d, VR_QUEUE_READY), 0);
    /* misaligned descriptor table */
    vd_wr32(&d, VR_STATUS, 0);
    CHECK(vd_negotiate(&d, F_VERSION_1) & VS_FEATURES_OK);
    vd_queue_setup(&d, 0, QN);
    CHECK_EQ(vd_rd32(&d, VR_QUEUE_READY), 1);
    /* ring addresses are frozen while the queue is ready */
    uint64_t desc = d.q[0].desc;
    vd_wr32(&d, VR_DESC_LO, 0x1008);
    CHECK_EQ(vd_rd32(&d, VR_DESC_LO), (uint32_t)desc);
    vd_wr32(&d, VR_QUEUE_SEL, 1);
    vd_wr32(&d, VR_QUEUE_NUM, QN);
    vd_wr32(&d, VR_DESC_LO, (uint32_t)vd_alloc(&d, 16 * QN + 8, 16) + 8);
    vd_wr32(&d, VR_DRIVER_LO, (uint32_t)vd_alloc(&d, 64, 2));
    vd_wr32(&d, VR_DEVICE_LO, (uint32_t)vd_alloc(&d, 128, 4));
    vd_wr32(&d, VR_QUEUE_READY, 1);
    CHECK_EQ(vd_rd32(&d, VR_QUEUE_READY), 0);
    (void)e;
    vd_free(&d);
}

/* --- interrupt suppression --- */

static void test_no_interrupt(void)
{
    struct vdrv d;
    struct echo *e = rig(&d);
    CHECK(vd_setup(&d, F_VERSION_1, 2, QN) & VS_DRIVER_OK);
    vd_avail(&d, 0)[0] = 1; /* VIRTQ_AVAIL_F_NO_INTERRUPT */
    uint64_t in;
    echo_request(&d, 0, &in);
    vd_kick(&d, 0);
    uint32_t id, len;
    CHECK(vd_get_used(&d, 0, &id, &len));
    CHECK_EQ(vd_irq_level(&d), 0);
    vd_avail(&d, 0)[0] = 0;
    echo_request(&d, 0, &in);
    vd_kick(&d, 0);
    CHECK(vd_get_used(&d, 0, &id, &len));
    CHECK_EQ(vd_irq_level(&d), 1);
    /* the device's side: rv_virtq_set_notify() sets VIRTQ_USED_F_NO_NOTIFY */
    rv_virtq_set_notify(e->vd, 0, false);
    CHECK_EQ(vd_used16(&d, 0)[0] & 1, 1);
    rv_virtq_set_notify(e->vd, 0, true);
    CHECK_EQ(vd_used16(&d, 0)[0] & 1, 0);
    vd_free(&d);
}

static void test_event_idx(void)
{
    struct vdrv d;
    struct echo *e = rig(&d);
    CHECK(vd_setup(&d, F_VERSION_1 | F_EVENT_IDX, 2, QN) & VS_DRIVER_OK);
    uint16_t *avail = vd_avail(&d, 0);
    uint16_t *avail_event = vd_used16(&d, 0) + 2 + 4 * QN;
    /* NO_INTERRUPT is ignored with EVENT_IDX; used_event = 2: interrupt when entry 2 is used */
    avail[0] = 1;
    avail[2 + QN] = 2;
    e->hold = true;
    uint64_t in;
    for (int i = 0; i < 4; i++)
        echo_request(&d, 0, &in);
    e->hold = false;
    /* complete them one at a time, with a notify after each push */
    unsigned raised[4];
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(rv_virtq_pop(e->vd, 0, &e->elem), 1);
        CHECK_EQ(*avail_event, i + 1); /* the device asks to hear about the next chain */
        rv_virtq_push(e->vd, 0, &e->elem, 0);
        rv_virtq_notify(e->vd, 0);
        raised[i] = vd_irq_level(&d);
        vd_ack(&d);
    }
    CHECK_EQ(raised[0], 1); /* the first notify always interrupts */
    CHECK_EQ(raised[1], 0);
    CHECK_EQ(raised[2], 1); /* used idx went 2 -> 3: crossed used_event = 2 */
    CHECK_EQ(raised[3], 0);
    /* a batch: three pushes, one notify; used_event inside the batch interrupts once */
    avail[2 + QN] = 5;
    for (int i = 0; i < 3; i++)
        echo_request(&d, 0, &in);
    e->hold = true;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(rv_virtq_pop(e->vd, 0, &e->elem), 1);
        rv_virtq_push(e->vd, 0, &e->elem, 0);
    }
    rv_virtq_notify(e->vd, 0);
    CHECK_EQ(vd_irq_level(&d), 1);
    vd_ack(&d);
    rv_virtq_notify(e->vd, 0); /* nothing new used: no interrupt */
    CHECK_EQ(vd_irq_level(&d), 0);
    vd_free(&d);
}

/* --- reset, configuration, state --- */

static void test_reset(void)
{
    struct vdrv d;
    struct echo *e = rig(&d);
    CHECK(vd_setup(&d, F_VERSION_1 | F_INDIRECT, 2, QN) & VS_DRIVER_OK);
    uint64_t in;
    echo_request(&d, 0, &in);
    vd_kick(&d, 0);
    CHECK_EQ(vd_irq_level(&d), 1);
    unsigned resets = e->resets;
    vd_wr32(&d, VR_STATUS, 0);
    CHECK_EQ(e->resets, resets + 1);
    CHECK_EQ(vd_rd32(&d, VR_STATUS), 0);
    CHECK_EQ(vd_rd32(&d, VR_INT_STATUS), 0);
    CHECK_EQ(vd_irq_level(&d), 0);
    CHECK_EQ(rv_virtio_features(e->vd), 0);
    vd_wr32(&d, VR_QUEUE_SEL, 0);
    CHECK_EQ(vd_rd32(&d, VR_QUEUE_READY), 0);
    CHECK_EQ(vd_rd32(&d, VR_DESC_LO), 0);
    /* the machine's reset (the region's reset op) does the same */
    CHECK(vd_setup(&d, F_VERSION_1, 2, QN) & VS_DRIVER_OK);
    resets = e->resets;
    d.r->ops->reset(d.r->dev);
    CHECK_EQ(e->resets, resets + 1);
    CHECK_EQ(vd_rd32(&d, VR_STATUS), 0);
    vd_free(&d);
}

static void test_config(void)
{
    struct vdrv d;
    struct echo *e = rig(&d);
    memcpy(e->config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    CHECK_EQ(vd_rd(&d, VR_CONFIG, 4), 0x44332211);
    CHECK_EQ(vd_rd(&d, VR_CONFIG + 6, 2), 0x8877);
    CHECK_EQ(vd_rd(&d, VR_CONFIG + 7, 1), 0x88);
    CHECK_EQ(vd_rd(&d, VR_CONFIG + 6, 4), 0); /* beyond config_size */
    vd_wr(&d, VR_CONFIG + 1, 0xab, 1);
    CHECK_EQ(e->config[1], 0xab);
    vd_wr(&d, VR_CONFIG + 8, 0xab, 1); /* ignored */
    uint32_t gen = vd_rd32(&d, VR_GENERATION);
    rv_virtio_config_changed(e->vd);
    CHECK_EQ(vd_rd32(&d, VR_GENERATION), gen + 1);
    CHECK_EQ(vd_rd32(&d, VR_INT_STATUS), 2);
    CHECK_EQ(vd_irq_level(&d), 1);
    vd_free(&d);
}

static void test_save_load(void)
{
    struct vdrv d;
    struct echo *e = rig(&d);
    CHECK(vd_setup(&d, F_VERSION_1 | F_EVENT_IDX, 2, QN) & VS_DRIVER_OK);
    uint64_t in;
    echo_request(&d, 1, &in);
    vd_kick(&d, 1);
    e->hold = true;
    uint16_t head = echo_request(&d, 1, &in); /* left pending across the snapshot */
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    CHECK_EQ(d.r->ops->save(d.r->dev, &w), 0);
    /* a truncated stream is refused and changes nothing */
    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len - 3);
    CHECK(d.r->ops->load(d.r->dev, &r) < 0);
    CHECK(rv_virtio_running(e->vd));
    /* load into a fresh transport over the same RAM */
    d.r->ops->reset(d.r->dev);
    CHECK(!rv_virtio_running(e->vd));
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(d.r->ops->load(d.r->dev, &r), 0);
    CHECK(rv_virtio_running(e->vd));
    CHECK_EQ(rv_virtio_features(e->vd), F_VERSION_1 | F_EVENT_IDX);
    CHECK_EQ(vd_rd32(&d, VR_INT_STATUS), 1);
    e->hold = false;
    vd_kick(&d, 1);
    uint32_t id, len;
    CHECK(vd_get_used(&d, 1, &id, &len));
    CHECK(vd_get_used(&d, 1, &id, &len) && id == head);
    rv_state_writer_free(&w);
    vd_free(&d);
}

/* A queue broken before DRIVER_OK shows NEEDS_RESET and interrupts at DRIVER_OK; a notify
 * written before DRIVER_OK is delivered then. */
static void test_before_driver_ok(void)
{
    struct vdrv d;
    struct echo *e = rig(&d);
    CHECK(vd_negotiate(&d, F_VERSION_1) & VS_FEATURES_OK);
    vd_wr32(&d, VR_QUEUE_SEL, 0);
    vd_wr32(&d, VR_QUEUE_NUM, QN);
    vd_wr32(&d, VR_DEVICE_LO, 0x1000); /* used ring outside RAM */
    vd_wr32(&d, VR_QUEUE_READY, 1);
    CHECK(vd_rd32(&d, VR_STATUS) & VS_NEEDS_RESET);
    CHECK_EQ(vd_irq_level(&d), 0);
    vd_wr32(&d, VR_STATUS, VS_ACK | VS_DRIVER | VS_FEATURES_OK | VS_DRIVER_OK);
    CHECK_EQ(vd_rd32(&d, VR_INT_STATUS), 2);
    CHECK_EQ(e->driver_oks, 0);
    /* a chain made available and notified before DRIVER_OK */
    CHECK(vd_negotiate(&d, F_VERSION_1) & VS_FEATURES_OK);
    vd_queue_setup(&d, 0, QN);
    uint64_t in;
    uint16_t head = echo_request(&d, 0, &in);
    vd_kick(&d, 0);
    CHECK_EQ(e->pops, 0);
    vd_wr32(&d, VR_STATUS, VS_ACK | VS_DRIVER | VS_FEATURES_OK | VS_DRIVER_OK);
    uint32_t id, len;
    CHECK(vd_get_used(&d, 0, &id, &len) && id == head);
    vd_free(&d);
}

int main(void)
{
    rv_log_set_level(RV_LOG_ERROR); /* the broken rings below are logged as warnings */
    test_identity();
    test_features();
    test_request();
    test_malformed();
    test_bad_layout();
    test_no_interrupt();
    test_event_idx();
    test_reset();
    test_config();
    test_save_load();
    test_before_driver_ok();
    TEST_MAIN_END();
}
