/* Internal: logging to stderr.  Never pass secrets: keys, tokens, webhook secrets. */
#ifndef LV_UTIL_LOG_H
#define LV_UTIL_LOG_H

#include "util/error.h"

enum { LV_LOG_DEBUG = 0, LV_LOG_INFO = 1, LV_LOG_WARN = 2, LV_LOG_ERROR = 3, LV_LOG_OFF = 4 };

/* The level comes from $LV_LOG_LEVEL (debug|info|warn|error|off, default info), read once per call site cache-free. */
int lv_log_level(void);
void lv_log(int level, const char *fmt, ...) LV_PRINTF(2, 3);

#define LV_DEBUG(...) lv_log(LV_LOG_DEBUG, __VA_ARGS__)
#define LV_INFO(...) lv_log(LV_LOG_INFO, __VA_ARGS__)
#define LV_WARN(...) lv_log(LV_LOG_WARN, __VA_ARGS__)
#define LV_ERROR(...) lv_log(LV_LOG_ERROR, __VA_ARGS__)

#endif
