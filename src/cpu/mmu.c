/* Sv39/Sv48/Sv57 address translation (priv spec 10.3.2 "Virtual Address Translation Process",
 * 10.4-10.6), with Svnapot (64 KiB pages), Svpbmt, and A/D handling per Svadu/Svade, plus the
 * software TLB (fill and SFENCE.VMA flushes).
 *
 * The walk reads PTEs straight from guest RAM with 8-byte atomic loads: other harts run on other
 * host threads and may write page tables or set A/D bits concurrently. A/D updates use a
 * compare-and-swap on the PTE word, as step 7 of the algorithm requires.
 *
 * TLB entries always cover one 4 KiB page. A superpage is cached as 4 KiB pieces; the size of
 * the page each piece came from is kept in h->tlb_page_shift, and for each superpage size
 * [tlb_super_lo, tlb_super_hi] bounds the virtual addresses those pieces cover, so that
 * SFENCE.VMA by address scans the tables only for the sizes of the cached superpages the
 * address may lie in. (One range for all sizes would make every fence of a user page scan the
 * whole TLB for the gigapages of the kernel's linear map.) */
#include "cpu/mmu.h"
#include "cpu/uwin.h"

#include <string.h>

#include "cpu/csr.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define PAGE_MASK (PAGE_SIZE - 1)
#define VPN_BITS 9 /* Sv39/48/57: 512 eight-byte PTEs per table */

/* Index of a superpage size (log2 of its bytes) in h->tlb_super_lo/hi. */
static unsigned super_kind(unsigned shift)
{
    return (shift - PAGE_SHIFT) / VPN_BITS - 1;
}
_Static_assert((48 - PAGE_SHIFT) / VPN_BITS - 1 < RV_TLB_SUPER_KINDS, "superpage kinds");

/* Exception causes by enum rv_access (READ, WRITE, EXEC). */
static const int page_fault_cause[RV_ACCESS_COUNT] = {
    EXC_LOAD_PAGE_FAULT, EXC_STORE_PAGE_FAULT, EXC_INSN_PAGE_FAULT};
static const int access_fault_cause[RV_ACCESS_COUNT] = {
    EXC_LOAD_ACCESS, EXC_STORE_ACCESS, EXC_INSN_ACCESS};

/* Permission bit an access needs in a leaf PTE (before MXR). */
static const uint64_t access_perm[RV_ACCESS_COUNT] = {RV_PTE_R, RV_PTE_W, RV_PTE_X};

/* The walk proper. On success sets *pa, *global (translation is global: PTE.G on the leaf or
 * on any non-leaf above it; untranslated regimes count as global since no ASID applies) and
 * *page_shift (log2 of the page size: 12 for 4 KiB and NAPOT pages, 21/30/39/48 for
 * superpages). */
static inline __attribute__((always_inline)) int
mmu_walk_common(struct rv_hart *h, uint64_t va, enum rv_access acc, unsigned mmu_idx,
                uint64_t *pa, bool *global, unsigned *page_shift, bool debug)
{
    unsigned mode = (unsigned)(h->satp >> SATP_MODE_SHIFT);

    /* satp.MODE is WARL and only ever holds Bare/Sv39/Sv48/Sv57; anything else is treated as
     * Bare, like the PHYS regime the hart selects for M-mode and for Bare. */
    if (mmu_idx == RV_MMU_PHYS || mode < SATP_MODE_SV39 || mode > SATP_MODE_SV57) {
        if (va >> RV_PA_BITS)
            return access_fault_cause[acc];
        *pa = va;
        *global = true;
        *page_shift = PAGE_SHIFT;
        return RV_EXC_NONE;
    }

    const int levels = (int)(mode - SATP_MODE_SV39) + 3;
    const unsigned va_bits = PAGE_SHIFT + VPN_BITS * (unsigned)levels;
    const int pf = page_fault_cause[acc];

    /* Bits above the VA width must all equal the top VA bit (10.4.1). */
    if ((uint64_t)((int64_t)(va << (64 - va_bits)) >> (64 - va_bits)) != va)
        return pf;

    const struct rv_bus *bus = h->bus;
    uint64_t table = (h->satp & SATP_PPN_MASK) << PAGE_SHIFT;
    bool parent_global = false;

    for (int i = levels - 1; i >= 0; i--) {
        const unsigned shift = PAGE_SHIFT + VPN_BITS * (unsigned)i;
        const uint64_t pte_addr = table + ((va >> shift) & ((1u << VPN_BITS) - 1)) * 8;

        /* Step 2: a PTE outside RAM violates a PMA: access fault of the original type. */
        if (!rv_bus_in_ram(bus, pte_addr, 8))
            return access_fault_cause[acc];
        /* SAFETY: [pte_addr, pte_addr+8) is inside guest RAM (checked above). It is 8-byte
         * aligned on the host because tables are page-aligned and RAM is mapped at a page
         * boundary for a page-aligned ram_base. */
        uint64_t *pte_ptr = (uint64_t *)(void *)rv_bus_ram_ptr(bus, pte_addr);
        uint64_t pte;

    reload:
        pte = __atomic_load_n(pte_ptr, __ATOMIC_ACQUIRE);

        /* Step 3: invalid, reserved W-without-R, reserved bits, reserved/disabled PBMT. */
        if (!(pte & RV_PTE_V) || (pte & (RV_PTE_R | RV_PTE_W)) == RV_PTE_W ||
            (pte & RV_PTE_RESERVED))
            return pf;
        const uint64_t pbmt = pte & RV_PTE_PBMT;
        if (pbmt && (!(h->menvcfg & ENVCFG_PBMTE) || pbmt == RV_PTE_PBMT))
            return pf;

        uint64_t ppn = (pte >> RV_PTE_PPN_SHIFT) & RV_PTE_PPN_MASK;

        /* Step 4: pointer to the next level. A, D, U are reserved on non-leaf PTEs (10.3.1),
         * and so are N (Svnapot) and PBMT (Svpbmt). */
        if (!(pte & (RV_PTE_R | RV_PTE_X))) {
            if (pte & (RV_PTE_A | RV_PTE_D | RV_PTE_U | RV_PTE_N | RV_PTE_PBMT))
                return pf;
            parent_global |= (pte & RV_PTE_G) != 0;
            table = ppn << PAGE_SHIFT;
            continue;
        }

        /* Leaf. Svnapot: only the 64 KiB encoding (level 0, ppn[3:0] = 0b1000) is defined;
         * the low four PPN bits then come from the VPN. */
        if (pte & RV_PTE_N) {
            if (i != 0 || (ppn & 0xf) != 0x8)
                return pf;
            ppn = (ppn & ~0xfull) | ((va >> PAGE_SHIFT) & 0xf);
        }

        /* Step 5: permissions. U-mode needs U=1; S-mode may touch U=1 pages only for loads
         * and stores with SUM, and never executes them (10.3.1, 3.1.6.3). MXR makes
         * executable pages readable. */
        if (debug) {
            /* a debugger sees every valid mapping, whatever its permissions */
        } else if (pte & RV_PTE_U) {
            if (mmu_idx != RV_MMU_U && (acc == RV_ACCESS_EXEC || mmu_idx != RV_MMU_S_SUM))
                return pf;
        } else if (mmu_idx == RV_MMU_U) {
            return pf;
        }
        uint64_t perms = pte;
        if ((h->mstatus & MSTATUS_MXR) && (pte & RV_PTE_X))
            perms |= RV_PTE_R;
        if (!debug && !(perms & access_perm[acc]))
            return pf;

        /* Step 6: a superpage must be physically aligned to its size. */
        if (i > 0 && (ppn & ((1ull << (VPN_BITS * (unsigned)i)) - 1)))
            return pf;

        /* Step 7: A, and D for stores. Svadu (menvcfg.ADUE=1) sets them atomically, with
         * the same PTE value the checks above passed on; Svade faults. */
        const uint64_t need = RV_PTE_A | (acc == RV_ACCESS_WRITE ? RV_PTE_D : 0);
        if (!debug && (pte & need) != need) {
            if (!(h->menvcfg & ENVCFG_ADUE))
                return pf;
            uint64_t expected = pte;
            if (!__atomic_compare_exchange_n(pte_ptr, &expected, pte | need, false,
                                             __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
                goto reload; /* the PTE changed under us: back to step 2 at this level */
            rv_bus_mark_dirty(bus, pte_addr, 8);
            /* a store like any other for translated code sharing the page (bus.h) */
            if (rv_bus_page_has_code(bus, pte_addr))
                bus->code_written(bus->code_opaque, h, pte_addr);
        }

        /* Step 8: superpages take the low VPN bits from va; NAPOT already did above. */
        *pa = (ppn << PAGE_SHIFT) | (va & ((1ull << shift) - 1));
        *global = parent_global || (pte & RV_PTE_G);
        *page_shift = shift;
        return RV_EXC_NONE;
    }
    /* Step 4: ran out of levels on a non-leaf PTE. */
    return pf;
}

static int mmu_walk(struct rv_hart *h, uint64_t va, enum rv_access acc, unsigned mmu_idx,
                    uint64_t *pa, bool *global, unsigned *page_shift)
{
    return mmu_walk_common(h, va, acc, mmu_idx, pa, global, page_shift, false);
}

int rv_mmu_debug_translate(struct rv_hart *h, uint64_t va, uint64_t *pa)
{
    bool global;
    unsigned page_shift;
    unsigned idx = h->priv == RV_PRIV_M ? RV_MMU_PHYS : RV_MMU_S;
    return mmu_walk_common(h, va, RV_ACCESS_READ, idx, pa, &global, &page_shift, true);
}

int rv_mmu_translate(struct rv_hart *h, uint64_t va, enum rv_access acc, unsigned mmu_idx,
                     uint64_t *pa, bool *pte_global, unsigned *page_shift)
{
    bool global;
    unsigned shift;
    int exc = mmu_walk(h, va, acc, mmu_idx, pa, &global, &shift);
    if (exc == RV_EXC_NONE && pte_global)
        *pte_global = global;
    if (exc == RV_EXC_NONE && page_shift)
        *page_shift = shift;
    return exc;
}

int rv_mmu_fill(struct rv_hart *h, uint64_t va, enum rv_access acc, struct rv_tlb_entry **out)
{
    const unsigned mmu_idx = acc == RV_ACCESS_EXEC ? h->fetch_mmu_idx : h->data_mmu_idx;
    uint64_t pa;
    bool global;
    unsigned page_shift;
    h->stat_tlb_misses++;
    int exc = mmu_walk(h, va, acc, mmu_idx, &pa, &global, &page_shift);
    if (exc != RV_EXC_NONE)
        return exc;

    const struct rv_bus *bus = h->bus;
    const uint64_t vpage = va & ~PAGE_MASK;
    const uint64_t ppage = pa & ~PAGE_MASK;
    const unsigned slot = (unsigned)(va >> PAGE_SHIFT) & (RV_TLB_SIZE - 1);
    struct rv_tlb_entry *e = &h->tlb[mmu_idx][acc][slot];

    if (rv_bus_in_ram(bus, ppage, PAGE_SIZE) &&
        !(bus->page_is_io && bus->page_is_io(bus->opaque, ppage))) {
        e->tag = vpage;
        /* Stores through this entry will not be seen one by one: the page is dirty now. */
        if (acc == RV_ACCESS_WRITE)
            rv_bus_mark_dirty(bus, ppage, PAGE_SIZE);
        /* Stores to pages with translated code must reach the slow path (bus.h). */
        if (acc == RV_ACCESS_WRITE && rv_bus_page_has_code(bus, ppage))
            e->tag |= RV_TLB_CODE;
        /* SAFETY: the whole physical page is in RAM (checked above), so va + addend points
         * into the RAM mapping for every va of this virtual page. */
        e->addend = (uintptr_t)rv_bus_ram_ptr(bus, ppage) - (uintptr_t)vpage;
    } else {
        e->tag = vpage | RV_TLB_IO;
        e->addend = 0;
    }
    struct rv_tlb_meta *meta = &h->tlb_meta[mmu_idx][acc][slot];
    *meta = (struct rv_tlb_meta){.paddr = ppage, .global = global,
                                 .asid = (uint16_t)((h->satp >> SATP_ASID_SHIFT) &
                                                    SATP_ASID_MASK)};
    h->tlb_clean &= ~(1u << (mmu_idx * RV_ACCESS_COUNT + acc));
    h->tlb_page_shift[mmu_idx][acc][slot] = (uint8_t)page_shift;
    if (acc == RV_ACCESS_WRITE)
        h->tlb_wfilled[mmu_idx][slot / 64] |= 1ull << (slot % 64);

    if (page_shift > PAGE_SHIFT) {
        const uint64_t base = va & ~((1ull << page_shift) - 1);
        const uint64_t last = base + ((1ull << page_shift) - 1);
        const unsigned k = super_kind(page_shift);
        if (base < h->tlb_super_lo[k])
            h->tlb_super_lo[k] = base;
        if (last > h->tlb_super_hi[k])
            h->tlb_super_hi[k] = last;
    }

    /* A page writable for this regime is also readable (W implies R, SUM and U apply to
     * loads and stores alike), and A/D are set now, so the load side can share the entry.
     * The converse is not true: a READ fill never creates a WRITE entry, so the first store
     * walks again and sets D. */
    if (acc == RV_ACCESS_WRITE) {
        h->tlb[mmu_idx][RV_ACCESS_READ][slot] = *e;
        h->tlb_meta[mmu_idx][RV_ACCESS_READ][slot] = *meta;
        h->tlb_clean &= ~(1u << (mmu_idx * RV_ACCESS_COUNT + RV_ACCESS_READ));
        h->tlb[mmu_idx][RV_ACCESS_READ][slot].tag &= ~RV_TLB_CODE;
        h->tlb_page_shift[mmu_idx][RV_ACCESS_READ][slot] = (uint8_t)page_shift;
    }

    *out = e;
    return RV_EXC_NONE;
}

void rv_tlb_flush_all(struct rv_hart *h)
{
    rv_uwin_flush(h);
    for (unsigned m = 0; m < RV_MMU_COUNT; m++)
        for (unsigned a = 0; a < RV_ACCESS_COUNT; a++) {
            if (h->tlb_clean & (1u << (m * RV_ACCESS_COUNT + a)))
                continue; /* nothing filled since the last flush */
            for (unsigned s = 0; s < RV_TLB_SIZE; s++)
                h->tlb[m][a][s].tag = RV_TLB_INVALID;
            memset(h->tlb_page_shift[m][a], PAGE_SHIFT, sizeof(h->tlb_page_shift[m][a]));
            if (a == RV_ACCESS_WRITE)
                memset(h->tlb_wfilled[m], 0, sizeof(h->tlb_wfilled[m]));
        }
    h->tlb_clean = (1u << (RV_MMU_COUNT * RV_ACCESS_COUNT)) - 1;
    for (unsigned k = 0; k < RV_TLB_SUPER_KINDS; k++) {
        h->tlb_super_lo[k] = UINT64_MAX;
        h->tlb_super_hi[k] = 0;
    }
}

void rv_tlb_init(struct rv_hart *h)
{
    h->tlb_clean = 0; /* whatever the tables hold: all of them */
    rv_tlb_flush_all(h);
}

/* An ASID-specific fence (rs2 != x0) leaves global translations alone (10.2.1). */
static inline bool flush_asid_matches(const struct rv_hart *h, unsigned m, unsigned a,
                                      unsigned s, bool asid_valid, uint16_t asid)
{
    const struct rv_tlb_meta *meta = &h->tlb_meta[m][a][s];
    return !asid_valid || (!meta->global && meta->asid == asid);
}

static inline void tlb_invalidate(struct rv_hart *h, unsigned m, unsigned a, unsigned s)
{
    h->tlb[m][a][s].tag = RV_TLB_INVALID;
    h->tlb_page_shift[m][a][s] = PAGE_SHIFT;
}

/* Invalidates the pieces of 2^shift-byte pages containing va (mask = ~(2^shift - 1)) among
 * slots [first, first + count) of tlb[m][a]: memchr() finds the candidates in the compact
 * page-size bytes instead of looking at every entry. */
static void flush_super_pieces(struct rv_hart *h, unsigned m, unsigned a, unsigned first,
                               unsigned count, uint64_t va, uint64_t mask, bool asid_valid,
                               uint16_t asid)
{
    const uint8_t *shifts = h->tlb_page_shift[m][a];
    const int shift = __builtin_ctzll(mask);
    const uint8_t *p = shifts + first, *end = shifts + first + count;
    while (p < end && (p = memchr(p, shift, (size_t)(end - p))) != NULL) {
        const unsigned s = (unsigned)(p - shifts);
        const struct rv_tlb_entry *e = &h->tlb[m][a][s];
        if (e->tag != RV_TLB_INVALID && ((e->tag ^ va) & mask) == 0 &&
            flush_asid_matches(h, m, a, s, asid_valid, asid))
            tlb_invalidate(h, m, a, s);
        p++;
    }
}

void rv_tlb_flush(struct rv_hart *h, bool va_valid, uint64_t va, bool asid_valid, uint16_t asid)
{
    if (!va_valid && !asid_valid) {
        rv_tlb_flush_all(h);
        return;
    }
    if (va_valid)
        rv_uwin_flush_va(h, va);
    else
        rv_uwin_flush(h); /* the window holds the current ASID's translations only */

    if (!va_valid) {
        /* Every non-global translation of `asid`. The superpage range stays as it is: it
         * only has to cover the superpage pieces, not to be tight. */
        for (unsigned m = 0; m < RV_MMU_COUNT; m++)
            for (unsigned a = 0; a < RV_ACCESS_COUNT; a++)
                for (unsigned s = 0; s < RV_TLB_SIZE; s++) {
                    if (h->tlb_clean & (1u << (m * RV_ACCESS_COUNT + a)))
                        break;
                    const struct rv_tlb_entry *e = &h->tlb[m][a][s];
                    if (e->tag != RV_TLB_INVALID && flush_asid_matches(h, m, a, s, true, asid))
                        tlb_invalidate(h, m, a, s);
                }
        return;
    }

    /* By address: the 4 KiB entries for va's page sit in one slot per table. */
    const unsigned slot = (unsigned)(va >> PAGE_SHIFT) & (RV_TLB_SIZE - 1);
    for (unsigned m = 0; m < RV_MMU_COUNT; m++)
        for (unsigned a = 0; a < RV_ACCESS_COUNT; a++) {
            const struct rv_tlb_entry *e = &h->tlb[m][a][slot];
            if (((e->tag ^ va) & ~PAGE_MASK) == 0 &&
                flush_asid_matches(h, m, a, slot, asid_valid, asid))
                tlb_invalidate(h, m, a, slot);
        }

    /* va may lie in a cached superpage: drop every piece of any superpage containing va. The
     * pieces of the 2^shift-byte page around va sit in the slots of its 4 KiB pages only, so
     * each cached superpage size whose range holds va needs a look at those slots (all of them
     * once the page spans the table). The ranges stay as they are: they only have to cover the
     * pieces. */
    static const unsigned super_shifts[] = {21, 30, 39, 48};
    for (unsigned n = 0; n < sizeof(super_shifts) / sizeof(super_shifts[0]); n++) {
        const unsigned shift = super_shifts[n], k = super_kind(shift);
        if (va < h->tlb_super_lo[k] || va > h->tlb_super_hi[k])
            continue;
        const uint64_t mask = ~((1ull << shift) - 1);
        const unsigned first = (unsigned)((va & mask) >> PAGE_SHIFT) & (RV_TLB_SIZE - 1);
        const unsigned count = shift - PAGE_SHIFT >= RV_TLB_BITS
                                   ? RV_TLB_SIZE : 1u << (shift - PAGE_SHIFT);
        for (unsigned m = 0; m < RV_MMU_COUNT; m++)
            for (unsigned a = 0; a < RV_ACCESS_COUNT; a++) {
                if (h->tlb_clean & (1u << (m * RV_ACCESS_COUNT + a)))
                    continue; /* no entries */
                /* count is a power of two no larger than the table, so the slots do not
                 * wrap around its end */
                flush_super_pieces(h, m, a, first, count, va, mask, asid_valid, asid);
            }
    }
}
