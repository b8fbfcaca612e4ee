/* rvuser: runs a static RV64 Linux user program on the rvisor hart, qemu-user style, so that
 * the differential tests can compare it with qemu-riscv64.
 *
 *   rvuser [--stats] [--max-insns N] PROG.ELF
 *
 * The ELF's PT_LOAD segments are copied into guest RAM at their virtual addresses (RAM starts
 * at guest-physical 0, no paging), and the hart runs in U-mode with rvisor as the M-mode
 * monitor: nothing is delegated, so a U-mode ecall leaves rv_hart_run() as RV_EXIT_ECALL and
 * is handled here as a Linux syscall (write and exit only; the generated programs need no
 * more). Any other trap is reported on stderr with exit status 3. --stats prints the retired
 * instruction count on stderr. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/csr.h"
#include "cpu/hart.h"

#define RAM_SIZE (64ull << 20)
#define EXIT_TRAP 3

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

int main(int argc, char **argv)
{
    const char *path = NULL;
    bool stats = false, bad_args = false;
    uint64_t max_insns = 1ull << 32;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--stats"))
            stats = true;
        else if (!strcmp(argv[i], "--max-insns") && i + 1 < argc)
            max_insns = strtoull(argv[++i], NULL, 0);
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            bad_args = true;
    }
    if (!path || bad_args) {
        fprintf(stderr, "usage: rvuser [--stats] [--max-insns N] PROG.ELF\n");
        return 2;
    }
    struct rv_bus bus = {.ram = calloc(1, RAM_SIZE), .ram_base = 0, .ram_size = RAM_SIZE};
    struct rv_hart *h = calloc(1, sizeof(*h));
    uint64_t entry;
    if (!bus.ram || !h) {
        fprintf(stderr, "rvuser: out of memory\n");
        return 2;
    }
    if (load_elf(path, &bus, &entry))
        return 2;

    rv_hart_reset(h, 0, &bus, entry);
    h->monitor_is_m = true;
    h->mstatus = (h->mstatus & ~MSTATUS_FS) | (uint64_t)FS_INITIAL << MSTATUS_FS_SHIFT;
    h->priv = RV_PRIV_U;
    rv_hart_update_mmu_idx(h);
    h->x[2] = RAM_SIZE; /* sp: top of RAM */

    int status = -1;
    while (status < 0) {
        if (h->instret > max_insns) {
            fprintf(stderr, "rvuser: more than %" PRIu64 " instructions, pc 0x%" PRIx64 "\n",
                    max_insns, h->pc);
            status = EXIT_TRAP;
            break;
        }
        enum rv_exit why = rv_hart_run(h, 1u << 20);
        switch (why) {
        case RV_EXIT_BUDGET:
            break;
        case RV_EXIT_ECALL: {
            uint64_t nr = h->x[17], *a = &h->x[10];
            if (nr == 64)
                a[0] = (uint64_t)sys_write(h, a[0], a[1], a[2]);
            else if (nr == 93 || nr == 94)
                status = (int)(a[0] & 0xff);
            else
                a[0] = (uint64_t)-ENOSYS;
            break;
        }
        case RV_EXIT_MTRAP:
            fprintf(stderr,
                    "rvuser: trap: cause %" PRIu64 " (%s), tval 0x%" PRIx64 ", pc 0x%" PRIx64
                    "\n",
                    h->exit_cause, cause_name(h->exit_cause), h->exit_tval, h->exit_epc);
            status = EXIT_TRAP;
            break;
        default:
            fprintf(stderr, "rvuser: unexpected exit %d at pc 0x%" PRIx64 "\n", (int)why, h->pc);
            status = EXIT_TRAP;
            break;
        }
    }
    fflush(stdout);
    if (stats)
        fprintf(stderr, "rvuser: instret %" PRIu64 "\n", h->instret);
    free(h);
    free(bus.ram);
    return status;
}
