/* Compares the state dumps of a generated differential-test program (see layout.h) written by
 * the oracle (QEMU) and by rvisor, and explains every mismatch.
 *
 *   cmp PROG.S ORACLE.OUT RVISOR.OUT
 *   cmp --state OUT TEXT    values of the registers named in TEXT in the first block of OUT
 *
 * For each sequence that differs it prints the differing registers, fcsr fields and scratch
 * memory words (oracle value, rvisor value), the initial register state and the instruction
 * listing of that sequence. The last line is "cmp: N sequences, N differ"; the exit status is 1
 * if any differ (or the dumps cannot be read), 0 otherwise. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

static const char *const xname[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
static const char *const fname[32] = {
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3",
    "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11",
    "ft8", "ft9", "ft10", "ft11"};

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* the dumps are little-endian, like the host */
    return v;
}

static void print_listing(const char *prog, unsigned seq)
{
    FILE *f = fopen(prog, "r");
    if (!f)
        return;
    char begin[64], end[64], line[512];
    snprintf(begin, sizeof begin, "# seq %u begin\n", seq);
    snprintf(end, sizeof end, "# seq %u end\n", seq);
    bool in_seq = false, in_data = false, in_random = false;
    printf("  listing (%s):\n", prog);
    while (fgets(line, sizeof line, f)) {
        if (!strcmp(line, begin))
            in_seq = true;
        if (!in_seq)
            continue;
        if (!strcmp(line, end))
            break;
        if (strstr(line, ".pushsection .data"))
            in_data = true;
        else if (in_data && strstr(line, ".popsection"))
            in_data = false;
        else if (!strcmp(line, "# random\n"))
            in_random = true;
        else if (!strcmp(line, "# dump\n"))
            in_random = false;
        else if (!in_data && in_random)
            printf("    %s", line);
    }
    fclose(f);
}

static void print_initial(const uint8_t *blk)
{
    printf("  initial state:\n");
    for (int i = 1; i < 32; i++)
        if (i != 2)
            printf("    %-4s = 0x%016" PRIx64 "%s", xname[i], get64(blk + DIFF_IN_X + 8 * i),
                   i % 4 == 3 ? "\n" : "");
    printf("\n");
    for (int i = 0; i < 32; i++)
        printf("    %-4s = 0x%016" PRIx64 "%s", fname[i], get64(blk + DIFF_IN_F + 8 * i),
               i % 4 == 3 ? "\n" : "");
    printf("    fcsr = 0x%02" PRIx64 "\n", get64(blk + DIFF_IN_FCSR));
}

/* Prints the differences of one block; returns true if there were any. */
static bool compare_block(const char *prog, unsigned seq, const uint8_t *q, const uint8_t *r)
{
    if (!memcmp(q, r, DIFF_BLOCK))
        return false;
    printf("MISMATCH seq %u of %s (oracle = qemu, got = rvisor):\n", seq, prog);
    for (int i = 1; i < 32; i++) {
        uint64_t a = get64(q + DIFF_OUT_X + 8 * i), b = get64(r + DIFF_OUT_X + 8 * i);
        if (a != b)
            printf("  x%-2d %-4s oracle 0x%016" PRIx64 "  got 0x%016" PRIx64 "\n", i, xname[i], a, b);
    }
    for (int i = 0; i < 32; i++) {
        uint64_t a = get64(q + DIFF_OUT_F + 8 * i), b = get64(r + DIFF_OUT_F + 8 * i);
        if (a != b)
            printf("  f%-2d %-4s oracle 0x%016" PRIx64 "  got 0x%016" PRIx64 "\n", i, fname[i], a, b);
    }
    uint64_t qa = get64(q + DIFF_OUT_FCSR), rb = get64(r + DIFF_OUT_FCSR);
    if (qa != rb)
        printf("  fcsr     oracle frm=%" PRIu64 " fflags=0x%02" PRIx64 "  got frm=%" PRIu64
               " fflags=0x%02" PRIx64 " (NV DZ OF UF NX = 10 08 04 02 01)\n",
               qa >> 5, qa & 31, rb >> 5, rb & 31);
    for (int off = 0; off < DIFF_SCR_SIZE; off += 8) {
        uint64_t a = get64(q + DIFF_SCR + off), b = get64(r + DIFF_SCR + off);
        if (a != b)
            printf("  mem sp+%-3d oracle 0x%016" PRIx64 "  got 0x%016" PRIx64 "\n", off, a, b);
    }
    if (memcmp(q, r, DIFF_SCR))
        printf("  the input table differs (memory outside the scratch area was written)\n");
    print_initial(q);
    print_listing(prog, seq);
    return true;
}

static int reg_index(const char *const names[32], const char *tok)
{
    for (int i = 0; i < 32; i++)
        if (!strcmp(names[i], tok))
            return i;
    return -1;
}

/* --state: prints the final values, in the first block of OUT, of the registers named in TEXT
 * (an instruction listing), and fcsr. */
static int show_state(const char *path, const char *text)
{
    size_t len;
    uint8_t *d = read_file(path, &len);
    if (!d || len < DIFF_BLOCK) {
        fprintf(stderr, "cmp: %s: no state dump\n", path);
        free(d);
        return 1;
    }
    bool shown[2][32] = {{false}};
    char tok[16];
    for (const char *p = text; *p;) {
        size_t n = 0;
        while (*p && !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            p++;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            if (n < sizeof tok - 1)
                tok[n++] = *p++;
            else
                p++;
        tok[n] = 0;
        int x = reg_index(xname, tok), f = reg_index(fname, tok);
        if (x > 0 && !shown[0][x]) {
            shown[0][x] = true;
            printf("    %-4s = 0x%016" PRIx64 "\n", xname[x], get64(d + DIFF_OUT_X + 8 * x));
        } else if (f >= 0 && !shown[1][f]) {
            shown[1][f] = true;
            printf("    %-4s = 0x%016" PRIx64 "\n", fname[f], get64(d + DIFF_OUT_F + 8 * f));
        }
    }
    uint64_t fcsr = get64(d + DIFF_OUT_FCSR);
    printf("    frm = %" PRIu64 ", fflags = 0x%02" PRIx64 "\n", fcsr >> 5, fcsr & 31);
    free(d);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--state"))
        return show_state(argv[2], argv[3]);
    if (argc != 4) {
        fprintf(stderr, "usage: cmp PROG.S ORACLE.OUT RVISOR.OUT\n");
        return 2;
    }
    unsigned seqs = 0;
    FILE *f = fopen(argv[1], "r");
    char line[256];
    if (f && fgets(line, sizeof line, f))
        sscanf(line, "# rvisor differential test program, seed %*u, %u sequences", &seqs);
    if (f)
        fclose(f);
    size_t qlen, rlen;
    uint8_t *q = read_file(argv[2], &qlen), *r = read_file(argv[3], &rlen);
    if (!seqs || !q || !r) {
        fprintf(stderr, "cmp: cannot read %s, %s or %s\n", argv[1], argv[2], argv[3]);
        printf("cmp: %u sequences, %u differ\n", seqs, seqs);
        return 1;
    }
    if (qlen != (size_t)seqs * DIFF_BLOCK)
        fprintf(stderr, "cmp: %s holds %zu bytes, expected %u blocks of %d\n", argv[2], qlen, seqs,
                DIFF_BLOCK);
    if (rlen != qlen)
        printf("rvisor wrote %zu bytes, the oracle %zu\n", rlen, qlen);
    unsigned differ = 0;
    for (unsigned s = 0; s < seqs; s++) {
        size_t at = (size_t)s * DIFF_BLOCK;
        if (at + DIFF_BLOCK > qlen || at + DIFF_BLOCK > rlen) {
            differ++;
            continue;
        }
        if (compare_block(argv[1], s, q + at, r + at))
            differ++;
    }
    printf("cmp: %u sequences, %u differ\n", seqs, differ);
    free(q);
    free(r);
    return differ ? 1 : 0;
}
