#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The library's only mutable state outside objects: one record per thread. */
static _Thread_local struct {
	lv_error pub;
	char message[1024];
	char details[1024]; /* fixed storage: nothing to free when a thread ends */
} last_error = { { LV_OK, "", NULL }, "", "" };

static void lv_strlcpy_internal(char *dst, const char *src, size_t cap)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void reset_record(void)
{
	last_error.details[0] = '\0';
	last_error.pub.details_json = NULL;
}

int lv_error_set(int status, const char *fmt, ...)
{
	va_list ap;
	reset_record();
	va_start(ap, fmt);
	vsnprintf(last_error.message, sizeof(last_error.message), fmt, ap);
	va_end(ap);
	last_error.pub.status = status;
	last_error.pub.message = last_error.message;
	return status;
}

void lv_error_set_details(const char *details_json)
{
	/* Details that do not fit are dropped rather than cut into invalid JSON. */
	if (!details_json || strlen(details_json) >= sizeof(last_error.details)) {
		reset_record();
		return;
	}
	lv_strlcpy_internal(last_error.details, details_json, sizeof(last_error.details));
	last_error.pub.details_json = last_error.details;
}

int lv_error_prefix(const char *fmt, ...)
{
	char prefix[512], old[sizeof(last_error.message)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, last_error.message, sizeof(old));
	{
		size_t n = strlen(prefix);
		if (n > sizeof(last_error.message) - 3)
			n = sizeof(last_error.message) - 3;
		memcpy(last_error.message, prefix, n);
		memcpy(last_error.message + n, ": ", 2);
		lv_strlcpy_internal(last_error.message + n + 2, old, sizeof(last_error.message) - n - 2);
	}
	return last_error.pub.status;
}

int lv_error_nomem(void)
{
	return lv_error_set(LV_ENOMEM, "out of memory");
}

const lv_error *lv_error_last(void)
{
	last_error.pub.message = last_error.message;
	return &last_error.pub;
}

void lv_error_clear(void)
{
	reset_record();
	last_error.pub.status = LV_OK;
	last_error.message[0] = '\0';
}

static const struct {
	const char *code;
	const char *text;
} status_table[] = {
	[LV_OK] = { "ok", "success" },
	[LV_EINVALID] = { "invalid_request", "invalid request" },
	[LV_EAUTH] = { "invalid_api_key", "missing or invalid API key" },
	[LV_ECREDITS] = { "insufficient_credits", "insufficient credits" },
	[LV_ENOTFOUND] = { "task_not_found", "not found" },
	[LV_ENOTCOMPOSABLE] = { "not_composable", "the task's status does not allow re-composition" },
	[LV_ENOSEGMENTS] = { "no_segments", "the task has no segments to compose" },
	[LV_ESEGMENTS] = { "segments_not_ready", "some segments are not ready" },
	[LV_EIDEMPOTENCY] = { "idempotency_key_reused", "idempotency key reused with a different body" },
	[LV_ENOMEM] = { "internal_error", "out of memory" },
	[LV_EIO] = { "internal_error", "input/output error" },
	[LV_ESTORE] = { "internal_error", "task store error" },
	[LV_ECONFIG] = { "invalid_config", "invalid configuration" },
	[LV_EPROVIDER] = { "provider_error", "provider error" },
	[LV_ECANCELED] = { "canceled", "canceled" },
	[LV_ETIMEOUT] = { "timeout", "timed out" },
	[LV_EBUSY] = { "busy", "resource busy" },
	[LV_EINTERNAL] = { "internal_error", "internal error" },
	[LV_ERATELIMIT] = { "rate_limited", "too many requests" },
	[LV_ENOKEY] = { "key_not_found", "no such API key" },
	[LV_ENOTREVIEWABLE] = { "not_reviewable", "the task is not awaiting storyboard review" },
	[LV_EGONE] = { "result_removed", "the result was removed by the retention policy" },
};

#define N_STATUS (sizeof(status_table) / sizeof(status_table[0]))

const char *lv_strerror(int status)
{
	if (status < 0 || (size_t)status >= N_STATUS || !status_table[status].text)
		return "unknown error";
	return status_table[status].text;
}

const char *lv_status_code(int status)
{
	if (status < 0 || (size_t)status >= N_STATUS || !status_table[status].code)
		return "internal_error";
	return status_table[status].code;
}
