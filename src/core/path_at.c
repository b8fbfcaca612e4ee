/* Directory descriptor + name (path_at.h). */
#include "core/path_at.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

int rv_path_at_open(const char *path, struct rv_path_at *p)
{
    p->dir_fd = -1;
    p->name = NULL;
    char *copy = strdup(path);
    if (!copy)
        return rv_error_set(-ENOMEM, "out of memory");
    char *slash = strrchr(copy, '/');
    const char *dir = ".";
    if (slash) {
        *slash = '\0';
        dir = slash == copy ? "/" : copy;
    }
    p->name = strdup(slash ? slash + 1 : copy);
    p->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int err = errno;
    free(copy);
    if (!p->name || p->dir_fd < 0 || !p->name[0]) {
        rv_path_at_close(p);
        return rv_error_set(-(err ? err : EINVAL), "%s: %s", path, strerror(err ? err : EINVAL));
    }
    return 0;
}

void rv_path_at_close(struct rv_path_at *p)
{
    if (p->dir_fd >= 0)
        close(p->dir_fd);
    free(p->name);
    p->dir_fd = -1;
    p->name = NULL;
}
