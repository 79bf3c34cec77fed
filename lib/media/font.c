#include "media/local.h"
#include "media/text.h"

#include <string.h>
#include <unistd.h>

/* Fonts with CJK glyphs (they carry Latin glyphs too, so they are the last resort for any text). */
static const char *const cjk_fonts[] = {
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
	"/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
	"/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/arphic/uming.ttc",
	"/System/Library/Fonts/PingFang.ttc",
	NULL,
};

static const char *const latin_fonts[] = {
	"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
	"/usr/share/fonts/dejavu/DejaVuSans.ttf",
	"/usr/share/fonts/TTF/DejaVuSans.ttf",
	"/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
	"/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
	"/usr/share/fonts/noto/NotoSans-Regular.ttf",
	"/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
	"/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
	"/usr/share/fonts/truetype/freefont/FreeSans.ttf",
	"/Library/Fonts/Arial Unicode.ttf",
	NULL,
};

static const char *first_existing(const char *const *list)
{
	for (; *list; list++)
		if (access(*list, R_OK) == 0)
			return *list;
	return NULL;
}

static int is_cjk_language(const char *lang)
{
	static const char *const prefixes[] = { "zh", "ja", "ko", "cmn", "yue", "hak", NULL };
	size_t i;
	if (!lang)
		return 0;
	for (i = 0; prefixes[i]; i++) {
		size_t n = strlen(prefixes[i]);
		if (!strncmp(lang, prefixes[i], n) && (lang[n] == '\0' || lang[n] == '-' || lang[n] == '_'))
			return 1;
	}
	return 0;
}

const char *lv_font_find(const char *language)
{
	const char *f;
	if (is_cjk_language(language))
		return first_existing(cjk_fonts);
	f = first_existing(latin_fonts);
	return f ? f : first_existing(cjk_fonts);
}

const char *lv_text_font(const char *font_file, const char *language, const char *text)
{
	if (font_file && *font_file)
		return font_file;
	if (lv_text_has_cjk(text)) {
		const char *f = first_existing(cjk_fonts);
		if (f)
			return f;
	}
	return lv_font_find(language);
}
