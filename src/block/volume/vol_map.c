/* From logical volume offsets to PV offsets (linear concatenation, striping), and extent copies
 * for pv-move and mirror resync. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/volume/vol.h"
#include "core/error.h"

#define COPY_CHUNK (1u << 20)

int vol_area_map(const struct vol_vg *vg, const struct vol_area *a, uint64_t off,
                 uint32_t *pv, uint64_t *pv_off, uint64_t *avail)
{
    uint64_t ext = off / vg->extent_size;
    uint32_t lo = 0, hi = a->nruns;
    while (lo < hi) { /* the run with le <= ext < le + count */
        uint32_t mid = lo + (hi - lo) / 2;
        const struct vol_run *r = &a->runs[mid];
        if (ext < r->le)
            hi = mid;
        else if (ext >= r->le + r->count)
            lo = mid + 1;
        else {
            uint64_t in_run = off - r->le * vg->extent_size;
            *pv = r->pv;
            *pv_off = vg->pvs[r->pv].pe_start + r->pe * vg->extent_size + in_run;
            *avail = r->count * vg->extent_size - in_run;
            return 0;
        }
    }
    return rv_error_set(-EIO, "volume group %s: offset %" PRIu64 " is not mapped", vg->name, off);
}

void vol_lv_map(const struct vol_vg *vg, const struct vol_lv *lv, uint64_t off, uint32_t *area,
                uint64_t *area_off, uint64_t *avail)
{
    if (lv->type != VOL_STRIPED) {
        *area = 0;
        *area_off = off;
        *avail = lv->extents * vg->extent_size - off;
        return;
    }
    /* Chunk c of the LV is chunk c / N of stripe c % N. */
    uint64_t s = lv->stripe_size, chunk = off / s, n = lv->nareas;
    *area = (uint32_t)(chunk % n);
    *area_off = (chunk / n) * s + off % s;
    *avail = s - off % s;
}

static int rw_full(int fd, bool write, void *buf, size_t len, uint64_t off, const char *path)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write ? pwrite(fd, (char *)buf + done, len - done, (off_t)(off + done))
                          : pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return rv_error_set(-errno, "%s: %s", path, strerror(errno));
        if (n == 0 && write)
            return rv_error_set(-EIO, "%s: write made no progress", path);
        if (n == 0) { /* a sparse file shorter than its data area reads as zeros */
            memset((char *)buf + done, 0, len - done);
            break;
        }
        done += (size_t)n;
    }
    return 0;
}

int vol_area_copy(const struct vol_vg *vg, const struct vol_area *src, const struct vol_area *dst,
                  uint64_t start, uint64_t len)
{
    char *buf = malloc(COPY_CHUNK);
    if (!buf)
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = 0;
    for (uint64_t off = start, bytes = start + len; off < bytes && !rc;) {
        uint32_t sp, dp;
        uint64_t so, dof, sa, da;
        if ((rc = vol_area_map(vg, src, off, &sp, &so, &sa)) ||
            (rc = vol_area_map(vg, dst, off, &dp, &dof, &da)))
            break;
        uint64_t n = bytes - off;
        n = n < sa ? n : sa;
        n = n < da ? n : da;
        n = n < COPY_CHUNK ? n : COPY_CHUNK;
        if (vg->pvs[sp].fd < 0 || vg->pvs[dp].fd < 0) {
            rc = rv_error_set(-ENODEV, "volume group %s: a PV of the copy is missing", vg->name);
            break;
        }
        if (!(rc = rw_full(vg->pvs[sp].fd, false, buf, n, so, vg->pvs[sp].path)))
            rc = rw_full(vg->pvs[dp].fd, true, buf, n, dof, vg->pvs[dp].path);
        off += n;
    }
    free(buf);
    for (uint32_t p = 0; p < vg->npvs && !rc; p++)
        if (vg->pvs[p].fd >= 0 && fdatasync(vg->pvs[p].fd) < 0)
            rc = rv_error_set(-errno, "%s: fdatasync: %s", vg->pvs[p].path, strerror(errno));
    return rc;
}

/* Zeros one PV range: deallocate (files), else zero-range, else write zeros. */
static int pv_zero(const struct vol_pv *pv, uint64_t off, uint64_t len)
{
    if (fallocate(pv->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0 ||
        fallocate(pv->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    char *zero = calloc(1, COPY_CHUNK);
    if (!zero)
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = 0;
    for (uint64_t done = 0; done < len && !rc;) {
        uint64_t n = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
        rc = rw_full(pv->fd, true, zero, n, off + done, pv->path);
        done += n;
    }
    free(zero);
    return rc;
}

int vol_area_zero(const struct vol_vg *vg, const struct vol_area *a, uint64_t start, uint64_t len)
{
    for (uint64_t off = start; off < start + len;) {
        uint32_t pv;
        uint64_t pv_off, avail;
        int rc = vol_area_map(vg, a, off, &pv, &pv_off, &avail);
        if (rc)
            return rc;
        uint64_t n = start + len - off < avail ? start + len - off : avail;
        if (vg->pvs[pv].fd < 0)
            return rv_error_set(-ENODEV, "%s: PV is missing", vg->pvs[pv].path);
        if ((rc = pv_zero(&vg->pvs[pv], pv_off, n)))
            return rc;
        off += n;
    }
    return 0;
}

int vol_pv_copy(const struct vol_vg *vg, uint32_t src, uint64_t soff, uint32_t dst, uint64_t doff,
                uint64_t len)
{
    if (vg->pvs[src].fd < 0 || vg->pvs[dst].fd < 0)
        return rv_error_set(-ENODEV, "volume group %s: a PV of the copy is missing", vg->name);
    char *buf = malloc(COPY_CHUNK);
    if (!buf)
        return rv_error_set(-ENOMEM, "out of memory");
    int rc = 0;
    for (uint64_t done = 0; done < len && !rc;) {
        uint64_t n = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
        rc = rw_full(vg->pvs[src].fd, false, buf, n, soff + done, vg->pvs[src].path);
        if (!rc)
            rc = rw_full(vg->pvs[dst].fd, true, buf, n, doff + done, vg->pvs[dst].path);
        done += n;
    }
    free(buf);
    return rc;
}
