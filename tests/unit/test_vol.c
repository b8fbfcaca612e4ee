/* Volume manager metadata: PV label and slot header codecs, the metadata parser on valid and
 * malformed documents, and torn/corrupted/truncated metadata areas on real PV files (the
 * previous version is used, or the PV is rejected with a clear message). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "block/volume/vol.h"
#include "block/volume/vol_thin.h"
#include "core/error.h"
#include "test.h"

static void test_label(void)
{
    struct vol_label l = {.dev_size = 64 << 20, .mda_offset = 4096, .mda_size = 1 << 20,
                          .pe_start = 2 << 20}, out;
    memset(l.uuid, 0xab, sizeof(l.uuid));
    uint8_t buf[VOL_LABEL_SIZE];
    vol_label_encode(&l, buf);
    CHECK(vol_label_decode(buf, sizeof(buf), "pv", &out) == 0);
    CHECK(memcmp(&l, &out, sizeof(l)) == 0);
    CHECK(vol_label_decode(buf, 100, "pv", &out) == -EINVAL);
    /* Any flipped byte of the covered range is caught (magic or checksum). */
    unsigned caught = 0;
    for (unsigned i = 0; i < VOL_LABEL_SIZE; i++) {
        buf[i] ^= 0x40;
        caught += vol_label_decode(buf, sizeof(buf), "pv", &out) != 0;
        buf[i] ^= 0x40;
    }
    CHECK_EQ(caught, VOL_LABEL_SIZE);
    rv_error_clear();
    l.pe_start = 4096; /* data area overlapping the metadata area */
    vol_label_encode(&l, buf);
    CHECK(vol_label_decode(buf, sizeof(buf), "pv", &out) == -EINVAL);
    CHECK(strstr(rv_error_get(), "inconsistent layout") != NULL);
    memset(buf, 0, sizeof(buf));
    CHECK(vol_label_decode(buf, sizeof(buf), "pv", &out) == -ENOENT);
    CHECK(strstr(rv_error_get(), "not a physical volume") != NULL);
}

static void test_slot(void)
{
    uint8_t uuid[VOL_UUID_LEN], other[VOL_UUID_LEN], buf[VOL_SLOT_HDR];
    memset(uuid, 1, sizeof(uuid));
    memset(other, 2, sizeof(other));
    struct vol_slot s = {.seq = 7, .len = 100, .crc = 0x1234}, out;
    memcpy(s.pv_uuid, uuid, VOL_UUID_LEN);
    vol_slot_encode(&s, buf);
    CHECK(vol_slot_decode(buf, sizeof(buf), 4096, uuid, "slot", &out) == 0);
    CHECK_EQ(out.seq, 7);
    CHECK_EQ(out.len, 100);
    CHECK(vol_slot_decode(buf, sizeof(buf), 4096, other, "slot", &out) == -EINVAL);
    CHECK(vol_slot_decode(buf, 10, 4096, uuid, "slot", &out) == -EINVAL);
    s.len = 4096; /* longer than the slot's payload room */
    vol_slot_encode(&s, buf);
    CHECK(vol_slot_decode(buf, sizeof(buf), 4096, uuid, "slot", &out) == -EINVAL);
    CHECK(strstr(rv_error_get(), "does not fit") != NULL);
    buf[20] ^= 1;
    CHECK(vol_slot_decode(buf, sizeof(buf), 4096, uuid, "slot", &out) == -EILSEQ);
    memset(buf, 0, sizeof(buf));
    CHECK(vol_slot_decode(buf, sizeof(buf), 4096, uuid, "slot", &out) == -ENOENT);
}

#define HDR "{\"format\":\"rvisor-vg\",\"version\":1,\"name\":\"vg\",\"uuid\":" \
            "\"000102030405060708090a0b0c0d0e0f\",\"seq\":3,\"extent_size\":65536," \
            "\"next_lv_id\":5,\"pvs\":[{\"uuid\":\"0f0e0d0c0b0a09080706050403020100\"," \
            "\"path\":\"/a\",\"pe_start\":1048576,\"pe_count\":10},{\"uuid\":" \
            "\"1f0e0d0c0b0a09080706050403020100\",\"path\":\"/b\",\"pe_start\":1048576," \
            "\"pe_count\":10}],\"lvs\":["
#define LV(name, id, type, ext, ss, areas) \
    "{\"name\":\"" name "\",\"id\":" #id ",\"type\":\"" type "\",\"extents\":" #ext \
    ",\"stripe_size\":" #ss ",\"areas\":[" areas "]}"
#define AREA(runs) "{\"runs\":[" runs "],\"stale\":false}"

static void test_meta(void)
{
    const char *good = HDR LV("a", 1, "linear", 4, 0, AREA("[0,0,2],[1,0,2]")) ","
                       LV("s", 2, "striped", 4, 4096, AREA("[0,2,2]") "," AREA("[1,2,2]")) ","
                       LV("m", 3, "mirror", 3, 0, AREA("[0,4,3]") "," AREA("[1,4,3]")) "]}";
    struct vol_vg *vg;
    CHECK(vol_meta_parse(good, strlen(good), &vg) == 0);
    if (vg) {
        CHECK_EQ(vg->nlvs, 3);
        CHECK_EQ(vg->lvs[0].areas[0].runs[1].le, 2);
        char *text;
        CHECK(vol_meta_format(vg, &text) == 0);
        struct vol_vg *again;
        CHECK(vol_meta_parse(text, strlen(text), &again) == 0);
        char *text2 = NULL;
        CHECK(again && vol_meta_format(again, &text2) == 0);
        CHECK(text2 && strcmp(text, text2) == 0);
        free(text);
        free(text2);
        vol_vg_free(again);
        vol_vg_free(vg);
    }
    static const struct { const char *doc, *msg; } bad[] = {
        {"", "not valid JSON"},
        {"[]", "not valid JSON"},
        {"{\"format\":\"x\"}", "not rvisor volume group"},
        {HDR LV("a", 1, "linear", 4, 0, AREA("[0,0,2],[0,1,2]")) "]}", "used twice"},
        {HDR LV("a", 1, "linear", 4, 0, AREA("[0,9,4]")) "]}", "out of range"},
        {HDR LV("a", 1, "linear", 4, 0, AREA("[2,0,4]")) "]}", "out of range"},
        {HDR LV("a", 1, "linear", 4, 0, AREA("[0,0,3]")) "]}", "maps 3 extents"},
        {HDR LV("a", 1, "linear", 4, 0, AREA("[0,0,-4]")) "]}", "out of range"},
        {HDR LV("a", 1, "mirror", 4, 0, AREA("[0,0,4]")) "]}", "number of areas"},
        {HDR LV("a", 1, "striped", 3, 4096, AREA("[0,0,2]") "," AREA("[1,0,2]")) "]}",
         "number of areas"},
        {HDR LV("a", 1, "striped", 4, 3000, AREA("[0,0,2]") "," AREA("[1,0,2]")) "]}",
         "number of areas"},
        {HDR LV("a", 1, "raid9", 4, 0, AREA("[0,0,4]")) "]}", "bad id, size or type"},
        {HDR LV("a", 9, "linear", 4, 0, AREA("[0,0,4]")) "]}", "bad id, size or type"},
        {HDR LV("a/b", 1, "linear", 4, 0, AREA("[0,0,4]")) "]}", "bad or missing 'name'"},
        {HDR LV("a", 1, "linear", 4, 0, AREA("[0,0,4]")) "," LV("a", 2, "linear", 1, 0,
         AREA("[1,0,1]")) "]}", "two LVs named"},
        {HDR LV("a", 1, "linear", 99999999999999999999, 0, AREA("[0,0,4]")) "]}", "JSON"},
        {HDR "]", "JSON"},
        {HDR "{\"name\":\"a\",\"id\":1,\"type\":\"linear\",\"extents\":4,\"stripe_size\":0,"
         "\"invalid\":3,\"areas\":[" AREA("[0,0,4]") "]}]}", "bad 'frozen' or 'invalid'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rv_error_clear();
        int rc = vol_meta_parse(bad[i].doc, strlen(bad[i].doc), &vg);
        CHECK(rc < 0 && vg == NULL);
        if (!strstr(rv_error_get(), bad[i].msg)) {
            CHECK(!"unexpected message");
            fprintf(stderr, "  case %zu: '%s'\n", i, rv_error_get());
        }
    }
}

static char dir[64], devices[128], pv[2][128];

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    uint8_t b = 0;
    CHECK(fd >= 0 && pread(fd, &b, 1, off) == 1);
    b ^= 0x20;
    CHECK(pwrite(fd, &b, 1, off) == 1);
    close(fd);
}

static struct vol_check_result check(bool repair)
{
    struct vol_check_result r;
    CHECK(vol_check(devices, NULL, repair, NULL, NULL, &r) == 0);
    return r;
}

/* Slot i of PV p holds sequence s; the payload sits at 4096 + i*slot + 512. */
static void test_on_disk(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_vol.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(devices, sizeof(devices), "%s/devices", dir);
    for (int i = 0; i < 2; i++) {
        snprintf(pv[i], sizeof(pv[i]), "%s/pv%d", dir, i);
        int fd = open(pv[i], O_CREAT | O_RDWR, 0600);
        CHECK(fd >= 0 && ftruncate(fd, 8 << 20) == 0);
        close(fd);
        CHECK(vol_pv_create(devices, pv[i], 64 << 10) == 0);
    }
    CHECK(vol_pv_create(devices, pv[0], 0) == -EEXIST);
    const char *pvs[2] = {pv[0], pv[1]};
    CHECK(vol_vg_create(devices, "vg", 1 << 20, pvs, 2) == 0);         /* seq 1, slot 0 */
    struct vol_lv_spec spec = {.name = "lv", .type = VOL_LINEAR, .size = 2 << 20};
    CHECK(vol_lv_create(devices, "vg", &spec) == 0);                   /* seq 2, slot 1 */
    struct vol_vg *vg;
    CHECK(vol_vg_open(devices, "vg", VOL_OPEN_READ, &vg) == 0);
    CHECK(vg && vg->seq == 2 && vg->nlvs == 1);
    vol_vg_close(vg);
    /* A torn newest slot on one PV: the other PV still has seq 2; after tearing both, seq 1
     * (the previous version) is used; check warns, repair rewrites. */
    off_t slot1 = 4096 + (32 << 10) + 512 + 10;
    flip_byte(pv[0], slot1);
    CHECK(vol_vg_open(devices, "vg", VOL_OPEN_READ, &vg) == 0);
    CHECK(vg && vg->seq == 2);
    vol_vg_close(vg);
    flip_byte(pv[1], slot1);
    CHECK(vol_vg_open(devices, "vg", VOL_OPEN_READ, &vg) == 0);
    CHECK(vg && vg->seq == 1 && vg->nlvs == 0);
    vol_vg_close(vg);
    struct vol_check_result r = check(false);
    CHECK_EQ(r.errors, 0);
    CHECK(r.warnings >= 2);
    r = check(true);
    CHECK(r.repaired >= 1);
    r = check(false);
    CHECK_EQ(r.errors, 0);
    CHECK_EQ(r.warnings, 0);
    /* Both slots of both PVs corrupted: the VG is gone, with a clear message. */
    for (int i = 0; i < 2; i++) {
        flip_byte(pv[i], 4096 + 512 + 3);
        flip_byte(pv[i], 4096 + (32 << 10) + 512 + 3);
    }
    rv_error_clear();
    CHECK(vol_vg_open(devices, "vg", VOL_OPEN_READ, &vg) == -ENOENT);
    r = check(false);
    CHECK(r.errors >= 2);
    /* A truncated PV: the label is intact but the metadata area is cut off. */
    CHECK(truncate(pv[1], 4096 + 1000) == 0); /* the metadata area is cut off */
    struct vol_scan_pv *s;
    unsigned n;
    CHECK(vol_scan(devices, &s, &n) == 0 && n == 2);
    CHECK(s[1].meta == NULL && s[1].error == -EINVAL && strstr(s[1].msg, "truncated") != NULL);
    vol_scan_free(s, n);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* Pool metadata: a torn newest slot gives the previous tables; both torn: refused. */
static void test_thin_meta(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_vol.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(devices, sizeof(devices), "%s/devices", dir);
    setenv("RVISOR_VOL_DEVICES", devices, 1);
    snprintf(pv[0], sizeof(pv[0]), "%s/pv0", dir);
    int fd = open(pv[0], O_CREAT | O_RDWR, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 16 << 20) == 0);
    close(fd);
    const char *pvs[1] = {pv[0]};
    CHECK(vol_pv_create(NULL, pv[0], 0) == 0);
    CHECK(vol_vg_create(NULL, "vg", 1 << 20, pvs, 1) == 0);
    CHECK(vol_thin_pool_create(NULL, "vg", "pool", 4 << 20, 64 << 10, 1 << 20) == 0);
    CHECK(vol_thin_create(NULL, "vg", "t", "pool", 64 << 20) == 0);  /* pool seq 2, slot 1 */
    struct rv_block *b;
    struct rv_block_opts o = {.format = RV_BLOCK_AUTO};
    static uint8_t buf[64 << 10];
    memset(buf, 0x5a, sizeof(buf));
    struct iovec v = {buf, sizeof(buf)};
    CHECK(rv_block_open("vol:vg/t", &o, &b) == 0);
    CHECK(rv_block_writev(b, 1 << 20, &v, 1) == 0);
    CHECK(rv_block_flush(b) == 0);                                    /* seq 3, slot 0 */
    rv_block_close(b);
    struct vol_vg *vg;
    CHECK(vol_vg_open(NULL, "vg", VOL_OPEN_READ, &vg) == 0);
    struct vol_lv *pool = vol_lv_find(vg, "pool");
    off_t meta = (off_t)(vg->pvs[0].pe_start + pool->areas[1].runs[0].pe * vg->extent_size);
    uint32_t used = 0, total = 0;
    CHECK(vol_thin_usage(vg, pool, &used, &total) == 0);
    CHECK_EQ(used, 1);
    CHECK_EQ(total, 64);
    vol_vg_close(vg);
    /* An orphan table (as a crash between a thin operation's two commits leaves): check warns,
     * repair drops it. */
    CHECK(vol_vg_open(NULL, "vg", VOL_OPEN_WRITE, &vg) == 0);
    struct vol_thin_pool *tp;
    CHECK(vol_thin_pool_load(vg, vol_lv_find(vg, "pool"), &tp) == 0);
    CHECK(vol_thin_table_add(tp, 99, 4, NULL) == 0 && vol_thin_pool_commit(tp) == 0);
    vol_thin_pool_free(tp);
    vol_vg_close(vg);
    struct vol_check_result r = check(false);
    CHECK_EQ(r.errors, 0);
    CHECK_EQ(r.warnings, 1);
    r = check(true);
    CHECK(r.repaired >= 2);
    r = check(false);
    CHECK_EQ(r.warnings, 0);
    CHECK(vol_vg_open(NULL, "vg", VOL_OPEN_READ, &vg) == 0);
    pool = vol_lv_find(vg, "pool");
    meta = (off_t)(vg->pvs[0].pe_start + pool->areas[1].runs[0].pe * vg->extent_size);
    vol_vg_close(vg);
    /* An lv-merge of a thin snapshot interrupted after its pool commit: the snapshot's table
     * is the origin's now, the VG still lists the snapshot. Check: error; repair finishes. */
    CHECK(vol_snapshot_create(NULL, "vg", "t", "s", NULL) == 0);
    CHECK(vol_vg_open(NULL, "vg", VOL_OPEN_WRITE, &vg) == 0);
    CHECK(vol_thin_pool_load(vg, vol_lv_find(vg, "pool"), &tp) == 0);
    uint32_t oid = vol_lv_find(vg, "t")->thin_id, sid = vol_lv_find(vg, "s")->thin_id;
    vol_thin_table_remove(tp, oid);
    vol_thin_table_find(tp, sid)->thin_id = oid;
    CHECK(vol_thin_pool_commit(tp) == 0);
    vol_thin_pool_free(tp);
    vol_vg_close(vg);
    r = check(false);
    CHECK_EQ(r.errors, 1);
    r = check(true);
    r = check(false);
    CHECK_EQ(r.errors, 0);
    CHECK_EQ(r.warnings, 0);
    CHECK(vol_vg_open(NULL, "vg", VOL_OPEN_READ, &vg) == 0);
    CHECK(vol_lv_find(vg, "s") == NULL && vol_lv_find(vg, "t") != NULL);
    vol_vg_close(vg);
    /* Pool versions: 1 format, 2 thin volume, 3 the write, 4 orphan, 5 orphan dropped, 6 the
     * snapshot, 7 the half merge: slot 0 holds 7 and slot 1 holds 6. A torn slot 0 gives
     * version 6: the snapshot's table is back beside the origin's, the write is in both.
     */
    flip_byte(pv[0], meta + 512 + 9); /* slot 0's tables */
    CHECK(rv_block_open("vol:vg/t", &o, &b) == 0);
    memset(buf, 1, sizeof(buf));
    CHECK(rv_block_readv(b, 1 << 20, &v, 1) == 0);
    CHECK(buf[0] == 0x5a && buf[sizeof(buf) - 1] == 0x5a);
    rv_block_close(b);
    r = check(false);
    CHECK_EQ(r.warnings, 1); /* table 6's snapshot is gone from the VG: an orphan again */
    flip_byte(pv[0], meta + (512 << 10) + 3); /* slot 1's header */
    rv_error_clear();
    CHECK(rv_block_open("vol:vg/t", &o, &b) == -EILSEQ);
    CHECK(strstr(rv_error_get(), "no valid metadata") != NULL);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    test_label();
    test_slot();
    test_meta();
    test_on_disk();
    test_thin_meta();
    TEST_MAIN_END();
}
