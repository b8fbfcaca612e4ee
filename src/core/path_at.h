/* A file named by a directory descriptor and a name in it, so that it can still be removed or
 * replaced after the process lost access to paths (the sandbox's empty root, hv/sandbox.h). */
#ifndef RV_CORE_PATH_AT_H
#define RV_CORE_PATH_AT_H

struct rv_path_at {
    int dir_fd;   /* O_PATH descriptor of the directory, -1: none */
    char *name;   /* the last component of the path */
};

/* Opens the directory of `path` (which need not exist yet). Returns 0, or -errno with
 * rv_error_get() set; on failure *p is empty (dir_fd -1) and may be closed. */
int rv_path_at_open(const char *path, struct rv_path_at *p);
void rv_path_at_close(struct rv_path_at *p);

#endif
