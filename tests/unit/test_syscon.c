/* syscon / SiFive test finisher: power actions and the device-tree nodes. */
#include <libfdt.h>
#include <string.h>

#include "dev/syscon.h"
#include "test.h"

#define BASE 0x100000ull

struct calls {
    unsigned count;
    enum rv_power_action action;
    int status;
};

static void power(void *opaque, enum rv_power_action action, int status)
{
    struct calls *c = opaque;
    c->count++;
    c->action = action;
    c->status = status;
}

static void test_actions(void)
{
    struct rv_iomap map = {0};
    struct calls c = {0};
    struct rv_syscon *s;
    CHECK_EQ(rv_syscon_create(&map, NULL, BASE, power, &c, &s), 0);
    struct rv_region *r = rv_iomap_find(&map, BASE, 4);
    CHECK(r != NULL && r->size == 0x1000);

    r->ops->write(r->dev, 0, 0x5555, 4);
    CHECK_EQ(c.count, 1);
    CHECK_EQ(c.action, RV_POWER_OFF);
    CHECK_EQ(c.status, 0);

    r->ops->write(r->dev, 0, 0x7777, 4);
    CHECK_EQ(c.count, 2);
    CHECK_EQ(c.action, RV_POWER_RESET);
    CHECK_EQ(c.status, 0);

    r->ops->write(r->dev, 0, 0x3333 | (3u << 16), 4);
    CHECK_EQ(c.count, 3);
    CHECK_EQ(c.action, RV_POWER_OFF);
    CHECK_EQ(c.status, 3);

    r->ops->write(r->dev, 0, 0x3333 | (0xffffu << 16), 4);
    CHECK_EQ(c.count, 4);
    CHECK_EQ(c.status, 0xffff);

    /* a 16-bit write carries the command without a code; 64-bit uses the low word */
    r->ops->write(r->dev, 0, 0x5555, 2);
    CHECK_EQ(c.count, 5);
    CHECK_EQ(c.action, RV_POWER_OFF);
    r->ops->write(r->dev, 0, 0xdead00000007ff33ull, 8);
    CHECK_EQ(c.count, 5);
    r->ops->write(r->dev, 0, 0xdead000000057777ull, 8);
    CHECK_EQ(c.count, 6);
    CHECK_EQ(c.action, RV_POWER_RESET);

    /* everything else is ignored */
    r->ops->write(r->dev, 0, 0, 4);
    r->ops->write(r->dev, 0, 0x5554, 4);
    r->ops->write(r->dev, 0, 0x1234, 4);
    r->ops->write(r->dev, 0, 0x55, 1);   /* byte write */
    r->ops->write(r->dev, 4, 0x5555, 4); /* another offset */
    r->ops->write(r->dev, 0xffc, 0x7777, 4);
    CHECK_EQ(c.count, 6);
    /* reads are 0 (no read callback: the bus returns 0) */
    CHECK(r->ops->read == NULL);

    /* no callback is an error; a second device cannot overlap */
    struct rv_syscon *s2;
    CHECK(rv_syscon_create(&map, NULL, 0x200000, NULL, NULL, &s2) < 0);
    CHECK(rv_syscon_create(&map, NULL, BASE + 0x800, power, &c, &s2) < 0);
    CHECK_EQ(map.count, 1);
    r->ops->destroy(s);
}

static uint32_t getprop_u32(const void *blob, int node, const char *name)
{
    int len;
    const fdt32_t *p = fdt_getprop(blob, node, name, &len);
    if (!p || len != 4)
        return 0xdeadbeef;
    return fdt32_to_cpu(*p);
}

static void test_fdt(void)
{
    static uint8_t blob[65536];
    CHECK_EQ(fdt_create_empty_tree(blob, sizeof(blob)), 0);
    int soc = fdt_add_subnode(blob, 0, "soc");
    fdt_setprop_u32(blob, soc, "#address-cells", 2);
    fdt_setprop_u32(blob, soc, "#size-cells", 2);
    /* an existing phandle (like the PLIC's) must not be reused */
    int plic = fdt_add_subnode(blob, soc, "plic@c000000");
    fdt_setprop_u32(blob, plic, "phandle", 1);
    struct rv_fdt f = {.blob = blob, .soc = soc};
    struct rv_iomap map = {0};
    struct calls c = {0};
    struct rv_syscon *s;
    CHECK_EQ(rv_syscon_create(&map, &f, BASE, power, &c, &s), 0);
    CHECK_EQ(f.error, 0);

    int test = fdt_path_offset(blob, "/soc/test@100000");
    CHECK(test >= 0);
    int len;
    const char *compat = fdt_getprop(blob, test, "compatible", &len);
    static const char want[] = "sifive,test1\0sifive,test0\0syscon";
    CHECK(compat && len == (int)sizeof(want) && memcmp(compat, want, sizeof(want)) == 0);
    CHECK_EQ(fdt_node_check_compatible(blob, test, "sifive,test0"), 0);
    CHECK_EQ(fdt_node_check_compatible(blob, test, "syscon"), 0);
    const fdt64_t *reg = fdt_getprop(blob, test, "reg", &len);
    CHECK(reg && len == 16);
    if (reg && len == 16) {
        CHECK_EQ(fdt64_ld(&reg[0]), BASE);
        CHECK_EQ(fdt64_ld(&reg[1]), 0x1000);
    }
    uint32_t ph = getprop_u32(blob, test, "phandle");
    CHECK(ph != 0 && ph != 1 && ph != 0xdeadbeef);
    CHECK_EQ(fdt_node_offset_by_phandle(blob, ph), test);

    int off = fdt_path_offset(blob, "/poweroff");
    CHECK(off >= 0);
    CHECK_EQ(fdt_parent_offset(blob, off), 0);
    compat = fdt_getprop(blob, off, "compatible", &len);
    CHECK(compat && strcmp(compat, "syscon-poweroff") == 0 && len == 16);
    CHECK_EQ(getprop_u32(blob, off, "regmap"), ph);
    CHECK_EQ(getprop_u32(blob, off, "offset"), 0);
    CHECK_EQ(getprop_u32(blob, off, "value"), 0x5555);

    int rb = fdt_path_offset(blob, "/reboot");
    CHECK(rb >= 0);
    CHECK_EQ(fdt_parent_offset(blob, rb), 0);
    compat = fdt_getprop(blob, rb, "compatible", &len);
    CHECK(compat && strcmp(compat, "syscon-reboot") == 0 && len == 14);
    CHECK_EQ(getprop_u32(blob, rb, "regmap"), ph);
    CHECK_EQ(getprop_u32(blob, rb, "offset"), 0);
    CHECK_EQ(getprop_u32(blob, rb, "value"), 0x7777);

    /* the register the poweroff node names does what the node promises */
    struct rv_region *r = rv_iomap_find(&map, BASE, 4);
    r->ops->write(r->dev, getprop_u32(blob, off, "offset"), getprop_u32(blob, off, "value"), 4);
    CHECK_EQ(c.count, 1);
    CHECK_EQ(c.action, RV_POWER_OFF);
    r->ops->write(r->dev, getprop_u32(blob, rb, "offset"), getprop_u32(blob, rb, "value"), 4);
    CHECK_EQ(c.action, RV_POWER_RESET);
    r->ops->destroy(s);

    /* a tree that is too small records the libfdt error instead of failing silently */
    static uint8_t tiny[256];
    CHECK_EQ(fdt_create_empty_tree(tiny, sizeof(tiny)), 0);
    soc = fdt_add_subnode(tiny, 0, "soc");
    struct rv_fdt t = {.blob = tiny, .soc = soc};
    struct rv_iomap map2 = {0};
    CHECK_EQ(rv_syscon_create(&map2, &t, BASE, power, &c, &s), 0);
    CHECK(t.error < 0);
    map2.regions[0].ops->destroy(s);
}

int main(void)
{
    test_actions();
    test_fdt();
    TEST_MAIN_END();
}
