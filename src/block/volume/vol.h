/* The volume manager (docs/volumes.md): physical volumes (PVs: files or block devices) pooled
 * into volume groups (VGs), cut into fixed-size extents and mapped into logical volumes (LVs).
 *
 * On-disk format of a PV (all integers little-endian):
 *   [0, 512)            label: magic, version, PV uuid, metadata area and data area offsets, CRC
 *   [mda_offset, +mda)  metadata area: two slots of mda_size/2 bytes; each holds a 512-byte
 *                       header (magic, sequence number, payload length, payload CRC, header CRC)
 *                       followed by the VG metadata as JSON text
 *   [pe_start, ...)     data area: extent i of the PV at pe_start + i * extent_size
 * An update writes the slot that is NOT current in full, fdatasyncs, and only then is it
 * current (the one with the highest valid sequence number). The highest valid sequence number
 * over all PVs of a VG wins. Writers hold flock(LOCK_EX) on every PV of the VG; readers take
 * LOCK_SH while they read. An LV in use holds an OFD byte-range lock (see vol_lv_inuse_lock).
 *
 * Functions return 0 or a negative errno with rv_error_set(). */
#ifndef RV_BLOCK_VOLUME_VOL_H
#define RV_BLOCK_VOLUME_VOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VOL_NAME_MAX 63
#define VOL_UUID_LEN 16
#define VOL_MAX_PVS 64
#define VOL_MAX_LVS 1024
#define VOL_MAX_RUNS 65536          /* per area */
#define VOL_LABEL_SIZE 512u
#define VOL_SLOT_HDR 512u
#define VOL_MDA_OFFSET 4096u
#define VOL_MDA_DEFAULT (2u << 20)  /* two 1 MiB slots */
#define VOL_MDA_MAX (256u << 20)
#define VOL_MAX_EXTENTS (1ull << 32) /* per PV */
#define VOL_PE_ALIGN (1u << 20)
#define VOL_EXTENT_DEFAULT (4u << 20)
#define VOL_EXTENT_MIN 4096u
#define VOL_EXTENT_MAX (1u << 30)
#define VOL_STRIPE_DEFAULT (64u << 10)

/* --- label and metadata slots (vol_format.c): the parsers of untrusted bytes --- */

struct vol_label {
    uint8_t uuid[VOL_UUID_LEN];
    uint64_t dev_size;      /* size of the PV when it was created */
    uint64_t mda_offset;    /* start of the metadata area */
    uint64_t mda_size;      /* two slots of mda_size / 2 */
    uint64_t pe_start;      /* start of the data area */
};

struct vol_slot {
    uint64_t seq;           /* 0: the slot holds no valid record */
    uint32_t len;           /* payload bytes */
    uint32_t crc;           /* CRC-32 of the payload */
    uint8_t pv_uuid[VOL_UUID_LEN];
};

void vol_label_encode(const struct vol_label *l, uint8_t buf[VOL_LABEL_SIZE]);
/* Checks magic, version, CRC and the layout; `what` names the PV in messages. */
int vol_label_decode(const uint8_t *buf, size_t len, const char *what, struct vol_label *l);
void vol_slot_encode(const struct vol_slot *s, uint8_t buf[VOL_SLOT_HDR]);
/* Checks the header (magic, version, CRC, length against the slot size, owner uuid). An empty
 * (all-zero) header gives -ENOENT. */
int vol_slot_decode(const uint8_t *buf, size_t len, uint64_t slot_size,
                    const uint8_t uuid[VOL_UUID_LEN], const char *what, struct vol_slot *s);

/* --- the VG in memory (vol_meta.c) --- */

enum vol_lv_type { VOL_LINEAR, VOL_STRIPED, VOL_MIRROR, VOL_THIN_POOL, VOL_THIN };
#define VOL_NO_LV UINT32_MAX

struct vol_run {
    uint32_t pv;            /* index into vg->pvs */
    uint64_t pe;            /* first physical extent */
    uint64_t count;         /* extents */
    uint64_t le;            /* first extent of the area it maps (computed) */
};

struct vol_area {           /* a leg of a mirror, a stripe, or the whole of a linear LV */
    struct vol_run *runs;
    uint32_t nruns;
    bool stale;             /* mirror leg missed writes: never read until resynced */
};

struct vol_lv {
    char name[VOL_NAME_MAX + 1];
    uint32_t id;            /* unique in the VG, never reused (in-use locks use it) */
    enum vol_lv_type type;
    uint64_t extents;       /* logical size in extents */
    uint64_t stripe_size;   /* striped: bytes per chunk */
    uint32_t nareas;        /* linear 1, striped N, mirror 2, thin pool 2 (data, metadata),
                               thin 0 */
    struct vol_area *areas; /* each maps vol_area_len(lv, a) extents */
    uint64_t meta_extents;  /* thin pool: extents of the pool metadata area */
    uint64_t chunk_size;    /* thin pool: allocation unit in bytes */
    uint32_t pool_id;       /* thin: the pool's LV id */
    uint32_t thin_id;       /* thin: its table in the pool metadata */
    uint32_t origin_id;     /* thin: snapshot of this LV (VOL_NO_LV if none); a non-thin
                               origin is read for chunks the snapshot has not written */
    bool frozen;            /* the origin of snapshots that read it: not removed nor resized;
                               its writers copy old chunks into the snapshots first */
    bool invalid;           /* snapshot of a non-thin origin whose pool ran out of space while
                               the origin was written: unusable, only removed */
    /* Online pv-move (vol_move.c): while `moving` is set, users write every area both to
     * areas[a] and to moving[a] (the new mapping) and read areas[a]; `reserved` holds the old
     * extents until every user has stopped writing them; move_gen counts the steps. */
    struct vol_area *moving;
    struct vol_area reserved;
    uint32_t move_gen;
    uint32_t move_from;     /* the PV a pv-move in progress empties */
};

struct vol_pv {
    uint8_t uuid[VOL_UUID_LEN];
    char *path;             /* where it was last seen */
    uint64_t pe_start;
    uint64_t pe_count;
    /* runtime, not stored */
    int fd;                 /* -1: missing */
    struct vol_label label;
    int cur_slot;           /* slot holding the newest valid record, -1 none */
    uint64_t disk_seq;      /* its sequence number */
    uint64_t slot_seq[2];   /* valid sequence number of each slot (0 none) */
    uint64_t peek_seq;      /* newest sequence number in a slot header (payload unchecked) */
};

struct vol_vg {
    char name[VOL_NAME_MAX + 1];
    uint8_t uuid[VOL_UUID_LEN];
    uint64_t seq;
    uint64_t extent_size;
    uint32_t next_lv_id;
    uint32_t npvs;
    struct vol_pv *pvs;
    uint32_t nlvs;
    struct vol_lv *lvs;
    /* runtime */
    bool locked_ex;         /* flock(LOCK_EX) held on every present PV */
    char *devices;          /* the devices list it was found through */
};

/* Parses and validates metadata text (names, sizes, every run inside its PV, no extent used
 * twice, areas the right length). The runtime fields are left -1/0. */
int vol_meta_parse(const char *text, size_t len, struct vol_vg **out);
/* Formats the metadata (seq included) as a malloc'd NUL-terminated string. */
int vol_meta_format(const struct vol_vg *vg, char **out);
void vol_vg_free(struct vol_vg *vg);
/* Frees an LV's areas, pv-move areas and reserved runs. */
void vol_lv_free_areas(struct vol_lv *lv);
bool vol_name_valid(const char *name);
uint64_t vol_area_extents(const struct vol_lv *lv);
/* Extents of area `a` (a thin pool's metadata area differs from its data area). */
uint64_t vol_area_len(const struct vol_lv *lv, uint32_t a);
struct vol_lv *vol_lv_by_id(struct vol_vg *vg, uint32_t id);
struct vol_lv *vol_lv_find(struct vol_vg *vg, const char *name);
const char *vol_lv_type_name(enum vol_lv_type t);
/* Free extents per PV (`free_out[i]`) and a use map: `used[i]` is a malloc'd byte array of
 * pe_count entries, 1 where the extent is allocated. The caller frees with vol_used_free. */
int vol_used_map(const struct vol_vg *vg, uint8_t ***used, uint64_t *free_out);
void vol_used_free(const struct vol_vg *vg, uint8_t **used);

/* --- devices, scanning, locking, commits (vol_vg.c) --- */

/* The devices list: `explicit` if given, else $RVISOR_VOL_DEVICES, else
 * ~/.config/rvisor/vol-devices. The returned string is static or `explicit`. */
const char *vol_devices_path(const char *explicit_path);
int vol_devices_add(const char *devices, const char *path);

enum { VOL_OPEN_READ = 0, VOL_OPEN_WRITE = 1 };
/* Finds the VG named `name` among the listed devices (highest valid sequence number wins),
 * opens its PVs (missing ones have fd -1), and with VOL_OPEN_WRITE holds the VG lock until
 * vol_vg_close. A reader's shared lock is dropped before returning. */
int vol_vg_open(const char *devices, const char *name, int mode, struct vol_vg **out);
void vol_vg_close(struct vol_vg *vg);
/* Writes vg (seq + 1) to every present PV: non-current slot, fdatasync. Needs the write lock. */
int vol_vg_commit(struct vol_vg *vg);
/* Has any present PV's newest slot header changed since vg was read (another writer)? */
bool vol_vg_changed(const struct vol_vg *vg);
/* The newest sequence number on one PV (reads only the two slot headers). */
int vol_pv_peek_seq(int fd, const struct vol_label *l, uint64_t *seq);
int vol_pv_read_label(int fd, const char *path, struct vol_label *l);

/* Marks a PV: writes a label and empty metadata slots. */
int vol_pv_create(const char *devices, const char *path, uint64_t mda_size);

/* One PV seen by a scan. */
struct vol_scan_pv {
    char *path;
    int fd;
    int error;              /* <0: no usable label/metadata; msg says why */
    char msg[256];
    struct vol_label label;
    uint64_t seq;
    int cur_slot;
    uint64_t slot_seq[2];
    uint64_t peek_seq;      /* vol_pv_peek_seq when scanned */
    char slot_msg[2][160];  /* why a slot is not valid ("" if valid or empty) */
    struct vol_vg *meta;    /* its newest metadata, NULL for an orphan PV */
};
int vol_scan(const char *devices, struct vol_scan_pv **out, unsigned *n);
void vol_scan_free(struct vol_scan_pv *s, unsigned n);

/* In-use lock of an LV: an OFD lock (shared for readers, exclusive for writers) on one byte
 * past any real data of every present PV. Returns -EBUSY when another user holds it. */
int vol_lv_inuse_lock(const struct vol_vg *vg, uint32_t lv_id, bool exclusive);
/* pv-move handshake: each user of an LV holds a shared lock for the move generation it has
 * loaded (hold=false drops it); the mover waits until nobody holds generation `gen`. */
void vol_lv_gen_hold(const struct vol_vg *vg, uint32_t lv_id, uint32_t gen, bool hold);
int vol_lv_gen_wait(const struct vol_vg *vg, uint32_t lv_id, uint32_t gen);
/* An OFD lock (F_RDLCK, F_WRLCK, F_UNLCK) on one byte of `fd`; -EAGAIN/-EACCES when taken and
 * !wait. Byte ranges in use: in-use locks at 2^62 + LV id, pv-move generations at 2^61 + ..., thin
 * pool sharing (vol_thin_share.c) at 2^60 + .... */
int vol_byte_lock(int fd, short type, uint64_t byte, bool wait);
/* Checks whether anyone else uses the LV (takes and drops an exclusive lock). */
int vol_lv_check_unused(const struct vol_vg *vg, const struct vol_lv *lv);

/* --- operations (vol_ops.c); each opens the VG with the write lock and commits --- */

struct vol_lv_spec {
    const char *name;
    enum vol_lv_type type;
    uint64_t size;          /* bytes, rounded up to extents (and to whole stripes) */
    uint32_t stripes;
    uint64_t stripe_size;
};
int vol_vg_create(const char *devices, const char *name, uint64_t extent_size,
                  const char *const *pvs, unsigned npvs);
int vol_vg_extend(const char *devices, const char *name, const char *const *pvs, unsigned n);
int vol_vg_reduce(const char *devices, const char *name, const char *pv);
int vol_vg_remove(const char *devices, const char *name);
int vol_lv_create(const char *devices, const char *vg, const struct vol_lv_spec *spec);
int vol_lv_remove(const char *devices, const char *vg, const char *lv);
/* New size in bytes; shrinking needs `allow_shrink` and an LV that nobody uses. */
int vol_lv_resize(const char *devices, const char *vg, const char *lv, uint64_t size,
                  bool allow_shrink);
/* Moves every extent of `lv` (all LVs if NULL) off PV `from` (to `to`, or anywhere). The LV
 * must not be in use. */
int vol_pv_move(const char *devices, const char *vg, const char *from, const char *to,
                const char *lv);

/* Extent allocation (vol_ops.c): a use map of the VG while an operation edits it. */
struct vol_alloc {
    struct vol_vg *vg;
    uint8_t **used;
    uint64_t free[VOL_MAX_PVS];
};
int vol_alloc_begin(struct vol_alloc *al, struct vol_vg *vg);
void vol_alloc_end(struct vol_alloc *al);
/* Appends `n` extents to `a` from present PVs whose bit is set in `allowed`. */
int vol_alloc_extents(struct vol_alloc *al, struct vol_area *a, uint64_t n, uint64_t allowed);
/* PVs that area `area` of `lv` may use: none that its other areas use. */
uint64_t vol_area_allowed(const struct vol_lv *lv, uint32_t area, uint32_t npvs);
/* Appends a run, merging it with the last one when contiguous. */
int vol_area_append(struct vol_area *a, uint32_t pv, uint64_t pe, uint64_t count);
int vol_pv_lookup(const struct vol_vg *vg, const char *path, uint32_t *out);

/* --- check and repair (vol_check.c) --- */
struct vol_check_result {
    unsigned errors;        /* metadata that cannot be used */
    unsigned warnings;      /* stale copies, torn slots, missing PVs, stale mirror legs */
    unsigned repaired;
};
int vol_check(const char *devices, const char *vg, bool repair,
              void (*report)(void *ctx, const char *msg), void *ctx,
              struct vol_check_result *res);

/* --- data mapping (vol_map.c) --- */
/* Maps byte `off` of area `a` to (PV index, byte offset on the PV); *avail gets the number of
 * bytes that continue contiguously on that PV. */
int vol_area_map(const struct vol_vg *vg, const struct vol_area *a, uint64_t off,
                 uint32_t *pv, uint64_t *pv_off, uint64_t *avail);
/* Maps byte `off` of the LV: the area and the offset in it (striping), and how many bytes stay
 * in that area contiguously. */
void vol_lv_map(const struct vol_vg *vg, const struct vol_lv *lv, uint64_t off, uint32_t *area,
                uint64_t *area_off, uint64_t *avail);
/* Copies bytes [start, start+len) of area `src` to the same place of area `dst` and syncs
 * (mirror resync, pv-move). */
int vol_area_copy(const struct vol_vg *vg, const struct vol_area *src, const struct vol_area *dst,
                  uint64_t start, uint64_t len);
/* Copies `len` bytes between two PVs (no sync). */
int vol_pv_copy(const struct vol_vg *vg, uint32_t src, uint64_t soff, uint32_t dst, uint64_t doff,
                uint64_t len);
/* Appends a copy of `lv` to the VG (areas move into it); takes the next LV id. */
int vol_vg_add_lv(struct vol_vg *vg, struct vol_lv *lv);
/* Drops `lv` (a pointer into vg->lvs) and its areas. */
void vol_vg_remove_lv(struct vol_vg *vg, struct vol_lv *lv);
/* Zeros bytes [start, start+len) of an area (new extents never show an old LV's data). */
int vol_area_zero(const struct vol_vg *vg, const struct vol_area *a, uint64_t start, uint64_t len);
/* Moves the extents of every LV (or only `lv`; not those in `skip`) off PV `from`, onto `to`
 * (-1: any PV). The LVs must not be in use; the data is copied before the new mapping is
 * committed. */
int vol_vg_pv_move(struct vol_vg *vg, uint32_t from, int to, const char *lv,
                   const uint32_t *skip, uint32_t nskip);
/* Copies a good mirror leg over a stale one and commits it as in sync. */
int vol_mirror_resync(struct vol_vg *vg, struct vol_lv *lv);

#endif
