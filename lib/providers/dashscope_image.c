/*
 * The `dashscope-image` provider: the characters' anchor pictures from Wan or Qwen-Image text-to-image on
 * Alibaba Cloud Model Studio, through DashScope's asynchronous image-synthesis API.
 *
 *   submit  POST {base_url}/api/v1/services/aigc/text2image/image-synthesis  (X-DashScope-Async: enable)
 *           {"model", "input": {"prompt", "negative_prompt"}, "parameters": {"size": "1024*1024", "n": 1,
 *            "seed", "watermark"}} -> output.task_id
 *   poll    GET  {base_url}/api/v1/tasks/{task_id} -> SUCCEEDED with output.results[0].url (a PNG on object
 *           storage, valid 24 hours: fetched at once, without the key) | FAILED (output.code, message)
 *
 * The anchor stage is one call: the task is polled inside it (every poll_interval_ms, for at most
 * max_wait_ms).  The picture is a portrait of the character in the film's style — a subject a video model
 * can film (HappyHorse r2v, Veo, ...) — stored as PNG.
 */
#include "providers/clip.h"
#include "providers/dashscope.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DSI_PATH "/api/v1/services/aigc/text2image/image-synthesis"

typedef struct dsi_provider {
	const lv_provider_conf *conf;
	char *base;
	const char *model, *size, *negative;
	int watermark;
	int64_t poll_ms, max_wait_ms;
} dsi_provider;

static const lv_ds_what image = { "anchor_failed", "image" };

static char *prompt_for(const lv_anchor_request *req)
{
	if (req->is_style_frame)
		return lv_asprintf("%s. %s", req->style ? req->style : "", req->description ? req->description : "");
	return lv_asprintf("A portrait of %s: %s Head and shoulders, facing the camera, even light, plain background. "
	                   "Style: %s",
	                   req->name ? req->name : "the character", req->description ? req->description : "",
	                   req->style ? req->style : "cinematic");
}

static char *submit_body(const dsi_provider *ip, const lv_anchor_request *req)
{
	cJSON *root = cJSON_CreateObject(), *in = NULL, *par = NULL;
	char *prompt = prompt_for(req), *text = NULL;
	int ok = root && prompt && cJSON_AddStringToObject(root, "model", ip->model) &&
	         (in = cJSON_AddObjectToObject(root, "input")) && cJSON_AddStringToObject(in, "prompt", prompt) &&
	         cJSON_AddStringToObject(in, "negative_prompt", ip->negative) &&
	         (par = cJSON_AddObjectToObject(root, "parameters")) && cJSON_AddStringToObject(par, "size", ip->size) &&
	         cJSON_AddNumberToObject(par, "n", 1) &&
	         cJSON_AddNumberToObject(par, "seed", (double)(req->seed & 0x7fffffffu)) &&
	         cJSON_AddBoolToObject(par, "watermark", ip->watermark);
	if (ok)
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	free(prompt);
	return text;
}

/* Submit; the task id into id. */
static int submit(const dsi_provider *ip, const lv_vh_call *c, const lv_call_ctx *ctx, const lv_anchor_request *req,
                  char *id, size_t cap, lv_provider_error *err)
{
	lv_http_request hr;
	lv_http_response resp;
	const char *headers[4], *tid;
	char *body = submit_body(ip, req), *url = lv_asprintf("%s" DSI_PATH, ip->base);
	cJSON *j = NULL;
	int rc;
	memset(&resp, 0, sizeof(resp));
	if (!body || !url) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		goto out;
	}
	headers[0] = c->auth;
	headers[1] = "Content-Type: application/json";
	headers[2] = "X-DashScope-Async: enable";
	headers[3] = NULL;
	lv_vh_request(&hr, c, "POST", url, headers, ctx->cancel);
	hr.body = body;
	hr.body_len = strlen(body);
	if ((rc = lv_vh_perform(c, &hr, 1, "submit", &resp, NULL, err))) {
		snprintf(err->code, sizeof(err->code), "%s", rc == LV_ECANCELED ? err->code : image.code);
		goto out;
	}
	if (resp.status < 200 || resp.status >= 300) {
		rc = lv_ds_http_error(err, c, &image, &resp, "submit", 1);
		goto out;
	}
	j = lv_vh_json(&resp);
	tid = lv_json_get_str(cJSON_GetObjectItemCaseSensitive(j, "output"), "task_id");
	if (!tid || !lv_vh_id_ok(tid) || strlen(tid) >= cap) {
		rc = lv_provider_fail(err, image.code, 0, "provider '%s' accepted the picture of '%s' but gave no task id",
		                      ip->conf->name, req->name ? req->name : req->id);
		goto out;
	}
	lv_strlcpy(id, tid, cap);
	rc = LV_OK;
out:
	cJSON_Delete(j);
	lv_http_response_free(&resp);
	free(body);
	free(url);
	return rc;
}

static int dsi_render(void *self, const lv_call_ctx *ctx, const lv_anchor_request *req, lv_provider_error *err)
{
	dsi_provider *ip = self;
	lv_vh_call c;
	char id[128], *tmp = NULL, *picture = NULL;
	int64_t until;
	int rc, w = 0, h = 0;
	if (lv_vh_call_begin(&c, ip->conf, err)) {
		snprintf(err->code, sizeof(err->code), "%s", image.code);
		return LV_EPROVIDER;
	}
	if ((rc = submit(ip, &c, ctx, req, id, sizeof(id), err)))
		goto out;
	LV_INFO("provider '%s': the picture of '%s' is task %s", ip->conf->name, req->id, id);
	for (until = lv_mono_ms() + ip->max_wait_ms;;) {
		cJSON *j = NULL;
		const cJSON *out;
		const char *status, *url;
		if ((rc = lv_vh_wait(ctx, ip->poll_ms)))
			goto out;
		if ((rc = lv_ds_get_task(ip->base, &c, ctx, &image, id, &j, err))) {
			if (err->retryable && lv_mono_ms() < until)
				continue;
			goto out;
		}
		out = cJSON_GetObjectItemCaseSensitive(j, "output");
		status = lv_json_get_str(out, "task_status");
		url = lv_vh_json_path(out, "results.0.url");
		if (!strcmp(status, "SUCCEEDED") && url && !strncmp(url, "http", 4)) {
			picture = lv_strdup(url);
			cJSON_Delete(j);
			break;
		}
		if (!strcmp(status, "FAILED") || !strcmp(status, "CANCELED") || !strcmp(status, "UNKNOWN") ||
		    !strcmp(status, "SUCCEEDED")) {
			const char *code = lv_json_get_str(out, "code") ? lv_json_get_str(out, "code")
			                                                 : lv_vh_json_path(out, "results.0.code");
			const char *msg = lv_json_get_str(out, "message") ? lv_json_get_str(out, "message")
			                                                   : lv_vh_json_path(out, "results.0.message");
			rc = lv_ds_error(err, &c, &image, 0, code ? code : status, msg, 0);
			cJSON_Delete(j);
			goto out;
		}
		cJSON_Delete(j);
		if (lv_mono_ms() >= until) {
			rc = lv_provider_fail(err, "provider_timeout", 0,
			                      "provider '%s' did not draw '%s' within %lld s (task %s); raise "
			                      "providers.%s.max_wait_ms",
			                      ip->conf->name, req->id, (long long)(ip->max_wait_ms / 1000), id, ip->conf->name);
			goto out;
		}
	}
	if (!picture || !(tmp = lv_asprintf("%s.download", req->out_png))) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		goto out;
	}
	/* Object storage with its own signature: the key does not go there. */
	if ((rc = lv_vh_fetch_file(ip->conf, ctx, picture, NULL, NULL, tmp, "image", image.code, -1, err)))
		goto out;
	if (lv_clip_image_to_png(tmp, req->out_png, &w, &h)) {
		rc = lv_provider_fail(err, image.code, 1, "provider '%s': the picture of '%s' cannot be used: %s",
		                      ip->conf->name, req->id, lv_error_last()->message);
		goto out;
	}
	LV_DEBUG("provider '%s': anchor %s is %dx%d", ip->conf->name, req->id, w, h);
	rc = LV_OK;
out:
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(picture);
	lv_vh_call_end(&c);
	return rc;
}

static const lv_anchor_ops anchor_ops = { LV_PROVIDER_ABI_VERSION, dsi_render };

static void dsi_destroy(void *self)
{
	dsi_provider *ip = self;
	if (!ip)
		return;
	free(ip->base);
	free(ip);
}

/* lvctl doctor --online: a task id that cannot exist, queried with the key (UNKNOWN with a valid key). */
static int dsi_ping(void *self, lv_provider_error *err)
{
	const dsi_provider *ip = self;
	return lv_ds_ping(ip->conf, ip->base, err);
}

int lv_provider_dashscope_image_create(lv_provider *p, const lv_provider_conf *conf);

int lv_provider_dashscope_image_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model", "size", "negative_prompt", "watermark", "poll_interval_ms",
		                            "max_wait_ms", NULL };
	dsi_provider *ip;
	int rc;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!conf->api_key_env)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.api_key_env: is required (the environment variable holding the "
		                    "DashScope key, e.g. \"DASHSCOPE_API_KEY\")",
		                    conf->name);
	if (!(ip = lv_calloc(1, sizeof(*ip))))
		return LV_ENOMEM;
	ip->conf = conf;
	if ((rc = lv_provider_conf_str(&ip->model, conf, "model", "wan2.2-t2i-flash")) ||
	    (rc = lv_provider_conf_str(&ip->size, conf, "size", "1024*1024")) ||
	    (rc = lv_provider_conf_str(&ip->negative, conf, "negative_prompt",
	                               "text, caption, letters, watermark, logo, frame, collage")) ||
	    (rc = lv_provider_conf_bool(&ip->watermark, conf, "watermark", 0)) ||
	    (rc = lv_provider_conf_int(&ip->poll_ms, conf, "poll_interval_ms", 3000, 50, 60000)) ||
	    (rc = lv_provider_conf_int(&ip->max_wait_ms, conf, "max_wait_ms", 300000, 1000, 3600000))) {
		dsi_destroy(ip);
		return rc;
	}
	if (!(ip->base = lv_vh_base(conf->base_url ? conf->base_url : LV_DS_DEFAULT_BASE))) {
		dsi_destroy(ip);
		return LV_ENOMEM;
	}
	p->self = ip;
	p->anchor = &anchor_ops;
	p->destroy = dsi_destroy;
	p->ping = dsi_ping;
	return LV_OK;
}
