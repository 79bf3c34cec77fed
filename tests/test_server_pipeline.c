/* lvserver with workers: a task goes from POST to a film served at its capability URL (Range, HEAD) and at
 * /v1/videos/{id}/content, observed by /metrics (stages, provider calls, credits); a server stopped
 * mid-task hands the task to the next one. */
#include "testutil.h"
#include "harness.h"
#include "longvideo.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dir, *config, *key_secret, *other_secret;

static void setup(void)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	lv_key *k = NULL, *k2 = NULL;
	dir = lv_test_mkdtemp("srvpipe");
	config = lv_test_write_file(dir, "config.json",
	                            "{\"pipeline\":{\"lease_seconds\":2},"
	                            "\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":1500}}}");
	o.data_dir = dir;
	o.config_path = config;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_OK);
	ck_assert_int_eq(lv_key_create(&k, e, "app", 10000000), LV_OK);
	ck_assert_int_eq(lv_key_create(&k2, e, "other", 10000000), LV_OK);
	key_secret = lv_strdup(lv_key_secret(k));
	other_secret = lv_strdup(lv_key_secret(k2));
	lv_key_free(k);
	lv_key_free(k2);
	lv_engine_close(e);
}

static void teardown(void)
{
	lv_test_rmdir(dir);
	free(dir);
	free(config);
	free(key_secret);
	free(other_secret);
}

static cJSON *call(const lv_test_server *s, const char *method, const char *path, const char *secret,
                   const char *body, long want)
{
	char auth[128], *u = lv_asprintf("%s%s", s->base_url, path);
	const char *h[] = { auth, "Content-Type: application/json", NULL };
	lv_test_response r;
	cJSON *j;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", secret);
	ck_assert_int_eq(lv_test_http(&r, method, u, h, body, body ? strlen(body) : 0), 0);
	ck_assert_msg(r.status == want, "%s %s: %ld %s", method, path, r.status, r.body);
	j = cJSON_Parse(r.body);
	lv_test_response_free(&r);
	free(u);
	return j;
}

static cJSON *wait_status(const lv_test_server *s, const char *id, const char *status, int timeout_s)
{
	char path[96];
	int64_t until = lv_mono_ms() + timeout_s * 1000LL;
	snprintf(path, sizeof(path), "/v1/videos/%s", id);
	for (;;) {
		cJSON *t = call(s, "GET", path, key_secret, NULL, 200);
		if (!strcmp(lv_json_get_str(t, "status"), status))
			return t;
		ck_assert_msg(lv_mono_ms() < until, "task %s is %s, not %s, after %d s", id, lv_json_get_str(t, "status"),
		              status, timeout_s);
		cJSON_Delete(t);
		lv_sleep_ms(100);
	}
}

/* How many times a header field appears in a raw response head (case-insensitive name). */
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

/* The value of one sample line of a Prometheus text body ("name{labels} value"), or -1 if absent. */
static double sample(const char *body, const char *series)
{
	const char *p = body;
	size_t n = strlen(series);
	while ((p = strstr(p, series)) != NULL) {
		if ((p == body || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

/* GET /metrics (no key needed); the body, caller frees. */
static char *scrape(const lv_test_server *s)
{
	char *u = lv_asprintf("%s/metrics", s->base_url), *body;
	lv_test_response r;
	ck_assert_int_eq(lv_test_http(&r, "GET", u, NULL, NULL, 0), 0);
	ck_assert_int_eq(r.status, 200);
	body = lv_strdup(r.body);
	lv_test_response_free(&r);
	free(u);
	return body;
}

/* After a completed task: every stage observed once, the local provider's calls counted as ok, and the
 * credit gauges equal to what /v1/credits says of the two keys. */
static void check_metrics(const lv_test_server *s)
{
	static const char *const stages[] = { "scripting", "moderation", "anchoring", "generating",
		                              "audio",     "composing",  "delivering" };
	char series[160], *m = NULL;
	double available = 0, reserved = 0, v;
	int64_t until = lv_mono_ms() + 30000;
	size_t i;
	cJSON *c;
	/* The worker observes "delivering" just after the commit the API already shows: wait for it. */
	for (;;) {
		free(m);
		m = scrape(s);
		if (sample(m, "longvideo_stage_duration_seconds_count{stage=\"delivering\"}") >= 1 || lv_mono_ms() > until)
			break;
		lv_sleep_ms(50);
	}
	ck_assert_ptr_nonnull(strstr(m, "# TYPE longvideo_stage_duration_seconds histogram\n"));
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		snprintf(series, sizeof(series), "longvideo_stage_duration_seconds_count{stage=\"%s\"}", stages[i]);
		if (sample(m, series) != 1)
			fprintf(stderr, "%s", m);
		ck_assert_msg(sample(m, series) == 1, "%s: %g", series, sample(m, series));
		snprintf(series, sizeof(series), "longvideo_stage_duration_seconds_bucket{stage=\"%s\",le=\"+Inf\"}",
		         stages[i]);
		ck_assert_msg(sample(m, series) == 1, "%s", series);
		snprintf(series, sizeof(series), "longvideo_stage_duration_seconds_sum{stage=\"%s\"}", stages[i]);
		ck_assert_msg(sample(m, series) >= 0, "%s", series);
	}
	/* The local provider was called in each stage that calls one (latency_ms 1500: generating took that
	 * long at least).  It draws no anchor pictures (its clips are captioned cards), so anchoring calls none. */
	ck_assert_double_ge(sample(m, "longvideo_stage_duration_seconds_sum{stage=\"generating\"}"), 1.4);
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		if (!strcmp(stages[i], "anchoring") || !strcmp(stages[i], "composing") || !strcmp(stages[i], "delivering"))
			continue;
		snprintf(series, sizeof(series), "longvideo_provider_calls_total{provider=\"local\",stage=\"%s\",outcome=\"ok\"}",
		         stages[i]);
		if (sample(m, series) < 1)
			fprintf(stderr, "%s", m);
		ck_assert_msg(sample(m, series) >= 1, "%s: %g", series, sample(m, series));
		snprintf(series, sizeof(series),
		         "longvideo_provider_calls_total{provider=\"local\",stage=\"%s\",outcome=\"error\"}", stages[i]);
		ck_assert_msg(sample(m, series) < 0, "%s", series);
	}
	v = sample(m, "longvideo_provider_call_duration_seconds_count{provider=\"local\"}");
	ck_assert_double_ge(v, 6);
	ck_assert_double_eq(sample(m, "longvideo_provider_call_duration_seconds_bucket{provider=\"local\",le=\"+Inf\"}"), v);
	/* Ledger totals: the keys' running totals, as the API reports them. */
	c = call(s, "GET", "/v1/credits", key_secret, NULL, 200);
	available += cJSON_GetObjectItem(c, "balance")->valuedouble;
	reserved += cJSON_GetObjectItem(c, "reserved")->valuedouble;
	cJSON_Delete(c);
	c = call(s, "GET", "/v1/credits", other_secret, NULL, 200);
	available += cJSON_GetObjectItem(c, "balance")->valuedouble;
	reserved += cJSON_GetObjectItem(c, "reserved")->valuedouble;
	cJSON_Delete(c);
	ck_assert_double_eq(sample(m, "longvideo_credits{kind=\"granted\"}"), 20000);
	ck_assert_double_eq(sample(m, "longvideo_credits{kind=\"available\"}"), available);
	ck_assert_double_eq(sample(m, "longvideo_credits{kind=\"reserved\"}"), reserved);
	ck_assert_double_eq(sample(m, "longvideo_credits{kind=\"settled\"}"), 20000 - available - reserved);
	ck_assert_double_gt(20000 - available - reserved, 0); /* the film was charged */
	free(m);
}

START_TEST(a_task_becomes_a_film_served_with_range_support)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	cJSON *t;
	char id[64], url[512], path[256], buf[160], auth[128];
	lv_test_response r;
	const char *range[] = { "Range: bytes=100-1099", NULL };
	const char *hk[] = { auth, NULL };
	long size;
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	t = call(&s, "POST", "/v1/videos", key_secret, "{\"prompt\":\"Paper boats on a canal\",\"duration\":4}", 202);
	snprintf(id, sizeof(id), "%s", lv_json_get_str(t, "task_id"));
	cJSON_Delete(t);
	t = wait_status(&s, id, "completed", 180);
	snprintf(url, sizeof(url), "%s", lv_json_get_str(t, "result_url"));
	ck_assert(strncmp(url, s.base_url, strlen(s.base_url)) == 0);
	cJSON_Delete(t);
	check_metrics(&s);

	/* The capability URL needs no key; it serves the whole file, ranges and HEAD. */
	ck_assert_int_eq(lv_test_http(&r, "GET", url, NULL, NULL, 0), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lv_test_header(&r, "Content-Type", buf, sizeof(buf)), "video/mp4");
	ck_assert_str_eq(lv_test_header(&r, "Accept-Ranges", buf, sizeof(buf)), "bytes");
	size = (long)r.body_len;
	ck_assert_int_gt(size, 10000);
	ck_assert(memcmp(r.body + 4, "ftyp", 4) == 0);
	lv_test_response_free(&r);
	ck_assert_int_eq(lv_test_http(&r, "GET", url, range, NULL, 0), 0);
	ck_assert_int_eq(r.status, 206);
	ck_assert_uint_eq(r.body_len, 1000);
	snprintf(path, sizeof(path), "bytes 100-1099/%ld", size);
	ck_assert_str_eq(lv_test_header(&r, "Content-Range", buf, sizeof(buf)), path);
	lv_test_response_free(&r);
	ck_assert_int_eq(lv_test_http(&r, "HEAD", url, NULL, NULL, 0), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, 0);
	lv_test_response_free(&r);
	{
		/* RFC 9110 ranges: a suffix, a start past the end (416 with the length), If-Range. */
		const char *suffix[] = { "Range: bytes=-100", "Origin: https://page.example", NULL };
		const char *past[] = { "Range: bytes=999999999-", NULL };
		const char *stale[] = { "Range: bytes=0-9", "If-Range: \"not-this-one\"", NULL };
		char etag[96], if_range[128], want[96];
		const char *fresh[] = { "Range: bytes=0-9", if_range, NULL };
		ck_assert_int_eq(lv_test_http(&r, "GET", url, suffix, NULL, 0), 0);
		ck_assert_int_eq(r.status, 206);
		ck_assert_uint_eq(r.body_len, 100);
		snprintf(want, sizeof(want), "bytes %ld-%ld/%ld", size - 100, size - 1, size);
		ck_assert_str_eq(lv_test_header(&r, "Content-Range", buf, sizeof(buf)), want);
		/* One Cache-Control, and one Access-Control-Allow-Origin "*" for any page. */
		ck_assert_int_eq(count_header(r.headers, "Cache-Control"), 1);
		ck_assert_int_eq(count_header(r.headers, "Access-Control-Allow-Origin"), 1);
		ck_assert_str_eq(lv_test_header(&r, "Access-Control-Allow-Origin", buf, sizeof(buf)), "*");
		ck_assert_ptr_nonnull(lv_test_header(&r, "ETag", etag, sizeof(etag)));
		lv_test_response_free(&r);
		ck_assert_int_eq(lv_test_http(&r, "GET", url, past, NULL, 0), 0);
		ck_assert_int_eq(r.status, 416);
		snprintf(want, sizeof(want), "bytes */%ld", size);
		ck_assert_str_eq(lv_test_header(&r, "Content-Range", buf, sizeof(buf)), want);
		lv_test_response_free(&r);
		ck_assert_int_eq(lv_test_http(&r, "GET", url, stale, NULL, 0), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_int_eq((long)r.body_len, size);
		lv_test_response_free(&r);
		snprintf(if_range, sizeof(if_range), "If-Range: %s", etag);
		ck_assert_int_eq(lv_test_http(&r, "GET", url, fresh, NULL, 0), 0);
		ck_assert_int_eq(r.status, 206);
		ck_assert_uint_eq(r.body_len, 10);
		lv_test_response_free(&r);
	}
	/* A wrong token is nothing. */
	strcpy(strrchr(url, '/') - 3, "xyz/final.mp4");
	ck_assert_int_eq(lv_test_http(&r, "GET", url, NULL, NULL, 0), 0);
	ck_assert_int_eq(r.status, 404);
	lv_test_response_free(&r);

	/* /content: the same film for the key that owns it, 401 without a key, 404 for another key. */
	snprintf(path, sizeof(path), "%s/v1/videos/%s/content", s.base_url, id);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key_secret);
	ck_assert_int_eq(lv_test_http(&r, "GET", path, hk, NULL, 0), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq((long)r.body_len, size);
	lv_test_response_free(&r);
	ck_assert_int_eq(lv_test_http(&r, "GET", path, NULL, NULL, 0), 0);
	ck_assert_int_eq(r.status, 401);
	lv_test_response_free(&r);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", other_secret);
	ck_assert_int_eq(lv_test_http(&r, "GET", path, hk, NULL, 0), 0);
	ck_assert_int_eq(r.status, 404);
	lv_test_response_free(&r);
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
}
END_TEST

START_TEST(a_stopped_server_hands_its_task_to_the_next)
{
	lv_test_server s;
	const char *extra[] = { "--workers", "1", NULL };
	cJSON *t;
	char id[64];
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	/* Two shots, so that work remains after the hand-over; a small square film without music is enough. */
	t = call(&s, "POST", "/v1/videos", key_secret,
	         "{\"prompt\":\"Snow on a mountain pass\",\"duration\":10,\"aspect_ratio\":\"1:1\",\"music\":false}", 202);
	snprintf(id, sizeof(id), "%s", lv_json_get_str(t, "task_id"));
	cJSON_Delete(t);
	cJSON_Delete(wait_status(&s, id, "generating", 60));
	ck_assert_int_eq(lv_test_server_stop(&s), 0); /* SIGTERM: clean exit, lease released */
	ck_assert_int_eq(lv_test_server_start(&s, dir, config, extra), 0);
	t = wait_status(&s, id, "completed", 180);
	ck_assert_int_eq(cJSON_GetObjectItem(t, "progress")->valueint, 100);
	cJSON_Delete(t);
	ck_assert_int_eq(lv_test_server_stop(&s), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("server_pipeline");
	TCase *tc = tcase_create("server_pipeline");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 400);
	tcase_add_test(tc, a_task_becomes_a_film_served_with_range_support);
	tcase_add_test(tc, a_stopped_server_hands_its_task_to_the_next);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
