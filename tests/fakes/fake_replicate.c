#include "fakes/fake_replicate.h"
#include "util/json.h"
#include "util/mem.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int key_refused(fake_replicate *fr, const lv_fake_request *req, lv_fake_response *out)
{
	if (fake_key_ok(fr->jobs.key, req))
		return 0;
	out->status = 401;
	out->body = "{\"title\":\"Unauthenticated\",\"detail\":\"You did not pass a valid authentication token\","
	            "\"status\":401}";
	return 1;
}

static void iso(char *out, size_t cap, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), cap - strlen(out), ".%03dZ", (int)(ms % 1000));
}

/* The prediction object; status and the rest as given. */
static const char *prediction(fake_replicate *fr, lv_fake *f, const fake_job *j, const char *status,
                              const char *extra)
{
	char created[40];
	cJSON *p = cJSON_CreateString(j->prompt);
	char *q = cJSON_PrintUnformatted(p);
	const char *out;
	iso(created, sizeof(created), j->created_ms);
	out = fake_printf(&fr->arena,
	                  "{\"id\":\"%s\",\"model\":\"%s\",\"version\":\"dp-4d8e6f\",\"status\":\"%s\",\"input\":"
	                  "{\"prompt\":%s},\"created_at\":\"%s\",\"source\":\"api\",\"urls\":{\"get\":"
	                  "\"%s/v1/predictions/%s\",\"cancel\":\"%s/v1/predictions/%s/cancel\"}%s}",
	                  j->id, j->model, status, q ? q : "\"\"", created, lv_fake_url(f), j->id, lv_fake_url(f), j->id,
	                  extra ? extra : "");
	free(q);
	cJSON_Delete(p);
	return out;
}

static void create_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_replicate *fr = ctx;
	cJSON *b = cJSON_ParseWithLength(req->body, req->body_len);
	const cJSON *in = cJSON_GetObjectItem(b, "input"), *d = cJSON_GetObjectItem(in, "duration");
	const char *version = lv_json_get_str(b, "version"), *prompt = lv_json_get_str(in, "prompt");
	char buf[64];
	fake_job *j;
	int w, h;
	fake_jobs_lock(&fr->jobs);
	fake_jobs_submitted(&fr->jobs);
	if (!key_refused(fr, req, out) && !fake_script_next(&fr->jobs.submit_script, &fr->arena, req, out)) {
		if (lv_fake_header(req, "prefer", buf, sizeof(buf))) {
			out->status = 400;
			out->body = "{\"title\":\"Bad request\",\"detail\":\"this fake expects asynchronous predictions\","
			            "\"status\":400}";
		} else if (!version || !prompt) {
			out->status = 422;
			out->body = "{\"title\":\"Input validation failed\",\"detail\":\"- input: prompt is required\","
			            "\"status\":422}";
		} else {
			fake_size_of(lv_json_get_str(in, "resolution") ? lv_json_get_str(in, "resolution") : "720p",
			             lv_json_get_str(in, "aspect_ratio"), &w, &h);
			j = fake_jobs_add(&fr->jobs, "rp", cJSON_IsNumber(d) ? d->valueint : 5, w, h);
			if (j) {
				const char *colon = strchr(version, ':');
				snprintf(j->model, sizeof(j->model), "%.*s", colon ? (int)(colon - version) : (int)strlen(version),
				         version);
				snprintf(j->prompt, sizeof(j->prompt), "%s", prompt);
				if (!fake_script_next(&fr->jobs.lost_script, &fr->arena, req, out)) {
					out->status = 201;
					out->body = prediction(fr, f, j, "starting", NULL);
				}
			}
		}
	}
	fake_jobs_unlock(&fr->jobs);
	cJSON_Delete(b);
}

static void get_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_replicate *fr = ctx;
	const char *id = req->path + strlen("/v1/predictions/");
	fake_job *j;
	fake_jobs_lock(&fr->jobs);
	if (key_refused(fr, req, out) || fake_script_next(&fr->jobs.poll_script, &fr->arena, req, out)) {
		fake_jobs_unlock(&fr->jobs);
		return;
	}
	if (!(j = fake_jobs_find(&fr->jobs, id))) {
		out->status = 404;
		out->body = "{\"title\":\"Not found\",\"detail\":\"The requested resource could not be found.\",\"status\":404}";
	} else if (j->canceled) {
		out->body = prediction(fr, f, j, "canceled", NULL);
	} else {
		switch (fake_jobs_advance(&fr->jobs, j)) {
		case 0:
			out->body = prediction(fr, f, j, j->polls == 1 ? "starting" : "processing", NULL);
			break;
		case 1:
			/* The delivery host is another host name for the same server: the token must not go there. */
			out->body = prediction(fr, f, j, "succeeded",
			                       fake_printf(&fr->arena, ",\"output\":\"http://localhost%s/delivery/%s.mp4\","
			                                               "\"metrics\":{\"predict_time\":41.2}",
			                                   strrchr(lv_fake_url(f), ':'), j->id));
			break;
		default:
			out->body = prediction(fr, f, j, "failed",
			                       fake_printf(&fr->arena, ",\"error\":\"%s\",\"output\":null", fr->jobs.fail_message));
		}
	}
	fake_jobs_unlock(&fr->jobs);
}

static void cancel_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_replicate *fr = ctx;
	char id[64];
	const char *p = req->path + strlen("/v1/predictions/"), *e = strstr(p, "/cancel");
	fake_job *j;
	snprintf(id, sizeof(id), "%.*s", e ? (int)(e - p) : 0, p);
	fake_jobs_lock(&fr->jobs);
	if (!key_refused(fr, req, out)) {
		fr->jobs.cancels++;
		if ((j = fake_jobs_find(&fr->jobs, id)) != NULL) {
			j->canceled = 1;
			out->body = prediction(fr, f, j, "canceled", NULL);
		} else {
			out->status = 404;
			out->body = "{\"title\":\"Not found\",\"status\":404}";
		}
	}
	fake_jobs_unlock(&fr->jobs);
}

static void list_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_replicate *fr = ctx;
	lv_buf b = LV_BUF_INIT;
	int i;
	fake_jobs_lock(&fr->jobs);
	if (key_refused(fr, req, out) || fake_script_next(&fr->jobs.list_script, &fr->arena, req, out)) {
		fake_jobs_unlock(&fr->jobs);
		return;
	}
	lv_buf_puts(&b, "{\"previous\":null,\"next\":null,\"results\":[");
	for (i = fr->jobs.n_jobs - 1; i >= 0; i--)
		lv_buf_printf(&b, "%s%s", i == fr->jobs.n_jobs - 1 ? "" : ",",
		              prediction(fr, f, &fr->jobs.jobs[i], fr->jobs.jobs[i].canceled ? "canceled" : "processing", NULL));
	lv_buf_puts(&b, "]}");
	out->body = fake_keep(&fr->arena, lv_buf_detach(&b));
	fake_jobs_unlock(&fr->jobs);
}

static void account_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_replicate *fr = ctx;
	(void)f;
	fake_jobs_lock(&fr->jobs);
	if (!key_refused(fr, req, out))
		out->body = "{\"type\":\"user\",\"username\":\"lighthouse\",\"name\":\"Lighthouse\"}";
	fake_jobs_unlock(&fr->jobs);
}

static void delivery_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_replicate *fr = ctx;
	char id[64];
	const char *p = req->path + strlen("/delivery/"), *e = strstr(p, ".mp4");
	(void)f;
	snprintf(id, sizeof(id), "%.*s", e ? (int)(e - p) : 0, p);
	fake_jobs_serve_clip(&fr->jobs, &fr->arena, id, out);
}

fake_replicate *fake_replicate_start(const char *clip_dir)
{
	fake_replicate *fr = lv_calloc(1, sizeof(*fr));
	ck_assert_ptr_nonnull(fr);
	fake_jobs_init(&fr->jobs, clip_dir);
	fake_arena_init(&fr->arena);
	fr->f = lv_fake_start();
	ck_assert_ptr_nonnull(fr->f);
	lv_fake_handle(fr->f, "POST", "/v1/predictions", create_h, fr);
	lv_fake_handle(fr->f, "GET", "/v1/predictions", list_h, fr);
	lv_fake_handle(fr->f, "GET", "/v1/predictions/*", get_h, fr);
	lv_fake_handle(fr->f, "POST", "/v1/predictions/*", cancel_h, fr);
	lv_fake_handle(fr->f, "GET", "/v1/account", account_h, fr);
	lv_fake_handle(fr->f, "GET", "/delivery/*", delivery_h, fr);
	return fr;
}

void fake_replicate_stop(fake_replicate *fr)
{
	if (!fr)
		return;
	lv_fake_stop(fr->f);
	fake_jobs_destroy(&fr->jobs);
	fake_arena_free(&fr->arena);
	free(fr);
}

lv_fake *fake_replicate_server(const fake_replicate *fr)
{
	return fr->f;
}

const char *fake_replicate_url(const fake_replicate *fr)
{
	return lv_fake_url(fr->f);
}
