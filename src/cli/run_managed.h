/* What `rvisor run` does for a supervisor such as the manager: the console on a unix socket
 * (--console socket:PATH[,log=FILE]) and the exit status in a file (--status-file PATH). */
#ifndef RV_CLI_RUN_MANAGED_H
#define RV_CLI_RUN_MANAGED_H

#include "hv/console_sock.h"

/* `spec` is what follows "socket:". Returns 0 with the VM's console descriptors, or prints
 * the error and returns -1. */
int rv_cli_console_socket(const char *spec, int *in_fd, int *out_fd,
                          struct rv_console_server **out);

/* Writes "STATUS\n" to `path` atomically (nothing if `path` is NULL). */
void rv_cli_write_status(const char *path, int status);

#endif
