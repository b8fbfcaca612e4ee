/* Loads and stores of translated blocks: the inline TLB check, the out-of-line slow paths, and
 * accesses that share one TLB check because they go through the same base.
 *
 * Base groups. Within a block, many accesses address one base value plus constant offsets:
 * x[rs1] + imm where x[rs1] has not changed since an earlier access, or changed only by ADDI
 * and moves (struct fields, stack slots, neighbouring bytes of a string). The first access of
 * such a group, its leader, checks the TLB for the group's whole byte range: the index comes
 * from the lowest byte and the entry's tag is compared with the page of the highest byte, so
 * the check passes only if all of it lies in the one page the entry maps (and that page is
 * ordinary RAM: I/O and code pages have flag bits in their tags). The leader then keeps the
 * entry's addend in a frame slot, and every later access of the group (a member) is one host
 * instruction, [base + addend + offset], after a test of the slot. If the check fails (a miss,
 * a range across two pages, I/O, a code page), the leader writes 1 to the slot (addends are
 * page-aligned, so the low bit means "not checked") and does its own access as usual; the
 * members then take their out-of-line path: their own TLB check, then the helper.
 *
 * Why a member may use the addend its leader found: the leader ran before it (the plan ends all
 * groups at the join points of loop blocks, where a forward branch may have skipped a leader),
 * and nothing between them changes address translation: the plan also ends all groups at every
 * instruction that is not an integer ALU operation, a load or store, or a conditional branch
 * (CSR instructions that change satp, SUM, MXR or the privilege; anything the interpreter runs).
 * The slow paths of other accesses in between only fill TLB entries; an entry the fill replaces
 * was still a valid translation, and the hart may keep using a translation until an SFENCE.VMA
 * (privileged ISA, "Supervisor Memory-Management Fence Instruction"), which ends blocks. A
 * group with a store checks the write entry (even if a load leads it), and loads use it too: a
 * writable page is readable (W without R is reserved). */
#include <string.h>

#include "cpu/uwin.h"
#include "jit/translate.h"

/* bytes a group's accesses may spread over (a larger range crosses pages more often) */
#define GROUP_SPAN 1024

static unsigned access_size(unsigned op)
{
    switch (op) {
    case RV_OP_LB: case RV_OP_LBU: case RV_OP_SB: return 1;
    case RV_OP_LH: case RV_OP_LHU: case RV_OP_SH: return 2;
    case RV_OP_LW: case RV_OP_LWU: case RV_OP_SW: return 4;
    case RV_OP_LD: case RV_OP_SD: return 8;
    default: return 0;
    }
}

static bool is_store(unsigned op)
{
    return op >= RV_OP_SB && op <= RV_OP_SD;
}

/* Operations after which groups go on: translated natively, no helper that could change
 * address translation. */
static bool keeps_groups(unsigned op)
{
    return (op >= RV_OP_LUI && op <= RV_OP_AUIPC) || (op >= RV_OP_BEQ && op <= RV_OP_SD) ||
           (op >= RV_OP_ADDI && op <= RV_OP_SRAW) || (op >= RV_OP_MUL && op <= RV_OP_REMUW) ||
           (op >= RV_OP_ADD_UW && op <= RV_OP_CZERO_NEZ);
}

/* --- the plan --- */

struct plan_group {
    unsigned base;  /* value number of the base */
    bool write;     /* the group has a store: its leader checks the write entry */
    bool open;
    unsigned slot, members;
    int64_t lo, hi; /* first and last byte, relative to the base value */
};

struct plan {
    unsigned val[32];    /* value number of x[r] ... */
    int64_t delta[32];   /* ... and x[r] = that value + delta */
    unsigned next_val;
    struct plan_group g[JIT_MAX_BLOCK_INSNS];
    unsigned ng;
    uint8_t group_of[JIT_MAX_BLOCK_INSNS]; /* a leader's group */
    bool slot_used[JIT_GROUP_SLOTS];
};

static void plan_reset(struct plan *p)
{
    for (unsigned r = 0; r < 32; r++) {
        p->val[r] = p->next_val++;
        p->delta[r] = 0;
    }
    for (unsigned i = 0; i < p->ng; i++)
        p->g[i].open = false;
    memset(p->slot_used, 0, sizeof(p->slot_used));
}

static void plan_write(struct plan *p, unsigned rd)
{
    if (rd) {
        p->val[rd] = p->next_val++;
        p->delta[rd] = 0;
    }
}

/* x[rd] = x[rs] + imm */
static void plan_offset(struct plan *p, unsigned rd, unsigned rs, int64_t imm)
{
    if (!rd)
        return;
    int64_t d = p->delta[rs] + imm;
    if (rs == 0 || d < INT32_MIN || d > INT32_MAX) {
        plan_write(p, rd);
        return;
    }
    p->val[rd] = p->val[rs];
    p->delta[rd] = d;
}

static struct plan_group *open_group(struct plan *p, unsigned base, bool write)
{
    for (unsigned i = 0; i < p->ng; i++)
        if (p->g[i].open && p->g[i].base == base && p->g[i].write == write)
            return &p->g[i];
    return NULL;
}

/* The access of instruction k: `size` bytes at base value `base` + rel. */
static void plan_access(struct tr *t, struct plan *p, unsigned k, unsigned base, int64_t rel,
                        unsigned size, bool write)
{
    struct plan_group *g = open_group(p, base, write);
    if (!g) /* a load may use a store's check; a store makes its leader check for writing */
        g = open_group(p, base, !write);
    int64_t end = rel + (int64_t)size - 1;
    if (g) {
        int64_t lo = rel < g->lo ? rel : g->lo, hi = end > g->hi ? end : g->hi;
        if (hi - lo < GROUP_SPAN) {
            g->write |= write;
            g->lo = lo;
            g->hi = hi;
            g->members++;
            t->mrole[k] = MEM_MEMBER;
            t->mslot[k] = (uint8_t)g->slot;
        }
        return; /* too far from the others: checks itself */
    }
    unsigned s = 0;
    while (s < JIT_GROUP_SLOTS && p->slot_used[s])
        s++;
    if (s == JIT_GROUP_SLOTS)
        return;
    p->slot_used[s] = true;
    p->g[p->ng] = (struct plan_group){.base = base, .write = write, .open = true, .slot = s,
                                      .lo = rel, .hi = end};
    t->mrole[k] = MEM_LEADER;
    t->mslot[k] = (uint8_t)s;
    p->group_of[k] = (uint8_t)p->ng;
    p->ng++;
}

/* Which window accesses compare their base with the limit (emit_uwin_access). A base value
 * that passed the check (it is below RV_UWIN_SIZE) stays good for the accesses after it, as
 * long as it stays within WINDOW_SLACK bytes of a checked value (ADDI, moves): with the access's
 * offset (-2048..2047) and size, every byte then falls in the window or one of its guard pages,
 * and a fault there goes to the slow path as for any unmapped page. Any other write of the
 * register ends that, and so do the block's join points (a forward branch may have skipped
 * the check) and its first instruction (a loop's back edge goes there). */
#define WINDOW_SLACK 2040
_Static_assert(WINDOW_SLACK + 2048 + 8 <= 4096, "the window's guard pages (cpu/uwin.c)");

static void plan_window_checks(struct tr *t, const struct rv_insn *ins)
{
    int slack[32]; /* bytes from a checked value, or -1 */
    for (unsigned k = 0; k < t->n; k++) {
        const struct rv_insn *in = &ins[k];
        if (k == 0 || t->join[k])
            memset(slack, 0xff, sizeof(slack));
        const int s1 = in->rs1 ? slack[in->rs1] : -1;
        int out = -1; /* what the instruction's rd becomes */
        t->wcheck[k] = false;
        if (access_size(in->op)) {
            t->wcheck[k] = s1 < 0;
            if (in->rs1 && s1 < 0)
                slack[in->rs1] = 0;
            if (is_store(in->op))
                continue;
        } else if (in->op == RV_OP_ADDI) {
            const int64_t d = in->imm < 0 ? -in->imm : in->imm;
            if (s1 >= 0 && s1 + d <= WINDOW_SLACK)
                out = s1 + (int)d;
        } else if (in->op == RV_OP_ADD && (in->rs1 == 0 || in->rs2 == 0)) {
            const unsigned src = in->rs1 | in->rs2; /* c.mv */
            out = src ? slack[src] : -1;
        }
        /* anything else with an rd (an FP or a CSR instruction, an AMO, a branch's field) is
         * taken as writing it */
        if (in->rd)
            slack[in->rd] = out;
    }
}

void jit_mem_plan(struct tr *t, const struct rv_insn *ins)
{
    memset(t->mrole, MEM_PLAIN, sizeof(t->mrole));
    if (t->uwin) {
        plan_window_checks(t, ins); /* a window access is shorter than a group member's */
        return;
    }
    struct plan p;
    memset(&p, 0, sizeof(p));
    int64_t rel[JIT_MAX_BLOCK_INSNS];
    plan_reset(&p);
    for (unsigned k = 0; k < t->n; k++) {
        const struct rv_insn *in = &ins[k];
        if (t->join[k])
            plan_reset(&p);
        unsigned size = access_size(in->op);
        if (size) {
            rel[k] = p.delta[in->rs1] + in->imm;
            plan_access(t, &p, k, p.val[in->rs1], rel[k], size, is_store(in->op));
            if (!is_store(in->op))
                plan_write(&p, in->rd);
        } else if (in->op == RV_OP_ADDI) {
            plan_offset(&p, in->rd, in->rs1, in->imm);
        } else if (in->op == RV_OP_ADD && (in->rs1 == 0 || in->rs2 == 0)) {
            plan_offset(&p, in->rd, in->rs1 | in->rs2, 0); /* c.mv */
        } else if (jit_insn_writes(in, in->rd)) {
            plan_write(&p, in->rd);
        }
        if (!keeps_groups(in->op))
            plan_reset(&p);
    }
    /* a leader without members checks only itself; the others learn their range */
    for (unsigned k = 0; k < t->n; k++) {
        if (t->mrole[k] != MEM_LEADER)
            continue;
        const struct plan_group *g = &p.g[p.group_of[k]];
        if (!g->members) {
            t->mrole[k] = MEM_PLAIN;
            continue;
        }
        t->mwrite[k] = g->write;
        t->mlo[k] = (int16_t)(g->lo - rel[k]);
        t->mhi[k] = (int16_t)(g->hi - rel[k]);
    }
}

/* --- code --- */

/* The host register holding x[rs1] for an address: its cache slot, or rsi loaded from the
 * hart if the block does not read it again (x0: rsi = 0). */
static unsigned emit_base(struct tr *t, unsigned rs1)
{
    if (rs1 == 0) {
        x86_mov_ri(&t->a, RSI, 0);
        return RSI;
    }
    if (jit_rc_in_hart(t, rs1)) {
        jit_rc_load(t, RSI, rs1);
        return RSI;
    }
    return jit_rc_get(t, rs1);
}

/* rsi = x[rs1] + imm */
void jit_emit_va(struct tr *t, unsigned rs1, int64_t imm)
{
    if (rs1 == 0) {
        x86_mov_ri(&t->a, RSI, (uint64_t)imm);
        return;
    }
    unsigned base = emit_base(t, rs1);
    if (imm)
        x86_lea(&t->a, RSI, x86_mem((int)base, (int32_t)imm));
    else if (base != RSI)
        x86_mov_rr(&t->a, RSI, base);
}

/* The TLB check of bytes [rsi + lo, rsi + hi]: rax = the entry's offset in the table (index from
 * the first byte), compared with the page of the last. Returns the rel32 field of the jump
 * taken if they are not in the one page the entry maps. Clobbers rax, rdx. */
static uint8_t *emit_check(struct tr *t, int32_t lo, int32_t hi, bool write)
{
    struct x86_asm *a = &t->a;
    if (lo)
        x86_lea32(a, RAX, x86_mem(RSI, lo));
    else
        x86_mov_rr32(a, RAX, RSI);
    jit_tlb_index(a, RAX);
    if (hi)
        x86_lea(a, RDX, x86_mem(RSI, hi));
    else
        x86_mov_rr(a, RDX, RSI);
    x86_alu_ri(a, X86_AND, true, RDX, -4096);
    x86_alu_rm(a, X86_CMP, true, RDX, x86_mem_idx(R14, RAX, 0, write ? TLB_WRITE_OFF : 0));
    return x86_jcc_fwd(a, X86_CC_NE);
}

static struct x86_mem entry_addend(bool write)
{
    return x86_mem_idx(R14, RAX, 0, (write ? TLB_WRITE_OFF : 0) + 8);
}

/* TLB fast path for a `size`-byte access at rsi: on a hit inside one page, rsi becomes the
 * host address. Returns the rel32 field of the jump taken otherwise. Clobbers rax, rdx. */
uint8_t *jit_emit_tlb(struct tr *t, unsigned size, bool write)
{
    uint8_t *miss = emit_check(t, 0, (int32_t)size - 1, write);
    x86_alu_rm(&t->a, X86_ADD, true, RSI, entry_addend(write));
    return miss;
}

/* The check of bytes [rsi + lo, rsi + hi] for the access of the main path, which then
 * addresses [rsi + rdx]: on a hit, rdx is the addend (rsi stays the guest address: the slow
 * path's argument; the addend's load and the access have no add between them). */
static uint8_t *emit_tlb_addend(struct tr *t, int32_t lo, int32_t hi, bool write)
{
    uint8_t *miss = emit_check(t, lo, hi, write);
    x86_load(&t->a, RDX, entry_addend(write), 8, false);
    return miss;
}

/* The host address of the main path's access: rsi + rdx (emit_tlb_addend, emit_leader_check). */
static struct x86_mem access_at(void)
{
    return x86_mem_idx(RSI, RDX, 0, 0);
}

/* A leader's check of its group's range (for writing if the group has a store): rdx becomes
 * the addend, as in emit_tlb_addend, and the slot holds it too; the jump returned is taken if
 * the range is not in one mapped page. */
static uint8_t *emit_leader_check(struct tr *t)
{
    uint8_t *miss = emit_tlb_addend(t, t->mlo[t->k], t->mhi[t->k], t->mwrite[t->k]);
    x86_store(&t->a, RDX, JIT_GROUP_SLOT(t->mslot[t->k]), 8);
    return miss;
}

/* A member's check: rax = the group's addend; the returned jump is taken if the leader found
 * none. */
static uint8_t *emit_member_test(struct tr *t)
{
    struct x86_asm *a = &t->a;
    x86_load(a, RAX, JIT_GROUP_SLOT(t->mslot[t->k]), 8, false);
    x86_test_al(a, 1);
    return x86_jcc_fwd(a, X86_CC_NE);
}

/* The out-of-line code of the current instruction's `size`-byte access, which resumes here. */
static struct cold *add_access_cold(struct tr *t, enum cold_kind kind, uint8_t *jump,
                                    const struct rv_insn *in, unsigned size, bool write)
{
    struct cold *c = jit_add_cold(t, kind, jump);
    c->resume = x86_here(&t->a);
    c->site = jit_site(t, size, in->len);
    c->size = size;
    c->write = write;
    c->slot = t->mslot[t->k];
    c->rd = write ? 0 : in->rd;
    c->imm = (int32_t)in->imm;
    if (kind == COLD_MEMBER)
        t->j->stats.mem_grouped += !t->counting;
    return c;
}

/* A U-mode access through the host-MMU window (jit_uwin.c): the base register below the
 * limit, then the access at gs:[base + offset] (the thread's GS base is the window,
 * rv_uwin_enter), without computing the address first.
 * An offset that leads out of the window lands in one of its guard pages (cpu/uwin.c), whose
 * fault sends the access to the slow path as an unmapped page's does; a base at or above the
 * limit jumps there at once. The out-of-line code computes the address (jit_emit_mem_cold).
 * Stores write the value from its cache slot where it has one. Accesses through a base that an
 * earlier one checked skip the check (plan_window_checks); the checked access is then their
 * anchor: if its base failed the check and its slow path went on, the block goes on only if
 * the base is still below RV_UWIN_SIZE (a window whose limit is 0 has nothing mapped that the
 * guest could not reach), and is left after the access otherwise (emit_slow). */
static void emit_uwin_access(struct tr *t, const struct rv_insn *in, unsigned size, bool sign,
                             bool write)
{
    struct x86_asm *a = &t->a;
    unsigned value = RCX;
    if (write) {
        if (in->rs2 && !jit_rc_in_hart(t, in->rs2))
            value = jit_rc_get(t, in->rs2);
        else
            load_x(t, RCX, in->rs2);
    }
    unsigned base = emit_base(t, in->rs1);
    struct regcache pre = t->rc;
    const bool check = t->wcheck[t->k];
    uint8_t *miss = NULL;
    if (check) {
        x86_alu_rm(a, X86_CMP, true, base, HART(uwin_limit));
        miss = x86_jcc_fwd(a, X86_CC_AE);
    }
    if (!t->counting) {
        t->j->stats.uwin_accesses++;
        t->j->stats.uwin_unchecked += !check;
    }
    const struct x86_mem at = x86_mem_gs((int)base, (int32_t)in->imm); /* cpu/uwin.h */
    uintptr_t access;
    if (write) {
        access = x86_here(a);
        x86_store(a, value, at, size);
    } else {
        /* straight into rd's host register; the cache may write a victim back first (the
         * fault happens at the load itself) */
        unsigned dest = in->rd ? jit_rc_def(t, in->rd) : RAX;
        access = x86_here(a);
        x86_load(a, dest, at, size, sign);
    }
    struct cold *c = add_access_cold(t, write ? COLD_STORE : COLD_LOAD, miss, in, size, write);
    c->pre = pre;
    c->access = access;
    c->sign = sign;
    c->uwin = true;
    c->base = base;
    c->host = value;
    c->anchor = check && (write || in->rd != in->rs1) ? in->rs1 : 0;
}

static void emit_load(struct tr *t, const struct rv_insn *in, unsigned size, bool sign)
{
    struct x86_asm *a = &t->a;
    unsigned role = t->mrole[t->k];
    if (role == MEM_MEMBER) {
        unsigned base = emit_base(t, in->rs1);
        struct regcache pre = t->rc;
        unsigned h = in->rd ? jit_rc_def(t, in->rd) : RAX;
        uint8_t *skip = emit_member_test(t);
        x86_load(a, h, x86_mem_idx((int)base, RAX, 0, (int32_t)in->imm), size, sign);
        struct cold *c = add_access_cold(t, COLD_MEMBER, skip, in, size, false);
        c->pre = pre;
        c->sign = sign;
        c->base = base;
        c->host = h;
        return;
    }
    if (t->uwin) {
        emit_uwin_access(t, in, size, sign, false);
        return;
    }
    jit_emit_va(t, in->rs1, in->imm);
    struct regcache pre = t->rc;
    uint8_t *miss = role == MEM_LEADER ? emit_leader_check(t)
                                       : emit_tlb_addend(t, 0, (int32_t)size - 1, false);
    /* straight into rd's host register (a miss leaves through the cold path before it). The
     * register cache may write a victim back first: a leader's out-of-line code returns to
     * that. */
    uintptr_t access = x86_here(a);
    unsigned dest = in->rd ? jit_rc_def(t, in->rd) : RAX;
    x86_load(a, dest, access_at(), size, sign);
    struct cold *c = add_access_cold(t, role == MEM_LEADER ? COLD_LEADER : COLD_LOAD, miss, in,
                                     size, false);
    c->pre = pre;
    c->access = access;
    c->sign = sign;
}

static void emit_store(struct tr *t, const struct rv_insn *in, unsigned size)
{
    struct x86_asm *a = &t->a;
    unsigned role = t->mrole[t->k];
    if (t->uwin) {
        emit_uwin_access(t, in, size, false, true);
        return;
    }
    load_x(t, RCX, in->rs2);
    if (role == MEM_MEMBER) {
        unsigned base = emit_base(t, in->rs1);
        uint8_t *skip = emit_member_test(t);
        x86_store(a, RCX, x86_mem_idx((int)base, RAX, 0, (int32_t)in->imm), size);
        add_access_cold(t, COLD_MEMBER, skip, in, size, true)->base = base;
        return;
    }
    jit_emit_va(t, in->rs1, in->imm);
    uint8_t *miss = role == MEM_LEADER ? emit_leader_check(t)
                                       : emit_tlb_addend(t, 0, (int32_t)size - 1, true);
    uintptr_t access = x86_here(a);
    x86_store(a, RCX, access_at(), size);
    struct cold *c = add_access_cold(t, role == MEM_LEADER ? COLD_LEADER : COLD_STORE, miss, in,
                                     size, true);
    c->access = access;
    c->host = RCX;
}

bool jit_emit_mem(struct tr *t, const struct rv_insn *in)
{
    if (jit_emit_atomic(t, in))
        return true;
    switch (in->op) {
    case RV_OP_LB: emit_load(t, in, 1, true); return true;
    case RV_OP_LH: emit_load(t, in, 2, true); return true;
    case RV_OP_LW: emit_load(t, in, 4, true); return true;
    case RV_OP_LD: emit_load(t, in, 8, false); return true;
    case RV_OP_LBU: emit_load(t, in, 1, false); return true;
    case RV_OP_LHU: emit_load(t, in, 2, false); return true;
    case RV_OP_LWU: emit_load(t, in, 4, false); return true;
    case RV_OP_SB: emit_store(t, in, 1); return true;
    case RV_OP_SH: emit_store(t, in, 2); return true;
    case RV_OP_SW: emit_store(t, in, 4); return true;
    case RV_OP_SD: emit_store(t, in, 8); return true;
    default: return false;
    }
}

/* --- out of line --- */

/* The helper does the access at rsi (c->host holds the value to store: rcx, or a window
 * store's cache slot), from the hart's registers. */
static void emit_slow(struct tr *t, const struct cold *c)
{
    struct x86_asm *a = &t->a;
    /* the helper may leave the block, and clobbers the cache's registers */
    jit_rc_write_back(t, &c->pre);
    if (c->write)
        x86_mov_rr(a, X86_R8, c->kind == COLD_STORE ? c->host : RCX);
    x86_load(a, RDI, JIT_PTR, 8, false);
    x86_mov_ri(a, RDX, c->site);
    x86_mov_ri(a, RCX, c->pc);
    x86_call_mem(a, c->write ? JITF(RDI, helper_store) : JITF(RDI, helper_load));
    if (!c->write && c->rd) {
        /* the value is valid unless the load faulted (then rd must stay as it was) */
        x86_alu_ri(a, X86_CMP, false, RDX, JIT_HELPER_EXC);
        x86_jcc(a, X86_CC_E, t->j->exit_helper);
        if (c->size < 8)
            x86_extend_rr(a, RAX, RAX, c->size, c->sign);
        x86_store(a, RAX, XR(c->rd), 8);
    }
    x86_test_rr(a, false, RDX, RDX);
    x86_jcc(a, X86_CC_NE, t->j->exit_helper);
    if (c->anchor) {
        /* a window access whose base failed the check: later accesses through that base skip
         * it (emit_uwin_access). Every register is in the hart here. */
        x86_load(a, RAX, XR(c->anchor), 8, false);
        x86_shift_ri(a, X86_SHR, true, RAX, RV_UWIN_BITS);
        uint8_t *inside = x86_jcc_fwd(a, X86_CC_E);
        if (JIT_SITE_ADJ_AFTER(c->site))
            x86_alu_ri(a, X86_ADD, true, R13, JIT_SITE_ADJ_AFTER(c->site));
        jit_exit_to(t, c->pc + JIT_SITE_LEN(c->site), JIT_EXIT_PC);
        x86_bind(a, inside);
    }
    jit_rc_reload(t, &c->post);
    x86_jmp(a, c->resume);
}

void jit_emit_mem_cold(struct tr *t, const struct cold *c)
{
    struct x86_asm *a = &t->a;
    uint8_t *miss;
    if (c->uwin) {
        jit_uwin_note(t, c->access, x86_here(a)); /* where a refused window access goes */
        x86_lea(a, RSI, x86_mem((int)c->base, c->imm)); /* the address (emit_uwin_access) */
    }
    switch (c->kind) {
    case COLD_LEADER:
        /* rsi = the leader's address: no group this time; its own access as usual */
        x86_store_imm(a, JIT_GROUP_SLOT(c->slot), 1);
        miss = emit_tlb_addend(t, 0, (int32_t)c->size - 1, c->write);
        x86_jmp(a, c->access);
        x86_bind(a, miss);
        break;
    case COLD_MEMBER:
        /* the leader found no addend: this access's own check (counted) */
        x86_load(a, RAX, JIT_PTR, 8, false);
        x86_alu_mi(a, X86_ADD, true, JITF(RAX, stats.group_cold), 1);
        x86_lea(a, RSI, x86_mem((int)c->base, c->imm));
        miss = jit_emit_tlb(t, c->size, c->write);
        if (c->write)
            x86_store(a, RCX, x86_mem(RSI, 0), c->size);
        else
            x86_load(a, c->host, x86_mem(RSI, 0), c->size, c->sign);
        x86_jmp(a, c->resume);
        x86_bind(a, miss);
        break;
    default:
        break;
    }
    emit_slow(t, c);
}
