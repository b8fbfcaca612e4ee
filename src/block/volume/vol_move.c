/* pv-move and mirror resync: data is copied to extents that are free in the current metadata,
 * synced, and only then does one commit switch the mapping. A crash before the commit leaves the
 * old mapping (and its data) untouched; after it, the new one is complete. The LVs concerned are
 * locked against use for the duration (vol_lv_inuse_lock). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "block/volume/vol.h"
#include "core/error.h"

static void area_free(struct vol_area *a)
{
    free(a->runs);
    a->runs = NULL;
    a->nruns = 0;
}

/* The replacement of area `ai` of `lv`: runs on `from` go to newly allocated extents. */
static int area_relocate(struct vol_alloc *al, const struct vol_lv *lv, uint32_t ai,
                         uint32_t from, int to, struct vol_area *out)
{
    const struct vol_area *a = &lv->areas[ai];
    uint64_t allowed = vol_area_allowed(lv, ai, al->vg->npvs) & ~(1ull << from);
    if (to >= 0)
        allowed &= 1ull << to;
    memset(out, 0, sizeof(*out));
    out->stale = a->stale;
    int rc = 0;
    for (uint32_t r = 0; r < a->nruns && !rc; r++) {
        const struct vol_run *run = &a->runs[r];
        if (run->pv != from)
            rc = vol_area_append(out, run->pv, run->pe, run->count);
        else
            rc = vol_alloc_extents(al, out, run->count, allowed);
    }
    return rc;
}

static bool area_on_pv(const struct vol_area *a, uint32_t pv)
{
    for (uint32_t r = 0; r < a->nruns; r++)
        if (a->runs[r].pv == pv)
            return true;
    return false;
}

/* Copies the runs of `old` that lie on `from` to their new place in `neu`. */
static int area_copy_moved(const struct vol_vg *vg, const struct vol_area *old,
                           const struct vol_area *neu, uint32_t from)
{
    int rc = 0;
    for (uint32_t r = 0; r < old->nruns && !rc; r++)
        if (old->runs[r].pv == from)
            rc = vol_area_copy(vg, old, neu, old->runs[r].le * vg->extent_size,
                               old->runs[r].count * vg->extent_size);
    return rc;
}

int vol_vg_pv_move(struct vol_vg *vg, uint32_t from, int to, const char *lvname)
{
    if (to >= 0 && (uint32_t)to == from)
        return rv_error_set(-EINVAL, "pv-move: source and destination are the same PV");
    if (vg->pvs[from].fd < 0)
        return rv_error_set(-ENODEV, "pv-move: %s is missing", vg->pvs[from].path);
    struct vol_alloc al;
    int rc = vol_alloc_begin(&al, vg);
    if (rc)
        return rc;
    /* new_areas[l][a]: relocated areas; NULL rows for LVs with nothing on `from`. */
    struct vol_area **new_areas = calloc(vg->nlvs + 1, sizeof(*new_areas));
    if (!new_areas)
        rc = rv_error_set(-ENOMEM, "out of memory");
    unsigned moved = 0;
    for (uint32_t l = 0; l < vg->nlvs && !rc; l++) {
        struct vol_lv *lv = &vg->lvs[l];
        bool touched = false;
        for (uint32_t a = 0; a < lv->nareas; a++)
            touched |= area_on_pv(&lv->areas[a], from);
        if (!touched || (lvname && strcmp(lvname, lv->name) != 0))
            continue;
        /* The in-use lock stays held (our fds) until the VG is closed, after the commit. */
        if ((rc = vol_lv_inuse_lock(vg, lv->id, true))) {
            rv_error_prefix(rc, "pv-move: %s/%s: ", vg->name, lv->name);
            break;
        }
        if (!(new_areas[l] = calloc(lv->nareas, sizeof(struct vol_area)))) {
            rc = rv_error_set(-ENOMEM, "out of memory");
            break;
        }
        for (uint32_t a = 0; a < lv->nareas && !rc; a++)
            if (!(rc = area_relocate(&al, lv, a, from, to, &new_areas[l][a])))
                rc = area_copy_moved(vg, &lv->areas[a], &new_areas[l][a], from);
        moved++;
    }
    vol_alloc_end(&al);
    for (uint32_t l = 0; l < vg->nlvs && new_areas; l++) {
        if (!new_areas[l])
            continue;
        for (uint32_t a = 0; a < vg->lvs[l].nareas; a++) {
            struct vol_area tmp = vg->lvs[l].areas[a];
            if (!rc)
                vg->lvs[l].areas[a] = new_areas[l][a];
            area_free(rc ? &new_areas[l][a] : &tmp);
        }
        free(new_areas[l]);
    }
    free(new_areas);
    if (!rc && moved == 0)
        return rv_error_set(-ENOENT, "pv-move: nothing to move off %s", vg->pvs[from].path);
    return rc ? rc : vol_vg_commit(vg);
}

int vol_mirror_resync(struct vol_vg *vg, struct vol_lv *lv)
{
    int good = !lv->areas[0].stale ? 0 : 1, bad = 1 - good;
    if (!lv->areas[bad].stale)
        return 0;
    for (uint32_t r = 0; r < lv->areas[bad].nruns; r++)
        if (vg->pvs[lv->areas[bad].runs[r].pv].fd < 0)
            return rv_error_set(-ENODEV, "%s/%s: mirror leg %d is on a missing PV (%s)", vg->name,
                                lv->name, bad, vg->pvs[lv->areas[bad].runs[r].pv].path);
    int rc = vol_lv_inuse_lock(vg, lv->id, true);
    if (!rc)
        rc = vol_area_copy(vg, &lv->areas[good], &lv->areas[bad], 0,
                           lv->extents * vg->extent_size);
    if (rc)
        return rv_error_prefix(rc, "%s/%s: resync: ", vg->name, lv->name);
    lv->areas[bad].stale = false;
    return vol_vg_commit(vg);
}

int vol_pv_move(const char *devices, const char *vgname, const char *from, const char *to,
                const char *lv)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    uint32_t f, t = 0;
    if (!(rc = vol_pv_lookup(vg, from, &f)) && (!to || !(rc = vol_pv_lookup(vg, to, &t))))
        rc = vol_vg_pv_move(vg, f, to ? (int)t : -1, lv);
    vol_vg_close(vg);
    return rc;
}
