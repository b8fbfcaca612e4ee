/* The device contract (DESIGN.md "Devices"): a const ops table + an instance, attached to the
 * guest-physical address map; interrupt lines to an interrupt controller; the console backend;
 * and the device-tree helpers each device uses to describe itself.
 *
 * Concurrency: the machine calls read/write/reset/save/load with its device lock held (one
 * recursive lock per VM, like QEMU's big lock), from hart threads and the I/O thread alike. Devices therefore
 * need no locks of their own; code outside an MMIO callback that touches a device (console
 * input, timers) takes the same lock through the machine. */
#ifndef RV_DEV_DEVICE_H
#define RV_DEV_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rv_state_writer;
struct rv_state_reader;

struct rv_device_ops {
    const char *name;
    /* Register access at `offset` inside the device's window; size is 1, 2, 4 or 8 and the
     * access is naturally aligned. Unknown registers read 0 and ignore writes. */
    uint64_t (*read)(void *dev, uint64_t offset, unsigned size);
    void (*write)(void *dev, uint64_t offset, uint64_t value, unsigned size);
    void (*reset)(void *dev);
    int (*save)(void *dev, struct rv_state_writer *w);
    int (*load)(void *dev, struct rv_state_reader *r);
    void (*destroy)(void *dev);
    /* A state stream may lack this device's record (streams written before it existed): the
     * device then keeps its fresh state. */
    bool state_optional;
};

struct rv_region {
    uint64_t base, size;
    const struct rv_device_ops *ops;
    void *dev;
};

#define RV_MAX_REGIONS 64

/* The machine's physical address map of device windows. */
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

/* An interrupt line from a device into an interrupt controller (the PLIC). Level-triggered:
 * the device calls rv_irq_set() whenever its interrupt condition changes. */
struct rv_irq {
    void (*set)(void *ctrl, unsigned source, bool level);
    void *ctrl;
    unsigned source;   /* the controller's input number (device tree "interrupts") */
    uint32_t phandle;  /* the controller's device-tree phandle ("interrupt-parent") */
};

static inline void rv_irq_set(const struct rv_irq *irq, bool level)
{
    if (irq->set)
        irq->set(irq->ctrl, irq->source, level);
}

/* Where a device's output characters go (UART, HTIF, SBI console). */
struct rv_console {
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
};

/* Device-tree building: a writable flattened tree (libfdt read-write functions). Devices go
 * under "/soc" (looked up by path, since offsets change as the tree grows; `soc` is the
 * fallback offset for trees without that path). */
struct rv_fdt {
    void *blob;
    int soc;
    int error; /* first libfdt error, 0 if none */
};

/* Adds "/soc/<name>@<base>" with compatible (a list of NUL-separated strings of total length
 * compat_len), reg = <base size>, and returns its offset (or -1, recording the error). */
int rv_fdt_add_device(struct rv_fdt *f, const char *name, uint64_t base, uint64_t size,
                      const char *compat, size_t compat_len);
/* interrupt-parent + interrupts = <source> for a device node. */
void rv_fdt_set_irq(struct rv_fdt *f, int node, const struct rv_irq *irq);
void rv_fdt_setprop_u32(struct rv_fdt *f, int node, const char *name, uint32_t v);
void rv_fdt_setprop_str(struct rv_fdt *f, int node, const char *name, const char *s);
void rv_fdt_setprop(struct rv_fdt *f, int node, const char *name, const void *v, int len);
/* A fresh phandle for a node. */
uint32_t rv_fdt_alloc_phandle(struct rv_fdt *f, int node);

#endif
