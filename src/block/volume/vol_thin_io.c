/* Reads and writes of a thin volume, chunk by chunk. A write to a chunk that this volume alone
 * references goes in place; a write to an unmapped or shared chunk (snapshots) allocates a new
 * chunk, fills it (old contents: the shared chunk, the external origin, or zeros, except where
 * the write covers it), then points the table at it. Tables reach the disk at the next flush. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "block/file.h"
#include "block/volume/vol_thin.h"
#include "core/error.h"
#include "core/iov.h"

/* Data chunk `c`, bytes [o, o+n) <-> iov bytes [ioff, ioff+n). */
static int chunk_rw(struct vol_thin_dev *d, bool write, uint32_t c, uint64_t o, uint64_t n,
                    const struct iovec *iov, int iovcnt, uint64_t ioff)
{
    struct vol_thin_pool *tp = d->pool;
    uint64_t off = (uint64_t)c * tp->chunk_size + o;
    struct iovec *scratch = malloc(sizeof(*scratch) * (size_t)iovcnt);
    if (!scratch)
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = 0;
    while (n > 0 && !rc) {
        uint32_t pv;
        uint64_t po, avail;
        if ((rc = vol_area_map(tp->vg, &tp->lv->areas[0], off, &pv, &po, &avail)))
            break;
        uint64_t k = n < avail ? n : avail;
        int cnt = rv_iov_slice(iov, iovcnt, ioff, k, scratch, iovcnt);
        if (d->files[pv].fd < 0)
            rc = rv_error_set(-ENODEV, "thin pool %s: PV %s missing", tp->lv->name,
                              tp->vg->pvs[pv].path);
        else if (cnt < 0)
            rc = rv_error_set(-EINVAL, "bad scatter/gather list");
        else
            rc = write ? rv_file_pwritev(&d->files[pv], po, scratch, cnt)
                       : rv_file_preadv(&d->files[pv], po, scratch, cnt);
        off += k, ioff += k, n -= k;
    }
    free(scratch);
    return rc;
}

/* What an unwritten chunk `vc` of the volume holds: its shared chunk, the origin, or zeros. */
static int old_contents(struct vol_thin_dev *d, uint32_t mapped, uint32_t vc, uint8_t *buf)
{
    uint64_t cs = d->pool->chunk_size;
    struct iovec v = {buf, cs};
    if (mapped)
        return chunk_rw(d, false, mapped - 1, 0, cs, &v, 1, 0);
    if (d->origin_read)
        return d->origin_read(d->origin_ctx, (uint64_t)vc * cs, buf, cs);
    memset(buf, 0, cs);
    return 0;
}

static struct vol_thin_table *dev_table(struct vol_thin_dev *d)
{
    struct vol_thin_table *t = vol_thin_table_find(d->pool, d->thin_id);
    if (!t)
        rv_error_set(-EIO, "thin volume %" PRIu32 ": its table is missing from the pool",
                     d->thin_id);
    return t;
}

/* Gives virtual chunk vc a chunk of its own, holding the old contents outside [o, o+n) and
 * iov[ioff..] (or zeros when iov is NULL) inside. */
static int chunk_cow(struct vol_thin_dev *d, struct vol_thin_table *t, uint32_t vc, uint64_t o,
                     uint64_t n, const struct iovec *iov, int iovcnt, uint64_t ioff)
{
    struct vol_thin_pool *tp = d->pool;
    uint64_t cs = tp->chunk_size;
    uint32_t old = t->map[vc], c;
    int rc = vol_thin_alloc(tp, &c);
    if (rc)
        return rc;
    t = dev_table(d); /* a shared pool's merge (vol_thin_share.c) may have moved the tables */
    if (!t)
        return -EIO;
    uint8_t *buf = rv_file_alloc(cs);
    if (!buf) {
        tp->refs[c] = 0;
        return rv_error_set(-ENOMEM, "out of memory");
    }
    if (n < cs)
        rc = old_contents(d, old, vc, buf);
    if (!rc && iov)
        rv_iov_to_buf(iov, iovcnt, ioff, buf + o, n);
    else if (!rc)
        memset(buf + o, 0, n);
    struct iovec v = {buf, cs};
    if (!rc)
        rc = chunk_rw(d, true, c, 0, cs, &v, 1, 0);
    free(buf);
    if (rc) {
        tp->refs[c] = 0;
        return rc;
    }
    if (old)
        tp->refs[old - 1]--;
    t->map[vc] = c + 1;
    return 0;
}

int vol_thin_rw(struct vol_thin_dev *d, bool write, uint64_t off, const struct iovec *iov,
                int iovcnt, uint64_t len)
{
    uint64_t cs = d->pool->chunk_size;
    int rc = 0;
    for (uint64_t done = 0; done < len && !rc;) {
        struct vol_thin_table *t = dev_table(d); /* each time: allocations may move it */
        if (!t)
            return -EIO;
        uint64_t pos = off + done, o = pos % cs, n = cs - o < len - done ? cs - o : len - done;
        uint32_t vc = (uint32_t)(pos / cs);
        if (vc >= t->nchunks && (rc = vol_thin_table_resize(t, vc + 1)))
            break;
        uint32_t m = t->map[vc];
        if (write && m && d->pool->refs[m - 1] == 1)
            rc = chunk_rw(d, true, m - 1, o, n, iov, iovcnt, done);
        else if (write)
            rc = chunk_cow(d, t, vc, o, n, iov, iovcnt, done);
        else if (m)
            rc = chunk_rw(d, false, m - 1, o, n, iov, iovcnt, done);
        else if (d->origin_read) {
            uint8_t *buf = malloc(n);
            rc = buf ? d->origin_read(d->origin_ctx, pos, buf, n)
                     : rv_error_set(-ENOMEM, "out of memory");
            if (!rc)
                rv_iov_from_buf(iov, iovcnt, done, buf, n);
            free(buf);
        } else {
            rv_iov_memset(iov, iovcnt, done, 0, n);
        }
        done += n;
    }
    return rc;
}

int vol_thin_zero(struct vol_thin_dev *d, uint64_t off, uint64_t len)
{
    uint64_t cs = d->pool->chunk_size;
    int rc = 0;
    for (uint64_t done = 0; done < len && !rc;) {
        struct vol_thin_table *t = dev_table(d); /* each time: allocations may move it */
        if (!t)
            return -EIO;
        uint64_t pos = off + done, o = pos % cs, n = cs - o < len - done ? cs - o : len - done;
        uint32_t vc = (uint32_t)(pos / cs);
        if (vc >= t->nchunks && (rc = vol_thin_table_resize(t, vc + 1)))
            break;
        uint32_t m = t->map[vc];
        if (n == cs && !d->origin_read) { /* unmapped reads as zeros: give the chunk back */
            if (m) {
                d->pool->refs[m - 1]--;
                t->map[vc] = 0;
                d->pool->dirty = true;
            }
        } else if (m || d->origin_read) {
            if (m && d->pool->refs[m - 1] == 1) {
                uint8_t *z = rv_file_alloc(n);
                struct iovec v = {z, n};
                rc = z ? chunk_rw(d, true, m - 1, o, n, &v, 1, 0)
                       : rv_error_set(-ENOMEM, "out of memory");
                free(z);
            } else {
                rc = chunk_cow(d, t, vc, o, n, NULL, 0, 0);
            }
        }
        done += n;
    }
    return rc;
}

int vol_thin_flush(struct vol_thin_dev *d)
{
    if (d->pool->dirty)
        return vol_thin_pool_save(d->pool);
    int rc = 0;
    for (uint32_t i = 0; i < d->pool->vg->npvs && !rc; i++)
        if (d->files[i].fd >= 0)
            rc = rv_file_sync(&d->files[i]);
    return rc;
}
