/* `rvisor run`'s isolation of the VM process: CPU limits (hv/cgroup.h) and the sandbox
 * (hv/sandbox.h), in the order they must happen around the VM's set-up. */
#ifndef RV_CLI_ISOLATION_H
#define RV_CLI_ISOLATION_H

#include <stdbool.h>

#include "hv/api.h"
#include "hv/cgroup.h"
#include "hv/sandbox.h"
#include "rvisor/vm.h"

struct rv_isolation {
    bool no_sandbox;            /* --no-sandbox */
    bool runtime_io;            /* the run opens paths after set-up: a control API (snapshot and
                                   migration requests), a restored or migrated VM (its boot
                                   images are read again at reset); set before begin */
    bool private_net;           /* --private-net: no host network even with a control API */
    const char *api_socket;     /* its directory is the VM's state directory; set before begin */
    bool migration_net;         /* a control API or --incoming: a live migration goes over the
                                   host's network (unless --private-net); set before begin */
    pid_t pid;                  /* as the host sees it (the manager may start the VM as PID 1 of
                                   its own PID namespace) */
    struct rv_cpu_limits cpu;   /* --cpu-quota, --cpu-weight */
    struct rv_cgroup cgroup;
    struct rv_sandbox_config sandbox;
    struct rv_sandbox_status status;
    const struct rv_vm_config *cfg;
};

/* Takes --no-sandbox, --private-net (val unused), --cpu-quota PCT or --cpu-weight N. Returns 1 if the option
 * was one of these (2 if it consumed val), 0 if not, -1 (message printed) if its value is
 * bad. */
int isolation_option(struct rv_isolation *iso, const char *arg, const char *val);

/* Before the VM is built, while the process has one thread: CPU limits, namespaces. Returns 0,
 * or -1 with a message printed. */
int isolation_begin(struct rv_isolation *iso, const struct rv_vm_config *cfg);

/* After set-up: the sandbox proper, and what is enforced recorded in the VM for status
 * reports. Returns 0, or -1 with a message printed (the VM must not run). */
int isolation_lock(struct rv_isolation *iso, struct rv_vm *vm, struct rv_api_server *api);

/* After the VM: leaves and removes the cgroup. */
void isolation_end(struct rv_isolation *iso);

#endif
