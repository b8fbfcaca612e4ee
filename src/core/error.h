/* Error reporting: functions return 0 or a negative errno-style code and describe the failure
 * with rv_error_set(). The message is per thread (like errno), so two VMs in one process never
 * see each other's errors. */
#ifndef RV_CORE_ERROR_H
#define RV_CORE_ERROR_H

#define RV_ERROR_MAX 512

/* Records a printf-style message for the calling thread and returns `code` (a negative errno). */
int rv_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the calling thread's current message with a printf-style context ("file: ") and
 * returns `code`. */
int rv_error_prefix(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The calling thread's last message, or "" if none. */
const char *rv_error_get(void);
void rv_error_clear(void);

#endif
