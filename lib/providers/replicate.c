/*
 * The `replicate` provider: any video model on Replicate through its predictions API.
 *
 *   submit  POST {base_url}/v1/predictions  (Authorization: Bearer; no "Prefer: wait": clips take minutes)
 *           {"version": "<owner/name or owner/name:version or version id>", "input": {...}}
 *           -> 201 {"id", "status": "starting", "urls": {"get", "cancel"}, ...}
 *   poll    GET  {base_url}/v1/predictions/{id} -> status starting | processing | succeeded (output: a URL or a
 *           list of URLs) | failed (error) | canceled
 *   fetch   GET  the output URL (replicate.delivery: no key; a URL on the API host gets it)
 *   cancel  POST {base_url}/v1/predictions/{id}/cancel
 *   list    GET  {base_url}/v1/predictions -> {"results": [{"id", "model", "version", "status", "created_at",
 *           "input", ...}], "next"} newest first
 *
 * Errors are problem details {"title", "detail", "status"}.  The model's input is built from the shot by the
 * block's `fields` (lv_vh_input).  A submit whose answer is lost is looked up in the prediction list (which
 * shows predictions from the moment they are created): one created since the submit with our prompt is
 * adopted; none there after `recover_checks` looks proves there is none, and the shot is sent again.
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

#define RP_DEFAULT_BASE "https://api.replicate.com"
#define RP_LIST_PAGES 3

typedef struct rp_provider {
	const lv_provider_conf *conf;
	char *base;
	const char *model;       /* "owner/name", "owner/name:version" or a version id */
	const char *model_refs;  /* for shots with reference images (NULL: model) */
	lv_vh_input in;
	lv_vh_known known;       /* prediction ids given to shots */
	int64_t poll_ms, max_refs, ref_budget, recover_checks, recover_delay_ms;
	int ref_mode;               /* LV_VH_REF_* */
} rp_provider;

/* ---- errors ---------------------------------------------------------------------------------------------------- */

static int rp_error(lv_provider_error *err, const lv_vh_call *c, long status, const char *detail, int is_submit)
{
	const char *name = c->conf->name;
	char msg[200];
	lv_vh_summary(msg, sizeof(msg), detail ? detail : "no details", c->key);
	if (status == 401 || status == 403)
		return lv_provider_fail(err, "segment_failed", 0, "provider '%s' refused the token (HTTP %ld: %s); check $%s",
		                        name, status, msg, c->conf->api_key_env);
	if (status == 402)
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s' refused the request: the account needs billing set up or credit (%s)",
		                        name, msg);
	if (status == 404)
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s' does not know the model or version (%s); check providers.%s.model", name,
		                        msg, name);
	if (status == 429)
		return lv_provider_fail(err, "segment_failed", 1, "provider '%s' is rate limiting (%s); it will be tried again",
		                        name, msg);
	if (status >= 500)
		return lv_provider_fail(err, "segment_failed", !is_submit, "provider '%s' failed (HTTP %ld: %s)%s", name, status,
		                        msg, is_submit ? "; it may have created the prediction, so it is not sent again" : "");
	if (strstr(msg, "NSFW") || strstr(msg, "sensitive") || strstr(msg, "safety"))
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
	const char *d = lv_json_get_str(j, "detail");
	int rc;
	LV_WARN("provider '%s': HTTP %ld %s", c->conf->name, resp->status,
	        lv_json_get_str(j, "title") ? lv_json_get_str(j, "title") : "");
	rc = rp_error(err, c, resp->status, d ? d : lv_json_get_str(j, "title"), is_submit);
	cJSON_Delete(j);
	return rc;
}

/* ---- submit ----------------------------------------------------------------------------------------------------- */

/* ISO 8601 times compare as text when both are UTC with the same shape; Replicate's carry fractions, so only
 * the first 19 characters ("YYYY-MM-DDThh:mm:ss") are compared. */
static int created_since(const char *created, const char *since)
{
	return created && strlen(created) >= 19 && strncmp(created, since, 19) >= 0;
}

/* Look a lost prediction up in the list: 1 found (st filled), 0 the list shows none, -1 undecided. */
static int list_find(rp_provider *rp, const lv_vh_call *c, const lv_call_ctx *ctx, const char *model,
                     const char *prompt, const char *since, lv_job_status *st)
{
	char *url = lv_asprintf("%s/v1/predictions", rp->base);
	int page, found = 0, unsure = 0;
	for (page = 0; url && page < RP_LIST_PAGES; page++) {
		lv_http_response resp;
		lv_provider_error e;
		cJSON *j = NULL;
		const cJSON *it;
		const char *next;
		int rc = lv_vh_status_get(c, ctx, url, &resp, &e), older = 0;
		free(url);
		url = NULL;
		if (rc || resp.status < 200 || resp.status >= 300 || !(j = lv_vh_json(&resp))) {
			lv_http_response_free(&resp);
			cJSON_Delete(j);
			return -1;
		}
		lv_http_response_free(&resp);
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "results"))
		{
			const char *id = lv_json_get_str(it, "id"), *m = lv_json_get_str(it, "model");
			const char *p = lv_json_get_str(cJSON_GetObjectItemCaseSensitive(it, "input"),
			                                rp->in.field[LV_VH_IN_PROMPT]);
			if (!created_since(lv_json_get_str(it, "created_at"), since)) {
				older = 1; /* newest first: the rest are older */
				break;
			}
			if (m && strncmp(model, m, strlen(m)) != 0)
				continue;
			if (id && lv_vh_known_has(&rp->known, id))
				continue; /* another shot's */
			if (!p)
				unsure = 1;
			else if (!found && id && lv_vh_id_ok(id) && !strcmp(p, prompt)) {
				if (!(st->job_id = lv_strdup(id))) {
					cJSON_Delete(j);
					return -1;
				}
				found = 1;
			}
		}
		next = older || found ? NULL : lv_json_get_str(j, "next");
		if (next && lv_vh_same_host(next, rp->base))
			url = lv_strdup(next);
		cJSON_Delete(j);
		if (!url)
			break;
	}
	free(url);
	return found ? 1 : unsure ? -1 : 0;
}

static int recover(rp_provider *rp, const lv_vh_call *c, const lv_call_ctx *ctx, const lv_segment_job *job,
                   const char *model, int64_t since_ms, lv_job_status *st, lv_provider_error *err)
{
	lv_provider_error why = *err;
	char since[32];
	int look;
	lv_vh_iso_time(since, sizeof(since), since_ms - 60000);
	for (look = 0; look < rp->recover_checks; look++) {
		int r;
		if (lv_vh_wait(ctx, rp->recover_delay_ms))
			return LV_ECANCELED;
		r = list_find(rp, c, ctx, model, job->prompt ? job->prompt : "", since, st);
		if (r == 1) {
			lv_vh_known_add(&rp->known, st->job_id);
			st->state = LV_JOB_PENDING;
			st->poll_after_ms = rp->poll_ms;
			LV_WARN("provider '%s': the answer to shot %d's submit was lost; found prediction %s in the list",
			        rp->conf->name, job->index, st->job_id);
			return LV_OK;
		}
		if (r < 0) {
			*err = why;
			snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
			         "; its prediction list could not settle whether it was created");
			return LV_EPROVIDER;
		}
	}
	LV_WARN("provider '%s': shot %d's lost submit created no prediction; sending it again", rp->conf->name, job->index);
	return lv_provider_fail(err, "segment_failed", 1,
	                        "provider '%s' lost shot %d's submit and its prediction list shows none; it is sent again",
	                        rp->conf->name, job->index);
}

static int rp_submit(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                     lv_provider_error *err)
{
	rp_provider *rp = self;
	lv_vh_call c;
	lv_http_request req;
	lv_http_response resp;
	const char *headers[3], *id, *model = job->n_references > 0 && rp->model_refs ? rp->model_refs : rp->model;
	char **refs = NULL, *body = NULL, *url = NULL;
	size_t n_refs = 0;
	cJSON *root = NULL, *input = NULL, *j = NULL;
	int rc, attempts = 0, ambiguous = 0;
	int64_t since = lv_now_ms();
	memset(&resp, 0, sizeof(resp));
	if (lv_vh_call_begin(&c, rp->conf, err))
		return LV_EPROVIDER;
	if ((rp->in.field[LV_VH_IN_IMAGE] || rp->in.field[LV_VH_IN_IMAGES]) &&
	    (rc = lv_vh_refs(&refs, &n_refs, job, rp->ref_mode, (size_t)rp->max_refs, (size_t)rp->ref_budget, rp->conf->name, err)))
		goto out;
	input = lv_vh_input_build(&rp->in, job, (const char *const *)refs, n_refs);
	if (!input || !(root = cJSON_CreateObject()) || !cJSON_AddStringToObject(root, "version", model) ||
	    !cJSON_AddItemToObject(root, "input", input)) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory"); /* input, not attached, is freed below */
		goto out;
	}
	input = NULL; /* owned by root */
	if (!(body = cJSON_PrintUnformatted(root)) || !(url = lv_asprintf("%s/v1/predictions", rp->base))) {
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
	id = lv_json_get_str(j, "id");
	if ((rc = lv_vh_job_id(st, id, "prediction", rp->conf, job->index, err))) {
		ambiguous = 1;
		goto out;
	}
	lv_vh_known_add(&rp->known, id);
	st->state = LV_JOB_PENDING;
	st->poll_after_ms = rp->poll_ms;
	LV_INFO("provider '%s': shot %d of task %s created prediction %s of %s (%d attempt%s)", rp->conf->name, job->index,
	        job->task_id, id, model, attempts, attempts == 1 ? "" : "s");
	rc = LV_OK;
out:
	if (rc == LV_EPROVIDER && ambiguous && rp->recover_checks > 0)
		rc = recover(rp, &c, ctx, job, model, since, st, err);
	cJSON_Delete(j);
	cJSON_Delete(input);
	cJSON_Delete(root);
	lv_vh_refs_free(refs, n_refs);
	lv_http_response_free(&resp);
	free(body);
	free(url);
	lv_vh_call_end(&c);
	return rc;
}

/* ---- poll, fetch, cancel ------------------------------------------------------------------------------------------ */

static int rp_poll(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                   lv_provider_error *err)
{
	rp_provider *rp = self;
	lv_vh_call c;
	char *url = NULL;
	cJSON *j = NULL, *s = NULL;
	const cJSON *out;
	const char *status, *video;
	int rc;
	if (!job->job_id || !lv_vh_id_ok(job->job_id))
		return lv_provider_fail(err, "internal_error", 0, "provider '%s': the stored job id is not a prediction id",
		                        rp->conf->name);
	if (lv_vh_call_begin(&c, rp->conf, err))
		return LV_EPROVIDER;
	url = lv_asprintf("%s/v1/predictions/%s", rp->base, job->job_id);
	if ((rc = lv_vh_get_json(&c, ctx, url, http_error, &j, err)))
		goto done;
	status = lv_json_get_str(j, "status");
	st->poll_after_ms = rp->poll_ms;
	if (!status) {
		rc = lv_provider_fail(err, "segment_failed", 1, "provider '%s' answered a status check with no status",
		                      rp->conf->name);
	} else if (!strcmp(status, "starting")) {
		st->state = LV_JOB_PENDING;
	} else if (!strcmp(status, "processing")) {
		st->state = LV_JOB_RUNNING;
	} else if (!strcmp(status, "succeeded")) {
		out = cJSON_GetObjectItemCaseSensitive(j, "output");
		video = cJSON_IsString(out) ? out->valuestring : lv_vh_json_path(out, "0");
		if (!video || strncmp(video, "http", 4) != 0) {
			rc = lv_provider_fail(err, "segment_failed", 0,
			                      "provider '%s': prediction %s succeeded without a video URL in its output; check "
			                      "that providers.%s.model makes videos",
			                      rp->conf->name, job->job_id, rp->conf->name);
			st->state = LV_JOB_FAILED;
		} else if (!(s = cJSON_CreateObject()) || !cJSON_AddStringToObject(s, "video_url", video) ||
		           !(st->job_state = cJSON_PrintUnformatted(s))) {
			rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		} else {
			st->state = LV_JOB_SUCCEEDED;
		}
	} else if (!strcmp(status, "failed") || !strcmp(status, "canceled")) {
		const char *e = lv_json_get_str(j, "error");
		st->state = LV_JOB_FAILED;
		if (!strcmp(status, "canceled"))
			rc = lv_provider_fail(err, "segment_failed", 0, "provider '%s': prediction %s was canceled at the provider",
			                      rp->conf->name, job->job_id);
		else {
			char msg[200];
			lv_vh_summary(msg, sizeof(msg), e ? e : "no details", c.key);
			/* A model failure may pass on a new prediction; content the model refuses will not. */
			if (strstr(msg, "NSFW") || strstr(msg, "sensitive") || strstr(msg, "safety"))
				rc = lv_provider_fail(err, "moderation_rejected", 0,
				                      "provider '%s' refused the shot's content (%s); rephrase the prompt",
				                      rp->conf->name, msg);
			else
				rc = lv_provider_fail(err, "segment_failed", 1, "provider '%s' failed the shot: %s", rp->conf->name,
				                      msg);
		}
	} else {
		st->state = LV_JOB_RUNNING;
	}
done:
	cJSON_Delete(s);
	cJSON_Delete(j);
	free(url);
	lv_vh_call_end(&c);
	return rc;
}

static int rp_fetch(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
                     lv_provider_error *err)
{
	/* Files the API serves get the key; a delivery CDN's URLs do not, and it does not go there. */
	const rp_provider *rp = self;
	return lv_vh_fetch_state_clip(rp->conf, "Authorization: Bearer ", rp->base, ctx, job, out_path, err);
}

static int rp_cancel(void *self, const lv_call_ctx *ctx, const lv_segment_job *job)
{
	rp_provider *rp = self;
	char *url;
	int rc;
	(void)ctx; /* the task's cancel flag is set: this request must not be aborted by it */
	if (!job->job_id || !lv_vh_id_ok(job->job_id))
		return LV_EPROVIDER;
	url = lv_asprintf("%s/v1/predictions/%s/cancel", rp->base, job->job_id);
	rc = lv_vh_cancel(rp->conf, "Authorization: Bearer ", "POST", url, job);
	free(url);
	return rc;
}

/* ---- construction ----------------------------------------------------------------------------------------------- */

static const lv_video_ops video_ops = { LV_PROVIDER_ABI_VERSION, 0, rp_submit, rp_poll, rp_fetch, rp_cancel };

static void rp_destroy(void *self)
{
	rp_provider *rp = self;
	if (!rp)
		return;
	free(rp->base);
	lv_vh_input_free(&rp->in);
	lv_vh_known_destroy(&rp->known);
	free(rp);
}

/* lvctl doctor --online: GET /v1/account with the token. */
static int rp_ping(void *self, lv_provider_error *err)
{
	const rp_provider *rp = self;
	return lv_vh_ping(rp->conf, rp->base, "/v1/account", err);
}

int lv_provider_replicate_create(lv_provider *p, const lv_provider_conf *conf);

int lv_provider_replicate_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model",         "model_references", "fields",         "duration_format",
		                            "resolution_format", "extra_input",   "poll_interval_ms", "max_references",
		                            "reference_budget_kb", "recover_checks", "recover_delay_ms",
		                            "reference_delivery", NULL };
	static const char *const defaults[LV_VH_IN_COUNT] = { "prompt", "duration", "aspect_ratio", NULL, "seed",
		                                                "negative_prompt", NULL, NULL };
	rp_provider *rp;
	int rc;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!conf->api_key_env)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.api_key_env: is required (the environment variable holding the "
		                    "Replicate API token, e.g. \"REPLICATE_API_TOKEN\")",
		                    conf->name);
	if (!(rp = lv_calloc(1, sizeof(*rp))))
		return LV_ENOMEM;
	lv_vh_known_init(&rp->known);
	rp->conf = conf;
	if ((rc = lv_provider_conf_str(&rp->model, conf, "model", NULL)) ||
	    (rc = lv_provider_conf_str(&rp->model_refs, conf, "model_references", NULL)) ||
	    (rc = lv_provider_conf_int(&rp->poll_ms, conf, "poll_interval_ms", 5000, 100, 600000)) ||
	    (rc = lv_provider_conf_int(&rp->max_refs, conf, "max_references", 4, 1, 16)) ||
	    (rc = lv_provider_conf_int(&rp->ref_budget, conf, "reference_budget_kb", 4096, 64, 20480)) ||
	    (rc = lv_provider_conf_int(&rp->recover_checks, conf, "recover_checks", 3, 0, 10)) ||
	    (rc = lv_provider_conf_int(&rp->recover_delay_ms, conf, "recover_delay_ms", 2000, 0, 30000)) ||
	    (rc = lv_vh_ref_mode_conf(&rp->ref_mode, conf)) || (rc = lv_vh_input_parse(&rp->in, conf, defaults))) {
		rp_destroy(rp);
		return rc;
	}
	if (!rp->model) {
		rp_destroy(rp);
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.model: is required: \"owner/name\" (an official model), "
		                    "\"owner/name:version\" or a version id, e.g. \"kwaivgi/kling-v2.1\"",
		                    conf->name);
	}
	rp->ref_budget *= 1024;
	if (!(rp->base = lv_vh_base(conf->base_url ? conf->base_url : RP_DEFAULT_BASE))) {
		rp_destroy(rp);
		return LV_ENOMEM;
	}
	p->self = rp;
	p->video = &video_ops;
	p->destroy = rp_destroy;
	p->ping = rp_ping;
	return LV_OK;
}
