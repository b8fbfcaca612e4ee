/* `rvisor ctl SOCKET REQUEST [KEY=VALUE ...]`: builds one request from the schema
 * (hv/api_schema.h), sends it, prints the result as JSON. Exit status: 0 ok, 1 error reply,
 * 2 usage error or no answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctl.h"
#include "hv/api_client.h"
#include "hv/api_schema.h"
#include "rvisor/vm.h"

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

int rv_cli_print_reply(json_t *r)
{
    if (json_is_true(json_object_get(r, "ok"))) {
        char *out = json_dumps(json_object_get(r, "result"), JSON_INDENT(2) | JSON_SORT_KEYS);
        if (out)
            printf("%s\n", out);
        free(out);
        return out ? 0 : 2;
    }
    json_t *e = json_object_get(r, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    fprintf(stderr, "rvisor: %s: %s\n", code ? code : "?", msg ? msg : "?");
    return 1;
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
    json_t *r;
    if (rv_api_call(argv[0], req->name, args, REPLY_TIMEOUT_S * 1000, &r)) {
        fprintf(stderr, "rvisor: %s\n", rv_error_get());
        return 2;
    }
    int status = rv_cli_print_reply(r);
    json_decref(r);
    return status;
}
