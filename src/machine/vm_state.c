/* The machine's state records (state/stream.h): configuration, guest time, devices and harts,
 * written by snapshots and migration, and read back into a new VM (vm_state_load()).
 *
 * Guest time: CLOCK holds mtime at the moment of saving, and a loaded VM continues from it, so
 * the guest never sees time go backwards and the time spent stored or in transit does not
 * exist for it (as with a VM paused on its host). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsjail.h"
#include "core/serial.h"
#include "cpu/mmu.h"
#include "dev/virtio_blk.h"
#include "dev/virtio_net.h"
#include "machine/vm_internal.h"
#include "state/ram.h"
#include "state/stream.h"

/* Version 2 added the MMU type (a trailing u8, enum rv_vm_mmu); version 1 streams come from
 * harts that implemented Sv57, and still load as such. */
#define CONFIG_VERSION 2
#define MAX_STRING 4096u
#define NO_STRING 0xffffffffu

void vm_devices_quiesce(struct rv_vm *vm)
{
    for (unsigned i = 0; i < RV_MAX_DISKS; i++)
        if (vm->blks[i])
            rv_virtio_blk_pause(vm->blks[i]);
    for (unsigned i = 0; i < RV_MAX_NICS; i++)
        if (vm->nets[i])
            rv_virtio_net_pause(vm->nets[i]);
}

void vm_devices_resume(struct rv_vm *vm)
{
    for (unsigned i = 0; i < RV_MAX_DISKS; i++)
        if (vm->blks[i])
            rv_virtio_blk_resume(vm->blks[i]);
    for (unsigned i = 0; i < RV_MAX_NICS; i++)
        if (vm->nets[i])
            rv_virtio_net_resume(vm->nets[i]);
}

void vm_flush_tlbs(struct rv_vm *vm)
{
    for (unsigned i = 0; i < vm->nharts; i++)
        rv_tlb_flush_all(vm->vcpus[i].hart);
}

/* --- writing --- */

static void put_str(struct rv_state_writer *w, const char *s)
{
    if (!s) {
        rv_put_u32(w, NO_STRING);
        return;
    }
    rv_put_u32(w, (uint32_t)strlen(s));
    rv_put_bytes(w, s, strlen(s));
}

/* A file name as an absolute path, so that the state can be loaded from another directory. */
static void put_path(struct rv_state_writer *w, const char *path)
{
    char *abs = path ? rv_fs_realpath(path) : NULL;
    put_str(w, abs ? abs : path);
    free(abs);
}

/* A --disk spec with its path made absolute. */
static void put_disk_spec(struct rv_state_writer *w, const char *spec)
{
    const char *comma = strchr(spec, ',');
    size_t plen = comma ? (size_t)(comma - spec) : strlen(spec);
    char path[MAX_STRING];
    if (plen >= sizeof(path)) {
        put_str(w, spec);
        return;
    }
    memcpy(path, spec, plen);
    path[plen] = 0;
    char *abs = rv_fs_realpath(path);
    char out[2 * MAX_STRING];
    snprintf(out, sizeof(out), "%s%s", abs ? abs : path, comma ? comma : "");
    free(abs);
    put_str(w, out);
}

static int write_payload(struct rv_stream *s, uint32_t id, struct rv_state_writer *w)
{
    int rc = w->error ? rv_error_set(w->error, "out of memory")
                      : rv_stream_write_record(s, id, 1, w->buf, w->len);
    rv_state_writer_free(w);
    return rc;
}

int vm_state_write_config(struct rv_vm *vm, struct rv_stream *s)
{
    const struct rv_vm_config *c = &vm->cfg;
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    rv_put_u32(&w, CONFIG_VERSION);
    rv_put_u64(&w, vm->bus.ram_size);
    rv_put_u32(&w, vm->nharts);
    rv_put_u8(&w, (uint8_t)c->accel);
    /* bit 4: the power button is present (streams written before it existed have 0) */
    rv_put_u8(&w, (uint8_t)(c->rng | c->balloon << 1 | c->virtio_console << 2 | c->no_reboot << 3 |
                            !c->no_power_button << 4));
    put_path(&w, c->kernel);
    put_path(&w, c->initrd);
    put_str(&w, c->append);
    put_path(&w, c->bios);
    put_path(&w, c->dtb);
    rv_put_u32(&w, c->ndisks);
    for (unsigned i = 0; i < c->ndisks; i++)
        put_disk_spec(&w, vm->disk_specs[i]);
    rv_put_u32(&w, c->nnics);
    for (unsigned i = 0; i < c->nnics; i++)
        put_str(&w, c->nics[i]);
    rv_put_u8(&w, (uint8_t)c->mmu); /* resolved by rv_vm_create(): never DEFAULT */
    return write_payload(s, RV_SEC_CONFIG, &w);
}

static int write_devices(struct rv_vm *vm, struct rv_stream *s)
{
    int rc = 0;
    for (unsigned i = 0; i < vm->iomap.count && !rc; i++) {
        struct rv_region *r = &vm->iomap.regions[i];
        if (!r->ops->save)
            continue;
        struct rv_state_writer w;
        rv_state_writer_init(&w);
        rv_put_u64(&w, r->base);
        put_str(&w, r->ops->name);
        pthread_mutex_lock(&vm->dev_lock);
        rc = r->ops->save(r->dev, &w);
        pthread_mutex_unlock(&vm->dev_lock);
        if (rc) {
            rv_state_writer_free(&w);
            return rv_error_prefix(rc, "saving %s at 0x%llx: ", r->ops->name,
                                   (unsigned long long)r->base);
        }
        rc = write_payload(s, RV_SEC_DEVICE, &w);
    }
    return rc;
}

static int write_harts(struct rv_vm *vm, struct rv_stream *s)
{
    int rc = 0;
    for (unsigned i = 0; i < vm->nharts && !rc; i++) {
        struct rv_vcpu *v = &vm->vcpus[i];
        struct rv_state_writer w;
        rv_state_writer_init(&w);
        rv_put_u32(&w, i);
        pthread_mutex_lock(&v->lock);
        rv_put_u32(&w, v->hsm);
        rv_put_u64(&w, v->start_addr);
        rv_put_u64(&w, v->start_opaque);
        pthread_mutex_unlock(&v->lock);
        rc = rv_hart_save(v->hart, &w);
        if (rc) {
            rv_state_writer_free(&w);
            return rv_error_set(rc, "saving hart %u: out of memory", i);
        }
        rc = write_payload(s, RV_SEC_HART, &w);
    }
    return rc;
}

int vm_state_write_machine(struct rv_vm *vm, struct rv_stream *s)
{
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    rv_put_u64(&w, vm_time(vm));
    int rc = write_payload(s, RV_SEC_CLOCK, &w);
    if (!rc)
        rc = write_devices(vm, s);
    if (!rc)
        rc = write_harts(vm, s);
    return rc;
}

/* --- reading --- */

struct loader {
    const struct vm_loader_opts *lo;
    struct rv_stream *s;
    struct rv_vm_config cfg;
    char *strings[32];        /* what cfg points to */
    unsigned nstrings;
    char *disk_image[RV_MAX_DISKS]; /* DISK records: the image holding disk i's state */
    uint8_t *ram;              /* guest RAM until the VM exists */
    int ram_fd;                /* its memfd (vm.c, vm_ram_alloc), or -1 */
    uint64_t ram_size;
    bool mapped;
    uint64_t pages_loaded;
    struct rv_vm *vm;
    bool loaded[RV_MAX_REGIONS];
    bool hart_loaded[RV_MAX_HARTS];
    bool clock;
    struct vm_storage_in *storage; /* disks copied along (migration --copy-storage) */
};

static int get_str(struct rv_state_reader *r, struct loader *L, const char **out)
{
    uint32_t len = rv_get_u32(r);
    *out = NULL;
    if (r->error)
        return -EINVAL;
    if (len == NO_STRING)
        return 0;
    if (len > MAX_STRING || len > r->len - r->pos || L->nstrings == 32)
        return rv_error_set(-EINVAL, "configuration: string too long");
    char *p = malloc(len + 1);
    if (!p)
        return rv_error_set(-ENOMEM, "out of memory");
    rv_get_bytes(r, p, len);
    p[len] = 0;
    L->strings[L->nstrings++] = p;
    if (strlen(p) != len)
        return rv_error_set(-EINVAL, "configuration: NUL byte in a string");
    *out = p;
    return 0;
}

static int read_config(struct loader *L, const uint8_t *p, size_t len)
{
    struct rv_state_reader r;
    rv_state_reader_init(&r, p, len);
    struct rv_vm_config *c = &L->cfg;
    const struct rv_restore_opts *ro = L->lo->ro;
    uint32_t version = rv_get_u32(&r);
    if (version != 1 && version != CONFIG_VERSION)
        return rv_error_set(-EINVAL, "configuration: unsupported version");
    c->ram_size = rv_get_u64(&r);
    c->nharts = rv_get_u32(&r);
    uint8_t accel = rv_get_u8(&r), flags = rv_get_u8(&r);
    int rc = get_str(&r, L, &c->kernel);
    if (!rc)
        rc = get_str(&r, L, &c->initrd);
    if (!rc)
        rc = get_str(&r, L, &c->append);
    if (!rc)
        rc = get_str(&r, L, &c->bios);
    if (!rc)
        rc = get_str(&r, L, &c->dtb);
    c->ndisks = rc ? 0 : rv_get_u32(&r);
    if (c->ndisks > RV_MAX_DISKS)
        return rv_error_set(-EINVAL, "configuration: %u disks", c->ndisks);
    for (unsigned i = 0; i < c->ndisks && !rc; i++)
        if (!(rc = get_str(&r, L, &c->disks[i])) && !c->disks[i])
            rc = rv_error_set(-EINVAL, "configuration: disk without a name");
    c->nnics = rc ? 0 : rv_get_u32(&r);
    if (c->nnics > RV_MAX_NICS)
        return rv_error_set(-EINVAL, "configuration: %u network interfaces", c->nnics);
    for (unsigned i = 0; i < c->nnics && !rc; i++)
        if (!(rc = get_str(&r, L, &c->nics[i])) && !c->nics[i])
            rc = rv_error_set(-EINVAL, "configuration: network interface without a spec");
    if (rc)
        return rc;
    c->mmu = version == 1 ? RV_VM_MMU_SV57 : (enum rv_vm_mmu)rv_get_u8(&r);
    if (r.error || r.pos != r.len)
        return rv_error_set(-EINVAL, "configuration: truncated or trailing bytes");
    if (!rv_vm_mmu_name(c->mmu))
        return rv_error_set(-EINVAL, "configuration: unknown MMU type %d", (int)c->mmu);
    if (L->lo->adjust)
        L->lo->adjust(L->lo->adjust_opaque, c);
    if (accel > RV_ACCEL_INTERP || flags > 31 || c->nharts == 0 || c->nharts > RV_MAX_HARTS ||
        c->ram_size < (16ull << 20) || c->ram_size > (64ull << 30) || (c->ram_size & 0xfffff))
        return rv_error_set(-EINVAL, "configuration: values out of range");
    c->accel = (enum rv_accel)accel;
    c->rng = flags & 1;
    c->balloon = (flags >> 1) & 1;
    c->virtio_console = (flags >> 2) & 1;
    c->no_reboot = (flags >> 3) & 1;
    c->no_power_button = !((flags >> 4) & 1);
    c->console_in_fd = ro->console_in_fd;
    c->console_out_fd = ro->console_out_fd;
    c->console_escapes = ro->console_escapes;
    L->ram_size = c->ram_size;
    void *ram = vm_ram_alloc(c->ram_size, &L->ram_fd);
    if (!ram)
        return rv_error_set(-ENOMEM, "cannot map %llu MiB of guest RAM",
                            (unsigned long long)(c->ram_size >> 20));
    L->ram = ram;
    return 0;
}

static void *ram_dest(void *opaque, uint64_t index)
{
    struct loader *L = opaque;
    const struct rv_restore_opts *ro = L->lo->ro;
    if (ro->progress && ++L->pages_loaded % 4096 == 0)
        ro->progress(ro->opaque, index * RV_PAGE_SIZE, L->ram_size);
    return L->ram + index * RV_PAGE_SIZE; /* the batch checked index < ram_size pages */
}

/* RAM_MAPPED: the RAM image lies page-aligned in the file, mapped copy-on-write. */
static int read_ram_mapped(struct loader *L, const uint8_t *p, size_t len)
{
    struct rv_state_reader r;
    rv_state_reader_init(&r, p, len);
    uint64_t offset = rv_get_u64(&r), size = rv_get_u64(&r);
    struct stat st;
    struct rv_stream *s = L->s;
    if (r.error || r.pos != len)
        return rv_error_set(-EINVAL, "%s: bad RAM image record", s->what);
    if (s->fd < 0 || fstat(s->fd, &st) || !S_ISREG(st.st_mode))
        return rv_error_set(-EINVAL, "%s: a mapped RAM image needs a regular file", s->what);
    if (size != L->ram_size || (offset & (RV_PAGE_SIZE - 1)) || offset < s->pos ||
        offset > (uint64_t)st.st_size || size > (uint64_t)st.st_size - offset)
        return rv_error_set(-EINVAL, "%s: RAM image out of place or truncated", s->what);
    void *m = mmap(L->ram, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE,
                   s->fd, (off_t)offset);
    if (m == MAP_FAILED)
        return rv_error_set(-errno, "%s: cannot map the RAM image: %s", s->what, strerror(errno));
    if (lseek(s->fd, (off_t)(offset + size), SEEK_SET) < 0)
        return rv_error_set(-errno, "%s: seek: %s", s->what, strerror(errno));
    s->pos = offset + size;
    L->mapped = true;
    return 0;
}

/* DISK: le32 index, the spec of the image holding disk `index`'s contents. */
static int read_disk(struct loader *L, const uint8_t *p, size_t len)
{
    struct rv_state_reader r;
    rv_state_reader_init(&r, p, len);
    uint32_t index = rv_get_u32(&r);
    const char *spec;
    int rc = get_str(&r, L, &spec);
    if (rc || !spec || r.pos != len || index >= L->cfg.ndisks || L->disk_image[index])
        return rc ? rc : rv_error_set(-EINVAL, "disk record: bad or repeated disk");
    L->disk_image[index] = (char *)spec;
    return 0;
}

static char *keep(struct loader *L, char *p)
{
    if (!p || L->nstrings == 32) {
        free(p);
        return NULL;
    }
    return L->strings[L->nstrings++] = p;
}

/* Restore: a new qcow2 overlay on the image the snapshot froze, named after the snapshot. */
static int disk_overlay(struct loader *L, unsigned i, const char *image)
{
    const char *comma = strchr(image, ',');
    size_t plen = comma ? (size_t)(comma - image) : strlen(image);
    char backing[MAX_STRING], path[MAX_STRING], opts[MAX_STRING] = "";
    snprintf(backing, sizeof(backing), "%.*s", (int)plen, image);
    struct rv_block_opts bo;
    char *bpath;
    int rc = rv_virtio_blk_parse_spec(image, &bpath, &bo);
    if (rc)
        return rc;
    free(bpath);
    if (bo.readonly) { /* nothing to protect: the disk is used as it is */
        L->cfg.disks[i] = image;
        return 0;
    }
    /* The other options stay; the format is the overlay's. */
    for (const char *p = comma; p && *p;) {
        const char *next = strchr(p + 1, ',');
        size_t n = next ? (size_t)(next - p) : strlen(p);
        if (strncmp(p, ",format=", 8) != 0 && strlen(opts) + n < sizeof(opts))
            strncat(opts, p, n);
        p = next;
    }
    /* The first free name, taken with O_EXCL: clones restored at the same moment from one
     * snapshot must not pick the same one (they would share one overlay). */
    struct rv_block_create_opts co = {.format = RV_BLOCK_QCOW2, .backing_file = backing,
                                      .backing_format = bo.format, .exclusive = true};
    for (unsigned k = 1;; k++) {
        if (snprintf(path, sizeof(path), "%s.disk%u.%u.qcow2", L->lo->overlay_base, i, k) >=
            (int)sizeof(path))
            return rv_error_set(-ENAMETOOLONG, "disk %u overlay: name too long", i);
        rc = rv_block_create(path, &co);
        if (rc != -EEXIST)
            break;
        if (k == 100000)
            return rv_error_set(-EEXIST, "%s: too many overlays", path);
    }
    if (rc)
        return rv_error_prefix(rc, "disk %u overlay: ", i);
    char *spec;
    if (asprintf(&spec, "%s,format=qcow2%s", path, opts) < 0)
        spec = NULL;
    L->cfg.disks[i] = keep(L, spec);
    if (!L->cfg.disks[i])
        return rv_error_set(-ENOMEM, "out of memory");
    if (L->lo->res)
        snprintf(L->lo->res->disk_overlays[i], sizeof(L->lo->res->disk_overlays[i]), "%s", path);
    return 0;
}

/* Clones: a random locally administered MAC for each NIC (52:54:00 as QEMU's). */
static int clone_macs(struct loader *L)
{
    for (unsigned i = 0; i < L->cfg.nnics; i++) {
        uint8_t b[3];
        if (getentropy(b, sizeof(b)))
            return rv_error_set(-errno, "getentropy: %s", strerror(errno));
        char *spec;
        const char *old = L->cfg.nics[i];
        const char *m = strstr(old, ",mac=");
        int keep_len = m ? (int)(m - old) : (int)strlen(old);
        const char *rest = m ? strchr(m + 1, ',') : NULL;
        if (asprintf(&spec, "%.*s,mac=52:54:00:%02x:%02x:%02x%s", keep_len, old, b[0], b[1],
                     b[2], rest ? rest : "") < 0)
            spec = NULL;
        L->cfg.nics[i] = keep(L, spec);
        if (!L->cfg.nics[i])
            return rv_error_set(-ENOMEM, "out of memory");
    }
    return 0;
}

/* The machine records start: build the VM from the configuration and move the RAM read so far
 * into it. */
static int vm_loader_create(struct loader *L)
{
    if (L->vm)
        return 0;
    int rc = vm_storage_finish(L->storage, L->lo->ro);
    for (unsigned i = 0; i < L->cfg.ndisks && !rc; i++) {
        if (L->disk_image[i])
            L->cfg.disks[i] = L->disk_image[i];
        const char *copy = vm_storage_target(L->storage, L->lo->ro, i);
        if (copy && !(L->cfg.disks[i] = keep(L, strdup(copy))))
            rc = rv_error_set(-ENOMEM, "out of memory");
        if (L->lo->overlay_base && !copy)
            rc = disk_overlay(L, i, L->cfg.disks[i]);
    }
    if (!rc && L->lo->ro->clone)
        rc = clone_macs(L);
    struct rv_vm *vm = NULL;
    if (!rc)
        rc = rv_vm_create(&L->cfg, &vm);
    if (rc)
        return rc;
    /* The strings the configuration points to belong to the VM from now on. */
    memcpy(vm->owned, L->strings, sizeof(L->strings[0]) * L->nstrings);
    L->nstrings = 0;
    void *m = mremap(L->ram, L->ram_size, L->ram_size, MREMAP_MAYMOVE | MREMAP_FIXED,
                     vm->bus.ram);
    if (m == MAP_FAILED) {
        rc = rv_error_set(-errno, "cannot move guest RAM into place: %s", strerror(errno));
        rv_vm_destroy(vm);
        return rc;
    }
    L->ram = NULL;
    /* The VM's RAM is the loader's now: its memfd, or a private mapping of the snapshot
     * file, which host-MMU windows cannot share. */
    if (L->mapped || L->ram_fd < 0) {
        vm_ram_fd_lost(vm);
    } else {
        vm_ram_fd_replace(vm, L->ram_fd);
        L->ram_fd = -1;
    }
    L->vm = vm;
    vm_drop_images(vm);
    boot_reset_harts(vm); /* time sources; the registers come from the hart records */
    for (unsigned i = 0; i < vm->nharts; i++)
        if (vm->vcpus[i].jit)
            rv_jit_flush(vm->vcpus[i].jit); /* translations of the boot images are stale */
    vm->restored = true;
    return 0;
}

static int read_clock(struct loader *L, const uint8_t *p, size_t len)
{
    if (len != 8 || L->clock)
        return rv_error_set(-EINVAL, "clock record: bad or repeated");
    struct rv_state_reader r;
    rv_state_reader_init(&r, p, len);
    uint64_t mtime = rv_get_u64(&r);
    int rc = vm_loader_create(L);
    if (rc)
        return rc;
    atomic_fetch_add(&L->vm->mtime_offset, mtime - vm_time(L->vm));
    L->clock = true;
    return 0;
}

static int read_device(struct loader *L, const uint8_t *p, size_t len)
{
    struct rv_state_reader r;
    rv_state_reader_init(&r, p, len);
    uint64_t base = rv_get_u64(&r);
    uint32_t nlen = rv_get_u32(&r);
    if (r.error || nlen > 64 || nlen > len - r.pos)
        return rv_error_set(-EINVAL, "device record: truncated");
    char name[65];
    rv_get_bytes(&r, name, nlen);
    name[nlen] = 0;
    struct rv_vm *vm = L->vm;
    for (unsigned i = 0; i < vm->iomap.count; i++) {
        struct rv_region *reg = &vm->iomap.regions[i];
        if (reg->base != base || strcmp(reg->ops->name, name) != 0 || !reg->ops->load)
            continue;
        if (L->loaded[i])
            return rv_error_set(-EINVAL, "device %s at 0x%llx: saved twice", name,
                                (unsigned long long)base);
        pthread_mutex_lock(&vm->dev_lock);
        int rc = reg->ops->load(reg->dev, &r);
        pthread_mutex_unlock(&vm->dev_lock);
        if (!rc && r.pos != r.len)
            rc = rv_error_set(-EINVAL, "%d trailing bytes", (int)(r.len - r.pos));
        if (rc)
            return rv_error_prefix(rc, "device %s at 0x%llx: ", name, (unsigned long long)base);
        L->loaded[i] = true;
        return 0;
    }
    return rv_error_set(-EINVAL, "device record for '%.64s' at 0x%llx: no such device in this "
                                 "machine", name, (unsigned long long)base);
}

static int read_hart(struct loader *L, const uint8_t *p, size_t len)
{
    struct rv_state_reader r;
    rv_state_reader_init(&r, p, len);
    uint32_t index = rv_get_u32(&r), hsm = rv_get_u32(&r);
    uint64_t start_addr = rv_get_u64(&r), start_opaque = rv_get_u64(&r);
    struct rv_vm *vm = L->vm;
    if (r.error || index >= vm->nharts || L->hart_loaded[index] || hsm > HSM_SUSPENDED)
        return rv_error_set(-EINVAL, "hart record: bad index or run state");
    struct rv_vcpu *v = &vm->vcpus[index];
    int rc = rv_hart_load(v->hart, &r);
    if (!rc && r.pos != r.len)
        rc = rv_error_set(-EINVAL, "trailing bytes");
    if (rc)
        return rv_error_prefix(rc, "hart %u: ", index);
    v->hsm = (enum vcpu_hsm)hsm;
    v->start_addr = start_addr;
    v->start_opaque = start_opaque;
    L->hart_loaded[index] = true;
    return 0;
}

/* Everything a complete stream must have had. */
static int check_complete(struct loader *L)
{
    if (!L->vm || !L->clock)
        return rv_error_set(-EINVAL, "%s: incomplete: no machine state", L->s->what);
    struct rv_vm *vm = L->vm;
    for (unsigned i = 0; i < vm->iomap.count; i++)
        if (vm->iomap.regions[i].ops->load && !vm->iomap.regions[i].ops->state_optional &&
            !L->loaded[i])
            return rv_error_set(-EINVAL, "%s: incomplete: no state for %s at 0x%llx", L->s->what,
                                vm->iomap.regions[i].ops->name,
                                (unsigned long long)vm->iomap.regions[i].base);
    for (unsigned i = 0; i < vm->nharts; i++)
        if (!L->hart_loaded[i])
            return rv_error_set(-EINVAL, "%s: incomplete: no state for hart %u", L->s->what, i);
    return 0;
}

static int apply_record(struct loader *L, const struct rv_record *rec)
{
    bool have_cfg = L->ram != NULL || L->vm != NULL;
    if (rec->version != 1)
        return rv_error_set(-EINVAL, "section %u: unsupported version %u", rec->id, rec->version);
    if ((rec->id == RV_SEC_CONFIG) == have_cfg)
        return rv_error_set(-EINVAL, have_cfg ? "configuration given twice"
                                              : "the configuration must come first");
    bool machine = rec->id == RV_SEC_DEVICE || rec->id == RV_SEC_HART;
    if (machine && !L->clock)
        return rv_error_set(-EINVAL, "section %u before the clock", rec->id);
    bool ram = rec->id == RV_SEC_RAM_PAGES || rec->id == RV_SEC_RAM_MAPPED ||
               rec->id == RV_SEC_DISK || rec->id == RV_SEC_DISK_DATA;
    if (ram && L->vm)
        return rv_error_set(-EINVAL, "section %u after the machine state", rec->id);
    switch (rec->id) {
    case RV_SEC_CONFIG: return read_config(L, rec->payload, rec->len);
    case RV_SEC_RAM_PAGES:
        return rv_page_batch_apply(rec->payload, rec->len, 0, L->ram_size / RV_PAGE_SIZE,
                                   ram_dest, L);
    case RV_SEC_RAM_MAPPED: return read_ram_mapped(L, rec->payload, rec->len);
    case RV_SEC_DISK: return read_disk(L, rec->payload, rec->len);
    case RV_SEC_DISK_DATA: return vm_storage_apply(&L->storage, L->lo->ro, rec->payload, rec->len);
    case RV_SEC_CLOCK: return read_clock(L, rec->payload, rec->len);
    case RV_SEC_DEVICE: return read_device(L, rec->payload, rec->len);
    case RV_SEC_HART: return read_hart(L, rec->payload, rec->len);
    case RV_SEC_SYNC:
        /* Only a connection has someone to answer; the source waits for it. */
        if (rec->len || !L->s->is_socket ||
            send(L->s->fd, "S", 1, MSG_NOSIGNAL) != 1)
            return rv_error_set(-EINVAL, "sync record: unexpected or not answerable");
        return 0;
    default: return rv_error_set(-EINVAL, "section %u not expected here", rec->id);
    }
}

static void loader_free(struct loader *L)
{
    if (L->ram)
        munmap(L->ram, L->ram_size);
    if (L->ram_fd >= 0)
        close(L->ram_fd);
    for (unsigned i = 0; i < L->nstrings; i++)
        free(L->strings[i]);
}

int vm_state_load(struct rv_stream *s, const struct vm_loader_opts *lo, struct rv_vm **out)
{
    struct loader L = {.lo = lo, .s = s, .ram_fd = -1};
    int rc = 0;
    for (;;) {
        struct rv_record rec;
        rc = rv_stream_read_record(s, &rec);
        if (rc)
            break;
        if (rec.id == RV_SEC_END) {
            free(rec.payload);
            rc = check_complete(&L);
            break;
        }
        rc = apply_record(&L, &rec);
        free(rec.payload);
        if (rc) {
            rv_error_prefix(rc, "%s: ", s->what);
            break;
        }
    }
    vm_storage_in_free(L.storage, rc != 0);
    if (rc) {
        rv_vm_destroy(L.vm);
        loader_free(&L);
        return rc;
    }
    if (lo->res)
        lo->res->mapped = L.mapped;
    if (lo->ro->progress && L.pages_loaded)
        lo->ro->progress(lo->ro->opaque, L.ram_size, L.ram_size);
    *out = L.vm;
    loader_free(&L); /* the VM owns its RAM and strings now */
    return 0;
}
