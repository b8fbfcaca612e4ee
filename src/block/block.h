/* Block backends: what a virtual disk is stored in (DESIGN.md "block/"). The virtio-blk device
 * sees only this interface; raw files, qcow2 images and logical volumes ("vol:VG/LV",
 * src/block/volume/) implement it.
 *
 * All offsets and lengths are in bytes. Calls may come from several threads but never at the
 * same time for one device (the disk's worker serializes them). Functions return 0 or a
 * negative errno with rv_error_set(). */
#ifndef RV_BLOCK_BLOCK_H
#define RV_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum rv_block_format { RV_BLOCK_AUTO, RV_BLOCK_RAW, RV_BLOCK_QCOW2 };
enum rv_block_cache { RV_CACHE_WRITEBACK, RV_CACHE_NONE, RV_CACHE_UNSAFE };

struct rv_block_opts {
    enum rv_block_format format; /* AUTO: qcow2 if the file starts with its magic, else raw */
    bool readonly;
    enum rv_block_cache cache;   /* writeback: page cache + flush on request; none: O_DIRECT
                                    where possible; unsafe: flush requests are ignored */
    uint64_t iops, bps;          /* rate limits of the device in front (requests and bytes
                                    per second; 0: none); the backends ignore them */
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

/* Called from another thread when the disk's size changes underneath (a logical volume
 * resized online by `rvisor vol lv-resize`). Set it once, before requests start. */
void rv_block_set_resize_handler(struct rv_block *b, void (*fn)(void *ctx, uint64_t size),
                                 void *ctx);

/* Dirty-block tracking (block_dirty.c), for copying a disk while it is written: from
 * rv_block_dirty_start() on, requests may come from a second thread too (they are serialized)
 * and every chunk of RV_BLOCK_DIRTY_CHUNK bytes written, discarded or zeroed is marked.
 * Start and stop it while the disk's worker is paused. rv_block_dirty_take() ORs the marks
 * into `bits` (rv_block_dirty_words() words), clears them and returns the bits set in `bits`. */
#define RV_BLOCK_DIRTY_CHUNK (64u * 1024)
int rv_block_dirty_start(struct rv_block *b);
void rv_block_dirty_stop(struct rv_block *b);
size_t rv_block_dirty_words(const struct rv_block *b);
uint64_t rv_block_dirty_take(struct rv_block *b, uint64_t *bits);

/* A stable identifier for VIRTIO_BLK_T_GET_ID (up to 20 bytes, not NUL-terminated if 20). */
void rv_block_id(const struct rv_block *b, char id[20]);

/* --- Image tool support (`rvisor img`) --- */

struct rv_block_create_opts {
    enum rv_block_format format;          /* RAW or QCOW2 (AUTO means QCOW2) */
    uint64_t size;                        /* virtual size; 0 with a backing file: its size */
    uint32_t cluster_size;                /* qcow2: power of two, 512 B..2 MiB; 0 = 64 KiB */
    const char *backing_file;             /* qcow2 only, stored as given; a relative name is
                                             resolved against the image's directory */
    enum rv_block_format backing_format;  /* AUTO: probe the backing file and record it */
    bool exclusive;                       /* -EEXIST if `path` exists (O_EXCL): a name
                                             several processes may pick at once */
};
/* Creates (or truncates) `path` as an empty image. */
int rv_block_create(const char *path, const struct rv_block_create_opts *opts);

struct rv_block_info {
    enum rv_block_format format;
    uint64_t virtual_size;
    uint64_t file_size;                   /* length of the host file */
    uint64_t disk_size;                   /* bytes the host file system allocated for it */
    uint32_t cluster_size;                /* qcow2 only */
    uint32_t version;                     /* qcow2 only */
    unsigned refcount_bits;               /* qcow2 only */
    uint32_t snapshots;                   /* internal snapshots (qcow2) */
    bool dirty, corrupt, lazy_refcounts;  /* qcow2 header flags */
    char backing_file[1024];              /* as stored in the image; "" if none */
    char backing_path[4096];              /* resolved against the image's directory */
    enum rv_block_format backing_format;  /* AUTO if the image does not record it */
};
/* Reads the metadata of one image (backing files are not opened). */
int rv_block_info_get(const char *path, enum rv_block_format format, struct rv_block_info *info);

struct rv_block_check_opts {
    bool repair_leaks;                    /* drop refcounts of clusters nothing references */
    bool repair_all;                      /* also raise refcounts that are too low */
    /* Called once per problem found, with a one-line description; may be NULL. */
    void (*report)(void *ctx, const char *msg);
    void *ctx;
};
struct rv_block_check_result {
    uint64_t corruptions;                 /* found (before any repair) */
    uint64_t leaks;
    uint64_t corruptions_fixed;
    uint64_t leaks_fixed;
    uint64_t check_errors;                /* metadata that could not be read */
    uint64_t allocated_clusters;          /* guest clusters that have data in this image */
    uint64_t total_clusters;              /* guest clusters of the virtual disk */
    uint64_t image_end_offset;            /* end of the last cluster in use */
};
/* Verifies the refcounts of a qcow2 image against the references in it, like `qemu-img check`,
 * optionally repairing. Returns 0 when the check ran (see `res`), -ENOTSUP for formats
 * without metadata (raw), other negative errnos when the image could not be checked. */
int rv_block_check(const char *path, const struct rv_block_check_opts *opts,
                   struct rv_block_check_result *res);
/* "raw", "qcow2" or "auto". */
const char *rv_block_format_name(enum rv_block_format format);

#endif
