/* qcow2 consistency check and repair, in the manner of `qemu-img check`: count every
 * reference to every host cluster (header, L1/L2 tables and data of the active image and of
 * internal snapshots, refcount table and blocks, bitmaps), then compare with the stored
 * refcounts. A stored refcount above the references is a leak (harmless, repairable with
 * repair_leaks); below is corruption (repair_all raises it). Also checked: alignment, offsets
 * past the end of the file, and the "copied" flag (bit 63) of active L1/L2 entries, which
 * must be set exactly when the refcount is one. */
#include <errno.h>
#include <endian.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"
#include "core/error.h"

/* Host clusters a check can handle (the reference counts take 2 bytes each). */
#define CHECK_MAX_CLUSTERS (1ull << 28)

struct check {
    struct qcow2 *q;
    const struct rv_block_check_opts *opts;
    struct rv_block_check_result *res;
    uint16_t *refs;      /* references counted, saturating */
    uint64_t n;          /* host clusters covered by `refs` (the file's length) */
    uint8_t *seen;       /* L2 tables already walked for the current L1 table (bitmap) */
    uint8_t *buf;        /* one cluster */
};

static void report(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct check *c, const char *fmt, ...)
{
    if (!c->opts->report)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->opts->report(c->opts->ctx, msg);
}

/* One more reference to every cluster touched by [offset, offset+len). */
static void count(struct check *c, uint64_t offset, uint64_t len, const char *what)
{
    if (len == 0)
        return;
    uint64_t first = offset >> c->q->cluster_bits, last = (offset + len - 1) >> c->q->cluster_bits;
    for (uint64_t i = first; i <= last; i++) {
        if (i >= c->n) {
            report(c, "ERROR %s at offset 0x%" PRIx64 " is past the end of the file", what,
                   i << c->q->cluster_bits);
            c->res->corruptions++;
            return;
        }
        if (c->refs[i] < UINT16_MAX)
            c->refs[i]++;
    }
}

static bool aligned(const struct check *c, uint64_t offset)
{
    return qcow2_offset_in_cluster(c->q, offset) == 0;
}

/* The entries of one L2 table (at `l2off`, already counted). */
static int check_l2(struct check *c, uint64_t l2off, bool active)
{
    struct qcow2 *q = c->q;
    int rc = rv_file_pread(&q->file, l2off, c->buf, q->cluster_size);
    if (rc < 0) {
        report(c, "ERROR cannot read L2 table at 0x%" PRIx64 ": %s", l2off, rv_error_get());
        c->res->check_errors++;
        return 0;
    }
    for (uint64_t i = 0; i < (1ull << q->l2_bits); i++) {
        uint64_t e;
        memcpy(&e, c->buf + i * 8, 8);
        e = be64toh(e);
        if (e & QCOW2_OFLAG_COMPRESSED) {
            uint64_t coff, clen;
            qcow2_compressed_range(q, e, &coff, &clen);
            count(c, coff, clen, "compressed cluster");
            if (active)
                c->res->allocated_clusters++;
            continue;
        }
        if (e & QCOW2_L2_RESERVED) {
            report(c, "ERROR L2 entry 0x%" PRIx64 " at 0x%" PRIx64 " has reserved bits set", e,
                   l2off + i * 8);
            c->res->corruptions++;
        }
        uint64_t off = e & QCOW2_OFFSET_MASK;
        if (off == 0)
            continue;
        if (!aligned(c, off)) {
            report(c, "ERROR L2 entry 0x%" PRIx64 " at 0x%" PRIx64 " is not cluster aligned; "
                   "the L2 table is corrupt", e, l2off + i * 8);
            c->res->corruptions++;
            continue;
        }
        count(c, off, q->cluster_size, "data cluster");
        if (active)
            c->res->allocated_clusters++;
    }
    return 0;
}

/* One L1 table (active or of a snapshot) and everything it references. */
static int check_l1(struct check *c, uint64_t l1off, uint32_t l1_size, bool active)
{
    struct qcow2 *q = c->q;
    uint64_t *l1 = active ? q->l1 : NULL;
    if (!active) {
        l1 = malloc((uint64_t)l1_size * 8 + 8);
        if (!l1)
            return rv_error_set(-ENOMEM, "out of memory");
        int rc = rv_file_pread(&q->file, l1off, l1, (uint64_t)l1_size * 8);
        if (rc < 0) {
            free(l1);
            report(c, "ERROR cannot read snapshot L1 table at 0x%" PRIx64, l1off);
            c->res->check_errors++;
            return 0;
        }
        for (uint32_t i = 0; i < l1_size; i++)
            l1[i] = be64toh(l1[i]);
    }
    count(c, l1off, (uint64_t)l1_size * 8, "L1 table");
    memset(c->seen, 0, (c->n + 7) / 8);
    int rc = 0;
    for (uint32_t i = 0; i < l1_size && rc == 0; i++) {
        if (l1[i] & QCOW2_L1_RESERVED) {
            report(c, "ERROR L1 entry %" PRIu32 " (0x%" PRIx64 ") has reserved bits set", i,
                   l1[i]);
            c->res->corruptions++;
        }
        uint64_t l2off = l1[i] & QCOW2_OFFSET_MASK;
        if (l2off == 0)
            continue;
        if (!aligned(c, l2off)) {
            report(c, "ERROR L1 entry %" PRIu32 " (0x%" PRIx64 ") is not cluster aligned; the "
                   "L1 table is corrupt", i, l1[i]);
            c->res->corruptions++;
            continue;
        }
        uint64_t cl = l2off >> q->cluster_bits;
        count(c, l2off, q->cluster_size, "L2 table");
        if (cl >= c->n)
            continue;
        if (c->seen[cl / 8] & (1u << (cl % 8))) {
            /* The same L2 table twice in one L1 table: its refcount shows it; walking it
             * again would only repeat the work. */
            continue;
        }
        c->seen[cl / 8] |= (uint8_t)(1u << (cl % 8));
        rc = check_l2(c, l2off, active);
    }
    if (!active)
        free(l1);
    return rc;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return be32toh(v);
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return be64toh(v);
}

/* Internal snapshots (qcow2.txt "Snapshots"): the table and each snapshot's L1 table. */
static int check_snapshots(struct check *c)
{
    struct qcow2 *q = c->q;
    uint64_t off = q->snapshots_offset;
    uint8_t h[40];
    int rc = 0;
    for (uint32_t i = 0; i < q->nb_snapshots && rc == 0; i++) {
        if (off + sizeof(h) > q->file.size || rv_file_pread(&q->file, off, h, sizeof(h)) < 0) {
            report(c, "ERROR snapshot table entry %" PRIu32 " is past the end of the file", i);
            c->res->corruptions++;
            return 0;
        }
        uint64_t l1off = rd64(h);
        uint32_t l1_size = rd32(h + 8);
        uint64_t len = 40 + (uint64_t)rd32(h + 36) + (h[12] << 8 | h[13]) +
                       (h[14] << 8 | h[15]);
        off += (len + 7) & ~7ull;
        if (!aligned(c, l1off) || (uint64_t)l1_size * 8 > QCOW2_MAX_L1_BYTES ||
            l1off + (uint64_t)l1_size * 8 > q->file.size) {
            report(c, "ERROR snapshot %" PRIu32 " has an invalid L1 table (0x%" PRIx64 ", %"
                   PRIu32 " entries)", i, l1off, l1_size);
            c->res->corruptions++;
            continue;
        }
        rc = check_l1(c, l1off, l1_size, false);
    }
    count(c, q->snapshots_offset, off - q->snapshots_offset, "snapshot table");
    return rc;
}

/* Persistent bitmaps (qcow2.txt "Bitmaps"): directory, bitmap tables and their data. */
static int check_bitmaps(struct check *c)
{
    struct qcow2 *q = c->q;
    uint64_t dir = q->bitmap_dir_offset, size = q->bitmap_dir_size;
    if (!aligned(c, dir) || size > (64u << 20) || dir > q->file.size ||
        size > q->file.size - dir) {
        report(c, "ERROR invalid bitmap directory (0x%" PRIx64 ", %" PRIu64 " bytes)", dir, size);
        c->res->corruptions++;
        return 0;
    }
    count(c, dir, size, "bitmap directory");
    uint8_t *d = malloc(size ? size : 1);
    if (!d)
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = rv_file_pread(&q->file, dir, d, size);
    for (uint64_t off = 0; rc == 0 && off + 24 <= size;) {
        uint64_t table = rd64(d + off);
        uint32_t entries = rd32(d + off + 8);
        uint64_t len = 24 + (uint64_t)rd32(d + off + 20) + (d[off + 18] << 8 | d[off + 19]);
        off += (len + 7) & ~7ull;
        if (!aligned(c, table) || (uint64_t)entries * 8 > (64u << 20) ||
            table + (uint64_t)entries * 8 > q->file.size) {
            report(c, "ERROR invalid bitmap table at 0x%" PRIx64, table);
            c->res->corruptions++;
            continue;
        }
        count(c, table, (uint64_t)entries * 8, "bitmap table");
        uint64_t *t = malloc((uint64_t)entries * 8 + 8);
        if (!t) {
            rc = rv_error_set(-ENOMEM, "out of memory");
            break;
        }
        rc = rv_file_pread(&q->file, table, t, (uint64_t)entries * 8);
        for (uint32_t i = 0; i < entries && rc == 0; i++) {
            uint64_t e = be64toh(t[i]) & QCOW2_OFFSET_MASK;
            if (e)
                count(c, e, q->cluster_size, "bitmap data");
        }
        free(t);
    }
    free(d);
    return rc;
}

static void check_reftable(struct check *c)
{
    struct qcow2 *q = c->q;
    count(c, q->reftable_offset, (uint64_t)q->reftable_clusters * q->cluster_size,
          "refcount table");
    for (uint64_t i = 0; i < q->reftable_entries; i++) {
        uint64_t r = q->reftable[i];
        if (r == 0)
            continue;
        if (!aligned(c, r) || (r & ~QCOW2_OFFSET_MASK)) {
            report(c, "ERROR refcount block %" PRIu64 " (0x%" PRIx64 ") is not cluster "
                   "aligned; the refcount table is corrupt", i, r);
            c->res->corruptions++;
            q->reftable[i] = 0; /* never used again in this session */
            continue;
        }
        if (r >= q->file.size) {
            report(c, "ERROR refcount block %" PRIu64 " at 0x%" PRIx64 " is past the end of "
                   "the file", i, r);
            c->res->corruptions++;
            q->reftable[i] = 0;
            continue;
        }
        count(c, r, q->cluster_size, "refcount block");
    }
}

/* Stored refcounts against the references counted, repairing as asked. */
static int compare_refcounts(struct check *c)
{
    struct qcow2 *q = c->q;
    bool fix_leaks = c->opts->repair_leaks || c->opts->repair_all;
    uint64_t last_used = 0;
    for (uint64_t i = 0; i < c->n; i++) {
        uint64_t stored;
        int rc = qcow2_refcount_get(q, i, &stored);
        if (rc < 0) {
            report(c, "ERROR cannot read the refcount of cluster %" PRIu64 ": %s", i,
                   rv_error_get());
            c->res->check_errors++;
            continue;
        }
        uint64_t refs = c->refs[i];
        if (refs)
            last_used = i + 1;
        if (stored == refs || (refs == UINT16_MAX && stored >= refs))
            continue;
        bool leak = stored > refs;
        report(c, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64,
               leak ? "Leaked" : "ERROR", i, stored, refs);
        if (leak)
            c->res->leaks++;
        else
            c->res->corruptions++;
        if (leak ? !fix_leaks : !c->opts->repair_all)
            continue;
        rc = qcow2_refcount_set(q, i, refs);
        if (rc < 0)
            return rc;
        if (leak)
            c->res->leaks_fixed++;
        else
            c->res->corruptions_fixed++;
    }
    c->res->image_end_offset = last_used << q->cluster_bits;
    return 0;
}

/* Bit 63 of active L1 and L2 entries must say whether the refcount is exactly one. */
static int check_copied(struct check *c)
{
    struct qcow2 *q = c->q;
    bool fix = c->opts->repair_all;
    for (uint32_t i = 0; i < q->l1_size; i++) {
        uint64_t l1e = q->l1[i], l2off = l1e & QCOW2_OFFSET_MASK, r;
        if (l2off == 0 || !aligned(c, l2off) || l2off >= q->file.size)
            continue;
        int rc = qcow2_refcount_get(q, l2off >> q->cluster_bits, &r);
        if (rc < 0)
            return rc;
        if ((r == 1) != !!(l1e & QCOW2_OFLAG_COPIED)) {
            report(c, "ERROR OFLAG_COPIED L2 cluster: l1_index=%" PRIu32 " l1_entry=%" PRIx64
                   " refcount=%" PRIu64, i, l1e, r);
            c->res->corruptions++;
            if (fix) {
                uint64_t e = r == 1 ? l1e | QCOW2_OFLAG_COPIED : l1e & ~QCOW2_OFLAG_COPIED;
                uint64_t be = htobe64(e);
                rc = rv_file_pwrite(&q->file, q->l1_offset + (uint64_t)i * 8, &be, 8);
                if (rc < 0)
                    return rc;
                q->l1[i] = e;
                c->res->corruptions_fixed++;
            }
        }
        for (uint64_t j = 0; j < (1ull << q->l2_bits); j++) {
            uint64_t vcl = ((uint64_t)i << q->l2_bits) + j, e, host;
            enum qcow2_ctype type;
            if (qcow2_get_l2_entry(q, vcl, &e) < 0) {
                report(c, "ERROR L2 table of L1 entry %" PRIu32 ": %s", i, rv_error_get());
                c->res->corruptions++;
                break;
            }
            if ((e & QCOW2_OFFSET_MASK) == 0 || (e & QCOW2_OFLAG_COMPRESSED) ||
                qcow2_offset_in_cluster(q, e & QCOW2_OFFSET_MASK) ||
                qcow2_classify(q, e, &type, &host) < 0 ||
                (type != QCOW2_NORMAL && type != QCOW2_ZERO_ALLOC))
                continue;
            rc = qcow2_refcount_get(q, host >> q->cluster_bits, &r);
            if (rc < 0)
                return rc;
            if ((r == 1) == !!(e & QCOW2_OFLAG_COPIED))
                continue;
            report(c, "ERROR OFLAG_COPIED data cluster: l2_entry=%" PRIx64 " refcount=%" PRIu64,
                   e, r);
            c->res->corruptions++;
            if (fix) {
                rc = qcow2_set_l2_entry(q, vcl, r == 1 ? e | QCOW2_OFLAG_COPIED
                                                       : e & ~QCOW2_OFLAG_COPIED);
                if (rc < 0)
                    return rc;
                c->res->corruptions_fixed++;
            }
        }
    }
    return 0;
}

static int run_check(struct qcow2 *q, const struct rv_block_check_opts *opts,
                     struct rv_block_check_result *res)
{
    struct check c = {.q = q, .opts = opts, .res = res};
    c.n = qcow2_size_to_clusters(q, q->file.size);
    if (c.n > CHECK_MAX_CLUSTERS)
        return rv_error_set(-EFBIG, "%s: image file too large to check", q->base.path);
    bool repair = opts->repair_leaks || opts->repair_all;
    if (repair && q->base.readonly)
        return rv_error_set(-EROFS, "%s: opened read-only; cannot repair", q->base.path);
    c.refs = calloc(c.n + 1, sizeof(uint16_t));
    c.seen = calloc(c.n / 8 + 1, 1);
    c.buf = rv_file_alloc(q->cluster_size);
    int rc = 0;
    if (!c.refs || !c.seen || !c.buf) {
        rc = rv_error_set(-ENOMEM, "out of memory");
        goto out;
    }
    res->total_clusters = qcow2_size_to_clusters(q, q->base.size);
    count(&c, 0, q->cluster_size, "header");
    rc = check_l1(&c, q->l1_offset, q->l1_size, true);
    if (rc == 0 && q->nb_snapshots)
        rc = check_snapshots(&c);
    if (rc == 0 && q->has_bitmaps)
        rc = check_bitmaps(&c);
    if (rc < 0)
        goto out;
    check_reftable(&c);
    if (repair) {
        /* The allocator must not hand out clusters that are referenced but not counted. */
        q->repair_refs = c.refs;
        q->repair_n = c.n;
    }
    rc = compare_refcounts(&c);
    if (rc == 0)
        rc = check_copied(&c);
    if (rc == 0 && repair)
        rc = qcow2_flush(&q->base);
    q->repair_refs = NULL;
    q->repair_n = 0;
out:
    free(c.refs);
    free(c.seen);
    free(c.buf);
    return rc;
}

int qcow2_check(struct rv_block *b, const struct rv_block_check_opts *opts,
                struct rv_block_check_result *res)
{
    struct qcow2 *q = (struct qcow2 *)b;
    int rc = run_check(q, opts, res);
    if (rc < 0)
        return rc;
    /* A fully repaired image is neither dirty nor corrupt any more. */
    uint64_t flags = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT;
    if (!b->readonly && opts->repair_all && (q->incompat & flags) &&
        res->corruptions == res->corruptions_fixed && res->check_errors == 0)
        rc = qcow2_write_incompat(q, q->incompat & ~flags);
    return rc;
}

int qcow2_repair_dirty(struct qcow2 *q)
{
    struct rv_block_check_opts opts = {.repair_leaks = true, .repair_all = true};
    struct rv_block_check_result res;
    memset(&res, 0, sizeof(res));
    int rc = run_check(q, &opts, &res);
    if (rc < 0)
        return rv_error_prefix(rc, "repairing a dirty image: ");
    if (res.corruptions != res.corruptions_fixed || res.check_errors)
        return rv_error_set(-EIO, "%s: the dirty image has corruption that cannot be "
                            "repaired automatically", q->base.path);
    return qcow2_write_incompat(q, q->incompat & ~QCOW2_INCOMPAT_DIRTY);
}
