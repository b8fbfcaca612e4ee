/* Console socket and status file of `rvisor run` (run_managed.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run_managed.h"
#include "hv/mgr_store.h"
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

void rv_cli_write_status(const char *path, int status)
{
    if (!path)
        return;
    char buf[16];
    int n = snprintf(buf, sizeof(buf), "%d\n", status);
    if (rv_mgr_write_atomic(AT_FDCWD, path, buf, (size_t)n))
        fprintf(stderr, "rvisor: %s\n", rv_error_get());
}
