/* `rvisor snapshot`, `restore`, `migrate` and `run --incoming` (state_cli.h): front ends over
 * include/rvisor/state.h and the control API. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/state_cli.h"
#include "core/error.h"
#include "hv/api_client.h"
#include "rvisor/state.h"

#define REPLY_TIMEOUT_MS (600 * 1000) /* a snapshot of a large VM takes a while */

/* Sends request `name` with `args` (stolen). Returns 0 with *result (a new reference), 1 after
 * an error reply, 2 without a reply; errors are printed. */
static int rv_cli_request_fd(const char *sock, const char *name, json_t *args, int pass_fd,
                             json_t **result)
{
    json_t *r;
    *result = NULL;
    if (rv_api_call_fd(sock, name, args, pass_fd, REPLY_TIMEOUT_MS, &r)) {
        fprintf(stderr, "rvisor: %s\n", rv_error_get());
        return 2;
    }
    int status = 1;
    if (json_is_true(json_object_get(r, "ok"))) {
        *result = json_incref(json_object_get(r, "result"));
        status = 0;
    } else {
        json_t *e = json_object_get(r, "error");
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        fprintf(stderr, "rvisor: %s: %s\n", code ? code : "?", msg ? msg : "?");
    }
    json_decref(r);
    return status;
}

static int rv_cli_request(const char *sock, const char *name, json_t *args, json_t **result)
{
    return rv_cli_request_fd(sock, name, args, -1, result);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "rvisor: %s (see rvisor --help)\n", msg);
    return 2;
}

/* A path the VM's process (maybe in another directory) finds as the user meant it. */
static int absolute(const char *path, char *out, size_t size)
{
    char cwd[PATH_MAX];
    if (path[0] == '/')
        return snprintf(out, size, "%s", path) < (int)size ? 0 : -1;
    if (!getcwd(cwd, sizeof(cwd)))
        return -1;
    return snprintf(out, size, "%s/%s", cwd, path) < (int)size ? 0 : -1;
}

static const char *state_of(const char *sock)
{
    static char state[16];
    json_t *r;
    if (rv_cli_request(sock, "status", json_object(), &r))
        return NULL;
    snprintf(state, sizeof(state), "%s", json_string_value(json_object_get(r, "state")));
    json_decref(r);
    return state;
}

int rv_cli_snapshot(int argc, char **argv)
{
    const char *sock = NULL, *file = NULL;
    bool mappable = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--mappable") == 0)
            mappable = true;
        else if (!sock)
            sock = argv[i];
        else if (!file)
            file = argv[i];
        else
            return usage_error("snapshot takes SOCKET FILE [--mappable]");
    }
    char path[PATH_MAX];
    if (!file)
        return usage_error("snapshot takes SOCKET FILE [--mappable]");
    if (absolute(file, path, sizeof(path)))
        return usage_error("snapshot: file name too long");
    const char *state = state_of(sock);
    if (!state)
        return 1;
    bool pause = strcmp(state, "running") == 0;
    json_t *r = NULL;
    if (pause && rv_cli_request(sock, "pause", json_object(), &r))
        return 1;
    json_decref(r);
    int rc = rv_cli_request(sock, "snapshot",
                            json_pack("{s:s,s:b}", "path", path, "mappable", mappable), &r);
    if (rc == 0) {
        fprintf(stderr, "rvisor: snapshot %s: %.1f MiB, %lld of %lld pages zero, %lld ms\n",
                path, (double)json_integer_value(json_object_get(r, "file_bytes")) / 1048576,
                (long long)json_integer_value(json_object_get(r, "zero_pages")),
                (long long)json_integer_value(json_object_get(r, "ram_pages")),
                (long long)json_integer_value(json_object_get(r, "duration_ms")));
        json_decref(r);
    }
    if (pause) {
        json_t *rr = NULL;
        if (rv_cli_request(sock, "resume", json_object(), &rr))
            rc = 1;
        json_decref(rr);
    }
    return rc;
}

static void restore_progress(void *opaque, uint64_t done, uint64_t total)
{
    (void)opaque;
    if (isatty(STDERR_FILENO) && total)
        fprintf(stderr, "\rrvisor: restore %3u%%%s", (unsigned)(done * 100 / total),
                done == total ? "\n" : "");
}

int rv_cli_vm_from_state(const char *file, bool clone, const char *incoming,
                         const struct rv_vm_config *cfg, struct rv_vm **vm)
{
    struct rv_restore_opts o = {.path = file, .clone = clone, .progress = restore_progress,
                                .console_in_fd = cfg->console_in_fd,
                                .console_out_fd = cfg->console_out_fd,
                                .console_escapes = cfg->console_escapes,
                                .disks = cfg->disks, .ndisks = cfg->ndisks};
    if (incoming) {
        fprintf(stderr, "rvisor: waiting for a migration on %s\n", incoming);
        if (rv_vm_incoming(incoming, &o, vm))
            return rv_error_prefix(-EIO, "incoming migration failed: ");
        fprintf(stderr, "rvisor: migration received, running\n");
        return 0;
    }
    struct rv_restore_result res;
    int rc = rv_vm_restore(&o, vm, &res);
    if (rc)
        return rc;
    fprintf(stderr, "rvisor: restored %s in %.1f ms%s\n", file, res.duration_ns / 1e6,
            res.mapped ? " (RAM mapped copy-on-write, loaded on use)" : "");
    for (unsigned i = 0; i < RV_MAX_DISKS; i++)
        if (res.disk_overlays[i][0])
            fprintf(stderr, "rvisor: disk %u writes to %s\n", i, res.disk_overlays[i]);
    return 0;
}

static void print_status(json_t *r, bool tty, unsigned *last_round)
{
    unsigned round = (unsigned)json_integer_value(json_object_get(r, "round"));
    long long sent = json_integer_value(json_object_get(r, "pages_sent"));
    long long total = json_integer_value(json_object_get(r, "ram_pages"));
    long long dirty = json_integer_value(json_object_get(r, "dirty_pages"));
    if (tty)
        fprintf(stderr, "\rrvisor: migrate round %u, %lld pages sent (RAM %lld), %lld dirty   ",
                round, sent, total, dirty);
    else if (round != *last_round)
        fprintf(stderr, "rvisor: migrate round %u, %lld pages sent, %lld dirty\n", round, sent,
                dirty);
    *last_round = round;
}

int rv_cli_migrate(int argc, char **argv)
{
    const char *sock = NULL;
    json_t *args = json_object();
    for (int i = 0; i < argc; i++) {
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--to") == 0 && val) {
            json_object_set_new(args, "to", json_string(argv[++i]));
        } else if (strcmp(argv[i], "--copy-storage") == 0) {
            json_object_set_new(args, "copy_storage", json_true());
        } else if ((strcmp(argv[i], "--bandwidth") == 0 || strcmp(argv[i], "--max-rounds") == 0)
                   && val) {
            char *end;
            long long n = strtoll(argv[++i], &end, 10);
            if (*end || n < 1) {
                json_decref(args);
                return usage_error("migrate: --bandwidth and --max-rounds take a number");
            }
            json_object_set_new(args, argv[i - 1][2] == 'b' ? "bandwidth_mib" : "max_rounds",
                                json_integer(n));
        } else if (!sock) {
            sock = argv[i];
        } else {
            json_decref(args);
            return usage_error("migrate takes SOCKET --to tcp:HOST:PORT [--bandwidth MIB] "
                               "[--max-rounds N] [--copy-storage]");
        }
    }
    if (!sock || !json_object_get(args, "to")) {
        json_decref(args);
        return usage_error("migrate takes SOCKET --to tcp:HOST:PORT");
    }
    /* The connection is made here and handed to the VM with the request: a VM in a private
     * network namespace (the manager's) or an empty root (no resolver) cannot make it. */
    int conn = rv_migrate_connect(json_string_value(json_object_get(args, "to")));
    if (conn < 0) {
        json_decref(args);
        fprintf(stderr, "rvisor: migrate: %s\n", rv_error_get());
        return 1;
    }
    json_object_set_new(args, "fd", json_true());
    json_t *r = NULL;
    int rc = rv_cli_request_fd(sock, "migrate", args, conn, &r);
    close(conn); /* the VM has its own copy */
    json_decref(r);
    if (rc)
        return rc;
    bool tty = isatty(STDERR_FILENO);
    unsigned last_round = 0;
    for (;;) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (rv_cli_request(sock, "migrate-status", json_object(), &r))
            return 1;
        const char *st = json_string_value(json_object_get(r, "migration"));
        print_status(r, tty, &last_round);
        if (st && strcmp(st, "active") != 0) {
            bool done = strcmp(st, "done") == 0;
            if (done)
                fprintf(stderr, "\nrvisor: migrated in %lld ms (downtime %lld ms), %lld bytes "
                                "sent in %u rounds (%lld bytes of disk data)\n",
                        (long long)json_integer_value(json_object_get(r, "total_ms")),
                        (long long)json_integer_value(json_object_get(r, "downtime_ms")),
                        (long long)json_integer_value(json_object_get(r, "bytes_sent")),
                        last_round,
                        (long long)json_integer_value(json_object_get(r, "disk_bytes")));
            else {
                const char *err = json_string_value(json_object_get(r, "error"));
                bool unsure = err && strstr(err, "hand-over unconfirmed");
                fprintf(stderr, "\nrvisor: migration failed: %s%s\n", err ? err : "?",
                        unsure ? "" : " (the VM keeps running)");
            }
            json_decref(r);
            return done ? 0 : 1;
        }
        json_decref(r);
    }
}
