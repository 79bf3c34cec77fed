/* Internal: API key objects and credit movements. */
#ifndef LV_CORE_KEYS_H
#define LV_CORE_KEYS_H

#include "longvideo/keys.h"
#include "store/store.h"

#define LV_API_KEY_RANDOM_CHARS 40

struct lv_key {
	lv_key_rec rec;
	lv_credits credits;
	char *secret;         /* only on a freshly created key */
	char *webhook_secret; /* only on a freshly created key */
};

struct lv_key_list {
	lv_key *keys;
	size_t n;
};

/* 1 when s has the shape of an API key: "sk-" + 40 characters [A-Za-z0-9]. */
int lv_api_key_well_formed(const char *s);
/* The hash a key is found by (hex SHA-256 of the secret); LV_EAUTH when api_key is not shaped like one. */
int lv_key_secret_hash(char hash[65], const char *api_key);
/* Inside tx: the key with that hash into *out; LV_EAUTH when it is unknown or revoked. */
int lv_key_by_hash_tx(lv_key **out, lv_engine *e, lv_store_tx *tx, const char *hash);

/* Move credits for a task, appending ledger entries and updating the key, inside tx.
 * reserve: balance -> reserved.  finalize: settle `charge` (capped at what the task still holds)
 * and refund the rest of the task's outstanding reservation; returns the task's total settled
 * amount in *cost_actual.  Finalizing a task twice moves nothing the second time. */
int lv_credits_reserve(lv_store_tx *tx, const lv_store_ops *ops, lv_key_rec *key, const char *task_id,
                       int64_t amount, int64_t now);
int lv_credits_finalize(lv_store_tx *tx, const lv_store_ops *ops, const char *key_id, const char *task_id,
                        int64_t charge, int64_t now, int64_t *cost_actual);

#endif
