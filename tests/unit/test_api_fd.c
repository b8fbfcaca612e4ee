/* Descriptors sent with API request lines (SCM_RIGHTS; src/hv/api.c, docs/api.md "Passing a
 * descriptor"), through a real server on a unix socket with a recording handler: a descriptor
 * reaches the handler with the line it was sent with (also when the line is split over two
 * sends, or follows another line in the same read); a handler that does not take it, several
 * descriptors at once, more than the control buffer holds, a line too long, or a client that
 * hangs up mid-line leave nothing open: the process's descriptor count is back where it was.
 * Also: the socket file is never visible with any mode but 0600, even for an instant. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "hv/api.h"
#include "hv/api_client.h"
#include "hv/api_schema.h"
#include "test.h"

static struct {
    char line[64];
    bool had_fd;       /* the handler got a descriptor with this line */
    bool fd_was_pipe;  /* ... and it was the pipe sent */
    int taken;         /* a descriptor the handler kept ("take"), or -1 */
    int calls;
} seen = {.taken = -1};

static char *handler(void *ctx, const char *line, size_t len, int *fd)
{
    (void)ctx;
    struct stat st;
    snprintf(seen.line, sizeof(seen.line), "%.*s", (int)len, line);
    seen.had_fd = *fd >= 0;
    seen.fd_was_pipe = *fd >= 0 && fstat(*fd, &st) == 0 && S_ISFIFO(st.st_mode);
    seen.calls++;
    if (strcmp(seen.line, "take") == 0 && *fd >= 0) {
        seen.taken = *fd;
        *fd = -1;
    }
    return strdup("{\"ok\":true}\n");
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

/* Sends `data` with `nfds` new pipe read ends attached (closed here after sending). */
static void send_with(int sock, const char *data, size_t len, int nfds)
{
    int fds[16], ends[16];
    union {
        struct cmsghdr hdr;
        char space[CMSG_SPACE(sizeof(fds))];
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct iovec iov = {(void *)data, len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    for (int i = 0; i < nfds; i++) {
        int p[2];
        CHECK_EQ(pipe(p), 0);
        fds[i] = p[0];
        ends[i] = p[1];
    }
    if (nfds) {
        msg.msg_control = ctl.space;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
    }
    CHECK_EQ(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
    for (int i = 0; i < nfds; i++) {
        close(fds[i]);
        close(ends[i]);
    }
}

/* Reads `n` reply lines. */
static void replies(int sock, int n)
{
    char c;
    while (n > 0 && recv(sock, &c, 1, 0) == 1)
        n -= c == '\n';
    CHECK_EQ(n, 0);
}

/* Waits (up to 5 s) until the descriptor count is `want`: the server closes a hung-up
 * connection on its own thread. */
static bool settles_at(int want)
{
    for (int i = 0; i < 500 && open_fds() != want; i++)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    return open_fds() == want;
}

/* The listening socket file, watched by a second thread from the moment it appears: a bind()
 * that made it with the umask's mode and a chmod() after left a window where api-test.sh saw
 * 0755. */
static struct {
    const char *path;
    atomic_bool stop;
    unsigned seen, bad;
} watch;

static void *watcher(void *arg)
{
    (void)arg;
    struct stat st;
    while (!atomic_load(&watch.stop))
        if (lstat(watch.path, &st) == 0) {
            watch.seen++;
            if ((st.st_mode & 07777) != 0600)
                watch.bad++;
        }
    return NULL;
}

static void test_listen_mode(const char *dir)
{
    char path[64];
    snprintf(path, sizeof(path), "%s/mode.sock", dir);
    watch.path = path;
    mode_t old = umask(0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, watcher, NULL), 0);
    for (int i = 0; i < 300; i++) {
        int fd = rv_api_listen(path, 1);
        CHECK(fd >= 0);
        if (fd >= 0)
            close(fd);
        unlink(path);
    }
    atomic_store(&watch.stop, true);
    pthread_join(t, NULL);
    umask(old);
    CHECK_EQ(watch.bad, 0u);
    printf("socket mode: seen %u times while it existed\n", watch.seen);
}

int main(void)
{
    char dir[] = "/tmp/rvisor-apifd.XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/api.sock", dir);
    test_listen_mode(dir);
    struct rv_api_server *server;
    CHECK_EQ(rv_api_server_start_handler(handler, NULL, path, &server), 0);
    int base = open_fds();
    int s = rv_api_connect(path, 5000);
    CHECK(s >= 0);

    /* One descriptor with one line: the handler sees it, the server closes it. */
    send_with(s, "one\n", 4, 1);
    replies(s, 1);
    CHECK(strcmp(seen.line, "one") == 0 && seen.had_fd && seen.fd_was_pipe);
    CHECK_EQ(open_fds(), base + 2); /* only the connection: both ends */

    /* A line without a descriptor. */
    send_with(s, "none\n", 5, 0);
    replies(s, 1);
    CHECK(strcmp(seen.line, "none") == 0 && !seen.had_fd);

    /* Split: the descriptor comes with the start, the line ends in the next send. */
    send_with(s, "spl", 3, 1);
    send_with(s, "it\n", 3, 0);
    replies(s, 1);
    CHECK(strcmp(seen.line, "split") == 0 && seen.had_fd);
    CHECK_EQ(open_fds(), base + 2);

    /* Two lines in one send with a descriptor: it goes with the last. */
    seen.calls = 0;
    send_with(s, "first\nsecond\n", 13, 1);
    replies(s, 2);
    CHECK(strcmp(seen.line, "second") == 0 && seen.had_fd && seen.calls == 2);
    CHECK_EQ(open_fds(), base + 2);

    /* Three at once, and more than the server's control buffer holds (the kernel drops the
     * rest): one reaches the handler, none stays open. */
    send_with(s, "three\n", 6, 3);
    replies(s, 1);
    CHECK(seen.had_fd);
    send_with(s, "many\n", 5, 12);
    replies(s, 1);
    CHECK(strcmp(seen.line, "many") == 0 && seen.had_fd);
    CHECK_EQ(open_fds(), base + 2);

    /* A handler that takes it keeps it open (and closes it itself). */
    send_with(s, "take\n", 5, 1);
    replies(s, 1);
    CHECK(seen.taken >= 0 && fcntl(seen.taken, F_GETFD) >= 0);
    CHECK_EQ(open_fds(), base + 3);
    close(seen.taken);

    /* A line longer than the limit, sent with a descriptor: refused, the descriptor closed. */
    size_t big = RV_API_MAX_LINE + 100;
    char *junk = malloc(big + 1);
    CHECK(junk != NULL);
    if (junk) {
        memset(junk, 'x', big);
        junk[big] = '\n';
        seen.calls = 0;
        send_with(s, junk, 1000, 1);
        send_with(s, junk + 1000, big + 1 - 1000, 0);
        replies(s, 1); /* the parse-error */
        send_with(s, "after\n", 6, 0);
        replies(s, 1);
        CHECK(seen.calls == 1 && strcmp(seen.line, "after") == 0 && !seen.had_fd);
        free(junk);
    }
    CHECK_EQ(open_fds(), base + 2);

    /* A client hanging up in the middle of a line that came with a descriptor. */
    send_with(s, "half", 4, 2);
    close(s);
    CHECK(settles_at(base));

    rv_api_server_stop(server);
    rmdir(dir);
    TEST_MAIN_END();
}
