/* State directories and the port protocol's hello/welcome messages (vsw_proto.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "core/error.h"
#include "net/vsw_proto.h"

void vsw_hello_encode(const struct vsw_hello *h, uint8_t out[VSW_HELLO_LEN])
{
    memset(out, 0, VSW_HELLO_LEN);
    memcpy(out, VSW_MAGIC, 4);
    out[4] = VSW_VERSION;
    out[5] = h->flags;
    memcpy(out + 6, h->mac, 6);
    for (int i = 0; i < 4; i++)
        out[12 + i] = (uint8_t)(h->pid >> (8 * i));
}

int vsw_hello_decode(const uint8_t *p, size_t len, struct vsw_hello *h)
{
    if (len != VSW_HELLO_LEN || memcmp(p, VSW_MAGIC, 4))
        return -EPROTO;
    if (p[4] != VSW_VERSION)
        return -EPROTONOSUPPORT;
    if (p[5] & ~VSW_FLAG_MAC)
        return -EPROTO;
    h->flags = p[5];
    memcpy(h->mac, p + 6, 6);
    h->pid = (uint32_t)p[12] | (uint32_t)p[13] << 8 | (uint32_t)p[14] << 16 |
             (uint32_t)p[15] << 24;
    return 0;
}

size_t vsw_welcome_encode(const struct vsw_welcome *w, uint8_t *out, size_t cap)
{
    size_t mlen = strnlen(w->msg, VSW_MSG_MAX);
    if (cap < VSW_WELCOME_LEN + mlen)
        return 0;
    memset(out, 0, VSW_WELCOME_LEN);
    memcpy(out, VSW_MAGIC, 4);
    out[4] = VSW_VERSION;
    out[5] = w->status;
    out[6] = (uint8_t)w->port;
    out[7] = (uint8_t)(w->port >> 8);
    memcpy(out + 8, w->mac, 6);
    memcpy(out + VSW_WELCOME_LEN, w->msg, mlen);
    return VSW_WELCOME_LEN + mlen;
}

int vsw_welcome_decode(const uint8_t *p, size_t len, struct vsw_welcome *w)
{
    if (len < VSW_WELCOME_LEN || len > VSW_WELCOME_LEN + VSW_MSG_MAX ||
        memcmp(p, VSW_MAGIC, 4))
        return -EPROTO;
    if (p[4] != VSW_VERSION)
        return -EPROTONOSUPPORT;
    w->status = p[5];
    w->port = (uint16_t)(p[6] | p[7] << 8);
    memcpy(w->mac, p + 8, 6);
    size_t mlen = len - VSW_WELCOME_LEN;
    for (size_t i = 0; i < mlen; i++) /* printable ASCII only: it goes to a terminal */
        w->msg[i] = p[VSW_WELCOME_LEN + i] >= 0x20 && p[VSW_WELCOME_LEN + i] < 0x7f
                        ? (char)p[VSW_WELCOME_LEN + i] : '?';
    w->msg[mlen] = 0;
    return 0;
}

bool vsw_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > VSW_NAME_MAX || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

int vsw_state_dir(const char *name, char *buf, size_t size)
{
    if (name && !vsw_name_valid(name))
        return rv_error_set(-EINVAL, "bad network name '%.40s' (1 to %d of A-Z a-z 0-9 _ . -)",
                            name, VSW_NAME_MAX);
    const char *state = getenv("RVISOR_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (state && *state)
        n = snprintf(buf, size, "%s/net", state);
    else if (xdg && *xdg)
        n = snprintf(buf, size, "%s/rvisor/net", xdg);
    else
        n = snprintf(buf, size, "%s/.local/state/rvisor/net", home && *home ? home : ".");
    if (n >= 0 && (size_t)n < size && name)
        n += snprintf(buf + n, size - (size_t)n, "/%s", name);
    if (n < 0 || (size_t)n >= size)
        return rv_error_set(-ENAMETOOLONG, "state directory path too long");
    return 0;
}

int vsw_path(const char *name, const char *file, char *buf, size_t size)
{
    char dir[512];
    int rc = vsw_state_dir(name, dir, sizeof(dir));
    if (rc)
        return rc;
    int n = snprintf(buf, size, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return rv_error_set(-ENAMETOOLONG, "%s/%s: path too long for a unix socket (set "
                            "RVISOR_STATE_DIR to a shorter directory)", dir, file);
    return 0;
}
