/* Slow paths of guest memory access: TLB misses, I/O pages, accesses crossing a page. */
#include "cpu/mem.h"

#include "cpu/csr.h"

static const int access_fault_for[RV_ACCESS_COUNT] = {EXC_LOAD_ACCESS, EXC_STORE_ACCESS,
                                                      EXC_INSN_ACCESS};

/* Finds (or fills) the TLB entry for the page of `va`. */
static int page_entry(struct rv_hart *h, uint64_t va, enum rv_access acc,
                      struct rv_tlb_entry **out)
{
    unsigned idx = acc == RV_ACCESS_EXEC ? h->fetch_mmu_idx : h->data_mmu_idx;
    struct rv_tlb_entry *e = rv_tlb_entry(h, idx, acc, va);
    uint64_t page = va & ~0xfffull;
    if ((e->tag & ~(RV_TLB_IO | RV_TLB_CODE)) == page) {
        *out = e;
        return RV_EXC_NONE;
    }
    return rv_mmu_fill(h, va, acc, out);
}

/* A store reached a RAM page holding translated code (RV_TLB_CODE): tell the translators, and
 * drop the entry so that the page is cached as directly writable again once they let go of
 * it. The fence orders the store before the check of the page's code byte (jit.c relies on
 * it). */
static void code_store(struct rv_hart *h, struct rv_tlb_entry *e)
{
    struct rv_bus *bus = h->bus;
    uint64_t paddr = rv_tlb_meta(h, e)->paddr;
    e->tag = RV_TLB_INVALID;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (rv_bus_page_has_code(bus, paddr))
        bus->code_written(bus->code_opaque, h, paddr);
}

/* One access that stays inside a page. */
/* memcpy with the common sizes spelled out: single moves instead of a library call. */
static inline void copy_small(void *dst, const void *src, unsigned size)
{
    switch (size) {
    case 1: memcpy(dst, src, 1); break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, size); break;
    }
}

static int access_in_page(struct rv_hart *h, uint64_t va, unsigned size, enum rv_access acc,
                          uint64_t *value)
{
    struct rv_tlb_entry *e;
    int exc = page_entry(h, va, acc, &e);
    if (exc != RV_EXC_NONE) {
        h->fault_va = va;
        return exc;
    }
    if (!(e->tag & RV_TLB_IO)) {
        /* SAFETY: direct entries map a whole RAM page; the access stays inside it. */
        uint8_t *p = (uint8_t *)(uintptr_t)(va + e->addend);
        if (acc == RV_ACCESS_WRITE) {
            copy_small(p, value, size);
            if (e->tag & RV_TLB_CODE)
                code_store(h, e);
        } else {
            uint64_t v = 0;
            copy_small(&v, p, size);
            *value = v;
        }
        return RV_EXC_NONE;
    }
    uint64_t pa = rv_tlb_meta(h, e)->paddr | (va & 0xfff);
    struct rv_bus *bus = h->bus;
    int rc;
    if ((size & (size - 1)) || (va & (size - 1))) {
        /* Devices take naturally aligned 1/2/4/8-byte accesses only: split misaligned ones,
         * and the odd-sized pieces of a page-crossing access, into bytes. */
        uint64_t v = acc == RV_ACCESS_WRITE ? *value : 0;
        for (unsigned i = 0; i < size; i++) {
            uint64_t b = (v >> (8 * i)) & 0xff;
            if (acc == RV_ACCESS_WRITE)
                rc = bus->io_write ? bus->io_write(bus->opaque, pa + i, 1, b) : -1;
            else
                rc = bus->io_read ? bus->io_read(bus->opaque, pa + i, 1, &b) : -1;
            if (rc) {
                h->fault_va = va + i;
                return access_fault_for[acc];
            }
            v |= (b & 0xff) << (8 * i);
        }
        if (acc != RV_ACCESS_WRITE)
            *value = v;
        return RV_EXC_NONE;
    }
    if (acc == RV_ACCESS_WRITE)
        rc = bus->io_write ? bus->io_write(bus->opaque, pa, size, *value) : -1;
    else
        rc = bus->io_read ? bus->io_read(bus->opaque, pa, size, value) : -1;
    if (rc) {
        h->fault_va = va;
        return access_fault_for[acc];
    }
    return RV_EXC_NONE;
}

int rv_mem_load_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t *out)
{
    unsigned first = 4096 - (va & 0xfff);
    if (first >= size)
        return access_in_page(h, va, size, RV_ACCESS_READ, out);
    /* Crosses a page: two accesses, each translated on its own. */
    uint64_t lo, hi;
    int exc = access_in_page(h, va, first, RV_ACCESS_READ, &lo);
    if (exc == RV_EXC_NONE)
        exc = access_in_page(h, va + first, size - first, RV_ACCESS_READ, &hi);
    if (exc != RV_EXC_NONE)
        return exc;
    *out = lo | (hi << (8 * first));
    return RV_EXC_NONE;
}

int rv_mem_store_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t value)
{
    unsigned first = 4096 - (va & 0xfff);
    if (first >= size)
        return access_in_page(h, va, size, RV_ACCESS_WRITE, &value);
    /* Crosses a page: translate both pages before writing anything, so a fault on the second
     * page leaves memory untouched. */
    struct rv_tlb_entry *e;
    int exc = page_entry(h, va, RV_ACCESS_WRITE, &e);
    if (exc != RV_EXC_NONE) {
        h->fault_va = va;
        return exc;
    }
    exc = page_entry(h, va + first, RV_ACCESS_WRITE, &e);
    if (exc != RV_EXC_NONE) {
        h->fault_va = va + first;
        return exc;
    }
    uint64_t lo = value, hi = value >> (8 * first);
    exc = access_in_page(h, va, first, RV_ACCESS_WRITE, &lo);
    if (exc == RV_EXC_NONE)
        exc = access_in_page(h, va + first, size - first, RV_ACCESS_WRITE, &hi);
    return exc;
}

int rv_mem_fetch_slow(struct rv_hart *h, uint64_t va, uint32_t *raw)
{
    uint64_t lo;
    int exc = access_in_page(h, va, 2, RV_ACCESS_EXEC, &lo);
    if (exc != RV_EXC_NONE)
        return exc;
    if ((lo & 3) != 3) {
        *raw = (uint32_t)lo;
        return RV_EXC_NONE;
    }
    uint64_t hi;
    exc = access_in_page(h, va + 2, 2, RV_ACCESS_EXEC, &hi);
    if (exc != RV_EXC_NONE)
        return exc;
    *raw = (uint32_t)(lo | (hi << 16));
    return RV_EXC_NONE;
}

int rv_mem_atomic_ptr(struct rv_hart *h, uint64_t va, unsigned size, enum rv_access acc,
                      void **out)
{
    if (va & (size - 1)) {
        h->fault_va = va;
        return acc == RV_ACCESS_READ ? EXC_LOAD_MISALIGNED : EXC_STORE_MISALIGNED;
    }
    struct rv_tlb_entry *e;
    int exc = page_entry(h, va, acc, &e);
    if (exc != RV_EXC_NONE) {
        h->fault_va = va;
        return exc;
    }
    if (e->tag & RV_TLB_IO) {
        /* Atomics on device registers are not supported (PMA: not AMO-capable). */
        h->fault_va = va;
        return access_fault_for[acc];
    }
    *out = (void *)(uintptr_t)(va + e->addend);
    if (e->tag & RV_TLB_CODE)
        code_store(h, e); /* before the caller's atomic write: this hart's translator ends
                             its block after the AMO and translates the new bytes; other harts
                             see them at their next FENCE.I, as the ISA requires */
    return RV_EXC_NONE;
}
