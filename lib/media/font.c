/*
 * Fonts through fontconfig, with fallback per script: the font for a text is the first font of
 * fontconfig's sans-serif list for the language that has a glyph for every character of the text
 * (CJK, Thai, Arabic, Devanagari... whatever is installed), else the one that covers most of them.
 * No list of file paths: what the machine has installed and configured is what is used.
 */
#include "media/local.h"
#include "media/text.h"
#include "util/mem.h"

#include <fontconfig/fontconfig.h>

#include <string.h>

/* Code points of a UTF-8 text into a charset (malformed bytes skipped). */
static FcCharSet *charset_of(const char *text)
{
	FcCharSet *cs = FcCharSetCreate();
	const FcChar8 *p = (const FcChar8 *)(text ? text : "");
	int len = (int)strlen((const char *)p);
	while (cs && len > 0) {
		FcChar32 c;
		int k = FcUtf8ToUcs4(p, &c, len);
		if (k <= 0) {
			p++;
			len--;
			continue;
		}
		if (c > 0x20 && !(c >= 0x7f && c < 0xa0) && c != 0x3000 && c != 0xfeff && !(c >= 0x200b && c <= 0x200f))
			FcCharSetAddChar(cs, c);
		p += k;
		len -= k;
	}
	return cs;
}

/* The language for fontconfig: "zh-CN" for zh (Simplified Chinese glyphs), else the primary tag. */
static void fc_lang(char *out, size_t cap, const char *language)
{
	size_t n = 0;
	out[0] = '\0';
	if (!language)
		return;
	while (language[n] && language[n] != '-' && language[n] != '_' && n + 1 < cap) {
		char c = language[n];
		out[n] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		n++;
	}
	out[n] = '\0';
	if (!strcmp(out, "zh") && cap > 6)
		strcpy(out, "zh-cn");
}

/* The best font for (language, text): its file or family (element FC_FILE or FC_FAMILY), caller frees. */
static char *font_pick(const char *language, const char *text, const char *element)
{
	/* a configuration of our own for each choice, destroyed after it: fontconfig's process-wide one
	 * (FcInit) would be shared state that is never freed; loading from fontconfig's cache costs a few
	 * tens of milliseconds, once per card or subtitle run */
	FcConfig *cfg = FcInitLoadConfigAndFonts();
	FcPattern *pat = FcPatternCreate(), *best = NULL;
	FcCharSet *need = charset_of(text);
	FcFontSet *set = NULL;
	FcResult res;
	char lang[16], *out = NULL;
	int i, best_missing = -1;
	if (!cfg || !pat || !need)
		goto done;
	fc_lang(lang, sizeof(lang), language);
	FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)"sans-serif");
	if (lang[0])
		FcPatternAddString(pat, FC_LANG, (const FcChar8 *)lang);
	FcConfigSubstitute(cfg, pat, FcMatchPattern);
	FcDefaultSubstitute(pat);
	set = FcFontSort(cfg, pat, FcFalse, NULL, &res);
	for (i = 0; set && i < set->nfont; i++) {
		FcCharSet *has = NULL;
		FcChar8 *file = NULL;
		int missing;
		if (FcPatternGetCharSet(set->fonts[i], FC_CHARSET, 0, &has) != FcResultMatch ||
		    FcPatternGetString(set->fonts[i], FC_FILE, 0, &file) != FcResultMatch)
			continue;
		/* scalable outline fonts only (drawtext and libass scale them) */
		{
			FcBool scalable = FcTrue;
			if (FcPatternGetBool(set->fonts[i], FC_SCALABLE, 0, &scalable) == FcResultMatch && !scalable)
				continue;
		}
		missing = (int)FcCharSetSubtractCount(need, has);
		if (best_missing < 0 || missing < best_missing) {
			best_missing = missing;
			best = set->fonts[i];
			if (!missing)
				break; /* the first, in fontconfig's order for the language, that has every glyph */
		}
	}
	if (best) {
		FcChar8 *v = NULL;
		if (FcPatternGetString(best, element, 0, &v) == FcResultMatch && v)
			out = lv_strdup((const char *)v);
	}
done:
	if (set)
		FcFontSetDestroy(set);
	if (need)
		FcCharSetDestroy(need);
	if (pat)
		FcPatternDestroy(pat);
	if (cfg)
		FcConfigDestroy(cfg);
	return out;
}

char *lv_font_file(const char *language, const char *text)
{
	return font_pick(language, text, FC_FILE);
}

char *lv_font_family(const char *language, const char *text)
{
	return font_pick(language, text, FC_FAMILY);
}

int lv_font_missing(const char *font_file, const char *text)
{
	int count = 0, missing = -1;
	FcPattern *p = font_file ? FcFreeTypeQuery((const FcChar8 *)font_file, 0, NULL, &count) : NULL;
	FcCharSet *has = NULL, *need = charset_of(text);
	if (p && need && FcPatternGetCharSet(p, FC_CHARSET, 0, &has) == FcResultMatch)
		missing = (int)FcCharSetSubtractCount(need, has);
	if (need)
		FcCharSetDestroy(need);
	if (p)
		FcPatternDestroy(p);
	return missing;
}

char *lv_text_font(const char *font_file, const char *language, const char *text)
{
	if (font_file && *font_file)
		return lv_strdup(font_file);
	return lv_font_file(language, text);
}

char *lv_font_file_family(const char *font_file)
{
	int count = 0;
	FcPattern *p = font_file ? FcFreeTypeQuery((const FcChar8 *)font_file, 0, NULL, &count) : NULL;
	FcChar8 *v = NULL;
	char *out = NULL;
	if (p && FcPatternGetString(p, FC_FAMILY, 0, &v) == FcResultMatch && v)
		out = lv_strdup((const char *)v);
	if (p)
		FcPatternDestroy(p);
	return out;
}
