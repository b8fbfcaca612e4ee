/* RV64 instruction encoders for the hand-encoded guest programs of the translator tests
 * (test_jit.c, test_jit_return.c). Immediates are truncated to their fields; offsets are in
 * bytes from the instruction. */
#ifndef RV_TEST_ENCODE_H
#define RV_TEST_ENCODE_H

#include <stdint.h>

enum { ZERO, RA, SP, GP, TP, T0, T1, T2, S0, S1, A0, A1, A2, A3, A4, A5 };
enum { S2 = 18, S3, S4, S5, S6, S7, S8 };

#define FENCE_I 0x0000100fu
#define ECALL 0x00000073u

static inline uint32_t i_type(unsigned op, unsigned f3, unsigned rd, unsigned rs1, int32_t imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
static inline uint32_t s_type(unsigned f3, unsigned rs2, unsigned rs1, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return (u >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | 0x23;
}
static inline uint32_t r_type(unsigned f7, unsigned f3, unsigned rd, unsigned rs1, unsigned rs2)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | 0x33;
}
/* slli (f3 1), srli (f3 5), srai (f3 5, sh | 0x400) */
static inline uint32_t shift_i(unsigned f3, unsigned rd, unsigned rs1, unsigned sh)
{
    return i_type(0x13, f3, rd, rs1, (int32_t)sh);
}
static inline uint32_t addi(unsigned rd, unsigned rs1, int32_t imm)
{
    return i_type(0x13, 0, rd, rs1, imm);
}
static inline uint32_t ld(unsigned rd, unsigned rs1, int32_t imm)
{
    return i_type(0x03, 3, rd, rs1, imm);
}
static inline uint32_t jalr(unsigned rd, unsigned rs1, int32_t imm)
{
    return i_type(0x67, 0, rd, rs1, imm);
}
static inline uint32_t csrrw(unsigned rd, unsigned csr, unsigned rs1)
{
    return i_type(0x73, 1, rd, rs1, (int32_t)csr);
}
static inline uint32_t auipc(unsigned rd, int32_t imm20)
{
    return (uint32_t)imm20 << 12 | rd << 7 | 0x17;
}
static inline uint32_t sw(unsigned rs2, unsigned rs1, int32_t imm) { return s_type(2, rs2, rs1, imm); }
static inline uint32_t sd(unsigned rs2, unsigned rs1, int32_t imm) { return s_type(3, rs2, rs1, imm); }
static inline uint32_t add(unsigned rd, unsigned rs1, unsigned rs2) { return r_type(0, 0, rd, rs1, rs2); }
static inline uint32_t sub(unsigned rd, unsigned rs1, unsigned rs2)
{
    return r_type(0x20, 0, rd, rs1, rs2);
}
static inline uint32_t xor_(unsigned rd, unsigned rs1, unsigned rs2)
{
    return r_type(0, 4, rd, rs1, rs2);
}
static inline uint32_t jal(unsigned rd, int32_t off)
{
    uint32_t u = (uint32_t)off;
    return (u >> 20 & 1) << 31 | (u >> 1 & 0x3ff) << 21 | (u >> 11 & 1) << 20 |
           (u >> 12 & 0xff) << 12 | rd << 7 | 0x6f;
}
static inline uint32_t bne(unsigned rs1, unsigned rs2, int32_t off)
{
    uint32_t u = (uint32_t)off;
    return (u >> 12 & 1) << 31 | (u >> 5 & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | 1 << 12 |
           (u >> 1 & 0xf) << 8 | (u >> 11 & 1) << 7 | 0x63;
}
static inline uint32_t beq(unsigned rs1, unsigned rs2, int32_t off)
{
    return bne(rs1, rs2, off) & ~(7u << 12);
}

#endif
