/* What GDB sees of a hart: the target description (gdb manual, "Target Descriptions",
 * "RISC-V Features") and register access by the remote register numbers it assigns. */
#ifndef RV_DEBUG_GDB_TARGET_H
#define RV_DEBUG_GDB_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/hart.h"

/* Registers in a 'g' packet: x0..x31, pc, f0..f31 (the rest through 'p'). */
#define GDB_G_REGS 65

/* Writes the target description XML into buf (NUL-terminated); returns its length, or 0 if
 * `size` is too small. */
size_t gdb_target_xml(char *buf, size_t size);

/* Reads remote register `n` of a stopped hart: false if there is no such register. */
bool gdb_reg_read(struct rv_hart *h, unsigned n, uint64_t *v);
/* Writes it (CSRs with the hart's own WARL rules): false if no such register or the value is
 * refused. */
bool gdb_reg_write(struct rv_hart *h, unsigned n, uint64_t v);

#endif
