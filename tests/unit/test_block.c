/* Block layer tests: request validation, the raw backend (page cache and O_DIRECT with
 * unaligned requests), discard and write-zeroes, ids, format probing, iovec helpers. */
#include <errno.h>
#include <sys/stat.h>

#include "core/iov.h"
#include "test.h"
#include "test_block_util.h"

#define RAW_SIZE (1u << 20)

static void test_iov_helpers(void)
{
    char a[10], b[5], c[7];
    struct iovec v[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
    struct iovec out[3];
    CHECK_EQ(rv_iov_size(v, 3), 22);
    /* bytes [8, 14): 2 from a, 4 from b */
    CHECK_EQ(rv_iov_slice(v, 3, 8, 6, out, 3), 2);
    CHECK(out[0].iov_base == a + 8 && out[0].iov_len == 2);
    CHECK(out[1].iov_base == b && out[1].iov_len == 4);
    /* bytes [14, 22): 1 from b, 7 from c */
    CHECK_EQ(rv_iov_slice(v, 3, 14, 8, out, 3), 2);
    CHECK(out[0].iov_base == b + 4 && out[0].iov_len == 1);
    CHECK(out[1].iov_base == c && out[1].iov_len == 7);
    CHECK_EQ(rv_iov_slice(v, 3, 14, 9, out, 3), (uint64_t)-1); /* past the end */
    CHECK_EQ(rv_iov_slice(v, 3, 0, 22, out, 2), (uint64_t)-1); /* too many pieces */
    const char src[] = "0123456789abcdefghijkl";
    rv_iov_from_buf(v, 3, 0, src, 22);
    CHECK(memcmp(a, "0123456789", 10) == 0 && memcmp(b, "abcde", 5) == 0 &&
          memcmp(c, "fghijkl", 7) == 0);
    char back[6];
    rv_iov_to_buf(v, 3, 8, back, 6);
    CHECK(memcmp(back, "89abcd", 6) == 0);
    rv_iov_memset(v, 3, 9, 0, 7);
    CHECK(a[8] == '8' && a[9] == 0 && b[4] == 0 && c[0] == 0 && c[1] == 'g');
    CHECK(rv_iov_is_zero(v, 3, 9, 7));
    CHECK(!rv_iov_is_zero(v, 3, 8, 7));
}

/* A raw file of RAW_SIZE random bytes; returns them. */
static uint8_t *make_raw(const char *path, uint64_t *rng, size_t size)
{
    uint8_t *data = malloc(size);
    fill_random(rng, data, size);
    int fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size);
    close(fd);
    return data;
}

static void test_raw_basic(enum rv_block_cache cache)
{
    char path[64];
    uint64_t rng = 0x1234 + cache;
    tmp_path(path, sizeof(path), "raw");
    uint8_t *model = make_raw(path, &rng, RAW_SIZE);
    struct rv_block_opts opts = {.format = RV_BLOCK_AUTO, .cache = cache};
    struct rv_block *b = NULL;
    CHECK_EQ(rv_block_open(path, &opts, &b), 0);
    if (!b)
        return;
    CHECK_EQ(rv_block_size(b), RAW_SIZE);
    CHECK(!rv_block_readonly(b));
    CHECK(rv_block_can_discard(b));
    /* Random writes and reads, 512-byte multiples at any sector, plus odd byte ranges; the
     * buffers are deliberately misaligned for O_DIRECT. */
    uint8_t *buf = malloc(70000), *rd = malloc(70000);
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        bool bytes = rng_below(&rng, 4) == 0;
        uint64_t len = bytes ? 1 + rng_below(&rng, 5000) : 512 * (1 + rng_below(&rng, 128));
        uint64_t off = bytes ? rng_below(&rng, RAW_SIZE - len)
                             : 512 * rng_below(&rng, (RAW_SIZE - len) / 512 + 1);
        uint8_t *p = buf + (i & 7);
        if (rng_below(&rng, 2)) {
            fill_random(&rng, p, len);
            if (blk_write_split(b, off, p, len, &rng) < 0)
                bad++;
            memcpy(model + off, p, len);
        } else {
            if (blk_read(b, off, rd + (i & 3), len) < 0 || memcmp(rd + (i & 3), model + off, len))
                bad++;
        }
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(rv_block_flush(b), 0);
    /* Bounds */
    CHECK_EQ(blk_read(b, RAW_SIZE - 512, buf, 1024), (uint64_t)-EINVAL);
    CHECK_EQ(blk_write(b, RAW_SIZE, buf, 1), (uint64_t)-EINVAL);
    CHECK_EQ(blk_read(b, UINT64_MAX - 10, buf, 512), (uint64_t)-EINVAL);
    CHECK(strstr(rv_error_get(), "beyond the end") != NULL);
    CHECK_EQ(rv_block_discard(b, RAW_SIZE - 512, 1024), (uint64_t)-EINVAL);
    CHECK_EQ(blk_read(b, RAW_SIZE, buf, 0), 0);
    struct iovec bogus = {buf, 10};
    CHECK_EQ(rv_block_readv(b, 0, &bogus, -1), (uint64_t)-EINVAL);
    /* Discard (contents undefined afterwards), write-zeroes with and without unmap. */
    CHECK_EQ(rv_block_discard(b, 4096, 8192), 0);
    memset(model + 4096, 0, 8192); /* holes read as zeros on a file */
    CHECK_EQ(rv_block_write_zeroes(b, 65536 + 512, 3 * 512, false), 0);
    memset(model + 65536 + 512, 0, 3 * 512);
    CHECK_EQ(rv_block_write_zeroes(b, 131072 + 1, 10000, true), 0);
    memset(model + 131072 + 1, 0, 10000);
    CHECK_EQ(rv_block_flush(b), 0);
    rv_block_close(b);
    /* Reopen read-only and compare everything. */
    opts.readonly = true;
    CHECK_EQ(rv_block_open(path, &opts, &b), 0);
    uint8_t *all = malloc(RAW_SIZE);
    CHECK_EQ(blk_read(b, 0, all, RAW_SIZE), 0);
    CHECK(memcmp(all, model, RAW_SIZE) == 0);
    CHECK(rv_block_readonly(b));
    CHECK(!rv_block_can_discard(b));
    CHECK_EQ(blk_write(b, 0, buf, 512), (uint64_t)-EROFS);
    CHECK_EQ(rv_block_discard(b, 0, 512), (uint64_t)-EROFS);
    CHECK_EQ(rv_block_write_zeroes(b, 0, 512, false), (uint64_t)-EROFS);
    CHECK_EQ(rv_block_flush(b), 0);
    rv_block_close(b);
    free(all);
    free(buf);
    free(rd);
    free(model);
    unlink(path);
}

/* O_DIRECT on a file whose length is not a multiple of 4 KiB: the bounce path must neither
 * lose data nor change the file's length. */
static void test_raw_direct_odd_size(void)
{
    char path[64];
    uint64_t rng = 99;
    tmp_path(path, sizeof(path), "odd");
    size_t size = 10000 + 512 * 3;
    uint8_t *model = make_raw(path, &rng, size);
    struct rv_block_opts opts = {.format = RV_BLOCK_RAW, .cache = RV_CACHE_NONE};
    struct rv_block *b = NULL;
    CHECK_EQ(rv_block_open(path, &opts, &b), 0);
    if (!b)
        return;
    uint8_t buf[3000];
    fill_random(&rng, buf, sizeof(buf));
    CHECK_EQ(blk_write(b, size - 1000, buf, 1000), 0);
    memcpy(model + size - 1000, buf, 1000);
    CHECK_EQ(blk_write(b, 7, buf, 3000), 0);
    memcpy(model + 7, buf, 3000);
    CHECK_EQ(rv_block_flush(b), 0);
    rv_block_close(b);
    CHECK_EQ(file_size(path), size);
    uint8_t *all = malloc(size);
    CHECK_EQ(file_pread(path, 0, all, size), 0);
    CHECK(memcmp(all, model, size) == 0);
    free(all);
    free(model);
    unlink(path);
}

static void test_ids_and_probe(void)
{
    char p1[64], p2[64];
    tmp_path(p1, sizeof(p1), "id1");
    tmp_path(p2, sizeof(p2), "id2");
    CHECK_EQ(truncate(p1, 4096), 0);
    CHECK_EQ(truncate(p2, 4096), 0);
    struct rv_block *a = NULL, *b = NULL, *c = NULL;
    struct rv_block_opts ro = {.readonly = true};
    CHECK_EQ(rv_block_open(p1, &ro, &a), 0);
    CHECK_EQ(rv_block_open(p1, &ro, &b), 0);
    CHECK_EQ(rv_block_open(p2, &ro, &c), 0);
    if (a && b && c) {
        char ia[20], ib[20], ic[20];
        rv_block_id(a, ia);
        rv_block_id(b, ib);
        rv_block_id(c, ic);
        CHECK(memcmp(ia, ib, 20) == 0);  /* stable */
        CHECK(memcmp(ia, ic, 20) != 0);  /* distinct */
        CHECK(memchr(ia, 0, 20) != NULL && strncmp(ia, "rv-", 3) == 0);
    }
    rv_block_close(a);
    rv_block_close(b);
    rv_block_close(c);
    /* A raw file that happens to start with the qcow2 magic probes as qcow2 (and is refused
     * as a broken one); with format=raw it opens as raw. */
    file_pwrite(p1, 0, "QFI\xfb", 4);
    CHECK(rv_block_open(p1, &ro, &a) < 0);
    struct rv_block_opts raw = {.format = RV_BLOCK_RAW, .readonly = true};
    CHECK_EQ(rv_block_open(p1, &raw, &a), 0);
    rv_block_close(a);
    /* Not files: a directory, a FIFO (must not hang), a missing file. */
    CHECK_EQ(rv_block_open("/tmp", &raw, &a), (uint64_t)-EINVAL);
    char fifo[80];
    snprintf(fifo, sizeof(fifo), "%s.fifo", p2);
    CHECK_EQ(mkfifo(fifo, 0600), 0);
    CHECK_EQ(rv_block_open(fifo, &raw, &a), (uint64_t)-EINVAL);
    CHECK(strstr(rv_error_get(), "not a regular file") != NULL);
    unlink(fifo);
    CHECK_EQ(rv_block_open("/tmp/rvblk-does-not-exist", &raw, &a), (uint64_t)-ENOENT);
    CHECK_EQ(rv_block_open("", &raw, &a), (uint64_t)-EINVAL);
    /* Writable open of a read-only file fails cleanly. */
    chmod(p2, 0400);
    struct rv_block_opts rw = {.format = RV_BLOCK_RAW};
    if (geteuid() != 0)
        CHECK_EQ(rv_block_open(p2, &rw, &a), (uint64_t)-EACCES);
    unlink(p1);
    unlink(p2);
}

static void test_raw_create_and_info(void)
{
    char path[64];
    tmp_path(path, sizeof(path), "create");
    struct rv_block_create_opts o = {.format = RV_BLOCK_RAW, .size = 5u << 20};
    CHECK_EQ(rv_block_create(path, &o), 0);
    CHECK_EQ(file_size(path), 5u << 20);
    struct rv_block_info info;
    CHECK_EQ(rv_block_info_get(path, RV_BLOCK_AUTO, &info), 0);
    CHECK_EQ(info.format, RV_BLOCK_RAW);
    CHECK_EQ(info.virtual_size, 5u << 20);
    CHECK(info.disk_size < (1u << 20)); /* sparse */
    struct rv_block_check_result r;
    CHECK_EQ(rv_block_check(path, NULL, &r), (uint64_t)-ENOTSUP);
    o.backing_file = "x";
    CHECK_EQ(rv_block_create(path, &o), (uint64_t)-EINVAL);
    CHECK(strcmp(rv_block_format_name(RV_BLOCK_RAW), "raw") == 0);
    CHECK(strcmp(rv_block_format_name(RV_BLOCK_QCOW2), "qcow2") == 0);
    /* exclusive: an existing file (raw or qcow2) is refused and left as it was. */
    struct rv_block_create_opts x = {.format = RV_BLOCK_RAW, .size = 1u << 20, .exclusive = true};
    CHECK_EQ(rv_block_create(path, &x), (uint64_t)-EEXIST);
    x.format = RV_BLOCK_QCOW2;
    CHECK_EQ(rv_block_create(path, &x), (uint64_t)-EEXIST);
    CHECK_EQ(file_size(path), 5u << 20);
    unlink(path);
    CHECK_EQ(rv_block_create(path, &x), 0);
    CHECK_EQ(rv_block_info_get(path, RV_BLOCK_AUTO, &info), 0);
    CHECK_EQ(info.format, RV_BLOCK_QCOW2);
    unlink(path);
}

int main(void)
{
    test_iov_helpers();
    test_raw_basic(RV_CACHE_WRITEBACK);
    test_raw_basic(RV_CACHE_NONE);
    test_raw_basic(RV_CACHE_UNSAFE);
    test_raw_direct_odd_size();
    test_ids_and_probe();
    test_raw_create_and_info();
    TEST_MAIN_END();
}
