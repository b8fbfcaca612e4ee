/* Levelled logging to stderr; the guest console owns stdout. */
#ifndef RV_CORE_LOG_H
#define RV_CORE_LOG_H

enum rv_log_level { RV_LOG_ERROR, RV_LOG_WARN, RV_LOG_INFO, RV_LOG_DEBUG };

void rv_log_set_level(enum rv_log_level level);
void rv_log(enum rv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rv_err(...)   rv_log(RV_LOG_ERROR, __VA_ARGS__)
#define rv_warn(...)  rv_log(RV_LOG_WARN, __VA_ARGS__)
#define rv_info(...)  rv_log(RV_LOG_INFO, __VA_ARGS__)
#define rv_debug(...) rv_log(RV_LOG_DEBUG, __VA_ARGS__)

#endif
