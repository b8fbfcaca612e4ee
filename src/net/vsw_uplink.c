/* The network's uplink inside the switch process: an ordinary network backend (net.h) --
 * libslirp NAT ("user") or a tap interface -- attached as a port through a SOCK_SEQPACKET
 * socketpair, so that the event loop treats it like any VM port:
 *
 *   loop <-> [up_port fd] ==socketpair== [up_peer fd] <-> up_thread -> rv_net_send(backend)
 *                                                     <-  backend thread: client.receive
 *
 * Both threads on the peer side may block (the loop never does); closing shuts the peer
 * socket down first, which wakes them.
 *
 * NAT: slirp's gateway is network + 1 (connections to it reach the host's 127.0.0.1) and its
 * DNS forwarder network + 2; the switch's DHCP server hands out both. slirp's own DHCP never
 * sees a request: the switch answers every frame to UDP port 67 itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "net/vsw_daemon_internal.h"

static bool uplink_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct vswd *d = opaque;
    while (send(d->up_peer, frame, len, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
    return true; /* sent, or the loop is gone (closing): dropped either way */
}

static void *uplink_thread(void *opaque)
{
    struct vswd *d = opaque;
    uint8_t *buf = malloc(RV_NET_MAX_FRAME);
    if (!buf)
        return NULL;
    for (;;) {
        ssize_t n = recv(d->up_peer, buf, RV_NET_MAX_FRAME, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        struct iovec iov = {buf, (size_t)n};
        if (n >= RV_NET_MIN_FRAME && rv_net_send(d->up, &iov, 1))
            rv_debug("switch uplink: %s", rv_error_get());
    }
    free(buf);
    return NULL;
}

static void ip_str(uint32_t ip, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
}

int vswd_uplink_open(struct vswd *d)
{
    const struct vsw_config *c = d->cfg;
    if (c->uplink == VSW_UPLINK_NONE)
        return 0;
    char spec[160];
    if (c->uplink == VSW_UPLINK_NAT) {
        char net[16], host[16], dns[16], start[16];
        ip_str(c->net, net, sizeof(net));
        ip_str(c->net + 1, host, sizeof(host));
        ip_str(c->net + 2, dns, sizeof(dns));
        ip_str(d->dhcp.pool_first, start, sizeof(start));
        snprintf(spec, sizeof(spec), "user,net=%s/%u,host=%s,dns=%s,dhcpstart=%s", net,
                 c->prefix, host, dns, start);
    } else {
        snprintf(spec, sizeof(spec), "tap,ifname=%s", c->tap_if);
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return rv_error_set(-errno, "switch uplink: socketpair: %s", strerror(errno));
    d->up_peer = sv[1];
    int rc = vswd_port_add_uplink(d, sv[0]);
    if (rc < 0) {
        close(sv[0]);
        return rv_error_set(rc, "switch uplink: no port");
    }
    d->up_port = rc;
    struct rv_net_client client = {.receive = uplink_receive, .opaque = d};
    rc = rv_net_open(spec, d->server_mac, &client, &d->up);
    if (rc)
        return rv_error_prefix(rc, "switch uplink %s: ", spec);
    rc = pthread_create(&d->up_thread, NULL, uplink_thread, d);
    if (rc)
        return rv_error_set(-rc, "switch uplink: cannot start its thread");
    d->up_thread_started = true;
    rv_info("switch %s: uplink %s", c->name, spec);
    return 0;
}

void vswd_uplink_close(struct vswd *d)
{
    if (d->up_peer >= 0)
        shutdown(d->up_peer, SHUT_RDWR); /* wakes both threads of the peer side */
    if (d->up_thread_started)
        pthread_join(d->up_thread, NULL);
    rv_net_close(d->up);
    d->up = NULL;
    if (d->up_peer >= 0)
        close(d->up_peer);
    d->up_peer = -1;
}
