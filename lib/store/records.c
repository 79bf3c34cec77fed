/* Record helpers shared by every store backend. */
#include "store/store.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERIFIER_CONTEXT "liblongvideo store master-key verifier v1"

void lv_store_key_verifier(const unsigned char key[32], char hex[65])
{
	unsigned char mac[32];
	lv_hmac_sha256(mac, key, 32, VERIFIER_CONTEXT, strlen(VERIFIER_CONTEXT));
	lv_hex_encode(hex, mac, sizeof(mac));
}

int lv_store_key_mismatch(const char *where)
{
	return lv_error_set(LV_ECONFIG,
	                    "secrets: this process's master key is not the one the store at %s was created with; "
	                    "every process of a deployment needs the same master key (LV_MASTER_KEY or "
	                    "secrets.master_key_env, else the data directory's master.key)",
	                    where);
}

int lv_store_now(const lv_store *store, lv_store_tx *tx, int64_t *now)
{
	if (store->ops->clock_ms)
		return store->ops->clock_ms(tx, now);
	*now = lv_now_ms();
	return LV_OK;
}

void lv_key_rec_clear(lv_key_rec *k)
{
	if (!k)
		return;
	free(k->name);
	memset(k, 0, sizeof(*k));
}

void lv_task_rec_clear(lv_task_rec *t)
{
	if (!t)
		return;
	free(t->prompt);
	free(t->provider);
	free(t->webhook_url);
	free(t->metadata);
	free(t->result_url);
	free(t->subtitles_url);
	free(t->thumbnail_url);
	free(t->error_code);
	free(t->error_message);
	free(t->script);
	free(t->state);
	free(t->lease_owner);
	memset(t, 0, sizeof(*t));
}

void lv_segment_rec_clear(lv_segment_rec *s)
{
	if (!s)
		return;
	free(s->job_id);
	free(s->job_state);
	free(s->output);
	free(s->error);
	memset(s, 0, sizeof(*s));
}

void lv_idem_rec_clear(lv_idem_rec *r)
{
	if (!r)
		return;
	free(r->idem_key);
	memset(r, 0, sizeof(*r));
}

void lv_outbox_rec_clear(lv_outbox_rec *r)
{
	if (!r)
		return;
	free(r->url);
	free(r->payload);
	free(r->last_error);
	memset(r, 0, sizeof(*r));
}

#define DEFINE_FREE_ARRAY(fn, type, clear)         \
	void fn(type *a, size_t n)                 \
	{                                          \
		size_t i;                          \
		for (i = 0; a && i < n; i++)       \
			clear(&a[i]);              \
		free(a);                           \
	}

DEFINE_FREE_ARRAY(lv_key_recs_free, lv_key_rec, lv_key_rec_clear)
DEFINE_FREE_ARRAY(lv_task_recs_free, lv_task_rec, lv_task_rec_clear)
DEFINE_FREE_ARRAY(lv_segment_recs_free, lv_segment_rec, lv_segment_rec_clear)
DEFINE_FREE_ARRAY(lv_outbox_recs_free, lv_outbox_rec, lv_outbox_rec_clear)

int lv_task_rec_copy(lv_task_rec *dst, const lv_task_rec *src)
{
	*dst = *src;
	dst->prompt = lv_strdup(src->prompt);
	dst->provider = lv_strdup(src->provider);
	dst->webhook_url = lv_strdup(src->webhook_url);
	dst->metadata = lv_strdup(src->metadata);
	dst->result_url = lv_strdup(src->result_url);
	dst->subtitles_url = lv_strdup(src->subtitles_url);
	dst->thumbnail_url = lv_strdup(src->thumbnail_url);
	dst->error_code = lv_strdup(src->error_code);
	dst->error_message = lv_strdup(src->error_message);
	dst->script = lv_strdup(src->script);
	dst->state = lv_strdup(src->state);
	dst->lease_owner = lv_strdup(src->lease_owner);
	if ((src->prompt && !dst->prompt) || (src->provider && !dst->provider) ||
	    (src->webhook_url && !dst->webhook_url) || (src->metadata && !dst->metadata) ||
	    (src->result_url && !dst->result_url) || (src->subtitles_url && !dst->subtitles_url) ||
	    (src->thumbnail_url && !dst->thumbnail_url) || (src->error_code && !dst->error_code) ||
	    (src->error_message && !dst->error_message) || (src->script && !dst->script) ||
	    (src->state && !dst->state) || (src->lease_owner && !dst->lease_owner)) {
		lv_task_rec_clear(dst);
		return LV_ENOMEM;
	}
	return LV_OK;
}

static const char *name_of(const char *const *names, int n, int v)
{
	return v >= 0 && v < n ? names[v] : NULL;
}

static int parse_of(const char *const *names, int n, const char *s)
{
	int i;
	for (i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static const char *const ledger_names[] = { "grant", "reserve", "settle", "refund" };
static const char *const segment_names[] = { "pending", "generating", "ready", "failed" };
static const char *const subtitle_names[] = { "soft", "burn", "none" };
static const char *const outbox_names[] = { "pending", "delivered", "failed" };

const char *lv_ledger_kind_name(int kind)
{
	return name_of(ledger_names, 4, kind);
}
int lv_ledger_kind_parse(const char *s)
{
	return parse_of(ledger_names, 4, s);
}
const char *lv_segment_status_name(int status)
{
	return name_of(segment_names, 4, status);
}
int lv_segment_status_parse(const char *s)
{
	return parse_of(segment_names, 4, s);
}
const char *lv_subtitles_name(int mode)
{
	return name_of(subtitle_names, 3, mode);
}
int lv_subtitles_parse(const char *s)
{
	return parse_of(subtitle_names, 3, s);
}
const char *lv_outbox_status_name(int status)
{
	return name_of(outbox_names, 3, status);
}
int lv_outbox_status_parse(const char *s)
{
	return parse_of(outbox_names, 3, s);
}

int lv_store_open_ex(lv_store **out, const lv_store_open_options *opts)
{
	const char *spec = opts->spec;
	*out = NULL;
	if (!spec)
		return lv_error_set(LV_ECONFIG, "store: no store given");
	if (!strncmp(spec, "sqlite:", 7))
		return lv_store_sqlite_open_ex(out, spec + 7, opts->master_key);
	if (!strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11)) {
#ifdef LV_WITH_POSTGRES
		return lv_store_pg_open(out, opts);
#else
		return lv_error_set(LV_ECONFIG,
		                    "store: this build has no PostgreSQL support (libpq was not found or "
		                    "-DLV_WITH_POSTGRES=OFF); use a \"sqlite:PATH\" store or rebuild with libpq");
#endif
	}
	return lv_error_set(LV_ECONFIG, "store: must be \"sqlite:PATH\" or a postgresql:// URL");
}

int lv_store_open(lv_store **out, const char *spec)
{
	lv_store_open_options o;
	memset(&o, 0, sizeof(o));
	o.spec = spec;
	return lv_store_open_ex(out, &o);
}

void lv_store_close(lv_store *store)
{
	if (store)
		store->ops->close(store);
}

void lv_event_recs_free(lv_event_rec *a, size_t n)
{
	size_t i;
	for (i = 0; a && i < n; i++)
		free(a[i].data);
	free(a);
}

int lv_store_check(const lv_store_open_options *opts, char *msg, size_t cap)
{
	const char *spec = opts->spec ? opts->spec : "";
	if (!strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11)) {
#ifdef LV_WITH_POSTGRES
		return lv_store_pg_check(opts, msg, cap);
#endif
	}
	if (!strncmp(spec, "sqlite:", 7)) {
		snprintf(msg, cap, "SQLite store %s (opened by the processes that use it)", spec + 7);
		return LV_OK;
	}
	{
		lv_store *s = NULL;
		int rc = lv_store_open_ex(&s, opts); /* refuses with the reason */
		lv_store_close(s);
		snprintf(msg, cap, "%s", lv_error_last()->message);
		return rc ? rc : LV_OK;
	}
}
