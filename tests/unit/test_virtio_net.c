/* virtio-net with a fake guest driver: rings in a malloc'd "guest RAM", registers driven
 * through the transport's region ops, the "user" (libslirp) backend behind it. ARP round
 * trips (one buffer, merged small buffers, no MRG_RXBUF), checksum offload checked by slirp's
 * UDP checksum verification, receive flow control, malformed chains, reset, save/load. */
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "core/serial.h"
#include "dev/virtio.h"
#include "dev/virtio_net.h"
#include "test.h"
#include "test_net_frames.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (4u << 20)
#define MMIO_BASE 0x10001000ull
#define QNUM 32
#define WAIT_MS 5000

/* virtio-mmio registers and status bits (virtio 4.2.2, 2.1) */
enum {
    R_MAGIC = 0x000, R_VERSION = 0x004, R_DEVICE_ID = 0x008, R_DEV_FEAT = 0x010,
    R_DEV_FEAT_SEL = 0x014, R_DRV_FEAT = 0x020, R_DRV_FEAT_SEL = 0x024, R_QUEUE_SEL = 0x030,
    R_QUEUE_NUM_MAX = 0x034, R_QUEUE_NUM = 0x038, R_QUEUE_READY = 0x044, R_NOTIFY = 0x050,
    R_INT_STATUS = 0x060, R_INT_ACK = 0x064, R_STATUS = 0x070, R_DESC = 0x080,
    R_DRIVER = 0x090, R_DEVICE = 0x0a0, R_CONFIG = 0x100,
};
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64
#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4

#define F_CSUM (1ull << 0)
#define F_MAC (1ull << 5)
#define F_MRG (1ull << 15)
#define F_STATUS (1ull << 16)
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define F_VERSION_1 (1ull << 32)

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x11, 0x22, 0x33};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6];
static const uint32_t guest_ip = 0x0a00020f, host_ip = 0x0a000202;
#define ARP_REPLY_LEN 64 /* libslirp pads its ARP replies to the Ethernet minimum */

struct gq {
    uint64_t desc, avail, used;
    uint16_t avail_idx, used_seen, next_desc;
};

struct fake_irq {
    bool level;
};

struct rig {
    uint8_t *ram;
    struct rv_bus bus;
    struct rv_iomap map;
    pthread_mutex_t dev_lock;
    struct fake_irq irq;
    struct rv_virtio_net *net;
    struct rv_region *r;
    struct gq q[2];
    uint64_t data;      /* next free data address */
    uint8_t slirp_mac[6];
};

static void irq_set(void *ctrl, unsigned source, bool level)
{
    (void)source;
    ((struct fake_irq *)ctrl)->level = level;
}

static void *gp(struct rig *g, uint64_t gpa)
{
    return g->ram + (gpa - RAM_BASE);
}

static uint32_t rd(struct rig *g, uint64_t off)
{
    return (uint32_t)g->r->ops->read(g->r->dev, off, 4);
}

static void wr(struct rig *g, uint64_t off, uint32_t v)
{
    g->r->ops->write(g->r->dev, off, v, 4);
}

static int rig_create(struct rig *g, uint64_t base)
{
    struct rv_irq irq = {.set = irq_set, .ctrl = &g->irq, .source = 1 + (unsigned)(base >> 12 & 7)};
    int rc = rv_virtio_net_create(&g->map, NULL, base, &irq, &g->dev_lock, &g->bus, "user",
                                  guest_mac, &g->net);
    if (rc) {
        fprintf(stderr, "rv_virtio_net_create: %s\n", rv_error_get());
        return rc;
    }
    g->r = rv_iomap_find(&g->map, base, 4);
    return g->r ? 0 : -1;
}

static int rig_init(struct rig *g)
{
    memset(g, 0, sizeof(*g));
    g->ram = aligned_alloc(4096, RAM_SIZE);
    memset(g->ram, 0, RAM_SIZE);
    g->bus = (struct rv_bus){.ram = g->ram, .ram_base = RAM_BASE, .ram_size = RAM_SIZE};
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&g->dev_lock, &a);
    pthread_mutexattr_destroy(&a);
    return rig_create(g, MMIO_BASE);
}

static void rig_free(struct rig *g)
{
    for (unsigned i = 0; i < g->map.count; i++)
        g->map.regions[i].ops->destroy(g->map.regions[i].dev);
    pthread_mutex_destroy(&g->dev_lock);
    free(g->ram);
}

/* The driver's side of initialization (3.1.1). Returns the device status afterwards. */
static uint32_t driver_init(struct rig *g, uint64_t features)
{
    wr(g, R_STATUS, 0);
    wr(g, R_STATUS, S_ACK | S_DRIVER);
    wr(g, R_DRV_FEAT_SEL, 0);
    wr(g, R_DRV_FEAT, (uint32_t)features);
    wr(g, R_DRV_FEAT_SEL, 1);
    wr(g, R_DRV_FEAT, (uint32_t)(features >> 32));
    wr(g, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(rd(g, R_STATUS) & S_FEATURES_OK))
        return rd(g, R_STATUS);
    memset(g->ram, 0, 0x10000);
    for (unsigned q = 0; q < 2; q++) {
        struct gq *v = &g->q[q];
        memset(v, 0, sizeof(*v));
        v->desc = RAM_BASE + q * 0x4000;
        v->avail = v->desc + 0x1000;
        v->used = v->desc + 0x2000;
        wr(g, R_QUEUE_SEL, q);
        CHECK(rd(g, R_QUEUE_NUM_MAX) >= QNUM);
        wr(g, R_QUEUE_NUM, QNUM);
        wr(g, R_DESC, (uint32_t)v->desc);
        wr(g, R_DESC + 4, (uint32_t)(v->desc >> 32));
        wr(g, R_DRIVER, (uint32_t)v->avail);
        wr(g, R_DRIVER + 4, (uint32_t)(v->avail >> 32));
        wr(g, R_DEVICE, (uint32_t)v->used);
        wr(g, R_DEVICE + 4, (uint32_t)(v->used >> 32));
        wr(g, R_QUEUE_READY, 1);
    }
    g->data = RAM_BASE + 0x10000;
    wr(g, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    return rd(g, R_STATUS);
}

static uint64_t alloc_data(struct rig *g, size_t len)
{
    uint64_t a = g->data;
    g->data += (len + 15) & ~15ull;
    if (g->data > RAM_BASE + RAM_SIZE - 0x10000)
        g->data = RAM_BASE + 0x10000; /* tests keep few buffers in flight: wrap */
    return a;
}

struct seg {
    uint64_t addr;
    uint32_t len;
    bool write;
};

static void put_desc(uint8_t *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
}

/* Publishes a chain (or, with `indirect`, one descriptor pointing at a table) on queue q. */
static void add_chain(struct rig *g, unsigned q, const struct seg *s, unsigned n, bool indirect)
{
    struct gq *v = &g->q[q];
    uint16_t head = v->next_desc;
    if (indirect) {
        uint64_t table = alloc_data(g, 16 * n);
        for (unsigned i = 0; i < n; i++)
            put_desc(gp(g, table + 16 * i), s[i].addr, s[i].len,
                     (uint16_t)((s[i].write ? D_WRITE : 0) | (i + 1 < n ? D_NEXT : 0)),
                     (uint16_t)(i + 1));
        put_desc(gp(g, v->desc + 16 * head), table, 16 * n, D_INDIRECT, 0);
        v->next_desc = (uint16_t)((head + 1) % QNUM);
    } else {
        for (unsigned i = 0; i < n; i++) {
            uint16_t idx = v->next_desc, next = (uint16_t)((idx + 1) % QNUM);
            put_desc(gp(g, v->desc + 16 * idx), s[i].addr, s[i].len,
                     (uint16_t)((s[i].write ? D_WRITE : 0) | (i + 1 < n ? D_NEXT : 0)), next);
            v->next_desc = next;
        }
    }
    uint16_t *avail = gp(g, v->avail);
    avail[2 + v->avail_idx % QNUM] = head;
    __atomic_store_n(&avail[1], ++v->avail_idx, __ATOMIC_RELEASE);
}

/* Waits for the next used entry of queue q. */
static bool wait_used(struct rig *g, unsigned q, uint32_t *id, uint32_t *len)
{
    struct gq *v = &g->q[q];
    uint16_t *used = gp(g, v->used);
    for (int i = 0; i < WAIT_MS; i++) {
        if (__atomic_load_n(&used[1], __ATOMIC_ACQUIRE) != v->used_seen) {
            uint32_t *e = (uint32_t *)(used + 2) + 2 * (v->used_seen % QNUM);
            *id = e[0];
            *len = e[1];
            v->used_seen++;
            return true;
        }
        usleep(1000);
    }
    return false;
}

/* Transmits header + frame, the header in its own descriptor when `split`. */
static void tx_frame(struct rig *g, const uint8_t hdr[12], const uint8_t *f, size_t n, bool split,
                     bool indirect)
{
    uint64_t a = alloc_data(g, 12 + n);
    memcpy(gp(g, a), hdr, 12);
    memcpy(gp(g, a + 12), f, n);
    struct seg s[2] = {{a, 12, false}, {a + 12, (uint32_t)n, false}};
    if (split)
        add_chain(g, 1, s, 2, indirect);
    else {
        s[0].len = (uint32_t)(12 + n);
        add_chain(g, 1, s, 1, indirect);
    }
    wr(g, R_NOTIFY, 1);
}

static uint64_t rx_post(struct rig *g, uint32_t len)
{
    uint64_t a = alloc_data(g, len);
    memset(gp(g, a), 0xee, len);
    struct seg s = {a, len, true};
    add_chain(g, 0, &s, 1, false);
    return a;
}

static void arp_request(uint8_t *f, size_t *n, uint32_t target)
{
    *n = arp_frame(f, 1, bcast, guest_mac, guest_ip, zero_mac, target);
}

static bool is_arp_reply_for(const uint8_t *f, uint32_t ip)
{
    return eth_type(f) == ETH_P_ARPT && get16(f + 20) == 2 && get32(f + 28) == ip &&
           !memcmp(f, guest_mac, 6);
}

static void test_init_and_config(struct rig *g)
{
    CHECK_EQ(rd(g, R_MAGIC), 0x74726976);
    CHECK_EQ(rd(g, R_VERSION), 2);
    CHECK_EQ(rd(g, R_DEVICE_ID), 1);
    wr(g, R_DEV_FEAT_SEL, 0);
    uint64_t f = rd(g, R_DEV_FEAT);
    wr(g, R_DEV_FEAT_SEL, 1);
    f |= (uint64_t)rd(g, R_DEV_FEAT) << 32;
    CHECK_EQ(f & (F_CSUM | F_MAC | F_MRG | F_STATUS | F_VERSION_1),
             F_CSUM | F_MAC | F_MRG | F_STATUS | F_VERSION_1);
    CHECK_EQ(f & ((1ull << 11) | (1ull << 17) | (1ull << 22)), 0); /* no TSO, CTRL_VQ, MQ */
    for (unsigned i = 0; i < 6; i++)
        CHECK_EQ(g->r->ops->read(g->r->dev, R_CONFIG + i, 1), guest_mac[i]);
    CHECK_EQ(g->r->ops->read(g->r->dev, R_CONFIG + 6, 2), 1); /* LINK_UP */
    CHECK_EQ(g->r->ops->read(g->r->dev, R_CONFIG + 8, 2), 1); /* one queue pair */
    CHECK_EQ(g->r->ops->read(g->r->dev, R_CONFIG + 10, 2), 0); /* beyond: nothing */
    g->r->ops->write(g->r->dev, R_CONFIG, 0x42, 1);            /* read-only */
    CHECK_EQ(g->r->ops->read(g->r->dev, R_CONFIG, 1), guest_mac[0]);
}

/* ARP for the host through the device: one receive buffer per frame (MRG_RXBUF). */
static void test_arp_roundtrip(struct rig *g, uint64_t features, bool split, bool indirect)
{
    CHECK_EQ(driver_init(g, features) & (S_DRIVER_OK | S_NEEDS_RESET), S_DRIVER_OK);
    uint64_t buf = rx_post(g, 1526);
    wr(g, R_NOTIFY, 0);
    uint8_t f[FRAME_MAX], hdr[12] = {0};
    size_t n;
    arp_request(f, &n, host_ip);
    tx_frame(g, hdr, f, n, split, indirect);
    uint32_t id, len;
    CHECK(wait_used(g, 1, &id, &len));
    CHECK_EQ(len, 0);
    CHECK(wait_used(g, 0, &id, &len));
    CHECK_EQ(id, 0);
    CHECK_EQ(len, 12 + ARP_REPLY_LEN);
    const uint8_t *rx = gp(g, buf);
    CHECK_EQ(rx[0], 0);                 /* flags */
    CHECK_EQ(rx[1], 0);                 /* GSO_NONE */
    CHECK_EQ(rx[10] | rx[11] << 8, 1);  /* num_buffers */
    CHECK(is_arp_reply_for(rx + 12, host_ip));
    memcpy(g->slirp_mac, rx + 12 + 22, 6);
    CHECK(g->irq.level);
    CHECK(rd(g, R_INT_STATUS) & 1);
    wr(g, R_INT_ACK, rd(g, R_INT_STATUS));
    CHECK(!g->irq.level);
}

/* Small receive buffers: one frame spread over four (MRG_RXBUF, num_buffers = 4); the fifth
 * stays posted. */
static void test_mergeable(struct rig *g)
{
    CHECK_EQ(driver_init(g, F_VERSION_1 | F_MAC | F_MRG) & S_DRIVER_OK, S_DRIVER_OK);
    uint64_t b[5];
    for (int i = 0; i < 5; i++)
        b[i] = rx_post(g, 20);
    wr(g, R_NOTIFY, 0);
    uint8_t f[FRAME_MAX], hdr[12] = {0};
    size_t n;
    arp_request(f, &n, host_ip);
    tx_frame(g, hdr, f, n, false, false);
    uint32_t id, len[4];
    uint8_t got[80];
    for (int i = 0; i < 4; i++) {
        CHECK(wait_used(g, 0, &id, &len[i]));
        CHECK_EQ(id, (unsigned)i);
        CHECK_EQ(len[i], i < 3 ? 20 : 12 + ARP_REPLY_LEN - 60);
        memcpy(got + 20 * i, gp(g, b[i]), 20);
    }
    CHECK_EQ(got[10] | got[11] << 8, 4);
    CHECK(is_arp_reply_for(got + 12, host_ip));
    CHECK(wait_used(g, 1, &id, &len[0]));
}

/* Without MRG_RXBUF: a buffer too small for the frame comes back empty, the next frame goes
 * into a big enough one, with num_buffers = 1. */
static void test_no_mrg(struct rig *g)
{
    CHECK_EQ(driver_init(g, F_VERSION_1 | F_MAC) & S_DRIVER_OK, S_DRIVER_OK);
    rx_post(g, 40);
    wr(g, R_NOTIFY, 0);
    uint8_t f[FRAME_MAX], hdr[12] = {0};
    size_t n;
    arp_request(f, &n, host_ip);
    tx_frame(g, hdr, f, n, false, false);
    uint32_t id, len;
    CHECK(wait_used(g, 0, &id, &len));
    CHECK_EQ(len, 0);
    /* A chain with a separate header descriptor, as older drivers lay them out. */
    uint64_t h = alloc_data(g, 12), d = alloc_data(g, 1514);
    struct seg s[2] = {{h, 12, true}, {d, 1514, true}};
    add_chain(g, 0, s, 2, false);
    wr(g, R_NOTIFY, 0);
    arp_request(f, &n, 0x0a000203); /* the DNS address answers too */
    tx_frame(g, hdr, f, n, false, false);
    CHECK(wait_used(g, 0, &id, &len));
    CHECK_EQ(len, 12 + ARP_REPLY_LEN);
    const uint8_t *hp = gp(g, h);
    CHECK_EQ(hp[10] | hp[11] << 8, 1);
    CHECK(is_arp_reply_for(gp(g, d), 0x0a000203));
}

/* The guest has no receive buffers: the reply waits in the backend until it posts one. */
static void test_rx_flow_control(struct rig *g)
{
    CHECK_EQ(driver_init(g, F_VERSION_1 | F_MAC | F_MRG | F_EVENT_IDX) & S_DRIVER_OK,
             S_DRIVER_OK);
    uint8_t f[FRAME_MAX], hdr[12] = {0};
    size_t n;
    arp_request(f, &n, host_ip);
    tx_frame(g, hdr, f, n, false, false);
    uint32_t id, len;
    CHECK(wait_used(g, 1, &id, &len));
    /* A chain with no writable part is handed straight back, empty. */
    struct seg ro = {alloc_data(g, 64), 64, false};
    add_chain(g, 0, &ro, 1, false);
    uint64_t buf = rx_post(g, 2048);
    wr(g, R_NOTIFY, 0);
    CHECK(wait_used(g, 0, &id, &len));
    CHECK_EQ(len, 0);
    CHECK(wait_used(g, 0, &id, &len));
    CHECK_EQ(len, 12 + ARP_REPLY_LEN);
    CHECK(is_arp_reply_for(gp(g, buf) + 12, host_ip));
}

/* Checksum offload: a UDP datagram with only the pseudo-header sum and NEEDS_CSUM reaches a
 * host socket (slirp drops UDP with a bad checksum: the same frame without NEEDS_CSUM, sent
 * first, never arrives). Bad frames are dropped but their chains still come back. */
static void test_tx_checksum_and_bad_frames(struct rig *g)
{
    CHECK_EQ(driver_init(g, F_VERSION_1 | F_MAC | F_MRG | F_CSUM | F_INDIRECT) & S_DRIVER_OK,
             S_DRIVER_OK);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    CHECK_EQ(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    CHECK_EQ(getsockname(s, (struct sockaddr *)&a, &alen), 0);
    uint16_t port = ntohs(a.sin_port);

    uint8_t f[FRAME_MAX], hdr[12] = {0};
    uint32_t id, len;
    size_t n = udp_frame(f, g->slirp_mac, guest_mac, guest_ip, 5555, host_ip, port, "bad!", 4,
                         true);
    tx_frame(g, hdr, f, n, true, false); /* partial checksum, no NEEDS_CSUM: dropped */
    CHECK(wait_used(g, 1, &id, &len));
    hdr[0] = 1;                           /* NEEDS_CSUM */
    hdr[6] = 34, hdr[7] = 0;              /* csum_start (le16) = 14 + 20 */
    hdr[8] = 6, hdr[9] = 0;               /* csum_offset = UDP checksum */
    n = udp_frame(f, g->slirp_mac, guest_mac, guest_ip, 5555, host_ip, port, "offloaded", 9, true);
    tx_frame(g, hdr, f, n, true, true);
    CHECK(wait_used(g, 1, &id, &len));
    struct pollfd p = {.fd = s, .events = POLLIN};
    CHECK_EQ(poll(&p, 1, WAIT_MS), 1);
    char buf[32] = {0};
    CHECK_EQ(recv(s, buf, sizeof(buf), MSG_DONTWAIT), 9);
    CHECK(!memcmp(buf, "offloaded", 9));
    close(s);

    /* Dropped, each chain returned: checksum offsets past the end, a GSO type never
     * offered, a header alone, a runt frame, a chain with nothing readable. */
    hdr[6] = 0xff, hdr[7] = 0x7f;
    tx_frame(g, hdr, f, n, false, false);
    memset(hdr, 0, sizeof(hdr));
    hdr[1] = 1; /* GSO_TCPV4 */
    tx_frame(g, hdr, f, n, false, false);
    hdr[1] = 0;
    tx_frame(g, hdr, f, 0, false, false);
    tx_frame(g, hdr, f, 5, false, false);
    struct seg w = {alloc_data(g, 64), 64, true};
    add_chain(g, 1, &w, 1, false);
    wr(g, R_NOTIFY, 1);
    for (int i = 0; i < 5; i++) {
        CHECK(wait_used(g, 1, &id, &len));
        CHECK_EQ(len, 0);
    }
    CHECK_EQ(rd(g, R_STATUS) & S_NEEDS_RESET, 0);
}

/* A descriptor pointing outside guest RAM: the device needs a reset, then works again. */
static void test_malformed_and_reset(struct rig *g)
{
    CHECK_EQ(driver_init(g, F_VERSION_1 | F_MAC | F_MRG) & S_DRIVER_OK, S_DRIVER_OK);
    struct seg bad = {RAM_BASE + RAM_SIZE - 8, 64, false};
    add_chain(g, 1, &bad, 1, false);
    wr(g, R_NOTIFY, 1);
    bool broken = false;
    for (int i = 0; i < WAIT_MS && !broken; i++) {
        broken = rd(g, R_STATUS) & S_NEEDS_RESET;
        if (!broken)
            usleep(1000);
    }
    CHECK(broken);
    CHECK(rd(g, R_INT_STATUS) & 2); /* configuration change interrupt */
    test_arp_roundtrip(g, F_VERSION_1 | F_MAC | F_MRG, false, false);
}

static void test_save_load(struct rig *g)
{
    test_arp_roundtrip(g, F_VERSION_1 | F_MAC | F_MRG | F_EVENT_IDX, true, false);
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    CHECK_EQ(g->r->ops->save(g->r->dev, &w), 0);

    /* A second device (say, after a restore) takes the state and carries on with the rings. */
    CHECK_EQ(rig_create(g, MMIO_BASE + 0x1000), 0);
    struct rv_region *r2 = g->r;
    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len - 1);
    CHECK(r2->ops->load(r2->dev, &r) < 0); /* truncated */
    w.buf[w.len - 4] = 0xff;                 /* status: a bit that does not exist */
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK(r2->ops->load(r2->dev, &r) < 0);
    w.buf[w.len - 4] = 1;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(r2->ops->load(r2->dev, &r), 0);
    CHECK_EQ(rd(g, R_STATUS) & S_DRIVER_OK, S_DRIVER_OK);
    CHECK_EQ(g->r->ops->read(g->r->dev, R_CONFIG + 5, 1), guest_mac[5]);
    uint64_t buf = rx_post(g, 2048);
    wr(g, R_NOTIFY, 0);
    uint8_t f[FRAME_MAX], hdr[12] = {0};
    size_t n;
    arp_request(f, &n, host_ip);
    tx_frame(g, hdr, f, n, false, false);
    uint32_t id, len;
    CHECK(wait_used(g, 1, &id, &len));
    CHECK(wait_used(g, 0, &id, &len));
    CHECK_EQ(len, 12 + ARP_REPLY_LEN);
    CHECK(is_arp_reply_for(gp(g, buf) + 12, host_ip));
    rv_state_writer_free(&w);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* Random frames in well-formed chains: odd sizes, split anywhere, random checksum offload
 * offsets, Ethernet/IPv4/UDP/TCP/ICMP headers with random fields, and small random receive
 * buffers. Neither the device nor slirp may misbehave (ASan/UBSan runs watch this); the
 * device keeps working afterwards. */
static void test_random_frames(struct rig *g)
{
    CHECK_EQ(driver_init(g, F_VERSION_1 | F_MAC | F_MRG | F_CSUM | F_EVENT_IDX) & S_DRIVER_OK,
             S_DRIVER_OK);
    unsigned rx_posted = 0, tx_done = 0;
    for (unsigned round = 0; round < 40; round++) {
        while (rx_posted < 8) {
            rx_post(g, 1 + rnd() % 2100);
            rx_posted++;
        }
        wr(g, R_NOTIFY, 0);
        for (unsigned k = 0; k < 8; k++) {
            size_t len = rnd() % 1600;
            uint64_t a = alloc_data(g, len + 32);
            uint8_t *p = gp(g, a);
            for (size_t i = 0; i < len; i++)
                p[i] = (uint8_t)rnd();
            if (len >= 12 + 34 && rnd() % 4) { /* mostly plausible headers */
                p[0] = rnd() % 2 ? 1 : 0, p[1] = 0;
                eth_header(p + 12, g->slirp_mac, guest_mac, ETH_P_IPV4);
                ipv4_header(p + 26, (uint8_t[]){1, 6, 17}[rnd() % 3],
                            rnd() % 2 ? guest_ip : rnd(), rnd() % 2 ? host_ip : rnd(),
                            len - 46 + rnd() % 8);
            }
            struct seg s[3];
            unsigned n = 1 + rnd() % 3;
            size_t off = 0;
            for (unsigned i = 0; i < n; i++) {
                size_t part = i + 1 < n ? rnd() % (len - off + 1) : len - off;
                s[i] = (struct seg){a + off, (uint32_t)part, false};
                off += part;
            }
            add_chain(g, 1, s, n, false);
        }
        wr(g, R_NOTIFY, 1);
        uint32_t id, len;
        for (unsigned k = 0; k < 8; k++)
            tx_done += wait_used(g, 1, &id, &len);
        /* Whatever slirp answered (ICMP errors, RSTs, ...) lands in the random buffers. */
        uint16_t *used = gp(g, g->q[0].used);
        while (__atomic_load_n(&used[1], __ATOMIC_ACQUIRE) != g->q[0].used_seen) {
            wait_used(g, 0, &id, &len);
            rx_posted--;
        }
    }
    CHECK_EQ(tx_done, 40 * 8);
    CHECK_EQ(rd(g, R_STATUS) & S_NEEDS_RESET, 0);
    test_arp_roundtrip(g, F_VERSION_1 | F_MAC | F_MRG, false, false);
}

int main(void)
{
    struct rig g;
    if (rig_init(&g)) {
        CHECK(0);
        TEST_MAIN_END();
    }
    /* Creation errors: bad backend, multicast MAC, overlapping window. */
    struct rv_virtio_net *n2;
    struct rv_irq irq = {.set = irq_set, .ctrl = &g.irq, .source = 9};
    static const uint8_t mcast[6] = {1, 2, 3, 4, 5, 6};
    CHECK(rv_virtio_net_create(&g.map, NULL, 0x20000000, &irq, &g.dev_lock, &g.bus, "nope",
                               NULL, &n2) < 0);
    CHECK(rv_virtio_net_create(&g.map, NULL, 0x20000000, &irq, &g.dev_lock, &g.bus, "user",
                               mcast, &n2) < 0);
    CHECK(rv_virtio_net_create(&g.map, NULL, MMIO_BASE, &irq, &g.dev_lock, &g.bus, "user",
                               NULL, &n2) < 0);
    CHECK_EQ(g.map.count, 1);

    test_init_and_config(&g);
    test_arp_roundtrip(&g, F_VERSION_1 | F_MAC | F_STATUS | F_MRG, false, false);
    test_arp_roundtrip(&g, F_VERSION_1 | F_MAC | F_MRG | F_INDIRECT | F_EVENT_IDX, true, true);
    test_mergeable(&g);
    test_no_mrg(&g);
    test_rx_flow_control(&g);
    test_tx_checksum_and_bad_frames(&g);
    test_malformed_and_reset(&g);
    test_random_frames(&g);
    test_save_load(&g);
    rig_free(&g);
    TEST_MAIN_END();
}
