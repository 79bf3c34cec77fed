/* Admission control: a worker process holds at most pipeline.max_tasks_in_flight tasks, so several
 * workers share one queue; and a video provider's max_concurrent_jobs caps that provider's jobs in
 * flight across the process, whatever segment_concurrency and the number of tasks. */
#include "testutil.h"
#include "core/engine.h"
#include "longvideo.h"
#include "pipeline_util.h"
#include "store/store.h"
#include "util/time.h"

#include <stdlib.h>
#include <string.h>

#define TASKS 200
#define PER_PROCESS 100
#define JOBS 6

/* Segments of the given tasks whose provider job is running (submitted, not finished). */
static int running_segments(lv_engine *e, char ids[][64], int n)
{
	lv_store_tx *tx;
	int i, running = 0;
	ck_assert_int_eq(e->store->ops->begin(e->store, 0, &tx), LV_OK);
	for (i = 0; i < n; i++) {
		lv_segment_rec *segs = NULL;
		size_t k, m = 0;
		ck_assert_int_eq(e->store->ops->segment_list(tx, ids[i], &segs, &m), LV_OK);
		for (k = 0; k < m; k++)
			running += segs[k].status == LV_SEG_RUNNING;
		lv_segment_recs_free(segs, m);
	}
	e->store->ops->rollback(tx);
	return running;
}

START_TEST(two_workers_share_the_queue)
{
	static char ids[TASKS][64];
	lv_pt pt;
	lv_workers *a = NULL, *b = NULL;
	lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
	size_t held_a, held_b;
	int i, running;
	int64_t until;
	/* Jobs that take minutes at the vendor: every claimed task stays held, waiting on them. */
	lv_pt_open(&pt, "admission",
	           "{\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":600000,\"max_concurrent_jobs\":6}},"
	           "\"pipeline\":{\"segment_concurrency\":4,\"max_tasks_in_flight\":100}}",
	           0);
	for (i = 0; i < TASKS; i++)
		lv_pt_create(&pt, "{\"prompt\":\"Boats\",\"duration\":12,\"narration\":false,\"music\":false}", ids[i]);
	wo.workers = 2;
	wo.owner = "worker-a";
	ck_assert_int_eq(lv_workers_start(&a, pt.engine, &wo), LV_OK);
	wo.owner = "worker-b";
	ck_assert_int_eq(lv_workers_start(&b, pt.engine, &wo), LV_OK);
	until = lv_mono_ms() + 240000;
	while (lv_workers_active(a) + lv_workers_active(b) < TASKS && lv_mono_ms() < until)
		lv_sleep_ms(100);
	held_a = lv_workers_active(a);
	held_b = lv_workers_active(b);
	/* Each process stops claiming when full: the queue is split, not taken by whoever came first. */
	ck_assert_uint_eq(held_a + held_b, TASKS);
	ck_assert_uint_eq(held_a, PER_PROCESS);
	ck_assert_uint_eq(held_b, PER_PROCESS);
	/* A few more rounds of claiming change nothing: a full process takes no more. */
	lv_sleep_ms(600);
	ck_assert_uint_eq(lv_workers_active(a), PER_PROCESS);
	/* 200 tasks of several segments, 4 at once per task, yet at most 6 jobs per process at the vendor. */
	until = lv_mono_ms() + 30000;
	while ((running = running_segments(pt.engine, ids, TASKS)) < 2 * JOBS && lv_mono_ms() < until)
		lv_sleep_ms(100);
	ck_assert_int_eq(running, 2 * JOBS);
	lv_sleep_ms(500);
	ck_assert_int_eq(running_segments(pt.engine, ids, TASKS), 2 * JOBS);
	/* Canceled tasks leave both processes, waiting jobs included. */
	for (i = 0; i < TASKS; i++) {
		lv_task *c = NULL;
		ck_assert_int_eq(lv_task_cancel(&c, pt.engine, pt.key, ids[i]), LV_OK);
		lv_task_free(c);
	}
	until = lv_mono_ms() + 30000;
	while (lv_workers_active(a) + lv_workers_active(b) > 0 && lv_mono_ms() < until)
		lv_sleep_ms(50);
	ck_assert_uint_eq(lv_workers_active(a) + lv_workers_active(b), 0);
	lv_workers_stop(a);
	lv_workers_stop(b);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(the_default_follows_cores_and_providers)
{
	lv_pt pt;
	lv_pt_open(&pt, "admission-default",
	           "{\"providers\":{\"local\":{\"type\":\"local\",\"max_concurrent_jobs\":400}},"
	           "\"pipeline\":{\"segment_concurrency\":4}}",
	           0);
	/* 400 jobs at 4 per task keep 100 tasks busy: more than 4 per core on any small machine. */
	ck_assert_int_eq(lv_config_max_tasks_in_flight(pt.engine->cfg, 2), 100);
	ck_assert_int_eq(lv_config_max_tasks_in_flight(pt.engine->cfg, 64), 256);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(bad_limits_are_named)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	o.flags = LV_ENGINE_NO_STORE;
	o.config_json = "{\"pipeline\":{\"max_tasks_in_flight\":-1}}";
	ck_assert_int_ne(lv_engine_open(&e, &o), LV_OK);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "max_tasks_in_flight"));
	o.config_json = "{\"providers\":{\"local\":{\"type\":\"local\",\"max_concurrent_jobs\":0}}}";
	ck_assert_int_ne(lv_engine_open(&e, &o), LV_OK);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "max_concurrent_jobs"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("admission");
	TCase *tc = tcase_create("admission");
	tcase_set_timeout(tc, 400);
	tcase_add_test(tc, two_workers_share_the_queue);
	tcase_add_test(tc, the_default_follows_cores_and_providers);
	tcase_add_test(tc, bad_limits_are_named);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
