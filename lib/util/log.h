/* Internal: the library's log lines, delivered through the callback of <longvideo/log.h>.
 * Never pass secrets: keys, tokens, webhook secrets. */
#ifndef LV_UTIL_LOG_H
#define LV_UTIL_LOG_H

#include "longvideo/log.h"
#include "util/error.h"

/* Whether a line at `level` would be delivered now (cheap: one atomic load). */
int lv_log_enabled(int level);
void lv_log(int level, const char *fmt, ...) LV_PRINTF(2, 3);

#define LV_DEBUG(...) lv_log(LV_LOG_DEBUG, __VA_ARGS__)
#define LV_INFO(...) lv_log(LV_LOG_INFO, __VA_ARGS__)
#define LV_WARN(...) lv_log(LV_LOG_WARN, __VA_ARGS__)
#define LV_ERROR(...) lv_log(LV_LOG_ERROR, __VA_ARGS__)

#endif
