/* The manager without VM processes: names, the configuration table, the request table of
 * good and bad requests (each bad one changes nothing), persistence and stale-state cleanup
 * across a restart, the state-folder lock, and docs/api.md in step with the schema. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv/mgr.h"
#include "hv/mgr_config.h"
#include "hv/mgr_schema.h"
#include "hv/mgr_store.h"
#include "test.h"

#ifndef RV_SOURCE_DIR
#define RV_SOURCE_DIR "."
#endif

static void test_names(void)
{
    static const char *const good[] = {"a", "web-1", "A_b.c", "x.", "-x",
                                       "0123456789012345678901234567890123456789012345678901234567890123"};
    static const char *const bad[] = {"", ".", "..", ".hidden", "../x", "a/b", "/abs", "a b",
                                      "a\\b", "é", "a\n", "a*", "a:b",
                                      "01234567890123456789012345678901234567890123456789012345678901234"};
    struct rv_api_error err;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(rv_mgr_check_name(good[i], &err) == 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(rv_mgr_check_name(bad[i], &err) == -EINVAL);
}

static int config_rc(const char *text)
{
    json_error_t jerr;
    json_t *c = json_loads(text, 0, &jerr);
    struct rv_api_error err;
    int rc = c ? rv_mgr_config_check(c, &err) : -999;
    json_decref(c);
    return rc;
}

static void test_config(void)
{
    static const char *const good[] = {
        "{}", "{\"mem\":64}", "{\"mem\":\"512M\"}", "{\"mem\":\"2G\"}", "{\"smp\":8}",
        "{\"kernel\":\"/k\",\"initrd\":\"/i\",\"append\":\"console=ttyS0 a=b\"}",
        "{\"accel\":\"interp\"}", "{\"rng\":true,\"balloon\":false,\"no-reboot\":true}",
        "{\"disk\":[\"/a.img\",\"/b.qcow2,format=qcow2,readonly\"]}",
        "{\"net\":[\"user,hostfwd=tcp::8080-:80\"]}", "{\"disk\":[]}",
        "{\"disk\":[\"vol:vg0/root\",\"/a.img\"]}", "{\"mmu\":\"sv39\"}", "{\"mmu\":\"sv57\"}",
    };
    static const char *const bad[] = {
        "{\"memory\":64}", "{\"api-socket\":\"/x\"}", "{\"console\":\"stdio\"}",
        "{\"status-file\":\"/x\"}", "{\"mem\":0}", "{\"mem\":65537}", "{\"mem\":-1}",
        "{\"mem\":\"12X\"}", "{\"mem\":\"\"}", "{\"mem\":\"-5M\"}", "{\"mem\":1.5}",
        "{\"mem\":true}", "{\"smp\":0}", "{\"smp\":9}", "{\"smp\":\"2\"}", "{\"accel\":\"kvm\"}",
        "{\"accel\":\"\"}", "{\"kernel\":\"Image\"}", "{\"kernel\":\"\"}", "{\"kernel\":7}",
        "{\"kernel\":null}", "{\"rng\":1}", "{\"rng\":\"true\"}", "{\"disk\":\"/a.img\"}",
        "{\"disk\":[\"a.img\"]}", "{\"disk\":[1]}",
        "{\"disk\":[\"/a\",\"/b\",\"/c\",\"/d\",\"/e\"]}", "{\"net\":[\"user\",\"user\",\"user\"]}",
        "{\"net\":[\"\"]}", "{\"append\":{}}", "{\"mmu\":\"sv32\"}", "{\"mmu\":39}",
        "{\"mmu\":\"SV39\"}", "{\"mmu\":\"\"}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int rc = config_rc(good[i]);
        if (rc)
            fprintf(stderr, "good config refused: %s\n", good[i]);
        CHECK(rc == 0);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = config_rc(bad[i]);
        if (rc != -EINVAL)
            fprintf(stderr, "bad config accepted: %s\n", bad[i]);
        CHECK(rc == -EINVAL);
    }
    /* JSON text cannot carry a NUL to the manager (jansson refuses \u0000), but a built
     * value can: the table refuses it too */
    json_t *nul = json_pack("{s:s%}", "append", "a\0b", (size_t)3);
    struct rv_api_error err;
    CHECK(nul && rv_mgr_config_check(nul, &err) == -EINVAL);
    json_decref(nul);
    /* arguments in table order, flags bare, integers as words, arrays one option each */
    json_t *c = json_loads("{\"rng\":true,\"balloon\":false,\"mem\":96,\"disk\":[\"/a\",\"/b\"],"
                           "\"kernel\":\"/k\",\"mmu\":\"sv48\"}", 0, NULL);
    json_t *args = rv_mgr_config_to_args(c);
    char *s = json_dumps(args, JSON_COMPACT);
    CHECK(s && strcmp(s, "[\"--kernel\",\"/k\",\"--mem\",\"96\",\"--mmu\",\"sv48\",\"--disk\","
                         "\"/a\",\"--disk\",\"/b\",\"--rng\"]") == 0);
    free(s);
    json_decref(args);
    json_decref(c);
}

static void test_options(void)
{
    char *argv[] = {"--kernel", "Image", "--mem", "256M", "--smp", "2", "--disk",
                    "d.qcow2,format=qcow2", "--disk", "/abs.img", "--rng", "--disk",
                    "vol:vg/lv", "--mmu", "sv39"};
    json_t *c = NULL;
    struct rv_api_error err;
    CHECK(rv_mgr_config_from_options(15, argv, "/home/u", &c, &err) == 0);
    char *s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK(s && strcmp(s, "{\"disk\":[\"/home/u/d.qcow2,format=qcow2\",\"/abs.img\",\"vol:vg/lv\"],"
                         "\"kernel\":"
                         "\"/home/u/Image\",\"mem\":\"256M\",\"mmu\":\"sv39\",\"rng\":true,"
                         "\"smp\":2}") == 0);
    free(s);
    CHECK(rv_mgr_config_check(c, &err) == 0);
    json_decref(c);
    char *bad1[] = {"--api-socket", "x"}, *bad2[] = {"--smp", "two"}, *bad3[] = {"--mem"},
         *bad4[] = {"--smp", "1", "--smp", "2"}, *bad5[] = {"kernel"};
    CHECK(rv_mgr_config_from_options(2, bad1, "/", &c, &err) == -EINVAL);
    CHECK(rv_mgr_config_from_options(2, bad2, "/", &c, &err) == -EINVAL);
    CHECK(rv_mgr_config_from_options(1, bad3, "/", &c, &err) == -EINVAL);
    CHECK(rv_mgr_config_from_options(4, bad4, "/", &c, &err) == -EINVAL);
    CHECK(rv_mgr_config_from_options(1, bad5, "/", &c, &err) == -EINVAL);
}

/* --- the manager itself, on a temporary state folder --- */

static char dir[64];

static json_t *request(struct rv_mgr *m, const char *line)
{
    char *reply = rv_mgr_handle_line(m, line, strlen(line));
    json_t *r = reply ? json_loads(reply, 0, NULL) : NULL;
    free(reply);
    return r;
}

/* The error code of the reply to `line`, or "ok". */
static const char *code_of(struct rv_mgr *m, const char *line)
{
    static char code[64];
    json_t *r = request(m, line);
    snprintf(code, sizeof(code), "%s",
             json_is_true(json_object_get(r, "ok"))
                 ? "ok"
                 : json_string_value(json_object_get(json_object_get(r, "error"), "code"))
                       ?: "no reply");
    json_decref(r);
    return code;
}

/* What the state folder holds (names and sizes), to see that bad requests change nothing. */
static char *snapshot(void)
{
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "cd %s && find . -path ./manager.sock -prune -o -printf '%%p "
                               "%%s\\n' | sort", dir);
    FILE *p = popen(cmd, "r");
    static char buf[8192];
    size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;
    if (p)
        pclose(p);
    buf[n] = 0;
    return strdup(buf);
}

struct req_case {
    const char *line;
    const char *code;
};

/* At least 30 malformed or hostile requests: each fails with its code, changes nothing. */
static const struct req_case bad_requests[] = {
    {"", "parse-error"},
    {"{", "parse-error"},
    {"not json", "parse-error"},
    {"{\"request\":\"list\",\"request\":\"list\"}", "parse-error"},
    {"[\"list\"]", "invalid-request"},
    {"{}", "invalid-request"},
    {"{\"request\":\"list\",\"name\":\"a\"}", "invalid-request"},
    {"{\"request\":\"list\",\"arguments\":[]}", "invalid-request"},
    {"{\"id\":-4,\"request\":\"list\"}", "invalid-request"},
    {"{\"request\":\"destroy\",\"arguments\":{\"name\":\"a\"}}", "unknown-request"},
    {"{\"request\":\"pause\",\"arguments\":{\"name\":\"a\"}}", "unknown-request"},
    {"{\"request\":\"list\",\"arguments\":{\"all\":true}}", "invalid-argument"},
    {"{\"request\":\"start\"}", "invalid-argument"},
    {"{\"request\":\"start\",\"arguments\":{\"name\":7}}", "invalid-argument"},
    {"{\"request\":\"start\",\"arguments\":{\"name\":\"\"}}", "invalid-argument"},
    {"{\"request\":\"start\",\"arguments\":{\"name\":\"../x\"}}", "invalid-argument"},
    {"{\"request\":\"info\",\"arguments\":{\"name\":\"..\"}}", "invalid-argument"},
    {"{\"request\":\"info\",\"arguments\":{\"name\":\".a\"}}", "invalid-argument"},
    {"{\"request\":\"info\",\"arguments\":{\"name\":\"a/../../etc\"}}", "invalid-argument"},
    {"{\"request\":\"info\",\"arguments\":{\"name\":\"/etc/passwd\"}}", "invalid-argument"},
    {"{\"request\":\"info\",\"arguments\":{\"name\":\"a\\u0000b\"}}", "parse-error"},
    {"{\"request\":\"info\",\"arguments\":{\"name\":\"a\\nb\"}}", "invalid-argument"},
    {"{\"request\":\"delete\",\"arguments\":{\"name\":\"\\u00e9\"}}", "invalid-argument"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"x\"}}", "invalid-argument"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"x\",\"config\":[]}}", "invalid-argument"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"x\",\"config\":{\"mem\":0}}}",
     "invalid-argument"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"x\",\"config\":{\"smp\":99}}}",
     "invalid-argument"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"x\",\"config\":{\"kernel\":\"rel\"}}}",
     "invalid-argument"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"x\",\"config\":{\"api-socket\":\"/s\"}}}",
     "invalid-argument"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"x\",\"config\":{\"bogus\":1}}}",
     "invalid-argument"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"x\",\"config\":{\"rng\":\"yes\"}}}",
     "invalid-argument"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"x/y\",\"config\":{}}}", "invalid-argument"},
    {"{\"request\":\"create\",\"arguments\":{\"name\":\"a\",\"config\":{}}}", "exists"},
    {"{\"request\":\"info\",\"arguments\":{\"name\":\"nosuch\"}}", "not-found"},
    {"{\"request\":\"delete\",\"arguments\":{\"name\":\"nosuch\",\"force\":true}}", "not-found"},
    {"{\"request\":\"stop\",\"arguments\":{\"name\":\"a\"}}", "invalid-state"},
    {"{\"request\":\"kill\",\"arguments\":{\"name\":\"a\"}}", "invalid-state"},
    {"{\"request\":\"vm\",\"arguments\":{\"name\":\"a\",\"request\":\"pause\"}}", "invalid-state"},
    {"{\"request\":\"stop\",\"arguments\":{\"name\":\"a\",\"timeout_s\":-1}}", "invalid-argument"},
    {"{\"request\":\"stop\",\"arguments\":{\"name\":\"a\",\"timeout_s\":\"5\"}}", "invalid-argument"},
    {"{\"request\":\"delete\",\"arguments\":{\"name\":\"a\",\"force\":1}}", "invalid-argument"},
};

static struct rv_mgr *open_mgr(void)
{
    char sock[100];
    snprintf(sock, sizeof(sock), "%s/manager.sock", dir);
    struct rv_mgr *m = NULL;
    int rc = rv_mgr_open(dir, sock, "/bin/false", &m);
    CHECK(rc == 0);
    return rc ? NULL : m;
}

static void test_requests(struct rv_mgr *m)
{
    CHECK(strcmp(code_of(m, "{\"request\":\"create\",\"arguments\":{\"name\":\"a\",\"config\":"
                            "{\"mem\":64,\"kernel\":\"/nonexistent/Image\"}}}"), "ok") == 0);
    CHECK(strcmp(code_of(m, "{\"request\":\"create\",\"arguments\":{\"name\":\"b\",\"config\":"
                            "{}}}"), "ok") == 0);
    char *before = snapshot();
    for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
        const char *code = code_of(m, bad_requests[i].line);
        if (strcmp(code, bad_requests[i].code))
            fprintf(stderr, "%s: got %s, expected %s\n", bad_requests[i].line, code,
                    bad_requests[i].code);
        CHECK(strcmp(code, bad_requests[i].code) == 0);
    }
    char *after = snapshot();
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);
    json_t *r = request(m, "{\"id\":5,\"request\":\"list\"}");
    json_t *vms = json_object_get(json_object_get(r, "result"), "vms");
    CHECK_EQ(json_array_size(vms), 2);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(vms, 0), "state")) ?: "",
                 "defined") == 0);
    CHECK_EQ(json_integer_value(json_object_get(r, "id")), 5);
    json_decref(r);
    CHECK(strcmp(code_of(m, "{\"request\":\"delete\",\"arguments\":{\"name\":\"b\"}}"), "ok") == 0);
    CHECK(strcmp(code_of(m, "{\"request\":\"info\",\"arguments\":{\"name\":\"b\"}}"),
                 "not-found") == 0);
}

/* Definitions survive; leftovers are cleaned; a dead process becomes an exit record. */
static void test_restart(void)
{
    char path[200];
    snprintf(path, sizeof(path), "%s/vms/half", dir); /* an interrupted create */
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/vms/a", dir);
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    const char *pid = "{\"pid\": 999999999, \"starttime\": 5, \"started_ms\": 1}\n";
    CHECK(rv_mgr_write_atomic(fd, "pid.json", pid, strlen(pid)) == 0);
    CHECK(rv_mgr_write_atomic(fd, "status", "126\n", 4) == 0);
    CHECK(rv_mgr_write_atomic(fd, "junk.tmp", "x", 1) == 0);
    close(fd);
    struct rv_mgr *m = open_mgr();
    if (!m)
        return;
    json_t *r = request(m, "{\"request\":\"info\",\"arguments\":{\"name\":\"a\"}}");
    json_t *res = json_object_get(r, "result");
    CHECK(strcmp(json_string_value(json_object_get(res, "state")) ?: "", "failed") == 0);
    CHECK_EQ(json_integer_value(json_object_get(json_object_get(res, "exit"), "status")), 126);
    CHECK(json_integer_value(json_object_get(json_object_get(res, "config"), "mem")) == 64);
    json_decref(r);
    snprintf(path, sizeof(path), "%s/vms/half", dir);
    CHECK(access(path, F_OK) != 0);
    snprintf(path, sizeof(path), "%s/vms/a/pid.json", dir);
    CHECK(access(path, F_OK) != 0);
    /* a second manager on the same folder is refused */
    struct rv_mgr *m2 = NULL;
    CHECK(rv_mgr_open(dir, "/nonexistent/x.sock", "/bin/false", &m2) == -EBUSY);
    /* start runs the VM process: here /bin/false, which ends at once with status 1 */
    CHECK(strcmp(code_of(m, "{\"request\":\"start\",\"arguments\":{\"name\":\"a\"}}"), "ok") == 0);
    CHECK(strcmp(code_of(m, "{\"request\":\"start\",\"arguments\":{\"name\":\"a\"}}"),
                 "invalid-state") == 0);
    CHECK(strcmp(code_of(m, "{\"request\":\"delete\",\"arguments\":{\"name\":\"a\"}}"),
                 "invalid-state") == 0);
    CHECK(strcmp(code_of(m, "{\"request\":\"delete\",\"arguments\":{\"name\":\"a\","
                            "\"force\":true}}"), "ok") == 0);
    snprintf(path, sizeof(path), "%s/vms/a", dir);
    CHECK(access(path, F_OK) != 0);
    rv_mgr_close(m);
}

/* copytruncate rotation of a log another descriptor appends to */
static void test_rotate(void)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    int w = openat(dfd, "t.log", O_WRONLY | O_CREAT | O_APPEND, 0600);
    static char chunk[4096];
    memset(chunk, 'a', sizeof(chunk));
    CHECK_EQ(write(w, chunk, sizeof(chunk)), sizeof(chunk));
    CHECK(rv_mgr_rotate_log(dfd, "t.log", 8192) == 0); /* small enough: untouched */
    CHECK_EQ(write(w, chunk, sizeof(chunk)), sizeof(chunk));
    CHECK_EQ(write(w, "z", 1), 1);
    CHECK(rv_mgr_rotate_log(dfd, "t.log", 8192) == 1);
    struct stat st;
    CHECK(fstatat(dfd, "t.log.1", &st, 0) == 0 && st.st_size == 8193);
    CHECK(fstatat(dfd, "t.log", &st, 0) == 0 && st.st_size == 0);
    CHECK_EQ(write(w, "new", 3), 3); /* O_APPEND: the writer carries on at the start */
    CHECK(fstatat(dfd, "t.log", &st, 0) == 0 && st.st_size == 3);
    CHECK(rv_mgr_rotate_log(dfd, "missing.log", 1) == 0);
    close(w);
    close(dfd);
}

static void test_doc_in_sync(void)
{
    FILE *f = fopen(RV_SOURCE_DIR "/docs/api.md", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    static char doc[1 << 17];
    size_t n = fread(doc, 1, sizeof(doc) - 1, f);
    fclose(f);
    doc[n] = 0;
    const char *mark = "<!-- mgr-schema:begin (rvisor serve --schema-markdown) -->\n";
    char *begin = strstr(doc, mark), *end = strstr(doc, "<!-- mgr-schema:end -->");
    CHECK(begin && end && end > begin);
    if (!begin || !end || end < begin)
        return;
    begin += strlen(mark);
    *end = 0;
    char *md = rv_mgr_schema_markdown();
    bool same = md && strcmp(md, begin) == 0;
    if (!same)
        fprintf(stderr, "docs/api.md is out of date with src/hv/mgr_schema.c/mgr_config.c: "
                        "replace its manager section with `rvisor serve --schema-markdown`\n");
    CHECK(same);
    free(md);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_names();
    test_config();
    test_options();
    test_doc_in_sync();
    snprintf(dir, sizeof(dir), "/tmp/rvisor-mgr-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    struct rv_mgr *m = open_mgr();
    if (m) {
        test_requests(m);
        rv_mgr_close(m);
        test_restart();
        test_rotate();
    }
    char cmd[100];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    TEST_MAIN_END();
}
