/* Boot image loaders. They parse untrusted files from memory buffers and write only inside
 * guest RAM (checked with rv_bus_in_ram); every malformed input gives an error, never a crash. */
#ifndef RV_MACHINE_LOADER_H
#define RV_MACHINE_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/bus.h"

struct rv_elf_info {
    uint64_t entry;      /* e_entry */
    uint64_t low, high;  /* lowest and one-past-highest guest-physical address loaded */
    uint64_t tohost;     /* address of the `tohost` symbol, 0 if absent (HTIF) */
    uint64_t fromhost;   /* address of the `fromhost` symbol, 0 if absent */
};

/* Loads the PT_LOAD segments of a RISC-V ELF64 executable at their physical addresses. */
int rv_load_elf(struct rv_bus *bus, const uint8_t *file, size_t len, struct rv_elf_info *info);

/* RISC-V Linux `Image` header (Documentation/arch/riscv/boot-image-header.rst). */
struct rv_image_info {
    uint64_t text_offset; /* load offset from the start of RAM */
    uint64_t image_size;  /* bytes the image occupies in memory, bss included */
};

/* Returns 0 for a valid Image header, -ENOENT if `file` is not an Image, or -EINVAL (with a
 * message) for an Image whose header is inconsistent. */
int rv_parse_image(const uint8_t *file, size_t len, struct rv_image_info *info);

/* Copies a raw image to guest-physical `addr`. */
int rv_load_raw(struct rv_bus *bus, const uint8_t *file, size_t len, uint64_t addr);

/* Reads a whole file into a malloc'd buffer (at most `max` bytes). */
int rv_read_file(const char *path, size_t max, uint8_t **data, size_t *len);

#endif
