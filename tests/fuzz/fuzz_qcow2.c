/* libFuzzer target: the qcow2 backend on arbitrary image files.
 *
 * The first input byte chooses the mode (read-only or not, cache mode, repair), the rest is
 * the image file, put in a memfd and opened through /proc/self/fd. On an image that opens,
 * a fixed series of reads, writes, discards, write-zeroes and flushes runs, the image is
 * closed and then checked (and repaired when the mode says so). Invariants: nothing crashes
 * or leaks (ASan/UBSan), every failure comes with a message, requests past the end of the
 * disk are refused with -EINVAL, and a read of the same range twice gives the same bytes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "block/block.h"
#include "core/error.h"
#include "fuzz_ram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUF (256u << 10)

static uint8_t buf1[BUF], buf2[BUF];

static void expect_message(int rc)
{
    if (rc < 0)
        FUZZ_CHECK(rv_error_get()[0] != '\0');
}

/* Offsets spread over the disk: start, end, middle, and some derived from the input. */
static uint64_t pick_offset(uint64_t size, uint64_t len, uint64_t salt)
{
    if (size <= len)
        return 0;
    uint64_t room = (size - len) / 512 + 1;
    return 512 * (salt % room);
}

static void exercise(struct rv_block *b, const uint8_t *data, size_t size)
{
    uint64_t disk = rv_block_size(b);
    uint64_t salt = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < size && i < 64; i++)
        salt = (salt ^ data[i]) * 0x100000001b3ull;
    for (int op = 0; op < 12; op++) {
        salt = salt * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t len = 512 * (1 + (salt >> 40) % (BUF / 512));
        if (len > disk)
            len = disk & ~511ull;
        uint64_t off = op == 0 ? 0 : op == 1 ? pick_offset(disk, len, UINT64_MAX)
                                              : pick_offset(disk, len, salt >> 8);
        struct iovec v1 = {buf1, len}, v2 = {buf2, len};
        int rc;
        rv_error_clear();
        switch (op % 4) {
        case 0: /* read twice: the same bytes */
            rc = rv_block_readv(b, off, &v1, 1);
            expect_message(rc);
            if (rc == 0 && rv_block_readv(b, off, &v2, 1) == 0)
                FUZZ_CHECK(memcmp(buf1, buf2, len) == 0);
            break;
        case 1:
            memset(buf1, (int)(salt & 0xff), len);
            rc = rv_block_writev(b, off, &v1, 1);
            expect_message(rc);
            if (rv_block_readonly(b))
                FUZZ_CHECK(rc == -EROFS);
            break;
        case 2:
            rc = (salt >> 3) & 1 ? rv_block_discard(b, off, len)
                                 : rv_block_write_zeroes(b, off, len, (salt >> 4) & 1);
            expect_message(rc);
            break;
        default:
            rc = rv_block_flush(b);
            expect_message(rc);
            break;
        }
    }
    /* Past the end: always refused. */
    struct iovec v = {buf1, 512};
    FUZZ_CHECK(rv_block_readv(b, disk, &v, 1) == -EINVAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    int fd = memfd_create("fuzz_qcow2", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    struct rv_block_opts opts = {
        .format = RV_BLOCK_QCOW2,
        .readonly = mode & 1,
        .cache = (mode & 2) ? RV_CACHE_UNSAFE : RV_CACHE_WRITEBACK,
    };
    struct rv_block *b = NULL;
    rv_error_clear();
    int rc = rv_block_open(path, &opts, &b);
    expect_message(rc);
    if (rc == 0) {
        exercise(b, data, size);
        rv_block_close(b);
    }
    struct rv_block_check_opts copts = {.repair_leaks = (mode & 4) != 0,
                                        .repair_all = (mode & 8) != 0};
    struct rv_block_check_result res;
    rv_error_clear();
    rc = rv_block_check(path, &copts, &res);
    expect_message(rc);
    close(fd);
    return 0;
}
