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
    char old[RV_ERROR_MAX];
    memcpy(old, error_msg, sizeof(old));
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(error_msg, sizeof(error_msg), fmt, ap);
    va_end(ap);
    size_t used = n < 0 ? 0 : (size_t)n < sizeof(error_msg) ? (size_t)n : sizeof(error_msg) - 1;
    size_t room = sizeof(error_msg) - 1 - used;
    size_t len = strnlen(old, sizeof(old) - 1);
    if (len > room)
        len = room;
    memcpy(error_msg + used, old, len);
    error_msg[used + len] = '\0';
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
