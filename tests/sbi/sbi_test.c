/* SBI conformance test for rvisor's built-in firmware: an S-mode "kernel" (started by
 * `rvisor run --kernel sbi_test.elf --smp 2`) that calls every implemented extension with
 * good and bad arguments and checks the answers against the SBI v2.0 spec. It reports through
 * the DBCN console and ends with the syscon test finisher: status 0 = all passed, otherwise
 * the number of the first failed check. */
#include <stdint.h>

#define SBI_SUCCESS 0
#define SBI_ERR_NOT_SUPPORTED (-2)
#define SBI_ERR_INVALID_PARAM (-3)
#define SBI_ERR_INVALID_ADDRESS (-5)
#define SBI_ERR_ALREADY_AVAILABLE (-6)

#define EXT_BASE 0x10
#define EXT_TIME 0x54494d45
#define EXT_IPI 0x735049
#define EXT_RFENCE 0x52464e43
#define EXT_HSM 0x48534d
#define EXT_SRST 0x53525354
#define EXT_DBCN 0x4442434e
#define EXT_PMU 0x504d55

#define FINISHER 0x100000ul

struct sbiret {
    long error;
    long value;
};

static struct sbiret sbi(long eid, long fid, long a0, long a1, long a2, long a3, long a4)
{
    register long r0 __asm__("a0") = a0, r1 __asm__("a1") = a1, r2 __asm__("a2") = a2;
    register long r3 __asm__("a3") = a3, r4 __asm__("a4") = a4;
    register long r6 __asm__("a6") = fid, r7 __asm__("a7") = eid;
    __asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r3), "r"(r4), "r"(r6), "r"(r7)
                     : "memory");
    return (struct sbiret){r0, r1};
}

static void puts_dbcn(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    sbi(EXT_DBCN, 0, (long)n, (long)s, 0, 0, 0);
}

static void finish(unsigned status)
{
    *(volatile uint32_t *)FINISHER = status ? 0x3333 | (status << 16) : 0x5555;
    for (;;)
        __asm__ volatile("wfi");
}

static unsigned checks;

static void check(int ok, const char *what)
{
    checks++;
    if (!ok) {
        puts_dbcn("FAIL: ");
        puts_dbcn(what);
        puts_dbcn("\n");
        finish(checks);
    }
}

volatile int hart1_ran;
volatile long hart1_opaque;
uint8_t hart1_stack[4096] __attribute__((aligned(16)));

/* A remote SFENCE.VMA to a hart asleep in WFI (rvisor completes it without waking the hart,
 * which flushes when it wakes): hart 1 maps VA_TEST through Sv39 to PA_A, reads it, sleeps;
 * hart 0 remaps VA_TEST to PA_B, fences hart 1 remotely, then wakes it with an IPI; hart 1
 * must read through the new mapping. */
#define VA_TEST 0xc0000000ul
#define PA_A 0x80600000ul
#define PA_B 0x80800000ul
#define PTE_LEAF 0xcful /* V R W X A D */
void hart1_entry(void);
uint64_t root_table[512] __attribute__((aligned(4096)));
uint64_t l1_table[512] __attribute__((aligned(4096)));
volatile int fence_ready, fence_go, fence_done;
volatile long fence_seen[2];

static void fence_test_hart1(void)
{
    __asm__ volatile("csrw satp, %0; sfence.vma" ::"r"((8ul << 60) | ((uintptr_t)root_table >> 12))
                     : "memory");
    fence_seen[0] = *(volatile long *)VA_TEST; /* cached in hart 1's TLB from here on */
    __asm__ volatile("csrs sie, %0" ::"r"(2ul)); /* SSIP wakes WFI; sstatus.SIE stays 0 */
    fence_ready = 1;
    while (!fence_go)
        __asm__ volatile("wfi");
    __asm__ volatile("csrc sip, %0" ::"r"(2ul));
    fence_seen[1] = *(volatile long *)VA_TEST;
    fence_done = 1;
}

static void fence_test(void)
{
    *(volatile long *)PA_A = 0xa;
    *(volatile long *)PA_B = 0xb;
    root_table[2] = (0x80000000ul >> 12) << 10 | PTE_LEAF;     /* identity gigapage */
    root_table[3] = ((uintptr_t)l1_table >> 12) << 10 | 1;    /* VA_TEST's gigabyte */
    l1_table[0] = (PA_A >> 12) << 10 | PTE_LEAF;               /* a 2 MiB page */
    struct sbiret r = sbi(EXT_HSM, 0, 1, (long)hart1_entry, 100, 0, 0);
    check(r.error == 0, "hart_start hart 1 for the fence test");
    for (long spin = 0; !fence_ready && spin < 100000000; spin++)
        ;
    check(fence_ready && fence_seen[0] == 0xa, "hart 1 reads through its first mapping");
    for (volatile long spin = 0; spin < 1000000; spin++) /* let it fall asleep */
        ;
    l1_table[0] = (PA_B >> 12) << 10 | PTE_LEAF;
    __asm__ volatile("fence rw, rw" ::: "memory");
    r = sbi(EXT_RFENCE, 1, 2, 0, 0, -1, 0);
    check(r.error == 0, "remote sfence.vma to the sleeping hart 1");
    fence_go = 1;
    sbi(EXT_IPI, 0, 2, 0, 0, 0, 0);
    for (long spin = 0; !fence_done && spin < 100000000; spin++)
        ;
    check(fence_done && fence_seen[1] == 0xb, "hart 1 woke with its TLB fenced");
}

void hart1_main(long hartid, long opaque);
void hart1_main(long hartid, long opaque)
{
    if (opaque == 100)
        fence_test_hart1();
    hart1_opaque = opaque + hartid;
    hart1_ran = 1;
    sbi(EXT_HSM, 1, 0, 0, 0, 0, 0); /* hart_stop: does not return */
    for (;;)
        ;
}

static char buf[32];

void kmain(long hartid, long dtb);
void kmain(long hartid, long dtb)
{
    check(hartid == 0 && dtb != 0, "boot registers a0 = 0, a1 = device tree");
    /* BASE */
    struct sbiret r = sbi(EXT_BASE, 0, 0, 0, 0, 0, 0);
    check(r.error == 0 && r.value == 0x2000000, "spec version 2.0");
    r = sbi(EXT_BASE, 3, EXT_HSM, 0, 0, 0, 0);
    check(r.error == 0 && r.value == 1, "probe HSM");
    r = sbi(EXT_BASE, 3, EXT_PMU, 0, 0, 0, 0);
    check(r.error == 0 && r.value == 0, "probe PMU: absent");
    r = sbi(EXT_BASE, 3, 0x12345678, 0, 0, 0, 0);
    check(r.error == 0 && r.value == 0, "probe an unknown extension");
    r = sbi(EXT_BASE, 99, 0, 0, 0, 0, 0);
    check(r.error == SBI_ERR_NOT_SUPPORTED, "unknown BASE function");
    r = sbi(EXT_PMU, 0, 0, 0, 0, 0, 0);
    check(r.error == SBI_ERR_NOT_SUPPORTED, "PMU call not supported");
    r = sbi(0x0a000000, 0, 0, 0, 0, 0, 0);
    check(r.error == SBI_ERR_NOT_SUPPORTED, "unknown extension");
    /* TIME */
    r = sbi(EXT_TIME, 0, -1, 0, 0, 0, 0);
    check(r.error == 0, "set_timer far future");
    r = sbi(EXT_TIME, 1, 0, 0, 0, 0, 0);
    check(r.error == SBI_ERR_NOT_SUPPORTED, "unknown TIME function");
    /* IPI: a bad hart number anywhere in the mask fails the whole call */
    r = sbi(EXT_IPI, 0, 1 | (1l << 40), 0, 0, 0, 0);
    check(r.error == SBI_ERR_INVALID_PARAM, "IPI to a hart that does not exist");
    uint64_t sip;
    __asm__ volatile("csrr %0, sip" : "=r"(sip));
    check(!(sip & 2), "no IPI delivered by the failed call");
    r = sbi(EXT_IPI, 0, 1, 0, 0, 0, 0);
    __asm__ volatile("csrr %0, sip" : "=r"(sip));
    check(r.error == 0 && (sip & 2), "IPI to self sets sip.SSIP");
    __asm__ volatile("csrc sip, %0" ::"r"(2ul));
    /* RFENCE */
    r = sbi(EXT_RFENCE, 1, 3, 0, 0, -1, 0);
    check(r.error == 0, "remote sfence.vma to harts 0 and 1");
    r = sbi(EXT_RFENCE, 0, 0, -1, 0, 0, 0);
    check(r.error == 0, "remote fence.i to all harts");
    r = sbi(EXT_RFENCE, 1, 1, 7, 0, 0, 0);
    check(r.error == SBI_ERR_INVALID_PARAM, "remote fence with a bad hart base");
    r = sbi(EXT_RFENCE, 3, 1, 0, 0, 0, 0);
    check(r.error == SBI_ERR_NOT_SUPPORTED, "hypervisor fences not supported");
    /* HSM */
    r = sbi(EXT_HSM, 2, 1, 0, 0, 0, 0);
    check(r.error == 0 && r.value == 1, "hart 1 starts stopped");
    r = sbi(EXT_HSM, 2, 5, 0, 0, 0, 0);
    check(r.error == SBI_ERR_INVALID_PARAM, "status of a hart that does not exist");
    r = sbi(EXT_HSM, 0, 1, 0x1000, 0, 0, 0);
    check(r.error == SBI_ERR_INVALID_ADDRESS, "hart_start at an address outside RAM");
    r = sbi(EXT_HSM, 0, 9, (long)hart1_entry, 0, 0, 0);
    check(r.error == SBI_ERR_INVALID_PARAM, "hart_start of a hart that does not exist");
    r = sbi(EXT_HSM, 0, 0, (long)hart1_entry, 0, 0, 0);
    check(r.error == SBI_ERR_ALREADY_AVAILABLE, "hart_start of the running hart");
    r = sbi(EXT_HSM, 0, 1, (long)hart1_entry, 41, 0, 0);
    check(r.error == 0, "hart_start hart 1");
    for (long spin = 0; !hart1_ran && spin < 100000000; spin++)
        ;
    check(hart1_ran && hart1_opaque == 42, "hart 1 ran with a0 = hartid, a1 = opaque");
    for (long spin = 0; spin < 100000000; spin++)
        if (sbi(EXT_HSM, 2, 1, 0, 0, 0, 0).value == 1)
            break;
    check(sbi(EXT_HSM, 2, 1, 0, 0, 0, 0).value == 1, "hart 1 stopped itself");
    fence_test();
    r = sbi(EXT_HSM, 3, 0x12345, 0, 0, 0, 0);
    check(r.error == SBI_ERR_INVALID_PARAM, "suspend with a reserved type");
    /* DBCN */
    r = sbi(EXT_DBCN, 0, 5, 0x1000, 0, 0, 0);
    check(r.error == SBI_ERR_INVALID_PARAM, "console_write from outside RAM");
    r = sbi(EXT_DBCN, 0, 3, (long)"ok\n", 1, 0, 0);
    check(r.error == SBI_ERR_INVALID_PARAM, "console_write with base_hi set");
    r = sbi(EXT_DBCN, 1, sizeof(buf), (long)buf, 0, 0, 0);
    check(r.error == 0 && r.value == 0, "console_read with no input");
    r = sbi(EXT_DBCN, 2, 'S', 0, 0, 0, 0);
    check(r.error == 0, "console_write_byte");
    /* SRST: bad arguments are refused; a good one does not return */
    r = sbi(EXT_SRST, 0, 7, 0, 0, 0, 0);
    check(r.error == SBI_ERR_INVALID_PARAM, "system_reset with a reserved type");
    r = sbi(EXT_SRST, 0, 0, 5, 0, 0, 0);
    check(r.error == SBI_ERR_INVALID_PARAM, "system_reset with a reserved reason");
    puts_dbcn("BI: all checks passed\n");
    sbi(EXT_SRST, 0, 0, 0, 0, 0, 0); /* shutdown, no reason: exit status 0 */
    finish(999);
}
