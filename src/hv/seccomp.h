/* The seccomp allowlist of a VM process (docs/sandbox.md lists it with the reasons). Built with
 * libseccomp from what `rvisor run` was measured to use after set-up (bench/sandbox-syscalls.sh:
 * strace -f over boots with disks, user networking, the control API, reboot and poweroff).
 * Anything else fails with EPERM (not a kill: an unforeseen path, say in a library, makes one
 * operation fail with an error the caller reports, and the VM goes on; docs/sandbox.md). */
#ifndef RV_HV_SECCOMP_H
#define RV_HV_SECCOMP_H

#include <stdbool.h>

#define RV_SECCOMP_MAX_DIRS 16

struct rv_seccomp_profile {
    bool user_net;    /* libslirp: IPv4/IPv6 sockets, and read-only opens (DNS reads
                         /etc/resolv.conf when the guest asks) */
    /* Directories the process may still use, by descriptor only: openat, openat2, unlinkat,
     * renameat(2) relative to them (the API socket removed at exit, the VM's cgroup removed,
     * and with runtime_io the directories of core/fsjail.h). -1 entries are ignored. */
    int dir_fds[RV_SECCOMP_MAX_DIRS];
    bool runtime_io;  /* the VM opens files after set-up (snapshots, volume reloads, boot
                         images at a reset), only through dir_fds (core/fsjail.h), and
                         migrates over a connected socket (the API's recvmsg with SCM_RIGHTS
                         brings it): calls on connected sockets, file locks (volumes), dup */
    bool host_connect; /* runtime_io on the host's network: a migration may connect by itself
                          (IPv4/IPv6 socket, connect, the resolver's calls) */
    bool unix_connect; /* switch ports (re)join their switch: socket(AF_UNIX, SOCK_SEQPACKET),
                          fchdir into a dir_fds entry and chdir back (core/fsjail.h) */
    bool all_threads; /* apply to every thread of the process (SECCOMP_FILTER_FLAG_TSYNC) */
};

/* Sets no_new_privs and installs the filter on the calling thread (and all others with
 * all_threads). Threads created afterwards inherit it. *count receives the number of system
 * calls on the list. Returns 0, or -errno with rv_error_get() set. */
int rv_seccomp_install(const struct rv_seccomp_profile *p, unsigned *count);

#endif
