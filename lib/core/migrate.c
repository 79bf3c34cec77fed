/*
 * Moving an embedded deployment to another store: every record of a SQLite store copied into an
 * empty store through the store interface, in one transaction, with the ledger invariant
 * checked on both sides.  The ledger and the idempotency records have no listing primitive in
 * the store interface (nothing else reads them whole), so they are read from the SQLite file
 * directly, read-only.
 */
#include "core/engine.h"
#include "longvideo/keys.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	lv_store *src, *dst;
	lv_store_tx *stx;
	sqlite3 *db; /* the source file, read-only */
	lv_store_migration n;
} copy_ctx;

static int sqlite_fail(sqlite3 *db, const char *what)
{
	return lv_error_set(LV_ESTORE, "store migrate: %s: %s", what, sqlite3_errmsg(db));
}

static int copy_keys(copy_ctx *c, lv_store_tx *tx)
{
	lv_key_rec *keys = NULL;
	size_t n = 0, i;
	int rc;
	if ((rc = c->dst->ops->key_list(tx, &keys, &n)))
		return rc;
	lv_key_recs_free(keys, n);
	if (n > 0)
		return lv_error_set(LV_EINVALID, "store migrate: the destination store already has %zu key(s); it must be empty",
		                    n);
	if ((rc = c->src->ops->key_list(c->stx, &keys, &n)))
		return rc;
	for (i = 0; i < n && rc == LV_OK; i++)
		rc = c->dst->ops->key_insert(tx, &keys[i]);
	c->n.keys = (int64_t)n;
	lv_key_recs_free(keys, n);
	return rc;
}

static int copy_ledger(copy_ctx *c, lv_store_tx *tx)
{
	sqlite3_stmt *st;
	int rc = LV_OK, s;
	if (sqlite3_prepare_v2(c->db, "SELECT key_id, task_id, kind, amount, created_at FROM ledger ORDER BY id", -1, &st,
	                       NULL) != SQLITE_OK)
		return sqlite_fail(c->db, "read the ledger");
	while (rc == LV_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
		lv_ledger_entry e;
		const unsigned char *task = sqlite3_column_text(st, 1);
		memset(&e, 0, sizeof(e));
		lv_strlcpy(e.key_id, (const char *)sqlite3_column_text(st, 0), sizeof(e.key_id));
		lv_strlcpy(e.task_id, task ? (const char *)task : "", sizeof(e.task_id));
		e.kind = lv_ledger_kind_parse((const char *)sqlite3_column_text(st, 2));
		e.amount = sqlite3_column_int64(st, 3);
		e.created_at = sqlite3_column_int64(st, 4);
		rc = c->dst->ops->ledger_append(tx, &e);
		c->n.ledger_entries++;
	}
	if (rc == LV_OK && s != SQLITE_DONE)
		rc = sqlite_fail(c->db, "read the ledger");
	sqlite3_finalize(st);
	return rc;
}

/* A task's live progress events, oldest first; the new store numbers them again from 1. */
static int copy_events(copy_ctx *c, lv_store_tx *tx, const char *id)
{
	int64_t after = 0;
	int rc = LV_OK;
	for (;;) {
		lv_event_rec *ev = NULL;
		size_t n = 0, i;
		if ((rc = c->src->ops->event_list(c->stx, id, after, 256, &ev, &n)))
			return rc;
		for (i = 0; i < n && rc == LV_OK; i++) {
			lv_event_rec e = ev[i];
			after = ev[i].seq;
			rc = c->dst->ops->event_append(tx, id, &e, INT_MAX);
		}
		lv_event_recs_free(ev, n);
		if (rc || n == 0)
			return rc;
	}
}

static int copy_task(copy_ctx *c, lv_store_tx *tx, const char *id)
{
	lv_task_rec t;
	lv_segment_rec *segs = NULL;
	lv_outbox_rec *out = NULL;
	size_t ns = 0, no = 0, i;
	int rc;
	if ((rc = c->src->ops->task_get(c->stx, id, 0, &t)))
		return rc;
	/* The old deployment is stopped: nobody holds a lease any more. */
	free(t.lease_owner);
	t.lease_owner = NULL;
	t.lease_until = 0;
	rc = c->dst->ops->task_insert(tx, &t);
	lv_task_rec_clear(&t);
	if (rc == LV_OK && (rc = c->src->ops->segment_list(c->stx, id, &segs, &ns)) == LV_OK)
		for (i = 0; i < ns && rc == LV_OK; i++)
			rc = c->dst->ops->segment_insert(tx, &segs[i]);
	if (rc == LV_OK && (rc = c->src->ops->outbox_for_task(c->stx, id, &out, &no)) == LV_OK)
		for (i = 0; i < no && rc == LV_OK; i++)
			rc = c->dst->ops->outbox_insert(tx, &out[i]);
	if (rc == LV_OK)
		rc = copy_events(c, tx, id);
	c->n.tasks++;
	c->n.segments += (int64_t)ns;
	c->n.webhooks += (int64_t)no;
	lv_segment_recs_free(segs, ns);
	lv_outbox_recs_free(out, no);
	return rc;
}

static int copy_tasks(copy_ctx *c, lv_store_tx *tx)
{
	sqlite3_stmt *st;
	int rc = LV_OK, s;
	/* In insertion order, so that lists page the same way on the new store. */
	if (sqlite3_prepare_v2(c->db, "SELECT id FROM tasks ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(c->db, "read the tasks");
	while (rc == LV_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
		rc = copy_task(c, tx, (const char *)sqlite3_column_text(st, 0));
	if (rc == LV_OK && s != SQLITE_DONE)
		rc = sqlite_fail(c->db, "read the tasks");
	sqlite3_finalize(st);
	return rc;
}

static int copy_idempotency(copy_ctx *c, lv_store_tx *tx)
{
	sqlite3_stmt *st;
	int rc = LV_OK, s;
	if (sqlite3_prepare_v2(c->db, "SELECT key_id, idem_key, request_hash, task_id, created_at FROM idempotency", -1,
	                       &st, NULL) != SQLITE_OK)
		return sqlite_fail(c->db, "read the idempotency records");
	while (rc == LV_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
		lv_idem_rec r;
		memset(&r, 0, sizeof(r));
		lv_strlcpy(r.key_id, (const char *)sqlite3_column_text(st, 0), sizeof(r.key_id));
		r.idem_key = (char *)sqlite3_column_text(st, 1);
		lv_strlcpy(r.request_hash, (const char *)sqlite3_column_text(st, 2), sizeof(r.request_hash));
		lv_strlcpy(r.task_id, (const char *)sqlite3_column_text(st, 3), sizeof(r.task_id));
		r.created_at = sqlite3_column_int64(st, 4);
		rc = c->dst->ops->idem_insert(tx, &r);
		c->n.idempotency_keys++;
	}
	if (rc == LV_OK && s != SQLITE_DONE)
		rc = sqlite_fail(c->db, "read the idempotency records");
	sqlite3_finalize(st);
	return rc;
}

static int copy_tx(lv_store_tx *tx, void *p)
{
	copy_ctx *c = p;
	int rc;
	memset(&c->n, 0, sizeof(c->n));
	if ((rc = copy_keys(c, tx)) || (rc = copy_ledger(c, tx)) || (rc = copy_tasks(c, tx)) ||
	    (rc = copy_idempotency(c, tx)))
		return rc;
	return LV_OK;
}

/* The ledger check of lv_ledger_verify() on another store with the same configuration. */
static int verify_on(lv_engine *e, lv_store *store, const char *which, char **report)
{
	lv_engine view = *e;
	int rc;
	view.store = store;
	if ((rc = lv_ledger_verify(&view, report)) != LV_OK) {
		char msg[512];
		lv_strlcpy(msg, lv_error_last()->message, sizeof(msg));
		return lv_error_set(rc, "store migrate: on the %s store: %s", which, msg);
	}
	return LV_OK;
}

int lv_store_migrate(lv_engine *e, const char *from, const char *to, lv_store_migration *counts, char **report)
{
	lv_store_open_options o;
	lv_store *src = NULL, *dst = NULL;
	unsigned char file_key[32];
	copy_ctx c;
	int rc;
	if (report)
		*report = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if (!from)
		from = e->cfg->store;
	if (!to || strncmp(from, "sqlite:", 7) != 0)
		return lv_error_set(LV_EINVALID, "store migrate: --from must be a \"sqlite:PATH\" store and --to a store");
	if (!strcmp(from, to))
		return lv_error_set(LV_EINVALID, "store migrate: --from and --to name the same store");
	/* The new store keeps the master key the old deployment derived its webhook secrets from. */
	rc = lv_engine_file_master_key(e, file_key);
	if (rc == LV_OK && lv_memcmp_ct(file_key, e->master_key, 32) != 0)
		return lv_error_set(LV_ECONFIG,
		                    "store migrate: the master key in %s differs from %s/master.key, which the SQLite "
		                    "deployment used; set %s to that file's content",
		                    e->cfg->master_key_env, e->cfg->data_dir, e->cfg->master_key_env);
	if (rc != LV_OK && rc != LV_ENOTFOUND)
		return rc;
	memset(&o, 0, sizeof(o));
	o.password_env = e->cfg->store_password_env;
	o.pool_size = 2;
	o.master_key = e->master_key;
	o.spec = from;
	if (strcmp(from, e->cfg->store) != 0) {
		if ((rc = lv_store_open_ex(&src, &o)))
			return rc;
	} else {
		src = e->store;
	}
	memset(&c, 0, sizeof(c));
	o.spec = to;
	if ((rc = verify_on(e, src, "source", report)) || (rc = lv_store_open_ex(&dst, &o)))
		goto done;
	if (sqlite3_open_v2(from + 7, &c.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = sqlite_fail(c.db, "open the source");
		goto done;
	}
	c.src = src;
	c.dst = dst;
	/* One read transaction on the source: a consistent picture to copy. */
	if ((rc = src->ops->begin(src, 0, &c.stx)))
		goto done;
	{
		lv_engine view = *e;
		view.store = dst;
		rc = lv_engine_tx(&view, 1, copy_tx, &c);
	}
	src->ops->rollback(c.stx);
	if (rc == LV_OK)
		rc = verify_on(e, dst, "destination", report);
	if (rc == LV_OK) {
		LV_INFO("store migrate: copied %lld keys, %lld ledger entries, %lld tasks, %lld segments, "
		        "%lld idempotency keys, %lld webhooks",
		        (long long)c.n.keys, (long long)c.n.ledger_entries, (long long)c.n.tasks, (long long)c.n.segments,
		        (long long)c.n.idempotency_keys, (long long)c.n.webhooks);
		if (counts)
			*counts = c.n;
	}
done:
	sqlite3_close(c.db);
	if (src && src != e->store)
		lv_store_close(src);
	lv_store_close(dst);
	return rc;
}
