/* Keys, validation, create/get/list/cancel/compose and the ledger, through the public API. */
#include "testutil.h"
#include "core/engine.h"
#include "core/keys.h"
#include "core/request.h"
#include "core/task.h"
#include "longvideo.h"
#include "util/fs.h"
#include "util/json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;
static lv_engine *eng;
static lv_key *key;

static void setup(void)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	dir = lv_test_mkdtemp("tasks");
	ck_assert_ptr_nonnull(dir);
	o.data_dir = dir;
	ck_assert_msg(lv_engine_open(&eng, &o) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_key_create(&key, eng, "test", 10000000), LV_OK); /* 10000 credits */
}

static void teardown(void)
{
	char *report = NULL;
	int rc = lv_ledger_verify(eng, &report);
	ck_assert_msg(rc == LV_OK, "ledger: %s", report ? report : lv_error_last()->message);
	lv_free(report);
	lv_key_free(key);
	lv_engine_close(eng);
	lv_test_rmdir(dir);
	free(dir);
}

static lv_task *create_body(const char *body, const char *idem, int expect)
{
	lv_task *t = NULL;
	int rc = lv_task_create_json(&t, eng, key, body, strlen(body), idem);
	ck_assert_msg(rc == expect, "create %s: got %d (%s), want %d", body, rc, lv_error_last()->message, expect);
	if (expect != LV_OK)
		ck_assert_ptr_null(t);
	return t;
}

static void expect_invalid(const char *body, const char *prefix)
{
	create_body(body, NULL, LV_EINVALID);
	ck_assert_msg(strncmp(lv_error_last()->message, prefix, strlen(prefix)) == 0, "%s -> '%s', want prefix '%s'",
	              body, lv_error_last()->message, prefix);
}

static lv_credits credits_now(void)
{
	lv_credits c;
	ck_assert_int_eq(lv_key_credits(&c, eng, key), LV_OK);
	return c;
}

/* ---- keys ------------------------------------------------------------------------------- */

START_TEST(key_create_shapes_and_authentication)
{
	const char *sk = lv_key_secret(key), *wh = lv_key_webhook_secret(key);
	lv_key *k2 = NULL, *again = NULL;
	size_t i;
	ck_assert_int_eq(strlen(sk), 43);
	ck_assert(strncmp(sk, "sk-", 3) == 0);
	for (i = 3; i < 43; i++)
		ck_assert(isalnum((unsigned char)sk[i]));
	ck_assert(strncmp(wh, "whsec_", 6) == 0);
	ck_assert_int_eq(strlen(wh), 6 + 44);
	ck_assert(strncmp(lv_key_id(key), "key_", 4) == 0);
	ck_assert(strncmp(lv_key_prefix(key), sk, 11) == 0);

	ck_assert_int_eq(lv_key_authenticate(&k2, eng, sk), LV_OK);
	ck_assert_str_eq(lv_key_id(k2), lv_key_id(key));
	ck_assert_ptr_null(lv_key_secret(k2)); /* never again */
	ck_assert_int_eq(lv_key_credits_snapshot(k2)->balance, 10000000);
	ck_assert_int_eq(lv_key_credits_snapshot(k2)->granted, 10000000);
	lv_key_free(k2);

	/* Malformed keys are refused before any lookup; unknown ones after. */
	ck_assert_int_eq(lv_key_authenticate(&k2, eng, "sk-short"), LV_EAUTH);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "malformed"));
	ck_assert_int_eq(lv_key_authenticate(&k2, eng, NULL), LV_EAUTH);
	ck_assert_int_eq(lv_key_authenticate(&k2, eng, "Bearer sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), LV_EAUTH);
	ck_assert_int_eq(lv_key_authenticate(&k2, eng, "sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"), LV_EAUTH);
	ck_assert_int_eq(lv_key_authenticate(&k2, eng, "sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), LV_EAUTH);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "unknown or revoked"));
	ck_assert_ptr_null(k2);

	/* Two keys never share a secret; revoke stops authentication. */
	ck_assert_int_eq(lv_key_create(&again, eng, "second", 0), LV_OK);
	ck_assert_str_ne(lv_key_secret(again), sk);
	ck_assert_str_ne(lv_key_webhook_secret(again), wh);
	ck_assert_int_eq(lv_key_revoke(eng, lv_key_id(again)), LV_OK);
	ck_assert_int_eq(lv_key_revoke(eng, lv_key_id(again)), LV_OK);
	ck_assert_int_eq(lv_key_authenticate(&k2, eng, lv_key_secret(again)), LV_EAUTH);
	ck_assert_int_eq(lv_key_lookup(&k2, eng, lv_key_id(again)), LV_OK);
	ck_assert(lv_key_revoked(k2));
	lv_key_free(k2);
	lv_key_free(again);
	ck_assert_int_eq(lv_key_revoke(eng, "key_nope"), LV_ENOKEY);
	ck_assert_int_eq(lv_key_create(&again, eng, "", 0), LV_EINVALID);
	ck_assert_int_eq(lv_key_create(&again, eng, "x", -1), LV_EINVALID);
}
END_TEST

START_TEST(key_secrets_are_never_stored)
{
	/* Neither the plaintext key nor the webhook secret appears anywhere in the database files, which are
	 * read for real: the database must be readable, the write-ahead log too when there is one, and the
	 * key's row (its id) must be found in them, so that an unreadable or empty store cannot pass. */
	const char *needles[2] = { lv_key_secret(key), lv_key_webhook_secret(key) + 6 };
	const char *files[] = { "longvideo.db", "longvideo.db-wal" }, *key_id = lv_key_id(key);
	size_t i, j, read = 0;
	int id_seen = 0;
	ck_assert_ptr_nonnull(needles[0]);
	ck_assert_uint_gt(strlen(needles[0]), 16);
	ck_assert_uint_gt(strlen(needles[1]), 16);
	for (i = 0; i < 2; i++) {
		char *path = NULL, *data = NULL;
		size_t len = 0;
		path = malloc(strlen(dir) + 32);
		ck_assert_ptr_nonnull(path);
		sprintf(path, "%s/%s", dir, files[i]);
		if (i == 0 || lv_path_exists(path)) {
			ck_assert_msg(lv_test_read_file(&data, &len, path) == 0, "cannot read %s", path);
			ck_assert_msg(len > 0, "%s is empty", path);
			read++;
			for (j = 0; j < 2; j++)
				ck_assert_msg(memmem(data, len, needles[j], strlen(needles[j])) == NULL, "%s found in %s",
				              j ? "webhook secret" : "API key", files[i]);
			id_seen |= memmem(data, len, key_id, strlen(key_id)) != NULL;
			free(data);
		}
		free(path);
	}
	ck_assert_uint_ge(read, 1);
	ck_assert_msg(id_seen, "the key %s is in none of the files read: they are not the store", key_id);
}
END_TEST

START_TEST(grant_and_list)
{
	lv_key_list *list = NULL;
	ck_assert_int_eq(lv_key_grant(eng, lv_key_id(key), 1500), LV_OK);
	ck_assert_int_eq(lv_key_grant(eng, lv_key_id(key), 0), LV_EINVALID);
	ck_assert_int_eq(lv_key_grant(eng, "key_missing", 5), LV_ENOKEY);
	ck_assert_int_eq(credits_now().balance, 10001500);
	ck_assert_int_eq(credits_now().granted, 10001500);
	ck_assert_int_eq(lv_key_list_all(&list, eng), LV_OK);
	ck_assert_uint_eq(lv_key_list_count(list), 1);
	ck_assert_str_eq(lv_key_name(lv_key_list_get(list, 0)), "test");
	ck_assert_ptr_null(lv_key_secret(lv_key_list_get(list, 0)));
	lv_key_list_free(list);
}
END_TEST

/* ---- validation ------------------------------------------------------------------------- */

START_TEST(validation_names_every_field)
{
	expect_invalid("", "body: empty");
	expect_invalid("{", "body: malformed JSON");
	expect_invalid("[]", "body: must be a JSON object");
	expect_invalid("{\"duration\":10}", "prompt: is required");
	expect_invalid("{\"prompt\":5,\"duration\":10}", "prompt: must be a string");
	expect_invalid("{\"prompt\":\"   \\n\\u3000 \",\"duration\":10}", "prompt: must be 1 to 4000 characters");
	expect_invalid("{\"prompt\":\"a\\u0000b\",\"duration\":10}", "body: strings must not contain \\u0000");
	expect_invalid("{\"prompt\":\"a\xff\",\"duration\":10}", "prompt: must be valid UTF-8");
	expect_invalid("{\"prompt\":\"x\"}", "duration: is required");
	expect_invalid("{\"prompt\":\"x\",\"duration\":2}", "duration: must be an integer from 3 to 180");
	expect_invalid("{\"prompt\":\"x\",\"duration\":181}", "duration: must be an integer from 3 to 180");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10.5}", "duration: must be an integer from 3 to 180");
	expect_invalid("{\"prompt\":\"x\",\"duration\":\"10\"}", "duration: must be an integer from 3 to 180");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"resolution\":\"4k\"}", "resolution: must be");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"resolution\":720}", "resolution: must be");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"aspect_ratio\":\"4:3\"}", "aspect_ratio: must be");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"provider\":\"sora\"}", "provider: 'sora' is not a configured");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"provider\":\"\"}", "provider: must be");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"language\":\"english\"}", "language: must be a BCP-47");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"language\":\"z\"}", "language: must be a BCP-47");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"narration\":\"yes\"}", "narration: must be true or false");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"music\":1}", "music: must be true or false");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"subtitles\":\"hard\"}", "subtitles: must be");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"webhook_url\":\"ftp://a/b\"}", "webhook_url: must be");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"webhook_url\":\"/relative\"}", "webhook_url: must be");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"webhook_url\":\"example.com/hook\"}", "webhook_url: must be");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"metadata\":[]}", "metadata: must be an object");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"metadata\":{\"a\":1}}", "metadata.a: must be a string");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"colour\":\"red\"}", "colour: unknown field");
	expect_invalid("{\"prompt\":\"x\",\"duration\":10,\"duration\":11}", "duration: given more than once");
	ck_assert_int_eq(credits_now().balance, 10000000); /* nothing charged */
}
END_TEST

START_TEST(validation_limits)
{
	char *body = malloc(20000), *p;
	int i;
	/* 4000 characters (multi-byte) is fine; 4001 is not. */
	strcpy(body, "{\"duration\":3,\"prompt\":\"");
	p = body + strlen(body);
	for (i = 0; i < 4000; i++) {
		memcpy(p, "\xe5\xa4\xa9", 3);
		p += 3;
	}
	strcpy(p, "\"}");
	lv_task_free(create_body(body, NULL, LV_OK));
	strcpy(p, "x\"}");
	expect_invalid(body, "prompt: must be 1 to 4000 characters");

	/* 16 metadata keys fine, 17 not; values up to 512 characters. */
	strcpy(body, "{\"prompt\":\"x\",\"duration\":3,\"metadata\":{");
	for (i = 0; i < 16; i++)
		sprintf(body + strlen(body), "%s\"k%d\":\"v\"", i ? "," : "", i);
	strcat(body, "}}");
	lv_task_free(create_body(body, NULL, LV_OK));
	body[strlen(body) - 2] = '\0';
	strcat(body, ",\"k16\":\"v\"}}");
	expect_invalid(body, "metadata: at most 16 keys");
	strcpy(body, "{\"prompt\":\"x\",\"duration\":3,\"metadata\":{\"a\":\"");
	for (i = 0; i < 513; i++)
		strcat(body, "v");
	strcat(body, "\"}}");
	expect_invalid(body, "metadata.a: must be a string of at most 512");

	/* webhook_url up to 2048 characters. */
	strcpy(body, "{\"prompt\":\"x\",\"duration\":3,\"webhook_url\":\"https://example.com/");
	for (i = 0; i < 2030; i++)
		strcat(body, "a");
	strcat(body, "\"}");
	expect_invalid(body, "webhook_url: must be an absolute http or https URL of at most 2048");
	free(body);
}
END_TEST

START_TEST(defaults_and_normalisation)
{
	lv_task *t = create_body("{\"prompt\":\"  城市清晨的延时风光  \",\"duration\":60,\"resolution\":null,"
	                         "\"metadata\":{\"z\":\"1\",\"a\":\"2\"}}", NULL, LV_OK);
	char *json = NULL;
	cJSON *o;
	ck_assert_int_eq(lv_task_to_json(&json, t, 0), LV_OK);
	o = cJSON_Parse(json);
	ck_assert_str_eq(lv_json_get_str(o, "prompt"), "城市清晨的延时风光");
	ck_assert_str_eq(lv_json_get_str(o, "status"), "queued");
	ck_assert_str_eq(lv_json_get_str(o, "object"), "video");
	ck_assert_str_eq(lv_json_get_str(o, "resolution"), "720p");
	ck_assert_str_eq(lv_json_get_str(o, "aspect_ratio"), "16:9");
	ck_assert_str_eq(lv_json_get_str(o, "provider"), "local");
	ck_assert_str_eq(lv_json_get_str(o, "language"), "zh");
	ck_assert_str_eq(lv_json_get_str(o, "subtitles"), "soft");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "narration")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "music")));
	ck_assert_int_eq(cJSON_GetObjectItem(o, "cost_estimate")->valueint, 1650);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "cost_actual")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "result_url")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "error")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "webhook_url")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "completed_at")));
	ck_assert_int_eq(cJSON_GetObjectItem(o, "shots_total")->valueint, 8);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "progress")->valueint, 0);
	ck_assert(strncmp(lv_json_get_str(o, "task_id"), "vid_", 4) == 0);
	ck_assert_int_eq(strlen(lv_json_get_str(o, "created_at")), 20);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(o, "metadata"), "a"), "2");
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "shots"));
	cJSON_Delete(o);
	lv_free(json);
	ck_assert_int_eq(lv_task_to_json(&json, t, LV_TASK_JSON_DETAIL), LV_OK);
	o = cJSON_Parse(json);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "shots")), 8);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "shots"), 4), "status"), "pending");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "shots"), 4), "start")->valueint,
	                 32);
	cJSON_Delete(o);
	lv_free(json);
	ck_assert_int_eq(credits_now().balance, 10000000 - 1650000);
	ck_assert_int_eq(credits_now().reserved, 1650000);
	lv_task_free(t);

	ck_assert_str_eq(lv_language_detect("A quiet harbour at dawn"), "en");
	ck_assert_str_eq(lv_language_detect("東京の朝"), "ja");
	ck_assert_str_eq(lv_language_detect("서울의 아침"), "ko");
	{
		/* Latin-script prompts are told apart (function words, then libexttextcat n-gram profiles) */
		static const char *const table[][2] = {
			{ "A lighthouse keeper named Ada watches a storm roll in", "en" },
			{ "Two robots, Bolt and Pixel, repair a satellite on the roof at night", "en" },
			{ "A time-lapse of a city at dawn", "en" },
			{ "Sunrise over the mountains", "en" },
			{ "Un vieux p\xc3\xaa" "cheur nomm\xc3\xa9 Tomas part en mer \xc3\xa0 l'aube", "fr" },
			{ "Une ville la nuit", "fr" },
			{ "Un viejo pescador llamado Tom\xc3\xa1s sale al mar al amanecer", "es" },
			{ "Una ciudad de noche", "es" },
			{ "Ein alter Fischer namens Tomas f\xc3\xa4hrt bei Sonnenaufgang aufs Meer", "de" },
			{ "Die Katze schl\xc3\xa4" "ft", "de" },
			{ "Un vecchio pescatore di nome Tomas esce in mare all'alba", "it" },
			{ "Um velho pescador chamado Tom\xc3\xa1s sai para o mar ao amanhecer", "pt" },
			{ "Een oude visser genaamd Tomas vaart bij zonsopgang uit", "nl" },
			{ "Stary rybak Tomas wyp\xc5\x82ywa o \xc5\x9bwicie", "pl" },
			{ "\xe0\xb8\x81\xe0\xb8\xa3\xe0\xb8\xb8\xe0\xb8\x87\xe0\xb9\x80\xe0\xb8\x97\xe0\xb8\x9e", "th" },
			{ "\xe0\xa4\xae\xe0\xa5\x81\xe0\xa4\x82\xe0\xa4\xac\xe0\xa4\x88 \xe0\xa4\x95\xe0\xa5\x80 \xe0\xa4\xb8\xe0\xa5\x81\xe0\xa4\xac\xe0\xa4\xb9", "hi" },
			{ "Ada", "en" },
		};
		size_t k;
		for (k = 0; k < sizeof(table) / sizeof(table[0]); k++)
			ck_assert_msg(!strcmp(lv_language_detect(table[k][0]), table[k][1]), "'%s': detected %s, expected %s",
			              table[k][0], lv_language_detect(table[k][0]), table[k][1]);
	}
	t = create_body("{\"prompt\":\"x\",\"duration\":3,\"language\":\"PT-br\"}", NULL, LV_OK);
	ck_assert_str_eq(t->rec.language, "pt");
	lv_task_free(t);
}
END_TEST

START_TEST(struct_requests_use_the_same_rules)
{
	lv_task_request r = LV_TASK_REQUEST_INIT;
	lv_plan *plan = NULL;
	lv_task *t = NULL;
	r.prompt = "A lighthouse in a storm";
	r.duration = 17;
	r.narration = 0;
	r.metadata_json = "{\"user_ref\":\"u1\"}";
	ck_assert_int_eq(lv_task_estimate(&plan, eng, &r), LV_OK);
	ck_assert_int_eq(lv_plan_total(plan), 17 * 27500);
	lv_plan_free(plan);
	ck_assert_int_eq(lv_task_create(&t, eng, key, &r, NULL), LV_OK);
	ck_assert_int_eq(lv_task_shots_total(t), 3);
	ck_assert_int_eq(t->rec.narration, 0);
	ck_assert_str_eq(t->rec.language, "en");
	lv_task_free(t);
	r.metadata_json = "{bad";
	ck_assert_int_eq(lv_task_create(&t, eng, key, &r, NULL), LV_EINVALID);
	ck_assert(strncmp(lv_error_last()->message, "metadata:", 9) == 0);
	r.metadata_json = NULL;
	r.duration = 0;
	ck_assert_int_eq(lv_task_create(&t, eng, key, &r, NULL), LV_EINVALID);
	ck_assert(strncmp(lv_error_last()->message, "duration:", 9) == 0);
}
END_TEST

/* ---- credits ----------------------------------------------------------------------------- */

START_TEST(insufficient_credits_creates_nothing)
{
	lv_key *poor = NULL;
	lv_task *t = NULL;
	lv_task_page *page = NULL;
	lv_credits c;
	const char *body = "{\"prompt\":\"x\",\"duration\":60}";
	ck_assert_int_eq(lv_key_create(&poor, eng, "poor", 1649999), LV_OK);
	ck_assert_int_eq(lv_task_create_json(&t, eng, poor, body, strlen(body), "k1"), LV_ECREDITS);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "1650"));
	ck_assert_ptr_nonnull(lv_error_last()->details_json);
	ck_assert_int_eq(lv_key_credits(&c, eng, poor), LV_OK);
	ck_assert_int_eq(c.balance, 1649999);
	ck_assert_int_eq(c.reserved, 0);
	ck_assert_int_eq(lv_task_list(&page, eng, poor, NULL), LV_OK);
	ck_assert_uint_eq(lv_task_page_count(page), 0);
	lv_task_page_free(page);
	/* The idempotency key was not consumed: after a top-up the same request creates the task. */
	ck_assert_int_eq(lv_key_grant(eng, lv_key_id(poor), 1), LV_OK);
	ck_assert_int_eq(lv_task_create_json(&t, eng, poor, body, strlen(body), "k1"), LV_OK);
	ck_assert(!lv_task_replayed(t));
	ck_assert_int_eq(lv_key_credits(&c, eng, poor), LV_OK);
	ck_assert_int_eq(c.balance, 0);
	ck_assert_int_eq(c.reserved, 1650000);
	lv_task_free(t);
	lv_key_free(poor);
}
END_TEST

/* ---- idempotency --------------------------------------------------------------------------- */

START_TEST(idempotency_replay_and_conflict)
{
	const char *a = "{\"prompt\":\"x\",\"duration\":10}";
	const char *a2 = "{ \"duration\": 10, \"prompt\": \"x\", \"resolution\": \"720p\" }";
	const char *b = "{\"prompt\":\"y\",\"duration\":10}";
	lv_task *t1 = create_body(a, "order-1", LV_OK), *t2, *t3;
	lv_key *other = NULL;
	ck_assert(!lv_task_replayed(t1));
	t2 = create_body(a2, "order-1", LV_OK); /* same request, different spelling */
	ck_assert(lv_task_replayed(t2));
	ck_assert_str_eq(lv_task_id(t1), lv_task_id(t2));
	create_body(b, "order-1", LV_EIDEMPOTENCY);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "Idempotency-Key"));
	ck_assert_int_eq(credits_now().reserved, 275000); /* one charge */
	/* Keys are scoped to the API key. */
	ck_assert_int_eq(lv_key_create(&other, eng, "other", 1000000), LV_OK);
	ck_assert_int_eq(lv_task_create_json(&t3, eng, other, a, strlen(a), "order-1"), LV_OK);
	ck_assert(!lv_task_replayed(t3));
	ck_assert_str_ne(lv_task_id(t3), lv_task_id(t1));
	lv_task_free(t3);
	lv_key_free(other);
	/* The Idempotency-Key itself: 1-255 printable ASCII. */
	{
		char long_key[300];
		memset(long_key, 'k', 256);
		long_key[256] = '\0';
		create_body(a, long_key, LV_EINVALID);
		ck_assert(strncmp(lv_error_last()->message, "Idempotency-Key:", 16) == 0);
		long_key[255] = '\0';
		lv_task_free(create_body(a, long_key, LV_OK));
		create_body(a, "", LV_EINVALID);
		create_body(a, "tab\there", LV_EINVALID);
		create_body(a, "caf\xc3\xa9", LV_EINVALID);
	}
	lv_task_free(t1);
	lv_task_free(t2);
}
END_TEST

/* ---- get, list, cancel, compose ----------------------------------------------------------- */

START_TEST(get_is_scoped_to_the_key)
{
	lv_task *t = create_body("{\"prompt\":\"x\",\"duration\":5}", NULL, LV_OK), *g = NULL;
	lv_key *other = NULL;
	ck_assert_int_eq(lv_task_get(&g, eng, key, lv_task_id(t)), LV_OK);
	ck_assert_str_eq(lv_task_id(g), lv_task_id(t));
	lv_task_free(g);
	ck_assert_int_eq(lv_key_create(&other, eng, "other", 0), LV_OK);
	ck_assert_int_eq(lv_task_get(&g, eng, other, lv_task_id(t)), LV_ENOTFOUND);
	ck_assert_int_eq(lv_task_cancel(&g, eng, other, lv_task_id(t)), LV_ENOTFOUND);
	ck_assert_int_eq(lv_task_get(&g, eng, key, "vid_doesnotexist"), LV_ENOTFOUND);
	ck_assert_int_eq(lv_task_get(&g, eng, key, "nonsense"), LV_ENOTFOUND);
	ck_assert_str_eq(lv_status_code(LV_ENOTFOUND), "task_not_found");
	lv_key_free(other);
	lv_task_free(t);
}
END_TEST

/* The key and the task in one read: the key's answer comes first, then lv_task_get()'s. */
START_TEST(get_with_secret_authenticates_then_reads)
{
	lv_task *t = create_body("{\"prompt\":\"x\",\"duration\":5}", NULL, LV_OK), *g = NULL;
	lv_key *k = NULL, *other = NULL;
	char secret[64];
	ck_assert_int_eq(lv_task_get_with_secret(&g, &k, eng, lv_key_secret(key), lv_task_id(t)), LV_OK);
	ck_assert_str_eq(lv_task_id(g), lv_task_id(t));
	ck_assert_str_eq(lv_key_id(k), lv_key_id(key));
	ck_assert_int_eq(lv_task_get_status(g), lv_task_get_status(t));
	lv_task_free(g);
	lv_key_free(k);
	/* The key is known even when the task is not (the server rate-limits and logs by it). */
	ck_assert_int_eq(lv_task_get_with_secret(&g, &k, eng, lv_key_secret(key), "vid_doesnotexist"), LV_ENOTFOUND);
	ck_assert_ptr_null(g);
	ck_assert_ptr_nonnull(k);
	ck_assert(strstr(lv_error_last()->message, "vid_doesnotexist") != NULL);
	lv_key_free(k);
	ck_assert_int_eq(lv_task_get_with_secret(&g, &k, eng, lv_key_secret(key), "nonsense"), LV_ENOTFOUND);
	ck_assert_ptr_nonnull(k);
	lv_key_free(k);
	/* Another key does not see the task; a malformed or unknown secret is LV_EAUTH with no key, even
	 * for a malformed task id. */
	ck_assert_int_eq(lv_key_create(&other, eng, "other", 0), LV_OK);
	snprintf(secret, sizeof(secret), "%s", lv_key_secret(other));
	ck_assert_int_eq(lv_task_get_with_secret(&g, &k, eng, secret, lv_task_id(t)), LV_ENOTFOUND);
	ck_assert_str_eq(lv_key_id(k), lv_key_id(other));
	lv_key_free(k);
	ck_assert_int_eq(lv_task_get_with_secret(&g, &k, eng, "sk-short", "nonsense"), LV_EAUTH);
	ck_assert_ptr_null(k);
	secret[5] = secret[5] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(lv_task_get_with_secret(&g, &k, eng, secret, lv_task_id(t)), LV_EAUTH);
	ck_assert_ptr_null(k);
	/* Revocation takes effect on the next read. */
	secret[5] = lv_key_secret(other)[5];
	ck_assert_int_eq(lv_key_revoke(eng, lv_key_id(other)), LV_OK);
	ck_assert_int_eq(lv_task_get_with_secret(&g, &k, eng, secret, lv_task_id(t)), LV_EAUTH);
	ck_assert_ptr_null(k);
	ck_assert_ptr_null(g);
	lv_key_free(other);
	lv_task_free(t);
}
END_TEST

START_TEST(list_pages_newest_first)
{
	char ids[25][40];
	lv_task_list_options o = LV_TASK_LIST_OPTIONS_INIT;
	lv_task_page *page = NULL;
	lv_task *c = NULL;
	int i, seen = 0;
	for (i = 0; i < 25; i++) {
		lv_task *t = create_body("{\"prompt\":\"x\",\"duration\":3}", NULL, LV_OK);
		strcpy(ids[i], lv_task_id(t));
		lv_task_free(t);
	}
	ck_assert_int_eq(lv_task_cancel(&c, eng, key, ids[3]), LV_OK);
	lv_task_free(c);
	/* Pages of 10 walk all 25, newest first. */
	o.limit = 10;
	do {
		size_t j;
		ck_assert_int_eq(lv_task_list(&page, eng, key, &o), LV_OK);
		for (j = 0; j < lv_task_page_count(page); j++, seen++)
			ck_assert_str_eq(lv_task_id(lv_task_page_get(page, j)), ids[24 - seen]);
		free((char *)o.after);
		o.after = lv_task_page_has_more(page) ? strdup(lv_task_page_next_cursor(page)) : NULL;
		ck_assert(lv_task_page_has_more(page) == (seen < 25));
		lv_task_page_free(page);
	} while (o.after);
	ck_assert_int_eq(seen, 25);
	/* Status filter. */
	o = (lv_task_list_options)LV_TASK_LIST_OPTIONS_INIT;
	o.status = "canceled";
	ck_assert_int_eq(lv_task_list(&page, eng, key, &o), LV_OK);
	ck_assert_uint_eq(lv_task_page_count(page), 1);
	ck_assert_str_eq(lv_task_id(lv_task_page_get(page, 0)), ids[3]);
	ck_assert(!lv_task_page_has_more(page));
	ck_assert_ptr_null(lv_task_page_next_cursor(page));
	{
		char *json = NULL;
		ck_assert_int_eq(lv_task_page_to_json(&json, page), LV_OK);
		ck_assert_ptr_nonnull(strstr(json, "\"object\":\"list\""));
		ck_assert_ptr_nonnull(strstr(json, "\"next_cursor\":null"));
		lv_free(json);
	}
	lv_task_page_free(page);
	/* Bad options. */
	o = (lv_task_list_options)LV_TASK_LIST_OPTIONS_INIT;
	o.limit = 101;
	ck_assert_int_eq(lv_task_list(&page, eng, key, &o), LV_EINVALID);
	ck_assert(strncmp(lv_error_last()->message, "limit:", 6) == 0);
	o.limit = -1;
	ck_assert_int_eq(lv_task_list(&page, eng, key, &o), LV_EINVALID);
	o.limit = 0;
	o.status = "done";
	ck_assert_int_eq(lv_task_list(&page, eng, key, &o), LV_EINVALID);
	ck_assert(strncmp(lv_error_last()->message, "status:", 7) == 0);
	o.status = NULL;
	o.after = "vid_unknown";
	ck_assert_int_eq(lv_task_list(&page, eng, key, &o), LV_EINVALID);
	ck_assert(strncmp(lv_error_last()->message, "after:", 6) == 0);
}
END_TEST

START_TEST(cancel_queued_refunds_everything)
{
	lv_task *t = create_body("{\"prompt\":\"x\",\"duration\":60}", NULL, LV_OK), *c = NULL, *c2 = NULL;
	ck_assert_int_eq(credits_now().reserved, 1650000);
	ck_assert_int_eq(lv_task_cancel(&c, eng, key, lv_task_id(t)), LV_OK);
	ck_assert_int_eq(lv_task_get_status(c), LV_TASK_CANCELED);
	ck_assert_int_eq(lv_task_cost_actual(c), 0);
	ck_assert_int_eq(credits_now().reserved, 0);
	ck_assert_int_eq(credits_now().balance, 10000000);
	ck_assert_int_eq(credits_now().settled, 0);
	/* Canceling again changes nothing. */
	ck_assert_int_eq(lv_task_cancel(&c2, eng, key, lv_task_id(t)), LV_OK);
	ck_assert_int_eq(lv_task_get_status(c2), LV_TASK_CANCELED);
	ck_assert_int_eq(c2->rec.completed_at, c->rec.completed_at);
	ck_assert_int_eq(credits_now().balance, 10000000);
	lv_task_free(t);
	lv_task_free(c);
	lv_task_free(c2);
}
END_TEST

/* Mark segments ready and fail the task, as a worker would, through the store. */
typedef struct {
	lv_engine *e;
	const char *id;
	int ready_mask;
	int status;
} mark_ctx;

static int mark_tx(lv_store_tx *tx, void *p)
{
	mark_ctx *m = p;
	const lv_store_ops *ops = m->e->store->ops;
	lv_task_rec t;
	lv_segment_rec *segs = NULL;
	size_t n = 0, i;
	int64_t charge;
	int rc = ops->task_get(tx, m->id, 1, &t);
	ck_assert_int_eq(rc, LV_OK);
	ck_assert_int_eq(ops->segment_list(tx, m->id, &segs, &n), LV_OK);
	for (i = 0; i < n; i++)
		if (m->ready_mask & (1 << i)) {
			segs[i].status = LV_SEG_READY;
			ck_assert_int_eq(ops->segment_update(tx, &segs[i]), LV_OK);
		}
	t.status = LV_TASK_GENERATING;
	charge = lv_segments_ready_price(segs, n);
	if (m->status >= 0)
		rc = lv_task_finish(m->e, tx, &t, m->status, charge, 1);
	else
		rc = ops->task_update(tx, &t);
	lv_task_rec_clear(&t);
	lv_segment_recs_free(segs, n);
	return rc;
}

static void mark(const char *id, int ready_mask, int status)
{
	mark_ctx m = { eng, id, ready_mask, status };
	ck_assert_int_eq(lv_engine_tx(eng, 1, mark_tx, &m), LV_OK);
}

START_TEST(cancel_running_settles_ready_segments)
{
	lv_task *t = create_body("{\"prompt\":\"x\",\"duration\":17}", NULL, LV_OK), *c = NULL;
	mark(lv_task_id(t), 0x1, -1); /* shot 0 (6 s) ready, still generating */
	ck_assert_int_eq(lv_task_cancel(&c, eng, key, lv_task_id(t)), LV_OK);
	ck_assert_int_eq(lv_task_get_status(c), LV_TASK_CANCELED);
	ck_assert_int_eq(lv_task_cost_actual(c), 6 * 27500);
	ck_assert_int_eq(credits_now().settled, 6 * 27500);
	ck_assert_int_eq(credits_now().balance, 10000000 - 6 * 27500);
	ck_assert_int_eq(credits_now().reserved, 0);
	lv_task_free(t);
	lv_task_free(c);
}
END_TEST

START_TEST(compose_preconditions)
{
	lv_task *queued = create_body("{\"prompt\":\"x\",\"duration\":17}", NULL, LV_OK);
	lv_task *failed = create_body("{\"prompt\":\"x\",\"duration\":17}", NULL, LV_OK);
	lv_task *done = create_body("{\"prompt\":\"x\",\"duration\":17}", NULL, LV_OK);
	lv_task *r = NULL;
	const char *body = "{\"subtitles\":\"burn\",\"music\":false}";

	ck_assert_int_eq(lv_task_compose(&r, eng, key, lv_task_id(queued), NULL), LV_ENOTCOMPOSABLE);
	lv_task_free(r);
	ck_assert_int_eq(lv_task_cancel(&r, eng, key, lv_task_id(queued)), LV_OK);
	lv_task_free(r);
	ck_assert_int_eq(lv_task_compose(&r, eng, key, lv_task_id(queued), NULL), LV_ENOSEGMENTS);

	mark(lv_task_id(failed), 0x5, LV_TASK_FAILED); /* shots 0 and 2 ready, 1 missing */
	ck_assert_int_eq(lv_task_compose(&r, eng, key, lv_task_id(failed), NULL), LV_ESEGMENTS);
	ck_assert_str_eq(lv_error_last()->details_json, "{\"missing\":[1]}");

	mark(lv_task_id(done), 0x7, LV_TASK_COMPLETED);
	ck_assert_int_eq(lv_task_compose_json(&r, eng, key, lv_task_id(done), "{\"subtitles\":\"hard\"}", 20),
	                 LV_EINVALID);
	ck_assert_int_eq(lv_task_compose_json(&r, eng, key, lv_task_id(done), "{\"volume\":1}", 12), LV_EINVALID);
	ck_assert_int_eq(lv_task_compose_json(&r, eng, key, lv_task_id(done), body, strlen(body)), LV_OK);
	ck_assert_int_eq(lv_task_get_status(r), LV_TASK_COMPOSING);
	ck_assert_int_eq(r->rec.subtitles, 1);
	ck_assert_int_eq(r->rec.music, 0);
	ck_assert_int_eq(r->rec.compose_generation, 1);
	/* Re-composition charges nothing: the task was settled once. */
	ck_assert_int_eq(lv_task_cost_actual(r), 17 * 27500);
	ck_assert_int_eq(credits_now().settled, 17 * 27500 + 2 * 6 * 27500 - 6 * 27500 + 5 * 27500);
	lv_task_free(r);
	/* Composing is running: a second compose is refused, cancel settles nothing new. */
	ck_assert_int_eq(lv_task_compose(&r, eng, key, lv_task_id(done), NULL), LV_ENOTCOMPOSABLE);
	ck_assert_int_eq(lv_task_cancel(&r, eng, key, lv_task_id(done)), LV_OK);
	ck_assert_int_eq(lv_task_cost_actual(r), 17 * 27500);
	lv_task_free(r);
	lv_task_free(queued);
	lv_task_free(failed);
	lv_task_free(done);
}
END_TEST

START_TEST(failed_task_refunds_unused)
{
	lv_task *t = create_body("{\"prompt\":\"x\",\"duration\":17}", NULL, LV_OK), *g = NULL;
	mark(lv_task_id(t), 0x2, LV_TASK_FAILED); /* only shot 1 (6 s) was generated */
	ck_assert_int_eq(lv_task_get(&g, eng, key, lv_task_id(t)), LV_OK);
	ck_assert_int_eq(lv_task_cost_actual(g), 6 * 27500);
	ck_assert_int_eq(credits_now().balance, 10000000 - 6 * 27500);
	ck_assert_int_eq(credits_now().reserved, 0);
	lv_task_free(g);
	lv_task_free(t);
}
END_TEST

START_TEST(ledger_is_append_only)
{
	/* The database itself refuses to rewrite history. */
	lv_store_tx *tx = NULL;
	ck_assert_int_eq(eng->store->ops->begin(eng->store, 1, &tx), LV_OK);
	eng->store->ops->rollback(tx);
	{
		char *cmd = NULL;
		int rc;
		ck_assert_int_ne(asprintf(&cmd, "sqlite3 '%s/longvideo.db' \"DELETE FROM ledger\" 2>/dev/null", dir), -1);
		rc = system(cmd);
		ck_assert_int_ne(rc, 0);
		free(cmd);
		ck_assert_int_ne(asprintf(&cmd, "sqlite3 '%s/longvideo.db' \"UPDATE ledger SET amount = 0\" 2>/dev/null",
		                          dir),
		                 -1);
		rc = system(cmd);
		ck_assert_int_ne(rc, 0);
		free(cmd);
	}
	ck_assert_int_eq(credits_now().granted, 10000000);
}
END_TEST

START_TEST(verify_detects_tampering)
{
	char *cmd = NULL, *report = NULL;
	lv_task *t = create_body("{\"prompt\":\"x\",\"duration\":3}", NULL, LV_OK);
	lv_task_free(t);
	ck_assert_int_eq(lv_ledger_verify(eng, NULL), LV_OK);
	ck_assert_int_ne(asprintf(&cmd, "sqlite3 '%s/longvideo.db' \"UPDATE api_keys SET balance = balance + 1\"", dir),
	                 -1);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	ck_assert_int_eq(lv_ledger_verify(eng, &report), LV_EINTERNAL);
	ck_assert_ptr_nonnull(strstr(report, "granted"));
	lv_free(report);
	ck_assert_int_ne(asprintf(&cmd, "sqlite3 '%s/longvideo.db' \"UPDATE api_keys SET balance = balance - 1\"", dir),
	                 -1);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tasks");
	TCase *tc = tcase_create("tasks");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, key_create_shapes_and_authentication);
	tcase_add_test(tc, key_secrets_are_never_stored);
	tcase_add_test(tc, grant_and_list);
	tcase_add_test(tc, validation_names_every_field);
	tcase_add_test(tc, validation_limits);
	tcase_add_test(tc, defaults_and_normalisation);
	tcase_add_test(tc, struct_requests_use_the_same_rules);
	tcase_add_test(tc, insufficient_credits_creates_nothing);
	tcase_add_test(tc, idempotency_replay_and_conflict);
	tcase_add_test(tc, get_is_scoped_to_the_key);
	tcase_add_test(tc, get_with_secret_authenticates_then_reads);
	tcase_add_test(tc, list_pages_newest_first);
	tcase_add_test(tc, cancel_queued_refunds_everything);
	tcase_add_test(tc, cancel_running_settles_ready_segments);
	tcase_add_test(tc, compose_preconditions);
	tcase_add_test(tc, failed_task_refunds_unused);
	tcase_add_test(tc, ledger_is_append_only);
	tcase_add_test(tc, verify_detects_tampering);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
