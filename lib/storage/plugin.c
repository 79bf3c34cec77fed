/* A program's storage type (longvideo/sys/storage.h) behind the internal lv_storage_ops: the adapter
 * checks keys before the type sees them, fills in the optional operations, and makes sure every
 * failure leaves a message. */
#include "config/config.h"
#include "longvideo/sys/storage.h"
#include "storage/storage.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lv_storage_conf {
	const cJSON *json; /* the "storage" block, or NULL when the config has none */
	const char *data_dir;
};

typedef struct plugin_storage {
	lv_storage base;
	const lv_storage_type *type;
	lv_storage_backend b;
} plugin_storage;

/* ---- the block's getters ------------------------------------------------------------------------------ */

int lv_storage_conf_str(const char **out, const lv_storage_conf *conf, const char *key, const char *fallback)
{
	const cJSON *v = conf ? cJSON_GetObjectItemCaseSensitive(conf->json, key) : NULL;
	*out = fallback;
	if (!v)
		return LV_OK;
	if (!cJSON_IsString(v) || !*v->valuestring)
		return lv_error_set(LV_ECONFIG, "config: storage.%s: must be a non-empty string", key);
	*out = v->valuestring;
	return LV_OK;
}

int lv_storage_conf_int(int64_t *out, const lv_storage_conf *conf, const char *key, int64_t def, int64_t min,
                        int64_t max)
{
	const cJSON *v = conf ? cJSON_GetObjectItemCaseSensitive(conf->json, key) : NULL;
	*out = def;
	if (!v)
		return LV_OK;
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble || v->valuedouble < (double)min ||
	    v->valuedouble > (double)max)
		return lv_error_set(LV_ECONFIG, "config: storage.%s: must be an integer from %lld to %lld", key,
		                    (long long)min, (long long)max);
	*out = (int64_t)v->valuedouble;
	return LV_OK;
}

int lv_storage_conf_bool(int *out, const lv_storage_conf *conf, const char *key, int def)
{
	const cJSON *v = conf ? cJSON_GetObjectItemCaseSensitive(conf->json, key) : NULL;
	*out = def;
	if (!v)
		return LV_OK;
	if (!cJSON_IsBool(v))
		return lv_error_set(LV_ECONFIG, "config: storage.%s: must be true or false", key);
	*out = cJSON_IsTrue(v);
	return LV_OK;
}

const char *lv_storage_conf_data_dir(const lv_storage_conf *conf)
{
	return conf ? conf->data_dir : NULL;
}

int lv_storage_fail(int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lv_error_set(status, "%s", msg);
}

/* ---- the adapter ------------------------------------------------------------------------------------------- */

/* After a call of the type: a failure keeps the type's message, or gets one naming the operation. */
static int done(const plugin_storage *s, int rc, const char *op, const char *key)
{
	const lv_error *last;
	char msg[1024];
	if (rc == LV_OK)
		return LV_OK;
	last = lv_error_last();
	if (last->status == LV_OK || !*last->message)
		return lv_error_set(rc, "storage '%s': %s %s failed: %s", s->type->name, op, key ? key : "",
		                    lv_strerror(rc));
	if (last->status != rc) {
		snprintf(msg, sizeof(msg), "%s", last->message);
		return lv_error_set(rc, "%s", msg);
	}
	return rc;
}

static int bad_key(const plugin_storage *s, const char *key)
{
	if (key && lv_storage_key_valid(key))
		return 0;
	lv_error_set(LV_EINVALID, "storage '%s': '%s' is not a storage key", s->type->name, key ? key : "(null)");
	return 1;
}

#define PS(base) ((plugin_storage *)(base))

static int ps_put_file(lv_storage *base, const char *key, const char *path, const char *content_type)
{
	plugin_storage *s = PS(base);
	if (bad_key(s, key))
		return LV_EINVALID;
	lv_error_clear();
	return done(s, s->b.ops->put_file(s->b.self, key, path, content_type), "put_file", key);
}

static int ps_get_file(lv_storage *base, const char *key, const char *dest_hint, char **out)
{
	plugin_storage *s = PS(base);
	int rc;
	*out = NULL;
	if (bad_key(s, key))
		return LV_EINVALID;
	lv_error_clear();
	rc = s->b.ops->get_file(s->b.self, key, dest_hint, out);
	if (rc != LV_OK || !*out) {
		free(*out);
		*out = NULL;
		return done(s, rc != LV_OK ? rc : LV_EINTERNAL, "get_file", key);
	}
	return LV_OK;
}

static int ps_exists(lv_storage *base, const char *key, int *found)
{
	plugin_storage *s = PS(base);
	*found = 0;
	if (bad_key(s, key))
		return LV_EINVALID;
	lv_error_clear();
	return done(s, s->b.ops->exists(s->b.self, key, found), "exists", key);
}

static int ps_head(lv_storage *base, const char *key, lv_storage_object *info)
{
	plugin_storage *s = PS(base);
	lv_storage_stat st;
	int rc;
	if (bad_key(s, key))
		return LV_EINVALID;
	memset(&st, 0, sizeof(st));
	lv_error_clear();
	if ((rc = s->b.ops->head(s->b.self, key, &st)))
		return done(s, rc, "head", key);
	st.content_type[sizeof(st.content_type) - 1] = '\0';
	info->size = st.size;
	snprintf(info->content_type, sizeof(info->content_type), "%s",
	         *st.content_type ? st.content_type : "application/octet-stream");
	return LV_OK;
}

static int ps_read(lv_storage *base, const char *key, int64_t offset, int64_t length, lv_storage_sink sink, void *ctx)
{
	plugin_storage *s = PS(base);
	if (bad_key(s, key))
		return LV_EINVALID;
	lv_error_clear();
	return done(s, s->b.ops->read(s->b.self, key, offset, length, sink, ctx), "read", key);
}

static int ps_url(lv_storage *base, const char *key, char **out)
{
	plugin_storage *s = PS(base);
	*out = NULL;
	if (bad_key(s, key))
		return LV_EINVALID;
	if (strncmp(key, "media/", 6) != 0)
		return lv_error_set(LV_EINVALID, "storage '%s': '%s' is not a published key", s->type->name, key);
	if (!s->b.ops->url)
		return (*out = lv_asprintf("/%s", key)) ? LV_OK : LV_ENOMEM;
	lv_error_clear();
	return done(s, s->b.ops->url(s->b.self, key, out), "url", key);
}

static int ps_presign(lv_storage *base, const char *key, int seconds, char **out)
{
	plugin_storage *s = PS(base);
	*out = NULL;
	if (bad_key(s, key))
		return LV_EINVALID;
	if (!s->b.ops->presign)
		return lv_error_set(LV_EINVALID, "storage '%s': gives no presigned URLs", s->type->name);
	lv_error_clear();
	return done(s, s->b.ops->presign(s->b.self, key, seconds, out), "presign", key);
}

static int ps_local_path(lv_storage *base, const char *key, char **out)
{
	plugin_storage *s = PS(base);
	*out = NULL;
	if (bad_key(s, key))
		return LV_EINVALID;
	if (!s->b.ops->local_path)
		return lv_error_set(LV_EINVALID, "storage '%s': objects are not local files", s->type->name);
	lv_error_clear();
	return done(s, s->b.ops->local_path(s->b.self, key, out), "local_path", key);
}

static int ps_remove(lv_storage *base, const char *key)
{
	plugin_storage *s = PS(base);
	if (bad_key(s, key))
		return LV_EINVALID;
	lv_error_clear();
	return done(s, s->b.ops->remove(s->b.self, key), "remove", key);
}

static int ps_remove_prefix(lv_storage *base, const char *prefix)
{
	plugin_storage *s = PS(base);
	char buf[600];
	size_t n = prefix ? strlen(prefix) : 0;
	/* "tasks/ID" or "tasks/ID/": the part before a final '/' must be a key, so no prefix reaches
	 * outside; the type always gets it with the '/', so "tasks/ID" never takes "tasks/ID2". */
	if (n && prefix[n - 1] == '/')
		n--;
	if (!n || n + 2 > sizeof(buf))
		return lv_error_set(LV_EINVALID, "storage '%s': '%s' is not a key prefix", s->type->name,
		                    prefix ? prefix : "(null)");
	memcpy(buf, prefix, n);
	buf[n] = '\0';
	if (!lv_storage_key_valid(buf))
		return lv_error_set(LV_EINVALID, "storage '%s': '%s' is not a key prefix", s->type->name,
		                    prefix ? prefix : "(null)");
	buf[n] = '/';
	buf[n + 1] = '\0';
	lv_error_clear();
	return done(s, s->b.ops->remove_prefix(s->b.self, buf), "remove_prefix", buf);
}

static int ps_check(lv_storage *base)
{
	plugin_storage *s = PS(base);
	if (!s->b.ops->check)
		return LV_OK;
	lv_error_clear();
	return done(s, s->b.ops->check(s->b.self), "check", NULL);
}

static int ps_move(lv_storage *base, const char *from, const char *to, const char *content_type)
{
	plugin_storage *s = PS(base);
	if (bad_key(s, from) || bad_key(s, to))
		return LV_EINVALID;
	lv_error_clear();
	return done(s, s->b.ops->move(s->b.self, from, to, content_type), "move", from);
}

static void ps_close(lv_storage *base)
{
	plugin_storage *s = PS(base);
	if (s->b.ops && s->b.ops->destroy)
		s->b.ops->destroy(s->b.self);
	free(s);
}

static const lv_storage_ops plugin_ops = {
	LV_STORAGE_OPS_VERSION, "plugin", ps_put_file, ps_get_file, ps_exists, ps_head, ps_read, ps_url,
	ps_presign, ps_local_path, ps_remove, ps_remove_prefix, ps_check, ps_close, ps_move,
};

int lv_storage_plugin_open(lv_storage **out, const lv_storage_type *type, const lv_config *cfg)
{
	lv_storage_conf conf;
	plugin_storage *s;
	const lv_storage_backend_ops *o;
	int rc;

	*out = NULL;
	if (!(s = lv_calloc(1, sizeof(*s))))
		return LV_ENOMEM;
	s->base.ops = &plugin_ops;
	s->type = type;
	s->b.version = LV_STORAGE_BACKEND_OPS_VERSION;
	conf.json = cfg->storage_json;
	conf.data_dir = cfg->data_dir;
	lv_error_clear();
	if ((rc = type->create(&s->b, &conf, type->type_data))) {
		done(s, rc, "create", NULL);
		free(s);
		return lv_error_prefix("config: storage.type '%s'", type->name);
	}
	o = s->b.ops;
	if (!o || o->version != LV_STORAGE_BACKEND_OPS_VERSION || !o->put_file || !o->get_file || !o->exists ||
	    !o->head || !o->read || !o->remove || !o->remove_prefix || !o->move) {
		rc = lv_error_set(LV_EINVALID,
		                  "storage type '%s': create gave %s (version %d with put_file, get_file, exists, head, "
		                  "read, remove, remove_prefix and move)",
		                  type->name, !o ? "no ops" : o->version != LV_STORAGE_BACKEND_OPS_VERSION ?
		                  "ops of another version" : "ops missing a required operation",
		                  LV_STORAGE_BACKEND_OPS_VERSION);
		if (o && o->destroy)
			o->destroy(s->b.self);
		free(s);
		return rc;
	}
	if ((rc = ps_check(&s->base))) {
		ps_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return LV_OK;
}
