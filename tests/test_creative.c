/* Creative control over HTTP: the ledger listing, storyboard review (edit, approve, timeout, cancel),
 * regenerating one shot, with the ledger invariant checked after each. */
#include "testutil.h"
#include "harness.h"
#include "core/engine.h"
#include "longvideo.h"
#include "media/image.h"
#include "util/crypto.h"
#include "util/error.h"

#include <civetweb.h>
#include <curl/curl.h>
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <pthread.h>
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
                    const char *fmt, ...) LV_PRINTF(6, 7);

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


/* ---- storyboard review ------------------------------------------------------------------------------------- */

static char *create_task(const lv_test_server *s, const char *body)
{
	cJSON *t = callv(s, "POST", key_secret, body, 202, "/v1/videos");
	char *id = lv_strdup(lv_json_get_str(t, "task_id"));
	cJSON_Delete(t);
	return id;
}

/* Poll until the status, asserting progress never goes down on the way. */
static cJSON *wait_monotonic(const lv_test_server *s, const char *id, const char *status, int timeout_s)
{
	int64_t until = lv_mono_ms() + timeout_s * 1000LL;
	int last = 0;
	for (;;) {
		cJSON *t = callv(s, "GET", key_secret, NULL, 200, "/v1/videos/%s", id);
		int p = (int)num(t, "progress");
		ck_assert_msg(p >= last, "task %s: progress went from %d to %d (%s)", id, last, p, lv_json_get_str(t, "status"));
		last = p;
		if (!strcmp(lv_json_get_str(t, "status"), status))
			return t;
		ck_assert_msg(lv_mono_ms() < until, "task %s is %s, not %s, after %d s", id, lv_json_get_str(t, "status"),
		              status, timeout_s);
		cJSON_Delete(t);
		lv_sleep_ms(100);
	}
}

static char *fetch_text(const char *url)
{
	lv_test_response r;
	char *text;
	ck_assert_int_eq(lv_test_http(&r, "GET", url, NULL, NULL, 0), 0);
	ck_assert_int_eq(r.status, 200);
	text = lv_strdup(r.body);
	lv_test_response_free(&r);
	return text;
}

static long fetch_status(const char *url)
{
	lv_test_response r;
	long st;
	ck_assert_int_eq(lv_test_http(&r, "GET", url, NULL, NULL, 0), 0);
	st = r.status;
	lv_test_response_free(&r);
	return st;
}

/* The key's ledger entries for one task, oldest first, as "reserve:687.5,settle:687.5". */
static void ledger_of(const lv_test_server *s, const char *task_id, char *out, size_t cap)
{
	cJSON *l = callv(s, "GET", key_secret, NULL, 200, "/v1/credits/ledger?limit=100");
	const cJSON *d = cJSON_GetObjectItem(l, "data");
	int i;
	out[0] = '\0';
	for (i = cJSON_GetArraySize(d) - 1; i >= 0; i--) {
		const cJSON *e = cJSON_GetArrayItem(d, i);
		const char *t = lv_json_get_str(e, "task_id");
		if (t && !strcmp(t, task_id))
			snprintf(out + strlen(out), cap - strlen(out), "%s%s:%g", out[0] ? "," : "", lv_json_get_str(e, "kind"),
			         num(e, "amount"));
	}
	cJSON_Delete(l);
}

START_TEST(review_edit_approve_regenerate_one_shot)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	cJSON *t, *t2;
	char *id, *plain, old_url[512], new_url[512], *srt, led[512], path[160];
	double first_cost;
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	/* Two shots (12 s: 6 + 6 s, 165 credits each) keep the film small; the documented session
	 * (tests/api_walkthrough.sh) makes a longer one. */
	id = create_task(&s, "{\"prompt\":\"A lighthouse keeper and her cat through one stormy night\",\"duration\":12,"
	                     "\"aspect_ratio\":\"1:1\",\"review\":true}");
	t = wait_monotonic(&s, id, "awaiting_review", 60);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "script"), "shots")), 2);
	ck_assert_int_eq((int)num(t, "shots_done"), 0);
	cJSON_Delete(t);
	/* Nothing happens while it waits. */
	lv_sleep_ms(1500);
	t = callv(&s, "GET", key_secret, NULL, 200, "/v1/videos/%s", id);
	ck_assert_str_eq(lv_json_get_str(t, "status"), "awaiting_review");
	cJSON_Delete(t);
	t = callv(&s, "GET", key_secret, NULL, 200, "/v1/videos?status=awaiting_review");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(t, "data")), 1);
	cJSON_Delete(t);
	t = callv(&s, "GET", key_secret, NULL, 200, "/v1/credits");
	ck_assert(num(t, "reserved") == 330);
	cJSON_Delete(t);

	/* Validation names the field; order 401, 404, then 400. */
	snprintf(path, sizeof(path), "/v1/videos/%s/storyboard", id);
	expect_error(&s, "PATCH", NULL, "{}", 401, "invalid_api_key", NULL, path);
	expect_error(&s, "PATCH", other_secret, "{\"bogus\":1}", 404, "task_not_found", NULL, path);
	expect_error(&s, "PATCH", key_secret, "{\"bogus\":1}", 400, "invalid_request", "bogus", path);
	expect_error(&s, "PATCH", key_secret, "{\"shots\":[{\"index\":2,\"visual\":\"x\"}]}", 400, "invalid_request",
	             "shots[0].index", path);
	expect_error(&s, "PATCH", key_secret, "{\"shots\":[{\"index\":1,\"duration\":9}]}", 400, "invalid_request",
	             "shots[0].duration", path);
	expect_error(&s, "PATCH", key_secret, "{\"shots\":[{\"index\":0},{\"index\":1,\"color\":\"red\"}]}", 400,
	             "invalid_request", "shots[1].color", path);
	expect_error(&s, "PATCH", key_secret, "{\"shots\":[{\"index\":0},{\"index\":0}]}", 400, "invalid_request",
	             "shots[1].index", path);
	expect_error(&s, "PATCH", key_secret,
	             "{\"shots\":[{\"index\":1,\"narration\":\"This narration is far too long to be spoken in six seconds "
	             "because it keeps going on and on about the storm, the sea, the lamp and the cat.\"}]}",
	             400, "invalid_request", "shots[0].narration", path);
	expect_error(&s, "PATCH", key_secret, "{\"characters\":[{\"name\":\"Nobody Here\",\"description\":\"x\"}]}", 400,
	             "invalid_request", "characters[0].name", path);
	expect_error(&s, "PATCH", key_secret, "{\"shots\":[{\"index\":0,\"characters\":[\"Nobody Here\"]}]}", 400,
	             "invalid_request", "shots[0].characters[0]", path);
	expect_error(&s, "PATCH", key_secret, "[1]", 400, "invalid_request", "body", path);

	/* Two narrations and one visual change; the answer is the detail view with the script. */
	t = callv(&s, "PATCH", key_secret,
	          "{\"shots\":[{\"index\":0,\"narration\":\"The keeper lights the lamp.\"},"
	          "{\"index\":1,\"narration\":\"The cat watches the waves.\","
	          "\"visual\":\"A red kite caught on the lighthouse rail\"}]}",
	          200, "%s", path);
	ck_assert_str_eq(lv_json_get_str(t, "status"), "awaiting_review");
	{
		const cJSON *shots = cJSON_GetObjectItem(cJSON_GetObjectItem(t, "script"), "shots");
		ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(shots, 0), "narration"), "The keeper lights the lamp.");
		ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(shots, 1), "narration"), "The cat watches the waves.");
		ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(shots, 1), "visual"),
		                 "A red kite caught on the lighthouse rail");
		ck_assert_int_eq((int)num(cJSON_GetArrayItem(shots, 1), "duration"), 6);
	}
	cJSON_Delete(t);

	/* Approve: body must be empty or {}; the answer shows moderation. */
	snprintf(path, sizeof(path), "/v1/videos/%s/approve", id);
	expect_error(&s, "POST", key_secret, "{\"now\":true}", 400, "invalid_request", "now", path);
	t = callv(&s, "POST", key_secret, "{}", 202, "%s", path);
	ck_assert_str_eq(lv_json_get_str(t, "status"), "moderation");
	cJSON_Delete(t);
	expect_error(&s, "POST", key_secret, NULL, 409, "not_reviewable", NULL, path);
	snprintf(path, sizeof(path), "/v1/videos/%s/storyboard", id);
	expect_error(&s, "PATCH", key_secret, "{\"bogus\":1}", 409, "not_reviewable", NULL, path); /* 409 before 400 */

	t = wait_monotonic(&s, id, "completed", 240);
	snprintf(old_url, sizeof(old_url), "%s", lv_json_get_str(t, "result_url"));
	first_cost = num(t, "cost_actual");
	ck_assert(first_cost == 330);
	srt = fetch_text(lv_json_get_str(t, "subtitles_url"));
	ck_assert_msg(strstr(srt, "The keeper lights the lamp.") && strstr(srt, "The cat watches the waves."),
	              "subtitles lack the edits: %s", srt);
	free(srt);
	cJSON_Delete(t);
	ledger_of(&s, id, led, sizeof(led));
	ck_assert_str_eq(led, "reserve:330,settle:330");

	/* Regenerate the last shot with a new visual and seed. */
	snprintf(path, sizeof(path), "/v1/videos/%s/shots/9/regenerate", id);
	expect_error(&s, "POST", key_secret, "{}", 400, "invalid_request", "index", path);
	snprintf(path, sizeof(path), "/v1/videos/%s/shots/x/regenerate", id);
	expect_error(&s, "POST", key_secret, "{}", 400, "invalid_request", "index", path);
	snprintf(path, sizeof(path), "/v1/videos/%s/shots/1/regenerate", id);
	expect_error(&s, "POST", key_secret, "{\"seed\":-1}", 400, "invalid_request", "seed", path);
	expect_error(&s, "POST", key_secret, "{\"style\":\"noir\"}", 400, "invalid_request", "style", path);
	expect_error(&s, "POST", other_secret, "{}", 404, "task_not_found", NULL, path);
	t = callv(&s, "POST", key_secret, "{\"visual\":\"The lamp room glowing green at dawn\",\"seed\":42}", 202, "%s",
	          path);
	ck_assert_str_eq(lv_json_get_str(t, "status"), "generating");
	cJSON_Delete(t);
	expect_error(&s, "POST", key_secret, "{}", 409, "not_composable", NULL, path); /* one at a time */
	/* The previous film keeps working meanwhile. */
	ck_assert_int_eq(fetch_status(old_url), 200);
	t = wait_monotonic(&s, id, "completed", 240);
	snprintf(new_url, sizeof(new_url), "%s", lv_json_get_str(t, "result_url"));
	ck_assert_str_ne(new_url, old_url);
	ck_assert_int_eq(fetch_status(new_url), 200);
	ck_assert(num(t, "cost_actual") == first_cost + 165);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "script"), "shots"),
	                                                     1), "visual"),
	                 "The lamp room glowing green at dawn");
	{
		const cJSON *r = cJSON_GetObjectItem(t, "regenerations");
		ck_assert_int_eq(cJSON_GetArraySize(r), 1);
		ck_assert_int_eq((int)num(cJSON_GetArrayItem(r, 0), "index"), 1);
		ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(r, 0), "status"), "succeeded");
		ck_assert(num(cJSON_GetArrayItem(r, 0), "cost") == 165);
	}
	cJSON_Delete(t);
	ledger_of(&s, id, led, sizeof(led));
	ck_assert_str_eq(led, "reserve:330,settle:330,reserve:165,settle:165");
	/* 1000 - 330 - 165 = 505 left; a task held in review reserves 357.5 more (13 s): 147.5 left, and
	 * another regeneration (165) is refused, charging nothing. */
	plain = create_task(&s, "{\"prompt\":\"x\",\"duration\":13,\"review\":true}");
	expect_error(&s, "POST", key_secret, "{}", 402, "insufficient_credits", NULL, path);
	t2 = callv(&s, "GET", key_secret, NULL, 200, "/v1/credits");
	ck_assert(num(t2, "balance") == 147.5);
	ck_assert(num(t2, "reserved") == 357.5);
	cJSON_Delete(t2);
	cJSON_Delete(callv(&s, "POST", key_secret, NULL, 200, "/v1/videos/%s/cancel", plain));
	free(plain);
	/* A task that never asked for review is not reviewable. */
	plain = create_task(&s, "{\"prompt\":\"x\",\"duration\":3}");
	snprintf(path, sizeof(path), "/v1/videos/%s/approve", plain);
	expect_error(&s, "POST", key_secret, NULL, 409, "not_reviewable", NULL, path);
	cJSON_Delete(callv(&s, "POST", key_secret, NULL, 200, "/v1/videos/%s/cancel", plain));
	free(plain);
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	assert_ledger_ok();
	free(id);
}
END_TEST

START_TEST(moderation_rejects_an_edited_storyboard_and_refunds_everything)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	cJSON *t;
	char *id, led[256];
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	id = create_task(&s, "{\"prompt\":\"A knight rides to a castle\",\"duration\":3,\"review\":true}");
	cJSON_Delete(wait_monotonic(&s, id, "awaiting_review", 60));
	cJSON_Delete(callv(&s, "PATCH", key_secret, "{\"shots\":[{\"index\":0,\"visual\":\"The knight beheads a prisoner\"}]}",
	                   200, "/v1/videos/%s/storyboard", id));
	cJSON_Delete(callv(&s, "POST", key_secret, NULL, 202, "/v1/videos/%s/approve", id));
	t = wait_monotonic(&s, id, "failed", 60);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(t, "error"), "code"), "moderation_rejected");
	ck_assert(num(t, "cost_actual") == 0);
	cJSON_Delete(t);
	ledger_of(&s, id, led, sizeof(led));
	ck_assert_str_eq(led, "reserve:82.5,refund:82.5");
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	assert_ledger_ok();
	free(id);
}
END_TEST

START_TEST(cancel_during_review_refunds_everything)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	cJSON *t;
	char *id, led[256];
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	id = create_task(&s, "{\"prompt\":\"Rain on a tin roof\",\"duration\":3,\"review\":true}");
	cJSON_Delete(wait_monotonic(&s, id, "awaiting_review", 60));
	t = callv(&s, "POST", key_secret, NULL, 200, "/v1/videos/%s/cancel", id);
	ck_assert_str_eq(lv_json_get_str(t, "status"), "canceled");
	ck_assert(num(t, "cost_actual") == 0);
	cJSON_Delete(t);
	ledger_of(&s, id, led, sizeof(led));
	ck_assert_str_eq(led, "reserve:82.5,refund:82.5");
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	assert_ledger_ok();
	free(id);
}
END_TEST

/* Approve and cancel at once, many times: each task ends canceled (or is canceled after approval), and
 * the ledger holds. */
typedef struct {
	const lv_test_server *s;
	const char *method, *path;
	long status;
} shot_arg;

static void *fire(void *p)
{
	shot_arg *a = p;
	char auth[128], *u = lv_asprintf("%s%s", a->s->base_url, a->path);
	const char *h[] = { auth, NULL };
	lv_test_response r;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key_secret);
	a->status = lv_test_http(&r, a->method, u, h, NULL, 0) == 0 ? r.status : -1;
	if (a->status > 0)
		lv_test_response_free(&r);
	free(u);
	return NULL;
}

static void race(const lv_test_server *s, const char *p1, const char *p2, long *st1, long *st2)
{
	pthread_t a, b;
	shot_arg x = { s, "POST", p1, 0 }, y = { s, "POST", p2, 0 };
	pthread_create(&a, NULL, fire, &x);
	pthread_create(&b, NULL, fire, &y);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	*st1 = x.status;
	*st2 = y.status;
}

START_TEST(races_approve_cancel_and_regenerate)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	cJSON *t;
	char *id, p1[160], p2[160], url[512];
	long a, b;
	int round;
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	/* approve vs cancel */
	for (round = 0; round < 3; round++) {
		id = create_task(&s, "{\"prompt\":\"Leaves in the wind\",\"duration\":3,\"review\":true}");
		cJSON_Delete(wait_monotonic(&s, id, "awaiting_review", 60));
		snprintf(p1, sizeof(p1), "/v1/videos/%s/approve", id);
		snprintf(p2, sizeof(p2), "/v1/videos/%s/cancel", id);
		race(&s, p1, p2, &a, &b);
		ck_assert_int_eq(b, 200);
		ck_assert_msg(a == 202 || a == 409, "approve answered %ld", a);
		t = callv(&s, "GET", key_secret, NULL, 200, "/v1/videos/%s", id);
		ck_assert_str_eq(lv_json_get_str(t, "status"), "canceled");
		cJSON_Delete(t);
		free(id);
	}
	/* two regenerates at once: one runs, one is refused */
	id = create_task(&s, "{\"prompt\":\"A paper lantern\",\"duration\":3,\"aspect_ratio\":\"1:1\"}");
	t = wait_monotonic(&s, id, "completed", 120);
	snprintf(url, sizeof(url), "%s", lv_json_get_str(t, "result_url"));
	cJSON_Delete(t);
	snprintf(p1, sizeof(p1), "/v1/videos/%s/shots/0/regenerate", id);
	race(&s, p1, p1, &a, &b);
	ck_assert_msg((a == 202 && b == 409) || (a == 409 && b == 202), "regenerate answered %ld and %ld", a, b);
	t = wait_monotonic(&s, id, "completed", 120);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(t, "regenerations")), 1);
	ck_assert(num(t, "cost_actual") == 165);
	cJSON_Delete(t);
	/* regenerate vs cancel: the regeneration is abandoned or finishes; the film is there either way */
	t = callv(&s, "GET", key_secret, NULL, 200, "/v1/videos/%s", id);
	snprintf(url, sizeof(url), "%s", lv_json_get_str(t, "result_url"));
	cJSON_Delete(t);
	snprintf(p2, sizeof(p2), "/v1/videos/%s/cancel", id);
	race(&s, p1, p2, &a, &b);
	ck_assert_int_eq(a, 202);
	ck_assert_int_eq(b, 200);
	t = wait_monotonic(&s, id, "completed", 120);
	{
		const cJSON *r = cJSON_GetObjectItem(t, "regenerations");
		const char *last = lv_json_get_str(cJSON_GetArrayItem(r, cJSON_GetArraySize(r) - 1), "status");
		ck_assert_int_eq(cJSON_GetArraySize(r), 2);
		if (!strcmp(last, "canceled")) {
			ck_assert_str_eq(lv_json_get_str(t, "result_url"), url); /* the previous film, refunded */
			ck_assert(num(t, "cost_actual") == 165);
		} else {
			ck_assert_str_eq(last, "succeeded");
			ck_assert(num(t, "cost_actual") == 247.5);
		}
	}
	ck_assert_int_eq(fetch_status(lv_json_get_str(t, "result_url")), 200);
	cJSON_Delete(t);
	free(id);
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	assert_ledger_ok();
}
END_TEST

START_TEST(a_review_left_too_long_is_canceled_and_refunded)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	cJSON *t;
	char *id, led[256];
	teardown();
	/* 0.0004 h = 1.44 s */
	setup_with("{\"pipeline\":{\"lease_seconds\":2,\"review_timeout_hours\":0.0004},"
	           "\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":100}}}");
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	id = create_task(&s, "{\"prompt\":\"Clouds over a valley\",\"duration\":3,\"review\":true}");
	cJSON_Delete(wait_monotonic(&s, id, "awaiting_review", 60));
	t = wait_monotonic(&s, id, "canceled", 60);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(t, "error"), "code"), "review_timeout");
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(t, "error"), "stage"), "awaiting_review");
	ck_assert(num(t, "cost_actual") == 0);
	cJSON_Delete(t);
	ledger_of(&s, id, led, sizeof(led));
	ck_assert_str_eq(led, "reserve:82.5,refund:82.5");
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	assert_ledger_ok();
	free(id);
}
END_TEST

/* A regeneration that fails leaves the previous film and refunds the shot; one interrupted by a crash is
 * resumed and charged once. */
START_TEST(a_regeneration_with_rejected_text_keeps_the_previous_film)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	cJSON *t;
	char *id, url[512], led[512];
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	id = create_task(&s, "{\"prompt\":\"A knight rides to a castle\",\"duration\":3,\"aspect_ratio\":\"1:1\"}");
	t = wait_monotonic(&s, id, "completed", 120);
	snprintf(url, sizeof(url), "%s", lv_json_get_str(t, "result_url"));
	cJSON_Delete(t);
	/* The new text goes through moderation before anything is generated or charged for good. */
	cJSON_Delete(callv(&s, "POST", key_secret, "{\"visual\":\"The knight beheads a prisoner\"}", 202,
	                   "/v1/videos/%s/shots/0/regenerate", id));
	lv_sleep_ms(300);
	t = wait_monotonic(&s, id, "completed", 120);
	ck_assert_str_eq(lv_json_get_str(t, "result_url"), url);
	ck_assert(num(t, "cost_actual") == 82.5);
	{
		const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "regenerations"), 0);
		const cJSON *shot0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "script"), "shots"), 0);
		ck_assert_str_eq(lv_json_get_str(r, "status"), "failed");
		ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(r, "error"), "code"), "moderation_rejected");
		ck_assert_ptr_null(strstr(lv_json_get_str(shot0, "visual"), "beheads"));
	}
	cJSON_Delete(t);
	ledger_of(&s, id, led, sizeof(led));
	ck_assert_str_eq(led, "reserve:82.5,settle:82.5,reserve:82.5,refund:82.5");
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	assert_ledger_ok();
	free(id);
}
END_TEST

START_TEST(a_failed_regeneration_keeps_the_previous_film)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	cJSON *t;
	char *id, *failing, url[512], led[512];
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	id = create_task(&s, "{\"prompt\":\"A tram in the snow\",\"duration\":3,\"aspect_ratio\":\"1:1\"}");
	t = wait_monotonic(&s, id, "completed", 120);
	snprintf(url, sizeof(url), "%s", lv_json_get_str(t, "result_url"));
	cJSON_Delete(t);
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	/* The same store, a provider that now fails shot 0. */
	failing = lv_test_write_file(dir, "failing.json",
	                             "{\"pipeline\":{\"lease_seconds\":2,\"segment_retries\":0},"
	                             "\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":100,\"fail_shots\":[0]}}}");
	ck_assert_int_eq(lv_test_server_start(&s, dir, failing, extra), 0);
	t = callv(&s, "POST", key_secret, "{\"narration\":\"Trams hum.\"}", 202,
	          "/v1/videos/%s/shots/0/regenerate", id);
	cJSON_Delete(t);
	lv_sleep_ms(300);
	t = wait_monotonic(&s, id, "completed", 120);
	/* The same film (the server's port, and so the URL's host part, changed with the restart). */
	ck_assert_str_eq(strstr(lv_json_get_str(t, "result_url"), "/media/"), strstr(url, "/media/"));
	ck_assert(num(t, "cost_actual") == 82.5);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(t, "error")));
	{
		const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "regenerations"), 0);
		ck_assert_str_eq(lv_json_get_str(r, "status"), "failed");
		ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(r, "error"), "code"), "segment_failed");
		/* The storyboard is the film's again. */
		ck_assert_str_ne(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "script"),
		                                                                        "shots"), 0), "narration"),
		                 "Trams hum.");
	}
	ck_assert_int_eq(fetch_status(lv_json_get_str(t, "result_url")), 200);
	cJSON_Delete(t);
	ledger_of(&s, id, led, sizeof(led));
	ck_assert_str_eq(led, "reserve:82.5,settle:82.5,reserve:82.5,refund:82.5");
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	assert_ledger_ok();
	free(failing);
	free(id);
}
END_TEST

START_TEST(a_worker_killed_during_a_regeneration_charges_the_shot_once)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	lv_store_tx *tx = NULL;
	lv_segment_rec *segs = NULL;
	size_t n = 0;
	cJSON *t;
	char *id, *slow, led[512];
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	id = create_task(&s, "{\"prompt\":\"Kites on a beach\",\"duration\":3,\"aspect_ratio\":\"1:1\"}");
	cJSON_Delete(wait_monotonic(&s, id, "completed", 120));
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	slow = lv_test_write_file(dir, "slow.json", "{\"pipeline\":{\"lease_seconds\":2},"
	                                            "\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":4000}}}");
	ck_assert_int_eq(lv_test_server_start(&s, dir, slow, extra), 0);
	cJSON_Delete(callv(&s, "POST", key_secret, "{\"seed\":7}", 202, "/v1/videos/%s/shots/0/regenerate", id));
	lv_sleep_ms(1500); /* the shot's job is submitted and stored */
	lv_test_server_kill(&s);
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	t = wait_monotonic(&s, id, "completed", 120);
	ck_assert(num(t, "cost_actual") == 165);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "regenerations"), 0), "status"),
	                 "succeeded");
	cJSON_Delete(t);
	ledger_of(&s, id, led, sizeof(led));
	ck_assert_str_eq(led, "reserve:82.5,settle:82.5,reserve:82.5,settle:82.5");
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	/* The restarted worker polled the stored job: one submission. */
	o.data_dir = dir;
	o.config_path = config;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_OK);
	ck_assert_int_eq(e->store->ops->begin(e->store, 0, &tx), LV_OK);
	ck_assert_int_eq(e->store->ops->segment_list(tx, id, &segs, &n), LV_OK);
	e->store->ops->rollback(tx);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(segs[0].attempts, 1);
	ck_assert_ptr_nonnull(strstr(segs[0].output, "_r1"));
	lv_segment_recs_free(segs, n);
	lv_engine_close(e);
	assert_ledger_ok();
	free(slow);
	free(id);
}
END_TEST

/* ---- your own characters --------------------------------------------------------------------------------- */

/* A w x h PNG (a gradient) as bytes. */
static unsigned char *png_bytes(int w, int h, size_t *len)
{
	uint8_t *rgb = lv_malloc((size_t)w * (size_t)h * 3);
	char *d = lv_test_mkdtemp("png"), *path = lv_asprintf("%s/p.png", d);
	char *data = NULL;
	int i;
	for (i = 0; i < w * h * 3; i++)
		rgb[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(lv_png_save_rgb24(path, rgb, w, h, w * 3), LV_OK);
	ck_assert_int_eq(lv_test_read_file(&data, len, path), 0);
	free(rgb);
	lv_test_rmdir(d);
	free(d);
	free(path);
	return (unsigned char *)data;
}

static char *data_url(const char *type, const unsigned char *bytes, size_t len)
{
	char *out = lv_malloc(64 + len * 4 / 3 + 8);
	size_t n = (size_t)sprintf(out, "data:%s;base64,", type);
	lv_base64_encode(out + n, bytes, len);
	return out;
}

static char *png_url(int w, int h)
{
	size_t len;
	unsigned char *b = png_bytes(w, h, &len);
	char *u = data_url("image/png", b, len);
	free(b);
	return u;
}

static void expect_create_error(const lv_test_server *s, const char *body, long want, const char *field,
                                const char *why)
{
	cJSON *j = callv(s, "POST", key_secret, body, want, "/v1/videos");
	const char *m = lv_json_get_str(cJSON_GetObjectItem(j, "error"), "message");
	ck_assert_msg(strncmp(m, field, strlen(field)) == 0 && (!why || strstr(m, why)), "create: '%s' (wanted %s ... %s)",
	              m, field, why ? why : "");
	cJSON_Delete(j);
}

START_TEST(character_images_are_checked_when_the_task_is_created)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "0", NULL };
	char *ok1 = png_url(300, 260), *ok2 = png_url(256, 256), *small = png_url(100, 300), *body, *gif, *big;
	cJSON *t;
	const cJSON *chars;
	size_t i;
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);

	body = lv_asprintf("{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"Ada\",\"image\":\"%s\"},"
	                   "{\"name\":\"Bo\",\"image\":\"%s\"},{\"name\":\"Cy\",\"image\":\"%s\"}]}", ok1, ok2, small);
	expect_create_error(&s, body, 400, "characters[2].image", "at least 256");
	free(body);
	gif = data_url("image/png", (const unsigned char *)"GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14);
	body = lv_asprintf("{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"Ada\",\"image\":\"%s\"}]}", gif);
	expect_create_error(&s, body, 400, "characters[0].image", "not a PNG, JPEG or WebP");
	free(body);
	free(gif);
	expect_create_error(&s, "{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"Ada\",\"image\":"
	                        "\"data:image/gif;base64,R0lGODlh\"}]}", 400, "characters[0].image", "data URL");
	/* 11 MiB of picture: refused by name (the body is larger than max_body_bytes, within max_create_body_bytes). */
	big = lv_malloc(16 << 20);
	i = (size_t)sprintf(big, "{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"Ada\",\"image\":\"data:image/png;base64,");
	memset(big + i, 'A', (size_t)15 << 20);
	strcpy(big + i + ((size_t)15 << 20), "\"}]}");
	expect_create_error(&s, big, 400, "characters[0].image", "larger than 10 MiB");
	free(big);
	/* A URL to a private address is refused before anything is sent to it (webhooks.allow_private is off). */
	expect_create_error(&s, "{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"Ada\",\"image\":"
	                        "\"http://127.0.0.1:9/face.png\"}]}", 400, "characters[0].image", "loopback");
	expect_create_error(&s, "{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"Ada\",\"image\":"
	                        "\"ftp://example.com/a.png\"}]}", 400, "characters[0].image", NULL);
	expect_create_error(&s, "{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"A\",\"image\":\"data:\"},"
	                        "{\"name\":\"A\",\"image\":\"data:\"}]}", 400, "characters[1].name", "more than once");
	expect_create_error(&s, "{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"A\",\"age\":3,"
	                        "\"image\":\"data:\"}]}", 400, "characters[0].age", "unknown field");
	expect_create_error(&s, "{\"prompt\":\"x\",\"duration\":3,\"characters\":[{},{},{},{},{},{},{},{},{},{}]}", 400,
	                    "characters", "at most 9");
	/* Nothing was charged by the refusals. */
	t = callv(&s, "GET", key_secret, NULL, 200, "/v1/credits");
	ck_assert(num(t, "balance") == 1000);
	cJSON_Delete(t);

	body = lv_asprintf("{\"prompt\":\"Two friends at a fair\",\"duration\":3,\"characters\":["
	                   "{\"name\":\"Ada\",\"description\":\"a tall woman in a green coat\",\"image\":\"%s\"},"
	                   "{\"name\":\"Bo\",\"image\":\"%s\"}]}", ok1, ok2);
	t = callv(&s, "POST", key_secret, body, 202, "/v1/videos");
	free(body);
	body = lv_strdup(lv_json_get_str(t, "task_id"));
	cJSON_Delete(t);
	t = callv(&s, "GET", key_secret, NULL, 200, "/v1/videos/%s", body);
	chars = cJSON_GetObjectItem(t, "characters");
	ck_assert_int_eq(cJSON_GetArraySize(chars), 2);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(chars, 0), "name"), "Ada");
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(chars, 0), "description"), "a tall woman in a green coat");
	{
		/* The stored picture is served at its URL, as a PNG of the given size. */
		lv_test_response r;
		char ct[64];
		ck_assert_int_eq(lv_test_http(&r, "GET", lv_json_get_str(cJSON_GetArrayItem(chars, 0), "image_url"), NULL,
		                              NULL, 0), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(lv_test_header(&r, "Content-Type", ct, sizeof(ct)), "image/png");
		ck_assert(r.body_len > 24 && !memcmp(r.body + 1, "PNG", 3));
		ck_assert_int_eq(((unsigned char)r.body[18] << 8) | (unsigned char)r.body[19], 300); /* IHDR width */
		ck_assert_int_eq(((unsigned char)r.body[22] << 8) | (unsigned char)r.body[23], 260); /* IHDR height */
		lv_test_response_free(&r);
	}
	cJSON_Delete(t);
	free(body);
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	free(ok1);
	free(ok2);
	free(small);
}
END_TEST

/* An image server on 127.0.0.1: /face.png, /hop (redirects to /face.png), /loop (redirects to itself),
 * /slow (answers after 12 s), /huge (11 MiB). */
static unsigned char *served_png;
static size_t served_len;

static int image_handler(struct mg_connection *c, void *p)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	(void)p;
	if (!strcmp(ri->local_uri, "/face.png")) {
		mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		          served_len);
		mg_write(c, served_png, served_len);
	} else if (!strcmp(ri->local_uri, "/hop")) {
		mg_printf(c, "HTTP/1.1 302 Found\r\nLocation: /face.png\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	} else if (!strcmp(ri->local_uri, "/loop")) {
		mg_printf(c, "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	} else if (!strcmp(ri->local_uri, "/slow")) {
		lv_sleep_ms(12000);
		mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	} else if (!strcmp(ri->local_uri, "/huge")) {
		static char chunk[65536];
		int k;
		mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n");
		for (k = 0; k < 176; k++)
			if (mg_write(c, chunk, sizeof(chunk)) <= 0)
				break;
	} else {
		mg_printf(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	}
	return 1;
}

START_TEST(character_images_by_url_follow_redirects_within_limits)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	const char *opts[] = { "listening_ports", "127.0.0.1:0", "num_threads", "4", NULL };
	struct mg_context *ctx;
	struct mg_server_port port;
	char *body, *id;
	int64_t t0;
	cJSON *t;
	teardown();
	setup_with("{\"pipeline\":{\"lease_seconds\":2},\"webhooks\":{\"allow_private\":true},"
	           "\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":100}}}");
	served_png = png_bytes(320, 320, &served_len);
	ctx = mg_start(NULL, NULL, opts);
	ck_assert_ptr_nonnull(ctx);
	mg_set_request_handler(ctx, "/", image_handler, NULL);
	ck_assert_int_eq(mg_get_server_ports(ctx, 1, &port), 1);
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);

	body = lv_asprintf("{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"Ada\",\"image\":"
	                   "\"http://127.0.0.1:%d/loop\"}]}", port.port);
	expect_create_error(&s, body, 400, "characters[0].image", "more than 3 redirects");
	free(body);
	body = lv_asprintf("{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"Ada\",\"image\":"
	                   "\"http://127.0.0.1:%d/huge\"}]}", port.port);
	expect_create_error(&s, body, 400, "characters[0].image", "larger than 10 MiB");
	free(body);
	body = lv_asprintf("{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"Ada\",\"image\":"
	                   "\"http://127.0.0.1:%d/nothing.png\"}]}", port.port);
	expect_create_error(&s, body, 400, "characters[0].image", "HTTP 404");
	free(body);
	body = lv_asprintf("{\"prompt\":\"x\",\"duration\":3,\"characters\":[{\"name\":\"Ada\",\"image\":"
	                   "\"http://127.0.0.1:%d/slow\"}]}", port.port);
	t0 = lv_mono_ms();
	expect_create_error(&s, body, 400, "characters[0].image", "within 10 s");
	ck_assert(lv_mono_ms() - t0 >= 9000); /* it waited for the timeout, not less */
	free(body);

	/* Through a redirect: the picture is stored, the storyboard names the character, the film is made. */
	body = lv_asprintf("{\"prompt\":\"A walk by the river\",\"duration\":3,\"aspect_ratio\":\"1:1\",\"review\":true,"
	                   "\"characters\":["
	                   "{\"name\":\"Ada Lovelace\",\"description\":\"a woman in a green coat\",\"image\":"
	                   "\"http://127.0.0.1:%d/hop\"}]}", port.port);
	id = create_task(&s, body);
	free(body);
	t = wait_monotonic(&s, id, "awaiting_review", 60);
	{
		const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "script"), "characters"), 0);
		ck_assert_str_eq(lv_json_get_str(c, "name"), "Ada Lovelace");
		ck_assert_str_eq(lv_json_get_str(c, "description"), "a woman in a green coat");
	}
	cJSON_Delete(t);
	cJSON_Delete(callv(&s, "POST", key_secret, NULL, 202, "/v1/videos/%s/approve", id));
	cJSON_Delete(wait_monotonic(&s, id, "completed", 120));
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	{
		/* Anchoring used the given picture: the character's anchor is the stored image. */
		lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
		lv_engine *e = NULL;
		lv_store_tx *tx = NULL;
		lv_task_rec rec;
		cJSON *st;
		const cJSON *anchors, *a;
		int found = 0;
		o.data_dir = dir;
		o.config_path = config;
		ck_assert_int_eq(lv_engine_open(&e, &o), LV_OK);
		ck_assert_int_eq(e->store->ops->begin(e->store, 0, &tx), LV_OK);
		ck_assert_int_eq(e->store->ops->task_get(tx, id, 0, &rec), LV_OK);
		e->store->ops->rollback(tx);
		st = cJSON_Parse(rec.state);
		anchors = cJSON_GetObjectItem(st, "anchors");
		cJSON_ArrayForEach(a, anchors)
			found += cJSON_IsString(a) && !strncmp(a->valuestring, "media/characters/", 17);
		ck_assert_int_eq(found, 1);
		cJSON_Delete(st);
		lv_task_rec_clear(&rec);
		lv_engine_close(e);
	}
	mg_stop(ctx);
	free(served_png);
	free(id);
	assert_ledger_ok();
}
END_TEST

/* ---- live progress ------------------------------------------------------------------------------------------ */

typedef struct sse_client {
	char buf[1 << 20];
	size_t len;
	long long ids[256];
	char status[256][20];
	int n;
	int stop_after; /* abort the connection after this many events (0: read to the end) */
	int heartbeats;
	lv_buf raw, head; /* the whole response, for the OpenAPI check (lv_test_http_record) */
} sse_client;

static size_t sse_head(char *ptr, size_t size, size_t nmemb, void *p)
{
	sse_client *c = p;
	return lv_buf_put(&c->head, ptr, size * nmemb) == 0 ? size * nmemb : 0;
}

static size_t sse_write(char *ptr, size_t size, size_t nmemb, void *p)
{
	sse_client *c = p;
	size_t n = size * nmemb;
	char *end;
	if (c->len + n >= sizeof(c->buf) || lv_buf_put(&c->raw, ptr, n))
		return 0;
	memcpy(c->buf + c->len, ptr, n);
	c->len += n;
	c->buf[c->len] = '\0';
	while ((end = strstr(c->buf, "\n\n")) != NULL) {
		size_t used = (size_t)(end - c->buf) + 2;
		char *id = strstr(c->buf, "id: "), *data = strstr(c->buf, "data: ");
		*end = '\0';
		if (c->buf[0] == ':')
			c->heartbeats++;
		if (id && data && c->n < 256) {
			cJSON *o = cJSON_Parse(data + 6);
			ck_assert_ptr_nonnull(strstr(c->buf, "event: task\n"));
			c->ids[c->n] = atoll(id + 4);
			snprintf(c->status[c->n], sizeof(c->status[0]), "%s", lv_json_get_str(o, "status"));
			c->n++;
			cJSON_Delete(o);
		}
		memmove(c->buf, c->buf + used, c->len - used + 1);
		c->len -= used;
		if (c->stop_after && c->n >= c->stop_after)
			return 0;
	}
	return n;
}

/* Read a stream; returns the HTTP status. */
static long sse_read(sse_client *c, const char *url, const char *secret, long long last_id)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *h = NULL;
	char line[160];
	long status = 0;
	if (secret) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", secret);
		h = curl_slist_append(h, line);
	}
	if (last_id >= 0) {
		snprintf(line, sizeof(line), "Last-Event-ID: %lld", last_id);
		h = curl_slist_append(h, line);
	}
	h = curl_slist_append(h, "Accept: text/event-stream");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sse_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 200L);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, sse_head);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, c);
	curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(h);
	if (!c->stop_after) { /* a stream cut short on purpose is not a whole response */
		lv_test_response r = { status, NULL, c->raw.len, NULL };
		r.body = lv_buf_detach(&c->raw);
		r.headers = lv_buf_detach(&c->head);
		lv_test_http_record("GET", url, &r);
		lv_test_response_free(&r);
	}
	lv_buf_free(&c->raw);
	lv_buf_free(&c->head);
	return status;
}

START_TEST(events_stream_the_task_and_resume_with_last_event_id)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	sse_client *a = lv_calloc(1, sizeof(*a)), *b = lv_calloc(1, sizeof(*b)), *c = lv_calloc(1, sizeof(*c));
	char *id, url[512], events_url[512];
	cJSON *t;
	int i;
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	/* Two shots give the stream events to resume in; a square film without music keeps them cheap. */
	t = callv(&s, "POST", key_secret,
	          "{\"prompt\":\"Swallows over a barn\",\"duration\":10,\"aspect_ratio\":\"1:1\",\"music\":false}", 202,
	          "/v1/videos");
	id = lv_strdup(lv_json_get_str(t, "task_id"));
	snprintf(events_url, sizeof(events_url), "%s", lv_json_get_str(t, "events_url"));
	cJSON_Delete(t);
	snprintf(url, sizeof(url), "%s/v1/videos/%s/events", s.base_url, id);
	expect_error(&s, "GET", NULL, NULL, 401, "invalid_api_key", NULL, strstr(url, "/v1/"));
	expect_error(&s, "GET", other_secret, NULL, 404, "task_not_found", NULL, strstr(url, "/v1/"));
	/* A first watcher leaves after two events; the second resumes at the capability URL (no key). */
	a->stop_after = 2;
	sse_read(a, url, key_secret, -1);
	ck_assert_int_eq(a->n, 2);
	ck_assert_int_eq(a->ids[1], a->ids[0] + 1);
	ck_assert_int_eq(sse_read(b, events_url, NULL, a->ids[1]), 200);
	ck_assert_int_gt(b->n, 0);
	ck_assert_int_eq(b->ids[0], a->ids[1] + 1); /* nothing missed, nothing repeated */
	for (i = 1; i < b->n; i++)
		ck_assert_int_eq(b->ids[i], b->ids[i - 1] + 1);
	ck_assert_str_eq(b->status[b->n - 1], "completed"); /* and the stream ended after it */
	for (i = 0; i + 1 < b->n; i++)
		ck_assert_str_ne(b->status[i], "completed");
	/* Connecting later: the current state first (the terminal one), then the end. */
	ck_assert_int_eq(sse_read(c, url, key_secret, -1), 200);
	ck_assert_int_eq(c->n, 1);
	ck_assert_int_eq(c->ids[0], b->ids[b->n - 1]);
	ck_assert_str_eq(c->status[0], "completed");
	/* A wrong token is no stream. */
	strcpy(strrchr(events_url, '/') + 1, "00000000000000000000000000000000");
	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(sse_read(c, events_url, NULL, -1), 404);
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	free(a);
	free(b);
	free(c);
	free(id);
}
END_TEST

/* Open streams hold threads of their own: with 2 request threads and 5 streams open, requests are still
 * served; the 5th stream of one key and the stream beyond server.max_event_streams are refused. */
static size_t count_bytes(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	*(size_t *)ud += size * n;
	return size * n;
}

START_TEST(event_streams_have_threads_of_their_own_and_limits)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "0", NULL };
	char *cfg = lv_test_write_file(dir, "streams.json",
	                               "{\"server\":{\"threads\":2,\"max_event_streams\":5},"
	                               "\"providers\":{\"local\":{\"type\":\"local\"}}}");
	CURLM *multi = curl_multi_init();
	CURL *easy[5];
	struct curl_slist *hdr[2] = { NULL, NULL };
	size_t got[5] = { 0 };
	char *id, *other, path[256], line[160];
	cJSON *t;
	int i, running, ready, rounds;
	ck_assert_int_eq(lv_test_server_start(&s, dir, cfg, extra), 0);
	/* No worker: the tasks stay queued and their streams stay open. */
	t = callv(&s, "POST", key_secret, "{\"prompt\":\"Gulls\",\"duration\":3}", 202, "/v1/videos");
	id = lv_strdup(lv_json_get_str(t, "task_id"));
	cJSON_Delete(t);
	t = callv(&s, "POST", other_secret, "{\"prompt\":\"Crows\",\"duration\":3}", 202, "/v1/videos");
	other = lv_strdup(lv_json_get_str(t, "task_id"));
	cJSON_Delete(t);
	snprintf(line, sizeof(line), "Authorization: Bearer %s", key_secret);
	hdr[0] = curl_slist_append(NULL, line);
	snprintf(line, sizeof(line), "Authorization: Bearer %s", other_secret);
	hdr[1] = curl_slist_append(NULL, line);
	/* Four streams of the first key, one of the other: five, the server's limit. */
	for (i = 0; i < 5; i++) {
		char url[512];
		snprintf(url, sizeof(url), "%s/v1/videos/%s/events", s.base_url, i < 4 ? id : other);
		easy[i] = curl_easy_init();
		curl_easy_setopt(easy[i], CURLOPT_URL, url);
		curl_easy_setopt(easy[i], CURLOPT_HTTPHEADER, hdr[i < 4 ? 0 : 1]);
		curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, count_bytes);
		curl_easy_setopt(easy[i], CURLOPT_WRITEDATA, &got[i]);
		curl_multi_add_handle(multi, easy[i]);
	}
	/* Until each has its first event. */
	for (rounds = 0, ready = 0; ready < 5 && rounds < 3000; rounds++) {
		curl_multi_perform(multi, &running);
		curl_multi_poll(multi, NULL, 0, 10, NULL);
		for (ready = 0, i = 0; i < 5; i++)
			ready += got[i] > 0;
	}
	ck_assert_int_eq(ready, 5);
	ck_assert_int_eq(running, 5);
	/* The two request threads are free for requests. */
	for (i = 0; i < 4; i++)
		cJSON_Delete(callv(&s, "GET", key_secret, NULL, 200, "/v1/videos/%s", id));
	snprintf(path, sizeof(path), "/v1/videos/%s/events", id);
	expect_error(&s, "GET", key_secret, NULL, 429, "rate_limited", "events: too many open event streams", path);
	snprintf(path, sizeof(path), "/v1/videos/%s/events", other);
	expect_error(&s, "GET", other_secret, NULL, 429, "rate_limited", "events: the server has", path);
	for (i = 0; i < 5; i++) {
		curl_multi_remove_handle(multi, easy[i]);
		curl_easy_cleanup(easy[i]);
	}
	curl_multi_cleanup(multi);
	curl_slist_free_all(hdr[0]);
	curl_slist_free_all(hdr[1]);
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
	free(cfg);
	free(id);
	free(other);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("creative");
	TCase *tc = tcase_create("creative");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, ledger_lists_the_keys_entries_newest_first_with_a_cursor);
	tcase_add_test(tc, review_edit_approve_regenerate_one_shot);
	tcase_add_test(tc, moderation_rejects_an_edited_storyboard_and_refunds_everything);
	tcase_add_test(tc, cancel_during_review_refunds_everything);
	tcase_add_test(tc, races_approve_cancel_and_regenerate);
	tcase_add_test(tc, a_review_left_too_long_is_canceled_and_refunded);
	tcase_add_test(tc, a_failed_regeneration_keeps_the_previous_film);
	tcase_add_test(tc, a_regeneration_with_rejected_text_keeps_the_previous_film);
	tcase_add_test(tc, a_worker_killed_during_a_regeneration_charges_the_shot_once);
	tcase_add_test(tc, character_images_are_checked_when_the_task_is_created);
	tcase_add_test(tc, character_images_by_url_follow_redirects_within_limits);
	tcase_add_test(tc, events_stream_the_task_and_resume_with_last_event_id);
	tcase_add_test(tc, event_streams_have_threads_of_their_own_and_limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
