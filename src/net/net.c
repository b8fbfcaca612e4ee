/* Network backend front: picks the backend named by a --net specification, checks what every
 * backend would check (client, frame sizes), and holds the helpers the backends share
 * (option lists, a bounded frame FIFO). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "net/net_internal.h"

int rv_net_open(const char *spec, const uint8_t mac[6], const struct rv_net_client *client,
                struct rv_net **out)
{
    if (!spec || !mac || !client || !client->receive || !out)
        return rv_error_set(-EINVAL, "net: missing backend specification, MAC or client");
    size_t name_len = strcspn(spec, ",");
    const char *opts = spec[name_len] == ',' ? spec + name_len + 1 : spec + name_len;
    if (mac[0] & 1)
        return rv_error_set(-EINVAL, "net: MAC address is a multicast address");
    if (!strncmp(spec, "switch:", 7))
        return rv_net_switch_open(spec + 7, mac, client, out);
    if (name_len == 4 && !strncmp(spec, "user", 4))
        return rv_net_user_open(opts, mac, client, out);
    if (name_len == 3 && !strncmp(spec, "tap", 3))
        return rv_net_tap_open(opts, mac, client, out);
    return rv_error_set(-EINVAL, "net: unknown backend '%.*s' (expected user, tap or switch:NAME)",
                        (int)(name_len > 32 ? 32 : name_len), spec);
}

void rv_net_get_mac(const struct rv_net *n, uint8_t mac[6])
{
    memcpy(mac, n->mac, 6);
}

void rv_net_close(struct rv_net *n)
{
    if (n)
        n->ops->close(n);
}

long rv_net_iov_len(const struct iovec *iov, int iovcnt)
{
    if (iovcnt < 0 || (iovcnt > 0 && !iov))
        return -EINVAL;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > RV_NET_MAX_FRAME || total + iov[i].iov_len > RV_NET_MAX_FRAME)
            return -EMSGSIZE;
        total += iov[i].iov_len;
    }
    return (long)total;
}

int rv_net_send(struct rv_net *n, const struct iovec *iov, int iovcnt)
{
    if (!n)
        return rv_error_set(-EINVAL, "net: no backend");
    long len = rv_net_iov_len(iov, iovcnt);
    if (len == -EMSGSIZE)
        return rv_error_set(-EMSGSIZE, "net: frame longer than %d bytes", RV_NET_MAX_FRAME);
    if (len < RV_NET_MIN_FRAME)
        return rv_error_set(-EINVAL, "net: frame shorter than an Ethernet header");
    return n->ops->send(n, iov, iovcnt);
}

void rv_net_rx_ready(struct rv_net *n)
{
    if (n)
        n->ops->rx_ready(n);
}

/* --- option lists --- */

int rv_net_opt_next(const char **p, char *key, size_t key_size, char *val, size_t val_size)
{
    const char *s = *p;
    while (*s == ',')
        s++; /* empty items ("user,,net=...") are harmless */
    if (!*s) {
        *p = s;
        return 0;
    }
    size_t item = strcspn(s, ",");
    const char *eq = memchr(s, '=', item);
    size_t klen = eq ? (size_t)(eq - s) : item;
    size_t vlen = eq ? item - klen - 1 : 0;
    if (klen == 0 || klen >= key_size || vlen >= val_size)
        return rv_error_set(-EINVAL, "net: bad option '%.*s'", (int)(item > 64 ? 64 : item), s);
    memcpy(key, s, klen);
    key[klen] = 0;
    if (eq)
        memcpy(val, eq + 1, vlen);
    val[vlen] = 0;
    *p = s + item;
    return 1;
}

int rv_net_opt_bool(const char *backend, const char *key, const char *val, bool *out)
{
    static const char *const yes[] = {"on", "yes", "true", "1"};
    static const char *const no[] = {"off", "no", "false", "0"};
    for (unsigned i = 0; i < 4; i++) {
        if (!strcasecmp(val, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcasecmp(val, no[i])) {
            *out = false;
            return 0;
        }
    }
    return rv_error_set(-EINVAL, "net %s: %s=%s: expected on or off", backend, key, val);
}

/* --- frame FIFO --- */

int rv_frameq_init(struct rv_frameq *q, unsigned cap)
{
    memset(q, 0, sizeof(*q));
    q->slots = calloc(cap, sizeof(*q->slots));
    if (!q->slots)
        return -ENOMEM;
    q->cap = cap;
    return 0;
}

void rv_frameq_free(struct rv_frameq *q)
{
    struct rv_frame *f;
    if (!q->slots)
        return;
    while ((f = rv_frameq_pop(q)))
        free(f);
    free(q->slots);
    q->slots = NULL;
}

static struct rv_frame **frameq_tail(struct rv_frameq *q)
{
    return &q->slots[(q->head + q->count) % q->cap];
}

int rv_frameq_push_iov(struct rv_frameq *q, const struct iovec *iov, int iovcnt, size_t len)
{
    if (rv_frameq_full(q))
        return -ENOBUFS;
    struct rv_frame *f = malloc(sizeof(*f) + len);
    if (!f)
        return -ENOMEM;
    f->len = 0;
    for (int i = 0; i < iovcnt && f->len < len; i++) {
        size_t chunk = iov[i].iov_len < len - f->len ? iov[i].iov_len : len - f->len;
        memcpy(f->data + f->len, iov[i].iov_base, chunk);
        f->len += chunk;
    }
    *frameq_tail(q) = f;
    q->count++;
    return 0;
}

int rv_frameq_push(struct rv_frameq *q, const uint8_t *frame, size_t len)
{
    struct iovec iov = {(void *)frame, len};
    return rv_frameq_push_iov(q, &iov, 1, len);
}

struct rv_frame *rv_frameq_peek(const struct rv_frameq *q)
{
    return q->count ? q->slots[q->head] : NULL;
}

struct rv_frame *rv_frameq_pop(struct rv_frameq *q)
{
    if (!q->count)
        return NULL;
    struct rv_frame *f = q->slots[q->head];
    q->slots[q->head] = NULL;
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return f;
}
