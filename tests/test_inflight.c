/* One worker process carries many tasks at once: 150 tasks wait on their provider jobs together while
 * the process runs a small fixed number of threads (no thread per segment). */
#include "testutil.h"
#include "longvideo.h"
#include "pipeline_util.h"
#include "util/time.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#define TASKS 150

static int thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

START_TEST(hundreds_of_tasks_in_flight_on_few_threads)
{
	lv_pt pt;
	char ids[TASKS][64];
	int i, threads_before, threads;
	int64_t until;
	lv_pt_open(&pt, "inflight", "{\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":120000}},"
	                            "\"pipeline\":{\"segment_concurrency\":2,\"max_tasks_in_flight\":150}}",
	           0);
	threads_before = thread_count();
	for (i = 0; i < TASKS; i++)
		lv_pt_create(&pt, "{\"prompt\":\"Boats\",\"duration\":12,\"narration\":false,\"music\":false}", ids[i]);
	{
		lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
		wo.workers = 2;
		ck_assert_int_eq(lv_workers_start(&pt.workers, pt.engine, &wo), LV_OK);
	}
	/* Every task gets to `generating` and stays held there, waiting on its provider jobs. */
	until = lv_mono_ms() + 240000;
	while (lv_workers_active(pt.workers) < TASKS && lv_mono_ms() < until)
		lv_sleep_ms(100);
	ck_assert_uint_eq(lv_workers_active(pt.workers), TASKS);
	threads = thread_count() - threads_before;
	/* 2 stage threads, a monitor, 4 driver threads, the CPU pool and webhook senders: nowhere near one per job. */
	ck_assert_msg(threads <= 16, "%d threads for %d tasks (%d segment jobs)", threads, TASKS, TASKS * 2);
	{
		lv_task *t = lv_pt_wait(&pt, ids[TASKS - 1], LV_TASK_GENERATING, 5);
		lv_task_free(t);
	}
	for (i = 0; i < TASKS; i++) {
		lv_task *c = NULL;
		ck_assert_int_eq(lv_task_cancel(&c, pt.engine, pt.key, ids[i]), LV_OK);
		lv_task_free(c);
	}
	until = lv_mono_ms() + 10000;
	while (lv_workers_active(pt.workers) > 0 && lv_mono_ms() < until)
		lv_sleep_ms(50);
	ck_assert_uint_eq(lv_workers_active(pt.workers), 0);
	lv_pt_close(&pt);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("inflight");
	TCase *tc = tcase_create("inflight");
	tcase_set_timeout(tc, 400);
	tcase_add_test(tc, hundreds_of_tasks_in_flight_on_few_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
