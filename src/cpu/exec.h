/* Interpreter internals shared between exec.c and exec_fp.c. */
#ifndef RV_CPU_EXEC_H
#define RV_CPU_EXEC_H

#include "cpu/decode.h"
#include "cpu/hart.h"

/* Executes an F/D instruction (or reports RV_OP_ILLEGAL-class ops as illegal). Returns -1
 * (retired, pc advanced) or an exception cause. */
int rv_exec_fp(struct rv_hart *h, const struct rv_insn *in);

#endif
