/* libFuzzer target: rv_decode() on arbitrary words.
 *
 * The input is read as a stream of instructions (16 or 32 bits as their low bits say), and each
 * 32-bit window is also decoded as is. Invariants: the length follows the low two bits, the raw
 * field is the word (its low half for compressed encodings), register fields are < 32, the
 * operation is a known one with a name, decoding is deterministic, and the upper half of a
 * compressed word is ignored. */
#include <stdbool.h>
#include <string.h>

#include "cpu/decode.h"
#include "fuzz_ram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct rv_insn *a, const struct rv_insn *b)
{
    return a->op == b->op && a->rd == b->rd && a->rs1 == b->rs1 && a->rs2 == b->rs2 &&
           a->rs3 == b->rs3 && a->len == b->len && a->rm == b->rm && a->imm == b->imm &&
           a->raw == b->raw;
}

static unsigned check_word(uint32_t w)
{
    struct rv_insn d, again;
    rv_decode(w, &d);
    bool compressed = (w & 3) != 3;
    FUZZ_CHECK(d.len == (compressed ? 2 : 4));
    FUZZ_CHECK(d.len == rv_insn_len(w));
    FUZZ_CHECK(d.raw == (compressed ? (w & 0xffff) : w));
    FUZZ_CHECK(d.op < RV_OP_COUNT);
    FUZZ_CHECK(d.rd < 32 && d.rs1 < 32 && d.rs2 < 32 && d.rs3 < 32);
    FUZZ_CHECK(d.rm < 8);
    const char *name = rv_op_name(d.op);
    FUZZ_CHECK(name != NULL && name[0] != '\0' && strcmp(name, "?") != 0);
    rv_decode(w, &again);
    FUZZ_CHECK(same(&d, &again));
    if (compressed) {
        rv_decode((w & 0xffff) | (~w << 16), &again);
        FUZZ_CHECK(same(&d, &again));
    }
    return d.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* As an instruction stream. */
    for (size_t off = 0; off + 2 <= size;) {
        uint32_t w = 0;
        memcpy(&w, data + off, size - off >= 4 ? 4 : 2);
        if ((w & 3) == 3 && size - off < 4)
            break;
        off += check_word(w);
    }
    /* Every 32-bit window, aligned or not. */
    for (size_t off = 0; off + 4 <= size; off++) {
        uint32_t w;
        memcpy(&w, data + off, 4);
        check_word(w);
    }
    return 0;
}
