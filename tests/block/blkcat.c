/* blkcat [-f raw|qcow2] [-c none|writeback|unsafe] IMAGE: writes the virtual disk's contents,
 * read through rvisor's block backends, to stdout (compare with `qemu-img convert -O raw`). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "block/block.h"
#include "core/error.h"

#define CHUNK (1u << 20)

int main(int argc, char **argv)
{
    struct rv_block_opts opts = {.format = RV_BLOCK_AUTO, .readonly = true};
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-f") == 0)
            opts.format = strcmp(argv[i + 1], "raw") == 0 ? RV_BLOCK_RAW : RV_BLOCK_QCOW2;
        else if (strcmp(argv[i], "-c") == 0)
            opts.cache = strcmp(argv[i + 1], "none") == 0     ? RV_CACHE_NONE
                         : strcmp(argv[i + 1], "unsafe") == 0 ? RV_CACHE_UNSAFE
                                                              : RV_CACHE_WRITEBACK;
    }
    if (i != argc - 1) {
        fprintf(stderr, "usage: blkcat [-f raw|qcow2] [-c none|writeback|unsafe] IMAGE\n");
        return 2;
    }
    struct rv_block *b;
    if (rv_block_open(argv[i], &opts, &b) < 0) {
        fprintf(stderr, "blkcat: %s\n", rv_error_get());
        return 1;
    }
    char *buf = malloc(CHUNK);
    uint64_t size = rv_block_size(b);
    int status = buf ? 0 : 1;
    for (uint64_t off = 0; status == 0 && off < size; off += CHUNK) {
        size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        struct iovec v = {buf, n};
        if (rv_block_readv(b, off, &v, 1) < 0) {
            fprintf(stderr, "blkcat: %s\n", rv_error_get());
            status = 1;
            break;
        }
        if (fwrite(buf, 1, n, stdout) != n) {
            fprintf(stderr, "blkcat: write: %s\n", strerror(errno));
            status = 1;
        }
    }
    free(buf);
    rv_block_close(b);
    return status;
}
