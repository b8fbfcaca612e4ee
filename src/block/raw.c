/* Raw images: the virtual disk is the host file (or block device) byte for byte.
 * Flush is fdatasync (skipped under cache=unsafe); discard punches holes; write-zeroes uses
 * fallocate (ZERO_RANGE, or PUNCH_HOLE when the guest allows unmapping) and falls back to
 * writing zeros where the file system cannot. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block_int.h"
#include "block/file.h"
#include "core/error.h"
#include "core/fsjail.h"

struct raw_block {
    struct rv_block base;
    struct rv_file file;
    bool punch_ok;      /* cleared the first time the file system refuses PUNCH_HOLE */
    bool zero_range_ok; /* the same for ZERO_RANGE */
};

static struct raw_block *to_raw(struct rv_block *b)
{
    return (struct raw_block *)b;
}

static int raw_readv(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt,
                     uint64_t len)
{
    (void)len;
    return rv_file_preadv(&to_raw(b)->file, offset, iov, iovcnt);
}

static int raw_writev(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt,
                      uint64_t len)
{
    (void)len;
    return rv_file_pwritev(&to_raw(b)->file, offset, iov, iovcnt);
}

static int raw_flush(struct rv_block *b)
{
    return rv_file_sync(&to_raw(b)->file);
}

static int raw_discard(struct rv_block *b, uint64_t offset, uint64_t len)
{
    struct raw_block *r = to_raw(b);
    if (!r->punch_ok)
        return 0; /* discard is a hint: doing nothing is correct */
    int rc = rv_file_punch_hole(&r->file, offset, len);
    if (rc == -EOPNOTSUPP) {
        r->punch_ok = false;
        return 0;
    }
    return rc;
}

static int raw_write_zeroes(struct rv_block *b, uint64_t offset, uint64_t len, bool may_unmap)
{
    struct raw_block *r = to_raw(b);
    int rc = -EOPNOTSUPP;
    if (may_unmap && r->punch_ok) {
        rc = rv_file_punch_hole(&r->file, offset, len);
        if (rc == -EOPNOTSUPP)
            r->punch_ok = false;
    }
    if (rc == -EOPNOTSUPP && r->zero_range_ok) {
        rc = rv_file_zero_range(&r->file, offset, len);
        if (rc == -EOPNOTSUPP)
            r->zero_range_ok = false;
    }
    if (rc == -EOPNOTSUPP)
        rc = rv_file_write_zeros(&r->file, offset, len);
    return rc;
}

static int raw_info(struct rv_block *b, struct rv_block_info *info)
{
    struct raw_block *r = to_raw(b);
    struct stat st;
    info->format = RV_BLOCK_RAW;
    info->virtual_size = b->size;
    info->file_size = r->file.size;
    if (fstat(r->file.fd, &st) == 0)
        info->disk_size = (uint64_t)st.st_blocks * 512;
    return 0;
}

static void raw_close(struct rv_block *b)
{
    struct raw_block *r = to_raw(b);
    rv_file_close(&r->file);
    rv_block_free_common(b);
    free(r);
}

static const struct rv_block_driver raw_driver = {
    .name = "raw",
    .readv = raw_readv,
    .writev = raw_writev,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .info = raw_info,
    .check = NULL,
    .close = raw_close,
};

int rv_raw_open(const char *path, const struct rv_block_opts *opts, unsigned flags,
                struct rv_block_chain *chain, struct rv_block **out)
{
    (void)flags;
    struct raw_block *r = calloc(1, sizeof(*r));
    if (!r)
        return rv_error_set(-ENOMEM, "out of memory");
    r->file.fd = -1;
    int rc = rv_block_init_common(&r->base, &raw_driver, RV_BLOCK_RAW, path, opts->readonly);
    if (rc < 0)
        goto fail;
    bool direct = opts->cache == RV_CACHE_NONE;
    int fd = rv_block_open_file(path, !opts->readonly, &direct, chain);
    if (fd < 0) {
        rc = fd;
        goto fail;
    }
    rc = rv_file_init(&r->file, fd, direct, opts->cache == RV_CACHE_UNSAFE, r->base.path);
    if (rc < 0) {
        close(fd);
        goto fail;
    }
    r->base.size = r->file.size;
    r->base.can_discard = true;
    r->punch_ok = r->zero_range_ok = true;
    rv_block_make_id(&r->base, fd);
    *out = &r->base;
    return 0;
fail:
    raw_close(&r->base);
    return rc;
}

int rv_raw_create(const char *path, const struct rv_block_create_opts *opts)
{
    if (opts->backing_file && *opts->backing_file)
        return rv_error_set(-EINVAL, "%s: raw images cannot have a backing file", path);
    if (opts->size > (uint64_t)INT64_MAX)
        return rv_error_set(-EFBIG, "%s: size too large", path);
    int fd = rv_fs_open(path, O_WRONLY | O_CREAT | (opts->exclusive ? O_EXCL : O_TRUNC), 0644);
    if (fd < 0)
        return rv_error_set(-errno, "%s: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, (off_t)opts->size) < 0)
        rc = rv_error_set(-errno, "%s: %s", path, strerror(errno));
    if (close(fd) < 0 && rc == 0)
        rc = rv_error_set(-errno, "%s: %s", path, strerror(errno));
    return rc;
}
