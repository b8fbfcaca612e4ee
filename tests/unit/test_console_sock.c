/* The console socket of `rvisor run --console socket:` (src/hv/console_sock.c): output reaches
 * the log and the attached client, a new client gets the last output replayed, input reaches
 * the VM, a second client is turned away, a stalled client does not stall the log, a stale
 * socket file is replaced. */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv/api_client.h"
#include "hv/console_sock.h"
#include "test.h"

static char dir[64], sock[128], log_path[128];

/* Reads from fd until `want` has been seen or 10 s passed; returns whether it was seen. */
static bool read_until(int fd, const char *want, char *buf, size_t size)
{
    size_t got = 0;
    buf[0] = 0;
    while (got + 1 < size) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            return false;
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n <= 0)
            return strstr(buf, want) != NULL;
        got += (size_t)n;
        buf[got] = 0;
        if (strstr(buf, want))
            return true;
    }
    return false;
}

static void write_str(int fd, const char *s)
{
    CHECK_EQ(write(fd, s, strlen(s)), strlen(s));
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/rvisor-console-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(sock, sizeof(sock), "%s/console.sock", dir);
    snprintf(log_path, sizeof(log_path), "%s/console.log", dir);
    struct rv_console_server *s;
    int in_fd, out_fd;
    CHECK(rv_console_server_start(sock, log_path, &in_fd, &out_fd, &s) == 0);
    char buf[8192];

    write_str(out_fd, "before attach\n");
    int c = rv_api_connect(sock, 10000);
    CHECK(c >= 0);
    CHECK(read_until(c, "before attach", buf, sizeof(buf))); /* replayed */
    write_str(out_fd, "live output\n");
    CHECK(read_until(c, "live output", buf, sizeof(buf)));
    CHECK_EQ(send(c, "typed", 5, 0), 5);
    CHECK(read_until(in_fd, "typed", buf, sizeof(buf))); /* reaches the VM's input */

    int c2 = rv_api_connect(sock, 10000);
    CHECK(c2 >= 0);
    CHECK(read_until(c2, "attached elsewhere", buf, sizeof(buf)));
    close(c2);
    close(c);
    /* after a detach, a new client attaches and gets the replay */
    c = rv_api_connect(sock, 10000);
    CHECK(read_until(c, "live output", buf, sizeof(buf)));

    /* the client is not read meanwhile and must not stall the output (it misses what its
     * socket cannot take); the log gets everything */
    static char chunk[65536];
    memset(chunk, 'x', sizeof(chunk) - 1);
    chunk[sizeof(chunk) - 1] = '\n';
    off_t before = file_size(log_path);
    for (unsigned i = 0; i < 64; i++)
        CHECK_EQ(write(out_fd, chunk, sizeof(chunk)), sizeof(chunk));
    write_str(out_fd, "the end\n");
    close(c);
    rv_console_server_stop(s); /* takes what is queued */
    CHECK_EQ(file_size(log_path), before + 64 * sizeof(chunk) + 8);
    FILE *f = fopen(log_path, "r");
    if (f) {
        fseek(f, -8, SEEK_END);
        size_t n = fread(buf, 1, 8, f);
        buf[n] = 0;
        fclose(f);
    }
    CHECK(strcmp(buf, "the end\n") == 0);
    /* the socket file stays (a sandboxed process cannot unlink it); the next server on the
     * path replaces it */
    CHECK(access(sock, F_OK) == 0);
    CHECK(rv_console_server_start(sock, NULL, &in_fd, &out_fd, &s) == 0);
    rv_console_server_stop(s);

    /* bad specs */
    CHECK(rv_console_server_start("/nonexistent/dir/c.sock", NULL, &in_fd, &out_fd, &s) < 0);
    CHECK(rv_console_server_start(log_path, NULL, &in_fd, &out_fd, &s) < 0); /* not a socket */
    char cmd[100];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    TEST_MAIN_END();
}
