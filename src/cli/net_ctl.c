/* `rvisor net`'s side of the switch's control socket (net/vsw_control.c): one request, one
 * reply line; optionally a file descriptor passed along (capture). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/net.h"
#include "net/vsw_proto.h"

int net_ctl_connect(const char *name, bool quiet)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (vsw_path(name, "control.sock", sa.sun_path, sizeof(sa.sun_path)))
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = 30};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (!quiet)
            fprintf(stderr, "rvisor: network %s: its switch is not running (%s)\n", name,
                    strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int net_ctl_send(int fd, const char *request, json_t *args, int pass_fd)
{
    json_t *req = json_pack("{s:i,s:s}", "id", 1, "request", request);
    if (req && args)
        json_object_set(req, "arguments", args);
    char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!line)
        return -ENOMEM;
    size_t len = strlen(line);
    line[len++] = '\n';
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {line, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (pass_fd >= 0) {
        memset(cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof(cbuf);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
    }
    ssize_t n;
    do
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    free(line);
    return n == (ssize_t)len ? 0 : -EIO; /* a short line this small does not happen */
}

json_t *net_ctl_read(int fd)
{
    size_t cap = 4096, got = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (got + 1 == cap) {
            char *b = cap < (16u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!b)
                break;
            buf = b;
            cap *= 2;
        }
        /* One byte at a time past the line would be slow; replies are small and the
         * switch sends nothing unasked except capture_done, which comes after. */
        ssize_t n = recv(fd, buf + got, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (buf[got] == '\n') {
            json_t *j = json_loadb(buf, got, 0, NULL);
            free(buf);
            return j;
        }
        got++;
    }
    free(buf);
    return NULL;
}

json_t *net_ctl_call(const char *name, const char *request, bool quiet)
{
    int fd = net_ctl_connect(name, quiet);
    if (fd < 0)
        return NULL;
    json_t *reply = NULL;
    if (!net_ctl_send(fd, request, NULL, -1))
        reply = net_ctl_read(fd);
    close(fd);
    if (!reply) {
        if (!quiet)
            fprintf(stderr, "rvisor: network %s: no answer from the switch\n", name);
        return NULL;
    }
    if (!json_is_true(json_object_get(reply, "ok"))) {
        if (!quiet)
            fprintf(stderr, "rvisor: network %s: %s\n", name,
                    json_string_value(json_object_get(json_object_get(reply, "error"),
                                                      "message")));
        json_decref(reply);
        return NULL;
    }
    json_t *result = json_incref(json_object_get(reply, "result"));
    json_decref(reply);
    return result;
}
