/*
 * Internal: the task store interface.
 *
 * The store is the single source of truth.  Business rules (validation,
 * billing, state changes) live once, in lib/core/, and are written as
 * sequences of these primitives inside one transaction; a backend (SQLite
 * now, PostgreSQL later) only moves records in and out, so both pass the
 * same test suite.  Every write happens inside a transaction opened with
 * begin(write=1): on SQLite that is BEGIN IMMEDIATE (one writer at a time),
 * on PostgreSQL row locks (for_update) serialise what must be serial.
 *
 * Records own their strings (malloc'd); release them with the *_clear
 * functions below.  Getters return LV_ENOTFOUND (without recording a
 * message) when there is no such row.
 */
#ifndef LV_STORE_H
#define LV_STORE_H

#include <stddef.h>
#include <stdint.h>

#define LV_STORE_OPS_VERSION 1
#define LV_STORE_STATUS_SLOTS 16 /* room for every lv_task_status */

#define LV_ID_MAX 40

typedef struct lv_key_rec {
	char id[LV_ID_MAX];
	char *name;
	char hash[65];         /* SHA-256 hex of the plaintext key */
	char prefix[16];       /* "sk-" + 8 characters, for display */
	char webhook_salt[64]; /* base64; the webhook secret is derived from it and the master key */
	int64_t created_at;    /* ms */
	int64_t revoked_at;    /* ms, 0 = active */
	int64_t balance;       /* thousandths */
	int64_t reserved;
	int64_t granted;       /* running total of the key's grants, kept with the ledger in the same transaction;
	                        * settled == granted - balance - reserved, so no request sums the ledger */
} lv_key_rec;

enum { LV_LEDGER_GRANT = 0, LV_LEDGER_RESERVE, LV_LEDGER_SETTLE, LV_LEDGER_REFUND, LV_LEDGER_KINDS };

typedef struct lv_ledger_entry {
	char key_id[LV_ID_MAX];
	char task_id[LV_ID_MAX]; /* "" for grants */
	int kind;                /* LV_LEDGER_* */
	int64_t amount;          /* >= 0, thousandths */
	int64_t created_at;
	int64_t id;              /* increasing per store; set when read (ledger_append ignores it) */
} lv_ledger_entry;

enum { LV_SUBTITLES_SOFT = 0, LV_SUBTITLES_BURN = 1, LV_SUBTITLES_NONE = 2 };

typedef struct lv_task_rec {
	char id[LV_ID_MAX];
	int64_t seq;                 /* insertion order (set by task_insert) */
	char key_id[LV_ID_MAX];
	int status;                  /* lv_task_status */
	int progress;
	int shots_done;
	int shots_total;
	char *prompt;
	int duration;
	char resolution[8];
	char aspect_ratio[8];
	char *provider;
	char language[16];
	int narration;
	int music;
	int subtitles;               /* LV_SUBTITLES_* */
	char *webhook_url;
	char *metadata;              /* JSON object text */
	int64_t cost_estimate;
	int64_t cost_actual;         /* -1: null */
	char *result_url;
	char *subtitles_url;
	char *thumbnail_url;
	char *error_code;
	char *error_message;
	int error_stage;             /* lv_task_status it failed in, -1: none */
	int error_shot;              /* -1: null */
	char *script;                /* storyboard JSON, or NULL */
	char *state;                 /* pipeline working state JSON, or NULL */
	int64_t created_at, updated_at, completed_at; /* ms; completed_at 0 = null */
	char *lease_owner;
	int64_t lease_until;         /* ms, 0 = none */
	int compose_generation;      /* bumped by each re-compose */
} lv_task_rec;

enum { LV_SEG_PENDING = 0, LV_SEG_RUNNING, LV_SEG_READY, LV_SEG_FAILED, LV_SEG_STATES };

typedef struct lv_segment_rec {
	char task_id[LV_ID_MAX];
	int idx;
	int start;
	int seconds;
	int billed_seconds;
	int64_t price;
	int status;        /* LV_SEG_* */
	char *job_id;      /* the provider's job id, stored as soon as it is submitted */
	char *job_state;   /* provider-specific resume data (JSON), or NULL */
	char *output;      /* where the finished clip is (storage key / path) */
	int attempts;
	char *error;
	int64_t updated_at;
} lv_segment_rec;

typedef struct lv_idem_rec {
	char key_id[LV_ID_MAX];
	char *idem_key;
	char request_hash[65];
	char task_id[LV_ID_MAX];
	int64_t created_at;
} lv_idem_rec;

enum { LV_OUTBOX_PENDING = 0, LV_OUTBOX_DELIVERED, LV_OUTBOX_FAILED };

typedef struct lv_outbox_rec {
	char id[LV_ID_MAX];       /* "msg_..." = webhook-id, stable across retries */
	char task_id[LV_ID_MAX];
	char key_id[LV_ID_MAX];
	char *url;
	char *payload;            /* the JSON body */
	int attempts;
	int64_t next_attempt_at;  /* ms */
	int status;               /* LV_OUTBOX_* */
	char *last_error;
	int last_status;          /* HTTP status of the last attempt, 0 none */
	int64_t created_at, updated_at;
} lv_outbox_rec;

typedef struct lv_event_rec {
	int64_t seq;      /* increasing per task, from 1 */
	char *data;       /* the task's detail view (JSON) */
	int64_t created_at;
} lv_event_rec;

typedef struct lv_store lv_store;
typedef struct lv_store_tx lv_store_tx;

typedef struct lv_store_ops {
	unsigned int version; /* LV_STORE_OPS_VERSION */
	const char *name;

	/* Transactions.  A tx is bound to one connection until commit/rollback. */
	int (*begin)(lv_store *store, int write, lv_store_tx **out);
	int (*commit)(lv_store_tx *tx);
	void (*rollback)(lv_store_tx *tx);
	void (*close)(lv_store *store);

	/* Keys and ledger. */
	int (*key_insert)(lv_store_tx *tx, const lv_key_rec *k);
	int (*key_get)(lv_store_tx *tx, const char *id, int for_update, lv_key_rec *out);
	int (*key_by_hash)(lv_store_tx *tx, const char *hash, lv_key_rec *out);
	int (*key_list)(lv_store_tx *tx, lv_key_rec **out, size_t *n);
	int (*key_update)(lv_store_tx *tx, const lv_key_rec *k); /* name, revoked_at, balance, reserved, granted */
	int (*ledger_append)(lv_store_tx *tx, const lv_ledger_entry *e);
	/* Sums per LV_LEDGER_* kind over a key's entries (task_id NULL: audits only, O(history)) or one
	 * task's entries (a handful of rows, by index). */
	int (*ledger_sums)(lv_store_tx *tx, const char *key_id, const char *task_id, int64_t sums[LV_LEDGER_KINDS]);

	/* Tasks and segments. */
	int (*task_insert)(lv_store_tx *tx, lv_task_rec *t); /* sets t->seq */
	int (*task_get)(lv_store_tx *tx, const char *id, int for_update, lv_task_rec *out);
	int (*task_update)(lv_store_tx *tx, const lv_task_rec *t); /* every mutable column */
	/* A key's tasks with seq < before_seq (0: from the newest), newest first; status -1 = any. */
	int (*task_list)(lv_store_tx *tx, const char *key_id, int64_t before_seq, int status, int limit,
	                 lv_task_rec **out, size_t *n);
	int (*segment_insert)(lv_store_tx *tx, const lv_segment_rec *s);
	int (*segment_list)(lv_store_tx *tx, const char *task_id, lv_segment_rec **out, size_t *n);
	int (*segment_update)(lv_store_tx *tx, const lv_segment_rec *s);

	/* Idempotency records. */
	int (*idem_get)(lv_store_tx *tx, const char *key_id, const char *idem_key, lv_idem_rec *out);
	int (*idem_insert)(lv_store_tx *tx, const lv_idem_rec *r);
	int (*idem_purge)(lv_store_tx *tx, int64_t created_before);

	/* Pipeline: claim one task whose lease is free or expired and that has work to do (see core). */
	int (*task_claim)(lv_store_tx *tx, const char *owner, int64_t now, int64_t lease_until, lv_task_rec *out);
	/* Extend the lease of every task `owner` holds; tasks it lost are not touched. */
	int (*lease_renew)(lv_store_tx *tx, const char *owner, int64_t now, int64_t lease_until);
	/* Give up every lease `owner` holds (the tasks become claimable at once). */
	int (*lease_release)(lv_store_tx *tx, const char *owner);

	/* Webhook outbox. */
	int (*outbox_insert)(lv_store_tx *tx, const lv_outbox_rec *r);
	int (*outbox_due)(lv_store_tx *tx, int64_t now, int limit, lv_outbox_rec **out, size_t *n);
	int (*outbox_update)(lv_store_tx *tx, const lv_outbox_rec *r);
	int (*outbox_for_task)(lv_store_tx *tx, const char *task_id, lv_outbox_rec **out, size_t *n);

	/* Optional (NULL: callers fall back to reading what they need each time). */
	/* A number that changes (at least) whenever a task is queued, changes status or loses its lease
	 * owner, or a webhook is queued, in this process or another; cheap enough for idle loops to call
	 * every few hundred milliseconds instead of reading the store.  SQLite: the file's data version
	 * (every commit).  PostgreSQL: LISTEN/NOTIFY on one connection, so only a hint: an error means
	 * "not listening now" and callers read the store, and idle loops read it anyway every few
	 * seconds (leases run out without any commit). */
	int (*change_counter)(lv_store *store, uint64_t *out);
	/* The ids of the tasks whose lease `owner` holds (finishing, canceling or losing a task clears
	 * its lease owner); read from an index, without reading the task rows. */
	int (*lease_held)(lv_store_tx *tx, const char *owner, char (**ids)[LV_ID_MAX], size_t *n);
	/* A savepoint inside a write transaction (LV_SP_*), so that several callers' work can share one
	 * transaction and one commit (group commit) while a failing caller's writes are undone alone. */
	int (*savepoint)(lv_store_tx *tx, int op);
	/* Ledger entries of one key with id < before_id (0: from the newest), newest first (id descending),
	 * at most `limit`.  The array is plain data: release it with free(). */
	int (*ledger_list)(lv_store_tx *tx, const char *key_id, int64_t before_id, int limit, lv_ledger_entry **out,
	                   size_t *n);

	/* Live progress events of a task (table task_events).  append: the next seq of the task (written
	 * into e->seq) and the events older than the last `keep` are dropped.  last: LV_ENOTFOUND when the
	 * task has none.  list: seq > after_seq, ascending, at most `limit`.  first_seq: the oldest kept
	 * (0 when none). */
	int (*event_append)(lv_store_tx *tx, const char *task_id, lv_event_rec *e, int keep);
	int (*event_last)(lv_store_tx *tx, const char *task_id, lv_event_rec *out);
	int (*event_list)(lv_store_tx *tx, const char *task_id, int64_t after_seq, int limit, lv_event_rec **out,
	                  size_t *n);
	int (*event_first_seq)(lv_store_tx *tx, const char *task_id, int64_t *out);
	/* Optional (NULL: the backend does not count): tasks per status (indexed by lv_task_status) and
	 * webhook deliveries per outbox status, each one grouped COUNT over an indexed column. */
	int (*status_counts)(lv_store_tx *tx, int64_t tasks[LV_STORE_STATUS_SLOTS], int64_t outbox[3]);
	/* Optional (NULL: each process counts for itself).  Count one request of `key_id` in the current
	 * fixed window of `window_ms` milliseconds, timed by the store's clock and shared by every process
	 * on the store: *count receives the window's requests so far (this one included) and *left_ms the
	 * time until the window ends.  Counters of windows that are over are removed.  Write transaction. */
	int (*rate_hit)(lv_store_tx *tx, const char *key_id, int64_t window_ms, int64_t *count, int64_t *left_ms);
	/* Optional (NULL: the process's own clock).  The store's clock, ms since the epoch: every time
	 * that one process writes and another compares (webhook attempts, review deadlines) is taken from
	 * it, so processes on machines whose clocks disagree still agree on what is due. */
	int (*clock_ms)(lv_store_tx *tx, int64_t *now);
	/* Optional (NULL: the backend does not total).  The running totals the keys carry, summed over
	 * every key: out[0] granted, out[1] balance, out[2] reserved (thousandths).  One aggregate over
	 * api_keys (a row per key), never over the ledger. */
	int (*credit_totals)(lv_store_tx *tx, int64_t out[3]);
} lv_store_ops;

enum { LV_SP_BEGIN = 0, LV_SP_RELEASE, LV_SP_ROLLBACK };

struct lv_store {
	const lv_store_ops *ops;
};

/* Open the store named by a config "store" string ("sqlite:PATH" or "postgresql://..."), migrating it. */
int lv_store_open(lv_store **out, const char *spec);
void lv_store_close(lv_store *store);

/* Everything a store may need at open; a backend ignores what it has no use for. */
typedef struct lv_store_open_options {
	const char *spec;                /* "sqlite:PATH" or "postgresql://..." */
	const char *password_env;        /* PostgreSQL: the variable holding the password, or NULL (libpq's own) */
	int pool_size;                   /* PostgreSQL: connections at most (0: LV_STORE_DEFAULT_POOL) */
	const unsigned char *master_key; /* 32 bytes, or NULL; a store created with another key is refused */
} lv_store_open_options;

#define LV_STORE_DEFAULT_POOL 16

int lv_store_open_ex(lv_store **out, const lv_store_open_options *opts);

int lv_store_sqlite_open(lv_store **out, const char *path);
/* As lv_store_sqlite_open, and refuse the store if it was created with another master key. */
int lv_store_sqlite_open_ex(lv_store **out, const char *path, const unsigned char *master_key);
/* The master key check shared by the backends: the verifier a store keeps (an HMAC of a fixed text
 * under the key, hex; never the key) and the error for a key that does not match it. */
void lv_store_key_verifier(const unsigned char key[32], char hex[65]);
int lv_store_key_mismatch(const char *where);
#ifdef LV_WITH_POSTGRES
int lv_store_pg_open(lv_store **out, const lv_store_open_options *opts);
#endif
/* Reach the store without changing it (no migration): LV_OK with a line describing it in `msg`
 * (schema version, where), or an error naming the problem (also in `msg`). */
int lv_store_check(const lv_store_open_options *opts, char *msg, size_t cap);
#ifdef LV_WITH_POSTGRES
int lv_store_pg_check(const lv_store_open_options *opts, char *msg, size_t cap);
#endif

/* The store's clock (clock_ms) in ms since the epoch, or the process's when the backend has none. */
int lv_store_now(const lv_store *store, lv_store_tx *tx, int64_t *now);

void lv_key_rec_clear(lv_key_rec *k);
void lv_task_rec_clear(lv_task_rec *t);
void lv_segment_rec_clear(lv_segment_rec *s);
void lv_idem_rec_clear(lv_idem_rec *r);
void lv_outbox_rec_clear(lv_outbox_rec *r);
void lv_key_recs_free(lv_key_rec *a, size_t n);
void lv_task_recs_free(lv_task_rec *a, size_t n);
void lv_segment_recs_free(lv_segment_rec *a, size_t n);
void lv_outbox_recs_free(lv_outbox_rec *a, size_t n);
void lv_event_recs_free(lv_event_rec *a, size_t n);
/* Deep copy (dst must be zeroed or cleared). */
int lv_task_rec_copy(lv_task_rec *dst, const lv_task_rec *src);

/* Names stored in the database for enums. */
const char *lv_ledger_kind_name(int kind);
int lv_ledger_kind_parse(const char *s);
const char *lv_segment_status_name(int status);
int lv_segment_status_parse(const char *s);
const char *lv_subtitles_name(int mode);
int lv_subtitles_parse(const char *s);
const char *lv_outbox_status_name(int status);
int lv_outbox_status_parse(const char *s);

#endif
