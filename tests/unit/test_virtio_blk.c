/* virtio-blk: --disk parsing, configuration and features, every request type with good and
 * bad arguments, malformed requests, I/O errors, reset with a request in flight, pause/resume
 * and save/load. The block backend is a fake memory disk defined here (it replaces block/ at
 * link time), which also lets the tests see exactly what the device asked of it and hold a
 * request inside the backend. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/serial.h"
#include "dev/virtio_blk.h"
#include "test.h"
#include "virtio_driver.h"

/* --- the fake backend --- */

struct rv_block {
    uint8_t *data;
    uint64_t size;
    struct rv_block_opts opts;
    bool can_discard;
    int fail;                       /* next calls fail with this errno */
    unsigned flushes, discards, zeroes;
    uint64_t last_off, last_len;
    bool last_unmap;
    pthread_mutex_t gate_lock;      /* holding readv inside the backend */
    pthread_cond_t gate_cond;
    bool gate_closed, in_read;
    const bool *watch;              /* read when the gate lets a read go on ... */
    bool watch_at_release;          /* ... into here */
};

static struct {
    uint64_t size;
    bool can_discard, readonly;
    struct rv_block *last;
} fake = {1 << 20, true, false, NULL};

int rv_block_open(const char *path, const struct rv_block_opts *opts, struct rv_block **out)
{
    if (strcmp(path, "disk.img") != 0)
        return rv_error_set(-ENOENT, "%s: No such file or directory", path);
    struct rv_block *b = calloc(1, sizeof(*b));
    b->size = fake.size;
    b->data = calloc(1, fake.size);
    b->opts = *opts;
    b->opts.readonly |= fake.readonly;
    b->can_discard = fake.can_discard;
    pthread_mutex_init(&b->gate_lock, NULL);
    pthread_cond_init(&b->gate_cond, NULL);
    fake.last = b;
    *out = b;
    return 0;
}

void rv_block_close(struct rv_block *b)
{
    pthread_mutex_destroy(&b->gate_lock);
    pthread_cond_destroy(&b->gate_cond);
    free(b->data);
    free(b);
}

uint64_t rv_block_size(const struct rv_block *b)
{
    return b->size;
}

bool rv_block_readonly(const struct rv_block *b)
{
    return b->opts.readonly;
}

bool rv_block_can_discard(const struct rv_block *b)
{
    return b->can_discard;
}

static int fake_check(struct rv_block *b, uint64_t off, uint64_t len)
{
    if (b->fail)
        return rv_error_set(-b->fail, "injected failure");
    if (off > b->size || len > b->size - off)
        return rv_error_set(-EIO, "out of range (the device should have caught it)");
    b->last_off = off;
    b->last_len = len;
    return 0;
}

int rv_block_readv(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    pthread_mutex_lock(&b->gate_lock);
    b->in_read = true;
    pthread_cond_broadcast(&b->gate_cond);
    while (b->gate_closed)
        pthread_cond_wait(&b->gate_cond, &b->gate_lock);
    b->in_read = false;
    if (b->watch)
        b->watch_at_release = __atomic_load_n(b->watch, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&b->gate_lock);
    uint64_t len = 0;
    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    int rc = fake_check(b, offset, len);
    for (int i = 0; !rc && i < iovcnt; offset += iov[i].iov_len, i++)
        memcpy(iov[i].iov_base, b->data + offset, iov[i].iov_len);
    return rc;
}

int rv_block_writev(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    uint64_t len = 0;
    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    int rc = fake_check(b, offset, len);
    for (int i = 0; !rc && i < iovcnt; offset += iov[i].iov_len, i++)
        memcpy(b->data + offset, iov[i].iov_base, iov[i].iov_len);
    return rc;
}

/* The fake disk never changes size (the real one would write into its own struct). */
void rv_block_set_resize_handler(struct rv_block *b, void (*fn)(void *ctx, uint64_t size),
                                 void *ctx)
{
    (void)b, (void)fn, (void)ctx;
}

int rv_block_flush(struct rv_block *b)
{
    b->flushes++;
    return b->fail ? rv_error_set(-b->fail, "injected failure") : 0;
}

int rv_block_discard(struct rv_block *b, uint64_t offset, uint64_t len)
{
    int rc = fake_check(b, offset, len);
    if (!rc)
        b->discards++;
    return rc;
}

int rv_block_write_zeroes(struct rv_block *b, uint64_t offset, uint64_t len, bool may_unmap)
{
    int rc = fake_check(b, offset, len);
    if (!rc) {
        memset(b->data + offset, 0, len);
        b->zeroes++;
        b->last_unmap = may_unmap;
    }
    return rc;
}

void rv_block_id(const struct rv_block *b, char id[20])
{
    (void)b;
    memcpy(id, "fake-disk-0123456789", 20);
}

static void gate(struct rv_block *b, bool closed)
{
    pthread_mutex_lock(&b->gate_lock);
    b->gate_closed = closed;
    pthread_cond_broadcast(&b->gate_cond);
    pthread_mutex_unlock(&b->gate_lock);
}

static void wait_in_read(struct rv_block *b)
{
    pthread_mutex_lock(&b->gate_lock);
    while (!b->in_read)
        pthread_cond_wait(&b->gate_cond, &b->gate_lock);
    pthread_mutex_unlock(&b->gate_lock);
}

/* --- the rig --- */

#define SECTORS ((1u << 20) / 512)
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define F_BASE (1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_INDIRECT_DESC | \
                1ull << VIRTIO_F_RING_EVENT_IDX)

static struct rv_virtio_blk *rig_create(struct vdrv *d, const char *spec)
{
    struct rv_irq irq = vd_rv_irq(d);
    struct rv_virtio_blk *b = NULL;
    CHECK_EQ(rv_virtio_blk_create(&d->map, NULL, VD_BASE, &irq, &d->dev_lock, &d->bus, spec, &b),
             0);
    CHECK(vd_attach(d));
    return b;
}

static struct rv_virtio_blk *rig(struct vdrv *d, const char *spec)
{
    CHECK(vd_init(d));
    return rig_create(d, spec);
}

static bool ready_n(struct vdrv *d, uint16_t num)
{
    uint64_t f = vd_device_features(d) & ~(1ull << 5); /* all offered but RO */
    return (vd_setup(d, f | F_BASE, 1, num) & VS_DRIVER_OK) != 0;
}

static bool ready(struct vdrv *d)
{
    return ready_n(d, 64);
}

/* Builds a request (header, optional data, status byte) and publishes it; `in` says the device
 * writes the data. Returns the guest address of the status byte. */
static uint64_t submit(struct vdrv *d, uint32_t type, uint64_t sector, uint64_t data,
                       uint32_t len, bool in)
{
    uint64_t hdr = vd_alloc(d, 16, 8), status = vd_alloc(d, 1, 1);
    uint8_t *h = vd_ptr(d, hdr);
    memcpy(h, &type, 4);
    memcpy(h + 8, &sector, 8);
    *(uint8_t *)vd_ptr(d, status) = 0xff;
    struct vd_seg s[3] = {{hdr, 16, false}, {data, len, in}, {status, 1, true}};
    if (len) {
        vd_submit(d, 0, s, 3);
    } else {
        s[1] = s[2];
        vd_submit(d, 0, s, 2);
    }
    return status;
}

/* Runs one request; returns its status byte (or 0xee if it never completed). */
static unsigned run(struct vdrv *d, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
                    bool in, uint32_t *used_len)
{
    uint64_t status = submit(d, type, sector, data, len, in);
    vd_kick(d, 0);
    uint32_t id, used;
    if (!vd_wait_used(d, 0, &id, &used))
        return 0xee;
    if (used_len)
        *used_len = used;
    return *(uint8_t *)vd_ptr(d, status);
}

/* A discard/write-zeroes range list in guest RAM. */
static uint64_t ranges(struct vdrv *d, unsigned n, const uint64_t *sector, const uint32_t *num,
                       const uint32_t *flags)
{
    uint64_t g = vd_alloc(d, 16ull * n, 8);
    uint8_t *p = vd_ptr(d, g);
    for (unsigned i = 0; i < n; i++) {
        memcpy(p + 16 * i, &sector[i], 8);
        memcpy(p + 16 * i + 8, &num[i], 4);
        memcpy(p + 16 * i + 12, &flags[i], 4);
    }
    return g;
}

/* --- tests --- */

static void test_parse(void)
{
    char *path;
    struct rv_block_opts o;
    CHECK_EQ(rv_virtio_blk_parse_spec("a.img", &path, &o), 0);
    CHECK(!strcmp(path, "a.img") && o.format == RV_BLOCK_AUTO && !o.readonly &&
          o.cache == RV_CACHE_WRITEBACK);
    free(path);
    CHECK_EQ(rv_virtio_blk_parse_spec("/x/b,,c.qcow2,format=qcow2,readonly,cache=none", &path,
                                      &o), 0);
    CHECK(!strcmp(path, "/x/b,c.qcow2") && o.format == RV_BLOCK_QCOW2 && o.readonly &&
          o.cache == RV_CACHE_NONE);
    free(path);
    CHECK_EQ(rv_virtio_blk_parse_spec("d,cache=unsafe,format=raw", &path, &o), 0);
    CHECK(o.cache == RV_CACHE_UNSAFE && o.format == RV_BLOCK_RAW);
    free(path);
    CHECK_EQ(rv_virtio_blk_parse_spec("d,iops=250,bw=8M", &path, &o), 0);
    CHECK(o.iops == 250 && o.bps == 8u << 20);
    free(path);
    CHECK_EQ(rv_virtio_blk_parse_spec("d,iops=0", &path, &o), -EINVAL);
    CHECK_EQ(rv_virtio_blk_parse_spec("d,bw=fast", &path, &o), -EINVAL);
    CHECK(strstr(rv_error_get(), "bw=fast") != NULL);
    CHECK_EQ(rv_virtio_blk_parse_spec("d,iops=1k", &path, &o), -EINVAL);
    CHECK_EQ(rv_virtio_blk_parse_spec("d,bogus=1", &path, &o), -EINVAL);
    CHECK(path == NULL && strstr(rv_error_get(), "'bogus'"));
    CHECK_EQ(rv_virtio_blk_parse_spec("d,format=vmdk", &path, &o), -EINVAL);
    CHECK(strstr(rv_error_get(), "vmdk") != NULL);
    CHECK_EQ(rv_virtio_blk_parse_spec("d,cache=directsync", &path, &o), -EINVAL);
    CHECK_EQ(rv_virtio_blk_parse_spec("d,readonly,readonly", &path, &o), -EINVAL);
    CHECK(strstr(rv_error_get(), "twice") != NULL);
    CHECK_EQ(rv_virtio_blk_parse_spec("d,readonly=on", &path, &o), -EINVAL);
    CHECK_EQ(rv_virtio_blk_parse_spec("d,format", &path, &o), -EINVAL);
    CHECK_EQ(rv_virtio_blk_parse_spec("d,", &path, &o), -EINVAL);
    CHECK_EQ(rv_virtio_blk_parse_spec(",format=raw", &path, &o), -EINVAL);
    CHECK_EQ(rv_virtio_blk_parse_spec("", &path, &o), -EINVAL);
    /* creation refuses bad specs and missing images without attaching anything */
    struct vdrv d;
    CHECK(vd_init(&d));
    struct rv_irq irq = vd_rv_irq(&d);
    struct rv_virtio_blk *b;
    CHECK_EQ(rv_virtio_blk_create(&d.map, NULL, VD_BASE, &irq, &d.dev_lock, &d.bus,
                                  "other.img", &b), -ENOENT);
    CHECK_EQ(rv_virtio_blk_create(&d.map, NULL, VD_BASE, &irq, &d.dev_lock, &d.bus,
                                  "disk.img,colour=red", &b), -EINVAL);
    CHECK_EQ(d.map.count, 0);
    vd_free(&d);
}

static void test_config(void)
{
    struct vdrv d;
    struct rv_virtio_blk *b = rig(&d, "disk.img,cache=unsafe");
    CHECK_EQ(fake.last->opts.cache, RV_CACHE_UNSAFE);
    CHECK_EQ(rv_virtio_blk_capacity(b), SECTORS);
    CHECK_EQ(vd_rd32(&d, VR_DEVICE_ID), 2);
    uint64_t f = vd_device_features(&d);
    CHECK_EQ(f & 0xffffff, 1u << 2 | 1u << 6 | 1u << 9 | 1u << 13 | 1u << 14);
    CHECK_EQ(vd_rd32(&d, VR_CONFIG + 0), SECTORS);
    CHECK_EQ(vd_rd32(&d, VR_CONFIG + 4), 0);
    CHECK_EQ(vd_rd32(&d, VR_CONFIG + 12), 254);      /* seg_max */
    CHECK_EQ(vd_rd32(&d, VR_CONFIG + 20), 512);      /* blk_size */
    CHECK_EQ(vd_rd32(&d, VR_CONFIG + 36), 1u << 22); /* max_discard_sectors */
    CHECK_EQ(vd_rd32(&d, VR_CONFIG + 40), 32);       /* max_discard_seg */
    CHECK_EQ(vd_rd32(&d, VR_CONFIG + 44), 8);        /* discard_sector_alignment */
    CHECK_EQ(vd_rd32(&d, VR_CONFIG + 52), 1);        /* max_write_zeroes_seg */
    CHECK_EQ(vd_rd(&d, VR_CONFIG + 56, 1), 1);       /* write_zeroes_may_unmap */
    vd_free(&d);
    /* read-only: RO, and no discard or write-zeroes */
    rig(&d, "disk.img,readonly");
    f = vd_device_features(&d);
    CHECK_EQ(f & 0xffffff, 1u << 2 | 1u << 5 | 1u << 6 | 1u << 9);
    vd_free(&d);
    fake.can_discard = false;
    rig(&d, "disk.img");
    CHECK_EQ(vd_device_features(&d) & (1u << 13 | 1u << 14), 0);
    vd_free(&d);
    fake.can_discard = true;
}

static void test_read_write(void)
{
    struct vdrv d;
    rig(&d, "disk.img");
    CHECK(ready(&d));
    struct rv_block *disk = fake.last;
    uint64_t buf = vd_alloc(&d, 1024, 512);
    uint8_t *p = vd_ptr(&d, buf);
    for (int i = 0; i < 1024; i++)
        p[i] = (uint8_t)(i * 7 + 1);
    uint32_t used = 0;
    CHECK_EQ(run(&d, T_OUT, 3, buf, 1024, false, &used), 0);
    CHECK_EQ(used, 1);
    CHECK(!memcmp(disk->data + 3 * 512, p, 1024));
    CHECK(vd_wait_irq(&d)); /* the device pushes, then interrupts: the entry may come first */
    vd_ack(&d);
    /* read back into three uneven segments, through an indirect table */
    uint64_t a = vd_alloc(&d, 100, 1), b2 = vd_alloc(&d, 700, 1), c = vd_alloc(&d, 224, 1);
    uint64_t hdr = vd_alloc(&d, 16, 8), st = vd_alloc(&d, 1, 1);
    uint32_t type = T_IN;
    uint64_t sector = 3;
    memcpy(vd_ptr(&d, hdr), &type, 4);
    memcpy((uint8_t *)vd_ptr(&d, hdr) + 8, &sector, 8);
    struct vd_seg s[5] = {{hdr, 16, false}, {a, 100, true}, {b2, 700, true}, {c, 224, true},
                          {st, 1, true}};
    vd_submit_indirect(&d, 0, s, 5);
    vd_kick(&d, 0);
    uint32_t id;
    CHECK(vd_wait_used(&d, 0, &id, &used));
    CHECK_EQ(used, 1025);
    CHECK_EQ(*(uint8_t *)vd_ptr(&d, st), 0);
    CHECK(!memcmp(vd_ptr(&d, a), p, 100));
    CHECK(!memcmp(vd_ptr(&d, b2), p + 100, 700));
    CHECK(!memcmp(vd_ptr(&d, c), p + 800, 224));
    /* the last sector is fine, one past it is not; nor is a sector number that wraps */
    CHECK_EQ(run(&d, T_IN, SECTORS - 1, buf, 512, true, NULL), 0);
    CHECK_EQ(run(&d, T_IN, SECTORS - 1, buf, 1024, true, NULL), 1);
    CHECK_EQ(run(&d, T_OUT, SECTORS, buf, 512, false, NULL), 1);
    CHECK_EQ(run(&d, T_IN, UINT64_MAX, buf, 512, true, NULL), 1);
    /* lengths that are not whole sectors */
    CHECK_EQ(run(&d, T_IN, 0, buf, 513, true, &used), 1);
    CHECK_EQ(used, 1);
    CHECK_EQ(run(&d, T_OUT, 0, buf, 100, false, NULL), 1);
    /* a zero-length read is a no-op that succeeds */
    CHECK_EQ(run(&d, T_IN, 0, 0, 0, true, NULL), 0);
    /* backend failure */
    disk->fail = EIO;
    CHECK_EQ(run(&d, T_IN, 0, buf, 512, true, NULL), 1);
    CHECK_EQ(run(&d, T_FLUSH, 0, 0, 0, false, NULL), 1);
    disk->fail = 0;
    CHECK_EQ(run(&d, T_FLUSH, 0, 0, 0, false, NULL), 0);
    CHECK_EQ(disk->flushes, 2);
    vd_free(&d);
}

static void test_readonly(void)
{
    struct vdrv d;
    rig(&d, "disk.img,readonly");
    CHECK(ready(&d));
    uint64_t buf = vd_alloc(&d, 512, 512);
    memset(vd_ptr(&d, buf), 0xaa, 512);
    CHECK_EQ(run(&d, T_OUT, 0, buf, 512, false, NULL), 1);
    CHECK_EQ(fake.last->data[0], 0);
    CHECK_EQ(run(&d, T_IN, 0, buf, 512, true, NULL), 0);
    uint64_t s0 = 0;
    uint32_t n = 8, fl = 0;
    CHECK_EQ(run(&d, T_WRITE_ZEROES, 0, ranges(&d, 1, &s0, &n, &fl), 16, false, NULL), 1);
    vd_free(&d);
}

static void test_id_and_unsupported(void)
{
    struct vdrv d;
    rig(&d, "disk.img");
    CHECK(ready(&d));
    uint64_t buf = vd_alloc(&d, 20, 1);
    uint32_t used;
    CHECK_EQ(run(&d, T_GET_ID, 0, buf, 20, true, &used), 0);
    CHECK_EQ(used, 21);
    CHECK(!memcmp(vd_ptr(&d, buf), "fake-disk-0123456789", 20));
    /* a short buffer gets what fits */
    uint64_t small = vd_alloc(&d, 8, 1);
    CHECK_EQ(run(&d, T_GET_ID, 0, small, 8, true, &used), 0);
    CHECK_EQ(used, 9);
    CHECK(!memcmp(vd_ptr(&d, small), "fake-dis", 8));
    CHECK_EQ(run(&d, 10, 0, buf, 20, true, NULL), 2);   /* GET_LIFETIME */
    CHECK_EQ(run(&d, 14, 0, 0, 0, false, NULL), 2);     /* SECURE_ERASE */
    CHECK_EQ(run(&d, 0x1234, 0, 0, 0, false, NULL), 2);
    vd_free(&d);
}

static void test_discard(void)
{
    struct vdrv d;
    rig(&d, "disk.img");
    CHECK(ready(&d));
    struct rv_block *disk = fake.last;
    uint64_t sec[2] = {8, 100};
    uint32_t num[2] = {16, 8}, none[2] = {0, 0}, unmap[2] = {1, 1}, odd[2] = {2, 0};
    CHECK_EQ(run(&d, T_DISCARD, 0, ranges(&d, 2, sec, num, none), 32, false, NULL), 0);
    CHECK_EQ(disk->discards, 2);
    CHECK_EQ(disk->last_off, 100 * 512);
    CHECK_EQ(disk->last_len, 8 * 512);
    /* unmap is not allowed on discard; unknown flags are unsupported */
    CHECK_EQ(run(&d, T_DISCARD, 0, ranges(&d, 1, sec, num, unmap), 16, false, NULL), 2);
    CHECK_EQ(run(&d, T_DISCARD, 0, ranges(&d, 1, sec, num, odd), 16, false, NULL), 2);
    /* a range past the end fails the whole request before anything is done */
    uint64_t far[2] = {8, SECTORS - 4};
    CHECK_EQ(run(&d, T_DISCARD, 0, ranges(&d, 2, far, num, none), 32, false, NULL), 1);
    CHECK_EQ(disk->discards, 2);
    CHECK_EQ(run(&d, T_DISCARD, 0, ranges(&d, 1, sec, num, none), 15, false, NULL), 1);
    /* write zeroes, with and without unmap; one range at most */
    memset(disk->data, 0x55, 64 * 512);
    CHECK_EQ(run(&d, T_WRITE_ZEROES, 0, ranges(&d, 1, sec, num, unmap), 16, false, NULL), 0);
    CHECK(disk->last_unmap);
    CHECK_EQ(disk->data[8 * 512], 0);
    CHECK_EQ(disk->data[24 * 512 - 1], 0);
    CHECK_EQ(disk->data[24 * 512], 0x55);
    CHECK_EQ(run(&d, T_WRITE_ZEROES, 0, ranges(&d, 1, sec, num, none), 16, false, NULL), 0);
    CHECK(!disk->last_unmap);
    CHECK_EQ(run(&d, T_WRITE_ZEROES, 0, ranges(&d, 2, sec, num, none), 32, false, NULL), 1);
    CHECK_EQ(run(&d, T_WRITE_ZEROES, 0, ranges(&d, 1, sec, num, odd), 16, false, NULL), 2);
    CHECK_EQ(disk->zeroes, 2);
    vd_free(&d);
    fake.can_discard = false;
    rig(&d, "disk.img");
    CHECK(ready(&d));
    CHECK_EQ(run(&d, T_DISCARD, 0, ranges(&d, 1, sec, num, none), 16, false, NULL), 2);
    vd_free(&d);
    fake.can_discard = true;
}

static void test_malformed(void)
{
    struct vdrv d;
    rig(&d, "disk.img");
    /* a header shorter than 16 bytes */
    CHECK(ready(&d));
    uint64_t hdr = vd_alloc(&d, 16, 8), st = vd_alloc(&d, 1, 1);
    struct vd_seg s[2] = {{hdr, 8, false}, {st, 1, true}};
    vd_submit(&d, 0, s, 2);
    vd_kick(&d, 0);
    CHECK(vd_wait_status(&d, VS_NEEDS_RESET));
    /* no status byte at all */
    CHECK(ready(&d));
    struct vd_seg s2[1] = {{hdr, 16, false}};
    vd_submit(&d, 0, s2, 1);
    vd_kick(&d, 0);
    CHECK(vd_wait_status(&d, VS_NEEDS_RESET));
    /* after a reset the disk works again */
    CHECK(ready(&d));
    uint64_t buf = vd_alloc(&d, 512, 512);
    CHECK_EQ(run(&d, T_IN, 0, buf, 512, true, NULL), 0);
    vd_free(&d);
}

static void test_batch(void)
{
    struct vdrv d;
    rig(&d, "disk.img");
    CHECK(ready_n(&d, 256)); /* N requests of 3 descriptors each fit */
    enum { N = 40 };
    uint64_t st[N];
    uint64_t buf = vd_alloc(&d, N * 512, 512);
    for (int i = 0; i < N; i++)
        st[i] = submit(&d, T_IN, (uint64_t)i, buf + 512 * (uint64_t)i, 512, true);
    vd_kick(&d, 0);
    uint32_t id, len;
    int done = 0;
    while (done < N && vd_wait_used(&d, 0, &id, &len))
        done++;
    CHECK_EQ(done, N);
    int ok = 0;
    for (int i = 0; i < N; i++)
        ok += *(uint8_t *)vd_ptr(&d, st[i]) == 0;
    CHECK_EQ(ok, N);
    CHECK(vd_wait_irq(&d));
    vd_free(&d);
}

/* Resets and re-initializes the device from another thread, first taking the locks a reset
 * runs under (device lock, then transport lock) and saying so: from then on the worker cannot
 * push anything before the new rings are live, so a request it had in flight can only be
 * dropped or (wrongly) pushed into the new rings. */
struct resetter {
    struct vdrv *d;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool locked, done, ready;
};

static void *do_reset(void *arg)
{
    struct resetter *r = arg;
    pthread_mutex_t *transport = rv_virtio_lock(r->d->r->dev);
    pthread_mutex_lock(&r->d->dev_lock);
    pthread_mutex_lock(transport);
    pthread_mutex_lock(&r->lock);
    r->locked = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    vd_wr32(r->d, VR_STATUS, 0);
    __atomic_store_n(&r->done, true, __ATOMIC_SEQ_CST);
    r->ready = ready(r->d);
    pthread_mutex_unlock(transport);
    pthread_mutex_unlock(&r->d->dev_lock);
    return NULL;
}

static void *do_pause(void *arg)
{
    rv_virtio_blk_pause(arg);
    return NULL;
}

/* A reset waits for the request inside the backend, which is then dropped, not pushed. */
static void test_reset_in_flight(void)
{
    struct vdrv d;
    rig(&d, "disk.img");
    CHECK(ready(&d));
    struct rv_block *disk = fake.last;
    gate(disk, true);
    uint64_t buf = vd_alloc(&d, 512, 512);
    submit(&d, T_IN, 0, buf, 512, true);
    vd_kick(&d, 0);
    wait_in_read(disk);
    uint16_t *old_used = vd_used16(&d, 0);
    struct resetter r = {.d = &d};
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);
    disk->watch = &r.done;
    pthread_t t;
    pthread_create(&t, NULL, do_reset, &r);
    pthread_mutex_lock(&r.lock);
    while (!r.locked)
        pthread_cond_wait(&r.cond, &r.lock);
    pthread_mutex_unlock(&r.lock);
    gate(disk, false);
    pthread_join(t, NULL);
    disk->watch = NULL;
    pthread_cond_destroy(&r.cond);
    pthread_mutex_destroy(&r.lock);
    CHECK(!disk->watch_at_release); /* the reset returned only after the I/O had ended */
    CHECK(r.ready);
    CHECK_EQ(__atomic_load_n(&old_used[1], __ATOMIC_SEQ_CST), 0);
    /* The worker handles the dropped request before this one: the first and only entry in the
     * new ring is the flush (1 byte written), not the read (513). */
    uint32_t used = 0;
    CHECK_EQ(run(&d, T_FLUSH, 0, 0, 0, false, &used), 0);
    CHECK_EQ(used, 1);
    uint32_t id, len;
    CHECK(!vd_get_used(&d, 0, &id, &len));
    /* the disk works after the reset */
    CHECK_EQ(run(&d, T_IN, 0, buf, 512, true, NULL), 0);
    CHECK(!vd_get_used(&d, 0, &id, &len));
    vd_free(&d);
}

static void test_pause_save_load(void)
{
    struct vdrv d;
    struct rv_virtio_blk *b = rig(&d, "disk.img");
    CHECK(ready(&d));
    struct rv_block *disk = fake.last;
    uint64_t buf = vd_alloc(&d, 512, 512);
    /* pause waits for the request in the backend to complete */
    gate(disk, true);
    uint64_t st = submit(&d, T_IN, 0, buf, 512, true);
    vd_kick(&d, 0);
    wait_in_read(disk);
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    pthread_mutex_lock(&d.dev_lock);
    CHECK_EQ(d.r->ops->save(d.r->dev, &w), -EBUSY);
    pthread_mutex_unlock(&d.dev_lock);
    rv_state_writer_free(&w);
    pthread_t t;
    pthread_create(&t, NULL, do_pause, b);
    gate(disk, false);
    pthread_join(t, NULL);
    CHECK_EQ(*(uint8_t *)vd_ptr(&d, st), 0);
    CHECK(vd_irq_level(&d));
    uint32_t id, len;
    CHECK(vd_get_used(&d, 0, &id, &len));
    /* paused: a new request waits */
    st = submit(&d, T_IN, 1, buf, 512, true);
    vd_kick(&d, 0);
    rv_state_writer_init(&w);
    pthread_mutex_lock(&d.dev_lock);
    CHECK_EQ(d.r->ops->save(d.r->dev, &w), 0);
    pthread_mutex_unlock(&d.dev_lock);
    CHECK(!vd_get_used(&d, 0, &id, &len));
    /* restore into a disk of another size: refused */
    struct vdrv d2;
    fake.size = 2 << 20;
    rig(&d2, "disk.img");
    fake.size = 1 << 20;
    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(d2.r->ops->load(d2.r->dev, &r), -EINVAL);
    CHECK(strstr(rv_error_get(), "does not match") != NULL);
    vd_free(&d2);
    /* restore into a twin over the same guest RAM: it serves the request left in the ring */
    d.r->ops->destroy(d.r->dev);
    struct vdrv d3;
    CHECK(vd_init(&d3));
    munmap(d3.bus.ram, VD_RAM_SIZE);
    d3.bus.ram = d.bus.ram;
    rig_create(&d3, "disk.img");
    memcpy(fake.last->data + 512, "restored", 8);
    rv_state_reader_init(&r, w.buf, w.len);
    pthread_mutex_lock(&d3.dev_lock);
    CHECK_EQ(d3.r->ops->load(d3.r->dev, &r), 0);
    pthread_mutex_unlock(&d3.dev_lock);
    memcpy(d3.q, d.q, sizeof(d3.q)); /* the driver side goes on with the same rings */
    CHECK(vd_wait_used(&d3, 0, &id, &len));
    CHECK_EQ(*(uint8_t *)vd_ptr(&d, st), 0);
    CHECK(!memcmp(vd_ptr(&d, buf), "restored", 8));
    vd_free(&d3); /* unmaps the shared RAM */
    vd_free_locks(&d);
    rv_state_writer_free(&w);
}

int main(void)
{
    rv_log_set_level(RV_LOG_ERROR);
    test_parse();
    test_config();
    test_read_write();
    test_readonly();
    test_id_and_unsupported();
    test_discard();
    test_malformed();
    test_batch();
    test_reset_in_flight();
    test_pause_save_load();
    TEST_MAIN_END();
}
