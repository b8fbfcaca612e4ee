/* The VM process's seccomp allowlist (hv/seccomp.h), tested for real: each case forks a child
 * that installs the same filter rvisor run installs and then makes one system call. Calls on
 * the list work; calls outside it fail with EPERM (the filter's default action);
 * arguments outside the allowed ones (fork-style clone, executable mmap, foreign signals,
 * sockets other than IPv4/IPv6, writable opens) are refused the same way. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv/seccomp.h"
#include "test.h"

enum probe {
    P_GETPID, P_MMAP_RW, P_WRITE, P_EXECVE, P_PTRACE, P_MOUNT, P_FORK, P_MMAP_EXEC,
    P_MPROTECT_EXEC, P_KILL_OTHER, P_SOCKET_UNIX, P_SOCKET_INET, P_OPEN_RDONLY, P_OPEN_WRITE,
    P_CLONE3, P_UNLINK_OTHER, P_PRCTL, P_SETUID, P_OPENAT_DIR, P_OPENAT2_DIR, P_OPENAT2_CWD,
    P_RENAME_CWD, P_SOCKET_SEQPACKET, P_FCHDIR_DIR,
};

static bool unix_connect; /* the profile of VMs with switch ports */
static bool host_connect; /* VMs on the host's network: a migration may connect by itself */

/* A directory descriptor on the profile's list (runtime_io: the fsjail directories). */
static int dir_fd = -1;

static long openat2_probe(int dir)
{
    struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH};
    return syscall(SYS_openat2, dir, ".", &how, sizeof(how));
}

/* 0 if the call worked, 2 if it was refused with EPERM, 1 otherwise. */
static int outcome(long rc)
{
    return rc != -1 ? 0 : errno == EPERM ? 2 : 1;
}

/* Runs in the child, after the filter is installed. */
static int probe(enum probe p)
{
    char *argv[] = {"/bin/true", NULL};
    switch (p) {
    case P_GETPID: return outcome(getpid());
    case P_MMAP_RW:
        return outcome(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                            0) == MAP_FAILED ? -1 : 0);
    case P_WRITE: return outcome(write(STDOUT_FILENO, "", 0));
    case P_EXECVE: return outcome(execve("/bin/true", argv, NULL));
    case P_PTRACE: return outcome(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
    case P_MOUNT: return outcome(mount("none", "/tmp", "tmpfs", 0, NULL));
    case P_FORK: return outcome(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
    case P_MMAP_EXEC:
        return outcome(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                            0) == MAP_FAILED ? -1 : 0);
    case P_MPROTECT_EXEC: {
        void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return outcome(mprotect(m, 4096, PROT_READ | PROT_EXEC));
    }
    case P_KILL_OTHER: return outcome(syscall(SYS_tgkill, 1, 1, 0));
    case P_SOCKET_UNIX: return outcome(socket(AF_UNIX, SOCK_STREAM, 0));
    case P_SOCKET_INET: return outcome(socket(AF_INET, SOCK_DGRAM, 0));
    case P_OPEN_RDONLY: return outcome(open("/dev/null", O_RDONLY | O_CLOEXEC));
    case P_OPEN_WRITE: return outcome(open("/dev/null", O_WRONLY));
    case P_CLONE3: return syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS ? 0 : 1;
    case P_UNLINK_OTHER: return outcome(unlinkat(AT_FDCWD, "/nonexistent-rvisor-test", 0));
    case P_PRCTL: return outcome(syscall(SYS_prctl, PR_SET_NAME, "x", 0, 0, 0));
    case P_SETUID: return outcome(syscall(SYS_setuid, 0));
    case P_OPENAT_DIR: return outcome(openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    case P_OPENAT2_DIR: return outcome(openat2_probe(dir_fd));
    case P_OPENAT2_CWD: return outcome(openat2_probe(AT_FDCWD));
    case P_SOCKET_SEQPACKET: return outcome(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    case P_FCHDIR_DIR: return outcome(fchdir(dir_fd) < 0 ? -1 : chdir("/"));
    case P_RENAME_CWD: return outcome(rename("/nonexistent-rvisor-a", "/nonexistent-rvisor-b"));
    }
    return 1;
}

/* Forks, installs the filter in the child, runs the probe. Returns the child's wait status. */
static int run_child(enum probe p, bool user_net, bool runtime_io)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rv_seccomp_profile prof = {.user_net = user_net, .runtime_io = runtime_io,
                                          .unix_connect = unix_connect,
                                          .host_connect = host_connect};
        for (unsigned i = 0; i < RV_SECCOMP_MAX_DIRS; i++)
            prof.dir_fds[i] = -1;
        dir_fd = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
        prof.dir_fds[0] = runtime_io ? dir_fd : -1;
        unsigned n = 0;
        if (rv_seccomp_install(&prof, &n) || n < 30)
            _exit(99);
        _exit(probe(p));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

static bool allowed(enum probe p, bool user_net)
{
    int st = run_child(p, user_net, false);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Refused with EPERM, and the process lives on (the filter's default action). */
static bool refused(enum probe p, bool user_net)
{
    int st = run_child(p, user_net, false);
    return WIFEXITED(st) && WEXITSTATUS(st) == 2;
}

static bool refused_runtime_io(enum probe p)
{
    int st = run_child(p, true, true);
    return WIFEXITED(st) && WEXITSTATUS(st) == 2;
}

static bool allowed_runtime_io(enum probe p)
{
    int st = run_child(p, true, true);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_allowed(void)
{
    CHECK(allowed(P_GETPID, false));
    CHECK(allowed(P_MMAP_RW, false));
    CHECK(allowed(P_WRITE, false));
    CHECK(allowed(P_CLONE3, false)); /* ENOSYS: glibc falls back to clone, which is checked */
    CHECK(allowed(P_SOCKET_INET, true));
    CHECK(allowed(P_OPEN_RDONLY, true));
}

/* The profile of VMs with a control API (snapshots, migration), volumes or restored: files only
 * relative to the listed directory descriptors, IPv4/IPv6 sockets (migration), and still no
 * exec, ptrace, mount, fork or new executable memory. */
static void test_runtime_io(void)
{
    CHECK(allowed_runtime_io(P_OPENAT_DIR));
    CHECK(allowed_runtime_io(P_OPENAT2_DIR));
    CHECK(allowed_runtime_io(P_SOCKET_INET));
    CHECK(refused_runtime_io(P_OPENAT2_CWD));
    CHECK(refused_runtime_io(P_RENAME_CWD));
    CHECK(refused_runtime_io(P_UNLINK_OTHER));
    CHECK(refused_runtime_io(P_OPEN_WRITE));
    CHECK(refused_runtime_io(P_SOCKET_UNIX));
    CHECK(refused_runtime_io(P_SOCKET_SEQPACKET));
    CHECK(refused_runtime_io(P_FCHDIR_DIR));
    unix_connect = true; /* switch ports: seqpacket sockets, fchdir into a listed directory */
    CHECK(allowed_runtime_io(P_SOCKET_SEQPACKET));
    CHECK(allowed_runtime_io(P_FCHDIR_DIR));
    CHECK(refused_runtime_io(P_SOCKET_UNIX)); /* SOCK_STREAM */
    unix_connect = false;
    /* Without user networking, IPv4/IPv6 sockets only on the host's network (host_connect):
     * in a private network namespace the migration's socket comes from `rvisor migrate`. */
    CHECK(WEXITSTATUS(run_child(P_SOCKET_INET, false, true)) == 2);
    CHECK(WEXITSTATUS(run_child(P_OPENAT_DIR, false, true)) == 0);
    host_connect = true;
    CHECK(WEXITSTATUS(run_child(P_SOCKET_INET, false, true)) == 0);
    host_connect = false;
    CHECK(refused_runtime_io(P_EXECVE));
    CHECK(refused_runtime_io(P_PTRACE));
    CHECK(refused_runtime_io(P_MOUNT));
    CHECK(refused_runtime_io(P_FORK));
    CHECK(refused_runtime_io(P_MMAP_EXEC));
    CHECK(refused_runtime_io(P_SETUID));
}

static void test_refused(void)
{
    CHECK(refused(P_EXECVE, false));
    CHECK(refused(P_PTRACE, false));
    CHECK(refused(P_MOUNT, false));
    CHECK(refused(P_FORK, false));
    CHECK(refused(P_MMAP_EXEC, false));
    CHECK(refused(P_MPROTECT_EXEC, false));
    CHECK(refused(P_KILL_OTHER, false));
    CHECK(refused(P_SOCKET_UNIX, true));
    CHECK(refused(P_SOCKET_INET, false)); /* no user networking: no sockets at all */
    CHECK(refused(P_OPEN_RDONLY, false));
    CHECK(refused(P_OPEN_WRITE, true));
    CHECK(refused(P_UNLINK_OTHER, false));
    CHECK(refused(P_PRCTL, false));
    CHECK(refused(P_SETUID, false));
}

/* The filter is inherited by threads created later and by the whole process with TSYNC:
 * /proc/self/status says mode 2 (filter) and no_new_privs. */
static void test_status(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char buf[4096];
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        struct rv_seccomp_profile prof = {.all_threads = true};
        for (unsigned i = 0; i < RV_SECCOMP_MAX_DIRS; i++)
            prof.dir_fds[i] = -1;
        if (fd < 0 || rv_seccomp_install(&prof, NULL))
            _exit(99);
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = 0;
        bool ok = strstr(buf, "Seccomp:\t2") && strstr(buf, "NoNewPrivs:\t1");
        _exit(ok ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
    test_allowed();
    test_refused();
    test_runtime_io();
    test_status();
    TEST_MAIN_END();
}
