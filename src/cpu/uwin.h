/* Host-MMU windows: the host's page tables translate a hart's user-mode data accesses.
 *
 * A window is a reserved range of host address space, RV_UWIN_SIZE bytes with a guard page on
 * either side, in which guest-virtual page va of the hart's current U-mode translation regime is mapped at
 * window + va (a shared mapping of the guest RAM's memfd), with the permissions the guest's
 * page table grants U-mode: read-only, or read-write once the guest's PTE is dirty. Translated
 * code then does a U-mode load or store as one host instruction at [window + va] (src/jit; the
 * thread's GS base is the window, rv_uwin_enter): no software TLB lookup on the critical path
 * of dependent loads.
 *
 * Pages are mapped on demand. An access to an unmapped page, a read-only page written, or the
 * guard pages raises SIGSEGV; the translator's handler calls rv_uwin_fault(), which walks the
 * guest page table as the TLB's fill would (A/D updates included) and maps the page, and the
 * access is retried; where it cannot map (a page fault for the guest, I/O, a page with
 * translated code written, addresses at or above RV_UWIN_SIZE) the handler sends the access
 * to its out-of-line slow path, which does exactly what a TLB miss does.
 *
 * The window holds a subset of what the software TLB could hold for RV_MMU_U, and is emptied
 * wherever the TLB is (rv_tlb_flush_all, rv_tlb_flush: satp and MXR writes, SFENCE.VMA, remote
 * fences, dirty-page collection for migration), so the privileged spec's rules for cached
 * translations (10.2.1, SFENCE.VMA) hold for it as they do for the TLB. Write mappings of a page
 * that gets translated code are revoked (rv_uwin_revoke_write), as the TLB's WRITE entries are.
 *
 * While the hart's data regime is not RV_MMU_U (S-mode, M-mode, MPRV), h->uwin points at a
 * window that is never mapped (shared by all harts): code translated for U-mode that runs in
 * another regime then takes the slow path on every access, which is correct. So does a window
 * turned off (`dead`: it may hold stale mappings). */
#ifndef RV_CPU_UWIN_H
#define RV_CPU_UWIN_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/hart.h"

/* User addresses the window covers: [0, 2^38), the user half of Sv39 (and the low part of
 * Sv48/Sv57 user space). */
#define RV_UWIN_BITS 38
#define RV_UWIN_SIZE (1ull << RV_UWIN_BITS)
/* Mappings all windows of a process keep before they are emptied (each may be a host VMA;
 * the host allows vm.max_map_count, 65,530 by default, per process, and rvisor needs some
 * hundreds for itself). */
#define RV_UWIN_MAPS_TOTAL 48000

/* The mappings the windows of one VM (one process) may hold together. They share it rather
 * than each having a fixed part: with a fixed half, a hart running xz -9 (whose match finder
 * touches some 30,000 pages at random) emptied its window 54 times per 4 MiB while the other
 * hart's window, idle, held a few hundred. When the budget is used up, the window that needs
 * a mapping empties itself and asks the others to do the same (`gen`), which they do when
 * their hart next changes regime (rv_uwin_select), maps a page, or wakes from WFI (at least
 * once a second: rv_uwin_reclaim). If the others still hold it all, the window is starved:
 * its hart's limit is 0, so every access takes the slow path without a host fault, until a
 * regime change finds room again. */
struct rv_uwin_budget {
    _Atomic unsigned held; /* mappings made by the windows since each was last emptied */
    _Atomic unsigned gen;  /* bumped when held reached cap: windows from before empty */
    unsigned cap;
};

/* A write mapping: guest-virtual va (page aligned) to RAM pages [first, first + pages). */
struct rv_uwin_rec {
    uint64_t va, first;
    uint32_t pages;
};

struct rv_uwin {
    uint8_t *base;    /* window + va is guest-virtual va */
    int ram_fd;       /* guest RAM (offset 0 = ram_base), not owned */
    uint64_t ram_pages;
    uint64_t *super;  /* bit per 2 MiB of the window: a 2 MiB page is mapped there (a fence
                         by address inside it drops all of it) */
    struct rv_uwin_budget *budget; /* shared with the VM's other windows, not owned */
    unsigned n;       /* mappings made since the window was last emptied (counted in budget) */
    unsigned gen;     /* budget->gen when it was last emptied */
    struct rv_uwin_rec *rec;  /* the write mappings among them */
    unsigned nrec;
    uint64_t *written; /* bit per RAM page: a write mapping of it may exist (in rec) */
    bool dead;        /* the host refused to unmap: turned off (uwin.c, unmap) */
    bool starved;     /* no room in the budget: limit 0 until there is */
    /* statistics */
    uint64_t maps, flushes, refused, reclaims;
};

/* A budget of `cap` mappings for the windows of one VM. */
void rv_uwin_budget_init(struct rv_uwin_budget *b, unsigned cap);
/* Reserves a window for guest RAM in memfd `ram_fd` (which must stay open while the window
 * exists), `ram_size` bytes, counting its mappings in budget `b` (which must outlive it). NULL
 * and an error (core/error.h) if the host refuses the address space or memory. */
struct rv_uwin *rv_uwin_create(int ram_fd, uint64_t ram_size, struct rv_uwin_budget *b);
void rv_uwin_destroy(struct rv_uwin *w);

/* Gives hart h window w (NULL: none); call after rv_hart_reset(), which forgets it. Empties w. */
void rv_uwin_attach(struct rv_hart *h, struct rv_uwin *w);
/* Points h->uwin at the window of the hart's data regime (rv_hart_update_mmu_idx); empties the
 * window first if the budget asked for it. */
void rv_uwin_select(struct rv_hart *h);

/* Translated code reaches the window through the GS segment register ([gs: base + offset],
 * jit/translate_mem.c): before the calling thread runs h's translated code, this points its
 * GS base at h->uwin (wrgsbase: rv_uwin_create refuses hosts that do not allow it). The
 * window code keeps it there when h->uwin changes on that thread (at a change of regime, or a
 * window turned off inside a helper). */
void rv_uwin_enter(const struct rv_hart *h);

/* Empties h's window if the budget asked for it since it was last emptied (the hart's own
 * thread, or while it is not running guest code). */
void rv_uwin_reclaim(struct rv_hart *h);

/* The TLB's flushes (mmu.c): everything / the page(s) holding va. */
void rv_uwin_flush(struct rv_hart *h);
void rv_uwin_flush_va(struct rv_hart *h, uint64_t va);
/* Page `ppage` now holds translated code: no more direct stores to it through the window. */
void rv_uwin_revoke_write(struct rv_hart *h, uint64_t ppage);

/* A host access to window address `addr` faulted (`write`: a store). Maps the page and returns
 * true if the access may be retried; false if it must take the slow path. Runs in the
 * hart's thread (the SIGSEGV handler). */
bool rv_uwin_fault(struct rv_hart *h, uintptr_t addr, bool write);
/* Whether addr lies in a window (the hart's, the guard page, or the unmapped one). */
bool rv_uwin_contains(const struct rv_hart *h, uintptr_t addr);

#endif
