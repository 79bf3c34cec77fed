#include "util/json.h"
#include "util/error.h"
#include "longvideo/common.h"

#include <stdio.h>
#include <string.h>

char *lv_json_print(const cJSON *item)
{
	char *s = cJSON_PrintUnformatted(item);
	if (!s)
		lv_error_nomem();
	return s;
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
