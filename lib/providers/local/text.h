/*
 * Internal: small UTF-8 text helpers shared by the built-in script writer and moderation rules.
 * Everything here is pure (no allocation outside the returned strings, no shared state).
 */
#ifndef LV_PROVIDERS_LOCAL_TEXT_H
#define LV_PROVIDERS_LOCAL_TEXT_H

#include <stddef.h>

#include "util/mem.h"

/* Decode one code point at s (NUL-terminated).  Returns the bytes consumed (>= 1 unless *s is NUL,
 * then 0).  A malformed, overlong or surrogate sequence consumes one byte and gives U+FFFD. */
size_t lv_ltext_decode(const char *s, unsigned *cp);

/* Append cp as UTF-8 (LV_OK or LV_ENOMEM). */
int lv_ltext_put(lv_buf *b, unsigned cp);

/* Normalisation flags. */
#define LV_LTEXT_FOLD_WIDTH 0x1u /* full-width ASCII forms -> ASCII, ideographic space -> space */
#define LV_LTEXT_DROP_ZW 0x2u    /* remove zero-width characters, soft hyphens, BOM, bidi controls */
#define LV_LTEXT_LOWER 0x4u      /* ASCII letters to lower case */
#define LV_LTEXT_JOIN_CJK 0x8u   /* drop whitespace between two non-ASCII characters (CJK has no spaces) */
#define LV_LTEXT_KEEP_PUNCT 0x10u /* with FOLD_WIDTH: fold letters and digits only, keep "，" and "！" */

/*
 * A normalised copy of `in` (caller frees): valid UTF-8 (malformed bytes become U+FFFD), control
 * characters as spaces, whitespace runs collapsed to one space, trimmed, at most max_bytes bytes
 * (cut on a character boundary), plus what `flags` ask for.  NULL in gives "".  NULL on ENOMEM.
 */
char *lv_ltext_normalize(const char *in, size_t max_bytes, unsigned flags);

/* Han ideographs (all blocks), kana and CJK compatibility ideographs. */
int lv_ltext_is_cjk(unsigned cp);
/* ASCII letter or digit. */
int lv_ltext_is_alnum(unsigned char c);

/*
 * The first occurrence of term (NUL-terminated, non-empty) in text at or after `from`, or NULL.  Where an end
 * of the term is an ASCII letter or digit the text must not continue with one there (word
 * boundary); other ends match as substrings (CJK).  With `prefix`, the end boundary is not
 * required (the term is a word prefix: "decapitat" matches "decapitated").
 */
const char *lv_ltext_find(const char *text, const char *from, const char *term, int prefix);

/* Count of CJK code points and of ASCII letters in s. */
void lv_ltext_scripts(const char *s, size_t *cjk, size_t *latin);

#endif
