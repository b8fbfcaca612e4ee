/* Accessed/Dirty bits under Sv39 (priv spec 10.3.1, Svade and Svadu): with menvcfg.ADUE = 0 an
 * access that needs A = 1 (any) or D = 1 (store) raises a page fault and leaves the PTE alone;
 * with ADUE = 1 the hart sets A on any access and D on stores/AMOs (also after a cached
 * translation from a load, and on superpage leaves and MPRV accesses), but never on an access
 * that faults for lack of permission. */
#include "env.h"

#define IDENT   0x80000000
#define VA_T    0x100000000
#define VA_2M   0x100200000
#define PA_2M   0x80400000

/* rewrites the PTE (address in variable pte_t) to map page_a with \flags; sfence.vma */
.macro SETPTE flags
    la a4, pte_t
    ld a4, 0(a4)
    la a5, page_a
    srli a5, a5, 12
    slli a5, a5, 10
    li a6, \flags
    or a5, a5, a6
    sd a5, 0(a4)
    sfence.vma
.endm

/* a0 = A/D bits of the PTE whose address is in variable \var */
.macro GETAD var=pte_t
    la a4, \var
    ld a4, 0(a4)
    ld a0, 0(a4)
    andi a0, a0, PTE_A | PTE_D
.endm

#define RWX_V (PTE_V | PTE_R | PTE_W | PTE_X)

TEST_MAIN
    li a0, 3
    call rt_vm_init
    li a0, IDENT
    li a1, IDENT
    li a2, 2
    li a3, PTE_LEAF | PTE_G
    call rt_vm_map
    li a0, VA_T
    la a1, page_a
    li a2, 0
    li a3, RWX_V
    call rt_vm_map
    la t0, pte_t
    sd a0, 0(t0)
    li a0, VA_2M
    li a1, PA_2M
    li a2, 1
    li a3, PTE_V | PTE_R | PTE_W
    call rt_vm_map
    la t0, pte_2m
    sd a0, 0(t0)
    call rt_vm_satp
    csrw satp, a0
    sfence.vma
    /* code in page_a: "li a0, 0x5a; ret" for fetch tests */
    la a1, page_a
    li a2, 0x05a00513               /* addi a0, zero, 0x5a */
    sw a2, 64(a1)
    li a2, 0x00008067               /* jalr zero, 0(ra) */
    sw a2, 68(a1)
    fence.i

    /* ---------------- ADUE = 0: software-managed A/D (page faults) */
    csrw CSR_MENVCFG, zero
    TESTCASE 1
    GOTO_S
    SETPTE RWX_V                    /* A = 0, D = 0 */
    li a1, VA_T
    TRAP_M CAUSE_LOAD_PAGE_FAULT, a1, ld a0, 0(a1)
    TRAP_M CAUSE_STORE_PAGE_FAULT, a1, sd a0, 0(a1)
    TRAP_M CAUSE_STORE_PAGE_FAULT, a1, amoor.d a0, a0, (a1)
    addi a2, a1, 64
    JUMP_FAULT 3, CAUSE_FETCH_PAGE_FAULT, a2, a2, a2
    GETAD
    CHECK a0, 0                     /* nothing was set */
    TESTCASE 2                      /* A = 1, D = 0: loads and fetches work, stores fault */
    SETPTE RWX_V | PTE_A
    li a1, VA_T
    ld a0, 0(a1)
    addi a2, a1, 64
    li a0, 0
    jalr a2
    CHECK a0, 0x5a
    TRAP_M CAUSE_STORE_PAGE_FAULT, a1, sd a0, 0(a1)
    GETAD
    CHECK a0, PTE_A
    TESTCASE 3                      /* the fault handler's job: set D, fence, retry */
    SETPTE RWX_V | PTE_A | PTE_D
    li a1, VA_T
    li a2, 0x77
    sd a2, 8(a1)
    ld a0, 8(a1)
    CHECK a0, 0x77
    TESTCASE 4                      /* superpage leaf without A */
    li a1, VA_2M
    TRAP_M CAUSE_LOAD_PAGE_FAULT, a1, ld a0, 0(a1)
    GETAD pte_2m
    CHECK a0, 0
    GOTO_M

    /* ---------------- ADUE = 1: hardware updating */
    li a0, ENVCFG_ADUE
    csrw CSR_MENVCFG, a0
    csrr a1, CSR_MENVCFG
    CHECK a1, ENVCFG_ADUE
    TESTCASE 10                     /* a load sets A only */
    GOTO_S
    SETPTE RWX_V
    li a1, VA_T
    ld a0, 0(a1)
    GETAD
    CHECK a0, PTE_A
    TESTCASE 11                     /* a store after a cached load translation sets D */
    li a1, VA_T
    sd a0, 0(a1)
    GETAD
    CHECK a0, PTE_A | PTE_D
    TESTCASE 12                     /* a store to a fresh PTE sets both */
    SETPTE RWX_V
    li a1, VA_T
    sw a0, 4(a1)
    GETAD
    CHECK a0, PTE_A | PTE_D
    TESTCASE 13                     /* AMOs set both */
    SETPTE RWX_V
    li a1, VA_T
    amoadd.d a0, zero, (a1)
    GETAD
    CHECK a0, PTE_A | PTE_D
    TESTCASE 14                     /* LR is a load: A only */
    SETPTE RWX_V
    li a1, VA_T
    lr.d a0, (a1)
    GETAD
    CHECK a0, PTE_A
    TESTCASE 15                     /* a fetch sets A only */
    SETPTE RWX_V
    li a1, VA_T + 64
    li a0, 0
    jalr a1
    CHECK a0, 0x5a
    GETAD
    CHECK a0, PTE_A
    TESTCASE 16                     /* a store without W faults and sets nothing */
    SETPTE PTE_V | PTE_R
    li a1, VA_T
    TRAP_M CAUSE_STORE_PAGE_FAULT, a1, sd a0, 0(a1)
    GETAD
    CHECK a0, 0
    TESTCASE 17                     /* a load without R (MXR = 0) faults and sets nothing */
    SETPTE PTE_V | PTE_X
    li a1, VA_T
    TRAP_M CAUSE_LOAD_PAGE_FAULT, a1, ld a0, 0(a1)
    GETAD
    CHECK a0, 0
    TESTCASE 18                     /* superpage leaf */
    li a1, VA_2M + 0x100
    ld a0, 0(a1)
    GETAD pte_2m
    CHECK a0, PTE_A
    sd a0, 8(a1)
    GETAD pte_2m
    CHECK a0, PTE_A | PTE_D
    GOTO_M
    TESTCASE 19                     /* MPRV accesses from M update A/D too */
    SETPTE RWX_V
    li a0, MSTATUS_MPP
    csrc mstatus, a0
    li a0, MSTATUS_MPP_S | MSTATUS_MPRV
    csrs mstatus, a0
    li a1, VA_T
    sd zero, 16(a1)
    li a0, MSTATUS_MPRV
    csrc mstatus, a0
    GETAD
    CHECK a0, PTE_A | PTE_D
    csrw satp, zero
    csrw CSR_MENVCFG, zero
    PASS

    .data
    .balign 8
pte_t:  .dword 0
pte_2m: .dword 0
    .bss
    .balign 4096
page_a: .space 4096
