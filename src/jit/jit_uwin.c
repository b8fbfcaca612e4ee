/* Translated code and host-MMU windows (cpu/uwin.h): the SIGSEGV handler that maps a faulting
 * window page or sends the access to its out-of-line slow path.
 *
 * A U-mode load or store translated for the window is `cmp base, [hart.uwin_limit]; jae cold;
 * op gs:[base + offset]` (the thread's GS base is the window, cpu/uwin.h), or only the access
 * where an earlier one of the block checked the base (translate_mem.c). If the host faults on
 * the access, the handler asks the window to map the page (then the access runs again) or,
 * where the window will not map it, moves the thread's rip to the access's out-of-line code:
 * the code the jae would have reached. The registers are then exactly as at that jump (the
 * access wrote nothing), so the slow path runs as for any TLB miss. The table of (access,
 * out-of-line code) offsets grows with the code cache, in code order, and is emptied with it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "core/error.h"
#include "cpu/uwin.h"
#include "jit/translate.h"

/* the translator whose code this thread runs (rv_jit_run) */
static __thread struct rv_jit *running;
static struct sigaction previous;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static bool installed;

void jit_uwin_running(struct rv_jit *j)
{
    running = j;
}

/* The out-of-line code of the access at code offset `off`, or 0. */
static uint32_t cold_of(const struct rv_jit *j, uint32_t off)
{
    size_t lo = 0, hi = j->nfix;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (j->fix[mid].access < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < j->nfix && j->fix[lo].access == off ? j->fix[lo].cold : 0;
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    struct rv_jit *j = running;
    uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    uintptr_t addr = (uintptr_t)si->si_addr;
    if (j && rip - (uintptr_t)j->code_rx < j->code_size && rv_uwin_contains(j->hart, addr)) {
        int saved = errno;
        bool is_write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0; /* x86 page-fault code W/R */
        bool mapped = rv_uwin_fault(j->hart, addr, is_write);
        errno = saved;
        if (mapped)
            return;
        uint32_t cold = cold_of(j, (uint32_t)(rip - (uintptr_t)j->code_rx));
        if (cold) {
            j->stats.uwin_slow++;
            uc->uc_mcontext.gregs[REG_RIP] = (greg_t)((uintptr_t)j->code_rx + cold);
            return;
        }
    }
    /* Not a window access: what would have happened without this handler. */
    if (previous.sa_flags & SA_SIGINFO && previous.sa_sigaction) {
        previous.sa_sigaction(sig, si, ctx);
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
    } else {
        /* A crash as without the handler (resetting the action would need rt_sigaction,
         * which the sandbox refuses). */
        static const char msg[] = "rvisor: segmentation fault\n";
        if (write(2, msg, sizeof(msg) - 1) < 0) {
            /* nothing more to do */
        }
        abort();
    }
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    installed = sigaction(SIGSEGV, &sa, &previous) == 0;
}

bool rv_jit_uwin_ready(void)
{
    pthread_once(&install_once, install);
    return installed;
}

int jit_uwin_init(struct rv_jit *j)
{
    pthread_once(&install_once, install);
    /* at most one window access per 16 bytes of code (each is longer) */
    j->fix_cap = j->code_size / 16;
    void *p = mmap(NULL, j->fix_cap * sizeof(*j->fix), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return rv_error_set(-ENOMEM, "out of memory");
    j->fix = p;
    return 0;
}

void jit_uwin_fini(struct rv_jit *j)
{
    if (j->fix)
        munmap(j->fix, j->fix_cap * sizeof(*j->fix));
}

void jit_uwin_note(struct tr *t, uintptr_t access, uintptr_t cold)
{
    struct rv_jit *j = t->j;
    if (j->nfix == j->fix_cap) {
        t->fail = true;
        return;
    }
    j->fix[j->nfix++] = (struct jit_fix){(uint32_t)(access - (uintptr_t)j->code_rx),
                                         (uint32_t)(cold - (uintptr_t)j->code_rx)};
}
