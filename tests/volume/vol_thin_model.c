/* Model-based test of thin pools, thin volumes and snapshots: random writes, reads, discards,
 * write-zeroes and flushes on a thin volume, thin snapshots taken, written independently of
 * their origin and merged back, an external (thin) snapshot of a striped LV with both it and its
 * origin written (the origin's old chunks copied into the snapshot first) and merged into it, a
 * snapshot invalidated when its pool runs out while the origin is written, online growth and
 * shrinking of the thin volume, and a pool filled up until the clear out-of-space error —
 * every read compared with an in-memory model, pool usage checked against the chunks the model
 * says are in use, and `vol check` clean at the end.
 *
 * usage: vol_thin_model [SEED [ROUNDS]] */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "block/block.h"
#include "block/volume/vol.h"
#include "block/volume/vol_thin.h"
#include "core/error.h"
#include "../unit/test.h"

#define EXTENT (256u << 10)
#define CHUNK (64u << 10)
#define POOL (24u << 20)
#define TSIZE (64u << 20)
#define SSIZE (3u << 20)
#define MAXLEN (200u << 10)

struct mlv {
    char name[16];
    uint8_t *data;
    uint64_t size;
};

static char dir[64];
static uint64_t rng = 1;
static uint8_t rbuf[MAXLEN], wbuf[MAXLEN];

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void die(const char *what)
{
    fprintf(stderr, "vol_thin_model: %s: %s\n", what, rv_error_get());
    printf("%d passed, %d failed\n", test_passed, test_failed + 1);
    exit(1);
}

static struct rv_block *lv_open(const char *name, bool ro)
{
    char spec[64];
    struct rv_block *b;
    struct rv_block_opts o = {.format = RV_BLOCK_AUTO, .readonly = ro};
    snprintf(spec, sizeof(spec), "vol:vg/%s", name);
    if (rv_block_open(spec, &o, &b))
        die(spec);
    return b;
}

static void verify(struct rv_block *b, const struct mlv *m)
{
    CHECK_EQ(rv_block_size(b), m->size);
    for (uint64_t off = 0; off < m->size; off += MAXLEN) {
        uint64_t n = m->size - off < MAXLEN ? m->size - off : MAXLEN;
        struct iovec v = {rbuf, n};
        CHECK(rv_block_readv(b, off, &v, 1) == 0);
        if (memcmp(rbuf, m->data + off, n)) {
            CHECK(!"contents differ from the model");
            fprintf(stderr, "  %s at %" PRIu64 "\n", m->name, off);
            return;
        }
    }
    test_passed++;
}

/* Random I/O on an open volume; writes stay within the first `span` bytes (pool capacity). */
static void random_io(struct rv_block *b, struct mlv *m, unsigned ops, uint64_t span)
{
    for (unsigned i = 0; i < ops; i++) {
        unsigned op = (unsigned)(rnd() % 100);
        uint64_t len = 1 + rnd() % MAXLEN, off = rnd() % (span - len);
        if (op < 45) {
            off &= ~511ull, len = (len + 511) & ~511ull;
            for (uint64_t k = 0; k < len; k++)
                wbuf[k] = (uint8_t)rnd();
            struct iovec v[2] = {{wbuf, len / 3}, {wbuf + len / 3, len - len / 3}};
            CHECK(rv_block_writev(b, off, v, 2) == 0);
            memcpy(m->data + off, wbuf, len);
        } else if (op < 85) {
            struct iovec v = {rbuf, len};
            CHECK(rv_block_readv(b, off, &v, 1) == 0);
            CHECK(memcmp(rbuf, m->data + off, len) == 0);
        } else if (op < 95) {
            off &= ~4095ull, len = (len + 4095) & ~4095ull;
            int rc = op & 1 ? rv_block_discard(b, off, len)
                            : rv_block_write_zeroes(b, off, len, true);
            CHECK(rc == 0);
            memset(m->data + off, 0, len);
        } else {
            CHECK(rv_block_flush(b) == 0);
        }
    }
}

static void model_copy(struct mlv *dst, const struct mlv *src, const char *name)
{
    snprintf(dst->name, sizeof(dst->name), "%s", name);
    free(dst->data);
    dst->data = malloc(src->size);
    memcpy(dst->data, src->data, src->size);
    dst->size = src->size;
}

/* Chunks of the model that hold anything but zeros: what the pool must at least hold. */
static uint32_t pool_used(void)
{
    struct vol_vg *vg;
    uint32_t used = 0, total = 0;
    if (vol_vg_open(NULL, "vg", VOL_OPEN_READ, &vg))
        die("open vg");
    CHECK(vol_thin_usage(vg, vol_lv_find(vg, "pool"), &used, &total) == 0);
    CHECK_EQ(total, POOL / CHUNK);
    vol_vg_close(vg);
    return used;
}

static void setup(struct mlv *t, struct mlv *s)
{
    char path[128];
    snprintf(dir, sizeof(dir), "/tmp/vol_thin.XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(path, sizeof(path), "%s/devices", dir);
    setenv("RVISOR_VOL_DEVICES", path, 1);
    static char names[3][128];
    const char *pvs[3];
    for (int i = 0; i < 3; i++) {
        snprintf(names[i], sizeof(names[i]), "%s/pv%d", dir, i);
        FILE *f = fopen(names[i], "w");
        if (!f || ftruncate(fileno(f), 32 << 20) < 0 || fclose(f) || vol_pv_create(NULL, names[i], 0))
            die("pv");
        pvs[i] = names[i];
    }
    struct vol_lv_spec str = {.name = "str", .type = VOL_STRIPED, .size = SSIZE, .stripes = 3,
                              .stripe_size = 16 << 10};
    if (vol_vg_create(NULL, "vg", EXTENT, pvs, 3) ||
        vol_thin_pool_create(NULL, "vg", "pool", POOL, CHUNK, 0) ||
        vol_thin_create(NULL, "vg", "t", "pool", TSIZE) || vol_lv_create(NULL, "vg", &str))
        die("setup");
    snprintf(t->name, sizeof(t->name), "t");
    t->size = TSIZE;
    t->data = calloc(1, TSIZE);
    snprintf(s->name, sizeof(s->name), "str");
    s->size = SSIZE;
    s->data = calloc(1, SSIZE);
}

/* A thin snapshot: written on its own, the origin unchanged; then merged or removed. */
static void round_thin_snapshot(struct mlv *t, unsigned r)
{
    struct mlv snap = {.data = NULL};
    char name[16];
    snprintf(name, sizeof(name), "snap%u", r);
    CHECK(vol_snapshot_create(NULL, "vg", "t", name, NULL) == 0);
    model_copy(&snap, t, name);
    struct rv_block *b = lv_open(name, false);
    verify(b, &snap);
    random_io(b, &snap, 150, 4 << 20);
    rv_block_close(b);
    b = lv_open("t", false);
    verify(b, t); /* the snapshot's writes did not leak into the origin */
    random_io(b, t, 100, 4 << 20);
    rv_block_close(b);
    b = lv_open(name, true);
    verify(b, &snap); /* nor the origin's into the snapshot */
    rv_block_close(b);
    if (rnd() & 1) {
        CHECK(vol_snapshot_merge(NULL, "vg", name) == 0);
        model_copy(t, &snap, "t");
    } else {
        CHECK(vol_lv_remove(NULL, "vg", name) == 0);
    }
    free(snap.data);
}

/* An external snapshot of the striped LV: the origin is written while the snapshot exists (old
 * chunks copied into the snapshot first), the snapshot is written too, then merged or removed. */
static void round_external_snapshot(struct mlv *s)
{
    struct mlv es = {.data = NULL};
    model_copy(&es, s, "es");
    CHECK(vol_snapshot_create(NULL, "vg", "str", "es", "pool") == 0);
    struct rv_block *o = lv_open("str", false), *x;
    random_io(o, s, 150, SSIZE);
    struct rv_block_opts ro = {.format = RV_BLOCK_AUTO, .readonly = true};
    CHECK(rv_block_open("vol:vg/es", &ro, &x) == 0); /* read-only, it follows the writer */
    verify(x, &es);
    random_io(o, s, 50, SSIZE);
    verify(x, &es);
    rv_block_close(x);
    struct rv_block_opts rw = {.format = RV_BLOCK_AUTO};
    CHECK(rv_block_open("vol:vg/es", &rw, &x) == -EBUSY); /* the origin's writer owns it */
    rv_block_close(o);
    struct rv_block *b = lv_open("es", false);
    verify(b, &es); /* the origin's writes did not reach the snapshot */
    random_io(b, &es, 150, SSIZE);
    CHECK(rv_block_flush(b) == 0);
    rv_block_close(b);
    o = lv_open("str", false);
    verify(o, s); /* nor the snapshot's the origin */
    random_io(o, s, 100, SSIZE);
    rv_block_close(o);
    b = lv_open("es", true);
    verify(b, &es);
    rv_block_close(b);
    if (rnd() & 1) {
        CHECK(vol_snapshot_merge(NULL, "vg", "es") == 0);
        model_copy(s, &es, "str");
    } else {
        CHECK(vol_lv_remove(NULL, "vg", "es") == 0);
    }
    o = lv_open("str", false);
    verify(o, s);
    random_io(o, s, 50, SSIZE);
    rv_block_close(o);
    free(es.data);
}

/* A snapshot whose copy-on-write store (a pool of 4 chunks) runs out while the origin is
 * written becomes invalid; the origin's writes all succeed. */
static void snapshot_overflow(struct mlv *s)
{
    struct mlv snap = {.data = NULL};
    model_copy(&snap, s, "inv");
    CHECK(vol_thin_pool_create(NULL, "vg", "small", EXTENT, CHUNK, 0) == 0);
    CHECK(vol_snapshot_create(NULL, "vg", "str", "inv", "small") == 0);
    struct rv_block *o = lv_open("str", false);
    for (uint64_t k = 0; k < 3 * CHUNK; k++) /* three chunks: they fit */
        s->data[k] = (uint8_t)rnd();
    struct iovec v = {s->data, 3 * CHUNK};
    CHECK(rv_block_writev(o, 0, &v, 1) == 0);
    rv_block_close(o);
    struct rv_block *b = lv_open("inv", true);
    verify(b, &snap);
    rv_block_close(b);
    o = lv_open("str", false);
    random_io(o, s, 200, SSIZE); /* far more than 4 chunks */
    CHECK(rv_block_flush(o) == 0);
    rv_block_close(o);
    struct rv_block_opts ro = {.format = RV_BLOCK_AUTO, .readonly = true};
    CHECK(rv_block_open("vol:vg/inv", &ro, &b) == -EIO);
    CHECK(strstr(rv_error_get(), "invalid") != NULL);
    CHECK(vol_snapshot_merge(NULL, "vg", "inv") == -EINVAL);
    CHECK(vol_lv_remove(NULL, "vg", "inv") == 0);
    CHECK(vol_lv_remove(NULL, "vg", "small") == 0);
    o = lv_open("str", false);
    verify(o, s);
    rv_block_close(o);
    free(snap.data);
}

/* Fills the pool with one-chunk writes until the out-of-space error; nothing is lost. */
static void fill_pool(struct mlv *t)
{
    struct rv_block *b = lv_open("t", false);
    int rc = 0;
    uint64_t off = 8 << 20;
    for (; off + CHUNK <= TSIZE && rc == 0; off += CHUNK) {
        for (unsigned k = 0; k < CHUNK; k++)
            wbuf[k] = (uint8_t)(rnd() | 1);
        struct iovec v = {wbuf, CHUNK};
        rc = rv_block_writev(b, off, &v, 1);
        if (rc == 0)
            memcpy(t->data + off, wbuf, CHUNK);
    }
    CHECK(rc == -ENOSPC);
    CHECK(strstr(rv_error_get(), "out of space") != NULL);
    CHECK_EQ(rv_block_flush(b), 0);
    rv_block_close(b);
    CHECK_EQ(pool_used(), POOL / CHUNK);
    b = lv_open("t", false);
    verify(b, t);
    CHECK(rv_block_discard(b, 8 << 20, TSIZE - (8 << 20)) == 0); /* give it all back */
    memset(t->data + (8 << 20), 0, TSIZE - (8 << 20));
    CHECK(rv_block_flush(b) == 0);
    rv_block_close(b);
    CHECK(pool_used() < (8u << 20) / CHUNK + 1);
}

/* Shrinking the thin volume gives its chunks past the new end back to the pool, except those a
 * snapshot still shares (they go when the snapshot goes); growing again shows zeros there. */
static void shrink_thin(struct mlv *t)
{
    const uint64_t at = 10 << 20, len = 4 << 20, big = t->size;
    struct rv_block *b = lv_open("t", false);
    for (uint64_t k = 0; k < len; k++)
        t->data[at + k] = (uint8_t)(rnd() | 1);
    struct iovec v = {t->data + at, len};
    CHECK(rv_block_writev(b, at, &v, 1) == 0);
    CHECK(rv_block_flush(b) == 0);
    rv_block_close(b);
    uint32_t before = pool_used();
    CHECK(vol_lv_resize(NULL, "vg", "t", at, false) == -EINVAL); /* not asked */
    CHECK(vol_snapshot_create(NULL, "vg", "t", "ss", NULL) == 0);
    b = lv_open("t", false);
    CHECK(vol_lv_resize(NULL, "vg", "t", at, true) == -EBUSY); /* in use */
    rv_block_close(b);
    CHECK(vol_lv_resize(NULL, "vg", "t", at, true) == 0);
    CHECK_EQ(pool_used(), before); /* the snapshot still holds them */
    struct mlv snap = {.data = NULL};
    model_copy(&snap, t, "ss");
    b = lv_open("ss", true);
    verify(b, &snap);
    rv_block_close(b);
    free(snap.data);
    CHECK(vol_lv_remove(NULL, "vg", "ss") == 0);
    CHECK_EQ(pool_used(), before - len / CHUNK);
    t->size = at;
    b = lv_open("t", false);
    verify(b, t);
    rv_block_close(b);
    CHECK(vol_lv_resize(NULL, "vg", "t", big, false) == 0);
    memset(t->data + at, 0, big - at);
    t->size = big;
    b = lv_open("t", false);
    verify(b, t);
    rv_block_close(b);
    CHECK_EQ(pool_used(), before - len / CHUNK);
}

static void report(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "  check: %s\n", msg);
}

int main(int argc, char **argv)
{
    rng = argc > 1 ? strtoull(argv[1], NULL, 0) | 1 : 0x2545f4914f6cdd1dull;
    unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 6;
    struct mlv t = {.data = NULL}, s = {.data = NULL};
    setup(&t, &s);
    struct rv_block *b = lv_open("t", false);
    verify(b, &t); /* a new thin volume reads as zeros and uses no space */
    CHECK_EQ(pool_used(), 0);
    random_io(b, &t, 400, 4 << 20);
    rv_block_close(b);
    for (unsigned r = 0; r < rounds; r++) {
        round_thin_snapshot(&t, r);
        round_external_snapshot(&s);
    }
    snapshot_overflow(&s);
    CHECK(vol_lv_resize(NULL, "vg", "t", TSIZE + (4 << 20), false) == 0);
    t.data = realloc(t.data, TSIZE + (4 << 20));
    memset(t.data + TSIZE, 0, 4 << 20);
    t.size = TSIZE + (4 << 20);
    b = lv_open("t", false);
    verify(b, &t);
    rv_block_close(b);
    shrink_thin(&t);
    fill_pool(&t); /* works on the first TSIZE bytes */
    b = lv_open("t", true);
    verify(b, &t);
    rv_block_close(b);
    struct vol_check_result res;
    CHECK(vol_check(NULL, "vg", false, report, NULL, &res) == 0);
    CHECK_EQ(res.errors, 0);
    CHECK_EQ(res.warnings, 0);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(t.data);
    free(s.data);
    TEST_MAIN_END();
}
