/* The virtual network's DHCP server (vswitch.h): RFC 2131 message handling with the options
 * of RFC 2132, enough for busybox udhcpc, ISC dhclient and systemd-networkd:
 *   DISCOVER -> OFFER (the client's existing lease, else a free address of the pool)
 *   REQUEST  -> ACK if it asks for the address we hold for it, NAK otherwise (4.3.2); a
 *               REQUEST naming another server (option 54) releases our offer, silently
 *   RELEASE / DECLINE -> the lease is freed (a declined address is skipped for a while)
 *   INFORM   -> ACK with the configuration, no address (4.3.5)
 * Replies go back to the port the request came from only, never flooded: to the broadcast
 * address when the client set the BROADCAST flag (4.1), else to its MAC. */
#include <errno.h>
#include <string.h>

#include "core/bytes.h"
#include "net/vswitch.h"

#define BOOTP_MIN 236         /* fixed part, before the options (RFC 2131 section 2) */
#define MAGIC 0x63825363u     /* the options' magic cookie (RFC 2131 3) */
#define BOOTP_REPLY_LEN 300   /* BOOTP minimum message size (RFC 1542 2.1) */
#define NS_PER_S 1000000000ull
#define OFFER_HOLD_NS (60 * NS_PER_S)
#define DECLINE_HOLD_NS (600 * NS_PER_S)

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Option values we use, taken from one option. Options of wrong length are ignored. */
static void take_option(struct vsw_dhcp_msg *m, uint8_t code, const uint8_t *v, size_t len)
{
    switch (code) {
    case 53: if (len == 1) m->type = v[0]; break;
    case 50: if (len == 4) m->requested_ip = rv_get_be32(v); break;
    case 54: if (len == 4) m->server_id = rv_get_be32(v); break;
    case 1: if (len == 4) m->subnet_mask = rv_get_be32(v); break;
    case 3: if (len >= 4) m->router = rv_get_be32(v); break;
    case 6: if (len >= 4) m->dns = rv_get_be32(v); break;
    case 51: if (len == 4) m->lease_s = rv_get_be32(v); break;
    default: break;
    }
}

bool vsw_dhcp_parse(const uint8_t *p, size_t len, struct vsw_dhcp_msg *m)
{
    memset(m, 0, sizeof(*m));
    if (len < BOOTP_MIN + 4 || (p[0] != 1 && p[0] != 2) || p[1] != 1 || p[2] != 6)
        return false; /* not BOOTP over Ethernet (htype 1, hlen 6) */
    m->op = p[0];
    m->xid = rv_get_be32(p + 4);
    m->flags = (uint16_t)(p[10] << 8 | p[11]);
    m->ciaddr = rv_get_be32(p + 12);
    m->yiaddr = rv_get_be32(p + 16);
    m->siaddr = rv_get_be32(p + 20);
    m->giaddr = rv_get_be32(p + 24);
    memcpy(m->chaddr, p + 28, 6);
    if (rv_get_be32(p + BOOTP_MIN) != MAGIC)
        return false;
    size_t i = BOOTP_MIN + 4;
    while (i < len) {
        uint8_t code = p[i++];
        if (code == 0)
            continue;     /* pad */
        if (code == 255)
            return true;  /* end */
        if (i >= len || p[i] > len - i - 1)
            return false; /* the option runs past the message */
        size_t olen = p[i++];
        take_option(m, code, p + i, olen);
        i += olen;
    }
    return true; /* no end option: tolerated, as most servers do */
}

int vsw_dhcp_init(struct vsw_dhcp *d, uint32_t net, unsigned prefix, uint32_t router,
                  uint32_t dns, const uint8_t server_mac[6])
{
    if (prefix < 8 || prefix > 30)
        return -EINVAL;
    memset(d, 0, sizeof(*d));
    d->mask = ~0u << (32 - prefix);
    d->net = net & d->mask;
    d->server_ip = d->net + 1;
    d->router = router;
    d->dns = dns;
    uint32_t bcast = d->net | ~d->mask;
    /* .1 the switch/gateway, .2 DNS; leases from .10 when the subnet is big enough */
    d->pool_first = d->net + (bcast - d->net > 16 ? 10 : 3);
    d->pool_last = bcast - 1;
    if (d->pool_last - d->pool_first + 1 > VSW_DHCP_MAX_LEASES)
        d->pool_last = d->pool_first + VSW_DHCP_MAX_LEASES - 1;
    memcpy(d->server_mac, server_mac, 6);
    return 0;
}

static struct vsw_dhcp_lease *lease_of(struct vsw_dhcp *d, const uint8_t mac[6])
{
    for (unsigned i = 0; i < VSW_DHCP_MAX_LEASES; i++)
        if (d->leases[i].ip && memcmp(d->leases[i].mac, mac, 6) == 0)
            return &d->leases[i];
    return NULL;
}

const struct vsw_dhcp_lease *vsw_dhcp_lease_of(const struct vsw_dhcp *d, const uint8_t mac[6])
{
    return lease_of((struct vsw_dhcp *)d, mac);
}

static bool lease_live(const struct vsw_dhcp_lease *l, uint64_t now_ns)
{
    return l->ip && l->expires_ns > now_ns;
}

static bool ip_taken(struct vsw_dhcp *d, uint32_t ip, uint64_t now_ns)
{
    for (unsigned i = 0; i < VSW_DHCP_MAX_LEASES; i++)
        if (d->leases[i].ip == ip && lease_live(&d->leases[i], now_ns))
            return true;
    return false;
}

/* The client's lease, or a new one (an expired slot reused). NULL when the pool is full. */
static struct vsw_dhcp_lease *lease_get(struct vsw_dhcp *d, const uint8_t mac[6],
                                        uint64_t now_ns)
{
    struct vsw_dhcp_lease *l = lease_of(d, mac);
    if (l) {
        if (!lease_live(l, now_ns) && ip_taken(d, l->ip, now_ns))
            l->ip = 0; /* its old address went to someone else meanwhile */
        else
            return l;
    }
    struct vsw_dhcp_lease *slot = NULL;
    for (unsigned i = 0; i < VSW_DHCP_MAX_LEASES && !slot; i++)
        if (!lease_live(&d->leases[i], now_ns))
            slot = &d->leases[i];
    if (!slot)
        return NULL;
    for (uint32_t ip = d->pool_first; ip <= d->pool_last; ip++) {
        if (ip_taken(d, ip, now_ns))
            continue;
        memset(slot, 0, sizeof(*slot));
        memcpy(slot->mac, mac, 6);
        slot->ip = ip;
        return slot;
    }
    return NULL;
}

static uint8_t *put_opt(uint8_t *o, uint8_t code, uint8_t len, const void *v)
{
    o[0] = code;
    o[1] = len;
    memcpy(o + 2, v, len);
    return o + 2 + len;
}

static uint8_t *put_opt32(uint8_t *o, uint8_t code, uint32_t v)
{
    uint8_t b[4];
    rv_put_be32(b, v);
    return put_opt(o, code, 4, b);
}

/* Builds the reply frame. yiaddr 0 for NAK and INFORM answers. */
static size_t reply(struct vsw_dhcp *d, const struct vsw_dhcp_msg *q, uint8_t type,
                    uint32_t yiaddr, uint8_t *frame, size_t cap)
{
    uint8_t b[BOOTP_REPLY_LEN];
    memset(b, 0, sizeof(b));
    b[0] = 2; /* BOOTREPLY */
    b[1] = 1;
    b[2] = 6;
    rv_put_be32(b + 4, q->xid);
    b[10] = (uint8_t)(q->flags >> 8);
    b[11] = (uint8_t)q->flags;
    if (type == DHCPACK && q->type == DHCPINFORM)
        rv_put_be32(b + 12, q->ciaddr);
    rv_put_be32(b + 16, yiaddr);
    rv_put_be32(b + 20, d->server_ip);
    memcpy(b + 28, q->chaddr, 6);
    rv_put_be32(b + BOOTP_MIN, MAGIC);
    uint8_t *o = b + BOOTP_MIN + 4;
    o = put_opt(o, 53, 1, &type);
    o = put_opt32(o, 54, d->server_ip);
    if (type != DHCPNAK) {
        if (q->type != DHCPINFORM)
            o = put_opt32(o, 51, VSW_DHCP_LEASE_S);
        o = put_opt32(o, 1, d->mask);
        o = put_opt32(o, 28, d->net | ~d->mask);
        if (d->router)
            o = put_opt32(o, 3, d->router);
        if (d->dns)
            o = put_opt32(o, 6, d->dns);
    }
    *o = 255;
    /* RFC 2131 4.1: broadcast when the client asks for it or cannot receive unicast yet. */
    bool bcast = (q->flags & 0x8000) || type == DHCPNAK;
    uint32_t dst_ip = bcast ? 0xffffffffu : (q->ciaddr ? q->ciaddr : yiaddr);
    return vsw_build_udp(frame, cap, bcast ? bcast_mac : q->chaddr, d->server_mac, d->server_ip,
                         67, dst_ip, 68, b, sizeof(b));
}

static size_t on_request(struct vsw_dhcp *d, const struct vsw_dhcp_msg *m, uint64_t now_ns,
                         uint8_t *frame, size_t cap)
{
    struct vsw_dhcp_lease *l = lease_of(d, m->chaddr);
    if (m->server_id && m->server_id != d->server_ip) {
        if (l && !l->bound)
            l->ip = 0; /* the client chose another server's offer */
        return 0;
    }
    uint32_t want = m->requested_ip ? m->requested_ip : m->ciaddr;
    bool ours = l && l->ip == want && (lease_live(l, now_ns) || !ip_taken(d, want, now_ns));
    if (!ours && !l && !m->server_id && want >= d->pool_first && want <= d->pool_last &&
        !ip_taken(d, want, now_ns)) {
        /* INIT-REBOOT with an address we no longer know (the switch restarted): free, in
         * our pool, so it is the client's again. */
        l = lease_get(d, m->chaddr, now_ns);
        if (l) {
            l->ip = want;
            ours = true;
        }
    }
    if (!ours) {
        /* Without a server id (INIT-REBOOT, RENEWING, REBINDING) we answer only for our own
         * network (4.3.2); a wrong address gets a NAK. */
        if ((want & d->mask) != d->net && !m->server_id)
            return 0;
        return reply(d, m, DHCPNAK, 0, frame, cap);
    }
    l->bound = true;
    l->expires_ns = now_ns + VSW_DHCP_LEASE_S * NS_PER_S;
    d->changed = true;
    return reply(d, m, DHCPACK, l->ip, frame, cap);
}

size_t vsw_dhcp_handle(struct vsw_dhcp *d, const uint8_t *frame, size_t len, uint64_t now_ns,
                       uint8_t *out, size_t cap)
{
    struct vsw_udp u;
    struct vsw_dhcp_msg m;
    if (!vsw_parse_udp(frame, len, &u) || u.dst_port != 67 || u.src_port != 68 ||
        !vsw_dhcp_parse(u.payload, u.len, &m) || m.op != 1 || m.giaddr)
        return 0; /* not a client message for us (relayed messages are not served) */
    if (memcmp(m.chaddr, frame + 6, 6) != 0)
        return 0; /* chaddr must be the sender's own (already checked against the port) */
    struct vsw_dhcp_lease *l;
    switch (m.type) {
    case DHCPDISCOVER:
        l = lease_get(d, m.chaddr, now_ns);
        if (!l)
            return 0; /* pool exhausted: stay silent, the client retries */
        if (!l->bound)
            l->expires_ns = now_ns + OFFER_HOLD_NS;
        return reply(d, &m, DHCPOFFER, l->ip, out, cap);
    case DHCPREQUEST:
        return on_request(d, &m, now_ns, out, cap);
    case DHCPRELEASE:
        l = lease_of(d, m.chaddr);
        if (l && m.server_id == d->server_ip && l->ip == m.ciaddr) {
            l->ip = 0;
            d->changed = true;
        }
        return 0;
    case DHCPDECLINE:
        l = lease_of(d, m.chaddr);
        if (l && m.server_id == d->server_ip && l->ip == m.requested_ip) {
            /* Someone else uses the address: keep it out of the pool for a while. */
            memset(l->mac, 0, 6);
            l->bound = false;
            l->expires_ns = now_ns + DECLINE_HOLD_NS;
            d->changed = true;
        }
        return 0;
    case DHCPINFORM:
        return reply(d, &m, DHCPACK, 0, out, cap);
    default:
        return 0; /* plain BOOTP and server messages are not answered */
    }
}
