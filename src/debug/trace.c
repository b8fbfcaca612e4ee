/* Trace records (trace.h). Lines are written whole under a lock, so harts on different
 * threads never interleave within a line. */
#include "debug/trace.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "cpu/decode.h"

struct rv_trace {
    FILE *out;
    bool own;                 /* out was opened here */
    const struct rv_symbols *syms;
    pthread_mutex_t lock;
    struct rv_vm_tracer hooks;
};

/* "0x80000010 <main+8>" into buf. */
static const char *sym(const struct rv_trace *t, uint64_t addr, char *buf, size_t size)
{
    uint64_t off;
    const char *name = t->syms ? rv_symbols_lookup(t->syms, addr, &off) : NULL;
    if (name)
        snprintf(buf, size, "0x%" PRIx64 " <%s+%" PRIu64 ">", addr, name, off);
    else
        snprintf(buf, size, "0x%" PRIx64, addr);
    return buf;
}

static void line(struct rv_trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(struct rv_trace *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&t->lock);
    vfprintf(t->out, fmt, ap);
    fputc('\n', t->out);
    pthread_mutex_unlock(&t->lock);
    va_end(ap);
}

static void trace_insn(void *opaque, struct rv_hart *h, uint64_t pc, uint32_t raw)
{
    struct rv_trace *t = opaque;
    struct rv_insn in;
    rv_decode(raw, &in);
    char where[300], name[32];
    const char *op = rv_op_name(in.op);
    size_t i = 0;
    for (; op[i] && i < sizeof(name) - 1; i++)
        name[i] = op[i] == '_' ? '.' : (char)tolower((unsigned char)op[i]);
    name[i] = 0;
    line(t, "hart%" PRIu64 " insn %s %0*" PRIx32 " %s", h->mhartid,
         sym(t, pc, where, sizeof(where)), in.len * 2, raw, name);
}

static void trace_exit(void *opaque, struct rv_hart *h, enum rv_exit e)
{
    struct rv_trace *t = opaque;
    char where[300];
    switch (e) {
    case RV_EXIT_ECALL:
        line(t, "hart%" PRIu64 " exit ecall at %s a7=0x%" PRIx64 " a6=0x%" PRIx64, h->mhartid,
             sym(t, h->pc - 4, where, sizeof(where)), h->x[17], h->x[16]);
        break;
    case RV_EXIT_MTRAP:
        line(t, "hart%" PRIu64 " exit mtrap cause=0x%" PRIx64 " tval=0x%" PRIx64 " at %s",
             h->mhartid, h->exit_cause, h->exit_tval, sym(t, h->exit_epc, where, sizeof(where)));
        break;
    case RV_EXIT_WFI:
        line(t, "hart%" PRIu64 " exit wfi at %s", h->mhartid, sym(t, h->pc, where, sizeof(where)));
        break;
    case RV_EXIT_STOP:
    case RV_EXIT_DEBUG:
        line(t, "hart%" PRIu64 " exit %s at %s", h->mhartid, e == RV_EXIT_STOP ? "stop" : "debug",
             sym(t, h->pc, where, sizeof(where)));
        break;
    case RV_EXIT_BUDGET:
        break; /* one every million instructions: noise */
    }
}

static void trace_mmio(void *opaque, const char *dev, uint64_t paddr, uint64_t offset,
                       unsigned size, uint64_t value, bool write)
{
    struct rv_trace *t = opaque;
    line(t, "mmio %s %s+0x%" PRIx64 " (0x%" PRIx64 ") size %u %s 0x%" PRIx64,
         write ? "write" : "read ", dev, offset, paddr, size, write ? "<-" : "->", value);
}

static const char *sbi_name(uint64_t eid)
{
    switch (eid) {
    case 0x10: return "BASE";
    case 0x54494d45: return "TIME";
    case 0x735049: return "IPI";
    case 0x52464e43: return "RFENCE";
    case 0x48534d: return "HSM";
    case 0x53525354: return "SRST";
    case 0x4442434e: return "DBCN";
    case 0x504d55: return "PMU";
    default: return eid <= 8 ? "legacy" : "?";
    }
}

static void trace_sbi(void *opaque, struct rv_hart *h, uint64_t eid, uint64_t fid,
                      const uint64_t a[6], int64_t error, uint64_t value)
{
    struct rv_trace *t = opaque;
    line(t, "hart%" PRIu64 " sbi %s(0x%" PRIx64 ") fid %" PRIu64 " a0=0x%" PRIx64
         " a1=0x%" PRIx64 " a2=0x%" PRIx64 " -> error %" PRId64 " value 0x%" PRIx64,
         h->mhartid, sbi_name(eid), eid, fid, a[0], a[1], a[2], error, value);
}

static int parse_spec(const char *spec, unsigned *mask, char *path, size_t size)
{
    *mask = 0;
    path[0] = 0;
    const char *p = spec;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 4 && strncmp(p, "insn", 4) == 0) *mask |= RV_TRACE_INSN;
        else if (n == 5 && strncmp(p, "exits", 5) == 0) *mask |= RV_TRACE_EXITS;
        else if (n == 4 && strncmp(p, "mmio", 4) == 0) *mask |= RV_TRACE_MMIO;
        else if (n == 3 && strncmp(p, "sbi", 3) == 0) *mask |= RV_TRACE_SBI;
        else if (n > 5 && strncmp(p, "file=", 5) == 0 && n - 5 < size) {
            memcpy(path, p + 5, n - 5);
            path[n - 5] = 0;
        } else {
            return rv_error_set(-EINVAL, "--trace: unknown item '%.*s' (insn, exits, mmio, "
                                         "sbi, file=PATH)", (int)n, p);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    if (!*mask)
        return rv_error_set(-EINVAL, "--trace: say what to trace: insn, exits, mmio or sbi");
    return 0;
}

int rv_trace_open(const char *spec, const struct rv_symbols *syms, struct rv_trace **out)
{
    unsigned mask;
    char path[4096];
    int rc = parse_spec(spec, &mask, path, sizeof(path));
    if (rc)
        return rc;
    struct rv_trace *t = calloc(1, sizeof(*t));
    if (!t)
        return rv_error_set(-ENOMEM, "out of memory");
    t->out = stderr;
    if (path[0]) {
        t->out = fopen(path, "we");
        if (!t->out) {
            rc = rv_error_set(-errno, "--trace: %s: %s", path, strerror(errno));
            free(t);
            return rc;
        }
        t->own = true;
    }
    t->syms = syms;
    pthread_mutex_init(&t->lock, NULL);
    t->hooks = (struct rv_vm_tracer){mask, t, trace_insn, trace_exit, trace_mmio, trace_sbi};
    *out = t;
    return 0;
}

const struct rv_vm_tracer *rv_trace_hooks(const struct rv_trace *t)
{
    return &t->hooks;
}

void rv_trace_close(struct rv_trace *t)
{
    if (!t)
        return;
    if (t->own)
        fclose(t->out);
    else
        fflush(t->out);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
