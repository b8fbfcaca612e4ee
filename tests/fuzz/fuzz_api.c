/* libFuzzer target: the control API's request parser and validator (src/hv/api_schema.c),
 * the first code to see a client's bytes. Every input must be answered by exactly one reply
 * line that is valid JSON and says ok or not; a valid request must satisfy its schema. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/api_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* jansson is not instrumented, so random bytes rarely form an object: the first byte picks a
 * frame around the rest, which reaches the validator of each part of a request. */
static const char *const frames[][2] = {
    {"", ""},
    {"{\"id\":1,\"request\":\"balloon\",\"arguments\":{", "}}"},
    {"{\"request\":", "}"},
    {"{\"request\":\"status\",", "}"},
    {"{\"id\":", ",\"request\":\"kill\"}"},
};
#define NFRAMES (sizeof(frames) / sizeof(frames[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *const *f = frames[data[0] % NFRAMES];
    size_t pre = strlen(f[0]), post = strlen(f[1]), len = pre + size - 1 + post;
    char *line = malloc(len);
    if (!line)
        return 0;
    memcpy(line, f[0], pre);
    memcpy(line + pre, data + 1, size - 1);
    memcpy(line + pre + size - 1, f[1], post);
    struct rv_api_call call;
    struct rv_api_error err;
    int rc = rv_api_parse(line, len, &call, &err);
    free(line);
    if (rc == 0 && (!call.req || !call.args || rv_api_check_args(call.req, call.args, &err)))
        abort(); /* accepted, but not a request that satisfies the schema */
    char *reply = rc ? rv_api_reply_error(call.id, &err) : rv_api_reply_ok(call.id, NULL);
    if (!reply)
        abort();
    size_t n = strlen(reply);
    if (n == 0 || reply[n - 1] != '\n' || memchr(reply, '\n', n - 1))
        abort(); /* one line exactly */
    json_t *r = json_loadb(reply, n, 0, NULL);
    if (!json_is_object(r) || !json_is_boolean(json_object_get(r, "ok")) ||
        json_is_true(json_object_get(r, "ok")) != (rc == 0))
        abort();
    json_decref(r);
    free(reply);
    rv_api_call_free(&call);
    return 0;
}
