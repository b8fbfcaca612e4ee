/* The per-VM sandbox (sandbox.h): namespaces, pivot_root into an empty tmpfs, capabilities
 * dropped on all threads (libpsx), no_new_privs and the seccomp allowlist (seccomp.c). */
#include "hv/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsjail.h"
#include "core/log.h"
#include "hv/seccomp.h"

/* libpsx (libcap-dev) runs a system call on every thread of the process, which capset and
 * PR_CAPBSET_DROP need: capabilities are per thread on Linux. It is linked into the rvisor
 * binary only (it wraps pthread_create); weak here so that other programs linking the
 * library still link. */
long int psx_syscall3(long int nr, long int a1, long int a2, long int a3) __attribute__((weak));
long int psx_syscall6(long int nr, long int a1, long int a2, long int a3, long int a4,
                      long int a5, long int a6) __attribute__((weak));

/* Where the empty root is mounted before pivot_root: any directory that exists will do, it is
 * only covered inside the private mount namespace. */
static const char *const mount_points[] = {"/tmp", "/mnt", "/run", "/dev"};

#define RESOLV_MAX 65536

int rv_sandbox_prepare(const struct rv_sandbox_config *c, struct rv_sandbox_status *st)
{
    memset(st, 0, sizeof(*st));
    if (geteuid() != 0)
        return 0;
    int flags = CLONE_NEWNS | (c->host_net ? 0 : CLONE_NEWNET);
    if (unshare(flags) < 0) {
        rv_warn("sandbox: no private namespaces (unshare: %s); running without them",
                strerror(errno));
        return 0;
    }
    /* Nothing mounted from here on propagates back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        rv_warn("sandbox: cannot make the mount namespace private: %s", strerror(errno));
        return 0;
    }
    st->mount_ns = true; /* provisional: enter() pivots */
    st->net_ns = !c->host_net;
    return 0;
}

/* Copies the host's /etc/resolv.conf into the new root (libslirp reads it for DNS). */
static void copy_resolv_conf(const char *root)
{
    char buf[RESOLV_MAX], path[64];
    int in = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return;
    ssize_t n = read(in, buf, sizeof(buf));
    close(in);
    snprintf(path, sizeof(path), "%s/etc", root);
    if (n <= 0 || mkdir(path, 0755) < 0)
        return;
    snprintf(path, sizeof(path), "%s/etc/resolv.conf", root);
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0)
        return;
    if (write(out, buf, (size_t)n) != n)
        rv_warn("sandbox: cannot copy /etc/resolv.conf: DNS may not work");
    close(out);
}

/* pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only the
 * tmpfs (pivot_root(2), "NOTES"). Every thread whose root was the old one moves too. */
static int pivot_to_empty_root(bool resolv)
{
    const char *dir = NULL;
    struct stat sb;
    for (size_t i = 0; !dir && i < sizeof(mount_points) / sizeof(mount_points[0]); i++)
        if (stat(mount_points[i], &sb) == 0 && S_ISDIR(sb.st_mode))
            dir = mount_points[i];
    if (!dir)
        return rv_error_set(-ENOENT, "sandbox: no directory to mount the new root on");
    const unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mount("rvisor-root", dir, "tmpfs", fl, "size=128k,nr_inodes=16,mode=0755") < 0)
        return rv_error_set(-errno, "sandbox: mount tmpfs on %s: %s", dir, strerror(errno));
    if (resolv)
        copy_resolv_conf(dir);
    if (mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY | fl, NULL) < 0 || chdir(dir) < 0 ||
        syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
        return rv_error_set(-errno, "sandbox: pivot_root into %s: %s", dir, strerror(errno));
    return 0;
}

/* Capabilities: the bounding set first (needs CAP_SETPCAP), then all sets empty, on every
 * thread. */
static int drop_capabilities(void)
{
    if (!psx_syscall3 || !psx_syscall6)
        return rv_error_set(-ENOSYS, "sandbox: built without libpsx");
    for (long cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
        if (psx_syscall6(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0, 0) < 0)
            return rv_error_set(-errno, "sandbox: PR_CAPBSET_DROP %ld: %s", cap,
                                strerror(errno));
    if (psx_syscall6(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0) < 0)
        return rv_error_set(-errno, "sandbox: clearing ambient capabilities: %s",
                            strerror(errno));
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (psx_syscall3(SYS_capset, (long)&hdr, (long)data, 0) < 0)
        return rv_error_set(-errno, "sandbox: capset: %s", strerror(errno));
    return 0;
}

/* The directories of run-time file work: descriptors (as root detached bind mounts) opened
 * while the host's paths are still there, added to the allowlist's directories. */
static int confine_files(const struct rv_sandbox_config *c, const struct rv_sandbox_status *st,
                         struct rv_seccomp_profile *p)
{
    unsigned used = 0;
    for (unsigned i = 0; i < RV_SANDBOX_MAX_DIRS; i++)
        if (c->dir_fds[i] >= 0)
            p->dir_fds[used++] = c->dir_fds[i];
    for (unsigned i = used; i < RV_SECCOMP_MAX_DIRS; i++)
        p->dir_fds[i] = -1;
    if (!c->runtime_io)
        return 0;
    int rc = rv_fs_confine(st->mount_ns);
    if (!rc)
        rv_fs_dir_fds(p->dir_fds + used, RV_SECCOMP_MAX_DIRS - used);
    return rc;
}

_Static_assert(RV_SANDBOX_MAX_DIRS + RV_FS_MAX_DIRS <= RV_SECCOMP_MAX_DIRS, "room for all");

int rv_sandbox_enter(const struct rv_sandbox_config *c, struct rv_sandbox_status *st)
{
    struct rv_seccomp_profile p = {.user_net = c->user_net, .runtime_io = c->runtime_io,
                                   .unix_connect = c->unix_connect, .all_threads = true,
                                   .host_connect = c->runtime_io && c->host_net};
    int rc = confine_files(c, st, &p);
    if (rc)
        return rc;
    if (st->mount_ns && pivot_to_empty_root(c->user_net)) {
        rv_warn("%s; the host file system stays visible", rv_error_get());
        st->mount_ns = false;
    }
    if (geteuid() == 0) {
        st->caps_dropped = drop_capabilities() == 0;
        if (!st->caps_dropped)
            rv_warn("%s", rv_error_get());
    }
    /* Set here, once, so it can be reported; the filter's TSYNC spreads it to every thread
     * (seccomp(2)). prctl is not on the allowlist afterwards. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return rv_error_set(-errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    st->no_new_privs = true;
    rc = rv_seccomp_install(&p, &st->syscalls);
    if (rc)
        return rc;
    st->seccomp = true;
    return 0;
}
