/* rvisor's built-in M-mode firmware: the Supervisor Binary Interface (RISC-V SBI spec v2.0),
 * the guest's hypercall interface. Calls arrive as RV_EXIT_ECALL exits: a7 = extension id,
 * a6 = function id, a0..a5 = arguments; the answer is a0 = error, a1 = value. */
#include <sched.h>
#include <string.h>

#include "core/log.h"
#include "cpu/csr.h"
#include "cpu/mmu.h"
#include "machine/vm_internal.h"

#define SBI_SUCCESS 0
#define SBI_ERR_FAILED (-1)
#define SBI_ERR_NOT_SUPPORTED (-2)
#define SBI_ERR_INVALID_PARAM (-3)
#define SBI_ERR_DENIED (-4)
#define SBI_ERR_INVALID_ADDRESS (-5)
#define SBI_ERR_ALREADY_AVAILABLE (-6)
#define SBI_ERR_ALREADY_STARTED (-7)
#define SBI_ERR_ALREADY_STOPPED (-8)

#define EXT_BASE 0x10
#define EXT_TIME 0x54494d45
#define EXT_IPI 0x735049
#define EXT_RFENCE 0x52464e43
#define EXT_HSM 0x48534d
#define EXT_SRST 0x53525354
#define EXT_DBCN 0x4442434e
/* Legacy extensions (SBI spec chapter 5), still used by early consoles */
#define LEGACY_SET_TIMER 0x00
#define LEGACY_PUTCHAR 0x01
#define LEGACY_GETCHAR 0x02
#define LEGACY_SHUTDOWN 0x08

#define SBI_SPEC_VERSION ((2u << 24) | 0u) /* v2.0 */
#define SBI_IMPL_ID 0x7276                 /* "rv": not in the SBI registry of implementations */
#define SBI_IMPL_VERSION 1

struct sbiret {
    long error;
    unsigned long value;
    bool no_return; /* the call set the hart's registers itself (non-retentive resume) */
};

static struct sbiret sbiret(long error, unsigned long value)
{
    return (struct sbiret){.error = error, .value = value};
}

static bool extension_supported(unsigned long eid)
{
    switch (eid) {
    case EXT_BASE: case EXT_TIME: case EXT_IPI: case EXT_RFENCE: case EXT_HSM: case EXT_SRST:
    case EXT_DBCN:
    case LEGACY_SET_TIMER: case LEGACY_PUTCHAR: case LEGACY_GETCHAR: case LEGACY_SHUTDOWN:
        return true;
    }
    return false;
}

/* Calls fn for every hart selected by (hart_mask, hart_mask_base) (SBI spec 3.1). */
static long for_each_hart(struct rv_vm *vm, unsigned long mask, unsigned long base,
                          void (*fn)(struct rv_vcpu *self, struct rv_vcpu *target),
                          struct rv_vcpu *self)
{
    if (base == (unsigned long)-1) {
        for (unsigned i = 0; i < vm->nharts; i++)
            fn(self, &vm->vcpus[i]);
        return SBI_SUCCESS;
    }
    /* Validate the whole mask before acting on any hart. */
    for (unsigned b = 0; b < 64; b++)
        if (((mask >> b) & 1) && (base + b >= vm->nharts || base + b < base))
            return SBI_ERR_INVALID_PARAM;
    for (unsigned b = 0; b < 64; b++)
        if ((mask >> b) & 1)
            fn(self, &vm->vcpus[base + b]);
    return SBI_SUCCESS;
}

static void send_ipi(struct rv_vcpu *self, struct rv_vcpu *t)
{
    (void)self;
    rv_hart_post_mip(t->hart, MIP_SSIP);
    vm_kick(t);
}

static enum vcpu_hsm hsm_state(struct rv_vcpu *v)
{
    pthread_mutex_lock(&v->lock);
    enum vcpu_hsm s = v->hsm;
    pthread_mutex_unlock(&v->lock);
    return s;
}

/* Remote SFENCE.VMA / FENCE.I: the target flushes at its next instruction boundary; a running
 * target is waited for, so the guest may rely on the fence having happened when the call
 * returns (what OpenSBI does too). Stopped harts flush when they start. */
static void remote_fence(struct rv_vcpu *self, struct rv_vcpu *t)
{
    if (self->sbi_restart)
        return;
    if (t == self) {
        /* through the request counter, which the translator watches for FENCE.I */
        rv_hart_request_flush_range(self->hart, self->fence_lo, self->fence_hi);
        rv_hart_do_flush(self->hart);
        return;
    }
    uint32_t req = rv_hart_request_flush_range(t->hart, self->fence_lo, self->fence_hi);
    /* A target asleep in WFI runs no instruction before it flushes (vm_wait_for_interrupt
     * does so on waking, after this request): nothing to wait for, and no need to wake it. */
    pthread_mutex_lock(&t->lock);
    bool asleep = t->asleep;
    pthread_mutex_unlock(&t->lock);
    if (asleep)
        return;
    vm_kick(t);
    while (hsm_state(t) != HSM_STOPPED &&
           (int32_t)(atomic_load(&t->hart->tlb_flush_done) - req) < 0 &&
           atomic_load(&self->vm->power) == VM_RUNNING) {
        rv_hart_do_flush(self->hart); /* two harts fencing each other must not deadlock */
        /* A pause (or debugger halt) may have parked the target before it saw the request,
         * and the pause waits for this hart: give way. The call runs again from its ecall
         * after the resume (fences are idempotent), so a snapshot taken meanwhile holds the
         * hart before the call, not inside it. */
        if (vm_should_park(self)) {
            self->sbi_restart = true;
            return;
        }
        sched_yield();
    }
}

static struct sbiret sbi_base(struct rv_vcpu *v, unsigned long fid, unsigned long a0)
{
    (void)v;
    switch (fid) {
    case 0: return sbiret(0, SBI_SPEC_VERSION);
    case 1: return sbiret(0, SBI_IMPL_ID);
    case 2: return sbiret(0, SBI_IMPL_VERSION);
    case 3: return sbiret(0, extension_supported(a0));
    case 4: case 5: case 6: return sbiret(0, 0); /* mvendorid, marchid, mimpid */
    }
    return sbiret(SBI_ERR_NOT_SUPPORTED, 0);
}

static void set_timer(struct rv_hart *h, uint64_t when)
{
    /* With Sstc enabled the kernel's timer is stimecmp; otherwise the monitor's M-level timer
     * (mtimecmp) raises STIP. Either way a new deadline clears a pending timer interrupt. */
    if (h->menvcfg & ENVCFG_STCE)
        h->stimecmp = when;
    else
        atomic_store(&h->mtimecmp, when);
}

static bool in_ram(struct rv_vm *vm, uint64_t addr, uint64_t len)
{
    return rv_bus_in_ram(&vm->bus, addr, len);
}

static struct sbiret sbi_hsm(struct rv_vcpu *v, unsigned long fid, const uint64_t *a)
{
    struct rv_vm *vm = v->vm;
    switch (fid) {
    case 0: { /* hart_start(hartid, start_addr, opaque) */
        if (a[0] >= vm->nharts)
            return sbiret(SBI_ERR_INVALID_PARAM, 0);
        if (!in_ram(vm, a[1], 4))
            return sbiret(SBI_ERR_INVALID_ADDRESS, 0);
        struct rv_vcpu *t = &vm->vcpus[a[0]];
        pthread_mutex_lock(&t->lock);
        long err = SBI_SUCCESS;
        if (t->hsm != HSM_STOPPED) {
            err = SBI_ERR_ALREADY_AVAILABLE;
        } else {
            t->hsm = HSM_START_PENDING;
            t->start_addr = a[1];
            t->start_opaque = a[2];
            pthread_cond_signal(&t->cond);
        }
        pthread_mutex_unlock(&t->lock);
        return sbiret(err, 0);
    }
    case 1: /* hart_stop() */
        pthread_mutex_lock(&v->lock);
        v->hsm = HSM_STOPPED;
        pthread_mutex_unlock(&v->lock);
        return sbiret(SBI_SUCCESS, 0); /* not seen: the hart is stopped */
    case 2: /* hart_get_status(hartid) */
        if (a[0] >= vm->nharts)
            return sbiret(SBI_ERR_INVALID_PARAM, 0);
        return sbiret(SBI_SUCCESS, hsm_state(&vm->vcpus[a[0]]));
    case 3: { /* hart_suspend(suspend_type, resume_addr, opaque) */
        uint32_t type = (uint32_t)a[0];
        bool retentive = type == 0x00000000;
        if (!retentive && type != 0x80000000)
            return sbiret(SBI_ERR_INVALID_PARAM, 0);
        if (!retentive && !in_ram(vm, a[1], 4))
            return sbiret(SBI_ERR_INVALID_ADDRESS, 0);
        struct rv_hart *h = v->hart;
        /* Suspend until an interrupt is pending for the hart, enabled in sie/mie or not
         * globally enabled (SBI spec 9.4); a WFI does exactly that wait. */
        pthread_mutex_lock(&v->lock);
        v->hsm = HSM_SUSPENDED;
        pthread_mutex_unlock(&v->lock);
        while (!(rv_hart_mip(h) & h->mie) && atomic_load(&vm->power) == VM_RUNNING &&
               !vm_should_park(v))
            vm_wait_for_interrupt(v);
        pthread_mutex_lock(&v->lock);
        v->hsm = HSM_STARTED;
        pthread_mutex_unlock(&v->lock);
        if (vm_should_park(v) && !(rv_hart_mip(h) & h->mie)) {
            v->sbi_restart = true; /* a pause: suspend again after it (as remote_fence) */
            return sbiret(SBI_SUCCESS, 0);
        }
        if (!retentive) { /* resume as if started at resume_addr */
            vm_hart_enter_s(v, a[1], a[2]);
            return (struct sbiret){.error = SBI_SUCCESS, .no_return = true};
        }
        return sbiret(SBI_SUCCESS, 0);
    }
    }
    return sbiret(SBI_ERR_NOT_SUPPORTED, 0);
}

static struct sbiret sbi_srst(struct rv_vcpu *v, const uint64_t *a)
{
    uint32_t type = (uint32_t)a[0], reason = (uint32_t)a[1];
    if (type > 2 || (reason > 1 && reason < 0xe0000000u))
        return sbiret(SBI_ERR_INVALID_PARAM, 0);
    if (type == 0)
        vm_power(v->vm, VM_POWER_OFF, reason == 1 ? 1 : 0);
    else
        vm_power(v->vm, VM_RESET, 0);
    return sbiret(SBI_SUCCESS, 0);
}

static struct sbiret sbi_dbcn(struct rv_vcpu *v, unsigned long fid, const uint64_t *a)
{
    struct rv_vm *vm = v->vm;
    if (fid == 2) { /* console_write_byte */
        uint8_t c = (uint8_t)a[0];
        vm->console.write(vm->console.opaque, &c, 1);
        return sbiret(SBI_SUCCESS, 0);
    }
    if (fid > 1)
        return sbiret(SBI_ERR_NOT_SUPPORTED, 0);
    /* The buffer is guest-physical: base_lo | base_hi << 64 (only base_lo on RV64). */
    uint64_t len = a[0], addr = a[1];
    if (a[2] != 0 || !in_ram(vm, addr, len))
        return sbiret(SBI_ERR_INVALID_PARAM, 0);
    uint8_t *p = rv_bus_ram_ptr(&vm->bus, addr);
    if (fid == 0) {
        vm->console.write(vm->console.opaque, p, len);
        return sbiret(SBI_SUCCESS, len);
    }
    rv_bus_note_write(&vm->bus, addr, len);
    pthread_mutex_lock(&vm->dev_lock);
    size_t n = console_read(vm, p, len);
    pthread_mutex_unlock(&vm->dev_lock);
    return sbiret(SBI_SUCCESS, n);
}

static struct sbiret sbi_legacy(struct rv_vcpu *v, unsigned long eid, const uint64_t *a)
{
    struct rv_vm *vm = v->vm;
    switch (eid) {
    case LEGACY_SET_TIMER:
        set_timer(v->hart, a[0]);
        return sbiret(0, 0);
    case LEGACY_PUTCHAR: {
        uint8_t c = (uint8_t)a[0];
        vm->console.write(vm->console.opaque, &c, 1);
        return sbiret(0, 0);
    }
    case LEGACY_GETCHAR: {
        uint8_t c;
        pthread_mutex_lock(&vm->dev_lock);
        size_t n = console_read(vm, &c, 1);
        pthread_mutex_unlock(&vm->dev_lock);
        return sbiret(n ? c : -1, 0);
    }
    case LEGACY_SHUTDOWN:
        vm_power(vm, VM_POWER_OFF, 0);
        return sbiret(0, 0);
    }
    return sbiret(SBI_ERR_NOT_SUPPORTED, 0);
}

/* Exit statistics: calls by extension (rv_vm_sbi_ext_names). */
static void count_call(struct rv_vm *vm, unsigned long eid)
{
    static const unsigned long ids[] = {EXT_BASE, EXT_TIME, EXT_IPI, EXT_RFENCE,
                                        EXT_HSM,  EXT_SRST, EXT_DBCN};
    unsigned k = eid <= LEGACY_SHUTDOWN ? 7 : 8;
    for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (ids[i] == eid)
            k = i;
    atomic_fetch_add_explicit(&vm->sbi_calls[k], 1, memory_order_relaxed);
}

void sbi_handle(struct rv_vcpu *v)
{
    struct rv_hart *h = v->hart;
    unsigned long eid = h->x[17], fid = h->x[16];
    const uint64_t *a = &h->x[10];
    struct sbiret ret = sbiret(SBI_ERR_NOT_SUPPORTED, 0);
    bool legacy = false;
    switch (eid) {
    case EXT_BASE: ret = sbi_base(v, fid, a[0]); break;
    case EXT_TIME:
        if (fid == 0) {
            set_timer(h, a[0]);
            ret = sbiret(SBI_SUCCESS, 0);
        }
        break;
    case EXT_IPI:
        if (fid == 0)
            ret = sbiret(for_each_hart(v->vm, a[0], a[1], send_ipi, v), 0);
        break;
    case EXT_RFENCE:
        /* 0: fence.i, 1: sfence.vma, 2: sfence.vma with ASID (a[2] start, a[3] size; the
         * whole address space if both are 0 or size is all ones, SBI spec, RFENCE
         * extension). Targets flush the range for every ASID, or everything beyond 64
         * pages (hart.c). 3..6 (hypervisor fences) are not supported. */
        if (fid <= 2) {
            v->fence_lo = fid == 0 ? UINT64_MAX : 0;
            v->fence_hi = fid == 0 ? 0 : UINT64_MAX;
            if (fid != 0 && a[3] != 0 && a[3] != UINT64_MAX && a[2] + a[3] - 1 >= a[2]) {
                v->fence_lo = a[2];
                v->fence_hi = a[2] + a[3] - 1;
            }
            ret = sbiret(for_each_hart(v->vm, a[0], a[1], remote_fence, v), 0);
        }
        break;
    case EXT_HSM: ret = sbi_hsm(v, fid, a); break;
    case EXT_SRST:
        if (fid == 0)
            ret = sbi_srst(v, a);
        break;
    case EXT_DBCN: ret = sbi_dbcn(v, fid, a); break;
    default:
        if (eid <= LEGACY_SHUTDOWN) {
            legacy = true;
            ret = sbi_legacy(v, eid, a);
        } else {
            rv_debug("hart %u: unsupported SBI call eid 0x%lx fid %lu", v->id, eid, fid);
        }
    }
    count_call(v->vm, eid);
    if (v->vm->tracer.mask & RV_TRACE_SBI)
        v->vm->tracer.sbi(v->vm->tracer.opaque, h, eid, fid, a, ret.error, ret.value);
    if (v->sbi_restart) {
        v->sbi_restart = false;
        h->pc -= 4; /* back to the ecall (always 4 bytes), the call's registers untouched */
        return;
    }
    if (ret.no_return)
        return;
    h->x[10] = (uint64_t)ret.error;
    if (!legacy) /* legacy calls return only a0 */
        h->x[11] = ret.value;
}
