/* qcow2 refcounts: the refcount table (kept in memory), refcount blocks (through the cache),
 * cluster allocation, and frees deferred until the references are durably gone.
 *
 * Allocation never lets a reference reach the file before the refcount that counts it: a new
 * refcount block is written (counting itself) and synced before the refcount table points to
 * it; a grown refcount table is written with the refcount blocks that count it and synced
 * before the header points to it; the old table is released only after that. Clusters past
 * the end of the file that this session has not allocated are free whatever a refcount block
 * says (nothing valid can reference them), which also bounds every search by the file size. */
#include <errno.h>
#include <endian.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"
#include "core/error.h"

static uint64_t rb_entry_get(const struct qcow2 *q, const uint8_t *block, uint64_t idx)
{
    switch (q->refcount_order) {
    case 3: return block[idx];
    case 4: { uint16_t v; memcpy(&v, block + idx * 2, 2); return be16toh(v); }
    case 5: { uint32_t v; memcpy(&v, block + idx * 4, 4); return be32toh(v); }
    case 6: { uint64_t v; memcpy(&v, block + idx * 8, 8); return be64toh(v); }
    default: {
        /* 1, 2 or 4 bits: bit 0 is the least significant bit of the byte (qcow2.txt). */
        unsigned bits = 1u << q->refcount_order;
        uint64_t bit = idx * bits;
        return (block[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
    }
    }
}

static void rb_entry_set(const struct qcow2 *q, uint8_t *block, uint64_t idx, uint64_t value)
{
    switch (q->refcount_order) {
    case 3: block[idx] = (uint8_t)value; break;
    case 4: { uint16_t v = htobe16((uint16_t)value); memcpy(block + idx * 2, &v, 2); break; }
    case 5: { uint32_t v = htobe32((uint32_t)value); memcpy(block + idx * 4, &v, 4); break; }
    case 6: { uint64_t v = htobe64(value); memcpy(block + idx * 8, &v, 8); break; }
    default: {
        unsigned bits = 1u << q->refcount_order;
        uint64_t bit = idx * bits;
        uint8_t mask = (uint8_t)(((1u << bits) - 1) << (bit % 8));
        block[bit / 8] = (uint8_t)((block[bit / 8] & ~mask) | ((value << (bit % 8)) & mask));
        break;
    }
    }
}

static uint64_t eof_cluster(const struct qcow2 *q)
{
    return qcow2_size_to_clusters(q, q->file.size);
}

static bool beyond_everything(const struct qcow2 *q, uint64_t cluster)
{
    return cluster >= eof_cluster(q) && cluster >= q->alloc_end;
}

int qcow2_refcount_get(struct qcow2 *q, uint64_t cluster, uint64_t *refcount)
{
    uint64_t tidx = cluster >> q->rb_bits;
    *refcount = 0;
    if (tidx >= q->reftable_entries || q->reftable[tidx] == 0)
        return 0;
    uint8_t *block;
    int rc = qcow2_cache_get(&q->rb_cache, q->reftable[tidx], &block);
    if (rc < 0)
        return rc;
    *refcount = rb_entry_get(q, block, cluster & ((1ull << q->rb_bits) - 1));
    return 0;
}

static bool repair_referenced(const struct qcow2 *q, uint64_t cluster)
{
    return q->repair_refs && cluster < q->repair_n && q->repair_refs[cluster];
}

static int cluster_is_free(struct qcow2 *q, uint64_t cluster, bool *is_free)
{
    if (repair_referenced(q, cluster)) {
        *is_free = false;
        return 0;
    }
    if (beyond_everything(q, cluster)) {
        *is_free = true;
        return 0;
    }
    uint64_t r;
    int rc = qcow2_refcount_get(q, cluster, &r);
    *is_free = r == 0;
    return rc;
}

static int write_be64(struct qcow2 *q, uint64_t offset, uint64_t value)
{
    uint64_t be = htobe64(value);
    return rv_file_pwrite(&q->file, offset, &be, sizeof(be));
}

static void note_allocated(struct qcow2 *q, uint64_t end_cluster)
{
    if (end_cluster > q->alloc_end)
        q->alloc_end = end_cluster;
}

/* While repairing, metadata created on the way counts as referenced (check compares the
 * refcounts against these numbers). */
static void repair_mark(struct qcow2 *q, uint64_t first, uint64_t n, uint16_t value)
{
    for (uint64_t c = first; q->repair_refs && c < first + n && c < q->repair_n; c++)
        q->repair_refs[c] = value;
}

/* A bigger refcount table with the refcount blocks that count it, placed after everything
 * the old table covers. */
static int grow_reftable(struct qcow2 *q, uint64_t min_entries)
{
    uint64_t cs = q->cluster_size, old_entries = q->reftable_entries;
    uint64_t p = old_entries << q->rb_bits;
    if (p < eof_cluster(q))
        p = eof_cluster(q);
    if (p < q->alloc_end)
        p = q->alloc_end;
    if (p > (QCOW2_OFFSET_MASK >> q->cluster_bits) / 2)
        return rv_error_set(-EFBIG, "%s: image file full", q->base.path);
    uint64_t want = old_entries + old_entries / 2 + 1;
    if (want < min_entries)
        want = min_entries;
    uint64_t k = 1, s = 0, entries = 0;
    for (int iter = 0; iter < 64; iter++) {
        uint64_t end = p + k + s;
        entries = ((end - 1) >> q->rb_bits) + 1;
        if (entries < want)
            entries = want;
        uint64_t s2 = qcow2_size_to_clusters(q, entries * 8);
        uint64_t k2 = ((p + k + s2 - 1) >> q->rb_bits) - (p >> q->rb_bits) + 1;
        if (s2 == s && k2 == k)
            break;
        s = s2;
        k = k2;
    }
    if (s * cs > QCOW2_MAX_REFTABLE_BYTES)
        return rv_error_set(-EFBIG, "%s: the refcount table would exceed %u MiB",
                            q->base.path, QCOW2_MAX_REFTABLE_BYTES >> 20);
    entries = s * cs / 8;
    uint64_t *table = calloc(entries, sizeof(uint64_t));
    uint8_t *buf = rv_file_alloc(s * cs > cs ? s * cs : cs);
    int rc = 0;
    if (!table || !buf) {
        rc = rv_error_set(-ENOMEM, "out of memory");
        goto out;
    }
    memcpy(table, q->reftable, old_entries * sizeof(uint64_t));
    /* The new refcount blocks: block j covers range (p >> rb_bits) + j. */
    for (uint64_t j = 0; j < k && rc == 0; j++) {
        uint64_t range = (p >> q->rb_bits) + j;
        memset(buf, 0, cs);
        for (uint64_t c = p; c < p + k + s; c++)
            if ((c >> q->rb_bits) == range)
                rb_entry_set(q, buf, c & ((1ull << q->rb_bits) - 1), 1);
        table[range] = (p + j) * cs;
        rc = rv_file_pwrite(&q->file, (p + j) * cs, buf, cs);
    }
    for (uint64_t i = 0; i < entries && rc == 0; i++)
        ((uint64_t *)buf)[i] = htobe64(table[i]);
    if (rc == 0)
        rc = rv_file_pwrite(&q->file, (p + k) * cs, buf, s * cs);
    if (rc == 0)
        rc = rv_file_sync(&q->file);
    note_allocated(q, p + k + s);
    repair_mark(q, p, k + s, 1);
    if (rc < 0)
        goto out; /* the new clusters leak; the image is still consistent */
    /* Switch the header to the new table (offset and size in one write) ... */
    struct __attribute__((packed)) {
        uint64_t offset;
        uint32_t clusters;
    } hdr = {htobe64((p + k) * cs), htobe32((uint32_t)s)};
    rc = rv_file_pwrite(&q->file, QCOW2_HDR_REFTABLE, &hdr, sizeof(hdr));
    if (rc == 0)
        rc = rv_file_sync(&q->file);
    if (rc < 0)
        goto out;
    uint64_t old_offset = q->reftable_offset, old_clusters = q->reftable_clusters;
    free(q->reftable);
    q->reftable = table;
    table = NULL;
    q->reftable_entries = entries;
    q->reftable_offset = (p + k) * cs;
    q->reftable_clusters = (uint32_t)s;
    q->reftable_used = (p >> q->rb_bits) + k;
    /* ... and only then release the old one. */
    repair_mark(q, old_offset >> q->cluster_bits, old_clusters, 0);
    rc = qcow2_refcount_update(q, old_offset, old_clusters * cs, -1);
out:
    free(table);
    free(buf);
    return rc;
}

/* Creates the refcount block for table index `tidx`, inside the range it covers (every
 * cluster there is free, since no block counts it), counting itself. */
static int create_refblock(struct qcow2 *q, uint64_t tidx)
{
    if (tidx >= q->reftable_entries)
        return grow_reftable(q, tidx + 1);
    uint64_t first = tidx << q->rb_bits, n = 1ull << q->rb_bits, c;
    for (c = first; c < first + n; c++) {
        if (c != 0 && !repair_referenced(q, c) &&
            !qcow2_overlaps_metadata(q, c << q->cluster_bits, q->cluster_size))
            break;
    }
    if (c == first + n)
        return qcow2_signal_corruption(q, "no room for refcount block %" PRIu64, tidx);
    uint64_t off = c << q->cluster_bits;
    uint8_t *buf = rv_file_alloc(q->cluster_size);
    if (!buf)
        return rv_error_set(-ENOMEM, "out of memory");
    rb_entry_set(q, buf, c - first, 1);
    qcow2_cache_discard(&q->rb_cache, off);
    qcow2_cache_discard(&q->l2_cache, off);
    int rc = rv_file_pwrite(&q->file, off, buf, q->cluster_size);
    free(buf);
    note_allocated(q, c + 1);
    repair_mark(q, c, 1, 1);
    if (rc == 0)
        rc = rv_file_sync(&q->file);
    if (rc == 0)
        rc = write_be64(q, q->reftable_offset + tidx * 8, off);
    if (rc < 0)
        return rc;
    q->reftable[tidx] = off;
    if (tidx >= q->reftable_used)
        q->reftable_used = tidx + 1;
    q->need_sync = true;
    return 0;
}

/* The refcount block counting `cluster`, created if missing. */
static int refblock_for(struct qcow2 *q, uint64_t cluster, uint8_t **block)
{
    uint64_t tidx = cluster >> q->rb_bits;
    for (int tries = 0; tries < 4; tries++) {
        if (tidx < q->reftable_entries && q->reftable[tidx] != 0)
            return qcow2_cache_get(&q->rb_cache, q->reftable[tidx], block);
        int rc = create_refblock(q, tidx);
        if (rc < 0)
            return rc;
    }
    return rv_error_set(-EIO, "%s: cannot create refcount block %" PRIu64, q->base.path, tidx);
}

int qcow2_refcount_set(struct qcow2 *q, uint64_t cluster, uint64_t value)
{
    if (value > q->refcount_max)
        return rv_error_set(-ERANGE, "%s: refcount %" PRIu64 " of cluster %" PRIu64
                            " exceeds %u-bit refcounts", q->base.path, value, cluster,
                            1u << q->refcount_order);
    uint8_t *block;
    int rc = refblock_for(q, cluster, &block);
    if (rc < 0)
        return rc;
    rb_entry_set(q, block, cluster & ((1ull << q->rb_bits) - 1), value);
    qcow2_cache_mark_dirty(&q->rb_cache, q->reftable[cluster >> q->rb_bits]);
    if (value == 0 && cluster < q->free_hint)
        q->free_hint = cluster;
    return 0;
}

int qcow2_refcount_update(struct qcow2 *q, uint64_t offset, uint64_t len, int64_t delta)
{
    if (len == 0)
        return 0;
    uint64_t first = offset >> q->cluster_bits, last = (offset + len - 1) >> q->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        uint64_t r;
        int rc = qcow2_refcount_get(q, c, &r);
        if (rc < 0)
            return rc;
        if (delta < 0 && r < (uint64_t)-delta)
            return qcow2_signal_corruption(q, "refcount of cluster %" PRIu64 " would drop "
                                           "below zero", c);
        uint64_t value = r + (uint64_t)delta;
        if (delta < 0 && value == 0) {
            /* A table in a cache at this place is stale from now on. */
            qcow2_cache_discard(&q->l2_cache, c << q->cluster_bits);
            q->zout_entry = 0;
        }
        rc = qcow2_refcount_set(q, c, value);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int qcow2_alloc_clusters(struct qcow2 *q, uint64_t max, uint64_t *offset, uint64_t *count)
{
    if (max == 0)
        return rv_error_set(-EINVAL, "empty allocation");
    if (q->corrupt)
        return rv_error_set(-EIO, "%s: the image is marked corrupt", q->base.path);
    uint64_t start, n;
    for (int rounds = 0;; rounds++) {
        if (rounds > 64)
            return rv_error_set(-EIO, "%s: cluster allocation does not converge", q->base.path);
        /* First fit: the first free cluster at or after the hint, and as many free clusters
         * after it as wanted. */
        bool is_free = false;
        int rc;
        for (start = q->free_hint;; start++) {
            rc = cluster_is_free(q, start, &is_free);
            if (rc < 0)
                return rc;
            if (is_free)
                break;
        }
        q->free_hint = start;
        for (n = 1; n < max; n++) {
            rc = cluster_is_free(q, start + n, &is_free);
            if (rc < 0)
                return rc;
            if (!is_free)
                break;
        }
        if (start + n > (QCOW2_OFFSET_MASK >> q->cluster_bits))
            return rv_error_set(-EFBIG, "%s: image file full", q->base.path);
        /* Every refcount block the run needs must exist before it is counted. */
        uint64_t missing = UINT64_MAX;
        for (uint64_t t = start >> q->rb_bits; t <= (start + n - 1) >> q->rb_bits; t++) {
            if (t >= q->reftable_entries || q->reftable[t] == 0) {
                missing = t;
                break;
            }
        }
        if (missing == UINT64_MAX)
            break;
        rc = create_refblock(q, missing);
        if (rc < 0)
            return rc;
    }
    for (uint64_t c = start; c < start + n; c++) {
        int rc = qcow2_refcount_set(q, c, 1);
        if (rc < 0)
            return rc;
        qcow2_cache_discard(&q->l2_cache, c << q->cluster_bits);
        qcow2_cache_discard(&q->rb_cache, c << q->cluster_bits);
    }
    q->free_hint = start + n;
    note_allocated(q, start + n);
    *offset = start << q->cluster_bits;
    *count = n;
    return 0;
}

int qcow2_free_deferred(struct qcow2 *q, uint64_t offset, uint64_t len)
{
    if (q->nfrees == q->frees_cap) {
        if (q->frees_cap >= 4096) {
            /* Enough queued: make the L2 tables durable and release them now. */
            int rc = qcow2_flush_metadata(q);
            if (rc < 0)
                return rc;
            if (q->nfrees == q->frees_cap)
                return rv_error_set(-EIO, "%s: cannot release clusters", q->base.path);
            return qcow2_free_deferred(q, offset, len);
        }
        size_t cap = q->frees_cap ? q->frees_cap * 2 : 64;
        struct qcow2_free *f = realloc(q->frees, cap * sizeof(*f));
        if (!f)
            return rv_error_set(-ENOMEM, "out of memory");
        q->frees = f;
        q->frees_cap = cap;
    }
    q->frees[q->nfrees].offset = offset;
    q->frees[q->nfrees].len = len;
    q->nfrees++;
    return 0;
}

int qcow2_apply_frees(struct qcow2 *q)
{
    int rc = 0;
    size_t i;
    for (i = 0; i < q->nfrees && rc == 0; i++)
        rc = qcow2_refcount_update(q, q->frees[i].offset, q->frees[i].len, -1);
    /* On failure the rest stays queued for the next flush (at worst, leaks). */
    if (rc < 0 && i > 0) {
        memmove(q->frees, q->frees + i, (q->nfrees - i) * sizeof(*q->frees));
        q->nfrees -= i;
    } else if (rc == 0) {
        q->nfrees = 0;
    }
    return rc;
}
