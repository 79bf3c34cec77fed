/* Results as files: capability paths for lvserver, and the film of a task. */
#include "core/engine.h"
#include "core/keys.h"
#include "core/task.h"
#include "longvideo/media.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

const char *lv_media_content_type(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;
	if (!dot)
		return "application/octet-stream";
	if (!strcmp(dot, ".mp4"))
		return "video/mp4";
	if (!strcmp(dot, ".vtt"))
		return "text/vtt; charset=utf-8";
	if (!strcmp(dot, ".srt"))
		return "application/x-subrip; charset=utf-8";
	if (!strcmp(dot, ".jpg"))
		return "image/jpeg";
	if (!strcmp(dot, ".png"))
		return "image/png";
	if (!strcmp(dot, ".wav"))
		return "audio/wav";
	return "application/octet-stream";
}

int lv_media_resolve(char **path, lv_engine *e, const char *media_path)
{
	const char *p;
	int slashes = 0;
	if (!path)
		return lv_error_set(LV_EINVALID, "lv_media_resolve: path is NULL");
	*path = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	/* Exactly media/{task_id}/{token}/{name}: nothing else in storage is ever served. */
	if (!media_path || strncmp(media_path, "media/", 6) != 0 || !lv_storage_key_valid(media_path))
		return lv_error_set(LV_ENOTFOUND, "no such media");
	for (p = media_path; *p; p++)
		slashes += *p == '/';
	if (slashes != 3)
		return lv_error_set(LV_ENOTFOUND, "no such media");
	if (e->storage->ops->local_path(e->storage, media_path, path))
		return lv_error_set(LV_ENOTFOUND, "no such media");
	return LV_OK;
}

int lv_media_task_film(char **path, char **url, lv_engine *e, const lv_key *key, const char *task_id)
{
	lv_task *t = NULL;
	const char *stored;
	int rc;
	if (!path || !url)
		return lv_error_set(LV_EINVALID, "lv_media_task_film: path and url are required");
	*path = *url = NULL;
	if ((rc = lv_task_get(&t, e, key, task_id)))
		return rc;
	stored = t->rec.result_url;
	if (!stored) {
		lv_task_free(t);
		return lv_error_set(LV_ENOTFOUND, "task %s has no film yet", task_id);
	}
	if (stored[0] == '/') {
		rc = lv_media_resolve(path, e, stored + 1);
	} else {
		*url = lv_strdup(stored);
		rc = *url ? LV_OK : LV_ENOMEM;
	}
	lv_task_free(t);
	return rc;
}
