/* Interpreter internals shared between exec.c and exec_fp.c, and the entry points the binary
 * translator (src/jit) uses to stay exactly equivalent to the interpreter: whatever it does not
 * translate, it hands to these. */
#ifndef RV_CPU_EXEC_H
#define RV_CPU_EXEC_H

#include <stdbool.h>

#include "cpu/decode.h"
#include "cpu/hart.h"

/* rv_hart_run() looks at the timers (arms RV_EVENT_IRQ) after every chunk of this many loop
 * iterations (instructions retired or traps taken). */
#define RV_RUN_CHUNK 4096

/* Executes an F/D instruction (or reports RV_OP_ILLEGAL-class ops as illegal). Returns -1
 * (retired, pc advanced) or an exception cause. */
int rv_exec_fp(struct rv_hart *h, const struct rv_insn *in);

/* One iteration of rv_hart_run()'s loop: pending events first (stop, flush requests,
 * interrupts), then the instruction at pc executed and retired, or its trap taken. Returns true
 * with *exit set if the hart must leave. */
bool rv_hart_step(struct rv_hart *h, enum rv_exit *exit);

/* rv_hart_step() without the events: the instruction at pc executed and retired, or its trap
 * taken, and no interrupt before it (a debugger's single step). */
bool rv_hart_step_insn(struct rv_hart *h, enum rv_exit *exit);

/* Executes the decoded instruction `in` located at h->pc, without retiring it (instret is the
 * caller's). Returns -1 (done, pc advanced), -2 (WFI with nothing pending: an exit) or the
 * exception cause, with h->fault_va set for memory faults. */
int rv_hart_exec(struct rv_hart *h, const struct rv_insn *in);

/* Takes exception `exc` raised by the instruction at h->pc (`raw`: its encoding, the trap
 * value of an illegal instruction), exactly as rv_hart_run() does. Returns true with *exit set
 * if the trap became an exit. */
bool rv_hart_raise(struct rv_hart *h, int exc, uint32_t raw, enum rv_exit *exit);

/* Takes pending events (stop, flush requests, interrupts) as rv_hart_step() does before its
 * instruction. Returns true with *exit set if the hart must leave. */
bool rv_hart_handle_events(struct rv_hart *h, enum rv_exit *exit);

/* True if a timer may fire: rv_hart_run() then arms RV_EVENT_IRQ after each chunk. */
bool rv_hart_timers_armed(const struct rv_hart *h);

#endif
