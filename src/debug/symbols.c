/* Symbol tables (symbols.h). The ELF reader looks at section headers only (ELF-64 little
 * endian, SHT_SYMTAB and its linked string table), with every offset and size checked
 * against the file: symbol files come from the user and may be anything. */
#include "debug/symbols.h"

#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "machine/loader.h"

#define MAX_FILE (1ull << 30)
#define NEAR_LIMIT (1ull << 20)

struct sym {
    uint64_t addr, size; /* size 0: unknown (map files) */
    const char *name;    /* into names */
};

struct rv_symbols {
    struct sym *v;
    size_t n, cap;
    char *names; /* all names, NUL-separated */
    size_t names_len, names_cap;
};

static int add(struct rv_symbols *s, uint64_t addr, uint64_t size, const char *name, size_t len)
{
    if (len == 0 || len > 255)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        struct sym *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    if (s->names_len + len + 1 > s->names_cap) {
        size_t cap = s->names_cap ? 2 * s->names_cap : 4096;
        while (cap < s->names_len + len + 1)
            cap *= 2;
        char *p = realloc(s->names, cap);
        if (!p)
            return -ENOMEM;
        s->names = p;
        s->names_cap = cap;
    }
    memcpy(s->names + s->names_len, name, len);
    s->names[s->names_len + len] = 0;
    /* names are pointers once loading is done (realloc may move them): keep offsets now */
    s->v[s->n++] = (struct sym){addr, size, (const char *)(uintptr_t)s->names_len};
    s->names_len += len + 1;
    return 0;
}

static bool in_file(size_t len, uint64_t off, uint64_t size)
{
    return off <= len && size <= len - off;
}

static int parse_elf(struct rv_symbols *s, const uint8_t *d, size_t len)
{
    Elf64_Ehdr eh;
    if (len < sizeof(eh))
        return rv_error_set(-EINVAL, "truncated ELF header");
    memcpy(&eh, d, sizeof(eh));
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_shentsize != sizeof(Elf64_Shdr) ||
        !in_file(len, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr)))
        return rv_error_set(-EINVAL, "not a 64-bit little-endian ELF with section headers");
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh, strh;
        memcpy(&sh, d + eh.e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
        if (sh.sh_type != SHT_SYMTAB || sh.sh_link >= eh.e_shnum)
            continue;
        memcpy(&strh, d + eh.e_shoff + (uint64_t)sh.sh_link * sizeof(strh), sizeof(strh));
        if (!in_file(len, sh.sh_offset, sh.sh_size) || !in_file(len, strh.sh_offset, strh.sh_size))
            return rv_error_set(-EINVAL, "symbol table outside the file");
        for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
            Elf64_Sym sym;
            memcpy(&sym, d + sh.sh_offset + off, sizeof(sym));
            unsigned type = ELF64_ST_TYPE(sym.st_info);
            if (sym.st_shndx == SHN_UNDEF || sym.st_name >= strh.sh_size ||
                (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE))
                continue;
            const char *name = (const char *)d + strh.sh_offset + sym.st_name;
            size_t max = strh.sh_size - sym.st_name;
            size_t nlen = strnlen(name, max);
            if (nlen == max || name[0] == '$' || (name[0] == '.' && name[1] == 'L'))
                continue; /* unterminated, or a mapping/local label */
            int rc = add(s, sym.st_value, sym.st_size, name, nlen);
            if (rc)
                return rv_error_set(rc, "out of memory");
        }
    }
    return 0;
}

/* "ffffffff80000000 T _text" lines; anything else is skipped. */
static int parse_map(struct rv_symbols *s, const uint8_t *d, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && d[e] != '\n')
            e++;
        char line[320];
        size_t l = e - i < sizeof(line) - 1 ? e - i : sizeof(line) - 1;
        memcpy(line, d + i, l);
        line[l] = 0;
        i = e + 1;
        char *end;
        unsigned long long addr = strtoull(line, &end, 16);
        if (end == line || *end != ' ' || !isalpha((unsigned char)end[1]) || end[2] != ' ')
            continue;
        char *name = end + 3;
        size_t nlen = strcspn(name, " \t\r[");
        int rc = add(s, addr, 0, name, nlen);
        if (rc)
            return rv_error_set(rc, "out of memory");
    }
    return 0;
}

static int cmp_sym(const void *a, const void *b)
{
    const struct sym *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int rv_symbols_parse(const uint8_t *data, size_t len, struct rv_symbols **out)
{
    struct rv_symbols *s = calloc(1, sizeof(*s));
    if (!s)
        return rv_error_set(-ENOMEM, "out of memory");
    bool elf = len >= 4 && memcmp(data, ELFMAG, SELFMAG) == 0;
    int rc = elf ? parse_elf(s, data, len) : parse_map(s, data, len);
    if (!rc && s->n == 0)
        rc = rv_error_set(-ENOENT, "no symbols found");
    if (rc) {
        rv_symbols_free(s);
        return rc;
    }
    for (size_t i = 0; i < s->n; i++)
        s->v[i].name = s->names + (uintptr_t)s->v[i].name;
    qsort(s->v, s->n, sizeof(*s->v), cmp_sym);
    *out = s;
    return 0;
}

int rv_symbols_load(const char *path, struct rv_symbols **out)
{
    uint8_t *data;
    size_t len;
    int rc = rv_read_file(path, MAX_FILE, &data, &len);
    if (rc)
        return rc;
    rc = rv_symbols_parse(data, len, out);
    free(data);
    if (rc)
        return rv_error_prefix(rc, "%s", path);
    return 0;
}

void rv_symbols_free(struct rv_symbols *s)
{
    if (!s)
        return;
    free(s->v);
    free(s->names);
    free(s);
}

const char *rv_symbols_lookup(const struct rv_symbols *s, uint64_t addr, uint64_t *offset)
{
    size_t lo = 0, hi = s->n; /* first symbol with address > addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct sym *y = &s->v[lo - 1];
    uint64_t off = addr - y->addr;
    if (off >= NEAR_LIMIT)
        return NULL;
    *offset = off;
    return y->name;
}

int rv_symbols_find(const struct rv_symbols *s, const char *name, uint64_t *addr)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0) {
            *addr = s->v[i].addr;
            return 0;
        }
    return -ENOENT;
}
