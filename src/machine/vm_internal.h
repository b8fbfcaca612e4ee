/* The VM object shared by the files of src/machine/ (not a public interface). */
#ifndef RV_MACHINE_VM_INTERNAL_H
#define RV_MACHINE_VM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cpu/hart.h"
#include "cpu/uwin.h"
#include "jit/jit.h"
#include "dev/device.h"
#include "machine/loader.h"
#include "machine/vm_debug.h"
#include "rvisor/state.h"
#include "rvisor/vm.h"

/* QEMU virt memory map (hw/riscv/virt.c) */
#define VIRT_TEST_BASE   0x00100000ull
#define VIRT_RTC_BASE    0x00101000ull
#define VIRT_VMGENID_BASE 0x00102000ull
#define VIRT_PLIC_BASE   0x0c000000ull
#define VIRT_UART_BASE   0x10000000ull
#define VIRT_VIRTIO_BASE 0x10001000ull
#define VIRT_POWER_BUTTON_BASE 0x10009000ull /* after the eight slots (free on QEMU virt) */
#define VIRT_RAM_BASE    0x80000000ull
#define VIRT_UART_IRQ    10
#define VIRT_RTC_IRQ     11
#define VIRT_VMGENID_IRQ 12
#define VIRT_POWER_BUTTON_IRQ 9
#define VIRT_TIMEBASE_HZ 10000000ull

/* SBI HSM hart states (SBI spec 9.1) */
enum vcpu_hsm {
    HSM_STARTED = 0,
    HSM_STOPPED = 1,
    HSM_START_PENDING = 2,
    HSM_STOP_PENDING = 3,
    HSM_SUSPENDED = 4,
};

struct rv_vcpu {
    struct rv_vm *vm;
    struct rv_hart *hart;
    unsigned id;
    struct rv_jit *jit;     /* the hart's translator; NULL: the interpreter runs it */
    struct rv_uwin *uwin;   /* its host-MMU window (cpu/uwin.h), or NULL */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;   /* protects the fields below and the sleep/wake handshake */
    pthread_cond_t cond;
    bool kicked;            /* something changed: re-check interrupts and requests */
    bool asleep;            /* blocked in WFI (vm_wait_for_interrupt): it flushes on waking */
    bool sbi_restart;       /* an SBI call gave way to a pause: the ecall runs again */
    uint64_t fence_lo, fence_hi; /* the virtual addresses of the remote fence being sent
                                    (sbi.c; lo > hi: FENCE.I) */
    enum vcpu_hsm hsm;      /* read by other harts through SBI HSM get_status */
    uint64_t start_addr, start_opaque; /* for HSM_START_PENDING */
    uint32_t intc_phandle;  /* device-tree phandle of this hart's interrupt controller */
    _Atomic uint64_t exits[RV_VM_EXIT_REASONS]; /* run-loop exits by enum rv_exit */
    bool dbg_watch_stop;    /* the last debug run stopped at a watchpoint, at dbg_watch_pc */
    uint64_t dbg_watch_pc;
};

enum vm_power { VM_RUNNING, VM_POWER_OFF, VM_RESET, VM_FATAL };

struct rv_vm {
    struct rv_vm_config cfg;
    struct rv_bus bus;
    struct rv_iomap iomap;
    pthread_mutex_t dev_lock;  /* the device lock (dev/device.h "Concurrency") */
    unsigned nharts;
    struct rv_vcpu vcpus[RV_MAX_HARTS];
    struct rv_jit_group *jit_group; /* translated-code tracking (cfg.accel = RV_ACCEL_JIT) */
    int ram_fd;                 /* memfd holding guest RAM (bus.ram maps it shared), or -1 */
    struct rv_uwin_budget uwin_budget; /* the harts' host-MMU windows share it */
    struct timespec t0;        /* host time of mtime = 0 */
    _Atomic uint64_t mtime_offset; /* added to host-derived ticks (guest writes to mtime) */

    /* boot images, kept for a reboot: the kernel and initrd as open files (loaded straight
     * into guest RAM), the small firmware and device tree in memory */
    struct rv_image_file kernel, initrd;
    uint8_t *bios, *dtb_file;
    size_t bios_len, dtb_file_len;
    uint8_t *fdt;              /* the device tree the guest gets */
    size_t fdt_len;
    uint64_t fdt_addr, initrd_addr, kernel_entry, bios_entry, fw_info_addr;
    bool monitor;              /* rvisor is the M-mode firmware (no --bios) */

    /* devices */
    struct rv_plic *plic;
    struct rv_aclint *aclint;
    struct rv_uart *uart;
    struct rv_rtc *rtc;
    struct rv_vmgenid *vmgenid;
    struct rv_syscon *syscon;
    struct rv_htif *htif;
    struct rv_virtio_balloon *balloon;
    struct rv_virtio_console *vconsole; /* console input goes here when present */
    struct rv_virtio_input *power_button; /* NULL with cfg.no_power_button */
    struct rv_virtio_blk *blks[RV_MAX_DISKS]; /* cfg.disks[i], quiesced for snapshots */
    struct rv_virtio_net *nets[RV_MAX_NICS];
    char *disk_specs[RV_MAX_DISKS]; /* the image each disk uses now (snapshots switch it) */

    /* state (vm_state.c, vm_migrate.c) */
    bool restored;             /* harts hold restored state: the first run does not boot */
    bool images_dropped;       /* boot images closed (restored VMs): opened again on reset */
    char *owned[32];          /* strings cfg points to, for VMs made from a state stream */
    struct vm_migration *migration; /* the outgoing migration, or NULL */
    _Atomic bool migration_final; /* the stop-and-copy holds the harts: no resume */
    struct rv_console console;

    struct rv_vm_host_info host; /* set once by the front end, before rv_vm_run() */
    int statm_fd;              /* /proc/self/statm, kept open (readable in the sandbox) */

    /* power state: written under power_lock, read by hart threads without it */
    pthread_mutex_t power_lock;
    pthread_cond_t power_cond;
    _Atomic int power;         /* enum vm_power */
    int exit_status;
    char fatal_msg[256];
    _Atomic bool pause_req;    /* harts park at their next slice boundary (vm_control.c) */
    unsigned parked;           /* harts parked (under power_lock; changes broadcast power_cond) */
    bool harts_live;           /* rv_vm_run() has (or is creating) hart threads (power_lock) */

    /* console input (console.c) */
    int wake_pipe[2];          /* wakes the I/O thread: quit, resize */
    pthread_t io_thread;
    bool io_started;
    uint8_t in_buf[256];       /* input not yet accepted by the UART (under dev_lock) */
    size_t in_len;
    int escape_state;          /* 0 normal, 1 after C-a, 2 reading a monitor command */
    char monitor_line[128];
    size_t monitor_len;
    int out_fd;
    pthread_mutex_t out_lock;  /* serializes console output and the panic matcher */
    unsigned panic_match;      /* characters of PANIC_TEXT matched so far */
    _Atomic uint64_t panic_at; /* CLOCK_MONOTONIC ns when the guest printed a panic, or 0 */

    /* debugger (vm_debug.c); the fields below dbg_halt are under power_lock */
    bool dbg_enabled;
    _Atomic bool dbg_halt;     /* harts park as for pause_req, except those in dbg_release */
    _Atomic uint32_t dbg_release; /* harts (bit i: hart i) the debugger lets run while halted */
    _Atomic uint32_t dbg_step; /* of those, the harts that execute one instruction */
    _Atomic bool dbg_active;   /* run with rv_debug_run(): points set, a step or an insn trace */
    bool dbg_stop_pending;     /* dbg_stop holds a stop not yet taken */
    struct rv_vm_stop dbg_stop;
    int dbg_notify_fd;
    struct rv_debug_points dbg_points; /* changed only while every hart is parked */

    /* tracing and exit statistics */
    struct rv_vm_tracer tracer;
    _Atomic uint64_t sbi_calls[RV_VM_SBI_EXTS];   /* by extension (rv_vm_sbi_ext_names) */
    uint64_t mmio_reads[RV_MAX_REGIONS];         /* by iomap region, under dev_lock */
    uint64_t mmio_writes[RV_MAX_REGIONS];
};

/* vm.c */
uint64_t vm_time(struct rv_vm *vm);
uint64_t vm_hart_time(void *opaque); /* vm_time() as a struct rv_hart time source */
void vm_kick(struct rv_vcpu *v);
/* Sleeps while the hart waits for an interrupt (WFI, SBI suspend): until an enabled interrupt
 * is pending, a kick, or the next timer deadline. */
void vm_wait_for_interrupt(struct rv_vcpu *v);
/* Puts the hart in the state SBI HSM start and non-retentive resume give it. */
void vm_hart_enter_s(struct rv_vcpu *v, uint64_t pc, uint64_t opaque);
void vm_power(struct rv_vm *vm, enum vm_power action, int status);
void vm_fatal(struct rv_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* vm_control.c: parks the calling hart thread while a pause or a debugger halt holds it */
bool vm_should_park(struct rv_vcpu *v);
void vm_park(struct rv_vcpu *v);

/* vm_debug.c: runs the hart under rv_debug_run() (breakpoints, watchpoints, step, trace) and
 * reports debugger stops; *stepping tells whether this was a single step. */
bool vm_debug_active(struct rv_vm *vm);
enum rv_exit vm_debug_run(struct rv_vcpu *v, uint64_t budget, bool *stepping);
/* The end of a single step that ended another way than RV_EXIT_DEBUG (an SBI call, WFI, a
 * hart not started). */
void vm_debug_step_done(struct rv_vcpu *v);
bool vm_debug_stepping(struct rv_vcpu *v);
/* vm.c: frees the boot images (a restored VM needs them only for a reboot, which reads them
 * again): a clone does not keep a private copy of the kernel. */
void vm_drop_images(struct rv_vm *vm);

/* vm_state.c */
/* Parks the disk and NIC workers (rings consistent, nothing in flight) and back. */
void vm_devices_quiesce(struct rv_vm *vm);
void vm_devices_resume(struct rv_vm *vm);
/* Flushes every harts' TLB (the harts are parked): the next store to each page refills and
 * marks it dirty (cpu/bus.h). */
void vm_flush_tlbs(struct rv_vm *vm);
struct rv_stream;
/* Writes CONFIG (first) and the records that follow the RAM: CLOCK, DEVICE*, HART* (VM
 * paused, devices quiesced). */
int vm_state_write_config(struct rv_vm *vm, struct rv_stream *s);
int vm_state_write_machine(struct rv_vm *vm, struct rv_stream *s);
/* Reads a state stream after its header into a new VM (snapshot restore and incoming
 * migration). */
struct vm_loader_opts {
    const struct rv_restore_opts *ro;
    const char *overlay_base;  /* restore: disk overlays are named after it; NULL: use the
                                  disks as the stream names them (migration) */
    struct rv_restore_result *res; /* may be NULL */
    /* May change the configuration read before the VM is built (the fuzz target points it at
     * its own firmware); NULL: none. */
    void (*adjust)(void *opaque, struct rv_vm_config *cfg);
    void *adjust_opaque;
};
int vm_state_load(struct rv_stream *s, const struct vm_loader_opts *lo, struct rv_vm **out);
void vm_migration_free(struct rv_vm *vm);
/* After a hand-over the destination did not confirm: lets rv_vm_resume() continue the VM
 * (devices resumed). -EBUSY while a migration is still finishing. */
int vm_migration_release(struct rv_vm *vm);
/* -EBUSY (with a message) while a migration is under way or its hand-over is unconfirmed:
 * snapshots and new migrations wait for that. */
int vm_migration_busy(struct rv_vm *vm);

/* vm_storage.c: disks copied along with a migration (--copy-storage). Source: start turns on
 * dirty tracking of every writable disk with all of it pending; collect takes the chunks
 * written since (returns how many are pending); send sends the pending ones; free turns
 * tracking off (workers_paused: the disk workers are quiesced already). */
struct vm_storage;
int vm_storage_start(struct rv_vm *vm, struct vm_storage **out);
uint64_t vm_storage_collect(struct vm_storage *st);
int vm_storage_send(struct vm_storage *st, struct rv_stream *s);
uint64_t vm_storage_bytes(const struct vm_storage *st);
void vm_storage_free(struct vm_storage *st, bool workers_paused);
/* Destination: apply takes a RV_SEC_DISK_DATA record (*in is made on the first); target is
 * the image the destination was given for disk i (--disk), or NULL; finish checks that each
 * one given is a copy target or read-only and closes them; in_free removes the files it
 * created if `failed`. */
struct vm_storage_in;
int vm_storage_apply(struct vm_storage_in **in, const struct rv_restore_opts *ro,
                     const uint8_t *p, size_t len);
const char *vm_storage_target(struct vm_storage_in *in, const struct rv_restore_opts *ro,
                              unsigned i);
int vm_storage_finish(struct vm_storage_in *in, const struct rv_restore_opts *ro);
void vm_storage_in_free(struct vm_storage_in *in, bool failed);

/* board.c: builds devices and the device tree for the configuration */
int board_create(struct rv_vm *vm);
/* board_virtio.c: the virtio-mmio slots */
int board_virtio(struct rv_vm *vm, struct rv_fdt *f);

/* boot.c: loads firmware/kernel/initrd/dtb into RAM and sets the boot harts' registers */
int boot_prepare(struct rv_vm *vm);
void boot_reset_harts(struct rv_vm *vm);

/* sbi.c: answers an SBI call (RV_EXIT_ECALL) of hart v */
void sbi_handle(struct rv_vcpu *v);

/* console.c */
void console_output(void *opaque, const uint8_t *buf, size_t len);
int console_start(struct rv_vm *vm);
void console_stop(struct rv_vm *vm);
/* Bytes of pending console input for SBI DBCN reads (called with dev_lock held). */
size_t console_read(struct rv_vm *vm, uint8_t *buf, size_t len);

/* vm.c: guest RAM as a shared memfd mapping (*fd, or private memory and *fd = -1); NULL if
 * neither can be had. */
void *vm_ram_alloc(uint64_t size, int *fd);
/* vm.c: guest RAM was replaced by memory that is not memfd `vm->ram_fd`'s (a snapshot mapped
 * privately): host-MMU windows are turned off. */
void vm_ram_fd_lost(struct rv_vm *vm);
/* vm.c: guest RAM was replaced by the pages of memfd `fd` (the VM owns it now). */
void vm_ram_fd_replace(struct rv_vm *vm, int fd);

#endif
