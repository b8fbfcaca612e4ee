/* The `virt` board: QEMU's riscv virt memory map and device tree, built with libfdt from the
 * configuration (devicetree spec v0.4; Linux's riscv cpus and riscv,isa-extensions bindings). */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/error.h"
#include "cpu/csr.h"
#include "dev/aclint.h"
#include "dev/plic.h"
#include "dev/rtc.h"
#include "dev/syscon.h"
#include "dev/vmgenid.h"
#include "dev/uart.h"
#include "machine/vm_internal.h"

#define FDT_MAX (64 * 1024)

/* --- interrupt and timer wiring from devices to harts --- */

static void plic_set_eip(void *opaque, unsigned hart, bool s_mode, bool level)
{
    struct rv_vm *vm = opaque;
    if (hart >= vm->nharts)
        return;
    rv_hart_set_irq(vm->vcpus[hart].hart, s_mode ? MIP_SEIP : MIP_MEIP, level);
    vm_kick(&vm->vcpus[hart]);
}

static uint64_t aclint_get_time(void *opaque)
{
    return vm_time(opaque);
}

static void aclint_set_time(void *opaque, uint64_t mtime)
{
    struct rv_vm *vm = opaque;
    uint64_t now = vm_time(vm);
    atomic_fetch_add(&vm->mtime_offset, mtime - now);
    for (unsigned i = 0; i < vm->nharts; i++)
        vm_kick(&vm->vcpus[i]);
}

static void aclint_set_mtimecmp(void *opaque, unsigned hart, uint64_t value)
{
    struct rv_vm *vm = opaque;
    if (hart >= vm->nharts)
        return;
    atomic_store(&vm->vcpus[hart].hart->mtimecmp, value);
    atomic_fetch_or(&vm->vcpus[hart].hart->events, RV_EVENT_IRQ);
    vm_kick(&vm->vcpus[hart]);
}

static void aclint_set_msip(void *opaque, unsigned hart, bool level)
{
    struct rv_vm *vm = opaque;
    if (hart >= vm->nharts)
        return;
    rv_hart_set_irq(vm->vcpus[hart].hart, MIP_MSIP, level);
    vm_kick(&vm->vcpus[hart]);
}

static void aclint_set_ssip(void *opaque, unsigned hart)
{
    struct rv_vm *vm = opaque;
    if (hart >= vm->nharts)
        return;
    rv_hart_post_mip(vm->vcpus[hart].hart, MIP_SSIP);
    vm_kick(&vm->vcpus[hart]);
}

static void syscon_power(void *opaque, enum rv_power_action action, int status)
{
    vm_power(opaque, action == RV_POWER_OFF ? VM_POWER_OFF : VM_RESET, status);
}

/* --- the device tree --- */

static int fdt_check(struct rv_fdt *f, int rc)
{
    if (rc < 0 && !f->error)
        f->error = rc;
    return rc;
}

/* enum rv_vm_mmu holds satp MODE encodings (rv_hart_satp_modes() takes them as they are). */
_Static_assert(RV_VM_MMU_SV39 == SATP_MODE_SV39 && RV_VM_MMU_SV48 == SATP_MODE_SV48 &&
                   RV_VM_MMU_SV57 == SATP_MODE_SV57, "enum rv_vm_mmu is not satp.MODE");

static const char *const mmu_names[] = {
    [RV_VM_MMU_SV39] = "sv39", [RV_VM_MMU_SV48] = "sv48", [RV_VM_MMU_SV57] = "sv57"};

const char *rv_vm_mmu_name(enum rv_vm_mmu mmu)
{
    return (unsigned)mmu < sizeof(mmu_names) / sizeof(mmu_names[0]) ? mmu_names[mmu] : NULL;
}

bool rv_vm_mmu_parse(const char *name, enum rv_vm_mmu *out)
{
    for (unsigned i = 0; i < sizeof(mmu_names) / sizeof(mmu_names[0]); i++)
        if (mmu_names[i] && strcmp(name, mmu_names[i]) == 0) {
            *out = (enum rv_vm_mmu)i;
            return true;
        }
    return false;
}

static void fdt_cpus(struct rv_vm *vm, struct rv_fdt *f)
{
    void *fdt = f->blob;
    int cpus = fdt_check(f, fdt_add_subnode(fdt, 0, "cpus"));
    if (cpus < 0)
        return;
    fdt_check(f, fdt_setprop_u32(fdt, cpus, "#address-cells", 1));
    fdt_check(f, fdt_setprop_u32(fdt, cpus, "#size-cells", 0));
    fdt_check(f, fdt_setprop_u32(fdt, cpus, "timebase-frequency", VIRT_TIMEBASE_HZ));
    char exts[512];
    size_t exts_len = 0;
    for (const char *const *e = rv_hart_isa_extensions(); *e; e++) {
        size_t l = strlen(*e) + 1;
        memcpy(exts + exts_len, *e, l);
        exts_len += l;
    }
    char mmu_type[16]; /* "riscv,sv39" ...: what satp implements (boot_reset_harts) */
    snprintf(mmu_type, sizeof(mmu_type), "riscv,%s", rv_vm_mmu_name(vm->cfg.mmu));
    uint32_t cpu_phandles[RV_MAX_HARTS];
    /* fdt_add_subnode puts new nodes first: add in reverse so that cpu@0 comes first. */
    for (int i = (int)vm->nharts - 1; i >= 0; i--) {
        char name[32];
        snprintf(name, sizeof(name), "cpu@%d", i);
        int cpu = fdt_check(f, fdt_add_subnode(fdt, cpus, name));
        if (cpu < 0)
            return;
        fdt_check(f, fdt_setprop_string(fdt, cpu, "device_type", "cpu"));
        fdt_check(f, fdt_setprop_u32(fdt, cpu, "reg", (uint32_t)i));
        fdt_check(f, fdt_setprop_string(fdt, cpu, "status", "okay"));
        fdt_check(f, fdt_setprop_string(fdt, cpu, "compatible", "riscv"));
        fdt_check(f, fdt_setprop_string(fdt, cpu, "riscv,isa", rv_hart_isa_string()));
        fdt_check(f, fdt_setprop_string(fdt, cpu, "riscv,isa-base", "rv64i"));
        fdt_check(f, fdt_setprop(fdt, cpu, "riscv,isa-extensions", exts, (int)exts_len));
        fdt_check(f, fdt_setprop_string(fdt, cpu, "mmu-type", mmu_type));
        fdt_check(f, fdt_setprop_u32(fdt, cpu, "riscv,cbom-block-size", 64));
        fdt_check(f, fdt_setprop_u32(fdt, cpu, "riscv,cboz-block-size", 64));
        fdt_check(f, fdt_setprop_u32(fdt, cpu, "riscv,cbop-block-size", 64));
        cpu_phandles[i] = rv_fdt_alloc_phandle(f, cpu);
        int intc = fdt_check(f, fdt_add_subnode(fdt, cpu, "interrupt-controller"));
        if (intc < 0)
            return;
        fdt_check(f, fdt_setprop_u32(fdt, intc, "#interrupt-cells", 1));
        fdt_check(f, fdt_setprop(fdt, intc, "interrupt-controller", NULL, 0));
        fdt_check(f, fdt_setprop_string(fdt, intc, "compatible", "riscv,cpu-intc"));
        vm->vcpus[i].intc_phandle = rv_fdt_alloc_phandle(f, intc);
    }
    /* cpu-map: one cluster with one core per hart (Linux topology binding). */
    int map = fdt_check(f, fdt_add_subnode(fdt, cpus, "cpu-map"));
    int cluster = map < 0 ? map : fdt_check(f, fdt_add_subnode(fdt, map, "cluster0"));
    for (int i = (int)vm->nharts - 1; i >= 0 && cluster >= 0; i--) {
        char name[32];
        snprintf(name, sizeof(name), "core%d", i);
        int core = fdt_check(f, fdt_add_subnode(fdt, cluster, name));
        if (core >= 0)
            fdt_check(f, fdt_setprop_u32(fdt, core, "cpu", cpu_phandles[i]));
    }
}

static void fdt_skeleton(struct rv_vm *vm, struct rv_fdt *f)
{
    void *fdt = f->blob;
    fdt_check(f, fdt_setprop_u32(fdt, 0, "#address-cells", 2));
    fdt_check(f, fdt_setprop_u32(fdt, 0, "#size-cells", 2));
    fdt_check(f, fdt_setprop_string(fdt, 0, "compatible", "riscv-virtio"));
    fdt_check(f, fdt_setprop_string(fdt, 0, "model", "rvisor virt"));
    /* Nodes are prepended: add in reverse of the desired order. */
    f->soc = fdt_check(f, fdt_add_subnode(fdt, 0, "soc"));
    if (f->soc >= 0) {
        fdt_check(f, fdt_setprop_u32(fdt, f->soc, "#address-cells", 2));
        fdt_check(f, fdt_setprop_u32(fdt, f->soc, "#size-cells", 2));
        fdt_check(f, fdt_setprop_string(fdt, f->soc, "compatible", "simple-bus"));
        fdt_check(f, fdt_setprop(fdt, f->soc, "ranges", NULL, 0));
    }
    char name[32];
    snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)VIRT_RAM_BASE);
    int mem = fdt_check(f, fdt_add_subnode(fdt, 0, name));
    if (mem >= 0) {
        fdt_check(f, fdt_setprop_string(fdt, mem, "device_type", "memory"));
        fdt64_t reg[2] = {cpu_to_fdt64(VIRT_RAM_BASE), cpu_to_fdt64(vm->bus.ram_size)};
        fdt_check(f, fdt_setprop(fdt, mem, "reg", reg, sizeof(reg)));
    }
    fdt_cpus(vm, f);
    int chosen = fdt_check(f, fdt_add_subnode(fdt, 0, "chosen"));
    if (chosen >= 0) {
        uint8_t seed[64];
        if (getrandom(seed, sizeof(seed), 0) == (ssize_t)sizeof(seed))
            fdt_check(f, fdt_setprop(fdt, chosen, "rng-seed", seed, sizeof(seed)));
    }
}

/* Settings that depend on the configuration, also applied to a user-provided tree. */
static int fdt_chosen(struct rv_vm *vm, void *fdt)
{
    int chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen == -FDT_ERR_NOTFOUND)
        chosen = fdt_add_subnode(fdt, 0, "chosen");
    if (chosen < 0)
        return chosen;
    int rc = 0;
    if (vm->cfg.append)
        rc = fdt_setprop_string(fdt, chosen, "bootargs", vm->cfg.append);
    /* Placeholders filled in by boot_prepare() once the initrd has an address. */
    if (!rc && vm->initrd.fd >= 0)
        rc = fdt_setprop_u64(fdt, chosen, "linux,initrd-start", 0);
    if (!rc && vm->initrd.fd >= 0)
        rc = fdt_setprop_u64(fdt, chosen, "linux,initrd-end", 0);
    int uart = fdt_node_offset_by_compatible(fdt, -1, "ns16550a");
    if (!rc && uart >= 0 && !fdt_getprop(fdt, chosen, "stdout-path", NULL)) {
        char path[128];
        rc = fdt_get_path(fdt, uart, path, sizeof(path));
        if (!rc)
            rc = fdt_setprop_string(fdt, chosen, "stdout-path", path);
    }
    return rc;
}

static int board_devices(struct rv_vm *vm, struct rv_fdt *f)
{
    uint32_t phandles[RV_MAX_HARTS];
    for (unsigned i = 0; i < vm->nharts; i++)
        phandles[i] = vm->vcpus[i].intc_phandle;
    struct rv_plic_host plic_host = {plic_set_eip, vm};
    int rc = rv_plic_create(&vm->iomap, f, VIRT_PLIC_BASE, vm->nharts, phandles, &plic_host,
                            &vm->plic);
    struct rv_aclint_host aclint_host = {
        .get_time = aclint_get_time, .set_time = aclint_set_time,
        .set_mtimecmp = aclint_set_mtimecmp, .set_msip = aclint_set_msip,
        .set_ssip = aclint_set_ssip, .opaque = vm,
    };
    if (!rc)
        rc = rv_aclint_create(&vm->iomap, f, vm->nharts, phandles, &aclint_host, &vm->aclint);
    struct rv_irq irq;
    if (!rc) {
        rv_plic_irq(vm->plic, VIRT_UART_IRQ, &irq);
        rc = rv_uart_create(&vm->iomap, f, VIRT_UART_BASE, &irq, &vm->console, &vm->uart);
    }
    if (!rc) {
        rv_plic_irq(vm->plic, VIRT_RTC_IRQ, &irq);
        rc = rv_rtc_create(&vm->iomap, f, VIRT_RTC_BASE, &irq, &vm->rtc);
    }
    if (!rc) {
        rv_plic_irq(vm->plic, VIRT_VMGENID_IRQ, &irq);
        rc = rv_vmgenid_create(&vm->iomap, f, VIRT_VMGENID_BASE, &irq, &vm->vmgenid);
    }
    if (!rc)
        rc = rv_syscon_create(&vm->iomap, f, VIRT_TEST_BASE, syscon_power, vm, &vm->syscon);
    if (!rc)
        rc = board_virtio(vm, f);
    return rc;
}

int board_create(struct rv_vm *vm)
{
    void *blob = calloc(1, FDT_MAX);
    if (!blob)
        return rv_error_set(-ENOMEM, "out of memory");
    struct rv_fdt f = {.blob = blob, .soc = -1};
    int rc;
    if (vm->dtb_file) {
        /* A user-provided tree describes the board; rvisor still builds its devices. */
        rc = fdt_open_into(vm->dtb_file, blob, FDT_MAX);
        if (rc) {
            free(blob);
            return rv_error_set(-EINVAL, "%s: not a valid device tree blob: %s", vm->cfg.dtb,
                                fdt_strerror(rc));
        }
        for (unsigned i = 0; i < vm->nharts; i++)
            vm->vcpus[i].intc_phandle = 0;
        struct rv_fdt none = {.blob = NULL, .soc = -1};
        rc = board_devices(vm, &none);
    } else {
        fdt_create_empty_tree(blob, FDT_MAX);
        fdt_skeleton(vm, &f);
        rc = board_devices(vm, &f);
        if (!rc && f.error)
            rc = rv_error_set(-EINVAL, "device tree: %s", fdt_strerror(f.error));
    }
    if (!rc) {
        int frc = fdt_chosen(vm, blob);
        if (!frc)
            frc = fdt_pack(blob);
        if (frc)
            rc = rv_error_set(-EINVAL, "device tree: %s", fdt_strerror(frc));
    }
    if (rc) {
        free(blob);
        return rc;
    }
    vm->fdt = blob;
    vm->fdt_len = fdt_totalsize(blob);
    return 0;
}
