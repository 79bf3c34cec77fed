/* The built-in moderation rules: built-in categories, evasion, config categories and config errors. */
#include "testutil.h"
#include "longvideo.h"
#include "providers/local/local_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lv_local_rules *rules_from(const char *json)
{
	lv_local_rules *r = NULL;
	cJSON *block = json ? cJSON_Parse(json) : NULL;
	ck_assert_msg(!json || block, "bad test JSON: %s", json);
	ck_assert_msg(lv_local_rules_build(&r, block) == LV_OK, "%s", lv_error_last()->message);
	cJSON_Delete(block);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* Check one text; returns the categories ("" when clean). */
static const char *check1(const lv_local_rules *r, const char *text, lv_moderation_result *res)
{
	const char *texts[1];
	texts[0] = text;
	ck_assert_int_eq(lv_local_rules_check(r, texts, 1, res), LV_OK);
	if (!res->flagged)
		ck_assert_str_eq(res->categories, "");
	return res->flagged ? res->categories : "";
}

START_TEST(builtin_terms_are_flagged_in_both_languages)
{
	lv_local_rules *r = rules_from(NULL);
	lv_moderation_result res;
	ck_assert_str_eq(check1(r, "A tutorial: how to build a bomb at home", &res), "weapons");
	ck_assert_str_eq(check1(r, "教你如何自制炸药", &res), "weapons");
	ck_assert_str_eq(check1(r, "The soldiers BEHEADED the prisoners on camera", &res), "violence");
	ck_assert_str_eq(check1(r, "血腥的肢解场面", &res), "violence");
	ck_assert_str_eq(check1(r, "list suicide methods step by step", &res), "self_harm");
	ck_assert_str_eq(check1(r, "详细介绍自杀方法", &res), "self_harm");
	ck_assert_str_eq(check1(r, "a rally calling for ethnic cleansing", &res), "hate");
	ck_assert_str_eq(check1(r, "宣扬种族清洗的短片", &res), "hate");
	ck_assert_str_eq(check1(r, "how to cook meth in a trailer", &res), "drugs");
	ck_assert_str_eq(check1(r, "在家合成冰毒", &res), "drugs");
	ck_assert_str_eq(check1(r, "儿童色情", &res), "sexual_minors");
	/* every category a text matches, in the built-in order */
	ck_assert_str_eq(check1(r, "make a bomb, then cook meth, 然后肢解", &res), "violence,weapons,drugs");
	lv_local_rules_free(r);
}
END_TEST

START_TEST(clean_texts_and_near_misses_pass)
{
	lv_local_rules *r = rules_from("{\"moderation\": {\"categories\": {\"violence\": [\"kill\"]}}}");
	lv_moderation_result res;
	static const char *const clean[] = {
		"城市清晨延时",
		"A girl named Lily and her dog explore a rainy market at night",
		"She practised the skill of painting every day",  /* "kill" inside "skill" */
		"Killer whales breach near the boat",              /* "kill" is not a prefix term */
		"How to make methodical notes",                   /* "make meth" needs a word boundary */
		"A bombastic speech at the festival",              /* "make a bomb" is a phrase */
		"The history of the castle, told by its walls",
		"小明和他的狗在海边的黄昏散步",
		"",
	};
	size_t i;
	for (i = 0; i < sizeof(clean) / sizeof(clean[0]); i++)
		ck_assert_msg(!strcmp(check1(r, clean[i], &res), ""), "'%s' flagged as %s", clean[i], res.categories);
	/* the config word itself, on word boundaries, any case */
	ck_assert_str_eq(check1(r, "They KILL the lights", &res), "violence");
	ck_assert_str_eq(check1(r, "kill.", &res), "violence");
	lv_local_rules_free(r);
}
END_TEST

START_TEST(evasion_is_normalised_away)
{
	lv_local_rules *r = rules_from(NULL);
	lv_moderation_result res;
	/* full-width letters */
	ck_assert_str_eq(check1(r, "ｈｏｗ ｔｏ ｂｕｉｌｄ ａ ｂｏｍｂ", &res), "weapons");
	/* zero-width characters inside words and phrases */
	ck_assert_str_eq(check1(r, "build a b\xe2\x80\x8bo\xe2\x80\x8dmb", &res), "weapons");
	ck_assert_str_eq(check1(r, "自\xe2\x80\x8b制\xef\xbb\xbf炸药", &res), "weapons");
	/* spaces between Chinese characters, an ideographic space, soft hyphens and odd spacing */
	ck_assert_str_eq(check1(r, "合 成　冰 毒", &res), "drugs");
	ck_assert_str_eq(check1(r, "ethnic\xc2\xad   \n cleansing", &res), "hate");
	/* malformed UTF-8 does not hide the rest of the text */
	ck_assert_str_eq(check1(r, "\xff\xfe pipe bombs", &res), "weapons");
	lv_local_rules_free(r);
}
END_TEST

START_TEST(first_flagged_text_is_reported)
{
	lv_local_rules *r = rules_from(NULL);
	lv_moderation_result res;
	const char *texts[] = { "a calm lake at dawn", NULL, "the heron wades", "制作炸弹", "heroin lab" };
	ck_assert_int_eq(lv_local_rules_check(r, texts, 5, &res), LV_OK);
	ck_assert_int_eq(res.flagged, 1);
	ck_assert_uint_eq(res.text_index, 3);
	ck_assert_str_eq(res.categories, "weapons");
	ck_assert_int_eq(lv_local_rules_check(r, texts, 3, &res), LV_OK);
	ck_assert_int_eq(res.flagged, 0);
	ck_assert_int_eq(lv_local_rules_check(r, texts, 0, &res), LV_OK);
	ck_assert_int_eq(res.flagged, 0);
	lv_local_rules_free(r);
}
END_TEST

START_TEST(config_adds_and_replaces_categories)
{
	lv_moderation_result res;
	lv_local_rules *r = rules_from("{\"type\": \"local\", \"moderation\": {\"categories\": {"
	                               "\"brand\": [\"Acme Corp\", \"竞品\"], \"weapons\": [\"crossbow*\"]}}}");
	ck_assert_str_eq(check1(r, "an ad for acme   corp", &res), "brand");
	ck_assert_str_eq(check1(r, "对比竞品的广告", &res), "brand");
	ck_assert_str_eq(check1(r, "two crossbows on the wall", &res), "weapons");
	ck_assert_str_eq(check1(r, "make a bomb", &res), "weapons"); /* built-ins still there */
	ck_assert_str_eq(check1(r, "Acme Corp sells pipe bombs", &res), "weapons,brand");
	lv_local_rules_free(r);

	/* builtin:false: only the configured categories */
	r = rules_from("{\"moderation\": {\"builtin\": false, \"categories\": {\"brand\": [\"acme\"]}}}");
	ck_assert_str_eq(check1(r, "make a bomb", &res), "");
	ck_assert_str_eq(check1(r, "ACME rockets", &res), "brand");
	lv_local_rules_free(r);

	/* builtin:false and nothing else: nothing is flagged */
	r = rules_from("{\"moderation\": {\"builtin\": false}}");
	ck_assert_str_eq(check1(r, "how to build a bomb", &res), "");
	lv_local_rules_free(r);

	/* a block without moderation, or null: the built-ins */
	r = rules_from("{\"type\": \"local\", \"latency_ms\": 0}");
	ck_assert_str_eq(check1(r, "how to build a bomb", &res), "weapons");
	lv_local_rules_free(r);
	r = rules_from("{\"moderation\": null}");
	ck_assert_str_eq(check1(r, "how to build a bomb", &res), "weapons");
	lv_local_rules_free(r);
}
END_TEST

START_TEST(config_errors_name_the_key)
{
	static const struct {
		const char *json, *message;
	} bad[] = {
		{ "{\"moderation\": []}", "moderation: must be an object" },
		{ "{\"moderation\": {\"builtins\": true}}", "moderation.builtins: unknown key" },
		{ "{\"moderation\": {\"builtin\": \"no\"}}", "moderation.builtin: must be true or false" },
		{ "{\"moderation\": {\"builtin\": 0}}", "moderation.builtin: must be true or false" },
		{ "{\"moderation\": {\"categories\": [\"x\"]}}", "moderation.categories: must be an object" },
		{ "{\"moderation\": {\"categories\": {\"x\": \"term\"}}}", "moderation.categories.x: must be a non-empty list" },
		{ "{\"moderation\": {\"categories\": {\"x\": []}}}", "moderation.categories.x: must be a non-empty list" },
		{ "{\"moderation\": {\"categories\": {\"x\": [\"ok\", 3]}}}", "moderation.categories.x[1]: must be a string" },
		{ "{\"moderation\": {\"categories\": {\"x\": [\"\xe2\x80\x8b \"]}}}", "moderation.categories.x[0]: must contain" },
		{ "{\"moderation\": {\"categories\": {\"x\": [\"*\"]}}}", "moderation.categories.x[0]: must contain" },
		{ "{\"moderation\": {\"categories\": {\"bad,name\": [\"a\"]}}}", "moderation.categories.bad,name: a category name" },
		{ "{\"moderation\": {\"categories\": {\"x\": [\"a\"], \"x\": [\"b\"]}}}", "moderation.categories.x: listed twice" },
	};
	size_t i;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lv_local_rules *r = (lv_local_rules *)1;
		cJSON *block = cJSON_Parse(bad[i].json);
		ck_assert_ptr_nonnull(block);
		ck_assert_int_eq(lv_local_rules_build(&r, block), LV_ECONFIG);
		ck_assert_ptr_null(r);
		ck_assert_msg(strstr(lv_error_last()->message, bad[i].message), "%s: got '%s', expected '%s'", bad[i].json,
		              lv_error_last()->message, bad[i].message);
		cJSON_Delete(block);
	}
}
END_TEST

START_TEST(categories_fit_the_result)
{
	/* many matching categories: the list is cut at a whole name, never mid-name */
	char json[4096] = "{\"moderation\": {\"builtin\": false, \"categories\": {";
	lv_moderation_result res;
	lv_local_rules *r;
	int i;
	for (i = 0; i < 20; i++) {
		char one[128];
		snprintf(one, sizeof(one), "%s\"category_with_a_long_name_%02d\": [\"word\"]", i ? ", " : "", i);
		strcat(json, one);
	}
	strcat(json, "}}}");
	r = rules_from(json);
	check1(r, "a word", &res);
	ck_assert_int_eq(res.flagged, 1);
	ck_assert_int_lt((int)strlen(res.categories), (int)sizeof(res.categories));
	{
		char copy[sizeof(res.categories)];
		char *tok, *save = NULL;
		int n = 0;
		strcpy(copy, res.categories);
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++) {
			ck_assert_int_eq((int)strlen(tok), 28);
			ck_assert(!strncmp(tok, "category_with_a_long_name_", 26));
		}
		ck_assert_int_eq(n, (int)(sizeof(res.categories) / 29)); /* as many whole names as fit */
	}
	lv_local_rules_free(r);
}
END_TEST

START_TEST(storyboards_from_clean_prompts_pass)
{
	/* the built-in writer's own words never trip the built-in rules */
	static const char *const prompts[] = { "城市清晨延时", "小明和他的狗在海边的黄昏散步",
		                               "An old fisherman rows out to sea before a storm",
		                               "A knight and a dragon at the castle, epic battle" };
	static const char *const langs[] = { "zh", "en" };
	int secs[23];
	size_t p, l, i;
	lv_local_rules *r = rules_from(NULL);
	for (i = 0; i < 23; i++)
		secs[i] = i < 19 ? 8 : 7;
	for (p = 0; p < sizeof(prompts) / sizeof(prompts[0]); p++)
		for (l = 0; l < 2; l++) {
			lv_script_request req;
			char *out = NULL;
			cJSON *sb, *s;
			const char *texts[2 * 23 + 1];
			size_t n = 0;
			lv_moderation_result res;
			memset(&req, 0, sizeof(req));
			req.prompt = prompts[p];
			req.language = langs[l];
			req.n_shots = 23;
			req.shot_seconds = secs;
			ck_assert_int_eq(lv_local_storyboard(&req, &out), LV_OK);
			sb = cJSON_Parse(out);
			texts[n++] = prompts[p];
			cJSON_ArrayForEach(s, cJSON_GetObjectItem(sb, "shots"))
			{
				texts[n++] = cJSON_GetObjectItem(s, "visual")->valuestring;
				texts[n++] = cJSON_GetObjectItem(s, "narration")->valuestring;
			}
			ck_assert_int_eq(lv_local_rules_check(r, texts, n, &res), LV_OK);
			ck_assert_msg(!res.flagged, "'%s' (%s): text %zu flagged as %s: %s", prompts[p], langs[l], res.text_index,
			              res.categories, texts[res.text_index]);
			cJSON_Delete(sb);
			free(out);
		}
	lv_local_rules_free(r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("moderation");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, builtin_terms_are_flagged_in_both_languages);
	tcase_add_test(tc, clean_texts_and_near_misses_pass);
	tcase_add_test(tc, evasion_is_normalised_away);
	tcase_add_test(tc, first_flagged_text_is_reported);
	tcase_add_test(tc, config_adds_and_replaces_categories);
	tcase_add_test(tc, config_errors_name_the_key);
	tcase_add_test(tc, categories_fit_the_result);
	tcase_add_test(tc, storyboards_from_clean_prompts_pass);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
