/* Shared by the block translator (translate.c) and the ALU operations (translate_alu.c). */
#ifndef RV_JIT_TRANSLATE_H
#define RV_JIT_TRANSLATE_H

#include <stddef.h>

#include "jit/jit_internal.h"

enum { RAX = X86_RAX, RCX = X86_RCX, RDX = X86_RDX, RBX = X86_RBX, RSP = X86_RSP,
       RBP = X86_RBP, RSI = X86_RSI, RDI = X86_RDI, R12 = X86_R12, R13 = X86_R13,
       R14 = X86_R14, R15 = X86_R15 };

#define XR(r) x86_mem(RBX, 8 * (int32_t)(r) - JIT_HART_BIAS)
#define HART(f) x86_mem(RBX, JIT_HART_OFF(f))
/* The struct rv_jit and the fetch TLB are kept in the trampoline's frame (translate.c):
 * helpers, exits and lookups load JIT_PTR into a register and reach fields through it with
 * JITF(reg, f). */
#define JIT_PTR x86_mem(RSP, 0)
#define JIT_FETCH_TLB x86_mem(RSP, 8)
/* frame slots of base groups (translate_mem.c): the TLB addend a group's leader found, or 1 */
#define JIT_GROUP_SLOTS 8
#define JIT_GROUP_SLOT(i) x86_mem(RSP, 24 + 8 * (int32_t)(i))
#define JIT_FRAME (24 + 8 * JIT_GROUP_SLOTS) /* keeps rsp % 16 == 0 after six pushes */
#define JITF(reg, f) x86_mem(reg, (int32_t)offsetof(struct rv_jit, f))

_Static_assert(sizeof(struct rv_tlb_entry) == 16, "TLB entry layout used by translated code");
#define TLB_ENTRY_SHIFT 4 /* log2 of its size: the table index of va is (va >> (12 - 4)) & ... */
_Static_assert(offsetof(struct rv_tlb_entry, tag) == 0, "TLB entry layout");
_Static_assert(offsetof(struct rv_tlb_entry, addend) == 8, "TLB entry layout");
#define TLB_WRITE_OFF ((int32_t)(RV_TLB_SIZE * sizeof(struct rv_tlb_entry)))

/* 32-bit host register `reg`, holding the low bits of a guest address, becomes the byte offset
 * of the address's entry in a TLB table. */
static inline void jit_tlb_index(struct x86_asm *a, unsigned reg)
{
    x86_shift_ri(a, X86_SHR, false, reg, 12 - TLB_ENTRY_SHIFT);
    x86_alu_ri(a, X86_AND, false, reg, (int32_t)((RV_TLB_SIZE - 1) << TLB_ENTRY_SHIFT));
}

/* Guest registers cached in host registers within a block. Slots are written back before
 * anything that leaves the block or calls out, and reloaded after calls (the slot registers
 * are caller-saved, except rbp, r12 and r15). */
#define RC_SLOTS 8
struct regcache {
    int8_t guest[RC_SLOTS];  /* guest register in the slot, or -1 */
    bool dirty[RC_SLOTS];    /* the hart's copy is stale */
    uint32_t used[RC_SLOTS]; /* last use (clock), for eviction */
    uint32_t clock;
};

/* Out-of-line code, emitted after the block's main path. */
enum cold_kind { COLD_ENTRY, COLD_LOAD, COLD_STORE, COLD_CHAIN, COLD_LOOKUP, COLD_TAKEN,
                 COLD_EXEC, COLD_LOOP, COLD_JOIN, COLD_LEADER, COLD_MEMBER };

struct cold {
    enum cold_kind kind;
    uint8_t *jump, *jump2;   /* rel32 fields of the jumps into this code */
    uint64_t pc;             /* the instruction's address (ENTRY: where to continue; LOOKUP,
                                TAKEN: the jump's target) */
    unsigned refund;         /* ENTRY, TAKEN, LOOP, JOIN: budget units to give back (of
                                instructions counted at the entry but not run) */
    uintptr_t resume;        /* LOAD/STORE: where the main path continues */
    uint32_t site;           /* LOAD/STORE/EXEC: JIT_SITE() */
    const struct rv_insn *insn; /* EXEC: the instruction the interpreter runs (a copy in the
                                   arena) */
    unsigned size, rd;       /* LOAD; JOIN: rd = the instruction jumped to */
    bool sign;
    bool write;              /* STORE, LEADER, MEMBER: a store (rcx = the value) */
    uintptr_t access;        /* LEADER: the access on the main path (at rsi + rdx); LOAD,
                                STORE with uwin: the window access */
    bool uwin;               /* LOAD, STORE: through the window (jit_uwin.c) */
    unsigned anchor;         /* LOAD, STORE with uwin: the guest register whose limit check
                                later accesses rely on (translate_mem.c), or 0 */
    unsigned slot;           /* LEADER: its group's frame slot */
    unsigned base, host;     /* MEMBER: host registers of the base and of the loaded value */
    int32_t imm;             /* MEMBER: the offset */
    struct jit_chain *chain; /* CHAIN */
    struct regcache pre;     /* the cache where the main path jumps here (ENTRY, LOAD, STORE,
                                EXEC) */
    struct regcache post;    /* ... and where it resumes (LOAD, STORE, EXEC) */
};

#define MAX_COLD (3 * JIT_MAX_BLOCK_INSNS + 8)

struct tr {
    struct rv_jit *j;
    struct x86_asm a;
    struct jit_block *b;
    unsigned n;      /* instructions in the block */
    unsigned k;      /* the one being translated */
    uint64_t pc;     /* its address */
    unsigned ncold;
    bool fail;       /* the arena is full */
    bool counting;   /* the counting variant (see translate.c) */
    struct regcache rc;
    uint32_t insn_clock;       /* rc.clock when instruction k began (its slots stay) */
    const struct rv_insn *ins; /* the block's instructions (eviction looks ahead) */
    bool in_cold;             /* emitting the out-of-line code */
    bool uwin;                /* U-mode loads and stores go through the host-MMU window */
    unsigned nloads[2], nstores[2]; /* guest register loads/stores emitted, main path and
                                       out-of-line code (RVISOR_JIT_STATS) */
    struct cold cold[MAX_COLD];
    /* loops inside the block (translate_loop.c) */
    uint64_t ipc[JIT_MAX_BLOCK_INSNS];     /* address of each instruction */
    bool loop;                             /* a branch goes back to the first instruction */
    struct regcache canon;                 /* the cache at the loop head and join points */
    uintptr_t loop_head;                   /* the first instruction's code, after the entry */
    bool join[JIT_MAX_BLOCK_INSNS];        /* a forward branch of the block lands here */
    uintptr_t label[JIT_MAX_BLOCK_INSNS];  /* code of join points */
    /* accesses sharing a TLB check (translate_mem.c) */
    uint8_t mrole[JIT_MAX_BLOCK_INSNS];    /* MEM_PLAIN, MEM_LEADER or MEM_MEMBER */
    uint8_t mslot[JIT_MAX_BLOCK_INSNS];    /* LEADER, MEMBER: the group's frame slot */
    bool mwrite[JIT_MAX_BLOCK_INSNS];      /* LEADER: the group has a store (checks for it) */
    int16_t mlo[JIT_MAX_BLOCK_INSNS], mhi[JIT_MAX_BLOCK_INSNS]; /* LEADER: the group's first
                                             and last byte relative to the leader's address */
    bool wcheck[JIT_MAX_BLOCK_INSNS];      /* window access k compares its base with the
                                              limit (translate_mem.c) */
    /* registers each instruction reads and may write (jit_insn_read_mask(), ..._write_mask()):
     * the register cache's look-ahead */
    uint32_t rmask[JIT_MAX_BLOCK_INSNS], wmask[JIT_MAX_BLOCK_INSNS];
};
enum { MEM_PLAIN, MEM_LEADER, MEM_MEMBER };

/* translate_rc.c: the host registers of the register cache's slots. */
extern const uint8_t jit_rc_host[RC_SLOTS];

/* translate_rc.c: the register cache. */
void jit_rc_init(struct regcache *rc);           /* empty, clock 0 */
/* the stores of the dirty slots of `rc` / the loads of all its slots from the hart (code only:
 * the translator's cache stays as it is) */
void jit_rc_write_back(struct tr *t, const struct regcache *rc);
void jit_rc_reload(struct tr *t, const struct regcache *rc);
unsigned jit_rc_get(struct tr *t, unsigned r);   /* host register holding x[r], r != 0 */
unsigned jit_rc_def(struct tr *t, unsigned rd);  /* host register to write x[rd] to, rd != 0 */
void jit_rc_flush(struct tr *t);                 /* write all dirty slots back */
void jit_rc_forget(struct tr *t);                /* empty the cache (after flush and a call) */
/* Whether x[r] (r != 0) is best read from the hart as a memory operand: not cached (so the
 * hart's copy is current) and not read again in the block (a slot would not pay). */
bool jit_rc_in_hart(const struct tr *t, unsigned r);
/* host register `host` = x[r] from the hart / x[r] in the hart = `host` (counted for
 * RVISOR_JIT_STATS) */
void jit_rc_load(struct tr *t, unsigned host, unsigned r);
void jit_rc_store(struct tr *t, unsigned host, unsigned r);

/* x[rd] = imm (nothing for rd = 0). Changes the flags for imm = 0. */
static inline void set_reg_imm(struct tr *t, unsigned rd, uint64_t imm)
{
    if (rd)
        x86_mov_ri(&t->a, jit_rc_def(t, rd), imm);
}

/* host register `reg` = x[r] (64 bits) */
static inline void load_x(struct tr *t, unsigned reg, unsigned r)
{
    if (r == 0)
        x86_mov_ri(&t->a, reg, 0);
    else if (jit_rc_in_hart(t, r))
        jit_rc_load(t, reg, r);
    else
        x86_mov_rr(&t->a, reg, jit_rc_get(t, r));
}

/* host register `reg` = low 32 bits of x[r], zero-extended */
static inline void load_x32(struct tr *t, unsigned reg, unsigned r)
{
    if (r == 0) {
        x86_mov_ri(&t->a, reg, 0);
    } else if (jit_rc_in_hart(t, r)) {
        x86_load(&t->a, reg, XR(r), 4, false);
        t->nloads[t->in_cold]++;
    } else {
        x86_mov_rr32(&t->a, reg, jit_rc_get(t, r));
    }
}

/* x[rd] = host register `reg` (nothing for rd = 0) */
static inline void store_x(struct tr *t, unsigned reg, unsigned rd)
{
    if (!rd)
        return;
    unsigned h = jit_rc_def(t, rd);
    if (h != reg)
        x86_mov_rr(&t->a, h, reg);
}

/* x[rd] = sign-extended low 32 bits of reg (nothing for rd = 0) */
static inline void store_x_w(struct tr *t, unsigned reg, unsigned rd)
{
    if (rd)
        x86_extend_rr(&t->a, jit_rc_def(t, rd), reg, 4, true);
}

/* host register dst op= x[r] */
static inline void alu_x(struct tr *t, enum x86_alu op, bool wide, unsigned dst, unsigned r)
{
    if (r == 0) {
        x86_alu_ri(&t->a, op, wide, dst, 0);
    } else if (jit_rc_in_hart(t, r)) {
        x86_alu_rm(&t->a, op, wide, dst, XR(r));
        t->nloads[t->in_cold]++;
    } else {
        x86_alu_rr(&t->a, op, wide, dst, jit_rc_get(t, r));
    }
}

/* translate_rc.c: whether `in` reads x[r], by its decoded fields (more registers than it reads
 * for some operations, never fewer), and whether it certainly writes x[r] (integer operations
 * with a destination). Hints for the register cache's choices only. */
bool jit_insn_reads(const struct rv_insn *in, unsigned r);
bool jit_insn_writes(const struct rv_insn *in, unsigned r);
/* The same as bit masks of x1..x31 (bit r: x[r]; bit 0 never set). */
uint32_t jit_insn_read_mask(const struct rv_insn *in);
uint32_t jit_insn_write_mask(const struct rv_insn *in);

/* translate.c: out-of-line code reached through the rel32 field `jump` (and c->jump2). */
struct cold *jit_add_cold(struct tr *t, enum cold_kind kind, uint8_t *jump);
/* translate.c: the exit information of the instruction being translated for the helpers
 * (JIT_SITE). */
uint32_t jit_site(const struct tr *t, unsigned size, unsigned len);
/* translate.c: leaves the block for the dispatcher with h->pc = pc and the given reason (nothing
 * to give back to the budget; the guest registers must be in the hart). */
void jit_exit_to(struct tr *t, uint64_t pc, enum jit_exit why);
/* translate_mem.c: rsi = x[rs1] + imm. */
void jit_emit_va(struct tr *t, unsigned rs1, int64_t imm);
/* translate_mem.c: plans the block's base groups (t->n, t->join set); translates `in` if it is
 * a load, store or atomic done natively (false otherwise); emits COLD_LOAD, COLD_STORE,
 * COLD_LEADER and COLD_MEMBER. */
void jit_mem_plan(struct tr *t, const struct rv_insn *ins);
bool jit_emit_mem(struct tr *t, const struct rv_insn *in);
void jit_emit_mem_cold(struct tr *t, const struct cold *c);
/* translate_mem.c: TLB fast path for a `size`-byte access at rsi (rsi becomes the host address on
 * a hit inside one page); returns the rel32 field of the jump taken otherwise. Clobbers rax,
 * rdx. */
uint8_t *jit_emit_tlb(struct tr *t, unsigned size, bool write);

/* jit_uwin.c: the window access at `access` goes to out-of-line code `cold` when the window
 * will not map its page (sets t->fail if the table is full). */
void jit_uwin_note(struct tr *t, uintptr_t access, uintptr_t cold);

/* translate_amo.c: translates `in` if it is an AMO, LR/SC or CBO.ZERO done natively (with the
 * interpreter as the out-of-line path); false otherwise. */
bool jit_emit_atomic(struct tr *t, const struct rv_insn *in);

/* translate_loop.c: finds the loop and the join points of a block (t->n, t->ipc set) and
 * chooses the canonical cache; jit_rc_canon() makes it the translator's, jit_rc_reconcile()
 * emits the code that brings a cache to it, jit_rc_pinned() says whether a slot holds its
 * canonical register, jit_emit_loop_cold() emits COLD_LOOP and COLD_JOIN. */
void jit_loop_plan(struct tr *t, const struct rv_insn *ins);
void jit_rc_canon(struct tr *t);
void jit_rc_reconcile(struct tr *t, const struct regcache *rc);
bool jit_rc_pinned(const struct tr *t, int slot);
void jit_emit_loop_cold(struct tr *t, const struct cold *c);

/* translate_alu.c: translates `in` if it is one of the operations done natively without
 * memory accesses or exits; false otherwise (the caller hands it to the interpreter). */
bool jit_emit_alu(struct tr *t, const struct rv_insn *in);
/* translate_alu.c: two adjacent instructions as one where that is shorter; false if not */
bool jit_emit_alu_pair(struct tr *t, const struct rv_insn *a, const struct rv_insn *b);

#endif
