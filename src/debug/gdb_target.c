/* Target description and registers for GDB (gdb_target.h).
 *
 * Remote register numbers follow GDB's RISC-V numbering so that the description and GDB's
 * built-in knowledge agree: x0..x31 = 0..31, pc = 32, f0..f31 = 33..64, CSR c = 65 + c, and the
 * virtual register "priv" (the privilege level) = 65 + 4096. */
#include "debug/gdb_target.h"

#include <stdio.h>
#include <string.h>

#include "cpu/csr.h"
#include "cpu/mmu.h"

#define REG_PC 32
#define REG_F0 33
#define REG_CSR0 65
#define REG_PRIV (REG_CSR0 + 4096)

static const char *const xnames[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
};
static const char *const fnames[32] = {
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
};

/* The CSRs shown (besides fflags/frm/fcsr, which belong to the FPU feature). */
static const struct {
    const char *name;
    unsigned csr;
} csrs[] = {
    {"cycle", CSR_CYCLE},       {"time", CSR_TIME},         {"instret", CSR_INSTRET},
    {"sstatus", CSR_SSTATUS},   {"sie", CSR_SIE},           {"stvec", CSR_STVEC},
    {"scounteren", CSR_SCOUNTEREN}, {"senvcfg", CSR_SENVCFG}, {"sscratch", CSR_SSCRATCH},
    {"sepc", CSR_SEPC},         {"scause", CSR_SCAUSE},     {"stval", CSR_STVAL},
    {"sip", CSR_SIP},           {"stimecmp", CSR_STIMECMP}, {"satp", CSR_SATP},
    {"mvendorid", CSR_MVENDORID}, {"marchid", CSR_MARCHID}, {"mimpid", CSR_MIMPID},
    {"mhartid", CSR_MHARTID},   {"mstatus", CSR_MSTATUS},   {"misa", CSR_MISA},
    {"medeleg", CSR_MEDELEG},   {"mideleg", CSR_MIDELEG},   {"mie", CSR_MIE},
    {"mtvec", CSR_MTVEC},       {"mcounteren", CSR_MCOUNTEREN}, {"menvcfg", CSR_MENVCFG},
    {"mcountinhibit", CSR_MCOUNTINHIBIT}, {"mscratch", CSR_MSCRATCH}, {"mepc", CSR_MEPC},
    {"mcause", CSR_MCAUSE},     {"mtval", CSR_MTVAL},       {"mip", CSR_MIP},
    {"mcycle", CSR_MCYCLE},     {"minstret", CSR_MINSTRET},
};
#define NCSRS (sizeof(csrs) / sizeof(csrs[0]))

/* Appends to buf at *n; false once it no longer fits. */
static bool put(char *buf, size_t size, size_t *n, const char *fmt, const char *name,
                unsigned regnum)
{
    int k = snprintf(buf + *n, size - *n, fmt, name, regnum);
    if (k < 0 || (size_t)k >= size - *n)
        return false;
    *n += (size_t)k;
    return true;
}

size_t gdb_target_xml(char *buf, size_t size)
{
    size_t n = 0;
    bool ok = put(buf, size, &n,
                  "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
                  "<target version=\"1.0\">\n<architecture>riscv:rv64</architecture>\n"
                  "<feature name=\"org.gnu.gdb.riscv.cpu\">\n%s", "", 0);
    for (unsigned i = 0; ok && i < 32; i++)
        ok = put(buf, size, &n,
                 i == 2 || i == 8 ? "<reg name=\"%s\" bitsize=\"64\" type=\"data_ptr\" "
                                    "regnum=\"%u\"/>\n"
                                  : "<reg name=\"%s\" bitsize=\"64\" type=\"int\" "
                                    "regnum=\"%u\"/>\n",
                 xnames[i], i);
    ok = ok && put(buf, size, &n,
                   "<reg name=\"%s\" bitsize=\"64\" type=\"code_ptr\" regnum=\"%u\"/>\n"
                   "</feature>\n<feature name=\"org.gnu.gdb.riscv.fpu\">\n",
                   "pc", REG_PC);
    for (unsigned i = 0; ok && i < 32; i++)
        ok = put(buf, size, &n,
                 "<reg name=\"%s\" bitsize=\"64\" type=\"ieee_double\" regnum=\"%u\"/>\n",
                 fnames[i], REG_F0 + i);
    static const char *const fcsrs[] = {"fflags", "frm", "fcsr"};
    for (unsigned i = 0; ok && i < 3; i++)
        ok = put(buf, size, &n,
                 "<reg name=\"%s\" bitsize=\"64\" type=\"int\" group=\"float\" "
                 "regnum=\"%u\"/>\n",
                 fcsrs[i], REG_CSR0 + CSR_FFLAGS + i);
    ok = ok && put(buf, size, &n, "</feature>\n<feature name=\"org.gnu.gdb.riscv.csr\">\n%s",
                   "", 0);
    for (unsigned i = 0; ok && i < NCSRS; i++)
        ok = put(buf, size, &n,
                 "<reg name=\"%s\" bitsize=\"64\" type=\"int\" group=\"csr\" regnum=\"%u\"/>\n",
                 csrs[i].name, REG_CSR0 + csrs[i].csr);
    ok = ok && put(buf, size, &n,
                   "</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n"
                   "<reg name=\"%s\" bitsize=\"64\" type=\"int\" group=\"system\" "
                   "regnum=\"%u\"/>\n</feature>\n</target>\n",
                   "priv", REG_PRIV);
    return ok ? n : 0;
}

static bool known_csr(unsigned csr)
{
    if (csr >= CSR_FFLAGS && csr <= CSR_FCSR)
        return true;
    for (unsigned i = 0; i < NCSRS; i++)
        if (csrs[i].csr == csr)
            return true;
    return false;
}

/* CSR access as M-mode would do it (a debugger is not bound by the hart's privilege), with
 * the privilege and the translation regime put back afterwards. */
static bool csr_access(struct rv_hart *h, unsigned csr, uint64_t *v, bool write)
{
    if (csr >= CSR_FFLAGS && csr <= CSR_FCSR) {
        /* directly: through the CSR file they would depend on mstatus.FS */
        if (write) {
            uint64_t fcsr = csr == CSR_FFLAGS ? (h->frm << 5) | (*v & 31)
                            : csr == CSR_FRM  ? ((*v & 7) << 5) | h->fflags
                                              : *v & 0xff;
            h->fflags = fcsr & 31;
            h->frm = (uint32_t)(fcsr >> 5) & 7;
        } else {
            *v = csr == CSR_FFLAGS ? h->fflags : csr == CSR_FRM ? h->frm
                                                               : (h->frm << 5) | h->fflags;
        }
        return true;
    }
    unsigned priv = h->priv;
    h->priv = RV_PRIV_M;
    int exc = write ? rv_csr_write(h, csr, *v) : rv_csr_read(h, csr, v);
    h->priv = priv;
    rv_hart_update_mmu_idx(h);
    return exc == RV_EXC_NONE;
}

bool gdb_reg_read(struct rv_hart *h, unsigned n, uint64_t *v)
{
    if (n < 32)
        *v = h->x[n];
    else if (n == REG_PC)
        *v = h->pc;
    else if (n < REG_CSR0)
        *v = h->f[n - REG_F0];
    else if (n == REG_PRIV)
        *v = h->priv;
    else if (n - REG_CSR0 < 4096 && known_csr(n - REG_CSR0))
        return csr_access(h, n - REG_CSR0, v, false);
    else
        return false;
    return true;
}

bool gdb_reg_write(struct rv_hart *h, unsigned n, uint64_t v)
{
    if (n < 32) {
        if (n)
            h->x[n] = v;
    } else if (n == REG_PC) {
        h->pc = v;
    } else if (n < REG_CSR0) {
        h->f[n - REG_F0] = v;
    } else if (n == REG_PRIV) {
        if (v != RV_PRIV_U && v != RV_PRIV_S && v != RV_PRIV_M)
            return false;
        h->priv = (unsigned)v;
        rv_hart_update_mmu_idx(h);
    } else if (n - REG_CSR0 < 4096 && known_csr(n - REG_CSR0)) {
        unsigned csr = n - REG_CSR0;
        if (csr == CSR_SATP)
            rv_tlb_flush_all(h);
        return csr_access(h, csr, &v, true);
    } else {
        return false;
    }
    return true;
}
