/* ACLINT: MSWI, MTIMER and SSWI registers, host callbacks, save/load, device tree. */
#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "core/serial.h"
#include "dev/aclint.h"
#include "test.h"

#define NHARTS 3

enum { EV_MSIP, EV_MTIMECMP, EV_SSIP, EV_SET_TIME };

struct event {
    int kind;
    unsigned hart;
    uint64_t value;
};

struct fixture {
    struct rv_iomap map;
    struct rv_aclint *aclint;
    struct rv_region *mswi, *mtimer, *sswi;
    uint64_t time;
    struct event log[64];
    unsigned nlog;
};

static void log_event(struct fixture *f, int kind, unsigned hart, uint64_t value)
{
    if (f->nlog < 64)
        f->log[f->nlog++] = (struct event){kind, hart, value};
}

static uint64_t host_get_time(void *opaque)
{
    return ((struct fixture *)opaque)->time;
}

static void host_set_time(void *opaque, uint64_t mtime)
{
    struct fixture *f = opaque;
    f->time = mtime;
    log_event(f, EV_SET_TIME, 0, mtime);
}

static void host_set_mtimecmp(void *opaque, unsigned hart, uint64_t value)
{
    log_event(opaque, EV_MTIMECMP, hart, value);
}

static void host_set_msip(void *opaque, unsigned hart, bool level)
{
    log_event(opaque, EV_MSIP, hart, level);
}

static void host_set_ssip(void *opaque, unsigned hart)
{
    log_event(opaque, EV_SSIP, hart, 1);
}

static struct fixture *fixture_new(struct rv_fdt *fdt, const uint32_t *intc)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct rv_aclint_host host = {
        .get_time = host_get_time,
        .set_time = host_set_time,
        .set_mtimecmp = host_set_mtimecmp,
        .set_msip = host_set_msip,
        .set_ssip = host_set_ssip,
        .opaque = f,
    };
    CHECK_EQ(rv_aclint_create(&f->map, fdt, NHARTS, intc, &host, &f->aclint), 0);
    f->mswi = rv_iomap_find(&f->map, 0x02000000, 4);
    f->mtimer = rv_iomap_find(&f->map, 0x02004000, 4);
    f->sswi = rv_iomap_find(&f->map, 0x02f00000, 4);
    CHECK(f->mswi && f->mtimer && f->sswi);
    CHECK(rv_iomap_find(&f->map, 0x0200bff8, 8) == f->mtimer);
    CHECK(rv_iomap_find(&f->map, 0x0200c000, 4) == NULL);
    CHECK(rv_iomap_find(&f->map, 0x02f03ffc, 4) == f->sswi);
    return f;
}

static void fixture_free(struct fixture *f)
{
    f->mswi->ops->destroy(f->mswi->dev);
    free(f);
}

static uint64_t rd(struct rv_region *r, uint64_t off, unsigned size)
{
    return r->ops->read(r->dev, off, size);
}

static void wr(struct rv_region *r, uint64_t off, uint64_t v, unsigned size)
{
    r->ops->write(r->dev, off, v, size);
}

static bool logged(const struct fixture *f, unsigned i, int kind, unsigned hart, uint64_t v)
{
    return i < f->nlog && f->log[i].kind == kind && f->log[i].hart == hart &&
           f->log[i].value == v;
}

static void test_mswi(void)
{
    struct fixture *f = fixture_new(NULL, NULL);
    wr(f->mswi, 4, 1, 4);
    CHECK(logged(f, 0, EV_MSIP, 1, 1));
    CHECK_EQ(rd(f->mswi, 4, 4), 1);
    CHECK_EQ(rd(f->mswi, 0, 4), 0);
    wr(f->mswi, 8, 0xfffffffe, 4); /* only bit 0 is writable */
    CHECK(logged(f, 1, EV_MSIP, 2, 0));
    CHECK_EQ(rd(f->mswi, 8, 4), 0);
    wr(f->mswi, 4, 0, 4);
    CHECK(logged(f, 2, EV_MSIP, 1, 0));
    CHECK_EQ(rd(f->mswi, 4, 4), 0);
    /* harts beyond NHARTS, other sizes */
    wr(f->mswi, 4 * NHARTS, 1, 4);
    wr(f->mswi, 0x3ffc, 1, 4);
    wr(f->mswi, 0, 1, 1);
    wr(f->mswi, 0, 1, 8);
    CHECK_EQ(f->nlog, 3);
    CHECK_EQ(rd(f->mswi, 4 * NHARTS, 4), 0);
    CHECK_EQ(rd(f->mswi, 0, 4), 0);
    fixture_free(f);
}

static void test_mtimer(void)
{
    struct fixture *f = fixture_new(NULL, NULL);
    /* reset value: "no timer" */
    for (unsigned h = 0; h < NHARTS; h++)
        CHECK_EQ(rd(f->mtimer, 8 * h, 8), UINT64_MAX);
    wr(f->mtimer, 8, 0x1122334455667788ull, 8);
    CHECK(logged(f, 0, EV_MTIMECMP, 1, 0x1122334455667788ull));
    CHECK_EQ(rd(f->mtimer, 8, 8), 0x1122334455667788ull);
    CHECK_EQ(rd(f->mtimer, 8, 4), 0x55667788);
    CHECK_EQ(rd(f->mtimer, 12, 4), 0x11223344);
    /* 32-bit halves, the RV32 sequence: lo = -1, hi, lo */
    wr(f->mtimer, 16, 0xffffffff, 4);
    CHECK(logged(f, 1, EV_MTIMECMP, 2, UINT64_MAX));
    wr(f->mtimer, 20, 0x00000002, 4);
    CHECK(logged(f, 2, EV_MTIMECMP, 2, 0x00000002ffffffffull));
    wr(f->mtimer, 16, 0x80000000, 4);
    CHECK(logged(f, 3, EV_MTIMECMP, 2, 0x0000000280000000ull));
    CHECK_EQ(rd(f->mtimer, 16, 8), 0x0000000280000000ull);
    CHECK_EQ(rd(f->mtimer, 0, 8), UINT64_MAX);
    /* beyond NHARTS; unsupported sizes */
    wr(f->mtimer, 8 * NHARTS, 5, 8);
    wr(f->mtimer, 0x7ff0, 5, 8);
    wr(f->mtimer, 0, 5, 2);
    CHECK_EQ(f->nlog, 4);
    CHECK_EQ(rd(f->mtimer, 8 * NHARTS, 8), 0);
    CHECK_EQ(rd(f->mtimer, 0, 1), 0);

    /* mtime through the host's time source */
    f->time = 0xaabbccdd00112233ull;
    CHECK_EQ(rd(f->mtimer, 0x7ff8, 8), 0xaabbccdd00112233ull);
    CHECK_EQ(rd(f->mtimer, 0x7ff8, 4), 0x00112233);
    CHECK_EQ(rd(f->mtimer, 0x7ffc, 4), 0xaabbccdd);
    wr(f->mtimer, 0x7ff8, 0x123456789ull, 8);
    CHECK(logged(f, 4, EV_SET_TIME, 0, 0x123456789ull));
    wr(f->mtimer, 0x7ff8, 0xdeadbeef, 4);
    CHECK(logged(f, 5, EV_SET_TIME, 0, 0x1deadbeefull));
    wr(f->mtimer, 0x7ffc, 0x7, 4);
    CHECK(logged(f, 6, EV_SET_TIME, 0, 0x7deadbeefull));
    CHECK_EQ(f->nlog, 7);
    fixture_free(f);
}

static void test_sswi(void)
{
    struct fixture *f = fixture_new(NULL, NULL);
    wr(f->sswi, 8, 1, 4);
    CHECK(logged(f, 0, EV_SSIP, 2, 1));
    CHECK_EQ(rd(f->sswi, 8, 4), 0); /* an edge: reads 0 */
    wr(f->sswi, 8, 0, 4);           /* writing 0 does nothing */
    wr(f->sswi, 0, 2, 4);           /* bit 0 clear */
    wr(f->sswi, 4 * NHARTS, 1, 4);
    wr(f->sswi, 0, 1, 1);
    CHECK_EQ(f->nlog, 1);
    wr(f->sswi, 0, 0xffffffff, 4);
    CHECK(logged(f, 1, EV_SSIP, 0, 1));
    fixture_free(f);
}

static void test_reset(void)
{
    struct fixture *f = fixture_new(NULL, NULL);
    wr(f->mswi, 0, 1, 4);
    wr(f->mtimer, 0, 1000, 8);
    f->time = 5000;
    f->nlog = 0;
    f->mswi->ops->reset(f->mswi->dev);
    CHECK_EQ(rd(f->mswi, 0, 4), 0);
    CHECK_EQ(rd(f->mtimer, 0, 8), UINT64_MAX);
    CHECK_EQ(f->time, 0);
    CHECK_EQ(f->nlog, 2 * NHARTS + 1);
    for (unsigned h = 0; h < NHARTS; h++) {
        CHECK(logged(f, 2 * h, EV_MSIP, h, 0));
        CHECK(logged(f, 2 * h + 1, EV_MTIMECMP, h, UINT64_MAX));
    }
    CHECK(logged(f, 2 * NHARTS, EV_SET_TIME, 0, 0));
    /* only the MSWI window carries the lifecycle ops */
    CHECK(f->mtimer->ops->reset == NULL && f->mtimer->ops->save == NULL);
    CHECK(f->sswi->ops->destroy == NULL && f->sswi->ops->load == NULL);
    fixture_free(f);
}

static void test_save_load(void)
{
    struct fixture *a = fixture_new(NULL, NULL);
    wr(a->mswi, 8, 1, 4);
    wr(a->mtimer, 0, 0x1234, 8);
    wr(a->mtimer, 16, 0xfedcba9876543210ull, 8);
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    CHECK_EQ(a->mswi->ops->save(a->mswi->dev, &w), 0);
    CHECK_EQ(w.len, 8 + NHARTS * 9);

    struct fixture *b = fixture_new(NULL, NULL);
    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(b->mswi->ops->load(b->mswi->dev, &r), 0);
    CHECK_EQ(r.pos, w.len);
    for (unsigned h = 0; h < NHARTS; h++) {
        CHECK_EQ(rd(b->mswi, 4 * h, 4), rd(a->mswi, 4 * h, 4));
        CHECK_EQ(rd(b->mtimer, 8 * h, 8), rd(a->mtimer, 8 * h, 8));
    }
    /* the restored values were forwarded to the harts */
    CHECK_EQ(b->nlog, 2 * NHARTS);
    CHECK(logged(b, 0, EV_MSIP, 0, 0));
    CHECK(logged(b, 1, EV_MTIMECMP, 0, 0x1234));
    CHECK(logged(b, 4, EV_MSIP, 2, 1));
    CHECK(logged(b, 5, EV_MTIMECMP, 2, 0xfedcba9876543210ull));

    /* truncations, bad msip, wrong version, other hart count: rejected, nothing changes */
    struct fixture *c = fixture_new(NULL, NULL);
    unsigned rejected = 0;
    for (size_t len = 0; len < w.len; len++) {
        rv_state_reader_init(&r, w.buf, len);
        rejected += c->mswi->ops->load(c->mswi->dev, &r) == -EINVAL;
    }
    CHECK_EQ(rejected, w.len);
    uint8_t *bad = malloc(w.len);
    memcpy(bad, w.buf, w.len);
    bad[8 + 9] = 2; /* msip of hart 1 */
    rv_state_reader_init(&r, bad, w.len);
    CHECK_EQ(c->mswi->ops->load(c->mswi->dev, &r), -EINVAL);
    memcpy(bad, w.buf, w.len);
    bad[0] = 7;
    rv_state_reader_init(&r, bad, w.len);
    CHECK_EQ(c->mswi->ops->load(c->mswi->dev, &r), -EINVAL);
    memcpy(bad, w.buf, w.len);
    bad[4] = NHARTS + 1;
    rv_state_reader_init(&r, bad, w.len);
    CHECK_EQ(c->mswi->ops->load(c->mswi->dev, &r), -EINVAL);
    CHECK_EQ(c->nlog, 0);
    CHECK_EQ(rd(c->mtimer, 0, 8), UINT64_MAX);
    free(bad);

    rv_state_writer_free(&w);
    fixture_free(a);
    fixture_free(b);
    fixture_free(c);
}

static const fdt32_t *prop(const void *blob, int node, const char *name, int want_len)
{
    int len;
    const fdt32_t *v = fdt_getprop(blob, node, name, &len);
    CHECK(v != NULL);
    CHECK_EQ(len, want_len);
    return v && len == want_len ? v : NULL;
}

static void check_cells(const fdt32_t *v, const uint32_t *want, unsigned n)
{
    if (!v)
        return;
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(fdt32_to_cpu(v[i]), want[i]);
}

static void test_device_tree(void)
{
    static uint8_t blob[65536];
    CHECK_EQ(fdt_create_empty_tree(blob, sizeof(blob)), 0);
    int soc = fdt_add_subnode(blob, 0, "soc");
    fdt_setprop_u32(blob, soc, "#address-cells", 2);
    fdt_setprop_u32(blob, soc, "#size-cells", 2);
    struct rv_fdt fdt = {.blob = blob, .soc = soc};
    const uint32_t intc[NHARTS] = {5, 6, 7};
    struct fixture *f = fixture_new(&fdt, intc);
    CHECK_EQ(fdt.error, 0);

    int mswi = fdt_path_offset(blob, "/soc/mswi@2000000");
    CHECK(mswi >= 0);
    CHECK_EQ(fdt_node_check_compatible(blob, mswi, "riscv,aclint-mswi"), 0);
    check_cells(prop(blob, mswi, "reg", 16), (const uint32_t[]){0, 0x2000000, 0, 0x4000}, 4);
    check_cells(prop(blob, mswi, "interrupts-extended", 24),
                (const uint32_t[]){5, 3, 6, 3, 7, 3}, 6);
    prop(blob, mswi, "interrupt-controller", 0);
    check_cells(prop(blob, mswi, "#interrupt-cells", 4), (const uint32_t[]){0}, 1);

    int mtimer = fdt_path_offset(blob, "/soc/mtimer@2004000");
    CHECK(mtimer >= 0);
    CHECK_EQ(fdt_node_check_compatible(blob, mtimer, "riscv,aclint-mtimer"), 0);
    check_cells(prop(blob, mtimer, "reg", 32),
                (const uint32_t[]){0, 0x200bff8, 0, 8, 0, 0x2004000, 0, 0x7ff8}, 8);
    check_cells(prop(blob, mtimer, "interrupts-extended", 24),
                (const uint32_t[]){5, 7, 6, 7, 7, 7}, 6);
    CHECK(fdt_getprop(blob, mtimer, "interrupt-controller", NULL) == NULL);

    /* the SSWI works (test_sswi) but is not in the tree: Linux then uses SBI for IPIs */
    CHECK(fdt_path_offset(blob, "/soc/sswi@2f00000") < 0);
    CHECK(fdt_node_offset_by_compatible(blob, -1, "riscv,aclint-sswi") < 0);
    fixture_free(f);
}

static void test_create_errors(void)
{
    struct rv_iomap map = {0};
    struct rv_aclint *a = NULL;
    CHECK_EQ(rv_aclint_create(&map, NULL, 0, NULL, NULL, &a), -EINVAL);
    CHECK_EQ(rv_aclint_create(&map, NULL, 4096, NULL, NULL, &a), -EINVAL);
    struct rv_fdt fdt = {0};
    CHECK_EQ(rv_aclint_create(&map, &fdt, 1, NULL, NULL, &a), -EINVAL);
    CHECK_EQ(map.count, 0);
    /* a window already taken: nothing stays attached */
    struct rv_region *blocker = NULL;
    CHECK_EQ(rv_aclint_create(&map, NULL, 1, NULL, NULL, &a), 0);
    blocker = &map.regions[0];
    struct rv_aclint *b = NULL;
    CHECK_EQ(rv_aclint_create(&map, NULL, 1, NULL, NULL, &b), -EEXIST);
    CHECK(b == NULL);
    CHECK_EQ(map.count, 3);
    /* no host callbacks: registers still work, time reads 0 */
    struct rv_region *mtimer = rv_iomap_find(&map, 0x02004000, 8);
    mtimer->ops->write(mtimer->dev, 0, 42, 8);
    CHECK_EQ(mtimer->ops->read(mtimer->dev, 0, 8), 42);
    CHECK_EQ(mtimer->ops->read(mtimer->dev, 0x7ff8, 8), 0);
    mtimer->ops->write(mtimer->dev, 0x7ff8, 1, 8);
    struct rv_region *sswi = rv_iomap_find(&map, 0x02f00000, 4);
    sswi->ops->write(sswi->dev, 0, 1, 4);
    blocker->ops->write(blocker->dev, 0, 1, 4);
    CHECK_EQ(blocker->ops->read(blocker->dev, 0, 4), 1);
    blocker->ops->destroy(blocker->dev);

    /* only the SSWI window is taken: the two windows attached before it are dropped again */
    static const struct rv_device_ops dummy_ops = {.name = "dummy"};
    struct rv_iomap map2 = {0};
    CHECK_EQ(rv_iomap_attach(&map2, 0x02f00000, 0x1000, &dummy_ops, NULL), 0);
    CHECK_EQ(rv_aclint_create(&map2, NULL, 2, NULL, NULL, &b), -EEXIST);
    CHECK_EQ(map2.count, 1);
    CHECK(b == NULL);
}

int main(void)
{
    test_mswi();
    test_mtimer();
    test_sswi();
    test_reset();
    test_save_load();
    test_device_tree();
    test_create_errors();
    TEST_MAIN_END();
}
