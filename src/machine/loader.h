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
 * message) for an Image whose header is inconsistent. `file` holds the first `len` bytes of a
 * file of `file_len` bytes (a PE section table beyond `len` is not checked). */
int rv_parse_image(const uint8_t *file, size_t len, size_t file_len, struct rv_image_info *info);

/* Copies a raw image to guest-physical `addr`. */
int rv_load_raw(struct rv_bus *bus, const uint8_t *file, size_t len, uint64_t addr);

/* Reads a whole file into a malloc'd buffer (at most `max` bytes). */
int rv_read_file(const char *path, size_t max, uint8_t **data, size_t *len);

/* A boot image kept open, so that a reboot loads it again without a copy in host memory. */
struct rv_image_file {
    int fd;     /* -1: none */
    size_t len; /* its size when opened */
};

/* Opens a regular, non-empty file of at most `max` bytes. */
int rv_image_open(const char *path, size_t max, struct rv_image_file *f);
void rv_image_close(struct rv_image_file *f);

/* Reads `len` bytes at `off`; a file that got shorter since it was opened is an error. */
int rv_image_pread(const struct rv_image_file *f, void *buf, size_t len, uint64_t off);

/* Copies the whole file to guest-physical `addr`. With `ram_fd` (the memfd behind guest RAM,
 * or -1) the kernel copies it from the page cache into RAM's pages, without faulting them in
 * through the mapping first. */
int rv_load_file(struct rv_bus *bus, int ram_fd, const struct rv_image_file *f, uint64_t addr);

#endif
