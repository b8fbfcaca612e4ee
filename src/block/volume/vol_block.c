/* The block backend for logical volumes: `--disk vol:VG/LV`. Requests are split where the
 * mapping changes (extent runs, stripe chunks) and go to the PV files; mirrors write every
 * healthy leg and read from one (alternating), failing over to the other leg on an error.
 *
 * A watcher thread polls the metadata sequence number (two 512-byte reads every 500 ms); when
 * another process commits a new version (lv-resize, vg-extend, a leg marked stale) the mapping
 * is reloaded and a size change is reported through rv_block_notify_resize, which virtio-blk
 * turns into a configuration change interrupt (virtio 1.2, 5.2.4: capacity). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "block/block_int.h"
#include "block/file.h"
#include "block/volume/vol.h"
#include "block/volume/vol_block.h"
#include "block/volume/vol_thin.h"
#include "core/error.h"
#include "core/iov.h"
#include "core/log.h"

#define WATCH_MS 500

struct vol_block {
    struct rv_block base;
    pthread_mutex_t lock;        /* the mapping and the files, against the watcher */
    struct vol_vg *vg;
    uint32_t lv_id;
    struct vol_lv *lv;           /* in vg */
    struct rv_file files[VOL_MAX_PVS]; /* fd -1 for missing PVs */
    bool leg_bad[2];             /* mirror legs not to read from */
    unsigned next_leg;
    bool unsafe;
    char vgname[VOL_NAME_MAX + 1];
    pthread_t watcher;
    bool watching, stop;
    pthread_cond_t stop_cond;
    struct vol_thin_dev thin;    /* thin volumes: pool NULL otherwise */
    struct vol_lv *origin;       /* thin snapshot of a non-thin LV: read where not written */
    bool follow;                 /* ... read-only: its origin may be written meanwhile */
    struct vol_origin *cow;      /* a non-thin LV with snapshots, writable (vol_origin.c) */
};

static struct vol_block *to_vb(struct rv_block *b)
{
    return (struct vol_block *)b;
}

static void files_close(struct vol_block *v)
{
    for (int i = 0; i < VOL_MAX_PVS; i++)
        if (v->files[i].fd >= 0)
            rv_file_close(&v->files[i]);
}

/* One rv_file per present PV, on a dup of the VG's fd (the VG keeps the locks). */
static int files_open(struct vol_block *v)
{
    for (uint32_t i = 0; i < v->vg->npvs; i++) {
        struct vol_pv *pv = &v->vg->pvs[i];
        int fd = pv->fd >= 0 ? dup(pv->fd) : -1;
        if (pv->fd >= 0 && fd < 0)
            return rv_error_set(-errno, "%s: %s", pv->path, strerror(errno));
        if (fd >= 0 && rv_file_init(&v->files[i], fd, false, v->unsafe, pv->path) < 0) {
            close(fd);
            return -EIO;
        }
    }
    return 0;
}

static bool area_present(const struct vol_vg *vg, const struct vol_area *a)
{
    for (uint32_t r = 0; r < a->nruns; r++)
        if (vg->pvs[a->runs[r].pv].fd < 0)
            return false;
    return true;
}

/* Marks leg `leg` stale in the metadata (best effort: a read-only user only warns). */
static void mirror_mark_stale(struct vol_block *v, unsigned leg)
{
    if (v->base.readonly)
        return;
    struct vol_vg *vg;
    if (vol_vg_open(v->vg->devices, v->vgname, VOL_OPEN_WRITE, &vg) == 0) {
        for (uint32_t l = 0; l < vg->nlvs; l++)
            if (vg->lvs[l].id == v->lv_id && !vg->lvs[l].areas[1 - leg].stale)
                vg->lvs[l].areas[leg].stale = true;
        if (vol_vg_commit(vg))
            rv_warn("%s: cannot record the stale mirror leg: %s", v->base.path, rv_error_get());
        vol_vg_close(vg);
    }
}

static void legs_update(struct vol_block *v)
{
    if (v->lv->type != VOL_MIRROR)
        return;
    for (unsigned leg = 0; leg < 2; leg++) {
        bool bad = v->lv->areas[leg].stale || !area_present(v->vg, &v->lv->areas[leg]);
        if (bad && !v->leg_bad[leg])
            rv_warn("%s: mirror leg %u is %s: running degraded on the other leg", v->base.path,
                    leg, v->lv->areas[leg].stale ? "out of sync" : "on a missing PV");
        v->leg_bad[leg] = bad;
    }
}

/* The PV piece under offset `aoff` of area `ar`: its open file, its offset there and its
 * length, at most `len`. */
static int area_piece(struct vol_block *v, const struct vol_area *ar, uint64_t aoff,
                      uint64_t len, struct rv_file **file, uint64_t *pv_off, uint64_t *n)
{
    uint32_t pv;
    uint64_t avail;
    int rc = vol_area_map(v->vg, ar, aoff, &pv, pv_off, &avail);
    if (rc)
        return rc;
    if (v->files[pv].fd < 0)
        return rv_error_set(-ENODEV, "%s: PV %s is missing", v->base.path, v->vg->pvs[pv].path);
    *file = &v->files[pv];
    *n = len < avail ? len : avail;
    return 0;
}

/* Transfers `len` bytes at offset `aoff` of area `ar` (whose data is iov[ioff..]). */
static int area_rw1(struct vol_block *v, const struct vol_area *ar, bool write, uint64_t aoff,
                    uint64_t len, const struct iovec *iov, int iovcnt, uint64_t ioff,
                    struct iovec *scratch)
{
    while (len > 0) {
        struct rv_file *file = NULL; /* set by area_piece() on success (gcc -O3 cannot tell) */
        uint64_t pv_off = 0, n = 0;
        int rc = area_piece(v, ar, aoff, len, &file, &pv_off, &n);
        if (rc)
            return rc;
        int cnt = rv_iov_slice(iov, iovcnt, ioff, n, scratch, iovcnt);
        if (cnt < 0)
            return rv_error_set(-EINVAL, "%s: bad scatter/gather list", v->base.path);
        rc = write ? rv_file_pwritev(file, pv_off, scratch, cnt)
                   : rv_file_preadv(file, pv_off, scratch, cnt);
        if (rc)
            return rc;
        aoff += n;
        ioff += n;
        len -= n;
    }
    return 0;
}

/* Area `a` of `lv`; a write also goes to the area's new place while a pv-move copies it. */
static int area_rw(struct vol_block *v, const struct vol_lv *lv, bool write, uint32_t a,
                   uint64_t aoff, uint64_t len, const struct iovec *iov, int iovcnt,
                   uint64_t ioff, struct iovec *scratch)
{
    int rc = area_rw1(v, &lv->areas[a], write, aoff, len, iov, iovcnt, ioff, scratch);
    if (!rc && write && lv->moving)
        rc = area_rw1(v, &lv->moving[a], true, aoff, len, iov, iovcnt, ioff, scratch);
    return rc;
}

/* A mirror request: writes go to every good leg, reads to one with failover. */
static int mirror_rw(struct vol_block *v, bool write, uint64_t off, uint64_t len,
                     const struct iovec *iov, int iovcnt, uint64_t ioff, struct iovec *scratch)
{
    int rc = -EIO, ok = 0;
    unsigned first = write ? 0 : (v->next_leg++ & 1);
    for (unsigned k = 0; k < 2; k++) {
        unsigned leg = (first + k) & 1;
        if (v->leg_bad[leg])
            continue;
        rc = area_rw(v, v->lv, write, leg, off, len, iov, iovcnt, ioff, scratch);
        if (rc == 0) {
            ok++;
            if (!write)
                return 0;
            continue;
        }
        rv_warn("%s: mirror leg %u failed (%s): running degraded", v->base.path, leg,
                rv_error_get());
        v->leg_bad[leg] = true;
        if (!v->leg_bad[1 - leg])
            mirror_mark_stale(v, leg);
    }
    if (ok)
        return 0;
    return rc ? rc : rv_error_set(-EIO, "%s: no usable mirror leg", v->base.path);
}

/* Reads non-thin LV `o` (a mirror from its first usable leg); zeros past its end. Called with
 * v->lock held. */
static int lv_read(struct vol_block *v, const struct vol_lv *o, uint64_t off, void *buf,
                   uint64_t len)
{
    uint64_t size = o->extents * v->vg->extent_size;
    struct iovec whole = {buf, len}, scratch;
    memset(buf, 0, len);
    for (uint64_t done = 0; off + done < size && done < len;) {
        uint32_t area;
        uint64_t aoff, avail;
        vol_lv_map(v->vg, o, off + done, &area, &aoff, &avail);
        uint64_t n = len - done < avail ? len - done : avail;
        n = n < size - off - done ? n : size - off - done;
        if (o->type == VOL_MIRROR)
            area = o->areas[0].stale || !area_present(v->vg, &o->areas[0]) ? 1 : 0;
        int rc = area_rw(v, o, false, area, aoff, n, &whole, 1, done, &scratch);
        if (rc)
            return rc;
        done += n;
    }
    return 0;
}

/* The origin of a thin snapshot, where the snapshot has not written. */
static int origin_read(void *ctx, uint64_t off, void *buf, uint64_t len)
{
    struct vol_block *v = ctx;
    return lv_read(v, v->origin, off, buf, len);
}

/* This LV (an origin being written: the old contents for its snapshots). */
static int self_read(void *ctx, uint64_t off, void *buf, uint64_t len)
{
    struct vol_block *v = ctx;
    return lv_read(v, v->lv, off, buf, len);
}

/* A read of a read-only snapshot whose origin another process may be writing. */
static int follow_read(struct vol_block *v, uint64_t offset, const struct iovec *iov,
                       int iovcnt, uint64_t len)
{
    bool changed = false;
    int rc = v->lv->invalid ? -EIO
                            : vol_thin_follow_read(&v->thin, offset, iov, iovcnt, len, &changed);
    if (v->lv->invalid || (changed && vol_snapshot_invalid_now(v->vg, v->lv_id))) {
        v->lv->invalid = true; /* for good: the origin is no longer copied for it */
        rc = rv_error_set(-EIO, "%s: this snapshot became invalid: its pool ran out of space "
                          "while its origin was written", v->base.path);
    }
    return rc;
}

static int vol_rw(struct rv_block *b, bool write, uint64_t offset, const struct iovec *iov,
                  int iovcnt, uint64_t len)
{
    struct vol_block *v = to_vb(b);
    struct iovec *scratch = malloc(sizeof(*scratch) * (size_t)iovcnt);
    if (!scratch)
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = 0;
    pthread_mutex_lock(&v->lock);
    if (v->thin.pool && v->follow && !write)
        rc = follow_read(v, offset, iov, iovcnt, len);
    else if (v->thin.pool)
        rc = vol_thin_rw(&v->thin, write, offset, iov, iovcnt, len);
    else if (write && v->cow)
        rc = vol_origin_before_write(v->cow, offset, len, self_read, v);
    for (uint64_t done = 0; done < len && rc == 0 && !v->thin.pool;) {
        uint32_t area;
        uint64_t aoff, avail;
        vol_lv_map(v->vg, v->lv, offset + done, &area, &aoff, &avail);
        uint64_t n = len - done < avail ? len - done : avail;
        if (v->lv->type == VOL_MIRROR)
            rc = mirror_rw(v, write, aoff, n, iov, iovcnt, done, scratch);
        else
            rc = area_rw(v, v->lv, write, area, aoff, n, iov, iovcnt, done, scratch);
        done += n;
    }
    pthread_mutex_unlock(&v->lock);
    free(scratch);
    return rc;
}

static int vol_readv(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt,
                     uint64_t len)
{
    return vol_rw(b, false, offset, iov, iovcnt, len);
}

static int vol_writev(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt,
                      uint64_t len)
{
    return vol_rw(b, true, offset, iov, iovcnt, len);
}

static int vol_flush(struct rv_block *b)
{
    struct vol_block *v = to_vb(b);
    int rc = 0;
    pthread_mutex_lock(&v->lock);
    if (v->thin.pool)
        rc = vol_thin_flush(&v->thin);
    for (uint32_t i = 0; i < v->vg->npvs && !rc && !v->thin.pool; i++)
        if (v->files[i].fd >= 0)
            rc = rv_file_sync(&v->files[i]);
    pthread_mutex_unlock(&v->lock);
    return rc;
}

/* Zeroes one PV range: punch a hole (files), else zero-range, else write zeros. */
static int pv_zero(struct rv_file *f, uint64_t off, uint64_t len)
{
    int rc = rv_file_punch_hole(f, off, len);
    if (rc == -EOPNOTSUPP)
        rc = rv_file_zero_range(f, off, len);
    if (rc == -EOPNOTSUPP)
        rc = rv_file_write_zeros(f, off, len);
    return rc;
}

static int area_zero1(struct vol_block *v, const struct vol_area *ar, uint64_t aoff,
                     uint64_t len)
{
    while (len > 0) {
        struct rv_file *file = NULL; /* set by area_piece() on success (gcc -O3 cannot tell) */
        uint64_t pv_off = 0, n = 0;
        int rc = area_piece(v, ar, aoff, len, &file, &pv_off, &n);
        if (rc || (rc = pv_zero(file, pv_off, n)))
            return rc;
        aoff += n;
        len -= n;
    }
    return 0;
}

static int area_zero(struct vol_block *v, uint32_t a, uint64_t aoff, uint64_t len)
{
    int rc = area_zero1(v, &v->lv->areas[a], aoff, len);
    if (!rc && v->lv->moving)
        rc = area_zero1(v, &v->lv->moving[a], aoff, len);
    return rc;
}

/* Discard reads back as zeros afterwards (documented): a discarded extent is never stale data
 * of another LV, and the guest sees the same thing as with write-zeroes. */
static int vol_zero(struct rv_block *b, uint64_t offset, uint64_t len, bool may_unmap)
{
    (void)may_unmap;
    struct vol_block *v = to_vb(b);
    int rc = 0;
    pthread_mutex_lock(&v->lock);
    if (v->thin.pool)
        rc = vol_thin_zero(&v->thin, offset, len);
    else if (v->cow)
        rc = vol_origin_before_write(v->cow, offset, len, self_read, v);
    for (uint64_t done = 0; done < len && rc == 0 && !v->thin.pool;) {
        uint32_t area;
        uint64_t aoff, avail;
        vol_lv_map(v->vg, v->lv, offset + done, &area, &aoff, &avail);
        uint64_t n = len - done < avail ? len - done : avail;
        for (uint32_t leg = 0; leg < 2 && v->lv->type == VOL_MIRROR && rc == 0; leg++)
            if (!v->leg_bad[leg])
                rc = area_zero(v, leg, aoff, n);
        if (v->lv->type != VOL_MIRROR)
            rc = area_zero(v, area, aoff, n);
        done += n;
    }
    pthread_mutex_unlock(&v->lock);
    return rc;
}

static int vol_discard(struct rv_block *b, uint64_t offset, uint64_t len)
{
    return vol_zero(b, offset, len, true);
}

static int vol_info(struct rv_block *b, struct rv_block_info *info)
{
    info->format = RV_BLOCK_RAW;
    info->virtual_size = b->size;
    return 0;
}

static void vol_close(struct rv_block *b)
{
    struct vol_block *v = to_vb(b);
    if (v->watching) {
        pthread_mutex_lock(&v->lock);
        v->stop = true;
        pthread_cond_signal(&v->stop_cond);
        pthread_mutex_unlock(&v->lock);
        pthread_join(v->watcher, NULL);
    }
    if (v->thin.pool && vol_thin_share_end(v->thin.pool)) /* commits; returns reservations */
        rv_warn("%s: %s", v->base.path, rv_error_get());
    vol_thin_pool_free(v->thin.pool);
    vol_origin_close(v->cow);
    files_close(v);
    vol_vg_close(v->vg);
    pthread_mutex_destroy(&v->lock);
    pthread_cond_destroy(&v->stop_cond);
    rv_block_free_common(b);
    free(v);
}

static const struct rv_block_driver vol_driver = {
    .name = "vol",
    .readv = vol_readv,
    .writev = vol_writev,
    .flush = vol_flush,
    .discard = vol_discard,
    .write_zeroes = vol_zero,
    .info = vol_info,
    .check = NULL,
    .close = vol_close,
};

/* --- watching the metadata for changes made by other processes --- */

/* Moves the fds (and so the locks) of PVs both versions have from `old` into `neu`. */
static void vg_adopt_fds(struct vol_vg *neu, struct vol_vg *old)
{
    for (uint32_t i = 0; i < neu->npvs; i++) {
        for (uint32_t k = 0; k < old->npvs; k++) {
            if (old->pvs[k].fd < 0 || memcmp(old->pvs[k].uuid, neu->pvs[i].uuid, VOL_UUID_LEN))
                continue;
            if (neu->pvs[i].fd >= 0)
                close(neu->pvs[i].fd);
            neu->pvs[i].fd = old->pvs[k].fd;
            old->pvs[k].fd = -1;
        }
    }
}

static void vol_reload(struct vol_block *v)
{
    struct vol_vg *vg;
    if (vol_vg_open(v->vg->devices, v->vgname, VOL_OPEN_READ, &vg)) {
        rv_warn("%s: cannot reload the volume group: %s", v->base.path, rv_error_get());
        return;
    }
    struct vol_lv *lv = NULL;
    for (uint32_t l = 0; l < vg->nlvs; l++)
        if (vg->lvs[l].id == v->lv_id)
            lv = &vg->lvs[l];
    if (!lv) {
        rv_warn("%s: the logical volume disappeared from the metadata", v->base.path);
        vol_vg_close(vg);
        return;
    }
    pthread_mutex_lock(&v->lock);
    vg_adopt_fds(vg, v->vg);
    /* New PVs: take the in-use lock on them too (a no-op on the adopted fds). */
    if (vol_lv_inuse_lock(vg, v->lv_id, !v->base.readonly))
        rv_warn("%s: %s", v->base.path, rv_error_get());
    files_close(v);
    uint32_t old_gen = v->lv->move_gen;
    uint32_t old_ogen = v->origin ? v->origin->move_gen : 0;
    vol_vg_close(v->vg);
    v->vg = vg;
    v->lv = lv;
    if (lv->move_gen != old_gen) { /* the new mapping is in place: tell a pv-move */
        vol_lv_gen_hold(vg, v->lv_id, lv->move_gen, true);
        vol_lv_gen_hold(vg, v->lv_id, old_gen, false);
    }
    if (v->cow)
        vol_origin_reload(v->cow, vg);
    if (v->thin.pool) { /* the tables stay; they now point into the new VG */
        v->thin.pool->vg = vg;
        v->thin.pool->lv = vol_lv_by_id(vg, lv->pool_id);
        struct vol_thin_table *t = vol_thin_table_find(v->thin.pool, lv->thin_id);
        if (t)
            vol_thin_table_resize(t, (uint32_t)(lv->extents * vg->extent_size /
                                                v->thin.pool->chunk_size));
        if (v->origin)
            v->origin = vol_lv_by_id(vg, lv->origin_id);
        if (v->follow && v->origin && v->origin->move_gen != old_ogen) { /* as for our own */
            vol_lv_gen_hold(vg, v->origin->id, v->origin->move_gen, true);
            vol_lv_gen_hold(vg, v->origin->id, old_ogen, false);
        }
    }
    if (files_open(v))
        rv_warn("%s: %s", v->base.path, rv_error_get());
    legs_update(v);
    uint64_t size = lv->extents * vg->extent_size;
    bool changed = size != v->base.size;
    __atomic_store_n(&v->base.size, size, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&v->lock);
    if (changed) {
        rv_info("%s: resized to %" PRIu64 " bytes", v->base.path, size);
        rv_block_notify_resize(&v->base, size);
    }
}

static void *vol_watch(void *arg)
{
    struct vol_block *v = arg;
    pthread_mutex_lock(&v->lock);
    while (!v->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WATCH_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&v->stop_cond, &v->lock, &ts);
        if (v->stop)
            break;
        if (vol_vg_changed(v->vg)) {
            pthread_mutex_unlock(&v->lock);
            vol_reload(v);
            pthread_mutex_lock(&v->lock);
        }
    }
    pthread_mutex_unlock(&v->lock);
    return NULL;
}

static int vol_start(struct vol_block *v)
{
    legs_update(v);
    if (v->lv->type == VOL_MIRROR) {
        if (v->leg_bad[0] && v->leg_bad[1])
            return rv_error_set(-ENODEV, "%s: no usable mirror leg", v->base.path);
        for (unsigned leg = 0; leg < 2; leg++)
            if (v->leg_bad[leg] && !v->lv->areas[leg].stale)
                mirror_mark_stale(v, leg);
    }
    v->base.size = v->lv->extents * v->vg->extent_size;
    v->base.can_discard = true;
    memset(v->base.id, 0, sizeof(v->base.id));
    memcpy(v->base.id, v->vg->uuid, 8);   /* VG uuid + LV id: stable across runs */
    memcpy(v->base.id + 8, &v->lv_id, 4);
    sigset_t all, old;
    sigfillset(&all);
    /* SIGSYS stays open: libpsx uses it to drop capabilities on every thread (hv/sandbox.c),
     * and waits forever for a thread that blocks it. */
    sigdelset(&all, SIGSYS);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* signals belong to the machine's threads */
    int rc = pthread_create(&v->watcher, NULL, vol_watch, v);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return rv_error_set(-rc, "cannot start the metadata watcher: %s", strerror(rc));
    pthread_setname_np(v->watcher, "vol-watch");
    v->watching = true;
    return 0;
}

/* What a thin volume needs: its pool (shared) and its origin; what an origin of snapshots needs
 * to be written (vol_origin.c). */
static int thin_setup(struct vol_block *v, bool readonly)
{
    if (v->lv->type == VOL_THIN_POOL)
        return rv_error_set(-EINVAL, "%s: a thin pool is not a disk (use its thin volumes)",
                            v->base.path);
    if (v->lv->invalid)
        return rv_error_set(-EIO, "%s: this snapshot is invalid: its pool ran out of space while "
                            "its origin was written (remove it)", v->base.path);
    if (v->lv->type != VOL_THIN) /* an origin of snapshots copies old chunks into them */
        return readonly ? 0 : vol_origin_open(v->vg, v->lv, v->files, v->base.path, &v->cow);
    /* Shared: other thin volumes of the pool may be in use at the same time (vol_thin_share.c);
     * operations that need the pool idle (growing it, moving it) take it exclusively. */
    struct vol_lv *pool = vol_lv_by_id(v->vg, v->lv->pool_id);
    int rc = vol_lv_inuse_lock(v->vg, pool->id, false);
    if (rc)
        return rv_error_set(rc, "%s: its thin pool %s is being resized or moved", v->base.path,
                            pool->name);
    if (v->lv->origin_id != VOL_NO_LV) {
        struct vol_lv *o = vol_lv_by_id(v->vg, v->lv->origin_id);
        if (o->type != VOL_THIN) {
            /* Read-only, the snapshot follows a writer of the origin (vol_thin_follow_read);
             * a writable one keeps the origin's writers out (and they keep it out). */
            if (!readonly && (rc = vol_lv_inuse_lock(v->vg, o->id, false)))
                return rv_error_prefix(rc, "%s: origin %s: ", v->base.path, o->name);
            v->origin = o;
            v->follow = readonly;
            if (readonly) /* a pv-move of the origin waits for us to follow it */
                vol_lv_gen_hold(v->vg, o->id, o->move_gen, true);
            if (readonly && vol_vg_changed(v->vg))
                return -EAGAIN; /* an offline pv-move of it may have just committed */
        }
    }
    if ((rc = vol_thin_pool_load(v->vg, pool, &v->thin.pool)) ||
        (rc = vol_thin_share_begin(v->thin.pool, &v->lv->thin_id, 1, !readonly)))
        return rc;
    v->thin.thin_id = v->lv->thin_id;
    v->thin.files = v->files;
    v->thin.origin_read = v->origin ? origin_read : NULL;
    v->thin.origin_ctx = v;
    struct vol_thin_table *t = vol_thin_table_find(v->thin.pool, v->lv->thin_id);
    if (!t)
        return rv_error_set(-EIO, "%s: its table is missing from the thin pool", v->base.path);
    return vol_thin_table_resize(t, (uint32_t)(v->lv->extents * v->vg->extent_size /
                                               v->thin.pool->chunk_size));
}

static int vol_open_once(const char *spec, const struct rv_block_opts *opts,
                         struct rv_block **out)
{
    const char *slash = strchr(spec, '/');
    if (!slash || (size_t)(slash - spec) > VOL_NAME_MAX || !vol_name_valid(slash + 1))
        return rv_error_set(-EINVAL, "vol:%s: expected vol:VG/LV", spec);
    struct vol_block *v = calloc(1, sizeof(*v));
    if (!v)
        return rv_error_set(-ENOMEM, "out of memory");
    for (int i = 0; i < VOL_MAX_PVS; i++)
        v->files[i].fd = -1;
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->stop_cond, NULL);
    memcpy(v->vgname, spec, (size_t)(slash - spec));
    v->unsafe = opts->cache == RV_CACHE_UNSAFE;
    char path[VOL_NAME_MAX * 2 + 8];
    snprintf(path, sizeof(path), "vol:%s", spec);
    int rc = rv_block_init_common(&v->base, &vol_driver, RV_BLOCK_RAW, path, opts->readonly);
    if (!rc)
        rc = vol_vg_open(NULL, v->vgname, VOL_OPEN_READ, &v->vg);
    if (!rc && !(v->lv = vol_lv_find(v->vg, slash + 1)))
        rc = rv_error_set(-ENOENT, "logical volume %s not found", spec);
    if (!rc) {
        v->lv_id = v->lv->id;
        rc = vol_lv_inuse_lock(v->vg, v->lv_id, !opts->readonly);
        if (rc)
            rv_error_prefix(rc, "%s: ", spec);
        else
            vol_lv_gen_hold(v->vg, v->lv_id, v->lv->move_gen, true);
        /* A pv-move that committed between our read and our lock did not wait for us. */
        if (!rc && vol_vg_changed(v->vg))
            rc = -EAGAIN;
    }
    if (!rc)
        rc = thin_setup(v, opts->readonly);
    if (!rc)
        rc = files_open(v);
    if (!rc)
        rc = vol_start(v);
    if (rc) {
        vol_close(&v->base);
        return rc;
    }
    *out = &v->base;
    return 0;
}

int rv_vol_block_open(const char *spec, const struct rv_block_opts *opts, struct rv_block **out)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        int rc = vol_open_once(spec, opts, out);
        if (rc != -EAGAIN)
            return rc;
    }
    return rv_error_set(-EAGAIN, "vol:%s: the metadata keeps changing", spec);
}
