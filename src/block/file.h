/* Host file access for the block backends: complete reads and writes (short transfers and
 * EINTR retried, reads past the end of the file return zeros), O_DIRECT with bounce buffers
 * for requests that are not aligned, and the cache mode's flush policy. */
#ifndef RV_BLOCK_FILE_H
#define RV_BLOCK_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct rv_file {
    int fd;
    bool direct;       /* opened with O_DIRECT: unaligned requests are bounced */
    bool unsafe;       /* cache=unsafe: rv_file_sync() does nothing */
    bool blkdev;       /* a block device: fixed size, never truncated */
    uint32_t align;    /* O_DIRECT alignment of offsets, lengths and memory */
    uint64_t size;     /* length of the file, kept up to date by writes */
    const char *path;  /* for messages (owned by the caller) */
};

/* Takes over `fd` (closed by rv_file_close) and reads its size. */
int rv_file_init(struct rv_file *f, int fd, bool direct, bool unsafe, const char *path);
void rv_file_close(struct rv_file *f);

int rv_file_preadv(struct rv_file *f, uint64_t offset, const struct iovec *iov, int iovcnt);
int rv_file_pwritev(struct rv_file *f, uint64_t offset, const struct iovec *iov, int iovcnt);
int rv_file_pread(struct rv_file *f, uint64_t offset, void *buf, size_t len);
int rv_file_pwrite(struct rv_file *f, uint64_t offset, const void *buf, size_t len);
/* Writes `len` zero bytes (no deallocation). */
int rv_file_write_zeros(struct rv_file *f, uint64_t offset, uint64_t len);
/* A write barrier / durability point: fdatasync() unless cache=unsafe. */
int rv_file_sync(struct rv_file *f);
/* fallocate() helpers: -EOPNOTSUPP when the file system cannot do it. */
int rv_file_punch_hole(struct rv_file *f, uint64_t offset, uint64_t len);
int rv_file_zero_range(struct rv_file *f, uint64_t offset, uint64_t len);
int rv_file_truncate(struct rv_file *f, uint64_t size);
/* Memory aligned for O_DIRECT (4 KiB), zero-filled; free() it. NULL on failure. */
void *rv_file_alloc(size_t len);

#endif
