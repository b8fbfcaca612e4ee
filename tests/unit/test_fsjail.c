/* Run-time file access through directory descriptors (core/fsjail.h): API paths confined to
 * the state directory, and in a forked child (confinement is for the rest of the process)
 * opens, renames and unlinks that work inside the remembered directories and fail outside
 * them, also through a symbolic link leading out. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fsjail.h"
#include "test.h"

static char base[64];

static void path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", base, name);
}

static void test_state_path(void)
{
    char dir[128], out[256], want[256];
    path(dir, sizeof(dir), "state");
    CHECK(rv_fs_set_state_dir(dir) == 0);
    path(want, sizeof(want), "state/snap.rvs");
    CHECK(rv_fs_state_path("p", "snap.rvs", out, sizeof(out)) == 0 && strcmp(out, want) == 0);
    CHECK(rv_fs_state_path("p", want, out, sizeof(out)) == 0 && strcmp(out, want) == 0);
    path(want, sizeof(want), "state/sub/x");
    CHECK(rv_fs_state_path("p", "./sub//x", out, sizeof(out)) == 0 && strcmp(out, want) == 0);
    CHECK(rv_fs_state_path("p", "../x", out, sizeof(out)) == -EINVAL);
    CHECK(rv_fs_state_path("p", "sub/../../x", out, sizeof(out)) == -EINVAL);
    CHECK(rv_fs_state_path("p", "/etc/passwd", out, sizeof(out)) == -EINVAL);
    CHECK(rv_fs_state_path("p", dir, out, sizeof(out)) == -EINVAL); /* the folder itself */
    CHECK(rv_fs_state_path("p", "", out, sizeof(out)) == -EINVAL);
    CHECK(rv_fs_state_path("p", "a..b", out, sizeof(out)) == 0); /* not a ".." component */
}

/* In the child: 0 when every expectation holds, else the number of the first that failed. */
static int confined_child(void)
{
    char in[128], in2[128], out[128], link[128], p[256];
    path(in, sizeof(in), "state/file");
    path(in2, sizeof(in2), "state/renamed");
    path(out, sizeof(out), "outside");
    path(link, sizeof(link), "state/link/escape");
    int fd = rv_fs_open(in, O_WRONLY | O_CREAT, 0600); /* remembered before confining */
    if (fd < 0)
        return 1;
    close(fd);
    if (rv_fs_confine(false))
        return 2;
    if (!rv_fs_confined() || chdir("/") < 0) /* relative names stay relative to the old cwd */
        return 3;
    if ((fd = rv_fs_open(in, O_RDWR, 0)) < 0)
        return 4;
    close(fd);
    if (rv_fs_open(out, O_RDONLY, 0) >= 0 || errno != EACCES)
        return 5;
    if (rv_fs_open(link, O_WRONLY | O_CREAT, 0600) >= 0 || errno != EXDEV)
        return 6; /* RESOLVE_BENEATH: the link leads out */
    if (rv_fs_rename(in, in2) || access(in2, F_OK))
        return 7;
    if (rv_fs_unlink(in2) || access(in2, F_OK) == 0)
        return 8;
    char *r = rv_fs_realpath("state/x/../y");
    path(p, sizeof(p), "state/y");
    bool lexical = r && strcmp(r, p) == 0;
    free(r);
    return lexical ? 0 : 9;
}

static void test_confined(void)
{
    char dir[128], out[128], link[128];
    path(dir, sizeof(dir), "state");
    path(out, sizeof(out), "outside");
    path(link, sizeof(link), "state/link");
    mkdir(dir, 0700);
    close(open(out, O_WRONLY | O_CREAT, 0600));
    CHECK(symlink(base, link) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(chdir(base) == 0 ? confined_child() : 99);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : 100, 0);
    char escape[128];
    path(escape, sizeof(escape), "escape");
    CHECK(access(escape, F_OK) != 0); /* nothing created through the link */
}

int main(void)
{
    snprintf(base, sizeof(base), "/tmp/rv-fsjail-XXXXXX");
    if (!mkdtemp(base))
        return 1;
    test_state_path();
    test_confined();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", base);
    TEST_MAIN_END();
}
