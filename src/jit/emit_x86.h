/* A small x86-64 machine-code encoder for the translator (Intel SDM vol. 2, chapter 2:
 * REX prefixes, ModRM, SIB, displacements). Only what the translator uses; every function
 * emits one instruction. Code is written through a writable view of the code cache while it
 * runs from an executable view at `rx_delta` bytes away (W^X), so relative branches are
 * computed from executable addresses. */
#ifndef RV_JIT_EMIT_X86_H
#define RV_JIT_EMIT_X86_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum x86_reg {
    X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
    X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};

/* Condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
enum x86_cc {
    X86_CC_O, X86_CC_NO, X86_CC_B, X86_CC_AE, X86_CC_E, X86_CC_NE, X86_CC_BE, X86_CC_A,
    X86_CC_S, X86_CC_NS, X86_CC_P, X86_CC_NP, X86_CC_L, X86_CC_GE, X86_CC_LE, X86_CC_G,
};

/* The ALU group: op r/m, r is opcode 8*op+1; op r, r/m is 8*op+3; 0x81/0x83 use /op. */
enum x86_alu { X86_ADD, X86_OR, X86_ADC, X86_SBB, X86_AND, X86_SUB, X86_XOR, X86_CMP };

/* The shift group (/n of C1, D3). */
enum x86_shift { X86_ROL = 0, X86_ROR = 1, X86_SHL = 4, X86_SHR = 5, X86_SAR = 7 };

struct x86_asm {
    uint8_t *p;        /* next byte (writable view) */
    uint8_t *end;      /* end of the space */
    intptr_t rx_delta; /* executable address = writable address + rx_delta */
    bool overflow;     /* ran out of space: the output is unusable */
};

/* A memory operand [base + index * 2^scale + disp]; index < 0 for none; `gs`: relative to
 * the GS segment's base (the host-MMU window, cpu/uwin.h). */
struct x86_mem {
    int base, index;
    unsigned scale;
    int32_t disp;
    bool gs;
};

static inline struct x86_mem x86_mem(int base, int32_t disp)
{
    return (struct x86_mem){base, -1, 0, disp, false};
}

static inline struct x86_mem x86_mem_idx(int base, int index, unsigned scale, int32_t disp)
{
    return (struct x86_mem){base, index, scale, disp, false};
}

static inline struct x86_mem x86_mem_gs(int base, int32_t disp)
{
    return (struct x86_mem){base, -1, 0, disp, true};
}

/* Executable address of the next byte. */
static inline uintptr_t x86_here(const struct x86_asm *a)
{
    return (uintptr_t)a->p + (uintptr_t)a->rx_delta;
}

static inline void x86_bytes(struct x86_asm *a, const void *src, unsigned n)
{
    if (a->overflow || (size_t)(a->end - a->p) < n) {
        a->overflow = true;
        return;
    }
    memcpy(a->p, src, n);
    a->p += n;
}

static inline void x86_u8(struct x86_asm *a, unsigned v)
{
    if (a->p < a->end)
        *a->p++ = (uint8_t)v;
    else
        a->overflow = true;
}

static inline void x86_u32(struct x86_asm *a, uint32_t v)
{
    x86_bytes(a, &v, 4);
}

static inline void x86_u64(struct x86_asm *a, uint64_t v)
{
    x86_bytes(a, &v, 8);
}

static inline bool x86_is_s8(int64_t v)
{
    return v >= -128 && v <= 127;
}

static inline bool x86_is_s32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

/* Optional 0x66/0xF3 prefix, REX, then the opcode bytes (opc holds up to 3 bytes, first byte
 * in the highest nonzero position). `force_rex`: an 8-bit operand is SPL, BPL, SIL or DIL,
 * which exist only with a REX prefix. */
static inline void x86_head(struct x86_asm *a, unsigned pfx, bool w, unsigned reg, int index,
                            int base, uint32_t opc, bool force_rex)
{
    if (pfx)
        x86_u8(a, pfx);
    unsigned rex = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) |
                   (index >= 0 && (index & 8) ? 2 : 0) | (base >= 0 && (base & 8) ? 1 : 0);
    if (rex != 0x40 || force_rex)
        x86_u8(a, rex);
    if (opc > 0xffff)
        x86_u8(a, opc >> 16);
    if (opc > 0xff)
        x86_u8(a, opc >> 8);
    x86_u8(a, opc);
}

static inline bool x86_needs_rex8(unsigned reg)
{
    return reg >= X86_RSP && reg <= X86_RDI;
}

/* opcode with a register operand `reg` (or /digit) and a memory operand. */
static inline void x86_op_mem(struct x86_asm *a, unsigned pfx, bool w, uint32_t opc, unsigned reg,
                              struct x86_mem m, bool force_rex)
{
    if (m.gs)
        x86_u8(a, 0x65); /* GS segment override */
    x86_head(a, pfx, w, reg, m.index, m.base, opc, force_rex);
    unsigned r = (reg & 7) << 3;
    bool sib = m.index >= 0 || (m.base & 7) == X86_RSP;
    unsigned rm = sib ? 4 : (unsigned)(m.base & 7);
    unsigned mod = (m.disp == 0 && (m.base & 7) != X86_RBP) ? 0 : x86_is_s8(m.disp) ? 1 : 2;
    x86_u8(a, (mod << 6) | r | rm);
    if (sib) {
        unsigned idx = m.index >= 0 ? (unsigned)(m.index & 7) : 4; /* 4: no index */
        x86_u8(a, (m.scale << 6) | (idx << 3) | (unsigned)(m.base & 7));
    }
    if (mod == 1)
        x86_u8(a, (uint8_t)(int8_t)m.disp);
    else if (mod == 2)
        x86_u32(a, (uint32_t)m.disp);
}

/* opcode with two register operands: `reg` in ModRM.reg, `rm` in ModRM.rm. `byte_regs`: both
 * are 8-bit registers. */
static inline void x86_op_rr(struct x86_asm *a, unsigned pfx, bool w, uint32_t opc, unsigned reg,
                             unsigned rm, bool byte_regs)
{
    x86_head(a, pfx, w, reg, -1, (int)rm, opc,
             byte_regs && (x86_needs_rex8(reg) || x86_needs_rex8(rm)));
    x86_u8(a, 0xc0 | ((reg & 7) << 3) | (rm & 7));
}

/* --- moves --- */

static inline void x86_mov_rr(struct x86_asm *a, unsigned dst, unsigned src)
{
    x86_op_rr(a, 0, true, 0x89, src, dst, false);
}

static inline void x86_mov_rr32(struct x86_asm *a, unsigned dst, unsigned src)
{
    x86_op_rr(a, 0, false, 0x89, src, dst, false);
}

/* dst = imm, with the shortest encoding. */
static inline void x86_mov_ri(struct x86_asm *a, unsigned dst, uint64_t imm)
{
    if (imm == 0) {
        x86_op_rr(a, 0, false, 0x31, dst, dst, false); /* xor r32, r32 */
    } else if (imm <= UINT32_MAX) {
        x86_head(a, 0, false, 0, -1, (int)dst, 0xb8 + (dst & 7), false);
        x86_u32(a, (uint32_t)imm);
    } else if (x86_is_s32((int64_t)imm)) {
        x86_head(a, 0, true, 0, -1, (int)dst, 0xc7, false);
        x86_u8(a, 0xc0 | (dst & 7));
        x86_u32(a, (uint32_t)imm);
    } else {
        x86_head(a, 0, true, 0, -1, (int)dst, 0xb8 + (dst & 7), false);
        x86_u64(a, imm);
    }
}

/* reg = [m], `size` bytes (1, 2, 4, 8), zero- or sign-extended to 64 bits. */
static inline void x86_load(struct x86_asm *a, unsigned reg, struct x86_mem m, unsigned size,
                            bool sign)
{
    switch (size) {
    case 1: x86_op_mem(a, 0, sign, sign ? 0x0fbe : 0x0fb6, reg, m, false); break;
    case 2: x86_op_mem(a, 0, sign, sign ? 0x0fbf : 0x0fb7, reg, m, false); break;
    case 4:
        if (sign)
            x86_op_mem(a, 0, true, 0x63, reg, m, false); /* movsxd */
        else
            x86_op_mem(a, 0, false, 0x8b, reg, m, false);
        break;
    default: x86_op_mem(a, 0, true, 0x8b, reg, m, false); break;
    }
}

/* [m] = low `size` bytes of reg. */
static inline void x86_store(struct x86_asm *a, unsigned reg, struct x86_mem m, unsigned size)
{
    switch (size) {
    case 1: x86_op_mem(a, 0, false, 0x88, reg, m, x86_needs_rex8(reg)); break;
    case 2: x86_op_mem(a, 0x66, false, 0x89, reg, m, false); break;
    case 4: x86_op_mem(a, 0, false, 0x89, reg, m, false); break;
    default: x86_op_mem(a, 0, true, 0x89, reg, m, false); break;
    }
}

/* qword [m] = sign-extended imm32 */
static inline void x86_store_imm(struct x86_asm *a, struct x86_mem m, int32_t imm)
{
    x86_op_mem(a, 0, true, 0xc7, 0, m, false);
    x86_u32(a, (uint32_t)imm);
}

/* dword [m] = imm32 */
static inline void x86_store_imm32(struct x86_asm *a, struct x86_mem m, uint32_t imm)
{
    x86_op_mem(a, 0, false, 0xc7, 0, m, false);
    x86_u32(a, imm);
}

static inline void x86_lea(struct x86_asm *a, unsigned dst, struct x86_mem m)
{
    x86_op_mem(a, 0, true, 0x8d, dst, m, false);
}

/* dst32 = the low 32 bits of the address m, zero-extended */
static inline void x86_lea32(struct x86_asm *a, unsigned dst, struct x86_mem m)
{
    x86_op_mem(a, 0, false, 0x8d, dst, m, false);
}

/* movsx/movzx between registers: dst = extend(low `size` bytes of src). */
static inline void x86_extend_rr(struct x86_asm *a, unsigned dst, unsigned src, unsigned size,
                                 bool sign)
{
    if (size == 4) {
        if (sign)
            x86_op_rr(a, 0, true, 0x63, dst, src, false);
        else
            x86_mov_rr32(a, dst, src);
        return;
    }
    uint32_t opc = size == 1 ? (sign ? 0x0fbe : 0x0fb6) : (sign ? 0x0fbf : 0x0fb7);
    x86_head(a, 0, sign, dst, -1, (int)src, opc, size == 1 && x86_needs_rex8(src));
    x86_u8(a, 0xc0 | ((dst & 7) << 3) | (src & 7));
}

/* --- arithmetic --- */

static inline void x86_alu_rr(struct x86_asm *a, enum x86_alu op, bool w, unsigned dst,
                              unsigned src)
{
    x86_op_rr(a, 0, w, 8 * op + 1, src, dst, false);
}

/* dst op= [m] */
static inline void x86_alu_rm(struct x86_asm *a, enum x86_alu op, bool w, unsigned dst,
                              struct x86_mem m)
{
    x86_op_mem(a, 0, w, 8 * op + 3, dst, m, false);
}

static inline void x86_alu_ri(struct x86_asm *a, enum x86_alu op, bool w, unsigned dst,
                              int32_t imm)
{
    if (x86_is_s8(imm)) {
        x86_op_rr(a, 0, w, 0x83, op, dst, false);
        x86_u8(a, (uint8_t)imm);
    } else {
        x86_op_rr(a, 0, w, 0x81, op, dst, false);
        x86_u32(a, (uint32_t)imm);
    }
}

/* [m] op= imm (64-bit or 32-bit) */
static inline void x86_alu_mi(struct x86_asm *a, enum x86_alu op, bool w, struct x86_mem m,
                              int32_t imm)
{
    if (x86_is_s8(imm)) {
        x86_op_mem(a, 0, w, 0x83, op, m, false);
        x86_u8(a, (uint8_t)imm);
    } else {
        x86_op_mem(a, 0, w, 0x81, op, m, false);
        x86_u32(a, (uint32_t)imm);
    }
}

static inline void x86_shift_ri(struct x86_asm *a, enum x86_shift op, bool w, unsigned reg,
                                unsigned imm)
{
    x86_op_rr(a, 0, w, 0xc1, op, reg, false);
    x86_u8(a, imm);
}

/* reg op= cl (the count is masked to 6 bits, or 5 for 32-bit operations, as RISC-V does) */
static inline void x86_shift_cl(struct x86_asm *a, enum x86_shift op, bool w, unsigned reg)
{
    x86_op_rr(a, 0, w, 0xd3, op, reg, false);
}

/* /digit forms of F7: 2 not, 3 neg, 4 mul, 5 imul, 6 div, 7 idiv (operand reg) */
static inline void x86_f7(struct x86_asm *a, unsigned digit, bool w, unsigned reg)
{
    x86_op_rr(a, 0, w, 0xf7, digit, reg, false);
}

static inline void x86_imul_rr(struct x86_asm *a, bool w, unsigned dst, unsigned src)
{
    x86_op_rr(a, 0, w, 0x0faf, dst, src, false);
}

static inline void x86_test_rr(struct x86_asm *a, bool w, unsigned r1, unsigned r2)
{
    x86_op_rr(a, 0, w, 0x85, r2, r1, false);
}

/* test al, imm8 */
static inline void x86_test_al(struct x86_asm *a, uint8_t imm)
{
    x86_u8(a, 0xa8);
    x86_u8(a, imm);
}

static inline void x86_cqo(struct x86_asm *a)
{
    x86_u8(a, 0x48);
    x86_u8(a, 0x99);
}

static inline void x86_cdq(struct x86_asm *a)
{
    x86_u8(a, 0x99);
}

/* dst8 = cc (dst must be RAX..RBX or have a REX prefix, which this adds). */
static inline void x86_setcc(struct x86_asm *a, enum x86_cc cc, unsigned dst)
{
    x86_head(a, 0, false, 0, -1, (int)dst, 0x0f90 + cc, x86_needs_rex8(dst));
    x86_u8(a, 0xc0 | (dst & 7));
}

static inline void x86_cmov(struct x86_asm *a, enum x86_cc cc, unsigned dst, unsigned src)
{
    x86_op_rr(a, 0, true, 0x0f40 + cc, dst, src, false);
}

static inline void x86_bswap(struct x86_asm *a, unsigned reg)
{
    x86_head(a, 0, true, 0, -1, (int)reg, 0x0fc8 + (reg & 7), false);
}

/* F3 0F xx forms: B8 popcnt, BC tzcnt, BD lzcnt */
static inline void x86_f3_0f(struct x86_asm *a, unsigned op, bool w, unsigned dst, unsigned src)
{
    x86_op_rr(a, 0xf3, w, 0x0f00 | op, dst, src, false);
}

/* bt family with a register bit index: A3 bt, AB bts, B3 btr, BB btc */
static inline void x86_bt_rr(struct x86_asm *a, unsigned op, unsigned reg, unsigned bit)
{
    x86_op_rr(a, 0, true, 0x0f00 | op, bit, reg, false);
}

/* bt family with an immediate bit index: /4 bt, /5 bts, /6 btr, /7 btc */
static inline void x86_bt_ri(struct x86_asm *a, unsigned digit, unsigned reg, unsigned bit)
{
    x86_op_rr(a, 0, true, 0x0fba, digit, reg, false);
    x86_u8(a, bit);
}

/* lock-prefixed opcode with a register and a memory operand: 0FC1 xadd, 0FB1 cmpxchg
 * (rax holds the expected value; ZF set if it matched) */
static inline void x86_lock_op_mem(struct x86_asm *a, bool w, uint32_t opc, unsigned reg,
                                   struct x86_mem m)
{
    x86_op_mem(a, 0xf0, w, opc, reg, m, false);
}

/* spin-wait hint: the other logical CPU of the core gets its resources meanwhile */
static inline void x86_pause(struct x86_asm *a)
{
    static const uint8_t b[] = {0xf3, 0x90};
    x86_bytes(a, b, sizeof(b));
}

static inline void x86_mfence(struct x86_asm *a)
{
    static const uint8_t b[] = {0x0f, 0xae, 0xf0};
    x86_bytes(a, b, 3);
}

/* --- control flow --- */

static inline void x86_push(struct x86_asm *a, unsigned reg)
{
    if (reg & 8)
        x86_u8(a, 0x41);
    x86_u8(a, 0x50 + (reg & 7));
}

static inline void x86_pop(struct x86_asm *a, unsigned reg)
{
    if (reg & 8)
        x86_u8(a, 0x41);
    x86_u8(a, 0x58 + (reg & 7));
}

static inline void x86_ret(struct x86_asm *a)
{
    x86_u8(a, 0xc3);
}

/* call qword [m] / jmp qword [m] / jmp reg */
static inline void x86_call_mem(struct x86_asm *a, struct x86_mem m)
{
    x86_op_mem(a, 0, false, 0xff, 2, m, false);
}

static inline void x86_jmp_mem(struct x86_asm *a, struct x86_mem m)
{
    x86_op_mem(a, 0, false, 0xff, 4, m, false);
}

static inline void x86_jmp_reg(struct x86_asm *a, unsigned reg)
{
    x86_op_rr(a, 0, false, 0xff, 4, reg, false);
}

/* A rel32 field at writable address `field`, pointing at executable address `target`. */
static inline void x86_patch_rel32(const struct x86_asm *a, uint8_t *field, uintptr_t target)
{
    int32_t rel = (int32_t)(intptr_t)(target - ((uintptr_t)field + (uintptr_t)a->rx_delta + 4));
    memcpy(field, &rel, 4);
}

/* jmp rel32 / jcc rel32 to an executable address; returns the writable address of the rel32
 * field so that the target can be patched later. */
static inline uint8_t *x86_jmp(struct x86_asm *a, uintptr_t target)
{
    x86_u8(a, 0xe9);
    uint8_t *field = a->p;
    x86_u32(a, 0);
    if (!a->overflow)
        x86_patch_rel32(a, field, target);
    return field;
}

static inline uint8_t *x86_jcc(struct x86_asm *a, enum x86_cc cc, uintptr_t target)
{
    x86_u8(a, 0x0f);
    x86_u8(a, 0x80 + cc);
    uint8_t *field = a->p;
    x86_u32(a, 0);
    if (!a->overflow)
        x86_patch_rel32(a, field, target);
    return field;
}

/* Forward branch to a label bound later with x86_bind() (rel32 always). */
static inline uint8_t *x86_jcc_fwd(struct x86_asm *a, enum x86_cc cc)
{
    return x86_jcc(a, cc, x86_here(a));
}

static inline uint8_t *x86_jmp_fwd(struct x86_asm *a)
{
    return x86_jmp(a, x86_here(a));
}

/* Points a forward branch (its rel32 field) at the current position. */
static inline void x86_bind(struct x86_asm *a, uint8_t *field)
{
    if (!a->overflow && field)
        x86_patch_rel32(a, field, x86_here(a));
}

#endif
