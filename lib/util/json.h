/* Internal: small helpers over cJSON. */
#ifndef LV_UTIL_JSON_H
#define LV_UTIL_JSON_H

#include <cjson/cJSON.h>
#include <stdint.h>

/* Compact JSON text of `item`; NULL (LV_ENOMEM recorded) on failure.  Caller frees. */
char *lv_json_print(const cJSON *item);
/* A credit amount (thousandths) as an exact JSON number: 82500 -> 82.5. */
cJSON *lv_json_credits(int64_t amount);
int lv_json_add_credits(cJSON *obj, const char *name, int64_t amount);
/* Add a string, or null when s is NULL. */
int lv_json_add_str(cJSON *obj, const char *name, const char *s);
/* The string member `name` of obj, or NULL. */
const char *lv_json_get_str(const cJSON *obj, const char *name);
/* Limits every parse below enforces before cJSON recurses: nesting depth and total size. */
#define LV_JSON_MAX_DEPTH 64
#define LV_JSON_MAX_BYTES (64u * 1024u * 1024u)

/* The one JSON parser of the project: every JSON text that comes from outside (request bodies,
 * config, LLM output, vendor answers) and every stored one goes through it.  Parse text of len
 * bytes; on failure records LV_EINVALID naming `what` and the problem: "malformed JSON near byte N",
 * "nesting deeper than 64", a raw control character or NUL byte, \u0000, trailing data, or size. */
int lv_json_parse(cJSON **out, const char *text, size_t len, const char *what);
/* lv_json_parse() for callers that only need the value: NULL on failure (error recorded). */
cJSON *lv_json_parse_n(const char *text, size_t len);
/* The same for NUL-terminated text; NULL text gives NULL. */
cJSON *lv_json_parse_text(const char *text);

#endif
