/* `rvisor run` debugging options and the --stats report (stats.h). */
#include "cli/stats.h"

#include <inttypes.h>
#include <stdio.h>

#include "debug/gdbstub.h"
#include "debug/symbols.h"
#include "debug/trace.h"
#include "machine/vm_debug.h"

int cli_debug_start(struct cli_debug *d, struct rv_vm *vm, const struct rv_vm_config *cfg)
{
    if (d->wait && !d->gdb) {
        fprintf(stderr, "rvisor: --gdb-wait (-S) needs --gdb (or -s)\n");
        return -1;
    }
    if (d->symbols) {
        if (rv_symbols_load(d->symbols, &d->syms)) {
            fprintf(stderr, "rvisor: --symbols: %s\n", rv_error_get());
            return -1;
        }
    } else if (d->trace) {
        /* the program's own symbols when it is an ELF that has them (quietly otherwise) */
        const char *img = cfg->bios ? cfg->bios : cfg->kernel;
        if (img && rv_symbols_load(img, &d->syms))
            d->syms = NULL;
    }
    if (d->trace) {
        if (rv_trace_open(d->trace, d->syms, &d->tr)) {
            fprintf(stderr, "rvisor: %s\n", rv_error_get());
            return -1;
        }
        rv_vm_set_tracer(vm, rv_trace_hooks(d->tr));
    }
    if (d->gdb) {
        if (rv_gdbstub_start(vm, d->gdb, d->wait, &d->stub)) {
            fprintf(stderr, "rvisor: %s\n", rv_error_get());
            return -1;
        }
        fprintf(stderr, "rvisor: gdb stub on port %u%s\n", rv_gdbstub_port(d->stub),
                d->wait ? ", harts held at reset until the debugger continues" : "");
    }
    return 0;
}

void cli_debug_finish(struct cli_debug *d, struct rv_vm *vm, int status)
{
    rv_gdbstub_stop(d->stub, status);
    d->stub = NULL;
    if (d->stats)
        cli_print_stats(vm, stderr);
    rv_trace_close(d->tr);
    d->tr = NULL;
    rv_symbols_free(d->syms);
    d->syms = NULL;
}

static void print_causes(FILE *out, const char *what, const uint64_t *counts,
                         const char *const *names)
{
    for (unsigned c = 0; c < RV_VM_TRAP_CAUSES; c++) {
        if (!counts[c])
            continue;
        if (names[c])
            fprintf(out, "    %-10s %-22s %12" PRIu64 "\n", what, names[c], counts[c]);
        else
            fprintf(out, "    %-10s cause %-16u %12" PRIu64 "\n", what, c, counts[c]);
    }
}

void cli_print_stats(struct rv_vm *vm, FILE *out)
{
    struct rv_vm_stats st;
    rv_vm_get_stats(vm, &st);
    fprintf(out, "rvisor: exit statistics\n");
    for (unsigned i = 0; i < st.nharts; i++) {
        const struct rv_vm_hart_stats *h = &st.harts[i];
        fprintf(out, "  hart %u: %" PRIu64 " instructions, %" PRIu64 " TLB misses\n", i,
                h->instret, h->tlb_misses);
        for (unsigned e = 0; e < RV_VM_EXIT_REASONS; e++)
            if (h->exits[e])
                fprintf(out, "    exit       %-22s %12" PRIu64 "\n", rv_vm_exit_names[e],
                        h->exits[e]);
        print_causes(out, "exception", h->exceptions, rv_vm_exception_names);
        print_causes(out, "interrupt", h->interrupts, rv_vm_interrupt_names);
    }
    fprintf(out, "  SBI calls:\n");
    for (unsigned e = 0; e < RV_VM_SBI_EXTS; e++)
        if (st.sbi_calls[e])
            fprintf(out, "    %-33s %12" PRIu64 "\n", rv_vm_sbi_ext_names[e], st.sbi_calls[e]);
    fprintf(out, "  MMIO accesses (reads / writes):\n");
    for (unsigned i = 0; i < st.ndevices; i++) {
        const struct rv_vm_device_stats *dv = &st.devices[i];
        if (dv->reads || dv->writes)
            fprintf(out, "    %-16s @0x%-10" PRIx64 " %12" PRIu64 " / %" PRIu64 "\n", dv->name,
                    dv->base, dv->reads, dv->writes);
    }
}
