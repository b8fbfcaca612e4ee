/* Internal interface between the public block API (block.c) and the backends (raw.c, qcow2*.c).
 *
 * Every backend embeds `struct rv_block` as its first member and supplies a const driver table.
 * block.c validates all requests (bounds, overflow, read-only, iovec counts) before a driver
 * sees them, so drivers may assume offset + len <= size and a writable image for writes. */
#ifndef RV_BLOCK_BLOCK_INT_H
#define RV_BLOCK_BLOCK_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "block/block.h"

/* Longest backing chain (the image itself not counted) that rvisor follows. */
#define RV_BLOCK_MAX_CHAIN 16

struct rv_block_driver {
    const char *name;
    /* `len` is the total length of the iovec (already checked against the size). */
    int (*readv)(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt,
                 uint64_t len);
    int (*writev)(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt,
                  uint64_t len);
    int (*flush)(struct rv_block *b);
    int (*discard)(struct rv_block *b, uint64_t offset, uint64_t len);
    int (*write_zeroes)(struct rv_block *b, uint64_t offset, uint64_t len, bool may_unmap);
    int (*info)(struct rv_block *b, struct rv_block_info *info);
    int (*check)(struct rv_block *b, const struct rv_block_check_opts *opts,
                 struct rv_block_check_result *res);
    void (*close)(struct rv_block *b);
};

struct rv_block {
    const struct rv_block_driver *drv;
    enum rv_block_format format;
    uint64_t size;        /* virtual size in bytes */
    bool readonly;
    bool can_discard;
    char id[20];
    char *path;           /* as given to open (for messages) */
    void (*resize_fn)(void *ctx, uint64_t size); /* rv_block_set_resize_handler */
    void *resize_ctx;
    struct rv_block_tracker *tracker; /* dirty tracking (block_dirty.c), or NULL */
};

/* block_dirty.c: every request runs between these two when tracking is on (enter returns
 * NULL otherwise); leave marks [offset, offset+len) dirty when rc >= 0 and len != 0. */
struct rv_block_tracker *rv_block_track_enter(struct rv_block *b);
void rv_block_track_leave(struct rv_block_tracker *t, int rc, uint64_t offset, uint64_t len);

/* A backend reports a new size (already stored in b->size) to the handler, if any. */
void rv_block_notify_resize(struct rv_block *b, uint64_t size);

/* Identity of one image file, for backing-chain loop detection. */
struct rv_block_chain {
    dev_t dev[RV_BLOCK_MAX_CHAIN + 1];
    ino_t ino[RV_BLOCK_MAX_CHAIN + 1];
    int depth;            /* entries used; depth 0 = opening the top image */
};

/* Flags for the internal open. */
#define RV_BLOCK_OPEN_NO_BACKING 1u  /* do not open backing files (img info) */
#define RV_BLOCK_OPEN_CHECK      2u  /* open a qcow2 image for check/repair: dirty is fine */

/* Opens `path` as a layer of a chain (backing files are opened through here too). */
int rv_block_open_internal(const char *path, const struct rv_block_opts *opts, unsigned flags,
                           struct rv_block_chain *chain, struct rv_block **out);
/* Fills the common fields; `path` is copied. */
int rv_block_init_common(struct rv_block *b, const struct rv_block_driver *drv,
                         enum rv_block_format format, const char *path, bool readonly);
void rv_block_free_common(struct rv_block *b);
/* The id: a hash of the canonical path (stable across runs as long as the file stays put). */
void rv_block_make_id(struct rv_block *b, int fd);

/* Opens a file for an image layer: regular files and block devices only (no FIFOs, which
 * would block, nor character devices). Records the identity in `chain` and refuses loops.
 * Returns the fd or a negative errno. `direct` is in/out: O_DIRECT was asked/obtained. */
int rv_block_open_file(const char *path, bool writable, bool *direct,
                       struct rv_block_chain *chain);

int rv_raw_open(const char *path, const struct rv_block_opts *opts, unsigned flags,
                struct rv_block_chain *chain, struct rv_block **out);
int rv_qcow2_open(const char *path, const struct rv_block_opts *opts, unsigned flags,
                  struct rv_block_chain *chain, struct rv_block **out);
int rv_qcow2_create(const char *path, const struct rv_block_create_opts *opts);
int rv_raw_create(const char *path, const struct rv_block_create_opts *opts);

#endif
