/*
 * HTTP-level tests of lvserver: the real binary on an ephemeral loopback port, driven over HTTP.
 * API keys are created in this process through the library on the same data directory (the
 * store is shared between processes); some scenarios also move segment states through the
 * internal store API to reach states the pipeline would produce.
 */
#include "store_util.h"
#include "testutil.h"
#include "harness.h"
#include "longvideo.h"
#include "core/engine.h"
#include "core/task.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/time.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <civetweb.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BODY_LIMIT 65536

/* The main server, started once per test case in the parent process (unchecked fixture); each
 * test opens its own engine on the same data directory (checked fixture, in the forked child). */
static char *g_dir, *g_config;
static lv_test_server g_srv;
static lv_engine *g_engine;

static void start_server(const char *tag, const char *config_json)
{
	g_dir = lv_test_mkdtemp(tag);
	ck_assert_ptr_nonnull(g_dir);
	{
		/* LV_TEST_STORE=postgresql://...: the server and the tests on a fresh PostgreSQL database. */
		char *json = lv_test_config_with_store(config_json, g_dir);
		ck_assert_ptr_nonnull(json);
		g_config = lv_test_write_file(g_dir, "config.json", json);
		free(json);
	}
	ck_assert_ptr_nonnull(g_config);
	ck_assert_int_eq(lv_test_server_start(&g_srv, g_dir, g_config, NULL), 0);
}

static void main_server_up(void)
{
	char json[224];
	/* Create bodies have their own limit (character images); here both are the same small one. */
	snprintf(json, sizeof(json),
	         "{\"server\": {\"max_body_bytes\": %d, \"max_create_body_bytes\": %d, "
	         "\"cors_origins\": [\"https://app.example\"]}}",
	         BODY_LIMIT, BODY_LIMIT);
	start_server("http", json);
}

static void limited_server_up(void)
{
	start_server("http-rl", "{\"server\": {\"rate_limit_per_minute\": 3}}");
}

static void server_down(void)
{
	char *log_path = lv_strdup(g_srv.log_path), *log = NULL;
	size_t len = 0;
	int status = lv_test_server_stop(&g_srv);
	/* A failure in this (unchecked) teardown ends the run without Check's report: say why here.
	 * Under LV_SANITIZE a leak in the server shows as a non-zero exit status. */
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fprintf(stderr, "lvserver did not exit cleanly (wait status %d); its log:\n", status);
		if (lv_file_read(&log, &len, log_path) == 0)
			fprintf(stderr, "%s\n", log);
		free(log);
	}
	free(log_path);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	lv_test_rmdir(g_dir);
	free(g_dir);
	free(g_config);
	g_dir = g_config = NULL;
}

static void engine_open(void)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	o.config_path = g_config;
	o.data_dir = g_dir;
	ck_assert_msg(lv_engine_open(&g_engine, &o) == LV_OK, "%s", lv_error_last()->message);
}

static void engine_close(void)
{
	lv_engine_close(g_engine);
	g_engine = NULL;
}

/* The ledger invariant holds for every key of the store. */
static void assert_ledger(void)
{
	char *report = NULL;
	int rc = lv_ledger_verify(g_engine, &report);
	ck_assert_msg(rc == LV_OK, "ledger: %s", report ? report : lv_error_last()->message);
	lv_free(report);
}

/* ---- keys and requests ----------------------------------------------------------------- */

typedef struct tkey {
	char id[LV_ID_MAX];
	char secret[64];
	char auth[96]; /* "Authorization: Bearer sk-..." */
} tkey;

static void make_key(tkey *k, int64_t credits)
{
	lv_key *key = NULL;
	memset(k, 0, sizeof(*k));
	ck_assert_msg(lv_key_create(&key, g_engine, "http-test", credits) == LV_OK, "%s", lv_error_last()->message);
	snprintf(k->id, sizeof(k->id), "%s", lv_key_id(key));
	snprintf(k->secret, sizeof(k->secret), "%s", lv_key_secret(key));
	snprintf(k->auth, sizeof(k->auth), "Authorization: Bearer %s", k->secret);
	lv_key_free(key);
}

static char *url_of(const lv_test_server *srv, const char *path)
{
	return lv_asprintf("%s%s", srv->base_url, path);
}

/* One request to the main server.  `k` adds its Authorization header, a body adds
 * Content-Type: application/json unless `extra` already has a Content-Type. */
static long call_on(const lv_test_server *srv, lv_test_response *resp, const char *method, const char *path,
                    const tkey *k, const char *body, const char *const *extra)
{
	const char *headers[16];
	char *url = url_of(srv, path);
	int n = 0, has_ct = 0;
	while (extra && *extra && n < 12) {
		if (!strncasecmp(*extra, "Content-Type", 12))
			has_ct = 1;
		headers[n++] = *extra++;
	}
	if (k)
		headers[n++] = k->auth;
	if (body && !has_ct)
		headers[n++] = "Content-Type: application/json";
	headers[n] = NULL;
	ck_assert_int_eq(lv_test_http(resp, method, url, headers, body, body ? strlen(body) : 0), 0);
	free(url);
	return resp->status;
}

static long call(lv_test_response *resp, const char *method, const char *path, const tkey *k, const char *body,
                 const char *const *extra)
{
	return call_on(&g_srv, resp, method, path, k, body, extra);
}

static cJSON *json_of(const lv_test_response *resp)
{
	cJSON *j = cJSON_Parse(resp->body);
	ck_assert_msg(j != NULL, "response is not JSON: %s", resp->body);
	return j;
}

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", name);
	return v->valuedouble;
}

/* Every response: JSON content type, a Content-Length equal to the body, a request id. */
static void assert_common_headers(const lv_test_response *resp)
{
	char buf[128];
	ck_assert_ptr_nonnull(lv_test_header(resp, "Content-Type", buf, sizeof(buf)));
	ck_assert_str_eq(buf, "application/json; charset=utf-8");
	ck_assert_ptr_nonnull(lv_test_header(resp, "Content-Length", buf, sizeof(buf)));
	ck_assert_int_eq(atol(buf), (long)resp->body_len);
	ck_assert_ptr_nonnull(lv_test_header(resp, "X-Request-Id", buf, sizeof(buf)));
	ck_assert(!strncmp(buf, "req_", 4));
}

/* The response is `status` with error `code` whose message starts with `prefix`. */
static void assert_error(const lv_test_response *resp, long status, const char *code, const char *prefix)
{
	cJSON *j, *e;
	ck_assert_msg(resp->status == status, "expected %ld, got %ld: %s", status, resp->status, resp->body);
	assert_common_headers(resp);
	j = json_of(resp);
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	ck_assert_msg(cJSON_IsObject(e), "no error object: %s", resp->body);
	ck_assert_str_eq(jstr(e, "code"), code);
	ck_assert_ptr_nonnull(jstr(e, "message"));
	if (prefix)
		ck_assert_msg(!strncmp(jstr(e, "message"), prefix, strlen(prefix)), "message '%s' does not start with '%s'",
		              jstr(e, "message"), prefix);
	cJSON_Delete(j);
}

typedef struct credits {
	double balance, reserved;
} credits;

static credits http_credits(const tkey *k)
{
	lv_test_response r;
	credits c;
	cJSON *j;
	ck_assert_int_eq(call(&r, "GET", "/v1/credits", k, NULL, NULL), 200);
	assert_common_headers(&r);
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "object"), "credits");
	ck_assert_str_eq(jstr(j, "currency"), "credits");
	c.balance = jnum(j, "balance");
	c.reserved = jnum(j, "reserved");
	cJSON_Delete(j);
	lv_test_response_free(&r);
	return c;
}

/* Create a task; returns its id (caller frees) after checking 202 and the Location header. */
static char *create_task(const tkey *k, const char *body)
{
	lv_test_response r;
	char loc[128], expect[128];
	char *id;
	cJSON *j;
	ck_assert_int_eq(call(&r, "POST", "/v1/videos", k, body, NULL), 202);
	assert_common_headers(&r);
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "status"), "queued");
	id = lv_strdup(jstr(j, "task_id"));
	ck_assert(!strncmp(id, "vid_", 4));
	snprintf(expect, sizeof(expect), "/v1/videos/%s", id);
	ck_assert_ptr_nonnull(lv_test_header(&r, "Location", loc, sizeof(loc)));
	ck_assert_str_eq(loc, expect);
	ck_assert_ptr_null(lv_test_header(&r, "Idempotent-Replayed", loc, sizeof(loc)));
	cJSON_Delete(j);
	lv_test_response_free(&r);
	return id;
}

static size_t list_count(const tkey *k, const char *query)
{
	lv_test_response r;
	char path[256];
	size_t n;
	cJSON *j;
	snprintf(path, sizeof(path), "/v1/videos%s", query ? query : "");
	ck_assert_int_eq(call(&r, "GET", path, k, NULL, NULL), 200);
	j = json_of(&r);
	n = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "data"));
	cJSON_Delete(j);
	lv_test_response_free(&r);
	return n;
}

/* lv_key_create() once wrote its webhook secret ("whsec_" + 44 base64 characters) into a 48-byte
 * stack buffer, overwriting the returned key's id: the id must be the stored one, and the secrets
 * intact. */
START_TEST(created_key_has_its_stored_id_and_secrets)
{
	lv_key *key = NULL, *found = NULL;
	ck_assert_int_eq(lv_key_create(&key, g_engine, "id-check", 1000), LV_OK);
	ck_assert_msg(!strncmp(lv_key_id(key), "key_", 4) && strlen(lv_key_id(key)) == 20, "id '%s'", lv_key_id(key));
	ck_assert(!strncmp(lv_key_secret(key), "sk-", 3) && strlen(lv_key_secret(key)) == 43);
	ck_assert(!strncmp(lv_key_webhook_secret(key), "whsec_", 6) && strlen(lv_key_webhook_secret(key)) == 50);
	ck_assert_msg(lv_key_lookup(&found, g_engine, lv_key_id(key)) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_str_eq(lv_key_id(found), lv_key_id(key));
	ck_assert_int_eq(lv_key_revoke(g_engine, lv_key_id(key)), LV_OK);
	lv_key_free(found);
	lv_key_free(key);
}
END_TEST

/* ---- health, routing, auth --------------------------------------------------------------- */

START_TEST(healthz_needs_no_key)
{
	lv_test_response r;
	cJSON *j;
	ck_assert_int_eq(call(&r, "GET", "/healthz", NULL, NULL, NULL), 200);
	assert_common_headers(&r);
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "status"), "ok");
	ck_assert_str_eq(jstr(j, "version"), lv_version());
	cJSON_Delete(j);
	lv_test_response_free(&r);
}
END_TEST

/* GET /v1/openapi.json: the document of docs/openapi.json, byte for byte, as JSON, with no key. */
START_TEST(openapi_document_is_served)
{
	lv_test_response r;
	char buf[128], *want = NULL;
	size_t want_len = 0;
	cJSON *j;
	ck_assert_int_eq(call(&r, "GET", "/v1/openapi.json", NULL, NULL, NULL), 200);
	assert_common_headers(&r);
	ck_assert_int_eq(lv_test_read_file(&want, &want_len, LV_TEST_SOURCE_DIR "/docs/openapi.json"), 0);
	ck_assert_uint_eq(r.body_len, want_len);
	ck_assert_mem_eq(r.body, want, want_len);
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "openapi"), "3.1.0");
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "paths"), "/v1/videos"));
	cJSON_Delete(j);
	free(want);
	ck_assert_ptr_nonnull(lv_test_header(&r, "Content-Type", buf, sizeof(buf)));
	ck_assert_str_eq(buf, "application/json; charset=utf-8");
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "HEAD", "/v1/openapi.json", NULL, NULL, NULL), 200);
	ck_assert_uint_eq(r.body_len, 0);
	lv_test_response_free(&r);
}
END_TEST

START_TEST(unknown_route_and_wrong_method)
{
	static const struct {
		const char *method, *path, *allow;
	} cases[] = {
		{ "DELETE", "/v1/videos", "GET, HEAD, POST, OPTIONS" },
		{ "PUT", "/v1/videos/vid_abc", "GET, HEAD, OPTIONS" },
		{ "GET", "/v1/videos/vid_abc/cancel", "POST, OPTIONS" },
		{ "GET", "/v1/videos/vid_abc/compose", "POST, OPTIONS" },
		{ "POST", "/v1/credits", "GET, HEAD, OPTIONS" },
		{ "POST", "/healthz", "GET, HEAD, OPTIONS" },
	};
	lv_test_response r;
	char allow[64];
	size_t i;
	tkey k;
	make_key(&k, 1000000);
	ck_assert_int_eq(call(&r, "GET", "/v2/nothing", &k, NULL, NULL), 404);
	assert_error(&r, 404, "not_found", NULL);
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "GET", "/v1/videos/vid_abc/content/extra", &k, NULL, NULL), 404);
	assert_error(&r, 404, "not_found", NULL);
	lv_test_response_free(&r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		call(&r, cases[i].method, cases[i].path, &k, NULL, NULL);
		assert_error(&r, 405, "method_not_allowed", cases[i].method);
		ck_assert_ptr_nonnull(lv_test_header(&r, "Allow", allow, sizeof(allow)));
		ck_assert_str_eq(allow, cases[i].allow);
		lv_test_response_free(&r);
	}
}
END_TEST

START_TEST(auth_failures_are_401_with_challenge)
{
	char revoked_auth[96], unknown[96], buf[64];
	const char *variants[6];
	lv_test_response r;
	size_t i;
	tkey k, gone;
	make_key(&k, 1000000);
	make_key(&gone, 1000000);
	ck_assert_int_eq(lv_key_revoke(g_engine, gone.id), LV_OK);
	snprintf(revoked_auth, sizeof(revoked_auth), "%s", gone.auth);
	/* Well-formed but never issued: same shape, other characters. */
	snprintf(unknown, sizeof(unknown), "Authorization: Bearer sk-%s", "0123456789abcdefghijABCDEFGHIJ0123456789");
	variants[0] = NULL; /* no header */
	variants[1] = "Authorization: Basic dXNlcjpwYXNz";
	variants[2] = "Authorization: Bearer sk-short";
	variants[3] = unknown;
	variants[4] = revoked_auth;
	variants[5] = "Authorization: Bearer";
	for (i = 0; i < 6; i++) {
		const char *h[2] = { variants[i], NULL };
		call(&r, "GET", "/v1/credits", NULL, NULL, variants[i] ? h : NULL);
		assert_error(&r, 401, "invalid_api_key", "Authorization");
		ck_assert_ptr_nonnull(lv_test_header(&r, "WWW-Authenticate", buf, sizeof(buf)));
		ck_assert_str_eq(buf, "Bearer");
		lv_test_response_free(&r);
	}
	/* Every /v1 route is protected, POSTs included. */
	call(&r, "POST", "/v1/videos", NULL, "{\"prompt\":\"a\",\"duration\":3}", NULL);
	assert_error(&r, 401, "invalid_api_key", NULL);
	lv_test_response_free(&r);
	call(&r, "GET", "/v1/videos", NULL, NULL, NULL);
	assert_error(&r, 401, "invalid_api_key", NULL);
	lv_test_response_free(&r);
	/* Authentication comes before anything else about the request. */
	call(&r, "GET", "/v1/videos?bogus=1", NULL, NULL, NULL);
	assert_error(&r, 401, "invalid_api_key", NULL);
	lv_test_response_free(&r);
	/* The scheme name is case-insensitive. */
	{
		char lower[96];
		const char *h[2] = { lower, NULL };
		snprintf(lower, sizeof(lower), "Authorization: bearer %s", k.secret);
		ck_assert_int_eq(call(&r, "GET", "/v1/credits", NULL, NULL, h), 200);
		lv_test_response_free(&r);
	}
	assert_ledger();
}
END_TEST

/* ---- create -------------------------------------------------------------------------------- */

START_TEST(create_returns_the_task_and_reserves_its_estimate)
{
	lv_test_response r;
	credits before, after;
	char path[128];
	cJSON *j, *shots, *meta;
	char *id;
	tkey k;
	make_key(&k, 20000000); /* 20000 credits */
	before = http_credits(&k);
	ck_assert(before.balance == 20000 && before.reserved == 0);
	id = create_task(&k, "{\"prompt\":\"城市清晨的延时风光\",\"duration\":60,\"metadata\":{\"user_ref\":\"u-1\"}}");
	after = http_credits(&k);
	ck_assert(after.balance == 20000 - 1650 && after.reserved == 1650);

	snprintf(path, sizeof(path), "/v1/videos/%s", id);
	ck_assert_int_eq(call(&r, "GET", path, &k, NULL, NULL), 200);
	assert_common_headers(&r);
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "task_id"), id);
	ck_assert_str_eq(jstr(j, "object"), "video");
	/* Created "queued" (create_task checked the 202); this server's workers may have claimed it
	 * since (at once on PostgreSQL, where a create wakes them): then it is on its way, not done. */
	if (strcmp(jstr(j, "status"), "queued") != 0) {
		const char *st = jstr(j, "status");
		ck_assert_msg(!strcmp(st, "scripting") || !strcmp(st, "moderation") || !strcmp(st, "anchoring") ||
		                  !strcmp(st, "generating"),
		              "status %s", st);
	} else {
		ck_assert(jnum(j, "progress") == 0);
	}
	ck_assert(jnum(j, "duration") == 60 && jnum(j, "cost_estimate") == 1650);
	ck_assert(jnum(j, "shots_total") == 8 && jnum(j, "shots_done") == 0);
	ck_assert_str_eq(jstr(j, "resolution"), "720p");
	ck_assert_str_eq(jstr(j, "aspect_ratio"), "16:9");
	ck_assert_str_eq(jstr(j, "provider"), "local");
	ck_assert_str_eq(jstr(j, "language"), "zh");
	ck_assert_str_eq(jstr(j, "subtitles"), "soft");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "narration")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "music")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "cost_actual")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "result_url")));
	meta = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	ck_assert_str_eq(jstr(meta, "user_ref"), "u-1");
	shots = cJSON_GetObjectItemCaseSensitive(j, "shots");
	ck_assert_int_eq(cJSON_GetArraySize(shots), 8);
	ck_assert(jnum(cJSON_GetArrayItem(shots, 7), "start") == 53);
	cJSON_Delete(j);
	lv_test_response_free(&r);
	free(id);

	/* SPEC §3 examples through the API: 3 s x 720p = 82.5, 180 s x 1080p = 8496, 17 s -> 6+6+5. */
	ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, "{\"prompt\":\"a short one\",\"duration\":3}", NULL), 202);
	j = json_of(&r);
	ck_assert(jnum(j, "cost_estimate") == 82.5 && jnum(j, "shots_total") == 1);
	ck_assert_str_eq(jstr(j, "language"), "en");
	cJSON_Delete(j);
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k,
	                      "{\"prompt\":\"long\",\"duration\":180,\"resolution\":\"1080p\",\"aspect_ratio\":\"9:16\","
	                      "\"subtitles\":\"burn\",\"narration\":false,\"music\":false,\"language\":\"en\"}",
	                      NULL),
	                 202);
	j = json_of(&r);
	ck_assert(jnum(j, "cost_estimate") == 8496 && jnum(j, "shots_total") == 23);
	ck_assert_str_eq(jstr(j, "aspect_ratio"), "9:16");
	ck_assert_str_eq(jstr(j, "subtitles"), "burn");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "narration")));
	cJSON_Delete(j);
	lv_test_response_free(&r);
	id = create_task(&k, "{\"prompt\":\"seventeen\",\"duration\":17}");
	snprintf(path, sizeof(path), "/v1/videos/%s", id);
	ck_assert_int_eq(call(&r, "GET", path, &k, NULL, NULL), 200);
	j = json_of(&r);
	shots = cJSON_GetObjectItemCaseSensitive(j, "shots");
	ck_assert_int_eq(cJSON_GetArraySize(shots), 3);
	ck_assert(jnum(cJSON_GetArrayItem(shots, 0), "duration") == 6);
	ck_assert(jnum(cJSON_GetArrayItem(shots, 1), "duration") == 6);
	ck_assert(jnum(cJSON_GetArrayItem(shots, 2), "duration") == 5);
	ck_assert(jnum(j, "cost_estimate") == 467.5);
	cJSON_Delete(j);
	lv_test_response_free(&r);
	free(id);
	after = http_credits(&k);
	ck_assert(after.balance == 20000 - 1650 - 82.5 - 8496 - 467.5);
	ck_assert(after.reserved == 1650 + 82.5 + 8496 + 467.5);
	assert_ledger();
}
END_TEST

START_TEST(create_validation_names_the_field)
{
	static char long_prompt[4200];
	static const struct {
		const char *body, *prefix;
	} cases[] = {
		{ "{}", "prompt:" },
		{ "{\"duration\":10}", "prompt:" },
		{ "{\"prompt\":\"   \",\"duration\":10}", "prompt:" },
		{ "{\"prompt\":42,\"duration\":10}", "prompt:" },
		{ "{\"prompt\":\"x\"}", "duration:" },
		{ "{\"prompt\":\"x\",\"duration\":2}", "duration:" },
		{ "{\"prompt\":\"x\",\"duration\":181}", "duration:" },
		{ "{\"prompt\":\"x\",\"duration\":3.5}", "duration:" },
		{ "{\"prompt\":\"x\",\"duration\":\"10\"}", "duration:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"resolution\":\"4k\"}", "resolution:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"aspect_ratio\":\"4:3\"}", "aspect_ratio:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"provider\":\"nope\"}", "provider:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"language\":\"english!\"}", "language:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"narration\":\"yes\"}", "narration:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"music\":1}", "music:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"subtitles\":\"hard\"}", "subtitles:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"webhook_url\":\"ftp://example.com/x\"}", "webhook_url:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"webhook_url\":\"/relative\"}", "webhook_url:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"metadata\":{\"a\":1}}", "metadata.a:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"metadata\":[]}", "metadata:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"colour\":\"red\"}", "colour:" },
		{ "{\"prompt\":\"x\",\"duration\":10,\"duration\":12}", "duration:" },
		{ "{\"prompt\":", "body:" },
		{ "[1,2]", "body:" },
		{ "{\"prompt\":\"x\",\"duration\":10} trailing", "body:" },
		{ "", "body:" },
	};
	char many_keys[1024];
	lv_test_response r;
	credits before, after;
	size_t i, n;
	tkey k;
	make_key(&k, 100000000);
	before = http_credits(&k);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		call(&r, "POST", "/v1/videos", &k, cases[i].body, NULL);
		assert_error(&r, 400, "invalid_request", cases[i].prefix);
		lv_test_response_free(&r);
	}
	/* 4001 characters after trimming. */
	n = (size_t)snprintf(long_prompt, sizeof(long_prompt), "{\"duration\":10,\"prompt\":\"");
	memset(long_prompt + n, 'p', 4001);
	snprintf(long_prompt + n + 4001, sizeof(long_prompt) - n - 4001, "\"}");
	call(&r, "POST", "/v1/videos", &k, long_prompt, NULL);
	assert_error(&r, 400, "invalid_request", "prompt:");
	lv_test_response_free(&r);
	/* 17 metadata keys. */
	n = (size_t)snprintf(many_keys, sizeof(many_keys), "{\"prompt\":\"x\",\"duration\":10,\"metadata\":{");
	for (i = 0; i < 17; i++)
		n += (size_t)snprintf(many_keys + n, sizeof(many_keys) - n, "%s\"k%zu\":\"v\"", i ? "," : "", i);
	snprintf(many_keys + n, sizeof(many_keys) - n, "}}");
	call(&r, "POST", "/v1/videos", &k, many_keys, NULL);
	assert_error(&r, 400, "invalid_request", "metadata:");
	lv_test_response_free(&r);
	/* Content-Type must be JSON when given; a missing one is accepted. */
	{
		const char *text[2] = { "Content-Type: text/plain", NULL };
		const char *form[2] = { "Content-Type: application/x-www-form-urlencoded", NULL };
		const char *latin1[2] = { "Content-Type: application/json; charset=iso-8859-1", NULL };
		const char *utf8[2] = { "Content-Type: application/json; charset=UTF-8", NULL };
		const char *none[2] = { "Content-Type:", NULL };
		const char *good = "{\"prompt\":\"x\",\"duration\":3}";
		call(&r, "POST", "/v1/videos", &k, good, text);
		assert_error(&r, 400, "invalid_request", "Content-Type:");
		lv_test_response_free(&r);
		call(&r, "POST", "/v1/videos", &k, good, form);
		assert_error(&r, 400, "invalid_request", "Content-Type:");
		lv_test_response_free(&r);
		call(&r, "POST", "/v1/videos", &k, good, latin1);
		assert_error(&r, 400, "invalid_request", "Content-Type:");
		lv_test_response_free(&r);
		after = http_credits(&k);
		ck_assert(after.balance == before.balance && after.reserved == 0);
		ck_assert_int_eq(list_count(&k, NULL), 0);
		ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, good, utf8), 202);
		lv_test_response_free(&r);
		ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, good, none), 202);
		lv_test_response_free(&r);
		ck_assert_int_eq(list_count(&k, NULL), 2);
	}
	assert_ledger();
}
END_TEST

START_TEST(insufficient_credits_creates_and_charges_nothing)
{
	lv_test_response r;
	credits before, after;
	cJSON *j, *d;
	tkey k;
	make_key(&k, 100000); /* 100 credits */
	before = http_credits(&k);
	call(&r, "POST", "/v1/videos", &k, "{\"prompt\":\"too long for my wallet\",\"duration\":60}", NULL);
	assert_error(&r, 402, "insufficient_credits", "credits:");
	j = json_of(&r);
	d = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "error"), "details");
	ck_assert(jnum(d, "cost_estimate") == 1650 && jnum(d, "balance") == 100);
	cJSON_Delete(j);
	lv_test_response_free(&r);
	after = http_credits(&k);
	ck_assert(after.balance == before.balance && after.reserved == before.reserved);
	ck_assert_int_eq(list_count(&k, NULL), 0);
	/* What fits still works: 3 s = 82.5. */
	free(create_task(&k, "{\"prompt\":\"cheap\",\"duration\":3}"));
	after = http_credits(&k);
	ck_assert(after.balance == 17.5 && after.reserved == 82.5);
	assert_ledger();
}
END_TEST

/* ---- idempotency ------------------------------------------------------------------------------ */

START_TEST(idempotency_replays_and_rejects_a_different_body)
{
	const char *h1[2] = { "Idempotency-Key: 2f1c6a53-6a44-4c36-9d1e-1e0f1a2b3c4d", NULL };
	char long_key[300], max_key[300], flag[16];
	const char *hl[2] = { long_key, NULL }, *hm[2] = { max_key, NULL }, *he[2] = { "Idempotency-Key;", NULL };
	lv_test_response r;
	credits c;
	cJSON *j;
	char *id, path[128];
	tkey k, other;
	make_key(&k, 10000000);
	make_key(&other, 10000000);

	ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, "{\"prompt\":\"same\",\"duration\":10}", h1), 202);
	ck_assert_ptr_null(lv_test_header(&r, "Idempotent-Replayed", flag, sizeof(flag)));
	j = json_of(&r);
	id = lv_strdup(jstr(j, "task_id"));
	cJSON_Delete(j);
	lv_test_response_free(&r);

	/* Same body (other member order and spacing): the same task, nothing charged again. */
	ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, "{ \"duration\": 10, \"prompt\": \"same\" }", h1), 202);
	ck_assert_ptr_nonnull(lv_test_header(&r, "Idempotent-Replayed", flag, sizeof(flag)));
	ck_assert_str_eq(flag, "true");
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "task_id"), id);
	cJSON_Delete(j);
	lv_test_response_free(&r);
	c = http_credits(&k);
	ck_assert(c.reserved == 275 && c.balance == 10000 - 275);

	/* A different body under the same key. */
	call(&r, "POST", "/v1/videos", &k, "{\"prompt\":\"different\",\"duration\":10}", h1);
	assert_error(&r, 422, "idempotency_key_reused", "Idempotency-Key:");
	lv_test_response_free(&r);

	/* The scope is the API key: another key may use the same Idempotency-Key. */
	ck_assert_int_eq(call(&r, "POST", "/v1/videos", &other, "{\"prompt\":\"same\",\"duration\":10}", h1), 202);
	ck_assert_ptr_null(lv_test_header(&r, "Idempotent-Replayed", flag, sizeof(flag)));
	lv_test_response_free(&r);

	/* A replay returns the task in its current state. */
	snprintf(path, sizeof(path), "/v1/videos/%s/cancel", id);
	ck_assert_int_eq(call(&r, "POST", path, &k, NULL, NULL), 200);
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, "{\"prompt\":\"same\",\"duration\":10}", h1), 202);
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "task_id"), id);
	ck_assert_str_eq(jstr(j, "status"), "canceled");
	cJSON_Delete(j);
	lv_test_response_free(&r);

	/* 1-255 printable ASCII characters. */
	snprintf(long_key, sizeof(long_key), "Idempotency-Key: ");
	memset(long_key + strlen(long_key), 'k', 256);
	long_key[17 + 256] = '\0';
	call(&r, "POST", "/v1/videos", &k, "{\"prompt\":\"k\",\"duration\":3}", hl);
	assert_error(&r, 400, "invalid_request", "Idempotency-Key:");
	lv_test_response_free(&r);
	call(&r, "POST", "/v1/videos", &k, "{\"prompt\":\"k\",\"duration\":3}", he);
	assert_error(&r, 400, "invalid_request", "Idempotency-Key:");
	lv_test_response_free(&r);
	snprintf(max_key, sizeof(max_key), "Idempotency-Key: ");
	memset(max_key + strlen(max_key), 'm', 255);
	max_key[17 + 255] = '\0';
	ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, "{\"prompt\":\"k\",\"duration\":3}", hm), 202);
	lv_test_response_free(&r);
	ck_assert_int_eq(list_count(&k, NULL), 2);
	free(id);
	assert_ledger();
}
END_TEST

#define CONCURRENT 32

typedef struct racer {
	pthread_barrier_t *start;
	const tkey *key;
	long status;
	int replayed;
	char task_id[LV_ID_MAX];
} racer;

static void *race(void *p)
{
	static const char body[] = "{\"prompt\":\"all at once\",\"duration\":20}";
	racer *rc = p;
	const char *headers[4] = { rc->key->auth, "Content-Type: application/json",
		                   "Idempotency-Key: race-7f3a", NULL };
	char *url = url_of(&g_srv, "/v1/videos"), flag[16];
	lv_test_response r;
	pthread_barrier_wait(rc->start);
	if (lv_test_http(&r, "POST", url, headers, body, strlen(body)) == 0) {
		cJSON *j = cJSON_Parse(r.body);
		rc->status = r.status;
		rc->replayed = lv_test_header(&r, "Idempotent-Replayed", flag, sizeof(flag)) != NULL;
		if (j && jstr(j, "task_id"))
			snprintf(rc->task_id, sizeof(rc->task_id), "%s", jstr(j, "task_id"));
		cJSON_Delete(j);
	}
	lv_test_response_free(&r);
	free(url);
	return NULL;
}

START_TEST(concurrent_duplicates_create_one_task)
{
	pthread_t threads[CONCURRENT];
	racer racers[CONCURRENT];
	pthread_barrier_t start;
	int fresh = 0, i;
	credits c;
	tkey k;
	make_key(&k, 10000000);
	pthread_barrier_init(&start, NULL, CONCURRENT);
	for (i = 0; i < CONCURRENT; i++) {
		memset(&racers[i], 0, sizeof(racers[i]));
		racers[i].start = &start;
		racers[i].key = &k;
		ck_assert_int_eq(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
	}
	for (i = 0; i < CONCURRENT; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < CONCURRENT; i++) {
		ck_assert_int_eq(racers[i].status, 202);
		ck_assert_str_eq(racers[i].task_id, racers[0].task_id);
		fresh += !racers[i].replayed;
	}
	ck_assert_int_eq(fresh, 1);
	ck_assert_int_eq(list_count(&k, NULL), 1);
	c = http_credits(&k);
	ck_assert(c.reserved == 550 && c.balance == 10000 - 550); /* 20 s = 3 segments: 7+7+6 s x 27.5 */
	assert_ledger();
}
END_TEST

/* ---- list ------------------------------------------------------------------------------------ */

START_TEST(list_pages_newest_first)
{
	char *ids[5], path[256], other_task[LV_ID_MAX];
	lv_test_response r;
	cJSON *j, *data;
	size_t i;
	tkey k, other;
	make_key(&k, 10000000);
	make_key(&other, 10000000);
	for (i = 0; i < 5; i++) {
		char body[96];
		snprintf(body, sizeof(body), "{\"prompt\":\"task %zu\",\"duration\":3}", i);
		ids[i] = create_task(&k, body);
	}
	{
		char *o = create_task(&other, "{\"prompt\":\"not yours\",\"duration\":3}");
		snprintf(other_task, sizeof(other_task), "%s", o);
		free(o);
	}
	/* Page 1: the two newest. */
	ck_assert_int_eq(call(&r, "GET", "/v1/videos?limit=2", &k, NULL, NULL), 200);
	assert_common_headers(&r);
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "object"), "list");
	data = cJSON_GetObjectItemCaseSensitive(j, "data");
	ck_assert_int_eq(cJSON_GetArraySize(data), 2);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(data, 0), "task_id"), ids[4]);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(data, 1), "task_id"), ids[3]);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "has_more")));
	ck_assert_str_eq(jstr(j, "next_cursor"), ids[3]);
	cJSON_Delete(j);
	lv_test_response_free(&r);
	/* Page 2 and 3 by cursor. */
	snprintf(path, sizeof(path), "/v1/videos?limit=2&after=%s", ids[3]);
	ck_assert_int_eq(call(&r, "GET", path, &k, NULL, NULL), 200);
	j = json_of(&r);
	data = cJSON_GetObjectItemCaseSensitive(j, "data");
	ck_assert_int_eq(cJSON_GetArraySize(data), 2);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(data, 0), "task_id"), ids[2]);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(data, 1), "task_id"), ids[1]);
	ck_assert_str_eq(jstr(j, "next_cursor"), ids[1]);
	cJSON_Delete(j);
	lv_test_response_free(&r);
	snprintf(path, sizeof(path), "/v1/videos?after=%s&limit=2", ids[1]);
	ck_assert_int_eq(call(&r, "GET", path, &k, NULL, NULL), 200);
	j = json_of(&r);
	data = cJSON_GetObjectItemCaseSensitive(j, "data");
	ck_assert_int_eq(cJSON_GetArraySize(data), 1);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(data, 0), "task_id"), ids[0]);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "has_more")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "next_cursor")));
	/* List items are the short form: no shots. */
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(data, 0), "shots"));
	cJSON_Delete(j);
	lv_test_response_free(&r);
	/* Default page and the status filter. */
	ck_assert_int_eq(list_count(&k, NULL), 5);
	ck_assert_int_eq(list_count(&k, "?status=queued"), 5);
	ck_assert_int_eq(list_count(&k, "?status=canceled"), 0);
	snprintf(path, sizeof(path), "/v1/videos/%s/cancel", ids[2]);
	ck_assert_int_eq(call(&r, "POST", path, &k, NULL, NULL), 200);
	lv_test_response_free(&r);
	ck_assert_int_eq(list_count(&k, "?status=canceled"), 1);
	ck_assert_int_eq(list_count(&k, "?status=queued&limit=100"), 4);
	ck_assert_int_eq(list_count(&other, NULL), 1);
	/* Bad parameters. */
	{
		static const struct {
			const char *query, *prefix;
		} bad[] = {
			{ "?limit=0", "limit:" },      { "?limit=101", "limit:" },   { "?limit=abc", "limit:" },
			{ "?limit=", "limit:" },       { "?limit=-1", "limit:" },    { "?limit=10x", "limit:" },
			{ "?status=bogus", "status:" }, { "?status=", "status:" },   { "?after=xyz", "after:" },
			{ "?after=", "after:" },       { "?after=vid_nope", "after:" }, { "?foo=1", "foo:" },
			{ "?limit=1&limit=2", "limit:" },
		};
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(path, sizeof(path), "/v1/videos%s", bad[i].query);
			call(&r, "GET", path, &k, NULL, NULL);
			assert_error(&r, 400, "invalid_request", bad[i].prefix);
			lv_test_response_free(&r);
		}
		/* Another key's task is not a cursor of mine (over HTTP and in this process: the task row
		 * read to check the cursor used to leak). */
		snprintf(path, sizeof(path), "/v1/videos?after=%s", other_task);
		call(&r, "GET", path, &k, NULL, NULL);
		assert_error(&r, 400, "invalid_request", "after:");
		lv_test_response_free(&r);
		{
			lv_task_list_options o = LV_TASK_LIST_OPTIONS_INIT;
			lv_task_page *page = NULL;
			lv_key *key = NULL;
			ck_assert_int_eq(lv_key_lookup(&key, g_engine, k.id), LV_OK);
			o.after = other_task;
			ck_assert_int_eq(lv_task_list(&page, g_engine, key, &o), LV_EINVALID);
			ck_assert_ptr_null(page);
			lv_key_free(key);
		}
		/* Only list takes query parameters. */
		call(&r, "GET", "/v1/credits?verbose=1", &k, NULL, NULL);
		assert_error(&r, 400, "invalid_request", "verbose:");
		lv_test_response_free(&r);
	}
	for (i = 0; i < 5; i++)
		free(ids[i]);
	assert_ledger();
}
END_TEST

/* ---- get, cancel, ownership ------------------------------------------------------------------------ */

START_TEST(other_keys_tasks_are_not_found)
{
	static const char *const suffixes[] = { "", "/cancel", "/compose" };
	lv_test_response r;
	char path[160];
	char *id;
	size_t i;
	tkey k, other;
	make_key(&k, 10000000);
	make_key(&other, 10000000);
	id = create_task(&k, "{\"prompt\":\"mine\",\"duration\":3}");
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/v1/videos/%s%s", id, suffixes[i]);
		call(&r, i == 0 ? "GET" : "POST", path, &other, NULL, NULL);
		assert_error(&r, 404, "task_not_found", "task_id:");
		lv_test_response_free(&r);
		snprintf(path, sizeof(path), "/v1/videos/vid_doesnotexist%s", suffixes[i]);
		call(&r, i == 0 ? "GET" : "POST", path, &k, NULL, NULL);
		assert_error(&r, 404, "task_not_found", "task_id:");
		lv_test_response_free(&r);
	}
	/* The other key's attempt to cancel changed nothing. */
	snprintf(path, sizeof(path), "/v1/videos/%s", id);
	ck_assert_int_eq(call(&r, "GET", path, &k, NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"status\":\"queued\""));
	lv_test_response_free(&r);
	free(id);
	assert_ledger();
}
END_TEST

START_TEST(cancel_refunds_a_queued_task_and_is_idempotent)
{
	lv_test_response r;
	credits c;
	char path[160], *first;
	cJSON *j;
	char *id;
	tkey k;
	make_key(&k, 5000000);
	id = create_task(&k, "{\"prompt\":\"cancel me\",\"duration\":60}");
	c = http_credits(&k);
	ck_assert(c.balance == 5000 - 1650 && c.reserved == 1650);
	snprintf(path, sizeof(path), "/v1/videos/%s/cancel", id);
	/* Cancel takes no fields. */
	call(&r, "POST", path, &k, "{\"reason\":\"x\"}", NULL);
	assert_error(&r, 400, "invalid_request", "body:");
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "POST", path, &k, "{}", NULL), 200);
	assert_common_headers(&r);
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "status"), "canceled");
	ck_assert(jnum(j, "cost_actual") == 0);
	ck_assert_ptr_nonnull(jstr(j, "completed_at"));
	cJSON_Delete(j);
	first = lv_strdup(r.body);
	lv_test_response_free(&r);
	c = http_credits(&k);
	ck_assert(c.balance == 5000 && c.reserved == 0);
	/* Again: 200, unchanged. */
	ck_assert_int_eq(call(&r, "POST", path, &k, NULL, NULL), 200);
	ck_assert_str_eq(r.body, first);
	lv_test_response_free(&r);
	c = http_credits(&k);
	ck_assert(c.balance == 5000 && c.reserved == 0);
	free(first);
	free(id);
	assert_ledger();
}
END_TEST

/* ---- compose ----------------------------------------------------------------------------------- */

typedef struct seg_ctx {
	lv_engine *e;
	const char *task_id;
	const int *ready;
	size_t n_ready;
	int fail; /* finish the task as failed (settling the ready segments) */
} seg_ctx;

/* What the pipeline would persist: some segments ready, then (optionally) the task failed. */
static int mark_segments_tx(lv_store_tx *tx, void *p)
{
	seg_ctx *c = p;
	const lv_store_ops *ops = c->e->store->ops;
	lv_segment_rec *segs = NULL;
	lv_task_rec t;
	size_t n = 0, i;
	int rc;
	memset(&t, 0, sizeof(t));
	if ((rc = ops->task_get(tx, c->task_id, 1, &t)))
		return rc;
	if ((rc = ops->segment_list(tx, c->task_id, &segs, &n)))
		goto out;
	for (i = 0; i < c->n_ready; i++) {
		lv_segment_rec *s = &segs[c->ready[i]];
		s->status = LV_SEG_READY;
		if ((rc = lv_strset(&s->output, "segments/seg.mp4")) || (rc = ops->segment_update(tx, s)))
			goto out;
	}
	if (c->fail) {
		t.shots_done = (int)c->n_ready;
		t.error_stage = LV_TASK_GENERATING;
		t.error_shot = 1;
		if ((rc = lv_strset(&t.error_code, "segment_failed")) ||
		    (rc = lv_strset(&t.error_message, "shot 1 could not be generated")))
			goto out;
		rc = lv_task_finish(c->e, tx, &t, LV_TASK_FAILED, lv_segments_ready_price(segs, n), lv_now_ms());
	}
out:
	lv_segment_recs_free(segs, n);
	lv_task_rec_clear(&t);
	return rc;
}

static void mark_segments(const char *task_id, const int *ready, size_t n_ready, int fail)
{
	seg_ctx c = { g_engine, task_id, ready, n_ready, fail };
	ck_assert_msg(lv_engine_tx(g_engine, 1, mark_segments_tx, &c) == LV_OK, "%s", lv_error_last()->message);
}

START_TEST(compose_preconditions_and_success)
{
	static const int first[] = { 0 }, rest[] = { 1, 2 };
	lv_test_response r;
	char path[160];
	cJSON *j, *missing;
	credits c;
	char *queued, *canceled, *failed;
	tkey k;
	make_key(&k, 10000000);

	/* Still queued: not composable. */
	queued = create_task(&k, "{\"prompt\":\"still waiting\",\"duration\":10}");
	snprintf(path, sizeof(path), "/v1/videos/%s/compose", queued);
	call(&r, "POST", path, &k, NULL, NULL);
	assert_error(&r, 409, "not_composable", NULL);
	lv_test_response_free(&r);

	/* Canceled while queued: nothing was ever generated. */
	canceled = create_task(&k, "{\"prompt\":\"never ran\",\"duration\":10}");
	snprintf(path, sizeof(path), "/v1/videos/%s/cancel", canceled);
	ck_assert_int_eq(call(&r, "POST", path, &k, NULL, NULL), 200);
	lv_test_response_free(&r);
	snprintf(path, sizeof(path), "/v1/videos/%s/compose", canceled);
	call(&r, "POST", path, &k, "{}", NULL);
	assert_error(&r, 409, "no_segments", NULL);
	lv_test_response_free(&r);

	/* Failed with shot 0 ready and shots 1, 2 not: segments_not_ready with details.missing. */
	failed = create_task(&k, "{\"prompt\":\"half done\",\"duration\":17}");
	mark_segments(failed, first, 1, 1);
	c = http_credits(&k);
	ck_assert(c.reserved == 275 + 0); /* the queued 10 s task only; the failed one settled 6 s = 165 */
	ck_assert(c.balance == 10000 - 275 - 165);
	snprintf(path, sizeof(path), "/v1/videos/%s/compose", failed);
	call(&r, "POST", path, &k, NULL, NULL);
	assert_error(&r, 409, "segments_not_ready", NULL);
	j = json_of(&r);
	missing = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "error"), "details"), "missing");
	ck_assert_int_eq(cJSON_GetArraySize(missing), 2);
	ck_assert_int_eq(cJSON_GetArrayItem(missing, 0)->valueint, 1);
	ck_assert_int_eq(cJSON_GetArrayItem(missing, 1)->valueint, 2);
	cJSON_Delete(j);
	lv_test_response_free(&r);

	/* Once every segment is ready: 202 composing, with the new choices; nothing charged. */
	mark_segments(failed, rest, 2, 0);
	call(&r, "POST", path, &k, "{\"subtitles\":\"wide\"}", NULL);
	assert_error(&r, 400, "invalid_request", "subtitles:");
	lv_test_response_free(&r);
	call(&r, "POST", path, &k, "{\"speed\":2}", NULL);
	assert_error(&r, 400, "invalid_request", "speed:");
	lv_test_response_free(&r);
	call(&r, "POST", path, &k, "{\"music\":", NULL);
	assert_error(&r, 400, "invalid_request", "body:");
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "POST", path, &k, "{\"subtitles\":\"burn\",\"music\":false}", NULL), 202);
	assert_common_headers(&r);
	j = json_of(&r);
	ck_assert_str_eq(jstr(j, "status"), "composing");
	ck_assert_str_eq(jstr(j, "subtitles"), "burn");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "music")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "error")));
	cJSON_Delete(j);
	lv_test_response_free(&r);
	c = http_credits(&k);
	ck_assert(c.balance == 10000 - 275 - 165 && c.reserved == 275);
	/* Composing is running again: a second compose is not allowed. */
	call(&r, "POST", path, &k, NULL, NULL);
	assert_error(&r, 409, "not_composable", NULL);
	lv_test_response_free(&r);
	free(queued);
	free(canceled);
	free(failed);
	assert_ledger();
}
END_TEST

/* ---- body limit ---------------------------------------------------------------------------------- */

static int raw_connect(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_send(int fd, const char *text)
{
	ck_assert_int_eq(send(fd, text, strlen(text), 0), (ssize_t)strlen(text));
}

/* Read into out (appending at *len) until `until` appears (NULL: until the server closes the
 * connection), or 10 s pass.  Sets *closed when the server closed the connection. */
static void raw_read(int fd, char *out, size_t cap, size_t *len, const char *until, int *closed)
{
	*closed = 0;
	while (!(until && strstr(out, until))) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;
		if (*len == cap - 1 || poll(&p, 1, 10000) <= 0)
			break;
		n = recv(fd, out + *len, cap - 1 - *len, 0);
		if (n <= 0) {
			*closed = 1;
			break;
		}
		*len += (size_t)n;
		out[*len] = '\0';
	}
}

/* Send raw bytes on a new connection and read until the server closes it (or 10 s pass). */
static size_t raw_exchange(int port, const char *request, char *out, size_t cap, int *closed)
{
	size_t len = 0;
	int fd = raw_connect(port);
	out[0] = '\0';
	raw_send(fd, request);
	raw_read(fd, out, cap, &len, NULL, closed);
	close(fd);
	return len;
}

START_TEST(expect_continue_and_malformed_requests)
{
	const char *body = "{\"prompt\":\"after 100 Continue\",\"duration\":3}";
	char request[512], response[4096];
	size_t len = 0;
	int fd, closed;
	tkey k;
	make_key(&k, 10000000);
	/* The server asks for the body of an acceptable request with "100 Continue". */
	snprintf(request, sizeof(request),
	         "POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
	         "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
	         k.secret, strlen(body));
	fd = raw_connect(g_srv.port);
	response[0] = '\0';
	raw_send(fd, request);
	raw_read(fd, response, sizeof(response), &len, "\r\n\r\n", &closed);
	ck_assert_msg(!strncmp(response, "HTTP/1.1 100 Continue\r\n\r\n", 25), "%s", response);
	ck_assert_uint_eq(len, 25);
	raw_send(fd, body);
	raw_read(fd, response, sizeof(response), &len, "\"cost_estimate\"", &closed);
	ck_assert_msg(strstr(response, "HTTP/1.1 202 ") != NULL, "%s", response);
	close(fd);
	ck_assert_int_eq(list_count(&k, NULL), 1);

	/* What civetweb rejects before routing is still a JSON error, and the connection closes. */
	raw_exchange(g_srv.port, "GARBAGE\r\n\r\n", response, sizeof(response), &closed);
	ck_assert_msg(!strncmp(response + 9, "400 ", 4), "%s", response);
	ck_assert_ptr_nonnull(strstr(response, "application/json; charset=utf-8"));
	ck_assert_ptr_nonnull(strstr(response, "{\"error\":{\"code\":\"invalid_request\",\"message\":\"request: "));
	ck_assert(closed);
	raw_exchange(g_srv.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", response,
	             sizeof(response), &closed);
	ck_assert_msg(!strncmp(response + 9, "400 ", 4), "%s", response);
	ck_assert_ptr_nonnull(strstr(response, "\"code\":\"invalid_request\""));
	assert_ledger();
}
END_TEST

START_TEST(oversized_bodies_are_413)
{
	char request[512], response[4096], *big, *body;
	lv_test_response r;
	size_t n;
	int closed;
	tkey k;
	make_key(&k, 10000000);

	/* A Content-Length above the limit is answered at once, without reading the body: the client
	 * has sent only a few bytes of the 10 GB it announced, and the connection is closed. */
	snprintf(request, sizeof(request),
	         "POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
	         "Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{\"prompt\":",
	         k.secret);
	n = raw_exchange(g_srv.port, request, response, sizeof(response), &closed);
	ck_assert_uint_gt(n, 0);
	ck_assert_msg(!strncmp(response, "HTTP/1.1 413 ", 13), "%s", response);
	ck_assert_ptr_nonnull(strstr(response, "\"code\":\"request_too_large\""));
	ck_assert_ptr_nonnull(strstr(response, "Connection: close"));
	ck_assert_ptr_nonnull(strstr(response, "X-Request-Id: req_"));
	ck_assert_msg(closed, "the server kept the connection open");

	/* Just above the limit, with Expect: 100-continue: 413 before any of it is sent. */
	{
		const char *h[3] = { "Expect: 100-continue", NULL };
		big = malloc(BODY_LIMIT + 2);
		memset(big, ' ', BODY_LIMIT + 1);
		big[BODY_LIMIT + 1] = '\0';
		call(&r, "POST", "/v1/videos", &k, big, h);
		assert_error(&r, 413, "request_too_large", "body:");
		lv_test_response_free(&r);
	}

	/* Chunked: read up to the limit, then 413. */
	{
		const char *h[2] = { "Transfer-Encoding: chunked", NULL };
		call(&r, "POST", "/v1/videos", &k, big, h);
		assert_error(&r, 413, "request_too_large", "body:");
		lv_test_response_free(&r);
		/* A chunked body under the limit is fine: a valid request padded with whitespace. */
		body = malloc(BODY_LIMIT);
		n = (size_t)snprintf(body, BODY_LIMIT, "{\"prompt\":\"chunked\",\"duration\":3}");
		memset(body + n, ' ', BODY_LIMIT - 100 - n);
		body[BODY_LIMIT - 100] = '\0';
		ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, body, h), 202);
		lv_test_response_free(&r);
		free(body);
	}
	/* Exactly at the limit with Content-Length (and Expect: 100-continue from curl): accepted. */
	body = malloc(BODY_LIMIT + 1);
	n = (size_t)snprintf(body, BODY_LIMIT + 1, "{\"prompt\":\"at the limit\",\"duration\":3}");
	memset(body + n, ' ', BODY_LIMIT - n);
	body[BODY_LIMIT] = '\0';
	ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, body, NULL), 202);
	lv_test_response_free(&r);
	free(body);
	free(big);
	ck_assert_int_eq(list_count(&k, NULL), 2);
	assert_ledger();
}
END_TEST

/* ---- connections -------------------------------------------------------------------------------- */

static size_t discard(char *data, size_t size, size_t n, void *p)
{
	(void)data;
	(void)p;
	return size * n;
}

START_TEST(keep_alive_reuses_the_connection)
{
	struct curl_slist *headers = NULL;
	char *health = url_of(&g_srv, "/healthz"), *credits_url = url_of(&g_srv, "/v1/credits"),
	     *videos = url_of(&g_srv, "/v1/videos");
	const char *body = "{\"prompt\":\"over one connection\",\"duration\":3}";
	long connects = -1, code = 0;
	CURL *c = curl_easy_init();
	tkey k;
	make_key(&k, 10000000);
	headers = curl_slist_append(headers, k.auth);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

	curl_easy_setopt(c, CURLOPT_URL, health);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
	ck_assert_int_eq(connects, 1);

	curl_easy_setopt(c, CURLOPT_URL, credits_url);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	ck_assert_int_eq(code, 200);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
	ck_assert_int_eq(connects, 0); /* reused */

	curl_easy_setopt(c, CURLOPT_URL, videos);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	ck_assert_int_eq(code, 202);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
	ck_assert_int_eq(connects, 0);

	/* An error response whose body was read also keeps the connection. */
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"prompt\":\"x\"}");
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	ck_assert_int_eq(code, 400);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
	ck_assert_int_eq(connects, 0);

	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_URL, health);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
	ck_assert_int_eq(connects, 0);

	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	free(health);
	free(credits_url);
	free(videos);
	assert_ledger();
}
END_TEST

/* ---- rate limit (server with rate_limit_per_minute = 3) ------------------------------------------------ */

START_TEST(rate_limit_per_key_with_retry_after)
{
	lv_test_response r;
	char retry[16];
	int i;
	tkey k, other;
	make_key(&k, 10000000);
	make_key(&other, 10000000);
	for (i = 0; i < 3; i++) {
		char policy[64], state[64], want[64];
		ck_assert_int_eq(call(&r, "GET", "/v1/credits", &k, NULL, NULL), 200);
		/* The IETF RateLimit fields: the policy, and what is left of it. */
		ck_assert_str_eq(lv_test_header(&r, "RateLimit-Policy", policy, sizeof(policy)), "\"per-key\";q=3;w=60");
		ck_assert_ptr_nonnull(lv_test_header(&r, "RateLimit", state, sizeof(state)));
		snprintf(want, sizeof(want), "\"per-key\";r=%d;t=", 2 - i);
		ck_assert_msg(!strncmp(state, want, strlen(want)), "%s", state);
		lv_test_response_free(&r);
	}
	call(&r, "POST", "/v1/videos", &k, "{\"prompt\":\"one too many\",\"duration\":3}", NULL);
	assert_error(&r, 429, "rate_limited", "rate limit:");
	{
		char state[64];
		ck_assert_ptr_nonnull(lv_test_header(&r, "RateLimit", state, sizeof(state)));
		ck_assert_msg(!strncmp(state, "\"per-key\";r=0;t=", 15), "%s", state);
	}
	ck_assert_ptr_nonnull(lv_test_header(&r, "Retry-After", retry, sizeof(retry)));
	ck_assert_int_ge(atoi(retry), 1);
	ck_assert_int_le(atoi(retry), 20); /* one token comes back every 20 s */
	lv_test_response_free(&r);
	/* Nothing was created or reserved by the refused request. */
	{
		lv_credits c;
		lv_key *key = NULL;
		ck_assert_int_eq(lv_key_lookup(&key, g_engine, k.id), LV_OK);
		ck_assert_int_eq(lv_key_credits(&c, g_engine, key), LV_OK);
		ck_assert(c.reserved == 0 && c.balance == 10000000);
		lv_key_free(key);
	}
	/* Another key has its own bucket; health checks are not limited. */
	ck_assert_int_eq(call(&r, "GET", "/v1/videos", &other, NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"data\":[]"));
	lv_test_response_free(&r);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(call(&r, "GET", "/healthz", NULL, NULL, NULL), 200);
		lv_test_response_free(&r);
	}
	call(&r, "GET", "/v1/credits", &k, NULL, NULL);
	assert_error(&r, 429, "rate_limited", NULL);
	lv_test_response_free(&r);
	assert_ledger();
}
END_TEST

/* ---- HTTP edges: CORS, HEAD, request ids, metrics, early answers ---------------------------------------------- */

static int count_header(const char *head, const char *name)
{
	size_t n = strlen(name);
	int count = 0;
	const char *p = head;
	while ((p = strchr(p, '\n'))) {
		p++;
		if (!strncasecmp(p, name, n) && p[n] == ':')
			count++;
	}
	return count;
}

START_TEST(cors_for_configured_origins_only)
{
	const char *ok_origin[] = { "Origin: https://app.example", NULL };
	const char *bad_origin[] = { "Origin: https://evil.example", NULL };
	const char *preflight[] = { "Origin: https://app.example", "Access-Control-Request-Method: POST",
		                    "Access-Control-Request-Headers: authorization, content-type", NULL };
	const char *preflight_bad_method[] = { "Origin: https://app.example", "Access-Control-Request-Method: DELETE",
		                               NULL };
	lv_test_response r;
	char buf[256];
	tkey k;
	make_key(&k, 10000000);
	/* A configured origin: the header once, on success and on errors alike. */
	ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, "{\"prompt\":\"from a page\",\"duration\":3}", ok_origin),
	                 202);
	ck_assert_int_eq(count_header(r.headers, "Access-Control-Allow-Origin"), 1);
	ck_assert_str_eq(lv_test_header(&r, "Access-Control-Allow-Origin", buf, sizeof(buf)), "https://app.example");
	ck_assert_ptr_nonnull(strstr(lv_test_header(&r, "Access-Control-Expose-Headers", buf, sizeof(buf)), "Location"));
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, "{\"duration\":3}", ok_origin), 400);
	ck_assert_int_eq(count_header(r.headers, "Access-Control-Allow-Origin"), 1);
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "GET", "/v1/credits", NULL, NULL, ok_origin), 401);
	ck_assert_int_eq(count_header(r.headers, "Access-Control-Allow-Origin"), 1);
	lv_test_response_free(&r);
	/* Health checks too (answered by the edge on a new connection). */
	ck_assert_int_eq(call(&r, "GET", "/healthz", NULL, NULL, ok_origin), 200);
	ck_assert_int_eq(count_header(r.headers, "Access-Control-Allow-Origin"), 1);
	lv_test_response_free(&r);
	{
		/* And the edge's own refusals: a request without Host, on a raw connection. */
		char reply[2048];
		size_t len = 0;
		int fd = raw_connect(g_srv.port), closed;
		reply[0] = '\0';
		raw_send(fd, "GET /v1/credits HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n");
		raw_read(fd, reply, sizeof(reply), &len, NULL, &closed);
		close(fd);
		ck_assert_msg(strstr(reply, "HTTP/1.1 400") && strstr(reply, "Access-Control-Allow-Origin: https://app.example"),
		              "%s", reply);
	}
	/* Any other origin: none. */
	ck_assert_int_eq(call(&r, "GET", "/v1/credits", &k, NULL, bad_origin), 200);
	ck_assert_int_eq(count_header(r.headers, "Access-Control-Allow-Origin"), 0);
	lv_test_response_free(&r);
	/* Preflight: for a real route and method only. */
	ck_assert_int_eq(call(&r, "OPTIONS", "/v1/videos", NULL, NULL, preflight), 204);
	ck_assert_str_eq(lv_test_header(&r, "Access-Control-Allow-Origin", buf, sizeof(buf)), "https://app.example");
	ck_assert_ptr_nonnull(strstr(lv_test_header(&r, "Access-Control-Allow-Methods", buf, sizeof(buf)), "POST"));
	ck_assert_ptr_nonnull(strstr(lv_test_header(&r, "Access-Control-Allow-Headers", buf, sizeof(buf)), "Authorization"));
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "OPTIONS", "/nope", NULL, NULL, preflight), 404);
	ck_assert_ptr_null(lv_test_header(&r, "Access-Control-Allow-Methods", buf, sizeof(buf)));
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "OPTIONS", "/v1/videos", NULL, NULL, preflight_bad_method), 405);
	ck_assert_str_eq(lv_test_header(&r, "Allow", buf, sizeof(buf)), "GET, HEAD, POST, OPTIONS");
	lv_test_response_free(&r);
	/* The OpenAPI document: no key, CORS like the rest of the API. */
	ck_assert_int_eq(call(&r, "GET", "/v1/openapi.json", NULL, NULL, ok_origin), 200);
	ck_assert_str_eq(lv_test_header(&r, "Access-Control-Allow-Origin", buf, sizeof(buf)), "https://app.example");
	lv_test_response_free(&r);
	/* A preflight from another origin is answered without CORS approval. */
	{
		const char *other[] = { "Origin: https://evil.example", "Access-Control-Request-Method: POST", NULL };
		ck_assert_int_eq(call(&r, "OPTIONS", "/v1/videos", NULL, NULL, other), 204);
		ck_assert_ptr_null(lv_test_header(&r, "Access-Control-Allow-Origin", buf, sizeof(buf)));
		ck_assert_ptr_null(lv_test_header(&r, "Access-Control-Allow-Methods", buf, sizeof(buf)));
		lv_test_response_free(&r);
	}
}
END_TEST

START_TEST(head_request_ids_metrics_and_readyz)
{
	const char *mine[] = { "X-Request-Id: client-trace.42", NULL };
	const char *bad[] = { "X-Request-Id: no spaces allowed", NULL };
	lv_test_response r;
	char buf[128];
	tkey k;
	make_key(&k, 10000000);
	ck_assert_int_eq(call(&r, "POST", "/v1/videos", &k, "{\"prompt\":\"counted\",\"duration\":3}", NULL), 202);
	lv_test_response_free(&r);
	/* HEAD on GET routes: the GET's status and headers, no body. */
	ck_assert_int_eq(call(&r, "HEAD", "/v1/credits", &k, NULL, NULL), 200);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_int_gt(atoi(lv_test_header(&r, "Content-Length", buf, sizeof(buf))), 10);
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "HEAD", "/v1/videos", &k, NULL, NULL), 200);
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "HEAD", "/v1/videos/vid_nothere", &k, NULL, NULL), 404);
	ck_assert_uint_eq(r.body_len, 0);
	lv_test_response_free(&r);
	/* A client's request id is used and echoed; a malformed one is replaced. */
	ck_assert_int_eq(call(&r, "GET", "/v1/credits", &k, NULL, mine), 200);
	ck_assert_str_eq(lv_test_header(&r, "X-Request-Id", buf, sizeof(buf)), "client-trace.42");
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "GET", "/healthz", NULL, NULL, mine), 200);
	ck_assert_str_eq(lv_test_header(&r, "X-Request-Id", buf, sizeof(buf)), "client-trace.42");
	lv_test_response_free(&r);
	ck_assert_int_eq(call(&r, "GET", "/v1/credits", &k, NULL, bad), 200);
	ck_assert_int_eq(strncmp(lv_test_header(&r, "X-Request-Id", buf, sizeof(buf)), "req_", 4), 0);
	lv_test_response_free(&r);
	/* /readyz: the store answered. */
	ck_assert_int_eq(call(&r, "GET", "/readyz", NULL, NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"status\":\"ready\""));
	lv_test_response_free(&r);
	/* /metrics: Prometheus text with the counters of what was just served. */
	ck_assert_int_eq(call(&r, "GET", "/metrics", NULL, NULL, NULL), 200);
	ck_assert_ptr_nonnull(strstr(lv_test_header(&r, "Content-Type", buf, sizeof(buf)), "text/plain; version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(r.body, "# TYPE lvserver_http_requests_total counter"));
	ck_assert_ptr_nonnull(strstr(r.body, "lvserver_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
	ck_assert_ptr_nonnull(strstr(r.body, "lvserver_connections_open "));
	{
		const char *p = strstr(r.body, "lvserver_http_requests_total{code=\"2xx\"} ");
		ck_assert_ptr_nonnull(p);
		ck_assert_int_ge(atoi(p + strlen("lvserver_http_requests_total{code=\"2xx\"} ")), 3);
		ck_assert_ptr_nonnull(strstr(r.body, "lvserver_probes_total "));
		/* Store-wide counts: the test's tasks are in it (other tests of this case made some). */
		ck_assert_ptr_nonnull(strstr(r.body, "# TYPE longvideo_tasks gauge"));
		ck_assert_ptr_nonnull(strstr(r.body, "longvideo_tasks{status=\"canceled\"} "));
		ck_assert_ptr_nonnull(strstr(r.body, "longvideo_webhooks{outcome=\"delivered\"} "));
		ck_assert_ptr_nonnull(strstr(r.body, "longvideo_queue_depth "));
		{
			/* This test's task is counted, whatever status it has reached. */
			long long sum = 0;
			for (p = strstr(r.body, "\nlongvideo_tasks{"); p; p = strstr(p + 1, "\nlongvideo_tasks{"))
				sum += atoll(strchr(p, '}') + 2);
			ck_assert_int_ge(sum, 1);
		}
		/* The pipeline's metrics are declared even before any stage ran here (this server has no
		 * workers), and the credit totals include this test's key (10000 granted, and a reservation
		 * held by its queued task). */
		ck_assert_ptr_nonnull(strstr(r.body, "# TYPE longvideo_stage_duration_seconds histogram\n"));
		ck_assert_ptr_nonnull(strstr(r.body, "longvideo_stage_duration_seconds_count{stage=\"composing\"} "));
		ck_assert_ptr_nonnull(strstr(r.body, "# TYPE longvideo_provider_calls_total counter\n"));
		ck_assert_ptr_nonnull(strstr(r.body, "# TYPE longvideo_credits gauge\n"));
		p = strstr(r.body, "\nlongvideo_credits{kind=\"granted\"} ");
		ck_assert_ptr_nonnull(p);
		ck_assert_double_ge(strtod(strchr(p, '}') + 2, NULL), 10000);
		p = strstr(r.body, "\nlongvideo_credits{kind=\"reserved\"} ");
		ck_assert_ptr_nonnull(p);
		ck_assert_double_gt(strtod(strchr(p, '}') + 2, NULL), 0);
	}
	lv_test_response_free(&r);
}
END_TEST

START_TEST(sighup_reopens_the_log_file)
{
	char *dir = lv_test_mkdtemp("http-hup"), *log_file, *rotated, *log = NULL, flag[512];
	const char *extra[3];
	lv_test_server srv;
	lv_test_response r;
	size_t len;
	int status;
	ck_assert_ptr_nonnull(dir);
	setenv("LV_LOG_LEVEL", "info", 1);
	log_file = lv_path_join(dir, "lvserver-file.log");
	rotated = lv_path_join(dir, "lvserver-file.log.1");
	snprintf(flag, sizeof(flag), "--log-file=%s", log_file);
	extra[0] = flag;
	extra[1] = NULL;
	ck_assert_int_eq(lv_test_server_start(&srv, dir, NULL, extra), 0);
	ck_assert_int_eq(call_on(&srv, &r, "GET", "/v1/credits", NULL, NULL, NULL), 401);
	lv_test_response_free(&r);
	/* The access log line is written after the response has gone out: wait for it before rotating. */
	for (status = 0; status < 500; status++) {
		int seen;
		if (lv_file_read(&log, &len, log_file) != 0)
			break;
		seen = strstr(log, "GET /v1/credits 401") != NULL;
		free(log);
		log = NULL;
		if (seen)
			break;
		usleep(10000);
	}
	/* A log rotation: move the file away, SIGHUP; the server keeps running, logging to a new file. */
	ck_assert_int_eq(rename(log_file, rotated), 0);
	ck_assert_int_eq(kill(srv.pid, SIGHUP), 0);
	for (len = 0; len < 200 && access(log_file, F_OK) != 0; len++)
		usleep(10000);
	ck_assert_int_eq(call_on(&srv, &r, "GET", "/v1/credits", NULL, NULL, NULL), 401);
	lv_test_response_free(&r);
	status = lv_test_server_stop(&srv);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	ck_assert_int_eq(lv_file_read(&log, &len, rotated), 0);
	ck_assert_ptr_nonnull(strstr(log, "GET /v1/credits 401"));
	ck_assert_ptr_null(strstr(log, "received SIGTERM"));
	free(log);
	ck_assert_int_eq(lv_file_read(&log, &len, log_file), 0);
	ck_assert_ptr_nonnull(strstr(log, "reopened"));
	ck_assert_ptr_nonnull(strstr(log, "GET /v1/credits 401"));
	ck_assert_ptr_nonnull(strstr(log, "received SIGTERM"));
	free(log);
	free(log_file);
	free(rotated);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- process: flags, startup line, SIGTERM --------------------------------------------------------------- */

START_TEST(sigterm_stops_cleanly_and_startup_is_logged)
{
	const char *extra[] = { "--workers", "3", NULL };
	char *dir = lv_test_mkdtemp("http-proc"), *log = NULL, *log_path, expect[128], rid[64];
	lv_test_server srv;
	lv_test_response r;
	size_t len;
	int status;
	ck_assert_ptr_nonnull(dir);
	setenv("LV_LOG_LEVEL", "info", 1);
	ck_assert_int_eq(lv_test_server_start(&srv, dir, NULL, extra), 0);
	log_path = lv_strdup(srv.log_path);
	ck_assert_int_eq(call_on(&srv, &r, "GET", "/healthz", NULL, NULL, NULL), 200);
	ck_assert_ptr_nonnull(lv_test_header(&r, "X-Request-Id", rid, sizeof(rid)));
	lv_test_response_free(&r);
	status = lv_test_server_stop(&srv);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	ck_assert_int_eq(lv_file_read(&log, &len, log_path), 0);
	snprintf(expect, sizeof(expect), "lvserver %s listening on http://127.0.0.1:%d (workers: 3, store: sqlite:",
	         LV_VERSION, srv.port);
	ck_assert_msg(strstr(log, expect) != NULL, "no startup line in: %s", log);
	snprintf(expect, sizeof(expect), "public URL http://127.0.0.1:%d", srv.port);
	ck_assert_msg(strstr(log, expect) != NULL, "public URL not derived from the bound port: %s", log);
	ck_assert_ptr_nonnull(strstr(log, "3 pipeline thread(s)")); /* the workers really started */
	ck_assert_ptr_nonnull(strstr(log, rid)); /* the access log names the request id */
	ck_assert_ptr_nonnull(strstr(log, "received SIGTERM"));
	free(log);
	free(log_path);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(bad_flags_and_config_exit_with_a_message)
{
	char *dir = lv_test_mkdtemp("http-flags"), *bad_config, *bad_json, port_arg[64];
	lv_test_run run;
	ck_assert_ptr_nonnull(dir);
	bad_config = lv_test_write_file(dir, "typo.json", "{\"server\": {\"listn\": \"127.0.0.1:1\"}}");
	bad_json = lv_test_write_file(dir, "broken.json", "{\"server\": ");
	{
		const char *argv[] = { "--version", NULL };
		ck_assert_int_eq(lv_test_exec(&run, "lvserver", argv, NULL, NULL), 0);
		ck_assert_int_eq(run.exit_code, 0);
		ck_assert_ptr_nonnull(strstr(run.out, "lvserver " LV_VERSION));
		lv_test_run_free(&run);
	}
	{
		const char *argv[] = { "--help", NULL };
		ck_assert_int_eq(lv_test_exec(&run, "lvserver", argv, NULL, NULL), 0);
		ck_assert_int_eq(run.exit_code, 0);
		ck_assert_ptr_nonnull(strstr(run.out, "--port-file"));
		lv_test_run_free(&run);
	}
	{
		const char *argv[] = { "--bogus", NULL };
		ck_assert_int_eq(lv_test_exec(&run, "lvserver", argv, NULL, NULL), 0);
		ck_assert_int_eq(run.exit_code, 2);
		ck_assert_ptr_nonnull(strstr(run.err, "--bogus"));
		lv_test_run_free(&run);
	}
	{
		const char *argv[] = { "--data-dir", dir, "--workers", "many", NULL };
		ck_assert_int_eq(lv_test_exec(&run, "lvserver", argv, NULL, NULL), 0);
		ck_assert_int_eq(run.exit_code, 2);
		ck_assert_ptr_nonnull(strstr(run.err, "--workers"));
		lv_test_run_free(&run);
	}
	{
		const char *argv[] = { "--data-dir", dir, "--listen", NULL };
		ck_assert_int_eq(lv_test_exec(&run, "lvserver", argv, NULL, NULL), 0);
		ck_assert_int_eq(run.exit_code, 2);
		ck_assert_ptr_nonnull(strstr(run.err, "--listen"));
		lv_test_run_free(&run);
	}
	{
		const char *argv[] = { "--data-dir", dir, "--config", bad_config, NULL };
		ck_assert_int_eq(lv_test_exec(&run, "lvserver", argv, NULL, NULL), 0);
		ck_assert_int_eq(run.exit_code, 1);
		ck_assert_msg(strstr(run.err, "listn") != NULL, "%s", run.err);
		lv_test_run_free(&run);
	}
	{
		const char *argv[] = { "--data-dir", dir, "--config", bad_json, NULL };
		ck_assert_int_eq(lv_test_exec(&run, "lvserver", argv, NULL, NULL), 0);
		ck_assert_int_eq(run.exit_code, 1);
		ck_assert_msg(strstr(run.err, "broken.json") != NULL, "%s", run.err);
		lv_test_run_free(&run);
	}
	{
		/* The main server's port is taken. */
		const char *argv[] = { "--data-dir", dir, "--listen", port_arg, NULL };
		snprintf(port_arg, sizeof(port_arg), "127.0.0.1:%d", g_srv.port);
		ck_assert_int_eq(lv_test_exec(&run, "lvserver", argv, NULL, NULL), 0);
		ck_assert_int_eq(run.exit_code, 1);
		ck_assert_msg(strstr(run.err, "cannot listen on") != NULL, "%s", run.err);
		lv_test_run_free(&run);
	}
	free(bad_config);
	free(bad_json);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *api = tcase_create("api"), *limited = tcase_create("rate_limit"), *proc = tcase_create("process");

	tcase_add_unchecked_fixture(api, main_server_up, server_down);
	tcase_add_checked_fixture(api, engine_open, engine_close);
	tcase_set_timeout(api, 120);
	tcase_add_test(api, created_key_has_its_stored_id_and_secrets);
	tcase_add_test(api, healthz_needs_no_key);
	tcase_add_test(api, openapi_document_is_served);
	tcase_add_test(api, unknown_route_and_wrong_method);
	tcase_add_test(api, auth_failures_are_401_with_challenge);
	tcase_add_test(api, create_returns_the_task_and_reserves_its_estimate);
	tcase_add_test(api, create_validation_names_the_field);
	tcase_add_test(api, insufficient_credits_creates_and_charges_nothing);
	tcase_add_test(api, idempotency_replays_and_rejects_a_different_body);
	tcase_add_test(api, concurrent_duplicates_create_one_task);
	tcase_add_test(api, list_pages_newest_first);
	tcase_add_test(api, other_keys_tasks_are_not_found);
	tcase_add_test(api, cancel_refunds_a_queued_task_and_is_idempotent);
	tcase_add_test(api, compose_preconditions_and_success);
	tcase_add_test(api, oversized_bodies_are_413);
	tcase_add_test(api, expect_continue_and_malformed_requests);
	tcase_add_test(api, keep_alive_reuses_the_connection);
	tcase_add_test(api, cors_for_configured_origins_only);
	tcase_add_test(api, head_request_ids_metrics_and_readyz);
	tcase_add_test(api, bad_flags_and_config_exit_with_a_message);
	suite_add_tcase(s, api);

	tcase_add_unchecked_fixture(limited, limited_server_up, server_down);
	tcase_add_checked_fixture(limited, engine_open, engine_close);
	tcase_add_test(limited, rate_limit_per_key_with_retry_after);
	suite_add_tcase(s, limited);

	tcase_add_test(proc, sigterm_stops_cleanly_and_startup_is_logged);
	tcase_add_test(proc, sighup_reopens_the_log_file);
	suite_add_tcase(s, proc);
	return s;
}

int main(void)
{
	int rc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = lv_test_run_suite(http_suite());
	curl_global_cleanup();
	return rc;
}
