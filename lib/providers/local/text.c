#include "providers/local/text.h"

#include <string.h>

size_t lv_ltext_decode(const char *str, unsigned *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned c, min;
	size_t n, i;
	if (!s[0]) {
		*cp = 0;
		return 0;
	}
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, c = s[0] & 0x1fu, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, c = s[0] & 0x0fu, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, c = s[0] & 0x07u, min = 0x10000;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = c;
	return n;
}

int lv_ltext_put(lv_buf *b, unsigned cp)
{
	unsigned char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return lv_buf_put(b, u, n);
}

static size_t utf8_len(unsigned cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static int is_space(unsigned cp)
{
	return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0xa0 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0x1680;
}

static int is_control(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

static int is_invisible(unsigned cp)
{
	return cp == 0x00ad || cp == 0x034f || cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0xfeff;
}

char *lv_ltext_normalize(const char *in, size_t max_bytes, unsigned flags)
{
	lv_buf b = LV_BUF_INIT;
	const char *p = in ? in : "";
	unsigned prev = 0; /* last code point written (0: none yet) */
	int pending_space = 0;
	if (lv_buf_grow(&b, strlen(p) < max_bytes ? strlen(p) + 1 : max_bytes + 1))
		return NULL;
	while (*p) {
		unsigned cp;
		p += lv_ltext_decode(p, &cp);
		if ((flags & LV_LTEXT_DROP_ZW) && is_invisible(cp))
			continue;
		if ((flags & LV_LTEXT_FOLD_WIDTH) && cp >= 0xff01 && cp <= 0xff5e &&
		    (!(flags & LV_LTEXT_KEEP_PUNCT) || lv_ltext_is_alnum((unsigned char)(cp - 0xfee0))))
			cp -= 0xfee0;
		if (is_space(cp) || is_control(cp)) {
			pending_space = prev != 0;
			continue;
		}
		if ((flags & LV_LTEXT_LOWER) && cp >= 'A' && cp <= 'Z')
			cp += 'a' - 'A';
		if (pending_space && !((flags & LV_LTEXT_JOIN_CJK) && prev >= 0x80 && cp >= 0x80)) {
			if (b.len + 1 + utf8_len(cp) > max_bytes)
				break;
			if (lv_buf_put(&b, " ", 1))
				goto fail;
		}
		pending_space = 0;
		if (b.len + utf8_len(cp) > max_bytes)
			break;
		if (lv_ltext_put(&b, cp))
			goto fail;
		prev = cp;
	}
	if (lv_buf_put(&b, "", 0)) /* terminates the text (a grown, unwritten buffer is not) */
		goto fail;
	return lv_buf_detach(&b);
fail:
	lv_buf_free(&b);
	return NULL;
}

int lv_ltext_is_cjk(unsigned cp)
{
	return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x3040 && cp <= 0x30ff) ||
	       (cp >= 0x31f0 && cp <= 0x31ff) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x20000 && cp <= 0x3ffff);
}

int lv_ltext_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const char *lv_ltext_find(const char *text, const char *from, const char *term, int prefix)
{
	int word_start, word_end;
	const char *p = from;
	size_t term_len = strlen(term);
	if (!term_len)
		return NULL;
	word_start = lv_ltext_is_alnum((unsigned char)term[0]);
	word_end = !prefix && lv_ltext_is_alnum((unsigned char)term[term_len - 1]);
	while ((p = strstr(p, term)) != NULL) {
		int ok = 1;
		if (word_start && p > text && lv_ltext_is_alnum((unsigned char)p[-1]))
			ok = 0;
		if (ok && word_end && lv_ltext_is_alnum((unsigned char)p[term_len]))
			ok = 0;
		if (ok)
			return p;
		p++;
	}
	return NULL;
}

void lv_ltext_scripts(const char *s, size_t *cjk, size_t *latin)
{
	unsigned cp;
	size_t k;
	*cjk = *latin = 0;
	while (s && (k = lv_ltext_decode(s, &cp)) > 0) {
		s += k;
		if (lv_ltext_is_cjk(cp))
			(*cjk)++;
		else if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
			(*latin)++;
	}
}
