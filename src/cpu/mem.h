/* Guest virtual memory access for the interpreter: TLB fast path inline, everything else in
 * mem.c. Functions return RV_EXC_NONE or an exception cause; on a fault h->fault_va holds the
 * address to report in xtval. */
#ifndef RV_CPU_MEM_H
#define RV_CPU_MEM_H

#include <stdint.h>
#include <string.h>

#include "cpu/hart.h"
#include "cpu/mmu.h"

int rv_mem_load_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t *out);
int rv_mem_store_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t value);
/* Fetches the instruction at `va` (16 or 32 bits as its low bits say) into *raw. */
int rv_mem_fetch_slow(struct rv_hart *h, uint64_t va, uint32_t *raw);
/* Host pointer for an atomic access of `size` bytes (naturally aligned, RAM only, translated
 * for `acc`). Misaligned -> EXC_*_MISALIGNED; I/O -> access fault. */
int rv_mem_atomic_ptr(struct rv_hart *h, uint64_t va, unsigned size, enum rv_access acc,
                      void **out);

static inline int rv_mem_load(struct rv_hart *h, uint64_t va, unsigned size, uint64_t *out)
{
    if (__builtin_expect((va & 0xfff) <= 4096 - size, 1)) {
        uint8_t *p = rv_tlb_lookup(h, h->data_mmu_idx, RV_ACCESS_READ, va);
        if (__builtin_expect(p != 0, 1)) {
            /* SAFETY: a direct TLB entry maps the whole 4 KiB page into guest RAM, and the
             * access does not cross the page. */
            uint64_t v = 0;
            memcpy(&v, p, size); /* little-endian host */
            *out = v;
            return RV_EXC_NONE;
        }
    }
    return rv_mem_load_slow(h, va, size, out);
}

static inline int rv_mem_store(struct rv_hart *h, uint64_t va, unsigned size, uint64_t value)
{
    if (__builtin_expect((va & 0xfff) <= 4096 - size, 1)) {
        uint8_t *p = rv_tlb_lookup(h, h->data_mmu_idx, RV_ACCESS_WRITE, va);
        if (__builtin_expect(p != 0, 1)) {
            /* SAFETY: as in rv_mem_load. */
            memcpy(p, &value, size);
            return RV_EXC_NONE;
        }
    }
    return rv_mem_store_slow(h, va, size, value);
}

static inline int rv_mem_fetch(struct rv_hart *h, uint64_t va, uint32_t *raw)
{
    if (__builtin_expect((va & 0xfff) <= 4096 - 4, 1)) {
        uint8_t *p = rv_tlb_lookup(h, h->fetch_mmu_idx, RV_ACCESS_EXEC, va);
        if (__builtin_expect(p != 0, 1)) {
            /* SAFETY: 4 bytes inside one mapped RAM page. */
            uint32_t v;
            memcpy(&v, p, 4);
            *raw = v;
            return RV_EXC_NONE;
        }
    }
    return rv_mem_fetch_slow(h, va, raw);
}

#endif
