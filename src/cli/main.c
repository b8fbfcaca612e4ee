/* rvisor command line: a thin front end over the library (include/rvisor/). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rvisor/vm.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rvisor run --bios PROGRAM [--ram SIZE]\n"
            "\n"
            "  run           boot a virtual machine\n"
            "    --bios FILE   bare-metal program (ELF or raw binary) started in M-mode at its\n"
            "                  entry point; HTIF tohost/fromhost give console and exit status\n"
            "    --ram SIZE    guest RAM at 0x80000000, e.g. 256M or 2G (default 128M)\n"
            "\n"
            "rvisor exits with the guest's exit status, or 125 if the VM failed.\n");
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        return -1;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k') shift = 10, end++;
    else if (*end == 'M' || *end == 'm') shift = 20, end++;
    else if (*end == 'G' || *end == 'g') shift = 30, end++;
    if (*end || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    struct rv_vm_config cfg = {.console_fd = 1};
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--bios") == 0 && val) {
            cfg.bios = val;
            i++;
        } else if (strcmp(arg, "--ram") == 0 && val) {
            if (parse_size(val, &cfg.ram_size)) {
                fprintf(stderr, "rvisor: bad RAM size '%s'\n", val);
                return 125;
            }
            i++;
        } else {
            fprintf(stderr, "rvisor: unknown or incomplete option '%s'\n", arg);
            usage(stderr);
            return 125;
        }
    }
    struct rv_vm *vm;
    if (rv_vm_create(&cfg, &vm)) {
        fprintf(stderr, "rvisor: %s\n", rv_error_get());
        return 125;
    }
    int status = 0;
    int rc = rv_vm_run(vm, &status);
    if (rc)
        fprintf(stderr, "rvisor: %s\n", rv_error_get());
    rv_vm_destroy(vm);
    fflush(stdout);
    return rc ? 125 : status;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 125;
}
