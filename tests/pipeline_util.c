#include "pipeline_util.h"
#include "store_util.h"
#include "core/engine.h"
#include "testutil.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lv_pt_open(lv_pt *pt, const char *tag, const char *config_json, int workers)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	char *json = NULL;
	memset(pt, 0, sizeof(*pt));
	pt->dir = lv_test_mkdtemp(tag);
	ck_assert_ptr_nonnull(pt->dir);
	o.data_dir = pt->dir;
	o.config_json = config_json;
	/* LV_TEST_STORE=postgresql://...: the same test on a fresh PostgreSQL database. */
	if (lv_test_pg_server()) {
		ck_assert_ptr_nonnull(json = lv_test_config_with_store(config_json, pt->dir));
		o.config_json = json;
	}
	o.public_url = "http://127.0.0.1:9";
	ck_assert_msg(lv_engine_open(&pt->engine, &o) == LV_OK, "engine: %s", lv_error_last()->message);
	free(json);
	ck_assert_int_eq(lv_key_create(&pt->key, pt->engine, "pipeline", 100000000), LV_OK);
	if (workers > 0) {
		lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
		wo.workers = workers;
		ck_assert_msg(lv_workers_start(&pt->workers, pt->engine, &wo) == LV_OK, "workers: %s",
		              lv_error_last()->message);
	}
}

void lv_pt_close(lv_pt *pt)
{
	char *report = NULL;
	lv_workers_stop(pt->workers);
	pt->workers = NULL;
	ck_assert_msg(lv_ledger_verify(pt->engine, &report) == LV_OK, "ledger: %s",
	              report ? report : lv_error_last()->message);
	lv_free(report);
	lv_key_free(pt->key);
	lv_engine_close(pt->engine);
	lv_test_rmdir(pt->dir);
	free(pt->dir);
	memset(pt, 0, sizeof(*pt));
}

void lv_pt_create(lv_pt *pt, const char *body, char id[64])
{
	lv_task *t = NULL;
	ck_assert_msg(lv_task_create_json(&t, pt->engine, pt->key, body, strlen(body), NULL) == LV_OK, "create: %s",
	              lv_error_last()->message);
	snprintf(id, 64, "%s", lv_task_id(t));
	lv_task_free(t);
}

lv_task *lv_pt_wait(lv_pt *pt, const char *id, int status, int timeout_s)
{
	int64_t until = lv_mono_ms() + (int64_t)timeout_s * 1000;
	for (;;) {
		lv_task *t = NULL;
		ck_assert_int_eq(lv_task_get(&t, pt->engine, pt->key, id), LV_OK);
		if ((status >= 0 && (int)lv_task_get_status(t) == status) ||
		    (status < 0 && lv_task_status_is_terminal(lv_task_get_status(t))))
			return t;
		if (lv_mono_ms() > until) {
			char *json = NULL;
			lv_task_to_json(&json, t, 0);
			ck_abort_msg("task %s did not reach %s in %d s: %s", id,
			             status >= 0 ? lv_task_status_name((lv_task_status)status) : "a terminal status",
			             timeout_s, json);
		}
		lv_task_free(t);
		lv_sleep_ms(50);
	}
}

cJSON *lv_pt_json(lv_pt *pt, const char *id)
{
	lv_task *t = NULL;
	char *json = NULL;
	cJSON *o;
	ck_assert_int_eq(lv_task_get(&t, pt->engine, pt->key, id), LV_OK);
	ck_assert_int_eq(lv_task_to_json(&json, t, LV_TASK_JSON_DETAIL), LV_OK);
	o = cJSON_Parse(json);
	lv_free(json);
	lv_task_free(t);
	return o;
}

char *lv_pt_film(lv_pt *pt, const char *id)
{
	char *path = NULL, *url = NULL;
	ck_assert_msg(lv_media_task_film(&path, &url, pt->engine, pt->key, id) == LV_OK, "film: %s",
	              lv_error_last()->message);
	ck_assert_ptr_nonnull(path);
	free(url);
	return path;
}

typedef struct {
	lv_engine *e;
	const char *id;
	int64_t s[LV_LEDGER_KINDS];
} sums_ctx;

static int sums_tx(lv_store_tx *tx, void *p)
{
	sums_ctx *c = p;
	lv_task_rec t;
	int rc = c->e->store->ops->task_get(tx, c->id, 0, &t);
	if (rc)
		return rc;
	rc = c->e->store->ops->ledger_sums(tx, t.key_id, c->id, c->s);
	lv_task_rec_clear(&t);
	return rc;
}

void lv_pt_task_ledger(lv_pt *pt, const char *id, int64_t *reserve, int64_t *settle, int64_t *refund)
{
	sums_ctx c;
	memset(&c, 0, sizeof(c));
	c.e = pt->engine;
	c.id = id;
	ck_assert_int_eq(lv_engine_tx(pt->engine, 0, sums_tx, &c), LV_OK);
	*reserve = c.s[LV_LEDGER_RESERVE];
	*settle = c.s[LV_LEDGER_SETTLE];
	*refund = c.s[LV_LEDGER_REFUND];
}
