/*
 * Many processes on one PostgreSQL store and one S3-compatible bucket, killed with SIGKILL at random
 * and restarted throughout: 2 lvserver (one API only, one with a worker) and 3 `lvctl worker`
 * processes.  Tasks of mixed short lengths are created through both servers' HTTP API (retried on the
 * other server with the same Idempotency-Key when one dies under the request); some are canceled, some
 * use a provider whose shot fails.  At the end: every task is terminal, every completed film plays
 * (FFmpeg reads it through its capability result_url, following the 302 to the presigned URL), the
 * ledger verifies, every stored provider job was submitted once, each task is charged as its outcome
 * says, and each task got a signed webhook naming its final status and the deployment's public URL.
 *
 * Needs LV_TEST_PG_URL (scripts/pg.sh) and LV_TEST_S3_ENDPOINT (scripts/s3.sh); else it is skipped
 * (exit 77).  LV_CHAOS_TASKS (default 100), LV_CHAOS_ROUNDS (kills, default 12), LV_CHAOS_SEED and
 * LV_CHAOS_PLAY (films read back with FFmpeg, default 8; "all" reads every one) make longer runs.
 */
#include "testutil.h"
#include "core/engine.h"
#include "harness.h"
#include "longvideo.h"
#include "stop.h"
#include "store_util.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"
#include "webhook/webhook.h"

#include <civetweb.h>
#include <libavformat/avformat.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PUBLIC_URL "http://lb.chaos.test"
#define MASTER_KEY "Y2hhb3MtdGVzdC1tYXN0ZXIta2V5LWZvci1ldmVyeS1wcm9jZXM="
#define N_SERVERS 2
#define N_WORKERS 3

/* ---- the webhook receiver ------------------------------------------------------------------- */

typedef struct hook {
	char id[80], ts[32], sig[160];
	char *body;
} hook;

typedef struct receiver {
	struct mg_context *ctx;
	int port;
	pthread_mutex_t mu;
	hook *hooks;
	size_t n, cap;
} receiver;

static int on_hook(struct mg_connection *c, void *p)
{
	receiver *r = p;
	char *buf = malloc(65536);
	int len = buf ? mg_read(c, buf, 65535) : 0;
	const char *v;
	pthread_mutex_lock(&r->mu);
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		hook *h = realloc(r->hooks, cap * sizeof(*h));
		if (h) {
			r->hooks = h;
			r->cap = cap;
		}
	}
	if (r->n < r->cap) {
		hook *h = &r->hooks[r->n++];
		snprintf(h->id, sizeof(h->id), "%s", (v = mg_get_header(c, "webhook-id")) ? v : "");
		snprintf(h->ts, sizeof(h->ts), "%s", (v = mg_get_header(c, "webhook-timestamp")) ? v : "");
		snprintf(h->sig, sizeof(h->sig), "%s", (v = mg_get_header(c, "webhook-signature")) ? v : "");
		h->body = lv_strndup(buf ? buf : "", len > 0 ? (size_t)len : 0);
	}
	pthread_mutex_unlock(&r->mu);
	free(buf);
	mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	return 200;
}

static void receiver_start(receiver *r)
{
	const char *opts[] = { "listening_ports", "127.0.0.1:0", "num_threads", "8", NULL };
	struct mg_server_port sp;
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->ctx = mg_start(NULL, NULL, opts);
	ck_assert_ptr_nonnull(r->ctx);
	mg_set_request_handler(r->ctx, "/hook", on_hook, r);
	ck_assert_int_ge(mg_get_server_ports(r->ctx, 1, &sp), 1);
	r->port = sp.port;
}

static void receiver_stop(receiver *r)
{
	size_t i;
	srv_civetweb_stop(r->ctx, "127.0.0.1", r->port);
	for (i = 0; i < r->n; i++)
		free(r->hooks[i].body);
	free(r->hooks);
	pthread_mutex_destroy(&r->mu);
}

/* ---- the processes ---------------------------------------------------------------------------- */

typedef struct proc {
	int server;          /* lvserver, else lvctl worker */
	const char *workers; /* its --workers */
	char *dir;           /* its own data directory (scratch only: state is in the store and bucket) */
	lv_test_server srv;  /* pid and, for a server, its current URL */
} proc;

static const char *cfg_path;

static void proc_start(proc *p)
{
	if (p->server) {
		const char *extra[] = { "--workers", p->workers, NULL };
		ck_assert_int_eq(lv_test_server_start(&p->srv, p->dir, cfg_path, extra), 0);
	} else {
		memset(&p->srv, 0, sizeof(p->srv));
		p->srv.pid = lv_test_worker_start(p->dir, cfg_path, p->workers);
		ck_assert_int_gt(p->srv.pid, 0);
	}
}

static void proc_kill(proc *p)
{
	if (p->server) {
		lv_test_server_kill(&p->srv);
		free(p->srv.log_path);
		p->srv.log_path = NULL;
	} else {
		int st;
		kill(p->srv.pid, SIGKILL);
		waitpid(p->srv.pid, &st, 0);
	}
	p->srv.pid = 0;
}

/* ---- the tasks -------------------------------------------------------------------------------- */

enum { KIND_PLAIN, KIND_CANCEL, KIND_FAIL };

typedef struct ctask {
	char id[64];
	int kind, duration;
	int status;
} ctask;

static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);
	return v && *v ? atoi(v) : dflt;
}

/* One API request sent to server `*which`, then to the other while they fail (a killed server, a
 * refusal to take more work): 0 with the answer, failing the test after 60 s. */
static void api(lv_test_response *r, proc *servers, unsigned *which, const char *method, const char *path,
                const char *const *hdr, const char *body)
{
	int64_t until = lv_mono_ms() + 60000;
	for (;;) {
		char url[256];
		proc *s = &servers[*which % N_SERVERS];
		snprintf(url, sizeof(url), "%s%s", s->srv.base_url, path);
		if (s->srv.pid > 0 && lv_test_http(r, method, url, hdr, body, body ? strlen(body) : 0) == 0) {
			if (r->status < 500 && r->status != 429)
				return;
			lv_test_response_free(r);
		}
		ck_assert_msg(lv_mono_ms() < until, "%s %s: no server answered", method, path);
		(*which)++;
		lv_sleep_ms(100);
	}
}

typedef struct chaos {
	lv_engine *e;
	lv_key *key;
	proc procs[N_SERVERS + N_WORKERS];
	unsigned seed;
	int kills;
} chaos;

static void kill_one(chaos *c)
{
	proc *p = &c->procs[rand_r(&c->seed) % (N_SERVERS + N_WORKERS)];
	proc_kill(p);
	c->kills++;
	/* Sometimes it comes back at once, sometimes after its leases ran out. */
	if (rand_r(&c->seed) % 2)
		lv_sleep_ms(200 + rand_r(&c->seed) % 2000);
	proc_start(p);
}

/* ---- reading a film back ------------------------------------------------------------------------ */

static void film_plays(const char *url, int seconds)
{
	AVFormatContext *fc = NULL;
	AVPacket *pkt = av_packet_alloc();
	int vs, packets = 0, rc;
	double d;
	rc = avformat_open_input(&fc, url, NULL, NULL);
	ck_assert_msg(rc == 0, "open %s: %d", url, rc);
	ck_assert_int_ge(avformat_find_stream_info(fc, NULL), 0);
	vs = av_find_best_stream(fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	ck_assert_int_ge(vs, 0);
	d = (double)fc->duration / AV_TIME_BASE;
	ck_assert_msg(d > seconds - 0.3 && d < seconds + 0.3, "%s: duration %.3f, want %d", url, d, seconds);
	while (av_read_frame(fc, pkt) >= 0) {
		packets += pkt->stream_index == vs;
		av_packet_unref(pkt);
	}
	ck_assert_int_ge(packets, seconds * 20);
	av_packet_free(&pkt);
	avformat_close_input(&fc);
}

typedef struct audit_ctx {
	lv_engine *e;
	const char *id;
	lv_task_rec t;
	lv_segment_rec *segs;
	size_t n;
	int64_t sums[LV_LEDGER_KINDS];
} audit_ctx;

static int audit_tx(lv_store_tx *tx, void *p)
{
	audit_ctx *a = p;
	int rc = a->e->store->ops->task_get(tx, a->id, 0, &a->t);
	if (!rc)
		rc = a->e->store->ops->segment_list(tx, a->id, &a->segs, &a->n);
	if (!rc)
		rc = a->e->store->ops->ledger_sums(tx, a->t.key_id, a->id, a->sums);
	return rc;
}

START_TEST(processes_killed_at_random_lose_nothing)
{
	int n_tasks = env_int("LV_CHAOS_TASKS", 100), rounds = env_int("LV_CHAOS_ROUNDS", 12);
	int n_play = getenv("LV_CHAOS_PLAY") && !strcmp(getenv("LV_CHAOS_PLAY"), "all") ? n_tasks
	                                                                               : env_int("LV_CHAOS_PLAY", 8);
	char *base = lv_test_mkdtemp("chaos"), *store, *json, *tdir, auth[200], hook_url[128], *report = NULL;
	const char *pg = getenv("LV_TEST_PG_URL"), *ep = getenv("LV_TEST_S3_ENDPOINT"), *bkt = getenv("LV_TEST_S3_BUCKET");
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	ctask *tasks = calloc((size_t)n_tasks, sizeof(*tasks));
	receiver rcv;
	chaos c;
	unsigned which = 0;
	int i, counts[3] = { 0, 0, 0 }, completed = 0, played = 0;
	int64_t until;
	size_t h;
	memset(&c, 0, sizeof(c));
	c.seed = (unsigned)env_int("LV_CHAOS_SEED", (int)time(NULL));
	fprintf(stderr, "chaos: seed %u (LV_CHAOS_SEED), %d tasks, %d kills\n", c.seed, n_tasks, rounds);
	ck_assert_ptr_nonnull(tasks);
	receiver_start(&rcv);
	snprintf(hook_url, sizeof(hook_url), "http://127.0.0.1:%d/hook", rcv.port);

	/* One fresh database, one prefix in the bucket, one master key for every process. */
	setenv("LV_MASTER_KEY", MASTER_KEY, 1);
	store = lv_test_fresh_store(pg, base);
	ck_assert_ptr_nonnull(store);
	json = lv_asprintf(
	    "{\"store\":\"%s\",\"server\":{\"public_url\":\"" PUBLIC_URL "\"},"
	    "\"storage\":{\"type\":\"s3\",\"endpoint\":\"%s\",\"bucket\":\"%s\",\"prefix\":\"chaos-%ld-%u/\","
	    "\"path_style\":true,\"access_key_env\":\"LV_TEST_S3_ACCESS_KEY\","
	    "\"secret_key_env\":\"LV_TEST_S3_SECRET_KEY\"},"
	    "\"pipeline\":{\"lease_seconds\":2,\"segment_retries\":1},"
	    "\"webhooks\":{\"allow_private\":true,\"retry_delays_ms\":[0,500,1000,2000,4000],\"timeout_ms\":3000},"
	    "\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":300},"
	    "\"flaky\":{\"type\":\"local\",\"latency_ms\":300,\"fail_shots\":[0]}}}",
	    store, ep, bkt && *bkt ? bkt : "lvtest", (long)getpid(), c.seed);
	cfg_path = lv_test_write_file(base, "config.json", json);
	tdir = lv_path_join(base, "test");
	o.data_dir = tdir;
	o.config_path = cfg_path;
	ck_assert_msg(lv_engine_open(&c.e, &o) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_key_create(&c.key, c.e, "chaos", 1000000000), LV_OK);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", lv_key_secret(c.key));

	for (i = 0; i < N_SERVERS + N_WORKERS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s%d", i < N_SERVERS ? "server" : "worker", i);
		c.procs[i].server = i < N_SERVERS;
		/* One API-only server, one serving with a pipeline worker as well; workers run two each. */
		c.procs[i].workers = i == 0 ? "0" : i == 1 ? "1" : "2";
		c.procs[i].dir = lv_path_join(base, name);
		ck_assert_int_eq(lv_mkdir_p(c.procs[i].dir, 0), LV_OK);
		proc_start(&c.procs[i]);
	}

	/* Both servers are ready: the store answers and the bucket accepts the credentials. */
	for (i = 0; i < N_SERVERS; i++) {
		char url[128];
		int64_t ready_by = lv_mono_ms() + 30000;
		snprintf(url, sizeof(url), "%s/readyz", c.procs[i].srv.base_url);
		for (;;) {
			lv_test_response r;
			int ready;
			ck_assert_int_eq(lv_test_http(&r, "GET", url, NULL, NULL, 0), 0);
			ready = r.status == 200 && strstr(r.body, "\"ready\"") != NULL;
			ck_assert_msg(ready || lv_mono_ms() < ready_by, "%ld %s", r.status, r.body);
			lv_test_response_free(&r);
			if (ready)
				break;
			lv_sleep_ms(200);
		}
	}

	/* Create the tasks through both servers while processes die; cancel some through the other one. */
	for (i = 0; i < n_tasks; i++) {
		ctask *t = &tasks[i];
		char body[512], idem[80], path[128];
		const char *hdr[] = { auth, "Content-Type: application/json", idem, NULL };
		lv_test_response r;
		cJSON *j;
		unsigned roll = rand_r(&c.seed) % 100;
		t->kind = roll < 20 ? KIND_CANCEL : roll < 35 ? KIND_FAIL : KIND_PLAIN;
		t->duration = 3 + (int)(rand_r(&c.seed) % 3);
		counts[t->kind]++;
		snprintf(idem, sizeof(idem), "Idempotency-Key: chaos-%u-%d", c.seed, i);
		snprintf(body, sizeof(body),
		         "{\"prompt\":\"A lighthouse keeper paints boat number %d at dawn\",\"duration\":%d,"
		         "\"provider\":\"%s\",\"webhook_url\":\"%s\",\"metadata\":{\"n\":\"%d\"}}",
		         i, t->duration, t->kind == KIND_FAIL ? "flaky" : "local", hook_url, i);
		which = (unsigned)i;
		api(&r, c.procs, &which, "POST", "/v1/videos", hdr, body);
		ck_assert_msg(r.status == 202 || r.status == 200, "create %d: %ld %s", i, r.status, r.body);
		j = cJSON_Parse(r.body);
		ck_assert_ptr_nonnull(j);
		snprintf(t->id, sizeof(t->id), "%s", lv_json_get_str(j, "task_id"));
		cJSON_Delete(j);
		lv_test_response_free(&r);
		if (t->kind == KIND_CANCEL) {
			const char *chdr[] = { auth, NULL };
			if (rand_r(&c.seed) % 2)
				lv_sleep_ms(rand_r(&c.seed) % 1500);
			snprintf(path, sizeof(path), "/v1/videos/%s/cancel", t->id);
			which++;
			api(&r, c.procs, &which, "POST", path, chdr, NULL);
			ck_assert_msg(r.status == 200, "cancel %s: %ld %s", t->id, r.status, r.body);
			lv_test_response_free(&r);
		}
		if (rounds > 0 && i % (n_tasks / rounds + 1) == n_tasks / rounds / 2)
			kill_one(&c);
	}
	/* More kills while the work goes on. */
	while (c.kills < rounds) {
		lv_sleep_ms(500 + rand_r(&c.seed) % 2000);
		kill_one(&c);
	}

	/* Everything ends. */
	until = lv_mono_ms() + env_int("LV_CHAOS_WAIT_S", 900) * 1000LL;
	for (i = 0; i < n_tasks; i++) {
		for (;;) {
			lv_task *t = NULL;
			ck_assert_int_eq(lv_task_get(&t, c.e, c.key, tasks[i].id), LV_OK);
			tasks[i].status = (int)lv_task_get_status(t);
			lv_task_free(t);
			if (lv_task_status_is_terminal((lv_task_status)tasks[i].status))
				break;
			ck_assert_msg(lv_mono_ms() < until, "task %s (%d) still %s", tasks[i].id, i,
			              lv_task_status_name((lv_task_status)tasks[i].status));
			lv_sleep_ms(200);
		}
	}

	/* Outcomes, charges and provider jobs, from the store. */
	for (i = 0; i < n_tasks; i++) {
		ctask *t = &tasks[i];
		audit_ctx a;
		size_t s;
		memset(&a, 0, sizeof(a));
		a.e = c.e;
		a.id = t->id;
		ck_assert_int_eq(lv_engine_tx(c.e, 0, audit_tx, &a), LV_OK);
		if (t->kind == KIND_PLAIN) {
			ck_assert_msg(t->status == LV_TASK_COMPLETED, "task %s: %s (%s)", t->id,
			              lv_task_status_name((lv_task_status)t->status),
			              a.t.error_message ? a.t.error_message : "");
		} else if (t->kind == KIND_FAIL) {
			ck_assert_msg(t->status == LV_TASK_FAILED || t->status == LV_TASK_CANCELED, "task %s: %s", t->id,
			              lv_task_status_name((lv_task_status)t->status));
		} else {
			ck_assert_msg(t->status != LV_TASK_FAILED, "canceled task %s failed", t->id);
		}
		completed += t->status == LV_TASK_COMPLETED;
		for (s = 0; s < a.n; s++) {
			/* A stored job was submitted once; only the failing provider's shot is submitted again (once:
			 * segment_retries 1).  The other shots of a failing task may never start. */
			if (t->kind == KIND_FAIL && a.segs[s].idx == 0)
				ck_assert_int_le(a.segs[s].attempts, 2);
			else
				ck_assert_msg(a.segs[s].attempts <= 1, "task %s shot %d submitted %d times", t->id,
				              a.segs[s].idx, a.segs[s].attempts);
			if (t->status == LV_TASK_COMPLETED)
				ck_assert(a.segs[s].attempts == 1 && a.segs[s].job_id && a.segs[s].status == LV_SEG_READY);
		}
		/* Charged as the outcome says: all of the estimate when completed, nothing kept twice. */
		ck_assert_int_gt(a.sums[LV_LEDGER_RESERVE], 0);
		ck_assert_int_eq(a.sums[LV_LEDGER_SETTLE] + a.sums[LV_LEDGER_REFUND], a.sums[LV_LEDGER_RESERVE]);
		if (t->status == LV_TASK_COMPLETED)
			ck_assert_int_eq(a.sums[LV_LEDGER_REFUND], 0);
		lv_segment_recs_free(a.segs, a.n);
		lv_task_rec_clear(&a.t);
	}
	ck_assert_msg(lv_ledger_verify(c.e, &report) == LV_OK, "%s", report ? report : "");
	lv_free(report);

	/* Each task's webhook, signed with the key's secret, with the deployment's public URL. */
	{
		unsigned char secret[64];
		long sn = lv_webhook_secret_decode(secret, sizeof(secret), lv_key_webhook_secret(c.key));
		int missing = n_tasks;
		ck_assert_int_gt(sn, 0);
		until = lv_mono_ms() + 120000;
		while (missing > 0) {
			int got = 0;
			pthread_mutex_lock(&rcv.mu);
			for (i = 0; i < n_tasks; i++) {
				for (h = 0; h < rcv.n; h++)
					if (strstr(rcv.hooks[h].body, tasks[i].id)) {
						got++;
						break;
					}
			}
			pthread_mutex_unlock(&rcv.mu);
			missing = n_tasks - got;
			if (missing == 0)
				break;
			ck_assert_msg(lv_mono_ms() < until, "%d tasks got no webhook", missing);
			lv_sleep_ms(200);
		}
		pthread_mutex_lock(&rcv.mu);
		for (i = 0; i < n_tasks; i++) {
			int found = 0;
			for (h = 0; h < rcv.n; h++) {
				hook *k = &rcv.hooks[h];
				char expect[128];
				cJSON *b = cJSON_Parse(k->body);
				const char *url;
				ck_assert_ptr_nonnull(b);
				if (strcmp(lv_json_get_str(b, "task_id") ? lv_json_get_str(b, "task_id") : "", tasks[i].id)) {
					cJSON_Delete(b);
					continue;
				}
				ck_assert_int_eq(lv_webhook_sign(expect, sizeof(expect), secret, (size_t)sn, k->id, atoll(k->ts),
				                                 k->body, strlen(k->body)),
				                 LV_OK);
				ck_assert_str_eq(k->sig, expect);
				ck_assert_str_eq(lv_json_get_str(b, "status"),
				                 lv_task_status_name((lv_task_status)tasks[i].status));
				url = lv_json_get_str(b, "result_url");
				if (tasks[i].status == LV_TASK_COMPLETED)
					ck_assert_msg(url && !strncmp(url, PUBLIC_URL "/media/", strlen(PUBLIC_URL "/media/")),
					              "%s", url ? url : "(null)");
				cJSON_Delete(b);
				found++;
			}
			ck_assert_msg(found >= 1, "task %s got no webhook", tasks[i].id);
		}
		pthread_mutex_unlock(&rcv.mu);
	}

	/* Completed films play, read through the capability URL of a live server (302 to the bucket). */
	for (i = 0; i < n_tasks && played < n_play; i++) {
		lv_task *t = NULL;
		char *tj = NULL, url[700];
		cJSON *j;
		if (tasks[i].status != LV_TASK_COMPLETED)
			continue;
		ck_assert_int_eq(lv_task_get(&t, c.e, c.key, tasks[i].id), LV_OK);
		ck_assert_int_eq(lv_task_to_json(&tj, t, 0), LV_OK);
		lv_task_free(t);
		j = cJSON_Parse(tj);
		lv_free(tj);
		ck_assert_msg(!strncmp(lv_json_get_str(j, "result_url"), PUBLIC_URL "/media/", strlen(PUBLIC_URL "/media/")),
		              "%s", lv_json_get_str(j, "result_url"));
		snprintf(url, sizeof(url), "%s%s", c.procs[played % N_SERVERS].srv.base_url,
		         lv_json_get_str(j, "result_url") + strlen(PUBLIC_URL));
		cJSON_Delete(j);
		film_plays(url, tasks[i].duration);
		played++;
	}
	ck_assert_int_gt(completed, 0);
	ck_assert_int_eq(played, completed < n_play ? completed : n_play);
	fprintf(stderr,
	        "chaos: %d tasks (%d plain, %d canceled, %d with a failing shot), %d completed, %d kills, "
	        "%zu webhooks, %d films played, 0 violations\n",
	        n_tasks, counts[KIND_PLAIN], counts[KIND_CANCEL], counts[KIND_FAIL], completed, c.kills, rcv.n, played);

	for (i = 0; i < N_SERVERS + N_WORKERS; i++) {
		proc_kill(&c.procs[i]);
		free(c.procs[i].dir);
	}
	receiver_stop(&rcv);
	lv_key_free(c.key);
	lv_engine_close(c.e);
	lv_test_rmdir(base);
	free(base);
	free(tdir);
	free(store);
	free(json);
	free((char *)cfg_path);
	free(tasks);
}
END_TEST

/* Two API servers on one PostgreSQL store apply one rate limit per key between them: the counters are
 * the store's (one fixed window by the database's clock), not each process's. */
START_TEST(two_servers_share_one_rate_limit)
{
	char *base = lv_test_mkdtemp("ratelimit"), *store, *json, *cfg, *tdir, auth[200];
	const char *hdr[] = { auth, NULL };
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	lv_key *k = NULL;
	proc servers[N_SERVERS];
	int attempt, i, first_refused = 0;
	setenv("LV_MASTER_KEY", MASTER_KEY, 1);
	store = lv_test_fresh_store(getenv("LV_TEST_PG_URL"), base);
	ck_assert_ptr_nonnull(store);
	json = lv_asprintf("{\"store\":\"%s\",\"server\":{\"rate_limit_per_minute\":6}}", store);
	cfg = lv_test_write_file(base, "config.json", json);
	cfg_path = cfg;
	tdir = lv_path_join(base, "test");
	o.data_dir = tdir;
	o.config_path = cfg;
	ck_assert_msg(lv_engine_open(&e, &o) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_key_create(&k, e, "limited", 1000), LV_OK);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", lv_key_secret(k));
	for (i = 0; i < N_SERVERS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "s%d", i);
		servers[i].server = 1;
		servers[i].workers = "0";
		servers[i].dir = lv_path_join(base, name);
		ck_assert_int_eq(lv_mkdir_p(servers[i].dir, 0), LV_OK);
		proc_start(&servers[i]);
	}
	/* Requests alternate between the servers; the 7th is the first refused.  A run that straddles the
	 * end of a window (the database's minute) is tried again: it is the only way the count restarts. */
	for (attempt = 0; attempt < 3 && !first_refused; attempt++) {
		char *w0 = NULL, *w1 = NULL;
		ck_assert_int_eq(lv_test_store_sql(store, "SELECT lv_now_ms() / 60000", &w0), 0);
		for (i = 1; i <= 14 && !first_refused; i++) {
			lv_test_response r;
			char url[256], buf[160];
			snprintf(url, sizeof(url), "%s/v1/videos", servers[i % N_SERVERS].srv.base_url);
			ck_assert_int_eq(lv_test_http(&r, "GET", url, hdr, NULL, 0), 0);
			if (r.status == 429) {
				first_refused = i;
				ck_assert_ptr_nonnull(lv_test_header(&r, "Retry-After", buf, sizeof(buf)));
				ck_assert_int_ge(atoi(buf), 1);
				ck_assert_ptr_nonnull(lv_test_header(&r, "RateLimit", buf, sizeof(buf)));
				ck_assert_msg(strstr(buf, "r=0;"), "%s", buf);
			} else {
				ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
			}
			lv_test_response_free(&r);
		}
		ck_assert_int_eq(lv_test_store_sql(store, "SELECT lv_now_ms() / 60000", &w1), 0);
		if (strcmp(w0, w1)) {
			first_refused = 0; /* a new window began meanwhile */
			lv_sleep_ms(1000);
		}
		free(w0);
		free(w1);
	}
	ck_assert_msg(first_refused == 7, "first refusal at request %d, want 7 (6 per minute over both servers)",
	              first_refused);
	/* The other server refuses as well. */
	{
		lv_test_response r;
		char url[256];
		snprintf(url, sizeof(url), "%s/v1/videos", servers[(first_refused + 1) % N_SERVERS].srv.base_url);
		ck_assert_int_eq(lv_test_http(&r, "GET", url, hdr, NULL, 0), 0);
		ck_assert_int_eq(r.status, 429);
		lv_test_response_free(&r);
	}
	for (i = 0; i < N_SERVERS; i++) {
		ck_assert_int_eq(lv_test_server_stop(&servers[i].srv), 0);
		free(servers[i].srv.log_path);
		free(servers[i].dir);
	}
	lv_key_free(k);
	lv_engine_close(e);
	lv_test_rmdir(base);
	free(base);
	free(tdir);
	free(store);
	free(json);
	free(cfg);
	cfg_path = NULL;
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("scale_chaos");
	TCase *shared = tcase_create("shared");
	tcase_set_timeout(shared, 120);
	tcase_add_test(shared, two_servers_share_one_rate_limit);
	suite_add_tcase(s, shared);
	TCase *tc = tcase_create("chaos");
	tcase_set_timeout(tc, 1800);
	tcase_add_test(tc, processes_killed_at_random_lose_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!getenv("LV_TEST_PG_URL") || !*getenv("LV_TEST_PG_URL") || !getenv("LV_TEST_S3_ENDPOINT") ||
	    !*getenv("LV_TEST_S3_ENDPOINT")) {
		fprintf(stderr, "SKIP: needs LV_TEST_PG_URL (scripts/pg.sh) and the S3 server (scripts/s3.sh)\n");
		return 77;
	}
	return lv_test_run_suite(suite());
}
