/* The manager's requests and error codes (mgr_schema.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/mgr_config.h"
#include "hv/mgr_schema.h"

#define NAME_ARG {"name", RV_API_STRING, true, 1, RV_MGR_NAME_MAX, "the VM's name"}

static const struct rv_api_request requests[] = {
    {"create", RV_API_ANY,
     "Defines a VM: its configuration is checked and saved in the state folder "
     "(`vms/NAME/config.json`); it is not started.",
     "the VM's `info`",
     {NAME_ARG,
      {"config", RV_API_OBJECT, true, 0, 64,
       "the `rvisor run` options, as the configuration table below lists them"}}},
    {"start", RV_API_DOWN,
     "Starts the VM's own process (`rvisor run` with the saved configuration, its API on "
     "`vms/NAME/api.sock`, its console on `vms/NAME/console.sock`).",
     "the VM's `info`", {NAME_ARG}},
    {"stop", RV_API_LIVE,
     "Asks the VM through its API to power off (its power button; `force` when the guest "
     "cannot be asked), and kills its process if it has not ended after `timeout_s` seconds. Replies at once with state `stopping`; `info` shows when it "
     "is `stopped`.",
     "the VM's `info`",
     {NAME_ARG,
      {"timeout_s", RV_API_INTEGER, false, 0, 600, "seconds before the kill (default 10)"}}},
    {"kill", RV_API_LIVE, "Kills the VM's process (SIGKILL); it ends `stopped`.",
     "the VM's `info`", {NAME_ARG}},
    {"delete", RV_API_ANY,
     "Forgets the VM: removes its folder (configuration, logs, sockets; never its disks). "
     "A VM that has a process is refused unless `force` is true, which kills it first.",
     "`name`",
     {NAME_ARG, {"force", RV_API_BOOLEAN, false, 0, 0, "kill a running VM first"}}},
    {"info", RV_API_ANY, "One VM.",
     "`name`, `state` (`defined`, `running`, `paused`, `stopping`, `stopped` or `failed`), "
     "`pid` (or null), `uptime_ms`, `exit` (after a run: `status`, `signal`, `reason`), "
     "`config`, the paths `api_socket`, `console_socket`, `console_log` and `run_log`, and "
     "`status` (the VM API's own status reply, while it runs)",
     {NAME_ARG}},
    {"list", RV_API_ANY, "Every VM, sorted by name.",
     "`vms`: one object per VM with `name`, `state`, `pid`, `uptime_ms` and `exit`", {{0}}},
    {"vm", RV_API_LIVE,
     "Forwards one request to the VM's own API (docs/api.md, above: `pause`, `resume`, "
     "`status`, `stats`, `balloon` ...) and returns its reply; the VM validates it.",
     "the VM's result; an error reply of the VM comes back with its code",
     {NAME_ARG,
      {"request", RV_API_STRING, true, 1, 32, "the VM API's request"},
      {"arguments", RV_API_OBJECT, false, 0, RV_API_MAX_ARGS, "its arguments"}}},
    {"schema", RV_API_ANY, "This schema, as JSON.",
     "`requests`: name, `needs`, `arguments` (name, `type`, `required`, `min`, `max`)", {{0}}},
};

static const struct rv_api_error_code errors[] = {
    {"parse-error", "the line is not one JSON object (syntax, invalid UTF-8, duplicate keys, "
                    "longer than 65536 bytes)"},
    {"invalid-request", "the object is not a request (as for the VM API)"},
    {"unknown-request", "no request of that name"},
    {"invalid-argument", "an unknown argument, a missing required one, a wrong type, a value "
                         "out of range, a bad VM name or a bad configuration field"},
    {"not-found", "no VM of that name"},
    {"exists", "a VM of that name exists already"},
    {"invalid-state", "the VM's state does not allow the request (start when running, "
                      "delete without force when running ...)"},
    {"limit", "too many VMs (at most 256)"},
    {"unreachable", "the VM's API did not answer"},
    {"unsupported", "(from a VM's API) the VM lacks what the request needs"},
    {"busy", "too many clients are connected; the connection is closed"},
    {"internal", "the request was valid but failed on the host (the message says why)"},
};

const struct rv_api_schema rv_mgr_schema = {requests, sizeof(requests) / sizeof(requests[0]),
                                            errors, sizeof(errors) / sizeof(errors[0])};

int rv_mgr_check_name(const char *name, struct rv_api_error *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > RV_MGR_NAME_MAX || name[0] == '.' ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
        return rv_api_fail(err, "invalid-argument",
                           "a VM name is 1..%d of A-Z a-z 0-9 _ . - and does not start with "
                           "'.'", RV_MGR_NAME_MAX);
    return 0;
}

char *rv_mgr_schema_markdown(void)
{
    char *reqs = rv_api_schema_to_markdown(&rv_mgr_schema);
    char *cfg = rv_mgr_config_markdown();
    char *out = NULL;
    if (reqs && cfg && asprintf(&out, "%s\nThe `config` object of `create`:\n\n%s", reqs, cfg) < 0)
        out = NULL;
    free(reqs);
    free(cfg);
    return out;
}
