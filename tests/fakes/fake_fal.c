#include "fakes/fake_fal.h"
#include "util/json.h"
#include "util/mem.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int key_refused(fake_fal *ff, const lv_fake_request *req, lv_fake_response *out)
{
	if (fake_key_ok(ff->jobs.key, req))
		return 0;
	out->status = 401;
	out->body = "{\"detail\":\"Unauthorized\"}";
	return 1;
}

/* The request id in /{app}/requests/{id}[/suffix] (into id), and the suffix. */
static const char *request_of(const fake_fal *ff, const char *path, char *id, size_t cap)
{
	const char *p = path + 1 + strlen(ff->app), *e;
	id[0] = '\0';
	if (strncmp(p, "/requests/", 10) != 0)
		return NULL;
	p += 10;
	e = strchr(p, '/');
	snprintf(id, cap, "%.*s", e ? (int)(e - p) : (int)strlen(p), p);
	return e ? e : "";
}

static void submit_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_fal *ff = ctx;
	cJSON *b = cJSON_ParseWithLength(req->body, req->body_len);
	const cJSON *d = cJSON_GetObjectItem(b, "duration");
	const char *prompt = lv_json_get_str(b, "prompt");
	fake_job *j;
	int w, h, secs = cJSON_IsNumber(d) ? d->valueint : cJSON_IsString(d) ? atoi(d->valuestring) : 5;
	fake_jobs_lock(&ff->jobs);
	fake_jobs_submitted(&ff->jobs);
	if (!key_refused(ff, req, out) && !fake_script_next(&ff->jobs.submit_script, &ff->arena, req, out)) {
		if (!prompt) {
			out->status = 422;
			out->body = "{\"detail\":[{\"loc\":[\"body\",\"prompt\"],\"msg\":\"field required\",\"type\":"
			            "\"value_error.missing\"}]}";
		} else {
			fake_size_of(lv_json_get_str(b, "resolution") ? lv_json_get_str(b, "resolution") : "720p",
			             lv_json_get_str(b, "aspect_ratio"), &w, &h);
			j = fake_jobs_add(&ff->jobs, "fal-req", secs, w, h);
			if (j) {
				snprintf(j->model, sizeof(j->model), "%s", req->path + 1);
				snprintf(j->prompt, sizeof(j->prompt), "%s", prompt);
				j->references = lv_json_get_str(b, "image_url") ? 1 : 0;
			}
			if (!fake_script_next(&ff->jobs.lost_script, &ff->arena, req, out)) {
				const char *u = lv_fake_url(f), *id = j ? j->id : "none";
				out->body = fake_printf(&ff->arena,
				                        "{\"request_id\":\"%s\",\"response_url\":\"%s/%s/requests/%s\","
				                        "\"status_url\":\"%s/%s/requests/%s/status\",\"cancel_url\":"
				                        "\"%s/%s/requests/%s/cancel\",\"queue_position\":0}",
				                        id, u, ff->app, id, u, ff->app, id, u, ff->app, id);
			}
		}
	}
	fake_jobs_unlock(&ff->jobs);
	cJSON_Delete(b);
}

static void get_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_fal *ff = ctx;
	char id[64];
	const char *suffix = request_of(ff, req->path, id, sizeof(id));
	fake_job *j;
	fake_jobs_lock(&ff->jobs);
	if (key_refused(ff, req, out) || fake_script_next(&ff->jobs.poll_script, &ff->arena, req, out)) {
		fake_jobs_unlock(&ff->jobs);
		return;
	}
	j = suffix ? fake_jobs_find(&ff->jobs, id) : NULL;
	if (!j) {
		out->status = 404;
		out->body = "{\"detail\":\"Request not found\"}";
	} else if (!strcmp(suffix, "/status")) {
		int where = j->canceled ? -1 : fake_jobs_advance(&ff->jobs, j);
		if (where == 0)
			out->body = fake_printf(&ff->arena, "{\"status\":\"%s\",\"queue_position\":%d,\"response_url\":"
			                                    "\"%s/%s/requests/%s\"}",
			                        j->polls == 1 ? "IN_QUEUE" : "IN_PROGRESS", j->polls == 1 ? 2 : 0,
			                        lv_fake_url(f), ff->app, id);
		else if (where == 1)
			out->body = fake_printf(&ff->arena, "{\"status\":\"COMPLETED\",\"response_url\":\"%s/%s/requests/%s\"}",
			                        lv_fake_url(f), ff->app, id);
		else
			out->body = fake_printf(&ff->arena,
			                        "{\"status\":\"COMPLETED\",\"error\":\"%s\",\"error_type\":\"%s\","
			                        "\"response_url\":\"%s/%s/requests/%s\"}",
			                        j->canceled ? "Request was cancelled" : ff->jobs.fail_message,
			                        j->canceled ? "cancelled" : ff->jobs.fail_code, lv_fake_url(f), ff->app, id);
	} else if (!strcmp(suffix, "") && ff->jobs.fail_code[0] &&
	           (ff->jobs.fail_job == 0 || ff->jobs.fail_job == j->number)) {
		out->status = 500;
		out->body = fake_printf(&ff->arena, "{\"detail\":\"%s\"}", ff->jobs.fail_message);
	} else if (!strcmp(suffix, "")) {
		out->body = fake_printf(&ff->arena,
		                        "{\"video\":{\"url\":\"%s/media/%s.mp4\",\"content_type\":\"video/mp4\","
		                        "\"file_name\":\"output.mp4\"},\"seed\":1}",
		                        lv_fake_url(f), id);
	} else {
		out->status = 404;
		out->body = "{\"detail\":\"Not found\"}";
	}
	fake_jobs_unlock(&ff->jobs);
}

static void cancel_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_fal *ff = ctx;
	char id[64];
	fake_job *j;
	(void)f;
	request_of(ff, req->path, id, sizeof(id));
	fake_jobs_lock(&ff->jobs);
	if (!key_refused(ff, req, out)) {
		ff->jobs.cancels++;
		if ((j = fake_jobs_find(&ff->jobs, id)) != NULL)
			j->canceled = 1;
		out->status = 202;
		out->body = "{\"status\":\"CANCELLATION_REQUESTED\"}";
	}
	fake_jobs_unlock(&ff->jobs);
}

static void list_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_fal *ff = ctx;
	lv_buf b = LV_BUF_INIT;
	int i, n = 0;
	(void)f;
	fake_jobs_lock(&ff->jobs);
	if (key_refused(ff, req, out) || fake_script_next(&ff->jobs.list_script, &ff->arena, req, out)) {
		fake_jobs_unlock(&ff->jobs);
		return;
	}
	lv_buf_puts(&b, "{\"items\":[");
	for (i = ff->jobs.n_jobs - 1; i >= 0; i--) {
		const fake_job *j = &ff->jobs.jobs[i];
		cJSON *p = cJSON_CreateString(j->prompt);
		char *q = cJSON_PrintUnformatted(p);
		lv_buf_printf(&b,
		              "%s{\"request_id\":\"%s\",\"endpoint_id\":\"%s\",\"sent_at\":\"2026-01-01T00:00:01Z\","
		              "\"json_input\":{\"prompt\":%s}}",
		              n++ ? "," : "", j->id, j->model, q ? q : "\"\"");
		free(q);
		cJSON_Delete(p);
	}
	lv_buf_puts(&b, "],\"next_cursor\":null,\"has_more\":false}");
	out->body = fake_keep(&ff->arena, lv_buf_detach(&b));
	fake_jobs_unlock(&ff->jobs);
}

static void media_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_fal *ff = ctx;
	char id[64];
	const char *p = req->path + strlen("/media/"), *e = strstr(p, ".mp4");
	(void)f;
	snprintf(id, sizeof(id), "%.*s", e ? (int)(e - p) : 0, p);
	fake_jobs_serve_clip(&ff->jobs, &ff->arena, id, out);
}

fake_fal *fake_fal_start(const char *app, const char *clip_dir)
{
	fake_fal *ff = lv_calloc(1, sizeof(*ff));
	char route[160];
	ck_assert_ptr_nonnull(ff);
	snprintf(ff->app, sizeof(ff->app), "%s", app);
	fake_jobs_init(&ff->jobs, clip_dir);
	fake_arena_init(&ff->arena);
	ff->f = lv_fake_start();
	ck_assert_ptr_nonnull(ff->f);
	snprintf(route, sizeof(route), "/%s*", app);
	lv_fake_handle(ff->f, "POST", route, submit_h, ff);
	lv_fake_handle(ff->f, "GET", route, get_h, ff);
	lv_fake_handle(ff->f, "PUT", route, cancel_h, ff);
	lv_fake_handle(ff->f, "GET", "/v1/models/requests/by-endpoint", list_h, ff);
	lv_fake_handle(ff->f, "GET", "/media/*", media_h, ff);
	return ff;
}

void fake_fal_stop(fake_fal *ff)
{
	if (!ff)
		return;
	lv_fake_stop(ff->f);
	fake_jobs_destroy(&ff->jobs);
	fake_arena_free(&ff->arena);
	free(ff);
}

lv_fake *fake_fal_server(const fake_fal *ff)
{
	return ff->f;
}

const char *fake_fal_url(const fake_fal *ff)
{
	return lv_fake_url(ff->f);
}
