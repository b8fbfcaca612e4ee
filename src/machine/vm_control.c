/* Control of a running VM from other threads (include/rvisor/vm.h, "control of a running VM"):
 * the pause/resume state machine, power requests, status, counters and the balloon target.
 *
 * Pausing: rv_vm_pause() sets pause_req and stops every hart at its next instruction boundary
 * (rv_hart_request_stop() and a kick for harts sleeping in WFI or waiting for an HSM start).
 * The hart threads see pause_req at the top of their loop and park in vm_park() on power_cond,
 * counting themselves in `parked`; the pause returns when all are parked. Power changes
 * (poweroff, kill, reset, a guest power-off) broadcast power_cond too, so parked harts leave and
 * the run loop can join them. */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <time.h>

#include "core/error.h"
#include "core/log.h"
#include "dev/virtio_balloon.h"
#include "dev/virtio_input.h"
#include "machine/vm_internal.h"

const char *const rv_vm_exit_names[RV_VM_EXIT_REASONS] = {
    [RV_EXIT_BUDGET] = "budget", [RV_EXIT_ECALL] = "ecall", [RV_EXIT_MTRAP] = "mtrap",
    [RV_EXIT_WFI] = "wfi",       [RV_EXIT_STOP] = "stop",   [RV_EXIT_DEBUG] = "debug",
};
_Static_assert(RV_EXIT_DEBUG + 1 == RV_VM_EXIT_REASONS, "exit reasons of cpu/hart.h");

const char *const rv_vm_sbi_ext_names[RV_VM_SBI_EXTS] = {
    "base", "time", "ipi", "rfence", "hsm", "srst", "dbcn", "legacy", "other",
};

/* Privileged spec table 3.6 (mcause values). */
const char *const rv_vm_exception_names[RV_VM_TRAP_CAUSES] = {
    "insn_misaligned", "insn_access_fault", "illegal_insn", "breakpoint",
    "load_misaligned", "load_access_fault", "store_misaligned", "store_access_fault",
    "ecall_u", "ecall_s", NULL, "ecall_m", "insn_page_fault", "load_page_fault", NULL,
    "store_page_fault", NULL, NULL, "software_check", "hardware_error",
};
const char *const rv_vm_interrupt_names[RV_VM_TRAP_CAUSES] = {
    NULL, "supervisor_software", NULL, "machine_software", NULL, "supervisor_timer", NULL,
    "machine_timer", NULL, "supervisor_external", NULL, "machine_external", NULL,
    "counter_overflow",
};
_Static_assert(RV_VM_TRAP_CAUSES == RV_STAT_CAUSES, "trap counters of cpu/hart.h");

bool vm_should_park(struct rv_vcpu *v)
{
    struct rv_vm *vm = v->vm;
    return atomic_load_explicit(&vm->pause_req, memory_order_acquire) ||
           (atomic_load_explicit(&vm->dbg_halt, memory_order_acquire) &&
            !(atomic_load(&vm->dbg_release) & (1u << v->id)));
}

void vm_park(struct rv_vcpu *v)
{
    struct rv_vm *vm = v->vm;
    pthread_mutex_lock(&vm->power_lock);
    vm->parked++;
    pthread_cond_broadcast(&vm->power_cond);
    while (vm_should_park(v) && atomic_load(&vm->power) == VM_RUNNING)
        pthread_cond_wait(&vm->power_cond, &vm->power_lock);
    vm->parked--;
    pthread_mutex_unlock(&vm->power_lock);
}

static enum rv_vm_state state_locked(struct rv_vm *vm)
{
    int power = atomic_load(&vm->power);
    /* A reset in progress is not a stop: the run loop starts the harts again. */
    if (power != VM_RUNNING && !(power == VM_RESET && !vm->cfg.no_reboot))
        return RV_VM_STOPPED;
    return atomic_load(&vm->pause_req) ? RV_VM_PAUSED : RV_VM_RUNNING;
}

enum rv_vm_state rv_vm_state(struct rv_vm *vm)
{
    pthread_mutex_lock(&vm->power_lock);
    enum rv_vm_state s = state_locked(vm);
    pthread_mutex_unlock(&vm->power_lock);
    return s;
}

static void kick_all(struct rv_vm *vm)
{
    for (unsigned i = 0; i < vm->nharts; i++) {
        rv_hart_request_stop(vm->vcpus[i].hart);
        vm_kick(&vm->vcpus[i]);
    }
}

int rv_vm_pause(struct rv_vm *vm)
{
    pthread_mutex_lock(&vm->power_lock);
    enum rv_vm_state s = state_locked(vm);
    if (s == RV_VM_RUNNING)
        atomic_store(&vm->pause_req, true);
    pthread_mutex_unlock(&vm->power_lock);
    if (s == RV_VM_STOPPED)
        return rv_error_set(-ESRCH, "the VM is stopped");
    if (s == RV_VM_PAUSED)
        return rv_error_set(-EALREADY, "the VM is already paused");
    kick_all(vm);
    /* Every hart finishes its slice and parks; a power change (the guest powering off at the
     * same time) ends the wait too. Before rv_vm_run() has started the hart threads this
     * returns at once: they park as soon as they start. */
    /* Every place a hart can wait must give way to a pause (sbi.c: remote fences and HSM
     * suspend once did not, and a pause waited forever). The request is repeated every
     * 250 ms while a hart is missing, and a hart that stays out is logged each second. */
    pthread_mutex_lock(&vm->power_lock);
    for (unsigned tries = 1; vm->parked < vm->nharts && atomic_load(&vm->power) == VM_RUNNING &&
                             vm->harts_live; tries++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&vm->power_cond, &vm->power_lock, &ts) != ETIMEDOUT)
            continue;
        if (tries % 4 == 0)
            rv_warn("pause: %u of %u harts parked after %u ms; asking the others again",
                    vm->parked, vm->nharts, tries * 250);
        pthread_mutex_unlock(&vm->power_lock);
        kick_all(vm);
        pthread_mutex_lock(&vm->power_lock);
    }
    pthread_mutex_unlock(&vm->power_lock);
    return 0;
}

int rv_vm_resume(struct rv_vm *vm)
{
    if (atomic_load(&vm->migration_final) && vm_migration_release(vm))
        return -EBUSY;
    pthread_mutex_lock(&vm->power_lock);
    enum rv_vm_state s = state_locked(vm);
    if (s == RV_VM_PAUSED) {
        atomic_store(&vm->pause_req, false);
        pthread_cond_broadcast(&vm->power_cond);
    }
    pthread_mutex_unlock(&vm->power_lock);
    if (s == RV_VM_STOPPED)
        return rv_error_set(-ESRCH, "the VM is stopped");
    if (s == RV_VM_RUNNING)
        return rv_error_set(-EALREADY, "the VM is not paused");
    return 0;
}

static int power_request(struct rv_vm *vm, enum vm_power action, int status)
{
    if (rv_vm_state(vm) == RV_VM_STOPPED)
        return rv_error_set(-ESRCH, "the VM is stopped");
    vm_power(vm, action, status);
    return 0;
}

int rv_vm_request_poweroff(struct rv_vm *vm)
{
    return power_request(vm, VM_POWER_OFF, 0);
}

int rv_vm_press_power_button(struct rv_vm *vm)
{
    if (rv_vm_state(vm) == RV_VM_STOPPED)
        return rv_error_set(-ESRCH, "the VM is stopped");
    if (!vm->power_button)
        return rv_error_set(-ENODEV, "the VM has no power button (started with "
                                     "--no-power-button)");
    return rv_virtio_input_press(vm->power_button, RV_INPUT_KEY_POWER);
}

int rv_vm_kill(struct rv_vm *vm)
{
    return power_request(vm, VM_POWER_OFF, RV_STATUS_KILLED);
}

int rv_vm_reset(struct rv_vm *vm)
{
    return power_request(vm, VM_RESET, 0);
}

int rv_vm_balloon(struct rv_vm *vm, uint64_t guest_bytes)
{
    if (!vm->balloon)
        return rv_error_set(-ENODEV, "the VM has no balloon device (start it with --balloon)");
    uint64_t ram = vm->bus.ram_size;
    if (guest_bytes == 0 || guest_bytes > ram || (guest_bytes & ((1u << 20) - 1)))
        return rv_error_set(-EINVAL, "the balloon target must be 1..%llu MiB",
                            (unsigned long long)(ram >> 20));
    return rv_virtio_balloon_set_target(vm->balloon, (ram - guest_bytes) >> 12);
}

void rv_vm_get_info(struct rv_vm *vm, struct rv_vm_info *out)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    *out = (struct rv_vm_info){
        .state = rv_vm_state(vm),
        .nharts = vm->nharts,
        .ram_size = vm->bus.ram_size,
        .uptime_ns = (uint64_t)(now.tv_sec - vm->t0.tv_sec) * 1000000000ull +
                     (uint64_t)now.tv_nsec - (uint64_t)vm->t0.tv_nsec,
        .jit = vm->jit_group != NULL,
        .mmu = vm->cfg.mmu,
        .balloon = vm->balloon != NULL,
        .power_button = vm->power_button != NULL,
        .power_button_driver = vm->power_button && rv_virtio_input_active(vm->power_button),
        .host = vm->host,
    };
}

void rv_vm_set_host_info(struct rv_vm *vm, const struct rv_vm_host_info *info)
{
    vm->host = *info;
}

/* Bytes of [addr, addr + len) backed by host memory (mincore(2)), in 1 MiB steps. */
static uint64_t resident_bytes(const void *addr, size_t len)
{
    enum { STEP = 256 }; /* pages per mincore call */
    unsigned char vec[STEP];
    uint64_t pages = 0;
    const uint8_t *p = addr;
    for (size_t off = 0; addr && off < len; off += (size_t)STEP * 4096) {
        size_t n = len - off < (size_t)STEP * 4096 ? len - off : (size_t)STEP * 4096;
        if (mincore((void *)(p + off), n, vec) < 0)
            return 0;
        for (size_t i = 0; i < (n + 4095) / 4096; i++)
            pages += vec[i] & 1;
    }
    return pages * 4096;
}

void rv_vm_get_memory(struct rv_vm *vm, struct rv_vm_memory *out)
{
    *out = (struct rv_vm_memory){.ram_resident = resident_bytes(vm->bus.ram, vm->bus.ram_size)};
    for (unsigned i = 0; i < vm->nharts; i++) {
        if (!vm->vcpus[i].jit)
            continue;
        struct rv_jit_mapping m[RV_JIT_MAPPINGS];
        rv_jit_mappings(vm->vcpus[i].jit, m);
        for (unsigned k = 0; k < RV_JIT_MAPPINGS; k++) {
            out->jit_reserved += m[k].len;
            out->jit_resident += resident_bytes(m[k].addr, m[k].len);
        }
    }
    char buf[128];
    ssize_t n = vm->statm_fd >= 0 ? pread(vm->statm_fd, buf, sizeof(buf) - 1, 0) : -1;
    unsigned long long size, rss;
    if (n > 0) {
        buf[n] = 0;
        if (sscanf(buf, "%llu %llu", &size, &rss) == 2)
            out->process_rss = (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
    }
    if (out->process_rss > out->ram_resident)
        out->monitor_rss = out->process_rss - out->ram_resident;
}

void rv_vm_get_stats(struct rv_vm *vm, struct rv_vm_stats *out)
{
    *out = (struct rv_vm_stats){.nharts = vm->nharts};
    for (unsigned i = 0; i < vm->nharts; i++) {
        struct rv_vcpu *v = &vm->vcpus[i];
        struct rv_vm_hart_stats *hs = &out->harts[i];
        /* The hart thread owns instret; a relaxed atomic load reads a whole value. */
        hs->instret = __atomic_load_n(&v->hart->instret, __ATOMIC_RELAXED);
        for (unsigned c = 0; c < RV_VM_TRAP_CAUSES; c++) {
            hs->exceptions[c] = __atomic_load_n(&v->hart->stat_exc[c], __ATOMIC_RELAXED);
            hs->interrupts[c] = __atomic_load_n(&v->hart->stat_irq[c], __ATOMIC_RELAXED);
        }
        hs->tlb_misses = __atomic_load_n(&v->hart->stat_tlb_misses, __ATOMIC_RELAXED);
        for (unsigned e = 0; e < RV_VM_EXIT_REASONS; e++)
            hs->exits[e] = atomic_load_explicit(&v->exits[e], memory_order_relaxed);
        if (v->jit) {
            struct rv_jit_stats js;
            rv_jit_get_stats(v->jit, &js);
            hs->jit = true;
            hs->jit_blocks = js.blocks;
            hs->jit_guest_insns = js.guest_insns;
            hs->jit_code_bytes = js.code_bytes;
            hs->jit_flushes = js.flushes;
            hs->jit_invalidations = js.invalidations;
        }
    }
    for (unsigned e = 0; e < RV_VM_SBI_EXTS; e++)
        out->sbi_calls[e] = atomic_load_explicit(&vm->sbi_calls[e], memory_order_relaxed);
    pthread_mutex_lock(&vm->dev_lock);
    for (unsigned i = 0; i < vm->iomap.count && i < RV_VM_MAX_DEVICES; i++) {
        const struct rv_region *r = &vm->iomap.regions[i];
        out->devices[i] = (struct rv_vm_device_stats){r->ops->name, r->base, vm->mmio_reads[i],
                                                      vm->mmio_writes[i]};
        out->ndevices = i + 1;
    }
    pthread_mutex_unlock(&vm->dev_lock);
    if (vm->balloon) {
        out->balloon = true;
        out->balloon_target_pages = rv_virtio_balloon_target(vm->balloon);
        out->balloon_actual_pages = rv_virtio_balloon_actual(vm->balloon);
        out->balloon_released_pages = rv_virtio_balloon_released(vm->balloon);
    }
}
