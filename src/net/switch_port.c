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
 * from ports over their rate limit. A send that cannot go within a second is dropped. */
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
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "net/net_internal.h"
#include "net/vsw_proto.h"

#define WELCOME_TIMEOUT_MS 5000

struct net_switch {
    struct rv_net base;
    int fd, wake_fd;
    char name[VSW_NAME_MAX + 1];
    pthread_t thread;
    bool thread_started;
    atomic_bool stop, rx_kick;
    atomic_bool gone_logged;
    /* Owned by the reading thread. */
    uint8_t *buf;            /* RV_NET_MAX_FRAME bytes */
    pthread_mutex_t tx_lock; /* guards tx_buf */
    uint8_t *tx_buf;         /* RV_NET_MAX_FRAME bytes: gathered frames are copied here */
    size_t pending_len;      /* a frame the client refused, waiting in buf; 0: none */
    bool eof;                /* the switch went away */
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

static void sw_gone(struct net_switch *s)
{
    if (!atomic_exchange(&s->gone_logged, true))
        rv_warn("net switch %s: the switch closed the connection (network deleted?); this "
                "NIC is disconnected", s->name);
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
            if (errno != EAGAIN) {
                s->eof = true;
                sw_gone(s);
            }
            return;
        }
        if (n == 0) {
            s->eof = true;
            sw_gone(s);
            return;
        }
        if (n < RV_NET_MIN_FRAME)
            continue;
        if (!sw_deliver(s, (size_t)n))
            return;
    }
}

static void *sw_thread(void *opaque)
{
    struct net_switch *s = opaque;
    while (!atomic_load(&s->stop)) {
        if (atomic_exchange(&s->rx_kick, false) && s->pending_len)
            sw_deliver(s, s->pending_len);
        struct pollfd fds[2] = {
            {.fd = s->wake_fd, .events = POLLIN},
            {.fd = s->fd, .events = POLLIN},
        };
        bool watch = !s->pending_len && !s->eof;
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
    if (iovcnt != 1) {
        long total = rv_net_iov_len(iov, iovcnt);
        pthread_mutex_lock(&s->tx_lock);
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
    if (iovcnt != 1)
        pthread_mutex_unlock(&s->tx_lock);
    if (rc >= 0)
        return 0;
    if (e == EPIPE || e == ECONNRESET || e == ENOTCONN)
        sw_gone(s);
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
    pthread_mutex_destroy(&s->tx_lock);
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

/* Connects to the switch and joins: hello, then the welcome (bounded wait). */
static int sw_join(struct net_switch *s, const struct vsw_hello *h)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int rc = vsw_path(s->name, "ports.sock", sa.sun_path, sizeof(sa.sun_path));
    if (rc)
        return rc;
    s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return rv_error_set(-errno, "net switch: socket: %s", strerror(errno));
    if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        return rv_error_set(-e, "net switch %s: no switch at %s (%s); create the network "
                            "with: rvisor net create %s", s->name, sa.sun_path, strerror(e),
                            s->name);
    }
    uint8_t msg[VSW_WELCOME_LEN + VSW_MSG_MAX];
    vsw_hello_encode(h, msg);
    if (send(s->fd, msg, VSW_HELLO_LEN, MSG_NOSIGNAL) != VSW_HELLO_LEN)
        return rv_error_set(-EPROTO, "net switch %s: cannot send the hello", s->name);
    struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
    if (poll(&pfd, 1, WELCOME_TIMEOUT_MS) <= 0)
        return rv_error_set(-ETIMEDOUT, "net switch %s: the switch does not answer", s->name);
    ssize_t n = recv(s->fd, msg, sizeof(msg), MSG_DONTWAIT);
    struct vsw_welcome w;
    if (n <= 0 || vsw_welcome_decode(msg, (size_t)n, &w))
        return rv_error_set(-EPROTO, "net switch %s: bad answer from the switch", s->name);
    if (w.status)
        return rv_error_set(-w.status, "net switch %s: join refused: %s", s->name,
                            w.msg[0] ? w.msg : strerror(w.status));
    if ((w.mac[0] & 1) || ((h->flags & VSW_FLAG_MAC) && memcmp(w.mac, h->mac, 6)))
        return rv_error_set(-EPROTO, "net switch %s: the switch assigned a bad MAC", s->name);
    memcpy(s->base.mac, w.mac, 6);
    /* A frame that cannot go within a second is dropped (a stopped switch does not hang
     * the NIC's worker, nor shutdown). */
    struct timeval tv = {.tv_sec = 1};
    setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    rv_debug("net switch %s: port %u, MAC %02x:%02x:%02x:%02x:%02x:%02x", s->name, w.port,
             w.mac[0], w.mac[1], w.mac[2], w.mac[3], w.mac[4], w.mac[5]);
    return 0;
}

int rv_net_switch_open(const char *opts, const uint8_t mac[6], const struct rv_net_client *client,
                       struct rv_net **out)
{
    (void)mac; /* the switch assigns the MAC unless mac= asks for one */
    struct vsw_hello h = {.pid = (uint32_t)getpid()};
    char name[VSW_NAME_MAX + 1];
    int rc = sw_parse(opts, name, &h);
    if (rc)
        return rc;
    struct net_switch *s = calloc(1, sizeof(*s));
    if (!s)
        return rv_error_set(-ENOMEM, "net switch: out of memory");
    s->base.ops = &switch_ops;
    s->base.client = *client;
    s->fd = s->wake_fd = -1;
    memcpy(s->name, name, sizeof(name));
    pthread_mutex_init(&s->tx_lock, NULL);
    s->buf = malloc(RV_NET_MAX_FRAME);
    s->tx_buf = malloc(RV_NET_MAX_FRAME);
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!s->buf || !s->tx_buf || s->wake_fd < 0) {
        sw_close(&s->base);
        return rv_error_set(-ENOMEM, "net switch: out of memory or descriptors");
    }
    rc = sw_join(s, &h);
    if (rc) {
        sw_close(&s->base);
        return rc;
    }
    rc = pthread_create(&s->thread, NULL, sw_thread, s);
    if (rc) {
        sw_close(&s->base);
        return rv_error_set(-rc, "net switch: cannot start the reading thread");
    }
    s->thread_started = true;
    *out = &s->base;
    return 0;
}
