/* Internal: clocks and timestamps. */
#ifndef LV_UTIL_TIME_H
#define LV_UTIL_TIME_H

#include <pthread.h>
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

/* A sleep that a stop cuts short: threads that look for work every so often wait on it, so that
 * stopping them takes no longer than their current step (not a whole idle period). */
typedef struct lv_waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on the monotonic clock */
	int stopped;
} lv_waiter;

void lv_waiter_init(lv_waiter *w);
void lv_waiter_destroy(lv_waiter *w);
/* Wake every sleeper now and every later one at once. */
void lv_waiter_stop(lv_waiter *w);
/* Sleep up to ms milliseconds; 1 when stopped (then without sleeping), else 0. */
int lv_waiter_sleep(lv_waiter *w, int64_t ms);

#endif
