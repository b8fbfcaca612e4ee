/* Differential-test program generator: writes, for a seed, a freestanding static RISC-V program
 * (GNU assembly) that runs random instruction sequences and dumps the machine state after each.
 *
 *   gen [options] SEED > prog.S
 *     --seqs N        sequences per program (default 64)
 *     --len MIN-MAX   random instructions per sequence (default 200-500)
 *     --no-misaligned only naturally aligned loads and stores
 *     --no-zicond     no czero.eqz/czero.nez
 *     --no-compressed no explicit c.* instructions
 *
 * Assemble with --defsym ORACLE=1 for QEMU 7.2, which lacks Zicond and has a few bugs: czero
 * and ctzw are macros that the oracle build replaces by equivalent sequences of the same size,
 * so both builds have the same layout and every PC-relative value agrees. Program structure: see layout.h. The last line of the file is
 * "# diff-total-insns N": the number of random instructions emitted. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "layout.h"

const char *const gen_xname[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
const char *const gen_fname[32] = {
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3",
    "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11",
    "ft8", "ft9", "ft10", "ft11"};

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t gen_rand(struct gen *g)
{
    uint64_t *s = g->rng;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t gen_below(struct gen *g, uint64_t n)
{
    return n ? gen_rand(g) % n : 0;
}

int64_t gen_range(struct gen *g, int64_t lo, int64_t hi)
{
    return lo + (int64_t)gen_below(g, (uint64_t)(hi - lo) + 1);
}

bool gen_chance(struct gen *g, unsigned percent)
{
    return gen_below(g, 100) < percent;
}

static void gen_seed(struct gen *g, uint64_t seed)
{
    for (int i = 0; i < 4; i++) { /* splitmix64 */
        seed += 0x9e3779b97f4a7c15ull;
        uint64_t z = seed;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        g->rng[i] = z ^ (z >> 31);
    }
}

static const uint64_t int_specials[] = {
    0, 1, 2, 3, (uint64_t)-1, (uint64_t)-2, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
    0xffffffff80000000, 0xffffffff7fffffff, 0x7fffffffffffffff, 0x8000000000000000,
    0x8000000000000001, 0x00ff00ff00ff00ff, 0x0101010101010101, 0x8080808080808080,
    0x1000001, 0x20000000000001, 0x7ffffffffffffdff, 0x7ffffffffffffe00, 0xfffffffffffff800,
    0x7fffff80, 0x0000ffff, 0xffff8000, 0xffffffffffff8000, 0x123456789abcdef0};

uint64_t gen_int_value(struct gen *g)
{
    switch (gen_below(g, 10)) {
    case 0: case 1: return int_specials[gen_below(g, ARRAY_LEN(int_specials))];
    case 2: return (uint64_t)gen_range(g, -64, 64);
    case 3: return (uint64_t)(int64_t)(int32_t)gen_rand(g);
    case 4: return 1ull << gen_below(g, 64);
    case 5: return ~(1ull << gen_below(g, 64));
    case 6: return gen_rand(g) >> gen_below(g, 64);
    case 7: return gen_chance(g, 50) ? (uint64_t)(int64_t)(int32_t)gen_f32_value(g)
                                     : gen_f64_value(g);
    default: return gen_rand(g);
    }
}

static const uint32_t f32_specials[] = {
    0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc00001,
    0x7f800001, 0xff800001, 0x7fbfffff, 0x00000001, 0x80000001, 0x007fffff, 0x00400000,
    0x00800000, 0x80800000, 0x7f7fffff, 0xff7fffff, 0x3f800000, 0xbf800000, 0x3f000000,
    0xbf000000, 0x3fc00000, 0x40200000, 0xc0200000, 0x4f000000, 0xcf000000, 0x4effffff,
    0xcf000001, 0x4f800000, 0x4f7fffff, 0x5f000000, 0xdf000000, 0x5effffff, 0x5f800000,
    0x5f7fffff, 0x3effffff, 0x3f7fffff, 0x4b000000, 0x4b000001, 0x4a800001, 0x3eaaaaab,
    0x34000000, 0x0c000000, 0xbf400000, 0x3f400000};

uint32_t gen_f32_value(struct gen *g)
{
    static const unsigned exps[] = {0, 1, 2, 100, 126, 127, 128, 149, 150, 151, 157, 158, 159,
                                    189, 190, 191, 253, 254, 255};
    uint32_t sign = (uint32_t)gen_below(g, 2) << 31;
    switch (gen_below(g, 8)) {
    case 0: case 1: case 2: return f32_specials[gen_below(g, ARRAY_LEN(f32_specials))];
    case 3: case 4: {
        uint32_t man = (uint32_t)gen_rand(g) & 0x7fffff;
        if (gen_chance(g, 30))
            man &= ~0u << gen_below(g, 23); /* few mantissa bits: exact cases */
        return sign | (uint32_t)exps[gen_below(g, ARRAY_LEN(exps))] << 23 | man;
    }
    case 5: { /* an integer, a half-integer or a small fraction */
        float v = (float)gen_range(g, -100000, 100000) / (float)(1 << gen_below(g, 3));
        uint32_t bits;
        memcpy(&bits, &v, 4);
        return bits;
    }
    default: return (uint32_t)gen_rand(g);
    }
}

static const uint64_t f64_specials[] = {
    0x0000000000000000, 0x8000000000000000, 0x7ff0000000000000, 0xfff0000000000000,
    0x7ff8000000000000, 0xfff8000000000000, 0x7ff8000000000001, 0x7ff0000000000001,
    0xfff0000000000001, 0x7ff4000000000000, 0x0000000000000001, 0x8000000000000001,
    0x000fffffffffffff, 0x0010000000000000, 0x8010000000000000, 0x7fefffffffffffff,
    0xffefffffffffffff, 0x3ff0000000000000, 0xbff0000000000000, 0x3fe0000000000000,
    0xbfe0000000000000, 0x3ff8000000000000, 0x4004000000000000, 0xc004000000000000,
    0x41e0000000000000, 0x41dfffffffc00000, 0x41dfffffffe00000, 0x41e0000000100000,
    0xc1e0000000000000, 0xc1e0000000100000, 0xc1e0000000200000, 0xc1dfffffffe00000,
    0x41f0000000000000, 0x41efffffffe00000, 0x41efffffffc00000, 0x41f0000000080000,
    0x43e0000000000000, 0x43dfffffffffffff, 0xc3e0000000000000, 0xc3e0000000000001,
    0x43f0000000000000, 0x43efffffffffffff, 0x4330000000000000, 0x4340000000000000,
    0x4340000000000001, 0x47efffffe0000000, 0x47effffff0000000, 0x47effffff0000001,
    0x47f0000000000000, 0x3810000000000000, 0x380fffffe0000000, 0x380ffffff0000000,
    0x36a0000000000000, 0x3690000000000000, 0x3690000000000001, 0x3fd5555555555555,
    0xbfefffffffffffff, 0x3fefffffffffffff};

uint64_t gen_f64_value(struct gen *g)
{
    static const unsigned exps[] = {0, 1, 2, 873, 874, 895, 896, 897, 1022, 1023, 1024, 1053,
                                    1054, 1055, 1075, 1076, 1085, 1086, 1087, 1150, 1151, 2046,
                                    2047};
    uint64_t sign = gen_below(g, 2) << 63;
    switch (gen_below(g, 9)) {
    case 0: case 1: case 2: return f64_specials[gen_below(g, ARRAY_LEN(f64_specials))];
    case 3: case 4: {
        uint64_t man = gen_rand(g) & 0xfffffffffffffull;
        if (gen_chance(g, 30))
            man &= ~0ull << gen_below(g, 52);
        return sign | (uint64_t)exps[gen_below(g, ARRAY_LEN(exps))] << 52 | man;
    }
    case 5: { /* a float-range value at or next to a binary32 rounding tie */
        uint64_t man = gen_rand(g) & 0xfffffffffffffull & ~0x1fffffffull;
        man |= 0x10000000ull + (uint64_t)gen_range(g, -1, 1);
        return sign | (uint64_t)gen_range(g, 860, 1160) << 52 | man;
    }
    case 6: {
        double v = (double)(int64_t)gen_int_value(g) / (double)(1 << gen_below(g, 3));
        uint64_t bits;
        memcpy(&bits, &v, 8);
        return bits;
    }
    default: return gen_rand(g);
    }
}

uint64_t gen_freg_value(struct gen *g)
{
    unsigned kind = (unsigned)gen_below(g, 10);
    if (kind < 5)
        return gen_f64_value(g);
    if (kind < 9)
        return 0xffffffff00000000ull | gen_f32_value(g);
    return (gen_rand(g) & ~0xffffffff00000000ull >> gen_below(g, 2)) | gen_f32_value(g);
}

void gen_ins(struct gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputc('\t', g->out);
    vfprintf(g->out, fmt, ap);
    fputc('\n', g->out);
    va_end(ap);
    g->ninsns++;
}

static void emit_prologue(struct gen *g)
{
    fprintf(g->out,
            "\t.option norelax\n"
            "\t.ifndef ORACLE\n\t.set ORACLE, 0\n\t.endif\n"
            /* czero.eqz rd, rs1, rs2: rd = rs2 == 0 ? 0 : rs1 (Zicond). QEMU 7.2 lacks Zicond,
             * so the oracle build runs an equivalent sequence of the same size. */
            "\t.macro czero op, rd, rs1, rs2\n"
            "\t.option push\n\t.option norvc\n"
            "\t.if ORACLE\n"
            "\t.ifc \\op,eqz\n\tbne \\rs2, x0, .Lcz1\\@\n\t.else\n\tbeq \\rs2, x0, .Lcz1\\@\n\t.endif\n"
            "\taddi \\rd, x0, 0\n\tjal x0, .Lcz2\\@\n"
            ".Lcz1\\@:\n\taddi \\rd, \\rs1, 0\n.Lcz2\\@:\n"
            "\t.else\n"
            "\t.ifc \\op,eqz\n\t.insn r 0x33, 5, 7, \\rd, \\rs1, \\rs2\n"
            "\t.else\n\t.insn r 0x33, 7, 7, \\rd, \\rs1, \\rs2\n\t.endif\n"
            "\taddi x0, x0, 0\n\taddi x0, x0, 0\n\taddi x0, x0, 0\n"
            "\t.endif\n"
            "\t.option pop\n"
            "\t.endm\n"
            /* ctzw: QEMU 7.2 counts on into the upper word when the low word is zero (it
             * returns 57 for 0x0200000000000000; the B spec says 32). Same-size stand-in. */
            "\t.macro ctzw_ rd, rs\n"
            "\t.option push\n\t.option norvc\n"
            "\t.if ORACLE\n\tbseti \\rd, \\rs, 32\n\tctz \\rd, \\rd\n"
            "\t.else\n\tctzw \\rd, \\rs\n\taddi x0, x0, 0\n\t.endif\n"
            "\t.option pop\n"
            "\t.endm\n"
            "\t.text\n\t.globl _start\n_start:\n");
}

static void emit_block_data(struct gen *g)
{
    /* Each block gets a page of its own, placed so that a page boundary falls inside the
     * scratch area, at page_cross. */
    g->page_cross = 8 * (int)gen_range(g, 1, DIFF_SCR_SIZE / 8 - 1);
    fprintf(g->out, "\t.pushsection .data\n\t.balign 4096\n\t.skip %d\nblk%u:\n",
            4096 - DIFF_SCR - g->page_cross, g->seq);
    for (int i = 0; i < 32; i++)
        fprintf(g->out, "\t.dword 0x%016" PRIx64 "\n", (i == 0 || i == 2) ? 0 : gen_int_value(g));
    for (int i = 0; i < 32; i++)
        fprintf(g->out, "\t.dword 0x%016" PRIx64 "\n", gen_freg_value(g));
    /* frm 0..4 (a reserved frm makes dynamic-rm instructions illegal), random fflags */
    fprintf(g->out, "\t.dword 0x%" PRIx64 "\n", gen_below(g, 5) << 5 | gen_below(g, 32));
    for (int i = 0; i < DIFF_SCR_SIZE / 8; i++)
        fprintf(g->out, "\t.dword 0x%016" PRIx64 "\n",
                gen_chance(g, 50) ? gen_int_value(g) : gen_freg_value(g));
    fprintf(g->out, "\t.fill %d, 1, 0x5a\n\t.popsection\n", DIFF_BLOCK - DIFF_SCR - DIFF_SCR_SIZE);
}

static void emit_sequence(struct gen *g, unsigned len)
{
    const int in = -DIFF_SCR; /* the input table, relative to sp */
    fprintf(g->out, "# seq %u begin\n", g->seq);
    emit_block_data(g);
    fprintf(g->out, "\tlla sp, blk%u + %d\n", g->seq, DIFF_SCR);
    fprintf(g->out, "\tld t0, %d(sp)\n\tfscsr t0\n", in + DIFF_IN_FCSR);
    for (int i = 0; i < 32; i++)
        fprintf(g->out, "\tfld %s, %d(sp)\n", gen_fname[i], in + DIFF_IN_F + 8 * i);
    for (int i = 1; i < 32; i++)
        if (i != 2)
            fprintf(g->out, "\tld %s, %d(sp)\n", gen_xname[i], in + DIFF_IN_X + 8 * i);
    fprintf(g->out, "# random\n");
    uint64_t start = g->ninsns;
    g->unit = 0;
    g->max_label = 0;
    while (g->ninsns - start < len) {
        fprintf(g->out, ".Ls%u_%u:\n", g->seq, g->unit);
        gen_unit(g);
        g->unit++;
    }
    for (unsigned u = g->unit; u <= g->max_label; u++)
        fprintf(g->out, ".Ls%u_%u:\n", g->seq, u);
    fprintf(g->out, "# dump\n");
    for (int i = 1; i < 32; i++)
        fprintf(g->out, "\tsd %s, %d(sp)\n", gen_xname[i], DIFF_OUT_X - DIFF_SCR + 8 * i);
    for (int i = 0; i < 32; i++)
        fprintf(g->out, "\tfsd %s, %d(sp)\n", gen_fname[i], DIFF_OUT_F - DIFF_SCR + 8 * i);
    fprintf(g->out, "\tfrcsr t0\n\tsd t0, %d(sp)\n", DIFF_OUT_FCSR - DIFF_SCR);
    fprintf(g->out, "# seq %u end\n", g->seq);
}

static void emit_epilogue(struct gen *g, unsigned seqs)
{
    fprintf(g->out, "# exit\n");
    for (unsigned s = 0; s < seqs; s++)
        fprintf(g->out, "# write %u\n\tli a0, 1\n\tlla a1, blk%u\n\tli a2, %d\n\tli a7, 64\n\tecall\n",
                s, s, DIFF_BLOCK);
    fprintf(g->out, "# exit call\n\tli a0, 0\n\tli a7, 93\n\tecall\n");
}

static void usage(void)
{
    fprintf(stderr, "usage: gen [--seqs N] [--len MIN-MAX] [--no-misaligned] [--no-zicond] "
                    "[--no-compressed] SEED\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct gen g = {.out = stdout, .misaligned = true, .zicond = true, .compressed = true};
    unsigned seqs = 64, min_len = 200, max_len = 500;
    const char *seed_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seqs") && i + 1 < argc)
            seqs = (unsigned)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--len") && i + 1 < argc) {
            if (sscanf(argv[++i], "%u-%u", &min_len, &max_len) != 2 || min_len > max_len)
                usage();
        } else if (!strcmp(argv[i], "--no-misaligned"))
            g.misaligned = false;
        else if (!strcmp(argv[i], "--no-zicond"))
            g.zicond = false;
        else if (!strcmp(argv[i], "--no-compressed"))
            g.compressed = false;
        else if (argv[i][0] != '-' && !seed_arg)
            seed_arg = argv[i];
        else
            usage();
    }
    if (!seed_arg || seqs == 0)
        usage();
    uint64_t seed = strtoull(seed_arg, NULL, 0);
    gen_seed(&g, seed);
    fprintf(g.out, "# rvisor differential test program, seed %" PRIu64 ", %u sequences\n", seed,
            seqs);
    emit_prologue(&g);
    for (g.seq = 0; g.seq < seqs; g.seq++)
        emit_sequence(&g, (unsigned)gen_range(&g, min_len, max_len));
    emit_epilogue(&g, seqs);
    fprintf(g.out, "# diff-total-insns %" PRIu64 "\n", g.ninsns);
    return ferror(g.out) ? 1 : 0;
}
