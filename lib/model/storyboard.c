#include "model/storyboard.h"
#include "util/error.h"
#include "util/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Decode one UTF-8 code point (input assumed valid; malformed bytes count as one). */
static size_t next_cp(const unsigned char *s, unsigned *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0 && s[1]) {
		*cp = ((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0 && s[1] && s[2]) {
		*cp = ((s[0] & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
		return 3;
	}
	if ((s[0] & 0xf8) == 0xf0 && s[1] && s[2] && s[3]) {
		*cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
		return 4;
	}
	*cp = s[0];
	return 1;
}

static int is_cjk_cp(unsigned cp)
{
	return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0x20000 && cp <= 0x3ffff);
}

/* Kana: one mora each, spoken about twice as fast as Chinese syllables. */
static int is_kana_cp(unsigned cp)
{
	return (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x31f0 && cp <= 0x31ff);
}

static int is_digit_cp(unsigned cp)
{
	return (cp >= '0' && cp <= '9') || (cp >= 0xff10 && cp <= 0xff19);
}

/* Letters of alphabetic scripts (Latin with accents, Greek, Cyrillic, Armenian, Hebrew, Arabic,
 * Indic, Georgian, full-width Latin) and combining marks: they make up words like ASCII letters. */
static int is_letter_cp(unsigned cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
	return (cp >= 0xc0 && cp <= 0x2af && cp != 0xd7 && cp != 0xf7) || (cp >= 0x300 && cp <= 0x36f) ||
	       (cp >= 0x370 && cp <= 0x3ff && cp != 0x37e && cp != 0x387) || (cp >= 0x400 && cp <= 0x52f) ||
	       (cp >= 0x531 && cp <= 0x587) || (cp >= 0x5d0 && cp <= 0x5ea) || (cp >= 0x620 && cp <= 0x64a) ||
	       (cp >= 0x671 && cp <= 0x6d3) || (cp >= 0x900 && cp <= 0xdff && cp != 0x964 && cp != 0x965) ||
	       (cp >= 0x10a0 && cp <= 0x10ff) || (cp >= 0x1e00 && cp <= 0x1fff) || (cp >= 0xff21 && cp <= 0xff3a) ||
	       (cp >= 0xff41 && cp <= 0xff5a);
}

static double pause_after(unsigned cp)
{
	switch (cp) {
	case ',': case ';': case ':': case 0xff0c: case 0x3001: case 0xff1b: case 0xff1a: case 0x060c: case 0x2014:
		return 0.15;
	case '.': case '!': case '?': case 0x3002: case 0xff01: case 0xff1f: case 0xff0e: case 0x2026: case 0x061f:
	case 0x0964: case 0x0965:
		return 0.3;
	default:
		return 0;
	}
}

double lv_speech_estimate_seconds(const char *text, const char *language)
{
	const unsigned char *p = (const unsigned char *)(text ? text : "");
	double cjk = 0, kana = 0, hangul = 0, words = 0, pauses = 0;
	int in_word = 0;
	size_t digits = 0; /* length of the current run of digits */
	/* the rate follows the script of each character; words of Romance languages are shorter (fewer
	 * syllables a word), so more of them are spoken a second */
	double word_rate = 2.6;
	if (language && (!strncmp(language, "fr", 2) || !strncmp(language, "es", 2) || !strncmp(language, "it", 2) ||
	                 !strncmp(language, "pt", 2)) &&
	    (!language[2] || language[2] == '-' || language[2] == '_'))
		word_rate = 2.9;
	else if (language && !strncmp(language, "en", 2) && (!language[2] || language[2] == '-' || language[2] == '_'))
		word_rate = 2.8; /* about 170 words a minute, a narrator's pace */
	while (*p) {
		unsigned cp;
		int digit;
		p += next_cp(p, &cp);
		digit = is_digit_cp(cp);
		if (!digit && digits) {
			/* A number is read as several words: "2024" is "twenty twenty-four". */
			words += (double)((digits - 1) / 2);
			digits = 0;
		}
		if (is_cjk_cp(cp)) {
			cjk++;
			in_word = 0;
		} else if (is_kana_cp(cp)) {
			kana++;
			in_word = 0;
		} else if (cp >= 0xac00 && cp <= 0xd7af) {
			hangul++;
			in_word = 0;
		} else if (digit || is_letter_cp(cp)) {
			if (!in_word)
				words++;
			in_word = 1;
			digits += digit;
		} else if (in_word && (cp == '\'' || cp == 0x2019)) {
			/* an apostrophe inside a word ("don't") does not start a new one */
		} else {
			in_word = 0;
			pauses += pause_after(cp);
		}
	}
	if (digits)
		words += (double)((digits - 1) / 2);
	return cjk / 4.2 + kana / 7.5 + hangul / 4.5 + words / word_rate + pauses;
}

double lv_narration_budget(int seconds)
{
	/* Leave breathing room at the cut: 0.6 s, and at least half the shot for speech. */
	double b = (double)seconds - 0.6;
	return b < seconds * 0.5 ? seconds * 0.5 : b;
}

static int fail(char *fb, size_t cap, const char *fmt, ...) LV_PRINTF(3, 4);

static int fail(char *fb, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fb, cap, fmt, ap);
	va_end(ap);
	return lv_error_set(LV_EINVALID, "storyboard: %s", fb);
}

static const char *str_field(const cJSON *o, const char *name)
{
	const char *s = lv_json_get_str(o, name);
	return s && *s ? s : NULL;
}

int lv_storyboard_validate(const cJSON *sb, size_t n_shots, const int *shot_seconds, const char *language,
                           char *fb, size_t cap)
{
	const cJSON *chars, *shots, *c, *s;
	size_t i;
	if (!cJSON_IsObject(sb))
		return fail(fb, cap, "the storyboard must be a JSON object");
	if (!str_field(sb, "title") || !str_field(sb, "style"))
		return fail(fb, cap, "title and style must be non-empty strings");
	chars = cJSON_GetObjectItemCaseSensitive(sb, "characters");
	shots = cJSON_GetObjectItemCaseSensitive(sb, "shots");
	if (!cJSON_IsArray(chars))
		return fail(fb, cap, "characters must be an array (it may be empty)");
	if (cJSON_GetArraySize(chars) > 9)
		return fail(fb, cap, "at most 9 characters");
	cJSON_ArrayForEach(c, chars)
	{
		const cJSON *other;
		if (!str_field(c, "id") || !str_field(c, "name") || !str_field(c, "description"))
			return fail(fb, cap, "every character needs a non-empty id, name and description");
		for (other = chars->child; other != c; other = other->next)
			if (!strcmp(lv_json_get_str(other, "id"), lv_json_get_str(c, "id")))
				return fail(fb, cap, "character id '%s' is used twice", lv_json_get_str(c, "id"));
	}
	if (!cJSON_IsArray(shots) || (size_t)cJSON_GetArraySize(shots) != n_shots)
		return fail(fb, cap, "shots must be an array of exactly %zu shots", n_shots);
	i = 0;
	cJSON_ArrayForEach(s, shots)
	{
		const cJSON *idx = cJSON_GetObjectItemCaseSensitive(s, "index");
		const cJSON *dur = cJSON_GetObjectItemCaseSensitive(s, "duration");
		const cJSON *who = cJSON_GetObjectItemCaseSensitive(s, "characters"), *w;
		const cJSON *narr = cJSON_GetObjectItemCaseSensitive(s, "narration");
		double need, budget;
		if (!cJSON_IsNumber(idx) || idx->valuedouble != (double)i)
			return fail(fb, cap, "shot %zu must have index %zu", i, i);
		if (!cJSON_IsNumber(dur) || dur->valuedouble != (double)shot_seconds[i])
			return fail(fb, cap, "shot %zu must last exactly %d seconds", i, shot_seconds[i]);
		if (!str_field(s, "visual") || !str_field(s, "camera"))
			return fail(fb, cap, "shot %zu needs a non-empty camera and visual", i);
		if (who && !cJSON_IsArray(who))
			return fail(fb, cap, "shot %zu: characters must be an array of character ids", i);
		cJSON_ArrayForEach(w, who)
		{
			const cJSON *k;
			int found = 0;
			if (!cJSON_IsString(w))
				return fail(fb, cap, "shot %zu: characters must be an array of character ids", i);
			cJSON_ArrayForEach(k, chars)
			{
				if (!strcmp(lv_json_get_str(k, "id"), w->valuestring))
					found = 1;
			}
			if (!found)
				return fail(fb, cap, "shot %zu names unknown character '%s'", i, w->valuestring);
		}
		if (!cJSON_IsString(narr))
			return fail(fb, cap, "shot %zu: narration must be a string (it may be empty)", i);
		need = lv_speech_estimate_seconds(narr->valuestring, language);
		budget = lv_narration_budget(shot_seconds[i]);
		if (need > budget)
			return fail(fb, cap, "shot %zu: narration takes about %.1f s to speak but must fit in %.1f s; shorten it",
			            i, need, budget);
		i++;
	}
	return LV_OK;
}
