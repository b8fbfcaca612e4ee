/* rvuser: runs a static RV64 Linux user program on the rvisor hart, qemu-user style, so that
 * the differential tests can compare it with qemu-riscv64.
 *
 *   rvuser [--stats] [--max-insns N] [--accel interp|jit|lockstep] PROG.ELF
 *
 * The ELF's PT_LOAD segments are copied into guest RAM at their virtual addresses (RAM starts
 * at guest-physical 0, no paging), and the hart runs in U-mode with rvisor as the M-mode
 * monitor: nothing is delegated, so a U-mode ecall leaves rv_hart_run() as RV_EXIT_ECALL and
 * is handled here as a Linux syscall (write and exit only; the generated programs need no
 * more). Any other trap is reported on stderr with exit status 3. --stats prints the retired
 * instruction count on stderr.
 *
 * --accel picks the execution engine: the interpreter (default, the reference), the binary
 * translator (src/jit), or both in lockstep: two copies of the program, one per engine, run
 * for the same pseudo-random budgets and must agree on every register, pc, instret and exit
 * after each run, and on memory every few runs and at the end (exit status 4 otherwise). */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "cpu/csr.h"
#include "cpu/hart.h"
#include "jit/jit.h"

#define RAM_SIZE (64ull << 20)
#define EXIT_TRAP 3
#define EXIT_MISMATCH 4

static int load_elf(const char *path, struct rv_bus *bus, uint64_t *entry)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    Elf64_Ehdr eh;
    int rc = -1;
    if (fread(&eh, sizeof eh, 1, f) != 1 || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_machine != EM_RISCV || eh.e_phentsize != sizeof(Elf64_Phdr)) {
        fprintf(stderr, "rvuser: %s: not a little-endian RV64 ELF\n", path);
        goto out;
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (fseek(f, (long)(eh.e_phoff + (uint64_t)i * sizeof ph), SEEK_SET) ||
            fread(&ph, sizeof ph, 1, f) != 1) {
            fprintf(stderr, "rvuser: %s: truncated program headers\n", path);
            goto out;
        }
        if (ph.p_type != PT_LOAD)
            continue;
        if (ph.p_filesz > ph.p_memsz || !rv_bus_in_ram(bus, ph.p_vaddr, ph.p_memsz)) {
            fprintf(stderr, "rvuser: %s: segment at 0x%" PRIx64 " does not fit in RAM\n", path,
                    (uint64_t)ph.p_vaddr);
            goto out;
        }
        uint8_t *dst = rv_bus_ram_ptr(bus, ph.p_vaddr);
        if (fseek(f, (long)ph.p_offset, SEEK_SET) ||
            fread(dst, 1, ph.p_filesz, f) != ph.p_filesz) {
            fprintf(stderr, "rvuser: %s: truncated segment\n", path);
            goto out;
        }
        memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
    }
    *entry = eh.e_entry;
    rc = 0;
out:
    fclose(f);
    return rc;
}

/* Linux write(2) on the guest's buffer. */
static int64_t sys_write(struct rv_hart *h, uint64_t fd, uint64_t buf, uint64_t len)
{
    if (fd != 1 && fd != 2)
        return -EBADF;
    if (!rv_bus_in_ram(h->bus, buf, len))
        return -EFAULT;
    FILE *out = fd == 1 ? stdout : stderr;
    return (int64_t)fwrite(rv_bus_ram_ptr(h->bus, buf), 1, len, out);
}

static const char *cause_name(uint64_t cause)
{
    static const char *const names[] = {
        "instruction address misaligned", "instruction access fault", "illegal instruction",
        "breakpoint", "load address misaligned", "load access fault",
        "store/AMO address misaligned", "store/AMO access fault", "ecall from U",
        "ecall from S", "?", "ecall from M", "instruction page fault", "load page fault", "?",
        "store/AMO page fault"};
    return cause < sizeof names / sizeof names[0] ? names[cause] : "?";
}

/* One copy of the program and its engine. */
struct uvm {
    struct rv_bus bus;
    struct rv_hart *h;
    struct rv_jit_group *group;
    struct rv_jit *jit; /* NULL: the interpreter */
    int status;         /* exit status once the program ended, else -1 */
};

static int uvm_init(struct uvm *vm, const char *path, bool jit)
{
    *vm = (struct uvm){.bus = {.ram = calloc(1, RAM_SIZE), .ram_base = 0, .ram_size = RAM_SIZE},
                       .h = calloc(1, sizeof(*vm->h)), .status = -1};
    struct rv_hart *h = vm->h;
    uint64_t entry;
    if (!vm->bus.ram || !h) {
        fprintf(stderr, "rvuser: out of memory\n");
        return -1;
    }
    if (load_elf(path, &vm->bus, &entry))
        return -1;
    rv_hart_reset(h, 0, &vm->bus, entry);
    h->monitor_is_m = true;
    h->mstatus = (h->mstatus & ~MSTATUS_FS) | (uint64_t)FS_INITIAL << MSTATUS_FS_SHIFT;
    h->priv = RV_PRIV_U;
    rv_hart_update_mmu_idx(h);
    h->x[2] = RAM_SIZE; /* sp: top of RAM */
    if (jit && (rv_jit_group_create(&vm->bus, &vm->group) ||
                rv_jit_create(vm->group, h, &vm->jit))) {
        fprintf(stderr, "rvuser: %s\n", rv_error_get());
        return -1;
    }
    return 0;
}

static void uvm_free(struct uvm *vm)
{
    rv_jit_destroy(vm->jit);
    rv_jit_group_destroy(vm->group);
    free(vm->h);
    free(vm->bus.ram);
}

/* Runs up to `budget` instructions and handles the exit; `quiet`: no output (the lockstep
 * twin). Returns the exit. */
static enum rv_exit uvm_run(struct uvm *vm, uint64_t budget, bool quiet)
{
    struct rv_hart *h = vm->h;
    enum rv_exit why = vm->jit ? rv_jit_run(vm->jit, budget) : rv_hart_run(h, budget);
    switch (why) {
    case RV_EXIT_BUDGET:
        break;
    case RV_EXIT_ECALL: {
        uint64_t nr = h->x[17], *a = &h->x[10];
        if (nr == 64)
            a[0] = quiet ? (a[0] == 1 || a[0] == 2 ? a[2] : (uint64_t)-EBADF)
                         : (uint64_t)sys_write(h, a[0], a[1], a[2]);
        else if (nr == 93 || nr == 94)
            vm->status = (int)(a[0] & 0xff);
        else
            a[0] = (uint64_t)-ENOSYS;
        break;
    }
    case RV_EXIT_MTRAP:
        if (!quiet)
            fprintf(stderr,
                    "rvuser: trap: cause %" PRIu64 " (%s), tval 0x%" PRIx64 ", pc 0x%" PRIx64
                    "\n",
                    h->exit_cause, cause_name(h->exit_cause), h->exit_tval, h->exit_epc);
        vm->status = EXIT_TRAP;
        break;
    default:
        if (!quiet)
            fprintf(stderr, "rvuser: unexpected exit %d at pc 0x%" PRIx64 "\n", (int)why,
                    h->pc);
        vm->status = EXIT_TRAP;
        break;
    }
    return why;
}

/* Lockstep: the translator's state against the interpreter's; prints the differences. */
static bool same_state(const struct uvm *jit, const struct uvm *ref, enum rv_exit e1,
                       enum rv_exit e2, bool memory)
{
    const struct rv_hart *a = jit->h, *b = ref->h;
    bool same = true;
#define CMP(name, x, y)                                                                        \
    if ((x) != (y)) {                                                                          \
        fprintf(stderr, "rvuser: lockstep: %s: jit 0x%" PRIx64 ", interpreter 0x%" PRIx64 "\n", \
                name, (uint64_t)(x), (uint64_t)(y));                                           \
        same = false;                                                                          \
    }
    CMP("exit", e1, e2);
    CMP("pc", a->pc, b->pc);
    CMP("instret", a->instret, b->instret);
    CMP("priv", a->priv, b->priv);
    CMP("mstatus", a->mstatus, b->mstatus);
    CMP("fflags", a->fflags, b->fflags);
    CMP("frm", a->frm, b->frm);
    CMP("resv_valid", a->resv_valid, b->resv_valid);
    CMP("exit_cause", a->exit_cause, b->exit_cause);
    for (unsigned i = 0; i < 32; i++) {
        char name[8];
        snprintf(name, sizeof(name), "x%u", i);
        CMP(name, a->x[i], b->x[i]);
        snprintf(name, sizeof(name), "f%u", i);
        CMP(name, a->f[i], b->f[i]);
    }
#undef CMP
    if (memory && memcmp(jit->bus.ram, ref->bus.ram, RAM_SIZE) != 0) {
        for (uint64_t i = 0; i < RAM_SIZE; i += 8)
            if (memcmp(jit->bus.ram + i, ref->bus.ram + i, 8)) {
                fprintf(stderr, "rvuser: lockstep: memory differs first at 0x%" PRIx64 "\n", i);
                break;
            }
        same = false;
    }
    return same;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *accel = "interp";
    bool stats = false, bad_args = false;
    uint64_t max_insns = 1ull << 32;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--stats"))
            stats = true;
        else if (!strcmp(argv[i], "--max-insns") && i + 1 < argc)
            max_insns = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--accel") && i + 1 < argc)
            accel = argv[++i];
        else if (!strncmp(argv[i], "--accel=", 8))
            accel = argv[i] + 8;
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            bad_args = true;
    }
    bool lockstep = !strcmp(accel, "lockstep");
    if (!path || bad_args || (!lockstep && strcmp(accel, "jit") && strcmp(accel, "interp"))) {
        fprintf(stderr,
                "usage: rvuser [--stats] [--max-insns N] [--accel interp|jit|lockstep] PROG.ELF\n");
        return 2;
    }
    struct uvm vm, twin;
    if (uvm_init(&vm, path, lockstep || !strcmp(accel, "jit")) ||
        (lockstep && uvm_init(&twin, path, false)))
        return 2;

    uint64_t rng = 0x9e3779b97f4a7c15ull, round = 0;
    while (vm.status < 0) {
        if (vm.h->instret > max_insns) {
            fprintf(stderr, "rvuser: more than %" PRIu64 " instructions, pc 0x%" PRIx64 "\n",
                    max_insns, vm.h->pc);
            vm.status = EXIT_TRAP;
            break;
        }
        if (!lockstep) {
            uvm_run(&vm, 1u << 20, false);
            continue;
        }
        /* budgets from 1 to 4096, so that runs end anywhere inside blocks */
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        uint64_t budget = 1 + (rng >> 52);
        enum rv_exit e1 = uvm_run(&vm, budget, false);
        enum rv_exit e2 = uvm_run(&twin, budget, true);
        if (!same_state(&vm, &twin, e1, e2, vm.status >= 0 || ++round % 64 == 0)) {
            fprintf(stderr, "rvuser: lockstep: the translator diverged after instret %" PRIu64
                            " (run of %" PRIu64 ")\n", twin.h->instret, budget);
            vm.status = EXIT_MISMATCH;
        }
    }
    fflush(stdout);
    if (stats) {
        fprintf(stderr, "rvuser: instret %" PRIu64 "\n", vm.h->instret);
        if (vm.jit) {
            struct rv_jit_stats st;
            rv_jit_get_stats(vm.jit, &st);
            fprintf(stderr,
                    "rvuser: jit: %" PRIu64 " blocks, %" PRIu64 " guest instructions, %" PRIu64
                    " code bytes, %" PRIu64 " flushes, %" PRIu64 " invalidations\n",
                    st.blocks, st.guest_insns, st.code_bytes, st.flushes, st.invalidations);
        }
    }
    int status = vm.status;
    uvm_free(&vm);
    if (lockstep)
        uvm_free(&twin);
    return status;
}
