/*
 * liblongvideo — a task's results as files, for serving and downloading.
 *
 * Published results live in storage under media/{task_id}/{token}/ with the
 * names final.mp4, final.srt, final.vtt and thumbnail.jpg.  The token is
 * random, so the path is a capability: whoever has the URL may read it.
 */
#ifndef LONGVIDEO_MEDIA_H
#define LONGVIDEO_MEDIA_H

#include "common.h"
#include "engine.h"
#include "keys.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The local file behind a capability path "media/{task_id}/{token}/{name}"
 * (no leading slash), when storage is local.  LV_ENOTFOUND when there is
 * no such result (a wrong token included).  *path is freed with lv_free().
 */
LV_EXTERN(int) lv_media_resolve(char **path, lv_engine *engine, const char *media_path);

/**
 * The film of one of the key's tasks: for local storage the local file
 * (*path), else NULL and its stored URL in *url (remote storage: stream it with
 * lv_media_film_read() instead).  LV_ENOTFOUND
 * when the task is not the key's or has no film yet.
 */
LV_EXTERN(int) lv_media_task_film(char **path, char **url, lv_engine *engine, const lv_key *key,
                                  const char *task_id);

/**
 * Copy the film of one of the key's completed tasks to `dest_path` (written
 * atomically), from whichever storage holds it.  LV_ENOTFOUND when the task
 * is not the key's or has no film yet.
 */
LV_EXTERN(int) lv_media_save_film(lv_engine *engine, const lv_key *key, const char *task_id, const char *dest_path);

/**
 * How lvserver answers a capability path "media/{task_id}/{token}/{name}": with local storage the
 * local file (*path), with remote storage a freshly presigned URL to redirect to (*redirect, valid for
 * storage.presign_seconds).  LV_ENOTFOUND when there is no such result.  Free both with lv_free().
 */
LV_EXTERN(int) lv_media_locate(char **path, char **redirect, lv_engine *engine, const char *media_path);

/** Size and MIME type of a stored result, as lv_media_film_info() reports them. */
typedef struct lv_media_object {
	int64_t size;
	char content_type[128];
} lv_media_object;

/**
 * The film of one of the key's tasks in whatever storage holds it: its size and type.  LV_ENOTFOUND
 * when the task is not the key's or has no film yet.
 */
LV_EXTERN(int) lv_media_film_info(lv_media_object *info, lv_engine *engine, const lv_key *key, const char *task_id);

/**
 * Stream `length` bytes (-1: to the end) of that film from `offset` into sink (a non-zero return stops
 * it, and the call then fails with LV_EIO).  For serving it through lvserver with Range support.
 */
LV_EXTERN(int) lv_media_film_read(lv_engine *engine, const lv_key *key, const char *task_id, int64_t offset,
                                  int64_t length, int (*sink)(void *ctx, const void *data, size_t n), void *ctx);

/** The MIME type for a result file name ("final.mp4" -> "video/mp4"). Static string. */
LV_EXTERN(const char *) lv_media_content_type(const char *name);

#ifdef __cplusplus
}
#endif
#endif
