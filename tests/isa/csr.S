/* Zicsr and the CSR rules of the privileged spec: the six CSR instructions (old value, set,
 * clear, immediate forms, no write when rs1 = x0 / uimm = 0), read-only CSRs (address bits
 * 11:10 = 11: writes are illegal, reads and csrrs/csrrc x0 are fine), privilege of a CSR
 * (bits 9:8), unknown CSRs, and the WARL/view behaviour of misa, mstatus/sstatus, mie/sie,
 * mip/sip, mepc/sepc, mtvec, medeleg, satp (with Sv57: its checks write it) and menvcfg. */
/* isa-options: --mmu sv57 */
#include "env.h"

TEST_MAIN
    /* ---------------- instruction semantics on mscratch */
    TESTCASE 1
    li a0, 0x1234567890abcdef
    csrw mscratch, a0
    csrr a1, mscratch
    CHECK a1, 0x1234567890abcdef
    li a2, 0xff
    csrrw a1, mscratch, a2          /* returns the old value */
    CHECK a1, 0x1234567890abcdef
    csrr a1, mscratch
    CHECK a1, 0xff
    TESTCASE 2
    li a2, 0xf00
    csrrs a1, mscratch, a2
    CHECK a1, 0xff
    csrr a1, mscratch
    CHECK a1, 0xfff
    li a2, 0x0f0
    csrrc a1, mscratch, a2
    CHECK a1, 0xfff
    csrr a1, mscratch
    CHECK a1, 0xf0f
    TESTCASE 3
    csrrwi a1, mscratch, 31
    CHECK a1, 0xf0f
    csrrsi a1, mscratch, 0x10       /* uimm is zero-extended 5 bits */
    CHECK a1, 31
    csrrci a1, mscratch, 1
    CHECK a1, 31
    csrr a1, mscratch
    CHECK a1, 30
    TESTCASE 4                      /* rd == rs1: swap */
    li a0, 77
    csrw mscratch, a0
    li a0, 88
    csrrw a0, mscratch, a0
    CHECK a0, 77
    csrr a0, mscratch
    CHECK a0, 88
    TESTCASE 5                      /* rd = x0 writes without reading */
    li a0, 99
    csrrw zero, mscratch, a0
    csrr a1, mscratch
    CHECK a1, 99
    csrrwi zero, mscratch, 0
    csrr a1, mscratch
    CHECK a1, 0
    TESTCASE 6                      /* sscratch is a separate 64-bit register */
    li a0, -1
    csrw sscratch, a0
    csrw mscratch, zero
    csrr a1, sscratch
    CHECK a1, -1

    /* ---------------- read-only CSRs */
    TESTCASE 10
    csrr a0, mhartid
    CHECK a0, 0
    csrr a0, mvendorid
    csrr a0, marchid
    csrr a0, mimpid
    csrr a0, CSR_MCONFIGPTR
    csrrs a0, mhartid, zero         /* rs1 = x0: no write, legal */
    csrrc a0, mhartid, zero
    csrrsi a0, mhartid, 0
    csrrci a0, mhartid, 0
    TESTCASE 11
    li a1, 0
    ILLEGAL_M csrw mhartid, a1
    ILLEGAL_M csrrs a0, mvendorid, a1     /* rs1 != x0 is a write even if the value is 0 */
    ILLEGAL_M csrrwi a0, marchid, 0       /* csrrwi always writes */
    ILLEGAL_M csrrsi a0, mimpid, 1
    ILLEGAL_M csrw cycle, a1
    ILLEGAL_M csrw time, a1
    ILLEGAL_M csrrci a0, instret, 1
    TESTCASE 12                     /* CSRs that do not exist (no H extension, no debug) */
    csrr a0, misa
    andi a0, a0, (1 << 7)
    bnez a0, 1f                     /* a hart with H has them */
    ILLEGAL_M csrr a0, 0x600        /* hstatus */
    ILLEGAL_M csrr a0, 0x680        /* hgatp */
1:  ILLEGAL_M csrw 0x7b0, a1        /* dcsr: debug-mode only */

    /* ---------------- misa */
    TESTCASE 20
    csrr a0, misa
    srli a1, a0, 62
    CHECK a1, 2                     /* MXL = 64 */
    li a2, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20)
    and a1, a0, a2                  /* A C D F I M S U */
    CHECKR a1, a2
    andi a1, a0, (1 << 4)           /* not E */
    CHECK a1, 0

    /* ---------------- mstatus / sstatus */
    TESTCASE 30
    li a0, MSTATUS_MPP
    csrc mstatus, a0
    li a0, (2 << 11)                /* MPP = 2 is not a supported mode (WARL) */
    csrs mstatus, a0
    csrr a1, mstatus
    srli a1, a1, 11
    andi a1, a1, 3
    li a2, 2
    beq a1, a2, 1f
    j 2f
1:  mv a0, a1
    li a1, -1
    j rt_fail
2:  TESTCASE 31                     /* UXL = SXL = 64 (read-only 2) */
    csrr a0, mstatus
    srli a1, a0, 32
    andi a1, a1, 0xf
    CHECK a1, 0xa
    TESTCASE 32                     /* sstatus is a view of mstatus */
    li a0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SUM | MSTATUS_MXR
    csrc mstatus, a0
    li a0, MSTATUS_SIE | MSTATUS_SPIE
    csrs sstatus, a0
    csrr a1, mstatus
    andi a1, a1, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_MIE | MSTATUS_MPIE
    CHECK a1, MSTATUS_SIE | MSTATUS_SPIE
    li a0, MSTATUS_MIE | MSTATUS_MPIE
    csrs mstatus, a0
    csrr a1, sstatus                /* M-only fields are invisible in sstatus */
    li a2, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
    and a1, a1, a2
    CHECK a1, 0
    li a0, MSTATUS_SUM | MSTATUS_MXR
    csrs sstatus, a0
    csrr a1, mstatus
    li a2, MSTATUS_SUM | MSTATUS_MXR
    and a1, a1, a2
    CHECKR a1, a2
    li a0, MSTATUS_MPP              /* writes to M-only fields through sstatus are ignored */
    csrc mstatus, a0
    li a0, MSTATUS_MPP | MSTATUS_MIE | MSTATUS_TSR
    csrs sstatus, a0
    csrr a1, mstatus
    and a1, a1, a0
    CHECK a1, MSTATUS_MIE           /* MIE was set above through mstatus */
    li a0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SUM | MSTATUS_MXR
    csrc mstatus, a0

    /* ---------------- mepc / sepc: bit 0 is always zero (IALIGN = 16) */
    TESTCASE 40
    li a0, 0x80001235
    csrw mepc, a0
    csrr a1, mepc
    CHECK a1, 0x80001234
    csrw sepc, a0
    csrr a1, sepc
    CHECK a1, 0x80001234
    li a0, -1
    csrw mepc, a0
    csrr a1, mepc
    CHECK a1, -2
    TESTCASE 41                     /* mtvec: direct and vectored modes */
    csrr s0, mtvec
    la a0, rt_mtrap
    ori a0, a0, 1
    csrw mtvec, a0
    csrr a1, mtvec
    CHECKR a1, a0
    csrw mtvec, s0
    csrr a1, mtvec
    CHECKR a1, s0
    csrr s0, stvec
    la a0, rt_strap
    ori a0, a0, 1
    csrw stvec, a0
    csrr a1, stvec
    CHECKR a1, a0
    csrw stvec, s0
    TESTCASE 42                     /* mcause, mtval: software can write them */
    li a0, 0x8000000000000005
    csrw mcause, a0
    csrr a1, mcause
    CHECK a1, 0x8000000000000005
    li a0, 0x123456789
    csrw mtval, a0
    csrr a1, mtval
    CHECK a1, 0x123456789
    csrw stval, a0
    csrr a1, stval
    CHECK a1, 0x123456789

    /* ---------------- delegation registers */
    TESTCASE 50
    li a0, -1
    csrw medeleg, a0
    csrr a1, medeleg
    srli a2, a1, 11                 /* ecall from M cannot be delegated */
    andi a2, a2, 1
    CHECK a2, 0
    li a3, (1 << 2) | (1 << 3) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
    and a2, a1, a3
    CHECKR a2, a3
    csrw medeleg, zero
    csrr a1, medeleg
    CHECK a1, 0
    TESTCASE 51
    li a0, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrw mideleg, a0
    csrr a1, mideleg
    CHECK a1, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrw mideleg, zero

    /* ---------------- mie / sie, mip / sip */
    TESTCASE 60
    li a0, MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_MSIP | MIP_MTIP | MIP_MEIP
    csrw mie, a0
    csrr a1, mie
    CHECK a1, MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_MSIP | MIP_MTIP | MIP_MEIP
    csrr a1, sie                    /* nothing delegated: sie reads 0 */
    CHECK a1, 0
    li a0, MIP_SSIP
    csrw mideleg, a0
    csrr a1, sie
    CHECK a1, MIP_SSIP
    csrc sie, a0                    /* sie writes the delegated bits of mie */
    csrr a1, mie
    CHECK a1, MIP_STIP | MIP_SEIP | MIP_MSIP | MIP_MTIP | MIP_MEIP
    li a0, MIP_STIP
    csrc sie, a0                    /* not delegated: no effect */
    csrr a1, mie
    CHECK a1, MIP_STIP | MIP_SEIP | MIP_MSIP | MIP_MTIP | MIP_MEIP
    csrw mie, zero
    TESTCASE 61                     /* mip: SSIP, STIP, SEIP writable from M; MSIP, MTIP, MEIP not */
    csrwi CSR_MENVCFG, 0
    li a0, MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_MSIP | MIP_MTIP | MIP_MEIP
    csrs mip, a0
    csrr a1, mip
    CHECK a1, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrr a1, sip                    /* only SSIP delegated */
    CHECK a1, MIP_SSIP
    li a0, MIP_SSIP
    csrc sip, a0
    csrr a1, mip
    CHECK a1, MIP_STIP | MIP_SEIP
    li a0, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrc mip, a0
    csrr a1, mip
    CHECK a1, 0
    csrw mideleg, zero

    /* ---------------- satp: an unsupported MODE leaves the register unchanged */
    TESTCASE 70
    csrw satp, zero
    li a0, (SATP_MODE_SV39 << 60) | 0x80123
    csrw satp, a0
    csrr a1, satp
    li a2, (0xf << 60) | ((1 << 44) - 1)   /* MODE and PPN (ASID width may be smaller) */
    and a1, a1, a2
    CHECK a1, (SATP_MODE_SV39 << 60) | 0x80123
    li a0, (1 << 60) | 0x456        /* mode 1: reserved */
    csrw satp, a0
    csrr a1, satp
    and a1, a1, a2
    CHECK a1, (SATP_MODE_SV39 << 60) | 0x80123
    li a0, (15 << 60) | 0x456       /* mode 15: custom, not supported */
    csrw satp, a0
    csrr a1, satp
    and a1, a1, a2
    CHECK a1, (SATP_MODE_SV39 << 60) | 0x80123
    li a0, (SATP_MODE_SV57 << 60) | 0x456
    csrw satp, a0
    csrr a1, satp
    and a1, a1, a2
    CHECK a1, (SATP_MODE_SV57 << 60) | 0x456
    csrw satp, zero
    csrr a1, satp
    CHECK a1, 0

    /* ---------------- menvcfg / senvcfg */
    TESTCASE 80
    li a0, ENVCFG_STCE | ENVCFG_ADUE | 0xf1
    csrw CSR_MENVCFG, a0
    csrr a1, CSR_MENVCFG
    CHECK a1, ENVCFG_STCE | ENVCFG_ADUE | 0xf1
    csrw CSR_MENVCFG, zero
    li a0, 0xf1
    csrw CSR_SENVCFG, a0
    csrr a1, CSR_SENVCFG
    CHECK a1, 0xf1
    csrw CSR_SENVCFG, zero

    /* ---------------- CSR privilege: M CSRs from S, S CSRs from U */
    TESTCASE 90
    GOTO_S
    ILLEGAL_M csrr a0, mstatus
    ILLEGAL_M csrr a0, mscratch
    ILLEGAL_M csrw mepc, a0
    ILLEGAL_M csrr a0, mhartid
    csrr a0, sscratch               /* S CSRs are fine */
    csrr a0, sstatus
    GOTO_M
    TESTCASE 91
    GOTO_U
    ILLEGAL_M csrr a0, sstatus
    ILLEGAL_M csrr a0, sscratch
    ILLEGAL_M csrw stvec, a0
    ILLEGAL_M csrr a0, mstatus
    ILLEGAL_M csrr a0, satp
    GOTO_M
    PASS
