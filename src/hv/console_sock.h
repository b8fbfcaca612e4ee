/* A VM's serial console served on a unix stream socket (`rvisor run --console socket:PATH`),
 * so that a VM started in the background (by the manager) can be attached to later with
 * `rvisor console`. The guest's output is also appended to a log file and the last
 * RV_CONSOLE_REPLAY bytes are replayed to each client when it attaches. One client at a
 * time; the guest never waits for a slow client (output it cannot take is dropped for it,
 * never for the log).
 *
 * Once started, the server makes only the system calls a sandboxed VM process may (docs/
 * sandbox.md): no opening, renaming or unlinking of files. So the log is not rotated here (the
 * manager does it from outside) and the socket file stays after the run (the next listener
 * on the path replaces it; the manager removes it when the VM ends). */
#ifndef RV_HV_CONSOLE_SOCK_H
#define RV_HV_CONSOLE_SOCK_H

#include <stdint.h>

#define RV_CONSOLE_REPLAY 8192

struct rv_console_server;

/* Listens at `path` (mode 0600) and appends output to `log_path` (NULL: no log). On success
 * *in_fd and *out_fd are the descriptors the VM reads its console input from and writes its
 * output to (struct rv_vm_config's console_in_fd/console_out_fd; owned by the server).
 * Returns 0 or a negative errno with rv_error_get() set. */
int rv_console_server_start(const char *path, const char *log_path, int *in_fd, int *out_fd,
                            struct rv_console_server **out);

/* Takes the output still queued and closes everything. Call after the VM is destroyed. */
void rv_console_server_stop(struct rv_console_server *s);

#endif
