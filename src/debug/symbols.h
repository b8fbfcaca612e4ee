/* Symbol tables for readable traces: an ELF file's .symtab (a bare-metal program, a vmlinux)
 * or a System.map / /proc/kallsyms text file ("ADDRESS TYPE NAME" lines). */
#ifndef RV_DEBUG_SYMBOLS_H
#define RV_DEBUG_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct rv_symbols;

/* Loads the symbols of `path`. Returns 0, or a negative errno with rv_error_get() set (not an
 * ELF or map file, no symbols, malformed). */
int rv_symbols_load(const char *path, struct rv_symbols **out);
/* Same from a buffer (the fuzz target uses this). */
int rv_symbols_parse(const uint8_t *data, size_t len, struct rv_symbols **out);
void rv_symbols_free(struct rv_symbols *s);

/* The symbol containing (or closest below, within 1 MiB) `addr`, or NULL; *offset = addr -
 * its address. */
const char *rv_symbols_lookup(const struct rv_symbols *s, uint64_t addr, uint64_t *offset);
/* The address of symbol `name`; -ENOENT if absent. */
int rv_symbols_find(const struct rv_symbols *s, const char *name, uint64_t *addr);

#endif
