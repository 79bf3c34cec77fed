/*
 * The `google-veo` provider: Veo 3.1 through the Gemini API's long-running operations.
 *
 *   submit  POST {base_url}/v1beta/models/{model}:predictLongRunning  (x-goog-api-key)
 *           {"instances": [{"prompt", "referenceImages": [{"image": {"bytesBase64Encoded", "mimeType"},
 *            "referenceType": "asset"}]}],
 *            "parameters": {"aspectRatio", "resolution", "durationSeconds", "negativePrompt"?}}
 *           -> {"name": "models/{model}/operations/{id}"}
 *   poll    GET  {base_url}/v1beta/{name} -> {"done": false} | {"done": true, "response":
 *           {"generateVideoResponse": {"generatedSamples": [{"video": {"uri"}}], "raiMediaFilteredCount",
 *           "raiMediaFilteredReasons"}}} | {"done": true, "error": {"code", "message", "status"}}
 *   fetch   GET  the sample's uri (a file of the Gemini API: the key goes with it on the API's own host only)
 *
 * Veo makes clips of 4, 6 or 8 seconds: the planner asks for those lengths and the composer trims a clip
 * to its shot.  Up to three reference images ("asset": a subject to keep) go with shots that show
 * characters.  Errors are {"error": {"code", "message", "status"}}.  The Gemini API offers no listing of
 * video operations, so a submit whose answer is lost fails the shot (never paid twice).
 */
#include "providers/video_http.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEO_DEFAULT_BASE "https://generativelanguage.googleapis.com"
#define VEO_DEFAULT_MODEL "veo-3.1-generate-preview"
#define VEO_AUTH "x-goog-api-key: "
#define VEO_MAX_REFS 3

typedef struct veo_provider {
	const lv_provider_conf *conf;
	char *base;
	const char *model;
	const char *person_generation; /* parameters.personGeneration, when set */
	int send_references;
	int64_t poll_ms, ref_budget;
} veo_provider;

/* ---- errors ----------------------------------------------------------------------------------------------------- */

static int veo_error(lv_provider_error *err, const lv_vh_call *c, long http, const cJSON *e, int is_submit)
{
	const char *name = c->conf->name, *status = lv_json_get_str(e, "status");
	char msg[200];
	lv_vh_summary(msg, sizeof(msg), lv_json_get_str(e, "message") ? lv_json_get_str(e, "message") : "no details",
	              c->key);
	if (!status)
		status = "error";
	if (http == 401 || http == 403 || !strcmp(status, "PERMISSION_DENIED") || !strcmp(status, "UNAUTHENTICATED") ||
	    strstr(msg, "API key"))
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s' refused the key (%s: %s); check $%s and that the Gemini API is enabled "
		                        "for its project",
		                        name, status, msg, c->conf->api_key_env);
	if (http == 429 || !strcmp(status, "RESOURCE_EXHAUSTED"))
		return lv_provider_fail(err, "segment_failed", 1, "provider '%s' is rate limiting (%s: %s); it will be tried again",
		                        name, status, msg);
	if (http >= 500 || !strcmp(status, "INTERNAL") || !strcmp(status, "UNAVAILABLE"))
		return lv_provider_fail(err, "segment_failed", !is_submit, "provider '%s' failed (%s: %s)%s", name, status, msg,
		                        is_submit ? "; it may have started the operation, so it is not sent again" : "");
	if (strstr(msg, "safety") || strstr(msg, "policy") || strstr(msg, "blocked"))
		return lv_provider_fail(err, "moderation_rejected", 0,
		                        "provider '%s' refused the shot's content (%s); rephrase the prompt", name, msg);
	if (http == 404 || !strcmp(status, "NOT_FOUND"))
		return lv_provider_fail(err, "segment_failed", 0, "provider '%s' does not know the model (%s); check providers.%s.model",
		                        name, msg, name);
	return lv_provider_fail(err, "segment_failed", 0, "provider '%s' rejected the request (%s: %s); check providers.%s",
	                        name, status, msg, name);
}

static int http_error(lv_provider_error *err, const lv_vh_call *c, const lv_http_response *resp, int is_submit)
{
	cJSON *j = lv_vh_json(resp);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	int rc;
	LV_WARN("provider '%s': HTTP %ld %s", c->conf->name, resp->status,
	        lv_json_get_str(e, "status") ? lv_json_get_str(e, "status") : "");
	rc = veo_error(err, c, resp->status, cJSON_IsObject(e) ? e : NULL, is_submit);
	cJSON_Delete(j);
	return rc;
}

/* ---- submit -------------------------------------------------------------------------------------------------------- */

/* referenceImages from data URLs ("data:<mime>;base64,<data>"). */
static int add_references(cJSON *inst, char **urls, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(inst, "referenceImages");
	size_t i;
	if (!arr)
		return 0;
	for (i = 0; i < n; i++) {
		const char *semi = strchr(urls[i], ';'), *comma = strchr(urls[i], ',');
		cJSON *ref = cJSON_CreateObject(), *img = NULL;
		char mime[32];
		if (!semi || !comma || semi - urls[i] <= 5 || (size_t)(semi - urls[i] - 5) >= sizeof(mime)) {
			cJSON_Delete(ref);
			return 0;
		}
		snprintf(mime, sizeof(mime), "%.*s", (int)(semi - urls[i] - 5), urls[i] + 5);
		if (!ref || !cJSON_AddItemToArray(arr, ref)) {
			cJSON_Delete(ref);
			return 0;
		}
		if (!(img = cJSON_AddObjectToObject(ref, "image")) ||
		    !cJSON_AddStringToObject(img, "bytesBase64Encoded", comma + 1) ||
		    !cJSON_AddStringToObject(img, "mimeType", mime) || !cJSON_AddStringToObject(ref, "referenceType", "asset"))
			return 0;
	}
	return 1;
}

static char *submit_body(const veo_provider *vp, const lv_segment_job *job, char **refs, size_t n_refs)
{
	cJSON *root = cJSON_CreateObject(), *insts = NULL, *inst = NULL, *par = NULL;
	char *text = NULL;
	int ok = root && (insts = cJSON_AddArrayToObject(root, "instances")) && (inst = cJSON_CreateObject()) &&
	         cJSON_AddItemToArray(insts, inst) && cJSON_AddStringToObject(inst, "prompt", job->prompt ? job->prompt : "");
	if (ok && n_refs > 0)
		ok = add_references(inst, refs, n_refs);
	ok = ok && (par = cJSON_AddObjectToObject(root, "parameters")) &&
	     cJSON_AddStringToObject(par, "aspectRatio", job->aspect_ratio ? job->aspect_ratio : "16:9") &&
	     cJSON_AddStringToObject(par, "resolution", job->resolution ? job->resolution : "720p") &&
	     cJSON_AddNumberToObject(par, "durationSeconds", job->seconds);
	if (ok && job->negative_prompt && *job->negative_prompt)
		ok = cJSON_AddStringToObject(par, "negativePrompt", job->negative_prompt) != NULL;
	if (ok && vp->person_generation)
		ok = cJSON_AddStringToObject(par, "personGeneration", vp->person_generation) != NULL;
	if (ok)
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

static int veo_submit(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                      lv_provider_error *err)
{
	veo_provider *vp = self;
	lv_vh_call c;
	lv_http_request req;
	lv_http_response resp;
	const char *headers[3], *name;
	char **refs = NULL, *body = NULL, *url = NULL;
	size_t n_refs = 0;
	cJSON *j = NULL;
	int rc, attempts = 0;
	memset(&resp, 0, sizeof(resp));
	if (lv_vh_call_begin_as(&c, vp->conf, VEO_AUTH, err))
		return LV_EPROVIDER;
	if (vp->send_references &&
	    (rc = lv_vh_refs(&refs, &n_refs, job, LV_VH_REF_BASE64, VEO_MAX_REFS, (size_t)vp->ref_budget, vp->conf->name, err)))
		goto out;
	if (!(body = submit_body(vp, job, refs, n_refs)) ||
	    !(url = lv_asprintf("%s/v1beta/models/%s:predictLongRunning", vp->base, vp->model))) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		goto out;
	}
	headers[0] = c.auth;
	headers[1] = "Content-Type: application/json";
	headers[2] = NULL;
	lv_vh_request(&req, &c, "POST", url, headers, ctx->cancel);
	req.body = body;
	req.body_len = strlen(body);
	if ((rc = lv_vh_perform(&c, &req, 1, "submit", &resp, &attempts, err)))
		goto out;
	if (resp.status < 200 || resp.status >= 300) {
		rc = http_error(err, &c, &resp, 1);
		goto out;
	}
	j = lv_vh_json(&resp);
	name = lv_json_get_str(j, "name");
	if (!name || !lv_vh_path_ok(name)) {
		rc = lv_vh_job_id(st, NULL, "operation", vp->conf, job->index, err);
		goto out;
	}
	if (!(st->job_id = lv_strdup(name))) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		goto out;
	}
	st->state = LV_JOB_PENDING;
	st->poll_after_ms = vp->poll_ms;
	LV_INFO("provider '%s': shot %d of task %s started %s (%d s, %s, %zu reference%s)", vp->conf->name, job->index,
	        job->task_id, name, job->seconds, job->resolution ? job->resolution : "720p", n_refs,
	        n_refs == 1 ? "" : "s");
	rc = LV_OK;
out:
	cJSON_Delete(j);
	lv_vh_refs_free(refs, n_refs);
	lv_http_response_free(&resp);
	free(body);
	free(url);
	lv_vh_call_end(&c);
	return rc;
}

/* ---- poll, fetch ----------------------------------------------------------------------------------------------------- */

static int veo_poll(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                    lv_provider_error *err)
{
	veo_provider *vp = self;
	lv_vh_call c;
	char *url = NULL;
	cJSON *j = NULL, *s = NULL;
	const cJSON *done, *e, *gen;
	const char *uri;
	int rc;
	if (!job->job_id || !lv_vh_path_ok(job->job_id))
		return lv_provider_fail(err, "internal_error", 0, "provider '%s': the stored job id is not an operation name",
		                        vp->conf->name);
	if (lv_vh_call_begin_as(&c, vp->conf, VEO_AUTH, err))
		return LV_EPROVIDER;
	url = lv_asprintf("%s/v1beta/%s", vp->base, job->job_id);
	if ((rc = lv_vh_get_json(&c, ctx, url, http_error, &j, err)))
		goto out;
	done = cJSON_GetObjectItemCaseSensitive(j, "done");
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	gen = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "response"), "generateVideoResponse");
	st->poll_after_ms = vp->poll_ms;
	if (!j || !lv_json_get_str(j, "name")) {
		rc = lv_provider_fail(err, "segment_failed", 1, "provider '%s' answered a status check with something that is "
		                                                "not an operation; will ask again",
		                      vp->conf->name);
	} else if (!cJSON_IsTrue(done)) {
		st->state = LV_JOB_RUNNING;
	} else if (cJSON_IsObject(e)) {
		st->state = LV_JOB_FAILED;
		rc = veo_error(err, &c, 0, e, 0);
		if (!strcmp(err->code, "segment_failed") && !err->retryable)
			err->retryable = lv_json_get_str(e, "status") && !strcmp(lv_json_get_str(e, "status"), "DEADLINE_EXCEEDED");
	} else if ((uri = lv_vh_json_path(gen, "generatedSamples.0.video.uri")) != NULL && !strncmp(uri, "http", 4)) {
		if (!(s = cJSON_CreateObject()) || !cJSON_AddStringToObject(s, "video_url", uri) ||
		    !(st->job_state = cJSON_PrintUnformatted(s)))
			rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		else
			st->state = LV_JOB_SUCCEEDED;
	} else {
		const cJSON *filtered = cJSON_GetObjectItemCaseSensitive(gen, "raiMediaFilteredCount");
		const cJSON *reason =
		        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(gen, "raiMediaFilteredReasons"), 0);
		const char *why = cJSON_IsString(reason) ? reason->valuestring : NULL;
		char msg[200];
		st->state = LV_JOB_FAILED;
		lv_vh_summary(msg, sizeof(msg), why ? why : "no reason given", c.key);
		if (cJSON_IsNumber(filtered) && filtered->valueint > 0)
			rc = lv_provider_fail(err, "moderation_rejected", 0,
			                      "provider '%s' filtered the shot's video for safety (%s); rephrase the prompt",
			                      vp->conf->name, msg);
		else
			rc = lv_provider_fail(err, "segment_failed", 1, "provider '%s' finished the shot without a video",
			                      vp->conf->name);
	}
out:
	cJSON_Delete(s);
	cJSON_Delete(j);
	free(url);
	lv_vh_call_end(&c);
	return rc;
}

static int veo_fetch(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
                     lv_provider_error *err)
{
	/* Files the API serves get the key; a delivery CDN's URLs do not, and it does not go there. */
	const veo_provider *vp = self;
	return lv_vh_fetch_state_clip(vp->conf, VEO_AUTH, vp->base, ctx, job, out_path, err);
}

/* ---- construction ------------------------------------------------------------------------------------------------------ */

/* The Gemini API cannot stop a video operation: a canceled task's operation runs out and is abandoned. */
static const lv_video_ops video_ops = { LV_PROVIDER_ABI_VERSION, 0, veo_submit, veo_poll, veo_fetch, NULL };

static void veo_destroy(void *self)
{
	veo_provider *vp = self;
	if (!vp)
		return;
	free(vp->base);
	free(vp);
}

/* lvctl doctor --online: read the model's description with the key. */
static int veo_ping(void *self, lv_provider_error *err)
{
	const veo_provider *vp = self;
	char *url = lv_asprintf("%s/v1beta/models/%s", vp->base, vp->model);
	int rc = url ? lv_vh_ping_as(vp->conf, VEO_AUTH, url, err) : lv_error_nomem();
	free(url);
	return rc;
}

int lv_provider_google_veo_create(lv_provider *p, const lv_provider_conf *conf);

int lv_provider_google_veo_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model",         "person_generation", "reference_images", "poll_interval_ms",
		                            "reference_budget_kb", NULL };
	veo_provider *vp;
	int rc;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!conf->api_key_env)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.api_key_env: is required (the environment variable holding the "
		                    "Gemini API key, e.g. \"GEMINI_API_KEY\")",
		                    conf->name);
	if (!(vp = lv_calloc(1, sizeof(*vp))))
		return LV_ENOMEM;
	vp->conf = conf;
	if ((rc = lv_provider_conf_str(&vp->model, conf, "model", VEO_DEFAULT_MODEL)) ||
	    (rc = lv_provider_conf_str(&vp->person_generation, conf, "person_generation", NULL)) ||
	    (rc = lv_provider_conf_bool(&vp->send_references, conf, "reference_images", 1)) ||
	    (rc = lv_provider_conf_int(&vp->poll_ms, conf, "poll_interval_ms", 10000, 100, 600000)) ||
	    (rc = lv_provider_conf_int(&vp->ref_budget, conf, "reference_budget_kb", 4096, 64, 20480))) {
		veo_destroy(vp);
		return rc;
	}
	if (!lv_vh_id_ok(vp->model)) {
		veo_destroy(vp);
		return lv_error_set(LV_ECONFIG, "config: providers.%s.model: must be a model id such as \"%s\"", conf->name,
		                    VEO_DEFAULT_MODEL);
	}
	vp->ref_budget *= 1024;
	if (!(vp->base = lv_vh_base(conf->base_url ? conf->base_url : VEO_DEFAULT_BASE))) {
		veo_destroy(vp);
		return LV_ENOMEM;
	}
	p->self = vp;
	p->video = &video_ops;
	p->destroy = veo_destroy;
	p->ping = veo_ping;
	return LV_OK;
}
