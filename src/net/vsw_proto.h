/* Where a virtual network lives and how a VM process talks to its switch (docs/networks.md).
 *
 * State directory of network NAME: $RVISOR_STATE_DIR/net/NAME, else
 * $XDG_STATE_HOME/rvisor/net/NAME, else ~/.local/state/rvisor/net/NAME (mode 0700), holding
 *   config.json   the network's configuration (written by `rvisor net create`)
 *   ports.sock    the switch's port socket (SOCK_SEQPACKET): one connection per NIC
 *   control.sock  the switch's control socket (JSON lines, like the VM control API)
 *   switch.pid, switch.log
 *
 * Port protocol, on a SOCK_SEQPACKET connection (one message = one Ethernet frame, so no
 * framing and no partial frames): the VM sends a hello, the switch answers with a welcome that
 * assigns the port's MAC (or refuses, with a message), then every message either way is one
 * frame without any header. */
#ifndef RV_NET_VSW_PROTO_H
#define RV_NET_VSW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VSW_MAGIC "RVSW"
#define VSW_VERSION 1
#define VSW_HELLO_LEN 16
#define VSW_WELCOME_LEN 16 /* then up to VSW_MSG_MAX bytes of error message */
#define VSW_MSG_MAX 200
#define VSW_FLAG_MAC 1     /* hello: the VM asks for this MAC (else the switch picks one) */

#define VSW_NAME_MAX 32

/* hello:   "RVSW" version flags mac[6] pid(le32) pad[0]...
 * welcome: "RVSW" version status(0 ok, else an errno value) port(le16) mac[6] pad[2] msg */
struct vsw_hello {
    uint8_t flags;
    uint8_t mac[6];
    uint32_t pid;
};
struct vsw_welcome {
    uint8_t status;
    uint16_t port;
    uint8_t mac[6];
    char msg[VSW_MSG_MAX + 1];
};
void vsw_hello_encode(const struct vsw_hello *h, uint8_t out[VSW_HELLO_LEN]);
int vsw_hello_decode(const uint8_t *p, size_t len, struct vsw_hello *h);
size_t vsw_welcome_encode(const struct vsw_welcome *w, uint8_t *out, size_t cap);
int vsw_welcome_decode(const uint8_t *p, size_t len, struct vsw_welcome *w);

/* Network names: 1..32 of [A-Za-z0-9_.-], not starting with '.'. */
bool vsw_name_valid(const char *name);
/* The state directory of all networks ("…/rvisor/net") or of one (name != NULL). Returns 0
 * or -errno with a message (bad name, path too long for a unix socket). */
int vsw_state_dir(const char *name, char *buf, size_t size);
/* dir/file, checked to fit a unix socket address. */
int vsw_path(const char *name, const char *file, char *buf, size_t size);

#endif
