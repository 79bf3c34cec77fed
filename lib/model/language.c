#include "model/language.h"
#include "util/utf8.h"

#include <ctype.h>
#include <libexttextcat/fingerprint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LV_TEXTCAT_DIR
#define LV_TEXTCAT_DIR "/usr/share/libexttextcat"
#endif

/* Latin-script languages told apart by libexttextcat's character n-gram profiles (the Debian
 * package's .lm files), read for these languages only, per call: a few milliseconds, no shared state. */
static const char *const latin_langs[] = { "en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb",
	                                   "pl", "cs", "tr", "id", "vi", "ro", "hu", "fi", "ca", NULL };

/* Function words that settle short prompts, where n-gram profiles are unreliable. */
static const char *const latin_words[][2] = {
	{ "en", " the of and a an in on at with is are by from to under over named called who while " },
	{ "fr", " le la les un une des du et est dans sur sous avec nomm\xc3\xa9 nomm\xc3\xa9" "e qui au aux l' d' "
	        "pendant " },
	{ "de", " der die das den dem des ein eine einer einem und ist im am bei mit namens unter \xc3\xbc" "ber "
	        "auf wird " },
	{ "es", " el los las una unos del y es en con bajo llamado llamada que al por sobre mientras " },
	{ "it", " il lo gli della delle degli di e \xc3\xa8 nel nella con sotto chiamato chiamata che " },
	{ "pt", " o os as um uma do da dos das e \xc3\xa9 em no na com sob chamado chamada que ao " },
	{ "nl", " de het een en is in op met onder genaamd die van bij " },
};

static int word_votes(const char *lower, const char *lang)
{
	size_t i;
	int votes = 0;
	for (i = 0; i < sizeof(latin_words) / sizeof(latin_words[0]); i++) {
		const char *p;
		if (strcmp(latin_words[i][0], lang))
			continue;
		for (p = latin_words[i][1]; *p;) {
			const char *e;
			char w[40];
			size_t n;
			while (*p == ' ')
				p++;
			e = strchr(p, ' ');
			if (!e)
				break;
			n = (size_t)(e - p);
			if (n && n + 3 < sizeof(w)) {
				const char *hit;
				w[0] = ' ';
				memcpy(w + 1, p, n);
				w[n + 1] = w[n] == '\'' ? '\0' : ' ';
				w[n + 2] = '\0';
				for (hit = strstr(lower, w); hit; hit = strstr(hit + 1, w))
					votes++;
			}
			p = e;
		}
	}
	return votes;
}

/* The language of Latin-script text: function-word votes, then n-gram distance; "en" when unsure. */
static const char *latin_language(const char *text)
{
	char lower[1024];
	size_t n = 0, i, k;
	int votes[32] = { 0 }, best, second;
	long dist[32];
	void *unknown;
	lower[n++] = ' ';
	for (i = 0; text[i] && n + 2 < sizeof(lower); i++) {
		unsigned char c = (unsigned char)text[i];
		lower[n++] = (char)(c < 0x80 && isalpha(c) ? tolower(c) : c < 0x80 && c != '\'' ? ' ' : (char)c);
	}
	lower[n++] = ' ';
	lower[n] = '\0';
	for (k = 0; latin_langs[k]; k++)
		votes[k] = word_votes(lower, latin_langs[k]);
	best = 0;
	for (k = 1; latin_langs[k]; k++)
		if (votes[k] > votes[best])
			best = (int)k;
	second = best == 0 ? 1 : 0;
	for (k = 0; latin_langs[k]; k++)
		if ((int)k != best && votes[k] > votes[second])
			second = (int)k;
	/* clear function-word evidence: two more votes than any other language */
	if (votes[best] >= votes[second] + 2)
		return latin_langs[best];
	unknown = fp_Init(NULL);
	if (!unknown)
		return "en";
	fp_SetProperty(unknown, TCPROP_UTF8AWARE, TC_TRUE);
	if (n < 16 || !fp_Create(unknown, text, (uint4)strlen(text), 400)) {
		fp_Done(unknown);
		return votes[best] > votes[second] ? latin_langs[best] : "en";
	}
	{
		int have[32] = { 0 }, any = 0;
		for (k = 0; latin_langs[k]; k++) {
			char path[256];
			void *model = fp_Init(latin_langs[k]);
			if (!model)
				continue;
			fp_SetProperty(model, TCPROP_UTF8AWARE, TC_TRUE);
			snprintf(path, sizeof(path), "%s/%s.lm", LV_TEXTCAT_DIR, latin_langs[k]);
			if (fp_Read(model, path, 400)) {
				dist[k] = fp_Compare(model, unknown, 0x7fffffff) - 1500L * votes[k];
				have[k] = 1;
				any++;
			}
			fp_Done(model);
		}
		fp_Done(unknown);
		if (!any)
			return "en"; /* the profiles are not installed (libexttextcat-data) */
		for (best = 0; !have[best]; best++)
			;
		for (k = 0; latin_langs[k]; k++)
			if (have[k] && dist[k] < dist[best])
				best = (int)k;
		second = -1;
		for (k = 0; latin_langs[k]; k++)
			if (have[k] && (int)k != best && (second < 0 || dist[k] < dist[second]))
				second = (int)k;
	}
	/* a winner by a hair is no evidence: English, the default */
	if (second >= 0 && dist[best] * 100 > dist[second] * 98 && strcmp(latin_langs[best], "en"))
		return "en";
	return latin_langs[best];
}

const char *lv_language_detect(const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = strlen(text);
	long han = 0, kana = 0, hangul = 0, cyr = 0, arabic = 0, latin = 0, thai = 0, deva = 0, greek = 0, hebrew = 0;
	while (n > 0) {
		unsigned cp;
		size_t l = lv_utf8_next(p, n, &cp);
		if (l == 0)
			break;
		if ((cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf))
			han++;
		else if (cp >= 0x3040 && cp <= 0x30ff)
			kana++;
		else if (cp >= 0xac00 && cp <= 0xd7af)
			hangul++;
		else if (cp >= 0x0400 && cp <= 0x04ff)
			cyr++;
		else if (cp >= 0x0600 && cp <= 0x06ff)
			arabic++;
		else if (cp >= 0x0e00 && cp <= 0x0e7f)
			thai++;
		else if (cp >= 0x0900 && cp <= 0x097f)
			deva++;
		else if (cp >= 0x0370 && cp <= 0x03ff)
			greek++;
		else if (cp >= 0x0590 && cp <= 0x05ff)
			hebrew++;
		else if ((cp < 0x80 && isalpha((int)cp)) || (cp >= 0xc0 && cp <= 0x24f && cp != 0xd7 && cp != 0xf7))
			latin++;
		p += l;
		n -= l;
	}
	if (kana > 0)
		return "ja";
	if (hangul > 0 && hangul >= han)
		return "ko";
	if (han > 0)
		return "zh";
	if (cyr > latin)
		return "ru";
	if (arabic > latin)
		return "ar";
	if (thai > latin)
		return "th";
	if (deva > latin)
		return "hi";
	if (greek > latin)
		return "el";
	if (hebrew > latin)
		return "he";
	return latin ? latin_language(text) : "en";
}

