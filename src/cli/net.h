/* `rvisor net ...`: virtual networks (docs/networks.md). */
#ifndef RV_CLI_NET_H
#define RV_CLI_NET_H

#include <stdbool.h>

#include <jansson.h>

int rv_cli_net(int argc, char **argv);

/* The control socket of network `name` (net_ctl.c). */
int net_ctl_connect(const char *name, bool quiet);
int net_ctl_send(int fd, const char *request, json_t *args, int pass_fd);
json_t *net_ctl_read(int fd);
/* One request; the reply's result (new reference), or NULL with a message unless quiet. */
json_t *net_ctl_call(const char *name, const char *request, bool quiet);

#endif
