/* blkwrite: random I/O through rvisor's block backends, for the interop and crash tests.
 *
 *   blkwrite mirror IMAGE MIRROR SEED OPS [CACHE]
 *       OPS random writes, write-zeroes, discards and flushes on IMAGE, mirrored into the raw
 *       file MIRROR (which must hold the image's current contents); afterwards
 *       `qemu-img compare IMAGE MIRROR` must succeed. Discarded ranges are read back from
 *       the image into the mirror (their contents are the backend's choice).
 *   blkwrite crash IMAGE STATE SEED [CACHE]
 *       Runs random I/O until killed. STATE.flushed holds the disk contents as of the last
 *       completed flush, STATE.dirty (shared memory mapping: it survives SIGKILL) one byte per
 *       512-byte sector written since then. Starts from the image's current contents.
 *   blkwrite verify RAW STATE
 *       After a kill: every sector of RAW (e.g. `qemu-img convert -O raw IMAGE`) that is not
 *       dirty must equal STATE.flushed. Exit 0 if so.
 * CACHE: writeback (default), none, unsafe. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "block/block.h"
#include "core/error.h"

#define MAX_LEN (256u << 10)

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

static uint64_t below(uint64_t *s, uint64_t n)
{
    return n ? rng_next(s) % n : 0;
}

static void die(const char *what)
{
    fprintf(stderr, "blkwrite: %s: %s\n", what, rv_error_get()[0] ? rv_error_get()
                                                                    : strerror(errno));
    exit(1);
}

static enum rv_block_cache parse_cache(const char *s)
{
    if (!s || strcmp(s, "writeback") == 0)
        return RV_CACHE_WRITEBACK;
    if (strcmp(s, "none") == 0)
        return RV_CACHE_NONE;
    if (strcmp(s, "unsafe") == 0)
        return RV_CACHE_UNSAFE;
    fprintf(stderr, "blkwrite: unknown cache mode %s\n", s);
    exit(2);
}

static struct rv_block *open_image(const char *path, enum rv_block_cache cache)
{
    struct rv_block_opts o = {.format = RV_BLOCK_AUTO, .cache = cache};
    struct rv_block *b;
    if (rv_block_open(path, &o, &b) < 0)
        die(path);
    return b;
}

static void xpwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
        die("pwrite");
}

static void xpread(int fd, void *buf, size_t len, uint64_t off)
{
    ssize_t n = pread(fd, buf, len, (off_t)off);
    if (n < 0)
        die("pread");
    memset((char *)buf + n, 0, len - (size_t)n);
}

/* One random operation on [off, off+len): 0 write, 1 write-zeroes, 2 discard, 3 flush. */
struct op {
    int kind;
    uint64_t off, len;
    bool unmap;
};

static struct op random_op(uint64_t *rng, uint64_t size)
{
    struct op op = {0};
    uint64_t r = below(rng, 100);
    op.kind = r < 70 ? 0 : r < 80 ? 1 : r < 90 ? 2 : 3;
    uint64_t max = below(rng, 6) == 0 ? MAX_LEN : 16384;
    if (max > size)
        max = size;
    op.len = 512 * (1 + below(rng, max / 512));
    op.off = 512 * below(rng, (size - op.len) / 512 + 1);
    op.unmap = below(rng, 2);
    return op;
}

static void fill(uint64_t *rng, uint8_t *buf, uint64_t len)
{
    for (uint64_t i = 0; i < len; i += 8) {
        uint64_t v = rng_next(rng);
        memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
    }
}

/* Applies `op` to the image and to `model` (RAM or a file through fd_model). */
static void apply(struct rv_block *b, const struct op *op, uint64_t *rng, uint8_t *buf,
                  int fd_model, uint8_t *model)
{
    struct iovec v = {buf, op->len};
    switch (op->kind) {
    case 0:
        fill(rng, buf, op->len);
        if (rv_block_writev(b, op->off, &v, 1) < 0)
            die("write");
        break;
    case 1:
        if (rv_block_write_zeroes(b, op->off, op->len, op->unmap) < 0)
            die("write_zeroes");
        memset(buf, 0, op->len);
        break;
    case 2:
        if (rv_block_discard(b, op->off, op->len) < 0)
            die("discard");
        if (rv_block_readv(b, op->off, &v, 1) < 0)
            die("read after discard");
        break;
    default:
        if (rv_block_flush(b) < 0)
            die("flush");
        return;
    }
    if (model)
        memcpy(model + op->off, buf, op->len);
    else
        xpwrite(fd_model, buf, op->len, op->off);
}

static int cmd_mirror(int argc, char **argv)
{
    if (argc < 6)
        return 2;
    struct rv_block *b = open_image(argv[2], parse_cache(argc > 6 ? argv[6] : NULL));
    int fd = open(argv[3], O_RDWR);
    if (fd < 0)
        die(argv[3]);
    uint64_t rng = strtoull(argv[4], NULL, 0) | 1, size = rv_block_size(b);
    long ops = strtol(argv[5], NULL, 0);
    uint8_t *buf = malloc(MAX_LEN);
    for (long i = 0; i < ops; i++) {
        struct op op = random_op(&rng, size);
        apply(b, &op, &rng, buf, fd, NULL);
    }
    if (rv_block_flush(b) < 0)
        die("flush");
    rv_block_close(b);
    close(fd);
    free(buf);
    return 0;
}

static void *map_file(const char *path, uint64_t size, bool create)
{
    int fd = open(path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0644);
    if (fd < 0 || (create && ftruncate(fd, (off_t)size) < 0))
        die(path);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap");
    close(fd);
    return p;
}

static int cmd_crash(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    struct rv_block *b = open_image(argv[2], parse_cache(argc > 5 ? argv[5] : NULL));
    uint64_t rng = strtoull(argv[4], NULL, 0) | 1, size = rv_block_size(b);
    char path[4096];
    /* Start from what the image holds now: that is the flushed state. */
    uint8_t *model = malloc(size);
    struct iovec v = {model, size};
    if (!model || rv_block_readv(b, 0, &v, 1) < 0)
        die("initial read");
    snprintf(path, sizeof(path), "%s.flushed", argv[3]);
    int fd_flushed = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd_flushed < 0)
        die(path);
    xpwrite(fd_flushed, model, size, 0);
    snprintf(path, sizeof(path), "%s.dirty", argv[3]);
    uint8_t *dirty = map_file(path, size / 512, true);
    uint8_t *buf = malloc(MAX_LEN);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        struct op op = random_op(&rng, size);
        if (op.kind == 3 || below(&rng, 40) == 0) {
            if (rv_block_flush(b) < 0)
                die("flush");
            /* Everything written so far is durable: record it, then forget the dirt. */
            for (uint64_t s = 0; s < size / 512; s++) {
                uint64_t e = s;
                while (e < size / 512 && dirty[e])
                    e++;
                if (e > s)
                    xpwrite(fd_flushed, model + s * 512, (e - s) * 512, s * 512);
                s = e;
            }
            memset(dirty, 0, size / 512);
            continue;
        }
        memset(dirty + op.off / 512, 1, op.len / 512);
        apply(b, &op, &rng, buf, -1, model);
    }
}

static int cmd_verify(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    char path[4096];
    int raw = open(argv[2], O_RDONLY);
    snprintf(path, sizeof(path), "%s.flushed", argv[3]);
    int fl = open(path, O_RDONLY);
    struct stat st;
    if (raw < 0 || fl < 0 || fstat(fl, &st) < 0)
        die("open");
    uint64_t size = (uint64_t)st.st_size;
    snprintf(path, sizeof(path), "%s.dirty", argv[3]);
    uint8_t *dirty = map_file(path, size / 512, false);
    uint8_t a[512], c[512];
    uint64_t bad = 0, checked = 0;
    for (uint64_t s = 0; s < size / 512; s++) {
        if (dirty[s])
            continue;
        xpread(raw, a, 512, s * 512);
        xpread(fl, c, 512, s * 512);
        checked++;
        if (memcmp(a, c, 512) != 0 && bad++ < 5)
            fprintf(stderr, "blkwrite verify: sector %" PRIu64 " differs from the flushed "
                    "data\n", s);
    }
    printf("verify: %" PRIu64 " sectors checked, %" PRIu64 " differ\n", checked, bad);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc >= 2 && strcmp(argv[1], "mirror") == 0)
        rc = cmd_mirror(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "crash") == 0)
        rc = cmd_crash(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        rc = cmd_verify(argc, argv);
    if (rc == 2)
        fprintf(stderr, "usage: blkwrite mirror IMAGE MIRROR SEED OPS [CACHE]\n"
                        "       blkwrite crash IMAGE STATE SEED [CACHE]\n"
                        "       blkwrite verify RAW STATE\n");
    return rc;
}
