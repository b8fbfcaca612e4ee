/* Console socket and status file of `rvisor run` (run_managed.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/run_managed.h"
#include "rvisor/vm.h"

int rv_cli_console_socket(const char *spec, int *in_fd, int *out_fd,
                          struct rv_console_server **out)
{
    char *path = strdup(spec);
    if (!path)
        return -1;
    char *log = strstr(path, ",log=");
    if (log) {
        *log = 0;
        log += 5;
    }
    int rc = 0;
    if (!*path || (log && !*log)) {
        fprintf(stderr, "rvisor: --console socket:PATH[,log=FILE]\n");
        rc = -1;
    } else if (rv_console_server_start(path, log, in_fd, out_fd, out)) {
        fprintf(stderr, "rvisor: console: %s\n", rv_error_get());
        rc = -1;
    }
    free(path);
    return rc;
}

int rv_cli_status_open(const char *path)
{
    if (!path)
        return -1;
    unlink(path); /* a status left by an earlier run must not be taken for this one's */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "rvisor: %s: %s\n", path, strerror(errno));
        return -2;
    }
    return fd;
}

void rv_cli_status_write(int fd, int status)
{
    if (fd < 0)
        return;
    char buf[16];
    int n = snprintf(buf, sizeof(buf), "%d\n", status);
    if (write(fd, buf, (size_t)n) != n || fsync(fd) < 0)
        fprintf(stderr, "rvisor: cannot write the status file: %s\n", strerror(errno));
    close(fd);
}
