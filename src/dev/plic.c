/* PLIC, after the RISC-V PLIC specification 1.0.0 (riscv/riscv-plic-spec).
 *
 * Model, per source: the input line level, the gateway's "request forwarded, completion not
 * yet received" flag (`active`) and the core's pending bit (IP). Per context: enable bits, the
 * priority threshold and the last EIP level given to the machine.
 *
 *  - Gateway (spec "Interrupt Gateways"), level-triggered: while the line is high and no
 *    request is outstanding, a request is forwarded: IP and active are set. A request, once
 *    in IP, is not retracted when the line drops; the handler finds nothing to do.
 *  - Claim (spec "Interrupt Claim Process"): returns the enabled pending source of highest
 *    priority (ties: lowest ID), priority 0 never qualifies, and clears its IP bit. The spec
 *    says the claim "is not affected by the setting of the priority threshold register", so
 *    the threshold only gates EIP. (QEMU's sifive_plic also applies the threshold to claims;
 *    no guest we target claims with a threshold that masks what it wants.)
 *  - Completion (spec "Interrupt Completion"): silently ignored unless the ID is a source
 *    currently enabled for the completing context (Linux's plic_irq_eoi briefly enables a
 *    disabled source around its completion write because of this rule). Otherwise the
 *    gateway is released and, if the line is still high, forwards a new request.
 *  - EIP of a context: some enabled pending source has priority > threshold.
 *
 * Registers are 32 bits wide; other access sizes read 0 and are ignored. */
#include "dev/plic.h"

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/serial.h"

#define WORDS (RV_PLIC_NUM_SOURCES / 32) /* 32-bit words of a source bitmap */
#define PRIORITY_MASK 7u                 /* priority and threshold are WARL, 3 bits */

#define REG_PRIORITY 0x000000u
#define REG_PENDING 0x001000u
#define REG_ENABLE 0x002000u
#define ENABLE_STRIDE 0x80u
#define REG_CONTEXT 0x200000u
#define CONTEXT_STRIDE 0x1000u
#define CTX_THRESHOLD 0x0u
#define CTX_CLAIM 0x4u

#define IRQ_M_EXT 11u
#define IRQ_S_EXT 9u

#define STATE_VERSION 1

_Static_assert(RV_PLIC_NUM_SOURCES % 32 == 0, "source bitmaps are whole words");
_Static_assert(REG_ENABLE + 2 * RV_PLIC_MAX_HARTS * ENABLE_STRIDE <= REG_CONTEXT,
               "enable blocks fit below the context blocks");
_Static_assert(REG_CONTEXT + 2 * RV_PLIC_MAX_HARTS * CONTEXT_STRIDE <= RV_PLIC_SIZE,
               "context blocks fit in the window");

struct plic_context {
    uint32_t enable[WORDS];
    uint32_t threshold;
    bool eip; /* the level last given to host.set_eip */
};

struct rv_plic {
    struct rv_plic_host host;
    unsigned nharts, nctx;
    uint32_t phandle;
    uint32_t priority[RV_PLIC_NUM_SOURCES];
    uint32_t line[WORDS];    /* input levels */
    uint32_t active[WORDS];  /* gateway waiting for completion */
    uint32_t pending[WORDS]; /* IP bits */
    struct plic_context ctx[];
};

/* Source 0 does not exist: its bits are hardwired to 0 everywhere. */
#define SOURCE0_MASK 1u

static bool bit_get(const uint32_t *bits, unsigned n)
{
    return (bits[n / 32] >> (n % 32)) & 1;
}

static void bit_set(uint32_t *bits, unsigned n, bool v)
{
    if (v)
        bits[n / 32] |= 1u << (n % 32);
    else
        bits[n / 32] &= ~(1u << (n % 32));
}

/* The enabled pending source of highest priority above `floor` (ties: lowest ID), or 0. */
static unsigned best_source(const struct rv_plic *p, const struct plic_context *c,
                            uint32_t floor)
{
    unsigned best = 0;
    uint32_t best_prio = floor;
    for (unsigned w = 0; w < WORDS; w++) {
        uint32_t cand = p->pending[w] & c->enable[w];
        while (cand) {
            unsigned src = w * 32 + (unsigned)__builtin_ctz(cand);
            cand &= cand - 1;
            if (p->priority[src] > best_prio) {
                best = src;
                best_prio = p->priority[src];
            }
        }
    }
    return best;
}

static void set_eip(struct rv_plic *p, unsigned ctx, bool level)
{
    p->ctx[ctx].eip = level;
    if (p->host.set_eip)
        p->host.set_eip(p->host.opaque, ctx / 2, ctx & 1, level);
}

/* Recomputes every context's EIP; `force` reports all levels, not just changes. */
static void update(struct rv_plic *p, bool force)
{
    for (unsigned i = 0; i < p->nctx; i++) {
        struct plic_context *c = &p->ctx[i];
        bool level = best_source(p, c, c->threshold) != 0;
        if (force || level != c->eip)
            set_eip(p, i, level);
    }
}

/* The gateway of `src` forwards a request if its line is high and it is free. */
static void gateway_forward(struct rv_plic *p, unsigned src)
{
    if (bit_get(p->line, src) && !bit_get(p->active, src)) {
        bit_set(p->active, src, true);
        bit_set(p->pending, src, true);
    }
}

void rv_plic_set_irq(void *plic, unsigned source, bool level)
{
    struct rv_plic *p = plic;
    if (source == 0 || source >= RV_PLIC_NUM_SOURCES)
        return;
    bit_set(p->line, source, level);
    if (level && !bit_get(p->active, source)) {
        gateway_forward(p, source);
        update(p, false);
    }
}

void rv_plic_irq(struct rv_plic *p, unsigned source, struct rv_irq *out)
{
    *out = (struct rv_irq){
        .set = rv_plic_set_irq, .ctrl = p, .source = source, .phandle = p->phandle};
}

static uint32_t claim(struct rv_plic *p, unsigned ctx)
{
    unsigned src = best_source(p, &p->ctx[ctx], 0);
    if (src) {
        bit_set(p->pending, src, false);
        update(p, false);
    }
    return src;
}

static void complete(struct rv_plic *p, unsigned ctx, uint32_t src)
{
    if (src == 0 || src >= RV_PLIC_NUM_SOURCES || !bit_get(p->ctx[ctx].enable, src))
        return; /* spec: completion for a source not enabled here is ignored */
    bit_set(p->active, src, false);
    gateway_forward(p, src);
    update(p, false);
}

static uint64_t plic_read(void *dev, uint64_t offset, unsigned size)
{
    struct rv_plic *p = dev;
    if (size != 4)
        return 0;
    if (offset < REG_PENDING) {
        uint64_t src = (offset - REG_PRIORITY) / 4;
        return src < RV_PLIC_NUM_SOURCES ? p->priority[src] : 0;
    }
    if (offset < REG_ENABLE) {
        uint64_t word = (offset - REG_PENDING) / 4;
        return word < WORDS ? p->pending[word] : 0;
    }
    if (offset < REG_CONTEXT) {
        uint64_t ctx = (offset - REG_ENABLE) / ENABLE_STRIDE;
        uint64_t word = (offset % ENABLE_STRIDE) / 4;
        return ctx < p->nctx && word < WORDS ? p->ctx[ctx].enable[word] : 0;
    }
    uint64_t ctx = (offset - REG_CONTEXT) / CONTEXT_STRIDE;
    if (ctx >= p->nctx)
        return 0;
    switch (offset % CONTEXT_STRIDE) {
    case CTX_THRESHOLD:
        return p->ctx[ctx].threshold;
    case CTX_CLAIM:
        return claim(p, (unsigned)ctx);
    default:
        return 0;
    }
}

static void plic_write(void *dev, uint64_t offset, uint64_t value, unsigned size)
{
    struct rv_plic *p = dev;
    uint32_t v = (uint32_t)value;
    if (size != 4)
        return;
    if (offset < REG_PENDING) {
        uint64_t src = (offset - REG_PRIORITY) / 4;
        if (src == 0 || src >= RV_PLIC_NUM_SOURCES)
            return;
        p->priority[src] = v & PRIORITY_MASK;
        update(p, false);
        return;
    }
    if (offset < REG_ENABLE)
        return; /* pending bits are read-only */
    if (offset < REG_CONTEXT) {
        uint64_t ctx = (offset - REG_ENABLE) / ENABLE_STRIDE;
        uint64_t word = (offset % ENABLE_STRIDE) / 4;
        if (ctx >= p->nctx || word >= WORDS)
            return;
        p->ctx[ctx].enable[word] = word == 0 ? v & ~SOURCE0_MASK : v;
        update(p, false);
        return;
    }
    uint64_t ctx = (offset - REG_CONTEXT) / CONTEXT_STRIDE;
    if (ctx >= p->nctx)
        return;
    switch (offset % CONTEXT_STRIDE) {
    case CTX_THRESHOLD:
        p->ctx[ctx].threshold = v & PRIORITY_MASK;
        update(p, false);
        break;
    case CTX_CLAIM:
        complete(p, (unsigned)ctx, v);
        break;
    default:
        break;
    }
}

static void plic_reset(void *dev)
{
    struct rv_plic *p = dev;
    memset(p->priority, 0, sizeof(p->priority));
    memset(p->active, 0, sizeof(p->active));
    memset(p->pending, 0, sizeof(p->pending));
    for (unsigned i = 0; i < p->nctx; i++) {
        memset(p->ctx[i].enable, 0, sizeof(p->ctx[i].enable));
        p->ctx[i].threshold = 0;
    }
    /* The input lines belong to the devices and keep their levels; a line that is high
     * forwards a fresh request, as a gateway coming out of reset would. */
    for (unsigned src = 1; src < RV_PLIC_NUM_SOURCES; src++)
        gateway_forward(p, src);
    update(p, true);
}

/* Layout: version u32, nharts u32, priority[1..95] u8, line/active/pending words u32, then
 * per context enable words u32 and threshold u8. EIP levels are derived, not stored. */
static int plic_save(void *dev, struct rv_state_writer *w)
{
    struct rv_plic *p = dev;
    rv_put_u32(w, STATE_VERSION);
    rv_put_u32(w, p->nharts);
    for (unsigned src = 1; src < RV_PLIC_NUM_SOURCES; src++)
        rv_put_u8(w, (uint8_t)p->priority[src]);
    for (unsigned i = 0; i < WORDS; i++) {
        rv_put_u32(w, p->line[i]);
        rv_put_u32(w, p->active[i]);
        rv_put_u32(w, p->pending[i]);
    }
    for (unsigned c = 0; c < p->nctx; c++) {
        for (unsigned i = 0; i < WORDS; i++)
            rv_put_u32(w, p->ctx[c].enable[i]);
        rv_put_u8(w, (uint8_t)p->ctx[c].threshold);
    }
    return w->error;
}

/* All-or-nothing: everything is decoded and checked before the device changes. */
static int plic_load(void *dev, struct rv_state_reader *r)
{
    struct rv_plic *p = dev;
    uint32_t version = rv_get_u32(r);
    uint32_t nharts = rv_get_u32(r);
    if (r->error)
        return rv_error_set(-EINVAL, "plic: truncated state");
    if (version != STATE_VERSION)
        return rv_error_set(-EINVAL, "plic: unsupported state version %u", version);
    if (nharts != p->nharts)
        return rv_error_set(-EINVAL, "plic: state is for %u harts, this PLIC has %u", nharts,
                            p->nharts);

    uint32_t priority[RV_PLIC_NUM_SOURCES] = {0};
    uint32_t line[WORDS], active[WORDS], pending[WORDS];
    bool bad = false;
    for (unsigned src = 1; src < RV_PLIC_NUM_SOURCES; src++) {
        priority[src] = rv_get_u8(r);
        bad |= priority[src] > RV_PLIC_MAX_PRIORITY;
    }
    for (unsigned i = 0; i < WORDS; i++) {
        line[i] = rv_get_u32(r);
        active[i] = rv_get_u32(r);
        pending[i] = rv_get_u32(r);
        /* a high line with a free gateway would already have forwarded a request */
        bad |= (line[i] & ~active[i]) != 0;
    }
    bad |= ((line[0] | active[0] | pending[0]) & SOURCE0_MASK) != 0;

    size_t ctx_bytes = (size_t)p->nctx * sizeof(struct plic_context);
    struct plic_context *ctx = malloc(ctx_bytes);
    if (!ctx)
        return rv_error_set(-ENOMEM, "plic: out of memory");
    for (unsigned c = 0; c < p->nctx; c++) {
        for (unsigned i = 0; i < WORDS; i++)
            ctx[c].enable[i] = rv_get_u32(r);
        ctx[c].threshold = rv_get_u8(r);
        ctx[c].eip = p->ctx[c].eip;
        bad |= (ctx[c].enable[0] & SOURCE0_MASK) || ctx[c].threshold > RV_PLIC_MAX_PRIORITY;
    }
    if (r->error) {
        free(ctx);
        return rv_error_set(-EINVAL, "plic: truncated state");
    }
    if (bad) {
        free(ctx);
        return rv_error_set(-EINVAL, "plic: invalid register state");
    }
    memcpy(p->priority, priority, sizeof(priority));
    memcpy(p->line, line, sizeof(line));
    memcpy(p->active, active, sizeof(active));
    memcpy(p->pending, pending, sizeof(pending));
    memcpy(p->ctx, ctx, ctx_bytes);
    free(ctx);
    update(p, true); /* drive the harts' MEIP/SEIP to the restored state */
    return 0;
}

static void plic_destroy(void *dev)
{
    free(dev);
}

static const struct rv_device_ops plic_ops = {
    .name = "plic",
    .read = plic_read,
    .write = plic_write,
    .reset = plic_reset,
    .save = plic_save,
    .load = plic_load,
    .destroy = plic_destroy,
};

/* The node QEMU's virt board gives its PLIC (hw/riscv/virt.c, create_fdt_socket_plic).
 * `cells` has room for the 4 interrupts-extended cells of every hart. */
static void plic_fdt(struct rv_plic *p, struct rv_fdt *fdt, uint64_t base, const uint32_t *intc,
                     fdt32_t *cells)
{
    static const char compat[] = "sifive,plic-1.0.0\0riscv,plic0";
    int node = rv_fdt_add_device(fdt, "plic", base, RV_PLIC_SIZE, compat, sizeof(compat));
    if (node < 0)
        return;
    rv_fdt_setprop_u32(fdt, node, "#address-cells", 0);
    rv_fdt_setprop_u32(fdt, node, "#interrupt-cells", 1);
    rv_fdt_setprop(fdt, node, "interrupt-controller", NULL, 0);
    rv_fdt_setprop_u32(fdt, node, "riscv,ndev", RV_PLIC_NUM_SOURCES - 1);
    for (unsigned h = 0; h < p->nharts; h++) {
        cells[4 * h + 0] = cpu_to_fdt32(intc[h]);
        cells[4 * h + 1] = cpu_to_fdt32(IRQ_M_EXT);
        cells[4 * h + 2] = cpu_to_fdt32(intc[h]);
        cells[4 * h + 3] = cpu_to_fdt32(IRQ_S_EXT);
    }
    rv_fdt_setprop(fdt, node, "interrupts-extended", cells,
                   (int)(p->nharts * 4 * sizeof(cells[0])));
    p->phandle = rv_fdt_alloc_phandle(fdt, node);
}

int rv_plic_create(struct rv_iomap *map, struct rv_fdt *fdt, uint64_t base, unsigned nharts,
                   const uint32_t *hart_intc_phandles, const struct rv_plic_host *host,
                   struct rv_plic **out)
{
    if (nharts == 0 || nharts > RV_PLIC_MAX_HARTS)
        return rv_error_set(-EINVAL, "plic: %u harts (1..%u supported)", nharts,
                            RV_PLIC_MAX_HARTS);
    if (fdt && !hart_intc_phandles)
        return rv_error_set(-EINVAL, "plic: the device tree needs the harts' intc phandles");
    struct rv_plic *p = calloc(1, sizeof(*p) + 2 * (size_t)nharts * sizeof(p->ctx[0]));
    fdt32_t *cells = fdt ? calloc(4 * (size_t)nharts, sizeof(*cells)) : NULL;
    if (!p || (fdt && !cells)) {
        free(p);
        free(cells);
        return rv_error_set(-ENOMEM, "plic: out of memory");
    }
    if (host)
        p->host = *host;
    p->nharts = nharts;
    p->nctx = 2 * nharts;
    int rc = rv_iomap_attach(map, base, RV_PLIC_SIZE, &plic_ops, p);
    if (rc == 0 && fdt)
        plic_fdt(p, fdt, base, hart_intc_phandles, cells);
    free(cells);
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}
