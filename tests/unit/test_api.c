/* Control API schema: request validation (one table of good and bad lines), replies, the
 * key=value arguments of rvisor ctl, and docs/api.md kept in step with the schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/api_schema.h"
#include "test.h"

#ifndef RV_SOURCE_DIR
#define RV_SOURCE_DIR "."
#endif

struct parse_case {
    const char *line;
    const char *code; /* expected error code, NULL: valid */
};

static const struct parse_case cases[] = {
    {"{\"request\":\"status\"}", NULL},
    {"{\"id\":1,\"request\":\"status\"}", NULL},
    {"{\"id\":9007199254740991,\"request\":\"stats\",\"arguments\":{}}", NULL},
    {"{\"request\":\"balloon\",\"arguments\":{\"target_mib\":64}}", NULL},
    {"{\"request\":\"balloon\",\"arguments\":{\"target_mib\":65536}}", NULL},
    {"", "parse-error"},
    {"   ", "parse-error"},
    {"{", "parse-error"},
    {"{\"request\":\"status\"", "parse-error"},
    {"{\"request\":\"status\"} x", "parse-error"},
    {"{\"request\":\"status\"}{}", "parse-error"},
    {"{'request':'status'}", "parse-error"},
    {"{\"request\":\"status\",\"request\":\"kill\"}", "parse-error"},
    {"{\"request\":\"st\\u0000atus\"}", "parse-error"},
    {"{\"request\":\"\xff\xfe\"}", "parse-error"},
    /* jansson quotes the bad token in its error text: the reply must stay valid UTF-8 (a
     * fuzz_api finding) */
    {"{\"request\":\"\xd4\xb8\\\xd4\xb8\"}", "parse-error"},
    {"{\"id\":99999999999999999999999,\"request\":\"status\"}", "parse-error"},
    {"null", "parse-error"},
    {"42", "parse-error"},
    {"\"status\"", "parse-error"},
    {"[]", "invalid-request"},
    {"[{\"request\":\"status\"}]", "invalid-request"},
    {"{}", "invalid-request"},
    {"{\"id\":1}", "invalid-request"},
    {"{\"request\":null}", "invalid-request"},
    {"{\"request\":7}", "invalid-request"},
    {"{\"request\":[\"status\"]}", "invalid-request"},
    {"{\"request\":\"status\",\"extra\":1}", "invalid-request"},
    {"{\"request\":\"status\",\"Arguments\":{}}", "invalid-request"},
    {"{\"id\":-1,\"request\":\"status\"}", "invalid-request"},
    {"{\"id\":1.5,\"request\":\"status\"}", "invalid-request"},
    {"{\"id\":\"1\",\"request\":\"status\"}", "invalid-request"},
    {"{\"id\":9007199254740992,\"request\":\"status\"}", "invalid-request"},
    {"{\"request\":\"status\",\"arguments\":[]}", "invalid-request"},
    {"{\"request\":\"status\",\"arguments\":null}", "invalid-request"},
    {"{\"request\":\"reboot\"}", "unknown-request"},
    {"{\"request\":\"\"}", "unknown-request"},
    {"{\"request\":\"STATUS\"}", "unknown-request"},
    {"{\"request\":\"status \"}", "unknown-request"},
    {"{\"request\":\"status\",\"arguments\":{\"x\":1}}", "invalid-argument"},
    {"{\"request\":\"balloon\"}", "invalid-argument"},
    {"{\"request\":\"balloon\",\"arguments\":{}}", "invalid-argument"},
    {"{\"request\":\"balloon\",\"arguments\":{\"target_mib\":\"64\"}}", "invalid-argument"},
    {"{\"request\":\"balloon\",\"arguments\":{\"target_mib\":64.0}}", "invalid-argument"},
    {"{\"request\":\"balloon\",\"arguments\":{\"target_mib\":true}}", "invalid-argument"},
    {"{\"request\":\"balloon\",\"arguments\":{\"target_mib\":null}}", "invalid-argument"},
    {"{\"request\":\"balloon\",\"arguments\":{\"target_mib\":0}}", "invalid-argument"},
    {"{\"request\":\"balloon\",\"arguments\":{\"target_mib\":-5}}", "invalid-argument"},
    {"{\"request\":\"balloon\",\"arguments\":{\"target_mib\":65537}}", "invalid-argument"},
    {"{\"request\":\"balloon\",\"arguments\":{\"target_mib\":9223372036854775807}}",
     "invalid-argument"},
    {"{\"request\":\"balloon\",\"arguments\":{\"target_mib\":64,\"force\":true}}",
     "invalid-argument"},
};

static void test_parse_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rv_api_call call;
        struct rv_api_error err = {0};
        int rc = rv_api_parse(cases[i].line, strlen(cases[i].line), &call, &err);
        bool good = cases[i].code ? rc != 0 && err.code && strcmp(err.code, cases[i].code) == 0
                                  : rc == 0 && call.req && call.args;
        if (!good)
            fprintf(stderr, "case %zu: %s -> rc %d code %s (%s)\n", i, cases[i].line, rc,
                    err.code ? err.code : "-", err.message);
        CHECK(good);
        /* Every error reply is one valid JSON line that carries the id when there was one. */
        char *reply = rc ? rv_api_reply_error(call.id, &err) : rv_api_reply_ok(call.id, NULL);
        CHECK(reply && strchr(reply, '\n') == reply + strlen(reply) - 1);
        json_t *r = reply ? json_loads(reply, 0, NULL) : NULL;
        CHECK(json_is_boolean(json_object_get(r, "ok")));
        CHECK(json_is_true(json_object_get(r, "ok")) == (rc == 0));
        json_decref(r);
        free(reply);
        rv_api_call_free(&call);
    }
}

static void test_id_echo(void)
{
    const char *line = "{\"id\":42,\"request\":\"nope\"}";
    struct rv_api_call call;
    struct rv_api_error err;
    CHECK(rv_api_parse(line, strlen(line), &call, &err) != 0);
    char *reply = rv_api_reply_error(call.id, &err);
    CHECK(reply && strcmp(reply, "{\"id\":42,\"ok\":false,\"error\":{\"code\":\"unknown-request\","
                                 "\"message\":\"unknown request 'nope' (the schema request "
                                 "lists them)\"}}\n") == 0);
    free(reply);
    rv_api_call_free(&call);
}

static void test_long_line(void)
{
    size_t n = RV_API_MAX_LINE + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    struct rv_api_call call;
    struct rv_api_error err;
    CHECK(rv_api_parse(big, n, &call, &err) != 0 && strcmp(err.code, "parse-error") == 0);
    rv_api_call_free(&call);
    /* Deep nesting is refused by the parser's depth limit, not the stack. */
    memset(big, '[', n);
    CHECK(rv_api_parse(big, RV_API_MAX_LINE, &call, &err) != 0);
    rv_api_call_free(&call);
    free(big);
}

static int words(const char *req, const char *w1, const char *w2, json_t **out,
                 struct rv_api_error *err)
{
    char a[64], b[64];
    char *v[2] = {a, b};
    snprintf(a, sizeof(a), "%s", w1 ? w1 : "");
    snprintf(b, sizeof(b), "%s", w2 ? w2 : "");
    int n = w2 ? 2 : w1 ? 1 : 0;
    return rv_api_args_from_words(rv_api_find(req), n, v, out, err);
}

static void test_ctl_words(void)
{
    json_t *args = NULL;
    struct rv_api_error err;
    CHECK_EQ(words("balloon", "target_mib=256", NULL, &args, &err), 0);
    CHECK_EQ(json_integer_value(json_object_get(args, "target_mib")), 256);
    json_decref(args);
    CHECK(words("balloon", NULL, NULL, &args, &err) != 0);         /* required */
    CHECK(words("balloon", "target_mib=0x10", NULL, &args, &err) != 0);
    CHECK(words("balloon", "target_mib=", NULL, &args, &err) != 0);
    CHECK(words("balloon", "target_mib=99999", NULL, &args, &err) != 0);
    CHECK(words("balloon", "target_mib", NULL, &args, &err) != 0);
    CHECK(words("balloon", "target_mib=1", "target_mib=2", &args, &err) != 0);
    CHECK(words("status", "x=1", NULL, &args, &err) != 0);
    CHECK_EQ(words("status", NULL, NULL, &args, &err), 0);
    json_decref(args);
}

/* docs/api.md holds the Markdown of rv_api_schema_markdown() between two markers. */
static void test_doc_in_sync(void)
{
    FILE *f = fopen(RV_SOURCE_DIR "/docs/api.md", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    static char doc[1 << 16];
    size_t n = fread(doc, 1, sizeof(doc) - 1, f);
    fclose(f);
    doc[n] = 0;
    const char *begin_mark = "<!-- schema:begin (rvisor ctl --schema-markdown) -->\n";
    char *begin = strstr(doc, begin_mark);
    char *end = strstr(doc, "<!-- schema:end -->");
    CHECK(begin && end && end > begin);
    if (!begin || !end || end < begin)
        return;
    begin += strlen(begin_mark);
    *end = 0;
    char *md = rv_api_schema_markdown();
    bool same = md && strcmp(md, begin) == 0;
    if (!same)
        fprintf(stderr, "docs/api.md is out of date with src/hv/api_schema.c: replace its "
                        "schema section with the output of `rvisor ctl --schema-markdown`\n");
    CHECK(same);
    free(md);
}

static void test_schema_json(void)
{
    json_t *s = rv_api_schema_json();
    CHECK_EQ(json_array_size(json_object_get(s, "requests")), rv_api_nrequests);
    json_decref(s);
}

int main(void)
{
    test_parse_table();
    test_id_echo();
    test_long_line();
    test_ctl_words();
    test_doc_in_sync();
    test_schema_json();
    TEST_MAIN_END();
}
