/* CPU limits (hv/cgroup.h) on fake cgroup trees in a temporary directory: the files cgroup v2
 * and v1 expect are written with the right values, the process is "moved" by writing its
 * pid, leaving writes it to the root's cgroup.procs; without a cgroup a weight becomes a nice
 * value and a quota is refused. (tests/sandbox checks the real v1/v2 hierarchy as root.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv/cgroup.h"
#include "test.h"

#define PID 4242

static void put(const char *dir, const char *name, const char *value)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(value, f);
        fclose(f);
    }
}

static bool has(const char *dir, const char *name, const char *value)
{
    char path[1400], buf[128] = "";
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return strcmp(buf, value) == 0;
}

/* A fake hierarchy: <root>/cgroup.procs, rvisor/, rvisor/vm-PID/ with the given files. */
static void make_tree(const char *root, const char *const *files)
{
    char dir[600];
    mkdir(root, 0755);
    put(root, "cgroup.procs", "");
    put(root, "cgroup.subtree_control", "");
    snprintf(dir, sizeof(dir), "%s/rvisor", root);
    mkdir(dir, 0755);
    put(dir, "cgroup.subtree_control", "");
    snprintf(dir, sizeof(dir), "%s/rvisor/vm-%d", root, PID);
    mkdir(dir, 0755);
    for (; *files; files++)
        put(dir, *files, "");
}

static void test_v2(const char *tmp)
{
    char root[512], vm[600];
    snprintf(root, sizeof(root), "%s/v2", tmp);
    const char *files[] = {"cpu.max", "cpu.weight", "cgroup.procs", NULL};
    make_tree(root, files);
    struct rv_cgroup cg;
    struct rv_cpu_limits l = {.quota_pct = 250, .weight = 300};
    CHECK_EQ(rv_cgroup_apply(2, root, PID, &l, &cg), 0);
    snprintf(vm, sizeof(vm), "%s/rvisor/vm-%d", root, PID);
    CHECK(strcmp(cg.dir, vm) == 0);
    CHECK(has(vm, "cpu.max", "250000 100000"));
    CHECK(has(vm, "cpu.weight", "300"));
    CHECK(has(vm, "cgroup.procs", "4242"));
    CHECK(has(root, "cgroup.subtree_control", "+cpu"));
    snprintf(vm, sizeof(vm), "%s/rvisor", root);
    CHECK(has(vm, "cgroup.subtree_control", "+cpu"));
    CHECK(strstr(cg.summary, "cgroup v2") != NULL);
    rv_cgroup_leave(&cg, PID);
    CHECK(has(root, "cgroup.procs", "4242"));
    CHECK_EQ(cg.version, 0);
}

static void test_v1(const char *tmp)
{
    char root[512], vm[600];
    snprintf(root, sizeof(root), "%s/v1", tmp);
    const char *files[] = {"cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.shares",
                           "cgroup.procs", NULL};
    make_tree(root, files);
    struct rv_cgroup cg;
    struct rv_cpu_limits l = {.quota_pct = 50, .weight = 1};
    CHECK_EQ(rv_cgroup_apply(1, root, PID, &l, &cg), 0);
    snprintf(vm, sizeof(vm), "%s/rvisor/vm-%d", root, PID);
    CHECK(has(vm, "cpu.cfs_period_us", "100000"));
    CHECK(has(vm, "cpu.cfs_quota_us", "50000"));
    CHECK(has(vm, "cpu.shares", "10")); /* 1 * 1024 / 100 */
    CHECK(has(vm, "cgroup.procs", "4242"));
    rv_cgroup_leave(&cg, PID);
    /* A controller without the files (not a cgroup file system): a clear error. */
    snprintf(root, sizeof(root), "%s/nothing", tmp);
    mkdir(root, 0755);
    CHECK_EQ(rv_cgroup_apply(2, root, PID, &l, &cg), -ENOENT);
}

static void test_no_cgroup(void)
{
    struct rv_cgroup cg;
    struct rv_cpu_limits quota = {.quota_pct = 50};
    CHECK_EQ(rv_cgroup_apply(0, "", PID, &quota, &cg), -ENOTSUP);
    struct rv_cpu_limits none = {0};
    CHECK_EQ(rv_cgroup_apply(0, "", PID, &none, &cg), 0);
    fflush(NULL);
    pid_t pid = fork(); /* nice is per thread and one-way for users: in a child */
    if (pid == 0) {
        struct rv_cpu_limits w = {.weight = 10}; /* 1/10 of the default: nice +10 */
        struct rv_cgroup c;
        int rc = rv_cgroup_apply(0, "", getpid(), &w, &c);
        _exit(rc == 0 && c.nice == 10 && getpriority(PRIO_PROCESS, 0) == 10 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
    char tmp[] = "/tmp/rvisor-cgroup-XXXXXX";
    if (!mkdtemp(tmp)) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    test_v2(tmp);
    test_v1(tmp);
    test_no_cgroup();
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    TEST_MAIN_END();
}
