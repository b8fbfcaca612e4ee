/* Host-side throughput of one disk through rvisor's block layer (what a VM's virtio-blk worker
 * calls): sequential 1 MiB writes and reads, then random 4 KiB writes and reads, each ended by
 * a flush for writes. Data is random; the page cache is not dropped (this measures the software
 * path: mapping, allocation, metadata, against a raw file on the same file system).
 * usage: vol_bench DISK SIZE_MIB   (DISK: a raw file or vol:VG/LV) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "block/block.h"
#include "core/error.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Runs n requests of `len` bytes (sequential or random) and prints the rate. */
static int run(struct rv_block *b, const char *what, bool write, bool random, uint64_t len,
               uint64_t total, uint8_t *buf)
{
    uint64_t n = total / len, size = rv_block_size(b);
    double t0 = now();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off = random ? (rnd() % (size / len)) * len : i * len;
        struct iovec v = {buf, len};
        int rc = write ? rv_block_writev(b, off, &v, 1) : rv_block_readv(b, off, &v, 1);
        if (rc) {
            fprintf(stderr, "vol_bench: %s: %s\n", what, rv_error_get());
            return rc;
        }
    }
    if (write && rv_block_flush(b)) {
        fprintf(stderr, "vol_bench: flush: %s\n", rv_error_get());
        return -1;
    }
    double dt = now() - t0;
    printf("  %-14s %9.1f MiB/s %9.0f IOPS\n", what, (double)(n * len) / dt / 1048576.0,
           (double)n / dt);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: vol_bench DISK SIZE_MIB\n");
        return 2;
    }
    uint64_t total = strtoull(argv[2], NULL, 0) << 20;
    struct rv_block_opts o = {.format = RV_BLOCK_RAW};
    struct rv_block *b;
    if (rv_block_open(argv[1], &o, &b)) {
        fprintf(stderr, "vol_bench: %s\n", rv_error_get());
        return 1;
    }
    if (total > rv_block_size(b))
        total = rv_block_size(b);
    uint8_t *buf = malloc(1 << 20);
    for (int i = 0; i < (1 << 20); i++)
        buf[i] = (uint8_t)rnd();
    printf("%s (%" PRIu64 " MiB)\n", argv[1], total >> 20);
    int rc = run(b, "seq write 1M", true, false, 1 << 20, total, buf) ||
             run(b, "seq read 1M", false, false, 1 << 20, total, buf) ||
             run(b, "rand write 4K", true, true, 4096, total / 8, buf) ||
             run(b, "rand read 4K", false, true, 4096, total / 8, buf);
    rv_block_close(b);
    free(buf);
    return rc ? 1 : 0;
}
