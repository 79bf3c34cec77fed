/*
 * liblongvideo — video tasks: create, get, list, cancel, compose.
 *
 * Every call acts on behalf of one API key (an lv_key from
 * lv_key_authenticate() or lv_key_lookup()) and sees only that key's tasks.
 * An lv_task is a snapshot of the task when it was read.
 */
#ifndef LONGVIDEO_TASK_H
#define LONGVIDEO_TASK_H

#include "common.h"
#include "engine.h"
#include "keys.h"
#include "plan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lv_task lv_task;
typedef struct lv_task_page lv_task_page;

typedef enum lv_task_status {
	LV_TASK_QUEUED = 0,
	LV_TASK_SCRIPTING,
	LV_TASK_MODERATION,
	LV_TASK_ANCHORING,
	LV_TASK_GENERATING,
	LV_TASK_AUDIO,
	LV_TASK_COMPOSING,
	LV_TASK_DELIVERING,
	LV_TASK_COMPLETED,
	LV_TASK_FAILED,
	LV_TASK_CANCELED
} lv_task_status;

/** "queued", "scripting", ... Static string; NULL when out of range. */
LV_EXTERN(const char *) lv_task_status_name(lv_task_status status);
/** Parse a status name; LV_EINVALID if unknown. */
LV_EXTERN(int) lv_task_status_parse(lv_task_status *out, const char *name);
/** Non-zero for completed, failed and canceled. */
LV_EXTERN(int) lv_task_status_is_terminal(lv_task_status status);

/** Counts across the whole store (every key), for monitoring. */
typedef struct lv_status_counts {
	int64_t tasks[16];          /**< tasks per status, indexed by lv_task_status */
	int64_t webhooks_pending;   /**< webhook deliveries waiting for an attempt */
	int64_t webhooks_delivered; /**< ... answered 2xx */
	int64_t webhooks_failed;    /**< ... given up after the retry schedule */
} lv_status_counts;

/** Fill *out with one grouped count per table over an indexed status column (no full scan).
 *  LV_EINTERNAL when the store backend cannot count. */
LV_EXTERN(int) lv_status_counts_get(lv_status_counts *out, lv_engine *engine);

#define LV_TASK_REQUEST_VERSION 1

/** A create request.  NULL strings and -1 integers mean "not given" (the default applies). */
typedef struct lv_task_request {
	unsigned int version;      /**< LV_TASK_REQUEST_VERSION */
	const char *prompt;        /**< required: 1-4000 characters after trimming */
	int duration;              /**< required: seconds, 3-180 */
	const char *resolution;    /**< "720p" | "1080p" */
	const char *aspect_ratio;  /**< "16:9" | "9:16" | "1:1" */
	const char *provider;      /**< a configured video provider */
	const char *language;      /**< BCP-47 primary tag; detected from the prompt when NULL */
	int narration;             /**< 0/1, -1 default (1) */
	int music;                 /**< 0/1, -1 default (1) */
	const char *subtitles;     /**< "soft" | "burn" | "none" */
	const char *webhook_url;   /**< absolute http(s) URL */
	const char *metadata_json; /**< a JSON object: <= 16 keys, string values <= 512 chars */
} lv_task_request;

#define LV_TASK_REQUEST_INIT { LV_TASK_REQUEST_VERSION, NULL, 0, NULL, NULL, NULL, NULL, -1, -1, NULL, NULL, NULL }

/**
 * Validate a request, plan it, and in one transaction check the balance,
 * reserve the estimate, and record the task, its planned segments and the
 * idempotency key.  `idempotency_key` (NULL: none) is 1-255 printable ASCII;
 * a repeat with the same body returns the existing task with
 * lv_task_replayed() true and charges nothing; a different body is
 * LV_EIDEMPOTENCY.  Errors: LV_EINVALID (names the field), LV_ECREDITS.
 */
LV_EXTERN(int) lv_task_create(lv_task **out, lv_engine *engine, const lv_key *key,
                              const lv_task_request *request, const char *idempotency_key);

/** lv_task_create() from a JSON body (the HTTP API's).  Unknown fields and wrong types are LV_EINVALID. */
LV_EXTERN(int) lv_task_create_json(lv_task **out, lv_engine *engine, const lv_key *key,
                                   const char *body, size_t body_len, const char *idempotency_key);

/** Validate and plan a request without creating anything. */
LV_EXTERN(int) lv_task_estimate(lv_plan **out, lv_engine *engine, const lv_task_request *request);

/** One of the key's tasks; LV_ENOTFOUND if it does not exist or belongs to another key. */
LV_EXTERN(int) lv_task_get(lv_task **out, lv_engine *engine, const lv_key *key, const char *task_id);

#define LV_TASK_LIST_OPTIONS_VERSION 1
typedef struct lv_task_list_options {
	unsigned int version; /**< LV_TASK_LIST_OPTIONS_VERSION */
	int limit;            /**< 1-100; 0 means 20 */
	const char *after;    /**< cursor: a task id from a previous page */
	const char *status;   /**< only tasks in this status */
} lv_task_list_options;
#define LV_TASK_LIST_OPTIONS_INIT { LV_TASK_LIST_OPTIONS_VERSION, 0, NULL, NULL }

/** The key's tasks, newest first.  A bad limit, status or cursor is LV_EINVALID. */
LV_EXTERN(int) lv_task_list(lv_task_page **out, lv_engine *engine, const lv_key *key,
                            const lv_task_list_options *options);
LV_EXTERN(size_t) lv_task_page_count(const lv_task_page *page);
/** The i-th task; owned by the page. */
LV_EXTERN(const lv_task *) lv_task_page_get(const lv_task_page *page, size_t i);
LV_EXTERN(int) lv_task_page_has_more(const lv_task_page *page);
/** The cursor for the next page, or NULL. */
LV_EXTERN(const char *) lv_task_page_next_cursor(const lv_task_page *page);
/** {"object":"list","data":[...],"has_more","next_cursor"} */
LV_EXTERN(int) lv_task_page_to_json(char **out, const lv_task_page *page);
LV_EXTERN(void) lv_task_page_free(lv_task_page *page);

/**
 * Cancel a task.  A queued task is refunded in full; a running one stops,
 * its ready segments are settled and the rest refunded.  A terminal task is
 * returned unchanged.  The returned task is the state after the call.
 */
LV_EXTERN(int) lv_task_cancel(lv_task **out, lv_engine *engine, const lv_key *key, const char *task_id);

#define LV_COMPOSE_REQUEST_VERSION 1
/** Re-composition choices; -1 / NULL keep the task's current choice. */
typedef struct lv_compose_request {
	unsigned int version;  /**< LV_COMPOSE_REQUEST_VERSION */
	int narration;
	int music;
	const char *subtitles;
} lv_compose_request;
#define LV_COMPOSE_REQUEST_INIT { LV_COMPOSE_REQUEST_VERSION, -1, -1, NULL }

/**
 * Re-run composition and delivery from the task's segments, charging
 * nothing.  Errors: LV_ENOTCOMPOSABLE (still running), LV_ENOSEGMENTS,
 * LV_ESEGMENTS (details_json of the last error: {"missing":[...]}).
 */
LV_EXTERN(int) lv_task_compose(lv_task **out, lv_engine *engine, const lv_key *key,
                               const char *task_id, const lv_compose_request *request);
/** lv_task_compose() from a JSON body (may be NULL or empty). */
LV_EXTERN(int) lv_task_compose_json(lv_task **out, lv_engine *engine, const lv_key *key,
                                    const char *task_id, const char *body, size_t body_len);

/* -- reading a task snapshot ------------------------------------------- */
LV_EXTERN(const char *) lv_task_id(const lv_task *task);
LV_EXTERN(lv_task_status) lv_task_get_status(const lv_task *task);
LV_EXTERN(int) lv_task_progress(const lv_task *task);
LV_EXTERN(int) lv_task_shots_done(const lv_task *task);
LV_EXTERN(int) lv_task_shots_total(const lv_task *task);
LV_EXTERN(int) lv_task_duration(const lv_task *task);
LV_EXTERN(const char *) lv_task_prompt(const lv_task *task);
LV_EXTERN(int64_t) lv_task_cost_estimate(const lv_task *task);
/** -1 until the task is terminal. */
LV_EXTERN(int64_t) lv_task_cost_actual(const lv_task *task);
/** NULL until available. */
LV_EXTERN(const char *) lv_task_result_url(const lv_task *task);
/** The task error's code ("segment_failed") and message, or NULL. */
LV_EXTERN(const char *) lv_task_error_code(const lv_task *task);
LV_EXTERN(const char *) lv_task_error_message(const lv_task *task);
/** 1 when lv_task_create() returned an existing task for a repeated idempotency key. */
LV_EXTERN(int) lv_task_replayed(const lv_task *task);

/** Include "shots" and "script" (the Get form). */
#define LV_TASK_JSON_DETAIL 0x1u
/** The task object of the HTTP API as JSON text. */
LV_EXTERN(int) lv_task_to_json(char **out, const lv_task *task, unsigned int flags);
LV_EXTERN(void) lv_task_free(lv_task *task);

#ifdef __cplusplus
}
#endif
#endif
