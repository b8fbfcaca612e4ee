/* Boot images loaded from open files straight into guest RAM (machine/loader.h): through the
 * RAM's memfd (sendfile) and through its mapping (pread), bounds, files that shrink after they
 * were opened, and the Image header parsed from the first bytes of a file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "machine/loader.h"
#include "test.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define FILL 0xa5

static char dir[] = "/tmp/rvisor-test-loader-XXXXXX";
static char path[64];
static uint8_t content[3 * 4096 + 123]; /* not a whole number of pages */

static struct rv_bus ram_bus(int *fd)
{
    *fd = memfd_create("test-ram", MFD_CLOEXEC);
    CHECK(*fd >= 0 && ftruncate(*fd, RAM_SIZE) == 0);
    void *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
    CHECK(ram != MAP_FAILED);
    memset(ram, FILL, RAM_SIZE);
    return (struct rv_bus){.ram = ram, .ram_base = RAM_BASE, .ram_size = RAM_SIZE};
}

static bool filled(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != FILL)
            return false;
    return true;
}

static void write_content(size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, content, len), len);
    close(fd);
}

/* The whole file lands at the address, nothing around it changes; with ram_fd and without. */
static void test_load(bool use_fd)
{
    int ram_fd;
    struct rv_bus bus = ram_bus(&ram_fd);
    write_content(sizeof(content));
    struct rv_image_file f;
    CHECK_EQ(rv_image_open(path, 1 << 20, &f), 0);
    CHECK_EQ(f.len, sizeof(content));
    uint64_t at = 0x3000 + 8; /* not page aligned */
    CHECK_EQ(rv_load_file(&bus, use_fd ? ram_fd : -1, &f, RAM_BASE + at), 0);
    CHECK(memcmp(bus.ram + at, content, sizeof(content)) == 0);
    CHECK(filled(bus.ram, at));
    CHECK(filled(bus.ram + at + sizeof(content), RAM_SIZE - at - sizeof(content)));
    /* Loading it again (a reboot) gives the same bytes. */
    memset(bus.ram + at, 0, 100);
    CHECK_EQ(rv_load_file(&bus, use_fd ? ram_fd : -1, &f, RAM_BASE + at), 0);
    CHECK(memcmp(bus.ram + at, content, sizeof(content)) == 0);

    /* An image that would reach past the end of RAM, or starts below it: refused, RAM as it
     * was. */
    uint8_t *copy = malloc(RAM_SIZE);
    memcpy(copy, bus.ram, RAM_SIZE);
    CHECK_EQ(rv_load_file(&bus, use_fd ? ram_fd : -1, &f, RAM_BASE + RAM_SIZE - 4096), -EINVAL);
    CHECK_EQ(rv_load_file(&bus, use_fd ? ram_fd : -1, &f, RAM_BASE - 4096), -EINVAL);
    CHECK(memcmp(copy, bus.ram, RAM_SIZE) == 0);

    /* The file got shorter after it was opened: an error, not a partial image taken as whole
     * (the bytes past the new end would be stale RAM). */
    CHECK_EQ(truncate(path, 5000), 0);
    rv_error_clear();
    CHECK_EQ(rv_load_file(&bus, use_fd ? ram_fd : -1, &f, RAM_BASE + at), -EIO);
    CHECK(strstr(rv_error_get(), "shorter") != NULL);
    rv_image_close(&f);
    CHECK_EQ(f.fd, -1);
    free(copy);
    munmap(bus.ram, RAM_SIZE);
    close(ram_fd);
}

static void test_open_errors(void)
{
    struct rv_image_file f;
    char p[96];
    snprintf(p, sizeof(p), "%s/none", dir);
    CHECK_EQ(rv_image_open(p, 1 << 20, &f), -ENOENT);
    CHECK_EQ(f.fd, -1);
    CHECK_EQ(rv_image_open(dir, 1 << 20, &f), -EINVAL); /* a directory */
    write_content(0);
    CHECK_EQ(rv_image_open(path, 1 << 20, &f), -EINVAL); /* empty */
    write_content(sizeof(content));
    CHECK_EQ(rv_image_open(path, sizeof(content) - 1, &f), -EFBIG);
    CHECK_EQ(rv_image_open(path, sizeof(content), &f), 0);
    rv_image_close(&f);
}

/* An Image header read from the first 64 bytes of a longer file: its size is the file's. */
static void test_image_head(void)
{
    uint8_t head[64] = {0};
    uint64_t text_offset = 0x200000;
    memcpy(head + 8, &text_offset, 8);
    memcpy(head + 56, "RSC\x05", 4);
    struct rv_image_info info;
    CHECK_EQ(rv_parse_image(head, sizeof(head), 1 << 20, &info), 0);
    CHECK_EQ(info.text_offset, text_offset);
    CHECK_EQ(info.image_size, 1 << 20); /* image_size 0: the whole file */
    /* A PE header whose sections end past the file: truncated, judged by the file's length. */
    uint8_t pe[4096] = {0};
    memcpy(pe, head, sizeof(head));
    pe[0] = 'M';
    pe[1] = 'Z';
    pe[0x3c] = 0x40;
    memcpy(pe + 0x40, "PE\0\0", 4);
    pe[0x40 + 6] = 1; /* one section, no optional header */
    uint32_t raw_size = 0x9000, raw_off = 0x1000;
    memcpy(pe + 0x40 + 24 + 16, &raw_size, 4);
    memcpy(pe + 0x40 + 24 + 20, &raw_off, 4);
    CHECK_EQ(rv_parse_image(pe, sizeof(pe), 0xa000, &info), 0);
    CHECK_EQ(rv_parse_image(pe, sizeof(pe), 0x9fff, &info), -EINVAL);
    /* The section table beyond the bytes read: not checked, not read. */
    CHECK_EQ(rv_parse_image(pe, 0x40 + 24 + 8, 0x9fff, &info), 0);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/image", dir);
    uint64_t s = 0x1234567;
    for (size_t i = 0; i < sizeof(content); i++)
        content[i] = (uint8_t)rng_next(&s);
    test_load(true);
    test_load(false);
    test_open_errors();
    test_image_head();
    unlink(path);
    rmdir(dir);
    TEST_MAIN_END();
}
