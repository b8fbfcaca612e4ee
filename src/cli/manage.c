/* `rvisor serve` and the manager's client commands (manage.h): thin translations of the
 * command line into manager requests (hv/mgr_schema.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/console.h"
#include "cli/ctl.h"
#include "cli/manage.h"
#include "core/log.h"
#include "hv/api_client.h"
#include "hv/mgr.h"
#include "hv/mgr_config.h"
#include "hv/mgr_schema.h"
#include "rvisor/vm.h"

#define MGR_TIMEOUT_MS 30000

static const char *const commands[] = {"serve", "create", "start", "stop", "kill",
                                       "delete", "info",   "list",  "console", "vm"};

bool rv_cli_is_manage_command(const char *cmd)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(cmd, commands[i]) == 0)
            return true;
    return false;
}

static void manage_usage(FILE *out)
{
    fprintf(out,
        "usage: rvisor serve [--state-dir DIR] [--api-socket PATH]\n"
        "       rvisor create NAME (--config FILE.json | RUN-OPTIONS...)\n"
        "       rvisor start|kill|info|console NAME\n"
        "       rvisor stop NAME [--timeout SECONDS] [--no-wait]\n"
        "       rvisor delete NAME [--force]\n"
        "       rvisor list [--json]\n"
        "       rvisor vm NAME REQUEST [KEY=VALUE ...]   (the VM's own API: pause, resume ...)\n"
        "\n"
        "serve runs the manager of the VMs defined in the state folder DIR (default\n"
        "$RVISOR_STATE_DIR or ~/.local/state/rvisor); each VM runs as its own `rvisor run`\n"
        "process. The other commands talk to the manager at --manager PATH, $RVISOR_MANAGER,\n"
        "or DIR/manager.sock of the default state folder. RUN-OPTIONS are rvisor run's:\n"
        "--kernel, --initrd, --append, --mem, --smp, --disk, --net, --rng ... (relative paths\n"
        "are made absolute). `console` attaches the terminal: Ctrl-] or Ctrl-A X detaches.\n"
        "Exit status: 0, 1 the manager refused (the message says why), 2 usage error or no\n"
        "manager. See docs/manager.md.\n");
}

static void default_state_dir(char *buf, size_t size)
{
    const char *env = getenv("RVISOR_STATE_DIR"), *home = getenv("HOME");
    if (env && *env)
        snprintf(buf, size, "%s", env);
    else
        snprintf(buf, size, "%s/.local/state/rvisor", home ? home : ".");
}

/* Takes "--manager PATH" out of the arguments, wherever it is. */
static const char *manager_socket(int *argc, char **argv, char *buf, size_t size)
{
    const char *path = NULL;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--manager") == 0 && i + 1 < *argc) {
            path = argv[i + 1];
            memmove(argv + i, argv + i + 2, (size_t)(*argc - i - 2) * sizeof(char *));
            *argc -= 2;
            i--;
        }
    }
    if (path)
        return path;
    const char *env = getenv("RVISOR_MANAGER");
    if (env && *env)
        return env;
    char dir[PATH_MAX - 16];
    default_state_dir(dir, sizeof(dir));
    snprintf(buf, size, "%s/manager.sock", dir);
    return buf;
}

static int cmd_serve(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "--schema-markdown") == 0) {
        char *md = rv_mgr_schema_markdown(); /* docs/api.md's manager reference */
        if (md)
            fputs(md, stdout);
        free(md);
        return md ? 0 : 2;
    }
    char dir[PATH_MAX];
    default_state_dir(dir, sizeof(dir));
    const char *state = dir, *sock = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc) {
            state = argv[++i];
        } else if (strcmp(argv[i], "--api-socket") == 0 && i + 1 < argc) {
            sock = argv[++i];
        } else {
            manage_usage(strcmp(argv[i], "--help") == 0 ? stdout : stderr);
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    rv_log_set_level(RV_LOG_INFO); /* the manager's log: starts, ends, adoptions */
    struct rv_mgr *m;
    if (rv_mgr_open(state, sock, "/proc/self/exe", &m)) {
        fprintf(stderr, "rvisor: serve: %s\n", rv_error_get());
        return 2;
    }
    int rc = rv_mgr_run(m);
    if (rc)
        fprintf(stderr, "rvisor: serve: %s\n", rv_error_get());
    rv_mgr_close(m);
    return rc ? 2 : 0;
}

/* Sends a request; on success *result is the reply's result (owned). Prints errors. */
static int call(const char *sock, const char *req, json_t *args, json_t **result)
{
    json_t *r;
    if (rv_api_call(sock, req, args, MGR_TIMEOUT_MS, &r)) {
        fprintf(stderr, "rvisor: manager at %s: %s (is `rvisor serve` running?)\n", sock,
                rv_error_get());
        return 2;
    }
    if (!json_is_true(json_object_get(r, "ok"))) {
        int status = rv_cli_print_reply(r);
        json_decref(r);
        return status;
    }
    *result = json_incref(json_object_get(r, "result"));
    json_decref(r);
    return 0;
}

static int print_result(int status, json_t *result)
{
    if (status == 0) {
        char *s = json_dumps(result, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(result);
    }
    return status;
}

/* Sends a request and prints its result as JSON. */
static int call_print(const char *sock, const char *req, json_t *args)
{
    json_t *result = NULL;
    int status = call(sock, req, args, &result);
    return print_result(status, result);
}


static int cmd_create(const char *sock, const char *name, int argc, char **argv)
{
    json_t *config = NULL;
    struct rv_api_error err;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd))) {
        perror("rvisor: getcwd");
        return 2;
    }
    if (argc == 2 && strcmp(argv[0], "--config") == 0) {
        json_error_t jerr;
        config = json_load_file(argv[1], JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(config)) {
            fprintf(stderr, "rvisor: %s: line %d: %s\n", argv[1], jerr.line,
                    config ? "not a JSON object" : jerr.text);
            json_decref(config);
            return 2;
        }
        if (rv_mgr_config_absolutize(config, cwd, &err)) {
            fprintf(stderr, "rvisor: %s\n", err.message);
            json_decref(config);
            return 2;
        }
    } else if (rv_mgr_config_from_options(argc, argv, cwd, &config, &err)) {
        fprintf(stderr, "rvisor: create: %s\n", err.message);
        return 2;
    }
    return call_print(sock, "create", json_pack("{s:s,s:o}", "name", name, "config", config));
}

/* Waits until a stop or kill has ended the VM's process; prints its final state. */
static int wait_stopped(const char *sock, const char *name, int timeout_s)
{
    struct timespec pause = {0, 100 * 1000 * 1000};
    for (long i = 0; i < (long)(timeout_s + 10) * 10; i++) {
        json_t *info = NULL;
        int status = call(sock, "info", json_pack("{s:s}", "name", name), &info);
        if (status)
            return status;
        const char *state = json_string_value(json_object_get(info, "state"));
        if (state && strcmp(state, "stopping") && strcmp(state, "running") &&
            strcmp(state, "paused")) {
            printf("%s: %s\n", name, state);
            json_decref(info);
            return 0;
        }
        json_decref(info);
        nanosleep(&pause, NULL);
    }
    fprintf(stderr, "rvisor: %s did not stop\n", name);
    return 1;
}

static int cmd_stop(const char *sock, const char *name, int argc, char **argv, bool kill)
{
    int timeout = 10;
    bool wait = true;
    for (int i = 0; i < argc; i++) {
        if (!kill && strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            timeout = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--no-wait") == 0) {
            wait = false;
        } else {
            manage_usage(stderr);
            return 2;
        }
    }
    json_t *args = kill ? json_pack("{s:s}", "name", name)
                        : json_pack("{s:s,s:i}", "name", name, "timeout_s", timeout);
    json_t *result = NULL;
    int status = call(sock, kill ? "kill" : "stop", args, &result);
    json_decref(result);
    if (status || !wait)
        return status;
    return wait_stopped(sock, name, kill ? 5 : timeout);
}

static int cmd_list(const char *sock, int argc, char **argv)
{
    bool raw = argc == 1 && strcmp(argv[0], "--json") == 0;
    if (argc && !raw) {
        manage_usage(stderr);
        return 2;
    }
    json_t *result = NULL;
    int status = call(sock, "list", NULL, &result);
    if (status || raw)
        return print_result(status, result);

    printf("%-20s %-9s %8s %10s  %s\n", "NAME", "STATE", "PID", "UPTIME", "LAST EXIT");
    size_t i;
    json_t *vm;
    json_array_foreach(json_object_get(result, "vms"), i, vm) {
        json_t *pid = json_object_get(vm, "pid"), *up = json_object_get(vm, "uptime_ms");
        char pids[16] = "-", ups[24] = "-";
        if (json_is_integer(pid))
            snprintf(pids, sizeof(pids), "%lld", (long long)json_integer_value(pid));
        if (json_is_integer(up))
            snprintf(ups, sizeof(ups), "%.1fs", (double)json_integer_value(up) / 1000);
        const char *reason = json_string_value(
            json_object_get(json_object_get(vm, "exit"), "reason"));
        printf("%-20s %-9s %8s %10s  %s\n", json_string_value(json_object_get(vm, "name")),
               json_string_value(json_object_get(vm, "state")), pids, ups, reason ? reason : "");
    }
    json_decref(result);
    return 0;
}

static int cmd_vm(const char *sock, const char *name, int argc, char **argv)
{
    const struct rv_api_request *req = argc ? rv_api_find(argv[0]) : NULL;
    if (!req) {
        fprintf(stderr, "rvisor: vm NAME REQUEST: REQUEST is one of the VM API's (rvisor ctl "
                        "--help)\n");
        return 2;
    }
    json_t *args;
    struct rv_api_error err;
    if (rv_api_args_from_words(req, argc - 1, argv + 1, &args, &err)) {
        fprintf(stderr, "rvisor: %s\n", err.message);
        return 2;
    }
    return call_print(sock, "vm", json_pack("{s:s,s:s,s:o}", "name", name, "request", req->name,
                                            "arguments", args));
}

static int cmd_console(const char *sock, const char *name)
{
    json_t *info = NULL;
    int status = call(sock, "info", json_pack("{s:s}", "name", name), &info);
    if (status)
        return status;
    const char *path = json_string_value(json_object_get(info, "console_socket"));
    const char *state = json_string_value(json_object_get(info, "state"));
    if (!path || !state || (strcmp(state, "running") && strcmp(state, "paused"))) {
        fprintf(stderr, "rvisor: %s is %s: no console to attach to\n", name,
                state ? state : "?");
        json_decref(info);
        return 1;
    }
    status = rv_cli_console_attach(name, path);
    json_decref(info);
    return status;
}

int rv_cli_manage(int argc, char **argv)
{
    const char *cmd = argv[0];
    argc--, argv++;
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        manage_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc, argv);
    char buf[PATH_MAX];
    const char *sock = manager_socket(&argc, argv, buf, sizeof(buf));
    if (strcmp(cmd, "list") == 0)
        return cmd_list(sock, argc, argv);
    if (argc < 1) {
        manage_usage(stderr);
        return 2;
    }
    const char *name = argv[0];
    argc--, argv++;
    if (strcmp(cmd, "create") == 0)
        return cmd_create(sock, name, argc, argv);
    if (strcmp(cmd, "stop") == 0 || strcmp(cmd, "kill") == 0)
        return cmd_stop(sock, name, argc, argv, strcmp(cmd, "kill") == 0);
    if (strcmp(cmd, "vm") == 0)
        return cmd_vm(sock, name, argc, argv);
    bool force = strcmp(cmd, "delete") == 0 && argc == 1 && strcmp(argv[0], "--force") == 0;
    if (argc && !force) {
        manage_usage(stderr);
        return 2;
    }
    if (strcmp(cmd, "console") == 0)
        return cmd_console(sock, name);
    json_t *args = force ? json_pack("{s:s,s:b}", "name", name, "force", 1)
                         : json_pack("{s:s}", "name", name);
    return call_print(sock, cmd, args); /* start, info, delete */
}
