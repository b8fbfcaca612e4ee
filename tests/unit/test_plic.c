/* PLIC: registers, gateway/claim/complete rules, EIP notifications, save/load, device tree. */
#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "core/serial.h"
#include "dev/plic.h"
#include "test.h"

#define PRIO(src) (4u * (src))
#define PENDING(word) (0x1000u + 4u * (word))
#define ENABLE(ctx, word) (0x2000u + 0x80u * (ctx) + 4u * (word))
#define THRESHOLD(ctx) (0x200000u + 0x1000u * (ctx))
#define CLAIM(ctx) (0x200004u + 0x1000u * (ctx))

/* contexts of a 2-hart PLIC */
#define H0M 0
#define H0S 1
#define H1M 2
#define H1S 3

struct eip_event {
    unsigned hart;
    bool s_mode, level;
};

struct fixture {
    struct rv_iomap map;
    struct rv_plic *plic;
    struct rv_region *region;
    struct eip_event log[64];
    unsigned nlog;
    bool level[8][2]; /* current EIP as the harts see it */
};

static void host_set_eip(void *opaque, unsigned hart, bool s_mode, bool level)
{
    struct fixture *f = opaque;
    if (f->nlog < 64)
        f->log[f->nlog++] = (struct eip_event){hart, s_mode, level};
    if (hart < 8)
        f->level[hart][s_mode] = level;
}

static struct fixture *fixture_new(unsigned nharts, struct rv_fdt *fdt, const uint32_t *intc)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct rv_plic_host host = {.set_eip = host_set_eip, .opaque = f};
    int rc = rv_plic_create(&f->map, fdt, RV_PLIC_BASE, nharts, intc, &host, &f->plic);
    CHECK_EQ(rc, 0);
    f->region = rv_iomap_find(&f->map, RV_PLIC_BASE, 4);
    CHECK(f->region != NULL);
    return f;
}

static void fixture_free(struct fixture *f)
{
    f->region->ops->destroy(f->region->dev);
    free(f);
}

static uint32_t rd(struct fixture *f, uint64_t off)
{
    return (uint32_t)f->region->ops->read(f->region->dev, off, 4);
}

static void wr(struct fixture *f, uint64_t off, uint32_t v)
{
    f->region->ops->write(f->region->dev, off, v, 4);
}

static void enable(struct fixture *f, unsigned ctx, unsigned src)
{
    uint64_t off = ENABLE(ctx, src / 32);
    wr(f, off, rd(f, off) | 1u << (src % 32));
}

static void disable(struct fixture *f, unsigned ctx, unsigned src)
{
    uint64_t off = ENABLE(ctx, src / 32);
    wr(f, off, rd(f, off) & ~(1u << (src % 32)));
}

static bool pending(struct fixture *f, unsigned src)
{
    return (rd(f, PENDING(src / 32)) >> (src % 32)) & 1;
}

/* Priority, threshold and enable registers: WARL widths and per-context storage. */
static void test_registers(void)
{
    struct fixture *f = fixture_new(2, NULL, NULL);
    wr(f, PRIO(1), 3);
    wr(f, PRIO(95), 7);
    wr(f, PRIO(2), 0xf); /* 3 bits implemented */
    wr(f, PRIO(0), 5);   /* source 0 does not exist */
    CHECK_EQ(rd(f, PRIO(1)), 3);
    CHECK_EQ(rd(f, PRIO(95)), 7);
    CHECK_EQ(rd(f, PRIO(2)), 7);
    CHECK_EQ(rd(f, PRIO(0)), 0);
    CHECK_EQ(rd(f, PRIO(96)), 0);

    for (unsigned c = 0; c < 4; c++)
        wr(f, THRESHOLD(c), c + 1);
    wr(f, THRESHOLD(H1S), 9); /* WARL: 9 & 7 */
    CHECK_EQ(rd(f, THRESHOLD(H0M)), 1);
    CHECK_EQ(rd(f, THRESHOLD(H0S)), 2);
    CHECK_EQ(rd(f, THRESHOLD(H1M)), 3);
    CHECK_EQ(rd(f, THRESHOLD(H1S)), 1);

    wr(f, ENABLE(H0S, 0), 0xffffffff); /* bit 0 (source 0) is hardwired to 0 */
    wr(f, ENABLE(H0S, 2), 0x80000001);
    wr(f, ENABLE(H1M, 1), 0x1234);
    CHECK_EQ(rd(f, ENABLE(H0S, 0)), 0xfffffffe);
    CHECK_EQ(rd(f, ENABLE(H0S, 2)), 0x80000001);
    CHECK_EQ(rd(f, ENABLE(H1M, 1)), 0x1234);
    CHECK_EQ(rd(f, ENABLE(H0M, 0)), 0);
    CHECK_EQ(rd(f, ENABLE(H1S, 1)), 0);
    CHECK_EQ(f->nlog, 0); /* nothing pending: no notification */
    fixture_free(f);
}

/* Claims return the highest priority, ties to the lowest ID, and clear pending bits. */
static void test_claim_order(void)
{
    struct fixture *f = fixture_new(2, NULL, NULL);
    const unsigned src[] = {40, 9, 3, 7, 64};
    const uint32_t prio[] = {1, 5, 2, 5, 2};
    for (unsigned i = 0; i < 5; i++) {
        wr(f, PRIO(src[i]), prio[i]);
        enable(f, H1M, src[i]);
        rv_plic_set_irq(f->plic, src[i], true);
        rv_plic_set_irq(f->plic, src[i], false); /* requests stay latched */
    }
    CHECK_EQ(rd(f, PENDING(0)), (1u << 3) | (1u << 7) | (1u << 9));
    CHECK_EQ(rd(f, PENDING(1)), 1u << 8);
    CHECK_EQ(rd(f, PENDING(2)), 1u << 0);
    CHECK_EQ(rd(f, CLAIM(H1M)), 7);
    CHECK_EQ(rd(f, CLAIM(H1M)), 9);
    CHECK_EQ(rd(f, CLAIM(H1M)), 3);
    CHECK_EQ(rd(f, CLAIM(H1M)), 64);
    CHECK_EQ(rd(f, CLAIM(H1M)), 40);
    CHECK_EQ(rd(f, CLAIM(H1M)), 0);
    CHECK_EQ(rd(f, PENDING(0)) | rd(f, PENDING(1)) | rd(f, PENDING(2)), 0);
    /* EIP of hart 1 M rose once and fell after the last claim */
    CHECK_EQ(f->nlog, 2);
    CHECK(f->log[0].hart == 1 && !f->log[0].s_mode && f->log[0].level);
    CHECK(f->log[1].hart == 1 && !f->log[1].s_mode && !f->log[1].level);
    /* a context without these sources enabled claims nothing */
    rv_plic_set_irq(f->plic, 3, true);
    CHECK_EQ(rd(f, CLAIM(H0S)), 0);
    CHECK(pending(f, 3) == false); /* gateway still waits for the completion of 3 */
    fixture_free(f);
}

/* Level-triggered gateway: claim clears pending, completion re-raises while the line is high,
 * with the EIP callbacks for the S context of hart 0. */
static void test_gateway_level(void)
{
    struct fixture *f = fixture_new(2, NULL, NULL);
    wr(f, PRIO(5), 1);
    enable(f, H0S, 5);
    rv_plic_set_irq(f->plic, 5, true);
    CHECK(pending(f, 5));
    CHECK_EQ(f->nlog, 1);
    CHECK(f->log[0].hart == 0 && f->log[0].s_mode && f->log[0].level);

    CHECK_EQ(rd(f, CLAIM(H0S)), 5);
    CHECK(!pending(f, 5));
    CHECK_EQ(f->nlog, 2);
    CHECK(!f->log[1].level);
    rv_plic_set_irq(f->plic, 5, true); /* still high, in service: no new request */
    CHECK(!pending(f, 5));
    CHECK_EQ(f->nlog, 2);

    wr(f, CLAIM(H0S), 5); /* complete with the line high: a new request */
    CHECK(pending(f, 5));
    CHECK_EQ(f->nlog, 3);
    CHECK(f->log[2].hart == 0 && f->log[2].s_mode && f->log[2].level);

    rv_plic_set_irq(f->plic, 5, false); /* a forwarded request is not retracted */
    CHECK(pending(f, 5));
    CHECK(f->level[0][1]);
    CHECK_EQ(rd(f, CLAIM(H0S)), 5);
    CHECK_EQ(f->nlog, 4);
    wr(f, CLAIM(H0S), 5); /* line low now: nothing new */
    CHECK(!pending(f, 5));
    CHECK_EQ(f->nlog, 4);
    rv_plic_set_irq(f->plic, 5, true); /* next assertion is a new request */
    CHECK(pending(f, 5));
    CHECK_EQ(f->nlog, 5);
    fixture_free(f);
}

/* Completion is ignored for a source not enabled in the completing context (spec). */
static void test_complete_needs_enable(void)
{
    struct fixture *f = fixture_new(2, NULL, NULL);
    wr(f, PRIO(12), 2);
    enable(f, H1S, 12);
    rv_plic_set_irq(f->plic, 12, true);
    CHECK_EQ(rd(f, CLAIM(H1S)), 12);
    wr(f, CLAIM(H0S), 12); /* not enabled for hart 0 S */
    CHECK(!pending(f, 12));
    disable(f, H1S, 12);
    wr(f, CLAIM(H1S), 12); /* disabled now: ignored */
    CHECK(!pending(f, 12));
    wr(f, CLAIM(H1S), 0);   /* ID 0 and out-of-range IDs are ignored */
    wr(f, CLAIM(H1S), 96);
    wr(f, CLAIM(H1S), 0xffffffff);
    CHECK(!pending(f, 12));
    enable(f, H1S, 12); /* Linux's plic_irq_eoi: enable, complete, disable */
    wr(f, CLAIM(H1S), 12);
    CHECK(pending(f, 12));
    fixture_free(f);
}

/* EIP per context: enables, thresholds and priorities of both modes of two harts. */
static void test_eip_contexts(void)
{
    struct fixture *f = fixture_new(2, NULL, NULL);
    wr(f, PRIO(1), 3);
    wr(f, PRIO(2), 6);
    enable(f, H0M, 1);
    enable(f, H0S, 2);
    enable(f, H1M, 2);
    enable(f, H1S, 1);
    enable(f, H1S, 2);
    wr(f, THRESHOLD(H1M), 6); /* masks priority <= 6 */
    wr(f, THRESHOLD(H1S), 3);
    rv_plic_set_irq(f->plic, 1, true);
    CHECK(f->level[0][0]);
    CHECK(!f->level[0][1]);
    CHECK(!f->level[1][0]);
    CHECK(!f->level[1][1]); /* priority 3 is not above threshold 3 */
    CHECK_EQ(f->nlog, 1);
    rv_plic_set_irq(f->plic, 2, true);
    CHECK(f->level[0][1]);
    CHECK(!f->level[1][0]);
    CHECK(f->level[1][1]);
    CHECK_EQ(f->nlog, 3);
    /* the threshold gates EIP, not the claim (spec, "Interrupt Claim Process") */
    CHECK_EQ(rd(f, CLAIM(H1M)), 2);
    CHECK(!f->level[0][1] && !f->level[1][1]);
    CHECK(f->level[0][0]);
    wr(f, THRESHOLD(H1S), 2);
    CHECK(f->level[1][1]); /* source 1, priority 3 > 2 */
    wr(f, THRESHOLD(H1S), 7);
    CHECK(!f->level[1][1]);
    wr(f, PRIO(1), 0);
    CHECK(!f->level[0][0]);
    unsigned n = f->nlog;
    wr(f, THRESHOLD(H0S), 0); /* no change of any EIP: no callback */
    CHECK_EQ(f->nlog, n);
    fixture_free(f);
}

/* Priority 0 means "never interrupt": no EIP, no claim, though the request is latched. */
static void test_priority_zero(void)
{
    struct fixture *f = fixture_new(2, NULL, NULL);
    enable(f, H0M, 10);
    enable(f, H0S, 10);
    rv_plic_set_irq(f->plic, 10, true);
    CHECK(pending(f, 10));
    CHECK_EQ(f->nlog, 0);
    CHECK_EQ(rd(f, CLAIM(H0M)), 0);
    CHECK(pending(f, 10));
    wr(f, PRIO(10), 1);
    CHECK(f->level[0][0] && f->level[0][1]);
    CHECK_EQ(rd(f, CLAIM(H0S)), 10);
    CHECK(!f->level[0][0] && !f->level[0][1]);
    fixture_free(f);
}

/* Out-of-range offsets, contexts, sizes and sources change nothing and read 0. */
static void test_bad_accesses(void)
{
    struct fixture *f = fixture_new(2, NULL, NULL);
    wr(f, PRIO(4), 2);
    enable(f, H0M, 4);
    rv_plic_set_irq(f->plic, 4, true);
    unsigned n = f->nlog;

    const uint64_t offs[] = {PENDING(3),   0x1ffc,           ENABLE(4, 0),   ENABLE(0, 3),
                             ENABLE(1, 31), 0x1ffffc,        THRESHOLD(4),   CLAIM(4),
                             0x200008,     CLAIM(1023),      0x5ffffc,       PRIO(1023)};
    for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        wr(f, offs[i], 0xffffffff);
        CHECK_EQ(rd(f, offs[i]), 0);
    }
    f->region->ops->write(f->region->dev, PENDING(0), 0, 4); /* pending is read-only */
    CHECK(pending(f, 4));
    /* only 32-bit accesses */
    f->region->ops->write(f->region->dev, PRIO(4), 7, 1);
    f->region->ops->write(f->region->dev, PRIO(4), 7, 2);
    f->region->ops->write(f->region->dev, PRIO(4), 7, 8);
    CHECK_EQ(rd(f, PRIO(4)), 2);
    CHECK_EQ(f->region->ops->read(f->region->dev, PRIO(4), 8), 0);
    CHECK_EQ(f->region->ops->read(f->region->dev, CLAIM(H0M), 2), 0);
    CHECK(pending(f, 4)); /* a narrow read of claim is not a claim */
    /* sources outside 1..95 */
    rv_plic_set_irq(f->plic, 0, true);
    rv_plic_set_irq(f->plic, 96, true);
    rv_plic_set_irq(f->plic, 100000, true);
    CHECK_EQ(rd(f, PENDING(0)), 1u << 4);
    CHECK_EQ(rd(f, PENDING(1)), 0);
    CHECK_EQ(rd(f, PENDING(2)), 0);
    CHECK_EQ(f->nlog, n);
    CHECK_EQ(rd(f, CLAIM(H0M)), 4);
    fixture_free(f);
}

/* struct rv_irq from rv_plic_irq drives the input. */
static void test_irq_line(void)
{
    struct fixture *f = fixture_new(1, NULL, NULL);
    struct rv_irq irq;
    rv_plic_irq(f->plic, 33, &irq);
    CHECK(irq.set == rv_plic_set_irq);
    CHECK(irq.ctrl == (void *)f->plic);
    CHECK_EQ(irq.source, 33);
    wr(f, PRIO(33), 1);
    enable(f, H0S, 33);
    rv_irq_set(&irq, true);
    CHECK(pending(f, 33));
    CHECK(f->level[0][1]);
    /* a 1-hart PLIC has contexts 0 and 1 only */
    wr(f, ENABLE(2, 1), 0xffffffff);
    CHECK_EQ(rd(f, ENABLE(2, 1)), 0);
    fixture_free(f);
}

/* Reset clears registers and reports every EIP low; high lines request again. */
static void test_reset(void)
{
    struct fixture *f = fixture_new(2, NULL, NULL);
    wr(f, PRIO(6), 4);
    wr(f, THRESHOLD(H1S), 2);
    enable(f, H1S, 6);
    rv_plic_set_irq(f->plic, 6, true);
    CHECK(f->level[1][1]);
    f->nlog = 0;
    f->region->ops->reset(f->region->dev);
    CHECK_EQ(f->nlog, 4);
    for (unsigned i = 0; i < 4; i++) {
        CHECK_EQ(f->log[i].hart, i / 2);
        CHECK_EQ(f->log[i].s_mode, i & 1);
        CHECK(!f->log[i].level);
    }
    CHECK_EQ(rd(f, PRIO(6)), 0);
    CHECK_EQ(rd(f, THRESHOLD(H1S)), 0);
    CHECK_EQ(rd(f, ENABLE(H1S, 0)), 0);
    CHECK(pending(f, 6)); /* the device still holds its line high */
    fixture_free(f);
}

static void setup_state(struct fixture *f)
{
    wr(f, PRIO(1), 1);
    wr(f, PRIO(33), 7);
    wr(f, PRIO(95), 4);
    wr(f, THRESHOLD(H0M), 7);
    wr(f, THRESHOLD(H1S), 3);
    enable(f, H0S, 1);
    enable(f, H1S, 33);
    enable(f, H1S, 95);
    rv_plic_set_irq(f->plic, 1, true);
    rv_plic_set_irq(f->plic, 33, true);
    rv_plic_set_irq(f->plic, 95, true);
    rv_plic_set_irq(f->plic, 95, false);
    CHECK_EQ(rd(f, CLAIM(H1S)), 33); /* 33 in service, line high */
}

static void test_save_load(void)
{
    struct fixture *a = fixture_new(2, NULL, NULL);
    setup_state(a);
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    CHECK_EQ(a->region->ops->save(a->region->dev, &w), 0);

    struct fixture *b = fixture_new(2, NULL, NULL);
    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(b->region->ops->load(b->region->dev, &r), 0);
    CHECK_EQ(r.pos, w.len);
    /* every register reads the same; every context's level was reported */
    for (unsigned src = 0; src < 96; src++)
        CHECK_EQ(rd(b, PRIO(src)), rd(a, PRIO(src)));
    for (unsigned c = 0; c < 4; c++) {
        CHECK_EQ(rd(b, THRESHOLD(c)), rd(a, THRESHOLD(c)));
        for (unsigned i = 0; i < 3; i++)
            CHECK_EQ(rd(b, ENABLE(c, i)), rd(a, ENABLE(c, i)));
    }
    for (unsigned i = 0; i < 3; i++)
        CHECK_EQ(rd(b, PENDING(i)), rd(a, PENDING(i)));
    CHECK_EQ(b->nlog, 4);
    CHECK(b->level[0][1] && b->level[1][1] && !b->level[0][0] && !b->level[1][0]);
    /* behaviour carries over: 95 next for hart 1 S, then 33 again after its completion */
    CHECK_EQ(rd(b, CLAIM(H1S)), 95);
    wr(b, CLAIM(H1S), 33);
    CHECK_EQ(rd(b, CLAIM(H1S)), 33);
    CHECK_EQ(rd(b, CLAIM(H0S)), 1);

    /* every truncation is rejected and leaves the device as it was */
    struct fixture *c = fixture_new(2, NULL, NULL);
    wr(c, PRIO(2), 5);
    unsigned rejected = 0;
    for (size_t len = 0; len < w.len; len++) {
        rv_state_reader_init(&r, w.buf, len);
        rejected += c->region->ops->load(c->region->dev, &r) == -EINVAL;
    }
    CHECK_EQ(rejected, w.len);
    CHECK_EQ(rd(c, PRIO(2)), 5);
    CHECK_EQ(rd(c, PRIO(33)), 0);
    CHECK_EQ(c->nlog, 0);

    /* bad values */
    uint8_t *bad = malloc(w.len);
    memcpy(bad, w.buf, w.len);
    bad[0] = 2; /* version */
    rv_state_reader_init(&r, bad, w.len);
    CHECK_EQ(c->region->ops->load(c->region->dev, &r), -EINVAL);
    memcpy(bad, w.buf, w.len);
    bad[8] = 8; /* priority of source 1 */
    rv_state_reader_init(&r, bad, w.len);
    CHECK_EQ(c->region->ops->load(c->region->dev, &r), -EINVAL);
    memcpy(bad, w.buf, w.len);
    bad[8 + 95] |= 1; /* line of source 0 */
    rv_state_reader_init(&r, bad, w.len);
    CHECK_EQ(c->region->ops->load(c->region->dev, &r), -EINVAL);
    memcpy(bad, w.buf, w.len);
    bad[w.len - 1] = 9; /* threshold of the last context */
    rv_state_reader_init(&r, bad, w.len);
    CHECK_EQ(c->region->ops->load(c->region->dev, &r), -EINVAL);
    CHECK_EQ(rd(c, PRIO(2)), 5);
    free(bad);

    /* a state for another number of harts */
    struct fixture *d = fixture_new(3, NULL, NULL);
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(d->region->ops->load(d->region->dev, &r), -EINVAL);

    rv_state_writer_free(&w);
    fixture_free(a);
    fixture_free(b);
    fixture_free(c);
    fixture_free(d);
}

static void test_device_tree(void)
{
    static uint8_t blob[65536];
    CHECK_EQ(fdt_create_empty_tree(blob, sizeof(blob)), 0);
    int soc = fdt_add_subnode(blob, 0, "soc");
    CHECK(soc >= 0);
    fdt_setprop_u32(blob, soc, "#address-cells", 2);
    fdt_setprop_u32(blob, soc, "#size-cells", 2);
    struct rv_fdt fdt = {.blob = blob, .soc = soc};
    const uint32_t intc[2] = {0x21, 0x22};
    struct fixture *f = fixture_new(2, &fdt, intc);
    CHECK_EQ(fdt.error, 0);

    int node = fdt_path_offset(blob, "/soc/plic@c000000");
    CHECK(node >= 0);
    int len;
    const char *compat = fdt_getprop(blob, node, "compatible", &len);
    static const char want_compat[] = "sifive,plic-1.0.0\0riscv,plic0";
    CHECK(compat && len == sizeof(want_compat) && !memcmp(compat, want_compat, len));
    CHECK_EQ(fdt_node_check_compatible(blob, node, "riscv,plic0"), 0);
    const fdt32_t *reg = fdt_getprop(blob, node, "reg", &len);
    CHECK(reg && len == 16);
    if (reg && len == 16) {
        CHECK_EQ(fdt32_to_cpu(reg[0]), 0);
        CHECK_EQ(fdt32_to_cpu(reg[1]), 0x0c000000);
        CHECK_EQ(fdt32_to_cpu(reg[2]), 0);
        CHECK_EQ(fdt32_to_cpu(reg[3]), 0x600000);
    }
    const fdt32_t *v = fdt_getprop(blob, node, "#address-cells", &len);
    CHECK(v && len == 4 && fdt32_to_cpu(*v) == 0);
    v = fdt_getprop(blob, node, "#interrupt-cells", &len);
    CHECK(v && len == 4 && fdt32_to_cpu(*v) == 1);
    CHECK(fdt_getprop(blob, node, "interrupt-controller", &len) && len == 0);
    v = fdt_getprop(blob, node, "riscv,ndev", &len);
    CHECK(v && len == 4 && fdt32_to_cpu(*v) == 95);
    const fdt32_t *ie = fdt_getprop(blob, node, "interrupts-extended", &len);
    CHECK(ie && len == 32);
    if (ie && len == 32) {
        const uint32_t want[8] = {0x21, 11, 0x21, 9, 0x22, 11, 0x22, 9};
        for (unsigned i = 0; i < 8; i++)
            CHECK_EQ(fdt32_to_cpu(ie[i]), want[i]);
    }
    uint32_t ph = fdt_get_phandle(blob, node);
    CHECK(ph != 0);
    struct rv_irq irq;
    rv_plic_irq(f->plic, 10, &irq);
    CHECK_EQ(irq.phandle, ph);
    CHECK_EQ(fdt_node_offset_by_phandle(blob, irq.phandle), node);
    fixture_free(f);
}

static void test_create_errors(void)
{
    struct rv_iomap map = {0};
    struct rv_plic *p = NULL;
    struct rv_plic_host host = {0};
    CHECK_EQ(rv_plic_create(&map, NULL, RV_PLIC_BASE, 0, NULL, &host, &p), -EINVAL);
    CHECK_EQ(rv_plic_create(&map, NULL, RV_PLIC_BASE, 513, NULL, &host, &p), -EINVAL);
    CHECK_EQ(map.count, 0);
    CHECK_EQ(rv_plic_create(&map, NULL, RV_PLIC_BASE, 512, NULL, NULL, &p), 0);
    CHECK_EQ(map.count, 1);
    struct rv_plic *q = NULL;
    CHECK_EQ(rv_plic_create(&map, NULL, RV_PLIC_BASE + 0x1000, 1, NULL, &host, &q), -EEXIST);
    CHECK(q == NULL);
    CHECK_EQ(map.count, 1);
    /* the last hart's S context of a 512-hart PLIC, with no host callback */
    struct rv_region *r = &map.regions[0];
    r->ops->write(r->dev, PRIO(7), 1, 4);
    r->ops->write(r->dev, ENABLE(1023, 0), 1u << 7, 4);
    rv_plic_set_irq(p, 7, true);
    CHECK_EQ(r->ops->read(r->dev, CLAIM(1023), 4), 7);
    r->ops->destroy(r->dev);
}

int main(void)
{
    test_registers();
    test_claim_order();
    test_gateway_level();
    test_complete_needs_enable();
    test_eip_contexts();
    test_priority_zero();
    test_bad_accesses();
    test_irq_line();
    test_reset();
    test_save_load();
    test_device_tree();
    test_create_errors();
    TEST_MAIN_END();
}
