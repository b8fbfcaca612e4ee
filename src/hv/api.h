/* The per-VM control API server: line-delimited JSON on a unix socket (docs/api.md), served by
 * one thread with an epoll loop. Requests are validated against the schema (api_schema.h) and
 * turned into the machine's control calls (include/rvisor/vm.h); nothing else. */
#ifndef RV_HV_API_H
#define RV_HV_API_H

#include <stddef.h>

#include "rvisor/vm.h"

#define RV_API_MAX_CLIENTS 16

struct rv_api_server;

/* Creates the socket at `path` (mode 0600; a stale socket file there is replaced, any other
 * file is an error) and starts serving requests for `vm`. Returns 0, or a negative errno with
 * rv_error_get() set. */
int rv_api_server_start(struct rv_vm *vm, const char *path, struct rv_api_server **out);

/* The same server for another protocol of the same framing (the manager's): `handle` gets each
 * request line (without its newline) on the server's thread and returns the reply line
 * (malloc'd, newline-ended) or NULL when out of memory. *fd is a descriptor the client sent
 * with the line (SCM_RIGHTS) or -1; a handler that keeps it sets *fd to -1, the server closes
 * it otherwise. */
typedef char *rv_api_handler(void *ctx, const char *line, size_t len, int *fd);
int rv_api_server_start_handler(rv_api_handler *handle, void *ctx, const char *path,
                                struct rv_api_server **out);

/* Creates a listening unix stream socket at `path` (mode 0600, non-blocking, close-on-exec;
 * a stale socket file is replaced, any other file is an error). Returns it, or a negative
 * errno with rv_error_get() set. */
int rv_api_listen(const char *path, int backlog);

/* The socket's directory (an O_PATH descriptor): the socket is removed through it at stop, so
 * a sandbox may allow unlinkat on this descriptor only. */
int rv_api_server_dir_fd(const struct rv_api_server *s);

/* Stops the thread, closes every connection and removes the socket file. Call before
 * rv_vm_destroy(). */
void rv_api_server_stop(struct rv_api_server *s);

/* Handles one request line for `vm` and returns the reply line (malloc'd, newline-ended), or
 * NULL when out of memory. The server's and the fuzz target's entry point. `fd` (may be NULL)
 * as in rv_api_handler. */
char *rv_api_handle_line(struct rv_vm *vm, const char *line, size_t len, int *fd);

#endif
