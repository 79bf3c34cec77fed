/*
 * The `dashscope-video` provider: HappyHorse (and other video-synthesis models) on Alibaba Cloud Model
 * Studio through DashScope's asynchronous task API.
 *
 *   submit  POST {base_url}/api/v1/services/aigc/video-generation/video-synthesis
 *           (X-DashScope-Async: enable) -> output.task_id, output.task_status
 *   poll    GET  {base_url}/api/v1/tasks/{task_id}
 *           PENDING | RUNNING | SUCCEEDED (output.video_url) | FAILED (output.code, output.message) |
 *           CANCELED | UNKNOWN (the task expired or does not exist)
 *   fetch   GET  output.video_url (an object-storage URL valid for 24 hours: fetched at once, without
 *           the API key, which must not leave for another host)
 *   cancel  POST {base_url}/api/v1/tasks/{task_id}/cancel (only PENDING tasks can be canceled)
 *
 *   list    GET  {base_url}/api/v1/tasks?model_name=&start_time=&end_time=&page_no=&page_size=
 *           -> {"data": [{"task_id", "model_name", "status", "gmt_create", ...}], "total", "total_page"}
 *
 * A shot with reference images goes to the reference-to-video model (model_r2v) with the images as
 * input.media entries of type reference_image (data URLs) and the characters named in the prompt as the
 * model expects — character1, character2, ... in media order; a shot without goes to the text-to-video
 * model (model_t2v).  Errors arrive as {"code", "message", "request_id"}; the request id is logged, never
 * shown.
 *
 * A submit whose answer is lost (a 5xx, a timeout after sending, a 2xx without a task id) is not simply
 * sent again — the task may exist and be billed — nor given up: the task list is searched for a task of
 * the model created since the submit (its prompt, where the query shows it, must be ours).  Found, it is
 * adopted; absent after `recover_checks` looks `recover_delay_ms` apart, the shot is sent again; when the
 * list cannot be read, the shot fails as before.
 */
#include "providers/dashscope.h"
#include "util/error.h"
#include "util/time.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DS_SUBMIT_PATH "/api/v1/services/aigc/video-generation/video-synthesis"
#define DS_MAX_REFS 9                      /* HappyHorse reference-to-video takes 1 to 9 images */
#define DS_MAX_REF_BYTES ((size_t)10 << 20) /* and each up to 10 MB */
#define DS_MIN_REF_SIDE 400                /* with the short side at least 400 px */
#define DS_LIST_PAGE 100                   /* tasks per page of the list */
#define DS_LIST_PAGES 5                    /* pages read per look */
#define DS_CANDIDATES 16                   /* tasks looked at closely per look */

typedef struct ds_provider {
	const lv_provider_conf *conf;
	char *base;
	char *model_t2v;
	char *model_r2v;
	int watermark;
	int max_refs;
	int64_t poll_ms;
	int64_t recover_checks;   /* looks at the task list after an ambiguous submit (0: never recover) */
	int64_t recover_delay_ms; /* before each look */
	int64_t ref_budget;       /* bytes of reference images (encoded) per request */
	int ref_mode;             /* LV_VH_REF_*: storage URLs or data URLs */
	lv_vh_known known;        /* task ids given to shots */
} ds_provider;

/* ---- submit ---------------------------------------------------------------------------------------------- */

static int is_word(unsigned char ch)
{
	return isalnum(ch) || ch == '_' || ch >= 0x80;
}

/* The prompt for the reference-to-video model: each character's name (whole words, longest names first)
 * becomes "characterN", N being its image's place in input.media; a character the text never names is
 * mentioned at the end so that every image is used.  Caller frees. */
static char *r2v_prompt(const char *prompt, const char *const *names, size_t n)
{
	lv_buf b = LV_BUF_INIT;
	unsigned char used[DS_MAX_REFS] = { 0 };
	const char *p = prompt ? prompt : "";
	size_t i;
	if (n > DS_MAX_REFS)
		n = DS_MAX_REFS;
	while (*p) {
		size_t best = n, best_len = 0;
		if (p == prompt || !is_word((unsigned char)p[-1]))
			for (i = 0; names && i < n; i++) {
				size_t k = names[i] ? strlen(names[i]) : 0;
				if (k > best_len && !strncmp(p, names[i], k) && !is_word((unsigned char)p[k])) {
					best = i;
					best_len = k;
				}
			}
		if (best < n) {
			lv_buf_printf(&b, "character%zu", best + 1);
			used[best] = 1;
			p += best_len;
		} else {
			lv_buf_put(&b, p, 1);
			p++;
		}
	}
	for (i = 0; i < n; i++)
		if (!used[i])
			lv_buf_printf(&b, "%scharacter%zu appears in the shot.", b.len ? " " : "", i + 1);
	if (!b.data)
		lv_buf_puts(&b, "");
	return lv_buf_detach(&b);
}

static int add_media(cJSON *input, const ds_provider *dp, const lv_segment_job *job, size_t n, lv_provider_error *err)
{
	cJSON *media = cJSON_AddArrayToObject(input, "media");
	size_t i, total = 0;
	if (!media)
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	for (i = 0; i < n; i++) {
		char *url = NULL;
		cJSON *m = cJSON_CreateObject();
		if (!m || !cJSON_AddItemToArray(media, m)) {
			cJSON_Delete(m);
			return lv_provider_fail(err, "internal_error", 1, "out of memory");
		}
		if (lv_vh_reference(&url, job, i, dp->ref_mode, DS_MAX_REF_BYTES, DS_MIN_REF_SIDE, (size_t)dp->ref_budget / n,
		                    dp->conf->name, err))
			return LV_EPROVIDER;
		total += strlen(url);
		if (!cJSON_AddStringToObject(m, "type", "reference_image") || !cJSON_AddStringToObject(m, "url", url)) {
			free(url);
			return lv_provider_fail(err, "internal_error", 1, "out of memory");
		}
		free(url);
	}
	LV_DEBUG("provider '%s': shot %d sends %zu reference image(s), %zu bytes encoded", dp->conf->name, job->index, n,
	         total);
	return LV_OK;
}

static char *submit_body(const ds_provider *dp, const lv_segment_job *job, const char **model, char **prompt,
                         lv_provider_error *err)
{
	cJSON *root = cJSON_CreateObject(), *input = NULL, *params = NULL;
	char res[8], *text = NULL;
	int ok, refs = job->n_references > 0 && dp->model_r2v;
	size_t i, n = job->n_references;
	*model = refs ? dp->model_r2v : dp->model_t2v;
	if (n > (size_t)dp->max_refs) {
		LV_INFO("provider '%s': shot %d shows %zu characters; sending the first %d reference images",
		        dp->conf->name, job->index, n, dp->max_refs);
		n = (size_t)dp->max_refs;
	}
	*prompt = refs ? r2v_prompt(job->prompt, job->reference_names, n) : lv_strdup(job->prompt ? job->prompt : "");
	for (i = 0; job->resolution && job->resolution[i] && i + 1 < sizeof(res); i++)
		res[i] = (char)toupper((unsigned char)job->resolution[i]);
	res[i] = '\0';
	ok = root && *prompt && cJSON_AddStringToObject(root, "model", *model) &&
	     (input = cJSON_AddObjectToObject(root, "input")) && cJSON_AddStringToObject(input, "prompt", *prompt);
	if (ok && refs && add_media(input, dp, job, n, err)) {
		cJSON_Delete(root);
		return NULL;
	}
	ok = ok && (params = cJSON_AddObjectToObject(root, "parameters")) &&
	     cJSON_AddStringToObject(params, "resolution", res) &&
	     cJSON_AddStringToObject(params, "ratio", job->aspect_ratio ? job->aspect_ratio : "16:9") &&
	     cJSON_AddNumberToObject(params, "duration", job->seconds) &&
	     cJSON_AddNumberToObject(params, "seed", (double)(job->seed & 0x7fffffffu)) &&
	     cJSON_AddBoolToObject(params, "watermark", dp->watermark);
	if (ok)
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		lv_provider_fail(err, "internal_error", 1, "out of memory building the request");
	return text;
}

/* ---- finding a task whose submit answer was lost ------------------------------------------------------------ */

static const lv_ds_what shot = { "segment_failed", "shot" };

/* "YYYYMMDDhhmmss" (UTC) of a time in ms. */
static void list_time(char *out, size_t cap, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y%m%d%H%M%S", &tm);
}

/* The candidates of one look: ids of tasks of `model` created since `since_ms` that no shot holds. */
typedef struct ds_found {
	char ids[DS_CANDIDATES][64];
	size_t n;
	int listed; /* the list answered */
} ds_found;

static void list_look(ds_provider *dp, const lv_vh_call *c, const lv_call_ctx *ctx, const char *model,
                      int64_t since_ms, ds_found *f)
{
	char from[20], to[20];
	int page;
	memset(f, 0, sizeof(*f));
	/* The list's time zone is not documented: the window is widened by half a day each way, and the tasks'
	 * own creation times (epoch ms) narrow it again. */
	list_time(from, sizeof(from), since_ms - 12 * 3600 * 1000LL);
	list_time(to, sizeof(to), lv_now_ms() + 12 * 3600 * 1000LL);
	for (page = 1; page <= DS_LIST_PAGES; page++) {
		lv_http_response resp;
		lv_provider_error e;
		char *url = lv_asprintf("%s/api/v1/tasks?model_name=%s&start_time=%s&end_time=%s&page_no=%d&page_size=%d",
		                        dp->base, model, from, to, page, DS_LIST_PAGE);
		cJSON *j = NULL;
		const cJSON *data, *it;
		int rc, pages;
		if (!url)
			return;
		memset(&resp, 0, sizeof(resp));
		rc = lv_vh_status_get(c, ctx, url, &resp, &e);
		free(url);
		if (rc || resp.status < 200 || resp.status >= 300 || !(j = lv_vh_json(&resp)) ||
		    !cJSON_IsArray(data = cJSON_GetObjectItemCaseSensitive(j, "data"))) {
			LV_WARN("provider '%s': the task list could not be read (%s %ld)", dp->conf->name, rc ? "error" : "HTTP",
			        rc ? (long)rc : resp.status);
			lv_http_response_free(&resp);
			cJSON_Delete(j);
			f->listed = 0;
			return;
		}
		lv_http_response_free(&resp);
		f->listed = 1;
		cJSON_ArrayForEach(it, data)
		{
			const char *id = lv_json_get_str(it, "task_id"), *m = lv_json_get_str(it, "model_name");
			const cJSON *created = cJSON_GetObjectItemCaseSensitive(it, "gmt_create");
			if (!id || !lv_vh_id_ok(id) || strlen(id) >= sizeof(f->ids[0]) || (m && strcmp(m, model) != 0))
				continue;
			/* Created before the submit (with a minute for clocks): another shot's, or another film's. */
			if (cJSON_IsNumber(created) && created->valuedouble < (double)(since_ms - 60000))
				continue;
			if (lv_vh_known_has(&dp->known, id) || f->n >= DS_CANDIDATES)
				continue;
			lv_strlcpy(f->ids[f->n++], id, sizeof(f->ids[0]));
		}
		pages = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "total_page"))
		                ? cJSON_GetObjectItemCaseSensitive(j, "total_page")->valueint
		                : 1;
		cJSON_Delete(j);
		if (page >= pages)
			return;
	}
}

/* After an ambiguous submit: LV_OK with st->job_id when the task was found; a retryable error when the list
 * proves there is none (the shot is sent again); `why` (the submit's error) kept when it cannot be decided. */
static int recover(ds_provider *dp, const lv_vh_call *c, const lv_call_ctx *ctx, const lv_segment_job *job,
                   const char *model, const char *prompt, int64_t since_ms, lv_job_status *st, lv_provider_error *err)
{
	lv_provider_error why = *err;
	int look;
	if (dp->recover_checks <= 0)
		return LV_EPROVIDER;
	for (look = 0; look < dp->recover_checks; look++) {
		ds_found f;
		char match[64] = "", unknown[64] = "";
		size_t i, n_unknown = 0, n_other = 0;
		if (lv_vh_wait(ctx, dp->recover_delay_ms)) /* the list may lag behind the submit */
			return LV_ECANCELED;
		list_look(dp, c, ctx, model, since_ms, &f);
		if (!f.listed) {
			*err = why;
			snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
			         "; its task list could not be read to find the job");
			return LV_EPROVIDER;
		}
		for (i = 0; i < f.n; i++) {
			cJSON *t = NULL;
			lv_provider_error e;
			const char *orig;
			if (lv_ds_get_task(dp->base, c, ctx, &shot, f.ids[i], &t, &e) != LV_OK) {
				n_unknown++;
				lv_strlcpy(unknown, f.ids[i], sizeof(unknown));
				continue;
			}
			orig = lv_json_get_str(cJSON_GetObjectItemCaseSensitive(t, "output"), "orig_prompt");
			if (orig && !strcmp(orig, prompt))
				lv_strlcpy(match, f.ids[i], sizeof(match));
			else if (orig)
				n_other++;
			else {
				n_unknown++;
				lv_strlcpy(unknown, f.ids[i], sizeof(unknown));
			}
			cJSON_Delete(t);
		}
		/* Ours by its prompt, or the one task nobody holds when the query does not show prompts. */
		if (!match[0] && n_unknown == 1 && n_other == 0)
			lv_strlcpy(match, unknown, sizeof(match));
		if (match[0]) {
			if (!(st->job_id = lv_strdup(match)))
				return lv_provider_fail(err, "internal_error", 1, "out of memory");
			lv_vh_known_add(&dp->known, match);
			st->state = LV_JOB_PENDING;
			st->poll_after_ms = dp->poll_ms;
			LV_WARN("provider '%s': the answer to shot %d's submit was lost; found its task %s in the task list",
			        dp->conf->name, job->index, match);
			return LV_OK;
		}
		if (n_unknown > 0) {
			*err = why;
			snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
			         "; its task list shows %zu possible jobs, none surely this shot's", n_unknown);
			return LV_EPROVIDER;
		}
	}
	LV_WARN("provider '%s': shot %d's lost submit created no task (%lld looks at the task list); sending it again",
	        dp->conf->name, job->index, (long long)dp->recover_checks);
	return lv_provider_fail(err, "segment_failed", 1,
	                        "provider '%s' lost shot %d's submit and its task list shows no such job; it is sent "
	                        "again",
	                        dp->conf->name, job->index);
}

static int ds_submit(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                     lv_provider_error *err)
{
	ds_provider *dp = self;
	lv_vh_call c;
	lv_http_request req;
	lv_http_response resp;
	const char *model = NULL, *headers[4];
	char *body = NULL, *url = NULL, *prompt = NULL;
	cJSON *j = NULL;
	const cJSON *out;
	const char *task_id, *status;
	int rc, attempts = 0, ambiguous = 0;
	int64_t since = lv_now_ms();
	memset(&resp, 0, sizeof(resp));
	if (lv_vh_call_begin(&c, dp->conf, err))
		return LV_EPROVIDER;
	if (!(body = submit_body(dp, job, &model, &prompt, err)) ||
	    !(url = lv_asprintf("%s%s", dp->base, DS_SUBMIT_PATH))) {
		rc = body ? lv_provider_fail(err, "internal_error", 1, "out of memory") : LV_EPROVIDER;
		goto out;
	}
	headers[0] = c.auth;
	headers[1] = "Content-Type: application/json";
	headers[2] = "X-DashScope-Async: enable";
	headers[3] = NULL;
	lv_vh_request(&req, &c, "POST", url, headers, ctx->cancel);
	req.body = body;
	req.body_len = strlen(body);
	if ((rc = lv_vh_perform(&c, &req, 1, "submit", &resp, &attempts, err))) {
		ambiguous = rc != LV_ECANCELED && resp.sent && !err->retryable;
		goto out;
	}
	if (resp.status < 200 || resp.status >= 300) {
		rc = lv_ds_http_error(err, &c, &shot, &resp, "submit", 1);
		ambiguous = resp.status >= 500;
		goto out;
	}
	j = lv_vh_json(&resp);
	out = cJSON_GetObjectItemCaseSensitive(j, "output");
	task_id = lv_json_get_str(out, "task_id");
	status = lv_json_get_str(out, "task_status");
	if ((rc = lv_vh_job_id(st, task_id, "task", dp->conf, job->index, err))) {
		ambiguous = 1;
		goto out;
	}
	lv_vh_known_add(&dp->known, task_id);
	st->state = status && !strcmp(status, "RUNNING") ? LV_JOB_RUNNING : LV_JOB_PENDING;
	st->poll_after_ms = dp->poll_ms;
	LV_INFO("provider '%s': shot %d of task %s submitted to %s as %s (%d attempt%s)", dp->conf->name, job->index,
	        job->task_id, model, task_id, attempts, attempts == 1 ? "" : "s");
	rc = LV_OK;
out:
	if (rc != LV_OK && ambiguous)
		rc = recover(dp, &c, ctx, job, model, prompt, since, st, err);
	cJSON_Delete(j);
	lv_http_response_free(&resp);
	free(body);
	free(prompt);
	free(url);
	lv_vh_call_end(&c);
	return rc;
}

/* ---- poll ------------------------------------------------------------------------------------------------ */

/* Keep the vendor's usage in the job's state: {"usage": {"duration", "resolution"}} and, when it is not what
 * was planned, "usage_differs" (also logged).  The answer gives the billed length as usage.duration (or
 * output_video_duration) and the resolution as usage.SR (720, 1080) where it says. */
static int usage_note(const lv_provider_conf *conf, const lv_segment_job *job, const cJSON *usage, cJSON *state)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(usage, "duration"), *sr;
	cJSON *u;
	char why[160] = "";
	int planned_sr = job->resolution && !strcmp(job->resolution, "1080p") ? 1080 : 720;
	if (!cJSON_IsObject(usage))
		return LV_OK;
	if (!cJSON_IsNumber(d))
		d = cJSON_GetObjectItemCaseSensitive(usage, "output_video_duration");
	sr = cJSON_GetObjectItemCaseSensitive(usage, "SR");
	if (!(u = cJSON_AddObjectToObject(state, "usage")))
		return LV_ENOMEM;
	if (cJSON_IsNumber(d) && !cJSON_AddNumberToObject(u, "duration", d->valuedouble))
		return LV_ENOMEM;
	if (cJSON_IsNumber(sr) && !cJSON_AddNumberToObject(u, "resolution", sr->valuedouble))
		return LV_ENOMEM;
	if (cJSON_IsNumber(d) && fabs(d->valuedouble - job->seconds) > 0.01)
		snprintf(why, sizeof(why), "billed %g s where %d s were planned", d->valuedouble, job->seconds);
	else if (cJSON_IsNumber(sr) && (int)sr->valuedouble != planned_sr)
		snprintf(why, sizeof(why), "billed at %dp where %s was planned", (int)sr->valuedouble,
		         job->resolution ? job->resolution : "720p");
	if (why[0]) {
		LV_WARN("provider '%s': shot %d of task %s: the vendor %s", conf->name, job->index, job->task_id, why);
		if (!cJSON_AddStringToObject(state, "usage_differs", why))
			return LV_ENOMEM;
	}
	return LV_OK;
}

/* What a task's answer says of the job: its state, the video URL and usage kept for the fetch, or a task
 * error.  Pure (no I/O), so that it can be fuzzed; `j` is an answer lv_ds_read_task accepted. */
static int task_status(const lv_vh_call *c, const cJSON *j, const lv_segment_job *job, int64_t poll_ms,
                       lv_job_status *st, lv_provider_error *err)
{
	const lv_provider_conf *conf = c->conf;
	const cJSON *out = cJSON_GetObjectItemCaseSensitive(j, "output");
	const char *status = lv_json_get_str(out, "task_status"), *url;
	cJSON *state = NULL;
	int rc = LV_OK;
	if (!status)
		return lv_provider_fail(err, "segment_failed", 1, "provider '%s' answered a status check with no task status",
		                        conf->name);
	if (!strcmp(status, "PENDING") || !strcmp(status, "RUNNING")) {
		st->state = !strcmp(status, "PENDING") ? LV_JOB_PENDING : LV_JOB_RUNNING;
		st->poll_after_ms = poll_ms;
	} else if (!strcmp(status, "SUCCEEDED")) {
		url = lv_json_get_str(out, "video_url");
		if (!url || strncmp(url, "http", 4) != 0)
			return lv_provider_fail(err, "segment_failed", 1,
			                        "provider '%s' reported shot %d done but gave no video URL; will ask again",
			                        conf->name, job->index);
		/* The URL is kept with the job so that the fetch (perhaps in another process) needs no second query;
		 * the vendor's usage (what it bills) is kept beside it, and a disagreement with the plan noted. */
		if (!(state = cJSON_CreateObject()) || !cJSON_AddStringToObject(state, "video_url", url) ||
		    usage_note(conf, job, cJSON_GetObjectItemCaseSensitive(j, "usage"), state) ||
		    !(st->job_state = cJSON_PrintUnformatted(state))) {
			cJSON_Delete(state);
			return lv_provider_fail(err, "internal_error", 1, "out of memory");
		}
		cJSON_Delete(state);
		st->state = LV_JOB_SUCCEEDED;
	} else if (!strcmp(status, "FAILED")) {
		st->state = LV_JOB_FAILED;
		LV_WARN("provider '%s': task %s failed: %s (request_id %s)", conf->name, job->job_id ? job->job_id : "?",
		        lv_json_get_str(out, "code") ? lv_json_get_str(out, "code") : "no code",
		        lv_json_get_str(j, "request_id") ? lv_json_get_str(j, "request_id") : "none");
		rc = lv_ds_error(err, c, &shot, 0, lv_json_get_str(out, "code"), lv_json_get_str(out, "message"), 0);
	} else if (!strcmp(status, "CANCELED")) {
		st->state = LV_JOB_FAILED;
		rc = lv_provider_fail(err, "segment_failed", 0, "provider '%s': the job for shot %d was canceled at the provider",
		                      conf->name, job->index);
	} else if (!strcmp(status, "UNKNOWN")) {
		/* The task is unknown or expired (tasks are kept 24 hours): a new job is the only way on. */
		st->state = LV_JOB_FAILED;
		rc = lv_provider_fail(err, "segment_failed", 1,
		                      "provider '%s' no longer knows the job for shot %d (tasks expire after 24 hours)",
		                      conf->name, job->index);
	} else {
		st->state = LV_JOB_RUNNING;
		st->poll_after_ms = poll_ms;
		LV_WARN("provider '%s': task %s has an unexpected status; asking again later", conf->name,
		        job->job_id ? job->job_id : "?");
	}
	return rc;
}

int lv_ds_read_status(const lv_vh_call *c, const lv_http_response *resp, const lv_segment_job *job, int64_t poll_ms,
                      lv_job_status *st, lv_provider_error *err)
{
	cJSON *j = NULL;
	int rc = lv_ds_read_task(c, &shot, resp, &j, err);
	if (rc == LV_OK)
		rc = task_status(c, j, job, poll_ms, st, err);
	cJSON_Delete(j);
	return rc;
}

static int ds_poll(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                   lv_provider_error *err)
{
	ds_provider *dp = self;
	lv_vh_call c;
	cJSON *j = NULL;
	int rc;
	if (lv_vh_call_begin(&c, dp->conf, err))
		return LV_EPROVIDER;
	if ((rc = lv_ds_get_task(dp->base, &c, ctx, &shot, job->job_id, &j, err)) == LV_OK)
		rc = task_status(&c, j, job, dp->poll_ms, st, err);
	cJSON_Delete(j);
	lv_vh_call_end(&c);
	return rc;
}

/* ---- fetch ----------------------------------------------------------------------------------------------- */

static int ds_fetch(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
                    lv_provider_error *err)
{
	ds_provider *dp = self;
	cJSON *state = job->job_state ? cJSON_Parse(job->job_state) : NULL, *j = NULL;
	const char *url = lv_json_get_str(state, "video_url");
	int rc;
	if (!url) {
		/* Resumed without the stored URL: ask for the task again. */
		lv_vh_call c;
		rc = lv_vh_call_begin(&c, dp->conf, err) ? LV_EPROVIDER : lv_ds_get_task(dp->base, &c, ctx, &shot, job->job_id, &j, err);
		lv_vh_call_end(&c);
		if (rc) {
			cJSON_Delete(state);
			return rc;
		}
		url = lv_json_get_str(cJSON_GetObjectItemCaseSensitive(j, "output"), "video_url");
		if (!url) {
			cJSON_Delete(state);
			cJSON_Delete(j);
			return lv_provider_fail(err, "segment_failed", 1, "provider '%s' has no video for shot %d yet",
			                        dp->conf->name, job->index);
		}
	}
	/* An object-storage URL with its own signature: no Authorization header goes with it. */
	rc = lv_vh_download(dp->conf, ctx, url, NULL, NULL, out_path, job->index, err);
	cJSON_Delete(state);
	cJSON_Delete(j);
	return rc;
}

/* ---- cancel ---------------------------------------------------------------------------------------------- */

static int ds_cancel(void *self, const lv_call_ctx *ctx, const lv_segment_job *job)
{
	ds_provider *dp = self;
	char *url;
	int rc;
	(void)ctx; /* the task's cancel flag is already set: this request must not be aborted by it */
	if (!job->job_id || !lv_vh_id_ok(job->job_id))
		return LV_EPROVIDER;
	/* Only PENDING tasks can be canceled: a running one finishes and is abandoned. */
	url = lv_asprintf("%s/api/v1/tasks/%s/cancel", dp->base, job->job_id);
	rc = lv_vh_cancel(dp->conf, "Authorization: Bearer ", "POST", url, job);
	free(url);
	return rc;
}

/* ---- construction ---------------------------------------------------------------------------------------- */

static const lv_video_ops video_ops = { LV_PROVIDER_ABI_VERSION, 0, ds_submit, ds_poll, ds_fetch, ds_cancel };

static void ds_destroy(void *self)
{
	ds_provider *dp = self;
	if (!dp)
		return;
	free(dp->base);
	free(dp->model_t2v);
	free(dp->model_r2v);
	lv_vh_known_destroy(&dp->known);
	free(dp);
}

/* Set *dst from a string key when the block has it (else leave *dst as it is). */
static int conf_string(char **dst, const lv_provider_conf *conf, const char *name)
{
	const char *v;
	if (lv_provider_conf_str(&v, conf, name, NULL))
		return LV_ECONFIG;
	return v ? lv_strset(dst, v) : LV_OK;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && !strcmp(s + n - k, suffix);
}

/* The models from the one-for-all `model` key (NULL: the HappyHorse pair).  A reference-to-video model
 * ("...-r2v") cannot make a shot without reference images, so those go to its "...-t2v" sibling; with a
 * text-to-video model ("...-t2v") every shot is made from text alone (no reference images are sent). */
static int models_from(ds_provider *dp, const char *model)
{
	if (!model)
		return lv_strset(&dp->model_t2v, "happyhorse-1.0-t2v") || lv_strset(&dp->model_r2v, "happyhorse-1.0-r2v")
		               ? LV_ENOMEM
		               : LV_OK;
	if (ends_with(model, "-r2v")) {
		if (lv_strset(&dp->model_r2v, model) || lv_strset(&dp->model_t2v, model))
			return LV_ENOMEM;
		memcpy(dp->model_t2v + strlen(model) - 3, "t2v", 3);
		return LV_OK;
	}
	if (lv_strset(&dp->model_t2v, model))
		return LV_ENOMEM;
	if (ends_with(model, "-t2v"))
		return LV_OK; /* model_r2v stays NULL unless configured */
	return lv_strset(&dp->model_r2v, model);
}

int lv_provider_dashscope_video_create(lv_provider *p, const lv_provider_conf *conf);

/* lvctl doctor --online: query a task id that cannot exist with the key — the documented task API
 * answers such an id with status UNKNOWN when the key is valid, and 401 InvalidApiKey when not. */
static int ds_provider_ping(void *self, lv_provider_error *err)
{
	const ds_provider *x = self;
	return lv_ds_ping(x->conf, x->base, err);
}

int lv_provider_dashscope_video_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model",          "model_t2v",        "model_r2v",
		                            "watermark",      "poll_interval_ms", "max_references",
		                            "recover_checks", "recover_delay_ms", "reference_budget_kb",
		                            "reference_delivery", NULL };
	ds_provider *dp;
	char *model = NULL;
	int64_t n;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!conf->api_key_env)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.api_key_env: is required (the environment variable holding the "
		                    "DashScope key, e.g. \"DASHSCOPE_API_KEY\")",
		                    conf->name);
	if (!(dp = lv_calloc(1, sizeof(*dp))))
		return LV_ENOMEM;
	lv_vh_known_init(&dp->known);
	dp->conf = conf;
	if (lv_provider_conf_bool(&dp->watermark, conf, "watermark", 0) ||
	    !(dp->base = lv_vh_base(conf->base_url ? conf->base_url : LV_DS_DEFAULT_BASE)) ||
	    conf_string(&model, conf, "model") || models_from(dp, model) || conf_string(&dp->model_t2v, conf, "model_t2v") ||
	    conf_string(&dp->model_r2v, conf, "model_r2v") ||
	    lv_provider_conf_int(&dp->poll_ms, conf, "poll_interval_ms", 15000, 100, 600000) ||
	    lv_provider_conf_int(&n, conf, "max_references", DS_MAX_REFS, 1, DS_MAX_REFS) ||
	    lv_provider_conf_int(&dp->recover_checks, conf, "recover_checks", 3, 0, 10) ||
	    lv_provider_conf_int(&dp->recover_delay_ms, conf, "recover_delay_ms", 2000, 0, 30000) ||
	    lv_provider_conf_int(&dp->ref_budget, conf, "reference_budget_kb", 2048, 64, 10240) ||
	    lv_vh_ref_mode_conf(&dp->ref_mode, conf)) {
		free(model);
		ds_destroy(dp);
		return lv_error_last()->status ? lv_error_last()->status : LV_ENOMEM;
	}
	free(model);
	dp->max_refs = (int)n;
	dp->ref_budget *= 1024; /* per request: shared by the shot's references */
	p->self = dp;
	p->video = &video_ops;
	p->destroy = ds_destroy;
	p->ping = ds_provider_ping;
	return LV_OK;
}
