/*
 * The `comfyui` video provider: a self-hosted ComfyUI server running a text-to-video workflow
 * (Wan 2.x, LTX-Video, ...) given as a workflow file in ComfyUI's API format.
 *
 * Placeholders: a JSON string value that is exactly "{{name}}" is replaced with a typed value
 * (numbers stay numbers); "{{name}}" inside a longer string is replaced by its text.  Names:
 * prompt, negative_prompt, seed, frames, fps, width, height, seconds, shot, task_id,
 * reference_image and reference_image_1 .. reference_image_8 (workflow_r2v only).
 *
 * Wire protocol (comfyanonymous/ComfyUI server.py):
 *   POST /upload/image   multipart image, overwrite=true, type=input -> {"name","subfolder","type"}
 *   POST /prompt         {"prompt": workflow, "client_id"} -> {"prompt_id","number","node_errors"};
 *                        400 {"error": {...} | "text", "node_errors": {...}}
 *   GET  /history/{id}   {} while queued or running; then {id: {"prompt", "outputs", "status":
 *                        {"status_str": "success"|"error", "completed", "messages"}}}
 *   GET  /queue          {"queue_running": [[number, id, prompt, extra_data, outputs], ...], "queue_pending": ...}
 *   GET  /view           ?filename=&subfolder=&type= -> the file
 *   POST /queue          {"delete": [id]} removes a pending prompt
 *   POST /interrupt      {"prompt_id": id} stops the running prompt (only that one on current servers)
 *
 * /prompt is not idempotent.  Each submission's client_id is "longvideo-<task>-<shot>-<random>".
 * Before posting, the queue and recent history are searched for a prompt of the same task and shot
 * (a worker may have died between /prompt and storing the id); when the answer to /prompt is lost
 * (timeout, 5xx, garbage) they are searched for this submission's client_id.  A prompt ComfyUI did
 * accept is adopted instead of queued twice.
 */
#include "http/http.h"
#include "providers/clip.h"
#include "providers/provider.h"
#include "providers/video_http.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int lv_provider_comfyui_create(lv_provider *p, const lv_provider_conf *conf);

#define MAX_REFS 8
#define MAX_SIZES 16
#define MAX_FRAMES_OUT 2000
#define HISTORY_SCAN 64

typedef struct size_map {
	int film_w, film_h, gen_w, gen_h;
} size_map;

typedef struct comfy {
	const lv_provider_conf *conf;
	char *base;          /* base_url without a trailing slash */
	cJSON *wf;           /* text-to-video workflow */
	cJSON *wf_r2v;       /* with reference images, or NULL */
	char *negative;      /* default negative prompt */
	double fps;
	int frames_multiple_of, frames_plus;
	int size_multiple_of;
	size_map sizes[MAX_SIZES];
	size_t n_sizes;
	int64_t poll_ms;
	char *output_node;
} comfy;

/* ---- placeholders --------------------------------------------------------------------------------- */

static const char *const text_names[] = { "prompt", "negative_prompt", "task_id", NULL };
static const char *const number_names[] = { "seed", "frames", "fps", "width", "height", "seconds", "shot", NULL };

/* 1..MAX_REFS for reference_image_N, 1 for reference_image, 0 otherwise. */
static int ref_index(const char *name, size_t len)
{
	if (len == 15 && !strncmp(name, "reference_image", 15))
		return 1;
	if (len == 17 && !strncmp(name, "reference_image_", 16) && name[16] >= '1' && name[16] <= '0' + MAX_REFS)
		return name[16] - '0';
	return 0;
}

static int name_in(const char *const *list, const char *name, size_t len)
{
	for (; *list; list++)
		if (strlen(*list) == len && !strncmp(*list, name, len))
			return 1;
	return 0;
}

typedef struct scan {
	int has_prompt, has_ref;
	char bad[64]; /* first unknown placeholder */
} scan;

static void scan_string(scan *s, const char *v)
{
	const char *p = v;
	while ((p = strstr(p, "{{")) != NULL) {
		const char *e = strstr(p + 2, "}}");
		size_t len;
		if (!e)
			return;
		len = (size_t)(e - p - 2);
		if (len == 6 && !strncmp(p + 2, "prompt", 6))
			s->has_prompt = 1;
		if (ref_index(p + 2, len))
			s->has_ref = 1;
		else if (!name_in(text_names, p + 2, len) && !name_in(number_names, p + 2, len) && !s->bad[0])
			snprintf(s->bad, sizeof(s->bad), "%.*s", (int)(len < 40 ? len : 40), p + 2);
		p = e + 2;
	}
}

static void scan_tree(scan *s, const cJSON *n)
{
	const cJSON *c;
	if (cJSON_IsString(n))
		scan_string(s, n->valuestring);
	cJSON_ArrayForEach(c, n)
	{
		scan_tree(s, c);
	}
}

typedef struct fill_ctx {
	const char *prompt, *negative, *task_id;
	double seed, frames, fps, width, height, seconds, shot;
	const char *refs[MAX_REFS];
	size_t n_refs;
} fill_ctx;

/* The value of a placeholder: a string (*str) or a number (*num).  0 if unknown. */
static int lookup(const fill_ctx *f, const char *name, size_t len, const char **str, double *num)
{
	int r = ref_index(name, len);
	*str = NULL;
	if (r) {
		if (f->n_refs == 0)
			return 0;
		*str = f->refs[(size_t)r <= f->n_refs ? (size_t)r - 1 : f->n_refs - 1];
		return 1;
	}
#define TEXT(n, v)                                       \
	if (len == strlen(n) && !strncmp(name, n, len)) { \
		*str = (v) ? (v) : "";                   \
		return 1;                                \
	}
#define NUM(n, v)                                        \
	if (len == strlen(n) && !strncmp(name, n, len)) { \
		*num = (v);                              \
		return 1;                                \
	}
	TEXT("prompt", f->prompt)
	TEXT("negative_prompt", f->negative)
	TEXT("task_id", f->task_id)
	NUM("seed", f->seed)
	NUM("frames", f->frames)
	NUM("fps", f->fps)
	NUM("width", f->width)
	NUM("height", f->height)
	NUM("seconds", f->seconds)
	NUM("shot", f->shot)
#undef TEXT
#undef NUM
	return 0;
}

static cJSON *fill_string(const fill_ctx *f, const char *v)
{
	const char *p = v, *s;
	lv_buf b = LV_BUF_INIT;
	double num = 0;
	size_t len = strlen(v);
	/* Exactly one placeholder: a typed value. */
	if (len > 4 && !strncmp(v, "{{", 2) && !strcmp(v + len - 2, "}}") && !strstr(v + 2, "{{") &&
	    lookup(f, v + 2, len - 4, &s, &num))
		return s ? cJSON_CreateString(s) : cJSON_CreateNumber(num);
	while ((s = strstr(p, "{{")) != NULL) {
		const char *e = strstr(s + 2, "}}"), *text = NULL;
		if (!e)
			break;
		lv_buf_put(&b, p, (size_t)(s - p));
		if (lookup(f, s + 2, (size_t)(e - s - 2), &text, &num)) {
			if (text)
				lv_buf_puts(&b, text);
			else if (num == floor(num) && fabs(num) < 1e15)
				lv_buf_printf(&b, "%.0f", num);
			else
				lv_buf_printf(&b, "%g", num);
		} else {
			lv_buf_put(&b, s, (size_t)(e + 2 - s));
		}
		p = e + 2;
	}
	lv_buf_puts(&b, p);
	{
		cJSON *r = cJSON_CreateString(b.data ? b.data : "");
		lv_buf_free(&b);
		return r;
	}
}

static int fill_tree(const fill_ctx *f, cJSON *n)
{
	cJSON *c = n ? n->child : NULL;
	while (c) {
		cJSON *next = c->next;
		if (cJSON_IsString(c) && strstr(c->valuestring, "{{")) {
			cJSON *r = fill_string(f, c->valuestring);
			/* In an object the replacement must carry the member's name; in an array it has none. */
			int ok = r && (cJSON_IsObject(n) ? cJSON_ReplaceItemInObjectCaseSensitive(n, c->string, r)
			                                 : cJSON_ReplaceItemViaPointer(n, c, r));
			if (!ok) {
				cJSON_Delete(r);
				return LV_ENOMEM;
			}
		} else if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && fill_tree(f, c)) {
			return LV_ENOMEM;
		}
		c = next;
	}
	return LV_OK;
}

/* ---- loading the workflow files -------------------------------------------------------------------- */

static int load_workflow(cJSON **out, const lv_provider_conf *conf, const char *key, int r2v)
{
	const char *path = lv_json_get_str(conf->json, key);
	char *text = NULL;
	size_t len = 0;
	cJSON *wf = NULL, *node;
	scan s;
	*out = NULL;
	if (!path || !*path)
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: must be the path of a workflow file in ComfyUI's "
		                                "API format",
		                    conf->name, key);
	if (lv_file_read(&text, &len, path))
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: cannot read %s", conf->name, key, path);
	wf = lv_json_parse_n(text, len);
	free(text);
	if (!cJSON_IsObject(wf)) {
		cJSON_Delete(wf);
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: %s is not a JSON object", conf->name, key, path);
	}
	/* A wrapper {"prompt": {...}} (what /prompt takes) is accepted too. */
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(wf, "prompt")) && cJSON_GetArraySize(wf) <= 3 &&
	    !cJSON_GetObjectItemCaseSensitive(wf, "class_type")) {
		cJSON *inner = cJSON_DetachItemFromObjectCaseSensitive(wf, "prompt");
		cJSON_Delete(wf);
		wf = inner;
	}
	if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(wf, "nodes")) &&
	    cJSON_GetObjectItemCaseSensitive(wf, "links")) {
		cJSON_Delete(wf);
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.%s: %s is in the editor's format; save it with \"Export (API)\" "
		                    "in ComfyUI",
		                    conf->name, key, path);
	}
	if (cJSON_GetArraySize(wf) == 0) {
		cJSON_Delete(wf);
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: %s has no nodes", conf->name, key, path);
	}
	cJSON_ArrayForEach(node, wf)
	{
		if (!cJSON_IsObject(node) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(node, "class_type")) ||
		    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(node, "inputs"))) {
			lv_error_set(LV_ECONFIG,
			             "config: providers.%s.%s: node \"%s\" in %s needs \"class_type\" and \"inputs\" (API "
			             "format)",
			             conf->name, key, node->string ? node->string : "?", path);
			cJSON_Delete(wf);
			return LV_ECONFIG;
		}
	}
	memset(&s, 0, sizeof(s));
	scan_tree(&s, wf);
	if (s.bad[0]) {
		lv_error_set(LV_ECONFIG,
		             "config: providers.%s.%s: unknown placeholder {{%s}} in %s (known: prompt, negative_prompt, "
		             "seed, frames, fps, width, height, seconds, shot, task_id, reference_image[_N])",
		             conf->name, key, s.bad, path);
		cJSON_Delete(wf);
		return LV_ECONFIG;
	}
	if (!s.has_prompt) {
		cJSON_Delete(wf);
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: %s has no \"{{prompt}}\" placeholder", conf->name,
		                    key, path);
	}
	if (r2v && !s.has_ref) {
		cJSON_Delete(wf);
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: %s has no \"{{reference_image}}\" placeholder",
		                    conf->name, key, path);
	}
	if (!r2v && s.has_ref) {
		cJSON_Delete(wf);
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.%s: %s uses {{reference_image}}; shots without characters have "
		                    "none, so put that workflow in workflow_r2v",
		                    conf->name, key, path);
	}
	*out = wf;
	return LV_OK;
}

/* ---- HTTP ------------------------------------------------------------------------------------------------ */

typedef struct call {
	comfy *c;
	const lv_call_ctx *ctx;
	const char *key;     /* bearer key or NULL */
	long timeout_ms;     /* 0: the provider's */
	int max_retries;     /* -1: the provider's */
	char what[96];
} call;

static int call_init(call *k, comfy *c, const lv_call_ctx *ctx, lv_provider_error *err)
{
	memset(k, 0, sizeof(*k));
	k->c = c;
	k->ctx = ctx;
	k->max_retries = -1;
	snprintf(k->what, sizeof(k->what), "provider '%s'", c->conf->name);
	if (c->conf->api_key_env && lv_provider_api_key(c->conf, "segment_failed", &k->key, err))
		return LV_EPROVIDER;
	return LV_OK;
}

/* One exchange with retries; transport failures fill err.  A response of any status is LV_OK. */
static int comfy_http(call *k, const char *method, const char *path, const char *body, const lv_http_part *parts,
                      size_t n_parts, const char *download_to, int idempotent, lv_http_response *resp,
                      lv_provider_error *err)
{
	comfy *c = k->c;
	char *url = lv_asprintf("%s%s", c->base, path), *auth = NULL;
	const char *headers[4];
	const char *secrets[2] = { k->key, NULL };
	size_t nh = 0;
	lv_http_request req;
	lv_retry_policy pol = { k->max_retries >= 0 ? k->max_retries : c->conf->max_retries, 500, 30000, idempotent };
	int rc;
	memset(resp, 0, sizeof(*resp));
	if (!url)
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	if (body)
		headers[nh++] = "Content-Type: application/json";
	if (k->key) {
		if (!(auth = lv_asprintf("Authorization: Bearer %s", k->key))) {
			free(url);
			return lv_provider_fail(err, "internal_error", 1, "out of memory");
		}
		headers[nh++] = auth;
	}
	headers[nh] = NULL;
	lv_provider_request(&req, c->conf, method, url, headers, secrets, k->what);
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.parts = parts;
	req.n_parts = n_parts;
	req.download_to = download_to;
	if (k->timeout_ms > 0)
		req.timeout_ms = k->timeout_ms;
	req.cancel = k->ctx ? k->ctx->cancel : NULL;
	rc = lv_http_perform_retry(&req, &pol, resp, NULL);
	lv_provider_free_secret(auth);
	free(url);
	if (rc == LV_ECANCELED)
		return rc;
	if (rc == LV_ETIMEOUT)
		return lv_provider_fail(err, "provider_timeout", 1,
		                        "provider '%s': ComfyUI at %s did not answer %s %s within %ld ms; check that the "
		                        "server is up and not overloaded",
		                        c->conf->name, c->base, method, path, req.timeout_ms);
	if (rc)
		return lv_provider_fail(err, "segment_failed", 1,
		                        "provider '%s': cannot reach ComfyUI at %s (%s); check base_url and that the "
		                        "server is running",
		                        c->conf->name, c->base, resp->error[0] ? resp->error : "network error");
	return LV_OK;
}

/* An HTTP error status as a provider error.  what: "submitting the workflow" etc. */
static int http_status_fail(const call *k, long status, const char *what, lv_provider_error *err)
{
	const char *name = k->c->conf->name;
	if (status == 401 || status == 403)
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s' was refused %s (HTTP %ld): check the key in %s and the proxy in "
		                        "front of ComfyUI",
		                        name, what, status, k->c->conf->api_key_env ? k->c->conf->api_key_env : "api_key_env");
	if (status == 404)
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s': ComfyUI answered 404 %s; check base_url (%s)", name, what, k->c->base);
	if (status == 413)
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s': ComfyUI refused %s as too large (HTTP 413); raise its "
		                        "--max-upload-size",
		                        name, what);
	return lv_provider_fail(err, "segment_failed", status == 429 || status >= 500,
	                        "provider '%s': ComfyUI answered HTTP %ld %s", name, status, what);
}

/* ---- submit ------------------------------------------------------------------------------------------------ */

static void json_text_summary(char *out, size_t cap, const char *s)
{
	size_t i = 0;
	for (; s && *s && *s != '\n' && i + 1 < cap; s++)
		out[i++] = isprint((unsigned char)*s) || ((unsigned char)*s & 0x80) ? *s : ' ';
	out[i] = '\0';
}

/* The 400 answer of /prompt as a sentence: "Prompt outputs failed validation: node 12 (LoadImage):
 * Invalid image file (image)". */
static void prompt_error_summary(char *out, size_t cap, const cJSON *body)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
	const cJSON *ne = cJSON_GetObjectItemCaseSensitive(body, "node_errors"), *node;
	char msg[160] = "", detail[120] = "";
	size_t used;
	if (cJSON_IsString(e))
		json_text_summary(msg, sizeof(msg), e->valuestring);
	else
		json_text_summary(msg, sizeof(msg), lv_json_get_str(e, "message"));
	snprintf(out, cap, "%s", msg[0] ? msg : "the workflow was not accepted");
	used = strlen(out);
	cJSON_ArrayForEach(node, ne)
	{
		const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(node, "errors"), 0);
		const char *d = lv_json_get_str(first, "details");
		size_t dl = d ? strcspn(d, ":") : 0;
		json_text_summary(msg, sizeof(msg), lv_json_get_str(first, "message"));
		snprintf(detail, sizeof(detail), "%.*s", (int)(dl < 60 ? dl : 60), d ? d : "");
		if (used < cap)
			snprintf(out + used, cap - used, ": node %s (%s): %s%s%s%s", node->string ? node->string : "?",
			         lv_json_get_str(node, "class_type") ? lv_json_get_str(node, "class_type") : "?",
			         msg[0] ? msg : "invalid", detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
		break; /* the first node says enough */
	}
}

/* Upload the shot's reference images; names[i] gets what the workflow should say. */
static int upload_refs(call *k, const lv_segment_job *job, char names[MAX_REFS][256], size_t *n,
                       lv_provider_error *err)
{
	size_t i;
	*n = 0;
	for (i = 0; i < job->n_references && i < MAX_REFS; i++) {
		char fname[160];
		lv_http_part parts[3] = { { "image", NULL, job->references[i], NULL, 0, "image/png" },
			                  { "overwrite", NULL, NULL, "true", 4, NULL },
			                  { "type", NULL, NULL, "input", 5, NULL } };
		lv_http_response resp;
		cJSON *j = NULL;
		const char *name, *sub;
		int rc;
		/* A stable name per task, shot and image: uploading again overwrites, so a retry is harmless. */
		snprintf(fname, sizeof(fname), "lv_%s_%d_%zu.png", job->task_id, job->index, i);
		parts[0].filename = fname;
		rc = comfy_http(k, "POST", "/upload/image", NULL, parts, 3, NULL, 1, &resp, err);
		if (rc) {
			lv_http_response_free(&resp);
			return rc;
		}
		if (resp.status != 200) {
			rc = http_status_fail(k, resp.status, "uploading a reference image", err);
			lv_http_response_free(&resp);
			return rc;
		}
		j = lv_json_parse_n(resp.body, resp.body_len);
		lv_http_response_free(&resp);
		name = lv_json_get_str(j, "name");
		sub = lv_json_get_str(j, "subfolder");
		if (!name || !*name) {
			cJSON_Delete(j);
			return lv_provider_fail(err, "segment_failed", 1,
			                        "provider '%s': ComfyUI's answer to an image upload has no file name",
			                        k->c->conf->name);
		}
		if (sub && *sub)
			snprintf(names[i], 256, "%s/%s", sub, name);
		else
			snprintf(names[i], 256, "%s", name);
		cJSON_Delete(j);
		(*n)++;
	}
	return LV_OK;
}

/*
 * A prompt already on the server for this submission: one in the queue or in recent history whose
 * extra_data.client_id is `match` (exact) or starts with it (prefix: any earlier submission of the same
 * task and shot; finished runs that failed are skipped, they are why it is submitted again).  Its id in
 * *out.  Returns 1 found, 0 not there, -1 when the server could not be asked.
 */
static int find_prompt(call *k, const char *match, int prefix, char **out)
{
	lv_http_response resp;
	lv_provider_error ignore;
	cJSON *j = NULL;
	const cJSON *list, *it;
	static const char *const lists[] = { "queue_running", "queue_pending" };
	size_t i, ml = strlen(match);
	char path[64];
	int asked = 0;
	*out = NULL;
	memset(&ignore, 0, sizeof(ignore));
	if (comfy_http(k, "GET", "/queue", NULL, NULL, 0, NULL, 1, &resp, &ignore) == LV_OK && resp.status == 200)
		j = lv_json_parse_n(resp.body, resp.body_len);
	lv_http_response_free(&resp);
	asked += cJSON_IsObject(j);
	for (i = 0; i < 2 && !*out; i++) {
		list = cJSON_GetObjectItemCaseSensitive(j, lists[i]);
		cJSON_ArrayForEach(it, list)
		{
			const char *c = lv_json_get_str(cJSON_GetArrayItem(it, 3), "client_id");
			const cJSON *id = cJSON_GetArrayItem(it, 1);
			if (c && (prefix ? !strncmp(c, match, ml) : !strcmp(c, match)) && cJSON_IsString(id)) {
				*out = lv_strdup(id->valuestring);
				break;
			}
		}
	}
	cJSON_Delete(j);
	if (*out)
		return 1;
	snprintf(path, sizeof(path), "/history?max_items=%d", HISTORY_SCAN);
	j = NULL;
	if (comfy_http(k, "GET", path, NULL, NULL, 0, NULL, 1, &resp, &ignore) == LV_OK && resp.status == 200)
		j = lv_json_parse_n(resp.body, resp.body_len);
	lv_http_response_free(&resp);
	asked += cJSON_IsObject(j);
	cJSON_ArrayForEach(it, j)
	{
		const char *c = lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(it, "prompt"), 3),
		                                "client_id");
		const char *st = lv_json_get_str(cJSON_GetObjectItemCaseSensitive(it, "status"), "status_str");
		if (!c || !it->string || !(prefix ? !strncmp(c, match, ml) : !strcmp(c, match)))
			continue;
		if (prefix && st && strcmp(st, "success") != 0)
			continue;
		lv_strset(out, it->string); /* the newest match wins */
	}
	cJSON_Delete(j);
	return *out ? 1 : asked == 2 ? 0 : -1;
}

static int frames_for(const comfy *c, int seconds)
{
	double raw = seconds * c->fps;
	int m = c->frames_multiple_of > 0 ? c->frames_multiple_of : 1;
	int n = (int)ceil(raw / m - 1e-9) * m + c->frames_plus;
	return n < 1 ? 1 : n;
}

static void gen_size(const comfy *c, const lv_segment_job *job, int *w, int *h)
{
	size_t i;
	int m = c->size_multiple_of > 0 ? c->size_multiple_of : 1;
	for (i = 0; i < c->n_sizes; i++)
		if (c->sizes[i].film_w == job->width && c->sizes[i].film_h == job->height) {
			*w = c->sizes[i].gen_w;
			*h = c->sizes[i].gen_h;
			return;
		}
	*w = job->width / m * m;
	*h = job->height / m * m;
}

static int comfy_submit(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                        lv_provider_error *err)
{
	comfy *c = self;
	call k;
	char names[MAX_REFS][256], cid[160], prefix[140], rnd[13];
	size_t n_names = 0, i;
	fill_ctx f;
	cJSON *wf = NULL, *body = NULL, *j = NULL;
	char *text = NULL, *prompt_id = NULL;
	lv_http_response resp;
	long status;
	int rc, w, h, use_r2v = job->n_references > 0 && c->wf_r2v;
	memset(&resp, 0, sizeof(resp));
	cid[0] = '\0';
	if (call_init(&k, c, ctx, err))
		return LV_EPROVIDER;
	memset(&f, 0, sizeof(f));
	gen_size(c, job, &w, &h);
	f.prompt = job->prompt;
	f.negative = job->negative_prompt ? job->negative_prompt : c->negative;
	f.task_id = job->task_id;
	f.seed = (double)job->seed;
	f.frames = frames_for(c, job->seconds);
	f.fps = c->fps;
	f.width = w;
	f.height = h;
	f.seconds = job->seconds;
	f.shot = job->index;
	/* The client id names the task and shot, then this submission: how a prompt already queued (by a
	 * worker that died before storing its id, or one whose answer was lost) is found again. */
	snprintf(prefix, sizeof(prefix), "longvideo-%s-%d-", job->task_id, job->index);
	if (find_prompt(&k, prefix, 1, &prompt_id) == 1) {
		LV_INFO("provider '%s': task %s shot %d is already on the server as %s; using it", c->conf->name,
		        job->task_id, job->index, prompt_id);
		goto submitted;
	}
	if (use_r2v && (rc = upload_refs(&k, job, names, &n_names, err)))
		return rc;
	for (i = 0; i < n_names; i++)
		f.refs[f.n_refs++] = names[i];
	lv_random_base62(rnd, sizeof(rnd) - 1);
	rnd[sizeof(rnd) - 1] = '\0';
	snprintf(cid, sizeof(cid), "%s%s", prefix, rnd);
	wf = cJSON_Duplicate(use_r2v ? c->wf_r2v : c->wf, 1);
	body = cJSON_CreateObject();
	if (!wf || !body || fill_tree(&f, wf) || !cJSON_AddItemToObject(body, "prompt", wf) ||
	    !cJSON_AddStringToObject(body, "client_id", cid) || !(text = lv_json_print(body))) {
		if (!cJSON_GetObjectItemCaseSensitive(body, "prompt"))
			cJSON_Delete(wf);
		cJSON_Delete(body);
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	}
	cJSON_Delete(body);
	LV_DEBUG("provider '%s': task %s shot %d: %d frames at %dx%d, %zu reference image(s)", c->conf->name,
	         job->task_id, job->index, (int)f.frames, w, h, n_names);
	rc = comfy_http(&k, "POST", "/prompt", text, NULL, 0, NULL, 0, &resp, err);
	free(text);
	if (rc == LV_ECANCELED)
		return rc;
	if (rc == LV_OK && resp.status == 200) {
		j = lv_json_parse_n(resp.body, resp.body_len);
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "prompt_id")))
			prompt_id = lv_strdup(cJSON_GetObjectItemCaseSensitive(j, "prompt_id")->valuestring);
		if (prompt_id && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "node_errors")) > 0)
			LV_WARN("provider '%s': ComfyUI queued the workflow but reported errors on some output nodes",
			        c->conf->name);
		cJSON_Delete(j);
	} else if (rc == LV_OK && resp.status == 400) {
		char why[400];
		j = lv_json_parse_n(resp.body, resp.body_len);
		prompt_error_summary(why, sizeof(why), j);
		cJSON_Delete(j);
		lv_http_response_free(&resp);
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s' rejected the workflow: %s; check providers.%s.%s and the models and "
		                        "custom nodes installed on the ComfyUI server",
		                        c->conf->name, why, c->conf->name, use_r2v ? "workflow_r2v" : "workflow");
	} else if (rc == LV_OK && resp.status >= 400 && resp.status < 500) {
		/* The server acted on nothing: say so (429 was already retried as far as config allows). */
		rc = http_status_fail(&k, resp.status, "submitting the workflow", err);
		lv_http_response_free(&resp);
		return rc;
	}
	status = rc == LV_OK ? resp.status : 0;
	lv_http_response_free(&resp);
	if (!prompt_id) {
		/* No usable answer (timeout, 5xx, garbage): did ComfyUI queue it anyway? */
		lv_provider_error first = *err;
		if (find_prompt(&k, cid, 0, &prompt_id) != 1) {
			if (!first.code[0] && status != 200)
				lv_provider_fail(&first, "segment_failed", 1,
				                 "provider '%s': ComfyUI answered HTTP %ld to the workflow and did not queue it",
				                 c->conf->name, status);
			else if (!first.code[0])
				lv_provider_fail(&first, "segment_failed", 1,
				                 "provider '%s': ComfyUI's answer to the workflow is not the documented JSON "
				                 "(no prompt_id) and nothing was queued",
				                 c->conf->name);
			*err = first;
			err->retryable = 1; /* nothing was queued under this submission: safe to send again */
			return LV_EPROVIDER;
		}
		LV_WARN("provider '%s': the answer to /prompt was lost, but ComfyUI had queued it as %s; using that",
		        c->conf->name, prompt_id);
		memset(err, 0, sizeof(*err));
	}
submitted:
	st->job_id = prompt_id;
	st->job_state = lv_asprintf("{\"client_id\":\"%s\"}", cid[0] ? cid : prefix);
	st->state = LV_JOB_PENDING;
	st->poll_after_ms = c->poll_ms;
	if (!st->job_state)
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	return LV_OK;
}

/* ---- poll ---------------------------------------------------------------------------------------------------- */

static int ext_is(const char *fname, const char *const *exts)
{
	const char *dot = strrchr(fname, '.');
	for (; dot && *exts; exts++)
		if (!strcasecmp(dot + 1, *exts))
			return 1;
	return 0;
}

static const char *const video_exts[] = { "mp4", "mov", "m4v", "webm", "mkv", NULL };
static const char *const anim_exts[] = { "gif", "webp", NULL };
static const char *const still_exts[] = { "png", "jpg", "jpeg", "webp", NULL };

/* Pick the outputs to fetch from a history item: the first video (a clip file from SaveVideo,
 * VHS_VideoCombine, SaveAnimatedWEBP, ...), else the largest frame sequence.  Returns a JSON array of
 * {filename, subfolder, type} and sets *kind ("clip" or "frames"), or NULL. */
static cJSON *pick_outputs(const comfy *c, const cJSON *outputs, const char **kind)
{
	static const char *const keys[] = { "videos", "gifs", "images" };
	const cJSON *node, *best_clip = NULL, *best_frames_node = NULL;
	int best_clip_rank = 0, best_frames = 0;
	cJSON *arr;
	size_t i;
	*kind = NULL;
	cJSON_ArrayForEach(node, outputs)
	{
		int animated = cJSON_IsTrue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(node, "animated"), 0)),
		    stills = 0;
		if (c->output_node && (!node->string || strcmp(node->string, c->output_node) != 0))
			continue;
		for (i = 0; i < 3; i++) {
			const cJSON *e;
			cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(node, keys[i]))
			{
				const char *fn = lv_json_get_str(e, "filename"), *type = lv_json_get_str(e, "type");
				int rank = 0;
				if (!fn || !*fn)
					continue;
				if (ext_is(fn, video_exts))
					rank = 4;
				else if (ext_is(fn, anim_exts) && (i < 2 || animated))
					rank = 2;
				else if (i == 2 && ext_is(fn, still_exts))
					stills++;
				if (rank && !(type && !strcmp(type, "output")))
					rank--; /* a preview (temp) only when nothing was saved */
				if (rank > best_clip_rank) {
					best_clip_rank = rank;
					best_clip = e;
				}
			}
		}
		if (stills > best_frames) {
			best_frames = stills;
			best_frames_node = node;
		}
	}
	if (!(arr = cJSON_CreateArray()))
		return NULL;
	if (best_clip) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "filename", lv_json_get_str(best_clip, "filename"));
		cJSON_AddStringToObject(o, "subfolder",
		                        lv_json_get_str(best_clip, "subfolder") ? lv_json_get_str(best_clip, "subfolder") : "");
		cJSON_AddStringToObject(o, "type", lv_json_get_str(best_clip, "type") ? lv_json_get_str(best_clip, "type")
		                                                                       : "output");
		cJSON_AddItemToArray(arr, o);
		*kind = "clip";
		return arr;
	}
	if (best_frames_node && best_frames <= MAX_FRAMES_OUT) {
		const cJSON *e;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(best_frames_node, "images"))
		{
			const char *fn = lv_json_get_str(e, "filename");
			cJSON *o;
			if (!fn || !ext_is(fn, still_exts))
				continue;
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "filename", fn);
			cJSON_AddStringToObject(o, "subfolder",
			                        lv_json_get_str(e, "subfolder") ? lv_json_get_str(e, "subfolder") : "");
			cJSON_AddStringToObject(o, "type", lv_json_get_str(e, "type") ? lv_json_get_str(e, "type") : "output");
			cJSON_AddItemToArray(arr, o);
		}
		*kind = "frames";
		return arr;
	}
	cJSON_Delete(arr);
	return NULL;
}

/* Is the prompt queued or running?  1 running, 2 pending, 0 neither, -1 unknown. */
static int queue_state(call *k, const char *prompt_id)
{
	lv_http_response resp;
	lv_provider_error ignore;
	cJSON *j = NULL;
	const cJSON *it;
	int r = -1;
	if (comfy_http(k, "GET", "/queue", NULL, NULL, 0, NULL, 1, &resp, &ignore) == LV_OK && resp.status == 200)
		j = lv_json_parse_n(resp.body, resp.body_len);
	lv_http_response_free(&resp);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -1;
	}
	r = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "queue_running"))
	{
		const cJSON *id = cJSON_GetArrayItem(it, 1);
		if (cJSON_IsString(id) && !strcmp(id->valuestring, prompt_id))
			r = 1;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "queue_pending"))
	{
		const cJSON *id = cJSON_GetArrayItem(it, 1);
		if (r == 0 && cJSON_IsString(id) && !strcmp(id->valuestring, prompt_id))
			r = 2;
	}
	cJSON_Delete(j);
	return r;
}

/* GET /history/{id}: *item gets the prompt's entry (NULL while it is not finished). */
static int get_history(call *k, const char *prompt_id, cJSON **root, const cJSON **item, lv_provider_error *err)
{
	lv_http_response resp;
	char *path = NULL, *esc = curl_easy_escape(NULL, prompt_id, 0);
	int rc;
	*root = NULL;
	*item = NULL;
	if (!esc || !(path = lv_asprintf("/history/%s", esc))) {
		curl_free(esc);
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	}
	curl_free(esc);
	rc = comfy_http(k, "GET", path, NULL, NULL, 0, NULL, 1, &resp, err);
	free(path);
	if (rc) {
		lv_http_response_free(&resp);
		return rc;
	}
	if (resp.status != 200) {
		rc = http_status_fail(k, resp.status, "reading the job's history", err);
		lv_http_response_free(&resp);
		return rc;
	}
	*root = lv_json_parse_n(resp.body, resp.body_len);
	lv_http_response_free(&resp);
	if (!cJSON_IsObject(*root)) {
		cJSON_Delete(*root);
		*root = NULL;
		return lv_provider_fail(err, "segment_failed", 1,
		                        "provider '%s': ComfyUI's /history answer is not JSON; is base_url a ComfyUI server?",
		                        k->c->conf->name);
	}
	*item = cJSON_GetObjectItemCaseSensitive(*root, prompt_id);
	return LV_OK;
}

/* A failed run's cause, from status.messages. */
static int run_failed(const comfy *c, const cJSON *status, lv_provider_error *err)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(status, "messages"))
	{
		const cJSON *type = cJSON_GetArrayItem(m, 0), *data = cJSON_GetArrayItem(m, 1);
		if (!cJSON_IsString(type))
			continue;
		if (!strcmp(type->valuestring, "execution_interrupted"))
			return lv_provider_fail(err, "segment_failed", 1,
			                        "provider '%s': the run was interrupted on the ComfyUI server; it will be "
			                        "submitted again",
			                        c->conf->name);
		if (!strcmp(type->valuestring, "execution_error")) {
			const char *et = lv_json_get_str(data, "exception_type"), *em = lv_json_get_str(data, "exception_message");
			const char *nt = lv_json_get_str(data, "node_type"), *nid = lv_json_get_str(data, "node_id");
			char msg[180];
			int oom = (et && strstr(et, "OutOfMemory")) || (em && strcasestr(em, "out of memory"));
			json_text_summary(msg, sizeof(msg), em);
			if (oom)
				return lv_provider_fail(err, "segment_failed", 1,
				                        "provider '%s': the ComfyUI server ran out of GPU memory in node %s (%s); "
				                        "lower the generation size (sizes) or the frame count, or free the GPU",
				                        c->conf->name, nid ? nid : "?", nt ? nt : "?");
			return lv_provider_fail(err, "segment_failed", 0,
			                        "provider '%s': the workflow failed in node %s (%s): %s%s%s; check the "
			                        "workflow and the ComfyUI server log",
			                        c->conf->name, nid ? nid : "?", nt ? nt : "?", et ? et : "error",
			                        msg[0] ? ": " : "", msg);
		}
	}
	return lv_provider_fail(err, "segment_failed", 0,
	                        "provider '%s': the workflow failed on the ComfyUI server; see its log", c->conf->name);
}

static char *state_with_outputs(const lv_segment_job *job, const char *kind, cJSON *files)
{
	cJSON *s = job->job_state ? lv_json_parse_text(job->job_state) : NULL;
	char *out;
	if (!cJSON_IsObject(s)) {
		cJSON_Delete(s);
		s = cJSON_CreateObject();
	}
	cJSON_DeleteItemFromObjectCaseSensitive(s, "kind");
	cJSON_DeleteItemFromObjectCaseSensitive(s, "files");
	cJSON_AddStringToObject(s, "kind", kind);
	cJSON_AddItemToObject(s, "files", files);
	out = lv_json_print(s);
	cJSON_Delete(s);
	return out;
}

/* The job's state from its finished /history entry (pure). */
static int item_state(const comfy *c, const cJSON *item, const lv_segment_job *job, lv_job_status *st,
                      lv_provider_error *err)
{
	const cJSON *status;
	const char *status_str, *kind = NULL;
	cJSON *files;
	int rc;
	status = cJSON_GetObjectItemCaseSensitive(item, "status");
	status_str = lv_json_get_str(status, "status_str");
	if (status_str && !strcmp(status_str, "error")) {
		rc = run_failed(c, status, err);
		st->state = LV_JOB_FAILED;
		return rc;
	}
	if (status && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(status, "completed")) &&
	    !(status_str && !strcmp(status_str, "success"))) {
		st->state = LV_JOB_RUNNING;
		st->poll_after_ms = c->poll_ms;
		return LV_OK;
	}
	files = pick_outputs(c, cJSON_GetObjectItemCaseSensitive(item, "outputs"), &kind);
	if (!files) {
		st->state = LV_JOB_FAILED;
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s': the workflow finished but saved no video%s; add a SaveVideo, "
		                        "VHS_VideoCombine or SaveAnimatedWEBP node (or SaveImage for frames) to the workflow",
		                        c->conf->name, c->output_node ? " from output_node" : "");
	}
	if (!(st->job_state = state_with_outputs(job, kind, files)))
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	st->state = LV_JOB_SUCCEEDED;
	return LV_OK;
}

int lv_comfy_read_history(const void *self, const char *body, size_t len, const lv_segment_job *job, int *found,
                          lv_job_status *st, lv_provider_error *err)
{
	const comfy *c = self;
	cJSON *root = lv_json_parse_n(body, len);
	const cJSON *item;
	int rc = LV_OK;
	*found = 0;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return lv_provider_fail(err, "segment_failed", 1,
		                        "provider '%s': ComfyUI's /history answer is not JSON; is base_url a ComfyUI server?",
		                        c->conf->name);
	}
	if (job->job_id && (item = cJSON_GetObjectItemCaseSensitive(root, job->job_id)) != NULL) {
		*found = 1;
		rc = item_state(c, item, job, st, err);
	}
	cJSON_Delete(root);
	return rc;
}

static int comfy_poll(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                      lv_provider_error *err)
{
	comfy *c = self;
	call k;
	cJSON *root = NULL;
	const cJSON *item = NULL;
	int rc, q;
	if (call_init(&k, c, ctx, err))
		return LV_EPROVIDER;
	if (!job->job_id)
		return lv_provider_fail(err, "internal_error", 0, "provider '%s': polling a job without an id", c->conf->name);
	if ((rc = get_history(&k, job->job_id, &root, &item, err)))
		return rc;
	if (!item) {
		cJSON_Delete(root);
		q = queue_state(&k, job->job_id);
		if (q != 0) {
			st->state = q == 1 ? LV_JOB_RUNNING : LV_JOB_PENDING;
			st->poll_after_ms = c->poll_ms;
			return LV_OK;
		}
		/* In neither queue: it may have finished a moment ago, or the server lost it. */
		if ((rc = get_history(&k, job->job_id, &root, &item, err)))
			return rc;
		if (!item) {
			cJSON_Delete(root);
			st->state = LV_JOB_FAILED;
			return lv_provider_fail(err, "segment_failed", 1,
			                        "provider '%s': ComfyUI no longer knows prompt %s (restarted, or its queue was "
			                        "cleared); it will be submitted again",
			                        c->conf->name, job->job_id);
		}
	}
	rc = item_state(c, item, job, st, err);
	cJSON_Delete(root);
	return rc;
}

/* ---- fetch ------------------------------------------------------------------------------------------------------ */

static int download(call *k, const cJSON *file, const char *dest, lv_provider_error *err)
{
	CURLU *u = curl_url();
	char *url = NULL, *path;
	lv_http_response resp;
	int rc;
	const char *fn = lv_json_get_str(file, "filename"), *sub = lv_json_get_str(file, "subfolder"),
	           *type = lv_json_get_str(file, "type");
	char *q1 = fn ? lv_asprintf("filename=%s", fn) : NULL, *q2 = lv_asprintf("subfolder=%s", sub ? sub : ""),
	     *q3 = lv_asprintf("type=%s", type ? type : "output");
	/* The query is built by libcurl so names with spaces or '&' survive. */
	if (!u || !q1 || !q2 || !q3 || curl_url_set(u, CURLUPART_URL, "http://x/view", 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, q1, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, q2, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, q3, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		free(q1);
		free(q2);
		free(q3);
		return lv_provider_fail(err, "segment_failed", 0, "provider '%s': an output without a file name",
		                        k->c->conf->name);
	}
	curl_url_cleanup(u);
	free(q1);
	free(q2);
	free(q3);
	path = url + strlen("http://x");
	rc = comfy_http(k, "GET", path, NULL, NULL, 0, dest, 1, &resp, err);
	curl_free(url);
	if (rc == LV_OK && resp.status != 200) {
		if (resp.status == 404)
			rc = lv_provider_fail(err, "segment_failed", 0,
			                      "provider '%s': ComfyUI no longer has the output file %s; was its output "
			                      "folder cleaned?",
			                      k->c->conf->name, fn);
		else
			rc = http_status_fail(k, resp.status, "downloading the clip", err);
	}
	lv_http_response_free(&resp);
	return rc;
}

static int comfy_fetch(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
                       lv_provider_error *err)
{
	comfy *c = self;
	call k;
	cJSON *state = job->job_state ? lv_json_parse_text(job->job_state) : NULL, *root = NULL, *picked = NULL;
	const cJSON *files, *f;
	const char *kind;
	char *dir = NULL;
	int rc = LV_OK, converted = 0;
	if (call_init(&k, c, ctx, err)) {
		cJSON_Delete(state);
		return LV_EPROVIDER;
	}
	files = cJSON_GetObjectItemCaseSensitive(state, "files");
	kind = lv_json_get_str(state, "kind");
	if (!cJSON_IsArray(files) || !kind) {
		/* No outputs recorded (state from an older poll): read them again. */
		const cJSON *item = NULL;
		if (!job->job_id || (rc = get_history(&k, job->job_id, &root, &item, err))) {
			cJSON_Delete(state);
			return rc ? rc : lv_provider_fail(err, "internal_error", 0, "fetching a job without an id");
		}
		picked = pick_outputs(c, cJSON_GetObjectItemCaseSensitive(item, "outputs"), &kind);
		cJSON_Delete(root);
		files = picked;
		if (!picked) {
			cJSON_Delete(state);
			return lv_provider_fail(err, "segment_failed", 0, "provider '%s': the finished job has no video output",
			                        c->conf->name);
		}
	}
	dir = lv_asprintf("%s.parts", out_path);
	if (!dir || lv_mkdir_p(dir, 0)) {
		rc = lv_provider_fail(err, "internal_error", 1, "cannot make a work directory beside %s", out_path);
		goto out;
	}
	if (!strcmp(kind, "clip")) {
		char *dl = lv_path_join(dir, "clip.download");
		if (!dl) {
			rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
			goto out;
		}
		rc = download(&k, cJSON_GetArrayItem(files, 0), dl, err);
		if (rc == LV_OK && lv_clip_to_mp4(dl, out_path, job->width, job->height, ctx->cancel, &converted)) {
			rc = lv_error_last()->status == LV_ECANCELED
			             ? LV_ECANCELED
			             : lv_provider_fail(err, "segment_failed", 0,
			                                "provider '%s': the clip ComfyUI made for shot %d cannot be used: %s",
			                                c->conf->name, job->index, lv_error_last()->message);
		}
		if (rc == LV_OK && converted)
			LV_DEBUG("provider '%s': shot %d converted to MP4", c->conf->name, job->index);
		free(dl);
	} else {
		size_t n = (size_t)cJSON_GetArraySize(files), i = 0;
		char **paths = lv_calloc(n ? n : 1, sizeof(char *));
		if (!paths) {
			rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
			goto out;
		}
		cJSON_ArrayForEach(f, files)
		{
			char name[32];
			snprintf(name, sizeof(name), "frame_%05zu", i);
			if (!(paths[i] = lv_path_join(dir, name))) {
				rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
				break;
			}
			if ((rc = download(&k, f, paths[i++], err)))
				break;
		}
		if (rc == LV_OK &&
		    lv_clip_frames_to_mp4((const char *const *)paths, n, c->fps, out_path, job->width, job->height,
		                          ctx->cancel))
			rc = lv_error_last()->status == LV_ECANCELED
			             ? LV_ECANCELED
			             : lv_provider_fail(err, "segment_failed", 0,
			                                "provider '%s': the frames ComfyUI made for shot %d cannot be used: %s",
			                                c->conf->name, job->index, lv_error_last()->message);
		for (i = 0; i < n; i++)
			free(paths[i]);
		free(paths);
	}
out:
	if (dir)
		lv_rm_rf(dir);
	free(dir);
	cJSON_Delete(picked);
	cJSON_Delete(state);
	return rc;
}

/* ---- cancel -------------------------------------------------------------------------------------------------------- */

static void cancel_post(call *k, const char *path, cJSON *body, const char *what, const char *prompt_id)
{
	lv_http_response resp;
	lv_provider_error err;
	char *text = lv_json_print(body);
	memset(&err, 0, sizeof(err));
	if (text && comfy_http(k, "POST", path, text, NULL, 0, NULL, 1, &resp, &err) == LV_OK)
		LV_INFO("provider '%s': %s %s (HTTP %ld)", k->c->conf->name, what, prompt_id, resp.status);
	lv_http_response_free(&resp);
	free(text);
	cJSON_Delete(body);
}

static int comfy_cancel(void *self, const lv_call_ctx *ctx, const lv_segment_job *job)
{
	comfy *c = self;
	call k;
	lv_provider_error err;
	int q, round;
	/* Cancellation must still reach the server though the task's cancel flag is up. */
	lv_call_ctx quiet = { NULL, ctx ? ctx->task_id : NULL, ctx ? ctx->work_dir : NULL };
	memset(&err, 0, sizeof(err));
	if (!job->job_id || call_init(&k, c, &quiet, &err))
		return LV_OK;
	/* Best effort, and a driver thread waits for it: short and with one retry at most. */
	k.timeout_ms = c->conf->timeout_ms < 10000 ? c->conf->timeout_ms : 10000;
	k.max_retries = c->conf->max_retries < 1 ? c->conf->max_retries : 1;
	/* A pending prompt is taken out of the queue; a running one is interrupted.  A pending prompt can
	 * start running in between (the one before it was just stopped), so look again once. */
	for (round = 0; round < 2; round++) {
		cJSON *body = cJSON_CreateObject();
		q = queue_state(&k, job->job_id);
		if (q == 0 || !body) {
			cJSON_Delete(body);
			break; /* finished or gone: nothing to stop */
		}
		if (q == 1) {
			/* Current servers stop only this prompt; older ones ignore the body and stop what runs, which
			 * is this prompt (it was just seen running). */
			cJSON_AddStringToObject(body, "prompt_id", job->job_id);
			cancel_post(&k, "/interrupt", body, "asked ComfyUI to interrupt", job->job_id);
			break;
		}
		cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "delete"), cJSON_CreateString(job->job_id));
		cancel_post(&k, "/queue", body, "asked ComfyUI to drop from its queue", job->job_id);
		if (q < 0)
			break; /* the queue cannot be read: deleting was all that is safe */
	}
	return LV_OK;
}

/* ---- construction -------------------------------------------------------------------------------------------------- */

static const lv_video_ops video_ops = { LV_PROVIDER_ABI_VERSION, LV_VIDEO_FETCH_IS_CPU, comfy_submit, comfy_poll,
	                                comfy_fetch, comfy_cancel };

static void comfy_destroy(void *self)
{
	comfy *c = self;
	if (!c)
		return;
	cJSON_Delete(c->wf);
	cJSON_Delete(c->wf_r2v);
	free(c->base);
	free(c->negative);
	free(c->output_node);
	free(c);
}

static int num_key(double *out, const lv_provider_conf *conf, const char *key, double def, double lo, double hi,
                   int integer)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf->json, key);
	*out = def;
	if (!v)
		return LV_OK;
	if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi ||
	    (integer && v->valuedouble != floor(v->valuedouble)))
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: must be %s from %g to %g", conf->name, key,
		                    integer ? "a whole number" : "a number", lo, hi);
	*out = v->valuedouble;
	return LV_OK;
}

static int parse_size(const char *s, int *w, int *h)
{
	char x;
	return s && sscanf(s, "%d%c%d", w, &x, h) == 3 && (x == 'x' || x == 'X') && *w >= 16 && *h >= 16 &&
	       *w <= 4096 && *h <= 4096;
}

static int parse_sizes(comfy *c, const lv_provider_conf *conf)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf->json, "sizes"), *it;
	if (!v)
		return LV_OK;
	if (!cJSON_IsObject(v) || cJSON_GetArraySize(v) > MAX_SIZES)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.sizes: must map film sizes to generation sizes, like "
		                    "{\"1280x720\": \"832x480\"} (at most %d)",
		                    conf->name, MAX_SIZES);
	cJSON_ArrayForEach(it, v)
	{
		size_map *m = &c->sizes[c->n_sizes];
		if (!parse_size(it->string, &m->film_w, &m->film_h) || !cJSON_IsString(it) ||
		    !parse_size(it->valuestring, &m->gen_w, &m->gen_h))
			return lv_error_set(LV_ECONFIG,
			                    "config: providers.%s.sizes.%s: keys and values must be sizes like \"1280x720\" "
			                    "(16 to 4096)",
			                    conf->name, it->string ? it->string : "?");
		c->n_sizes++;
	}
	return LV_OK;
}

int lv_provider_comfyui_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "workflow",       "workflow_r2v",     "fps",   "frames_multiple_of",
		                            "frames_plus",    "size_multiple_of", "sizes", "negative_prompt",
		                            "poll_interval_ms", "output_node",    NULL };
	comfy *c;
	double d;
	const cJSON *v;
	size_t n;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!conf->base_url)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.base_url: is required (the ComfyUI server, e.g. "
		                    "\"http://127.0.0.1:8188\")",
		                    conf->name);
	if (!(c = lv_calloc(1, sizeof(*c))))
		return LV_ENOMEM;
	c->conf = conf;
	if (!(c->base = lv_strdup(conf->base_url)))
		goto nomem;
	n = strlen(c->base);
	while (n > 0 && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	if (load_workflow(&c->wf, conf, "workflow", 0))
		goto fail;
	if (cJSON_GetObjectItemCaseSensitive(conf->json, "workflow_r2v") && load_workflow(&c->wf_r2v, conf, "workflow_r2v", 1))
		goto fail;
	if (num_key(&c->fps, conf, "fps", 16, 1, 120, 0))
		goto fail;
	if (num_key(&d, conf, "frames_multiple_of", 4, 1, 64, 1))
		goto fail;
	c->frames_multiple_of = (int)d;
	if (num_key(&d, conf, "frames_plus", 1, 0, 64, 1))
		goto fail;
	c->frames_plus = (int)d;
	if (num_key(&d, conf, "size_multiple_of", 16, 1, 256, 1))
		goto fail;
	c->size_multiple_of = (int)d;
	if (num_key(&d, conf, "poll_interval_ms", 2000, 50, 600000, 1))
		goto fail;
	c->poll_ms = (int64_t)d;
	if (parse_sizes(c, conf))
		goto fail;
	v = cJSON_GetObjectItemCaseSensitive(conf->json, "negative_prompt");
	if (v && !cJSON_IsString(v)) {
		lv_error_set(LV_ECONFIG, "config: providers.%s.negative_prompt: must be a string", conf->name);
		goto fail;
	}
	if (!(c->negative = lv_strdup(v ? v->valuestring
	                                : "blurry, low quality, distorted, deformed, watermark, text, subtitles, static")))
		goto nomem;
	v = cJSON_GetObjectItemCaseSensitive(conf->json, "output_node");
	if (v && (!cJSON_IsString(v) || !*v->valuestring)) {
		lv_error_set(LV_ECONFIG, "config: providers.%s.output_node: must be a node id like \"42\"", conf->name);
		goto fail;
	}
	if (v && !cJSON_GetObjectItemCaseSensitive(c->wf, v->valuestring)) {
		lv_error_set(LV_ECONFIG, "config: providers.%s.output_node: the workflow has no node \"%s\"", conf->name,
		             v->valuestring);
		goto fail;
	}
	if (v && !(c->output_node = lv_strdup(v->valuestring)))
		goto nomem;
	p->self = c;
	p->video = &video_ops;
	p->destroy = comfy_destroy;
	return LV_OK;
nomem:
	lv_error_nomem();
fail:
	comfy_destroy(c);
	return lv_error_last()->status ? lv_error_last()->status : LV_ECONFIG;
}
