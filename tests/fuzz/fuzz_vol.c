/* libFuzzer target: the volume manager's metadata parsers (src/block/volume/).
 *
 * The first input byte chooses the mode. Bit 2 set (and even): the rest is a thin pool metadata
 * slot for vol_thin_decode, whose tables must only map chunks inside the pool. Odd: the rest is
 * a metadata payload (JSON) for
 * vol_meta_parse; whatever parses must format and parse again to the same text, and every LV's
 * mapping must stay inside its PVs. Even: the rest is the start of a PV (label and metadata
 * area), scanned through a devices list naming a memfd; a PV whose metadata is accepted opens as
 * a VG and goes through `vol check` (with repair when bit 1 is set, which commits to the memfd).
 * Invariants: no crash, no leak, every refusal has a message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/volume/vol.h"
#include "block/volume/vol_thin.h"
#include "core/error.h"
#include "fuzz_ram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char devices[64];

/* Byte `aoff` of area `a` of `lv` maps inside its PV's data area. */
static void check_area(const struct vol_vg *vg, const struct vol_area *a, uint64_t aoff)
{
    uint32_t pv;
    uint64_t pv_off, run;
    FUZZ_CHECK(vol_area_map(vg, a, aoff, &pv, &pv_off, &run) == 0);
    FUZZ_CHECK(pv < vg->npvs && pv_off >= vg->pvs[pv].pe_start && run > 0);
    FUZZ_CHECK(pv_off + run <= vg->pvs[pv].pe_start + vg->pvs[pv].pe_count * vg->extent_size);
}

static void check_mapping(const struct vol_vg *vg)
{
    for (uint32_t l = 0; l < vg->nlvs; l++) {
        const struct vol_lv *lv = &vg->lvs[l];
        if (lv->type == VOL_THIN) { /* no areas: its pool holds the data */
            FUZZ_CHECK(lv->nareas == 0);
            continue;
        }
        for (uint32_t a = 0; lv->type == VOL_THIN_POOL && a < 2; a++) {
            uint64_t bytes = vol_area_len(lv, a) * vg->extent_size;
            for (uint64_t off = 0; off < bytes; off += bytes / 5 + 4096)
                check_area(vg, &lv->areas[a], off);
        }
        uint64_t bytes = lv->extents * vg->extent_size;
        for (uint64_t off = 0; lv->type != VOL_THIN_POOL && off < bytes; off += bytes / 7 + 4096) {
            uint32_t area;
            uint64_t aoff, avail;
            vol_lv_map(vg, lv, off, &area, &aoff, &avail);
            FUZZ_CHECK(area < lv->nareas && avail > 0);
            check_area(vg, &lv->areas[area], aoff);
        }
    }
}

static void fuzz_json(const uint8_t *data, size_t size)
{
    struct vol_vg *vg;
    rv_error_clear();
    if (vol_meta_parse((const char *)data, size, &vg)) {
        FUZZ_CHECK(rv_error_get()[0] != '\0');
        return;
    }
    check_mapping(vg);
    char *a = NULL, *b = NULL;
    struct vol_vg *again = NULL;
    FUZZ_CHECK(vol_meta_format(vg, &a) == 0);
    FUZZ_CHECK(vol_meta_parse(a, strlen(a), &again) == 0);
    FUZZ_CHECK(vol_meta_format(again, &b) == 0);
    FUZZ_CHECK(strcmp(a, b) == 0);
    free(a);
    free(b);
    vol_vg_free(again);
    vol_vg_free(vg);
}

static void fuzz_pv(const uint8_t *data, size_t size, bool repair)
{
    if (memfd < 0) {
        memfd = memfd_create("fuzz_vol_pv", 0);
        FILE *f = fopen(devices, "w");
        FUZZ_CHECK(memfd >= 0 && f);
        fprintf(f, "/proc/%d/fd/%d\n", (int)getpid(), memfd);
        fclose(f);
    }
    FUZZ_CHECK(ftruncate(memfd, 0) == 0);
    FUZZ_CHECK(pwrite(memfd, data, size, 0) == (ssize_t)size);
    struct vol_scan_pv *s;
    unsigned n;
    FUZZ_CHECK(vol_scan(devices, &s, &n) == 0 && n == 1);
    if (s[0].error)
        FUZZ_CHECK(s[0].msg[0] != '\0');
    char name[VOL_NAME_MAX + 1] = "";
    if (s[0].meta)
        snprintf(name, sizeof(name), "%s", s[0].meta->name);
    vol_scan_free(s, n);
    if (name[0]) {
        struct vol_vg *vg;
        if (vol_vg_open(devices, name, VOL_OPEN_READ, &vg) == 0) {
            check_mapping(vg);
            vol_vg_close(vg);
        }
    }
    struct vol_check_result res;
    FUZZ_CHECK(vol_check(devices, NULL, repair, NULL, NULL, &res) == 0);
}

static void fuzz_thin(const uint8_t *data, size_t size)
{
    struct vol_thin_table *t;
    uint32_t n;
    uint64_t seq;
    const uint32_t chunks = 1000;
    rv_error_clear();
    if (vol_thin_decode(data, size, chunks, &t, &n, &seq)) {
        FUZZ_CHECK(rv_error_get()[0] != '\0');
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t c = 0; c < t[i].nchunks; c++)
            FUZZ_CHECK(t[i].map[c] <= chunks);
    vol_thin_tables_free(t, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!devices[0])
        snprintf(devices, sizeof(devices), "/tmp/fuzz_vol.%d.devices", (int)getpid());
    if (data[0] & 1)
        fuzz_json(data + 1, size - 1);
    else if (data[0] & 4)
        fuzz_thin(data + 1, size - 1);
    else
        fuzz_pv(data + 1, size - 1, data[0] & 2);
    return 0;
}
