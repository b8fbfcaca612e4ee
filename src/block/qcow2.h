/* qcow2 images (QEMU's docs/interop/qcow2.txt), internal to src/block/.
 *
 * Files: qcow2_open.c (header, extensions, open/close, backing chain), qcow2_cache.c (the L2
 * table and refcount block caches), qcow2_refcount.c (refcounts, cluster allocation, deferred
 * frees), qcow2_map.c (guest cluster -> host mapping, L2 allocation, metadata flush ordering),
 * qcow2_io.c (read, write, discard, write-zeroes, compressed clusters), qcow2_check.c (check
 * and repair), qcow2_create.c (new images).
 *
 * Crash safety: rvisor never uses lazy refcounts. Metadata reaches the file in this order:
 *   allocation:  refcount blocks -> (sync) -> data and new L2 tables -> (sync) -> L2 entries
 *                (written back from the L2 cache only after the refcount blocks and a sync)
 *                -> L1 entries (written through, after the new L2 table is on disk and synced)
 *   freeing:     L2 entry cleared -> L2 table written -> (sync) -> refcount decremented
 * so at every point each reference on disk points to a cluster whose refcount on disk already
 * counts it: a crash can leak clusters but never leaves a reference without a refcount. The
 * syncs are fdatasync() except under cache=unsafe, where only the order of the writes is kept
 * (enough for a killed process, not for a power failure). */
#ifndef RV_BLOCK_QCOW2_H
#define RV_BLOCK_QCOW2_H

#include <stdbool.h>
#include <stdint.h>

#include "block/block_int.h"
#include "block/file.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_V3_HEADER_LEN 104
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_MAX_L1_BYTES (32u << 20)        /* as QEMU */
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20)   /* as QEMU */
#define QCOW2_MAX_BACKING_NAME 1023

/* Header field offsets written in place (each group is one write, inside one sector). */
#define QCOW2_HDR_L1_SIZE 36        /* l1_size (4) + l1_table_offset (8) */
#define QCOW2_HDR_REFTABLE 48       /* refcount_table_offset (8) + refcount_table_clusters (4) */
#define QCOW2_HDR_INCOMPAT 72
#define QCOW2_HDR_AUTOCLEAR 88

#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_CRYPTO 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u

#define QCOW2_OFLAG_COPIED (1ull << 63)      /* L1/L2: refcount is exactly one */
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)  /* L2 */
#define QCOW2_OFLAG_ZERO 1ull                /* L2 standard descriptor: reads as zeros */
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull /* bits 9..55 */
#define QCOW2_L1_RESERVED 0x7f000000000001ffull /* bits 0..8, 56..62 */
#define QCOW2_L2_RESERVED 0x3f000000000001feull /* standard descriptor: bits 1..8, 56..61 */

enum qcow2_ctype {
    QCOW2_UNALLOCATED,   /* read from the backing file, or zeros */
    QCOW2_ZERO_PLAIN,    /* zero flag, no host cluster */
    QCOW2_ZERO_ALLOC,    /* zero flag, host cluster preallocated */
    QCOW2_NORMAL,        /* data in a host cluster */
    QCOW2_COMPRESSED,    /* deflate data at a byte offset */
};

struct qcow2_cache_entry {
    uint64_t offset;     /* host offset of the table; 0 = slot empty */
    uint8_t *data;       /* one cluster */
    uint64_t lru;
    bool dirty;
};

struct qcow2;

struct qcow2_cache {
    struct qcow2 *q;
    struct qcow2_cache_entry *e;
    int n;
    uint64_t tick;
    bool is_l2;          /* writing an L2 table first makes the refcounts durable */
};

/* A range whose refcounts drop once the references to it are durably gone. */
struct qcow2_free {
    uint64_t offset, len;
};

struct qcow2 {
    struct rv_block base;
    struct rv_file file;
    struct rv_block *backing;    /* NULL: unallocated clusters read as zeros */
    uint64_t backing_size;

    uint32_t version;
    uint32_t header_length;
    unsigned cluster_bits;
    uint64_t cluster_size;
    unsigned l2_bits;            /* log2 of entries per L2 table */
    unsigned refcount_order;
    unsigned rb_bits;            /* log2 of entries per refcount block */
    uint64_t refcount_max;
    uint64_t incompat, compat, autoclear;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint32_t compression_type;
    bool has_bitmaps;            /* persistent dirty bitmaps (header extension) */
    uint32_t nb_bitmaps;
    uint64_t bitmap_dir_offset, bitmap_dir_size;

    /* Compressed cluster descriptors (qcow2.txt "Compressed Clusters Descriptor"). */
    unsigned csize_shift;
    uint64_t csize_mask, coffset_mask;

    uint64_t *l1;                /* host byte order */
    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t *reftable;          /* host byte order, reftable_entries entries */
    uint64_t reftable_entries;
    uint64_t reftable_used;      /* one past the last nonzero entry */
    uint64_t reftable_offset;
    uint32_t reftable_clusters;

    struct qcow2_cache l2_cache;
    struct qcow2_cache rb_cache;

    uint64_t free_hint;          /* first cluster that may be free */
    uint64_t alloc_end;          /* one past the highest cluster allocated in this session */
    bool need_sync;              /* data or refcount blocks written since the last sync */
    bool corrupt;                /* corruption seen: no more writes */

    struct qcow2_free *frees;    /* deferred frees */
    size_t nfrees, frees_cap;

    /* When repairing: the references counted by check; clusters referenced there are never
     * handed out by the allocator. */
    uint16_t *repair_refs;
    uint64_t repair_n;

    uint8_t *cow_buf;            /* one cluster: copy-on-write source */
    uint8_t *zero_buf;           /* one cluster of zeros */
    uint8_t *zin;                /* compressed input (two clusters + a sector) */
    uint8_t *zout;               /* last decompressed cluster */
    uint64_t zout_entry;         /* its L2 entry, 0 = none */
    struct iovec *iov_tmp;       /* scratch iovec array */
    int iov_tmp_n;

    char backing_name[QCOW2_MAX_BACKING_NAME + 1];
    char backing_path[4096];
    enum rv_block_format backing_format;
};

static inline uint64_t qcow2_offset_in_cluster(const struct qcow2 *q, uint64_t off)
{
    return off & (q->cluster_size - 1);
}

static inline uint64_t qcow2_size_to_clusters(const struct qcow2 *q, uint64_t size)
{
    return (size >> q->cluster_bits) + ((size & (q->cluster_size - 1)) != 0);
}

/* qcow2_open.c */
/* Marks the image corrupt (in the header too, when writable) and returns -EIO. */
int qcow2_signal_corruption(struct qcow2 *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int qcow2_write_incompat(struct qcow2 *q, uint64_t incompat);
/* True if [offset, offset+len) overlaps the header, L1 table, refcount table, or a cached
 * L2 table or refcount block. */
bool qcow2_overlaps_metadata(struct qcow2 *q, uint64_t offset, uint64_t len);

/* qcow2_cache.c */
int qcow2_cache_init(struct qcow2_cache *c, struct qcow2 *q, int n, bool is_l2);
void qcow2_cache_free(struct qcow2_cache *c);
/* The table at `offset`, read from the file if not cached. The pointer stays valid until the
 * next call on the same cache. */
int qcow2_cache_get(struct qcow2_cache *c, uint64_t offset, uint8_t **data);
/* A table that is new: zero-filled and dirty, not read. */
int qcow2_cache_get_empty(struct qcow2_cache *c, uint64_t offset, uint8_t **data);
void qcow2_cache_mark_dirty(struct qcow2_cache *c, uint64_t offset);
int qcow2_cache_flush(struct qcow2_cache *c);
bool qcow2_cache_overlaps(const struct qcow2_cache *c, uint64_t offset, uint64_t len);
/* Forgets a table without writing it (used before its cluster is reused). */
void qcow2_cache_discard(struct qcow2_cache *c, uint64_t offset);

/* qcow2_refcount.c */
int qcow2_refcount_get(struct qcow2 *q, uint64_t cluster, uint64_t *refcount);
/* Allocates up to `max` contiguous clusters (at least one) with refcount 1, first fit:
 * returns the host offset of the first and how many in *count. */
int qcow2_alloc_clusters(struct qcow2 *q, uint64_t max, uint64_t *offset, uint64_t *count);
/* Adds `delta` to the refcount of every cluster touched by [offset, offset+len). */
int qcow2_refcount_update(struct qcow2 *q, uint64_t offset, uint64_t len, int64_t delta);
/* Sets the refcount of one cluster (check/repair). */
int qcow2_refcount_set(struct qcow2 *q, uint64_t cluster, uint64_t value);
/* Queues a decrement for when the references to the range are durably gone. */
int qcow2_free_deferred(struct qcow2 *q, uint64_t offset, uint64_t len);
/* Applies the queued frees (the caller has made the L2 tables durable). */
int qcow2_apply_frees(struct qcow2 *q);

/* qcow2_map.c */
/* The L2 entry of guest cluster `vcl` (0 if its L2 table is unallocated). */
int qcow2_get_l2_entry(struct qcow2 *q, uint64_t vcl, uint64_t *entry);
/* Sets the L2 entry of guest cluster `vcl`, allocating the L2 table if needed. */
int qcow2_set_l2_entry(struct qcow2 *q, uint64_t vcl, uint64_t entry);
/* Classifies an L2 entry, validating it (a bad entry marks the image corrupt). */
int qcow2_classify(struct qcow2 *q, uint64_t entry, enum qcow2_ctype *type, uint64_t *host);
/* For compressed entries: where the deflate data is and how long it may be. */
void qcow2_compressed_range(const struct qcow2 *q, uint64_t entry, uint64_t *offset,
                            uint64_t *len);
/* Writes every dirty table in the safe order and applies deferred frees. */
int qcow2_flush_metadata(struct qcow2 *q);
/* Makes refcount blocks and data durable before an L2 table or L1 entry goes to disk. */
int qcow2_barrier_before_reference(struct qcow2 *q);

/* qcow2_header.c */
/* Reads and validates the header and its extensions into `q` (file already open). */
int qcow2_read_header(struct qcow2 *q, bool writable);

/* qcow2_io.c */
int qcow2_readv(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt,
                uint64_t len);
int qcow2_writev(struct rv_block *b, uint64_t offset, const struct iovec *iov, int iovcnt,
                 uint64_t len);
int qcow2_discard(struct rv_block *b, uint64_t offset, uint64_t len);
int qcow2_write_zeroes(struct rv_block *b, uint64_t offset, uint64_t len, bool may_unmap);
int qcow2_flush(struct rv_block *b);

/* qcow2_check.c */
int qcow2_check(struct rv_block *b, const struct rv_block_check_opts *opts,
                struct rv_block_check_result *res);
/* Rebuilds the refcounts of a dirty image (lazy refcounts) before it is written to. */
int qcow2_repair_dirty(struct qcow2 *q);

#endif
