/* VG metadata as JSON text (jansson): formatting, and parsing with full validation, since a
 * metadata area is untrusted input (it may be corrupted, truncated or crafted). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/volume/vol.h"
#include "core/error.h"

#define META_FORMAT "rvisor-vg"
#define META_VERSION 1

bool vol_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > VOL_NAME_MAX || name[0] == '-' || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == '+'))
            return false;
    }
    return true;
}

const char *vol_lv_type_name(enum vol_lv_type t)
{
    switch (t) {
    case VOL_LINEAR: return "linear";
    case VOL_STRIPED: return "striped";
    case VOL_MIRROR: return "mirror";
    case VOL_THIN_POOL: return "thin-pool";
    case VOL_THIN: return "thin";
    }
    return "?";
}

uint64_t vol_area_extents(const struct vol_lv *lv)
{
    return lv->type == VOL_STRIPED ? lv->extents / lv->nareas : lv->extents;
}

uint64_t vol_area_len(const struct vol_lv *lv, uint32_t a)
{
    return lv->type == VOL_THIN_POOL && a == 1 ? lv->meta_extents : vol_area_extents(lv);
}

struct vol_lv *vol_lv_by_id(struct vol_vg *vg, uint32_t id)
{
    for (uint32_t i = 0; i < vg->nlvs; i++)
        if (vg->lvs[i].id == id)
            return &vg->lvs[i];
    return NULL;
}

struct vol_lv *vol_lv_find(struct vol_vg *vg, const char *name)
{
    for (uint32_t i = 0; i < vg->nlvs; i++)
        if (strcmp(vg->lvs[i].name, name) == 0)
            return &vg->lvs[i];
    return NULL;
}

void vol_lv_free_areas(struct vol_lv *lv)
{
    for (uint32_t a = 0; a < lv->nareas && lv->areas; a++)
        free(lv->areas[a].runs);
    for (uint32_t a = 0; a < lv->nareas && lv->moving; a++)
        free(lv->moving[a].runs);
    free(lv->areas);
    free(lv->moving);
    free(lv->reserved.runs);
    lv->areas = lv->moving = NULL;
    lv->reserved.runs = NULL;
}

void vol_vg_free(struct vol_vg *vg)
{
    if (!vg)
        return;
    for (uint32_t i = 0; i < vg->npvs; i++)
        free(vg->pvs[i].path);
    for (uint32_t i = 0; i < vg->nlvs; i++)
        vol_lv_free_areas(&vg->lvs[i]);
    free(vg->pvs);
    free(vg->lvs);
    free(vg->devices);
    free(vg);
}

static void hex_encode(const uint8_t *u, char out[2 * VOL_UUID_LEN + 1])
{
    for (int i = 0; i < VOL_UUID_LEN; i++)
        sprintf(out + 2 * i, "%02x", u[i]);
}

static int hex_decode(const char *s, uint8_t *u)
{
    if (!s || strlen(s) != 2 * VOL_UUID_LEN)
        return -1;
    for (int i = 0; i < VOL_UUID_LEN; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        u[i] = (uint8_t)v;
    }
    return 0;
}

/* --- formatting --- */

static json_t *area_to_json(const struct vol_area *area)
{
    json_t *runs = json_array();
    for (uint32_t r = 0; r < area->nruns; r++) {
        const struct vol_run *run = &area->runs[r];
        json_array_append_new(runs, json_pack("[III]", (json_int_t)run->pv, (json_int_t)run->pe,
                                              (json_int_t)run->count));
    }
    return json_pack("{s:o,s:b}", "runs", runs, "stale", area->stale);
}

static json_t *lv_to_json(const struct vol_lv *lv)
{
    json_t *areas = json_array();
    for (uint32_t a = 0; a < lv->nareas; a++)
        json_array_append_new(areas, area_to_json(&lv->areas[a]));
    json_t *j = json_pack("{s:s,s:I,s:s,s:I,s:I,s:o}", "name", lv->name, "id", (json_int_t)lv->id,
                          "type", vol_lv_type_name(lv->type), "extents", (json_int_t)lv->extents,
                          "stripe_size", (json_int_t)lv->stripe_size, "areas", areas);
    if (lv->type == VOL_THIN_POOL)
        json_object_update_new(j, json_pack("{s:I,s:I}", "meta_extents",
                                            (json_int_t)lv->meta_extents, "chunk_size",
                                            (json_int_t)lv->chunk_size));
    if (lv->type == VOL_THIN)
        json_object_update_new(j, json_pack("{s:I,s:I}", "pool", (json_int_t)lv->pool_id,
                                            "thin_id", (json_int_t)lv->thin_id));
    if (lv->type == VOL_THIN && lv->origin_id != VOL_NO_LV)
        json_object_set_new(j, "origin", json_integer((json_int_t)lv->origin_id));
    if (lv->frozen)
        json_object_set_new(j, "frozen", json_true());
    if (lv->invalid)
        json_object_set_new(j, "invalid", json_true());
    if (lv->move_gen)
        json_object_set_new(j, "move_gen", json_integer((json_int_t)lv->move_gen));
    if (lv->moving)
        json_object_set_new(j, "move_from", json_integer((json_int_t)lv->move_from));
    if (lv->moving) {
        json_t *mv = json_array();
        for (uint32_t a = 0; a < lv->nareas; a++)
            json_array_append_new(mv, area_to_json(&lv->moving[a]));
        json_object_set_new(j, "moving", mv);
    }
    if (lv->reserved.nruns)
        json_object_set_new(j, "reserved", area_to_json(&lv->reserved));
    return j;
}

int vol_meta_format(const struct vol_vg *vg, char **out)
{
    char uuid[2 * VOL_UUID_LEN + 1];
    json_t *pvs = json_array(), *lvs = json_array();
    for (uint32_t i = 0; i < vg->npvs; i++) {
        hex_encode(vg->pvs[i].uuid, uuid);
        json_array_append_new(pvs, json_pack("{s:s,s:s,s:I,s:I}", "uuid", uuid, "path",
                                             vg->pvs[i].path ? vg->pvs[i].path : "",
                                             "pe_start", (json_int_t)vg->pvs[i].pe_start,
                                             "pe_count", (json_int_t)vg->pvs[i].pe_count));
    }
    for (uint32_t i = 0; i < vg->nlvs; i++)
        json_array_append_new(lvs, lv_to_json(&vg->lvs[i]));
    hex_encode(vg->uuid, uuid);
    json_t *root = json_pack("{s:s,s:i,s:s,s:s,s:I,s:I,s:I,s:o,s:o}", "format", META_FORMAT,
                             "version", META_VERSION, "name", vg->name, "uuid", uuid,
                             "seq", (json_int_t)vg->seq, "extent_size",
                             (json_int_t)vg->extent_size, "next_lv_id",
                             (json_int_t)vg->next_lv_id, "pvs", pvs, "lvs", lvs);
    *out = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!*out)
        return rv_error_set(-ENOMEM, "volume group %s: cannot format the metadata", vg->name);
    return 0;
}

/* --- parsing --- */

static int get_u64(json_t *obj, const char *key, uint64_t max, uint64_t *v, const char *what)
{
    json_t *j = json_object_get(obj, key);
    if (!json_is_integer(j) || json_integer_value(j) < 0 ||
        (uint64_t)json_integer_value(j) > max)
        return rv_error_set(-EINVAL, "metadata: %s: '%s' missing or out of range", what, key);
    *v = (uint64_t)json_integer_value(j);
    return 0;
}

static int get_name(json_t *obj, const char *key, char *out, const char *what)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s || !vol_name_valid(s))
        return rv_error_set(-EINVAL, "metadata: %s: bad or missing '%s'", what, key);
    strcpy(out, s);
    return 0;
}

static int parse_pv(json_t *j, struct vol_pv *pv, uint64_t extent_size, unsigned idx)
{
    char what[32];
    snprintf(what, sizeof(what), "PV %u", idx);
    pv->fd = -1;
    pv->cur_slot = -1;
    if (!json_is_object(j) || hex_decode(json_string_value(json_object_get(j, "uuid")), pv->uuid))
        return rv_error_set(-EINVAL, "metadata: %s: bad uuid", what);
    const char *path = json_string_value(json_object_get(j, "path"));
    if (!path || strlen(path) > 4095)
        return rv_error_set(-EINVAL, "metadata: %s: bad path", what);
    if (!(pv->path = strdup(path)))
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = get_u64(j, "pe_start", 1ull << 40, &pv->pe_start, what);
    if (!rc)
        rc = get_u64(j, "pe_count", VOL_MAX_EXTENTS, &pv->pe_count, what);
    if (!rc && pv->pe_start % 512)
        rc = rv_error_set(-EINVAL, "metadata: %s: unaligned data area", what);
    if (!rc && pv->pe_count * extent_size > (1ull << 62)) /* both bounded: no overflow */
        rc = rv_error_set(-EINVAL, "metadata: %s: data area too large", what);
    return rc;
}

static int parse_type(const char *s, enum vol_lv_type *t)
{
    if (!s)
        return -1;
    if (strcmp(s, "linear") == 0)
        *t = VOL_LINEAR;
    else if (strcmp(s, "striped") == 0)
        *t = VOL_STRIPED;
    else if (strcmp(s, "mirror") == 0)
        *t = VOL_MIRROR;
    else if (strcmp(s, "thin-pool") == 0)
        *t = VOL_THIN_POOL;
    else if (strcmp(s, "thin") == 0)
        *t = VOL_THIN;
    else
        return -1;
    return 0;
}

static int parse_area(json_t *j, const struct vol_vg *vg, struct vol_area *a, uint64_t want,
                      const char *what)
{
    json_t *runs = json_object_get(j, "runs");
    json_t *stale = json_object_get(j, "stale");
    if (!json_is_array(runs) || json_array_size(runs) > VOL_MAX_RUNS || !json_is_boolean(stale))
        return rv_error_set(-EINVAL, "metadata: %s: bad area", what);
    a->stale = json_is_true(stale);
    a->nruns = (uint32_t)json_array_size(runs);
    a->runs = calloc(a->nruns ? a->nruns : 1, sizeof(*a->runs));
    if (!a->runs)
        return rv_error_set(-ENOMEM, "out of memory");
    uint64_t le = 0;
    for (uint32_t r = 0; r < a->nruns; r++) {
        json_t *e = json_array_get(runs, r);
        json_int_t pv, pe, count;
        if (json_unpack(e, "[III!]", &pv, &pe, &count) || pv < 0 || (uint64_t)pv >= vg->npvs ||
            pe < 0 || count <= 0 || (uint64_t)pe > vg->pvs[pv].pe_count ||
            (uint64_t)count > vg->pvs[pv].pe_count - (uint64_t)pe || (uint64_t)count > want - le)
            return rv_error_set(-EINVAL, "metadata: %s: run %" PRIu32 " is out of range", what, r);
        a->runs[r] = (struct vol_run){(uint32_t)pv, (uint64_t)pe, (uint64_t)count, le};
        le += (uint64_t)count;
    }
    if (le != want)
        return rv_error_set(-EINVAL, "metadata: %s: maps %" PRIu64 " extents instead of %" PRIu64,
                            what, le, want);
    return 0;
}

/* Optional members: absent means 0 (or no origin). */
static int get_opt(json_t *obj, const char *key, uint64_t max, uint64_t *v, uint64_t dflt,
                   const char *what)
{
    *v = dflt;
    return json_object_get(obj, key) ? get_u64(obj, key, max, v, what) : 0;
}

static int parse_thin_fields(json_t *j, const struct vol_vg *vg, struct vol_lv *lv,
                             const char *what)
{
    uint64_t meta, chunk, pool, thin, origin;
    json_t *frozen = json_object_get(j, "frozen"), *invalid = json_object_get(j, "invalid");
    int rc;
    if ((rc = get_opt(j, "meta_extents", 1ull << 20, &meta, 0, what)) ||
        (rc = get_opt(j, "chunk_size", vg->extent_size, &chunk, 0, what)) ||
        (rc = get_opt(j, "pool", UINT32_MAX - 1, &pool, VOL_NO_LV, what)) ||
        (rc = get_opt(j, "thin_id", UINT32_MAX - 1, &thin, 0, what)) ||
        (rc = get_opt(j, "origin", UINT32_MAX - 1, &origin, VOL_NO_LV, what)))
        return rc;
    if ((frozen && !json_is_boolean(frozen)) || (invalid && !json_is_boolean(invalid)))
        return rv_error_set(-EINVAL, "metadata: %s: bad 'frozen' or 'invalid'", what);
    lv->meta_extents = meta;
    lv->chunk_size = chunk;
    lv->pool_id = (uint32_t)pool;
    lv->thin_id = (uint32_t)thin;
    lv->origin_id = (uint32_t)origin;
    lv->frozen = json_is_true(frozen);
    lv->invalid = json_is_true(invalid);
    if (lv->type == VOL_THIN_POOL &&
        (meta == 0 || chunk < 4096 || (chunk & (chunk - 1)) || vg->extent_size % chunk ||
         lv->extents * (vg->extent_size / chunk) > UINT32_MAX - 1))
        return rv_error_set(-EINVAL, "metadata: %s: bad thin pool chunk or metadata size", what);
    if (lv->type == VOL_THIN && pool == VOL_NO_LV)
        return rv_error_set(-EINVAL, "metadata: %s: thin volume without a pool", what);
    return 0;
}

/* Thin volumes point at a thin pool; snapshot origins exist, are not thin-less-pool loops, and
 * a non-thin origin is frozen; thin ids are unique per pool. */
static int check_thin_links(struct vol_vg *vg)
{
    for (uint32_t i = 0; i < vg->nlvs; i++) {
        struct vol_lv *lv = &vg->lvs[i];
        if (lv->type != VOL_THIN)
            continue;
        struct vol_lv *pool = vol_lv_by_id(vg, lv->pool_id);
        struct vol_lv *origin = lv->origin_id == VOL_NO_LV ? NULL : vol_lv_by_id(vg, lv->origin_id);
        if (!pool || pool->type != VOL_THIN_POOL)
            return rv_error_set(-EINVAL, "metadata: LV %s: its thin pool does not exist", lv->name);
        if (lv->origin_id != VOL_NO_LV &&
            (!origin || origin == lv || origin->type == VOL_THIN_POOL ||
             (origin->type != VOL_THIN && !origin->frozen)))
            return rv_error_set(-EINVAL, "metadata: LV %s: bad snapshot origin", lv->name);
        for (uint32_t k = 0; k < i; k++)
            if (vg->lvs[k].type == VOL_THIN && vg->lvs[k].pool_id == lv->pool_id &&
                vg->lvs[k].thin_id == lv->thin_id)
                return rv_error_set(-EINVAL, "metadata: LV %s: thin id used twice", lv->name);
    }
    return 0;
}

/* The optional pv-move state: "moving" areas as long as the LV's, "reserved" runs. */
static int parse_move(json_t *j, struct vol_vg *vg, struct vol_lv *lv, const char *what)
{
    json_t *mv = json_object_get(j, "moving"), *res = json_object_get(j, "reserved");
    uint64_t gen;
    uint64_t from = 0;
    int rc = get_opt(j, "move_gen", UINT32_MAX, &gen, 0, what);
    if (!rc)
        rc = get_opt(j, "move_from", vg->npvs - 1, &from, 0, what);
    lv->move_gen = (uint32_t)gen;
    lv->move_from = (uint32_t)from;
    if (!rc && mv) {
        if (!json_is_array(mv) || json_array_size(mv) != lv->nareas || lv->nareas == 0)
            return rv_error_set(-EINVAL, "metadata: %s: bad 'moving'", what);
        if (!(lv->moving = calloc(lv->nareas, sizeof(*lv->moving))))
            return rv_error_set(-ENOMEM, "out of memory");
        for (uint32_t a = 0; a < lv->nareas && !rc; a++)
            rc = parse_area(json_array_get(mv, a), vg, &lv->moving[a], vol_area_len(lv, a), what);
    }
    if (!rc && res) {
        json_t *runs = json_object_get(res, "runs");
        uint64_t total = 0;
        for (size_t i = 0; json_is_array(runs) && i < json_array_size(runs); i++)
            total += json_integer_value(json_array_get(json_array_get(runs, i), 2)) > 0 ?
                     (uint64_t)json_integer_value(json_array_get(json_array_get(runs, i), 2)) : 0;
        rc = parse_area(res, vg, &lv->reserved, total, what);
    }
    return rc;
}

static int parse_lv(json_t *j, struct vol_vg *vg, struct vol_lv *lv)
{
    char what[96] = "LV";
    if (!json_is_object(j))
        return rv_error_set(-EINVAL, "metadata: an LV is not an object");
    int rc = get_name(j, "name", lv->name, what);
    if (rc)
        return rc;
    snprintf(what, sizeof(what), "LV %s", lv->name);
    uint64_t id = 0, ssize = 0;
    if ((rc = get_u64(j, "id", UINT32_MAX - 1, &id, what)) ||
        (rc = get_u64(j, "extents", (1ull << 62) / vg->extent_size, &lv->extents, what)) ||
        (rc = get_u64(j, "stripe_size", vg->extent_size, &ssize, what)))
        return rc;
    lv->id = (uint32_t)id;
    lv->stripe_size = ssize;
    if (id >= vg->next_lv_id || lv->extents == 0 ||
        parse_type(json_string_value(json_object_get(j, "type")), &lv->type))
        return rv_error_set(-EINVAL, "metadata: %s: bad id, size or type", what);
    json_t *areas = json_object_get(j, "areas");
    size_t n = json_is_array(areas) ? json_array_size(areas) : 0;
    if ((rc = parse_thin_fields(j, vg, lv, what)))
        return rc;
    bool ok = (lv->type == VOL_LINEAR && n == 1) || (lv->type == VOL_MIRROR && n == 2) ||
              (lv->type == VOL_THIN_POOL && n == 2) || (lv->type == VOL_THIN && n == 0) ||
              (lv->type == VOL_STRIPED && n >= 2 && n <= vg->npvs && lv->extents % n == 0 &&
               ssize >= 4096 && (ssize & (ssize - 1)) == 0 && vg->extent_size % ssize == 0);
    if (!ok)
        return rv_error_set(-EINVAL, "metadata: %s: wrong number of areas or stripe size", what);
    lv->nareas = (uint32_t)n;
    if (!(lv->areas = calloc(n ? n : 1, sizeof(*lv->areas))))
        return rv_error_set(-ENOMEM, "out of memory");
    for (uint32_t a = 0; a < lv->nareas; a++)
        if ((rc = parse_area(json_array_get(areas, a), vg, &lv->areas[a], vol_area_len(lv, a),
                             what)))
            return rc;
    if ((rc = parse_move(j, vg, lv, what)))
        return rc;
    if (lv->type == VOL_MIRROR && lv->areas[0].stale && lv->areas[1].stale)
        return rv_error_set(-EINVAL, "metadata: %s: both mirror legs are stale", what);
    return 0;
}

void vol_used_free(const struct vol_vg *vg, uint8_t **used)
{
    for (uint32_t i = 0; used && i < vg->npvs; i++)
        free(used[i]);
    free(used);
}

static bool lv_holds(const struct vol_lv *lv, uint32_t pv, uint64_t e)
{
    for (uint32_t a = 0; a < lv->nareas; a++)
        for (uint32_t r = 0; r < lv->areas[a].nruns; r++) {
            const struct vol_run *run = &lv->areas[a].runs[r];
            if (run->pv == pv && e >= run->pe && e < run->pe + run->count)
                return true;
        }
    return false;
}

/* A pv-move's destination extents (those not already the LV's own) and reserved ones. */
static int mark_move_runs(const struct vol_lv *lv, uint8_t **used, uint64_t *free_out)
{
    for (uint32_t a = 0; a <= lv->nareas; a++) {
        const struct vol_area *ar = a < lv->nareas ? (lv->moving ? &lv->moving[a] : NULL)
                                                   : &lv->reserved;
        for (uint32_t r = 0; ar && r < ar->nruns; r++) {
            const struct vol_run *run = &ar->runs[r];
            for (uint64_t e = run->pe; e < run->pe + run->count; e++) {
                if (a < lv->nareas && lv_holds(lv, run->pv, e))
                    continue;
                if (used[run->pv][e])
                    return rv_error_set(-EINVAL, "metadata: extent %" PRIu64 " of PV %" PRIu32
                                        " is used twice (LV %s, pv-move)", e, run->pv, lv->name);
                used[run->pv][e] = 1;
                if (free_out)
                    free_out[run->pv]--;
            }
        }
    }
    return 0;
}

int vol_used_map(const struct vol_vg *vg, uint8_t ***out, uint64_t *free_out)
{
    uint8_t **used = calloc(vg->npvs ? vg->npvs : 1, sizeof(*used));
    if (!used)
        return rv_error_set(-ENOMEM, "out of memory");
    for (uint32_t i = 0; i < vg->npvs; i++) {
        if (!(used[i] = calloc(vg->pvs[i].pe_count ? vg->pvs[i].pe_count : 1, 1))) {
            vol_used_free(vg, used);
            return rv_error_set(-ENOMEM, "out of memory for the extent map");
        }
        if (free_out)
            free_out[i] = vg->pvs[i].pe_count;
    }
    for (uint32_t l = 0; l < vg->nlvs; l++) {
        const struct vol_lv *lv = &vg->lvs[l];
        for (uint32_t a = 0; a < lv->nareas; a++) {
            for (uint32_t r = 0; r < lv->areas[a].nruns; r++) {
                const struct vol_run *run = &lv->areas[a].runs[r];
                for (uint64_t e = run->pe; e < run->pe + run->count; e++) {
                    if (used[run->pv][e]) {
                        vol_used_free(vg, used);
                        return rv_error_set(-EINVAL, "metadata: extent %" PRIu64 " of PV %" PRIu32
                                            " is used twice (LV %s)", e, run->pv, lv->name);
                    }
                    used[run->pv][e] = 1;
                }
                if (free_out)
                    free_out[run->pv] -= run->count;
            }
        }
    }
    for (uint32_t l = 0; l < vg->nlvs; l++) {
        int rc = mark_move_runs(&vg->lvs[l], used, free_out);
        if (rc) {
            vol_used_free(vg, used);
            return rc;
        }
    }
    *out = used;
    return 0;
}

static int parse_lvs(json_t *lvs, struct vol_vg *vg)
{
    if (!json_is_array(lvs) || json_array_size(lvs) > VOL_MAX_LVS)
        return rv_error_set(-EINVAL, "metadata: bad LV list");
    vg->lvs = calloc(json_array_size(lvs) + 1, sizeof(*vg->lvs));
    if (!vg->lvs)
        return rv_error_set(-ENOMEM, "out of memory");
    for (size_t i = 0; i < json_array_size(lvs); i++) {
        struct vol_lv *lv = &vg->lvs[vg->nlvs];
        int rc = parse_lv(json_array_get(lvs, i), vg, lv);
        vg->nlvs++; /* counted even when it failed, so that vol_vg_free frees its areas */
        if (rc)
            return rc;
        for (uint32_t k = 0; k + 1 < vg->nlvs; k++)
            if (strcmp(vg->lvs[k].name, lv->name) == 0 || vg->lvs[k].id == lv->id)
                return rv_error_set(-EINVAL, "metadata: two LVs named %s or with id %" PRIu32,
                                    lv->name, lv->id);
    }
    uint8_t **used;
    int rc = check_thin_links(vg);
    if (rc == 0 && (rc = vol_used_map(vg, &used, NULL)) == 0)
        vol_used_free(vg, used);
    return rc;
}

static int parse_root(json_t *root, struct vol_vg *vg)
{
    const char *fmt = json_string_value(json_object_get(root, "format"));
    json_t *ver = json_object_get(root, "version");
    if (!fmt || strcmp(fmt, META_FORMAT) != 0 || !json_is_integer(ver))
        return rv_error_set(-EINVAL, "metadata: not rvisor volume group metadata");
    if (json_integer_value(ver) != META_VERSION)
        return rv_error_set(-ENOTSUP, "metadata: version %" JSON_INTEGER_FORMAT " is not "
                            "supported", json_integer_value(ver));
    uint64_t next = 0;
    int rc = get_name(root, "name", vg->name, "VG");
    if (!rc && hex_decode(json_string_value(json_object_get(root, "uuid")), vg->uuid))
        rc = rv_error_set(-EINVAL, "metadata: bad VG uuid");
    if (rc || (rc = get_u64(root, "seq", INT64_MAX, &vg->seq, "VG")) ||
        (rc = get_u64(root, "extent_size", VOL_EXTENT_MAX, &vg->extent_size, "VG")) ||
        (rc = get_u64(root, "next_lv_id", UINT32_MAX, &next, "VG")))
        return rc;
    vg->next_lv_id = (uint32_t)next;
    if (vg->extent_size < VOL_EXTENT_MIN || (vg->extent_size & (vg->extent_size - 1)))
        return rv_error_set(-EINVAL, "metadata: extent size %" PRIu64 " is not a power of two "
                            "of at least 4 KiB", vg->extent_size);
    json_t *pvs = json_object_get(root, "pvs");
    if (!json_is_array(pvs) || json_array_size(pvs) == 0 || json_array_size(pvs) > VOL_MAX_PVS)
        return rv_error_set(-EINVAL, "metadata: bad PV list");
    if (!(vg->pvs = calloc(json_array_size(pvs), sizeof(*vg->pvs))))
        return rv_error_set(-ENOMEM, "out of memory");
    for (size_t i = 0; i < json_array_size(pvs); i++) {
        vg->npvs++;
        if ((rc = parse_pv(json_array_get(pvs, i), &vg->pvs[i], vg->extent_size, (unsigned)i)))
            return rc;
        for (size_t k = 0; k < i; k++)
            if (memcmp(vg->pvs[k].uuid, vg->pvs[i].uuid, VOL_UUID_LEN) == 0)
                return rv_error_set(-EINVAL, "metadata: PV listed twice");
    }
    return parse_lvs(json_object_get(root, "lvs"), vg);
}

int vol_meta_parse(const char *text, size_t len, struct vol_vg **out)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return rv_error_set(-EINVAL, "metadata: not valid JSON (%s)", root ? "not an object" :
                            "syntax error");
    }
    struct vol_vg *vg = calloc(1, sizeof(*vg));
    if (!vg) {
        json_decref(root);
        return rv_error_set(-ENOMEM, "out of memory");
    }
    int rc = parse_root(root, vg);
    json_decref(root);
    if (rc) {
        vol_vg_free(vg);
        return rc;
    }
    *out = vg;
    return 0;
}
