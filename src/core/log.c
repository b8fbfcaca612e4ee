#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

/* The level is process-wide configuration set once by the front end, not VM state. */
static _Atomic int log_level = RV_LOG_WARN;

void rv_log_set_level(enum rv_log_level level)
{
    atomic_store(&log_level, (int)level);
}

void rv_log(enum rv_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if ((int)level > atomic_load(&log_level))
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rvisor: %s: ", names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
