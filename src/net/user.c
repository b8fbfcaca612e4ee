/* "user" network backend: user-mode NAT with libslirp, as QEMU's -netdev user.
 *
 * libslirp is not thread-safe, so one backend thread owns the Slirp instance and makes every
 * call into it: it runs the poll loop (slirp_pollfds_fill/poll with poll(2)), fires slirp's
 * timers from a small timer list, feeds guest frames to slirp_input, and hands slirp's frames
 * to the client. Other threads only queue frames (rv_net_send) or set a flag (rv_net_rx_ready)
 * and wake the loop through an eventfd; neither ever blocks on the backend thread while
 * holding a device lock, so the client may take its locks inside `receive`.
 *
 * Frames for the guest that the client cannot take now wait in a bounded FIFO (oldest first)
 * until rv_net_rx_ready(); when that is full, newer frames are dropped, as a NIC drops on
 * overflow (TCP retransmits). Guest frames wait in a bounded FIFO for the backend thread; a
 * sender blocks while it is full, which paces the guest's transmit queue. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libslirp.h>

#include "core/error.h"
#include "core/log.h"
#include "net/net_internal.h"
#include "net/user_opts.h"

#define TXQ_FRAMES 256 /* guest -> slirp */
#define RXQ_FRAMES 256 /* slirp -> guest, while the guest has no buffers */

struct user_timer {
    struct user_timer *next;
    SlirpTimerId id;
    SlirpTimerCb cb;     /* old-style timers (timer_new); NULL for timer_new_opaque ones */
    void *cb_opaque;
    int64_t expire_ms;   /* -1: not armed */
};

struct net_user {
    struct rv_net base;
    Slirp *slirp;
    pthread_t thread;
    bool thread_started;
    int wake_fd;               /* eventfd: rv_net_send / rv_net_rx_ready / close */
    atomic_bool stop;
    atomic_bool rx_kick;       /* rv_net_rx_ready() was called */

    pthread_mutex_t tx_lock;   /* guards txq and tx_room */
    pthread_cond_t tx_room;
    struct rv_frameq txq;

    /* Owned by the backend thread (and by open/close while it does not run). */
    struct rv_frameq rxq;
    struct user_timer *timers;
    struct pollfd *fds;
    unsigned nfds, fds_cap;
    uint64_t dropped;          /* frames for the guest lost to a full rxq */
};

static struct net_user *to_user(struct rv_net *n)
{
    return (struct net_user *)n;
}

static void user_wake(struct net_user *u)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the loop will wake anyway. */
    ssize_t rc = write(u->wake_fd, &one, sizeof(one));
    (void)rc;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- frames towards the guest (backend thread) --- */

/* Delivers queued frames while the client takes them. */
static void rx_flush(struct net_user *u)
{
    struct rv_frame *f;
    while ((f = rv_frameq_peek(&u->rxq))) {
        if (!u->base.client.receive(u->base.client.opaque, f->data, f->len))
            return;
        free(rv_frameq_pop(&u->rxq));
    }
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct net_user *u = opaque;
    if (len > RV_NET_MAX_FRAME)
        return (ssize_t)len;
    /* Keep the order: while older frames wait, a new one queues behind them. */
    if (u->rxq.count == 0 && u->base.client.receive(u->base.client.opaque, buf, len))
        return (ssize_t)len;
    if (rv_frameq_push(&u->rxq, buf, len) && (u->dropped++ & 1023) == 0)
        rv_debug("net user: guest not receiving, dropped %llu frames",
                 (unsigned long long)u->dropped);
    return (ssize_t)len;
}

/* --- slirp callbacks (backend thread, or open/close) --- */

static void cb_guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    rv_debug("net user: guest error: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    (void)opaque;
    return now_ns();
}

static struct user_timer *timer_add(struct net_user *u, SlirpTimerId id, SlirpTimerCb cb,
                                    void *cb_opaque)
{
    struct user_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL; /* libslirp itself aborts on allocation failure; we do not */
    t->id = id;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    t->next = u->timers;
    u->timers = t;
    return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    return timer_add(opaque, SLIRP_TIMER_NUM, cb, cb_opaque);
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    return timer_add(opaque, id, NULL, cb_opaque);
}

static void cb_timer_free(void *timer, void *opaque)
{
    struct net_user *u = opaque;
    for (struct user_timer **p = &u->timers; *p; p = &(*p)->next) {
        if (*p == timer) {
            *p = (*p)->next;
            free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    if (timer)
        ((struct user_timer *)timer)->expire_ms = expire_ms < 0 ? 0 : expire_ms;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
    (void)fd, (void)opaque; /* descriptors come from slirp_pollfds_fill each round */
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
    (void)fd, (void)opaque;
}

static void cb_notify(void *opaque)
{
    user_wake(opaque);
}

static const SlirpCb user_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

/* Fires due timers. A callback may re-arm or free timers, so rescan after each one. */
static void timers_run(struct net_user *u)
{
    int64_t now_ms = now_ns() / 1000000;
    bool fired;
    do {
        fired = false;
        for (struct user_timer *t = u->timers; t; t = t->next) {
            if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
                t->expire_ms = -1;
                if (t->cb)
                    t->cb(t->cb_opaque);
                else
                    slirp_handle_timer(u->slirp, t->id, t->cb_opaque);
                fired = true;
                break;
            }
        }
    } while (fired);
}

/* Milliseconds until the next timer, capped by `timeout` (UINT32_MAX = none). */
static uint32_t timers_timeout(const struct net_user *u, uint32_t timeout)
{
    int64_t now_ms = now_ns() / 1000000;
    for (const struct user_timer *t = u->timers; t; t = t->next) {
        if (t->expire_ms < 0)
            continue;
        int64_t left = t->expire_ms - now_ms;
        if (left < 0)
            left = 0;
        if ((uint64_t)left < timeout)
            timeout = (uint32_t)left;
    }
    return timeout;
}

/* --- the poll loop --- */

static int cb_add_poll(int fd, int events, void *opaque)
{
    struct net_user *u = opaque;
    if (u->nfds == u->fds_cap) {
        unsigned cap = u->fds_cap * 2;
        struct pollfd *fds = realloc(u->fds, cap * sizeof(*fds));
        if (!fds)
            return -1; /* slirp then sees no events for this socket this round */
        u->fds = fds;
        u->fds_cap = cap;
    }
    short ev = 0;
    if (events & SLIRP_POLL_IN)
        ev |= POLLIN;
    if (events & SLIRP_POLL_OUT)
        ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI)
        ev |= POLLPRI;
    u->fds[u->nfds] = (struct pollfd){.fd = fd, .events = ev};
    return (int)u->nfds++;
}

static int cb_get_revents(int idx, void *opaque)
{
    struct net_user *u = opaque;
    if (idx < 0 || (unsigned)idx >= u->nfds)
        return 0;
    short rev = u->fds[idx].revents;
    int r = 0;
    if (rev & POLLIN)
        r |= SLIRP_POLL_IN;
    if (rev & POLLOUT)
        r |= SLIRP_POLL_OUT;
    if (rev & POLLPRI)
        r |= SLIRP_POLL_PRI;
    if (rev & POLLERR)
        r |= SLIRP_POLL_ERR;
    if (rev & POLLHUP)
        r |= SLIRP_POLL_HUP;
    return r;
}

/* Feeds the guest's queued frames to slirp. */
static void tx_drain(struct net_user *u)
{
    for (;;) {
        pthread_mutex_lock(&u->tx_lock);
        struct rv_frame *f = rv_frameq_pop(&u->txq);
        if (f)
            pthread_cond_signal(&u->tx_room);
        pthread_mutex_unlock(&u->tx_lock);
        if (!f)
            return;
        slirp_input(u->slirp, f->data, (int)f->len);
        free(f);
    }
}

static void *user_thread(void *opaque)
{
    struct net_user *u = opaque;
    while (!atomic_load(&u->stop)) {
        tx_drain(u);
        if (atomic_exchange(&u->rx_kick, false))
            rx_flush(u);

        u->nfds = 1; /* fds[0] is the wake eventfd */
        u->fds[0] = (struct pollfd){.fd = u->wake_fd, .events = POLLIN};
        uint32_t timeout = UINT32_MAX;
        slirp_pollfds_fill(u->slirp, &timeout, cb_add_poll, u);
        timeout = timers_timeout(u, timeout);
        int ms = timeout > INT_MAX ? -1 : (int)timeout;
        int rc = poll(u->fds, u->nfds, ms);
        if (rc < 0) {
            for (unsigned i = 0; i < u->nfds; i++)
                u->fds[i].revents = 0;
        } else if (u->fds[0].revents & POLLIN) {
            uint64_t v;
            ssize_t got = read(u->wake_fd, &v, sizeof(v));
            (void)got;
        }
        slirp_pollfds_poll(u->slirp, rc < 0, cb_get_revents, u);
        timers_run(u);
    }
    return NULL;
}

/* --- the backend interface --- */

static int user_send(struct rv_net *n, const struct iovec *iov, int iovcnt)
{
    struct net_user *u = to_user(n);
    long len = rv_net_iov_len(iov, iovcnt);
    pthread_mutex_lock(&u->tx_lock);
    while (rv_frameq_full(&u->txq) && !atomic_load(&u->stop))
        pthread_cond_wait(&u->tx_room, &u->tx_lock);
    bool was_empty = u->txq.count == 0;
    int rc = atomic_load(&u->stop) ? -ESHUTDOWN : rv_frameq_push_iov(&u->txq, iov, iovcnt,
                                                                      (size_t)len);
    pthread_mutex_unlock(&u->tx_lock);
    if (rc)
        return rv_error_set(rc, "net user: cannot queue a frame");
    if (was_empty)
        user_wake(u);
    return 0;
}

static void user_rx_ready(struct rv_net *n)
{
    struct net_user *u = to_user(n);
    if (!atomic_exchange(&u->rx_kick, true))
        user_wake(u);
}

static void user_close(struct rv_net *n)
{
    struct net_user *u = to_user(n);
    if (u->thread_started) {
        pthread_mutex_lock(&u->tx_lock);
        atomic_store(&u->stop, true);
        pthread_cond_broadcast(&u->tx_room);
        pthread_mutex_unlock(&u->tx_lock);
        user_wake(u);
        pthread_join(u->thread, NULL);
    }
    if (u->slirp)
        slirp_cleanup(u->slirp);
    while (u->timers)
        cb_timer_free(u->timers, u);
    rv_frameq_free(&u->txq);
    rv_frameq_free(&u->rxq);
    free(u->fds);
    if (u->wake_fd >= 0)
        close(u->wake_fd);
    pthread_cond_destroy(&u->tx_room);
    pthread_mutex_destroy(&u->tx_lock);
    free(u);
}

static const struct rv_net_backend_ops user_ops = {
    .name = "user",
    .send = user_send,
    .rx_ready = user_rx_ready,
    .close = user_close,
};

/* Creates the Slirp instance and its host forwards (still on the opening thread). */
static int user_start_slirp(struct net_user *u, const struct rv_net_user_opts *o)
{
    SlirpConfig cfg = {
        .version = 4,
        .restricted = o->restricted,
        .in_enabled = true,
        .vnetwork = o->net,
        .vnetmask = o->mask,
        .vhost = o->host,
        .in6_enabled = false,
        .vdhcp_start = o->dhcp_start,
        .vnameserver = o->dns,
    };
    u->slirp = slirp_new(&cfg, &user_callbacks, u);
    if (!u->slirp)
        return rv_error_set(-EINVAL, "net user: libslirp rejected the configuration");
    for (unsigned i = 0; i < o->nfwd; i++) {
        const struct rv_net_hostfwd *f = &o->fwd[i];
        struct in_addr guest = f->guest_addr.s_addr ? f->guest_addr : o->dhcp_start;
        if (slirp_add_hostfwd(u->slirp, f->udp, f->host_addr, f->host_port, guest,
                              f->guest_port) < 0) {
            char host[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &f->host_addr, host, sizeof(host));
            return rv_error_set(-EADDRINUSE, "net user: hostfwd %s %s:%u: cannot listen "
                                "(port in use?)", f->udp ? "udp" : "tcp", host, f->host_port);
        }
    }
    return 0;
}

int rv_net_user_open(const char *opts, const uint8_t mac[6], const struct rv_net_client *client,
                     struct rv_net **out)
{
    struct rv_net_user_opts o;
    int rc = rv_net_user_parse(opts, &o);
    if (rc)
        return rc;
    struct net_user *u = calloc(1, sizeof(*u));
    if (!u)
        return rv_error_set(-ENOMEM, "net user: out of memory");
    u->base.ops = &user_ops;
    u->base.client = *client;
    memcpy(u->base.mac, mac, 6);
    u->wake_fd = -1;
    pthread_mutex_init(&u->tx_lock, NULL);
    pthread_cond_init(&u->tx_room, NULL);
    u->fds_cap = 16;
    u->fds = calloc(u->fds_cap, sizeof(*u->fds));
    if (!u->fds || rv_frameq_init(&u->txq, TXQ_FRAMES) || rv_frameq_init(&u->rxq, RXQ_FRAMES)) {
        user_close(&u->base);
        return rv_error_set(-ENOMEM, "net user: out of memory");
    }
    u->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (u->wake_fd < 0) {
        rc = -errno;
        user_close(&u->base);
        return rv_error_set(rc, "net user: eventfd: %s", strerror(-rc));
    }
    rc = user_start_slirp(u, &o);
    if (rc) {
        user_close(&u->base);
        return rc;
    }
    rc = pthread_create(&u->thread, NULL, user_thread, u);
    if (rc) {
        user_close(&u->base);
        return rv_error_set(-rc, "net user: cannot start the backend thread");
    }
    u->thread_started = true;
    *out = &u->base;
    return 0;
}
