/* Address translation: Sv39/Sv48/Sv57 page walks and the software TLB.
 *
 * The TLB is direct-mapped, one table per translation regime (enum rv_mmu_idx) and access type,
 * so privilege switches and SUM toggles need no flush. A hit on a RAM page gives a host pointer
 * in a few instructions; I/O pages are tagged RV_TLB_IO and always go through the bus. */
#ifndef RV_CPU_MMU_H
#define RV_CPU_MMU_H

#include <stdint.h>

#include "cpu/hart.h"

/* Sv39/Sv48/Sv57 page table entry fields (priv spec 10.3-10.6, Svnapot, Svpbmt) */
#define RV_PTE_V (1ull << 0)
#define RV_PTE_R (1ull << 1)
#define RV_PTE_W (1ull << 2)
#define RV_PTE_X (1ull << 3)
#define RV_PTE_U (1ull << 4)
#define RV_PTE_G (1ull << 5)
#define RV_PTE_A (1ull << 6)
#define RV_PTE_D (1ull << 7)
#define RV_PTE_PPN_SHIFT 10
#define RV_PTE_PPN_MASK ((1ull << 44) - 1)      /* after shifting right by RV_PTE_PPN_SHIFT */
#define RV_PTE_RESERVED (0x7full << 54)         /* bits 60..54 */
#define RV_PTE_PBMT_SHIFT 61
#define RV_PTE_PBMT (3ull << RV_PTE_PBMT_SHIFT) /* 0 PMA, 1 NC, 2 IO, 3 reserved */
#define RV_PTE_N (1ull << 63)                   /* Svnapot */

/* Guest-physical addresses have 56 bits (Sv39/48/57 PPN width + page offset). */
#define RV_PA_BITS 56

/* Translates `va` for access type `acc` in regime `mmu_idx` (page walk, no TLB), including
 * permission checks and A/D updates. Returns RV_EXC_NONE and sets *pa (and, where not NULL,
 * *pte_global and *page_shift: log2 of the size of the page that maps va), or the exception
 * cause (page fault or access fault). */
int rv_mmu_translate(struct rv_hart *h, uint64_t va, enum rv_access acc, unsigned mmu_idx,
                     uint64_t *pa, bool *pte_global, unsigned *page_shift);

/* The debugger's view: translates `va` as the hart's current privilege and satp would (M-mode
 * or Bare: physical), ignoring permissions, without setting A/D bits or touching the TLB. */
int rv_mmu_debug_translate(struct rv_hart *h, uint64_t va, uint64_t *pa);

/* TLB miss path: translates `va` in the regime the access uses (fetch_mmu_idx for EXEC,
 * data_mmu_idx otherwise) and fills the TLB entry. Returns RV_EXC_NONE and the entry, or an
 * exception cause. Access faults for addresses that are neither RAM nor I/O are reported by
 * the bus callbacks at access time, not here. */
int rv_mmu_fill(struct rv_hart *h, uint64_t va, enum rv_access acc, struct rv_tlb_entry **out);

/* Empties the TLB; a hart must call this (or rv_tlb_flush_all) before its first access. */
void rv_tlb_init(struct rv_hart *h);

/* Empties the TLB. Needed whenever satp changes, and when mstatus.MXR changes: cached READ
 * entries depend on it and mmu_idx does not encode it. (menvcfg.PBMTE/ADUE changes are
 * synchronised by the guest's SFENCE.VMA x0, x0, priv spec 3.1.18.) */
void rv_tlb_flush_all(struct rv_hart *h);
/* SFENCE.VMA semantics (priv spec 10.2.1): va_valid/asid_valid say whether rs1/rs2 were x0. */
void rv_tlb_flush(struct rv_hart *h, bool va_valid, uint64_t va, bool asid_valid, uint16_t asid);

static inline struct rv_tlb_entry *rv_tlb_entry(struct rv_hart *h, unsigned mmu_idx,
                                                enum rv_access acc, uint64_t va)
{
    return &h->tlb[mmu_idx][acc][(va >> 12) & (RV_TLB_SIZE - 1)];
}

/* The physical page, ASID and G bit of TLB entry e of hart h. */
static inline struct rv_tlb_meta *rv_tlb_meta(struct rv_hart *h, const struct rv_tlb_entry *e)
{
    return &h->tlb_meta[0][0][0] + (e - &h->tlb[0][0][0]);
}

/* Fast path: host pointer for a `size`-byte data access at `va` that does not cross a page,
 * or NULL on a TLB miss / I/O page. */
static inline uint8_t *rv_tlb_lookup(struct rv_hart *h, unsigned mmu_idx, enum rv_access acc,
                                     uint64_t va)
{
    struct rv_tlb_entry *e = rv_tlb_entry(h, mmu_idx, acc, va);
    if (__builtin_expect(e->tag == (va & ~0xfffull), 1))
        return (uint8_t *)(uintptr_t)(va + e->addend);
    return 0;
}

#endif
