/* The small machine fuzz_hart and fuzz_jit run arbitrary code on.
 *
 * 256 KiB of RAM at 0x80000000 (between guard pages) whose last page is an I/O page (as HTIF's
 * tohost page is), and one device page at 0x10000000: a 4 KiB scratch register file of which two
 * registers reach the hart, so the guest can raise every interrupt: 8 bytes at +0xff0 set
 * mtimecmp (as the ACLINT does; time follows instret), and a write to +0xff8 sets the device
 * interrupt lines (MEIP, SEIP, MTIP, MSIP) to the bits written. The I/O callbacks check the bus
 * contract (sizes 1/2/4/8, naturally aligned, never plain RAM). */
#ifndef RV_FUZZ_MACHINE_H
#define RV_FUZZ_MACHINE_H

#include <string.h>

#include "cpu/csr.h"
#include "cpu/hart.h"
#include "fuzz_ram.h"

#define FM_RAM_BASE 0x80000000ull
#define FM_RAM_SIZE (256u << 10)
#define FM_IO_PAGE (FM_RAM_BASE + FM_RAM_SIZE - 4096) /* RAM page that page_is_io() reports */
#define FM_DEV_BASE 0x10000000ull
#define FM_DEV_MTIMECMP 0xff0
#define FM_DEV_IRQ_LINES 0xff8
#define FM_IRQ_LINES (MIP_MEIP | MIP_SEIP | MIP_MTIP | MIP_MSIP)

struct fuzz_machine {
    uint8_t *ram;
    uint8_t dev[4096];
    struct rv_hart *hart;
    struct rv_bus bus;
};

static uint8_t *fm_io_target(struct fuzz_machine *m, uint64_t paddr, unsigned size)
{
#ifndef FUZZ_LAX_BUS /* -DFUZZ_LAX_BUS (RV_FUZZ_EXTRA_FLAGS) looks past a known finding */
    FUZZ_CHECK(size == 1 || size == 2 || size == 4 || size == 8);
    FUZZ_CHECK((paddr & (size - 1)) == 0);
#else
    FUZZ_CHECK(size >= 1 && size <= 8);
#endif
    /* Plain RAM never reaches the I/O callbacks; the I/O page does. */
    FUZZ_CHECK(!(paddr >= FM_RAM_BASE && paddr < FM_IO_PAGE));
    if (paddr >= FM_IO_PAGE && paddr + size <= FM_RAM_BASE + FM_RAM_SIZE)
        return m->ram + (paddr - FM_RAM_BASE);
    if (paddr >= FM_DEV_BASE && paddr + size <= FM_DEV_BASE + sizeof(m->dev))
        return m->dev + (paddr - FM_DEV_BASE);
    return NULL;
}

static int fm_io_read(void *opaque, uint64_t paddr, unsigned size, uint64_t *value)
{
    uint8_t *p = fm_io_target(opaque, paddr, size);
    if (!p)
        return -1;
    uint64_t v = 0;
    memcpy(&v, p, size);
    *value = v;
    return 0;
}

static int fm_io_write(void *opaque, uint64_t paddr, unsigned size, uint64_t value)
{
    struct fuzz_machine *m = opaque;
    uint8_t *p = fm_io_target(m, paddr, size);
    if (!p)
        return -1;
    memcpy(p, &value, size);
    if (paddr == FM_DEV_BASE + FM_DEV_MTIMECMP && size == 8) {
        atomic_store(&m->hart->mtimecmp, value);
        rv_hart_set_irq(m->hart, 0, false); /* look at the timer again */
    } else if (paddr == FM_DEV_BASE + FM_DEV_IRQ_LINES) {
        rv_hart_set_irq(m->hart, value & FM_IRQ_LINES, true);
        rv_hart_set_irq(m->hart, ~value & FM_IRQ_LINES, false);
    }
    return 0;
}

static bool fm_page_is_io(void *opaque, uint64_t paddr)
{
    (void)opaque;
    return (paddr & ~0xfffull) == FM_IO_PAGE;
}

static void fm_init(struct fuzz_machine *m)
{
    m->ram = fuzz_ram_map(FM_RAM_SIZE);
    m->bus = (struct rv_bus){.ram = m->ram, .ram_base = FM_RAM_BASE, .ram_size = FM_RAM_SIZE,
                             .opaque = m, .io_read = fm_io_read, .io_write = fm_io_write,
                             .page_is_io = fm_page_is_io};
    m->hart = malloc(sizeof(*m->hart));
    FUZZ_CHECK(m->hart != NULL);
}

/* RAM holds the input and zeros, the device page is cleared, and the hart starts at the input
 * in M-mode with mtvec there too, so that traps re-enter the fuzzed code with new state. */
static void fm_reset(struct fuzz_machine *m, const uint8_t *data, size_t size)
{
    if (size > FM_RAM_SIZE)
        size = FM_RAM_SIZE;
    memcpy(m->ram, data, size);
    memset(m->ram + size, 0, FM_RAM_SIZE - size);
    memset(m->dev, 0, sizeof(m->dev));
    rv_hart_reset(m->hart, 0, &m->bus, FM_RAM_BASE);
    m->hart->monitor_is_m = false;
    m->hart->mtvec = FM_RAM_BASE;
}

#endif
