/* The "user" (libslirp) backend driven by hand-made Ethernet frames: option parsing, ARP,
 * DHCP, a TCP connection from the "guest" to a socket listening on the host's 127.0.0.1,
 * host forwards (TCP and UDP, bound to 127.0.0.1), and flow control towards the guest. */
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "net/net.h"
#include "net/user_opts.h"
#include "test.h"
#include "test_net_frames.h"

#define TIMEOUT_MS 5000

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6];

struct rig {
    struct collector col;
    struct rv_net *net;
    uint32_t guest_ip, host_ip;
    uint8_t slirp_mac[6];
};

static int rig_open(struct rig *r, const char *spec)
{
    memset(r, 0, sizeof(*r));
    collector_init(&r->col);
    r->guest_ip = ip4(10, 0, 2, 15);
    r->host_ip = ip4(10, 0, 2, 2);
    struct rv_net_client client = {.receive = collector_receive, .opaque = &r->col};
    int rc = rv_net_open(spec, guest_mac, &client, &r->net);
    if (rc)
        fprintf(stderr, "rv_net_open(%s): %s\n", spec, rv_error_get());
    return rc;
}

static void rig_close(struct rig *r)
{
    rv_net_close(r->net);
    collector_free(&r->col);
}

static int send_frame(struct rig *r, const uint8_t *f, size_t len)
{
    struct iovec iov[2] = {{(void *)f, 10}, {(void *)(f + 10), len - 10}}; /* gathered */
    return rv_net_send(r->net, iov, 2);
}

/* The next frame for the guest that is not ARP traffic addressed to the guest, which it
 * answers (slirp asks for the guest's MAC before sending to an address it has not seen). */
static bool next_frame(struct rig *r, uint8_t *f, size_t *len)
{
    while (collector_next(&r->col, f, len, TIMEOUT_MS)) {
        if (*len >= 42 && eth_type(f) == ETH_P_ARPT && get16(f + 20) == 1) {
            if (get32(f + 38) == r->guest_ip) {
                uint8_t reply[64];
                size_t n = arp_frame(reply, 2, f + 6, guest_mac, r->guest_ip, f + 22,
                                     get32(f + 28));
                send_frame(r, reply, n);
            }
            continue;
        }
        return true;
    }
    return false;
}

/* ARP for `ip`; returns true with the answering MAC. */
static bool arp_ask(struct rig *r, uint32_t ip, uint8_t mac[6])
{
    uint8_t f[FRAME_MAX];
    size_t n = arp_frame(f, 1, bcast, guest_mac, r->guest_ip, zero_mac, ip);
    CHECK_EQ(send_frame(r, f, n), 0);
    if (!next_frame(r, f, &n))
        return false;
    if (n < 42 || eth_type(f) != ETH_P_ARPT || get16(f + 20) != 2 || get32(f + 28) != ip ||
        memcmp(f, guest_mac, 6) || memcmp(f + 32, guest_mac, 6) || get32(f + 38) != r->guest_ip)
        return false;
    memcpy(mac, f + 22, 6);
    return true;
}

static void test_options(void)
{
    struct rv_net_user_opts o;
    CHECK_EQ(rv_net_user_parse("", &o), 0);
    CHECK_EQ(ntohl(o.net.s_addr), ip4(10, 0, 2, 0));
    CHECK_EQ(ntohl(o.mask.s_addr), 0xffffff00);
    CHECK_EQ(ntohl(o.host.s_addr), ip4(10, 0, 2, 2));
    CHECK_EQ(ntohl(o.dns.s_addr), ip4(10, 0, 2, 3));
    CHECK_EQ(ntohl(o.dhcp_start.s_addr), ip4(10, 0, 2, 15));
    CHECK(!o.restricted);
    CHECK_EQ(o.nfwd, 0);

    CHECK_EQ(rv_net_user_parse("net=192.168.76.9/16,restrict=on,hostfwd=tcp::8080-:80,"
                               "hostfwd=udp:0.0.0.0:5353-192.168.0.7:53", &o), 0);
    CHECK_EQ(ntohl(o.net.s_addr), ip4(192, 168, 0, 0));
    CHECK_EQ(ntohl(o.mask.s_addr), 0xffff0000);
    CHECK_EQ(ntohl(o.host.s_addr), ip4(192, 168, 0, 2));
    CHECK_EQ(ntohl(o.dhcp_start.s_addr), ip4(192, 168, 0, 15));
    CHECK(o.restricted);
    CHECK_EQ(o.nfwd, 2);
    CHECK(!o.fwd[0].udp);
    CHECK_EQ(ntohl(o.fwd[0].host_addr.s_addr), ip4(127, 0, 0, 1)); /* never 0.0.0.0 by default */
    CHECK_EQ(o.fwd[0].host_port, 8080);
    CHECK_EQ(o.fwd[0].guest_addr.s_addr, 0);
    CHECK_EQ(o.fwd[0].guest_port, 80);
    CHECK(o.fwd[1].udp);
    CHECK_EQ(o.fwd[1].host_addr.s_addr, 0); /* explicitly asked for */
    CHECK_EQ(ntohl(o.fwd[1].guest_addr.s_addr), ip4(192, 168, 0, 7));
    CHECK_EQ(o.fwd[1].guest_port, 53);
    /* guest address 10.0.0.7 is outside 192.168/16: rejected */
    CHECK_EQ(rv_net_user_parse("net=192.168.0.0/16,hostfwd=udp::53-10.0.0.7:53", &o), -EINVAL);

    CHECK_EQ(rv_net_user_parse("net=10.1.0.0/24,host=10.1.0.1,dns=10.1.0.53,dhcpstart=10.1.0.100",
                               &o), 0);
    CHECK_EQ(ntohl(o.host.s_addr), ip4(10, 1, 0, 1));
    CHECK_EQ(ntohl(o.dns.s_addr), ip4(10, 1, 0, 53));
    CHECK_EQ(ntohl(o.dhcp_start.s_addr), ip4(10, 1, 0, 100));

    static const char *const bad[] = {
        "bogus=1", "net=10.0.2.0/31", "net=10.0.2.0/4", "net=10.0.2", "net=/24", "net=1.2.3.4/x",
        "host=10.0.3.2", "dns=10.0.2.255", "dhcpstart=10.0.2.0", "host=", "restrict=maybe",
        "hostfwd=tcp::0-:80", "hostfwd=tcp::70000-:80", "hostfwd=sctp::1-:2",
        "hostfwd=tcp:8080-:80", "hostfwd=tcp::8080:80", "hostfwd=tcp::8080-:", "hostfwd=",
        "hostfwd=tcp:1.2.3:8080-:80", "hostfwd=tcp::80a-:80", "hostfwd=tcp::-1-:80",
        "net=10.0.2.0/28", /* default dhcpstart .15 is the broadcast address of a /28 */
        "hostfwd=tcp::8080-:80 ", "hostfwd=tcp::8080-:80/", "=x",
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = rv_net_user_parse(bad[i], &o);
        if (rc != -EINVAL)
            fprintf(stderr, "accepted bad option '%s'\n", bad[i]);
        CHECK_EQ(rc, -EINVAL);
        CHECK(rv_error_get()[0] != 0);
    }
    char many[2048] = "";
    for (int i = 0; i < 17; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "hostfwd=tcp::%d-:80,",
                 2000 + i);
    CHECK_EQ(rv_net_user_parse(many, &o), -EINVAL);

    /* The front end: backend names, client, MAC. */
    struct collector c;
    collector_init(&c);
    struct rv_net_client client = {.receive = collector_receive, .opaque = &c};
    struct rv_net *n = NULL;
    CHECK_EQ(rv_net_open("slirp", guest_mac, &client, &n), -EINVAL);
    CHECK_EQ(rv_net_open("", guest_mac, &client, &n), -EINVAL);
    CHECK_EQ(rv_net_open("user,net=x", guest_mac, &client, &n), -EINVAL);
    CHECK_EQ(rv_net_open("tap", guest_mac, &client, &n), -EINVAL); /* no ifname */
    CHECK_EQ(rv_net_open("tap,ifname=a/b", guest_mac, &client, &n), -EINVAL);
    CHECK_EQ(rv_net_open("tap,ifname=waytoolonginterfacename", guest_mac, &client, &n), -EINVAL);
    static const uint8_t mcast[6] = {0x01, 0, 0x5e, 0, 0, 1};
    CHECK_EQ(rv_net_open("user", mcast, &client, &n), -EINVAL);
    struct rv_net_client none = {0};
    CHECK_EQ(rv_net_open("user", guest_mac, &none, &n), -EINVAL);
    CHECK(n == NULL);
    collector_free(&c);
}

static void test_arp_and_frames(void)
{
    struct rig r;
    if (rig_open(&r, "user")) {
        CHECK(0);
        return;
    }
    CHECK(arp_ask(&r, r.host_ip, r.slirp_mac));
    CHECK_EQ(r.slirp_mac[0], 0x52); /* libslirp's locally administered host MAC */
    uint8_t dns_mac[6];
    CHECK(arp_ask(&r, ip4(10, 0, 2, 3), dns_mac));

    /* Bad frames are refused before they reach slirp. */
    uint8_t f[64] = {0};
    struct iovec iov = {f, 13};
    CHECK_EQ(rv_net_send(r.net, &iov, 1), -EINVAL);
    CHECK_EQ(rv_net_send(r.net, NULL, 0), -EINVAL);
    static uint8_t big[70000];
    struct iovec biov = {big, sizeof(big)};
    CHECK_EQ(rv_net_send(r.net, &biov, 1), -EMSGSIZE);
    /* Nonsense that slirp must survive: unknown ethertype, truncated IPv4, runt ARP. */
    memset(f, 0xab, sizeof(f));
    iov.iov_len = sizeof(f);
    CHECK_EQ(rv_net_send(r.net, &iov, 1), 0);
    eth_header(f, r.slirp_mac, guest_mac, ETH_P_IPV4);
    f[14] = 0x45;
    iov.iov_len = 20;
    CHECK_EQ(rv_net_send(r.net, &iov, 1), 0);
    eth_header(f, bcast, guest_mac, ETH_P_ARPT);
    iov.iov_len = 16;
    CHECK_EQ(rv_net_send(r.net, &iov, 1), 0);
    /* ... and still answers. */
    uint8_t mac2[6];
    CHECK(arp_ask(&r, r.host_ip, mac2));
    rig_close(&r);
}

/* Sends a DHCP message and returns the reply's message type (0 if none), filling yiaddr. */
static unsigned dhcp_exchange(struct rig *r, uint8_t type, uint32_t req, uint32_t server,
                              uint32_t *yiaddr, uint32_t *server_id, uint32_t *router,
                              uint32_t *dns)
{
    uint8_t f[FRAME_MAX];
    size_t n = dhcp_frame(f, guest_mac, 0x1234abcd, type, req, server);
    CHECK_EQ(send_frame(r, f, n), 0);
    while (next_frame(r, f, &n)) {
        size_t l4len;
        const uint8_t *u = frame_l4(f, n, IPPROTO_UDP_, &l4len);
        if (!u || l4len < 8 || get16(u) != 67 || get16(u + 2) != 68)
            continue;
        const uint8_t *b = u + 8;
        size_t blen = l4len - 8, olen;
        if (blen < 240 || b[0] != 2 || get32(b + 4) != 0x1234abcd || memcmp(b + 28, guest_mac, 6))
            return 0;
        *yiaddr = get32(b + 16);
        const uint8_t *o = dhcp_option(b, blen, 54, &olen);
        *server_id = o && olen == 4 ? get32(o) : 0;
        o = dhcp_option(b, blen, 3, &olen);
        *router = o && olen >= 4 ? get32(o) : 0;
        o = dhcp_option(b, blen, 6, &olen);
        *dns = o && olen >= 4 ? get32(o) : 0;
        o = dhcp_option(b, blen, 53, &olen);
        return o && olen == 1 ? o[0] : 0;
    }
    return 0;
}

static void test_dhcp(void)
{
    struct rig r;
    if (rig_open(&r, "user")) {
        CHECK(0);
        return;
    }
    uint32_t yiaddr = 0, server = 0, router = 0, dns = 0;
    CHECK_EQ(dhcp_exchange(&r, 1, 0, 0, &yiaddr, &server, &router, &dns), 2); /* OFFER */
    CHECK_EQ(yiaddr, ip4(10, 0, 2, 15));
    CHECK_EQ(server, ip4(10, 0, 2, 2));
    CHECK_EQ(router, ip4(10, 0, 2, 2));
    CHECK_EQ(dns, ip4(10, 0, 2, 3));
    uint32_t offered = yiaddr;
    yiaddr = 0;
    CHECK_EQ(dhcp_exchange(&r, 3, offered, server, &yiaddr, &server, &router, &dns), 5); /* ACK */
    CHECK_EQ(yiaddr, offered);
    rig_close(&r);

    /* Another network. */
    if (rig_open(&r, "user,net=192.168.100.0/24")) {
        CHECK(0);
        return;
    }
    r.guest_ip = ip4(192, 168, 100, 15);
    CHECK_EQ(dhcp_exchange(&r, 1, 0, 0, &yiaddr, &server, &router, &dns), 2);
    CHECK_EQ(yiaddr, ip4(192, 168, 100, 15));
    CHECK_EQ(router, ip4(192, 168, 100, 2));
    CHECK_EQ(dns, ip4(192, 168, 100, 3));
    uint8_t mac[6];
    CHECK(arp_ask(&r, ip4(192, 168, 100, 2), mac));
    rig_close(&r);
}

static int tcp_listener(unsigned *port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4) ||
        getsockname(s, (struct sockaddr *)&a, &alen))
        return -1;
    *port = ntohs(a.sin_port);
    return s;
}

static bool wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, TIMEOUT_MS) == 1;
}

/* The next TCP frame from (sport -> dport) with a payload or one of `flags`. */
static const uint8_t *next_tcp(struct rig *r, uint8_t *f, size_t *len, unsigned sport,
                               unsigned dport, uint8_t flags, size_t *payload_len)
{
    while (next_frame(r, f, len)) {
        size_t l4len;
        const uint8_t *t = frame_l4(f, *len, IPPROTO_TCP_, &l4len);
        if (!t || l4len < 20 || get16(t) != sport || get16(t + 2) != dport)
            continue;
        size_t off = (size_t)(t[12] >> 4) * 4;
        *payload_len = l4len - off;
        if ((t[13] & flags) || *payload_len)
            return t;
    }
    return NULL;
}

static void test_tcp_to_host(void)
{
    struct rig r;
    unsigned port;
    int ls = tcp_listener(&port);
    CHECK(ls >= 0);
    if (ls < 0 || rig_open(&r, "user")) {
        CHECK(0);
        return;
    }
    CHECK(arp_ask(&r, r.host_ip, r.slirp_mac));
    uint8_t f[FRAME_MAX];
    size_t n, plen;
    const unsigned gport = 40000;
    n = tcp_frame(f, r.slirp_mac, guest_mac, r.guest_ip, gport, r.host_ip, (uint16_t)port,
                  1000, 0, TCPF_SYN, NULL, 0);
    CHECK_EQ(send_frame(&r, f, n), 0);
    const uint8_t *t = next_tcp(&r, f, &n, port, gport, TCPF_SYN | TCPF_RST, &plen);
    CHECK(t != NULL);
    if (!t)
        goto out;
    CHECK_EQ(t[13] & (TCPF_SYN | TCPF_ACK | TCPF_RST), TCPF_SYN | TCPF_ACK);
    CHECK_EQ(get32(t + 8), 1001);
    uint32_t isn = get32(t + 4);

    n = tcp_frame(f, r.slirp_mac, guest_mac, r.guest_ip, gport, r.host_ip, (uint16_t)port,
                  1001, isn + 1, TCPF_ACK | TCPF_PSH, "hello", 5);
    CHECK_EQ(send_frame(&r, f, n), 0);
    CHECK(wait_readable(ls));
    int cs = accept(ls, NULL, NULL);
    CHECK(cs >= 0);
    char buf[16] = {0};
    CHECK(wait_readable(cs));
    CHECK_EQ(recv(cs, buf, sizeof(buf), 0), 5);
    CHECK(!memcmp(buf, "hello", 5));

    CHECK_EQ(send(cs, "world!", 6, 0), 6);
    t = next_tcp(&r, f, &n, port, gport, 0, &plen);
    CHECK(t != NULL);
    if (t) {
        CHECK_EQ(plen, 6);
        CHECK(!memcmp(t + (t[12] >> 4) * 4, "world!", 6));
        CHECK_EQ(get32(t + 4), isn + 1);
        CHECK_EQ(get32(t + 8), 1006); /* our 5 bytes acknowledged */
    }
    /* The host closes: a FIN reaches the guest. */
    close(cs);
    t = next_tcp(&r, f, &n, port, gport, TCPF_FIN, &plen);
    CHECK(t != NULL && (t[13] & TCPF_FIN));
    n = tcp_frame(f, r.slirp_mac, guest_mac, r.guest_ip, gport, r.host_ip, (uint16_t)port,
                  1006, 0, TCPF_RST, NULL, 0);
    CHECK_EQ(send_frame(&r, f, n), 0);
out:
    close(ls);
    rig_close(&r);
}

static unsigned free_port(int type)
{
    int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    unsigned port = 0;
    if (s >= 0 && !bind(s, (struct sockaddr *)&a, sizeof(a)) &&
        !getsockname(s, (struct sockaddr *)&a, &alen))
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

/* True if /proc/net/<proto> has a socket bound to 127.0.0.1:port (in `state`, "" = any). */
static bool bound_to_loopback(const char *proto, unsigned port, bool *any_other)
{
    char path[64], line[512], want[32];
    snprintf(path, sizeof(path), "/proc/net/%s", proto);
    snprintf(want, sizeof(want), ":%04X", port);
    FILE *fp = fopen(path, "r");
    bool found = false;
    *any_other = false;
    if (!fp)
        return false;
    while (fgets(line, sizeof(line), fp)) {
        char local[64];
        if (sscanf(line, " %*d: %63s", local) != 1)
            continue;
        char *colon = strchr(local, ':');
        if (!colon || strcmp(colon, want))
            continue;
        if (!strncmp(local, "0100007F", 8))
            found = true;
        else
            *any_other = true;
    }
    fclose(fp);
    return found;
}

static void test_hostfwd(void)
{
    unsigned tport = free_port(SOCK_STREAM), uport = free_port(SOCK_DGRAM);
    CHECK(tport && uport);
    char spec[128];
    snprintf(spec, sizeof(spec), "user,hostfwd=tcp::%u-:8080,hostfwd=udp::%u-:5353", tport, uport);
    struct rig r;
    if (rig_open(&r, spec)) {
        CHECK(0);
        return;
    }
    bool other;
    CHECK(bound_to_loopback("tcp", tport, &other));
    CHECK(!other);
    CHECK(bound_to_loopback("udp", uport, &other));
    CHECK(!other);
    /* The same port twice: the second backend cannot listen, and says so. */
    struct rig r2;
    struct rv_net_client client = {.receive = collector_receive, .opaque = &r.col};
    CHECK_EQ(rv_net_open(spec, guest_mac, &client, &r2.net), -EADDRINUSE);
    CHECK(strstr(rv_error_get(), "hostfwd") != NULL);

    CHECK(arp_ask(&r, r.host_ip, r.slirp_mac)); /* slirp learns the guest's MAC */
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)tport)};
    CHECK_EQ(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
    uint8_t f[FRAME_MAX];
    size_t n, plen;
    bool syn = false;
    while (!syn && next_frame(&r, f, &n)) {
        size_t l4len;
        const uint8_t *t = frame_l4(f, n, IPPROTO_TCP_, &l4len);
        const uint8_t *ip = frame_ipv4(f, n);
        if (t && l4len >= 20 && get16(t + 2) == 8080) {
            CHECK_EQ(t[13] & (TCPF_SYN | TCPF_ACK), TCPF_SYN);
            CHECK_EQ(get32(ip + 16), r.guest_ip);
            CHECK(!memcmp(f, guest_mac, 6));
            syn = true;
        }
    }
    CHECK(syn);
    close(s);

    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    a.sin_port = htons((uint16_t)uport);
    CHECK_EQ(sendto(u, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a)), 4);
    bool udp = false;
    while (!udp && next_frame(&r, f, &n)) {
        size_t l4len;
        const uint8_t *d = frame_l4(f, n, IPPROTO_UDP_, &l4len);
        if (d && l4len == 12 && get16(d + 2) == 5353) {
            CHECK(!memcmp(d + 8, "ping", 4));
            CHECK_EQ(get32(frame_ipv4(f, n) + 16), r.guest_ip);
            udp = true;
        }
    }
    CHECK(udp);
    (void)plen;
    close(u);
    rig_close(&r);
}

/* The guest has no buffers: frames wait (in order) until rv_net_rx_ready(). */
static void test_flow_control(void)
{
    struct rig r;
    if (rig_open(&r, "user")) {
        CHECK(0);
        return;
    }
    pthread_mutex_lock(&r.col.lock);
    r.col.refuse = 1;
    pthread_mutex_unlock(&r.col.lock);
    uint8_t f[FRAME_MAX];
    size_t n = arp_frame(f, 1, bcast, guest_mac, r.guest_ip, zero_mac, ip4(10, 0, 2, 2));
    CHECK_EQ(send_frame(&r, f, n), 0);
    n = arp_frame(f, 1, bcast, guest_mac, r.guest_ip, zero_mac, ip4(10, 0, 2, 3));
    CHECK_EQ(send_frame(&r, f, n), 0);
    /* Wait until the first reply was refused (bounded). */
    for (int i = 0; i < TIMEOUT_MS; i++) {
        pthread_mutex_lock(&r.col.lock);
        unsigned refused = r.col.refused;
        pthread_mutex_unlock(&r.col.lock);
        if (refused)
            break;
        usleep(1000);
    }
    CHECK_EQ(r.col.refused, 1);
    rv_net_rx_ready(r.net);
    CHECK(collector_next(&r.col, f, &n, TIMEOUT_MS));
    CHECK_EQ(get32(f + 28), ip4(10, 0, 2, 2));
    CHECK(collector_next(&r.col, f, &n, TIMEOUT_MS));
    CHECK_EQ(get32(f + 28), ip4(10, 0, 2, 3));

    /* Closing with frames still waiting frees them. */
    pthread_mutex_lock(&r.col.lock);
    r.col.refuse = 1000;
    pthread_mutex_unlock(&r.col.lock);
    for (int i = 0; i < 20; i++) {
        n = arp_frame(f, 1, bcast, guest_mac, r.guest_ip, zero_mac, ip4(10, 0, 2, 2));
        CHECK_EQ(send_frame(&r, f, n), 0);
    }
    rig_close(&r);
}

int main(void)
{
    test_options();
    test_arp_and_frames();
    test_dhcp();
    test_tcp_to_host();
    test_hostfwd();
    test_flow_control();
    TEST_MAIN_END();
}
