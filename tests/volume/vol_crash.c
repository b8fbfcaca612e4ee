/* Crash test: a child process updates a VG without pause (writes + flush on a linear, a striped
 * and a thin LV; lv-create, lv-remove, lv-resize, pv-move, shrinking the thin LV; the linear
 * LV is the origin of a snapshot, whose copy-on-write store must always hold its old data)
 * and reports each step over a pipe before and after doing it; the parent kills it with SIGKILL at a random moment, then checks that `vol check` finds no
 * error and that every LV holds exactly what the model says: acknowledged steps are all there,
 * the step in flight is either wholly absent or present (per 512-byte sector for data).
 *
 * usage: vol_crash [ROUNDS [SEED]] */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/block.h"
#include "block/volume/vol.h"
#include "block/volume/vol_thin.h"
#include "core/error.h"
#include "../unit/test.h"

#define EXTENT (64u << 10)
#define PV_SIZE (16u << 20)
#define NPV 3
#define LVSIZE (1u << 20)
#define MAXW (64u << 10)
#define NTMP 4

enum { OP_WRITE, OP_CREATE, OP_REMOVE, OP_GROW, OP_MOVE, OP_SHRINK, NOPS };

struct msg {
    uint32_t done;          /* 0: about to start, 1: finished (and flushed) */
    uint32_t op, lv, tmp;
    uint64_t off, len, seed, size;
};

#define NDATA 3
static const char *data_lv[NDATA] = {"lin", "str", "thin"};
static char dir[64], pvname[NPV][128];
static uint8_t *model[NDATA], *snap_model; /* lsnap: a snapshot of lin, never changes */
static uint64_t msize[NDATA];
#include "vol_test_util.h"

static void say(int fd, const struct msg *m)
{
    if (write(fd, m, sizeof(*m)) != sizeof(*m))
        _exit(0);
}

static struct rv_block *open_lv(const char *name)
{
    char spec[64];
    struct rv_block *b;
    struct rv_block_opts o = {.format = RV_BLOCK_AUTO};
    snprintf(spec, sizeof(spec), "vol:vg/%s", name);
    if (rv_block_open(spec, &o, &b))
        die(spec);
    return b;
}

/* The child: endless random steps. */
static void child(int fd, uint64_t seed)
{
    static uint8_t buf[MAXW];
    rng = seed;
    struct rv_block *b[NDATA] = {open_lv("lin"), open_lv("str"), open_lv("thin")};
    for (;;) {
        struct msg m = {.op = (uint32_t)(rnd() % 11), .lv = (uint32_t)(rnd() % NDATA),
                        .tmp = (uint32_t)(rnd() % NTMP), .seed = rnd()};
        m.op = m.op < 5 ? OP_WRITE : m.op < 10 ? m.op - 5 : OP_SHRINK;
        if (m.op == OP_SHRINK)
            m.lv = 2; /* the thin LV: its chunks past the new end go back to the pool */
        uint64_t size = rv_block_size(b[m.lv]);
        m.len = 512 * (1 + rnd() % (MAXW / 512));
        m.off = 512 * (rnd() % ((size - m.len) / 512 + 1));
        m.size = size + (m.lv == 1 ? 2 : 1) * EXTENT;
        if (m.op == OP_SHRINK)
            m.size = size > LVSIZE / 2 ? size - EXTENT : size;
        char name[16];
        snprintf(name, sizeof(name), "t%u", m.tmp);
        say(fd, &m);
        int rc = 0;
        if (m.op == OP_WRITE) {
            pattern(buf, m.len, m.seed);
            struct iovec v = {buf, m.len};
            rc = rv_block_writev(b[m.lv], m.off, &v, 1);
            if (!rc)
                rc = rv_block_flush(b[m.lv]);
        } else if (m.op == OP_CREATE) {
            struct vol_lv_spec s = {.name = name, .type = VOL_LINEAR, .size = EXTENT * 3};
            rc = vol_lv_create(NULL, "vg", &s);
            rc = rc == -EEXIST || rc == -ENOSPC ? 0 : rc;
        } else if (m.op == OP_REMOVE) {
            rc = vol_lv_remove(NULL, "vg", name);
            rc = rc == -ENOENT ? 0 : rc;
        } else if (m.op == OP_GROW) {
            rc = m.size > 4 * LVSIZE ? -ENOSPC
                                     : vol_lv_resize(NULL, "vg", data_lv[m.lv], m.size, false);
            if (rc == -ENOSPC || rc == -EBUSY) /* no room, or a pv-move to finish first */
                m.size = rc = 0;                 /* refused: no change */
        } else if (m.op == OP_SHRINK) {
            rv_block_close(b[m.lv]); /* shrinking needs an LV nobody uses */
            rc = vol_lv_resize(NULL, "vg", data_lv[m.lv], m.size, true);
            b[m.lv] = open_lv(data_lv[m.lv]);
        } else {
            bool online = m.seed & 1; /* online: the LV stays open (its watcher follows) */
            if (!online)
                rv_block_close(b[m.lv]);
            rc = vol_pv_move(NULL, "vg", pvname[m.tmp % NPV], NULL, data_lv[m.lv]);
            rc = rc == -ENOENT || rc == -ENOSPC || rc == -EBUSY ? 0 : rc; /* EBUSY: thin pool */
            if (!online)
                b[m.lv] = open_lv(data_lv[m.lv]);
        }
        if (rc)
            die("step");
        m.done = 1;
        say(fd, &m);
    }
}

static void model_grow(int lv, uint64_t size)
{
    if (size <= msize[lv])
        return;
    model[lv] = realloc(model[lv], size);
    memset(model[lv] + msize[lv], 0, size - msize[lv]);
    msize[lv] = size;
}

/* Checks LV `lv` against the model; the write in flight (if any) may be there or not, per
 * sector. Afterwards the model holds what the disk holds. */
static void verify(int lv, const struct msg *inflight)
{
    struct rv_block *b = open_lv(data_lv[lv]);
    uint64_t size = rv_block_size(b);
    bool grow = inflight && inflight->op == OP_GROW && inflight->lv == (uint32_t)lv;
    bool shrink = inflight && inflight->op == OP_SHRINK && inflight->lv == (uint32_t)lv;
    CHECK(size == msize[lv] || ((grow || shrink) && size == inflight->size));
    model_grow(lv, size);
    uint8_t *disk = malloc(size), *neu = NULL;
    struct iovec v = {disk, size};
    CHECK(rv_block_readv(b, 0, &v, 1) == 0);
    if (inflight && inflight->op == OP_WRITE && inflight->lv == (uint32_t)lv) {
        neu = malloc(inflight->len);
        pattern(neu, inflight->len, inflight->seed);
    }
    unsigned bad = 0;
    for (uint64_t s = 0; s < size; s += 512) {
        bool ok = memcmp(disk + s, model[lv] + s, 512) == 0;
        if (!ok && neu && s >= inflight->off && s < inflight->off + inflight->len)
            ok = memcmp(disk + s, neu + (s - inflight->off), 512) == 0;
        static const uint8_t zero[512];
        if (!ok && shrink && s >= inflight->size) /* the pool gave the chunks back first */
            ok = memcmp(disk + s, zero, 512) == 0;
        bad += !ok;
    }
    CHECK_EQ(bad, 0);
    memcpy(model[lv], disk, size);
    msize[lv] = size;
    free(neu);
    free(disk);
    rv_block_close(b);
}

static void apply(const struct msg *m)
{
    if (m->op == OP_WRITE) {
        pattern(model[m->lv] + m->off, m->len, m->seed);
    } else if (m->op == OP_GROW) {
        model_grow((int)m->lv, m->size);
    } else if (m->op == OP_SHRINK) {
        msize[m->lv] = m->size; /* growing again shows zeros (model_grow) */
    }
}

static void setup(void)
{
    char path[128];
    snprintf(dir, sizeof(dir), "/tmp/vol_crash.XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(path, sizeof(path), "%s/devices", dir);
    setenv("RVISOR_VOL_DEVICES", path, 1);
    const char *pvs[NPV];
    for (int i = 0; i < NPV; i++) {
        snprintf(pvname[i], sizeof(pvname[i]), "%s/pv%d", dir, i);
        FILE *f = fopen(pvname[i], "w");
        if (!f || ftruncate(fileno(f), PV_SIZE) < 0)
            die("PV file");
        fclose(f);
        if (vol_pv_create(NULL, pvname[i], 256 << 10))
            die("pv-create");
        pvs[i] = pvname[i];
    }
    struct vol_lv_spec lin = {.name = "lin", .type = VOL_LINEAR, .size = LVSIZE};
    struct vol_lv_spec str = {.name = "str", .type = VOL_STRIPED, .size = LVSIZE, .stripes = 2,
                              .stripe_size = 16 << 10};
    if (vol_vg_create(NULL, "vg", EXTENT, pvs, NPV) || vol_lv_create(NULL, "vg", &lin) ||
        vol_lv_create(NULL, "vg", &str) ||
        vol_thin_pool_create(NULL, "vg", "pool", 6 * LVSIZE, 16 << 10, 0) ||
        vol_thin_create(NULL, "vg", "thin", "pool", LVSIZE))
        die("setup");
    for (int i = 0; i < NDATA; i++)
        model_grow(i, LVSIZE);
    /* lin gets a pattern, then a snapshot in the pool: lin's writes copy its old chunks into
     * the snapshot first, which must read the pattern whenever the writer dies. */
    struct rv_block *b = open_lv("lin");
    pattern(model[0], LVSIZE, 0x5eed);
    struct iovec v = {model[0], LVSIZE};
    if (rv_block_writev(b, 0, &v, 1) || rv_block_flush(b))
        die("pattern");
    rv_block_close(b);
    if (vol_snapshot_create(NULL, "vg", "lin", "lsnap", "pool"))
        die("snapshot");
    snap_model = malloc(LVSIZE);
    memcpy(snap_model, model[0], LVSIZE);
}

static void verify_snapshot(void)
{
    static uint8_t disk[LVSIZE];
    struct rv_block *b;
    struct rv_block_opts o = {.format = RV_BLOCK_AUTO, .readonly = true};
    if (rv_block_open("vol:vg/lsnap", &o, &b))
        die("open lsnap");
    struct iovec v = {disk, LVSIZE};
    CHECK_EQ(rv_block_size(b), LVSIZE);
    CHECK(rv_block_readv(b, 0, &v, 1) == 0);
    CHECK(memcmp(disk, snap_model, LVSIZE) == 0);
    rv_block_close(b);
}

static void report(void *ctx, const char *msg)
{
    (void)ctx;
    if (strncmp(msg, "error", 5) == 0)
        fprintf(stderr, "  check: %s\n", msg);
}

/* One round: run the child, kill it, collect its messages, check. Returns the op in flight. */
static int round_once(uint64_t seed)
{
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        child(p[1], seed);
    }
    close(p[1]);
    unsigned want = (unsigned)(rnd() % 40);
    struct msg m, last = {.done = 1};
    for (unsigned got = 0; got < want && read(p[0], &m, sizeof(m)) == sizeof(m); got++) {
        if (m.done)
            apply(&m);
        last = m;
    }
    usleep((useconds_t)(rnd() % 4000));
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status)); /* it was still working, not dead of an error */
    while (read(p[0], &m, sizeof(m)) == sizeof(m)) {
        if (m.done)
            apply(&m);
        last = m;
    }
    close(p[0]);
    struct vol_check_result res;
    CHECK(vol_check(NULL, "vg", false, report, NULL, &res) == 0);
    CHECK_EQ(res.errors, 0);
    const struct msg *inflight = last.done ? NULL : &last;
    for (int i = 0; i < NDATA; i++)
        verify(i, inflight);
    verify_snapshot();
    return inflight ? (int)inflight->op : -1;
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 100;
    rng = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x1234567ull;
    setup();
    unsigned hits[NOPS + 1] = {0};
    for (unsigned r = 0; r < rounds; r++) {
        int op = round_once(rnd());
        hits[op < 0 ? NOPS : op]++;
    }
    printf("killed during: write %u, lv-create %u, lv-remove %u, lv-resize %u, pv-move %u, "
           "thin shrink %u, between steps %u\n", hits[OP_WRITE], hits[OP_CREATE],
           hits[OP_REMOVE], hits[OP_GROW], hits[OP_MOVE], hits[OP_SHRINK], hits[NOPS]);
    struct vol_check_result res;
    CHECK(vol_check(NULL, "vg", true, report, NULL, &res) == 0);
    CHECK_EQ(res.errors, 0);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "vol_crash: could not remove %s\n", dir);
    for (int i = 0; i < NDATA; i++)
        free(model[i]);
    free(snap_model);
    TEST_MAIN_END();
}
