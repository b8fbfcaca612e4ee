/* The switch process of one virtual network (`rvisor net serve NAME`, started by `rvisor net
 * create`; docs/networks.md): the port socket, the control socket, the uplink, capture. */
#ifndef RV_NET_VSW_DAEMON_H
#define RV_NET_VSW_DAEMON_H

#include <signal.h>
#include <stdint.h>

#include "net/vsw_proto.h"
#include "net/vswitch.h"

enum vsw_uplink { VSW_UPLINK_NONE, VSW_UPLINK_NAT, VSW_UPLINK_TAP };

struct vsw_config {
    char name[VSW_NAME_MAX + 1];
    uint32_t net;              /* host byte order */
    unsigned prefix;           /* 8..30 */
    enum vsw_uplink uplink;
    char tap_if[16];           /* VSW_UPLINK_TAP */
    struct vsw_limits limits;
};

/* Defaults: 10.77.0.0/24 (network + 1 is the gateway and DHCP server, + 2 DNS), no uplink,
 * 50000 frames/s and 1 Gbit/s per port, 2000 flooded frames/s per port. */
void vsw_config_default(struct vsw_config *c, const char *name);
/* "A.B.C.D/P" (P 8..30; host bits must be zero). */
int vsw_config_subnet(struct vsw_config *c, const char *cidr);
/* "nat", "none" or "tap:IFNAME". */
int vsw_config_uplink(struct vsw_config *c, const char *spec);
/* "nat", "none", "tap:IF" into buf. */
void vsw_config_uplink_str(const struct vsw_config *c, char *buf, size_t size);
/* config.json in the network's state directory. */
int vsw_config_save(const struct vsw_config *c, const char *path);
int vsw_config_load(struct vsw_config *c, const char *name, const char *path);

/* Runs the switch of network cfg->name in this process until *stop becomes nonzero or a
 * "shutdown" request arrives. The state directory must exist. Returns 0, or -errno with a
 * message (sockets cannot be made, another switch serves the network, uplink fails). */
int vsw_serve(const struct vsw_config *cfg, volatile sig_atomic_t *stop);

#endif
