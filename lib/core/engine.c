#include "core/engine.h"
#include "longvideo/sys/storage.h"
#include "longvideo/task.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MASTER_KEY_FILE "master.key"

/* The master key signs nothing by itself: it derives each API key's webhook secret, so that
 * the secrets are never stored.  It comes from the environment variable named by
 * secrets.master_key_env (base64 of >= 32 bytes), else from <data_dir>/master.key, which is
 * created (mode 0600) on first use. */
static int load_master_key(lv_engine *e)
{
	const char *env = getenv(e->cfg->master_key_env);
	unsigned char buf[128];
	char *path = NULL;
	long n;
	int rc = LV_OK;

	/* Every process of a PostgreSQL deployment must share one key: a file in one machine's data
	 * dir cannot be it. */
	if ((!env || !*env) && !strncmp(e->cfg->store, "postgres", 8))
		return lv_error_set(LV_ECONFIG,
		                    "secrets: a postgresql store needs the master key in the environment variable %s "
		                    "(base64 of at least 32 bytes, the same in every process)",
		                    e->cfg->master_key_env);
	if (env && *env) {
		size_t l = strlen(env);
		n = l <= 170 ? lv_base64_decode(buf, env, l) : -1;
		if (n < 32)
			return lv_error_set(LV_ECONFIG,
			                    "secrets: the environment variable %s must hold base64 of at least 32 bytes",
			                    e->cfg->master_key_env);
		lv_sha256(e->master_key, buf, (size_t)n);
		return LV_OK;
	}
	if (lv_mkdir_p(e->cfg->data_dir, 1))
		return lv_error_last()->status;
	if (!(path = lv_path_join(e->cfg->data_dir, MASTER_KEY_FILE)))
		return LV_ENOMEM;
	if (!lv_path_exists(path)) {
		/* Write a temp file, then link() it into place: link fails if another process won. */
		unsigned char raw[32];
		char b64[64], *tmp = lv_asprintf("%s.%ld.tmp", path, (long)getpid());
		if (!tmp) {
			free(path);
			return LV_ENOMEM;
		}
		if ((rc = lv_random_bytes(raw, sizeof(raw))) == LV_OK) {
			size_t bl = lv_base64_encode(b64, raw, sizeof(raw));
			b64[bl++] = '\n';
			rc = lv_file_write_atomic(tmp, b64, bl, 0600);
			if (rc == LV_OK && link(tmp, path) != 0 && errno != EEXIST)
				rc = lv_error_set(LV_EIO, "cannot create %s: %s", path, strerror(errno));
			unlink(tmp);
		}
		free(tmp);
		if (rc) {
			free(path);
			return rc;
		}
	}
	free(path);
	return lv_engine_file_master_key(e, e->master_key);
}

int lv_engine_file_master_key(const lv_engine *e, unsigned char out[32])
{
	unsigned char buf[128];
	char *text = NULL, *path = lv_path_join(e->cfg->data_dir, MASTER_KEY_FILE);
	size_t len = 0;
	long n;
	int rc;
	if (!path)
		return LV_ENOMEM;
	if (!lv_path_exists(path)) {
		free(path);
		return LV_ENOTFOUND;
	}
	if ((rc = lv_file_read(&text, &len, path)) == LV_OK) {
		while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
			text[--len] = '\0';
		n = len <= 170 ? lv_base64_decode(buf, text, len) : -1;
		if (n < 32)
			rc = lv_error_set(LV_ECONFIG, "secrets: %s is damaged (expected base64 of 32 bytes)", path);
		else
			lv_sha256(out, buf, (size_t)n);
	}
	free(text);
	free(path);
	return rc;
}

static int add_setting(lv_engine *e, const char *name, const char *value)
{
	if (e->n_settings >= LV_MAX_SETTINGS)
		return lv_error_set(LV_EINTERNAL, "too many settings");
	e->settings[e->n_settings].name = name;
	if (!(e->settings[e->n_settings].value = lv_strdup(value ? value : "")))
		return LV_ENOMEM;
	e->n_settings++;
	return LV_OK;
}

static int add_setting_int(lv_engine *e, const char *name, int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return add_setting(e, name, buf);
}

static int build_settings(lv_engine *e)
{
	const lv_config *c = e->cfg;
	if (add_setting(e, "data_dir", c->data_dir) || add_setting(e, "store", c->store) ||
	    add_setting(e, "storage.type", c->storage_type) || add_setting(e, "storage.dir", c->storage_dir) ||
	    add_setting(e, "server.listen", c->listen) || add_setting(e, "server.public_url", c->public_url) ||
	    add_setting_int(e, "server.threads", c->threads) ||
	    add_setting_int(e, "server.max_body_bytes", c->max_body_bytes) ||
	    add_setting_int(e, "server.max_create_body_bytes", c->max_create_body_bytes) ||
	    add_setting_int(e, "server.rate_limit_per_minute", c->rate_limit_per_minute) ||
	    add_setting_int(e, "server.max_connections", c->max_connections) ||
	    add_setting_int(e, "server.max_connections_per_ip", c->max_connections_per_ip) ||
	    add_setting_int(e, "server.edge_threads", c->edge_threads) ||
	    add_setting_int(e, "server.max_event_streams", c->max_event_streams) ||
	    add_setting_int(e, "server.header_timeout_ms", c->header_timeout_ms) ||
	    add_setting_int(e, "server.body_timeout_ms", c->body_timeout_ms) ||
	    add_setting(e, "server.trusted_proxies", c->trusted_proxies ? c->trusted_proxies : "") ||
	    add_setting(e, "server.cors_origins", c->cors_origins ? c->cors_origins : "") ||
	    add_setting(e, "server.log_format", c->log_json ? "json" : "text") ||
	    add_setting(e, "server.edge_reads", c->edge_reads > 0 ? "on" : c->edge_reads == 0 ? "off" : "auto") ||
	    add_setting_int(e, "pipeline.workers", c->workers) ||
	    add_setting(e, "pipeline.default_video_provider", c->default_video_provider) ||
	    add_setting_int(e, "server.public_url_explicit", c->public_url_explicit))
		return lv_error_last()->status;
	return LV_OK;
}

int lv_engine_open(lv_engine **out, const lv_engine_options *opts)
{
	lv_engine_options defaults = LV_ENGINE_OPTIONS_INIT;
	lv_config_overrides ov;
	lv_engine *e;
	const char *path;
	int rc;

	if (!out)
		return lv_error_set(LV_EINVALID, "lv_engine_open: out is NULL");
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version < 1 || opts->version > LV_ENGINE_OPTIONS_VERSION)
		return lv_error_set(LV_EINVALID, "lv_engine_open: unsupported options version %u", opts->version);
	memset(&ov, 0, sizeof(ov));
	if (opts->version >= 2) { /* version 1 options end before the provider types */
		if (opts->n_provider_types > LV_ENGINE_MAX_PROVIDER_TYPES)
			return lv_error_set(LV_EINVALID, "lv_engine_open: n_provider_types: at most %d",
			                    LV_ENGINE_MAX_PROVIDER_TYPES);
		ov.types = opts->provider_types;
		ov.n_types = opts->n_provider_types;
	}
	if (opts->version >= 3) { /* version 2 options end before the storage types */
		if (opts->n_storage_types > LV_ENGINE_MAX_STORAGE_TYPES)
			return lv_error_set(LV_EINVALID, "lv_engine_open: n_storage_types: at most %d",
			                    LV_ENGINE_MAX_STORAGE_TYPES);
		ov.storage_types = opts->storage_types;
		ov.n_storage_types = opts->n_storage_types;
	}
	ov.data_dir = opts->data_dir;
	ov.listen = opts->listen;
	ov.public_url = opts->public_url;
	ov.workers = opts->workers;
	path = opts->config_path ? opts->config_path : getenv("LV_CONFIG");
	if (path && !*path)
		path = NULL;
	/* Reference-counted and thread-safe in libcurl >= 7.84: one per engine, undone in close. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return lv_error_set(LV_EINTERNAL, "libcurl could not be initialised");
	if (!(e = lv_calloc(1, sizeof(*e)))) {
		curl_global_cleanup();
		return LV_ENOMEM;
	}
	e->flags = opts->flags;
	pthread_mutex_init(&e->gmu, NULL);
	pthread_cond_init(&e->gcv, NULL);
	if ((rc = lv_metrics_new(&e->metrics)) || (rc = lv_config_load(&e->cfg, path, opts->config_json, &ov)) ||
	    (rc = build_settings(e)))
		goto fail;
	if ((rc = lv_providers_build(&e->providers, e->cfg)))
		goto fail;
	if (!(e->flags & LV_ENGINE_NO_STORE)) {
		lv_store_open_options so;
		if ((e->flags & LV_ENGINE_EXISTING_STORE) && !strncmp(e->cfg->store, "sqlite:", 7) &&
		    !lv_path_exists(e->cfg->store + 7)) {
			rc = lv_error_set(LV_ECONFIG, "no store at %s (is the data directory '%s' right? a new store is made by "
			                  "lvserver, lvctl worker or lvctl keys create)", e->cfg->store + 7, e->cfg->data_dir);
			goto fail;
		}
		memset(&so, 0, sizeof(so));
		so.spec = e->cfg->store;
		so.password_env = e->cfg->store_password_env;
		so.pool_size = e->cfg->store_pool_size;
		so.master_key = e->master_key;
		if ((rc = load_master_key(e)) || (rc = lv_store_open_ex(&e->store, &so)) ||
		    (rc = lv_storage_open(&e->storage, e->cfg)))
			goto fail;
	}
	e->events_mac = lv_hmac_key_new(e->master_key, sizeof(e->master_key));
	*out = e;
	return LV_OK;
fail:
	lv_engine_close(e);
	return rc;
}

int lv_engine_register_provider_type(lv_engine_options *opts, const lv_provider_type *type)
{
	size_t i;
	if (!opts || !type)
		return lv_error_set(LV_EINVALID, "lv_engine_register_provider_type: %s is NULL", opts ? "type" : "opts");
	if (opts->version < 2 || opts->version > LV_ENGINE_OPTIONS_VERSION)
		return lv_error_set(LV_EINVALID, "lv_engine_register_provider_type: options version %u has no provider "
		                    "types (initialise them with LV_ENGINE_OPTIONS_INIT)", opts->version);
	if (type->version != LV_PROVIDER_TYPE_VERSION)
		return lv_error_set(LV_EINVALID, "provider type: unsupported version %u (this library: %d)", type->version,
		                    LV_PROVIDER_TYPE_VERSION);
	if (!type->name || !*type->name || !type->create)
		return lv_error_set(LV_EINVALID, "provider type: %s is required", type->create ? "name" : "create");
	if (!(type->stages & 0x3fu) || (type->stages & ~0x3fu))
		return lv_error_set(LV_EINVALID, "provider type '%s': stages: give one or more LV_PROVIDER_* bits",
		                    type->name);
	if (lv_provider_type_find(type->name))
		return lv_error_set(LV_EINVALID, "provider type '%s': a built-in type has this name", type->name);
	for (i = 0; i < opts->n_provider_types; i++)
		if (!strcmp(opts->provider_types[i]->name, type->name))
			return lv_error_set(LV_EINVALID, "provider type '%s': registered twice", type->name);
	if (opts->n_provider_types >= LV_ENGINE_MAX_PROVIDER_TYPES)
		return lv_error_set(LV_EINVALID, "provider type '%s': at most %d types per engine", type->name,
		                    LV_ENGINE_MAX_PROVIDER_TYPES);
	opts->provider_types[opts->n_provider_types++] = type;
	return LV_OK;
}

int lv_engine_register_storage_type(lv_engine_options *opts, const lv_storage_type *type)
{
	size_t i;
	if (!opts || !type)
		return lv_error_set(LV_EINVALID, "lv_engine_register_storage_type: %s is NULL", opts ? "type" : "opts");
	if (opts->version < 3 || opts->version > LV_ENGINE_OPTIONS_VERSION)
		return lv_error_set(LV_EINVALID, "lv_engine_register_storage_type: options version %u has no storage "
		                    "types (initialise them with LV_ENGINE_OPTIONS_INIT)", opts->version);
	if (type->version != LV_STORAGE_TYPE_VERSION)
		return lv_error_set(LV_EINVALID, "storage type: unsupported version %u (this library: %d)", type->version,
		                    LV_STORAGE_TYPE_VERSION);
	if (!type->name || !*type->name || !type->create)
		return lv_error_set(LV_EINVALID, "storage type: %s is required", type->create ? "name" : "create");
	if (!strcmp(type->name, "local") || !strcmp(type->name, "s3"))
		return lv_error_set(LV_EINVALID, "storage type '%s': a built-in type has this name", type->name);
	for (i = 0; i < opts->n_storage_types; i++)
		if (!strcmp(opts->storage_types[i]->name, type->name))
			return lv_error_set(LV_EINVALID, "storage type '%s': registered twice", type->name);
	if (opts->n_storage_types >= LV_ENGINE_MAX_STORAGE_TYPES)
		return lv_error_set(LV_EINVALID, "storage type '%s': at most %d types per engine", type->name,
		                    LV_ENGINE_MAX_STORAGE_TYPES);
	opts->storage_types[opts->n_storage_types++] = type;
	return LV_OK;
}

void lv_engine_close(lv_engine *e)
{
	size_t i;
	if (!e)
		return;
	lv_store_close(e->store);
	lv_storage_close(e->storage);
	lv_providers_free(e->providers);
	lv_metrics_free(e->metrics);
	lv_config_free(e->cfg);
	for (i = 0; i < e->n_settings; i++)
		free(e->settings[i].value);
	lv_hmac_key_free(e->events_mac);
	memset(e->master_key, 0, sizeof(e->master_key));
	pthread_mutex_destroy(&e->gmu);
	pthread_cond_destroy(&e->gcv);
	free(e);
	curl_global_cleanup();
}

const char *lv_engine_setting(const lv_engine *e, const char *name)
{
	size_t i;
	for (i = 0; e && name && i < e->n_settings; i++)
		if (!strcmp(e->settings[i].name, name))
			return e->settings[i].value;
	return NULL;
}

int64_t lv_engine_setting_int(const lv_engine *e, const char *name, int64_t fallback)
{
	const char *v = lv_engine_setting(e, name);
	char *end;
	long long n;
	if (!v || !*v)
		return fallback;
	n = strtoll(v, &end, 10);
	return *end ? fallback : (int64_t)n;
}

int lv_engine_update_public_url(lv_engine *e, const char *url)
{
	size_t i;
	if (lv_config_set_public_url(e->cfg, url))
		return LV_ENOMEM;
	for (i = 0; i < e->n_settings; i++)
		if (!strcmp(e->settings[i].name, "server.public_url"))
			return lv_strset(&e->settings[i].value, url);
	return LV_OK;
}

int lv_engine_require_store(lv_engine *e)
{
	if (!e)
		return lv_error_set(LV_EINVALID, "engine is NULL");
	if (!e->store)
		return lv_error_set(LV_EINVALID, "this engine was opened without a store (LV_ENGINE_NO_STORE)");
	return LV_OK;
}

const lv_provider_conf *lv_engine_video_provider(lv_engine *e, const char *name)
{
	const lv_provider_conf *p = lv_config_provider(e->cfg, name);
	if (!p || !(p->info->stages & LV_STAGE_VIDEO)) {
		lv_buf names = LV_BUF_INIT;
		size_t i;
		for (i = 0; i < e->cfg->n_providers; i++)
			if (e->cfg->providers[i].info->stages & LV_STAGE_VIDEO)
				lv_buf_printf(&names, "%s%s", names.len ? ", " : "", e->cfg->providers[i].name);
		lv_error_set(LV_EINVALID, "provider: '%s' is not a configured video provider (configured: %s)",
		             name ? name : "", names.data ? names.data : "none");
		lv_buf_free(&names);
		return NULL;
	}
	return p;
}

static int tx_once(lv_engine *e, int write, lv_tx_fn fn, void *ctx)
{
	int attempt, rc = LV_OK;
	for (attempt = 0; attempt < 5; attempt++) {
		lv_store_tx *tx;
		rc = e->store->ops->begin(e->store, write, &tx);
		if (rc == LV_OK) {
			rc = fn(tx, ctx);
			if (rc == LV_OK)
				rc = e->store->ops->commit(tx);
			else
				e->store->ops->rollback(tx);
		}
		if (rc != LV_EBUSY)
			return rc;
		LV_WARN("store busy, retrying (attempt %d)", attempt + 1);
		lv_sleep_ms(50 << attempt);
	}
	return rc;
}

#define GROUP_MAX 64

typedef struct lv_write_req {
	lv_tx_fn fn;
	void *ctx;
	int rc;
	int done;
	char *message;  /* the error of a failed fn, carried to its own thread */
	char *details;
	struct lv_write_req *next;
} lv_write_req;

static void req_fail(lv_write_req *r, int rc)
{
	const lv_error *err = lv_error_last();
	r->rc = rc;
	free(r->message);
	free(r->details);
	r->message = lv_strdup(err->message ? err->message : "");
	r->details = lv_strdup(err->details_json);
}

/* The leader's work: the queued writes in one transaction, one savepoint each, one commit. */
static void run_group(lv_engine *e, lv_write_req *batch)
{
	const lv_store_ops *ops = e->store->ops;
	lv_write_req *r;
	int attempt, rc = LV_OK;
	for (attempt = 0; attempt < 5; attempt++) {
		lv_store_tx *tx;
		int broken = 0;
		if ((rc = ops->begin(e->store, 1, &tx)) == LV_OK) {
			for (r = batch; r; r = r->next) {
				r->rc = LV_OK;
				if (broken)
					continue;
				if ((rc = ops->savepoint(tx, LV_SP_BEGIN))) {
					broken = 1;
					break;
				}
				lv_error_set(LV_OK, "%s", ""); /* no error of another caller's fn is carried over */
				if ((r->rc = r->fn(tx, r->ctx)) != LV_OK) {
					req_fail(r, r->rc);
					if (ops->savepoint(tx, LV_SP_ROLLBACK))
						broken = 1, rc = lv_error_last()->status;
				} else if ((rc = ops->savepoint(tx, LV_SP_RELEASE))) {
					broken = 1;
				}
			}
			if (broken) {
				ops->rollback(tx);
			} else {
				rc = ops->commit(tx);
			}
		}
		if (rc != LV_EBUSY)
			break;
		LV_WARN("store busy, retrying (attempt %d)", attempt + 1);
		lv_sleep_ms(50 << attempt);
	}
	if (rc != LV_OK) /* nothing was kept: every request fails with the transaction's error */
		for (r = batch; r; r = r->next)
			if (r->rc == LV_OK || rc != LV_EBUSY)
				req_fail(r, rc);
}

int lv_engine_tx(lv_engine *e, int write, lv_tx_fn fn, void *ctx)
{
	lv_write_req *req;
	int rc;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if (!write || !e->store->ops->savepoint)
		return tx_once(e, write, fn, ctx);
	if (!(req = lv_calloc(1, sizeof(*req))))
		return LV_ENOMEM;
	req->fn = fn;
	req->ctx = ctx;
	pthread_mutex_lock(&e->gmu);
	if (e->leading && pthread_equal(e->leader, pthread_self())) {
		pthread_mutex_unlock(&e->gmu);
		free(req);
		return lv_error_set(LV_EINTERNAL, "a write transaction was started inside another");
	}
	if (e->gq_tail)
		e->gq_tail->next = req;
	else
		e->gq_head = req;
	e->gq_tail = req;
	while (!req->done) {
		if (!e->leading) {
			/* Lead: take what is queued (this request among it) and run it as one transaction. */
			lv_write_req *batch = e->gq_head, *r, *last = batch;
			int n = 1;
			while (last->next && n < GROUP_MAX) {
				last = last->next;
				n++;
			}
			e->gq_head = last->next;
			if (!e->gq_head)
				e->gq_tail = NULL;
			last->next = NULL;
			e->leading = 1;
			e->leader = pthread_self();
			pthread_mutex_unlock(&e->gmu);
			run_group(e, batch);
			pthread_mutex_lock(&e->gmu);
			for (r = batch; r; r = r->next)
				r->done = 1;
			e->leading = 0;
			pthread_cond_broadcast(&e->gcv);
		} else {
			pthread_cond_wait(&e->gcv, &e->gmu);
		}
	}
	pthread_mutex_unlock(&e->gmu);
	if (req->rc == LV_EBUSY) {
		/* "Try again" from inside the group (on PostgreSQL: a lost idempotency or event numbering
		 * race, a deadlock): its savepoint was undone; run it again alone, with the usual retries. */
		free(req->message);
		free(req->details);
		free(req);
		return tx_once(e, write, fn, ctx);
	}
	if ((rc = req->rc) != LV_OK) {
		lv_error_set(rc, "%s", req->message ? req->message : "store: the write failed");
		if (req->details)
			lv_error_set_details(req->details);
	}
	free(req->message);
	free(req->details);
	free(req);
	return rc;
}

void lv_engine_webhook_secret(const lv_engine *e, const lv_key_rec *key, unsigned char out[32])
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "lv-webhook-secret:%s:%s", key->id, key->webhook_salt);
	lv_hmac_sha256(out, e->master_key, sizeof(e->master_key), msg, (size_t)n);
}

int lv_engine_set_public_url(lv_engine *e, const char *url)
{
	size_t len;
	char *copy;
	int rc;
	if (!e || !url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		return lv_error_set(LV_EINVALID, "public_url: must be an absolute http(s) URL");
	if (e->cfg->public_url_explicit)
		return LV_OK;
	if (!(copy = lv_strdup(url)))
		return LV_ENOMEM;
	len = strlen(copy);
	while (len > 0 && copy[len - 1] == '/')
		copy[--len] = '\0';
	rc = lv_engine_update_public_url(e, copy);
	free(copy);
	return rc;
}

typedef struct totals_ctx {
	const lv_store_ops *ops;
	int64_t t[3]; /* granted, balance, reserved */
} totals_ctx;

static int credit_totals_tx(lv_store_tx *tx, void *p)
{
	totals_ctx *c = p;
	return c->ops->credit_totals(tx, c->t);
}

int lv_engine_metrics_text(lv_engine *e, char **out, size_t *len)
{
	lv_buf b = LV_BUF_INIT;
	int rc;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_engine_metrics_text: out is NULL");
	*out = NULL;
	if (len)
		*len = 0;
	if (!e)
		return lv_error_set(LV_EINVALID, "lv_engine_metrics_text: engine is NULL");
	rc = lv_metrics_write(e->metrics, &b);
	if (rc == LV_OK && e->store && e->store->ops->credit_totals) {
		/* The running totals the keys carry: one aggregate over the keys, not over the ledger. */
		totals_ctx c;
		const int64_t *t = c.t;
		memset(&c, 0, sizeof(c));
		c.ops = e->store->ops;
		if (lv_engine_tx(e, 0, credit_totals_tx, &c) == LV_OK)
			rc = lv_buf_printf(&b,
			                   "# HELP longvideo_credits Credits over every key, from the running totals the keys "
			                   "carry: granted ever, available (balance), reserved by running tasks, settled "
			                   "(charged: granted - available - reserved).\n# TYPE longvideo_credits gauge\n"
			                   "longvideo_credits{kind=\"granted\"} %.3f\nlongvideo_credits{kind=\"available\"} %.3f\n"
			                   "longvideo_credits{kind=\"reserved\"} %.3f\nlongvideo_credits{kind=\"settled\"} %.3f\n",
			                   (double)t[0] / 1000.0, (double)t[1] / 1000.0, (double)t[2] / 1000.0,
			                   (double)(t[0] - t[1] - t[2]) / 1000.0);
		else {
			rc = lv_buf_printf(&b, "# the credits could not be totalled: %s\n", lv_error_last()->message);
			lv_error_clear();
		}
	}
	if (rc) {
		lv_buf_free(&b);
		return rc;
	}
	if (len)
		*len = b.len;
	*out = b.data ? lv_buf_detach(&b) : lv_strdup("");
	return *out ? LV_OK : LV_ENOMEM;
}

typedef struct counts_ctx {
	const lv_store_ops *ops;
	int64_t tasks[LV_STORE_STATUS_SLOTS];
	int64_t outbox[3];
} counts_ctx;

static int counts_tx(lv_store_tx *tx, void *p)
{
	counts_ctx *c = p;
	return c->ops->status_counts(tx, c->tasks, c->outbox);
}

int lv_status_counts_get(lv_status_counts *out, lv_engine *e)
{
	counts_ctx c;
	size_t i;
	int rc;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_status_counts_get: out is NULL");
	memset(out, 0, sizeof(*out));
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	memset(&c, 0, sizeof(c));
	c.ops = e->store->ops;
	if (!c.ops->status_counts)
		return lv_error_set(LV_EINTERNAL, "store %s: cannot count tasks by status", c.ops->name);
	if ((rc = lv_engine_tx(e, 0, counts_tx, &c)))
		return rc;
	for (i = 0; i < sizeof(out->tasks) / sizeof(out->tasks[0]) && i < LV_STORE_STATUS_SLOTS; i++)
		out->tasks[i] = c.tasks[i];
	out->webhooks_pending = c.outbox[0];
	out->webhooks_delivered = c.outbox[1];
	out->webhooks_failed = c.outbox[2];
	return LV_OK;
}
