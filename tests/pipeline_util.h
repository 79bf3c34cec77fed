/* Helpers for the pipeline tests: an engine on a temp data dir with workers, waiting, media checks. */
#ifndef LV_TEST_PIPELINE_UTIL_H
#define LV_TEST_PIPELINE_UTIL_H

#include "longvideo.h"

typedef struct lv_pt {
	char *dir;
	lv_engine *engine;
	lv_key *key;
	lv_workers *workers;
} lv_pt;

/* Open an engine on a fresh data dir with `config_json` (NULL: defaults), a key with 100000 credits,
 * and `workers` pipeline threads (0: none). */
void lv_pt_open(lv_pt *pt, const char *tag, const char *config_json, int workers);
void lv_pt_close(lv_pt *pt);

/* Create a task from a JSON body; returns its id (static buffer per call site: caller copies). */
void lv_pt_create(lv_pt *pt, const char *body, char id[64]);

/* Wait until the task is terminal (or in `status` when >= 0); returns the task (caller frees). */
lv_task *lv_pt_wait(lv_pt *pt, const char *id, int status, int timeout_s);

/* The task's JSON (detail) parsed; caller frees with cJSON_Delete. */
struct cJSON *lv_pt_json(lv_pt *pt, const char *id);

/* The local file of a completed task's film (caller frees). */
char *lv_pt_film(lv_pt *pt, const char *id);

/* Ledger sums for one task: reserve, settle, refund. */
void lv_pt_task_ledger(lv_pt *pt, const char *id, int64_t *reserve, int64_t *settle, int64_t *refund);

#endif
