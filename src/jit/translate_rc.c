/* The register cache of the block translator: guest registers in host registers within a
 * block (translate.h). A slot is dirty while its value is newer than the hart's; everything
 * that leaves the block or calls out writes the dirty slots back first (the callers in
 * translate.c and translate_loop.c). When a slot is needed, the victim is chosen by looking
 * ahead in the block: the register read again last (Belady), never one the instruction being
 * translated uses. */
#include <limits.h>
#include <string.h>

#include "jit/translate.h"

const uint8_t jit_rc_host[RC_SLOTS] = {RBP, RDI, X86_R8, X86_R9, X86_R10, X86_R11, R12, R15};
#define rc_host jit_rc_host

void jit_rc_init(struct regcache *rc)
{
    memset(rc, 0, sizeof(*rc));
    memset(rc->guest, -1, sizeof(rc->guest));
}

static int rc_find(const struct regcache *rc, unsigned r)
{
    for (int i = 0; i < RC_SLOTS; i++)
        if (rc->guest[i] == (int8_t)r)
            return i;
    return -1;
}

void jit_rc_load(struct tr *t, unsigned host, unsigned r)
{
    x86_load(&t->a, host, XR(r), 8, false);
    t->nloads[t->in_cold]++;
}

void jit_rc_store(struct tr *t, unsigned host, unsigned r)
{
    x86_store(&t->a, host, XR(r), 8);
    t->nstores[t->in_cold]++;
}

void jit_rc_write_back(struct tr *t, const struct regcache *rc)
{
    for (int i = 0; i < RC_SLOTS; i++)
        if (rc->guest[i] >= 0 && rc->dirty[i])
            jit_rc_store(t, rc_host[i], (unsigned)rc->guest[i]);
}

void jit_rc_reload(struct tr *t, const struct regcache *rc)
{
    for (int i = 0; i < RC_SLOTS; i++)
        if (rc->guest[i] >= 0)
            jit_rc_load(t, rc_host[i], (unsigned)rc->guest[i]);
}

bool jit_insn_reads(const struct rv_insn *in, unsigned r)
{
    unsigned op = in->op;
    if (op == RV_OP_LUI || op == RV_OP_AUIPC || op == RV_OP_JAL)
        return false;
    if (in->rs1 == r)
        return true;
    bool imm_form = op == RV_OP_JALR || (op >= RV_OP_LB && op <= RV_OP_LWU) ||
                    (op >= RV_OP_ADDI && op <= RV_OP_SRAI) ||
                    (op >= RV_OP_ADDIW && op <= RV_OP_SRAIW) ||
                    (op >= RV_OP_CSRRW && op <= RV_OP_CSRRCI);
    return !imm_form && in->rs2 == r;
}

bool jit_insn_writes(const struct rv_insn *in, unsigned r)
{
    unsigned op = in->op;
    if (in->rd != r || op >= RV_OP_FLW || (op >= RV_OP_BEQ && op <= RV_OP_BGEU) ||
        (op >= RV_OP_SB && op <= RV_OP_SD) || (op >= RV_OP_FENCE && op <= RV_OP_CBO_ZERO))
        return false;
    return true;
}

uint32_t jit_insn_read_mask(const struct rv_insn *in)
{
    unsigned op = in->op;
    if (op == RV_OP_LUI || op == RV_OP_AUIPC || op == RV_OP_JAL)
        return 0;
    uint32_t m = 1u << in->rs1;
    bool imm_form = op == RV_OP_JALR || (op >= RV_OP_LB && op <= RV_OP_LWU) ||
                    (op >= RV_OP_ADDI && op <= RV_OP_SRAI) ||
                    (op >= RV_OP_ADDIW && op <= RV_OP_SRAIW) ||
                    (op >= RV_OP_CSRRW && op <= RV_OP_CSRRCI);
    if (!imm_form)
        m |= 1u << in->rs2;
    return m & ~1u;
}

uint32_t jit_insn_write_mask(const struct rv_insn *in)
{
    return jit_insn_writes(in, in->rd) ? (1u << in->rd) & ~1u : 0;
}

/* How far (in instructions) the next read of x[r] after the current instruction is, along
 * the block's fall-through path; UINT_MAX if the block writes x[r] first or never reads it. */
static unsigned next_read(const struct tr *t, unsigned r)
{
    const uint32_t bit = 1u << r;
    for (unsigned m = t->k + 1; m < t->n; m++) {
        if (t->rmask[m] & bit)
            return m - t->k;
        if (t->wmask[m] & bit)
            break;
    }
    return UINT_MAX;
}

/* next_read() of every slot's register (all slots taken), in one pass over the block. */
static void next_reads(const struct tr *t, unsigned dist[RC_SLOTS])
{
    unsigned at[32];
    uint32_t want = 0;
    for (int i = 0; i < RC_SLOTS; i++) {
        want |= 1u << t->rc.guest[i];
        at[t->rc.guest[i]] = UINT_MAX;
    }
    for (unsigned m = t->k + 1; m < t->n && want; m++) {
        for (uint32_t hit = t->rmask[m] & want; hit; hit &= hit - 1)
            at[__builtin_ctz(hit)] = m - t->k;
        want &= ~(t->rmask[m] | t->wmask[m]);
    }
    for (int i = 0; i < RC_SLOTS; i++)
        dist[i] = at[t->rc.guest[i]];
}

bool jit_rc_in_hart(const struct tr *t, unsigned r)
{
    return rc_find(&t->rc, r) < 0 && next_read(t, r) == UINT_MAX;
}

/* Which of slots i and v (v < 0: none yet) is the better victim: the one read again later
 * (Belady), then a clean one, then the least recently used. */
static bool better_victim(const struct tr *t, int i, int v, const unsigned *dist)
{
    const struct regcache *rc = &t->rc;
    if (v < 0 || dist[i] != dist[v])
        return v < 0 || dist[i] > dist[v];
    if (rc->dirty[i] != rc->dirty[v])
        return !rc->dirty[i];
    return rc->used[i] < rc->used[v];
}

/* A slot for guest register r: a free one, else the one whose register the block reads again
 * last, never one the current instruction uses (its host registers are live), and a slot
 * holding its loop register only if all others are taken. */
static int rc_alloc(struct tr *t, unsigned r)
{
    struct regcache *rc = &t->rc;
    int victim = -1;
    for (int i = 0; i < RC_SLOTS; i++)
        if (rc->guest[i] < 0) {
            victim = i;
            break;
        }
    unsigned dist[RC_SLOTS];
    if (victim < 0)
        next_reads(t, dist);
    for (int pass = 0; victim < 0 && pass < 3; pass++)
        for (int i = 0; i < RC_SLOTS; i++)
            if ((pass == 2 || rc->used[i] <= t->insn_clock) &&
                (pass >= 1 || !jit_rc_pinned(t, i)) && better_victim(t, i, victim, dist))
                victim = i;
    if (rc->guest[victim] >= 0 && rc->dirty[victim])
        jit_rc_store(t, rc_host[victim], (unsigned)rc->guest[victim]);
    rc->guest[victim] = (int8_t)r;
    rc->dirty[victim] = false;
    return victim;
}

unsigned jit_rc_get(struct tr *t, unsigned r)
{
    struct regcache *rc = &t->rc;
    int i = rc_find(rc, r);
    if (i < 0) {
        i = rc_alloc(t, r);
        jit_rc_load(t, rc_host[i], r);
    }
    rc->used[i] = ++rc->clock;
    return rc_host[i];
}

unsigned jit_rc_def(struct tr *t, unsigned rd)
{
    struct regcache *rc = &t->rc;
    int i = rc_find(rc, rd);
    if (i < 0)
        i = rc_alloc(t, rd);
    rc->dirty[i] = true;
    rc->used[i] = ++rc->clock;
    return rc_host[i];
}

void jit_rc_flush(struct tr *t)
{
    jit_rc_write_back(t, &t->rc);
    for (int i = 0; i < RC_SLOTS; i++)
        t->rc.dirty[i] = false;
}

void jit_rc_forget(struct tr *t)
{
    jit_rc_flush(t);
    uint32_t clock = t->rc.clock; /* stays monotonic: rc_alloc compares with insn_clock */
    jit_rc_init(&t->rc);
    t->rc.clock = clock;
}
