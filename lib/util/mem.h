/* Internal: allocation and string helpers.  All record LV_ENOMEM on failure. */
#ifndef LV_UTIL_MEM_H
#define LV_UTIL_MEM_H

#include <stdarg.h>
#include <stddef.h>
#include "util/error.h"

void *lv_malloc(size_t n);
void *lv_calloc(size_t count, size_t n);
void *lv_realloc(void *p, size_t n);
char *lv_strdup(const char *s);            /* NULL in -> NULL out (no error) */
char *lv_strndup(const char *s, size_t n);
char *lv_asprintf(const char *fmt, ...) LV_PRINTF(1, 2);
char *lv_vasprintf(const char *fmt, va_list ap) LV_PRINTF(1, 0);
/* Replace *dst with a copy of src (NULL allowed); LV_OK or LV_ENOMEM. */
int lv_strset(char **dst, const char *src);
/* strlcpy semantics: always terminates, returns strlen(src). */
size_t lv_strlcpy(char *dst, const char *src, size_t cap);

/* A growable byte buffer; data is always NUL-terminated. */
typedef struct lv_buf {
	char *data;
	size_t len;
	size_t cap;
} lv_buf;

#define LV_BUF_INIT { NULL, 0, 0 }
int lv_buf_grow(lv_buf *b, size_t extra);
int lv_buf_put(lv_buf *b, const void *data, size_t n);
int lv_buf_puts(lv_buf *b, const char *s);
int lv_buf_printf(lv_buf *b, const char *fmt, ...) LV_PRINTF(2, 3);
/* Hand the data to the caller (who frees it); the buffer is reset. */
char *lv_buf_detach(lv_buf *b);
void lv_buf_free(lv_buf *b);

#endif
