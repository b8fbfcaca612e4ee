/* rvisor command line: a thin front end over the library (include/rvisor/). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli/ctl.h"
#include "cli/img.h"
#include "cli/manage.h"
#include "cli/net.h"
#include "cli/run_managed.h"
#include "cli/state_cli.h"
#include "cli/stats.h"
#include "debug/gdbstub.h"
#include "debug/trace.h"
#include "cli/vol.h"
#include "cli/isolation.h"
#include "core/log.h"
#include "hv/api.h"
#include "rvisor/state.h"
#include "rvisor/vm.h"

#ifndef RVISOR_FETCH_SCRIPT
#define RVISOR_FETCH_SCRIPT "guest/fetch-debian.sh"
#endif

#define DEFAULT_APPEND "console=ttyS0"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: rvisor run [options]\n"
        "       rvisor img create|info|check ...   (disk images; rvisor img --help)\n"
        "       rvisor ctl SOCKET REQUEST [KEY=VALUE ...]   (control a running VM;\n"
        "                                                    rvisor ctl --help)\n"
        "       rvisor snapshot SOCKET FILE [--mappable]     (save a running VM's state)\n"
        "       rvisor restore FILE [--clone] [--console MODE] [--api-socket PATH] ...\n"
        "       rvisor migrate SOCKET --to tcp:HOST:PORT [--bandwidth MIB] [--max-rounds N]\n"
        "                      [--copy-storage]\n"
        "       rvisor serve|create|start|stop|kill|delete|info|list|console|vm ...\n"
        "                                           (many VMs: rvisor serve --help)\n"
        "       rvisor vol COMMAND ...   (volume manager: PVs, VGs, LVs, NBD; rvisor vol --help)\n"
        "       rvisor net create|list|delete|stats|capture ...   (virtual networks;\n"
        "                                                    rvisor net --help)\n"
        "\n"
        "Boots a RISC-V virtual machine. Without --kernel and --bios it boots the default\n"
        "Debian guest (Debian's riscv64 kernel and a busybox initramfs, fetched on first use).\n"
        "\n"
        "  --kernel FILE      kernel: RISC-V Image, ELF or raw binary, started in S-mode\n"
        "  --initrd FILE      initial ramdisk\n"
        "  --append STRING    kernel command line (default \"" DEFAULT_APPEND "\" for the\n"
        "                     default guest)\n"
        "  --bios FILE        M-mode firmware (e.g. OpenSBI fw_dynamic/fw_jump) or a bare-metal\n"
        "                     program; without it rvisor itself is the SBI firmware\n"
        "  --dtb FILE         use this device tree blob instead of the generated one\n"
        "  --mem SIZE         guest RAM, e.g. 512M or 2G (default 128M, or 512M for the\n"
        "                     default guest)\n"
        "  --smp N            number of harts (default 1, at most 8)\n"
        "  --mmu TYPE         largest virtual-memory scheme of the harts: sv39 (default),\n"
        "                     sv48 or sv57; smaller ones are implemented too\n"
        "  --accel MODE       jit (default): translate guest code to host code; interp: the\n"
        "                     interpreter only (also --accel=MODE)\n"
        "  --console MODE     stdio (default), file:PATH (output only), none, or\n"
        "                     socket:PATH[,log=FILE] (served on a unix socket for\n"
        "                     `rvisor console`; output also appended to FILE)\n"
        "  --status-file PATH write the exit status to PATH when the run ends\n"
        "  --dump-dtb FILE    write the generated device tree blob to FILE and exit\n"
        "  --no-reboot        exit (status 124) when the guest reboots, instead of resetting\n"
        "  --disk SPEC        virtio-blk disk: PATH[,format=raw|qcow2][,readonly]\n"
        "                     or vol:VG/LV (a logical volume, docs/volumes.md)\n"
        "                     [,cache=writeback|none|unsafe][,iops=N][,bw=BYTES]\n"
        "                     (repeatable, up to 4; iops and bw per second: rate limits)\n"
        "  --net SPEC         virtio-net NIC: user[,hostfwd=tcp::HOSTPORT-:GUESTPORT]...\n"
        "                     or tap,ifname=NAME, or switch:NETWORK (rvisor net); add\n"
        "                     ,mac=52:54:00:xx:xx:xx and ,rate=BYTES (per second, each\n"
        "                     direction) (up to 4)\n"
        "  --rng              virtio-rng: entropy from the host (on for the default guest)\n"
        "  --balloon          virtio-balloon: the guest can return memory to the host\n"
        "  --virtio-console   virtio-console (hvc0): console input goes to it, not the UART\n"
        "  --no-power-button  leave out the power button (virtio-input) that the API's\n"
        "                     poweroff presses\n"
        "  --escapes          interpret C-a escapes even when stdin is not a terminal\n"
        "  --api-socket PATH  serve the control API (docs/api.md) on a unix socket at PATH\n"
        "  --incoming tcp:HOST:PORT  wait for a live migration (rvisor migrate) and run the\n"
        "                     VM it brings (docs/state.md); machine options do not apply,\n"
        "                     except --disk: the images that receive disks copied along\n"
        "                     (migrate --copy-storage; created if missing)\n"
        "  --gdb tcp:HOST:PORT  serve the GDB remote protocol (docs/debugging.md); -s is\n"
        "                     --gdb tcp:127.0.0.1:1234\n"
        "  --gdb-wait, -S     hold the harts at reset until the debugger continues them\n"
        "  --trace=WHAT[,file=PATH]  trace insn, exits, mmio and/or sbi (comma-separated)\n"
        "                     to stderr or PATH\n"
        "  --symbols FILE     symbols for traces: an ELF or a System.map/kallsyms file\n"
        "                     (default: the --bios or --kernel ELF's own)\n"
        "  --stats            print exit statistics (SBI calls, MMIO, traps, TLB) on exit\n"
        "  --cpu-quota PCT    CPU time limit in %% of one CPU (250 = 2.5 CPUs); needs a cgroup\n"
        "                     cpu controller (v2, or v1 as a fallback)\n"
        "  --cpu-weight N     CPU share 1..10000 (100 = default), cgroup cpu.weight; nice\n"
        "                     without a cgroup cpu controller\n"
        "  --no-sandbox       do not sandbox the VM process (seccomp allowlist, namespaces\n"
        "                     and dropped capabilities, docs/sandbox.md): for debugging\n"
        "  --private-net      as root, a private network namespace even with a control API\n"
        "                     (no live migration then unless a user or tap NIC is there)\n"
        "\n"
        "Console escapes (stdio): C-a x quits, C-a c opens the monitor (balloon, quit),\n"
        "C-a h lists the escapes.\n"
        "Exit status: the guest's (0 after poweroff), 124 guest reboot under --no-reboot,\n"
        "125 rvisor error, 126 guest kernel panic, 127 killed through the control API.\n");
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *s == '-')
        return -1;
    unsigned shift = 20; /* plain numbers are MiB, as with QEMU's -m */
    if (*end == 'K' || *end == 'k') shift = 10, end++;
    else if (*end == 'M' || *end == 'm') shift = 20, end++;
    else if (*end == 'G' || *end == 'g') shift = 30, end++;
    else if (*end == 'B' || *end == 'b') shift = 0, end++;
    if (*end || v == 0 || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

/* --- the terminal: raw mode while the guest owns it, restored on every exit path --- */

static struct termios saved_termios;
static int termios_saved;
static struct rv_vm *running_vm;

static void terminal_restore(void)
{
    if (termios_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        termios_saved = 0;
    }
}

static void terminal_raw(void)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) != 0)
        return;
    termios_saved = 1;
    atexit(terminal_restore);
    struct termios raw = saved_termios;
    cfmakeraw(&raw);
    raw.c_oflag |= OPOST | ONLCR; /* host-side messages keep their line breaks */
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

static void on_signal(int sig)
{
    (void)sig;
    if (running_vm)
        rv_vm_request_quit(running_vm);
}

/* The default guest lives in ~/.cache/rvisor/debian (or $RVISOR_CACHE/debian). */
static int default_guest(char *kernel, char *initrd, size_t size)
{
    const char *cache = getenv("RVISOR_CACHE");
    const char *home = getenv("HOME");
    char dir[512];
    if (cache)
        snprintf(dir, sizeof(dir), "%s/debian", cache);
    else
        snprintf(dir, sizeof(dir), "%s/.cache/rvisor/debian", home ? home : ".");
    snprintf(kernel, size, "%s/Image", dir);
    snprintf(initrd, size, "%s/initrd.img", dir);
    struct stat st;
    if (stat(kernel, &st) == 0 && stat(initrd, &st) == 0)
        return 0;
    fprintf(stderr, "rvisor: fetching the default Debian guest (%s)\n", RVISOR_FETCH_SCRIPT);
    int rc = system(RVISOR_FETCH_SCRIPT);
    if (rc != 0 || stat(kernel, &st) != 0 || stat(initrd, &st) != 0) {
        fprintf(stderr, "rvisor: could not fetch the default guest; run %s or give --kernel\n",
                RVISOR_FETCH_SCRIPT);
        return -1;
    }
    return 0;
}

/* `rvisor run`, or `rvisor restore FILE` when `restore` is set (then the machine comes from
 * the snapshot, and only the console, API, status and debug options apply). */
static int cmd_run(int argc, char **argv, const char *restore, bool clone)
{
    struct rv_vm_config cfg = {.console_in_fd = STDIN_FILENO, .console_out_fd = STDOUT_FILENO};
    const char *dump_dtb = NULL, *console = "stdio", *api_socket = NULL, *status_file = NULL;
    const char *incoming = NULL;
    bool escapes = false;
    struct cli_debug dbg = {0};
    struct rv_isolation iso = {0};
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int taken = isolation_option(&iso, arg, val);
        if (taken < 0)
            return RV_STATUS_ERROR;
        if (taken) {
            i += taken - 1;
            continue;
        }
        if (strcmp(arg, "--no-reboot") == 0) {
            cfg.no_reboot = true;
            continue;
        }
        if (strcmp(arg, "--rng") == 0) {
            cfg.rng = true;
            continue;
        }
        if (strcmp(arg, "--balloon") == 0) {
            cfg.balloon = true;
            continue;
        }
        if (strcmp(arg, "--no-power-button") == 0) {
            cfg.no_power_button = true;
            continue;
        }
        if (strcmp(arg, "--virtio-console") == 0) {
            cfg.virtio_console = true;
            continue;
        }
        if (strcmp(arg, "--escapes") == 0) {
            escapes = true;
            continue;
        }
        if (strcmp(arg, "-s") == 0) {
            dbg.gdb = "tcp:127.0.0.1:1234";
            continue;
        }
        if (strcmp(arg, "-S") == 0 || strcmp(arg, "--gdb-wait") == 0) {
            dbg.wait = true;
            continue;
        }
        if (strcmp(arg, "--stats") == 0) {
            dbg.stats = true;
            continue;
        }
        if (strncmp(arg, "--trace=", 8) == 0) {
            dbg.trace = arg + 8;
            continue;
        }
        if (strncmp(arg, "--accel", 7) == 0 && (arg[7] == '=' || (arg[7] == 0 && val))) {
            const char *mode = arg[7] == '=' ? arg + 8 : argv[++i];
            if (strcmp(mode, "jit") == 0) {
                cfg.accel = RV_ACCEL_JIT;
            } else if (strcmp(mode, "interp") == 0) {
                cfg.accel = RV_ACCEL_INTERP;
            } else {
                fprintf(stderr, "rvisor: --accel takes jit or interp\n");
                return RV_STATUS_ERROR;
            }
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (!val || strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "rvisor: unknown or incomplete option '%s' (see rvisor run --help)\n",
                    arg);
            return RV_STATUS_ERROR;
        }
        i++;
        if (strcmp(arg, "--kernel") == 0) cfg.kernel = val;
        else if (strcmp(arg, "--initrd") == 0) cfg.initrd = val;
        else if (strcmp(arg, "--append") == 0) cfg.append = val;
        else if (strcmp(arg, "--bios") == 0) cfg.bios = val;
        else if (strcmp(arg, "--dtb") == 0) cfg.dtb = val;
        else if (strcmp(arg, "--dump-dtb") == 0) dump_dtb = val;
        else if (strcmp(arg, "--console") == 0) console = val;
        else if (strcmp(arg, "--api-socket") == 0) api_socket = val;
        else if (strcmp(arg, "--incoming") == 0) incoming = val;
        else if (strcmp(arg, "--status-file") == 0) status_file = val;
        else if (strcmp(arg, "--gdb") == 0) dbg.gdb = val;
        else if (strcmp(arg, "--trace") == 0) dbg.trace = val;
        else if (strcmp(arg, "--symbols") == 0) dbg.symbols = val;
        else if (strcmp(arg, "--disk") == 0) {
            if (cfg.ndisks == RV_MAX_DISKS) {
                fprintf(stderr, "rvisor: at most %d disks\n", RV_MAX_DISKS);
                return RV_STATUS_ERROR;
            }
            cfg.disks[cfg.ndisks++] = val;
        } else if (strcmp(arg, "--net") == 0) {
            if (cfg.nnics == RV_MAX_NICS) {
                fprintf(stderr, "rvisor: at most %d network interfaces\n", RV_MAX_NICS);
                return RV_STATUS_ERROR;
            }
            cfg.nics[cfg.nnics++] = val;
        }
        else if (strcmp(arg, "--mem") == 0 || strcmp(arg, "--ram") == 0) {
            if (parse_size(val, &cfg.ram_size)) {
                fprintf(stderr, "rvisor: bad memory size '%s'\n", val);
                return RV_STATUS_ERROR;
            }
        } else if (strcmp(arg, "--smp") == 0) {
            char *end;
            long n = strtol(val, &end, 10);
            if (*end || n < 1 || n > RV_MAX_HARTS) {
                fprintf(stderr, "rvisor: --smp takes 1..%d\n", RV_MAX_HARTS);
                return RV_STATUS_ERROR;
            }
            cfg.nharts = (unsigned)n;
        } else if (strcmp(arg, "--mmu") == 0) {
            if (!rv_vm_mmu_parse(val, &cfg.mmu)) {
                fprintf(stderr, "rvisor: --mmu takes sv39, sv48 or sv57, not '%s'\n", val);
                return RV_STATUS_ERROR;
            }
        } else {
            fprintf(stderr, "rvisor: unknown option '%s' (see rvisor run --help)\n", arg);
            return RV_STATUS_ERROR;
        }
    }
    char kernel[600], initrd[600];
    if (!cfg.kernel && !cfg.bios && !restore && !incoming) {
        if (default_guest(kernel, initrd, sizeof(kernel)))
            return RV_STATUS_ERROR;
        cfg.kernel = kernel;
        cfg.initrd = initrd;
        if (!cfg.ram_size)
            cfg.ram_size = 512ull << 20;
        cfg.rng = true;
        if (!cfg.append)
            cfg.append = DEFAULT_APPEND;
    }
    int out_file = -1;
    struct rv_console_server *console_server = NULL;
    int status_fd = rv_cli_status_open(status_file);
    if (status_fd == -2)
        return RV_STATUS_ERROR;
    if (strcmp(console, "stdio") == 0) {
        cfg.console_escapes = escapes || isatty(STDIN_FILENO);
    } else if (strcmp(console, "none") == 0) {
        cfg.console_in_fd = cfg.console_out_fd = -1;
    } else if (strncmp(console, "file:", 5) == 0) {
        out_file = open(console + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out_file < 0) {
            fprintf(stderr, "rvisor: %s: %s\n", console + 5, strerror(errno));
            return RV_STATUS_ERROR;
        }
        cfg.console_in_fd = -1;
        cfg.console_out_fd = out_file;
    } else if (strncmp(console, "socket:", 7) == 0) {
        if (rv_cli_console_socket(console + 7, &cfg.console_in_fd, &cfg.console_out_fd,
                                  &console_server))
            return RV_STATUS_ERROR;
    } else {
        fprintf(stderr, "rvisor: --console takes stdio, file:PATH, socket:PATH or none\n");
        return RV_STATUS_ERROR;
    }
    /* The debugging aids (a gdb server, traces) make calls the allowlist does not have, and
     * a gdb server must be reachable from the host's network: they run without the sandbox. */
    if ((dbg.gdb || dbg.trace) && !iso.no_sandbox) {
        rv_info("--gdb/--trace: running without the sandbox");
        iso.no_sandbox = true;
    }
#ifdef RV_SANITIZE_BUILD
    /* AddressSanitizer reads /proc/self/maps and sets up signal stacks as threads start: a
     * sanitizer build (make asan) runs without the sandbox; tests/sandbox checks the real one. */
    if (!iso.no_sandbox) {
        rv_info("sanitizer build: running without the sandbox");
        iso.no_sandbox = true;
    }
#endif
    iso.runtime_io = api_socket || restore || incoming;
    iso.api_socket = api_socket;
    iso.migration_net = api_socket || incoming;
    if (!dump_dtb && isolation_begin(&iso, &cfg)) {
        if (out_file >= 0)
            close(out_file);
        rv_console_server_stop(console_server);
        rv_cli_status_write(status_fd, RV_STATUS_ERROR);
        return RV_STATUS_ERROR;
    }
    struct rv_vm *vm;
    int crc = restore || incoming ? rv_cli_vm_from_state(restore, clone, incoming, &cfg, &vm)
                                  : rv_vm_create(&cfg, &vm);
    if (crc) {
        fprintf(stderr, "rvisor: %s\n", rv_error_get());
        rv_console_server_stop(console_server);
        rv_cli_status_write(status_fd, RV_STATUS_ERROR);
        isolation_end(&iso);
        return RV_STATUS_ERROR;
    }
    if (dump_dtb) {
        int rc = rv_vm_dump_dtb(vm, dump_dtb);
        if (rc)
            fprintf(stderr, "rvisor: %s\n", rv_error_get());
        rv_vm_destroy(vm);
        rv_console_server_stop(console_server);
        return rc ? RV_STATUS_ERROR : 0;
    }
    struct rv_api_server *api = NULL;
    if (api_socket && rv_api_server_start(vm, api_socket, &api)) {
        fprintf(stderr, "rvisor: control API: %s\n", rv_error_get());
        rv_vm_destroy(vm);
        rv_console_server_stop(console_server);
        rv_cli_status_write(status_fd, RV_STATUS_ERROR);
        isolation_end(&iso);
        return RV_STATUS_ERROR;
    }
    if (cli_debug_start(&dbg, vm, &cfg)) {
        dbg.stats = false;
        cli_debug_finish(&dbg, vm, RV_STATUS_ERROR);
        rv_api_server_stop(api);
        rv_vm_destroy(vm);
        rv_console_server_stop(console_server);
        rv_cli_status_write(status_fd, RV_STATUS_ERROR);
        isolation_end(&iso);
        return RV_STATUS_ERROR;
    }
    running_vm = vm;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* After the last sigaction: it is not on the allowlist. */
    if (isolation_lock(&iso, vm, api)) {
        running_vm = NULL;
        dbg.stats = false;
        cli_debug_finish(&dbg, vm, RV_STATUS_ERROR);
        rv_api_server_stop(api);
        rv_vm_destroy(vm);
        rv_console_server_stop(console_server);
        rv_cli_status_write(status_fd, RV_STATUS_ERROR);
        isolation_end(&iso);
        return RV_STATUS_ERROR;
    }
    if (strcmp(console, "stdio") == 0)
        terminal_raw();
    int status = rv_vm_run(vm);
    terminal_restore();
    if (status == RV_STATUS_ERROR)
        fprintf(stderr, "rvisor: %s\n", rv_error_get());
    else if (status == RV_STATUS_PANIC)
        fprintf(stderr, "rvisor: the guest kernel panicked\n");
    cli_debug_finish(&dbg, vm, status); /* stats, the debugger told, trace closed */
    if (api) /* the API stays until `rvisor migrate` has read the result (at most 10 s) */
        rv_vm_migrate_linger(vm, 10000);
    rv_api_server_stop(api); /* before the VM it controls goes away */
    running_vm = NULL;
    rv_vm_destroy(vm);
    rv_console_server_stop(console_server); /* after the VM: its last output is logged */
    isolation_end(&iso);
    if (out_file >= 0)
        close(out_file);
    rv_cli_status_write(status_fd, status);
    return status;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 2, argv + 2, NULL, false);
    if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
        return rv_cli_ctl(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "net") == 0)
        return rv_cli_net(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "img") == 0)
        return rv_cli_img(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "restore") == 0) {
        /* rvisor restore FILE [--clone] [run options] */
        if (argc < 3 || argv[2][0] == '-') {
            fprintf(stderr, "rvisor: restore takes a snapshot FILE first (see rvisor --help)\n");
            return RV_STATUS_ERROR;
        }
        int n = 0;
        bool clone = false;
        for (int i = 3; i < argc; i++) {
            if (strcmp(argv[i], "--clone") == 0)
                clone = true;
            else
                argv[3 + n++] = argv[i];
        }
        return cmd_run(n, argv + 3, argv[2], clone);
    }
    if (argc >= 2 && strcmp(argv[1], "snapshot") == 0)
        return rv_cli_snapshot(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "migrate") == 0)
        return rv_cli_migrate(argc - 2, argv + 2);
    if (argc >= 2 && rv_cli_is_manage_command(argv[1]))
        return rv_cli_manage(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "vol") == 0)
        return rv_cli_vol(argc - 2, argv + 2);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return RV_STATUS_ERROR;
}
