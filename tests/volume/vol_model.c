/* Model-based test of the volume manager: random writes (scatter/gather), reads, discards,
 * write-zeroes, flushes, online grows, shrinks, pv-moves (offline, and online with requests
 * running during the copy) and mirror leg checks on a linear, a
 * striped and a mirrored LV of one VG, every read compared byte for byte with an in-memory
 * model, and every LV compared in full after each mapping change. Ends with `vol check`.
 *
 * usage: vol_model [SEED [OPS]]   (a temporary directory holds the PV files) */
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "block/block.h"
#include "block/volume/vol.h"
#include "core/error.h"
#include "../unit/test.h"

#define NPV 4
#define PV_SIZE (40u << 20)
#define EXTENT (256u << 10)
#define MAXLEN (300u << 10)
#define NLV 3

struct mlv {
    const char *name;
    struct rv_block *b;
    uint8_t *data;          /* the model */
    uint64_t size;
};

static char dir[64];
static uint64_t rng_state;
static struct mlv lvs[NLV] = {{.name = "lin"}, {.name = "str"}, {.name = "mir"}};
static uint8_t rbuf[MAXLEN], wbuf[MAXLEN];

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void die(const char *what)
{
    fprintf(stderr, "vol_model: %s: %s\n", what, rv_error_get());
    printf("%d passed, %d failed\n", test_passed, test_failed + 1);
    exit(1);
}

static void lv_open(struct mlv *m)
{
    char spec[64];
    snprintf(spec, sizeof(spec), "vol:vg/%s", m->name);
    struct rv_block_opts o = {.format = RV_BLOCK_AUTO};
    if (rv_block_open(spec, &o, &m->b))
        die(spec);
    CHECK_EQ(rv_block_size(m->b), m->size);
}

static void lv_close(struct mlv *m)
{
    rv_block_close(m->b);
    m->b = NULL;
}

/* Reads the whole LV in pieces and compares with the model. */
static void verify_all(struct mlv *m)
{
    for (uint64_t off = 0; off < m->size; off += MAXLEN) {
        uint64_t n = m->size - off < MAXLEN ? m->size - off : MAXLEN;
        struct iovec v = {rbuf, n};
        CHECK(rv_block_readv(m->b, off, &v, 1) == 0);
        if (memcmp(rbuf, m->data + off, n) != 0) {
            CHECK(!"LV contents differ from the model");
            fprintf(stderr, "  %s at [%" PRIu64 ", +%" PRIu64 ")\n", m->name, off, n);
            return;
        }
    }
    test_passed++;
}

static void op_write(struct mlv *m)
{
    uint64_t len = 512 * (1 + rnd() % (MAXLEN / 512)), off;
    if (len > m->size)
        len = m->size;
    off = 512 * (rnd() % ((m->size - len) / 512 + 1));
    for (uint64_t i = 0; i < len; i++)
        wbuf[i] = (uint8_t)rnd();
    /* Up to three segments of arbitrary (not sector) lengths. */
    struct iovec v[3];
    uint64_t cut1 = rnd() % (len + 1), cut2 = cut1 + rnd() % (len - cut1 + 1);
    v[0] = (struct iovec){wbuf, cut1};
    v[1] = (struct iovec){wbuf + cut1, cut2 - cut1};
    v[2] = (struct iovec){wbuf + cut2, len - cut2};
    CHECK(rv_block_writev(m->b, off, v, 3) == 0);
    memcpy(m->data + off, wbuf, len);
}

static void op_read(struct mlv *m)
{
    uint64_t len = 1 + rnd() % MAXLEN, off;
    if (len > m->size)
        len = m->size;
    off = rnd() % (m->size - len + 1);
    struct iovec v = {rbuf, len};
    CHECK(rv_block_readv(m->b, off, &v, 1) == 0);
    if (memcmp(rbuf, m->data + off, len) != 0) {
        CHECK(!"read differs from the model");
        fprintf(stderr, "  %s [%" PRIu64 ", +%" PRIu64 ")\n", m->name, off, len);
    }
}

static void op_zero(struct mlv *m, bool discard)
{
    uint64_t len = 4096 * (1 + rnd() % 64), off;
    if (len > m->size)
        len = m->size;
    off = 4096 * (rnd() % ((m->size - len) / 4096 + 1));
    int rc = discard ? rv_block_discard(m->b, off, len)
                     : rv_block_write_zeroes(m->b, off, len, rnd() & 1);
    CHECK(rc == 0);
    memset(m->data + off, 0, len);
}

static void model_resize(struct mlv *m, uint64_t size)
{
    uint8_t *d = realloc(m->data, size);
    if (!d)
        die("out of memory");
    if (size > m->size)
        memset(d + m->size, 0, size - m->size); /* new extents read as zeros */
    m->data = d;
    m->size = size;
}

/* Grows by 1..3 extents (whole stripes) while the LV is open; waits for the backend to see it. */
static void op_grow(struct mlv *m, unsigned idx)
{
    uint64_t unit = idx == 1 ? 3 * EXTENT : EXTENT;
    uint64_t size = m->size + unit * (1 + rnd() % 3);
    if (vol_lv_resize(NULL, "vg", m->name, size, false)) {
        CHECK(strstr(rv_error_get(), "not enough free extents") != NULL); /* VG full */
        return;
    }
    for (int i = 0; i < 200 && rv_block_size(m->b) != size; i++)
        usleep(50000); /* the watcher polls the metadata every 500 ms */
    CHECK_EQ(rv_block_size(m->b), size);
    model_resize(m, size);
    verify_all(m);
}

static void op_shrink(struct mlv *m, unsigned idx)
{
    uint64_t unit = idx == 1 ? 3 * EXTENT : EXTENT;
    if (m->size <= 2 * unit)
        return;
    uint64_t size = m->size - unit;
    /* In use: refused. */
    CHECK(vol_lv_resize(NULL, "vg", m->name, size, true) == -EBUSY);
    lv_close(m);
    CHECK(vol_lv_resize(NULL, "vg", m->name, size, true) == 0);
    model_resize(m, size);
    lv_open(m);
    verify_all(m);
}

struct mover {
    char from[128];
    const char *lv;
    int rc;
    volatile int done;
};

static void *mover_thread(void *arg)
{
    struct mover *mv = arg;
    mv->rc = vol_pv_move(NULL, "vg", mv->from, NULL, mv->lv);
    __atomic_store_n(&mv->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static unsigned online_moves, ops_during_moves;

/* pv-move while the LV is open and being written: random I/O until the move is over. */
static void op_move_online(struct mlv *m)
{
    struct mover mv = {.lv = m->name};
    snprintf(mv.from, sizeof(mv.from), "%s/pv%u", dir, (unsigned)(rnd() % NPV));
    pthread_t t;
    if (pthread_create(&t, NULL, mover_thread, &mv))
        die("pthread_create");
    while (!__atomic_load_n(&mv.done, __ATOMIC_ACQUIRE)) {
        unsigned op = (unsigned)(rnd() % 10);
        if (op < 6) op_write(m);
        else if (op < 9) op_read(m);
        else op_zero(m, true);
        ops_during_moves++;
    }
    pthread_join(t, NULL);
    CHECK(mv.rc == 0 || mv.rc == -ENOENT || mv.rc == -ENOSPC);
    online_moves += mv.rc == 0;
    verify_all(m);
}

static void op_move(struct mlv *m)
{
    if (rnd() & 1) {
        op_move_online(m);
        return;
    }
    char from[128];
    snprintf(from, sizeof(from), "%s/pv%u", dir, (unsigned)(rnd() % NPV));
    lv_close(m);
    int rc = vol_pv_move(NULL, "vg", from, NULL, m->name);
    /* Nothing there, or no room elsewhere, are the only acceptable refusals. */
    CHECK(rc == 0 || rc == -ENOENT || rc == -ENOSPC);
    lv_open(m);
    verify_all(m);
}

/* Both legs of the mirror hold the model, read straight from the PV files. */
static void check_mirror_legs(void)
{
    struct vol_vg *vg;
    if (vol_vg_open(NULL, "vg", VOL_OPEN_READ, &vg))
        die("open vg");
    struct vol_lv *lv = vol_lv_find(vg, "mir");
    for (uint32_t leg = 0; lv && leg < 2; leg++) {
        bool same = true;
        for (uint64_t off = 0; off < lvs[2].size && same; off += EXTENT) {
            uint32_t pv;
            uint64_t po, avail;
            CHECK(vol_area_map(vg, &lv->areas[leg], off, &pv, &po, &avail) == 0);
            same = pread(vg->pvs[pv].fd, rbuf, EXTENT, (off_t)po) == EXTENT &&
                   memcmp(rbuf, lvs[2].data + off, EXTENT) == 0;
        }
        CHECK(same);
    }
    vol_vg_close(vg);
}

static void setup(void)
{
    char path[128];
    snprintf(dir, sizeof(dir), "/tmp/vol_model.XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(path, sizeof(path), "%s/devices", dir);
    setenv("RVISOR_VOL_DEVICES", path, 1);
    const char *pvs[NPV];
    static char names[NPV][128];
    for (int i = 0; i < NPV; i++) {
        snprintf(names[i], sizeof(names[i]), "%s/pv%d", dir, i);
        FILE *f = fopen(names[i], "w");
        if (!f || ftruncate(fileno(f), PV_SIZE) < 0)
            die("create PV file");
        fclose(f);
        if (vol_pv_create(NULL, names[i], 0))
            die("pv-create");
        pvs[i] = names[i];
    }
    if (vol_vg_create(NULL, "vg", EXTENT, pvs, NPV))
        die("vg-create");
    struct vol_lv_spec specs[NLV] = {
        {.name = "lin", .type = VOL_LINEAR, .size = 5 * EXTENT + 1},
        {.name = "str", .type = VOL_STRIPED, .size = 6 * EXTENT, .stripes = 3,
         .stripe_size = 64 << 10},
        {.name = "mir", .type = VOL_MIRROR, .size = 4 * EXTENT},
    };
    for (int i = 0; i < NLV; i++) {
        if (vol_lv_create(NULL, "vg", &specs[i]))
            die("lv-create");
        model_resize(&lvs[i], i == 0 ? 6 * EXTENT : specs[i].size);
        lv_open(&lvs[i]);
        verify_all(&lvs[i]); /* a new LV reads as zeros */
    }
}

static void report(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "  check: %s\n", msg);
}

int main(int argc, char **argv)
{
    rng_state = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x9e3779b97f4a7c15ull;
    unsigned ops = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 3000;
    if (!rng_state)
        rng_state = 1;
    setup();
    for (unsigned i = 0; i < ops; i++) {
        unsigned idx = (unsigned)(rnd() % NLV), op = (unsigned)(rnd() % 1000);
        struct mlv *m = &lvs[idx];
        if (op < 400) op_write(m);
        else if (op < 800) op_read(m);
        else if (op < 860) op_zero(m, true);
        else if (op < 920) op_zero(m, false);
        else if (op < 960) CHECK(rv_block_flush(m->b) == 0);
        else if (op < 975) op_grow(m, idx);
        else if (op < 985) op_shrink(m, idx);
        else op_move(m);
    }
    for (int i = 0; i < NLV; i++) {
        CHECK(rv_block_flush(lvs[i].b) == 0);
        verify_all(&lvs[i]);
    }
    check_mirror_legs();
    printf("%u online pv-moves with %u requests during them\n", online_moves, ops_during_moves);
    CHECK(online_moves > 0);
    for (int i = 0; i < NLV; i++)
        lv_close(&lvs[i]);
    struct vol_check_result res;
    CHECK(vol_check(NULL, "vg", false, report, NULL, &res) == 0);
    CHECK_EQ(res.errors, 0);
    CHECK_EQ(res.warnings, 0);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "vol_model: could not remove %s\n", dir);
    for (int i = 0; i < NLV; i++)
        free(lvs[i].data);
    TEST_MAIN_END();
}
