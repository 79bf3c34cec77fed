/* POST /v1/videos/{id}/compose: the body is validated before the task is looked up. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lv_key *key;
	lv_engine *e = lv_fuzz_engine(&key);
	lv_task *t = NULL;
	int rc = lv_task_compose_json(&t, e, key, "vid_doesnotexist0000", (const char *)data, size);
	/* There is no such task: a valid body ends in "not found", never in success. */
	if (rc == LV_OK || t)
		__builtin_trap();
	return 0;
}
