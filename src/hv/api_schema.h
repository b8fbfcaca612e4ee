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
#define RV_API_MAX_ARGS 5
#define RV_API_MAX_PASSED_FDS 4 /* descriptors read with one chunk (the first is kept) */
#define RV_API_MAX_ID ((1ll << 53) - 1) /* ids are integers any JSON parser keeps exact */

/* RV_API_OBJECT arguments are checked only for being objects (min/max bound their number of
 * members); their contents are the request handler's to validate (the manager's VM config). */
enum rv_api_type { RV_API_INTEGER, RV_API_BOOLEAN, RV_API_STRING, RV_API_OBJECT };

/* The VM state a request needs; anything else gets an "invalid-state" error. */
enum rv_api_needs {
    RV_API_ANY,     /* any state, stopped included */
    RV_API_LIVE,    /* running or paused */
    RV_API_RUNNING, /* running */
    RV_API_PAUSED,  /* paused */
    RV_API_DOWN,    /* no process: defined, stopped or failed (the manager's VMs) */
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

/* A protocol's schema: its requests and error codes. The per-VM API (rv_api_vm_schema, the
 * tables above) and the manager's (hv/mgr_schema.h) share the protocol, the parser, the reply
 * format and the documentation generator; every schema has at least the error codes
 * parse-error, invalid-request, unknown-request, invalid-argument and internal. */
struct rv_api_schema {
    const struct rv_api_request *requests;
    size_t nrequests;
    const struct rv_api_error_code *errors;
    size_t nerrors;
};
extern const struct rv_api_schema rv_api_vm_schema;

struct rv_api_error {
    const char *code;   /* one of rv_api_error_codes */
    char message[256];
};

/* A validated request. */
struct rv_api_call {
    json_t *id;         /* the request's id (a JSON integer) or NULL; owned */
    const struct rv_api_request *req;
    json_t *args;       /* the arguments object, every member checked; owned, never NULL */
    int fd;             /* a descriptor sent with the line, or -1; a request taking it sets -1 */
};

/* The per-VM API's request of that name (rv_api_schema_find() for any schema), or NULL. */
const struct rv_api_request *rv_api_find(const char *name);
const struct rv_api_request *rv_api_schema_find(const struct rv_api_schema *s, const char *name);

/* Parses and validates one request line (without its newline). Returns 0 and fills *call, or
 * -EINVAL with *err filled; call->id is still set when the line had a valid id (so that the
 * error reply carries it) and must be released with rv_api_call_free() either way.
 * rv_api_parse() is rv_api_parse_schema() with the per-VM schema. */
int rv_api_parse(const char *line, size_t len, struct rv_api_call *call,
                 struct rv_api_error *err);
int rv_api_parse_schema(const struct rv_api_schema *s, const char *line, size_t len,
                        struct rv_api_call *call, struct rv_api_error *err);
/* Checks an arguments object against the request's schema (the part of rv_api_parse() that
 * `rvisor ctl` also runs before sending). */
int rv_api_check_args(const struct rv_api_request *req, json_t *args, struct rv_api_error *err);
void rv_api_call_free(struct rv_api_call *call);

/* Value of a validated integer argument, or `dflt` when absent; the same for the others
 * (strings stay owned by the call). */
int64_t rv_api_arg_int(const struct rv_api_call *call, const char *name, int64_t dflt);
bool rv_api_arg_bool(const struct rv_api_call *call, const char *name, bool dflt);
const char *rv_api_arg_str(const struct rv_api_call *call, const char *name);

/* Builds an arguments object from `key=value` words typed for request `req` (rvisor ctl).
 * Returns 0 and a new object, or -EINVAL with *err filled. */
int rv_api_args_from_words(const struct rv_api_request *req, int n, char **words,
                           json_t **out, struct rv_api_error *err);

/* Replies: one compact JSON line with its newline, malloc'd. `result` is stolen. */
char *rv_api_reply_ok(json_t *id, json_t *result);
char *rv_api_reply_error(json_t *id, const struct rv_api_error *err);

/* The schema as JSON (the "schema" request) and as Markdown (docs/api.md's reference section,
 * malloc'd); the first two are the per-VM API's. */
json_t *rv_api_schema_json(void);
char *rv_api_schema_markdown(void);
json_t *rv_api_schema_to_json(const struct rv_api_schema *s);
char *rv_api_schema_to_markdown(const struct rv_api_schema *s);

/* Formats an error (the message is made printable ASCII, as every message of the protocol).
 * Returns -EINVAL. */
int rv_api_fail(struct rv_api_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
