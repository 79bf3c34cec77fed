/*
 * lv-bench-api: what the API and an idle worker cost as the store grows and load rises, each figure
 * against a baseline measured in the same run.
 *
 *   reads:   GET /v1/videos/{id}, GET /v1/videos?limit=20 and GET /v1/credits on a store with 20
 *            tasks and on one with 10,000 tasks and a million ledger rows on the key (wrk), and a
 *            bare CivetWeb handler returning the same GET body (the ceiling of the HTTP layer)
 *   creates: POST /v1/videos at 1 and 16 connections (rate and p99), against a bare sqlite3 loop
 *            inserting one row per transaction in WAL mode with synchronous=FULL
 *   idle:    CPU (ms per s) and RSS of a worker holding 0, 200 and 1,000 tasks that wait on their
 *            provider jobs
 *
 * Every result line starting with "RATIO|" is collected by scripts/bench.sh into one table:
 *   RATIO|name|value|target
 *
 *   lv-bench-api --bin DIR [--seconds S] [--held 0,200,1000] [--tasks 10000] [--ledger 1000000]
 *                [--skip reads,creates,idle]
 */
#include "core/engine.h"
#include "longvideo.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/time.h"

#include <civetweb.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct opts {
	const char *bin;
	int seconds;
	int tasks;
	long ledger;
	int held[8];
	int n_held;
	const char *skip;
	char *tmp;
} opts;

static void usage(void)
{
	fprintf(stderr, "usage: lv-bench-api --bin DIR [--seconds S] [--held 0,200,1000] [--tasks N] [--ledger N]\n"
	                "                    [--skip reads,creates,idle]\n");
}

static int parse(opts *o, int argc, char **argv)
{
	int i;
	memset(o, 0, sizeof(*o));
	o->seconds = 5;
	o->tasks = 10000;
	o->ledger = 1000000;
	o->held[0] = 0;
	o->held[1] = 200;
	o->held[2] = 1000;
	o->n_held = 3;
	o->skip = "";
	for (i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (!strcmp(a, "--bin"))
			o->bin = v;
		else if (!strcmp(a, "--seconds"))
			o->seconds = atoi(v);
		else if (!strcmp(a, "--tasks"))
			o->tasks = atoi(v);
		else if (!strcmp(a, "--ledger"))
			o->ledger = atol(v);
		else if (!strcmp(a, "--skip"))
			o->skip = v;
		else if (!strcmp(a, "--held")) {
			char *copy = lv_strdup(v), *tok, *save = NULL;
			o->n_held = 0;
			for (tok = strtok_r(copy, ",", &save); tok && o->n_held < 8; tok = strtok_r(NULL, ",", &save))
				o->held[o->n_held++] = atoi(tok);
			free(copy);
		} else
			return -1;
	}
	return i == argc && o->bin && o->seconds > 0 ? 0 : -1;
}

static void ratio(const char *name, double value, const char *target)
{
	printf("RATIO|%s|%.3f|%s\n", name, value, target);
	fflush(stdout);
}

/* ---- a store with a key and some tasks ------------------------------------------------------------- */

typedef struct env {
	char *dir;
	char *secret;
	char task_id[64];
	lv_engine *e;
} env;

static const char *const TASK_BODY =
	"{\"prompt\":\"A lighthouse keeper writes the last page of his journal while the storm passes\","
	"\"duration\":12,\"narration\":false,\"music\":false}";

static int env_open(env *v, const opts *o, const char *tag, const char *config)
{
	lv_engine_options eo = LV_ENGINE_OPTIONS_INIT;
	lv_key *k = NULL;
	char *cfg_path;
	memset(v, 0, sizeof(*v));
	v->dir = lv_asprintf("%s/%s", o->tmp, tag);
	if (!v->dir || lv_mkdir_p(v->dir, 0))
		return -1;
	cfg_path = lv_asprintf("%s/config.json", v->dir);
	if (!cfg_path || lv_file_write_atomic(cfg_path, config, strlen(config), 0600)) {
		free(cfg_path);
		return -1;
	}
	eo.config_path = cfg_path;
	eo.data_dir = v->dir;
	if (lv_engine_open(&v->e, &eo) || lv_key_create(&k, v->e, "bench", (int64_t)1 << 50)) {
		fprintf(stderr, "bench: %s\n", lv_error_last()->message);
		free(cfg_path);
		return -1;
	}
	free(cfg_path);
	v->secret = lv_strdup(lv_key_secret(k));
	lv_key_free(k);
	return v->secret ? 0 : -1;
}

static int env_create_tasks(env *v, int n)
{
	lv_key *k = NULL;
	int i;
	if (lv_key_authenticate(&k, v->e, v->secret))
		return -1;
	for (i = 0; i < n; i++) {
		lv_task *t = NULL;
		if (lv_task_create_json(&t, v->e, k, TASK_BODY, strlen(TASK_BODY), NULL)) {
			fprintf(stderr, "bench: create: %s\n", lv_error_last()->message);
			lv_key_free(k);
			return -1;
		}
		snprintf(v->task_id, sizeof(v->task_id), "%s", lv_task_id(t));
		lv_task_free(t);
	}
	lv_key_free(k);
	return 0;
}

/* Grow the store quickly: copies of the first task (with its segments) and ledger rows on the key,
 * in one transaction.  The copies are identical but for their ids, so that the list returns the same
 * bodies as on the small store. */
static int env_grow(env *v, int tasks, long ledger_rows)
{
	const lv_store_ops *ops = v->e->store->ops;
	lv_store_tx *tx;
	lv_task_rec t;
	lv_segment_rec *segs = NULL;
	size_t n = 0, s;
	int i, rc;
	if (ops->begin(v->e->store, 1, &tx))
		return -1;
	rc = ops->task_get(tx, v->task_id, 0, &t);
	if (rc == LV_OK)
		rc = ops->segment_list(tx, v->task_id, &segs, &n);
	for (i = 0; rc == LV_OK && i < tasks; i++) {
		lv_task_rec c = t;
		snprintf(c.id, sizeof(c.id), "vid_bench%011d", i);
		rc = ops->task_insert(tx, &c);
		for (s = 0; rc == LV_OK && s < n; s++) {
			lv_segment_rec sc = segs[s];
			snprintf(sc.task_id, sizeof(sc.task_id), "%s", c.id);
			rc = ops->segment_insert(tx, &sc);
		}
	}
	for (i = 0; rc == LV_OK && i < ledger_rows; i++) {
		lv_ledger_entry e;
		memset(&e, 0, sizeof(e));
		snprintf(e.key_id, sizeof(e.key_id), "%s", t.key_id);
		e.kind = LV_LEDGER_GRANT; /* amount 0: the books still balance */
		e.created_at = t.created_at;
		rc = ops->ledger_append(tx, &e);
	}
	lv_task_rec_clear(&t);
	lv_segment_recs_free(segs, n);
	if (rc) {
		ops->rollback(tx);
		return -1;
	}
	return ops->commit(tx) ? -1 : 0;
}

/* Close the engine (the data stays for a server); env_free releases the rest. */
static void env_close(env *v)
{
	lv_engine_close(v->e);
	v->e = NULL;
}

static void env_free(env *v)
{
	env_close(v);
	free(v->secret);
	free(v->dir);
	v->secret = v->dir = NULL;
}

/* ---- processes ----------------------------------------------------------------------------------------- */

/* Start lvserver on the env's data dir (no pipeline workers); returns its pid and port. */
static pid_t server_start(const opts *o, const env *v, int *port)
{
	char *exe = lv_asprintf("%s/lvserver", o->bin), *pf = lv_asprintf("%s/port", v->dir),
	     *cfg = lv_asprintf("%s/config.json", v->dir), *log = lv_asprintf("%s/server.log", v->dir);
	pid_t pid;
	int64_t until = lv_mono_ms() + 20000;
	unlink(pf);
	pid = fork();
	if (pid == 0) {
		if (!freopen(log, "w", stderr))
			_exit(127);
		execl(exe, exe, "--config", cfg, "--data-dir", v->dir, "--listen", "127.0.0.1:0", "--workers", "0",
		      "--port-file", pf, (char *)NULL);
		_exit(127);
	}
	*port = 0;
	while (pid > 0 && lv_mono_ms() < until && *port == 0) {
		char *text = NULL;
		size_t len = 0;
		if (lv_file_read(&text, &len, pf) == LV_OK)
			*port = atoi(text);
		free(text);
		if (!*port)
			lv_sleep_ms(50);
	}
	free(exe);
	free(pf);
	free(cfg);
	free(log);
	return *port ? pid : -1;
}

static void server_stop(pid_t pid)
{
	int st;
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
}

/* Run a command and capture its stdout. */
static char *capture(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	lv_buf b = LV_BUF_INIT;
	char chunk[4096];
	size_t n;
	if (!p)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		lv_buf_put(&b, chunk, n);
	pclose(p);
	return lv_buf_detach(&b);
}

typedef struct wrk_result {
	double rps;
	double p50_ms, p99_ms;
	long non2xx;
} wrk_result;

static double wrk_ms(const char *out, const char *label)
{
	const char *p = strstr(out, label);
	double v;
	char unit[8] = "";
	if (!p || sscanf(p + strlen(label), " %lf%7s", &v, unit) != 2)
		return -1;
	if (!strcmp(unit, "us"))
		return v / 1000.0;
	if (!strcmp(unit, "s"))
		return v * 1000.0;
	return v;
}

/* wrk against one URL; `script` is a Lua file for POSTs or NULL. */
static int wrk(wrk_result *r, const opts *o, int threads, int conns, const char *secret, const char *url,
               const char *script)
{
	char cmd[1024], *out;
	const char *p;
	snprintf(cmd, sizeof(cmd), "wrk -t%d -c%d -d%ds --latency %s%s%s%s%s%s '%s' 2>&1", threads, conns, o->seconds,
	         secret ? "-H 'Authorization: Bearer " : "", secret ? secret : "", secret ? "' " : "",
	         script ? "-s '" : "", script ? script : "", script ? "' " : "", url);
	memset(r, 0, sizeof(*r));
	if (!(out = capture(cmd)))
		return -1;
	p = strstr(out, "Requests/sec:");
	if (p)
		r->rps = atof(p + 13);
	r->p50_ms = wrk_ms(out, "50%");
	r->p99_ms = wrk_ms(out, "99%");
	if ((p = strstr(out, "Non-2xx or 3xx responses:")) != NULL)
		r->non2xx = atol(p + 26);
	if (!r->rps)
		fprintf(stderr, "bench: wrk gave no rate:\n%s\n", out);
	free(out);
	return r->rps > 0 ? 0 : -1;
}

/* ---- the bare CivetWeb handler ------------------------------------------------------------------------- */

/* The response in one write, as lvserver sends it (two small writes would wait on delayed ACKs). */
static int bare_handler(struct mg_connection *c, void *response)
{
	mg_write(c, response, strlen(response));
	return 200;
}

static struct mg_context *bare_start(char *body, int *port)
{
	const char *options[] = { "listening_ports", "127.0.0.1:0", "num_threads", "32", "enable_keep_alive", "yes",
		                  "keep_alive_timeout_ms", "2000", NULL };
	struct mg_callbacks cb;
	struct mg_context *ctx;
	struct mg_server_port ports[2];
	memset(&cb, 0, sizeof(cb));
	mg_init_library(0);
	ctx = mg_start(&cb, NULL, options);
	if (!ctx)
		return NULL;
	mg_set_request_handler(ctx, "/", bare_handler, body);
	memset(ports, 0, sizeof(ports));
	*port = mg_get_server_ports(ctx, 2, ports) > 0 ? ports[0].port : 0;
	return ctx;
}

/* ---- reads ---------------------------------------------------------------------------------------------- */

typedef struct reads {
	double get, list, credits;
} reads;

static int measure_reads(reads *r, const opts *o, const env *v, char **get_body)
{
	char url[256];
	wrk_result w;
	int port;
	pid_t pid = server_start(o, v, &port);
	if (pid < 0) {
		fprintf(stderr, "bench: lvserver did not start (see %s/server.log)\n", v->dir);
		return -1;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/videos/%s", port, v->task_id);
	if (get_body) {
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "curl -s -H 'Authorization: Bearer %s' '%s'", v->secret, url);
		*get_body = capture(cmd);
	}
	if (wrk(&w, o, 2, 8, v->secret, url, NULL))
		goto fail;
	r->get = w.rps;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/videos?limit=20", port);
	if (wrk(&w, o, 2, 8, v->secret, url, NULL))
		goto fail;
	r->list = w.rps;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/credits", port);
	if (wrk(&w, o, 2, 8, v->secret, url, NULL))
		goto fail;
	r->credits = w.rps;
	server_stop(pid);
	return 0;
fail:
	server_stop(pid);
	return -1;
}

static int bench_reads(const opts *o)
{
	env small, big;
	reads rs, rb;
	double bare, bare_ratio = 0;
	char *body = NULL, url[128];
	struct mg_context *ctx;
	wrk_result w;
	int port, rc = -1;
	const char *cfg = "{\"pipeline\":{\"workers\":0}}";
	int64_t t0;
	memset(&big, 0, sizeof(big));
	if (env_open(&small, o, "reads-20", cfg) || env_create_tasks(&small, 20))
		return -1;
	env_close(&small);
	if (env_open(&big, o, "reads-big", cfg) || env_create_tasks(&big, 1))
		return -1;
	t0 = lv_mono_ms();
	if (env_grow(&big, o->tasks - 1, o->ledger)) {
		fprintf(stderr, "bench: cannot grow the store: %s\n", lv_error_last()->message);
		return -1;
	}
	printf("grew a store to %d tasks and %ld ledger rows in %.1f s\n", o->tasks, o->ledger,
	       (double)(lv_mono_ms() - t0) / 1000.0);
	env_close(&big);
	if (measure_reads(&rs, o, &small, &body) || measure_reads(&rb, o, &big, NULL) || !body)
		goto out;
	{
		char *resp = lv_asprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		                         strlen(body), body);
		free(body);
		body = resp;
	}
	if (!body || !(ctx = bare_start(body, &port)))
		goto out;
	{
		/* GET against the bare handler: both servers up, measured in turn, three rounds, so that
		 * a swing of the shared machine falls on both sides of a pair; the median of the pairs. */
		char ours[256];
		double pair[3], tmp;
		int sport, i, j;
		pid_t pid = server_start(o, &small, &sport);
		if (pid < 0) {
			mg_stop(ctx);
			goto out;
		}
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/videos/x", port);
		snprintf(ours, sizeof(ours), "http://127.0.0.1:%d/v1/videos/%s", sport, small.task_id);
		for (i = 0, rc = 0; i < 3 && rc == 0; i++) {
			double g;
			if ((rc = wrk(&w, o, 2, 8, small.secret, ours, NULL)) != 0)
				break;
			g = w.rps;
			if ((rc = wrk(&w, o, 2, 8, NULL, url, NULL)) != 0)
				break;
			pair[i] = g / w.rps;
			printf("  round %d: GET %9.0f   bare CivetWeb %9.0f   ratio %.3f\n", i + 1, g, w.rps, pair[i]);
		}
		server_stop(pid);
		mg_stop(ctx);
		if (rc)
			goto out;
		for (i = 0; i < 3; i++)
			for (j = i + 1; j < 3; j++)
				if (pair[j] < pair[i]) {
					tmp = pair[i];
					pair[i] = pair[j];
					pair[j] = tmp;
				}
		bare_ratio = pair[1];
	}
	bare = w.rps;
	printf("reads (req/s, wrk -t2 -c8 -d%ds):\n", o->seconds);
	printf("  GET /v1/videos/{id}:   20 tasks %9.0f   %d tasks + %ld ledger rows %9.0f   bare CivetWeb %9.0f (last round)\n",
	       rs.get, o->tasks, o->ledger, rb.get, bare);
	printf("  GET /v1/videos?limit=20: %9.0f   %9.0f\n", rs.list, rb.list);
	printf("  GET /v1/credits:         %9.0f   %9.0f\n", rs.credits, rb.credits);
	{
		char name[96];
		snprintf(name, sizeof(name), "GET at %d tasks + %ld ledger rows / at 20 tasks", o->tasks, o->ledger);
		ratio(name, rb.get / rs.get, ">= 0.9");
		snprintf(name, sizeof(name), "list at %d tasks / at 20 tasks", o->tasks);
		ratio(name, rb.list / rs.list, ">= 0.9");
		snprintf(name, sizeof(name), "credits at %d tasks / at 20 tasks", o->tasks);
		ratio(name, rb.credits / rs.credits, ">= 0.9");
	}
	ratio("GET / bare CivetWeb, same body (median of 3 interleaved pairs)", bare_ratio, ">= 0.5");
	rc = 0;
out:
	free(body);
	env_free(&small);
	env_free(&big);
	return rc;
}

/* ---- creates -------------------------------------------------------------------------------------------- */

/* One row per transaction, WAL, synchronous=FULL: what one SQLite writer can commit per second. */
static double bare_sqlite(const opts *o)
{
	char *path = lv_asprintf("%s/bare.db", o->tmp), pad[1024];
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL, *begin = NULL, *commit = NULL;
	int64_t t0, n = 0, until;
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	if (!path || sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
	                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	                 "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, body TEXT, at INTEGER)",
	                 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t (k, body, at) VALUES (?, ?, ?)", -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK) {
		free(path);
		sqlite3_close(db);
		return 0;
	}
	t0 = lv_mono_ms();
	until = t0 + (int64_t)o->seconds * 1000;
	while (lv_mono_ms() < until) {
		sqlite3_step(begin);
		sqlite3_reset(begin);
		sqlite3_bind_text(ins, 1, "key", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, pad, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, n);
		sqlite3_step(ins);
		sqlite3_reset(ins);
		sqlite3_step(commit);
		sqlite3_reset(commit);
		n++;
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	free(path);
	return (double)n * 1000.0 / (double)(lv_mono_ms() - t0);
}

static int bench_creates(const opts *o)
{
	env v;
	wrk_result w1, w16;
	char url[128], *lua = NULL, *script;
	double bare;
	int port, rc = -1;
	pid_t pid;
	if (env_open(&v, o, "creates", "{\"pipeline\":{\"workers\":0}}"))
		return -1;
	env_close(&v);
	script = lv_asprintf("%s/post.lua", v.dir);
	lua = lv_asprintf("wrk.method = \"POST\"\nwrk.body = '%s'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
	                  TASK_BODY);
	if (!script || !lua || lv_file_write_atomic(script, lua, strlen(lua), 0600))
		goto out;
	if ((pid = server_start(o, &v, &port)) < 0)
		goto out;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/videos", port);
	rc = wrk(&w1, o, 1, 1, v.secret, url, script);
	if (rc == 0)
		rc = wrk(&w16, o, 2, 16, v.secret, url, script);
	server_stop(pid);
	if (rc)
		goto out;
	bare = bare_sqlite(o);
	printf("creates (POST /v1/videos; non-2xx %ld / %ld):\n", w1.non2xx, w16.non2xx);
	printf("  1 connection:   %7.0f/s  p50 %6.2f ms  p99 %7.2f ms\n", w1.rps, w1.p50_ms, w1.p99_ms);
	printf("  16 connections: %7.0f/s  p50 %6.2f ms  p99 %7.2f ms\n", w16.rps, w16.p50_ms, w16.p99_ms);
	printf("  bare sqlite3 WAL synchronous=FULL, one insert per transaction: %.0f/s\n", bare);
	printf("RATIO|create p99 at 16 connections (ms)|%.2f|<= 50\n", w16.p99_ms);
	ratio("creates/s at 16 connections / bare sqlite3", w16.rps / bare, ">= 0.4");
	ratio("creates/s at 1 connection / bare sqlite3", w1.rps / bare, "-");
	rc = 0;
out:
	free(lua);
	free(script);
	env_free(&v);
	return rc;
}

/* ---- idle ------------------------------------------------------------------------------------------------ */

static long rss_kb(void)
{
	char *text = NULL, *p;
	size_t len = 0;
	long kb = -1;
	if (lv_file_read(&text, &len, "/proc/self/status") == LV_OK && (p = strstr(text, "VmRSS:")) != NULL)
		kb = atol(p + 6);
	free(text);
	return kb;
}

static double cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

/* How many of the env's tasks are generating (waiting on their provider jobs). */
static size_t generating(env *v)
{
	const lv_store_ops *ops = v->e->store->ops;
	lv_store_tx *tx;
	lv_key *k = NULL;
	lv_task_rec *t = NULL;
	size_t n = 0;
	if (lv_key_authenticate(&k, v->e, v->secret) || ops->begin(v->e->store, 0, &tx)) {
		lv_key_free(k);
		return 0;
	}
	if (ops->task_list(tx, lv_key_id(k), 0, LV_TASK_GENERATING, 100000, &t, &n))
		n = 0;
	ops->rollback(tx);
	lv_task_recs_free(t, n);
	lv_key_free(k);
	return n;
}

/* In a child process: hold n tasks (their provider jobs take an hour) and measure a quiet window. */
static int idle_child(const opts *o, int n, int fd)
{
	env v;
	char cfg[512], tag[32], line[128];
	lv_workers *w = NULL;
	lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
	int64_t until;
	double c0, ms_per_s;
	snprintf(tag, sizeof(tag), "idle-%d", n);
	snprintf(cfg, sizeof(cfg),
	         "{\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":3600000,\"max_concurrent_jobs\":100000}},"
	         "\"pipeline\":{\"workers\":2,\"segment_concurrency\":2,\"max_tasks_in_flight\":%d}}",
	         n > 0 ? n : 1);
	if (env_open(&v, o, tag, cfg) || env_create_tasks(&v, n) || lv_workers_start(&w, v.e, &wo)) {
		fprintf(stderr, "bench: idle run with %d tasks: %s\n", n, lv_error_last()->message);
		return 1;
	}
	until = lv_mono_ms() + 1200000;
	while ((lv_workers_active(w) < (size_t)n || generating(&v) < (size_t)n) && lv_mono_ms() < until)
		lv_sleep_ms(500);
	lv_sleep_ms(2000); /* let the last stage threads go idle */
	c0 = cpu_ms();
	lv_sleep_ms(o->seconds * 2000);
	ms_per_s = (cpu_ms() - c0) / (o->seconds * 2.0);
	snprintf(line, sizeof(line), "%zu %.3f %ld\n", lv_workers_active(w), ms_per_s, rss_kb());
	if (write(fd, line, strlen(line)) < 0)
		return 1;
	lv_workers_stop(w);
	env_free(&v);
	return 0;
}

static int bench_idle(const opts *o)
{
	int i;
	printf("idle worker (2 pipeline threads, webhooks off), quiet window of %d s:\n", o->seconds * 2);
	for (i = 0; i < o->n_held; i++) {
		int fds[2], st;
		char buf[128] = "";
		ssize_t got;
		size_t held = 0;
		double ms = 0;
		long rss = 0;
		pid_t pid;
		fflush(stdout);
		if (pipe(fds))
			return -1;
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			_exit(idle_child(o, o->held[i], fds[1]));
		}
		close(fds[1]);
		got = read(fds[0], buf, sizeof(buf) - 1);
		close(fds[0]);
		waitpid(pid, &st, 0);
		if (got <= 0 || sscanf(buf, "%zu %lf %ld", &held, &ms, &rss) != 3) {
			fprintf(stderr, "bench: the idle run with %d tasks failed\n", o->held[i]);
			return -1;
		}
		printf("  %5zu tasks held: %6.2f ms CPU per s, RSS %ld MB\n", held, ms, rss / 1024);
		{
			char name[64];
			snprintf(name, sizeof(name), "idle CPU ms/s, %d tasks held", o->held[i]);
			printf("RATIO|%s|%.2f|%s\n", name, ms, o->held[i] >= 1000 ? "<= 5" : "-");
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	opts o;
	int rc = 0;
	if (parse(&o, argc, argv)) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	o.tmp = lv_asprintf("%s/lv-bench-api-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	if (!o.tmp || lv_mkdir_p(o.tmp, 0))
		return 1;
	/* The idle runs fork first, while this process has no threads. */
	if (!strstr(o.skip, "idle") && bench_idle(&o))
		rc = 1;
	if (!strstr(o.skip, "reads") && bench_reads(&o))
		rc = 1;
	if (!strstr(o.skip, "creates") && bench_creates(&o))
		rc = 1;
	lv_rm_rf(o.tmp);
	free(o.tmp);
	return rc;
}
