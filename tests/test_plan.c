/* The segment plan and estimate (SPEC §3), and configuration validation. */
#include "testutil.h"
#include "config/config.h"
#include "longvideo.h"
#include "plan/plan.h"

#include <stdlib.h>
#include <string.h>

static lv_engine *open_plan_engine(const char *config_json)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	o.config_json = config_json;
	o.flags = LV_ENGINE_NO_STORE;
	ck_assert_msg(lv_engine_open(&e, &o) == LV_OK, "engine: %s", lv_error_last()->message);
	return e;
}

static lv_plan *plan_for(lv_engine *e, int duration, const char *res, const char *provider)
{
	lv_plan_request r = LV_PLAN_REQUEST_INIT;
	lv_plan *p = NULL;
	r.duration = duration;
	r.resolution = res;
	r.provider = provider;
	ck_assert_msg(lv_plan_create(&p, e, &r) == LV_OK, "plan %d %s: %s", duration, res ? res : "",
	              lv_error_last()->message);
	return p;
}

static void assert_lengths(const lv_plan *p, const int *expect, size_t n)
{
	size_t i;
	ck_assert_uint_eq(lv_plan_segment_count(p), n);
	for (i = 0; i < n; i++) {
		lv_plan_segment s;
		ck_assert_int_eq(lv_plan_get_segment(&s, p, i), LV_OK);
		ck_assert_int_eq(s.seconds, expect[i]);
		ck_assert_int_eq(s.index, (int)i);
	}
}

START_TEST(spec_examples)
{
	lv_engine *e = open_plan_engine(NULL);
	lv_plan *p;
	static const int sixty[] = { 8, 8, 8, 8, 7, 7, 7, 7 };
	static const int seventeen[] = { 6, 6, 5 };
	static const int three[] = { 3 };
	char buf[32];

	p = plan_for(e, 60, "720p", NULL);
	ck_assert_int_eq(lv_plan_total(p), 1650000);
	assert_lengths(p, sixty, 8);
	lv_plan_free(p);

	p = plan_for(e, 3, NULL, NULL);
	ck_assert_int_eq(lv_plan_total(p), 82500);
	lv_credits_format(buf, sizeof(buf), lv_plan_total(p));
	ck_assert_str_eq(buf, "82.5");
	assert_lengths(p, three, 1);
	lv_plan_free(p);

	p = plan_for(e, 180, "1080p", "local");
	ck_assert_int_eq(lv_plan_total(p), 8496000);
	ck_assert_uint_eq(lv_plan_segment_count(p), 23);
	lv_plan_free(p);

	p = plan_for(e, 17, "720p", NULL);
	assert_lengths(p, seventeen, 3);
	lv_plan_free(p);
	lv_engine_close(e);
}
END_TEST

/* Every duration: ceil(d/8) segments, lengths differ by at most one, sum is the duration, starts add up. */
START_TEST(every_duration_is_balanced)
{
	lv_engine *e = open_plan_engine(NULL);
	int d;
	for (d = 3; d <= 180; d++) {
		lv_plan *p = plan_for(e, d, "720p", NULL);
		size_t i, n = lv_plan_segment_count(p);
		int sum = 0, lo = 99, hi = 0;
		int64_t price = 0;
		ck_assert_uint_eq(n, (size_t)((d + 7) / 8));
		for (i = 0; i < n; i++) {
			lv_plan_segment s;
			lv_plan_get_segment(&s, p, i);
			ck_assert_int_eq(s.start, sum);
			sum += s.seconds;
			price += s.price;
			lo = s.seconds < lo ? s.seconds : lo;
			hi = s.seconds > hi ? s.seconds : hi;
			ck_assert_int_le(s.seconds, 8);
			ck_assert_int_eq(s.billed_seconds, s.seconds);
			ck_assert_int_eq(s.price, (int64_t)s.seconds * 27500);
		}
		ck_assert_int_eq(sum, d);
		ck_assert_int_le(hi - lo, 1);
		ck_assert_int_eq(price, lv_plan_total(p));
		ck_assert_int_eq(lv_plan_total(p), (int64_t)d * 27500);
		lv_plan_free(p);
	}
	lv_engine_close(e);
}
END_TEST

START_TEST(allowed_lengths_bill_next_length)
{
	/* A Sora-like provider: only 4/8/12 s clips.  17 s -> 6+6+5 generated as 8+8+8 and billed so. */
	lv_engine *e = open_plan_engine("{\"providers\":{\"sora\":{\"type\":\"local\","
	                                "\"allowed_seconds\":[4,8,12],\"rates\":{\"720p\":10,\"1080p\":20}}}}");
	lv_plan *p = plan_for(e, 17, "720p", "sora");
	lv_plan_segment s;
	size_t i;
	for (i = 0; i < 3; i++) {
		lv_plan_get_segment(&s, p, i);
		ck_assert_int_eq(s.billed_seconds, 8);
		ck_assert_int_eq(s.price, 80000);
	}
	ck_assert_int_eq(lv_plan_total(p), 240000);
	lv_plan_free(p);
	p = plan_for(e, 3, "720p", "sora");
	lv_plan_get_segment(&s, p, 0);
	ck_assert_int_eq(s.seconds, 3);
	ck_assert_int_eq(s.billed_seconds, 4);
	lv_plan_free(p);
	lv_engine_close(e);
}
END_TEST

START_TEST(provider_minimum_and_maximum)
{
	/* min 5: a 9 s film is 5+4 -> the 4 s clip is generated (and billed) at 5 s.  max 5: 11 s -> 4+4+3. */
	lv_engine *e = open_plan_engine("{\"providers\":{\"a\":{\"type\":\"local\",\"min_seconds\":5},"
	                                "\"b\":{\"type\":\"local\",\"max_seconds\":5,\"rates\":{\"720p\":1,\"1080p\":2}}}}");
	lv_plan *p = plan_for(e, 9, "720p", "a");
	lv_plan_segment s;
	static const int eleven[] = { 4, 4, 3 };
	lv_plan_get_segment(&s, p, 1);
	ck_assert_int_eq(s.seconds, 4);
	ck_assert_int_eq(s.billed_seconds, 5);
	lv_plan_free(p);
	p = plan_for(e, 11, "1080p", "b");
	assert_lengths(p, eleven, 3);
	ck_assert_int_eq(lv_plan_total(p), 22000);
	lv_plan_free(p);
	lv_engine_close(e);
}
END_TEST

START_TEST(plan_errors_name_the_field)
{
	lv_engine *e = open_plan_engine(NULL);
	lv_plan_request r = LV_PLAN_REQUEST_INIT;
	lv_plan *p = NULL;
	r.duration = 2;
	ck_assert_int_eq(lv_plan_create(&p, e, &r), LV_EINVALID);
	ck_assert_str_eq(lv_error_last()->message, "duration: must be an integer from 3 to 180");
	r.duration = 181;
	ck_assert_int_eq(lv_plan_create(&p, e, &r), LV_EINVALID);
	r.duration = 10;
	r.resolution = "4k";
	ck_assert_int_eq(lv_plan_create(&p, e, &r), LV_EINVALID);
	ck_assert(strncmp(lv_error_last()->message, "resolution:", 11) == 0);
	r.resolution = NULL;
	r.provider = "nope";
	ck_assert_int_eq(lv_plan_create(&p, e, &r), LV_EINVALID);
	ck_assert(strncmp(lv_error_last()->message, "provider:", 9) == 0);
	ck_assert_ptr_null(p);
	lv_engine_close(e);
}
END_TEST

START_TEST(plan_json_has_the_estimate)
{
	lv_engine *e = open_plan_engine(NULL);
	lv_plan *p = plan_for(e, 3, "720p", NULL);
	char *json = NULL;
	ck_assert_int_eq(lv_plan_to_json(&json, p), LV_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"cost_estimate\":82.5"));
	ck_assert_ptr_nonnull(strstr(json, "\"shots_total\":1"));
	lv_free(json);
	lv_plan_free(p);
	lv_engine_close(e);
}
END_TEST

static void expect_config_error(const char *json, const char *needle)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	o.config_json = json;
	o.flags = LV_ENGINE_NO_STORE;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_ECONFIG);
	ck_assert_ptr_null(e);
	ck_assert_msg(strstr(lv_error_last()->message, needle) != NULL, "'%s' lacks '%s'", lv_error_last()->message,
	              needle);
}

START_TEST(config_errors_name_the_key)
{
	expect_config_error("{\"serer\":{}}", "serer: unknown key");
	expect_config_error("{\"server\":{\"threads\":0}}", "server.threads");
	expect_config_error("{\"server\":{\"listn\":\"x\"}}", "server.listn: unknown key");
	expect_config_error("{\"store\":\"mysql://x\"}", "store");
	expect_config_error("{\"pipeline\":{\"script\":\"claude\"}}", "pipeline.script: no provider named 'claude'");
	expect_config_error("{\"providers\":{\"x\":{\"type\":\"magic\"}}}", "providers.x.type: unknown type 'magic'");
	expect_config_error("{\"providers\":{\"x\":{\"type\":\"anthropic\",\"api_key\":\"sk-ant\"}}}",
	                    "never read from the config file");
	expect_config_error("{\"providers\":{\"x\":{\"type\":\"dashscope-video\",\"base_url\":\"ftp://h\"}}}",
	                    "providers.x");
	expect_config_error("{\"providers\":{\"v\":{\"type\":\"comfyui\",\"base_url\":\"http://h\"}}}",
	                    "providers.v.rates: no rate for 720p");
	expect_config_error("{\"webhooks\":{\"retry_delays_ms\":[-1]}}", "webhooks.retry_delays_ms");
	expect_config_error("{\"pipeline\":{\"default_video_provider\":\"claude\"},\"providers\":{\"claude\":"
	                    "{\"type\":\"anthropic\",\"api_key_env\":\"K\"}}}",
	                    "cannot serve this stage");
	expect_config_error("[1]", "JSON object");
	expect_config_error("{\"storage\":{\"type\":\"local\",\"dri\":\"x\"}}", "storage.dri: unknown key");
	expect_config_error("{\"server\":{\"threads\":4,\"threads\":8}}", "server.threads: given more than once");
	expect_config_error("{\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":1,\"latency_ms\":2}}}",
	                    "providers.local.latency_ms: given more than once");
	expect_config_error("{", "malformed JSON");
}
END_TEST

START_TEST(config_defaults_and_overrides)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	o.flags = LV_ENGINE_NO_STORE;
	o.data_dir = "/tmp/somewhere";
	o.listen = "0.0.0.0:9000";
	o.workers = 5;
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_OK);
	ck_assert_str_eq(lv_engine_setting(e, "store"), "sqlite:/tmp/somewhere/longvideo.db");
	ck_assert_str_eq(lv_engine_setting(e, "storage.dir"), "/tmp/somewhere/media");
	ck_assert_str_eq(lv_engine_setting(e, "server.listen"), "0.0.0.0:9000");
	ck_assert_str_eq(lv_engine_setting(e, "server.public_url"), "http://127.0.0.1:9000");
	ck_assert_int_eq(lv_engine_setting_int(e, "pipeline.workers", -1), 5);
	ck_assert_int_eq(lv_engine_setting_int(e, "server.max_body_bytes", 0), 1048576);
	ck_assert_ptr_null(lv_engine_setting(e, "nope"));
	ck_assert_int_eq(lv_engine_set_public_url(e, "http://127.0.0.1:4321/"), LV_OK);
	ck_assert_str_eq(lv_engine_setting(e, "server.public_url"), "http://127.0.0.1:4321");
	lv_engine_close(e);

	/* A configured public URL wins over what the server learns when it binds. */
	o = (lv_engine_options)LV_ENGINE_OPTIONS_INIT;
	o.flags = LV_ENGINE_NO_STORE;
	o.config_json = "{\"server\":{\"public_url\":\"https://video.example.com/\"}}";
	ck_assert_int_eq(lv_engine_open(&e, &o), LV_OK);
	ck_assert_int_eq(lv_engine_set_public_url(e, "http://127.0.0.1:1"), LV_OK);
	ck_assert_str_eq(lv_engine_setting(e, "server.public_url"), "https://video.example.com");
	lv_engine_close(e);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("plan");
	tcase_add_test(tc, spec_examples);
	tcase_add_test(tc, every_duration_is_balanced);
	tcase_add_test(tc, allowed_lengths_bill_next_length);
	tcase_add_test(tc, provider_minimum_and_maximum);
	tcase_add_test(tc, plan_errors_name_the_field);
	tcase_add_test(tc, plan_json_has_the_estimate);
	tcase_add_test(tc, config_errors_name_the_key);
	tcase_add_test(tc, config_defaults_and_overrides);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
