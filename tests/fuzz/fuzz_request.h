/* Shared by the request fuzzers (fuzz_api.c, fuzz_mgr.c). jansson is not instrumented, so
 * random bytes rarely form a JSON object: the first input byte picks a frame (text before and
 * after) around the rest, which lets the fuzzer reach the validator of each part of a request. */
#ifndef RV_FUZZ_REQUEST_H
#define RV_FUZZ_REQUEST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/api_schema.h"

/* A malloc'ed copy of data[1..] between the frame data[0] picks; NULL when size is 0. */
static inline char *fuzz_framed(const uint8_t *data, size_t size, const char *const (*frames)[2],
                                size_t nframes, size_t *len)
{
    if (size == 0)
        return NULL;
    const char *const *f = frames[data[0] % nframes];
    size_t pre = strlen(f[0]), post = strlen(f[1]);
    *len = pre + size - 1 + post;
    char *line = malloc(*len);
    if (!line)
        return NULL;
    memcpy(line, f[0], pre);
    memcpy(line + pre, data + 1, size - 1);
    memcpy(line + pre + size - 1, f[1], post);
    return line;
}

/* The reply to a parsed call must be exactly one line of JSON whose "ok" says whether the
 * parse (rc) succeeded. Aborts otherwise. */
static inline void fuzz_check_reply(const struct rv_api_call *call, int rc,
                                    const struct rv_api_error *err)
{
    char *reply = rc ? rv_api_reply_error(call->id, err) : rv_api_reply_ok(call->id, NULL);
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
}

#endif
