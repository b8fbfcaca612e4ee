/* Thin pools and thin volumes (vol_thin.c: pool metadata and allocation; vol_thin_io.c: I/O;
 * vol_thin_ops.c: creating pools, thin volumes and snapshots, merging). */
#ifndef RV_BLOCK_VOLUME_VOL_THIN_H
#define RV_BLOCK_VOLUME_VOL_THIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block/volume/vol.h"

struct vol_thin_table {
    uint32_t thin_id;
    uint32_t nchunks;       /* virtual chunks */
    uint32_t *map;          /* 0 unmapped, else data chunk + 1 */
};

struct vol_thin_pool {
    struct vol_vg *vg;      /* not owned; its PV fds do the I/O */
    struct vol_lv *lv;      /* the pool LV in vg */
    uint32_t pool_id;
    uint64_t chunk_size;
    uint32_t data_chunks;
    uint64_t slot_size;
    int cur_slot;
    uint64_t seq;
    struct vol_thin_table *tables;
    uint32_t ntables;
    uint32_t *refs;         /* references per data chunk in the tables in memory */
    uint8_t *committed;     /* referenced by the committed tables: not reusable before a commit */
    uint32_t hint;          /* next allocation search start */
    bool dirty;             /* tables differ from the committed ones */
    /* Shared use (vol_thin_share.c): several users of one pool at once, in any processes. */
    bool shared;            /* commits lock the pool, merge what others committed, commit */
    uint32_t *own;          /* thin ids of the tables this user writes (the others are read) */
    uint32_t nown;
    int res_slot;           /* its chunk reservation: table VOL_THIN_RES + slot; -1 none */
    bool res_on_disk;       /* the reservation was committed */
    bool res_drop;          /* closing: the next commit drops the reservation table */
};

/* Table ids from VOL_THIN_RES up are chunk reservations of the pool's users, one per user slot
 * (vol_thin_share.c); thin volumes have smaller ids. */
#define VOL_THIN_RES 0xFFFFFF00u
#define VOL_THIN_RES_SLOTS 64u

/* Parses one metadata slot (untrusted). */
int vol_thin_decode(const uint8_t *buf, size_t len, uint32_t data_chunks,
                    struct vol_thin_table **tables, uint32_t *ntables, uint64_t *seq);
void vol_thin_tables_free(struct vol_thin_table *t, uint32_t n);
/* Reads the newest valid slot of `pool` (whose VG has its PVs open). */
int vol_thin_pool_load(struct vol_vg *vg, struct vol_lv *pool, struct vol_thin_pool **out);
void vol_thin_pool_free(struct vol_thin_pool *tp);
/* Writes the tables to the non-current slot after syncing the data; then it is current. */
int vol_thin_pool_commit(struct vol_thin_pool *tp);
/* Writes the first, empty version of a new pool's metadata. */
int vol_thin_pool_format(struct vol_vg *vg, struct vol_lv *pool);
struct vol_thin_table *vol_thin_table_find(struct vol_thin_pool *tp, uint32_t thin_id);
/* A new table, empty or sharing every chunk of `copy` (a snapshot). */
int vol_thin_table_add(struct vol_thin_pool *tp, uint32_t thin_id, uint32_t nchunks,
                       const struct vol_thin_table *copy);
void vol_thin_table_remove(struct vol_thin_pool *tp, uint32_t thin_id);
int vol_thin_table_resize(struct vol_thin_table *t, uint32_t nchunks);
/* Drops the chunks of `t` from `nchunks` on (their references go). */
void vol_thin_table_truncate(struct vol_thin_pool *tp, struct vol_thin_table *t, uint32_t nchunks);
/* A data chunk nobody references, committed or not (commits first if that frees one); a shared
 * pool takes it from this user's reservation. */
int vol_thin_alloc(struct vol_thin_pool *tp, uint32_t *chunk);
/* The newest sequence number in the pool's slot headers (payloads unchecked). */
int vol_thin_pool_peek(struct vol_thin_pool *tp, uint64_t *seq);
/* Recounts tp->refs from the tables in memory. */
void vol_thin_count_refs(struct vol_thin_pool *tp);
/* Commits the tables: vol_thin_pool_commit, or vol_thin_share_commit for a shared pool. */
int vol_thin_pool_save(struct vol_thin_pool *tp);

/* --- several users of one pool (vol_thin_share.c) ---
 * Each user keeps the tables it writes (`own`) in memory and commits them under the pool lock
 * (an OFD lock on the PV of the pool's metadata), after re-reading what the others committed:
 * its own tables from memory, every other table from the disk. Chunks are allocated from a
 * per-user reservation committed in the pool metadata (a table of reserved chunks), so that no
 * two users ever write the same free chunk; a crashed user's reservation is reclaimed by the
 * next user that finds its slot lock free. */
/* Makes `tp` shared, writing the tables `own` (and, for a writer, taking a reservation slot). */
int vol_thin_share_begin(struct vol_thin_pool *tp, const uint32_t *own, uint32_t nown,
                         bool writer);
/* Returns the reservation and commits (a writer), releases the slot. */
int vol_thin_share_end(struct vol_thin_pool *tp);
int vol_thin_share_commit(struct vol_thin_pool *tp);
/* Refills this user's reservation (lock, merge, reserve free chunks, commit). */
int vol_thin_share_refill(struct vol_thin_pool *tp);
/* The pool lock, held by pool operations until the VG is closed (wait: blocks). */
int vol_thin_pool_lock(struct vol_vg *vg, struct vol_lv *pool, short type);
/* Is the user of reservation table `id` still there (its slot lock held)? */
bool vol_thin_res_alive(struct vol_vg *vg, struct vol_lv *pool, uint32_t id);
uint32_t vol_thin_used_chunks(const struct vol_thin_pool *tp);

/* --- I/O of one thin volume (vol_thin_io.c) --- */
struct rv_file;
struct vol_thin_dev {
    struct vol_thin_pool *pool;
    uint32_t thin_id;
    struct rv_file *files;  /* per PV of the VG */
    /* Reads `len` bytes of the external origin at `off` (zeros past its end); NULL if none. */
    int (*origin_read)(void *ctx, uint64_t off, void *buf, uint64_t len);
    void *origin_ctx;
};
int vol_thin_rw(struct vol_thin_dev *d, bool write, uint64_t off, const struct iovec *iov,
                int iovcnt, uint64_t len);
/* Makes the range read as zeros, unmapping whole chunks where no origin shows through. */
int vol_thin_zero(struct vol_thin_dev *d, uint64_t off, uint64_t len);
int vol_thin_flush(struct vol_thin_dev *d);
/* A read of a classic snapshot opened read-only while another process may write its origin
 * (vol_thin_share.c): under the pool lock (shared), the snapshot's table is re-read when the
 * pool was committed since (*changed then), and the read goes through it. */
int vol_thin_follow_read(struct vol_thin_dev *d, uint64_t off, const struct iovec *iov,
                         int iovcnt, uint64_t len, bool *changed);

/* --- writing the origin of snapshots (vol_origin.c) --- */
struct vol_origin;
/* For a non-thin LV with snapshots, opened for writing: locks the snapshots (in use, shared:
 * read-only users of them may come and go, writers, merges and removals are kept out) and loads
 * their pools, shared. *out stays NULL when the LV has no snapshot. `files`: per PV of vg. */
int vol_origin_open(struct vol_vg *vg, struct vol_lv *lv, struct rv_file *files,
                    const char *what, struct vol_origin **out);
/* Before [off, off+len) of the origin is written (or zeroed): copies the old contents (`read`
 * reads the origin) of each chunk there into every valid snapshot that has no copy yet, and
 * commits the pools; a snapshot whose pool is full is made invalid instead. */
int vol_origin_before_write(struct vol_origin *o, uint64_t off, uint64_t len,
                            int (*read)(void *ctx, uint64_t off, void *buf, uint64_t len),
                            void *ctx);
/* The watcher swapped the VG. */
void vol_origin_reload(struct vol_origin *o, struct vol_vg *vg);
void vol_origin_close(struct vol_origin *o);
/* Is snapshot `lv_id` invalid in the newest VG metadata (reloaded if `vg` is not current)? */
bool vol_snapshot_invalid_now(struct vol_vg *vg, uint32_t lv_id);

/* --- operations (vol_thin_ops.c) --- */
int vol_thin_pool_create(const char *devices, const char *vg, const char *name, uint64_t size,
                         uint64_t chunk_size, uint64_t meta_size);
int vol_thin_create(const char *devices, const char *vg, const char *name, const char *pool,
                    uint64_t size);
/* A snapshot of `origin` named `name`: of a thin volume, in its pool (shares every chunk); of
 * any other LV, a thin volume in `pool` that reads the origin where it has not written (the
 * origin is frozen read-only while such snapshots exist). */
int vol_snapshot_create(const char *devices, const char *vg, const char *origin,
                        const char *name, const char *pool);
/* A snapshot of VG/ORIGIN named ORIGIN.snapN (the first free N, written to `name`), for a VM
 * snapshot (docs/state.md): in the origin's pool when thin, else a classic snapshot in the
 * VG's only thin pool (an error when it has none or several). The origin must be unused. */
int vol_snapshot_auto(const char *vg, const char *origin, char *name, size_t len);
/* Makes the origin hold what the snapshot holds, then removes the snapshot. */
int vol_snapshot_merge(const char *devices, const char *vg, const char *snapshot);
/* lv-resize --shrink of a thin volume (nobody using it) to `extents`: its chunks past the new
 * end go back to the pool. */
int vol_thin_shrink(struct vol_vg *vg, struct vol_lv *lv, uint64_t extents);
/* lv-remove of a thin volume: its chunks go back to the pool. */
int vol_thin_remove(struct vol_vg *vg, struct vol_lv *lv);
/* Pool usage for reports: used and total data chunks. */
int vol_thin_usage(struct vol_vg *vg, struct vol_lv *pool, uint32_t *used, uint32_t *total);

#endif
