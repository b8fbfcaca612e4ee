/* A virtual network's configuration (vsw_daemon.h) and its config.json. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/error.h"
#include "net/vsw_daemon.h"

void vsw_config_default(struct vsw_config *c, const char *name)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->net = 10u << 24 | 77u << 16; /* 10.77.0.0/24 */
    c->prefix = 24;
    c->uplink = VSW_UPLINK_NONE;
    c->limits.pps = 50000;
    c->limits.bps = 125000000; /* 1 Gbit/s */
    c->limits.flood_pps = 2000;
}

int vsw_config_subnet(struct vsw_config *c, const char *cidr)
{
    char addr[INET_ADDRSTRLEN];
    const char *slash = strchr(cidr, '/');
    size_t alen = slash ? (size_t)(slash - cidr) : strlen(cidr);
    unsigned prefix = 24;
    char tail;
    struct in_addr in;
    if (alen == 0 || alen >= sizeof(addr))
        return rv_error_set(-EINVAL, "bad subnet '%.40s' (expected A.B.C.D/PREFIX)", cidr);
    memcpy(addr, cidr, alen);
    addr[alen] = 0;
    if (inet_pton(AF_INET, addr, &in) != 1 ||
        (slash && (sscanf(slash + 1, "%u%c", &prefix, &tail) != 1 || slash[1] == '+')))
        return rv_error_set(-EINVAL, "bad subnet '%.40s' (expected A.B.C.D/PREFIX)", cidr);
    if (prefix < 8 || prefix > 28)
        return rv_error_set(-EINVAL, "subnet prefix /%u: expected /8 to /28", prefix);
    uint32_t net = ntohl(in.s_addr), mask = ~0u << (32 - prefix);
    if (net & ~mask)
        return rv_error_set(-EINVAL, "subnet %s: host bits set (did you mean %u.%u.%u.%u/%u?)",
                            cidr, (net & mask) >> 24, (net & mask) >> 16 & 255,
                            (net & mask) >> 8 & 255, net & mask & 255, prefix);
    c->net = net;
    c->prefix = prefix;
    return 0;
}

int vsw_config_uplink(struct vsw_config *c, const char *spec)
{
    if (!strcmp(spec, "none")) {
        c->uplink = VSW_UPLINK_NONE;
        return 0;
    }
    if (!strcmp(spec, "nat")) {
        c->uplink = VSW_UPLINK_NAT;
        return 0;
    }
    if (!strncmp(spec, "tap:", 4)) {
        const char *ifn = spec + 4;
        size_t len = strlen(ifn);
        if (len == 0 || len >= sizeof(c->tap_if) || strpbrk(ifn, "/ :,"))
            return rv_error_set(-EINVAL, "bad tap interface name '%.40s'", ifn);
        memcpy(c->tap_if, ifn, len + 1);
        c->uplink = VSW_UPLINK_TAP;
        return 0;
    }
    return rv_error_set(-EINVAL, "bad uplink '%.40s' (expected nat, none or tap:IFNAME)", spec);
}

void vsw_config_uplink_str(const struct vsw_config *c, char *buf, size_t size)
{
    if (c->uplink == VSW_UPLINK_TAP)
        snprintf(buf, size, "tap:%s", c->tap_if);
    else
        snprintf(buf, size, "%s", c->uplink == VSW_UPLINK_NAT ? "nat" : "none");
}

int vsw_config_save(const struct vsw_config *c, const char *path)
{
    char subnet[32], uplink[32];
    snprintf(subnet, sizeof(subnet), "%u.%u.%u.%u/%u", c->net >> 24, c->net >> 16 & 255,
             c->net >> 8 & 255, c->net & 255, c->prefix);
    vsw_config_uplink_str(c, uplink, sizeof(uplink));
    json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "name", c->name, "subnet", subnet,
                          "uplink", uplink, "port_pps", (json_int_t)c->limits.pps, "port_bps",
                          (json_int_t)c->limits.bps, "port_flood_pps",
                          (json_int_t)c->limits.flood_pps);
    if (!j)
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = json_dump_file(j, path, JSON_INDENT(2));
    json_decref(j);
    if (rc)
        return rv_error_set(-EIO, "cannot write %s", path);
    return 0;
}

static int get_limit(json_t *j, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(j, key);
    if (!v)
        return 0; /* keep the default */
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return rv_error_set(-EINVAL, "config: %s must be a non-negative integer", key);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int vsw_config_load(struct vsw_config *c, const char *name, const char *path)
{
    vsw_config_default(c, name);
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j)
        return rv_error_set(-ENOENT, "network %s: cannot read %s: %s", name, path, err.text);
    int rc = 0;
    const char *subnet = json_string_value(json_object_get(j, "subnet"));
    const char *uplink = json_string_value(json_object_get(j, "uplink"));
    if (!json_is_object(j) || !subnet || !uplink)
        rc = rv_error_set(-EINVAL, "network %s: %s lacks subnet or uplink", name, path);
    if (!rc)
        rc = vsw_config_subnet(c, subnet);
    if (!rc)
        rc = vsw_config_uplink(c, uplink);
    if (!rc)
        rc = get_limit(j, "port_pps", &c->limits.pps);
    if (!rc)
        rc = get_limit(j, "port_bps", &c->limits.bps);
    if (!rc)
        rc = get_limit(j, "port_flood_pps", &c->limits.flood_pps);
    json_decref(j);
    return rc;
}
