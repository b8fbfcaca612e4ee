/* The VM process's seccomp allowlist (seccomp.h). Each entry says which thread kinds need the
 * call; argument filters narrow the dangerous ones. docs/sandbox.md explains every line. */
#include "hv/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "core/error.h"

/* Calls with no argument filter. Thread kinds: H hart, D disk worker, N net (virtio-net
 * transmit worker, slirp or tap thread), A API server, C console I/O, M main. */
static const char *const plain[] = {
    /* everyone: memory, locks, time, signals, thread exit */
    "read", "write", "readv", "writev", /* writev: the tap backend's frames */
    "close", "futex", "munmap", "mremap", "madvise", "brk", "mincore",
    "rt_sigprocmask", "rt_sigreturn", "sched_yield", "exit", "exit_group", "restart_syscall",
    "clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "getpid", "gettid",
    "getrandom",            /* H: virtio-rng; glibc malloc */
    "rseq", "set_robust_list", /* every new thread (glibc) */
    "sigaltstack",          /* a thread's own signal stack (ASan sets one up on every thread) */
    "poll", "ppoll",        /* C, N, M (console output backpressure) */
    "fstat", "newfstatat",  /* D, N: stdio and libslirp */
    "lseek",
    "pread64", "pwrite64", "preadv", "pwritev", "fdatasync", "fsync", "fallocate", /* D */
    "ftruncate",            /* D: O_DIRECT writes past an unaligned end are cut back */
    "epoll_wait", "epoll_pwait", "epoll_ctl", /* A */
    "accept4", "recvfrom", "sendto", /* A (N too with user networking) */
};

/* Calls on connected sockets: libslirp's (user networking), the control API's recvmsg (a
 * descriptor sent with a request, SCM_RIGHTS: the migration's connection) and the migration's
 * on that connection (runtime_io). */
static const char *const socket_io[] = {
    "getsockopt", "setsockopt", "getsockname", "getpeername", "sendmsg", "recvmsg", "shutdown",
};

/* Calls only libslirp's thread makes (user networking). */
static const char *const user_net[] = {"bind", "listen", "accept"};

/* One argument comparison, every field set (libseccomp's SCMP_Ax macros leave datum_b out). */
#define ARG(index, op, a, b) ((struct scmp_arg_cmp){(index), (op), (a), (b)})

/* With runtime_io, besides socket_io and the directory calls on the fsjail descriptors: what
 * snapshots, migration and volume reloads do after set-up (measured:
 * bench/sandbox-runtime-syscalls.sh). No call here takes a path. */
static const char *const runtime_io[] = {
    "dup",                 /* volumes: one descriptor per PV for the I/O, the VG keeps its own */
    "flock",               /* volumes: the VG and in-use locks, taken again at a reload */
};

/* With host_connect (a migration source on the host's network connecting by itself, without a
 * descriptor from `rvisor migrate`): getaddrinfo of the destination's host name (resolver). */
static const char *const host_connect[] = {"uname", "sendmmsg", "recvmmsg"};

static int add(scmp_filter_ctx ctx, const char *name, unsigned *count, unsigned nargs,
               const struct scmp_arg_cmp *args)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return rv_error_set(-ENOSYS, "seccomp: unknown system call %s", name);
    int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, nargs, args);
    if (rc)
        return rv_error_set(rc, "seccomp: cannot allow %s: %s", name, strerror(-rc));
    (*count)++;
    return 0;
}

static int add_list(scmp_filter_ctx ctx, const char *const *names, size_t count, unsigned *n)
{
    int rc = 0;
    for (size_t i = 0; i < count && !rc; i++)
        rc = add(ctx, names[i], n, 0, NULL);
    return rc;
}

/* One call allowed under several alternative argument conditions (one rule each, OR'ed). */
static int add_each(scmp_filter_ctx ctx, const char *name, unsigned *count,
                    const struct scmp_arg_cmp *alts, unsigned nalts)
{
    int rc = 0;
    for (unsigned i = 0; i < nalts && !rc; i++)
        rc = add(ctx, name, count, 1, &alts[i]);
    if (!rc && nalts > 1)
        *count -= nalts - 1; /* one system call */
    return rc;
}

/* unlinkat, renameat(2), openat and openat2 relative to one directory descriptor only (rules
 * are counted by the caller: the same calls for every directory). A rename may go from one
 * directory to another: the target's descriptor is checked against every directory. */
static int add_dir(scmp_filter_ctx ctx, int fd, const int *all, unsigned nall)
{
    const struct scmp_arg_cmp at = ARG(0, SCMP_CMP_EQ, (scmp_datum_t)fd, 0);
    unsigned uncounted = 0;
    int rc = add(ctx, "unlinkat", &uncounted, 1, &at);
    if (!rc)
        rc = add(ctx, "openat", &uncounted, 1, &at);
    if (!rc)
        rc = add(ctx, "openat2", &uncounted, 1, &at);
    for (unsigned i = 0; i < nall && !rc; i++) {
        const struct scmp_arg_cmp both[] = {at, ARG(2, SCMP_CMP_EQ, (scmp_datum_t)all[i], 0)};
        rc = add(ctx, "renameat", &uncounted, 2, both);
        if (!rc)
            rc = add(ctx, "renameat2", &uncounted, 2, both);
    }
    return rc;
}

/* Switch ports: a SOCK_SEQPACKET unix socket, connected to a name relative to one of the
 * directories after an fchdir into it, then chdir("/") back (core/fsjail.h). */
static int add_unix(scmp_filter_ctx ctx, unsigned *n, const int *dirs, unsigned ndirs)
{
    const struct scmp_arg_cmp seqpacket[] = {
        ARG(0, SCMP_CMP_EQ, AF_UNIX, 0),
        ARG(1, SCMP_CMP_MASKED_EQ, ~(scmp_datum_t)(SOCK_CLOEXEC | SOCK_NONBLOCK),
            SOCK_SEQPACKET),
    };
    unsigned uncounted = 0;
    int rc = add(ctx, "socket", &uncounted, 2, seqpacket); /* counted with the IP sockets */
    if (!rc)
        rc = add(ctx, "chdir", n, 0, NULL);
    for (unsigned i = 0; i < ndirs && !rc; i++) {
        const struct scmp_arg_cmp at = ARG(0, SCMP_CMP_EQ, (scmp_datum_t)dirs[i], 0);
        rc = add(ctx, "fchdir", &uncounted, 1, &at);
    }
    if (!rc && ndirs)
        (*n)++;
    return rc;
}

static int add_filtered(scmp_filter_ctx ctx, const struct rv_seccomp_profile *p, unsigned *n)
{
    /* Thread creation only: clone must share the address space as a thread (no fork). glibc
     * tries clone3 first, whose flags seccomp cannot see: ENOSYS makes it use clone. */
    const struct scmp_arg_cmp thread =
        ARG(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD | CLONE_VM, CLONE_THREAD | CLONE_VM);
    int rc = add(ctx, "clone", n, 1, &thread);
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    /* No new executable memory: the translator mapped its code caches during set-up. */
    const struct scmp_arg_cmp noexec = ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
    if (!rc)
        rc = add(ctx, "mmap", n, 1, &noexec);
    if (!rc)
        rc = add(ctx, "mprotect", n, 1, &noexec);
    /* Signals to this process only (abort(), pthread_kill). */
    const struct scmp_arg_cmp self = ARG(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0);
    if (!rc)
        rc = add(ctx, "tgkill", n, 1, &self);
    const struct scmp_arg_cmp ioctls[] = {
        ARG(1, SCMP_CMP_EQ, FIONREAD, 0), ARG(1, SCMP_CMP_EQ, TCGETS, 0),   /* N (slirp), C, M */
        ARG(1, SCMP_CMP_EQ, TCSETS, 0), ARG(1, SCMP_CMP_EQ, TCSETSW, 0),    /* M: restore the tty */
        ARG(1, SCMP_CMP_EQ, TCSETSF, 0), ARG(1, SCMP_CMP_EQ, TIOCGWINSZ, 0),
        ARG(1, SCMP_CMP_EQ, BLKGETSIZE64, 0), /* volumes on block devices, at a reload */
    };
    if (!rc)
        rc = add_each(ctx, "ioctl", n, ioctls, 7);
    const struct scmp_arg_cmp fcntls[] = {
        ARG(1, SCMP_CMP_EQ, F_GETFL, 0), ARG(1, SCMP_CMP_EQ, F_SETFL, 0),
        ARG(1, SCMP_CMP_EQ, F_GETFD, 0), ARG(1, SCMP_CMP_EQ, F_SETFD, 0),
    };
    /* Volumes take OFD record locks (F_OFD_SETLK) when they reload their metadata. */
    if (!rc)
        rc = p->runtime_io ? add(ctx, "fcntl", n, 0, NULL) : add_each(ctx, "fcntl", n, fcntls, 4);
    if (!rc && (p->user_net || p->host_connect || p->unix_connect))
        rc = add(ctx, "connect", n, 0, NULL);
    if (!rc && (p->user_net || p->host_connect)) {
        const struct scmp_arg_cmp inet[] = {ARG(0, SCMP_CMP_EQ, AF_INET, 0),
                                            ARG(0, SCMP_CMP_EQ, AF_INET6, 0)};
        rc = add_each(ctx, "socket", n, inet, 2);
    }
    if (!rc && p->user_net) {
        /* Read-only opens (no O_CREAT, O_TRUNC, O_APPEND, no write access): libslirp reads
         * /etc/resolv.conf. Under the sandbox's mount namespace that file is all there is. */
        const struct scmp_arg_cmp rdonly = ARG(
            2, SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE, O_RDONLY);
        if (!rc)
            rc = add(ctx, "openat", n, 1, &rdonly);
    }
    int dirs[RV_SECCOMP_MAX_DIRS];
    unsigned ndirs = 0;
    for (unsigned i = 0; i < RV_SECCOMP_MAX_DIRS; i++)
        if (p->dir_fds[i] >= 0)
            dirs[ndirs++] = p->dir_fds[i];
    for (unsigned i = 0; i < ndirs && !rc; i++)
        rc = add_dir(ctx, dirs[i], dirs, ndirs);
    if (!rc && p->unix_connect && p->runtime_io)
        rc = add_unix(ctx, n, dirs, ndirs);
    if (ndirs) /* openat is already counted with the read-only opens */
        *n += p->user_net ? 4 : 5;
    return rc;
}

int rv_seccomp_install(const struct rv_seccomp_profile *p, unsigned *count)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx)
        return rv_error_set(-ENOMEM, "seccomp: cannot create a filter");
    unsigned n = 0;
    int rc = 0;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]) && !rc; i++)
        rc = add(ctx, plain[i], &n, 0, NULL);
    if (p->user_net || p->runtime_io)
        rc = add_list(ctx, socket_io, sizeof(socket_io) / sizeof(socket_io[0]), &n);
    if (!rc && p->user_net)
        rc = add_list(ctx, user_net, sizeof(user_net) / sizeof(user_net[0]), &n);
    if (!rc && p->runtime_io)
        rc = add_list(ctx, runtime_io, sizeof(runtime_io) / sizeof(runtime_io[0]), &n);
    if (!rc && p->host_connect)
        rc = add_list(ctx, host_connect, sizeof(host_connect) / sizeof(host_connect[0]), &n);
    if (!rc)
        rc = add_filtered(ctx, p, &n);
    if (!rc && p->all_threads && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)))
        rv_error_set(rc, "seccomp: thread synchronisation unsupported: %s", strerror(-rc));
    if (!rc && (rc = seccomp_load(ctx)))
        rv_error_set(rc, "seccomp: cannot load the filter: %s", strerror(-rc));
    seccomp_release(ctx);
    if (!rc && count)
        *count = n;
    return rc;
}
