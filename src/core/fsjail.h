/* Run-time file access of a sandboxed VM process through directory descriptors (docs/sandbox.md,
 * "Run-time file access").
 *
 * Before the lock-down every file the VM opens by path goes through rv_fs_open(), which
 * remembers the directory it lives in (disk images and their backing files, volume PVs and the
 * volume device list, boot images, the snapshot a VM was restored from), and the control API's
 * state directory is added with rv_fs_allow_dir(). rv_fs_confine() then opens one directory
 * descriptor per remembered directory: as root a detached bind mount of it (open_tree(2)
 * OPEN_TREE_CLONE), whose ".." stops at the directory itself, otherwise an O_PATH descriptor.
 * From then on (the sandbox pivots into an empty root) rv_fs_open(), rv_fs_rename() and
 * rv_fs_unlink() map a path to the directory holding it and call openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS) / renameat / unlinkat relative to that descriptor; a path outside
 * every such directory fails with EACCES and a message naming it. Unconfined, they are open(2),
 * rename(2) and unlink(2). */
#ifndef RV_CORE_FSJAIL_H
#define RV_CORE_FSJAIL_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define RV_FS_MAX_DIRS 12

/* Adds a directory (made absolute) to the set reachable after rv_fs_confine(). Returns 0, or
 * -errno with rv_error_get() set (too many directories, out of memory). */
int rv_fs_allow_dir(const char *dir);

/* Opens the descriptors (detached bind mounts when `bind` and allowed) and switches to
 * descriptor-relative access. Must run before the process loses the host's paths. Returns
 * 0, or -errno with rv_error_get() set. */
int rv_fs_confine(bool bind);
bool rv_fs_confined(void);

/* The directory descriptors in use (for the seccomp allowlist); returns their number. */
unsigned rv_fs_dir_fds(int *fds, unsigned max);

/* open(2), rename(2), unlink(2), fopen(3) through the directory descriptors once confined.
 * Return as the calls they replace (errno set). rv_fs_open always adds O_CLOEXEC. */
int rv_fs_open(const char *path, int flags, mode_t mode);
int rv_fs_rename(const char *from, const char *to);
int rv_fs_unlink(const char *path);
FILE *rv_fs_fopen(const char *path, const char *mode);

/* connect(2) of a unix socket to the socket file at `path`. Confined, there is no connectat:
 * the process briefly moves its working directory into the directory descriptor holding the
 * socket (fchdir), connects to the relative name and goes back to "/" (the empty root), all
 * under a lock. Returns 0, or -1 with errno set (EACCES: no directory holds the path). */
int rv_fs_connect_unix(int sock, const char *path);

/* realpath(3) unconfined; confined (no host paths to resolve): the path made absolute against
 * the working directory the process had, "." and ".." components removed lexically. NULL
 * with errno set on failure; free() the result. */
char *rv_fs_realpath(const char *path);

/* The VM's state directory: paths named in control API requests must lie in it. */
int rv_fs_set_state_dir(const char *dir);
const char *rv_fs_state_dir(void);

/* `path` (relative: to the state directory) made absolute and checked to lie in the state
 * directory: no ".." component, no absolute path elsewhere. Writes it to out. Returns 0, or
 * -EACCES / -EINVAL / -ENAMETOOLONG with rv_error_get() set ("what" names the argument). */
int rv_fs_state_path(const char *what, const char *path, char *out, size_t size);

#endif
