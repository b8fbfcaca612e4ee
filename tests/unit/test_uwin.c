/* Unit tests for src/cpu/uwin.c, the host-MMU windows: what rv_uwin_fault() maps and refuses
 * (guest permissions, A/D bits, I/O and code pages, 2 MiB pages, the regime), and that every
 * flush the TLB gets (SFENCE.VMA by address and whole, satp writes through
 * rv_tlb_flush_all, code-page revocation) takes the mappings away. Host accesses to the window
 * are probed with a SIGSEGV handler of the test's own. */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu/csr.h"
#include "cpu/mmu.h"
#include "cpu/uwin.h"
#include "test.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (8ull << 20)
#define ROOT (RAM_BASE + 0x1000)
#define DATA (RAM_BASE + 0x100000)      /* 4 KiB leaves */
#define SUPER_PA (RAM_BASE + 0x400000)  /* a 2 MiB leaf */
#define SUPER_VA 0x40200000ull

enum { RO_VA = 0x10000, RW_VA = 0x11000, CLEAN_VA = 0x12000, INVALID_VA = 0x13000,
       SUPERVISOR_VA = 0x14000, IO_VA = 0x15000 };

static struct rv_bus bus;
static struct rv_hart *h;
static struct rv_uwin *w;
static struct rv_uwin_budget budget;
static uint8_t code_pages[RAM_SIZE >> 12];
static uint64_t dirty[RAM_SIZE >> 18];
static uint64_t next_table = RAM_BASE + 0x2000;

static bool page_is_io(void *opaque, uint64_t paddr)
{
    (void)opaque;
    return paddr == DATA + 5 * 4096;
}

static uint64_t *ram_u64(uint64_t pa)
{
    return (uint64_t *)(void *)(bus.ram + (pa - RAM_BASE));
}

static uint64_t pte(uint64_t pa, uint64_t flags)
{
    return ((pa >> 12) << RV_PTE_PPN_SHIFT) | flags | RV_PTE_V;
}

/* Sv39: the PTE slot for va at `level` (0: 4 KiB, 1: 2 MiB), creating tables above it. */
static uint64_t *slot(uint64_t va, int level)
{
    uint64_t table = ROOT;
    for (int i = 2;; i--) {
        uint64_t *p = ram_u64(table + ((va >> (12 + 9 * i)) & 511) * 8);
        if (i == level)
            return p;
        if (!(*p & RV_PTE_V)) {
            *p = pte(next_table, 0);
            next_table += 4096;
        }
        table = ((*p >> RV_PTE_PPN_SHIFT) << 12);
    }
}

/* --- probing host accesses --- */

static sigjmp_buf probe_env;

static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(probe_env, 1);
}

/* Whether a host read (or write of the byte read) of `va` in the window works. */
static bool probe(uint64_t va, bool write)
{
    volatile uint8_t *p = w->base + va;
    if (sigsetjmp(probe_env, 1))
        return false;
    uint8_t v = *p;
    if (write)
        *p = v;
    return true;
}

static void set_priv(unsigned priv)
{
    h->priv = priv;
    rv_hart_update_mmu_idx(h);
}

/* --- tests --- */

static void test_permissions(void)
{
    ram_u64(DATA)[0] = 0x1122334455667788ull;
    CHECK(!probe(RO_VA, false)); /* nothing mapped yet */
    CHECK(rv_uwin_fault(h, (uintptr_t)w->base + RO_VA, false));
    CHECK(probe(RO_VA, false));
    CHECK_EQ(*(uint64_t *)(void *)(w->base + RO_VA), 0x1122334455667788ull);
    /* a read-only PTE: the store is the guest's page fault, the mapping stays read-only */
    CHECK(!rv_uwin_fault(h, (uintptr_t)w->base + RO_VA, true));
    CHECK(!probe(RO_VA, true));
    /* a writable dirty page: stores reach guest RAM, and the page is marked dirty */
    memset(dirty, 0, sizeof(dirty));
    CHECK(rv_uwin_fault(h, (uintptr_t)w->base + RW_VA + 8, true));
    *(volatile uint32_t *)(void *)(w->base + RW_VA + 8) = 0xabcd;
    CHECK_EQ(ram_u64(DATA + 4096)[1], 0xabcd);
    const uint64_t page = (DATA + 4096 - RAM_BASE) >> 12;
    CHECK(dirty[page / 64] & (1ull << (page % 64)));
    /* D clear with Svade (menvcfg.ADUE = 0): the store faults for the guest, loads map */
    CHECK(!rv_uwin_fault(h, (uintptr_t)w->base + CLEAN_VA, true));
    CHECK(rv_uwin_fault(h, (uintptr_t)w->base + CLEAN_VA, false));
    CHECK(!probe(CLEAN_VA, true));
    CHECK_EQ(*slot(CLEAN_VA, 0) & RV_PTE_D, 0); /* the refused walk set nothing */
    /* invalid, supervisor-only and I/O pages are never mapped */
    CHECK(!rv_uwin_fault(h, (uintptr_t)w->base + INVALID_VA, false));
    CHECK(!rv_uwin_fault(h, (uintptr_t)w->base + SUPERVISOR_VA, false));
    CHECK(!rv_uwin_fault(h, (uintptr_t)w->base + IO_VA, false));
    CHECK(!probe(IO_VA, false));
    /* the guard page above the window: always the slow path */
    CHECK(rv_uwin_contains(h, (uintptr_t)w->base + RV_UWIN_SIZE));
    CHECK(!rv_uwin_fault(h, (uintptr_t)w->base + RV_UWIN_SIZE, false));
    CHECK(!rv_uwin_contains(h, (uintptr_t)w->base + RV_UWIN_SIZE + 2 * 4096));
}

static void test_flushes(void)
{
    rv_tlb_flush_all(h);
    CHECK(!probe(RO_VA, false));
    CHECK(rv_uwin_fault(h, (uintptr_t)w->base + RO_VA, false));
    CHECK(rv_uwin_fault(h, (uintptr_t)w->base + RW_VA, true));
    /* SFENCE.VMA of one page takes only that page */
    rv_tlb_flush(h, true, RW_VA, false, 0);
    CHECK(!probe(RW_VA, false));
    CHECK(probe(RO_VA, false));
    /* by ASID: everything (the window holds the current address space only) */
    rv_tlb_flush(h, false, 0, true, 1);
    CHECK(!probe(RO_VA, false));
    /* a PTE changed and fenced: the new translation */
    CHECK(rv_uwin_fault(h, (uintptr_t)w->base + RO_VA, false));
    *slot(RO_VA, 0) = pte(DATA + 4096, RV_PTE_R | RV_PTE_U | RV_PTE_A);
    rv_tlb_flush(h, true, RO_VA, false, 0);
    CHECK(rv_uwin_fault(h, (uintptr_t)w->base + RO_VA, false));
    CHECK_EQ(*(uint64_t *)(void *)(w->base + RO_VA + 8), 0xabcd);
    *slot(RO_VA, 0) = pte(DATA, RV_PTE_R | RV_PTE_U | RV_PTE_A);
    rv_tlb_flush_all(h);
}

static void test_code_pages(void)
{
    CHECK(rv_uwin_fault(h, (uintptr_t)w->base + RW_VA, true));
    CHECK(probe(RW_VA, true));
    /* the page gets translated code: its write mapping goes, loads fault and map again */
    code_pages[(DATA + 4096 - RAM_BASE) >> 12] = 1;
    rv_uwin_revoke_write(h, DATA + 4096);
    CHECK(!probe(RW_VA, false));
    CHECK(!rv_uwin_fault(h, (uintptr_t)w->base + RW_VA, true)); /* stores: the slow path */
    CHECK(rv_uwin_fault(h, (uintptr_t)w->base + RW_VA, false));
    CHECK(probe(RW_VA, false));
    CHECK(!probe(RW_VA, true));
    code_pages[(DATA + 4096 - RAM_BASE) >> 12] = 0;
    rv_tlb_flush_all(h);
}

static void test_superpage(void)
{
    /* one fault maps the whole 2 MiB page */
    CHECK(rv_uwin_fault(h, (uintptr_t)w->base + SUPER_VA + 0x5000, true));
    CHECK(probe(SUPER_VA + 0x1ff000, true));
    CHECK(probe(SUPER_VA, false));
    /* a fence of any address in it drops all of it (priv spec 10.2.1: the fence covers every
     * translation of that address, whatever the page size) */
    rv_tlb_flush(h, true, SUPER_VA + 0x1000, false, 0);
    CHECK(!probe(SUPER_VA + 0x1ff000, false));
    /* with a code page inside, a write maps only the 4 KiB page written */
    code_pages[(SUPER_PA + 0x10000 - RAM_BASE) >> 12] = 1;
    CHECK(rv_uwin_fault(h, (uintptr_t)w->base + SUPER_VA + 0x5000, true));
    CHECK(probe(SUPER_VA + 0x5000, true));
    CHECK(!probe(SUPER_VA + 0x6000, false));
    CHECK(!rv_uwin_fault(h, (uintptr_t)w->base + SUPER_VA + 0x10000, true));
    code_pages[(SUPER_PA + 0x10000 - RAM_BASE) >> 12] = 0;
    rv_tlb_flush_all(h);
}

/* This thread's GS base (translated code addresses the window through it). */
static uintptr_t gs_base(void)
{
    uintptr_t v;
    __asm__ volatile("rdgsbase %0" : "=r"(v));
    return v;
}

static void test_regimes(void)
{
    CHECK(h->uwin == w->base);
    CHECK_EQ(h->uwin_limit, RV_UWIN_SIZE);
    /* once the thread runs h's code, its GS base follows h->uwin through changes of regime */
    rv_uwin_enter(h);
    CHECK_EQ(gs_base(), (uintptr_t)w->base);
    set_priv(RV_PRIV_S);
    CHECK_EQ(gs_base(), (uintptr_t)h->uwin);
    set_priv(RV_PRIV_U);
    CHECK_EQ(gs_base(), (uintptr_t)w->base);
    /* S-mode: the hart's accesses use the unmapped window, which never maps */
    set_priv(RV_PRIV_S);
    CHECK(h->uwin != w->base);
    CHECK(rv_uwin_contains(h, (uintptr_t)h->uwin));
    CHECK(!rv_uwin_fault(h, (uintptr_t)h->uwin + RO_VA, false));
    CHECK(!rv_uwin_fault(h, (uintptr_t)w->base + RO_VA, false));
    /* M-mode with MPRV and MPP = U uses the U regime for data */
    set_priv(RV_PRIV_M);
    h->mstatus |= MSTATUS_MPRV;
    rv_hart_update_mmu_idx(h);
    CHECK(h->uwin == w->base);
    h->mstatus &= ~MSTATUS_MPRV;
    set_priv(RV_PRIV_U);
    /* detached: every access compares above the limit */
    rv_uwin_attach(h, NULL);
    CHECK_EQ(h->uwin_limit, 0);
    rv_uwin_attach(h, w);
    CHECK_EQ(h->uwin_limit, RV_UWIN_SIZE);
}

/* Two windows sharing a budget of two mappings: `mine` on hart h, `theirs` on a second hart
 * h2 that runs the same address space. */
static void test_budget(void)
{
    struct rv_uwin_budget b;
    rv_uwin_budget_init(&b, 2);
    struct rv_uwin *mine = rv_uwin_create(w->ram_fd, RAM_SIZE, &b);
    struct rv_uwin *theirs = rv_uwin_create(w->ram_fd, RAM_SIZE, &b);
    struct rv_hart *h2 = aligned_alloc(64, (sizeof(*h2) + 63) & ~(size_t)63);
    CHECK(mine && theirs && h2);
    if (!mine || !theirs || !h2)
        return;
    rv_hart_reset(h2, 1, &bus, RAM_BASE);
    h2->satp = h->satp;
    h2->priv = RV_PRIV_U;
    rv_hart_update_mmu_idx(h2);
    rv_uwin_attach(h2, theirs);
    struct rv_uwin *big = w;
    w = mine;
    rv_uwin_attach(h, mine);

    /* the other hart holds one, this one the other */
    CHECK(rv_uwin_fault(h2, (uintptr_t)theirs->base + RO_VA, false));
    CHECK(rv_uwin_fault(h, (uintptr_t)mine->base + RO_VA, false));
    CHECK_EQ(atomic_load(&b.held), 2);
    CHECK(probe(RO_VA, false));
    /* used up: this window empties itself, and the other keeps its page until its hart next
     * changes regime */
    CHECK(rv_uwin_fault(h, (uintptr_t)mine->base + RW_VA, false));
    CHECK(!probe(RO_VA, false));
    CHECK(probe(RW_VA, false));
    CHECK_EQ(mine->flushes, 1);
    CHECK_EQ(atomic_load(&b.held), 2);
    CHECK_EQ(theirs->n, 1);
    rv_hart_update_mmu_idx(h2); /* a trap or return on the other hart */
    CHECK_EQ(theirs->n, 0);
    CHECK_EQ(theirs->reclaims, 1);
    CHECK_EQ(atomic_load(&b.held), 1);
    rv_hart_update_mmu_idx(h2); /* asked once: nothing more to give back */
    CHECK_EQ(theirs->reclaims, 1);

    /* the other holds everything: after emptying itself this window still has no room, so the
     * access takes the slow path instead of exceeding the budget */
    rv_tlb_flush_all(h);
    CHECK_EQ(atomic_load(&b.held), 0);
    CHECK(rv_uwin_fault(h2, (uintptr_t)theirs->base + RO_VA, false));
    CHECK(rv_uwin_fault(h2, (uintptr_t)theirs->base + RW_VA, false));
    CHECK_EQ(theirs->n, 2);
    CHECK_EQ(mine->n, 0);
    CHECK(!rv_uwin_fault(h, (uintptr_t)mine->base + CLEAN_VA, false));
    CHECK(!probe(CLEAN_VA, false));
    CHECK_EQ(atomic_load(&b.held), 2);
    /* starved: limit 0, so translated code takes the slow path without faulting each time,
     * until a regime change finds room */
    CHECK(mine->starved);
    CHECK_EQ(h->uwin_limit, 0);
    rv_hart_update_mmu_idx(h);
    CHECK_EQ(h->uwin_limit, 0);
    rv_uwin_reclaim(h2); /* the other hart, idle in WFI, gives its mappings back */
    CHECK_EQ(atomic_load(&b.held), 0);
    CHECK_EQ(theirs->reclaims, 2);
    rv_hart_update_mmu_idx(h);
    CHECK(!mine->starved);
    CHECK_EQ(h->uwin_limit, RV_UWIN_SIZE);
    CHECK(rv_uwin_fault(h, (uintptr_t)mine->base + CLEAN_VA, false));
    CHECK(probe(CLEAN_VA, false));
    /* the window that asked (empty when it did) does not answer its own request later */
    rv_hart_update_mmu_idx(h);
    CHECK_EQ(mine->n, 1);
    CHECK_EQ(mine->reclaims, 0);
    CHECK(probe(CLEAN_VA, false));

    /* a destroyed window gives its mappings back */
    rv_uwin_attach(h, big);
    w = big;
    CHECK_EQ(atomic_load(&b.held), 1);
    rv_uwin_destroy(mine);
    CHECK_EQ(atomic_load(&b.held), 0);
    rv_uwin_attach(h2, NULL);
    rv_uwin_destroy(theirs);
    free(h2);
}

/* A window the host refuses to unmap (here: a misaligned base, EINVAL) is turned off: the
 * hart's limit becomes 0, so translated code never reaches it, and nothing is mapped again. */
static void test_unmap_refused(void)
{
    struct rv_uwin *bad = rv_uwin_create(w->ram_fd, RAM_SIZE, &budget);
    CHECK(bad != NULL);
    if (!bad)
        return;
    struct rv_uwin *good = w;
    w = bad;
    rv_uwin_attach(h, bad);
    rv_uwin_enter(h);
    CHECK(rv_uwin_fault(h, (uintptr_t)bad->base + RO_VA, false));
    CHECK(probe(RO_VA, false));
    uint8_t *base = bad->base;
    bad->base = base + 1;
    rv_tlb_flush(h, true, RO_VA, false, 0);
    CHECK(bad->dead);
    CHECK_EQ(h->uwin_limit, 0);
    /* it still maps RO_VA: neither the hart nor this thread's GS base may point at it */
    CHECK(h->uwin != base);
    CHECK(rv_uwin_contains(h, (uintptr_t)h->uwin));
    CHECK_EQ(gs_base(), (uintptr_t)h->uwin);
    CHECK(!rv_uwin_fault(h, (uintptr_t)bad->base + RW_VA, true));
    rv_uwin_attach(h, bad); /* still off */
    CHECK_EQ(h->uwin_limit, 0);
    bad->base = base;
    w = good;
    rv_uwin_attach(h, good);
    CHECK_EQ(h->uwin_limit, RV_UWIN_SIZE);
    CHECK_EQ(gs_base(), (uintptr_t)good->base);
    rv_uwin_destroy(bad);
}

int main(void)
{
    int fd = memfd_create("test-uwin", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, RAM_SIZE) != 0) {
        fprintf(stderr, "memfd\n");
        return 1;
    }
    bus.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    bus.ram_base = RAM_BASE;
    bus.ram_size = RAM_SIZE;
    bus.page_is_io = page_is_io;
    bus.code_pages = code_pages;
    bus.dirty = dirty;
    h = aligned_alloc(64, (sizeof(*h) + 63) & ~(size_t)63);
    rv_uwin_budget_init(&budget, RV_UWIN_MAPS_TOTAL);
    w = rv_uwin_create(fd, RAM_SIZE, &budget);
    if (bus.ram == MAP_FAILED || !h || !w) {
        fprintf(stderr, "set-up failed\n");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);

    rv_hart_reset(h, 0, &bus, RAM_BASE);
    rv_uwin_attach(h, w);
    *slot(RO_VA, 0) = pte(DATA, RV_PTE_R | RV_PTE_U | RV_PTE_A);
    *slot(RW_VA, 0) = pte(DATA + 4096, RV_PTE_R | RV_PTE_W | RV_PTE_U | RV_PTE_A | RV_PTE_D);
    *slot(CLEAN_VA, 0) = pte(DATA + 2 * 4096, RV_PTE_R | RV_PTE_W | RV_PTE_U | RV_PTE_A);
    *slot(SUPERVISOR_VA, 0) = pte(DATA + 4 * 4096, RV_PTE_R | RV_PTE_W | RV_PTE_A | RV_PTE_D);
    *slot(IO_VA, 0) = pte(DATA + 5 * 4096, RV_PTE_R | RV_PTE_U | RV_PTE_A);
    *slot(SUPER_VA, 1) = pte(SUPER_PA, RV_PTE_R | RV_PTE_W | RV_PTE_U | RV_PTE_A | RV_PTE_D);
    h->satp = ((uint64_t)SATP_MODE_SV39 << SATP_MODE_SHIFT) | (1ull << SATP_ASID_SHIFT) |
              (ROOT >> 12);
    set_priv(RV_PRIV_U);

    test_permissions();
    test_flushes();
    test_code_pages();
    test_superpage();
    test_regimes();
    test_budget();
    test_unmap_refused();
    rv_uwin_destroy(w);
    TEST_MAIN_END();
}
