/* Device-tree helpers over libfdt's read-write API (devicetree spec 2.3, 2.4). */
#include <libfdt.h>
#include <stdio.h>

#include "dev/device.h"

static int check(struct rv_fdt *f, int rc)
{
    if (rc < 0 && !f->error)
        f->error = rc;
    return rc;
}

int rv_fdt_add_device(struct rv_fdt *f, const char *name, uint64_t base, uint64_t size,
                      const char *compat, size_t compat_len)
{
    char node_name[64];
    snprintf(node_name, sizeof(node_name), "%s@%llx", name, (unsigned long long)base);
    /* Offsets move when nodes are added elsewhere in the tree: find /soc afresh. */
    int soc = fdt_path_offset(f->blob, "/soc");
    if (soc < 0)
        soc = f->soc;
    int node = check(f, fdt_add_subnode(f->blob, soc, node_name));
    if (node < 0)
        return -1;
    check(f, fdt_setprop(f->blob, node, "compatible", compat, (int)compat_len));
    /* /soc has #address-cells = #size-cells = 2 */
    fdt64_t reg[2] = {cpu_to_fdt64(base), cpu_to_fdt64(size)};
    check(f, fdt_setprop(f->blob, node, "reg", reg, sizeof(reg)));
    return node;
}

void rv_fdt_set_irq(struct rv_fdt *f, int node, const struct rv_irq *irq)
{
    if (node < 0)
        return;
    check(f, fdt_setprop_u32(f->blob, node, "interrupt-parent", irq->phandle));
    check(f, fdt_setprop_u32(f->blob, node, "interrupts", irq->source));
}

void rv_fdt_setprop_u32(struct rv_fdt *f, int node, const char *name, uint32_t v)
{
    if (node >= 0)
        check(f, fdt_setprop_u32(f->blob, node, name, v));
}

void rv_fdt_setprop_str(struct rv_fdt *f, int node, const char *name, const char *s)
{
    if (node >= 0)
        check(f, fdt_setprop_string(f->blob, node, name, s));
}

void rv_fdt_setprop(struct rv_fdt *f, int node, const char *name, const void *v, int len)
{
    if (node >= 0)
        check(f, fdt_setprop(f->blob, node, name, v, len));
}

uint32_t rv_fdt_alloc_phandle(struct rv_fdt *f, int node)
{
    uint32_t ph = 0;
    if (node < 0 || check(f, fdt_generate_phandle(f->blob, &ph)) < 0)
        return 0;
    check(f, fdt_setprop_u32(f->blob, node, "phandle", ph));
    return ph;
}
