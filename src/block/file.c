/* Host file I/O for the block backends (see file.h).
 *
 * O_DIRECT needs offsets, lengths and buffer addresses aligned to the device's logical block
 * size. rvisor assumes 4 KiB (correct for every common device and file system); requests that
 * are not aligned go through a bounce buffer, with read-modify-write of partial blocks at the
 * edges of a write. Calls for one file are serialized by the caller, so the read-modify-write
 * cannot race with another request of the same disk. */
#include "block/file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/iov.h"
#include "core/error.h"

#define DIRECT_ALIGN 4096u
#define BOUNCE_MAX (1u << 20)

void *rv_file_alloc(size_t len)
{
    void *p = NULL;
    if (posix_memalign(&p, DIRECT_ALIGN, len ? len : 1) != 0)
        return NULL;
    memset(p, 0, len);
    return p;
}

int rv_file_init(struct rv_file *f, int fd, bool direct, bool unsafe, const char *path)
{
    struct stat st;
    memset(f, 0, sizeof(*f));
    f->fd = -1;
    f->path = path;
    if (fstat(fd, &st) < 0)
        return rv_error_set(-errno, "%s: %s", path, strerror(errno));
    if (S_ISBLK(st.st_mode)) {
        uint64_t bytes = 0;
        if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
            return rv_error_set(-errno, "%s: BLKGETSIZE64: %s", path, strerror(errno));
        f->size = bytes;
        f->blkdev = true;
    } else {
        f->size = (uint64_t)st.st_size;
    }
    f->fd = fd;
    f->direct = direct;
    f->unsafe = unsafe;
    f->align = direct ? DIRECT_ALIGN : 1;
    return 0;
}

void rv_file_close(struct rv_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/* One complete transfer of a plain (aligned, or buffered-mode) request. Reads that hit the end
 * of the file fill the rest with zeros. */
static int file_rw_plain(struct rv_file *f, bool write, uint64_t offset, const struct iovec *iov,
                         int iovcnt)
{
    uint64_t total = rv_iov_size(iov, iovcnt), done = 0;
    struct iovec *scratch = NULL;
    int rc = 0;
    while (done < total) {
        const struct iovec *cur = iov;
        int cnt = iovcnt;
        if (done > 0 || iovcnt > IOV_MAX) {
            /* Partial transfer, or too many entries for one call: describe what is left. */
            if (!scratch && !(scratch = malloc(sizeof(*scratch) * (size_t)iovcnt))) {
                rc = rv_error_set(-ENOMEM, "%s: out of memory", f->path);
                break;
            }
            cnt = rv_iov_slice(iov, iovcnt, done, total - done, scratch, iovcnt);
            cur = scratch;
        }
        if (cnt > IOV_MAX)
            cnt = IOV_MAX;
        if (!write && done > 0 && offset + done >= f->size) {
            /* A short read that reached the end of the file (with O_DIRECT the next read would
             * not even be aligned). */
            rv_iov_memset(iov, iovcnt, done, 0, total - done);
            break;
        }
        if (offset + done > (uint64_t)INT64_MAX) {
            rc = rv_error_set(-EFBIG, "%s: offset out of range", f->path);
            break;
        }
        ssize_t n = write ? pwritev(f->fd, cur, cnt, (off_t)(offset + done))
                          : preadv(f->fd, cur, cnt, (off_t)(offset + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = rv_error_set(-errno, "%s: %s at offset %" PRIu64 ": %s", f->path,
                              write ? "write" : "read", offset + done, strerror(errno));
            break;
        }
        if (n == 0) {
            if (write) {
                rc = rv_error_set(-EIO, "%s: write made no progress", f->path);
                break;
            }
            rv_iov_memset(iov, iovcnt, done, 0, total - done); /* end of file */
            done = total;
            break;
        }
        done += (uint64_t)n;
    }
    free(scratch);
    if (rc == 0 && write && offset + total > f->size)
        f->size = offset + total;
    return rc;
}

static bool iov_aligned(const struct rv_file *f, uint64_t offset, const struct iovec *iov,
                        int iovcnt)
{
    if (offset % f->align)
        return false;
    for (int i = 0; i < iovcnt; i++)
        if ((uintptr_t)iov[i].iov_base % f->align || iov[i].iov_len % f->align)
            return false;
    return true;
}

/* O_DIRECT with an unaligned request: go through an aligned bounce buffer, chunk by chunk. */
static int file_rw_bounce(struct rv_file *f, bool write, uint64_t offset, const struct iovec *iov,
                          int iovcnt, uint64_t len)
{
    uint64_t a = f->align, end = offset + len;
    uint64_t astart = offset / a * a, aend = (end + a - 1) / a * a;
    uint64_t old_size = f->size;
    size_t bsize = aend - astart < BOUNCE_MAX ? (size_t)(aend - astart) : BOUNCE_MAX;
    char *bounce = rv_file_alloc(bsize);
    if (!bounce)
        return rv_error_set(-ENOMEM, "%s: out of memory", f->path);
    int rc = 0;
    for (uint64_t c0 = astart; c0 < aend && rc == 0; c0 += bsize) {
        uint64_t c1 = c0 + bsize < aend ? c0 + bsize : aend;
        uint64_t d0 = c0 > offset ? c0 : offset, d1 = c1 < end ? c1 : end;
        struct iovec biov = {bounce, c1 - c0};
        if (!write) {
            rc = file_rw_plain(f, false, c0, &biov, 1);
            if (rc == 0)
                rv_iov_from_buf(iov, iovcnt, d0 - offset, bounce + (d0 - c0), d1 - d0);
            continue;
        }
        /* Read-modify-write of the partial blocks at the edges. */
        if (d0 > c0) {
            struct iovec h = {bounce, a};
            rc = file_rw_plain(f, false, c0, &h, 1);
        }
        if (rc == 0 && d1 < c1 && (d0 == c0 || c1 - a > c0)) {
            struct iovec t = {bounce + (c1 - c0 - a), a};
            rc = file_rw_plain(f, false, c1 - a, &t, 1);
        }
        if (rc == 0) {
            rv_iov_to_buf(iov, iovcnt, d0 - offset, bounce + (d0 - c0), d1 - d0);
            rc = file_rw_plain(f, true, c0, &biov, 1);
        }
    }
    free(bounce);
    /* Writing whole blocks may have extended a file whose end is not aligned: cut it back. */
    if (rc == 0 && write && !f->blkdev) {
        uint64_t want = old_size > end ? old_size : end;
        if (f->size > want)
            rc = rv_file_truncate(f, want);
    }
    return rc;
}

static int file_rw(struct rv_file *f, bool write, uint64_t offset, const struct iovec *iov,
                   int iovcnt)
{
    uint64_t len = rv_iov_size(iov, iovcnt);
    if (len == UINT64_MAX || offset > (uint64_t)INT64_MAX - len)
        return rv_error_set(-EINVAL, "%s: request out of range", f->path);
    if (len == 0)
        return 0;
    if (f->direct && !iov_aligned(f, offset, iov, iovcnt))
        return file_rw_bounce(f, write, offset, iov, iovcnt, len);
    return file_rw_plain(f, write, offset, iov, iovcnt);
}

int rv_file_preadv(struct rv_file *f, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    return file_rw(f, false, offset, iov, iovcnt);
}

int rv_file_pwritev(struct rv_file *f, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    return file_rw(f, true, offset, iov, iovcnt);
}

int rv_file_pread(struct rv_file *f, uint64_t offset, void *buf, size_t len)
{
    struct iovec v = {buf, len};
    return file_rw(f, false, offset, &v, 1);
}

int rv_file_pwrite(struct rv_file *f, uint64_t offset, const void *buf, size_t len)
{
    struct iovec v = {(void *)buf, len};
    return file_rw(f, true, offset, &v, 1);
}

int rv_file_write_zeros(struct rv_file *f, uint64_t offset, uint64_t len)
{
    size_t chunk = len < BOUNCE_MAX ? (size_t)len : BOUNCE_MAX;
    char *zeros = rv_file_alloc(chunk);
    if (!zeros)
        return rv_error_set(-ENOMEM, "%s: out of memory", f->path);
    int rc = 0;
    while (len > 0 && rc == 0) {
        size_t n = len < chunk ? (size_t)len : chunk;
        rc = rv_file_pwrite(f, offset, zeros, n);
        offset += n;
        len -= n;
    }
    free(zeros);
    return rc;
}

int rv_file_sync(struct rv_file *f)
{
    if (f->unsafe)
        return 0;
    while (fdatasync(f->fd) < 0) {
        if (errno != EINTR)
            return rv_error_set(-errno, "%s: fdatasync: %s", f->path, strerror(errno));
    }
    return 0;
}

static int file_fallocate(struct rv_file *f, int mode, uint64_t offset, uint64_t len)
{
    if (offset > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - offset)
        return rv_error_set(-EINVAL, "%s: range out of bounds", f->path);
    while (fallocate(f->fd, mode, (off_t)offset, (off_t)len) < 0) {
        if (errno == EINTR)
            continue;
        if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL || errno == ENOTTY)
            return -EOPNOTSUPP;
        return rv_error_set(-errno, "%s: fallocate: %s", f->path, strerror(errno));
    }
    if (!(mode & FALLOC_FL_KEEP_SIZE) && offset + len > f->size)
        f->size = offset + len;
    return 0;
}

int rv_file_punch_hole(struct rv_file *f, uint64_t offset, uint64_t len)
{
    return file_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len);
}

int rv_file_zero_range(struct rv_file *f, uint64_t offset, uint64_t len)
{
    /* KEEP_SIZE: the caller decides the length of the file. */
    return file_fallocate(f, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, len);
}

int rv_file_truncate(struct rv_file *f, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX)
        return rv_error_set(-EFBIG, "%s: size out of range", f->path);
    while (ftruncate(f->fd, (off_t)size) < 0) {
        if (errno != EINTR)
            return rv_error_set(-errno, "%s: truncate: %s", f->path, strerror(errno));
    }
    f->size = size;
    return 0;
}
