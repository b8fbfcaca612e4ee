/* Loops inside one block: guest registers stay in host registers across iterations.
 *
 * A block with a branch back to its own first instruction (a loop whose body scan() took in
 * whole, going on at the fall-through of the conditional branches) gets a canonical register
 * cache, t->canon: its most used guest registers, each in a fixed slot. The entry loads them
 * once; the back edge brings whatever cache it has to the canonical one (stores, then loads:
 * jit_rc_reconcile), checks h->events and the budget as a block entry does, and jumps to the
 * first instruction again, past the loads. Conditional branches forward to an instruction of
 * the same block (the `if` of a loop body) do the same without the checks and land at that
 * instruction, where the fall-through path reconciles too.
 *
 * Budget: the block takes n units at its entry. A jump from instruction k to instruction m
 * skips k+1 .. m-1 (given back); the back edge gives back the n-k-1 not run and takes n for
 * the next iteration, k+1 in all, with the entry's rule (at least n left, else leave at the
 * block's first instruction with the n-k-1 given back).
 *
 * Canonical slots hold, at every point of the block, either their register's current value or
 * are marked dirty where they hold one newer than the hart's: every register some instruction
 * of the block writes is dirty in the canonical cache (a write back more at the exits, but
 * exact whichever iteration leaves). */
#include <string.h>

#include "jit/translate.h"

/* Counts the registers (x1..x31) an instruction reads or writes (not the immediate bits in
 * the rs2 field of I-type or the rd field of S- and B-type encodings), and marks the ones it
 * may write, as far as the decoder's fields say (FP registers alias them, and rd is marked
 * for stores and branches too: more registers written than needed, never fewer). */
static void count_uses(const struct rv_insn *in, unsigned use[32], bool written[32])
{
    for (uint32_t m = jit_insn_read_mask(in) | jit_insn_write_mask(in); m; m &= m - 1)
        use[__builtin_ctz(m)]++;
    written[in->rd] = true;
}

/* Target of instruction k if it is a branch to a pc inside the block, else -1. */
static int branch_target_index(const struct tr *t, const struct rv_insn *in, unsigned k)
{
    if (!((in->op >= RV_OP_BEQ && in->op <= RV_OP_BGEU) || in->op == RV_OP_JAL))
        return -1;
    uint64_t target = t->ipc[k] + (uint64_t)in->imm;
    for (unsigned m = 0; m < t->n; m++)
        if (t->ipc[m] == target)
            return (int)m;
    return -1;
}

void jit_loop_plan(struct tr *t, const struct rv_insn *ins)
{
    t->loop = false;
    memset(t->join, 0, sizeof(t->join));
    if (t->counting)
        return;
    unsigned last_back = 0;
    for (unsigned k = 0; k < t->n; k++) {
        int m = branch_target_index(t, &ins[k], k);
        if (m == 0) {
            t->loop = true;
            last_back = k;
        }
    }
    if (!t->loop)
        return;
    for (unsigned k = 0; k < t->n; k++) {
        int m = branch_target_index(t, &ins[k], k);
        if (m > (int)k + 1 && ins[k].op != RV_OP_JAL)
            t->join[m] = true;
    }
    /* the most used registers of the loop body, leaving two slots to the others */
    unsigned use[32] = {0};
    bool written[32] = {false};
    for (unsigned k = 0; k <= last_back; k++)
        count_uses(&ins[k], use, written);
    for (unsigned k = last_back + 1; k < t->n; k++)
        written[ins[k].rd] = true;
    use[0] = 0; /* x0 is never cached */
    memset(&t->canon, 0, sizeof(t->canon));
    memset(t->canon.guest, -1, sizeof(t->canon.guest));
    for (unsigned i = 0; i < RC_SLOTS - 2; i++) {
        unsigned best = 1;
        for (unsigned r = 2; r < 32; r++)
            if (use[r] > use[best])
                best = r;
        if (use[best] == 0)
            break;
        t->canon.guest[i] = (int8_t)best;
        t->canon.dirty[i] = written[best];
        use[best] = 0;
    }
}

/* The cache `rc` becomes the canonical one: stores of the dirty values that are not where the
 * canonical cache keeps them, then loads of the canonical registers that are not in place. */
void jit_rc_reconcile(struct tr *t, const struct regcache *rc)
{
    const struct regcache *c = &t->canon;
    for (int i = 0; i < RC_SLOTS; i++)
        if (rc->guest[i] >= 0 && rc->dirty[i] && c->guest[i] != rc->guest[i])
            jit_rc_store(t, jit_rc_host[i], (unsigned)rc->guest[i]);
    for (int i = 0; i < RC_SLOTS; i++)
        if (c->guest[i] >= 0 && c->guest[i] != rc->guest[i])
            jit_rc_load(t, jit_rc_host[i], (unsigned)c->guest[i]);
}

/* The translator's cache becomes the canonical one (at the loop head and join points). */
void jit_rc_canon(struct tr *t)
{
    uint32_t clock = t->rc.clock + 1;
    t->rc = t->canon;
    t->rc.clock = clock;
    for (int i = 0; i < RC_SLOTS; i++)
        t->rc.used[i] = clock;
}

/* A slot holding its canonical register (evicted last). */
bool jit_rc_pinned(const struct tr *t, int slot)
{
    return t->loop && t->rc.guest[slot] >= 0 && t->canon.guest[slot] == t->rc.guest[slot];
}

/* Out-of-line code of a back edge (COLD_LOOP: from instruction k, c->refund = n-k-1) or a
 * forward jump (COLD_JOIN: to instruction c->rd, c->refund = instructions skipped). */
void jit_emit_loop_cold(struct tr *t, const struct cold *c)
{
    struct x86_asm *a = &t->a;
    jit_rc_reconcile(t, &c->pre);
    if (c->kind == COLD_JOIN) {
        if (c->refund)
            x86_alu_ri(a, X86_ADD, true, R13, (int32_t)c->refund);
        x86_jmp(a, t->label[c->rd]);
        return;
    }
    x86_alu_mi(a, X86_CMP, false, HART(events), 0);
    uint8_t *events = x86_jcc_fwd(a, X86_CC_NE);
    x86_alu_ri(a, X86_SUB, true, R13, (int32_t)(t->n - c->refund));
    uint8_t *spent = x86_jcc_fwd(a, X86_CC_B);
    x86_jmp(a, t->loop_head);
    /* leave at the block's first instruction, as its entry would */
    x86_bind(a, spent);
    x86_alu_ri(a, X86_ADD, true, R13, (int32_t)(t->n - c->refund));
    x86_bind(a, events);
    if (c->refund)
        x86_alu_ri(a, X86_ADD, true, R13, (int32_t)c->refund);
    for (int i = 0; i < RC_SLOTS; i++)
        if (t->canon.guest[i] >= 0 && t->canon.dirty[i])
            jit_rc_store(t, jit_rc_host[i], (unsigned)t->canon.guest[i]);
    x86_mov_ri(a, RAX, t->b->va);
    x86_jmp(a, t->j->exit_at_rax[JIT_EXIT_PC]);
}
