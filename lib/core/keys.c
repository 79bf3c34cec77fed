#include "core/engine.h"
#include "core/keys.h"
#include "longvideo/task.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lv_api_key_well_formed(const char *s)
{
	size_t i;
	if (!s || strncmp(s, "sk-", 3) != 0)
		return 0;
	for (i = 0; i < LV_API_KEY_RANDOM_CHARS; i++)
		if (!isalnum((unsigned char)s[3 + i]))
			return 0;
	return s[3 + LV_API_KEY_RANDOM_CHARS] == '\0';
}

/* A key's credits from its row alone: granted is a running total kept with the ledger, and
 * settled follows from the invariant granted - balance - reserved == settled (checked by
 * lv_ledger_verify against the ledger itself).  No request sums the ledger. */
static void key_credits(lv_credits *c, const lv_key_rec *rec)
{
	c->balance = rec->balance;
	c->reserved = rec->reserved;
	c->granted = rec->granted;
	c->settled = rec->granted - rec->balance - rec->reserved;
}

static lv_key *key_from_rec(lv_key_rec *rec)
{
	lv_key *k = lv_calloc(1, sizeof(*k));
	if (!k) {
		lv_key_rec_clear(rec);
		return NULL;
	}
	k->rec = *rec;
	memset(rec, 0, sizeof(*rec));
	key_credits(&k->credits, &k->rec);
	return k;
}

/* ---- credit movements (used by keys and tasks) ------------------------------------ */

static int ledger(lv_store_tx *tx, const lv_store_ops *ops, const char *key_id, const char *task_id, int kind,
                  int64_t amount, int64_t now)
{
	lv_ledger_entry e;
	memset(&e, 0, sizeof(e));
	lv_strlcpy(e.key_id, key_id, sizeof(e.key_id));
	lv_strlcpy(e.task_id, task_id ? task_id : "", sizeof(e.task_id));
	e.kind = kind;
	e.amount = amount;
	e.created_at = now;
	return ops->ledger_append(tx, &e);
}

int lv_credits_reserve(lv_store_tx *tx, const lv_store_ops *ops, lv_key_rec *key, const char *task_id,
                       int64_t amount, int64_t now)
{
	if (amount < 0 || key->balance < amount)
		return lv_error_set(LV_EINTERNAL, "reserve: balance below the amount");
	key->balance -= amount;
	key->reserved += amount;
	if (ops->key_update(tx, key) || ledger(tx, ops, key->id, task_id, LV_LEDGER_RESERVE, amount, now))
		return lv_error_last()->status;
	return LV_OK;
}

int lv_credits_finalize(lv_store_tx *tx, const lv_store_ops *ops, const char *key_id, const char *task_id,
                        int64_t charge, int64_t now, int64_t *cost_actual)
{
	int64_t sums[LV_LEDGER_KINDS], outstanding, settle, refund;
	lv_key_rec key;
	int rc;
	if ((rc = ops->ledger_sums(tx, key_id, task_id, sums)))
		return rc;
	outstanding = sums[LV_LEDGER_RESERVE] - sums[LV_LEDGER_SETTLE] - sums[LV_LEDGER_REFUND];
	if (outstanding <= 0) { /* already final: nothing moves */
		*cost_actual = sums[LV_LEDGER_SETTLE];
		return LV_OK;
	}
	settle = charge < 0 ? 0 : (charge > outstanding ? outstanding : charge);
	refund = outstanding - settle;
	if ((rc = ops->key_get(tx, key_id, 1, &key)) != LV_OK)
		return rc == LV_ENOTFOUND ? lv_error_set(LV_EINTERNAL, "finalize: key %s is missing", key_id) : rc;
	key.reserved -= outstanding;
	key.balance += refund;
	if (key.reserved < 0) {
		lv_key_rec_clear(&key);
		return lv_error_set(LV_EINTERNAL, "finalize: key %s would hold a negative reservation", key_id);
	}
	rc = ops->key_update(tx, &key);
	lv_key_rec_clear(&key);
	if (rc || (settle > 0 && ledger(tx, ops, key_id, task_id, LV_LEDGER_SETTLE, settle, now)) ||
	    (refund > 0 && ledger(tx, ops, key_id, task_id, LV_LEDGER_REFUND, refund, now)))
		return lv_error_last()->status;
	*cost_actual = sums[LV_LEDGER_SETTLE] + settle;
	return LV_OK;
}

/* ---- create ------------------------------------------------------------------------- */

typedef struct {
	lv_engine *e;
	lv_key_rec *rec;
	int64_t credits;
} create_ctx;

static int create_tx(lv_store_tx *tx, void *p)
{
	create_ctx *c = p;
	const lv_store_ops *ops = c->e->store->ops;
	int64_t granted = c->rec->balance;
	c->rec->balance = 0;
	if (ops->key_insert(tx, c->rec))
		return lv_error_last()->status;
	if (granted > 0) {
		c->rec->balance = granted;
		c->rec->granted = granted;
		if (ops->key_update(tx, c->rec) ||
		    ledger(tx, ops, c->rec->id, NULL, LV_LEDGER_GRANT, granted, c->rec->created_at))
			return lv_error_last()->status;
	}
	return LV_OK;
}

static int check_name(const char *name)
{
	size_t n = name ? strlen(name) : 0, i;
	if (n == 0 || n > 100)
		return lv_error_set(LV_EINVALID, "name: must be 1 to 100 characters");
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return lv_error_set(LV_EINVALID, "name: must not contain control characters");
	return LV_OK;
}

int lv_key_create(lv_key **out, lv_engine *e, const char *name, int64_t credits)
{
	lv_key_rec rec;
	create_ctx ctx;
	char random[LV_API_KEY_RANDOM_CHARS + 1], idpart[17];
	unsigned char salt[32], whsec[32];
	char whsec_b64[6 + 44 + 1]; /* "whsec_" + base64 of 32 bytes + NUL */
	char *secret = NULL;
	lv_key *k;
	int rc;

	if (!out)
		return lv_error_set(LV_EINVALID, "lv_key_create: out is NULL");
	*out = NULL;
	if (lv_engine_require_store(e) || check_name(name))
		return LV_EINVALID;
	if (credits < 0)
		return lv_error_set(LV_EINVALID, "credits: must not be negative");
	memset(&rec, 0, sizeof(rec));
	if (lv_random_base62(random, LV_API_KEY_RANDOM_CHARS) || lv_random_base62(idpart, 16) ||
	    lv_random_bytes(salt, sizeof(salt)))
		return LV_EINTERNAL;
	if (!(secret = lv_asprintf("sk-%s", random)))
		return LV_ENOMEM;
	snprintf(rec.id, sizeof(rec.id), "key_%s", idpart);
	if (!(rec.name = lv_strdup(name))) {
		free(secret);
		return LV_ENOMEM;
	}
	lv_sha256_hex(rec.hash, secret, strlen(secret));
	snprintf(rec.prefix, sizeof(rec.prefix), "sk-%.8s", random);
	lv_base64_encode(rec.webhook_salt, salt, sizeof(salt));
	rec.created_at = lv_now_ms();
	rec.balance = credits;
	ctx.e = e;
	ctx.rec = &rec;
	ctx.credits = credits;
	if ((rc = lv_engine_tx(e, 1, create_tx, &ctx))) {
		lv_key_rec_clear(&rec);
		memset(secret, 0, strlen(secret));
		free(secret);
		return rc;
	}
	lv_engine_webhook_secret(e, &rec, whsec);
	memcpy(whsec_b64, "whsec_", 6);
	lv_base64_encode(whsec_b64 + 6, whsec, sizeof(whsec));
	if (!(k = key_from_rec(&rec)) || !(k->webhook_secret = lv_strdup(whsec_b64))) {
		lv_key_free(k);
		free(secret);
		return LV_ENOMEM;
	}
	k->secret = secret;
	LV_INFO("created API key %s (%s) named '%s'", k->rec.id, k->rec.prefix, k->rec.name);
	*out = k;
	return LV_OK;
}

/* ---- lookups ------------------------------------------------------------------------- */

typedef struct {
	lv_engine *e;
	const char *id;
	lv_key_rec rec;
} get_ctx;

/* One indexed row read: the key by id. */
static int get_tx(lv_store_tx *tx, void *p)
{
	get_ctx *c = p;
	return c->e->store->ops->key_get(tx, c->id, 0, &c->rec);
}

int lv_key_secret_hash(char hash[65], const char *api_key)
{
	/* Reject anything that is not shaped like a key before touching the store. */
	if (!lv_api_key_well_formed(api_key))
		return lv_error_set(LV_EAUTH, "the API key is malformed: expected sk- followed by 40 letters and digits");
	lv_sha256_hex(hash, api_key, strlen(api_key));
	return LV_OK;
}

int lv_key_by_hash_tx(lv_key **out, lv_engine *e, lv_store_tx *tx, const char *hash)
{
	lv_key_rec rec;
	int rc;
	*out = NULL;
	memset(&rec, 0, sizeof(rec));
	rc = e->store->ops->key_by_hash(tx, hash, &rec);
	if (rc == LV_ENOTFOUND || (rc == LV_OK && rec.revoked_at != 0)) {
		lv_key_rec_clear(&rec);
		return lv_error_set(LV_EAUTH, "the API key is unknown or revoked");
	}
	if (rc)
		return rc;
	return (*out = key_from_rec(&rec)) ? LV_OK : LV_ENOMEM;
}

typedef struct {
	lv_engine *e;
	const char *hash;
	lv_key *key;
} auth_ctx;

static int auth_tx(lv_store_tx *tx, void *p)
{
	auth_ctx *c = p;
	lv_key_free(c->key); /* a retried transaction starts over */
	return lv_key_by_hash_tx(&c->key, c->e, tx, c->hash);
}

int lv_key_authenticate(lv_key **out, lv_engine *e, const char *api_key)
{
	auth_ctx c;
	char hash[65];
	int rc;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_key_authenticate: out is NULL");
	*out = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if ((rc = lv_key_secret_hash(hash, api_key)))
		return rc;
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.hash = hash;
	if ((rc = lv_engine_tx(e, 0, auth_tx, &c))) {
		lv_key_free(c.key);
		return rc;
	}
	*out = c.key;
	return LV_OK;
}

int lv_key_lookup(lv_key **out, lv_engine *e, const char *key_id)
{
	get_ctx c;
	int rc;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_key_lookup: out is NULL");
	*out = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if (!key_id || strlen(key_id) >= LV_ID_MAX)
		return lv_error_set(LV_ENOKEY, "no key with id '%s'", key_id ? key_id : "");
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.id = key_id;
	rc = lv_engine_tx(e, 0, get_tx, &c);
	if (rc == LV_ENOTFOUND)
		return lv_error_set(LV_ENOKEY, "no key with id '%s'", key_id);
	if (rc)
		return rc;
	return (*out = key_from_rec(&c.rec)) ? LV_OK : LV_ENOMEM;
}

typedef struct {
	lv_engine *e;
	lv_key_rec *recs;
	size_t n;
} list_ctx;

static int list_tx(lv_store_tx *tx, void *p)
{
	list_ctx *c = p;
	return c->e->store->ops->key_list(tx, &c->recs, &c->n);
}

int lv_key_list_all(lv_key_list **out, lv_engine *e)
{
	list_ctx c;
	lv_key_list *l;
	size_t i;
	int rc;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_key_list_all: out is NULL");
	*out = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	memset(&c, 0, sizeof(c));
	c.e = e;
	rc = lv_engine_tx(e, 0, list_tx, &c);
	if (rc == LV_OK && !(l = lv_calloc(1, sizeof(*l))))
		rc = LV_ENOMEM;
	if (rc == LV_OK && !(l->keys = lv_calloc(c.n, sizeof(*l->keys)))) {
		free(l);
		rc = LV_ENOMEM;
	}
	if (rc) {
		lv_key_recs_free(c.recs, c.n);
		return rc;
	}
	for (i = 0; i < c.n; i++) {
		lv_key *k = &l->keys[i];
		k->rec = c.recs[i];
		key_credits(&k->credits, &k->rec);
	}
	l->n = c.n;
	free(c.recs); /* the strings now belong to l->keys */
	*out = l;
	return LV_OK;
}

size_t lv_key_list_count(const lv_key_list *list)
{
	return list ? list->n : 0;
}

const lv_key *lv_key_list_get(const lv_key_list *list, size_t i)
{
	return list && i < list->n ? &list->keys[i] : NULL;
}

void lv_key_list_free(lv_key_list *list)
{
	size_t i;
	if (!list)
		return;
	for (i = 0; i < list->n; i++)
		lv_key_rec_clear(&list->keys[i].rec);
	free(list->keys);
	free(list);
}

/* ---- grant and revoke ---------------------------------------------------------------- */

typedef struct {
	lv_engine *e;
	const char *id;
	int64_t amount;
	int revoke;
} change_ctx;

static int change_tx(lv_store_tx *tx, void *p)
{
	change_ctx *c = p;
	const lv_store_ops *ops = c->e->store->ops;
	lv_key_rec k;
	int64_t now = lv_now_ms();
	int rc = ops->key_get(tx, c->id, 1, &k);
	if (rc == LV_ENOTFOUND)
		return lv_error_set(LV_ENOKEY, "no key with id '%s'", c->id);
	if (rc)
		return rc;
	if (c->revoke) {
		if (k.revoked_at == 0) {
			k.revoked_at = now;
			rc = ops->key_update(tx, &k);
		}
	} else {
		k.balance += c->amount;
		k.granted += c->amount;
		rc = ops->key_update(tx, &k);
		if (rc == LV_OK)
			rc = ledger(tx, ops, k.id, NULL, LV_LEDGER_GRANT, c->amount, now);
	}
	lv_key_rec_clear(&k);
	return rc;
}

int lv_key_grant(lv_engine *e, const char *key_id, int64_t credits)
{
	change_ctx c = { e, key_id, credits, 0 };
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if (credits <= 0)
		return lv_error_set(LV_EINVALID, "credits: must be more than 0");
	if (credits > INT64_MAX / 4)
		return lv_error_set(LV_EINVALID, "credits: too large");
	if (!key_id || !*key_id)
		return lv_error_set(LV_EINVALID, "key: an id is required");
	return lv_engine_tx(e, 1, change_tx, &c);
}

int lv_key_revoke(lv_engine *e, const char *key_id)
{
	change_ctx c = { e, key_id, 0, 1 };
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if (!key_id || !*key_id)
		return lv_error_set(LV_EINVALID, "key: an id is required");
	return lv_engine_tx(e, 1, change_tx, &c);
}

int lv_key_credits(lv_credits *out, lv_engine *e, const lv_key *key)
{
	get_ctx c;
	int rc;
	if (!out || !key)
		return lv_error_set(LV_EINVALID, "lv_key_credits: out and key are required");
	memset(out, 0, sizeof(*out));
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.id = key->rec.id;
	if ((rc = lv_engine_tx(e, 0, get_tx, &c)))
		return rc == LV_ENOTFOUND ? lv_error_set(LV_ENOKEY, "no key with id '%s'", key->rec.id) : rc;
	key_credits(out, &c.rec);
	lv_key_rec_clear(&c.rec);
	return LV_OK;
}

/* ---- accessors ------------------------------------------------------------------------- */

const char *lv_key_id(const lv_key *k)
{
	return k ? k->rec.id : NULL;
}
const char *lv_key_name(const lv_key *k)
{
	return k ? k->rec.name : NULL;
}
const char *lv_key_prefix(const lv_key *k)
{
	return k ? k->rec.prefix : NULL;
}
int64_t lv_key_created_at(const lv_key *k)
{
	return k ? k->rec.created_at / 1000 : 0;
}
int lv_key_revoked(const lv_key *k)
{
	return k ? k->rec.revoked_at != 0 : 0;
}
const lv_credits *lv_key_credits_snapshot(const lv_key *k)
{
	return k ? &k->credits : NULL;
}
const char *lv_key_secret(const lv_key *k)
{
	return k ? k->secret : NULL;
}
const char *lv_key_webhook_secret(const lv_key *k)
{
	return k ? k->webhook_secret : NULL;
}

void lv_key_free(lv_key *k)
{
	if (!k)
		return;
	if (k->secret) {
		memset(k->secret, 0, strlen(k->secret));
		free(k->secret);
	}
	if (k->webhook_secret) {
		memset(k->webhook_secret, 0, strlen(k->webhook_secret));
		free(k->webhook_secret);
	}
	lv_key_rec_clear(&k->rec);
	free(k);
}

int lv_key_to_json(char **out, const lv_key *k)
{
	cJSON *o = cJSON_CreateObject();
	char ts[21];
	int ok = o != NULL;
	*out = NULL;
	lv_time_iso8601(ts, k->rec.created_at);
	ok = ok && cJSON_AddStringToObject(o, "id", k->rec.id);
	ok = ok && cJSON_AddStringToObject(o, "object", "api_key");
	ok = ok && cJSON_AddStringToObject(o, "name", k->rec.name);
	ok = ok && cJSON_AddStringToObject(o, "prefix", k->rec.prefix);
	ok = ok && cJSON_AddStringToObject(o, "created_at", ts);
	ok = ok && cJSON_AddBoolToObject(o, "revoked", k->rec.revoked_at != 0);
	ok = ok && lv_json_add_credits(o, "balance", k->credits.balance) == LV_OK;
	ok = ok && lv_json_add_credits(o, "reserved", k->credits.reserved) == LV_OK;
	ok = ok && lv_json_add_credits(o, "granted", k->credits.granted) == LV_OK;
	ok = ok && lv_json_add_credits(o, "settled", k->credits.settled) == LV_OK;
	if (ok && k->secret)
		ok = cJSON_AddStringToObject(o, "api_key", k->secret) != NULL;
	if (ok && k->webhook_secret)
		ok = cJSON_AddStringToObject(o, "webhook_secret", k->webhook_secret) != NULL;
	if (ok)
		*out = lv_json_print(o);
	cJSON_Delete(o);
	return *out ? LV_OK : lv_error_nomem();
}

int lv_credits_to_json(char **out, const lv_credits *c)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o != NULL;
	*out = NULL;
	ok = ok && cJSON_AddStringToObject(o, "object", "credits");
	ok = ok && lv_json_add_credits(o, "balance", c->balance) == LV_OK;
	ok = ok && lv_json_add_credits(o, "reserved", c->reserved) == LV_OK;
	ok = ok && cJSON_AddStringToObject(o, "currency", "credits");
	if (ok)
		*out = lv_json_print(o);
	cJSON_Delete(o);
	return *out ? LV_OK : lv_error_nomem();
}

/* ---- the ledger listing ------------------------------------------------------------------- */

struct lv_ledger_page {
	lv_ledger_entry *rows;
	lv_ledger_item *items;
	char (*ids)[24];
	size_t n;
	int has_more;
};

typedef struct {
	lv_engine *e;
	const char *key_id;
	int64_t before;
	int limit;
	lv_ledger_entry *rows;
	size_t n;
} ledger_ctx;

static int ledger_tx(lv_store_tx *tx, void *p)
{
	ledger_ctx *c = p;
	return c->e->store->ops->ledger_list(tx, c->key_id, c->before, c->limit + 1, &c->rows, &c->n);
}

int lv_key_ledger(lv_ledger_page **out, lv_engine *e, const lv_key *key, int limit, const char *after)
{
	lv_ledger_page *pg;
	ledger_ctx c;
	size_t i;
	int rc;
	if (!out || !key)
		return lv_error_set(LV_EINVALID, "lv_key_ledger: out and key are required");
	*out = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.key_id = key->rec.id;
	c.limit = limit == 0 ? 20 : limit;
	if (c.limit < 1 || c.limit > 100)
		return lv_error_set(LV_EINVALID, "limit: must be an integer from 1 to 100");
	if (after) {
		const char *d = after + 3;
		if (strncmp(after, "le_", 3) != 0 || !*d || strlen(d) > 18)
			return lv_error_set(LV_EINVALID, "after: '%s' is not a ledger entry id", after);
		for (; *d; d++) {
			if (!isdigit((unsigned char)*d))
				return lv_error_set(LV_EINVALID, "after: '%s' is not a ledger entry id", after);
			c.before = c.before * 10 + (*d - '0');
		}
		if (c.before <= 0)
			return lv_error_set(LV_EINVALID, "after: '%s' is not a ledger entry id", after);
	}
	if ((rc = lv_engine_tx(e, 0, ledger_tx, &c)))
		return rc;
	pg = lv_calloc(1, sizeof(*pg));
	if (!pg || !(pg->items = lv_calloc(c.n + 1, sizeof(*pg->items))) || !(pg->ids = lv_calloc(c.n + 1, sizeof(*pg->ids)))) {
		lv_ledger_page_free(pg);
		free(c.rows);
		return LV_ENOMEM;
	}
	pg->rows = c.rows;
	pg->has_more = c.n > (size_t)c.limit;
	pg->n = pg->has_more ? (size_t)c.limit : c.n;
	for (i = 0; i < pg->n; i++) {
		const lv_ledger_entry *le = &c.rows[i];
		snprintf(pg->ids[i], sizeof(pg->ids[i]), "le_%lld", (long long)le->id);
		pg->items[i].id = pg->ids[i];
		pg->items[i].kind = lv_ledger_kind_name(le->kind);
		pg->items[i].amount = le->amount;
		pg->items[i].task_id = le->task_id[0] ? le->task_id : NULL;
		pg->items[i].created_at = le->created_at;
	}
	*out = pg;
	return LV_OK;
}

size_t lv_ledger_page_count(const lv_ledger_page *p)
{
	return p ? p->n : 0;
}

const lv_ledger_item *lv_ledger_page_get(const lv_ledger_page *p, size_t i)
{
	return p && i < p->n ? &p->items[i] : NULL;
}

const char *lv_ledger_page_next_cursor(const lv_ledger_page *p)
{
	return p && p->has_more && p->n > 0 ? p->ids[p->n - 1] : NULL;
}

void lv_ledger_page_free(lv_ledger_page *p)
{
	if (!p)
		return;
	free(p->rows);
	free(p->items);
	free(p->ids);
	free(p);
}

int lv_ledger_page_to_json(char **out, const lv_ledger_page *p)
{
	cJSON *o, *data = NULL;
	size_t i;
	int ok;
	if (!out || !p)
		return lv_error_set(LV_EINVALID, "lv_ledger_page_to_json: out and page are required");
	*out = NULL;
	o = cJSON_CreateObject();
	ok = o && cJSON_AddStringToObject(o, "object", "list") && (data = cJSON_AddArrayToObject(o, "data"));
	for (i = 0; ok && i < p->n; i++) {
		const lv_ledger_item *it = &p->items[i];
		cJSON *j = cJSON_CreateObject();
		char ts[21];
		ok = j && cJSON_AddItemToArray(data, j);
		if (!ok) {
			cJSON_Delete(j);
			break;
		}
		lv_time_iso8601(ts, it->created_at);
		ok = cJSON_AddStringToObject(j, "id", it->id) && cJSON_AddStringToObject(j, "object", "ledger_entry") &&
		     cJSON_AddStringToObject(j, "kind", it->kind) && lv_json_add_credits(j, "amount", it->amount) == LV_OK &&
		     lv_json_add_str(j, "task_id", it->task_id) == LV_OK && cJSON_AddStringToObject(j, "created_at", ts);
	}
	ok = ok && cJSON_AddBoolToObject(o, "has_more", p->has_more);
	ok = ok && lv_json_add_str(o, "next_cursor", lv_ledger_page_next_cursor(p)) == LV_OK;
	if (ok)
		*out = lv_json_print(o);
	cJSON_Delete(o);
	return *out ? LV_OK : lv_error_nomem();
}

/* ---- the ledger invariant ----------------------------------------------------------------- */

typedef struct {
	lv_engine *e;
	lv_buf report;
	int violations;
} verify_ctx;

#define VIOLATION(c, ...)                                 \
	do {                                              \
		(c)->violations++;                        \
		lv_buf_printf(&(c)->report, __VA_ARGS__); \
		lv_buf_puts(&(c)->report, "\n");          \
	} while (0)

/* What a task's shot regenerations reserved (from its state): every attempt's cost, and the one running. */
static void regen_costs(const lv_task_rec *t, int64_t *total, int64_t *running)
{
	cJSON *s = t->state ? cJSON_Parse(t->state) : NULL;
	const cJSON *e, *r = cJSON_GetObjectItemCaseSensitive(s, "regen");
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(s, "regenerations"))
	{
		const cJSON *cost = cJSON_GetObjectItemCaseSensitive(e, "cost");
		if (cJSON_IsNumber(cost))
			*total += (int64_t)llround(cost->valuedouble * 1000.0);
	}
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, "price")))
		*running = (int64_t)cJSON_GetObjectItemCaseSensitive(r, "price")->valuedouble;
	cJSON_Delete(s);
}

static int verify_tasks(lv_store_tx *tx, verify_ctx *c, const lv_key_rec *k)
{
	const lv_store_ops *ops = c->e->store->ops;
	int64_t before = 0;
	for (;;) {
		lv_task_rec *tasks = NULL;
		size_t n = 0, i;
		int rc = ops->task_list(tx, k->id, before, -1, 200, &tasks, &n);
		if (rc)
			return rc;
		for (i = 0; i < n; i++) {
			const lv_task_rec *t = &tasks[i];
			int64_t s[LV_LEDGER_KINDS], outstanding;
			int terminal = lv_task_status_is_terminal((lv_task_status)t->status);
			if ((rc = ops->ledger_sums(tx, k->id, t->id, s))) {
				lv_task_recs_free(tasks, n);
				return rc;
			}
			int64_t regen_total = 0, regen_running = -1;
			regen_costs(t, &regen_total, &regen_running);
			outstanding = s[LV_LEDGER_RESERVE] - s[LV_LEDGER_SETTLE] - s[LV_LEDGER_REFUND];
			/* Each shot regeneration reserved that shot's price on top of the estimate. */
			if (s[LV_LEDGER_RESERVE] != t->cost_estimate + regen_total)
				VIOLATION(c, "task %s: reserved %lld, estimate %lld (+ %lld for regenerations)", t->id,
				          (long long)s[LV_LEDGER_RESERVE], (long long)t->cost_estimate, (long long)regen_total);
			if (outstanding != 0 && outstanding != s[LV_LEDGER_RESERVE] && outstanding != regen_running)
				VIOLATION(c, "task %s: partly settled (outstanding %lld)", t->id, (long long)outstanding);
			if (outstanding == 0 && t->cost_actual != s[LV_LEDGER_SETTLE])
				VIOLATION(c, "task %s: cost_actual %lld but settled %lld", t->id,
				          (long long)t->cost_actual, (long long)s[LV_LEDGER_SETTLE]);
			if (outstanding != 0 && terminal)
				VIOLATION(c, "task %s: %s but still holds %lld", t->id,
				          lv_task_status_name((lv_task_status)t->status), (long long)outstanding);
			if (s[LV_LEDGER_SETTLE] > t->cost_estimate + regen_total)
				VIOLATION(c, "task %s: settled more than its estimate and regenerations", t->id);
		}
		if (n == 0) {
			lv_task_recs_free(tasks, n);
			return LV_OK;
		}
		before = tasks[n - 1].seq;
		lv_task_recs_free(tasks, n);
	}
}

static int verify_tx(lv_store_tx *tx, void *p)
{
	verify_ctx *c = p;
	const lv_store_ops *ops = c->e->store->ops;
	lv_key_rec *keys = NULL;
	size_t n = 0, i;
	int rc = ops->key_list(tx, &keys, &n);
	for (i = 0; rc == LV_OK && i < n; i++) {
		const lv_key_rec *k = &keys[i];
		int64_t s[LV_LEDGER_KINDS];
		if ((rc = ops->ledger_sums(tx, k->id, NULL, s)))
			break;
		if (k->balance < 0 || k->reserved < 0)
			VIOLATION(c, "key %s: negative balance or reservation", k->id);
		if (k->granted != s[LV_LEDGER_GRANT])
			VIOLATION(c, "key %s: running total granted %lld != ledger grants %lld", k->id,
			          (long long)k->granted, (long long)s[LV_LEDGER_GRANT]);
		if (s[LV_LEDGER_GRANT] - k->balance - k->reserved != s[LV_LEDGER_SETTLE])
			VIOLATION(c, "key %s: granted %lld - balance %lld - reserved %lld != settled %lld", k->id,
			          (long long)s[LV_LEDGER_GRANT], (long long)k->balance, (long long)k->reserved,
			          (long long)s[LV_LEDGER_SETTLE]);
		if (s[LV_LEDGER_RESERVE] - s[LV_LEDGER_SETTLE] - s[LV_LEDGER_REFUND] != k->reserved)
			VIOLATION(c, "key %s: outstanding reservations %lld != reserved %lld", k->id,
			          (long long)(s[LV_LEDGER_RESERVE] - s[LV_LEDGER_SETTLE] - s[LV_LEDGER_REFUND]),
			          (long long)k->reserved);
		rc = verify_tasks(tx, c, k);
	}
	lv_key_recs_free(keys, n);
	return rc;
}

int lv_ledger_verify(lv_engine *e, char **report)
{
	verify_ctx c;
	int rc;
	if (report)
		*report = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	memset(&c, 0, sizeof(c));
	c.e = e;
	rc = lv_engine_tx(e, 0, verify_tx, &c);
	if (rc) {
		lv_buf_free(&c.report);
		return rc;
	}
	if (c.violations == 0) {
		lv_buf_free(&c.report);
		return LV_OK;
	}
	lv_error_set(LV_EINTERNAL, "the ledger invariant is violated in %d place(s)", c.violations);
	if (report)
		*report = lv_buf_detach(&c.report);
	else
		lv_buf_free(&c.report);
	return LV_EINTERNAL;
}

/* ---- shared rate-limit counters --------------------------------------------------------------- */

typedef struct rate_ctx {
	const lv_store_ops *ops;
	const char *key_id;
	int64_t window_ms, count, left_ms;
} rate_ctx;

static int rate_tx(lv_store_tx *tx, void *p)
{
	rate_ctx *c = p;
	return c->ops->rate_hit(tx, c->key_id, c->window_ms, &c->count, &c->left_ms);
}

int lv_key_rate_hit(lv_engine *engine, const char *key_id, int64_t window_ms, int64_t *count, int64_t *left_ms)
{
	rate_ctx c;
	int rc;
	if (!engine || !key_id || !count || !left_ms || window_ms <= 0)
		return lv_error_set(LV_EINVALID, "lv_key_rate_hit: engine, key_id, count, left_ms and a window are required");
	if ((rc = lv_engine_require_store(engine)))
		return rc;
	if (!engine->store->ops->rate_hit)
		return lv_error_set(LV_EINVALID, "store: this store keeps no shared rate-limit counters");
	memset(&c, 0, sizeof(c));
	c.ops = engine->store->ops;
	c.key_id = key_id;
	c.window_ms = window_ms;
	if ((rc = lv_engine_tx(engine, 1, rate_tx, &c)))
		return rc;
	*count = c.count;
	*left_ms = c.left_ms;
	return LV_OK;
}
