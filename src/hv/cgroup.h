/* CPU limits for one VM process through cgroups (docs/sandbox.md "CPU limits").
 *
 * cgroup v2 when a cgroup2 hierarchy offers the cpu controller: the process moves into
 * <mount>/rvisor/vm-<pid> with cpu.max = "quota period" and cpu.weight. Otherwise cgroup v1's
 * cpu controller: <mount>/rvisor/vm-<pid> with cpu.cfs_quota_us/cpu.cfs_period_us and
 * cpu.shares (weight * 1024 / 100, v2's default weight 100 being v1's 1024 shares). With no cpu
 * controller at all: a weight becomes a nice value (each nice step is a factor 1.25 of CPU
 * share, as the kernel's weight table), and a quota is refused with an error, since nothing
 * else can cap CPU time. The cgroup is left and removed when the VM ends; ones left behind by
 * killed VMs (empty) are removed when the next VM starts. */
#ifndef RV_HV_CGROUP_H
#define RV_HV_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

struct rv_cpu_limits {
    unsigned quota_pct; /* CPU time per period in % of one CPU (250 = 2.5 CPUs); 0: none */
    unsigned weight;    /* 1..10000 (cgroup v2 cpu.weight scale, default 100); 0: none */
};

#define RV_CPU_PERIOD_US 100000u
#define RV_CPU_MAX_QUOTA_PCT 100000u
#define RV_CPU_MAX_WEIGHT 10000u

struct rv_cgroup {
    int version;          /* 2, 1, or 0: no cgroup (nice only, or nothing) */
    char dir[512];        /* the VM's cgroup directory */
    int parent_fd;        /* its parent directory (rmdir at exit), or -1 */
    int parent_procs_fd;  /* the parent's cgroup.procs (to leave at exit), or -1 */
    int nice;             /* the nice value set without a cgroup */
    char summary[160];    /* for status reports: what is enforced and how */
};

/* Finds the cpu controller in /proc/self/mountinfo: *version 2 or 1 with its mount point, or
 * 0 when there is none. */
void rv_cgroup_detect(int *version, char *mount, size_t size);

/* Creates <mount>/rvisor/vm-<pid>, writes the limits and moves process `pid` into it
 * (version 1 or 2); version 0 applies the nice fallback to the calling thread (call it before
 * other threads exist). Returns 0, or -errno with rv_error_get() set. */
int rv_cgroup_apply(int version, const char *mount, pid_t pid, const struct rv_cpu_limits *l,
                    struct rv_cgroup *cg);

/* Moves `pid` back to the parent cgroup and removes the VM's (files opened by apply, so this
 * works inside the sandbox). */
void rv_cgroup_leave(struct rv_cgroup *cg, pid_t pid);

#endif
