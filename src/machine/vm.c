/* One virtual machine: guest RAM, the physical address map, harts and the run loop. */
#include "rvisor/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core/error.h"
#include "core/log.h"
#include "cpu/hart.h"
#include "dev/htif.h"
#include "dev/device.h"
#include "machine/loader.h"

#define RAM_BASE 0x80000000ull
#define DEFAULT_RAM (128ull << 20)
#define MAX_RAM (64ull << 30)
#define TIMEBASE_HZ 10000000ull /* mtime frequency (device-tree timebase-frequency) */
#define MAX_IMAGE (1ull << 30)

struct rv_vm {
    struct rv_bus bus;
    struct rv_iomap iomap;
    struct rv_hart *hart;
    struct timespec t0;  /* mtime = 0 */
    bool halted;
    int exit_status;
};

static uint64_t vm_time(void *opaque)
{
    struct rv_vm *vm = opaque;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t ns = (uint64_t)(now.tv_sec - vm->t0.tv_sec) * 1000000000ull +
                  (uint64_t)now.tv_nsec - (uint64_t)vm->t0.tv_nsec;
    return ns / (1000000000ull / TIMEBASE_HZ);
}

static int vm_io_read(void *opaque, uint64_t paddr, unsigned size, uint64_t *value)
{
    struct rv_vm *vm = opaque;
    struct rv_region *r = rv_iomap_find(&vm->iomap, paddr, size);
    if (r) {
        *value = r->ops->read ? r->ops->read(r->dev, paddr - r->base, size) : 0;
        return 0;
    }
    /* RAM that shares a page with device registers. */
    if (rv_bus_in_ram(&vm->bus, paddr, size)) {
        uint64_t v = 0;
        memcpy(&v, rv_bus_ram_ptr(&vm->bus, paddr), size);
        *value = v;
        return 0;
    }
    return -1;
}

static int vm_io_write(void *opaque, uint64_t paddr, unsigned size, uint64_t value)
{
    struct rv_vm *vm = opaque;
    struct rv_region *r = rv_iomap_find(&vm->iomap, paddr, size);
    if (r) {
        if (r->ops->write)
            r->ops->write(r->dev, paddr - r->base, value, size);
        return 0;
    }
    if (rv_bus_in_ram(&vm->bus, paddr, size)) {
        memcpy(rv_bus_ram_ptr(&vm->bus, paddr), &value, size);
        return 0;
    }
    return -1;
}

static bool vm_page_is_io(void *opaque, uint64_t paddr)
{
    struct rv_vm *vm = opaque;
    return rv_iomap_overlaps(&vm->iomap, paddr & ~0xfffull, 4096);
}

static void vm_htif_exit(void *opaque, int status)
{
    struct rv_vm *vm = opaque;
    vm->halted = true;
    vm->exit_status = status;
    rv_hart_request_stop(vm->hart);
}

static int vm_load_bios(struct rv_vm *vm, const struct rv_vm_config *cfg, uint64_t *entry)
{
    uint8_t *data;
    size_t len;
    int rc = rv_read_file(cfg->bios, MAX_IMAGE, &data, &len);
    if (rc)
        return rc;
    if (len >= 4 && memcmp(data, "\177ELF", 4) == 0) {
        struct rv_elf_info info;
        rc = rv_load_elf(&vm->bus, data, len, &info);
        if (rc == 0) {
            *entry = info.entry;
            if (info.tohost) {
                struct rv_htif_host host = {
                    .bus = &vm->bus, .exit = vm_htif_exit, .opaque = vm,
                    .console_fd = cfg->console_fd,
                };
                struct rv_htif *htif;
                rc = rv_htif_create(&vm->iomap, &host, info.tohost, info.fromhost, &htif);
            }
        }
    } else {
        rc = rv_load_raw(&vm->bus, data, len, RAM_BASE);
        *entry = RAM_BASE;
    }
    free(data);
    if (rc)
        return rv_error_set(rc, "%s: %s", cfg->bios, rv_error_get());
    return 0;
}

int rv_vm_create(const struct rv_vm_config *cfg, struct rv_vm **out)
{
    uint64_t ram_size = cfg->ram_size ? cfg->ram_size : DEFAULT_RAM;
    if (ram_size < (1 << 20) || ram_size > MAX_RAM || (ram_size & 0xfff))
        return rv_error_set(-EINVAL, "RAM size must be 1 MiB..64 GiB in whole pages");
    if (!cfg->bios)
        return rv_error_set(-EINVAL, "nothing to run: give a --bios program");
    struct rv_vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return rv_error_set(-ENOMEM, "out of memory");
    vm->hart = aligned_alloc(64, (sizeof(struct rv_hart) + 63) & ~(size_t)63);
    void *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!vm->hart || ram == MAP_FAILED) {
        free(vm->hart);
        if (ram != MAP_FAILED)
            munmap(ram, ram_size);
        free(vm);
        return rv_error_set(-ENOMEM, "cannot allocate %llu bytes of guest RAM",
                            (unsigned long long)ram_size);
    }
    vm->bus = (struct rv_bus){
        .ram = ram, .ram_base = RAM_BASE, .ram_size = ram_size, .opaque = vm,
        .io_read = vm_io_read, .io_write = vm_io_write, .page_is_io = vm_page_is_io,
    };
    uint64_t entry = RAM_BASE;
    int rc = vm_load_bios(vm, cfg, &entry);
    if (rc) {
        rv_vm_destroy(vm);
        return rc;
    }
    rv_hart_reset(vm->hart, 0, &vm->bus, entry);
    vm->hart->time_read = vm_time;
    vm->hart->time_opaque = vm;
    clock_gettime(CLOCK_MONOTONIC, &vm->t0);
    *out = vm;
    return 0;
}

/* Sleeps until the next timer deadline of a hart stopped in WFI. */
static int vm_wait_for_interrupt(struct rv_vm *vm)
{
    struct rv_hart *h = vm->hart;
    uint64_t deadline = h->mtimecmp;
    if (h->menvcfg & (1ull << 63) && h->stimecmp < deadline)
        deadline = h->stimecmp;
    if (deadline == UINT64_MAX)
        return rv_error_set(-EDEADLK, "hart 0 waits for an interrupt (WFI at 0x%llx) that "
                                      "nothing can raise",
                            (unsigned long long)(h->pc - 4));
    uint64_t now = vm_time(vm);
    if (deadline > now) {
        uint64_t ns = (deadline - now) * (1000000000ull / TIMEBASE_HZ);
        if (ns > 100000000ull)
            ns = 100000000ull; /* re-check at least every 100 ms */
        struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
        nanosleep(&ts, NULL);
    }
    return 0;
}

int rv_vm_run(struct rv_vm *vm, int *exit_status)
{
    struct rv_hart *h = vm->hart;
    while (!vm->halted) {
        enum rv_exit e = rv_hart_run(h, 1u << 24);
        switch (e) {
        case RV_EXIT_BUDGET:
        case RV_EXIT_STOP:
            break;
        case RV_EXIT_WFI: {
            int rc = vm_wait_for_interrupt(vm);
            if (rc)
                return rc;
            break;
        }
        case RV_EXIT_ECALL:
            return rv_error_set(-ENOSYS, "SBI call %llu from the guest: no firmware in this "
                                         "configuration", (unsigned long long)h->x[17]);
        case RV_EXIT_MTRAP:
            return rv_error_set(-EFAULT, "unhandled M-mode trap: cause 0x%llx tval 0x%llx "
                                         "at pc 0x%llx",
                                (unsigned long long)h->exit_cause,
                                (unsigned long long)h->exit_tval,
                                (unsigned long long)h->exit_epc);
        }
    }
    *exit_status = vm->exit_status;
    return 0;
}

void rv_vm_destroy(struct rv_vm *vm)
{
    if (!vm)
        return;
    for (unsigned i = 0; i < vm->iomap.count; i++) {
        struct rv_region *r = &vm->iomap.regions[i];
        if (r->ops->destroy)
            r->ops->destroy(r->dev);
    }
    munmap(vm->bus.ram, vm->bus.ram_size);
    free(vm->hart);
    free(vm);
}
