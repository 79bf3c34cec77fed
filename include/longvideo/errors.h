/*
 * liblongvideo — status codes and the per-thread last error.
 *
 * Status codes are append-only: a code is never renumbered or reused.
 */
#ifndef LONGVIDEO_ERRORS_H
#define LONGVIDEO_ERRORS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lv_status {
	LV_OK = 0,
	LV_EINVALID = 1,        /**< a request or argument failed validation (API: invalid_request) */
	LV_EAUTH = 2,           /**< missing, malformed, unknown or revoked API key (invalid_api_key) */
	LV_ECREDITS = 3,        /**< balance below the task's cost estimate (insufficient_credits) */
	LV_ENOTFOUND = 4,       /**< the task (or key) does not exist or is not yours (task_not_found) */
	LV_ENOTCOMPOSABLE = 5,  /**< the task's status does not allow re-composition (not_composable) */
	LV_ENOSEGMENTS = 6,     /**< the task has no segment to compose (no_segments) */
	LV_ESEGMENTS = 7,       /**< some segments are not ready (segments_not_ready) */
	LV_EIDEMPOTENCY = 8,    /**< Idempotency-Key reused with a different body (idempotency_key_reused) */
	LV_ENOMEM = 9,          /**< out of memory */
	LV_EIO = 10,            /**< a file or network operation failed */
	LV_ESTORE = 11,         /**< the task store failed */
	LV_ECONFIG = 12,        /**< the configuration is invalid */
	LV_EPROVIDER = 13,      /**< a provider failed */
	LV_ECANCELED = 14,      /**< the operation was canceled */
	LV_ETIMEOUT = 15,       /**< an operation ran out of time */
	LV_EBUSY = 16,          /**< a resource is busy; try again */
	LV_EINTERNAL = 17,      /**< an unexpected internal failure (internal_error) */
	LV_ERATELIMIT = 18,     /**< too many requests (rate_limited) */
	LV_ENOKEY = 19,         /**< no API key with that id (operator calls; key_not_found) */
	LV_ENOTREVIEWABLE = 20, /**< the task is not awaiting storyboard review (not_reviewable) */
	LV_EGONE = 21           /**< the result was removed by the retention policy (result_removed, HTTP 410) */
} lv_status;

/** The error recorded by the last failing call on this thread. */
typedef struct lv_error {
	int status;               /**< an lv_status; LV_OK when nothing failed */
	const char *message;      /**< names the problem, e.g. "duration: must be an integer from 3 to 180" */
	const char *details_json; /**< a JSON object with details, or NULL (e.g. {"missing":[3,7]}) */
} lv_error;

/**
 * The last error on the calling thread.  Never NULL: when nothing failed,
 * status is LV_OK and message is "".  Valid until the next library call on
 * this thread.
 */
LV_EXTERN(const lv_error *) lv_error_last(void);

/** Forget the calling thread's last error. */
LV_EXTERN(void) lv_error_clear(void);

/** A static English sentence for a status: "invalid request". */
LV_EXTERN(const char *) lv_strerror(int status);

/**
 * The API error code for a status, as used in HTTP error bodies and
 * `lvctl --json`: LV_EINVALID -> "invalid_request".  Static string.
 */
LV_EXTERN(const char *) lv_status_code(int status);

#ifdef __cplusplus
}
#endif
#endif
