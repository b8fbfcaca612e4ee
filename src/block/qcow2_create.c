/* New qcow2 images (version 3, 16-bit refcounts, zlib compression type, no lazy refcounts):
 *   cluster 0: header, backing format and feature name extensions, backing file name
 *   then: refcount table, refcount blocks, L1 table (all zeros: nothing allocated). */
#include <errno.h>
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "core/error.h"
#include "core/fsjail.h"

#define CREATE_HEADER_LEN 112   /* version 3 header with the compression type field */
#define CREATE_REFCOUNT_ORDER 4

static void put32(uint8_t *p, uint32_t v)
{
    v = htobe32(v);
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    v = htobe64(v);
    memcpy(p, &v, 8);
}

/* Appends a header extension at *off; false if it does not fit in `room`. */
static bool put_ext(uint8_t *h, size_t *off, size_t room, uint32_t type, const void *data,
                    uint32_t len)
{
    size_t padded = ((size_t)len + 7) & ~(size_t)7;
    if (*off + 8 + padded > room)
        return false;
    put32(h + *off, type);
    put32(h + *off + 4, len);
    memcpy(h + *off + 8, data, len);
    *off += 8 + padded;
    return true;
}

static const struct {
    uint8_t type, bit;
    const char *name;
} feature_names[] = {
    {0, 0, "dirty bit"}, {0, 1, "corrupt bit"}, {0, 2, "external data file"},
    {0, 3, "compression type"}, {0, 4, "extended L2 entries"}, {1, 0, "lazy refcounts"},
    {2, 0, "bitmaps"}, {2, 1, "raw external data"},
};

/* The backing file's virtual size and format, for `size` 0 and an unrecorded format. */
static int backing_probe(const char *path, const struct rv_block_create_opts *opts,
                         uint64_t *size, enum rv_block_format *format)
{
    char full[4096];
    const char *name = opts->backing_file;
    if (name[0] != '/' && strncmp(name, "vol:", 4) != 0) { /* vol:VG/LV is not a file */
        char *copy = strdup(path);
        if (!copy)
            return rv_error_set(-ENOMEM, "out of memory");
        int n = snprintf(full, sizeof(full), "%s/%s", dirname(copy), name);
        free(copy);
        if (n < 0 || (size_t)n >= sizeof(full))
            return rv_error_set(-ENAMETOOLONG, "%s: backing file path too long", path);
        name = full;
    }
    struct rv_block_info info;
    int rc = rv_block_info_get(name, opts->backing_format, &info);
    if (rc < 0)
        return rv_error_prefix(rc, "%s: backing file: ", path);
    *size = info.virtual_size;
    *format = info.format;
    return 0;
}

int rv_qcow2_create(const char *path, const struct rv_block_create_opts *opts)
{
    uint64_t cs = opts->cluster_size ? opts->cluster_size : 65536;
    if (cs < 512 || cs > (1u << QCOW2_MAX_CLUSTER_BITS) || (cs & (cs - 1)))
        return rv_error_set(-EINVAL, "%s: cluster size must be a power of two from 512 B to "
                            "2 MiB", path);
    unsigned cbits = (unsigned)__builtin_ctzll(cs);
    uint64_t size = opts->size;
    enum rv_block_format bfmt = opts->backing_format;
    const char *backing = opts->backing_file && *opts->backing_file ? opts->backing_file : NULL;
    if (backing) {
        if (strlen(backing) > QCOW2_MAX_BACKING_NAME)
            return rv_error_set(-ENAMETOOLONG, "%s: backing file name too long", path);
        uint64_t bsize;
        int rc = backing_probe(path, opts, &bsize, &bfmt);
        if (rc < 0)
            return rc;
        if (size == 0)
            size = bsize;
    }
    if (size > ((uint64_t)INT64_MAX / 2))
        return rv_error_set(-EFBIG, "%s: size too large", path);
    size = (size + 511) & ~511ull;
    uint64_t l2_span = cs << (cbits - 3);
    uint64_t l1_entries = size / l2_span + (size % l2_span != 0);
    if (l1_entries * 8 > QCOW2_MAX_L1_BYTES)
        return rv_error_set(-EFBIG, "%s: size too large for %" PRIu64 "-byte clusters", path, cs);
    uint64_t l1_clusters = (l1_entries * 8 + cs - 1) / cs;
    uint64_t per_block = cs * 8 / 16; /* 16-bit refcounts */
    uint64_t rt = 1, rb = 1, total = 0;
    for (int i = 0; i < 16; i++) {
        total = 1 + rt + rb + l1_clusters;
        rb = (total + per_block - 1) / per_block;
        rt = (rb * 8 + cs - 1) / cs;
    }
    total = 1 + rt + rb + l1_clusters;

    /* Cluster 0 */
    uint8_t *h = calloc(1, cs);
    uint8_t *buf = calloc(1, cs * (rt > rb ? rt : rb));
    if (!h || !buf) {
        free(h);
        free(buf);
        return rv_error_set(-ENOMEM, "out of memory");
    }
    put32(h, QCOW2_MAGIC);
    put32(h + 4, 3);
    put32(h + 20, cbits);
    put64(h + 24, size);
    put32(h + 36, (uint32_t)l1_entries);
    put64(h + 40, (1 + rt + rb) * cs);
    put64(h + 48, cs);
    put32(h + 56, (uint32_t)rt);
    put32(h + 96, CREATE_REFCOUNT_ORDER);
    put32(h + 100, CREATE_HEADER_LEN);
    size_t off = CREATE_HEADER_LEN;
    bool fits = true;
    if (backing) {
        const char *f = bfmt == RV_BLOCK_RAW ? "raw" : "qcow2";
        fits = put_ext(h, &off, cs, QCOW2_EXT_BACKING_FORMAT, f, (uint32_t)strlen(f));
    }
    uint8_t ft[sizeof(feature_names) / sizeof(feature_names[0]) * 48];
    memset(ft, 0, sizeof(ft));
    for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
        ft[i * 48] = feature_names[i].type;
        ft[i * 48 + 1] = feature_names[i].bit;
        memcpy(ft + i * 48 + 2, feature_names[i].name, strlen(feature_names[i].name));
    }
    /* The feature table is a courtesy: left out when the cluster is too small for it. */
    size_t before = off;
    if (!put_ext(h, &off, cs - 8 - (backing ? strlen(backing) : 0), QCOW2_EXT_FEATURE_TABLE,
                 ft, sizeof(ft)))
        off = before;
    off += 8; /* end of extensions (zeros) */
    if (backing) {
        size_t blen = strlen(backing);
        if (!fits || off + blen > cs) {
            free(h);
            free(buf);
            return rv_error_set(-ENAMETOOLONG, "%s: backing file name does not fit in the "
                                "header cluster", path);
        }
        memcpy(h + off, backing, blen);
        put64(h + 8, off);
        put32(h + 16, (uint32_t)blen);
    }

    int fd = rv_fs_open(path, O_RDWR | O_CREAT | (opts->exclusive ? O_EXCL : O_TRUNC), 0644);
    if (fd < 0) {
        int err = errno;
        free(h);
        free(buf);
        return rv_error_set(-err, "%s: %s", path, strerror(err));
    }
    struct rv_file file;
    int rc = rv_file_init(&file, fd, false, false, path);
    if (rc < 0)
        close(fd);
    if (rc == 0)
        rc = rv_file_truncate(&file, total * cs);
    if (rc == 0)
        rc = rv_file_pwrite(&file, 0, h, cs);
    /* Refcount table: the refcount blocks follow it. */
    memset(buf, 0, cs * (rt > rb ? rt : rb));
    for (uint64_t i = 0; i < rb; i++)
        put64(buf + i * 8, (1 + rt + i) * cs);
    if (rc == 0)
        rc = rv_file_pwrite(&file, cs, buf, rt * cs);
    /* Refcount blocks: every cluster written here has refcount 1. */
    memset(buf, 0, cs * (rt > rb ? rt : rb));
    for (uint64_t c = 0; c < total; c++) {
        uint16_t one = htobe16(1);
        memcpy(buf + c * 2, &one, 2);
    }
    if (rc == 0)
        rc = rv_file_pwrite(&file, (1 + rt) * cs, buf, rb * cs);
    if (rc == 0 && fsync(file.fd) < 0)
        rc = rv_error_set(-errno, "%s: fsync: %s", path, strerror(errno));
    if (file.fd >= 0)
        rv_file_close(&file);
    free(h);
    free(buf);
    return rc;
}
