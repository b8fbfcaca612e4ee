/* Serialization of a hart's architectural state, for snapshots and migration. The TLB and
 * LR/SC reservation are not state a guest may rely on across a pause: they are dropped. */
#include <errno.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/serial.h"
#include "cpu/csr.h"
#include "cpu/hart.h"
#include "cpu/mmu.h"

#define HART_STATE_VERSION 1

int rv_hart_save(const struct rv_hart *h, struct rv_state_writer *w)
{
    rv_put_u32(w, HART_STATE_VERSION);
    for (unsigned i = 0; i < 32; i++)
        rv_put_u64(w, h->x[i]);
    for (unsigned i = 0; i < 32; i++)
        rv_put_u64(w, h->f[i]);
    const uint64_t scalars[] = {
        h->pc, h->priv, h->fflags, h->frm, h->mhartid, h->mstatus, h->medeleg, h->mideleg,
        h->mie, h->mip, h->mtvec, h->mscratch, h->mepc, h->mcause, h->mtval, h->mcounteren,
        h->menvcfg, h->mcountinhibit, h->mcycle_base, h->minstret_base, h->stvec, h->sscratch,
        h->sepc, h->scause, h->stval, h->scounteren, h->senvcfg, h->satp, h->stimecmp,
        atomic_load(&((struct rv_hart *)h)->mtimecmp), h->instret, h->wfi,
        atomic_load_explicit(&((struct rv_hart *)h)->irq_lines, memory_order_acquire),
    };
    for (unsigned i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
        rv_put_u64(w, scalars[i]);
    rv_put_bytes(w, h->pmpcfg, sizeof(h->pmpcfg));
    for (unsigned i = 0; i < 64; i++)
        rv_put_u64(w, h->pmpaddr[i]);
    return w->error;
}

static int hart_load_into(struct rv_hart *np, struct rv_state_reader *r);

int rv_hart_load(struct rv_hart *h, struct rv_state_reader *r)
{
    uint32_t version = rv_get_u32(r);
    if (!r->error && version != HART_STATE_VERSION)
        return rv_error_set(-EINVAL, "hart state: unsupported version %u", version);
    /* Fill a copy and commit only if everything is valid. The hart is large (TLB, decode
     * cache), so the copy lives on the heap. */
    struct rv_hart *copy = malloc(sizeof(*copy));
    if (!copy)
        return rv_error_set(-ENOMEM, "hart state: out of memory");
    *copy = *h;
    int rc = hart_load_into(copy, r);
    if (rc == 0)
        *h = *copy;
    free(copy);
    if (rc == 0) {
        rv_tlb_flush_all(h);
        rv_hart_update_mmu_idx(h);
    }
    return rc;
}

static int hart_load_into(struct rv_hart *np, struct rv_state_reader *r)
{
#define n (*np)
    for (unsigned i = 0; i < 32; i++)
        n.x[i] = rv_get_u64(r);
    for (unsigned i = 0; i < 32; i++)
        n.f[i] = rv_get_u64(r);
    n.pc = rv_get_u64(r);
    uint64_t priv = rv_get_u64(r);
    uint64_t fflags = rv_get_u64(r), frm = rv_get_u64(r);
    n.mhartid = rv_get_u64(r);
    n.mstatus = rv_get_u64(r);
    n.medeleg = rv_get_u64(r);
    n.mideleg = rv_get_u64(r);
    n.mie = rv_get_u64(r);
    n.mip = rv_get_u64(r);
    n.mtvec = rv_get_u64(r);
    n.mscratch = rv_get_u64(r);
    n.mepc = rv_get_u64(r);
    n.mcause = rv_get_u64(r);
    n.mtval = rv_get_u64(r);
    n.mcounteren = rv_get_u64(r);
    n.menvcfg = rv_get_u64(r);
    n.mcountinhibit = rv_get_u64(r);
    n.mcycle_base = rv_get_u64(r);
    n.minstret_base = rv_get_u64(r);
    n.stvec = rv_get_u64(r);
    n.sscratch = rv_get_u64(r);
    n.sepc = rv_get_u64(r);
    n.scause = rv_get_u64(r);
    n.stval = rv_get_u64(r);
    n.scounteren = rv_get_u64(r);
    n.senvcfg = rv_get_u64(r);
    n.satp = rv_get_u64(r);
    n.stimecmp = rv_get_u64(r);
    uint64_t mtimecmp = rv_get_u64(r);
    n.instret = rv_get_u64(r);
    n.wfi = rv_get_u64(r) != 0;
    uint64_t lines = rv_get_u64(r);
    rv_get_bytes(r, n.pmpcfg, sizeof(n.pmpcfg));
    for (unsigned i = 0; i < 64; i++)
        n.pmpaddr[i] = rv_get_u64(r);
    if (r->error)
        return rv_error_set(-EINVAL, "hart state: truncated");
    if ((priv != RV_PRIV_U && priv != RV_PRIV_S && priv != RV_PRIV_M) || fflags > 0x1f ||
        frm > 7 || ((n.mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2 || n.x[0] != 0)
        return rv_error_set(-EINVAL, "hart state: invalid register values");
    /* satp can only hold a mode this hart implements (its satp_modes, kept from the machine
     * being restored into): the page walker relies on it. */
    uint64_t satp_mode = n.satp >> SATP_MODE_SHIFT;
    if (!rv_hart_satp_mode_ok(&n, satp_mode))
        return rv_error_set(-EINVAL, "hart state: satp mode %u is not implemented by this "
                                     "machine (see --mmu)", (unsigned)satp_mode);
    n.priv = (unsigned)priv;
    n.fflags = (uint32_t)fflags;
    n.frm = (uint32_t)frm;
    n.resv_valid = false;
    atomic_store_explicit(&n.irq_lines, lines, memory_order_release);
    atomic_store_explicit(&n.mtimecmp, mtimecmp, memory_order_release);
    atomic_store_explicit(&n.events, RV_EVENT_IRQ, memory_order_release);
    atomic_store_explicit(&n.stop_request, false, memory_order_release);
    return 0;
#undef n
}
