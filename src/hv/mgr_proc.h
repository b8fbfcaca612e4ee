/* The manager's VM processes: started detached (own session), recognised again after a
 * manager restart. */
#ifndef RV_HV_MGR_PROC_H
#define RV_HV_MGR_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The marks a managed `rvisor run` carries: it runs in its VM folder, serves its API on this
 * relative path and its console on RV_MGR_CONSOLE_SOCK, logs to RV_MGR_CONSOLE_LOG and writes
 * its exit status to RV_MGR_STATUS_FILE. */
#define RV_MGR_API_SOCK "api.sock"
#define RV_MGR_CONSOLE_SOCK "console.sock"
#define RV_MGR_CONSOLE_LOG "console.log"
#define RV_MGR_CONSOLE_LOG_MAX ((off_t)4 << 20) /* rotated to console.log.1 beyond this */
#define RV_MGR_STATUS_FILE "status"
#define RV_MGR_RUN_LOG "run.log"

/* Starts `argv` (argv[0] the program) in a new session, in folder `dir`, with stdin and
 * stdout on /dev/null, stderr appended to RV_MGR_RUN_LOG there, default signal handling, an
 * empty signal mask and the manager's environment (HOME for the default guest, RVISOR_VOL_*
 * for volumes ...). Returns 0 and the pid, or a negative errno with rv_error_get() set. */
int rv_mgr_spawn(const char *exe, char *const argv[], const char *dir, pid_t *pid);

/* The process's start time (/proc/PID/stat field 22, clock ticks since boot), 0 if gone. */
uint64_t rv_mgr_proc_starttime(pid_t pid);

/* True when `pid` is still a managed VM process: same start time (so not a reused pid) and a
 * command line `... run ... --api-socket api.sock`. *in_dir tells whether its working folder
 * is `dir` as seen from here (a process in another mount namespace may not show it). */
bool rv_mgr_proc_is_vm(pid_t pid, uint64_t starttime, const char *dir, bool *in_dir);

#endif
