/* `rvisor vol pvs|vgs|lvs [--json]`: sizes, free extents, mappings and health. The table and
 * the JSON come from the same rows (a JSON object per row, printed as columns for people). */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/volume/vol.h"
#include "block/volume/vol_thin.h"
#include "cli/vol.h"
#include "core/error.h"

static json_t *pv_row(const struct vol_scan_pv *p)
{
    if (p->error)
        return json_pack("{s:s,s:s,s:s}", "pv", p->path, "vg", "", "status", p->msg);
    const struct vol_vg *vg = p->meta;
    json_t *row = json_pack("{s:s,s:s,s:I,s:I}", "pv", p->path, "vg", vg ? vg->name : "",
                            "dev_size", (json_int_t)p->label.dev_size, "metadata_seq",
                            (json_int_t)p->seq);
    for (uint32_t i = 0; vg && i < vg->npvs; i++) {
        if (memcmp(vg->pvs[i].uuid, p->label.uuid, VOL_UUID_LEN) != 0)
            continue;
        uint8_t **used;
        uint64_t free_ext[VOL_MAX_PVS];
        if (vol_used_map(vg, &used, free_ext) == 0) {
            vol_used_free(vg, used);
            json_object_set_new(row, "extents", json_integer((json_int_t)vg->pvs[i].pe_count));
            json_object_set_new(row, "free_extents", json_integer((json_int_t)free_ext[i]));
            json_object_set_new(row, "size",
                                json_integer((json_int_t)(vg->pvs[i].pe_count * vg->extent_size)));
            json_object_set_new(row, "free",
                                json_integer((json_int_t)(free_ext[i] * vg->extent_size)));
        }
    }
    json_object_set_new(row, "status", json_string("ok"));
    return row;
}

static json_t *vg_row(const struct vol_vg *vg)
{
    uint8_t **used;
    uint64_t free_ext[VOL_MAX_PVS], total = 0, free_sum = 0;
    unsigned missing = 0;
    if (vol_used_map(vg, &used, free_ext) == 0)
        vol_used_free(vg, used);
    for (uint32_t i = 0; i < vg->npvs; i++) {
        total += vg->pvs[i].pe_count;
        free_sum += free_ext[i];
        missing += vg->pvs[i].fd < 0;
    }
    return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "vg", vg->name, "pvs",
                     (json_int_t)vg->npvs, "missing_pvs", (json_int_t)missing, "lvs",
                     (json_int_t)vg->nlvs, "metadata_seq", (json_int_t)vg->seq, "extent_size",
                     (json_int_t)vg->extent_size, "extents", (json_int_t)total, "free_extents",
                     (json_int_t)free_sum, "size", (json_int_t)(total * vg->extent_size),
                     "free", (json_int_t)(free_sum * vg->extent_size));
}

/* Pool usage (data chunks in use), a thin volume's pool and origin, origins of snapshots,
 * invalid snapshots. */
static void thin_fields(const struct vol_vg *vg, const struct vol_lv *lv, json_t *row)
{
    uint32_t used, total;
    if (lv->type == VOL_THIN_POOL &&
        vol_thin_usage((struct vol_vg *)vg, (struct vol_lv *)lv, &used, &total) == 0) {
        json_object_set_new(row, "data_used", json_integer((json_int_t)used * (json_int_t)lv->chunk_size));
        json_object_set_new(row, "data_size", json_integer((json_int_t)total * (json_int_t)lv->chunk_size));
        json_object_set_new(row, "usage_percent",
                            json_real(total ? 100.0 * used / total : 0));
    }
    if (lv->type == VOL_THIN) {
        const struct vol_lv *p = vol_lv_by_id((struct vol_vg *)vg, lv->pool_id);
        json_object_set_new(row, "pool", json_string(p ? p->name : "?"));
    }
    if (lv->type == VOL_THIN && lv->origin_id != VOL_NO_LV) {
        const struct vol_lv *o = vol_lv_by_id((struct vol_vg *)vg, lv->origin_id);
        json_object_set_new(row, "origin", json_string(o ? o->name : "?"));
    }
    if (lv->frozen)
        json_object_set_new(row, "status", json_string("origin"));
    if (lv->invalid)
        json_object_set_new(row, "status", json_string("invalid"));
}

/* "pv0:pe[+count],..." per area, areas separated by " | ". */
static json_t *lv_row(const struct vol_vg *vg, const struct vol_lv *lv)
{
    json_t *areas = json_array();
    const char *status = "ok";
    for (uint32_t a = 0; a < lv->nareas; a++) {
        json_t *runs = json_array();
        bool missing = false;
        for (uint32_t r = 0; r < lv->areas[a].nruns; r++) {
            const struct vol_run *run = &lv->areas[a].runs[r];
            missing |= vg->pvs[run->pv].fd < 0;
            json_array_append_new(runs, json_pack("{s:s,s:I,s:I,s:I}", "pv",
                                                  vg->pvs[run->pv].path, "pe",
                                                  (json_int_t)run->pe, "extents",
                                                  (json_int_t)run->count, "le",
                                                  (json_int_t)run->le));
        }
        if (missing || lv->areas[a].stale)
            status = lv->type == VOL_MIRROR ? "degraded" : "missing PV";
        json_array_append_new(areas, json_pack("{s:o,s:b,s:b}", "runs", runs, "stale",
                                               lv->areas[a].stale, "missing", missing));
    }
    json_t *row = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:o}", "vg", vg->name, "lv", lv->name,
                     "type", vol_lv_type_name(lv->type), "size",
                     (json_int_t)(lv->extents * vg->extent_size), "extents",
                     (json_int_t)lv->extents, "stripes",
                     (json_int_t)(lv->type == VOL_STRIPED ? lv->nareas : 1), "stripe_size",
                     (json_int_t)lv->stripe_size, "status", status, "areas", areas);
    thin_fields(vg, lv, row);
    return row;
}

static void human(uint64_t v, char *buf, size_t len)
{
    static const char *units[] = {"B", "K", "M", "G", "T", "P"};
    int u = 0;
    double d = (double)v;
    while (d >= 1024 && u < 5) {
        d /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.2f%s" : "%.0f%s", d, units[u]);
}

static void print_mapping(json_t *areas)
{
    size_t a, r;
    json_t *area, *run;
    json_array_foreach(areas, a, area) {
        printf("%s", a ? " | " : "  ");
        json_array_foreach(json_object_get(area, "runs"), r, run) {
            printf("%s%s:%" JSON_INTEGER_FORMAT "+%" JSON_INTEGER_FORMAT, r ? "," : "",
                   json_string_value(json_object_get(run, "pv")),
                   json_integer_value(json_object_get(run, "pe")),
                   json_integer_value(json_object_get(run, "extents")));
        }
    }
}

static void print_table(const char *what, json_t *rows)
{
    size_t i;
    json_t *row;
    char s1[32], s2[32];
    if (strcmp(what, "pvs") == 0)
        printf("%-40s %-12s %10s %10s  %s\n", "PV", "VG", "Size", "Free", "Status");
    else if (strcmp(what, "vgs") == 0)
        printf("%-12s %4s %4s %8s %10s %10s %8s\n", "VG", "#PV", "#LV", "Seq", "Size", "Free",
               "Extent");
    else
        printf("%-12s %-16s %-8s %10s %-10s  %s\n", "VG", "LV", "Type", "Size", "Status",
               "Mapping");
    json_array_foreach(rows, i, row) {
        human((uint64_t)json_integer_value(json_object_get(row, "size")), s1, sizeof(s1));
        human((uint64_t)json_integer_value(json_object_get(row, "free")), s2, sizeof(s2));
        const char *vg = json_string_value(json_object_get(row, "vg"));
        if (strcmp(what, "pvs") == 0) {
            printf("%-40s %-12s %10s %10s  %s\n", json_string_value(json_object_get(row, "pv")),
                   vg, s1, s2, json_string_value(json_object_get(row, "status")));
        } else if (strcmp(what, "vgs") == 0) {
            char ext[32];
            human((uint64_t)json_integer_value(json_object_get(row, "extent_size")), ext,
                  sizeof(ext));
            printf("%-12s %4" JSON_INTEGER_FORMAT " %4" JSON_INTEGER_FORMAT " %8"
                   JSON_INTEGER_FORMAT " %10s %10s %8s\n", vg,
                   json_integer_value(json_object_get(row, "pvs")),
                   json_integer_value(json_object_get(row, "lvs")),
                   json_integer_value(json_object_get(row, "metadata_seq")), s1, s2, ext);
        } else {
            printf("%-12s %-16s %-8s %10s %-10s", vg,
                   json_string_value(json_object_get(row, "lv")),
                   json_string_value(json_object_get(row, "type")), s1,
                   json_string_value(json_object_get(row, "status")));
            print_mapping(json_object_get(row, "areas"));
            json_t *pct = json_object_get(row, "usage_percent"), *pool = json_object_get(row, "pool");
            if (pct)
                printf("  data %.1f%% used", json_real_value(pct));
            if (pool)
                printf("  pool %s", json_string_value(pool));
            if (json_object_get(row, "origin"))
                printf(" snapshot of %s", json_string_value(json_object_get(row, "origin")));
            printf("\n");
        }
    }
}

/* Rows for vgs/lvs: every VG named in the scan, opened (read-only) one after the other. */
static void vg_rows(const char *devices, struct vol_scan_pv *s, unsigned n, bool lvs,
                    json_t *rows)
{
    for (unsigned i = 0; i < n; i++) {
        if (!s[i].meta)
            continue;
        bool seen = false;
        for (unsigned k = 0; k < i; k++)
            seen |= s[k].meta && strcmp(s[k].meta->name, s[i].meta->name) == 0;
        struct vol_vg *vg;
        if (seen)
            continue;
        if (vol_vg_open(devices, s[i].meta->name, VOL_OPEN_READ, &vg)) {
            fprintf(stderr, "rvisor vol: %s\n", rv_error_get());
            continue;
        }
        if (!lvs)
            json_array_append_new(rows, vg_row(vg));
        for (uint32_t l = 0; lvs && l < vg->nlvs; l++)
            json_array_append_new(rows, lv_row(vg, &vg->lvs[l]));
        vol_vg_close(vg);
    }
}

int rv_cli_vol_report(const char *what, const char *devices, bool json)
{
    devices = vol_devices_path(devices);
    struct vol_scan_pv *s;
    unsigned n;
    int rc = vol_scan(devices, &s, &n);
    if (rc)
        return rc;
    json_t *rows = json_array();
    if (strcmp(what, "pvs") == 0)
        for (unsigned i = 0; i < n; i++)
            json_array_append_new(rows, pv_row(&s[i]));
    else
        vg_rows(devices, s, n, strcmp(what, "lvs") == 0, rows);
    vol_scan_free(s, n);
    if (json) {
        char *text = json_dumps(rows, JSON_INDENT(2));
        printf("%s\n", text ? text : "[]");
        free(text);
    } else {
        print_table(what, rows);
    }
    json_decref(rows);
    return 0;
}
