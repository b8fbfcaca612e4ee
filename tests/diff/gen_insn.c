/* Random instruction units for the differential-test generator.
 *
 * A unit is one instruction, or a few that must run together (an address set-up and the access
 * that uses it, an LR/SC pair, a c.addi16sp and the move back). Branches only target the start
 * of a later unit of the same sequence, so every program terminates and the reserved register
 * sp (the scratch pointer) is never overwritten. All memory accesses stay inside the scratch
 * area of the current block. Register choices are made in separate statements so that a seed
 * gives the same program whatever order the host compiler evaluates arguments in. */
#include <string.h>

#include "gen.h"
#include "layout.h"

/* ---- registers ---- */

/* A destination: anything but sp; sometimes x0. */
unsigned gen_xrd(struct gen *g)
{
    unsigned r = 0;
    if (!gen_chance(g, 3))
        do
            r = 1 + (unsigned)gen_below(g, 31);
        while (r == 2);
    g->last_x = r;
    return r;
}

/* A temporary for an address: not x0, not sp. */
unsigned gen_xtmp(struct gen *g)
{
    unsigned r;
    do
        r = 1 + (unsigned)gen_below(g, 31);
    while (r == 2);
    return r;
}

unsigned gen_xrs(struct gen *g)
{
    unsigned k = (unsigned)gen_below(g, 100);
    if (k < 5)
        return 0;
    if (k < 7)
        return 2;
    if (k < 35)
        return g->last_x;
    return (unsigned)gen_below(g, 32);
}

/* x8..x15, the registers compressed instructions can name */
unsigned gen_xc(struct gen *g)
{
    return 8 + (unsigned)gen_below(g, 8);
}

unsigned gen_frd(struct gen *g)
{
    g->last_f = (unsigned)gen_below(g, 32);
    return g->last_f;
}

unsigned gen_frs(struct gen *g)
{
    return gen_chance(g, 30) ? g->last_f : (unsigned)gen_below(g, 32);
}

/* ---- operands ---- */

int gen_imm12(struct gen *g)
{
    static const int edges[] = {-2048, 2047, 0, -1, 1, 31, 32, 63, 64, 0x7ff, -0x800 + 1};
    return gen_chance(g, 30) ? PICK(g, edges) : (int)gen_range(g, -2048, 2047);
}

/* A static rounding mode operand; "" leaves gas's default, dyn. */
const char *gen_rm_opt(struct gen *g)
{
    static const char *const rms[] = {", rne", ", rtz", ", rdn", ", rup", ", rmm", ", dyn"};
    return gen_chance(g, 35) ? "" : PICK(g, rms);
}

int gen_mem_offset(struct gen *g, unsigned size, bool need_align)
{
    int off;
    if (!need_align && g->misaligned && size > 1 && gen_chance(g, 10)) {
        /* across the page boundary: the two halves go through separate translations */
        off = g->page_cross - (int)gen_range(g, 1, size - 1);
        return off < 0 ? 0 : off > DIFF_SCR_SIZE - (int)size ? DIFF_SCR_SIZE - (int)size : off;
    }
    off = (int)gen_below(g, DIFF_SCR_SIZE - size + 1);
    if (need_align || !g->misaligned || gen_chance(g, 70))
        off &= ~(int)(size - 1);
    return off;
}

/* Name of the label at the start of a unit 1..max_dist units ahead. */
static const char *target(struct gen *g, unsigned max_dist, char *buf, size_t len)
{
    unsigned t = g->unit + (unsigned)gen_range(g, 1, max_dist);
    if (t > g->max_label)
        g->max_label = t;
    snprintf(buf, len, ".Ls%u_%u", g->seq, t);
    return buf;
}

/* ---- integer ---- */

static const char *const alu_r_base[] = {
    "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
    "addw", "subw", "sllw", "srlw", "sraw"};
static const char *const alu_r_ext[] = {
    "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu", "mulw", "divw", "divuw",
    "remw", "remuw", "andn", "orn", "xnor", "max", "maxu", "min", "minu", "rol", "ror", "rolw",
    "rorw", "clmul", "clmulh", "clmulr", "bclr", "bext", "binv", "bset", "add.uw", "sh1add",
    "sh2add", "sh3add", "sh1add.uw", "sh2add.uw", "sh3add.uw"};

static void unit_alu_r(struct gen *g)
{
    const char *op = gen_chance(g, 35) ? PICK(g, alu_r_base) : PICK(g, alu_r_ext);
    unsigned rs1 = gen_xrs(g), rs2 = gen_chance(g, 5) ? rs1 : gen_xrs(g), rd = gen_xrd(g);
    gen_ins(g, "%s %s, %s, %s", op, X(rd), X(rs1), X(rs2));
}

static void unit_alu_i(struct gen *g)
{
    static const char *const imm_ops[] = {"addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"};
    static const char *const sh64[] = {"slli", "srli", "srai", "rori", "bclri", "bexti", "binvi",
                                       "bseti", "slli.uw"};
    static const char *const sh32[] = {"slliw", "srliw", "sraiw", "roriw"};
    static const char *const unary[] = {"clz", "ctz", "cpop", "clzw", "ctzw", "cpopw", "sext.b",
                                        "sext.h", "zext.h", "orc.b", "rev8", "zext.w", "sext.w",
                                        "neg", "negw", "not", "seqz", "snez", "sltz", "sgtz"};
    unsigned kind = (unsigned)gen_below(g, 10), rs1 = gen_xrs(g), rd = gen_xrd(g);
    if (kind < 4) {
        const char *op = PICK(g, imm_ops);
        gen_ins(g, "%s %s, %s, %d", op, X(rd), X(rs1), gen_imm12(g));
    } else if (kind < 6) {
        const char *op = PICK(g, sh64);
        gen_ins(g, "%s %s, %s, %u", op, X(rd), X(rs1), (unsigned)gen_below(g, 64));
    } else if (kind < 7) {
        const char *op = PICK(g, sh32);
        gen_ins(g, "%s %s, %s, %u", op, X(rd), X(rs1), (unsigned)gen_below(g, 32));
    } else {
        const char *op = PICK(g, unary);
        if (!strcmp(op, "ctzw"))
            op = "ctzw_"; /* see the macro in gen.c */
        gen_ins(g, "%s %s, %s", op, X(rd), X(rs1));
    }
}

static void unit_upper(struct gen *g)
{
    unsigned kind = (unsigned)gen_below(g, 4), rd = gen_xrd(g);
    if (kind == 0)
        gen_ins(g, "lui %s, 0x%x", X(rd), (unsigned)gen_below(g, 1u << 20));
    else if (kind == 1)
        gen_ins(g, "auipc %s, 0x%x", X(rd), (unsigned)gen_below(g, 1u << 20));
    else
        gen_ins(g, "li %s, %lld", X(rd), (long long)gen_int_value(g));
}

static void unit_zicond(struct gen *g)
{
    unsigned rs1 = gen_xrs(g), rs2 = gen_xrs(g), rd = gen_xrd(g);
    gen_ins(g, "czero %s, %s, %s, %s", gen_chance(g, 50) ? "eqz" : "nez", X(rd), X(rs1), X(rs2));
}

/* ---- memory ---- */

/* `op reg, addr` at a random scratch offset: sp-relative, or through a fresh base register. */
static void emit_access(struct gen *g, const char *op, const char *reg, unsigned size)
{
    int off = gen_mem_offset(g, size, false);
    if (gen_chance(g, 40)) {
        gen_ins(g, "%s %s, %d(sp)", op, reg, off);
    } else {
        unsigned t = gen_xtmp(g);
        int disp = (int)gen_range(g, -1024, 1024);
        gen_ins(g, "addi %s, sp, %d", X(t), off - disp);
        gen_ins(g, "%s %s, %d(%s)", op, reg, disp, X(t));
    }
}

static void unit_mem(struct gen *g)
{
    static const struct { const char *op; unsigned size; char kind; } ops[] = {
        {"lb", 1, 'l'}, {"lh", 2, 'l'}, {"lw", 4, 'l'}, {"ld", 8, 'l'}, {"lbu", 1, 'l'},
        {"lhu", 2, 'l'}, {"lwu", 4, 'l'}, {"sb", 1, 's'}, {"sh", 2, 's'}, {"sw", 4, 's'},
        {"sd", 8, 's'}, {"flw", 4, 'L'}, {"fld", 8, 'L'}, {"fsw", 4, 'S'}, {"fsd", 8, 'S'}};
    unsigned i = (unsigned)gen_below(g, ARRAY_LEN(ops)), r;
    switch (ops[i].kind) {
    case 'l': r = gen_xrd(g); emit_access(g, ops[i].op, X(r), ops[i].size); break;
    case 's': r = gen_xrs(g); emit_access(g, ops[i].op, X(r), ops[i].size); break;
    case 'L': r = gen_frd(g); emit_access(g, ops[i].op, F(r), ops[i].size); break;
    default: r = gen_frs(g); emit_access(g, ops[i].op, F(r), ops[i].size); break;
    }
}

static const char *const ordering[] = {"", ".aq", ".rl", ".aqrl"};

static void unit_amo(struct gen *g)
{
    static const char *const ops[] = {"amoswap", "amoadd", "amoxor", "amoand", "amoor",
                                      "amomin", "amomax", "amominu", "amomaxu"};
    const char *op = PICK(g, ops), *ord = PICK(g, ordering);
    unsigned size = gen_chance(g, 50) ? 4 : 8, t = gen_xtmp(g), rs2 = gen_xrs(g), rd = gen_xrd(g);
    gen_ins(g, "addi %s, sp, %d", X(t), gen_mem_offset(g, size, true));
    gen_ins(g, "%s.%c%s %s, %s, (%s)", op, size == 4 ? 'w' : 'd', ord, X(rd), X(rs2), X(t));
}

/* LR then SC to the same address with only base ALU instructions between (a constrained
 * LR/SC sequence, unprivileged spec "Eventual Success of Store-Conditional Instructions"): the
 * SC succeeds. Rarely a lone SC: it fails (the previous SC invalidated any reservation). */
static void unit_lrsc(struct gen *g)
{
    char w = gen_chance(g, 50) ? 'w' : 'd';
    unsigned t = gen_xtmp(g), rd, rs2;
    gen_ins(g, "addi %s, sp, %d", X(t), gen_mem_offset(g, w == 'w' ? 4 : 8, true));
    if (!gen_chance(g, 8)) {
        do
            rd = gen_xrd(g);
        while (rd == t);
        gen_ins(g, "lr.%c%s %s, (%s)", w, PICK(g, ordering), X(rd), X(t));
        for (unsigned n = (unsigned)gen_below(g, 4); n > 0; n--) {
            const char *op = PICK(g, alu_r_base);
            unsigned rs1 = gen_xrs(g), rs2b = gen_xrs(g);
            do
                rd = gen_xrd(g);
            while (rd == t);
            gen_ins(g, "%s %s, %s, %s", op, X(rd), X(rs1), X(rs2b));
        }
    }
    rs2 = gen_xrs(g);
    rd = gen_xrd(g);
    gen_ins(g, "sc.%c%s %s, %s, (%s)", w, PICK(g, ordering), X(rd), X(rs2), X(t));
}

/* ---- control flow ---- */

static void unit_branch(struct gen *g)
{
    static const char *const b2[] = {"beq", "bne", "blt", "bge", "bltu", "bgeu", "bgt", "ble",
                                     "bgtu", "bleu"};
    static const char *const b1[] = {"beqz", "bnez", "blez", "bgez", "bltz", "bgtz"};
    char lbl[32];
    unsigned kind = (unsigned)gen_below(g, g->compressed ? 9 : 6);
    if (kind < 2) {
        const char *op = PICK(g, b2);
        unsigned rs1 = gen_xrs(g), rs2 = gen_chance(g, 10) ? rs1 : gen_xrs(g);
        gen_ins(g, "%s %s, %s, %s", op, X(rs1), X(rs2), target(g, 30, lbl, sizeof lbl));
    } else if (kind < 3) {
        const char *op = PICK(g, b1);
        unsigned rs1 = gen_xrs(g);
        gen_ins(g, "%s %s, %s", op, X(rs1), target(g, 30, lbl, sizeof lbl));
    } else if (kind < 4) {
        unsigned rd = gen_chance(g, 30) ? 0 : gen_xrd(g);
        gen_ins(g, "jal %s, %s", X(rd), target(g, 30, lbl, sizeof lbl));
    } else if (kind < 6) {
        /* jalr clears bit 0 of the target: sometimes aim one byte past the label */
        unsigned t = gen_xtmp(g), rd = gen_chance(g, 30) ? 0 : gen_xrd(g);
        int disp = (int)gen_range(g, -64, 64), odd = (int)gen_below(g, 2);
        gen_ins(g, "lla %s, %s%+d", X(t), target(g, 30, lbl, sizeof lbl), odd - disp);
        gen_ins(g, "jalr %s, %d(%s)", X(rd), disp, X(t));
    } else if (kind < 7) {
        unsigned rs1 = gen_xc(g);
        gen_ins(g, "c.%s %s, %s", gen_chance(g, 50) ? "beqz" : "bnez", X(rs1),
                target(g, 6, lbl, sizeof lbl));
    } else if (kind < 8) {
        gen_ins(g, "c.j %s", target(g, 30, lbl, sizeof lbl));
    } else {
        unsigned t = gen_xtmp(g);
        int odd = (int)gen_below(g, 2);
        gen_ins(g, "lla %s, %s+%d", X(t), target(g, 30, lbl, sizeof lbl), odd);
        gen_ins(g, "c.%s %s", gen_chance(g, 50) ? "jr" : "jalr", X(t));
    }
}

/* ---- compressed ---- */

/* Loads and stores relative to sp, while sp points `shift` bytes past the scratch start. */
static void emit_sp_access(struct gen *g, int shift)
{
    static const struct { const char *op; unsigned size, max; char kind; } ops[] = {
        {"c.lwsp", 4, 252, 'l'}, {"c.ldsp", 8, 504, 'l'}, {"c.swsp", 4, 252, 's'},
        {"c.sdsp", 8, 504, 's'}, {"c.fldsp", 8, 504, 'L'}, {"c.fsdsp", 8, 504, 'S'}};
    unsigned i = (unsigned)gen_below(g, ARRAY_LEN(ops)), size = ops[i].size, r;
    int lo = -shift, hi = DIFF_SCR_SIZE - (int)size - shift; /* offset range inside scratch */
    if (lo < 0)
        lo = 0;
    if (hi > (int)ops[i].max)
        hi = (int)ops[i].max;
    lo = (lo + (int)size - 1) & ~(int)(size - 1);
    if (lo > hi)
        return;
    int off = lo + (int)size * (int)gen_below(g, (unsigned)(hi - lo) / size + 1);
    switch (ops[i].kind) {
    case 'l':
        do
            r = gen_xrd(g);
        while (r == 0);
        gen_ins(g, "%s %s, %d(sp)", ops[i].op, X(r), off);
        break;
    case 's': r = gen_xrs(g); gen_ins(g, "%s %s, %d(sp)", ops[i].op, X(r), off); break;
    case 'L': r = gen_frd(g); gen_ins(g, "%s %s, %d(sp)", ops[i].op, F(r), off); break;
    default: r = gen_frs(g); gen_ins(g, "%s %s, %d(sp)", ops[i].op, F(r), off); break;
    }
}

/* c.lw/c.ld/c.sw/c.sd/c.fld/c.fsd through a base register x8..x15. */
static void emit_c_access(struct gen *g)
{
    static const struct { const char *op; unsigned size, max; char kind; } ops[] = {
        {"c.lw", 4, 124, 'l'}, {"c.ld", 8, 248, 'l'}, {"c.sw", 4, 124, 's'},
        {"c.sd", 8, 248, 's'}, {"c.fld", 8, 248, 'L'}, {"c.fsd", 8, 248, 'S'}};
    unsigned i = (unsigned)gen_below(g, ARRAY_LEN(ops)), size = ops[i].size, base = gen_xc(g);
    int addr = gen_mem_offset(g, size, false);
    int off = (int)size * (int)gen_below(g, ops[i].max / size + 1);
    unsigned r = gen_xc(g);
    gen_ins(g, "addi %s, sp, %d", X(base), addr - off);
    if (ops[i].kind == 'l' || ops[i].kind == 's')
        gen_ins(g, "%s %s, %d(%s)", ops[i].op, X(r), off, X(base));
    else
        gen_ins(g, "%s %s, %d(%s)", ops[i].op, F(r), off, X(base));
    if (ops[i].kind == 'l')
        g->last_x = r;
}

static int nonzero_imm6(struct gen *g)
{
    int v = (int)gen_range(g, -32, 30);
    return v >= 0 ? v + 1 : v;
}

/* A destination that is neither x0 nor sp. */
static unsigned xrd_nz(struct gen *g)
{
    unsigned r;
    do
        r = gen_xrd(g);
    while (r == 0);
    return r;
}

static unsigned xrs_nz(struct gen *g)
{
    unsigned r;
    do
        r = gen_xrs(g);
    while (r == 0);
    return r;
}

static void unit_compressed(struct gen *g)
{
    static const char *const ca[] = {"c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw"};
    unsigned kind = (unsigned)gen_below(g, 16), rd, rs;
    switch (kind) {
    case 0: rd = gen_xc(g); gen_ins(g, "c.addi4spn %s, sp, %d", X(rd), 4 * (int)gen_range(g, 1, 255));
        g->last_x = rd; break;
    case 1: emit_c_access(g); break;
    case 2: emit_sp_access(g, 0); break;
    case 3: rd = xrd_nz(g); gen_ins(g, "c.addi %s, %d", X(rd), nonzero_imm6(g)); break;
    case 4: rd = xrd_nz(g); gen_ins(g, "c.addiw %s, %d", X(rd), (int)gen_range(g, -32, 31)); break;
    case 5: rd = xrd_nz(g); gen_ins(g, "c.li %s, %d", X(rd), (int)gen_range(g, -32, 31)); break;
    case 6: {
        unsigned imm = gen_chance(g, 50) ? (unsigned)gen_range(g, 1, 31)
                                         : (unsigned)gen_range(g, 0xfffe0, 0xfffff);
        rd = xrd_nz(g);
        gen_ins(g, "c.lui %s, 0x%x", X(rd), imm);
        break;
    }
    case 7: rd = gen_xc(g);
        gen_ins(g, "c.%s %s, %u", gen_chance(g, 50) ? "srli" : "srai", X(rd),
                (unsigned)gen_range(g, 1, 63));
        g->last_x = rd; break;
    case 8: rd = gen_xc(g); gen_ins(g, "c.andi %s, %d", X(rd), (int)gen_range(g, -32, 31));
        g->last_x = rd; break;
    case 9: rd = xrd_nz(g); gen_ins(g, "c.slli %s, %u", X(rd), (unsigned)gen_range(g, 1, 63)); break;
    case 10: {
        const char *op = PICK(g, ca);
        rs = gen_xc(g);
        rd = gen_xc(g);
        gen_ins(g, "%s %s, %s", op, X(rd), X(rs));
        g->last_x = rd;
        break;
    }
    case 11: rs = xrs_nz(g); rd = xrd_nz(g);
        gen_ins(g, "c.%s %s, %s", gen_chance(g, 50) ? "mv" : "add", X(rd), X(rs)); break;
    case 12: gen_ins(g, "c.nop"); break;
    default: {
        /* move sp, access memory around it, move it back */
        int shift = 16 * (int)gen_range(g, -31, 30);
        if (shift >= 0)
            shift += 16; /* nonzero, and -shift must fit as well */
        gen_ins(g, "c.addi16sp sp, %d", shift);
        for (unsigned n = (unsigned)gen_below(g, 3); n > 0; n--) {
            unsigned k = (unsigned)gen_below(g, 4);
            if (k == 0) {
                rd = xrd_nz(g);
                gen_ins(g, "c.mv %s, sp", X(rd));
            } else if (k == 1) {
                rd = gen_xc(g);
                gen_ins(g, "c.addi4spn %s, sp, %d", X(rd), 4 * (int)gen_range(g, 1, 255));
            } else {
                emit_sp_access(g, shift);
            }
        }
        gen_ins(g, "c.addi16sp sp, %d", -shift);
        break;
    }
    }
}

/* ---- self-modifying code ---- */

/* Calls a code slot (one instruction and a return through `link`), rewrites the instruction,
 * executes fence.i and calls the slot again: the second call must run the new instruction
 * (unprivileged spec, "Zifencei"). The slots live in a writable and executable section. */
static void unit_smc(struct gen *g)
{
    static const struct { const char *name; char kind; unsigned f7, f3, opcode; } ops[] = {
        {"add", 'r', 0, 0, 0x33},   {"sub", 'r', 0x20, 0, 0x33}, {"sll", 'r', 0, 1, 0x33},
        {"slt", 'r', 0, 2, 0x33},   {"sltu", 'r', 0, 3, 0x33},   {"xor", 'r', 0, 4, 0x33},
        {"srl", 'r', 0, 5, 0x33},   {"sra", 'r', 0x20, 5, 0x33}, {"or", 'r', 0, 6, 0x33},
        {"and", 'r', 0, 7, 0x33},   {"mul", 'r', 1, 0, 0x33},    {"mulh", 'r', 1, 1, 0x33},
        {"divu", 'r', 1, 5, 0x33},  {"remu", 'r', 1, 7, 0x33},   {"addw", 'r', 0, 0, 0x3b},
        {"subw", 'r', 0x20, 0, 0x3b}, {"mulw", 'r', 1, 0, 0x3b}, {"addi", 'i', 0, 0, 0x13},
        {"slti", 'i', 0, 2, 0x13},  {"sltiu", 'i', 0, 3, 0x13},  {"xori", 'i', 0, 4, 0x13},
        {"ori", 'i', 0, 6, 0x13},   {"andi", 'i', 0, 7, 0x13},   {"addiw", 'i', 0, 0, 0x1b}};
    unsigned t = gen_xtmp(g), link, v, rd[2], rs1[2], rs2[2], op[2];
    int imm[2];
    do
        link = gen_xtmp(g);
    while (link == t);
    do
        v = gen_xtmp(g);
    while (v == t || v == link);
    for (int i = 0; i < 2; i++) {
        op[i] = (unsigned)gen_below(g, ARRAY_LEN(ops));
        rs1[i] = gen_xrs(g);
        rs2[i] = gen_xrs(g);
        imm[i] = gen_imm12(g);
        do
            rd[i] = gen_xrd(g);
        while (rd[i] == link || (i == 0 && rd[i] == t)); /* keep the return and the slot */
    }
    uint32_t word = (uint32_t)ops[op[1]].f3 << 12 | rs1[1] << 15 | rd[1] << 7 | ops[op[1]].opcode;
    if (ops[op[1]].kind == 'r')
        word |= ops[op[1]].f7 << 25 | rs2[1] << 20;
    else
        word |= ((uint32_t)imm[1] & 0xfff) << 20;
    char text[2][64];
    for (int i = 0; i < 2; i++)
        if (ops[op[i]].kind == 'r')
            snprintf(text[i], sizeof text[i], "%s %s, %s, %s", ops[op[i]].name, X(rd[i]),
                     X(rs1[i]), X(rs2[i]));
        else
            snprintf(text[i], sizeof text[i], "%s %s, %s, %d", ops[op[i]].name, X(rd[i]),
                     X(rs1[i]), imm[i]);
    fprintf(g->out, "\t.pushsection .smc, \"awx\", @progbits\n\t.option push\n\t.option norvc\n"
                    "\t.balign 4\nsmc%u_%u:\n\t%s\n\tjalr x0, 0(%s)\n\t.option pop\n\t.popsection\n",
            g->seq, g->unit, text[0], X(link));
    gen_ins(g, "lla %s, smc%u_%u", X(t), g->seq, g->unit);
    gen_ins(g, "jalr %s, 0(%s)", X(link), X(t));
    gen_ins(g, "li %s, 0x%08x # %s", X(v), word, text[1]);
    gen_ins(g, "sw %s, 0(%s)", X(v), X(t));
    gen_ins(g, "fence.i");
    gen_ins(g, "jalr %s, 0(%s)", X(link), X(t));
}

/* A destination other than `avoid` (the counter of a loop). */
static unsigned xrd_not(struct gen *g, unsigned avoid)
{
    unsigned r;
    do
        r = gen_xrd(g);
    while (r == avoid);
    return r;
}

/* A counted loop (1-4 iterations) whose body is ALU operations, loads, stores, an AMO and a
 * forward branch over one instruction: the translator keeps registers in host registers across
 * its iterations and joins the branch inside the block (src/jit/translate_loop.c). */
static void unit_loop(struct gen *g)
{
    unsigned c = gen_xtmp(g), n = 1 + (unsigned)gen_below(g, 4);
    /* the shape: the condition at the bottom (0), or laid out elsewhere, before the body (1)
     * or after it (2), with the body ending in a jump to it (the translator follows such a
     * jump: translate.c, closes_loop) */
    unsigned shape = (unsigned)gen_below(g, 3);
    gen_ins(g, "li %s, %u", X(c), n + (shape == 1));
    if (shape == 1) {
        fprintf(g->out, ".Lcond%u_%u:\n", g->seq, g->unit);
        gen_ins(g, "addi %s, %s, -1", X(c), X(c));
        gen_ins(g, "bnez %s, .Lloop%u_%u", X(c), g->seq, g->unit);
        gen_ins(g, "j .Ldone%u_%u", g->seq, g->unit);
    } else if (shape == 2) {
        gen_ins(g, "j .Lcond%u_%u", g->seq, g->unit);
    }
    fprintf(g->out, ".Lloop%u_%u:\n", g->seq, g->unit);
    for (unsigned k = 1 + (unsigned)gen_below(g, 8); k > 0; k--) {
        unsigned what = (unsigned)gen_below(g, 10), rd = xrd_not(g, c);
        if (what < 4) {
            gen_ins(g, "%s %s, %s, %s", PICK(g, alu_r_base), X(rd), X(gen_xrs(g)), X(gen_xrs(g)));
        } else if (what < 6) {
            gen_ins(g, "addi %s, %s, %d", X(rd), X(gen_xrs(g)), gen_imm12(g));
        } else if (what < 7) {
            gen_ins(g, "ld %s, %d(sp)", X(rd), gen_mem_offset(g, 8, true));
        } else if (what < 8) {
            gen_ins(g, "sd %s, %d(sp)", X(gen_xrs(g)), gen_mem_offset(g, 8, true));
        } else if (what < 9) {
            unsigned t;
            do
                t = gen_xtmp(g);
            while (t == c);
            gen_ins(g, "addi %s, sp, %d", X(t), gen_mem_offset(g, 4, true));
            gen_ins(g, "amoadd.w %s, %s, (%s)", X(xrd_not(g, c)), X(gen_xrs(g)), X(t));
        } else {
            gen_ins(g, "bne %s, %s, 1f", X(gen_xrs(g)), X(gen_xrs(g)));
            gen_ins(g, "xor %s, %s, %s", X(rd), X(gen_xrs(g)), X(gen_xrs(g)));
            fprintf(g->out, "1:\n");
        }
    }
    if (shape == 0) {
        gen_ins(g, "addi %s, %s, -1", X(c), X(c));
        gen_ins(g, "bnez %s, .Lloop%u_%u", X(c), g->seq, g->unit);
        return;
    }
    gen_ins(g, "j .Lcond%u_%u", g->seq, g->unit);
    if (shape == 2) {
        gen_ins(g, "j .Ldone%u_%u", g->seq, g->unit); /* never run */
        fprintf(g->out, ".Lcond%u_%u:\n", g->seq, g->unit);
        gen_ins(g, "addi %s, %s, -1", X(c), X(c));
        gen_ins(g, "bnez %s, .Lloop%u_%u", X(c), g->seq, g->unit);
    }
    fprintf(g->out, ".Ldone%u_%u:\n", g->seq, g->unit);
}

static void unit_fence(struct gen *g)
{
    static const char *const ops[] = {"fence", "fence rw, rw", "fence r, r", "fence w, w",
                                      "fence.tso", "fence.i", "pause", "nop", "fence iorw, iorw"};
    gen_ins(g, "%s", PICK(g, ops));
}

void gen_unit(struct gen *g)
{
    static const struct { void (*fn)(struct gen *); unsigned weight; } units[] = {
        {unit_alu_r, 18}, {unit_alu_i, 14}, {unit_upper, 3}, {unit_zicond, 2}, {unit_mem, 10},
        {unit_amo, 3},    {unit_lrsc, 2},   {unit_branch, 5}, {gen_unit_fp, 24}, {gen_unit_fp_exact, 4}, {gen_unit_csr, 3},
        {unit_compressed, 14}, {unit_fence, 1}, {unit_smc, 1}, {unit_loop, 3}};
    unsigned total = 0;
    for (unsigned i = 0; i < ARRAY_LEN(units); i++)
        total += units[i].weight;
    for (;;) {
        unsigned pick = (unsigned)gen_below(g, total);
        for (unsigned i = 0; i < ARRAY_LEN(units); i++) {
            if (pick < units[i].weight) {
                if ((units[i].fn == unit_zicond && !g->zicond) ||
                    (units[i].fn == unit_compressed && !g->compressed))
                    break;
                units[i].fn(g);
                return;
            }
            pick -= units[i].weight;
        }
    }
}
