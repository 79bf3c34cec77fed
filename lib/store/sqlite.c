/*
 * The SQLite store backend: WAL mode, busy_timeout, writes in
 * BEGIN IMMEDIATE transactions, a small pool of connections each with its
 * own cache of prepared statements, and versioned migrations.
 */
#include "longvideo/task.h"
#include "store/sqlite.h"
#include "store/sqlite_schema.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 15000
#define MAX_CONNECTIONS 64

enum {
	ST_BEGIN_READ, ST_BEGIN_WRITE, ST_COMMIT, ST_ROLLBACK,
	ST_KEY_INSERT, ST_KEY_GET, ST_KEY_BY_HASH, ST_KEY_LIST, ST_KEY_UPDATE,
	ST_LEDGER_APPEND, ST_LEDGER_SUMS_KEY, ST_LEDGER_SUMS_TASK,
	ST_TASK_INSERT, ST_TASK_GET, ST_TASK_UPDATE, ST_TASK_LIST, ST_TASK_LIST_STATUS,
	ST_SEG_INSERT, ST_SEG_LIST, ST_SEG_UPDATE,
	ST_IDEM_GET, ST_IDEM_INSERT, ST_IDEM_PURGE,
	ST_CLAIM_PICK_FREE, ST_CLAIM_PICK_EXPIRED, ST_CLAIM_SET, ST_LEASE_RENEW, ST_LEASE_RELEASE, ST_LEASE_HELD,
	ST_OUTBOX_INSERT, ST_OUTBOX_DUE, ST_OUTBOX_UPDATE, ST_OUTBOX_TASK,
	ST_LEDGER_LIST,
	ST_EVENT_NEXT, ST_EVENT_INSERT, ST_EVENT_PRUNE, ST_EVENT_LAST, ST_EVENT_LIST, ST_EVENT_FIRST,
	ST_TASK_COUNTS, ST_OUTBOX_COUNTS, ST_CREDIT_TOTALS,
	ST_COUNT
};

#define TASK_COLS                                                                                             \
	"id, seq, key_id, status, progress, shots_done, shots_total, prompt, duration, resolution, "          \
	"aspect_ratio, provider, language, narration, music, subtitles, webhook_url, metadata, cost_estimate, " \
	"cost_actual, result_url, subtitles_url, thumbnail_url, error_code, error_message, error_stage, "     \
	"error_shot, script, state, created_at, updated_at, completed_at, lease_owner, lease_until, "         \
	"compose_generation"
#define KEY_COLS "id, name, key_hash, prefix, webhook_salt, created_at, revoked_at, balance, reserved, granted"
#define SEG_COLS                                                                                           \
	"task_id, idx, start_s, seconds, billed_seconds, price, status, job_id, job_state, output, attempts, " \
	"error, updated_at"
#define OUTBOX_COLS                                                                                     \
	"id, task_id, key_id, url, payload, attempts, next_attempt_at, status, last_error, last_status, " \
	"created_at, updated_at"

static const char *const sql_text[ST_COUNT] = {
	[ST_BEGIN_READ] = "BEGIN DEFERRED",
	[ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_KEY_INSERT] = "INSERT INTO api_keys (" KEY_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?)",
	[ST_KEY_GET] = "SELECT " KEY_COLS " FROM api_keys WHERE id = ?",
	[ST_KEY_BY_HASH] = "SELECT " KEY_COLS " FROM api_keys WHERE key_hash = ?",
	[ST_KEY_LIST] = "SELECT " KEY_COLS " FROM api_keys ORDER BY created_at, id",
	[ST_KEY_UPDATE] = "UPDATE api_keys SET name = ?2, revoked_at = ?3, balance = ?4, reserved = ?5, granted = ?6 "
	                  "WHERE id = ?1",
	[ST_LEDGER_APPEND] = "INSERT INTO ledger (key_id, task_id, kind, amount, created_at) VALUES (?,?,?,?,?)",
	[ST_LEDGER_SUMS_KEY] = "SELECT kind, SUM(amount) FROM ledger WHERE key_id = ? GROUP BY kind",
	[ST_LEDGER_SUMS_TASK] = "SELECT kind, SUM(amount) FROM ledger WHERE task_id = ? GROUP BY kind",
	[ST_TASK_INSERT] = "INSERT INTO tasks (" TASK_COLS ") VALUES "
	                   "(?1,NULL,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,"
	                   "?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35)",
	[ST_TASK_GET] = "SELECT " TASK_COLS " FROM tasks WHERE id = ?",
	[ST_TASK_UPDATE] = "UPDATE tasks SET status=?4, progress=?5, shots_done=?6, shots_total=?7, narration=?14, "
	                   "music=?15, subtitles=?16, cost_actual=?20, result_url=?21, subtitles_url=?22, "
	                   "thumbnail_url=?23, error_code=?24, error_message=?25, error_stage=?26, error_shot=?27, "
	                   "script=?28, state=?29, updated_at=?31, completed_at=?32, lease_owner=?33, "
	                   "lease_until=?34, compose_generation=?35 WHERE id = ?1",
	[ST_TASK_LIST] = "SELECT " TASK_COLS " FROM tasks WHERE key_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?4",
	[ST_TASK_LIST_STATUS] = "SELECT " TASK_COLS " FROM tasks WHERE key_id = ?1 AND seq < ?2 AND status = ?3 "
	                        "ORDER BY seq DESC LIMIT ?4",
	[ST_SEG_INSERT] = "INSERT INTO segments (" SEG_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_SEG_LIST] = "SELECT " SEG_COLS " FROM segments WHERE task_id = ? ORDER BY idx",
	[ST_SEG_UPDATE] = "UPDATE segments SET status=?7, job_id=?8, job_state=?9, output=?10, attempts=?11, "
	                  "error=?12, updated_at=?13, billed_seconds=?5, price=?6 WHERE task_id=?1 AND idx=?2",
	[ST_IDEM_GET] = "SELECT key_id, idem_key, request_hash, task_id, created_at FROM idempotency "
	                "WHERE key_id = ? AND idem_key = ?",
	[ST_IDEM_INSERT] = "INSERT INTO idempotency (key_id, idem_key, request_hash, task_id, created_at) "
	                   "VALUES (?,?,?,?,?)",
	[ST_IDEM_PURGE] = "DELETE FROM idempotency WHERE created_at < ?",
	/* Two index searches (tasks_claim) instead of one scan: the oldest task without a lease, and
	 * the task whose lease expired first. */
	[ST_CLAIM_PICK_FREE] = "SELECT id, seq FROM tasks WHERE status NOT IN ('completed','failed','canceled') "
	                       "AND lease_until IS NULL ORDER BY seq LIMIT 1",
	[ST_CLAIM_PICK_EXPIRED] = "SELECT id, seq FROM tasks WHERE status NOT IN ('completed','failed','canceled') "
	                          "AND lease_until < ?1 ORDER BY lease_until LIMIT 1",
	[ST_CLAIM_SET] = "UPDATE tasks SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1",
	[ST_LEASE_RENEW] = "UPDATE tasks SET lease_until = ?3 WHERE lease_owner = ?1 AND lease_until >= ?2 "
	                   "AND status NOT IN ('completed','failed','canceled')",
	[ST_LEASE_RELEASE] = "UPDATE tasks SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?1",
	[ST_LEASE_HELD] = "SELECT id FROM tasks WHERE lease_owner = ?1",
	[ST_OUTBOX_INSERT] = "INSERT INTO webhook_outbox (" OUTBOX_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_OUTBOX_DUE] = "SELECT " OUTBOX_COLS " FROM webhook_outbox WHERE status = 'pending' "
	                  "AND next_attempt_at <= ?1 ORDER BY next_attempt_at LIMIT ?2",
	[ST_OUTBOX_UPDATE] = "UPDATE webhook_outbox SET attempts=?6, next_attempt_at=?7, status=?8, last_error=?9, "
	                     "last_status=?10, updated_at=?12 WHERE id=?1",
	[ST_OUTBOX_TASK] = "SELECT " OUTBOX_COLS " FROM webhook_outbox WHERE task_id = ? ORDER BY created_at",
	[ST_LEDGER_LIST] = "SELECT id, key_id, task_id, kind, amount, created_at FROM ledger "
	                   "WHERE key_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
	[ST_EVENT_NEXT] = "SELECT COALESCE(MAX(seq), 0) + 1 FROM task_events WHERE task_id = ?",
	[ST_EVENT_INSERT] = "INSERT INTO task_events (task_id, seq, data, created_at) VALUES (?,?,?,?)",
	[ST_EVENT_PRUNE] = "DELETE FROM task_events WHERE task_id = ?1 AND seq <= ?2",
	[ST_EVENT_LAST] = "SELECT seq, data, created_at FROM task_events WHERE task_id = ? ORDER BY seq DESC LIMIT 1",
	[ST_EVENT_LIST] = "SELECT seq, data, created_at FROM task_events WHERE task_id = ?1 AND seq > ?2 "
	                  "ORDER BY seq LIMIT ?3",
	[ST_EVENT_FIRST] = "SELECT COALESCE(MIN(seq), 0) FROM task_events WHERE task_id = ?",
	/* Both read only the (status, ...) indexes. */
	[ST_TASK_COUNTS] = "SELECT status, COUNT(*) FROM tasks GROUP BY status",
	[ST_OUTBOX_COUNTS] = "SELECT status, COUNT(*) FROM webhook_outbox GROUP BY status",
	[ST_CREDIT_TOTALS] = "SELECT COALESCE(SUM(granted), 0), COALESCE(SUM(balance), 0), COALESCE(SUM(reserved), 0) "
	                     "FROM api_keys",
};

typedef struct conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	struct conn *next;
} conn;

typedef struct sqlite_store {
	lv_store base;
	char *path;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	conn *idle;
	int open_count;
	/* One writer at a time per process: threads queue here, not in SQLite's sleeping busy handler
	 * (which only arbitrates between processes now). */
	pthread_mutex_t wmu;
	/* A connection that never writes, for PRAGMA data_version (it changes when anyone else commits). */
	pthread_mutex_t vmu;
	sqlite3 *watch;
	sqlite3_stmt *version;
} sqlite_store;

struct lv_store_tx {
	sqlite_store *store;
	conn *c;
	int write;
};

/* ---- errors ---------------------------------------------------------------- */

static int db_error(sqlite3 *db, int rc, const char *what)
{
	/* SQL text never reaches a user: the message names the operation and SQLite's reason. */
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return lv_error_set(LV_EBUSY, "store: %s: the database is busy", what);
	return lv_error_set(LV_ESTORE, "store: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* ---- connections ------------------------------------------------------------ */

static void conn_close(conn *c)
{
	int i;
	if (!c)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	sqlite3_close(c->db);
	free(c);
}

static int conn_open(conn **out, const char *path)
{
	conn *c = lv_calloc(1, sizeof(*c));
	int rc, waited;
	*out = NULL;
	if (!c)
		return LV_ENOMEM;
	rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		lv_error_set(LV_ESTORE, "store: cannot open %s: %s", path,
		             c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		conn_close(c);
		return LV_ESTORE;
	}
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(c->db, 0);
	/* Switching a new file to WAL answers "busy" at once (no busy handler) while another process
	 * does the same: many processes opening a new store together wait for each other here. */
	for (waited = 0;; waited += 20) {
		rc = sqlite3_exec(c->db,
		                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
		                  "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-8192; PRAGMA journal_size_limit=67108864;",
		                  NULL, NULL, NULL);
		if (rc != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS)
			break;
		lv_sleep_ms(20);
	}
	if (rc != SQLITE_OK) {
		db_error(c->db, rc, "configure connection");
		conn_close(c);
		return lv_error_last()->status;
	}
	*out = c;
	return LV_OK;
}

static sqlite3_stmt *stmt(lv_store_tx *tx, int id)
{
	conn *c = tx->c;
	if (!c->stmt[id]) {
		int rc = sqlite3_prepare_v3(c->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[id], NULL);
		if (rc != SQLITE_OK) {
			db_error(c->db, rc, "prepare");
			return NULL;
		}
	}
	sqlite3_reset(c->stmt[id]);
	sqlite3_clear_bindings(c->stmt[id]);
	return c->stmt[id];
}

static int acquire(sqlite_store *s, conn **out)
{
	conn *c = NULL;
	pthread_mutex_lock(&s->mu);
	while (!s->idle && s->open_count >= MAX_CONNECTIONS)
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->idle) {
		c = s->idle;
		s->idle = c->next;
		pthread_mutex_unlock(&s->mu);
		*out = c;
		return LV_OK;
	}
	s->open_count++;
	pthread_mutex_unlock(&s->mu);
	if (conn_open(&c, s->path)) {
		pthread_mutex_lock(&s->mu);
		s->open_count--;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		return lv_error_last()->status;
	}
	*out = c;
	return LV_OK;
}

static void release(sqlite_store *s, conn *c, int broken)
{
	pthread_mutex_lock(&s->mu);
	if (broken) {
		s->open_count--;
		pthread_mutex_unlock(&s->mu);
		conn_close(c);
		pthread_mutex_lock(&s->mu);
	} else {
		c->next = s->idle;
		s->idle = c;
	}
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* ---- transactions ------------------------------------------------------------ */

static int step_done(lv_store_tx *tx, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(tx->c->db, rc, what);
	return LV_OK;
}

static int sq_begin(lv_store *base, int write, lv_store_tx **out)
{
	sqlite_store *s = (sqlite_store *)base;
	lv_store_tx *tx = lv_calloc(1, sizeof(*tx));
	sqlite3_stmt *st;
	*out = NULL;
	if (!tx)
		return LV_ENOMEM;
	tx->store = s;
	tx->write = write;
	if (acquire(s, &tx->c)) {
		free(tx);
		return lv_error_last()->status;
	}
	if (write)
		pthread_mutex_lock(&s->wmu);
	st = stmt(tx, write ? ST_BEGIN_WRITE : ST_BEGIN_READ);
	if (!st || step_done(tx, st, "begin")) {
		int status = lv_error_last()->status;
		if (write)
			pthread_mutex_unlock(&s->wmu);
		release(s, tx->c, 0);
		free(tx);
		return status;
	}
	*out = tx;
	return LV_OK;
}

static int sq_commit(lv_store_tx *tx)
{
	sqlite3_stmt *st = stmt(tx, ST_COMMIT);
	int rc = st ? step_done(tx, st, "commit") : LV_ESTORE;
	if (rc) {
		/* A failed COMMIT leaves the transaction open: roll it back before reuse. */
		sqlite3_exec(tx->c->db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (tx->write)
		pthread_mutex_unlock(&tx->store->wmu);
	release(tx->store, tx->c, 0);
	free(tx);
	return rc;
}

static void sq_rollback(lv_store_tx *tx)
{
	if (!tx)
		return;
	if (!sqlite3_get_autocommit(tx->c->db))
		sqlite3_exec(tx->c->db, "ROLLBACK", NULL, NULL, NULL);
	if (tx->write)
		pthread_mutex_unlock(&tx->store->wmu);
	release(tx->store, tx->c, 0);
	free(tx);
}

/* ---- binding and reading helpers ------------------------------------------- */

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_opt_int(sqlite3_stmt *st, int i, int64_t v, int64_t null_value)
{
	if (v == null_value)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static int col_dup(char **dst, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	*dst = NULL;
	if (!t)
		return LV_OK;
	*dst = lv_strdup((const char *)t);
	return *dst ? LV_OK : LV_ENOMEM;
}

static void col_copy(char *dst, size_t cap, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	lv_strlcpy(dst, t ? (const char *)t : "", cap);
}

static int64_t col_opt_int(sqlite3_stmt *st, int i, int64_t null_value)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? null_value : sqlite3_column_int64(st, i);
}

/* ---- keys -------------------------------------------------------------------- */

static int read_key(sqlite3_stmt *st, lv_key_rec *k)
{
	memset(k, 0, sizeof(*k));
	col_copy(k->id, sizeof(k->id), st, 0);
	if (col_dup(&k->name, st, 1))
		return LV_ENOMEM;
	col_copy(k->hash, sizeof(k->hash), st, 2);
	col_copy(k->prefix, sizeof(k->prefix), st, 3);
	col_copy(k->webhook_salt, sizeof(k->webhook_salt), st, 4);
	k->created_at = sqlite3_column_int64(st, 5);
	k->revoked_at = col_opt_int(st, 6, 0);
	k->balance = sqlite3_column_int64(st, 7);
	k->reserved = sqlite3_column_int64(st, 8);
	k->granted = sqlite3_column_int64(st, 9);
	return LV_OK;
}

static int sq_key_insert(lv_store_tx *tx, const lv_key_rec *k)
{
	sqlite3_stmt *st = stmt(tx, ST_KEY_INSERT);
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, k->id);
	bind_text(st, 2, k->name);
	bind_text(st, 3, k->hash);
	bind_text(st, 4, k->prefix);
	bind_text(st, 5, k->webhook_salt);
	sqlite3_bind_int64(st, 6, k->created_at);
	bind_opt_int(st, 7, k->revoked_at, 0);
	sqlite3_bind_int64(st, 8, k->balance);
	sqlite3_bind_int64(st, 9, k->reserved);
	sqlite3_bind_int64(st, 10, k->granted);
	return step_done(tx, st, "insert key");
}

static int get_one_key(lv_store_tx *tx, int id, const char *arg, lv_key_rec *out)
{
	sqlite3_stmt *st = stmt(tx, id);
	int rc;
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, arg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = read_key(st, out);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LV_ENOTFOUND : db_error(tx->c->db, rc, "read key");
}

static int sq_key_get(lv_store_tx *tx, const char *id, int for_update, lv_key_rec *out)
{
	(void)for_update; /* BEGIN IMMEDIATE already holds the write lock */
	return get_one_key(tx, ST_KEY_GET, id, out);
}

static int sq_key_by_hash(lv_store_tx *tx, const char *hash, lv_key_rec *out)
{
	return get_one_key(tx, ST_KEY_BY_HASH, hash, out);
}

/* Collect rows of a statement into a growing array with a row reader. */
#define COLLECT(tx, st, type, reader, clearfn, out, n, what)                                       \
	do {                                                                                       \
		type *arr_ = NULL;                                                                 \
		size_t cnt_ = 0, cap_ = 0;                                                         \
		int rc_;                                                                           \
		while ((rc_ = sqlite3_step(st)) == SQLITE_ROW) {                                   \
			if (cnt_ == cap_) {                                                        \
				type *grown_ = lv_realloc(arr_, (cap_ ? cap_ * 2 : 8) * sizeof(type)); \
				if (!grown_) {                                                     \
					sqlite3_reset(st);                                         \
					clearfn(arr_, cnt_);                                       \
					return LV_ENOMEM;                                          \
				}                                                                  \
				arr_ = grown_;                                                     \
				cap_ = cap_ ? cap_ * 2 : 8;                                        \
			}                                                                          \
			if (reader(st, &arr_[cnt_])) {                                             \
				sqlite3_reset(st);                                                 \
				clearfn(arr_, cnt_ + 1);                                           \
				return LV_ENOMEM;                                                  \
			}                                                                          \
			cnt_++;                                                                    \
		}                                                                                  \
		sqlite3_reset(st);                                                                 \
		if (rc_ != SQLITE_DONE) {                                                          \
			clearfn(arr_, cnt_);                                                       \
			return db_error(tx->c->db, rc_, what);                                     \
		}                                                                                  \
		*(out) = arr_;                                                                     \
		*(n) = cnt_;                                                                       \
	} while (0)

static int sq_key_list(lv_store_tx *tx, lv_key_rec **out, size_t *n)
{
	sqlite3_stmt *st = stmt(tx, ST_KEY_LIST);
	if (!st)
		return LV_ESTORE;
	COLLECT(tx, st, lv_key_rec, read_key, lv_key_recs_free, out, n, "list keys");
	return LV_OK;
}

static int sq_key_update(lv_store_tx *tx, const lv_key_rec *k)
{
	sqlite3_stmt *st = stmt(tx, ST_KEY_UPDATE);
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, k->id);
	bind_text(st, 2, k->name);
	bind_opt_int(st, 3, k->revoked_at, 0);
	sqlite3_bind_int64(st, 4, k->balance);
	sqlite3_bind_int64(st, 5, k->reserved);
	sqlite3_bind_int64(st, 6, k->granted);
	return step_done(tx, st, "update key");
}

static int sq_ledger_append(lv_store_tx *tx, const lv_ledger_entry *e)
{
	sqlite3_stmt *st = stmt(tx, ST_LEDGER_APPEND);
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, e->key_id);
	bind_text(st, 2, e->task_id[0] ? e->task_id : NULL);
	bind_text(st, 3, lv_ledger_kind_name(e->kind));
	sqlite3_bind_int64(st, 4, e->amount);
	sqlite3_bind_int64(st, 5, e->created_at);
	return step_done(tx, st, "append to ledger");
}

static int sq_ledger_sums(lv_store_tx *tx, const char *key_id, const char *task_id, int64_t sums[LV_LEDGER_KINDS])
{
	sqlite3_stmt *st = stmt(tx, task_id ? ST_LEDGER_SUMS_TASK : ST_LEDGER_SUMS_KEY);
	int rc, i;
	if (!st)
		return LV_ESTORE;
	for (i = 0; i < LV_LEDGER_KINDS; i++)
		sums[i] = 0;
	bind_text(st, 1, task_id ? task_id : key_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int kind = lv_ledger_kind_parse((const char *)sqlite3_column_text(st, 0));
		if (kind >= 0)
			sums[kind] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LV_OK : db_error(tx->c->db, rc, "sum ledger");
}

/* ---- tasks ------------------------------------------------------------------- */

static void bind_task(sqlite3_stmt *st, const lv_task_rec *t)
{
	bind_text(st, 1, t->id);
	bind_text(st, 3, t->key_id);
	bind_text(st, 4, lv_task_status_name((lv_task_status)t->status));
	sqlite3_bind_int(st, 5, t->progress);
	sqlite3_bind_int(st, 6, t->shots_done);
	sqlite3_bind_int(st, 7, t->shots_total);
	bind_text(st, 8, t->prompt);
	sqlite3_bind_int(st, 9, t->duration);
	bind_text(st, 10, t->resolution);
	bind_text(st, 11, t->aspect_ratio);
	bind_text(st, 12, t->provider);
	bind_text(st, 13, t->language);
	sqlite3_bind_int(st, 14, t->narration);
	sqlite3_bind_int(st, 15, t->music);
	bind_text(st, 16, lv_subtitles_name(t->subtitles));
	bind_text(st, 17, t->webhook_url);
	bind_text(st, 18, t->metadata ? t->metadata : "{}");
	sqlite3_bind_int64(st, 19, t->cost_estimate);
	bind_opt_int(st, 20, t->cost_actual, -1);
	bind_text(st, 21, t->result_url);
	bind_text(st, 22, t->subtitles_url);
	bind_text(st, 23, t->thumbnail_url);
	bind_text(st, 24, t->error_code);
	bind_text(st, 25, t->error_message);
	bind_text(st, 26, t->error_stage >= 0 ? lv_task_status_name((lv_task_status)t->error_stage) : NULL);
	bind_opt_int(st, 27, t->error_shot, -1);
	bind_text(st, 28, t->script);
	bind_text(st, 29, t->state);
	sqlite3_bind_int64(st, 30, t->created_at);
	sqlite3_bind_int64(st, 31, t->updated_at);
	bind_opt_int(st, 32, t->completed_at, 0);
	bind_text(st, 33, t->lease_owner);
	bind_opt_int(st, 34, t->lease_until, 0);
	sqlite3_bind_int(st, 35, t->compose_generation);
}

static int parse_status(const char *s)
{
	lv_task_status v;
	return s && lv_task_status_parse(&v, s) == LV_OK ? (int)v : -1;
}

static int read_task(sqlite3_stmt *st, lv_task_rec *t)
{
	memset(t, 0, sizeof(*t));
	col_copy(t->id, sizeof(t->id), st, 0);
	t->seq = sqlite3_column_int64(st, 1);
	col_copy(t->key_id, sizeof(t->key_id), st, 2);
	t->status = parse_status((const char *)sqlite3_column_text(st, 3));
	t->progress = sqlite3_column_int(st, 4);
	t->shots_done = sqlite3_column_int(st, 5);
	t->shots_total = sqlite3_column_int(st, 6);
	t->duration = sqlite3_column_int(st, 8);
	col_copy(t->resolution, sizeof(t->resolution), st, 9);
	col_copy(t->aspect_ratio, sizeof(t->aspect_ratio), st, 10);
	col_copy(t->language, sizeof(t->language), st, 12);
	t->narration = sqlite3_column_int(st, 13);
	t->music = sqlite3_column_int(st, 14);
	t->subtitles = lv_subtitles_parse((const char *)sqlite3_column_text(st, 15));
	t->cost_estimate = sqlite3_column_int64(st, 18);
	t->cost_actual = col_opt_int(st, 19, -1);
	t->error_stage = sqlite3_column_type(st, 25) == SQLITE_NULL
	                         ? -1
	                         : parse_status((const char *)sqlite3_column_text(st, 25));
	t->error_shot = (int)col_opt_int(st, 26, -1);
	t->created_at = sqlite3_column_int64(st, 29);
	t->updated_at = sqlite3_column_int64(st, 30);
	t->completed_at = col_opt_int(st, 31, 0);
	t->lease_until = col_opt_int(st, 33, 0);
	t->compose_generation = sqlite3_column_int(st, 34);
	if (col_dup(&t->prompt, st, 7) || col_dup(&t->provider, st, 11) || col_dup(&t->webhook_url, st, 16) ||
	    col_dup(&t->metadata, st, 17) || col_dup(&t->result_url, st, 20) || col_dup(&t->subtitles_url, st, 21) ||
	    col_dup(&t->thumbnail_url, st, 22) || col_dup(&t->error_code, st, 23) ||
	    col_dup(&t->error_message, st, 24) || col_dup(&t->script, st, 27) || col_dup(&t->state, st, 28) ||
	    col_dup(&t->lease_owner, st, 32)) {
		lv_task_rec_clear(t);
		return LV_ENOMEM;
	}
	return LV_OK;
}

static int sq_task_insert(lv_store_tx *tx, lv_task_rec *t)
{
	sqlite3_stmt *st = stmt(tx, ST_TASK_INSERT);
	if (!st)
		return LV_ESTORE;
	bind_task(st, t);
	if (step_done(tx, st, "insert task"))
		return lv_error_last()->status;
	t->seq = sqlite3_last_insert_rowid(tx->c->db);
	return LV_OK;
}

static int sq_task_get(lv_store_tx *tx, const char *id, int for_update, lv_task_rec *out)
{
	sqlite3_stmt *st = stmt(tx, ST_TASK_GET);
	int rc;
	(void)for_update;
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = read_task(st, out);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LV_ENOTFOUND : db_error(tx->c->db, rc, "read task");
}

static int sq_task_update(lv_store_tx *tx, const lv_task_rec *t)
{
	sqlite3_stmt *st = stmt(tx, ST_TASK_UPDATE);
	if (!st)
		return LV_ESTORE;
	bind_task(st, t);
	return step_done(tx, st, "update task");
}

static int sq_task_list(lv_store_tx *tx, const char *key_id, int64_t before_seq, int status, int limit,
                        lv_task_rec **out, size_t *n)
{
	sqlite3_stmt *st = stmt(tx, status >= 0 ? ST_TASK_LIST_STATUS : ST_TASK_LIST);
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, key_id);
	sqlite3_bind_int64(st, 2, before_seq > 0 ? before_seq : INT64_MAX);
	if (status >= 0)
		bind_text(st, 3, lv_task_status_name((lv_task_status)status));
	sqlite3_bind_int(st, 4, limit);
	COLLECT(tx, st, lv_task_rec, read_task, lv_task_recs_free, out, n, "list tasks");
	return LV_OK;
}

/* ---- segments ---------------------------------------------------------------- */

static void bind_segment(sqlite3_stmt *st, const lv_segment_rec *s)
{
	bind_text(st, 1, s->task_id);
	sqlite3_bind_int(st, 2, s->idx);
	sqlite3_bind_int(st, 3, s->start);
	sqlite3_bind_int(st, 4, s->seconds);
	sqlite3_bind_int(st, 5, s->billed_seconds);
	sqlite3_bind_int64(st, 6, s->price);
	bind_text(st, 7, lv_segment_status_name(s->status));
	bind_text(st, 8, s->job_id);
	bind_text(st, 9, s->job_state);
	bind_text(st, 10, s->output);
	sqlite3_bind_int(st, 11, s->attempts);
	bind_text(st, 12, s->error);
	sqlite3_bind_int64(st, 13, s->updated_at);
}

static int read_segment(sqlite3_stmt *st, lv_segment_rec *s)
{
	memset(s, 0, sizeof(*s));
	col_copy(s->task_id, sizeof(s->task_id), st, 0);
	s->idx = sqlite3_column_int(st, 1);
	s->start = sqlite3_column_int(st, 2);
	s->seconds = sqlite3_column_int(st, 3);
	s->billed_seconds = sqlite3_column_int(st, 4);
	s->price = sqlite3_column_int64(st, 5);
	s->status = lv_segment_status_parse((const char *)sqlite3_column_text(st, 6));
	s->attempts = sqlite3_column_int(st, 10);
	s->updated_at = sqlite3_column_int64(st, 12);
	if (col_dup(&s->job_id, st, 7) || col_dup(&s->job_state, st, 8) || col_dup(&s->output, st, 9) ||
	    col_dup(&s->error, st, 11)) {
		lv_segment_rec_clear(s);
		return LV_ENOMEM;
	}
	return LV_OK;
}

static int sq_segment_insert(lv_store_tx *tx, const lv_segment_rec *s)
{
	sqlite3_stmt *st = stmt(tx, ST_SEG_INSERT);
	if (!st)
		return LV_ESTORE;
	bind_segment(st, s);
	return step_done(tx, st, "insert segment");
}

static int sq_segment_list(lv_store_tx *tx, const char *task_id, lv_segment_rec **out, size_t *n)
{
	sqlite3_stmt *st = stmt(tx, ST_SEG_LIST);
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, task_id);
	COLLECT(tx, st, lv_segment_rec, read_segment, lv_segment_recs_free, out, n, "list segments");
	return LV_OK;
}

static int sq_segment_update(lv_store_tx *tx, const lv_segment_rec *s)
{
	sqlite3_stmt *st = stmt(tx, ST_SEG_UPDATE);
	if (!st)
		return LV_ESTORE;
	bind_segment(st, s);
	return step_done(tx, st, "update segment");
}

/* ---- idempotency ------------------------------------------------------------- */

static int sq_idem_get(lv_store_tx *tx, const char *key_id, const char *idem_key, lv_idem_rec *out)
{
	sqlite3_stmt *st = stmt(tx, ST_IDEM_GET);
	int rc;
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, key_id);
	bind_text(st, 2, idem_key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		col_copy(out->key_id, sizeof(out->key_id), st, 0);
		rc = col_dup(&out->idem_key, st, 1);
		col_copy(out->request_hash, sizeof(out->request_hash), st, 2);
		col_copy(out->task_id, sizeof(out->task_id), st, 3);
		out->created_at = sqlite3_column_int64(st, 4);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LV_ENOTFOUND : db_error(tx->c->db, rc, "read idempotency key");
}

static int sq_idem_insert(lv_store_tx *tx, const lv_idem_rec *r)
{
	sqlite3_stmt *st = stmt(tx, ST_IDEM_INSERT);
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, r->key_id);
	bind_text(st, 2, r->idem_key);
	bind_text(st, 3, r->request_hash);
	bind_text(st, 4, r->task_id);
	sqlite3_bind_int64(st, 5, r->created_at);
	return step_done(tx, st, "record idempotency key");
}

static int sq_idem_purge(lv_store_tx *tx, int64_t created_before)
{
	sqlite3_stmt *st = stmt(tx, ST_IDEM_PURGE);
	if (!st)
		return LV_ESTORE;
	sqlite3_bind_int64(st, 1, created_before);
	return step_done(tx, st, "purge idempotency keys");
}

/* ---- pipeline leases ----------------------------------------------------------- */

/* The first row of a claim candidate query: its id and seq, or seq -1 when there is none. */
static int pick(lv_store_tx *tx, int id, int64_t now, char out[LV_ID_MAX], int64_t *seq)
{
	sqlite3_stmt *st = stmt(tx, id);
	int rc;
	*seq = -1;
	if (!st)
		return LV_ESTORE;
	if (id == ST_CLAIM_PICK_EXPIRED)
		sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		col_copy(out, LV_ID_MAX, st, 0);
		*seq = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? LV_OK : db_error(tx->c->db, rc, "pick a task");
}

static int sq_task_claim(lv_store_tx *tx, const char *owner, int64_t now, int64_t lease_until, lv_task_rec *out)
{
	sqlite3_stmt *st;
	char free_id[LV_ID_MAX], expired_id[LV_ID_MAX];
	const char *id;
	int64_t free_seq, expired_seq;
	if (pick(tx, ST_CLAIM_PICK_FREE, now, free_id, &free_seq) ||
	    pick(tx, ST_CLAIM_PICK_EXPIRED, now, expired_id, &expired_seq))
		return lv_error_last()->status;
	if (free_seq < 0 && expired_seq < 0)
		return LV_ENOTFOUND;
	/* The older of the two goes first. */
	id = expired_seq < 0 || (free_seq >= 0 && free_seq < expired_seq) ? free_id : expired_id;
	if (!(st = stmt(tx, ST_CLAIM_SET)))
		return LV_ESTORE;
	bind_text(st, 1, id);
	bind_text(st, 2, owner);
	sqlite3_bind_int64(st, 3, lease_until);
	if (step_done(tx, st, "claim task"))
		return lv_error_last()->status;
	return sq_task_get(tx, id, 1, out);
}

static int sq_lease_renew(lv_store_tx *tx, const char *owner, int64_t now, int64_t lease_until)
{
	sqlite3_stmt *st = stmt(tx, ST_LEASE_RENEW);
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, owner);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, lease_until);
	return step_done(tx, st, "renew leases");
}

static int sq_lease_release(lv_store_tx *tx, const char *owner)
{
	sqlite3_stmt *st = stmt(tx, ST_LEASE_RELEASE);
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, owner);
	return step_done(tx, st, "release leases");
}

static int read_id(sqlite3_stmt *st, char (*id)[LV_ID_MAX])
{
	col_copy(*id, LV_ID_MAX, st, 0);
	return LV_OK;
}

static void free_ids(char (*ids)[LV_ID_MAX], size_t n)
{
	(void)n;
	free(ids);
}

static int sq_lease_held(lv_store_tx *tx, const char *owner, char (**out)[LV_ID_MAX], size_t *n)
{
	sqlite3_stmt *st = stmt(tx, ST_LEASE_HELD);
	typedef char lease_id[LV_ID_MAX];
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, owner);
	COLLECT(tx, st, lease_id, read_id, free_ids, out, n, "read held leases");
	return LV_OK;
}

/* ---- savepoints ------------------------------------------------------------------------ */

static int sq_savepoint(lv_store_tx *tx, int op)
{
	static const char *const sql[] = { "SAVEPOINT lv_sp", "RELEASE lv_sp", "ROLLBACK TO lv_sp; RELEASE lv_sp" };
	int rc;
	if (op < LV_SP_BEGIN || op > LV_SP_ROLLBACK)
		return lv_error_set(LV_EINTERNAL, "store: unknown savepoint operation %d", op);
	/* An I/O error or a full disk may have rolled the whole transaction back already. */
	if (sqlite3_get_autocommit(tx->c->db))
		return lv_error_set(LV_ESTORE, "store: the transaction was rolled back");
	rc = sqlite3_exec(tx->c->db, sql[op], NULL, NULL, NULL);
	return rc == SQLITE_OK ? LV_OK : db_error(tx->c->db, rc, "savepoint");
}

/* ---- change counter ------------------------------------------------------------------ */

static int sq_change_counter(lv_store *base, uint64_t *out)
{
	sqlite_store *s = (sqlite_store *)base;
	int rc = SQLITE_OK;
	pthread_mutex_lock(&s->vmu);
	if (!s->watch) {
		rc = sqlite3_open_v2(s->path, &s->watch, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_prepare_v2(s->watch, "PRAGMA data_version", -1, &s->version, NULL);
		if (rc != SQLITE_OK) {
			db_error(s->watch, rc, "watch for changes");
			sqlite3_close(s->watch);
			s->watch = NULL;
		}
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s->version);
		if (rc == SQLITE_ROW)
			*out = (uint64_t)sqlite3_column_int64(s->version, 0);
		sqlite3_reset(s->version);
		rc = rc == SQLITE_ROW ? SQLITE_OK : db_error(s->watch, rc, "watch for changes");
	}
	pthread_mutex_unlock(&s->vmu);
	return rc == SQLITE_OK ? LV_OK : lv_error_last()->status;
}

/* ---- webhook outbox -------------------------------------------------------------- */

static void bind_outbox(sqlite3_stmt *st, const lv_outbox_rec *r)
{
	bind_text(st, 1, r->id);
	bind_text(st, 2, r->task_id);
	bind_text(st, 3, r->key_id);
	bind_text(st, 4, r->url);
	bind_text(st, 5, r->payload);
	sqlite3_bind_int(st, 6, r->attempts);
	sqlite3_bind_int64(st, 7, r->next_attempt_at);
	bind_text(st, 8, lv_outbox_status_name(r->status));
	bind_text(st, 9, r->last_error);
	sqlite3_bind_int(st, 10, r->last_status);
	sqlite3_bind_int64(st, 11, r->created_at);
	sqlite3_bind_int64(st, 12, r->updated_at);
}

static int read_outbox(sqlite3_stmt *st, lv_outbox_rec *r)
{
	memset(r, 0, sizeof(*r));
	col_copy(r->id, sizeof(r->id), st, 0);
	col_copy(r->task_id, sizeof(r->task_id), st, 1);
	col_copy(r->key_id, sizeof(r->key_id), st, 2);
	r->attempts = sqlite3_column_int(st, 5);
	r->next_attempt_at = sqlite3_column_int64(st, 6);
	r->status = lv_outbox_status_parse((const char *)sqlite3_column_text(st, 7));
	r->last_status = sqlite3_column_int(st, 9);
	r->created_at = sqlite3_column_int64(st, 10);
	r->updated_at = sqlite3_column_int64(st, 11);
	if (col_dup(&r->url, st, 3) || col_dup(&r->payload, st, 4) || col_dup(&r->last_error, st, 8)) {
		lv_outbox_rec_clear(r);
		return LV_ENOMEM;
	}
	return LV_OK;
}

static int sq_outbox_insert(lv_store_tx *tx, const lv_outbox_rec *r)
{
	sqlite3_stmt *st = stmt(tx, ST_OUTBOX_INSERT);
	if (!st)
		return LV_ESTORE;
	bind_outbox(st, r);
	return step_done(tx, st, "queue webhook");
}

static int sq_outbox_due(lv_store_tx *tx, int64_t now, int limit, lv_outbox_rec **out, size_t *n)
{
	sqlite3_stmt *st = stmt(tx, ST_OUTBOX_DUE);
	if (!st)
		return LV_ESTORE;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, limit);
	COLLECT(tx, st, lv_outbox_rec, read_outbox, lv_outbox_recs_free, out, n, "read due webhooks");
	return LV_OK;
}

static int sq_outbox_update(lv_store_tx *tx, const lv_outbox_rec *r)
{
	sqlite3_stmt *st = stmt(tx, ST_OUTBOX_UPDATE);
	if (!st)
		return LV_ESTORE;
	bind_outbox(st, r);
	return step_done(tx, st, "update webhook");
}

static int sq_outbox_for_task(lv_store_tx *tx, const char *task_id, lv_outbox_rec **out, size_t *n)
{
	sqlite3_stmt *st = stmt(tx, ST_OUTBOX_TASK);
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, task_id);
	COLLECT(tx, st, lv_outbox_rec, read_outbox, lv_outbox_recs_free, out, n, "read webhooks");
	return LV_OK;
}

/* ---- ledger listing --------------------------------------------------------------- */

static int read_ledger(sqlite3_stmt *st, lv_ledger_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(st, 0);
	col_copy(e->key_id, sizeof(e->key_id), st, 1);
	col_copy(e->task_id, sizeof(e->task_id), st, 2);
	e->kind = lv_ledger_kind_parse((const char *)sqlite3_column_text(st, 3));
	e->amount = sqlite3_column_int64(st, 4);
	e->created_at = sqlite3_column_int64(st, 5);
	return LV_OK;
}

static void ledger_entries_free(lv_ledger_entry *a, size_t n)
{
	(void)n;
	free(a);
}

static int sq_ledger_list(lv_store_tx *tx, const char *key_id, int64_t before_id, int limit, lv_ledger_entry **out,
                          size_t *n)
{
	sqlite3_stmt *st = stmt(tx, ST_LEDGER_LIST);
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, key_id);
	sqlite3_bind_int64(st, 2, before_id > 0 ? before_id : INT64_MAX);
	sqlite3_bind_int(st, 3, limit);
	COLLECT(tx, st, lv_ledger_entry, read_ledger, ledger_entries_free, out, n, "list ledger");
	return LV_OK;
}

/* ---- live progress events ---------------------------------------------------------------- */

static int read_event(sqlite3_stmt *st, lv_event_rec *e)
{
	memset(e, 0, sizeof(*e));
	e->seq = sqlite3_column_int64(st, 0);
	e->created_at = sqlite3_column_int64(st, 2);
	return col_dup(&e->data, st, 1);
}

static int one_int(lv_store_tx *tx, int id, const char *task_id, int64_t *out, const char *what)
{
	sqlite3_stmt *st = stmt(tx, id);
	int rc;
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, task_id);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? LV_OK : db_error(tx->c->db, rc, what);
}

static int sq_event_append(lv_store_tx *tx, const char *task_id, lv_event_rec *e, int keep)
{
	sqlite3_stmt *st;
	int rc = one_int(tx, ST_EVENT_NEXT, task_id, &e->seq, "number an event");
	if (rc)
		return rc;
	if (!(st = stmt(tx, ST_EVENT_INSERT)))
		return LV_ESTORE;
	bind_text(st, 1, task_id);
	sqlite3_bind_int64(st, 2, e->seq);
	bind_text(st, 3, e->data);
	sqlite3_bind_int64(st, 4, e->created_at);
	if ((rc = step_done(tx, st, "record an event")))
		return rc;
	if (!(st = stmt(tx, ST_EVENT_PRUNE)))
		return LV_ESTORE;
	bind_text(st, 1, task_id);
	sqlite3_bind_int64(st, 2, e->seq - keep);
	return step_done(tx, st, "drop old events");
}

static int sq_event_last(lv_store_tx *tx, const char *task_id, lv_event_rec *out)
{
	sqlite3_stmt *st = stmt(tx, ST_EVENT_LAST);
	int rc;
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, task_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = read_event(st, out);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LV_ENOTFOUND : db_error(tx->c->db, rc, "read an event");
}

static int sq_event_list(lv_store_tx *tx, const char *task_id, int64_t after_seq, int limit, lv_event_rec **out,
                         size_t *n)
{
	sqlite3_stmt *st = stmt(tx, ST_EVENT_LIST);
	if (!st)
		return LV_ESTORE;
	bind_text(st, 1, task_id);
	sqlite3_bind_int64(st, 2, after_seq);
	sqlite3_bind_int(st, 3, limit);
	COLLECT(tx, st, lv_event_rec, read_event, lv_event_recs_free, out, n, "list events");
	return LV_OK;
}

static int sq_event_first_seq(lv_store_tx *tx, const char *task_id, int64_t *out)
{
	return one_int(tx, ST_EVENT_FIRST, task_id, out, "read events");
}

static int sq_status_counts(lv_store_tx *tx, int64_t tasks[LV_STORE_STATUS_SLOTS], int64_t outbox[3])
{
	int pass, rc = SQLITE_DONE, i;
	for (i = 0; i < LV_STORE_STATUS_SLOTS; i++)
		tasks[i] = 0;
	outbox[0] = outbox[1] = outbox[2] = 0;
	for (pass = 0; pass < 2 && rc == SQLITE_DONE; pass++) {
		sqlite3_stmt *st = stmt(tx, pass ? ST_OUTBOX_COUNTS : ST_TASK_COUNTS);
		if (!st)
			return LV_ESTORE;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(st, 0);
			if (pass == 0) {
				lv_task_status v;
				if (name && lv_task_status_parse(&v, name) == LV_OK && (int)v >= 0 && (int)v < LV_STORE_STATUS_SLOTS)
					tasks[v] = sqlite3_column_int64(st, 1);
			} else {
				int v = name ? lv_outbox_status_parse(name) : -1;
				if (v >= 0 && v < 3)
					outbox[v] = sqlite3_column_int64(st, 1);
			}
		}
		sqlite3_reset(st);
	}
	lv_error_clear(); /* an unknown status name is skipped, not an error */
	return rc == SQLITE_DONE ? LV_OK : db_error(tx->c->db, rc, "count by status");
}

static int sq_credit_totals(lv_store_tx *tx, int64_t out[3])
{
	sqlite3_stmt *st = stmt(tx, ST_CREDIT_TOTALS);
	int rc, i;
	if (!st)
		return LV_ESTORE;
	rc = sqlite3_step(st);
	for (i = 0; i < 3; i++)
		out[i] = rc == SQLITE_ROW ? sqlite3_column_int64(st, i) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? LV_OK : db_error(tx->c->db, rc, "total the credits");
}

/* ---- open, migrate, close --------------------------------------------------------- */

static void sq_close(lv_store *base)
{
	sqlite_store *s = (sqlite_store *)base;
	conn *c;
	if (!s)
		return;
	while ((c = s->idle) != NULL) {
		s->idle = c->next;
		conn_close(c);
	}
	sqlite3_finalize(s->version);
	sqlite3_close(s->watch);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->wmu);
	pthread_mutex_destroy(&s->vmu);
	free(s->path);
	free(s);
}

/* The store keeps a verifier of the master key it was created with (the first process to open it
 * with one records it); a process with another key would derive other webhook secrets. */
static int master_key_tx(lv_store_tx *tx, sqlite_store *s, const unsigned char key[32])
{
	char hex[65];
	sqlite3_stmt *st = NULL;
	int same = 0, e;
	lv_store_key_verifier(key, hex);
	e = sqlite3_prepare_v2(tx->c->db, "INSERT OR IGNORE INTO lv_meta (name, value) VALUES ('master_key_verifier', ?1)",
	                       -1, &st, NULL);
	if (e == SQLITE_OK) {
		sqlite3_bind_text(st, 1, hex, 64, SQLITE_STATIC);
		e = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(tx->c->db);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (e == SQLITE_OK &&
	    (e = sqlite3_prepare_v2(tx->c->db, "SELECT value FROM lv_meta WHERE name = 'master_key_verifier'", -1, &st,
	                            NULL)) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			const unsigned char *v = sqlite3_column_text(st, 0);
			same = v && sqlite3_column_bytes(st, 0) == 64 && lv_memcmp_ct(v, hex, 64) == 0;
		}
	}
	sqlite3_finalize(st);
	if (e != SQLITE_OK)
		return db_error(tx->c->db, e, "check the master key");
	return same ? LV_OK : lv_store_key_mismatch(s->path);
}

static int migrate(sqlite_store *s, const unsigned char *master_key)
{
	lv_store_tx *tx;
	sqlite3_stmt *st;
	int version, rc = LV_OK;
	const int latest = (int)(sizeof(lv_sqlite_migrations) / sizeof(lv_sqlite_migrations[0]));
	/* BEGIN IMMEDIATE: two processes opening a new store at once migrate it once. */
	if (sq_begin(&s->base, 1, &tx))
		return lv_error_last()->status;
	if (sqlite3_prepare_v2(tx->c->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(tx->c->db, SQLITE_ERROR, "read schema version");
		sq_rollback(tx);
		return rc;
	}
	version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (version > latest) {
		sq_rollback(tx);
		return lv_error_set(LV_ESTORE,
		                    "store: %s has schema version %d, newer than this build knows (%d); upgrade liblongvideo",
		                    s->path, version, latest);
	}
	for (; version < latest && rc == LV_OK; version++) {
		char pragma[64];
		int e = sqlite3_exec(tx->c->db, lv_sqlite_migrations[version], NULL, NULL, NULL);
		if (e != SQLITE_OK) {
			rc = db_error(tx->c->db, e, "migrate schema");
			break;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if ((e = sqlite3_exec(tx->c->db, pragma, NULL, NULL, NULL)) != SQLITE_OK)
			rc = db_error(tx->c->db, e, "record schema version");
		else
			LV_INFO("store: migrated %s to schema version %d", s->path, version + 1);
	}
	if (rc == LV_OK && master_key)
		rc = master_key_tx(tx, s, master_key);
	if (rc) {
		sq_rollback(tx);
		return rc;
	}
	return sq_commit(tx);
}

static const lv_store_ops sqlite_ops = {
	LV_STORE_OPS_VERSION,
	"sqlite",
	sq_begin,
	sq_commit,
	sq_rollback,
	sq_close,
	sq_key_insert,
	sq_key_get,
	sq_key_by_hash,
	sq_key_list,
	sq_key_update,
	sq_ledger_append,
	sq_ledger_sums,
	sq_task_insert,
	sq_task_get,
	sq_task_update,
	sq_task_list,
	sq_segment_insert,
	sq_segment_list,
	sq_segment_update,
	sq_idem_get,
	sq_idem_insert,
	sq_idem_purge,
	sq_task_claim,
	sq_lease_renew,
	sq_lease_release,
	sq_outbox_insert,
	sq_outbox_due,
	sq_outbox_update,
	sq_outbox_for_task,
	sq_change_counter,
	sq_lease_held,
	sq_savepoint,
	sq_ledger_list,
	sq_event_append,
	sq_event_last,
	sq_event_list,
	sq_event_first_seq,
	sq_status_counts,
	.credit_totals = sq_credit_totals,
};

const char *lv_store_sqlite_statement(int i)
{
	return i >= 0 && i < ST_COUNT ? sql_text[i] : NULL;
}

int lv_store_sqlite_open(lv_store **out, const char *path)
{
	return lv_store_sqlite_open_ex(out, path, NULL);
}

int lv_store_sqlite_open_ex(lv_store **out, const char *path, const unsigned char *master_key)
{
	sqlite_store *s;
	char *dir, *slash;
	*out = NULL;
	if (!path || !*path)
		return lv_error_set(LV_ECONFIG, "store: empty SQLite path");
	/* Create the directory the database lives in. */
	if (!(dir = lv_strdup(path)))
		return LV_ENOMEM;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (lv_mkdir_p(dir, 1)) {
			free(dir);
			return lv_error_last()->status;
		}
	}
	free(dir);
	s = lv_calloc(1, sizeof(*s));
	if (!s)
		return LV_ENOMEM;
	s->base.ops = &sqlite_ops;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->wmu, NULL);
	pthread_mutex_init(&s->vmu, NULL);
	if (!(s->path = lv_strdup(path)) || migrate(s, master_key)) {
		int rc = lv_error_last()->status;
		sq_close(&s->base);
		return rc ? rc : LV_ENOMEM;
	}
	*out = &s->base;
	return LV_OK;
}
