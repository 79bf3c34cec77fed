/* Group commit: concurrent write transactions of one process share a store transaction and a commit,
 * yet each caller sees only its own outcome: a failing caller's writes are undone alone, its error
 * (message and details) comes back to its own thread, and a write started inside another fails
 * instead of waiting for ever. */
#include "testutil.h"
#include "core/engine.h"
#include "longvideo.h"
#include "store/store.h"
#include "util/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
#define ROUNDS 40

typedef struct {
	lv_engine *e;
	int thread;
	int round;
	int ok, failed, wrong_error;
} worker_ctx;

/* Insert a key; every third one fails after its insert (which must then be undone). */
static int insert_tx(lv_store_tx *tx, void *p)
{
	worker_ctx *c = p;
	lv_key_rec k;
	int rc;
	memset(&k, 0, sizeof(k));
	snprintf(k.id, sizeof(k.id), "key_t%d_r%d", c->thread, c->round);
	k.name = k.id;
	snprintf(k.hash, sizeof(k.hash), "%064d", c->thread * 1000 + c->round);
	snprintf(k.prefix, sizeof(k.prefix), "sk-x");
	snprintf(k.webhook_salt, sizeof(k.webhook_salt), "c2FsdA==");
	k.created_at = 1;
	if ((rc = c->e->store->ops->key_insert(tx, &k)))
		return rc;
	if (c->round % 3 == 2) {
		lv_error_set(LV_EINVALID, "thread %d round %d refused", c->thread, c->round);
		lv_error_set_details("{\"mine\":true}");
		return LV_EINVALID;
	}
	return LV_OK;
}

static void *worker(void *p)
{
	worker_ctx *c = p;
	for (c->round = 0; c->round < ROUNDS; c->round++) {
		char want[64];
		int rc = lv_engine_tx(c->e, 1, insert_tx, c);
		snprintf(want, sizeof(want), "thread %d round %d refused", c->thread, c->round);
		if (rc == LV_OK) {
			c->ok++;
		} else {
			c->failed++;
			if (rc != LV_EINVALID || strcmp(lv_error_last()->message, want) != 0 ||
			    !lv_error_last()->details_json || strcmp(lv_error_last()->details_json, "{\"mine\":true}") != 0)
				c->wrong_error++;
		}
	}
	return NULL;
}

static int nested_tx(lv_store_tx *tx, void *p)
{
	(void)tx;
	return lv_engine_tx(p, 1, insert_tx, NULL);
}

START_TEST(each_caller_keeps_its_own_outcome)
{
	char *dir = lv_test_mkdtemp("group");
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	pthread_t th[THREADS];
	worker_ctx c[THREADS];
	lv_store_tx *tx;
	lv_key_rec *keys = NULL;
	size_t n = 0, i;
	int ok = 0, t;
	o.data_dir = dir;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_OK);
	for (t = 0; t < THREADS; t++) {
		memset(&c[t], 0, sizeof(c[t]));
		c[t].e = e;
		c[t].thread = t;
		pthread_create(&th[t], NULL, worker, &c[t]);
	}
	for (t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		ck_assert_int_eq(c[t].wrong_error, 0);
		ck_assert_int_eq(c[t].failed, ROUNDS / 3);
		ok += c[t].ok;
	}
	/* Exactly the successful callers' rows exist: no failing caller's insert survived a shared commit. */
	ck_assert_int_eq(e->store->ops->begin(e->store, 0, &tx), LV_OK);
	ck_assert_int_eq(e->store->ops->key_list(tx, &keys, &n), LV_OK);
	e->store->ops->rollback(tx);
	ck_assert_uint_eq(n, (size_t)ok);
	for (i = 0; i < n; i++) {
		int th_i, round;
		ck_assert_int_eq(sscanf(keys[i].id, "key_t%d_r%d", &th_i, &round), 2);
		ck_assert_int_ne(round % 3, 2);
	}
	lv_key_recs_free(keys, n);
	/* A write inside a write is refused, not deadlocked. */
	ck_assert_int_eq(lv_engine_tx(e, 1, nested_tx, e), LV_EINTERNAL);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "inside another"));
	lv_engine_close(e);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("group_commit");
	TCase *tc = tcase_create("group_commit");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, each_caller_keeps_its_own_outcome);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
