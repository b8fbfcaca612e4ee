/* `--trace=insn|exits|mmio|sbi[,file=PATH]`: readable trace records, one per line, with
 * addresses symbolized when a symbol table is given. */
#ifndef RV_DEBUG_TRACE_H
#define RV_DEBUG_TRACE_H

#include "debug/symbols.h"
#include "machine/vm_debug.h"

struct rv_trace;

/* Parses the option value ("exits,sbi,file=/tmp/t") and opens the output (stderr without
 * file=). `syms` may be NULL; it must outlive the trace. */
int rv_trace_open(const char *spec, const struct rv_symbols *syms, struct rv_trace **out);
/* The hooks to give rv_vm_set_tracer(). */
const struct rv_vm_tracer *rv_trace_hooks(const struct rv_trace *t);
void rv_trace_close(struct rv_trace *t);

#endif
