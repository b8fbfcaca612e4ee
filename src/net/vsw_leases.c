/* The DHCP server's lease table on disk (vswitch.h, docs/networks.md), so that leases survive
 * a restart of the switch: `leases.json` in the network's state directory,
 *
 *   {"version":1,"leases":[{"mac":"02:72:76:91:00:01","ip":"10.77.0.10","expires":1763740000}]}
 *
 * with `expires` in seconds of the wall clock (the switch keeps monotonic times, which do not
 * survive a host reboot). Only bound, unexpired leases are written. The file is written whole
 * to a temporary name and renamed over the old one (rename(2) is atomic), so a crash leaves
 * the old table or the new one, never a mix. A file that does not parse, or holds an entry
 * that is not a lease of this network's pool, is rejected as a whole: the server starts empty
 * (and clients keep their addresses by INIT-REBOOT, as without the file). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/error.h"
#include "net/vswitch.h"

#define NS_PER_S 1000000000ull
#define LEASES_VERSION 1

static bool parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    if (!s || strlen(s) != 17 ||
        sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &tail) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return (mac[0] & 1) == 0 && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

/* One entry into *l; an error message names it. Expired entries give l->ip == 0. */
static int parse_lease(const struct vsw_dhcp *d, json_t *e, size_t i, uint64_t now_ns,
                       int64_t now_s, struct vsw_dhcp_lease *l)
{
    struct in_addr in;
    const char *ip = json_string_value(json_object_get(e, "ip"));
    json_t *exp = json_object_get(e, "expires");
    memset(l, 0, sizeof(*l));
    if (!json_is_object(e) || !parse_mac(json_string_value(json_object_get(e, "mac")), l->mac))
        return rv_error_set(-EINVAL, "lease %zu: no valid unicast \"mac\"", i);
    if (!ip || inet_pton(AF_INET, ip, &in) != 1)
        return rv_error_set(-EINVAL, "lease %zu: no valid \"ip\"", i);
    uint32_t a = ntohl(in.s_addr);
    if (a < d->pool_first || a > d->pool_last)
        return rv_error_set(-EINVAL, "lease %zu: %s is not in this network's pool", i, ip);
    if (!json_is_integer(exp) || json_integer_value(exp) < 0)
        return rv_error_set(-EINVAL, "lease %zu: no valid \"expires\"", i);
    int64_t left = json_integer_value(exp) - now_s;
    if (left <= 0)
        return 0; /* expired while the switch was away */
    if (left > VSW_DHCP_LEASE_S)
        left = VSW_DHCP_LEASE_S; /* the wall clock went back: never longer than a lease */
    l->ip = a;
    l->bound = true;
    l->expires_ns = now_ns + (uint64_t)left * NS_PER_S;
    return 0;
}

static int parse_table(const struct vsw_dhcp *d, json_t *j, uint64_t now_ns, int64_t now_s,
                       struct vsw_dhcp_lease *out, unsigned *count)
{
    json_t *ver = json_object_get(j, "version"), *arr = json_object_get(j, "leases");
    if (!json_is_object(j) || !json_is_integer(ver) || !json_is_array(arr))
        return rv_error_set(-EINVAL, "not a lease table (no \"version\" and \"leases\")");
    if (json_integer_value(ver) != LEASES_VERSION)
        return rv_error_set(-EINVAL, "unknown version %lld",
                            (long long)json_integer_value(ver));
    if (json_array_size(arr) > VSW_DHCP_MAX_LEASES)
        return rv_error_set(-EINVAL, "%zu leases (at most %u)", json_array_size(arr),
                            VSW_DHCP_MAX_LEASES);
    *count = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct vsw_dhcp_lease l;
        int rc = parse_lease(d, json_array_get(arr, i), i, now_ns, now_s, &l);
        if (rc)
            return rc;
        for (unsigned k = 0; k < *count; k++)
            if (out[k].ip == l.ip || !memcmp(out[k].mac, l.mac, 6))
                return rv_error_set(-EINVAL, "lease %zu: its MAC or address is leased twice",
                                    i);
        if (l.ip)
            out[(*count)++] = l;
    }
    return 0;
}

int vsw_leases_parse(struct vsw_dhcp *d, const char *text, size_t len, uint64_t now_ns,
                     int64_t now_s)
{
    json_error_t err;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        return rv_error_set(-EINVAL, "line %d: %s", err.line, err.text);
    struct vsw_dhcp_lease *tab = calloc(VSW_DHCP_MAX_LEASES, sizeof(*tab));
    unsigned n = 0;
    int rc = tab ? parse_table(d, j, now_ns, now_s, tab, &n) : rv_error_set(-ENOMEM, "no memory");
    json_decref(j);
    if (!rc) {
        memset(d->leases, 0, sizeof(d->leases));
        memcpy(d->leases, tab, n * sizeof(*tab));
    }
    free(tab);
    return rc ? rc : (int)n;
}

char *vsw_leases_dump(const struct vsw_dhcp *d, uint64_t now_ns, int64_t now_s)
{
    json_t *arr = json_array(), *j = json_object();
    if (!arr || !j || json_object_set_new(j, "version", json_integer(LEASES_VERSION)) ||
        json_object_set(j, "leases", arr)) {
        json_decref(arr);
        json_decref(j);
        return NULL;
    }
    json_decref(arr); /* j holds it */
    for (unsigned i = 0; i < VSW_DHCP_MAX_LEASES; i++) {
        const struct vsw_dhcp_lease *l = &d->leases[i];
        if (!l->ip || !l->bound || l->expires_ns <= now_ns)
            continue;
        char mac[18], ip[INET_ADDRSTRLEN];
        struct in_addr in = {htonl(l->ip)};
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", l->mac[0], l->mac[1],
                 l->mac[2], l->mac[3], l->mac[4], l->mac[5]);
        inet_ntop(AF_INET, &in, ip, sizeof(ip));
        int64_t left = (int64_t)((l->expires_ns - now_ns + NS_PER_S - 1) / NS_PER_S);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:I}", "mac", mac, "ip", ip,
                                             "expires", (json_int_t)(now_s + left)));
    }
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -errno;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

int vsw_leases_save(const struct vsw_dhcp *d, const char *path, uint64_t now_ns, int64_t now_s)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return rv_error_set(-ENAMETOOLONG, "%s: name too long", path);
    char *s = vsw_leases_dump(d, now_ns, now_s);
    if (!s)
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        rc = -errno;
    if (!rc)
        rc = write_all(fd, s, strlen(s));
    if (!rc && write_all(fd, "\n", 1) == 0 && fsync(fd) < 0)
        rc = -errno;
    if (fd >= 0 && close(fd) < 0 && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path) < 0)
        rc = -errno;
    free(s);
    if (rc) {
        unlink(tmp);
        return rv_error_set(rc, "%s: %s", path, strerror(-rc));
    }
    return 0;
}

int vsw_leases_load(struct vsw_dhcp *d, const char *path, uint64_t now_ns, int64_t now_s)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? 0 : rv_error_set(-errno, "%s: %s", path, strerror(errno));
    char *buf = malloc(VSW_LEASES_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, VSW_LEASES_FILE_MAX + 1, f) : 0;
    int rc;
    if (!buf)
        rc = rv_error_set(-ENOMEM, "out of memory");
    else if (ferror(f))
        rc = rv_error_set(-EIO, "%s: read error", path);
    else if (n > VSW_LEASES_FILE_MAX)
        rc = rv_error_set(-EFBIG, "%s: larger than %u bytes", path, VSW_LEASES_FILE_MAX);
    else if ((rc = vsw_leases_parse(d, buf, n, now_ns, now_s)) < 0)
        rv_error_prefix(rc, "%s: ", path);
    fclose(f);
    free(buf);
    return rc;
}
