/* libFuzzer target: the symbol-file reader of --symbols and traces (src/debug/symbols.c), on
 * ELF files (the seed corpus holds real ones) and System.map text. Every symbol found must
 * be found again by name and by address. */
#include <stdint.h>
#include <stdlib.h>

#include "debug/symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rv_symbols *s;
    if (rv_symbols_parse(data, size, &s) != 0)
        return 0;
    uint64_t off, addr;
    for (uint64_t a = 0x80000000; a < 0x80000100; a += 4) {
        const char *name = rv_symbols_lookup(s, a, &off);
        if (name && (rv_symbols_find(s, name, &addr) != 0 || off >= (1u << 20)))
            abort();
    }
    rv_symbols_free(s);
    return 0;
}
