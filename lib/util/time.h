/* Internal: clocks and timestamps. */
#ifndef LV_UTIL_TIME_H
#define LV_UTIL_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock, milliseconds since the epoch. */
int64_t lv_now_ms(void);
/* Monotonic clock in milliseconds (for timeouts and durations). */
int64_t lv_mono_ms(void);
/* "2026-11-24T08:00:41Z" (UTC, seconds) into out[21]. */
void lv_time_iso8601(char out[21], int64_t ms);
/* Sleep for ms milliseconds (restarts on EINTR). */
void lv_sleep_ms(int64_t ms);

#endif
