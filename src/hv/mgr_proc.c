/* VM processes of the manager (mgr_proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "hv/mgr_proc.h"

/* The child of clone3(): only async-signal-safe calls until execve. Failures go to `err`. */
static void child_exec(const char *exe, char *const argv[], const char *dir, int err)
{
    sigset_t none;
    sigemptyset(&none);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL); /* SIGKILL, SIGSTOP and glibc's own fail: harmless */
    sigprocmask(SIG_SETMASK, &none, NULL);
    int fd0 = open("/dev/null", O_RDONLY), fd1 = open("/dev/null", O_WRONLY);
    if (setsid() >= 0 && chdir(dir) == 0 && fd0 >= 0 && fd1 >= 0 && dup2(fd0, 0) == 0 &&
        dup2(fd1, 1) == 1) {
        int log = open(RV_MGR_RUN_LOG, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (log >= 0 && dup2(log, 2) == 2) {
            if (log > 2)
                close(log);
            execve(exe, argv, environ);
        }
    }
    int e = errno;
    if (write(err, &e, sizeof(e)) < 0)
        _exit(126);
    _exit(127);
}

/* As root: the VM process becomes PID 1 of a new PID namespace (docs/sandbox.md). Returns
 * 0, or -errno when the kernel (or a container) refuses one: the caller falls back. */
static int spawn_new_pidns(const char *exe, char *const argv[], const char *dir, pid_t *pid)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    struct clone_args ca = {.flags = CLONE_NEWPID, .exit_signal = SIGCHLD};
    long r = syscall(SYS_clone3, &ca, sizeof(ca));
    if (r == 0)
        child_exec(exe, argv, dir, pipefd[1]);
    int e = errno;
    close(pipefd[1]);
    if (r < 0) {
        close(pipefd[0]);
        return -e;
    }
    int child_err = 0;
    ssize_t n;
    do {
        n = read(pipefd[0], &child_err, sizeof(child_err));
    } while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n > 0) { /* exec failed: the child has exited */
        waitpid((pid_t)r, NULL, 0);
        return rv_error_set(-child_err, "cannot start %s: %s", exe, strerror(child_err));
    }
    *pid = (pid_t)r;
    return 0;
}

int rv_mgr_spawn(const char *exe, char *const argv[], const char *dir, pid_t *pid)
{
    if (geteuid() == 0) {
        int rc = spawn_new_pidns(exe, argv, dir, pid);
        if (rc == 0 || (rc != -EPERM && rc != -ENOSYS && rc != -EINVAL))
            return rc;
        rv_warn("manager: no PID namespace for the VM (clone3: %s)", strerror(-rc));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    /* The manager blocks the signals its signalfd takes; the VM must not inherit that. */
    int rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                                 POSIX_SPAWN_SETSIGDEF);
    rc = rc ? rc : posix_spawnattr_setsigmask(&attr, &none);
    rc = rc ? rc : posix_spawnattr_setsigdefault(&attr, &all);
    rc = rc ? rc : posix_spawn_file_actions_addchdir_np(&fa, dir);
    rc = rc ? rc : posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    rc = rc ? rc : posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    rc = rc ? rc : posix_spawn_file_actions_addopen(&fa, 2, RV_MGR_RUN_LOG,
                                                    O_WRONLY | O_CREAT | O_APPEND, 0600);
    rc = rc ? rc : posix_spawn(pid, exe, &fa, &attr, argv, environ); /* HOME, RVISOR_* */
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc)
        return rv_error_set(-rc, "cannot start %s: %s", exe, strerror(rc));
    return 0;
}

uint64_t rv_mgr_proc_starttime(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    /* proc(5): the command name (field 2) is in parentheses and may hold anything, so count
     * fields from the last ')': field 3 follows it, the start time is field 22. */
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

static bool cmdline_is_vm(pid_t pid)
{
    char path[64], buf[8192];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    bool run = false, api = false;
    const char *prev = NULL;
    int i = 0;
    for (const char *a = buf; a < buf + n; a += strlen(a) + 1, i++) {
        if (i == 1)
            run = strcmp(a, "run") == 0;
        if (prev && strcmp(prev, "--api-socket") == 0 && strcmp(a, RV_MGR_API_SOCK) == 0)
            api = true;
        prev = a;
    }
    return run && api;
}

bool rv_mgr_proc_is_vm(pid_t pid, uint64_t starttime, const char *dir, bool *in_dir)
{
    *in_dir = false;
    if (pid <= 0 || !starttime || rv_mgr_proc_starttime(pid) != starttime || !cmdline_is_vm(pid))
        return false;
    char path[64], cwd[PATH_MAX], want[PATH_MAX];
    snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
    ssize_t n = readlink(path, cwd, sizeof(cwd) - 1);
    if (n > 0 && realpath(dir, want)) {
        cwd[n] = 0;
        *in_dir = strcmp(cwd, want) == 0;
    }
    return true;
}
