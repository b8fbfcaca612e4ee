/* HTIF: a write to tohost is a request (device << 56 | command << 48 | payload):
 *  device 0, command 0: payload bit 0 set -> exit with status payload >> 1; otherwise payload
 *    is the address of a "magic memory" block {syscall number, arg0, arg1, arg2, ...}: write
 *    (64) and exit (93) are served, the result is stored in block[0].
 *  device 1, command 1: print the low byte of the payload.
 * Every request is answered by clearing tohost and writing a response to fromhost, which the
 * program polls and clears. */
#include "dev/htif.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"

struct rv_htif {
    struct rv_htif_host host;
    uint64_t tohost, fromhost; /* register values */
};

#define SYS_WRITE 64
#define SYS_EXIT 93
#define SYS_EXIT_GROUP 94

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void htif_syscall(struct rv_htif *t, uint64_t block)
{
    struct rv_bus *bus = t->host.bus;
    uint64_t args[4];
    if (!rv_bus_in_ram(bus, block, sizeof(args))) {
        rv_warn("htif: syscall block 0x%llx outside RAM", (unsigned long long)block);
        return;
    }
    memcpy(args, rv_bus_ram_ptr(bus, block), sizeof(args));
    int64_t ret = -ENOSYS;
    switch (args[0]) {
    case SYS_WRITE:
        if ((args[1] == 1 || args[1] == 2) && rv_bus_in_ram(bus, args[2], args[3])) {
            if (args[1] == 1)
                t->host.console.write(t->host.console.opaque, rv_bus_ram_ptr(bus, args[2]),
                                      args[3]);
            else
                write_all(2, rv_bus_ram_ptr(bus, args[2]), args[3]);
            ret = (int64_t)args[3];
        } else {
            ret = -EFAULT;
        }
        break;
    case SYS_EXIT:
    case SYS_EXIT_GROUP:
        t->host.finish(t->host.opaque, (int)args[1]);
        ret = 0;
        break;
    }
    rv_bus_note_write(bus, block, sizeof(ret));
    memcpy(rv_bus_ram_ptr(bus, block), &ret, sizeof(ret));
}

static void htif_request(struct rv_htif *t, uint64_t req)
{
    unsigned device = req >> 56, cmd = (req >> 48) & 0xff;
    uint64_t payload = req & ((1ull << 48) - 1);
    uint64_t response = 0;
    if (device == 0 && cmd == 0) {
        if (payload & 1) {
            t->host.finish(t->host.opaque, (int)(payload >> 1));
            return; /* no response: the program is over */
        }
        htif_syscall(t, payload);
        response = 1;
    } else if (device == 1 && cmd == 1) {
        uint8_t ch = (uint8_t)payload;
        t->host.console.write(t->host.console.opaque, &ch, 1);
        response = (1ull << 56) | (1ull << 48) | 0x100 | ch;
    } else if (device == 1 && cmd == 0) {
        return; /* console input request: no input is offered; leave it pending */
    } else {
        rv_warn("htif: unknown request device %u command %u", device, cmd);
    }
    t->tohost = 0;
    t->fromhost = response;
}

static uint64_t reg_read(uint64_t reg, uint64_t offset, unsigned size)
{
    uint64_t v = reg >> (8 * offset);
    return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static uint64_t reg_write(uint64_t reg, uint64_t offset, uint64_t value, unsigned size)
{
    uint64_t mask = (size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1) << (8 * offset);
    return (reg & ~mask) | ((value << (8 * offset)) & mask);
}

static uint64_t tohost_read(void *dev, uint64_t offset, unsigned size)
{
    return reg_read(((struct rv_htif *)dev)->tohost, offset, size);
}

static void tohost_write(void *dev, uint64_t offset, uint64_t value, unsigned size)
{
    struct rv_htif *t = dev;
    t->tohost = reg_write(t->tohost, offset, value, size);
    /* A request is complete when its upper word is written (RV32 programs write two words,
     * low first). */
    if (offset + size == 8 && t->tohost)
        htif_request(t, t->tohost);
}

static uint64_t fromhost_read(void *dev, uint64_t offset, unsigned size)
{
    return reg_read(((struct rv_htif *)dev)->fromhost, offset, size);
}

static void fromhost_write(void *dev, uint64_t offset, uint64_t value, unsigned size)
{
    struct rv_htif *t = dev;
    t->fromhost = reg_write(t->fromhost, offset, value, size);
}

static void htif_reset(void *dev)
{
    struct rv_htif *t = dev;
    t->tohost = t->fromhost = 0;
}

static void htif_destroy(void *dev)
{
    free(dev);
}

static const struct rv_device_ops tohost_ops = {
    .name = "htif-tohost",
    .read = tohost_read,
    .write = tohost_write,
    .reset = htif_reset,
    .destroy = htif_destroy, /* owns the device; the fromhost window does not */
};

static const struct rv_device_ops fromhost_ops = {
    .name = "htif-fromhost",
    .read = fromhost_read,
    .write = fromhost_write,
};

int rv_htif_create(struct rv_iomap *map, const struct rv_htif_host *host, uint64_t tohost,
                   uint64_t fromhost, struct rv_htif **out)
{
    if ((tohost & 7) || (fromhost & 7))
        return rv_error_set(-EINVAL, "htif: tohost/fromhost must be 8-byte aligned");
    struct rv_htif *t = calloc(1, sizeof(*t));
    if (!t)
        return rv_error_set(-ENOMEM, "htif: out of memory");
    t->host = *host;
    int rc = rv_iomap_attach(map, tohost, 8, &tohost_ops, t);
    if (rc == 0 && fromhost)
        rc = rv_iomap_attach(map, fromhost, 8, &fromhost_ops, t);
    if (rc) {
        if (map->count && map->regions[map->count - 1].dev == t)
            map->count--;
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}
