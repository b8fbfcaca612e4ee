/* Parsing of the "user" backend's options (see user_opts.h). */
#include "net/user_opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "net/net_internal.h"

static bool parse_port(const char *s, size_t len, unsigned *out)
{
    if (len == 0 || len > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *out = v;
    return true;
}

/* An IPv4 address of at most `len` characters; "" gives `dflt`. */
static bool parse_addr(const char *s, size_t len, struct in_addr dflt, struct in_addr *out)
{
    char buf[INET_ADDRSTRLEN];
    if (len == 0) {
        *out = dflt;
        return true;
    }
    if (len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = 0;
    return inet_pton(AF_INET, buf, out) == 1;
}

/* PROTO:[HADDR]:HPORT-[GADDR]:GPORT */
static int parse_hostfwd(const char *v, struct rv_net_hostfwd *f)
{
    memset(f, 0, sizeof(*f));
    const char *c1 = strchr(v, ':');
    const char *dash = c1 ? strchr(c1 + 1, '-') : NULL;
    if (!c1 || !dash)
        goto bad;
    if (c1 - v == 3 && !strncmp(v, "tcp", 3))
        f->udp = false;
    else if (c1 - v == 3 && !strncmp(v, "udp", 3))
        f->udp = true;
    else
        goto bad;
    /* host side: [HADDR]:HPORT between c1 and dash */
    const char *hs = c1 + 1, *c2 = memchr(hs, ':', (size_t)(dash - hs));
    struct in_addr loopback = {htonl(INADDR_LOOPBACK)}, any = {0};
    if (!c2 || !parse_addr(hs, (size_t)(c2 - hs), loopback, &f->host_addr) ||
        !parse_port(c2 + 1, (size_t)(dash - c2 - 1), &f->host_port))
        goto bad;
    /* guest side: [GADDR]:GPORT after dash */
    const char *gs = dash + 1, *c3 = strchr(gs, ':');
    if (!c3 || !parse_addr(gs, (size_t)(c3 - gs), any, &f->guest_addr) ||
        !parse_port(c3 + 1, strlen(c3 + 1), &f->guest_port))
        goto bad;
    return 0;
bad:
    return rv_error_set(-EINVAL, "net user: bad hostfwd '%.100s' (expected "
                        "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)", v);
}

static int parse_net(const char *v, struct rv_net_user_opts *o)
{
    const char *slash = strchr(v, '/');
    size_t alen = slash ? (size_t)(slash - v) : strlen(v);
    unsigned prefix = 24;
    if (slash) {
        char *end;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (!slash[1] || *end || p < 8 || p > 30)
            goto bad;
        prefix = (unsigned)p;
    }
    struct in_addr a;
    if (!parse_addr(v, alen, (struct in_addr){0}, &a) || alen == 0)
        goto bad;
    uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
    o->mask.s_addr = htonl(mask);
    o->net.s_addr = htonl(ntohl(a.s_addr) & mask);
    return 0;
bad:
    return rv_error_set(-EINVAL, "net user: bad net '%.100s' (expected A.B.C.D/PREFIX, "
                        "PREFIX 8..30)", v);
}

/* A host address inside the network, neither its network nor its broadcast address. */
static bool in_subnet(const struct rv_net_user_opts *o, struct in_addr a)
{
    uint32_t x = ntohl(a.s_addr), net = ntohl(o->net.s_addr), mask = ntohl(o->mask.s_addr);
    return (x & mask) == net && x != net && x != (net | ~mask);
}

int rv_net_user_parse(const char *opts, struct rv_net_user_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->net.s_addr = htonl(0x0a000200); /* 10.0.2.0/24 */
    o->mask.s_addr = htonl(0xffffff00);
    bool have_host = false, have_dns = false, have_dhcp = false;
    char key[32], val[128];
    int rc;
    while ((rc = rv_net_opt_next(&opts, key, sizeof(key), val, sizeof(val))) > 0) {
        struct in_addr *addr = NULL;
        bool *have = NULL;
        if (!strcmp(key, "net")) {
            if ((rc = parse_net(val, o)))
                return rc;
        } else if (!strcmp(key, "host")) {
            addr = &o->host, have = &have_host;
        } else if (!strcmp(key, "dns")) {
            addr = &o->dns, have = &have_dns;
        } else if (!strcmp(key, "dhcpstart")) {
            addr = &o->dhcp_start, have = &have_dhcp;
        } else if (!strcmp(key, "restrict")) {
            if ((rc = rv_net_opt_bool("user", key, val, &o->restricted)))
                return rc;
        } else if (!strcmp(key, "hostfwd")) {
            if (o->nfwd == RV_NET_MAX_HOSTFWD)
                return rv_error_set(-EINVAL, "net user: more than %d hostfwd options",
                                    RV_NET_MAX_HOSTFWD);
            if ((rc = parse_hostfwd(val, &o->fwd[o->nfwd])))
                return rc;
            o->nfwd++;
        } else {
            return rv_error_set(-EINVAL, "net user: unknown option '%s' (expected net, host, "
                                "dns, dhcpstart, restrict or hostfwd)", key);
        }
        if (addr) {
            if (!parse_addr(val, strlen(val), (struct in_addr){0}, addr) || !val[0])
                return rv_error_set(-EINVAL, "net user: %s=%s: not an IPv4 address", key, val);
            *have = true;
        }
    }
    if (rc < 0)
        return rc;
    uint32_t net = ntohl(o->net.s_addr);
    if (!have_host)
        o->host.s_addr = htonl(net + 2);
    if (!have_dns)
        o->dns.s_addr = htonl(net + 3);
    if (!have_dhcp)
        o->dhcp_start.s_addr = htonl(net + 15);
    if (!in_subnet(o, o->host) || !in_subnet(o, o->dns) || !in_subnet(o, o->dhcp_start))
        return rv_error_set(-EINVAL, "net user: host, dns and dhcpstart must be host addresses "
                            "inside net");
    for (unsigned i = 0; i < o->nfwd; i++) {
        if (o->fwd[i].guest_addr.s_addr && !in_subnet(o, o->fwd[i].guest_addr))
            return rv_error_set(-EINVAL, "net user: hostfwd guest address outside net");
    }
    return 0;
}
