/*
 * Internal: text layout and rasterisation for the renderer and the cards.
 *
 * Glyphs come from libavfilter's drawtext filter (FreeType) with the given
 * font file, one filter per centred line, drawn once into a coverage mask that
 * the caller composites as often as it likes.
 */
#ifndef LV_MEDIA_TEXT_H
#define LV_MEDIA_TEXT_H

#include <stdint.h>

typedef struct lv_text_mask {
	int w, h;      /* size of the mask, cropped to the ink */
	uint8_t *data; /* w * h coverage, 0..255 */
	int lines;     /* lines laid out */
	int font_px;   /* font size finally used */
} lv_text_mask;

/*
 * Wrap UTF-8 `text` into at most `max_lines` lines no wider than `max_w`
 * pixels at `font_px` (shrinking down to `min_px` when needed, then ending the
 * last line with an ellipsis), centre every line and rasterise it.  Words break
 * at spaces, CJK text between characters (never before closing punctuation).
 * Empty text gives an empty mask (w == h == 0).
 */
int lv_text_render(lv_text_mask *out, const char *text, const char *font_file, int font_px, int min_px, int max_w,
                   int max_lines);
void lv_text_mask_free(lv_text_mask *m);

/* 1 if the UTF-8 string contains Han, kana or Hangul characters. */
int lv_text_has_cjk(const char *s);

/* The font for `text`: a copy of font_file if given, else lv_font_file(language, text) (fontconfig,
 * with a glyph for every character when any installed font has them).  NULL when no font is
 * installed.  Caller frees. */
char *lv_text_font(const char *font_file, const char *language, const char *text);

#endif
