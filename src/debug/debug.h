/* The debugger's "hardware" for a hart: breakpoints, watchpoints, single step and an
 * instruction trace hook, all outside guest-visible state (nothing is patched into guest
 * memory, so breakpoints survive code being rewritten or retranslated).
 *
 * While any of them is active the machine runs the hart with rv_debug_run() instead of the
 * interpreter's or the translator's fast loop; otherwise nothing here costs anything. The point
 * sets are changed only while every hart is stopped (src/machine/vm_debug.c). */
#ifndef RV_DEBUG_DEBUG_H
#define RV_DEBUG_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/hart.h"

#define RV_DEBUG_MAX_BP 64
#define RV_DEBUG_MAX_WP 16

/* What a watchpoint watches (bit 0: stores, bit 1: loads), as GDB's Z2/Z3/Z4. */
enum rv_watch_kind { RV_WATCH_WRITE = 1, RV_WATCH_READ = 2, RV_WATCH_ACCESS = 3 };

struct rv_watchpoint {
    uint64_t addr, len; /* guest virtual range [addr, addr + len) */
    unsigned kind;      /* enum rv_watch_kind */
};

struct rv_debug_points {
    uint64_t bp[RV_DEBUG_MAX_BP]; /* breakpoint addresses (guest virtual pcs) */
    unsigned nbp;
    struct rv_watchpoint wp[RV_DEBUG_MAX_WP];
    unsigned nwp;
};

/* Insert/remove: 0, -ENOSPC when full, -ENOENT when removing what is not there, -EINVAL for
 * a bad watch range. Inserting an existing point is a no-op. */
int rv_debug_bp_insert(struct rv_debug_points *d, uint64_t addr);
int rv_debug_bp_remove(struct rv_debug_points *d, uint64_t addr);
int rv_debug_wp_insert(struct rv_debug_points *d, uint64_t addr, uint64_t len, unsigned kind);
int rv_debug_wp_remove(struct rv_debug_points *d, uint64_t addr, uint64_t len, unsigned kind);

enum rv_debug_reason { RV_DEBUG_NONE, RV_DEBUG_BREAK, RV_DEBUG_WATCH, RV_DEBUG_STEP };

/* Called before each instruction when tracing: `raw` is its encoding. */
typedef void (*rv_debug_trace_fn)(void *opaque, struct rv_hart *h, uint64_t pc, uint32_t raw);

struct rv_debug_run {
    const struct rv_debug_points *points; /* NULL: none */
    bool step;                    /* execute exactly one instruction, with no interrupt taken
                                     before it, then return RV_EXIT_DEBUG (RV_DEBUG_STEP) */
    bool watch_resume;            /* the hart resumes at watch_pc, where a watchpoint stopped
                                     it: that instruction's access does not stop it again */
    uint64_t watch_pc;
    rv_debug_trace_fn trace;      /* NULL: no instruction trace */
    void *trace_opaque;
    /* out, for RV_EXIT_DEBUG */
    enum rv_debug_reason reason;
    uint64_t watch_addr;          /* RV_DEBUG_WATCH: an address of the watched range hit */
    unsigned watch_kind;          /* RV_DEBUG_WATCH: the watchpoint's kind */
};

/* rv_hart_run() one instruction at a time with the checks `r` asks for: a breakpoint stops the
 * hart before the instruction at its address executes (pc = the address); so does a watchpoint
 * for an instruction about to access its range (like the RISC-V debug spec's triggers with
 * timing "before", which GDB expects on RISC-V: it then steps over the access itself). Returns RV_EXIT_DEBUG for those
 * (r->reason says which) or any exit of rv_hart_run(). */
enum rv_exit rv_debug_run(struct rv_hart *h, struct rv_debug_run *r, uint64_t budget);

#endif
