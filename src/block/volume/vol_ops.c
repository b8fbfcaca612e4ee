/* Volume group and logical volume operations. Each one opens the VG with the write lock, edits
 * the metadata in memory, and commits it (vol_vg_commit) as one new version. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/volume/vol.h"
#include "block/volume/vol_thin.h"
#include "core/error.h"

/* --- extent allocation --- */


int vol_alloc_begin(struct vol_alloc *al, struct vol_vg *vg)
{
    al->vg = vg;
    return vol_used_map(vg, &al->used, al->free);
}

void vol_alloc_end(struct vol_alloc *al)
{
    vol_used_free(al->vg, al->used);
}

int vol_area_append(struct vol_area *a, uint32_t pv, uint64_t pe, uint64_t count)
{
    struct vol_run *last = a->nruns ? &a->runs[a->nruns - 1] : NULL;
    uint64_t le = last ? last->le + last->count : 0;
    if (last && last->pv == pv && last->pe + last->count == pe) {
        last->count += count;
        return 0;
    }
    if (a->nruns >= VOL_MAX_RUNS)
        return rv_error_set(-ENOSPC, "too many fragments in one volume");
    struct vol_run *r = realloc(a->runs, sizeof(*r) * (a->nruns + 1));
    if (!r)
        return rv_error_set(-ENOMEM, "out of memory");
    a->runs = r;
    a->runs[a->nruns++] = (struct vol_run){pv, pe, count, le};
    return 0;
}

/* Appends `n` extents to `a` from PVs whose bit is set in `allowed` (present PVs only),
 * preferring the PV the area already ends on so that it stays contiguous. */
int vol_alloc_extents(struct vol_alloc *al, struct vol_area *a, uint64_t n, uint64_t allowed)
{
    struct vol_vg *vg = al->vg;
    uint64_t avail = 0;
    for (uint32_t p = 0; p < vg->npvs; p++)
        if ((allowed >> p & 1) && vg->pvs[p].fd >= 0)
            avail += al->free[p];
    if (avail < n)
        return rv_error_set(-ENOSPC, "volume group %s: not enough free extents (%" PRIu64
                            " needed, %" PRIu64 " free on the eligible PVs)", vg->name, n, avail);
    uint32_t first = a->nruns ? a->runs[a->nruns - 1].pv : 0;
    for (uint32_t k = 0; k < vg->npvs && n > 0; k++) {
        uint32_t p = (first + k) % vg->npvs;
        if (!(allowed >> p & 1) || vg->pvs[p].fd < 0)
            continue;
        for (uint64_t e = 0; e < vg->pvs[p].pe_count && n > 0; e++) {
            if (al->used[p][e])
                continue;
            int rc = vol_area_append(a, p, e, 1);
            if (rc)
                return rc;
            al->used[p][e] = 1;
            al->free[p]--;
            n--;
        }
    }
    return 0;
}

static uint64_t pvs_of_area(const struct vol_area *a)
{
    uint64_t m = 0;
    for (uint32_t r = 0; r < a->nruns; r++)
        m |= 1ull << a->runs[r].pv;
    return m;
}

/* PVs an area of `lv` may grow on: none that another area (stripe, mirror leg) uses. */
uint64_t vol_area_allowed(const struct vol_lv *lv, uint32_t area, uint32_t npvs)
{
    uint64_t all = npvs >= 64 ? ~0ull : (1ull << npvs) - 1, others = 0;
    for (uint32_t a = 0; a < lv->nareas; a++)
        if (a != area)
            others |= pvs_of_area(&lv->areas[a]);
    return all & ~others;
}

/* Grows every area of `lv` by `n` extents. New striped/mirror areas each take the PV with the
 * most free space that no other area of the LV uses yet. */
static int lv_grow_areas(struct vol_alloc *al, struct vol_lv *lv, uint64_t n)
{
    for (uint32_t a = 0; a < lv->nareas; a++) {
        uint64_t allowed = vol_area_allowed(lv, a, al->vg->npvs);
        if (lv->nareas > 1 && lv->areas[a].nruns == 0) {
            int best = -1;
            for (uint32_t p = 0; p < al->vg->npvs; p++)
                if ((allowed >> p & 1) && al->vg->pvs[p].fd >= 0 &&
                    (best < 0 || al->free[p] > al->free[best]))
                    best = (int)p;
            if (best < 0)
                return rv_error_set(-ENOSPC, "volume group %s: %" PRIu32 " %s need as many PVs",
                                    al->vg->name, lv->nareas,
                                    lv->type == VOL_MIRROR ? "mirror legs" : "stripes");
            allowed = 1ull << best;
        }
        uint64_t before = lv->areas[a].nruns ? lv->areas[a].runs[lv->areas[a].nruns - 1].le +
                                               lv->areas[a].runs[lv->areas[a].nruns - 1].count
                                             : 0;
        int rc = vol_alloc_extents(al, &lv->areas[a], n, allowed);
        /* Zeroed before the commit that makes them part of the LV. */
        if (!rc)
            rc = vol_area_zero(al->vg, &lv->areas[a], before * al->vg->extent_size,
                               n * al->vg->extent_size);
        if (rc)
            return rc;
    }
    return 0;
}

/* Cuts every area of `lv` down to `n` extents. */
static void lv_shrink_areas(struct vol_lv *lv, uint64_t n)
{
    for (uint32_t a = 0; a < lv->nareas; a++) {
        struct vol_area *ar = &lv->areas[a];
        while (ar->nruns && ar->runs[ar->nruns - 1].le >= n)
            ar->nruns--;
        if (ar->nruns)
            ar->runs[ar->nruns - 1].count = n - ar->runs[ar->nruns - 1].le;
    }
}

/* --- VG operations --- */

static int open_pv_paths(const char *const *paths, unsigned n, struct vol_scan_pv **scan,
                         unsigned *nscan, const char *devices, int *idx)
{
    int rc = vol_scan(devices, scan, nscan);
    if (rc)
        return rc;
    for (unsigned k = 0; k < n; k++) {
        char *real = realpath(paths[k], NULL);
        idx[k] = -1;
        for (unsigned i = 0; i < *nscan && real; i++)
            if (strcmp((*scan)[i].path, real) == 0)
                idx[k] = (int)i;
        free(real);
        if (idx[k] < 0)
            return rv_error_set(-ENOENT, "%s: not a PV in the devices list (run pv-create)",
                                paths[k]);
        struct vol_scan_pv *p = &(*scan)[idx[k]];
        if (p->error)
            return rv_error_set(p->error, "%s", p->msg);
        if (p->meta)
            return rv_error_set(-EBUSY, "%s: already in volume group %s", paths[k],
                                p->meta->name);
    }
    return 0;
}

/* Adds the scanned PVs idx[] to vg (their fds move into it). */
static int vg_add_pvs(struct vol_vg *vg, struct vol_scan_pv *scan, const int *idx, unsigned n)
{
    if (vg->npvs + n > VOL_MAX_PVS)
        return rv_error_set(-ENOSPC, "a volume group has at most %d PVs", VOL_MAX_PVS);
    struct vol_pv *pvs = realloc(vg->pvs, sizeof(*pvs) * (vg->npvs + n));
    if (!pvs)
        return rv_error_set(-ENOMEM, "out of memory");
    vg->pvs = pvs;
    for (unsigned k = 0; k < n; k++) {
        struct vol_scan_pv *s = &scan[idx[k]];
        for (uint32_t i = 0; i < vg->npvs; i++)
            if (memcmp(vg->pvs[i].uuid, s->label.uuid, VOL_UUID_LEN) == 0)
                return rv_error_set(-EEXIST, "%s: given twice", s->path);
        uint64_t size = s->label.dev_size;
        struct vol_pv *pv = &vg->pvs[vg->npvs];
        memset(pv, 0, sizeof(*pv));
        memcpy(pv->uuid, s->label.uuid, VOL_UUID_LEN);
        pv->path = strdup(s->path);
        if (!pv->path)
            return rv_error_set(-ENOMEM, "out of memory");
        pv->pe_start = s->label.pe_start;
        pv->pe_count = (size - s->label.pe_start) / vg->extent_size;
        pv->label = s->label;
        pv->cur_slot = -1;
        pv->fd = s->fd;
        s->fd = -1;
        vg->npvs++;
        if (pv->pe_count == 0)
            return rv_error_set(-ENOSPC, "%s: smaller than one extent", pv->path);
    }
    return 0;
}

int vol_vg_create(const char *devices, const char *name, uint64_t extent_size,
                  const char *const *pvs, unsigned npvs)
{
    devices = vol_devices_path(devices);
    if (!vol_name_valid(name))
        return rv_error_set(-EINVAL, "'%s': bad volume group name (letters, digits, . _ + -)",
                            name);
    if (!extent_size)
        extent_size = VOL_EXTENT_DEFAULT;
    if (extent_size < VOL_EXTENT_MIN || extent_size > VOL_EXTENT_MAX ||
        (extent_size & (extent_size - 1)))
        return rv_error_set(-EINVAL, "extent size must be a power of two from 4K to 1G");
    if (npvs == 0 || npvs > VOL_MAX_PVS)
        return rv_error_set(-EINVAL, "a volume group needs 1 to %d PVs", VOL_MAX_PVS);
    struct vol_vg *existing;
    if (vol_vg_open(devices, name, VOL_OPEN_READ, &existing) == 0) {
        vol_vg_close(existing);
        return rv_error_set(-EEXIST, "volume group %s already exists", name);
    }
    struct vol_scan_pv *scan = NULL;
    unsigned nscan = 0;
    int idx[VOL_MAX_PVS];
    struct vol_vg *vg = calloc(1, sizeof(*vg));
    int rc = vg ? 0 : rv_error_set(-ENOMEM, "out of memory");
    if (!rc)
        rc = open_pv_paths(pvs, npvs, &scan, &nscan, devices, idx);
    if (!rc) {
        snprintf(vg->name, sizeof(vg->name), "%s", name);
        vg->extent_size = extent_size;
        memcpy(vg->uuid, scan[idx[0]].label.uuid, VOL_UUID_LEN);
        vg->uuid[0] ^= 0x5a; /* distinct from the first PV's, random like it */
        rc = vg_add_pvs(vg, scan, idx, npvs);
    }
    if (!rc) {
        vg->locked_ex = true; /* nobody can see the VG before this first commit */
        rc = vol_vg_commit(vg);
    }
    vol_scan_free(scan, nscan);
    vol_vg_close(vg);
    return rc;
}

int vol_vg_extend(const char *devices, const char *name, const char *const *pvs, unsigned n)
{
    devices = vol_devices_path(devices);
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, name, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    struct vol_scan_pv *scan = NULL;
    unsigned nscan = 0;
    int idx[VOL_MAX_PVS];
    if (n > VOL_MAX_PVS)
        rc = rv_error_set(-EINVAL, "too many PVs");
    if (!rc)
        rc = open_pv_paths(pvs, n, &scan, &nscan, devices, idx);
    if (!rc)
        rc = vg_add_pvs(vg, scan, idx, n);
    if (!rc)
        rc = vol_vg_commit(vg);
    vol_scan_free(scan, nscan);
    vol_vg_close(vg);
    return rc;
}

int vol_pv_lookup(const struct vol_vg *vg, const char *path, uint32_t *out)
{
    char *real = realpath(path, NULL);
    for (uint32_t i = 0; i < vg->npvs; i++) {
        if (strcmp(vg->pvs[i].path, path) == 0 || (real && strcmp(vg->pvs[i].path, real) == 0)) {
            free(real);
            *out = i;
            return 0;
        }
    }
    free(real);
    return rv_error_set(-ENOENT, "%s: not a PV of volume group %s", path, vg->name);
}

/* Wipes both metadata slots of a PV leaving the VG, so it is an orphan PV again. */
static int pv_wipe_slots(struct vol_pv *pv)
{
    uint8_t *zero = calloc(1, pv->label.mda_size);
    if (!zero)
        return rv_error_set(-ENOMEM, "out of memory");
    ssize_t n = pwrite(pv->fd, zero, pv->label.mda_size, (off_t)pv->label.mda_offset);
    free(zero);
    if (n != (ssize_t)pv->label.mda_size || fdatasync(pv->fd) < 0)
        return rv_error_set(-EIO, "%s: cannot clear the metadata area", pv->path);
    return 0;
}

int vol_vg_reduce(const char *devices, const char *name, const char *path)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, name, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    uint32_t p;
    struct vol_alloc al;
    if ((rc = vol_pv_lookup(vg, path, &p)) || (rc = vol_alloc_begin(&al, vg)))
        goto out;
    uint64_t free_ext = al.free[p];
    vol_alloc_end(&al);
    if (free_ext != vg->pvs[p].pe_count) {
        rc = rv_error_set(-EBUSY, "%s: %" PRIu64 " extents still in use (pv-move them first)",
                          path, vg->pvs[p].pe_count - free_ext);
        goto out;
    }
    if (vg->npvs == 1) {
        rc = rv_error_set(-EINVAL, "%s: the last PV of %s (use vg-remove)", path, name);
        goto out;
    }
    for (uint32_t l = 0; l < vg->nlvs; l++) {
        if (vg->lvs[l].moving || vg->lvs[l].reserved.nruns) {
            rc = rv_error_set(-EBUSY, "%s/%s: finish its pv-move first (run pv-move again)",
                              name, vg->lvs[l].name);
            goto out;
        }
    }
    struct vol_pv gone = vg->pvs[p];
    memmove(&vg->pvs[p], &vg->pvs[p + 1], sizeof(gone) * (vg->npvs - p - 1));
    vg->npvs--;
    for (uint32_t l = 0; l < vg->nlvs; l++)  /* renumber the runs' PV indexes */
        for (uint32_t a = 0; a < vg->lvs[l].nareas; a++)
            for (uint32_t r = 0; r < vg->lvs[l].areas[a].nruns; r++)
                if (vg->lvs[l].areas[a].runs[r].pv > p)
                    vg->lvs[l].areas[a].runs[r].pv--;
    rc = vol_vg_commit(vg);
    if (!rc && gone.fd >= 0)
        rc = pv_wipe_slots(&gone);
    if (gone.fd >= 0)
        close(gone.fd);
    free(gone.path);
out:
    vol_vg_close(vg);
    return rc;
}

int vol_vg_remove(const char *devices, const char *name)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, name, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    if (vg->nlvs)
        rc = rv_error_set(-EBUSY, "volume group %s still has %" PRIu32 " logical volumes", name,
                          vg->nlvs);
    for (uint32_t i = 0; i < vg->npvs && !rc; i++)
        if (vg->pvs[i].fd >= 0)
            rc = pv_wipe_slots(&vg->pvs[i]);
    vol_vg_close(vg);
    return rc;
}

/* --- LV operations --- */

int vol_vg_add_lv(struct vol_vg *vg, struct vol_lv *lv)
{
    struct vol_lv *lvs = realloc(vg->lvs, sizeof(*lvs) * (vg->nlvs + 1));
    if (!lvs)
        return rv_error_set(-ENOMEM, "out of memory");
    vg->lvs = lvs;
    lv->id = vg->next_lv_id++;
    vg->lvs[vg->nlvs++] = *lv;
    return 0;
}

void vol_vg_remove_lv(struct vol_vg *vg, struct vol_lv *lv)
{
    vol_lv_free_areas(lv);
    size_t i = (size_t)(lv - vg->lvs);
    memmove(lv, lv + 1, sizeof(*lv) * (vg->nlvs - i - 1));
    vg->nlvs--;
}

/* Why `lv` cannot go away or change size now, or 0. */
static int lv_pinned(struct vol_vg *vg, const struct vol_lv *lv)
{
    if (lv->frozen)
        return rv_error_set(-EBUSY, "%s/%s is the origin of snapshots (merge or remove them "
                            "first)", vg->name, lv->name);
    for (uint32_t i = 0; i < vg->nlvs; i++)
        if (vg->lvs[i].type == VOL_THIN && vg->lvs[i].pool_id == lv->id)
            return rv_error_set(-EBUSY, "%s/%s: thin pool still holds thin volume %s", vg->name,
                                lv->name, vg->lvs[i].name);
    return 0;
}

static uint64_t lv_round_extents(const struct vol_vg *vg, uint64_t size, uint32_t nareas,
                                 enum vol_lv_type type)
{
    uint64_t e = size / vg->extent_size + (size % vg->extent_size != 0);
    if (type == VOL_STRIPED && e % nareas)
        e += nareas - e % nareas;
    return e;
}

int vol_lv_create(const char *devices, const char *vgname, const struct vol_lv_spec *spec)
{
    if (!vol_name_valid(spec->name))
        return rv_error_set(-EINVAL, "'%s': bad logical volume name", spec->name);
    if (spec->size == 0)
        return rv_error_set(-EINVAL, "%s: size must not be zero", spec->name);
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    struct vol_lv lv = {.type = spec->type, .id = vg->next_lv_id, .nareas = 1,
                        .pool_id = VOL_NO_LV, .origin_id = VOL_NO_LV};
    snprintf(lv.name, sizeof(lv.name), "%s", spec->name);
    if (spec->type == VOL_MIRROR)
        lv.nareas = 2;
    if (spec->type == VOL_STRIPED) {
        lv.nareas = spec->stripes;
        lv.stripe_size = spec->stripe_size ? spec->stripe_size : VOL_STRIPE_DEFAULT;
        if (lv.nareas < 2 || lv.nareas > vg->npvs)
            rc = rv_error_set(-EINVAL, "--stripes %" PRIu32 ": needs 2 to %" PRIu32 " (the "
                              "number of PVs)", lv.nareas, vg->npvs);
        else if (lv.stripe_size < 4096 || (lv.stripe_size & (lv.stripe_size - 1)) ||
                 vg->extent_size % lv.stripe_size)
            rc = rv_error_set(-EINVAL, "--stripe-size: a power of two from 4K up to the extent "
                              "size (%" PRIu64 ")", vg->extent_size);
    }
    if (!rc && vol_lv_find(vg, spec->name))
        rc = rv_error_set(-EEXIST, "logical volume %s/%s already exists", vgname, spec->name);
    if (!rc && (vg->nlvs >= VOL_MAX_LVS || vg->next_lv_id == UINT32_MAX - 1))
        rc = rv_error_set(-ENOSPC, "volume group %s: too many logical volumes", vgname);
    if (!rc && spec->size / vg->extent_size > (1ull << 40))
        rc = rv_error_set(-EFBIG, "%s: size too large", spec->name);
    struct vol_alloc al = {.used = NULL};
    if (!rc && !(lv.areas = calloc(lv.nareas, sizeof(*lv.areas))))
        rc = rv_error_set(-ENOMEM, "out of memory");
    if (!rc && !(rc = vol_alloc_begin(&al, vg))) {
        lv.extents = lv_round_extents(vg, spec->size, lv.nareas, lv.type);
        rc = lv_grow_areas(&al, &lv, vol_area_extents(&lv));
        vol_alloc_end(&al);
    }
    struct vol_lv *lvs = rc ? NULL : realloc(vg->lvs, sizeof(*lvs) * (vg->nlvs + 1));
    if (!rc && !lvs)
        rc = rv_error_set(-ENOMEM, "out of memory");
    if (!rc) {
        vg->lvs = lvs;
        vg->lvs[vg->nlvs++] = lv;
        vg->next_lv_id++;
        rc = vol_vg_commit(vg);
    } else {
        for (uint32_t a = 0; a < lv.nareas && lv.areas; a++)
            free(lv.areas[a].runs);
        free(lv.areas);
    }
    vol_vg_close(vg);
    return rc;
}

static int lv_lookup(struct vol_vg *vg, const char *name, struct vol_lv **lv)
{
    *lv = vol_lv_find(vg, name);
    return *lv ? 0 : rv_error_set(-ENOENT, "logical volume %s/%s not found", vg->name, name);
}

int vol_lv_remove(const char *devices, const char *vgname, const char *name)
{
    struct vol_vg *vg;
    struct vol_lv *lv;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    if (!(rc = lv_lookup(vg, name, &lv)) && !(rc = lv_pinned(vg, lv)) &&
        !(rc = vol_lv_check_unused(vg, lv))) {
        if (lv->type == VOL_THIN) {
            rc = vol_thin_remove(vg, lv);
        } else {
            vol_vg_remove_lv(vg, lv);
            rc = vol_vg_commit(vg);
        }
    }
    vol_vg_close(vg);
    return rc;
}

/* Thin volumes only change their virtual size (the table follows); pools grow their data area
 * (which needs the pool idle: its users size their allocation maps at open). */
static int thin_resize(struct vol_vg *vg, struct vol_lv *lv, uint64_t size, bool shrink)
{
    uint64_t e = size / vg->extent_size + (size % vg->extent_size != 0);
    if (e == 0 || e > (1ull << 40))
        return rv_error_set(-EINVAL, "%s/%s: bad new size", vg->name, lv->name);
    if (e < lv->extents && !shrink)
        return rv_error_set(-EINVAL, "%s/%s: the new size is smaller; shrinking destroys data "
                            "at the end and needs --shrink", vg->name, lv->name);
    if (e < lv->extents && lv->type == VOL_THIN)
        return vol_thin_shrink(vg, lv, e);
    if (e < lv->extents)
        return rv_error_set(-ENOTSUP, "%s/%s: shrinking a thin pool is not supported", vg->name,
                            lv->name);
    if (e == lv->extents)
        return 0;
    if (lv->type == VOL_THIN_POOL) {
        struct vol_alloc al;
        int rc = vol_alloc_begin(&al, vg);
        if (rc)
            return rc;
        rc = vol_alloc_extents(&al, &lv->areas[0], e - lv->extents, ~0ull);
        vol_alloc_end(&al);
        if (!rc)
            rc = vol_area_zero(vg, &lv->areas[0], lv->extents * vg->extent_size,
                               (e - lv->extents) * vg->extent_size);
        if (rc)
            return rc;
    }
    lv->extents = e;
    return vol_vg_commit(vg);
}

int vol_lv_resize(const char *devices, const char *vgname, const char *name, uint64_t size,
                  bool allow_shrink)
{
    struct vol_vg *vg;
    struct vol_lv *lv;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    if ((rc = lv_lookup(vg, name, &lv)))
        goto out;
    if (lv->moving || lv->reserved.nruns) {
        rc = rv_error_set(-EBUSY, "%s/%s: a pv-move is in progress (run pv-move again to finish "
                          "it)", vgname, name);
        goto out;
    }
    if (lv->frozen || (lv->type == VOL_THIN_POOL && (rc = vol_lv_check_unused(vg, lv)))) {
        rc = rc ? rc : lv_pinned(vg, lv);
        goto out;
    }
    if (lv->type == VOL_THIN || lv->type == VOL_THIN_POOL) {
        rc = thin_resize(vg, lv, size, allow_shrink);
        goto out;
    }
    uint64_t e = lv_round_extents(vg, size, lv->nareas, lv->type);
    if (size == 0 || e > (1ull << 40)) {
        rc = rv_error_set(-EINVAL, "%s/%s: bad new size", vgname, name);
    } else if (e < lv->extents) {
        if (!allow_shrink)
            rc = rv_error_set(-EINVAL, "%s/%s: the new size is smaller; shrinking destroys data "
                              "at the end and needs --shrink", vgname, name);
        else if (!(rc = vol_lv_check_unused(vg, lv))) {
            lv->extents = e;
            lv_shrink_areas(lv, vol_area_extents(lv));
            rc = vol_vg_commit(vg);
        }
    } else if (e > lv->extents) {
        struct vol_alloc al;
        uint64_t old = vol_area_extents(lv);
        if (!(rc = vol_alloc_begin(&al, vg))) {
            lv->extents = e;
            rc = lv_grow_areas(&al, lv, vol_area_extents(lv) - old);
            vol_alloc_end(&al);
        }
        if (!rc)
            rc = vol_vg_commit(vg);
    }
out:
    vol_vg_close(vg);
    return rc;
}
