/* Virtual Machine Generation ID device (vmgenid.h).
 *
 * Window: bytes 0..15 hold the ID (read-only, any access size; the rest of the window reads
 * 0). Linux maps the first "reg" resource and copies 16 bytes out of it at probe time and on
 * every interrupt, and compares them with the ID it knew: only a different ID counts as a VM
 * fork, so a spurious interrupt is harmless.
 *
 * Interrupt: the driver has no register to acknowledge it (the binding's device is an ID and
 * an interrupt, nothing else), so a level held high would fire for ever. A change pulses the
 * line (high, then low): the PLIC's gateway has forwarded the request on the rising level and
 * keeps it pending until claimed (RISC-V PLIC spec 1.0.0, "Interrupt Gateways"), which gives
 * the guest exactly one interrupt per change, like Firecracker's edge-triggered line on Arm. */
#include "dev/vmgenid.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/error.h"
#include "core/serial.h"

#define STATE_VERSION 1

struct rv_vmgenid {
    struct rv_irq irq;
    bool has_irq;
    uint8_t id[RV_VMGENID_ID_LEN];
};

/* A random (version 4, RFC 9562 section 5.4) UUID, as the paper asks for a GUID. */
static int new_id(uint8_t id[RV_VMGENID_ID_LEN])
{
    size_t got = 0;
    while (got < RV_VMGENID_ID_LEN) {
        ssize_t n = getrandom(id + got, RV_VMGENID_ID_LEN - got, 0);
        if (n < 0 && errno != EINTR)
            return rv_error_set(-errno, "vmgenid: getrandom: %s", strerror(errno));
        if (n > 0)
            got += (size_t)n;
    }
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
    return 0;
}

static uint64_t vmgenid_read(void *dev, uint64_t offset, unsigned size)
{
    struct rv_vmgenid *g = dev;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        if (offset + i < RV_VMGENID_ID_LEN)
            v |= (uint64_t)g->id[offset + i] << (8 * i);
    return v;
}

static void vmgenid_write(void *dev, uint64_t offset, uint64_t value, unsigned size)
{
    (void)dev, (void)offset, (void)value, (void)size; /* read-only */
}

static void vmgenid_reset(void *dev)
{
    (void)dev; /* the ID belongs to this VM instance: a reboot keeps it */
}

static int vmgenid_save(void *dev, struct rv_state_writer *w)
{
    struct rv_vmgenid *g = dev;
    rv_put_u8(w, STATE_VERSION);
    rv_put_bytes(w, g->id, sizeof(g->id));
    return w->error;
}

static int vmgenid_load(void *dev, struct rv_state_reader *r)
{
    struct rv_vmgenid *g = dev;
    uint8_t version = rv_get_u8(r);
    uint8_t id[RV_VMGENID_ID_LEN];
    rv_get_bytes(r, id, sizeof(id));
    if (r->error)
        return rv_error_set(-EINVAL, "vmgenid: truncated state");
    if (version != STATE_VERSION)
        return rv_error_set(-EINVAL, "vmgenid: unsupported state version %u", version);
    memcpy(g->id, id, sizeof(id));
    return 0;
}

static void vmgenid_destroy(void *dev)
{
    free(dev);
}

static const struct rv_device_ops vmgenid_ops = {
    .name = "vmgenid",
    .read = vmgenid_read,
    .write = vmgenid_write,
    .reset = vmgenid_reset,
    .save = vmgenid_save,
    .load = vmgenid_load,
    .destroy = vmgenid_destroy,
    .state_optional = true, /* streams written before the device existed */
};

int rv_vmgenid_change(struct rv_vmgenid *g)
{
    int rc = new_id(g->id);
    if (rc)
        return rc;
    if (g->has_irq) {
        rv_irq_set(&g->irq, true);
        rv_irq_set(&g->irq, false);
    }
    return 0;
}

void rv_vmgenid_get(const struct rv_vmgenid *g, uint8_t id[RV_VMGENID_ID_LEN])
{
    memcpy(id, g->id, RV_VMGENID_ID_LEN);
}

int rv_vmgenid_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                      const struct rv_irq *irq, struct rv_vmgenid **out)
{
    struct rv_vmgenid *g = calloc(1, sizeof(*g));
    if (!g)
        return rv_error_set(-ENOMEM, "vmgenid: out of memory");
    if (irq) {
        g->irq = *irq;
        g->has_irq = true;
    }
    int rc = new_id(g->id);
    if (!rc)
        rc = rv_iomap_attach(map, base, RV_VMGENID_SIZE, &vmgenid_ops, g);
    if (rc) {
        free(g);
        return rc;
    }
    if (fdt) {
        static const char compat[] = "microsoft,vmgenid";
        int node = rv_fdt_add_device(fdt, "vmgenid", base, RV_VMGENID_SIZE, compat,
                                     sizeof(compat));
        if (irq)
            rv_fdt_set_irq(fdt, node, irq);
    }
    *out = g;
    return 0;
}
