/* Several users of one thin pool at once (two VMs on two thin volumes of a pool, a VM and the
 * NBD server, ...), each in its own process with the pool's tables in its memory.
 *
 * Who writes what: a user writes only its own tables (`own`: the thin volume it opened, which
 * its in-use lock keeps from everybody else; for a snapshot origin, the snapshots' tables). The
 * other tables only change through pool operations (lv-create, lv-remove, snapshots, merges)
 * on LVs nobody uses, or through other users' commits.
 *
 * Commits: under the pool lock (an exclusive OFD lock on byte 2^60 + pool id of the PV holding
 * the pool's metadata area) a user reads the slot headers; when someone else committed since
 * its last look it reloads the newest slot and merges: its own tables from memory, every other
 * table from the disk. Then it commits the merged tables like a lone user (the slot that is not
 * current, synced before it counts) and unlocks. Pool operations hold the same lock while they
 * load, change and commit.
 *
 * Allocation: a chunk is free when no table in memory references it and no committed table
 * does (so a chunk another user freed but did not commit yet is never reused). To keep two
 * users from picking the same free chunk between commits, each writer allocates from its own
 * reservation: a table (id VOL_THIN_RES + slot) listing chunks reserved for it, committed
 * before any of them is written. Taking a chunk from it moves the reference into the user's
 * table, in memory. A writer owns its slot through an exclusive OFD lock on byte 2^60 + 2^40 +
 * 64 × pool id + slot for as long as it runs; a reservation whose slot lock is free belongs to
 * a user that crashed: the next merge drops it (its chunks stay unusable until that commit,
 * like any committed reference). A clean close commits without its reservation. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "block/volume/vol_thin.h"
#include "core/error.h"

#define LOCK_BASE (1ull << 60)
#define RES_BYTE(pool, k) (LOCK_BASE + (1ull << 40) + 64ull * (pool) + (k))
#define RES_BATCH 64u

/* The fd whose OFD locks guard the pool: the PV of its metadata area's first run. */
static int pool_fd(struct vol_vg *vg, struct vol_lv *pool)
{
    if (pool->nareas < 2 || pool->areas[1].nruns == 0)
        return rv_error_set(-EINVAL, "%s: not a thin pool", pool->name);
    int fd = vg->pvs[pool->areas[1].runs[0].pv].fd;
    return fd >= 0 ? fd : rv_error_set(-ENODEV, "thin pool %s: metadata PV missing", pool->name);
}

int vol_thin_pool_lock(struct vol_vg *vg, struct vol_lv *pool, short type)
{
    int fd = pool_fd(vg, pool);
    if (fd < 0)
        return fd;
    int rc = vol_byte_lock(fd, type, LOCK_BASE + pool->id, true);
    return rc ? rv_error_set(rc, "thin pool %s: lock: %s", pool->name, strerror(-rc)) : 0;
}

bool vol_thin_res_alive(struct vol_vg *vg, struct vol_lv *pool, uint32_t id)
{
    int fd = pool_fd(vg, pool);
    uint64_t byte = RES_BYTE(pool->id, id - VOL_THIN_RES);
    if (fd < 0 || id - VOL_THIN_RES >= VOL_THIN_RES_SLOTS)
        return false;
    if (vol_byte_lock(fd, F_WRLCK, byte, false) != 0)
        return true; /* held by its user */
    vol_byte_lock(fd, F_UNLCK, byte, false);
    return false;
}

static uint32_t res_id(const struct vol_thin_pool *tp)
{
    return VOL_THIN_RES + (uint32_t)tp->res_slot;
}

static bool owned(const struct vol_thin_pool *tp, uint32_t id)
{
    if (tp->res_slot >= 0 && id == res_id(tp))
        return true;
    for (uint32_t i = 0; i < tp->nown; i++)
        if (tp->own[i] == id)
            return true;
    return false;
}

/* Drops the reservations of users that crashed (their slot lock is free). Their chunks stay
 * unusable until the next commit, like any committed reference. */
static void drop_dead(struct vol_thin_pool *tp)
{
    for (uint32_t i = 0; i < tp->ntables; i++) {
        uint32_t id = tp->tables[i].thin_id;
        if (id >= VOL_THIN_RES && !owned(tp, id) && !vol_thin_res_alive(tp->vg, tp->lv, id)) {
            vol_thin_table_remove(tp, id);
            i--;
        }
    }
}

/* Reloads the newest committed tables and merges: ours from memory, the others from disk. */
static int share_merge(struct vol_thin_pool *tp)
{
    struct vol_thin_pool *f;
    int rc = vol_thin_pool_load(tp->vg, tp->lv, &f);
    if (rc)
        return rc;
    if (f->data_chunks != tp->data_chunks) {
        vol_thin_pool_free(f);
        return rv_error_set(-EIO, "thin pool %s changed size while in use", tp->lv->name);
    }
    uint32_t extra = 1; /* room for ours that are not on the disk yet: nothing fails later */
    for (uint32_t i = 0; i < tp->ntables; i++)
        extra += owned(tp, tp->tables[i].thin_id) && !vol_thin_table_find(f, tp->tables[i].thin_id);
    struct vol_thin_table *room = realloc(f->tables, sizeof(*room) * (f->ntables + extra));
    if (!room) {
        vol_thin_pool_free(f);
        return rv_error_set(-ENOMEM, "out of memory");
    }
    f->tables = room;
    memcpy(tp->committed, f->committed, tp->data_chunks); /* what the disk references */
    for (uint32_t i = 0; i < f->ntables; i++) {
        struct vol_thin_table *ft = &f->tables[i];
        struct vol_thin_table *mt = owned(tp, ft->thin_id) ? vol_thin_table_find(tp, ft->thin_id)
                                                           : NULL;
        if (mt) { /* ours: the version in memory wins */
            struct vol_thin_table t = *ft;
            *ft = *mt;
            *mt = t;
            mt->thin_id = UINT32_MAX; /* taken */
        }
    }
    for (uint32_t i = 0; i < tp->ntables; i++) { /* ours, not yet on the disk */
        struct vol_thin_table *mt = &tp->tables[i];
        if (mt->thin_id != UINT32_MAX && owned(tp, mt->thin_id)) {
            f->tables[f->ntables++] = *mt;
            mt->map = NULL;
        }
    }
    struct vol_thin_table *t = tp->tables;
    uint32_t n = tp->ntables;
    tp->tables = f->tables, tp->ntables = f->ntables;
    f->tables = t, f->ntables = n;
    tp->seq = f->seq;
    tp->cur_slot = f->cur_slot;
    vol_thin_count_refs(tp);
    tp->dirty = true;
    vol_thin_pool_free(f);
    return 0;
}

/* Merges the newest committed tables into tp (see the top). Pool lock held. */
static int share_sync(struct vol_thin_pool *tp)
{
    uint64_t seq;
    int rc = vol_thin_pool_peek(tp, &seq);
    if (!rc && seq != tp->seq)
        rc = share_merge(tp);
    if (!rc)
        drop_dead(tp);
    return rc;
}

static int share_locked(struct vol_thin_pool *tp, int (*fn)(struct vol_thin_pool *tp))
{
    int rc = vol_thin_pool_lock(tp->vg, tp->lv, F_WRLCK);
    if (rc)
        return rc;
    rc = share_sync(tp);
    if (!rc)
        rc = fn(tp);
    vol_thin_pool_lock(tp->vg, tp->lv, F_UNLCK);
    return rc;
}

static int commit_merged(struct vol_thin_pool *tp)
{
    if (tp->res_drop)
        vol_thin_table_remove(tp, res_id(tp));
    return vol_thin_pool_commit(tp);
}

int vol_thin_share_commit(struct vol_thin_pool *tp)
{
    if (!tp->dirty && !tp->res_drop)
        return 0;
    return share_locked(tp, commit_merged);
}

/* Puts up to RES_BATCH free chunks into the reservation (fewer as the pool fills, so that the
 * other users still find some). */
static uint32_t reserve(struct vol_thin_pool *tp, struct vol_thin_table *r)
{
    uint32_t nfree = 0, want, got = 0;
    for (uint32_t c = 0; c < tp->data_chunks; c++)
        nfree += tp->refs[c] == 0 && !tp->committed[c];
    want = nfree / 8 < RES_BATCH ? nfree / 8 : RES_BATCH;
    want = want ? want : (nfree ? 1 : 0);
    uint32_t *m = want ? realloc(r->map, 4ull * want) : NULL;
    if (!m)
        return 0;
    r->map = m;
    for (uint32_t k = 0; k < tp->data_chunks && got < want; k++) {
        uint32_t c = (tp->hint + k) % tp->data_chunks;
        if (tp->refs[c] == 0 && !tp->committed[c]) {
            tp->refs[c] = 1;
            r->map[got++] = c + 1;
        }
    }
    tp->hint = got ? r->map[got - 1] : tp->hint;
    r->nchunks = got;
    return got;
}

static int refill_locked(struct vol_thin_pool *tp)
{
    struct vol_thin_table *r = vol_thin_table_find(tp, res_id(tp));
    if (!r)
        return rv_error_set(-EIO, "thin pool %s: reservation table missing", tp->lv->name);
    for (uint32_t c = 0; c < r->nchunks; c++) /* what is left goes back */
        tp->refs[r->map[c] - 1]--;
    r->nchunks = 0;
    if (!reserve(tp, r)) { /* chunks freed since the last commit are free after it */
        int rc = vol_thin_pool_commit(tp);
        r = vol_thin_table_find(tp, res_id(tp));
        if (rc || !reserve(tp, r))
            return rc ? rc : rv_error_set(-ENOSPC, "thin pool %s/%s is out of space (%" PRIu32
                                          " chunks of %" PRIu64 " KiB, all in use): extend the "
                                          "pool or free space", tp->vg->name, tp->lv->name,
                                          tp->data_chunks, tp->chunk_size >> 10);
    }
    int rc = vol_thin_pool_commit(tp); /* reserved on the disk before anything is written */
    tp->res_on_disk |= rc == 0;
    return rc;
}

int vol_thin_share_refill(struct vol_thin_pool *tp)
{
    return share_locked(tp, refill_locked);
}

int vol_thin_share_begin(struct vol_thin_pool *tp, const uint32_t *own, uint32_t nown,
                         bool writer)
{
    if (nown && !(tp->own = malloc(sizeof(*own) * nown)))
        return rv_error_set(-ENOMEM, "out of memory");
    memcpy(tp->own, own, sizeof(*own) * nown);
    tp->nown = nown;
    tp->shared = true;
    if (!writer)
        return 0;
    int fd = pool_fd(tp->vg, tp->lv);
    if (fd < 0)
        return fd;
    for (uint32_t k = 0; k < VOL_THIN_RES_SLOTS && tp->res_slot < 0; k++)
        if (vol_byte_lock(fd, F_WRLCK, RES_BYTE(tp->pool_id, k), false) == 0)
            tp->res_slot = (int)k;
    if (tp->res_slot < 0)
        return rv_error_set(-EBUSY, "thin pool %s: %u writers already", tp->lv->name,
                            VOL_THIN_RES_SLOTS);
    /* Reservations of users that crashed are dropped by our first commit (at close at the
     * latest): make sure there is one. */
    bool dirty = tp->dirty;
    for (uint32_t i = 0; i < tp->ntables; i++)
        dirty |= tp->tables[i].thin_id >= VOL_THIN_RES;
    struct vol_thin_table *r = vol_thin_table_find(tp, res_id(tp));
    int rc = 0;
    if (!r) { /* else a crashed user's: its chunks stay unusable until our first commit */
        rc = vol_thin_table_add(tp, res_id(tp), 0, NULL);
    } else {
        for (uint32_t c = 0; c < r->nchunks; c++)
            if (r->map[c])
                tp->refs[r->map[c] - 1]--;
        r->nchunks = 0;
    }
    tp->dirty = dirty;
    return rc;
}

int vol_thin_share_end(struct vol_thin_pool *tp)
{
    if (tp->res_slot < 0)
        return 0;
    struct vol_thin_table *r = vol_thin_table_find(tp, res_id(tp));
    for (uint32_t c = 0; r && c < r->nchunks; c++)
        tp->refs[r->map[c] - 1]--;
    if (r)
        r->nchunks = 0;
    tp->res_drop = true;
    int rc = tp->dirty || tp->res_on_disk ? vol_thin_share_commit(tp) : 0;
    int fd = pool_fd(tp->vg, tp->lv);
    if (fd >= 0)
        vol_byte_lock(fd, F_UNLCK, RES_BYTE(tp->pool_id, (uint32_t)tp->res_slot), false);
    tp->res_slot = -1;
    return rc;
}

/* --- a read-only user of a classic snapshot while its origin is written ---
 * The origin's writer (vol_origin.c) owns the snapshot's table: before it overwrites a chunk of
 * the origin that the snapshot still reads there, it copies the chunk into the snapshot and
 * commits the pool (under the pool lock, exclusive); only then does it write the origin. A
 * reader holds the pool lock shared for the whole request, re-reads the snapshot's table when
 * a commit happened since its last look, and reads (through the table or the origin) before it
 * unlocks. A chunk the table does not map yet cannot be copied, hence not overwritten, before
 * the reader unlocks: the read sees the snapshot's point in time, never a mix. */

/* Replaces the table of `thin_id` with the newest committed one when the pool changed. */
static int follow_sync(struct vol_thin_pool *tp, uint32_t thin_id, bool *changed)
{
    uint64_t seq;
    int rc = vol_thin_pool_peek(tp, &seq);
    if (rc || seq == tp->seq)
        return rc;
    struct vol_thin_pool *f;
    if ((rc = vol_thin_pool_load(tp->vg, tp->lv, &f)))
        return rc;
    struct vol_thin_table *ft = vol_thin_table_find(f, thin_id);
    struct vol_thin_table *mt = vol_thin_table_find(tp, thin_id);
    if (!ft || !mt)
        rc = rv_error_set(-EIO, "thin pool %s: the snapshot's table disappeared", tp->lv->name);
    else if (!(rc = vol_thin_table_resize(ft, mt->nchunks))) {
        uint32_t *map = mt->map, n = mt->nchunks;
        mt->map = ft->map, mt->nchunks = ft->nchunks;
        ft->map = map, ft->nchunks = n;
        tp->seq = f->seq;
        tp->cur_slot = f->cur_slot;
        *changed = true;
    }
    vol_thin_pool_free(f);
    return rc;
}

int vol_thin_follow_read(struct vol_thin_dev *d, uint64_t off, const struct iovec *iov,
                         int iovcnt, uint64_t len, bool *changed)
{
    struct vol_thin_pool *tp = d->pool;
    *changed = false;
    int rc = vol_thin_pool_lock(tp->vg, tp->lv, F_RDLCK);
    if (rc)
        return rc;
    rc = follow_sync(tp, d->thin_id, changed);
    if (!rc)
        rc = vol_thin_rw(d, false, off, iov, iovcnt, len);
    vol_thin_pool_lock(tp->vg, tp->lv, F_UNLCK);
    return rc;
}
