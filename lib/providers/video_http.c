#include "providers/video_http.h"
#include "model/probe.h"
#include "media/image.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

char *lv_vh_base(const char *base_url)
{
	size_t n = strlen(base_url);
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	return lv_strndup(base_url, n);
}

cJSON *lv_vh_json(const lv_http_response *resp)
{
	cJSON *j = NULL;
	if (!resp->body || resp->body_len == 0 || resp->body_len > LV_VH_BODY_CAP ||
	    lv_json_parse(&j, resp->body, resp->body_len, "vendor answer") != LV_OK)
		return NULL;
	return j;
}

void lv_vh_policy(lv_retry_policy *p, const lv_provider_conf *conf, int idempotent)
{
	memset(p, 0, sizeof(*p));
	p->max_retries = conf->max_retries;
	p->base_ms = 500;
	p->max_ms = 10000;
	p->idempotent = idempotent;
}

int lv_vh_call_begin_as(lv_vh_call *c, const lv_provider_conf *conf, const char *header_prefix,
                        lv_provider_error *err)
{
	memset(c, 0, sizeof(*c));
	c->conf = conf;
	if (lv_provider_api_key(conf, "segment_failed", &c->key, err))
		return LV_EPROVIDER;
	if (!(c->auth = lv_asprintf("%s%s", header_prefix, c->key)))
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	c->secrets[0] = c->key;
	snprintf(c->what, sizeof(c->what), "provider '%s'", conf->name);
	return LV_OK;
}

int lv_vh_call_begin(lv_vh_call *c, const lv_provider_conf *conf, lv_provider_error *err)
{
	return lv_vh_call_begin_as(c, conf, "Authorization: Bearer ", err);
}

int lv_vh_ping_as(const lv_provider_conf *conf, const char *header_prefix, const char *url, lv_provider_error *err)
{
	lv_vh_call c;
	const char *headers[2];
	int rc;
	if (lv_vh_call_begin_as(&c, conf, header_prefix, err)) {
		lv_vh_call_end(&c);
		snprintf(err->code, sizeof(err->code), "internal_error");
		return LV_EPROVIDER;
	}
	headers[0] = c.auth;
	headers[1] = NULL;
	rc = lv_provider_ping_url(conf, url, headers, c.secrets, err);
	lv_vh_call_end(&c);
	return rc;
}

/* The length of "scheme://host[:port]" at the start of url, or 0. */
static size_t origin_len(const char *url)
{
	const char *p = url ? strstr(url, "://") : NULL;
	if (!p)
		return 0;
	p += 3;
	while (*p && *p != '/' && *p != '?' && *p != '#')
		p++;
	return (size_t)(p - url);
}

int lv_vh_same_host(const char *url, const char *base)
{
	size_t a = origin_len(url), b = origin_len(base);
	return a > 0 && a == b && !strncasecmp(url, base, a);
}

void lv_vh_known_init(lv_vh_known *k)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->mu, NULL);
}

void lv_vh_known_destroy(lv_vh_known *k)
{
	pthread_mutex_destroy(&k->mu);
}

void lv_vh_known_add(lv_vh_known *k, const char *id)
{
	pthread_mutex_lock(&k->mu);
	lv_strlcpy(k->ids[k->n % LV_VH_KNOWN], id, sizeof(k->ids[0]));
	k->n++;
	pthread_mutex_unlock(&k->mu);
}

int lv_vh_known_has(lv_vh_known *k, const char *id)
{
	size_t i, n;
	int found = 0;
	pthread_mutex_lock(&k->mu);
	n = k->n < LV_VH_KNOWN ? k->n : LV_VH_KNOWN;
	for (i = 0; i < n && !found; i++)
		found = !strcmp(k->ids[i], id);
	pthread_mutex_unlock(&k->mu);
	return found;
}

int lv_vh_wait(const lv_call_ctx *ctx, int64_t ms)
{
	int64_t until = lv_mono_ms() + ms;
	while (lv_mono_ms() < until) {
		if (ctx->cancel && *ctx->cancel)
			return LV_ECANCELED;
		lv_sleep_ms(until - lv_mono_ms() < 100 ? until - lv_mono_ms() : 100);
	}
	return ctx->cancel && *ctx->cancel ? LV_ECANCELED : LV_OK;
}

void lv_vh_iso_time(char *out, size_t cap, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- a model's input object ---------------------------------------------------------------------------------- */

static const char *const input_keys[LV_VH_IN_COUNT] = { "prompt", "duration", "aspect_ratio", "resolution",
	                                                  "seed", "negative_prompt", "image", "images" };

static int choice_of(int *out, const lv_provider_conf *conf, const char *key, const char *const *choices, int def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf->json, key);
	int i;
	*out = def;
	if (!v)
		return LV_OK;
	for (i = 0; cJSON_IsString(v) && choices[i]; i++)
		if (!strcmp(choices[i], v->valuestring)) {
			*out = i;
			return LV_OK;
		}
	return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: must be one of \"%s\", \"%s\", \"%s\"", conf->name, key,
	                    choices[0], choices[1], choices[2]);
}

int lv_vh_field_names(char **names, const char *const *keys, const char *const *defaults, size_t n, size_t prompt,
                      const lv_provider_conf *conf, const char *known)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(conf->json, "fields"), *it;
	size_t k;
	for (k = 0; k < n; k++)
		if (lv_strset(&names[k], defaults[k]))
			return LV_ENOMEM;
	if (f && !cJSON_IsObject(f))
		return lv_error_set(LV_ECONFIG, "config: providers.%s.fields: must be an object like {\"%s\": \"name\"}",
		                    conf->name, keys[prompt]);
	cJSON_ArrayForEach(it, f)
	{
		for (k = 0; k < n && strcmp(keys[k], it->string) != 0; k++)
			;
		if (k == n)
			return lv_error_set(LV_ECONFIG, "config: providers.%s.fields.%s: unknown field (known: %s)", conf->name,
			                    it->string, known);
		if (cJSON_IsNull(it)) {
			free(names[k]);
			names[k] = NULL;
		} else if (!cJSON_IsString(it) || !it->valuestring[0]) {
			return lv_error_set(LV_ECONFIG,
			                    "config: providers.%s.fields.%s: must be the field's name on the wire, or null to "
			                    "leave it out",
			                    conf->name, it->string);
		} else if (lv_strset(&names[k], it->valuestring)) {
			return LV_ENOMEM;
		}
	}
	if (!names[prompt])
		return lv_error_set(LV_ECONFIG, "config: providers.%s.fields.%s: the prompt cannot be left out", conf->name,
		                    keys[prompt]);
	return LV_OK;
}

int lv_vh_input_parse(lv_vh_input *in, const lv_provider_conf *conf, const char *const defaults[LV_VH_IN_COUNT])
{
	static const char *const durations[] = { "number", "string", "seconds", NULL };
	static const char *const resolutions[] = { "720p", "720P", "none", NULL };
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(conf->json, "extra_input");
	int rc;
	memset(in, 0, sizeof(*in));
	if ((rc = lv_vh_field_names(in->field, input_keys, defaults, LV_VH_IN_COUNT, LV_VH_IN_PROMPT, conf,
	                            "prompt, duration, aspect_ratio, resolution, seed, negative_prompt, image, images")))
		return rc;
	if (x && !cJSON_IsObject(x))
		return lv_error_set(LV_ECONFIG, "config: providers.%s.extra_input: must be an object", conf->name);
	if (x && !(in->extra = cJSON_Duplicate(x, 1)))
		return lv_error_nomem();
	if (choice_of(&in->duration_format, conf, "duration_format", durations, 0) ||
	    choice_of(&in->resolution_format, conf, "resolution_format", resolutions, 0))
		return LV_ECONFIG;
	return LV_OK;
}

void lv_vh_input_free(lv_vh_input *in)
{
	size_t k;
	for (k = 0; k < LV_VH_IN_COUNT; k++)
		free(in->field[k]);
	cJSON_Delete(in->extra);
	memset(in, 0, sizeof(*in));
}

static int put(cJSON *o, const char *name, cJSON *v)
{
	if (!name) {
		cJSON_Delete(v);
		return 1;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	return v && cJSON_AddItemToObject(o, name, v);
}

cJSON *lv_vh_input_build(const lv_vh_input *in, const lv_segment_job *job, const char *const *refs, size_t n)
{
	cJSON *o = in->extra ? cJSON_Duplicate(in->extra, 1) : cJSON_CreateObject(), *list = NULL;
	char buf[32];
	size_t i;
	int ok = o != NULL;
	ok = ok && put(o, in->field[LV_VH_IN_PROMPT], cJSON_CreateString(job->prompt ? job->prompt : ""));
	if (in->duration_format == 0)
		ok = ok && put(o, in->field[LV_VH_IN_DURATION], cJSON_CreateNumber(job->seconds));
	else {
		snprintf(buf, sizeof(buf), in->duration_format == 1 ? "%d" : "%ds", job->seconds);
		ok = ok && put(o, in->field[LV_VH_IN_DURATION], cJSON_CreateString(buf));
	}
	ok = ok && put(o, in->field[LV_VH_IN_ASPECT], cJSON_CreateString(job->aspect_ratio ? job->aspect_ratio : "16:9"));
	if (in->resolution_format < 2) {
		for (i = 0; job->resolution && job->resolution[i] && i + 1 < sizeof(buf); i++)
			buf[i] = in->resolution_format == 1 && job->resolution[i] == 'p' ? 'P' : job->resolution[i];
		buf[i] = '\0';
		ok = ok && put(o, in->field[LV_VH_IN_RESOLUTION], cJSON_CreateString(buf));
	}
	ok = ok && put(o, in->field[LV_VH_IN_SEED], cJSON_CreateNumber((double)(job->seed & 0x7fffffffu)));
	if (job->negative_prompt && *job->negative_prompt)
		ok = ok && put(o, in->field[LV_VH_IN_NEGATIVE], cJSON_CreateString(job->negative_prompt));
	if (n > 0) {
		ok = ok && put(o, in->field[LV_VH_IN_IMAGE], cJSON_CreateString(refs[0]));
		if (ok && in->field[LV_VH_IN_IMAGES]) {
			ok = (list = cJSON_CreateStringArray(refs, (int)n)) != NULL && put(o, in->field[LV_VH_IN_IMAGES], list);
		}
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int lv_vh_ref_mode_conf(int *mode, const lv_provider_conf *conf)
{
	const char *v = NULL;
	int rc = lv_provider_conf_str(&v, conf, "reference_delivery", "auto");
	*mode = LV_VH_REF_AUTO;
	if (rc)
		return rc;
	if (!strcmp(v, "url"))
		*mode = LV_VH_REF_URL;
	else if (!strcmp(v, "base64"))
		*mode = LV_VH_REF_BASE64;
	else if (strcmp(v, "auto") != 0)
		return lv_error_set(LV_ECONFIG, "config: providers.%s.reference_delivery: must be \"auto\", \"url\" or "
		                    "\"base64\" (got \"%s\")", conf->name, v);
	return LV_OK;
}

int lv_vh_reference(char **out, const lv_segment_job *job, size_t i, int mode, size_t max_bytes, int min_side,
                    size_t budget, const char *provider, lv_provider_error *err)
{
	const char *u = job->reference_urls ? job->reference_urls[i] : NULL;
	*out = NULL;
	if (mode != LV_VH_REF_BASE64 && u && (mode == LV_VH_REF_URL || !strncmp(u, "https://", 8))) {
		if (!(*out = lv_strdup(u)))
			return lv_provider_fail(err, "internal_error", 1, "out of memory");
		return LV_OK;
	}
	if (mode == LV_VH_REF_URL)
		return lv_provider_fail(err, "invalid_config", 0,
		                        "provider '%s': reference_delivery is \"url\" but the storage gives no URL for the "
		                        "references (local storage has none: use S3 storage, or \"auto\")",
		                        provider);
	return lv_vh_reference_url(out, job->references[i], max_bytes, min_side, budget, provider, err);
}

int lv_vh_refs(char ***urls, size_t *n, const lv_segment_job *job, int mode, size_t max, size_t budget,
               const char *provider, lv_provider_error *err)
{
	size_t i, k = job->n_references < max ? job->n_references : max;
	*urls = NULL;
	*n = 0;
	if (k == 0)
		return LV_OK;
	if (!(*urls = lv_calloc(k, sizeof(char *))))
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	for (i = 0; i < k; i++) {
		if (lv_vh_reference(&(*urls)[i], job, i, mode, (size_t)20 << 20, 0, budget / k, provider, err)) {
			lv_vh_refs_free(*urls, i);
			*urls = NULL;
			return LV_EPROVIDER;
		}
	}
	*n = k;
	return LV_OK;
}

void lv_vh_refs_free(char **urls, size_t n)
{
	size_t i;
	for (i = 0; urls && i < n; i++)
		free(urls[i]);
	free(urls);
}

const char *lv_vh_json_path(const cJSON *j, const char *path)
{
	char part[64];
	const char *p = path;
	while (j && p && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || len >= sizeof(part))
			return NULL;
		memcpy(part, p, len);
		part[len] = '\0';
		if (cJSON_IsArray(j) && part[0] >= '0' && part[0] <= '9')
			j = cJSON_GetArrayItem(j, atoi(part));
		else
			j = cJSON_GetObjectItemCaseSensitive(j, part);
		p = dot ? dot + 1 : NULL;
	}
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

void lv_vh_call_end(lv_vh_call *c)
{
	lv_provider_free_secret(c->auth);
	c->auth = NULL;
}

void lv_vh_request(lv_http_request *req, const lv_vh_call *c, const char *method, const char *url,
                   const char *const *headers, const volatile int *cancel)
{
	lv_provider_request(req, c->conf, method, url, headers, c->secrets, c->what);
	req->max_body = LV_VH_BODY_CAP;
	req->cancel = cancel;
}

int lv_vh_perform(const lv_vh_call *c, const lv_http_request *req, int is_submit, const char *step,
                  lv_http_response *resp, int *attempts, lv_provider_error *err)
{
	lv_retry_policy pol;
	int rc;
	lv_vh_policy(&pol, c->conf, !is_submit);
	rc = lv_http_perform_retry(req, &pol, resp, attempts);
	if (rc != LV_OK)
		rc = lv_vh_transport_error(err, c->conf->name, step, rc, resp, is_submit);
	return rc;
}

int lv_vh_status_get(const lv_vh_call *c, const lv_call_ctx *ctx, const char *url, lv_http_response *resp,
                     lv_provider_error *err)
{
	lv_http_request req;
	const char *headers[2];
	headers[0] = c->auth;
	headers[1] = NULL;
	lv_vh_request(&req, c, "GET", url, headers, ctx->cancel);
	return lv_vh_perform(c, &req, 0, "status check", resp, NULL, err);
}

int lv_vh_job_id(lv_job_status *st, const char *id, const char *noun, const lv_provider_conf *conf, int shot,
                 lv_provider_error *err)
{
	if (!id || !lv_vh_id_ok(id))
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s' accepted shot %d but its answer has no readable %s id; it may have "
		                        "started the job, so it is not sent again",
		                        conf->name, shot, noun);
	if (!(st->job_id = lv_strdup(id)))
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	return LV_OK;
}

int lv_vh_stop(const lv_vh_call *c, const char *method, const char *url, lv_http_response *resp)
{
	lv_http_request req;
	const char *headers[2];
	headers[0] = c->auth;
	headers[1] = NULL;
	lv_vh_request(&req, c, method, url, headers, NULL);
	if (req.timeout_ms > 10000)
		req.timeout_ms = 10000;
	return lv_http_perform(&req, resp);
}

int lv_vh_cancel(const lv_provider_conf *conf, const char *header_prefix, const char *method, const char *url,
                 const lv_segment_job *job)
{
	lv_provider_error err;
	lv_vh_call c;
	lv_http_response resp;
	int rc;
	if (!url)
		return LV_ENOMEM;
	if (lv_vh_call_begin_as(&c, conf, header_prefix, &err)) {
		lv_vh_call_end(&c);
		return LV_EPROVIDER;
	}
	rc = lv_vh_stop(&c, method, url, &resp);
	LV_INFO("provider '%s': asked to stop job %s (shot %d): %s %ld", conf->name, job->job_id, job->index,
	        rc ? "error" : "HTTP", rc ? (long)rc : resp.status);
	lv_http_response_free(&resp);
	lv_vh_call_end(&c);
	return rc;
}

int lv_vh_get_json(const lv_vh_call *c, const lv_call_ctx *ctx, const char *url, lv_vh_http_error_fn on_error,
                   cJSON **j, lv_provider_error *err)
{
	lv_http_response resp;
	int rc;
	*j = NULL;
	if (!url)
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	if ((rc = lv_vh_status_get(c, ctx, url, &resp, err)) != LV_OK) {
		lv_http_response_free(&resp);
		return rc;
	}
	if (resp.status < 200 || resp.status >= 300) {
		rc = on_error(err, c, &resp, 0);
		if (resp.status == 404 || resp.status == 408 || resp.status == 409 || resp.status == 425)
			err->retryable = 1;
	} else if (!(*j = lv_vh_json(&resp))) {
		rc = lv_provider_fail(err, "segment_failed", 1,
		                      "provider '%s' answered a status check with something that is not JSON; will ask again",
		                      c->conf->name);
	}
	lv_http_response_free(&resp);
	return rc;
}

int lv_vh_ping(const lv_provider_conf *conf, const char *base, const char *path, lv_provider_error *err)
{
	const char *key = NULL;
	char *url = lv_asprintf("%s%s", base, path);
	int rc = lv_provider_api_key(conf, "internal_error", &key, err);
	if (rc == LV_OK)
		rc = url ? lv_provider_ping_bearer(conf, url, key, err) : lv_error_nomem();
	free(url);
	return rc;
}

int lv_vh_id_ok(const char *id)
{
	size_t n = 0;
	const char *c;
	for (c = id; c && *c; c++, n++) {
		int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		         *c == '-' || *c == '_' || *c == '.' || *c == ':';
		if (!ok)
			return 0;
	}
	return n >= 1 && n <= 200 && strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

int lv_vh_path_ok(const char *path)
{
	char seg[256];
	const char *p = path;
	int n = 0;
	while (p && *p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || len >= sizeof(seg) || ++n > 8)
			return 0;
		memcpy(seg, p, len);
		seg[len] = '\0';
		if (!lv_vh_id_ok(seg))
			return 0;
		p = slash ? slash + 1 : NULL;
		if (slash && !*p)
			return 0;
	}
	return n > 0;
}

static unsigned be32(const unsigned char *p)
{
	return ((unsigned)p[0] << 24) | ((unsigned)p[1] << 16) | ((unsigned)p[2] << 8) | (unsigned)p[3];
}

int lv_vh_data_url(char **out, const char *path, size_t max_bytes, int min_side, const char *provider,
                   lv_provider_error *err)
{
	static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	struct stat st;
	char *data = NULL, *url = NULL;
	const char *mime = NULL;
	const unsigned char *u;
	size_t len = 0, prefix;
	*out = NULL;
	if (stat(path, &st) != 0)
		return lv_provider_fail(err, "anchor_failed", 0, "provider '%s': the reference image %s is missing",
		                        provider, path);
	if ((size_t)st.st_size > max_bytes)
		return lv_provider_fail(err, "anchor_failed", 0,
		                        "provider '%s' accepts reference images up to %zu MB; %s has %lld bytes", provider,
		                        max_bytes >> 20, path, (long long)st.st_size);
	if (lv_file_read(&data, &len, path))
		return lv_provider_fail(err, "anchor_failed", 0, "provider '%s': %s", provider, lv_error_last()->message);
	u = (const unsigned char *)data;
	if (len >= 24 && !memcmp(u, png_magic, 8)) {
		unsigned w = be32(u + 16), h = be32(u + 20);
		mime = "image/png";
		if (min_side > 0 && (w < (unsigned)min_side || h < (unsigned)min_side)) {
			free(data);
			return lv_provider_fail(err, "anchor_failed", 0,
			                        "provider '%s' needs reference images at least %d px on the short side; "
			                        "%s is %ux%u",
			                        provider, min_side, path, w, h);
		}
	} else if (len >= 3 && u[0] == 0xff && u[1] == 0xd8 && u[2] == 0xff) {
		mime = "image/jpeg";
	} else if (len >= 12 && !memcmp(u, "RIFF", 4) && !memcmp(u + 8, "WEBP", 4)) {
		mime = "image/webp";
	}
	if (!mime) {
		free(data);
		return lv_provider_fail(err, "anchor_failed", 0,
		                        "provider '%s': the reference image %s is not a PNG, JPEG or WebP file", provider,
		                        path);
	}
	prefix = strlen("data:;base64,") + strlen(mime);
	url = lv_malloc(prefix + 4 * ((len + 2) / 3) + 1);
	if (!url) {
		free(data);
		return lv_provider_fail(err, "internal_error", 1, "out of memory encoding a reference image");
	}
	snprintf(url, prefix + 1, "data:%s;base64,", mime);
	lv_base64_encode(url + prefix, data, len);
	free(data);
	*out = url;
	return LV_OK;
}

/* RGBA pixels (w x h) as a JPEG of dw x dh in *jpg (caller frees with av_free). */
static int jpeg_encode(uint8_t **jpg, size_t *len, const uint8_t *rgba, int w, int h, int dw, int dh)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *cc = codec ? avcodec_alloc_context3(codec) : NULL;
	AVFrame *f = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();
	struct SwsContext *sws = NULL;
	const uint8_t *src[4] = { rgba, NULL, NULL, NULL };
	int src_stride[4] = { 4 * w, 0, 0, 0 };
	int rc = LV_EIO;
	*jpg = NULL;
	*len = 0;
	if (!cc || !f || !pkt)
		goto out;
	cc->width = dw;
	cc->height = dh;
	cc->pix_fmt = AV_PIX_FMT_YUVJ420P;
	cc->time_base = (AVRational){ 1, 25 };
	cc->flags |= AV_CODEC_FLAG_QSCALE;
	cc->global_quality = FF_QP2LAMBDA * 4;
	f->format = cc->pix_fmt;
	f->width = dw;
	f->height = dh;
	f->quality = cc->global_quality;
	if (avcodec_open2(cc, codec, NULL) < 0 || av_frame_get_buffer(f, 0) < 0 ||
	    !(sws = sws_getContext(w, h, AV_PIX_FMT_RGBA, dw, dh, AV_PIX_FMT_YUVJ420P, SWS_BICUBIC, NULL, NULL, NULL)))
		goto out;
	sws_scale(sws, src, src_stride, 0, h, f->data, f->linesize);
	if (avcodec_send_frame(cc, f) < 0 || avcodec_send_frame(cc, NULL) < 0 || avcodec_receive_packet(cc, pkt) < 0)
		goto out;
	if (!(*jpg = av_malloc((size_t)pkt->size)))
		goto out;
	memcpy(*jpg, pkt->data, (size_t)pkt->size);
	*len = (size_t)pkt->size;
	rc = LV_OK;
out:
	sws_freeContext(sws);
	av_packet_free(&pkt);
	av_frame_free(&f);
	avcodec_free_context(&cc);
	return rc;
}

int lv_vh_reference_url(char **out, const char *path, size_t max_bytes, int min_side, size_t budget,
                        const char *provider, lv_provider_error *err)
{
	static const int sides[] = { 1024, 768, 512 };
	uint8_t *rgba = NULL;
	int w = 0, h = 0;
	size_t i;
	int rc = lv_vh_data_url(out, path, max_bytes, min_side, provider, err);
	if (rc != LV_OK || budget == 0 || strlen(*out) <= budget)
		return rc;
	free(*out);
	*out = NULL;
	if (lv_image_load(&rgba, &w, &h, path, 0, 0) != LV_OK || w <= 0 || h <= 0) {
		free(rgba);
		return lv_provider_fail(err, "anchor_failed", 0, "provider '%s': the reference image %s cannot be decoded",
		                        provider, path);
	}
	for (i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
		int s = w < h ? w : h, dw = w, dh = h;
		uint8_t *jpg = NULL;
		size_t len = 0;
		if (i > 0 && s <= sides[i])
			continue; /* its own size was tried */
		if (s > sides[i]) {
			dw = (int)((int64_t)w * sides[i] / s) & ~1;
			dh = (int)((int64_t)h * sides[i] / s) & ~1;
		}
		if ((min_side > 0 && (dw < min_side || dh < min_side)) || dw < 2 || dh < 2)
			break;
		if (jpeg_encode(&jpg, &len, rgba, w, h, dw, dh) != LV_OK)
			break;
		if (4 * ((len + 2) / 3) + strlen("data:image/jpeg;base64,") <= budget) {
			size_t prefix = strlen("data:image/jpeg;base64,");
			char *url = lv_malloc(prefix + 4 * ((len + 2) / 3) + 1);
			if (url) {
				memcpy(url, "data:image/jpeg;base64,", prefix + 1);
				lv_base64_encode(url + prefix, jpg, len);
			}
			av_free(jpg);
			free(rgba);
			*out = url;
			LV_DEBUG("provider '%s': %s sent as a %dx%d JPEG (%zu bytes) to fit %zu bytes", provider, path, dw, dh,
			         len, budget);
			return url ? LV_OK : lv_provider_fail(err, "internal_error", 1, "out of memory");
		}
		av_free(jpg);
	}
	free(rgba);
	return lv_provider_fail(err, "anchor_failed", 0,
	                        "provider '%s': the reference image %s does not fit the reference budget of %zu bytes per "
	                        "image even as a JPEG; raise reference_budget_kb or send fewer characters per shot",
	                        provider, path, budget);
}

void lv_vh_summary(char *out, size_t cap, const char *msg, const char *secret)
{
	size_t n = 0;
	int space = 0;
	char *copy;
	const unsigned char *p;
	if (cap == 0)
		return;
	/* Redact before cutting: a cut could leave a recognisable part of the secret behind. */
	if (!(copy = lv_strdup(msg ? msg : ""))) {
		lv_strlcpy(out, "(no details)", cap);
		return;
	}
	if (secret && *secret) {
		const char *s[2];
		s[0] = secret;
		s[1] = NULL;
		lv_http_redact(copy, s);
	}
	for (p = (const unsigned char *)copy; *p && n + 1 < cap; p++) {
		if (*p <= 0x20 || *p == 0x7f) { /* whitespace and control characters: one space between words */
			space = n > 0;
			continue;
		}
		if (space) {
			if (n + 2 >= cap)
				break;
			out[n++] = ' ';
			space = 0;
		}
		out[n++] = (char)*p;
	}
	/* Do not leave half a UTF-8 sequence at the end. */
	if (*p && n > 0) {
		size_t k = n;
		while (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0xc0) {
			unsigned char lead = (unsigned char)out[k - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
			if (n - (k - 1) < need)
				n = k - 1;
		}
	}
	out[n] = '\0';
	free(copy);
}

int lv_vh_transport_error(lv_provider_error *err, const char *provider, const char *what, int rc,
                          const lv_http_response *resp, int is_submit)
{
	if (rc == LV_ECANCELED) {
		lv_provider_fail(err, "segment_failed", 1, "provider '%s': %s canceled", provider, what);
		return LV_ECANCELED;
	}
	if (is_submit && resp->sent)
		return lv_provider_fail(err, rc == LV_ETIMEOUT ? "provider_timeout" : "segment_failed", 0,
		                        "provider '%s' did not answer the %s (%s); it may have started the job, so it is "
		                        "not sent again; check the provider's status and timeout_ms",
		                        provider, what, rc == LV_ETIMEOUT ? "timed out" : resp->error);
	return lv_provider_fail(err, rc == LV_ETIMEOUT ? "provider_timeout" : "segment_failed", 1,
	                        "provider '%s' could not be reached for the %s (%s); check base_url and the network",
	                        provider, what, rc == LV_ETIMEOUT ? "timed out" : resp->error);
}

int lv_vh_fetch_file(const lv_provider_conf *conf, const lv_call_ctx *ctx, const char *url,
                     const char *const *headers, const char *const *secrets, const char *out_path, const char *what,
                     const char *code, int shot, lv_provider_error *err)
{
	lv_http_request req;
	lv_http_response resp;
	lv_retry_policy pol;
	char who[160], step[64];
	int rc;
	snprintf(who, sizeof(who), "provider '%s'", conf->name);
	snprintf(step, sizeof(step), "download of the %s", what);
	lv_provider_request(&req, conf, "GET", url, headers, secrets, who);
	req.download_to = out_path;
	req.cancel = ctx->cancel;
	lv_vh_policy(&pol, conf, 1);
	rc = lv_http_perform_retry(&req, &pol, &resp, NULL);
	if (rc != LV_OK) {
		rc = lv_vh_transport_error(err, conf->name, step, rc, &resp, 0);
		snprintf(err->code, sizeof(err->code), "%s", rc == LV_ECANCELED || strcmp(err->code, "provider_timeout") ? code
		                                                                                                          : err->code);
		lv_http_response_free(&resp);
		return rc;
	}
	if (resp.status < 200 || resp.status >= 300) {
		long status = resp.status;
			char whose[64] = "";
		lv_http_response_free(&resp);
		if (shot >= 0)
			snprintf(whose, sizeof(whose), " of shot %d", shot);
		if (status == 403 || status == 404 || status == 410)
			return lv_provider_fail(err, code, 0,
			                        "provider '%s': the %s%s is no longer available (HTTP %ld); results expire, so "
			                        "they are fetched as soon as they are ready",
			                        conf->name, what, whose, status);
		return lv_provider_fail(err, code, status == 429 || status >= 500,
		                        "provider '%s': downloading the %s%s failed with HTTP %ld", conf->name, what, whose,
		                        status);
	}
	lv_http_response_free(&resp);
	return LV_OK;
}

int lv_vh_download(const lv_provider_conf *conf, const lv_call_ctx *ctx, const char *url,
                   const char *const *headers, const char *const *secrets, const char *out_path, int shot,
                   lv_provider_error *err)
{
	lv_media_info mi;
	int rc = lv_vh_fetch_file(conf, ctx, url, headers, secrets, out_path, "clip", "segment_failed", shot, err);
	if (rc != LV_OK)
		return rc;
	if (lv_media_probe(&mi, out_path) != LV_OK || !mi.has_video) {
		unlink(out_path);
		return lv_provider_fail(err, "segment_failed", 1,
		                        "provider '%s': the clip of shot %d is not a readable video file", conf->name, shot);
	}
	LV_DEBUG("provider '%s': shot %d clip %dx%d, %.2f s", conf->name, shot, mi.width, mi.height, mi.duration);
	return LV_OK;
}

int lv_vh_fetch_state_clip(const lv_provider_conf *conf, const char *header_prefix, const char *base,
                           const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
                           lv_provider_error *err)
{
	cJSON *s = job->job_state ? cJSON_Parse(job->job_state) : NULL;
	const char *u = lv_json_get_str(s, "video_url");
	const char *headers[2] = { NULL, NULL };
	lv_vh_call c;
	int rc;
	if (!u) {
		cJSON_Delete(s);
		return lv_provider_fail(err, "segment_failed", 1, "provider '%s' has no video for shot %d yet", conf->name,
		                        job->index);
	}
	if (lv_vh_call_begin_as(&c, conf, header_prefix, err)) {
		cJSON_Delete(s);
		return LV_EPROVIDER;
	}
	if (lv_vh_same_host(u, base))
		headers[0] = c.auth;
	rc = lv_vh_download(conf, ctx, u, headers[0] ? headers : NULL, c.secrets, out_path, job->index, err);
	lv_vh_call_end(&c);
	cJSON_Delete(s);
	return rc;
}
