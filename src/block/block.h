/* Block backends: what a virtual disk is stored in (DESIGN.md "block/"). The virtio-blk device
 * sees only this interface; raw files and qcow2 images (and, later, volumes) implement it.
 *
 * All offsets and lengths are in bytes. Calls may come from several threads but never at the
 * same time for one device (the disk's worker serializes them). Functions return 0 or a
 * negative errno with rv_error_set(). */
#ifndef RV_BLOCK_BLOCK_H
#define RV_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

enum rv_block_format { RV_BLOCK_AUTO, RV_BLOCK_RAW, RV_BLOCK_QCOW2 };
enum rv_block_cache { RV_CACHE_WRITEBACK, RV_CACHE_NONE, RV_CACHE_UNSAFE };

struct rv_block_opts {
    enum rv_block_format format; /* AUTO: qcow2 if the file starts with its magic, else raw */
    bool readonly;
    enum rv_block_cache cache;   /* writeback: page cache + flush on request; none: O_DIRECT
                                    where possible; unsafe: flush requests are ignored */
};

struct rv_block;

int rv_block_open(const char *path, const struct rv_block_opts *opts, struct rv_block **out);
void rv_block_close(struct rv_block *b);

uint64_t rv_block_size(const struct rv_block *b);   /* virtual size in bytes */
bool rv_block_readonly(const struct rv_block *b);
/* Discard/write-zeroes support, so the device can offer the matching features. */
bool rv_block_can_discard(const struct rv_block *b);

int rv_block_readv(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt);
int rv_block_writev(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt);
int rv_block_flush(struct rv_block *b);
int rv_block_discard(struct rv_block *b, uint64_t offset, uint64_t len);
/* Makes [offset, offset+len) read as zeros; may deallocate when `may_unmap`. */
int rv_block_write_zeroes(struct rv_block *b, uint64_t offset, uint64_t len, bool may_unmap);

/* A stable identifier for VIRTIO_BLK_T_GET_ID (up to 20 bytes, not NUL-terminated if 20). */
void rv_block_id(const struct rv_block *b, char id[20]);

#endif
