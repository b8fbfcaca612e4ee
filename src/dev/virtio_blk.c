/* virtio-blk device model (virtio 1.2 spec 5.2): requests in, block backend calls out.
 * Locking and the worker thread are described in virtio_blk.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/iov.h"
#include "core/log.h"
#include "core/serial.h"
#include "core/token_bucket.h"
#include "dev/virtio.h"
#include "dev/virtio_blk.h"

/* Feature bits (5.2.3) */
#define BLK_F_SEG_MAX 2
#define BLK_F_RO 5
#define BLK_F_BLK_SIZE 6
#define BLK_F_FLUSH 9
#define BLK_F_DISCARD 13
#define BLK_F_WRITE_ZEROES 14

/* Request types and status values (5.2.6) */
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define WZ_F_UNMAP 1u

#define SECTOR 512u
#define HDR_SIZE 16u           /* le32 type, le32 reserved, le64 sector */
#define RANGE_SIZE 16u         /* struct virtio_blk_discard_write_zeroes */
#define ID_BYTES 20u
#define QUEUE_SIZE 256u
#define SEG_MAX (QUEUE_SIZE - 2) /* data segments besides header and status, as QEMU does */
#define MAX_RANGE_SECTORS (1u << 22) /* 2 GiB per discard/write-zeroes range */
#define MAX_DISCARD_SEG 32u
#define MAX_WRITE_ZEROES_SEG 1u
#define DISCARD_ALIGN 8u       /* sectors: 4 KiB, the usual host file-system block */
#define NOTIFY_BATCH 16u       /* completions between two interrupts while busy */
#define CONFIG_SIZE 60u        /* up to write_zeroes_may_unmap and its padding */

/* Offsets in struct virtio_blk_config (5.2.4) */
enum {
    CFG_CAPACITY = 0, CFG_SEG_MAX = 12, CFG_BLK_SIZE = 20, CFG_MAX_DISCARD_SECTORS = 36,
    CFG_MAX_DISCARD_SEG = 40, CFG_DISCARD_ALIGN = 44, CFG_MAX_WZ_SECTORS = 48,
    CFG_MAX_WZ_SEG = 52, CFG_WZ_MAY_UNMAP = 56,
};

#define BLK_STATE_VERSION 1

struct rv_virtio_blk {
    struct rv_virtio *vd;
    pthread_mutex_t *dev_lock;
    struct rv_block *disk;
    char *spec;               /* the --disk specification of `disk` */
    uint64_t capacity;        /* sectors */
    bool readonly, discard;
    uint8_t config[CONFIG_SIZE];
    char id[ID_BYTES];

    pthread_t thread;
    /* Innermost lock: taken after the device lock and the transport lock, never held while
     * taking either. Protects the fields up to `gen`. */
    pthread_mutex_t lock;
    pthread_cond_t wake;      /* the worker waits here: kick, resume, stop */
    pthread_cond_t idle;      /* reset and pause wait here */
    bool kick, paused, stop;
    bool in_io;               /* the worker is reading or writing a popped chain's buffers */
    bool busy;                /* a drain is under way: chains popped, pushes not yet notified */
    uint64_t gen;             /* bumped by every reset */

    /* Owned by the worker */
    struct rv_token_bucket iops, bps; /* rate limits (--disk ...,iops=,bw=) */
    _Atomic uint64_t throttled;       /* requests that waited for them */
    struct rv_virtq_elem elem;
    struct iovec iov[RV_VIRTQ_MAX_SEGS];
};

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* --- requests --- */

static bool range_ok(const struct rv_virtio_blk *b, uint64_t sector, uint64_t nsect)
{
    uint64_t cap = __atomic_load_n(&b->capacity, __ATOMIC_ACQUIRE); /* grows online */
    return sector <= cap && nsect <= cap - sector;
}

static uint8_t io_status(const char *what, int rc)
{
    if (!rc)
        return S_OK;
    rv_warn("virtio-blk: %s failed: %s", what, rv_error_get());
    return S_IOERR;
}

/* T_IN / T_OUT: the data is the `in` bytes before the status byte, or the `out` bytes after
 * the header. */
static uint8_t blk_rw(struct rv_virtio_blk *b, const struct rv_virtq_elem *e, bool in,
                      uint64_t sector, uint32_t *written)
{
    size_t len = in ? e->in_len - 1 : e->out_len - HDR_SIZE;
    if (len % SECTOR || !range_ok(b, sector, len / SECTOR))
        return S_IOERR;
    if (!in && b->readonly)
        return S_IOERR;
    if (len == 0)
        return S_OK;
    /* Inside the chain by construction (len comes from in_len/out_len). */
    int cnt = in ? rv_iov_slice(e->in, (int)e->in_num, 0, len, b->iov, RV_VIRTQ_MAX_SEGS)
                 : rv_iov_slice(e->out, (int)e->out_num, HDR_SIZE, len, b->iov,
                                RV_VIRTQ_MAX_SEGS);
    if (cnt < 0)
        return S_IOERR;
    if (in) {
        uint8_t st = io_status("read", rv_block_readv(b->disk, sector * SECTOR, b->iov, cnt));
        if (st == S_OK)
            *written = len < UINT32_MAX ? (uint32_t)len : UINT32_MAX;
        return st;
    }
    return io_status("write", rv_block_writev(b->disk, sector * SECTOR, b->iov, cnt));
}

/* T_DISCARD / T_WRITE_ZEROES: an array of {le64 sector, le32 num_sectors, le32 flags}. Every
 * range is checked before any is carried out. */
static uint8_t blk_discard(struct rv_virtio_blk *b, const struct rv_virtq_elem *e, bool zeroes)
{
    if (!b->discard)
        return S_UNSUPP;
    size_t len = e->out_len - HDR_SIZE;
    unsigned max_seg = zeroes ? MAX_WRITE_ZEROES_SEG : MAX_DISCARD_SEG;
    if (len == 0 || len % RANGE_SIZE || len / RANGE_SIZE > max_seg)
        return S_IOERR;
    unsigned nr = (unsigned)(len / RANGE_SIZE);
    uint8_t raw[MAX_DISCARD_SEG * RANGE_SIZE];
    rv_iov_to_buf(e->out, e->out_num, HDR_SIZE, raw, len);
    for (unsigned i = 0; i < nr; i++) {
        const uint8_t *r = raw + i * RANGE_SIZE;
        uint64_t sector = get_le64(r);
        uint32_t num = get_le32(r + 8), flags = get_le32(r + 12);
        /* 5.2.6.2: unknown flags, or unmap on a discard, are UNSUPP */
        if ((flags & ~WZ_F_UNMAP) || (!zeroes && (flags & WZ_F_UNMAP)))
            return S_UNSUPP;
        if (num > MAX_RANGE_SECTORS || !range_ok(b, sector, num))
            return S_IOERR;
    }
    for (unsigned i = 0; i < nr; i++) {
        const uint8_t *r = raw + i * RANGE_SIZE;
        uint64_t off = get_le64(r) * SECTOR, bytes = (uint64_t)get_le32(r + 8) * SECTOR;
        int rc = zeroes ? rv_block_write_zeroes(b->disk, off, bytes,
                                                (get_le32(r + 12) & WZ_F_UNMAP) != 0)
                        : rv_block_discard(b->disk, off, bytes);
        if (rc)
            return io_status(zeroes ? "write-zeroes" : "discard", rc);
    }
    return S_OK;
}

/* Serves one chain. Returns the reason when the chain is not a request at all, else NULL
 * with *used = bytes written (data + the status byte). Touches no lock. */
static const char *blk_handle(struct rv_virtio_blk *b, const struct rv_virtq_elem *e,
                              uint32_t *used)
{
    if (e->out_len < HDR_SIZE)
        return "request header shorter than 16 bytes";
    if (e->in_len < 1)
        return "request without a status byte";
    uint8_t hdr[HDR_SIZE];
    rv_iov_to_buf(e->out, e->out_num, 0, hdr, sizeof(hdr));
    uint32_t type = get_le32(hdr);
    uint64_t sector = get_le64(hdr + 8);
    uint32_t written = 0;
    uint8_t status;
    switch (type) {
    case T_IN:
    case T_OUT:
        status = blk_rw(b, e, type == T_IN, sector, &written);
        break;
    case T_FLUSH:
        status = io_status("flush", rv_block_flush(b->disk));
        break;
    case T_GET_ID: {
        size_t n = e->in_len - 1 < ID_BYTES ? e->in_len - 1 : ID_BYTES;
        written = (uint32_t)rv_iov_from_buf(e->in, e->in_num, 0, b->id, n);
        status = S_OK;
        break;
    }
    case T_DISCARD:
    case T_WRITE_ZEROES:
        status = b->readonly ? S_IOERR : blk_discard(b, e, type == T_WRITE_ZEROES);
        break;
    default:
        status = S_UNSUPP;
        break;
    }
    rv_iov_from_buf(e->in, e->in_num, e->in_len - 1, &status, 1);
    *used = written < UINT32_MAX ? written + 1 : UINT32_MAX;
    return NULL;
}

/* --- the worker --- */

/* Takes the next chain. The pop and "in_io" happen under the transport lock (and the device
 * lock before it, which rv_virtq_pop needs when it finds a broken ring), so a reset sees either
 * no chain or a chain in flight. Returns 1 with *gen set, 0 when there is nothing to do (or
 * the worker must stop taking work), -1 if the ring is broken. */
static int blk_take(struct rv_virtio_blk *b, uint64_t *gen)
{
    struct rv_virtio *vd = b->vd;
    pthread_mutex_lock(b->dev_lock);
    pthread_mutex_lock(rv_virtio_lock(vd));
    pthread_mutex_lock(&b->lock);
    bool hold = b->paused || b->stop;
    if (!hold)
        b->busy = true;
    pthread_mutex_unlock(&b->lock);
    int rc = 0;
    if (!hold) {
        rc = rv_virtq_pop(vd, 0, &b->elem);
        if (rc == 0) {
            /* Empty: ask for notifications again, then look once more, since the driver may
             * have added a chain while notifications were off (2.7.10). */
            rv_virtq_set_notify(vd, 0, true);
            rc = rv_virtq_pop(vd, 0, &b->elem);
            if (rc == 1)
                rv_virtq_set_notify(vd, 0, false);
        }
    }
    if (rc == 1) {
        pthread_mutex_lock(&b->lock);
        b->in_io = true;
        *gen = b->gen;
        pthread_mutex_unlock(&b->lock);
    }
    pthread_mutex_unlock(rv_virtio_lock(vd));
    pthread_mutex_unlock(b->dev_lock);
    return rc;
}

/* The rate limits: before taking a chain, waits (on `wake`, so stop and pause end the wait)
 * until neither bucket is in debt. The chain's cost is charged after it is served (its size is
 * known only then), so one request may overdraw a bucket and the next ones wait it out.
 * Returns false if the worker must stop taking chains now. */
static bool blk_throttle(struct rv_virtio_blk *b)
{
    bool counted = false;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        uint64_t now = rv_tb_now();
        uint64_t d1 = rv_tb_delay(&b->iops, 1, now), d2 = rv_tb_delay(&b->bps, 1, now);
        uint64_t wait = d1 > d2 ? d1 : d2;
        if (wait == 0 || b->stop || b->paused)
            break;
        if (!counted)
            atomic_fetch_add(&b->throttled, 1);
        counted = true;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts); /* the condition variable's clock */
        uint64_t ns = (uint64_t)ts.tv_nsec + wait;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&b->wake, &b->lock, &ts);
    }
    bool go = !b->stop && !b->paused;
    pthread_mutex_unlock(&b->lock);
    return go;
}

/* Data bytes a served request moved, for the bandwidth limit. */
static uint64_t blk_cost(const struct rv_virtq_elem *e)
{
    uint8_t hdr[HDR_SIZE];
    rv_iov_to_buf(e->out, e->out_num, 0, hdr, sizeof(hdr));
    uint32_t type = get_le32(hdr);
    if (type == T_IN)
        return e->in_len - 1;
    if (type == T_OUT)
        return e->out_len - HDR_SIZE;
    return 0;
}

/* Serves chains until the queue is empty, notifying the driver every NOTIFY_BATCH completions
 * and at the end. */
static void blk_drain(struct rv_virtio_blk *b)
{
    struct rv_virtio *vd = b->vd;
    unsigned unnotified = 0;
    bool limited = rv_tb_limited(&b->iops) || rv_tb_limited(&b->bps);
    rv_virtq_set_notify(vd, 0, false);
    for (;;) {
        uint64_t gen = 0;
        if (limited && unnotified) { /* completions first: no driver waits for our wait */
            rv_virtq_notify(vd, 0);
            unnotified = 0;
        }
        if (limited && !blk_throttle(b))
            break;
        if (blk_take(b, &gen) != 1)
            break;
        uint32_t used = 0;
        const char *why = blk_handle(b, &b->elem, &used);
        if (limited) {
            uint64_t now = rv_tb_now();
            rv_tb_take(&b->iops, 1, now);
            rv_tb_take(&b->bps, blk_cost(&b->elem), now);
        }
        pthread_mutex_lock(&b->lock);
        b->in_io = false;
        pthread_cond_broadcast(&b->idle);
        pthread_mutex_unlock(&b->lock);
        if (why) {
            rv_virtio_fail(vd, why);
            break;
        }
        /* A reset since the pop means the chain belongs to rings that are gone. */
        pthread_mutex_lock(rv_virtio_lock(vd));
        pthread_mutex_lock(&b->lock);
        bool stale = b->gen != gen;
        pthread_mutex_unlock(&b->lock);
        if (!stale) {
            rv_virtq_push(vd, 0, &b->elem, used);
            unnotified++;
        }
        pthread_mutex_unlock(rv_virtio_lock(vd));
        if (unnotified >= NOTIFY_BATCH) {
            rv_virtq_notify(vd, 0);
            unnotified = 0;
        }
    }
    if (unnotified)
        rv_virtq_notify(vd, 0);
    pthread_mutex_lock(&b->lock);
    b->busy = false;
    pthread_cond_broadcast(&b->idle);
    pthread_mutex_unlock(&b->lock);
}

static void *blk_worker(void *opaque)
{
    struct rv_virtio_blk *b = opaque;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->stop && (b->paused || !b->kick))
            pthread_cond_wait(&b->wake, &b->lock);
        if (b->stop)
            break;
        b->kick = false;
        pthread_mutex_unlock(&b->lock);
        blk_drain(b);
        pthread_mutex_lock(&b->lock);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static void blk_kick(struct rv_virtio_blk *b)
{
    pthread_mutex_lock(&b->lock);
    b->kick = true;
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->lock);
}

void rv_virtio_blk_pause(struct rv_virtio_blk *b)
{
    pthread_mutex_lock(&b->lock);
    b->paused = true;
    pthread_cond_signal(&b->wake); /* ends a rate-limit wait */
    while (b->busy)
        pthread_cond_wait(&b->idle, &b->lock);
    pthread_mutex_unlock(&b->lock);
}

void rv_virtio_blk_resume(struct rv_virtio_blk *b)
{
    pthread_mutex_lock(&b->lock);
    b->paused = false;
    b->kick = true; /* look at the ring: notifications may have come while paused */
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->lock);
}

int rv_virtio_blk_flush(struct rv_virtio_blk *b)
{
    return b->readonly ? 0 : rv_block_flush(b->disk);
}

static int blk_open_spec(const char *spec, struct rv_block **disk, bool *readonly)
{
    char *path;
    struct rv_block_opts opts;
    int rc = rv_virtio_blk_parse_spec(spec, &path, &opts);
    if (rc)
        return rc;
    rc = rv_block_open(path, &opts, disk);
    free(path);
    if (!rc)
        *readonly = opts.readonly || rv_block_readonly(*disk);
    return rc;
}

int rv_virtio_blk_reopen(struct rv_virtio_blk *b, const char *spec)
{
    return rv_virtio_blk_reopen_with(b, spec, NULL, NULL);
}

int rv_virtio_blk_reopen_with(struct rv_virtio_blk *b, const char *spec,
                              int (*closed)(void *), void *opaque)
{
    /* The old image is closed first: the new one may have it as its backing file, and must
     * not read its metadata while a writable handle still caches some. */
    char *copy = strdup(spec);
    if (!copy)
        return rv_error_set(-ENOMEM, "virtio-blk: out of memory");
    rv_block_close(b->disk);
    b->disk = NULL;
    struct rv_block *disk = NULL;
    bool readonly = false;
    int rc = closed ? closed(opaque) : 0;
    if (!rc)
        rc = blk_open_spec(spec, &disk, &readonly);
    if (!rc && (rv_block_size(disk) / SECTOR != b->capacity || readonly != b->readonly)) {
        rv_block_close(disk);
        rc = rv_error_set(-EINVAL, "virtio-blk: the new image has a different size or mode");
    }
    if (rc) {
        free(copy);
        /* Back to the image we had; the error stays the first one. */
        char saved[256];
        snprintf(saved, sizeof(saved), "%s", rv_error_get());
        if (blk_open_spec(b->spec, &b->disk, &readonly))
            rv_virtio_fail(b->vd, "disk image lost while switching images");
        return rv_error_set(rc, "%s", saved);
    }
    b->disk = disk;
    free(b->spec);
    b->spec = copy;
    return 0;
}

struct rv_block *rv_virtio_blk_disk(struct rv_virtio_blk *b)
{
    return b->disk;
}

/* --- transport callbacks --- */

static void blk_config_read(void *opaque, uint32_t off, void *buf, unsigned len)
{
    struct rv_virtio_blk *b = opaque;
    memcpy(buf, b->config + off, len); /* the transport checked off + len <= CONFIG_SIZE */
}

static void blk_queue_notify(void *opaque, unsigned q)
{
    if (q == 0)
        blk_kick(opaque);
}

/* Called with the transport lock held: wait only for buffers being accessed, which needs no
 * lock; chains still to be pushed are dropped by the worker when it sees the new gen. */
static void blk_reset(void *opaque)
{
    struct rv_virtio_blk *b = opaque;
    pthread_mutex_lock(&b->lock);
    b->gen++;
    while (b->in_io)
        pthread_cond_wait(&b->idle, &b->lock);
    pthread_mutex_unlock(&b->lock);
}

static int blk_save(void *opaque, struct rv_state_writer *w)
{
    struct rv_virtio_blk *b = opaque;
    pthread_mutex_lock(&b->lock);
    bool busy = b->busy;
    pthread_mutex_unlock(&b->lock);
    if (busy)
        return rv_error_set(-EBUSY, "virtio-blk: requests in flight (pause the disk first)");
    rv_put_u32(w, BLK_STATE_VERSION);
    rv_put_u64(w, b->capacity);
    rv_put_u8(w, b->readonly);
    return w->error;
}

static int blk_load(void *opaque, struct rv_state_reader *r)
{
    struct rv_virtio_blk *b = opaque;
    if (rv_get_u32(r) != BLK_STATE_VERSION)
        return rv_error_set(-EINVAL, "virtio-blk: unsupported state version");
    uint64_t capacity = rv_get_u64(r);
    bool readonly = rv_get_u8(r) != 0;
    if (r->error)
        return rv_error_set(-EINVAL, "virtio-blk: truncated state");
    if (capacity != b->capacity || readonly != b->readonly)
        return rv_error_set(-EINVAL,
                            "virtio-blk: the disk (%llu sectors%s) does not match the saved one "
                            "(%llu sectors%s)",
                            (unsigned long long)b->capacity, b->readonly ? ", read-only" : "",
                            (unsigned long long)capacity, readonly ? ", read-only" : "");
    /* Requests may be waiting in the restored rings; the worker takes them once the machine
     * releases the device lock, after the transport has installed its state. */
    blk_kick(b);
    return 0;
}

static void blk_free(struct rv_virtio_blk *b, bool thread)
{
    if (thread) {
        pthread_mutex_lock(&b->lock);
        b->stop = true;
        pthread_cond_signal(&b->wake);
        pthread_mutex_unlock(&b->lock);
        pthread_join(b->thread, NULL);
    }
    pthread_cond_destroy(&b->wake);
    pthread_cond_destroy(&b->idle);
    pthread_mutex_destroy(&b->lock);
    if (b->disk)
        rv_block_close(b->disk);
    free(b->spec);
    free(b);
}

static void blk_destroy(void *opaque)
{
    blk_free(opaque, true);
}

static const struct rv_virtio_ops blk_ops = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .num_queues = 1,
    .queue_max = QUEUE_SIZE,
    .config_size = CONFIG_SIZE,
    .config_read = blk_config_read,
    .queue_notify = blk_queue_notify,
    .reset = blk_reset,
    .save = blk_save,
    .load = blk_load,
    .destroy = blk_destroy,
};

static void blk_fill_config(struct rv_virtio_blk *b)
{
    uint8_t *c = b->config;
    put_le64(c + CFG_CAPACITY, b->capacity);
    put_le32(c + CFG_SEG_MAX, SEG_MAX);
    put_le32(c + CFG_BLK_SIZE, SECTOR);
    if (b->discard) {
        put_le32(c + CFG_MAX_DISCARD_SECTORS, MAX_RANGE_SECTORS);
        put_le32(c + CFG_MAX_DISCARD_SEG, MAX_DISCARD_SEG);
        put_le32(c + CFG_DISCARD_ALIGN, DISCARD_ALIGN);
        put_le32(c + CFG_MAX_WZ_SECTORS, MAX_RANGE_SECTORS);
        put_le32(c + CFG_MAX_WZ_SEG, MAX_WRITE_ZEROES_SEG);
        c[CFG_WZ_MAY_UNMAP] = 1;
    }
}

/* Starts the worker with every signal blocked: signals belong to the machine's threads. */
static int blk_start_worker(struct rv_virtio_blk *b)
{
    sigset_t all, old;
    sigfillset(&all);
    /* SIGSYS stays open: libpsx uses it to run the sandbox's capability drop on every thread
     * (hv/sandbox.c), and would wait forever for a thread that blocks it. */
    sigdelset(&all, SIGSYS);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&b->thread, NULL, blk_worker, b);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return rv_error_set(-rc, "virtio-blk: cannot start the worker thread: %s", strerror(rc));
    pthread_setname_np(b->thread, "virtio-blk");
    return 0;
}

/* The backend changed size (a volume resized online): new capacity in the configuration space,
 * then a configuration change notification (virtio 1.2, 4.2.2.1 and 5.2.4), upon which Linux
 * re-reads the capacity. */
static void blk_resized(void *opaque, uint64_t size)
{
    struct rv_virtio_blk *b = opaque;
    pthread_mutex_lock(b->dev_lock);
    pthread_mutex_lock(rv_virtio_lock(b->vd));
    __atomic_store_n(&b->capacity, size / SECTOR, __ATOMIC_RELEASE);
    put_le64(b->config + CFG_CAPACITY, size / SECTOR);
    pthread_mutex_unlock(rv_virtio_lock(b->vd));
    rv_virtio_config_changed(b->vd);
    pthread_mutex_unlock(b->dev_lock);
}

int rv_virtio_blk_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                         const struct rv_irq *irq, pthread_mutex_t *dev_lock, struct rv_bus *bus,
                         const char *spec, struct rv_virtio_blk **out)
{
    char *path;
    struct rv_block_opts opts;
    int rc = rv_virtio_blk_parse_spec(spec, &path, &opts);
    if (rc)
        return rc;
    struct rv_virtio_blk *b = calloc(1, sizeof(*b));
    if (!b) {
        free(path);
        return rv_error_set(-ENOMEM, "virtio-blk: out of memory");
    }
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->wake, NULL);
    pthread_cond_init(&b->idle, NULL);
    b->dev_lock = dev_lock;
    b->spec = strdup(spec);
    rc = b->spec ? rv_block_open(path, &opts, &b->disk)
                 : rv_error_set(-ENOMEM, "virtio-blk: out of memory");
    free(path);
    if (rc) {
        blk_free(b, false);
        return rc;
    }
    uint64_t now = rv_tb_now();
    rv_tb_init(&b->iops, opts.iops, 0, now);
    rv_tb_init(&b->bps, opts.bps, 0, now);
    b->capacity = rv_block_size(b->disk) / SECTOR;
    b->readonly = opts.readonly || rv_block_readonly(b->disk);
    b->discard = !b->readonly && rv_block_can_discard(b->disk);
    rv_block_id(b->disk, b->id);
    blk_fill_config(b);
    rc = blk_start_worker(b);
    if (rc) {
        blk_free(b, false);
        return rc;
    }
    uint64_t features = 1ull << BLK_F_SEG_MAX | 1ull << BLK_F_BLK_SIZE | 1ull << BLK_F_FLUSH;
    if (b->readonly)
        features |= 1ull << BLK_F_RO;
    if (b->discard)
        features |= 1ull << BLK_F_DISCARD | 1ull << BLK_F_WRITE_ZEROES;
    /* The worker reads b->vd only after a kick, which needs the transport to exist. */
    rc = rv_virtio_create(map, fdt, base, irq, dev_lock, bus, &blk_ops, b, features, &b->vd);
    if (rc) {
        blk_free(b, true);
        return rc;
    }
    rv_block_set_resize_handler(b->disk, blk_resized, b);
    *out = b;
    return 0;
}

uint64_t rv_virtio_blk_throttled(const struct rv_virtio_blk *b)
{
    return atomic_load(&b->throttled);
}

uint64_t rv_virtio_blk_capacity(const struct rv_virtio_blk *b)
{
    return __atomic_load_n(&b->capacity, __ATOMIC_ACQUIRE);
}
