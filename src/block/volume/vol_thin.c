/* Thin pools: the pool metadata (one table per thin volume: virtual chunk -> data chunk) kept in
 * the pool's metadata area in two slots, like the VG metadata: a commit writes the slot that is
 * not current in full (header with sequence number and CRCs, then the tables), syncs, and only
 * then is it current. Data chunks are allocated on write; a chunk is reused only when neither the
 * committed tables nor the ones in memory reference it, so a crash returns to the last commit
 * (made at every flush) with all its data intact.
 *
 * Slot header (little-endian): 0 "RVTHINMD", 8 version u32, 12 number of tables u32, 16 seq u64,
 * 24 payload length u64, 32 payload CRC-32, 36 CRC-32 of bytes [0, 36). Payload at 512: per table
 * thin id u32, chunks u32, then one u32 per chunk (0 unmapped, else data chunk + 1). */
#include "block/volume/vol_thin.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/error.h"

#define THIN_MAGIC "RVTHINMD"
#define THIN_VERSION 1u
#define THIN_HDR 512u
#define THIN_MAX_TABLES 4096u

void vol_thin_tables_free(struct vol_thin_table *t, uint32_t n)
{
    for (uint32_t i = 0; t && i < n; i++)
        free(t[i].map);
    free(t);
}

int vol_thin_decode(const uint8_t *buf, size_t len, uint32_t data_chunks,
                    struct vol_thin_table **tables, uint32_t *ntables, uint64_t *seq)
{
    *tables = NULL;
    *ntables = 0;
    if (len < THIN_HDR)
        return rv_error_set(-EINVAL, "thin pool metadata: slot too short");
    if (memcmp(buf, THIN_MAGIC, 8) != 0)
        return rv_error_set(-ENOENT, "thin pool metadata: no valid slot (bad magic)");
    if (rv_get_le32(buf + 36) != rv_crc32(buf, 36))
        return rv_error_set(-EILSEQ, "thin pool metadata: header checksum mismatch");
    uint32_t n = rv_get_le32(buf + 12);
    uint64_t plen = rv_get_le64(buf + 24);
    *seq = rv_get_le64(buf + 16);
    if (rv_get_le32(buf + 8) != THIN_VERSION)
        return rv_error_set(-ENOTSUP, "thin pool metadata: unsupported version");
    if (n > THIN_MAX_TABLES || plen > len - THIN_HDR || *seq == 0)
        return rv_error_set(-EINVAL, "thin pool metadata: bad table count or length");
    if (rv_crc32(buf + THIN_HDR, plen) != rv_get_le32(buf + 32))
        return rv_error_set(-EILSEQ, "thin pool metadata: checksum mismatch (torn or corrupted)");
    struct vol_thin_table *t = calloc(n ? n : 1, sizeof(*t));
    if (!t)
        return rv_error_set(-ENOMEM, "out of memory");
    const uint8_t *p = buf + THIN_HDR, *end = p + plen;
    int rc = 0;
    for (uint32_t i = 0; i < n && !rc; i++) {
        if (end - p < 8) {
            rc = rv_error_set(-EINVAL, "thin pool metadata: table %" PRIu32 " truncated", i);
            break;
        }
        t[i].thin_id = rv_get_le32(p);
        t[i].nchunks = rv_get_le32(p + 4);
        p += 8;
        if ((uint64_t)(end - p) / 4 < t[i].nchunks) {
            rc = rv_error_set(-EINVAL, "thin pool metadata: table %" PRIu32 " truncated", i);
            break;
        }
        if (!(t[i].map = calloc(t[i].nchunks ? t[i].nchunks : 1, 4))) {
            rc = rv_error_set(-ENOMEM, "out of memory");
            break;
        }
        for (uint32_t c = 0; c < t[i].nchunks; c++, p += 4) {
            t[i].map[c] = rv_get_le32(p);
            if (t[i].map[c] > data_chunks) {
                rc = rv_error_set(-EINVAL, "thin pool metadata: table %" PRIu32 " maps chunk %"
                                  PRIu32 " outside the pool", i, c);
                break;
            }
        }
        for (uint32_t k = 0; k < i && !rc; k++)
            if (t[k].thin_id == t[i].thin_id)
                rc = rv_error_set(-EINVAL, "thin pool metadata: thin id %" PRIu32 " twice",
                                  t[i].thin_id);
    }
    if (!rc && p != end)
        rc = rv_error_set(-EINVAL, "thin pool metadata: trailing bytes");
    if (rc) {
        vol_thin_tables_free(t, n);
        return rc;
    }
    *tables = t;
    *ntables = n;
    return 0;
}

/* Reads or writes bytes of the pool's metadata area (area 1). */
static int meta_io(struct vol_thin_pool *tp, bool write, uint64_t off, void *buf, uint64_t len)
{
    while (len > 0) {
        uint32_t pv;
        uint64_t po, avail;
        int rc = vol_area_map(tp->vg, &tp->lv->areas[1], off, &pv, &po, &avail);
        if (rc)
            return rc;
        uint64_t n = len < avail ? len : avail;
        int fd = tp->vg->pvs[pv].fd;
        if (fd < 0)
            return rv_error_set(-ENODEV, "thin pool %s: metadata PV missing", tp->lv->name);
        ssize_t done = write ? pwrite(fd, buf, n, (off_t)po) : pread(fd, buf, n, (off_t)po);
        if (done <= 0)
            return rv_error_set(done < 0 ? -errno : -EIO, "thin pool %s: metadata %s failed",
                                tp->lv->name, write ? "write" : "read");
        off += (uint64_t)done;
        buf = (uint8_t *)buf + done;
        len -= (uint64_t)done;
    }
    return 0;
}

void vol_thin_count_refs(struct vol_thin_pool *tp)
{
    memset(tp->refs, 0, sizeof(*tp->refs) * tp->data_chunks);
    for (uint32_t i = 0; i < tp->ntables; i++)
        for (uint32_t c = 0; c < tp->tables[i].nchunks; c++)
            if (tp->tables[i].map[c])
                tp->refs[tp->tables[i].map[c] - 1]++;
}

static void pool_count_refs(struct vol_thin_pool *tp)
{
    vol_thin_count_refs(tp);
    for (uint32_t c = 0; c < tp->data_chunks; c++)
        tp->committed[c] = tp->refs[c] > 0;
}

int vol_thin_pool_load(struct vol_vg *vg, struct vol_lv *pool, struct vol_thin_pool **out)
{
    struct vol_thin_pool *tp = calloc(1, sizeof(*tp));
    if (!tp)
        return rv_error_set(-ENOMEM, "out of memory");
    tp->vg = vg;
    tp->lv = pool;
    tp->pool_id = pool->id;
    tp->chunk_size = pool->chunk_size;
    tp->data_chunks = (uint32_t)(pool->extents * (vg->extent_size / pool->chunk_size));
    tp->slot_size = pool->meta_extents * vg->extent_size / 2 / 512 * 512;
    tp->cur_slot = -1;
    tp->res_slot = -1;
    tp->refs = calloc(tp->data_chunks + 1, sizeof(*tp->refs));
    tp->committed = calloc(tp->data_chunks + 1, 1);
    uint8_t *buf = malloc(tp->slot_size);
    int rc = tp->refs && tp->committed && buf ? 0 : rv_error_set(-ENOMEM, "out of memory");
    char why[2][RV_ERROR_MAX / 2] = {"", ""};
    for (int s = 0; s < 2 && !rc; s++) {
        struct vol_thin_table *t;
        uint32_t n;
        uint64_t seq;
        if ((rc = meta_io(tp, false, (uint64_t)s * tp->slot_size, buf, tp->slot_size)))
            break;
        if (vol_thin_decode(buf, tp->slot_size, tp->data_chunks, &t, &n, &seq)) {
            snprintf(why[s], sizeof(why[s]), "%s", rv_error_get());
            continue;
        }
        if (seq > tp->seq) {
            vol_thin_tables_free(tp->tables, tp->ntables);
            tp->tables = t, tp->ntables = n, tp->seq = seq, tp->cur_slot = s;
        } else {
            vol_thin_tables_free(t, n);
        }
    }
    free(buf);
    if (!rc && tp->cur_slot < 0)
        rc = rv_error_set(-EILSEQ, "thin pool %s/%s: no valid metadata (slot 0: %s; slot 1: %s)",
                          vg->name, pool->name, why[0], why[1]);
    if (rc) {
        vol_thin_pool_free(tp);
        return rc;
    }
    pool_count_refs(tp);
    *out = tp;
    return 0;
}

void vol_thin_pool_free(struct vol_thin_pool *tp)
{
    if (!tp)
        return;
    vol_thin_tables_free(tp->tables, tp->ntables);
    free(tp->refs);
    free(tp->committed);
    free(tp->own);
    free(tp);
}

int vol_thin_pool_peek(struct vol_thin_pool *tp, uint64_t *seq)
{
    uint8_t h[THIN_HDR];
    *seq = 0;
    for (int s = 0; s < 2; s++) {
        int rc = meta_io(tp, false, (uint64_t)s * tp->slot_size, h, sizeof(h));
        if (rc)
            return rc;
        if (memcmp(h, THIN_MAGIC, 8) == 0 && rv_get_le32(h + 36) == rv_crc32(h, 36) &&
            rv_get_le64(h + 16) > *seq)
            *seq = rv_get_le64(h + 16);
    }
    return 0;
}

int vol_thin_pool_save(struct vol_thin_pool *tp)
{
    return tp->shared ? vol_thin_share_commit(tp) : vol_thin_pool_commit(tp);
}

int vol_thin_pool_commit(struct vol_thin_pool *tp)
{
    uint64_t plen = 0;
    for (uint32_t i = 0; i < tp->ntables; i++)
        plen += 8 + 4ull * tp->tables[i].nchunks;
    if (plen > tp->slot_size - THIN_HDR)
        return rv_error_set(-ENOSPC, "thin pool %s: metadata area full (%" PRIu64 " bytes of "
                            "tables, %" PRIu64 " per slot): create it with a larger "
                            "--metadata-size", tp->lv->name, plen, tp->slot_size - THIN_HDR);
    uint8_t *buf = calloc(1, THIN_HDR + plen);
    if (!buf)
        return rv_error_set(-ENOMEM, "out of memory");
    uint8_t *p = buf + THIN_HDR;
    for (uint32_t i = 0; i < tp->ntables; i++) {
        rv_put_le32(p, tp->tables[i].thin_id);
        rv_put_le32(p + 4, tp->tables[i].nchunks);
        p += 8;
        for (uint32_t c = 0; c < tp->tables[i].nchunks; c++, p += 4)
            rv_put_le32(p, tp->tables[i].map[c]);
    }
    memcpy(buf, THIN_MAGIC, 8);
    rv_put_le32(buf + 8, THIN_VERSION);
    rv_put_le32(buf + 12, tp->ntables);
    rv_put_le64(buf + 16, tp->seq + 1);
    rv_put_le64(buf + 24, plen);
    rv_put_le32(buf + 32, rv_crc32(buf + THIN_HDR, plen));
    rv_put_le32(buf + 36, rv_crc32(buf, 36));
    int slot = tp->cur_slot == 0 ? 1 : 0;
    int rc = meta_io(tp, true, (uint64_t)slot * tp->slot_size, buf, THIN_HDR + plen);
    free(buf);
    for (uint32_t i = 0; i < tp->vg->npvs && !rc; i++) /* data and tables both durable */
        if (tp->vg->pvs[i].fd >= 0 && fdatasync(tp->vg->pvs[i].fd) < 0)
            rc = rv_error_set(-errno, "%s: fdatasync failed", tp->vg->pvs[i].path);
    if (rc)
        return rc;
    tp->seq++;
    tp->cur_slot = slot;
    tp->dirty = false;
    for (uint32_t c = 0; c < tp->data_chunks; c++)
        tp->committed[c] = tp->refs[c] > 0;
    return 0;
}

struct vol_thin_table *vol_thin_table_find(struct vol_thin_pool *tp, uint32_t thin_id)
{
    for (uint32_t i = 0; i < tp->ntables; i++)
        if (tp->tables[i].thin_id == thin_id)
            return &tp->tables[i];
    return NULL;
}

int vol_thin_table_add(struct vol_thin_pool *tp, uint32_t thin_id, uint32_t nchunks,
                       const struct vol_thin_table *copy)
{
    if (tp->ntables >= THIN_MAX_TABLES)
        return rv_error_set(-ENOSPC, "thin pool %s: too many thin volumes", tp->lv->name);
    ptrdiff_t ci = copy ? copy - tp->tables : -1; /* `copy` may live in the array */
    struct vol_thin_table *t = realloc(tp->tables, sizeof(*t) * (tp->ntables + 1));
    if (!t)
        return rv_error_set(-ENOMEM, "out of memory");
    tp->tables = t;
    copy = ci >= 0 ? &tp->tables[ci] : NULL;
    t = &tp->tables[tp->ntables];
    t->thin_id = thin_id;
    t->nchunks = nchunks;
    if (!(t->map = calloc(nchunks ? nchunks : 1, 4)))
        return rv_error_set(-ENOMEM, "out of memory");
    for (uint32_t c = 0; copy && c < nchunks && c < copy->nchunks; c++) {
        t->map[c] = copy->map[c];
        if (t->map[c])
            tp->refs[t->map[c] - 1]++;
    }
    tp->ntables++;
    tp->dirty = true;
    return 0;
}

void vol_thin_table_remove(struct vol_thin_pool *tp, uint32_t thin_id)
{
    struct vol_thin_table *t = vol_thin_table_find(tp, thin_id);
    if (!t)
        return;
    for (uint32_t c = 0; c < t->nchunks; c++)
        if (t->map[c])
            tp->refs[t->map[c] - 1]--;
    free(t->map);
    *t = tp->tables[--tp->ntables];
    tp->dirty = true;
}

int vol_thin_table_resize(struct vol_thin_table *t, uint32_t nchunks)
{
    if (nchunks <= t->nchunks)
        return 0;
    uint32_t *m = realloc(t->map, 4ull * nchunks);
    if (!m)
        return rv_error_set(-ENOMEM, "out of memory");
    memset(m + t->nchunks, 0, 4ull * (nchunks - t->nchunks));
    t->map = m;
    t->nchunks = nchunks;
    return 0;
}

void vol_thin_table_truncate(struct vol_thin_pool *tp, struct vol_thin_table *t, uint32_t nchunks)
{
    for (uint32_t c = nchunks; c < t->nchunks; c++)
        if (t->map[c])
            tp->refs[t->map[c] - 1]--;
    if (nchunks < t->nchunks) {
        t->nchunks = nchunks;
        tp->dirty = true;
    }
}

/* A shared pool: the last chunk of this user's reservation (refilled when empty). */
static int alloc_reserved(struct vol_thin_pool *tp, uint32_t *chunk)
{
    struct vol_thin_table *r = vol_thin_table_find(tp, VOL_THIN_RES + (uint32_t)tp->res_slot);
    if (!r || r->nchunks == 0) {
        int rc = vol_thin_share_refill(tp);
        if (rc)
            return rc;
        r = vol_thin_table_find(tp, VOL_THIN_RES + (uint32_t)tp->res_slot);
    }
    if (!r || r->nchunks == 0)
        return rv_error_set(-EIO, "thin pool %s: reservation lost", tp->lv->name);
    *chunk = r->map[--r->nchunks] - 1; /* its reference moves to the caller's table */
    tp->dirty = true;
    return 0;
}

int vol_thin_alloc(struct vol_thin_pool *tp, uint32_t *chunk)
{
    if (tp->shared)
        return tp->res_slot < 0 ? rv_error_set(-EROFS, "thin pool %s: read-only user",
                                               tp->lv->name)
                                : alloc_reserved(tp, chunk);
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t k = 0; k < tp->data_chunks; k++) {
            uint32_t c = (tp->hint + k) % tp->data_chunks;
            if (tp->refs[c] == 0 && !tp->committed[c]) {
                tp->refs[c] = 1;
                tp->hint = c + 1;
                tp->dirty = true;
                *chunk = c;
                return 0;
            }
        }
        /* Chunks freed since the last commit become reusable once it is made. */
        if (pass == 0 && tp->dirty && vol_thin_pool_commit(tp))
            return -EIO;
    }
    return rv_error_set(-ENOSPC, "thin pool %s/%s is out of space (%" PRIu32 " chunks of %"
                        PRIu64 " KiB, all in use): extend the pool or free space", tp->vg->name,
                        tp->lv->name, tp->data_chunks, tp->chunk_size >> 10);
}

uint32_t vol_thin_used_chunks(const struct vol_thin_pool *tp)
{
    uint32_t n = 0;
    for (uint32_t c = 0; c < tp->data_chunks; c++)
        n += tp->refs[c] > 0;
    return n;
}

int vol_thin_pool_format(struct vol_vg *vg, struct vol_lv *pool)
{
    struct vol_thin_pool *tp;
    uint8_t zero[THIN_HDR] = {0};
    struct vol_thin_pool tmp = {.vg = vg, .lv = pool};
    tmp.slot_size = pool->meta_extents * vg->extent_size / 2 / 512 * 512;
    int rc = meta_io(&tmp, true, 0, zero, sizeof(zero));
    if (!rc)
        rc = meta_io(&tmp, true, tmp.slot_size, zero, sizeof(zero));
    if (rc)
        return rc;
    tp = calloc(1, sizeof(*tp));
    if (!tp)
        return rv_error_set(-ENOMEM, "out of memory");
    *tp = tmp;
    tp->cur_slot = -1;
    tp->res_slot = -1;
    tp->data_chunks = 0;
    rc = vol_thin_pool_commit(tp);
    vol_thin_pool_free(tp);
    return rc;
}
