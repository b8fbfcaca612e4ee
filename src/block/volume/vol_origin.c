/* Writing the origin of snapshots (dm-snapshot semantics, as LVM's classic snapshots): a
 * linear, striped or mirror LV with snapshots (thin volumes in a thin pool that read the origin
 * where they have not written) stays writable. Before a write reaches a chunk of the origin, the
 * chunk's old contents are copied into every snapshot that has no chunk of its own there yet
 * (its copy-on-write store is its table in the pool), and the pool tables are committed
 * (synced) before the origin write is issued: a crash at any point leaves each snapshot reading
 * the old data, either through its new chunk or through the untouched origin.
 *
 * A snapshot whose pool has no free chunk left becomes invalid: the flag is committed in the
 * VG metadata before the origin write, the snapshot can then only be removed, and the origin
 * carries on (the pool is committed too, so that a reader of the snapshot notices before the
 * origin changes). While the origin is open for writing its snapshots are locked in use,
 * shared: nobody opens them for writing, merges or removes them meanwhile, and the origin's
 * writer owns their tables in the pool (vol_thin_share.c: pools are shared with their other
 * users). Read-only users of a snapshot may come and go: they follow its table under the pool
 * lock (vol_thin_follow_read), which the commit before each origin write takes exclusively. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/file.h"
#include "block/volume/vol_thin.h"
#include "core/error.h"
#include "core/log.h"

#define MAX_POOLS 8

struct origin_snap {
    uint32_t lv_id;
    struct vol_thin_dev dev; /* its pool and table */
    uint64_t size;
    bool invalid;
};

struct vol_origin {
    struct vol_vg *vg;
    char what[2 * VOL_NAME_MAX + 8];
    struct vol_thin_pool *pools[MAX_POOLS];
    uint32_t npools;
    struct origin_snap *snaps;
    uint32_t nsnaps;
};

/* The pool of `pool_id` among o's, loaded (shared, with the tables of `own`) on first use. */
static int origin_pool(struct vol_origin *o, uint32_t pool_id, const uint32_t *own,
                       uint32_t nown, struct vol_thin_pool **out)
{
    for (uint32_t i = 0; i < o->npools; i++)
        if (o->pools[i]->pool_id == pool_id)
            return *out = o->pools[i], 0;
    if (o->npools == MAX_POOLS)
        return rv_error_set(-ENOTSUP, "%s: snapshots in more than %d pools", o->what, MAX_POOLS);
    struct vol_lv *pool = vol_lv_by_id(o->vg, pool_id);
    int rc = vol_lv_inuse_lock(o->vg, pool_id, false); /* the pool keeps its size and place */
    if (rc)
        return rv_error_prefix(rc, "%s: thin pool %s: ", o->what, pool->name);
    if ((rc = vol_thin_pool_load(o->vg, pool, out)))
        return rc;
    o->pools[o->npools++] = *out;
    return vol_thin_share_begin(*out, own, nown, true);
}

/* The thin ids of the origin's snapshots in pool `pool_id`. */
static uint32_t snap_ids(const struct vol_vg *vg, uint32_t origin, uint32_t pool_id,
                         uint32_t *ids)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < vg->nlvs; i++)
        if (vg->lvs[i].type == VOL_THIN && vg->lvs[i].origin_id == origin &&
            vg->lvs[i].pool_id == pool_id)
            ids[n++] = vg->lvs[i].thin_id;
    return n;
}

int vol_origin_open(struct vol_vg *vg, struct vol_lv *lv, struct rv_file *files,
                    const char *what, struct vol_origin **out)
{
    *out = NULL;
    if (!lv->frozen || lv->type == VOL_THIN)
        return 0;
    struct vol_origin *o = calloc(1, sizeof(*o));
    uint32_t *ids = calloc(vg->nlvs + 1, sizeof(*ids));
    if (!o || !ids || !(o->snaps = calloc(vg->nlvs, sizeof(*o->snaps)))) {
        free(ids);
        vol_origin_close(o);
        return rv_error_set(-ENOMEM, "out of memory");
    }
    o->vg = vg;
    snprintf(o->what, sizeof(o->what), "%s", what);
    int rc = 0;
    for (uint32_t i = 0; i < vg->nlvs && !rc; i++) {
        struct vol_lv *s = &vg->lvs[i];
        if (s->type != VOL_THIN || s->origin_id != lv->id)
            continue;
        struct origin_snap *os = &o->snaps[o->nsnaps++];
        os->lv_id = s->id;
        os->size = s->extents * vg->extent_size;
        os->invalid = s->invalid;
        os->dev.thin_id = s->thin_id;
        os->dev.files = files;
        if ((rc = vol_lv_inuse_lock(vg, s->id, false))) {
            rv_error_prefix(rc, "%s: its snapshot %s: ", what, s->name);
            break;
        }
        rc = origin_pool(o, s->pool_id, ids, snap_ids(vg, lv->id, s->pool_id, ids),
                         &os->dev.pool);
    }
    free(ids);
    if (rc) {
        vol_origin_close(o);
        return rc;
    }
    *out = o;
    return 0;
}

void vol_origin_reload(struct vol_origin *o, struct vol_vg *vg)
{
    o->vg = vg;
    for (uint32_t i = 0; i < o->npools; i++) {
        o->pools[i]->vg = vg;
        o->pools[i]->lv = vol_lv_by_id(vg, o->pools[i]->pool_id);
    }
}

void vol_origin_close(struct vol_origin *o)
{
    if (!o)
        return;
    for (uint32_t i = 0; i < o->npools; i++) {
        if (vol_thin_share_end(o->pools[i]))
            rv_warn("%s: %s", o->what, rv_error_get());
        vol_thin_pool_free(o->pools[i]);
    }
    free(o->snaps);
    free(o);
}

/* Commits `invalid` for snapshot s in the VG metadata. */
static int invalidate(struct vol_origin *o, struct origin_snap *s, const char *why)
{
    struct vol_vg *vg;
    struct vol_lv *lv = vol_lv_by_id(o->vg, s->lv_id);
    rv_warn("%s: snapshot %s is invalid from now on (%s); the origin carries on", o->what,
            lv ? lv->name : "?", why);
    int rc = vol_vg_open(o->vg->devices, o->vg->name, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    if ((lv = vol_lv_by_id(vg, s->lv_id)))
        lv->invalid = true;
    rc = lv ? vol_vg_commit(vg) : 0;
    vol_vg_close(vg);
    if (!rc) {
        s->invalid = true;
        s->dev.pool->dirty = true; /* a commit before the origin write: readers look again */
    }
    return rc;
}

/* Gives snapshot s its own copy of chunk vc (old origin contents in buf) unless it has one. */
static int snap_cow(struct vol_origin *o, struct origin_snap *s, uint64_t vc, uint8_t *buf,
                    int (*read)(void *ctx, uint64_t off, void *buf, uint64_t len), void *ctx)
{
    struct vol_thin_pool *tp = s->dev.pool;
    uint64_t cs = tp->chunk_size;
    struct vol_thin_table *t = vol_thin_table_find(tp, s->dev.thin_id);
    if (!t)
        return rv_error_set(-EIO, "%s: a snapshot's table is missing from its pool", o->what);
    if (vc * cs >= s->size || (vc < t->nchunks && t->map[vc]))
        return 0;
    int rc = read(ctx, vc * cs, buf, cs);
    struct iovec v = {buf, cs};
    if (!rc)
        rc = vol_thin_rw(&s->dev, true, vc * cs, &v, 1, cs);
    if (rc == -ENOSPC)
        rc = invalidate(o, s, rv_error_get());
    return rc;
}

int vol_origin_before_write(struct vol_origin *o, uint64_t off, uint64_t len,
                            int (*read)(void *ctx, uint64_t off, void *buf, uint64_t len),
                            void *ctx)
{
    uint64_t max = 0;
    for (uint32_t i = 0; i < o->npools; i++)
        max = o->pools[i]->chunk_size > max ? o->pools[i]->chunk_size : max;
    uint8_t *buf = len && max ? rv_file_alloc(max) : NULL;
    if (len && max && !buf)
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = 0;
    for (uint32_t i = 0; i < o->nsnaps && !rc && len; i++) {
        struct origin_snap *s = &o->snaps[i];
        uint64_t cs = s->dev.pool->chunk_size;
        if (s->invalid)
            continue;
        for (uint64_t vc = off / cs; vc <= (off + len - 1) / cs && !rc && !s->invalid; vc++)
            rc = snap_cow(o, s, vc, buf, read, ctx);
    }
    free(buf);
    for (uint32_t i = 0; i < o->npools && !rc; i++) /* the exceptions are durable first */
        if (o->pools[i]->dirty)
            rc = vol_thin_pool_save(o->pools[i]);
    return rc;
}

bool vol_snapshot_invalid_now(struct vol_vg *vg, uint32_t lv_id)
{
    if (!vol_vg_changed(vg))
        return false; /* the VG in memory is current: the caller looked at its flag */
    struct vol_vg *now;
    if (vol_vg_open(vg->devices, vg->name, VOL_OPEN_READ, &now))
        return true; /* cannot tell: do not serve data that may be wrong */
    struct vol_lv *lv = vol_lv_by_id(now, lv_id);
    bool invalid = !lv || lv->invalid;
    vol_vg_close(now);
    return invalid;
}
