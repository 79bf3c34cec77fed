/* Webhooks from the pipeline to a real receiver: payload, signature, retries at the configured delays,
 * no redirects, the SSRF guard, a delivery pending across a restart, and re-composition firing again. */
#include "testutil.h"
#include "stop.h"
#include "core/engine.h"
#include "longvideo.h"
#include "harness.h"
#include "util/crypto.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"
#include "webhook/webhook.h"

#include <civetweb.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

#define MAX_HITS 16

typedef struct hit {
	char path[64];
	char id[80], ts[32], sig[160];
	char *body;
	int64_t at;
} hit;

typedef struct receiver {
	struct mg_context *ctx;
	int port;
	pthread_mutex_t mu;
	hit hits[MAX_HITS];
	int n;
	int flaky_left; /* /flaky answers 500 this many times */
} receiver;

static int handle(struct mg_connection *c, void *p)
{
	receiver *r = p;
	const struct mg_request_info *ri = mg_get_request_info(c);
	char *buf = malloc(65536); /* not on the stack: CivetWeb's worker stacks are small */
	int len = buf ? mg_read(c, buf, 65535) : 0, status = 200;
	const char *v;
	pthread_mutex_lock(&r->mu);
	if (r->n < MAX_HITS) {
		hit *h = &r->hits[r->n++];
		snprintf(h->path, sizeof(h->path), "%s", ri->local_uri);
		snprintf(h->id, sizeof(h->id), "%s", (v = mg_get_header(c, "webhook-id")) ? v : "");
		snprintf(h->ts, sizeof(h->ts), "%s", (v = mg_get_header(c, "webhook-timestamp")) ? v : "");
		snprintf(h->sig, sizeof(h->sig), "%s", (v = mg_get_header(c, "webhook-signature")) ? v : "");
		h->body = lv_strndup(buf ? buf : "", len > 0 ? (size_t)len : 0);
		h->at = lv_mono_ms();
	}
	if (!strcmp(ri->local_uri, "/hang")) {
		/* Keeps the sender waiting (it is killed meanwhile), then answers. */
		pthread_mutex_unlock(&r->mu);
		free(buf);
		lv_sleep_ms(1500);
		mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		return 200;
	}
	if (!strcmp(ri->local_uri, "/flaky") && r->flaky_left > 0) {
		r->flaky_left--;
		status = 500;
	}
	pthread_mutex_unlock(&r->mu);
	free(buf);
	if (!strcmp(ri->local_uri, "/redirect")) {
		mg_printf(c, "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		return 302;
	}
	mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status,
	          status == 200 ? "OK" : "Internal Server Error");
	return status;
}

static void receiver_start(receiver *r, int port)
{
	char ports[32];
	const char *opts[] = { "listening_ports", ports, "num_threads", "4", NULL };
	struct mg_server_port sp;
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	snprintf(ports, sizeof(ports), "127.0.0.1:%d", port);
	r->ctx = mg_start(NULL, NULL, opts);
	ck_assert_ptr_nonnull(r->ctx);
	mg_set_request_handler(r->ctx, "/", handle, r);
	ck_assert_int_ge(mg_get_server_ports(r->ctx, 1, &sp), 1);
	r->port = sp.port;
}

static void receiver_stop(receiver *r)
{
	int i;
	srv_civetweb_stop(r->ctx, "127.0.0.1", r->port);
	for (i = 0; i < r->n; i++)
		free(r->hits[i].body);
	pthread_mutex_destroy(&r->mu);
}

static int hits(receiver *r)
{
	int n;
	pthread_mutex_lock(&r->mu);
	n = r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void wait_hits(receiver *r, int n, int timeout_ms)
{
	int64_t until = lv_mono_ms() + timeout_ms;
	while (hits(r) < n && lv_mono_ms() < until)
		lv_sleep_ms(20);
	ck_assert_msg(hits(r) >= n, "receiver got %d deliveries, want %d", hits(r), n);
}

typedef struct env {
	char *dir;
	lv_engine *e;
	lv_key *key;
	lv_workers *w;
} env;

static void env_open(env *v, const char *dir, const char *config, int with_key, int workers)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
	o.data_dir = dir;
	o.config_json = config;
	ck_assert_msg(lv_engine_open(&v->e, &o) == LV_OK, "%s", lv_error_last()->message);
	if (with_key)
		ck_assert_int_eq(lv_key_create(&v->key, v->e, "hooks", 100000000), LV_OK);
	wo.workers = workers;
	ck_assert_int_eq(lv_workers_start(&v->w, v->e, &wo), LV_OK);
}

static void env_close(env *v)
{
	lv_workers_stop(v->w);
	ck_assert_int_eq(lv_ledger_verify(v->e, NULL), LV_OK);
	lv_engine_close(v->e);
	v->w = NULL;
	v->e = NULL;
}

static char *create(env *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *create(env *v, const char *fmt, ...)
{
	char body[512];
	lv_task *t = NULL;
	char *id;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	ck_assert_msg(lv_task_create_json(&t, v->e, v->key, body, strlen(body), NULL) == LV_OK, "%s",
	              lv_error_last()->message);
	id = lv_strdup(lv_task_id(t));
	lv_task_free(t);
	return id;
}

/* The receiver checks the signature itself, as the Standard Webhooks verifiers do. */
static void assert_signed(const hit *h, const char *whsec)
{
	unsigned char secret[64];
	long n = lv_webhook_secret_decode(secret, sizeof(secret), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	char expect[128];
	/* The verifier below is the Standard Webhooks one: it reproduces the specification's test vector. */
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lv_webhook_sign(expect, sizeof(expect), secret, (size_t)n, "msg_p5jXN8AQM9LWM0D4loKWxJek",
	                                 1614265330, "{\"test\": 2432232314}", 20),
	                 LV_OK);
	ck_assert_str_eq(expect, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	n = lv_webhook_secret_decode(secret, sizeof(secret), whsec);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lv_webhook_sign(expect, sizeof(expect), secret, (size_t)n, h->id, atoll(h->ts), h->body,
	                                 strlen(h->body)),
	                 LV_OK);
	ck_assert_str_eq(h->sig, expect);
	ck_assert(strncmp(h->id, "msg_", 4) == 0);
	ck_assert(llabs(atoll(h->ts) - lv_now_ms() / 1000) < 60);
}

#define CONFIG_FMT "{\"webhooks\":{\"allow_private\":%s,\"retry_delays_ms\":[0,%d,%d],\"timeout_ms\":2000}}"

START_TEST(completed_task_delivers_a_signed_payload_and_again_after_recompose)
{
	receiver r;
	env v;
	char cfg[256], *id, *dir = lv_test_mkdtemp("hook1");
	cJSON *b;
	lv_task *c = NULL;
	memset(&v, 0, sizeof(v));
	receiver_start(&r, 0);
	snprintf(cfg, sizeof(cfg), CONFIG_FMT, "true", 400, 800);
	env_open(&v, dir, cfg, 1, 1);
	id = create(&v, "{\"prompt\":\"Lanterns over a river\",\"duration\":3,"
	                "\"webhook_url\":\"http://127.0.0.1:%d%s\",\"metadata\":{\"user_ref\":\"u-42\"}}",
	            r.port, "/ok");
	wait_hits(&r, 1, 120000);
	b = cJSON_Parse(r.hits[0].body);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(lv_json_get_str(b, "task_id"), id);
	ck_assert_str_eq(lv_json_get_str(b, "status"), "completed");
	ck_assert_str_eq(lv_json_get_str(b, "type"), "video.completed");
	ck_assert_int_eq((int)strlen(lv_json_get_str(b, "timestamp")), 20); /* RFC 3339 UTC: 2026-11-24T08:00:41Z */
	ck_assert_int_eq(lv_json_get_str(b, "timestamp")[19], 'Z');
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(b, "result_url"), "/final.mp4"));
	ck_assert_int_eq(cJSON_GetObjectItem(b, "duration")->valueint, 3);
	ck_assert(cJSON_GetObjectItem(b, "cost_actual")->valuedouble == 82.5);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(b, "error")));
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(b, "metadata"), "user_ref"), "u-42");
	cJSON_Delete(b);
	assert_signed(&r.hits[0], lv_key_webhook_secret(v.key));
	/* A re-composition fires the webhook again, as a new message. */
	ck_assert_int_eq(lv_task_compose(&c, v.e, v.key, id, NULL), LV_OK);
	lv_task_free(c);
	wait_hits(&r, 2, 120000);
	ck_assert_str_ne(r.hits[1].id, r.hits[0].id);
	assert_signed(&r.hits[1], lv_key_webhook_secret(v.key));
	lv_sleep_ms(300);
	ck_assert_int_eq(hits(&r), 2);
	free(id);
	lv_key_free(v.key);
	env_close(&v);
	receiver_stop(&r);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(failures_are_retried_at_the_configured_delays)
{
	receiver r;
	env v;
	char cfg[256], *id, *dir = lv_test_mkdtemp("hook2");
	lv_task *c = NULL;
	memset(&v, 0, sizeof(v));
	receiver_start(&r, 0);
	r.flaky_left = 2;
	snprintf(cfg, sizeof(cfg), CONFIG_FMT, "true", 400, 800);
	env_open(&v, dir, cfg, 1, 0);
	/* Cancel a queued task: the terminal state fires the webhook at once. */
	id = create(&v, "{\"prompt\":\"x\",\"duration\":3,\"webhook_url\":\"http://127.0.0.1:%d%s\"}", r.port, "/flaky");
	ck_assert_int_eq(lv_task_cancel(&c, v.e, v.key, id), LV_OK);
	lv_task_free(c);
	wait_hits(&r, 3, 15000);
	ck_assert_str_eq(r.hits[0].id, r.hits[2].id); /* webhook-id is stable across retries */
	ck_assert_msg(r.hits[1].at - r.hits[0].at >= 380, "second attempt after %lld ms",
	              (long long)(r.hits[1].at - r.hits[0].at));
	ck_assert_msg(r.hits[2].at - r.hits[1].at >= 780, "third attempt after %lld ms",
	              (long long)(r.hits[2].at - r.hits[1].at));
	ck_assert_ptr_nonnull(strstr(r.hits[2].body, "\"status\":\"canceled\""));
	{
		/* Every retry carries the same event: type and timestamp included (the body is byte-identical). */
		cJSON *b0 = cJSON_Parse(r.hits[0].body), *b2 = cJSON_Parse(r.hits[2].body);
		ck_assert_str_eq(lv_json_get_str(b0, "type"), "video.canceled");
		ck_assert_str_eq(lv_json_get_str(b0, "timestamp"), lv_json_get_str(b2, "timestamp"));
		ck_assert_str_eq(r.hits[0].body, r.hits[2].body);
		ck_assert_str_ne(r.hits[0].ts, "");
		assert_signed(&r.hits[2], lv_key_webhook_secret(v.key));
		cJSON_Delete(b0);
		cJSON_Delete(b2);
	}
	lv_sleep_ms(1500);
	ck_assert_int_eq(hits(&r), 3); /* delivered on the third: no more */
	free(id);
	lv_key_free(v.key);
	env_close(&v);
	receiver_stop(&r);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(redirects_are_not_followed_and_delivery_gives_up)
{
	receiver r;
	env v;
	char cfg[256], *id, *dir = lv_test_mkdtemp("hook3");
	lv_task *c = NULL;
	int i;
	memset(&v, 0, sizeof(v));
	receiver_start(&r, 0);
	snprintf(cfg, sizeof(cfg), CONFIG_FMT, "true", 100, 100);
	env_open(&v, dir, cfg, 1, 0);
	id = create(&v, "{\"prompt\":\"x\",\"duration\":3,\"webhook_url\":\"http://127.0.0.1:%d%s\"}", r.port, "/redirect");
	ck_assert_int_eq(lv_task_cancel(&c, v.e, v.key, id), LV_OK);
	lv_task_free(c);
	wait_hits(&r, 3, 10000);
	lv_sleep_ms(800);
	ck_assert_int_eq(hits(&r), 3); /* three attempts, then it gives up */
	for (i = 0; i < 3; i++)
		ck_assert_str_eq(r.hits[i].path, "/redirect"); /* /ok was never reached */
	free(id);
	lv_key_free(v.key);
	env_close(&v);
	receiver_stop(&r);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(private_addresses_are_refused_by_default)
{
	receiver r;
	env v;
	char cfg[256], *id, *dir = lv_test_mkdtemp("hook4");
	lv_task *c = NULL;
	memset(&v, 0, sizeof(v));
	receiver_start(&r, 0);
	snprintf(cfg, sizeof(cfg), CONFIG_FMT, "false", 100, 100);
	env_open(&v, dir, cfg, 1, 0);
	id = create(&v, "{\"prompt\":\"x\",\"duration\":3,\"webhook_url\":\"http://127.0.0.1:%d%s\"}", r.port, "/ok");
	ck_assert_int_eq(lv_task_cancel(&c, v.e, v.key, id), LV_OK);
	lv_task_free(c);
	lv_sleep_ms(1500);
	ck_assert_int_eq(hits(&r), 0);
	free(id);
	lv_key_free(v.key);
	env_close(&v);
	receiver_stop(&r);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(a_pending_delivery_survives_a_restart)
{
	receiver r;
	env v;
	char cfg[256], *id, *dir = lv_test_mkdtemp("hook5"), key_id[64];
	lv_task *c = NULL;
	int port;
	memset(&v, 0, sizeof(v));
	/* Learn a free port, then close the receiver: the first attempt finds nobody listening. */
	receiver_start(&r, 0);
	port = r.port;
	receiver_stop(&r);
	snprintf(cfg, sizeof(cfg), CONFIG_FMT, "true", 3000, 3000);
	env_open(&v, dir, cfg, 1, 0);
	snprintf(key_id, sizeof(key_id), "%s", lv_key_id(v.key));
	id = create(&v, "{\"prompt\":\"x\",\"duration\":3,\"webhook_url\":\"http://127.0.0.1:%d%s\"}", port, "/ok");
	ck_assert_int_eq(lv_task_cancel(&c, v.e, v.key, id), LV_OK);
	lv_task_free(c);
	lv_sleep_ms(700); /* the first attempt fails; the next is 3 s away */
	lv_key_free(v.key);
	v.key = NULL;
	env_close(&v); /* the "server" stops */
	receiver_start(&r, port);
	env_open(&v, dir, cfg, 0, 0); /* and starts again */
	wait_hits(&r, 1, 10000);
	ck_assert_ptr_nonnull(strstr(r.hits[0].body, id));
	{
		lv_key *k = NULL;
		ck_assert_int_eq(lv_key_lookup(&k, v.e, key_id), LV_OK);
		lv_key_free(k);
	}
	free(id);
	env_close(&v);
	receiver_stop(&r);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

typedef struct outbox_ctx {
	lv_engine *e;
	const char *task_id;
	lv_outbox_rec *recs;
	size_t n;
} outbox_ctx;

static int outbox_tx(lv_store_tx *tx, void *p)
{
	outbox_ctx *c = p;
	return c->e->store->ops->outbox_for_task(tx, c->task_id, &c->recs, &c->n);
}

static pid_t start_sender(const char *dir, const char *config)
{
	char *bin = lv_test_bin("lvctl"), *log = lv_path_join(dir, "sender.log");
	const char *argv[] = { bin, "--data-dir", dir, "--config", config, "worker", "--workers", "0", NULL };
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

/* An attempt counts when it is claimed: a sender killed in the middle of every attempt (a crash loop)
 * gives up after the schedule instead of retrying for ever; every attempt carried the same webhook-id. */
START_TEST(a_crash_loop_gives_up_after_the_schedule)
{
	receiver r;
	lv_engine *e = NULL;
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_key *key = NULL;
	lv_task *t = NULL;
	outbox_ctx oc;
	char *dir = lv_test_mkdtemp("hook6"), *config, body[256], id[64];
	int crash, st;
	int64_t until;
	pid_t pid;
	receiver_start(&r, 0);
	config = lv_test_write_file(dir, "config.json",
	                            "{\"webhooks\":{\"allow_private\":true,\"retry_delays_ms\":[0,0],\"timeout_ms\":1000}}");
	o.data_dir = dir;
	o.config_path = config;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_OK);
	ck_assert_int_eq(lv_key_create(&key, e, "hooks", 100000000), LV_OK);
	snprintf(body, sizeof(body), "{\"prompt\":\"x\",\"duration\":3,\"webhook_url\":\"http://127.0.0.1:%d/hang\"}",
	         r.port);
	ck_assert_int_eq(lv_task_create_json(&t, e, key, body, strlen(body), NULL), LV_OK);
	snprintf(id, sizeof(id), "%s", lv_task_id(t));
	lv_task_free(t);
	ck_assert_int_eq(lv_task_cancel(&t, e, key, id), LV_OK); /* terminal: the webhook is queued */
	lv_task_free(t);
	for (crash = 1; crash <= 2; crash++) {
		pid = start_sender(dir, config);
		wait_hits(&r, crash, 30000); /* the attempt is in flight (claimed after the last one's lease) */
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	/* A third sender finds both attempts of the schedule used and gives up without sending. */
	pid = start_sender(dir, config);
	memset(&oc, 0, sizeof(oc));
	oc.e = e;
	oc.task_id = id;
	until = lv_mono_ms() + 30000;
	for (;;) {
		ck_assert_int_eq(lv_engine_tx(e, 0, outbox_tx, &oc), LV_OK);
		ck_assert_uint_eq(oc.n, 1);
		if (oc.recs[0].status != LV_OUTBOX_PENDING || lv_mono_ms() > until)
			break;
		lv_outbox_recs_free(oc.recs, oc.n);
		lv_sleep_ms(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	ck_assert_msg(hits(&r) == 2, "%d attempts were sent, the schedule has 2", hits(&r));
	ck_assert_str_eq(lv_outbox_status_name(oc.recs[0].status), lv_outbox_status_name(LV_OUTBOX_FAILED));
	ck_assert_int_eq(oc.recs[0].attempts, 2);
	ck_assert_ptr_nonnull(oc.recs[0].last_error);
	ck_assert_ptr_nonnull(strstr(oc.recs[0].last_error, "interrupted"));
	ck_assert_str_eq(r.hits[0].id, oc.recs[0].id);
	ck_assert_str_eq(r.hits[1].id, oc.recs[0].id);
	lv_outbox_recs_free(oc.recs, oc.n);
	lv_key_free(key);
	ck_assert_int_eq(lv_ledger_verify(e, NULL), LV_OK);
	lv_engine_close(e);
	receiver_stop(&r);
	lv_test_rmdir(dir);
	free(config);
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("webhook_e2e");
	TCase *tc = tcase_create("webhook_e2e");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, completed_task_delivers_a_signed_payload_and_again_after_recompose);
	tcase_add_test(tc, failures_are_retried_at_the_configured_delays);
	tcase_add_test(tc, redirects_are_not_followed_and_delivery_gives_up);
	tcase_add_test(tc, private_addresses_are_refused_by_default);
	tcase_add_test(tc, a_pending_delivery_survives_a_restart);
	tcase_add_test(tc, a_crash_loop_gives_up_after_the_schedule);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
