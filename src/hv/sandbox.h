/* The sandbox of one VM process, in the spirit of Firecracker's jailer (docs/sandbox.md).
 *
 * rv_sandbox_prepare() runs first, while the process has one thread: as root it enters a
 * private mount namespace (and a private network namespace when the VM has no host
 * networking), so that every thread created later shares them. After set-up (images read,
 * disks and backing files open, sockets bound, threads started) rv_sandbox_enter() locks the
 * process down: as root it pivots into an empty read-only tmpfs (nothing of the host's file
 * system stays reachable by path) and drops every capability on every thread (permitted,
 * effective, inheritable, ambient and the bounding set); as anyone it sets no_new_privs and
 * installs the seccomp allowlist (hv/seccomp.h) on all threads. */
#ifndef RV_HV_SANDBOX_H
#define RV_HV_SANDBOX_H

#include <stdbool.h>

#define RV_SANDBOX_MAX_DIRS 4

struct rv_sandbox_config {
    bool host_net;      /* user or tap NICs: the host's network namespace is needed */
    bool user_net;      /* libslirp: its socket calls, and /etc/resolv.conf for DNS */
    bool runtime_io;    /* files are opened after set-up (a control API that can ask for
                           snapshots and migrations, volumes, a restored VM's boot images):
                           only through the directories of core/fsjail.h, whose descriptors
                           enter() opens (rv_fs_confine) before the root becomes empty; and
                           TCP for a migration (hv/seccomp.h) */
    bool unix_connect;  /* switch ports: unix sockets connected at run time (hv/seccomp.h) */
    int dir_fds[RV_SANDBOX_MAX_DIRS]; /* see rv_seccomp_profile's dir_fds (-1: unused) */
};

/* What was applied (reported by the control API's status). */
struct rv_sandbox_status {
    bool seccomp;        /* the allowlist is installed on every thread */
    unsigned syscalls;   /* system calls on it */
    bool no_new_privs;
    bool mount_ns;       /* private mount namespace, root pivoted into an empty tmpfs */
    bool net_ns;         /* private network namespace (only loopback, down) */
    bool caps_dropped;   /* no capabilities left on any thread, bounding set empty */
};

/* Single-threaded, before the VM is built. Namespaces need root (CAP_SYS_ADMIN); without it
 * nothing happens here. A failure to create them as root is reported as a warning and the
 * status says so (containers often forbid it). Returns 0 or -errno. */
int rv_sandbox_prepare(const struct rv_sandbox_config *c, struct rv_sandbox_status *st);

/* After set-up. Returns 0, or -errno with rv_error_get() set when the seccomp filter could not
 * be installed (the caller must not run the VM then). */
int rv_sandbox_enter(const struct rv_sandbox_config *c, struct rv_sandbox_status *st);

#endif
