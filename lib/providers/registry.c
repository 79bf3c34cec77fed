/* The provider registry: builds each configured provider by its type. */
#include "http/http.h"
#include "providers/provider.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lv_provider_local_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_anthropic_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_openai_chat_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_openai_moderation_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_dashscope_video_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_openai_videos_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_comfyui_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_openai_images_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_openai_speech_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_fal_queue_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_replicate_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_google_veo_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_dashscope_image_create(lv_provider *p, const lv_provider_conf *conf);
int lv_provider_dashscope_speech_create(lv_provider *p, const lv_provider_conf *conf);

static const struct {
	const char *type;
	lv_provider_factory factory;
} factories[] = {
	{ "local", lv_provider_local_create },
	{ "anthropic", lv_provider_anthropic_create },
	{ "openai-chat", lv_provider_openai_chat_create },
	{ "openai-moderation", lv_provider_openai_moderation_create },
	{ "dashscope-video", lv_provider_dashscope_video_create },
	{ "openai-videos", lv_provider_openai_videos_create },
	{ "comfyui", lv_provider_comfyui_create },
	{ "openai-images", lv_provider_openai_images_create },
	{ "openai-speech", lv_provider_openai_speech_create },
	{ "fal-queue", lv_provider_fal_queue_create },
	{ "replicate", lv_provider_replicate_create },
	{ "google-veo", lv_provider_google_veo_create },
	{ "dashscope-image", lv_provider_dashscope_image_create },
	{ "dashscope-speech", lv_provider_dashscope_speech_create },
};

lv_provider_factory lv_provider_factory_find(const char *type)
{
	size_t i;
	for (i = 0; type && i < sizeof(factories) / sizeof(factories[0]); i++)
		if (!strcmp(factories[i].type, type))
			return factories[i].factory;
	return NULL;
}

int lv_provider_fail(lv_provider_error *err, const char *code, int retryable, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return LV_EPROVIDER;
	snprintf(err->code, sizeof(err->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	err->retryable = retryable;
	return LV_EPROVIDER;
}

/* The public stage bits are the internal ones. */
_Static_assert(LV_PROVIDER_SCRIPT == LV_STAGE_SCRIPT && LV_PROVIDER_MODERATION == LV_STAGE_MODERATION &&
                       LV_PROVIDER_REFERENCE_IMAGE == LV_STAGE_ANCHOR && LV_PROVIDER_VIDEO == LV_STAGE_VIDEO &&
                       LV_PROVIDER_SPEECH == LV_STAGE_SPEECH && LV_PROVIDER_MUSIC == LV_STAGE_MUSIC,
               "stage bits");

/* A program's provider type: its create fills the public methods, copied into the instance. */
static int plugin_build(lv_provider *p, const lv_provider_conf *conf)
{
	const lv_provider_type *t = conf->plugin;
	lv_provider_methods m;
	int rc;
	if ((rc = lv_provider_check_keys(conf, t->keys)))
		return rc;
	memset(&m, 0, sizeof(m));
	m.version = LV_PROVIDER_OPS_VERSION;
	lv_error_clear();
	if ((rc = t->create(&m, conf, t->type_data)) != LV_OK) {
		if (lv_error_last()->status == LV_OK)
			return lv_error_set(rc ? rc : LV_ECONFIG, "config: providers.%s: type %s could not be created",
			                    conf->name, t->name);
		return rc;
	}
	p->self = m.self;
	p->destroy = m.destroy;
	p->cpu_bound = m.cpu_bound;
	/* Serve only the stages the type declared. */
	p->script = (t->stages & LV_STAGE_SCRIPT) ? m.script : NULL;
	p->moderation = (t->stages & LV_STAGE_MODERATION) ? m.moderation : NULL;
	p->anchor = (t->stages & LV_STAGE_ANCHOR) ? m.anchor : NULL;
	p->video = (t->stages & LV_STAGE_VIDEO) ? m.video : NULL;
	p->speech = (t->stages & LV_STAGE_SPEECH) ? m.speech : NULL;
	p->music = (t->stages & LV_STAGE_MUSIC) ? m.music : NULL;
	if (p->video && (!p->video->submit || !p->video->poll || !p->video->fetch)) {
		if (p->destroy)
			p->destroy(p->self);
		return lv_error_set(LV_ECONFIG, "config: providers.%s: type %s serves video without submit, poll and fetch",
		                    conf->name, t->name);
	}
	return LV_OK;
}

int lv_provider_build(lv_provider *p, const lv_provider_conf *c)
{
	lv_provider_factory f = c->plugin ? plugin_build : lv_provider_factory_find(c->type);
	if (!f)
		return lv_error_set(LV_ECONFIG, "config: providers.%s.type: '%s' is not available in this build", c->name,
		                    c->type);
	memset(p, 0, sizeof(*p));
	p->version = LV_PROVIDER_ABI_VERSION;
	p->name = c->name;
	p->conf = c;
	if (f(p, c)) {
		if (lv_error_last()->status == LV_ECONFIG && strncmp(lv_error_last()->message, "config:", 7) != 0)
			lv_error_prefix("config: providers.%s", c->name);
		return lv_error_last()->status ? lv_error_last()->status : LV_ECONFIG;
	}
	return LV_OK;
}

int lv_providers_build(lv_providers **out, const lv_config *cfg)
{
	lv_providers *ps = lv_calloc(1, sizeof(*ps));
	size_t i;
	*out = NULL;
	if (!ps || !(ps->items = lv_calloc(cfg->n_providers, sizeof(*ps->items)))) {
		free(ps);
		return LV_ENOMEM;
	}
	for (i = 0; i < cfg->n_providers; i++) {
		int rc = lv_provider_build(&ps->items[ps->n], &cfg->providers[i]);
		if (rc) {
			lv_providers_free(ps);
			return rc;
		}
		ps->n++;
	}
	*out = ps;
	return LV_OK;
}

const lv_provider *lv_providers_get(const lv_providers *ps, const char *name)
{
	size_t i;
	for (i = 0; ps && name && i < ps->n; i++)
		if (!strcmp(ps->items[i].name, name))
			return &ps->items[i];
	return NULL;
}

void lv_providers_free(lv_providers *ps)
{
	size_t i;
	if (!ps)
		return;
	for (i = 0; i < ps->n; i++)
		if (ps->items[i].destroy)
			ps->items[i].destroy(ps->items[i].self);
	free(ps->items);
	free(ps);
}

int lv_provider_check_keys(const lv_provider_conf *conf, const char *const *type_keys)
{
	static const char *const common[] = { "type", "rates", "resolutions", "aspect_ratios", "min_seconds",
		                              "max_seconds", "allowed_seconds", "api_key_env", "base_url",
		                              "timeout_ms", "connect_timeout_ms", "max_retries",
		                              "max_concurrent_jobs", NULL };
	const cJSON *it, *other;
	cJSON_ArrayForEach(it, conf->json)
	{
		const char *const *k;
		int ok = 0;
		for (other = conf->json->child; other != it; other = other->next)
			if (!strcmp(other->string, it->string))
				return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: given more than once", conf->name,
				                    it->string);
		for (k = common; *k && !ok; k++)
			ok = !strcmp(*k, it->string);
		for (k = type_keys; k && *k && !ok; k++)
			ok = !strcmp(*k, it->string);
		if (!ok)
			return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: unknown key for type %s", conf->name,
			                    it->string, conf->type);
	}
	return LV_OK;
}

int lv_provider_conf_str(const char **out, const lv_provider_conf *conf, const char *key, const char *fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf->json, key);
	*out = fallback;
	if (!v)
		return LV_OK;
	if (!cJSON_IsString(v) || !*v->valuestring)
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: must be a non-empty string", conf->name, key);
	*out = v->valuestring;
	return LV_OK;
}

int lv_provider_conf_int(int64_t *out, const lv_provider_conf *conf, const char *key, int64_t def, int64_t min,
                         int64_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf->json, key);
	*out = def;
	if (!v)
		return LV_OK;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)min ||
	    v->valuedouble > (double)max)
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: must be an integer from %lld to %lld", conf->name,
		                    key, (long long)min, (long long)max);
	*out = (int64_t)v->valuedouble;
	return LV_OK;
}

int lv_provider_conf_bool(int *out, const lv_provider_conf *conf, const char *key, int def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf->json, key);
	*out = def;
	if (!v)
		return LV_OK;
	if (!cJSON_IsBool(v))
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: must be true or false", conf->name, key);
	*out = cJSON_IsTrue(v);
	return LV_OK;
}

const char *lv_provider_conf_name(const lv_provider_conf *conf)
{
	return conf ? conf->name : NULL;
}

const char *lv_provider_conf_api_key(const lv_provider_conf *conf)
{
	const char *v = conf && conf->api_key_env ? getenv(conf->api_key_env) : NULL;
	return v && *v ? v : NULL;
}

void lv_provider_free_secret(char *s)
{
	if (s) {
		volatile char *p = s; /* stores through volatile are not dropped as dead before the free */
		while (*p)
			*p++ = '\0';
	}
	free(s);
}

int lv_provider_api_key(const lv_provider_conf *conf, const char *stage_code, const char **out,
                        lv_provider_error *err)
{
	const char *v = conf->api_key_env ? getenv(conf->api_key_env) : NULL;
	*out = NULL;
	if (!conf->api_key_env)
		return lv_provider_fail(err, stage_code, 0,
		                        "provider '%s' has no api_key_env: name the environment variable that holds its key",
		                        conf->name);
	if (!v || !*v)
		return lv_provider_fail(err, stage_code, 0,
		                        "provider '%s': the environment variable %s is not set; set it to the API key",
		                        conf->name, conf->api_key_env);
	*out = v;
	return LV_OK;
}

void lv_provider_request(lv_http_request *req, const lv_provider_conf *conf, const char *method, const char *url,
                         const char *const *headers, const char *const *secrets, const char *what)
{
	memset(req, 0, sizeof(*req));
	req->method = method;
	req->url = url;
	req->headers = headers;
	req->timeout_ms = conf->timeout_ms;
	req->connect_timeout_ms = conf->connect_timeout_ms;
	req->secrets = secrets;
	req->what = what;
}

int lv_provider_ping_url(const lv_provider_conf *conf, const char *url, const char *const *headers,
                         const char *const *secrets, lv_provider_error *err)
{
	lv_http_request req;
	lv_http_response resp;
	char what[160];
	int rc;
	snprintf(what, sizeof(what), "provider '%s'", conf->name);
	lv_provider_request(&req, conf, "GET", url, headers, secrets, what);
	if (req.timeout_ms > 15000)
		req.timeout_ms = 15000;
	rc = lv_http_perform(&req, &resp);
	if (rc)
		rc = lv_provider_fail(err, "internal_error", 1, "provider '%s' cannot be reached: %s", conf->name,
		                      resp.error[0] ? resp.error : lv_error_last()->message);
	else if (resp.status == 401 || resp.status == 403)
		rc = lv_provider_fail(err, "internal_error", 0, "provider '%s' refused the key in %s (HTTP %ld)", conf->name,
		                      conf->api_key_env ? conf->api_key_env : "(none configured)", resp.status);
	else if (resp.status < 200 || resp.status >= 300)
		rc = lv_provider_fail(err, "internal_error", 1, "provider '%s' answered HTTP %ld to a model list request",
		                      conf->name, resp.status);
	lv_http_response_free(&resp);
	return rc;
}

int lv_provider_ping_bearer(const lv_provider_conf *conf, const char *url, const char *key, lv_provider_error *err)
{
	const char *headers[2] = { NULL, NULL }, *secrets[2] = { key, NULL };
	char *auth = NULL;
	int rc;
	if (key && !(auth = lv_asprintf("Authorization: Bearer %s", key)))
		return lv_error_nomem();
	headers[0] = auth;
	rc = lv_provider_ping_url(conf, url, headers, secrets, err);
	lv_provider_free_secret(auth);
	return rc;
}
