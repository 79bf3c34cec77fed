#include "fakes/fake_dashscope.h"
#include "media/image.h"
#include "media/wav.h"
#include "util/json.h"
#include "util/mem.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* DashScope's answer to a key it does not know, echoing the key it carried. */
static int key_refused(fake_dashscope *ds, const lv_fake_request *req, lv_fake_response *out)
{
	char key[256];
	if (fake_key_ok(ds->jobs.key, req))
		return 0;
	out->status = 401;
	out->body = fake_printf(&ds->arena,
	                        "{\"code\":\"InvalidApiKey\",\"message\":\"Invalid API-key provided: %s\","
	                        "\"request_id\":\"req-401-invalid-key\"}",
	                        fake_request_key(req, key, sizeof(key)));
	return 1;
}

static void submit_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_dashscope *ds = ctx;
	cJSON *b = cJSON_ParseWithLength(req->body, req->body_len);
	const cJSON *params = cJSON_GetObjectItem(b, "parameters");
	const cJSON *d = cJSON_GetObjectItem(params, "duration");
	const char *model = lv_json_get_str(b, "model");
	int w, h;
	fake_job *j;
	(void)f;
	fake_jobs_lock(&ds->jobs);
	fake_jobs_submitted(&ds->jobs);
	if (!key_refused(ds, req, out) && !fake_script_next(&ds->jobs.submit_script, &ds->arena, req, out)) {
		fake_size_of(lv_json_get_str(params, "resolution"), lv_json_get_str(params, "ratio"), &w, &h);
		j = fake_jobs_add(&ds->jobs, "ds-task", cJSON_IsNumber(d) ? d->valueint : 5, w, h);
		if (j) {
			snprintf(j->model, sizeof(j->model), "%s", model ? model : "");
			snprintf(j->prompt, sizeof(j->prompt), "%s",
			         lv_json_get_str(cJSON_GetObjectItem(b, "input"), "prompt")
			                 ? lv_json_get_str(cJSON_GetObjectItem(b, "input"), "prompt")
			                 : "");
			j->references = cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "input"), "media"));
		}
		/* The job exists; its answer may be lost on the way. */
		if (!fake_script_next(&ds->jobs.lost_script, &ds->arena, req, out))
			out->body = fake_printf(&ds->arena,
			                        "{\"request_id\":\"req-5e8a-submit\",\"output\":{\"task_id\":\"%s\","
			                        "\"task_status\":\"PENDING\"}}",
			                        j ? j->id : "none");
	}
	fake_jobs_unlock(&ds->jobs);
	cJSON_Delete(b);
}

/* A picture task: RUNNING on its first status check, then SUCCEEDED (or FAILED). */
static int image_task(fake_dashscope *ds, lv_fake *f, const char *id, lv_fake_response *out)
{
	int i;
	for (i = 0; i < ds->n_images; i++) {
		fake_ds_image *im = &ds->images[i];
		if (strcmp(im->id, id) != 0)
			continue;
		if (++im->polls < 2)
			out->body = fake_printf(&ds->arena, "{\"request_id\":\"req-i\",\"output\":{\"task_id\":\"%s\","
			                                    "\"task_status\":\"RUNNING\"}}",
			                        id);
		else if (ds->image_fail_code[0])
			out->body = fake_printf(&ds->arena,
			                        "{\"request_id\":\"req-i\",\"output\":{\"task_id\":\"%s\",\"task_status\":"
			                        "\"FAILED\",\"code\":\"%s\",\"message\":\"The picture could not be made.\"}}",
			                        id, ds->image_fail_code);
		else
			out->body = fake_printf(&ds->arena,
			                        "{\"request_id\":\"req-i\",\"output\":{\"task_id\":\"%s\",\"task_status\":"
			                        "\"SUCCEEDED\",\"results\":[{\"url\":\"%s/oss/%s.png?Expires=1777777777\"}],"
			                        "\"task_metrics\":{\"TOTAL\":1,\"SUCCEEDED\":1,\"FAILED\":0}},\"usage\":"
			                        "{\"image_count\":1}}",
			                        id, lv_fake_url(f), id);
		return 1;
	}
	return 0;
}

static void image_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_dashscope *ds = ctx;
	cJSON *b = cJSON_ParseWithLength(req->body, req->body_len);
	const char *prompt = lv_json_get_str(cJSON_GetObjectItem(b, "input"), "prompt");
	(void)f;
	fake_jobs_lock(&ds->jobs);
	if (!key_refused(ds, req, out)) {
		if (!prompt || ds->n_images == 32) {
			out->status = 400;
			out->body = "{\"code\":\"InvalidParameter\",\"message\":\"input.prompt is required\","
			            "\"request_id\":\"req-400\"}";
		} else {
			fake_ds_image *im = &ds->images[ds->n_images++];
			snprintf(im->id, sizeof(im->id), "ds-img-%04d", ds->n_images);
			snprintf(im->prompt, sizeof(im->prompt), "%s", prompt);
			out->body = fake_printf(&ds->arena, "{\"request_id\":\"req-img\",\"output\":{\"task_id\":\"%s\","
			                                    "\"task_status\":\"PENDING\"}}",
			                        im->id);
		}
	}
	fake_jobs_unlock(&ds->jobs);
	cJSON_Delete(b);
}

static void tts_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_dashscope *ds = ctx;
	cJSON *b = cJSON_ParseWithLength(req->body, req->body_len);
	const cJSON *in = cJSON_GetObjectItem(b, "input");
	fake_jobs_lock(&ds->jobs);
	if (!key_refused(ds, req, out)) {
		if (ds->tts_fail_code[0]) {
			out->status = 400;
			out->body = fake_printf(&ds->arena, "{\"code\":\"%s\",\"message\":\"The text was refused.\","
			                                    "\"request_id\":\"req-tts\"}",
			                        ds->tts_fail_code);
		} else if (!lv_json_get_str(in, "text") || !lv_json_get_str(in, "voice")) {
			out->status = 400;
			out->body = "{\"code\":\"InvalidParameter\",\"message\":\"input.text and input.voice are required\","
			            "\"request_id\":\"req-400\"}";
		} else {
			ds->tts_requests++;
			out->body = fake_printf(&ds->arena,
			                        "{\"request_id\":\"req-tts\",\"output\":{\"finish_reason\":\"stop\",\"audio\":"
			                        "{\"url\":\"%s/oss/tts-%d.wav?Expires=1777777777\",\"id\":\"audio_%d\","
			                        "\"expires_at\":1777777777}},\"usage\":{\"characters\":%zu}}",
			                        lv_fake_url(f), ds->tts_requests, ds->tts_requests,
			                        strlen(lv_json_get_str(in, "text")));
		}
	}
	fake_jobs_unlock(&ds->jobs);
	cJSON_Delete(b);
}

static void task_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_dashscope *ds = ctx;
	const char *id = req->path + strlen("/api/v1/tasks/"), *prompt = "";
	fake_job *j;
	fake_jobs_lock(&ds->jobs);
	if (key_refused(ds, req, out) || image_task(ds, f, id, out) ||
	    fake_script_next(&ds->jobs.poll_script, &ds->arena, req, out)) {
		fake_jobs_unlock(&ds->jobs);
		return;
	}
	j = fake_jobs_find(&ds->jobs, id);
	if (j) {
		cJSON *p = ds->jobs.hide_prompt ? NULL : cJSON_CreateString(j->prompt);
		char *q = p ? cJSON_PrintUnformatted(p) : NULL;
		prompt = q ? fake_printf(&ds->arena, ",\"orig_prompt\":%s", q) : "";
		free(q);
		cJSON_Delete(p);
	}
	if (!j) {
		out->body = fake_printf(&ds->arena,
		                        "{\"request_id\":\"req-1\",\"output\":{\"task_id\":\"%s\",\"task_status\":\"UNKNOWN\"}}",
		                        id);
	} else if (j->canceled) {
		out->body = fake_printf(&ds->arena,
		                        "{\"request_id\":\"req-2\",\"output\":{\"task_id\":\"%s\",\"task_status\":\"CANCELED\"}}",
		                        id);
	} else {
		switch (fake_jobs_advance(&ds->jobs, j)) {
		case 0:
			out->body = fake_printf(&ds->arena,
			                        "{\"request_id\":\"req-3\",\"output\":{\"task_id\":\"%s\",\"task_status\":\"%s\","
			                        "\"submit_time\":\"2026-04-25 15:03:25.848\"%s}}",
			                        id, j->polls == 1 ? "PENDING" : "RUNNING", prompt);
			break;
		case 1:
			out->body = fake_printf(&ds->arena,
			                        "{\"request_id\":\"req-4\",\"output\":{\"task_id\":\"%s\",\"task_status\":"
			                        "\"SUCCEEDED\",\"submit_time\":\"2026-04-25 15:03:25.848\",\"end_time\":"
			                        "\"2026-04-25 15:04:05.882\"%s,\"video_url\":\"%s/oss/%s.mp4?"
			                        "Expires=1777777777&Signature=abc%%3D\"},\"usage\":{\"duration\":%d,"
			                        "\"output_video_duration\":%d,\"video_count\":1,\"SR\":%d}}",
			                        id, prompt, lv_fake_url(f), id, j->seconds, j->seconds, j->height > j->width
			                        ? (j->width >= 1080 ? 1080 : 720) : (j->height >= 1080 ? 1080 : 720));
			break;
		default:
			out->body = fake_printf(&ds->arena,
			                        "{\"request_id\":\"req-5e8a-failed\",\"output\":{\"task_id\":\"%s\","
			                        "\"task_status\":\"FAILED\",\"code\":\"%s\",\"message\":\"%s\"}}",
			                        id, ds->jobs.fail_code, ds->jobs.fail_message);
		}
	}
	fake_jobs_unlock(&ds->jobs);
}

static void cancel_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_dashscope *ds = ctx;
	char id[64];
	const char *p = req->path + strlen("/api/v1/tasks/"), *e = strstr(p, "/cancel");
	fake_job *j;
	(void)f;
	snprintf(id, sizeof(id), "%.*s", e ? (int)(e - p) : 0, p);
	fake_jobs_lock(&ds->jobs);
	if (!key_refused(ds, req, out)) {
		ds->jobs.cancels++;
		if ((j = fake_jobs_find(&ds->jobs, id)) != NULL)
			j->canceled = 1;
		out->body = "{\"request_id\":\"req-cancel\"}";
	}
	fake_jobs_unlock(&ds->jobs);
}

/* The task list: {"data": [...], "total", "total_page", "page_no", "page_size"}, newest first, filtered by
 * model_name (the time window is accepted as given). */
static void list_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_dashscope *ds = ctx;
	char model[128] = "";
	const char *m = strstr(req->query, "model_name="), *e;
	lv_buf b = LV_BUF_INIT;
	int i, n = 0;
	(void)f;
	if (m) {
		m += strlen("model_name=");
		e = strchr(m, '&');
		snprintf(model, sizeof(model), "%.*s", e ? (int)(e - m) : (int)strlen(m), m);
	}
	fake_jobs_lock(&ds->jobs);
	if (key_refused(ds, req, out) || fake_script_next(&ds->jobs.list_script, &ds->arena, req, out)) {
		fake_jobs_unlock(&ds->jobs);
		return;
	}
	lv_buf_puts(&b, "{\"request_id\":\"req-list\",\"data\":[");
	for (i = ds->jobs.n_jobs - 1; i >= 0; i--) {
		const fake_job *j = &ds->jobs.jobs[i];
		if (model[0] && strcmp(model, j->model) != 0)
			continue;
		lv_buf_printf(&b,
		              "%s{\"task_id\":\"%s\",\"model_name\":\"%s\",\"status\":\"%s\",\"region\":\"cn-beijing\","
		              "\"gmt_create\":%lld,\"request_id\":\"req-%d\"}",
		              n ? "," : "", j->id, j->model, j->canceled ? "CANCELED" : "RUNNING", (long long)j->created_ms,
		              j->number);
		n++;
	}
	lv_buf_printf(&b, "],\"total\":%d,\"total_page\":1,\"page_no\":1,\"page_size\":100}", n);
	out->body = fake_keep(&ds->arena, lv_buf_detach(&b));
	fake_jobs_unlock(&ds->jobs);
}

/* The result URL's host: object storage, no key involved. */
static void oss_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_dashscope *ds = ctx;
	char id[64];
	const char *p = req->path + strlen("/oss/"), *e = strstr(p, ".mp4");
	(void)f;
	if (!strncmp(p, "ds-img-", 7)) {
		out->body_file = ds->png;
		out->content_type = "image/png";
		return;
	}
	if (!strncmp(p, "tts-", 4)) {
		out->body_file = ds->wav;
		out->content_type = "audio/wav";
		return;
	}
	snprintf(id, sizeof(id), "%.*s", e ? (int)(e - p) : 0, p);
	fake_jobs_serve_clip(&ds->jobs, &ds->arena, id, out);
}

/* The picture and the audio the fake serves, made once per fake. */
static void media_make(fake_dashscope *ds, const char *dir)
{
	int w = 1024, h = 1024, x, y, n;
	uint8_t *rgb = lv_malloc((size_t)w * h * 3);
	int16_t tone[24000];
	lv_wav_writer wv;
	ck_assert_ptr_nonnull(rgb);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			uint8_t *px = rgb + ((size_t)y * w + x) * 3;
			int d = (x - 512) * (x - 512) + (y - 420) * (y - 420);
			px[0] = (uint8_t)(d < 200 * 200 ? 220 : 40 + y / 8);
			px[1] = (uint8_t)(d < 200 * 200 ? 180 : 60 + x / 10);
			px[2] = (uint8_t)(d < 200 * 200 ? 150 : 90);
		}
	snprintf(ds->png, sizeof(ds->png), "%s/ds-portrait-%p.png", dir, (void *)ds);
	ck_assert_int_eq(lv_png_save_rgb24(ds->png, rgb, w, h, w * 3), LV_OK);
	free(rgb);
	for (n = 0; n < 24000; n++)
		tone[n] = (int16_t)((n / 20) % 2 ? 3000 : -3000);
	snprintf(ds->wav, sizeof(ds->wav), "%s/ds-tts-%p.wav", dir, (void *)ds);
	ck_assert_int_eq(lv_wav_open(&wv, ds->wav, 1, 16000), LV_OK);
	ck_assert_int_eq(lv_wav_write(&wv, tone, 24000), LV_OK);
	ck_assert_int_eq(lv_wav_finish(&wv), LV_OK);
}

fake_dashscope *fake_dashscope_start(const char *clip_dir)
{
	fake_dashscope *ds = lv_calloc(1, sizeof(*ds));
	ck_assert_ptr_nonnull(ds);
	fake_jobs_init(&ds->jobs, clip_dir);
	fake_arena_init(&ds->arena);
	ds->f = lv_fake_start();
	ck_assert_ptr_nonnull(ds->f);
	lv_fake_handle(ds->f, "POST", FAKE_DS_SUBMIT, submit_h, ds);
	lv_fake_handle(ds->f, "GET", "/api/v1/tasks/*", task_h, ds);
	lv_fake_handle(ds->f, "GET", "/api/v1/tasks", list_h, ds);
	lv_fake_handle(ds->f, "POST", "/api/v1/tasks/*", cancel_h, ds);
	lv_fake_handle(ds->f, "GET", "/oss/*", oss_h, ds);
	lv_fake_handle(ds->f, "POST", FAKE_DS_IMAGE, image_h, ds);
	lv_fake_handle(ds->f, "POST", FAKE_DS_TTS, tts_h, ds);
	media_make(ds, clip_dir);
	return ds;
}

void fake_dashscope_stop(fake_dashscope *ds)
{
	if (!ds)
		return;
	lv_fake_stop(ds->f);
	unlink(ds->png);
	unlink(ds->wav);
	fake_jobs_destroy(&ds->jobs);
	fake_arena_free(&ds->arena);
	free(ds);
}

lv_fake *fake_dashscope_server(const fake_dashscope *ds)
{
	return ds->f;
}

const char *fake_dashscope_url(const fake_dashscope *ds)
{
	return lv_fake_url(ds->f);
}
