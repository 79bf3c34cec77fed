/*
 * The `fal-queue` provider: any video model on fal.ai through its queue API.
 *
 *   submit  POST {base_url}/{model}   (Authorization: Key <key>; the body is the model's input)
 *           -> {"request_id", "status_url", "response_url", "cancel_url", "queue_position"?}
 *   poll    GET  status_url -> {"status": "IN_QUEUE" (with queue_position) | "IN_PROGRESS" | "COMPLETED"}
 *           (a COMPLETED request that failed carries "error" / "error_type")
 *   result  GET  response_url -> the model's output ({"video": {"url": ...}} for video models), or an error
 *           status with {"detail": ...}
 *   fetch   GET  the video URL (fal's media CDN: no key)
 *   cancel  PUT  cancel_url (only requests still in the queue stop)
 *   list    GET  {api_url}/v1/models/requests/by-endpoint?endpoint_id={model}&start=&expand=payloads
 *           -> {"items": [{"request_id", "endpoint_id", "sent_at", "json_input", ...}], "has_more"}
 *
 * The model's input is built from the shot by the block's `fields` (lv_vh_input); reference images go as
 * data URLs in the fields the model names (`image` for a first frame, `images` for a list).  A submit whose
 * answer is lost is looked up in the request list by its input's prompt and adopted when found; the list is
 * ordered by end time and may not show requests still queued, so an empty list does not prove there is no
 * request: the shot then fails as before (never paid twice).
 */
#include "providers/video_http.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAL_DEFAULT_BASE "https://queue.fal.run"
#define FAL_DEFAULT_API "https://api.fal.ai"

typedef struct fal_provider {
	const lv_provider_conf *conf;
	char *base, *api;
	const char *model;       /* endpoint id, e.g. "fal-ai/kling-video/v2.1/master/text-to-video" */
	const char *model_refs;  /* the endpoint for shots with reference images (NULL: model) */
	const char *video_path;  /* where the clip's URL is in the output ("video.url") */
	char app[256];           /* "owner/name": the part of the endpoint id status and result URLs use */
	lv_vh_input in;
	lv_vh_known known;       /* request ids given to shots */
	int64_t poll_ms, max_refs, ref_budget, recover_checks, recover_delay_ms;
	int ref_mode;               /* LV_VH_REF_* */
} fal_provider;

#define FAL_AUTH "Authorization: Key "

/* ---- errors ---------------------------------------------------------------------------------------------------- */

/* {"detail": "..."} or {"detail": [{"loc", "msg", "type"}]}: the first message. */
static const char *detail_of(const cJSON *j)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "detail");
	if (cJSON_IsString(d))
		return d->valuestring;
	if (cJSON_IsArray(d))
		return lv_json_get_str(cJSON_GetArrayItem(d, 0), "msg");
	return lv_json_get_str(j, "error");
}

static int fal_error(lv_provider_error *err, const lv_vh_call *c, long status, const char *detail, int is_submit)
{
	const char *name = c->conf->name;
	char msg[200];
	lv_vh_summary(msg, sizeof(msg), detail ? detail : "no details", c->key);
	if (status == 401 || status == 403)
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s' refused the key (HTTP %ld: %s); check $%s (fal keys are sent as "
		                        "\"Authorization: Key ...\")",
		                        name, status, msg, c->conf->api_key_env);
	if (status == 404)
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s' does not know the endpoint (HTTP 404: %s); check providers.%s.model",
		                        name, msg, name);
	if (status == 429)
		return lv_provider_fail(err, "segment_failed", 1, "provider '%s' is rate limiting (%s); it will be tried again",
		                        name, msg);
	if (status >= 500)
		return lv_provider_fail(err, "segment_failed", !is_submit, "provider '%s' failed (HTTP %ld: %s)%s", name, status,
		                        msg, is_submit ? "; it may have queued the request, so it is not sent again" : "");
	if (detail && (strstr(detail, "content") || strstr(detail, "safety") || strstr(detail, "NSFW")))
		return lv_provider_fail(err, "moderation_rejected", 0,
		                        "provider '%s' refused the shot's content (%s); rephrase the prompt", name, msg);
	return lv_provider_fail(err, "segment_failed", 0,
	                        "provider '%s' rejected the request (HTTP %ld: %s); check providers.%s.fields and "
	                        "extra_input against the model's input schema",
	                        name, status, msg, name);
}

static int http_error(lv_provider_error *err, const lv_vh_call *c, const lv_http_response *resp, int is_submit)
{
	cJSON *j = lv_vh_json(resp);
	char rid[128];
	int rc;
	LV_WARN("provider '%s': HTTP %ld (x-fal-request-id %s)", c->conf->name, resp->status,
	        lv_http_header(resp, "x-fal-request-id", rid, sizeof(rid)) ? rid : "none");
	rc = fal_error(err, c, resp->status, detail_of(j), is_submit);
	cJSON_Delete(j);
	return rc;
}

/* ---- submit ---------------------------------------------------------------------------------------------------- */

/* The job's state: the three URLs the queue gave (kept only when on the queue's own host). */
static char *state_of(const fal_provider *fp, const cJSON *answer, const char *id, const char *endpoint)
{
	cJSON *s = cJSON_CreateObject();
	static const char *const keys[] = { "status_url", "response_url", "cancel_url" };
	char *text = NULL;
	size_t i;
	int ok = s && cJSON_AddStringToObject(s, "endpoint", endpoint);
	for (i = 0; ok && i < 3; i++) {
		const char *u = lv_json_get_str(answer, keys[i]);
		if (u && lv_vh_same_host(u, fp->base))
			ok = cJSON_AddStringToObject(s, keys[i], u) != NULL;
	}
	(void)id;
	if (ok)
		text = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	return text;
}

/* Find the request of a lost submit in the request list; LV_OK with st filled when found. */
static int recover(fal_provider *fp, const lv_vh_call *c, const lv_call_ctx *ctx, const char *endpoint,
                   const char *prompt, int64_t since, lv_job_status *st)
{
	int look;
	char from[32];
	lv_vh_iso_time(from, sizeof(from), since - 60000);
	for (look = 0; look < fp->recover_checks; look++) {
		lv_http_response resp;
		lv_provider_error e;
		cJSON *j = NULL;
		const cJSON *it;
		char *url;
		int rc;
		if (lv_vh_wait(ctx, fp->recover_delay_ms))
			return LV_ECANCELED;
		if (!(url = lv_asprintf("%s/v1/models/requests/by-endpoint?endpoint_id=%s&start=%s&expand=payloads&limit=100",
		                        fp->api, endpoint, from)))
			return LV_ENOMEM;
		memset(&resp, 0, sizeof(resp));
		rc = lv_vh_status_get(c, ctx, url, &resp, &e);
		free(url);
		if (rc || resp.status < 200 || resp.status >= 300 || !(j = lv_vh_json(&resp))) {
			LV_WARN("provider '%s': the request list could not be read", fp->conf->name);
			lv_http_response_free(&resp);
			cJSON_Delete(j);
			return LV_EPROVIDER;
		}
		lv_http_response_free(&resp);
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "items"))
		{
			const char *id = lv_json_get_str(it, "request_id");
			const cJSON *in = cJSON_GetObjectItemCaseSensitive(it, "json_input");
			const char *p = lv_json_get_str(in, fp->in.field[LV_VH_IN_PROMPT]);
			if (id && lv_vh_id_ok(id) && p && !strcmp(p, prompt) && !lv_vh_known_has(&fp->known, id)) {
				cJSON *s = cJSON_CreateObject();
				if (!(st->job_id = lv_strdup(id)) || !s || !cJSON_AddStringToObject(s, "endpoint", endpoint) ||
				    !(st->job_state = cJSON_PrintUnformatted(s))) {
					cJSON_Delete(s);
					cJSON_Delete(j);
					return LV_ENOMEM;
				}
				lv_vh_known_add(&fp->known, id); /* before j, which holds id, is freed */
				cJSON_Delete(s);
				cJSON_Delete(j);
				st->state = LV_JOB_PENDING;
				st->poll_after_ms = fp->poll_ms;
				LV_WARN("provider '%s': the answer to a submit was lost; found its request %s in the list",
				        fp->conf->name, st->job_id);
				return LV_OK;
			}
		}
		cJSON_Delete(j);
	}
	return LV_EPROVIDER;
}

static int fal_submit(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                      lv_provider_error *err)
{
	fal_provider *fp = self;
	lv_vh_call c;
	lv_http_request req;
	lv_http_response resp;
	const char *headers[3], *id, *endpoint = job->n_references > 0 && fp->model_refs ? fp->model_refs : fp->model;
	char **refs = NULL, *body = NULL, *url = NULL;
	size_t n_refs = 0;
	cJSON *input = NULL, *j = NULL;
	int rc, attempts = 0, ambiguous = 0;
	int64_t since = lv_now_ms();
	memset(&resp, 0, sizeof(resp));
	if (lv_vh_call_begin_as(&c, fp->conf, FAL_AUTH, err))
		return LV_EPROVIDER;
	if (fp->in.field[LV_VH_IN_IMAGE] || fp->in.field[LV_VH_IN_IMAGES]) {
		if ((rc = lv_vh_refs(&refs, &n_refs, job, fp->ref_mode, (size_t)fp->max_refs, (size_t)fp->ref_budget, fp->conf->name, err)))
			goto out;
	}
	if (!(input = lv_vh_input_build(&fp->in, job, (const char *const *)refs, n_refs)) ||
	    !(body = cJSON_PrintUnformatted(input)) || !(url = lv_asprintf("%s/%s", fp->base, endpoint))) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		goto out;
	}
	headers[0] = c.auth;
	headers[1] = "Content-Type: application/json";
	headers[2] = NULL;
	lv_vh_request(&req, &c, "POST", url, headers, ctx->cancel);
	req.body = body;
	req.body_len = strlen(body);
	if ((rc = lv_vh_perform(&c, &req, 1, "submit", &resp, &attempts, err))) {
		ambiguous = rc != LV_ECANCELED && resp.sent && !err->retryable;
		goto out;
	}
	if (resp.status < 200 || resp.status >= 300) {
		rc = http_error(err, &c, &resp, 1);
		ambiguous = resp.status >= 500;
		goto out;
	}
	j = lv_vh_json(&resp);
	id = lv_json_get_str(j, "request_id");
	if ((rc = lv_vh_job_id(st, id, "request", fp->conf, job->index, err))) {
		ambiguous = 1;
		goto out;
	}
	if (!(st->job_state = state_of(fp, j, id, endpoint))) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		goto out;
	}
	lv_vh_known_add(&fp->known, id);
	st->state = LV_JOB_PENDING;
	st->poll_after_ms = fp->poll_ms;
	LV_INFO("provider '%s': shot %d of task %s queued at %s as %s (%zu reference%s, %d attempt%s)", fp->conf->name,
	        job->index, job->task_id, endpoint, id, n_refs, n_refs == 1 ? "" : "s", attempts, attempts == 1 ? "" : "s");
	rc = LV_OK;
out:
	if (rc == LV_EPROVIDER && ambiguous && fp->recover_checks > 0) {
		free(st->job_id);
		st->job_id = NULL;
		if (recover(fp, &c, ctx, endpoint, job->prompt ? job->prompt : "", since, st) == LV_OK)
			rc = LV_OK;
	}
	cJSON_Delete(j);
	cJSON_Delete(input);
	lv_vh_refs_free(refs, n_refs);
	lv_http_response_free(&resp);
	free(body);
	free(url);
	lv_vh_call_end(&c);
	return rc;
}

/* ---- poll and fetch -------------------------------------------------------------------------------------------------- */

/* A URL of the job: the one the queue gave, else {base}/{app}/requests/{id}{suffix}. */
static char *job_url(const fal_provider *fp, const lv_segment_job *job, const char *key, const char *suffix)
{
	cJSON *s = job->job_state ? cJSON_Parse(job->job_state) : NULL;
	const char *u = lv_json_get_str(s, key);
	char *out = u && lv_vh_same_host(u, fp->base) ? lv_strdup(u)
	                                              : lv_asprintf("%s/%s/requests/%s%s", fp->base, fp->app, job->job_id,
	                                                            suffix);
	cJSON_Delete(s);
	return out;
}

/* GET the result; the clip's URL into *video (caller frees) or err (*failed: the request itself failed, as the
 * result's error status says). */
static int get_result(fal_provider *fp, const lv_vh_call *c, const lv_call_ctx *ctx, const lv_segment_job *job,
                      char **video, int *failed, lv_provider_error *err)
{
	lv_http_response resp;
	char *url = job_url(fp, job, "response_url", "");
	cJSON *j = NULL;
	const char *v;
	int rc;
	*video = NULL;
	*failed = 0;
	if (!url)
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	rc = lv_vh_status_get(c, ctx, url, &resp, err);
	free(url);
	if (rc == LV_OK && (resp.status < 200 || resp.status >= 300)) {
		rc = http_error(err, c, &resp, 0);
		/* The request failed: a model error (5xx) may pass with a new request, an input it refuses will not. */
		*failed = resp.status != 429 && resp.status != 408 && resp.status != 401 && resp.status != 403;
	} else if (rc == LV_OK && (!(j = lv_vh_json(&resp)) || !(v = lv_vh_json_path(j, fp->video_path)) ||
	                           strncmp(v, "http", 4) != 0)) {
		rc = lv_provider_fail(err, "segment_failed", 1, "provider '%s': the result of shot %d has no %s URL",
		                      fp->conf->name, job->index, fp->video_path);
	} else if (rc == LV_OK && !(*video = lv_strdup(v))) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
	}
	cJSON_Delete(j);
	lv_http_response_free(&resp);
	return rc;
}

static int fal_poll(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                    lv_provider_error *err)
{
	fal_provider *fp = self;
	lv_vh_call c;
	char *url = NULL, *video = NULL;
	cJSON *j = NULL, *s = NULL;
	const char *status, *e;
	int rc;
	if (!job->job_id || !lv_vh_id_ok(job->job_id))
		return lv_provider_fail(err, "internal_error", 0, "provider '%s': the stored job id is not a request id",
		                        fp->conf->name);
	if (lv_vh_call_begin_as(&c, fp->conf, FAL_AUTH, err))
		return LV_EPROVIDER;
	url = job_url(fp, job, "status_url", "/status");
	if ((rc = lv_vh_get_json(&c, ctx, url, http_error, &j, err)))
		goto out;
	status = lv_json_get_str(j, "status");
	st->poll_after_ms = fp->poll_ms;
	if (!status) {
		rc = lv_provider_fail(err, "segment_failed", 1, "provider '%s' answered a status check with no status",
		                      fp->conf->name);
	} else if (!strcmp(status, "IN_QUEUE")) {
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "queue_position");
		st->state = LV_JOB_PENDING;
		if (cJSON_IsNumber(q))
			LV_DEBUG("provider '%s': %s at queue position %d", fp->conf->name, job->job_id, q->valueint);
	} else if (!strcmp(status, "IN_PROGRESS")) {
		st->state = LV_JOB_RUNNING;
	} else if (!strcmp(status, "COMPLETED") && (e = lv_json_get_str(j, "error")) != NULL) {
		st->state = LV_JOB_FAILED;
		rc = fal_error(err, &c, 0, e, 0);
		err->retryable = !(lv_json_get_str(j, "error_type") && strstr(lv_json_get_str(j, "error_type"), "validation"));
	} else if (!strcmp(status, "COMPLETED")) {
		int failed = 0;
		if ((rc = get_result(fp, &c, ctx, job, &video, &failed, err))) {
			if (failed)
				st->state = LV_JOB_FAILED;
			goto out;
		}
		if (!(s = job->job_state ? cJSON_Parse(job->job_state) : cJSON_CreateObject()))
			s = cJSON_CreateObject();
		cJSON_DeleteItemFromObjectCaseSensitive(s, "video_url");
		if (!s || !cJSON_AddStringToObject(s, "video_url", video) || !(st->job_state = cJSON_PrintUnformatted(s))) {
			rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
			goto out;
		}
		st->state = LV_JOB_SUCCEEDED;
	} else {
		st->state = LV_JOB_RUNNING;
		LV_WARN("provider '%s': request %s has an unexpected status; asking again later", fp->conf->name, job->job_id);
	}
out:
	cJSON_Delete(s);
	cJSON_Delete(j);
	free(video);
	free(url);
	lv_vh_call_end(&c);
	return rc;
}

static int fal_fetch(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
                     lv_provider_error *err)
{
	fal_provider *fp = self;
	cJSON *s = job->job_state ? cJSON_Parse(job->job_state) : NULL;
	const char *u = lv_json_get_str(s, "video_url");
	char *video = NULL;
	int rc;
	if (!u) { /* resumed without it: ask for the result again */
		lv_vh_call c;
		int failed = 0;
		rc = lv_vh_call_begin_as(&c, fp->conf, FAL_AUTH, err) ? LV_EPROVIDER
		                                                      : get_result(fp, &c, ctx, job, &video, &failed, err);
		lv_vh_call_end(&c);
		if (rc) {
			cJSON_Delete(s);
			return rc;
		}
		u = video;
	}
	/* fal's media CDN: the key does not go there. */
	rc = lv_vh_download(fp->conf, ctx, u, NULL, NULL, out_path, job->index, err);
	free(video);
	cJSON_Delete(s);
	return rc;
}

static int fal_cancel(void *self, const lv_call_ctx *ctx, const lv_segment_job *job)
{
	fal_provider *fp = self;
	char *url;
	int rc;
	(void)ctx; /* the task's cancel flag is set: this request must not be aborted by it */
	if (!job->job_id || !lv_vh_id_ok(job->job_id))
		return LV_EPROVIDER;
	url = job_url(fp, job, "cancel_url", "/cancel");
	rc = lv_vh_cancel(fp->conf, FAL_AUTH, "PUT", url, job);
	free(url);
	return rc;
}

/* ---- construction ----------------------------------------------------------------------------------------------------- */

static const lv_video_ops video_ops = { LV_PROVIDER_ABI_VERSION, 0, fal_submit, fal_poll, fal_fetch, fal_cancel };

static void fal_destroy(void *self)
{
	fal_provider *fp = self;
	if (!fp)
		return;
	free(fp->base);
	free(fp->api);
	lv_vh_input_free(&fp->in);
	lv_vh_known_destroy(&fp->known);
	free(fp);
}

/* lvctl doctor --online: one authenticated read of the model's request list. */
static int fal_ping(void *self, lv_provider_error *err)
{
	const fal_provider *fp = self;
	char *url = lv_asprintf("%s/v1/models/requests/by-endpoint?endpoint_id=%s&limit=1", fp->api, fp->model);
	int rc = url ? lv_vh_ping_as(fp->conf, FAL_AUTH, url, err) : lv_error_nomem();
	free(url);
	return rc;
}

int lv_provider_fal_queue_create(lv_provider *p, const lv_provider_conf *conf);

int lv_provider_fal_queue_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model",        "model_references", "api_url",          "video_path",
		                            "fields",       "duration_format",  "resolution_format", "extra_input",
		                            "poll_interval_ms", "max_references", "reference_budget_kb", "recover_checks",
		                            "recover_delay_ms", "reference_delivery", NULL };
	static const char *const defaults[LV_VH_IN_COUNT] = { "prompt", "duration", "aspect_ratio", NULL, "seed",
		                                                "negative_prompt", NULL, NULL };
	const char *api = NULL, *slash;
	fal_provider *fp;
	int rc;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!conf->api_key_env)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.api_key_env: is required (the environment variable holding the fal "
		                    "key, e.g. \"FAL_KEY\")",
		                    conf->name);
	if (!(fp = lv_calloc(1, sizeof(*fp))))
		return LV_ENOMEM;
	lv_vh_known_init(&fp->known);
	fp->conf = conf;
	if ((rc = lv_provider_conf_str(&fp->model, conf, "model", NULL)) ||
	    (rc = lv_provider_conf_str(&fp->model_refs, conf, "model_references", NULL)) ||
	    (rc = lv_provider_conf_str(&fp->video_path, conf, "video_path", "video.url")) ||
	    (rc = lv_provider_conf_str(&api, conf, "api_url", FAL_DEFAULT_API)) ||
	    (rc = lv_provider_conf_int(&fp->poll_ms, conf, "poll_interval_ms", 5000, 100, 600000)) ||
	    (rc = lv_provider_conf_int(&fp->max_refs, conf, "max_references", 4, 1, 16)) ||
	    (rc = lv_provider_conf_int(&fp->ref_budget, conf, "reference_budget_kb", 4096, 64, 20480)) ||
	    (rc = lv_provider_conf_int(&fp->recover_checks, conf, "recover_checks", 3, 0, 10)) ||
	    (rc = lv_provider_conf_int(&fp->recover_delay_ms, conf, "recover_delay_ms", 2000, 0, 30000)) ||
	    (rc = lv_vh_ref_mode_conf(&fp->ref_mode, conf)) || (rc = lv_vh_input_parse(&fp->in, conf, defaults))) {
		fal_destroy(fp);
		return rc;
	}
	if (!fp->model || !lv_vh_path_ok(fp->model) || (fp->model_refs && !lv_vh_path_ok(fp->model_refs))) {
		fal_destroy(fp);
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.model: is required: the fal endpoint id, e.g. "
		                    "\"fal-ai/kling-video/v2.1/master/text-to-video\"",
		                    conf->name);
	}
	/* Status and result URLs use the app ("owner/name") without the endpoint's subpath. */
	slash = strchr(fp->model, '/');
	slash = slash ? strchr(slash + 1, '/') : NULL;
	snprintf(fp->app, sizeof(fp->app), "%.*s", slash ? (int)(slash - fp->model) : (int)strlen(fp->model), fp->model);
	fp->ref_budget *= 1024;
	if (!(fp->base = lv_vh_base(conf->base_url ? conf->base_url : FAL_DEFAULT_BASE)) || !(fp->api = lv_vh_base(api))) {
		fal_destroy(fp);
		return LV_ENOMEM;
	}
	p->self = fp;
	p->video = &video_ops;
	p->destroy = fal_destroy;
	p->ping = fal_ping;
	return LV_OK;
}
