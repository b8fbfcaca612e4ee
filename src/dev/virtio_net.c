/* virtio-net device (see virtio_net.h; virtio 1.2 spec 5.1). */
#include "dev/virtio_net.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/log.h"
#include "core/serial.h"
#include "core/token_bucket.h"
#include "dev/virtio.h"
#include "net/net.h"

/* Feature bits (5.1.3) */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1

/* struct virtio_net_hdr (5.1.6): 12 bytes with VERSION_1, little-endian fields. */
#define HDR_LEN 12
#define HDR_F_NEEDS_CSUM 1
#define HDR_GSO_NONE 0

#define RXQ 0
#define TXQ 1
#define QUEUE_SIZE 256
#define CONFIG_SIZE 10 /* mac[6], status, max_virtqueue_pairs */

/* Largest frame either way: a 64 KiB IP packet behind an Ethernet header with a VLAN tag. */
#define MAX_FRAME (65535 + 18)
/* Receive buffers one frame may span with MRG_RXBUF. Linux's buffers hold a whole frame
 * (at least 1518 bytes + header); tiny buffers get frames up to this many of them. */
#define RX_MAX_BUFS 8
#define TX_NOTIFY_BATCH 64

#define STATE_VERSION 1

struct rv_virtio_net {
    struct rv_virtio *vd;
    atomic_bool attached;          /* vd is set: the backend may deliver */
    struct rv_net *net;
    uint8_t mac[6];
    uint16_t status;
    /* Bumped by reset and load, under the transport lock: chains popped under an older
     * generation belong to rings that no longer exist. */
    unsigned gen;

    /* Transmit worker */
    pthread_t tx_thread;
    bool tx_started;
    pthread_mutex_t tx_lock;       /* guards tx_kick, tx_stop, tx_paused, tx_busy */
    pthread_cond_t tx_cond;        /* the worker waits here; pause waits for !tx_busy */
    bool tx_kick, tx_stop;
    bool tx_paused, tx_busy;       /* quiescing (rv_virtio_net_pause) */
    struct rv_virtq_elem *tx_elem;
    uint8_t *tx_buf;               /* HDR_LEN + MAX_FRAME */
    uint64_t tx_frames, tx_dropped;
    struct rv_token_bucket tx_rate; /* bytes per second (rate=); owned by the worker */

    /* Receive rate limit (rate=): the backend thread charges rx_rate; a refused frame stays
     * with the backend, and the transmit worker calls rv_net_rx_ready() at rx_retry_at. */
    struct rv_token_bucket rx_rate;
    uint64_t rx_retry_at;          /* CLOCK_MONOTONIC ns, 0: none (under tx_lock) */

    /* Receive path (backend thread), all under the transport lock */
    struct rv_virtq_elem *rx_elems; /* RX_MAX_BUFS: popped, not yet filled */
    unsigned rx_held;
    atomic_bool rx_blocked;        /* a frame waits for buffers: tell the backend on notify */
    bool rx_paused;                /* quiesced: frames wait in the backend */
    uint64_t rx_frames, rx_dropped;
};

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static bool negotiated(struct rv_virtio_net *d, unsigned bit)
{
    return (rv_virtio_features(d->vd) >> bit) & 1;
}

/* --- transmit --- */

/* Completes a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM): the ones' complement sum of
 * frame[start..len), which already holds the pseudo-header sum in the checksum field, is
 * stored at start + offset. Returns false if the offsets do not fit the frame. */
static bool complete_checksum(uint8_t *frame, size_t len, size_t start, size_t offset)
{
    if (start >= len || offset > len - start || len - start - offset < 2)
        return false;
    uint32_t sum = 0;
    size_t i = start;
    for (; i + 1 < len; i += 2)
        sum += (uint32_t)(frame[i] << 8 | frame[i + 1]);
    if (i < len)
        sum += (uint32_t)frame[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t c = (uint16_t)~sum;
    if (c == 0)
        c = 0xffff; /* the same value in ones' complement; UDP reserves 0 for "no checksum" */
    frame[start + offset] = (uint8_t)(c >> 8);
    frame[start + offset + 1] = (uint8_t)c;
    return true;
}

/* Sends one transmit chain's frame. Problems with the frame (not with the ring) only drop
 * it, as a NIC drops a bad packet. */
static void tx_one(struct rv_virtio_net *d, const struct rv_virtq_elem *e)
{
    size_t len = e->out_len;
    if (len < HDR_LEN || len > HDR_LEN + MAX_FRAME) {
        d->tx_dropped++;
        return;
    }
    /* One copy, read once: the guest may change its buffers under us. */
    rv_iov_to_buf(e->out, e->out_num, 0, d->tx_buf, len);
    const uint8_t *hdr = d->tx_buf;
    uint8_t *frame = d->tx_buf + HDR_LEN;
    size_t flen = len - HDR_LEN;
    if (hdr[1] != HDR_GSO_NONE) { /* no GSO feature was offered */
        d->tx_dropped++;
        return;
    }
    if ((hdr[0] & HDR_F_NEEDS_CSUM) &&
        !complete_checksum(frame, flen, get_le16(hdr + 6), get_le16(hdr + 8))) {
        d->tx_dropped++;
        return;
    }
    struct iovec iov = {frame, flen};
    if (rv_net_send(d->net, &iov, 1)) {
        d->tx_dropped++;
        rv_debug("virtio-net: frame dropped: %s", rv_error_get());
        return;
    }
    d->tx_frames++;
}

static bool tx_should_pause(struct rv_virtio_net *d)
{
    pthread_mutex_lock(&d->tx_lock);
    bool p = d->tx_paused;
    pthread_mutex_unlock(&d->tx_lock);
    return p;
}

/* A deadline `ns` from now on CLOCK_REALTIME, the condition variables' clock. */
static struct timespec deadline_in(uint64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t t = (uint64_t)ts.tv_nsec + ns;
    ts.tv_sec += (time_t)(t / 1000000000u);
    ts.tv_nsec = (long)(t % 1000000000u);
    return ts;
}

/* Transmit rate limit: waits until the bucket is out of debt (the guest's ring is the queue
 * meanwhile: frames wait there, none is dropped). Completions are given back first. Returns
 * false if the worker must stop or pause. */
static bool tx_throttle(struct rv_virtio_net *d, bool unnotified)
{
    uint64_t wait = rv_tb_delay(&d->tx_rate, 1, rv_tb_now());
    if (!wait)
        return true;
    if (unnotified)
        rv_virtq_notify(d->vd, TXQ);
    pthread_mutex_lock(&d->tx_lock);
    while (!d->tx_stop && !d->tx_paused && (wait = rv_tb_delay(&d->tx_rate, 1, rv_tb_now()))) {
        struct timespec ts = deadline_in(wait);
        pthread_cond_timedwait(&d->tx_cond, &d->tx_lock, &ts);
    }
    bool go = !d->tx_stop && !d->tx_paused;
    pthread_mutex_unlock(&d->tx_lock);
    return go;
}

/* Empties the transmit queue, with driver notifications off while busy. */
static void tx_process(struct rv_virtio_net *d)
{
    pthread_mutex_t *lock = rv_virtio_lock(d->vd);
    for (;;) {
        unsigned done = 0;
        rv_virtq_set_notify(d->vd, TXQ, false);
        for (;;) {
            if (rv_tb_limited(&d->tx_rate) && !tx_throttle(d, done % TX_NOTIFY_BATCH != 0)) {
                rv_virtq_notify(d->vd, TXQ);
                rv_virtq_set_notify(d->vd, TXQ, true);
                return;
            }
            pthread_mutex_lock(lock);
            unsigned gen = d->gen;
            int rc = rv_virtq_pop(d->vd, TXQ, d->tx_elem);
            pthread_mutex_unlock(lock);
            if (rc <= 0)
                break; /* empty, or a bad ring: the transport wants a reset now */
            tx_one(d, d->tx_elem);
            rv_tb_take(&d->tx_rate, d->tx_elem->out_len, rv_tb_now());
            pthread_mutex_lock(lock);
            if (gen == d->gen)
                rv_virtq_push(d->vd, TXQ, d->tx_elem, 0);
            pthread_mutex_unlock(lock);
            if (tx_should_pause(d)) {
                rv_virtq_notify(d->vd, TXQ);
                rv_virtq_set_notify(d->vd, TXQ, true);
                return; /* the rest waits for rv_virtio_net_resume() */
            }
            if (++done % TX_NOTIFY_BATCH == 0)
                rv_virtq_notify(d->vd, TXQ);
        }
        if (done % TX_NOTIFY_BATCH)
            rv_virtq_notify(d->vd, TXQ);
        rv_virtq_set_notify(d->vd, TXQ, true);
        /* A chain added after the last pop but before notifications were back on has no
         * notification of its own: look again. */
        if (rv_virtq_avail(d->vd, TXQ) == 0)
            return;
    }
}

/* Called with tx_lock held: tells the backend to deliver again once the receive rate limit
 * allows (the lock is dropped around the call). */
static void rx_retry_due(struct rv_virtio_net *d)
{
    if (!d->rx_retry_at || rv_tb_now() < d->rx_retry_at)
        return;
    d->rx_retry_at = 0;
    pthread_mutex_unlock(&d->tx_lock);
    rv_net_rx_ready(d->net);
    pthread_mutex_lock(&d->tx_lock);
}

static void *tx_thread(void *opaque)
{
    struct rv_virtio_net *d = opaque;
    pthread_mutex_lock(&d->tx_lock);
    for (;;) {
        while ((!d->tx_kick || d->tx_paused) && !d->tx_stop) {
            rx_retry_due(d);
            if ((d->tx_kick && !d->tx_paused) || d->tx_stop)
                break;
            if (!d->rx_retry_at) {
                pthread_cond_wait(&d->tx_cond, &d->tx_lock);
                continue;
            }
            uint64_t now = rv_tb_now();
            struct timespec ts = deadline_in(d->rx_retry_at > now ? d->rx_retry_at - now : 0);
            pthread_cond_timedwait(&d->tx_cond, &d->tx_lock, &ts);
        }
        if (d->tx_stop)
            break;
        d->tx_kick = false;
        d->tx_busy = true;
        pthread_mutex_unlock(&d->tx_lock);
        tx_process(d);
        pthread_mutex_lock(&d->tx_lock);
        d->tx_busy = false;
        pthread_cond_broadcast(&d->tx_cond);
    }
    pthread_mutex_unlock(&d->tx_lock);
    return NULL;
}

static void tx_wake(struct rv_virtio_net *d)
{
    pthread_mutex_lock(&d->tx_lock);
    d->tx_kick = true;
    pthread_cond_signal(&d->tx_cond);
    pthread_mutex_unlock(&d->tx_lock);
}

/* --- receive (the backend's thread) --- */

/* Writes bytes [from, from + n) of the stream "header, then frame" into a chain's writable
 * buffers, from their start. */
static void rx_write(const struct rv_virtq_elem *e, const uint8_t *hdr, const uint8_t *frame,
                     size_t from, size_t n)
{
    size_t pos = 0;
    if (from < HDR_LEN) {
        size_t h = HDR_LEN - from < n ? HDR_LEN - from : n;
        rv_iov_from_buf(e->in, e->in_num, 0, hdr + from, h);
        pos = h;
    }
    if (pos < n)
        rv_iov_from_buf(e->in, e->in_num, pos, frame + (from + pos - HDR_LEN), n - pos);
}

/* Pops receive chains until `need` bytes fit. Returns 1 when they do, 0 when the queue ran
 * dry (chains popped so far stay held for the next frame), -1 when the frame cannot fit or
 * the ring is broken. Called with the transport lock held. */
static int rx_gather(struct rv_virtio_net *d, size_t need, bool mrg, unsigned *count)
{
    size_t room = 0;
    for (unsigned i = 0; i < d->rx_held; i++)
        room += d->rx_elems[i].in_len;
    while (room < need) {
        if (d->rx_held == (mrg ? RX_MAX_BUFS : 1))
            return -1;
        struct rv_virtq_elem *e = &d->rx_elems[d->rx_held];
        int rc = rv_virtq_pop(d->vd, RXQ, e);
        if (rc < 0) {
            d->rx_held = 0; /* the rings are gone until reset */
            return -1;
        }
        if (rc == 0)
            return 0;
        if (e->in_len == 0) {
            rv_virtq_push(d->vd, RXQ, e, 0); /* no room at all: hand it straight back */
            continue;
        }
        d->rx_held++;
        room += e->in_len;
    }
    *count = d->rx_held;
    return 1;
}

/* Receive rate limit, on the backend's thread: charges the frame, or schedules a retry with the
 * transmit worker (which serves as the timer) and says no. */
static bool rx_allowed(struct rv_virtio_net *d, size_t len)
{
    uint64_t now = rv_tb_now();
    uint64_t wait = rv_tb_delay(&d->rx_rate, len, now);
    if (!wait) {
        rv_tb_take(&d->rx_rate, len, now);
        return true;
    }
    pthread_mutex_lock(&d->tx_lock);
    d->rx_retry_at = now + wait;
    pthread_cond_signal(&d->tx_cond);
    pthread_mutex_unlock(&d->tx_lock);
    return false;
}

static bool net_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct rv_virtio_net *d = opaque;
    if (!atomic_load(&d->attached) || len > MAX_FRAME) {
        d->rx_dropped++;
        return true;
    }
    if (rv_tb_limited(&d->rx_rate) && !rx_allowed(d, len))
        return false; /* the backend keeps it (bounded queue) until rv_net_rx_ready() */
    pthread_mutex_t *lock = rv_virtio_lock(d->vd);
    pthread_mutex_lock(lock);
    if (d->rx_paused) {
        pthread_mutex_unlock(lock);
        return false; /* the backend keeps it until rv_virtio_net_resume() */
    }
    if (!rv_virtio_running(d->vd)) {
        pthread_mutex_unlock(lock);
        d->rx_dropped++; /* no driver, or a broken one: nobody listens, a NIC drops */
        return true;
    }
    bool mrg = negotiated(d, VIRTIO_NET_F_MRG_RXBUF);
    size_t need = HDR_LEN + len;
    unsigned count = 0;
    int rc = rx_gather(d, need, mrg, &count);
    if (rc == 0) {
        /* No buffers. Ask to be notified, then look once more: buffers added in between
         * came with a notification we would otherwise have ignored. */
        atomic_store(&d->rx_blocked, true);
        rv_virtq_set_notify(d->vd, RXQ, true);
        if (rv_virtq_avail(d->vd, RXQ)) {
            atomic_store(&d->rx_blocked, false);
            rc = rx_gather(d, need, mrg, &count);
        }
    }
    if (rc == 0) {
        pthread_mutex_unlock(lock);
        return false; /* the backend keeps the frame until rv_net_rx_ready() */
    }
    if (rc < 0) {
        /* Too big for the buffers the driver gives: drop it, and give back what we took,
         * empty (the driver counts a length error and reuses them). */
        for (unsigned i = 0; i < d->rx_held; i++)
            rv_virtq_push(d->vd, RXQ, &d->rx_elems[i], 0);
        d->rx_held = 0;
        d->rx_dropped++;
        pthread_mutex_unlock(lock);
        rv_virtq_notify(d->vd, RXQ);
        return true;
    }
    uint8_t hdr[HDR_LEN] = {0}; /* flags 0, GSO_NONE: a complete, checksummed frame */
    put_le16(hdr + 10, (uint16_t)count);
    size_t off = 0;
    for (unsigned i = 0; i < count; i++) {
        const struct rv_virtq_elem *e = &d->rx_elems[i];
        size_t n = e->in_len < need - off ? e->in_len : need - off;
        rx_write(e, hdr, frame, off, n);
        rv_virtq_push(d->vd, RXQ, e, (uint32_t)n);
        off += n;
    }
    d->rx_held = 0;
    d->rx_frames++;
    pthread_mutex_unlock(lock);
    rv_virtq_notify(d->vd, RXQ);
    return true;
}

/* --- transport callbacks (transport lock held) --- */

static void net_config_read(void *dev, uint32_t off, void *buf, unsigned len)
{
    struct rv_virtio_net *d = dev;
    uint8_t cfg[CONFIG_SIZE];
    memcpy(cfg, d->mac, 6);
    put_le16(cfg + 6, d->status);
    put_le16(cfg + 8, 1);
    memcpy(buf, cfg + off, len); /* the transport keeps [off, off + len) inside CONFIG_SIZE */
}

static void net_driver_ok(void *dev)
{
    struct rv_virtio_net *d = dev;
    tx_wake(d);
    rv_net_rx_ready(d->net);
}

static void net_queue_notify(void *dev, unsigned q)
{
    struct rv_virtio_net *d = dev;
    if (q == TXQ)
        tx_wake(d);
    else if (q == RXQ && atomic_exchange(&d->rx_blocked, false))
        rv_net_rx_ready(d->net); /* an eventfd write: never waits for the backend */
}

static void net_reset(void *dev)
{
    struct rv_virtio_net *d = dev;
    d->gen++;
    d->rx_held = 0; /* chains of the old rings: forgotten, not pushed */
    atomic_store(&d->rx_blocked, false);
}

static int net_save(void *dev, struct rv_state_writer *w)
{
    struct rv_virtio_net *d = dev;
    rv_put_u8(w, STATE_VERSION);
    rv_put_bytes(w, d->mac, 6);
    rv_put_u32(w, d->status);
    return w->error;
}

static int net_load(void *dev, struct rv_state_reader *r)
{
    struct rv_virtio_net *d = dev;
    uint8_t version = rv_get_u8(r), mac[6];
    rv_get_bytes(r, mac, 6);
    uint32_t status = rv_get_u32(r);
    if (r->error)
        return rv_error_set(-EINVAL, "virtio-net: truncated state");
    if (version != STATE_VERSION)
        return rv_error_set(-EINVAL, "virtio-net: unsupported state version %u", version);
    if ((mac[0] & 1) || (status & ~(uint32_t)VIRTIO_NET_S_LINK_UP))
        return rv_error_set(-EINVAL, "virtio-net: invalid MAC or status in state");
    pthread_mutex_t *lock = rv_virtio_lock(d->vd);
    pthread_mutex_lock(lock);
    memcpy(d->mac, mac, 6);
    d->status = (uint16_t)status;
    net_reset(d); /* chains in flight belong to the state we are replacing */
    pthread_mutex_unlock(lock);
    /* Look at the restored queues: buffers may be waiting that no notification announces. */
    tx_wake(d);
    rv_net_rx_ready(d->net);
    return 0;
}

void rv_virtio_net_pause(struct rv_virtio_net *d)
{
    pthread_mutex_lock(&d->tx_lock);
    d->tx_paused = true;
    while (d->tx_busy)
        pthread_cond_wait(&d->tx_cond, &d->tx_lock);
    pthread_mutex_unlock(&d->tx_lock);
    pthread_mutex_t *lock = rv_virtio_lock(d->vd);
    pthread_mutex_lock(lock);
    d->rx_paused = true;
    /* Receive buffers held for a frame that did not fit yet go back to the ring, so that the
     * saved ring state owns every buffer. */
    if (d->rx_held)
        rv_virtq_unpop(d->vd, RXQ, d->rx_held);
    d->rx_held = 0;
    pthread_mutex_unlock(lock);
}

void rv_virtio_net_resume(struct rv_virtio_net *d)
{
    pthread_mutex_t *lock = rv_virtio_lock(d->vd);
    pthread_mutex_lock(lock);
    d->rx_paused = false;
    pthread_mutex_unlock(lock);
    pthread_mutex_lock(&d->tx_lock);
    d->tx_paused = false;
    d->tx_kick = true; /* chains may have been queued while paused */
    pthread_cond_signal(&d->tx_cond);
    pthread_mutex_unlock(&d->tx_lock);
    rv_net_rx_ready(d->net);
}

void rv_virtio_net_set_mac(struct rv_virtio_net *d, const uint8_t mac[6])
{
    pthread_mutex_t *lock = rv_virtio_lock(d->vd);
    pthread_mutex_lock(lock);
    memcpy(d->mac, mac, 6);
    pthread_mutex_unlock(lock);
}

static void net_free(struct rv_virtio_net *d)
{
    if (d->tx_started) {
        pthread_mutex_lock(&d->tx_lock);
        d->tx_stop = true;
        pthread_cond_signal(&d->tx_cond);
        pthread_mutex_unlock(&d->tx_lock);
        pthread_join(d->tx_thread, NULL);
    }
    /* After the worker: it may be waiting in rv_net_send for the backend to take a frame. */
    rv_net_close(d->net);
    pthread_cond_destroy(&d->tx_cond);
    pthread_mutex_destroy(&d->tx_lock);
    free(d->tx_elem);
    free(d->tx_buf);
    free(d->rx_elems);
    free(d);
}

static void net_destroy(void *dev)
{
    net_free(dev);
}

static const struct rv_virtio_ops net_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .num_queues = 2,
    .queue_max = QUEUE_SIZE,
    .config_size = CONFIG_SIZE,
    .config_read = net_config_read,
    .driver_ok = net_driver_ok,
    .queue_notify = net_queue_notify,
    .reset = net_reset,
    .save = net_save,
    .load = net_load,
    .destroy = net_destroy,
};

void rv_virtio_net_set_rate(struct rv_virtio_net *d, uint64_t bytes_per_sec)
{
    uint64_t now = rv_tb_now();
    /* 100 ms of burst, but at least one maximal frame so that every frame can pass. */
    uint64_t burst = bytes_per_sec / 10 > MAX_FRAME + HDR_LEN ? 0 : MAX_FRAME + HDR_LEN;
    rv_tb_init(&d->tx_rate, bytes_per_sec, burst, now);
    rv_tb_init(&d->rx_rate, bytes_per_sec, burst, now);
}

int rv_virtio_net_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                         const struct rv_irq *irq, pthread_mutex_t *dev_lock, struct rv_bus *bus,
                         const char *netspec, const uint8_t mac[6], struct rv_virtio_net **out)
{
    static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    if (!mac)
        mac = default_mac;
    if (mac[0] & 1)
        return rv_error_set(-EINVAL, "virtio-net: MAC address is a multicast address");
    struct rv_virtio_net *d = calloc(1, sizeof(*d));
    if (!d)
        return rv_error_set(-ENOMEM, "virtio-net: out of memory");
    memcpy(d->mac, mac, 6);
    d->status = VIRTIO_NET_S_LINK_UP;
    pthread_mutex_init(&d->tx_lock, NULL);
    pthread_cond_init(&d->tx_cond, NULL);
    d->tx_elem = malloc(sizeof(*d->tx_elem));
    d->tx_buf = malloc(HDR_LEN + MAX_FRAME);
    d->rx_elems = calloc(RX_MAX_BUFS, sizeof(*d->rx_elems));
    if (!d->tx_elem || !d->tx_buf || !d->rx_elems) {
        net_free(d);
        return rv_error_set(-ENOMEM, "virtio-net: out of memory");
    }
    int rc = pthread_create(&d->tx_thread, NULL, tx_thread, d);
    if (rc) {
        net_free(d);
        return rv_error_set(-rc, "virtio-net: cannot start the transmit worker");
    }
    d->tx_started = true;
    /* The backend may deliver before the transport exists: `attached` says when. */
    struct rv_net_client client = {.receive = net_receive, .opaque = d};
    rc = rv_net_open(netspec, mac, &client, &d->net);
    if (rc) {
        net_free(d);
        return rc;
    }
    rv_net_get_mac(d->net, d->mac); /* the switch backend assigns the port's MAC */
    uint64_t features = 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_MAC |
                        1ull << VIRTIO_NET_F_MRG_RXBUF | 1ull << VIRTIO_NET_F_STATUS;
    rc = rv_virtio_create(map, fdt, base, irq, dev_lock, bus, &net_ops, d, features, &d->vd);
    if (rc) {
        net_free(d);
        return rc;
    }
    atomic_store(&d->attached, true);
    *out = d;
    return 0;
}
