/* lv_engine_doctor: findings about stages, keys in the environment, base URLs, and online checks. */
#include "testutil.h"
#include "fakevendor.h"
#include "longvideo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lv_doctor *doctor(const char *config, unsigned flags)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	lv_doctor *d = NULL;
	o.config_json = config;
	o.flags = LV_ENGINE_NO_STORE;
	ck_assert_msg(lv_engine_open(&e, &o) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_engine_doctor(&d, e, flags), LV_OK);
	lv_engine_close(e);
	return d;
}

static const lv_doctor_check *find(const lv_doctor *d, const char *check, const char *provider)
{
	size_t i;
	for (i = 0; i < lv_doctor_count(d); i++) {
		const lv_doctor_check *c = lv_doctor_get(d, i);
		if (!strcmp(c->check, check) && c->provider && !strcmp(c->provider, provider))
			return c;
	}
	return NULL;
}

START_TEST(drawn_anchors_with_a_real_video_provider_are_explained)
{
	lv_doctor *d = doctor("{\"pipeline\":{\"default_video_provider\":\"hh\"},\"providers\":{\"hh\":{\"type\":"
	                      "\"dashscope-video\",\"api_key_env\":\"LV_TEST_DOCTOR_DS\"}}}",
	                      0);
	const lv_doctor_check *c = find(d, "anchor", "hh");
	ck_assert_ptr_nonnull(c);
	ck_assert(c->ok);
	ck_assert_ptr_nonnull(strstr(c->message, "made from text"));
	ck_assert_ptr_null(find(d, "anchor", "local")); /* the built-in video provider uses the cards */
	lv_doctor_free(d);
}
END_TEST

START_TEST(defaults_are_healthy)
{
	lv_doctor *d = doctor(NULL, LV_DOCTOR_ONLINE);
	char *json = NULL;
	ck_assert(lv_doctor_ok(d));
	ck_assert_ptr_nonnull(find(d, "build", "local"));
	ck_assert_ptr_nonnull(find(d, "online", "local"));
	ck_assert_int_eq(lv_doctor_to_json(&json, d), LV_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"ok\":true"));
	lv_free(json);
	lv_doctor_free(d);
}
END_TEST

START_TEST(a_missing_key_variable_is_named)
{
	lv_doctor *d;
	const lv_doctor_check *c;
	unsetenv("LV_TEST_DOCTOR_KEY");
	d = doctor("{\"providers\":{\"mine\":{\"type\":\"local\",\"api_key_env\":\"LV_TEST_DOCTOR_KEY\"}}}", 0);
	ck_assert(!lv_doctor_ok(d));
	c = find(d, "api_key_env", "mine");
	ck_assert_ptr_nonnull(c);
	ck_assert(!c->ok);
	ck_assert_ptr_nonnull(strstr(c->message, "LV_TEST_DOCTOR_KEY is not set"));
	lv_doctor_free(d);
	setenv("LV_TEST_DOCTOR_KEY", "secret-value-xyz", 1);
	d = doctor("{\"providers\":{\"mine\":{\"type\":\"local\",\"api_key_env\":\"LV_TEST_DOCTOR_KEY\"}}}", 0);
	ck_assert(lv_doctor_ok(d));
	c = find(d, "api_key_env", "mine");
	ck_assert(c->ok);
	ck_assert_ptr_null(strstr(c->message, "secret-value-xyz")); /* the value is never shown */
	lv_doctor_free(d);
}
END_TEST

START_TEST(online_checks_ask_the_vendors)
{
	lv_fake *f = lv_fake_start();
	lv_fake_response ok = { 200, NULL, "{\"data\":[]}", 0, NULL, NULL, 0, 0 };
	lv_fake_response refused = { 401, NULL, "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\"}}", 0,
		                     NULL, NULL, 0, 0 };
	char config[512], hdr[128];
	lv_doctor *d;
	const lv_doctor_check *c;
	lv_fake_request *r;
	ck_assert_ptr_nonnull(f);
	setenv("LV_TEST_DOCTOR_ANTHROPIC", "sk-ant-doctor-secret", 1);
	setenv("LV_TEST_DOCTOR_OPENAI", "sk-openai-doctor-secret", 1);
	snprintf(config, sizeof(config),
	         "{\"providers\":{\"claude\":{\"type\":\"anthropic\",\"base_url\":\"%s\","
	         "\"api_key_env\":\"LV_TEST_DOCTOR_ANTHROPIC\"},"
	         "\"gpt\":{\"type\":\"openai-chat\",\"base_url\":\"%s/v1\",\"model\":\"m\","
	         "\"api_key_env\":\"LV_TEST_DOCTOR_OPENAI\"}}}",
	         lv_fake_url(f), lv_fake_url(f));
	lv_fake_on(f, "GET", "/v1/models", &ok);
	d = doctor(config, LV_DOCTOR_ONLINE);
	ck_assert(lv_doctor_ok(d));
	ck_assert(find(d, "online", "claude")->ok);
	ck_assert(find(d, "online", "gpt")->ok);
	lv_doctor_free(d);
	r = lv_fake_last(f, "GET", "/v1/models");
	ck_assert_ptr_nonnull(r);
	lv_fake_request_free(r);
	ck_assert_uint_eq(lv_fake_count(f, "GET", "/v1/models"), 2);
	lv_fake_on(f, "GET", "/v1/models", &refused);
	d = doctor(config, LV_DOCTOR_ONLINE);
	ck_assert(!lv_doctor_ok(d));
	c = find(d, "online", "claude");
	ck_assert(!c->ok);
	ck_assert_ptr_nonnull(strstr(c->message, "LV_TEST_DOCTOR_ANTHROPIC"));
	ck_assert_ptr_null(strstr(c->message, "doctor-secret"));
	lv_doctor_free(d);
	/* The anthropic check authenticates the way messages do. */
	{
		size_t i, n = lv_fake_requests(f), found = 0;
		for (i = 0; i < n; i++) {
			r = lv_fake_request_get(f, i);
			if (lv_fake_header(r, "x-api-key", hdr, sizeof(hdr)) && !strcmp(hdr, "sk-ant-doctor-secret") &&
			    lv_fake_header(r, "anthropic-version", hdr, sizeof(hdr)))
				found++;
			lv_fake_request_free(r);
		}
		ck_assert_uint_ge(found, 2);
	}
	lv_fake_stop(f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("doctor");
	TCase *tc = tcase_create("doctor");
	tcase_add_test(tc, defaults_are_healthy);
	tcase_add_test(tc, a_missing_key_variable_is_named);
	tcase_add_test(tc, online_checks_ask_the_vendors);
	tcase_add_test(tc, drawn_anchors_with_a_real_video_provider_are_explained);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
