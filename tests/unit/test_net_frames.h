/* Helpers for the network tests: a client that collects frames, and builders/parsers for the
 * Ethernet, ARP, IPv4, UDP, TCP and DHCP packets the tests craft by hand. */
#ifndef RV_TEST_NET_FRAMES_H
#define RV_TEST_NET_FRAMES_H

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ETH_P_IPV4 0x0800
#define ETH_P_ARPT 0x0806
#define IPPROTO_UDP_ 17
#define IPPROTO_TCP_ 6
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

#define FRAME_MAX 2048
#define COLLECT_MAX 512

/* --- a client that collects frames --- */

struct collected {
    size_t len;
    uint8_t data[FRAME_MAX];
};

struct collector {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct collected *frames; /* COLLECT_MAX */
    unsigned head, count;
    unsigned refuse;          /* refuse this many more frames (the guest has no buffers) */
    unsigned refused, received;
};

static inline void collector_init(struct collector *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->frames = calloc(COLLECT_MAX, sizeof(*c->frames));
}

static inline void collector_free(struct collector *c)
{
    free(c->frames);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
}

static inline bool collector_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct collector *c = opaque;
    pthread_mutex_lock(&c->lock);
    if (c->refuse) {
        c->refuse--;
        c->refused++;
        pthread_mutex_unlock(&c->lock);
        return false;
    }
    if (c->count < COLLECT_MAX && len <= FRAME_MAX) {
        struct collected *f = &c->frames[(c->head + c->count) % COLLECT_MAX];
        f->len = len;
        memcpy(f->data, frame, len);
        c->count++;
    }
    c->received++;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return true;
}

/* Takes the oldest frame, waiting up to timeout_ms (a failure guard, not a timing check). */
static inline bool collector_next(struct collector *c, uint8_t *buf, size_t *len, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&c->lock);
    while (c->count == 0) {
        if (pthread_cond_timedwait(&c->cond, &c->lock, &deadline) == ETIMEDOUT)
            break;
    }
    bool got = c->count > 0;
    if (got) {
        struct collected *f = &c->frames[c->head];
        memcpy(buf, f->data, f->len);
        *len = f->len;
        c->head = (c->head + 1) % COLLECT_MAX;
        c->count--;
    }
    pthread_mutex_unlock(&c->lock);
    return got;
}

/* --- byte order helpers --- */

static inline uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Internet checksum (RFC 1071) of `len` bytes, starting from the partial sum `sum`. */
static inline uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static inline uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* --- builders (return the frame length) --- */

static inline size_t eth_header(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
                                uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put16(f + 12, type);
    return 14;
}

/* ARP (op 1 request, 2 reply) for IPv4 over Ethernet. */
static inline size_t arp_frame(uint8_t *f, uint16_t op, const uint8_t eth_dst[6],
                               const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
                               uint32_t tpa)
{
    size_t n = eth_header(f, eth_dst, sha, ETH_P_ARPT);
    uint8_t *a = f + n;
    put16(a, 1);
    put16(a + 2, ETH_P_IPV4);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, op);
    memcpy(a + 8, sha, 6);
    put32(a + 14, spa);
    memcpy(a + 18, tha, 6);
    put32(a + 24, tpa);
    return n + 28;
}

static inline size_t ipv4_header(uint8_t *ip, uint8_t proto, uint32_t src, uint32_t dst,
                                 size_t payload_len)
{
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + payload_len));
    put16(ip + 4, 0x1234);
    put16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    return 20;
}

static inline uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
    uint8_t ph[12];
    put32(ph, src);
    put32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, (uint16_t)len);
    return csum_add(0, ph, 12);
}

/* Ethernet + IPv4 + UDP. With `partial`, the UDP checksum field holds only the folded
 * pseudo-header sum (not complemented), as a driver leaves it for checksum offload. */
static inline size_t udp_frame(uint8_t *f, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                               uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                               const void *data, size_t len, bool partial)
{
    size_t n = eth_header(f, dst_mac, src_mac, ETH_P_IPV4);
    n += ipv4_header(f + n, IPPROTO_UDP_, src, dst, 8 + len);
    uint8_t *u = f + n;
    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, (uint16_t)(8 + len));
    put16(u + 6, 0);
    memcpy(u + 8, data, len);
    uint32_t ps = pseudo_sum(src, dst, IPPROTO_UDP_, 8 + len);
    if (partial) {
        put16(u + 6, (uint16_t)~csum_fold(ps));
    } else {
        uint16_t c = csum_fold(csum_add(ps, u, 8 + len));
        put16(u + 6, c ? c : 0xffff);
    }
    return n + 8 + len;
}

static inline size_t tcp_frame(uint8_t *f, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                               uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                               uint32_t seq, uint32_t ack, uint8_t flags, const void *data,
                               size_t len)
{
    size_t n = eth_header(f, dst_mac, src_mac, ETH_P_IPV4);
    n += ipv4_header(f + n, IPPROTO_TCP_, src, dst, 20 + len);
    uint8_t *t = f + n;
    memset(t, 0, 20);
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = flags;
    put16(t + 14, 65535);
    if (len)
        memcpy(t + 20, data, len);
    put16(t + 16, csum_fold(csum_add(pseudo_sum(src, dst, IPPROTO_TCP_, 20 + len), t, 20 + len)));
    return n + 20 + len;
}

/* DHCP message (BOOTP request) of `type` (1 discover, 3 request) from 0.0.0.0 to broadcast. */
static inline size_t dhcp_frame(uint8_t *f, const uint8_t mac[6], uint32_t xid, uint8_t type,
                                uint32_t requested, uint32_t server)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t b[300];
    memset(b, 0, sizeof(b));
    b[0] = 1; /* BOOTREQUEST */
    b[1] = 1; /* Ethernet */
    b[2] = 6;
    put32(b + 4, xid);
    memcpy(b + 28, mac, 6);
    put32(b + 236, 0x63825363); /* magic cookie */
    size_t o = 240;
    b[o++] = 53, b[o++] = 1, b[o++] = type;
    if (requested) {
        b[o++] = 50, b[o++] = 4;
        put32(b + o, requested);
        o += 4;
    }
    if (server) {
        b[o++] = 54, b[o++] = 4;
        put32(b + o, server);
        o += 4;
    }
    b[o++] = 255;
    return udp_frame(f, bcast, mac, 0, 68, 0xffffffff, 67, b, sizeof(b), false);
}

/* --- parsers --- */

static inline uint16_t eth_type(const uint8_t *f)
{
    return get16(f + 12);
}

/* The IPv4 header of a frame, or NULL if it is not a well-formed IPv4 frame of `len` bytes. */
static inline const uint8_t *frame_ipv4(const uint8_t *f, size_t len)
{
    if (len < 34 || eth_type(f) != ETH_P_IPV4 || (f[14] >> 4) != 4)
        return NULL;
    size_t ihl = (size_t)(f[14] & 15) * 4;
    if (ihl < 20 || 14 + ihl > len || get16(f + 16) + 14u > len)
        return NULL;
    return f + 14;
}

/* The L4 header of an IPv4 frame with protocol `proto`, or NULL. */
static inline const uint8_t *frame_l4(const uint8_t *f, size_t len, uint8_t proto, size_t *l4_len)
{
    const uint8_t *ip = frame_ipv4(f, len);
    if (!ip || ip[9] != proto)
        return NULL;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    *l4_len = get16(ip + 2) - ihl;
    return ip + ihl;
}

/* The value of DHCP option `code` in a BOOTP reply (UDP payload), or NULL. */
static inline const uint8_t *dhcp_option(const uint8_t *b, size_t len, uint8_t code, size_t *olen)
{
    size_t o = 240;
    if (len < o || get32(b + 236) != 0x63825363)
        return NULL;
    while (o < len && b[o] != 255) {
        if (b[o] == 0) {
            o++;
            continue;
        }
        if (o + 1 >= len || o + 2 + b[o + 1] > len)
            return NULL;
        if (b[o] == code) {
            *olen = b[o + 1];
            return b + o + 2;
        }
        o += 2 + (size_t)b[o + 1];
    }
    return NULL;
}

static inline uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (uint32_t)(a << 24 | b << 16 | c << 8 | d);
}

#endif
