/* rvisor public API: create, run and destroy a virtual machine. */
#ifndef RVISOR_VM_H
#define RVISOR_VM_H

#include <stdint.h>

struct rv_vm;

struct rv_vm_config {
    uint64_t ram_size;  /* bytes of guest RAM at 0x80000000; 0 means 128 MiB */
    const char *bios;   /* bare-metal program (ELF or raw) started in M-mode */
    int console_fd;     /* guest console output (HTIF); normally 1 */
};

/* Builds a VM from `cfg`. Returns 0, or a negative errno with rv_error_get() set. */
int rv_vm_create(const struct rv_vm_config *cfg, struct rv_vm **out);

/* Runs the VM until the guest powers off or fails. On a clean finish returns 0 and sets
 * *exit_status to the guest's exit status. */
int rv_vm_run(struct rv_vm *vm, int *exit_status);

void rv_vm_destroy(struct rv_vm *vm);

/* Message for the last failure on this thread. */
const char *rv_error_get(void);

#endif
