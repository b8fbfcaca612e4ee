/* The virtual hart: an RV64GC CPU with M/S/U privilege, Sv39/48/57 MMU and IEEE FPU.
 *
 * rv_hart_run() executes guest instructions until a budget is spent or an *exit* happens,
 * KVM_RUN-style. Traps the guest handles itself (page faults, delegated interrupts, U-mode
 * ecalls into an S-mode kernel) never leave the hart. When `monitor_is_m` is set, rvisor itself
 * is the M-mode firmware: a trap that would enter M-mode becomes an exit instead (an SBI call
 * from S-mode is RV_EXIT_ECALL). When it is clear (bare-metal mode), M-mode code runs on the
 * hart like on real hardware. */
#ifndef RV_CPU_HART_H
#define RV_CPU_HART_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/bus.h"
#include "cpu/decode.h"

#define RV_PRIV_U 0
#define RV_PRIV_S 1
#define RV_PRIV_M 3

/* No exception: the value functions returning an exception cause use for success. */
#define RV_EXC_NONE (-1)

enum rv_access { RV_ACCESS_READ, RV_ACCESS_WRITE, RV_ACCESS_EXEC, RV_ACCESS_COUNT };

/* Translation regimes, each with its own TLB so that switching privilege does not flush. */
enum rv_mmu_idx {
    RV_MMU_PHYS,  /* no translation: M-mode, or satp.MODE = Bare */
    RV_MMU_U,     /* translated, U-mode permissions */
    RV_MMU_S,     /* translated, S-mode permissions, SUM = 0 */
    RV_MMU_S_SUM, /* translated, S-mode permissions, SUM = 1 */
    RV_MMU_COUNT
};

/* Decoded-instruction cache: decoding is a pure function of the instruction bits, so the cache
 * is keyed by those bits alone and never needs invalidation. */
#define RV_DCACHE_BITS 12
#define RV_DCACHE_SIZE (1u << RV_DCACHE_BITS)

#define RV_TLB_BITS 13
#define RV_TLB_SIZE (1u << RV_TLB_BITS)
/* Superpage sizes the TLB tracks separately: 2 MiB, 1 GiB, 512 GiB, 256 TiB (mmu.c). */
#define RV_TLB_SUPER_KINDS 4
#define RV_TLB_INVALID UINT64_MAX
#define RV_TLB_IO 1ull /* tag bit: page translates to I/O; `paddr` holds the physical page */
#define RV_TLB_CODE 2ull /* tag bit (WRITE entries): direct RAM page holding translated code;
                             stores take the slow path, which tells the translator */

/* Trap causes counted one by one (larger ones, all custom, are counted in the last slot). */
#define RV_STAT_CAUSES 24

/* What translated code reads of a TLB entry (16 bytes: four to a host cache line) ... */
struct rv_tlb_entry {
    uint64_t tag;     /* virtual page address; | RV_TLB_IO for I/O pages, | RV_TLB_CODE (see
                         there); RV_TLB_INVALID if empty */
    uintptr_t addend; /* direct pages: host address = guest virtual address + addend */
};

/* ... and the rest, in a parallel array (rv_tlb_meta() in mmu.h). */
struct rv_tlb_meta {
    uint64_t paddr;   /* guest-physical page address */
    uint16_t asid;    /* ASID of the translation (ignored if global) */
    bool global;      /* PTE.G was set */
};

enum rv_exit {
    RV_EXIT_BUDGET, /* the instruction budget was spent */
    RV_EXIT_ECALL,  /* ecall from S/U that targets M while the monitor is M: an SBI call.
                       pc already points past the ecall; the monitor writes a0/a1. */
    RV_EXIT_MTRAP,  /* any other trap that targets M while the monitor is M; exit_cause/tval */
    RV_EXIT_WFI,    /* WFI with no interrupt pending; pc points past the WFI */
    RV_EXIT_STOP,   /* rv_hart_request_stop() was called (device halt, pause, debugger) */
    RV_EXIT_DEBUG,  /* a debugger event: breakpoint, watchpoint or the end of a single step
                       (only rv_debug_run(), src/debug/debug.h, returns it) */
};

struct rv_uwin;

struct rv_hart {
    /* --- hot state --- */
    uint64_t x[32];           /* integer registers; x[0] is kept 0 */
    uint64_t f[32];           /* FP registers; singles are NaN-boxed */
    uint64_t pc;
    unsigned priv;            /* RV_PRIV_U/S/M */
    unsigned fetch_mmu_idx;   /* enum rv_mmu_idx for instruction fetch */
    unsigned data_mmu_idx;    /* enum rv_mmu_idx for loads/stores (MPRV applied) */
    _Atomic uint32_t events;  /* nonzero: leave the fast loop and look at interrupts/stop */
    struct rv_bus *bus;
    uint8_t *uwin;            /* host-MMU window of the data regime (cpu/uwin.h) */
    uint64_t uwin_limit;      /* RV_UWIN_SIZE: addresses at or above go to the slow path */
    struct rv_uwin *uwin_state; /* this hart's window, or NULL (rv_uwin_attach) */
    struct rv_tlb_entry tlb[RV_MMU_COUNT][RV_ACCESS_COUNT][RV_TLB_SIZE];
    struct rv_insn dcache[RV_DCACHE_SIZE]; /* see RV_DCACHE_BITS */

    /* --- floating point --- */
    uint32_t fflags;          /* accrued exceptions NV DZ OF UF NX */
    uint32_t frm;             /* dynamic rounding mode */

    /* --- machine-level CSRs --- */
    uint64_t mhartid;
    uint64_t mstatus;         /* holds sstatus too; SD computed on read */
    uint64_t misa;
    uint64_t medeleg, mideleg;
    uint64_t mie;
    uint64_t mip;             /* software-writable bits (SSIP, STIP w/o Sstc, SEIP, ...) */
    uint64_t mtvec, mscratch, mepc, mcause, mtval;
    uint64_t mcounteren, menvcfg, mcountinhibit;
    uint64_t mcycle_base, minstret_base; /* counter = instret - base after a write */
    uint8_t pmpcfg[64];       /* PMP CSRs accept writes; rvisor grants all accesses */
    uint64_t pmpaddr[64];

    /* --- supervisor-level CSRs --- */
    uint64_t stvec, sscratch, sepc, scause, stval;
    uint64_t scounteren, senvcfg, satp, stimecmp;

    /* --- external world --- */
    _Atomic uint64_t irq_lines; /* MEIP/SEIP/MSIP/MTIP/SSIP driven by devices */
    _Atomic uint64_t mtimecmp;  /* ACLINT MTIMER compare (drives MTIP; with monitor_is_m it is
                                   the SBI timer and drives STIP, as OpenSBI forwards MTI) */
    _Atomic uint64_t mip_post;  /* software mip bits set by other threads (IPIs), merged at the
                                   next instruction boundary */
    _Atomic uint32_t tlb_flush_req; /* remote SFENCE.VMA/FENCE.I requested (SBI RFENCE) */
    _Atomic uint32_t tlb_flush_done;
    _Atomic uint64_t tlb_flush_lo;  /* the addresses the pending requests name: [lo, hi], */
    _Atomic uint64_t tlb_flush_hi;  /* empty (lo = UINT64_MAX, hi = 0) for FENCE.I alone */
    uint64_t (*time_read)(void *opaque); /* mtime; NULL: time follows instret */
    void *time_opaque;
    bool monitor_is_m;          /* rvisor is the M-mode firmware (see file comment) */
    uint16_t satp_modes;        /* bit m set: satp.MODE m is implemented (rv_hart_satp_modes();
                                   rv_hart_reset() implements Bare, Sv39, Sv48 and Sv57) */

    /* --- execution state --- */
    uint64_t instret;           /* instructions retired since reset */
    uint64_t resv_addr;         /* LR/SC reservation (guest-physical), valid if resv_valid */
    uint64_t resv_value;
    bool resv_valid;
    bool wfi;                   /* stopped in WFI (for the machine's bookkeeping) */
    _Atomic bool stop_request;
    uint64_t exit_cause;        /* for RV_EXIT_MTRAP: mcause value */
    uint64_t exit_tval;         /* for RV_EXIT_MTRAP: mtval value */
    uint64_t exit_epc;          /* for RV_EXIT_MTRAP: pc of the trapping instruction */
    uint64_t fault_va;          /* address of the failing portion of the last faulting access */

    /* --- TLB bookkeeping (mmu.c): lets rv_tlb_flush() by address find the 4 KiB pieces of a
     * cached superpage without scanning on every fence --- */
    uint64_t tlb_super_lo[RV_TLB_SUPER_KINDS]; /* per superpage size (mmu.c, super_kind): */
    uint64_t tlb_super_hi[RV_TLB_SUPER_KINDS]; /* the virtual range [lo, hi] holding pieces of
                                                  pages of that size; empty when lo > hi */
    uint32_t tlb_clean;                  /* bit m * RV_ACCESS_COUNT + a: tlb[m][a] holds no
                                            entry (whole-TLB flushes skip it); 0 = unknown */
    /* bit s of tlb_wfilled[m]: slot s of tlb[m][RV_ACCESS_WRITE] was filled since the last
     * whole flush (it may have been invalidated since): the translator looks for a page's
     * write entries there only (jit.c) */
    uint64_t tlb_wfilled[RV_MMU_COUNT][RV_TLB_SIZE / 64];
    uint8_t tlb_page_shift[RV_MMU_COUNT][RV_ACCESS_COUNT][RV_TLB_SIZE]; /* log2 of the size of
                                            the page each TLB entry is a piece of (12: 4 KiB) */
    struct rv_tlb_meta tlb_meta[RV_MMU_COUNT][RV_ACCESS_COUNT][RV_TLB_SIZE]; /* of tlb[][][] */

    /* --- statistics: written by the hart's thread only, read by others with relaxed atomic
     * loads (a whole value, possibly one slice old); cleared by rv_hart_reset() --- */
    uint64_t stat_exc[RV_STAT_CAUSES]; /* exceptions taken (delivered or exits), by cause */
    uint64_t stat_irq[RV_STAT_CAUSES]; /* interrupts taken, by cause */
    uint64_t stat_tlb_misses;          /* TLB fills: page walks on behalf of the TLB */
};

/* events bits */
#define RV_EVENT_IRQ  1u /* interrupt state may have changed */
#define RV_EVENT_STOP 2u /* stop requested */
#define RV_EVENT_JIT  4u /* the translator has work to do (code invalidated, src/jit) */

/* The ISA string matching misa and the implemented extensions, as the device tree's
 * riscv,isa property spells it; rv_hart_isa_extensions() lists them one by one for
 * riscv,isa-extensions (NULL-terminated). */
const char *rv_hart_isa_string(void);
const char *const *rv_hart_isa_extensions(void);

/* The satp_modes of a hart whose largest virtual-memory scheme is `max_mode` (SATP_MODE_SV39,
 * _SV48 or _SV57): Bare and every scheme up to it, as the privileged spec requires ("Sv48"
 * and "Sv57" sections: an implementation of Sv48 also implements Sv39, one of Sv57 Sv48).
 * Returns 0 for any other `max_mode`. */
uint16_t rv_hart_satp_modes(unsigned max_mode);

/* Whether satp.MODE `mode` is implemented by the hart. */
static inline bool rv_hart_satp_mode_ok(const struct rv_hart *h, uint64_t mode)
{
    return mode < 16 && ((h->satp_modes >> mode) & 1);
}

/* Puts the hart in its reset state: M-mode at `pc`, all CSRs at their reset values. */
void rv_hart_reset(struct rv_hart *h, uint64_t hartid, struct rv_bus *bus, uint64_t pc);

/* Runs up to `budget` instructions. See enum rv_exit. */
enum rv_exit rv_hart_run(struct rv_hart *h, uint64_t budget);

/* Raises or lowers device interrupt lines (MIP_* bits). Safe from any thread. */
void rv_hart_set_irq(struct rv_hart *h, uint64_t mask, bool level);

/* Sets software-writable mip bits (e.g. SSIP for an IPI) from another thread. */
void rv_hart_post_mip(struct rv_hart *h, uint64_t bits);

/* Asks the hart to flush its TLB at its next instruction boundary; returns the request number
 * to compare with tlb_flush_done. Safe from any thread. */
uint32_t rv_hart_request_flush(struct rv_hart *h);
/* The same for the translations of virtual addresses [lo, hi] only (all ASIDs); lo > hi:
 * none (a remote FENCE.I, which the translator sees through the request number). */
uint32_t rv_hart_request_flush_range(struct rv_hart *h, uint64_t lo, uint64_t hi);
/* Performs a pending flush request now (the hart's own thread, or while it is stopped). */
void rv_hart_do_flush(struct rv_hart *h);

/* Makes rv_hart_run() return RV_EXIT_STOP soon. Safe from any thread. */
void rv_hart_request_stop(struct rv_hart *h);

/* The current value of mtime as seen by this hart. */
uint64_t rv_hart_time(struct rv_hart *h);

/* Value of mip as software reads it (software bits | device lines | timers). */
uint64_t rv_hart_mip(struct rv_hart *h);

/* Highest-priority pending and enabled interrupt (priv spec 3.1.9), or -1. */
int rv_hart_pending_irq(struct rv_hart *h);

/* Takes a trap: exception `cause` (or interrupt if `is_irq`) with trap value `tval`, taken at
 * instruction address `epc`. Handles delegation and the monitor exit. Returns true if the trap
 * became an exit (monitor_is_m and the target is M-mode). */
bool rv_hart_trap(struct rv_hart *h, uint64_t cause, bool is_irq, uint64_t tval, uint64_t epc);

/* Recomputes fetch/data mmu_idx after priv, mstatus or satp changed. */
void rv_hart_update_mmu_idx(struct rv_hart *h);

struct rv_state_writer;
struct rv_state_reader;
/* Serializes the architectural state (registers, CSRs, counters, timers; not the TLB). */
int rv_hart_save(const struct rv_hart *h, struct rv_state_writer *w);
/* Restores state saved by rv_hart_save(); validates it and leaves the hart unchanged on error.
 * The bus and time source of `h` are kept. */
int rv_hart_load(struct rv_hart *h, struct rv_state_reader *r);

/* CSR access from an instruction at the current privilege. Return RV_EXC_NONE or
 * EXC_ILLEGAL_INSN. `write_mask` semantics are done by the caller; these read/write whole values. */
int rv_csr_read(struct rv_hart *h, unsigned csr, uint64_t *value);
int rv_csr_write(struct rv_hart *h, unsigned csr, uint64_t value);

#endif
