/* Hart API: exits (KVM_RUN-style), CSR WARL rules, interrupts, and state save/load. */
#include <stdlib.h>
#include <string.h>

#include "core/serial.h"
#include "cpu/csr.h"
#include "cpu/hart.h"
#include "cpu/mmu.h"
#include "test.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1u << 20)

static struct rv_bus bus;

static struct rv_hart *new_hart(void)
{
    struct rv_hart *h = calloc(1, sizeof(*h));
    rv_hart_reset(h, 0, &bus, RAM_BASE);
    return h;
}

static void put32(uint64_t addr, uint32_t insn)
{
    memcpy(bus.ram + (addr - RAM_BASE), &insn, 4);
}

/* ecall from S-mode with the monitor as M becomes RV_EXIT_ECALL, pc past the ecall */
static void test_ecall_exit(void)
{
    struct rv_hart *h = new_hart();
    h->monitor_is_m = true;
    h->priv = RV_PRIV_S;
    rv_hart_update_mmu_idx(h);
    put32(RAM_BASE, 0x00100893);     /* li a7, 1 */
    put32(RAM_BASE + 4, 0x00000073); /* ecall */
    CHECK_EQ(rv_hart_run(h, 100), RV_EXIT_ECALL);
    CHECK_EQ(h->pc, RAM_BASE + 8);
    CHECK_EQ(h->x[17], 1);
    CHECK_EQ(h->priv, RV_PRIV_S);
    CHECK_EQ(h->instret, 1); /* the ecall itself traps: it does not retire */
    free(h);
}

/* Without a monitor, the same ecall traps to mtvec in M-mode with mcause 9. */
static void test_ecall_trap_to_m(void)
{
    struct rv_hart *h = new_hart();
    h->priv = RV_PRIV_S;
    h->mtvec = RAM_BASE + 0x100;
    rv_hart_update_mmu_idx(h);
    put32(RAM_BASE, 0x00000073);         /* ecall */
    put32(RAM_BASE + 0x100, 0x0000006f); /* j . */
    CHECK_EQ(rv_hart_run(h, 10), RV_EXIT_BUDGET);
    CHECK_EQ(h->pc, RAM_BASE + 0x100);
    CHECK_EQ(h->mcause, EXC_ECALL_S);
    CHECK_EQ(h->mepc, RAM_BASE);
    CHECK_EQ(h->priv, RV_PRIV_M);
    CHECK_EQ((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, RV_PRIV_S);
    free(h);
}

/* A page fault delegated to S stays inside the guest; an undelegated one exits as MTRAP. */
static void test_illegal_monitor_exit(void)
{
    struct rv_hart *h = new_hart();
    h->monitor_is_m = true;
    h->priv = RV_PRIV_S;
    rv_hart_update_mmu_idx(h);
    put32(RAM_BASE, 0xffffffff); /* illegal */
    CHECK_EQ(rv_hart_run(h, 10), RV_EXIT_MTRAP);
    CHECK_EQ(h->exit_cause, EXC_ILLEGAL_INSN);
    CHECK_EQ(h->exit_tval, 0xffffffff);
    CHECK_EQ(h->exit_epc, RAM_BASE);
    h->medeleg = 1u << EXC_ILLEGAL_INSN;
    h->stvec = RAM_BASE + 0x200;
    put32(RAM_BASE + 0x200, 0x0000006f);
    CHECK_EQ(rv_hart_run(h, 10), RV_EXIT_BUDGET);
    CHECK_EQ(h->scause, EXC_ILLEGAL_INSN);
    CHECK_EQ(h->stval, 0xffffffff);
    CHECK_EQ(h->pc, RAM_BASE + 0x200);
    free(h);
}

static void test_wfi_and_stop(void)
{
    struct rv_hart *h = new_hart();
    put32(RAM_BASE, 0x10500073);     /* wfi */
    put32(RAM_BASE + 4, 0x0000006f); /* j . */
    CHECK_EQ(rv_hart_run(h, 10), RV_EXIT_WFI);
    CHECK_EQ(h->pc, RAM_BASE + 4);
    rv_hart_request_stop(h);
    CHECK_EQ(rv_hart_run(h, 10), RV_EXIT_STOP);
    CHECK_EQ(rv_hart_run(h, 10), RV_EXIT_BUDGET);
    /* WFI with an enabled interrupt pending (even globally disabled) is a no-op. */
    h->pc = RAM_BASE;
    h->mie = MIP_MEIP;
    rv_hart_set_irq(h, MIP_MEIP, true);
    CHECK_EQ(rv_hart_run(h, 10), RV_EXIT_BUDGET);
    CHECK_EQ(h->pc, RAM_BASE + 4);
    /* ... and once MIE is set, the interrupt is taken. */
    h->mstatus |= MSTATUS_MIE;
    h->mtvec = RAM_BASE + 0x40 + 1; /* vectored */
    put32(RAM_BASE + 0x40 + 4 * IRQ_MEI, 0x0000006f);
    CHECK_EQ(rv_hart_run(h, 1), RV_EXIT_BUDGET);
    CHECK_EQ(h->mcause, (1ull << 63) | IRQ_MEI);
    CHECK_EQ(h->pc, RAM_BASE + 0x40 + 4 * IRQ_MEI);
    free(h);
}

static void test_csr_warl(void)
{
    struct rv_hart *h = new_hart();
    uint64_t v;
    /* MPP = 2 is reserved: the field keeps its old value */
    CHECK_EQ(rv_csr_write(h, CSR_MSTATUS, 1ull << MSTATUS_MPP_SHIFT), RV_EXC_NONE);
    CHECK_EQ(rv_csr_write(h, CSR_MSTATUS, 2ull << MSTATUS_MPP_SHIFT), RV_EXC_NONE);
    rv_csr_read(h, CSR_MSTATUS, &v);
    CHECK_EQ((v & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, 1);
    /* UXL and SXL read as 64-bit */
    CHECK_EQ((v >> 32) & 0xf, 0xa);
    /* unsupported satp mode: the write has no effect */
    rv_csr_write(h, CSR_SATP, (8ull << 60) | 0x1234);
    rv_csr_write(h, CSR_SATP, (7ull << 60) | 0x5678);
    rv_csr_read(h, CSR_SATP, &v);
    CHECK_EQ(v, (8ull << 60) | 0x1234);
    /* medeleg: ecall-from-M cannot be delegated */
    rv_csr_write(h, CSR_MEDELEG, ~0ull);
    rv_csr_read(h, CSR_MEDELEG, &v);
    CHECK_EQ(v, 0xb3ff);
    rv_csr_write(h, CSR_MIDELEG, ~0ull);
    rv_csr_read(h, CSR_MIDELEG, &v);
    CHECK_EQ(v, MIP_SSIP | MIP_STIP | MIP_SEIP);
    /* FS = Dirty makes SD read as 1 */
    rv_csr_write(h, CSR_MSTATUS, 3ull << MSTATUS_FS_SHIFT);
    rv_csr_read(h, CSR_SSTATUS, &v);
    CHECK(v >> 63);
    /* S-mode cannot touch M CSRs; read-only CSRs reject writes */
    h->priv = RV_PRIV_S;
    CHECK_EQ(rv_csr_read(h, CSR_MSTATUS, &v), EXC_ILLEGAL_INSN);
    h->priv = RV_PRIV_M;
    CHECK_EQ(rv_csr_write(h, CSR_MHARTID, 1), EXC_ILLEGAL_INSN);
    /* odd pmpcfg registers do not exist on RV64 */
    CHECK_EQ(rv_csr_read(h, CSR_PMPCFG0 + 1, &v), EXC_ILLEGAL_INSN);
    CHECK_EQ(rv_csr_write(h, CSR_PMPADDR0 + 5, ~0ull), RV_EXC_NONE);
    rv_csr_read(h, CSR_PMPADDR0 + 5, &v);
    CHECK_EQ(v, (1ull << 54) - 1);
    /* Sstc: M-mode always reaches stimecmp (OpenSBI probes it before setting STCE); S-mode
     * needs menvcfg.STCE and mcounteren.TM */
    CHECK_EQ(rv_csr_write(h, CSR_STIMECMP, 1234), RV_EXC_NONE);
    CHECK_EQ(rv_csr_read(h, CSR_STIMECMP, &v), RV_EXC_NONE);
    CHECK_EQ(v, 1234);
    h->priv = RV_PRIV_S;
    CHECK_EQ(rv_csr_read(h, CSR_STIMECMP, &v), EXC_ILLEGAL_INSN);
    h->menvcfg = ENVCFG_STCE;
    CHECK_EQ(rv_csr_read(h, CSR_STIMECMP, &v), EXC_ILLEGAL_INSN);
    h->mcounteren = 2;
    CHECK_EQ(rv_csr_read(h, CSR_STIMECMP, &v), RV_EXC_NONE);
    h->priv = RV_PRIV_M;
    /* misa reports RV64 IMAFDC + B, S, U */
    rv_csr_read(h, CSR_MISA, &v);
    CHECK_EQ(v, (2ull << 62) | 0x14112f);
    free(h);
}

static void test_save_load(void)
{
    struct rv_hart *a = new_hart(), *b = new_hart();
    for (unsigned i = 1; i < 32; i++) {
        a->x[i] = 0x1111111111111111ull * i;
        a->f[i] = ~a->x[i];
    }
    a->pc = RAM_BASE + 0x1234;
    a->priv = RV_PRIV_S;
    a->satp = (9ull << 60) | 42;
    a->stimecmp = 777;
    a->frm = 3;
    a->fflags = 0x11;
    a->pmpcfg[3] = 0x1f;
    a->pmpaddr[3] = 0xabc;
    struct rv_state_writer w;
    rv_state_writer_init(&w);
    CHECK_EQ(rv_hart_save(a, &w), 0);
    struct rv_state_reader r;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK_EQ(rv_hart_load(b, &r), 0);
    CHECK_EQ(r.pos, w.len);
    CHECK(memcmp(a->x, b->x, sizeof(a->x)) == 0);
    CHECK(memcmp(a->f, b->f, sizeof(a->f)) == 0);
    CHECK_EQ(b->pc, a->pc);
    CHECK_EQ(b->priv, RV_PRIV_S);
    CHECK_EQ(b->satp, a->satp);
    CHECK_EQ(b->stimecmp, 777);
    CHECK_EQ(b->frm, 3);
    CHECK_EQ(b->fflags, 0x11);
    CHECK_EQ(b->pmpcfg[3], 0x1f);
    CHECK_EQ(b->pmpaddr[3], 0xabc);
    CHECK_EQ(b->fetch_mmu_idx, RV_MMU_S);
    /* every truncation is rejected and leaves the target untouched */
    unsigned rejected = 0;
    for (size_t len = 0; len < w.len; len += 7) {
        struct rv_hart *c = new_hart();
        rv_state_reader_init(&r, w.buf, len);
        if (rv_hart_load(c, &r) != 0 && c->pc == RAM_BASE)
            rejected++;
        free(c);
    }
    CHECK_EQ(rejected, (w.len + 6) / 7);
    /* invalid privilege value */
    w.buf[4 + 64 * 8 + 8] = 2;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK(rv_hart_load(b, &r) != 0);
    /* unknown version */
    w.buf[0] = 99;
    rv_state_reader_init(&r, w.buf, w.len);
    CHECK(rv_hart_load(b, &r) != 0);
    rv_state_writer_free(&w);
    free(a);
    free(b);
}

/* satp WARL per MMU type (--mmu): a write of a mode the hart does not implement has no effect
 * at all (priv spec 10.1.11), so Linux's probe (write Sv57, read back, then Sv48, Sv39) finds
 * the largest one; a saved satp in a mode the restoring hart lacks is rejected. */
static void test_satp_modes(void)
{
    static const unsigned maxes[] = {SATP_MODE_SV39, SATP_MODE_SV48, SATP_MODE_SV57};
    CHECK_EQ(rv_hart_satp_modes(SATP_MODE_SV39), 0x101);
    CHECK_EQ(rv_hart_satp_modes(SATP_MODE_SV48), 0x301);
    CHECK_EQ(rv_hart_satp_modes(SATP_MODE_SV57), 0x701);
    CHECK_EQ(rv_hart_satp_modes(SATP_MODE_BARE), 0);
    CHECK_EQ(rv_hart_satp_modes(11), 0);
    struct rv_hart *fresh = new_hart();
    CHECK_EQ(fresh->satp_modes, rv_hart_satp_modes(SATP_MODE_SV57)); /* reset: all of them */
    free(fresh);
    for (unsigned k = 0; k < 3; k++) {
        unsigned max = maxes[k];
        struct rv_hart *h = new_hart();
        h->satp_modes = rv_hart_satp_modes(max);
        const uint64_t base = (8ull << 60) | (5ull << SATP_ASID_SHIFT) | 0x80123;
        for (uint64_t mode = 0; mode < 16; mode++) {
            uint64_t v, w = (mode << 60) | (7ull << SATP_ASID_SHIFT) | 0x80456;
            CHECK_EQ(rv_csr_write(h, CSR_SATP, base), RV_EXC_NONE);
            CHECK_EQ(rv_csr_write(h, CSR_SATP, mode == 0 ? 0 : w), RV_EXC_NONE);
            rv_csr_read(h, CSR_SATP, &v);
            bool implemented = mode == SATP_MODE_BARE || (mode >= 8 && mode <= max);
            CHECK_EQ(v, !implemented ? base : mode == 0 ? 0 : w);
            CHECK_EQ(rv_hart_satp_mode_ok(h, mode), implemented);
        }
        /* Linux's probe order (arch/riscv/mm/init.c set_satp_mode): the first mode that
         * reads back is the largest implemented one. */
        rv_csr_write(h, CSR_SATP, 0);
        uint64_t found = 0;
        for (uint64_t mode = SATP_MODE_SV57; mode >= SATP_MODE_SV39 && !found; mode--) {
            uint64_t v;
            rv_csr_write(h, CSR_SATP, (mode << 60) | 0x80000);
            rv_csr_read(h, CSR_SATP, &v);
            if (v >> 60 == mode)
                found = mode;
        }
        CHECK_EQ(found, max);
        /* save with satp in each mode; a hart implementing up to `max` loads only those */
        for (unsigned src = SATP_MODE_SV39; src <= SATP_MODE_SV57; src++) {
            struct rv_hart *a = new_hart(), *b = new_hart();
            a->satp = ((uint64_t)src << 60) | 0x80777;
            b->satp_modes = rv_hart_satp_modes(max);
            struct rv_state_writer w;
            rv_state_writer_init(&w);
            CHECK_EQ(rv_hart_save(a, &w), 0);
            struct rv_state_reader r;
            rv_state_reader_init(&r, w.buf, w.len);
            int rc = rv_hart_load(b, &r);
            CHECK_EQ(rc == 0, src <= max);
            CHECK_EQ(b->satp, src <= max ? a->satp : 0); /* rejected: untouched */
            CHECK_EQ(b->satp_modes, rv_hart_satp_modes(max));
            rv_state_writer_free(&w);
            free(a);
            free(b);
        }
        free(h);
    }
}

/* minstret counts retired instructions, can be written, and stops while inhibited. */
static void test_counters(void)
{
    struct rv_hart *h = new_hart();
    for (unsigned i = 0; i < 16; i++)
        put32(RAM_BASE + 4 * i, 0x00000013); /* nop */
    CHECK_EQ(rv_hart_run(h, 5), RV_EXIT_BUDGET);
    uint64_t v;
    rv_csr_read(h, CSR_MINSTRET, &v);
    CHECK_EQ(v, 5);
    rv_csr_read(h, CSR_MCYCLE, &v);
    CHECK_EQ(v, 5);
    rv_csr_write(h, CSR_MINSTRET, 100);
    h->instret++; /* as if the csrw retired */
    rv_csr_read(h, CSR_MINSTRET, &v);
    CHECK_EQ(v, 100);
    rv_csr_write(h, CSR_MCOUNTINHIBIT, 4); /* IR */
    CHECK_EQ(rv_hart_run(h, 3), RV_EXIT_BUDGET);
    rv_csr_read(h, CSR_MINSTRET, &v);
    CHECK_EQ(v, 100);
    rv_csr_read(h, CSR_MCYCLE, &v);
    CHECK_EQ(v, 9);
    rv_csr_write(h, CSR_MCOUNTINHIBIT, 0);
    CHECK_EQ(rv_hart_run(h, 2), RV_EXIT_BUDGET);
    rv_csr_read(h, CSR_MINSTRET, &v);
    CHECK_EQ(v, 102);
    /* U-mode needs mcounteren and scounteren */
    h->priv = RV_PRIV_U;
    CHECK_EQ(rv_csr_read(h, CSR_INSTRET, &v), EXC_ILLEGAL_INSN);
    h->mcounteren = 4;
    CHECK_EQ(rv_csr_read(h, CSR_INSTRET, &v), EXC_ILLEGAL_INSN);
    h->scounteren = 4;
    CHECK_EQ(rv_csr_read(h, CSR_INSTRET, &v), RV_EXC_NONE);
    CHECK_EQ(v, 102);
    free(h);
}

/* Remote fences with a range (SBI RFENCE): only the named pages' TLB entries go; a FENCE.I
 * request (empty range) leaves the TLB alone; a large or whole range empties it. */
static void test_ranged_remote_flush(void)
{
    struct rv_hart *h = calloc(1, sizeof(*h));
    rv_hart_reset(h, 0, &bus, RAM_BASE);
    const uint64_t va[3] = {0x10000, 0x11000, 0x200000};
    struct rv_tlb_entry *e[3];
    for (unsigned i = 0; i < 3; i++) {
        e[i] = rv_tlb_entry(h, RV_MMU_U, RV_ACCESS_READ, va[i]);
        e[i]->tag = va[i];
        rv_tlb_meta(h, e[i])->asid = 1;
    }
    h->tlb_clean = 0;
    uint32_t req = rv_hart_request_flush_range(h, 0x11000, 0x11fff);
    rv_hart_do_flush(h);
    CHECK_EQ(atomic_load(&h->tlb_flush_done), req);
    CHECK_EQ(e[0]->tag, va[0]);
    CHECK_EQ(e[1]->tag, RV_TLB_INVALID);
    CHECK_EQ(e[2]->tag, va[2]);
    /* FENCE.I alone: the request is done, the TLB unchanged */
    req = rv_hart_request_flush_range(h, UINT64_MAX, 0);
    rv_hart_do_flush(h);
    CHECK_EQ(atomic_load(&h->tlb_flush_done), req);
    CHECK_EQ(e[0]->tag, va[0]);
    /* two pending requests: the union of their ranges */
    rv_hart_request_flush_range(h, 0x10000, 0x10fff);
    rv_hart_request_flush_range(h, 0x200000, 0x200fff);
    rv_hart_do_flush(h);
    CHECK_EQ(e[0]->tag, RV_TLB_INVALID);
    CHECK_EQ(e[2]->tag, RV_TLB_INVALID);
    /* more than 64 pages: everything */
    e[1]->tag = va[1];
    h->tlb_clean = 0;
    rv_hart_request_flush_range(h, 0x40000000, 0x40000000 + 65 * 4096);
    rv_hart_do_flush(h);
    CHECK_EQ(e[1]->tag, RV_TLB_INVALID);
    /* a whole flush request */
    e[1]->tag = va[1];
    h->tlb_clean = 0;
    req = rv_hart_request_flush(h);
    rv_hart_do_flush(h);
    CHECK_EQ(e[1]->tag, RV_TLB_INVALID);
    CHECK_EQ(atomic_load(&h->tlb_flush_done), req);
    free(h);
}

int main(void)
{
    bus.ram = calloc(1, RAM_SIZE);
    bus.ram_base = RAM_BASE;
    bus.ram_size = RAM_SIZE;
    test_ecall_exit();
    test_ecall_trap_to_m();
    test_illegal_monitor_exit();
    test_wfi_and_stop();
    test_csr_warl();
    test_save_load();
    test_satp_modes();
    test_counters();
    test_ranged_remote_flush();
    free(bus.ram);
    TEST_MAIN_END();
}
