/* virtio memory balloon device model (virtio 1.2 spec 5.5). See virtio_balloon.h. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/serial.h"
#include "dev/virtio.h"
#include "dev/virtio_balloon.h"

#define INFLATEQ 0
#define DEFLATEQ 1
#define STATSQ 2
#define QUEUE_SIZE 128u
#define BALLOON_F_STATS_VQ 1
#define BALLOON_F_DEFLATE_ON_OOM 2
#define PFN_SHIFT 12           /* frame numbers are in 4 KiB units whatever the page size */
#define GUEST_PAGE 4096u
#define CONFIG_SIZE 16u        /* num_pages, actual, free_page_hint_cmd_id, poison_val */
#define STAT_SIZE 10u          /* packed {le16 tag; le64 val} */
#define MAX_STATS 64u          /* entries looked at per buffer */
#define PFN_BATCH 256u
#define BALLOON_STATE_VERSION 1

struct rv_virtio_balloon {
    struct rv_virtio *vd;
    pthread_mutex_t *dev_lock;
    struct rv_bus *bus;
    uint64_t host_page;
    /* Under the transport lock: */
    uint32_t num_pages, actual;
    uint64_t released;
    bool stats_held;              /* stats_elem is a popped statsq chain not yet returned */
    struct rv_balloon_stats stats;
    uint64_t stats_time_ns;       /* CLOCK_MONOTONIC of the last stats buffer */
    struct rv_virtq_elem elem, stats_elem;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void lock_both(const struct rv_virtio_balloon *b)
{
    pthread_mutex_lock(b->dev_lock);
    pthread_mutex_lock(rv_virtio_lock(b->vd));
}

static void unlock_both(const struct rv_virtio_balloon *b)
{
    pthread_mutex_unlock(rv_virtio_lock(b->vd));
    pthread_mutex_unlock(b->dev_lock);
}

/* --- inflate --- */

/* Releases the whole host pages inside guest-physical [start, end) (a range inside RAM). */
static void release_range(struct rv_virtio_balloon *b, uint64_t start, uint64_t end)
{
    uint64_t mask = b->host_page - 1;
    /* SAFETY: [start, end) was checked to lie in RAM; rounding inward stays inside it. */
    uintptr_t lo = (uintptr_t)rv_bus_ram_ptr(b->bus, start);
    uintptr_t hi = lo + (end - start);
    lo = (lo + mask) & ~(uintptr_t)mask;
    hi &= ~(uintptr_t)mask;
    if (lo >= hi)
        return;
    rv_bus_note_write(b->bus, start, end - start); /* the pages read back as zeros (src/jit) */
    /* Guest RAM is a shared memfd mapping (machine/vm.c): MADV_REMOVE frees the pages
     * themselves; private memory (a snapshot mapped copy-on-write) drops its copies. */
    if (madvise((void *)lo, hi - lo, MADV_REMOVE) != 0 &&
        madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0) {
        rv_warn("virtio-balloon: madvise: %s", strerror(errno));
        return;
    }
    b->released += (end - start) / GUEST_PAGE;
}

/* One inflate chain: an array of le32 frame numbers in its readable buffers. Contiguous
 * frames are released with one madvise(). */
static void balloon_inflate(struct rv_virtio_balloon *b, const struct rv_virtq_elem *e)
{
    size_t count = e->out_len / 4, bad = 0;
    uint64_t run_start = 0, run_end = 0;
    uint32_t pfns[PFN_BATCH];
    for (size_t i = 0; i < count; i += PFN_BATCH) {
        size_t n = count - i < PFN_BATCH ? count - i : PFN_BATCH;
        rv_iov_to_buf(e->out, e->out_num, i * 4, pfns, n * 4);
        for (size_t k = 0; k < n; k++) {
            uint64_t gpa = (uint64_t)le32toh(pfns[k]) << PFN_SHIFT;
            if (!rv_bus_in_ram(b->bus, gpa, GUEST_PAGE)) {
                bad++;
                continue;
            }
            if (gpa != run_end || run_start == run_end) {
                if (run_start != run_end)
                    release_range(b, run_start, run_end);
                run_start = gpa;
            }
            run_end = gpa + GUEST_PAGE;
        }
    }
    if (run_start != run_end)
        release_range(b, run_start, run_end);
    if (bad)
        rv_warn("virtio-balloon: ignored %zu frame number(s) outside guest RAM", bad);
}

/* --- statistics --- */

static void balloon_take_stats(struct rv_virtio_balloon *b, const struct rv_virtq_elem *e)
{
    size_t n = e->out_len / STAT_SIZE;
    if (n > MAX_STATS)
        n = MAX_STATS;
    for (size_t i = 0; i < n; i++) {
        uint8_t s[STAT_SIZE];
        rv_iov_to_buf(e->out, e->out_num, i * STAT_SIZE, s, STAT_SIZE);
        unsigned tag = (unsigned)s[0] | (unsigned)s[1] << 8;
        uint64_t val = 0;
        for (int k = 7; k >= 0; k--)
            val = val << 8 | s[2 + k];
        if (tag < RV_BALLOON_S_COUNT) { /* unknown tags are ignored (5.5.6.3) */
            b->stats.value[tag] = val;
            b->stats.valid |= 1u << tag;
        }
    }
    b->stats.updates++;
    b->stats_time_ns = now_ns();
}

/* Returns the held stats buffer; transport lock held. */
static bool balloon_return_stats(struct rv_virtio_balloon *b)
{
    if (!b->stats_held || !rv_virtio_running(b->vd))
        return false;
    rv_virtq_push(b->vd, STATSQ, &b->stats_elem, 0);
    b->stats_held = false;
    rv_virtq_notify(b->vd, STATSQ);
    return true;
}

/* --- transport callbacks (transport lock held) --- */

static void balloon_queue_notify(void *opaque, unsigned q)
{
    struct rv_virtio_balloon *b = opaque;
    if (q == STATSQ) {
        while (rv_virtq_pop(b->vd, STATSQ, &b->elem) == 1) {
            balloon_take_stats(b, &b->elem);
            /* The driver keeps at most one buffer here; if it sent another anyway, give the
             * older one back so that only one is held. */
            if (b->stats_held)
                rv_virtq_push(b->vd, STATSQ, &b->stats_elem, 0);
            memcpy(&b->stats_elem, &b->elem, sizeof(b->elem));
            b->stats_held = true;
        }
        return;
    }
    bool pushed = false;
    for (unsigned n = 0; n < QUEUE_SIZE; n++) { /* at most one ring's worth per notify */
        if (rv_virtq_pop(b->vd, q, &b->elem) != 1)
            break;
        if (q == INFLATEQ)
            balloon_inflate(b, &b->elem);
        /* deflate: nothing to do, the pages come back when the guest touches them */
        rv_virtq_push(b->vd, q, &b->elem, 0);
        pushed = true;
    }
    if (pushed)
        rv_virtq_notify(b->vd, q);
}

/* Linux primes the statsq and notifies before it sets DRIVER_OK, when the transport does not
 * pass notifications on yet: look at every queue now. */
static void balloon_driver_ok(void *opaque)
{
    for (unsigned q = 0; q < 3; q++)
        balloon_queue_notify(opaque, q);
}

static void balloon_config_read(void *opaque, uint32_t off, void *buf, unsigned len)
{
    struct rv_virtio_balloon *b = opaque;
    uint8_t cfg[CONFIG_SIZE] = {0};
    for (int i = 0; i < 4; i++) {
        cfg[i] = (uint8_t)(b->num_pages >> (8 * i));
        cfg[4 + i] = (uint8_t)(b->actual >> (8 * i));
    }
    memcpy(buf, cfg + off, len); /* the transport checked off + len <= CONFIG_SIZE */
}

/* Only `actual` (bytes 4..7) is writable by the driver. */
static void balloon_config_write(void *opaque, uint32_t off, const void *buf, unsigned len)
{
    struct rv_virtio_balloon *b = opaque;
    const uint8_t *p = buf;
    for (unsigned i = 0; i < len; i++) {
        uint32_t at = off + i;
        if (at >= 4 && at < 8) {
            unsigned shift = 8 * (at - 4);
            b->actual = (b->actual & ~(0xffu << shift)) | (uint32_t)p[i] << shift;
        }
    }
}

static void balloon_reset(void *opaque)
{
    struct rv_virtio_balloon *b = opaque;
    b->stats_held = false; /* the buffer belonged to the old rings */
    b->actual = 0;         /* a new driver starts with an empty balloon */
}

static int balloon_save(void *opaque, struct rv_state_writer *w)
{
    struct rv_virtio_balloon *b = opaque;
    lock_both(b);
    rv_put_u32(w, BALLOON_STATE_VERSION);
    rv_put_u32(w, b->num_pages);
    rv_put_u32(w, b->actual);
    rv_put_u64(w, b->released);
    rv_put_u8(w, b->stats_held);
    rv_put_u32(w, b->stats_elem.head);
    rv_put_u64(w, b->stats.updates);
    rv_put_u32(w, b->stats.valid);
    for (unsigned i = 0; i < RV_BALLOON_S_COUNT; i++)
        rv_put_u64(w, b->stats.value[i]);
    unlock_both(b);
    return w->error;
}

static int balloon_load(void *opaque, struct rv_state_reader *r)
{
    struct rv_virtio_balloon *b = opaque;
    if (rv_get_u32(r) != BALLOON_STATE_VERSION)
        return rv_error_set(-EINVAL, "virtio-balloon: unsupported state version");
    uint32_t num_pages = rv_get_u32(r), actual = rv_get_u32(r);
    uint64_t released = rv_get_u64(r);
    bool held = rv_get_u8(r) != 0;
    uint32_t head = rv_get_u32(r);
    struct rv_balloon_stats st = {0};
    st.updates = rv_get_u64(r);
    st.valid = rv_get_u32(r);
    for (unsigned i = 0; i < RV_BALLOON_S_COUNT; i++)
        st.value[i] = rv_get_u64(r);
    if (r->error || num_pages > b->bus->ram_size / GUEST_PAGE || head >= RV_VIRTQ_MAX_SIZE)
        return rv_error_set(-EINVAL, "virtio-balloon: truncated or invalid state");
    lock_both(b);
    b->num_pages = num_pages;
    b->actual = actual;
    b->released = released;
    b->stats = st;
    b->stats_time_ns = now_ns();
    /* Only the head matters for giving the buffer back (its length is 0). */
    b->stats_held = held;
    b->stats_elem.head = (uint16_t)head;
    b->stats_elem.in_num = b->stats_elem.out_num = 0;
    b->stats_elem.in_len = b->stats_elem.out_len = 0;
    unlock_both(b);
    return 0;
}

static void balloon_destroy(void *opaque)
{
    free(opaque);
}

static const struct rv_virtio_ops balloon_ops = {
    .name = "virtio-balloon",
    .device_id = VIRTIO_ID_BALLOON,
    .num_queues = 3,
    .queue_max = QUEUE_SIZE,
    .config_size = CONFIG_SIZE,
    .config_read = balloon_config_read,
    .config_write = balloon_config_write,
    .driver_ok = balloon_driver_ok,
    .queue_notify = balloon_queue_notify,
    .reset = balloon_reset,
    .save = balloon_save,
    .load = balloon_load,
    .destroy = balloon_destroy,
};

int rv_virtio_balloon_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                             const struct rv_irq *irq, pthread_mutex_t *dev_lock,
                             struct rv_bus *bus, struct rv_virtio_balloon **out)
{
    long page = sysconf(_SC_PAGESIZE);
    struct rv_virtio_balloon *b = calloc(1, sizeof(*b));
    if (!b)
        return rv_error_set(-ENOMEM, "virtio-balloon: out of memory");
    b->dev_lock = dev_lock;
    b->bus = bus;
    b->host_page = page > 0 ? (uint64_t)page : GUEST_PAGE;
    uint64_t features = 1ull << BALLOON_F_STATS_VQ | 1ull << BALLOON_F_DEFLATE_ON_OOM;
    int rc = rv_virtio_create(map, fdt, base, irq, dev_lock, bus, &balloon_ops, b, features,
                              &b->vd);
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    return 0;
}

/* --- host side --- */

int rv_virtio_balloon_set_target(struct rv_virtio_balloon *b, uint64_t pages)
{
    uint64_t max = b->bus->ram_size / GUEST_PAGE;
    if (pages > max || pages > UINT32_MAX)
        return rv_error_set(-EINVAL, "virtio-balloon: target of %llu pages exceeds the %llu "
                            "pages of guest RAM", (unsigned long long)pages,
                            (unsigned long long)max);
    lock_both(b);
    bool changed = b->num_pages != pages;
    b->num_pages = (uint32_t)pages;
    if (changed)
        rv_virtio_config_changed(b->vd);
    unlock_both(b);
    return 0;
}

uint64_t rv_virtio_balloon_target(const struct rv_virtio_balloon *b)
{
    lock_both(b);
    uint64_t v = b->num_pages;
    unlock_both(b);
    return v;
}

uint64_t rv_virtio_balloon_actual(const struct rv_virtio_balloon *b)
{
    lock_both(b);
    uint64_t v = b->actual;
    unlock_both(b);
    return v;
}

uint64_t rv_virtio_balloon_released(const struct rv_virtio_balloon *b)
{
    lock_both(b);
    uint64_t v = b->released;
    unlock_both(b);
    return v;
}

int rv_virtio_balloon_request_stats(struct rv_virtio_balloon *b)
{
    lock_both(b);
    bool ok = balloon_return_stats(b);
    unlock_both(b);
    return ok ? 0 : rv_error_set(-EAGAIN, "virtio-balloon: no statistics buffer to return");
}

void rv_virtio_balloon_stats(struct rv_virtio_balloon *b, uint32_t max_age_ms,
                             struct rv_balloon_stats *out)
{
    lock_both(b);
    uint64_t now = now_ns();
    *out = b->stats;
    out->age_ns = b->stats.updates ? now - b->stats_time_ns : 0;
    if (max_age_ms && (!b->stats.updates || out->age_ns >= max_age_ms * 1000000ull))
        balloon_return_stats(b);
    unlock_both(b);
}
