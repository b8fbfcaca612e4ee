/* The control API's schema: the one description of every request, its arguments (names, types,
 * ranges) and the state it needs. The server validates requests with it, `rvisor ctl` turns
 * its key=value arguments into requests with it, and docs/api.md's reference section is
 * generated from it (tests/unit/test_api.c fails when the two differ).
 *
 * Protocol (docs/api.md): line-delimited JSON on a unix socket. A request is one JSON object on
 * one line, {"id": 7, "request": "balloon", "arguments": {"target_mib": 256}}; the reply is one
 * line, {"id": 7, "ok": true, "result": {...}} or
 * {"id": 7, "ok": false, "error": {"code": "invalid-argument", "message": "..."}}. */
#ifndef RV_HV_API_SCHEMA_H
#define RV_HV_API_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RV_API_MAX_LINE 65536  /* bytes of one request line, newline excluded */
#define RV_API_MAX_ARGS 4
#define RV_API_MAX_ID ((1ll << 53) - 1) /* ids are integers any JSON parser keeps exact */

enum rv_api_type { RV_API_INTEGER, RV_API_BOOLEAN, RV_API_STRING };

/* The VM state a request needs; anything else gets an "invalid-state" error. */
enum rv_api_needs {
    RV_API_ANY,     /* any state, stopped included */
    RV_API_LIVE,    /* running or paused */
    RV_API_RUNNING, /* running */
    RV_API_PAUSED,  /* paused */
};

struct rv_api_arg {
    const char *name;
    enum rv_api_type type;
    bool required;
    int64_t min, max; /* integers: accepted values; strings: accepted lengths in bytes */
    const char *doc;
};

struct rv_api_request {
    const char *name;
    enum rv_api_needs needs;
    const char *doc;    /* what it does (Markdown) */
    const char *result; /* the result object's fields (Markdown) */
    struct rv_api_arg args[RV_API_MAX_ARGS]; /* ended by a NULL name */
};

extern const struct rv_api_request rv_api_requests[];
extern const size_t rv_api_nrequests;

/* Error codes of the protocol (docs/api.md lists them from here too). */
struct rv_api_error_code {
    const char *code;
    const char *doc;
};
extern const struct rv_api_error_code rv_api_error_codes[];
extern const size_t rv_api_nerror_codes;

struct rv_api_error {
    const char *code;   /* one of rv_api_error_codes */
    char message[256];
};

/* A validated request. */
struct rv_api_call {
    json_t *id;         /* the request's id (a JSON integer) or NULL; owned */
    const struct rv_api_request *req;
    json_t *args;       /* the arguments object, every member checked; owned, never NULL */
};

const struct rv_api_request *rv_api_find(const char *name);

/* Parses and validates one request line (without its newline). Returns 0 and fills *call, or
 * -EINVAL with *err filled; call->id is still set when the line had a valid id (so that the
 * error reply carries it) and must be released with rv_api_call_free() either way. */
int rv_api_parse(const char *line, size_t len, struct rv_api_call *call,
                 struct rv_api_error *err);
/* Checks an arguments object against the request's schema (the part of rv_api_parse() that
 * `rvisor ctl` also runs before sending). */
int rv_api_check_args(const struct rv_api_request *req, json_t *args, struct rv_api_error *err);
void rv_api_call_free(struct rv_api_call *call);

/* Value of a validated integer argument, or `dflt` when absent. */
int64_t rv_api_arg_int(const struct rv_api_call *call, const char *name, int64_t dflt);

/* Builds an arguments object from `key=value` words typed for request `req` (rvisor ctl).
 * Returns 0 and a new object, or -EINVAL with *err filled. */
int rv_api_args_from_words(const struct rv_api_request *req, int n, char **words,
                           json_t **out, struct rv_api_error *err);

/* Replies: one compact JSON line with its newline, malloc'd. `result` is stolen. */
char *rv_api_reply_ok(json_t *id, json_t *result);
char *rv_api_reply_error(json_t *id, const struct rv_api_error *err);

/* The schema as JSON (the "schema" request) and as Markdown (docs/api.md's reference section,
 * malloc'd). */
json_t *rv_api_schema_json(void);
char *rv_api_schema_markdown(void);

#endif
