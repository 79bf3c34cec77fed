#include "fakes/fake_veo.h"
#include "util/json.h"
#include "util/mem.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int key_refused(fake_veo *fv, const lv_fake_request *req, lv_fake_response *out)
{
	if (fake_key_ok(fv->jobs.key, req))
		return 0;
	out->status = 400;
	out->body = "{\"error\":{\"code\":400,\"message\":\"API key not valid. Please pass a valid API key.\","
	            "\"status\":\"INVALID_ARGUMENT\"}}";
	return 1;
}

static void post_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_veo *fv = ctx;
	cJSON *b = cJSON_ParseWithLength(req->body, req->body_len);
	const cJSON *inst = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "instances"), 0);
	const cJSON *par = cJSON_GetObjectItem(b, "parameters"), *d = cJSON_GetObjectItem(par, "durationSeconds");
	const char *model = req->path + strlen("/v1beta/models/"), *colon = strstr(model, ":predictLongRunning");
	fake_job *j;
	int w, h;
	(void)f;
	fake_jobs_lock(&fv->jobs);
	fake_jobs_submitted(&fv->jobs);
	if (!key_refused(fv, req, out) && !fake_script_next(&fv->jobs.submit_script, &fv->arena, req, out)) {
		if (!colon || !lv_json_get_str(inst, "prompt")) {
			out->status = 400;
			out->body = "{\"error\":{\"code\":400,\"message\":\"* GenerateVideoRequest.instances[0].prompt: required\","
			            "\"status\":\"INVALID_ARGUMENT\"}}";
		} else if (!cJSON_IsNumber(d) || (d->valueint != 4 && d->valueint != 6 && d->valueint != 8)) {
			out->status = 400;
			out->body = "{\"error\":{\"code\":400,\"message\":\"The duration must be 4, 6 or 8 seconds.\","
			            "\"status\":\"INVALID_ARGUMENT\"}}";
		} else {
			fake_size_of(lv_json_get_str(par, "resolution"), lv_json_get_str(par, "aspectRatio"), &w, &h);
			j = fake_jobs_add(&fv->jobs, "op", d->valueint, w, h);
			fv->last_refs = cJSON_GetArraySize(cJSON_GetObjectItem(inst, "referenceImages"));
			if (j) {
				snprintf(j->model, sizeof(j->model), "%.*s", (int)(colon - model), model);
				j->references = fv->last_refs;
				out->body = fake_printf(&fv->arena, "{\"name\":\"models/%s/operations/%s\"}", j->model, j->id);
			}
		}
	}
	fake_jobs_unlock(&fv->jobs);
	cJSON_Delete(b);
}

static void get_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_veo *fv = ctx;
	const char *op = strstr(req->path, "/operations/");
	fake_job *j;
	fake_jobs_lock(&fv->jobs);
	if (key_refused(fv, req, out) || fake_script_next(&fv->jobs.poll_script, &fv->arena, req, out)) {
		fake_jobs_unlock(&fv->jobs);
		return;
	}
	if (!op) {
		out->body = fake_printf(&fv->arena, "{\"name\":\"models/%s\",\"displayName\":\"Veo\","
		                                    "\"supportedGenerationMethods\":[\"predictLongRunning\"]}",
		                        req->path + strlen("/v1beta/models/"));
	} else if (!(j = fake_jobs_find(&fv->jobs, op + strlen("/operations/")))) {
		out->status = 404;
		out->body = "{\"error\":{\"code\":404,\"message\":\"Operation not found\",\"status\":\"NOT_FOUND\"}}";
	} else {
		const char *name = req->path + strlen("/v1beta/");
		switch (fake_jobs_advance(&fv->jobs, j)) {
		case 0:
			out->body = fake_printf(&fv->arena, "{\"name\":\"%s\"}", name);
			break;
		case 1:
			out->body = fake_printf(&fv->arena,
			                        "{\"name\":\"%s\",\"done\":true,\"response\":{\"@type\":\"type.googleapis.com/"
			                        "google.ai.generativelanguage.v1beta.PredictLongRunningResponse\","
			                        "\"generateVideoResponse\":{\"generatedSamples\":[{\"video\":{\"uri\":"
			                        "\"%s/v1beta/files/%s:download?alt=media\"}}]}}}",
			                        name, lv_fake_url(f), j->id);
			break;
		default:
			if (!strcmp(fv->jobs.fail_code, "rai"))
				out->body = fake_printf(&fv->arena,
				                        "{\"name\":\"%s\",\"done\":true,\"response\":{\"generateVideoResponse\":"
				                        "{\"raiMediaFilteredCount\":1,\"raiMediaFilteredReasons\":[\"%s\"]}}}",
				                        name, fv->jobs.fail_message);
			else
				out->body = fake_printf(&fv->arena,
				                        "{\"name\":\"%s\",\"done\":true,\"error\":{\"code\":13,\"message\":\"%s\","
				                        "\"status\":\"%s\"}}",
				                        name, fv->jobs.fail_message, fv->jobs.fail_code);
		}
	}
	fake_jobs_unlock(&fv->jobs);
}

static void file_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_veo *fv = ctx;
	char id[64];
	const char *p = req->path + strlen("/v1beta/files/"), *e = strstr(p, ":download");
	int refused;
	(void)f;
	fake_jobs_lock(&fv->jobs);
	refused = key_refused(fv, req, out);
	fake_jobs_unlock(&fv->jobs);
	if (refused)
		return;
	snprintf(id, sizeof(id), "%.*s", e ? (int)(e - p) : 0, p);
	fake_jobs_serve_clip(&fv->jobs, &fv->arena, id, out);
}

fake_veo *fake_veo_start(const char *clip_dir)
{
	fake_veo *fv = lv_calloc(1, sizeof(*fv));
	ck_assert_ptr_nonnull(fv);
	fake_jobs_init(&fv->jobs, clip_dir);
	fake_arena_init(&fv->arena);
	fv->f = lv_fake_start();
	ck_assert_ptr_nonnull(fv->f);
	lv_fake_handle(fv->f, "POST", "/v1beta/models/*", post_h, fv);
	lv_fake_handle(fv->f, "GET", "/v1beta/models/*", get_h, fv);
	lv_fake_handle(fv->f, "GET", "/v1beta/files/*", file_h, fv);
	return fv;
}

void fake_veo_stop(fake_veo *fv)
{
	if (!fv)
		return;
	lv_fake_stop(fv->f);
	fake_jobs_destroy(&fv->jobs);
	fake_arena_free(&fv->arena);
	free(fv);
}

lv_fake *fake_veo_server(const fake_veo *fv)
{
	return fv->f;
}

const char *fake_veo_url(const fake_veo *fv)
{
	return lv_fake_url(fv->f);
}
