/* What `rvisor run` does for a supervisor such as the manager: the console on a unix socket
 * (--console socket:PATH[,log=FILE]) and the exit status in a file (--status-file PATH). */
#ifndef RV_CLI_RUN_MANAGED_H
#define RV_CLI_RUN_MANAGED_H

#include "hv/console_sock.h"

/* `spec` is what follows "socket:". Returns 0 with the VM's console descriptors, or prints
 * the error and returns -1. */
int rv_cli_console_socket(const char *spec, int *in_fd, int *out_fd,
                          struct rv_console_server **out);

/* The status file is created empty when the run starts (before any sandbox closes the file
 * system) and gets "STATUS\n" in one write when it ends: a reader sees nothing (still running,
 * or killed) or the whole status. Returns the descriptor, -1 for no file (`path` NULL), or
 * -2 after printing an error. */
int rv_cli_status_open(const char *path);
/* Writes the status and closes the descriptor (nothing if fd < 0). */
void rv_cli_status_write(int fd, int status);

#endif
