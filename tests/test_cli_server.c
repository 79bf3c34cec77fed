/*
 * lvctl and lvserver on one store at the same time: keys made with lvctl
 * work over HTTP, tasks made on either side are seen and canceled on the
 * other, and concurrent creates from both keep the ledger whole.
 *
 * Runs against build/bin/lvserver (SPEC §2, started as
 * `lvserver --data-dir DIR --listen 127.0.0.1:0 --port-file F --config FILE`);
 * when that program is not built, the suite prints a notice and passes.
 */
#include "harness.h"
#include "testutil.h"
#include "longvideo.h"
#include "util/mem.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* No workers: tasks stay where the frontends put them.  A slow local provider keeps them
 * unfinished even if a worker did run. */
static const char config_text[] =
	"{\"pipeline\": {\"workers\": 0},"
	" \"providers\": {\"local\": {\"type\": \"local\", \"latency_ms\": 60000}}}";

typedef struct env {
	char *dir;
	char *config;
	lv_test_server srv;
} env;

static void env_start(env *e)
{
	e->dir = lv_test_mkdtemp("cliserver");
	ck_assert_ptr_nonnull(e->dir);
	e->config = lv_test_write_file(e->dir, "config.json", config_text);
	ck_assert_ptr_nonnull(e->config);
	ck_assert_msg(lv_test_server_start(&e->srv, e->dir, e->config, NULL) == 0, "lvserver did not start");
}

static void env_stop(env *e)
{
	int status = lv_test_server_stop(&e->srv);
	ck_assert_int_ne(status, -1);
	lv_test_rmdir(e->dir);
	free(e->dir);
	free(e->config);
}

/* lvctl --config CONFIG --data-dir DIR args... */
static void ctl_v(lv_test_run *r, const env *e, ...)
{
	const char *argv[48];
	int argc = 0;
	va_list ap;
	argv[argc++] = "--config";
	argv[argc++] = e->config;
	argv[argc++] = "--data-dir";
	argv[argc++] = e->dir;
	va_start(ap, e);
	for (;;) {
		const char *a = va_arg(ap, const char *);
		ck_assert_int_lt(argc, 47);
		argv[argc++] = a;
		if (!a)
			break;
	}
	va_end(ap);
	ck_assert_int_eq(lv_test_exec(r, "lvctl", argv, NULL, NULL), 0);
}
#define ctl(r, e, ...) ctl_v((r), (e), __VA_ARGS__, (const char *)NULL)
#define ck_exit(r, code)                                                                                    \
	ck_assert_msg((r)->exit_code == (code), "exit %d, expected %d\nstdout: %s\nstderr: %s", (r)->exit_code, \
	              (code), (r)->out, (r)->err)

/* One HTTP request as key `key`; returns the parsed body (the caller frees it). */
static cJSON *http(long *status, const env *e, const char *method, const char *path, const char *key,
                   const char *body, const char *idempotency_key)
{
	char url[256], auth[128], idem[300];
	const char *headers[4];
	int n = 0;
	lv_test_response resp;
	cJSON *j;
	snprintf(url, sizeof(url), "%s%s", e->srv.base_url, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
	headers[n++] = auth;
	if (body)
		headers[n++] = "Content-Type: application/json";
	if (idempotency_key) {
		snprintf(idem, sizeof(idem), "Idempotency-Key: %s", idempotency_key);
		headers[n++] = idem;
	}
	headers[n] = NULL;
	ck_assert_int_eq(lv_test_http(&resp, method, url, headers, body, body ? strlen(body) : 0), 0);
	*status = resp.status;
	j = cJSON_Parse(resp.body);
	ck_assert_msg(j != NULL, "%s %s: not JSON: %s", method, path, resp.body);
	lv_test_response_free(&resp);
	return j;
}

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	ck_assert_msg(cJSON_IsString(v), "%s: not a string", name);
	return v->valuestring;
}

static double jnum(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	ck_assert_msg(cJSON_IsNumber(v), "%s: not a number", name);
	return v->valuedouble;
}

static cJSON *ctl_json(lv_test_run *r)
{
	cJSON *j;
	ck_exit(r, 0);
	j = cJSON_Parse(r->out);
	ck_assert_msg(j != NULL, "not JSON: %s", r->out);
	return j;
}

/* Create a key with lvctl (human output: the key, then the webhook secret); the key into key[64]. */
static void make_key(char *key, const env *e, const char *credits)
{
	lv_test_run r;
	ctl(&r, e, "keys", "create", "--name", "shared", "--credits", credits);
	ck_exit(&r, 0);
	ck_assert_int_eq((int)strcspn(r.out, "\n"), 43);
	ck_assert_ptr_nonnull(strstr(r.out, "\nwhsec_"));
	snprintf(key, 64, "%.43s", r.out);
	lv_test_run_free(&r);
}

/* Create a key with lvctl --json; the key into key[64], its id into id[64]. */
static void make_key_json(char *key, char *id, const env *e, const char *credits)
{
	lv_test_run r;
	cJSON *j;
	ctl(&r, e, "--json", "keys", "create", "--name", "shared", "--credits", credits);
	j = ctl_json(&r);
	snprintf(key, 64, "%s", jstr(j, "api_key"));
	snprintf(id, 64, "%s", jstr(j, "id"));
	cJSON_Delete(j);
	lv_test_run_free(&r);
}

static void ledger_holds(const env *e)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *engine = NULL;
	char *report = NULL;
	o.config_path = e->config;
	o.data_dir = e->dir;
	ck_assert_int_eq(lv_engine_open(&engine, &o), LV_OK);
	ck_assert_msg(lv_ledger_verify(engine, &report) == LV_OK, "ledger: %s", report ? report : "");
	lv_free(report);
	lv_engine_close(engine);
}

START_TEST(keys_from_lvctl_work_over_http)
{
	char k1[64], k2[64], id2[64];
	lv_test_run r;
	long status;
	cJSON *j;
	env e;

	memset(&e, 0, sizeof(e));
	e.dir = lv_test_mkdtemp("cliserver");
	e.config = lv_test_write_file(e.dir, "config.json", config_text);
	/* A key made before the server starts... */
	make_key(k1, &e, "2000");
	ck_assert_msg(lv_test_server_start(&e.srv, e.dir, e.config, NULL) == 0, "lvserver did not start");

	j = http(&status, &e, "GET", "/v1/credits", k1, NULL, NULL);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(jstr(j, "object"), "credits");
	ck_assert_double_eq(jnum(j, "balance"), 2000);
	cJSON_Delete(j);

	/* ...and one made while it runs. */
	make_key_json(k2, id2, &e, "12.5");
	j = http(&status, &e, "GET", "/v1/credits", k2, NULL, NULL);
	ck_assert_int_eq(status, 200);
	ck_assert_double_eq(jnum(j, "balance"), 12.5);
	cJSON_Delete(j);

	/* A grant by lvctl shows at once over HTTP. */
	ctl(&r, &e, "keys", "grant", id2, "7.5");
	ck_exit(&r, 0);
	lv_test_run_free(&r);
	j = http(&status, &e, "GET", "/v1/credits", k2, NULL, NULL);
	ck_assert_int_eq(status, 200);
	ck_assert_double_eq(jnum(j, "balance"), 20);
	cJSON_Delete(j);

	/* Revoked with lvctl: refused over HTTP. */
	ctl(&r, &e, "keys", "revoke", id2);
	ck_exit(&r, 0);
	lv_test_run_free(&r);
	j = http(&status, &e, "GET", "/v1/credits", k2, NULL, NULL);
	ck_assert_int_eq(status, 401);
	ck_assert_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(j, "error"), "code"), "invalid_api_key");
	cJSON_Delete(j);

	env_stop(&e);
}
END_TEST

START_TEST(tasks_cross_between_http_and_lvctl)
{
	char key[64], id[64], path[128];
	lv_test_run r;
	long status;
	cJSON *j;
	env e;

	memset(&e, 0, sizeof(e));
	env_start(&e);
	make_key(key, &e, "3000");

	/* Created over HTTP, seen and canceled by lvctl. */
	j = http(&status, &e, "POST", "/v1/videos", key, "{\"prompt\": \"a lighthouse at dawn\", \"duration\": 17}",
	         NULL);
	ck_assert_int_eq(status, 202);
	snprintf(id, sizeof(id), "%s", jstr(j, "task_id"));
	ck_assert_double_eq(jnum(j, "cost_estimate"), 467.5);
	cJSON_Delete(j);

	ctl(&r, &e, "get", id, "--key", key);
	ck_exit(&r, 0);
	ck_assert_int_eq(strncmp(r.out, id, strlen(id)), 0);
	ck_assert_ptr_nonnull(strstr(r.out, "prompt    a lighthouse at dawn\n"));
	lv_test_run_free(&r);
	ctl(&r, &e, "--json", "credits", "--key", key);
	j = ctl_json(&r);
	ck_assert_double_eq(jnum(j, "reserved"), 467.5);
	cJSON_Delete(j);
	lv_test_run_free(&r);

	ctl(&r, &e, "cancel", id, "--key", key);
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, " canceled "));
	lv_test_run_free(&r);
	snprintf(path, sizeof(path), "/v1/videos/%s", id);
	j = http(&status, &e, "GET", path, key, NULL, NULL);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(jstr(j, "status"), "canceled");
	ck_assert_double_eq(jnum(j, "cost_actual"), 0);
	cJSON_Delete(j);

	/* Created by lvctl, seen and canceled over HTTP. */
	ctl(&r, &e, "--json", "create", "--key", key, "--prompt", "a fox in the snow", "--duration", "3");
	j = ctl_json(&r);
	snprintf(id, sizeof(id), "%s", jstr(j, "task_id"));
	cJSON_Delete(j);
	lv_test_run_free(&r);
	snprintf(path, sizeof(path), "/v1/videos/%s", id);
	j = http(&status, &e, "GET", path, key, NULL, NULL);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(jstr(j, "prompt"), "a fox in the snow");
	{
		lv_task_status st;
		ck_assert_int_eq(lv_task_status_parse(&st, jstr(j, "status")), LV_OK);
		ck_assert(!lv_task_status_is_terminal(st));
	}
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "/v1/videos/%s/cancel", id);
	j = http(&status, &e, "POST", path, key, NULL, NULL);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(jstr(j, "status"), "canceled");
	cJSON_Delete(j);
	ctl(&r, &e, "--json", "get", id, "--key", key);
	j = ctl_json(&r);
	ck_assert_str_eq(jstr(j, "status"), "canceled");
	ck_assert_double_eq(jnum(j, "cost_actual"), 0);
	cJSON_Delete(j);
	lv_test_run_free(&r);

	/* One Idempotency-Key across both frontends: one task, one charge. */
	j = http(&status, &e, "POST", "/v1/videos", key, "{\"prompt\": \"rain on a window\", \"duration\": 3}",
	         "shared-7");
	ck_assert_int_eq(status, 202);
	snprintf(id, sizeof(id), "%s", jstr(j, "task_id"));
	cJSON_Delete(j);
	ctl(&r, &e, "--json", "create", "--key", key, "--prompt", "rain on a window", "--duration", "3",
	    "--idempotency-key", "shared-7");
	j = ctl_json(&r);
	ck_assert_str_eq(jstr(j, "task_id"), id);
	ck_assert_ptr_nonnull(strstr(r.err, "replayed"));
	cJSON_Delete(j);
	lv_test_run_free(&r);

	/* Both sides agree on the list and the credits. */
	j = http(&status, &e, "GET", "/v1/videos?limit=100", key, NULL, NULL);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "data")), 3);
	cJSON_Delete(j);
	ctl(&r, &e, "list", "--key", key, "--all");
	ck_exit(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, id));
	lv_test_run_free(&r);
	j = http(&status, &e, "GET", "/v1/credits", key, NULL, NULL);
	ck_assert_double_eq(jnum(j, "balance"), 3000 - 82.5);
	ck_assert_double_eq(jnum(j, "reserved"), 82.5);
	cJSON_Delete(j);
	ctl(&r, &e, "credits", "--key", key);
	ck_exit(&r, 0);
	ck_assert_str_eq(r.out, "balance   2917.5\nreserved  82.5\n");
	lv_test_run_free(&r);

	env_stop(&e);
}
END_TEST

typedef struct http_creator {
	const env *e;
	const char *key;
	int n;
	int created;
} http_creator;

static void *create_over_http(void *p)
{
	http_creator *c = p;
	int i;
	for (i = 0; i < c->n; i++) {
		char url[256], auth[128];
		const char *headers[] = { auth, "Content-Type: application/json", NULL };
		static const char body[] = "{\"prompt\": \"a busy street\", \"duration\": 3}";
		lv_test_response resp;
		snprintf(url, sizeof(url), "%s/v1/videos", c->e->srv.base_url);
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->key);
		if (lv_test_http(&resp, "POST", url, headers, body, strlen(body)) == 0 && resp.status == 202)
			c->created++;
		lv_test_response_free(&resp);
	}
	return NULL;
}

START_TEST(concurrent_creates_from_both_keep_the_ledger)
{
	char key[64];
	http_creator c;
	pthread_t th;
	lv_test_run r;
	int i, created = 0;
	cJSON *j;
	env e;

	memset(&e, 0, sizeof(e));
	env_start(&e);
	make_key(key, &e, "10000");
	c.e = &e;
	c.key = key;
	c.n = 12;
	c.created = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, create_over_http, &c), 0);
	for (i = 0; i < 12; i++) {
		ctl(&r, &e, "create", "--key", key, "--prompt", "a quiet street", "--duration", "3");
		if (r.exit_code == 0)
			created++;
		else
			ck_abort_msg("lvctl create failed: %s", r.err);
		lv_test_run_free(&r);
	}
	pthread_join(th, NULL);
	ck_assert_int_eq(c.created, 12);
	ck_assert_int_eq(created, 12);

	ctl(&r, &e, "--json", "list", "--key", key, "--limit", "100");
	j = ctl_json(&r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "data")), 24);
	cJSON_Delete(j);
	lv_test_run_free(&r);
	ctl(&r, &e, "--json", "credits", "--key", key);
	j = ctl_json(&r);
	ck_assert_double_eq(jnum(j, "balance"), 10000 - 24 * 82.5);
	ck_assert_double_eq(jnum(j, "reserved"), 24 * 82.5);
	cJSON_Delete(j);
	lv_test_run_free(&r);
	ledger_holds(&e);
	env_stop(&e);
}
END_TEST

int main(void)
{
	char *server = lv_test_bin("lvserver");
	Suite *s;
	TCase *tc;
	int rc;
	if (access(server, X_OK) != 0) {
		printf("test_cli_server: %s is not built; skipping the lvctl + lvserver tests\n", server);
		free(server);
		return 0;
	}
	free(server);
	unsetenv("LV_API_KEY");
	unsetenv("LV_CONFIG");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	s = suite_create("cli_server");
	tc = tcase_create("shared store");
	tcase_add_test(tc, keys_from_lvctl_work_over_http);
	tcase_add_test(tc, tasks_cross_between_http_and_lvctl);
	tcase_add_test(tc, concurrent_creates_from_both_keep_the_ledger);
	suite_add_tcase(s, tc);
	rc = lv_test_run_suite(s);
	curl_global_cleanup();
	return rc;
}
