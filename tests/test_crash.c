/* A worker process killed with SIGKILL mid-generation loses nothing: another worker resumes the task from
 * what was stored, polls the jobs already submitted instead of submitting them again, and the task is
 * charged exactly once. */
#include "testutil.h"
#include "core/engine.h"
#include "harness.h"
#include "longvideo.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/time.h"

#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char *dir, *config;
static lv_engine *eng;
static lv_key *key;

static void setup(void)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	dir = lv_test_mkdtemp("crash");
	config = lv_test_write_file(dir, "config.json",
	                            "{\"pipeline\":{\"lease_seconds\":2,\"workers\":1},"
	                            "\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":2500}}}");
	o.data_dir = dir;
	o.config_path = config;
	ck_assert_int_eq(lv_engine_open(&eng, &o), LV_OK);
	ck_assert_int_eq(lv_key_create(&key, eng, "crash", 100000000), LV_OK);
}

static void teardown(void)
{
	char *report = NULL;
	ck_assert_msg(lv_ledger_verify(eng, &report) == LV_OK, "%s", report ? report : "");
	lv_key_free(key);
	lv_engine_close(eng);
	lv_test_rmdir(dir);
	free(dir);
	free(config);
}

static pid_t start_worker(void)
{
	char *bin = lv_test_bin("lvctl"), *log = lv_path_join(dir, "worker.log");
	const char *argv[] = { bin, "--data-dir", dir, "--config", config, "worker", "--workers", "1", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	ck_assert_int_eq(posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	free(bin);
	free(log);
	return pid;
}

static void kill9(pid_t pid)
{
	int st;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

typedef struct {
	lv_engine *e;
	const char *id;
	lv_segment_rec *segs;
	size_t n;
	lv_task_rec t;
} snap_ctx;

static int snap_tx(lv_store_tx *tx, void *p)
{
	snap_ctx *c = p;
	int rc = c->e->store->ops->task_get(tx, c->id, 0, &c->t);
	return rc ? rc : c->e->store->ops->segment_list(tx, c->id, &c->segs, &c->n);
}

static void snap(snap_ctx *c, const char *id)
{
	memset(c, 0, sizeof(*c));
	c->e = eng;
	c->id = id;
	ck_assert_int_eq(lv_engine_tx(eng, 0, snap_tx, c), LV_OK);
}

static void snap_free(snap_ctx *c)
{
	lv_segment_recs_free(c->segs, c->n);
	lv_task_rec_clear(&c->t);
}

static lv_task *create(const char *body)
{
	lv_task *t = NULL;
	ck_assert_int_eq(lv_task_create_json(&t, eng, key, body, strlen(body), NULL), LV_OK);
	return t;
}

static lv_task *wait_done(const char *id, int timeout_s)
{
	int64_t until = lv_mono_ms() + timeout_s * 1000LL;
	for (;;) {
		lv_task *t = NULL;
		ck_assert_int_eq(lv_task_get(&t, eng, key, id), LV_OK);
		if (lv_task_status_is_terminal(lv_task_get_status(t)))
			return t;
		ck_assert_msg(lv_mono_ms() < until, "task %s still %s after %d s", id,
		              lv_task_status_name(lv_task_get_status(t)), timeout_s);
		lv_task_free(t);
		lv_sleep_ms(100);
	}
}

static void assert_charged_once(const char *id, int64_t estimate)
{
	snap_ctx c;
	int64_t sums[LV_LEDGER_KINDS];
	lv_store_tx *tx;
	snap(&c, id);
	ck_assert_int_eq(eng->store->ops->begin(eng->store, 0, &tx), LV_OK);
	ck_assert_int_eq(eng->store->ops->ledger_sums(tx, c.t.key_id, id, sums), LV_OK);
	eng->store->ops->rollback(tx);
	ck_assert_int_eq(sums[LV_LEDGER_RESERVE], estimate);
	ck_assert_int_eq(sums[LV_LEDGER_SETTLE], estimate);
	ck_assert_int_eq(sums[LV_LEDGER_REFUND], 0);
	snap_free(&c);
}

START_TEST(kill_during_generation_resumes_polling)
{
	lv_task *t = create("{\"prompt\":\"Fishing boats leave the harbour at dawn\",\"duration\":20}");
	char id[64], jobs[8][160];
	size_t i, n = 0;
	int64_t until = lv_mono_ms() + 60000, estimate = lv_task_cost_estimate(t);
	pid_t a;
	snap_ctx c;
	snprintf(id, sizeof(id), "%s", lv_task_id(t));
	lv_task_free(t);
	a = start_worker();
	/* Wait until every shot has been submitted (job ids stored) but none is finished. */
	for (;;) {
		size_t submitted = 0;
		snap(&c, id);
		for (i = 0; i < c.n; i++)
			submitted += c.segs[i].job_id != NULL;
		if (c.n > 0 && submitted == c.n)
			break;
		snap_free(&c);
		ck_assert_msg(lv_mono_ms() < until, "the shots were never submitted");
		lv_sleep_ms(20);
	}
	ck_assert_int_eq(c.t.status, LV_TASK_GENERATING);
	kill9(a);
	n = c.n;
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(c.segs[i].attempts, 1);
		snprintf(jobs[i], sizeof(jobs[i]), "%s", c.segs[i].job_id);
	}
	snap_free(&c);

	/* A new worker takes over once the lease runs out, and finishes the film. */
	a = start_worker();
	t = wait_done(id, 180);
	kill9(a);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "%s: %s", lv_task_status_name(lv_task_get_status(t)),
	              lv_task_error_message(t) ? lv_task_error_message(t) : "");
	lv_task_free(t);
	snap(&c, id);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(c.segs[i].job_id, jobs[i]); /* polled, not submitted again */
		ck_assert_int_eq(c.segs[i].attempts, 1);
		ck_assert_int_eq(c.segs[i].status, LV_SEG_READY);
	}
	snap_free(&c);
	assert_charged_once(id, estimate);
}
END_TEST

START_TEST(kills_at_random_moments_lose_nothing)
{
	lv_task *t = create("{\"prompt\":\"A girl named Mei flies a kite on the beach\",\"duration\":12}");
	char id[64];
	int64_t estimate = lv_task_cost_estimate(t);
	unsigned seed = 20261124;
	int round;
	snprintf(id, sizeof(id), "%s", lv_task_id(t));
	lv_task_free(t);
	for (round = 0; round < 5; round++) {
		pid_t a = start_worker();
		lv_sleep_ms(300 + rand_r(&seed) % 2500);
		kill9(a);
		ck_assert_int_eq(lv_ledger_verify(eng, NULL), LV_OK);
	}
	{
		pid_t a = start_worker();
		t = wait_done(id, 180);
		kill9(a);
	}
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_COMPLETED);
	lv_task_free(t);
	assert_charged_once(id, estimate);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("crash");
	TCase *tc = tcase_create("crash");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, kill_during_generation_resumes_polling);
	tcase_add_test(tc, kills_at_random_moments_lose_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
