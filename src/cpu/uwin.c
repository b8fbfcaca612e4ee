/* Host-MMU windows for user-mode data accesses (uwin.h). */
#include "cpu/uwin.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "core/error.h"
#include "core/log.h"
#include "cpu/bus.h"
#include "cpu/mmu.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define SUPER_SHIFT 21
#define SUPER_SIZE (1ull << SUPER_SHIFT)
/* The window and a guard page after it, for accesses that start below RV_UWIN_SIZE and end
 * above it; and a guard page before it. Translated code compares the base register of an
 * access with the limit and adds the instruction's offset (-2048..2047) in the access itself,
 * so it may reach up to 2 KiB beyond either end (uwin.h). */
#define GUARD PAGE_SIZE
#define RESERVE (RV_UWIN_SIZE + PAGE_SIZE)
#define SUPER_WORDS ((RV_UWIN_SIZE >> SUPER_SHIFT) / 64)

/* The window of harts whose data regime is not U-mode: reserved, never mapped. */
static uint8_t *none_window;
static pthread_once_t none_once = PTHREAD_ONCE_INIT;

static uint8_t *reserve(void)
{
    void *p = mmap(NULL, GUARD + RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : (uint8_t *)p + GUARD;
}

/* Whether wrgsbase works in user space (Linux 5.9 and later say so in AT_HWCAP2 on CPUs that
 * have it). Without it there are no windows: translated code reaches them through GS. */
#define HWCAP2_FSGSBASE (1u << 1)
static bool have_wrgsbase;
/* What this thread's GS base is (0: never set). */
static __thread uintptr_t gs_now;

static void none_init(void)
{
    none_window = reserve();
#ifdef __x86_64__
    have_wrgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
#endif
}

static void set_gs(uintptr_t base)
{
#ifdef __x86_64__
    __asm__ volatile("wrgsbase %0" : : "r"(base) : "memory");
#endif
    gs_now = base;
}

void rv_uwin_enter(const struct rv_hart *h)
{
    if (h->uwin && (uintptr_t)h->uwin != gs_now)
        set_gs((uintptr_t)h->uwin);
}

/* [addr, addr + len) unmapped again (still reserved): a fixed PROT_NONE mapping replaces
 * whatever was there in one call. */
static bool reserve_at(uint8_t *addr, uint64_t len)
{
    return mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                -1, 0) != MAP_FAILED;
}

void rv_uwin_budget_init(struct rv_uwin_budget *b, unsigned cap)
{
    atomic_init(&b->held, 0);
    atomic_init(&b->gen, 0);
    b->cap = cap;
}

struct rv_uwin *rv_uwin_create(int ram_fd, uint64_t ram_size, struct rv_uwin_budget *b)
{
    pthread_once(&none_once, none_init);
    if (!have_wrgsbase) {
        rv_error_set(-ENOTSUP, "the host does not let programs set their GS base (FSGSBASE)");
        return NULL;
    }
    if (!none_window) {
        rv_error_set(-ENOMEM, "cannot reserve host address space for a host-MMU window");
        return NULL;
    }
    struct rv_uwin *w = calloc(1, sizeof(*w));
    if (!w) {
        rv_error_set(-ENOMEM, "out of memory");
        return NULL;
    }
    w->ram_fd = ram_fd;
    w->ram_pages = ram_size >> PAGE_SHIFT;
    w->budget = b;
    w->gen = atomic_load(&b->gen);
    w->rec = calloc(b->cap, sizeof(*w->rec));
    w->written = calloc((w->ram_pages + 63) / 64, sizeof(uint64_t));
    w->super = calloc(SUPER_WORDS, sizeof(uint64_t));
    w->base = reserve();
    if (!w->base || !w->rec || !w->written || !w->super) {
        rv_uwin_destroy(w);
        rv_error_set(-ENOMEM, "cannot reserve host address space for a host-MMU window");
        return NULL;
    }
    return w;
}

void rv_uwin_destroy(struct rv_uwin *w)
{
    if (!w)
        return;
    if (w->base)
        munmap(w->base - GUARD, GUARD + RESERVE);
    atomic_fetch_sub(&w->budget->held, w->n);
    free(w->rec);
    free(w->written);
    free(w->super);
    free(w);
}

static uint64_t page_index(const struct rv_hart *h, uint64_t pa)
{
    return (pa - h->bus->ram_base) >> PAGE_SHIFT;
}

/* Sets or clears the `written` bits of the pages of record r. */
static void mark_written(struct rv_uwin *w, const struct rv_uwin_rec *r, bool on)
{
    for (uint64_t i = r->first; i < r->first + r->pages; i++) {
        if (on)
            w->written[i / 64] |= 1ull << (i % 64);
        else
            w->written[i / 64] &= ~(1ull << (i % 64));
    }
}

/* The bookkeeping of an emptied window. */
static void forget(struct rv_uwin *w)
{
    for (unsigned i = 0; i < w->nrec; i++)
        mark_written(w, &w->rec[i], false);
    atomic_fetch_sub_explicit(&w->budget->held, w->n, memory_order_relaxed);
    w->gen = atomic_load_explicit(&w->budget->gen, memory_order_relaxed);
    w->n = 0;
    w->nrec = 0;
    memset(w->super, 0, SUPER_WORDS * sizeof(uint64_t));
    w->flushes++;
}

/* h's limit follows its window w: all of it, or 0 (every access takes the slow path) without a
 * window, or with one turned off or starved. */
static void set_limit(struct rv_hart *h, const struct rv_uwin *w)
{
    h->uwin_limit = w && !w->dead && !w->starved ? RV_UWIN_SIZE : 0;
}

/* h->uwin: its window in the U-mode data regime, else the window that is never mapped. A dead
 * window may still hold stale mappings, and translated code does not check the limit before
 * every access (only before the first one through a base register, translate_mem.c): so a dead
 * window is never pointed at either. */
static void point(struct rv_hart *h)
{
    const struct rv_uwin *w = h->uwin_state;
    uint8_t *old = h->uwin;
    h->uwin = w && !w->dead && h->data_mmu_idx == RV_MMU_U ? w->base : none_window;
    if (old != h->uwin && gs_now && gs_now == (uintptr_t)old)
        set_gs((uintptr_t)h->uwin); /* this thread runs h's code (rv_uwin_enter) */
}

/* Unmaps [addr, addr + len) of h's window w. A stale translation must never stay usable: if
 * the host refuses (a fixed mapping that splits one can fail with ENOMEM at vm.max_map_count),
 * the whole window is unmapped instead, and if that fails too, the window is turned off for
 * good (limit 0: every access takes the slow path, and nothing is mapped again). */
static void unmap(struct rv_hart *h, struct rv_uwin *w, uint8_t *addr, uint64_t len)
{
    if (reserve_at(addr, len))
        return;
    rv_warn("host-MMU window: cannot unmap: %s", strerror(errno));
    if (reserve_at(w->base, RV_UWIN_SIZE)) {
        forget(w);
        return;
    }
    rv_warn("host-MMU window: turned off");
    w->dead = true;
    set_limit(h, w);
    point(h);
}

static void empty(struct rv_hart *h, struct rv_uwin *w)
{
    if (!w || !w->n || w->dead)
        return;
    unmap(h, w, w->base, RV_UWIN_SIZE);
    if (w->n) /* not already forgotten by unmap's fallback */
        forget(w);
}

void rv_uwin_attach(struct rv_hart *h, struct rv_uwin *w)
{
    empty(h, w);
    h->uwin_state = w;
    set_limit(h, w);
    rv_uwin_select(h);
}

/* Empties w if the budget ran out since it was last emptied. */
static void reclaim(struct rv_hart *h, struct rv_uwin *w)
{
    if (w->n && w->gen != atomic_load_explicit(&w->budget->gen, memory_order_relaxed)) {
        w->reclaims++;
        empty(h, w);
    }
}

void rv_uwin_reclaim(struct rv_hart *h)
{
    if (h->uwin_state)
        reclaim(h, h->uwin_state);
}

/* A starved window gets its limit back once an eighth of the budget is free (not at the first
 * free mapping: it would starve again at once). */
static void feed(struct rv_hart *h, struct rv_uwin *w)
{
    const struct rv_uwin_budget *b = w->budget;
    if (w->starved && atomic_load_explicit(&b->held, memory_order_relaxed) < b->cap - b->cap / 8) {
        w->starved = false;
        set_limit(h, w);
    }
}

void rv_uwin_select(struct rv_hart *h)
{
    if (h->uwin_state) {
        reclaim(h, h->uwin_state);
        feed(h, h->uwin_state);
    }
    point(h);
}

void rv_uwin_flush(struct rv_hart *h)
{
    empty(h, h->uwin_state);
}

void rv_uwin_flush_va(struct rv_hart *h, uint64_t va)
{
    struct rv_uwin *w = h->uwin_state;
    if (!w || !w->n || w->dead || va >= RV_UWIN_SIZE)
        return;
    /* Linux's user pages are 4 KiB or 2 MiB (transparent huge pages): a fence inside a 2 MiB
     * page must drop all of it. Records are left as they are: they only bound the number of
     * mappings and find write mappings to revoke, and revoking an unmapped range is harmless. */
    const uint64_t slot = va >> SUPER_SHIFT;
    if (w->super[slot / 64] & (1ull << (slot % 64))) {
        w->super[slot / 64] &= ~(1ull << (slot % 64));
        unmap(h, w, w->base + (va & ~(SUPER_SIZE - 1)), SUPER_SIZE);
    } else {
        unmap(h, w, w->base + (va & ~(PAGE_SIZE - 1)), PAGE_SIZE);
    }
}

void rv_uwin_revoke_write(struct rv_hart *h, uint64_t ppage)
{
    struct rv_uwin *w = h->uwin_state;
    if (!w || w->dead || !rv_bus_in_ram(h->bus, ppage, PAGE_SIZE))
        return;
    const uint64_t page = page_index(h, ppage);
    if (!(w->written[page / 64] & (1ull << (page % 64))))
        return;
    /* Unmap every write mapping of the page; the bits of the other pages they covered are
     * recomputed from the records left. */
    unsigned k = 0;
    for (unsigned i = 0; i < w->nrec; i++) {
        struct rv_uwin_rec *r = &w->rec[i];
        mark_written(w, r, false);
        if (page >= r->first && page - r->first < r->pages)
            unmap(h, w, w->base + r->va, (uint64_t)r->pages << PAGE_SHIFT);
        else
            w->rec[k++] = *r;
    }
    w->nrec = k;
    for (unsigned i = 0; i < w->nrec; i++)
        mark_written(w, &w->rec[i], true);
}

bool rv_uwin_contains(const struct rv_hart *h, uintptr_t addr)
{
    const struct rv_uwin *w = h->uwin_state;
    if (none_window && addr - ((uintptr_t)none_window - GUARD) < GUARD + RESERVE)
        return true;
    return w && addr - ((uintptr_t)w->base - GUARD) < GUARD + RESERVE;
}

/* Whether [pa, pa + len) may be mapped: all of it ordinary RAM, and for writing without
 * translated code (whose stores must reach the slow path, bus.h). */
static bool mappable(const struct rv_bus *bus, uint64_t pa, uint64_t len, bool write)
{
    if (!rv_bus_in_ram(bus, pa, len))
        return false;
    for (uint64_t p = pa; p < pa + len; p += PAGE_SIZE)
        if ((bus->page_is_io && bus->page_is_io(bus->opaque, p)) ||
            (write && rv_bus_page_has_code(bus, p)))
            return false;
    return true;
}

/* Maps guest-virtual [va, va + len) to guest-physical pa. */
static bool map(struct rv_hart *h, struct rv_uwin *w, uint64_t va, uint64_t pa, uint64_t len,
                bool write)
{
    const struct rv_bus *bus = h->bus;
    struct rv_uwin_budget *b = w->budget;
    reclaim(h, w);
    if (atomic_load_explicit(&b->held, memory_order_relaxed) >= b->cap) {
        /* this window answers its own request, also when it is already empty (and empty()
         * does not record the generation) */
        w->gen = atomic_fetch_add_explicit(&b->gen, 1, memory_order_relaxed) + 1;
        empty(h, w);
        /* the others hold it all (until they next change regime): the slow path meanwhile,
         * without a host fault per access */
        if (atomic_load_explicit(&b->held, memory_order_relaxed) >= b->cap) {
            w->starved = true;
            set_limit(h, w);
            return false;
        }
    }
    int prot = PROT_READ | (write ? PROT_WRITE : 0);
    if (mmap(w->base + va, len, prot, MAP_SHARED | MAP_FIXED, w->ram_fd,
             (off_t)(pa - bus->ram_base)) == MAP_FAILED)
        return false; /* the slow path does the access; the window stays as it was */
    w->n++;
    atomic_fetch_add_explicit(&b->held, 1, memory_order_relaxed);
    w->maps++;
    if (write) {
        rv_bus_mark_dirty(bus, pa, len); /* stores through the mapping are not seen */
        struct rv_uwin_rec *r = &w->rec[w->nrec++];
        *r = (struct rv_uwin_rec){.va = va, .first = page_index(h, pa),
                                  .pages = (uint32_t)(len >> PAGE_SHIFT)};
        mark_written(w, r, true);
    }
    return true;
}

bool rv_uwin_fault(struct rv_hart *h, uintptr_t addr, bool write)
{
    struct rv_uwin *w = h->uwin_state;
    if (!w || w->dead || h->uwin != w->base || addr - (uintptr_t)w->base >= RV_UWIN_SIZE)
        return false; /* turned off, another regime's code, or the guard page */
    const uint64_t va = addr - (uintptr_t)w->base;
    const enum rv_access acc = write ? RV_ACCESS_WRITE : RV_ACCESS_READ;
    uint64_t pa;
    unsigned shift;
    if (rv_mmu_translate(h, va, acc, RV_MMU_U, &pa, NULL, &shift) != RV_EXC_NONE) {
        w->refused++;
        return false; /* the slow path raises the page fault */
    }
    const struct rv_bus *bus = h->bus;
    /* A 2 MiB page at once where all of it is ordinary RAM (and, for writing, holds no
     * translated code): xz's and gzip's buffers are transparent huge pages. */
    uint64_t size = shift == SUPER_SHIFT ? SUPER_SIZE : PAGE_SIZE;
    uint64_t vbase = va & ~(size - 1), pbase = pa & ~(size - 1);
    if (size == SUPER_SIZE && !mappable(bus, pbase, size, write)) {
        size = PAGE_SIZE;
        vbase = va & ~(PAGE_SIZE - 1);
        pbase = pa & ~(PAGE_SIZE - 1);
    }
    if (!mappable(bus, pbase, size, write)) {
        w->refused++;
        return false;
    }
    if (!map(h, w, vbase, pbase, size, write))
        return false;
    if (size == SUPER_SIZE)
        w->super[(vbase >> SUPER_SHIFT) / 64] |= 1ull << ((vbase >> SUPER_SHIFT) % 64);
    return true;
}
