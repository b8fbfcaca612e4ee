/* Virtual Machine Generation ID (Microsoft's "Virtual Machine Generation ID" paper; device tree
 * binding Documentation/devicetree/bindings/rng/microsoft,vmgenid.yaml, Linux >= 6.10,
 * drivers/virt/vmgenid.c): a 16-byte identifier the guest reads from a small MMIO window, and
 * an interrupt raised when it changes. A changed ID tells the guest that it may be running as
 * a copy of an earlier state (a restored snapshot, a clone): Linux then reseeds its random
 * number generator (add_vmfork_randomness(), "crng reseeded due to virtual machine fork").
 *
 * Concurrency: like every device, call these with the machine's device lock held. */
#ifndef RV_DEV_VMGENID_H
#define RV_DEV_VMGENID_H

#include <stdint.h>

#include "dev/device.h"

struct rv_vmgenid;

#define RV_VMGENID_SIZE 0x1000u
#define RV_VMGENID_ID_LEN 16

/* Creates the device with a fresh random ID, attaches its window at `base` and, when fdt is
 * not NULL, adds its node "/soc/vmgenid@<base>" (compatible "microsoft,vmgenid", reg, the
 * interrupt). The iomap owns the device. */
int rv_vmgenid_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                      const struct rv_irq *irq, struct rv_vmgenid **out);

/* Gives the VM a new random generation ID and signals it with an interrupt. */
int rv_vmgenid_change(struct rv_vmgenid *g);

/* The current ID (for tests and the log). */
void rv_vmgenid_get(const struct rv_vmgenid *g, uint8_t id[RV_VMGENID_ID_LEN]);

#endif
