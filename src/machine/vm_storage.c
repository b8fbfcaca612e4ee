/* Disks copied along with a live migration (`rvisor migrate --copy-storage`, docs/state.md).
 *
 * Source: dirty-block tracking is turned on for every writable disk (block.h, chunks of
 * RV_BLOCK_DIRTY_CHUNK bytes) and all chunks are pending. Each pre-copy round sends the
 * pending chunks and then takes the ones written meanwhile; the stop-and-copy sends the last
 * ones, with the disk workers quiesced. Stream records, RV_SEC_DISK_DATA version 1:
 *   le32 disk, le32 kind, le64 offset, le64 length, then for DATA `length` bytes (the header
 *   is 24 bytes, so the data in a malloc'd record buffer is 8-byte aligned for
 *   rv_page_is_zero())
 *   kind START (offset 0, length = the disk's virtual size), DATA, ZERO (reads as zeros).
 *
 * Destination: a START opens the image given for that disk (`rvisor run --incoming ...
 * --disk SPEC`, by position), creating a sparse raw file of the size if it does not exist,
 * and refuses an existing image of another size; DATA and ZERO write into it. The VM built at
 * the end uses that image instead of the path the source named. On failure a file the
 * destination created is removed again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "core/bytes.h"
#include "core/error.h"
#include "core/fsjail.h"
#include "core/log.h"
#include "core/serial.h"
#include "dev/virtio_blk.h"
#include "machine/vm_internal.h"
#include "state/ram.h"
#include "state/stream.h"

enum { KIND_START = 0, KIND_DATA = 1, KIND_ZERO = 2 };
#define HDR_LEN 24

struct storage_disk {
    struct rv_block *b;      /* NULL: not copied (read-only or no disk) */
    uint64_t size;
    uint64_t *pending;       /* chunks to send */
    size_t words;
    bool started;            /* START sent */
};

struct vm_storage {
    struct rv_vm *vm;
    struct storage_disk d[RV_MAX_DISKS];
    uint8_t *buf;            /* a record: header and one chunk */
    uint64_t bytes;          /* disk data sent (payload bytes, zeros not counted) */
};

static bool disk_writable(struct rv_vm *vm, unsigned i)
{
    return vm->blks[i] && !rv_block_readonly(rv_virtio_blk_disk(vm->blks[i]));
}

/* Tracking on or off, with the disk's worker paused unless the caller has it paused. */
static void track(struct rv_vm *vm, unsigned i, bool on, bool workers_paused, int *rc)
{
    if (!workers_paused)
        rv_virtio_blk_pause(vm->blks[i]);
    struct rv_block *b = rv_virtio_blk_disk(vm->blks[i]);
    if (on)
        *rc = rv_block_dirty_start(b);
    else
        rv_block_dirty_stop(b);
    if (!workers_paused)
        rv_virtio_blk_resume(vm->blks[i]);
}

void vm_storage_free(struct vm_storage *st, bool workers_paused)
{
    if (!st)
        return;
    for (unsigned i = 0; i < RV_MAX_DISKS; i++) {
        if (st->d[i].b)
            track(st->vm, i, false, workers_paused, &(int){0});
        free(st->d[i].pending);
    }
    free(st->buf);
    free(st);
}

int vm_storage_start(struct rv_vm *vm, struct vm_storage **out)
{
    struct vm_storage *st = calloc(1, sizeof(*st));
    if (!st || !(st->buf = malloc(HDR_LEN + RV_BLOCK_DIRTY_CHUNK))) {
        free(st);
        return rv_error_set(-ENOMEM, "out of memory");
    }
    st->vm = vm;
    int rc = 0;
    for (unsigned i = 0; i < vm->cfg.ndisks && !rc; i++) {
        if (!disk_writable(vm, i))
            continue;
        struct storage_disk *d = &st->d[i];
        struct rv_block *b = rv_virtio_blk_disk(vm->blks[i]);
        d->size = rv_block_size(b);
        d->words = rv_block_dirty_words(b);
        d->pending = calloc(d->words ? d->words : 1, sizeof(uint64_t));
        if (!d->pending) {
            rc = rv_error_set(-ENOMEM, "out of memory");
            break;
        }
        uint64_t chunks = (d->size + RV_BLOCK_DIRTY_CHUNK - 1) / RV_BLOCK_DIRTY_CHUNK;
        for (uint64_t c = 0; c < chunks; c++)
            d->pending[c / 64] |= 1ull << (c % 64);
        track(vm, i, true, false, &rc);
        if (!rc)
            d->b = b;
    }
    if (rc) {
        vm_storage_free(st, false);
        return rc;
    }
    *out = st;
    return 0;
}

uint64_t vm_storage_collect(struct vm_storage *st)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < RV_MAX_DISKS; i++)
        if (st->d[i].b)
            n += rv_block_dirty_take(st->d[i].b, st->d[i].pending);
    return n;
}

static int send_chunk(struct vm_storage *st, struct rv_stream *s, unsigned i, uint32_t kind,
                      uint64_t offset, uint64_t len)
{
    uint8_t *h = st->buf;
    rv_put_le32(h, i);
    rv_put_le32(h + 4, kind);
    rv_put_le64(h + 8, offset);
    rv_put_le64(h + 16, len);
    size_t total = HDR_LEN;
    if (kind == KIND_DATA) {
        struct iovec iov = {h + HDR_LEN, (size_t)len};
        int rc = rv_block_readv(st->d[i].b, offset, &iov, 1);
        if (rc)
            return rv_error_prefix(rc, "disk %u: ", i);
        bool zero = true;
        for (uint64_t p = 0; p < len && zero; p += RV_PAGE_SIZE)
            zero = rv_page_is_zero(h + HDR_LEN + p);
        if (zero)
            rv_put_le32(h + 4, KIND_ZERO);
        else
            total += (size_t)len, st->bytes += len;
    }
    return rv_stream_write_record(s, RV_SEC_DISK_DATA, 1, h, total);
}

int vm_storage_send(struct vm_storage *st, struct rv_stream *s)
{
    int rc = 0;
    for (unsigned i = 0; i < RV_MAX_DISKS && !rc; i++) {
        struct storage_disk *d = &st->d[i];
        if (!d->b)
            continue;
        if (rv_block_size(d->b) != d->size)
            return rv_error_set(-EBUSY, "disk %u changed size while being copied", i);
        if (!d->started) {
            rc = send_chunk(st, s, i, KIND_START, 0, d->size);
            d->started = true;
        }
        for (size_t w = 0; w < d->words && !rc; w++) {
            uint64_t bits = d->pending[w];
            d->pending[w] = 0;
            while (bits && !rc) {
                uint64_t c = w * 64 + (unsigned)__builtin_ctzll(bits);
                bits &= bits - 1;
                uint64_t off = c * RV_BLOCK_DIRTY_CHUNK, len = d->size - off;
                if (len > RV_BLOCK_DIRTY_CHUNK)
                    len = RV_BLOCK_DIRTY_CHUNK;
                rc = send_chunk(st, s, i, KIND_DATA, off, len);
            }
        }
    }
    return rc;
}

uint64_t vm_storage_bytes(const struct vm_storage *st)
{
    return st ? st->bytes : 0;
}

/* --- destination --- */

struct vm_storage_in {
    struct rv_block *b[RV_MAX_DISKS];
    char *created[RV_MAX_DISKS];   /* a file made here: removed on failure */
    bool started[RV_MAX_DISKS];
};

static int target_open(struct vm_storage_in *in, const struct rv_restore_opts *ro, unsigned i,
                       uint64_t size)
{
    if (i >= ro->ndisks || !ro->disks[i])
        return rv_error_set(-EINVAL, "disk %u is copied (migrate --copy-storage): give the "
                                     "destination an image for it (--disk, in order)", i);
    char *path;
    struct rv_block_opts bo;
    int rc = rv_virtio_blk_parse_spec(ro->disks[i], &path, &bo);
    if (rc)
        return rc;
    struct stat sb;
    if (!rc && stat(path, &sb) != 0) {
        struct rv_block_create_opts co = {.format = bo.format == RV_BLOCK_QCOW2 ? RV_BLOCK_QCOW2
                                                                               : RV_BLOCK_RAW,
                                          .size = size};
        rc = rv_block_create(path, &co);
        if (!rc)
            in->created[i] = strdup(path);
    }
    if (!rc && bo.readonly)
        rc = rv_error_set(-EROFS, "%s: a copy target cannot be read-only", path);
    if (!rc)
        rc = rv_block_open(path, &bo, &in->b[i]);
    if (!rc && rv_block_size(in->b[i]) != size)
        rc = rv_error_set(-EINVAL, "%s: %llu bytes, the source's disk %u has %llu", path,
                          (unsigned long long)rv_block_size(in->b[i]), i,
                          (unsigned long long)size);
    if (!rc)
        rv_info("disk %u: copying into %s", i, path);
    free(path);
    return rc;
}

int vm_storage_apply(struct vm_storage_in **inp, const struct rv_restore_opts *ro,
                     const uint8_t *p, size_t len)
{
    if (len < HDR_LEN)
        return rv_error_set(-EINVAL, "disk data record: truncated");
    uint32_t i = rv_get_le32(p), kind = rv_get_le32(p + 4);
    uint64_t off = rv_get_le64(p + 8), n = rv_get_le64(p + 16);
    if (i >= RV_MAX_DISKS || kind > KIND_ZERO)
        return rv_error_set(-EINVAL, "disk data record: bad disk or kind");
    if (!*inp && !(*inp = calloc(1, sizeof(**inp))))
        return rv_error_set(-ENOMEM, "out of memory");
    struct vm_storage_in *in = *inp;
    if (kind == KIND_START) {
        if (in->started[i] || len != HDR_LEN || off != 0 || n == 0)
            return rv_error_set(-EINVAL, "disk data record: bad or repeated start of disk %u", i);
        in->started[i] = true;
        return target_open(in, ro, i, n);
    }
    struct rv_block *b = in->b[i];
    if (!b || n > RV_BLOCK_DIRTY_CHUNK || off > rv_block_size(b) || n > rv_block_size(b) - off ||
        len != HDR_LEN + (kind == KIND_DATA ? n : 0))
        return rv_error_set(-EINVAL, "disk data record: out of range for disk %u", i);
    if (kind == KIND_ZERO)
        return rv_block_write_zeroes(b, off, n, false);
    struct iovec iov = {(void *)(p + HDR_LEN), (size_t)n};
    return rv_block_writev(b, off, &iov, 1);
}

const char *vm_storage_target(struct vm_storage_in *in, const struct rv_restore_opts *ro,
                              unsigned i)
{
    (void)in; /* vm_storage_finish() checked that each image given is right for its disk */
    return i < ro->ndisks ? ro->disks[i] : NULL;
}

/* A --disk given for a disk that is not copied (a read-only one: where the destination has
 * it) must be read-only itself: an uncopied writable disk would run on stale contents. */
static bool given_readonly(const char *spec)
{
    char *path;
    struct rv_block_opts bo;
    if (rv_virtio_blk_parse_spec(spec, &path, &bo))
        return false;
    free(path);
    return bo.readonly;
}

int vm_storage_finish(struct vm_storage_in *in, const struct rv_restore_opts *ro)
{
    for (unsigned i = 0; i < ro->ndisks; i++)
        if (ro->disks[i] && !(in && in->started[i]) && !given_readonly(ro->disks[i]))
            return rv_error_set(-EINVAL, "an image was given for disk %u, but the source does "
                                         "not copy it (migrate --copy-storage; a disk that is "
                                         "not copied can only be named ,readonly)", i);
    int rc = 0;
    for (unsigned i = 0; in && i < RV_MAX_DISKS; i++) {
        if (in->b[i] && !rc)
            rc = rv_block_flush(in->b[i]);
        rv_block_close(in->b[i]);
        in->b[i] = NULL;
    }
    return rc;
}

void vm_storage_in_free(struct vm_storage_in *in, bool failed)
{
    if (!in)
        return;
    for (unsigned i = 0; i < RV_MAX_DISKS; i++) {
        rv_block_close(in->b[i]);
        if (failed && in->created[i])
            rv_fs_unlink(in->created[i]);
        free(in->created[i]);
    }
    free(in);
}
