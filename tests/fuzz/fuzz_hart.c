/* libFuzzer target: the interpreter on arbitrary code.
 *
 * The input is copied to the start of a 256 KiB RAM at 0x80000000 (between guard pages; the
 * rest is zero) and a bare-metal hart (monitor_is_m = false) starts there in M-mode with mtvec
 * at the same address, so traps re-enter the fuzzed code with new state. It runs 2000
 * instructions: whatever the guest does (CSR writes, satp and page tables made of fuzz data,
 * MPRV, misaligned and I/O accesses, AMOs, FP) the host must not crash or touch memory outside
 * RAM, and a few architectural invariants must hold afterwards.
 *
 * The machine (fuzz_machine.h) has an I/O page at the end of RAM and a device page that can
 * raise every interrupt, so both I/O paths and all traps are exercised. */
#include "fuzz_machine.h"

#define BUDGET 2000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_machine m;
    if (!m.hart)
        fm_init(&m);
    fm_reset(&m, data, size);
    struct rv_hart *h = m.hart;

    /* A WFI exit returns early with pc past the WFI: carry on with what is left of the budget
     * (a bounded number of times). A budget exit has used it all. */
    uint64_t left = BUDGET;
    for (unsigned calls = 0; calls < 8 && left > 0; calls++) {
        uint64_t before = h->instret;
        enum rv_exit e = rv_hart_run(h, left);
        /* Without a monitor every trap is the guest's own; only the budget and WFI end a run. */
        FUZZ_CHECK(e == RV_EXIT_BUDGET || e == RV_EXIT_WFI);
        FUZZ_CHECK(h->x[0] == 0);
        FUZZ_CHECK(h->priv == RV_PRIV_U || h->priv == RV_PRIV_S || h->priv == RV_PRIV_M);
        FUZZ_CHECK((h->pc & 1) == 0);
        FUZZ_CHECK(((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) != 2);
        unsigned mode = h->satp >> SATP_MODE_SHIFT;
        FUZZ_CHECK(mode == SATP_MODE_BARE || mode == SATP_MODE_SV39 || mode == SATP_MODE_SV48 ||
                   mode == SATP_MODE_SV57);
        if (e == RV_EXIT_BUDGET)
            break;
        uint64_t used = h->instret - before + 1;
        left = used < left ? left - used : 0;
    }
    return 0;
}
