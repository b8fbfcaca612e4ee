/* Run-time file access through directory descriptors (fsjail.h). */
#include "core/fsjail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/mount.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct fs_dir {
    char *path; /* absolute, normalised, no trailing slash (except "/") */
    int fd;
};

static struct {
    pthread_mutex_t lock;
    struct fs_dir dirs[RV_FS_MAX_DIRS];
    unsigned ndirs;
    bool overflow;   /* a directory could not be remembered */
    bool confined;
    char cwd[PATH_MAX];
    char state_dir[PATH_MAX];
    char state_real[PATH_MAX];
} fs = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* `path` made absolute against `cwd` with "." and ".." removed and slashes collapsed. */
static int normalise(const char *cwd, const char *path, char *out, size_t size)
{
    char buf[PATH_MAX * 2];
    int n = path[0] == '/' ? snprintf(buf, sizeof(buf), "%s", path)
                           : snprintf(buf, sizeof(buf), "%s/%s", cwd, path);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -ENAMETOOLONG;
    size_t len = 0;
    char *save = NULL;
    for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            while (len > 0 && out[len] != '/')
                len--;
            out[len] = 0;
            continue;
        }
        size_t clen = strlen(c);
        if (len + 1 + clen + 1 > size)
            return -ENAMETOOLONG;
        out[len++] = '/';
        memcpy(out + len, c, clen + 1);
        len += clen;
    }
    if (len == 0) {
        if (size < 2)
            return -ENAMETOOLONG;
        strcpy(out, "/");
    }
    return 0;
}

static const char *current_dir(void)
{
    if (!fs.confined && !getcwd(fs.cwd, sizeof(fs.cwd)))
        strcpy(fs.cwd, "/");
    return fs.cwd;
}

/* Called with the lock held. Sets no error message: recording a file's directory must not
 * replace a message the caller is about to report (rv_fs_allow_dir sets its own). */
static int remember(const char *abs)
{
    for (unsigned i = 0; i < fs.ndirs; i++)
        if (strcmp(fs.dirs[i].path, abs) == 0)
            return 0;
    if (fs.ndirs == RV_FS_MAX_DIRS) {
        fs.overflow = true;
        return -ENOSPC;
    }
    char *copy = strdup(abs);
    if (!copy)
        return -ENOMEM;
    fs.dirs[fs.ndirs++] = (struct fs_dir){copy, -1};
    return 0;
}

int rv_fs_allow_dir(const char *dir)
{
    char abs[PATH_MAX];
    pthread_mutex_lock(&fs.lock);
    int rc = normalise(current_dir(), dir, abs, sizeof(abs));
    rc = rc ? rc : remember(abs);
    char *real = rc ? NULL : realpath(dir, NULL);
    if (real && strcmp(real, abs))
        rc = remember(real);
    free(real);
    pthread_mutex_unlock(&fs.lock);
    return rc ? rv_error_set(rc, "%s: cannot be made reachable for the sandbox: %s", dir,
                             rc == -ENOSPC ? "too many directories" : strerror(-rc))
              : 0;
}

/* The directory of a file opened before the lock-down (and of its target when it is reached
 * through symbolic links). */
static void remember_file(const char *path)
{
    char abs[PATH_MAX];
    pthread_mutex_lock(&fs.lock);
    if (!fs.confined && normalise(current_dir(), path, abs, sizeof(abs)) == 0) {
        char *slash = strrchr(abs, '/');
        if (slash == abs)
            slash[1] = 0;
        else
            *slash = 0;
        remember(abs);
        char *real = realpath(path, NULL);
        if (real) {
            slash = strrchr(real, '/');
            slash == real ? (void)(slash[1] = 0) : (void)(*slash = 0);
            if (strcmp(real, abs))
                remember(real);
            free(real);
        }
    }
    pthread_mutex_unlock(&fs.lock);
}

int rv_fs_confine(bool bind)
{
    pthread_mutex_lock(&fs.lock);
    current_dir();
    int rc = 0;
    for (unsigned i = 0; i < fs.ndirs && !rc; i++) {
        struct fs_dir *d = &fs.dirs[i];
        /* A detached copy of the mount: ".." at its root stays there (path_resolution(7)),
         * so nothing above the directory is reachable through it. */
        d->fd = bind ? (int)syscall(SYS_open_tree, AT_FDCWD, d->path,
                                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)
                     : -1;
        if (d->fd < 0)
            d->fd = open(d->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (d->fd < 0 && errno != ENOENT)
            rc = rv_error_set(-errno, "sandbox: %s: %s", d->path, strerror(errno));
    }
    if (fs.overflow)
        rv_warn("sandbox: more than %d directories with files of this VM; the others are "
                "not reachable at run time", RV_FS_MAX_DIRS);
    if (!rc)
        fs.confined = true;
    pthread_mutex_unlock(&fs.lock);
    return rc;
}

bool rv_fs_confined(void)
{
    return __atomic_load_n(&fs.confined, __ATOMIC_ACQUIRE);
}

unsigned rv_fs_dir_fds(int *fds, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fs.ndirs && n < max; i++)
        if (fs.dirs[i].fd >= 0)
            fds[n++] = fs.dirs[i].fd;
    return n;
}

/* The descriptor of the deepest directory holding `path` and the rest of the path below it.
 * -1 with errno EACCES when no directory holds it. */
static int lookup(const char *path, char *rel, size_t size)
{
    char abs[PATH_MAX];
    if (normalise(fs.cwd, path, abs, sizeof(abs))) {
        errno = ENAMETOOLONG;
        return -1;
    }
    const struct fs_dir *best = NULL;
    size_t best_len = 0;
    for (unsigned i = 0; i < fs.ndirs; i++) {
        const struct fs_dir *d = &fs.dirs[i];
        size_t len = strlen(d->path);
        bool root = len == 1;
        if (d->fd < 0 || len < best_len || strncmp(abs, d->path, len) ||
            (!root && abs[len] != '/' && abs[len]))
            continue;
        best = d;
        best_len = len;
    }
    if (!best) {
        errno = EACCES;
        return -1;
    }
    const char *r = abs + best_len + (best_len > 1);
    if (snprintf(rel, size, "%s", *r ? r : ".") >= (int)size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return best->fd;
}

int rv_fs_open(const char *path, int flags, mode_t mode)
{
    if (!rv_fs_confined()) {
        int fd = open(path, flags | O_CLOEXEC, mode);
        if (fd >= 0)
            remember_file(path);
        return fd;
    }
    char rel[PATH_MAX];
    int dir = lookup(path, rel, sizeof(rel));
    if (dir < 0)
        return -1;
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    int fd = (int)syscall(SYS_openat2, dir, rel, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS) /* before Linux 5.6: no symbolic link as the last part */
        fd = openat(dir, rel, flags | O_CLOEXEC | O_NOFOLLOW, mode);
    return fd;
}

FILE *rv_fs_fopen(const char *path, const char *mode)
{
    int flags = mode[0] == 'r' ? O_RDONLY : O_WRONLY | O_CREAT;
    if (strchr(mode, '+'))
        flags = (flags & ~(O_RDONLY | O_WRONLY)) | O_RDWR;
    if (mode[0] == 'w')
        flags |= O_TRUNC;
    if (mode[0] == 'a')
        flags |= O_APPEND;
    int fd = rv_fs_open(path, flags, 0666);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, mode);
    if (!f)
        close(fd);
    return f;
}

int rv_fs_rename(const char *from, const char *to)
{
    if (!rv_fs_confined())
        return rename(from, to);
    char r1[PATH_MAX], r2[PATH_MAX];
    int d1 = lookup(from, r1, sizeof(r1)), d2 = d1 < 0 ? -1 : lookup(to, r2, sizeof(r2));
    return d2 < 0 ? -1 : renameat(d1, r1, d2, r2);
}

int rv_fs_unlink(const char *path)
{
    if (!rv_fs_confined())
        return unlink(path);
    char rel[PATH_MAX];
    int dir = lookup(path, rel, sizeof(rel));
    return dir < 0 ? -1 : unlinkat(dir, rel, 0);
}

static int connect_path(int sock, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    return connect(sock, (struct sockaddr *)&sa, sizeof(sa));
}

int rv_fs_connect_unix(int sock, const char *path)
{
    if (!rv_fs_confined()) {
        int rc = connect_path(sock, path);
        if (rc == 0)
            remember_file(path);
        return rc;
    }
    char rel[PATH_MAX];
    pthread_mutex_lock(&fs.lock);
    int dir = lookup(path, rel, sizeof(rel)), rc = -1;
    /* The name must not climb out: lookup() removed "..", and as root the directory is a
     * detached mount whose ".." stays in it. */
    if (dir >= 0 && fchdir(dir) == 0) {
        rc = connect_path(sock, rel);
        int e = errno;
        if (chdir("/") < 0)
            rv_warn("sandbox: cannot return to the root directory: %s", strerror(errno));
        errno = e;
    }
    pthread_mutex_unlock(&fs.lock);
    return rc;
}

char *rv_fs_realpath(const char *path)
{
    if (!rv_fs_confined())
        return realpath(path, NULL);
    char abs[PATH_MAX];
    if (normalise(fs.cwd, path, abs, sizeof(abs))) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return strdup(abs);
}

int rv_fs_set_state_dir(const char *dir)
{
    char abs[PATH_MAX];
    if (normalise(current_dir(), dir, abs, sizeof(abs)))
        return rv_error_set(-ENAMETOOLONG, "%s: path too long", dir);
    snprintf(fs.state_dir, sizeof(fs.state_dir), "%s", abs);
    char *real = realpath(dir, NULL);
    snprintf(fs.state_real, sizeof(fs.state_real), "%s", real ? real : abs);
    free(real);
    return rv_fs_allow_dir(dir);
}

const char *rv_fs_state_dir(void)
{
    return fs.state_dir[0] ? fs.state_dir : NULL;
}

static bool below(const char *path, const char *dir)
{
    size_t len = strlen(dir);
    if (len == 1) /* "/" */
        return path[1] != 0;
    return strncmp(path, dir, len) == 0 && path[len] == '/' && path[len + 1];
}

int rv_fs_state_path(const char *what, const char *path, char *out, size_t size)
{
    if (!path || !*path)
        return rv_error_set(-EINVAL, "%s: empty file name", what);
    if (!fs.state_dir[0]) {
        if (snprintf(out, size, "%s", path) >= (int)size)
            return rv_error_set(-ENAMETOOLONG, "%s: file name too long", what);
        return 0;
    }
    for (const char *p = path; (p = strstr(p, "..")); p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '/' || !p[2]))
            return rv_error_set(-EINVAL, "%s '%s': '..' is not allowed (paths are confined to "
                                "the VM's state directory %s)", what, path, fs.state_dir);
    char abs[PATH_MAX];
    if (normalise(fs.state_dir, path, abs, sizeof(abs)) || strlen(abs) >= size)
        return rv_error_set(-ENAMETOOLONG, "%s: file name too long", what);
    if (!below(abs, fs.state_dir) && !below(abs, fs.state_real))
        return rv_error_set(-EINVAL, "%s '%s' is outside the VM's state directory %s (paths "
                            "in API requests are confined to it; give a name relative to it)",
                            what, path, fs.state_dir);
    strcpy(out, abs);
    return 0;
}
