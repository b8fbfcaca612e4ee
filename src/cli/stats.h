/* The debugging options of `rvisor run` (--gdb, --trace, --symbols, --stats): set up before
 * the run, torn down after it. */
#ifndef RV_CLI_STATS_H
#define RV_CLI_STATS_H

#include <stdbool.h>
#include <stdio.h>

#include "rvisor/vm.h"

struct rv_gdbstub;
struct rv_trace;
struct rv_symbols;

struct cli_debug {
    const char *gdb;     /* --gdb SPEC (or -s) */
    bool wait;           /* --gdb-wait / -S */
    const char *trace;   /* --trace SPEC */
    const char *symbols; /* --symbols FILE */
    bool stats;          /* --stats */
    struct rv_gdbstub *stub;
    struct rv_trace *tr;
    struct rv_symbols *syms;
};

/* Starts what the options ask for; prints the error and returns -1 on failure. */
int cli_debug_start(struct cli_debug *d, struct rv_vm *vm, const struct rv_vm_config *cfg);
/* After rv_vm_run() returned `status`. */
void cli_debug_finish(struct cli_debug *d, struct rv_vm *vm, int status);

/* Prints the exit statistics of `vm` to `out`. */
void cli_print_stats(struct rv_vm *vm, FILE *out);

#endif
