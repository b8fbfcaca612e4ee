/* The hart's view of the guest-physical address space.
 *
 * RAM is one host mapping; guest-physical -> host pointer is an add. Everything else (devices,
 * and RAM pages that hold a device register such as HTIF's tohost) goes through the callbacks,
 * which the machine layer implements. The hart never caches a page as a host pointer when
 * page_is_io() says the page is special. */
#ifndef RV_CPU_BUS_H
#define RV_CPU_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct rv_hart;

struct rv_bus {
    uint8_t *ram;      /* host mapping of guest RAM */
    uint64_t ram_base; /* guest-physical address of ram[0] */
    uint64_t ram_size; /* bytes; a multiple of 4 KiB */
    void *opaque;      /* passed to the callbacks */
    /* Non-direct accesses (size 1, 2, 4 or 8, naturally aligned). Return 0, or -1 for an
     * access fault. May be NULL: then every non-RAM access faults. */
    int (*io_read)(void *opaque, uint64_t paddr, unsigned size, uint64_t *value);
    int (*io_write)(void *opaque, uint64_t paddr, unsigned size, uint64_t value);
    /* True if the 4 KiB RAM page at `paddr` must not be accessed directly (it holds device
     * registers). May be NULL: no such pages. */
    bool (*page_is_io)(void *opaque, uint64_t paddr);

    /* Translated code (src/jit). `code_pages` has one byte per 4 KiB RAM page, nonzero while
     * some hart's translator may hold translations of the page (bit i: the translator of the
     * i-th hart of the VM). The MMU never caches such a page as directly writable (TLB tag bit
     * RV_TLB_CODE), so a hart's store to it takes the slow path, which calls code_written()
     * once the bytes are written. NULL without a translator. */
    uint8_t *code_pages; /* accessed with __atomic builtins */
    void (*code_written)(void *code_opaque, struct rv_hart *h, uint64_t paddr);
    void *code_opaque;
    uint64_t code_gen;   /* bumped (__atomic) when pages with translations may have been written
                            other than by a tracked store: rv_bus_note_write() */

    /* Dirty-page tracking for live migration (src/machine/vm_migrate.c): one bit per 4 KiB RAM
     * page, or NULL when off. Harts mark a page when they fill a TLB WRITE entry for it
     * (mmu.c), so stores through cached entries cost nothing; whoever collects the bits flushes
     * every hart's TLB while the harts are parked. Devices and the monitor mark what they
     * write through rv_bus_note_write()/rv_bus_mark_dirty(). */
    uint64_t *dirty;     /* accessed with __atomic builtins */
};

/* Marks guest RAM [paddr, paddr + len) written, for dirty-page tracking (the caller checked
 * it is RAM). One pointer test when tracking is off. */
static inline void rv_bus_mark_dirty(const struct rv_bus *bus, uint64_t paddr, uint64_t len)
{
    uint64_t *bits = __atomic_load_n(&bus->dirty, __ATOMIC_ACQUIRE);
    if (!bits || !len)
        return;
    uint64_t first = (paddr - bus->ram_base) >> 12, last = (paddr + len - 1 - bus->ram_base) >> 12;
    for (uint64_t pg = first; pg <= last; pg++)
        __atomic_fetch_or(&bits[pg / 64], 1ull << (pg % 64), __ATOMIC_RELAXED);
}

/* Something other than a hart's store (a device's DMA, the monitor) is about to write guest
 * RAM [paddr, paddr + len), which the caller checked is RAM. Translated code of those pages is
 * then compared with memory at each hart's next FENCE.I, which the ISA requires before
 * modified code runs. Cheap when no translator runs or the pages hold no code. */
static inline void rv_bus_note_write(struct rv_bus *bus, uint64_t paddr, uint64_t len)
{
    rv_bus_mark_dirty(bus, paddr, len);
    if (!bus->code_pages || !len)
        return;
    uint64_t first = (paddr - bus->ram_base) >> 12, last = (paddr + len - 1 - bus->ram_base) >> 12;
    for (uint64_t pg = first; pg <= last; pg++) {
        if (__atomic_load_n(&bus->code_pages[pg], __ATOMIC_RELAXED)) {
            __atomic_fetch_add(&bus->code_gen, 1, __ATOMIC_SEQ_CST);
            return;
        }
    }
}

/* True if the RAM page at `paddr` may hold translated code (the caller checked RAM). */
static inline bool rv_bus_page_has_code(const struct rv_bus *bus, uint64_t paddr)
{
    return bus->code_pages &&
           __atomic_load_n(&bus->code_pages[(paddr - bus->ram_base) >> 12], __ATOMIC_RELAXED);
}

/* True if [paddr, paddr+len) lies inside guest RAM. */
static inline bool rv_bus_in_ram(const struct rv_bus *bus, uint64_t paddr, uint64_t len)
{
    return paddr >= bus->ram_base && len <= bus->ram_size &&
           paddr - bus->ram_base <= bus->ram_size - len;
}

/* Host pointer for a RAM range; the caller has checked rv_bus_in_ram(). */
static inline uint8_t *rv_bus_ram_ptr(const struct rv_bus *bus, uint64_t paddr)
{
    return bus->ram + (paddr - bus->ram_base);
}

#endif
