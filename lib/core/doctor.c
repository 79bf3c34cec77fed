/* lv_engine_doctor: what an operator wants to know before the first task runs. */
#include "core/engine.h"
#include "util/error.h"
#include "util/json.h"
#include "util/mem.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lv_doctor {
	lv_doctor_check *items;
	size_t n, cap;
	int failed;
};

static int add(lv_doctor *d, const char *check, const char *provider, int ok, const char *message)
{
	lv_doctor_check *c;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		lv_doctor_check *g = lv_realloc(d->items, cap * sizeof(*g));
		if (!g)
			return LV_ENOMEM;
		d->items = g;
		d->cap = cap;
	}
	c = &d->items[d->n];
	c->check = check; /* static strings */
	c->ok = ok;
	c->provider = lv_strdup(provider);
	c->message = lv_strdup(message);
	if ((provider && !c->provider) || !c->message) {
		free((char *)c->provider);
		free((char *)c->message);
		return LV_ENOMEM;
	}
	d->n++;
	d->failed += !ok;
	return LV_OK;
}

static int url_ok(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	         curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host;
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

static int check_provider(lv_doctor *d, lv_engine *e, const lv_provider_conf *c, unsigned flags)
{
	const lv_provider *p = lv_providers_get(e->providers, c->name);
	char msg[700];
	int rc = LV_OK;
	if (c->api_key_env) {
		const char *v = getenv(c->api_key_env);
		if (v && *v)
			snprintf(msg, sizeof(msg), "the environment variable %s is set", c->api_key_env);
		else
			snprintf(msg, sizeof(msg), "the environment variable %s is not set: export it with the API key",
			         c->api_key_env);
		rc = add(d, "api_key_env", c->name, v && *v, msg);
	} else if (c->info->needs_api_key) {
		snprintf(msg, sizeof(msg), "type %s needs an API key: set providers.%s.api_key_env", c->type, c->name);
		rc = add(d, "api_key_env", c->name, 0, msg);
	}
	if (rc == LV_OK && c->base_url) {
		int ok = url_ok(c->base_url);
		snprintf(msg, sizeof(msg), "base_url %s %s", c->base_url, ok ? "parses" : "is not a usable URL");
		rc = add(d, "base_url", c->name, ok, msg);
	} else if (rc == LV_OK && c->info->needs_base_url) {
		snprintf(msg, sizeof(msg), "type %s needs providers.%s.base_url", c->type, c->name);
		rc = add(d, "base_url", c->name, 0, msg);
	}
	if (rc == LV_OK) {
		snprintf(msg, sizeof(msg), "built (type %s)", c->type);
		rc = add(d, "build", c->name, p != NULL, p ? msg : "not built");
	}
	if (rc == LV_OK && (flags & LV_DOCTOR_ONLINE) && p) {
		if (p->ping) {
			lv_provider_error err;
			memset(&err, 0, sizeof(err));
			if (p->ping(p->self, &err) == LV_OK)
				rc = add(d, "online", c->name, 1, "answers");
			else
				rc = add(d, "online", c->name, 0, err.message);
		} else {
			rc = add(d, "online", c->name, 1, "nothing to reach: it runs in this process");
		}
	}
	return rc;
}

int lv_engine_check_storage(lv_engine *engine)
{
	const lv_config *c;
	if (!engine)
		return lv_error_set(LV_EINVALID, "lv_engine_check_storage: engine is required");
	c = engine->cfg;
	if (!strcmp(c->storage_type, "s3") || c->storage_plugin) /* remote, or a program's type: its own check */
		return engine->storage ? engine->storage->ops->check(engine->storage) : LV_OK;
	if (c->storage_dir && *c->storage_dir && access(c->storage_dir, W_OK | X_OK) != 0)
		return lv_error_set(LV_EIO, "storage: the media directory %s is not writable", c->storage_dir);
	return LV_OK;
}

/* The storage: an S3 bucket is reached (bucket present, credentials accepted); a local directory is
 * writable or can be made. */
static int check_storage(lv_doctor *d, lv_engine *e)
{
	const lv_config *c = e->cfg;
	char msg[900];
	/* S3, or a program's type (longvideo/sys/storage.h): the backend's own check, which an open runs. */
	if (!strcmp(c->storage_type, "s3") || c->storage_plugin) {
		lv_storage *st = NULL;
		int rc = e->storage ? e->storage->ops->check(e->storage) : lv_storage_open(&st, c);
		lv_storage_close(st);
		if (rc == LV_ENOMEM)
			return rc;
		if (rc != LV_OK)
			snprintf(msg, sizeof(msg), "%s", lv_error_last()->message);
		else if (c->storage_plugin)
			snprintf(msg, sizeof(msg), "%s: usable (the type's own check)", c->storage_type);
		else
			snprintf(msg, sizeof(msg), "s3: the bucket '%s' at %s answers and accepts the credentials",
			         c->s3.bucket, c->s3.endpoint);
		return add(d, "storage", NULL, rc == LV_OK, msg);
	}
	if (access(c->storage_dir, F_OK) != 0) {
		snprintf(msg, sizeof(msg), "local: %s does not exist yet; it is created at start-up", c->storage_dir);
		return add(d, "storage", NULL, 1, msg);
	}
	if (access(c->storage_dir, W_OK | X_OK) != 0) {
		snprintf(msg, sizeof(msg), "local: %s is not writable: %s", c->storage_dir, strerror(errno));
		return add(d, "storage", NULL, 0, msg);
	}
	snprintf(msg, sizeof(msg), "local: %s is writable", c->storage_dir);
	return add(d, "storage", NULL, 1, msg);
}

int lv_engine_doctor(lv_doctor **out, lv_engine *e, unsigned int flags)
{
	lv_doctor *d;
	char msg[600];
	size_t i;
	int s, rc = LV_OK;
	if (!out || !e)
		return lv_error_set(LV_EINVALID, "lv_engine_doctor: out and engine are required");
	*out = NULL;
	if (!(d = lv_calloc(1, sizeof(*d))))
		return LV_ENOMEM;
	/* Every stage names a provider that exists and can serve it (the config loader insists; say which). */
	for (s = 0; s < LV_STAGE_IDX_COUNT && rc == LV_OK; s++) {
		const lv_provider_conf *c = lv_config_stage_provider(e->cfg, s);
		snprintf(msg, sizeof(msg), "pipeline.%s is served by '%s' (type %s)", lv_config_stage_name(s),
		         c ? c->name : "?", c ? c->type : "?");
		rc = add(d, "stage", c ? c->name : NULL, c != NULL, msg);
	}
	if (rc == LV_OK) {
		snprintf(msg, sizeof(msg), "videos default to provider '%s'", e->cfg->default_video_provider);
		rc = add(d, "stage", e->cfg->default_video_provider, 1, msg);
	}
	/* Drawn anchor cards are not pictures of the characters: real video providers make those shots from text. */
	{
		const lv_provider_conf *a = lv_config_stage_provider(e->cfg, LV_STAGE_IDX_ANCHOR);
		for (i = 0; a && !strcmp(a->type, "local") && i < e->cfg->n_providers && rc == LV_OK; i++) {
			const lv_provider_conf *v = &e->cfg->providers[i];
			if (!(v->info->stages & LV_STAGE_VIDEO) || !strcmp(v->type, "local"))
				continue;
			snprintf(msg, sizeof(msg),
			         "pipeline.anchor is '%s' (type local), which draws captioned cards, not pictures: shots on "
			         "'%s' are made from text alone, without the characters' reference images; serve the anchor "
			         "stage with an image provider to keep characters consistent",
			         a->name, v->name);
			rc = add(d, "anchor", v->name, 1, msg);
		}
	}
	for (i = 0; i < e->cfg->n_providers && rc == LV_OK; i++)
		rc = check_provider(d, e, &e->cfg->providers[i], flags);
	if (rc == LV_OK && (flags & LV_DOCTOR_ONLINE)) {
		/* The store answers and logs us in (nothing is changed: no migration). */
		lv_store_open_options so;
		char smsg[512];
		int st;
		memset(&so, 0, sizeof(so));
		so.spec = e->cfg->store;
		so.password_env = e->cfg->store_password_env;
		st = lv_store_check(&so, smsg, sizeof(smsg));
		if (st == LV_ENOMEM)
			rc = st;
		else
			rc = add(d, "store", NULL, st == LV_OK, smsg);
	}
	if (rc == LV_OK)
		rc = check_storage(d, e);
	if (rc) {
		lv_doctor_free(d);
		return rc;
	}
	*out = d;
	return LV_OK;
}

size_t lv_doctor_count(const lv_doctor *d)
{
	return d ? d->n : 0;
}

const lv_doctor_check *lv_doctor_get(const lv_doctor *d, size_t i)
{
	return d && i < d->n ? &d->items[i] : NULL;
}

int lv_doctor_ok(const lv_doctor *d)
{
	return d && d->failed == 0;
}

int lv_doctor_to_json(char **out, const lv_doctor *d)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	size_t i;
	int ok = root && arr;
	*out = NULL;
	for (i = 0; ok && i < d->n; i++) {
		cJSON *c = cJSON_CreateObject();
		ok = c && cJSON_AddItemToArray(arr, c);
		if (!ok) {
			cJSON_Delete(c);
			break;
		}
		ok = cJSON_AddStringToObject(c, "check", d->items[i].check) &&
		     lv_json_add_str(c, "provider", d->items[i].provider) == LV_OK &&
		     cJSON_AddBoolToObject(c, "ok", d->items[i].ok) &&
		     cJSON_AddStringToObject(c, "message", d->items[i].message);
	}
	ok = ok && cJSON_AddBoolToObject(root, "ok", d->failed == 0);
	if (ok && cJSON_AddItemToObject(root, "checks", arr))
		arr = NULL;
	else
		ok = 0;
	if (ok)
		*out = lv_json_print(root);
	cJSON_Delete(arr);
	cJSON_Delete(root);
	return *out ? LV_OK : lv_error_nomem();
}

void lv_doctor_free(lv_doctor *d)
{
	size_t i;
	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free((char *)d->items[i].provider);
		free((char *)d->items[i].message);
	}
	free(d->items);
	free(d);
}
