/* Hart reset, traps and interrupts (privileged spec 3.1.6-3.1.9, 3.3, 10.1). */
#include "cpu/hart.h"
#include "cpu/uwin.h"

#include <string.h>

#include "cpu/csr.h"
#include "cpu/mmu.h"

/* misa: RV64 (MXL=2) with A, B, C, D, F, I, M, S, U. */
#define MISA_VALUE                                                                          \
    ((2ull << 62) | (1u << ('A' - 'A')) | (1u << ('B' - 'A')) | (1u << ('C' - 'A')) |       \
     (1u << ('D' - 'A')) | (1u << ('F' - 'A')) | (1u << ('I' - 'A')) | (1u << ('M' - 'A')) | \
     (1u << ('S' - 'A')) | (1u << ('U' - 'A')))

static const char *const isa_extensions[] = {
    "i", "m", "a", "f", "d", "c", "b", "zicsr", "zifencei", "zicntr", "zihpm", "zihintpause",
    "zba", "zbb", "zbc", "zbs", "zicond", "zicbom", "zicboz", "zicbop", "zawrs", "svpbmt",
    "svnapot", "svadu", "svvptc", "sstc", NULL,
};

const char *rv_hart_isa_string(void)
{
    return "rv64imafdcb_zicsr_zifencei_zicntr_zihpm_zihintpause_zba_zbb_zbc_zbs_zicond_zicbom_"
           "zicboz_zicbop_zawrs_svpbmt_svnapot_svadu_svvptc_sstc";
}

const char *const *rv_hart_isa_extensions(void)
{
    return isa_extensions;
}

uint16_t rv_hart_satp_modes(unsigned max_mode)
{
    if (max_mode < SATP_MODE_SV39 || max_mode > SATP_MODE_SV57)
        return 0;
    uint16_t modes = 1u << SATP_MODE_BARE;
    for (unsigned m = SATP_MODE_SV39; m <= max_mode; m++)
        modes |= (uint16_t)(1u << m);
    return modes;
}

void rv_hart_reset(struct rv_hart *h, uint64_t hartid, struct rv_bus *bus, uint64_t pc)
{
    memset(h, 0, sizeof(*h));
    h->bus = bus;
    h->pc = pc;
    h->priv = RV_PRIV_M;
    h->mhartid = hartid;
    h->misa = MISA_VALUE;
    /* UXL = SXL = 64 bits; everything else 0 (MIE = MPRV = 0 at reset, priv spec 3.4). */
    h->mstatus = (2ull << 32) | (2ull << 34);
    atomic_store(&h->mtimecmp, UINT64_MAX);
    atomic_store(&h->tlb_flush_lo, UINT64_MAX); /* no range pending */
    h->stimecmp = UINT64_MAX;
    h->satp_modes = rv_hart_satp_modes(SATP_MODE_SV57); /* the machine may narrow it */
    rv_tlb_init(h);
    rv_hart_update_mmu_idx(h);
    struct rv_insn zero;
    rv_decode(0, &zero);
    for (unsigned i = 0; i < RV_DCACHE_SIZE; i++)
        h->dcache[i] = zero;
}

uint64_t rv_hart_time(struct rv_hart *h)
{
    return h->time_read ? h->time_read(h->time_opaque) : h->instret;
}

void rv_hart_update_mmu_idx(struct rv_hart *h)
{
    bool translate = (h->satp >> SATP_MODE_SHIFT) != SATP_MODE_BARE;
    unsigned data_priv = h->priv;
    if (h->priv == RV_PRIV_M && (h->mstatus & MSTATUS_MPRV))
        data_priv = (h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
    h->fetch_mmu_idx = !translate || h->priv == RV_PRIV_M ? RV_MMU_PHYS
                       : h->priv == RV_PRIV_U           ? RV_MMU_U
                                                        : RV_MMU_S;
    if (!translate || data_priv == RV_PRIV_M)
        h->data_mmu_idx = RV_MMU_PHYS;
    else if (data_priv == RV_PRIV_U)
        h->data_mmu_idx = RV_MMU_U;
    else
        h->data_mmu_idx = (h->mstatus & MSTATUS_SUM) ? RV_MMU_S_SUM : RV_MMU_S;
    rv_uwin_select(h);
}

uint64_t rv_hart_mip(struct rv_hart *h)
{
    if (atomic_load_explicit(&h->mip_post, memory_order_relaxed))
        h->mip |= atomic_exchange_explicit(&h->mip_post, 0, memory_order_acq_rel);
    uint64_t mip = h->mip | atomic_load_explicit(&h->irq_lines, memory_order_acquire);
    uint64_t now = 0;
    bool have_now = false;
    uint64_t mtimecmp = atomic_load_explicit(&h->mtimecmp, memory_order_relaxed);
    if (mtimecmp != UINT64_MAX) {
        now = rv_hart_time(h);
        have_now = true;
        if (now >= mtimecmp)
            mip |= h->monitor_is_m ? MIP_STIP : MIP_MTIP;
    }
    /* Sstc: with menvcfg.STCE, STIP reflects stimecmp and is not software-writable. */
    if (h->menvcfg & ENVCFG_STCE) {
        mip &= ~MIP_STIP;
        if (!have_now)
            now = rv_hart_time(h);
        if (now >= h->stimecmp)
            mip |= MIP_STIP;
    }
    return mip;
}

/* Interrupt priority for M- and S-level interrupts (priv spec 3.1.9):
 * MEI, MSI, MTI, SEI, SSI, STI. */
static int highest_irq(uint64_t bits)
{
    static const int order[] = {IRQ_MEI, IRQ_MSI, IRQ_MTI, IRQ_SEI, IRQ_SSI, IRQ_STI};
    for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (bits & (1ull << order[i]))
            return order[i];
    return -1;
}

int rv_hart_pending_irq(struct rv_hart *h)
{
    uint64_t pending = rv_hart_mip(h) & h->mie;
    if (!pending)
        return -1;
    /* M-level interrupts are enabled in lower modes always, in M only with MIE. */
    bool m_on = h->priv < RV_PRIV_M || (h->mstatus & MSTATUS_MIE);
    bool s_on = h->priv < RV_PRIV_S || (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_SIE));
    uint64_t m_pending = pending & ~h->mideleg;
    uint64_t s_pending = pending & h->mideleg;
    if (m_on && m_pending)
        return highest_irq(m_pending);
    if (s_on && s_pending)
        return highest_irq(s_pending);
    return -1;
}

void rv_hart_set_irq(struct rv_hart *h, uint64_t mask, bool level)
{
    if (level)
        atomic_fetch_or_explicit(&h->irq_lines, mask, memory_order_release);
    else
        atomic_fetch_and_explicit(&h->irq_lines, ~mask, memory_order_release);
    atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_release);
}

void rv_hart_post_mip(struct rv_hart *h, uint64_t bits)
{
    atomic_fetch_or_explicit(&h->mip_post, bits, memory_order_release);
    atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_release);
}

/* A ranged remote flush of more pages than this flushes everything. */
#define FLUSH_RANGE_PAGES 64

uint32_t rv_hart_request_flush_range(struct rv_hart *h, uint64_t lo, uint64_t hi)
{
    if (lo <= hi) {
        /* widen the pending range (before the request number says there is one) */
        uint64_t cur = atomic_load_explicit(&h->tlb_flush_lo, memory_order_relaxed);
        while (lo < cur && !atomic_compare_exchange_weak(&h->tlb_flush_lo, &cur, lo)) {
        }
        cur = atomic_load_explicit(&h->tlb_flush_hi, memory_order_relaxed);
        while (hi > cur && !atomic_compare_exchange_weak(&h->tlb_flush_hi, &cur, hi)) {
        }
    }
    uint32_t req = atomic_fetch_add_explicit(&h->tlb_flush_req, 1, memory_order_acq_rel) + 1;
    atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_release);
    return req;
}

uint32_t rv_hart_request_flush(struct rv_hart *h)
{
    return rv_hart_request_flush_range(h, 0, UINT64_MAX);
}

void rv_hart_do_flush(struct rv_hart *h)
{
    uint32_t req = atomic_load_explicit(&h->tlb_flush_req, memory_order_acquire);
    if (req == atomic_load_explicit(&h->tlb_flush_done, memory_order_relaxed))
        return;
    /* Every request up to `req` widened the range before it was counted. A request racing
     * with the two exchanges may leave half of its range behind (lo above hi): its own number
     * is after `req`, and the next call flushes everything for it. */
    uint64_t lo = atomic_exchange(&h->tlb_flush_lo, UINT64_MAX);
    uint64_t hi = atomic_exchange(&h->tlb_flush_hi, 0);
    if (lo > hi) {
        if (lo != UINT64_MAX || hi != 0)
            rv_tlb_flush_all(h);
    } else if ((hi >> 12) - (lo >> 12) >= FLUSH_RANGE_PAGES) {
        rv_tlb_flush_all(h);
    } else {
        for (uint64_t va = lo & ~0xfffull;; va += 4096) {
            rv_tlb_flush(h, true, va, false, 0); /* every ASID: a superset of the request */
            if (va >= (hi & ~0xfffull))
                break;
        }
    }
    atomic_store_explicit(&h->tlb_flush_done, req, memory_order_release);
}

void rv_hart_request_stop(struct rv_hart *h)
{
    atomic_store_explicit(&h->stop_request, true, memory_order_release);
    atomic_fetch_or_explicit(&h->events, RV_EVENT_STOP, memory_order_release);
}

bool rv_hart_trap(struct rv_hart *h, uint64_t cause, bool is_irq, uint64_t tval, uint64_t epc)
{
    uint64_t deleg = is_irq ? h->mideleg : h->medeleg;
    uint64_t xcause = cause | (is_irq ? 1ull << 63 : 0);
    (is_irq ? h->stat_irq : h->stat_exc)[cause < RV_STAT_CAUSES ? cause : RV_STAT_CAUSES - 1]++;
    /* A reservation does not survive a trap (permitted by the A chapter, "LR/SC"). */
    h->resv_valid = false;
    if (h->priv <= RV_PRIV_S && ((deleg >> cause) & 1)) {
        h->scause = xcause;
        h->sepc = epc;
        h->stval = tval;
        uint64_t s = h->mstatus & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE);
        if (h->priv == RV_PRIV_S)
            s |= MSTATUS_SPP;
        if (h->mstatus & MSTATUS_SIE)
            s |= MSTATUS_SPIE;
        h->mstatus = s;
        h->priv = RV_PRIV_S;
        h->pc = (h->stvec & ~3ull) + ((is_irq && (h->stvec & 1)) ? 4 * cause : 0);
        rv_hart_update_mmu_idx(h);
        return false;
    }
    if (h->monitor_is_m) {
        h->exit_cause = xcause;
        h->exit_tval = tval;
        h->exit_epc = epc;
        return true;
    }
    h->mcause = xcause;
    h->mepc = epc;
    h->mtval = tval;
    uint64_t m = h->mstatus & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE);
    m |= (uint64_t)h->priv << MSTATUS_MPP_SHIFT;
    if (h->mstatus & MSTATUS_MIE)
        m |= MSTATUS_MPIE;
    h->mstatus = m;
    h->priv = RV_PRIV_M;
    h->pc = (h->mtvec & ~3ull) + ((is_irq && (h->mtvec & 1)) ? 4 * cause : 0);
    rv_hart_update_mmu_idx(h);
    return false;
}
