/* Breakpoints, watchpoints and single step on the interpreter (debug.h). */
#include "debug/debug.h"

#include <errno.h>

#include "cpu/decode.h"
#include "cpu/exec.h"
#include "cpu/mem.h"

int rv_debug_bp_insert(struct rv_debug_points *d, uint64_t addr)
{
    for (unsigned i = 0; i < d->nbp; i++)
        if (d->bp[i] == addr)
            return 0;
    if (d->nbp == RV_DEBUG_MAX_BP)
        return -ENOSPC;
    d->bp[d->nbp++] = addr;
    return 0;
}

int rv_debug_bp_remove(struct rv_debug_points *d, uint64_t addr)
{
    for (unsigned i = 0; i < d->nbp; i++) {
        if (d->bp[i] == addr) {
            d->bp[i] = d->bp[--d->nbp];
            return 0;
        }
    }
    return -ENOENT;
}

static int wp_find(const struct rv_debug_points *d, uint64_t addr, uint64_t len, unsigned kind)
{
    for (unsigned i = 0; i < d->nwp; i++)
        if (d->wp[i].addr == addr && d->wp[i].len == len && d->wp[i].kind == kind)
            return (int)i;
    return -1;
}

int rv_debug_wp_insert(struct rv_debug_points *d, uint64_t addr, uint64_t len, unsigned kind)
{
    if (len == 0 || len > 4096 || addr + len < addr || kind < 1 || kind > 3)
        return -EINVAL;
    if (wp_find(d, addr, len, kind) >= 0)
        return 0;
    if (d->nwp == RV_DEBUG_MAX_WP)
        return -ENOSPC;
    d->wp[d->nwp++] = (struct rv_watchpoint){addr, len, kind};
    return 0;
}

int rv_debug_wp_remove(struct rv_debug_points *d, uint64_t addr, uint64_t len, unsigned kind)
{
    int i = wp_find(d, addr, len, kind);
    if (i < 0)
        return -ENOENT;
    d->wp[i] = d->wp[--d->nwp];
    return 0;
}

static bool bp_hit(const struct rv_debug_points *d, uint64_t pc)
{
    for (unsigned i = 0; i < d->nbp; i++)
        if (d->bp[i] == pc)
            return true;
    return false;
}

/* The data access an instruction makes: [addr, addr + size), `kind` bits as enum
 * rv_watch_kind. */
struct access {
    uint64_t addr, size;
    unsigned kind;
};

static bool insn_access(const struct rv_hart *h, const struct rv_insn *in, struct access *a)
{
    static const uint8_t size[RV_OP_COUNT] = {
        [RV_OP_LB] = 1, [RV_OP_LH] = 2, [RV_OP_LW] = 4, [RV_OP_LD] = 8, [RV_OP_LBU] = 1,
        [RV_OP_LHU] = 2, [RV_OP_LWU] = 4, [RV_OP_FLW] = 4, [RV_OP_FLD] = 8,
        [RV_OP_SB] = 1, [RV_OP_SH] = 2, [RV_OP_SW] = 4, [RV_OP_SD] = 8, [RV_OP_FSW] = 4,
        [RV_OP_FSD] = 8,
    };
    unsigned op = in->op;
    uint64_t base = h->x[in->rs1];
    if (size[op]) {
        bool store = (op >= RV_OP_SB && op <= RV_OP_SD) || op == RV_OP_FSW || op == RV_OP_FSD;
        *a = (struct access){base + (uint64_t)in->imm, size[op],
                             store ? RV_WATCH_WRITE : RV_WATCH_READ};
        return true;
    }
    if (op >= RV_OP_LR_W && op <= RV_OP_AMOMAXU_D) {
        unsigned sz = op >= RV_OP_LR_D ? 8 : 4;
        unsigned k = op == RV_OP_LR_W || op == RV_OP_LR_D   ? RV_WATCH_READ
                     : op == RV_OP_SC_W || op == RV_OP_SC_D ? RV_WATCH_WRITE
                                                            : RV_WATCH_ACCESS;
        *a = (struct access){base, sz, k};
        return true;
    }
    if (op == RV_OP_CBO_ZERO) {
        *a = (struct access){base & ~63ull, 64, RV_WATCH_WRITE};
        return true;
    }
    return false;
}

static const struct rv_watchpoint *watch_hit(const struct rv_debug_points *d,
                                             const struct access *a)
{
    for (unsigned i = 0; i < d->nwp; i++) {
        const struct rv_watchpoint *w = &d->wp[i];
        if ((w->kind & a->kind) && a->addr < w->addr + w->len && w->addr < a->addr + a->size)
            return w;
    }
    return NULL;
}

enum rv_exit rv_debug_run(struct rv_hart *h, struct rv_debug_run *r, uint64_t budget)
{
    enum rv_exit exit = RV_EXIT_BUDGET;
    const struct rv_debug_points *pts = r->points;
    r->reason = RV_DEBUG_NONE;
    h->wfi = false;
    atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
    for (uint64_t n = 1; n <= budget; n++) {
        if (!r->step) {
            if (atomic_load_explicit(&h->events, memory_order_relaxed) &&
                rv_hart_handle_events(h, &exit))
                return exit;
            /* After the events: a breakpoint on a trap handler stops at its first
             * instruction. */
            if (pts && bp_hit(pts, h->pc)) {
                r->reason = RV_DEBUG_BREAK;
                return RV_EXIT_DEBUG;
            }
        }
        struct access acc;
        bool watched = false;
        if ((pts && pts->nwp) || r->trace) {
            uint32_t raw;
            if (rv_mem_fetch(h, h->pc, &raw) == RV_EXC_NONE) {
                if (rv_insn_len(raw) == 2)
                    raw &= 0xffff;
                if (r->trace)
                    r->trace(r->trace_opaque, h, h->pc, raw);
                struct rv_insn in;
                rv_decode(raw, &in);
                watched = pts && pts->nwp && insn_access(h, &in, &acc);
            }
        }
        const struct rv_watchpoint *w = NULL;
        bool resumed_here = n == 1 && r->watch_resume && r->watch_pc == h->pc;
        if (watched && !resumed_here && (w = watch_hit(pts, &acc)) != NULL) {
            r->reason = RV_DEBUG_WATCH;
            r->watch_addr = acc.addr > w->addr ? acc.addr : w->addr;
            r->watch_kind = w->kind;
            return RV_EXIT_DEBUG;
        }
        if (rv_hart_step_insn(h, &exit))
            return exit;
        if (r->step) {
            r->reason = RV_DEBUG_STEP;
            return RV_EXIT_DEBUG;
        }
        if (n % RV_RUN_CHUNK == 0 && rv_hart_timers_armed(h))
            atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
    }
    return exit;
}
