/* Block translation: guest basic blocks to x86-64 code.
 *
 * Register use inside translated code:
 *   rbx  the hart + JIT_HART_BIAS (guest registers are [rbx + 8*i - 128])
 *   r13  loop iterations left in the dispatcher's chunk (the budget)
 *   r14  the data TLB of the current regime, &h->tlb[h->data_mmu_idx][0][0] (the regime only
 *        changes through instructions the interpreter runs, which end blocks)
 *   rbp, rdi, r8-r12, r15: guest registers cached within a block (the register cache below);
 *        the hart holds them everywhere else
 *   rax, rcx, rdx, rsi: scratch
 *   [rsp]     the struct rv_jit (helpers, exit information: loaded where they need it)
 *   [rsp + 8] the fetch TLB of the current regime, &h->tlb[h->fetch_mmu_idx][RV_ACCESS_EXEC][0]
 *        (lookups)
 *   [rsp + 24 ...] the slots of base groups (translate_mem.c)
 *
 * A block of n instructions checks h->events and the budget on entry (at least n left), then
 * counts all n as retired (budget -= n). An exit after only k of them gives the others back, so
 * that the budget and h->pc always equal the interpreter's at a block's exits; the dispatcher
 * turns the budget used into instret. Where a chunk of the budget ends inside a block, the
 * dispatcher runs the block's counting variant instead, which takes one unit per instruction
 * and stops when the budget is spent. Every helper that may raise an event (slow-path
 * accesses, interpreted instructions) is followed by an exit if h->events became nonzero,
 * which is where the interpreter would look next. */
#include <assert.h>
#include <stddef.h>

#include "cpu/csr.h"
#include "jit/translate.h"

struct cold *jit_add_cold(struct tr *t, enum cold_kind kind, uint8_t *jump)
{
    if (t->ncold == MAX_COLD) {
        t->fail = true;
        return &t->cold[0]; /* not emitted: the translation is dropped */
    }
    struct cold *c = &t->cold[t->ncold++];
    *c = (struct cold){.kind = kind, .jump = jump, .pc = t->pc, .pre = t->rc, .post = t->rc};
    return c;
}

/* --- small pieces --- */

void jit_exit_to(struct tr *t, uint64_t pc, enum jit_exit why)
{
    x86_mov_ri(&t->a, RAX, pc);
    x86_jmp(&t->a, t->j->exit_at_rax[why]);
}

/* The exit information of instruction k for the helpers (jit_internal.h, JIT_SITE): the block
 * took n budget units on entry (the counting variant: one after each instruction). */
uint32_t jit_site(const struct tr *t, unsigned size, unsigned len)
{
    int adj_exc = t->counting ? 0 : (int)(t->n - t->k);          /* k not retired */
    int adj_after = t->counting ? -1 : (int)(t->n - t->k - 1);   /* k retired */
    return JIT_SITE(size, len, adj_exc, adj_after);
}

/* Jumps to the code for the pc in rax: the jcache entry (either way of its set) if it holds
 * that pc and the fetch TLB still maps it the same way (the entry's block is alive and checked
 * since the last FENCE.I: jit.c drops it otherwise), else helper_lookup(). The register cache
 * is written back: its registers are free here. */
static void emit_lookup(struct tr *t)
{
    struct x86_asm *a = &t->a;
    const int32_t jc = (int32_t)offsetof(struct rv_jit, jcache);
    const int32_t way = (int32_t)sizeof(struct jit_jcache_entry);
    _Static_assert(sizeof(struct jit_jcache_entry) == 32 && JIT_JCACHE_WAYS == 2,
                   "the set index below is ((va >> 1) & mask) * 64");
    x86_load(a, RDI, JIT_PTR, 8, false);
    x86_mov_rr32(a, RCX, RAX);
    x86_alu_ri(a, X86_AND, false, RCX, (int32_t)(((1u << JIT_JCACHE_BITS) - 1) << 1));
    x86_shift_ri(a, X86_SHL, false, RCX, 5);
    x86_alu_rm(a, X86_CMP, true, RAX, x86_mem_idx(RDI, RCX, 0, jc));
    uint8_t *way0 = x86_jcc_fwd(a, X86_CC_E);
    x86_alu_rm(a, X86_CMP, true, RAX, x86_mem_idx(RDI, RCX, 0, jc + way));
    uint8_t *miss1 = x86_jcc_fwd(a, X86_CC_NE);
    x86_alu_ri(a, X86_ADD, false, RCX, way);
    x86_bind(a, way0);
    x86_load(a, X86_R8, JIT_FETCH_TLB, 8, false);
    x86_mov_rr32(a, RDX, RAX);
    jit_tlb_index(a, RDX);
    x86_mov_rr(a, RSI, RAX);
    x86_alu_ri(a, X86_AND, true, RSI, -4096);
    x86_alu_rm(a, X86_CMP, true, RSI, x86_mem_idx(X86_R8, RDX, 0, 0));
    uint8_t *miss2 = x86_jcc_fwd(a, X86_CC_NE);
    x86_load(a, RSI, x86_mem_idx(X86_R8, RDX, 0, 8), 8, false);
    x86_alu_rm(a, X86_CMP, true, RSI, x86_mem_idx(RDI, RCX, 0, jc + 8));
    uint8_t *miss3 = x86_jcc_fwd(a, X86_CC_NE);
    x86_jmp_mem(a, x86_mem_idx(RDI, RCX, 0, jc + 16));
    x86_bind(a, miss1);
    x86_bind(a, miss2);
    x86_bind(a, miss3);
    x86_store(a, RAX, HART(pc), 8);
    x86_call_mem(a, JITF(RDI, helper_lookup));
    x86_jmp_reg(a, RAX);
}

/* Continues at `target` after all n instructions retired, always (cc < 0) or if condition
 * cc holds: a link to a block of the same page (the jmp or jcc is patched once that block
 * exists), or a lookup. */
static void goto_pc_if(struct tr *t, int cc, uint64_t target)
{
    jit_rc_flush(t);
    if ((target & ~0xfffull) == (t->b->va & ~0xfffull)) {
        struct jit_chain *c = jit_alloc(t->j, sizeof(*c));
        if (!c) {
            t->fail = true;
            return;
        }
        c->from = t->b;
        c->target = target;
        c->field = cc < 0 ? x86_jmp_fwd(&t->a) : x86_jcc_fwd(&t->a, (enum x86_cc)cc);
        struct cold *s = jit_add_cold(t, COLD_CHAIN, c->field);
        s->chain = c;
        return;
    }
    if (cc >= 0) {
        struct cold *s = jit_add_cold(t, COLD_LOOKUP, x86_jcc_fwd(&t->a, (enum x86_cc)cc));
        s->pc = target;
        return;
    }
    x86_mov_ri(&t->a, RAX, target);
    emit_lookup(t);
}

static void goto_pc(struct tr *t, uint64_t target)
{
    goto_pc_if(t, -1, target);
}

/* Any instruction that neither ends the block nor is translated natively: the interpreter
 * executes it (rv_hart_exec) from inside the block. */
static void emit_exec(struct tr *t, const struct rv_insn *in)
{
    struct rv_insn *copy = jit_alloc(t->j, sizeof(*copy));
    if (!copy) {
        t->fail = true;
        return;
    }
    *copy = *in;
    struct x86_asm *a = &t->a;
    jit_rc_forget(t); /* the interpreter reads and writes the hart's registers */
    x86_load(a, RDI, JIT_PTR, 8, false);
    x86_mov_ri(a, RSI, (uintptr_t)copy);
    x86_mov_ri(a, RDX, jit_site(t, 0, in->len));
    x86_mov_ri(a, RCX, t->pc);
    x86_call_mem(a, JITF(RDI, helper_exec));
    x86_test_rr(a, false, RDX, RDX);
    x86_jcc(a, X86_CC_NE, t->j->exit_helper);
}

/* A CSR instruction: helper_csr (jit.c) runs it with instret up to date. */
static void emit_csr(struct tr *t, const struct rv_insn *in)
{
    struct rv_insn *copy = jit_alloc(t->j, sizeof(*copy));
    if (!copy) {
        t->fail = true;
        return;
    }
    *copy = *in;
    struct x86_asm *a = &t->a;
    jit_rc_forget(t);
    x86_load(a, RDI, JIT_PTR, 8, false);
    x86_mov_ri(a, RSI, (uintptr_t)copy);
    x86_mov_ri(a, RDX, jit_site(t, 0, in->len));
    x86_mov_ri(a, RCX, t->pc);
    x86_mov_rr(a, X86_R8, R13);
    x86_call_mem(a, JITF(RDI, helper_csr));
    x86_test_rr(a, false, RDX, RDX);
    x86_jcc(a, X86_CC_NE, t->j->exit_helper);
}

static void emit_cold(struct tr *t, const struct cold *c)
{
    struct x86_asm *a = &t->a;
    x86_bind(a, c->jump);
    x86_bind(a, c->jump2);
    switch (c->kind) {
    case COLD_ENTRY:
        if (c->refund)
            x86_alu_ri(a, X86_ADD, true, R13, (int32_t)c->refund);
        jit_rc_write_back(t, &c->pre);
        jit_exit_to(t, c->pc, JIT_EXIT_PC);
        return;
    case COLD_LOOKUP:
        x86_mov_ri(a, RAX, c->pc);
        emit_lookup(t);
        return;
    case COLD_TAKEN:
        /* a branch taken in the middle of the block: the instructions after it were counted
         * on entry but not run */
        jit_rc_write_back(t, &c->pre);
        if (c->refund)
            x86_alu_ri(a, X86_ADD, true, R13, (int32_t)c->refund);
        jit_rc_init(&t->rc);
        goto_pc(t, c->pc);
        return;
    case COLD_CHAIN:
        x86_mov_ri(a, RAX, (uintptr_t)c->chain);
        x86_jmp(a, t->j->exit_chain);
        return;
    case COLD_LOOP:
    case COLD_JOIN:
        jit_emit_loop_cold(t, c);
        return;
    case COLD_EXEC:
        /* the interpreter runs the instruction from the hart's state (and may leave) */
        jit_rc_write_back(t, &c->pre);
        x86_load(a, RDI, JIT_PTR, 8, false);
        x86_mov_ri(a, RSI, (uintptr_t)c->insn);
        x86_mov_ri(a, RDX, c->site);
        x86_mov_ri(a, RCX, c->pc);
        x86_call_mem(a, JITF(RDI, helper_exec));
        x86_test_rr(a, false, RDX, RDX);
        x86_jcc(a, X86_CC_NE, t->j->exit_helper);
        jit_rc_reload(t, &c->post);
        x86_jmp(a, c->resume);
        return;
    case COLD_LOAD:
    case COLD_STORE:
    case COLD_LEADER:
    case COLD_MEMBER:
        jit_emit_mem_cold(t, c);
        return;
    }
}

/* --- instructions --- */

/* How the translator treats an operation. */
enum op_class {
    OP_BODY,   /* inside a block, natively or through emit_exec() */
    OP_BRANCH, /* ends the block, translated */
    OP_INTERP, /* ends the block before it; the dispatcher runs it in the interpreter */
};

static bool is_cond_branch(unsigned op)
{
    return op >= RV_OP_BEQ && op <= RV_OP_BGEU;
}

static enum op_class classify(unsigned op)
{
    switch (op) {
    case RV_OP_JAL: case RV_OP_JALR:
    case RV_OP_BEQ: case RV_OP_BNE: case RV_OP_BLT: case RV_OP_BGE: case RV_OP_BLTU:
    case RV_OP_BGEU:
        return OP_BRANCH;
    /* Privilege changes, traps, fences of the instruction stream and the address
     * translation, waits: they change what the translated code assumes, or leave the hart.
     * (CSR instructions stay in blocks: helper_csr leaves when needed.) */
    case RV_OP_ILLEGAL: case RV_OP_ECALL: case RV_OP_EBREAK: case RV_OP_MRET: case RV_OP_SRET:
    case RV_OP_WFI: case RV_OP_SFENCE_VMA: case RV_OP_FENCE_I:
        return OP_INTERP;
    default:
        return OP_BODY;
    }
}

static void emit_branch(struct tr *t, const struct rv_insn *in)
{
    struct x86_asm *a = &t->a;
    uint64_t next = t->pc + in->len, target = t->pc + (uint64_t)in->imm;
    switch (in->op) {
    case RV_OP_JAL:
        if (t->k + 1 < t->n) {
            /* a `j` scan() followed: the block goes on at the target (with rd = x0) */
            if (t->counting) { /* the budget was taken before: leave if it is spent */
                struct cold *e = jit_add_cold(t, COLD_ENTRY, x86_jcc_fwd(a, X86_CC_E));
                e->pc = target;
            }
            return;
        }
        if (in->rd)
            set_reg_imm(t, in->rd, next);
        if (t->loop && target == t->b->va) {
            struct cold *s = jit_add_cold(t, COLD_LOOP, x86_jmp_fwd(a));
            s->refund = t->n - t->k - 1;
            return;
        }
        goto_pc(t, target);
        return;
    case RV_OP_JALR:
        load_x(t, RAX, in->rs1);
        if (in->imm)
            x86_alu_ri(a, X86_ADD, true, RAX, (int32_t)in->imm);
        x86_alu_ri(a, X86_AND, true, RAX, -2);
        if (in->rd)
            set_reg_imm(t, in->rd, next);
        jit_rc_flush(t);
        emit_lookup(t);
        return;
    default:
        break;
    }
    static const enum x86_cc cc[] = {
        [RV_OP_BEQ - RV_OP_BEQ] = X86_CC_E,  [RV_OP_BNE - RV_OP_BEQ] = X86_CC_NE,
        [RV_OP_BLT - RV_OP_BEQ] = X86_CC_L,  [RV_OP_BGE - RV_OP_BEQ] = X86_CC_GE,
        [RV_OP_BLTU - RV_OP_BEQ] = X86_CC_B, [RV_OP_BGEU - RV_OP_BEQ] = X86_CC_AE,
    };
    enum x86_cc c = cc[in->op - RV_OP_BEQ];
    if (in->rs1 != 0 && in->rs2 != 0) {
        unsigned h1 = jit_rc_get(t, in->rs1);
        alu_x(t, X86_CMP, true, h1, in->rs2);
    } else if (in->rs1 != 0) {
        unsigned h = jit_rc_get(t, in->rs1);
        x86_test_rr(a, true, h, h);
    } else {
        load_x(t, RAX, in->rs1);
        alu_x(t, X86_CMP, true, RAX, in->rs2);
    }
    if (t->loop && target == t->b->va) {
        /* back to the loop head (translate_loop.c); the fall-through as below */
        struct cold *s = jit_add_cold(t, COLD_LOOP, x86_jcc_fwd(a, c));
        s->refund = t->n - t->k - 1;
        if (t->k + 1 < t->n)
            return;
        jit_rc_flush(t);
        goto_pc(t, next);
        return;
    }
    for (unsigned m = t->k + 2; t->loop && m < t->n; m++)
        if (t->ipc[m] == target && t->join[m]) {
            /* forward to an instruction of this block */
            struct cold *s = jit_add_cold(t, COLD_JOIN, x86_jcc_fwd(a, c));
            s->refund = m - t->k - 1;
            s->rd = m;
            return;
        }
    if (t->k + 1 < t->n) {
        /* in the middle of the block (scan() went on at the fall-through): the taken side
         * leaves through cold code, the register cache stays as it is */
        struct cold *s = jit_add_cold(t, COLD_TAKEN, x86_jcc_fwd(a, c));
        s->pc = target;
        s->refund = t->counting ? 0 : t->n - t->k - 1;
        if (t->counting) { /* the budget was taken before the comparison */
            x86_alu_ri(a, X86_CMP, true, R13, 0);
            struct cold *e = jit_add_cold(t, COLD_ENTRY, x86_jcc_fwd(a, X86_CC_E));
            e->pc = next;
        }
        return;
    }
    jit_rc_flush(t); /* stores only: the flags stay */
    goto_pc_if(t, (int)c, target);
    goto_pc(t, next);
}

/* --- the trampoline --- */

void jit_emit_trampoline(struct rv_jit *j)
{
    struct x86_asm a = {.p = j->code_free, .end = j->code_rw + j->code_size,
                        .rx_delta = j->code_rx - j->code_rw};
    /* int enter(struct rv_hart *h, struct rv_jit *j, uintptr_t code, void *data_tlb,
     *           void *fetch_tlb) */
    j->enter = (int (*)(struct rv_hart *, struct rv_jit *, uintptr_t, void *, void *))x86_here(&a);
    static const unsigned saved[] = {RBX, RBP, R12, R13, R14, R15};
    for (unsigned i = 0; i < 6; i++)
        x86_push(&a, saved[i]);
    /* the frame: [rsp] = j, [rsp + 8] = fetch_tlb, 8 bytes for calls from translated code to
     * see rsp % 16 == 0, then the base groups' slots */
    x86_alu_ri(&a, X86_SUB, true, RSP, JIT_FRAME);
    x86_store(&a, RSI, JIT_PTR, 8);
    x86_store(&a, X86_R8, JIT_FETCH_TLB, 8);
    x86_lea(&a, RBX, x86_mem(RDI, JIT_HART_BIAS));
    x86_load(&a, R13, JITF(RSI, budget), 8, false);
    x86_mov_rr(&a, R14, RCX);
    x86_jmp_reg(&a, RDX);
    /* exit_common: eax = enum jit_exit (the register cache is written back) */
    j->exit_common = x86_here(&a);
    x86_load(&a, RCX, JIT_PTR, 8, false);
    x86_store(&a, R13, JITF(RCX, budget), 8);
    x86_alu_ri(&a, X86_ADD, true, RSP, JIT_FRAME);
    for (unsigned i = 6; i-- > 0;)
        x86_pop(&a, saved[i]);
    x86_ret(&a);
    j->exit_pc = x86_here(&a); /* helper_lookup's "not found": h->pc is set */
    x86_mov_ri(&a, RAX, JIT_EXIT_PC);
    x86_jmp(&a, j->exit_common);
    /* exit_at_rax[why]: h->pc = rax */
    for (unsigned why = 0; why < JIT_EXIT_COUNT; why++) {
        j->exit_at_rax[why] = x86_here(&a);
        x86_store(&a, RAX, HART(pc), 8);
        x86_mov_ri(&a, RAX, why);
        x86_jmp(&a, j->exit_common);
    }
    /* exit_helper: a helper set h->pc, j->adjust and j->reason */
    j->exit_helper = x86_here(&a);
    x86_load(&a, RCX, JIT_PTR, 8, false);
    x86_alu_rm(&a, X86_ADD, true, R13, JITF(RCX, adjust));
    x86_load(&a, RAX, JITF(RCX, reason), 4, false);
    x86_jmp(&a, j->exit_common);
    /* exit_chain: rax = the struct jit_chain of a direct jump not linked yet */
    j->exit_chain = x86_here(&a);
    x86_load(&a, RCX, JIT_PTR, 8, false);
    x86_store(&a, RAX, JITF(RCX, chain_req), 8);
    x86_load(&a, RCX, x86_mem(RAX, (int32_t)offsetof(struct jit_chain, target)), 8, false);
    x86_store(&a, RCX, HART(pc), 8);
    x86_mov_ri(&a, RAX, JIT_EXIT_CHAIN);
    x86_jmp(&a, j->exit_common);
    j->code_free = a.p;
}

/* --- blocks --- */

/* Where scan() found the block's instructions. */
struct scan {
    unsigned n;                     /* instructions */
    uint16_t off[JIT_MAX_BLOCK_INSNS]; /* page offset of each */
    unsigned lo, hi;                /* the page bytes they come from: [lo, hi) */
    unsigned next;                  /* OP_BODY, OP_INTERP: page offset where the block goes on
                                       (the instruction for the interpreter) */
    enum op_class end;
    bool end_fence_i;
    unsigned end_len;               /* OP_INTERP: the length of the instruction it ends at */
    bool followed;                  /* a jump was followed (closes_loop) */
};

/* Decodes the instruction at page offset `off` into *in; false if it crosses into the next
 * page (the interpreter runs such an instruction). */
static bool decode_at(const uint8_t *page, unsigned off, struct rv_insn *in, unsigned *len)
{
    uint16_t lo;
    memcpy(&lo, page + off, 2);
    uint32_t raw = lo;
    if (rv_insn_len(lo) == 4) {
        if (off > 4096 - 4) {
            *len = 2;
            return false;
        }
        memcpy(&raw, page + off, 4);
    }
    rv_decode(raw, in);
    *len = in->len;
    return true;
}

/* Page offset of the target of a branch or JAL at page offset `off`, or -1 outside the page. */
static int target_off(const struct rv_insn *in, unsigned off)
{
    int64_t to = (int64_t)off + in->imm;
    return to >= 0 && to < 4096 ? (int)to : -1;
}

/* Traces through a `j` (JAL x0) that closes a loop. Compilers lay out loops so that the body
 * ends with a jump to the loop's condition elsewhere (`body: ...; j cond` and `cond: ...;
 * bltu ..., body`): each iteration would chain two blocks and reload its registers twice.
 * The block at `body` goes on at `cond` if the instructions there (up to `room` of them, to
 * the next jump) branch back to the block's first instruction: the block then is a loop
 * (translate_loop.c). `first_end` is where the block's first run of instructions ends; a
 * target inside [start, first_end) is already in the block. */
static bool closes_loop(const uint8_t *page, unsigned start, unsigned first_end, int to,
                        unsigned room)
{
    if (to < 0 || ((unsigned)to >= start && (unsigned)to < first_end))
        return false;
    unsigned off = (unsigned)to;
    for (unsigned i = 0; i < room && i < 16 && off < 4096; i++) {
        if (off >= start && off < first_end)
            return false;
        struct rv_insn in;
        unsigned len;
        if (!decode_at(page, off, &in, &len) || classify(in.op) == OP_INTERP)
            return false;
        if (is_cond_branch(in.op) || (in.op == RV_OP_JAL && in.rd == 0)) {
            if (target_off(&in, off) == (int)start)
                return true;
            if (in.op == RV_OP_JAL)
                return false;
        } else if (classify(in.op) == OP_BRANCH) {
            return false;
        }
        off += len;
    }
    return false;
}

/* Decodes the block starting at offset `start` of the page bytes `page`: at most
 * JIT_MAX_BLOCK_INSNS instructions, up to and including a branch, up to an instruction the
 * interpreter must run, or to the end of the page. A conditional branch does not end the
 * block (translate.c, emit_branch), and one `j` that closes a loop is followed
 * (closes_loop); the block then ends after the branch back to its start. */
static void scan(const uint8_t *page, unsigned start, struct rv_insn *ins, struct scan *s)
{
    unsigned n = 0, off = start, first_end = 4096;
    s->followed = false;
    s->end = OP_BODY;
    s->end_fence_i = false;
    s->end_len = 0;
    s->lo = s->hi = start;
    while (n < JIT_MAX_BLOCK_INSNS && off < 4096) {
        if (s->followed && off >= start && off < first_end)
            break; /* the rest is in the block already: go on there */
        unsigned len;
        if (!decode_at(page, off, &ins[n], &len)) {
            s->end = OP_INTERP;
            s->end_len = 2;
            break;
        }
        enum op_class cls = classify(ins[n].op);
        if (cls == OP_INTERP) {
            s->end = OP_INTERP;
            s->end_len = ins[n].len;
            s->end_fence_i = ins[n].op == RV_OP_FENCE_I;
            break;
        }
        const struct rv_insn *in = &ins[n];
        s->off[n++] = (uint16_t)off;
        if (off < s->lo)
            s->lo = off;
        if (off + len > s->hi)
            s->hi = off + len;
        unsigned at = off;
        off += len;
        if (cls != OP_BRANCH)
            continue;
        int to = target_off(in, at);
        if (in->op == RV_OP_JAL && in->rd == 0 && !s->followed &&
            closes_loop(page, start, off, to, JIT_MAX_BLOCK_INSNS - n)) {
            s->followed = true;
            first_end = off;
            off = (unsigned)to;
            continue;
        }
        if (!is_cond_branch(in->op) || off >= 4096 || n == JIT_MAX_BLOCK_INSNS ||
            (s->followed && to == (int)start)) {
            s->end = OP_BRANCH;
            break;
        }
    }
    s->n = n;
    s->next = off;
}

/* Emits the code of block b (instructions ins[0..n-1]); returns its entry, or 0 if out of
 * space. */
static uintptr_t emit_block(struct rv_jit *j, struct jit_block *b, const struct rv_insn *ins,
                            const struct scan *sc, bool counting)
{
    struct tr tr, *t = &tr;
    unsigned n = b->ninsns;
    t->j = j;
    t->a = (struct x86_asm){.p = j->code_free, .end = j->code_rw + j->code_size,
                            .rx_delta = j->code_rx - j->code_rw};
    t->b = b;
    t->n = n;
    t->ncold = 0;
    t->fail = false;
    t->counting = counting;
    t->loop = false;
    memset(t->nloads, 0, sizeof(t->nloads));
    memset(t->nstores, 0, sizeof(t->nstores));
    t->in_cold = false;
    /* Window accesses where user addresses fit the window: Sv39 (uwin.h) */
    t->uwin = j->hart->uwin_state && j->hart->data_mmu_idx == RV_MMU_U &&
              (j->hart->satp >> SATP_MODE_SHIFT) == SATP_MODE_SV39;
    const size_t nfix = j->nfix;
    t->ins = ins;
    for (unsigned k = 0; k < n; k++) {
        t->rmask[k] = jit_insn_read_mask(&ins[k]);
        t->wmask[k] = jit_insn_write_mask(&ins[k]);
    }
    t->insn_clock = 0;
    jit_rc_init(&t->rc);
    struct x86_asm *a = &t->a;
    uintptr_t entry = x86_here(a);
    enum jit_exit interp_exit = b->end_fence_i ? JIT_EXIT_FENCE_I : JIT_EXIT_INTERP;

    if (n == 0) {
        jit_exit_to(t, b->va, interp_exit);
    } else {
        t->k = 0;
        t->pc = b->va;
        x86_alu_mi(a, X86_CMP, false, HART(events), 0);
        jit_add_cold(t, COLD_ENTRY, x86_jcc_fwd(a, X86_CC_NE));
        if (!counting) {
            x86_alu_ri(a, X86_SUB, true, R13, (int32_t)n);
            jit_add_cold(t, COLD_ENTRY, x86_jcc_fwd(a, X86_CC_B))->refund = n;
        }
        const uint64_t page_va = b->va & ~0xfffull;
        for (unsigned k = 0; k < n; k++)
            t->ipc[k] = page_va + sc->off[k];
        jit_loop_plan(t, ins);
        jit_mem_plan(t, ins);
        if (t->loop) {
            struct regcache empty = t->rc;
            jit_rc_reconcile(t, &empty); /* the loop's registers */
            jit_rc_canon(t);
            t->loop_head = x86_here(a);
        }
        for (unsigned k = 0; k < n; k++) {
            t->k = k;
            t->pc = t->ipc[k];
            const struct rv_insn *in = &ins[k];
            if (t->join[k]) {
                struct regcache here = t->rc;
                jit_rc_reconcile(t, &here);
                jit_rc_canon(t);
                t->label[k] = x86_here(a);
            }
            t->insn_clock = t->rc.clock;
            if (classify(in->op) == OP_BRANCH) {
                if (counting)
                    x86_alu_ri(a, X86_SUB, true, R13, 1); /* the next block checks */
                emit_branch(t, in);
            } else if (!counting && k + 1 < n && !t->join[k + 1] &&
                       jit_emit_alu_pair(t, in, &ins[k + 1])) {
                /* two instructions as one (nothing can stop between them outside the
                 * counting variant) */
                t->k = ++k;
                t->pc = t->ipc[k];
            } else {
                if (in->op >= RV_OP_CSRRW && in->op <= RV_OP_CSRRCI)
                    emit_csr(t, in);
                else if (!jit_emit_mem(t, in) && !jit_emit_alu(t, in))
                    emit_exec(t, in);
                if (counting) {
                    x86_alu_ri(a, X86_SUB, true, R13, 1);
                    struct cold *c = jit_add_cold(t, COLD_ENTRY, x86_jcc_fwd(a, X86_CC_E));
                    c->pc = t->pc + in->len; /* the budget is spent: leave after this one */
                    c->pre = t->rc;
                }
            }
        }
        t->k = n;
        t->pc = page_va + sc->next;
        const uint64_t pc = t->pc;
        if (b->end == OP_INTERP) {
            jit_rc_flush(t);
            jit_exit_to(t, pc, interp_exit);
        }
        else if (b->end == OP_BODY)
            goto_pc(t, pc); /* page end or JIT_MAX_BLOCK_INSNS */
        t->in_cold = true;
        for (unsigned i = 0; i < t->ncold; i++)
            emit_cold(t, &t->cold[i]);
    }
    if (a->overflow || t->fail) {
        j->nfix = nfix; /* the code is not kept */
        return 0;
    }
    if (!counting) {
        j->stats.rc_loads += t->nloads[0];
        j->stats.rc_stores += t->nstores[0];
        j->stats.rc_cold_loads += t->nloads[1];
        j->stats.rc_cold_stores += t->nstores[1];
        j->stats.loop_blocks += t->loop;
        j->stats.loops_followed += t->loop && sc->followed;
    }
    jit_note_code(j, b, entry, x86_here(a), counting);
    j->code_free = (uint8_t *)(((uintptr_t)a->p + 15) & ~(uintptr_t)15);
    return entry;
}

struct jit_block *jit_translate(struct rv_jit *j, struct jit_page *p, uint64_t va,
                                uint64_t paddr, const uint8_t *host)
{
    struct rv_insn ins[JIT_MAX_BLOCK_INSNS];
    struct scan sc;
    unsigned start = (unsigned)(va & 0xfff);
    scan(host, start, ins, &sc);
    if (sc.n == 0)
        sc.hi = start + sc.end_len; /* for the FENCE.I check of the bytes */
    unsigned len = sc.hi - sc.lo;
    struct jit_block *b = jit_alloc(j, sizeof(*b));
    uint8_t *guest = jit_alloc(j, len);
    if (!b || !guest)
        return NULL;
    memcpy(guest, host + sc.lo, len);
    *b = (struct jit_block){.va = va, .paddr = paddr, .page = p, .guest = guest,
                            .guest_off = (uint16_t)sc.lo, .len = (uint16_t)len,
                            .ninsns = (uint16_t)sc.n, .end = (uint8_t)sc.end,
                            .end_fence_i = sc.end_fence_i};
    b->code = emit_block(j, b, ins, &sc, false);
    if (!b->code)
        return NULL;
    jit_register_block(j, b);
    return b;
}

bool jit_translate_counting(struct rv_jit *j, struct jit_block *b)
{
    /* The same instructions again, from the copy of their bytes (which still match guest
     * memory: the block would be dead otherwise). */
    uint8_t page[4096 + 4];
    struct rv_insn ins[JIT_MAX_BLOCK_INSNS];
    struct scan sc;
    memset(page, 0, sizeof(page));
    memcpy(page + b->guest_off, b->guest, b->len);
    scan(page, (unsigned)(b->va & 0xfff), ins, &sc);
    if (sc.n != b->ninsns)
        return false;
    b->counting = emit_block(j, b, ins, &sc, true);
    return b->counting != 0;
}
