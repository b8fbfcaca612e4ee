/* Unit tests for src/cpu/mmu.c: Sv39/48/57 walks, permissions, Svnapot, Svpbmt, Svadu/Svade,
 * access faults, TLB fills and SFENCE.VMA flushes. Page tables are built by hand in a
 * malloc'd RAM. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/csr.h"
#include "cpu/mmu.h"
#include "test.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (8ull << 20)
#define TABLES_BASE RAM_BASE            /* page tables grow from here */
#define DATA_BASE (RAM_BASE + (4ull << 20)) /* 2 MiB-aligned data pages for leaves */

static struct rv_bus bus;
static struct rv_hart *h;
static uint64_t next_table;
static uint64_t io_page = UINT64_MAX; /* page the page_is_io callback reports */

#define RWX (RV_PTE_R | RV_PTE_W | RV_PTE_X)
#define LEAF (RV_PTE_V | RV_PTE_A | RV_PTE_D)

static bool test_page_is_io(void *opaque, uint64_t paddr)
{
    (void)opaque;
    return paddr == io_page;
}

static uint64_t *ram_u64(uint64_t pa)
{
    return (uint64_t *)(void *)(bus.ram + (pa - RAM_BASE));
}

static uint64_t alloc_table(void)
{
    uint64_t pa = next_table;
    next_table += 4096;
    memset(bus.ram + (pa - RAM_BASE), 0, 4096);
    return pa;
}

static unsigned mode_levels(unsigned mode)
{
    return mode - SATP_MODE_SV39 + 3;
}

/* A fresh hart in S-mode with an empty root table for `mode`, ADUE and PBMTE off. */
static void setup(unsigned mode, uint16_t asid)
{
    memset(h, 0, sizeof(*h));
    memset(bus.ram, 0, RAM_SIZE);
    h->bus = &bus;
    io_page = UINT64_MAX;
    next_table = TABLES_BASE;
    uint64_t root = alloc_table();
    h->satp = ((uint64_t)mode << SATP_MODE_SHIFT) | ((uint64_t)asid << SATP_ASID_SHIFT) |
              (root >> 12);
    h->priv = RV_PRIV_S;
    h->fetch_mmu_idx = RV_MMU_S;
    h->data_mmu_idx = RV_MMU_S;
    rv_tlb_flush_all(h);
}

static uint64_t make_pte(uint64_t pa, uint64_t flags)
{
    return ((pa >> 12) << RV_PTE_PPN_SHIFT) | flags;
}

/* Address of the PTE for `va` at `level` (0 = 4 KiB), creating missing non-leaf tables
 * with `nonleaf_flags` (besides V). */
static uint64_t *pte_slot(uint64_t va, int level, uint64_t nonleaf_flags)
{
    unsigned mode = (unsigned)(h->satp >> SATP_MODE_SHIFT);
    uint64_t table = (h->satp & SATP_PPN_MASK) << 12;
    for (int i = (int)mode_levels(mode) - 1;; i--) {
        uint64_t *p = ram_u64(table + ((va >> (12 + 9 * i)) & 511) * 8);
        if (i == level)
            return p;
        if (!(*p & RV_PTE_V))
            *p = make_pte(alloc_table(), RV_PTE_V | nonleaf_flags);
        table = ((*p >> RV_PTE_PPN_SHIFT) & RV_PTE_PPN_MASK) << 12;
    }
}

/* Maps the page of `va` at `level` to `pa` with leaf `flags`; returns the leaf PTE. */
static uint64_t *map(uint64_t va, uint64_t pa, int level, uint64_t flags)
{
    uint64_t *p = pte_slot(va, level, 0);
    *p = make_pte(pa, flags);
    return p;
}

static uint64_t tr_pa;
static bool tr_global;

static int tr(uint64_t va, enum rv_access acc, unsigned mmu_idx)
{
    tr_pa = 0xdead;
    tr_global = false;
    return rv_mmu_translate(h, va, acc, mmu_idx, &tr_pa, &tr_global, NULL);
}

static const int pf[RV_ACCESS_COUNT] = {EXC_LOAD_PAGE_FAULT, EXC_STORE_PAGE_FAULT,
                                        EXC_INSN_PAGE_FAULT};
static const int af[RV_ACCESS_COUNT] = {EXC_LOAD_ACCESS, EXC_STORE_ACCESS, EXC_INSN_ACCESS};

static void test_phys(void)
{
    setup(SATP_MODE_SV39, 0);
    for (int a = 0; a < RV_ACCESS_COUNT; a++) {
        CHECK_EQ(tr(0x80001234, (enum rv_access)a, RV_MMU_PHYS), RV_EXC_NONE);
        CHECK_EQ(tr_pa, 0x80001234);
        CHECK_EQ(tr(0x00ffffffffffffffull, (enum rv_access)a, RV_MMU_PHYS), RV_EXC_NONE);
        CHECK_EQ(tr_pa, 0x00ffffffffffffffull);
        CHECK_EQ(tr(1ull << 56, (enum rv_access)a, RV_MMU_PHYS), af[a]);
        CHECK_EQ(tr(0xffffffff80000000ull, (enum rv_access)a, RV_MMU_PHYS), af[a]);
    }
    /* satp.MODE = Bare: even a "translated" regime is the identity. */
    h->satp = 0;
    CHECK_EQ(tr(0x80002000, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(tr_pa, 0x80002000);
    CHECK_EQ(tr(1ull << 60, RV_ACCESS_WRITE, RV_MMU_U), EXC_STORE_ACCESS);
}

/* 4 KiB pages and every superpage size of `mode`, plus misaligned superpages. */
static void test_page_sizes(unsigned mode)
{
    setup(mode, 0);
    unsigned levels = mode_levels(mode);

    map(0x1000, DATA_BASE, 0, LEAF | RWX);
    for (int a = 0; a < RV_ACCESS_COUNT; a++) {
        CHECK_EQ(tr(0x1abc, (enum rv_access)a, RV_MMU_S), RV_EXC_NONE);
        CHECK_EQ(tr_pa, DATA_BASE + 0xabc);
        /* Neighbour page: no mapping (V=0). */
        CHECK_EQ(tr(0x2000, (enum rv_access)a, RV_MMU_S), pf[a]);
    }

    for (unsigned level = 1; level < levels; level++) {
        uint64_t size = 1ull << (12 + 9 * level);
        uint64_t va = size * 3;              /* index 3 at this level */
        uint64_t pa = size * 5;              /* translate only, need not be RAM */
        if (pa >> RV_PA_BITS)
            pa = size;
        uint64_t off = size - 8 - 0x1000 * (level & 1);
        uint64_t *pte = map(va, pa, (int)level, LEAF | RV_PTE_R | RV_PTE_W);
        CHECK_EQ(tr(va + off, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
        CHECK_EQ(tr_pa, pa + off);
        CHECK_EQ(tr(va + 0x123, RV_ACCESS_WRITE, RV_MMU_S), RV_EXC_NONE);
        CHECK_EQ(tr_pa, pa + 0x123);
        /* Misaligned superpage: lowest and highest low PPN bit. */
        *pte = make_pte(pa + 0x1000, LEAF | RV_PTE_R);
        CHECK_EQ(tr(va, RV_ACCESS_READ, RV_MMU_S), EXC_LOAD_PAGE_FAULT);
        *pte = make_pte(pa + (size >> 1), LEAF | RV_PTE_R);
        CHECK_EQ(tr(va + 8, RV_ACCESS_READ, RV_MMU_S), EXC_LOAD_PAGE_FAULT);
        *pte = make_pte(pa, LEAF | RV_PTE_R);
        CHECK_EQ(tr(va + 8, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
        CHECK_EQ(tr_pa, pa + 8);
    }

    /* High half: top VPN index 511 with the sign bits set. */
    uint64_t va_bits = 12 + 9 * levels;
    uint64_t high = ~0ull << (va_bits - 1); /* lowest canonical negative address */
    map(high + 0x5000, DATA_BASE + 0x3000, 0, LEAF | RV_PTE_R);
    CHECK_EQ(tr(high + 0x5010, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(tr_pa, DATA_BASE + 0x3010);

    /* Non-canonical: the bit just above the VA width differs from the top VA bit. The same
     * low bits with proper sign extension translate. */
    uint64_t noncanon = (high + 0x5010) & ~(1ull << va_bits);
    for (int a = 0; a < RV_ACCESS_COUNT; a++)
        CHECK_EQ(tr(noncanon, (enum rv_access)a, RV_MMU_S), pf[a]);
    CHECK_EQ(tr(0x1000 | (1ull << va_bits), RV_ACCESS_READ, RV_MMU_S), EXC_LOAD_PAGE_FAULT);
    CHECK_EQ(tr(0x1000 | (1ull << 63), RV_ACCESS_EXEC, RV_MMU_S), EXC_INSN_PAGE_FAULT);
    CHECK_EQ(tr(0x1000, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    /* A level-0 PTE that is a pointer: out of levels. */
    *pte_slot(0x1000, 0, 0) = make_pte(TABLES_BASE, RV_PTE_V);
    CHECK_EQ(tr(0x1000, RV_ACCESS_READ, RV_MMU_S), EXC_LOAD_PAGE_FAULT);
}

static void test_permissions(void)
{
    setup(SATP_MODE_SV39, 0);
    const uint64_t sr = 0x10000, sx = 0x11000, ur = 0x12000, urwx = 0x13000, w_only = 0x14000,
                   wx = 0x15000, s_rw = 0x16000;
    map(sr, DATA_BASE, 0, LEAF | RV_PTE_R);
    map(sx, DATA_BASE, 0, LEAF | RV_PTE_X);
    map(ur, DATA_BASE, 0, LEAF | RV_PTE_R | RV_PTE_U);
    map(urwx, DATA_BASE, 0, LEAF | RWX | RV_PTE_U);
    map(w_only, DATA_BASE, 0, LEAF | RV_PTE_W);
    map(wx, DATA_BASE, 0, LEAF | RV_PTE_W | RV_PTE_X);
    map(s_rw, DATA_BASE, 0, LEAF | RV_PTE_R | RV_PTE_W);
    const int ok = RV_EXC_NONE;
    const unsigned S = RV_MMU_S, SUM = RV_MMU_S_SUM, U = RV_MMU_U;
    const enum rv_access R = RV_ACCESS_READ, W = RV_ACCESS_WRITE, X = RV_ACCESS_EXEC;

    /* Read-only supervisor page. */
    CHECK_EQ(tr(sr, R, S), ok);
    CHECK_EQ(tr(sr, R, SUM), ok);
    CHECK_EQ(tr(sr, W, S), EXC_STORE_PAGE_FAULT);
    CHECK_EQ(tr(sr, X, S), EXC_INSN_PAGE_FAULT);
    CHECK_EQ(tr(sr, R, U), EXC_LOAD_PAGE_FAULT);

    /* Execute-only: not readable unless MXR, never writable. */
    CHECK_EQ(tr(sx, X, S), ok);
    CHECK_EQ(tr(sx, R, S), EXC_LOAD_PAGE_FAULT);
    CHECK_EQ(tr(sx, W, S), EXC_STORE_PAGE_FAULT);
    h->mstatus |= MSTATUS_MXR;
    CHECK_EQ(tr(sx, R, S), ok);
    CHECK_EQ(tr_pa, DATA_BASE);
    CHECK_EQ(tr(sx, W, S), EXC_STORE_PAGE_FAULT);
    CHECK_EQ(tr(sx, R, U), EXC_LOAD_PAGE_FAULT); /* MXR does not lift the U check */
    h->mstatus &= ~MSTATUS_MXR;

    /* User pages from S-mode: loads/stores only with SUM, never execute. */
    CHECK_EQ(tr(ur, R, S), EXC_LOAD_PAGE_FAULT);
    CHECK_EQ(tr(ur, R, SUM), ok);
    CHECK_EQ(tr(ur, R, U), ok);
    CHECK_EQ(tr(ur, W, U), EXC_STORE_PAGE_FAULT);
    CHECK_EQ(tr(ur, W, SUM), EXC_STORE_PAGE_FAULT);
    CHECK_EQ(tr(ur, X, U), EXC_INSN_PAGE_FAULT);
    CHECK_EQ(tr(urwx, W, S), EXC_STORE_PAGE_FAULT);
    CHECK_EQ(tr(urwx, W, SUM), ok);
    CHECK_EQ(tr(urwx, W, U), ok);
    CHECK_EQ(tr(urwx, X, U), ok);
    CHECK_EQ(tr(urwx, X, S), EXC_INSN_PAGE_FAULT);
    CHECK_EQ(tr(urwx, X, SUM), EXC_INSN_PAGE_FAULT);

    /* U-mode on a supervisor page: nothing; SUM regime is irrelevant to U. */
    CHECK_EQ(tr(s_rw, R, U), EXC_LOAD_PAGE_FAULT);
    CHECK_EQ(tr(s_rw, W, U), EXC_STORE_PAGE_FAULT);
    CHECK_EQ(tr(s_rw, W, S), ok);
    CHECK_EQ(tr(s_rw, W, SUM), ok);

    /* MXR on a user X-only page from U-mode. */
    map(0x17000, DATA_BASE, 0, LEAF | RV_PTE_X | RV_PTE_U);
    CHECK_EQ(tr(0x17000, R, U), EXC_LOAD_PAGE_FAULT);
    h->mstatus |= MSTATUS_MXR;
    CHECK_EQ(tr(0x17000, R, U), ok);
    h->mstatus &= ~MSTATUS_MXR;

    /* R=0, W=1 is reserved: a page fault for every access, even with X. */
    for (int a = 0; a < RV_ACCESS_COUNT; a++) {
        CHECK_EQ(tr(w_only, (enum rv_access)a, S), pf[a]);
        CHECK_EQ(tr(wx, (enum rv_access)a, S), pf[a]);
    }
}

static void test_reserved_bits(void)
{
    setup(SATP_MODE_SV39, 0);
    const uint64_t va = 0x20000;
    uint64_t *pte = map(va, DATA_BASE, 0, LEAF | RWX);
    const uint64_t good = *pte;
    uint64_t *nonleaf = pte_slot(va, 1, 0);
    const uint64_t good_nl = *nonleaf;

    CHECK_EQ(tr(va, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    for (int bit = 54; bit <= 60; bit++) {
        *pte = good | (1ull << bit);
        CHECK_EQ(tr(va, RV_ACCESS_READ, RV_MMU_S), EXC_LOAD_PAGE_FAULT);
        *pte = good;
        *nonleaf = good_nl | (1ull << bit);
        CHECK_EQ(tr(va, RV_ACCESS_EXEC, RV_MMU_S), EXC_INSN_PAGE_FAULT);
        *nonleaf = good_nl;
    }
    /* RSW (bits 8-9) is ignored. */
    *pte = good | (3ull << 8);
    CHECK_EQ(tr(va, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(tr_pa, DATA_BASE);

    /* PBMT: any nonzero value faults with PBMTE=0; NC/IO work with PBMTE=1; 3 is reserved. */
    for (uint64_t t = 1; t <= 3; t++) {
        *pte = good | (t << RV_PTE_PBMT_SHIFT);
        h->menvcfg = 0;
        CHECK_EQ(tr(va, RV_ACCESS_WRITE, RV_MMU_S), EXC_STORE_PAGE_FAULT);
        h->menvcfg = ENVCFG_PBMTE;
        CHECK_EQ(tr(va, RV_ACCESS_WRITE, RV_MMU_S), t == 3 ? EXC_STORE_PAGE_FAULT : RV_EXC_NONE);
        if (t != 3)
            CHECK_EQ(tr_pa, DATA_BASE);
    }
    *pte = good;

    /* Non-leaf PTEs: A, D, U, N and PBMT are reserved (even with PBMTE=1). */
    const uint64_t nl_bad[] = {RV_PTE_A, RV_PTE_D, RV_PTE_U, RV_PTE_N, 1ull << 61, 2ull << 61};
    for (size_t k = 0; k < sizeof(nl_bad) / sizeof(nl_bad[0]); k++) {
        *nonleaf = good_nl | nl_bad[k];
        CHECK_EQ(tr(va, RV_ACCESS_READ, RV_MMU_S), EXC_LOAD_PAGE_FAULT);
    }
    /* G on a non-leaf is fine (and makes the leaf global). */
    *nonleaf = good_nl | RV_PTE_G;
    CHECK_EQ(tr(va, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    CHECK(tr_global);
    *nonleaf = good_nl;
    CHECK_EQ(tr(va, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    CHECK(!tr_global);
    *pte = good | RV_PTE_G;
    CHECK_EQ(tr(va, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    CHECK(tr_global);
    *pte = good;
    /* V=0 with everything else set. */
    *pte = (good | RV_PTE_G | RV_PTE_U) & ~RV_PTE_V;
    CHECK_EQ(tr(va, RV_ACCESS_READ, RV_MMU_S_SUM), EXC_LOAD_PAGE_FAULT);
    h->menvcfg = 0;
}

static void test_napot(void)
{
    setup(SATP_MODE_SV48, 0);
    /* 64 KiB region at va 0x7f0000 -> pa DATA_BASE + 0x40000; fill all 16 PTEs. */
    const uint64_t va = 0x7f0000, pa = DATA_BASE + 0x40000;
    uint64_t *ptes[16];
    for (int j = 0; j < 16; j++) {
        ptes[j] = pte_slot(va + 0x1000 * (uint64_t)j, 0, 0);
        *ptes[j] = make_pte(pa, LEAF | RV_PTE_R | RV_PTE_N) | (0x8ull << RV_PTE_PPN_SHIFT);
    }
    for (int j = 0; j < 16; j++) {
        CHECK_EQ(tr(va + 0x1000 * (uint64_t)j + 0x18, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
        CHECK_EQ(tr_pa, pa + 0x1000 * (uint64_t)j + 0x18);
    }
    /* The PPN replacement uses the VPN, not the PTE index: a lone NAPOT PTE at index 5. */
    *ptes[5] = make_pte(DATA_BASE + 0x80000, LEAF | RV_PTE_R | RV_PTE_N) |
               (0x8ull << RV_PTE_PPN_SHIFT);
    CHECK_EQ(tr(va + 0x5ffc, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(tr_pa, DATA_BASE + 0x85ffc);

    /* Reserved encodings: ppn[3:0] other than 0b1000. */
    const uint64_t bad_low[] = {0x0, 0x1, 0x2, 0x4, 0x9, 0xc, 0xf};
    for (size_t k = 0; k < sizeof(bad_low) / sizeof(bad_low[0]); k++) {
        *ptes[2] = make_pte(pa, LEAF | RV_PTE_R | RV_PTE_W | RV_PTE_N) |
                   (bad_low[k] << RV_PTE_PPN_SHIFT);
        CHECK_EQ(tr(va + 0x2000, RV_ACCESS_WRITE, RV_MMU_S), EXC_STORE_PAGE_FAULT);
    }
    /* N on a superpage leaf. */
    uint64_t *mega = map(0x40000000, 0x40000000, 1, LEAF | RV_PTE_R);
    CHECK_EQ(tr(0x40000000, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    *mega |= RV_PTE_N | (0x8ull << RV_PTE_PPN_SHIFT);
    CHECK_EQ(tr(0x40000000, RV_ACCESS_READ, RV_MMU_S), EXC_LOAD_PAGE_FAULT);
    *mega = make_pte(0x40000000, LEAF | RV_PTE_R | RV_PTE_N);
    CHECK_EQ(tr(0x40000000, RV_ACCESS_READ, RV_MMU_S), EXC_LOAD_PAGE_FAULT);
}

static void test_ad_bits(void)
{
    setup(SATP_MODE_SV39, 0);
    const uint64_t va = 0x30000;
    uint64_t *pte = map(va, DATA_BASE, 0, RV_PTE_V | RWX); /* A = D = 0 */
    const uint64_t fresh = *pte;

    /* Svade (ADUE=0): fault, PTE untouched. */
    for (int a = 0; a < RV_ACCESS_COUNT; a++) {
        CHECK_EQ(tr(va, (enum rv_access)a, RV_MMU_S), pf[a]);
        CHECK_EQ(*pte, fresh);
    }
    *pte = fresh | RV_PTE_A;
    CHECK_EQ(tr(va, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(tr(va, RV_ACCESS_EXEC, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(tr(va, RV_ACCESS_WRITE, RV_MMU_S), EXC_STORE_PAGE_FAULT);
    CHECK_EQ(*pte, fresh | RV_PTE_A);

    /* Svadu (ADUE=1): hardware sets A on any access, D on stores. */
    h->menvcfg = ENVCFG_ADUE;
    *pte = fresh;
    CHECK_EQ(tr(va, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(*pte, fresh | RV_PTE_A);
    *pte = fresh;
    CHECK_EQ(tr(va, RV_ACCESS_EXEC, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(*pte, fresh | RV_PTE_A);
    CHECK_EQ(tr(va, RV_ACCESS_WRITE, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(*pte, fresh | RV_PTE_A | RV_PTE_D);
    *pte = fresh;
    CHECK_EQ(tr(va, RV_ACCESS_WRITE, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(tr_pa, DATA_BASE);
    CHECK_EQ(*pte, fresh | RV_PTE_A | RV_PTE_D);

    /* No update when the access faults anyway (permission, SUM), nor on non-leaf PTEs. */
    uint64_t *ro = map(0x31000, DATA_BASE, 0, RV_PTE_V | RV_PTE_R);
    CHECK_EQ(tr(0x31000, RV_ACCESS_WRITE, RV_MMU_S), EXC_STORE_PAGE_FAULT);
    CHECK_EQ(*ro, make_pte(DATA_BASE, RV_PTE_V | RV_PTE_R));
    uint64_t *user = map(0x32000, DATA_BASE, 0, RV_PTE_V | RV_PTE_R | RV_PTE_U);
    CHECK_EQ(tr(0x32000, RV_ACCESS_READ, RV_MMU_S), EXC_LOAD_PAGE_FAULT);
    CHECK_EQ(*user, make_pte(DATA_BASE, RV_PTE_V | RV_PTE_R | RV_PTE_U));
    uint64_t *nonleaf = pte_slot(va, 1, 0);
    CHECK_EQ(*nonleaf & (RV_PTE_A | RV_PTE_D), 0);

    /* Superpage leaf gets A/D too. */
    uint64_t *giga = map(0x80000000, 0x80000000, 2, RV_PTE_V | RV_PTE_R | RV_PTE_W);
    CHECK_EQ(tr(0x80001000, RV_ACCESS_WRITE, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(*giga & (RV_PTE_A | RV_PTE_D), RV_PTE_A | RV_PTE_D);
    h->menvcfg = 0;
}

static void test_access_faults(void)
{
    setup(SATP_MODE_SV39, 0);
    /* Root table outside RAM. */
    h->satp = ((uint64_t)SATP_MODE_SV39 << SATP_MODE_SHIFT) | (0x10000000ull >> 12);
    for (int a = 0; a < RV_ACCESS_COUNT; a++)
        CHECK_EQ(tr(0x1000, (enum rv_access)a, RV_MMU_S), af[a]);
    /* Root table is the last RAM page: in range. */
    h->satp = ((uint64_t)SATP_MODE_SV39 << SATP_MODE_SHIFT) | ((RAM_BASE + RAM_SIZE - 4096) >> 12);
    CHECK_EQ(tr(0x1000, RV_ACCESS_READ, RV_MMU_S), EXC_LOAD_PAGE_FAULT); /* V=0 */

    /* A non-leaf pointing past the end of RAM, and one far above it (PPN bit 43). */
    setup(SATP_MODE_SV48, 0);
    uint64_t *nonleaf = pte_slot(0x5000, 1, 0);
    *nonleaf = make_pte(RAM_BASE + RAM_SIZE, RV_PTE_V);
    for (int a = 0; a < RV_ACCESS_COUNT; a++)
        CHECK_EQ(tr(0x5000, (enum rv_access)a, RV_MMU_U), af[a]);
    *nonleaf = make_pte(1ull << 55, RV_PTE_V);
    CHECK_EQ(tr(0x5000, RV_ACCESS_WRITE, RV_MMU_S), EXC_STORE_ACCESS);
    /* A leaf pointing outside RAM is not an error of the walk (the bus decides later). */
    *nonleaf = 0;
    map(0x5000, 0x10000000, 0, LEAF | RV_PTE_R);
    CHECK_EQ(tr(0x5008, RV_ACCESS_READ, RV_MMU_S), RV_EXC_NONE);
    CHECK_EQ(tr_pa, 0x10000008);
}

static void test_fill(void)
{
    struct rv_tlb_entry *e = NULL;
    setup(SATP_MODE_SV39, 42);
    const uint64_t va = 0x40123000;
    uint64_t *pte = map(va, DATA_BASE + 0x7000, 0, RV_PTE_V | RV_PTE_A | RV_PTE_R | RV_PTE_W);

    /* Read fill on a clean page (D=0) with Svade: readable, and no write entry. */
    CHECK_EQ(rv_mmu_fill(h, va + 0x10, RV_ACCESS_READ, &e), RV_EXC_NONE);
    CHECK(e == rv_tlb_entry(h, RV_MMU_S, RV_ACCESS_READ, va));
    CHECK_EQ(e->tag, va);
    CHECK_EQ(rv_tlb_meta(h, e)->paddr, DATA_BASE + 0x7000);
    CHECK_EQ(rv_tlb_meta(h, e)->asid, 42);
    CHECK(!rv_tlb_meta(h, e)->global);
    uint8_t *hp = rv_tlb_lookup(h, RV_MMU_S, RV_ACCESS_READ, va + 0x10);
    CHECK(hp == bus.ram + (DATA_BASE - RAM_BASE) + 0x7010);
    CHECK(rv_tlb_lookup(h, RV_MMU_S, RV_ACCESS_READ, va + 0x1000) == NULL);
    CHECK(rv_tlb_lookup(h, RV_MMU_S, RV_ACCESS_WRITE, va + 0x10) == NULL);
    CHECK(rv_tlb_lookup(h, RV_MMU_S_SUM, RV_ACCESS_READ, va + 0x10) == NULL);
    CHECK_EQ(rv_mmu_fill(h, va, RV_ACCESS_WRITE, &e), EXC_STORE_PAGE_FAULT);
    CHECK(rv_tlb_lookup(h, RV_MMU_S, RV_ACCESS_WRITE, va) == NULL);

    /* Svadu: the read fill sets only A, the write fill then sets D. */
    h->menvcfg = ENVCFG_ADUE;
    *pte &= ~RV_PTE_A;
    rv_tlb_flush_all(h);
    CHECK_EQ(rv_mmu_fill(h, va, RV_ACCESS_READ, &e), RV_EXC_NONE);
    CHECK_EQ(*pte & (RV_PTE_A | RV_PTE_D), RV_PTE_A);
    CHECK(rv_tlb_lookup(h, RV_MMU_S, RV_ACCESS_WRITE, va) == NULL);
    CHECK_EQ(rv_mmu_fill(h, va + 0xff8, RV_ACCESS_WRITE, &e), RV_EXC_NONE);
    CHECK_EQ(*pte & (RV_PTE_A | RV_PTE_D), RV_PTE_A | RV_PTE_D);
    hp = rv_tlb_lookup(h, RV_MMU_S, RV_ACCESS_WRITE, va + 0xff8);
    CHECK(hp == bus.ram + (DATA_BASE - RAM_BASE) + 0x7ff8);
    if (hp) {
        memcpy(hp, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
        CHECK_EQ(*ram_u64(DATA_BASE + 0x7ff8), 0x8877665544332211ull);
    }
    /* A write fill also serves loads. */
    rv_tlb_flush_all(h);
    CHECK_EQ(rv_mmu_fill(h, va, RV_ACCESS_WRITE, &e), RV_EXC_NONE);
    CHECK(rv_tlb_lookup(h, RV_MMU_S, RV_ACCESS_READ, va + 4) ==
          bus.ram + (DATA_BASE - RAM_BASE) + 0x7004);
    h->menvcfg = 0;

    /* Fetch uses fetch_mmu_idx, data uses data_mmu_idx. */
    map(0x9000, DATA_BASE + 0x9000, 0, LEAF | RV_PTE_R | RV_PTE_X | RV_PTE_U);
    h->fetch_mmu_idx = RV_MMU_U;
    h->data_mmu_idx = RV_MMU_S;
    CHECK_EQ(rv_mmu_fill(h, 0x9000, RV_ACCESS_EXEC, &e), RV_EXC_NONE);
    CHECK(e == rv_tlb_entry(h, RV_MMU_U, RV_ACCESS_EXEC, 0x9000));
    CHECK_EQ(rv_mmu_fill(h, 0x9000, RV_ACCESS_READ, &e), EXC_LOAD_PAGE_FAULT);
    h->data_mmu_idx = RV_MMU_S_SUM;
    CHECK_EQ(rv_mmu_fill(h, 0x9000, RV_ACCESS_READ, &e), RV_EXC_NONE);
    CHECK(e == rv_tlb_entry(h, RV_MMU_S_SUM, RV_ACCESS_READ, 0x9000));
    CHECK(rv_tlb_lookup(h, RV_MMU_S, RV_ACCESS_READ, 0x9000) == NULL);
    h->fetch_mmu_idx = RV_MMU_S;
    CHECK_EQ(rv_mmu_fill(h, 0x9000, RV_ACCESS_EXEC, &e), EXC_INSN_PAGE_FAULT);
    h->data_mmu_idx = RV_MMU_S;

    /* I/O entries: outside RAM, and a RAM page the bus declares special. */
    map(0xa000, 0x10000000, 0, LEAF | RV_PTE_R | RV_PTE_W);
    CHECK_EQ(rv_mmu_fill(h, 0xa123, RV_ACCESS_WRITE, &e), RV_EXC_NONE);
    CHECK_EQ(e->tag, 0xa000 | RV_TLB_IO);
    CHECK_EQ(rv_tlb_meta(h, e)->paddr, 0x10000000);
    CHECK_EQ(rv_tlb_meta(h, e)->asid, 42);
    CHECK(rv_tlb_lookup(h, RV_MMU_S, RV_ACCESS_WRITE, 0xa123) == NULL);
    map(0xb000, DATA_BASE + 0xb000, 0, LEAF | RV_PTE_R | RV_PTE_G);
    io_page = DATA_BASE + 0xb000;
    CHECK_EQ(rv_mmu_fill(h, 0xb000, RV_ACCESS_READ, &e), RV_EXC_NONE);
    CHECK_EQ(e->tag, 0xb000 | RV_TLB_IO);
    CHECK_EQ(rv_tlb_meta(h, e)->paddr, DATA_BASE + 0xb000);
    CHECK(rv_tlb_meta(h, e)->global);
    io_page = UINT64_MAX;
    /* The last RAM page is direct; the page just past the end of RAM is I/O. */
    map(0xc000, RAM_BASE + RAM_SIZE - 4096, 0, LEAF | RV_PTE_R);
    CHECK_EQ(rv_mmu_fill(h, 0xc000, RV_ACCESS_READ, &e), RV_EXC_NONE);
    CHECK_EQ(e->tag, 0xc000);
    map(0xd000, RAM_BASE + RAM_SIZE, 0, LEAF | RV_PTE_R);
    CHECK_EQ(rv_mmu_fill(h, 0xd000, RV_ACCESS_READ, &e), RV_EXC_NONE);
    CHECK_EQ(e->tag, 0xd000 | RV_TLB_IO);

    /* Superpage piece: a 4 KiB entry at the accessed page of a 2 MiB page. */
    map(0x200000, DATA_BASE + 0x200000, 1, LEAF | RV_PTE_R);
    CHECK_EQ(rv_mmu_fill(h, 0x2345a8, RV_ACCESS_READ, &e), RV_EXC_NONE);
    CHECK_EQ(e->tag, 0x234000);
    CHECK_EQ(rv_tlb_meta(h, e)->paddr, DATA_BASE + 0x234000);
    CHECK(rv_tlb_lookup(h, RV_MMU_S, RV_ACCESS_READ, 0x2345a8) ==
          bus.ram + (DATA_BASE - RAM_BASE) + 0x2345a8);

    /* Physical regime: identity, host pointer for RAM. */
    h->data_mmu_idx = RV_MMU_PHYS;
    CHECK_EQ(rv_mmu_fill(h, RAM_BASE + 0x3008, RV_ACCESS_WRITE, &e), RV_EXC_NONE);
    CHECK(rv_tlb_lookup(h, RV_MMU_PHYS, RV_ACCESS_WRITE, RAM_BASE + 0x3008) == bus.ram + 0x3008);
    CHECK_EQ(rv_mmu_fill(h, 1ull << 56, RV_ACCESS_WRITE, &e), EXC_STORE_ACCESS);
    h->data_mmu_idx = RV_MMU_S;

    /* A failed fill leaves the entry empty. */
    CHECK_EQ(rv_mmu_fill(h, 0x3f000, RV_ACCESS_READ, &e), EXC_LOAD_PAGE_FAULT);
    CHECK_EQ(rv_tlb_entry(h, RV_MMU_S, RV_ACCESS_READ, 0x3f000)->tag, RV_TLB_INVALID);
}

static bool cached(unsigned mmu_idx, enum rv_access acc, uint64_t va)
{
    struct rv_tlb_entry *e = rv_tlb_entry(h, mmu_idx, acc, va);
    return (e->tag & ~RV_TLB_IO) == (va & ~0xfffull);
}

static void fill_ok(enum rv_access acc, uint64_t va)
{
    struct rv_tlb_entry *e;
    CHECK_EQ(rv_mmu_fill(h, va, acc, &e), RV_EXC_NONE);
}

static void test_flush(void)
{
    setup(SATP_MODE_SV39, 5);
    const uint64_t a = 0x10000, b = 0x11000, g = 0x12000, alias = a + 4096 * RV_TLB_SIZE;
    map(a, DATA_BASE, 0, LEAF | RWX);
    map(b, DATA_BASE + 0x1000, 0, LEAF | RWX);
    map(g, DATA_BASE + 0x2000, 0, LEAF | RWX | RV_PTE_G);
    map(alias, DATA_BASE + 0x3000, 0, LEAF | RWX);

    /* By address: every table's entry for that page, nothing else. */
    fill_ok(RV_ACCESS_READ, a);
    fill_ok(RV_ACCESS_EXEC, a);
    fill_ok(RV_ACCESS_WRITE, b);
    h->data_mmu_idx = RV_MMU_S_SUM;
    fill_ok(RV_ACCESS_READ, a);
    h->data_mmu_idx = RV_MMU_S;
    rv_tlb_flush(h, true, a + 0x123, false, 0);
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, a));
    CHECK(!cached(RV_MMU_S, RV_ACCESS_EXEC, a));
    CHECK(!cached(RV_MMU_S_SUM, RV_ACCESS_READ, a));
    CHECK(cached(RV_MMU_S, RV_ACCESS_WRITE, b));
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, b));

    /* Same slot, different page: a fence on `alias` keeps `a`. */
    fill_ok(RV_ACCESS_READ, a);
    rv_tlb_flush(h, true, alias, false, 0);
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, a));
    rv_tlb_flush(h, true, alias, true, 5);
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, a));

    /* By address and ASID: matching non-global goes, other ASIDs and global stay. */
    fill_ok(RV_ACCESS_READ, g);
    rv_tlb_flush(h, true, a, true, 6);
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, a));
    rv_tlb_flush(h, true, a, true, 5);
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, a));
    rv_tlb_flush(h, true, g, true, 5);
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, g));
    rv_tlb_flush(h, true, g, false, 0);
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, g));

    /* By ASID only. */
    fill_ok(RV_ACCESS_READ, a);
    fill_ok(RV_ACCESS_WRITE, b);
    fill_ok(RV_ACCESS_READ, g);
    rv_tlb_flush(h, false, 0, true, 6);
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, a));
    CHECK(cached(RV_MMU_S, RV_ACCESS_WRITE, b));
    rv_tlb_flush(h, false, 0, true, 5);
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, a));
    CHECK(!cached(RV_MMU_S, RV_ACCESS_WRITE, b));
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, b));
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, g));
    /* Everything. */
    fill_ok(RV_ACCESS_READ, a);
    rv_tlb_flush(h, false, 0, false, 0);
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, a));
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, g));
    rv_tlb_flush_all(h);
    unsigned valid = 0;
    for (unsigned m = 0; m < RV_MMU_COUNT; m++)
        for (unsigned ac = 0; ac < RV_ACCESS_COUNT; ac++)
            for (unsigned s = 0; s < RV_TLB_SIZE; s++)
                valid += h->tlb[m][ac][s].tag != RV_TLB_INVALID;
    CHECK_EQ(valid, 0);
}

static void test_flush_superpage(void)
{
    setup(SATP_MODE_SV39, 3);
    const uint64_t mega = 0x40200000, giga = 0x80000000, small = 0x10000, gmega = 0x40400000;
    map(mega, DATA_BASE, 1, LEAF | RWX);                         /* 2 MiB */
    map(giga, 0xc0000000, 2, LEAF | RV_PTE_R);                   /* 1 GiB, I/O pieces */
    map(gmega, DATA_BASE, 1, LEAF | RV_PTE_R | RV_PTE_G);        /* 2 MiB, global */
    map(small, DATA_BASE, 0, LEAF | RWX);

    fill_ok(RV_ACCESS_READ, mega + 0x1000);
    fill_ok(RV_ACCESS_WRITE, mega + 0x1ff000);
    fill_ok(RV_ACCESS_EXEC, mega + 0x5000);
    fill_ok(RV_ACCESS_READ, giga + 0x3000);
    fill_ok(RV_ACCESS_READ, giga + 0x3fffe000);
    fill_ok(RV_ACCESS_READ, gmega + 0x7000);
    fill_ok(RV_ACCESS_READ, small);

    /* A fence outside any superpage keeps all pieces. */
    rv_tlb_flush(h, true, 0x20000, false, 0);
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, mega + 0x1000));
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, giga + 0x3000));

    /* A fence on an uncached page of the megapage drops all its pieces and only those. */
    rv_tlb_flush(h, true, mega + 0x100000, false, 0);
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, mega + 0x1000));
    CHECK(!cached(RV_MMU_S, RV_ACCESS_WRITE, mega + 0x1ff000));
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, mega + 0x1ff000));
    CHECK(!cached(RV_MMU_S, RV_ACCESS_EXEC, mega + 0x5000));
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, giga + 0x3000));
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, giga + 0x3fffe000));
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, gmega + 0x7000));
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, small));

    /* Gigapage: by address with the wrong ASID keeps, with the right one drops. */
    rv_tlb_flush(h, true, giga + 0x20000000, true, 4);
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, giga + 0x3000));
    rv_tlb_flush(h, true, giga + 0x20000000, true, 3);
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, giga + 0x3000));
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, giga + 0x3fffe000));

    /* Global megapage: an ASID fence keeps it, a fence for all ASIDs drops it. */
    rv_tlb_flush(h, true, gmega + 0x1000, true, 3);
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, gmega + 0x7000));
    rv_tlb_flush(h, true, gmega + 0x1000, false, 0);
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, gmega + 0x7000));
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, small));

    /* After the range emptied, superpage fills are still tracked. */
    fill_ok(RV_ACCESS_READ, mega + 0x2000);
    rv_tlb_flush(h, true, mega, true, 3);
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, mega + 0x2000));

    /* Sv57: a 256 TiB petapage in the upper half. */
    setup(SATP_MODE_SV57, 1);
    const uint64_t peta = 0xff00000000000000ull; /* VPN[4] = 0x100, sign-extended */
    map(peta, 1ull << 48, 4, LEAF | RV_PTE_R);
    fill_ok(RV_ACCESS_READ, peta + 0x123456789000ull);
    CHECK_EQ(rv_tlb_meta(h, rv_tlb_entry(h, RV_MMU_S, RV_ACCESS_READ,
                                         peta + 0x123456789000ull))->paddr,
             (1ull << 48) + 0x123456789000ull);
    rv_tlb_flush(h, true, peta + 0xfffffffff000ull, false, 0);
    CHECK(!cached(RV_MMU_S, RV_ACCESS_READ, peta + 0x123456789000ull));
}

/* Svadu under concurrency: another thread keeps flipping an RSW bit of the PTE while this
 * one clears A/D and translates (which sets them again). The flipper is the only writer of
 * that bit, so every flip must see the value its previous flip left: no walk may write back
 * a stale PTE, and every translation must end with A (and D for stores) set. The window of a
 * plain read-modify-write is a few cycles, so this is a smoke test, not proof of the CAS. */
#define RACE_ROUNDS 200000
static uint64_t *race_pte;
static _Atomic int race_state; /* 0 wait, 1 go, 2 stop */
static _Atomic int race_flips;
static int race_lost;

static void *race_flipper(void *arg)
{
    (void)arg;
    while (race_state == 0)
        ;
    uint64_t expect = *race_pte & (1ull << 8);
    while (race_state == 1) {
        uint64_t old = __atomic_fetch_xor(race_pte, 1ull << 8, __ATOMIC_SEQ_CST);
        if ((old & (1ull << 8)) != expect)
            race_lost++;
        expect = (old & (1ull << 8)) ^ (1ull << 8);
        race_flips++;
    }
    return NULL;
}

static void test_ad_race(void)
{
    setup(SATP_MODE_SV39, 0);
    h->menvcfg = ENVCFG_ADUE;
    race_pte = map(0x50000, DATA_BASE, 0, RV_PTE_V | RV_PTE_R | RV_PTE_W);
    pthread_t t;
    race_state = 0;
    race_flips = race_lost = 0;
    CHECK_EQ(pthread_create(&t, NULL, race_flipper, NULL), 0);
    race_state = 1;
    /* Under load the flipper may start late: race only once it is flipping. */
    while (race_flips == 0)
        sched_yield();
    int bad = 0;
    for (int n = 0; n < RACE_ROUNDS; n++) {
        __atomic_fetch_and(race_pte, ~(RV_PTE_A | RV_PTE_D), __ATOMIC_SEQ_CST);
        if (tr(0x50000, n & 1 ? RV_ACCESS_WRITE : RV_ACCESS_READ, RV_MMU_S) != RV_EXC_NONE ||
            tr_pa != DATA_BASE)
            bad++;
        uint64_t now = __atomic_load_n(race_pte, __ATOMIC_SEQ_CST);
        if (!(now & RV_PTE_A) || ((n & 1) && !(now & RV_PTE_D)))
            bad++;
    }
    race_state = 2;
    pthread_join(t, NULL);
    CHECK_EQ(bad, 0);
    CHECK_EQ(race_lost, 0);
    CHECK(race_flips > 0);
    h->menvcfg = 0;
}

/* Svvptc (the device tree advertises it, so Linux leaves out the SFENCE.VMA after making a
 * PTE valid): a failed walk caches nothing, so a PTE (leaf or not) that becomes valid is used
 * by the next access without a fence. */
static void test_svvptc(void)
{
    setup(SATP_MODE_SV39, 0);
    const uint64_t va = 0x20000, far = 0x40000000; /* far: no tables below the root yet */
    map(va + 0x1000, DATA_BASE, 0, LEAF | RWX);     /* the level-0 table of va exists */
    static const enum rv_access accs[] = {RV_ACCESS_READ, RV_ACCESS_WRITE, RV_ACCESS_EXEC};
    static const int faults[] = {EXC_LOAD_PAGE_FAULT, EXC_STORE_PAGE_FAULT,
                                 EXC_INSN_PAGE_FAULT};
    struct rv_tlb_entry *e;
    for (unsigned i = 0; i < 3; i++) {
        CHECK_EQ(rv_mmu_fill(h, va, accs[i], &e), faults[i]);
        CHECK_EQ(rv_mmu_fill(h, far, accs[i], &e), faults[i]);
    }
    map(va, DATA_BASE + 0x1000, 0, LEAF | RWX);    /* invalid leaf -> valid */
    map(far, DATA_BASE + 0x2000, 0, LEAF | RWX);   /* invalid non-leaf PTEs -> valid */
    for (unsigned i = 0; i < 3; i++) {
        fill_ok(accs[i], va);
        fill_ok(accs[i], far);
    }
    CHECK(cached(RV_MMU_S, RV_ACCESS_READ, va) && cached(RV_MMU_S, RV_ACCESS_READ, far));
}

int main(void)
{
    bus.ram = aligned_alloc(4096, RAM_SIZE);
    bus.ram_base = RAM_BASE;
    bus.ram_size = RAM_SIZE;
    bus.page_is_io = test_page_is_io;
    h = aligned_alloc(64, (sizeof(*h) + 63) & ~(size_t)63);
    if (!bus.ram || !h) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    test_phys();
    test_page_sizes(SATP_MODE_SV39);
    test_page_sizes(SATP_MODE_SV48);
    test_page_sizes(SATP_MODE_SV57);
    test_permissions();
    test_reserved_bits();
    test_napot();
    test_ad_bits();
    test_access_faults();
    test_fill();
    test_flush();
    test_flush_superpage();
    test_ad_race();
    test_svvptc();

    free(h);
    free(bus.ram);
    TEST_MAIN_END();
}
