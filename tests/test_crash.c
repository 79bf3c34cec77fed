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

#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

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

static pid_t start_workers(const char *n)
{
	pid_t pid = lv_test_worker_start(dir, config, n);
	ck_assert_int_gt(pid, 0);
	return pid;
}

static pid_t start_worker(void)
{
	return start_workers("1");
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

/* 1 if the task's lease is held by the worker process pid (owners are "<host>:<pid>:<random>"). */
static int owned_by(const lv_task_rec *t, pid_t pid)
{
	char needle[32];
	snprintf(needle, sizeof(needle), ":%ld:", (long)pid);
	return t->lease_owner && strstr(t->lease_owner, needle) != NULL;
}

#define TAKEOVER_TASKS 6

/* Wait until every task that is not finished is held by pid; returns how many are, 0 after timeout_s when
 * not fatal, and fails the test then otherwise. */
static size_t wait_all_owned(char ids[][64], size_t n, pid_t pid, int timeout_s, int fatal)
{
	int64_t until = lv_mono_ms() + timeout_s * 1000LL;
	for (;;) {
		size_t i, owned = 0, open = 0;
		for (i = 0; i < n; i++) {
			snap_ctx c;
			snap(&c, ids[i]);
			if (!lv_task_status_is_terminal((lv_task_status)c.t.status)) {
				open++;
				owned += owned_by(&c.t, pid);
			}
			snap_free(&c);
		}
		if (owned == open)
			return owned;
		if (!fatal && lv_mono_ms() >= until)
			return 0;
		ck_assert_msg(lv_mono_ms() < until, "only %zu of %zu tasks held by worker %ld after %d s", owned, open,
		              (long)pid, timeout_s);
		lv_sleep_ms(50);
	}
}

/* A worker that stalls longer than its lease (SIGSTOP) loses its tasks to another process; when it resumes
 * it stops its work and removes only its own scratch files, never those of the new owner, so every task
 * completes and is charged once. */
START_TEST(paused_owner_leaves_the_new_owners_work_alone)
{
	char ids[TAKEOVER_TASKS][64];
	int64_t estimates[TAKEOVER_TASKS];
	size_t i;
	unsigned seed = 20261204;
	pid_t a, b;
	for (i = 0; i < TAKEOVER_TASKS; i++) {
		char body[160];
		lv_task *t;
		snprintf(body, sizeof(body), "{\"prompt\":\"A lighthouse keeper paints boat number %zu\",\"duration\":8}", i);
		t = create(body);
		snprintf(ids[i], sizeof(ids[i]), "%s", lv_task_id(t));
		estimates[i] = lv_task_cost_estimate(t);
		lv_task_free(t);
	}
	int pauses;
	a = start_workers("3");
	ck_assert_uint_gt(wait_all_owned(ids, TAKEOVER_TASKS, a, 60, 1), 0);
	lv_sleep_ms(200 + rand_r(&seed) % 800);
	kill(a, SIGSTOP);
	/* The lease (2 s) runs out; b takes every task over and works on it from what was stored.  A process
	 * stopped inside a database transaction holds SQLite's write lock: then let it run a moment and stop
	 * it again. */
	b = start_workers("3");
	for (pauses = 0; !wait_all_owned(ids, TAKEOVER_TASKS, b, 10, 0); pauses++) {
		ck_assert_msg(pauses < 10, "worker %ld never took the tasks over", (long)b);
		kill(a, SIGCONT);
		lv_sleep_ms(50);
		kill(a, SIGSTOP);
	}
	lv_sleep_ms(300 + rand_r(&seed) % 700);
	kill(a, SIGCONT);
	for (i = 0; i < TAKEOVER_TASKS; i++) {
		lv_task *t = wait_done(ids[i], 180);
		ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "task %zu: %s: %s", i,
		              lv_task_status_name(lv_task_get_status(t)),
		              lv_task_error_message(t) ? lv_task_error_message(t) : "");
		lv_task_free(t);
	}
	kill9(a);
	kill9(b);
	for (i = 0; i < TAKEOVER_TASKS; i++)
		assert_charged_once(ids[i], estimates[i]);
}
END_TEST

/* At start-up a worker removes the scratch space of processes that are gone and only that: a directory
 * whose lock is still held by a living process stays. */
START_TEST(startup_removes_only_the_scratch_of_dead_processes)
{
	char *work = lv_path_join(dir, "work"), *dead = lv_path_join(work, "h-1-dead.d"),
	     *dead_lock = lv_path_join(work, "h-1-dead.lock"), *live = lv_path_join(work, "h-2-live.d"),
	     *live_lock = lv_path_join(work, "h-2-live.lock"), *orphan_lock = lv_path_join(work, "h-3-orphan.lock"),
	     *other = lv_path_join(work, "not-scratch");
	char *f1, *f2, *f3;
	int fd;
	lv_workers *w = NULL;
	lv_worker_options o = LV_WORKER_OPTIONS_INIT;
	ck_assert_int_eq(lv_mkdir_p(dead, 0), LV_OK);
	ck_assert_int_eq(lv_mkdir_p(live, 0), LV_OK);
	ck_assert_int_eq(lv_mkdir_p(other, 0), LV_OK);
	f1 = lv_test_write_file(dead, "seg.mp4", "x");
	f2 = lv_test_write_file(live, "seg.mp4", "x");
	f3 = lv_test_write_file(other, "keep", "x");
	free(lv_test_write_file(work, "h-1-dead.lock", ""));
	free(lv_test_write_file(work, "h-3-orphan.lock", ""));
	/* The living owner: this process holds the lock on its own descriptor. */
	fd = open(live_lock, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	o.workers = 1;
	o.webhooks = 0;
	ck_assert_int_eq(lv_workers_start(&w, eng, &o), LV_OK);
	ck_assert_msg(!lv_path_exists(dead), "the scratch of a dead process was kept");
	ck_assert(!lv_path_exists(dead_lock));
	ck_assert(!lv_path_exists(orphan_lock));
	ck_assert_msg(lv_path_exists(f2), "the scratch of a living process was removed");
	ck_assert(lv_path_exists(live_lock));
	ck_assert(lv_path_exists(f3));
	lv_workers_stop(w);
	/* A stopped worker removes its own scratch space: only the living one and the foreign directory remain. */
	{
		DIR *d = opendir(work);
		struct dirent *de;
		size_t n = 0;
		ck_assert_ptr_nonnull(d);
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.') {
				ck_assert_msg(!strcmp(de->d_name, "h-2-live.d") || !strcmp(de->d_name, "h-2-live.lock") ||
				                  !strcmp(de->d_name, "not-scratch"),
				              "left behind: %s", de->d_name);
				n++;
			}
		closedir(d);
		ck_assert_uint_eq(n, 3);
	}
	close(fd);
	free(f1);
	free(f2);
	free(f3);
	free(work);
	free(dead);
	free(dead_lock);
	free(live);
	free(live_lock);
	free(orphan_lock);
	free(other);
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
	tc = tcase_create("takeover");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, paused_owner_leaves_the_new_owners_work_alone);
	suite_add_tcase(s, tc);
	tc = tcase_create("scratch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, startup_removes_only_the_scratch_of_dead_processes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
