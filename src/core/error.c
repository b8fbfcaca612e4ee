#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char error_msg[RV_ERROR_MAX];

int rv_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_msg, sizeof(error_msg), fmt, ap);
    va_end(ap);
    return code;
}

const char *rv_error_get(void)
{
    return error_msg;
}

void rv_error_clear(void)
{
    error_msg[0] = '\0';
}
