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
 * (*path), else NULL and its URL in *url (to redirect to).  LV_ENOTFOUND
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

/** The MIME type for a result file name ("final.mp4" -> "video/mp4"). Static string. */
LV_EXTERN(const char *) lv_media_content_type(const char *name);

#ifdef __cplusplus
}
#endif
#endif
