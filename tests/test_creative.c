/* Creative control over HTTP: the ledger listing, storyboard review (edit, approve, timeout, cancel),
 * regenerating one shot, with the ledger invariant checked after each. */
#include "testutil.h"
#include "harness.h"
#include "longvideo.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir, *config, *key_secret, *other_secret;

static void setup_with(const char *config_json)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	lv_key *k = NULL, *k2 = NULL;
	dir = lv_test_mkdtemp("creative");
	config = lv_test_write_file(dir, "config.json", config_json);
	o.data_dir = dir;
	o.config_path = config;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_OK);
	ck_assert_int_eq(lv_key_create(&k, e, "app", 1000000), LV_OK); /* 1000 credits */
	ck_assert_int_eq(lv_key_create(&k2, e, "other", 1000000), LV_OK);
	key_secret = lv_strdup(lv_key_secret(k));
	other_secret = lv_strdup(lv_key_secret(k2));
	lv_key_free(k);
	lv_key_free(k2);
	lv_engine_close(e);
}

static void setup(void)
{
	setup_with("{\"pipeline\":{\"lease_seconds\":2},"
	           "\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":300}}}");
}

static void teardown(void)
{
	lv_test_rmdir(dir);
	free(dir);
	free(config);
	free(key_secret);
	free(other_secret);
}

/* The ledger invariant over the whole store, read by a separate engine (as an auditor would). */
static void assert_ledger_ok(void)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	char *report = NULL;
	int rc;
	o.data_dir = dir;
	o.config_path = config;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_OK);
	rc = lv_ledger_verify(e, &report);
	ck_assert_msg(rc == LV_OK, "ledger: %s", report ? report : lv_error_last()->message);
	lv_free(report);
	lv_engine_close(e);
}

static cJSON *callv(const lv_test_server *s, const char *method, const char *secret, const char *body, long want,
                    const char *fmt, ...)
{
	char auth[128], path[512], *u;
	const char *h[] = { auth, "Content-Type: application/json", NULL };
	lv_test_response r;
	va_list ap;
	cJSON *j;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	u = lv_asprintf("%s%s", s->base_url, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", secret ? secret : "none");
	ck_assert_int_eq(lv_test_http(&r, method, u, secret ? h : h + 1, body, body ? strlen(body) : 0), 0);
	ck_assert_msg(r.status == want, "%s %s: %ld %s", method, path, r.status, r.body);
	j = cJSON_Parse(r.body);
	ck_assert_ptr_nonnull(j);
	lv_test_response_free(&r);
	free(u);
	return j;
}

/* An error answer with this code whose message starts with `field` (if given). */
static void expect_error(const lv_test_server *s, const char *method, const char *secret, const char *body,
                         long want, const char *code, const char *field, const char *path)
{
	cJSON *j = callv(s, method, secret, body, want, "%s", path);
	const cJSON *e = cJSON_GetObjectItem(j, "error");
	ck_assert_str_eq(lv_json_get_str(e, "code"), code);
	if (field)
		ck_assert_msg(strncmp(lv_json_get_str(e, "message"), field, strlen(field)) == 0, "%s %s: message '%s' "
		              "does not start with '%s'", method, path, lv_json_get_str(e, "message"), field);
	cJSON_Delete(j);
}

static double num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);
	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", name);
	return v->valuedouble;
}

__attribute__((unused)) static cJSON *wait_status(const lv_test_server *s, const char *id, const char *status, int timeout_s)
{
	int64_t until = lv_mono_ms() + timeout_s * 1000LL;
	for (;;) {
		cJSON *t = callv(s, "GET", key_secret, NULL, 200, "/v1/videos/%s", id);
		if (!strcmp(lv_json_get_str(t, "status"), status))
			return t;
		ck_assert_msg(lv_mono_ms() < until, "task %s is %s, not %s, after %d s", id, lv_json_get_str(t, "status"),
		              status, timeout_s);
		cJSON_Delete(t);
		lv_sleep_ms(100);
	}
}

/* ---- the ledger ------------------------------------------------------------------------------------------ */

START_TEST(ledger_lists_the_keys_entries_newest_first_with_a_cursor)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "0", NULL };
	cJSON *t, *l, *l2;
	const cJSON *d;
	char id[64], cursor[64];
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	t = callv(&s, "POST", key_secret, "{\"prompt\":\"Fog over a harbour\",\"duration\":3}", 202, "/v1/videos");
	snprintf(id, sizeof(id), "%s", lv_json_get_str(t, "task_id"));
	cJSON_Delete(t);
	cJSON_Delete(callv(&s, "POST", key_secret, NULL, 200, "/v1/videos/%s/cancel", id));

	l = callv(&s, "GET", key_secret, NULL, 200, "/v1/credits/ledger");
	ck_assert_str_eq(lv_json_get_str(l, "object"), "list");
	d = cJSON_GetObjectItem(l, "data");
	ck_assert_int_eq(cJSON_GetArraySize(d), 3);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(d, 0), "kind"), "refund");
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(d, 1), "kind"), "reserve");
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(d, 2), "kind"), "grant");
	ck_assert(num(cJSON_GetArrayItem(d, 0), "amount") == 82.5);
	ck_assert(num(cJSON_GetArrayItem(d, 1), "amount") == 82.5);
	ck_assert(num(cJSON_GetArrayItem(d, 2), "amount") == 1000);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(d, 0), "task_id"), id);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(d, 2), "task_id")));
	ck_assert_ptr_nonnull(lv_json_get_str(cJSON_GetArrayItem(d, 0), "created_at"));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(l, "has_more")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(l, "next_cursor")));

	/* Pages of one: the cursor walks the same entries in the same order. */
	l2 = callv(&s, "GET", key_secret, NULL, 200, "/v1/credits/ledger?limit=2");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l2, "data")), 2);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(l2, "has_more")));
	snprintf(cursor, sizeof(cursor), "%s", lv_json_get_str(l2, "next_cursor"));
	ck_assert_str_eq(cursor, lv_json_get_str(cJSON_GetArrayItem(d, 1), "id"));
	cJSON_Delete(l2);
	l2 = callv(&s, "GET", key_secret, NULL, 200, "/v1/credits/ledger?limit=2&after=%s", cursor);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l2, "data")), 1);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(l2, "data"), 0), "id"),
	                 lv_json_get_str(cJSON_GetArrayItem(d, 2), "id"));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(l2, "has_more")));
	cJSON_Delete(l2);
	cJSON_Delete(l);

	/* Another key sees only its own grant. */
	l = callv(&s, "GET", other_secret, NULL, 200, "/v1/credits/ledger");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "data")), 1);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(l, "data"), 0), "kind"), "grant");
	cJSON_Delete(l);

	expect_error(&s, "GET", NULL, NULL, 401, "invalid_api_key", NULL, "/v1/credits/ledger");
	expect_error(&s, "GET", key_secret, NULL, 400, "invalid_request", "limit", "/v1/credits/ledger?limit=0");
	expect_error(&s, "GET", key_secret, NULL, 400, "invalid_request", "limit", "/v1/credits/ledger?limit=101");
	expect_error(&s, "GET", key_secret, NULL, 400, "invalid_request", "after", "/v1/credits/ledger?after=vid_x");
	expect_error(&s, "GET", key_secret, NULL, 400, "invalid_request", NULL, "/v1/credits/ledger?status=x");
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	assert_ledger_ok();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("creative");
	TCase *tc = tcase_create("creative");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, ledger_lists_the_keys_entries_newest_first_with_a_cursor);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
