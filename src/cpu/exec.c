/* The interpreter: fetch, decode, execute; interrupts at instruction boundaries; exits. */
#include <string.h>

#include "cpu/csr.h"
#include "cpu/decode.h"
#include "cpu/exec.h"
#include "cpu/hart.h"
#include "cpu/mem.h"
#include "cpu/mmu.h"

/* Result of executing one instruction, besides an exception cause (>= 0). */
#define STEP_OK       (-1) /* retired; pc updated */
#define STEP_EXIT_WFI (-2) /* WFI with nothing pending: leave to the monitor */

static inline uint64_t sext32(uint64_t v)
{
    return (uint64_t)(int64_t)(int32_t)v;
}

static uint64_t clmul(uint64_t a, uint64_t b, unsigned kind)
{
    /* kind 0: clmul (low half), 1: clmulh (high half), 2: clmulr (bits 2*64-2 .. 63) */
    uint64_t r = 0;
    for (unsigned i = 0; i < 64; i++) {
        if (!((b >> i) & 1))
            continue;
        if (kind == 0)
            r ^= a << i;
        else if (kind == 1)
            r ^= i ? a >> (64 - i) : 0;
        else
            r ^= a >> (63 - i);
    }
    return r;
}

static uint64_t orc_b(uint64_t v)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < 64; i += 8)
        if ((v >> i) & 0xff)
            r |= 0xffull << i;
    return r;
}

static inline uint64_t rol64(uint64_t v, unsigned s)
{
    s &= 63;
    return s ? (v << s) | (v >> (64 - s)) : v;
}

static inline uint32_t rol32(uint32_t v, unsigned s)
{
    s &= 31;
    return s ? (v << s) | (v >> (32 - s)) : v;
}

static int64_t div64(int64_t a, int64_t b)
{
    if (b == 0)
        return -1;
    if (a == INT64_MIN && b == -1)
        return a;
    return a / b;
}

static int64_t rem64(int64_t a, int64_t b)
{
    if (b == 0)
        return a;
    if (a == INT64_MIN && b == -1)
        return 0;
    return a % b;
}

static int32_t div32(int32_t a, int32_t b)
{
    if (b == 0)
        return -1;
    if (a == INT32_MIN && b == -1)
        return a;
    return a / b;
}

static int32_t rem32(int32_t a, int32_t b)
{
    if (b == 0)
        return a;
    if (a == INT32_MIN && b == -1)
        return 0;
    return a % b;
}

static int exec_csr(struct rv_hart *h, const struct rv_insn *in)
{
    unsigned csr = (unsigned)in->imm;
    bool imm_form = in->op >= RV_OP_CSRRWI;
    uint64_t src = imm_form ? in->rs1 : h->x[in->rs1];
    unsigned kind = imm_form ? in->op - RV_OP_CSRRWI : in->op - RV_OP_CSRRW; /* 0 w, 1 s, 2 c */
    uint64_t old = 0;
    int exc;
    /* CSRRW with rd = x0 does not read (no read side effects); S/C with rs1 = x0 do not
     * write, so read-only CSRs may be read that way (Zicsr chapter). */
    if (kind != 0 || in->rd != 0) {
        exc = rv_csr_read(h, csr, &old);
        if (exc != RV_EXC_NONE)
            return exc;
    }
    bool do_write = kind == 0 || in->rs1 != 0;
    if (do_write) {
        /* Only the software-writable SEIP bit takes part in a CSRRS/CSRRC of mip, not the
         * interrupt controller's line that reads OR'ed into it (priv spec 3.1.9). */
        uint64_t base = old;
        if (csr == CSR_MIP)
            base = (old & ~MIP_SEIP) | (h->mip & MIP_SEIP);
        uint64_t v = kind == 0 ? src : kind == 1 ? base | src : base & ~src;
        exc = rv_csr_write(h, csr, v);
        if (exc != RV_EXC_NONE)
            return exc;
    }
    h->x[in->rd] = old;
    h->pc += in->len;
    return STEP_OK;
}

/* Zicbom/Zicboz permission (CMO spec "Cache-Block Operations" and envcfg CBIE/CBCFE/CBZE). */
static int cbo_permission(struct rv_hart *h, uint64_t field, unsigned shift, uint64_t *level)
{
    uint64_t m = (h->menvcfg & field) >> shift, s = (h->senvcfg & field) >> shift;
    if (h->priv == RV_PRIV_M) {
        *level = field == ENVCFG_CBIE ? 3 : 1;
        return RV_EXC_NONE;
    }
    *level = m;
    if (h->priv == RV_PRIV_U && s < *level)
        *level = s;
    return *level ? RV_EXC_NONE : EXC_ILLEGAL_INSN;
}

static int exec_cbo(struct rv_hart *h, const struct rv_insn *in)
{
    uint64_t level;
    uint64_t field = in->op == RV_OP_CBO_ZERO    ? ENVCFG_CBZE
                     : in->op == RV_OP_CBO_INVAL ? ENVCFG_CBIE
                                                 : ENVCFG_CBCFE;
    unsigned shift = field == ENVCFG_CBIE ? 4 : field == ENVCFG_CBZE ? 7 : 6;
    int exc = cbo_permission(h, field, shift, &level);
    if (exc != RV_EXC_NONE)
        return exc;
    uint64_t block = h->x[in->rs1] & ~63ull;
    if (in->op == RV_OP_CBO_ZERO) {
        for (unsigned i = 0; i < 64; i += 8) {
            exc = rv_mem_store(h, block + i, 8, 0);
            if (exc != RV_EXC_NONE) {
                h->fault_va = h->x[in->rs1];
                return exc;
            }
        }
    } else {
        /* Memory is always coherent here: the operation only checks that the block could be
         * accessed, reporting faults as store/AMO faults. */
        uint64_t dummy;
        exc = rv_mem_load(h, block, 1, &dummy);
        if (exc == EXC_LOAD_PAGE_FAULT)
            exc = EXC_STORE_PAGE_FAULT;
        else if (exc == EXC_LOAD_ACCESS)
            exc = EXC_STORE_ACCESS;
        if (exc != RV_EXC_NONE) {
            h->fault_va = h->x[in->rs1];
            return exc;
        }
    }
    h->pc += in->len;
    return STEP_OK;
}

static int exec_amo(struct rv_hart *h, const struct rv_insn *in)
{
    bool dbl = in->op >= RV_OP_LR_D;
    unsigned op = dbl ? in->op - (RV_OP_LR_D - RV_OP_LR_W) : in->op;
    unsigned size = dbl ? 8 : 4;
    uint64_t va = h->x[in->rs1];
    void *p;
    int exc;
    if (op == RV_OP_LR_W) {
        exc = rv_mem_atomic_ptr(h, va, size, RV_ACCESS_READ, &p);
        if (exc != RV_EXC_NONE)
            return exc;
        uint64_t v = dbl ? __atomic_load_n((uint64_t *)p, __ATOMIC_SEQ_CST)
                         : sext32(__atomic_load_n((uint32_t *)p, __ATOMIC_SEQ_CST));
        h->resv_valid = true;
        h->resv_addr = (uintptr_t)p;
        h->resv_value = v;
        h->x[in->rd] = v;
        h->pc += in->len;
        return STEP_OK;
    }
    exc = rv_mem_atomic_ptr(h, va, size, RV_ACCESS_WRITE, &p);
    if (exc != RV_EXC_NONE)
        return exc;
    uint64_t src = h->x[in->rs2];
    if (op == RV_OP_SC_W) {
        bool ok = false;
        /* The reservation is the (address, value) pair seen by LR; SC succeeds if memory
         * still holds that value, compared and swapped atomically on the host. */
        if (h->resv_valid && h->resv_addr == (uintptr_t)p) {
            if (dbl) {
                uint64_t expect = h->resv_value;
                ok = __atomic_compare_exchange_n((uint64_t *)p, &expect, src, false,
                                                 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            } else {
                uint32_t expect = (uint32_t)h->resv_value;
                ok = __atomic_compare_exchange_n((uint32_t *)p, &expect, (uint32_t)src, false,
                                                 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            }
        }
        h->resv_valid = false;
        h->x[in->rd] = ok ? 0 : 1;
        h->pc += in->len;
        return STEP_OK;
    }
    uint64_t old;
    if (dbl) {
        uint64_t *q = p;
        switch (op) {
        case RV_OP_AMOSWAP_W: old = __atomic_exchange_n(q, src, __ATOMIC_SEQ_CST); break;
        case RV_OP_AMOADD_W: old = __atomic_fetch_add(q, src, __ATOMIC_SEQ_CST); break;
        case RV_OP_AMOXOR_W: old = __atomic_fetch_xor(q, src, __ATOMIC_SEQ_CST); break;
        case RV_OP_AMOAND_W: old = __atomic_fetch_and(q, src, __ATOMIC_SEQ_CST); break;
        case RV_OP_AMOOR_W: old = __atomic_fetch_or(q, src, __ATOMIC_SEQ_CST); break;
        default: {
            old = __atomic_load_n(q, __ATOMIC_SEQ_CST);
            uint64_t n;
            do {
                bool take_src;
                if (op == RV_OP_AMOMIN_W) take_src = (int64_t)src < (int64_t)old;
                else if (op == RV_OP_AMOMAX_W) take_src = (int64_t)src > (int64_t)old;
                else if (op == RV_OP_AMOMINU_W) take_src = src < old;
                else take_src = src > old;
                n = take_src ? src : old;
            } while (!__atomic_compare_exchange_n(q, &old, n, false, __ATOMIC_SEQ_CST,
                                                  __ATOMIC_SEQ_CST));
        }
        }
    } else {
        uint32_t *q = p, s32 = (uint32_t)src, o32;
        switch (op) {
        case RV_OP_AMOSWAP_W: o32 = __atomic_exchange_n(q, s32, __ATOMIC_SEQ_CST); break;
        case RV_OP_AMOADD_W: o32 = __atomic_fetch_add(q, s32, __ATOMIC_SEQ_CST); break;
        case RV_OP_AMOXOR_W: o32 = __atomic_fetch_xor(q, s32, __ATOMIC_SEQ_CST); break;
        case RV_OP_AMOAND_W: o32 = __atomic_fetch_and(q, s32, __ATOMIC_SEQ_CST); break;
        case RV_OP_AMOOR_W: o32 = __atomic_fetch_or(q, s32, __ATOMIC_SEQ_CST); break;
        default: {
            o32 = __atomic_load_n(q, __ATOMIC_SEQ_CST);
            uint32_t n;
            do {
                bool take_src;
                if (op == RV_OP_AMOMIN_W) take_src = (int32_t)s32 < (int32_t)o32;
                else if (op == RV_OP_AMOMAX_W) take_src = (int32_t)s32 > (int32_t)o32;
                else if (op == RV_OP_AMOMINU_W) take_src = s32 < o32;
                else take_src = s32 > o32;
                n = take_src ? s32 : o32;
            } while (!__atomic_compare_exchange_n(q, &o32, n, false, __ATOMIC_SEQ_CST,
                                                  __ATOMIC_SEQ_CST));
        }
        }
        old = sext32(o32);
    }
    h->x[in->rd] = old;
    h->pc += in->len;
    return STEP_OK;
}

static int exec_system(struct rv_hart *h, const struct rv_insn *in)
{
    switch (in->op) {
    case RV_OP_ECALL:
        return h->priv == RV_PRIV_U ? EXC_ECALL_U : h->priv == RV_PRIV_S ? EXC_ECALL_S : EXC_ECALL_M;
    case RV_OP_EBREAK:
        h->fault_va = h->pc;
        return EXC_BREAKPOINT;
    case RV_OP_MRET: {
        if (h->priv != RV_PRIV_M)
            return EXC_ILLEGAL_INSN;
        uint64_t s = h->mstatus;
        unsigned mpp = (s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
        s = (s & ~(MSTATUS_MIE | MSTATUS_MPP)) | MSTATUS_MPIE;
        if (h->mstatus & MSTATUS_MPIE)
            s |= MSTATUS_MIE;
        if (mpp != RV_PRIV_M)
            s &= ~MSTATUS_MPRV;
        h->mstatus = s;
        h->priv = mpp;
        h->pc = h->mepc;
        break;
    }
    case RV_OP_SRET: {
        if (h->priv == RV_PRIV_U || (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TSR)))
            return EXC_ILLEGAL_INSN;
        uint64_t s = h->mstatus;
        unsigned spp = (s & MSTATUS_SPP) ? RV_PRIV_S : RV_PRIV_U;
        s = (s & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV)) | MSTATUS_SPIE;
        if (h->mstatus & MSTATUS_SPIE)
            s |= MSTATUS_SIE;
        h->mstatus = s;
        h->priv = spp;
        h->pc = h->sepc;
        break;
    }
    case RV_OP_WFI:
        /* TW traps WFI below M; in U-mode WFI always traps (priv spec 3.1.6.6). */
        if (h->priv == RV_PRIV_U || (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TW)))
            return EXC_ILLEGAL_INSN;
        h->pc += in->len;
        /* WFI resumes when any enabled interrupt is pending, ignoring global enables. */
        if (rv_hart_mip(h) & h->mie)
            return STEP_OK;
        return STEP_EXIT_WFI;
    case RV_OP_SFENCE_VMA:
        if (h->priv == RV_PRIV_U || (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TVM)))
            return EXC_ILLEGAL_INSN;
        rv_tlb_flush(h, in->rs1 != 0, h->x[in->rs1], in->rs2 != 0, (uint16_t)h->x[in->rs2]);
        h->pc += in->len;
        return STEP_OK;
    default:
        return EXC_ILLEGAL_INSN;
    }
    /* xRET changed privilege and interrupt enables. */
    h->resv_valid = false;
    rv_hart_update_mmu_idx(h);
    atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
    return STEP_OK;
}

static const unsigned load_size[] = {
    [RV_OP_LB] = 1, [RV_OP_LH] = 2, [RV_OP_LW] = 4, [RV_OP_LD] = 8,
    [RV_OP_LBU] = 1, [RV_OP_LHU] = 2, [RV_OP_LWU] = 4,
    [RV_OP_SB] = 1, [RV_OP_SH] = 2, [RV_OP_SW] = 4, [RV_OP_SD] = 8,
};

/* Executes one decoded instruction. Returns STEP_* or an exception cause. */
static inline int exec_insn(struct rv_hart *h, const struct rv_insn *in)
{
    uint64_t *x = h->x;
    uint64_t a = x[in->rs1], b = x[in->rs2];
    int64_t imm = in->imm;
    uint64_t r;
    switch (in->op) {
    case RV_OP_LUI: r = (uint64_t)imm; break;
    case RV_OP_AUIPC: r = h->pc + (uint64_t)imm; break;
    case RV_OP_JAL:
        x[in->rd] = h->pc + in->len;
        h->pc += (uint64_t)imm;
        return STEP_OK;
    case RV_OP_JALR: {
        uint64_t target = (a + (uint64_t)imm) & ~1ull;
        x[in->rd] = h->pc + in->len;
        h->pc = target;
        return STEP_OK;
    }
    case RV_OP_BEQ: h->pc += a == b ? (uint64_t)imm : in->len; return STEP_OK;
    case RV_OP_BNE: h->pc += a != b ? (uint64_t)imm : in->len; return STEP_OK;
    case RV_OP_BLT: h->pc += (int64_t)a < (int64_t)b ? (uint64_t)imm : in->len; return STEP_OK;
    case RV_OP_BGE: h->pc += (int64_t)a >= (int64_t)b ? (uint64_t)imm : in->len; return STEP_OK;
    case RV_OP_BLTU: h->pc += a < b ? (uint64_t)imm : in->len; return STEP_OK;
    case RV_OP_BGEU: h->pc += a >= b ? (uint64_t)imm : in->len; return STEP_OK;
    case RV_OP_LB: case RV_OP_LH: case RV_OP_LW: case RV_OP_LD:
    case RV_OP_LBU: case RV_OP_LHU: case RV_OP_LWU: {
        uint64_t v;
        int exc = rv_mem_load(h, a + (uint64_t)imm, load_size[in->op], &v);
        if (exc != RV_EXC_NONE)
            return exc;
        switch (in->op) {
        case RV_OP_LB: v = (uint64_t)(int64_t)(int8_t)v; break;
        case RV_OP_LH: v = (uint64_t)(int64_t)(int16_t)v; break;
        case RV_OP_LW: v = sext32(v); break;
        default: break;
        }
        r = v;
        break;
    }
    case RV_OP_SB: case RV_OP_SH: case RV_OP_SW: case RV_OP_SD: {
        int exc = rv_mem_store(h, a + (uint64_t)imm, load_size[in->op], b);
        if (exc != RV_EXC_NONE)
            return exc;
        h->pc += in->len;
        return STEP_OK;
    }
    case RV_OP_ADDI: r = a + (uint64_t)imm; break;
    case RV_OP_SLTI: r = (int64_t)a < imm; break;
    case RV_OP_SLTIU: r = a < (uint64_t)imm; break;
    case RV_OP_XORI: r = a ^ (uint64_t)imm; break;
    case RV_OP_ORI: r = a | (uint64_t)imm; break;
    case RV_OP_ANDI: r = a & (uint64_t)imm; break;
    case RV_OP_SLLI: r = a << imm; break;
    case RV_OP_SRLI: r = a >> imm; break;
    case RV_OP_SRAI: r = (uint64_t)((int64_t)a >> imm); break;
    case RV_OP_ADD: r = a + b; break;
    case RV_OP_SUB: r = a - b; break;
    case RV_OP_SLL: r = a << (b & 63); break;
    case RV_OP_SLT: r = (int64_t)a < (int64_t)b; break;
    case RV_OP_SLTU: r = a < b; break;
    case RV_OP_XOR: r = a ^ b; break;
    case RV_OP_SRL: r = a >> (b & 63); break;
    case RV_OP_SRA: r = (uint64_t)((int64_t)a >> (b & 63)); break;
    case RV_OP_OR: r = a | b; break;
    case RV_OP_AND: r = a & b; break;
    case RV_OP_ADDIW: r = sext32(a + (uint64_t)imm); break;
    case RV_OP_SLLIW: r = sext32((uint32_t)a << imm); break;
    case RV_OP_SRLIW: r = sext32((uint32_t)a >> imm); break;
    case RV_OP_SRAIW: r = (uint64_t)(int64_t)((int32_t)a >> imm); break;
    case RV_OP_ADDW: r = sext32(a + b); break;
    case RV_OP_SUBW: r = sext32(a - b); break;
    case RV_OP_SLLW: r = sext32((uint32_t)a << (b & 31)); break;
    case RV_OP_SRLW: r = sext32((uint32_t)a >> (b & 31)); break;
    case RV_OP_SRAW: r = (uint64_t)(int64_t)((int32_t)a >> (b & 31)); break;
    case RV_OP_MUL: r = a * b; break;
    case RV_OP_MULH: r = (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64); break;
    case RV_OP_MULHSU:
        r = (uint64_t)(((__int128)(int64_t)a * (__int128)(unsigned __int128)b) >> 64);
        break;
    case RV_OP_MULHU: r = (uint64_t)(((unsigned __int128)a * b) >> 64); break;
    case RV_OP_DIV: r = (uint64_t)div64((int64_t)a, (int64_t)b); break;
    case RV_OP_DIVU: r = b ? a / b : UINT64_MAX; break;
    case RV_OP_REM: r = (uint64_t)rem64((int64_t)a, (int64_t)b); break;
    case RV_OP_REMU: r = b ? a % b : a; break;
    case RV_OP_MULW: r = sext32(a * b); break;
    case RV_OP_DIVW: r = (uint64_t)(int64_t)div32((int32_t)a, (int32_t)b); break;
    case RV_OP_DIVUW: r = (uint32_t)b ? sext32((uint32_t)a / (uint32_t)b) : UINT64_MAX; break;
    case RV_OP_REMW: r = (uint64_t)(int64_t)rem32((int32_t)a, (int32_t)b); break;
    case RV_OP_REMUW: r = (uint32_t)b ? sext32((uint32_t)a % (uint32_t)b) : sext32(a); break;
    /* Zba */
    case RV_OP_ADD_UW: r = (a & 0xffffffffull) + b; break;
    case RV_OP_SH1ADD: r = (a << 1) + b; break;
    case RV_OP_SH2ADD: r = (a << 2) + b; break;
    case RV_OP_SH3ADD: r = (a << 3) + b; break;
    case RV_OP_SH1ADD_UW: r = ((a & 0xffffffffull) << 1) + b; break;
    case RV_OP_SH2ADD_UW: r = ((a & 0xffffffffull) << 2) + b; break;
    case RV_OP_SH3ADD_UW: r = ((a & 0xffffffffull) << 3) + b; break;
    case RV_OP_SLLI_UW: r = (a & 0xffffffffull) << imm; break;
    /* Zbb */
    case RV_OP_ANDN: r = a & ~b; break;
    case RV_OP_ORN: r = a | ~b; break;
    case RV_OP_XNOR: r = ~(a ^ b); break;
    case RV_OP_CLZ: r = a ? (uint64_t)__builtin_clzll(a) : 64; break;
    case RV_OP_CLZW: r = (uint32_t)a ? (uint64_t)__builtin_clz((uint32_t)a) : 32; break;
    case RV_OP_CTZ: r = a ? (uint64_t)__builtin_ctzll(a) : 64; break;
    case RV_OP_CTZW: r = (uint32_t)a ? (uint64_t)__builtin_ctz((uint32_t)a) : 32; break;
    case RV_OP_CPOP: r = (uint64_t)__builtin_popcountll(a); break;
    case RV_OP_CPOPW: r = (uint64_t)__builtin_popcount((uint32_t)a); break;
    case RV_OP_MAX: r = (int64_t)a > (int64_t)b ? a : b; break;
    case RV_OP_MAXU: r = a > b ? a : b; break;
    case RV_OP_MIN: r = (int64_t)a < (int64_t)b ? a : b; break;
    case RV_OP_MINU: r = a < b ? a : b; break;
    case RV_OP_SEXT_B: r = (uint64_t)(int64_t)(int8_t)a; break;
    case RV_OP_SEXT_H: r = (uint64_t)(int64_t)(int16_t)a; break;
    case RV_OP_ZEXT_H: r = a & 0xffff; break;
    case RV_OP_ROL: r = rol64(a, b & 63); break;
    case RV_OP_ROR: r = rol64(a, (64 - (b & 63)) & 63); break;
    case RV_OP_RORI: r = rol64(a, (64 - (unsigned)imm) & 63); break;
    case RV_OP_ROLW: r = sext32(rol32((uint32_t)a, b & 31)); break;
    case RV_OP_RORW: r = sext32(rol32((uint32_t)a, (32 - (b & 31)) & 31)); break;
    case RV_OP_RORIW: r = sext32(rol32((uint32_t)a, (32 - (unsigned)imm) & 31)); break;
    case RV_OP_ORC_B: r = orc_b(a); break;
    case RV_OP_REV8: r = __builtin_bswap64(a); break;
    /* Zbc */
    case RV_OP_CLMUL: r = clmul(a, b, 0); break;
    case RV_OP_CLMULH: r = clmul(a, b, 1); break;
    case RV_OP_CLMULR: r = clmul(a, b, 2); break;
    /* Zbs */
    case RV_OP_BCLR: r = a & ~(1ull << (b & 63)); break;
    case RV_OP_BCLRI: r = a & ~(1ull << imm); break;
    case RV_OP_BEXT: r = (a >> (b & 63)) & 1; break;
    case RV_OP_BEXTI: r = (a >> imm) & 1; break;
    case RV_OP_BINV: r = a ^ (1ull << (b & 63)); break;
    case RV_OP_BINVI: r = a ^ (1ull << imm); break;
    case RV_OP_BSET: r = a | (1ull << (b & 63)); break;
    case RV_OP_BSETI: r = a | (1ull << imm); break;
    /* Zicond */
    case RV_OP_CZERO_EQZ: r = b ? a : 0; break;
    case RV_OP_CZERO_NEZ: r = b ? 0 : a; break;

    case RV_OP_FENCE:
        /* x86 is TSO: only a fence that orders earlier stores before later loads needs a
         * host barrier (pred.W and succ.R). */
        if ((in->raw & (1u << 24)) && (in->raw & (1u << 21)))
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
        h->pc += in->len;
        return STEP_OK;
    case RV_OP_FENCE_I:
    case RV_OP_WRS_NTO: /* Zawrs: the stall may end at any time; end it at once */
    case RV_OP_WRS_STO:
        h->pc += in->len;
        return STEP_OK;
    case RV_OP_CBO_INVAL: case RV_OP_CBO_CLEAN: case RV_OP_CBO_FLUSH: case RV_OP_CBO_ZERO:
        return exec_cbo(h, in);
    case RV_OP_CSRRW: case RV_OP_CSRRS: case RV_OP_CSRRC:
    case RV_OP_CSRRWI: case RV_OP_CSRRSI: case RV_OP_CSRRCI:
        return exec_csr(h, in);
    case RV_OP_ECALL: case RV_OP_EBREAK: case RV_OP_MRET: case RV_OP_SRET: case RV_OP_WFI:
    case RV_OP_SFENCE_VMA:
        return exec_system(h, in);
    case RV_OP_ILLEGAL:
        return EXC_ILLEGAL_INSN;
    default:
        if (in->op >= RV_OP_LR_W && in->op <= RV_OP_AMOMAXU_D)
            return exec_amo(h, in);
        return rv_exec_fp(h, in);
    }
    x[in->rd] = r;
    h->pc += in->len;
    return STEP_OK;
}

/* Delivers exception `exc` raised by the instruction at h->pc. Returns true if it became an
 * exit. */
static bool raise_exception(struct rv_hart *h, int exc, const struct rv_insn *in, uint32_t raw,
                            enum rv_exit *exit)
{
    uint64_t tval = 0;
    switch (exc) {
    case EXC_ILLEGAL_INSN: tval = in ? in->raw : raw; break;
    case EXC_ECALL_U: case EXC_ECALL_S: case EXC_ECALL_M: tval = 0; break;
    default: tval = h->fault_va; break;
    }
    uint64_t epc = h->pc;
    if (!rv_hart_trap(h, (uint64_t)exc, false, tval, epc))
        return false;
    if (exc == EXC_ECALL_U || exc == EXC_ECALL_S) {
        /* An SBI call: the monitor answers and the guest continues after the ecall. */
        h->pc = epc + 4;
        *exit = RV_EXIT_ECALL;
    } else {
        *exit = RV_EXIT_MTRAP;
    }
    return true;
}

/* Interrupts and stop requests; returns true with *exit set if the hart must leave. */
static bool handle_events(struct rv_hart *h, enum rv_exit *exit)
{
    uint32_t ev = atomic_exchange_explicit(&h->events, 0, memory_order_acq_rel);
    if ((ev & RV_EVENT_STOP) || atomic_load_explicit(&h->stop_request, memory_order_acquire)) {
        atomic_store_explicit(&h->stop_request, false, memory_order_relaxed);
        *exit = RV_EXIT_STOP;
        return true;
    }
    rv_hart_do_flush(h);
    int irq = rv_hart_pending_irq(h);
    if (irq >= 0 && rv_hart_trap(h, (uint64_t)irq, true, 0, h->pc)) {
        *exit = RV_EXIT_MTRAP;
        return true;
    }
    return false;
}

/* One instruction executed or its trap taken. Returns true with *exit set if the hart must
 * leave. */
static inline __attribute__((always_inline)) bool step_insn(struct rv_hart *h,
                                                            enum rv_exit *exit)
{
    uint32_t raw;
    int exc = rv_mem_fetch(h, h->pc, &raw);
    if (__builtin_expect(exc != RV_EXC_NONE, 0))
        return raise_exception(h, exc, NULL, 0, exit);
    if ((raw & 3) != 3)
        raw &= 0xffff;
    struct rv_insn *in = &h->dcache[(raw * 0x9e3779b1u) >> (32 - RV_DCACHE_BITS)];
    if (__builtin_expect(in->raw != raw, 0))
        rv_decode(raw, in);
    int r = exec_insn(h, in);
    h->x[0] = 0;
    if (__builtin_expect(r == STEP_OK, 1)) {
        h->instret++;
        return false;
    }
    if (r == STEP_EXIT_WFI) {
        h->instret++;
        h->wfi = true;
        *exit = RV_EXIT_WFI;
        return true;
    }
    return raise_exception(h, r, in, raw, exit);
}

/* One iteration of the run loop: pending events (interrupts, stop, flush requests), then one
 * instruction. */
static inline __attribute__((always_inline)) bool step(struct rv_hart *h, enum rv_exit *exit)
{
    if (__builtin_expect(atomic_load_explicit(&h->events, memory_order_relaxed) != 0, 0)) {
        if (handle_events(h, exit))
            return true;
    }
    return step_insn(h, exit);
}

bool rv_hart_timers_armed(const struct rv_hart *h)
{
    return atomic_load_explicit(&((struct rv_hart *)h)->mtimecmp, memory_order_relaxed) !=
               UINT64_MAX ||
           ((h->menvcfg & ENVCFG_STCE) && h->stimecmp != UINT64_MAX);
}

enum rv_exit rv_hart_run(struct rv_hart *h, uint64_t budget)
{
    enum rv_exit exit = RV_EXIT_BUDGET;
    h->wfi = false;
    /* Look at interrupts once on entry: lines may have changed while we were out. */
    atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
    while (budget) {
        uint64_t chunk = budget < RV_RUN_CHUNK ? budget : RV_RUN_CHUNK;
        budget -= chunk;
        while (chunk--) {
            if (step(h, &exit))
                return exit;
        }
        if (rv_hart_timers_armed(h))
            atomic_fetch_or_explicit(&h->events, RV_EVENT_IRQ, memory_order_relaxed);
    }
    return exit;
}

/* --- entry points for the translator (exec.h) --- */

bool rv_hart_step(struct rv_hart *h, enum rv_exit *exit)
{
    return step(h, exit);
}

bool rv_hart_step_insn(struct rv_hart *h, enum rv_exit *exit)
{
    return step_insn(h, exit);
}

int rv_hart_exec(struct rv_hart *h, const struct rv_insn *in)
{
    int r = exec_insn(h, in);
    h->x[0] = 0;
    return r;
}

bool rv_hart_raise(struct rv_hart *h, int exc, uint32_t raw, enum rv_exit *exit)
{
    return raise_exception(h, exc, NULL, raw, exit);
}

bool rv_hart_handle_events(struct rv_hart *h, enum rv_exit *exit)
{
    return handle_events(h, exit);
}
