/* The operator kit: the example configuration and the configuration reference cannot fall behind
 * the parser (every key it knows is in both, with its default). */
#include "testutil.h"
#include "config/config.h"
#include "util/error.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *read_json(const char *rel)
{
	char path[1024], *text = NULL;
	size_t len = 0;
	cJSON *j;
	snprintf(path, sizeof(path), "%s/%s", LV_TEST_SOURCE_DIR, rel);
	ck_assert_msg(lv_test_read_file(&text, &len, path) == 0, "cannot read %s", path);
	j = cJSON_Parse(text);
	ck_assert_msg(j != NULL, "%s is not JSON", path);
	free(text);
	return j;
}

static const cJSON *section_of(const cJSON *root, const char *section)
{
	if (!*section)
		return root;
	if (!strcmp(section, "storage.s3"))
		section = "storage";
	return cJSON_GetObjectItemCaseSensitive(root, section);
}

START_TEST(example_config_holds_every_key_with_its_default)
{
	cJSON *ex = read_json("examples/config/longvideo.json"), *deploy = read_json("examples/deploy/longvideo.json");
	const lv_config_key *k;
	const cJSON *it;
	size_t n = 0;
	for (k = lv_config_keys; k->name; k++, n++) {
		int s3 = !strcmp(k->section, "storage.s3");
		const cJSON *sec = section_of(s3 ? deploy : ex, k->section), *v;
		cJSON *def = cJSON_Parse(k->def);
		ck_assert_msg(def != NULL, "%s.%s: default '%s' is not JSON", k->section, k->name, k->def);
		ck_assert_msg(sec != NULL, "example has no section '%s'", k->section);
		v = cJSON_GetObjectItemCaseSensitive(sec, k->name);
		ck_assert_msg(v != NULL, "%s: %s%s%s is missing", s3 ? "examples/deploy/longvideo.json"
		                                                     : "examples/config/longvideo.json",
		              k->section, *k->section ? "." : "", k->name);
		/* The example of every default: the same value (objects are sections, checked key by key). */
		if (!s3 && !cJSON_IsObject(def))
			ck_assert_msg(cJSON_Compare(v, def, 1), "examples/config/longvideo.json: %s.%s is not the default %s",
			              k->section, k->name, k->def);
		cJSON_Delete(def);
	}
	ck_assert_int_gt(n, 40);
	/* And nothing in the example that the table lacks (the parser would refuse it anyway). */
	cJSON_ArrayForEach(it, ex)
	{
		const cJSON *sub;
		int found = 0;
		for (k = lv_config_keys; k->name; k++)
			found |= !*k->section && !strcmp(k->name, it->string);
		ck_assert_msg(found, "example key %s is not in the table", it->string);
		if (!cJSON_IsObject(it) || !strcmp(it->string, "providers"))
			continue;
		cJSON_ArrayForEach(sub, it)
		{
			found = 0;
			for (k = lv_config_keys; k->name; k++)
				found |= !strcmp(k->section, it->string) && !strcmp(k->name, sub->string);
			ck_assert_msg(found, "example key %s.%s is not in the table", it->string, sub->string);
		}
	}
	cJSON_Delete(ex);
	cJSON_Delete(deploy);
}
END_TEST

START_TEST(example_configs_load_and_equal_the_defaults)
{
	lv_config *ex = NULL, *def = NULL, *deploy = NULL;
	char path[1024];
	int i;
	snprintf(path, sizeof(path), "%s/examples/config/longvideo.json", LV_TEST_SOURCE_DIR);
	ck_assert_msg(lv_config_load(&ex, path, NULL, NULL) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_config_load(&def, NULL, NULL, NULL), LV_OK);
	ck_assert_str_eq(ex->data_dir, def->data_dir);
	ck_assert_str_eq(ex->store, def->store);
	ck_assert_str_eq(ex->storage_type, def->storage_type);
	ck_assert_str_eq(ex->storage_dir, def->storage_dir);
	ck_assert_str_eq(ex->listen, def->listen);
	ck_assert_str_eq(ex->public_url, def->public_url);
	ck_assert_int_eq(ex->threads, def->threads);
	ck_assert_int_eq(ex->max_body_bytes, def->max_body_bytes);
	ck_assert_int_eq(ex->max_create_body_bytes, def->max_create_body_bytes);
	ck_assert_int_eq(ex->rate_limit_per_minute, def->rate_limit_per_minute);
	ck_assert_int_eq(ex->max_connections, def->max_connections);
	ck_assert_int_eq(ex->max_connections_per_ip, def->max_connections_per_ip);
	ck_assert_int_eq(ex->header_timeout_ms, def->header_timeout_ms);
	ck_assert_int_eq(ex->body_timeout_ms, def->body_timeout_ms);
	ck_assert_ptr_null(ex->trusted_proxies);
	ck_assert_ptr_null(ex->cors_origins);
	ck_assert_int_eq(ex->log_json, 0);
	ck_assert_int_eq(ex->retention_days, def->retention_days);
	ck_assert_int_eq(ex->keep_intermediates, 1);
	ck_assert_int_eq(def->keep_intermediates, 1);
	ck_assert_int_eq(ex->workers, def->workers);
	ck_assert_int_eq(ex->segment_concurrency, def->segment_concurrency);
	ck_assert_int_eq(ex->lease_seconds, def->lease_seconds);
	ck_assert_int_eq(ex->segment_retries, def->segment_retries);
	ck_assert_int_eq(ex->max_tasks_in_flight, def->max_tasks_in_flight);
	ck_assert(ex->review_timeout_hours == def->review_timeout_hours);
	ck_assert_str_eq(ex->default_video_provider, def->default_video_provider);
	for (i = 0; i < LV_STAGE_IDX_COUNT; i++)
		ck_assert_str_eq(ex->stage_provider[i], def->stage_provider[i]);
	ck_assert_int_eq((int)ex->n_webhook_delays, (int)def->n_webhook_delays);
	ck_assert_int_eq(ex->webhook_timeout_ms, def->webhook_timeout_ms);
	ck_assert_int_eq(ex->webhook_allow_private, def->webhook_allow_private);
	ck_assert_str_eq(ex->master_key_env, def->master_key_env);
	ck_assert_int_eq(ex->idempotency_ttl_hours, def->idempotency_ttl_hours);
	ck_assert_int_eq(ex->store_pool_size, def->store_pool_size);
	/* The production example parses too (S3 is only opened by the engine). */
	snprintf(path, sizeof(path), "%s/examples/deploy/longvideo.json", LV_TEST_SOURCE_DIR);
	ck_assert_msg(lv_config_load(&deploy, path, NULL, NULL) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(deploy->retention_days, 30);
	ck_assert_int_eq(deploy->keep_intermediates, 0);
	ck_assert_int_eq(deploy->log_json, 1);
	lv_config_free(ex);
	lv_config_free(def);
	lv_config_free(deploy);
}
END_TEST

START_TEST(operating_md_documents_every_key)
{
	char path[1024], *doc = NULL, row[256];
	size_t len = 0;
	const lv_config_key *k;
	snprintf(path, sizeof(path), "%s/docs/operating.md", LV_TEST_SOURCE_DIR);
	ck_assert_int_eq(lv_test_read_file(&doc, &len, path), 0);
	for (k = lv_config_keys; k->name; k++) {
		const char *sec = !strcmp(k->section, "storage.s3") ? "storage" : k->section;
		snprintf(row, sizeof(row), "\n| `%s%s%s` |", sec, *sec ? "." : "", k->name);
		ck_assert_msg(strstr(doc, row) != NULL, "docs/operating.md has no table row for %s", row + 1);
	}
	free(doc);
}
END_TEST

START_TEST(new_keys_are_validated_by_name)
{
	lv_config *c = NULL;
	ck_assert_int_eq(lv_config_load(&c, NULL, "{\"server\":{\"log_format\":\"xml\"}}", NULL), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "server.log_format"));
	ck_assert_int_eq(lv_config_load(&c, NULL, "{\"storage\":{\"retention_days\":-1}}", NULL), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "storage.retention_days"));
	ck_assert_int_eq(lv_config_load(&c, NULL, "{\"storage\":{\"keep_intermediates\":1}}", NULL), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "keep_intermediates"));
	ck_assert_int_eq(lv_config_load(&c, NULL, "{\"storage\":{\"retention_dayz\":1}}", NULL), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "storage.retention_dayz: unknown key"));
	ck_assert_int_eq(lv_config_load(&c, NULL,
	                                "{\"server\":{\"log_format\":\"json\"},\"storage\":{\"retention_days\":7,"
	                                "\"keep_intermediates\":false}}",
	                                NULL),
	                 LV_OK);
	ck_assert_int_eq(c->log_json, 1);
	ck_assert_int_eq(c->retention_days, 7);
	ck_assert_int_eq(c->keep_intermediates, 0);
	lv_config_free(c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, example_config_holds_every_key_with_its_default);
	tcase_add_test(tc, example_configs_load_and_equal_the_defaults);
	tcase_add_test(tc, operating_md_documents_every_key);
	tcase_add_test(tc, new_keys_are_validated_by_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
