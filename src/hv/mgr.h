/* The VM manager (`rvisor serve`): many VMs, each its own `rvisor run` process, defined in a
 * state folder and driven through the manager's API (hv/mgr_schema.h, docs/api.md).
 *
 * State folder layout:
 *   manager.lock             flock()ed by the one manager of the folder
 *   manager.sock             the manager's API (default)
 *   vms/NAME/config.json     the definition: {"name": NAME, "config": {...}}
 *   vms/NAME/pid.json        while a process runs: {"pid", "starttime", "started_ms"}
 *   vms/NAME/exit.json       how the last run ended: {"state", "status", "signal", "reason"}
 *   vms/NAME/status          the exit status `rvisor run` wrote itself
 *   vms/NAME/api.sock, console.sock, console.log, run.log (the process's stderr)
 * A restarted manager re-adopts the processes of pid.json that are still those VMs and turns
 * the others into exit records. */
#ifndef RV_HV_MGR_H
#define RV_HV_MGR_H

#include <stddef.h>

struct rv_mgr;

/* Opens (creating it if needed) the state folder `dir`, takes its lock, loads the VMs,
 * re-adopts running ones and serves the API at `socket_path` (NULL: DIR/manager.sock). `exe`
 * is the rvisor binary that VM processes run (e.g. /proc/self/exe). Blocks SIGTERM, SIGINT and
 * SIGHUP in the calling thread (rv_mgr_run() takes them). Returns 0 or a negative errno with
 * rv_error_get() set. */
int rv_mgr_open(const char *dir, const char *socket_path, const char *exe, struct rv_mgr **out);

/* Watches the VM processes until SIGTERM, SIGINT or SIGHUP. VMs keep running after the
 * manager ends; the next manager adopts them. Returns 0 or a negative errno. */
int rv_mgr_run(struct rv_mgr *m);

void rv_mgr_close(struct rv_mgr *m);

/* One request line -> one reply line (malloc'd), as the server does (tests, fuzzing). */
char *rv_mgr_handle_line(struct rv_mgr *m, const char *line, size_t len);

#endif
