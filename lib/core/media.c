/* Results as files: capability paths for lvserver, and the film of a task. */
#include "core/engine.h"
#include "core/keys.h"
#include "core/retention.h"
#include "core/task.h"
#include "longvideo/media.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

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
	if (!strcmp(dot, ".json"))
		return "application/json";
	return "application/octet-stream";
}

/* Exactly media/{task_id}/{token}/{name}: nothing else in storage is ever served. */
static int media_key_ok(const char *media_path)
{
	const char *p;
	int slashes = 0;
	if (!media_path || strncmp(media_path, "media/", 6) != 0 || !lv_storage_key_valid(media_path))
		return 0;
	for (p = media_path; *p; p++)
		slashes += *p == '/';
	return slashes == 3;
}

typedef struct gone_ctx {
	lv_engine *e;
	char id[LV_ID_MAX];
	int64_t removed_at;
} gone_ctx;

static int gone_tx(lv_store_tx *tx, void *p)
{
	gone_ctx *c = p;
	lv_task_rec t;
	int rc;
	memset(&t, 0, sizeof(t));
	if ((rc = c->e->store->ops->task_get(tx, c->id, 0, &t)) == LV_OK)
		lv_retention_marks(t.state, &c->removed_at, NULL);
	lv_task_rec_clear(&t);
	return rc == LV_ENOTFOUND ? LV_OK : rc;
}

/* LV_EGONE when the results of the task are marked removed by retention, else `status` as it was. */
static int gone_or(int status, int64_t removed_at, const char *task_id)
{
	char when[32];
	if (!removed_at)
		return status;
	lv_time_iso8601(when, removed_at);
	return lv_error_set(LV_EGONE, "the results of task %s were removed by the retention policy on %s", task_id, when);
}

/* After a media key was not found: LV_EGONE if retention removed it, else LV_ENOTFOUND. */
static int media_missing(lv_engine *e, const char *media_path)
{
	gone_ctx c;
	size_t n = strcspn(media_path + 6, "/");
	memset(&c, 0, sizeof(c));
	c.e = e;
	if (n == 0 || n >= sizeof(c.id))
		return lv_error_set(LV_ENOTFOUND, "no such media");
	memcpy(c.id, media_path + 6, n);
	if (lv_engine_tx(e, 0, gone_tx, &c) == LV_OK && c.removed_at)
		return gone_or(LV_ENOTFOUND, c.removed_at, c.id);
	return lv_error_set(LV_ENOTFOUND, "no such media");
}

int lv_media_resolve(char **path, lv_engine *e, const char *media_path)
{
	if (!path)
		return lv_error_set(LV_EINVALID, "lv_media_resolve: path is NULL");
	*path = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if (!media_key_ok(media_path))
		return lv_error_set(LV_ENOTFOUND, "no such media");
	if (e->storage->ops->local_path(e->storage, media_path, path))
		return media_missing(e, media_path);
	return LV_OK;
}

int lv_media_locate(char **path, char **redirect, lv_engine *e, const char *media_path)
{
	int rc;
	if (!path || !redirect)
		return lv_error_set(LV_EINVALID, "lv_media_locate: path and redirect are required");
	*path = *redirect = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if (!media_key_ok(media_path))
		return lv_error_set(LV_ENOTFOUND, "no such media");
	if (e->storage->ops->local_path(e->storage, media_path, path) == LV_OK)
		return LV_OK;
	*path = NULL;
	rc = e->storage->ops->presign(e->storage, media_path, 0, redirect);
	if (rc == LV_EINVALID || rc == LV_ENOTFOUND) /* a local backend without the object, or no object */
		return media_missing(e, media_path);
	return rc;
}

/* The storage key of the film of one of the key's tasks. */
static int film_key(char **obj, lv_engine *e, const lv_key *key, const char *task_id)
{
	lv_task *t = NULL;
	cJSON *state = NULL;
	const char *token;
	int rc;
	*obj = NULL;
	if ((rc = lv_task_get(&t, e, key, task_id)))
		return rc;
	state = t->rec.state ? lv_json_parse_text(t->rec.state) : NULL;
	token = lv_json_get_str(cJSON_GetObjectItemCaseSensitive(state, "delivery"), "token");
	{
		int64_t removed = 0;
		lv_retention_marks(t->rec.state, &removed, NULL);
		if (removed) {
			rc = gone_or(LV_OK, removed, t->rec.id);
			goto out;
		}
	}
	if (!t->rec.result_url || !token)
		rc = lv_error_set(LV_ENOTFOUND, "task %s has no film yet", task_id);
	else if (!(*obj = lv_asprintf("media/%s/%s/final.mp4", t->rec.id, token)))
		rc = LV_ENOMEM;
out:
	cJSON_Delete(state);
	lv_task_free(t);
	return rc;
}

int lv_media_film_info(lv_media_object *info, lv_engine *e, const lv_key *key, const char *task_id)
{
	lv_storage_object o;
	char *obj = NULL;
	int rc;
	if (!info)
		return lv_error_set(LV_EINVALID, "lv_media_film_info: info is NULL");
	memset(info, 0, sizeof(*info));
	if ((rc = film_key(&obj, e, key, task_id)))
		return rc;
	if ((rc = e->storage->ops->head(e->storage, obj, &o)) == LV_OK) {
		info->size = o.size;
		snprintf(info->content_type, sizeof(info->content_type), "%s", o.content_type);
	}
	free(obj);
	return rc;
}

int lv_media_film_read(lv_engine *e, const lv_key *key, const char *task_id, int64_t offset, int64_t length,
                       int (*sink)(void *ctx, const void *data, size_t n), void *ctx)
{
	char *obj = NULL;
	int rc;
	if (!sink || offset < 0)
		return lv_error_set(LV_EINVALID, "lv_media_film_read: a sink and an offset >= 0 are required");
	if ((rc = film_key(&obj, e, key, task_id)))
		return rc;
	rc = e->storage->ops->read(e->storage, obj, offset, length, sink, ctx);
	free(obj);
	return rc;
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
	{
		int64_t removed = 0;
		lv_retention_marks(t->rec.state, &removed, NULL);
		if (removed) {
			rc = gone_or(LV_OK, removed, t->rec.id);
			lv_task_free(t);
			return rc;
		}
	}
	if (!stored) {
		lv_task_free(t);
		return lv_error_set(LV_ENOTFOUND, "task %s has no film yet", task_id);
	}
	if (stored[0] == '/' && lv_media_resolve(path, e, stored + 1) == LV_OK) {
		rc = LV_OK;
	} else {
		*url = lv_strdup(stored);
		rc = *url ? LV_OK : LV_ENOMEM;
	}
	lv_task_free(t);
	return rc;
}

int lv_media_save_film(lv_engine *e, const lv_key *key, const char *task_id, const char *dest_path)
{
	char *obj = NULL, *src = NULL, *tmp = NULL;
	int rc;
	if (!dest_path || !*dest_path)
		return lv_error_set(LV_EINVALID, "lv_media_save_film: a destination path is required");
	if ((rc = film_key(&obj, e, key, task_id)))
		return rc;
	if (!(tmp = lv_asprintf("%s.download", dest_path))) {
		rc = LV_ENOMEM;
		goto out;
	}
	if ((rc = e->storage->ops->get_file(e->storage, obj, tmp, &src)))
		goto out;
	if (!strcmp(src, tmp)) { /* downloaded next to the destination: move it into place */
		if (rename(tmp, dest_path) != 0)
			rc = lv_error_set(LV_EIO, "cannot write %s", dest_path);
	} else {
		rc = lv_file_copy_atomic(src, dest_path, 0644);
	}
out:
	free(obj);
	free(src);
	free(tmp);
	return rc;
}
