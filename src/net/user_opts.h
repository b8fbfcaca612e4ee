/* Options of the "user" (libslirp) backend, parsed apart from libslirp so that they can be
 * tested (and fuzzed) alone:
 *   net=ADDR[/PREFIX]     guest network (default 10.0.2.0/24; PREFIX 8..30, default 24)
 *   host=ADDR             the host as the guest sees it (default: network + 2)
 *   dns=ADDR              DNS forwarder (default: network + 3)
 *   dhcpstart=ADDR        first DHCP lease (default: network + 15)
 *   restrict=on|off       on: the guest reaches only host forwards (default off)
 *   hostfwd=PROTO:[HADDR]:HPORT-[GADDR]:GPORT   (repeatable, PROTO tcp or udp; HADDR defaults
 *                         to 127.0.0.1, GADDR to the first DHCP lease) */
#ifndef RV_NET_USER_OPTS_H
#define RV_NET_USER_OPTS_H

#include <netinet/in.h>
#include <stdbool.h>

#define RV_NET_MAX_HOSTFWD 16

struct rv_net_hostfwd {
    bool udp;
    struct in_addr host_addr;  /* network byte order, as everywhere here */
    struct in_addr guest_addr; /* 0: the first DHCP lease */
    unsigned host_port, guest_port;
};

struct rv_net_user_opts {
    struct in_addr net, mask, host, dns, dhcp_start;
    bool restricted;
    unsigned nfwd;
    struct rv_net_hostfwd fwd[RV_NET_MAX_HOSTFWD];
};

/* Parses the options after "user,". Returns 0, or -EINVAL with a message. */
int rv_net_user_parse(const char *opts, struct rv_net_user_opts *o);

#endif
