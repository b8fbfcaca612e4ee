/* CPU limits through cgroup v2, cgroup v1 or nice (cgroup.h). */
#include "hv/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"

/* Does the comma-separated list contain `word`? */
static bool has_word(const char *list, const char *word, const char *seps)
{
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, seps);
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p += len;
        p += strspn(p, seps);
    }
    return false;
}

static bool v2_has_cpu(const char *mount)
{
    char path[600], buf[512];
    snprintf(path, sizeof(path), "%s/cgroup.controllers", mount);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool cpu = fgets(buf, sizeof(buf), f) && has_word(buf, "cpu", " \n");
    fclose(f);
    return cpu;
}

void rv_cgroup_detect(int *version, char *mount, size_t size)
{
    *version = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return;
    char line[1024], v1[512] = "";
    while (fgets(line, sizeof(line), f)) {
        /* id parent major:minor root mountpoint options [optional...] - fstype source super */
        char point[512], type[64], super[512];
        const char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", point) != 1 ||
            sscanf(dash + 3, "%63s %*s %511s", type, super) != 2)
            continue;
        if (strcmp(type, "cgroup2") == 0 && v2_has_cpu(point)) {
            *version = 2;
            snprintf(mount, size, "%s", point);
            break;
        }
        if (strcmp(type, "cgroup") == 0 && !v1[0] && has_word(super, "cpu", ","))
            snprintf(v1, sizeof(v1), "%s", point);
    }
    fclose(f);
    if (*version == 0 && v1[0]) {
        *version = 1;
        snprintf(mount, size, "%s", v1);
    }
}

static int write_file(const char *dir, const char *name, const char *value)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return rv_error_set(-errno, "%s: %s", path, strerror(errno));
    ssize_t n = write(fd, value, strlen(value));
    int err = errno;
    close(fd);
    if (n != (ssize_t)strlen(value))
        return rv_error_set(n < 0 ? -err : -EIO, "%s: writing '%s': %s", path, value,
                            strerror(n < 0 ? err : EIO));
    return 0;
}

/* Removes empty vm-<pid> cgroups of VMs that are gone (killed without cleaning up). */
static void collect_stale(const char *parent)
{
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid;
        char tail;
        if (sscanf(e->d_name, "vm-%d%c", &pid, &tail) != 1 || pid <= 0)
            continue;
        if (kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[1024];
        if (snprintf(path, sizeof(path), "%s/%s", parent, e->d_name) < (int)sizeof(path))
            rmdir(path); /* fails harmlessly if not empty */
    }
    closedir(d);
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return rv_error_set(-errno, "%s: %s", path, strerror(errno));
    return 0;
}

static int write_limits(int version, const char *dir, const struct rv_cpu_limits *l)
{
    char v[64];
    int rc = 0;
    if (version == 2) {
        if (l->quota_pct) {
            snprintf(v, sizeof(v), "%llu %u",
                     (unsigned long long)l->quota_pct * RV_CPU_PERIOD_US / 100, RV_CPU_PERIOD_US);
            rc = write_file(dir, "cpu.max", v);
        }
        if (!rc && l->weight) {
            snprintf(v, sizeof(v), "%u", l->weight);
            rc = write_file(dir, "cpu.weight", v);
        }
        return rc;
    }
    if (l->quota_pct) {
        snprintf(v, sizeof(v), "%u", RV_CPU_PERIOD_US);
        rc = write_file(dir, "cpu.cfs_period_us", v);
        snprintf(v, sizeof(v), "%llu",
                 (unsigned long long)l->quota_pct * RV_CPU_PERIOD_US / 100);
        if (!rc)
            rc = write_file(dir, "cpu.cfs_quota_us", v);
    }
    if (!rc && l->weight) {
        unsigned shares = (unsigned)((unsigned long long)l->weight * 1024 / 100);
        snprintf(v, sizeof(v), "%u", shares < 2 ? 2 : shares);
        rc = write_file(dir, "cpu.shares", v);
    }
    return rc;
}

/* Without a cgroup: weight 100 is nice 0, each nice step a factor 1.25 (kernel/sched). */
static int apply_nice(const struct rv_cpu_limits *l, struct rv_cgroup *cg)
{
    if (l->quota_pct)
        return rv_error_set(-ENOTSUP, "--cpu-quota needs the cgroup cpu controller (cgroup v2 "
                            "with cpu enabled, or cgroup v1 'cpu'), and none is available");
    if (!l->weight)
        return 0;
    long nice = lround(-log((double)l->weight / 100.0) / log(1.25));
    nice = nice < -20 ? -20 : nice > 19 ? 19 : nice;
    if (setpriority(PRIO_PROCESS, 0, (int)nice) < 0)
        return rv_error_set(-errno, "--cpu-weight: no cgroup cpu controller, and nice %ld "
                            "failed: %s", nice, strerror(errno));
    cg->nice = (int)nice;
    snprintf(cg->summary, sizeof(cg->summary), "no cgroup cpu controller: weight %u as nice %ld",
             l->weight, nice);
    return 0;
}

int rv_cgroup_apply(int version, const char *mount, pid_t pid, const struct rv_cpu_limits *l,
                    struct rv_cgroup *cg)
{
    memset(cg, 0, sizeof(*cg));
    cg->parent_fd = cg->parent_procs_fd = -1;
    if (!l->quota_pct && !l->weight)
        return 0;
    if (version == 0)
        return apply_nice(l, cg);
    char parent[560];
    snprintf(parent, sizeof(parent), "%s/rvisor", mount);
    int rc = make_dir(parent);
    /* v2: the controller must be enabled on the way down (cgroup-v2.rst "Top-down
     * Constraint"); the hierarchy's root may hold processes, rvisor/ never does. */
    if (!rc && version == 2)
        rc = write_file(mount, "cgroup.subtree_control", "+cpu");
    if (!rc && version == 2)
        rc = write_file(parent, "cgroup.subtree_control", "+cpu");
    if (rc)
        return rv_error_prefix(rc, "cgroup v%d: ", version);
    collect_stale(parent);
    int n = snprintf(cg->dir, sizeof(cg->dir), "%.480s/vm-%d", parent, (int)pid);
    if (n >= (int)sizeof(cg->dir))
        return rv_error_set(-ENAMETOOLONG, "cgroup: %s: path too long", parent);
    char pidstr[24];
    snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
    rc = make_dir(cg->dir);
    if (!rc)
        rc = write_limits(version, cg->dir, l);
    if (!rc)
        rc = write_file(cg->dir, "cgroup.procs", pidstr);
    if (rc) {
        rmdir(cg->dir);
        return rv_error_prefix(rc, "cgroup v%d: ", version);
    }
    char procs[600];
    snprintf(procs, sizeof(procs), "%s/cgroup.procs", mount);
    cg->version = version;
    cg->parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cg->parent_procs_fd = open(procs, O_WRONLY | O_CLOEXEC);
    snprintf(cg->summary, sizeof(cg->summary), "cgroup v%d %.100s: quota %u%%, weight %u",
             version, cg->dir, l->quota_pct, l->weight ? l->weight : 100);
    return 0;
}

void rv_cgroup_leave(struct rv_cgroup *cg, pid_t pid)
{
    if (cg->version == 0)
        return;
    char pidstr[24];
    int n = snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
    if (cg->parent_procs_fd >= 0 && write(cg->parent_procs_fd, pidstr, (size_t)n) == n &&
        cg->parent_fd >= 0) {
        const char *name = strrchr(cg->dir, '/');
        if (name && unlinkat(cg->parent_fd, name + 1, AT_REMOVEDIR) < 0)
            rv_debug("cgroup: removing %s: %s", cg->dir, strerror(errno));
    }
    if (cg->parent_fd >= 0)
        close(cg->parent_fd);
    if (cg->parent_procs_fd >= 0)
        close(cg->parent_procs_fd);
    cg->parent_fd = cg->parent_procs_fd = -1;
    cg->version = 0;
}
