/* The virtual switch's forwarding logic (vswitch.h): port admission checks, MAC learning,
 * flooding, token-bucket rate limits; plus the IPv4/UDP frame helpers and pcap headers. */
#include <errno.h>
#include <string.h>

#include "core/bytes.h"
#include "net/vswitch.h"

#define TOKEN 1024ull /* bucket units per token */
#define NS_PER_S 1000000000ull

const char *const vsw_drop_names[VSW_DROP_REASONS] = {
    [VSW_DROP_MALFORMED] = "malformed",     [VSW_DROP_OVERSIZE] = "oversize",
    [VSW_DROP_SPOOFED] = "spoofed_mac",     [VSW_DROP_STORM] = "flood_limit",
    [VSW_DROP_DHCP_SERVER] = "dhcp_server", [VSW_DROP_QUEUE_FULL] = "queue_full",
    [VSW_DROP_NO_ROUTE] = "no_route",
};

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, 6) == 0;
}

static bool mac_is_group(const uint8_t *m)
{
    return m[0] & 1; /* broadcast or multicast (IEEE 802 I/G bit) */
}

static bool mac_is_zero(const uint8_t *m)
{
    static const uint8_t zero[6];
    return mac_eq(m, zero);
}

/* --- token buckets --- */

void vsw_bucket_init(struct vsw_bucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
    b->rate = rate;
    b->burst = burst * TOKEN;
    b->tokens = b->burst;
    b->last_ns = now_ns;
}

static void bucket_refill(struct vsw_bucket *b, uint64_t now_ns)
{
    if (now_ns <= b->last_ns)
        return;
    /* rate * TOKEN / NS_PER_S units per ns; a gap of a second or more fills the bucket */
    uint64_t dt = now_ns - b->last_ns;
    uint64_t add = dt >= NS_PER_S ? b->burst : dt * b->rate / (NS_PER_S / TOKEN);
    b->tokens = b->tokens + add > b->burst ? b->burst : b->tokens + add;
    b->last_ns = now_ns;
}

/* Whether n tokens are there (after a refill); if not, *wait_ns says how long until. */
static bool bucket_has(struct vsw_bucket *b, uint64_t n, uint64_t now_ns, uint64_t *wait_ns)
{
    if (!b->rate)
        return true; /* unlimited */
    bucket_refill(b, now_ns);
    uint64_t need = n * TOKEN;
    if (need > b->burst)
        need = b->burst; /* a frame bigger than the burst passes on a full bucket */
    if (b->tokens >= need)
        return true;
    if (wait_ns)
        *wait_ns = (need - b->tokens) * (NS_PER_S / TOKEN) / b->rate + 1;
    return false;
}

static void bucket_charge(struct vsw_bucket *b, uint64_t n)
{
    uint64_t need = n * TOKEN > b->burst ? b->burst : n * TOKEN;
    if (b->rate)
        b->tokens -= need < b->tokens ? need : b->tokens;
}

bool vsw_bucket_take(struct vsw_bucket *b, uint64_t n, uint64_t now_ns, uint64_t *wait_ns)
{
    if (!bucket_has(b, n, now_ns, wait_ns))
        return false;
    bucket_charge(b, n);
    return true;
}

/* --- ports and the forwarding database --- */

void vsw_init(struct vsw *s, const struct vsw_limits *limits)
{
    memset(s, 0, sizeof(*s));
    s->limits = *limits;
    for (unsigned i = 0; i < VSW_FDB_SIZE; i++)
        s->fdb[i].port = -1;
}

static struct vsw_fdb_entry *fdb_find(struct vsw *s, const uint8_t mac[6], uint64_t now_ns)
{
    for (unsigned i = 0; i < VSW_FDB_SIZE; i++) {
        struct vsw_fdb_entry *e = &s->fdb[i];
        if (e->port < 0 || !mac_eq(e->mac, mac))
            continue;
        if (!e->fixed && now_ns - e->seen_ns > VSW_FDB_AGE_NS) {
            e->port = -1; /* aged out */
            return NULL;
        }
        return e;
    }
    return NULL;
}

/* A free entry, else the least recently seen learned one. NULL if all are fixed. */
static struct vsw_fdb_entry *fdb_slot(struct vsw *s)
{
    struct vsw_fdb_entry *oldest = NULL;
    for (unsigned i = 0; i < VSW_FDB_SIZE; i++) {
        struct vsw_fdb_entry *e = &s->fdb[i];
        if (e->port < 0)
            return e;
        if (!e->fixed && (!oldest || e->seen_ns < oldest->seen_ns))
            oldest = e;
    }
    return oldest;
}

static void fdb_learn(struct vsw *s, const uint8_t mac[6], unsigned port, bool fixed,
                      uint64_t now_ns)
{
    struct vsw_fdb_entry *e = fdb_find(s, mac, now_ns);
    if (e && e->fixed && !fixed)
        return; /* a VM's assigned MAC is never taken over by learning */
    if (!e)
        e = fdb_slot(s);
    if (!e)
        return;
    memcpy(e->mac, mac, 6);
    e->port = (int16_t)port;
    e->fixed = fixed;
    e->seen_ns = now_ns;
}

bool vsw_mac_in_use(const struct vsw *s, const uint8_t mac[6])
{
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
        if (s->ports[p].used && !s->ports[p].uplink && mac_eq(s->ports[p].mac, mac))
            return true;
    return false;
}

int vsw_port_add(struct vsw *s, bool uplink, const uint8_t mac[6], uint64_t now_ns)
{
    if (!uplink && (vsw_mac_in_use(s, mac) || mac_is_group(mac) || mac_is_zero(mac)))
        return mac_is_group(mac) || mac_is_zero(mac) ? -EINVAL : -EADDRINUSE;
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++) {
        struct vsw_port *pt = &s->ports[p];
        if (pt->used)
            continue;
        memset(pt, 0, sizeof(*pt));
        pt->used = true;
        pt->uplink = uplink;
        const struct vsw_limits *l = &s->limits;
        /* Bursts: 10 ms worth, at least a queue's worth of frames / a few large frames. */
        vsw_bucket_init(&pt->pps, l->pps, l->pps / 100 > 64 ? l->pps / 100 : 64, now_ns);
        vsw_bucket_init(&pt->bps, l->bps, l->bps / 100 > 65536 ? l->bps / 100 : 65536, now_ns);
        vsw_bucket_init(&pt->flood, l->flood_pps, l->flood_pps / 10 > 32 ? l->flood_pps / 10 : 32,
                        now_ns);
        if (!uplink) {
            memcpy(pt->mac, mac, 6);
            fdb_learn(s, mac, p, true, now_ns);
        }
        return (int)p;
    }
    return -ENOSPC;
}

void vsw_port_remove(struct vsw *s, unsigned port)
{
    if (port >= VSW_MAX_PORTS)
        return;
    s->ports[port].used = false;
    for (unsigned i = 0; i < VSW_FDB_SIZE; i++)
        if (s->fdb[i].port == (int16_t)port)
            s->fdb[i].port = -1;
}

void vsw_count_out(struct vsw *s, unsigned port, size_t len)
{
    s->ports[port].c.out_frames++;
    s->ports[port].c.out_bytes += len;
}

void vsw_count_drop(struct vsw *s, unsigned port, enum vsw_drop why)
{
    s->ports[port].c.drops[why]++;
}

static enum vsw_verdict drop(struct vsw_port *pt, enum vsw_drop why)
{
    pt->c.drops[why]++;
    return VSW_DROP;
}

/* A frame from a VM answering as a DHCP server (UDP source port 67 to client port 68). */
static bool is_dhcp_server_frame(const uint8_t *frame, size_t len)
{
    struct vsw_udp u;
    return vsw_parse_udp(frame, len, &u) && u.src_port == 67 && u.dst_port == 68;
}

static bool is_dhcp_request_frame(const uint8_t *frame, size_t len)
{
    struct vsw_udp u;
    return vsw_parse_udp(frame, len, &u) && u.dst_port == 67;
}

static vsw_portmask others(const struct vsw *s, unsigned port)
{
    vsw_portmask m = 0;
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
        if (s->ports[p].used && p != port)
            m |= (vsw_portmask)1 << p;
    return m;
}

enum vsw_verdict vsw_ingress(struct vsw *s, unsigned port, const uint8_t *frame, size_t len,
                             uint64_t now_ns, vsw_portmask *out, uint64_t *retry_ns)
{
    *out = 0;
    if (port >= VSW_MAX_PORTS || !s->ports[port].used)
        return VSW_DROP;
    struct vsw_port *pt = &s->ports[port];
    if (len > VSW_MAX_FRAME)
        return drop(pt, VSW_DROP_OVERSIZE);
    if (len < VSW_MIN_FRAME)
        return drop(pt, VSW_DROP_MALFORMED);
    const uint8_t *dst = frame, *src = frame + 6;
    if (mac_is_group(src) || mac_is_zero(src))
        return drop(pt, VSW_DROP_MALFORMED);
    if (!pt->uplink && !mac_eq(src, pt->mac))
        return drop(pt, VSW_DROP_SPOOFED);
    /* Rate limits shape (the frame waits in the sender's queue), they do not drop; both
     * buckets are checked before either is charged. */
    uint64_t wait_p = 0, wait_b = 0;
    bool ok_p = bucket_has(&pt->pps, 1, now_ns, &wait_p);
    bool ok_b = bucket_has(&pt->bps, len, now_ns, &wait_b);
    if (!ok_p || !ok_b) {
        pt->c.throttled++;
        *retry_ns = wait_p > wait_b ? wait_p : wait_b;
        return VSW_THROTTLE;
    }
    bucket_charge(&pt->pps, 1);
    bucket_charge(&pt->bps, len);
    if (!pt->uplink && is_dhcp_server_frame(frame, len))
        return drop(pt, VSW_DROP_DHCP_SERVER);
    if (pt->uplink)
        fdb_learn(s, src, port, false, now_ns);
    else
        fdb_find(s, src, now_ns); /* fixed entry: nothing to refresh */
    if (!pt->uplink && is_dhcp_request_frame(frame, len)) {
        pt->c.in_frames++;
        pt->c.in_bytes += len;
        return VSW_LOCAL;
    }
    const struct vsw_fdb_entry *e = mac_is_group(dst) ? NULL : fdb_find(s, dst, now_ns);
    if (e) {
        if ((unsigned)e->port == port)
            return drop(pt, VSW_DROP_NO_ROUTE);
        *out = (vsw_portmask)1 << e->port;
    } else {
        if (!vsw_bucket_take(&pt->flood, 1, now_ns, NULL))
            return drop(pt, VSW_DROP_STORM);
        *out = others(s, port);
        if (!*out)
            return drop(pt, VSW_DROP_NO_ROUTE);
    }
    pt->c.in_frames++;
    pt->c.in_bytes += len;
    return VSW_FORWARD;
}

/* --- IPv4/UDP frames --- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        sum += rv_get_be16(p + i);
    if (i < len)
        sum += (uint32_t)p[i] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

bool vsw_parse_udp(const uint8_t *f, size_t len, struct vsw_udp *u)
{
    if (len < 14 + 20 + 8 || rv_get_be16(f + 12) != 0x0800)
        return false;
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = rv_get_be16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl + 8 || tot > len - 14 || ip[9] != 17)
        return false;
    if (rv_get_be16(ip + 6) & 0x3fff)
        return false; /* a fragment (MF set or nonzero offset) */
    const uint8_t *udp = ip + ihl;
    size_t ulen = rv_get_be16(udp + 4);
    if (ulen < 8 || ulen > tot - ihl)
        return false;
    u->src_ip = rv_get_be32(ip + 12);
    u->dst_ip = rv_get_be32(ip + 16);
    u->src_port = rv_get_be16(udp);
    u->dst_port = rv_get_be16(udp + 2);
    u->payload = udp + 8;
    u->len = ulen - 8;
    return true;
}

size_t vsw_build_udp(uint8_t *f, size_t cap, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                     uint32_t src_ip, uint16_t src_port, uint32_t dst_ip, uint16_t dst_port,
                     const uint8_t *payload, size_t len)
{
    size_t total = 14 + 20 + 8 + len;
    if (total > cap || 20 + 8 + len > 0xffff)
        return 0;
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    rv_put_be16(f + 12, 0x0800);
    uint8_t *ip = f + 14, *udp = ip + 20;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    rv_put_be16(ip + 2, (uint16_t)(20 + 8 + len));
    ip[8] = 64; /* TTL */
    ip[9] = 17;
    rv_put_be32(ip + 12, src_ip);
    rv_put_be32(ip + 16, dst_ip);
    rv_put_be16(ip + 10, fold(sum16(ip, 20, 0)));
    rv_put_be16(udp, src_port);
    rv_put_be16(udp + 2, dst_port);
    rv_put_be16(udp + 4, (uint16_t)(8 + len));
    rv_put_be16(udp + 6, 0);
    memmove(udp + 8, payload, len);
    /* UDP checksum over the pseudo-header (RFC 768); 0 is sent as 0xffff. */
    uint32_t sum = sum16(ip + 12, 8, 17 + (uint32_t)(8 + len));
    uint16_t c = fold(sum16(udp, 8 + len, sum));
    rv_put_be16(udp + 6, c ? c : 0xffff);
    return total;
}

/* --- pcap --- */

void vsw_pcap_header(uint8_t out[VSW_PCAP_HEADER_LEN])
{
    rv_put_le32(out, 0xa1b23c4d);     /* magic: nanosecond timestamps */
    rv_put_le16(out + 4, 2);          /* version 2.4 */
    rv_put_le16(out + 6, 4);
    rv_put_le32(out + 8, 0);          /* thiszone */
    rv_put_le32(out + 12, 0);         /* sigfigs */
    rv_put_le32(out + 16, 65535);     /* snaplen */
    rv_put_le32(out + 20, 1);         /* LINKTYPE_ETHERNET */
}

void vsw_pcap_record(uint8_t out[VSW_PCAP_RECORD_LEN], uint64_t realtime_ns, size_t len)
{
    rv_put_le32(out, (uint32_t)(realtime_ns / 1000000000));
    rv_put_le32(out + 4, (uint32_t)(realtime_ns % 1000000000));
    rv_put_le32(out + 8, (uint32_t)len);  /* captured */
    rv_put_le32(out + 12, (uint32_t)len); /* on the wire */
}
