/* Several users of one thin pool at once (docs/volumes.md, vol_thin_share.c): two child
 * processes write random data concurrently to two thin volumes of one pool (each write followed
 * by a flush, reported over a pipe) while the parent creates and removes other thin volumes of
 * the pool. Clean round: both run to the end; then `vol check` has nothing to say, no data
 * chunk belongs to two tables, pool usage is what the tables hold, and both volumes match their
 * models byte for byte. Crash rounds: both children are killed with SIGKILL at a random moment;
 * `vol check` finds no error, no chunk is in two tables, every acknowledged write is there (the
 * one in flight old or new per sector), and once the volumes have been opened and closed again
 * the crashed users' reservations are gone (check clean).
 *
 * usage: vol_thin_share [CRASH-ROUNDS [SEED]] */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
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

#define EXTENT (256u << 10)
#define CHUNK (16u << 10)
#define POOL (12u << 20)
#define VSIZE (4u << 20)
#define MAXW (48u << 10)
#define NV 2

struct msg {
    uint32_t done, discard;
    uint64_t off, len, seed;
};

static const char *vname[NV] = {"a", "b"};
static char dir[64];
static uint8_t *model[NV];
#include "vol_test_util.h"

static struct rv_block *open_lv(const char *name, bool ro)
{
    char spec[64];
    struct rv_block *b;
    struct rv_block_opts o = {.format = RV_BLOCK_AUTO, .readonly = ro};
    snprintf(spec, sizeof(spec), "vol:vg/%s", name);
    if (rv_block_open(spec, &o, &b))
        die(spec);
    return b;
}

static void say(int fd, const struct msg *m)
{
    if (write(fd, m, sizeof(*m)) != sizeof(*m))
        _exit(0);
}

/* A child: `ops` steps (0: until killed) of write or discard + flush on volume `v`. */
static void child(int fd, int v, uint64_t seed, unsigned ops)
{
    static uint8_t buf[MAXW];
    rng = seed;
    struct rv_block *b = open_lv(vname[v], false);
    for (unsigned i = 0; ops == 0 || i < ops; i++) {
        struct msg m = {.discard = rnd() % 8 == 0, .seed = rnd()};
        m.len = 512 * (1 + rnd() % (MAXW / 512));
        m.off = 512 * (rnd() % ((VSIZE - m.len) / 512 + 1));
        if (m.discard)
            m.off &= ~(uint64_t)(CHUNK - 1), m.len = CHUNK * (1 + rnd() % 3);
        say(fd, &m);
        int rc;
        if (m.discard) {
            rc = rv_block_discard(b, m.off, m.len);
        } else {
            pattern(buf, m.len, m.seed);
            struct iovec io = {buf, m.len};
            rc = rv_block_writev(b, m.off, &io, 1);
        }
        if (rc || (rc = rv_block_flush(b)))
            die("write");
        m.done = 1;
        say(fd, &m);
    }
    rv_block_close(b);
    _exit(0);
}

static void apply(int v, const struct msg *m)
{
    if (m->discard)
        memset(model[v] + m->off, 0, m->len);
    else
        pattern(model[v] + m->off, m->len, m->seed);
}

/* Reads what child `v` says; 0 at its end. `last` keeps the step in flight. */
static int drain(int fd, int v, struct msg *last)
{
    struct msg m;
    ssize_t n = read(fd, &m, sizeof(m));
    if (n != sizeof(m))
        return 0;
    if (m.done)
        apply(v, &m);
    *last = m;
    return 1;
}

static void report(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "  check: %s\n", msg);
}

static void check_vg(unsigned max_warnings)
{
    struct vol_check_result res;
    CHECK(vol_check(NULL, "vg", false, report, NULL, &res) == 0);
    CHECK_EQ(res.errors, 0);
    CHECK(res.warnings <= max_warnings);
}

/* No data chunk is in two tables (nothing shares: no snapshots here); returns chunks in use. */
static uint32_t check_tables(void)
{
    struct vol_vg *vg;
    struct vol_thin_pool *tp = NULL;
    if (vol_vg_open(NULL, "vg", VOL_OPEN_READ, &vg) ||
        vol_thin_pool_load(vg, vol_lv_find(vg, "pool"), &tp))
        die("load pool");
    uint32_t twice = 0, used = 0;
    for (uint32_t c = 0; c < tp->data_chunks; c++) {
        twice += tp->refs[c] > 1;
        used += tp->refs[c] > 0;
    }
    CHECK_EQ(twice, 0);
    vol_thin_pool_free(tp);
    vol_vg_close(vg);
    return used;
}

/* Volume `v` against its model; the step in flight may be old or new per sector. */
static void verify(int v, const struct msg *inflight)
{
    static uint8_t disk[VSIZE], neu[MAXW * 3];
    struct rv_block *b = open_lv(vname[v], true);
    struct iovec io = {disk, VSIZE};
    CHECK_EQ(rv_block_size(b), VSIZE);
    CHECK(rv_block_readv(b, 0, &io, 1) == 0);
    rv_block_close(b);
    if (inflight && !inflight->done && inflight->discard)
        memset(neu, 0, inflight->len);
    else if (inflight && !inflight->done)
        pattern(neu, inflight->len, inflight->seed);
    unsigned bad = 0;
    for (uint64_t s = 0; s < VSIZE; s += 512) {
        bool ok = memcmp(disk + s, model[v] + s, 512) == 0;
        if (!ok && inflight && !inflight->done && s >= inflight->off &&
            s < inflight->off + inflight->len)
            ok = memcmp(disk + s, neu + (s - inflight->off), 512) == 0;
        bad += !ok;
    }
    CHECK_EQ(bad, 0);
    memcpy(model[v], disk, VSIZE); /* the in-flight step settled one way or the other */
}

/* Both children at once; with `kill_after` > 0 they are killed after that many messages. */
static void round_once(unsigned ops, unsigned kill_after, bool pool_ops)
{
    int p[NV][2];
    pid_t pid[NV];
    for (int v = 0; v < NV; v++) {
        if (pipe(p[v]) < 0)
            die("pipe");
        uint64_t seed = rnd();
        if ((pid[v] = fork()) == 0) {
            close(p[v][0]);
            child(p[v][1], v, seed, ops);
        }
        close(p[v][1]);
    }
    struct msg last[NV] = {{.done = 1}, {.done = 1}};
    unsigned got = 0, live = NV, extra = 0;
    bool open[NV] = {true, true};
    while (live && (!kill_after || got < kill_after)) {
        struct pollfd pf[NV] = {{p[0][0], POLLIN, 0}, {p[1][0], POLLIN, 0}};
        if (poll(pf, NV, -1) < 0)
            continue;
        for (int v = 0; v < NV; v++) {
            if (!open[v] || !(pf[v].revents & (POLLIN | POLLHUP)))
                continue;
            if (drain(p[v][0], v, &last[v]))
                got++;
            else
                open[v] = false, live--;
        }
        if (pool_ops && got % 64 == 0) { /* pool operations while both write */
            char name[16];
            snprintf(name, sizeof(name), "x%u", extra++ % 3);
            if (vol_thin_create(NULL, "vg", name, "pool", 1 << 20))
                die("lv-create while in use");
            if (vol_lv_remove(NULL, "vg", name))
                die("lv-remove while in use");
        }
    }
    for (int v = 0; v < NV; v++) {
        int status;
        if (kill_after)
            kill(pid[v], SIGKILL);
        waitpid(pid[v], &status, 0);
        CHECK(kill_after ? WIFSIGNALED(status) : WIFEXITED(status) && !WEXITSTATUS(status));
        while (drain(p[v][0], v, &last[v]))
            ;
        close(p[v][0]);
    }
    check_vg(kill_after ? 2 : 0); /* a crashed user's reservation is a warning */
    check_tables();
    for (int v = 0; v < NV; v++)
        verify(v, &last[v]);
}

static void setup(void)
{
    char path[128], pv[2][128];
    snprintf(dir, sizeof(dir), "/tmp/vol_share.XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(path, sizeof(path), "%s/devices", dir);
    setenv("RVISOR_VOL_DEVICES", path, 1);
    const char *pvs[2];
    for (int i = 0; i < 2; i++) {
        snprintf(pv[i], sizeof(pv[i]), "%s/pv%d", dir, i);
        FILE *f = fopen(pv[i], "w");
        if (!f || ftruncate(fileno(f), 16 << 20) < 0 || fclose(f) || vol_pv_create(NULL, pv[i], 0))
            die("pv");
        pvs[i] = pv[i];
    }
    if (vol_vg_create(NULL, "vg", EXTENT, pvs, 2) ||
        vol_thin_pool_create(NULL, "vg", "pool", POOL, CHUNK, 0) ||
        vol_thin_create(NULL, "vg", "a", "pool", VSIZE) ||
        vol_thin_create(NULL, "vg", "b", "pool", VSIZE))
        die("setup");
    for (int v = 0; v < NV; v++)
        model[v] = calloc(1, VSIZE);
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 40;
    rng = argc > 2 ? strtoull(argv[2], NULL, 0) | 1 : 0x5eed5eedull;
    setup();
    round_once(400, 0, true); /* both to the end, pool operations meanwhile */
    uint32_t used = check_tables();
    CHECK(used > 0 && used <= POOL / CHUNK);
    for (unsigned r = 0; r < rounds; r++)
        round_once(0, 2 + (unsigned)(rnd() % 200), false);
    for (int v = 0; v < NV; v++) { /* a writer's first commit drops the dead reservations */
        struct rv_block *b = open_lv(vname[v], false);
        CHECK(rv_block_flush(b) == 0);
        rv_block_close(b);
    }
    check_vg(0);
    for (int v = 0; v < NV; v++)
        verify(v, NULL);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    for (int v = 0; v < NV; v++)
        free(model[v]);
    TEST_MAIN_END();
}
