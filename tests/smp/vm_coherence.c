/* SMP memory-coherence test run inside the Linux guest: after a thread changes a mapping
 * (munmap, mprotect, MAP_FIXED/mremap over it, fork's copy-on-write), threads that were using
 * the page on other CPUs must see the change as soon as they can know about it. Each check has
 * the main thread on CPU 0 and one worker pinned to each other CPU, reading (or writing) the
 * page in a tight loop so that their harts have it cached (TLB, the translator's host-MMU
 * windows); the main thread changes the mapping, then publishes a flag with release order, and
 * every access a worker makes after observing the flag (acquire) must see the new mapping:
 * Linux's munmap/mprotect return only after the remote TLB shootdown (SBI RFENCE or IPI plus
 * SFENCE.VMA, privileged spec 4.2.1), so a stale translation shows up as a read of freed
 * memory, a write to a read-only page, or old contents. Prints one line per check and
 * "vm-coherence: ok" or the failures; exits non-zero on any failure. Built static with
 * Debian's riscv64 cross compiler. Usage: vm-coherence [ITERATIONS [CHECKS]]: 300 rounds and
 * all of munmap,mprotect,remap,fork by default. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 15
#define PAGE 4096

enum check { CHECK_MUNMAP, CHECK_MPROTECT, CHECK_REMAP };

static const char *const check_name[] = {"munmap", "mprotect", "remap"};

/* One round of a check: main publishes `page` and `round`; each worker reports `ready` after
 * its first access and `done` when it has seen the outcome; main sets `flag` = round after
 * changing the mapping. Rounds count from 1 so zeroed state means "none yet". */
static struct {
    enum check check;
    volatile uint64_t *volatile page;
    uint64_t old_val, new_val;
    int round, flag, stop;
    int ready[MAX_WORKERS], done[MAX_WORKERS];
    int bad[MAX_WORKERS];           /* accesses that saw the old mapping after the flag */
    uint64_t bad_val[MAX_WORKERS];  /* what such a read returned */
    int bad_round[MAX_WORKERS];
} st;

static __thread sigjmp_buf fault_jmp;
static __thread volatile int fault_armed;

static void on_segv(int sig)
{
    (void)sig;
    if (fault_armed) {
        fault_armed = 0;
        siglongjmp(fault_jmp, 1);
    }
    static const char msg[] = "vm-coherence: FAIL unexpected SIGSEGV\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "vm-coherence: FAIL timeout (a check hung)\n";
    (void)!write(1, msg, sizeof msg - 1);
    _exit(4);
}

static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

static int load_acq(int *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Handshakes sleep in futexes rather than spin: a spinning guest thread keeps its hart's host
 * thread busy, and with more harts than host cores the one that should run would wait. */
static void store_rel(int *p, int v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
    syscall(SYS_futex, p, FUTEX_WAKE_PRIVATE, 1 << 30, NULL, NULL, 0);
}

static void wait_for(int *p, int v)
{
    for (int cur; (cur = load_acq(p)) != v;)
        syscall(SYS_futex, p, FUTEX_WAIT_PRIVATE, cur, NULL, NULL, 0);
}

/* The worker's side of one round; returns when it has seen the outcome. A fault longjmps back
 * to the sigsetjmp, which may happen before the flag too (the mapping is gone but the flag
 * not yet set): only what happens after the flag counts. */
static void worker_round(int w, int round)
{
    volatile uint64_t *p = st.page;
    volatile int seen = 0, first = 1;
    if (sigsetjmp(fault_jmp, 1)) {
        if (first) /* cannot happen (the page is mapped before the round starts) */
            store_rel(&st.ready[w], round);
        /* faulted: the right outcome for munmap/mprotect, once the mapping has changed */
        if (st.check == CHECK_REMAP && seen) {
            st.bad[w]++; /* the new page is mapped: it must not fault */
            return;
        }
        if (st.check != CHECK_REMAP)
            return;
        /* remap by munmap + mmap: the page may be missing for a moment before the flag */
    }
    fault_armed = 1;
    for (;;) {
        seen = load_acq(&st.flag) == round;
        uint64_t v;
        if (st.check == CHECK_MPROTECT) {
            *p = seen ? st.new_val : st.old_val; /* must fault once seen */
            v = st.new_val;
        } else {
            v = *p;
        }
        if (first) {
            first = 0;
            store_rel(&st.ready[w], round);
        }
        if (!seen)
            continue;
        if (st.check == CHECK_REMAP && v == st.new_val)
            break;
        st.bad[w]++; /* an access through the old translation after the flag */
        st.bad_val[w] = v;
        st.bad_round[w] = round;
        break;
    }
    fault_armed = 0;
}

static void *worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    if (pin(w + 1) != 0)
        st.bad[w] += 1000000;
    for (int round = 1;; round++) {
        for (int cur; (cur = load_acq(&st.round)) != round;) {
            if (load_acq(&st.stop))
                return NULL;
            syscall(SYS_futex, &st.round, FUTEX_WAIT_PRIVATE, cur, NULL, NULL, 0);
        }
        worker_round(w, round);
        store_rel(&st.done[w], round);
    }
}

static volatile uint64_t *new_page(uint64_t val)
{
    void *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("vm-coherence: mmap");
        exit(2);
    }
    volatile uint64_t *p = m;
    *p = val;
    return p;
}

/* Main's side: change the mapping under the workers. The remap has three forms: MAP_FIXED over
 * the page, munmap then MAP_FIXED, and mremap of a prepared page onto it. Returns false if
 * the outcome seen from this thread is already wrong. */
static int change_mapping(volatile uint64_t *p, int round)
{
    void *addr = (void *)p;
    int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
    switch (st.check) {
    case CHECK_MUNMAP:
        return munmap(addr, PAGE) == 0;
    case CHECK_MPROTECT:
        return mprotect(addr, PAGE, PROT_READ) == 0;
    case CHECK_REMAP:
        break;
    }
    if (round % 3 == 1) {
        volatile uint64_t *q = new_page(st.new_val);
        if (mremap((void *)q, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, addr) != addr)
            return 0;
        return 1;
    }
    if (round % 3 == 2 && munmap(addr, PAGE) != 0)
        return 0;
    if (mmap(addr, PAGE, prot, flags, -1, 0) != addr)
        return 0;
    *p = st.new_val;
    return 1;
}

static int run_check(enum check check, int nworkers, int iterations)
{
    memset(&st, 0, sizeof st);
    st.check = check;
    pthread_t t[MAX_WORKERS];
    for (int w = 0; w < nworkers; w++)
        if (pthread_create(&t[w], NULL, worker, (void *)(intptr_t)w) != 0)
            return 1000000;
    int failures = 0;
    for (int round = 1; round <= iterations; round++) {
        st.old_val = 0xa11ce00000000000ull | (uint64_t)round;
        st.new_val = 0xb0b0000000000000ull | (uint64_t)round;
        volatile uint64_t *p = new_page(st.old_val);
        st.page = p;
        store_rel(&st.round, round);
        for (int w = 0; w < nworkers; w++)
            wait_for(&st.ready[w], round);
        if (!change_mapping(p, round)) {
            perror("vm-coherence: changing the mapping");
            failures++;
        }
        store_rel(&st.flag, round);
        for (int w = 0; w < nworkers; w++)
            wait_for(&st.done[w], round);
        if (check == CHECK_MPROTECT && *p != st.old_val) {
            printf("vm-coherence: mprotect round %d: the read-only page holds %#llx\n", round,
                   (unsigned long long)*p);
            failures++;
        }
        if (check != CHECK_MUNMAP)
            munmap((void *)p, PAGE);
    }
    store_rel(&st.stop, 1);
    store_rel(&st.round, -1); /* wakes the workers */
    for (int w = 0; w < nworkers; w++) {
        pthread_join(t[w], NULL);
        if (st.bad[w])
            printf("vm-coherence: %s: worker on CPU %d used the old mapping %d times (last in "
                   "round %d, read %#llx)\n", check_name[check], w + 1, st.bad[w],
                   st.bad_round[w], (unsigned long long)st.bad_val[w]);
        failures += st.bad[w];
    }
    return failures;
}

/* Fork's copy-on-write. The page holds the parent's value (word 0, written by the main thread
 * on CPU 0) and a counter (word 1) that a parent thread on CPU 1 bumps once a round. Each round
 * the main thread forks, writes the round's value (its copy-on-write fault gives the parent its
 * own page and must fence CPU 1, which was reading the shared one) and publishes the round; the
 * CPU 1 thread, after seeing it, must read that value, never the pre-fork one or the child's.
 * The child, on the last CPU (CPU 0 if there are two: a process switch on CPU 1 would flush
 * a stale entry there), must read the pre-fork value, then always read back its own writes,
 * and never see the counter move: fork write-protects the parent's page on every CPU running
 * the parent, and a hart that kept the writable translation would bump the counter in the
 * child's copy. The child reports through its exit status. */
static volatile uint64_t *cow_page;
static int cow_flag, cow_seen, cow_stop, cow_bad, cow_bad_round;
static uint64_t cow_bad_val;

static uint64_t cow_val(int round)
{
    return 0x9a9a000000000000ull | (uint64_t)round;
}

static void *cow_reader(void *arg)
{
    (void)arg;
    if (pin(1) != 0)
        cow_bad += 1000000;
    uint64_t n = 0;
    for (int last = 0; !load_acq(&cow_stop);) {
        int round = load_acq(&cow_flag);
        uint64_t v = cow_page[0]; /* the next round's value may already be there */
        if (v != cow_val(round) && v != cow_val(round + 1)) {
            cow_bad++;
            cow_bad_val = v;
            cow_bad_round = round;
        }
        if (round != last) {
            last = round;
            cow_page[1] = ++n;
            if (cow_page[1] != n)
                cow_bad++;
            store_rel(&cow_seen, round);
        }
    }
    return NULL;
}

static void cow_child(int cpu, int round)
{
    int bad = pin(cpu) != 0;
    const uint64_t counter = cow_page[1];
    bad |= (cow_page[0] != cow_val(round - 1)) << 1;
    for (int k = 0; k < 3000; k++) {
        cow_page[0] = 0xc41d0000 + (uint64_t)k;
        for (int j = 0; j < 4; j++) {
            bad |= (cow_page[0] != 0xc41d0000 + (uint64_t)k) << 2;
            bad |= (cow_page[1] != counter) << 3;
        }
    }
    _exit(bad);
}

static int run_fork(int ncpu, int iterations)
{
    cow_page = new_page(cow_val(0));
    pthread_t t;
    if (pthread_create(&t, NULL, cow_reader, NULL) != 0)
        return 1000000;
    int failures = 0;
    for (int round = 1; round <= iterations; round++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            cow_child(ncpu > 2 ? ncpu - 1 : 0, round); /* not beside the CPU 1 thread */
        if (pid < 0) {
            perror("vm-coherence: fork");
            failures++;
            break;
        }
        cow_page[0] = cow_val(round);
        if (cow_page[0] != cow_val(round))
            failures++;
        store_rel(&cow_flag, round);
        int status = 0;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
            /* status bits: 2 = pre-fork value wrong, 4 = own write lost, 8 = counter moved */
            printf("vm-coherence: fork round %d: the child failed (exit status %#x)\n", round,
                   WIFEXITED(status) ? WEXITSTATUS(status) : status);
            failures++;
        }
        wait_for(&cow_seen, round);
    }
    store_rel(&cow_stop, 1);
    pthread_join(t, NULL);
    if (cow_bad)
        printf("vm-coherence: fork: the parent's thread on CPU 1 read another value %d times "
               "(last in round %d: %#llx)\n", cow_bad, cow_bad_round,
               (unsigned long long)cow_bad_val);
    return failures + cow_bad;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int iterations = argc > 1 ? atoi(argv[1]) : 300;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (iterations < 1 || iterations > 1000000 || ncpu < 2) {
        printf("vm-coherence: FAIL needs 2 or more CPUs (have %ld) and 1 or more iterations\n",
               ncpu);
        return 2;
    }
    int nworkers = ncpu - 1 > MAX_WORKERS ? MAX_WORKERS : (int)ncpu - 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(300); /* a stale translation may also hang a check (faulting forever) */
    if (pin(0) != 0) {
        perror("vm-coherence: sched_setaffinity");
        return 2;
    }
    double t0 = seconds(), t = t0;
    int total = 0;
    const char *only = argc > 2 ? argv[2] : "munmap,mprotect,remap,fork";
    for (int c = CHECK_MUNMAP; c <= CHECK_REMAP; c++) {
        if (!strstr(only, check_name[c]))
            continue;
        int f = run_check((enum check)c, nworkers, iterations);
        printf("vm-coherence: %s x%d, %d workers: %s (%.2f s)\n", check_name[c], iterations,
               nworkers, f ? "FAIL" : "ok", seconds() - t);
        t = seconds();
        total += f;
    }
    if (strstr(only, "fork")) {
        int f = run_fork((int)ncpu, iterations);
        printf("vm-coherence: fork copy-on-write x%d: %s (%.2f s)\n", iterations,
               f ? "FAIL" : "ok", seconds() - t);
        total += f;
    }
    if (total) {
        printf("vm-coherence: FAIL (%d failures)\n", total);
        return 1;
    }
    printf("vm-coherence: ok (%.2f s)\n", seconds() - t0);
    return 0;
}
