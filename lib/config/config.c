#include "config/config.h"
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

static int check_keys(const cJSON *obj, const char *path, const char *const *allowed)
{
	const cJSON *it, *other;
	cJSON_ArrayForEach(it, obj)
	{
		const char *const *a;
		for (other = obj->child; other != it; other = other->next)
			if (!strcmp(other->string, it->string))
				return lv_error_set(LV_ECONFIG, "config: %s%s%s: given more than once", path, *path ? "." : "",
				                    it->string);
		for (a = allowed; *a; a++)
			if (!strcmp(*a, it->string))
				break;
		if (!*a)
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

static int parse_provider(lv_provider_conf *p, const cJSON *j, const char *name)
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
	p->info = lv_provider_type_find(p->type);
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
	if (get_int32(&p->max_retries, j, path, "max_retries", 3, 0, 20))
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
		if (parse_provider(&cfg->providers[cfg->n_providers++], it, it->string))
			return lv_error_last()->status;
	}
	/* The built-in offline provider always exists unless the config redefines "local". */
	if (!lv_config_provider(cfg, "local")) {
		cfg->builtin_local = cJSON_CreateObject();
		if (!cfg->builtin_local || !cJSON_AddStringToObject(cfg->builtin_local, "type", "local"))
			return lv_error_nomem();
		if (parse_provider(&cfg->providers[cfg->n_providers++], cfg->builtin_local, "local"))
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

static const char *const top_keys[] = { "data_dir", "server", "store", "storage", "pipeline", "providers",
	                                "webhooks", "secrets", "idempotency_ttl_hours", NULL };
static const char *const server_keys[] = { "listen", "public_url", "threads", "max_body_bytes",
	                                   "rate_limit_per_minute", NULL };
static const char *const pipeline_keys[] = { "workers", "segment_concurrency", "lease_seconds", "segment_retries",
	                                     "default_video_provider", "script", "moderation", "anchor",
	                                     "speech", "music", NULL };
static const char *const webhook_keys[] = { "retry_delays_ms", "timeout_ms", "allow_private", NULL };
static const char *const secrets_keys[] = { "master_key_env", NULL };
static const char *const storage_keys[] = { "type", "dir", NULL };

static int parse_server(lv_config *cfg, const cJSON *s, const lv_config_overrides *ov)
{
	int64_t n;
	if (s && check_keys(s, "server", server_keys))
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
	return get_int32(&cfg->rate_limit_per_minute, s, "server", "rate_limit_per_minute", 0, 0, 1000000);
}

static int parse_pipeline(lv_config *cfg, const cJSON *p, const lv_config_overrides *ov)
{
	int i;
	if (p && check_keys(p, "pipeline", pipeline_keys))
		return LV_ECONFIG;
	if (get_int32(&cfg->workers, p, "pipeline", "workers", 2, 0, 256) ||
	    get_int32(&cfg->segment_concurrency, p, "pipeline", "segment_concurrency", 8, 1, 256) ||
	    get_int32(&cfg->lease_seconds, p, "pipeline", "lease_seconds", 60, 2, 3600) ||
	    get_int32(&cfg->segment_retries, p, "pipeline", "segment_retries", 2, 0, 10) ||
	    get_string(&cfg->default_video_provider, p, "pipeline", "default_video_provider", "local"))
		return LV_ECONFIG;
	if (ov && ov->workers >= 0)
		cfg->workers = ov->workers;
	for (i = 0; i < LV_STAGE_IDX_COUNT; i++)
		if (get_string(&cfg->stage_provider[i], p, "pipeline", stage_names[i], "local"))
			return LV_ECONFIG;
	return LV_OK;
}

static int parse_webhooks(lv_config *cfg, const cJSON *w)
{
	const cJSON *d = w ? cJSON_GetObjectItemCaseSensitive(w, "retry_delays_ms") : NULL, *it;
	int64_t n;
	if (w && check_keys(w, "webhooks", webhook_keys))
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

static int parse_store_storage(lv_config *cfg, const cJSON *root)
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
	if (st && check_keys(st, "storage", storage_keys))
		return LV_ECONFIG;
	cfg->storage_json = st;
	if (get_string(&cfg->storage_type, st, "storage", "type", "local"))
		return LV_ECONFIG;
	if (strcmp(cfg->storage_type, "local") != 0 && strcmp(cfg->storage_type, "s3") != 0)
		return lv_error_set(LV_ECONFIG, "config: storage.type: must be \"local\" or \"s3\"");
	if (get_string(&cfg->storage_dir, st, "storage", "dir", NULL))
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
	const cJSON *s = NULL, *p = NULL, *w = NULL, *prov = NULL, *sec = NULL;
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
	if ((rc = check_keys(cfg->root, "", top_keys)))
		goto fail;
	if ((rc = get_string(&cfg->data_dir, cfg->root, "", "data_dir", "lvdata")))
		goto fail;
	if (ov && ov->data_dir && (rc = lv_strset(&cfg->data_dir, ov->data_dir)))
		goto fail;
	if ((rc = get_object(&s, cfg->root, "", "server")) || (rc = get_object(&p, cfg->root, "", "pipeline")) ||
	    (rc = get_object(&w, cfg->root, "", "webhooks")) || (rc = get_object(&prov, cfg->root, "", "providers")) ||
	    (rc = get_object(&sec, cfg->root, "", "secrets")))
		goto fail;
	if ((rc = parse_store_storage(cfg, cfg->root)) || (rc = parse_server(cfg, s, ov)) ||
	    (rc = parse_pipeline(cfg, p, ov)) || (rc = parse_webhooks(cfg, w)))
		goto fail;
	if (sec && (rc = check_keys(sec, "secrets", secrets_keys)))
		goto fail;
	if ((rc = get_string(&cfg->master_key_env, sec, "secrets", "master_key_env", "LV_MASTER_KEY")))
		goto fail;
	if ((rc = get_int(&n, cfg->root, "", "idempotency_ttl_hours", 48, 24, 24 * 365)))
		goto fail;
	cfg->idempotency_ttl_hours = (int)n;
	if ((rc = parse_providers(cfg, prov)))
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
	for (i = 0; i < LV_STAGE_IDX_COUNT; i++)
		free(cfg->stage_provider[i]);
	free(cfg->data_dir);
	free(cfg->store);
	free(cfg->storage_type);
	free(cfg->storage_dir);
	free(cfg->listen);
	free(cfg->public_url);
	free(cfg->default_video_provider);
	free(cfg->master_key_env);
	cJSON_Delete(cfg->root);
	cJSON_Delete(cfg->builtin_local);
	free(cfg);
}
