/* The switch's control socket: JSON lines in the style of the VM control API (docs/api.md),
 * one request object per line, one reply per request:
 *   {"id": 1, "request": "status"}            name, subnet, uplink, ports, uptime
 *   {"id": 2, "request": "stats"}             per port: MAC, lease, counters, drops by reason
 *   {"id": 3, "request": "capture", "arguments": {"count": N}}   with a file descriptor
 *                                             passed in SCM_RIGHTS: pcap records of every frame
 *                                             the switch accepts (and its DHCP answers) are
 *                                             appended to it until N frames or the connection
 *                                             closes; then an event line {"event":"capture_done"}
 *   {"id": 4, "request": "shutdown"}          the switch ends
 * -> {"id":1,"ok":true,"result":{...}} or {"id":1,"ok":false,"error":{"code":..,"message":..}} */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/log.h"
#include "net/vsw_daemon_internal.h"

static void client_close(struct vswd *d, struct vswd_client *c)
{
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    if (c->capture_fd >= 0) {
        close(c->capture_fd);
        c->capture_fd = -1;
        d->capturing--;
    }
    free(c->buf);
    c->buf = NULL;
}

void vswd_clients_close(struct vswd *d)
{
    for (unsigned i = 0; i < VSWD_CLIENTS; i++)
        if (d->clients[i].fd >= 0)
            client_close(d, &d->clients[i]);
}

void vswd_client_accept(struct vswd *d)
{
    int fd = accept4(d->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (unsigned i = 0; i < VSWD_CLIENTS; i++) {
        struct vswd_client *c = &d->clients[i];
        if (c->fd >= 0)
            continue;
        c->buf = malloc(VSWD_LINE_MAX);
        if (!c->buf || vswd_epoll(d, EPOLL_CTL_ADD, fd, EPOLLIN, TAG_CLIENT, i)) {
            free(c->buf);
            c->buf = NULL;
            break;
        }
        c->fd = fd;
        c->len = 0;
        c->discarding = false;
        return;
    }
    close(fd);
}

/* Sends a whole line without blocking; a client that does not read loses its connection. */
static bool client_send(struct vswd_client *c, json_t *msg)
{
    char *s = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (!s)
        return false;
    size_t len = strlen(s);
    s[len++] = '\n'; /* json_dumps leaves room for the NUL, which the newline replaces */
    const char *p = s;
    bool ok = true;
    while (len && ok) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        if (ok)
            p += n, len -= (size_t)n;
    }
    free(s);
    return ok;
}

static json_t *error_reply(json_t *id, const char *code, const char *message)
{
    return json_pack("{s:O?,s:b,s:{s:s,s:s}}", "id", id, "ok", 0, "error", "code", code,
                     "message", message);
}

static void mac_str(const uint8_t *m, char *buf)
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void ip_str(uint32_t ip, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
}

static json_t *port_json(struct vswd *d, unsigned p)
{
    const struct vsw_port *sp = &d->sw.ports[p];
    const struct vswd_port *dp = &d->ports[p];
    const struct vsw_counters *c = &sp->c;
    json_t *drops = json_object();
    for (unsigned r = 0; drops && r < VSW_DROP_REASONS; r++)
        json_object_set_new(drops, vsw_drop_names[r], json_integer((json_int_t)c->drops[r]));
    char mac[18] = "", ip[16] = "";
    if (!sp->uplink) {
        mac_str(sp->mac, mac);
        const struct vsw_dhcp_lease *l = vsw_dhcp_lease_of(&d->dhcp, sp->mac);
        if (l && l->bound)
            ip_str(l->ip, ip, sizeof(ip));
    }
    return json_pack("{s:i,s:s,s:s?,s:s?,s:I,s:I,s:I,s:I,s:I,s:o*,s:I,s:i}", "port", (int)p,
                     "kind", sp->uplink ? "uplink" : "vm", "mac", mac[0] ? mac : NULL, "ip",
                     ip[0] ? ip : NULL, "pid", (json_int_t)dp->pid, "in_frames",
                     (json_int_t)c->in_frames, "in_bytes", (json_int_t)c->in_bytes,
                     "out_frames", (json_int_t)c->out_frames, "out_bytes",
                     (json_int_t)c->out_bytes, "drops", drops, "throttled",
                     (json_int_t)c->throttled, "queued", (int)dp->outq.count);
}

static json_t *stats_result(struct vswd *d)
{
    json_t *ports = json_array();
    for (unsigned p = 0; ports && p < VSW_MAX_PORTS; p++)
        if (d->ports[p].fd >= 0)
            json_array_append_new(ports, port_json(d, p));
    return json_pack("{s:s,s:o*}", "name", d->cfg->name, "ports", ports);
}

static json_t *status_result(struct vswd *d)
{
    char subnet[24], uplink[32];
    ip_str(d->cfg->net, subnet, sizeof(subnet));
    snprintf(subnet + strlen(subnet), sizeof(subnet) - strlen(subnet), "/%u", d->cfg->prefix);
    vsw_config_uplink_str(d->cfg, uplink, sizeof(uplink));
    unsigned n = 0;
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
        n += d->ports[p].fd >= 0 && !d->ports[p].uplink;
    return json_pack("{s:s,s:s,s:s,s:i,s:i,s:I,s:{s:I,s:I,s:I}}", "name", d->cfg->name,
                     "subnet", subnet, "uplink", uplink, "pid", (int)getpid(), "vm_ports",
                     (int)n, "uptime_ms", (json_int_t)((vswd_now() - d->start_ns) / 1000000),
                     "limits", "port_pps", (json_int_t)d->cfg->limits.pps, "port_bps",
                     (json_int_t)d->cfg->limits.bps, "port_flood_pps",
                     (json_int_t)d->cfg->limits.flood_pps);
}

static json_t *capture_start(struct vswd *d, struct vswd_client *c, json_t *id, json_t *args,
                             int *fd)
{
    json_t *count = json_object_get(args, "count");
    if (*fd < 0)
        return error_reply(id, "invalid-argument", "capture needs a file descriptor "
                           "(SCM_RIGHTS) to write to");
    if (c->capture_fd >= 0)
        return error_reply(id, "invalid-state", "this connection already captures");
    if (count && (!json_is_integer(count) || json_integer_value(count) <= 0))
        return error_reply(id, "invalid-argument", "count must be a positive integer");
    c->capture_fd = *fd;
    *fd = -1;
    c->capture_left = count ? (uint64_t)json_integer_value(count) : UINT64_MAX;
    c->captured = 0;
    d->capturing++;
    return json_pack("{s:O?,s:b,s:{}}", "id", id, "ok", 1, "result");
}

/* One request line. *fd: a descriptor that came with it (taken by capture, else closed). */
static void handle_line(struct vswd *d, struct vswd_client *c, const char *line, size_t len,
                        int *fd)
{
    json_error_t jerr;
    json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *id = json_object_get(req, "id"), *args = json_object_get(req, "arguments");
    const char *name = json_string_value(json_object_get(req, "request"));
    json_t *reply;
    if (id && !json_is_integer(id) && !json_is_string(id))
        id = NULL;
    if (json_is_null(args))
        args = NULL;
    if (!req || !json_is_object(req))
        reply = error_reply(NULL, "parse-error", "not a JSON object");
    else if (!name)
        reply = error_reply(id, "invalid-request", "missing \"request\" string");
    else if (args && !json_is_object(args))
        reply = error_reply(id, "invalid-argument", "\"arguments\" must be an object");
    else if (!strcmp(name, "status"))
        reply = json_pack("{s:O?,s:b,s:o}", "id", id, "ok", 1, "result", status_result(d));
    else if (!strcmp(name, "stats"))
        reply = json_pack("{s:O?,s:b,s:o}", "id", id, "ok", 1, "result", stats_result(d));
    else if (!strcmp(name, "capture"))
        reply = capture_start(d, c, id, args, fd);
    else if (!strcmp(name, "shutdown")) {
        d->shutdown = true;
        reply = json_pack("{s:O?,s:b,s:{}}", "id", id, "ok", 1, "result");
    } else
        reply = error_reply(id, "unknown-request", "unknown request (expected status, stats, "
                            "capture or shutdown)");
    json_decref(req);
    if (!client_send(c, reply))
        client_close(d, c);
}

/* Receives bytes (and maybe a descriptor) and handles complete lines. */
static void client_read(struct vswd *d, struct vswd_client *c)
{
    char cbuf[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec iov = {c->buf + c->len, VSWD_LINE_MAX - c->len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof(cbuf)};
    ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    int fd = -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t k = 0; k < nfd; k++) {
            int f;
            memcpy(&f, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
            if (fd < 0)
                fd = f;
            else
                close(f); /* one descriptor per request */
        }
    }
    if (n <= 0) {
        if (fd >= 0)
            close(fd);
        client_close(d, c);
        return;
    }
    c->len += (size_t)n;
    char *nl;
    while (c->fd >= 0 && (nl = memchr(c->buf, '\n', c->len))) {
        size_t line = (size_t)(nl - c->buf);
        if (!c->discarding && line > 0)
            handle_line(d, c, c->buf, line, &fd);
        c->discarding = false;
        if (c->fd < 0)
            break;
        memmove(c->buf, nl + 1, c->len - line - 1);
        c->len -= line + 1;
    }
    if (c->fd >= 0 && c->len == VSWD_LINE_MAX) {
        c->len = 0; /* a line too long: answered once, then skipped to its newline */
        c->discarding = true;
        if (!client_send(c, error_reply(NULL, "invalid-request", "line too long")))
            client_close(d, c);
    }
    if (fd >= 0)
        close(fd);
}

void vswd_client_event(struct vswd *d, unsigned i, uint32_t events)
{
    struct vswd_client *c = &d->clients[i];
    if (c->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        client_read(d, c);
}

static void capture_done(struct vswd *d, struct vswd_client *c)
{
    close(c->capture_fd);
    c->capture_fd = -1;
    d->capturing--;
    json_t *ev = json_pack("{s:s,s:I}", "event", "capture_done", "frames",
                           (json_int_t)c->captured);
    if (!client_send(c, ev))
        client_close(d, c);
}

void vswd_capture(struct vswd *d, const uint8_t *frame, size_t len)
{
    if (!d->capturing)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint8_t rec[VSW_PCAP_RECORD_LEN];
    vsw_pcap_record(rec, (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec, len);
    for (unsigned i = 0; i < VSWD_CLIENTS; i++) {
        struct vswd_client *c = &d->clients[i];
        if (c->fd < 0 || c->capture_fd < 0)
            continue;
        struct iovec iov[2] = {{rec, sizeof(rec)}, {(void *)frame, len}};
        if (writev(c->capture_fd, iov, 2) != (ssize_t)(sizeof(rec) + len)) {
            rv_warn("switch %s: capture write failed: %s", d->cfg->name, strerror(errno));
            capture_done(d, c);
            continue;
        }
        c->captured++;
        if (--c->capture_left == 0)
            capture_done(d, c);
    }
}
