/* Internal: task objects and the effects shared by the API and the pipeline. */
#ifndef LV_CORE_TASK_H
#define LV_CORE_TASK_H

#include <cjson/cJSON.h>

#include "core/engine.h"
#include "longvideo/task.h"
#include "store/store.h"

struct lv_task {
	lv_task_rec rec;
	lv_segment_rec *segs;
	size_t n_segs;
	int replayed;
	char *public_url;
	char events_token[33];
};

struct lv_task_page {
	lv_task *tasks;
	size_t n;
	int has_more;
	char next_cursor[LV_ID_MAX];
};

/* A task snapshot taking over rec and segs (both cleared/freed on failure); NULL when out of memory. */
lv_task *lv_task_wrap(lv_engine *e, lv_task_rec *rec, lv_segment_rec *segs, size_t n);
/* Read a task of `key_id` (and its segments when segs is not NULL) inside tx; LV_ENOTFOUND with a
 * message naming task_id when it does not exist or is another key's. */
int lv_task_load_owned(lv_engine *e, lv_store_tx *tx, const char *key_id, const char *task_id, lv_task_rec *t,
                       lv_segment_rec **segs, size_t *n);
/* LV_ENOTFOUND unless id has the shape of a task id. */
int lv_task_check_id(const char *id);
/* The common argument checks of the task calls (out, a store, a key); `fn` names the call. */
int lv_task_check_args(void *out, lv_engine *e, const lv_key *key, const char *fn);

/* Progress at the start of each stage; generating spreads from its start to audio's by shots done. */
int lv_stage_progress(lv_task_status status);

/* The task object (SPEC §2) as cJSON.  Relative media URLs are made absolute with public_url. */
cJSON *lv_task_json_build(const lv_task_rec *t, const lv_segment_rec *segs, size_t n_segs,
                          const char *public_url, unsigned flags);

/* Add "events_url": {public_url}/v1/events/{id}/{token}. */
int lv_task_json_add_events_url(cJSON *o, const char *public_url, const char *id, const char *token);

/* The "error" object of a task, or a JSON null. */
cJSON *lv_task_error_json(const lv_task_rec *t);

/* Absolute URL for a stored media path ("/media/...": prefixed with public_url; absolute: as is). */
char *lv_media_url(const char *public_url, const char *stored);

/* Everything that must happen in the same transaction as a task reaching a terminal status:
 * set completed_at, updated_at and cost_actual (settling `charge` and refunding the rest of the
 * reservation through the ledger) and queue the webhook.  `t` is updated and written. */
int lv_task_finish(lv_engine *e, lv_store_tx *tx, lv_task_rec *t, int status, int64_t charge, int64_t now);

/* Sum of the prices of the task's ready segments. */
int64_t lv_segments_ready_price(const lv_segment_rec *segs, size_t n);

/* Queue the terminal-state webhook for a task (if it has a webhook_url), inside tx. */
int lv_webhook_enqueue(lv_engine *e, lv_store_tx *tx, const lv_task_rec *t, int64_t now);

#endif
