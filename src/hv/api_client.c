/* Client side of the control protocol (api_client.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/error.h"
#include "hv/api_client.h"

#define MAX_REPLY (16u << 20)

/* Fills `addr` for `path`; a path too long for sun_path goes through an O_PATH descriptor of
 * its directory, returned in *dirfd (to close after connect), since /proc/self/fd/N names it
 * in a few bytes. */
static int socket_address(const char *path, struct sockaddr_un *addr, int *dirfd)
{
    *dirfd = -1;
    if (strlen(path) < sizeof(addr->sun_path)) {
        strcpy(addr->sun_path, path);
        return 0;
    }
    char *copy = strdup(path), *copy2 = strdup(path);
    int rc = 0;
    if (!copy || !copy2) {
        rc = rv_error_set(-ENOMEM, "out of memory");
    } else {
        const char *base = basename(copy2);
        *dirfd = open(dirname(copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (*dirfd < 0)
            rc = rv_error_set(-errno, "%s: %s", path, strerror(errno));
        else if ((size_t)snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d/%s",
                                  *dirfd, base) >= sizeof(addr->sun_path))
            rc = rv_error_set(-ENAMETOOLONG, "%s: socket name too long", path);
    }
    free(copy);
    free(copy2);
    return rc;
}

int rv_api_connect(const char *path, int timeout_ms)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int dirfd;
    int rc = socket_address(path, &addr, &dirfd);
    if (rc) {
        if (dirfd >= 0)
            close(dirfd);
        return rc;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
        connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        rc = rv_error_set(-errno, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = rc;
    }
    if (dirfd >= 0)
        close(dirfd);
    return fd;
}

/* Sends the line; a descriptor (pass_fd >= 0) goes with its first byte (SCM_RIGHTS), so the
 * server reads it with this line (docs/api.md, "Passing a descriptor"). */
static int send_line(int fd, const char *line, int pass_fd)
{
    size_t len = strlen(line);
    while (len) {
        union {
            struct cmsghdr hdr;
            char space[CMSG_SPACE(sizeof(int))];
        } ctl;
        struct iovec iov = {(void *)line, len};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        if (pass_fd >= 0) {
            memset(&ctl, 0, sizeof(ctl));
            msg.msg_control = ctl.space;
            msg.msg_controllen = sizeof(ctl.space);
            struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
        }
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return rv_error_set(-EIO, "cannot send the request: %s", strerror(errno));
        pass_fd = -1;
        line += n;
        len -= (size_t)n;
    }
    return 0;
}

char *rv_api_exchange(int fd, const char *line)
{
    return rv_api_exchange_fd(fd, line, -1);
}

char *rv_api_exchange_fd(int fd, const char *line, int pass_fd)
{
    if (send_line(fd, line, pass_fd))
        return NULL;
    size_t cap = 4096, got = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (got + 1 == cap) {
            char *b = cap < MAX_REPLY ? realloc(buf, cap * 2) : NULL;
            if (!b)
                break;
            buf = b;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rv_error_set(-EIO, "no reply%s%s", n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
            free(buf);
            return NULL;
        }
        got += (size_t)n;
        buf[got] = 0;
        if (memchr(buf, '\n', got))
            return buf;
    }
    free(buf);
    rv_error_set(-ENOMEM, "reply too long or out of memory");
    return NULL;
}

int rv_api_call(const char *path, const char *request, json_t *args, int timeout_ms,
                json_t **reply)
{
    return rv_api_call_fd(path, request, args, -1, timeout_ms, reply);
}

int rv_api_call_fd(const char *path, const char *request, json_t *args, int pass_fd,
                   int timeout_ms, json_t **reply)
{
    json_t *msg = json_pack("{s:i,s:s,s:o}", "id", 1, "request", request, "arguments",
                            args ? args : json_object());
    char *line = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    char *framed = line ? malloc(strlen(line) + 2) : NULL;
    if (!framed) {
        free(line);
        return rv_error_set(-ENOMEM, "out of memory");
    }
    sprintf(framed, "%s\n", line);
    free(line);
    int fd = rv_api_connect(path, timeout_ms);
    char *text = fd >= 0 ? rv_api_exchange_fd(fd, framed, pass_fd) : NULL;
    free(framed);
    if (fd >= 0)
        close(fd);
    if (!text)
        return fd < 0 ? fd : -EIO;
    json_error_t jerr;
    json_t *r = json_loadb(text, strcspn(text, "\n"), 0, &jerr);
    free(text);
    if (!json_is_object(r) || !json_is_boolean(json_object_get(r, "ok"))) {
        json_decref(r);
        return rv_error_set(-EPROTO, "%s: malformed reply", path);
    }
    *reply = r;
    return 0;
}
