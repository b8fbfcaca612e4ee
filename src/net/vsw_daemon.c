/* The switch process's event loop (vsw_daemon.h): one thread, epoll, level-triggered.
 *
 * Fairness: each round of the loop reads at most VSWD_BURST frames from every readable port,
 * so a port with a full socket cannot take more than its share of the switch; a port over its
 * rate limit (vsw_ingress says THROTTLE) is not read at all until its bucket has refilled
 * (the frame that hit the limit is held and goes first). Output never blocks: a frame for a
 * port whose socket is full waits in that port's bounded queue, and is dropped and counted
 * (queue_full) when the queue is full too; slow or flooded receivers lose their own frames,
 * not anyone else's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "net/vsw_daemon_internal.h"

uint64_t vswd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

int vswd_epoll(struct vswd *d, int op, int fd, uint32_t events, uint32_t kind, uint32_t index)
{
    struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)kind << 32 | index};
    return epoll_ctl(d->epfd, op, fd, &ev);
}

static void port_arm(struct vswd *d, unsigned p)
{
    struct vswd_port *pt = &d->ports[p];
    uint32_t ev = (pt->paused ? 0 : EPOLLIN) | (pt->out_armed ? EPOLLOUT : 0);
    vswd_epoll(d, EPOLL_CTL_MOD, pt->fd, ev, TAG_PORT, p);
}

static void port_close(struct vswd *d, unsigned p)
{
    struct vswd_port *pt = &d->ports[p];
    if (pt->fd < 0)
        return;
    rv_info("switch %s: port %u left (pid %u)", d->cfg->name, p, pt->pid);
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, pt->fd, NULL);
    close(pt->fd);
    pt->fd = -1;
    rv_frameq_free(&pt->outq);
    vsw_port_remove(&d->sw, p);
}

/* --- output --- */

static bool send_frame(int fd, const uint8_t *frame, size_t len, bool *again)
{
    for (;;) {
        if (send(fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
            return true;
        if (errno == EINTR)
            continue;
        *again = errno == EAGAIN || errno == ENOBUFS;
        return false;
    }
}

void vswd_output(struct vswd *d, unsigned p, const uint8_t *frame, size_t len)
{
    struct vswd_port *pt = &d->ports[p];
    bool again = false;
    if (pt->fd < 0)
        return;
    if (pt->outq.count == 0 && send_frame(pt->fd, frame, len, &again)) {
        vsw_count_out(&d->sw, p, len);
        return;
    }
    if (pt->outq.count == 0 && !again)
        return; /* the peer is gone: its read side will tell */
    if (rv_frameq_push(&pt->outq, frame, len)) {
        vsw_count_drop(&d->sw, p, VSW_DROP_QUEUE_FULL);
        return;
    }
    if (!pt->out_armed) {
        pt->out_armed = true;
        port_arm(d, p);
    }
}

static void port_flush(struct vswd *d, unsigned p)
{
    struct vswd_port *pt = &d->ports[p];
    struct rv_frame *f;
    while ((f = rv_frameq_peek(&pt->outq))) {
        bool again = false;
        if (!send_frame(pt->fd, f->data, f->len, &again) && again)
            return;
        vsw_count_out(&d->sw, p, f->len);
        free(rv_frameq_pop(&pt->outq));
    }
    pt->out_armed = false;
    port_arm(d, p);
}

/* --- input --- */

/* --- the lease table (vsw_leases.c) --- */

static void leases_save(struct vswd *d, uint64_t now)
{
    d->dhcp.changed = false;
    if (vsw_leases_save(&d->dhcp, d->leases_path, now, (int64_t)time(NULL)))
        rv_warn("switch %s: leases not saved: %s", d->cfg->name, rv_error_get());
}

static void leases_load(struct vswd *d)
{
    int n = vsw_leases_load(&d->dhcp, d->leases_path, vswd_now(), (int64_t)time(NULL));
    if (n < 0)
        rv_warn("switch %s: lease table ignored, starting without leases: %s", d->cfg->name,
                rv_error_get());
    else if (n > 0)
        rv_info("switch %s: %d leases restored from %s", d->cfg->name, n, d->leases_path);
}

/* One frame from port p. Returns false when the port is over its rate (frame held). */
static bool handle_frame(struct vswd *d, unsigned p, const uint8_t *frame, size_t len)
{
    uint64_t now = vswd_now(), retry = 0;
    vsw_portmask out;
    enum vsw_verdict v = vsw_ingress(&d->sw, p, frame, len, now, &out, &retry);
    switch (v) {
    case VSW_THROTTLE: {
        struct vswd_port *pt = &d->ports[p];
        if (frame != pt->held)
            memcpy(pt->held, frame, len); /* len <= VSW_MAX_FRAME: checked before the rate */
        pt->held_len = len;
        pt->paused = true;
        pt->resume_ns = now + retry;
        port_arm(d, p);
        return false;
    }
    case VSW_LOCAL: {
        vswd_capture(d, frame, len);
        size_t n = vsw_dhcp_handle(&d->dhcp, frame, len, now, d->reply, RV_NET_MAX_FRAME);
        if (d->dhcp.changed)
            leases_save(d, now);
        if (n) {
            vswd_capture(d, d->reply, n);
            vswd_output(d, p, d->reply, n);
        }
        return true;
    }
    case VSW_FORWARD:
        vswd_capture(d, frame, len);
        for (unsigned o = 0; out; o++, out >>= 1)
            if (out & 1)
                vswd_output(d, o, frame, len);
        return true;
    case VSW_DROP:
        return true;
    }
    return true;
}

static void port_read(struct vswd *d, unsigned p)
{
    struct vswd_port *pt = &d->ports[p];
    for (int i = 0; i < VSWD_BURST && pt->fd >= 0 && !pt->paused; i++) {
        ssize_t n = recv(pt->fd, d->buf, RV_NET_MAX_FRAME, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            port_close(d, p);
            return;
        }
        /* MSG_TRUNC: n is the real length, also of a frame longer than the buffer, which
         * vsw_ingress then counts as oversize without looking at the (cut) bytes. */
        handle_frame(d, p, d->buf, (size_t)n);
    }
}

/* Ports whose rate-limit pause is over: their held frame first, then reading again. */
static void ports_resume(struct vswd *d)
{
    uint64_t now = vswd_now();
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++) {
        struct vswd_port *pt = &d->ports[p];
        if (pt->fd < 0 || !pt->paused || pt->resume_ns > now)
            continue;
        pt->paused = false;
        if (handle_frame(d, p, pt->held, pt->held_len))
            port_arm(d, p);
    }
}

static int next_timeout_ms(const struct vswd *d)
{
    uint64_t now = vswd_now(), next = UINT64_MAX;
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
        if (d->ports[p].fd >= 0 && d->ports[p].paused && d->ports[p].resume_ns < next)
            next = d->ports[p].resume_ns;
    if (next == UINT64_MAX)
        return 1000; /* also the period for noticing *stop */
    return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

/* --- joining --- */

static int port_slot(struct vswd *d, int fd, bool uplink, const uint8_t mac[6])
{
    int p = vsw_port_add(&d->sw, uplink, mac, vswd_now());
    if (p < 0)
        return p;
    struct vswd_port *pt = &d->ports[p];
    memset(pt, 0, offsetof(struct vswd_port, held));
    pt->fd = fd;
    pt->uplink = uplink;
    if (rv_frameq_init(&pt->outq, VSWD_OUTQ) ||
        vswd_epoll(d, EPOLL_CTL_ADD, fd, EPOLLIN, TAG_PORT, (unsigned)p)) {
        rv_frameq_free(&pt->outq);
        pt->fd = -1;
        vsw_port_remove(&d->sw, (unsigned)p);
        return -ENOMEM;
    }
    return p;
}

int vswd_port_add_uplink(struct vswd *d, int fd)
{
    static const uint8_t none[6];
    return port_slot(d, fd, true, none);
}

/* A MAC for a port that did not ask for one: 02:72:76 (locally administered, "rv"), a byte
 * of the network's name, a sequence number; never one in use or the switch's own. */
static void pick_mac(struct vswd *d, uint8_t mac[6])
{
    uint8_t h = 0;
    for (const char *c = d->cfg->name; *c; c++)
        h = (uint8_t)(h * 31 + (uint8_t)*c);
    do {
        d->mac_seq++;
        const uint8_t m[6] = {0x02, 0x72, 0x76, h, (uint8_t)(d->mac_seq >> 8),
                              (uint8_t)d->mac_seq};
        memcpy(mac, m, 6);
    } while (vsw_mac_in_use(&d->sw, mac) || !memcmp(mac, d->server_mac, 6) || !d->mac_seq);
}

static void pending_hello(struct vswd *d, unsigned i)
{
    int fd = d->pending[i];
    uint8_t msg[VSW_WELCOME_LEN + VSW_MSG_MAX];
    ssize_t n = recv(fd, msg, sizeof(msg), MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN)
        return;
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
    d->pending[i] = -1;
    struct vsw_hello h;
    struct vsw_welcome w = {0};
    int rc = n > 0 ? vsw_hello_decode(msg, (size_t)n, &h) : -EPROTO;
    if (rc) {
        close(fd); /* not one of ours: no answer */
        return;
    }
    if (h.flags & VSW_FLAG_MAC)
        memcpy(w.mac, h.mac, 6);
    else
        pick_mac(d, w.mac);
    if (!memcmp(w.mac, d->server_mac, 6))
        rc = -EADDRINUSE;
    else
        rc = port_slot(d, fd, false, w.mac);
    if (rc < 0) {
        w.status = (uint8_t)-rc;
        snprintf(w.msg, sizeof(w.msg), "%s", rc == -EADDRINUSE
                 ? "that MAC address is in use on this network"
                 : rc == -ENOSPC ? "the network has no free port" : "bad MAC address");
    } else {
        w.port = (uint16_t)rc;
        d->ports[rc].pid = h.pid;
        rv_info("switch %s: port %d joined (pid %u, MAC %02x:%02x:%02x:%02x:%02x:%02x)",
                d->cfg->name, rc, h.pid, w.mac[0], w.mac[1], w.mac[2], w.mac[3], w.mac[4],
                w.mac[5]);
    }
    size_t len = vsw_welcome_encode(&w, msg, sizeof(msg));
    if (send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len && rc >= 0) {
        port_close(d, (unsigned)rc);
        return;
    }
    if (rc < 0)
        close(fd);
}

static void accept_port(struct vswd *d)
{
    int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (unsigned i = 0; i < VSWD_PENDING; i++) {
        if (d->pending[i] < 0 && !vswd_epoll(d, EPOLL_CTL_ADD, fd, EPOLLIN, TAG_PENDING, i)) {
            d->pending[i] = fd;
            d->pending_since[i] = vswd_now();
            return;
        }
    }
    close(fd); /* too many joins at once: the VM sees EOF and says so */
}

/* --- setup --- */

static int listen_on(const char *path, int type)
{
    int fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return rv_error_set(-errno, "socket: %s", strerror(errno));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    /* A socket file left by a switch that died: connect fails, so it may go. */
    int probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        close(probe);
        close(fd);
        return rv_error_set(-EADDRINUSE, "%s: another switch serves this network", path);
    }
    if (probe >= 0)
        close(probe);
    unlink(path);
    mode_t old = umask(0077);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || listen(fd, 16) < 0) {
        rc = -errno;
        close(fd);
        return rv_error_set(rc, "%s: %s", path, strerror(-rc));
    }
    return fd;
}

static int daemon_open(struct vswd *d)
{
    uint32_t gw = d->cfg->net + 1, dns = d->cfg->net + 2;
    int rc = vsw_dhcp_init(&d->dhcp, d->cfg->net, d->cfg->prefix,
                           d->cfg->uplink != VSW_UPLINK_NONE ? gw : 0,
                           d->cfg->uplink == VSW_UPLINK_NAT ? dns : 0, d->server_mac);
    if (rc)
        return rv_error_set(rc, "switch: bad subnet");
    d->buf = malloc(RV_NET_MAX_FRAME);
    d->reply = malloc(RV_NET_MAX_FRAME);
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!d->buf || !d->reply || d->epfd < 0)
        return rv_error_set(-ENOMEM, "switch: out of memory");
    if ((rc = vsw_path(d->cfg->name, "ports.sock", d->ports_path, sizeof(d->ports_path))) ||
        (rc = vsw_path(d->cfg->name, "control.sock", d->ctl_path, sizeof(d->ctl_path))) ||
        (rc = vsw_path(d->cfg->name, "leases.json", d->leases_path, sizeof(d->leases_path))))
        return rc;
    d->listen_fd = listen_on(d->ports_path, SOCK_SEQPACKET);
    if (d->listen_fd < 0)
        return d->listen_fd;
    leases_load(d); /* only now: another switch serving the network is ruled out */
    d->ctl_fd = listen_on(d->ctl_path, SOCK_STREAM);
    if (d->ctl_fd < 0)
        return d->ctl_fd;
    if (vswd_epoll(d, EPOLL_CTL_ADD, d->listen_fd, EPOLLIN, TAG_LISTEN, 0) ||
        vswd_epoll(d, EPOLL_CTL_ADD, d->ctl_fd, EPOLLIN, TAG_CTL_LISTEN, 0))
        return rv_error_set(-errno, "switch: epoll: %s", strerror(errno));
    return vswd_uplink_open(d);
}

static void daemon_close(struct vswd *d)
{
    vswd_clients_close(d);
    vswd_uplink_close(d);
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
        port_close(d, p);
    for (unsigned i = 0; i < VSWD_PENDING; i++)
        if (d->pending[i] >= 0)
            close(d->pending[i]);
    if (d->listen_fd >= 0) {
        close(d->listen_fd);
        unlink(d->ports_path);
    }
    if (d->ctl_fd >= 0) {
        close(d->ctl_fd);
        unlink(d->ctl_path);
    }
    if (d->epfd >= 0)
        close(d->epfd);
    free(d->buf);
    free(d->reply);
}

/* Once a second: joins that never said hello are dropped (they would hold the pending slots),
 * and the switch ends if its port socket was removed (its state directory deleted behind
 * its back: nobody could join or reach the control socket any more). */
static bool housekeeping(struct vswd *d)
{
    uint64_t now = vswd_now();
    if (now - d->last_check_ns < 1000000000)
        return true;
    d->last_check_ns = now;
    for (unsigned i = 0; i < VSWD_PENDING; i++) {
        if (d->pending[i] >= 0 && now - d->pending_since[i] > VSWD_HELLO_NS) {
            epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->pending[i], NULL);
            close(d->pending[i]);
            d->pending[i] = -1;
        }
    }
    if (access(d->ports_path, F_OK) < 0 && errno == ENOENT) {
        rv_warn("switch %s: %s was removed; ending", d->cfg->name, d->ports_path);
        return false;
    }
    return true;
}

static void dispatch(struct vswd *d, const struct epoll_event *ev)
{
    uint32_t kind = (uint32_t)(ev->data.u64 >> 32), i = (uint32_t)ev->data.u64;
    switch (kind) {
    case TAG_LISTEN: accept_port(d); break;
    case TAG_CTL_LISTEN: vswd_client_accept(d); break;
    case TAG_PENDING: pending_hello(d, i); break;
    case TAG_CLIENT: vswd_client_event(d, i, ev->events); break;
    case TAG_PORT:
        if (d->ports[i].fd < 0)
            break;
        if (ev->events & EPOLLOUT)
            port_flush(d, i);
        if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            port_read(d, i);
        break;
    }
}

int vsw_serve(const struct vsw_config *cfg, volatile sig_atomic_t *stop)
{
    static const uint8_t server_mac[6] = {0x02, 0x72, 0x76, 0xff, 0xff, 0xfe};
    struct vswd *d = calloc(1, sizeof(*d));
    if (!d)
        return rv_error_set(-ENOMEM, "switch: out of memory");
    d->cfg = cfg;
    d->stop = stop;
    d->start_ns = vswd_now();
    d->epfd = d->listen_fd = d->ctl_fd = d->up_peer = d->up_port = -1;
    memcpy(d->server_mac, server_mac, 6);
    vsw_init(&d->sw, &cfg->limits);
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
        d->ports[p].fd = -1;
    for (unsigned i = 0; i < VSWD_PENDING; i++)
        d->pending[i] = -1;
    for (unsigned i = 0; i < VSWD_CLIENTS; i++)
        d->clients[i].fd = d->clients[i].capture_fd = -1;
    int rc = daemon_open(d);
    if (!rc)
        rv_info("switch %s: serving on %s", cfg->name, d->ports_path);
    while (!rc && !*stop && !d->shutdown) {
        struct epoll_event evs[64];
        int n = epoll_wait(d->epfd, evs, 64, next_timeout_ms(d));
        if (n < 0 && errno != EINTR) {
            rc = rv_error_set(-errno, "switch: epoll_wait: %s", strerror(errno));
            break;
        }
        for (int k = 0; k < n; k++)
            dispatch(d, &evs[k]);
        ports_resume(d);
        if (!housekeeping(d))
            break;
    }
    daemon_close(d);
    free(d);
    return rc;
}
