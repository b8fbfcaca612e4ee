/* Debugger support (vm_debug.h).
 *
 * Halting reuses the pause machinery of vm_control.c: with dbg_halt set, hart threads park in
 * vm_park() and count themselves in `parked`. A resume of some harts only (GDB's vCont with
 * thread ids) or a single step lets those out (dbg_release, dbg_step) while dbg_halt stays
 * set. A hart that stops on its own (breakpoint, watchpoint,
 * end of a step) records the stop under power_lock, sets dbg_halt, stops the other harts and
 * writes a byte to the debugger's notify fd; the debugger then waits for every hart to park
 * (rv_vm_debug_take_stop) before it looks at any state. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cpu/mmu.h"
#include "machine/vm_internal.h"

void rv_vm_debug_enable(struct rv_vm *vm, int notify_fd, bool halted)
{
    vm->dbg_enabled = true;
    vm->dbg_notify_fd = notify_fd;
    atomic_store(&vm->dbg_halt, halted);
}

void rv_vm_set_tracer(struct rv_vm *vm, const struct rv_vm_tracer *t)
{
    vm->tracer = *t;
    if (t->insn && (t->mask & RV_TRACE_INSN))
        atomic_store(&vm->dbg_active, true);
}

unsigned rv_vm_nharts(const struct rv_vm *vm)
{
    return vm->nharts;
}

struct rv_hart *rv_vm_debug_hart(struct rv_vm *vm, unsigned i)
{
    return i < vm->nharts ? vm->vcpus[i].hart : NULL;
}

struct rv_debug_points *rv_vm_debug_points(struct rv_vm *vm)
{
    return &vm->dbg_points;
}

static void stop_others(struct rv_vm *vm, unsigned except)
{
    for (unsigned i = 0; i < vm->nharts; i++) {
        if (i == except)
            continue;
        rv_hart_request_stop(vm->vcpus[i].hart);
        vm_kick(&vm->vcpus[i]);
    }
}

/* Waits (power_lock held) until every hart is parked or the VM stops running. */
static int wait_parked(struct rv_vm *vm)
{
    while (vm->parked < vm->nharts && atomic_load(&vm->power) == VM_RUNNING)
        pthread_cond_wait(&vm->power_cond, &vm->power_lock);
    return atomic_load(&vm->power) == VM_RUNNING ? 0 : -ESRCH;
}

int rv_vm_debug_halt(struct rv_vm *vm)
{
    pthread_mutex_lock(&vm->power_lock);
    atomic_store(&vm->dbg_halt, true);
    atomic_store(&vm->dbg_release, 0);
    atomic_store(&vm->dbg_step, 0);
    if (!vm->dbg_stop_pending)
        vm->dbg_stop = (struct rv_vm_stop){.reason = RV_DEBUG_NONE};
    vm->dbg_stop_pending = false; /* this halt's caller reports it */
    pthread_mutex_unlock(&vm->power_lock);
    stop_others(vm, vm->nharts);
    pthread_mutex_lock(&vm->power_lock);
    int rc = wait_parked(vm);
    pthread_mutex_unlock(&vm->power_lock);
    return rc;
}

int rv_vm_debug_take_stop(struct rv_vm *vm, struct rv_vm_stop *out)
{
    pthread_mutex_lock(&vm->power_lock);
    int rc = -EAGAIN;
    if (vm->dbg_stop_pending) {
        rc = wait_parked(vm);
        *out = vm->dbg_stop;
        vm->dbg_stop_pending = false;
    } else if (atomic_load(&vm->power) != VM_RUNNING) {
        rc = -ESRCH;
    }
    pthread_mutex_unlock(&vm->power_lock);
    return rc;
}

static bool have_points(const struct rv_vm *vm)
{
    return vm->dbg_points.nbp || vm->dbg_points.nwp;
}

void rv_vm_debug_resume(struct rv_vm *vm, uint32_t run, uint32_t step)
{
    uint32_t all = (uint32_t)((1ull << vm->nharts) - 1);
    run &= all;
    step &= all & ~run;
    pthread_mutex_lock(&vm->power_lock);
    vm->dbg_stop_pending = false;
    bool trace = vm->tracer.insn && (vm->tracer.mask & RV_TRACE_INSN);
    atomic_store(&vm->dbg_active, have_points(vm) || step || trace);
    atomic_store(&vm->dbg_step, step);
    atomic_store(&vm->dbg_release, run | step);
    atomic_store(&vm->dbg_halt, run != all);
    pthread_cond_broadcast(&vm->power_cond);
    pthread_mutex_unlock(&vm->power_lock);
}

/* --- the hart side --- */

bool vm_debug_active(struct rv_vm *vm)
{
    return atomic_load_explicit(&vm->dbg_active, memory_order_relaxed);
}

bool vm_debug_stepping(struct rv_vcpu *v)
{
    return (atomic_load(&v->vm->dbg_step) >> v->id) & 1;
}

static void report(struct rv_vcpu *v, const struct rv_vm_stop *stop)
{
    struct rv_vm *vm = v->vm;
    pthread_mutex_lock(&vm->power_lock);
    /* The first stop since the resume wins; a hart racing to a breakpoint stops at it
     * unexecuted and hits it again at the next continue. */
    bool released = !atomic_load(&vm->dbg_halt) || ((atomic_load(&vm->dbg_release) >> v->id) & 1);
    if (!vm->dbg_stop_pending && released) {
        vm->dbg_stop = *stop;
        vm->dbg_stop_pending = true;
    }
    atomic_store(&vm->dbg_halt, true);
    atomic_store(&vm->dbg_release, 0);
    atomic_store(&vm->dbg_step, 0);
    pthread_mutex_unlock(&vm->power_lock);
    stop_others(vm, v->id);
    char c = 's';
    if (write(vm->dbg_notify_fd, &c, 1) < 0) {
        /* the pipe is full: the debugger is being woken anyway */
    }
}

void vm_debug_step_done(struct rv_vcpu *v)
{
    report(v, &(struct rv_vm_stop){.hart = v->id, .reason = RV_DEBUG_STEP});
}

enum rv_exit vm_debug_run(struct rv_vcpu *v, uint64_t budget, bool *stepping)
{
    struct rv_vm *vm = v->vm;
    bool trace = vm->tracer.insn && (vm->tracer.mask & RV_TRACE_INSN);
    struct rv_debug_run r = {
        .points = have_points(vm) ? &vm->dbg_points : NULL,
        .step = vm_debug_stepping(v),
        .watch_resume = v->dbg_watch_stop,
        .watch_pc = v->dbg_watch_pc,
        .trace = trace ? vm->tracer.insn : NULL,
        .trace_opaque = vm->tracer.opaque,
    };
    *stepping = r.step;
    enum rv_exit e = rv_debug_run(v->hart, &r, r.step ? 1 : budget);
    v->dbg_watch_stop = e == RV_EXIT_DEBUG && r.reason == RV_DEBUG_WATCH;
    v->dbg_watch_pc = v->hart->pc;
    if (e == RV_EXIT_DEBUG && vm->dbg_enabled)
        report(v, &(struct rv_vm_stop){.hart = v->id, .reason = r.reason,
                                       .watch_addr = r.watch_addr, .watch_kind = r.watch_kind});
    return e;
}

/* --- memory --- */

/* The host pointer of guest address `addr` and the bytes up to the end of its page, or NULL
 * when it is not mapped to RAM. */
static uint8_t *debug_ptr(struct rv_vm *vm, unsigned hart, bool virt, uint64_t addr,
                          size_t *room)
{
    uint64_t pa = addr;
    if (virt && hart < vm->nharts &&
        rv_mmu_debug_translate(vm->vcpus[hart].hart, addr, &pa) != RV_EXC_NONE)
        return NULL;
    *room = 4096 - (pa & 0xfff);
    if (!rv_bus_in_ram(&vm->bus, pa, *room) ||
        (vm->bus.page_is_io && vm->bus.page_is_io(vm->bus.opaque, pa)))
        return NULL;
    return rv_bus_ram_ptr(&vm->bus, pa);
}

static size_t debug_copy(struct rv_vm *vm, unsigned hart, bool virt, uint64_t addr,
                         uint8_t *buf, size_t len, bool write)
{
    size_t done = 0;
    while (done < len) {
        size_t room;
        uint8_t *p = debug_ptr(vm, hart, virt, addr + done, &room);
        if (!p)
            break;
        size_t n = len - done < room ? len - done : room;
        if (write) {
            rv_bus_note_write(&vm->bus, (uint64_t)(p - vm->bus.ram) + vm->bus.ram_base, n);
            memcpy(p, buf + done, n);
        } else {
            memcpy(buf + done, p, n);
        }
        done += n;
    }
    return done;
}

size_t rv_vm_debug_read(struct rv_vm *vm, unsigned hart, bool virt, uint64_t addr, void *buf,
                        size_t len)
{
    return debug_copy(vm, hart, virt, addr, buf, len, false);
}

size_t rv_vm_debug_write(struct rv_vm *vm, unsigned hart, bool virt, uint64_t addr,
                         const void *buf, size_t len)
{
    size_t n = debug_copy(vm, hart, virt, addr, (uint8_t *)buf, len, true);
    /* The harts are parked: drop translations now, the written bytes may be code (a FENCE.I
     * the guest does not know it needs). */
    for (unsigned i = 0; n && i < vm->nharts; i++)
        if (vm->vcpus[i].jit)
            rv_jit_flush(vm->vcpus[i].jit);
    return n;
}
