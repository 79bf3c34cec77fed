/* Internal: UTF-8 decoding shared by the parsers of text (requests, language detection). */
#ifndef LV_UTIL_UTF8_H
#define LV_UTIL_UTF8_H

#include <stddef.h>

/* Decode one code point of s (n bytes available): its length, or 0 if malformed (overlongs,
 * surrogates, > U+10FFFF, a sequence cut short). */
size_t lv_utf8_next(const unsigned char *s, size_t n, unsigned *cp);

/* Number of code points in valid UTF-8, or -1 if not valid UTF-8 (or contains NUL). */
long lv_utf8_length(const char *s, size_t n);

#endif
