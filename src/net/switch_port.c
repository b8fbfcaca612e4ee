/* "switch" network backend: the NIC is a port of a virtual network's switch, a separate
 * process (`rvisor net create`, vsw_daemon.c), reached over a unix SOCK_SEQPACKET connection
 * to its ports.sock (vsw_proto.h): one message is one Ethernet frame.
 *
 *   switch:NAME[,mac=xx:xx:xx:xx:xx:xx]
 *
 * The switch assigns the port's MAC (the one asked for, else one of its own choosing) and
 * forwards only frames with that source MAC. The connection is made, and the MAC known,
 * before open returns (before any sandbox); later only send (sendto), recv (recvfrom), poll
 * and eventfd reads and writes are used.
 *
 * A reading thread delivers frames to the client; when the client has no room it keeps that
 * frame and stops reading (the socket buffer fills, then the switch queues and finally drops
 * for this port) until rv_net_rx_ready(). Sending blocks the caller (the NIC's transmit
 * worker) while the socket buffer is full, which paces the guest: the switch reads slowly
 * from ports over their rate limit. A send that cannot go within a second is dropped.
 *
 * When the switch goes away (it was restarted, or killed) the reading thread sees EOF, closes
 * the connection and joins again with the same MAC, retrying with a growing delay (0.1 s
 * doubling up to 2 s) for as long as the VM runs; the guest keeps its link and addresses.
 * Meanwhile frames the guest sends are dropped and counted (rv_net_send fails, so the NIC
 * counts them too); the count is logged when the port is back. The sandbox's run-time I/O
 * profile, which VMs with switch ports get, allows the socket and connect calls this needs. */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsjail.h"
#include "core/log.h"
#include "net/net_internal.h"
#include "net/vsw_proto.h"

#define WELCOME_TIMEOUT_MS 5000
#define REJOIN_TIMEOUT_MS 1000  /* a rejoin's wait for the welcome (the VM may be closing) */
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 2000

struct net_switch {
    struct rv_net base;
    int wake_fd;
    char name[VSW_NAME_MAX + 1];
    struct vsw_hello hello;  /* what a rejoin sends: the port's MAC, our pid */
    pthread_t thread;
    bool thread_started;
    atomic_bool stop, rx_kick;
    /* fd: -1 while disconnected. Only the reading thread changes it, under fd_lock; senders
     * use it under fd_lock. */
    pthread_mutex_t fd_lock; /* also guards tx_buf and tx_lost */
    int fd;
    uint8_t *tx_buf;         /* RV_NET_MAX_FRAME bytes: gathered frames are copied here */
    uint64_t tx_lost;        /* frames dropped since the connection was lost */
    /* Owned by the reading thread. */
    uint8_t *buf;            /* RV_NET_MAX_FRAME bytes */
    size_t pending_len;      /* a frame the client refused, waiting in buf; 0: none */
    uint64_t lost_ns;        /* when the connection was lost */
};

static struct net_switch *to_sw(struct rv_net *n)
{
    return (struct net_switch *)n;
}

static void sw_wake(struct net_switch *s)
{
    uint64_t one = 1;
    ssize_t rc = write(s->wake_fd, &one, sizeof(one));
    (void)rc; /* EAGAIN: already set */
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* The connection ended (reading thread): close it; sends drop frames until the rejoin. */
static void sw_gone(struct net_switch *s)
{
    pthread_mutex_lock(&s->fd_lock);
    close(s->fd);
    s->fd = -1;
    pthread_mutex_unlock(&s->fd_lock);
    s->pending_len = 0;
    s->lost_ns = mono_ns();
    rv_warn("net switch %s: the switch closed the connection (restarted or deleted?); "
            "rejoining, frames sent meanwhile are dropped", s->name);
}

static bool sw_deliver(struct net_switch *s, size_t len)
{
    if (s->base.client.receive(s->base.client.opaque, s->buf, len)) {
        s->pending_len = 0;
        return true;
    }
    s->pending_len = len;
    return false;
}

/* Reads and delivers frames until none wait or the client is full (bounded per round). */
static void sw_read_frames(struct net_switch *s)
{
    for (int i = 0; i < 256; i++) {
        ssize_t n = recv(s->fd, s->buf, RV_NET_MAX_FRAME, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                sw_gone(s);
            return;
        }
        if (n == 0) {
            sw_gone(s);
            return;
        }
        if (n < RV_NET_MIN_FRAME)
            continue;
        if (!sw_deliver(s, (size_t)n))
            return;
    }
}

static void sw_rejoin(struct net_switch *s);

static void *sw_thread(void *opaque)
{
    struct net_switch *s = opaque;
    while (!atomic_load(&s->stop)) {
        if (s->fd < 0) {
            sw_rejoin(s);
            continue;
        }
        if (atomic_exchange(&s->rx_kick, false) && s->pending_len)
            sw_deliver(s, s->pending_len);
        struct pollfd fds[2] = {
            {.fd = s->wake_fd, .events = POLLIN},
            {.fd = s->fd, .events = POLLIN},
        };
        bool watch = !s->pending_len;
        if (poll(fds, watch ? 2 : 1, -1) < 0)
            continue;
        if (fds[0].revents & POLLIN) {
            uint64_t v;
            ssize_t got = read(s->wake_fd, &v, sizeof(v));
            (void)got;
        }
        if (watch && fds[1].revents)
            sw_read_frames(s);
    }
    return NULL;
}

/* send() (sendto), not sendmsg: one contiguous frame, and a system call the VM sandbox allows
 * anyway. Gathered frames are copied first (virtio-net hands over one buffer). */
static int sw_send(struct rv_net *n, const struct iovec *iov, int iovcnt)
{
    struct net_switch *s = to_sw(n);
    const void *frame = iov[0].iov_base;
    size_t len = iov[0].iov_len;
    pthread_mutex_lock(&s->fd_lock);
    if (s->fd < 0) {
        s->tx_lost++;
        pthread_mutex_unlock(&s->fd_lock);
        return rv_error_set(-ENOTCONN, "net switch %s: rejoining the switch", s->name);
    }
    if (iovcnt != 1) {
        long total = rv_net_iov_len(iov, iovcnt);
        size_t off = 0;
        for (int i = 0; i < iovcnt; off += iov[i].iov_len, i++)
            memcpy(s->tx_buf + off, iov[i].iov_base, iov[i].iov_len);
        frame = s->tx_buf;
        len = (size_t)total; /* rv_net_send checked it: at most RV_NET_MAX_FRAME */
    }
    ssize_t rc;
    do
        rc = send(s->fd, frame, len, MSG_NOSIGNAL);
    while (rc < 0 && errno == EINTR);
    int e = errno;
    if (rc < 0 && (e == EPIPE || e == ECONNRESET || e == ENOTCONN))
        s->tx_lost++; /* the switch is gone: the reading thread sees EOF and rejoins */
    pthread_mutex_unlock(&s->fd_lock);
    if (rc >= 0)
        return 0;
    if (e == EAGAIN)
        return rv_error_set(-EAGAIN, "net switch %s: the switch does not take frames", s->name);
    return rv_error_set(-e, "net switch %s: send: %s", s->name, strerror(e));
}

static void sw_rx_ready(struct rv_net *n)
{
    struct net_switch *s = to_sw(n);
    if (!atomic_exchange(&s->rx_kick, true))
        sw_wake(s);
}

static void sw_close(struct rv_net *n)
{
    struct net_switch *s = to_sw(n);
    if (s->thread_started) {
        atomic_store(&s->stop, true);
        sw_wake(s);
        pthread_join(s->thread, NULL);
    }
    if (s->fd >= 0)
        close(s->fd);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    free(s->buf);
    free(s->tx_buf);
    pthread_mutex_destroy(&s->fd_lock);
    free(s);
}

static const struct rv_net_backend_ops switch_ops = {
    .name = "switch",
    .send = sw_send,
    .rx_ready = sw_rx_ready,
    .close = sw_close,
};

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned b[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &tail) != 6 || (b[0] & 1) || !(b[0] | b[1] | b[2] | b[3] | b[4] | b[5]))
        return rv_error_set(-EINVAL, "net switch: bad mac '%s' (need a unicast "
                            "xx:xx:xx:xx:xx:xx)", s);
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return 0;
}

/* "NAME[,mac=...]" */
static int sw_parse(const char *opts, char name[VSW_NAME_MAX + 1], struct vsw_hello *h)
{
    size_t len = strcspn(opts, ",");
    if (len == 0 || len > VSW_NAME_MAX)
        return rv_error_set(-EINVAL, "net switch: expected switch:NAME (a network made with "
                            "rvisor net create)");
    memcpy(name, opts, len);
    name[len] = 0;
    if (!vsw_name_valid(name))
        return rv_error_set(-EINVAL, "net switch: bad network name '%s'", name);
    const char *p = opts + len;
    char key[16], val[32];
    int rc;
    while ((rc = rv_net_opt_next(&p, key, sizeof(key), val, sizeof(val))) > 0) {
        if (strcmp(key, "mac"))
            return rv_error_set(-EINVAL, "net switch: unknown option '%s' (expected mac)", key);
        rc = parse_mac(val, h->mac);
        if (rc)
            return rc;
        h->flags |= VSW_FLAG_MAC;
    }
    return rc;
}

/* Joins the switch as s->hello says: connect, hello, then the welcome (waited for at most
 * timeout_ms). Returns the connection, or -errno with a message. */
static int sw_join(struct net_switch *s, int timeout_ms, struct vsw_welcome *w)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int rc = vsw_path(s->name, "ports.sock", sa.sun_path, sizeof(sa.sun_path));
    if (rc)
        return rc;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return rv_error_set(-errno, "net switch: socket: %s", strerror(errno));
    uint8_t msg[VSW_WELCOME_LEN + VSW_MSG_MAX];
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ssize_t n;
    vsw_hello_encode(&s->hello, msg);
    if (rv_fs_connect_unix(fd, sa.sun_path) < 0) { /* also from the sandbox (rejoins) */
        rc = rv_error_set(-errno, "net switch %s: no switch at %s (%s); create the network "
                          "with: rvisor net create %s", s->name, sa.sun_path, strerror(errno),
                          s->name);
    } else if (send(fd, msg, VSW_HELLO_LEN, MSG_NOSIGNAL) != VSW_HELLO_LEN) {
        rc = rv_error_set(-EPROTO, "net switch %s: cannot send the hello", s->name);
    } else if (poll(&pfd, 1, timeout_ms) <= 0) {
        rc = rv_error_set(-ETIMEDOUT, "net switch %s: the switch does not answer", s->name);
    } else if ((n = recv(fd, msg, sizeof(msg), MSG_DONTWAIT)) <= 0 ||
               vsw_welcome_decode(msg, (size_t)n, w)) {
        rc = rv_error_set(-EPROTO, "net switch %s: bad answer from the switch", s->name);
    } else if (w->status) {
        rc = rv_error_set(-w->status, "net switch %s: join refused: %s", s->name,
                          w->msg[0] ? w->msg : strerror(w->status));
    } else if ((w->mac[0] & 1) ||
               ((s->hello.flags & VSW_FLAG_MAC) && memcmp(w->mac, s->hello.mac, 6))) {
        rc = rv_error_set(-EPROTO, "net switch %s: the switch assigned a bad MAC", s->name);
    }
    if (rc) {
        close(fd);
        return rc;
    }
    /* A frame that cannot go within a second is dropped (a stopped switch does not hang
     * the NIC's worker, nor shutdown). */
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Reading thread, disconnected: joins again with the port's MAC after a growing delay, until
 * it works or the NIC closes. */
static void sw_rejoin(struct net_switch *s)
{
    unsigned delay_ms = RETRY_FIRST_MS, tries = 0;
    while (!atomic_load(&s->stop)) {
        uint64_t until = mono_ns() + (uint64_t)delay_ms * 1000000;
        for (uint64_t now; !atomic_load(&s->stop) && (now = mono_ns()) < until;) {
            struct pollfd pfd = {.fd = s->wake_fd, .events = POLLIN};
            if (poll(&pfd, 1, (int)((until - now) / 1000000) + 1) > 0) {
                uint64_t v;
                ssize_t got = read(s->wake_fd, &v, sizeof(v)); /* rx kicks: nothing to do */
                (void)got;
            }
        }
        if (atomic_load(&s->stop))
            return;
        struct vsw_welcome w;
        int fd = sw_join(s, REJOIN_TIMEOUT_MS, &w);
        tries++;
        if (fd >= 0) {
            pthread_mutex_lock(&s->fd_lock);
            s->fd = fd;
            uint64_t lost = s->tx_lost;
            s->tx_lost = 0;
            pthread_mutex_unlock(&s->fd_lock);
            rv_warn("net switch %s: joined again as port %u after %.1f s (%u tries); %llu "
                    "frames sent meanwhile were dropped", s->name, w.port,
                    (double)(mono_ns() - s->lost_ns) / 1e9, tries, (unsigned long long)lost);
            return;
        }
        if (tries == 1 || tries % 30 == 0)
            rv_debug("net switch %s: rejoin failed (%u tries): %s", s->name, tries,
                     rv_error_get());
        delay_ms = delay_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay_ms * 2;
    }
}

int rv_net_switch_open(const char *opts, const uint8_t mac[6], const struct rv_net_client *client,
                       struct rv_net **out)
{
    (void)mac; /* the switch assigns the MAC unless mac= asks for one */
    char name[VSW_NAME_MAX + 1];
    struct net_switch *s = calloc(1, sizeof(*s));
    if (!s)
        return rv_error_set(-ENOMEM, "net switch: out of memory");
    s->hello.pid = (uint32_t)getpid();
    int rc = sw_parse(opts, name, &s->hello);
    if (rc) {
        free(s);
        return rc;
    }
    s->base.ops = &switch_ops;
    s->base.client = *client;
    s->fd = s->wake_fd = -1;
    memcpy(s->name, name, sizeof(name));
    pthread_mutex_init(&s->fd_lock, NULL);
    s->buf = malloc(RV_NET_MAX_FRAME);
    s->tx_buf = malloc(RV_NET_MAX_FRAME);
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!s->buf || !s->tx_buf || s->wake_fd < 0) {
        sw_close(&s->base);
        return rv_error_set(-ENOMEM, "net switch: out of memory or descriptors");
    }
    struct vsw_welcome w;
    s->fd = sw_join(s, WELCOME_TIMEOUT_MS, &w);
    if (s->fd < 0) {
        rc = s->fd;
        s->fd = -1;
        sw_close(&s->base);
        return rc;
    }
    memcpy(s->base.mac, w.mac, 6);
    /* Rejoins ask for this MAC: the guest knows the NIC by it. */
    memcpy(s->hello.mac, w.mac, 6);
    s->hello.flags |= VSW_FLAG_MAC;
    rv_debug("net switch %s: port %u, MAC %02x:%02x:%02x:%02x:%02x:%02x", s->name, w.port,
             w.mac[0], w.mac[1], w.mac[2], w.mac[3], w.mac[4], w.mac[5]);
    rc = pthread_create(&s->thread, NULL, sw_thread, s);
    if (rc) {
        sw_close(&s->base);
        return rv_error_set(-rc, "net switch: cannot start the reading thread");
    }
    s->thread_started = true;
    *out = &s->base;
    return 0;
}
