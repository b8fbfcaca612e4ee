/* Debugger support of the machine (vm_debug.c): halting and resuming every hart, single step,
 * breakpoint/watchpoint stops, guest memory as the debugger sees it, and the trace hooks. Used
 * by the GDB stub (src/debug/gdbstub.c) and the command line. All functions are safe from any
 * thread while rv_vm_run() runs; those marked "halted" need every hart stopped (after
 * rv_vm_debug_halt() or a reported stop, before the next resume). */
#ifndef RV_MACHINE_VM_DEBUG_H
#define RV_MACHINE_VM_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/hart.h"
#include "debug/debug.h"
#include "rvisor/vm.h"

/* Why the harts stopped. */
struct rv_vm_stop {
    unsigned hart;               /* the hart that stopped first (0 for a halt request) */
    enum rv_debug_reason reason; /* RV_DEBUG_NONE: rv_vm_debug_halt() (an interrupt) */
    uint64_t watch_addr;         /* RV_DEBUG_WATCH: see struct rv_debug_run */
    unsigned watch_kind;
};

/* Turns debugging on (before rv_vm_run()): when harts stop on their own (breakpoint, watchpoint,
 * end of a step) one byte is written to `notify_fd`. With `halted`, the harts stay at their
 * reset state until the first resume. */
void rv_vm_debug_enable(struct rv_vm *vm, int notify_fd, bool halted);

/* Stops every hart at an instruction boundary and waits until all are stopped. -ESRCH if the
 * VM is no longer running. */
int rv_vm_debug_halt(struct rv_vm *vm);

/* Waits until every hart has stopped after a stop was notified, and returns it. -ESRCH if the
 * VM is no longer running, -EAGAIN if no stop is pending. */
int rv_vm_debug_take_stop(struct rv_vm *vm, struct rv_vm_stop *out);

/* Resumes the harts in `run` (bit i: hart i) and lets those in `step` execute one instruction
 * each, with no interrupt taken before it (the end of a step is notified as a stop with reason
 * RV_DEBUG_STEP); the others stay stopped. The first stop of any hart stops them all again. */
void rv_vm_debug_resume(struct rv_vm *vm, uint32_t run, uint32_t step);

/* halted: the VM's breakpoints and watchpoints; changes take effect at the next resume. */
struct rv_debug_points *rv_vm_debug_points(struct rv_vm *vm);

/* halted: hart i (i < number of harts). */
unsigned rv_vm_nharts(const struct rv_vm *vm);
struct rv_hart *rv_vm_debug_hart(struct rv_vm *vm, unsigned i);

/* halted: reads or writes guest memory without side effects visible to the guest (no device
 * access, no A/D bit or TLB change). `virt`: addresses are virtual, translated as hart `hart`
 * currently would; otherwise physical. Returns the number of bytes done (from the start; fewer
 * than `len` when an unmapped or non-RAM page is reached). */
size_t rv_vm_debug_read(struct rv_vm *vm, unsigned hart, bool virt, uint64_t addr, void *buf,
                        size_t len);
size_t rv_vm_debug_write(struct rv_vm *vm, unsigned hart, bool virt, uint64_t addr,
                         const void *buf, size_t len);

/* Tracing (src/debug/trace.c formats the records). Each hook may be NULL. */
#define RV_TRACE_INSN  1u
#define RV_TRACE_EXITS 2u
#define RV_TRACE_MMIO  4u
#define RV_TRACE_SBI   8u

struct rv_vm_tracer {
    unsigned mask; /* RV_TRACE_* */
    void *opaque;
    rv_debug_trace_fn insn;
    void (*on_exit)(void *opaque, struct rv_hart *h, enum rv_exit e);
    void (*mmio)(void *opaque, const char *dev, uint64_t paddr, uint64_t offset, unsigned size,
                 uint64_t value, bool write);
    void (*sbi)(void *opaque, struct rv_hart *h, uint64_t eid, uint64_t fid,
                const uint64_t args[6], int64_t error, uint64_t value);
};

/* Before rv_vm_run(). The tracer must outlive the run. */
void rv_vm_set_tracer(struct rv_vm *vm, const struct rv_vm_tracer *t);

#endif
