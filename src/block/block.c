/* The public block API: opening with format probing, request validation (every request is
 * checked here once, so the backends can trust offsets and lengths), and the image-tool entry
 * points. */
#include "block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block_int.h"
#include "block/volume/vol_block.h"
#include "core/iov.h"
#include "core/error.h"
#include "core/fsjail.h"
#include "core/log.h"

/* More iovec entries than any virtqueue can hold. */
#define BLOCK_MAX_IOV 65536

const char *rv_block_format_name(enum rv_block_format format)
{
    switch (format) {
    case RV_BLOCK_RAW: return "raw";
    case RV_BLOCK_QCOW2: return "qcow2";
    default: return "auto";
    }
}

int rv_block_open_file(const char *path, bool writable, bool *direct,
                       struct rv_block_chain *chain)
{
    int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK;
    int fd = rv_fs_open(path, flags | (*direct ? O_DIRECT : 0), 0);
    if (fd < 0 && *direct && errno == EINVAL) {
        rv_warn("%s: the file system does not support O_DIRECT (cache=none); using the page "
                "cache", path);
        *direct = false;
        fd = rv_fs_open(path, flags, 0);
    }
    if (fd < 0)
        return rv_error_set(-errno, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return rv_error_set(-err, "%s: %s", path, strerror(err));
    }
    /* O_NONBLOCK only so that opening a FIFO cannot hang; refuse everything that is not a
     * regular file or a block device. */
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        close(fd);
        return rv_error_set(-EINVAL, "%s: not a regular file or block device", path);
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        int err = errno;
        close(fd);
        return rv_error_set(-err, "%s: %s", path, strerror(err));
    }
    if (chain) {
        for (int i = 0; i < chain->depth; i++) {
            if (chain->dev[i] == st.st_dev && chain->ino[i] == st.st_ino) {
                close(fd);
                return rv_error_set(-ELOOP, "%s: backing file loop (the file is already in the "
                                    "chain)", path);
            }
        }
        chain->dev[chain->depth] = st.st_dev;
        chain->ino[chain->depth] = st.st_ino;
    }
    return fd;
}

int rv_block_init_common(struct rv_block *b, const struct rv_block_driver *drv,
                         enum rv_block_format format, const char *path, bool readonly)
{
    b->drv = drv;
    b->format = format;
    b->readonly = readonly;
    b->path = strdup(path);
    if (!b->path)
        return rv_error_set(-ENOMEM, "out of memory");
    return 0;
}

void rv_block_free_common(struct rv_block *b)
{
    free(b->path);
    b->path = NULL;
}

void rv_block_make_id(struct rv_block *b, int fd)
{
    /* FNV-1a of the canonical path; of the device and inode if it has none. */
    uint64_t h = 0xcbf29ce484222325ull;
    char *real = rv_fs_realpath(b->path);
    if (real) {
        for (const unsigned char *p = (const unsigned char *)real; *p; p++)
            h = (h ^ *p) * 0x100000001b3ull;
        free(real);
    } else {
        struct stat st;
        if (fstat(fd, &st) == 0) {
            uint64_t v[2] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino};
            const unsigned char *p = (const unsigned char *)v;
            for (size_t i = 0; i < sizeof(v); i++)
                h = (h ^ p[i]) * 0x100000001b3ull;
        }
    }
    char buf[32];
    snprintf(buf, sizeof(buf), "rv-%016" PRIx64, h);
    memset(b->id, 0, sizeof(b->id));
    memcpy(b->id, buf, strlen(buf) < sizeof(b->id) ? strlen(buf) : sizeof(b->id));
}

/* qcow2 if the file starts with its magic, raw otherwise. */
static int block_probe(const char *path, enum rv_block_format *format)
{
    bool direct = false;
    int fd = rv_block_open_file(path, false, &direct, NULL);
    if (fd < 0)
        return fd;
    unsigned char magic[4] = {0};
    ssize_t n;
    do {
        n = pread(fd, magic, sizeof(magic), 0);
    } while (n < 0 && errno == EINTR);
    int err = errno;
    close(fd);
    if (n < 0)
        return rv_error_set(-err, "%s: %s", path, strerror(err));
    *format = (n == 4 && memcmp(magic, "QFI\xfb", 4) == 0) ? RV_BLOCK_QCOW2 : RV_BLOCK_RAW;
    return 0;
}

int rv_block_open_internal(const char *path, const struct rv_block_opts *opts, unsigned flags,
                           struct rv_block_chain *chain, struct rv_block **out)
{
    *out = NULL;
    if (!path || !*path)
        return rv_error_set(-EINVAL, "no image file name");
    if (strncmp(path, "vol:", 4) == 0)
        return rv_vol_block_open(path + 4, opts, out);
    enum rv_block_format format = opts->format;
    if (format == RV_BLOCK_AUTO) {
        int rc = block_probe(path, &format);
        if (rc < 0)
            return rc;
    }
    switch (format) {
    case RV_BLOCK_RAW: return rv_raw_open(path, opts, flags, chain, out);
    case RV_BLOCK_QCOW2: return rv_qcow2_open(path, opts, flags, chain, out);
    default: return rv_error_set(-EINVAL, "%s: unknown image format", path);
    }
}

int rv_block_open(const char *path, const struct rv_block_opts *opts, struct rv_block **out)
{
    struct rv_block_chain chain = {.depth = 0};
    struct rv_block_opts defaults = {.format = RV_BLOCK_AUTO};
    if (!out)
        return rv_error_set(-EINVAL, "rv_block_open: no result pointer");
    return rv_block_open_internal(path, opts ? opts : &defaults, 0, &chain, out);
}

void rv_block_close(struct rv_block *b)
{
    if (b) {
        rv_block_dirty_stop(b);
        b->drv->close(b);
    }
}

uint64_t rv_block_size(const struct rv_block *b)
{
    return __atomic_load_n(&b->size, __ATOMIC_ACQUIRE);
}

bool rv_block_readonly(const struct rv_block *b)
{
    return b->readonly;
}

bool rv_block_can_discard(const struct rv_block *b)
{
    return b->can_discard && !b->readonly;
}

static int block_check_range(const struct rv_block *b, uint64_t offset, uint64_t len)
{
    uint64_t size = __atomic_load_n(&b->size, __ATOMIC_ACQUIRE); /* grows online (volumes) */
    if (offset > size || len > size - offset)
        return rv_error_set(-EINVAL, "%s: request [%" PRIu64 ", +%" PRIu64 ") beyond the end "
                            "of the disk (%" PRIu64 " bytes)", b->path, offset, len, b->size);
    return 0;
}

static int block_check_iov(const struct rv_block *b, uint64_t offset, const struct iovec *iov,
                           int iovcnt, uint64_t *len)
{
    if (iovcnt < 0 || iovcnt > BLOCK_MAX_IOV || (iovcnt > 0 && !iov))
        return rv_error_set(-EINVAL, "%s: bad scatter/gather list", b->path);
    *len = rv_iov_size(iov, iovcnt);
    if (*len == UINT64_MAX)
        return rv_error_set(-EINVAL, "%s: scatter/gather list too long", b->path);
    return block_check_range(b, offset, *len);
}

int rv_block_readv(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    uint64_t len = 0;
    int rc = block_check_iov(b, offset, iov, iovcnt, &len);
    if (rc < 0 || len == 0)
        return rc;
    struct rv_block_tracker *t = rv_block_track_enter(b);
    rc = b->drv->readv(b, offset, iov, iovcnt, len);
    rv_block_track_leave(t, rc, offset, 0);
    return rc;
}

int rv_block_writev(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    if (b->readonly)
        return rv_error_set(-EROFS, "%s: the disk is read-only", b->path);
    uint64_t len = 0;
    int rc = block_check_iov(b, offset, iov, iovcnt, &len);
    if (rc < 0 || len == 0)
        return rc;
    struct rv_block_tracker *t = rv_block_track_enter(b);
    rc = b->drv->writev(b, offset, iov, iovcnt, len);
    rv_block_track_leave(t, rc, offset, len);
    return rc;
}

int rv_block_flush(struct rv_block *b)
{
    if (b->readonly)
        return 0;
    struct rv_block_tracker *t = rv_block_track_enter(b);
    int rc = b->drv->flush(b);
    rv_block_track_leave(t, rc, 0, 0);
    return rc;
}

int rv_block_discard(struct rv_block *b, uint64_t offset, uint64_t len)
{
    if (b->readonly)
        return rv_error_set(-EROFS, "%s: the disk is read-only", b->path);
    int rc = block_check_range(b, offset, len);
    if (rc < 0 || len == 0)
        return rc;
    if (!b->can_discard)
        return rv_error_set(-EOPNOTSUPP, "%s: discard is not supported", b->path);
    struct rv_block_tracker *t = rv_block_track_enter(b);
    rc = b->drv->discard(b, offset, len);
    rv_block_track_leave(t, rc, offset, len);
    return rc;
}

int rv_block_write_zeroes(struct rv_block *b, uint64_t offset, uint64_t len, bool may_unmap)
{
    if (b->readonly)
        return rv_error_set(-EROFS, "%s: the disk is read-only", b->path);
    int rc = block_check_range(b, offset, len);
    if (rc < 0 || len == 0)
        return rc;
    struct rv_block_tracker *t = rv_block_track_enter(b);
    rc = b->drv->write_zeroes(b, offset, len, may_unmap);
    rv_block_track_leave(t, rc, offset, len);
    return rc;
}

void rv_block_id(const struct rv_block *b, char id[20])
{
    memcpy(id, b->id, 20);
}

/* --- image tool --- */

int rv_block_create(const char *path, const struct rv_block_create_opts *opts)
{
    if (!path || !*path || !opts)
        return rv_error_set(-EINVAL, "no image file name");
    switch (opts->format) {
    case RV_BLOCK_RAW: return rv_raw_create(path, opts);
    case RV_BLOCK_AUTO:
    case RV_BLOCK_QCOW2: return rv_qcow2_create(path, opts);
    }
    return rv_error_set(-EINVAL, "%s: unknown image format", path);
}

int rv_block_info_get(const char *path, enum rv_block_format format, struct rv_block_info *info)
{
    struct rv_block_chain chain = {.depth = 0};
    struct rv_block_opts opts = {.format = format, .readonly = true};
    struct rv_block *b;
    memset(info, 0, sizeof(*info));
    int rc = rv_block_open_internal(path, &opts, RV_BLOCK_OPEN_NO_BACKING, &chain, &b);
    if (rc < 0)
        return rc;
    rc = b->drv->info(b, info);
    rv_block_close(b);
    return rc;
}

int rv_block_check(const char *path, const struct rv_block_check_opts *opts,
                   struct rv_block_check_result *res)
{
    struct rv_block_chain chain = {.depth = 0};
    struct rv_block_check_opts none = {.repair_leaks = false};
    if (!opts)
        opts = &none;
    bool repair = opts->repair_leaks || opts->repair_all;
    struct rv_block_opts bopts = {.format = RV_BLOCK_AUTO, .readonly = !repair};
    struct rv_block *b;
    memset(res, 0, sizeof(*res));
    int rc = rv_block_open_internal(path, &bopts, RV_BLOCK_OPEN_NO_BACKING | RV_BLOCK_OPEN_CHECK,
                                    &chain, &b);
    if (rc < 0)
        return rc;
    if (b->drv->check)
        rc = b->drv->check(b, opts, res);
    else
        rc = rv_error_set(-ENOTSUP, "%s: %s images have no metadata to check", path,
                          b->drv->name);
    rv_block_close(b);
    return rc;
}
