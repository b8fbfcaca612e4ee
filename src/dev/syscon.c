/* SiFive test finisher. The register holds no state (reads return 0), so the device has no
 * reset, save or load callbacks: there is nothing to reset or serialize. */
#include "dev/syscon.h"

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>

#include "core/error.h"

#define FINISHER_FAIL 0x3333
#define FINISHER_PASS 0x5555
#define FINISHER_RESET 0x7777

struct rv_syscon {
    void (*power)(void *opaque, enum rv_power_action action, int status);
    void *opaque;
};

static void syscon_write(void *dev, uint64_t offset, uint64_t value, unsigned size)
{
    struct rv_syscon *s = dev;
    /* The finisher is the 32-bit word at offset 0; a 16-bit write carries no code, and a
     * 64-bit store is taken as its low word. */
    if (offset != 0 || size < 2)
        return;
    uint32_t v = (uint32_t)(size == 2 ? value & 0xffff : value);
    switch (v & 0xffff) {
    case FINISHER_PASS:
        s->power(s->opaque, RV_POWER_OFF, 0);
        break;
    case FINISHER_FAIL:
        s->power(s->opaque, RV_POWER_OFF, (int)(v >> 16));
        break;
    case FINISHER_RESET:
        s->power(s->opaque, RV_POWER_RESET, 0);
        break;
    default:
        break;
    }
}

static void syscon_destroy(void *dev)
{
    free(dev);
}

static const struct rv_device_ops syscon_ops = {
    .name = "sifive-test",
    .write = syscon_write,
    .destroy = syscon_destroy,
};

static void fdt_check(struct rv_fdt *f, int rc)
{
    if (rc < 0 && !f->error)
        f->error = rc;
}

/* A root node "/<name>" of the syscon-poweroff/-reboot kind: write `value` at `offset` of
 * the regmap `phandle` (Documentation/devicetree/bindings/power/reset/syscon-*.yaml). */
static void fdt_add_syscon_action(struct rv_fdt *f, const char *name, const char *compat,
                                  uint32_t phandle, uint32_t value)
{
    int node = fdt_add_subnode(f->blob, 0, name);
    fdt_check(f, node);
    if (node < 0)
        return;
    fdt_check(f, fdt_setprop_string(f->blob, node, "compatible", compat));
    fdt_check(f, fdt_setprop_u32(f->blob, node, "regmap", phandle));
    fdt_check(f, fdt_setprop_u32(f->blob, node, "offset", 0));
    fdt_check(f, fdt_setprop_u32(f->blob, node, "value", value));
}

static void syscon_add_fdt(struct rv_fdt *f, uint64_t base)
{
    static const char compat[] = "sifive,test1\0sifive,test0\0syscon";
    int node = rv_fdt_add_device(f, "test", base, RV_SYSCON_SIZE, compat, sizeof(compat));
    uint32_t phandle = rv_fdt_alloc_phandle(f, node);
    if (!phandle) /* the error is already recorded */
        return;
    fdt_add_syscon_action(f, "poweroff", "syscon-poweroff", phandle, FINISHER_PASS);
    fdt_add_syscon_action(f, "reboot", "syscon-reboot", phandle, FINISHER_RESET);
}

int rv_syscon_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base,
                     void (*power)(void *opaque, enum rv_power_action action, int status),
                     void *opaque, struct rv_syscon **out)
{
    if (!power)
        return rv_error_set(-EINVAL, "syscon: no power callback");
    struct rv_syscon *s = calloc(1, sizeof(*s));
    if (!s)
        return rv_error_set(-ENOMEM, "syscon: out of memory");
    s->power = power;
    s->opaque = opaque;
    int rc = rv_iomap_attach(map, base, RV_SYSCON_SIZE, &syscon_ops, s);
    if (rc) {
        free(s);
        return rc;
    }
    if (fdt)
        syscon_add_fdt(fdt, base);
    *out = s;
    return 0;
}
