/* libFuzzer target: the boot image parsers, rv_load_elf() and rv_parse_image(), on arbitrary
 * bytes.
 *
 * RAM is 256 KiB at 0x80000000 between guard pages. Before each input RAM is filled with a
 * pattern; after it: on success, [info.low, info.high) must be a non-empty range inside RAM, no
 * byte outside it may have changed (the loader writes only its segments), and the entry point
 * and the HTIF addresses (when present) must be inside RAM too, since nothing else can hold
 * them; on failure the loader must have left a message. Writing outside RAM hits a guard page
 * or ASan. Build with -DFUZZ_ELF_LAX_INFO to skip the entry/HTIF checks. rv_parse_image() must
 * return 0, -ENOENT or -EINVAL (with a message), and on success a 4 KiB-aligned text offset of
 * at most 1 GiB and a non-zero image size of at most 4 GiB. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/error.h"
#include "fuzz_ram.h"
#include "machine/loader.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (256u << 10)
#define FILL 0xa5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pattern[RAM_SIZE];

static bool untouched(const uint8_t *p, size_t len)
{
    return memcmp(p, pattern, len) == 0;
}

/* The whole file, or (head < size) only its first `head` bytes, as the boot code reads them. */
static void fuzz_image(const uint8_t *file, size_t head, size_t size)
{
    struct rv_image_info info;
    rv_error_clear();
    int rc = rv_parse_image(file, head, size, &info);
    FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL);
    if (rc == -EINVAL)
        FUZZ_CHECK(rv_error_get()[0] != '\0');
    if (rc == 0) {
        FUZZ_CHECK((info.text_offset & 0xfff) == 0 && info.text_offset <= (1ull << 30));
        FUZZ_CHECK(info.image_size != 0 && info.image_size <= (4ull << 30));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *ram;
    if (!ram) {
        ram = fuzz_ram_map(RAM_SIZE);
        memset(pattern, FILL, RAM_SIZE);
    }
    struct rv_bus bus = {.ram = ram, .ram_base = RAM_BASE, .ram_size = RAM_SIZE};
    memset(ram, FILL, RAM_SIZE);

    /* The loader reads only `size` bytes: give it a copy of exactly that length, so that ASan
     * sees any read past the end (libFuzzer's buffer may be larger). */
    uint8_t *file = malloc(size ? size : 1);
    FUZZ_CHECK(file != NULL);
    memcpy(file, data, size);
    struct rv_elf_info info;
    rv_error_clear();
    int rc = rv_load_elf(&bus, file, size, &info);
    bool message = rv_error_get()[0] != '\0';
    fuzz_image(file, size, size);
    free(file);
    /* The first half, as if the rest were only on disk: reads stay inside the half. */
    uint8_t *head = malloc(size / 2 ? size / 2 : 1);
    FUZZ_CHECK(head != NULL);
    memcpy(head, data, size / 2);
    fuzz_image(head, size / 2, size);
    free(head);

    if (rc != 0) {
        FUZZ_CHECK(rc < 0);
        FUZZ_CHECK(message);
        return 0;
    }
    FUZZ_CHECK(info.low < info.high);
    FUZZ_CHECK(info.low >= RAM_BASE && info.high <= RAM_BASE + RAM_SIZE);
    FUZZ_CHECK(untouched(ram, info.low - RAM_BASE));
    FUZZ_CHECK(untouched(ram + (info.high - RAM_BASE), RAM_BASE + RAM_SIZE - info.high));
#ifndef FUZZ_ELF_LAX_INFO
    FUZZ_CHECK(rv_bus_in_ram(&bus, info.entry, 2));
    FUZZ_CHECK(info.tohost == 0 || rv_bus_in_ram(&bus, info.tohost, 8));
    FUZZ_CHECK(info.fromhost == 0 || rv_bus_in_ram(&bus, info.fromhost, 8));
#endif
    return 0;
}
