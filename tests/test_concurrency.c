/* Concurrency: idempotency races and the ledger invariant under concurrent creates and cancels. */
#include "testutil.h"
#include "longvideo.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RACERS 48

static char *dir;

static lv_engine *open_engine(void)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	o.data_dir = dir;
	ck_assert_msg(lv_engine_open(&e, &o) == LV_OK, "%s", lv_error_last()->message);
	return e;
}

static void setup(void)
{
	dir = lv_test_mkdtemp("conc");
	ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
	lv_test_rmdir(dir);
	free(dir);
}

typedef struct {
	lv_engine *e;
	const char *secret;
	pthread_barrier_t *start;
	char task_id[40];
	int rc;
	int replayed;
} racer;

static void *race(void *p)
{
	racer *r = p;
	const char *body = "{\"prompt\":\"Night market in the rain\",\"duration\":24}";
	lv_key *k = NULL;
	lv_task *t = NULL;
	r->rc = lv_key_authenticate(&k, r->e, r->secret);
	pthread_barrier_wait(r->start);
	if (r->rc == LV_OK)
		r->rc = lv_task_create_json(&t, r->e, k, body, strlen(body), "2f1c3a52-race");
	if (r->rc == LV_OK) {
		snprintf(r->task_id, sizeof(r->task_id), "%s", lv_task_id(t));
		r->replayed = lv_task_replayed(t);
	}
	lv_task_free(t);
	lv_key_free(k);
	return NULL;
}

START_TEST(idempotency_race_creates_one_task)
{
	lv_engine *engines[4];
	lv_key *key = NULL;
	lv_credits c;
	pthread_t th[RACERS];
	racer r[RACERS];
	pthread_barrier_t start;
	int i, fresh = 0;
	lv_task_page *page = NULL;
	/* Four engines on one store: the same situation as four processes. */
	for (i = 0; i < 4; i++)
		engines[i] = open_engine();
	ck_assert_int_eq(lv_key_create(&key, engines[0], "racer", 100000000), LV_OK);
	pthread_barrier_init(&start, NULL, RACERS);
	for (i = 0; i < RACERS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].e = engines[i % 4];
		r[i].secret = lv_key_secret(key);
		r[i].start = &start;
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	for (i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < RACERS; i++) {
		ck_assert_msg(r[i].rc == LV_OK, "racer %d: %d", i, r[i].rc);
		ck_assert_str_eq(r[i].task_id, r[0].task_id);
		fresh += !r[i].replayed;
	}
	ck_assert_int_eq(fresh, 1);
	ck_assert_int_eq(lv_key_credits(&c, engines[0], key), LV_OK);
	ck_assert_int_eq(c.reserved, 24 * 27500);
	ck_assert_int_eq(c.balance, 100000000 - 24 * 27500);
	ck_assert_int_eq(lv_task_list(&page, engines[1], key, NULL), LV_OK);
	ck_assert_uint_eq(lv_task_page_count(page), 1);
	lv_task_page_free(page);
	ck_assert_int_eq(lv_ledger_verify(engines[2], NULL), LV_OK);
	lv_key_free(key);
	for (i = 0; i < 4; i++)
		lv_engine_close(engines[i]);
}
END_TEST

#define WORKERS 16
#define OPS_PER_WORKER 40
#define KEYS 4

typedef struct {
	lv_engine *e;
	lv_key *keys[KEYS];
	unsigned seed;
	int created, canceled, refused;
} churner;

static void *churn(void *p)
{
	churner *w = p;
	char ids[OPS_PER_WORKER][40];
	const lv_key *owner[OPS_PER_WORKER];
	int n = 0, i;
	for (i = 0; i < OPS_PER_WORKER; i++) {
		unsigned r = (unsigned)rand_r(&w->seed);
		const lv_key *k = w->keys[r % KEYS];
		if (n > 0 && r % 3 == 0) {
			/* Cancel one of ours (sometimes twice). */
			int j = (int)((r >> 8) % (unsigned)n);
			lv_task *t = NULL;
			if (lv_task_cancel(&t, w->e, owner[j], ids[j]) == LV_OK)
				w->canceled++;
			lv_task_free(t);
		} else {
			char body[160], idem[32];
			lv_task *t = NULL;
			int rc;
			snprintf(body, sizeof(body), "{\"prompt\":\"shot %u\",\"duration\":%u,\"resolution\":\"%s\"}", r % 7,
			         3 + (r >> 4) % 178, (r >> 12) & 1 ? "1080p" : "720p");
			/* Some requests reuse idempotency keys across workers on purpose. */
			snprintf(idem, sizeof(idem), "k%u", (r >> 16) % 30);
			rc = lv_task_create_json(&t, w->e, k, body, strlen(body), (r >> 20) & 1 ? idem : NULL);
			if (rc == LV_OK && !lv_task_replayed(t) && n < OPS_PER_WORKER) {
				snprintf(ids[n], sizeof(ids[n]), "%s", lv_task_id(t));
				owner[n++] = k;
				w->created++;
			} else if (rc == LV_ECREDITS || rc == LV_EIDEMPOTENCY) {
				w->refused++;
			} else if (rc != LV_OK) {
				ck_abort_msg("create failed: %d %s", rc, lv_error_last()->message);
			}
			lv_task_free(t);
		}
	}
	return NULL;
}

START_TEST(ledger_holds_under_concurrent_churn)
{
	lv_engine *engines[4];
	lv_key *keys[KEYS];
	churner w[WORKERS];
	pthread_t th[WORKERS];
	char *report = NULL;
	int i, j, created = 0, refused = 0;
	for (i = 0; i < 4; i++)
		engines[i] = open_engine();
	for (i = 0; i < KEYS; i++) {
		/* Budgets small enough that some creates must be refused for credits. */
		char name[16];
		snprintf(name, sizeof(name), "k%d", i);
		ck_assert_int_eq(lv_key_create(&keys[i], engines[0], name, 30000000 + i * 10000000), LV_OK);
	}
	for (i = 0; i < WORKERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].e = engines[i % 4];
		for (j = 0; j < KEYS; j++)
			w[i].keys[j] = keys[j];
		w[i].seed = 1234u + (unsigned)i * 7919u;
		pthread_create(&th[i], NULL, churn, &w[i]);
	}
	/* Grants race with everything else too. */
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(lv_key_grant(engines[3], lv_key_id(keys[i % KEYS]), 250), LV_OK);
	for (i = 0; i < WORKERS; i++) {
		pthread_join(th[i], NULL);
		created += w[i].created;
		refused += w[i].refused;
	}
	ck_assert_int_gt(created, 50);
	ck_assert_int_gt(refused, 0);
	ck_assert_msg(lv_ledger_verify(engines[0], &report) == LV_OK, "%s", report ? report : "");
	for (i = 0; i < KEYS; i++) {
		lv_credits c;
		ck_assert_int_eq(lv_key_credits(&c, engines[1], keys[i]), LV_OK);
		ck_assert_int_eq(c.granted, 30000000 + i * 10000000 + 5 * 250);
		ck_assert_int_eq(c.granted - c.balance - c.reserved, c.settled);
		ck_assert_int_ge(c.balance, 0);
		lv_key_free(keys[i]);
	}
	for (i = 0; i < 4; i++)
		lv_engine_close(engines[i]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("concurrency");
	TCase *tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, idempotency_race_creates_one_task);
	tcase_add_test(tc, ledger_holds_under_concurrent_churn);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
