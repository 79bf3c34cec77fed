#include "core/task.h"
#include "util/error.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdlib.h>
#include <string.h>

/* lv_task_status_name(), _parse() and _is_terminal() are model-level: lib/model/status.c. */

int lv_stage_progress(lv_task_status s)
{
	/* awaiting_review holds the progress moderation reached. */
	static const int start[] = { 0, 2, 6, 8, 10, 82, 88, 96, 100, 100, 100, 6 };
	return (int)s >= 0 && (size_t)s < sizeof(start) / sizeof(start[0]) ? start[s] : 0;
}

char *lv_media_url(const char *public_url, const char *stored)
{
	if (!stored)
		return NULL;
	if (stored[0] == '/')
		return lv_asprintf("%s%s", public_url ? public_url : "", stored);
	return lv_strdup(stored);
}

static int add_time(cJSON *o, const char *name, int64_t ms)
{
	char ts[21];
	if (ms <= 0)
		return cJSON_AddNullToObject(o, name) != NULL;
	lv_time_iso8601(ts, ms);
	return cJSON_AddStringToObject(o, name, ts) != NULL;
}

static int add_url(cJSON *o, const char *name, const char *public_url, const char *stored)
{
	char *url = lv_media_url(public_url, stored);
	int ok = lv_json_add_str(o, name, url) == LV_OK;
	free(url);
	return ok;
}

cJSON *lv_task_error_json(const lv_task_rec *t)
{
	cJSON *e;
	if (!t->error_code)
		return cJSON_CreateNull();
	if (!(e = cJSON_CreateObject()))
		return NULL;
	if (!cJSON_AddStringToObject(e, "code", t->error_code) ||
	    lv_json_add_str(e, "message", t->error_message ? t->error_message : "") ||
	    lv_json_add_str(e, "stage", t->error_stage >= 0 ? lv_task_status_name((lv_task_status)t->error_stage)
	                                                    : NULL) ||
	    !(t->error_shot >= 0 ? cJSON_AddNumberToObject(e, "shot", t->error_shot)
	                         : cJSON_AddNullToObject(e, "shot"))) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

/* The description of shot i from the storyboard, if there is one. */
static const char *shot_description(const cJSON *script, int i)
{
	const cJSON *shots = cJSON_GetObjectItemCaseSensitive(script, "shots"), *s;
	cJSON_ArrayForEach(s, shots)
	{
		const cJSON *idx = cJSON_GetObjectItemCaseSensitive(s, "index");
		if (cJSON_IsNumber(idx) && (int)idx->valuedouble == i)
			return lv_json_get_str(s, "visual");
	}
	return NULL;
}

cJSON *lv_task_json_build(const lv_task_rec *t, const lv_segment_rec *segs, size_t n_segs, const char *public_url,
                          unsigned flags)
{
	cJSON *o = cJSON_CreateObject(), *meta = NULL, *err, *script = NULL;
	int ok = o != NULL;
	if (ok && t->metadata)
		meta = lv_json_parse_text(t->metadata);
	if (ok && t->script)
		script = lv_json_parse_text(t->script);
	ok = ok && cJSON_AddStringToObject(o, "task_id", t->id);
	ok = ok && cJSON_AddStringToObject(o, "object", "video");
	ok = ok && cJSON_AddStringToObject(o, "status", lv_task_status_name((lv_task_status)t->status));
	ok = ok && cJSON_AddNumberToObject(o, "progress", t->progress);
	ok = ok && cJSON_AddNumberToObject(o, "shots_done", t->shots_done);
	ok = ok && cJSON_AddNumberToObject(o, "shots_total", t->shots_total);
	ok = ok && cJSON_AddStringToObject(o, "prompt", t->prompt);
	ok = ok && cJSON_AddNumberToObject(o, "duration", t->duration);
	ok = ok && cJSON_AddStringToObject(o, "resolution", t->resolution);
	ok = ok && cJSON_AddStringToObject(o, "aspect_ratio", t->aspect_ratio);
	ok = ok && cJSON_AddStringToObject(o, "provider", t->provider);
	ok = ok && cJSON_AddStringToObject(o, "language", t->language);
	ok = ok && cJSON_AddBoolToObject(o, "narration", t->narration);
	ok = ok && cJSON_AddBoolToObject(o, "music", t->music);
	ok = ok && cJSON_AddStringToObject(o, "subtitles", lv_subtitles_name(t->subtitles));
	ok = ok && lv_json_add_credits(o, "cost_estimate", t->cost_estimate) == LV_OK;
	ok = ok && (t->cost_actual >= 0 ? lv_json_add_credits(o, "cost_actual", t->cost_actual) == LV_OK
	                                : cJSON_AddNullToObject(o, "cost_actual") != NULL);
	ok = ok && add_url(o, "result_url", public_url, t->result_url);
	ok = ok && add_url(o, "subtitles_url", public_url, t->subtitles_url);
	ok = ok && add_url(o, "thumbnail_url", public_url, t->thumbnail_url);
	ok = ok && (err = lv_task_error_json(t)) != NULL && cJSON_AddItemToObject(o, "error", err);
	if (ok) {
		if (!meta)
			meta = cJSON_CreateObject();
		ok = meta && cJSON_AddItemToObject(o, "metadata", meta);
		if (ok)
			meta = NULL;
	}
	ok = ok && lv_json_add_str(o, "webhook_url", t->webhook_url) == LV_OK;
	ok = ok && add_time(o, "created_at", t->created_at);
	ok = ok && add_time(o, "updated_at", t->updated_at);
	ok = ok && add_time(o, "completed_at", t->completed_at);
	if (ok && (flags & LV_TASK_JSON_DETAIL)) {
		cJSON *shots = cJSON_AddArrayToObject(o, "shots");
		size_t i;
		ok = shots != NULL;
		for (i = 0; ok && i < n_segs; i++) {
			const lv_segment_rec *s = &segs[i];
			cJSON *j = cJSON_CreateObject();
			ok = j && cJSON_AddItemToArray(shots, j);
			if (!ok) {
				cJSON_Delete(j);
				break;
			}
			ok = cJSON_AddNumberToObject(j, "index", s->idx) && cJSON_AddNumberToObject(j, "start", s->start) &&
			     cJSON_AddNumberToObject(j, "duration", s->seconds) &&
			     cJSON_AddStringToObject(j, "status", lv_segment_status_name(s->status)) &&
			     lv_json_add_str(j, "description", shot_description(script, s->idx)) == LV_OK;
		}
		if (ok && script) {
			ok = cJSON_AddItemToObject(o, "script", script);
			if (ok)
				script = NULL;
		}
		if (ok) {
			/* Shot regenerations, every attempt: {index, status, error, cost, created_at}. */
			cJSON *state = t->state ? cJSON_Parse(t->state) : NULL, *list;
			/* The film's measured quality report (docs/api.md), once composed. */
			list = cJSON_DetachItemFromObjectCaseSensitive(state, "qc");
			if (cJSON_IsObject(list))
				ok = cJSON_AddItemToObject(o, "qc", list);
			else
				cJSON_Delete(list);
			list = cJSON_DetachItemFromObjectCaseSensitive(state, "regenerations");
			if (!cJSON_IsArray(list)) {
				cJSON_Delete(list);
				list = cJSON_CreateArray();
			}
			ok = list && cJSON_AddItemToObject(o, "regenerations", list);
			if (!ok)
				cJSON_Delete(list);
			/* The client's own characters, with the URLs of their stored images. */
			list = cJSON_GetObjectItemCaseSensitive(state, "characters");
			if (ok && cJSON_IsArray(list)) {
				cJSON *out = cJSON_AddArrayToObject(o, "characters"), *c;
				cJSON_ArrayForEach(c, list)
				{
					cJSON *e = cJSON_CreateObject();
					cJSON_AddItemToArray(out, e);
					cJSON_AddStringToObject(e, "name", lv_json_get_str(c, "name"));
					cJSON_AddStringToObject(e, "description", lv_json_get_str(c, "description"));
					ok = ok && add_url(e, "image_url", public_url, lv_json_get_str(c, "image_url"));
				}
			}
			cJSON_Delete(state);
		}
	}
	cJSON_Delete(meta);
	cJSON_Delete(script);
	if (!ok) {
		cJSON_Delete(o);
		lv_error_nomem();
		return NULL;
	}
	return o;
}

int lv_task_json_add_events_url(cJSON *o, const char *public_url, const char *id, const char *token)
{
	char *url = lv_asprintf("%s/v1/events/%s/%s", public_url ? public_url : "", id, token);
	int rc = url && cJSON_AddStringToObject(o, "events_url", url) ? LV_OK : LV_ENOMEM;
	free(url);
	return rc;
}
