/* The dynamic binary translator: an accelerator of src/cpu with the interpreter's observable
 * behaviour (DESIGN.md).
 *
 * rv_jit_run() has rv_hart_run()'s contract: the same exits, the same instret and budget
 * accounting, interrupts taken at the same kind of boundary, precise traps. Guest code
 * is translated a basic block at a time into x86-64 code; whatever a block does not handle
 * natively it hands to the interpreter (src/cpu/exec.h).
 *
 * A VM's harts share one rv_jit_group, which tracks the guest-physical pages holding
 * translations (struct rv_bus.code_pages): a hart's store to such a page drops the
 * translations of the page on every hart. Anything else that writes guest memory (device DMA,
 * the monitor) calls rv_bus_note_write() first; translations of those pages are compared with
 * memory at the guest's next FENCE.I, as the ISA requires. Loading images or a snapshot into
 * RAM needs rv_jit_flush(). */
#ifndef RV_JIT_JIT_H
#define RV_JIT_JIT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/hart.h"

struct rv_jit_group;
struct rv_jit;

/* Harts per group: the code_pages bytes have one bit per hart. */
#define RV_JIT_MAX_HARTS 8

struct rv_jit_stats {
    uint64_t blocks;        /* blocks translated */
    uint64_t guest_insns;   /* guest instructions in them */
    uint64_t code_bytes;    /* bytes of host code emitted since the last flush */
    uint64_t flushes;       /* whole-cache flushes (overflow, rv_jit_flush) */
    uint64_t invalidations; /* pages whose translations were dropped */
    uint64_t fence_checks;  /* pages re-checked against guest memory after a FENCE.I */
    /* where time goes (RVISOR_JIT_STATS=1 prints them when the translator is destroyed) */
    uint64_t exits[5];      /* returns to the dispatcher, by reason (jit_internal.h) */
    uint64_t lookups;       /* helper_lookup calls (jcache misses in translated code) */
    uint64_t slow_loads, slow_stores; /* TLB misses, I/O and code pages */
    uint64_t helper_execs;  /* instructions handed to the interpreter inside blocks */
    uint64_t interp_steps;  /* instructions the dispatcher ran in the interpreter */
    /* loads and stores of guest registers (hart <-> host registers) emitted in the blocks
     * translated (not their counting variants): on their main paths, and in their out-of-line
     * code (slow paths, side exits, loop back edges) */
    uint64_t rc_loads, rc_stores, rc_cold_loads, rc_cold_stores;
    /* accesses translated as members of a base group (translate_mem.c), and how often one
     * found no addend from its leader and checked the TLB itself */
    uint64_t mem_grouped, group_cold;
    /* accesses through the host-MMU window (jit_uwin.c) translated, those of them without a
     * limit check of their own (translate_mem.c), and window faults sent to the slow path */
    uint64_t uwin_accesses, uwin_unchecked, uwin_slow;
    /* blocks that loop back to their first instruction (translate_loop.c), and those of them
     * that follow a jump closing the loop (translate.c, scan) */
    uint64_t loop_blocks, loops_followed;
};

/* Whether translated code may use host-MMU windows (cpu/uwin.h): the SIGSEGV handler that
 * serves them is installed (the first call installs it; before the sandbox, which refuses
 * rt_sigaction). */
bool rv_jit_uwin_ready(void);

/* Creates the group for the harts using `bus` and hooks it into the bus. Returns 0, or a
 * negative errno with rv_error_get() set. */
int rv_jit_group_create(struct rv_bus *bus, struct rv_jit_group **out);
/* Unhooks the bus; the group's translators must be destroyed first. */
void rv_jit_group_destroy(struct rv_jit_group *g);

/* Creates the translator of hart `h` (whose bus is the group's). Fails cleanly (negative
 * errno, rv_error_get()) where the host cannot map executable memory; the hart then runs with
 * rv_hart_run(). */
int rv_jit_create(struct rv_jit_group *g, struct rv_hart *h, struct rv_jit **out);
void rv_jit_destroy(struct rv_jit *j);

/* rv_hart_run() for the translator's hart. One difference: with a real-time clock
 * (h->time_read), pending timers are looked at every 65536 rather than every RV_RUN_CHUNK loop
 * iterations (a chunk may end up to a block's length early: the rest goes to the next one),
 * which keeps the interrupt latency about the interpreter's. */
enum rv_exit rv_jit_run(struct rv_jit *j, uint64_t budget);

/* Drops every translation of this hart. Needed when guest memory was rewritten behind the
 * harts' backs and the guest will not execute a FENCE.I (reset, loading images, restoring a
 * snapshot). Call on the hart's thread or while it is not running. */
void rv_jit_flush(struct rv_jit *j);

void rv_jit_get_stats(const struct rv_jit *j, struct rv_jit_stats *out);

/* Host memory of this translator: the mappings (code cache, block metadata arena) and where
 * they are, so the caller can ask how much of them is resident. */
struct rv_jit_mapping {
    const void *addr;
    size_t len;
};
#define RV_JIT_MAPPINGS 2
void rv_jit_mappings(const struct rv_jit *j, struct rv_jit_mapping out[RV_JIT_MAPPINGS]);

#endif
