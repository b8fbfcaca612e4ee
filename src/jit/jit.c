/* The translator's dispatcher, code cache and invalidation.
 *
 * Code cache: one memfd mapped twice per hart, writable and executable (W^X: no mapping is
 * both), filled linearly and flushed whole when full. Block metadata lives in an arena that is
 * reset with it.
 *
 * Lookup: blocks are keyed by (virtual pc, physical pc); the dispatcher translates pc through
 * the fetch TLB (filling it if needed) and looks the pair up, translating on a miss. A block
 * links directly to successors in its own page only, so that all the blocks reachable without
 * a lookup share the page's translation and permissions and die together.
 *
 * Invalidation is per physical page: a store to a page with translations (the MMU routes it to
 * the slow path, mem.c) drops the page's blocks on every hart, at once on the storing hart, at
 * the next block boundary on the others. What the store tracking cannot see bumps
 * bus->code_gen: device DMA and monitor writes into such pages (rv_bus_note_write), and a
 * hart's store racing with another hart's first translation of the page. A FENCE.I (local, or
 * remote through the SBI) that finds code_gen changed bumps an epoch; a page whose epoch is
 * old is compared with guest memory before its blocks run again. */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/error.h"
#include "cpu/exec.h"
#include "cpu/mem.h"
#include "cpu/mmu.h"
#include "cpu/uwin.h"
#include "jit/jit_internal.h"

#define CODE_SIZE (64u << 20)
#define ARENA_SIZE (16u << 20)
#define MIN_FREE_CODE (64u << 10)  /* a block never needs more than this */
#define MIN_FREE_ARENA (16u << 10)
#define JIT_RUN_CHUNK (16 * RV_RUN_CHUNK)

/* --- metadata --- */

void *jit_alloc(struct rv_jit *j, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (j->arena_size - j->arena_used < size)
        return NULL;
    void *p = j->arena + j->arena_used;
    j->arena_used += size;
    return p;
}

static inline unsigned block_hash(uint64_t va, uint64_t paddr)
{
    uint64_t k = (va ^ (paddr * 0x9e3779b97f4a7c15ull)) >> 1;
    return (unsigned)((k * 0x9e3779b97f4a7c15ull) >> (64 - JIT_BLOCK_HASH_BITS));
}

static inline unsigned page_hash(uint64_t paddr)
{
    return (unsigned)(((paddr >> 12) * 0x9e3779b97f4a7c15ull) >> (64 - JIT_PAGE_HASH_BITS));
}

static struct jit_block *block_find(struct rv_jit *j, uint64_t va, uint64_t paddr)
{
    for (struct jit_block *b = j->block_hash[block_hash(va, paddr)]; b; b = b->hnext)
        if (b->va == va && b->paddr == paddr)
            return b;
    return NULL;
}

static struct jit_page *page_find(struct rv_jit *j, uint64_t ppage)
{
    for (struct jit_page *p = j->page_hash[page_hash(ppage)]; p; p = p->hnext)
        if (p->paddr == ppage)
            return p;
    return NULL;
}

/* With RVISOR_PERF_MAP=1, every block is named in /tmp/perf-PID.map (perf's format for
 * JIT code: "start size name" lines), so that `perf report` shows guest pcs. One write() per
 * line on an O_APPEND descriptor: harts do not interleave. */
static void perf_map_note(const struct rv_jit *j, const struct jit_block *b, uintptr_t code,
                          uintptr_t end, const char *variant)
{
    if (j->group->perf_map < 0)
        return;
    char line[128];
    int n = snprintf(line, sizeof(line), "%lx %lx rv%s:%llx@%llx%s\n", (unsigned long)code,
                     (unsigned long)(end - code), j->hart->priv == RV_PRIV_U ? "u" : "k",
                     (unsigned long long)b->va, (unsigned long long)b->paddr, variant);
    if (n > 0 && (size_t)n < sizeof(line) && write(j->group->perf_map, line, (size_t)n) < 0)
        return; /* a diagnostic aid only */
    if (j->group->code_dump < 0)
        return;
    /* RVISOR_PERF_MAP=code: "rx-address guest-va host-hex guest-hex" lines, so that the
     * host code of hot blocks can be disassembled (bench/jit-hot.py). */
    size_t hn = end - code, gn = b->guest ? b->len : 0;
    size_t cap = 64 + 2 * (hn + gn);
    char *buf = malloc(cap);
    if (!buf)
        return;
    const uint8_t *host = (const uint8_t *)code - (j->code_rx - j->code_rw);
    size_t k = (size_t)snprintf(buf, cap, "%lx %llx ", (unsigned long)code,
                                (unsigned long long)((b->va & ~0xfffull) + b->guest_off));
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < hn; i++) {
        buf[k++] = hex[host[i] >> 4];
        buf[k++] = hex[host[i] & 15];
    }
    buf[k++] = ' ';
    for (size_t i = 0; i < gn; i++) {
        buf[k++] = hex[b->guest[i] >> 4];
        buf[k++] = hex[b->guest[i] & 15];
    }
    buf[k++] = '\n';
    if (write(j->group->code_dump, buf, k) < 0) {
        /* a diagnostic aid only */
    }
    free(buf);
}

void jit_note_code(const struct rv_jit *j, const struct jit_block *b, uintptr_t code,
                   uintptr_t end, bool counting)
{
    perf_map_note(j, b, code, end, counting ? "/c" : "");
}

void jit_register_block(struct rv_jit *j, struct jit_block *b)
{
    struct jit_block **head = &j->block_hash[block_hash(b->va, b->paddr)];
    b->hnext = *head;
    *head = b;
    b->page_next = b->page->blocks;
    b->page->blocks = b;
    j->stats.blocks++;
    j->stats.guest_insns += b->ninsns;
}

static void jcache_clear(struct rv_jit *j)
{
    memset(j->jcache, 0xff, sizeof(j->jcache)); /* va = ~0: never a pc */
}

/* The jcache entry for (va, the fetch TLB's addend), or NULL. */
static struct jit_jcache_entry *jcache_find(struct rv_jit *j, uint64_t va, uintptr_t addend)
{
    struct jit_jcache_entry *set = &j->jcache[jit_jcache_index(va)];
    for (unsigned w = 0; w < JIT_JCACHE_WAYS; w++)
        if (set[w].va == va && set[w].addend == addend)
            return &set[w];
    return NULL;
}

/* Removes the entry of dead block b, if any: it can only be in the set of b->va. */
static void jcache_drop(struct rv_jit *j, const struct jit_block *b)
{
    struct jit_jcache_entry *set = &j->jcache[jit_jcache_index(b->va)];
    for (unsigned w = 0; w < JIT_JCACHE_WAYS; w++)
        if (set[w].va == b->va && set[w].code == b->code)
            memset(&set[w], 0xff, sizeof(set[w]));
}

/* Enters b's code for pc va in way 0 of its set; the entry there moves to way 1 unless it
 * is for the same pc (with another mapping: replaced). */
static void jcache_insert(struct rv_jit *j, uint64_t va, uintptr_t addend,
                          const struct jit_block *b)
{
    struct jit_jcache_entry *set = &j->jcache[jit_jcache_index(va)];
    if (set[0].va != va)
        set[1] = set[0];
    set[0] = (struct jit_jcache_entry){.va = va, .addend = addend, .code = b->code};
}

/* --- code pages (bus->code_pages) --- */

static uint8_t *code_byte(struct rv_jit *j, uint64_t ppage)
{
    const struct rv_bus *bus = j->hart->bus;
    return &bus->code_pages[(ppage - bus->ram_base) >> 12];
}

/* Makes this hart's cached WRITE translations of physical page `ppage` go to the slow path:
 * those in the slots filled since the last whole flush (hart.h, tlb_wfilled). */
static void drop_direct_writes(struct rv_hart *h, uint64_t ppage)
{
    rv_uwin_revoke_write(h, ppage);
    for (unsigned m = 0; m < RV_MMU_COUNT; m++) {
        if (h->tlb_clean & (1u << (m * RV_ACCESS_COUNT + RV_ACCESS_WRITE)))
            continue; /* no entries */
        for (unsigned w = 0; w < RV_TLB_SIZE / 64; w++)
            for (uint64_t bits = h->tlb_wfilled[m][w]; bits; bits &= bits - 1) {
                const unsigned s = 64 * w + (unsigned)__builtin_ctzll(bits);
                struct rv_tlb_entry *e = &h->tlb[m][RV_ACCESS_WRITE][s];
                if (e->tag != RV_TLB_INVALID && !(e->tag & RV_TLB_IO) &&
                    h->tlb_meta[m][RV_ACCESS_WRITE][s].paddr == ppage)
                    e->tag |= RV_TLB_CODE;
            }
    }
}

static void post_request(struct rv_jit *m, bool inval, uint64_t ppage)
{
    struct rv_jit_group *g = m->group;
    pthread_mutex_lock(&g->lock);
    if (inval) {
        if (m->n_inval < JIT_PENDING_MAX)
            m->inval[m->n_inval++] = ppage;
        else
            m->inval_overflow = true;
    } else {
        if (m->n_tlb < JIT_PENDING_MAX)
            m->tlb[m->n_tlb++] = ppage;
        else
            m->tlb_overflow = true;
    }
    atomic_store_explicit(&m->has_pending, true, memory_order_release);
    pthread_mutex_unlock(&g->lock);
    atomic_fetch_or_explicit(&m->hart->events, RV_EVENT_JIT, memory_order_release);
}

/* The page struct for `ppage`, created (and the page marked as holding code) if needed. The
 * mark is set before the translator reads the guest bytes; see code_written(). */
static struct jit_page *page_get(struct rv_jit *j, uint64_t ppage)
{
    struct jit_page *p = page_find(j, ppage);
    if (p)
        return p;
    p = jit_alloc(j, sizeof(*p));
    if (!p)
        return NULL;
    *p = (struct jit_page){.paddr = ppage, .epoch = j->epoch};
    struct jit_page **head = &j->page_hash[page_hash(ppage)];
    p->hnext = *head;
    *head = p;
    uint8_t bit = (uint8_t)(1u << j->index);
    uint8_t old = __atomic_fetch_or(code_byte(j, ppage), bit, __ATOMIC_SEQ_CST);
    if (!(old & bit))
        drop_direct_writes(j->hart, ppage);
    if (!old) {
        /* The first translator of the page: other harts may hold direct write entries, and
         * store through them until they see the request. Such stores are not tracked: the
         * next FENCE.I must compare. */
        struct rv_jit_group *g = j->group;
        bool others = false;
        for (unsigned i = 0; i < g->count; i++)
            if (g->members[i] && g->members[i] != j) {
                post_request(g->members[i], false, ppage);
                others = true;
            }
        if (others)
            __atomic_fetch_add(&j->hart->bus->code_gen, 1, __ATOMIC_SEQ_CST);
    }
    return p;
}

/* Drops every translation of physical page `ppage` (this hart's). */
static void invalidate_page(struct rv_jit *j, uint64_t ppage)
{
    struct jit_page **pp = &j->page_hash[page_hash(ppage)];
    while (*pp && (*pp)->paddr != ppage)
        pp = &(*pp)->hnext;
    struct jit_page *p = *pp;
    if (!p)
        return;
    *pp = p->hnext;
    for (struct jit_block *b = p->blocks; b; b = b->page_next) {
        struct jit_block **bp = &j->block_hash[block_hash(b->va, b->paddr)];
        while (*bp != b)
            bp = &(*bp)->hnext;
        *bp = b->hnext;
        b->dead = true;
        jcache_drop(j, b);
    }
    j->stats.invalidations++;
}

/* bus->code_written: a hart stored to a page that some translators hold. */
static void code_written(void *opaque, struct rv_hart *h, uint64_t paddr)
{
    struct rv_jit_group *g = opaque;
    const struct rv_bus *bus = g->bus;
    uint64_t ppage = paddr & ~0xfffull;
    uint8_t bits = __atomic_exchange_n(&bus->code_pages[(ppage - bus->ram_base) >> 12], 0,
                                       __ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < g->count; i++) {
        struct rv_jit *m = g->members[i];
        if (!m || !(bits & (1u << i)))
            continue;
        if (m->hart == h) {
            /* The running block may be one of them: it leaves at the events check that
             * follows every slow-path access. */
            invalidate_page(m, ppage);
            atomic_fetch_or_explicit(&h->events, RV_EVENT_JIT, memory_order_relaxed);
        } else {
            post_request(m, true, ppage);
        }
    }
}

/* --- whole cache --- */

static void flush_all(struct rv_jit *j)
{
    uint8_t bit = (uint8_t)(1u << j->index);
    for (unsigned i = 0; i < (1u << JIT_PAGE_HASH_BITS); i++)
        for (struct jit_page *p = j->page_hash[i]; p; p = p->hnext)
            __atomic_fetch_and(code_byte(j, p->paddr), (uint8_t)~bit, __ATOMIC_SEQ_CST);
    memset(j->block_hash, 0, sizeof(*j->block_hash) << JIT_BLOCK_HASH_BITS);
    memset(j->page_hash, 0, sizeof(*j->page_hash) << JIT_PAGE_HASH_BITS);
    jcache_clear(j);
    j->arena_used = 0;
    j->code_free = j->code_start;
    j->nfix = 0;
    j->stats.code_bytes = 0;
    j->stats.flushes++;
}

void rv_jit_flush(struct rv_jit *j)
{
    flush_all(j);
}

/* FENCE.I on this hart (or requested by another through the SBI). Stores by harts drop the
 * translations they hit at once; only writes that were not tracked (bus->code_gen) make the
 * pages be compared with memory again. */
static void fence_i(struct rv_jit *j)
{
    uint64_t gen = __atomic_load_n(&j->hart->bus->code_gen, __ATOMIC_SEQ_CST);
    if (gen == j->seen_code_gen)
        return;
    j->seen_code_gen = gen;
    j->epoch++;
    jcache_clear(j);
}

/* A page not checked since the last FENCE.I: still the same bytes? */
static bool verify_page(struct rv_jit *j, struct jit_page *p)
{
    const struct rv_bus *bus = j->hart->bus;
    j->stats.fence_checks++;
    for (struct jit_block *b = p->blocks; b; b = b->page_next) {
        /* SAFETY: blocks are translated from RAM pages only, and stay inside their page. */
        if (memcmp(b->guest, rv_bus_ram_ptr(bus, p->paddr + b->guest_off), b->len) != 0) {
            invalidate_page(j, p->paddr);
            return false;
        }
    }
    p->epoch = j->epoch;
    return true;
}

/* Requests from other harts, and remote fences. */
static void sync_requests(struct rv_jit *j)
{
    struct rv_hart *h = j->hart;
    if (atomic_load_explicit(&j->has_pending, memory_order_acquire)) {
        uint64_t inval[JIT_PENDING_MAX], tlb[JIT_PENDING_MAX];
        pthread_mutex_lock(&j->group->lock);
        unsigned ni = j->n_inval, nt = j->n_tlb;
        bool inval_all = j->inval_overflow, tlb_all = j->tlb_overflow;
        memcpy(inval, j->inval, ni * sizeof(inval[0]));
        memcpy(tlb, j->tlb, nt * sizeof(tlb[0]));
        j->n_inval = j->n_tlb = 0;
        j->inval_overflow = j->tlb_overflow = false;
        atomic_store_explicit(&j->has_pending, false, memory_order_relaxed);
        pthread_mutex_unlock(&j->group->lock);
        if (inval_all)
            flush_all(j);
        else
            for (unsigned i = 0; i < ni; i++)
                invalidate_page(j, inval[i]);
        if (tlb_all)
            rv_tlb_flush_all(h);
        else
            for (unsigned i = 0; i < nt; i++)
                drop_direct_writes(h, tlb[i]);
    }
    uint32_t req = atomic_load_explicit(&h->tlb_flush_req, memory_order_acquire);
    if (req != j->seen_flush_req) {
        j->seen_flush_req = req;
        fence_i(j);
    }
}

/* --- lookup --- */

static bool space_low(const struct rv_jit *j)
{
    return j->code_size - (size_t)(j->code_free - j->code_rw) < MIN_FREE_CODE ||
           j->arena_size - j->arena_used < MIN_FREE_ARENA;
}

/* The block for h->pc, translated if needed; NULL if the interpreter must run the
 * instruction at pc (fetch fault, I/O page). */
static struct jit_block *lookup_block(struct rv_jit *j)
{
    struct rv_hart *h = j->hart;
    uint64_t va = h->pc, vpage = va & ~0xfffull;
    struct rv_tlb_entry *e = rv_tlb_entry(h, h->fetch_mmu_idx, RV_ACCESS_EXEC, va);
    if (e->tag != vpage) {
        if (e->tag == (vpage | RV_TLB_IO))
            return NULL;
        if (rv_mmu_fill(h, va, RV_ACCESS_EXEC, &e) != RV_EXC_NONE || (e->tag & RV_TLB_IO))
            return NULL;
    }
    uint64_t paddr = rv_tlb_meta(h, e)->paddr | (va & 0xfff);
    struct jit_block *b = block_find(j, va, paddr);
    if (b && b->page->epoch != j->epoch && !verify_page(j, b->page))
        b = NULL;
    for (int attempt = 0; !b && attempt < 2; attempt++) {
        if (space_low(j))
            flush_all(j);
        struct jit_page *p = page_get(j, paddr & ~0xfffull);
        /* SAFETY: a direct fetch entry maps the whole page into guest RAM. */
        const uint8_t *host = (const uint8_t *)(uintptr_t)(vpage + e->addend);
        b = p ? jit_translate(j, p, va, paddr, host) : NULL;
        if (!b)
            flush_all(j);
    }
    if (b && b->ninsns && !jcache_find(j, va, e->addend))
        jcache_insert(j, va, e->addend, b);
    return b;
}

/* Called by translated code at cross-page and indirect jumps: the code for h->pc, or the
 * exit to the dispatcher. It never translates (that may flush the cache it runs from). */
static uintptr_t helper_lookup(struct rv_jit *j)
{
    struct rv_hart *h = j->hart;
    j->stats.lookups++;
    uint64_t va = h->pc;
    uint64_t vpage = va & ~0xfffull;
    struct rv_tlb_entry *e = rv_tlb_entry(h, h->fetch_mmu_idx, RV_ACCESS_EXEC, va);
    if (e->tag != vpage) {
        /* A fetch TLB miss (after SFENCE.VMA, a satp write, a new page): filled here as
         * the dispatcher's lookup_block() would at this instruction boundary, unless an
         * event is pending (the dispatcher then handles it first: an interrupt's trap
         * comes before this fetch's page walk). */
        if (e->tag == (vpage | RV_TLB_IO) ||
            atomic_load_explicit(&h->events, memory_order_relaxed) ||
            rv_mmu_fill(h, va, RV_ACCESS_EXEC, &e) != RV_EXC_NONE || e->tag != vpage)
            return j->exit_pc;
    }
    struct jit_jcache_entry *c = jcache_find(j, va, e->addend);
    if (c)
        return c->code;
    struct jit_block *b = block_find(j, va, rv_tlb_meta(h, e)->paddr | (va & 0xfff));
    if (!b || b->page->epoch != j->epoch)
        return j->exit_pc;
    jcache_insert(j, va, e->addend, b);
    return b->code;
}

/* --- helpers for translated code --- */

/* Instruction `pc` raised `exc`: leave with it (not retired). */
static struct jit_ret leave_exc(struct rv_jit *j, uint32_t site, uint64_t pc, int exc,
                                uint32_t raw)
{
    j->hart->pc = pc;
    j->exc = exc;
    j->exc_raw = raw;
    j->adjust = JIT_SITE_ADJ_EXC(site);
    j->reason = JIT_EXIT_EXC;
    return (struct jit_ret){0, JIT_HELPER_EXC};
}

/* Instruction `pc` is done: continue, or leave after it if events are pending. */
static struct jit_ret done(struct rv_jit *j, uint32_t site, uint64_t pc, uint64_t value)
{
    if (!atomic_load_explicit(&j->hart->events, memory_order_relaxed))
        return (struct jit_ret){value, JIT_HELPER_OK};
    j->hart->pc = pc + JIT_SITE_LEN(site);
    j->adjust = JIT_SITE_ADJ_AFTER(site);
    j->reason = JIT_EXIT_PC;
    return (struct jit_ret){value, JIT_HELPER_LEAVE};
}

static struct jit_ret helper_load(struct rv_jit *j, uint64_t va, uint32_t site, uint64_t pc)
{
    uint64_t value;
    j->stats.slow_loads++;
    int exc = rv_mem_load_slow(j->hart, va, JIT_SITE_SIZE(site), &value);
    if (exc != RV_EXC_NONE)
        return leave_exc(j, site, pc, exc, 0);
    return done(j, site, pc, value);
}

static struct jit_ret helper_store(struct rv_jit *j, uint64_t va, uint32_t site, uint64_t pc,
                                   uint64_t value)
{
    j->stats.slow_stores++;
    int exc = rv_mem_store_slow(j->hart, va, JIT_SITE_SIZE(site), value);
    if (exc != RV_EXC_NONE)
        return leave_exc(j, site, pc, exc, 0);
    return done(j, site, pc, 0);
}

static struct jit_ret helper_exec(struct rv_jit *j, const struct rv_insn *in, uint32_t site,
                                  uint64_t pc)
{
    struct rv_hart *h = j->hart;
    j->stats.helper_execs++;
    h->pc = pc;
    int r = rv_hart_exec(h, in);
    if (r != -1)
        return leave_exc(j, site, pc, r, in->raw);
    return done(j, site, pc, 0);
}

/* After a CSR write that raised RV_EVENT_IRQ (enabling interrupts, as the kernel's
 * local_irq_restore() does all the time): if nothing is deliverable now and no remote fence
 * waits, the event is spent here, as the interpreter's check before the next instruction would
 * spend it (instret counts the CSR instruction, as it would there), and the block goes on. */
static void irq_check(struct rv_hart *h)
{
    if (atomic_load_explicit(&h->events, memory_order_relaxed) != RV_EVENT_IRQ)
        return;
    atomic_fetch_and_explicit(&h->events, ~RV_EVENT_IRQ, memory_order_acq_rel);
    h->instret++;
    bool busy = rv_hart_pending_irq(h) >= 0 ||
                atomic_load_explicit(&h->tlb_flush_req, memory_order_acquire) !=
                    atomic_load_explicit(&h->tlb_flush_done, memory_order_relaxed);
    h->instret--;
    if (busy)
        atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
}

/* A CSR instruction, in the middle of a block: instret is brought up to date for it (the
 * counters and, when time follows instret, the timers read it); the block is left if the
 * instruction changed the address translation the translated code relies on (r14, the fetch
 * TLB in the trampoline's frame, the page it runs from) or raised an event (csr.c does for
 * every write that may unmask or raise an interrupt). */
static struct jit_ret helper_csr(struct rv_jit *j, const struct rv_insn *in, uint32_t site,
                                 uint64_t pc, uint64_t budget_left)
{
    struct rv_hart *h = j->hart;
    uint64_t instret = h->instret;
    h->instret += j->budget - budget_left - (uint64_t)JIT_SITE_ADJ_EXC(site);
    h->pc = pc;
    int r = rv_hart_exec(h, in);
    if (r == -1)
        irq_check(h);
    h->instret = instret; /* the dispatcher counts the block's instructions */
    if (r != -1)
        return leave_exc(j, site, pc, r, in->raw);
    if (h->satp != j->entry_satp || h->fetch_mmu_idx != j->entry_fetch_idx ||
        h->data_mmu_idx != j->entry_data_idx) {
        h->pc = pc + JIT_SITE_LEN(site);
        j->adjust = JIT_SITE_ADJ_AFTER(site);
        j->reason = JIT_EXIT_PC;
        return (struct jit_ret){0, JIT_HELPER_LEAVE};
    }
    return done(j, site, pc, 0);
}

/* Links the direct jump that asked for it (JIT_EXIT_CHAIN) to the block now at h->pc. */
static void link_chain(struct rv_jit *j, struct jit_chain *c, uint64_t flushes,
                       const struct jit_block *to)
{
    if (j->stats.flushes != flushes || c->from->dead || !to || to->dead ||
        ((to->paddr ^ c->from->paddr) & ~0xfffull))
        return;
    struct x86_asm a = {.rx_delta = j->code_rx - j->code_rw};
    x86_patch_rel32(&a, c->field, to->code);
}

/* --- the run loop --- */

enum rv_exit rv_jit_run(struct rv_jit *j, uint64_t budget)
{
    struct rv_hart *h = j->hart;
    enum rv_exit exit = RV_EXIT_BUDGET;
    h->wfi = false;
    atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
    jit_uwin_running(j);
    /* The timers are looked at after every chunk. With time following instret the chunk is
     * the interpreter's, so that timer interrupts come at the same instruction; with a real
     * clock it is longer (each chunk costs an exit and a clock read), and the latency of a
     * timer interrupt stays what it is under the interpreter. */
    const uint64_t chunk_size = h->time_read ? JIT_RUN_CHUNK : RV_RUN_CHUNK;
    while (budget) {
        uint64_t chunk = budget < chunk_size ? budget : chunk_size;
        budget -= chunk;
        while (chunk) {
            if (atomic_load_explicit(&h->events, memory_order_relaxed)) {
                /* at this instruction boundary, as the interpreter would */
                sync_requests(j);
                if (rv_hart_handle_events(h, &exit))
                    return exit;
                continue;
            }
            struct jit_block *b = lookup_block(j);
            if (!b || b->ninsns == 0) {
                if (b && b->end_fence_i)
                    fence_i(j);
                j->stats.interp_steps++;
                chunk--;
                if (rv_hart_step(h, &exit))
                    return exit;
                continue;
            }
            uintptr_t code = b->code;
            if (b->ninsns > chunk && h->time_read && budget) {
                /* With a real clock no instruction count says when the timers are looked
                 * at: the chunk ends here, a few instructions early, and what is left of it
                 * goes to the next one (rather than leaving a block early, then running
                 * counting variants up to the exact count, three exits on average). */
                budget += chunk;
                break;
            }
            if (b->ninsns > chunk) {
                /* The chunk ends inside this block: its counting variant stops there. */
                if (!b->counting && (space_low(j) || !jit_translate_counting(j, b))) {
                    flush_all(j);
                    continue;
                }
                code = b->counting;
            }
            j->budget = chunk;
            j->entry_satp = h->satp;
            j->entry_fetch_idx = h->fetch_mmu_idx;
            j->entry_data_idx = h->data_mmu_idx;
            rv_uwin_enter(h); /* window accesses address it through GS */
            int why = j->enter(h, j, code, &h->tlb[h->data_mmu_idx][RV_ACCESS_READ][0],
                               &h->tlb[h->fetch_mmu_idx][RV_ACCESS_EXEC][0]);
            h->instret += chunk - j->budget; /* every unit used so far was a retirement */
            chunk = j->budget;
            j->stats.exits[why < JIT_EXIT_COUNT ? why : 0]++;
            switch (why) {
            case JIT_EXIT_PC:
                break;
            case JIT_EXIT_CHAIN: {
                struct jit_chain *c = j->chain_req;
                uint64_t flushes = j->stats.flushes;
                link_chain(j, c, flushes, lookup_block(j));
                break;
            }
            case JIT_EXIT_FENCE_I:
            case JIT_EXIT_INTERP:
                /* The instruction belongs to the next chunk if this one is spent (the
                 * lookup then finds the block that hands it to the interpreter). */
                if (!chunk)
                    break;
                if (why == JIT_EXIT_FENCE_I)
                    fence_i(j);
                j->stats.interp_steps++;
                chunk--;
                if (rv_hart_step(h, &exit))
                    return exit;
                break;
            case JIT_EXIT_EXC:
                chunk--;
                if (rv_hart_raise(h, j->exc, j->exc_raw, &exit))
                    return exit;
                break;
            }
        }
        if (rv_hart_timers_armed(h))
            atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
    }
    return exit;
}

/* --- creation --- */

int rv_jit_group_create(struct rv_bus *bus, struct rv_jit_group **out)
{
    struct rv_jit_group *g = calloc(1, sizeof(*g));
    if (!g)
        return rv_error_set(-ENOMEM, "out of memory");
    g->bus = bus;
    g->npages = bus->ram_size >> 12;
    void *map = mmap(NULL, g->npages, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        free(g);
        return rv_error_set(-ENOMEM, "cannot map the translated-code page map");
    }
    pthread_mutex_init(&g->lock, NULL);
    g->perf_map = -1;
    const char *pm = getenv("RVISOR_PERF_MAP");
    if (pm && strcmp(pm, "1") == 0) {
        char path[64];
        snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
        g->perf_map = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    g->code_dump = -1;
    if (pm && strcmp(pm, "code") == 0) {
        char path[64];
        snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
        g->perf_map = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        snprintf(path, sizeof(path), "/tmp/perf-%d.code", (int)getpid());
        g->code_dump = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    bus->code_pages = map;
    bus->code_written = code_written;
    bus->code_opaque = g;
    *out = g;
    return 0;
}

void rv_jit_group_destroy(struct rv_jit_group *g)
{
    if (!g)
        return;
    if (g->perf_map >= 0)
        close(g->perf_map);
    if (g->code_dump >= 0)
        close(g->code_dump);
    munmap(g->bus->code_pages, g->npages);
    g->bus->code_pages = NULL;
    g->bus->code_written = NULL;
    g->bus->code_opaque = NULL;
    pthread_mutex_destroy(&g->lock);
    free(g);
}

static void host_features(struct rv_jit *j)
{
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d))
        j->popcnt = (c >> 23) & 1;
    if (__get_cpuid(0x80000001, &a, &b, &c, &d))
        j->lzcnt = (c >> 5) & 1;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
        j->bmi1 = (b >> 3) & 1;
}

int rv_jit_create(struct rv_jit_group *g, struct rv_hart *h, struct rv_jit **out)
{
    if (g->count >= RV_JIT_MAX_HARTS)
        return rv_error_set(-EINVAL, "at most %d harts per translator group", RV_JIT_MAX_HARTS);
    /* aligned: a jcache set is one host cache line */
    struct rv_jit *j = aligned_alloc(_Alignof(struct rv_jit), sizeof(*j));
    if (!j)
        return rv_error_set(-ENOMEM, "out of memory");
    memset(j, 0, sizeof(*j));
    j->hart = h;
    j->group = g;
    j->code_size = CODE_SIZE;
    j->arena_size = ARENA_SIZE;
    int fd = memfd_create("rvisor-jit", MFD_CLOEXEC);
    int rc = 0;
    if (fd < 0 || ftruncate(fd, (off_t)j->code_size) != 0) {
        rc = rv_error_set(-errno, "jit: cannot create the code cache: %s", strerror(errno));
    } else {
        void *rw = mmap(NULL, j->code_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        void *rx = mmap(NULL, j->code_size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        j->code_rw = rw == MAP_FAILED ? NULL : rw;
        j->code_rx = rx == MAP_FAILED ? NULL : rx;
        if (!j->code_rw || !j->code_rx)
            rc = rv_error_set(-errno, "jit: cannot map the code cache: %s", strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    if (!rc) {
        void *arena = mmap(NULL, j->arena_size, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        j->arena = arena == MAP_FAILED ? NULL : arena;
        j->block_hash = calloc((size_t)1 << JIT_BLOCK_HASH_BITS, sizeof(*j->block_hash));
        j->page_hash = calloc((size_t)1 << JIT_PAGE_HASH_BITS, sizeof(*j->page_hash));
        if (!j->arena || !j->block_hash || !j->page_hash)
            rc = rv_error_set(-ENOMEM, "out of memory");
    }
    if (!rc)
        rc = jit_uwin_init(j);
    if (rc) {
        rv_jit_destroy(j);
        return rc;
    }
    host_features(j);
    jcache_clear(j);
    j->helper_load = helper_load;
    j->helper_store = helper_store;
    j->helper_exec = helper_exec;
    j->helper_csr = helper_csr;
    j->helper_lookup = helper_lookup;
    j->seen_flush_req = atomic_load(&h->tlb_flush_req);
    j->seen_code_gen = __atomic_load_n(&h->bus->code_gen, __ATOMIC_SEQ_CST);
    j->code_free = j->code_rw;
    jit_emit_trampoline(j);
    j->code_start = j->code_free;
    pthread_mutex_lock(&g->lock);
    j->index = g->count;
    g->members[g->count++] = j;
    pthread_mutex_unlock(&g->lock);
    *out = j;
    return 0;
}

static void print_stats(const struct rv_jit *j)
{

    const struct rv_jit_stats *s = &j->stats;
    fprintf(stderr,
            "jit hart %u: blocks %llu (%llu insns) flushes %llu invalidations %llu; exits pc %llu "
            "chain %llu interp %llu fence.i %llu exc %llu; lookups %llu; slow loads %llu "
            "stores %llu; helper execs %llu; interpreter steps %llu; register loads %llu stores %llu "
            "emitted (out of line: %llu, %llu); grouped accesses %llu, unchecked %llu; "
            "window accesses %llu (unchecked %llu), window slow %llu; loop blocks %llu "
            "(through a jump %llu)\n",
            j->index, (unsigned long long)s->blocks, (unsigned long long)s->guest_insns,
            (unsigned long long)s->flushes, (unsigned long long)s->invalidations,
            (unsigned long long)s->exits[JIT_EXIT_PC], (unsigned long long)s->exits[JIT_EXIT_CHAIN],
            (unsigned long long)s->exits[JIT_EXIT_INTERP],
            (unsigned long long)s->exits[JIT_EXIT_FENCE_I], (unsigned long long)s->exits[JIT_EXIT_EXC],
            (unsigned long long)s->lookups, (unsigned long long)s->slow_loads,
            (unsigned long long)s->slow_stores, (unsigned long long)s->helper_execs,
            (unsigned long long)s->interp_steps, (unsigned long long)s->rc_loads,
            (unsigned long long)s->rc_stores, (unsigned long long)s->rc_cold_loads,
            (unsigned long long)s->rc_cold_stores, (unsigned long long)s->mem_grouped,
            (unsigned long long)s->group_cold, (unsigned long long)s->uwin_accesses,
            (unsigned long long)s->uwin_unchecked, (unsigned long long)s->uwin_slow,
            (unsigned long long)s->loop_blocks,
            (unsigned long long)s->loops_followed);
    const struct rv_uwin *w = j->hart->uwin_state;
    if (w)
        fprintf(stderr, "jit hart %u: window maps %llu, flushes %llu (for the budget %llu), "
                "refused %llu\n", j->index, (unsigned long long)w->maps,
                (unsigned long long)w->flushes, (unsigned long long)w->reclaims,
                (unsigned long long)w->refused);
}

void rv_jit_destroy(struct rv_jit *j)
{
    if (!j)
        return;
    const char *env = getenv("RVISOR_JIT_STATS");
    if (env && strcmp(env, "1") == 0)
        print_stats(j);
    struct rv_jit_group *g = j->group;
    pthread_mutex_lock(&g->lock);
    if (g->members[j->index] == j)
        g->members[j->index] = NULL;
    pthread_mutex_unlock(&g->lock);
    if (j->code_rw)
        munmap(j->code_rw, j->code_size);
    if (j->code_rx)
        munmap(j->code_rx, j->code_size);
    if (j->arena)
        munmap(j->arena, j->arena_size);
    free(j->block_hash);
    free(j->page_hash);
    jit_uwin_fini(j);
    free(j);
}

void rv_jit_mappings(const struct rv_jit *j, struct rv_jit_mapping out[RV_JIT_MAPPINGS])
{
    /* The executable view maps the same memfd pages as the writable one: count them once. */
    out[0] = (struct rv_jit_mapping){j->code_rw, j->code_size};
    out[1] = (struct rv_jit_mapping){j->arena, j->arena_size};
}

void rv_jit_get_stats(const struct rv_jit *j, struct rv_jit_stats *out)
{
    *out = j->stats;
    out->code_bytes = (uint64_t)(j->code_free - j->code_start);
}
