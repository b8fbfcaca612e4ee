/* ELF64 and raw image loading (System V ABI / ELF-64 object format; RISC-V psABI). */
#include "machine/loader.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fsjail.h"

#ifndef EM_RISCV
#define EM_RISCV 243
#endif

/* True if [off, off+size) lies inside a buffer of `len` bytes. */
static bool range_ok(uint64_t off, uint64_t size, size_t len)
{
    return off <= len && size <= len - off;
}

static void find_htif_symbols(const uint8_t *file, size_t len, const Elf64_Ehdr *eh,
                              struct rv_elf_info *info)
{
    if (eh->e_shentsize != sizeof(Elf64_Shdr) ||
        !range_ok(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), len))
        return;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        Elf64_Shdr sh;
        memcpy(&sh, file + eh->e_shoff + i * sizeof(sh), sizeof(sh));
        if (sh.sh_type != SHT_SYMTAB || sh.sh_entsize != sizeof(Elf64_Sym) ||
            sh.sh_link >= eh->e_shnum || !range_ok(sh.sh_offset, sh.sh_size, len))
            continue;
        Elf64_Shdr strsh;
        memcpy(&strsh, file + eh->e_shoff + sh.sh_link * sizeof(strsh), sizeof(strsh));
        if (!range_ok(strsh.sh_offset, strsh.sh_size, len))
            continue;
        const char *strtab = (const char *)file + strsh.sh_offset;
        for (uint64_t k = 0; k < sh.sh_size / sizeof(Elf64_Sym); k++) {
            Elf64_Sym sym;
            memcpy(&sym, file + sh.sh_offset + k * sizeof(sym), sizeof(sym));
            if (sym.st_name >= strsh.sh_size)
                continue;
            const char *name = strtab + sym.st_name;
            size_t max = strsh.sh_size - sym.st_name;
            if (strnlen(name, max) == max)
                continue; /* not NUL-terminated inside the table */
            if (strcmp(name, "tohost") == 0)
                info->tohost = sym.st_value;
            else if (strcmp(name, "fromhost") == 0)
                info->fromhost = sym.st_value;
        }
    }
}

int rv_load_elf(struct rv_bus *bus, const uint8_t *file, size_t len, struct rv_elf_info *info)
{
    Elf64_Ehdr eh;
    memset(info, 0, sizeof(*info));
    if (len < sizeof(eh))
        return rv_error_set(-EINVAL, "ELF: file too short for a header");
    memcpy(&eh, file, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return rv_error_set(-EINVAL, "ELF: bad magic");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return rv_error_set(-EINVAL, "ELF: not a little-endian 64-bit file");
    if (eh.e_machine != EM_RISCV)
        return rv_error_set(-EINVAL, "ELF: machine %u is not RISC-V", eh.e_machine);
    if (eh.e_type != ET_EXEC)
        return rv_error_set(-EINVAL, "ELF: not an executable (type %u)", eh.e_type);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
        !range_ok(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), len))
        return rv_error_set(-EINVAL, "ELF: program headers out of the file");
    info->low = UINT64_MAX;
    unsigned loaded = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, file + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz || !range_ok(ph.p_offset, ph.p_filesz, len))
            return rv_error_set(-EINVAL, "ELF: segment %u has a bad file range", i);
        if (!rv_bus_in_ram(bus, ph.p_paddr, ph.p_memsz))
            return rv_error_set(-EINVAL,
                                "ELF: segment %u [0x%llx, +0x%llx) is outside guest RAM", i,
                                (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
        uint8_t *dst = rv_bus_ram_ptr(bus, ph.p_paddr);
        memcpy(dst, file + ph.p_offset, ph.p_filesz);
        memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
        if (ph.p_paddr < info->low)
            info->low = ph.p_paddr;
        if (ph.p_paddr + ph.p_memsz > info->high)
            info->high = ph.p_paddr + ph.p_memsz;
        loaded++;
    }
    if (!loaded)
        return rv_error_set(-EINVAL, "ELF: no loadable segment");
    info->entry = eh.e_entry;
    if (info->entry < info->low || info->entry >= info->high)
        return rv_error_set(-EINVAL, "ELF: entry point 0x%llx is outside the loaded image",
                            (unsigned long long)info->entry);
    find_htif_symbols(file, len, &eh, info);
    if ((info->tohost && !rv_bus_in_ram(bus, info->tohost, 8)) ||
        (info->fromhost && !rv_bus_in_ram(bus, info->fromhost, 8)))
        return rv_error_set(-EINVAL, "ELF: tohost/fromhost symbols outside guest RAM");
    return 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Kernels built with the EFI stub are also PE/COFF files ("MZ" in code0): their section table
 * says how long the file must be, which catches truncated images (PE format: COFF header after
 * the "PE\0\0" signature at e_lfanew; section headers after the optional header). Returns the
 * required length, or 0 if the file carries no usable PE header. */
static uint64_t pe_required_length(const uint8_t *file, size_t len, size_t file_len)
{
    if (len < 0x40 || file[0] != 'M' || file[1] != 'Z')
        return 0;
    uint64_t pe = le32(file + 0x3c);
    if (pe + 24 > len || memcmp(file + pe, "PE\0\0", 4) != 0)
        return 0;
    unsigned nsections = file[pe + 6] | file[pe + 7] << 8;
    unsigned opt_size = file[pe + 20] | file[pe + 21] << 8;
    uint64_t table = pe + 24 + opt_size;
    uint64_t need = 0;
    for (unsigned i = 0; i < nsections; i++) {
        uint64_t sh = table + 40ull * i;
        if (sh + 40 > len) /* the table is cut off, or beyond what the caller read */
            return len < file_len ? need : sh + 40;
        uint64_t end = (uint64_t)le32(file + sh + 16) + le32(file + sh + 20);
        if (end > need)
            need = end;
    }
    return need;
}

int rv_parse_image(const uint8_t *file, size_t len, size_t file_len, struct rv_image_info *info)
{
    /* u32 code0, code1; u64 text_offset, image_size, flags; u32 version, res1; u64 res2;
     * u64 magic ("RISCV\0\0\0", deprecated); u32 magic2 ("RSC\x05"); u32 res3 */
    if (len < 64 || memcmp(file + 56, "RSC\x05", 4) != 0)
        return -ENOENT;
    uint64_t text_offset, image_size;
    memcpy(&text_offset, file + 8, 8);
    memcpy(&image_size, file + 16, 8);
    if (text_offset > (1ull << 30) || (text_offset & 0xfff))
        return rv_error_set(-EINVAL, "Image: bad text offset 0x%llx",
                            (unsigned long long)text_offset);
    uint64_t need = pe_required_length(file, len, file_len);
    if (need > file_len)
        return rv_error_set(-EINVAL, "Image: truncated (%zu bytes; its PE header needs %llu)",
                            file_len, (unsigned long long)need);
    if (image_size == 0)
        image_size = file_len; /* "unknown": the file is all there is */
    if (image_size < file_len && image_size < 64)
        return rv_error_set(-EINVAL, "Image: bad image size %llu",
                            (unsigned long long)image_size);
    if (image_size > (4ull << 30))
        return rv_error_set(-EINVAL, "Image: image size %llu is too large",
                            (unsigned long long)image_size);
    info->text_offset = text_offset;
    info->image_size = image_size;
    return 0;
}

int rv_load_raw(struct rv_bus *bus, const uint8_t *file, size_t len, uint64_t addr)
{
    if (!rv_bus_in_ram(bus, addr, len))
        return rv_error_set(-EINVAL, "image of %zu bytes does not fit in RAM at 0x%llx", len,
                            (unsigned long long)addr);
    memcpy(rv_bus_ram_ptr(bus, addr), file, len);
    return 0;
}

int rv_read_file(const char *path, size_t max, uint8_t **data, size_t *len)
{
    int fd = rv_fs_open(path, O_RDONLY, 0);
    if (fd < 0)
        return rv_error_set(-errno, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rv_error_set(-EINVAL, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return rv_error_set(-EFBIG, "%s: file too large (%lld bytes)", path,
                            (long long)st.st_size);
    }
    uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!buf) {
        close(fd);
        return rv_error_set(-ENOMEM, "%s: out of memory", path);
    }
    size_t done = 0;
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            free(buf);
            close(fd);
            return rv_error_set(-e, "%s: read failed", path);
        }
        done += (size_t)n;
    }
    close(fd);
    *data = buf;
    *len = done;
    return 0;
}

int rv_image_open(const char *path, size_t max, struct rv_image_file *f)
{
    f->fd = -1;
    f->len = 0;
    int fd = rv_fs_open(path, O_RDONLY, 0);
    if (fd < 0)
        return rv_error_set(-errno, "%s: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        rc = rv_error_set(-EINVAL, "%s: not a regular file", path);
    else if ((uint64_t)st.st_size > max)
        rc = rv_error_set(-EFBIG, "%s: file too large (%lld bytes)", path,
                          (long long)st.st_size);
    else if (st.st_size == 0)
        rc = rv_error_set(-EINVAL, "%s: empty file", path);
    if (rc) {
        close(fd);
        return rc;
    }
    f->fd = fd;
    f->len = (size_t)st.st_size;
    return 0;
}

void rv_image_close(struct rv_image_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    f->len = 0;
}

int rv_image_pread(const struct rv_image_file *f, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(f->fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return rv_error_set(-errno, "read failed: %s", strerror(errno));
        if (n == 0)
            return rv_error_set(-EIO, "file shorter than when it was opened");
        done += (size_t)n;
    }
    return 0;
}

/* sendfile() from the image into RAM's memfd at the file offset of `addr`. Returns the bytes
 * copied: fewer than f->len if the kernel refused part (the caller reads the rest). */
static size_t send_to_ram(struct rv_bus *bus, int ram_fd, const struct rv_image_file *f,
                          uint64_t addr)
{
    if (ram_fd < 0 || lseek(ram_fd, (off_t)(addr - bus->ram_base), SEEK_SET) < 0)
        return 0;
    off_t off = 0;
    while ((size_t)off < f->len) {
        ssize_t n = sendfile(ram_fd, f->fd, &off, f->len - (size_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
    }
    return (size_t)off;
}

int rv_load_file(struct rv_bus *bus, int ram_fd, const struct rv_image_file *f, uint64_t addr)
{
    if (!rv_bus_in_ram(bus, addr, f->len))
        return rv_error_set(-EINVAL, "image of %zu bytes does not fit in RAM at 0x%llx",
                            f->len, (unsigned long long)addr);
    size_t sent = send_to_ram(bus, ram_fd, f, addr);
    return rv_image_pread(f, rv_bus_ram_ptr(bus, addr + sent), f->len - sent, sent);
}
