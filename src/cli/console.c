/* The console client (console.h). */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli/console.h"
#include "hv/api_client.h"
#include "rvisor/vm.h"

#define CTRL_RIGHT_BRACKET 0x1d
#define CTRL_A 0x01

static bool send_all(int fd, const unsigned char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

static bool write_all(int fd, const unsigned char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* Filters keyboard input: returns false when the user detaches; the bytes for the guest are
 * put in `out` (*outlen bytes). Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A and another key sends both. */
static bool filter_input(const unsigned char *in, size_t n, unsigned char *out, size_t *outlen,
                         bool *after_ctrl_a)
{
    *outlen = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = in[i];
        if (*after_ctrl_a) {
            *after_ctrl_a = false;
            if (c == 'x' || c == 'X')
                return false;
            if (c != CTRL_A)
                out[(*outlen)++] = CTRL_A;
            out[(*outlen)++] = c;
            continue;
        }
        if (c == CTRL_RIGHT_BRACKET)
            return false;
        if (c == CTRL_A)
            *after_ctrl_a = true;
        else
            out[(*outlen)++] = c;
    }
    return true;
}

static int relay(int sock, bool tty)
{
    bool after_ctrl_a = false, input = true;
    for (;;) {
        struct pollfd p[2] = {{sock, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        if (poll(p, input ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 2;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            unsigned char buf[4096];
            ssize_t n = recv(sock, buf, sizeof(buf), 0);
            if (n <= 0) {
                fprintf(stderr, "%srvisor: the console closed\r\n", tty ? "\r\n" : "");
                return 0;
            }
            if (!write_all(STDOUT_FILENO, buf, (size_t)n))
                return 0;
        }
        if (input && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            unsigned char in[1024], out[2048];
            size_t outlen;
            ssize_t n = read(STDIN_FILENO, in, sizeof(in));
            if (n <= 0) {
                input = false; /* end of input: keep showing output */
                continue;
            }
            if (!filter_input(in, (size_t)n, out, &outlen, &after_ctrl_a)) {
                fprintf(stderr, "\r\nrvisor: detached (the VM keeps running)\r\n");
                return 0;
            }
            if (outlen && !send_all(sock, out, outlen))
                return 0;
        }
    }
}

int rv_cli_console_attach(const char *name, const char *socket_path)
{
    int sock = rv_api_connect(socket_path, 0);
    if (sock < 0) {
        fprintf(stderr, "rvisor: %s: console: %s\n", name, rv_error_get());
        return 2;
    }
    struct termios saved, raw;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        fprintf(stderr, "rvisor: attached to %s; Ctrl-] or Ctrl-A X detaches\r\n", name);
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    int status = relay(sock, tty);
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    close(sock);
    return status;
}
