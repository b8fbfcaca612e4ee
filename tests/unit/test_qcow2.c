/* qcow2 backend tests against an in-memory model: random writes (512-byte multiples at any
 * sector, and odd byte ranges), reads, discard, write-zeroes across cluster boundaries, for
 * several cluster sizes and cache modes; reopen; backing chains; read-only; our own check
 * must find every image clean (no leaks, no corruption) after each session. */
#include <errno.h>
#include <zlib.h>

#include "test.h"
#include "test_block_util.h"

#define VSIZE (6u << 20)

struct model {
    uint8_t *data;        /* expected contents */
    uint8_t *top;         /* per cluster: the top image has its own data (not the backing) */
    uint32_t cs;
    bool backing;
};

static int random_session(struct rv_block *b, struct model *m, uint64_t *rng, int ops)
{
    uint64_t size = rv_block_size(b);
    uint8_t *buf = malloc(300000), *rd = malloc(300000);
    int bad = 0;
    for (int i = 0; i < ops; i++) {
        int kind = (int)rng_below(rng, 10);
        bool bytes = rng_below(rng, 5) == 0;
        uint64_t maxlen = rng_below(rng, 8) == 0 ? 260000 : 3 * m->cs + 1024;
        if (maxlen > 260000)
            maxlen = 260000;
        if (maxlen > size / 2)
            maxlen = size / 2;
        uint64_t len = bytes ? 1 + rng_below(rng, maxlen) : 512 * (1 + rng_below(rng, maxlen / 512));
        uint64_t off = bytes ? rng_below(rng, size - len + 1)
                             : 512 * rng_below(rng, (size - len) / 512 + 1);
        uint64_t c0 = off / m->cs, c1 = (off + len - 1) / m->cs;
        if (kind < 4) { /* write */
            fill_random(rng, buf, len);
            if (blk_write_split(b, off, buf, len, rng) < 0) {
                fprintf(stderr, "write: %s\n", rv_error_get());
                bad++;
            }
            memcpy(m->data + off, buf, len);
            memset(m->top + c0, 1, c1 - c0 + 1);
        } else if (kind < 7) { /* read */
            if (blk_read(b, off, rd, len) < 0) {
                fprintf(stderr, "read: %s\n", rv_error_get());
                bad++;
            } else if (memcmp(rd, m->data + off, len) != 0) {
                fprintf(stderr, "mismatch at [%" PRIu64 ", +%" PRIu64 ")\n", off, len);
                bad++;
            }
        } else if (kind == 7) { /* discard: whole clusters only; they read as zeros unless
                                   they were the backing file's */
            if (rv_block_discard(b, off, len) < 0) {
                fprintf(stderr, "discard: %s\n", rv_error_get());
                bad++;
            }
            for (uint64_t c = c0; c <= c1; c++) {
                uint64_t s = c * m->cs, e = s + m->cs < size ? s + m->cs : size;
                if (s >= off && e <= off + len && m->top[c])
                    memset(m->data + s, 0, e - s);
            }
        } else if (kind == 8) { /* write zeroes */
            if (rv_block_write_zeroes(b, off, len, rng_below(rng, 2)) < 0) {
                fprintf(stderr, "write_zeroes: %s\n", rv_error_get());
                bad++;
            }
            memset(m->data + off, 0, len);
            memset(m->top + c0, 1, c1 - c0 + 1);
        } else if (rv_block_flush(b) < 0) {
            bad++;
        }
    }
    free(buf);
    free(rd);
    return bad;
}

static int compare_all(struct rv_block *b, const struct model *m)
{
    uint64_t size = rv_block_size(b);
    uint8_t *all = malloc(size);
    int rc = blk_read(b, 0, all, size) < 0 ? -1 : memcmp(all, m->data, size) != 0;
    if (rc)
        for (uint64_t i = 0; i < size; i++)
            if (all[i] != m->data[i]) {
                fprintf(stderr, "first difference at byte %" PRIu64 "\n", i);
                break;
            }
    free(all);
    return rc;
}

static void test_random_size(uint64_t vsize, uint32_t cs, enum rv_block_cache cache,
                             uint64_t seed, int ops)
{
    char path[64];
    tmp_path(path, sizeof(path), "q");
    CHECK_EQ(create_qcow2(path, vsize, cs, NULL, RV_BLOCK_AUTO), 0);
    CHECK_EQ(check_image(path), 0);
    struct model m = {.data = calloc(1, vsize), .top = calloc(1, vsize / cs + 1), .cs = cs};
    uint64_t rng = seed;
    struct rv_block_opts opts = {.format = RV_BLOCK_QCOW2, .cache = cache};
    for (int session = 0; session < 3; session++) {
        struct rv_block *b = NULL;
        CHECK_EQ(rv_block_open(path, &opts, &b), 0);
        if (!b)
            break;
        CHECK_EQ(rv_block_size(b), vsize);
        CHECK(rv_block_can_discard(b));
        CHECK_EQ(random_session(b, &m, &rng, ops), 0);
        CHECK_EQ(compare_all(b, &m), 0);
        rv_block_close(b);
        CHECK_EQ(check_image(path), 0);
    }
    /* Read-only: same contents, writes refused. */
    struct rv_block_opts ro = {.format = RV_BLOCK_AUTO, .readonly = true};
    struct rv_block *b = NULL;
    CHECK_EQ(rv_block_open(path, &ro, &b), 0);
    if (b) {
        CHECK_EQ(compare_all(b, &m), 0);
        CHECK_EQ(blk_write(b, 0, m.data, 512), (uint64_t)-EROFS);
        CHECK_EQ(rv_block_discard(b, 0, cs), (uint64_t)-EROFS);
        rv_block_close(b);
    }
    free(m.data);
    free(m.top);
    unlink(path);
}

static void test_random(uint32_t cs, enum rv_block_cache cache, uint64_t seed, int ops)
{
    test_random_size(VSIZE, cs, cache, seed, ops);
}

/* Zero clusters, discard and write-zeroes at cluster granularity, checked exactly. */
static void test_zero_and_discard(void)
{
    char path[64];
    const uint32_t cs = 4096;
    tmp_path(path, sizeof(path), "zero");
    CHECK_EQ(create_qcow2(path, 1u << 20, cs, NULL, RV_BLOCK_AUTO), 0);
    struct rv_block_opts opts = {.format = RV_BLOCK_QCOW2};
    struct rv_block *b = NULL;
    CHECK_EQ(rv_block_open(path, &opts, &b), 0);
    if (!b)
        return;
    uint8_t *pat = malloc(64 * 1024), *rd = malloc(64 * 1024);
    memset(pat, 0xab, 64 * 1024);
    CHECK_EQ(blk_write(b, 0, pat, 64 * 1024), 0);
    CHECK_EQ(rv_block_flush(b), 0);
    uint64_t before = file_size(path);
    /* write-zeroes without unmap keeps clusters allocated (zero flag), partial clusters are
     * written with zeros */
    CHECK_EQ(rv_block_write_zeroes(b, 1000, 3 * cs, false), 0);
    CHECK_EQ(blk_read(b, 0, rd, 64 * 1024), 0);
    bool ok = true;
    for (uint32_t i = 0; i < 64 * 1024; i++)
        ok &= rd[i] == ((i >= 1000 && i < 1000 + 3 * cs) ? 0 : 0xab);
    CHECK(ok);
    /* discard of whole clusters frees them (file does not grow on rewrite) */
    CHECK_EQ(rv_block_discard(b, 8 * cs, 8 * cs), 0);
    CHECK_EQ(blk_read(b, 8 * cs, rd, 8 * cs), 0);
    ok = true;
    for (uint32_t i = 0; i < 8 * cs; i++)
        ok &= rd[i] == 0;
    CHECK(ok);
    CHECK_EQ(rv_block_flush(b), 0);
    CHECK_EQ(blk_write(b, 8 * cs, pat, 8 * cs), 0); /* reuses the freed clusters */
    CHECK_EQ(rv_block_flush(b), 0);
    CHECK(file_size(path) <= before + 2 * cs);
    /* a partial discard is a no-op */
    CHECK_EQ(rv_block_discard(b, 8 * cs + 512, cs), 0);
    CHECK_EQ(blk_read(b, 8 * cs, rd, 2 * cs), 0);
    CHECK(rd[0] == 0xab && rd[cs] == 0xab && rd[2 * cs - 1] == 0xab);
    /* write-zeroes with unmap over never-written space allocates nothing */
    uint64_t sz = file_size(path);
    CHECK_EQ(rv_block_write_zeroes(b, 512 * 1024, 256 * 1024, true), 0);
    CHECK_EQ(rv_block_write_zeroes(b, 512 * 1024 + 100, 1000, false), 0);
    CHECK_EQ(rv_block_flush(b), 0);
    CHECK_EQ(file_size(path), sz);
    rv_block_close(b);
    CHECK_EQ(check_image(path), 0);
    free(pat);
    free(rd);
    unlink(path);
}

/* Three levels: raw base (shorter than the disk), qcow2 middle, qcow2 top. */
static void test_backing_chain(uint32_t cs)
{
    char base[64], mid[64], top[64];
    uint64_t rng = 77 + cs;
    tmp_path(base, sizeof(base), "base");
    tmp_path(mid, sizeof(mid), "mid");
    tmp_path(top, sizeof(top), "top");
    const uint64_t base_size = VSIZE / 2 + 1536; /* not cluster aligned */
    struct model m = {.data = calloc(1, VSIZE), .top = calloc(1, VSIZE / cs + 1), .cs = cs,
                      .backing = true};
    fill_random(&rng, m.data, base_size);
    CHECK_EQ(file_pwrite(base, 0, m.data, base_size), 0);
    /* The middle image stores the base by its relative name and records the format. */
    CHECK_EQ(create_qcow2(mid, VSIZE, cs, strrchr(base, '/') + 1, RV_BLOCK_RAW), 0);
    struct rv_block_opts opts = {.format = RV_BLOCK_AUTO, .cache = RV_CACHE_UNSAFE};
    struct rv_block *b = NULL;
    CHECK_EQ(rv_block_open(mid, &opts, &b), 0);
    if (!b)
        return;
    CHECK_EQ(compare_all(b, &m), 0);
    /* some writes to the middle, across the end of the base */
    uint8_t buf[20000];
    fill_random(&rng, buf, sizeof(buf));
    CHECK_EQ(blk_write(b, base_size - 5000, buf, sizeof(buf)), 0);
    memcpy(m.data + base_size - 5000, buf, sizeof(buf));
    CHECK_EQ(blk_write(b, 777 * 512, buf, 3000), 0);
    memcpy(m.data + 777 * 512, buf, 3000);
    CHECK_EQ(rv_block_write_zeroes(b, 0, 3 * cs, true), 0); /* zero flag hides the base */
    memset(m.data, 0, 3 * cs);
    rv_block_close(b);
    CHECK_EQ(check_image(mid), 0);
    /* top: size 0 = the backing file's; format probed and recorded */
    CHECK_EQ(create_qcow2(top, 0, cs, mid, RV_BLOCK_AUTO), 0);
    struct rv_block_info info;
    CHECK_EQ(rv_block_info_get(top, RV_BLOCK_AUTO, &info), 0);
    CHECK_EQ(info.virtual_size, VSIZE);
    CHECK_EQ(info.backing_format, RV_BLOCK_QCOW2);
    CHECK(strcmp(info.backing_file, mid) == 0);
    CHECK_EQ(rv_block_info_get(mid, RV_BLOCK_AUTO, &info), 0);
    CHECK_EQ(info.backing_format, RV_BLOCK_RAW);
    CHECK(strcmp(info.backing_path, base) == 0);
    CHECK_EQ(rv_block_open(top, &opts, &b), 0);
    if (!b)
        return;
    CHECK_EQ(compare_all(b, &m), 0);
    CHECK_EQ(random_session(b, &m, &rng, 200), 0);
    CHECK_EQ(compare_all(b, &m), 0);
    rv_block_close(b);
    CHECK_EQ(check_image(top), 0);
    /* the lower images are untouched (opened read-only) */
    CHECK_EQ(check_image(mid), 0);
    CHECK_EQ(file_size(base), base_size);
    CHECK_EQ(rv_block_open(top, &opts, &b), 0);
    if (b) {
        CHECK_EQ(compare_all(b, &m), 0);
        rv_block_close(b);
    }
    free(m.data);
    free(m.top);
    unlink(base);
    unlink(mid);
    unlink(top);
}

/* A compressed cluster written by hand (deflate, as qemu-img convert -c does): readable, and
 * a partial write moves it to a new cluster and frees the compressed data. */
static void test_compressed(void)
{
    char path[64];
    const uint32_t cs = 65536;
    tmp_path(path, sizeof(path), "comp");
    CHECK_EQ(create_qcow2(path, 1u << 20, cs, NULL, RV_BLOCK_AUTO), 0);
    struct rv_block_opts opts = {.format = RV_BLOCK_QCOW2};
    struct rv_block *b = NULL;
    uint8_t *data = malloc(cs), *rd = malloc(cs), *z = malloc(cs * 2);
    for (uint32_t i = 0; i < cs; i++)
        data[i] = (uint8_t)(i / 100);
    /* Allocate guest clusters 0 and 1; cluster 1's host cluster will hold cluster 0's
     * compressed data. */
    CHECK_EQ(rv_block_open(path, &opts, &b), 0);
    if (!b)
        return;
    CHECK_EQ(blk_write(b, 0, data, cs), 0);
    CHECK_EQ(blk_write(b, cs, data, cs), 0);
    rv_block_close(b);
    uint64_t l1 = file_be64(path, 40) ;
    uint64_t l2 = file_be64(path, l1) & 0x00fffffffffffe00ull;
    uint64_t host1 = file_be64(path, l2 + 8) & 0x00fffffffffffe00ull;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    CHECK_EQ(deflateInit2(&zs, 9, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = data;
    zs.avail_in = cs;
    zs.next_out = z;
    zs.avail_out = cs * 2;
    CHECK_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    uint64_t clen = zs.total_out;
    deflateEnd(&zs);
    uint64_t coff = host1 + 100; /* not sector aligned, like real compressed clusters */
    CHECK_EQ(file_pwrite(path, coff, z, clen), 0);
    unsigned shift = 62 - (16 - 8);
    uint64_t sectors = (coff + clen + 511) / 512 - coff / 512;
    file_put_be64(path, l2, (1ull << 62) | ((sectors - 1) << shift) | coff);
    file_put_be64(path, l2 + 8, 0);
    /* The old host cluster of guest cluster 0 leaks; host1 stays counted once. */
    CHECK_EQ(check_image(path), 1);
    CHECK_EQ(rv_block_open(path, &opts, &b), 0);
    if (!b)
        return;
    CHECK_EQ(blk_read(b, 0, rd, cs), 0);
    CHECK(memcmp(rd, data, cs) == 0);
    CHECK_EQ(blk_read(b, 1000, rd, 512), 0);
    CHECK(memcmp(rd, data + 1000, 512) == 0);
    uint8_t w[512];
    memset(w, 0x5a, sizeof(w));
    CHECK_EQ(blk_write(b, 4096, w, sizeof(w)), 0);
    memcpy(data + 4096, w, sizeof(w));
    CHECK_EQ(blk_read(b, 0, rd, cs), 0);
    CHECK(memcmp(rd, data, cs) == 0);
    rv_block_close(b);
    CHECK_EQ(check_image(path), 1); /* still just the leak made above */
    CHECK(!(file_be64(path, l2) & (1ull << 62)));
    /* A damaged compressed cluster reads as an error, not garbage. */
    file_put_be64(path, l2 + 16, (1ull << 62) | coff); /* one sector, truncated stream */
    struct rv_block_opts ro = {.readonly = true};
    CHECK_EQ(rv_block_open(path, &ro, &b), 0);
    if (b) {
        CHECK_EQ(blk_read(b, 2 * cs, rd, 512), (uint64_t)-EIO);
        rv_block_close(b);
    }
    free(data);
    free(rd);
    free(z);
    unlink(path);
}

/* Many clusters with small clusters and 2 MiB clusters: refcount blocks and the refcount
 * table have to grow. */
static void test_growth(void)
{
    char path[64];
    tmp_path(path, sizeof(path), "grow");
    /* 512-byte clusters: one refcount block covers 256 clusters, the first refcount table
     * (one cluster) 64 blocks = 8 MiB of file. Writing 12 MiB makes it grow. */
    CHECK_EQ(create_qcow2(path, 16u << 20, 512, NULL, RV_BLOCK_AUTO), 0);
    uint32_t rt_before = file_be32(path, 56);
    struct rv_block_opts opts = {.format = RV_BLOCK_QCOW2, .cache = RV_CACHE_UNSAFE};
    struct rv_block *b = NULL;
    CHECK_EQ(rv_block_open(path, &opts, &b), 0);
    if (!b)
        return;
    uint8_t *buf = malloc(1u << 20);
    uint64_t rng = 5;
    struct model m = {.data = calloc(1, 16u << 20), .top = calloc(1, 32768 + 1), .cs = 512};
    for (int i = 0; i < 12; i++) {
        fill_random(&rng, buf, 1u << 20);
        uint64_t off = (uint64_t)((i * 5) % 16) << 20;
        CHECK_EQ(blk_write_split(b, off, buf, 1u << 20, &rng), 0);
        memcpy(m.data + off, buf, 1u << 20);
    }
    CHECK_EQ(compare_all(b, &m), 0);
    rv_block_close(b);
    CHECK(file_be32(path, 56) > rt_before);
    CHECK_EQ(check_image(path), 0);
    CHECK_EQ(rv_block_open(path, &opts, &b), 0);
    if (b) {
        CHECK_EQ(compare_all(b, &m), 0);
        rv_block_close(b);
    }
    unlink(path);
    /* 2 MiB clusters */
    CHECK_EQ(create_qcow2(path, 8u << 20, 2u << 20, NULL, RV_BLOCK_AUTO), 0);
    CHECK_EQ(rv_block_open(path, &opts, &b), 0);
    if (b) {
        memset(m.data, 0, 8u << 20);
        fill_random(&rng, buf, 1u << 20);
        CHECK_EQ(blk_write(b, 3u << 20, buf, 1u << 20), 0);
        memcpy(m.data + (3u << 20), buf, 1u << 20);
        CHECK_EQ(blk_write(b, 5, buf, 1000), 0);
        memcpy(m.data + 5, buf, 1000);
        CHECK_EQ(compare_all(b, &m), 0);
        rv_block_close(b);
        CHECK_EQ(check_image(path), 0);
    }
    free(m.data);
    free(m.top);
    free(buf);
    unlink(path);
}

int main(void)
{
    test_random(512, RV_CACHE_UNSAFE, 1, 150);
    test_random(4096, RV_CACHE_NONE, 2, 60);
    test_random(65536, RV_CACHE_WRITEBACK, 3, 100);
    test_random(65536, RV_CACHE_UNSAFE, 4, 150);
    test_random(1u << 21, RV_CACHE_UNSAFE, 5, 25);
    /* a disk whose last cluster is cut short by its size */
    test_random_size(3000000 - 3000000 % 512, 65536, RV_CACHE_UNSAFE, 6, 150);
    test_zero_and_discard();
    test_backing_chain(4096);
    test_backing_chain(65536);
    test_compressed();
    test_growth();
    TEST_MAIN_END();
}
