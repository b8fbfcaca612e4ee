/* The GDB remote stub of a VM: `rvisor run --gdb tcp:HOST:PORT` (docs/debugging.md). */
#ifndef RV_DEBUG_GDBSTUB_H
#define RV_DEBUG_GDBSTUB_H

#include <stdbool.h>

#include "rvisor/vm.h"

struct rv_gdbstub;

/* Listens on `spec` ("tcp:HOST:PORT", PORT 0 picks a free one) and serves one debugger at a
 * time on its own thread. Call before rv_vm_run(). With `wait`, the harts stay at reset until
 * the debugger continues them. Returns 0, or a negative errno with rv_error_get() set. */
int rv_gdbstub_start(struct rv_vm *vm, const char *spec, bool wait, struct rv_gdbstub **out);

/* The TCP port listened on. */
unsigned rv_gdbstub_port(const struct rv_gdbstub *s);

/* After rv_vm_run() returned `status`: tells a waiting debugger the VM exited, closes the
 * connection and stops the thread. NULL is a no-op. */
void rv_gdbstub_stop(struct rv_gdbstub *s, int status);

#endif
