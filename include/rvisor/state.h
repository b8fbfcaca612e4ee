/* rvisor public API: snapshots, restore, clones and live migration of a VM (docs/state.md). */
#ifndef RVISOR_STATE_H
#define RVISOR_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "rvisor/vm.h"

/* Progress of a long operation: `done` of `total` bytes of guest RAM handled. */
typedef void (*rv_progress_fn)(void *opaque, uint64_t done, uint64_t total);

struct rv_snapshot_opts {
    const char *path;      /* the snapshot file to create (replaced if it exists) */
    bool mappable;         /* RAM as a page-aligned raw image (sparse: zero pages are holes)
                              that restore maps copy-on-write, instead of zstd batches */
    rv_progress_fn progress; /* may be NULL */
    void *opaque;
};

struct rv_snapshot_result {
    uint64_t file_bytes;   /* size of the snapshot file */
    uint64_t ram_pages;    /* guest RAM pages */
    uint64_t zero_pages;   /* pages skipped because they were all zeros */
    uint64_t duration_ns;  /* from the start of saving to the file being synced */
    unsigned disks;        /* disks switched to a new overlay (their old image now belongs to
                              the snapshot and must not change) */
};

/* Writes the complete state of a paused VM to a snapshot file: the configuration, every hart,
 * every device (virtio disks and NICs are quiesced first), guest time and RAM. Disks: each
 * writable disk's current image is frozen as part of the snapshot, and the VM goes on writing
 * to a new qcow2 overlay "<path>.disk<N>.qcow2" backed by it (an external snapshot). -EBUSY
 * unless the VM is paused. */
int rv_vm_snapshot(struct rv_vm *vm, const struct rv_snapshot_opts *opts,
                   struct rv_snapshot_result *res);

struct rv_restore_opts {
    const char *path;      /* the snapshot file */
    /* Console and run options that are not part of the snapshot (as in rv_vm_config). */
    int console_in_fd, console_out_fd;
    bool console_escapes;
    /* A clone: a new MAC address for each NIC and memory mapped copy-on-write from the file
       (needs a mappable snapshot). Any snapshot restore of a mappable file maps memory. */
    bool clone;
    unsigned clone_index;  /* makes clones' MAC addresses differ */
    rv_progress_fn progress;
    void *opaque;
    /* Incoming migration with --copy-storage: the images (--disk specs, by index) that receive
       the copied disks; created as sparse raw files of the right size if missing. */
    const char *const *disks;
    unsigned ndisks;
};

struct rv_restore_result {
    bool mapped;           /* RAM is mapped from the file (lazy: pages load on first use) */
    uint64_t duration_ns;  /* reading and installing the state, the VM created */
    char disk_overlays[RV_MAX_DISKS][4096]; /* the new overlay of each writable disk, or "" */
};

/* Creates a VM from a snapshot file, in the state it was saved in: rv_vm_run() then resumes
 * it. Each writable disk gets a new qcow2 overlay "<path>.disk<N>.<K>.qcow2" on the image the
 * snapshot froze, so the snapshot can be restored any number of times. Guest time (mtime)
 * continues from the value saved: the time the snapshot spent on disk does not exist for the
 * guest, and guest time never goes backwards. */
int rv_vm_restore(const struct rv_restore_opts *opts, struct rv_vm **out,
                  struct rv_restore_result *res);

/* --- live migration (vm_migrate.c) --- */

struct rv_migrate_opts {
    const char *to;        /* "tcp:HOST:PORT" */
    bool connected;        /* fd is a stream socket already connected to the destination
                              (the client made it, docs/state.md): nothing is connected here and
                              `to` only names it; the migration owns fd once started */
    int fd;
    uint64_t bandwidth;    /* bytes per second, 0 = unlimited */
    unsigned max_rounds;   /* pre-copy rounds before stop-and-copy; 0 = default (30) */
    uint64_t downtime_pages; /* stop and copy once at most this many pages are dirty;
                                0 = default (256) */
    bool copy_storage;     /* copy the writable disks along (the destination writes them into
                              images of its own, rv_restore_opts.disks) */
};

enum rv_migrate_state { RV_MIGRATE_NONE, RV_MIGRATE_ACTIVE, RV_MIGRATE_DONE, RV_MIGRATE_FAILED };

struct rv_migrate_status {
    enum rv_migrate_state state;
    unsigned round;        /* pre-copy round, from 1; the stop-and-copy counts as one more */
    uint64_t bytes_sent;
    uint64_t pages_sent;
    uint64_t dirty_pages;  /* dirty at the end of the last round */
    uint64_t ram_pages;
    uint64_t disk_bytes;   /* --copy-storage: disk data sent (zero chunks not counted) */
    uint64_t downtime_ns;  /* harts parked for the stop-and-copy (valid when DONE) */
    uint64_t total_ns;
    char error[256];       /* when FAILED */
};

/* Starts migrating a running VM in the background; rv_vm_migrate_status() follows it. On
 * success the source VM stops (rv_vm_run() returns 0); on any failure (connection refused or
 * cut, destination rejecting the stream) it keeps running as before. -EBUSY if a migration is
 * under way. */
int rv_vm_migrate_start(struct rv_vm *vm, const struct rv_migrate_opts *opts);
void rv_vm_migrate_status(struct rv_vm *vm, struct rv_migrate_status *out);
/* Resolves and connects to "tcp:HOST:PORT" as a migration source does: returns the connected
 * socket (close-on-exec, timeouts set) or a negative errno. `rvisor migrate` uses it to hand
 * the connection to a VM that cannot open one (rv_migrate_opts.connected). */
int rv_migrate_connect(const char *to);
/* The requester has read the final status (the API's migrate-status calls this). */
void rv_vm_migrate_ack(struct rv_vm *vm);
/* After a completed migration: waits up to `max_ms` for the final status to be read, so that
 * the API socket outlives the VM long enough for `rvisor migrate` to see the result. */
void rv_vm_migrate_linger(struct rv_vm *vm, unsigned max_ms);

/* Destination: listens on "tcp:HOST:PORT" for one migration stream and creates the VM from
 * it; returns once the VM is complete and ready for rv_vm_run(). Console options as in
 * rv_restore_opts. A broken or rejected stream returns an error (nothing is left running). */
int rv_vm_incoming(const char *from, const struct rv_restore_opts *console,
                   struct rv_vm **out);

#endif
