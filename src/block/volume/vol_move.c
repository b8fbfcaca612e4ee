/* pv-move and mirror resync: data is copied to extents that are free in the current metadata,
 * synced, and only then does one commit switch the mapping. A crash before the commit leaves the
 * old mapping (and its data) untouched; after it, the new one is complete. The LVs concerned are
 * locked against use for the duration (vol_lv_inuse_lock). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Locks the classic snapshots of `lv` in use (exclusive; held until the VG is closed, or
 * released at once with `probe`): their read-only users read `lv` through its mapping. */
static int snapshots_lock(struct vol_vg *vg, const struct vol_lv *lv, bool probe)
{
    for (uint32_t k = 0; k < vg->nlvs && lv->type != VOL_THIN; k++) {
        const struct vol_lv *s = &vg->lvs[k];
        if (s->type != VOL_THIN || s->origin_id != lv->id)
            continue;
        int rc = probe ? vol_lv_check_unused(vg, s) : vol_lv_inuse_lock(vg, s->id, true);
        if (rc)
            return rv_error_prefix(rc, "its snapshot %s: ", s->name);
    }
    return 0;
}

int vol_vg_pv_move(struct vol_vg *vg, uint32_t from, int to, const char *lvname,
                   const uint32_t *skip, uint32_t nskip)
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
        for (uint32_t k = 0; k < nskip; k++)
            touched &= skip[k] != lv->id;
        if (!touched || (lvname && strcmp(lvname, lv->name) != 0))
            continue;
        /* The in-use lock stays held (our fds) until the VG is closed, after the commit. */
        if ((rc = vol_lv_inuse_lock(vg, lv->id, true)) || (rc = snapshots_lock(vg, lv, false))) {
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

/* --- pv-move of an LV in use ---
 * 1. commit: the LV gets `moving` areas (its new mapping) and a new move generation; users
 *    reload (watcher) and from then on write both mappings;
 * 2. wait until no user holds the previous generation's lock (all of them write both);
 * 3. copy the moved runs, re-reading until the old and the new place compare equal (a user's
 *    write may land between our read and our write; users write old then new, so a final
 *    equal compare means the new place is current);
 * 4. commit: the new mapping becomes the LV's, the old extents are `reserved`, generation + 1;
 * 5. wait until no user holds the generation of step 1 (nobody writes the old place any more);
 * 6. commit: the reserved extents are free.
 * A crash leaves a consistent state at every point; `pv-move` again resumes (steps 2-6). */

static int copy_verify(const struct vol_vg *vg, const struct vol_area *old,
                       const struct vol_area *neu, uint64_t start, uint64_t len)
{
    const uint64_t piece = 1u << 20;
    uint8_t *a = malloc(piece), *b = malloc(piece);
    int rc = a && b ? 0 : rv_error_set(-ENOMEM, "out of memory");
    for (uint64_t off = start; off < start + len && !rc;) {
        uint32_t sp, dp;
        uint64_t so, dof, sa, da;
        if ((rc = vol_area_map(vg, old, off, &sp, &so, &sa)) ||
            (rc = vol_area_map(vg, neu, off, &dp, &dof, &da)))
            break;
        uint64_t n = start + len - off;
        n = n < sa ? n : sa;
        n = n < da ? n : da;
        n = n < piece ? n : piece;
        int tries = 0;
        for (;;) {
            if (pread(vg->pvs[sp].fd, a, n, (off_t)so) != (ssize_t)n ||
                pread(vg->pvs[dp].fd, b, n, (off_t)dof) != (ssize_t)n) {
                rc = rv_error_set(-EIO, "pv-move: read failed");
                break;
            }
            if (memcmp(a, b, n) == 0)
                break;
            if (++tries > 1000) {
                rc = rv_error_set(-EBUSY, "pv-move: the LV is written too fast to copy");
                break;
            }
            if (pwrite(vg->pvs[dp].fd, a, n, (off_t)dof) != (ssize_t)n) {
                rc = rv_error_set(-EIO, "pv-move: write failed");
                break;
            }
        }
        off += n;
    }
    free(a);
    free(b);
    for (uint32_t p = 0; p < vg->npvs && !rc; p++)
        if (vg->pvs[p].fd >= 0 && fdatasync(vg->pvs[p].fd) < 0)
            rc = rv_error_set(-errno, "%s: fdatasync failed", vg->pvs[p].path);
    return rc;
}

/* Opens the VG, finds LV `id`, applies `step`, commits. */
static int move_step(const char *devices, const char *vgname, uint32_t id, uint32_t from,
                     int to, int step, uint32_t *gen)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    struct vol_lv *lv = vol_lv_by_id(vg, id);
    if (!lv) {
        vol_vg_close(vg);
        return rv_error_set(-ENOENT, "pv-move: the LV went away");
    }
    if (step == 1 && !lv->moving) {
        struct vol_alloc al;
        if (!(rc = vol_alloc_begin(&al, vg))) {
            lv->moving = calloc(lv->nareas, sizeof(*lv->moving));
            for (uint32_t a = 0; a < lv->nareas && !rc; a++)
                rc = lv->moving ? area_relocate(&al, lv, a, from, to, &lv->moving[a])
                                : rv_error_set(-ENOMEM, "out of memory");
            vol_alloc_end(&al);
        }
        lv->move_from = from;
        lv->move_gen++;
    } else if (step == 4 && lv->moving) {
        from = lv->move_from; /* a resumed move keeps its own source */
        for (uint32_t a = 0; a < lv->nareas && !rc; a++) {
            for (uint32_t r = 0; r < lv->areas[a].nruns && !rc; r++)
                if (lv->areas[a].runs[r].pv == from)
                    rc = vol_area_append(&lv->reserved, from, lv->areas[a].runs[r].pe,
                                         lv->areas[a].runs[r].count);
            free(lv->areas[a].runs);
            lv->areas[a] = lv->moving[a];
        }
        free(lv->moving);
        lv->moving = NULL;
        lv->move_gen++;
    } else if (step == 6) {
        free(lv->reserved.runs);
        lv->reserved = (struct vol_area){.runs = NULL};
    }
    if (!rc && step != 0)
        rc = vol_vg_commit(vg);
    *gen = lv->move_gen;
    vol_vg_close(vg);
    return rc;
}

static int move_wait(const char *devices, const char *vgname, uint32_t id, uint32_t gen)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_READ, &vg);
    if (!rc)
        rc = vol_lv_gen_wait(vg, id, gen);
    vol_vg_close(vg);
    return rc;
}

static int move_copy(const char *devices, const char *vgname, uint32_t id, uint32_t from)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_READ, &vg);
    if (rc)
        return rc;
    struct vol_lv *lv = vol_lv_by_id(vg, id);
    if (lv && lv->moving)
        from = lv->move_from;
    for (uint32_t a = 0; lv && lv->moving && a < lv->nareas && !rc; a++)
        for (uint32_t r = 0; r < lv->areas[a].nruns && !rc; r++)
            if (lv->areas[a].runs[r].pv == from)
                rc = copy_verify(vg, &lv->areas[a], &lv->moving[a],
                                 lv->areas[a].runs[r].le * vg->extent_size,
                                 lv->areas[a].runs[r].count * vg->extent_size);
    vol_vg_close(vg);
    return rc;
}

static int pv_move_online(const char *devices, const char *vgname, uint32_t id, uint32_t from,
                          int to, bool reserved)
{
    uint32_t gen = 0;
    int rc = 0;
    if (!reserved) {
        if (!(rc = move_step(devices, vgname, id, from, to, 1, &gen)) &&
            !(rc = move_wait(devices, vgname, id, gen - 1)) &&
            !(rc = move_copy(devices, vgname, id, from)))
            rc = move_step(devices, vgname, id, from, to, 4, &gen);
    } else {
        rc = move_step(devices, vgname, id, from, to, 0, &gen); /* only reads the generation */
    }
    if (!rc && !(rc = move_wait(devices, vgname, id, gen - 1)))
        rc = move_step(devices, vgname, id, from, to, 6, &gen);
    return rc;
}

int vol_pv_move(const char *devices, const char *vgname, const char *from, const char *to,
                const char *lvname)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, vgname, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    uint32_t f, t = 0;
    if ((rc = vol_pv_lookup(vg, from, &f)) || (to && (rc = vol_pv_lookup(vg, to, &t)))) {
        vol_vg_close(vg);
        return rc;
    }
    /* LVs in use move online, one after the other; the others move together, offline. */
    uint32_t busy[VOL_MAX_LVS] = {0}, nbusy = 0;
    bool resume_reserved[VOL_MAX_LVS] = {false};
    for (uint32_t l = 0; l < vg->nlvs; l++) {
        struct vol_lv *lv = &vg->lvs[l];
        bool on = lv->moving || lv->reserved.nruns;
        for (uint32_t a = 0; a < lv->nareas; a++)
            on |= area_on_pv(&lv->areas[a], f);
        if (!on || (lvname && strcmp(lvname, lv->name) != 0))
            continue;
        /* A snapshot's reader reads its origin: it follows an online move (gen holds). */
        bool in_use = vol_lv_check_unused(vg, lv) == -EBUSY ||
                      snapshots_lock(vg, lv, true) == -EBUSY;
        if (in_use && lv->type == VOL_THIN_POOL) {
            vol_vg_close(vg);
            return rv_error_set(-EBUSY, "pv-move: thin pool %s is in use (pools move only "
                                "while idle)", lv->name);
        }
        if (lv->moving || lv->reserved.nruns || in_use) {
            resume_reserved[nbusy] = !lv->moving && lv->reserved.nruns;
            busy[nbusy++] = lv->id;
        }
    }
    rc = vol_vg_pv_move(vg, f, to ? (int)t : -1, lvname, busy, nbusy);
    vol_vg_close(vg);
    if (rc == -ENOENT && nbusy)
        rc = 0; /* nothing left for the offline part */
    for (uint32_t i = 0; i < nbusy && !rc; i++)
        rc = pv_move_online(devices, vgname, busy[i], f, to ? (int)t : -1, resume_reserved[i]);
    return rc;
}
