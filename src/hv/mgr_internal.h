/* Inside the manager (mgr.c: state folder, processes, event loop; mgr_req.c: requests). */
#ifndef RV_HV_MGR_INTERNAL_H
#define RV_HV_MGR_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hv/api.h"
#include "hv/mgr.h"
#include "hv/mgr_schema.h"

#define MGR_MAX_VMS 256

enum mgr_state {
    MGR_DEFINED,  /* never started */
    MGR_RUNNING,  /* its process runs (the VM itself may be paused) */
    MGR_STOPPING, /* stop or kill asked; the process has not ended yet */
    MGR_STOPPED,  /* ended cleanly or on request */
    MGR_FAILED,   /* ended on its own with a failure, a signal or an unknown status */
};

struct mgr_vm {
    struct mgr_vm *next;
    char name[RV_MGR_NAME_MAX + 1];
    json_t *config;        /* checked configuration */
    enum mgr_state state;
    pid_t pid;             /* with pidfd >= 0 */
    int pidfd;             /* -1: no process */
    bool child;            /* started by this manager (waitid gives its status) */
    uint64_t starttime;    /* /proc/PID/stat start time */
    int64_t started_ms;    /* wall clock at start (uptime survives manager restarts) */
    bool stop_asked;       /* stop/kill/delete asked: the end is not a failure */
    int64_t kill_at_ms;    /* monotonic deadline of a stop, 0: none */
    json_t *exit;          /* how the last run ended, or NULL */
};

struct rv_mgr {
    pthread_mutex_t lock;  /* everything below; requests and the event loop take it */
    char *dir;             /* absolute state folder */
    char *exe;             /* the rvisor binary for VM processes */
    int dirfd, vmsfd, lockfd, epfd, sigfd;
    struct mgr_vm *vms;    /* sorted by name */
    unsigned nvms;
    struct rv_api_server *server;
};

/* mgr.c, called with the lock held */
struct mgr_vm *mgr_find(struct rv_mgr *m, const char *name);
/* Adds a VM to the table, in name order (so `list` needs no sorting). */
void mgr_insert(struct rv_mgr *m, struct mgr_vm *vm);
void mgr_path(struct rv_mgr *m, const struct mgr_vm *vm, const char *file, char *buf,
              size_t size);
int mgr_vm_start(struct rv_mgr *m, struct mgr_vm *vm);
/* Takes the end of a VM's process (its pidfd is readable), records it, closes the pidfd. */
void mgr_vm_reap(struct rv_mgr *m, struct mgr_vm *vm);
void mgr_vm_signal(struct mgr_vm *vm, int sig);
int64_t mgr_now_ms(void);
const char *mgr_state_name(enum mgr_state s);

#endif
