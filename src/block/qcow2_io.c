/* qcow2 guest I/O: reads (backing files, zero and compressed clusters), writes with
 * allocation and copy-on-write, discard and write-zeroes.
 *
 * A write to a cluster that is not a plain data cluster with refcount one (unallocated, zero,
 * compressed, shared) goes to a newly allocated cluster: the old contents of the parts not
 * written (from the backing file, zeros, the decompressed data) are written with the new data
 * in one request, then the L2 entry is switched, then the old host cluster is released (a
 * deferred free, see qcow2_refcount.c). Compressed clusters are never written in place. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/iov.h"
#include "block/qcow2.h"
#include "core/error.h"

/* Clusters allocated together for one run of whole-cluster writes. */
#define WRITE_RUN_MAX 64

static struct qcow2 *to_qcow2(struct rv_block *b)
{
    return (struct qcow2 *)b;
}

static int ensure_iov_tmp(struct qcow2 *q, int iovcnt)
{
    int need = iovcnt + 2;
    if (q->iov_tmp_n >= need)
        return 0;
    struct iovec *v = realloc(q->iov_tmp, sizeof(*v) * (size_t)need);
    if (!v)
        return rv_error_set(-ENOMEM, "out of memory");
    q->iov_tmp = v;
    q->iov_tmp_n = need;
    return 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Guest bytes [voff, voff+n) from the backing file, into bytes [pos, pos+n) of `iov`; the
 * part beyond the backing file (or all, without one) reads as zeros. */
static int read_backing(struct qcow2 *q, uint64_t voff, const struct iovec *iov, int iovcnt,
                        uint64_t pos, uint64_t n)
{
    uint64_t avail = 0;
    if (q->backing && voff < q->backing_size)
        avail = min_u64(n, q->backing_size - voff);
    if (avail > 0) {
        int cnt = rv_iov_slice(iov, iovcnt, pos, avail, q->iov_tmp, q->iov_tmp_n);
        if (cnt < 0)
            return rv_error_set(-EINVAL, "%s: bad scatter/gather list", q->base.path);
        int rc = rv_block_readv(q->backing, voff, q->iov_tmp, cnt);
        if (rc < 0)
            return rv_error_prefix(rc, "%s: backing file: ", q->base.path);
    }
    if (n > avail)
        rv_iov_memset(iov, iovcnt, pos + avail, 0, n - avail);
    return 0;
}

/* Decompresses the cluster of L2 entry `entry` into q->zout (kept for the next call). */
static int decompress(struct qcow2 *q, uint64_t entry)
{
    if (q->zout_entry == entry)
        return 0;
    uint64_t coff, clen;
    qcow2_compressed_range(q, entry, &coff, &clen);
    if (clen > 2 * q->cluster_size + 512)
        clen = 2 * q->cluster_size + 512;
    q->zout_entry = 0;
    int rc = rv_file_pread(&q->file, coff, q->zin, clen);
    if (rc < 0)
        return rc;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, -15) != Z_OK)
        return rv_error_set(-ENOMEM, "%s: zlib initialisation failed", q->base.path);
    zs.next_in = q->zin;
    zs.avail_in = (uInt)clen;
    zs.next_out = q->zout;
    zs.avail_out = (uInt)q->cluster_size;
    int zr = inflate(&zs, Z_FINISH);
    bool full = zs.avail_out == 0;
    inflateEnd(&zs);
    if (!full || (zr != Z_STREAM_END && zr != Z_OK && zr != Z_BUF_ERROR))
        return rv_error_set(-EIO, "%s: compressed cluster at 0x%" PRIx64 " is damaged",
                            q->base.path, coff);
    q->zout_entry = entry;
    return 0;
}

int qcow2_readv(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt,
                uint64_t len)
{
    struct qcow2 *q = to_qcow2(b);
    uint64_t cs = q->cluster_size;
    int rc = ensure_iov_tmp(q, iovcnt);
    for (uint64_t pos = 0, n; rc == 0 && pos < len; pos += n) {
        uint64_t voff = offset + pos, vcl = voff >> q->cluster_bits;
        uint64_t in = qcow2_offset_in_cluster(q, voff), entry, host;
        enum qcow2_ctype type;
        n = min_u64(cs - in, len - pos);
        rc = qcow2_get_l2_entry(q, vcl, &entry);
        if (rc == 0)
            rc = qcow2_classify(q, entry, &type, &host);
        if (rc < 0)
            break;
        switch (type) {
        case QCOW2_UNALLOCATED:
            rc = read_backing(q, voff, iov, iovcnt, pos, n);
            break;
        case QCOW2_ZERO_PLAIN:
        case QCOW2_ZERO_ALLOC:
            rv_iov_memset(iov, iovcnt, pos, 0, n);
            break;
        case QCOW2_COMPRESSED:
            rc = decompress(q, entry);
            if (rc == 0)
                rv_iov_from_buf(iov, iovcnt, pos, q->zout + in, n);
            break;
        case QCOW2_NORMAL: {
            /* One host read for the following clusters that are contiguous on the host. */
            for (uint64_t k = 1; pos + n < len; k++) {
                uint64_t e2, h2;
                enum qcow2_ctype t2;
                if (qcow2_get_l2_entry(q, vcl + k, &e2) < 0 ||
                    qcow2_classify(q, e2, &t2, &h2) < 0 || t2 != QCOW2_NORMAL ||
                    h2 != host + k * cs)
                    break;
                n += min_u64(cs, len - pos - n);
            }
            int cnt = rv_iov_slice(iov, iovcnt, pos, n, q->iov_tmp, q->iov_tmp_n);
            rc = cnt < 0 ? rv_error_set(-EINVAL, "%s: bad scatter/gather list", b->path)
                         : rv_file_preadv(&q->file, host + in, q->iov_tmp, cnt);
            break;
        }
        }
    }
    return rc;
}

/* The current contents of guest cluster `vcl` into q->cow_buf. */
static int cow_source(struct qcow2 *q, uint64_t vcl, uint64_t entry, enum qcow2_ctype type,
                      uint64_t host)
{
    uint64_t cs = q->cluster_size;
    struct iovec v = {q->cow_buf, cs};
    switch (type) {
    case QCOW2_UNALLOCATED:
        return read_backing(q, vcl << q->cluster_bits, &v, 1, 0, cs);
    case QCOW2_ZERO_PLAIN:
    case QCOW2_ZERO_ALLOC:
        memset(q->cow_buf, 0, cs);
        return 0;
    case QCOW2_COMPRESSED: {
        int rc = decompress(q, entry);
        if (rc == 0)
            memcpy(q->cow_buf, q->zout, cs);
        return rc;
    }
    case QCOW2_NORMAL:
        return rv_file_pread(&q->file, host, q->cow_buf, cs);
    }
    return 0;
}

/* Releases what an L2 entry referenced, once the new entry is durable. */
static int release_old(struct qcow2 *q, uint64_t entry, enum qcow2_ctype type, uint64_t host)
{
    if (type == QCOW2_NORMAL || type == QCOW2_ZERO_ALLOC)
        return qcow2_free_deferred(q, host, q->cluster_size);
    if (type == QCOW2_COMPRESSED) {
        uint64_t coff, clen;
        qcow2_compressed_range(q, entry, &coff, &clen);
        return qcow2_free_deferred(q, coff, clen);
    }
    return 0;
}

/* True if a data cluster can be written in place: refcount exactly one. */
static int writable_in_place(struct qcow2 *q, uint64_t entry, uint64_t host, bool *yes)
{
    *yes = true;
    if (entry & QCOW2_OFLAG_COPIED)
        return 0;
    uint64_t r;
    int rc = qcow2_refcount_get(q, host >> q->cluster_bits, &r);
    *yes = r == 1;
    return rc;
}

/* Writes guest bytes [pos, pos+n) of the request (guest offset voff, inside one cluster). */
static int write_one(struct qcow2 *q, uint64_t voff, uint64_t n, const struct iovec *iov,
                     int iovcnt, uint64_t pos)
{
    uint64_t cs = q->cluster_size, vcl = voff >> q->cluster_bits;
    uint64_t in = qcow2_offset_in_cluster(q, voff), entry, host, newoff;
    enum qcow2_ctype type;
    int rc = qcow2_get_l2_entry(q, vcl, &entry);
    if (rc == 0)
        rc = qcow2_classify(q, entry, &type, &host);
    if (rc < 0)
        return rc;
    if (type == QCOW2_NORMAL) {
        bool in_place;
        rc = writable_in_place(q, entry, host, &in_place);
        if (rc < 0)
            return rc;
        if (in_place) {
            if (qcow2_overlaps_metadata(q, host, cs))
                return qcow2_signal_corruption(q, "data cluster 0x%" PRIx64 " overlaps "
                                               "metadata", host);
            int cnt = rv_iov_slice(iov, iovcnt, pos, n, q->iov_tmp, q->iov_tmp_n);
            if (cnt < 0)
                return rv_error_set(-EINVAL, "%s: bad scatter/gather list", q->base.path);
            return rv_file_pwritev(&q->file, host + in, q->iov_tmp, cnt);
        }
    }
    if (in > 0 || n < cs) {
        rc = cow_source(q, vcl, entry, type, host);
        if (rc < 0)
            return rc;
    }
    uint64_t one;
    rc = qcow2_alloc_clusters(q, 1, &newoff, &one);
    if (rc < 0)
        return rc;
    int cnt = 0;
    if (in > 0)
        q->iov_tmp[cnt++] = (struct iovec){q->cow_buf, in};
    int k = rv_iov_slice(iov, iovcnt, pos, n, q->iov_tmp + cnt, q->iov_tmp_n - 2);
    if (k < 0)
        return rv_error_set(-EINVAL, "%s: bad scatter/gather list", q->base.path);
    cnt += k;
    if (in + n < cs)
        q->iov_tmp[cnt++] = (struct iovec){q->cow_buf + in + n, cs - in - n};
    rc = rv_file_pwritev(&q->file, newoff, q->iov_tmp, cnt);
    q->need_sync = true;
    if (rc == 0)
        rc = qcow2_set_l2_entry(q, vcl, newoff | QCOW2_OFLAG_COPIED);
    if (rc == 0)
        rc = release_old(q, entry, type, host);
    return rc;
}

/* Whole clusters starting at guest cluster `vcl` that all need a new host cluster: allocated
 * as one contiguous run (as long as the first free space allows) and written with one
 * request. Returns the number written (0 if there is nothing to batch) or a negative errno. */
static int64_t write_run(struct qcow2 *q, uint64_t vcl, uint64_t max, const struct iovec *iov,
                         int iovcnt, uint64_t pos)
{
    uint64_t entries[WRITE_RUN_MAX], hosts[WRITE_RUN_MAX];
    enum qcow2_ctype types[WRITE_RUN_MAX];
    uint64_t k = 0, newoff;
    if (max > WRITE_RUN_MAX)
        max = WRITE_RUN_MAX;
    for (; k < max; k++) {
        int rc = qcow2_get_l2_entry(q, vcl + k, &entries[k]);
        if (rc == 0)
            rc = qcow2_classify(q, entries[k], &types[k], &hosts[k]);
        bool in_place = false;
        if (rc == 0 && types[k] == QCOW2_NORMAL)
            rc = writable_in_place(q, entries[k], hosts[k], &in_place);
        /* An error is reported when write_one() meets the cluster again. */
        if (rc < 0 || in_place)
            break;
    }
    if (k < 2)
        return 0; /* nothing to batch: write_one handles it */
    int rc = qcow2_alloc_clusters(q, k, &newoff, &k); /* maybe fewer, contiguous */
    if (rc < 0)
        return rc;
    int cnt = rv_iov_slice(iov, iovcnt, pos, k << q->cluster_bits, q->iov_tmp, q->iov_tmp_n);
    if (cnt < 0)
        return rv_error_set(-EINVAL, "%s: bad scatter/gather list", q->base.path);
    rc = rv_file_pwritev(&q->file, newoff, q->iov_tmp, cnt);
    q->need_sync = true;
    for (uint64_t i = 0; i < k && rc == 0; i++) {
        rc = qcow2_set_l2_entry(q, vcl + i, (newoff + (i << q->cluster_bits)) |
                                QCOW2_OFLAG_COPIED);
        if (rc == 0)
            rc = release_old(q, entries[i], types[i], hosts[i]);
    }
    /* On failure the clusters of the run not yet in an L2 table leak; nothing is lost. */
    return rc < 0 ? rc : (int64_t)k;
}

int qcow2_writev(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt,
                 uint64_t len)
{
    struct qcow2 *q = to_qcow2(b);
    uint64_t cs = q->cluster_size;
    if (q->corrupt)
        return rv_error_set(-EIO, "%s: the image is marked corrupt; not writing", b->path);
    int rc = ensure_iov_tmp(q, iovcnt);
    for (uint64_t pos = 0, n; rc == 0 && pos < len; pos += n) {
        uint64_t voff = offset + pos;
        uint64_t in = qcow2_offset_in_cluster(q, voff);
        n = min_u64(cs - in, len - pos);
        if (in == 0 && len - pos >= 2 * cs) {
            int64_t k = write_run(q, voff >> q->cluster_bits, (len - pos) >> q->cluster_bits,
                                  iov, iovcnt, pos);
            if (k < 0)
                return (int)k;
            if (k > 0) {
                n = (uint64_t)k << q->cluster_bits;
                continue;
            }
        }
        rc = write_one(q, voff, n, iov, iovcnt, pos);
    }
    return rc;
}

/* Guest cluster `vcl` covers [start, end) of the disk; the last cluster may be cut short by
 * the disk size. True if [offset, offset+len) covers all of it. */
static bool covers_cluster(const struct qcow2 *q, uint64_t vcl, uint64_t offset, uint64_t len)
{
    uint64_t start = vcl << q->cluster_bits;
    uint64_t end = min_u64(start + q->cluster_size, q->base.size);
    return offset <= start && offset + len >= end;
}

/* Points guest cluster `vcl` at nothing (unallocated or zero flag) and releases its host
 * cluster. `keep` keeps a plain data cluster allocated with the zero flag set. */
static int zero_cluster(struct qcow2 *q, uint64_t vcl, bool discard, bool may_unmap)
{
    uint64_t entry, host, newentry;
    enum qcow2_ctype type;
    int rc = qcow2_get_l2_entry(q, vcl, &entry);
    if (rc == 0)
        rc = qcow2_classify(q, entry, &type, &host);
    if (rc < 0)
        return rc;
    bool release = true;
    switch (type) {
    case QCOW2_UNALLOCATED:
        /* Discarded data may read as anything: the backing file's is fine. Zeroes must be
         * zeros: only a backing file needs the zero flag. */
        if (discard || !q->backing || (vcl << q->cluster_bits) >= q->backing_size)
            return 0;
        newentry = QCOW2_OFLAG_ZERO;
        break;
    case QCOW2_ZERO_PLAIN:
        return 0;
    case QCOW2_ZERO_ALLOC:
        if (!discard && !may_unmap)
            return 0;
        newentry = q->backing || !discard ? QCOW2_OFLAG_ZERO : 0;
        break;
    case QCOW2_NORMAL:
        if (!discard && !may_unmap && (entry & QCOW2_OFLAG_COPIED)) {
            newentry = entry | QCOW2_OFLAG_ZERO; /* stays allocated */
            release = false;
            break;
        }
        newentry = q->backing || !discard ? QCOW2_OFLAG_ZERO : 0;
        break;
    default: /* compressed */
        newentry = q->backing || !discard ? QCOW2_OFLAG_ZERO : 0;
        break;
    }
    rc = qcow2_set_l2_entry(q, vcl, newentry);
    if (rc == 0 && release)
        rc = release_old(q, entry, type, host);
    return rc;
}

int qcow2_discard(struct rv_block *b, uint64_t offset, uint64_t len)
{
    struct qcow2 *q = to_qcow2(b);
    if (q->corrupt)
        return rv_error_set(-EIO, "%s: the image is marked corrupt; not writing", b->path);
    uint64_t first = offset >> q->cluster_bits, last = (offset + len - 1) >> q->cluster_bits;
    int rc = 0;
    /* Only whole clusters are deallocated; discarding part of one is a no-op (a hint). */
    for (uint64_t vcl = first; vcl <= last && rc == 0; vcl++)
        if (covers_cluster(q, vcl, offset, len))
            rc = zero_cluster(q, vcl, true, true);
    return rc;
}

int qcow2_write_zeroes(struct rv_block *b, uint64_t offset, uint64_t len, bool may_unmap)
{
    struct qcow2 *q = to_qcow2(b);
    if (q->corrupt)
        return rv_error_set(-EIO, "%s: the image is marked corrupt; not writing", b->path);
    int rc = ensure_iov_tmp(q, 1);
    uint64_t first = offset >> q->cluster_bits, last = (offset + len - 1) >> q->cluster_bits;
    for (uint64_t vcl = first; vcl <= last && rc == 0; vcl++) {
        if (covers_cluster(q, vcl, offset, len)) {
            rc = zero_cluster(q, vcl, false, may_unmap);
            continue;
        }
        /* Part of a cluster: skip it if it reads as zeros already, else write zeros. */
        uint64_t start = vcl << q->cluster_bits;
        uint64_t s = offset > start ? offset : start;
        uint64_t e = min_u64(start + q->cluster_size, offset + len);
        uint64_t entry, host;
        enum qcow2_ctype type;
        rc = qcow2_get_l2_entry(q, vcl, &entry);
        if (rc == 0)
            rc = qcow2_classify(q, entry, &type, &host);
        if (rc < 0)
            break;
        if (type == QCOW2_ZERO_PLAIN || type == QCOW2_ZERO_ALLOC ||
            (type == QCOW2_UNALLOCATED && (!q->backing || s >= q->backing_size)))
            continue;
        struct iovec z = {q->zero_buf, e - s};
        rc = write_one(q, s, e - s, &z, 1, 0);
    }
    return rc;
}

int qcow2_flush(struct rv_block *b)
{
    struct qcow2 *q = to_qcow2(b);
    int rc = qcow2_flush_metadata(q);
    if (rc == 0)
        rc = rv_file_sync(&q->file);
    if (rc == 0)
        q->need_sync = false;
    return rc;
}
