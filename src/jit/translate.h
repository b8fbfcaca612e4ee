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
#define JITF(f) x86_mem(R12, (int32_t)offsetof(struct rv_jit, f))

_Static_assert(sizeof(struct rv_tlb_entry) == 32, "TLB entry layout used by translated code");
_Static_assert(offsetof(struct rv_tlb_entry, tag) == 0, "TLB entry layout");
_Static_assert(offsetof(struct rv_tlb_entry, addend) == 8, "TLB entry layout");
#define TLB_WRITE_OFF ((int32_t)(RV_TLB_SIZE * sizeof(struct rv_tlb_entry)))

/* Out-of-line code, emitted after the block's main path. */
enum cold_kind { COLD_ENTRY, COLD_LOAD, COLD_STORE, COLD_CHAIN };

struct cold {
    enum cold_kind kind;
    uint8_t *jump, *jump2;   /* rel32 fields of the jumps into this code */
    uint64_t pc;             /* the instruction's address (ENTRY: where to continue) */
    uintptr_t resume;        /* LOAD/STORE: where the main path continues */
    uint32_t site;           /* LOAD/STORE: JIT_SITE() */
    unsigned size, rd;       /* LOAD */
    bool sign;
    struct jit_chain *chain; /* CHAIN */
};

#define MAX_COLD (2 * JIT_MAX_BLOCK_INSNS + 4)

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
    struct cold cold[MAX_COLD];
};


/* x[rd] = imm (rd != 0), without touching rax. */
static inline void set_reg_imm(struct tr *t, unsigned rd, uint64_t imm)
{
    if (x86_is_s32((int64_t)imm)) {
        x86_store_imm(&t->a, XR(rd), (int32_t)imm);
    } else {
        x86_mov_ri(&t->a, RCX, imm);
        x86_store(&t->a, RCX, XR(rd), 8);
    }
}

static inline void load_x(struct tr *t, unsigned reg, unsigned r)
{
    if (r == 0)
        x86_mov_ri(&t->a, reg, 0);
    else
        x86_load(&t->a, reg, XR(r), 8, false);
}

static inline void load_x32(struct tr *t, unsigned reg, unsigned r)
{
    if (r == 0)
        x86_mov_ri(&t->a, reg, 0);
    else
        x86_load(&t->a, reg, XR(r), 4, false);
}

static inline void store_x(struct tr *t, unsigned reg, unsigned rd)
{
    if (rd)
        x86_store(&t->a, reg, XR(rd), 8);
}

/* x[rd] = sign-extended low 32 bits of reg */
static inline void store_x_w(struct tr *t, unsigned reg, unsigned rd)
{
    x86_extend_rr(&t->a, reg, reg, 4, true);
    store_x(t, reg, rd);
}

/* translate_alu.c: translates `in` if it is one of the operations done natively without
 * memory accesses or exits; false otherwise (the caller hands it to the interpreter). */
bool jit_emit_alu(struct tr *t, const struct rv_insn *in);

#endif
