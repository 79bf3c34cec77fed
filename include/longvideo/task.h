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
	LV_TASK_CANCELED,
	LV_TASK_AWAITING_REVIEW /**< stopped after scripting and moderation until approved (create with review) */
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
	int review;                /**< 1: stop in awaiting_review after scripting until approved */
	const char *characters_json; /**< your own characters: a JSON list [{"name","description","image"}] */
} lv_task_request;

#define LV_TASK_REQUEST_INIT \
	{ LV_TASK_REQUEST_VERSION, NULL, 0, NULL, NULL, NULL, NULL, -1, -1, NULL, NULL, NULL, 0, NULL }

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

/** lv_key_authenticate() and lv_task_get() in one read of the store (what a request for one task
 * does).  The key comes first: a malformed, unknown or revoked api_key is LV_EAUTH with *key_out
 * NULL.  Once the key is known it is returned in *key_out (release it with lv_key_free()) whatever
 * the task's result, which is lv_task_get()'s (LV_EINVALID for a malformed task_id, LV_ENOTFOUND). */
LV_EXTERN(int) lv_task_get_with_secret(lv_task **out, lv_key **key_out, lv_engine *engine, const char *api_key,
                                       const char *task_id);

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

/* -- creative control: storyboard review and regenerating one shot ----- */

/**
 * Edit the storyboard of a task in awaiting_review from a JSON body
 * {"title"?, "characters"?: [{"name", "description"?}], "shots"?: [{"index", "visual"?, "camera"?,
 * "narration"?, "characters"?: [names]}]}: only the fields given change.  Errors, in this order:
 * LV_ENOTFOUND, LV_ENOTREVIEWABLE (not awaiting review), LV_EINVALID naming the field
 * ("shots[1].narration: ...").  The returned task is the detail snapshot after the edit.
 */
LV_EXTERN(int) lv_task_storyboard_edit_json(lv_task **out, lv_engine *engine, const lv_key *key,
                                            const char *task_id, const char *body, size_t body_len);

/**
 * Approve the storyboard of a task in awaiting_review: it goes back to moderation (which checks
 * the edited text) and then on to anchoring.  `body` may be NULL, empty or "{}"; anything else is
 * LV_EINVALID (after LV_ENOTFOUND and LV_ENOTREVIEWABLE).
 */
LV_EXTERN(int) lv_task_approve(lv_task **out, lv_engine *engine, const lv_key *key, const char *task_id,
                               const char *body, size_t body_len);

#define LV_REGENERATE_REQUEST_VERSION 1
/** Regenerating one shot: NULL keeps the storyboard's text; seed -1 picks a new seed. */
typedef struct lv_regenerate_request {
	unsigned int version; /**< LV_REGENERATE_REQUEST_VERSION */
	const char *visual;
	const char *camera;
	const char *narration;
	long long seed;       /**< 0-2147483647, or -1 */
} lv_regenerate_request;
#define LV_REGENERATE_REQUEST_INIT { LV_REGENERATE_REQUEST_VERSION, NULL, NULL, NULL, -1 }

/**
 * Generate shot `index` of a completed task again (or of a failed task whose other shots are all
 * ready), reserving that shot's price in the same transaction, then re-compose and deliver a new
 * film.  The previous film stays until the new one is delivered; a failure refunds the shot and
 * keeps it.  Errors, in this order: LV_ENOTFOUND, LV_ENOTCOMPOSABLE (status, or a regeneration
 * already running), LV_EINVALID naming the field, LV_ECREDITS.
 */
LV_EXTERN(int) lv_task_regenerate(lv_task **out, lv_engine *engine, const lv_key *key, const char *task_id,
                                  int index, const lv_regenerate_request *request);
/** lv_task_regenerate() from a JSON body {"visual"?, "camera"?, "narration"?, "seed"?} (may be empty). */
LV_EXTERN(int) lv_task_regenerate_json(lv_task **out, lv_engine *engine, const lv_key *key, const char *task_id,
                                       int index, const char *body, size_t body_len);

/* -- live progress --------------------------------------------------------- */

typedef struct lv_task_events lv_task_events;

/**
 * One poll of a task's live progress events: the task's detail view is recorded as a new event
 * when it changed since the latest one, then the events with an id above `after` are returned
 * (ascending, at most 100).  `after` < 0, or older than the events still kept (the last 1000), starts
 * from the current state (the latest event alone).  The watcher is the key's (`key`) or holds the
 * task's events token (`token`, from lv_task_events_token); otherwise LV_ENOTFOUND.
 */
LV_EXTERN(int) lv_task_events_poll(lv_task_events **out, lv_engine *engine, const lv_key *key, const char *token,
                                   const char *task_id, int64_t after);
LV_EXTERN(size_t) lv_task_events_count(const lv_task_events *events);
LV_EXTERN(int64_t) lv_task_events_id(const lv_task_events *events, size_t i);
/** The event's data: the task's detail view as JSON text. */
LV_EXTERN(const char *) lv_task_events_data(const lv_task_events *events, size_t i);
/** 1 when the event shows a terminal status. */
LV_EXTERN(int) lv_task_events_terminal(const lv_task_events *events, size_t i);
/** 1 when the task's current state is terminal (a stream that has sent everything ends). */
LV_EXTERN(int) lv_task_events_done(const lv_task_events *events);
/** The id of the API key that owns the task. */
LV_EXTERN(const char *) lv_task_events_owner(const lv_task_events *events);
LV_EXTERN(void) lv_task_events_free(lv_task_events *events);
/** The capability token of a task's event stream (32 hex characters; derived, never stored). */
LV_EXTERN(int) lv_task_events_token(char out[33], lv_engine *engine, const char *task_id);

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
/**
 * The film's quality report (the task object's "qc") in one line, e.g. "pass: 20.000 s, -16.0 LUFS,
 * -2.3 dBTP, ducking 11.2 dB, speech 64%" or "FAIL (speech_coverage, subtitles): ...".  *out is NULL
 * (and LV_OK returned) when the task has no report yet; free it with lv_free().
 */
LV_EXTERN(int) lv_task_qc_summary(char **out, const lv_task *task);
/** The same line from a quality report as JSON text (the "qc" member of a task object, or a qc.json
 *  file), e.g. from the HTTP API.  LV_EINVALID when qc_json is not JSON. */
LV_EXTERN(int) lv_qc_summary(char **out, const char *qc_json);
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
