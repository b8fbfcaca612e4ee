/* Fuzz target: the virtio-mmio transport and its split virtqueues driven by arbitrary guest
 * memory and register writes. Input: one byte N, then N 6-byte records of register accesses
 * (the script), then the guest RAM contents (descriptor tables, rings, indirect tables,
 * buffers). Before the script runs, a driver-like setup puts both queues at fixed places in
 * RAM (features from the first record) so that small inputs already reach the rings. A device behind the transport pops every chain it is notified of, writes into
 * its writable buffers and returns it, as real devices do. Guard pages around RAM and ASan
 * catch any access outside guest memory; the transport must reject every bad ring.
 * When the first record's flags have bit 6 set, the device is the real virtio-input power
 * button instead (dev/virtio_input.c): its config space is reached by the same register
 * accesses, and records with flag bit 6 press its key, so events go into fuzzed buffers. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "dev/virtio.h"
#include "dev/virtio_input.h"
#include "fuzz_ram.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (16u * 1024)
#define MMIO_BASE 0x10001000ull

struct fuzz_dev {
    struct rv_virtio *vd;
    unsigned pops;
};

static void fuzz_notify(void *opaque, unsigned q)
{
    struct fuzz_dev *d = opaque;
    static struct rv_virtq_elem e; /* large: not on the stack */
    for (unsigned n = 0; n < 64; n++) {
        int rc = rv_virtq_pop(d->vd, q, &e);
        if (rc <= 0)
            break;
        FUZZ_CHECK(e.out_num + e.in_num <= RV_VIRTQ_MAX_SEGS);
        uint8_t tmp[64];
        rv_iov_to_buf(e.out, (int)e.out_num, 0, tmp, sizeof(tmp));
        size_t w = rv_iov_from_buf(e.in, (int)e.in_num, 0, tmp, sizeof(tmp));
        rv_virtq_push(d->vd, q, &e, (uint32_t)w);
        d->pops++;
    }
    rv_virtq_notify(d->vd, q);
}

static void fuzz_config_read(void *opaque, uint32_t off, void *buf, unsigned len)
{
    (void)opaque;
    memset(buf, (int)off, len);
}

static const struct rv_virtio_ops fuzz_ops = {
    .name = "fuzz",
    .device_id = 0x7f,
    .num_queues = 2,
    .queue_max = 16,
    .config_size = 8,
    .config_read = fuzz_config_read,
    .queue_notify = fuzz_notify,
};

static void irq_set(void *ctrl, unsigned source, bool level)
{
    (void)ctrl;
    (void)source;
    (void)level;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *ram;
    static pthread_mutex_t lock;
    if (!ram) {
        ram = fuzz_ram_map(RAM_SIZE);
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
        pthread_mutex_init(&lock, &attr);
        rv_log_set_level(RV_LOG_ERROR); /* "device needs reset" warnings are expected */
    }
    if (size < 1)
        return 0;
    size_t records = data[0];
    data++;
    size--;
    if (records * 6 > size)
        records = size / 6;
    const uint8_t *script = data;
    size_t ram_bytes = size - records * 6 < RAM_SIZE ? size - records * 6 : RAM_SIZE;
    memset(ram, 0, RAM_SIZE);
    memcpy(ram, data + records * 6, ram_bytes);
    data = script;
    size = records * 6;

    struct rv_bus bus = {.ram = ram, .ram_base = RAM_BASE, .ram_size = RAM_SIZE};
    struct rv_iomap map = {0};
    struct rv_irq irq = {.set = irq_set};
    struct fuzz_dev dev = {0};
    struct rv_virtio_input *input = NULL;
    if (size >= 6 && (script[1] & 0x40))
        FUZZ_CHECK(rv_virtio_input_create(&map, NULL, MMIO_BASE, &irq, &lock, &bus, &input) ==
                   0);
    else
        FUZZ_CHECK(rv_virtio_create(&map, NULL, MMIO_BASE, &irq, &lock, &bus, &fuzz_ops, &dev,
                                    0, &dev.vd) == 0);
    struct rv_region *r = &map.regions[0];

    /* Driver-like setup (virtio 3.1.1): queue q's table at RAM + 0x1000 * q, avail ring at
     * +0x400, used ring at +0x800, 8 entries. */
    pthread_mutex_lock(&lock);
    uint32_t features_lo = size >= 6 ? (uint32_t)script[2] << 24 : 0; /* INDIRECT, EVENT_IDX */
    r->ops->write(r->dev, 0x070, 1 | 2, 4);
    r->ops->write(r->dev, 0x024, 0, 4);
    r->ops->write(r->dev, 0x020, features_lo & (3u << 28), 4);
    r->ops->write(r->dev, 0x024, 1, 4);
    r->ops->write(r->dev, 0x020, 1, 4); /* VERSION_1 */
    r->ops->write(r->dev, 0x070, 1 | 2 | 8, 4);
    for (unsigned q = 0; q < 2; q++) {
        uint64_t base = RAM_BASE + 0x1000ull * q;
        r->ops->write(r->dev, 0x030, q, 4);
        r->ops->write(r->dev, 0x038, 8, 4);
        r->ops->write(r->dev, 0x080, (uint32_t)base, 4);
        r->ops->write(r->dev, 0x090, (uint32_t)(base + 0x400), 4);
        r->ops->write(r->dev, 0x0a0, (uint32_t)(base + 0x800), 4);
        r->ops->write(r->dev, 0x044, 1, 4);
    }
    r->ops->write(r->dev, 0x070, 1 | 2 | 8 | 4, 4);
    r->ops->write(r->dev, 0x050, 0, 4); /* notify queue 0 */
    pthread_mutex_unlock(&lock);

    /* Script: 6-byte records {register/4 (u8), flags (u8), value (u32)}: any access to any
     * register, so every layout and state is reachable after the setup. */
    pthread_mutex_lock(&lock);
    while (size >= 6) {
        unsigned reg = (unsigned)data[0] * 4 % 0x200;
        unsigned flags = data[1];
        uint32_t value;
        memcpy(&value, data + 2, 4);
        data += 6;
        size -= 6;
        if (input && (flags & 0x40)) {
            int rc = rv_virtio_input_press(input, (value & 0x10000) ? (uint16_t)value
                                                                     : RV_INPUT_KEY_POWER);
            FUZZ_CHECK(rc == 0 || rc == -ENODEV || rc == -EBUSY || rc == -EINVAL);
            FUZZ_CHECK(rv_virtio_input_pending(input) <= RV_VIRTIO_INPUT_MAX_PENDING);
            continue;
        }
        if (flags & 1) /* addresses: bias into RAM most of the time */
            value = (uint32_t)(RAM_BASE + value % RAM_SIZE);
        unsigned width = (flags & 6) == 0 ? 4 : (flags & 6) == 2 ? 1 : (flags & 6) == 4 ? 2 : 8;
        if (reg + width > 0x200)
            continue;
        if (flags & 0x80)
            (void)r->ops->read(r->dev, reg, width);
        else
            r->ops->write(r->dev, reg, value, width);
    }
    pthread_mutex_unlock(&lock);
    r->ops->destroy(r->dev);
    return 0;
}
