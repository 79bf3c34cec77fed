/*
 * The PostgreSQL store backend (libpq).
 *
 * A pool of connections (sized from config), each with its own prepared statements.  Write
 * transactions run at READ COMMITTED and serialise through row locks: the key row for money,
 * the task row for its state, FOR UPDATE SKIP LOCKED for claims and outbox rows, the
 * idempotency primary key for replays.  Read transactions run at REPEATABLE READ so that a
 * report over many rows (the ledger check) sees one snapshot.  Serialization failures,
 * deadlocks, a lost connection before COMMIT and a lost idempotency race come back as
 * LV_EBUSY, which the engine retries with the whole transaction.  Lease times, webhook
 * attempts and review deadlines use the database's clock.  Migrations run under an advisory
 * lock, so many processes starting together migrate once.
 *
 * Wake-up hints: triggers NOTIFY the channel lv_wake when a task is queued, changes status or
 * loses its lease owner, or a webhook is queued.  One extra connection per process LISTENs (a
 * thread started by the first change_counter call, reconnecting with backoff) and counts the
 * notifications; idle loops look at the store when the count moves.  While it is not listening
 * change_counter fails and those loops poll, so nothing depends on a notification arriving.
 */
#include "longvideo/task.h"
#include "store/pg_schema.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PARAMS 36
#define MIGRATION_LOCK 0x6c76737465LL /* "lvste" */
#define CONNECT_TIMEOUT_S "10"
#define WAKE_CHANNEL "lv_wake"
#define LISTEN_CONNECT_MS 10000 /* one connection attempt of the listener */
#define LISTEN_IDLE_MS 5000     /* a silent listener checks its connection this often */
#define LISTEN_BACKOFF_MS 5000  /* the longest pause between reconnection attempts */

/* The database clock in ms, and the terminal statuses a claim skips. */
#define DB_NOW "lv_now_ms()"
#define TERMINAL "('completed','failed','canceled')"

enum {
	ST_KEY_INSERT, ST_KEY_GET, ST_KEY_GET_LOCK, ST_KEY_BY_HASH, ST_KEY_LIST, ST_KEY_UPDATE,
	ST_LEDGER_APPEND, ST_LEDGER_SUMS_KEY, ST_LEDGER_SUMS_TASK,
	ST_TASK_INSERT, ST_TASK_GET, ST_TASK_GET_LOCK, ST_TASK_UPDATE, ST_TASK_LIST, ST_TASK_LIST_STATUS,
	ST_SEG_INSERT, ST_SEG_LIST, ST_SEG_UPDATE,
	ST_IDEM_GET, ST_IDEM_INSERT, ST_IDEM_PURGE,
	ST_CLAIM, ST_LEASE_RENEW, ST_LEASE_RELEASE, ST_RATE_HIT, ST_RATE_PURGE,
	ST_OUTBOX_INSERT, ST_OUTBOX_DUE, ST_OUTBOX_DUE_LOCK, ST_OUTBOX_UPDATE, ST_OUTBOX_TASK,
	ST_LEASE_HELD, ST_LEDGER_LIST,
	ST_EVENT_NEXT, ST_EVENT_INSERT, ST_EVENT_PRUNE, ST_EVENT_LAST, ST_EVENT_LIST, ST_EVENT_FIRST,
	ST_TASK_COUNTS, ST_OUTBOX_COUNTS, ST_CLOCK, ST_CREDIT_TOTALS,
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

/* Task parameters are numbered as the columns of TASK_COLS ($2, seq, is never bound). */
static const char *const sql_text[ST_COUNT] = {
	[ST_KEY_INSERT] = "INSERT INTO api_keys (" KEY_COLS ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
	[ST_KEY_GET] = "SELECT " KEY_COLS " FROM api_keys WHERE id = $1",
	[ST_KEY_GET_LOCK] = "SELECT " KEY_COLS " FROM api_keys WHERE id = $1 FOR UPDATE",
	[ST_KEY_BY_HASH] = "SELECT " KEY_COLS " FROM api_keys WHERE key_hash = $1",
	[ST_KEY_LIST] = "SELECT " KEY_COLS " FROM api_keys ORDER BY created_at, id",
	[ST_KEY_UPDATE] = "UPDATE api_keys SET name = $2, revoked_at = $3, balance = $4, reserved = $5, granted = $6 "
	                  "WHERE id = $1",
	[ST_LEDGER_APPEND] = "INSERT INTO ledger (key_id, task_id, kind, amount, created_at) VALUES ($1,$2,$3,$4,$5)",
	[ST_LEDGER_SUMS_KEY] = "SELECT kind, SUM(amount)::bigint FROM ledger WHERE key_id = $1 GROUP BY kind",
	[ST_LEDGER_SUMS_TASK] = "SELECT kind, SUM(amount)::bigint FROM ledger WHERE task_id = $1 GROUP BY kind",
	[ST_TASK_INSERT] = "INSERT INTO tasks (id, key_id, status, progress, shots_done, shots_total, prompt, duration, "
	                   "resolution, aspect_ratio, provider, language, narration, music, subtitles, webhook_url, "
	                   "metadata, cost_estimate, cost_actual, result_url, subtitles_url, thumbnail_url, error_code, "
	                   "error_message, error_stage, error_shot, script, state, created_at, updated_at, "
	                   "completed_at, lease_owner, lease_until, compose_generation) VALUES "
	                   "($1,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,"
	                   "$24,$25,$26,$27,$28,$29,$30,$31,$32,$33,$34,$35) RETURNING seq",
	[ST_TASK_GET] = "SELECT " TASK_COLS " FROM tasks WHERE id = $1",
	[ST_TASK_GET_LOCK] = "SELECT " TASK_COLS " FROM tasks WHERE id = $1 FOR UPDATE",
	[ST_TASK_UPDATE] = "UPDATE tasks SET status=$4, progress=$5, shots_done=$6, shots_total=$7, narration=$14, "
	                   "music=$15, subtitles=$16, cost_actual=$20, result_url=$21, subtitles_url=$22, "
	                   "thumbnail_url=$23, error_code=$24, error_message=$25, error_stage=$26, error_shot=$27, "
	                   "script=$28, state=$29, updated_at=$31, completed_at=$32, lease_owner=$33, "
	                   "lease_until=$34, compose_generation=$35 WHERE id = $1",
	[ST_TASK_LIST] = "SELECT " TASK_COLS " FROM tasks WHERE key_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
	[ST_TASK_LIST_STATUS] = "SELECT " TASK_COLS " FROM tasks WHERE key_id = $1 AND seq < $2 AND status = $4 "
	                        "ORDER BY seq DESC LIMIT $3",
	[ST_SEG_INSERT] = "INSERT INTO segments (" SEG_COLS ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
	[ST_SEG_LIST] = "SELECT " SEG_COLS " FROM segments WHERE task_id = $1 ORDER BY idx",
	[ST_SEG_UPDATE] = "UPDATE segments SET status=$7, job_id=$8, job_state=$9, output=$10, attempts=$11, "
	                  "error=$12, updated_at=$13, billed_seconds=$5, price=$6 WHERE task_id=$1 AND idx=$2",
	[ST_IDEM_GET] = "SELECT key_id, idem_key, request_hash, task_id, created_at FROM idempotency "
	                "WHERE key_id = $1 AND idem_key = $2",
	[ST_IDEM_INSERT] = "INSERT INTO idempotency (key_id, idem_key, request_hash, task_id, created_at) "
	                   "VALUES ($1,$2,$3,$4,$5)",
	[ST_IDEM_PURGE] = "DELETE FROM idempotency WHERE created_at < $1",
	/* The lease runs from the database's clock: $2 is its length in ms. */
	[ST_CLAIM] = "UPDATE tasks SET lease_owner = $1, lease_until = " DB_NOW " + $2 WHERE seq = "
	             "(SELECT seq FROM tasks WHERE status NOT IN " TERMINAL " AND (lease_until IS NULL OR "
	             "lease_until < " DB_NOW ") ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " TASK_COLS,
	[ST_LEASE_RENEW] = "UPDATE tasks SET lease_until = " DB_NOW " + $2 WHERE lease_owner = $1 AND "
	                   "lease_until >= " DB_NOW " AND status NOT IN " TERMINAL,
	[ST_LEASE_RELEASE] = "UPDATE tasks SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
	/* One atomic upsert per request: concurrent requests of one key in one window add up. */
	[ST_RATE_HIT] = "WITH w AS (SELECT lv_now_ms() AS now) "
	                "INSERT INTO rate_counters (key_id, window_start, hits) "
	                "SELECT $1, (w.now / $2::bigint) * $2::bigint, 1 FROM w "
	                "ON CONFLICT (key_id, window_start) DO UPDATE SET hits = rate_counters.hits + 1 "
	                "RETURNING hits, window_start + $2::bigint - (SELECT now FROM w)",
	[ST_RATE_PURGE] = "DELETE FROM rate_counters WHERE key_id = $1 "
	                  "AND window_start < (lv_now_ms() / $2::bigint) * $2::bigint",
	[ST_OUTBOX_INSERT] = "INSERT INTO webhook_outbox (" OUTBOX_COLS ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
	[ST_OUTBOX_DUE] = "SELECT " OUTBOX_COLS " FROM webhook_outbox WHERE status = 'pending' "
	                  "AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
	[ST_OUTBOX_DUE_LOCK] = "SELECT " OUTBOX_COLS " FROM webhook_outbox WHERE status = 'pending' "
	                       "AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED",
	[ST_OUTBOX_UPDATE] = "UPDATE webhook_outbox SET attempts=$6, next_attempt_at=$7, status=$8, last_error=$9, "
	                     "last_status=$10, updated_at=$12 WHERE id=$1",
	[ST_OUTBOX_TASK] = "SELECT " OUTBOX_COLS " FROM webhook_outbox WHERE task_id = $1 ORDER BY created_at, id",
	[ST_LEASE_HELD] = "SELECT id FROM tasks WHERE lease_owner = $1",
	[ST_LEDGER_LIST] = "SELECT id, key_id, task_id, kind, amount, created_at FROM ledger "
	                   "WHERE key_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
	[ST_EVENT_NEXT] = "SELECT COALESCE(MAX(seq), 0) + 1 FROM task_events WHERE task_id = $1",
	[ST_EVENT_INSERT] = "INSERT INTO task_events (task_id, seq, data, created_at) VALUES ($1,$2,$3,$4)",
	[ST_EVENT_PRUNE] = "DELETE FROM task_events WHERE task_id = $1 AND seq <= $2",
	[ST_EVENT_LAST] = "SELECT seq, data, created_at FROM task_events WHERE task_id = $1 ORDER BY seq DESC LIMIT 1",
	[ST_EVENT_LIST] = "SELECT seq, data, created_at FROM task_events WHERE task_id = $1 AND seq > $2 "
	                  "ORDER BY seq LIMIT $3",
	[ST_EVENT_FIRST] = "SELECT COALESCE(MIN(seq), 0) FROM task_events WHERE task_id = $1",
	[ST_TASK_COUNTS] = "SELECT status, COUNT(*) FROM tasks GROUP BY status",
	[ST_OUTBOX_COUNTS] = "SELECT status, COUNT(*) FROM webhook_outbox GROUP BY status",
	[ST_CREDIT_TOTALS] = "SELECT COALESCE(SUM(granted), 0), COALESCE(SUM(balance), 0), COALESCE(SUM(reserved), 0) "
	                     "FROM api_keys",
	[ST_CLOCK] = "SELECT " DB_NOW,
};

typedef struct conn {
	PGconn *db;
	unsigned char prepared[ST_COUNT];
	struct conn *next;
} conn;

typedef struct pg_store {
	lv_store base;
	char *uri;
	char *password; /* from store_password_env, or NULL */
	char where[256]; /* "host H port P database D", for messages */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	conn *idle;
	int open_count;
	int max_open;
	/* The LISTEN connection behind change_counter, in a thread of its own. */
	pthread_mutex_t lmu;
	pthread_t listener;
	int listener_state; /* 0 not started, 1 running, -1 could not start */
	int listening;      /* LISTEN is in effect now */
	uint64_t changes;   /* notifications seen, +1 at every (re)connection and loss */
	int stop_pipe[2];   /* closing the write end stops the listener */
} pg_store;

struct lv_store_tx {
	pg_store *store;
	conn *c;
	int write;
	int broken;
};

/* Bound parameters: text, NULL for SQL NULL. */
typedef struct params {
	const char *v[MAX_PARAMS];
	char num[MAX_PARAMS][24];
	int n;
} params;

static void p_text(params *p, int i, const char *s)
{
	p->v[i - 1] = s;
	if (i > p->n)
		p->n = i;
}

static void p_int(params *p, int i, int64_t v)
{
	snprintf(p->num[i - 1], sizeof(p->num[0]), "%" PRId64, v);
	p_text(p, i, p->num[i - 1]);
}

static void p_opt(params *p, int i, int64_t v, int64_t null_value)
{
	if (v == null_value)
		p_text(p, i, NULL);
	else
		p_int(p, i, v);
}

/* ---- errors ---------------------------------------------------------------------------------------------- */

/* SQL text and connection strings never reach a user: the message names the operation and the
 * server's reason.  Serialization failures, deadlocks and lost connections mean "try again". */
static int result_error(lv_store_tx *tx, PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (PQstatus(tx->c->db) == CONNECTION_BAD) {
		tx->broken = 1;
		return lv_error_set(LV_EBUSY, "store: %s: lost the connection to PostgreSQL (%s)", what,
		                    tx->store->where);
	}
	if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")))
		return lv_error_set(LV_EBUSY, "store: %s: concurrent update, try again", what);
	if (!msg)
		msg = PQerrorMessage(tx->c->db);
	return lv_error_set(LV_ESTORE, "store: %s: %s", what, msg && *msg ? msg : "unknown PostgreSQL error");
}

static int is_unique_violation(PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	return state && !strcmp(state, "23505");
}

/* ---- statements ------------------------------------------------------------------------------------------- */

static int prepare(lv_store_tx *tx, int id, int nparams)
{
	Oid types[MAX_PARAMS];
	char name[16], ref[8];
	PGresult *res;
	int i;
	if (tx->c->prepared[id])
		return LV_OK;
	/* A parameter the statement does not use (records bind every column) is declared text. */
	for (i = 0; i < nparams && i < MAX_PARAMS; i++) {
		const char *at = sql_text[id];
		size_t len = (size_t)snprintf(ref, sizeof(ref), "$%d", i + 1);
		types[i] = 25; /* TEXTOID */
		while ((at = strstr(at, ref)) != NULL) {
			at += len;
			if (*at < '0' || *at > '9') {
				types[i] = 0; /* inferred */
				break;
			}
		}
	}
	snprintf(name, sizeof(name), "lv%d", id);
	res = PQprepare(tx->c->db, name, sql_text[id], nparams, types);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		int rc = result_error(tx, res, "prepare");
		PQclear(res);
		return rc;
	}
	PQclear(res);
	tx->c->prepared[id] = 1;
	return LV_OK;
}

/* Run a prepared statement; on failure returns NULL with the error recorded in *rc. */
static PGresult *run(lv_store_tx *tx, int id, const params *p, const char *what, int *rc)
{
	char name[16];
	PGresult *res;
	ExecStatusType s;
	*rc = LV_OK;
	if ((*rc = prepare(tx, id, p->n)))
		return NULL;
	snprintf(name, sizeof(name), "lv%d", id);
	res = PQexecPrepared(tx->c->db, name, p->n, p->v, NULL, NULL, 0);
	s = PQresultStatus(res);
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return res;
	*rc = result_error(tx, res, what);
	PQclear(res);
	return NULL;
}

static int run_done(lv_store_tx *tx, int id, const params *p, const char *what)
{
	int rc;
	PGresult *res = run(tx, id, p, what, &rc);
	PQclear(res);
	return rc;
}

static PGresult *exec_simple(PGconn *db, const char *sql)
{
	PGresult *res = PQexec(db, sql);
	ExecStatusType s = PQresultStatus(res);
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return res;
	PQclear(res);
	return NULL;
}

/* ---- reading ---------------------------------------------------------------------------------------------- */

static int col_dup(char **dst, PGresult *r, int row, int i)
{
	*dst = NULL;
	if (PQgetisnull(r, row, i))
		return LV_OK;
	*dst = lv_strdup(PQgetvalue(r, row, i));
	return *dst ? LV_OK : LV_ENOMEM;
}

static void col_copy(char *dst, size_t cap, PGresult *r, int row, int i)
{
	lv_strlcpy(dst, PQgetisnull(r, row, i) ? "" : PQgetvalue(r, row, i), cap);
}

static int64_t col_int(PGresult *r, int row, int i)
{
	return PQgetisnull(r, row, i) ? 0 : (int64_t)strtoll(PQgetvalue(r, row, i), NULL, 10);
}

static int64_t col_opt(PGresult *r, int row, int i, int64_t null_value)
{
	return PQgetisnull(r, row, i) ? null_value : (int64_t)strtoll(PQgetvalue(r, row, i), NULL, 10);
}

static const char *col_str(PGresult *r, int row, int i)
{
	return PQgetisnull(r, row, i) ? NULL : PQgetvalue(r, row, i);
}

/* Read every row of r into a fresh array with a row reader. */
#define COLLECT(r, type, reader, freefn, out, n)                                 \
	do {                                                                     \
		int rows_ = PQntuples(r), i_;                                    \
		type *arr_ = rows_ ? lv_calloc((size_t)rows_, sizeof(type)) : NULL; \
		if (rows_ && !arr_) {                                            \
			PQclear(r);                                              \
			return LV_ENOMEM;                                        \
		}                                                                \
		for (i_ = 0; i_ < rows_; i_++)                                   \
			if (reader(r, i_, &arr_[i_])) {                          \
				freefn(arr_, (size_t)i_);                        \
				PQclear(r);                                      \
				return LV_ENOMEM;                                \
			}                                                        \
		PQclear(r);                                                      \
		*(out) = arr_;                                                   \
		*(n) = (size_t)rows_;                                            \
	} while (0)

/* ---- connections --------------------------------------------------------------------------------------- */

static void conn_close(conn *c)
{
	if (!c)
		return;
	PQfinish(c->db);
	free(c);
}

/* Connection parameters: the URI as given; connect_timeout defaults to 10 s (the URI may set its
 * own), the password comes from the variable named by store_password_env when there is one. */
static void conn_params(const pg_store *s, const char *app, const char *keys[6], const char *vals[6])
{
	int n = 0;
	keys[n] = "connect_timeout";
	vals[n++] = CONNECT_TIMEOUT_S;
	keys[n] = "fallback_application_name";
	vals[n++] = app;
	keys[n] = "dbname";
	vals[n++] = s->uri;
	if (s->password) {
		keys[n] = "password";
		vals[n++] = s->password;
	}
	keys[n] = NULL;
	vals[n] = NULL;
}

static PGconn *connect_db(const pg_store *s)
{
	const char *keys[6], *vals[6];
	conn_params(s, "liblongvideo", keys, vals);
	return PQconnectdbParams(keys, vals, 1);
}

static int conn_open(pg_store *s, conn **out)
{
	conn *c = lv_calloc(1, sizeof(*c));
	PGresult *res;
	*out = NULL;
	if (!c)
		return LV_ENOMEM;
	c->db = connect_db(s);
	if (!c->db || PQstatus(c->db) != CONNECTION_OK) {
		const char *why = c->db ? PQerrorMessage(c->db) : "out of memory";
		char reason[512];
		size_t len;
		lv_strlcpy(reason, why && *why ? why : "unknown reason", sizeof(reason));
		len = strlen(reason);
		while (len > 0 && (reason[len - 1] == '\n' || reason[len - 1] == ' '))
			reason[--len] = '\0';
		for (len = 0; reason[len]; len++) /* one line: libpq's hints come on lines of their own */
			if (reason[len] == '\n' || reason[len] == '\t')
				reason[len] = ' ';
		lv_error_set(LV_EBUSY, "store: cannot connect to PostgreSQL at %s: %s", s->where, reason);
		conn_close(c);
		return LV_EBUSY;
	}
	/* Quiet NOTICEs; UTC; no statement runs for ever. */
	res = exec_simple(c->db, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
	if (!res) {
		lv_error_set(LV_ESTORE, "store: cannot configure the connection to %s: %s", s->where,
		             PQerrorMessage(c->db));
		conn_close(c);
		return LV_ESTORE;
	}
	PQclear(res);
	*out = c;
	return LV_OK;
}

static int acquire(pg_store *s, conn **out)
{
	conn *c = NULL;
	int rc;
	pthread_mutex_lock(&s->mu);
	while (!s->idle && s->open_count >= s->max_open)
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
	if ((rc = conn_open(s, &c))) {
		pthread_mutex_lock(&s->mu);
		s->open_count--;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		return rc;
	}
	*out = c;
	return LV_OK;
}

static void release(pg_store *s, conn *c, int broken)
{
	if (!broken && PQstatus(c->db) != CONNECTION_OK)
		broken = 1;
	pthread_mutex_lock(&s->mu);
	if (broken) {
		s->open_count--;
	} else {
		c->next = s->idle;
		s->idle = c;
	}
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (broken)
		conn_close(c);
}

/* ---- transactions -------------------------------------------------------------------------------------- */

static int pg_begin(lv_store *base, int write, lv_store_tx **out)
{
	pg_store *s = (pg_store *)base;
	lv_store_tx *tx = lv_calloc(1, sizeof(*tx));
	PGresult *res;
	int rc;
	*out = NULL;
	if (!tx)
		return LV_ENOMEM;
	tx->store = s;
	tx->write = write;
	if ((rc = acquire(s, &tx->c))) {
		free(tx);
		return rc;
	}
	res = PQexec(tx->c->db, write ? "BEGIN ISOLATION LEVEL READ COMMITTED"
	                              : "BEGIN ISOLATION LEVEL REPEATABLE READ");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = result_error(tx, res, "begin");
		PQclear(res);
		release(s, tx->c, 1);
		free(tx);
		return rc;
	}
	PQclear(res);
	*out = tx;
	return LV_OK;
}

static int pg_commit(lv_store_tx *tx)
{
	PGresult *res = PQexec(tx->c->db, "COMMIT");
	int rc = LV_OK;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (PQstatus(tx->c->db) == CONNECTION_BAD) {
			/* The outcome is unknown: never retry blindly. */
			tx->broken = 1;
			rc = lv_error_set(LV_ESTORE, "store: commit: lost the connection to PostgreSQL (%s)",
			                  tx->store->where);
		} else if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01"))) {
			rc = lv_error_set(LV_EBUSY, "store: commit: concurrent update, try again");
		} else {
			rc = result_error(tx, res, "commit");
		}
	} else {
		/* COMMIT of an aborted transaction answers ROLLBACK. */
		const char *tag = PQcmdStatus(res);
		if (tag && !strcmp(tag, "ROLLBACK"))
			rc = lv_error_set(LV_ESTORE, "store: commit: the transaction had failed and was rolled back");
	}
	PQclear(res);
	if (rc && !tx->broken && PQtransactionStatus(tx->c->db) != PQTRANS_IDLE)
		PQclear(PQexec(tx->c->db, "ROLLBACK"));
	release(tx->store, tx->c, tx->broken);
	free(tx);
	return rc;
}

static void pg_rollback(lv_store_tx *tx)
{
	if (!tx)
		return;
	if (!tx->broken && PQtransactionStatus(tx->c->db) != PQTRANS_IDLE)
		PQclear(PQexec(tx->c->db, "ROLLBACK"));
	release(tx->store, tx->c, tx->broken);
	free(tx);
}

/* ---- keys and ledger ------------------------------------------------------------------------------------------ */

static int read_key(PGresult *r, int row, lv_key_rec *k)
{
	memset(k, 0, sizeof(*k));
	col_copy(k->id, sizeof(k->id), r, row, 0);
	if (col_dup(&k->name, r, row, 1))
		return LV_ENOMEM;
	col_copy(k->hash, sizeof(k->hash), r, row, 2);
	col_copy(k->prefix, sizeof(k->prefix), r, row, 3);
	col_copy(k->webhook_salt, sizeof(k->webhook_salt), r, row, 4);
	k->created_at = col_int(r, row, 5);
	k->revoked_at = col_opt(r, row, 6, 0);
	k->balance = col_int(r, row, 7);
	k->reserved = col_int(r, row, 8);
	k->granted = col_int(r, row, 9);
	return LV_OK;
}

static int pg_key_insert(lv_store_tx *tx, const lv_key_rec *k)
{
	params p = { 0 };
	p_text(&p, 1, k->id);
	p_text(&p, 2, k->name);
	p_text(&p, 3, k->hash);
	p_text(&p, 4, k->prefix);
	p_text(&p, 5, k->webhook_salt);
	p_int(&p, 6, k->created_at);
	p_opt(&p, 7, k->revoked_at, 0);
	p_int(&p, 8, k->balance);
	p_int(&p, 9, k->reserved);
	p_int(&p, 10, k->granted);
	return run_done(tx, ST_KEY_INSERT, &p, "insert key");
}

static int get_one_key(lv_store_tx *tx, int id, const char *arg, lv_key_rec *out)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, arg);
	if (!(r = run(tx, id, &p, "read key", &rc)))
		return rc;
	rc = PQntuples(r) > 0 ? read_key(r, 0, out) : LV_ENOTFOUND;
	PQclear(r);
	return rc;
}

static int pg_key_get(lv_store_tx *tx, const char *id, int for_update, lv_key_rec *out)
{
	return get_one_key(tx, for_update && tx->write ? ST_KEY_GET_LOCK : ST_KEY_GET, id, out);
}

static int pg_key_by_hash(lv_store_tx *tx, const char *hash, lv_key_rec *out)
{
	return get_one_key(tx, ST_KEY_BY_HASH, hash, out);
}

static int pg_key_list(lv_store_tx *tx, lv_key_rec **out, size_t *n)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	if (!(r = run(tx, ST_KEY_LIST, &p, "list keys", &rc)))
		return rc;
	COLLECT(r, lv_key_rec, read_key, lv_key_recs_free, out, n);
	return LV_OK;
}

static int pg_key_update(lv_store_tx *tx, const lv_key_rec *k)
{
	params p = { 0 };
	p_text(&p, 1, k->id);
	p_text(&p, 2, k->name);
	p_opt(&p, 3, k->revoked_at, 0);
	p_int(&p, 4, k->balance);
	p_int(&p, 5, k->reserved);
	p_int(&p, 6, k->granted);
	return run_done(tx, ST_KEY_UPDATE, &p, "update key");
}

static int pg_ledger_append(lv_store_tx *tx, const lv_ledger_entry *e)
{
	params p = { 0 };
	p_text(&p, 1, e->key_id);
	p_text(&p, 2, e->task_id[0] ? e->task_id : NULL);
	p_text(&p, 3, lv_ledger_kind_name(e->kind));
	p_int(&p, 4, e->amount);
	p_int(&p, 5, e->created_at);
	return run_done(tx, ST_LEDGER_APPEND, &p, "append to ledger");
}

static int pg_ledger_sums(lv_store_tx *tx, const char *key_id, const char *task_id, int64_t sums[LV_LEDGER_KINDS])
{
	params p = { 0 };
	PGresult *r;
	int rc, i;
	for (i = 0; i < LV_LEDGER_KINDS; i++)
		sums[i] = 0;
	p_text(&p, 1, task_id ? task_id : key_id);
	if (!(r = run(tx, task_id ? ST_LEDGER_SUMS_TASK : ST_LEDGER_SUMS_KEY, &p, "sum ledger", &rc)))
		return rc;
	for (i = 0; i < PQntuples(r); i++) {
		int kind = lv_ledger_kind_parse(col_str(r, i, 0));
		if (kind >= 0)
			sums[kind] = col_int(r, i, 1);
	}
	PQclear(r);
	return LV_OK;
}

/* ---- tasks --------------------------------------------------------------------------------------------------- */

static void bind_task(params *p, const lv_task_rec *t)
{
	p_text(p, 1, t->id);
	p_text(p, 2, NULL);
	p_text(p, 3, t->key_id);
	p_text(p, 4, lv_task_status_name((lv_task_status)t->status));
	p_int(p, 5, t->progress);
	p_int(p, 6, t->shots_done);
	p_int(p, 7, t->shots_total);
	p_text(p, 8, t->prompt);
	p_int(p, 9, t->duration);
	p_text(p, 10, t->resolution);
	p_text(p, 11, t->aspect_ratio);
	p_text(p, 12, t->provider);
	p_text(p, 13, t->language);
	p_int(p, 14, t->narration);
	p_int(p, 15, t->music);
	p_text(p, 16, lv_subtitles_name(t->subtitles));
	p_text(p, 17, t->webhook_url);
	p_text(p, 18, t->metadata ? t->metadata : "{}");
	p_int(p, 19, t->cost_estimate);
	p_opt(p, 20, t->cost_actual, -1);
	p_text(p, 21, t->result_url);
	p_text(p, 22, t->subtitles_url);
	p_text(p, 23, t->thumbnail_url);
	p_text(p, 24, t->error_code);
	p_text(p, 25, t->error_message);
	p_text(p, 26, t->error_stage >= 0 ? lv_task_status_name((lv_task_status)t->error_stage) : NULL);
	p_opt(p, 27, t->error_shot, -1);
	p_text(p, 28, t->script);
	p_text(p, 29, t->state);
	p_int(p, 30, t->created_at);
	p_int(p, 31, t->updated_at);
	p_opt(p, 32, t->completed_at, 0);
	p_text(p, 33, t->lease_owner);
	p_opt(p, 34, t->lease_until, 0);
	p_int(p, 35, t->compose_generation);
}

static int parse_status(const char *s)
{
	lv_task_status v;
	return s && lv_task_status_parse(&v, s) == LV_OK ? (int)v : -1;
}

static int read_task(PGresult *r, int row, lv_task_rec *t)
{
	memset(t, 0, sizeof(*t));
	col_copy(t->id, sizeof(t->id), r, row, 0);
	t->seq = col_int(r, row, 1);
	col_copy(t->key_id, sizeof(t->key_id), r, row, 2);
	t->status = parse_status(col_str(r, row, 3));
	t->progress = (int)col_int(r, row, 4);
	t->shots_done = (int)col_int(r, row, 5);
	t->shots_total = (int)col_int(r, row, 6);
	t->duration = (int)col_int(r, row, 8);
	col_copy(t->resolution, sizeof(t->resolution), r, row, 9);
	col_copy(t->aspect_ratio, sizeof(t->aspect_ratio), r, row, 10);
	col_copy(t->language, sizeof(t->language), r, row, 12);
	t->narration = (int)col_int(r, row, 13);
	t->music = (int)col_int(r, row, 14);
	t->subtitles = lv_subtitles_parse(col_str(r, row, 15));
	t->cost_estimate = col_int(r, row, 18);
	t->cost_actual = col_opt(r, row, 19, -1);
	t->error_stage = PQgetisnull(r, row, 25) ? -1 : parse_status(col_str(r, row, 25));
	t->error_shot = (int)col_opt(r, row, 26, -1);
	t->created_at = col_int(r, row, 29);
	t->updated_at = col_int(r, row, 30);
	t->completed_at = col_opt(r, row, 31, 0);
	t->lease_until = col_opt(r, row, 33, 0);
	t->compose_generation = (int)col_int(r, row, 34);
	if (col_dup(&t->prompt, r, row, 7) || col_dup(&t->provider, r, row, 11) ||
	    col_dup(&t->webhook_url, r, row, 16) || col_dup(&t->metadata, r, row, 17) ||
	    col_dup(&t->result_url, r, row, 20) || col_dup(&t->subtitles_url, r, row, 21) ||
	    col_dup(&t->thumbnail_url, r, row, 22) || col_dup(&t->error_code, r, row, 23) ||
	    col_dup(&t->error_message, r, row, 24) || col_dup(&t->script, r, row, 27) ||
	    col_dup(&t->state, r, row, 28) || col_dup(&t->lease_owner, r, row, 32)) {
		lv_task_rec_clear(t);
		return LV_ENOMEM;
	}
	return LV_OK;
}

static int pg_task_insert(lv_store_tx *tx, lv_task_rec *t)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	bind_task(&p, t);
	if (!(r = run(tx, ST_TASK_INSERT, &p, "insert task", &rc)))
		return rc;
	t->seq = PQntuples(r) > 0 ? col_int(r, 0, 0) : 0;
	PQclear(r);
	return LV_OK;
}

static int pg_task_get(lv_store_tx *tx, const char *id, int for_update, lv_task_rec *out)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, id);
	if (!(r = run(tx, for_update && tx->write ? ST_TASK_GET_LOCK : ST_TASK_GET, &p, "read task", &rc)))
		return rc;
	rc = PQntuples(r) > 0 ? read_task(r, 0, out) : LV_ENOTFOUND;
	PQclear(r);
	return rc;
}

static int pg_task_update(lv_store_tx *tx, const lv_task_rec *t)
{
	params p = { 0 };
	bind_task(&p, t);
	return run_done(tx, ST_TASK_UPDATE, &p, "update task");
}

static int pg_task_list(lv_store_tx *tx, const char *key_id, int64_t before_seq, int status, int limit,
                        lv_task_rec **out, size_t *n)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, key_id);
	p_int(&p, 2, before_seq > 0 ? before_seq : INT64_MAX);
	p_int(&p, 3, limit);
	if (status >= 0)
		p_text(&p, 4, lv_task_status_name((lv_task_status)status));
	if (!(r = run(tx, status >= 0 ? ST_TASK_LIST_STATUS : ST_TASK_LIST, &p, "list tasks", &rc)))
		return rc;
	COLLECT(r, lv_task_rec, read_task, lv_task_recs_free, out, n);
	return LV_OK;
}

/* ---- segments ------------------------------------------------------------------------------------------------- */

static void bind_segment(params *p, const lv_segment_rec *s)
{
	p_text(p, 1, s->task_id);
	p_int(p, 2, s->idx);
	p_int(p, 3, s->start);
	p_int(p, 4, s->seconds);
	p_int(p, 5, s->billed_seconds);
	p_int(p, 6, s->price);
	p_text(p, 7, lv_segment_status_name(s->status));
	p_text(p, 8, s->job_id);
	p_text(p, 9, s->job_state);
	p_text(p, 10, s->output);
	p_int(p, 11, s->attempts);
	p_text(p, 12, s->error);
	p_int(p, 13, s->updated_at);
}

static int read_segment(PGresult *r, int row, lv_segment_rec *s)
{
	memset(s, 0, sizeof(*s));
	col_copy(s->task_id, sizeof(s->task_id), r, row, 0);
	s->idx = (int)col_int(r, row, 1);
	s->start = (int)col_int(r, row, 2);
	s->seconds = (int)col_int(r, row, 3);
	s->billed_seconds = (int)col_int(r, row, 4);
	s->price = col_int(r, row, 5);
	s->status = lv_segment_status_parse(col_str(r, row, 6));
	s->attempts = (int)col_int(r, row, 10);
	s->updated_at = col_int(r, row, 12);
	if (col_dup(&s->job_id, r, row, 7) || col_dup(&s->job_state, r, row, 8) || col_dup(&s->output, r, row, 9) ||
	    col_dup(&s->error, r, row, 11)) {
		lv_segment_rec_clear(s);
		return LV_ENOMEM;
	}
	return LV_OK;
}

static int pg_segment_insert(lv_store_tx *tx, const lv_segment_rec *s)
{
	params p = { 0 };
	bind_segment(&p, s);
	return run_done(tx, ST_SEG_INSERT, &p, "insert segment");
}

static int pg_segment_list(lv_store_tx *tx, const char *task_id, lv_segment_rec **out, size_t *n)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, task_id);
	if (!(r = run(tx, ST_SEG_LIST, &p, "list segments", &rc)))
		return rc;
	COLLECT(r, lv_segment_rec, read_segment, lv_segment_recs_free, out, n);
	return LV_OK;
}

static int pg_segment_update(lv_store_tx *tx, const lv_segment_rec *s)
{
	params p = { 0 };
	bind_segment(&p, s);
	return run_done(tx, ST_SEG_UPDATE, &p, "update segment");
}

/* ---- idempotency ------------------------------------------------------------------------------------------------ */

static int pg_idem_get(lv_store_tx *tx, const char *key_id, const char *idem_key, lv_idem_rec *out)
{
	params p = { 0 };
	PGresult *r;
	int rc = LV_ENOTFOUND;
	p_text(&p, 1, key_id);
	p_text(&p, 2, idem_key);
	if (!(r = run(tx, ST_IDEM_GET, &p, "read idempotency key", &rc)))
		return rc;
	if (PQntuples(r) > 0) {
		memset(out, 0, sizeof(*out));
		col_copy(out->key_id, sizeof(out->key_id), r, 0, 0);
		rc = col_dup(&out->idem_key, r, 0, 1);
		col_copy(out->request_hash, sizeof(out->request_hash), r, 0, 2);
		col_copy(out->task_id, sizeof(out->task_id), r, 0, 3);
		out->created_at = col_int(r, 0, 4);
	} else {
		rc = LV_ENOTFOUND;
	}
	PQclear(r);
	return rc;
}

static int pg_idem_insert(lv_store_tx *tx, const lv_idem_rec *r)
{
	params p = { 0 };
	PGresult *res;
	char name[16];
	int rc;
	p_text(&p, 1, r->key_id);
	p_text(&p, 2, r->idem_key);
	p_text(&p, 3, r->request_hash);
	p_text(&p, 4, r->task_id);
	p_int(&p, 5, r->created_at);
	if ((rc = prepare(tx, ST_IDEM_INSERT, p.n)))
		return rc;
	snprintf(name, sizeof(name), "lv%d", ST_IDEM_INSERT);
	res = PQexecPrepared(tx->c->db, name, p.n, p.v, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		PQclear(res);
		return LV_OK;
	}
	/* Another process recorded the same key first: retrying the whole transaction finds its
	 * record and replays it. */
	if (is_unique_violation(res))
		rc = lv_error_set(LV_EBUSY, "store: record idempotency key: recorded concurrently, try again");
	else
		rc = result_error(tx, res, "record idempotency key");
	PQclear(res);
	return rc;
}

static int pg_idem_purge(lv_store_tx *tx, int64_t created_before)
{
	params p = { 0 };
	p_int(&p, 1, created_before);
	return run_done(tx, ST_IDEM_PURGE, &p, "purge idempotency keys");
}

/* ---- pipeline leases --------------------------------------------------------------------------------------------- */

static int pg_task_claim(lv_store_tx *tx, const char *owner, int64_t now, int64_t lease_until, lv_task_rec *out)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, owner);
	p_int(&p, 2, lease_until - now);
	if (!(r = run(tx, ST_CLAIM, &p, "claim a task", &rc)))
		return rc;
	rc = PQntuples(r) > 0 ? read_task(r, 0, out) : LV_ENOTFOUND;
	PQclear(r);
	return rc;
}

static int pg_lease_renew(lv_store_tx *tx, const char *owner, int64_t now, int64_t lease_until)
{
	params p = { 0 };
	p_text(&p, 1, owner);
	p_int(&p, 2, lease_until - now);
	return run_done(tx, ST_LEASE_RENEW, &p, "renew leases");
}

static int pg_lease_release(lv_store_tx *tx, const char *owner)
{
	params p = { 0 };
	p_text(&p, 1, owner);
	return run_done(tx, ST_LEASE_RELEASE, &p, "release leases");
}

/* ---- shared rate-limit counters ---------------------------------------------------------------------------------- */

static int pg_rate_hit(lv_store_tx *tx, const char *key_id, int64_t window_ms, int64_t *count, int64_t *left_ms)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, key_id);
	p_int(&p, 2, window_ms);
	if (!(r = run(tx, ST_RATE_HIT, &p, "count a request", &rc)))
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return lv_error_set(LV_EINTERNAL, "store: counting a request returned no row");
	}
	*count = col_int(r, 0, 0);
	*left_ms = col_int(r, 0, 1);
	PQclear(r);
	if (*count != 1)
		return LV_OK;
	/* The key's first request of a window removes its counters of the windows before (same params). */
	return run_done(tx, ST_RATE_PURGE, &p, "remove old request counters");
}

/* ---- webhook outbox ------------------------------------------------------------------------------------------------- */

static void bind_outbox(params *p, const lv_outbox_rec *r)
{
	p_text(p, 1, r->id);
	p_text(p, 2, r->task_id);
	p_text(p, 3, r->key_id);
	p_text(p, 4, r->url);
	p_text(p, 5, r->payload);
	p_int(p, 6, r->attempts);
	p_int(p, 7, r->next_attempt_at);
	p_text(p, 8, lv_outbox_status_name(r->status));
	p_text(p, 9, r->last_error);
	p_int(p, 10, r->last_status);
	p_int(p, 11, r->created_at);
	p_int(p, 12, r->updated_at);
}

static int read_outbox(PGresult *res, int row, lv_outbox_rec *r)
{
	memset(r, 0, sizeof(*r));
	col_copy(r->id, sizeof(r->id), res, row, 0);
	col_copy(r->task_id, sizeof(r->task_id), res, row, 1);
	col_copy(r->key_id, sizeof(r->key_id), res, row, 2);
	r->attempts = (int)col_int(res, row, 5);
	r->next_attempt_at = col_int(res, row, 6);
	r->status = lv_outbox_status_parse(col_str(res, row, 7));
	r->last_status = (int)col_int(res, row, 9);
	r->created_at = col_int(res, row, 10);
	r->updated_at = col_int(res, row, 11);
	if (col_dup(&r->url, res, row, 3) || col_dup(&r->payload, res, row, 4) || col_dup(&r->last_error, res, row, 8)) {
		lv_outbox_rec_clear(r);
		return LV_ENOMEM;
	}
	return LV_OK;
}

static int pg_outbox_insert(lv_store_tx *tx, const lv_outbox_rec *r)
{
	params p = { 0 };
	bind_outbox(&p, r);
	return run_done(tx, ST_OUTBOX_INSERT, &p, "queue webhook");
}

static int pg_outbox_due(lv_store_tx *tx, int64_t now, int limit, lv_outbox_rec **out, size_t *n)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_int(&p, 1, now);
	p_int(&p, 2, limit);
	/* In a write transaction the rows are claimed: another sender skips them. */
	if (!(r = run(tx, tx->write ? ST_OUTBOX_DUE_LOCK : ST_OUTBOX_DUE, &p, "read due webhooks", &rc)))
		return rc;
	COLLECT(r, lv_outbox_rec, read_outbox, lv_outbox_recs_free, out, n);
	return LV_OK;
}

static int pg_outbox_update(lv_store_tx *tx, const lv_outbox_rec *r)
{
	params p = { 0 };
	bind_outbox(&p, r);
	return run_done(tx, ST_OUTBOX_UPDATE, &p, "update webhook");
}

static int pg_outbox_for_task(lv_store_tx *tx, const char *task_id, lv_outbox_rec **out, size_t *n)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, task_id);
	if (!(r = run(tx, ST_OUTBOX_TASK, &p, "read webhooks", &rc)))
		return rc;
	COLLECT(r, lv_outbox_rec, read_outbox, lv_outbox_recs_free, out, n);
	return LV_OK;
}

/* ---- wake-up hints: LISTEN/NOTIFY ---------------------------------------------------------------------------------- */

static void listen_count(pg_store *s, int listening)
{
	pthread_mutex_lock(&s->lmu);
	if (listening >= 0)
		s->listening = listening;
	s->changes++;
	pthread_mutex_unlock(&s->lmu);
}

/* Wait up to `ms` for `events` on `sock` (-1: none) or for the stop pipe: 1 when stopping, else 0
 * with *ready telling whether the socket is ready. */
static int listen_wait(pg_store *s, int sock, short events, int ms, int *ready)
{
	struct pollfd fds[2];
	nfds_t n = 1;
	fds[0].fd = s->stop_pipe[0];
	fds[0].events = POLLIN;
	fds[0].revents = 0;
	if (sock >= 0) {
		fds[1].fd = sock;
		fds[1].events = events;
		fds[1].revents = 0;
		n = 2;
	}
	*ready = 0;
	if (poll(fds, n, ms) < 0)
		return 0; /* interrupted: the caller looks again */
	if (fds[0].revents)
		return 1;
	*ready = n == 2 && fds[1].revents != 0;
	return 0;
}

/* Connect without blocking a stop: 1 connected (*out), 0 failed, -1 stopping. */
static int listen_connect(pg_store *s, PGconn **out)
{
	const char *keys[6], *vals[6];
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	PGconn *db;
	int ready;
	*out = NULL;
	conn_params(s, "liblongvideo listener", keys, vals);
	db = PQconnectStartParams(keys, vals, 1);
	if (!db || PQstatus(db) == CONNECTION_BAD) {
		PQfinish(db);
		return 0;
	}
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED) {
			PQfinish(db);
			return 0;
		}
		if (listen_wait(s, PQsocket(db), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, LISTEN_CONNECT_MS,
		                &ready)) {
			PQfinish(db);
			return -1;
		}
		if (!ready) {
			PQfinish(db);
			return 0;
		}
		st = PQconnectPoll(db);
	}
	*out = db;
	return 1;
}

static void *listener_main(void *arg)
{
	pg_store *s = arg;
	int backoff = 100, ready, warned = 0;
	for (;;) {
		PGconn *db = NULL;
		PGresult *res = NULL;
		int got = listen_connect(s, &db);
		if (got < 0)
			return NULL;
		if (got > 0)
			res = exec_simple(db, "LISTEN " WAKE_CHANNEL);
		if (!res) {
			PQfinish(db);
			if (!warned++)
				LV_WARN("store: cannot LISTEN for wake-ups on PostgreSQL at %s; idle processes poll until it "
				        "works", s->where);
			if (listen_wait(s, -1, 0, backoff, &ready))
				return NULL;
			backoff = backoff * 2 > LISTEN_BACKOFF_MS ? LISTEN_BACKOFF_MS : backoff * 2;
			continue;
		}
		PQclear(res);
		backoff = 100;
		warned = 0;
		listen_count(s, 1); /* what happened while nobody listened is unknown: count a change */
		for (;;) {
			PGnotify *nt;
			int n = 0;
			if (listen_wait(s, PQsocket(db), POLLIN, LISTEN_IDLE_MS, &ready)) {
				listen_count(s, 0);
				PQfinish(db);
				return NULL;
			}
			if (ready) {
				if (!PQconsumeInput(db))
					break;
			} else { /* quiet for a while: a dead connection would stay quiet too */
				if (!(res = exec_simple(db, "SELECT 1")))
					break;
				PQclear(res);
			}
			while ((nt = PQnotifies(db)) != NULL) {
				n++;
				PQfreemem(nt);
			}
			if (n > 0)
				listen_count(s, -1);
			if (PQstatus(db) != CONNECTION_OK)
				break;
		}
		listen_count(s, 0);
		LV_WARN("store: lost the LISTEN connection to PostgreSQL at %s; reconnecting (idle processes poll meanwhile)",
		        s->where);
		PQfinish(db);
	}
}

/* The wake-up count; LV_EBUSY (no message: it is only a hint) while not listening. */
static int pg_change_counter(lv_store *base, uint64_t *out)
{
	pg_store *s = (pg_store *)base;
	int rc = LV_EBUSY;
	pthread_mutex_lock(&s->lmu);
	if (s->listener_state == 0) {
		s->listener_state = -1;
		if (pipe(s->stop_pipe) == 0) {
			if (pthread_create(&s->listener, NULL, listener_main, s) == 0) {
				s->listener_state = 1;
			} else {
				close(s->stop_pipe[0]);
				close(s->stop_pipe[1]);
			}
		}
		if (s->listener_state < 0)
			LV_WARN("store: cannot start the wake-up listener; idle processes poll");
	}
	if (s->listening) {
		*out = s->changes;
		rc = LV_OK;
	}
	pthread_mutex_unlock(&s->lmu);
	return rc;
}

static void listener_stop(pg_store *s)
{
	if (s->listener_state != 1)
		return;
	close(s->stop_pipe[1]); /* the read end reports end of file */
	pthread_join(s->listener, NULL);
	close(s->stop_pipe[0]);
	s->listener_state = 0;
}

/* ---- open, migrate, close ------------------------------------------------------------------------------------------ */

static void pg_close(lv_store *base)
{
	pg_store *s = (pg_store *)base;
	conn *c;
	if (!s)
		return;
	listener_stop(s);
	while ((c = s->idle) != NULL) {
		s->idle = c->next;
		conn_close(c);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->lmu);
	pthread_cond_destroy(&s->cv);
	free(s->uri);
	if (s->password) {
		memset(s->password, 0, strlen(s->password));
		free(s->password);
	}
	free(s);
}

/* Run one statement of a raw transaction (migrations, the master-key check). */
static int raw(lv_store_tx *tx, const char *sql, const char *what, PGresult **out)
{
	PGresult *res = PQexec(tx->c->db, sql);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		int rc = result_error(tx, res, what);
		PQclear(res);
		return rc;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return LV_OK;
}

static int migrate_tx(lv_store_tx *tx, pg_store *s)
{
	const int latest = (int)(sizeof(lv_pg_migrations) / sizeof(lv_pg_migrations[0]));
	PGresult *res = NULL;
	int version, rc;
	char sql[128];
	/* One migrator at a time per database; the lock ends with the transaction. */
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)", (long long)MIGRATION_LOCK);
	if ((rc = raw(tx, sql, "lock for migration", NULL)) ||
	    (rc = raw(tx,
	              "CREATE TABLE IF NOT EXISTS lv_migrations (version INTEGER PRIMARY KEY, "
	              "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
	              "create the migration table", NULL)) ||
	    (rc = raw(tx, "SELECT COALESCE(MAX(version), 0) FROM lv_migrations", "read schema version", &res)))
		return rc;
	version = (int)col_int(res, 0, 0);
	PQclear(res);
	if (version > latest)
		return lv_error_set(LV_ESTORE,
		                    "store: the database at %s has schema version %d, newer than this build knows (%d); "
		                    "upgrade liblongvideo",
		                    s->where, version, latest);
	for (; version < latest; version++) {
		if ((rc = raw(tx, lv_pg_migrations[version], "migrate schema", NULL)))
			return rc;
		snprintf(sql, sizeof(sql), "INSERT INTO lv_migrations (version) VALUES (%d)", version + 1);
		if ((rc = raw(tx, sql, "record schema version", NULL)))
			return rc;
		LV_INFO("store: migrated the database at %s to schema version %d", s->where, version + 1);
	}
	return LV_OK;
}

/* The store keeps a verifier of the master key it was created with (an HMAC, not the key); a
 * process with another key would derive other webhook secrets, so it may not start. */
static int master_key_tx(lv_store_tx *tx, pg_store *s, const unsigned char key[32])
{
	char hex[65], sql[256];
	PGresult *res = NULL;
	int rc, same;
	lv_store_key_verifier(key, hex);
	snprintf(sql, sizeof(sql),
	         "INSERT INTO lv_meta (name, value) VALUES ('master_key_verifier', '%s') ON CONFLICT (name) DO NOTHING",
	         hex);
	if ((rc = raw(tx, sql, "record the master key verifier", NULL)) ||
	    (rc = raw(tx, "SELECT value FROM lv_meta WHERE name = 'master_key_verifier'", "read the master key verifier",
	              &res)))
		return rc;
	same = PQntuples(res) == 1 && strlen(PQgetvalue(res, 0, 0)) == 64 &&
	       lv_memcmp_ct(PQgetvalue(res, 0, 0), hex, 64) == 0;
	PQclear(res);
	return same ? LV_OK : lv_store_key_mismatch(s->where);
}

static int setup(pg_store *s, const unsigned char *master_key)
{
	lv_store_tx *tx;
	int rc;
	if ((rc = pg_begin(&s->base, 1, &tx)))
		return rc;
	rc = migrate_tx(tx, s);
	if (rc == LV_OK && master_key)
		rc = master_key_tx(tx, s, master_key);
	if (rc) {
		pg_rollback(tx);
		return rc;
	}
	return pg_commit(tx);
}

/* Check the URI without connecting: it must parse, and it may not carry a password. */
static int check_uri(pg_store *s, const char *uri)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(uri, &err), *o;
	const char *host = NULL, *hostaddr = NULL, *port = NULL, *db = NULL, *user = NULL;
	int rc = LV_OK;
	if (!opts) {
		/* libpq's message quotes the offending part of the URI, which may be a password. */
		PQfreemem(err);
		return lv_error_set(LV_ECONFIG, "config: store: not a valid postgresql:// connection URI");
	}
	for (o = opts; o->keyword; o++) {
		if (!o->val || !*o->val)
			continue;
		if (!strcmp(o->keyword, "password"))
			rc = LV_ECONFIG;
		else if (!strcmp(o->keyword, "host"))
			host = o->val;
		else if (!strcmp(o->keyword, "hostaddr"))
			hostaddr = o->val;
		else if (!strcmp(o->keyword, "port"))
			port = o->val;
		else if (!strcmp(o->keyword, "dbname"))
			db = o->val;
		else if (!strcmp(o->keyword, "user"))
			user = o->val;
	}
	if (!host)
		host = hostaddr ? hostaddr : getenv("PGHOST");
	if (!port)
		port = getenv("PGPORT");
	if (!db)
		db = getenv("PGDATABASE");
	if (!db)
		db = user ? user : getenv("PGUSER");
	snprintf(s->where, sizeof(s->where), "host %s port %s database %s", host && *host ? host : "(default)",
	         port && *port ? port : "5432", db && *db ? db : "(default)");
	PQconninfoFree(opts);
	if (rc)
		return lv_error_set(LV_ECONFIG,
		                    "config: store: the postgresql:// URL must not contain a password (secrets never live "
		                    "in the config file); use PGPASSWORD, ~/.pgpass or store_password_env");
	return LV_OK;
}

/* ---- optional ops: held leases, savepoints, counts ---------------------------------------------------------------- */

static int read_id(PGresult *r, int row, char (*id)[LV_ID_MAX])
{
	col_copy(*id, LV_ID_MAX, r, row, 0);
	return LV_OK;
}

static void free_ids(char (*ids)[LV_ID_MAX], size_t n)
{
	(void)n;
	free(ids);
}

static int pg_lease_held(lv_store_tx *tx, const char *owner, char (**out)[LV_ID_MAX], size_t *n)
{
	typedef char held_id[LV_ID_MAX]; /* not id_t: that is a system type (-Wshadow) */
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, owner);
	if (!(r = run(tx, ST_LEASE_HELD, &p, "read held leases", &rc)))
		return rc;
	COLLECT(r, held_id, read_id, free_ids, out, n);
	return LV_OK;
}

static int pg_savepoint(lv_store_tx *tx, int op)
{
	static const char *const sql[] = { "SAVEPOINT lv_sp", "RELEASE SAVEPOINT lv_sp",
		                           "ROLLBACK TO SAVEPOINT lv_sp; RELEASE SAVEPOINT lv_sp" };
	if (op < LV_SP_BEGIN || op > LV_SP_ROLLBACK)
		return lv_error_set(LV_EINTERNAL, "store: unknown savepoint operation %d", op);
	if (tx->broken)
		return lv_error_set(LV_EBUSY, "store: savepoint: lost the connection to PostgreSQL (%s)", tx->store->where);
	return raw(tx, sql[op], "savepoint", NULL);
}

static int pg_status_counts(lv_store_tx *tx, int64_t tasks[LV_STORE_STATUS_SLOTS], int64_t outbox[3])
{
	int pass, i, rc;
	for (i = 0; i < LV_STORE_STATUS_SLOTS; i++)
		tasks[i] = 0;
	outbox[0] = outbox[1] = outbox[2] = 0;
	for (pass = 0; pass < 2; pass++) {
		params p = { 0 };
		PGresult *r = run(tx, pass ? ST_OUTBOX_COUNTS : ST_TASK_COUNTS, &p, "count by status", &rc);
		if (!r)
			return rc;
		for (i = 0; i < PQntuples(r); i++) {
			const char *name = col_str(r, i, 0);
			if (pass == 0) {
				int v = parse_status(name);
				if (v >= 0 && v < LV_STORE_STATUS_SLOTS)
					tasks[v] = col_int(r, i, 1);
			} else {
				int v = name ? lv_outbox_status_parse(name) : -1;
				if (v >= 0 && v < 3)
					outbox[v] = col_int(r, i, 1);
			}
		}
		PQclear(r);
	}
	lv_error_clear(); /* an unknown status name is skipped, not an error */
	return LV_OK;
}

static int pg_credit_totals(lv_store_tx *tx, int64_t out[3])
{
	params p = { 0 };
	int rc, i;
	PGresult *r = run(tx, ST_CREDIT_TOTALS, &p, "total the credits", &rc);
	if (!r)
		return rc;
	for (i = 0; i < 3; i++)
		out[i] = PQntuples(r) > 0 ? col_int(r, 0, i) : 0;
	PQclear(r);
	return LV_OK;
}

/* ---- ledger listing ------------------------------------------------------------------------------------------------ */

static int read_ledger(PGresult *r, int row, lv_ledger_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->id = col_int(r, row, 0);
	col_copy(e->key_id, sizeof(e->key_id), r, row, 1);
	col_copy(e->task_id, sizeof(e->task_id), r, row, 2);
	e->kind = lv_ledger_kind_parse(col_str(r, row, 3));
	e->amount = col_int(r, row, 4);
	e->created_at = col_int(r, row, 5);
	return LV_OK;
}

static void ledger_entries_free(lv_ledger_entry *a, size_t n)
{
	(void)n;
	free(a);
}

static int pg_ledger_list(lv_store_tx *tx, const char *key_id, int64_t before_id, int limit, lv_ledger_entry **out,
                          size_t *n)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, key_id);
	p_int(&p, 2, before_id > 0 ? before_id : INT64_MAX);
	p_int(&p, 3, limit);
	if (!(r = run(tx, ST_LEDGER_LIST, &p, "list ledger", &rc)))
		return rc;
	COLLECT(r, lv_ledger_entry, read_ledger, ledger_entries_free, out, n);
	return LV_OK;
}

/* ---- live progress events ------------------------------------------------------------------------------------------ */

static int read_event(PGresult *r, int row, lv_event_rec *e)
{
	memset(e, 0, sizeof(*e));
	e->seq = col_int(r, row, 0);
	e->created_at = col_int(r, row, 2);
	return col_dup(&e->data, r, row, 1);
}

static int event_int(lv_store_tx *tx, int id, const char *task_id, int64_t *out, const char *what)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, task_id);
	if (!(r = run(tx, id, &p, what, &rc)))
		return rc;
	*out = PQntuples(r) > 0 ? col_int(r, 0, 0) : 0;
	PQclear(r);
	return LV_OK;
}

static int pg_event_append(lv_store_tx *tx, const char *task_id, lv_event_rec *e, int keep)
{
	params p = { 0 };
	PGresult *res;
	char name[16];
	int rc = event_int(tx, ST_EVENT_NEXT, task_id, &e->seq, "number an event");
	if (rc)
		return rc;
	p_text(&p, 1, task_id);
	p_int(&p, 2, e->seq);
	p_text(&p, 3, e->data);
	p_int(&p, 4, e->created_at);
	if ((rc = prepare(tx, ST_EVENT_INSERT, p.n)))
		return rc;
	snprintf(name, sizeof(name), "lv%d", ST_EVENT_INSERT);
	res = PQexecPrepared(tx->c->db, name, p.n, p.v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		/* Another process numbered the same event first (READ COMMITTED): retry the transaction. */
		if (is_unique_violation(res))
			rc = lv_error_set(LV_EBUSY, "store: record an event: recorded concurrently, try again");
		else
			rc = result_error(tx, res, "record an event");
		PQclear(res);
		return rc;
	}
	PQclear(res);
	memset(&p, 0, sizeof(p));
	p_text(&p, 1, task_id);
	p_int(&p, 2, e->seq - keep);
	return run_done(tx, ST_EVENT_PRUNE, &p, "drop old events");
}

static int pg_event_last(lv_store_tx *tx, const char *task_id, lv_event_rec *out)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, task_id);
	if (!(r = run(tx, ST_EVENT_LAST, &p, "read an event", &rc)))
		return rc;
	rc = PQntuples(r) > 0 ? read_event(r, 0, out) : LV_ENOTFOUND;
	PQclear(r);
	return rc;
}

static int pg_event_list(lv_store_tx *tx, const char *task_id, int64_t after_seq, int limit, lv_event_rec **out,
                         size_t *n)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	p_text(&p, 1, task_id);
	p_int(&p, 2, after_seq);
	p_int(&p, 3, limit);
	if (!(r = run(tx, ST_EVENT_LIST, &p, "list events", &rc)))
		return rc;
	COLLECT(r, lv_event_rec, read_event, lv_event_recs_free, out, n);
	return LV_OK;
}

static int pg_event_first_seq(lv_store_tx *tx, const char *task_id, int64_t *out)
{
	return event_int(tx, ST_EVENT_FIRST, task_id, out, "read events");
}

/* ---- the database's clock ----------------------------------------------------------------------------------------- */

static int pg_clock_ms(lv_store_tx *tx, int64_t *now)
{
	params p = { 0 };
	PGresult *r;
	int rc;
	if (!(r = run(tx, ST_CLOCK, &p, "read the database clock", &rc)))
		return rc;
	*now = PQntuples(r) == 1 ? col_int(r, 0, 0) : 0;
	PQclear(r);
	return *now > 0 ? LV_OK : lv_error_set(LV_EINTERNAL, "store: the database clock returned no time");
}

static const lv_store_ops pg_ops = {
	LV_STORE_OPS_VERSION,
	"postgresql",
	pg_begin,
	pg_commit,
	pg_rollback,
	pg_close,
	pg_key_insert,
	pg_key_get,
	pg_key_by_hash,
	pg_key_list,
	pg_key_update,
	pg_ledger_append,
	pg_ledger_sums,
	pg_task_insert,
	pg_task_get,
	pg_task_update,
	pg_task_list,
	pg_segment_insert,
	pg_segment_list,
	pg_segment_update,
	pg_idem_get,
	pg_idem_insert,
	pg_idem_purge,
	pg_task_claim,
	pg_lease_renew,
	pg_lease_release,
	pg_outbox_insert,
	pg_outbox_due,
	pg_outbox_update,
	pg_outbox_for_task,
	pg_change_counter,
	pg_lease_held,
	pg_savepoint,
	pg_ledger_list,
	pg_event_append,
	pg_event_last,
	pg_event_list,
	pg_event_first_seq,
	pg_status_counts,
	.rate_hit = pg_rate_hit,
	.clock_ms = pg_clock_ms,
	.credit_totals = pg_credit_totals,
};

int lv_store_pg_open(lv_store **out, const lv_store_open_options *opts)
{
	pg_store *s;
	int rc;
	*out = NULL;
	if (!opts || !opts->spec)
		return lv_error_set(LV_ECONFIG, "store: no PostgreSQL URL");
	if (!(s = lv_calloc(1, sizeof(*s))))
		return LV_ENOMEM;
	s->base.ops = &pg_ops;
	s->max_open = opts->pool_size > 0 ? opts->pool_size : LV_STORE_DEFAULT_POOL;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->lmu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if ((rc = check_uri(s, opts->spec)))
		goto fail;
	if (opts->password_env && *opts->password_env) {
		const char *pw = getenv(opts->password_env);
		if (!pw || !*pw) {
			rc = lv_error_set(LV_ECONFIG, "config: store_password_env: the environment variable %s is not set",
			                  opts->password_env);
			goto fail;
		}
		if (!(s->password = lv_strdup(pw))) {
			rc = LV_ENOMEM;
			goto fail;
		}
	}
	if (!(s->uri = lv_strdup(opts->spec))) {
		rc = LV_ENOMEM;
		goto fail;
	}
	if ((rc = setup(s, opts->master_key))) {
		/* At start-up an unreachable database is a configuration problem, not "try again". */
		if (rc == LV_EBUSY) {
			char msg[1024];
			lv_strlcpy(msg, lv_error_last()->message, sizeof(msg));
			rc = lv_error_set(LV_ESTORE, "%s", msg);
		}
		goto fail;
	}
	*out = &s->base;
	return LV_OK;
fail:
	pg_close(&s->base);
	return rc;
}

int lv_store_pg_check(const lv_store_open_options *opts, char *msg, size_t cap)
{
	pg_store *s = lv_calloc(1, sizeof(*s));
	lv_store_tx *tx = NULL;
	PGresult *res = NULL;
	int rc;
	if (!s)
		return LV_ENOMEM;
	s->base.ops = &pg_ops;
	s->max_open = 1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->lmu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if ((rc = check_uri(s, opts->spec)) == LV_OK && opts->password_env && *opts->password_env) {
		const char *pw = getenv(opts->password_env);
		if (!pw || !*pw)
			rc = lv_error_set(LV_ECONFIG, "config: store_password_env: the environment variable %s is not set",
			                  opts->password_env);
		else if (!(s->password = lv_strdup(pw)))
			rc = LV_ENOMEM;
	}
	if (rc == LV_OK && !(s->uri = lv_strdup(opts->spec)))
		rc = LV_ENOMEM;
	if (rc == LV_OK && (rc = pg_begin(&s->base, 0, &tx)) == LV_OK) {
		int v = 0;
		rc = raw(tx, "SELECT to_regclass('lv_migrations') IS NOT NULL", "read schema version", &res);
		if (rc == LV_OK) {
			int have = !strcmp(PQgetvalue(res, 0, 0), "t");
			PQclear(res);
			res = NULL;
			if (have && (rc = raw(tx, "SELECT COALESCE(MAX(version), 0) FROM lv_migrations",
			                      "read schema version", &res)) == LV_OK)
				v = (int)col_int(res, 0, 0);
		}
		if (rc == LV_OK) {
			const int latest = (int)(sizeof(lv_pg_migrations) / sizeof(lv_pg_migrations[0]));
			snprintf(msg, cap, "PostgreSQL at %s: reachable, schema version %d%s", s->where, v,
			         v == 0 ? " (empty: the first process creates the schema)"
			         : v < latest ? " (older: the next process to start migrates it)"
			         : v > latest ? " (newer than this build: upgrade)" : "");
			if (v > latest)
				rc = lv_error_set(LV_ESTORE, "%s", msg);
			PQclear(res);
		}
		pg_rollback(tx);
	}
	if (rc)
		snprintf(msg, cap, "%s", lv_error_last()->message);
	pg_close(&s->base);
	return rc == LV_EBUSY ? LV_ESTORE : rc;
}
