/*
 * The `openai-videos` provider: OpenAI's Videos API (Sora) and gateways that speak the same protocol.
 *
 *   submit  POST {base_url}/v1/videos, multipart/form-data: model, prompt, seconds ("4" | "8" | "12"),
 *           size ("1280x720" | "720x1280" ...), optional input_reference (an image file)
 *           -> {"id", "object": "video", "status": "queued", ...}
 *   poll    GET  {base_url}/v1/videos/{id} -> status queued | in_progress | completed | failed
 *           (with progress and, when failed, error {code, message}); the openai-poll-after-ms response
 *           header says when to ask again
 *   fetch   GET  {base_url}/v1/videos/{id}/content?variant=video (the MP4)
 *   cancel  the API has no cancel (DELETE /v1/videos/{id} deletes a finished video); a gateway that
 *           cancels running jobs on DELETE can be told so with cancel_with_delete
 *
 * Gateways that resell other models on this protocol often rename fields or want JSON: `fields` renames
 * (or drops, with null) the fields sent, `size_format` sends "720P" instead of WIDTHxHEIGHT,
 * `seconds_format` sends a number, `multipart: false` sends a JSON body, and `extra_fields` adds static
 * fields.
 */
#include "providers/video_http.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OA_DEFAULT_BASE "https://api.openai.com"
#define OA_MAX_REF_BYTES ((size_t)20 << 20)

/* The logical fields a request can carry, and their default wire names (NULL: not sent by default). */
enum { F_MODEL, F_PROMPT, F_SECONDS, F_SIZE, F_REFERENCE, F_ASPECT, F_SEED, F_COUNT };
static const char *const field_keys[F_COUNT] = { "model", "prompt", "seconds", "size", "input_reference",
	                                         "aspect_ratio", "seed" };
static const char *const field_defaults[F_COUNT] = { "model", "prompt", "seconds", "size", "input_reference", NULL,
	                                             NULL };

typedef struct oa_provider {
	const lv_provider_conf *conf;
	char *base;
	char *model;
	char *field[F_COUNT];  /* wire names; NULL: the field is not sent */
	int size_tier;         /* size as "720P"/"1080P" instead of WIDTHxHEIGHT */
	int seconds_number;    /* seconds as a JSON number (JSON bodies only) */
	int multipart;
	int send_reference;
	int cancel_with_delete;
	cJSON *extra;          /* static fields added to every submit */
	int64_t poll_ms;
} oa_provider;

/* ---- errors ---------------------------------------------------------------------------------------------- */

static int contains(const char *s, const char *word)
{
	return s && strstr(s, word) != NULL;
}

static int is_moderation(const char *code, const char *type)
{
	return contains(code, "moderation") || contains(code, "content_policy") || contains(code, "safety") ||
	       contains(type, "moderation") || contains(type, "content_policy") || contains(type, "safety");
}

/* An error object {"code", "message", "type"} (from an error answer or a failed video) as a task error. */
static int vendor_error(lv_provider_error *err, const lv_vh_call *c, long http_status, const cJSON *e, int is_submit,
                        int job_failed)
{
	const char *name = c->conf->name;
	const char *code = lv_json_get_str(e, "code"), *type = lv_json_get_str(e, "type");
	const char *shown = code ? code : type ? type : http_status ? "HTTP error" : "unknown error";
	char msg[200];
	lv_vh_summary(msg, sizeof(msg), lv_json_get_str(e, "message") ? lv_json_get_str(e, "message") : "no details",
	              c->key);
	if (is_moderation(code, type))
		return lv_provider_fail(err, "moderation_rejected", 0,
		                        "provider '%s' refused the shot's content (%s: %s); rephrase the prompt", name, shown,
		                        msg);
	if (http_status == 401)
		return lv_provider_fail(err, "segment_failed", 0, "provider '%s' rejected the API key (%s); check the key in $%s",
		                        name, shown, c->conf->api_key_env);
	if (contains(code, "insufficient_quota") || contains(code, "billing"))
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s' refused the request: the account is out of quota (%s); check its "
		                        "billing",
		                        name, shown);
	if (http_status == 403 || http_status == 404)
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s' refused access (%s: %s); check model and base_url in providers.%s",
		                        name, shown, msg, name);
	if (http_status == 429)
		return lv_provider_fail(err, "segment_failed", 1,
		                        "provider '%s' is rate limiting requests (%s: %s); it will be tried again later", name,
		                        shown, msg);
	if (http_status >= 500) {
		if (is_submit)
			return lv_provider_fail(err, "segment_failed", 0,
			                        "provider '%s' failed while accepting the shot (HTTP %ld: %s); it may have started "
			                        "the job, so it is not sent again",
			                        name, http_status, msg);
		return lv_provider_fail(err, "segment_failed", 1, "provider '%s' failed (HTTP %ld: %s)", name, http_status,
		                        msg);
	}
	if (job_failed) /* the vendor gave up on the job: a new job may succeed */
		return lv_provider_fail(err, "segment_failed", !contains(code, "invalid"),
		                        "provider '%s' failed the shot (%s: %s)", name, shown, msg);
	return lv_provider_fail(err, "segment_failed", 0, "provider '%s' rejected the request: %s (%s); check providers.%s",
	                        name, shown, msg, name);
}

static int http_error(lv_provider_error *err, const lv_vh_call *c, const lv_http_response *resp, const char *step,
                      int is_submit)
{
	cJSON *j = lv_vh_json(resp);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	char rid[128];
	int rc;
	if (!cJSON_IsObject(e))
		e = NULL;
	LV_WARN("provider '%s': %s answered HTTP %ld %s (x-request-id %s)", c->conf->name, step, resp->status,
	        lv_json_get_str(e, "code") ? lv_json_get_str(e, "code") : "",
	        lv_http_header(resp, "x-request-id", rid, sizeof(rid)) ? rid : "none");
	rc = vendor_error(err, c, resp->status, e, is_submit, 0);
	cJSON_Delete(j);
	return rc;
}

/* When to ask again: the openai-poll-after-ms header (kept within 0.1-60 s), else the configured interval. */
static int64_t poll_hint(const lv_http_response *resp, int64_t def)
{
	char v[32];
	long ms;
	if (!lv_http_header(resp, "openai-poll-after-ms", v, sizeof(v)) || (ms = atol(v)) <= 0)
		return def;
	return ms < 100 ? 100 : ms > 60000 ? 60000 : ms;
}

/* ---- submit ---------------------------------------------------------------------------------------------- */

typedef struct submit_fields {
	char seconds[16];
	char size[32];
	char seed[16];
	char *reference;   /* data URL (JSON bodies) */
} submit_fields;

static void fill_fields(submit_fields *sf, const oa_provider *op, const lv_segment_job *job)
{
	size_t i;
	memset(sf, 0, sizeof(*sf));
	snprintf(sf->seconds, sizeof(sf->seconds), "%d", job->seconds);
	if (op->size_tier) {
		for (i = 0; job->resolution && job->resolution[i] && i + 1 < sizeof(sf->size); i++)
			sf->size[i] = (char)toupper((unsigned char)job->resolution[i]);
		sf->size[i] = '\0';
	} else {
		snprintf(sf->size, sizeof(sf->size), "%dx%d", job->width, job->height);
	}
	snprintf(sf->seed, sizeof(sf->seed), "%u", (unsigned)(job->seed & 0x7fffffffu));
}

/* The value of an extra field as text (multipart). */
static const char *extra_text(const cJSON *v, char *buf, size_t cap)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e15)
		snprintf(buf, cap, "%.0f", v->valuedouble);
	else
		snprintf(buf, cap, "%g", v->valuedouble);
	return buf;
}

/* input_reference in a JSON body: {"image_url": "data:..."}. */
static cJSON *reference_item(const char *data_url)
{
	cJSON *ref = cJSON_CreateObject();
	if (ref && !cJSON_AddStringToObject(ref, "image_url", data_url)) {
		cJSON_Delete(ref);
		return NULL;
	}
	return ref;
}

static char *json_body(const oa_provider *op, const lv_segment_job *job, const submit_fields *sf)
{
	cJSON *o = cJSON_CreateObject(), *it;
	char *text = NULL;
	int ok = o != NULL;
	cJSON_ArrayForEach(it, op->extra)
	{
		cJSON *d = cJSON_Duplicate(it, 1);
		ok = ok && d && cJSON_AddItemToObject(o, it->string, d);
	}
	/* Our own fields win over static ones of the same name. */
#define PUT(f, item)                                                                     \
	do {                                                                             \
		if (ok && op->field[f]) {                                                \
			cJSON *v_ = (item);                                              \
			cJSON_DeleteItemFromObjectCaseSensitive(o, op->field[f]);        \
			ok = v_ && cJSON_AddItemToObject(o, op->field[f], v_);           \
		}                                                                        \
	} while (0)
	PUT(F_MODEL, cJSON_CreateString(op->model));
	PUT(F_PROMPT, cJSON_CreateString(job->prompt ? job->prompt : ""));
	PUT(F_SECONDS, op->seconds_number ? cJSON_CreateNumber(job->seconds) : cJSON_CreateString(sf->seconds));
	PUT(F_SIZE, cJSON_CreateString(sf->size));
	PUT(F_ASPECT, cJSON_CreateString(job->aspect_ratio ? job->aspect_ratio : "16:9"));
	PUT(F_SEED, cJSON_CreateNumber((double)(job->seed & 0x7fffffffu)));
	if (sf->reference)
		PUT(F_REFERENCE, reference_item(sf->reference));
#undef PUT
	if (ok)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* Multipart parts (pointing into op, job, sf and bufs); returns the count. */
static size_t multipart_parts(lv_http_part *parts, size_t cap, char (*bufs)[32], const oa_provider *op,
                              const lv_segment_job *job, const submit_fields *sf)
{
	size_t n = 0, b = 0;
	const cJSON *it;
#define PART(f, value)                                                        \
	do {                                                                  \
		if (op->field[f] && n < cap) {                                \
			memset(&parts[n], 0, sizeof(parts[n]));               \
			parts[n].name = op->field[f];                         \
			parts[n].data = (value);                              \
			parts[n].data_len = strlen(parts[n].data);            \
			n++;                                                  \
		}                                                             \
	} while (0)
	PART(F_MODEL, op->model);
	PART(F_PROMPT, job->prompt ? job->prompt : "");
	PART(F_SECONDS, sf->seconds);
	PART(F_SIZE, sf->size);
	PART(F_ASPECT, job->aspect_ratio ? job->aspect_ratio : "16:9");
	PART(F_SEED, sf->seed);
#undef PART
	cJSON_ArrayForEach(it, op->extra)
	{
		size_t k;
		int ours = 0;
		for (k = 0; k < F_COUNT; k++)
			ours |= op->field[k] && !strcmp(op->field[k], it->string);
		if (ours || n >= cap || b >= cap)
			continue;
		memset(&parts[n], 0, sizeof(parts[n]));
		parts[n].name = it->string;
		parts[n].data = extra_text(it, bufs[b], sizeof(bufs[b]));
		parts[n].data_len = strlen(parts[n].data);
		if (parts[n].data == bufs[b])
			b++;
		n++;
	}
	if (op->send_reference && op->field[F_REFERENCE] && job->n_references > 0 && n < cap) {
		memset(&parts[n], 0, sizeof(parts[n]));
		parts[n].name = op->field[F_REFERENCE];
		parts[n].path = job->references[0];
		parts[n].filename = "reference.png";
		parts[n].content_type = "image/png";
		n++;
	}
	return n;
}

#define OA_MAX_PARTS 48

static int oa_submit(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                     lv_provider_error *err)
{
	oa_provider *op = self;
	lv_vh_call c;
	lv_http_request req;
	lv_http_response resp;
	lv_http_part parts[OA_MAX_PARTS];
	char bufs[OA_MAX_PARTS][32];
	submit_fields sf;
	const char *headers[3], *id, *status;
	char *url = NULL, *body = NULL;
	cJSON *j = NULL;
	int rc, attempts = 0;
	memset(&resp, 0, sizeof(resp));
	fill_fields(&sf, op, job);
	if (lv_vh_call_begin(&c, op->conf, err))
		return LV_EPROVIDER;
	if (!(url = lv_asprintf("%s/v1/videos", op->base))) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		goto out;
	}
	headers[0] = c.auth;
	headers[1] = NULL;
	headers[2] = NULL;
	lv_vh_request(&req, &c, "POST", url, headers, ctx->cancel);
	if (op->multipart) {
		req.parts = parts;
		req.n_parts = multipart_parts(parts, OA_MAX_PARTS, bufs, op, job, &sf);
	} else {
		if (op->send_reference && op->field[F_REFERENCE] && job->n_references > 0 &&
		    lv_vh_data_url(&sf.reference, job->references[0], OA_MAX_REF_BYTES, 0, op->conf->name, err)) {
			rc = LV_EPROVIDER;
			goto out;
		}
		if (!(body = json_body(op, job, &sf))) {
			rc = lv_provider_fail(err, "internal_error", 1, "out of memory building the request");
			goto out;
		}
		headers[1] = "Content-Type: application/json";
		req.body = body;
		req.body_len = strlen(body);
	}
	if ((rc = lv_vh_perform(&c, &req, 1, "submit", &resp, &attempts, err)))
		goto out;
	if (resp.status < 200 || resp.status >= 300) {
		rc = http_error(err, &c, &resp, "submit", 1);
		goto out;
	}
	j = lv_vh_json(&resp);
	id = lv_json_get_str(j, "id");
	status = lv_json_get_str(j, "status");
	if ((rc = lv_vh_job_id(st, id, "video", op->conf, job->index, err)))
		goto out;
	st->state = status && !strcmp(status, "in_progress") ? LV_JOB_RUNNING : LV_JOB_PENDING;
	st->poll_after_ms = poll_hint(&resp, op->poll_ms);
	LV_INFO("provider '%s': shot %d of task %s submitted as %s (%s s, %s; %d attempt%s)", op->conf->name, job->index,
	        job->task_id, id, sf.seconds, sf.size, attempts, attempts == 1 ? "" : "s");
	rc = LV_OK;
out:
	cJSON_Delete(j);
	lv_http_response_free(&resp);
	free(sf.reference);
	free(body);
	free(url);
	lv_vh_call_end(&c);
	return rc;
}

/* ---- poll ------------------------------------------------------------------------------------------------ */

/* Read a status check's answer (pure: no I/O; any HTTP status) into *st; poll_ms is the default wait. */
int lv_oa_videos_read_status(const lv_vh_call *c, const lv_http_response *resp, const lv_segment_job *job,
                             int64_t poll_ms, lv_job_status *st, lv_provider_error *err)
{
	const char *status, *name = c->conf->name;
	cJSON *j = NULL;
	int rc = LV_OK;
	if (resp->status < 200 || resp->status >= 300) {
		rc = http_error(err, c, resp, "status check", 0);
		if (resp->status == 408 || resp->status == 409 || resp->status == 425)
			err->retryable = 1;
		return rc;
	}
	j = lv_json_parse_n(resp->body, resp->body_len);
	status = lv_json_get_str(j, "status");
	if (!status) {
		rc = lv_provider_fail(err, "segment_failed", 1,
		                      "provider '%s' answered a status check with something that is not a video; will ask "
		                      "again",
		                      name);
		goto out;
	}
	st->poll_after_ms = poll_hint(resp, poll_ms);
	if (!strcmp(status, "queued")) {
		st->state = LV_JOB_PENDING;
	} else if (!strcmp(status, "in_progress")) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "progress");
		st->state = LV_JOB_RUNNING;
		if (cJSON_IsNumber(p))
			LV_DEBUG("provider '%s': %s at %d%%", name, job->job_id, p->valueint);
	} else if (!strcmp(status, "completed")) {
		st->state = LV_JOB_SUCCEEDED;
	} else if (!strcmp(status, "failed")) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
		st->state = LV_JOB_FAILED;
		LV_WARN("provider '%s': video %s failed: %s", name, job->job_id,
		        lv_json_get_str(e, "code") ? lv_json_get_str(e, "code") : "no code");
		rc = vendor_error(err, c, 0, cJSON_IsObject(e) ? e : NULL, 0, 1);
	} else {
		st->state = LV_JOB_RUNNING;
		LV_WARN("provider '%s': video %s has an unexpected status; asking again later", name, job->job_id);
	}
out:
	cJSON_Delete(j);
	return rc;
}

static int oa_poll(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                   lv_provider_error *err)
{
	oa_provider *op = self;
	lv_vh_call c;
	lv_http_response resp;
	char *url = NULL;
	int rc;
	memset(&resp, 0, sizeof(resp));
	if (!job->job_id || !lv_vh_id_ok(job->job_id))
		return lv_provider_fail(err, "internal_error", 0, "provider '%s': the stored job id is not a video id",
		                        op->conf->name);
	if (lv_vh_call_begin(&c, op->conf, err))
		return LV_EPROVIDER;
	if (!(url = lv_asprintf("%s/v1/videos/%s", op->base, job->job_id))) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		goto out;
	}
	if ((rc = lv_vh_status_get(&c, ctx, url, &resp, err)))
		goto out;
	rc = lv_oa_videos_read_status(&c, &resp, job, op->poll_ms, st, err);
out:
	lv_http_response_free(&resp);
	free(url);
	lv_vh_call_end(&c);
	return rc;
}

/* ---- fetch and cancel ------------------------------------------------------------------------------------ */

static int oa_fetch(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
                    lv_provider_error *err)
{
	oa_provider *op = self;
	lv_vh_call c;
	const char *headers[3];
	char *url;
	int rc;
	if (!job->job_id || !lv_vh_id_ok(job->job_id))
		return lv_provider_fail(err, "internal_error", 0, "provider '%s': the stored job id is not a video id",
		                        op->conf->name);
	if (lv_vh_call_begin(&c, op->conf, err))
		return LV_EPROVIDER;
	if (!(url = lv_asprintf("%s/v1/videos/%s/content?variant=video", op->base, job->job_id))) {
		lv_vh_call_end(&c);
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	}
	headers[0] = c.auth;
	headers[1] = "Accept: application/binary";
	headers[2] = NULL;
	rc = lv_vh_download(op->conf, ctx, url, headers, c.secrets, out_path, job->index, err);
	free(url);
	lv_vh_call_end(&c);
	return rc;
}

static int oa_cancel(void *self, const lv_call_ctx *ctx, const lv_segment_job *job)
{
	oa_provider *op = self;
	char *url;
	int rc;
	(void)ctx; /* the task's cancel flag is set: this request must not be aborted by it */
	if (!op->cancel_with_delete)
		return LV_OK; /* nothing to ask: the job runs to its end and is abandoned */
	if (!job->job_id || !lv_vh_id_ok(job->job_id))
		return LV_EPROVIDER;
	url = lv_asprintf("%s/v1/videos/%s", op->base, job->job_id);
	rc = lv_vh_cancel(op->conf, "Authorization: Bearer ", "DELETE", url, job);
	free(url);
	return rc;
}

/* ---- construction ---------------------------------------------------------------------------------------- */

static const lv_video_ops video_ops = { LV_PROVIDER_ABI_VERSION, 0, oa_submit, oa_poll, oa_fetch, oa_cancel };

static void oa_destroy(void *self)
{
	oa_provider *op = self;
	size_t i;
	if (!op)
		return;
	free(op->base);
	free(op->model);
	for (i = 0; i < F_COUNT; i++)
		free(op->field[i]);
	cJSON_Delete(op->extra);
	free(op);
}

/* A string key that must be one of `choices`; *index gets its position (def when absent). */
static int get_choice(int *index, const lv_provider_conf *conf, const char *name, const char *const *choices, int def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf->json, name);
	int i;
	*index = def;
	if (!v)
		return LV_OK;
	for (i = 0; cJSON_IsString(v) && choices[i]; i++)
		if (!strcmp(choices[i], v->valuestring)) {
			*index = i;
			return LV_OK;
		}
	return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: must be \"%s\" or \"%s\"", conf->name, name, choices[0],
	                    choices[1]);
}

static int parse_fields(oa_provider *op, const lv_provider_conf *conf)
{
	return lv_vh_field_names(op->field, field_keys, field_defaults, F_COUNT, F_PROMPT, conf,
	                         "model, prompt, seconds, size, input_reference, aspect_ratio, seed");
}

static int parse_extra(oa_provider *op, const lv_provider_conf *conf)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(conf->json, "extra_fields"), *it;
	if (!x)
		return LV_OK;
	if (!cJSON_IsObject(x))
		return lv_error_set(LV_ECONFIG, "config: providers.%s.extra_fields: must be an object", conf->name);
	cJSON_ArrayForEach(it, x)
	{
		if (!cJSON_IsString(it) && !cJSON_IsNumber(it) && !cJSON_IsBool(it))
			return lv_error_set(LV_ECONFIG,
			                    "config: providers.%s.extra_fields.%s: must be a string, number or boolean",
			                    conf->name, it->string);
	}
	if (!(op->extra = cJSON_Duplicate(x, 1)))
		return lv_error_nomem();
	return LV_OK;
}

int lv_provider_openai_videos_create(lv_provider *p, const lv_provider_conf *conf);

/* lvctl doctor --online: one authenticated read of the model list (GET /v1/models). */
static int oa_provider_ping(void *self, lv_provider_error *err)
{
	const oa_provider *x = self;
	return lv_vh_ping(x->conf, x->base, "/v1/models", err);
}

int lv_provider_openai_videos_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model",          "fields",          "size_format",        "seconds_format",
		                            "multipart",      "extra_fields",    "input_reference",    "cancel_with_delete",
		                            "poll_interval_ms", NULL };
	static const char *const size_formats[] = { "WIDTHxHEIGHT", "720P", NULL };
	static const char *const seconds_formats[] = { "string", "number", NULL };
	const char *model;
	oa_provider *op;
	int rc;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!conf->api_key_env)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.api_key_env: is required (the environment variable holding the key, "
		                    "e.g. \"OPENAI_API_KEY\")",
		                    conf->name);
	if (!(op = lv_calloc(1, sizeof(*op))))
		return LV_ENOMEM;
	op->conf = conf;
	if ((rc = lv_provider_conf_str(&model, conf, "model", "sora-2")) ||
	    (rc = lv_provider_conf_int(&op->poll_ms, conf, "poll_interval_ms", 5000, 100, 600000))) {
		oa_destroy(op);
		return rc;
	}
	if (!(op->base = lv_vh_base(conf->base_url ? conf->base_url : OA_DEFAULT_BASE)) || lv_strset(&op->model, model)) {
		oa_destroy(op);
		return LV_ENOMEM;
	}
	if ((rc = get_choice(&op->size_tier, conf, "size_format", size_formats, 0)) ||
	    (rc = get_choice(&op->seconds_number, conf, "seconds_format", seconds_formats, 0)) ||
	    (rc = lv_provider_conf_bool(&op->multipart, conf, "multipart", 1)) ||
	    (rc = lv_provider_conf_bool(&op->send_reference, conf, "input_reference", 0)) ||
	    (rc = lv_provider_conf_bool(&op->cancel_with_delete, conf, "cancel_with_delete", 0)) || (rc = parse_fields(op, conf)) ||
	    (rc = parse_extra(op, conf))) {
		oa_destroy(op);
		return rc;
	}
	p->self = op;
	p->video = &video_ops;
	p->destroy = oa_destroy;
	p->ping = oa_provider_ping;
	return LV_OK;
}
