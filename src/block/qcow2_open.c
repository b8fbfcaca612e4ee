/* qcow2 open and close: tables into memory, caches, the backing chain, the dirty and corrupt
 * header bits, and image information. */
#include <errno.h>
#include <endian.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "core/error.h"
#include "core/log.h"

/* Cache sizes: 4 MiB of L2 tables (4 to 64 tables: 64 KiB clusters map 32 GiB), 1 MiB of
 * refcount blocks (4 to 16 blocks). */
#define L2_CACHE_BYTES (4u << 20)
#define L2_CACHE_MIN 4
#define L2_CACHE_MAX 64
#define RB_CACHE_BYTES (1u << 20)
#define RB_CACHE_MIN 4
#define RB_CACHE_MAX 16

int qcow2_write_incompat(struct qcow2 *q, uint64_t incompat)
{
    if (q->version < 3)
        return 0; /* version 2 headers end before the feature fields */
    uint64_t be = htobe64(incompat);
    int rc = rv_file_pwrite(&q->file, QCOW2_HDR_INCOMPAT, &be, 8);
    if (rc == 0)
        rc = rv_file_sync(&q->file);
    if (rc == 0)
        q->incompat = incompat;
    return rc;
}

int qcow2_signal_corruption(struct qcow2 *q, const char *fmt, ...)
{
    char msg[RV_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!q->corrupt && !q->base.readonly) {
        /* Stop writing and say so in the header, as QEMU does, so nobody trusts the image
         * until it has been checked. Best effort: the error below is what matters. */
        q->corrupt = true;
        rv_err("%s: qcow2 metadata corrupt (%s); marking the image corrupt", q->base.path, msg);
        qcow2_write_incompat(q, q->incompat | QCOW2_INCOMPAT_CORRUPT);
    }
    q->corrupt = true;
    return rv_error_set(-EIO, "%s: corrupt qcow2 image: %s", q->base.path, msg);
}

bool qcow2_overlaps_metadata(struct qcow2 *q, uint64_t offset, uint64_t len)
{
    uint64_t cs = q->cluster_size;
    uint64_t l1_bytes = (uint64_t)q->l1_size * 8, rt_bytes = (uint64_t)q->reftable_clusters * cs;
    if (offset < cs)
        return true;
    if (l1_bytes && offset < q->l1_offset + l1_bytes && q->l1_offset < offset + len)
        return true;
    if (offset < q->reftable_offset + rt_bytes && q->reftable_offset < offset + len)
        return true;
    for (uint64_t i = 0; i < q->reftable_used; i++) {
        uint64_t r = q->reftable[i];
        if (r && offset < r + cs && r < offset + len)
            return true;
    }
    return qcow2_cache_overlaps(&q->l2_cache, offset, len);
}

static int read_table(struct qcow2 *q, uint64_t offset, uint64_t entries, uint64_t **out)
{
    uint64_t *t = malloc(entries ? entries * 8 : 8);
    if (!t)
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = rv_file_pread(&q->file, offset, t, entries * 8);
    if (rc < 0) {
        free(t);
        return rc;
    }
    for (uint64_t i = 0; i < entries; i++)
        t[i] = be64toh(t[i]);
    *out = t;
    return 0;
}

/* Refcount table entries must be aligned and inside the file before anything is allocated. */
static int check_reftable(struct qcow2 *q)
{
    for (uint64_t i = 0; i < q->reftable_entries; i++) {
        uint64_t r = q->reftable[i];
        if (r == 0)
            continue;
        if ((r & ~QCOW2_OFFSET_MASK) || qcow2_offset_in_cluster(q, r) || r < q->cluster_size ||
            r >= q->file.size)
            return rv_error_set(-EINVAL, "%s: invalid refcount block offset 0x%" PRIx64
                                " (refcount table entry %" PRIu64 ")", q->base.path, r, i);
    }
    return 0;
}

/* The backing file name, resolved against the image's directory when relative; a logical
 * volume vol:VG/LV (docs/volumes.md) is taken as it is. */
static int resolve_backing(struct qcow2 *q)
{
    const char *name = q->backing_name;
    if (name[0] == '/' || strncmp(name, "vol:", 4) == 0) {
        snprintf(q->backing_path, sizeof(q->backing_path), "%s", name);
        return 0;
    }
    char *copy = strdup(q->base.path);
    if (!copy)
        return rv_error_set(-ENOMEM, "out of memory");
    int n = snprintf(q->backing_path, sizeof(q->backing_path), "%s/%s", dirname(copy), name);
    free(copy);
    if (n < 0 || (size_t)n >= sizeof(q->backing_path))
        return rv_error_set(-ENAMETOOLONG, "%s: backing file path too long", q->base.path);
    return 0;
}

static int open_backing(struct qcow2 *q, const struct rv_block_opts *opts,
                        struct rv_block_chain *chain)
{
    if ((int)q->backing_format == -1)
        return rv_error_set(-ENOTSUP, "%s: backing file format is neither raw nor qcow2",
                            q->base.path);
    if (chain->depth >= RV_BLOCK_MAX_CHAIN)
        return rv_error_set(-ELOOP, "%s: backing chain longer than %d images", q->base.path,
                            RV_BLOCK_MAX_CHAIN);
    struct rv_block_opts bopts = {
        .format = q->backing_format, .readonly = true, .cache = opts->cache,
    };
    chain->depth++;
    int rc = rv_block_open_internal(q->backing_path, &bopts, 0, chain, &q->backing);
    chain->depth--;
    if (rc < 0) /* the inner message names the failing file; say once that it is a backing file */
        return chain->depth == 0 ? rv_error_prefix(rc, "%s: backing file: ", q->base.path) : rc;
    q->backing_size = rv_block_size(q->backing);
    return 0;
}

static void qcow2_close(struct rv_block *b)
{
    struct qcow2 *q = (struct qcow2 *)b;
    if (!b->readonly && !q->corrupt && q->l1 && q->rb_cache.e && q->l2_cache.e &&
        qcow2_flush(b) < 0)
        rv_err("%s: flushing qcow2 metadata on close: %s", b->path, rv_error_get());
    rv_block_close(q->backing);
    qcow2_cache_free(&q->l2_cache);
    qcow2_cache_free(&q->rb_cache);
    free(q->l1);
    free(q->reftable);
    free(q->frees);
    free(q->repair_refs);
    free(q->cow_buf);
    free(q->zero_buf);
    free(q->zin);
    free(q->zout);
    free(q->iov_tmp);
    rv_file_close(&q->file);
    rv_block_free_common(b);
    free(q);
}

static int qcow2_info(struct rv_block *b, struct rv_block_info *info)
{
    struct qcow2 *q = (struct qcow2 *)b;
    struct stat st;
    info->format = RV_BLOCK_QCOW2;
    info->virtual_size = b->size;
    info->file_size = q->file.size;
    if (fstat(q->file.fd, &st) == 0)
        info->disk_size = (uint64_t)st.st_blocks * 512;
    info->cluster_size = (uint32_t)q->cluster_size;
    info->version = q->version;
    info->refcount_bits = 1u << q->refcount_order;
    info->snapshots = q->nb_snapshots;
    info->dirty = q->incompat & QCOW2_INCOMPAT_DIRTY;
    info->corrupt = q->incompat & QCOW2_INCOMPAT_CORRUPT;
    info->lazy_refcounts = q->compat & QCOW2_COMPAT_LAZY_REFCOUNTS;
    snprintf(info->backing_file, sizeof(info->backing_file), "%s", q->backing_name);
    snprintf(info->backing_path, sizeof(info->backing_path), "%s", q->backing_path);
    info->backing_format = (int)q->backing_format == -1 ? RV_BLOCK_AUTO : q->backing_format;
    return 0;
}

static const struct rv_block_driver qcow2_driver = {
    .name = "qcow2",
    .readv = qcow2_readv,
    .writev = qcow2_writev,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .write_zeroes = qcow2_write_zeroes,
    .info = qcow2_info,
    .check = qcow2_check,
    .close = qcow2_close,
};

static int alloc_buffers(struct qcow2 *q)
{
    uint64_t cs = q->cluster_size;
    int l2n = (int)(L2_CACHE_BYTES / cs), rbn = (int)(RB_CACHE_BYTES / cs);
    l2n = l2n < L2_CACHE_MIN ? L2_CACHE_MIN : l2n > L2_CACHE_MAX ? L2_CACHE_MAX : l2n;
    rbn = rbn < RB_CACHE_MIN ? RB_CACHE_MIN : rbn > RB_CACHE_MAX ? RB_CACHE_MAX : rbn;
    int rc = qcow2_cache_init(&q->l2_cache, q, l2n, true);
    if (rc == 0)
        rc = qcow2_cache_init(&q->rb_cache, q, rbn, false);
    if (rc < 0)
        return rc;
    q->cow_buf = rv_file_alloc(cs);
    q->zero_buf = rv_file_alloc(cs);
    q->zin = rv_file_alloc(2 * cs + 512);
    q->zout = rv_file_alloc(cs);
    if (!q->cow_buf || !q->zero_buf || !q->zin || !q->zout)
        return rv_error_set(-ENOMEM, "out of memory");
    return 0;
}

/* Autoclear bits describe data rvisor does not maintain (bitmaps): a writer clears them. */
static int clear_autoclear(struct qcow2 *q)
{
    if (q->version < 3 || q->autoclear == 0)
        return 0;
    uint64_t zero = 0;
    int rc = rv_file_pwrite(&q->file, QCOW2_HDR_AUTOCLEAR, &zero, 8);
    if (rc == 0)
        rc = rv_file_sync(&q->file);
    if (rc == 0)
        q->autoclear = 0;
    return rc;
}

int rv_qcow2_open(const char *path, const struct rv_block_opts *opts, unsigned flags,
                  struct rv_block_chain *chain, struct rv_block **out)
{
    struct qcow2 *q = calloc(1, sizeof(*q));
    if (!q)
        return rv_error_set(-ENOMEM, "out of memory");
    q->file.fd = -1;
    bool writable = !opts->readonly, checking = flags & RV_BLOCK_OPEN_CHECK;
    int rc = rv_block_init_common(&q->base, &qcow2_driver, RV_BLOCK_QCOW2, path, !writable);
    if (rc < 0)
        goto fail;
    bool direct = opts->cache == RV_CACHE_NONE;
    int fd = rv_block_open_file(path, writable, &direct, chain);
    if (fd < 0) {
        rc = fd;
        goto fail;
    }
    rc = rv_file_init(&q->file, fd, direct, opts->cache == RV_CACHE_UNSAFE, q->base.path);
    if (rc < 0) {
        close(fd);
        goto fail;
    }
    rc = qcow2_read_header(q, writable && !checking);
    if (rc < 0)
        goto fail;
    rc = read_table(q, q->l1_offset, q->l1_size, &q->l1);
    if (rc == 0) {
        q->reftable_entries = (uint64_t)q->reftable_clusters * q->cluster_size / 8;
        rc = read_table(q, q->reftable_offset, q->reftable_entries, &q->reftable);
        for (uint64_t i = 0; rc == 0 && i < q->reftable_entries; i++)
            if (q->reftable[i])
                q->reftable_used = i + 1;
    }
    if (rc == 0 && writable)
        rc = check_reftable(q);
    if (rc == 0)
        rc = alloc_buffers(q);
    if (rc < 0)
        goto fail;
    q->corrupt = (q->incompat & QCOW2_INCOMPAT_CORRUPT) != 0 && !checking;
    if (q->backing_name[0]) {
        rc = resolve_backing(q);
        if (rc == 0 && !(flags & RV_BLOCK_OPEN_NO_BACKING))
            rc = open_backing(q, opts, chain);
        if (rc < 0)
            goto fail;
    }
    if (writable && !checking) {
        rc = clear_autoclear(q);
        if (rc == 0 && (q->incompat & QCOW2_INCOMPAT_DIRTY)) {
            /* Refcounts may be stale (lazy refcounts): rebuild them before any allocation. */
            rv_warn("%s: image is dirty; repairing its refcounts", path);
            rc = qcow2_repair_dirty(q);
        }
        if (rc < 0)
            goto fail;
    }
    q->base.can_discard = true;
    rv_block_make_id(&q->base, q->file.fd);
    *out = &q->base;
    return 0;
fail:
    q->base.readonly = true; /* nothing to flush */
    qcow2_close(&q->base);
    return rc;
}
