/* Dirty-block tracking for copying a disk while the guest writes to it (block.h,
 * `rvisor migrate --copy-storage`, docs/state.md).
 *
 * While tracking is on, every request goes through the tracker's lock (the disk's worker and
 * the copying thread may then call the image at the same time; qcow2's metadata caches are
 * not made for that), and each successful write, discard or write-zeroes marks the chunks it
 * touched after it completed. A copier takes (and clears) the bits and then reads those
 * chunks: a write that completes after the take marks its chunks again, so it is copied in
 * the next pass; one that completed before is in what the copier reads. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "block/block_int.h"
#include "core/error.h"

struct rv_block_tracker {
    pthread_mutex_t lock;
    uint64_t *bits;
    size_t words;
};

size_t rv_block_dirty_words(const struct rv_block *b)
{
    uint64_t chunks = (b->size + RV_BLOCK_DIRTY_CHUNK - 1) / RV_BLOCK_DIRTY_CHUNK;
    return (size_t)((chunks + 63) / 64);
}

int rv_block_dirty_start(struct rv_block *b)
{
    if (b->tracker)
        return rv_error_set(-EBUSY, "%s: already tracked", b->path);
    struct rv_block_tracker *t = calloc(1, sizeof(*t));
    if (t) {
        t->words = rv_block_dirty_words(b);
        t->bits = calloc(t->words ? t->words : 1, sizeof(uint64_t));
    }
    if (!t || !t->bits) {
        free(t);
        return rv_error_set(-ENOMEM, "out of memory");
    }
    pthread_mutex_init(&t->lock, NULL);
    __atomic_store_n(&b->tracker, t, __ATOMIC_RELEASE);
    return 0;
}

void rv_block_dirty_stop(struct rv_block *b)
{
    struct rv_block_tracker *t = b->tracker;
    if (!t)
        return;
    __atomic_store_n(&b->tracker, NULL, __ATOMIC_RELEASE);
    pthread_mutex_destroy(&t->lock);
    free(t->bits);
    free(t);
}

uint64_t rv_block_dirty_take(struct rv_block *b, uint64_t *bits)
{
    struct rv_block_tracker *t = b->tracker;
    uint64_t n = 0;
    if (!t)
        return 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->words; i++) {
        bits[i] |= t->bits[i];
        t->bits[i] = 0;
        n += (uint64_t)__builtin_popcountll(bits[i]);
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}

struct rv_block_tracker *rv_block_track_enter(struct rv_block *b)
{
    struct rv_block_tracker *t = __atomic_load_n(&b->tracker, __ATOMIC_ACQUIRE);
    if (t)
        pthread_mutex_lock(&t->lock);
    return t;
}

void rv_block_track_leave(struct rv_block_tracker *t, int rc, uint64_t offset, uint64_t len)
{
    if (!t)
        return;
    if (rc >= 0 && len) {
        uint64_t first = offset / RV_BLOCK_DIRTY_CHUNK;
        uint64_t last = (offset + len - 1) / RV_BLOCK_DIRTY_CHUNK;
        for (uint64_t c = first; c <= last && c / 64 < t->words; c++)
            t->bits[c / 64] |= 1ull << (c % 64);
    }
    pthread_mutex_unlock(&t->lock);
}
