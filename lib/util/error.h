/* Internal: setting the per-thread last error. */
#ifndef LV_UTIL_ERROR_H
#define LV_UTIL_ERROR_H

#include "longvideo/errors.h"

#if defined(__GNUC__)
#  define LV_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define LV_PRINTF(a, b)
#endif

/** Record `status` with a formatted message as this thread's last error; returns `status`. */
int lv_error_set(int status, const char *fmt, ...) LV_PRINTF(2, 3);
/** Attach a JSON object text (copied) as details of the current last error. */
void lv_error_set_details(const char *details_json);
/** Prefix the current message: "prefix: old message".  Returns the current status. */
int lv_error_prefix(const char *fmt, ...) LV_PRINTF(1, 2);
/** Out of memory: records LV_ENOMEM. */
int lv_error_nomem(void);

#endif
