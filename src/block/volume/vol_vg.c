/* Finding volume groups: the devices list, scanning PVs (label + both metadata slots), choosing
 * the newest valid metadata, the VG lock, and committing a new version. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/volume/vol.h"
#include "core/bytes.h"
#include "core/error.h"
#include "core/fsjail.h"

/* In-use locks live far beyond any data: byte INUSE_BASE + LV id of every PV; the pv-move
 * generation locks at GEN_BASE + 2 * LV id + (generation & 1). */
#define INUSE_BASE (1ull << 62)
#define GEN_BASE (1ull << 61)
#define OPEN_RETRIES 20

const char *vol_devices_path(const char *explicit_path)
{
    static char buf[4096];
    if (explicit_path && *explicit_path)
        return explicit_path;
    const char *env = getenv("RVISOR_VOL_DEVICES");
    if (env && *env)
        return env;
    const char *home = getenv("HOME");
    snprintf(buf, sizeof(buf), "%s/.config/rvisor/vol-devices", home ? home : ".");
    return buf;
}

/* Reads the list: one path per line; blank lines and '#' comments skipped. */
static int devices_read(const char *devices, char ***paths, unsigned *n)
{
    *paths = NULL;
    *n = 0;
    FILE *f = rv_fs_fopen(devices, "r");
    if (!f)
        return errno == ENOENT ? 0 : rv_error_set(-errno, "%s: %s", devices, strerror(errno));
    char line[4200];
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char **np = realloc(*paths, sizeof(char *) * (*n + 1));
        if (!np || !(np[*n] = strdup(line))) {
            if (np)
                *paths = np;
            rc = rv_error_set(-ENOMEM, "out of memory");
            break;
        }
        *paths = np;
        (*n)++;
    }
    fclose(f);
    return rc;
}

static void strv_free(char **v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int vol_devices_add(const char *devices, const char *path)
{
    char **paths;
    unsigned n;
    int rc = devices_read(devices, &paths, &n);
    if (rc)
        return rc;
    bool have = false;
    for (unsigned i = 0; i < n; i++)
        have |= strcmp(paths[i], path) == 0;
    strv_free(paths, n);
    if (have)
        return 0;
    FILE *f = fopen(devices, "ae");
    if (!f)
        return rv_error_set(-errno, "%s: %s", devices, strerror(errno));
    fprintf(f, "%s\n", path);
    if (fclose(f) != 0)
        return rv_error_set(-EIO, "%s: write failed", devices);
    return 0;
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off, const char *what)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return rv_error_set(-errno, "%s: read: %s", what, strerror(errno));
        if (n == 0)
            return rv_error_set(-EINVAL, "%s: truncated (ends at %" PRIu64 ")", what, off + done);
        done += (size_t)n;
    }
    return 0;
}

int vol_pv_read_label(int fd, const char *path, struct vol_label *l)
{
    uint8_t buf[VOL_LABEL_SIZE];
    int rc = pread_full(fd, buf, sizeof(buf), 0, path);
    return rc ? rc : vol_label_decode(buf, sizeof(buf), path, l);
}

/* Reads slot `i` in full and checks its payload; *meta gets the parsed metadata. */
static int slot_read(int fd, const char *path, const struct vol_label *l, int i,
                     struct vol_slot *s, struct vol_vg **meta)
{
    uint64_t slot_size = l->mda_size / 2, off = l->mda_offset + (uint64_t)i * slot_size;
    uint8_t hdr[VOL_SLOT_HDR];
    char what[4200];
    snprintf(what, sizeof(what), "%s: slot %d", path, i);
    int rc = pread_full(fd, hdr, sizeof(hdr), off, what);
    if (!rc)
        rc = vol_slot_decode(hdr, sizeof(hdr), slot_size, l->uuid, what, s);
    if (rc)
        return rc;
    char *text = malloc(s->len);
    if (!text)
        return rv_error_set(-ENOMEM, "out of memory");
    rc = pread_full(fd, text, s->len, off + VOL_SLOT_HDR, what);
    if (!rc && rv_crc32(text, s->len) != s->crc)
        rc = rv_error_set(-EILSEQ, "%s: metadata checksum mismatch (torn or corrupted write)",
                          what);
    if (!rc && meta) {
        rc = vol_meta_parse(text, s->len, meta);
        if (rc)
            rv_error_prefix(rc, "%s: ", what);
        else if ((*meta)->seq != s->seq) {
            vol_vg_free(*meta);
            *meta = NULL;
            rc = rv_error_set(-EINVAL, "%s: sequence number differs from its header", what);
        }
    }
    free(text);
    return rc;
}

int vol_pv_peek_seq(int fd, const struct vol_label *l, uint64_t *seq)
{
    *seq = 0;
    for (int i = 0; i < 2; i++) {
        uint8_t hdr[VOL_SLOT_HDR];
        struct vol_slot s;
        uint64_t slot_size = l->mda_size / 2;
        if (pread_full(fd, hdr, sizeof(hdr), l->mda_offset + (uint64_t)i * slot_size, "PV"))
            return -EIO;
        if (vol_slot_decode(hdr, sizeof(hdr), slot_size, l->uuid, "PV", &s) == 0 && s.seq > *seq)
            *seq = s.seq;
    }
    return 0;
}

static void scan_one(struct vol_scan_pv *p)
{
    p->fd = rv_fs_open(p->path, O_RDWR, 0);
    if (p->fd < 0 && (errno == EACCES || errno == EROFS))
        p->fd = rv_fs_open(p->path, O_RDONLY, 0);
    if (p->fd < 0) {
        p->error = -errno;
        snprintf(p->msg, sizeof(p->msg), "%s: %s", p->path, strerror(errno));
        return;
    }
    struct stat st;
    if (fstat(p->fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
        p->error = -EINVAL;
        snprintf(p->msg, sizeof(p->msg), "%s: not a regular file or block device", p->path);
        return;
    }
    p->error = vol_pv_read_label(p->fd, p->path, &p->label);
    if (p->error) {
        snprintf(p->msg, sizeof(p->msg), "%s", rv_error_get());
        return;
    }
    uint64_t size = (uint64_t)lseek(p->fd, 0, SEEK_END);
    if (size < p->label.mda_offset + p->label.mda_size) {
        p->error = -EINVAL;
        snprintf(p->msg, sizeof(p->msg), "%s: truncated: %" PRIu64 " bytes, but its metadata area "
                 "ends at %" PRIu64, p->path, size, p->label.mda_offset + p->label.mda_size);
        return;
    }
    p->cur_slot = -1;
    vol_pv_peek_seq(p->fd, &p->label, &p->peek_seq);
    for (int i = 0; i < 2; i++) {
        struct vol_slot s;
        struct vol_vg *meta = NULL;
        int rc = slot_read(p->fd, p->path, &p->label, i, &s, &meta);
        if (rc) {
            if (rc != -ENOENT)
                snprintf(p->slot_msg[i], sizeof(p->slot_msg[i]), "%s", rv_error_get());
            continue;
        }
        p->slot_seq[i] = s.seq;
        if (s.seq > p->seq) {
            vol_vg_free(p->meta);
            p->meta = meta;
            p->seq = s.seq;
            p->cur_slot = i;
        } else {
            vol_vg_free(meta);
        }
    }
}

void vol_scan_free(struct vol_scan_pv *s, unsigned n)
{
    for (unsigned i = 0; s && i < n; i++) {
        if (s[i].fd >= 0)
            close(s[i].fd);
        vol_vg_free(s[i].meta);
        free(s[i].path);
    }
    free(s);
}

int vol_scan(const char *devices, struct vol_scan_pv **out, unsigned *n)
{
    char **paths;
    int rc = devices_read(devices, &paths, n);
    if (rc)
        return rc;
    *out = calloc(*n ? *n : 1, sizeof(**out));
    if (!*out) {
        strv_free(paths, *n);
        return rv_error_set(-ENOMEM, "out of memory");
    }
    for (unsigned i = 0; i < *n; i++) {
        (*out)[i].path = paths[i];
        (*out)[i].fd = -1;
        scan_one(&(*out)[i]);
    }
    free(paths);
    return 0;
}

/* Takes the winning metadata for `name` out of the scan and gives it the PVs' fds. */
static int vg_from_scan(struct vol_scan_pv *s, unsigned n, const char *name, struct vol_vg **out)
{
    int best = -1;
    for (unsigned i = 0; i < n; i++) {
        if (!s[i].meta || strcmp(s[i].meta->name, name) != 0)
            continue;
        if (best >= 0 && memcmp(s[i].meta->uuid, s[best].meta->uuid, VOL_UUID_LEN) != 0)
            return rv_error_set(-EEXIST, "two different volume groups are named %s (%s, %s)",
                                name, s[best].path, s[i].path);
        if (best < 0 || s[i].meta->seq > s[best].meta->seq)
            best = (int)i;
    }
    if (best < 0)
        return rv_error_set(-ENOENT, "volume group %s not found (devices list: %d PVs)", name,
                            (int)n);
    struct vol_vg *vg = s[best].meta;
    s[best].meta = NULL;
    for (uint32_t p = 0; p < vg->npvs; p++) {
        struct vol_pv *pv = &vg->pvs[p];
        for (unsigned i = 0; i < n; i++) {
            if (s[i].error || s[i].fd < 0 || memcmp(s[i].label.uuid, pv->uuid, VOL_UUID_LEN))
                continue;
            if (pv->fd >= 0)
                continue; /* the same PV listed twice (two paths): use the first */
            pv->fd = s[i].fd;
            s[i].fd = -1;
            pv->label = s[i].label;
            pv->cur_slot = s[i].cur_slot;
            pv->slot_seq[0] = s[i].slot_seq[0];
            pv->slot_seq[1] = s[i].slot_seq[1];
            pv->peek_seq = s[i].peek_seq;
            /* A PV holding another VG's (or no) metadata is stale for this VG. */
            bool mine = s[i].meta ? memcmp(s[i].meta->uuid, vg->uuid, VOL_UUID_LEN) == 0
                                  : (int)i == best;
            pv->disk_seq = mine || (int)i == best ? s[i].seq : 0;
            free(pv->path);
            pv->path = strdup(s[i].path);
            if (!pv->path) {
                vol_vg_free(vg);
                return rv_error_set(-ENOMEM, "out of memory");
            }
        }
    }
    *out = vg;
    return 0;
}

static int cmp_fd_ident(const void *a, const void *b)
{
    const struct stat *x = a, *y = b;
    if (x->st_dev != y->st_dev)
        return x->st_dev < y->st_dev ? -1 : 1;
    return x->st_ino < y->st_ino ? -1 : x->st_ino > y->st_ino;
}

/* flock on every present PV, in (dev, ino) order so that two lockers never deadlock. */
static int vg_flock(struct vol_vg *vg, int op)
{
    struct stat st[VOL_MAX_PVS];
    int fds[VOL_MAX_PVS];
    unsigned n = 0;
    for (uint32_t i = 0; i < vg->npvs; i++) {
        if (vg->pvs[i].fd < 0 || fstat(vg->pvs[i].fd, &st[n]) < 0)
            continue;
        st[n].st_rdev = (dev_t)vg->pvs[i].fd; /* carried along through the sort */
        n++;
    }
    qsort(st, n, sizeof(st[0]), cmp_fd_ident);
    for (unsigned i = 0; i < n; i++)
        fds[i] = (int)st[i].st_rdev;
    for (unsigned i = 0; i < n; i++) {
        while (flock(fds[i], op) < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            for (unsigned k = 0; k < i; k++)
                flock(fds[k], LOCK_UN);
            return rv_error_set(-err, "volume group %s: lock: %s", vg->name, strerror(err));
        }
    }
    return 0;
}

bool vol_vg_changed(const struct vol_vg *vg)
{
    for (uint32_t i = 0; i < vg->npvs; i++) {
        uint64_t seq;
        if (vg->pvs[i].fd >= 0 && vol_pv_peek_seq(vg->pvs[i].fd, &vg->pvs[i].label, &seq) == 0 &&
            seq != vg->pvs[i].peek_seq)
            return true;
    }
    return false;
}

int vol_vg_open(const char *devices, const char *name, int mode, struct vol_vg **out)
{
    *out = NULL;
    devices = vol_devices_path(devices);
    for (int attempt = 0; attempt < OPEN_RETRIES; attempt++) {
        struct vol_scan_pv *s;
        unsigned n;
        struct vol_vg *vg = NULL;
        int rc = vol_scan(devices, &s, &n);
        if (!rc)
            rc = vg_from_scan(s, n, name, &vg);
        vol_scan_free(s, n);
        if (rc)
            return rc;
        if (!(vg->devices = strdup(devices))) {
            vol_vg_free(vg);
            return rv_error_set(-ENOMEM, "out of memory");
        }
        rc = vg_flock(vg, mode == VOL_OPEN_WRITE ? LOCK_EX : LOCK_SH);
        if (rc) {
            vol_vg_close(vg);
            return rc;
        }
        if (vol_vg_changed(vg)) {
            vol_vg_close(vg); /* someone committed between our scan and our lock */
            continue;
        }
        if (mode == VOL_OPEN_WRITE)
            vg->locked_ex = true;
        else
            vg_flock(vg, LOCK_UN);
        *out = vg;
        return 0;
    }
    return rv_error_set(-EAGAIN, "volume group %s: metadata keeps changing", name);
}

void vol_vg_close(struct vol_vg *vg)
{
    if (!vg)
        return;
    for (uint32_t i = 0; i < vg->npvs; i++) {
        if (vg->pvs[i].fd >= 0)
            close(vg->pvs[i].fd); /* drops the flock and the OFD locks */
        vg->pvs[i].fd = -1;
    }
    vol_vg_free(vg);
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off, const char *what)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return rv_error_set(n < 0 ? -errno : -EIO, "%s: write: %s", what,
                                n < 0 ? strerror(errno) : "no progress");
        done += (size_t)n;
    }
    while (fdatasync(fd) < 0) {
        if (errno != EINTR)
            return rv_error_set(-errno, "%s: fdatasync: %s", what, strerror(errno));
    }
    return 0;
}

/* One PV: header and payload in one write of the non-current slot, then fdatasync. */
static int pv_write_slot(struct vol_pv *pv, const char *text, size_t len, uint64_t seq)
{
    uint64_t slot_size = pv->label.mda_size / 2;
    if (len > slot_size - VOL_SLOT_HDR)
        return rv_error_set(-ENOSPC, "%s: metadata (%zu bytes) does not fit the metadata area "
                            "(%" PRIu64 " bytes per slot)", pv->path, len,
                            slot_size - VOL_SLOT_HDR);
    int slot = pv->cur_slot == 0 ? 1 : 0;
    if (pv->cur_slot < 0)
        slot = pv->slot_seq[0] <= pv->slot_seq[1] ? 0 : 1;
    uint8_t *buf = calloc(1, VOL_SLOT_HDR + len);
    if (!buf)
        return rv_error_set(-ENOMEM, "out of memory");
    struct vol_slot s = {.seq = seq, .len = (uint32_t)len, .crc = rv_crc32(text, len)};
    memcpy(s.pv_uuid, pv->label.uuid, VOL_UUID_LEN);
    vol_slot_encode(&s, buf);
    memcpy(buf + VOL_SLOT_HDR, text, len);
    int rc = pwrite_full(pv->fd, buf, VOL_SLOT_HDR + len,
                         pv->label.mda_offset + (uint64_t)slot * slot_size, pv->path);
    free(buf);
    if (rc)
        return rc;
    pv->cur_slot = slot;
    pv->slot_seq[slot] = seq;
    pv->peek_seq = seq > pv->peek_seq ? seq : pv->peek_seq;
    pv->disk_seq = seq;
    return 0;
}

int vol_vg_commit(struct vol_vg *vg)
{
    if (!vg->locked_ex)
        return rv_error_set(-EPERM, "volume group %s: commit without the lock", vg->name);
    vg->seq++;
    char *text;
    int rc = vol_meta_format(vg, &text);
    if (rc)
        return rc;
    size_t len = strlen(text);
    struct vol_vg *check; /* never write metadata we would refuse to read */
    if ((rc = vol_meta_parse(text, len, &check))) {
        vg->seq--;
        free(text);
        return rv_error_prefix(rc, "volume group %s: refusing to commit invalid metadata: ",
                               vg->name);
    }
    vol_vg_free(check);
    unsigned written = 0;
    for (uint32_t i = 0; i < vg->npvs && !rc; i++) {
        if (vg->pvs[i].fd < 0)
            continue;
        rc = pv_write_slot(&vg->pvs[i], text, len, vg->seq);
        written += rc == 0;
    }
    free(text);
    if (!rc && written == 0)
        rc = rv_error_set(-ENODEV, "volume group %s: no PV present to write metadata to",
                          vg->name);
    return rc;
}

int vol_pv_create(const char *devices, const char *path, uint64_t mda_size)
{
    if (!mda_size)
        mda_size = VOL_MDA_DEFAULT;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return rv_error_set(-errno, "%s: %s", path, strerror(errno));
    struct vol_label l = {.mda_offset = VOL_MDA_OFFSET, .mda_size = mda_size};
    struct stat st;
    int rc = 0;
    uint64_t size = 0;
    if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)))
        rc = rv_error_set(-EINVAL, "%s: not a regular file or block device", path);
    else if ((size = (uint64_t)lseek(fd, 0, SEEK_END)) == (uint64_t)-1)
        rc = rv_error_set(-errno, "%s: %s", path, strerror(errno));
    l.dev_size = size;
    l.pe_start = (VOL_MDA_OFFSET + mda_size + VOL_PE_ALIGN - 1) / VOL_PE_ALIGN * VOL_PE_ALIGN;
    if (!rc && flock(fd, LOCK_EX | LOCK_NB) < 0)
        rc = rv_error_set(-EBUSY, "%s: in use (locked by another rvisor process)", path);
    struct vol_label old;
    if (!rc && vol_pv_read_label(fd, path, &old) == 0)
        rc = rv_error_set(-EEXIST, "%s: already a physical volume", path);
    if (!rc && size < l.pe_start + VOL_PE_ALIGN)
        rc = rv_error_set(-ENOSPC, "%s: too small for a PV (%" PRIu64 " bytes; at least %" PRIu64
                          ")", path, size, l.pe_start + VOL_PE_ALIGN);
    if (rc) {
        close(fd);
        return rc;
    }
    int ufd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (ufd < 0 || pread_full(ufd, l.uuid, VOL_UUID_LEN, 0, "/dev/urandom") != 0)
        rc = rv_error_set(-EIO, "cannot read /dev/urandom for a uuid");
    if (ufd >= 0)
        close(ufd);
    uint8_t *buf = calloc(1, VOL_MDA_OFFSET + mda_size);
    if (!buf)
        rc = rc ? rc : rv_error_set(-ENOMEM, "out of memory");
    if (!rc) {
        /* Both slots empty first, the label last: a crash leaves no half-made PV. */
        rc = pwrite_full(fd, buf, VOL_MDA_OFFSET + mda_size, 0, path);
        vol_label_encode(&l, buf);
        if (!rc)
            rc = pwrite_full(fd, buf, VOL_LABEL_SIZE, 0, path);
    }
    free(buf);
    close(fd);
    if (!rc) {
        char *real = realpath(path, NULL);
        rc = vol_devices_add(vol_devices_path(devices), real ? real : path);
        free(real);
    }
    return rc;
}

int vol_byte_lock(int fd, short type, uint64_t byte, bool wait)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = (off_t)byte, .l_len = 1};
    while (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

int vol_lv_inuse_lock(const struct vol_vg *vg, uint32_t lv_id, bool exclusive)
{
    for (uint32_t i = 0; i < vg->npvs; i++) {
        if (vg->pvs[i].fd < 0)
            continue;
        int rc = vol_byte_lock(vg->pvs[i].fd, exclusive ? F_WRLCK : F_RDLCK, INUSE_BASE + lv_id,
                               false);
        if (rc == -EAGAIN || rc == -EACCES)
            return rv_error_set(-EBUSY, "logical volume is in use (by a VM, an NBD server or "
                                "another tool)");
        if (rc)
            return rv_error_set(rc, "%s: lock: %s", vg->pvs[i].path, strerror(-rc));
    }
    return 0;
}

int vol_lv_check_unused(const struct vol_vg *vg, const struct vol_lv *lv)
{
    int rc = vol_lv_inuse_lock(vg, lv->id, true);
    if (rc)
        return rv_error_prefix(rc, "%s/%s: ", vg->name, lv->name);
    for (uint32_t i = 0; i < vg->npvs; i++)
        if (vg->pvs[i].fd >= 0)
            vol_byte_lock(vg->pvs[i].fd, F_UNLCK, INUSE_BASE + lv->id, false);
    return 0;
}

static uint64_t gen_byte(uint32_t lv_id, uint32_t gen)
{
    return GEN_BASE + 2ull * lv_id + (gen & 1);
}

void vol_lv_gen_hold(const struct vol_vg *vg, uint32_t lv_id, uint32_t gen, bool hold)
{
    for (uint32_t i = 0; i < vg->npvs; i++)
        if (vg->pvs[i].fd >= 0)
            vol_byte_lock(vg->pvs[i].fd, hold ? F_RDLCK : F_UNLCK, gen_byte(lv_id, gen), false);
}

int vol_lv_gen_wait(const struct vol_vg *vg, uint32_t lv_id, uint32_t gen)
{
    for (uint32_t i = 0; i < vg->npvs; i++) {
        if (vg->pvs[i].fd < 0)
            continue;
        int rc = vol_byte_lock(vg->pvs[i].fd, F_WRLCK, gen_byte(lv_id, gen), true);
        if (rc)
            return rv_error_set(rc, "%s: waiting for the LV's users: %s", vg->pvs[i].path,
                                strerror(-rc));
        vol_byte_lock(vg->pvs[i].fd, F_UNLCK, gen_byte(lv_id, gen), false);
    }
    return 0;
}
