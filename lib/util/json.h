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
/* Parse text of len bytes; on failure records LV_EINVALID "<what>: malformed JSON near byte N". */
int lv_json_parse(cJSON **out, const char *text, size_t len, const char *what);

#endif
