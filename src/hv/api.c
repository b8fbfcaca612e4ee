/* The control API server (api.h): a thread, an epoll loop over the listening socket, a stop
 * eventfd and up to RV_API_MAX_CLIENTS connections, each with its own line buffer. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/error.h"
#include "core/path_at.h"
#include "core/log.h"
#include "hv/api.h"
#include "hv/api_schema.h"
#include "hv/api_state.h"

#define TAG_LISTEN 1000u
#define TAG_STOP 1001u

struct api_client {
    int fd;            /* -1: free slot */
    char *buf;         /* RV_API_MAX_LINE bytes: the line being received */
    size_t len;
    bool discarding;   /* the current line was too long: skip to its newline */
    int passed_fd;     /* a descriptor that came with the current line (SCM_RIGHTS), or -1 */
};

struct rv_api_server {
    rv_api_handler *handle;
    void *ctx;
    char *path;
    struct rv_path_at at; /* the socket, removed through its directory (also in a sandbox) */
    int listen_fd, epoll_fd, stop_fd;
    pthread_t thread;
    struct api_client clients[RV_API_MAX_CLIENTS];
};

static const char *const state_names[] = {
    [RV_VM_RUNNING] = "running", [RV_VM_PAUSED] = "paused", [RV_VM_STOPPED] = "stopped"};

/* --- requests -> machine calls --- */

static json_t *state_result(struct rv_vm *vm)
{
    return json_pack("{s:s}", "state", state_names[rv_vm_state(vm)]);
}

static json_t *host_result(const struct rv_vm_host_info *h)
{
    return json_pack("{s:b,s:i,s:b,s:b,s:b,s:b,s:s,s:s}", "seccomp", h->sandbox, "syscalls",
                     (int)h->syscalls, "no_new_privs", h->no_new_privs, "mount_ns", h->mount_ns,
                     "net_ns", h->net_ns, "caps_dropped", h->caps_dropped, "cpu_limit",
                     h->cpu_limit, "io_limits", h->io_limits);
}

static json_t *memory_result(struct rv_vm *vm)
{
    struct rv_vm_memory m;
    rv_vm_get_memory(vm, &m);
    return json_pack("{s:I,s:I,s:I,s:I,s:I}", "ram_resident_kib",
                     (json_int_t)(m.ram_resident >> 10), "jit_reserved_kib",
                     (json_int_t)(m.jit_reserved >> 10), "jit_resident_kib",
                     (json_int_t)(m.jit_resident >> 10), "process_rss_kib",
                     (json_int_t)(m.process_rss >> 10), "monitor_rss_kib",
                     (json_int_t)(m.monitor_rss >> 10));
}

static json_t *status_result(struct rv_vm *vm)
{
    struct rv_vm_info info;
    rv_vm_get_info(vm, &info);
    const char *button = !info.power_button          ? "absent"
                         : info.power_button_driver ? "ready"
                                                    : "no-driver";
    const char *mmu = rv_vm_mmu_name(info.mmu);
    return json_pack("{s:s,s:I,s:i,s:I,s:s,s:s,s:b,s:s,s:o*,s:o*}", "state",
                     state_names[info.state], "uptime_ms",
                     (json_int_t)(info.uptime_ns / 1000000), "vcpus", (int)info.nharts,
                     "memory_mib", (json_int_t)(info.ram_size >> 20), "accel",
                     info.jit ? "jit" : "interp", "mmu", mmu ? mmu : "", "balloon", info.balloon,
                     "power_button",
                     button, "memory", memory_result(vm), "sandbox", host_result(&info.host));
}

/* {name: count} of the nonzero counters (names[i] NULL: "cause_<i>"). */
static json_t *counts_object(const uint64_t *counts, unsigned n, const char *const *names)
{
    json_t *o = json_object();
    for (unsigned i = 0; o && i < n; i++) {
        if (!counts[i])
            continue;
        char name[32];
        if (names[i])
            snprintf(name, sizeof(name), "%s", names[i]);
        else
            snprintf(name, sizeof(name), "cause_%u", i);
        json_object_set_new(o, name, json_integer((json_int_t)counts[i]));
    }
    return o;
}

static json_t *hart_stats(const struct rv_vm_hart_stats *h, unsigned id)
{
    json_t *exits = json_object();
    for (unsigned e = 0; exits && e < RV_VM_EXIT_REASONS; e++)
        json_object_set_new(exits, rv_vm_exit_names[e], json_integer((json_int_t)h->exits[e]));
    json_t *jit = h->jit ? json_pack("{s:I,s:I,s:I,s:I,s:I}", "blocks",
                                     (json_int_t)h->jit_blocks, "guest_insns",
                                     (json_int_t)h->jit_guest_insns, "code_bytes",
                                     (json_int_t)h->jit_code_bytes, "flushes",
                                     (json_int_t)h->jit_flushes, "invalidations",
                                     (json_int_t)h->jit_invalidations)
                         : json_null();
    json_t *traps = json_pack(
        "{s:o*,s:o*}", "exceptions",
        counts_object(h->exceptions, RV_VM_TRAP_CAUSES, rv_vm_exception_names), "interrupts",
        counts_object(h->interrupts, RV_VM_TRAP_CAUSES, rv_vm_interrupt_names));
    return json_pack("{s:i,s:I,s:o*,s:o*,s:I,s:o*}", "id", (int)id, "instret",
                     (json_int_t)h->instret, "exits", exits, "traps", traps, "tlb_misses",
                     (json_int_t)h->tlb_misses, "jit", jit);
}

static json_t *stats_result(struct rv_vm *vm)
{
    struct rv_vm_stats st;
    rv_vm_get_stats(vm, &st);
    json_t *harts = json_array();
    for (unsigned i = 0; harts && i < st.nharts; i++)
        json_array_append_new(harts, hart_stats(&st.harts[i], i));
    json_t *sbi = json_object();
    for (unsigned e = 0; sbi && e < RV_VM_SBI_EXTS; e++)
        json_object_set_new(sbi, rv_vm_sbi_ext_names[e], json_integer((json_int_t)st.sbi_calls[e]));
    json_t *mmio = json_array();
    for (unsigned i = 0; mmio && i < st.ndevices; i++) {
        const struct rv_vm_device_stats *d = &st.devices[i];
        json_array_append_new(mmio, json_pack("{s:s,s:I,s:I,s:I}", "device", d->name, "base",
                                              (json_int_t)d->base, "reads", (json_int_t)d->reads,
                                              "writes", (json_int_t)d->writes));
    }
    json_t *balloon = st.balloon ? json_pack("{s:I,s:I,s:I}", "target_pages",
                                             (json_int_t)st.balloon_target_pages,
                                             "actual_pages", (json_int_t)st.balloon_actual_pages,
                                             "released_pages",
                                             (json_int_t)st.balloon_released_pages)
                                 : json_null();
    return json_pack("{s:o*,s:o*,s:o*,s:{s:o*}}", "harts", harts, "sbi_calls", sbi, "mmio", mmio,
                     "devices", "balloon", balloon);
}

/* Maps a machine error to the protocol's error codes. */
static int machine_error(int rc, struct rv_api_error *err)
{
    err->code = rc == -ESRCH || rc == -EALREADY || rc == -EBUSY ? "invalid-state"
                : rc == -ENODEV                 ? "unsupported"
                : rc == -EINVAL                 ? "invalid-argument"
                                                : "internal";
    snprintf(err->message, sizeof(err->message), "%s", rv_error_get());
    return rc;
}

static int check_state(struct rv_vm *vm, const struct rv_api_request *req,
                       struct rv_api_error *err)
{
    enum rv_vm_state s = rv_vm_state(vm);
    bool ok = req->needs == RV_API_ANY ||
              (req->needs == RV_API_LIVE && s != RV_VM_STOPPED) ||
              (req->needs == RV_API_RUNNING && s == RV_VM_RUNNING) ||
              (req->needs == RV_API_PAUSED && s == RV_VM_PAUSED);
    if (ok)
        return 0;
    err->code = "invalid-state";
    snprintf(err->message, sizeof(err->message), "%s needs a %s VM; it is %s", req->name,
             req->needs == RV_API_PAUSED    ? "paused"
             : req->needs == RV_API_RUNNING ? "running"
                                            : "running or paused",
             state_names[s]);
    return -EINVAL;
}

static int dispatch(struct rv_vm *vm, struct rv_api_call *call, json_t **result,
                    struct rv_api_error *err)
{
    const char *name = call->req->name;
    int rc = check_state(vm, call->req, err);
    if (rc)
        return rc;
    if (strcmp(name, "status") == 0) {
        *result = status_result(vm);
    } else if (strcmp(name, "stats") == 0) {
        *result = stats_result(vm);
    } else if (strcmp(name, "schema") == 0) {
        *result = rv_api_schema_json();
    } else if (rv_api_state_dispatch(vm, call, result, &rc)) {
        /* snapshot, migrate, migrate-status */
    } else if (strcmp(name, "balloon") == 0) {
        int64_t mib = rv_api_arg_int(call, "target_mib", 0);
        rc = rv_vm_balloon(vm, (uint64_t)mib << 20);
        *result = json_pack("{s:I}", "target_mib", (json_int_t)mib);
    } else if (strcmp(name, "poweroff") == 0) {
        bool force = rv_api_arg_bool(call, "force", false);
        rc = force ? rv_vm_request_poweroff(vm) : rv_vm_press_power_button(vm);
        *result = state_result(vm);
    } else {
        rc = strcmp(name, "pause") == 0      ? rv_vm_pause(vm)
             : strcmp(name, "resume") == 0   ? rv_vm_resume(vm)
             : strcmp(name, "kill") == 0     ? rv_vm_kill(vm)
             : strcmp(name, "reset") == 0    ? rv_vm_reset(vm)
                                             : rv_error_set(-ENOSYS, "%s: not implemented", name);
        *result = state_result(vm);
    }
    if (rc) {
        json_decref(*result);
        *result = NULL;
        return machine_error(rc, err);
    }
    if (!*result) {
        err->code = "internal";
        snprintf(err->message, sizeof(err->message), "out of memory");
        return -ENOMEM;
    }
    return 0;
}

char *rv_api_handle_line(struct rv_vm *vm, const char *line, size_t len, int *fd)
{
    struct rv_api_call call;
    struct rv_api_error err;
    json_t *result = NULL;
    int rc = rv_api_parse(line, len, &call, &err);
    call.fd = fd ? *fd : -1;
    if (!rc)
        rc = dispatch(vm, &call, &result, &err);
    if (fd)
        *fd = call.fd; /* -1 if the request took it */
    char *reply = rc ? rv_api_reply_error(call.id, &err) : rv_api_reply_ok(call.id, result);
    rv_api_call_free(&call);
    return reply;
}

/* --- connections --- */

static void drop_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void client_close(struct rv_api_server *s, struct api_client *c)
{
    epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->len = 0;
    c->discarding = false;
    drop_fd(&c->passed_fd);
}

/* Sends a whole reply without blocking; a client that does not read its replies loses its
 * connection rather than stalling the server. */
static bool client_send(int fd, const char *reply)
{
    size_t len = strlen(reply);
    while (len) {
        ssize_t n = send(fd, reply, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        reply += n;
        len -= (size_t)n;
    }
    return true;
}

static bool client_reply(struct rv_api_server *s, struct api_client *c, char *reply)
{
    bool ok = reply && client_send(c->fd, reply);
    free(reply);
    if (!ok)
        client_close(s, c);
    return ok;
}

/* Receives bytes and the descriptors sent with them (SCM_RIGHTS, docs/api.md "Passing a
 * descriptor"). The kernel ends a read at the end of the message that carried descriptors, so
 * they belong to the line holding the chunk's last byte: the one request the client sent with
 * them. The first is kept in *fd (-1: none); any others, and other control messages' rights,
 * are closed at once. A truncated control buffer (MSG_CTRUNC) loses only descriptors the kernel
 * already closed. */
static ssize_t recv_with_fd(int sock, char *buf, size_t size, int *fd)
{
    union {
        struct cmsghdr hdr;
        char space[CMSG_SPACE(sizeof(int) * RV_API_MAX_PASSED_FDS)];
    } ctl;
    struct iovec iov = {buf, size};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
                         .msg_controllen = sizeof(ctl.space)};
    *fd = -1;
    ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return n;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
            cm->cmsg_len < CMSG_LEN(0))
            continue;
        size_t nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfds; i++) {
            int got;
            memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (got < 0)
                continue;
            if (*fd < 0)
                *fd = got;
            else
                close(got);
        }
    }
    return n;
}

/* The line in c->buf is complete: handles it with the descriptor that came with it. */
static bool client_line(struct rv_api_server *s, struct api_client *c)
{
    size_t len = c->len;
    if (len && c->buf[len - 1] == '\r')
        len--;
    c->len = 0;
    char *reply = s->handle(s->ctx, c->buf, len, &c->passed_fd);
    drop_fd(&c->passed_fd); /* not taken by the request: closed */
    return client_reply(s, c, reply);
}

static void client_readable(struct rv_api_server *s, struct api_client *c)
{
    char chunk[4096];
    int fd;
    ssize_t n = recv_with_fd(c->fd, chunk, sizeof(chunk), &fd);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        drop_fd(&fd);
        client_close(s, c);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (i == n - 1 && fd >= 0) { /* the descriptor belongs to this byte's line */
            drop_fd(&c->passed_fd);
            c->passed_fd = fd;
            fd = -1;
        }
        if (chunk[i] != '\n') {
            if (c->discarding)
                continue;
            if (c->len == RV_API_MAX_LINE) {
                struct rv_api_error err = {"parse-error", ""};
                snprintf(err.message, sizeof(err.message),
                         "request line longer than %d bytes", RV_API_MAX_LINE);
                c->discarding = true;
                c->len = 0;
                if (!client_reply(s, c, rv_api_reply_error(NULL, &err)))
                    return;
                continue;
            }
            c->buf[c->len++] = chunk[i];
            continue;
        }
        if (c->discarding) {
            c->discarding = false;
            drop_fd(&c->passed_fd);
            continue;
        }
        if (!client_line(s, c))
            return;
    }
}

static void accept_client(struct rv_api_server *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    for (unsigned i = 0; i < RV_API_MAX_CLIENTS; i++) {
        struct api_client *c = &s->clients[i];
        if (c->fd >= 0)
            continue;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
            break;
        c->fd = fd;
        c->len = 0;
        c->discarding = false;
        c->passed_fd = -1;
        return;
    }
    struct rv_api_error err = {"busy", ""};
    snprintf(err.message, sizeof(err.message), "at most %d clients at a time",
             RV_API_MAX_CLIENTS);
    char *reply = rv_api_reply_error(NULL, &err);
    if (reply)
        client_send(fd, reply);
    free(reply);
    close(fd);
}

static void *api_thread(void *arg)
{
    struct rv_api_server *s = arg;
    for (;;) {
        struct epoll_event evs[16];
        int n = epoll_wait(s->epoll_fd, evs, 16, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rv_warn("control API: epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            uint32_t tag = evs[i].data.u32;
            if (tag == TAG_STOP)
                return NULL;
            if (tag == TAG_LISTEN)
                accept_client(s);
            else if (tag < RV_API_MAX_CLIENTS && s->clients[tag].fd >= 0)
                client_readable(s, &s->clients[tag]);
        }
    }
    return NULL;
}

/* --- start / stop --- */

static int add_fd(struct rv_api_server *s, int fd, uint32_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
    if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return rv_error_set(-errno, "epoll_ctl: %s", strerror(errno));
    return 0;
}

int rv_api_listen(const char *path, int backlog)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return rv_error_set(-ENAMETOOLONG, "%s: socket path longer than %zu bytes", path,
                            sizeof(addr.sun_path) - 1);
    strcpy(addr.sun_path, path);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return rv_error_set(-EEXIST, "%s: exists and is not a socket", path);
        unlink(path); /* left behind by an earlier run */
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return rv_error_set(-errno, "socket: %s", strerror(errno));
    /* The API is for the socket owner only. The file must never be seen with the umask's
     * mode (a client stat()ing it between bind() and a chmod() saw 0755): on Linux, bind()
     * gives the new file the socket inode's mode (less the umask), so set it first. The
     * chmod() after bind() covers a umask that removed owner bits. */
    if (fchmod(fd, 0600) < 0) {
        int rc = rv_error_set(-errno, "%s: fchmod: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int rc = rv_error_set(-errno, "%s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    int rc = 0;
    if (chmod(path, 0600) < 0)
        rc = rv_error_set(-errno, "%s: chmod: %s", path, strerror(errno));
    else if (listen(fd, backlog) < 0)
        rc = rv_error_set(-errno, "%s: listen: %s", path, strerror(errno));
    if (rc) {
        close(fd);
        unlink(path);
        return rc;
    }
    return fd;
}

static int open_socket(struct rv_api_server *s, const char *path)
{
    s->listen_fd = rv_api_listen(path, RV_API_MAX_CLIENTS);
    if (s->listen_fd < 0)
        return s->listen_fd;
    s->path = strdup(path);
    if (!s->path)
        return rv_error_set(-ENOMEM, "out of memory");
    return rv_path_at_open(path, &s->at);
    return 0;
}

static void server_free(struct rv_api_server *s)
{
    for (unsigned i = 0; i < RV_API_MAX_CLIENTS; i++) {
        if (s->clients[i].fd >= 0)
            close(s->clients[i].fd);
        drop_fd(&s->clients[i].passed_fd);
        free(s->clients[i].buf);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->epoll_fd >= 0)
        close(s->epoll_fd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    if (s->at.name)
        unlinkat(s->at.dir_fd, s->at.name, 0);
    rv_path_at_close(&s->at);
    free(s->path);
    free(s);
}

static char *vm_handler(void *vm, const char *line, size_t len, int *fd)
{
    return rv_api_handle_line(vm, line, len, fd);
}

int rv_api_server_start(struct rv_vm *vm, const char *path, struct rv_api_server **out)
{
    return rv_api_server_start_handler(vm_handler, vm, path, out);
}

int rv_api_server_start_handler(rv_api_handler *handle, void *ctx, const char *path,
                                struct rv_api_server **out)
{
    struct rv_api_server *s = calloc(1, sizeof(*s));
    if (!s)
        return rv_error_set(-ENOMEM, "out of memory");
    s->handle = handle;
    s->ctx = ctx;
    s->listen_fd = s->epoll_fd = s->stop_fd = s->at.dir_fd = -1;
    /* jansson seeds its hash function from /dev/urandom on first use: now, before any
     * sandbox closes the file system. */
    json_object_seed(0);
    int rc = 0;
    for (unsigned i = 0; i < RV_API_MAX_CLIENTS; i++) {
        s->clients[i].fd = s->clients[i].passed_fd = -1;
        s->clients[i].buf = malloc(RV_API_MAX_LINE);
        if (!s->clients[i].buf)
            rc = rv_error_set(-ENOMEM, "out of memory");
    }
    if (!rc && ((s->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
                (s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0))
        rc = rv_error_set(-errno, "epoll/eventfd: %s", strerror(errno));
    if (!rc)
        rc = open_socket(s, path);
    if (!rc)
        rc = add_fd(s, s->listen_fd, TAG_LISTEN);
    if (!rc)
        rc = add_fd(s, s->stop_fd, TAG_STOP);
    if (!rc && (rc = -pthread_create(&s->thread, NULL, api_thread, s)))
        rv_error_set(rc, "cannot start the control API thread");
    if (rc) {
        server_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int rv_api_server_dir_fd(const struct rv_api_server *s)
{
    return s ? s->at.dir_fd : -1;
}

void rv_api_server_stop(struct rv_api_server *s)
{
    if (!s)
        return;
    uint64_t one = 1;
    if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
        rv_warn("control API: cannot wake the server thread");
    pthread_join(s->thread, NULL);
    server_free(s);
}
