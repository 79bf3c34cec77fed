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

int lv_json_parse(cJSON **out, const char *text, size_t len, const char *what)
{
	const char *end = NULL;
	*out = NULL;
	if (!text || len == 0)
		return lv_error_set(LV_EINVALID, "%s: empty, expected a JSON object", what);
	/* cJSON would silently cut a string at an escaped NUL; refuse it instead. */
	{
		size_t i;
		for (i = 0; i + 6 <= len; i++)
			if (text[i] == '\\' && text[i + 1] == 'u' && !strncmp(text + i + 2, "0000", 4)) {
				size_t bs = 0, j = i;
				while (j > 0 && text[j - 1] == '\\') { /* an escaped backslash is not an escape */
					bs++;
					j--;
				}
				if (bs % 2 == 0)
					return lv_error_set(LV_EINVALID, "%s: strings must not contain \\u0000 (byte %zu)",
					                    what, i);
			}
	}
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
