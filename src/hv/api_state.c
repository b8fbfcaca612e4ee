/* Snapshot and migration requests of the control API (api_state.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsjail.h"
#include "hv/api_state.h"
#include "rvisor/state.h"

static const char *const migrate_states[] = {
    [RV_MIGRATE_NONE] = "none", [RV_MIGRATE_ACTIVE] = "active", [RV_MIGRATE_DONE] = "done",
    [RV_MIGRATE_FAILED] = "failed"};

/* Progress on the VM's own terminal, if stderr is one (the requester may be elsewhere). */
static void snapshot_progress(void *opaque, uint64_t done, uint64_t total)
{
    (void)opaque;
    if (isatty(STDERR_FILENO) && total)
        fprintf(stderr, "\rrvisor: snapshot %3u%%%s", (unsigned)(done * 100 / total),
                done == total ? "\r\n" : "");
}

static json_t *snapshot(struct rv_vm *vm, const struct rv_api_call *call, int *rc)
{
    /* Confined to the VM's state directory (docs/sandbox.md): only it stays reachable. */
    char path[4096];
    *rc = rv_fs_state_path("snapshot path", rv_api_arg_str(call, "path"), path, sizeof(path));
    if (*rc)
        return NULL;
    struct rv_snapshot_opts o = {
        .path = path,
        .mappable = rv_api_arg_bool(call, "mappable", false),
        .progress = snapshot_progress,
    };
    struct rv_snapshot_result r;
    *rc = rv_vm_snapshot(vm, &o, &r);
    if (*rc)
        return NULL;
    return json_pack("{s:s,s:I,s:I,s:I,s:I,s:i,s:b}", "path", o.path, "file_bytes",
                     (json_int_t)r.file_bytes, "ram_pages", (json_int_t)r.ram_pages,
                     "zero_pages", (json_int_t)r.zero_pages, "duration_ms",
                     (json_int_t)(r.duration_ns / 1000000), "disks", (int)r.disks, "mappable",
                     o.mappable);
}

/* The descriptor a migrate request with `fd` must come with: a connected stream socket. */
static int migration_socket(const struct rv_api_call *call)
{
    int type = 0;
    socklen_t len = sizeof(type);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    if (call->fd < 0)
        return rv_error_set(-EINVAL, "fd: true, but no descriptor came with the request line "
                                     "(send it with SCM_RIGHTS in the same sendmsg as the line)");
    if (getsockopt(call->fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
        return rv_error_set(-EINVAL, "fd: the descriptor sent is not a stream socket");
    if (getpeername(call->fd, (struct sockaddr *)&peer, &plen) < 0)
        return rv_error_set(-EINVAL, "fd: the socket sent is not connected");
    return call->fd;
}

static json_t *migrate(struct rv_vm *vm, struct rv_api_call *call, int *rc)
{
    struct rv_migrate_opts o = {
        .to = rv_api_arg_str(call, "to"),
        .bandwidth = (uint64_t)rv_api_arg_int(call, "bandwidth_mib", 0) << 20,
        .max_rounds = (unsigned)rv_api_arg_int(call, "max_rounds", 0),
        .copy_storage = rv_api_arg_bool(call, "copy_storage", false),
    };
    if (rv_api_arg_bool(call, "fd", false)) {
        *rc = migration_socket(call);
        if (*rc < 0)
            return NULL;
        o.fd = *rc;
        o.connected = true;
    }
    *rc = rv_vm_migrate_start(vm, &o);
    if (o.connected && !*rc)
        call->fd = -1; /* the migration owns it now */
    return *rc ? NULL : json_pack("{s:s}", "migration", "active");
}

static json_t *migrate_status(struct rv_vm *vm)
{
    struct rv_migrate_status st;
    rv_vm_migrate_status(vm, &st);
    if (st.state == RV_MIGRATE_DONE)
        rv_vm_migrate_ack(vm);
    return json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "migration",
                     migrate_states[st.state], "round", (int)st.round, "bytes_sent",
                     (json_int_t)st.bytes_sent, "pages_sent", (json_int_t)st.pages_sent,
                     "dirty_pages", (json_int_t)st.dirty_pages, "ram_pages",
                     (json_int_t)st.ram_pages, "disk_bytes", (json_int_t)st.disk_bytes,
                     "downtime_ms",
                     (json_int_t)(st.downtime_ns / 1000000), "total_ms",
                     (json_int_t)(st.total_ns / 1000000), "error", st.error);
}

int rv_api_state_dispatch(struct rv_vm *vm, struct rv_api_call *call, json_t **result,
                          int *rc)
{
    const char *name = call->req->name;
    *rc = 0;
    if (strcmp(name, "snapshot") == 0)
        *result = snapshot(vm, call, rc);
    else if (strcmp(name, "migrate") == 0)
        *result = migrate(vm, call, rc);
    else if (strcmp(name, "migrate-status") == 0)
        *result = migrate_status(vm);
    else
        return 0;
    return 1;
}
