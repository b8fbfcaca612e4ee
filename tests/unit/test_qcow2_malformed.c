/* qcow2 images with broken or unsupported metadata must be refused with a clear error, never
 * crash or corrupt anything: truncated files, bad header fields, tables outside the file or
 * overlapping, unknown features, corrupt/dirty bits, bad L1/L2 entries, backing loops, and
 * random byte damage (a fuzz-like sweep, deterministic). */
#include <errno.h>

#include "test.h"
#include "test_block_util.h"

#define CS 4096u

static char path[64];

/* A fresh valid image (4 KiB clusters, 1 MiB) with some data at the start. Layout:
 * header 0, refcount table 0x1000, refcount block 0x2000, L1 0x3000, then data. Made once,
 * then copied (creating syncs the file, which is slow on a busy disk). */
static uint8_t *pristine;
static size_t pristine_len;

static void fresh(void)
{
    if (!pristine) {
        CHECK_EQ(create_qcow2(path, 1u << 20, CS, NULL, RV_BLOCK_AUTO), 0);
        struct rv_block_opts o = {.format = RV_BLOCK_QCOW2, .cache = RV_CACHE_UNSAFE};
        struct rv_block *b = NULL;
        if (rv_block_open(path, &o, &b) == 0) {
            uint8_t buf[3 * CS];
            memset(buf, 0x5a, sizeof(buf));
            blk_write(b, 0, buf, sizeof(buf));
            rv_block_close(b);
        }
        pristine_len = file_size(path);
        pristine = malloc(pristine_len);
        CHECK_EQ(file_pread(path, 0, pristine, pristine_len), 0);
    }
    CHECK_EQ(truncate(path, 0), 0);
    CHECK_EQ(file_pwrite(path, 0, pristine, pristine_len), 0);
}

/* Opens the damaged image; returns the error (0 if it opened) and checks that a failure came
 * with a message containing `needle` (if given). */
static int try_open(bool readonly, const char *needle)
{
    struct rv_block_opts o = {.format = RV_BLOCK_QCOW2, .readonly = readonly};
    struct rv_block *b = NULL;
    rv_error_clear();
    int rc = rv_block_open(path, &o, &b);
    if (rc == 0) {
        rv_block_close(b);
    } else {
        CHECK(rv_error_get()[0] != '\0');
        if (needle && !strstr(rv_error_get(), needle)) {
            fprintf(stderr, "message \"%s\" lacks \"%s\"\n", rv_error_get(), needle);
            CHECK(0);
        }
    }
    return rc;
}

static void test_header_fields(void)
{
    fresh();
    CHECK_EQ(try_open(false, NULL), 0);
    /* truncated */
    CHECK_EQ(truncate(path, 50), 0);
    CHECK_EQ(try_open(true, "too short"), (uint64_t)-EINVAL);
    fresh();
    CHECK_EQ(truncate(path, 100), 0);
    CHECK(try_open(true, NULL) < 0);
    fresh();
    CHECK_EQ(truncate(path, CS + 100), 0); /* tables past the end */
    CHECK(try_open(true, NULL) < 0);
#define FIELD32(off, val, err, msg) \
    do { fresh(); file_put_be32(path, off, val); CHECK_EQ(try_open(true, msg), (uint64_t)(err)); } while (0)
#define FIELD64(off, val, err, msg) \
    do { fresh(); file_put_be64(path, off, val); CHECK_EQ(try_open(true, msg), (uint64_t)(err)); } while (0)
    FIELD32(0, 0x12345678, -EINVAL, "bad magic");
    FIELD32(4, 1, -ENOTSUP, "version 1");
    FIELD32(4, 4, -ENOTSUP, "version 4");
    FIELD32(20, 8, -EINVAL, "cluster size");
    FIELD32(20, 22, -EINVAL, "cluster size");
    FIELD32(20, 0xffffffff, -EINVAL, "cluster size");
    FIELD64(24, 1ull << 62, -EFBIG, "virtual size");
    FIELD64(24, 1ull << 40, -EINVAL, "L1 table too small");
    FIELD32(32, 1, -ENOTSUP, "encrypted");
    FIELD32(32, 2, -ENOTSUP, "encrypted");
    FIELD32(36, 0xffffffff, -EFBIG, "L1 table too large");
    FIELD32(36, 0, -EINVAL, "L1 table too small");
    FIELD64(40, 0x3001, -EINVAL, "L1 table offset");
    FIELD64(40, 0, -EINVAL, "L1 table offset");
    FIELD64(40, 1ull << 50, -EINVAL, "L1 table offset");
    FIELD64(40, 0x1000, -EINVAL, "overlap");             /* on the refcount table */
    FIELD64(48, 0x1004, -EINVAL, "refcount table offset");
    FIELD64(48, 0, -EINVAL, "refcount table offset");
    FIELD64(48, 0xfffffffffffff000ull, -EINVAL, "refcount table offset");
    FIELD32(56, 0, -EINVAL, "refcount table size");
    FIELD32(56, 0x7fffffff, -EINVAL, "refcount table size");
    FIELD32(56, 3000, -EINVAL, "refcount table");     /* past the end of the file */
    FIELD32(60, 1000000, -EINVAL, "snapshot");
    FIELD32(96, 7, -EINVAL, "refcount order");
    FIELD32(96, 0xffffffff, -EINVAL, "refcount order");
    FIELD32(100, 100, -EINVAL, "header length");
    FIELD32(100, 105, -EINVAL, "header length");
    FIELD32(100, 8192, -EINVAL, "header length");
    /* features */
    FIELD64(72, 1ull << 10, -ENOTSUP, "bit 10");
    FIELD64(72, 1ull << 63, -ENOTSUP, "bit 63");
    FIELD64(72, 1ull << 2, -ENOTSUP, "external data");
    FIELD64(72, 1ull << 4, -ENOTSUP, "subclusters");
    FIELD64(72, 1ull << 3, -EINVAL, "compression type");
    fresh();
    file_put_be64(path, 72, 1ull << 3);
    uint8_t zstd = 1;
    file_pwrite(path, 104, &zstd, 1);
    CHECK_EQ(try_open(true, "zstd"), (uint64_t)-ENOTSUP);
    /* unknown compatible and autoclear bits are fine; autoclear is cleared when writing */
    fresh();
    file_put_be64(path, 80, 0xff00);
    file_put_be64(path, 88, 0xff00);
    CHECK_EQ(try_open(true, NULL), 0);
    CHECK_EQ(file_be64(path, 88), 0xff00);
    CHECK_EQ(try_open(false, NULL), 0);
    CHECK_EQ(file_be64(path, 88), 0);
    CHECK_EQ(file_be64(path, 80), 0xff00);
    /* the feature name table names unknown bits */
    fresh();
    uint8_t ext[8 + 48] = {0x68, 0x03, 0xf8, 0x57, 0, 0, 0, 48, 0, 9};
    memcpy(ext + 10, "frobnication", 12);
    file_pwrite(path, 112, ext, sizeof(ext)); /* replaces rvisor's own table */
    file_put_be64(path, 112 + sizeof(ext), 0);  /* end of extensions */
    file_put_be64(path, 72, 1ull << 9);
    CHECK_EQ(try_open(true, "frobnication (bit 9)"), (uint64_t)-ENOTSUP);
    /* header extensions */
    fresh();
    file_put_be32(path, 112 + 4, 0x7fffffff); /* length past the cluster */
    CHECK_EQ(try_open(true, "header extension"), (uint64_t)-EINVAL);
    fresh();
    uint8_t unknown_ext[16] = {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    file_pwrite(path, 112, unknown_ext, sizeof(unknown_ext));
    file_put_be32(path, 128, 0); /* end */
    CHECK_EQ(try_open(false, NULL), 0); /* unknown extensions are skipped */
    /* backing file name */
    FIELD64(8, CS - 2, -EINVAL, "backing file name"); /* with length 0 */
    fresh();
    file_put_be64(path, 8, CS - 2);
    file_put_be32(path, 16, 10);
    CHECK_EQ(try_open(true, "backing file name"), (uint64_t)-EINVAL);
    fresh();
    file_put_be64(path, 8, 512);
    file_put_be32(path, 16, 2000);
    CHECK_EQ(try_open(true, "backing file name"), (uint64_t)-EINVAL);
    fresh();
    file_put_be64(path, 8, 512);
    file_put_be32(path, 16, 5);
    file_pwrite(path, 512, "ab\0cd", 5);
    CHECK_EQ(try_open(true, "backing file name"), (uint64_t)-EINVAL);
    /* version 2: readable, not writable */
    fresh();
    file_put_be32(path, 4, 2);
    CHECK_EQ(try_open(true, NULL), 0);
    CHECK_EQ(try_open(false, "version 2"), (uint64_t)-EROFS);
    /* internal snapshots: readable, not writable */
    fresh();
    file_put_be32(path, 60, 1);
    file_put_be64(path, 64, 0x3000);
    CHECK_EQ(try_open(true, NULL), 0);
    CHECK_EQ(try_open(false, "snapshots"), (uint64_t)-EROFS);
#undef FIELD32
#undef FIELD64
}

static void test_flags(void)
{
    /* corrupt: read-only only; check and `-r all` clear it when nothing is wrong */
    fresh();
    file_put_be64(path, 72, 2);
    CHECK_EQ(try_open(false, "corrupt"), (uint64_t)-EROFS);
    CHECK_EQ(try_open(true, NULL), 0);
    struct rv_block_check_opts all = {.repair_all = true, .repair_leaks = true};
    struct rv_block_check_result r;
    CHECK_EQ(rv_block_check(path, &all, &r), 0);
    CHECK_EQ(r.corruptions, 0);
    CHECK_EQ(file_be64(path, 72), 0);
    CHECK_EQ(try_open(false, NULL), 0);
    /* dirty with a refcount missing (what lazy refcounts leave): repaired on a writable open */
    fresh();
    uint64_t l1e = file_be64(path, 0x3000) & 0x00fffffffffffe00ull;
    uint64_t data = file_be64(path, l1e) & 0x00fffffffffffe00ull;
    file_put_be64(path, 72, 1);
    uint16_t zero = 0;
    file_pwrite(path, 0x2000 + (data / CS) * 2, &zero, 2);
    long found = check_image(path);
    CHECK(found >= 1000000 && found % 1000000 == 0); /* refcount too low (and bit 63) */
    CHECK_EQ(try_open(true, NULL), 0);
    CHECK_EQ(file_be64(path, 72), 1); /* read-only: left alone */
    CHECK_EQ(try_open(false, NULL), 0);
    CHECK_EQ(file_be64(path, 72), 0);
    CHECK_EQ(check_image(path), 0);
}

/* Bad L1/L2 entries: reads fail with -EIO, a writable image gets marked corrupt. */
static void test_bad_entries(void)
{
    uint8_t buf[CS];
    struct rv_block *b = NULL;
    struct rv_block_opts rw = {.format = RV_BLOCK_QCOW2};
    struct rv_block_opts ro = {.format = RV_BLOCK_QCOW2, .readonly = true};
    uint64_t l1e;

    /* L1 entry past the end of the file */
    fresh();
    l1e = file_be64(path, 0x3000);
    file_put_be64(path, 0x3000, (1ull << 63) | (1ull << 40));
    CHECK_EQ(rv_block_open(path, &ro, &b), 0);
    if (b) {
        CHECK_EQ(blk_read(b, 0, buf, 512), (uint64_t)-EIO);
        CHECK(strstr(rv_error_get(), "past the end") != NULL);
        CHECK_EQ(blk_read(b, 600 * 1024, buf, 512), (uint64_t)-EIO);
        rv_block_close(b);
    }
    CHECK_EQ(file_be64(path, 72), 0); /* read-only: header untouched */
    CHECK_EQ(rv_block_open(path, &rw, &b), 0);
    if (b) {
        CHECK_EQ(blk_write(b, 0, buf, 512), (uint64_t)-EIO);
        CHECK_EQ(blk_write(b, 8192, buf, 512), (uint64_t)-EIO); /* stays refused */
        rv_block_close(b);
    }
    CHECK_EQ(file_be64(path, 72), 2); /* marked corrupt */
    CHECK(check_image(path) >= 1000000);
    /* L1 entry not aligned; L1 entry on the header */
    fresh();
    file_put_be64(path, 0x3000, l1e + 512);
    CHECK_EQ(rv_block_open(path, &ro, &b), 0);
    if (b) {
        CHECK_EQ(blk_read(b, 0, buf, 512), (uint64_t)-EIO);
        rv_block_close(b);
    }
    fresh();
    file_put_be64(path, 0x3000, 0x1000 | (1ull << 63)); /* the refcount table as an L2 table */
    CHECK_EQ(rv_block_open(path, &rw, &b), 0);
    if (b) {
        CHECK_EQ(blk_write(b, 0, buf, 512), (uint64_t)-EIO);
        rv_block_close(b);
    }
    CHECK_EQ(file_be64(path, 0x1000), 0x2000); /* not overwritten */
    /* L2 entries: unaligned, host offset 0 with the copied flag, pointing at the L1 table */
    fresh();
    uint64_t l2 = l1e & 0x00fffffffffffe00ull;
    uint64_t e0 = file_be64(path, l2);
    file_put_be64(path, l2, e0 + 512);
    file_put_be64(path, l2 + 8, 1ull << 63);
    file_put_be64(path, l2 + 16, (1ull << 63) | 0x3000);
    CHECK_EQ(rv_block_open(path, &rw, &b), 0);
    if (b) {
        CHECK_EQ(blk_read(b, 0, buf, 512), (uint64_t)-EIO);
        CHECK_EQ(blk_read(b, CS, buf, 512), (uint64_t)-EIO);
        rv_block_close(b);
    }
    fresh();
    file_put_be64(path, l2 + 16, (1ull << 63) | 0x3000);
    CHECK_EQ(rv_block_open(path, &rw, &b), 0);
    if (b) {
        memset(buf, 0xee, sizeof(buf));
        CHECK_EQ(blk_write(b, 2 * CS, buf, 512), (uint64_t)-EIO); /* would hit the L1 table */
        CHECK(strstr(rv_error_get(), "overlaps metadata") != NULL);
        rv_block_close(b);
    }
    CHECK_EQ(file_be64(path, 0x3000), l1e);
    /* refcount table entry not aligned: refused for writing */
    fresh();
    file_put_be64(path, 0x1000, 0x2001);
    CHECK_EQ(try_open(false, "refcount block"), (uint64_t)-EINVAL);
    CHECK_EQ(try_open(true, NULL), 0);
}

static void test_backing_problems(void)
{
    char a[64], b2[64];
    tmp_path(a, sizeof(a), "loopa");
    tmp_path(b2, sizeof(b2), "loopb");
    /* a -> b -> a */
    CHECK_EQ(create_qcow2(b2, 1u << 20, CS, NULL, RV_BLOCK_AUTO), 0);
    CHECK_EQ(create_qcow2(a, 1u << 20, CS, b2, RV_BLOCK_QCOW2), 0);
    CHECK_EQ(create_qcow2(path, 1u << 20, CS, a, RV_BLOCK_QCOW2), 0); /* scratch copy */
    /* rewrite b with a backing name pointing at a: copy the header layout from `path` */
    uint8_t hdr[CS];
    CHECK_EQ(file_pread(path, 0, hdr, CS), 0);
    CHECK_EQ(file_pwrite(b2, 0, hdr, CS), 0);
    struct rv_block_opts o = {.format = RV_BLOCK_AUTO};
    struct rv_block *b = NULL;
    CHECK_EQ(rv_block_open(a, &o, &b), (uint64_t)-ELOOP);
    CHECK(strstr(rv_error_get(), "loop") != NULL);
    /* an image that is its own backing file */
    CHECK_EQ(create_qcow2(a, 1u << 20, CS, strrchr(a, '/') + 1, RV_BLOCK_QCOW2), 0);
    CHECK_EQ(rv_block_open(a, &o, &b), (uint64_t)-ELOOP);
    unlink(a);
    /* a missing backing file */
    CHECK_EQ(create_qcow2(a, 1u << 20, CS, NULL, RV_BLOCK_AUTO), 0);
    CHECK_EQ(create_qcow2(path, 1u << 20, CS, a, RV_BLOCK_QCOW2), 0);
    unlink(a);
    CHECK_EQ(rv_block_open(path, &o, &b), (uint64_t)-ENOENT);
    CHECK(strstr(rv_error_get(), "backing file") != NULL);
    struct rv_block_info info;
    CHECK_EQ(rv_block_info_get(path, RV_BLOCK_AUTO, &info), 0); /* info does not open it */
    /* a chain longer than the limit */
    char names[20][64];
    for (int i = 0; i < 20; i++) {
        tmp_path(names[i], sizeof(names[i]), "chain");
        CHECK_EQ(create_qcow2(names[i], 1u << 20, CS, i ? names[i - 1] : NULL, RV_BLOCK_QCOW2), 0);
    }
    CHECK_EQ(rv_block_open(names[15], &o, &b), 0);
    rv_block_close(b);
    CHECK_EQ(rv_block_open(names[19], &o, &b), (uint64_t)-ELOOP);
    CHECK(strstr(rv_error_get(), "longer than") != NULL);
    for (int i = 0; i < 20; i++)
        unlink(names[i]);
    unlink(b2);
}

/* Random damage to the metadata clusters: open, read, write, flush, close, check. Nothing
 * may crash; every failure must leave a message. */
static void test_random_damage(void)
{
    uint64_t rng = 4242;
    uint8_t buf[3 * CS];
    int opened = 0;
    for (int iter = 0; iter < 300; iter++) {
        fresh();
        int flips = 1 + (int)rng_below(&rng, 8);
        for (int i = 0; i < flips; i++) {
            /* mostly the first four clusters (header, refcount table and block, L1), some
             * in the L2 table and data */
            uint64_t off = rng_below(&rng, 4) ? rng_below(&rng, 4 * CS)
                                              : rng_below(&rng, file_size(path));
            uint8_t v = (uint8_t)rng_next(&rng);
            if (rng_below(&rng, 3) == 0)
                v = (uint8_t)(1u << rng_below(&rng, 8));
            file_pwrite(path, off, &v, 1);
        }
        struct rv_block_opts o = {.format = RV_BLOCK_QCOW2, .readonly = rng_below(&rng, 4) == 0,
                                  .cache = RV_CACHE_UNSAFE};
        struct rv_block *b = NULL;
        rv_error_clear();
        int rc = rv_block_open(path, &o, &b);
        if (rc < 0) {
            CHECK(rv_error_get()[0] != '\0');
            continue;
        }
        opened++;
        uint64_t size = rv_block_size(b);
        for (int k = 0; k < 6 && size >= sizeof(buf); k++) {
            uint64_t off = 512 * rng_below(&rng, (size - sizeof(buf)) / 512 + 1);
            uint64_t len = 512 * (1 + rng_below(&rng, sizeof(buf) / 512));
            rv_error_clear();
            int r2 = rng_below(&rng, 2) ? blk_read(b, off, buf, len)
                                        : blk_write(b, off, buf, len);
            if (r2 < 0)
                CHECK(rv_error_get()[0] != '\0');
            if (rng_below(&rng, 4) == 0)
                rv_block_discard(b, off, len);
        }
        rv_block_flush(b);
        rv_block_close(b);
        struct rv_block_check_result r;
        rv_block_check(path, NULL, &r);
    }
    CHECK(opened > 30); /* the sweep reached the I/O paths */
}

int main(void)
{
    tmp_path(path, sizeof(path), "bad");
    test_header_fields();
    test_flags();
    test_bad_entries();
    test_backing_problems();
    test_random_damage();
    unlink(path);
    free(pristine);
    TEST_MAIN_END();
}
