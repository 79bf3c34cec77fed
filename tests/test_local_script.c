/* The built-in script writer: valid storyboards for every plan, characters, language, determinism;
 * and the speaking-time estimate it writes against. */
#include "testutil.h"
#include "longvideo.h"
#include "pipeline/storyboard.h"
#include "media/local.h"
#include "media/scene.h"
#include "util/mem.h"
#include "providers/local/local_rules.h"
#include "util/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHOTS 64

/* The plan's split (lib/plan/plan.c): ceil(d / 8) segments, lengths differing by at most one, the
 * longer ones first. */
static size_t split(int d, int *secs)
{
	size_t n = (size_t)((d + 7) / 8), i;
	for (i = 0; i < n; i++)
		secs[i] = d / (int)n + ((int)i < d % (int)n ? 1 : 0);
	return n;
}

static cJSON *write_sb(const char *prompt, const char *lang, const int *secs, size_t n, int attempt, char **text)
{
	lv_script_request req;
	char *out = NULL;
	cJSON *sb;
	int d = 0;
	size_t i;
	for (i = 0; i < n; i++)
		d += secs[i];
	memset(&req, 0, sizeof(req));
	req.prompt = prompt;
	req.language = lang;
	req.aspect_ratio = "16:9";
	req.duration = d;
	req.n_shots = n;
	req.shot_seconds = secs;
	req.attempt = attempt;
	ck_assert_msg(lv_local_storyboard(&req, &out) == LV_OK, "storyboard for '%s' (%d s): %s", prompt, d,
	              lv_error_last()->message);
	ck_assert_ptr_nonnull(out);
	sb = cJSON_Parse(out);
	ck_assert_msg(sb != NULL, "not JSON: %s", out);
	if (text)
		*text = out;
	else
		free(out);
	return sb;
}

static int has_cjk(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	for (; *p; p++) {
		/* U+3040..U+9FFF are encoded with lead byte 0xE3..0xE9 */
		if (*p >= 0xe3 && *p <= 0xe9)
			return 1;
	}
	return 0;
}

static const char *const moves[] = { "wide establishing", "slow push in", "pan left", "pan right", "tilt up",
	                             "tilt down", "orbit", "close-up", "pull out", "static", NULL };

static int known_move(const char *camera)
{
	const char *const *m;
	for (m = moves; *m; m++)
		if (!strncmp(camera, *m, strlen(*m)))
			return 1;
	return 0;
}

/* Everything a storyboard must satisfy beyond the validator. */
static void check_sb(const cJSON *sb, const int *secs, size_t n, const char *lang, const char *what)
{
	char fb[256];
	const cJSON *shots = cJSON_GetObjectItem(sb, "shots"), *chars = cJSON_GetObjectItem(sb, "characters");
	size_t i, j;
	int zh = !strcmp(lang, "zh");
	/* languages with narration templates; the others speak only the prompt's own sentences */
	int templated = strlen(lang) == 2 && strstr("en zh fr es de ja", lang) != NULL;
	ck_assert_msg(lv_storyboard_validate(sb, n, secs, lang, fb, sizeof(fb)) == LV_OK, "%s: %s", what, fb);
	ck_assert_str_eq(lv_json_get_str(sb, "language"), lang);
	ck_assert_ptr_nonnull(lv_json_get_str(sb, "mood"));
	for (i = 0; i < n; i++) {
		const cJSON *a = cJSON_GetArrayItem(shots, (int)i), *who, *w;
		const char *cam = lv_json_get_str(a, "camera"), *vis = lv_json_get_str(a, "visual");
		const char *narr = lv_json_get_str(a, "narration");
		ck_assert_msg(known_move(cam), "%s: shot %zu camera '%s' starts with no known move", what, i, cam);
		for (j = 0; j < i; j++) {
			const cJSON *b = cJSON_GetArrayItem(shots, (int)j);
			ck_assert_msg(strcmp(cam, lv_json_get_str(b, "camera")), "%s: shots %zu and %zu share camera '%s'", what,
			              j, i, cam);
			ck_assert_msg(strcmp(vis, lv_json_get_str(b, "visual")), "%s: shots %zu and %zu share visual '%s'", what,
			              j, i, vis);
			ck_assert_msg(!narr[0] || strcmp(narr, lv_json_get_str(b, "narration")),
			              "%s: shots %zu and %zu repeat narration '%s'", what, j, i, narr);
		}
		/* narration in the task's language: in films of up to 23 shots (the local plans) every shot of
		 * 4 s or more has a line; longer plans (and shots of 3 s, once the short lines are spoken) may
		 * stay silent rather than repeat a line */
		if (secs[i] >= 4 && n <= 23 && templated)
			ck_assert_msg(narr[0], "%s: shot %zu (%d s) has no narration", what, i, secs[i]);
		if (zh)
			ck_assert_msg(!narr[0] || has_cjk(narr), "%s: zh narration without Chinese: '%s'", what, narr);
		else {
			/* CJK in another language's narration only as a character's name, kept as written */
			char *rest = strdup(narr);
			const cJSON *c;
			ck_assert_ptr_nonnull(rest);
			cJSON_ArrayForEach(c, chars)
			{
				const char *name = lv_json_get_str(c, "name");
				char *at;
				while ((at = strstr(rest, name)) != NULL)
					memset(at, ' ', strlen(name));
			}
			ck_assert_msg(!has_cjk(rest), "%s: en narration with CJK beyond names: '%s'", what, narr);
			free(rest);
		}
		ck_assert_msg(zh ? has_cjk(vis) : !has_cjk(vis) || cJSON_GetArraySize(chars) > 0,
		              "%s: visual not in the task's language: '%s'", what, vis);
		who = cJSON_GetObjectItem(a, "characters");
		ck_assert(cJSON_IsArray(who));
		cJSON_ArrayForEach(w, who)
		{
			/* a shot showing a character names it in its visual by that character's look */
			ck_assert(cJSON_IsString(w));
		}
	}
}

static const char *const zh_prompts[] = { "城市清晨延时", "小明和他的狗在海边的黄昏散步",
	                                  "一个叫小红的女孩在森林里迷路了，一只狐狸帮她找到了回家的路",
	                                  "雪山上的暴风雪，航拍" };
static const char *const en_prompts[] = { "A time-lapse of a city at dawn",
	                                  "A girl named Lily and her dog explore a rainy market at night",
	                                  "An old fisherman rows out to sea before a storm",
	                                  "A cup of coffee on a quiet afternoon" };

START_TEST(every_duration_gives_a_valid_storyboard)
{
	int d;
	for (d = 3; d <= 180; d++) {
		int secs[MAX_SHOTS];
		size_t n = split(d, secs), p;
		for (p = 0; p < 4; p++) {
			char what[160];
			cJSON *sb;
			snprintf(what, sizeof(what), "zh '%s' %d s", zh_prompts[p], d);
			sb = write_sb(zh_prompts[p], "zh", secs, n, 0, NULL);
			check_sb(sb, secs, n, "zh", what);
			cJSON_Delete(sb);
			snprintf(what, sizeof(what), "en '%s' %d s", en_prompts[p], d);
			sb = write_sb(en_prompts[p], "en", secs, n, 0, NULL);
			check_sb(sb, secs, n, "en", what);
			cJSON_Delete(sb);
		}
	}
}
END_TEST

START_TEST(three_second_film)
{
	int secs[1] = { 3 };
	cJSON *sb = write_sb("城市清晨延时", "zh", secs, 1, 0, NULL);
	check_sb(sb, secs, 1, "zh", "3 s zh");
	cJSON_Delete(sb);
	sb = write_sb("Waves at sunset", "en", secs, 1, 0, NULL);
	check_sb(sb, secs, 1, "en", "3 s en");
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(sb, "shots"), 0), "camera"),
	                 "wide establishing, high angle");
	cJSON_Delete(sb);
}
END_TEST

START_TEST(style_and_mood_follow_the_prompt)
{
	int secs[4];
	size_t n = split(30, secs);
	cJSON *sb = write_sb("城市清晨延时", "zh", secs, n, 0, NULL);
	const char *style = lv_json_get_str(sb, "style");
	ck_assert_ptr_nonnull(strstr(style, "time-lapse"));
	ck_assert_ptr_nonnull(strstr(style, "dawn"));
	ck_assert_str_eq(lv_json_get_str(sb, "mood"), "calm");
	/* a time-lapse moves through the day: the shots' light differs */
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(sb, "shots"), 0), "visual"),
	                             "城市"));
	cJSON_Delete(sb);
	sb = write_sb("A thunderstorm rolls over the harbour, tense and dark", "en", secs, n, 0, NULL);
	ck_assert_str_eq(lv_json_get_str(sb, "mood"), "tense");
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(sb, "style"), "storm"));
	cJSON_Delete(sb);
	sb = write_sb("An epic journey across the desert", "en", secs, n, 0, NULL);
	ck_assert_str_eq(lv_json_get_str(sb, "mood"), "epic");
	cJSON_Delete(sb);
	sb = write_sb("热闹的夜市，人来人往", "zh", secs, n, 0, NULL);
	ck_assert_str_eq(lv_json_get_str(sb, "mood"), "bright");
	cJSON_Delete(sb);
	sb = write_sb("A lonely walk in the autumn rain, full of memories", "en", secs, n, 0, NULL);
	ck_assert_str_eq(lv_json_get_str(sb, "mood"), "melancholic");
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(sb, "style"), "amber and rust"));
	cJSON_Delete(sb);
}
END_TEST

/* Characters: prompt -> expected names, '|'-separated, in order ("" for none). */
static const struct {
	const char *prompt, *lang, *names;
} cast[] = {
	{ "A girl named Lily flies a kite on the beach", "en", "Lily" },
	{ "Lily and her dog walk along the beach at sunset", "en", "Lily|The dog" },
	{ "An old fisherman mends his nets at dawn", "en", "The fisherman" },
	{ "Tom and Jerry run through the kitchen", "en", "Tom|Jerry" },
	{ "A cat named Mochi sleeps on a windowsill", "en", "Mochi" },
	{ "Sunrise over the mountains", "en", "" },
	{ "Tokyo at night, neon reflections in the rain", "en", "" },
	{ "Birds fly over the sea at dawn", "en", "" },
	{ "A robot and a little girl watch the stars", "en", "The robot|The girl" },
	{ "小明和他的狗在公园里玩", "zh", "小明|小狗" },
	{ "一个叫小红的女孩在雨中奔跑", "zh", "小红" },
	{ "老人在海边钓鱼", "zh", "老人" },
	{ "城市清晨延时", "zh", "" },
	{ "一群孩子在操场上奔跑", "zh", "" },
	{ "小镇的雨夜，灯火阑珊", "zh", "" },
	{ "渔夫和他的猫住在港口边", "zh", "渔夫|小猫" },
	{ "Lily和她的猫在窗边晒太阳", "zh", "Lily|小猫" },
	{ "有个男孩叫小明。他每天去海边", "zh", "小明" },
	{ "小猫在窗台上晒太阳", "zh", "小猫" },
	{ "骑士与巨龙在燃烧的城堡前决战", "zh", "骑士|巨龙" },
	{ "热狗摊前排起了长队，马路上车水马龙", "zh", "" },
	{ "Emma, a young painter, paints the sea at dusk", "en", "Emma" },
	{ "Two kids build a sandcastle at the beach", "en", "" },
	{ "The Eiffel Tower sparkles at night", "en", "" },
};

START_TEST(characters_are_found_and_kept_consistent)
{
	size_t t;
	int secs[4];
	size_t n = split(32, secs);
	for (t = 0; t < sizeof(cast) / sizeof(cast[0]); t++) {
		cJSON *sb = write_sb(cast[t].prompt, cast[t].lang, secs, n, 0, NULL);
		const cJSON *chars = cJSON_GetObjectItem(sb, "characters"), *c, *s;
		char got[256] = "";
		cJSON_ArrayForEach(c, chars)
		{
			int shown = 0;
			if (got[0])
				strcat(got, "|");
			strncat(got, lv_json_get_str(c, "name"), sizeof(got) - strlen(got) - 1);
			ck_assert_int_gt((int)strlen(lv_json_get_str(c, "description")), 20);
			/* every character appears in some shot, by id */
			cJSON_ArrayForEach(s, cJSON_GetObjectItem(sb, "shots"))
			{
				const cJSON *w;
				cJSON_ArrayForEach(w, cJSON_GetObjectItem(s, "characters"))
				{
					if (!strcmp(w->valuestring, lv_json_get_str(c, "id")))
						shown = 1;
				}
			}
			ck_assert_msg(shown, "'%s': %s is in no shot", cast[t].prompt, lv_json_get_str(c, "name"));
		}
		ck_assert_msg(!strcmp(got, cast[t].names), "'%s': characters '%s', expected '%s'", cast[t].prompt, got,
		              cast[t].names);
		check_sb(sb, secs, n, cast[t].lang, cast[t].prompt);
		cJSON_Delete(sb);
	}
}
END_TEST

START_TEST(character_looks_are_consistent_and_fit_the_role)
{
	int secs[6];
	size_t n = split(48, secs), i, seen = 0;
	cJSON *sb = write_sb("A girl named Lily and her dog explore a rainy market at night", "en", secs, n, 0, NULL);
	const cJSON *lily = cJSON_GetArrayItem(cJSON_GetObjectItem(sb, "characters"), 0), *s;
	const char *desc = lv_json_get_str(lily, "description");
	char look[64];
	const char *wearing;
	ck_assert_str_eq(lv_json_get_str(lily, "id"), "c1");
	ck_assert_ptr_nonnull(strstr(desc, "girl"));
	/* the clothing in the description is the clothing in every shot that shows her */
	wearing = strstr(desc, "Wears ");
	ck_assert_ptr_nonnull(wearing);
	snprintf(look, sizeof(look), "Lily in %s", wearing + 6);
	*strstr(look, ", plus") = '\0';
	i = 0;
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(sb, "shots"))
	{
		const cJSON *w = cJSON_GetObjectItem(s, "characters")->child;
		for (; w; w = w->next)
			if (!strcmp(w->valuestring, "c1")) {
				ck_assert_msg(strstr(lv_json_get_str(s, "visual"), "Lily"), "shot %zu shows c1 without naming her", i);
				seen++;
			}
		if (strstr(lv_json_get_str(s, "visual"), look))
			seen += 100;
		i++;
	}
	ck_assert_int_ge(seen, 100 + 3);
	cJSON_Delete(sb);
	/* a Chinese name in an English film: the narration uses a stand-in, the name stays */
	sb = write_sb("小明和他的狗在公园里玩", "en", secs, n, 0, NULL);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(sb, "characters"), 0), "name"), "小明");
	check_sb(sb, secs, n, "en", "zh prompt, en film");
	cJSON_Delete(sb);
}
END_TEST

START_TEST(cameras_and_light_move_through_the_film)
{
	int secs[23];
	size_t n = split(180, secs), i, k, distinct = 0;
	cJSON *sb = write_sb("城市清晨延时", "zh", secs, n, 0, NULL);
	const cJSON *shots = cJSON_GetObjectItem(sb, "shots");
	int used[10] = { 0 };
	const char *climax = NULL;
	for (i = 0; i < n; i++) {
		const char *cam = lv_json_get_str(cJSON_GetArrayItem(shots, (int)i), "camera");
		for (k = 0; moves[k]; k++)
			if (!strncmp(cam, moves[k], strlen(moves[k])) && !used[k]++)
				distinct++;
		if (strstr(lv_json_get_str(cJSON_GetArrayItem(shots, (int)i), "visual"), "高潮"))
			climax = lv_json_get_str(cJSON_GetArrayItem(shots, (int)i), "visual");
	}
	/* every move of the vocabulary is used in a long film; it opens wide and ends pulling out */
	ck_assert_uint_eq(distinct, 10);
	ck_assert(!strncmp(lv_json_get_str(cJSON_GetArrayItem(shots, 0), "camera"), "wide establishing", 17));
	ck_assert(!strncmp(lv_json_get_str(cJSON_GetArrayItem(shots, (int)n - 1), "camera"), "pull out", 8));
	/* a dawn time-lapse starts before dawn and builds to the sunrise */
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(cJSON_GetArrayItem(shots, 0), "visual"), "黎明前"));
	ck_assert_ptr_nonnull(climax);
	ck_assert_ptr_nonnull(strstr(climax, "太阳跃出地平线"));
	cJSON_Delete(sb);
}
END_TEST

START_TEST(same_request_same_bytes)
{
	int secs[23];
	size_t n = split(180, secs);
	char *a, *b, *c;
	cJSON *x = write_sb("小明和他的狗在海边的黄昏散步", "zh", secs, n, 0, &a);
	cJSON *y = write_sb("小明和他的狗在海边的黄昏散步", "zh", secs, n, 0, &b);
	cJSON *z = write_sb("小明和他的狗在海边的清晨散步", "zh", secs, n, 0, &c);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	free(a);
	free(b);
	free(c);
	cJSON_Delete(x);
	cJSON_Delete(y);
	cJSON_Delete(z);
}
END_TEST

static double total_speech(const cJSON *sb, const char *lang)
{
	const cJSON *s;
	double t = 0;
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(sb, "shots"))
	t += lv_speech_estimate_seconds(lv_json_get_str(s, "narration"), lang);
	return t;
}

START_TEST(retry_is_more_conservative)
{
	int secs[10];
	size_t n = split(75, secs), i;
	cJSON *first = write_sb("An old fisherman rows out to sea before a storm", "en", secs, n, 0, NULL);
	cJSON *retry = write_sb("An old fisherman rows out to sea before a storm", "en", secs, n, 2, NULL);
	check_sb(retry, secs, n, "en", "attempt 2");
	ck_assert_double_lt(total_speech(retry, "en"), total_speech(first, "en"));
	for (i = 0; i < n; i++) {
		const char *line = lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(retry, "shots"), (int)i), "narration");
		double need = lv_speech_estimate_seconds(line, "en");
		/* held to under half the budget, unless only the shortest line was left */
		ck_assert_msg(need <= lv_narration_budget(secs[i]) * 0.45 + 1e-9 || need <= 1.2, "shot %zu: '%s' %.2f s", i,
		              line, need);
	}
	cJSON_Delete(first);
	cJSON_Delete(retry);
}
END_TEST

START_TEST(long_and_odd_prompts)
{
	char *prompt = malloc(16001);
	int secs[23];
	size_t n = split(180, secs), i, len = 0, chars = 0;
	cJSON *sb;
	static const char *const pieces[] = { "一个叫小红的女孩在森林里", "walks through the old town at night, ",
		                              "雨中的城市，", "while a storm gathers over the sea. " };
	/* 4000 characters of mixed script */
	for (i = 0; chars < 4000; i++) {
		const char *p = pieces[i % 4];
		for (; *p && chars < 4000; chars++) {
			size_t k = 1;
			while ((p[k] & 0xc0) == 0x80)
				k++;
			memcpy(prompt + len, p, k);
			len += k;
			p += k;
		}
	}
	prompt[len] = '\0';
	sb = write_sb(prompt, "zh", secs, n, 0, NULL);
	check_sb(sb, secs, n, "zh", "4000-character prompt");
	ck_assert_int_le((int)strlen(lv_json_get_str(sb, "title")), 80);
	cJSON_Delete(sb);
	sb = write_sb(prompt, "en", secs, n, 0, NULL);
	check_sb(sb, secs, n, "en", "4000-character prompt, en");
	cJSON_Delete(sb);
	/* malformed UTF-8, control characters, full-width letters, zero-width spaces */
	strcpy(prompt, "\xff\xfe A\x01 city \xe2\x80\x8b at ｄａｗｎ \xe4\xb8");
	sb = write_sb(prompt, "en", secs, 3, 0, NULL);
	check_sb(sb, secs, 3, "en", "odd bytes");
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(sb, "style"), "dawn"));
	cJSON_Delete(sb);
	/* other languages: English phrasing, the language tag kept */
	sb = write_sb("Un chat sur les toits de Paris la nuit", "fr", secs, 4, 0, NULL);
	check_sb(sb, secs, 4, "fr", "fr");
	cJSON_Delete(sb);
	/* one-second shots (a provider with short clips) and a long plan of 4 s shots */
	{
		int ones[5] = { 1, 1, 1, 1, 1 }, fours[45];
		for (i = 0; i < 45; i++)
			fours[i] = 4;
		sb = write_sb("清晨的海", "zh", ones, 5, 0, NULL);
		check_sb(sb, ones, 5, "zh", "1 s shots");
		cJSON_Delete(sb);
		sb = write_sb("A fox in the snowy forest", "en", fours, 45, 0, NULL);
		check_sb(sb, fours, 45, "en", "45 shots");
		cJSON_Delete(sb);
	}
	free(prompt);
}
END_TEST

/* A small deterministic generator for the fuzz test. */
static unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

START_TEST(random_prompts_never_break_the_writer)
{
	static const char *const words[] = {
		"城市", "清晨", "延时", "小明", "和他的狗", "一个叫", "的女孩", "老人", "渔夫", "雨", "海", "森林", "夜",
		"market", "Lily", "named", "and her", "dog", "a", "the", "storm", "time-lapse", "at dawn", "Tom", "walks",
		",", "，", "。", ".", "!", " ", "\xe2\x80\x8b", "\xef\xbd\x81", "\xff", "\xc3", "\t", "\n", "叫", "的",
		"Ｌｉｌｙ", "小", "阿", "老王", "一只", "猫", "robot", "girl's", "Zoë", "Привет", "🙂", "named Bob", "called",
	};
	unsigned seed = 12345;
	int iter;
	for (iter = 0; iter < 300; iter++) {
		char prompt[1024] = "";
		int secs[MAX_SHOTS];
		size_t n = 1 + next_rand(&seed) % 30, i, nw = 1 + next_rand(&seed) % 40;
		char what[64];
		cJSON *sb;
		for (i = 0; i < nw; i++)
			strncat(prompt, words[next_rand(&seed) % (sizeof(words) / sizeof(words[0]))],
			        sizeof(prompt) - strlen(prompt) - 1);
		for (i = 0; i < n; i++)
			secs[i] = 1 + (int)(next_rand(&seed) % 8);
		{
			lv_script_request req;
			char *out = NULL;
			memset(&req, 0, sizeof(req));
			req.prompt = prompt;
			req.language = iter % 3 == 0 ? "zh" : iter % 3 == 1 ? "en" : "ja";
			req.n_shots = n;
			req.shot_seconds = secs;
			if (lv_local_storyboard(&req, &out) != LV_OK) {
				/* only a prompt of nothing but spaces and invisible characters is refused */
				ck_assert_int_eq(lv_error_last()->status, LV_EINVALID);
				ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "empty"));
				continue;
			}
			sb = cJSON_Parse(out);
			ck_assert_ptr_nonnull(sb);
			snprintf(what, sizeof(what), "fuzz %d", iter);
			{
				char fb[256];
				ck_assert_msg(lv_storyboard_validate(sb, n, secs, req.language, fb, sizeof(fb)) == LV_OK, "%s: %s\n%s",
				              what, fb, out);
			}
			if (iter % 3 != 2)
				check_sb(sb, secs, n, req.language, what);
			cJSON_Delete(sb);
			free(out);
		}
	}
}
END_TEST

START_TEST(bad_requests_are_refused)
{
	lv_script_request req;
	int secs[1] = { 3 };
	char *out = NULL;
	memset(&req, 0, sizeof(req));
	req.prompt = "   \xe2\x80\x8b ";
	req.language = "en";
	req.n_shots = 1;
	req.shot_seconds = secs;
	ck_assert_int_eq(lv_local_storyboard(&req, &out), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "prompt"));
	req.prompt = "a city";
	req.n_shots = 0;
	ck_assert_int_eq(lv_local_storyboard(&req, &out), LV_EINVALID);
	secs[0] = 0;
	req.n_shots = 1;
	ck_assert_int_eq(lv_local_storyboard(&req, &out), LV_EINVALID);
	ck_assert_ptr_null(out);
}
END_TEST

static int near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

START_TEST(speech_estimate_counts_every_script)
{
	/* unchanged cases */
	ck_assert(near(lv_speech_estimate_seconds("The city wakes.", "en"), 3 / 2.8 + 0.3));
	ck_assert(near(lv_speech_estimate_seconds("The city wakes.", "de"), 3 / 2.6 + 0.3));
	/* per language: shorter Romance words, kana morae */
	ck_assert(near(lv_speech_estimate_seconds("la ville dort", "fr"), 3 / 2.9));
	ck_assert(near(lv_speech_estimate_seconds("あさ", "ja"), 2 / 7.5));
	ck_assert(near(lv_speech_estimate_seconds("清晨，城市醒来。", "zh"), 6 / 4.2 + 0.15 + 0.3));
	ck_assert(near(lv_speech_estimate_seconds("", "en"), 0));
	/* letters beyond ASCII make words: Cyrillic was silent, accents split words */
	ck_assert(near(lv_speech_estimate_seconds("Привет мир", "ru"), 2 / 2.6));
	ck_assert(near(lv_speech_estimate_seconds("café crème brûlée", "fr"), 3 / 2.9));
	ck_assert(near(lv_speech_estimate_seconds("Καλημέρα κόσμε", "el"), 2 / 2.6));
	/* full-width Latin, curly apostrophes, numbers */
	ck_assert(near(lv_speech_estimate_seconds("ＯＫ", "zh"), 1 / 2.6));
	ck_assert(near(lv_speech_estimate_seconds("don\xe2\x80\x99t stop", "en"), 2 / 2.8));
	ck_assert(near(lv_speech_estimate_seconds("in 2024", "en"), 3 / 2.8));
	ck_assert(near(lv_speech_estimate_seconds("7", "en"), 1 / 2.8));
	/* CJK beyond the basic block (extension B, compatibility ideographs) and ellipses */
	ck_assert(near(lv_speech_estimate_seconds("\xf0\xa0\x80\x80\xef\xa4\x80", "zh"), 2 / 4.2));
	ck_assert(near(lv_speech_estimate_seconds("等等\xe2\x80\xa6", "zh"), 2 / 4.2 + 0.3));
	/* the budget */
	ck_assert(near(lv_narration_budget(8), 7.4));
	ck_assert(near(lv_narration_budget(1), 0.5));
}
END_TEST

/* 1 if the text ends on a word that cannot end a phrase ("named.", "the.", "of."). */
static int ends_mid_phrase(const char *t)
{
	static const char *const weak[] = { " named", " called", " the", " a", " an", " of", " and", " to", " in the",
		                            " with", " who", NULL };
	size_t n = strlen(t), k;
	const char *const *w;
	while (n && (t[n - 1] == '.' || t[n - 1] == ' ' || t[n - 1] == '!' || t[n - 1] == '?'))
		n--;
	for (w = weak; *w; w++) {
		k = strlen(*w);
		if (n >= k && !strncasecmp(t + n - k, *w, k))
			return 1;
	}
	return 0;
}

/* Prompts with named characters: the names are kept exactly, and no shot text ends mid-phrase. */
START_TEST(names_kept_and_no_phrase_cut)
{
	static const struct {
		const char *prompt, *lang, *name;
	} table[] = {
		{ "A lighthouse keeper named Ada watches a storm roll in", "en", "Ada" },
		{ "An old fisherman named Tomas sails out at dawn to catch one last fish", "en", "Tomas" },
		{ "Un vieux p\xc3\xaa" "cheur nomm\xc3\xa9 Tomas part en mer \xc3\xa0 l'aube", "fr", "Tomas" },
	};
	int secs[4] = { 8, 8, 7, 7 };
	size_t i;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char *text = NULL;
		cJSON *sb = write_sb(table[i].prompt, table[i].lang, secs, 4, 0, &text), *shot;
		ck_assert_msg(strstr(text, table[i].name) != NULL, "'%s': the name %s is lost", table[i].prompt,
		              table[i].name);
		cJSON_ArrayForEach(shot, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
		{
			const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(shot, "visual"));
			const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(shot, "narration"));
			ck_assert_msg(v && !ends_mid_phrase(v), "'%s': visual ends mid-phrase: %s", table[i].prompt, v);
			ck_assert_msg(!n || !ends_mid_phrase(n), "'%s': narration ends mid-phrase: %s", table[i].prompt, n);
			ck_assert_msg(!n || !strstr(n, " named.") , "'%s': narration '%s'", table[i].prompt, n);
		}
		cJSON_Delete(sb);
		free(text);
	}
}
END_TEST

/* The prompt carried into every shot: for a table of prompts in several languages, every named
 * character is in the storyboard under its exact name (and spoken or shown), no shot text ends
 * mid-phrase, and the prompt's setting and time of day are in every shot's text. */
START_TEST(prompt_carried_into_every_shot)
{
	static const struct {
		const char *prompt, *lang;
		int duration;
		const char *names[9];
		const char *setting, *time; /* as the prompt writes them, or NULL */
	} table[] = {
		{ "A lighthouse keeper named Ada watches a storm roll in", "en", 30, { "Ada" }, "lighthouse", NULL },
		{ "An old fisherman named Tomas sails out to sea at dawn to catch one last fish", "en", 180, { "Tomas" },
		  "sea", "dawn" },
		/* a fisherman's place is the sea, though the prompt does not say so */
		{ "An old fisherman named Tomas sails out at dawn for one last catch", "en", 30, { "Tomas" }, "sea", "dawn" },
		{ "Two robots, Bolt and Pixel, repair a broken satellite on the roof at night", "en", 24, { "Bolt", "Pixel" },
		  "roof", "night" },
		{ "一只叫花花的小猫在院子里追蝴蝶", "zh", 24, { "花花" }, "院子", NULL },
		{ "天刚破晓时的特写：大道上川流不息的车流", "zh", 30, { NULL }, "大道", "破晓" },
		{ "Un vieux p\xc3\xaa" "cheur nomm\xc3\xa9 Tomas part en mer \xc3\xa0 l'aube", "fr", 30, { "Tomas" }, "mer",
		  "l'aube" },
		{ "Una ni\xc3\xb1" "a llamada Luc\xc3\xad" "a juega en el parque por la tarde", "es", 30, { "Luc\xc3\xad" "a" },
		  "parque", "tarde" },
		{ "Ein M\xc3\xa4" "dchen namens Greta spielt am Abend im Garten", "de", 30, { "Greta" }, "Garten", "Abend" },
		{ "A girl named Lily and her friends Ben, Cleo, Dan, Eve, Finn, Gus, Hana and Ivo play football in the "
		  "park at noon",
		  "en", 60, { "Lily", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana", "Ivo" }, "park", "noon" },
		{ "A girl named Zo\xc3\xab meets a boy called \xc3\x89mile at the station", "en", 24,
		  { "Zo\xc3\xab", "\xc3\x89mile" }, "station", NULL },
		{ "\xe0\xb8\x9c\xe0\xb8\xb9\xe0\xb9\x89\xe0\xb8\x8a\xe0\xb8\xb2\xe0\xb8\xa2\xe0\xb8\x8a\xe0\xb8\xa3\xe0\xb8\xb2"
		  "\xe0\xb8\x95\xe0\xb8\x81\xe0\xb8\x9b\xe0\xb8\xa5\xe0\xb8\xb2",
		  "th", 16, { NULL }, NULL, NULL },
	};
	size_t i, k;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int secs[MAX_SHOTS];
		size_t n = split(table[i].duration, secs);
		char *text = NULL;
		cJSON *sb = write_sb(table[i].prompt, table[i].lang, secs, n, 0, &text), *shot, *c;
		const cJSON *chars = cJSON_GetObjectItemCaseSensitive(sb, "characters");
		check_sb(sb, secs, n, table[i].lang, table[i].prompt);
		ck_assert_msg(!strstr(text, "Here is the ."), "'%s': an empty template", table[i].prompt);
		for (k = 0; k < 9 && table[i].names[k]; k++) {
			int in_chars = 0, shown = 0;
			cJSON_ArrayForEach(c, chars)
			{
				if (!strcmp(lv_json_get_str(c, "name"), table[i].names[k]))
					in_chars = 1;
			}
			ck_assert_msg(in_chars, "'%s': no character named exactly '%s'", table[i].prompt, table[i].names[k]);
			cJSON_ArrayForEach(shot, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
			{
				if (strstr(lv_json_get_str(shot, "narration"), table[i].names[k]) ||
				    strstr(lv_json_get_str(shot, "visual"), table[i].names[k]))
					shown = 1;
			}
			ck_assert_msg(shown, "'%s': '%s' is in no shot", table[i].prompt, table[i].names[k]);
		}
		cJSON_ArrayForEach(shot, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
		{
			const char *v = lv_json_get_str(shot, "visual"), *nr = lv_json_get_str(shot, "narration");
			ck_assert_msg(!ends_mid_phrase(v), "'%s': visual ends mid-phrase: %s", table[i].prompt, v);
			ck_assert_msg(!ends_mid_phrase(nr), "'%s': narration ends mid-phrase: %s", table[i].prompt, nr);
			if (table[i].setting)
				ck_assert_msg(strstr(v, table[i].setting) || strstr(nr, table[i].setting),
				              "'%s': the setting '%s' is not in shot: %s / %s", table[i].prompt, table[i].setting, v, nr);
			if (table[i].time)
				ck_assert_msg(strstr(v, table[i].time) || strstr(nr, table[i].time),
				              "'%s': the time of day '%s' is not in shot: %s / %s", table[i].prompt, table[i].time, v,
				              nr);
		}
		/* the first shot speaks the prompt itself when it fits (languages with templates) */
		if (strcmp(table[i].lang, "th") && table[i].duration <= 60) {
			const char *first = lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sb, "shots"), 0),
			                                    "narration");
			ck_assert_msg(lv_speech_estimate_seconds(table[i].prompt, table[i].lang) > lv_narration_budget(secs[0]) ||
			                      !strncmp(first, table[i].prompt, strlen(table[i].prompt) - 1),
			              "'%s': the first shot says '%s'", table[i].prompt, first);
		}
		/* a language without templates speaks the prompt's own words */
		if (!strcmp(table[i].lang, "th"))
			ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sb, "shots"), 0),
			                                 "narration"),
			                 table[i].prompt);
		cJSON_Delete(sb);
		free(text);
	}
}
END_TEST

/* Prompts in French, Spanish and German: their characters, places and times of day are understood (the
 * character's description, the place and the light in the English visuals). */
START_TEST(other_languages_are_understood)
{
	static const struct {
		const char *prompt, *lang, *look, *place, *light;
	} table[] = {
		{ "Un vieux p\xc3\xaa" "cheur nomm\xc3\xa9 Tomas part en mer \xc3\xa0 l'aube", "fr", "old fisherman", "the sea",
		  "sun rises" },
		/* (until the sun goes down: the film begins in the afternoon light) */
		{ "Ein M\xc3\xa4" "dchen namens Greta sucht im Wald ihren verlorenen Hund, bis die Sonne untergeht", "de", "girl",
		  "forest", "afternoon" },
		{ "Una ni\xc3\xb1" "a llamada Luc\xc3\xad" "a camina por la playa de noche", "es", "girl", "the sea", "night" },
	};
	int secs[3] = { 8, 8, 8 };
	size_t i;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char *text = NULL;
		cJSON *sb = write_sb(table[i].prompt, table[i].lang, secs, 3, 0, &text);
		const char *desc = lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(sb, "characters"), 0), "description");
		const char *vis = lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(sb, "shots"), 0), "visual");
		ck_assert_msg(desc && strstr(desc, table[i].look), "'%s': the character is '%s'", table[i].prompt, desc);
		ck_assert_msg(strstr(vis, table[i].place) && strstr(vis, table[i].light), "'%s': the first shot is '%s'",
		              table[i].prompt, vis);
		cJSON_Delete(sb);
		free(text);
	}
}
END_TEST

/* The light of every shot as the renderer reads it from the shot's visual: 0 dawn, 1 day, 2 dusk, 3 night. */
static int shot_time(const cJSON *shot)
{
	static const char *const times[] = { "dawn", "day", "dusk", "night" };
	lv_scene_choice c;
	int t;
	lv_scene_choose(lv_json_get_str(shot, "visual"), &c);
	for (t = 0; t < 4; t++)
		if (!strcmp(c.time, times[t]))
			return t;
	return -1;
}

/* A prompt that names two times of day goes from the first to the last over its shots, in order; one
 * that lasts until a time of day comes to it at the end; one time of day holds in every shot.  Checked
 * on each shot's own light as the renderer reads it from the shot's visual. */
START_TEST(time_of_day_follows_the_prompt_in_order)
{
	static const struct {
		const char *prompt, *lang;
		int first, last; /* 0 dawn, 1 day, 2 dusk, 3 night */
		int changes;     /* the light changes over the film */
	} table[] = {
		{ "Un vieux p\xc3\xaa" "cheur nomm\xc3\xa9 Tomas part en mer \xc3\xa0 l'aube et rentre au port le soir", "fr", 0, 2,
		  1 },
		{ "An old fisherman named Tomas sails out at dawn and comes home in the evening", "en", 0, 2, 1 },
		{ "Ein M\xc3\xa4" "dchen namens Greta sucht im Wald ihren verlorenen Hund, bis die Sonne untergeht", "de", 1, 2,
		  1 },
		{ "Una ni\xc3\xb1" "a llamada Luc\xc3\xad" "a camina por la playa desde la ma\xc3\xb1" "ana hasta la noche", "es", 1, 3, 1 },
		{ "\xe5\xb0\x8f\xe6\x98\x8e\xe6\xb8\x85\xe6\x99\xa8\xe5\x87\xba\xe9\x97\xa8\xef\xbc\x8c\xe9\xbb\x84\xe6\x98\x8f"
		  "\xe6\x97\xb6\xe5\x9b\x9e\xe5\x88\xb0\xe6\x9d\x91\xe5\xad\x90", /* 小明清晨出门，黄昏时回到村子 */
		  "zh", 0, 2, 1 },
		{ "An old fisherman named Tomas sails out at dawn for one last catch", "en", 0, 0, 0 },
		{ "Two robots, Bolt and Pixel, build a snowman in a quiet park at night", "en", 3, 3, 0 },
	};
	static const int durations[] = { 30, 60, 180 };
	size_t i, d;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		for (d = 0; d < sizeof(durations) / sizeof(durations[0]); d++) {
			int secs[MAX_SHOTS], prev = -1, changed = 0;
			size_t n = split(durations[d], secs), k = 0;
			cJSON *sb = write_sb(table[i].prompt, table[i].lang, secs, n, 0, NULL), *shot;
			cJSON_ArrayForEach(shot, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
			{
				int t = shot_time(shot);
				if (k == 0)
					ck_assert_msg(t == table[i].first, "'%s' %d s: shot 1 is %d, expected %d: %s", table[i].prompt,
					              durations[d], t, table[i].first, lv_json_get_str(shot, "visual"));
				if (k + 1 == n)
					ck_assert_msg(t == table[i].last, "'%s' %d s: the last shot is %d, expected %d: %s",
					              table[i].prompt, durations[d], t, table[i].last, lv_json_get_str(shot, "visual"));
				ck_assert_msg(prev < 0 || t >= prev, "'%s' %d s: shot %zu goes back from %d to %d: %s", table[i].prompt,
				              durations[d], k + 1, prev, t, lv_json_get_str(shot, "visual"));
				changed |= prev >= 0 && t != prev;
				prev = t;
				k++;
			}
			ck_assert_int_eq(changed, table[i].changes);
			cJSON_Delete(sb);
		}
}
END_TEST

/* The renderer's reading of a shot's visual. */
static lv_scene_choice shot_scene(const cJSON *shot)
{
	lv_scene_choice c;
	lv_scene_choose(lv_json_get_str(shot, "visual"), &c);
	return c;
}

/* A prompt's actions are its story's parts, in order: the middle shots show the first part, the last
 * shots the last, each visual saying its own part (as the renderer reads it: the setting, open water
 * or the harbour, the weather).  Names joined by "and" are not actions. */
START_TEST(story_parts_follow_the_prompt)
{
	static const struct {
		const char *prompt, *lang;
		const char *first_weather, *middle_not_weather, *some_weather, *last_weather; /* NULL: not checked */
		int middle_harbour, last_harbour;   /* -1: not checked */
		const char *first_not_says, *last_says, *every_says; /* in the shots' visuals; NULL: not checked */
	} table[] = {
		/* sails out at dawn (open water in the middle) and comes back to port in the evening (the harbour) */
		{ "Un vieux p\xc3\xaa" "cheur nomm\xc3\xa9 Tomas part en mer \xc3\xa0 l'aube et rentre au port le soir", "fr",
		  "clear", NULL, NULL, "clear", 0, 1, "port", "Tomas rentre au port le soir", NULL },
		/* setting out, the catch at sea, the storm gathering at the end */
		{ "An old fisherman named Tomas sails out at dawn for one last catch before the winter storms", "en", "clear",
		  "storm", NULL, "gathering", 0, 0, "storm", "before the winter storms", NULL },
		/* calm, the storm arriving, the storm */
		{ "A lighthouse keeper named Ada watches a storm roll in", "en", "clear", "storm", "gathering", "storm", -1, -1,
		  "storm", "storm", NULL },
		{ "Une gardienne de phare nomm\xc3\xa9" "e Ada regarde un orage qui approche", "fr", "clear", "storm", "gathering",
		  "storm", -1, -1, "orage", "orage", NULL },
		{ "灯塔看守人阿达在清晨看着暴风雨来临", "zh", "clear", "storm", "gathering", "storm", -1, -1, "暴风雨", NULL, NULL },
		{ "An old fisherman named Tomas sails out at dawn and comes home in the evening", "en", "clear", NULL, NULL,
		  NULL, 0, -1, "comes home", "Tomas comes home in the evening", NULL },
		{ "Un ni\xc3\xb1o llamado Pablo juega en la playa y vuelve a casa por la tarde", "es", NULL, NULL, NULL, NULL,
		  -1, -1, "vuelve", "Pablo vuelve a casa por la tarde", NULL },
		{ "Ein M\xc3\xa4" "dchen namens Greta sucht im Wald ihren verlorenen Hund, bis die Sonne untergeht", "de", NULL,
		  NULL, NULL, NULL, -1, -1, "untergeht", "bis die Sonne untergeht", NULL },
		{ "\xe5\xb0\x8f\xe6\x98\x8e\xe6\xb8\x85\xe6\x99\xa8\xe5\x87\xba\xe9\x97\xa8\xef\xbc\x8c\xe9\xbb\x84\xe6\x98\x8f"
		  "\xe6\x97\xb6\xe5\x9b\x9e\xe5\x88\xb0\xe6\x9d\x91\xe5\xad\x90", /* 小明清晨出门，黄昏时回到村子 */
		  "zh", NULL, NULL, NULL, NULL, -1, -1, "\xe5\x9b\x9e\xe5\x88\xb0" /* 回到 */,
		  "\xe5\x9b\x9e\xe5\x88\xb0\xe6\x9d\x91\xe5\xad\x90" /* 回到村子 */, NULL },
		{ "\xe5\xb0\x8f\xe6\x98\x8e\xe5\x9c\xa8\xe5\xb1\xb1\xe9\x87\x8c\xe6\x95\xa3\xe6\xad\xa5\xef\xbc\x8c\xe7\x84\xb6"
		  "\xe5\x90\x8e\xe5\x8e\xbb\xe6\xb5\xb7\xe8\xbe\xb9", /* 小明在山里散步，然后去海边 */
		  "zh", NULL, NULL, NULL, NULL, -1, -1, "\xe6\xb5\xb7\xe8\xbe\xb9" /* 海边 */,
		  "\xe5\x8e\xbb\xe6\xb5\xb7\xe8\xbe\xb9" /* 去海边 */, NULL },
		/* one action: every shot quotes it whole */
		{ "A girl named Lily and her friends Ben, Cleo, Dan, Eve, Finn, Gus, Hana and Ivo play football in the "
		  "park at noon",
		  "en", NULL, NULL, NULL, NULL, -1, -1, NULL, NULL, "Ivo play football in the park at noon" },
		{ "Two robots, Bolt and Pixel, build a snowman in a quiet park at night", "en", NULL, NULL, NULL, NULL, -1, -1,
		  NULL, NULL, "Bolt and Pixel, build a snowman" },
		{ "Lily and her dog walk along the beach at sunset", "en", NULL, NULL, NULL, NULL, -1, -1, NULL, NULL,
		  "Lily and her dog walk along the beach" },
	};
	static const int durations[] = { 30, 180 };
	size_t i, d;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		for (d = 0; d < sizeof(durations) / sizeof(durations[0]); d++) {
			int secs[MAX_SHOTS], some = 0, prev_rank = 0;
			size_t n = split(durations[d], secs), k = 0;
			cJSON *sb = write_sb(table[i].prompt, table[i].lang, secs, n, 0, NULL), *shot;
			check_sb(sb, secs, n, table[i].lang, table[i].prompt);
			cJSON_ArrayForEach(shot, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
			{
				const char *v = lv_json_get_str(shot, "visual");
				lv_scene_choice c = shot_scene(shot);
				int middle = k >= 1 && k < n / 2;
				if (k == 0 && table[i].first_weather)
					ck_assert_msg(!strcmp(c.weather, table[i].first_weather), "'%s' %d s: shot 1 is %s: %s",
					              table[i].prompt, durations[d], c.weather, v);
				if (k == 0 && table[i].first_not_says)
					ck_assert_msg(!strstr(v, table[i].first_not_says), "'%s' %d s: shot 1 says '%s': %s",
					              table[i].prompt, durations[d], table[i].first_not_says, v);
				if (middle && table[i].middle_not_weather)
					ck_assert_msg(strcmp(c.weather, table[i].middle_not_weather), "'%s' %d s: shot %zu is %s: %s",
					              table[i].prompt, durations[d], k + 1, c.weather, v);
				if (middle && table[i].middle_harbour >= 0)
					ck_assert_msg(!strcmp(c.setting, "coast") && c.harbour == table[i].middle_harbour && c.boat,
					              "'%s' %d s: shot %zu is %s, harbour %d, boat %d: %s", table[i].prompt, durations[d],
					              k + 1, c.setting, c.harbour, c.boat, v);
				if (table[i].some_weather && k + 1 < n)
					some |= !strcmp(c.weather, table[i].some_weather);
				if (table[i].some_weather) {
					/* the weather comes and stays: calm, gathering, the storm, never back */
					int rank = !strcmp(c.weather, "storm") ? 2 : !strcmp(c.weather, "gathering") ? 1 : 0;
					ck_assert_msg(rank >= prev_rank, "'%s' %d s: shot %zu goes back to %s: %s", table[i].prompt,
					              durations[d], k + 1, c.weather, v);
					prev_rank = rank;
				}
				if (k + 1 == n) {
					if (table[i].last_weather)
						ck_assert_msg(!strcmp(c.weather, table[i].last_weather), "'%s' %d s: the last shot is %s: %s",
						              table[i].prompt, durations[d], c.weather, v);
					if (table[i].last_harbour >= 0)
						ck_assert_msg(!strcmp(c.setting, "coast") && c.harbour == table[i].last_harbour,
						              "'%s' %d s: the last shot is %s, harbour %d: %s", table[i].prompt, durations[d],
						              c.setting, c.harbour, v);
					if (table[i].last_says)
						ck_assert_msg(strstr(v, table[i].last_says), "'%s' %d s: the last shot does not say '%s': %s",
						              table[i].prompt, durations[d], table[i].last_says, v);
				}
				if (table[i].every_says)
					ck_assert_msg(strstr(v, table[i].every_says), "'%s' %d s: shot %zu does not say '%s': %s",
					              table[i].prompt, durations[d], k + 1, table[i].every_says, v);
				ck_assert_msg(!ends_mid_phrase(v), "'%s': visual ends mid-phrase: %s", table[i].prompt, v);
				k++;
			}
			ck_assert_msg(!table[i].some_weather || some, "'%s' %d s: no shot is %s", table[i].prompt, durations[d],
			              table[i].some_weather);
			cJSON_Delete(sb);
		}
}
END_TEST

/* A story that looks for someone: the one looked for (the lost dog) is in no shot before the last,
 * where it is found; the one looking is there from the first shot; the middle says the search.  A
 * companion who is not looked for is there from the start. */
START_TEST(lost_one_is_found_at_the_end)
{
	static const struct {
		const char *prompt, *lang, *seeker, *sought; /* names in "characters" */
		const char *search, *found;                  /* in the middle shots' visuals, in the last */
	} table[] = {
		{ "Ein M\xc3\xa4" "dchen namens Greta sucht im Wald ihren verlorenen Hund, bis die Sonne untergeht", "de", "Greta",
		  "The dog", "searches for the dog", "finds" },
		{ "A boy named Leo looks for his lost cat in the old town", "en", "Leo", "The cat", "searches for the cat",
		  "finds" },
		{ "Une fille nomm\xc3\xa9" "e L\xc3\xa9" "a cherche son chien perdu dans la for\xc3\xaat", "fr", "L\xc3\xa9" "a",
		  "The dog", "searches for the dog", "finds" },
		{ "\xe5\xb0\x8f\xe6\x98\x8e\xe5\x9c\xa8\xe5\x85\xac\xe5\x9b\xad\xe9\x87\x8c\xe5\xaf\xbb\xe6\x89\xbe\xe8\xb5\xb0"
		  "\xe4\xb8\xa2\xe7\x9a\x84\xe5\xb0\x8f\xe7\x8b\x97", /* 小明在公园里寻找走丢的小狗 */
		  "zh", "\xe5\xb0\x8f\xe6\x98\x8e", "\xe5\xb0\x8f\xe7\x8b\x97", "\xe5\xaf\xbb\xe6\x89\xbe" /* 寻找 */,
		  "\xe6\x89\xbe\xe5\x88\xb0\xe4\xba\x86" /* 找到了 */ },
		/* not looked for: together from the start ("cerca" is "near" here, 探险 an adventure) */
		{ "Lily and her dog walk along the beach at sunset", "en", "Lily", NULL, NULL, NULL },
		{ "Un ni\xc3\xb1o llamado Pablo juega con su perro cerca del r\xc3\xado", "es", "Pablo", NULL, NULL, NULL },
		{ "\xe5\xb0\x8f\xe6\x98\x8e\xe5\x92\x8c\xe4\xbb\x96\xe7\x9a\x84\xe7\x8b\x97\xe5\x8e\xbb\xe6\xa3\xae"
		  "\xe6\x9e\x97\xe6\x8e\xa2\xe9\x99\xa9", /* 小明和他的狗去森林探险 */
		  "zh", "\xe5\xb0\x8f\xe6\x98\x8e", NULL, NULL, NULL },
		{ "Lily and her dog search for a lost ball in the park", "en", "Lily", NULL, NULL, NULL },
	};
	static const int durations[] = { 30, 180 };
	size_t i, d;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		for (d = 0; d < sizeof(durations) / sizeof(durations[0]); d++) {
			int secs[MAX_SHOTS], searched = 0, together_early = 0;
			size_t n = split(durations[d], secs), k = 0;
			cJSON *sb = write_sb(table[i].prompt, table[i].lang, secs, n, 0, NULL), *shot, *c;
			char seeker[8] = "", sought[8] = "", other[8] = "";
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(sb, "characters"))
			{
				const char *name = lv_json_get_str(c, "name"), *id = lv_json_get_str(c, "id");
				if (!strcmp(name, table[i].seeker))
					snprintf(seeker, sizeof(seeker), "%s", id);
				else if (table[i].sought && !strcmp(name, table[i].sought))
					snprintf(sought, sizeof(sought), "%s", id);
				else
					snprintf(other, sizeof(other), "%s", id);
			}
			ck_assert_msg(seeker[0], "'%s': no character '%s'", table[i].prompt, table[i].seeker);
			ck_assert_msg(!table[i].sought || sought[0], "'%s': no character '%s'", table[i].prompt, table[i].sought);
			cJSON_ArrayForEach(shot, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
			{
				const cJSON *who = cJSON_GetObjectItemCaseSensitive(shot, "characters"), *w;
				const char *v = lv_json_get_str(shot, "visual");
				int has_seeker = 0, has_sought = 0, has_other = 0;
				cJSON_ArrayForEach(w, who)
				{
					has_seeker |= !strcmp(w->valuestring, seeker);
					has_sought |= sought[0] && !strcmp(w->valuestring, sought);
					has_other |= other[0] && !strcmp(w->valuestring, other);
				}
				if (k == 0)
					ck_assert_msg(has_seeker, "'%s' %d s: %s is not in the first shot", table[i].prompt, durations[d],
					              table[i].seeker);
				if (table[i].sought && k + 1 < n) {
					ck_assert_msg(!has_sought, "'%s' %d s: %s already in shot %zu: %s", table[i].prompt, durations[d],
					              table[i].sought, k + 1, v);
					searched |= strstr(v, table[i].search) != NULL;
				}
				if (table[i].sought && k + 1 == n) {
					ck_assert_msg(has_sought && has_seeker, "'%s' %d s: the last shot lacks %s or %s", table[i].prompt,
					              durations[d], table[i].seeker, table[i].sought);
					ck_assert_msg(strstr(v, table[i].found), "'%s' %d s: the last shot does not find: %s",
					              table[i].prompt, durations[d], v);
				}
				if (!table[i].sought && k + 1 < n && has_seeker && has_other)
					together_early = 1;
				k++;
			}
			if (table[i].sought)
				ck_assert_msg(searched, "'%s' %d s: no shot says the search", table[i].prompt, durations[d]);
			else
				ck_assert_msg(together_early, "'%s' %d s: the companion is kept out", table[i].prompt, durations[d]);
			cJSON_Delete(sb);
		}
}
END_TEST

/* Details never contradict the film: no rooftops, windows or trees at sea, no blossoms or bees in snow,
 * no sunbeams at night. */
START_TEST(details_agree_with_the_setting)
{
	static const struct {
		const char *prompt;
		int duration;
		const char *never[6];
	} table[] = {
		{ "An old fisherman named Tomas sails out at dawn for one last catch before the winter storms", 180,
		  { "rooftop", "window", "tree", "glass", "puddle", "door" } },
		{ "Two robots, Bolt and Pixel, build a snowman in a quiet park at night", 60,
		  { "petal", "bees", "blossom", "flower", "sunbeam", "dew" } },
	};
	size_t i, k;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int secs[MAX_SHOTS];
		size_t n = split(table[i].duration, secs);
		cJSON *sb = write_sb(table[i].prompt, "en", secs, n, 0, NULL), *shot;
		cJSON_ArrayForEach(shot, cJSON_GetObjectItem(sb, "shots"))
		{
			const char *v = lv_json_get_str(shot, "visual");
			for (k = 0; k < 6 && table[i].never[k]; k++)
				ck_assert_msg(!strstr(v, table[i].never[k]), "'%s': '%s' in shot: %s", table[i].prompt,
				              table[i].never[k], v);
		}
		cJSON_Delete(sb);
	}
}
END_TEST

/* Speech coverage of the writer's narration as the local speech engine (espeak-ng) speaks it: every
 * shot's line spoken as the local speech provider speaks it (lv_tts_speak_paced: a narrator's pace,
 * sped up to the shot's budget when longer), the seconds summed over the film's length.  At least 60 % for every
 * language with templates at 30 s; LV_TEST_COVERAGE_LONG=1 also measures 180 s films.  The figures
 * are printed. */
START_TEST(narration_covers_most_of_the_film)
{
	static const struct {
		const char *lang, *prompt;
	} table[] = {
		{ "en", "A lighthouse keeper named Ada watches a storm roll in" },
		{ "en", "An old fisherman named Tomas sails out at dawn for one last catch before the winter storms" },
		{ "zh", "\xe5\x9f\x8e\xe5\xb8\x82\xe6\xb8\x85\xe6\x99\xa8\xe7\x9a\x84\xe5\xbb\xb6\xe6\x97\xb6\xe9\xa3\x8e\xe5\x85\x89" },
		{ "fr", "Un vieux p\xc3\xaa" "cheur nomm\xc3\xa9 Tomas part en mer \xc3\xa0 l'aube et rentre au port le soir" },
		{ "es", "Una ni\xc3\xb1" "a llamada Luc\xc3\xad" "a juega en el parque por la tarde" },
		{ "de", "Ein M\xc3\xa4" "dchen namens Greta sucht im Wald ihren verlorenen Hund, bis die Sonne untergeht" },
		{ "ja", "\xe5\xb0\x91\xe5\xa5\xb3\xe3\x81\x8c\xe6\xb5\xb7\xe8\xbe\xba\xe3\x82\x92\xe6\xad\xa9\xe3\x81\x8f" },
	};
	static const int durations[] = { 30, 180 };
	char *dir = lv_test_mkdtemp("coverage"), *wav;
	size_t i, d, nd = getenv("LV_TEST_COVERAGE_LONG") ? 2 : 1;
	double worst = 1;
	const char *worst_lang = "";
	int worst_d = 0;
	ck_assert_ptr_nonnull(dir);
	wav = lv_asprintf("%s/line.wav", dir);
	ck_assert_ptr_nonnull(wav);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		for (d = 0; d < nd; d++) {
			int secs[MAX_SHOTS];
			size_t n = split(durations[d], secs), k;
			cJSON *sb = write_sb(table[i].prompt, table[i].lang, secs, n, 0, NULL);
			double spoken = 0, share, est = 0;
			for (k = 0; k < n; k++) {
				const char *line = lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(sb, "shots"), (int)k),
				                                   "narration");
				double sec = 0, budget = lv_narration_budget(secs[k]);
				if (!line || !line[0])
					continue;
				ck_assert_msg(lv_tts_speak_paced(line, table[i].lang, 0, budget, wav, &sec, NULL) == LV_OK, "speech: %s",
				              lv_error_last()->message);
				spoken += sec < budget ? sec : budget;
				est += lv_speech_estimate_seconds(line, table[i].lang);
			}
			share = spoken / durations[d];
			fprintf(stderr, "speech coverage %s %3d s: %.0f %% est %.0f %% (%s)\n", table[i].lang, durations[d], 100 * share,
			       100 * est / durations[d], table[i].prompt);
			if (share < worst) {
				worst = share;
				worst_lang = table[i].lang;
				worst_d = durations[d];
			}
			cJSON_Delete(sb);
		}
	free(wav);
	lv_test_rmdir(dir);
	free(dir);
	ck_assert_msg(worst >= 0.6, "%s, %d s: narration covers %.0f %% of the film", worst_lang, worst_d, 100 * worst);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("local_script");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_duration_gives_a_valid_storyboard);
	tcase_add_test(tc, three_second_film);
	tcase_add_test(tc, style_and_mood_follow_the_prompt);
	tcase_add_test(tc, characters_are_found_and_kept_consistent);
	tcase_add_test(tc, character_looks_are_consistent_and_fit_the_role);
	tcase_add_test(tc, cameras_and_light_move_through_the_film);
	tcase_add_test(tc, same_request_same_bytes);
	tcase_add_test(tc, retry_is_more_conservative);
	tcase_add_test(tc, long_and_odd_prompts);
	tcase_add_test(tc, random_prompts_never_break_the_writer);
	tcase_add_test(tc, bad_requests_are_refused);
	tcase_add_test(tc, speech_estimate_counts_every_script);
	tcase_add_test(tc, names_kept_and_no_phrase_cut);
	tcase_add_test(tc, prompt_carried_into_every_shot);
	tcase_add_test(tc, other_languages_are_understood);
	tcase_add_test(tc, details_agree_with_the_setting);
	tcase_add_test(tc, time_of_day_follows_the_prompt_in_order);
	tcase_add_test(tc, lost_one_is_found_at_the_end);
	tcase_add_test(tc, story_parts_follow_the_prompt);
	tcase_add_test(tc, narration_covers_most_of_the_film);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
