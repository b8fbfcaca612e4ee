/* A classic snapshot read while its origin is written (docs/volumes.md, vol_thin_share.c:
 * vol_thin_follow_read): one child process writes (and discards) random ranges of a striped
 * origin, another reads random ranges of its snapshot, opened read-only, over and over; every
 * read must equal the origin's contents at snapshot time (the model). Both orders of opening
 * are tried. Clean rounds: the writer runs to its end, the origin then matches its model too.
 * Crash rounds: both are killed with SIGKILL at a random moment; the snapshot still reads as its
 * model from start to end and `vol check` finds no error. Refusals: a writable snapshot and a
 * merge while the origin is written, the origin while a writable snapshot is open. Last, a
 * snapshot whose small pool fills while a reader follows it: the reader never gets wrong data,
 * only errors once the snapshot is invalid.
 *
 * usage: vol_snap_follow [CRASH-ROUNDS [SEED]] */
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
#define OSIZE (8u << 20)
#define SMALL (2u << 20)
#define MAXW (40u << 10)

static char dir[64];
static uint8_t *origin_model, *snap_model;
#include "vol_test_util.h"

static int try_open(const char *name, bool ro, struct rv_block **b)
{
    char spec[64];
    struct rv_block_opts o = {.format = RV_BLOCK_AUTO, .readonly = ro};
    snprintf(spec, sizeof(spec), "vol:vg/%s", name);
    return rv_block_open(spec, &o, b);
}

static struct rv_block *open_lv(const char *name, bool ro)
{
    struct rv_block *b;
    if (try_open(name, ro, &b))
        die(name);
    return b;
}

/* One step of a writer: a write of a pattern, or (1 in 8) zeros. Applies it to `model`. */
static int step(struct rv_block *b, uint8_t *model, uint64_t size, uint8_t *buf)
{
    uint64_t len = 512 * (1 + rnd() % (MAXW / 512));
    uint64_t off = 512 * (rnd() % ((size - len) / 512 + 1)), seed = rnd();
    bool zero = seed % 8 == 0;
    if (zero)
        memset(model + off, 0, len);
    else
        pattern(model + off, len, seed);
    if (!b)
        return 0;
    if (zero)
        return rv_block_write_zeroes(b, off, len, true);
    memcpy(buf, model + off, len);
    struct iovec io = {buf, len};
    return rv_block_writev(b, off, &io, 1);
}

/* The writer: opens the origin, says so on `fd`, does `ops` steps (a flush every 8). */
static void writer(int fd, const char *name, uint64_t size, uint64_t seed, unsigned ops)
{
    static uint8_t buf[MAXW];
    uint8_t *scratch = malloc(size);
    struct rv_block *b = open_lv(name, false);
    if (!scratch || write(fd, "w", 1) != 1)
        _exit(1);
    rng = seed;
    for (unsigned i = 0; i < ops; i++)
        if (step(b, scratch, size, buf) || (i % 8 == 7 && rv_block_flush(b)))
            die("write");
    if (rv_block_flush(b))
        die("flush");
    rv_block_close(b);
    _exit(0);
}

/* The reader: opens the snapshot read-only, says so, then reads random ranges until a byte
 * arrives on `stop`; every read must equal the model. Exit: 0 all equal, 2 a mismatch, 3 a
 * read failed; with `expect_invalid`, failures are fine but data must still be right, and at
 * the end the snapshot must refuse to be read (exit 4 if it does not). */
static void reader(int fd, int stop, const char *name, uint64_t size, bool expect_invalid)
{
    static uint8_t buf[MAXW + CHUNK];
    struct rv_block *b = open_lv(name, true);
    if (write(fd, "r", 1) != 1)
        _exit(1);
    unsigned reads = 0, fails = 0;
    for (;;) {
        struct pollfd p = {.fd = stop, .events = POLLIN};
        if (poll(&p, 1, 0) > 0)
            break;
        uint64_t len = 512 * (1 + rnd() % (sizeof(buf) / 512));
        uint64_t off = 512 * (rnd() % ((size - len) / 512 + 1));
        struct iovec io = {buf, len};
        int rc = rv_block_readv(b, off, &io, 1);
        if (rc && !expect_invalid)
            die("read");
        fails += rc != 0;
        reads++;
        if (!rc && memcmp(buf, snap_model + off, len) != 0) {
            fprintf(stderr, "snapshot read at %" PRIu64 "+%" PRIu64 " differs\n", off, len);
            _exit(2);
        }
    }
    struct iovec io = {buf, 4096};
    if (expect_invalid && rv_block_readv(b, 0, &io, 1) == 0)
        _exit(4);
    fprintf(stderr, "  reader: %u reads (%u failed)\n", reads, fails);
    rv_block_close(b);
    _exit(reads ? 0 : 5);
}

static void report(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "  check: %s\n", msg);
}

static void check_vg(void)
{
    struct vol_check_result res;
    CHECK(vol_check(NULL, "vg", false, report, NULL, &res) == 0);
    CHECK_EQ(res.errors, 0);
}

static void verify(const char *name, const uint8_t *model, uint64_t size)
{
    struct rv_block *b = open_lv(name, true);
    uint8_t *buf = malloc(size);
    struct iovec io = {buf, size};
    CHECK(buf && rv_block_readv(b, 0, &io, 1) == 0);
    CHECK(buf && memcmp(buf, model, size) == 0);
    free(buf);
    rv_block_close(b);
}

static pid_t start(int *sync, void (*fn)(int, int), int stop)
{
    int p[2];
    if (pipe(p))
        die("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        fn(p[1], stop);
    }
    close(p[1]);
    char c;
    CHECK(read(p[0], &c, 1) == 1); /* it has opened its LV */
    *sync = p[0];
    return pid;
}

static uint64_t round_seed;
static unsigned round_ops;

static void run_writer(int fd, int stop)
{
    (void)stop;
    writer(fd, "o", OSIZE, round_seed, round_ops);
}

static void run_reader(int fd, int stop)
{
    rng = round_seed ^ 0xabcdef;
    reader(fd, stop, "s", OSIZE, false);
}

/* A new LV over the free extents, filled with 0xee. */
static void junk_fill(void)
{
    struct vol_lv_spec j = {.name = "junk", .type = VOL_LINEAR, .size = 12u << 20};
    CHECK(vol_lv_create(NULL, "vg", &j) == 0);
    struct rv_block *b = open_lv("junk", false);
    uint8_t *buf = malloc(j.size);
    memset(buf, 0xee, j.size);
    struct iovec io = {buf, j.size};
    CHECK(rv_block_writev(b, 0, &io, 1) == 0 && rv_block_flush(b) == 0);
    free(buf);
    rv_block_close(b);
}

static int reap(pid_t pid)
{
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One round; kill_us > 0: both are killed with SIGKILL after about that long; `move`: the
 * origin's stripe on pv0 moves to pv2 (online) meanwhile. */
static void round_once(bool writer_first, unsigned ops, unsigned kill_us, bool move)
{
    int stop[2], ws, rs;
    if (pipe(stop))
        die("pipe");
    round_seed = rnd();
    round_ops = ops;
    pid_t w = writer_first ? start(&ws, run_writer, -1) : 0;
    pid_t r = start(&rs, run_reader, stop[0]);
    if (!writer_first)
        w = start(&ws, run_writer, -1);
    if (kill_us) {
        usleep(kill_us);
        kill(rnd() & 1 ? w : r, SIGKILL);
        usleep(kill_us / 4);
        kill(w, SIGKILL);
        kill(r, SIGKILL);
        int wst = reap(w);
        CHECK(wst == 0 || wst == 128 + SIGKILL);
        CHECK_EQ(reap(r), 128 + SIGKILL); /* a reader that saw wrong data exits 2 */
    } else {
        struct rv_block *b;
        CHECK_EQ(try_open("s", false, &b), -EBUSY); /* no writable snapshot meanwhile */
        CHECK(vol_snapshot_merge(NULL, "vg", "s") != 0);
        char pv0[96], pv2[96];
        snprintf(pv0, sizeof(pv0), "%s/pv0", dir);
        snprintf(pv2, sizeof(pv2), "%s/pv2", dir);
        const char *add = pv2;
        if (move) /* online: the writer writes it */
            CHECK(vol_vg_extend(NULL, "vg", &add, 1) == 0 &&
                  vol_pv_move(NULL, "vg", pv0, pv2, "o") == 0);
        CHECK_EQ(reap(w), 0);
        if (move) { /* only the snapshot's reader uses it: online too, the reader follows */
            CHECK(vol_pv_move(NULL, "vg", pv2, pv0, "o") == 0);
            junk_fill(); /* the extents it left: a reader still there would see this */
        }
        uint64_t keep = rng;
        rng = round_seed;
        for (unsigned i = 0; i < ops; i++)
            step(NULL, origin_model, OSIZE, NULL);
        rng = keep;
        CHECK(write(stop[1], "s", 1) == 1);
        CHECK_EQ(reap(r), 0);
        verify("o", origin_model, OSIZE);
    }
    close(stop[0]), close(stop[1]), close(ws), close(rs);
    verify("s", snap_model, OSIZE);
    check_vg();
}

static void small_writer(int fd, int stop)
{
    (void)stop;
    struct rv_block *b = open_lv("o2", false);
    static uint8_t buf[64 << 10];
    if (write(fd, "w", 1) != 1)
        _exit(1);
    for (uint64_t off = 0; off < SMALL; off += sizeof(buf)) {
        pattern(buf, sizeof(buf), off + 7);
        struct iovec io = {buf, sizeof(buf)};
        if (rv_block_writev(b, off, &io, 1))
            die("write o2"); /* the origin carries on when its snapshot's pool is full */
    }
    rv_block_close(b);
    _exit(0);
}

static void small_reader(int fd, int stop)
{
    reader(fd, stop, "s2", SMALL, true);
}

/* A snapshot in a pool too small for the origin's changes becomes invalid while followed. */
static void invalid_round(void)
{
    pattern(snap_model, SMALL, 99);
    struct rv_block *b = open_lv("o2", false);
    struct iovec io = {snap_model, SMALL};
    CHECK(rv_block_writev(b, 0, &io, 1) == 0 && rv_block_flush(b) == 0);
    rv_block_close(b);
    CHECK(vol_snapshot_create(NULL, "vg", "o2", "s2", "p2") == 0);
    int stop[2], ws, rs;
    if (pipe(stop))
        die("pipe");
    pid_t r = start(&rs, small_reader, stop[0]);
    pid_t w = start(&ws, small_writer, -1);
    CHECK_EQ(reap(w), 0);
    CHECK(write(stop[1], "s", 1) == 1);
    CHECK_EQ(reap(r), 0);
    CHECK(try_open("s2", true, &b) != 0);
    close(stop[0]), close(stop[1]), close(ws), close(rs);
    check_vg();
}

static void setup(void)
{
    char path[128], pv[3][128];
    snprintf(dir, sizeof(dir), "/tmp/vol_follow.XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(path, sizeof(path), "%s/devices", dir);
    setenv("RVISOR_VOL_DEVICES", path, 1);
    const char *pvs[3];
    for (int i = 0; i < 3; i++) {
        snprintf(pv[i], sizeof(pv[i]), "%s/pv%d", dir, i);
        FILE *f = fopen(pv[i], "w");
        if (!f || ftruncate(fileno(f), 24 << 20) < 0 || fclose(f) || vol_pv_create(NULL, pv[i], 0))
            die("pv");
        pvs[i] = pv[i];
    }
    struct vol_lv_spec o = {.name = "o", .type = VOL_STRIPED, .size = OSIZE, .stripes = 2,
                            .stripe_size = 64 << 10};
    struct vol_lv_spec o2 = {.name = "o2", .type = VOL_LINEAR, .size = SMALL};
    if (vol_vg_create(NULL, "vg", EXTENT, pvs, 2) || vol_lv_create(NULL, "vg", &o) ||
        vol_lv_create(NULL, "vg", &o2) ||
        vol_thin_pool_create(NULL, "vg", "pool", OSIZE + (2u << 20), CHUNK, 0) ||
        vol_thin_pool_create(NULL, "vg", "p2", SMALL / 4, CHUNK, 0))
        die("setup");
    origin_model = malloc(OSIZE);
    snap_model = malloc(OSIZE);
    pattern(origin_model, OSIZE, 12345);
    struct rv_block *b = open_lv("o", false);
    struct iovec io = {origin_model, OSIZE};
    if (rv_block_writev(b, 0, &io, 1) || rv_block_flush(b))
        die("fill");
    rv_block_close(b);
    if (vol_snapshot_create(NULL, "vg", "o", "s", "pool"))
        die("snapshot");
    memcpy(snap_model, origin_model, OSIZE);
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 20;
    rng = argc > 2 ? strtoull(argv[2], NULL, 0) | 1 : 0xf011011ull;
    setup();
    struct rv_block *s, *o;
    CHECK(try_open("s", false, &s) == 0); /* a writable snapshot keeps the origin's writers out */
    CHECK_EQ(try_open("o", false, &o), -EBUSY);
    rv_block_close(s);
    round_once(false, 150, 0, false); /* the snapshot's reader first, then the origin's writer */
    round_once(true, 150, 0, false);  /* the other way round */
    round_once(true, 3000, 0, true);  /* a pv-move of the origin meanwhile */
    for (unsigned i = 0; i < rounds; i++)
        round_once(rnd() & 1, 400, 20000 + (unsigned)(rnd() % 200000), false);
    invalid_round();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(origin_model);
    free(snap_model);
    TEST_MAIN_END();
}
