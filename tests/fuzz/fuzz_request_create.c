/* POST /v1/videos: a create body through JSON parsing and request validation (what lv_task_create_json does
 * before anything is stored). */
#include "fuzz_util.h"
#include "core/request.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lv_engine *e = lv_fuzz_engine(NULL);
	cJSON *json = NULL;
	lv_req req;
	char hash[65];
	if (lv_json_parse(&json, (const char *)data, size, "body") != LV_OK)
		return 0;
	{
		/* The project's printer writes what cJSON writes, for any tree a parse gives. */
		char *ours = lv_json_print(json), *theirs = cJSON_PrintUnformatted(json);
		if (!ours || !theirs || strcmp(ours, theirs) != 0)
			__builtin_trap();
		free(ours);
		cJSON_free(theirs);
	}
	if (lv_req_from_json(&req, e, json) == LV_OK) {
		if (lv_req_hash(&req, hash) != LV_OK || strlen(hash) != 64)
			__builtin_trap();
		lv_req_clear(&req);
	}
	cJSON_Delete(json);
	return 0;
}
