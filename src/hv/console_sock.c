/* The console socket (console_sock.h): one thread with an epoll loop between the VM's console
 * pipes, the listening socket, at most one attached client and the log file. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "hv/api.h"
#include "hv/console_sock.h"

enum { TAG_LISTEN, TAG_OUTPUT, TAG_CLIENT, TAG_INPUT, TAG_STOP };

struct rv_console_server {
    int listen_fd, epoll_fd, stop_fd;
    int out_r, out_w;   /* guest output: the VM writes out_w */
    int in_r, in_w;     /* guest input: the VM reads in_r */
    int client;         /* the attached client, or -1 */
    int log_fd;         /* -1: no log */
    uint8_t ring[RV_CONSOLE_REPLAY]; /* the last output, replayed on attach */
    size_t ring_pos;
    bool ring_full;
    uint8_t pending[4096]; /* client input the VM's pipe has not taken yet */
    size_t pending_len;
    bool input_blocked;    /* pending input: client reads stop, the pipe is watched instead */
    pthread_t thread;
};

static void watch(struct rv_console_server *s, int op, int fd, uint32_t events, uint32_t tag)
{
    struct epoll_event ev = {.events = events, .data.u32 = tag};
    if (epoll_ctl(s->epoll_fd, op, fd, &ev) < 0 && op != EPOLL_CTL_DEL)
        rv_warn("console socket: epoll_ctl: %s", strerror(errno));
}

/* Only write(): the log is opened before a sandbox closes the file system, and the manager
 * rotates it from outside (copy and truncate; O_APPEND keeps this writer at the end). */
static void log_write(struct rv_console_server *s, const uint8_t *buf, size_t len)
{
    while (s->log_fd >= 0 && len) {
        ssize_t n = write(s->log_fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* a full disk loses log lines, not the VM */
        buf += n;
        len -= (size_t)n;
    }
}

static void client_drop(struct rv_console_server *s)
{
    if (s->client < 0)
        return;
    watch(s, EPOLL_CTL_DEL, s->client, 0, 0);
    close(s->client);
    s->client = -1;
}

/* Sends what the socket takes now; a client that does not keep up misses output. */
static void client_send(struct rv_console_server *s, const uint8_t *buf, size_t len)
{
    while (s->client >= 0 && len) {
        ssize_t n = send(s->client, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            client_drop(s);
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void ring_add(struct rv_console_server *s, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        s->ring[s->ring_pos++] = buf[i];
        if (s->ring_pos == sizeof(s->ring)) {
            s->ring_pos = 0;
            s->ring_full = true;
        }
    }
}

static void take_output(struct rv_console_server *s)
{
    uint8_t buf[4096];
    for (;;) {
        ssize_t n = read(s->out_r, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        log_write(s, buf, (size_t)n);
        ring_add(s, buf, (size_t)n);
        client_send(s, buf, (size_t)n);
    }
}

static void flush_input(struct rv_console_server *s)
{
    while (s->pending_len) {
        ssize_t n = write(s->in_w, s->pending, s->pending_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        memmove(s->pending, s->pending + n, s->pending_len - (size_t)n);
        s->pending_len -= (size_t)n;
    }
    bool blocked = s->pending_len != 0;
    if (blocked == s->input_blocked)
        return;
    s->input_blocked = blocked;
    watch(s, blocked ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->in_w, EPOLLOUT, TAG_INPUT);
    if (s->client >= 0)
        watch(s, EPOLL_CTL_MOD, s->client, blocked ? 0 : EPOLLIN, TAG_CLIENT);
}

static void take_input(struct rv_console_server *s)
{
    ssize_t n = recv(s->client, s->pending + s->pending_len,
                     sizeof(s->pending) - s->pending_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        client_drop(s);
        return;
    }
    s->pending_len += (size_t)n;
    flush_input(s);
}

static void attach(struct rv_console_server *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    if (s->client >= 0) {
        /* A client that just hung up may not have been seen yet: it is not in the way. */
        struct pollfd p = {s->client, POLLRDHUP, 0};
        if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
            client_drop(s);
    }
    if (s->client >= 0) {
        static const char busy[] = "rvisor: this console is attached elsewhere\r\n";
        if (send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
            /* it is closed either way */
        }
        close(fd);
        return;
    }
    s->client = fd;
    watch(s, EPOLL_CTL_ADD, fd, s->input_blocked ? 0 : EPOLLIN, TAG_CLIENT);
    if (s->ring_full)
        client_send(s, s->ring + s->ring_pos, sizeof(s->ring) - s->ring_pos);
    client_send(s, s->ring, s->ring_pos);
}

static void *console_thread(void *arg)
{
    struct rv_console_server *s = arg;
    for (;;) {
        struct epoll_event evs[8];
        int n = epoll_wait(s->epoll_fd, evs, 8, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        for (int i = 0; i < n; i++) {
            switch (evs[i].data.u32) {
            case TAG_STOP:
                take_output(s);
                return NULL;
            case TAG_LISTEN: attach(s); break;
            case TAG_OUTPUT: take_output(s); break;
            case TAG_INPUT: flush_input(s); break;
            case TAG_CLIENT:
                if (s->client >= 0)
                    take_input(s);
                break;
            }
        }
    }
    return NULL;
}

static void server_free(struct rv_console_server *s)
{
    int fds[] = {s->listen_fd, s->epoll_fd, s->stop_fd, s->out_r, s->out_w,
                 s->in_r,      s->in_w,     s->client,  s->log_fd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(s);
}

static int server_open(struct rv_console_server *s, const char *path, const char *log_path)
{
    int out[2], in[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return rv_error_set(-errno, "pipe: %s", strerror(errno));
    s->out_r = out[0], s->out_w = out[1];
    if (pipe2(in, O_CLOEXEC) < 0)
        return rv_error_set(-errno, "pipe: %s", strerror(errno));
    s->in_r = in[0], s->in_w = in[1];
    if (fcntl(s->out_r, F_SETFL, O_NONBLOCK) < 0 || fcntl(s->in_w, F_SETFL, O_NONBLOCK) < 0 ||
        (s->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        return rv_error_set(-errno, "console socket: %s", strerror(errno));
    if (log_path) {
        s->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (s->log_fd < 0)
            return rv_error_set(-errno, "%s: %s", log_path, strerror(errno));
    }
    s->listen_fd = rv_api_listen(path, 4);
    if (s->listen_fd < 0)
        return s->listen_fd;
    watch(s, EPOLL_CTL_ADD, s->listen_fd, EPOLLIN, TAG_LISTEN);
    watch(s, EPOLL_CTL_ADD, s->out_r, EPOLLIN, TAG_OUTPUT);
    watch(s, EPOLL_CTL_ADD, s->stop_fd, EPOLLIN, TAG_STOP);
    int rc = pthread_create(&s->thread, NULL, console_thread, s);
    if (rc)
        return rv_error_set(-rc, "cannot start the console thread");
    return 0;
}

int rv_console_server_start(const char *path, const char *log_path, int *in_fd, int *out_fd,
                            struct rv_console_server **out)
{
    struct rv_console_server *s = calloc(1, sizeof(*s));
    if (!s)
        return rv_error_set(-ENOMEM, "out of memory");
    s->listen_fd = s->epoll_fd = s->stop_fd = s->out_r = s->out_w = s->in_r = s->in_w = -1;
    s->client = s->log_fd = -1;
    int rc = server_open(s, path, log_path);
    if (rc) {
        server_free(s);
        return rc;
    }
    *in_fd = s->in_r;
    *out_fd = s->out_w;
    *out = s;
    return 0;
}

void rv_console_server_stop(struct rv_console_server *s)
{
    if (!s)
        return;
    uint64_t one = 1;
    if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
        rv_warn("console socket: cannot wake the console thread");
    pthread_join(s->thread, NULL);
    server_free(s);
}
