/* `rvisor ctl SOCKET REQUEST [KEY=VALUE ...]`: builds one request from the schema
 * (hv/api_schema.h), sends it, prints the result as JSON. Exit status: 0 ok, 1 error reply,
 * 2 usage error or no answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/ctl.h"
#include "hv/api_schema.h"

#define REPLY_TIMEOUT_S 60

static void ctl_usage(FILE *out)
{
    fprintf(out, "usage: rvisor ctl SOCKET REQUEST [KEY=VALUE ...]\n"
                 "       rvisor ctl --schema-markdown   (docs/api.md's reference section)\n"
                 "\n"
                 "Sends one request to the control API of `rvisor run --api-socket SOCKET`\n"
                 "and prints its result. Exit status 0, 1 on an error reply, 2 if no reply.\n"
                 "\nRequests:\n");
    for (size_t i = 0; i < rv_api_nrequests; i++) {
        const struct rv_api_request *r = &rv_api_requests[i];
        fprintf(out, "  %-9s", r->name);
        for (const struct rv_api_arg *a = r->args; a < r->args + RV_API_MAX_ARGS && a->name; a++)
            fprintf(out, " %s%s=%lld..%lld%s", a->required ? "" : "[", a->name,
                    (long long)a->min, (long long)a->max, a->required ? "" : "]");
        fprintf(out, "\n");
    }
}

static int ctl_connect(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "rvisor: %s: socket path too long\n", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "rvisor: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Sends `line` and reads the reply line into a malloc'd string. */
static char *ctl_exchange(int fd, const char *line)
{
    size_t len = strlen(line);
    while (len) {
        ssize_t n = send(fd, line, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NULL;
        line += n;
        len -= (size_t)n;
    }
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
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = 0;
        if (memchr(buf, '\n', got))
            return buf;
    }
    free(buf);
    return NULL;
}

int rv_cli_ctl(int argc, char **argv)
{
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        ctl_usage(stdout);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "--schema-markdown") == 0) {
        char *md = rv_api_schema_markdown();
        if (!md)
            return 2;
        fputs(md, stdout);
        free(md);
        return 0;
    }
    if (argc < 2) {
        ctl_usage(stderr);
        return 2;
    }
    const struct rv_api_request *req = rv_api_find(argv[1]);
    if (!req) {
        fprintf(stderr, "rvisor: unknown request '%s' (rvisor ctl --help lists them)\n",
                argv[1]);
        return 2;
    }
    json_t *args;
    struct rv_api_error err;
    if (rv_api_args_from_words(req, argc - 2, argv + 2, &args, &err)) {
        fprintf(stderr, "rvisor: %s\n", err.message);
        return 2;
    }
    json_t *msg = json_pack("{s:i,s:s,s:o}", "id", 1, "request", req->name, "arguments", args);
    char *line = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    char *framed = line ? malloc(strlen(line) + 2) : NULL;
    if (!framed) {
        free(line);
        fprintf(stderr, "rvisor: out of memory\n");
        return 2;
    }
    sprintf(framed, "%s\n", line);
    free(line);
    int fd = ctl_connect(argv[0]);
    char *reply = fd >= 0 ? ctl_exchange(fd, framed) : NULL;
    free(framed);
    if (fd >= 0)
        close(fd);
    if (!reply) {
        if (fd >= 0)
            fprintf(stderr, "rvisor: %s: no reply\n", argv[0]);
        return 2;
    }
    json_error_t jerr;
    json_t *r = json_loadb(reply, strcspn(reply, "\n"), 0, &jerr);
    free(reply);
    int status = 2;
    if (!json_is_object(r)) {
        fprintf(stderr, "rvisor: %s: malformed reply: %s\n", argv[0], jerr.text);
    } else if (json_is_true(json_object_get(r, "ok"))) {
        char *out = json_dumps(json_object_get(r, "result"), JSON_INDENT(2) | JSON_SORT_KEYS);
        if (out)
            printf("%s\n", out);
        free(out);
        status = out ? 0 : 2;
    } else {
        json_t *e = json_object_get(r, "error");
        fprintf(stderr, "rvisor: %s: %s\n", json_string_value(json_object_get(e, "code")),
                json_string_value(json_object_get(e, "message")));
        status = 1;
    }
    json_decref(r);
    return status;
}
