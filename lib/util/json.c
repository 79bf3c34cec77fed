#include "util/json.h"
#include "util/error.h"
#include "longvideo/common.h"

#include "util/mem.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The printer: the same text as cJSON_PrintUnformatted() (json_print_matches_cjson in test_util
 * holds them to it), at a fraction of the cost.  cJSON 1.7.15 prints every number with
 * sprintf("%1.15g") and reads it back with sscanf() to see whether 17 digits are needed: on the
 * task objects the API answers with, that was most of the printing.  Integers are written here
 * directly; other numbers take the same two formats, chosen by the same test (with strtod()). */

/* Append n bytes (the buffer's NUL is written once, at the end of the print). */
static inline int put(lv_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap && lv_buf_grow(b, n))
		return LV_ENOMEM;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return LV_OK;
}

static int put_number(lv_buf *b, double d)
{
	char tmp[32];
	int n;
	if (isnan(d) || isinf(d))
		return put(b, "null", 4);
	if (d == floor(d) && fabs(d) < 1e15) {
		/* "%1.15g" of an integer below 10^15 is its digits. */
		char *p = tmp + sizeof(tmp);
		long long v = (long long)d;
		unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
		do {
			*--p = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (v < 0 || (v == 0 && signbit(d)))
			*--p = '-';
		return put(b, p, (size_t)(tmp + sizeof(tmp) - p));
	}
	n = snprintf(tmp, sizeof(tmp), "%1.15g", d);
	{
		/* cJSON's test, to the letter: 15 digits unless they read back further from d than its
		 * magnitude times DBL_EPSILON. */
		double back = strtod(tmp, NULL), max = fabs(back) > fabs(d) ? fabs(back) : fabs(d);
		if (!(fabs(back - d) <= max * DBL_EPSILON))
			n = snprintf(tmp, sizeof(tmp), "%1.17g", d);
	}
	return n > 0 && (size_t)n < sizeof(tmp) ? put(b, tmp, (size_t)n) : LV_EINVALID;
}

static int put_string(lv_buf *b, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(str ? str : ""), *p;
	size_t need = 2;
	char *o;
	/* Measure first, then write in place: one capacity check per string. */
	for (p = s; *p; p++)
		need += *p >= 32 && *p != '"' && *p != '\\' ? 1
		        : *p == '"' || *p == '\\' || *p == '\b' || *p == '\f' || *p == '\n' || *p == '\r' || *p == '\t' ? 2
		                                                                                                 : 6;
	if (b->len + need + 1 > b->cap && lv_buf_grow(b, need))
		return LV_ENOMEM;
	o = b->data + b->len;
	*o++ = '"';
	for (p = s; *p; p++) {
		if (*p >= 32 && *p != '"' && *p != '\\') {
			*o++ = (char)*p;
			continue;
		}
		*o++ = '\\';
		switch (*p) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
	return LV_OK;
}

static int put_value(lv_buf *b, const cJSON *item, int depth)
{
	const cJSON *c;
	int rc;
	if (depth > LV_JSON_MAX_DEPTH * 4)
		return LV_EINVALID;
	switch (item->type & 0xff) {
	case cJSON_NULL:
		return put(b, "null", 4);
	case cJSON_False:
		return put(b, "false", 5);
	case cJSON_True:
		return put(b, "true", 4);
	case cJSON_Number:
		return put_number(b, item->valuedouble);
	case cJSON_Raw:
		return item->valuestring ? put(b, item->valuestring, strlen(item->valuestring)) : LV_EINVALID;
	case cJSON_String:
		return put_string(b, item->valuestring);
	case cJSON_Array:
	case cJSON_Object:
		if (put(b, cJSON_IsArray(item) ? "[" : "{", 1))
			return LV_ENOMEM;
		for (c = item->child; c; c = c->next) {
			if (cJSON_IsObject(item) && ((rc = put_string(b, c->string)) || (rc = put(b, ":", 1))))
				return rc;
			if ((rc = put_value(b, c, depth + 1)) || (c->next && (rc = put(b, ",", 1))))
				return rc;
		}
		return put(b, cJSON_IsArray(item) ? "]" : "}", 1);
	default:
		return LV_EINVALID;
	}
}

char *lv_json_print(const cJSON *item)
{
	lv_buf b = LV_BUF_INIT;
	int rc = item ? lv_buf_grow(&b, 1024) : LV_EINVALID;
	if (rc == LV_OK)
		rc = put_value(&b, item, 0);
	if (rc == LV_OK) {
		b.data[b.len] = '\0';
		return lv_buf_detach(&b);
	}
	lv_buf_free(&b);
	if (rc == LV_ENOMEM)
		lv_error_nomem();
	else /* what cJSON could not print either: no tree, a raw value without text, an unknown type */
		lv_error_set(LV_EINVALID, "lv_json_print: the JSON tree cannot be printed");
	return NULL;
}

cJSON *lv_json_credits(int64_t amount)
{
	char buf[32];
	lv_credits_format(buf, sizeof(buf), amount);
	return cJSON_CreateRaw(buf);
}

int lv_json_add_credits(cJSON *obj, const char *name, int64_t amount)
{
	cJSON *n = lv_json_credits(amount);
	if (!n || !cJSON_AddItemToObject(obj, name, n)) {
		cJSON_Delete(n);
		return lv_error_nomem();
	}
	return LV_OK;
}

int lv_json_add_str(cJSON *obj, const char *name, const char *s)
{
	cJSON *v = s ? cJSON_CreateString(s) : cJSON_CreateNull();
	if (!v || !cJSON_AddItemToObject(obj, name, v)) {
		cJSON_Delete(v);
		return lv_error_nomem();
	}
	return LV_OK;
}

const char *lv_json_get_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One pass over the text before cJSON sees it, without recursion: cJSON recurses once per
 * nesting level (and so do cJSON_Delete and the printers), so the depth is bounded here, where
 * a deep document costs a counter, not a stack frame.  Raw control characters (NUL included)
 * inside strings are not JSON; a NUL outside one would end cJSON's view of the text early. */
static int json_precheck(const char *text, size_t len, const char *what)
{
	size_t i, depth = 0;
	int in_string = 0;
	if (len > LV_JSON_MAX_BYTES)
		return lv_error_set(LV_EINVALID, "%s: larger than the JSON size limit of %u bytes (%zu bytes)", what,
		                    (unsigned)LV_JSON_MAX_BYTES, len);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (in_string) {
			if (c == '"') {
				in_string = 0;
			} else if (c == '\\') {
				/* cJSON would silently cut a string at an escaped NUL; refuse it instead. */
				if (i + 5 < len && text[i + 1] == 'u' && !memcmp(text + i + 2, "0000", 4))
					return lv_error_set(LV_EINVALID, "%s: strings must not contain \\u0000 (byte %zu)",
					                    what, i);
				i++; /* the escaped character; cJSON checks that the escape is valid */
			} else if (c < 0x20) {
				return lv_error_set(LV_EINVALID,
				                    "%s: malformed JSON: raw control character 0x%02x in a string at byte %zu "
				                    "(escape it, e.g. \\n or \\u%04x)",
				                    what, c, i, c);
			}
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > LV_JSON_MAX_DEPTH)
				return lv_error_set(LV_EINVALID, "%s: nesting deeper than %d (at byte %zu)", what,
				                    LV_JSON_MAX_DEPTH, i);
		} else if (c == ']' || c == '}') {
			if (depth > 0)
				depth--;
		} else if (c == '\0') {
			return lv_error_set(LV_EINVALID, "%s: malformed JSON: NUL byte at byte %zu", what, i);
		}
	}
	return LV_OK;
}

int lv_json_parse(cJSON **out, const char *text, size_t len, const char *what)
{
	const char *end = NULL;
	int rc;
	*out = NULL;
	if (!text || len == 0)
		return lv_error_set(LV_EINVALID, "%s: empty, expected a JSON object", what);
	if ((rc = json_precheck(text, len, what)))
		return rc;
	*out = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!*out) {
		size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		return lv_error_set(LV_EINVALID, "%s: malformed JSON near byte %zu", what, at);
	}
	/* Only whitespace may follow the value. */
	while (end && end < text + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
		end++;
	if (end && end < text + len && *end != '\0') {
		cJSON_Delete(*out);
		*out = NULL;
		return lv_error_set(LV_EINVALID, "%s: malformed JSON: unexpected data after the value at byte %zu",
		                    what, (size_t)(end - text));
	}
	return LV_OK;
}

cJSON *lv_json_parse_n(const char *text, size_t len)
{
	cJSON *j = NULL;
	return lv_json_parse(&j, text, len, "JSON") == LV_OK ? j : NULL;
}

cJSON *lv_json_parse_text(const char *text)
{
	return text ? lv_json_parse_n(text, strlen(text)) : NULL;
}
