/* Devices and their attachment to the guest-physical address space (DESIGN.md "Devices"). */
#ifndef RV_MACHINE_DEVICE_H
#define RV_MACHINE_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

struct rv_state_writer;
struct rv_state_reader;

struct rv_device_ops {
    const char *name;
    /* Register access at `offset` inside the device's window; size is 1, 2, 4 or 8 and the
     * access is naturally aligned. */
    uint64_t (*read)(void *dev, uint64_t offset, unsigned size);
    void (*write)(void *dev, uint64_t offset, uint64_t value, unsigned size);
    void (*reset)(void *dev);
    int (*save)(void *dev, struct rv_state_writer *w);
    int (*load)(void *dev, struct rv_state_reader *r);
    void (*destroy)(void *dev);
};

struct rv_region {
    uint64_t base, size;
    const struct rv_device_ops *ops;
    void *dev;
};

#define RV_MAX_REGIONS 64

/* The machine's physical address map: RAM plus device windows. */
struct rv_iomap {
    struct rv_region regions[RV_MAX_REGIONS];
    unsigned count;
};

/* Adds a device window; rejects empty, wrapping or overlapping ranges. */
int rv_iomap_attach(struct rv_iomap *map, uint64_t base, uint64_t size,
                    const struct rv_device_ops *ops, void *dev);
/* The region containing [addr, addr+size), or NULL. */
struct rv_region *rv_iomap_find(struct rv_iomap *map, uint64_t addr, unsigned size);
/* True if any region overlaps [addr, addr+len). */
bool rv_iomap_overlaps(const struct rv_iomap *map, uint64_t addr, uint64_t len);

#endif
