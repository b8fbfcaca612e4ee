/* A VM's serial console served on a unix stream socket (`rvisor run --console socket:PATH`),
 * so that a VM started in the background (by the manager) can be attached to later with
 * `rvisor console`. The guest's output is also appended to a log file and the last
 * RV_CONSOLE_REPLAY bytes are replayed to each client when it attaches. One client at a
 * time; the guest never waits for a slow client (output it cannot take is dropped for it,
 * never for the log). */
#ifndef RV_HV_CONSOLE_SOCK_H
#define RV_HV_CONSOLE_SOCK_H

#include <stdint.h>

#define RV_CONSOLE_REPLAY 8192
#define RV_CONSOLE_LOG_MAX (4u << 20) /* the log is renamed to LOG.1 when it reaches this */

struct rv_console_server;

/* Listens at `path` (mode 0600) and appends output to `log_path` (NULL: no log). On success
 * *in_fd and *out_fd are the descriptors the VM reads its console input from and writes its
 * output to (struct rv_vm_config's console_in_fd/console_out_fd; owned by the server).
 * Returns 0 or a negative errno with rv_error_get() set. */
int rv_console_server_start(const char *path, const char *log_path, int *in_fd, int *out_fd,
                            struct rv_console_server **out);

/* Takes the output still queued, closes everything and removes the socket. Call after the VM
 * is destroyed. */
void rv_console_server_stop(struct rv_console_server *s);

#endif
