/* Random RISC-V program generator for the differential tests: shared state and helpers.
 * gen.c lays out the program and the initial values; gen_insn.c emits the random instructions. */
#ifndef RV_DIFF_GEN_H
#define RV_DIFF_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct gen {
    uint64_t rng[4];    /* xoshiro256** state */
    FILE *out;
    unsigned seq;       /* current sequence number */
    unsigned unit;      /* current unit (branch target granule) in the sequence */
    unsigned max_label; /* highest label index referenced by a forward branch */
    uint64_t ninsns;    /* random instructions emitted in the whole program */
    unsigned last_x;    /* last integer register written: biases sources into chains */
    unsigned last_f;
    bool misaligned;    /* allow misaligned loads and stores */
    bool zicond;
    bool compressed;    /* explicit c.* instructions (gas also compresses on its own) */
    int page_cross;     /* scratch offset of the 4 KiB page boundary in the current block */
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(g, a) ((a)[gen_below((g), ARRAY_LEN(a))])
#define X(r) gen_xname[r]
#define F(r) gen_fname[r]

extern const char *const gen_xname[32];
extern const char *const gen_fname[32];

uint64_t gen_rand(struct gen *g);
/* Uniform in [0, n). */
uint64_t gen_below(struct gen *g, uint64_t n);
/* Uniform in [lo, hi]. */
int64_t gen_range(struct gen *g, int64_t lo, int64_t hi);
bool gen_chance(struct gen *g, unsigned percent);

/* Interesting 64-bit integers, binary32 and binary64 bit patterns (special values mixed with
 * random bits). */
uint64_t gen_int_value(struct gen *g);
uint32_t gen_f32_value(struct gen *g);
uint64_t gen_f64_value(struct gen *g);
/* A value for an FP register: a double, a NaN-boxed single or an improperly boxed single. */
uint64_t gen_freg_value(struct gen *g);

/* Emits one instruction line and counts it. */
void gen_ins(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Register and operand choices (gen_insn.c). Destinations are never sp, the scratch pointer. */
unsigned gen_xrd(struct gen *g);   /* integer destination, sometimes x0 */
unsigned gen_xtmp(struct gen *g);  /* temporary for an address or a constant: not x0 */
unsigned gen_xrs(struct gen *g);   /* integer source, biased to the last result */
unsigned gen_xc(struct gen *g);    /* x8..x15 */
unsigned gen_frd(struct gen *g);
unsigned gen_frs(struct gen *g);
int gen_imm12(struct gen *g);
const char *gen_rm_opt(struct gen *g); /* ", rne" ... or "" (dynamic) */
/* Offset of a `size`-byte access in the scratch area; sometimes straddles the page boundary. */
int gen_mem_offset(struct gen *g, unsigned size, bool need_align);

/* Emits one unit: a few instructions that branches never jump into the middle of. */
void gen_unit(struct gen *g);
/* FP and fcsr units (gen_fp.c). */
void gen_unit_fp(struct gen *g);
void gen_unit_fp_exact(struct gen *g);
void gen_unit_csr(struct gen *g);

#endif
