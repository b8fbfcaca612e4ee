/* The lockstep loop of the translator tests (test_jit_return.c, test_jit_uwin.c): the
 * translated hart `a` (translator j) and the interpreted hart `b` run the same slices of
 * budget until they leave with anything but RV_EXIT_BUDGET, their states compared by `same`
 * after every slice; the first difference is printed (pc, instret, s0). */
#ifndef RV_TEST_JIT_LOCKSTEP_H
#define RV_TEST_JIT_LOCKSTEP_H

#include <stdbool.h>
#include <stdio.h>

#include "cpu/hart.h"
#include "jit/jit.h"

/* Returns whether the states stayed equal; *exit = the translator's last exit. */
static inline bool jit_lockstep(struct rv_jit *j, struct rv_hart *a, struct rv_hart *b,
                                uint64_t slice,
                                bool (*same_state)(const struct rv_hart *, const struct rv_hart *),
                                enum rv_exit *exit)
{
    enum rv_exit ea = RV_EXIT_BUDGET, eb = RV_EXIT_BUDGET;
    bool same = true;
    for (unsigned round = 0; round < 100000 && same && ea == RV_EXIT_BUDGET; round++) {
        ea = rv_jit_run(j, slice);
        eb = rv_hart_run(b, slice);
        same = ea == eb && same_state(a, b);
        if (!same)
            fprintf(stderr, "slice %llu round %u: jit exit %d pc %llx instret %llu s0 %llx, "
                    "interpreter exit %d pc %llx instret %llu s0 %llx\n",
                    (unsigned long long)slice, round, (int)ea, (unsigned long long)a->pc,
                    (unsigned long long)a->instret, (unsigned long long)a->x[8] /* s0 */, (int)eb,
                    (unsigned long long)b->pc, (unsigned long long)b->instret,
                    (unsigned long long)b->x[8]);
    }
    *exit = ea;
    return same;
}

#endif
