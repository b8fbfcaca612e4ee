/* The manager's state folder, VM processes and event loop (mgr.h). Requests are in
 * mgr_req.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "hv/api_client.h"
#include "hv/mgr_config.h"
#include "hv/mgr_internal.h"
#include "hv/mgr_proc.h"
#include "hv/mgr_store.h"
#include "rvisor/vm.h"

#ifndef P_PIDFD
#define P_PIDFD 3 /* waitid() on a pidfd, Linux 5.4 (linux/wait.h) */
#endif

#define TAG_SIGNAL (-1)

int64_t mgr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *mgr_state_name(enum mgr_state s)
{
    static const char *const names[] = {[MGR_DEFINED] = "defined", [MGR_RUNNING] = "running",
                                        [MGR_STOPPING] = "stopping", [MGR_STOPPED] = "stopped",
                                        [MGR_FAILED] = "failed"};
    return names[s];
}

struct mgr_vm *mgr_find(struct rv_mgr *m, const char *name)
{
    for (struct mgr_vm *vm = m->vms; vm; vm = vm->next)
        if (strcmp(vm->name, name) == 0)
            return vm;
    return NULL;
}

void mgr_path(struct rv_mgr *m, const struct mgr_vm *vm, const char *file, char *buf,
              size_t size)
{
    snprintf(buf, size, "%s/vms/%s%s%s", m->dir, vm->name, file ? "/" : "", file ? file : "");
}

static int vm_dirfd(struct rv_mgr *m, const struct mgr_vm *vm)
{
    return openat(m->vmsfd, vm->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Removes a file of the VM's folder (missing is fine). */
static void vm_unlink(struct rv_mgr *m, const struct mgr_vm *vm, const char *file)
{
    int fd = vm_dirfd(m, vm);
    if (fd >= 0) {
        unlinkat(fd, file, 0);
        close(fd);
    }
}

static int vm_write(struct rv_mgr *m, const struct mgr_vm *vm, const char *file, json_t *v)
{
    int fd = vm_dirfd(m, vm);
    if (fd < 0)
        return rv_error_set(-errno, "vms/%s: %s", vm->name, strerror(errno));
    int rc = v ? rv_mgr_write_json(fd, file, v) : rv_error_set(-ENOMEM, "out of memory");
    close(fd);
    return rc;
}

static json_t *vm_read(struct rv_mgr *m, const struct mgr_vm *vm, const char *file)
{
    int fd = vm_dirfd(m, vm);
    json_t *v = fd >= 0 ? rv_mgr_read_json(fd, file) : NULL;
    if (fd >= 0)
        close(fd);
    return v;
}

/* Inserts in name order (list is sorted, so `list` needs no sorting). */
void mgr_insert(struct rv_mgr *m, struct mgr_vm *vm)
{
    struct mgr_vm **p = &m->vms;
    while (*p && strcmp((*p)->name, vm->name) < 0)
        p = &(*p)->next;
    vm->next = *p;
    *p = vm;
    m->nvms++;
}

/* --- the end of a run --- */

/* What an exit status of `rvisor run` means (README "Exit status"); sets *failed. */
static const char *status_reason(int status, bool *failed)
{
    *failed = status != 0 && status != RV_STATUS_REBOOT && status != RV_STATUS_KILLED;
    switch (status) {
    case 0: return "powered off";
    case RV_STATUS_REBOOT: return "the guest rebooted (no-reboot)";
    case RV_STATUS_ERROR: return "rvisor failed";
    case RV_STATUS_PANIC: return "the guest kernel panicked";
    case RV_STATUS_KILLED: return "killed through its API";
    default: return "the guest reported a failure";
    }
}

/* Records how the run ended: `status` >= 0 an exit status, `sig` > 0 a signal, both < 0
 * unknown. Writes exit.json and forgets the process files. */
static void vm_ended(struct rv_mgr *m, struct mgr_vm *vm, int status, int sig, const char *how)
{
    bool failed = true;
    char reason[400], last[200];
    if (sig > 0)
        snprintf(reason, sizeof(reason), "killed by signal %d (%s)", sig, sigabbrev_np(sig)
                                                                           ? sigabbrev_np(sig)
                                                                           : "?");
    else if (status < 0)
        snprintf(reason, sizeof(reason), "ended without an exit status (killed?)");
    else
        snprintf(reason, sizeof(reason), "%s", status_reason(status, &failed));
    if (status == RV_STATUS_ERROR || status == RV_STATUS_PANIC || (status < 0 && sig <= 0)) {
        int fd = vm_dirfd(m, vm);
        rv_mgr_last_line(fd, RV_MGR_RUN_LOG, last, sizeof(last));
        if (fd >= 0)
            close(fd);
        if (last[0] && status >= 0)
            snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason), ": %s", last);
    }
    if (how)
        snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason), " (%s)", how);
    if (vm->stop_asked)
        failed = false;
    vm->state = failed ? MGR_FAILED : MGR_STOPPED;
    json_decref(vm->exit);
    vm->exit = json_pack("{s:s,s:o,s:o,s:s}", "state", mgr_state_name(vm->state), "status",
                         status >= 0 ? json_integer(status) : json_null(), "signal",
                         sig > 0 ? json_integer(sig) : json_null(), "reason", reason);
    if (vm_write(m, vm, "exit.json", vm->exit))
        rv_warn("manager: %s", rv_error_get());
    static const char *const stale[] = {"pid.json", RV_MGR_STATUS_FILE, RV_MGR_API_SOCK,
                                        RV_MGR_CONSOLE_SOCK};
    for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++)
        vm_unlink(m, vm, stale[i]);
    vm->pid = 0;
    vm->stop_asked = false;
    vm->kill_at_ms = 0;
    rv_info("manager: %s %s: %s", vm->name, mgr_state_name(vm->state), reason);
}

/* The status `rvisor run` wrote itself (for processes that are not our children). */
static int status_file(struct rv_mgr *m, struct mgr_vm *vm)
{
    int fd = vm_dirfd(m, vm);
    char buf[32] = "";
    if (fd >= 0) {
        int sfd = openat(fd, RV_MGR_STATUS_FILE, O_RDONLY | O_CLOEXEC);
        if (sfd >= 0) {
            ssize_t n = read(sfd, buf, sizeof(buf) - 1);
            buf[n > 0 ? n : 0] = 0;
            close(sfd);
        }
        close(fd);
    }
    char *end;
    long v = strtol(buf, &end, 10);
    return end != buf && v >= 0 && v < 256 ? (int)v : -1;
}

void mgr_vm_reap(struct rv_mgr *m, struct mgr_vm *vm)
{
    if (vm->pidfd < 0)
        return;
    siginfo_t si = {0};
    int status = -1, sig = -1;
    int r = vm->child ? waitid((idtype_t)P_PIDFD, (id_t)vm->pidfd, &si, WEXITED | WNOHANG) : -1;
    if (r == 0 && si.si_pid == 0)
        return; /* not ended yet */
    if (r == 0 && si.si_code == CLD_EXITED)
        status = si.si_status;
    else if (r == 0)
        sig = si.si_status;
    else
        status = status_file(m, vm); /* not our child: what it wrote itself, if anything */
    epoll_ctl(m->epfd, EPOLL_CTL_DEL, vm->pidfd, NULL);
    close(vm->pidfd);
    vm->pidfd = -1;
    vm_ended(m, vm, status, sig, vm->child ? NULL : "adopted process");
}

void mgr_vm_signal(struct mgr_vm *vm, int sig)
{
    if (vm->pidfd >= 0 && pidfd_send_signal(vm->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
        rv_warn("manager: %s: signal %d: %s", vm->name, sig, strerror(errno));
}

/* --- starting and adopting --- */

static int watch_process(struct rv_mgr *m, struct mgr_vm *vm, pid_t pid, bool child)
{
    vm->pidfd = pidfd_open(pid, 0);
    if (vm->pidfd < 0)
        return rv_error_set(-errno, "pidfd_open(%d): %s", (int)pid, strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = vm->pidfd};
    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, vm->pidfd, &ev) < 0) {
        int rc = rv_error_set(-errno, "epoll_ctl: %s", strerror(errno));
        close(vm->pidfd);
        vm->pidfd = -1;
        return rc;
    }
    vm->pid = pid;
    vm->child = child;
    vm->state = MGR_RUNNING;
    vm->stop_asked = false;
    vm->kill_at_ms = 0;
    return 0;
}

/* Builds `rvisor run` with the configuration and the manager's own options. */
static char **run_argv(json_t *config, json_t **keep)
{
    json_t *args = rv_mgr_config_to_args(config);
    *keep = args;
    if (!args)
        return NULL;
    static const char *const fixed[] = {"--api-socket", RV_MGR_API_SOCK, "--console",
                                        "socket:" RV_MGR_CONSOLE_SOCK ",log=" RV_MGR_CONSOLE_LOG,
                                        "--status-file", RV_MGR_STATUS_FILE, "--private-net"};
    size_t n = json_array_size(args), nfixed = sizeof(fixed) / sizeof(fixed[0]);
    char **argv = calloc(n + nfixed + 3, sizeof(char *));
    if (!argv)
        return NULL;
    argv[0] = (char *)"rvisor";
    argv[1] = (char *)"run";
    for (size_t i = 0; i < n; i++)
        argv[2 + i] = (char *)json_string_value(json_array_get(args, i));
    for (size_t i = 0; i < nfixed; i++)
        argv[2 + n + i] = (char *)fixed[i];
    return argv;
}

int mgr_vm_start(struct rv_mgr *m, struct mgr_vm *vm)
{
    char dir[PATH_MAX];
    mgr_path(m, vm, NULL, dir, sizeof(dir));
    static const char *const old[] = {RV_MGR_STATUS_FILE, "exit.json", RV_MGR_API_SOCK,
                                      RV_MGR_CONSOLE_SOCK};
    for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++)
        vm_unlink(m, vm, old[i]);
    json_t *keep;
    char **argv = run_argv(vm->config, &keep);
    pid_t pid;
    int rc = argv ? rv_mgr_spawn(m->exe, argv, dir, &pid) : rv_error_set(-ENOMEM, "no memory");
    free(argv);
    json_decref(keep);
    if (rc)
        return rc;
    rc = watch_process(m, vm, pid, true);
    if (rc) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return rc;
    }
    vm->starttime = rv_mgr_proc_starttime(pid);
    vm->started_ms = wall_ms();
    json_decref(vm->exit);
    vm->exit = NULL;
    json_t *pidinfo = json_pack("{s:i,s:I,s:I}", "pid", (int)pid, "starttime",
                                (json_int_t)vm->starttime, "started_ms",
                                (json_int_t)vm->started_ms);
    if (vm_write(m, vm, "pid.json", pidinfo))
        rv_warn("manager: %s: %s (the VM will not be re-adopted)", vm->name, rv_error_get());
    json_decref(pidinfo);
    rv_info("manager: %s started, pid %d", vm->name, (int)pid);
    return 0;
}

/* A VM found with a pid.json: its process is re-adopted if it is still that VM; otherwise
 * the run ended while no manager watched, and the exit is recorded. */
static void vm_adopt(struct rv_mgr *m, struct mgr_vm *vm, json_t *pidinfo)
{
    char dir[PATH_MAX];
    mgr_path(m, vm, NULL, dir, sizeof(dir));
    pid_t pid = (pid_t)json_integer_value(json_object_get(pidinfo, "pid"));
    uint64_t start = (uint64_t)json_integer_value(json_object_get(pidinfo, "starttime"));
    bool in_dir;
    bool is_vm = rv_mgr_proc_is_vm(pid, start, dir, &in_dir);
    if (is_vm && !in_dir) {
        /* Its working folder is not visible from here (another mount namespace, e.g. a
         * sandbox): the VM's API answering at its socket identifies it instead. */
        char api[PATH_MAX];
        json_t *r = NULL;
        mgr_path(m, vm, RV_MGR_API_SOCK, api, sizeof(api));
        is_vm = rv_api_call(api, "status", NULL, 2000, &r) == 0 &&
                json_is_true(json_object_get(r, "ok"));
        json_decref(r);
    }
    if (is_vm && watch_process(m, vm, pid, false) == 0) {
        vm->starttime = start;
        vm->started_ms = json_integer_value(json_object_get(pidinfo, "started_ms"));
        rv_info("manager: %s re-adopted, pid %d", vm->name, (int)pid);
        return;
    }
    vm_ended(m, vm, status_file(m, vm), -1, "ended while no manager was running");
}

static void vm_free(struct mgr_vm *vm)
{
    if (vm->pidfd >= 0)
        close(vm->pidfd);
    json_decref(vm->config);
    json_decref(vm->exit);
    free(vm);
}

/* Loads vms/NAME: its definition, then its process or its last exit. Leftovers of an
 * interrupted create or delete (no config.json) and of atomic writes are removed. */
static void load_vm(struct rv_mgr *m, const char *name)
{
    struct rv_api_error err;
    if (rv_mgr_check_name(name, &err)) {
        rv_warn("manager: ignoring vms/%s: not a VM name", name);
        return;
    }
    struct mgr_vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return;
    vm->pidfd = -1;
    snprintf(vm->name, sizeof(vm->name), "%.64s", name);
    int fd = vm_dirfd(m, vm);
    json_t *def = fd >= 0 ? rv_mgr_read_json(fd, "config.json") : NULL;
    if (fd >= 0 && !def && faccessat(fd, "config.json", F_OK, 0) != 0) {
        rv_info("manager: removing vms/%s (no definition: an interrupted create/delete)", name);
        close(fd);
        rv_mgr_remove_dir(m->vmsfd, name);
        free(vm);
        return;
    }
    if (fd >= 0) {
        unlinkat(fd, "config.json" RV_MGR_TMP_SUFFIX, 0);
        unlinkat(fd, "pid.json" RV_MGR_TMP_SUFFIX, 0);
        unlinkat(fd, "exit.json" RV_MGR_TMP_SUFFIX, 0);
        unlinkat(fd, RV_MGR_STATUS_FILE RV_MGR_TMP_SUFFIX, 0);
        close(fd);
    }
    json_t *config = json_object_get(def, "config");
    const char *dname = json_string_value(json_object_get(def, "name"));
    if (!def || !dname || strcmp(dname, name) || rv_mgr_config_check(config, &err)) {
        rv_warn("manager: ignoring vms/%s: bad config.json (%s)", name,
                def ? err.message : "unreadable");
        json_decref(def);
        free(vm);
        return;
    }
    vm->config = json_incref(config);
    json_decref(def);
    mgr_insert(m, vm);
    json_t *pidinfo = vm_read(m, vm, "pid.json");
    if (pidinfo) {
        vm_adopt(m, vm, pidinfo);
        json_decref(pidinfo);
        return;
    }
    vm->exit = vm_read(m, vm, "exit.json");
    const char *st = json_string_value(json_object_get(vm->exit, "state"));
    vm->state = !st ? MGR_DEFINED : strcmp(st, "failed") == 0 ? MGR_FAILED : MGR_STOPPED;
}

static int load_all(struct rv_mgr *m)
{
    int fd = dup(m->vmsfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return rv_error_set(-errno, "%s/vms: %s", m->dir, strerror(errno));
    }
    rewinddir(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            load_vm(m, e->d_name);
    closedir(d);
    return 0;
}

/* --- open / run / close --- */

static int open_folder(struct rv_mgr *m, const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return rv_error_set(-errno, "%s: %s", dir, strerror(errno));
    m->dir = realpath(dir, NULL);
    if (!m->dir)
        return rv_error_set(-errno, "%s: %s", dir, strerror(errno));
    m->dirfd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m->dirfd < 0)
        return rv_error_set(-errno, "%s: %s", m->dir, strerror(errno));
    m->lockfd = openat(m->dirfd, "manager.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m->lockfd < 0)
        return rv_error_set(-errno, "%s/manager.lock: %s", m->dir, strerror(errno));
    if (flock(m->lockfd, LOCK_EX | LOCK_NB) < 0)
        return rv_error_set(errno == EWOULDBLOCK ? -EBUSY : -errno,
                            "%s: %s", m->dir, errno == EWOULDBLOCK
                                                  ? "another rvisor serve manages this folder"
                                                  : strerror(errno));
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
    if (ftruncate(m->lockfd, 0) < 0 || pwrite(m->lockfd, pid, (size_t)n, 0) != n)
        rv_warn("manager: cannot write manager.lock: %s", strerror(errno));
    if (mkdirat(m->dirfd, "vms", 0700) < 0 && errno != EEXIST)
        return rv_error_set(-errno, "%s/vms: %s", m->dir, strerror(errno));
    m->vmsfd = openat(m->dirfd, "vms", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (m->vmsfd < 0)
        return rv_error_set(-errno, "%s/vms: %s", m->dir, strerror(errno));
    return 0;
}

static char *mgr_handler(void *ctx, const char *line, size_t len, int *fd)
{
    (void)fd; /* the manager takes no descriptors: the server closes them */
    return rv_mgr_handle_line(ctx, line, len);
}

static int open_events(struct rv_mgr *m)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* Blocked before any thread starts, so that only the signalfd sees them. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (m->sigfd < 0 || m->epfd < 0)
        return rv_error_set(-errno, "signalfd/epoll: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = TAG_SIGNAL};
    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->sigfd, &ev) < 0)
        return rv_error_set(-errno, "epoll_ctl: %s", strerror(errno));
    return 0;
}

int rv_mgr_open(const char *dir, const char *socket_path, const char *exe, struct rv_mgr **out)
{
    struct rv_mgr *m = calloc(1, sizeof(*m));
    if (!m)
        return rv_error_set(-ENOMEM, "out of memory");
    pthread_mutex_init(&m->lock, NULL);
    m->dirfd = m->vmsfd = m->lockfd = m->epfd = m->sigfd = -1;
    m->exe = strdup(exe);
    int rc = m->exe ? open_events(m) : rv_error_set(-ENOMEM, "out of memory");
    rc = rc ? rc : open_folder(m, dir);
    rc = rc ? rc : load_all(m);
    char sock[PATH_MAX];
    if (!rc)
        snprintf(sock, sizeof(sock), "%s", socket_path ? socket_path : "manager.sock");
    if (!rc && !socket_path)
        snprintf(sock, sizeof(sock), "%s/manager.sock", m->dir);
    rc = rc ? rc : rv_api_server_start_handler(mgr_handler, m, sock, &m->server);
    if (rc) {
        rv_mgr_close(m);
        return rc;
    }
    rv_info("manager: serving %s (%u VMs) on %s", m->dir, m->nvms, sock);
    *out = m;
    return 0;
}

static void check_deadlines(struct rv_mgr *m)
{
    int64_t now = mgr_now_ms();
    for (struct mgr_vm *vm = m->vms; vm; vm = vm->next) {
        if (vm->pidfd >= 0 && vm->kill_at_ms && now >= vm->kill_at_ms) {
            rv_info("manager: %s did not stop in time: killing it", vm->name);
            mgr_vm_signal(vm, SIGKILL);
            vm->kill_at_ms = 0;
        }
    }
}

/* Console logs of running VMs are rotated from here: the VM process may be sandboxed and
 * unable to rename or open files (console_sock.h). */
static void rotate_logs(struct rv_mgr *m)
{
    for (struct mgr_vm *vm = m->vms; vm; vm = vm->next) {
        int fd = vm->pidfd >= 0 ? vm_dirfd(m, vm) : -1;
        if (fd < 0)
            continue;
        if (rv_mgr_rotate_log(fd, RV_MGR_CONSOLE_LOG, RV_MGR_CONSOLE_LOG_MAX) < 0)
            rv_warn("manager: %s: %s", vm->name, rv_error_get());
        close(fd);
    }
}

int rv_mgr_run(struct rv_mgr *m)
{
    int64_t next_rotation = 0;
    for (;;) {
        struct epoll_event evs[16];
        int n = epoll_wait(m->epfd, evs, 16, 200);
        if (n < 0 && errno != EINTR)
            return rv_error_set(-errno, "epoll_wait: %s", strerror(errno));
        pthread_mutex_lock(&m->lock);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == TAG_SIGNAL) {
                pthread_mutex_unlock(&m->lock);
                rv_info("manager: stopping on a signal; the VMs keep running");
                return 0;
            }
            for (struct mgr_vm *vm = m->vms; vm; vm = vm->next)
                if (vm->pidfd == evs[i].data.fd)
                    mgr_vm_reap(m, vm);
        }
        check_deadlines(m);
        if (mgr_now_ms() >= next_rotation) {
            rotate_logs(m);
            next_rotation = mgr_now_ms() + 2000;
        }
        pthread_mutex_unlock(&m->lock);
    }
}

void rv_mgr_close(struct rv_mgr *m)
{
    if (!m)
        return;
    rv_api_server_stop(m->server); /* no request runs after this */
    while (m->vms) {
        struct mgr_vm *vm = m->vms;
        m->vms = vm->next;
        vm_free(vm);
    }
    int fds[] = {m->vmsfd, m->dirfd, m->epfd, m->sigfd, m->lockfd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    pthread_mutex_destroy(&m->lock);
    free(m->dir);
    free(m->exe);
    free(m);
}
