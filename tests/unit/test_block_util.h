/* Helpers shared by the block backend tests: temporary files, a deterministic PRNG, byte
 * patterns, and raw access to image files for patching metadata. */
#ifndef RV_TEST_BLOCK_UTIL_H
#define RV_TEST_BLOCK_UTIL_H

#include <endian.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "block/block.h"
#include "test.h" /* rng_next */
#include "core/error.h"

/* A fresh path under /tmp (the file exists, empty). */
static inline void tmp_path(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "/tmp/rvblk-%s-XXXXXX", tag);
    int fd = mkstemp(buf);
    if (fd >= 0)
        close(fd);
}

static inline void fill_random(uint64_t *s, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rng_next(s) >> 32);
}

static inline int blk_read(struct rv_block *b, uint64_t off, void *buf, size_t len)
{
    struct iovec v = {buf, len};
    return rv_block_readv(b, off, &v, 1);
}

/* Writes `buf` split into up to 4 iovec pieces at random points. */
static inline int blk_write_split(struct rv_block *b, uint64_t off, const void *buf, size_t len,
                                  uint64_t *rng)
{
    struct iovec v[4];
    size_t cuts[5] = {0, 0, 0, 0, len};
    int n = 1 + (int)rng_below(rng, 4);
    for (int i = 1; i < n; i++)
        cuts[i] = (size_t)rng_below(rng, len + 1);
    cuts[n] = len;
    /* sort the cut points */
    for (int i = 1; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (cuts[j] < cuts[i]) {
                size_t t = cuts[i];
                cuts[i] = cuts[j];
                cuts[j] = t;
            }
    for (int i = 0; i < n; i++) {
        v[i].iov_base = (char *)buf + cuts[i];
        v[i].iov_len = cuts[i + 1] - cuts[i];
    }
    return rv_block_writev(b, off, v, n);
}

static inline int blk_write(struct rv_block *b, uint64_t off, const void *buf, size_t len)
{
    struct iovec v = {(void *)buf, len};
    return rv_block_writev(b, off, &v, 1);
}

static inline int file_pread(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, buf, len, (off_t)off);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

static inline int file_pwrite(const char *path, uint64_t off, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = pwrite(fd, buf, len, (off_t)off);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

static inline uint64_t file_be64(const char *path, uint64_t off)
{
    uint64_t v = 0;
    file_pread(path, off, &v, 8);
    return be64toh(v);
}

static inline uint32_t file_be32(const char *path, uint64_t off)
{
    uint32_t v = 0;
    file_pread(path, off, &v, 4);
    return be32toh(v);
}

static inline void file_put_be64(const char *path, uint64_t off, uint64_t v)
{
    v = htobe64(v);
    file_pwrite(path, off, &v, 8);
}

static inline void file_put_be32(const char *path, uint64_t off, uint32_t v)
{
    v = htobe32(v);
    file_pwrite(path, off, &v, 4);
}

static inline uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static inline int create_qcow2(const char *path, uint64_t size, uint32_t cluster_size,
                               const char *backing, enum rv_block_format bfmt)
{
    struct rv_block_create_opts o = {
        .format = RV_BLOCK_QCOW2, .size = size, .cluster_size = cluster_size,
        .backing_file = backing, .backing_format = bfmt,
    };
    return rv_block_create(path, &o);
}

/* Runs rv_block_check() without repair; returns corruptions * 1000000 + leaks, or -1. */
static inline long check_image(const char *path)
{
    struct rv_block_check_result r;
    if (rv_block_check(path, NULL, &r) < 0)
        return -1;
    if (r.check_errors)
        return -2;
    return (long)(r.corruptions * 1000000 + r.leaks);
}

#endif
