/* virtio-blk over the real raw backend (block/raw.c): a temporary file written and read
 * through the ring, flush, discard (a hole in the file), write-zeroes, a read-only disk, and
 * GET_ID. The request-level corner cases are in test_virtio_blk.c (fake backend). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "dev/virtio_blk.h"
#include "test.h"
#include "virtio_driver.h"

#define DISK_SIZE (1u << 20)
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define F_BASE (1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_INDIRECT_DESC | \
                1ull << VIRTIO_F_RING_EVENT_IDX)

static char path[64];

static bool rig(struct vdrv *d, const char *opts)
{
    char spec[128];
    snprintf(spec, sizeof(spec), "%s,format=raw%s", path, opts);
    CHECK(vd_init(d));
    struct rv_irq irq = vd_rv_irq(d);
    struct rv_virtio_blk *b = NULL;
    int rc = rv_virtio_blk_create(&d->map, NULL, VD_BASE, &irq, &d->dev_lock, &d->bus, spec, &b);
    CHECK_EQ(rc, 0);
    if (rc)
        return false;
    CHECK(vd_attach(d));
    uint64_t f = vd_device_features(d) & ~(1ull << 5);
    return (vd_setup(d, f | F_BASE, 1, 64) & VS_DRIVER_OK) != 0;
}

static unsigned run(struct vdrv *d, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
                    bool in)
{
    uint64_t hdr = vd_alloc(d, 16, 8), st = vd_alloc(d, 1, 1);
    memcpy(vd_ptr(d, hdr), &type, 4);
    memcpy((uint8_t *)vd_ptr(d, hdr) + 8, &sector, 8);
    *(uint8_t *)vd_ptr(d, st) = 0xff;
    struct vd_seg s[3] = {{hdr, 16, false}, {data, len, in}, {st, 1, true}};
    if (!len)
        s[1] = s[2];
    vd_submit(d, 0, s, len ? 3 : 2);
    vd_kick(d, 0);
    uint32_t id, used;
    if (!vd_wait_used(d, 0, &id, &used))
        return 0xee;
    return *(uint8_t *)vd_ptr(d, st);
}

static uint64_t range(struct vdrv *d, uint64_t sector, uint32_t num, uint32_t flags)
{
    uint64_t g = vd_alloc(d, 16, 8);
    uint8_t *p = vd_ptr(d, g);
    memcpy(p, &sector, 8);
    memcpy(p + 8, &num, 4);
    memcpy(p + 12, &flags, 4);
    return g;
}

static void test_raw(void)
{
    struct vdrv d;
    CHECK(rig(&d, ""));
    CHECK_EQ(vd_rd32(&d, VR_CONFIG), DISK_SIZE / 512);
    uint64_t buf = vd_alloc(&d, 8192, 4096);
    uint8_t *p = vd_ptr(&d, buf);
    for (int i = 0; i < 8192; i++)
        p[i] = (uint8_t)(i % 251 + 1);
    CHECK_EQ(run(&d, T_OUT, 16, buf, 8192, false), 0);
    CHECK_EQ(run(&d, T_FLUSH, 0, 0, 0, false), 0);
    int fd = open(path, O_RDONLY);
    uint8_t file[8192];
    CHECK_EQ(pread(fd, file, sizeof(file), 16 * 512), 8192);
    CHECK(!memcmp(file, p, 8192));
    uint64_t back = vd_alloc(&d, 8192, 4096);
    CHECK_EQ(run(&d, T_IN, 16, back, 8192, true), 0);
    CHECK(!memcmp(vd_ptr(&d, back), p, 8192));
    CHECK_EQ(run(&d, T_IN, DISK_SIZE / 512 - 8, back, 8192, true), 1);
    /* write-zeroes, then discard: both read back as zeros */
    CHECK_EQ(run(&d, T_WRITE_ZEROES, 0, range(&d, 16, 8, 0), 16, false), 0);
    CHECK_EQ(pread(fd, file, 4096, 16 * 512), 4096);
    CHECK_EQ(file[0] | file[4095], 0);
    CHECK_EQ(run(&d, T_DISCARD, 0, range(&d, 24, 8, 0), 16, false), 0);
    CHECK_EQ(run(&d, T_IN, 16, back, 8192, true), 0);
    unsigned nonzero = 0;
    for (int i = 0; i < 8192; i++)
        nonzero += ((uint8_t *)vd_ptr(&d, back))[i] != 0;
    CHECK_EQ(nonzero, 0);
    uint64_t id = vd_alloc(&d, 20, 1);
    CHECK_EQ(run(&d, T_GET_ID, 0, id, 20, true), 0);
    CHECK(((uint8_t *)vd_ptr(&d, id))[0] != 0);
    close(fd);
    vd_free(&d);
    /* read-only */
    CHECK(rig(&d, ",readonly"));
    CHECK(vd_device_features(&d) & (1u << 5));
    CHECK_EQ(run(&d, T_OUT, 0, buf, 512, false), 1);
    CHECK_EQ(run(&d, T_IN, 0, buf, 512, true), 0);
    vd_free(&d);
}

int main(void)
{
    rv_log_set_level(RV_LOG_ERROR);
    snprintf(path, sizeof(path), "/tmp/rvisor-vblk-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0 && ftruncate(fd, DISK_SIZE) == 0);
    close(fd);
    test_raw();
    unlink(path);
    TEST_MAIN_END();
}
