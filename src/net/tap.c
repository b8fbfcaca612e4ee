/* "tap" network backend: frames go to and come from a Linux tap interface (/dev/net/tun with
 * IFF_TAP | IFF_NO_PI: one read or write is one Ethernet frame, no extra header).
 *
 *   tap,ifname=NAME    attach to tap interface NAME (made beforehand with
 *                      `ip tuntap add dev NAME mode tap user USER`, which needs no privilege
 *                      to use afterwards), or create it if we may (CAP_NET_ADMIN; it then
 *                      disappears when the VM ends, and is down until someone sets it up)
 *
 * A reading thread delivers frames to the client. When the client has no room it keeps that
 * one frame and stops reading the tap (the kernel queues, then drops, further frames) until
 * rv_net_rx_ready(). Sending is a write from the caller's thread. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "net/net_internal.h"

struct net_tap {
    struct rv_net base;
    int fd, wake_fd;
    char ifname[IFNAMSIZ];
    pthread_t thread;
    bool thread_started;
    atomic_bool stop, rx_kick;
    /* Owned by the reading thread. */
    uint8_t *buf;            /* RV_NET_MAX_FRAME bytes */
    size_t pending_len;      /* a frame the client refused, waiting in buf; 0: none */
    bool read_failed;        /* reads fail (interface gone): back off */
};

static struct net_tap *to_tap(struct rv_net *n)
{
    return (struct net_tap *)n;
}

static void tap_wake(struct net_tap *t)
{
    uint64_t one = 1;
    ssize_t rc = write(t->wake_fd, &one, sizeof(one));
    (void)rc; /* EAGAIN: the counter is already set */
}

static bool tap_deliver(struct net_tap *t, size_t len)
{
    if (t->base.client.receive(t->base.client.opaque, t->buf, len)) {
        t->pending_len = 0;
        return true;
    }
    t->pending_len = len;
    return false;
}

/* Reads and delivers frames until the tap is empty or the client is full. A bounded number
 * per round, so that a flood does not starve the wake-up descriptor. */
static void tap_read_frames(struct net_tap *t)
{
    for (int i = 0; i < 256; i++) {
        ssize_t n = read(t->fd, t->buf, RV_NET_MAX_FRAME);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                t->read_failed = false;
            } else {
                if (!t->read_failed)
                    rv_warn("net tap %s: read: %s", t->ifname, strerror(errno));
                t->read_failed = true;
            }
            return;
        }
        t->read_failed = false;
        if (n < RV_NET_MIN_FRAME)
            continue;
        if (!tap_deliver(t, (size_t)n))
            return;
    }
}

static void *tap_thread(void *opaque)
{
    struct net_tap *t = opaque;
    while (!atomic_load(&t->stop)) {
        if (atomic_exchange(&t->rx_kick, false) && t->pending_len)
            tap_deliver(t, t->pending_len);
        struct pollfd fds[2] = {
            {.fd = t->wake_fd, .events = POLLIN},
            {.fd = t->fd, .events = POLLIN},
        };
        /* Stop reading while a refused frame waits; after a read error, retry once a
         * second instead of polling a descriptor that may stay in error. */
        bool watch = !t->pending_len && !t->read_failed;
        bool retry = !t->pending_len && t->read_failed;
        int rc = poll(fds, watch ? 2 : 1, retry ? 1000 : -1);
        if (rc < 0)
            continue;
        if (fds[0].revents & POLLIN) {
            uint64_t v;
            ssize_t got = read(t->wake_fd, &v, sizeof(v));
            (void)got;
        }
        if ((watch && fds[1].revents) || (retry && rc == 0))
            tap_read_frames(t);
    }
    return NULL;
}

static int tap_send(struct rv_net *n, const struct iovec *iov, int iovcnt)
{
    struct net_tap *t = to_tap(n);
    for (;;) {
        ssize_t rc = writev(t->fd, iov, iovcnt);
        if (rc >= 0)
            return 0;
        if (errno != EINTR)
            return rv_error_set(-errno, "net tap %s: write: %s", t->ifname, strerror(errno));
    }
}

static void tap_rx_ready(struct rv_net *n)
{
    struct net_tap *t = to_tap(n);
    if (!atomic_exchange(&t->rx_kick, true))
        tap_wake(t);
}

static void tap_close(struct rv_net *n)
{
    struct net_tap *t = to_tap(n);
    if (t->thread_started) {
        atomic_store(&t->stop, true);
        tap_wake(t);
        pthread_join(t->thread, NULL);
    }
    if (t->fd >= 0)
        close(t->fd);
    if (t->wake_fd >= 0)
        close(t->wake_fd);
    free(t->buf);
    free(t);
}

static const struct rv_net_backend_ops tap_ops = {
    .name = "tap",
    .send = tap_send,
    .rx_ready = tap_rx_ready,
    .close = tap_close,
};

static int tap_parse(const char *opts, char ifname[IFNAMSIZ])
{
    char key[32], val[64];
    int rc;
    ifname[0] = 0;
    while ((rc = rv_net_opt_next(&opts, key, sizeof(key), val, sizeof(val))) > 0) {
        if (strcmp(key, "ifname"))
            return rv_error_set(-EINVAL, "net tap: unknown option '%s' (expected ifname)", key);
        size_t len = strlen(val);
        if (len == 0 || len >= IFNAMSIZ || strchr(val, '/') || strchr(val, ' ') ||
            strchr(val, ':'))
            return rv_error_set(-EINVAL, "net tap: bad interface name '%s'", val);
        memcpy(ifname, val, len + 1);
    }
    if (rc < 0)
        return rc;
    if (!ifname[0])
        return rv_error_set(-EINVAL, "net tap: missing ifname=NAME");
    return 0;
}

static int tap_attach(struct net_tap *t, const char *ifname)
{
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        int e = errno;
        return rv_error_set(-e, "net tap: cannot open /dev/net/tun: %s%s", strerror(e),
                            e == ENOENT ? " (no tun driver?)" : "");
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        if (e == EPERM || e == EACCES)
            return rv_error_set(-e, "net tap: no permission to use tap interface %s (create it "
                                "for this user first: ip tuntap add dev %s mode tap user "
                                "$USER; ip link set %s up)", ifname, ifname, ifname);
        if (e == EINVAL || e == EBUSY)
            return rv_error_set(-e, "net tap: %s exists but is not a free tap interface (%s)",
                                ifname, strerror(e));
        return rv_error_set(-e, "net tap: cannot attach to %s: %s", ifname, strerror(e));
    }
    memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
    t->ifname[IFNAMSIZ - 1] = 0;
    return 0;
}

int rv_net_tap_open(const char *opts, const uint8_t mac[6], const struct rv_net_client *client,
                    struct rv_net **out)
{
    char ifname[IFNAMSIZ];
    int rc = tap_parse(opts, ifname);
    if (rc)
        return rc;
    struct net_tap *t = calloc(1, sizeof(*t));
    if (!t)
        return rv_error_set(-ENOMEM, "net tap: out of memory");
    t->base.ops = &tap_ops;
    t->base.client = *client;
    memcpy(t->base.mac, mac, 6);
    t->fd = t->wake_fd = -1;
    memcpy(t->ifname, ifname, sizeof(ifname));
    t->buf = malloc(RV_NET_MAX_FRAME);
    if (!t->buf) {
        tap_close(&t->base);
        return rv_error_set(-ENOMEM, "net tap: out of memory");
    }
    t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t->wake_fd < 0) {
        rc = -errno;
        tap_close(&t->base);
        return rv_error_set(rc, "net tap: eventfd: %s", strerror(-rc));
    }
    rc = tap_attach(t, ifname);
    if (rc) {
        tap_close(&t->base);
        return rc;
    }
    rc = pthread_create(&t->thread, NULL, tap_thread, t);
    if (rc) {
        tap_close(&t->base);
        return rv_error_set(-rc, "net tap: cannot start the reading thread");
    }
    t->thread_started = true;
    *out = &t->base;
    return 0;
}
