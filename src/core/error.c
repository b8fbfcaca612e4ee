#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char error_msg[RV_ERROR_MAX];

int rv_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_msg, sizeof(error_msg), fmt, ap);
    va_end(ap);
    return code;
}

int rv_error_prefix(int code, const char *fmt, ...)
{
    char prefix[RV_ERROR_MAX], old[RV_ERROR_MAX];
    memcpy(old, error_msg, sizeof(old));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    snprintf(error_msg, sizeof(error_msg), "%s%s", prefix, old);
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
