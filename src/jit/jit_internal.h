/* Translator internals shared by jit.c (dispatcher, code cache, invalidation) and translate.c
 * (block translation). */
#ifndef RV_JIT_JIT_INTERNAL_H
#define RV_JIT_JIT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/decode.h"
#include "cpu/hart.h"
#include "jit/emit_x86.h"
#include "jit/jit.h"

/* Why translated code returned to the dispatcher (the value in eax at exit). */
enum jit_exit {
    JIT_EXIT_PC,      /* h->pc is where to continue */
    JIT_EXIT_CHAIN,   /* as PC, and j->chain_req asks for a direct link to that pc */
    JIT_EXIT_INTERP,  /* h->pc holds an instruction for the interpreter (rv_hart_step) */
    JIT_EXIT_FENCE_I, /* as INTERP, and that instruction is a FENCE.I */
    JIT_EXIT_EXC,     /* the instruction at h->pc raised j->exc (not retired) */
    JIT_EXIT_COUNT
};
_Static_assert(JIT_EXIT_COUNT == 5, "struct rv_jit_stats.exits");

/* What the helpers translated code calls return, in rax (value) and rdx (status). */
struct jit_ret {
    uint64_t value;  /* a load's value (status OK or LEAVE) */
    uint64_t status; /* enum jit_helper_result */
};

enum jit_helper_result {
    JIT_HELPER_OK,    /* done, continue the block */
    JIT_HELPER_EXC,   /* exception j->exc: leave (exit_helper) */
    JIT_HELPER_LEAVE, /* done, but leave the block after this instruction (events pending:
                         an interrupt, or this hart's translations were invalidated) */
};

/* How a helper leaves the block for instruction k, packed in 32 bits: the access size, the
 * instruction's length, and what to give back to the budget if it raised an exception (k not
 * retired) or completed (k retired). The helper sets h->pc, j->adjust and j->reason; the
 * translated code then jumps to exit_helper. */
#define JIT_SITE(size, len, adj_exc, adj_after)                                               \
    ((uint32_t)(size) | (uint32_t)(len) << 8 | (uint32_t)(uint8_t)(int8_t)(adj_exc) << 16 |   \
     (uint32_t)(uint8_t)(int8_t)(adj_after) << 24)
#define JIT_SITE_SIZE(site) ((site) & 0xff)
#define JIT_SITE_LEN(site) (((site) >> 8) & 0xff)
#define JIT_SITE_ADJ_EXC(site) ((int8_t)((site) >> 16))
#define JIT_SITE_ADJ_AFTER(site) ((int8_t)((site) >> 24))

#define JIT_MAX_BLOCK_INSNS 64

struct jit_page;

/* A translated block: guest instructions from va on at guest-physical paddr, all in one page:
 * one run of them, or two where it follows a jump that closes a loop (translate.c, scan). Blocks are never freed one by one: an invalidated block is marked dead and unlinked
 * from the lookup structures; its memory is reused at the next whole-cache flush. */
struct jit_block {
    uint64_t va, paddr;          /* the key: translations are per (virtual, physical) pc */
    struct jit_block *hnext;     /* block hash chain */
    struct jit_block *page_next; /* blocks of the same page */
    struct jit_page *page;
    uintptr_t code;              /* executable entry point */
    uintptr_t counting;          /* entry of the counting variant, made on demand (or 0) */
    const uint8_t *guest;        /* copy of the page bytes the instructions come from, for
                                    FENCE.I checks: len bytes from page offset guest_off */
    uint16_t guest_off, len;
    uint16_t ninsns;             /* guest instructions; 0: the interpreter runs the one at va */
    uint8_t end;                 /* how the block ends (translate.c: enum op_class) */
    bool end_fence_i;            /* it ends before a FENCE.I (at va + len, or at va if
                                    ninsns == 0) */
    bool dead;
};

/* A guest-physical page with translations. */
struct jit_page {
    uint64_t paddr;
    struct jit_page *hnext;
    struct jit_block *blocks;
    uint32_t epoch; /* j->epoch when the page's blocks last matched guest memory */
};

/* A direct jump of a block that may be linked to its target once that is translated. */
struct jit_chain {
    struct jit_block *from;
    uint64_t target; /* the guest pc jumped to */
    uint8_t *field;  /* writable address of the jmp's rel32 */
};

/* Virtual-pc cache in front of the block hash, for the lookups translated code makes at
 * cross-page and indirect jumps (function returns above all). An entry is valid while the
 * fetch TLB still maps va with the same addend (so a satp write or SFENCE.VMA needs nothing
 * here); a block's entry is dropped when the block dies, the whole table is cleared when the
 * epoch changes or the cache is flushed. Two-way set associative: a set is one 64-byte host
 * cache line, way 0 holds the most recently inserted pc (with a direct-mapped table, 60% of
 * the boot's jcache misses were conflicts: kernel and user code sharing slots). */
struct jit_jcache_entry {
    uint64_t va;
    uintptr_t addend;
    uintptr_t code;
    uint64_t unused; /* 32 bytes: translated code indexes the table with a shift */
};

#define JIT_BLOCK_HASH_BITS 16
#define JIT_PAGE_HASH_BITS 12
#define JIT_JCACHE_BITS 13 /* sets of JIT_JCACHE_WAYS entries */
#define JIT_JCACHE_WAYS 2
#define JIT_PENDING_MAX 64

struct rv_jit {
    /* --- read and written by translated code (through [rsp]; keep first, small offsets) --- */
    uint64_t budget;             /* loop iterations left in the current chunk (r13 inside) */
    int64_t adjust;              /* exit_helper: added to the budget */
    uint32_t reason;             /* exit_helper: enum jit_exit */
    int32_t exc;                 /* JIT_EXIT_EXC: the exception */
    uint32_t exc_raw;            /* the instruction's encoding (trap value if illegal) */
    struct jit_chain *chain_req; /* JIT_EXIT_CHAIN: the jump to link */
    /* helpers called through [j + offset]; `site` is a JIT_SITE(), `pc` the
     * instruction's address */
    struct jit_ret (*helper_load)(struct rv_jit *j, uint64_t va, uint32_t site, uint64_t pc);
    struct jit_ret (*helper_store)(struct rv_jit *j, uint64_t va, uint32_t site, uint64_t pc,
                                   uint64_t value);
    struct jit_ret (*helper_exec)(struct rv_jit *j, const struct rv_insn *in, uint32_t site,
                                  uint64_t pc);
    struct jit_ret (*helper_csr)(struct rv_jit *j, const struct rv_insn *in, uint32_t site,
                                 uint64_t pc, uint64_t budget_left);
    uintptr_t (*helper_lookup)(struct rv_jit *j);

    /* --- the rest: C only --- */
    uint64_t entry_satp;         /* translation state when the dispatcher entered translated */
    unsigned entry_fetch_idx;    /* code (helper_csr leaves the block if a CSR write changes */
    unsigned entry_data_idx;     /* it) */
    struct rv_hart *hart;
    struct rv_jit_group *group;
    unsigned index;              /* bit (1 << index) in bus->code_pages */
    uint8_t *code_rw, *code_rx;  /* two views of the code cache */
    size_t code_size;
    uint8_t *code_free;          /* next free byte (writable view) */
    uint8_t *code_start;         /* first byte for blocks, after the trampoline */
    int (*enter)(struct rv_hart *h, struct rv_jit *j, uintptr_t code, void *data_tlb,
                 void *fetch_tlb);
    uintptr_t exit_common;       /* restores registers and returns eax */
    uintptr_t exit_pc;           /* returns JIT_EXIT_PC */
    uintptr_t exit_at_rax[JIT_EXIT_COUNT]; /* h->pc = rax, returns the reason */
    uintptr_t exit_helper;       /* budget += j->adjust, returns j->reason */
    uintptr_t exit_chain;        /* rax = struct jit_chain: returns JIT_EXIT_CHAIN */
    uint8_t *arena;              /* block metadata, guest copies, decoded helper insns */
    size_t arena_size, arena_used;
    struct jit_block **block_hash;
    struct jit_page **page_hash;
    uint32_t epoch;              /* bumped by FENCE.I: pages re-checked lazily */
    uint32_t seen_flush_req;     /* h->tlb_flush_req last seen (remote fences) */
    uint64_t seen_code_gen;      /* bus->code_gen at the last FENCE.I */
    bool popcnt, lzcnt, bmi1;    /* host CPU features */

    /* requests from other harts, under the group lock */
    _Atomic bool has_pending;
    unsigned n_inval, n_tlb;
    bool inval_overflow, tlb_overflow;
    uint64_t inval[JIT_PENDING_MAX]; /* pages written: drop their translations */
    uint64_t tlb[JIT_PENDING_MAX];   /* pages now holding code: no direct write entries */

    struct rv_jit_stats stats;

    /* window accesses and their out-of-line code (jit_uwin.c), offsets in the code cache,
     * in code order */
    struct jit_fix { uint32_t access, cold; } *fix;
    size_t nfix, fix_cap;

    /* probed by translated code at j + offsetof(struct rv_jit, jcache) */
    _Alignas(64) struct jit_jcache_entry jcache[JIT_JCACHE_WAYS << JIT_JCACHE_BITS];
};

/* The first entry of the jcache set of a virtual pc. */
static inline unsigned jit_jcache_index(uint64_t va)
{
    return ((unsigned)(va >> 1) & ((1u << JIT_JCACHE_BITS) - 1)) * JIT_JCACHE_WAYS;
}

struct rv_jit_group {
    struct rv_bus *bus;
    size_t npages;
    pthread_mutex_t lock;
    int perf_map;            /* /tmp/perf-PID.map for perf (RVISOR_PERF_MAP=1), or -1 */
    int code_dump;           /* /tmp/perf-PID.code (RVISOR_PERF_MAP=code), or -1 */
    unsigned count;
    struct rv_jit *members[RV_JIT_MAX_HARTS];
};

/* translate.c: translates the block at (va, paddr) of page `p`, whose bytes are at `host` on
 * the host, into the code cache. Returns NULL if the cache or the arena is full. */
struct jit_block *jit_translate(struct rv_jit *j, struct jit_page *p, uint64_t va,
                                uint64_t paddr, const uint8_t *host);
/* translate.c: makes b->counting, the variant of b that stops after any instruction once
 * the budget is spent. False if out of space. */
bool jit_translate_counting(struct rv_jit *j, struct jit_block *b);
/* translate.c: emits the trampoline and the shared exits at the start of the cache. */
void jit_emit_trampoline(struct rv_jit *j);

/* jit.c: metadata allocation (NULL when the arena is full) and block registration. */
void *jit_alloc(struct rv_jit *j, size_t size);
void jit_register_block(struct rv_jit *j, struct jit_block *b);
/* jit.c: host code [code, end) was emitted for b (the perf map, RVISOR_PERF_MAP=1). */
void jit_note_code(const struct rv_jit *j, const struct jit_block *b, uintptr_t code,
                   uintptr_t end, bool counting);

/* jit_uwin.c: the SIGSEGV handler for host-MMU windows (installed by jit_uwin_init) and the
 * table it uses. jit_uwin_running() tells it which translator the calling thread runs. */
int jit_uwin_init(struct rv_jit *j);
void jit_uwin_fini(struct rv_jit *j);
void jit_uwin_running(struct rv_jit *j);

/* Offsets of the hart fields translated code uses; rbx = hart + JIT_HART_BIAS so that all of
 * x[0..31] are in reach of 8-bit displacements. */
#define JIT_HART_BIAS 128
#define JIT_HART_OFF(field) ((int32_t)offsetof(struct rv_hart, field) - JIT_HART_BIAS)

#endif
