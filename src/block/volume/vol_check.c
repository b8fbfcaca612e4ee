/* `vol check` and `vol repair`: every listed device's label and both metadata slots, then each
 * VG's newest metadata (which the parser validates in full), missing PVs, PVs holding an older
 * copy, stale mirror legs. Repair rewrites the newest metadata to every present PV (as a new
 * version) and resyncs stale mirror legs whose PVs are all back. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/volume/vol.h"
#include "block/volume/vol_thin.h"
#include "core/error.h"

struct checker {
    void (*report)(void *ctx, const char *msg);
    void *ctx;
    struct vol_check_result *res;
};

static void say(struct checker *c, unsigned *counter, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct checker *c, unsigned *counter, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (counter)
        (*counter)++;
    if (c->report)
        c->report(c->ctx, msg);
}

static void check_scan(struct checker *c, struct vol_scan_pv *s, unsigned n, const char *vg)
{
    for (unsigned i = 0; i < n; i++) {
        struct vol_scan_pv *p = &s[i];
        if (vg && (!p->meta || strcmp(p->meta->name, vg) != 0) && !p->error &&
            (p->slot_msg[0][0] == 0 && p->slot_msg[1][0] == 0))
            continue;
        if (p->error == -ENOENT && p->fd < 0) {
            say(c, &c->res->warnings, "warning: %s", p->msg);
            continue;
        }
        if (p->error) {
            say(c, &c->res->errors, "error: %s", p->msg);
            continue;
        }
        for (int k = 0; k < 2; k++) {
            if (!p->slot_msg[k][0])
                continue;
            if (p->meta)
                say(c, &c->res->warnings, "warning: %s (the other slot, sequence %" PRIu64
                    ", is valid and in use)", p->slot_msg[k], p->seq);
            else
                say(c, &c->res->errors, "error: %s", p->slot_msg[k]);
        }
        if (!p->meta && (p->slot_msg[0][0] || p->slot_msg[1][0]))
            say(c, &c->res->errors, "error: %s: no valid metadata in either slot", p->path);
    }
}

static void check_vg(struct checker *c, struct vol_vg *vg)
{
    for (uint32_t i = 0; i < vg->npvs; i++) {
        struct vol_pv *pv = &vg->pvs[i];
        if (pv->fd < 0)
            say(c, &c->res->warnings, "warning: %s: PV %s is missing", vg->name, pv->path);
        else if (pv->disk_seq != vg->seq)
            say(c, &c->res->warnings, "warning: %s: %s holds an older metadata version (%" PRIu64
                " < %" PRIu64 "): an interrupted update; repair or the next change rewrites it",
                vg->name, pv->path, pv->disk_seq, vg->seq);
    }
    for (uint32_t l = 0; l < vg->nlvs; l++)
        if (vg->lvs[l].moving || vg->lvs[l].reserved.nruns)
            say(c, &c->res->warnings, "warning: %s/%s: a pv-move is in progress or was "
                "interrupted (run pv-move again to finish it)", vg->name, vg->lvs[l].name);
    for (uint32_t l = 0; l < vg->nlvs; l++)
        for (uint32_t a = 0; a < vg->lvs[l].nareas; a++)
            if (vg->lvs[l].areas[a].stale)
                say(c, &c->res->warnings, "warning: %s/%s: mirror leg %" PRIu32 " is out of sync",
                    vg->name, vg->lvs[l].name, a);
}

/* Each pool's tables against the thin LVs: a table no LV names is an orphan (a crash between
 * the two commits of a thin operation; repair drops it), an LV without a table is an error. */
static void check_pools(struct checker *c, struct vol_vg *vg, bool repair)
{
    for (uint32_t p = 0; p < vg->nlvs; p++) {
        struct vol_lv *pool = &vg->lvs[p];
        struct vol_thin_pool *tp;
        if (pool->type != VOL_THIN_POOL)
            continue;
        int rc = vol_thin_pool_load(vg, pool, &tp);
        if (rc) { /* a missing PV is already a warning; a damaged pool is an error */
            say(c, rc == -ENODEV ? &c->res->warnings : &c->res->errors, "%s: %s",
                rc == -ENODEV ? "warning" : "error", rv_error_get());
            continue;
        }
        for (uint32_t l = 0; l < vg->nlvs; l++) {
            struct vol_lv *lv = &vg->lvs[l];
            if (lv->type == VOL_THIN && lv->pool_id == pool->id && lv->invalid)
                say(c, &c->res->warnings, "warning: %s/%s: an invalid snapshot (its pool ran out "
                    "of space while its origin was written): remove it", vg->name, lv->name);
            if (lv->type != VOL_THIN || lv->pool_id != pool->id ||
                vol_thin_table_find(tp, lv->thin_id))
                continue;
            /* A thin snapshot whose merge into its thin origin reached the pool but not the VG:
             * the origin already holds its table, so the snapshot LV is what is left to drop. */
            struct vol_lv *o = lv->origin_id == VOL_NO_LV ? NULL : vol_lv_by_id(vg, lv->origin_id);
            bool merged = o && o->type == VOL_THIN;
            say(c, &c->res->errors, "error: %s/%s: its table is missing from pool %s%s",
                vg->name, lv->name, pool->name, merged ? " (an interrupted lv-merge: repair "
                "finishes it)" : "");
            if (repair && merged) {
                char name[VOL_NAME_MAX + 1];
                snprintf(name, sizeof(name), "%s", lv->name);
                vol_vg_remove_lv(vg, lv);
                l--;
                if (vol_vg_commit(vg) == 0)
                    say(c, &c->res->repaired, "repaired: %s/%s: merge finished", vg->name, name);
            }
        }
        for (uint32_t t = 0; t < tp->ntables; t++) {
            uint32_t id = tp->tables[t].thin_id, n = tp->tables[t].nchunks;
            if (id >= VOL_THIN_RES) { /* a user's chunk reservation (vol_thin_share.c) */
                if (!n || vol_thin_res_alive(vg, pool, id))
                    continue;
                say(c, &c->res->warnings, "warning: %s/%s: %" PRIu32 " chunks reserved by a "
                    "user that is gone (a crash); the pool's next writer or repair frees them",
                    vg->name, pool->name, n);
                if (repair && vol_lv_inuse_lock(vg, pool->id, true) == 0) {
                    vol_thin_table_remove(tp, id);
                    t--;
                    if (vol_thin_pool_commit(tp) == 0)
                        say(c, &c->res->repaired, "repaired: %s/%s: reservation freed",
                            vg->name, pool->name);
                }
                continue;
            }
            bool named = false;
            for (uint32_t l = 0; l < vg->nlvs; l++)
                named |= vg->lvs[l].type == VOL_THIN && vg->lvs[l].pool_id == pool->id &&
                         vg->lvs[l].thin_id == tp->tables[t].thin_id;
            if (named)
                continue;
            say(c, &c->res->warnings, "warning: %s/%s: table %" PRIu32 " belongs to no thin "
                "volume (an interrupted operation); repair frees its chunks", vg->name,
                pool->name, id);
            if (repair && vol_lv_inuse_lock(vg, pool->id, true) == 0) {
                vol_thin_table_remove(tp, id);
                t--;
                if (vol_thin_pool_commit(tp) == 0)
                    say(c, &c->res->repaired, "repaired: %s/%s: table %" PRIu32 " dropped",
                        vg->name, pool->name, id);
            }
        }
        vol_thin_pool_free(tp);
    }
}

static int repair_vg(struct checker *c, const char *devices, const char *name)
{
    struct vol_vg *vg;
    int rc = vol_vg_open(devices, name, VOL_OPEN_WRITE, &vg);
    if (rc)
        return rc;
    rc = vol_vg_commit(vg);
    if (!rc)
        say(c, &c->res->repaired, "repaired: %s: metadata version %" PRIu64 " written to every "
            "present PV", name, vg->seq);
    if (!rc) {
        struct vol_check_result ignore = {0}; /* found again: counted once, by the check */
        struct checker quiet = {c->report, c->ctx, &ignore};
        check_pools(&quiet, vg, true);
        c->res->repaired += ignore.repaired;
    }
    for (uint32_t l = 0; l < vg->nlvs && !rc; l++) {
        struct vol_lv *lv = &vg->lvs[l];
        if (lv->type != VOL_MIRROR || !(lv->areas[0].stale || lv->areas[1].stale))
            continue;
        int r = vol_mirror_resync(vg, lv);
        if (r)
            say(c, &c->res->errors, "error: %s", rv_error_get());
        else
            say(c, &c->res->repaired, "repaired: %s/%s: mirror legs in sync again", name,
                lv->name);
    }
    vol_vg_close(vg);
    return rc;
}

int vol_check(const char *devices, const char *vgname, bool repair,
              void (*report)(void *ctx, const char *msg), void *ctx,
              struct vol_check_result *res)
{
    memset(res, 0, sizeof(*res));
    devices = vol_devices_path(devices);
    struct checker c = {report, ctx, res};
    struct vol_scan_pv *s;
    unsigned n;
    int rc = vol_scan(devices, &s, &n);
    if (rc)
        return rc;
    check_scan(&c, s, n, vgname);
    /* The distinct VG names seen (or just the one asked for). */
    char names[VOL_MAX_PVS * 4][VOL_NAME_MAX + 1];
    unsigned nn = 0;
    if (vgname)
        snprintf(names[nn++], sizeof(names[0]), "%s", vgname);
    for (unsigned i = 0; i < n && !vgname; i++) {
        bool dup = !s[i].meta;
        for (unsigned k = 0; k < nn && !dup; k++)
            dup = strcmp(names[k], s[i].meta->name) == 0;
        if (!dup && nn < sizeof(names) / sizeof(names[0]))
            snprintf(names[nn++], sizeof(names[0]), "%s", s[i].meta->name);
    }
    vol_scan_free(s, n);
    for (unsigned k = 0; k < nn; k++) {
        struct vol_vg *vg;
        if (vol_vg_open(devices, names[k], VOL_OPEN_READ, &vg)) {
            say(&c, &res->errors, "error: %s", rv_error_get());
            continue;
        }
        check_vg(&c, vg);
        check_pools(&c, vg, false);
        say(&c, NULL, "%s: metadata version %" PRIu64 ", %" PRIu32 " PVs, %" PRIu32 " LVs: "
            "consistent", vg->name, vg->seq, vg->npvs, vg->nlvs);
        vol_vg_close(vg);
        if (repair && repair_vg(&c, devices, names[k]))
            say(&c, &res->errors, "error: repair of %s: %s", names[k], rv_error_get());
    }
    return 0;
}
