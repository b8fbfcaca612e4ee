/* Boot: placing firmware, kernel, initrd and device tree in guest RAM, and the state harts
 * start in (SBI spec "Boot" conventions; Linux Documentation/arch/riscv/boot.rst). */
#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "cpu/csr.h"
#include "cpu/mmu.h"
#include "dev/htif.h"
#include "machine/loader.h"
#include "machine/vm_internal.h"

#define MiB (1ull << 20)
#define KERNEL_OFFSET (2 * MiB) /* RV64 kernels run at RAM + 2 MiB (boot-image-header.rst) */

/* OpenSBI fw_dynamic handover block (OpenSBI docs/firmware/fw_dynamic.md), version 2. */
#define FW_DYNAMIC_MAGIC 0x4942534full
#define FW_DYNAMIC_VERSION 2

static uint64_t align_down(uint64_t v, uint64_t a)
{
    return v & ~(a - 1);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static void htif_exit(void *opaque, int status)
{
    vm_power(opaque, VM_POWER_OFF, status);
}

/* Firmware or bare-metal program for --bios: ELF at its addresses, raw at the start of RAM. */
static int load_bios(struct rv_vm *vm, uint64_t *end)
{
    if (vm->bios_len >= 4 && memcmp(vm->bios, "\177ELF", 4) == 0) {
        struct rv_elf_info info;
        int rc = rv_load_elf(&vm->bus, vm->bios, vm->bios_len, &info);
        if (rc)
            return rv_error_prefix(rc, "%s: ", vm->cfg.bios);
        vm->bios_entry = info.entry;
        *end = info.high;
        if (info.tohost && !vm->htif) {
            struct rv_htif_host host = {
                .bus = &vm->bus, .finish = htif_exit, .opaque = vm, .console = vm->console,
            };
            rc = rv_htif_create(&vm->iomap, &host, info.tohost, info.fromhost, &vm->htif);
            if (rc)
                return rv_error_prefix(rc, "%s: ", vm->cfg.bios);
        }
        return 0;
    }
    int rc = rv_load_raw(&vm->bus, vm->bios, vm->bios_len, VIRT_RAM_BASE);
    if (rc)
        return rv_error_prefix(rc, "%s: ", vm->cfg.bios);
    vm->bios_entry = VIRT_RAM_BASE;
    *end = VIRT_RAM_BASE + vm->bios_len;
    return 0;
}

/* The first bytes of a kernel file: enough for an Image's header and its PE section table. */
#define KERNEL_HEAD 4096

/* An ELF kernel: read whole (they are small: test programs, not distribution kernels). */
static int load_kernel_elf(struct rv_vm *vm, uint64_t *end)
{
    size_t len = vm->kernel.len;
    uint8_t *k = malloc(len);
    if (!k)
        return rv_error_set(-ENOMEM, "%s: out of memory", vm->cfg.kernel);
    struct rv_elf_info info;
    int rc = rv_image_pread(&vm->kernel, k, len, 0);
    if (!rc)
        rc = rv_load_elf(&vm->bus, k, len, &info);
    free(k);
    if (rc)
        return rv_error_prefix(rc, "%s: ", vm->cfg.kernel);
    vm->kernel_entry = info.entry;
    *end = info.high;
    return 0;
}

/* The kernel: RISC-V Image (header honoured), ELF, or raw at RAM + 2 MiB. */
static int load_kernel(struct rv_vm *vm, uint64_t *end)
{
    size_t len = vm->kernel.len;
    const char *path = vm->cfg.kernel;
    uint8_t head[KERNEL_HEAD];
    size_t head_len = len < sizeof(head) ? len : sizeof(head);
    int rc = rv_image_pread(&vm->kernel, head, head_len, 0);
    if (rc)
        return rv_error_prefix(rc, "%s: ", path);
    if (head_len >= 4 && memcmp(head, "\177ELF", 4) == 0)
        return load_kernel_elf(vm, end);
    struct rv_image_info img;
    rc = rv_parse_image(head, head_len, len, &img);
    if (rc == -ENOENT) { /* not an Image: a raw binary */
        img.text_offset = KERNEL_OFFSET;
        img.image_size = len;
    } else if (rc) {
        return rv_error_prefix(rc, "%s: ", path);
    }
    uint64_t addr = VIRT_RAM_BASE + img.text_offset;
    uint64_t size = img.image_size > len ? img.image_size : len;
    if (!rv_bus_in_ram(&vm->bus, addr, size))
        return rv_error_set(-EFBIG, "%s: kernel of %llu MiB does not fit in %llu MiB of RAM",
                            path, (unsigned long long)(size >> 20),
                            (unsigned long long)(vm->bus.ram_size >> 20));
    rc = rv_load_file(&vm->bus, vm->ram_fd, &vm->kernel, addr);
    if (rc)
        return rv_error_prefix(rc, "%s: ", path);
    /* The Image's bss is part of image_size: it must start zeroed. */
    memset(rv_bus_ram_ptr(&vm->bus, addr + len), 0, size - len);
    vm->kernel_entry = addr;
    *end = addr + size;
    return 0;
}

static int fdt_set_u64(void *fdt, const char *path, const char *name, uint64_t v)
{
    int node = fdt_path_offset(fdt, path);
    if (node < 0)
        return node;
    return fdt_setprop_u64(fdt, node, name, v);
}

int boot_prepare(struct rv_vm *vm)
{
    uint64_t ram_end = VIRT_RAM_BASE + vm->bus.ram_size;
    uint64_t low_end = VIRT_RAM_BASE; /* end of what the firmware and kernel occupy */
    int rc;
    if (vm->bios && (rc = load_bios(vm, &low_end)))
        return rc;
    if (vm->kernel.fd >= 0) {
        if (vm->bios && low_end > VIRT_RAM_BASE + KERNEL_OFFSET)
            return rv_error_set(-EINVAL, "%s: firmware reaches into the kernel at RAM + 2 MiB",
                                vm->cfg.bios);
        uint64_t kend = 0;
        if ((rc = load_kernel(vm, &kend)))
            return rc;
        if (kend > low_end)
            low_end = kend;
    }
    /* Device tree near the top of RAM (below 3 GiB, as QEMU does), 2 MiB aligned; the page
     * below it holds the fw_dynamic block; the initrd goes right under that. */
    uint64_t top = ram_end < 0xc0000000ull ? ram_end : 0xc0000000ull;
    if (top < VIRT_RAM_BASE + 4 * MiB)
        top = ram_end;
    vm->fdt_addr = align_down(top - vm->fdt_len, 2 * MiB);
    vm->fw_info_addr = vm->fdt_addr - 4096;
    uint64_t free_top = vm->fw_info_addr;
    if (vm->initrd.fd >= 0) {
        if (vm->initrd.len > free_top - VIRT_RAM_BASE)
            return rv_error_set(-EFBIG, "%s: initrd of %zu MiB is larger than RAM",
                                vm->cfg.initrd, vm->initrd.len >> 20);
        vm->initrd_addr = align_down(free_top - vm->initrd.len, 4096);
        free_top = vm->initrd_addr;
    }
    if (free_top < align_up(low_end, 4096))
        return rv_error_set(-EFBIG, "kernel, initrd and device tree do not fit in %llu MiB of "
                                    "RAM",
                            (unsigned long long)(vm->bus.ram_size >> 20));
    if (vm->initrd.fd >= 0) {
        rc = rv_load_file(&vm->bus, vm->ram_fd, &vm->initrd, vm->initrd_addr);
        if (rc)
            return rv_error_prefix(rc, "%s: ", vm->cfg.initrd);
        rc = fdt_set_u64(vm->fdt, "/chosen", "linux,initrd-start", vm->initrd_addr);
        if (!rc)
            rc = fdt_set_u64(vm->fdt, "/chosen", "linux,initrd-end",
                             vm->initrd_addr + vm->initrd.len);
        if (rc)
            return rv_error_set(-EINVAL, "device tree: cannot set the initrd: %s",
                                fdt_strerror(rc));
    }
    rv_load_raw(&vm->bus, vm->fdt, vm->fdt_len, vm->fdt_addr);
    if (vm->bios && vm->kernel.fd >= 0) {
        uint64_t info[6] = {FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, vm->kernel_entry,
                            RV_PRIV_S, 0, (uint64_t)-1 /* any hart may boot */};
        rv_load_raw(&vm->bus, (const uint8_t *)info, sizeof(info), vm->fw_info_addr);
    }
    return 0;
}

/* What rvisor's built-in firmware does before entering the kernel, like OpenSBI: delegate
 * every exception and S-level interrupt the kernel handles itself, let S/U read the
 * counters, and enable Sstc, Svadu, Svpbmt and the cache-block operations. */
static void firmware_setup(struct rv_hart *h)
{
    h->monitor_is_m = true;
    rv_csr_write(h, CSR_MEDELEG, 0xb3ffull & ~(1ull << EXC_ECALL_S));
    rv_csr_write(h, CSR_MIDELEG, MIP_SSIP | MIP_STIP | MIP_SEIP);
    rv_csr_write(h, CSR_MCOUNTEREN, 0xffffffffull);
    /* Linux leaves scounteren alone unless its SBI PMU driver probes: user-mode rdtime (the
     * vDSO's clock_gettime) needs TM, as OpenSBI sets at hart init. */
    rv_csr_write(h, CSR_SCOUNTEREN, 0x7);
    rv_csr_write(h, CSR_MENVCFG, ENVCFG_STCE | ENVCFG_ADUE | ENVCFG_PBMTE | ENVCFG_CBZE |
                                     ENVCFG_CBCFE | (1ull << 4) /* CBIE: flush */);
}

void boot_reset_harts(struct rv_vm *vm)
{
    for (unsigned i = 0; i < vm->nharts; i++) {
        struct rv_vcpu *v = &vm->vcpus[i];
        struct rv_hart *h = v->hart;
        h->time_read = vm_hart_time;
        h->time_opaque = vm;
        h->satp_modes = rv_hart_satp_modes(vm->cfg.mmu); /* before restored satp values */
        if (!vm->monitor) {
            /* Firmware mode: every hart enters the firmware in M-mode (OpenSBI picks a boot
             * hart itself). */
            h->pc = vm->bios_entry;
            h->x[10] = i;
            h->x[11] = vm->fdt_addr;
            h->x[12] = vm->fw_info_addr;
            v->hsm = HSM_STARTED;
            continue;
        }
        firmware_setup(h);
        if (i == 0) {
            h->priv = RV_PRIV_S;
            h->pc = vm->kernel_entry;
            h->x[10] = 0;
            h->x[11] = vm->fdt_addr;
            rv_hart_update_mmu_idx(h);
            v->hsm = HSM_STARTED;
        } else {
            v->hsm = HSM_STOPPED; /* until the kernel starts it through SBI HSM */
        }
    }
}
