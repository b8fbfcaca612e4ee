#include <errno.h>

#include "core/error.h"
#include "dev/device.h"

bool rv_iomap_overlaps(const struct rv_iomap *map, uint64_t addr, uint64_t len)
{
    for (unsigned i = 0; i < map->count; i++) {
        const struct rv_region *r = &map->regions[i];
        if (addr < r->base + r->size && r->base < addr + len)
            return true;
    }
    return false;
}

int rv_iomap_attach(struct rv_iomap *map, uint64_t base, uint64_t size,
                    const struct rv_device_ops *ops, void *dev)
{
    if (size == 0 || base + size < base)
        return rv_error_set(-EINVAL, "%s: bad window [0x%llx, +0x%llx)", ops->name,
                            (unsigned long long)base, (unsigned long long)size);
    if (rv_iomap_overlaps(map, base, size))
        return rv_error_set(-EEXIST, "%s: window at 0x%llx overlaps another device", ops->name,
                            (unsigned long long)base);
    if (map->count == RV_MAX_REGIONS)
        return rv_error_set(-ENOSPC, "%s: too many devices", ops->name);
    map->regions[map->count++] = (struct rv_region){base, size, ops, dev};
    return 0;
}

struct rv_region *rv_iomap_find(struct rv_iomap *map, uint64_t addr, unsigned size)
{
    for (unsigned i = 0; i < map->count; i++) {
        struct rv_region *r = &map->regions[i];
        if (addr >= r->base && addr - r->base <= r->size - size)
            return r;
    }
    return 0;
}
