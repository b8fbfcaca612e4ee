/* The manager's requests (mgr_schema.c describes them): validated by the shared parser, then
 * carried out on the VM table (mgr.c) under the manager's lock. Talking to a VM's own API
 * happens without the lock (only this thread removes VMs, so the VM stays). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "hv/api_client.h"
#include "hv/mgr_config.h"
#include "hv/mgr_internal.h"
#include "hv/mgr_proc.h"
#include "hv/mgr_store.h"

#define VM_API_TIMEOUT_MS 10000
#define STATUS_TIMEOUT_MS 2000
#define DEFAULT_STOP_TIMEOUT_S 10
#define KILL_WAIT_MS 5000

static int fail_state(struct rv_api_error *err, const struct mgr_vm *vm, const char *what)
{
    return rv_api_fail(err, "invalid-state", "%s: %s (it is %s)", vm->name, what,
                       mgr_state_name(vm->state));
}

/* The VM's description; `full` adds its paths and configuration. */
static json_t *vm_info(struct rv_mgr *m, struct mgr_vm *vm, bool full)
{
    int64_t up = -1;
    if (vm->pidfd >= 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        up = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - vm->started_ms;
    }
    json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:O?}", "name", vm->name, "state",
                          mgr_state_name(vm->state), "pid",
                          vm->pidfd >= 0 ? json_integer(vm->pid) : json_null(), "uptime_ms",
                          up >= 0 ? json_integer(up) : json_null(), "exit", vm->exit);
    if (!o || !full)
        return o;
    char path[PATH_MAX];
    static const char *const files[][2] = {{"api_socket", RV_MGR_API_SOCK},
                                           {"console_socket", RV_MGR_CONSOLE_SOCK},
                                           {"console_log", RV_MGR_CONSOLE_LOG},
                                           {"run_log", RV_MGR_RUN_LOG}};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        mgr_path(m, vm, files[i][1], path, sizeof(path));
        json_object_set_new(o, files[i][0], json_string(path));
    }
    json_object_set(o, "config", vm->config);
    return o;
}

/* Asks a running VM's API for its status (without the lock) and sets `state` to paused when
 * it is, `status` to the reply when `full`. */
static void add_live_status(json_t *info, bool full)
{
    const char *state = json_string_value(json_object_get(info, "state"));
    const char *api = json_string_value(json_object_get(info, "api_socket"));
    if (!state || strcmp(state, "running") || !api)
        return;
    json_t *r = NULL;
    if (rv_api_call(api, "status", NULL, STATUS_TIMEOUT_MS, &r) == 0 &&
        json_is_true(json_object_get(r, "ok"))) {
        json_t *res = json_object_get(r, "result");
        const char *s = json_string_value(json_object_get(res, "state"));
        if (s && strcmp(s, "paused") == 0)
            json_object_set_new(info, "state", json_string("paused"));
        if (full)
            json_object_set(info, "status", res);
    } else if (full) {
        json_object_set_new(info, "status", json_null());
    }
    json_decref(r);
}

static int req_create(struct rv_mgr *m, const struct rv_api_call *c, const char *name,
                      json_t **res, struct rv_api_error *err)
{
    json_t *config = json_object_get(c->args, "config");
    int rc = rv_mgr_config_check(config, err);
    if (rc)
        return rc;
    if (mgr_find(m, name))
        return rv_api_fail(err, "exists", "a VM named %s exists already", name);
    if (m->nvms >= MGR_MAX_VMS)
        return rv_api_fail(err, "limit", "at most %d VMs", MGR_MAX_VMS);
    if (mkdirat(m->vmsfd, name, 0700) < 0)
        return rv_api_fail(err, errno == EEXIST ? "exists" : "internal", "vms/%s: %s", name,
                           strerror(errno));
    struct mgr_vm *vm = calloc(1, sizeof(*vm));
    json_t *def = json_pack("{s:s,s:O}", "name", name, "config", config);
    int fd = openat(m->vmsfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rc = !vm || !def || fd < 0 ? rv_error_set(-ENOMEM, "out of memory")
                               : rv_mgr_write_json(fd, "config.json", def);
    if (fd >= 0)
        close(fd);
    json_decref(def);
    if (rc) {
        free(vm);
        rv_mgr_remove_dir(m->vmsfd, name);
        return rv_api_fail(err, "internal", "%s", rv_error_get());
    }
    snprintf(vm->name, sizeof(vm->name), "%s", name);
    vm->config = json_incref(config);
    vm->pidfd = -1;
    vm->state = MGR_DEFINED;
    mgr_insert(m, vm);
    *res = vm_info(m, vm, true);
    return 0;
}

static int req_start(struct rv_mgr *m, struct mgr_vm *vm, json_t **res,
                     struct rv_api_error *err)
{
    if (vm->pidfd >= 0)
        return fail_state(err, vm, "start needs a VM without a process");
    if (mgr_vm_start(m, vm))
        return rv_api_fail(err, "internal", "%s", rv_error_get());
    *res = vm_info(m, vm, true);
    return 0;
}

/* Stop: the VM's API `poweroff` presses its power button and the guest shuts down by itself;
 * a VM whose guest cannot be asked (no power button, or no driver for it) gets `poweroff`
 * with `force`, which stops the machine at once as before. Whatever still runs at the
 * deadline is killed (mgr.c). The lock is released around the calls. */
static int req_stop(struct rv_mgr *m, struct mgr_vm *vm, const struct rv_api_call *c,
                    json_t **res, struct rv_api_error *err)
{
    if (vm->pidfd < 0)
        return fail_state(err, vm, "stop needs a running VM");
    int64_t timeout = rv_api_arg_int(c, "timeout_s", DEFAULT_STOP_TIMEOUT_S);
    vm->stop_asked = true;
    vm->state = MGR_STOPPING;
    vm->kill_at_ms = mgr_now_ms() + timeout * 1000;
    if (!vm->kill_at_ms)
        vm->kill_at_ms = 1;
    char api[PATH_MAX];
    mgr_path(m, vm, RV_MGR_API_SOCK, api, sizeof(api));
    pthread_mutex_unlock(&m->lock);
    json_t *r = NULL;
    if (timeout > 0 && rv_api_call(api, "poweroff", NULL, STATUS_TIMEOUT_MS, &r) == 0) {
        bool asked = json_is_true(json_object_get(r, "ok"));
        json_decref(r);
        r = NULL;
        if (!asked && rv_api_call(api, "poweroff", json_pack("{s:b}", "force", 1),
                                  STATUS_TIMEOUT_MS, &r) == 0)
            json_decref(r);
    }
    pthread_mutex_lock(&m->lock);
    *res = vm_info(m, vm, true);
    return 0;
}

static int req_kill(struct rv_mgr *m, struct mgr_vm *vm, json_t **res,
                    struct rv_api_error *err)
{
    if (vm->pidfd < 0)
        return fail_state(err, vm, "kill needs a running VM");
    vm->stop_asked = true;
    vm->state = MGR_STOPPING;
    mgr_vm_signal(vm, SIGKILL);
    *res = vm_info(m, vm, true);
    return 0;
}

static int req_delete(struct rv_mgr *m, struct mgr_vm *vm, const struct rv_api_call *c,
                      json_t **res, struct rv_api_error *err)
{
    if (vm->pidfd >= 0) {
        if (!rv_api_arg_bool(c, "force", false))
            return fail_state(err, vm, "delete needs a VM without a process, or force");
        vm->stop_asked = true;
        vm->state = MGR_STOPPING;
        mgr_vm_signal(vm, SIGKILL);
        /* A copy: the event loop may reap the VM (and close its pidfd) while this waits. */
        struct pollfd p = {fcntl(vm->pidfd, F_DUPFD_CLOEXEC, 0), POLLIN, 0};
        pthread_mutex_unlock(&m->lock);
        int ready = p.fd >= 0 ? poll(&p, 1, KILL_WAIT_MS) : -1;
        if (p.fd >= 0)
            close(p.fd);
        pthread_mutex_lock(&m->lock);
        if (ready > 0)
            mgr_vm_reap(m, vm); /* unless the event loop did meanwhile */
        if (vm->pidfd >= 0)
            return rv_api_fail(err, "internal", "%s: the process did not end", vm->name);
    }
    int fd = openat(m->vmsfd, vm->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        unlinkat(fd, "config.json", 0); /* first: a half-deleted folder is cleaned at start */
        close(fd);
    }
    if (rv_mgr_remove_dir(m->vmsfd, vm->name))
        return rv_api_fail(err, "internal", "%s", rv_error_get());
    struct mgr_vm **p = &m->vms;
    while (*p != vm)
        p = &(*p)->next;
    *p = vm->next;
    m->nvms--;
    *res = json_pack("{s:s}", "name", vm->name);
    json_decref(vm->config);
    json_decref(vm->exit);
    free(vm);
    return 0;
}

static int req_list(struct rv_mgr *m, json_t **res)
{
    json_t *vms = json_array();
    for (struct mgr_vm *vm = m->vms; vms && vm; vm = vm->next) {
        json_t *o = vm_info(m, vm, false);
        char api[PATH_MAX];
        mgr_path(m, vm, RV_MGR_API_SOCK, api, sizeof(api));
        json_object_set_new(o, "api_socket", json_string(api));
        json_array_append_new(vms, o);
    }
    pthread_mutex_unlock(&m->lock);
    size_t i;
    json_t *o;
    json_array_foreach(vms, i, o) {
        add_live_status(o, false);
        json_object_del(o, "api_socket");
    }
    pthread_mutex_lock(&m->lock);
    *res = json_pack("{s:o*}", "vms", vms);
    return 0;
}

/* Forwards a request to the VM's API; its reply comes back as ours. */
static int req_vm(struct rv_mgr *m, struct mgr_vm *vm, const struct rv_api_call *c,
                  json_t **res, struct rv_api_error *err)
{
    if (vm->state != MGR_RUNNING)
        return fail_state(err, vm, "the VM's API needs a running VM");
    char api[PATH_MAX];
    mgr_path(m, vm, RV_MGR_API_SOCK, api, sizeof(api));
    json_t *args = json_object_get(c->args, "arguments");
    pthread_mutex_unlock(&m->lock);
    json_t *r = NULL;
    int rc = rv_api_call(api, rv_api_arg_str(c, "request"), args ? json_deep_copy(args) : NULL,
                         VM_API_TIMEOUT_MS, &r);
    pthread_mutex_lock(&m->lock);
    if (rc)
        return rv_api_fail(err, "unreachable", "%s: %s", vm->name, rv_error_get());
    if (json_is_true(json_object_get(r, "ok"))) {
        *res = json_incref(json_object_get(r, "result"));
        json_decref(r);
        return *res ? 0 : rv_api_fail(err, "internal", "malformed reply from the VM");
    }
    json_t *e = json_object_get(r, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const struct rv_api_schema *s = &rv_mgr_schema;
    const char *known = "internal";
    for (size_t i = 0; code && i < s->nerrors; i++)
        if (strcmp(s->errors[i].code, code) == 0)
            known = s->errors[i].code;
    rv_api_fail(err, known, "%s: %s", vm->name,
                json_string_value(json_object_get(e, "message")) ?: "error");
    json_decref(r);
    return -EINVAL;
}

static int dispatch(struct rv_mgr *m, const struct rv_api_call *c, json_t **res,
                    struct rv_api_error *err)
{
    const char *req = c->req->name;
    if (strcmp(req, "schema") == 0) {
        *res = rv_api_schema_to_json(&rv_mgr_schema);
        return 0;
    }
    if (strcmp(req, "list") == 0)
        return req_list(m, res);
    const char *name = rv_api_arg_str(c, "name");
    int rc = rv_mgr_check_name(name, err);
    if (rc)
        return rc;
    if (strcmp(req, "create") == 0)
        return req_create(m, c, name, res, err);
    struct mgr_vm *vm = mgr_find(m, name);
    if (!vm)
        return rv_api_fail(err, "not-found", "no VM named %s", name);
    if (strcmp(req, "start") == 0)
        return req_start(m, vm, res, err);
    if (strcmp(req, "stop") == 0)
        return req_stop(m, vm, c, res, err);
    if (strcmp(req, "kill") == 0)
        return req_kill(m, vm, res, err);
    if (strcmp(req, "delete") == 0)
        return req_delete(m, vm, c, res, err);
    if (strcmp(req, "vm") == 0)
        return req_vm(m, vm, c, res, err);
    *res = vm_info(m, vm, true); /* info */
    if (vm->state == MGR_RUNNING) {
        pthread_mutex_unlock(&m->lock);
        add_live_status(*res, true);
        pthread_mutex_lock(&m->lock);
    }
    return 0;
}

char *rv_mgr_handle_line(struct rv_mgr *m, const char *line, size_t len)
{
    struct rv_api_call call;
    struct rv_api_error err;
    json_t *result = NULL;
    int rc = rv_api_parse_schema(&rv_mgr_schema, line, len, &call, &err);
    if (!rc) {
        pthread_mutex_lock(&m->lock);
        rc = dispatch(m, &call, &result, &err);
        pthread_mutex_unlock(&m->lock);
        if (!rc && !result)
            rc = rv_api_fail(&err, "internal", "out of memory");
    }
    char *reply = rc ? rv_api_reply_error(call.id, &err) : rv_api_reply_ok(call.id, result);
    rv_api_call_free(&call);
    return reply;
}
