/* Snapshots to a file and restore from it (include/rvisor/state.h, docs/state.md).
 *
 * A snapshot file is a state stream (state/stream.h): CONFIG, the RAM (zstd batches of the
 * non-zero pages, or with --mappable one page-aligned raw image with holes for zero pages that
 * restore maps MAP_PRIVATE), one DISK record per writable disk, CLOCK, DEVICE and HART records,
 * END. It is written to "<path>.tmp" and renamed into place once complete and synced.
 *
 * Disks (an external snapshot, as QEMU's blockdev-snapshot): the disk's current image is
 * flushed and frozen as part of the snapshot, and the running VM continues on a new qcow2
 * overlay "<path>.disk<N>.qcow2" backed by it. Each restore makes its own overlay on the frozen
 * image, so a snapshot restores any number of times, and clones share the frozen image.
 * A logical volume (vol:VG/LV) is frozen by a volume snapshot VG/LV.snapN instead (a thin
 * snapshot of a thin LV, a classic one of others), taken while the VM is paused: the running
 * VM goes on writing its volume, restores make their overlays on the volume snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsjail.h"
#include "core/log.h"
#include "core/serial.h"
#include "block/volume/vol_thin.h"
#include "dev/virtio_blk.h"
#include "dev/vmgenid.h"
#include "machine/vm_internal.h"
#include "state/ram.h"
#include "state/stream.h"

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void progress(const struct rv_snapshot_opts *o, uint64_t page, uint64_t npages)
{
    if (o->progress && (page % 4096 == 0 || page == npages))
        o->progress(o->opaque, page * RV_PAGE_SIZE, npages * RV_PAGE_SIZE);
}

static int write_ram_batches(struct rv_vm *vm, struct rv_stream *s,
                             const struct rv_snapshot_opts *o, struct rv_snapshot_result *res)
{
    struct rv_page_writer *w;
    int rc = rv_page_writer_new(s, RV_SEC_RAM_PAGES, 0, 1, &w);
    uint64_t npages = vm->bus.ram_size / RV_PAGE_SIZE;
    for (uint64_t i = 0; i < npages && !rc; i++) {
        const uint8_t *page = vm->bus.ram + i * RV_PAGE_SIZE;
        if (rv_page_is_zero(page))
            res->zero_pages++;
        else
            rc = rv_page_writer_add(w, i, page);
        progress(o, i + 1, npages);
    }
    if (!rc)
        rc = rv_page_writer_flush(w);
    rv_page_writer_free(w);
    return rc;
}

/* The RAM as a raw image at a page-aligned offset; zero pages stay holes in a sparse file. */
static int write_ram_mapped(struct rv_vm *vm, struct rv_stream *s,
                            const struct rv_snapshot_opts *o, struct rv_snapshot_result *res)
{
    uint64_t size = vm->bus.ram_size;
    uint64_t offset = (s->pos + RV_STREAM_RECORD_SIZE + 16 + RV_PAGE_SIZE - 1) &
                      ~(uint64_t)(RV_PAGE_SIZE - 1);
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    rv_put_u64(&w, offset);
    rv_put_u64(&w, size);
    int rc = w.error ? -ENOMEM : rv_stream_write_record(s, RV_SEC_RAM_MAPPED, 1, w.buf, w.len);
    rv_state_writer_free(&w);
    uint64_t npages = size / RV_PAGE_SIZE;
    for (uint64_t i = 0; i < npages && !rc; i++) {
        const uint8_t *page = vm->bus.ram + i * RV_PAGE_SIZE;
        if (rv_page_is_zero(page)) {
            res->zero_pages++;
        } else if (pwrite(s->fd, page, RV_PAGE_SIZE, (off_t)(offset + i * RV_PAGE_SIZE)) !=
                   (ssize_t)RV_PAGE_SIZE) {
            rc = rv_error_set(-errno ? -errno : -EIO, "%s: write failed: %s", o->path,
                              strerror(errno));
        }
        progress(o, i + 1, npages);
    }
    if (!rc && (ftruncate(s->fd, (off_t)(offset + size)) ||
                lseek(s->fd, (off_t)(offset + size), SEEK_SET) < 0))
        rc = rv_error_set(-errno, "%s: %s", o->path, strerror(errno));
    s->pos = offset + size;
    return rc;
}

/* A disk whose image the guest can change (its image is frozen by a snapshot). */
static bool disk_writable(struct rv_vm *vm, unsigned i)
{
    char *path;
    struct rv_block_opts bo;
    if (!vm->blks[i] || rv_virtio_blk_parse_spec(vm->disk_specs[i], &path, &bo))
        return false;
    free(path);
    return !bo.readonly && !rv_block_readonly(rv_virtio_blk_disk(vm->blks[i]));
}

/* A volume snapshot of disk i's LV, made while the disk is closed (the origin must be unused
 * for it, and the disk's writer then opens the origin with its new snapshot). */
struct vol_snap {
    char vg[VOL_NAME_MAX + 1], lv[VOL_NAME_MAX + 1], name[VOL_NAME_MAX + 1];
    bool made;
};

static bool disk_is_vol(const char *spec)
{
    return strncmp(spec, "vol:", 4) == 0;
}

static int vol_snap_make(void *opaque)
{
    struct vol_snap *v = opaque;
    int rc = vol_snapshot_auto(v->vg, v->lv, v->name, sizeof(v->name));
    v->made = rc == 0;
    return rc;
}

static int vol_snap_remove(void *opaque)
{
    struct vol_snap *v = opaque;
    return vol_lv_remove(NULL, v->vg, v->name);
}

/* The spec of disk i's snapshot "vol:VG/LV.snapN,OPTIONS" (malloc'd) after making it. */
static int vol_snapshot_disk(struct rv_vm *vm, unsigned i, struct vol_snap *v, char **out)
{
    const char *spec = vm->disk_specs[i];
    const char *slash = strchr(spec, '/'), *comma = strchr(spec, ',');
    size_t end = comma ? (size_t)(comma - spec) : strlen(spec);
    if (!slash || slash > spec + end || (size_t)(slash - spec - 4) > VOL_NAME_MAX ||
        end - (size_t)(slash + 1 - spec) > VOL_NAME_MAX)
        return rv_error_set(-EINVAL, "disk %u: %s: expected vol:VG/LV", i, spec);
    memset(v, 0, sizeof(*v));
    memcpy(v->vg, spec + 4, (size_t)(slash - spec - 4));
    memcpy(v->lv, slash + 1, end - (size_t)(slash + 1 - spec));
    int rc = rv_virtio_blk_reopen_with(vm->blks[i], spec, vol_snap_make, v);
    if (rc)
        return rv_error_prefix(rc, "disk %u: volume snapshot of %s/%s: ", i, v->vg, v->lv);
    if (asprintf(out, "vol:%s/%s%s", v->vg, v->name, comma ? comma : "") < 0) {
        *out = NULL;
        return rv_error_set(-ENOMEM, "out of memory");
    }
    return 0;
}

/* A failed snapshot leaves no volume snapshot behind (removed while the origin is closed:
 * the origin's writer holds its snapshots). */
static void vol_snapshots_undo(struct rv_vm *vm, struct vol_snap *v)
{
    for (unsigned i = 0; i < vm->cfg.ndisks; i++)
        if (v[i].made && rv_virtio_blk_reopen_with(vm->blks[i], vm->disk_specs[i],
                                                   vol_snap_remove, &v[i]))
            rv_warn("disk %u: volume snapshot %s/%s left behind: %s", i, v[i].vg,
                        v[i].name, rv_error_get());
}

static int write_disks(struct rv_vm *vm, struct rv_stream *s, struct vol_snap *vs)
{
    int rc = 0;
    for (unsigned i = 0; i < vm->cfg.ndisks && !rc; i++) {
        if (!disk_writable(vm, i))
            continue;
        rc = rv_virtio_blk_flush(vm->blks[i]);
        if (rc)
            return rv_error_prefix(rc, "disk %u: flush: ", i);
        char *frozen = NULL;
        if (disk_is_vol(vm->disk_specs[i]) && (rc = vol_snapshot_disk(vm, i, &vs[i], &frozen)))
            return rc;
        struct rv_state_writer w;
        rv_state_writer_init(&w);
        rv_put_u32(&w, i);
        const char *spec = frozen ? frozen : vm->disk_specs[i];
        rv_put_u32(&w, (uint32_t)strlen(spec));
        rv_put_bytes(&w, spec, strlen(spec));
        free(frozen);
        rc = w.error ? -ENOMEM : rv_stream_write_record(s, RV_SEC_DISK, 1, w.buf, w.len);
        rv_state_writer_free(&w);
    }
    return rc;
}

/* The running VM moves to a new overlay on each frozen image (and stays on its volumes). */
static int switch_disks(struct rv_vm *vm, const char *snap, struct rv_snapshot_result *res)
{
    for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
        if (!disk_writable(vm, i))
            continue;
        if (disk_is_vol(vm->disk_specs[i])) {
            res->disks++;
            continue;
        }
        const char *spec = vm->disk_specs[i];
        const char *comma = strchr(spec, ',');
        char backing[4096], path[4200], opts[4096] = "";
        snprintf(backing, sizeof(backing), "%.*s",
                 (int)(comma ? (size_t)(comma - spec) : strlen(spec)), spec);
        for (const char *p = comma; p && *p;) {
            const char *next = strchr(p + 1, ',');
            size_t n = next ? (size_t)(next - p) : strlen(p);
            if (strncmp(p, ",format=", 8) != 0 && strlen(opts) + n < sizeof(opts))
                strncat(opts, p, n);
            p = next;
        }
        char *abs = rv_fs_realpath(backing);
        snprintf(path, sizeof(path), "%s.disk%u.qcow2", snap, i);
        struct rv_block_create_opts co = {.format = RV_BLOCK_QCOW2,
                                          .backing_file = abs ? abs : backing};
        int rc = rv_block_create(path, &co);
        free(abs);
        char *copy = NULL;
        if (!rc && asprintf(&copy, "%s,format=qcow2%s", path, opts) < 0)
            rc = rv_error_set(-ENOMEM, "out of memory");
        if (!rc)
            rc = rv_virtio_blk_reopen(vm->blks[i], copy);
        if (rc) {
            free(copy);
            return rv_error_prefix(rc, "disk %u: new overlay %s: ", i, path);
        }
        free(vm->disk_specs[i]);
        vm->disk_specs[i] = copy;
        res->disks++;
    }
    return 0;
}

static int snapshot_write(struct rv_vm *vm, const struct rv_snapshot_opts *o, int fd,
                          struct rv_snapshot_result *res, struct vol_snap *vs)
{
    struct rv_stream s;
    rv_stream_init_fd(&s, fd, o->path);
    int rc = rv_stream_write_header(&s, o->mappable ? RV_STREAM_F_MAPPABLE : 0);
    if (!rc)
        rc = vm_state_write_config(vm, &s);
    if (!rc)
        rc = o->mappable ? write_ram_mapped(vm, &s, o, res) : write_ram_batches(vm, &s, o, res);
    if (!rc)
        rc = write_disks(vm, &s, vs);
    if (!rc)
        rc = vm_state_write_machine(vm, &s);
    if (!rc)
        rc = rv_stream_write_end(&s);
    if (!rc && fsync(fd))
        rc = rv_error_set(-errno, "%s: fsync: %s", o->path, strerror(errno));
    res->file_bytes = s.pos;
    return rc;
}

int rv_vm_snapshot(struct rv_vm *vm, const struct rv_snapshot_opts *o,
                   struct rv_snapshot_result *res)
{
    struct rv_snapshot_result r = {.ram_pages = vm->bus.ram_size / RV_PAGE_SIZE};
    if (rv_vm_state(vm) != RV_VM_PAUSED)
        return rv_error_set(-EBUSY, "a snapshot needs a paused VM");
    int rc = vm_migration_busy(vm);
    if (rc)
        return rc;
    if (!o->path || !*o->path || strlen(o->path) > 3900)
        return rv_error_set(-EINVAL, "snapshot: bad file name");
    uint64_t t0 = now_ns();
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", o->path);
    int fd = rv_fs_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return rv_error_set(-errno, "%s: %s", tmp, strerror(errno));
    struct vol_snap *vs = calloc(vm->cfg.ndisks ? vm->cfg.ndisks : 1, sizeof(*vs));
    if (!vs) {
        close(fd);
        rv_fs_unlink(tmp);
        return rv_error_set(-ENOMEM, "out of memory");
    }
    vm_devices_quiesce(vm);
    rc = snapshot_write(vm, o, fd, &r, vs);
    close(fd);
    if (!rc)
        rc = switch_disks(vm, o->path, &r);
    if (!rc && rv_fs_rename(tmp, o->path))
        rc = rv_error_set(-errno, "%s: %s", o->path, strerror(errno));
    if (rc) {
        rv_fs_unlink(tmp);
        vol_snapshots_undo(vm, vs);
    }
    free(vs);
    vm_devices_resume(vm);
    r.duration_ns = now_ns() - t0;
    if (res)
        *res = r;
    return rc;
}

/* A restored VM (a clone or not) is a copy of a state that may run elsewhere too, or again:
 * a new generation ID makes the guest reseed its RNG (dev/vmgenid.h). A migrated VM is the
 * same VM moving and keeps its ID. */
static int new_generation(struct rv_vm *vm)
{
    pthread_mutex_lock(&vm->dev_lock);
    int rc = rv_vmgenid_change(vm->vmgenid);
    pthread_mutex_unlock(&vm->dev_lock);
    if (rc) {
        rv_vm_destroy(vm);
        return rc;
    }
    return 0;
}

int rv_vm_restore(const struct rv_restore_opts *o, struct rv_vm **out,
                  struct rv_restore_result *res)
{
    uint64_t t0 = now_ns();
    struct rv_restore_result r;
    memset(&r, 0, sizeof(r));
    int fd = rv_fs_open(o->path, O_RDONLY, 0);
    if (fd < 0)
        return rv_error_set(-errno, "%s: %s", o->path, strerror(errno));
    struct rv_stream s;
    rv_stream_init_fd(&s, fd, o->path);
    int rc = rv_stream_read_header(&s);
    if (!rc && o->clone && !(s.flags & RV_STREAM_F_MAPPABLE))
        rc = rv_error_set(-EINVAL, "%s: clones share memory with a mappable snapshot "
                                   "(rvisor snapshot --mappable)", o->path);
    struct vm_loader_opts lo = {.ro = o, .overlay_base = o->path, .res = &r};
    if (!rc)
        rc = vm_state_load(&s, &lo, out);
    close(fd); /* a mapped RAM image stays mapped */
    if (!rc && (rc = new_generation(*out)) != 0)
        *out = NULL;
    r.duration_ns = now_ns() - t0;
    if (res)
        *res = r;
    return rc;
}
