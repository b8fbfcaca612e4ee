/* Atomic files of the manager's state folder (mgr_store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "hv/mgr_store.h"

int rv_mgr_write_atomic(int dirfd, const char *name, const char *data, size_t len)
{
    char tmp[300];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s" RV_MGR_TMP_SUFFIX, name) >= sizeof(tmp))
        return rv_error_set(-ENAMETOOLONG, "%s: name too long", name);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return rv_error_set(-errno, "%s: %s", tmp, strerror(errno));
    int rc = 0;
    while (len && !rc) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = rv_error_set(n < 0 ? -errno : -EIO, "%s: write: %s", tmp, strerror(errno));
        else
            data += n, len -= (size_t)n;
    }
    if (!rc && fsync(fd) < 0)
        rc = rv_error_set(-errno, "%s: fsync: %s", tmp, strerror(errno));
    close(fd);
    if (!rc && renameat(dirfd, tmp, dirfd, name) < 0)
        rc = rv_error_set(-errno, "%s: rename: %s", name, strerror(errno));
    if (rc) {
        unlinkat(dirfd, tmp, 0);
        return rc;
    }
    /* The rename itself is durable once the folder is synced. */
    int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int rv_mgr_write_json(int dirfd, const char *name, json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text)
        return rv_error_set(-ENOMEM, "out of memory");
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        return rv_error_set(-ENOMEM, "out of memory");
    }
    line[n] = '\n';
    line[n + 1] = 0;
    int rc = rv_mgr_write_atomic(dirfd, name, line, n + 1);
    free(line);
    return rc;
}

json_t *rv_mgr_read_json(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return NULL;
    }
    json_error_t jerr;
    json_t *v = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

void rv_mgr_last_line(int dirfd, const char *name, char *buf, size_t size)
{
    buf[0] = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || size < 2) {
        if (fd >= 0)
            close(fd);
        return;
    }
    char tail[512];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t start = end > (off_t)sizeof(tail) ? end - (off_t)sizeof(tail) : 0;
    ssize_t n = end > 0 ? pread(fd, tail, (size_t)(end - start), start) : 0;
    close(fd);
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
        n--;
    ssize_t b = n;
    while (b > 0 && tail[b - 1] != '\n')
        b--;
    size_t len = 0;
    for (ssize_t i = b; i < n && len + 1 < size; i++)
        buf[len++] = tail[i] >= 0x20 && tail[i] < 0x7f ? tail[i] : '?';
    buf[len] = 0;
}

int rv_mgr_remove_dir(int parent, const char *name)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : rv_error_set(-errno, "%s: %s", name, strerror(errno));
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return rv_error_set(-errno, "%s: %s", name, strerror(errno));
    }
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlinkat(fd, e->d_name, 0);
    closedir(d);
    if (unlinkat(parent, name, AT_REMOVEDIR) < 0)
        return rv_error_set(-errno, "%s: %s", name, strerror(errno));
    return 0;
}

int rv_mgr_rotate_log(int dirfd, const char *name, off_t max)
{
    int fd = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= max) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    char old[300];
    snprintf(old, sizeof(old), "%s.1", name);
    char *buf = malloc(1 << 16);
    size_t cap = 1 << 16, len = 0;
    int rc = 0;
    /* The copy goes through memory in pieces: read a chunk, append it to the new NAME.1. */
    char tmp[310];
    snprintf(tmp, sizeof(tmp), "%s" RV_MGR_TMP_SUFFIX, old);
    int out = buf ? openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    if (out < 0)
        rc = rv_error_set(buf ? -errno : -ENOMEM, "%s: cannot rotate", name);
    for (off_t off = 0; !rc;) {
        ssize_t n = pread(fd, buf, cap, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len = (size_t)n;
        if (write(out, buf, len) != (ssize_t)len)
            rc = rv_error_set(-EIO, "%s: write failed", tmp);
        off += n;
    }
    if (out >= 0) {
        if (!rc && fsync(out) < 0)
            rc = rv_error_set(-errno, "%s: fsync: %s", tmp, strerror(errno));
        close(out);
        if (!rc && renameat(dirfd, tmp, dirfd, old) < 0)
            rc = rv_error_set(-errno, "%s: rename: %s", old, strerror(errno));
        if (rc)
            unlinkat(dirfd, tmp, 0);
    }
    if (!rc && ftruncate(fd, 0) < 0)
        rc = rv_error_set(-errno, "%s: truncate: %s", name, strerror(errno));
    free(buf);
    close(fd);
    return rc ? rc : 1;
}
