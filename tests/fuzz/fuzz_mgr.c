/* libFuzzer target: the manager's request parser (src/hv/api_schema.c with the manager's
 * schema), VM name check and configuration table (src/hv/mgr_config.c): whatever a client
 * sends, a request the manager accepts has a safe name (one plain folder name) and a config
 * whose `rvisor run` arguments are NUL-free strings, starting with an option. */
#include "fuzz_request.h"
#include "hv/mgr_config.h"
#include "hv/mgr_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frames around the input (fuzz_request.h) reach each part of a create. */
static const char *const frames[][2] = {
    {"", ""},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"vm\",\"config\":{", "}}}"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":", ",\"config\":{}}}"},
    {"{\"request\":\"start\",\"arguments\":{", "}}"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"vm\",\"config\":{\"disk\":[", "]}}}"},
};
#define NFRAMES (sizeof(frames) / sizeof(frames[0]))

static void check_name(const char *name)
{
    struct rv_api_error err;
    if (!name || rv_mgr_check_name(name, &err))
        return;
    if (name[0] == '.' || strchr(name, '/') || strlen(name) > RV_MGR_NAME_MAX)
        abort(); /* accepted a name that is not one plain folder name */
}

static void check_config(json_t *config)
{
    struct rv_api_error err;
    if (!config || rv_mgr_config_check(config, &err))
        return;
    json_t *args = rv_mgr_config_to_args(config);
    if (!json_is_array(args))
        abort();
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a) {
        const char *s = json_string_value(a);
        if (!s || strlen(s) != json_string_length(a))
            abort(); /* argv strings must be NUL-free */
        if (i == 0 && strncmp(s, "--", 2) != 0)
            abort(); /* the arguments start with an option */
    }
    json_decref(args);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len;
    char *line = fuzz_framed(data, size, frames, NFRAMES, &len);
    if (!line)
        return 0;
    struct rv_api_call call;
    struct rv_api_error err;
    int rc = rv_api_parse_schema(&rv_mgr_schema, line, len, &call, &err);
    free(line);
    if (rc == 0) {
        check_name(rv_api_arg_str(&call, "name"));
        check_config(json_object_get(call.args, "config"));
    }
    fuzz_check_reply(&call, rc, &err);
    rv_api_call_free(&call);
    return 0;
}
