/* Task status names (the public lv_task_status_* calls): used by the stores, the core and the
 * frontends alike, so they live in the model layer. */
#include "longvideo/task.h"
#include "util/error.h"

#include <string.h>

static const char *const status_names[] = { "queued",     "scripting", "moderation", "anchoring",
	                                    "generating", "audio",     "composing",  "delivering",
	                                    "completed",  "failed",    "canceled",   "awaiting_review" };

const char *lv_task_status_name(lv_task_status s)
{
	return (int)s >= 0 && (size_t)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : NULL;
}

int lv_task_status_parse(lv_task_status *out, const char *name)
{
	size_t i;
	for (i = 0; name && i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (!strcmp(status_names[i], name)) {
			*out = (lv_task_status)i;
			return LV_OK;
		}
	return lv_error_set(LV_EINVALID,
	                    "status: must be one of queued, scripting, moderation, anchoring, generating, audio, "
	                    "composing, delivering, completed, failed, canceled, awaiting_review");
}

int lv_task_status_is_terminal(lv_task_status s)
{
	return s == LV_TASK_COMPLETED || s == LV_TASK_FAILED || s == LV_TASK_CANCELED;
}
