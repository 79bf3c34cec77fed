/*
 * liblongvideo — API keys and their credits.
 *
 * An API key is "sk-" followed by 40 characters [A-Za-z0-9] (238 random
 * bits from a CSPRNG).  The store keeps only its SHA-256; the plaintext key
 * and the key's webhook secret ("whsec_" + base64 of 32 bytes) are returned
 * once, by lv_key_create(), and are never stored or logged.
 */
#ifndef LONGVIDEO_KEYS_H
#define LONGVIDEO_KEYS_H

#include "common.h"
#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lv_key lv_key;
typedef struct lv_key_list lv_key_list;

/** A key's credits, in thousandths.  granted - balance - reserved == settled. */
typedef struct lv_credits {
	int64_t balance;  /**< what the key can spend now (reservations already taken out) */
	int64_t reserved; /**< held by tasks that are still running */
	int64_t granted;  /**< all credits ever granted */
	int64_t settled;  /**< all credits ever charged for finished work */
} lv_credits;

/**
 * Create a key named `name` (1-100 characters) with an initial grant of
 * `credits` thousandths.  The returned key carries its plaintext
 * (lv_key_secret) and webhook secret (lv_key_webhook_secret); copy them now.
 */
LV_EXTERN(int) lv_key_create(lv_key **out, lv_engine *engine, const char *name, int64_t credits);

/**
 * Find the active key for a plaintext "sk-..." key.  A malformed key is
 * rejected before any lookup.  Every failure is LV_EAUTH.
 */
LV_EXTERN(int) lv_key_authenticate(lv_key **out, lv_engine *engine, const char *api_key);

/** Find a key by its id ("key_..."), revoked or not (operator use).  LV_ENOKEY if none. */
LV_EXTERN(int) lv_key_lookup(lv_key **out, lv_engine *engine, const char *key_id);

/** All keys, oldest first. */
LV_EXTERN(int) lv_key_list_all(lv_key_list **out, lv_engine *engine);
LV_EXTERN(size_t) lv_key_list_count(const lv_key_list *list);
/** The i-th key; owned by the list. */
LV_EXTERN(const lv_key *) lv_key_list_get(const lv_key_list *list, size_t i);
LV_EXTERN(void) lv_key_list_free(lv_key_list *list);

/** Add `credits` thousandths (> 0) to a key's balance, as a ledger grant. */
LV_EXTERN(int) lv_key_grant(lv_engine *engine, const char *key_id, int64_t credits);

/** Revoke a key: it no longer authenticates.  Its running tasks go on.  Revoking twice is LV_OK. */
LV_EXTERN(int) lv_key_revoke(lv_engine *engine, const char *key_id);

/** The key's current credits (read from the store now, not from the snapshot). */
LV_EXTERN(int) lv_key_credits(lv_credits *out, lv_engine *engine, const lv_key *key);

LV_EXTERN(const char *) lv_key_id(const lv_key *key);
LV_EXTERN(const char *) lv_key_name(const lv_key *key);
/** The first characters of the key, for display: "sk-AbCd1234". */
LV_EXTERN(const char *) lv_key_prefix(const lv_key *key);
/** Seconds since the epoch. */
LV_EXTERN(int64_t) lv_key_created_at(const lv_key *key);
LV_EXTERN(int) lv_key_revoked(const lv_key *key);
/** Credits as of when this key object was read. */
LV_EXTERN(const lv_credits *) lv_key_credits_snapshot(const lv_key *key);
/** The plaintext "sk-..." key: only on a key returned by lv_key_create(), else NULL. */
LV_EXTERN(const char *) lv_key_secret(const lv_key *key);
/** The "whsec_..." webhook secret: only on a key returned by lv_key_create(), else NULL. */
LV_EXTERN(const char *) lv_key_webhook_secret(const lv_key *key);

/**
 * Count one request of the key `key_id` against a rate limit shared by every process on the store:
 * the current fixed window of `window_ms` milliseconds, timed by the store's clock.  *count receives
 * the key's requests in this window so far (this one included), *left_ms the milliseconds until the
 * window ends.  LV_EINVALID when the store keeps no shared counters (SQLite: each process counts
 * for itself); LV_ESTORE when the store failed.
 */
LV_EXTERN(int) lv_key_rate_hit(lv_engine *engine, const char *key_id, int64_t window_ms, int64_t *count,
                               int64_t *left_ms);

/** Release a key object (wiping its plaintext secrets).  NULL-safe. */
LV_EXTERN(void) lv_key_free(lv_key *key);

/**
 * The key as JSON text: {"id","object":"api_key","name","prefix","created_at","revoked",
 * "balance","reserved","granted","settled"}, plus "api_key" and "webhook_secret" on a key
 * returned by lv_key_create().
 */
LV_EXTERN(int) lv_key_to_json(char **out, const lv_key *key);

/** {"object":"credits","balance","reserved","currency":"credits"} as JSON text. */
LV_EXTERN(int) lv_credits_to_json(char **out, const lv_credits *credits);

/** One page of a key's ledger (newest first). */
typedef struct lv_ledger_page lv_ledger_page;

/** One ledger entry; strings are owned by the page. */
typedef struct lv_ledger_item {
	const char *id;      /**< "le_..." (a cursor for the next page) */
	const char *kind;    /**< "grant", "reserve", "settle" or "refund" */
	int64_t amount;      /**< thousandths, > 0 */
	const char *task_id; /**< NULL for grants */
	int64_t created_at;  /**< ms since the epoch */
} lv_ledger_item;

/**
 * The key's ledger entries, newest first.  `limit` 1-100 (0: 20); `after` (NULL: from the newest) is
 * an entry id ("le_...") from a previous page.  A bad limit or cursor is LV_EINVALID.
 */
LV_EXTERN(int) lv_key_ledger(lv_ledger_page **out, lv_engine *engine, const lv_key *key, int limit,
                             const char *after);
LV_EXTERN(size_t) lv_ledger_page_count(const lv_ledger_page *page);
/** The i-th entry, or NULL. */
LV_EXTERN(const lv_ledger_item *) lv_ledger_page_get(const lv_ledger_page *page, size_t i);
/** The cursor for the next page, or NULL when this is the last. */
LV_EXTERN(const char *) lv_ledger_page_next_cursor(const lv_ledger_page *page);
/** The JSON text of GET /v1/credits/ledger: {"object":"list","data":[{"id","object":"ledger_entry",
 * "kind","amount","task_id","created_at"}],"has_more","next_cursor"}. */
LV_EXTERN(int) lv_ledger_page_to_json(char **out, const lv_ledger_page *page);
LV_EXTERN(void) lv_ledger_page_free(lv_ledger_page *page);

/**
 * Check the ledger invariant for every key: the ledger's sums match the
 * key's balance and reservations (granted - balance - reserved == settled),
 * every terminal task's reservation is fully settled or refunded, and every
 * running task still holds exactly its reservation.  LV_OK when it holds;
 * otherwise LV_EINTERNAL and, if `report` is not NULL, a description of
 * every violation (free with lv_free()).
 */
LV_EXTERN(int) lv_ledger_verify(lv_engine *engine, char **report);

/** What lv_store_migrate() copied. */
typedef struct lv_store_migration {
	int64_t keys, ledger_entries, tasks, segments, idempotency_keys, webhooks;
} lv_store_migration;

/**
 * Copy an embedded deployment's SQLite store into an empty store (a PostgreSQL database): keys,
 * the ledger, tasks, segments, idempotency records and the webhook outbox, in one transaction
 * (all or nothing).  `from` is "sqlite:PATH" (NULL: the engine's own store, which must be
 * SQLite); `to` is a store string, opened with the engine's store_password_env, pool size and
 * master key (which becomes the new store's; it must be the key the SQLite deployment used).
 * The ledger invariant is checked (lv_ledger_verify()) on the source before and on the copy
 * after; leases are cleared, so stop every process of the old deployment first.  `counts` may
 * be NULL; on a violated invariant, `report` (if not NULL) describes it (free with lv_free()).
 */
LV_EXTERN(int) lv_store_migrate(lv_engine *engine, const char *from, const char *to, lv_store_migration *counts,
                                char **report);

#ifdef __cplusplus
}
#endif
#endif
