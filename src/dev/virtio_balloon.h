/* Traditional virtio memory balloon (virtio 1.2 spec 5.5): inflateq (0), deflateq (1) and
 * statsq (2). Offered features: STATS_VQ and DEFLATE_ON_OOM (the guest may take pages back
 * when it runs out of memory); MUST_TELL_HOST is not offered, so the guest may reuse deflated
 * pages at once, which is fine: nothing is done on deflate, pages come back on first touch.
 *
 * Inflate: every 4 KiB frame number in the request that lies in guest RAM has its host memory
 * released with madvise(MADV_DONTNEED) (private anonymous memory: it reads back as zeros
 * and costs nothing until touched again). Frames outside RAM are ignored with a warning.
 *
 * Statistics: the driver sends a buffer of {le16 tag, le64 value} entries at start-up and
 * every time the device gives the buffer back. The device keeps the latest values and holds
 * the buffer; rv_virtio_balloon_request_stats() returns it to ask for fresh values, and
 * rv_virtio_balloon_stats() does so itself when the values it returns are older than the
 * caller's max_age. No timer thread: a monitoring loop polling every N ms gets values at
 * most one period old, and the guest is asked only while someone is looking.
 *
 * Concurrency: the functions below take the machine's device lock and the transport lock
 * themselves (both recursive), so they may be called from any thread, with or without the
 * device lock held. */
#ifndef RV_DEV_VIRTIO_BALLOON_H
#define RV_DEV_VIRTIO_BALLOON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/bus.h"
#include "dev/device.h"

/* Statistic tags (5.5.6.3.1); Linux also sends tags above 9 (OOM kills, reclaim counters). */
enum {
    RV_BALLOON_S_SWAP_IN = 0,  /* bytes swapped in */
    RV_BALLOON_S_SWAP_OUT = 1, /* bytes swapped out */
    RV_BALLOON_S_MAJFLT = 2,   /* major page faults */
    RV_BALLOON_S_MINFLT = 3,   /* minor page faults */
    RV_BALLOON_S_MEMFREE = 4,  /* bytes not used for anything */
    RV_BALLOON_S_MEMTOT = 5,   /* bytes of memory the guest has */
    RV_BALLOON_S_AVAIL = 6,    /* bytes available to new applications without swapping */
    RV_BALLOON_S_CACHES = 7,   /* bytes of caches that can be freed */
    RV_BALLOON_S_HTLB_PGALLOC = 8,
    RV_BALLOON_S_HTLB_PGFAIL = 9,
    RV_BALLOON_S_COUNT = 16    /* tags kept; larger ones are ignored */
};

struct rv_balloon_stats {
    uint64_t updates;                   /* stats buffers received since creation (0: none) */
    uint64_t age_ns;                    /* time since the last one (0 if none) */
    uint32_t valid;                     /* bit t set: value[t] was reported */
    uint64_t value[RV_BALLOON_S_COUNT]; /* indexed by tag */
};

struct rv_virtio_balloon;

/* Creates the device and its virtio-mmio transport at `base`; `bus` is the guest RAM whose
 * pages inflation releases. The iomap owns the device. */
int rv_virtio_balloon_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                             const struct rv_irq *irq, pthread_mutex_t *dev_lock,
                             struct rv_bus *bus, struct rv_virtio_balloon **out);

/* Asks the guest to hold `pages` 4 KiB pages in the balloon (config num_pages, with a
 * configuration change interrupt). Fails with -EINVAL beyond the size of guest RAM. */
int rv_virtio_balloon_set_target(struct rv_virtio_balloon *b, uint64_t pages);
uint64_t rv_virtio_balloon_target(const struct rv_virtio_balloon *b);
/* Pages the driver says the balloon holds (config `actual`, written by the driver). */
uint64_t rv_virtio_balloon_actual(const struct rv_virtio_balloon *b);
/* Pages released to the host by inflate requests since creation (a counter, for monitoring;
 * frames given twice count twice). */
uint64_t rv_virtio_balloon_released(const struct rv_virtio_balloon *b);

/* Gives the stats buffer back to the driver so that it sends fresh values. -EAGAIN if the
 * device holds no buffer (no STATS_VQ, driver not ready, or a request is already out). */
int rv_virtio_balloon_request_stats(struct rv_virtio_balloon *b);
/* Copies the latest statistics into *out. If they are older than max_age_ms (or there are
 * none yet) and max_age_ms is not 0, also asks for fresh ones (they arrive later). */
void rv_virtio_balloon_stats(struct rv_virtio_balloon *b, uint32_t max_age_ms,
                             struct rv_balloon_stats *out);

#endif
