/* Results as files: capability paths for lvserver, and the film of a task. */
#include "core/engine.h"
#include "core/keys.h"
#include "core/task.h"
#include "longvideo/media.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"

#include <stdio.h>
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

int lv_media_save_film(lv_engine *e, const lv_key *key, const char *task_id, const char *dest_path)
{
	lv_task *t = NULL;
	cJSON *state = NULL;
	const char *token;
	char *obj = NULL, *src = NULL, *tmp = NULL;
	int rc;
	if (!dest_path || !*dest_path)
		return lv_error_set(LV_EINVALID, "lv_media_save_film: a destination path is required");
	if ((rc = lv_task_get(&t, e, key, task_id)))
		return rc;
	state = t->rec.state ? lv_json_parse_text(t->rec.state) : NULL;
	token = lv_json_get_str(cJSON_GetObjectItemCaseSensitive(state, "delivery"), "token");
	if (!t->rec.result_url || !token) {
		rc = lv_error_set(LV_ENOTFOUND, "task %s has no film yet", task_id);
		goto out;
	}
	if (!(obj = lv_asprintf("media/%s/%s/final.mp4", t->rec.id, token)) ||
	    !(tmp = lv_asprintf("%s.download", dest_path))) {
		rc = LV_ENOMEM;
		goto out;
	}
	if ((rc = e->storage->ops->get_file(e->storage, obj, tmp, &src)))
		goto out;
	if (!strcmp(src, tmp)) { /* downloaded next to the destination: move it into place */
		if (rename(tmp, dest_path) != 0)
			rc = lv_error_set(LV_EIO, "cannot write %s", dest_path);
	} else {
		char *data = NULL;
		size_t len = 0;
		/* Films are tens of MB at most: a plain read and atomic write is enough here. */
		if ((rc = lv_file_read(&data, &len, src)) == LV_OK)
			rc = lv_file_write_atomic(dest_path, data, len, 0644);
		free(data);
	}
out:
	free(obj);
	free(src);
	free(tmp);
	cJSON_Delete(state);
	lv_task_free(t);
	return rc;
}
