/* libFuzzer target: the control API's request parser and validator (src/hv/api_schema.c),
 * the first code to see a client's bytes. Every input must be answered by exactly one reply
 * line that is valid JSON and says ok or not; a valid request must satisfy its schema. */
#include "fuzz_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frames around the input (fuzz_request.h). */
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
    size_t len;
    char *line = fuzz_framed(data, size, frames, NFRAMES, &len);
    if (!line)
        return 0;
    struct rv_api_call call;
    struct rv_api_error err;
    int rc = rv_api_parse(line, len, &call, &err);
    free(line);
    if (rc == 0 && (!call.req || !call.args || rv_api_check_args(call.req, call.args, &err)))
        abort(); /* accepted, but not a request that satisfies the schema */
    fuzz_check_reply(&call, rc, &err);
    rv_api_call_free(&call);
    return 0;
}
