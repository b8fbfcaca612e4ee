/* The virtual switch's logic without sockets or VMs (net/vswitch.h): learning, flooding,
 * the per-port MAC filter, size checks, rate and flood limits, the DHCP server's parsing,
 * leases and replies, the UDP frame builder, pcap headers, and the port protocol's messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "net/vsw_proto.h"
#include "net/vswitch.h"
#include "test.h"

#define S 1000000000ull

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0xa};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0xb};
static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 0xc};
static const uint8_t mac_x[6] = {0x02, 0, 0, 0, 0, 0x99}; /* behind the uplink */
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t srv_mac[6] = {0x02, 0x72, 0x76, 0xff, 0xff, 0xfe};

static size_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, size_t len)
{
    memset(f, 0, len);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08;
    f[13] = 0x06; /* ARP; content does not matter to the switch */
    return len;
}

static void init_switch(struct vsw *s, int *pa, int *pb, int *pc, int *up)
{
    struct vsw_limits l = {0, 0, 0}; /* unlimited unless a test sets limits */
    vsw_init(s, &l);
    *pa = vsw_port_add(s, false, mac_a, 0);
    *pb = vsw_port_add(s, false, mac_b, 0);
    *pc = vsw_port_add(s, false, mac_c, 0);
    *up = vsw_port_add(s, true, NULL, 0);
}

static void test_forwarding(void)
{
    struct vsw s;
    int pa, pb, pc, up;
    uint8_t f[1600];
    vsw_portmask out;
    uint64_t retry;
    init_switch(&s, &pa, &pb, &pc, &up);
    CHECK(pa == 0 && pb == 1 && pc == 2 && up == 3);
    /* Assigned MACs are known from the start: unicast goes to one port only. */
    CHECK_EQ(vsw_ingress(&s, pa, f, eth(f, mac_b, mac_a, 60), 1, &out, &retry), VSW_FORWARD);
    CHECK_EQ(out, 1u << pb);
    /* Broadcast: every port but the sender. */
    CHECK_EQ(vsw_ingress(&s, pa, f, eth(f, bcast, mac_a, 60), 2, &out, &retry), VSW_FORWARD);
    CHECK_EQ(out, (1u << pb) | (1u << pc) | (1u << up));
    /* Multicast (I/G bit) floods too. */
    const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
    CHECK_EQ(vsw_ingress(&s, pb, f, eth(f, mcast, mac_b, 60), 3, &out, &retry), VSW_FORWARD);
    CHECK_EQ(out, (1u << pa) | (1u << pc) | (1u << up));
    /* Unknown unicast floods until the owner is learned on the uplink. */
    CHECK_EQ(vsw_ingress(&s, pa, f, eth(f, mac_x, mac_a, 60), 4, &out, &retry), VSW_FORWARD);
    CHECK_EQ(out, (1u << pb) | (1u << pc) | (1u << up));
    CHECK_EQ(vsw_ingress(&s, up, f, eth(f, mac_a, mac_x, 60), 5, &out, &retry), VSW_FORWARD);
    CHECK_EQ(out, 1u << pa);
    CHECK_EQ(vsw_ingress(&s, pa, f, eth(f, mac_x, mac_a, 60), 6, &out, &retry), VSW_FORWARD);
    CHECK_EQ(out, 1u << up);
    /* Learned entries age out (VM MACs do not). */
    uint64_t later = 6 + VSW_FDB_AGE_NS + 1;
    CHECK_EQ(vsw_ingress(&s, pa, f, eth(f, mac_x, mac_a, 60), later, &out, &retry), VSW_FORWARD);
    CHECK_EQ(out, (1u << pb) | (1u << pc) | (1u << up));
    CHECK_EQ(vsw_ingress(&s, pc, f, eth(f, mac_a, mac_c, 60), later, &out, &retry), VSW_FORWARD);
    CHECK_EQ(out, 1u << pa);
    /* The uplink cannot take over a VM's MAC by learning. */
    CHECK_EQ(vsw_ingress(&s, up, f, eth(f, mac_c, mac_a, 60), later, &out, &retry), VSW_FORWARD);
    CHECK_EQ(vsw_ingress(&s, pb, f, eth(f, mac_a, mac_b, 60), later, &out, &retry), VSW_FORWARD);
    CHECK_EQ(out, 1u << pa);
    /* To the sender's own port: nowhere. */
    CHECK_EQ(vsw_ingress(&s, pa, f, eth(f, mac_a, mac_a, 60), later, &out, &retry), VSW_DROP);
    CHECK_EQ(s.ports[pa].c.drops[VSW_DROP_NO_ROUTE], 1);
    /* Counters: A sent 5 accepted frames of 60 bytes. */
    CHECK_EQ(s.ports[pa].c.in_frames, 5);
    CHECK_EQ(s.ports[pa].c.in_bytes, 300);
    vsw_count_out(&s, pb, 60);
    CHECK_EQ(s.ports[pb].c.out_frames, 1);
    /* A port leaves: its MAC is forgotten, another port may take it. */
    vsw_port_remove(&s, pb);
    CHECK_EQ(vsw_ingress(&s, pa, f, eth(f, mac_b, mac_a, 60), later, &out, &retry), VSW_FORWARD);
    CHECK_EQ(out, (1u << pc) | (1u << up));
    CHECK(!vsw_mac_in_use(&s, mac_b));
    CHECK_EQ(vsw_port_add(&s, false, mac_b, later), pb);
}

static void test_admission(void)
{
    struct vsw s;
    int pa, pb, pc, up;
    uint8_t f[2000];
    vsw_portmask out;
    uint64_t retry;
    init_switch(&s, &pa, &pb, &pc, &up);
    CHECK_EQ(vsw_port_add(&s, false, mac_a, 0), -EADDRINUSE);
    CHECK_EQ(vsw_port_add(&s, false, bcast, 0), -EINVAL);
    const uint8_t zero[6] = {0};
    CHECK_EQ(vsw_port_add(&s, false, zero, 0), -EINVAL);
    /* Forged source MAC: dropped, counted, not learned. */
    CHECK_EQ(vsw_ingress(&s, pa, f, eth(f, mac_b, mac_x, 60), 1, &out, &retry), VSW_DROP);
    CHECK_EQ(s.ports[pa].c.drops[VSW_DROP_SPOOFED], 1);
    CHECK_EQ(vsw_ingress(&s, pa, f, eth(f, mac_b, mac_b, 60), 1, &out, &retry), VSW_DROP);
    CHECK_EQ(s.ports[pa].c.drops[VSW_DROP_SPOOFED], 2);
    CHECK_EQ(vsw_ingress(&s, pc, f, eth(f, mac_x, mac_c, 60), 1, &out, &retry), VSW_FORWARD);
    CHECK_EQ(out, (1u << pa) | (1u << pb) | (1u << up)); /* mac_x still unknown */
    /* Runts, multicast or zero source MACs, oversize frames. */
    CHECK_EQ(vsw_ingress(&s, pa, f, 13, 1, &out, &retry), VSW_DROP);
    CHECK_EQ(vsw_ingress(&s, up, f, eth(f, mac_a, bcast, 60), 1, &out, &retry), VSW_DROP);
    CHECK_EQ(vsw_ingress(&s, up, f, eth(f, mac_a, zero, 60), 1, &out, &retry), VSW_DROP);
    CHECK_EQ(s.ports[pa].c.drops[VSW_DROP_MALFORMED], 1);
    CHECK_EQ(s.ports[up].c.drops[VSW_DROP_MALFORMED], 2);
    CHECK_EQ(vsw_ingress(&s, pa, f, eth(f, mac_b, mac_a, VSW_MAX_FRAME), 1, &out, &retry),
             VSW_FORWARD);
    CHECK_EQ(vsw_ingress(&s, pa, f, eth(f, mac_b, mac_a, VSW_MAX_FRAME + 1), 1, &out, &retry),
             VSW_DROP);
    CHECK_EQ(vsw_ingress(&s, pa, f, 65000, 1, &out, &retry), VSW_DROP); /* length only */
    CHECK_EQ(s.ports[pa].c.drops[VSW_DROP_OVERSIZE], 2);
    CHECK_EQ(s.ports[pa].c.in_frames, 1);
    /* An unused port number is refused without counting anywhere. */
    CHECK_EQ(vsw_ingress(&s, 40, f, 60, 1, &out, &retry), VSW_DROP);
    CHECK_EQ(vsw_ingress(&s, 1000, f, 60, 1, &out, &retry), VSW_DROP);
}

static void test_rate_limits(void)
{
    struct vsw s;
    struct vsw_limits l = {.pps = 1000, .bps = 0, .flood_pps = 100};
    uint8_t f[100];
    vsw_portmask out;
    uint64_t retry = 0;
    vsw_init(&s, &l);
    int pa = vsw_port_add(&s, false, mac_a, 0);
    int pb = vsw_port_add(&s, false, mac_b, 0);
    /* The burst (64 frames at 1000/s) passes, the next frame is throttled, not dropped. */
    int ok = 0;
    while (vsw_ingress(&s, pa, f, eth(f, mac_b, mac_a, 60), 0, &out, &retry) == VSW_FORWARD)
        ok++;
    CHECK_EQ(ok, 64);
    CHECK_EQ(s.ports[pa].c.throttled, 1);
    CHECK(retry > 0 && retry <= S / 1000 + 1);
    /* After the wait, exactly one more frame; after 10 ms, ten. */
    CHECK_EQ(vsw_ingress(&s, pa, f, 60, retry, &out, &retry), VSW_FORWARD);
    CHECK_EQ(vsw_ingress(&s, pa, f, 60, retry, &out, &retry), VSW_THROTTLE);
    uint64_t t = 2 * S / 1000 + 10 * S / 1000;
    ok = 0;
    while (vsw_ingress(&s, pa, f, 60, t, &out, &retry) == VSW_FORWARD)
        ok++;
    CHECK(ok >= 9 && ok <= 11);
    /* Another port is not affected by A's limit. */
    CHECK_EQ(vsw_ingress(&s, pb, f, eth(f, mac_a, mac_b, 60), t, &out, &retry), VSW_FORWARD);
    /* Flooded frames: the burst (at least 32 frames) passes, then the rest are dropped as
     * flood_limit. */
    ok = 0;
    for (int i = 0; i < 30; i++)
        ok += vsw_ingress(&s, pb, f, eth(f, bcast, mac_b, 60), t, &out, &retry) == VSW_FORWARD;
    CHECK_EQ(ok, 30);
    for (int i = 0; i < 10; i++)
        vsw_ingress(&s, pb, f, eth(f, bcast, mac_b, 60), t, &out, &retry);
    CHECK_EQ(s.ports[pb].c.drops[VSW_DROP_STORM], 8);
    /* Known unicast is not limited by the flood bucket. */
    CHECK_EQ(vsw_ingress(&s, pb, f, eth(f, mac_a, mac_b, 60), t, &out, &retry), VSW_FORWARD);

    /* Byte rate: 100000 bytes/s with a burst of 65536 bytes. */
    struct vsw_bucket b;
    vsw_bucket_init(&b, 100000, 65536, 0);
    CHECK(vsw_bucket_take(&b, 65536, 0, NULL));
    CHECK(!vsw_bucket_take(&b, 1000, 0, &retry));
    CHECK(retry >= S / 100 - 1000 && retry <= S / 100 + 1000); /* 1000 bytes = 10 ms */
    CHECK(vsw_bucket_take(&b, 1000, S / 100 + 1000, NULL));
    /* A long pause refills to the burst, no more. */
    CHECK(vsw_bucket_take(&b, 65536, 100 * S, NULL));
    CHECK(!vsw_bucket_take(&b, 1, 100 * S, NULL));
    /* Rate 0: unlimited. */
    vsw_bucket_init(&b, 0, 0, 0);
    CHECK(vsw_bucket_take(&b, 1u << 30, 0, NULL));
}

/* --- DHCP --- */

static size_t dhcp_frame(uint8_t *f, const uint8_t *mac, uint8_t type, uint32_t ciaddr,
                         uint32_t req_ip, uint32_t server_id, uint16_t flags)
{
    uint8_t b[300];
    memset(b, 0, sizeof(b));
    b[0] = 1, b[1] = 1, b[2] = 6;
    b[4] = 0x12, b[5] = 0x34, b[6] = 0x56, b[7] = 0x78;
    b[10] = (uint8_t)(flags >> 8);
    b[12] = (uint8_t)(ciaddr >> 24), b[13] = (uint8_t)(ciaddr >> 16);
    b[14] = (uint8_t)(ciaddr >> 8), b[15] = (uint8_t)ciaddr;
    memcpy(b + 28, mac, 6);
    b[236] = 0x63, b[237] = 0x82, b[238] = 0x53, b[239] = 0x63;
    uint8_t *o = b + 240;
    *o++ = 53, *o++ = 1, *o++ = type;
    *o++ = 0; /* a pad */
    if (req_ip) {
        *o++ = 50, *o++ = 4;
        for (int i = 3; i >= 0; i--)
            *o++ = (uint8_t)(req_ip >> (8 * i));
    }
    if (server_id) {
        *o++ = 54, *o++ = 4;
        for (int i = 3; i >= 0; i--)
            *o++ = (uint8_t)(server_id >> (8 * i));
    }
    *o++ = 12, *o++ = 3, *o++ = 'v', *o++ = 'm', *o++ = '1'; /* hostname: ignored */
    *o = 255;
    return vsw_build_udp(f, 1600, bcast, mac, ciaddr, 68, 0xffffffffu, 67, b, sizeof(b));
}

#define NET(x) ((10u << 24) | (77u << 16) | (x))

static void test_dhcp(void)
{
    struct vsw_dhcp d;
    uint8_t q[1600], r[1600];
    struct vsw_udp u;
    struct vsw_dhcp_msg m;
    CHECK_EQ(vsw_dhcp_init(&d, NET(0), 31, 0, 0, srv_mac), -EINVAL);
    CHECK_EQ(vsw_dhcp_init(&d, NET(0), 24, NET(1), NET(2), srv_mac), 0);
    CHECK_EQ(d.pool_first, NET(10));
    CHECK_EQ(d.pool_last, NET(254));

    /* DISCOVER -> OFFER of the first pool address, unicast to the client's MAC. */
    size_t n = dhcp_frame(q, mac_a, DHCPDISCOVER, 0, 0, 0, 0);
    CHECK(n > 0 && vsw_parse_udp(q, n, &u) && u.dst_port == 67);
    size_t rn = vsw_dhcp_handle(&d, q, n, S, r, sizeof(r));
    CHECK(rn > 0 && vsw_parse_udp(r, rn, &u));
    CHECK(!memcmp(r, mac_a, 6) && !memcmp(r + 6, srv_mac, 6));
    CHECK(u.src_port == 67 && u.dst_port == 68 && u.src_ip == NET(1) && u.dst_ip == NET(10));
    CHECK(vsw_dhcp_parse(u.payload, u.len, &m));
    CHECK_EQ(m.op, 2);
    CHECK_EQ(m.type, DHCPOFFER);
    CHECK_EQ(m.xid, 0x12345678);
    CHECK_EQ(m.yiaddr, NET(10));
    CHECK_EQ(m.server_id, NET(1));
    CHECK_EQ(m.subnet_mask, 0xffffff00u);
    CHECK_EQ(m.router, NET(1));
    CHECK_EQ(m.dns, NET(2));
    CHECK_EQ(m.lease_s, VSW_DHCP_LEASE_S);
    CHECK(!memcmp(m.chaddr, mac_a, 6));
    /* The offer is held: B gets the next address. */
    n = dhcp_frame(q, mac_b, DHCPDISCOVER, 0, 0, 0, 0x8000);
    rn = vsw_dhcp_handle(&d, q, n, S, r, sizeof(r));
    CHECK(rn > 0 && vsw_parse_udp(r, rn, &u) && vsw_dhcp_parse(u.payload, u.len, &m));
    CHECK_EQ(m.yiaddr, NET(11));
    CHECK(!memcmp(r, bcast, 6) && u.dst_ip == 0xffffffffu); /* BROADCAST flag */
    /* REQUEST of the offered address -> ACK; the lease is bound. */
    n = dhcp_frame(q, mac_a, DHCPREQUEST, 0, NET(10), NET(1), 0);
    rn = vsw_dhcp_handle(&d, q, n, 2 * S, r, sizeof(r));
    CHECK(rn > 0 && vsw_parse_udp(r, rn, &u) && vsw_dhcp_parse(u.payload, u.len, &m));
    CHECK_EQ(m.type, DHCPACK);
    CHECK_EQ(m.yiaddr, NET(10));
    const struct vsw_dhcp_lease *l = vsw_dhcp_lease_of(&d, mac_a);
    CHECK(l && l->bound && l->ip == NET(10));
    /* A REQUEST for someone else's address -> NAK (broadcast). */
    n = dhcp_frame(q, mac_b, DHCPREQUEST, 0, NET(10), NET(1), 0);
    rn = vsw_dhcp_handle(&d, q, n, 2 * S, r, sizeof(r));
    CHECK(rn > 0 && vsw_parse_udp(r, rn, &u) && vsw_dhcp_parse(u.payload, u.len, &m));
    CHECK_EQ(m.type, DHCPNAK);
    CHECK(!memcmp(r, bcast, 6));
    /* A REQUEST for another server's offer: silence, and B's offer is released. */
    n = dhcp_frame(q, mac_b, DHCPREQUEST, 0, NET(11), NET(99), 0);
    CHECK_EQ(vsw_dhcp_handle(&d, q, n, 2 * S, r, sizeof(r)), 0);
    CHECK(vsw_dhcp_lease_of(&d, mac_b) == NULL);
    /* Renewal (ciaddr set, unicast) -> ACK to ciaddr. */
    n = dhcp_frame(q, mac_a, DHCPREQUEST, NET(10), 0, 0, 0);
    rn = vsw_dhcp_handle(&d, q, n, 3 * S, r, sizeof(r));
    CHECK(rn > 0 && vsw_parse_udp(r, rn, &u) && vsw_dhcp_parse(u.payload, u.len, &m));
    CHECK(m.type == DHCPACK && u.dst_ip == NET(10));
    /* INIT-REBOOT after a switch restart: a free pool address is granted again. */
    n = dhcp_frame(q, mac_c, DHCPREQUEST, 0, NET(42), 0, 0);
    rn = vsw_dhcp_handle(&d, q, n, 3 * S, r, sizeof(r));
    CHECK(rn > 0 && vsw_parse_udp(r, rn, &u) && vsw_dhcp_parse(u.payload, u.len, &m));
    CHECK(m.type == DHCPACK && m.yiaddr == NET(42));
    /* ... and one off our network gets no answer (it may belong to another server). */
    n = dhcp_frame(q, mac_b, DHCPREQUEST, 0, (192u << 24) | 5, 0, 0);
    CHECK_EQ(vsw_dhcp_handle(&d, q, n, 3 * S, r, sizeof(r)), 0);
    /* RELEASE frees the address; the next DISCOVER of another client may get it. */
    n = dhcp_frame(q, mac_a, DHCPRELEASE, NET(10), 0, NET(1), 0);
    CHECK_EQ(vsw_dhcp_handle(&d, q, n, 4 * S, r, sizeof(r)), 0);
    CHECK(vsw_dhcp_lease_of(&d, mac_a) == NULL);
    n = dhcp_frame(q, mac_b, DHCPDISCOVER, 0, 0, 0, 0);
    rn = vsw_dhcp_handle(&d, q, n, 4 * S, r, sizeof(r));
    CHECK(rn > 0 && vsw_parse_udp(r, rn, &u) && vsw_dhcp_parse(u.payload, u.len, &m));
    CHECK_EQ(m.yiaddr, NET(10));
    /* DECLINE: the address stays out of the pool. */
    n = dhcp_frame(q, mac_b, DHCPDECLINE, 0, NET(10), NET(1), 0);
    CHECK_EQ(vsw_dhcp_handle(&d, q, n, 4 * S, r, sizeof(r)), 0);
    n = dhcp_frame(q, mac_b, DHCPDISCOVER, 0, 0, 0, 0);
    rn = vsw_dhcp_handle(&d, q, n, 5 * S, r, sizeof(r));
    CHECK(rn > 0 && vsw_parse_udp(r, rn, &u) && vsw_dhcp_parse(u.payload, u.len, &m));
    CHECK(m.yiaddr != NET(10) && m.yiaddr != NET(42));
    /* INFORM: configuration, no address, no lease time. */
    n = dhcp_frame(q, mac_c, DHCPINFORM, NET(42), 0, 0, 0);
    rn = vsw_dhcp_handle(&d, q, n, 5 * S, r, sizeof(r));
    CHECK(rn > 0 && vsw_parse_udp(r, rn, &u) && vsw_dhcp_parse(u.payload, u.len, &m));
    CHECK(m.type == DHCPACK && m.yiaddr == 0 && m.lease_s == 0 && m.router == NET(1));
    /* A chaddr that is not the frame's source is ignored. */
    n = dhcp_frame(q, mac_c, DHCPDISCOVER, 0, 0, 0, 0);
    memcpy(q + 6, mac_b, 6);
    CHECK_EQ(vsw_dhcp_handle(&d, q, n, 5 * S, r, sizeof(r)), 0);
}

/* DHCP exchange DISCOVER + REQUEST: the address acknowledged (0: none). */
static uint32_t dhcp_bind(struct vsw_dhcp *d, const uint8_t *mac, uint64_t now)
{
    uint8_t q[1600], r[1600];
    struct vsw_udp u;
    struct vsw_dhcp_msg m;
    size_t rn = vsw_dhcp_handle(d, q, dhcp_frame(q, mac, DHCPDISCOVER, 0, 0, 0, 0), now, r,
                                sizeof(r));
    if (!rn || !vsw_parse_udp(r, rn, &u) || !vsw_dhcp_parse(u.payload, u.len, &m))
        return 0;
    rn = vsw_dhcp_handle(d, q, dhcp_frame(q, mac, DHCPREQUEST, 0, m.yiaddr, NET(1), 0), now, r,
                         sizeof(r));
    if (!rn || !vsw_parse_udp(r, rn, &u) || !vsw_dhcp_parse(u.payload, u.len, &m))
        return 0;
    return m.type == DHCPACK ? m.yiaddr : 0;
}

#define T0 1700000000 /* a wall-clock time, seconds */

static void test_leases_bad(struct vsw_dhcp *d)
{
    static const char *const bad[] = {
        "", "not json", "[]", "{\"version\":1}", "{\"leases\":[]}",
        "{\"version\":2,\"leases\":[]}", "{\"version\":1,\"leases\":{}}",
        "{\"version\":1,\"leases\":[],\"version\":1}", /* duplicate key */
        "{\"version\":1,\"leases\":[{\"mac\":\"02:00:00:00:00:0c\",\"ip\":\"10.77.0.12\"",
        "{\"version\":1,\"leases\":[7]}",
        "{\"version\":1,\"leases\":[{\"ip\":\"10.77.0.12\",\"expires\":1800000000}]}",
        "{\"version\":1,\"leases\":[{\"mac\":\"02:00:00:00:00:zz\",\"ip\":\"10.77.0.12\",\"expires\":1800000000}]}",
        "{\"version\":1,\"leases\":[{\"mac\":\"02:00:00:00:00:0c:\",\"ip\":\"10.77.0.12\",\"expires\":1800000000}]}",
        "{\"version\":1,\"leases\":[{\"mac\":\"01:00:5e:00:00:01\",\"ip\":\"10.77.0.12\",\"expires\":1800000000}]}",
        "{\"version\":1,\"leases\":[{\"mac\":\"00:00:00:00:00:00\",\"ip\":\"10.77.0.12\",\"expires\":1800000000}]}",
        "{\"version\":1,\"leases\":[{\"mac\":\"02:00:00:00:00:0c\",\"ip\":\"10.77.0.2\",\"expires\":1800000000}]}",
        "{\"version\":1,\"leases\":[{\"mac\":\"02:00:00:00:00:0c\",\"ip\":\"10.78.0.12\",\"expires\":1800000000}]}",
        "{\"version\":1,\"leases\":[{\"mac\":\"02:00:00:00:00:0c\",\"ip\":\"10.77.0.1234\",\"expires\":1800000000}]}",
        "{\"version\":1,\"leases\":[{\"mac\":\"02:00:00:00:00:0c\",\"ip\":\"10.77.0.12\",\"expires\":\"soon\"}]}",
        "{\"version\":1,\"leases\":[{\"mac\":\"02:00:00:00:00:0c\",\"ip\":\"10.77.0.12\",\"expires\":-5}]}",
        "{\"version\":1,\"leases\":[{\"mac\":\"02:00:00:00:00:0c\",\"ip\":\"10.77.0.12\",\"expires\":1800000000},"
        "{\"mac\":\"02:00:00:00:00:0d\",\"ip\":\"10.77.0.12\",\"expires\":1800000000}]}",
        "{\"version\":1,\"leases\":[{\"mac\":\"02:00:00:00:00:0c\",\"ip\":\"10.77.0.12\",\"expires\":1800000000},"
        "{\"mac\":\"02:00:00:00:00:0C\",\"ip\":\"10.77.0.13\",\"expires\":1800000000}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = vsw_leases_parse(d, bad[i], strlen(bad[i]), 0, T0);
        CHECK_EQ(rc, -EINVAL);
        if (rc != -EINVAL)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
    /* More entries than the table holds. */
    char big[300 * 80], *p = big;
    p += sprintf(p, "{\"version\":1,\"leases\":[");
    for (int i = 0; i < 257; i++)
        p += sprintf(p, "%s{\"mac\":\"02:00:00:00:%02x:%02x\",\"ip\":\"10.77.0.12\",\"expires\":1}",
                     i ? "," : "", i >> 8, i & 255);
    sprintf(p, "]}");
    CHECK_EQ(vsw_leases_parse(d, big, strlen(big), 0, T0), -EINVAL);
    /* None of that touched the table. */
    const struct vsw_dhcp_lease *l = vsw_dhcp_lease_of(d, mac_a);
    CHECK(l && l->ip == NET(10) && l->bound);
}

static void test_leases(void)
{
    struct vsw_dhcp d, d2;
    vsw_dhcp_init(&d, NET(0), 24, NET(1), NET(2), srv_mac);
    CHECK(!d.changed);
    CHECK_EQ(dhcp_bind(&d, mac_a, 10 * S), NET(10));
    CHECK(d.changed);
    CHECK_EQ(dhcp_bind(&d, mac_b, 10 * S), NET(11));
    /* An offer not yet acknowledged is not written. */
    uint8_t q[1600], r[1600];
    CHECK(vsw_dhcp_handle(&d, q, dhcp_frame(q, mac_c, DHCPDISCOVER, 0, 0, 0, 0), 10 * S, r,
                          sizeof(r)) > 0);
    char *text = vsw_leases_dump(&d, 20 * S, T0);
    CHECK(text && strstr(text, "\"02:00:00:00:00:0a\"") && strstr(text, "\"10.77.0.11\"") &&
          !strstr(text, "02:00:00:00:00:0c"));

    /* A switch restarting 100 s later (another monotonic origin) takes both, with the rest
     * of their hour. */
    vsw_dhcp_init(&d2, NET(0), 24, NET(1), NET(2), srv_mac);
    CHECK_EQ(vsw_leases_parse(&d2, text, strlen(text), 7 * S, T0 + 100), 2);
    const struct vsw_dhcp_lease *l = vsw_dhcp_lease_of(&d2, mac_a);
    CHECK(l && l->ip == NET(10) && l->bound);
    CHECK(l && l->expires_ns == 7 * S + (VSW_DHCP_LEASE_S - 10 - 100) * S);
    /* A new client does not get A's or B's address; A and B keep theirs (DISCOVER, renewal). */
    CHECK_EQ(dhcp_bind(&d2, mac_c, 8 * S), NET(12));
    CHECK_EQ(dhcp_bind(&d2, mac_a, 8 * S), NET(10));
    struct vsw_udp u;
    struct vsw_dhcp_msg m;
    size_t rn = vsw_dhcp_handle(&d2, q, dhcp_frame(q, mac_b, DHCPREQUEST, NET(11), 0, 0, 0),
                                9 * S, r, sizeof(r));
    CHECK(rn && vsw_parse_udp(r, rn, &u) && vsw_dhcp_parse(u.payload, u.len, &m) &&
          m.type == DHCPACK && m.yiaddr == NET(11));
    /* Without the table the new client would have been given A's address. */
    vsw_dhcp_init(&d2, NET(0), 24, NET(1), NET(2), srv_mac);
    CHECK_EQ(dhcp_bind(&d2, mac_c, 8 * S), NET(10));
    /* Leases that ran out while the switch was away are dropped; a clock that went back
     * gives no more than a lease time. */
    CHECK_EQ(vsw_leases_parse(&d2, text, strlen(text), 0, T0 + 4000), 0);
    CHECK(vsw_dhcp_lease_of(&d2, mac_a) == NULL);
    CHECK_EQ(vsw_leases_parse(&d2, text, strlen(text), 0, T0 - 100000), 2);
    l = vsw_dhcp_lease_of(&d2, mac_a);
    CHECK(l && l->expires_ns == VSW_DHCP_LEASE_S * S);
    /* RELEASE marks the table changed, and the lease is gone from the next dump. */
    d.changed = false;
    vsw_dhcp_handle(&d, q, dhcp_frame(q, mac_a, DHCPRELEASE, NET(10), 0, NET(1), 0), 30 * S, r,
                    sizeof(r));
    CHECK(d.changed);
    free(text);
    text = vsw_leases_dump(&d, 30 * S, T0);
    CHECK(text && !strstr(text, "02:00:00:00:00:0a") && strstr(text, "02:00:00:00:00:0b"));
    free(text);
    CHECK_EQ(dhcp_bind(&d, mac_a, 31 * S), NET(10));
    test_leases_bad(&d);

    /* The file: atomic save, load, a missing file, a corrupt one. */
    char path[] = "/tmp/rv-test-leases-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(vsw_leases_save(&d, path, 40 * S, T0), 0);
    vsw_dhcp_init(&d2, NET(0), 24, NET(1), NET(2), srv_mac);
    CHECK_EQ(vsw_leases_load(&d2, path, 0, T0), 2);
    l = vsw_dhcp_lease_of(&d2, mac_b);
    CHECK(l && l->ip == NET(11));
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    CHECK(access(tmp, F_OK) != 0);
    FILE *f = fopen(path, "w");
    fputs("{\"version\":1,\"leases\":[{\"mac\":", f);
    fclose(f);
    CHECK(vsw_leases_load(&d2, path, 0, T0) < 0 && strstr(rv_error_get(), path));
    CHECK(vsw_dhcp_lease_of(&d2, mac_b) != NULL);
    f = fopen(path, "w");
    for (int i = 0; i < VSW_LEASES_FILE_MAX + 1; i++)
        fputc(' ', f);
    fclose(f);
    CHECK_EQ(vsw_leases_load(&d2, path, 0, T0), -EFBIG);
    unlink(path);
    CHECK_EQ(vsw_leases_load(&d2, path, 0, T0), 0);
    CHECK_EQ(vsw_leases_save(&d, "/nonexistent-dir/leases.json", 0, T0), -ENOENT);
}

static void test_dhcp_malformed(void)
{
    struct vsw_dhcp d;
    uint8_t q[1600], r[1600];
    struct vsw_udp u;
    struct vsw_dhcp_msg m;
    vsw_dhcp_init(&d, NET(0), 24, 0, 0, srv_mac);
    size_t n = dhcp_frame(q, mac_a, DHCPDISCOVER, 0, 0, 0, 0);
    CHECK(vsw_parse_udp(q, n, &u));
    uint8_t p[300];
    memcpy(p, u.payload, u.len);
    CHECK(vsw_dhcp_parse(p, sizeof(p), &m) && m.type == DHCPDISCOVER);
    /* Truncated options, wrong cookie, wrong hardware type, too short. */
    CHECK(!vsw_dhcp_parse(p, 239, &m));
    p[241] = 200; /* option 53's length runs past the end */
    CHECK(!vsw_dhcp_parse(p, 243, &m));
    memcpy(p, u.payload, u.len);
    p[236] = 0;
    CHECK(!vsw_dhcp_parse(p, sizeof(p), &m));
    memcpy(p, u.payload, u.len);
    p[1] = 6;
    CHECK(!vsw_dhcp_parse(p, sizeof(p), &m));
    /* Frames: every truncation of a valid request is rejected or answered, never read past. */
    for (size_t len = 0; len < n; len++)
        vsw_dhcp_handle(&d, q, len, S, r, sizeof(r));
    CHECK(vsw_dhcp_handle(&d, q, n, S, r, sizeof(r)) > 0);
    /* No room for the reply: no reply. */
    CHECK_EQ(vsw_dhcp_handle(&d, q, n, S, r, 100), 0);
    /* IP fragments, bad IP header lengths, UDP length past the packet. */
    uint8_t g[1600];
    memcpy(g, q, n);
    g[20] = 0x20; /* MF */
    CHECK(!vsw_parse_udp(g, n, &u));
    memcpy(g, q, n);
    g[14] = 0x44; /* IHL 4 */
    CHECK(!vsw_parse_udp(g, n, &u));
    memcpy(g, q, n);
    g[38] = 0xff; /* UDP length */
    CHECK(!vsw_parse_udp(g, n, &u));
    /* The builder's checksums: the IP header sums to 0xffff. */
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(q[14 + i] << 8 | q[15 + i]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    CHECK_EQ(sum, 0xffff);
    /* Pool exhaustion: a /28 has .3 .. .14 (the switch holds .1, DNS .2). */
    vsw_dhcp_init(&d, NET(0), 28, 0, 0, srv_mac);
    unsigned offers = 0;
    for (unsigned i = 0; i < 20; i++) {
        uint8_t mac[6] = {0x02, 1, 2, 3, 4, (uint8_t)i};
        n = dhcp_frame(q, mac, DHCPDISCOVER, 0, 0, 0, 0);
        offers += vsw_dhcp_handle(&d, q, n, S, r, sizeof(r)) > 0;
    }
    CHECK_EQ(offers, 12);
}

static void test_protocol_and_pcap(void)
{
    uint8_t buf[VSW_WELCOME_LEN + VSW_MSG_MAX];
    struct vsw_hello h = {.flags = VSW_FLAG_MAC, .pid = 4242}, h2;
    memcpy(h.mac, mac_a, 6);
    vsw_hello_encode(&h, buf);
    CHECK_EQ(vsw_hello_decode(buf, VSW_HELLO_LEN, &h2), 0);
    CHECK(h2.flags == VSW_FLAG_MAC && h2.pid == 4242 && !memcmp(h2.mac, mac_a, 6));
    CHECK_EQ(vsw_hello_decode(buf, VSW_HELLO_LEN - 1, &h2), -EPROTO);
    buf[4] = 9;
    CHECK_EQ(vsw_hello_decode(buf, VSW_HELLO_LEN, &h2), -EPROTONOSUPPORT);
    struct vsw_welcome w = {.status = 0, .port = 7}, w2;
    memcpy(w.mac, mac_b, 6);
    snprintf(w.msg, sizeof(w.msg), "hi\x01");
    size_t n = vsw_welcome_encode(&w, buf, sizeof(buf));
    CHECK_EQ(n, VSW_WELCOME_LEN + 3);
    CHECK_EQ(vsw_welcome_decode(buf, n, &w2), 0);
    CHECK(w2.port == 7 && !memcmp(w2.mac, mac_b, 6) && !strcmp(w2.msg, "hi?"));
    CHECK(vsw_name_valid("red") && vsw_name_valid("a-b_c.1"));
    CHECK(!vsw_name_valid("") && !vsw_name_valid(".x") && !vsw_name_valid("a/b") &&
          !vsw_name_valid("0123456789012345678901234567890123"));

    uint8_t ph[VSW_PCAP_HEADER_LEN], rec[VSW_PCAP_RECORD_LEN];
    vsw_pcap_header(ph);
    CHECK(ph[0] == 0x4d && ph[1] == 0x3c && ph[2] == 0xb2 && ph[3] == 0xa1); /* ns magic, LE */
    CHECK(ph[4] == 2 && ph[6] == 4 && ph[20] == 1);
    vsw_pcap_record(rec, 5 * S + 7, 60);
    CHECK(rec[0] == 5 && rec[4] == 7 && rec[8] == 60 && rec[12] == 60);
}

int main(void)
{
    test_forwarding();
    test_admission();
    test_rate_limits();
    test_dhcp();
    test_dhcp_malformed();
    test_leases();
    test_protocol_and_pcap();
    TEST_MAIN_END();
}
