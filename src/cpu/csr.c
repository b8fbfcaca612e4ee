/* CSR reads and writes with their privilege rules and WARL behaviour (privileged spec 2.1,
 * 3.1, 10.1; Zicntr/Zihpm; Sstc; Smstateen is not implemented). */
#include "cpu/csr.h"

#include "cpu/hart.h"
#include "cpu/mmu.h"

#define MSTATUS_WRITABLE                                                                       \
    (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |     \
     MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW |        \
     MSTATUS_TSR)
#define SSTATUS_VISIBLE                                                                        \
    (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | MSTATUS_VS | MSTATUS_FS |        \
     MSTATUS_XS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD)
#define SSTATUS_WRITABLE (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR)

/* Exceptions that may be delegated: all but ecall from M (11) and the reserved 10, 14. */
#define MEDELEG_WRITABLE 0xb3ffull
#define MIDELEG_WRITABLE (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define MIE_WRITABLE (MIP_SSIP | MIP_MSIP | MIP_STIP | MIP_MTIP | MIP_SEIP | MIP_MEIP)
#define MIP_WRITABLE (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define MENVCFG_WRITABLE                                                                       \
    (ENVCFG_FIOM | ENVCFG_CBIE | ENVCFG_CBCFE | ENVCFG_CBZE | ENVCFG_ADUE | ENVCFG_PBMTE |      \
     ENVCFG_STCE)
#define SENVCFG_WRITABLE (ENVCFG_FIOM | ENVCFG_CBIE | ENVCFG_CBCFE | ENVCFG_CBZE)

static uint64_t mstatus_read(const struct rv_hart *h)
{
    uint64_t s = h->mstatus;
    if ((s & MSTATUS_FS) == MSTATUS_FS || (s & MSTATUS_XS) == MSTATUS_XS)
        s |= MSTATUS_SD;
    return s;
}

static uint64_t envcfg_fix_cbie(uint64_t old, uint64_t v)
{
    /* CBIE = 10b is reserved (priv spec 3.1.18): keep the old value. */
    if ((v & ENVCFG_CBIE) == (2ull << 4))
        v = (v & ~ENVCFG_CBIE) | (old & ENVCFG_CBIE);
    return v;
}

/* Counter access from S/U (priv spec 3.1.11, 4.1.5): bit i of mcounteren (and of scounteren
 * for U-mode) must be set to read counter i. */
static bool counter_allowed(const struct rv_hart *h, unsigned index)
{
    if (h->priv == RV_PRIV_M)
        return true;
    if (!((h->mcounteren >> index) & 1))
        return false;
    if (h->priv == RV_PRIV_U && !((h->scounteren >> index) & 1))
        return false;
    return true;
}

/* mcountinhibit bits for the two counters that count (priv spec 3.1.12). */
#define INHIBIT_CY 1ull
#define INHIBIT_IR 4ull

/* mcycle counts retired instructions (one cycle per instruction). A running counter is
 * instret - base; an inhibited one holds its frozen value in base. */
static uint64_t counter_value(const struct rv_hart *h, bool cycle)
{
    uint64_t base = cycle ? h->mcycle_base : h->minstret_base;
    if (h->mcountinhibit & (cycle ? INHIBIT_CY : INHIBIT_IR))
        return base;
    return h->instret - base;
}

static void counter_write(struct rv_hart *h, bool cycle, uint64_t v)
{
    uint64_t *base = cycle ? &h->mcycle_base : &h->minstret_base;
    if (h->mcountinhibit & (cycle ? INHIBIT_CY : INHIBIT_IR))
        *base = v;
    else /* the writing instruction's own retirement is not counted: it retires after this */
        *base = h->instret + 1 - v;
}

static void countinhibit_write(struct rv_hart *h, uint64_t v)
{
    uint64_t changed = (h->mcountinhibit ^ v) & (INHIBIT_CY | INHIBIT_IR);
    /* Switching between running and frozen converts base in place: the value is kept. */
    if (changed & INHIBIT_CY)
        h->mcycle_base = h->instret - h->mcycle_base;
    if (changed & INHIBIT_IR)
        h->minstret_base = h->instret - h->minstret_base;
    h->mcountinhibit = v;
}

static bool fp_enabled(const struct rv_hart *h)
{
    return (h->mstatus & MSTATUS_FS) != 0;
}

/* Sstc: M-mode may always access stimecmp; S-mode needs menvcfg.STCE and mcounteren.TM. */
static bool stimecmp_allowed(const struct rv_hart *h)
{
    if (h->priv == RV_PRIV_M)
        return true;
    return h->priv == RV_PRIV_S && (h->menvcfg & ENVCFG_STCE) && (h->mcounteren & 2);
}

int rv_csr_read(struct rv_hart *h, unsigned csr, uint64_t *value)
{
    if (((csr >> 8) & 3) > h->priv)
        return EXC_ILLEGAL_INSN;
    uint64_t v;
    switch (csr) {
    case CSR_FFLAGS: if (!fp_enabled(h)) return EXC_ILLEGAL_INSN; v = h->fflags; break;
    case CSR_FRM: if (!fp_enabled(h)) return EXC_ILLEGAL_INSN; v = h->frm; break;
    case CSR_FCSR: if (!fp_enabled(h)) return EXC_ILLEGAL_INSN; v = (h->frm << 5) | h->fflags; break;
    case CSR_CYCLE: if (!counter_allowed(h, 0)) return EXC_ILLEGAL_INSN; v = counter_value(h, true); break;
    case CSR_TIME: if (!counter_allowed(h, 1)) return EXC_ILLEGAL_INSN; v = rv_hart_time(h); break;
    case CSR_INSTRET: if (!counter_allowed(h, 2)) return EXC_ILLEGAL_INSN; v = counter_value(h, false); break;

    case CSR_SSTATUS: v = mstatus_read(h) & SSTATUS_VISIBLE; break;
    case CSR_SIE: v = h->mie & h->mideleg; break;
    case CSR_STVEC: v = h->stvec; break;
    case CSR_SCOUNTEREN: v = h->scounteren; break;
    case CSR_SENVCFG: v = h->senvcfg; break;
    case CSR_SSCRATCH: v = h->sscratch; break;
    case CSR_SEPC: v = h->sepc; break;
    case CSR_SCAUSE: v = h->scause; break;
    case CSR_STVAL: v = h->stval; break;
    case CSR_SIP: v = rv_hart_mip(h) & h->mideleg; break;
    case CSR_STIMECMP: if (!stimecmp_allowed(h)) return EXC_ILLEGAL_INSN; v = h->stimecmp; break;
    case CSR_SATP:
        if (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TVM))
            return EXC_ILLEGAL_INSN;
        v = h->satp;
        break;

    case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID: case CSR_MCONFIGPTR: v = 0; break;
    case CSR_MHARTID: v = h->mhartid; break;
    case CSR_MSTATUS: v = mstatus_read(h); break;
    case CSR_MISA: v = h->misa; break;
    case CSR_MEDELEG: v = h->medeleg; break;
    case CSR_MIDELEG: v = h->mideleg; break;
    case CSR_MIE: v = h->mie; break;
    case CSR_MTVEC: v = h->mtvec; break;
    case CSR_MCOUNTEREN: v = h->mcounteren; break;
    case CSR_MENVCFG: v = h->menvcfg; break;
    case CSR_MCOUNTINHIBIT: v = h->mcountinhibit; break;
    case CSR_MSCRATCH: v = h->mscratch; break;
    case CSR_MEPC: v = h->mepc; break;
    case CSR_MCAUSE: v = h->mcause; break;
    case CSR_MTVAL: v = h->mtval; break;
    case CSR_MIP: v = rv_hart_mip(h); break;
    case CSR_MCYCLE: v = counter_value(h, true); break;
    case CSR_MINSTRET: v = counter_value(h, false); break;
    default:
        if (csr >= CSR_HPMCOUNTER3 && csr <= CSR_HPMCOUNTER31) {
            if (!counter_allowed(h, csr - CSR_CYCLE))
                return EXC_ILLEGAL_INSN;
            v = 0; /* Zihpm: no events are counted */
        } else if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
                   (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31)) {
            v = 0;
        } else if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
            if (csr & 1) /* odd pmpcfg CSRs do not exist on RV64 */
                return EXC_ILLEGAL_INSN;
            unsigned base = (csr - CSR_PMPCFG0) * 4;
            v = 0;
            for (unsigned i = 0; i < 8; i++)
                v |= (uint64_t)h->pmpcfg[base + i] << (8 * i);
        } else if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
            v = h->pmpaddr[csr - CSR_PMPADDR0];
        } else {
            return EXC_ILLEGAL_INSN;
        }
    }
    *value = v;
    return RV_EXC_NONE;
}

static void mark_fs_dirty(struct rv_hart *h)
{
    h->mstatus |= MSTATUS_FS;
}

static void mstatus_write(struct rv_hart *h, uint64_t v, uint64_t writable)
{
    uint64_t old = h->mstatus;
    uint64_t n = (old & ~writable) | (v & writable);
    /* MPP is WARL: 2 (reserved H-level) is not a legal value; keep the old one. */
    if (((n & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2)
        n = (n & ~MSTATUS_MPP) | (old & MSTATUS_MPP);
    h->mstatus = n;
    if ((old ^ n) & MSTATUS_MXR)
        rv_tlb_flush_all(h); /* MXR is not part of the TLB regime */
    rv_hart_update_mmu_idx(h);
    /* Only an enable going from 0 to 1 can make a pending interrupt deliverable. */
    if (n & ~old & (MSTATUS_MIE | MSTATUS_SIE))
        atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
}

static int pmp_write(struct rv_hart *h, unsigned csr, uint64_t v)
{
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
        if (csr & 1)
            return EXC_ILLEGAL_INSN;
        unsigned base = (csr - CSR_PMPCFG0) * 4;
        for (unsigned i = 0; i < 8; i++) {
            if (h->pmpcfg[base + i] & 0x80) /* locked entries ignore writes */
                continue;
            uint8_t cfg = (uint8_t)(v >> (8 * i));
            /* R=0, W=1 is reserved: WARL keeps it from being written (priv spec 3.7.1). */
            if ((cfg & 3) == 2)
                cfg &= ~3u;
            h->pmpcfg[base + i] = cfg & 0x9f;
        }
        return RV_EXC_NONE;
    }
    unsigned i = csr - CSR_PMPADDR0;
    if (h->pmpcfg[i] & 0x80)
        return RV_EXC_NONE;
    h->pmpaddr[i] = v & ((1ull << 54) - 1);
    return RV_EXC_NONE;
}

int rv_csr_write(struct rv_hart *h, unsigned csr, uint64_t v)
{
    if (((csr >> 8) & 3) > h->priv || (csr >> 10) == 3)
        return EXC_ILLEGAL_INSN;
    switch (csr) {
    case CSR_FFLAGS:
        if (!fp_enabled(h)) return EXC_ILLEGAL_INSN;
        h->fflags = v & 0x1f;
        mark_fs_dirty(h);
        break;
    case CSR_FRM:
        if (!fp_enabled(h)) return EXC_ILLEGAL_INSN;
        h->frm = v & 7;
        mark_fs_dirty(h);
        break;
    case CSR_FCSR:
        if (!fp_enabled(h)) return EXC_ILLEGAL_INSN;
        h->fflags = v & 0x1f;
        h->frm = (v >> 5) & 7;
        mark_fs_dirty(h);
        break;

    case CSR_SSTATUS: mstatus_write(h, v, SSTATUS_WRITABLE); break;
    case CSR_SIE:
        h->mie = (h->mie & ~h->mideleg) | (v & h->mideleg & MIE_WRITABLE);
        atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
        break;
    case CSR_STVEC: h->stvec = (v & 1) ? v & ~2ull : v & ~3ull; break;
    case CSR_SCOUNTEREN: h->scounteren = v & 0xffffffffull; break;
    case CSR_SENVCFG: h->senvcfg = envcfg_fix_cbie(h->senvcfg, v & SENVCFG_WRITABLE); break;
    case CSR_SSCRATCH: h->sscratch = v; break;
    case CSR_SEPC: h->sepc = v & ~1ull; break;
    case CSR_SCAUSE: h->scause = v; break;
    case CSR_STVAL: h->stval = v; break;
    case CSR_SIP:
        /* Only SSIP is writable through sip, and only when delegated. */
        h->mip = (h->mip & ~(h->mideleg & MIP_SSIP)) | (v & h->mideleg & MIP_SSIP);
        atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
        break;
    case CSR_STIMECMP:
        if (!stimecmp_allowed(h)) return EXC_ILLEGAL_INSN;
        h->stimecmp = v;
        atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
        break;
    case CSR_SATP: {
        if (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TVM))
            return EXC_ILLEGAL_INSN;
        uint64_t mode = v >> SATP_MODE_SHIFT;
        /* "If satp is written with an unsupported MODE, the entire write has no effect; no
         * fields in satp are modified" (priv spec 10.1.11, "Supervisor Address Translation and
         * Protection (satp) Register"): what the hart implements is satp_modes (--mmu), so
         * software probes it by writing a mode and reading satp back. */
        if (!rv_hart_satp_mode_ok(h, mode))
            break;
        if (mode == SATP_MODE_BARE)
            v = 0;
        if (v != h->satp) {
            h->satp = v;
            rv_tlb_flush_all(h);
            rv_hart_update_mmu_idx(h);
        }
        break;
    }

    case CSR_MSTATUS: mstatus_write(h, v, MSTATUS_WRITABLE); break;
    case CSR_MISA: break; /* WARL: the extensions cannot be switched off */
    case CSR_MEDELEG: h->medeleg = v & MEDELEG_WRITABLE; break;
    case CSR_MIDELEG:
        h->mideleg = v & MIDELEG_WRITABLE;
        atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
        break;
    case CSR_MIE:
        h->mie = v & MIE_WRITABLE;
        atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
        break;
    case CSR_MTVEC: h->mtvec = (v & 1) ? v & ~2ull : v & ~3ull; break;
    case CSR_MCOUNTEREN: h->mcounteren = v & 0xffffffffull; break;
    case CSR_MENVCFG: h->menvcfg = envcfg_fix_cbie(h->menvcfg, v & MENVCFG_WRITABLE);
        atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
        break;
    case CSR_MCOUNTINHIBIT: countinhibit_write(h, v & 0xfffffffdull); break;
    case CSR_MSCRATCH: h->mscratch = v; break;
    case CSR_MEPC: h->mepc = v & ~1ull; break;
    case CSR_MCAUSE: h->mcause = v; break;
    case CSR_MTVAL: h->mtval = v; break;
    case CSR_MIP: {
        uint64_t writable = MIP_WRITABLE;
        if (h->menvcfg & ENVCFG_STCE)
            writable &= ~MIP_STIP;
        h->mip = (h->mip & ~writable) | (v & writable);
        atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
        break;
    }
    case CSR_MCYCLE: counter_write(h, true, v); break;
    case CSR_MINSTRET: counter_write(h, false, v); break;
    default:
        if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
            (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31))
            break; /* Zihpm: read-only zero counters and events */
        if ((csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) ||
            (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63))
            return pmp_write(h, csr, v);
        return EXC_ILLEGAL_INSN;
    }
    return RV_EXC_NONE;
}
