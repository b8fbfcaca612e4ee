/* qcow2 cluster mapping: the L1 table (in memory, written through) and L2 tables (through
 * the write-back cache), L2 entry classification and validation, L2 table allocation, and the
 * order in which dirty metadata is written (see qcow2.h). */
#include <errno.h>
#include <endian.h>
#include <inttypes.h>
#include <string.h>

#include "block/qcow2.h"
#include "core/error.h"

int qcow2_barrier_before_reference(struct qcow2 *q)
{
    int rc = qcow2_cache_flush(&q->rb_cache);
    if (rc < 0)
        return rc;
    if (q->need_sync) {
        rc = rv_file_sync(&q->file);
        if (rc < 0)
            return rc;
        q->need_sync = false;
    }
    return 0;
}

int qcow2_flush_metadata(struct qcow2 *q)
{
    int rc = qcow2_cache_flush(&q->l2_cache);
    if (rc == 0 && q->nfrees > 0) {
        /* The cleared L2 entries must be durable before the refcounts drop. */
        rc = rv_file_sync(&q->file);
        if (rc == 0)
            rc = qcow2_apply_frees(q);
    }
    if (rc == 0)
        rc = qcow2_cache_flush(&q->rb_cache);
    return rc;
}

/* The offset of the L2 table for L1 index `idx` (0: none), validated. */
static int l2_table_offset(struct qcow2 *q, uint64_t idx, uint64_t *offset)
{
    uint64_t l1e = q->l1[idx], off = l1e & QCOW2_OFFSET_MASK;
    *offset = off;
    if (off == 0)
        return 0;
    if (qcow2_offset_in_cluster(q, off))
        return qcow2_signal_corruption(q, "L1 entry %" PRIu64 " (0x%" PRIx64 ") is not "
                                       "cluster aligned", idx, l1e);
    if (off >= q->file.size)
        return qcow2_signal_corruption(q, "L1 entry %" PRIu64 " points past the end of the "
                                       "file (0x%" PRIx64 ")", idx, off);
    if (off < q->cluster_size ||
        (off < q->l1_offset + (uint64_t)q->l1_size * 8 && q->l1_offset < off + q->cluster_size) ||
        (off < q->reftable_offset + (uint64_t)q->reftable_clusters * q->cluster_size &&
         q->reftable_offset < off + q->cluster_size))
        return qcow2_signal_corruption(q, "L2 table at 0x%" PRIx64 " overlaps the header, L1 "
                                       "or refcount table", off);
    return 0;
}

int qcow2_get_l2_entry(struct qcow2 *q, uint64_t vcl, uint64_t *entry)
{
    uint64_t idx = vcl >> q->l2_bits, l2off;
    *entry = 0;
    if (idx >= q->l1_size)
        return 0;
    int rc = l2_table_offset(q, idx, &l2off);
    if (rc < 0 || l2off == 0)
        return rc;
    uint8_t *table;
    rc = qcow2_cache_get(&q->l2_cache, l2off, &table);
    if (rc < 0)
        return rc;
    uint64_t be;
    memcpy(&be, table + (vcl & ((1ull << q->l2_bits) - 1)) * 8, 8);
    *entry = be64toh(be);
    return 0;
}

/* A new, empty L2 table for L1 index `idx`: its refcount and its (zero) contents are durable
 * before the L1 entry points to it. */
static int alloc_l2_table(struct qcow2 *q, uint64_t idx, uint64_t *offset)
{
    uint64_t off, n;
    int rc = qcow2_alloc_clusters(q, 1, &off, &n);
    if (rc < 0)
        return rc;
    rc = qcow2_cache_flush(&q->rb_cache);
    if (rc == 0)
        rc = rv_file_pwrite(&q->file, off, q->zero_buf, q->cluster_size);
    if (rc == 0)
        rc = rv_file_sync(&q->file);
    if (rc < 0)
        return rc; /* the cluster leaks */
    q->need_sync = false;
    uint64_t l1e = off | QCOW2_OFLAG_COPIED, be = htobe64(l1e);
    rc = rv_file_pwrite(&q->file, q->l1_offset + idx * 8, &be, 8);
    if (rc < 0)
        return rc;
    q->l1[idx] = l1e;
    uint8_t *table;
    rc = qcow2_cache_get_empty(&q->l2_cache, off, &table);
    *offset = off;
    return rc;
}

int qcow2_set_l2_entry(struct qcow2 *q, uint64_t vcl, uint64_t entry)
{
    uint64_t idx = vcl >> q->l2_bits, l2off;
    if (idx >= q->l1_size)
        return qcow2_signal_corruption(q, "guest cluster %" PRIu64 " beyond the L1 table", vcl);
    int rc = l2_table_offset(q, idx, &l2off);
    if (rc == 0 && l2off == 0)
        rc = alloc_l2_table(q, idx, &l2off);
    if (rc < 0)
        return rc;
    uint8_t *table;
    rc = qcow2_cache_get(&q->l2_cache, l2off, &table);
    if (rc < 0)
        return rc;
    uint64_t be = htobe64(entry);
    memcpy(table + (vcl & ((1ull << q->l2_bits) - 1)) * 8, &be, 8);
    qcow2_cache_mark_dirty(&q->l2_cache, l2off);
    return 0;
}

void qcow2_compressed_range(const struct qcow2 *q, uint64_t entry, uint64_t *offset,
                            uint64_t *len)
{
    uint64_t coff = entry & q->coffset_mask;
    uint64_t sectors = ((entry >> q->csize_shift) & q->csize_mask) + 1;
    *offset = coff;
    *len = sectors * 512 - (coff & 511);
}

int qcow2_classify(struct qcow2 *q, uint64_t entry, enum qcow2_ctype *type, uint64_t *host)
{
    *host = 0;
    if (entry & QCOW2_OFLAG_COMPRESSED) {
        uint64_t len;
        *type = QCOW2_COMPRESSED;
        qcow2_compressed_range(q, entry, host, &len);
        if (*host == 0)
            return qcow2_signal_corruption(q, "compressed cluster at offset 0");
        return 0;
    }
    uint64_t off = entry & QCOW2_OFFSET_MASK;
    bool zero = q->version >= 3 && (entry & QCOW2_OFLAG_ZERO);
    if (qcow2_offset_in_cluster(q, off))
        return qcow2_signal_corruption(q, "L2 entry 0x%" PRIx64 " is not cluster aligned",
                                       entry);
    *host = off;
    if (zero)
        *type = off ? QCOW2_ZERO_ALLOC : QCOW2_ZERO_PLAIN;
    else if (off)
        *type = QCOW2_NORMAL;
    else if (entry & QCOW2_OFLAG_COPIED)
        return qcow2_signal_corruption(q, "L2 entry 0x%" PRIx64 " has host offset 0", entry);
    else
        *type = QCOW2_UNALLOCATED;
    return 0;
}
