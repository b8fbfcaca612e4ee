/* VM state: the stream format (records, CRCs, end marker), snapshots of a running bare-metal
 * program (compressed and mappable) restored into new VMs with equal RAM and registers and a
 * program that goes on from where it was, and snapshot files that are corrupted, truncated, of
 * an unknown version or with out-of-range values, which restore must reject with a message. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/error.h"
#include "core/serial.h"
#include "machine/vm_internal.h"
#include "rvisor/state.h"
#include "state/ram.h"
#include "state/stream.h"
#include "test.h"

/* auipc t0, 0x100; loop: addi t1, t1, 1; sd t1, 0(t0); j loop -- a counter at 0x80100000. */
static const uint32_t program[] = {0x00100297, 0x00130313, 0x0062b023, 0xff9ff06f};
#define COUNTER_OFF 0x100000u

static char dir[64];
static char bios[128];

struct runner {
    struct rv_vm *vm;
    pthread_t t;
    int status;
};

static void *run_thread(void *arg)
{
    struct runner *r = arg;
    r->status = rv_vm_run(r->vm);
    return NULL;
}

static void start(struct runner *r, struct rv_vm *vm)
{
    r->vm = vm;
    pthread_create(&r->t, NULL, run_thread, r);
}

static void stop(struct runner *r)
{
    rv_vm_kill(r->vm);
    pthread_join(r->t, NULL);
    rv_vm_destroy(r->vm);
}

static uint64_t counter(struct rv_vm *vm)
{
    return __atomic_load_n((uint64_t *)(void *)(vm->bus.ram + COUNTER_OFF), __ATOMIC_RELAXED);
}

/* Waits (without a time limit that could fail on a slow machine: the harness has one) until
 * the program has counted past `v`. */
static void wait_past(struct rv_vm *vm, uint64_t v)
{
    while (counter(vm) <= v)
        usleep(1000);
}

static struct rv_vm *new_vm(enum rv_accel accel)
{
    struct rv_vm_config cfg = {.bios = bios, .ram_size = 16ull << 20, .console_in_fd = -1,
                               .console_out_fd = -1, .accel = accel};
    struct rv_vm *vm = NULL;
    CHECK_EQ(rv_vm_create(&cfg, &vm), 0);
    return vm;
}

static int restore(const char *path, bool clone, struct rv_vm **vm)
{
    struct rv_restore_opts o = {.path = path, .console_in_fd = -1, .console_out_fd = -1,
                                .clone = clone};
    *vm = NULL;
    return rv_vm_restore(&o, vm, NULL);
}

static int snapshot(struct rv_vm *vm, const char *path, bool mappable)
{
    struct rv_snapshot_opts o = {.path = path, .mappable = mappable};
    return rv_vm_snapshot(vm, &o, NULL);
}

static void check_same(struct rv_vm *a, struct rv_vm *b)
{
    CHECK(memcmp(a->bus.ram, b->bus.ram, a->bus.ram_size) == 0);
    CHECK_EQ(a->vcpus[0].hart->pc, b->vcpus[0].hart->pc);
    CHECK(memcmp(a->vcpus[0].hart->x, b->vcpus[0].hart->x, sizeof(a->vcpus[0].hart->x)) == 0);
}

static void test_snapshot_restore(enum rv_accel accel, char *path_a)
{
    char path_b[128], path_m[128];
    snprintf(path_a, 128, "%s/a.rvs", dir);
    snprintf(path_b, sizeof(path_b), "%s/b.rvs", dir);
    snprintf(path_m, sizeof(path_m), "%s/m.rvs", dir);
    struct runner r;
    start(&r, new_vm(accel));
    wait_past(r.vm, 1000);
    CHECK(snapshot(r.vm, path_a, false) == -EBUSY); /* running */
    CHECK_EQ(rv_vm_pause(r.vm), 0);
    uint64_t saved = counter(r.vm);
    CHECK_EQ(snapshot(r.vm, path_a, false), 0);
    CHECK_EQ(snapshot(r.vm, path_b, false), 0);
    CHECK_EQ(snapshot(r.vm, path_m, true), 0);
    struct rv_vm *va, *vb, *vm, *none;
    CHECK_EQ(restore(path_a, false, &va), 0);
    CHECK_EQ(restore(path_b, false, &vb), 0);
    CHECK_EQ(restore(path_m, true, &vm), 0);
    CHECK(restore(path_a, true, &none) != 0); /* clones need a mappable file */
    CHECK(none == NULL && strstr(rv_error_get(), "mappable") != NULL);
    CHECK(va && vb && vm);
    if (!va || !vb || !vm) {
        stop(&r);
        return;
    }
    check_same(r.vm, va); /* saved twice: equal RAM */
    check_same(r.vm, vb);
    check_same(r.vm, vm);
    CHECK_EQ(counter(va), saved);
    stop(&r);
    /* The restored programs go on counting from the saved value. */
    struct runner ra, rm;
    start(&ra, va);
    start(&rm, vm);
    wait_past(va, saved + 1000);
    wait_past(vm, saved + 1000);
    CHECK(counter(va) > saved);
    stop(&ra);
    stop(&rm);
    rv_vm_destroy(vb);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len);
    if (b && fread(b, 1, *len, f) != *len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static void write_all(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, len, f);
        fclose(f);
    }
}

/* Must fail with a message, and leave nothing behind (ASan checks the leaks). */
static bool rejected(const char *path, const char *want)
{
    struct rv_vm *vm;
    int rc = restore(path, false, &vm);
    if (rc == 0) {
        rv_vm_destroy(vm);
        return false;
    }
    return vm == NULL && strlen(rv_error_get()) > 0 && (!want || strstr(rv_error_get(), want));
}

/* Bit flips and truncations at random offsets (seed printed; RV_TEST_SEED=N repeats a run). */
static void random_corruption(uint8_t *b, size_t len, const char *bad)
{
    const char *env = getenv("RV_TEST_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);
    printf("random corruption: seed %u (RV_TEST_SEED=%u repeats it)\n", seed, seed);
    srand(seed);
    unsigned ok = 0, n = 20;
    for (unsigned i = 0; i < n; i++) {
        size_t pos = ((size_t)rand() << 16 ^ (size_t)rand()) % len;
        uint8_t bit = (uint8_t)(1u << (rand() % 8));
        b[pos] ^= bit;
        write_all(bad, b, len);
        b[pos] ^= bit;
        bool rej = rejected(bad, NULL);
        write_all(bad, b, pos);
        rej = rej && rejected(bad, NULL);
        if (!rej)
            printf("  not rejected: bit flip or truncation at byte %zu\n", pos);
        ok += rej;
    }
    CHECK_EQ(ok, n);
}

static void test_corruption(const char *good)
{
    size_t len;
    uint8_t *b = read_all(good, &len);
    CHECK(b != NULL && len > 1000);
    if (!b)
        return;
    char bad[128];
    snprintf(bad, sizeof(bad), "%s/bad.rvs", dir);
    unsigned flips = 0, flips_ok = 0, cuts = 0, cuts_ok = 0;
    for (size_t pos = 0; pos < len; pos += len / 97 + 1) {
        b[pos] ^= 0x20;
        write_all(bad, b, len);
        b[pos] ^= 0x20;
        flips++;
        flips_ok += rejected(bad, NULL);
    }
    CHECK_EQ(flips_ok, flips);
    for (size_t cut = 0; cut < len; cut += len / 61 + 1) {
        write_all(bad, b, cut);
        cuts++;
        cuts_ok += rejected(bad, NULL);
    }
    write_all(bad, b, len - 1);
    CHECK(rejected(bad, "truncated"));
    CHECK_EQ(cuts_ok, cuts);
    random_corruption(b, len, bad);
    /* Version 2 with a correct header checksum. */
    b[8] = 2;
    uint32_t crc = rv_crc32(b, 28);
    memcpy(b + 28, &crc, 4);
    write_all(bad, b, len);
    CHECK(rejected(bad, "unsupported format version 2"));
    free(b);
}

/* A well-formed stream whose configuration asks for 99 harts. */
static void test_out_of_range(void)
{
    char bad[128];
    snprintf(bad, sizeof(bad), "%s/range.rvs", dir);
    FILE *f = fopen(bad, "wb");
    struct rv_stream s;
    rv_stream_init_fd(&s, fileno(f), "test");
    CHECK_EQ(rv_stream_write_header(&s, 0), 0);
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    rv_put_u32(&w, 1);
    rv_put_u64(&w, 16ull << 20);
    rv_put_u32(&w, 99);
    rv_put_u8(&w, 0);
    rv_put_u8(&w, 0);
    rv_put_u32(&w, 0xffffffffu);
    rv_put_u32(&w, 0xffffffffu);
    rv_put_u32(&w, 0xffffffffu);
    rv_put_u32(&w, (uint32_t)strlen(bios));
    rv_put_bytes(&w, bios, strlen(bios));
    rv_put_u32(&w, 0xffffffffu);
    rv_put_u32(&w, 0);
    rv_put_u32(&w, 0);
    CHECK_EQ(rv_stream_write_record(&s, RV_SEC_CONFIG, 1, w.buf, w.len), 0);
    CHECK_EQ(rv_stream_write_end(&s), 0);
    rv_state_writer_free(&w);
    fclose(f);
    CHECK(rejected(bad, "out of range"));
}

/* Records through a memory stream; the end marker counts them; an unknown section. */
static void test_stream(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/s.bin", dir);
    FILE *f = fopen(path, "wb");
    struct rv_stream s;
    rv_stream_init_fd(&s, fileno(f), "test");
    CHECK_EQ(rv_stream_write_header(&s, RV_STREAM_F_MAPPABLE), 0);
    CHECK_EQ(rv_stream_write_record(&s, RV_SEC_CLOCK, 1, "12345678", 8), 0);
    CHECK_EQ(rv_stream_write_record(&s, 77, 1, "x", 1), 0);
    CHECK_EQ(rv_stream_write_end(&s), 0);
    fclose(f);
    size_t len;
    uint8_t *b = read_all(path, &len);
    CHECK_EQ(len, RV_STREAM_HEADER_SIZE + 3 * RV_STREAM_RECORD_SIZE + 8 + 1 + 8);
    struct rv_stream in;
    struct rv_record rec;
    rv_stream_init_mem(&in, b, len, "mem");
    CHECK_EQ(rv_stream_read_header(&in), 0);
    CHECK_EQ(in.flags, RV_STREAM_F_MAPPABLE);
    CHECK_EQ(rv_stream_read_record(&in, &rec), 0);
    CHECK(rec.id == RV_SEC_CLOCK && rec.len == 8 && memcmp(rec.payload, "12345678", 8) == 0);
    free(rec.payload);
    CHECK(rv_stream_read_record(&in, &rec) != 0);
    CHECK(strstr(rv_error_get(), "unknown section 77") != NULL);
    free(b);
}

static uint8_t dest_pages[10][RV_PAGE_SIZE];

static void *page_dest(void *opaque, uint64_t index)
{
    uint64_t *seen = opaque;
    seen[0] += index;
    seen[1]++;
    memset(dest_pages[index], 0xaa, RV_PAGE_SIZE);
    return dest_pages[index];
}

/* A page batch with zero and non-zero pages; a page number out of range. */
static void test_pages(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/p.bin", dir);
    FILE *f = fopen(path, "wb");
    struct rv_stream s;
    rv_stream_init_fd(&s, fileno(f), "test");
    struct rv_page_writer *w;
    CHECK_EQ(rv_page_writer_new(&s, RV_SEC_RAM_PAGES, 0, 1, &w), 0);
    static uint8_t page[RV_PAGE_SIZE];
    CHECK_EQ(rv_page_writer_add(w, 3, page), 0);
    page[100] = 1;
    CHECK_EQ(rv_page_writer_add(w, 9, page), 0);
    CHECK_EQ(rv_page_writer_flush(w), 0);
    CHECK_EQ(rv_page_writer_zero_pages(w), 1);
    rv_page_writer_free(w);
    fclose(f);
    size_t len;
    uint8_t *b = read_all(path, &len);
    struct rv_stream in;
    struct rv_record rec;
    rv_stream_init_mem(&in, b, len, "mem");
    CHECK_EQ(rv_stream_read_record(&in, &rec), 0);
    uint64_t seen[2] = {0, 0};
    CHECK_EQ(rv_page_batch_apply(rec.payload, rec.len, 0, 10, page_dest, seen), 0);
    CHECK(seen[0] == 12 && seen[1] == 2);
    CHECK(rv_page_is_zero(dest_pages[3]));
    CHECK(memcmp(dest_pages[9], page, RV_PAGE_SIZE) == 0);
    CHECK(rv_page_batch_apply(rec.payload, rec.len, 0, 9, page_dest, seen) != 0);
    CHECK(rv_page_batch_apply(rec.payload, rec.len - 1, 0, 10, page_dest, seen) != 0);
    CHECK(rv_page_batch_apply(rec.payload, rec.len - 5, 0, 10, page_dest, seen) != 0);
    free(rec.payload);
    free(b);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/rvisor-test-state.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(bios, sizeof(bios), "%s/prog.bin", dir);
    write_all(bios, (const uint8_t *)program, sizeof(program));
    test_stream();
    test_pages();
    char good[128];
    test_snapshot_restore(RV_ACCEL_INTERP, good);
    test_snapshot_restore(RV_ACCEL_JIT, good);
    test_corruption(good);
    test_out_of_range();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_MAIN_END();
}
