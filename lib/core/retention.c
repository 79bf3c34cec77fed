/*
 * Retention (lv_engine_gc): removing the results and working files of finished tasks by policy.
 *
 * A task is marked in its working state before anything is removed, in a write transaction that
 * checks again that it is finished and held by no worker:
 *   "retention": {"results_removed_at": ms, "intermediates_removed_at": ms, "pending": true}
 * so a result URL answers "removed" (not "not found") from then on, and re-compose and regenerate
 * refuse the task.  Removal goes through the storage backend; "pending" is cleared once it is done, so
 * a run that stopped half-way (a crash, storage unreachable) is finished by the next one.
 */
#include "core/engine.h"
#include "core/retention.h"
#include "longvideo/task.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (86400LL * 1000)
#define PAGE 200

int lv_retention_marks(const char *state_text, int64_t *results_at, int64_t *intermediates_at)
{
	cJSON *state = state_text ? lv_json_parse_text(state_text) : NULL;
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(state, "retention"), *v;
	int pending = 0;
	if (results_at)
		*results_at = (v = cJSON_GetObjectItemCaseSensitive(r, "results_removed_at")) && cJSON_IsNumber(v)
		                      ? (int64_t)v->valuedouble
		                      : 0;
	if (intermediates_at)
		*intermediates_at = (v = cJSON_GetObjectItemCaseSensitive(r, "intermediates_removed_at")) && cJSON_IsNumber(v)
		                            ? (int64_t)v->valuedouble
		                            : 0;
	pending = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "pending"));
	cJSON_Delete(state);
	return pending;
}

typedef struct mark_ctx {
	lv_engine *e;
	const char *id;
	int results, intermediates; /* to mark */
	int clear;                  /* 1: clear "pending" instead */
	int64_t now;
	int done; /* 1 when the task was (still) eligible and is marked */
} mark_ctx;

static int mark_tx(lv_store_tx *tx, void *p)
{
	mark_ctx *c = p;
	lv_task_rec t;
	cJSON *state = NULL, *r;
	char *text = NULL;
	int rc;
	memset(&t, 0, sizeof(t));
	c->done = 0;
	if ((rc = c->e->store->ops->task_get(tx, c->id, 1, &t)))
		return rc == LV_ENOTFOUND ? LV_OK : rc;
	/* Finished and held by nobody: a re-compose or regenerate makes it busy again first. */
	if (!lv_task_status_is_terminal((lv_task_status)t.status) || (t.lease_owner && t.lease_until > c->now))
		goto out;
	state = t.state ? lv_json_parse_text(t.state) : cJSON_CreateObject();
	if (!state) {
		rc = LV_ENOMEM;
		goto out;
	}
	r = cJSON_GetObjectItemCaseSensitive(state, "retention");
	if (!r && !(r = cJSON_AddObjectToObject(state, "retention"))) {
		rc = LV_ENOMEM;
		goto out;
	}
	if (c->clear) {
		cJSON_DeleteItemFromObjectCaseSensitive(r, "pending");
	} else {
		if (c->results && !cJSON_GetObjectItemCaseSensitive(r, "results_removed_at"))
			cJSON_AddNumberToObject(r, "results_removed_at", (double)c->now);
		if (c->intermediates && !cJSON_GetObjectItemCaseSensitive(r, "intermediates_removed_at"))
			cJSON_AddNumberToObject(r, "intermediates_removed_at", (double)c->now);
		cJSON_DeleteItemFromObjectCaseSensitive(r, "pending");
		cJSON_AddTrueToObject(r, "pending");
	}
	if (!(text = cJSON_PrintUnformatted(state))) {
		rc = LV_ENOMEM;
		goto out;
	}
	free(t.state);
	t.state = text;
	if ((rc = c->e->store->ops->task_update(tx, &t)) == LV_OK)
		c->done = 1;
out:
	cJSON_Delete(state);
	lv_task_rec_clear(&t);
	return rc;
}

/* Remove what the marks say, then clear "pending". */
static int remove_marked(lv_engine *e, const char *id, int64_t results_at, int64_t intermediates_at)
{
	char prefix[LV_ID_MAX + 16];
	mark_ctx c;
	int rc = LV_OK;
	if (intermediates_at) {
		snprintf(prefix, sizeof(prefix), "tasks/%s", id);
		rc = e->storage->ops->remove_prefix(e->storage, prefix);
	}
	if (rc == LV_OK && results_at) {
		snprintf(prefix, sizeof(prefix), "media/%s", id);
		rc = e->storage->ops->remove_prefix(e->storage, prefix);
	}
	if (rc != LV_OK)
		return rc;
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.id = id;
	c.clear = 1;
	c.now = lv_now_ms();
	return lv_engine_tx(e, 1, mark_tx, &c);
}

int lv_retention_apply(lv_engine *e, const char *id, int results, int intermediates, int *done)
{
	mark_ctx c;
	int64_t r_at = 0, i_at = 0;
	int rc;
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.id = id;
	c.results = results;
	c.intermediates = intermediates;
	c.now = lv_now_ms();
	*done = 0;
	if ((rc = lv_engine_tx(e, 1, mark_tx, &c)) || !c.done)
		return rc;
	*done = 1;
	/* Remove exactly what is marked now (an earlier mark may have asked for more). */
	r_at = results ? c.now : 0;
	i_at = intermediates ? c.now : 0;
	return remove_marked(e, id, r_at, i_at);
}

typedef struct scan_ctx {
	lv_engine *e;
	lv_key_rec *keys;
	size_t n_keys;
	const char *key_id;
	int64_t before;
	lv_task_rec *tasks;
	size_t n_tasks;
} scan_ctx;

static int keys_tx(lv_store_tx *tx, void *p)
{
	scan_ctx *c = p;
	return c->e->store->ops->key_list(tx, &c->keys, &c->n_keys);
}

static int page_tx(lv_store_tx *tx, void *p)
{
	scan_ctx *c = p;
	return c->e->store->ops->task_list(tx, c->key_id, c->before, -1, PAGE, &c->tasks, &c->n_tasks);
}

int lv_engine_gc(lv_engine *e, const lv_gc_options *opts, lv_gc_report *report)
{
	lv_gc_report rep;
	scan_ctx sc;
	int64_t now = lv_now_ms(), cutoff = 0;
	int days, by_age, all_intermediates, rc;
	size_t k, i;
	memset(&rep, 0, sizeof(rep));
	if (report)
		memset(report, 0, sizeof(*report));
	if (!e)
		return lv_error_set(LV_EINVALID, "lv_engine_gc: engine is NULL");
	if ((rc = lv_engine_require_store(e)))
		return rc;
	if (opts && opts->older_than_days > 36500)
		return lv_error_set(LV_EINVALID, "older_than_days: must be from -1 to 36500");
	/* Given explicitly, 0 means every finished task; in the configuration, 0 keeps results forever. */
	days = opts && opts->older_than_days >= 0 ? opts->older_than_days : e->cfg->retention_days;
	by_age = (opts && opts->older_than_days >= 0) || days > 0;
	cutoff = now - (int64_t)days * DAY_MS;
	all_intermediates = !e->cfg->keep_intermediates || (opts && opts->intermediates);
	memset(&sc, 0, sizeof(sc));
	sc.e = e;
	if ((rc = lv_engine_tx(e, 0, keys_tx, &sc)))
		return rc;
	for (k = 0; k < sc.n_keys && rc == LV_OK; k++) {
		sc.key_id = sc.keys[k].id;
		sc.before = 0;
		for (;;) {
			sc.tasks = NULL;
			sc.n_tasks = 0;
			if ((rc = lv_engine_tx(e, 0, page_tx, &sc)))
				break;
			for (i = 0; i < sc.n_tasks && rc == LV_OK; i++) {
				const lv_task_rec *t = &sc.tasks[i];
				int64_t r_at, i_at, finished = t->completed_at ? t->completed_at : t->updated_at;
				int pending = lv_retention_marks(t->state, &r_at, &i_at), old, results, inter, done = 0;
				rep.tasks_scanned++;
				if (pending && !(opts && opts->dry_run)) { /* an earlier run stopped half-way */
					if ((rc = remove_marked(e, t->id, r_at, i_at)))
						break;
				}
				old = by_age && finished > 0 && finished <= cutoff;
				results = old && !r_at && t->result_url;
				inter = !i_at && (old || (all_intermediates && t->status == LV_TASK_COMPLETED));
				if (!results && !inter)
					continue;
				if (!lv_task_status_is_terminal((lv_task_status)t->status) ||
				    (t->lease_owner && t->lease_until > now)) {
					if (old)
						rep.skipped_running++;
					continue;
				}
				if (opts && opts->dry_run) {
					done = 1;
				} else if ((rc = lv_retention_apply(e, t->id, results, inter, &done))) {
					break;
				}
				if (done) {
					rep.results_removed += results;
					rep.intermediates_removed += inter;
					LV_INFO("gc: task %s: %s%s%s", t->id, opts && opts->dry_run ? "would remove " : "removed ",
					        results ? "results" : "", results && inter ? " and working files" : inter ? "working files" : "");
				}
			}
			if (sc.n_tasks > 0)
				sc.before = sc.tasks[sc.n_tasks - 1].seq;
			lv_task_recs_free(sc.tasks, sc.n_tasks);
			if (rc || sc.n_tasks < PAGE)
				break;
		}
	}
	lv_key_recs_free(sc.keys, sc.n_keys);
	if (report)
		*report = rep;
	return rc;
}
