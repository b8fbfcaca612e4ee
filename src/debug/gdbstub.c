/* The GDB remote stub: one TCP listener per VM, one debugger at a time, on its own thread
 * (gdbstub.h). All-stop mode: while the debugger looks at the VM every hart is halted
 * (machine/vm_debug.h); a continue lets them all run, a step runs one hart for one
 * instruction. The thread sleeps in poll() on the connection and on a pipe the harts write
 * to when they stop. A debugger that goes away, politely (D) or not, leaves the VM running
 * without breakpoints. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "debug/gdb_target.h"
#include "debug/gdbstub_internal.h"

/* --- sending --- */

static void send_raw(struct rv_gdbstub *s, const char *buf, size_t len)
{
    while (s->conn_fd >= 0 && len) {
        ssize_t n = send(s->conn_fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the receive side notices the broken connection */
        buf += n;
        len -= (size_t)n;
    }
}

void gdb_send(struct rv_gdbstub *s, const char *data, size_t len)
{
    s->out_len = gdb_frame(data, len, s->out);
    send_raw(s, s->out, s->out_len);
}

void gdb_send_str(struct rv_gdbstub *s, const char *str)
{
    gdb_send(s, str, strlen(str));
}

void gdb_send_stop(struct rv_gdbstub *s)
{
    const struct rv_vm_stop *st = &s->stop;
    char buf[96];
    int n = snprintf(buf, sizeof(buf), "T%02x", s->stop_signal);
    if (st->reason == RV_DEBUG_WATCH) {
        const char *kind = st->watch_kind == RV_WATCH_WRITE  ? "watch"
                           : st->watch_kind == RV_WATCH_READ ? "rwatch"
                                                             : "awatch";
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s:%llx;", kind,
                      (unsigned long long)st->watch_addr);
    }
    snprintf(buf + n, sizeof(buf) - (size_t)n, "thread:%x;", st->hart + 1);
    gdb_send_str(s, buf);
}

/* --- run control --- */

void gdb_resume(struct rv_gdbstub *s, uint32_t run, uint32_t step)
{
    s->running = true;
    rv_vm_debug_resume(s->vm, run, step);
}

/* Harts stopped on their own (or the VM ended): tell a waiting debugger. */
static void take_stop(struct rv_gdbstub *s)
{
    struct rv_vm_stop st;
    int rc = rv_vm_debug_take_stop(s->vm, &st);
    if (rc == -EAGAIN)
        return;
    if (rc == 0 && s->conn_fd < 0) {
        rv_vm_debug_resume(s->vm, UINT32_MAX, 0); /* nobody to report to */
        return;
    }
    if (rc != 0 || !s->running)
        return; /* the VM is ending: rv_gdbstub_stop() reports the exit */
    s->running = false;
    s->stop = st;
    s->g_hart = s->c_hart = st.hart;
    s->stop_signal = 5; /* SIGTRAP */
    gdb_send_stop(s);
}

static void interrupt(struct rv_gdbstub *s)
{
    if (!s->running)
        return;
    if (rv_vm_debug_halt(s->vm) != 0)
        return;
    s->running = false;
    s->stop = (struct rv_vm_stop){.hart = s->c_hart, .reason = RV_DEBUG_NONE};
    s->stop_signal = 2; /* SIGINT */
    gdb_send_stop(s);
}

/* --- connections --- */

static void attach(struct rv_gdbstub *s, int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    s->conn_fd = fd;
    s->no_ack = false;
    s->phys = false;
    s->g_hart = s->c_hart = 0;
    s->rx.state = 0;
    s->out_len = 0;
    s->running = false;
    s->stop = (struct rv_vm_stop){.reason = RV_DEBUG_NONE};
    s->stop_signal = 5;
    rv_vm_debug_halt(s->vm); /* like a debugger attaching to a process: it stops */
    rv_info("gdb: debugger connected");
}

/* The debugger left (detach, or the connection broke): the VM runs on, without points. */
static void detach(struct rv_gdbstub *s)
{
    if (s->running)
        rv_vm_debug_halt(s->vm);
    struct rv_debug_points *d = rv_vm_debug_points(s->vm);
    d->nbp = d->nwp = 0;
    rv_vm_debug_resume(s->vm, UINT32_MAX, 0);
    close(s->conn_fd);
    s->conn_fd = -1;
    s->running = false;
    rv_info("gdb: debugger disconnected; the VM continues");
}

static void handle_event(struct rv_gdbstub *s, enum gdb_rx_event ev)
{
    switch (ev) {
    case GDB_RX_PACKET:
        if (!s->no_ack)
            send_raw(s, "+", 1);
        if (s->running)
            return; /* all-stop: only an interrupt is expected while running */
        if (s->rx.buf[0] == 'D') {
            gdb_send_str(s, "OK");
            detach(s);
            return;
        }
        gdb_handle_packet(s, s->rx.buf, s->rx.len);
        return;
    case GDB_RX_BAD:
        if (!s->no_ack)
            send_raw(s, "-", 1);
        return;
    case GDB_RX_NAK:
        if (!s->no_ack && s->out_len)
            send_raw(s, s->out, s->out_len);
        return;
    case GDB_RX_INTERRUPT:
        interrupt(s);
        return;
    default:
        return;
    }
}

static void conn_readable(struct rv_gdbstub *s)
{
    uint8_t buf[4096];
    ssize_t n = recv(s->conn_fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        detach(s);
        return;
    }
    for (ssize_t i = 0; i < n && s->conn_fd >= 0; i++)
        handle_event(s, gdb_rx_byte(&s->rx, buf[i]));
}

/* Returns false when asked to quit. */
static bool wake_readable(struct rv_gdbstub *s)
{
    char buf[64];
    while (read(s->wake[0], buf, sizeof(buf)) > 0) {
    }
    if (atomic_load(&s->quit))
        return false;
    take_stop(s);
    return true;
}

static void *stub_thread(void *arg)
{
    struct rv_gdbstub *s = arg;
    for (;;) {
        struct pollfd fds[2] = {{.fd = s->wake[0], .events = POLLIN}};
        fds[1].fd = s->conn_fd >= 0 ? s->conn_fd : s->listen_fd;
        fds[1].events = POLLIN;
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if ((fds[0].revents & POLLIN) && !wake_readable(s))
            break;
        if (!(fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (s->conn_fd >= 0) {
            conn_readable(s);
        } else {
            int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0)
                attach(s, fd);
        }
    }
    if (s->conn_fd >= 0) {
        if (s->running) {
            char buf[8];
            snprintf(buf, sizeof(buf), "W%02x", s->exit_status & 0xff);
            gdb_send_str(s, buf);
        }
        close(s->conn_fd);
        s->conn_fd = -1;
    }
    return NULL;
}

/* --- start / stop --- */

static int listen_on(struct rv_gdbstub *s, const char *spec)
{
    char host[256];
    const char *colon = strncmp(spec, "tcp:", 4) == 0 ? strrchr(spec + 4, ':') : NULL;
    if (!colon || (size_t)(colon - spec - 4) >= sizeof(host))
        return rv_error_set(-EINVAL, "--gdb takes tcp:HOST:PORT, not '%s'", spec);
    memcpy(host, spec + 4, (size_t)(colon - spec - 4));
    host[colon - spec - 4] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || colon[1] == 0 || port < 0 || port > 65535)
        return rv_error_set(-EINVAL, "--gdb: bad port in '%s'", spec);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE}, *ai;
    int rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
    if (rc)
        return rv_error_set(-EINVAL, "--gdb: %s: %s", host, gai_strerror(rc));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1) != 0) {
        rc = rv_error_set(-errno, "--gdb: cannot listen on %s: %s", spec + 4, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    s->listen_fd = fd;
    return 0;
}

unsigned rv_gdbstub_port(const struct rv_gdbstub *s)
{
    return s->port;
}

static void stub_free(struct rv_gdbstub *s)
{
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    for (int i = 0; i < 2; i++)
        if (s->wake[i] >= 0)
            close(s->wake[i]);
    free(s);
}

int rv_gdbstub_start(struct rv_vm *vm, const char *spec, bool wait, struct rv_gdbstub **out)
{
    struct rv_gdbstub *s = calloc(1, sizeof(*s));
    if (!s)
        return rv_error_set(-ENOMEM, "out of memory");
    s->vm = vm;
    s->listen_fd = s->conn_fd = s->wake[0] = s->wake[1] = -1;
    s->xml_len = gdb_target_xml(s->xml, sizeof(s->xml));
    int rc = listen_on(s, spec);
    if (!rc && pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0)
        rc = rv_error_set(-errno, "pipe: %s", strerror(errno));
    if (!rc) {
        rv_vm_debug_enable(vm, s->wake[1], wait);
        if (pthread_create(&s->thread, NULL, stub_thread, s) != 0)
            rc = rv_error_set(-EAGAIN, "cannot start the gdb stub thread");
    }
    if (rc) {
        stub_free(s);
        return rc;
    }
    s->thread_started = true;
    *out = s;
    return 0;
}

void rv_gdbstub_stop(struct rv_gdbstub *s, int status)
{
    if (!s)
        return;
    s->exit_status = status;
    atomic_store(&s->quit, true);
    char c = 'q';
    if (write(s->wake[1], &c, 1) < 0) {
        /* full: the thread is being woken anyway */
    }
    pthread_join(s->thread, NULL);
    stub_free(s);
}
