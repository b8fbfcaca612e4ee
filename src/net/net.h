/* Network backends: where a virtual NIC's frames go (DESIGN.md "net/"). The virtio-net device
 * sees only this interface; user-mode NAT (libslirp) and tap implement it, and the virtual
 * switch will later.
 *
 * Frames are whole Ethernet frames without the virtio-net header. A backend runs its own
 * thread; it delivers received frames by calling the client's `receive` from that thread. */
#ifndef RV_NET_NET_H
#define RV_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct rv_net;

struct rv_net_client {
    /* A frame for the guest. Returns false if the guest has no room now; the backend then
     * keeps the frame (or drops it, for backends where the peer retransmits, like TCP) and
     * calls `receive` again after rv_net_rx_ready(). */
    bool (*receive)(void *opaque, const uint8_t *frame, size_t len);
    void *opaque;
};

/* Opens a backend from a --net specification:
 *   "user[,hostfwd=tcp::HOSTPORT-:GUESTPORT]...[,net=10.0.2.0/24]"  (libslirp NAT, bound to
 *   127.0.0.1 for host forwards; all options in net/user_opts.h)
 *   "tap,ifname=NAME"  (an existing tap interface, or one created if allowed; net/tap.c)
 *   "switch:NAME[,mac=..]"  (a port of virtual network NAME's switch; net/switch_port.c)
 * and the NIC's MAC address is given by the caller (unicast); the switch backend assigns its
 * own (the one of mac=, else the switch's choice): rv_net_get_mac() tells which. Returns 0, or -errno with a
 * message (rv_error_get()): unknown backend or option, port in use, no permission. */
int rv_net_open(const char *spec, const uint8_t mac[6], const struct rv_net_client *client,
                struct rv_net **out);
void rv_net_close(struct rv_net *n);
/* The MAC address the NIC must use. */
void rv_net_get_mac(const struct rv_net *n, uint8_t mac[6]);

/* Sends a frame from the guest (gathered from iov). */
int rv_net_send(struct rv_net *n, const struct iovec *iov, int iovcnt);
/* The guest made receive buffers available again. */
void rv_net_rx_ready(struct rv_net *n);

#endif
