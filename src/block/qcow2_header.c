/* qcow2 header and header extensions (qcow2.txt "Header", "Header extensions", "Feature name
 * table"): everything is validated before use, since the file is untrusted. */
#include <errno.h>
#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"
#include "core/error.h"

#define KNOWN_INCOMPAT (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | \
                        QCOW2_INCOMPAT_DATA_FILE | QCOW2_INCOMPAT_COMPRESSION | \
                        QCOW2_INCOMPAT_EXTL2)

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return be32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return be64toh(v);
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

/* "name (bit n)" for each unknown incompatible bit, from the feature name table if any. */
static void describe_unknown(uint64_t bits, const uint8_t *table, uint32_t tlen, char *out,
                             size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned bit = 0; bit < 64; bit++) {
        if (!(bits & (1ull << bit)))
            continue;
        char name[47] = "";
        for (uint32_t i = 0; table && i + 48 <= tlen; i += 48) {
            if (table[i] == 0 && table[i + 1] == bit) {
                memcpy(name, table + i + 2, 46);
                name[46] = '\0';
                for (char *c = name; *c; c++)
                    if (*c < 0x20 || *c > 0x7e)
                        *c = '?';
                break;
            }
        }
        int n = snprintf(out + used, outlen - used, "%s%s%sbit %u%s", used ? ", " : "", name,
                         name[0] ? " (" : "", bit, name[0] ? ")" : "");
        if (n < 0 || (size_t)n >= outlen - used)
            break;
        used += (size_t)n;
    }
}

/* Walks the header extensions in [start, end) of the first cluster. */
static int parse_extensions(struct qcow2 *q, const uint8_t *h, uint64_t start, uint64_t end,
                            const uint8_t **ftable, uint32_t *ftable_len)
{
    const char *path = q->base.path;
    uint32_t seen = 0;
    for (uint64_t off = start; off + 8 <= end;) {
        uint32_t type = get32(h + off), len = get32(h + off + 4);
        if (type == QCOW2_EXT_END)
            break;
        if (len > end - off - 8)
            return rv_error_set(-EINVAL, "%s: header extension 0x%08x runs past the first "
                                "cluster", path, type);
        const uint8_t *data = h + off + 8;
        unsigned bit = type == QCOW2_EXT_BACKING_FORMAT ? 0 : type == QCOW2_EXT_FEATURE_TABLE ? 1
                     : type == QCOW2_EXT_BITMAPS ? 2 : type == QCOW2_EXT_DATA_FILE ? 3 : 31;
        if (bit < 31) {
            if (seen & (1u << bit))
                return rv_error_set(-EINVAL, "%s: duplicate header extension 0x%08x", path,
                                    type);
            seen |= 1u << bit;
        }
        switch (type) {
        case QCOW2_EXT_BACKING_FORMAT:
            if (len == 5 && memcmp(data, "qcow2", 5) == 0)
                q->backing_format = RV_BLOCK_QCOW2;
            else if (len == 3 && memcmp(data, "raw", 3) == 0)
                q->backing_format = RV_BLOCK_RAW;
            else
                q->backing_format = (enum rv_block_format)-1; /* refused when opened */
            break;
        case QCOW2_EXT_FEATURE_TABLE:
            *ftable = data;
            *ftable_len = len;
            break;
        case QCOW2_EXT_BITMAPS:
            if (len < 24)
                return rv_error_set(-EINVAL, "%s: bitmaps extension too short", path);
            q->has_bitmaps = true;
            q->nb_bitmaps = get32(data);
            q->bitmap_dir_size = get64(data + 8);
            q->bitmap_dir_offset = get64(data + 16);
            break;
        default: /* unknown extensions are skipped (qcow2.txt) */
            break;
        }
        off += 8 + (((uint64_t)len + 7) & ~7ull);
    }
    return 0;
}

static int check_features(struct qcow2 *q, const uint8_t *ftable, uint32_t ftable_len)
{
    const char *path = q->base.path;
    uint64_t unknown = q->incompat & ~KNOWN_INCOMPAT;
    if (unknown) {
        char names[256];
        describe_unknown(unknown, ftable, ftable_len, names, sizeof(names));
        return rv_error_set(-ENOTSUP, "%s: unsupported qcow2 incompatible features: %s", path,
                            names);
    }
    if (q->incompat & QCOW2_INCOMPAT_DATA_FILE)
        return rv_error_set(-ENOTSUP, "%s: external data files are not supported", path);
    if (q->incompat & QCOW2_INCOMPAT_EXTL2)
        return rv_error_set(-ENOTSUP, "%s: extended L2 entries (subclusters) are not "
                            "supported", path);
    if ((q->incompat & QCOW2_INCOMPAT_COMPRESSION) && q->compression_type == 0)
        return rv_error_set(-EINVAL, "%s: compression type bit set without a compression "
                            "type", path);
    if (q->compression_type != 0)
        return rv_error_set(-ENOTSUP, "%s: compression type %u (zstd) is not supported; "
                            "only zlib", path, q->compression_type);
    return 0;
}

/* The L1 and refcount tables: aligned, inside the file, clear of the header and each other. */
static int check_tables(struct qcow2 *q, uint64_t size)
{
    const char *path = q->base.path;
    uint64_t cs = q->cluster_size, fsize = q->file.size;
    uint64_t l2_span = cs << q->l2_bits; /* guest bytes per L2 table */
    uint64_t l1_needed = size / l2_span + (size % l2_span != 0);
    if (q->l1_size < l1_needed)
        return rv_error_set(-EINVAL, "%s: L1 table too small for the virtual size", path);
    if ((uint64_t)q->l1_size * 8 > QCOW2_MAX_L1_BYTES)
        return rv_error_set(-EFBIG, "%s: L1 table too large (%" PRIu32 " entries)", path,
                            q->l1_size);
    uint64_t l1_bytes = (uint64_t)q->l1_size * 8;
    if (l1_bytes && (qcow2_offset_in_cluster(q, q->l1_offset) || q->l1_offset < cs ||
                     q->l1_offset > fsize || l1_bytes > fsize - q->l1_offset))
        return rv_error_set(-EINVAL, "%s: invalid L1 table offset 0x%" PRIx64, path,
                            q->l1_offset);
    uint64_t rt_bytes = (uint64_t)q->reftable_clusters * cs;
    if (q->reftable_clusters == 0 || rt_bytes > QCOW2_MAX_REFTABLE_BYTES)
        return rv_error_set(-EINVAL, "%s: invalid refcount table size (%" PRIu32 " clusters)",
                            path, q->reftable_clusters);
    if (qcow2_offset_in_cluster(q, q->reftable_offset) || q->reftable_offset < cs ||
        q->reftable_offset > fsize || rt_bytes > fsize - q->reftable_offset)
        return rv_error_set(-EINVAL, "%s: invalid refcount table offset 0x%" PRIx64, path,
                            q->reftable_offset);
    if (ranges_overlap(q->l1_offset, l1_bytes, q->reftable_offset, rt_bytes))
        return rv_error_set(-EINVAL, "%s: the L1 table and the refcount table overlap", path);
    if (q->nb_snapshots > 65536 ||
        (q->nb_snapshots && (qcow2_offset_in_cluster(q, q->snapshots_offset) ||
                             q->snapshots_offset < cs || q->snapshots_offset >= fsize)))
        return rv_error_set(-EINVAL, "%s: invalid snapshot table", path);
    return 0;
}

int qcow2_read_header(struct qcow2 *q, bool writable)
{
    const char *path = q->base.path;
    uint64_t fsize = q->file.size;
    uint8_t *h = rv_file_alloc(1u << QCOW2_MAX_CLUSTER_BITS);
    if (!h)
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = 0;
    if (fsize < QCOW2_V2_HEADER_LEN) {
        rc = rv_error_set(-EINVAL, "%s: not a qcow2 image (too short)", path);
        goto out;
    }
    /* First the fixed header, then the whole first cluster once its size is known. */
    rc = rv_file_pread(&q->file, 0, h, QCOW2_V3_HEADER_LEN + 8);
    if (rc < 0)
        goto out;
    if (get32(h) != QCOW2_MAGIC) {
        rc = rv_error_set(-EINVAL, "%s: not a qcow2 image (bad magic)", path);
        goto out;
    }
    q->version = get32(h + 4);
    if (q->version != 2 && q->version != 3) {
        rc = rv_error_set(-ENOTSUP, "%s: unsupported qcow2 version %" PRIu32, path, q->version);
        goto out;
    }
    uint64_t backing_off = get64(h + 8);
    uint32_t backing_len = get32(h + 16);
    q->cluster_bits = get32(h + 20);
    if (q->cluster_bits < QCOW2_MIN_CLUSTER_BITS || q->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        rc = rv_error_set(-EINVAL, "%s: unsupported cluster size (2^%u bytes; 512 B to 2 MiB "
                          "are supported)", path, q->cluster_bits);
        goto out;
    }
    q->cluster_size = 1ull << q->cluster_bits;
    q->l2_bits = q->cluster_bits - 3;
    uint64_t size = get64(h + 24);
    uint32_t crypt = get32(h + 32);
    q->l1_size = get32(h + 36);
    q->l1_offset = get64(h + 40);
    q->reftable_offset = get64(h + 48);
    q->reftable_clusters = get32(h + 56);
    q->nb_snapshots = get32(h + 60);
    q->snapshots_offset = get64(h + 64);
    if (q->version == 2) {
        q->refcount_order = 4;
        q->header_length = QCOW2_V2_HEADER_LEN;
    } else {
        q->incompat = get64(h + 72);
        q->compat = get64(h + 80);
        q->autoclear = get64(h + 88);
        q->refcount_order = get32(h + 96);
        q->header_length = get32(h + 100);
        if (q->header_length < QCOW2_V3_HEADER_LEN || q->header_length % 8 ||
            q->header_length > q->cluster_size || q->header_length > fsize) {
            rc = rv_error_set(-EINVAL, "%s: invalid header length %" PRIu32, path,
                              q->header_length);
            goto out;
        }
        if (q->header_length > QCOW2_V3_HEADER_LEN)
            q->compression_type = h[104];
    }
    if (crypt != 0) {
        rc = rv_error_set(-ENOTSUP, "%s: encrypted images are not supported", path);
        goto out;
    }
    if (q->refcount_order > 6) {
        rc = rv_error_set(-EINVAL, "%s: invalid refcount order %u (at most 6)", path,
                          q->refcount_order);
        goto out;
    }
    q->rb_bits = q->cluster_bits + 3 - q->refcount_order;
    q->refcount_max = q->refcount_order == 6 ? UINT64_MAX
                                             : (1ull << (1u << q->refcount_order)) - 1;
    if (size > (uint64_t)INT64_MAX / 2) {
        rc = rv_error_set(-EFBIG, "%s: virtual size too large", path);
        goto out;
    }
    q->base.size = size;
    q->csize_shift = 62 - (q->cluster_bits - 8);
    q->csize_mask = (1ull << (q->cluster_bits - 8)) - 1;
    q->coffset_mask = (1ull << q->csize_shift) - 1;
    rc = check_tables(q, size);
    if (rc < 0)
        goto out;

    uint64_t end = fsize < q->cluster_size ? fsize : q->cluster_size;
    rc = rv_file_pread(&q->file, 0, h, end);
    if (rc < 0)
        goto out;
    const uint8_t *ftable = NULL;
    uint32_t ftable_len = 0;
    rc = parse_extensions(q, h, q->header_length, end, &ftable, &ftable_len);
    if (rc == 0)
        rc = check_features(q, ftable, ftable_len);
    if (rc < 0)
        goto out;
    if (backing_off) {
        if (backing_len == 0 || backing_len > QCOW2_MAX_BACKING_NAME || backing_off > end ||
            backing_len > end - backing_off || memchr(h + backing_off, 0, backing_len)) {
            rc = rv_error_set(-EINVAL, "%s: invalid backing file name", path);
            goto out;
        }
        memcpy(q->backing_name, h + backing_off, backing_len);
        q->backing_name[backing_len] = '\0';
    }
    if (writable) {
        const char *why = NULL;
        if (q->incompat & QCOW2_INCOMPAT_CORRUPT)
            why = "it is marked corrupt (check it with `rvisor img check`, or open it "
                  "read-only)";
        else if (q->version == 2)
            why = "qcow2 version 2 images are read-only in rvisor (upgrade with `qemu-img amend "
                  "-o compat=1.1`)";
        else if (q->nb_snapshots)
            why = "it has internal snapshots, which rvisor does not write";
        else if (q->has_bitmaps)
            why = "it has persistent dirty bitmaps, which rvisor does not maintain";
        if (why)
            rc = rv_error_set(-EROFS, "%s: cannot open for writing: %s", path, why);
    }
out:
    free(h);
    return rc;
}
