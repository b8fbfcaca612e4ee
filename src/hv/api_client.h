/* The client side of the line-delimited JSON protocol (docs/api.md), shared by `rvisor ctl`,
 * the manager (which talks to its VMs' APIs) and the manager's command-line client. */
#ifndef RV_HV_API_CLIENT_H
#define RV_HV_API_CLIENT_H

#include <jansson.h>

/* Connects to the unix stream socket at `path`; sends and receives time out after
 * `timeout_ms`. A path longer than a socket address holds is reached through its directory
 * (/proc/self/fd/N/NAME). Returns the socket, or a negative errno with rv_error_get() set. */
int rv_api_connect(const char *path, int timeout_ms);

/* Sends `line` (newline-ended) and returns the reply line (malloc'd, up to 16 MiB), or NULL
 * with rv_error_get() set. */
char *rv_api_exchange(int fd, const char *line);
/* The same, sending descriptor `pass_fd` (if >= 0) with the line (SCM_RIGHTS). */
char *rv_api_exchange_fd(int fd, const char *line, int pass_fd);

/* One request on a new connection: {"id":1,"request":REQUEST,"arguments":ARGS} (`args` is
 * stolen, may be NULL). Returns 0 and the reply object (with `ok` and `result` or `error`), or
 * a negative errno with rv_error_get() set when there is no well-formed reply. */
int rv_api_call(const char *path, const char *request, json_t *args, int timeout_ms,
                json_t **reply);
/* The same with descriptor `pass_fd` (if >= 0) sent along (a request argument says so). */
int rv_api_call_fd(const char *path, const char *request, json_t *args, int pass_fd,
                   int timeout_ms, json_t **reply);

#endif
