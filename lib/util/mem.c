#include "util/mem.h"
#include "longvideo/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lv_free(void *ptr)
{
	free(ptr);
}

void *lv_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		lv_error_nomem();
	return p;
}

void *lv_calloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);
	if (!p)
		lv_error_nomem();
	return p;
}

void *lv_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		lv_error_nomem();
	return q;
}

char *lv_strdup(const char *s)
{
	return s ? lv_strndup(s, strlen(s)) : NULL;
}

char *lv_strndup(const char *s, size_t n)
{
	char *d;
	if (!s)
		return NULL;
	d = lv_malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *lv_vasprintf(const char *fmt, va_list ap)
{
	va_list copy;
	int n;
	char *s;
	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0) {
		lv_error_set(LV_EINTERNAL, "bad format");
		return NULL;
	}
	s = lv_malloc((size_t)n + 1);
	if (!s)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *lv_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	s = lv_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}

int lv_strset(char **dst, const char *src)
{
	char *copy = NULL;
	if (src && !(copy = lv_strdup(src)))
		return LV_ENOMEM;
	free(*dst);
	*dst = copy;
	return LV_OK;
}

size_t lv_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n = strlen(src);
	if (cap) {
		size_t m = n < cap - 1 ? n : cap - 1;
		memcpy(dst, src, m);
		dst[m] = '\0';
	}
	return n;
}

int lv_buf_grow(lv_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap = b->cap ? b->cap : 64;
	char *p;
	if (need <= b->cap)
		return LV_OK;
	while (cap < need)
		cap *= 2;
	p = lv_realloc(b->data, cap);
	if (!p)
		return LV_ENOMEM;
	b->data = p;
	b->cap = cap;
	return LV_OK;
}

int lv_buf_put(lv_buf *b, const void *data, size_t n)
{
	if (lv_buf_grow(b, n))
		return LV_ENOMEM;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return LV_OK;
}

int lv_buf_puts(lv_buf *b, const char *s)
{
	return lv_buf_put(b, s, strlen(s));
}

int lv_buf_printf(lv_buf *b, const char *fmt, ...)
{
	va_list ap, copy;
	int n;
	va_start(ap, fmt);
	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || lv_buf_grow(b, (size_t)n)) {
		va_end(ap);
		return n < 0 ? lv_error_set(LV_EINTERNAL, "bad format") : LV_ENOMEM;
	}
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return LV_OK;
}

char *lv_buf_detach(lv_buf *b)
{
	char *d = b->data;
	if (!d)
		d = lv_strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

void lv_buf_free(lv_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
