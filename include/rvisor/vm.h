/* rvisor public API: create, run and destroy a virtual machine. */
#ifndef RVISOR_VM_H
#define RVISOR_VM_H

#include <stdbool.h>
#include <stdint.h>

struct rv_vm;

#define RV_MAX_HARTS 8
#define RV_MAX_DISKS 4
#define RV_MAX_NICS 4

/* How harts execute guest code. */
enum rv_accel {
    RV_ACCEL_JIT,    /* binary translation to host code (the default) */
    RV_ACCEL_INTERP, /* the interpreter only (the reference) */
};

/* The largest virtual-memory scheme the harts implement (--mmu), as real cores differ: SiFive's
 * U74 (StarFive JH7110) has Sv39 only, others Sv48. A hart implements Bare and every scheme up
 * to its largest; the others are satp modes it ignores, so the guest kernel's probe falls back.
 * The values are the satp MODE encodings. */
enum rv_vm_mmu {
    RV_VM_MMU_DEFAULT = 0, /* rv_vm_create() picks RV_VM_MMU_SV57 */
    RV_VM_MMU_SV39 = 8,
    RV_VM_MMU_SV48 = 9,
    RV_VM_MMU_SV57 = 10,
};

/* "sv39", "sv48" or "sv57"; NULL for RV_VM_MMU_DEFAULT and values out of the enum. */
const char *rv_vm_mmu_name(enum rv_vm_mmu mmu);
/* The enum value of such a name; false if `name` is none of them. */
bool rv_vm_mmu_parse(const char *name, enum rv_vm_mmu *out);

struct rv_vm_config {
    uint64_t ram_size;   /* bytes of guest RAM at 0x80000000; 0 means 128 MiB */
    unsigned nharts;     /* number of harts; 0 means 1 */
    const char *kernel;  /* RISC-V Image, ELF or raw kernel started in S-mode; may be NULL */
    const char *initrd;  /* initial ramdisk; may be NULL */
    const char *append;  /* kernel command line; may be NULL */
    const char *bios;    /* M-mode firmware or bare-metal program (ELF or raw); NULL means
                            rvisor's built-in SBI firmware */
    const char *dtb;     /* device tree blob to use instead of the generated one; may be NULL */
    int console_in_fd;   /* console input, or -1 for none */
    int console_out_fd;  /* console output, or -1 to discard it */
    bool console_escapes; /* interpret Ctrl-A escapes on console input (Ctrl-A X quits) */
    bool no_reboot;      /* a guest reboot ends the run (RV_STATUS_REBOOT) instead of resetting */
    /* virtio devices (virtio-mmio slots 0x10001000 + 0x1000 * i, PLIC sources 1..8) */
    const char *disks[RV_MAX_DISKS]; /* "PATH[,format=raw|qcow2][,readonly][,cache=MODE]" */
    unsigned ndisks;
    const char *nics[RV_MAX_NICS];   /* "user[,hostfwd=..][,mac=..]", "tap,ifname=..", "switch:NAME" */
    unsigned nnics;
    bool rng;            /* virtio-rng (entropy from the host's getrandom) */
    bool balloon;        /* virtio-balloon */
    bool virtio_console; /* virtio-console (hvc0); console input then goes to it, not the UART */
    bool no_power_button; /* leave out the power button (virtio-input at 0x10009000, PLIC 9),
                             which rv_vm_press_power_button() presses */
    enum rv_accel accel; /* execution engine; RV_ACCEL_JIT falls back to the interpreter where
                            the host cannot run translated code */
    enum rv_vm_mmu mmu;  /* largest satp mode of the harts, the device tree's mmu-type */
};

/* Exit statuses of rv_vm_run() besides the guest's own (0 = powered off normally, 1..123 = the
 * guest reported that failure code). */
#define RV_STATUS_REBOOT 124  /* the guest rebooted and no_reboot was set */
#define RV_STATUS_ERROR  125  /* the monitor failed (bad input, fatal guest state) */
#define RV_STATUS_PANIC  126  /* the guest kernel panicked */

/* Builds a VM from `cfg` (files are read now). Returns 0, or a negative errno with
 * rv_error_get() set. */
int rv_vm_create(const struct rv_vm_config *cfg, struct rv_vm **out);

/* Writes the VM's device tree blob to `path`. */
int rv_vm_dump_dtb(struct rv_vm *vm, const char *path);

/* Runs the VM until the guest powers off or fails, and returns its exit status (above). On a
 * monitor error returns RV_STATUS_ERROR with rv_error_get() set. */
int rv_vm_run(struct rv_vm *vm);

/* Asks a running VM to stop as if powered off (from another thread or a signal handler
 * context that may call async-signal-safe functions only: this one is). */
void rv_vm_request_quit(struct rv_vm *vm);

void rv_vm_destroy(struct rv_vm *vm);

/* --- control of a running VM (src/machine/vm_control.c; the JSON API in src/hv/ uses these).
 * All are safe from any thread while rv_vm_run() runs on another one. --- */

#define RV_STATUS_KILLED 127  /* rv_vm_kill() ended the run */

/* The vCPU state machine (STYLE.md): running <-> paused -> stopped. */
enum rv_vm_state {
    RV_VM_RUNNING, /* harts execute guest code */
    RV_VM_PAUSED,  /* every hart is parked between two slices; guest time keeps running */
    RV_VM_STOPPED, /* powered off, killed or failed: the run is ending */
};

/* Exit reasons counted per hart (the cpu layer's enum rv_exit, in that order). */
#define RV_VM_EXIT_REASONS 6
extern const char *const rv_vm_exit_names[RV_VM_EXIT_REASONS]; /* "budget", "ecall", ... */

/* What the process around the VM enforces, set by the front end (rv_vm_set_host_info) so
 * that status reports can show it. */
struct rv_vm_host_info {
    bool sandbox;         /* the seccomp allowlist is installed on every thread */
    unsigned syscalls;    /* system calls on it */
    bool no_new_privs;
    bool mount_ns;        /* private mount namespace with an empty root */
    bool net_ns;          /* private network namespace */
    bool caps_dropped;    /* no capabilities on any thread */
    char cpu_limit[160];  /* how CPU limits are enforced, "" for none */
    char io_limits[160];  /* disk and network rate limits, "" for none */
};

/* Memory of the VM process: guest RAM and what the monitor adds. */
struct rv_vm_memory {
    uint64_t ram_resident;     /* bytes of guest RAM backed by host memory (mincore) */
    uint64_t jit_reserved;     /* bytes mapped for the translator: code caches and block
                                  metadata of every hart (virtual, mostly never touched) */
    uint64_t jit_resident;     /* of those, bytes backed by host memory */
    uint64_t process_rss;      /* resident set of the whole process (/proc/self/statm,
                                  opened at creation), 0 if unknown */
    uint64_t monitor_rss;      /* process_rss - ram_resident: what the monitor itself uses */
};

struct rv_vm_info {
    enum rv_vm_state state;
    unsigned nharts;      /* harts (vCPUs) */
    uint64_t ram_size;    /* bytes of guest RAM */
    uint64_t uptime_ns;   /* since rv_vm_create() */
    bool jit;             /* harts run translated code (false: the interpreter) */
    enum rv_vm_mmu mmu;   /* largest virtual-memory scheme of the harts (never DEFAULT) */
    bool balloon;         /* a virtio-balloon device is present */
    bool power_button;    /* the power button is present */
    bool power_button_driver; /* ... and a guest driver uses it (a press reaches the guest) */
    struct rv_vm_host_info host;
};

/* SBI calls are counted by extension: base, time, ipi, rfence, hsm, srst, dbcn, legacy (the
 * v0.1 calls), other (anything unsupported). */
#define RV_VM_SBI_EXTS 9
extern const char *const rv_vm_sbi_ext_names[RV_VM_SBI_EXTS];

/* Trap causes counted one by one; causes from RV_VM_TRAP_CAUSES - 1 up share the last slot. */
#define RV_VM_TRAP_CAUSES 24
/* Names of exception and interrupt causes (priv spec table 3.6); NULL for reserved ones. */
extern const char *const rv_vm_exception_names[RV_VM_TRAP_CAUSES];
extern const char *const rv_vm_interrupt_names[RV_VM_TRAP_CAUSES];

#define RV_VM_MAX_DEVICES 64

struct rv_vm_hart_stats {
    uint64_t instret;                     /* instructions retired since the last reset */
    uint64_t exits[RV_VM_EXIT_REASONS];   /* exits of the hart's run loop, by reason */
    uint64_t exceptions[RV_VM_TRAP_CAUSES]; /* exceptions taken, by cause */
    uint64_t interrupts[RV_VM_TRAP_CAUSES]; /* interrupts taken, by cause */
    uint64_t tlb_misses;                  /* TLB fills (page walks for the TLB) */
    bool jit;                             /* the jit_* fields are valid */
    uint64_t jit_blocks, jit_guest_insns, jit_code_bytes, jit_flushes, jit_invalidations;
};

struct rv_vm_device_stats {
    const char *name;     /* the device model's name ("uart", "plic", "virtio-mmio" ...) */
    uint64_t base;        /* guest-physical address of its registers */
    uint64_t reads, writes; /* MMIO accesses by the harts */
};

struct rv_vm_stats {
    unsigned nharts;
    struct rv_vm_hart_stats harts[RV_MAX_HARTS];
    uint64_t sbi_calls[RV_VM_SBI_EXTS];   /* SBI calls answered by rvisor, by extension */
    unsigned ndevices;
    struct rv_vm_device_stats devices[RV_VM_MAX_DEVICES];
    bool balloon;         /* the balloon_* fields are valid */
    uint64_t balloon_target_pages, balloon_actual_pages, balloon_released_pages;
};

enum rv_vm_state rv_vm_state(struct rv_vm *vm);
void rv_vm_get_info(struct rv_vm *vm, struct rv_vm_info *out);
void rv_vm_set_host_info(struct rv_vm *vm, const struct rv_vm_host_info *info);
/* Measures the process's memory now (a walk over guest RAM with mincore: milliseconds). */
void rv_vm_get_memory(struct rv_vm *vm, struct rv_vm_memory *out);
/* Counters are read without stopping the harts: while running they may lag by one slice. */
void rv_vm_get_stats(struct rv_vm *vm, struct rv_vm_stats *out);
/* Parks every hart after its current slice and returns once all are parked. -EALREADY if
 * paused, -ESRCH if stopped. */
int rv_vm_pause(struct rv_vm *vm);
/* -EALREADY if running, -ESRCH if stopped. */
int rv_vm_resume(struct rv_vm *vm);
/* Powers the machine off the way the syscon power-off register does (exit status 0): harts
 * stop at an instruction boundary, devices flush and close. The guest OS is not told (see
 * rv_vm_press_power_button() for that). -ESRCH if stopped. */
int rv_vm_request_poweroff(struct rv_vm *vm);
/* The ACPI-like request: presses and releases KEY_POWER on the board's power button (a
 * virtio-input device) so that the guest shuts down by itself; the run ends when it powers
 * off. -ENODEV without the device or while no guest driver uses it, -EBUSY if earlier presses
 * still wait for the guest, -ESRCH if stopped. */
int rv_vm_press_power_button(struct rv_vm *vm);
/* Ends the run at once with RV_STATUS_KILLED. -ESRCH if stopped. */
int rv_vm_kill(struct rv_vm *vm);
/* A hardware reset (as the syscon reset register): with no_reboot the run ends with
 * RV_STATUS_REBOOT. A paused VM stays paused after the reset. -ESRCH if stopped. */
int rv_vm_reset(struct rv_vm *vm);
/* Asks the balloon to leave the guest `guest_bytes` of RAM (a whole number of MiB,
 * 1 MiB..RAM size). -ENODEV without a balloon, -EINVAL out of range. */
int rv_vm_balloon(struct rv_vm *vm, uint64_t guest_bytes);

/* Message for the last failure on this thread. */
const char *rv_error_get(void);

#endif
