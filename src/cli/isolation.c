/* `rvisor run`: CPU limits and the sandbox around the VM's set-up (isolation.h). */
#include "cli/isolation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsjail.h"
#include "core/log.h"

static int parse_uint(const char *opt, const char *val, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long v = val ? strtoul(val, &end, 10) : 0;
    if (!val || *end || *val == '-' || v < lo || v > hi) {
        fprintf(stderr, "rvisor: %s takes %u..%u\n", opt, lo, hi);
        return -1;
    }
    *out = (unsigned)v;
    return 2;
}

int isolation_option(struct rv_isolation *iso, const char *arg, const char *val)
{
    if (strcmp(arg, "--no-sandbox") == 0) {
        iso->no_sandbox = true;
        return 1;
    }
    if (strcmp(arg, "--private-net") == 0) {
        iso->private_net = true;
        return 1;
    }
    if (strcmp(arg, "--cpu-quota") == 0)
        return parse_uint(arg, val, 1, RV_CPU_MAX_QUOTA_PCT, &iso->cpu.quota_pct);
    if (strcmp(arg, "--cpu-weight") == 0)
        return parse_uint(arg, val, 1, RV_CPU_MAX_WEIGHT, &iso->cpu.weight);
    return 0;
}

/* The process's pid in the host's PID namespace: /proc is still the host's here. */
static pid_t host_pid(void)
{
    char buf[32];
    ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
    if (n <= 0)
        return getpid();
    buf[n] = 0;
    long v = strtol(buf, NULL, 10);
    return v > 0 ? (pid_t)v : getpid();
}

/* The state directory (control API paths are confined to it) is the API socket's. */
static int state_dir(const char *api_socket)
{
    char *copy = strdup(api_socket);
    if (!copy)
        return rv_error_set(-ENOMEM, "out of memory");
    char *slash = strrchr(copy, '/');
    int rc = rv_fs_set_state_dir(!slash ? "." : slash == copy ? "/" : (*slash = 0, copy));
    free(copy);
    return rc;
}

int isolation_begin(struct rv_isolation *iso, const struct rv_vm_config *cfg)
{
    int version;
    char mount[512];
    iso->pid = host_pid();
    rv_cgroup_detect(&version, mount, sizeof(mount));
    if (rv_cgroup_apply(version, mount, iso->pid, &iso->cpu, &iso->cgroup) ||
        (iso->api_socket && state_dir(iso->api_socket))) {
        fprintf(stderr, "rvisor: %s\n", rv_error_get());
        return -1;
    }
    iso->cfg = cfg;
    iso->sandbox = (struct rv_sandbox_config){.dir_fds = {-1, -1, -1, -1}};
    /* A switch port is a unix socket connected during set-up: no host network needed. A
     * control API may be asked for a live migration over TCP, --incoming waits for one,
     * unless --private-net. */
    iso->sandbox.host_net = iso->migration_net && !iso->private_net;
    for (unsigned i = 0; i < cfg->nnics; i++) {
        if (strncmp(cfg->nics[i], "user", 4) == 0)
            iso->sandbox.user_net = iso->sandbox.host_net = true;
        if (strncmp(cfg->nics[i], "tap", 3) == 0)
            iso->sandbox.host_net = true;
    }
    /* Run-time file work, through directory descriptors only (core/fsjail.h): the control
     * API (snapshots), volumes (metadata reloads), restored VMs (boot images at a reset). */
    iso->sandbox.runtime_io = iso->runtime_io;
    for (unsigned i = 0; i < cfg->ndisks; i++)
        if (strncmp(cfg->disks[i], "vol:", 4) == 0)
            iso->sandbox.runtime_io = true;
    /* A switch port joins its switch again when the switch restarts: a unix socket connected
     * in the switch's directory. */
    for (unsigned i = 0; i < cfg->nnics; i++)
        if (strncmp(cfg->nics[i], "switch:", 7) == 0)
            iso->sandbox.runtime_io = iso->sandbox.unix_connect = true;
    if (iso->no_sandbox)
        return 0;
    return rv_sandbox_prepare(&iso->sandbox, &iso->status) ? -1 : 0;
}

/* The rate-limit options of the disks and NICs, for status reports. */
static void io_limits(const struct rv_vm_config *cfg, char *out, size_t size)
{
    out[0] = 0;
    const char *const *specs[2] = {cfg->disks, cfg->nics};
    const unsigned counts[2] = {cfg->ndisks, cfg->nnics};
    for (int k = 0; k < 2; k++) {
        for (unsigned i = 0; i < counts[k]; i++) {
            for (const char *p = strchr(specs[k][i], ','); p; p = strchr(p + 1, ',')) {
                size_t len = strcspn(p + 1, ",");
                if (strncmp(p + 1, "iops=", 5) && strncmp(p + 1, "bw=", 3) &&
                    strncmp(p + 1, "rate=", 5))
                    continue;
                size_t used = strlen(out);
                snprintf(out + used, size - used, "%s%s%u %.*s", used ? ", " : "",
                         k ? "net" : "disk", i, (int)len, p + 1);
            }
        }
    }
}

int isolation_lock(struct rv_isolation *iso, struct rv_vm *vm, struct rv_api_server *api)
{
    struct rv_vm_host_info h = {0};
    snprintf(h.cpu_limit, sizeof(h.cpu_limit), "%s", iso->cgroup.summary);
    io_limits(iso->cfg, h.io_limits, sizeof(h.io_limits));
    if (!iso->no_sandbox) {
        /* The console socket and log need nothing: the manager removes and rotates them. */
        iso->sandbox.dir_fds[0] = rv_api_server_dir_fd(api);
        iso->sandbox.dir_fds[1] = iso->cgroup.parent_fd;
        if (rv_sandbox_enter(&iso->sandbox, &iso->status)) {
            fprintf(stderr, "rvisor: sandbox: %s\n", rv_error_get());
            return -1;
        }
        h.sandbox = iso->status.seccomp;
        h.syscalls = iso->status.syscalls;
        h.no_new_privs = iso->status.no_new_privs;
        h.mount_ns = iso->status.mount_ns;
        h.net_ns = iso->status.net_ns;
        h.caps_dropped = iso->status.caps_dropped;
    }
    rv_vm_set_host_info(vm, &h);
    return 0;
}

void isolation_end(struct rv_isolation *iso)
{
    rv_cgroup_leave(&iso->cgroup, iso->pid);
}
