#include "config/config.h"
#include "longvideo/sys/provider.h"
#include "longvideo/sys/storage.h"
#include "model/storage_key.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stage_names[LV_STAGE_IDX_COUNT] = { "script", "moderation", "anchor", "speech",
	                                                      "music" };
static const unsigned stage_bits[LV_STAGE_IDX_COUNT] = { LV_STAGE_SCRIPT, LV_STAGE_MODERATION, LV_STAGE_ANCHOR,
	                                                  LV_STAGE_SPEECH, LV_STAGE_MUSIC };

const char *lv_config_stage_name(int stage_idx)
{
	return stage_idx >= 0 && stage_idx < LV_STAGE_IDX_COUNT ? stage_names[stage_idx] : NULL;
}

/* ---- typed readers: each names the key path in its error ------------------ */

static int key_known(const char *section, const char *name);

/* Every key of obj must be known in `section` of lv_config_keys (path names it in messages). */
static int check_keys(const cJSON *obj, const char *path, const char *section)
{
	const cJSON *it, *other;
	cJSON_ArrayForEach(it, obj)
	{
		for (other = obj->child; other != it; other = other->next)
			if (!strcmp(other->string, it->string))
				return lv_error_set(LV_ECONFIG, "config: %s%s%s: given more than once", path, *path ? "." : "",
				                    it->string);
		if (!key_known(section, it->string))
			return lv_error_set(LV_ECONFIG, "config: %s%s%s: unknown key", path, *path ? "." : "",
			                    it->string);
	}
	return LV_OK;
}

static int get_object(const cJSON **out, const cJSON *parent, const char *path, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, name);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return LV_OK;
	if (!cJSON_IsObject(v))
		return lv_error_set(LV_ECONFIG, "config: %s%s%s: must be an object", path, *path ? "." : "", name);
	*out = v;
	return LV_OK;
}

static int get_string(char **dst, const cJSON *parent, const char *path, const char *name, const char *def)
{
	const cJSON *v = parent ? cJSON_GetObjectItemCaseSensitive(parent, name) : NULL;
	const char *s = def;
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v) || !v->valuestring[0])
			return lv_error_set(LV_ECONFIG, "config: %s%s%s: must be a non-empty string", path,
			                    *path ? "." : "", name);
		s = v->valuestring;
	}
	return lv_strset(dst, s);
}

static int get_int(int64_t *dst, const cJSON *parent, const char *path, const char *name, int64_t def,
                   int64_t min, int64_t max)
{
	const cJSON *v = parent ? cJSON_GetObjectItemCaseSensitive(parent, name) : NULL;
	*dst = def;
	if (!v || cJSON_IsNull(v))
		return LV_OK;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)min ||
	    v->valuedouble > (double)max)
		return lv_error_set(LV_ECONFIG, "config: %s%s%s: must be an integer from %lld to %lld", path,
		                    *path ? "." : "", name, (long long)min, (long long)max);
	*dst = (int64_t)v->valuedouble;
	return LV_OK;
}

static int get_int32(int *dst, const cJSON *parent, const char *path, const char *name, int def, int min, int max)
{
	int64_t v;
	int rc = get_int(&v, parent, path, name, def, min, max);
	*dst = (int)v;
	return rc;
}

/* An array of non-empty strings without commas, kept as one comma-separated string (NULL when absent
 * or empty). */
static int get_string_list(char **dst, const cJSON *parent, const char *path, const char *name)
{
	const cJSON *v = parent ? cJSON_GetObjectItemCaseSensitive(parent, name) : NULL, *it;
	size_t len = 0;
	char *out;
	if (!v || cJSON_IsNull(v))
		return LV_OK;
	if (!cJSON_IsArray(v))
		return lv_error_set(LV_ECONFIG, "config: %s: must be an array of strings", path);
	cJSON_ArrayForEach(it, v)
	{
		if (!cJSON_IsString(it) || !it->valuestring[0] || strpbrk(it->valuestring, ", \t"))
			return lv_error_set(LV_ECONFIG, "config: %s: every item must be a non-empty string without commas "
			                                "or spaces", path);
		len += strlen(it->valuestring) + 1;
	}
	if (len == 0)
		return LV_OK;
	if (!(out = calloc(1, len)))
		return lv_error_nomem();
	cJSON_ArrayForEach(it, v)
	{
		if (*out)
			strcat(out, ",");
		strcat(out, it->valuestring);
	}
	free(*dst);
	*dst = out;
	return LV_OK;
}

static int get_bool(int *dst, const cJSON *parent, const char *path, const char *name, int def)
{
	const cJSON *v = parent ? cJSON_GetObjectItemCaseSensitive(parent, name) : NULL;
	*dst = def;
	if (!v || cJSON_IsNull(v))
		return LV_OK;
	if (!cJSON_IsBool(v))
		return lv_error_set(LV_ECONFIG, "config: %s.%s: must be true or false", path, name);
	*dst = cJSON_IsTrue(v);
	return LV_OK;
}

/* A number within [min, max]. */
static int get_double(double *dst, const cJSON *parent, const char *path, const char *name, double def, double min,
                      double max)
{
	const cJSON *v = parent ? cJSON_GetObjectItemCaseSensitive(parent, name) : NULL;
	*dst = def;
	if (!v || cJSON_IsNull(v))
		return LV_OK;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= min && v->valuedouble <= max))
		return lv_error_set(LV_ECONFIG, "config: %s.%s: must be a number from %g to %g", path, name, min, max);
	*dst = v->valuedouble;
	return LV_OK;
}

/* A credit rate: a non-negative number with at most three decimals, to thousandths. */
static int rate_from_json(int64_t *out, const cJSON *v, const char *path)
{
	double milli;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9)
		return lv_error_set(LV_ECONFIG, "config: %s: must be a non-negative number of credits per second",
		                    path);
	milli = v->valuedouble * 1000.0;
	if (fabs(milli - round(milli)) > 1e-6)
		return lv_error_set(LV_ECONFIG, "config: %s: at most three decimals", path);
	*out = (int64_t)llround(milli);
	return LV_OK;
}

static int parse_url(const char *url, const char *path)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	int rc = LV_OK;
	if (!u)
		return lv_error_nomem();
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		rc = lv_error_set(LV_ECONFIG, "config: %s: '%s' is not an absolute http(s) URL", path, url);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

/* ---- providers ------------------------------------------------------------ */

/* A list of names as a bit mask (bit index(name) for each), when the key is there (else *mask stays).
 * `like` is an example list and `allowed` the names, for the messages. */
static int name_mask(unsigned *mask, const cJSON *j, int (*index)(const char *), const char *path, const char *key,
                     const char *like, const char *allowed)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key), *it;
	if (!v)
		return LV_OK;
	*mask = 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
		return lv_error_set(LV_ECONFIG, "config: %s.%s: must be a list like %s", path, key, like);
	cJSON_ArrayForEach(it, v)
	{
		int i = cJSON_IsString(it) ? index(it->valuestring) : -1;
		if (i < 0)
			return lv_error_set(LV_ECONFIG, "config: %s.%s: entries must be %s", path, key, allowed);
		*mask |= 1u << i;
	}
	return LV_OK;
}

static int parse_video_caps(lv_provider_conf *p, const char *path)
{
	const cJSON *j = p->json, *v, *it;
	char sub[256];
	int64_t n;
	p->video = p->info->video;
	lv_provider_model_caps(p->type, j, &p->video);
	if (name_mask(&p->video.resolutions, j, lv_resolution_index, path, "resolutions", "[\"720p\", \"1080p\"]",
	              "\"720p\" or \"1080p\"") ||
	    name_mask(&p->video.aspects, j, lv_aspect_index, path, "aspect_ratios", "[\"16:9\"]",
	              "\"16:9\", \"9:16\" or \"1:1\""))
		return LV_ECONFIG;
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "rates")) != NULL) {
		if (!cJSON_IsObject(v))
			return lv_error_set(LV_ECONFIG, "config: %s.rates: must be an object like {\"720p\": 27.5}", path);
		cJSON_ArrayForEach(it, v)
		{
			int r = lv_resolution_index(it->string);
			if (r < 0)
				return lv_error_set(LV_ECONFIG, "config: %s.rates.%s: unknown resolution", path, it->string);
			snprintf(sub, sizeof(sub), "%s.rates.%s", path, it->string);
			if (rate_from_json(&p->video.rate[r], it, sub))
				return LV_ECONFIG;
		}
	}
	if (get_int(&n, j, path, "min_seconds", p->video.min_seconds, 1, 60))
		return LV_ECONFIG;
	p->video.min_seconds = (int)n;
	if (get_int(&n, j, path, "max_seconds", p->video.max_seconds, 1, 60))
		return LV_ECONFIG;
	p->video.max_seconds = (int)n;
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "allowed_seconds")) != NULL) {
		p->video.n_allowed = 0;
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > LV_MAX_ALLOWED_LENGTHS)
			return lv_error_set(LV_ECONFIG, "config: %s.allowed_seconds: must be a list of up to %d lengths", path,
			                    LV_MAX_ALLOWED_LENGTHS);
		cJSON_ArrayForEach(it, v)
		{
			if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || it->valuedouble < 1 ||
			    it->valuedouble > 60)
				return lv_error_set(LV_ECONFIG, "config: %s.allowed_seconds: entries must be whole seconds 1-60", path);
			p->video.allowed[p->video.n_allowed++] = (int)it->valuedouble;
		}
	}
	if (p->video.min_seconds > p->video.max_seconds)
		return lv_error_set(LV_ECONFIG, "config: %s: min_seconds is above max_seconds", path);
	for (n = 0; n < LV_RES_COUNT; n++)
		if ((p->video.resolutions & (1u << n)) && p->video.rate[n] < 0)
			return lv_error_set(LV_ECONFIG,
			                    "config: %s.rates: no rate for %s (credits per generated second, e.g. "
			                    "\"rates\": {\"%s\": 27.5})",
			                    path, lv_resolution_name((int)n), lv_resolution_name((int)n));
	return LV_OK;
}

const lv_provider_type_info *lv_config_type_find(const lv_config *cfg, const char *type,
                                                 const lv_provider_type **plugin)
{
	size_t i;
	if (plugin)
		*plugin = NULL;
	for (i = 0; cfg && type && i < cfg->n_plugins; i++)
		if (!strcmp(cfg->plugins[i]->name, type)) {
			if (plugin)
				*plugin = cfg->plugins[i];
			return &cfg->plugin_infos[i];
		}
	return lv_provider_type_find(type);
}

/* Describe the program's provider types as the checks of the built-in ones see them. */
static int load_plugins(lv_config *cfg, const lv_config_overrides *ov)
{
	size_t i;
	if (!ov || !ov->n_types)
		return LV_OK;
	if (!(cfg->plugin_infos = lv_calloc(ov->n_types, sizeof(*cfg->plugin_infos))))
		return LV_ENOMEM;
	for (i = 0; i < ov->n_types; i++) {
		const lv_provider_type *t = ov->types ? ov->types[i] : NULL;
		lv_provider_type_info *info = &cfg->plugin_infos[i];
		if (!t || t->version != LV_PROVIDER_TYPE_VERSION || !t->name || !*t->name || !t->create)
			return lv_error_set(LV_EINVALID, "provider_types[%zu]: not a provider type of this version (add types "
			                    "with lv_engine_register_provider_type())", i);
		info->type = t->name;
		info->stages = t->stages;
		info->needs_api_key = t->needs_api_key;
		info->video.resolutions = t->resolutions ? t->resolutions & 3u : 1u;
		info->video.aspects = t->aspects ? t->aspects & 7u : 7u;
		info->video.min_seconds = t->min_seconds > 0 ? t->min_seconds : 1;
		info->video.max_seconds = t->max_seconds > 0 ? t->max_seconds : LV_SEGMENT_MAX_SECONDS;
		info->video.rate[LV_RES_720P] = t->rate[0];
		info->video.rate[LV_RES_1080P] = t->rate[1];
	}
	cfg->plugins = ov->types;
	cfg->n_plugins = ov->n_types;
	return LV_OK;
}

static int parse_provider(const lv_config *cfg, lv_provider_conf *p, const cJSON *j, const char *name)
{
	char path[160];
	int64_t n;
	snprintf(path, sizeof(path), "providers.%s", name);
	if (!cJSON_IsObject(j))
		return lv_error_set(LV_ECONFIG, "config: %s: must be an object", path);
	p->json = j;
	if (lv_strset(&p->name, name) || get_string(&p->type, j, path, "type", NULL))
		return lv_error_last()->status;
	if (!p->type)
		return lv_error_set(LV_ECONFIG, "config: %s.type: is required (one of: %s)", path,
		                    lv_provider_type_names());
	p->info = lv_config_type_find(cfg, p->type, &p->plugin);
	if (!p->info)
		return lv_error_set(LV_ECONFIG, "config: %s.type: unknown type '%s' (known: %s)", path, p->type,
		                    lv_provider_type_names());
	if (get_string(&p->api_key_env, j, path, "api_key_env", NULL) ||
	    get_string(&p->base_url, j, path, "base_url", NULL))
		return lv_error_last()->status;
	if (cJSON_GetObjectItemCaseSensitive(j, "api_key"))
		return lv_error_set(LV_ECONFIG,
		                    "config: %s.api_key: keys are never read from the config file; "
		                    "name an environment variable in api_key_env", path);
	if (p->base_url && parse_url(p->base_url, path))
		return LV_ECONFIG;
	if (get_int(&n, j, path, "timeout_ms", 120000, 100, 3600000))
		return LV_ECONFIG;
	p->timeout_ms = (long)n;
	if (get_int(&n, j, path, "connect_timeout_ms", 10000, 100, 600000))
		return LV_ECONFIG;
	p->connect_timeout_ms = (long)n;
	if (get_int32(&p->max_retries, j, path, "max_retries", 3, 0, 20) ||
	    get_int32(&p->max_concurrent_jobs, j, path, "max_concurrent_jobs", 32, 1, 100000))
		return LV_ECONFIG;
	if (p->info->stages & LV_STAGE_VIDEO)
		return parse_video_caps(p, path);
	return LV_OK;
}

static void provider_clear(lv_provider_conf *p)
{
	free(p->name);
	free(p->type);
	free(p->api_key_env);
	free(p->base_url);
}

static int parse_providers(lv_config *cfg, const cJSON *providers)
{
	const cJSON *it;
	size_t n = (providers ? (size_t)cJSON_GetArraySize(providers) : 0) + 1, i;
	cfg->providers = lv_calloc(n, sizeof(*cfg->providers));
	if (!cfg->providers)
		return LV_ENOMEM;
	cJSON_ArrayForEach(it, providers)
	{
		for (i = 0; i < cfg->n_providers; i++)
			if (!strcmp(cfg->providers[i].name, it->string))
				return lv_error_set(LV_ECONFIG, "config: providers.%s: defined twice", it->string);
		if (parse_provider(cfg, &cfg->providers[cfg->n_providers++], it, it->string))
			return lv_error_last()->status;
	}
	/* The built-in offline provider always exists unless the config redefines "local". */
	if (!lv_config_provider(cfg, "local")) {
		cfg->builtin_local = cJSON_CreateObject();
		if (!cfg->builtin_local || !cJSON_AddStringToObject(cfg->builtin_local, "type", "local"))
			return lv_error_nomem();
		if (parse_provider(cfg, &cfg->providers[cfg->n_providers++], cfg->builtin_local, "local"))
			return lv_error_last()->status;
	}
	return LV_OK;
}

const lv_provider_conf *lv_config_provider(const lv_config *cfg, const char *name)
{
	size_t i;
	for (i = 0; name && i < cfg->n_providers; i++)
		if (!strcmp(cfg->providers[i].name, name))
			return &cfg->providers[i];
	return NULL;
}

const lv_provider_conf *lv_config_stage_provider(const lv_config *cfg, int stage_idx)
{
	if (stage_idx < 0 || stage_idx >= LV_STAGE_IDX_COUNT)
		return NULL;
	return lv_config_provider(cfg, cfg->stage_provider[stage_idx]);
}

static int check_stage_provider(const lv_config *cfg, const char *name, unsigned stage, const char *key)
{
	const lv_provider_conf *p = lv_config_provider(cfg, name);
	if (!p)
		return lv_error_set(LV_ECONFIG, "config: %s: no provider named '%s' in providers", key, name);
	if (!(p->info->stages & stage))
		return lv_error_set(LV_ECONFIG, "config: %s: provider '%s' (type %s) cannot serve this stage", key,
		                    name, p->type);
	return LV_OK;
}

/* ---- sections ------------------------------------------------------------- */

/* Every key the parser knows, by section, with its default as JSON ("null": none, or derived at load).
 * The unknown-key checks read this table, so it cannot fall behind the parser; the example
 * configuration and docs/operating.md are tested against it. */
const lv_config_key lv_config_keys[] = {
	{ "", "data_dir", "\"lvdata\"" },
	{ "", "store", "null" }, /* sqlite:<data_dir>/longvideo.db */
	{ "", "store_password_env", "null" },
	{ "", "store_pool_size", "0" },
	{ "", "idempotency_ttl_hours", "48" },
	{ "", "server", "{}" },
	{ "", "storage", "{}" },
	{ "", "pipeline", "{}" },
	{ "", "providers", "{}" },
	{ "", "webhooks", "{}" },
	{ "", "secrets", "{}" },
	{ "", "compose", "{}" },
	{ "server", "listen", "\"127.0.0.1:8080\"" },
	{ "server", "public_url", "null" }, /* derived from the bound address */
	{ "server", "threads", "32" },
	{ "server", "max_body_bytes", "1048576" },
	{ "server", "max_create_body_bytes", "33554432" },
	{ "server", "rate_limit_per_minute", "0" },
	{ "server", "max_connections", "1024" },
	{ "server", "max_connections_per_ip", "64" },
	{ "server", "edge_threads", "0" },
	{ "server", "header_timeout_ms", "10000" },
	{ "server", "body_timeout_ms", "30000" },
	{ "server", "trusted_proxies", "[]" },
	{ "server", "cors_origins", "[]" },
	{ "server", "max_event_streams", "64" },
	{ "server", "log_format", "\"text\"" },
	{ "server", "edge_reads", "\"auto\"" },
	{ "storage", "type", "\"local\"" },
	{ "storage", "dir", "null" }, /* <data_dir>/media */
	{ "storage", "retention_days", "0" },
	{ "storage", "keep_intermediates", "true" },
	{ "storage.s3", "type", "\"s3\"" },
	{ "storage.s3", "retention_days", "0" },
	{ "storage.s3", "keep_intermediates", "true" },
	{ "storage.s3", "endpoint", "null" },
	{ "storage.s3", "region", "\"us-east-1\"" },
	{ "storage.s3", "bucket", "null" },
	{ "storage.s3", "prefix", "\"\"" },
	{ "storage.s3", "path_style", "false" },
	{ "storage.s3", "access_key_env", "\"AWS_ACCESS_KEY_ID\"" },
	{ "storage.s3", "secret_key_env", "\"AWS_SECRET_ACCESS_KEY\"" },
	{ "storage.s3", "public_base_url", "null" },
	{ "storage.s3", "presign_seconds", "3600" },
	{ "pipeline", "workers", "2" },
	{ "pipeline", "segment_concurrency", "8" },
	{ "pipeline", "lease_seconds", "60" },
	{ "pipeline", "segment_retries", "2" },
	{ "pipeline", "max_tasks_in_flight", "0" },
	{ "pipeline", "review_timeout_hours", "72" },
	{ "pipeline", "default_video_provider", "\"local\"" },
	{ "pipeline", "script", "\"local\"" },
	{ "pipeline", "moderation", "\"local\"" },
	{ "pipeline", "anchor", "\"local\"" },
	{ "pipeline", "speech", "\"local\"" },
	{ "pipeline", "music", "\"local\"" },
	{ "webhooks", "retry_delays_ms", "[0, 1000, 5000]" },
	{ "webhooks", "timeout_ms", "10000" },
	{ "webhooks", "allow_private", "false" },
	{ "secrets", "master_key_env", "\"LV_MASTER_KEY\"" },
	{ "compose", "target_lufs", "-16" },
	{ "compose", "true_peak_dbtp", "-1.5" },
	{ "compose", "segment_audio_db", "-18" },
	{ "compose", "qc", "{}" },
	{ "compose.qc", "loudness_tolerance_lu", "1" },
	{ "compose.qc", "duration_tolerance_frames", "1" },
	{ "compose.qc", "min_ducking_db", "6" },
	{ "compose.qc", "min_speech_coverage", "0.6" },
	{ "compose.qc", "black_min_s", "0.1" },
	{ "compose.qc", "max_black_s", "0" },
	{ "compose.qc", "freeze_noise_db", "-60" },
	{ "compose.qc", "freeze_min_s", "1" },
	{ "compose.qc", "max_freeze_s", "0" },
	{ "compose.qc", "max_line_chars", "42" },
	{ "compose.qc", "max_lines", "2" },
	{ "compose.qc", "min_cue_s", "0.8" },
	{ "compose.qc", "max_cue_s", "7" },
	{ "compose.qc", "max_chars_per_second", "20" },
	{ NULL, NULL, NULL }
};

/* Whether `name` is a key of `section` in lv_config_keys. */
static int key_known(const char *section, const char *name)
{
	const lv_config_key *k;
	for (k = lv_config_keys; k->name; k++)
		if (!strcmp(k->section, section) && !strcmp(k->name, name))
			return 1;
	return 0;
}

static int parse_server(lv_config *cfg, const cJSON *s, const lv_config_overrides *ov)
{
	int64_t n;
	if (s && check_keys(s, "server", "server"))
		return LV_ECONFIG;
	if (get_string(&cfg->listen, s, "server", "listen", "127.0.0.1:8080"))
		return LV_ECONFIG;
	if (ov && ov->listen && lv_strset(&cfg->listen, ov->listen))
		return LV_ENOMEM;
	if (get_string(&cfg->public_url, s, "server", "public_url", NULL))
		return LV_ECONFIG;
	if (ov && ov->public_url && lv_strset(&cfg->public_url, ov->public_url))
		return LV_ENOMEM;
	if (cfg->public_url) {
		size_t len;
		if (parse_url(cfg->public_url, "server.public_url"))
			return LV_ECONFIG;
		len = strlen(cfg->public_url);
		while (len > 0 && cfg->public_url[len - 1] == '/')
			cfg->public_url[--len] = '\0';
		cfg->public_url_explicit = 1;
	} else {
		const char *hostport = cfg->listen;
		/* A wildcard listen address is not an address clients can use. */
		if (!strncmp(hostport, "0.0.0.0:", 8))
			cfg->public_url = lv_asprintf("http://127.0.0.1:%s", hostport + 8);
		else if (!strncmp(hostport, "[::]:", 5))
			cfg->public_url = lv_asprintf("http://[::1]:%s", hostport + 5);
		else if (!strchr(hostport, ':'))
			cfg->public_url = lv_asprintf("http://127.0.0.1:%s", hostport);
		else
			cfg->public_url = lv_asprintf("http://%s", hostport);
		if (!cfg->public_url)
			return LV_ENOMEM;
	}
	if (get_int32(&cfg->threads, s, "server", "threads", 32, 1, 1024))
		return LV_ECONFIG;
	if (get_int(&n, s, "server", "max_body_bytes", 1048576, 1024, (int64_t)1 << 30))
		return LV_ECONFIG;
	cfg->max_body_bytes = n;
	if (get_int32(&cfg->max_connections, s, "server", "max_connections", 1024, 1, 100000) ||
	    get_int32(&cfg->max_connections_per_ip, s, "server", "max_connections_per_ip", 64, 1, 100000) ||
	    get_int32(&cfg->edge_threads, s, "server", "edge_threads", 0, 0, 64) ||
	    get_int32(&cfg->max_event_streams, s, "server", "max_event_streams", 64, 0, 1024) ||
	    get_int32(&cfg->header_timeout_ms, s, "server", "header_timeout_ms", 10000, 100, 600000) ||
	    get_int32(&cfg->body_timeout_ms, s, "server", "body_timeout_ms", 30000, 100, 3600000) ||
	    get_string_list(&cfg->trusted_proxies, s, "server.trusted_proxies", "trusted_proxies") ||
	    get_string_list(&cfg->cors_origins, s, "server.cors_origins", "cors_origins"))
		return LV_ECONFIG;
	{
		char *fmt = NULL;
		int bad;
		if (get_string(&fmt, s, "server", "log_format", "text"))
			return LV_ECONFIG;
		bad = strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0;
		cfg->log_json = !strcmp(fmt, "json");
		free(fmt);
		if (bad)
			return lv_error_set(LV_ECONFIG, "config: server.log_format: must be \"text\" or \"json\"");
	}
	{
		char *v = NULL;
		int bad;
		if (get_string(&v, s, "server", "edge_reads", "auto"))
			return LV_ECONFIG;
		bad = strcmp(v, "auto") != 0 && strcmp(v, "on") != 0 && strcmp(v, "off") != 0;
		cfg->edge_reads = !strcmp(v, "on") ? 1 : !strcmp(v, "off") ? 0 : -1;
		free(v);
		if (bad)
			return lv_error_set(LV_ECONFIG, "config: server.edge_reads: must be \"auto\", \"on\" or \"off\"");
	}
	if (get_int(&n, s, "server", "max_create_body_bytes", (int64_t)32 << 20, 1024, (int64_t)1 << 30))
		return LV_ECONFIG;
	cfg->max_create_body_bytes = n;
	return get_int32(&cfg->rate_limit_per_minute, s, "server", "rate_limit_per_minute", 0, 0, 1000000);
}

static int parse_pipeline(lv_config *cfg, const cJSON *p, const lv_config_overrides *ov)
{
	int i;
	if (p && check_keys(p, "pipeline", "pipeline"))
		return LV_ECONFIG;
	if (get_int32(&cfg->workers, p, "pipeline", "workers", 2, 0, 256) ||
	    get_int32(&cfg->segment_concurrency, p, "pipeline", "segment_concurrency", 8, 1, 256) ||
	    get_int32(&cfg->lease_seconds, p, "pipeline", "lease_seconds", 60, 2, 3600) ||
	    get_int32(&cfg->segment_retries, p, "pipeline", "segment_retries", 2, 0, 10) ||
	    get_int32(&cfg->max_tasks_in_flight, p, "pipeline", "max_tasks_in_flight", 0, 0, 1000000) ||
	    get_string(&cfg->default_video_provider, p, "pipeline", "default_video_provider", "local"))
		return LV_ECONFIG;
	if (ov && ov->workers >= 0)
		cfg->workers = ov->workers;
	{
		const cJSON *v = p ? cJSON_GetObjectItemCaseSensitive(p, "review_timeout_hours") : NULL;
		cfg->review_timeout_hours = 72;
		if (v && !cJSON_IsNull(v)) {
			if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > 24 * 365)
				return lv_error_set(LV_ECONFIG, "config: pipeline.review_timeout_hours: must be a number of "
				                                "hours above 0 and at most 8760 (fractions allowed)");
			cfg->review_timeout_hours = v->valuedouble;
		}
	}
	for (i = 0; i < LV_STAGE_IDX_COUNT; i++)
		if (get_string(&cfg->stage_provider[i], p, "pipeline", stage_names[i], "local"))
			return LV_ECONFIG;
	return LV_OK;
}

/* compose: the composer's targets (also the quality report's); compose.qc: the report's other limits. */
static int parse_compose(lv_compose_conf *c, const cJSON *cs)
{
	const cJSON *q = NULL;
	if (cs && check_keys(cs, "compose", "compose"))
		return LV_ECONFIG;
	if (get_double(&c->target_lufs, cs, "compose", "target_lufs", -16, -40, -5) ||
	    get_double(&c->true_peak_dbtp, cs, "compose", "true_peak_dbtp", -1.5, -20, 0) ||
	    get_double(&c->segment_audio_db, cs, "compose", "segment_audio_db", -18, -60, 12) ||
	    get_object(&q, cs, "compose", "qc"))
		return LV_ECONFIG;
	if (q && check_keys(q, "compose.qc", "compose.qc"))
		return LV_ECONFIG;
	if (get_double(&c->loudness_tolerance_lu, q, "compose.qc", "loudness_tolerance_lu", 1, 0, 20) ||
	    get_double(&c->duration_tolerance_frames, q, "compose.qc", "duration_tolerance_frames", 1, 0, 1000) ||
	    get_double(&c->min_ducking_db, q, "compose.qc", "min_ducking_db", 6, 0, 60) ||
	    get_double(&c->min_speech_coverage, q, "compose.qc", "min_speech_coverage", 0.6, 0, 1) ||
	    get_double(&c->black_min_s, q, "compose.qc", "black_min_s", 0.1, 0.01, 60) ||
	    get_double(&c->max_black_s, q, "compose.qc", "max_black_s", 0, 0, 3600) ||
	    get_double(&c->freeze_noise_db, q, "compose.qc", "freeze_noise_db", -60, -90, 0) ||
	    get_double(&c->freeze_min_s, q, "compose.qc", "freeze_min_s", 1, 0.1, 60) ||
	    get_double(&c->max_freeze_s, q, "compose.qc", "max_freeze_s", 0, 0, 3600) ||
	    get_int32(&c->max_line_chars, q, "compose.qc", "max_line_chars", 42, 1, 1000) ||
	    get_int32(&c->max_lines, q, "compose.qc", "max_lines", 2, 1, 100) ||
	    get_double(&c->min_cue_s, q, "compose.qc", "min_cue_s", 0.8, 0, 60) ||
	    get_double(&c->max_cue_s, q, "compose.qc", "max_cue_s", 7, 0.1, 3600) ||
	    get_double(&c->max_chars_per_second, q, "compose.qc", "max_chars_per_second", 20, 1, 1000))
		return LV_ECONFIG;
	return LV_OK;
}

static int parse_webhooks(lv_config *cfg, const cJSON *w)
{
	const cJSON *d = w ? cJSON_GetObjectItemCaseSensitive(w, "retry_delays_ms") : NULL, *it;
	int64_t n;
	if (w && check_keys(w, "webhooks", "webhooks"))
		return LV_ECONFIG;
	if (d && !cJSON_IsNull(d)) {
		if (!cJSON_IsArray(d) || cJSON_GetArraySize(d) < 1 || cJSON_GetArraySize(d) > LV_MAX_WEBHOOK_DELAYS)
			return lv_error_set(LV_ECONFIG,
			                    "config: webhooks.retry_delays_ms: must be a list of 1 to %d delays in ms",
			                    LV_MAX_WEBHOOK_DELAYS);
		cJSON_ArrayForEach(it, d)
		{
			if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 86400000.0 ||
			    it->valuedouble != floor(it->valuedouble))
				return lv_error_set(LV_ECONFIG,
				                    "config: webhooks.retry_delays_ms: delays must be whole ms from 0 to 86400000");
			cfg->webhook_delays_ms[cfg->n_webhook_delays++] = (int64_t)it->valuedouble;
		}
	} else {
		cfg->webhook_delays_ms[0] = 0;
		cfg->webhook_delays_ms[1] = 1000;
		cfg->webhook_delays_ms[2] = 5000;
		cfg->n_webhook_delays = 3;
	}
	if (get_int(&n, w, "webhooks", "timeout_ms", 10000, 100, 120000))
		return LV_ECONFIG;
	cfg->webhook_timeout_ms = (long)n;
	return get_bool(&cfg->webhook_allow_private, w, "webhooks", "allow_private", 0);
}

/* An environment variable's name: [A-Za-z_][A-Za-z0-9_]*. */
static int env_name_ok(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		      (i > 0 && s[i] >= '0' && s[i] <= '9')))
			return 0;
	return i > 0 && i < 128;
}

/* An S3 bucket name: 3 to 63 of [a-z0-9.-], starting and ending with a letter or digit. */
static int bucket_ok(const char *b)
{
	size_t n = strlen(b), i;
	if (n < 3 || n > 63 || b[0] == '.' || b[0] == '-' || b[n - 1] == '.' || b[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '.' || b[i] == '-'))
			return 0;
	return 1;
}

/* The endpoint: an http(s) URL naming only scheme, host and port (the bucket and keys are added to it). */
static int endpoint_ok(const char *url)
{
	CURLU *u = curl_url();
	char *path = NULL, *query = NULL, *user = NULL;
	int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK;
	if (ok) {
		curl_url_get(u, CURLUPART_PATH, &path, 0);
		curl_url_get(u, CURLUPART_QUERY, &query, 0);
		curl_url_get(u, CURLUPART_USER, &user, 0);
		ok = (!path || !strcmp(path, "/") || !*path) && !query && !user;
	}
	curl_free(path);
	curl_free(query);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}

static int parse_s3(lv_s3_conf *c, const cJSON *st)
{
	static const char *const secret_keys[] = { "access_key", "secret_key", "access_key_id", "secret_access_key",
		                                   "session_token", NULL };
	const cJSON *v;
	size_t i;
	for (i = 0; secret_keys[i]; i++)
		if (cJSON_GetObjectItemCaseSensitive(st, secret_keys[i]))
			return lv_error_set(LV_ECONFIG,
			                    "config: storage.%s: credentials are never read from the config file; name "
			                    "the environment variables that hold them in storage.access_key_env and "
			                    "storage.secret_key_env",
			                    secret_keys[i]);
	if (check_keys(st, "storage", "storage.s3"))
		return LV_ECONFIG;
	if (get_string(&c->endpoint, st, "storage", "endpoint", NULL) || get_string(&c->bucket, st, "storage", "bucket", NULL) ||
	    get_string(&c->region, st, "storage", "region", "us-east-1") ||
	    get_string(&c->access_key_env, st, "storage", "access_key_env", "AWS_ACCESS_KEY_ID") ||
	    get_string(&c->secret_key_env, st, "storage", "secret_key_env", "AWS_SECRET_ACCESS_KEY") ||
	    get_string(&c->public_base_url, st, "storage", "public_base_url", NULL) ||
	    get_bool(&c->path_style, st, "storage", "path_style", 0) ||
	    get_int32(&c->presign_seconds, st, "storage", "presign_seconds", 3600, 1, 604800))
		return LV_ECONFIG;
	if (!c->endpoint)
		return lv_error_set(LV_ECONFIG, "config: storage.endpoint: required with storage.type \"s3\" "
		                                "(e.g. \"https://s3.us-east-1.amazonaws.com\")");
	if (parse_url(c->endpoint, "storage.endpoint"))
		return LV_ECONFIG;
	if (!endpoint_ok(c->endpoint))
		return lv_error_set(LV_ECONFIG, "config: storage.endpoint: '%s' must be scheme://host[:port] only, "
		                                "without a path, query or user (the bucket goes in storage.bucket)",
		                    c->endpoint);
	for (i = strlen(c->endpoint); i > 0 && c->endpoint[i - 1] == '/'; i--)
		c->endpoint[i - 1] = '\0';
	if (!c->bucket)
		return lv_error_set(LV_ECONFIG, "config: storage.bucket: required with storage.type \"s3\"");
	if (!bucket_ok(c->bucket))
		return lv_error_set(LV_ECONFIG, "config: storage.bucket: '%s' is not a valid bucket name (3-63 of a-z, "
		                                "0-9, '.', '-')",
		                    c->bucket);
	for (i = 0; c->region[i]; i++)
		if (!((c->region[i] >= 'a' && c->region[i] <= 'z') || (c->region[i] >= '0' && c->region[i] <= '9') ||
		      c->region[i] == '-') || i > 40)
			return lv_error_set(LV_ECONFIG, "config: storage.region: '%s' is not a region name", c->region);
	if (!env_name_ok(c->access_key_env))
		return lv_error_set(LV_ECONFIG, "config: storage.access_key_env: must name an environment variable");
	if (!env_name_ok(c->secret_key_env))
		return lv_error_set(LV_ECONFIG, "config: storage.secret_key_env: must name an environment variable");
	if (c->public_base_url) {
		if (parse_url(c->public_base_url, "storage.public_base_url"))
			return LV_ECONFIG;
		for (i = strlen(c->public_base_url); i > 0 && c->public_base_url[i - 1] == '/'; i--)
			c->public_base_url[i - 1] = '\0';
	}
	/* The prefix may be empty; otherwise it is a key's leading part, stored with one trailing '/'. */
	v = cJSON_GetObjectItemCaseSensitive(st, "prefix");
	if (v && !cJSON_IsNull(v) && !cJSON_IsString(v))
		return lv_error_set(LV_ECONFIG, "config: storage.prefix: must be a string");
	{
		const char *p = v && cJSON_IsString(v) ? v->valuestring : "";
		size_t n = strlen(p);
		while (n > 0 && p[n - 1] == '/')
			n--;
		if (n > 200)
			return lv_error_set(LV_ECONFIG, "config: storage.prefix: longer than 200 characters");
		if (!(c->prefix = lv_calloc(1, n + 2)))
			return LV_ENOMEM;
		memcpy(c->prefix, p, n);
		if (n) {
			if (!lv_storage_key_valid(c->prefix))
				return lv_error_set(LV_ECONFIG, "config: storage.prefix: '%s' must be '/'-separated parts of "
				                                "A-Z a-z 0-9 . _ - (no '..', no leading '/')",
				                    p);
			c->prefix[n] = '/';
		}
	}
	return LV_OK;
}

/* A program's storage type reads the common keys and the ones it lists; others are refused. */
static int check_plugin_storage_keys(const cJSON *st, const lv_storage_type *t)
{
	const cJSON *it, *other;
	const char *const *k;
	cJSON_ArrayForEach(it, st)
	{
		int ok = !strcmp(it->string, "type") || !strcmp(it->string, "retention_days") ||
		         !strcmp(it->string, "keep_intermediates");
		for (other = st->child; other != it; other = other->next)
			if (!strcmp(other->string, it->string))
				return lv_error_set(LV_ECONFIG, "config: storage.%s: given more than once", it->string);
		for (k = t->keys; k && *k && !ok; k++)
			ok = !strcmp(*k, it->string);
		if (!ok)
			return lv_error_set(LV_ECONFIG, "config: storage.%s: unknown key (storage type '%s' does not read it)",
			                    it->string, t->name);
	}
	return LV_OK;
}

static int parse_store_storage(lv_config *cfg, const cJSON *root, const lv_config_overrides *ov)
{
	const cJSON *st = NULL;
	const cJSON *store = cJSON_GetObjectItemCaseSensitive(root, "store");
	if (store && !cJSON_IsNull(store)) {
		if (!cJSON_IsString(store) ||
		    (strncmp(store->valuestring, "sqlite:", 7) != 0 && strncmp(store->valuestring, "postgresql://", 13) != 0 &&
		     strncmp(store->valuestring, "postgres://", 11) != 0) ||
		    (!strncmp(store->valuestring, "sqlite:", 7) && !store->valuestring[7]))
			return lv_error_set(LV_ECONFIG, "config: store: must be \"sqlite:PATH\" or a postgresql:// URL");
		if (lv_strset(&cfg->store, store->valuestring))
			return LV_ENOMEM;
	} else if (!(cfg->store = lv_asprintf("sqlite:%s/longvideo.db", cfg->data_dir))) {
		return LV_ENOMEM;
	}
	if (get_object(&st, root, "", "storage"))
		return LV_ECONFIG;
	cfg->storage_json = st;
	if (get_string(&cfg->storage_type, st, "storage", "type", "local"))
		return LV_ECONFIG;
	if (strcmp(cfg->storage_type, "local") != 0 && strcmp(cfg->storage_type, "s3") != 0) {
		size_t i;
		for (i = 0; ov && i < ov->n_storage_types; i++) {
			const lv_storage_type *t = ov->storage_types ? ov->storage_types[i] : NULL;
			if (!t || t->version != LV_STORAGE_TYPE_VERSION || !t->name || !*t->name || !t->create)
				return lv_error_set(LV_EINVALID, "storage_types[%zu]: not a storage type of this version (add "
				                    "types with lv_engine_register_storage_type())", i);
			if (!strcmp(t->name, cfg->storage_type))
				cfg->storage_plugin = t;
		}
		if (!cfg->storage_plugin)
			return lv_error_set(LV_ECONFIG,
			                    "config: storage.type: unknown type '%s' (built in: \"local\", \"s3\"; a program "
			                    "adds its own with lv_engine_register_storage_type(), longvideo/sys/storage.h)",
			                    cfg->storage_type);
		if (check_plugin_storage_keys(st, cfg->storage_plugin))
			return LV_ECONFIG;
	} else if (!strcmp(cfg->storage_type, "s3")) {
		if (parse_s3(&cfg->s3, st))
			return LV_ECONFIG;
	} else if (st && check_keys(st, "storage", "storage")) {
		return LV_ECONFIG;
	}
	if (get_string(&cfg->storage_dir, st, "storage", "dir", NULL) ||
	    get_int32(&cfg->retention_days, st, "storage", "retention_days", 0, 0, 36500) ||
	    get_bool(&cfg->keep_intermediates, st, "storage", "keep_intermediates", 1))
		return LV_ECONFIG;
	if (!cfg->storage_dir && !(cfg->storage_dir = lv_path_join(cfg->data_dir, "media")))
		return LV_ENOMEM;
	return LV_OK;
}

int lv_config_load(lv_config **out, const char *path, const char *json_text, const lv_config_overrides *ov)
{
	lv_config *cfg;
	char *text = NULL;
	size_t len = 0;
	const cJSON *s = NULL, *p = NULL, *w = NULL, *prov = NULL, *sec = NULL, *cmp = NULL;
	int64_t n;
	int i, rc;

	*out = NULL;
	cfg = lv_calloc(1, sizeof(*cfg));
	if (!cfg)
		return LV_ENOMEM;
	if (json_text) {
		rc = lv_json_parse(&cfg->root, json_text, strlen(json_text), "config");
	} else if (path) {
		if ((rc = lv_file_read(&text, &len, path)) == LV_OK)
			rc = lv_json_parse(&cfg->root, text, len, path);
		free(text);
	} else {
		cfg->root = cJSON_CreateObject();
		rc = cfg->root ? LV_OK : lv_error_nomem();
	}
	if (rc) {
		/* A config that cannot be read or parsed is a configuration error.  Copy the message
		 * first: lv_error_set() formats into the buffer it points to. */
		if (rc == LV_EINVALID || rc == LV_EIO) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "%s", lv_error_last()->message);
			rc = json_text ? lv_error_set(LV_ECONFIG, "%s", msg) : lv_error_set(LV_ECONFIG, "config: %s", msg);
		}
		goto fail;
	}
	if (!cJSON_IsObject(cfg->root)) {
		rc = lv_error_set(LV_ECONFIG, "config: the file must hold a JSON object");
		goto fail;
	}
	if ((rc = check_keys(cfg->root, "", "")))
		goto fail;
	if ((rc = get_string(&cfg->data_dir, cfg->root, "", "data_dir", "lvdata")))
		goto fail;
	if (ov && ov->data_dir && (rc = lv_strset(&cfg->data_dir, ov->data_dir)))
		goto fail;
	if ((rc = get_object(&s, cfg->root, "", "server")) || (rc = get_object(&p, cfg->root, "", "pipeline")) ||
	    (rc = get_object(&w, cfg->root, "", "webhooks")) || (rc = get_object(&prov, cfg->root, "", "providers")) ||
	    (rc = get_object(&sec, cfg->root, "", "secrets")))
		goto fail;
	if ((rc = get_object(&cmp, cfg->root, "", "compose")) || (rc = parse_compose(&cfg->compose, cmp)))
		goto fail;
	if ((rc = parse_store_storage(cfg, cfg->root, ov)) || (rc = parse_server(cfg, s, ov)) ||
	    (rc = parse_pipeline(cfg, p, ov)) || (rc = parse_webhooks(cfg, w)))
		goto fail;
	if (sec && (rc = check_keys(sec, "secrets", "secrets")))
		goto fail;
	if ((rc = get_string(&cfg->master_key_env, sec, "secrets", "master_key_env", "LV_MASTER_KEY")))
		goto fail;
	if ((rc = get_int(&n, cfg->root, "", "idempotency_ttl_hours", 48, 24, 24 * 365)))
		goto fail;
	cfg->idempotency_ttl_hours = (int)n;
	if ((rc = get_string(&cfg->store_password_env, cfg->root, "", "store_password_env", NULL)) ||
	    (rc = get_int32(&cfg->store_pool_size, cfg->root, "", "store_pool_size", 0, 0, 1000)))
		goto fail;
	if ((rc = load_plugins(cfg, ov)) || (rc = parse_providers(cfg, prov)))
		goto fail;
	for (i = 0; i < LV_STAGE_IDX_COUNT; i++) {
		char key[64];
		snprintf(key, sizeof(key), "pipeline.%s", stage_names[i]);
		if ((rc = check_stage_provider(cfg, cfg->stage_provider[i], stage_bits[i], key)))
			goto fail;
	}
	if ((rc = check_stage_provider(cfg, cfg->default_video_provider, LV_STAGE_VIDEO,
	                               "pipeline.default_video_provider")))
		goto fail;
	*out = cfg;
	return LV_OK;
fail:
	lv_config_free(cfg);
	return rc;
}

int lv_config_set_public_url(lv_config *cfg, const char *url)
{
	return lv_strset(&cfg->public_url, url);
}

void lv_config_free(lv_config *cfg)
{
	size_t i;
	if (!cfg)
		return;
	for (i = 0; i < cfg->n_providers; i++)
		provider_clear(&cfg->providers[i]);
	free(cfg->providers);
	free(cfg->plugin_infos);
	for (i = 0; i < LV_STAGE_IDX_COUNT; i++)
		free(cfg->stage_provider[i]);
	free(cfg->data_dir);
	free(cfg->store);
	free(cfg->storage_type);
	free(cfg->storage_dir);
	free(cfg->s3.endpoint);
	free(cfg->s3.region);
	free(cfg->s3.bucket);
	free(cfg->s3.prefix);
	free(cfg->s3.access_key_env);
	free(cfg->s3.secret_key_env);
	free(cfg->s3.public_base_url);
	free(cfg->listen);
	free(cfg->trusted_proxies);
	free(cfg->cors_origins);
	free(cfg->public_url);
	free(cfg->default_video_provider);
	free(cfg->master_key_env);
	free(cfg->store_password_env);
	cJSON_Delete(cfg->root);
	cJSON_Delete(cfg->builtin_local);
	free(cfg);
}

int lv_config_max_tasks_in_flight(const lv_config *cfg, int cores)
{
	int64_t busy = 0, floor = 4LL * (cores > 0 ? cores : 1);
	size_t i;
	if (cfg->max_tasks_in_flight > 0)
		return cfg->max_tasks_in_flight;
	for (i = 0; i < cfg->n_providers; i++)
		if (cfg->providers[i].info->stages & LV_STAGE_VIDEO)
			busy += (cfg->providers[i].max_concurrent_jobs + cfg->segment_concurrency - 1) /
			        cfg->segment_concurrency;
	return (int)(busy > floor ? (busy > 1000000 ? 1000000 : busy) : floor);
}
