/* Thin pool, thin volume and snapshot operations. Order of the two commits (pool tables, VG
 * metadata) is chosen so that a crash between them leaves at worst a table no LV names (an
 * orphan: its chunks stay allocated until `vol repair` drops it), never an LV without its data.
 * They work while other thin volumes of the pool are in use (see pool_begin). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/volume/vol_thin.h"
#include "core/error.h"

/* Loads pool `pool` (by LV) with its tables under the pool lock, held until the VG is closed:
 * the pool's users (vol_thin_share.c) merge what is committed here at their next commit. The
 * operations change only tables of LVs nobody uses. */
static int pool_begin(struct vol_vg *vg, struct vol_lv *pool, struct vol_thin_pool **tp)
{
    if (!pool || pool->type != VOL_THIN_POOL)
        return rv_error_set(-EINVAL, "%s: not a thin pool", pool ? pool->name : "pool");
    int rc = vol_thin_pool_lock(vg, pool, F_WRLCK);
    return rc ? rc : vol_thin_pool_load(vg, pool, tp);
}

static uint32_t lv_chunks(const struct vol_vg *vg, const struct vol_lv *lv,
                          const struct vol_thin_pool *tp)
{
    return (uint32_t)(lv->extents * vg->extent_size / tp->chunk_size);
}

int vol_thin_pool_create(const char *devices, const char *vgname, const char *name, uint64_t size,
                         uint64_t chunk_size, uint64_t meta_size)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    if (!chunk_size)
        chunk_size = 64 << 10;
    if (chunk_size > vg->extent_size)
        chunk_size = vg->extent_size;
    uint64_t extents = size / vg->extent_size + (size % vg->extent_size != 0);
    /* Room for tables of 4x the pool's size (over-provisioning), twice (two slots). */
    if (!meta_size)
        meta_size = 2 * (4 * extents * (vg->extent_size / chunk_size) * 4 + (64 << 10));
    uint64_t meta = meta_size / vg->extent_size + (meta_size % vg->extent_size != 0);
    struct vol_lv lv = {.type = VOL_THIN_POOL, .nareas = 2, .extents = extents,
                        .meta_extents = meta < 1 ? 1 : meta, .chunk_size = chunk_size,
                        .pool_id = VOL_NO_LV, .origin_id = VOL_NO_LV};
    snprintf(lv.name, sizeof(lv.name), "%s", name);
    if (!vol_name_valid(name) || vol_lv_find(vg, name))
        rc = rv_error_set(-EINVAL, "%s: bad name, or the LV exists", name);
    else if (chunk_size < 4096 || (chunk_size & (chunk_size - 1)) ||
             extents == 0 || extents * (vg->extent_size / chunk_size) > (1u << 30))
        rc = rv_error_set(-EINVAL, "thin pool: chunk size a power of two from 4K, size > 0");
    struct vol_alloc al;
    if (!rc && !(lv.areas = calloc(2, sizeof(*lv.areas))))
        rc = rv_error_set(-ENOMEM, "out of memory");
    if (!rc && !(rc = vol_alloc_begin(&al, vg))) {
        rc = vol_alloc_extents(&al, &lv.areas[0], lv.extents, ~0ull);
        if (!rc)
            rc = vol_alloc_extents(&al, &lv.areas[1], lv.meta_extents, ~0ull);
        vol_alloc_end(&al);
    }
    if (!rc)
        rc = vol_area_zero(vg, &lv.areas[0], 0, lv.extents * vg->extent_size);
    if (!rc) {
        lv.id = vg->next_lv_id;
        rc = vol_thin_pool_format(vg, &lv);
    }
    if (!rc && !(rc = vol_vg_add_lv(vg, &lv)))
        rc = vol_vg_commit(vg);
    else if (lv.areas) {
        free(lv.areas[0].runs);
        free(lv.areas[1].runs);
        free(lv.areas);
    }
    vol_vg_close(vg);
    return rc;
}

static uint32_t next_thin_id(const struct vol_vg *vg, const struct vol_thin_pool *tp)
{
    uint32_t id = 0;
    for (uint32_t i = 0; i < tp->ntables; i++)
        if (tp->tables[i].thin_id >= id && tp->tables[i].thin_id < VOL_THIN_RES)
            id = tp->tables[i].thin_id + 1;
    for (uint32_t i = 0; i < vg->nlvs; i++)
        if (vg->lvs[i].type == VOL_THIN && vg->lvs[i].pool_id == tp->pool_id &&
            vg->lvs[i].thin_id >= id)
            id = vg->lvs[i].thin_id + 1;
    return id;
}

/* Adds thin LV `name` of `extents` to pool `pool` (sharing `copy`'s chunks if given). */
static int thin_add(struct vol_vg *vg, struct vol_lv *pool, const char *name, uint64_t extents,
                    uint32_t copy_of, uint32_t origin_id)
{
    struct vol_thin_pool *tp;
    if (!vol_name_valid(name) || vol_lv_find(vg, name))
        return rv_error_set(-EINVAL, "%s: bad name, or the LV exists", name);
    int rc = pool_begin(vg, pool, &tp);
    if (rc)
        return rc;
    struct vol_lv lv = {.type = VOL_THIN, .extents = extents, .pool_id = pool->id,
                        .thin_id = next_thin_id(vg, tp), .origin_id = origin_id,
                        .id = vg->next_lv_id};
    snprintf(lv.name, sizeof(lv.name), "%s", name);
    struct vol_thin_table *copy = copy_of == VOL_NO_LV ? NULL : vol_thin_table_find(tp, copy_of);
    rc = vol_thin_table_add(tp, lv.thin_id, lv_chunks(vg, &lv, tp), copy);
    if (!rc)
        rc = vol_thin_pool_commit(tp); /* first the table: a crash leaves an orphan at worst */
    if (!rc)
        rc = vol_vg_add_lv(vg, &lv);
    if (!rc)
        rc = vol_vg_commit(vg);
    vol_thin_pool_free(tp);
    return rc;
}

int vol_thin_create(const char *devices, const char *vgname, const char *name, const char *pool,
                    uint64_t size)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    uint64_t extents = size / vg->extent_size + (size % vg->extent_size != 0);
    if (!extents || extents > (1ull << 40))
        rc = rv_error_set(-EINVAL, "%s: bad size", name);
    else
        rc = thin_add(vg, vol_lv_find(vg, pool), name, extents, VOL_NO_LV, VOL_NO_LV);
    vol_vg_close(vg);
    return rc;
}

int vol_snapshot_create(const char *devices, const char *vgname, const char *origin,
                        const char *name, const char *pool)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    struct vol_lv *o = vol_lv_find(vg, origin);
    if (!o || o->type == VOL_THIN_POOL) {
        rc = rv_error_set(-EINVAL, "%s/%s: no such LV, or a thin pool", vgname, origin);
    } else if (o->type == VOL_THIN && o->origin_id != VOL_NO_LV &&
               vol_lv_by_id(vg, o->origin_id) &&
               vol_lv_by_id(vg, o->origin_id)->type != VOL_THIN) {
        /* Its table holds only what differs from that origin: a copy would read zeros elsewhere. */
        rc = rv_error_set(-ENOTSUP, "%s/%s is a snapshot of the %s LV %s: snapshots of it are "
                          "not supported", vgname, origin,
                          vol_lv_type_name(vol_lv_by_id(vg, o->origin_id)->type),
                          vol_lv_by_id(vg, o->origin_id)->name);
    } else if (o->type == VOL_THIN) { /* its table must be the one committed */
        if (!(rc = vol_lv_check_unused(vg, o)))
            rc = thin_add(vg, vol_lv_by_id(vg, o->pool_id), name, o->extents, o->thin_id, o->id);
    } else if (!pool) {
        rc = rv_error_set(-EINVAL, "a snapshot of a %s LV needs --pool (a thin pool to hold "
                          "what changes)", vol_lv_type_name(o->type));
    } else if (!(rc = vol_lv_check_unused(vg, o))) {
        uint32_t oid = o->id;
        o->frozen = true; /* committed with the snapshot */
        rc = thin_add(vg, vol_lv_find(vg, pool), name, o->extents, VOL_NO_LV, oid);
    }
    vol_vg_close(vg);
    return rc;
}

/* Keeps an origin frozen only while some snapshot reads it. */
static void unfreeze_unused(struct vol_vg *vg)
{
    for (uint32_t i = 0; i < vg->nlvs; i++) {
        bool used = false;
        for (uint32_t k = 0; k < vg->nlvs; k++)
            used |= vg->lvs[k].type == VOL_THIN && vg->lvs[k].origin_id == vg->lvs[i].id &&
                    vg->lvs[i].type != VOL_THIN;
        if (vg->lvs[i].frozen && !used)
            vg->lvs[i].frozen = false;
    }
}

int vol_thin_remove(struct vol_vg *vg, struct vol_lv *lv)
{
    struct vol_thin_pool *tp;
    int rc = pool_begin(vg, vol_lv_by_id(vg, lv->pool_id), &tp);
    if (rc)
        return rc;
    uint32_t thin_id = lv->thin_id;
    vol_vg_remove_lv(vg, lv); /* first the LV: a crash leaves an orphan table at worst */
    unfreeze_unused(vg);
    rc = vol_vg_commit(vg);
    vol_thin_table_remove(tp, thin_id);
    if (!rc)
        rc = vol_thin_pool_commit(tp);
    vol_thin_pool_free(tp);
    return rc;
}

int vol_thin_shrink(struct vol_vg *vg, struct vol_lv *lv, uint64_t extents)
{
    struct vol_thin_pool *tp;
    int rc = vol_lv_check_unused(vg, lv);
    if (rc || (rc = pool_begin(vg, vol_lv_by_id(vg, lv->pool_id), &tp)))
        return rc;
    struct vol_thin_table *t = vol_thin_table_find(tp, lv->thin_id);
    if (!t) {
        rc = rv_error_set(-EIO, "%s/%s: its table is missing from the pool", vg->name, lv->name);
    } else {
        lv->extents = extents;
        vol_thin_table_truncate(tp, t, lv_chunks(vg, lv, tp));
        /* First the pool: a crash between the commits leaves the LV at its old size, reading
         * zeros past the new end (what the shrink destroys anyway); running it again ends it. */
        rc = vol_thin_pool_commit(tp);
    }
    if (!rc)
        rc = vol_vg_commit(vg);
    vol_thin_pool_free(tp);
    return rc;
}

/* Copies every chunk the snapshot has written into its (non-thin) origin. */
static int merge_external(struct vol_vg *vg, struct vol_thin_pool *tp,
                          const struct vol_thin_table *t, struct vol_lv *origin)
{
    uint64_t cs = tp->chunk_size;
    for (uint32_t vc = 0; vc < t->nchunks; vc++) {
        if (!t->map[vc] || (uint64_t)vc * cs >= origin->extents * vg->extent_size)
            continue;
        for (uint32_t leg = 0; leg < (origin->type == VOL_MIRROR ? 2u : 1u); leg++) {
            /* chunk -> origin: the origin's layout decides where each piece goes */
            for (uint64_t o = 0; o < cs;) {
                uint32_t area, pv, spv;
                uint64_t aoff, avail, po, pavail, so, savail;
                vol_lv_map(vg, origin, (uint64_t)vc * cs + o, &area, &aoff, &avail);
                if (origin->type == VOL_MIRROR)
                    area = leg;
                int rc = vol_area_map(vg, &origin->areas[area], aoff, &pv, &po, &pavail);
                if (!rc)
                    rc = vol_area_map(vg, &tp->lv->areas[0], (uint64_t)(t->map[vc] - 1) * cs + o,
                                      &spv, &so, &savail);
                if (rc)
                    return rc;
                uint64_t n = cs - o;
                n = n < avail ? n : avail;
                n = n < pavail ? n : pavail;
                n = n < savail ? n : savail;
                if ((rc = vol_pv_copy(vg, spv, so, pv, po, n)))
                    return rc;
                o += n;
            }
        }
    }
    return 0;
}

int vol_snapshot_merge(const char *devices, const char *vgname, const char *name)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    struct vol_lv *s = vol_lv_find(vg, name), *o = NULL;
    struct vol_thin_pool *tp = NULL;
    if (!s || s->type != VOL_THIN || s->origin_id == VOL_NO_LV ||
        !(o = vol_lv_by_id(vg, s->origin_id)))
        rc = rv_error_set(-EINVAL, "%s/%s: not a snapshot with an origin", vgname, name);
    else if (s->invalid)
        rc = rv_error_set(-EINVAL, "%s/%s: an invalid snapshot (its pool ran out of space while "
                          "its origin was written) can only be removed", vgname, name);
    if (!rc && !(rc = vol_lv_check_unused(vg, s)) && !(rc = vol_lv_check_unused(vg, o)))
        rc = pool_begin(vg, vol_lv_by_id(vg, s->pool_id), &tp);
    struct vol_thin_table *st = tp ? vol_thin_table_find(tp, s->thin_id) : NULL;
    if (!rc && !st)
        rc = rv_error_set(-EIO, "%s/%s: its table is missing from the pool", vgname, name);
    if (!rc && o->type == VOL_THIN) {
        /* The origin takes the snapshot's table; the origin's old chunks are released. */
        struct vol_thin_table *ot = vol_thin_table_find(tp, o->thin_id);
        uint32_t sid = s->thin_id, oid = o->thin_id;
        if (!ot) {
            rc = rv_error_set(-EIO, "%s: origin table missing", o->name);
        } else {
            vol_thin_table_remove(tp, oid);
            st = vol_thin_table_find(tp, sid);
            st->thin_id = oid;
            vol_thin_table_truncate(tp, st, lv_chunks(vg, o, tp));
            rc = vol_thin_pool_commit(tp); /* the merge is done at this commit */
            if (!rc) {
                vol_vg_remove_lv(vg, vol_lv_find(vg, name));
                rc = vol_vg_commit(vg);
            }
        }
    } else if (!rc) {
        rc = merge_external(vg, tp, st, o); /* repeatable: a crash here means "merge again" */
        if (!rc)
            rc = vol_thin_remove(vg, s);
    }
    vol_thin_pool_free(tp);
    vol_vg_close(vg);
    return rc;
}

int vol_thin_usage(struct vol_vg *vg, struct vol_lv *pool, uint32_t *used, uint32_t *total)
{
    struct vol_thin_pool *tp;
    int rc = vol_thin_pool_load(vg, pool, &tp);
    if (rc)
        return rc;
    *used = vol_thin_used_chunks(tp);
    *total = tp->data_chunks;
    vol_thin_pool_free(tp);
    return 0;
}

/* The thin pool for a snapshot of `o`: its own pool when thin, else the VG's only pool. */
static int snapshot_pool(struct vol_vg *vg, const struct vol_lv *o, const char **pool)
{
    if (o->type == VOL_THIN) {
        *pool = NULL;
        return 0;
    }
    unsigned n = 0;
    for (uint32_t i = 0; i < vg->nlvs; i++)
        if (vg->lvs[i].type == VOL_THIN_POOL && n++ == 0)
            *pool = vg->lvs[i].name;
    if (n == 1)
        return 0;
    return rv_error_set(-EINVAL, "%s/%s is a %s LV: its snapshot is a classic snapshot, which "
                        "needs a thin pool in %s to hold what changes, and the VG has %u "
                        "(create exactly one: rvisor vol lv-create %s/POOL --thin-pool --size S)",
                        vg->name, o->name, vol_lv_type_name(o->type), vg->name, n, vg->name);
}

int vol_snapshot_auto(const char *vgname, const char *origin, char *name, size_t len)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(NULL, vgname, VOL_OPEN_READ, &vg);
    if (rc)
        return rc;
    struct vol_lv *o = vol_lv_find(vg, origin);
    const char *pool = NULL;
    char pool_name[VOL_NAME_MAX + 1] = "";
    if (!o)
        rc = rv_error_set(-ENOENT, "logical volume %s/%s not found", vgname, origin);
    else
        rc = snapshot_pool(vg, o, &pool);
    if (!rc && pool)
        snprintf(pool_name, sizeof(pool_name), "%s", pool);
    /* The first free ORIGIN.snapN (the origin's name shortened to leave room). */
    for (unsigned k = 1; !rc; k++) {
        if (k == 100000) {
            rc = rv_error_set(-EEXIST, "%s/%s: too many snapshots", vgname, origin);
            break;
        }
        char suffix[16];
        int sl = snprintf(suffix, sizeof(suffix), ".snap%u", k);
        int n = snprintf(name, len, "%.*s%s", VOL_NAME_MAX - sl, origin, suffix);
        if (n < 0 || (size_t)n >= len)
            rc = rv_error_set(-ENAMETOOLONG, "%s/%s: snapshot name too long", vgname, origin);
        else if (!vol_lv_find(vg, name))
            break;
    }
    vol_vg_close(vg);
    if (!rc)
        rc = vol_snapshot_create(NULL, vgname, origin, name, pool_name[0] ? pool_name : NULL);
    return rc;
}
