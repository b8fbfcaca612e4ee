/* The control API's schema and the validation of requests against it (api_schema.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/api_schema.h"

const struct rv_api_request rv_api_requests[] = {
    {"status", RV_API_ANY, "The VM's state and size.",
     "`state` (`\"running\"`, `\"paused\"` or `\"stopped\"`), `uptime_ms`, `vcpus`, "
     "`memory_mib`, `accel` (`\"jit\"` or `\"interp\"`), `mmu` (the largest virtual-memory "
     "scheme of the vCPUs: `\"sv39\"`, `\"sv48\"` or `\"sv57\"`), `balloon` (a balloon device is "
     "present), `power_button` (`\"ready\"`: a guest driver uses it, `\"no-driver\"`, or "
     "`\"absent\"`)",
     {{0}}},
    {"stats", RV_API_ANY,
     "Counters, read without stopping the vCPUs (while running they may lag by one slice).",
     "`harts`: one object per vCPU with `id`, `instret` (instructions retired since the last "
     "reset), `exits` (run-loop exits by reason: `budget`, `ecall` (SBI calls), `mtrap`, "
     "`wfi`, `stop`, `debug`), `traps` (`exceptions` and `interrupts` taken, by cause name "
     "such as `load_page_fault` or `supervisor_timer`; only causes seen), `tlb_misses` (page "
     "walks filling the TLB) and `jit` (`blocks` and `guest_insns` translated, `code_bytes`, "
     "`flushes`, `invalidations`; `null` under the interpreter); `sbi_calls`: SBI calls "
     "answered by rvisor by extension (`base`, `time`, `ipi`, `rfence`, `hsm`, `srst`, `dbcn`, "
     "`legacy`, `other`); `mmio`: one object per device region with `device`, `base`, `reads` "
     "and `writes` by the vCPUs; `devices`: `balloon` (`target_pages`, `actual_pages`, "
     "`released_pages`) or `null`",
     {{0}}},
    {"pause", RV_API_RUNNING,
     "Parks every vCPU after its current slice and replies once all are parked. Guest time "
     "keeps running (mtime follows the host clock), as on a suspended host.",
     "`state`", {{0}}},
    {"resume", RV_API_PAUSED, "Lets the parked vCPUs run again.", "`state`", {{0}}},
    {"poweroff", RV_API_LIVE,
     "Asks the guest to shut down, as an ACPI power button does on a PC: the board's power "
     "button (a virtio-input device with the single key KEY_POWER, see the README) is pressed "
     "and released, and the guest's own shutdown ends with its syscon power-off write "
     "(`rvisor run` exits with status 0). The reply comes at once, while the VM still runs; "
     "whether and when the guest stops is its business (systemd-logind and the test guest's "
     "init shut down; a guest without a handler ignores the key). Error `unsupported` when "
     "the VM has no power button (`--no-power-button`) or no guest driver uses it yet "
     "(`status` says `power_button`: `\"no-driver\"`), `invalid-state` if earlier presses "
     "still wait for the guest. With `force` the guest is not asked: the machine stops at "
     "once as the guest's syscon power-off write would stop it (vCPUs stop at an instruction "
     "boundary, disks are flushed and closed, exit status 0), so the guest's caches are not "
     "written back.",
     "`state`",
     {{"force", RV_API_BOOLEAN, false, 0, 1,
       "stop the machine at once without asking the guest (default false)"}}},
    {"kill", RV_API_LIVE, "Ends the run at once: `rvisor run` exits with status 127.", "`state`",
     {{0}}},
    {"reset", RV_API_LIVE,
     "A hardware reset: devices and vCPUs return to their reset state and the boot images are "
     "loaded again (under `--no-reboot` the run ends with status 124 instead). A paused VM "
     "stays paused.",
     "`state`", {{0}}},
    {"balloon", RV_API_LIVE,
     "Asks the guest's balloon driver to leave it `target_mib` of RAM (inflating or deflating "
     "the balloon). Needs `--balloon` (error `unsupported` otherwise).",
     "`target_mib`",
     {{"target_mib", RV_API_INTEGER, true, 1, 65536,
       "guest RAM in MiB, at most the VM's memory"}}},
    {"snapshot", RV_API_PAUSED,
     "Writes the paused VM's complete state (configuration, vCPUs, devices, guest time, RAM) "
     "to a snapshot file for `rvisor restore` (docs/state.md). RAM is stored as zstd batches "
     "of its non-zero pages, or with `mappable` as a page-aligned raw image (sparse) that "
     "restore maps copy-on-write (lazy restore, clones). Disks: each writable disk's image is "
     "frozen as part of the snapshot and the VM continues on a new qcow2 overlay "
     "`PATH.diskN.qcow2` backed by it; a logical volume `vol:VG/LV` is frozen by a volume "
     "snapshot `VG/LV.snapN` instead and the VM goes on writing the volume "
     "(docs/volumes.md). Disk and NIC workers are quiesced while saving.",
     "`path`, `file_bytes`, `ram_pages`, `zero_pages` (skipped), `duration_ms`, `disks` "
     "(frozen: switched to a new overlay, or volumes snapshotted), `mappable`",
     {{"path", RV_API_STRING, true, 1, 3900, "the snapshot file, in the VM's state directory (the API socket's; "
                                            "relative to it; no `..`) (replaced if it exists)"},
      {"mappable", RV_API_BOOLEAN, false, 0, 1,
       "store RAM uncompressed and page-aligned, for lazy restore and clones"}}},
    {"migrate", RV_API_RUNNING,
     "Starts a live migration to `rvisor run --incoming tcp:HOST:PORT` and replies at once; "
     "`migrate-status` follows it. Pre-copy rounds send the pages dirtied during the previous "
     "round until few are left or `max_rounds` is reached, then the vCPUs park for the "
     "stop-and-copy. Disks must be on storage both hosts see at the same paths (they are "
     "flushed before the hand-over), or be copied along (`copy_storage`: the writable disks' "
     "contents go with the memory, pre-copied with dirty-block tracking, into the images the "
     "destination was given with `--disk`). On success the VM stops here (`rvisor run` exits with status 0); if the "
     "connection fails or the destination rejects the stream, it keeps running. If the "
     "connection is lost right after the VM was handed over, it waits paused (`migrate-status` "
     "error \"hand-over unconfirmed\"): `resume` continues it here if the destination is not "
     "running. Without `fd` the VM connects to `to` itself, which a sandboxed VM can only do "
     "with the host's network (docs/sandbox.md).",
     "`migration` (`\"active\"`)",
     {{"to", RV_API_STRING, true, 5, 300,
       "the destination, `tcp:HOST:PORT` (with `fd`: only its name in messages)"},
      {"fd", RV_API_BOOLEAN, false, 0, 1,
       "the connection to the destination comes with this line: a connected stream socket "
       "sent with SCM_RIGHTS in the same `sendmsg` (docs/api.md, \"Passing a descriptor\"); "
       "the VM then connects nowhere itself (`rvisor migrate` always does this)"},
      {"bandwidth_mib", RV_API_INTEGER, false, 1, 1000000, "limit in MiB/s (default: none)"},
      {"max_rounds", RV_API_INTEGER, false, 1, 1000, "pre-copy rounds at most (default 30)"},
      {"copy_storage", RV_API_BOOLEAN, false, 0, 1,
       "copy the writable disks along (default: shared storage)"}}},
    {"migrate-status", RV_API_ANY, "The progress of the last migration started.",
     "`migration` (`\"none\"`, `\"active\"`, `\"done\"` or `\"failed\"`), `round`, "
     "`bytes_sent`, `pages_sent`, `dirty_pages` (after the last round), `ram_pages`, "
     "`disk_bytes` (copy_storage: disk data sent, zero chunks not counted), "
     "`downtime_ms` (vCPUs parked for the stop-and-copy), `total_ms`, `error`",
     {{0}}},
    {"schema", RV_API_ANY, "This schema, as JSON.",
     "`requests`: name, `needs`, `arguments` (name, `type`, `required`, `min`, `max`)", {{0}}},
};
const size_t rv_api_nrequests = sizeof(rv_api_requests) / sizeof(rv_api_requests[0]);

const struct rv_api_error_code rv_api_error_codes[] = {
    {"parse-error", "the line is not one JSON object (syntax, invalid UTF-8, duplicate keys, "
                    "longer than 65536 bytes)"},
    {"invalid-request", "the object is not a request: `request` missing or not a string, `id` "
                        "not an integer in 0..2^53-1, `arguments` not an object, or a field "
                        "other than these three"},
    {"unknown-request", "no request of that name"},
    {"invalid-argument", "an unknown argument, a missing required one, a wrong type or a value "
                         "out of range"},
    {"invalid-state", "the VM's state does not allow the request (pause when paused, resume "
                      "when running, anything but status/stats/schema when stopped)"},
    {"unsupported", "the VM lacks what the request needs (balloon without a balloon device, "
                    "poweroff without a power button or a guest driver for it)"},
    {"busy", "too many clients are connected; the connection is closed"},
    {"internal", "the request was valid but failed on the host"},
};
const size_t rv_api_nerror_codes = sizeof(rv_api_error_codes) / sizeof(rv_api_error_codes[0]);

const struct rv_api_schema rv_api_vm_schema = {
    rv_api_requests, sizeof(rv_api_requests) / sizeof(rv_api_requests[0]), rv_api_error_codes,
    sizeof(rv_api_error_codes) / sizeof(rv_api_error_codes[0])};

static const char *const type_names[] = {[RV_API_INTEGER] = "integer",
                                         [RV_API_BOOLEAN] = "boolean",
                                         [RV_API_STRING] = "string",
                                         [RV_API_OBJECT] = "object"};
static const char *const needs_names[] = {
    [RV_API_ANY] = "any", [RV_API_LIVE] = "running or paused", [RV_API_RUNNING] = "running",
    [RV_API_PAUSED] = "paused", [RV_API_DOWN] = "defined, stopped or failed"};

#define fail rv_api_fail

int rv_api_fail(struct rv_api_error *err, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    /* Messages quote client input (jansson's error text does too): keep them printable ASCII
     * so that the reply is valid UTF-8 whatever was sent. */
    for (char *p = err->message; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            *p = '?';
    return -EINVAL;
}

/* A client-supplied name fit for an error message: printable ASCII, at most 40 characters
 * (messages must stay valid UTF-8 and short whatever the client sent). */
static const char *printable(const char *s, char *buf, size_t size)
{
    size_t n = 0;
    for (; *s && n + 4 < size && n < 40; s++)
        buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    if (*s)
        buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
    buf[n] = 0;
    return buf;
}

const struct rv_api_request *rv_api_schema_find(const struct rv_api_schema *s, const char *name)
{
    for (size_t i = 0; i < s->nrequests; i++)
        if (strcmp(s->requests[i].name, name) == 0)
            return &s->requests[i];
    return NULL;
}

const struct rv_api_request *rv_api_find(const char *name)
{
    return rv_api_schema_find(&rv_api_vm_schema, name);
}

static const struct rv_api_arg *find_arg(const struct rv_api_request *req, const char *name)
{
    for (const struct rv_api_arg *a = req->args; a < req->args + RV_API_MAX_ARGS && a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

int rv_api_check_args(const struct rv_api_request *req, json_t *args, struct rv_api_error *err)
{
    char nb[48];
    const char *key;
    json_t *v;
    json_object_foreach(args, key, v) {
        const struct rv_api_arg *a = find_arg(req, key);
        if (!a)
            return fail(err, "invalid-argument", "%s takes no argument '%s'", req->name,
                        printable(key, nb, sizeof(nb)));
        bool ok = (a->type == RV_API_INTEGER && json_is_integer(v)) ||
                  (a->type == RV_API_BOOLEAN && json_is_boolean(v)) ||
                  (a->type == RV_API_STRING && json_is_string(v)) ||
                  (a->type == RV_API_OBJECT && json_is_object(v));
        if (!ok)
            return fail(err, "invalid-argument", "%s: '%s' must be a JSON %s", req->name,
                        a->name, type_names[a->type]);
        int64_t n = a->type == RV_API_INTEGER  ? (int64_t)json_integer_value(v)
                    : a->type == RV_API_STRING ? (int64_t)json_string_length(v)
                    : a->type == RV_API_OBJECT ? (int64_t)json_object_size(v)
                                               : 0;
        if (a->type != RV_API_BOOLEAN && (n < a->min || n > a->max))
            return fail(err, "invalid-argument", "%s: '%s' must be %s%lld..%lld", req->name,
                        a->name,
                        a->type == RV_API_STRING   ? "a string of length "
                        : a->type == RV_API_OBJECT ? "an object with a number of members in "
                                                   : "",
                        (long long)a->min, (long long)a->max);
        if (a->type == RV_API_STRING && strlen(json_string_value(v)) != json_string_length(v))
            return fail(err, "invalid-argument", "%s: '%s' must not contain NUL characters",
                        req->name, a->name);
    }
    for (const struct rv_api_arg *a = req->args; a < req->args + RV_API_MAX_ARGS && a->name; a++)
        if (a->required && !json_object_get(args, a->name))
            return fail(err, "invalid-argument", "%s needs the argument '%s'", req->name,
                        a->name);
    return 0;
}

int rv_api_parse(const char *line, size_t len, struct rv_api_call *call,
                 struct rv_api_error *err)
{
    return rv_api_parse_schema(&rv_api_vm_schema, line, len, call, err);
}

int rv_api_parse_schema(const struct rv_api_schema *s, const char *line, size_t len,
                        struct rv_api_call *call, struct rv_api_error *err)
{
    char nb[48];
    *call = (struct rv_api_call){.fd = -1};
    if (len > RV_API_MAX_LINE)
        return fail(err, "parse-error", "request line longer than %d bytes", RV_API_MAX_LINE);
    json_error_t jerr;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return fail(err, "parse-error", "invalid JSON at byte %d: %.120s", jerr.position,
                    jerr.text);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = fail(err, "invalid-request", "a request is a JSON object");
        goto out;
    }
    json_t *id = json_object_get(root, "id");
    if (id) {
        if (!json_is_integer(id) || json_integer_value(id) < 0 ||
            json_integer_value(id) > RV_API_MAX_ID) {
            rc = fail(err, "invalid-request", "'id' must be an integer in 0..2^53-1");
            goto out;
        }
        call->id = json_incref(id);
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "id") && strcmp(key, "request") && strcmp(key, "arguments")) {
            rc = fail(err, "invalid-request", "unknown field '%s' (a request has id, request "
                      "and arguments)", printable(key, nb, sizeof(nb)));
            goto out;
        }
    }
    json_t *name = json_object_get(root, "request");
    if (!json_is_string(name)) {
        rc = fail(err, "invalid-request", "'request' must be a string naming the request");
        goto out;
    }
    call->req = rv_api_schema_find(s, json_string_value(name));
    if (!call->req || strlen(json_string_value(name)) != json_string_length(name)) {
        rc = fail(err, "unknown-request", "unknown request '%s' (the schema request lists them)",
                  printable(json_string_value(name), nb, sizeof(nb)));
        goto out;
    }
    json_t *args = json_object_get(root, "arguments");
    if (args && !json_is_object(args)) {
        rc = fail(err, "invalid-request", "'arguments' must be an object");
        goto out;
    }
    call->args = args ? json_incref(args) : json_object();
    if (!call->args)
        rc = fail(err, "internal", "out of memory");
    else
        rc = rv_api_check_args(call->req, call->args, err);
out:
    json_decref(root);
    return rc;
}

void rv_api_call_free(struct rv_api_call *call)
{
    json_decref(call->id);
    json_decref(call->args);
    *call = (struct rv_api_call){.fd = -1};
}

int64_t rv_api_arg_int(const struct rv_api_call *call, const char *name, int64_t dflt)
{
    json_t *v = json_object_get(call->args, name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

bool rv_api_arg_bool(const struct rv_api_call *call, const char *name, bool dflt)
{
    json_t *v = json_object_get(call->args, name);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

const char *rv_api_arg_str(const struct rv_api_call *call, const char *name)
{
    return json_string_value(json_object_get(call->args, name));
}

int rv_api_args_from_words(const struct rv_api_request *req, int n, char **words, json_t **out,
                           struct rv_api_error *err)
{
    char nb[48];
    json_t *args = json_object();
    if (!args)
        return fail(err, "internal", "out of memory");
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        char *eq = strchr(words[i], '=');
        if (!eq) {
            rc = fail(err, "invalid-argument", "'%s' is not key=value",
                      printable(words[i], nb, sizeof(nb)));
            break;
        }
        *eq = 0;
        const char *val = eq + 1;
        const struct rv_api_arg *a = find_arg(req, words[i]);
        json_t *v = NULL;
        if (!a) {
            rc = fail(err, "invalid-argument", "%s takes no argument '%s'", req->name,
                      printable(words[i], nb, sizeof(nb)));
        } else if (json_object_get(args, a->name)) {
            rc = fail(err, "invalid-argument", "'%s' given twice", a->name);
        } else if (a->type == RV_API_INTEGER) {
            char *end;
            errno = 0;
            long long x = strtoll(val, &end, 10);
            if (errno || end == val || *end)
                rc = fail(err, "invalid-argument", "%s: '%s' must be an integer", req->name,
                          a->name);
            else
                v = json_integer(x);
        } else if (a->type == RV_API_OBJECT) {
            json_error_t jerr;
            v = json_loads(val, JSON_REJECT_DUPLICATES, &jerr);
            if (!json_is_object(v)) {
                json_decref(v);
                v = NULL;
                rc = fail(err, "invalid-argument", "%s: '%s' must be a JSON object", req->name,
                          a->name);
            }
        } else if (a->type == RV_API_BOOLEAN) {
            if (strcmp(val, "true") && strcmp(val, "false"))
                rc = fail(err, "invalid-argument", "%s: '%s' must be true or false", req->name,
                          a->name);
            else
                v = json_boolean(strcmp(val, "true") == 0);
        } else {
            v = json_string(val);
            if (!v)
                rc = fail(err, "invalid-argument", "%s: '%s' is not valid UTF-8", req->name,
                          a->name);
        }
        *eq = '=';
        if (!rc && (!v || json_object_set_new(args, a->name, v)))
            rc = fail(err, "internal", "out of memory");
    }
    if (!rc)
        rc = rv_api_check_args(req, args, err);
    if (rc) {
        json_decref(args);
        return rc;
    }
    *out = args;
    return 0;
}

static char *dump_line(json_t *reply)
{
    char *s = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
    json_decref(reply);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = 0;
    return line;
}

char *rv_api_reply_ok(json_t *id, json_t *result)
{
    return dump_line(json_pack("{s:O,s:b,s:o}", "id", id ? id : json_null(), "ok", 1, "result",
                               result ? result : json_object()));
}

char *rv_api_reply_error(json_t *id, const struct rv_api_error *err)
{
    return dump_line(json_pack("{s:O,s:b,s:{s:s,s:s}}", "id", id ? id : json_null(), "ok", 0,
                               "error", "code", err->code, "message", err->message));
}

static const char *needs_text(const struct rv_api_request *r)
{
    return needs_names[r->needs];
}

json_t *rv_api_schema_json(void)
{
    return rv_api_schema_to_json(&rv_api_vm_schema);
}

char *rv_api_schema_markdown(void)
{
    return rv_api_schema_to_markdown(&rv_api_vm_schema);
}

json_t *rv_api_schema_to_json(const struct rv_api_schema *s)
{
    json_t *reqs = json_array();
    for (size_t i = 0; reqs && i < s->nrequests; i++) {
        const struct rv_api_request *r = &s->requests[i];
        json_t *args = json_array();
        for (const struct rv_api_arg *a = r->args;
             args && a < r->args + RV_API_MAX_ARGS && a->name; a++)
            json_array_append_new(args, json_pack("{s:s,s:s,s:b,s:I,s:I}", "name", a->name,
                                                  "type", type_names[a->type], "required",
                                                  a->required, "min", (json_int_t)a->min,
                                                  "max", (json_int_t)a->max));
        json_array_append_new(reqs, json_pack("{s:s,s:s,s:o*}", "name", r->name, "needs",
                                              needs_text(r), "arguments", args));
    }
    return json_pack("{s:o*}", "requests", reqs);
}

char *rv_api_schema_to_markdown(const struct rv_api_schema *s)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    fprintf(f, "| request | needs a VM that is | arguments | result |\n"
               "|---|---|---|---|\n");
    for (size_t i = 0; i < s->nrequests; i++) {
        const struct rv_api_request *r = &s->requests[i];
        fprintf(f, "| `%s` | %s | ", r->name, needs_text(r));
        if (!r->args[0].name)
            fprintf(f, "none");
        for (const struct rv_api_arg *a = r->args; a < r->args + RV_API_MAX_ARGS && a->name;
             a++)
        {
            fprintf(f, "%s`%s`: %s", a == r->args ? "" : "; ", a->name, type_names[a->type]);
            if (a->type == RV_API_OBJECT)
                fprintf(f, " of up to %lld members", (long long)a->max);
            else if (a->type != RV_API_BOOLEAN)
                fprintf(f, " %lld..%lld", (long long)a->min, (long long)a->max);
            fprintf(f, ", %s (%s)", a->required ? "required" : "optional", a->doc);
        }
        fprintf(f, " | %s |\n", r->result);
    }
    fprintf(f, "\n");
    for (size_t i = 0; i < s->nrequests; i++)
        fprintf(f, "- `%s`: %s\n", s->requests[i].name, s->requests[i].doc);
    fprintf(f, "\nError codes:\n\n");
    for (size_t i = 0; i < s->nerrors; i++)
        fprintf(f, "- `%s`: %s\n", s->errors[i].code, s->errors[i].doc);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
