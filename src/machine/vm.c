/* One virtual machine: guest RAM, the physical address map, one host thread per hart, power
 * control and the run loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "cpu/csr.h"
#include "cpu/mmu.h"
#include "cpu/uwin.h"
#include "machine/loader.h"
#include "machine/vm_internal.h"

#define DEFAULT_RAM (128ull << 20) /* as QEMU virt */
/* Sv39, as many real cores (SiFive U74, T-Head C906/C910): user addresses then fit the
 * host-MMU windows (cpu/uwin.h), which make user-mode loads and stores host loads and stores.
 * --mmu sv48/sv57 give the larger schemes, with the software TLB for user accesses. */
#define DEFAULT_MMU RV_VM_MMU_SV39
#define MAX_RAM (64ull << 30)
#define MAX_IMAGE (1ull << 31)
#define RUN_BUDGET (1u << 20)

uint64_t vm_time(struct rv_vm *vm)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t ns = (uint64_t)(now.tv_sec - vm->t0.tv_sec) * 1000000000ull +
                  (uint64_t)now.tv_nsec - (uint64_t)vm->t0.tv_nsec;
    return ns / (1000000000ull / VIRT_TIMEBASE_HZ) +
           atomic_load_explicit(&vm->mtime_offset, memory_order_relaxed);
}

uint64_t vm_hart_time(void *opaque)
{
    return vm_time(opaque);
}

/* --- guest-physical accesses that are not plain RAM (cpu/bus.h) --- */

static int vm_io_read(void *opaque, uint64_t paddr, unsigned size, uint64_t *value)
{
    struct rv_vm *vm = opaque;
    int rc = 0;
    pthread_mutex_lock(&vm->dev_lock);
    struct rv_region *r = rv_iomap_find(&vm->iomap, paddr, size);
    if (r) {
        *value = r->ops->read ? r->ops->read(r->dev, paddr - r->base, size) : 0;
        vm->mmio_reads[r - vm->iomap.regions]++;
        if (vm->tracer.mask & RV_TRACE_MMIO)
            vm->tracer.mmio(vm->tracer.opaque, r->ops->name, paddr, paddr - r->base, size,
                            *value, false);
    } else if (rv_bus_in_ram(&vm->bus, paddr, size)) {
        /* RAM that shares a page with device registers (HTIF's tohost). */
        uint64_t v = 0;
        memcpy(&v, rv_bus_ram_ptr(&vm->bus, paddr), size);
        *value = v;
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&vm->dev_lock);
    return rc;
}

static int vm_io_write(void *opaque, uint64_t paddr, unsigned size, uint64_t value)
{
    struct rv_vm *vm = opaque;
    int rc = 0;
    pthread_mutex_lock(&vm->dev_lock);
    struct rv_region *r = rv_iomap_find(&vm->iomap, paddr, size);
    if (r) {
        vm->mmio_writes[r - vm->iomap.regions]++;
        if (vm->tracer.mask & RV_TRACE_MMIO)
            vm->tracer.mmio(vm->tracer.opaque, r->ops->name, paddr, paddr - r->base, size,
                            value, true);
        if (r->ops->write)
            r->ops->write(r->dev, paddr - r->base, value, size);
        if (r->dev == (void *)vm->rtc) {
            /* The guest may have armed an alarm: let the I/O thread reschedule its poll. */
            char c = 'r';
            if (write(vm->wake_pipe[1], &c, 1) < 0) {
                /* the pipe is full: the thread is being woken anyway */
            }
        }
    } else if (rv_bus_in_ram(&vm->bus, paddr, size)) {
        rv_bus_note_write(&vm->bus, paddr, size);
        memcpy(rv_bus_ram_ptr(&vm->bus, paddr), &value, size);
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&vm->dev_lock);
    return rc;
}

static bool vm_page_is_io(void *opaque, uint64_t paddr)
{
    struct rv_vm *vm = opaque;
    /* The map only changes while no hart runs, so no lock is needed here. */
    return rv_iomap_overlaps(&vm->iomap, paddr & ~0xfffull, 4096);
}

/* --- power and errors --- */

void vm_power(struct rv_vm *vm, enum vm_power action, int status)
{
    pthread_mutex_lock(&vm->power_lock);
    if (atomic_load(&vm->power) == VM_RUNNING) {
        atomic_store(&vm->power, action);
        vm->exit_status = status;
    }
    pthread_cond_broadcast(&vm->power_cond);
    pthread_mutex_unlock(&vm->power_lock);
    for (unsigned i = 0; i < vm->nharts; i++) {
        rv_hart_request_stop(vm->vcpus[i].hart);
        vm_kick(&vm->vcpus[i]);
    }
}

void vm_fatal(struct rv_vm *vm, const char *fmt, ...)
{
    pthread_mutex_lock(&vm->power_lock);
    if (atomic_load(&vm->power) == VM_RUNNING) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(vm->fatal_msg, sizeof(vm->fatal_msg), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&vm->power_lock);
    vm_power(vm, VM_FATAL, RV_STATUS_ERROR);
}

void rv_vm_request_quit(struct rv_vm *vm)
{
    /* Only async-signal-safe work here: the I/O thread does the rest. */
    char c = 'q';
    if (write(vm->wake_pipe[1], &c, 1) < 0) {
        /* the pipe is full: a quit is already pending */
    }
}

/* --- harts --- */

void vm_kick(struct rv_vcpu *v)
{
    pthread_mutex_lock(&v->lock);
    v->kicked = true;
    pthread_cond_signal(&v->cond);
    pthread_mutex_unlock(&v->lock);
}

static bool vm_running(struct rv_vm *vm)
{
    return atomic_load_explicit(&vm->power, memory_order_acquire) == VM_RUNNING;
}

void vm_hart_enter_s(struct rv_vcpu *v, uint64_t pc, uint64_t opaque)
{
    /* SBI spec 9.2: S-mode at pc with a0 = hartid, a1 = opaque, satp = 0, interrupts off. */
    struct rv_hart *h = v->hart;
    h->pc = pc;
    h->x[10] = v->id;
    h->x[11] = opaque;
    h->priv = RV_PRIV_S;
    h->satp = 0;
    h->mstatus &= ~(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP);
    rv_tlb_flush_all(h);
    rv_hart_update_mmu_idx(h);
}

void vm_wait_for_interrupt(struct rv_vcpu *v)
{
    struct rv_hart *h = v->hart;
    pthread_mutex_lock(&v->lock);
    while (vm_running(v->vm) && !v->kicked && !(rv_hart_mip(h) & h->mie)) {
        /* an idle hart gives its window's mappings back when the budget asks (cpu/uwin.h) */
        rv_uwin_reclaim(h);
        uint64_t deadline = atomic_load(&h->mtimecmp);
        if ((h->menvcfg & ENVCFG_STCE) && h->stimecmp < deadline)
            deadline = h->stimecmp;
        uint64_t now = vm_time(v->vm);
        uint64_t ns = 1000000000ull; /* re-check at least once a second */
        if (deadline != UINT64_MAX)
            ns = deadline > now ? (deadline - now) * (1000000000ull / VIRT_TIMEBASE_HZ) : 0;
        if (ns > 1000000000ull)
            ns = 1000000000ull;
        if (ns == 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)(ns / 1000000000ull);
        ts.tv_nsec += (long)(ns % 1000000000ull);
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        v->asleep = true;
        pthread_cond_timedwait(&v->cond, &v->lock, &ts);
        v->asleep = false;
    }
    v->kicked = false;
    pthread_mutex_unlock(&v->lock);
    rv_hart_do_flush(h);
}

/* A stopped hart (SBI HSM) waits here until hart_start. Returns false if the VM stops. */
static bool vcpu_wait_for_start(struct rv_vcpu *v)
{
    struct rv_hart *h = v->hart;
    rv_uwin_flush(h); /* a stopped hart holds no mappings; it starts with an empty TLB */
    pthread_mutex_lock(&v->lock);
    while (vm_running(v->vm) && v->hsm == HSM_STOPPED && !vm_should_park(v))
        pthread_cond_wait(&v->cond, &v->lock);
    if (v->hsm == HSM_START_PENDING) {
        vm_hart_enter_s(v, v->start_addr, v->start_opaque);
        v->hsm = HSM_STARTED;
    }
    pthread_mutex_unlock(&v->lock);
    rv_hart_do_flush(h);
    return vm_running(v->vm);
}

static void *vcpu_thread(void *arg)
{
    struct rv_vcpu *v = arg;
    struct rv_vm *vm = v->vm;
    struct rv_hart *h = v->hart;
    while (vm_running(vm)) {
        if (vm_should_park(v)) {
            vm_park(v);
            continue;
        }
        pthread_mutex_lock(&v->lock);
        enum vcpu_hsm hsm = v->hsm;
        pthread_mutex_unlock(&v->lock);
        if (hsm != HSM_STARTED && hsm != HSM_SUSPENDED) {
            if (vm_debug_stepping(v)) { /* nothing to step: the hart waits for HSM start */
                vm_debug_step_done(v);
                continue;
            }
            if (!vcpu_wait_for_start(v))
                break;
            continue;
        }
        bool stepping = false;
        enum rv_exit e = vm_debug_active(vm) ? vm_debug_run(v, RUN_BUDGET, &stepping)
                         : v->jit          ? rv_jit_run(v->jit, RUN_BUDGET)
                                           : rv_hart_run(h, RUN_BUDGET);
        if ((unsigned)e < RV_VM_EXIT_REASONS)
            atomic_fetch_add_explicit(&v->exits[e], 1, memory_order_relaxed);
        if (vm->tracer.mask & RV_TRACE_EXITS)
            vm->tracer.on_exit(vm->tracer.opaque, h, e);
        switch (e) {
        case RV_EXIT_BUDGET:
        case RV_EXIT_STOP:
        case RV_EXIT_DEBUG:
            break;
        case RV_EXIT_WFI:
            if (!stepping) /* a WFI may complete at any time (priv spec 3.3.3) */
                vm_wait_for_interrupt(v);
            break;
        case RV_EXIT_ECALL:
            sbi_handle(v);
            break;
        case RV_EXIT_MTRAP:
            vm_fatal(vm, "hart %u: trap into M-mode that the firmware does not handle: "
                         "mcause 0x%llx mtval 0x%llx at pc 0x%llx",
                     v->id, (unsigned long long)h->exit_cause, (unsigned long long)h->exit_tval,
                     (unsigned long long)h->exit_epc);
            break;
        }
        if (stepping && e != RV_EXIT_DEBUG)
            vm_debug_step_done(v);
    }
    return NULL;
}

/* --- create / run / destroy --- */

static void vm_jit_destroy(struct rv_vm *vm)
{
    for (unsigned i = 0; i < vm->nharts; i++) {
        rv_jit_destroy(vm->vcpus[i].jit);
        vm->vcpus[i].jit = NULL;
    }
    rv_jit_group_destroy(vm->jit_group);
    vm->jit_group = NULL;
}

/* Guest RAM: a memfd mapped shared, so that host-MMU windows (cpu/uwin.h) can map its pages
 * too; private anonymous memory if the host has no memfd. NULL if neither can be had. */
void *vm_ram_alloc(uint64_t size, int *fd)
{
    *fd = memfd_create("rvisor-ram", MFD_CLOEXEC);
    if (*fd >= 0) {
        void *ram = MAP_FAILED;
        if (ftruncate(*fd, (off_t)size) == 0)
            ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, *fd, 0);
        if (ram != MAP_FAILED)
            return ram;
        close(*fd);
        *fd = -1;
    }
    void *ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return ram == MAP_FAILED ? NULL : ram;
}

/* Host-MMU windows for every hart whose translator runs, if guest RAM is a memfd and the
 * host has the address space; they share one budget of mappings (cpu/uwin.h).
 * RVISOR_UWIN=0 turns them off (the software TLB for every access). */
static void vm_uwin_create(struct rv_vm *vm)
{
    const char *env = getenv("RVISOR_UWIN");
    bool on = !env || strcmp(env, "0") != 0;
    if (vm->ram_fd < 0 || !on || !rv_jit_uwin_ready())
        return;
    rv_uwin_budget_init(&vm->uwin_budget, RV_UWIN_MAPS_TOTAL);
    for (unsigned i = 0; i < vm->nharts; i++) {
        vm->vcpus[i].uwin = rv_uwin_create(vm->ram_fd, vm->bus.ram_size, &vm->uwin_budget);
        if (!vm->vcpus[i].uwin) {
            rv_warn("host-MMU windows unavailable (%s)", rv_error_get());
            vm_ram_fd_lost(vm);
            return;
        }
        rv_uwin_attach(vm->vcpus[i].hart, vm->vcpus[i].uwin);
    }
}

/* Guest RAM is no longer (only) the memfd's pages: no windows from now on. */
void vm_ram_fd_lost(struct rv_vm *vm)
{
    for (unsigned i = 0; i < vm->nharts; i++) {
        rv_uwin_attach(vm->vcpus[i].hart, NULL);
        rv_uwin_destroy(vm->vcpus[i].uwin);
        vm->vcpus[i].uwin = NULL;
        if (vm->vcpus[i].jit)
            rv_jit_flush(vm->vcpus[i].jit); /* code that used the windows */
    }
    if (vm->ram_fd >= 0)
        close(vm->ram_fd);
    vm->ram_fd = -1;
}

void vm_ram_fd_replace(struct rv_vm *vm, int fd)
{
    if (vm->ram_fd >= 0)
        close(vm->ram_fd);
    vm->ram_fd = fd;
    for (unsigned i = 0; i < vm->nharts; i++)
        if (vm->vcpus[i].uwin) {
            vm->vcpus[i].uwin->ram_fd = fd;
            rv_uwin_attach(vm->vcpus[i].hart, vm->vcpus[i].uwin); /* empties it */
        }
}

/* Translators for all harts or for none (they share the tracking of translated code). The
 * interpreter is the fallback where the host refuses executable memory. */
static void vm_jit_create(struct rv_vm *vm)
{
    int rc = rv_jit_group_create(&vm->bus, &vm->jit_group);
    for (unsigned i = 0; !rc && i < vm->nharts; i++)
        rc = rv_jit_create(vm->jit_group, vm->vcpus[i].hart, &vm->vcpus[i].jit);
    if (rc) {
        rv_warn("binary translator unavailable (%s): using the interpreter", rv_error_get());
        vm_jit_destroy(vm);
        return;
    }
    vm_uwin_create(vm);
}

static int read_image(const char *path, uint8_t **data, size_t *len)
{
    if (!path)
        return 0;
    int rc = rv_read_file(path, MAX_IMAGE, data, len);
    if (rc == 0 && *len == 0)
        rc = rv_error_set(-EINVAL, "%s: empty file", path);
    return rc;
}

static int vm_read_images(struct rv_vm *vm)
{
    const struct rv_vm_config *cfg = &vm->cfg;
    int rc = 0;
    if (cfg->kernel)
        rc = rv_image_open(cfg->kernel, MAX_IMAGE, &vm->kernel);
    if (!rc && cfg->initrd)
        rc = rv_image_open(cfg->initrd, MAX_IMAGE, &vm->initrd);
    if (!rc)
        rc = read_image(cfg->bios, &vm->bios, &vm->bios_len);
    if (!rc)
        rc = read_image(cfg->dtb, &vm->dtb_file, &vm->dtb_file_len);
    vm->images_dropped = false;
    return rc;
}

void vm_drop_images(struct rv_vm *vm)
{
    rv_image_close(&vm->kernel);
    rv_image_close(&vm->initrd);
    free(vm->bios);
    free(vm->dtb_file);
    vm->bios = vm->dtb_file = NULL;
    vm->images_dropped = true;
}

int rv_vm_create(const struct rv_vm_config *cfg, struct rv_vm **out)
{
    uint64_t ram_size = cfg->ram_size ? cfg->ram_size : DEFAULT_RAM;
    unsigned nharts = cfg->nharts ? cfg->nharts : 1;
    if (ram_size < (16ull << 20) || ram_size > MAX_RAM || (ram_size & 0xfffff))
        return rv_error_set(-EINVAL, "memory size must be 16 MiB..64 GiB in whole MiB");
    if (nharts > RV_MAX_HARTS)
        return rv_error_set(-EINVAL, "at most %d harts", RV_MAX_HARTS);
    enum rv_vm_mmu mmu = cfg->mmu == RV_VM_MMU_DEFAULT ? DEFAULT_MMU : cfg->mmu;
    if (!rv_vm_mmu_name(mmu))
        return rv_error_set(-EINVAL, "unknown MMU type %d", (int)cfg->mmu);
    if (!cfg->kernel && !cfg->bios)
        return rv_error_set(-EINVAL, "nothing to boot: give a kernel or a firmware program");
    struct rv_vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return rv_error_set(-ENOMEM, "out of memory");
    vm->cfg = *cfg;
    vm->cfg.ram_size = ram_size;
    vm->cfg.nharts = vm->nharts = nharts;
    vm->cfg.mmu = mmu;
    vm->monitor = cfg->bios == NULL;
    vm->out_fd = cfg->console_out_fd;
    vm->wake_pipe[0] = vm->wake_pipe[1] = -1;
    vm->ram_fd = -1;
    vm->kernel.fd = vm->initrd.fd = -1;
    vm->dbg_notify_fd = -1;
    vm->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC); /* -1: RSS not reported */
    /* Recursive: virtio devices raise interrupts both from MMIO callbacks (lock held) and
     * from their worker threads (dev/virtio.h). */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&vm->dev_lock, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_mutex_init(&vm->out_lock, NULL);
    pthread_mutex_init(&vm->power_lock, NULL);
    pthread_cond_init(&vm->power_cond, NULL);
    vm->console = (struct rv_console){console_output, vm};
    int rc = 0;
    if (pipe2(vm->wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        rc = rv_error_set(-errno, "pipe: %s", strerror(errno));
    if (!rc)
        rc = vm_read_images(vm);
    if (rc) {
        rv_vm_destroy(vm);
        return rc;
    }
    void *ram = vm_ram_alloc(ram_size, &vm->ram_fd);
    if (!ram) {
        rv_vm_destroy(vm);
        return rv_error_set(-ENOMEM, "cannot map %llu MiB of guest RAM",
                            (unsigned long long)(ram_size >> 20));
    }
    vm->bus = (struct rv_bus){
        .ram = ram, .ram_base = VIRT_RAM_BASE, .ram_size = ram_size, .opaque = vm,
        .io_read = vm_io_read, .io_write = vm_io_write, .page_is_io = vm_page_is_io,
    };
    for (unsigned i = 0; i < nharts; i++) {
        struct rv_vcpu *v = &vm->vcpus[i];
        v->vm = vm;
        v->id = i;
        pthread_mutex_init(&v->lock, NULL);
        pthread_cond_init(&v->cond, NULL);
        v->hart = aligned_alloc(64, (sizeof(struct rv_hart) + 63) & ~(size_t)63);
        if (!v->hart) {
            rv_vm_destroy(vm);
            return rv_error_set(-ENOMEM, "out of memory");
        }
        rv_hart_reset(v->hart, i, &vm->bus, VIRT_RAM_BASE);
    }
    if (cfg->accel == RV_ACCEL_JIT)
        vm_jit_create(vm);
    clock_gettime(CLOCK_MONOTONIC, &vm->t0);
    rc = board_create(vm);
    if (!rc)
        rc = boot_prepare(vm);
    if (rc) {
        rv_vm_destroy(vm);
        return rc;
    }
    *out = vm;
    return 0;
}

int rv_vm_dump_dtb(struct rv_vm *vm, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return rv_error_set(-errno, "%s: %s", path, strerror(errno));
    ssize_t n = write(fd, vm->fdt, vm->fdt_len);
    int e = errno;
    close(fd);
    if (n != (ssize_t)vm->fdt_len)
        return rv_error_set(n < 0 ? -e : -EIO, "%s: write failed", path);
    return 0;
}

/* Returns every device and hart to its reset state and loads the boot images again. */
static int vm_reset(struct rv_vm *vm)
{
    /* The interrupt controller goes last: it re-samples its input lines on reset, and they
     * must already be low from the devices' own resets. */
    struct rv_region *plic = NULL;
    for (unsigned i = 0; i < vm->iomap.count; i++) {
        struct rv_region *r = &vm->iomap.regions[i];
        if (r->dev == (void *)vm->plic)
            plic = r;
        else if (r->ops->reset)
            r->ops->reset(r->dev);
    }
    if (plic && plic->ops->reset)
        plic->ops->reset(plic->dev);
    for (unsigned i = 0; i < vm->nharts; i++) {
        rv_hart_reset(vm->vcpus[i].hart, i, &vm->bus, VIRT_RAM_BASE);
        rv_uwin_attach(vm->vcpus[i].hart, vm->vcpus[i].uwin);
        if (vm->vcpus[i].jit)
            rv_jit_flush(vm->vcpus[i].jit); /* the images are loaded again */
    }
    atomic_store(&vm->power, VM_RUNNING);
    vm->exit_status = 0;
    if (vm->images_dropped) {
        int rc = vm_read_images(vm);
        if (rc)
            return rc;
    }
    return boot_prepare(vm);
}

static void vm_join_harts(struct rv_vm *vm)
{
    for (unsigned i = 0; i < vm->nharts; i++) {
        struct rv_vcpu *v = &vm->vcpus[i];
        if (v->thread_started) {
            vm_kick(v);
            pthread_join(v->thread, NULL);
            v->thread_started = false;
        }
    }
}

int rv_vm_run(struct rv_vm *vm)
{
    int rc = console_start(vm);
    if (rc)
        return RV_STATUS_ERROR;
    for (;;) {
        if (!vm->restored)
            boot_reset_harts(vm);
        vm->restored = false;
        /* From now on a pause waits for the harts to park (vm_control.c), even those whose
         * thread has not been created yet. */
        pthread_mutex_lock(&vm->power_lock);
        vm->harts_live = true;
        pthread_mutex_unlock(&vm->power_lock);
        for (unsigned i = 0; i < vm->nharts; i++) {
            struct rv_vcpu *v = &vm->vcpus[i];
            if (pthread_create(&v->thread, NULL, vcpu_thread, v) != 0) {
                vm_fatal(vm, "cannot start a thread for hart %u", i);
                break;
            }
            v->thread_started = true;
        }
        pthread_mutex_lock(&vm->power_lock);
        while (atomic_load(&vm->power) == VM_RUNNING)
            pthread_cond_wait(&vm->power_cond, &vm->power_lock);
        pthread_mutex_unlock(&vm->power_lock);
        vm_join_harts(vm);
        pthread_mutex_lock(&vm->power_lock);
        vm->harts_live = false;
        pthread_mutex_unlock(&vm->power_lock);
        enum vm_power p = atomic_load(&vm->power);
        if (p == VM_RESET && !vm->cfg.no_reboot) {
            rv_info("guest reboot");
            if (vm_reset(vm) == 0)
                continue;
            vm_fatal(vm, "reboot failed: %s", rv_error_get());
            p = VM_FATAL;
        }
        console_stop(vm);
        if (p == VM_FATAL) {
            rv_error_set(-EIO, "%s", vm->fatal_msg);
            return RV_STATUS_ERROR;
        }
        if (p == VM_RESET)
            return RV_STATUS_REBOOT;
        return vm->exit_status;
    }
}

void rv_vm_destroy(struct rv_vm *vm)
{
    if (!vm)
        return;
    vm_migration_free(vm); /* its thread uses the devices */
    /* Newest first: devices with worker threads (virtio disks, NICs) stop before the
     * interrupt controller they signal goes away. */
    for (unsigned i = vm->iomap.count; i-- > 0;) {
        struct rv_region *r = &vm->iomap.regions[i];
        if (r->ops->destroy)
            r->ops->destroy(r->dev);
    }
    vm_jit_destroy(vm);
    for (unsigned i = 0; i < vm->nharts; i++) {
        rv_uwin_destroy(vm->vcpus[i].uwin);
        free(vm->vcpus[i].hart);
        pthread_mutex_destroy(&vm->vcpus[i].lock);
        pthread_cond_destroy(&vm->vcpus[i].cond);
    }
    if (vm->bus.ram)
        munmap(vm->bus.ram, vm->bus.ram_size);
    if (vm->ram_fd >= 0)
        close(vm->ram_fd);
    for (int i = 0; i < 2; i++)
        if (vm->wake_pipe[i] >= 0)
            close(vm->wake_pipe[i]);
    if (vm->statm_fd >= 0)
        close(vm->statm_fd);
    rv_image_close(&vm->kernel);
    rv_image_close(&vm->initrd);
    free(vm->bios);
    free(vm->dtb_file);
    free(vm->fdt);
    for (unsigned i = 0; i < RV_MAX_DISKS; i++)
        free(vm->disk_specs[i]);
    for (unsigned i = 0; i < sizeof(vm->owned) / sizeof(vm->owned[0]); i++)
        free(vm->owned[i]);
    pthread_mutex_destroy(&vm->dev_lock);
    pthread_mutex_destroy(&vm->out_lock);
    pthread_mutex_destroy(&vm->power_lock);
    pthread_cond_destroy(&vm->power_cond);
    free(vm);
}
