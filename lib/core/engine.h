/* Internal: the engine object and helpers shared by the core modules. */
#ifndef LV_CORE_ENGINE_H
#define LV_CORE_ENGINE_H

#include "config/config.h"
#include "core/metrics.h"
#include "longvideo/engine.h"
#include "providers/provider.h"
#include "storage/storage.h"
#include "store/store.h"

#include <pthread.h>

#define LV_MAX_SETTINGS 48

struct lv_engine {
	lv_config *cfg;
	lv_store *store;          /* NULL with LV_ENGINE_NO_STORE */
	lv_storage *storage;      /* NULL with LV_ENGINE_NO_STORE */
	lv_providers *providers;
	lv_metrics *metrics;      /* this process's pipeline counters (GET /metrics) */
	unsigned char master_key[32];
	struct lv_hmac_key *events_mac; /* HMAC under the master key, for events_url tokens (NULL: one-shot) */
	unsigned flags;
	struct {
		const char *name;
		char *value;
	} settings[LV_MAX_SETTINGS];
	size_t n_settings;
	/* Group commit: write transactions of this process queue here; one thread at a time (the
	 * leader) runs what is queued in one store transaction, each in its own savepoint, and commits
	 * once for all of them. */
	pthread_mutex_t gmu;
	pthread_cond_t gcv;
	struct lv_write_req *gq_head, *gq_tail;
	int leading;
	pthread_t leader;
};

/* The store, or LV_EINVALID "this engine was opened without a store". */
int lv_engine_require_store(lv_engine *e);

/* The video provider called `name` (the task's "provider" field); records
 * LV_EINVALID "provider: ..." naming the configured video providers when there is none. */
const lv_provider_conf *lv_engine_video_provider(lv_engine *e, const char *name);

/* Run fn inside one store transaction (write or read), committing on LV_OK and rolling back
 * otherwise; a busy database is retried a few times.  Writes of concurrent callers may share one
 * transaction and one commit (each in its own savepoint: a failing fn undoes only its own writes);
 * fn must not start another write transaction. */
typedef int (*lv_tx_fn)(lv_store_tx *tx, void *ctx);
int lv_engine_tx(lv_engine *e, int write, lv_tx_fn fn, void *ctx);

/* The webhook secret's 32 bytes for a key (derived from the master key and the key's salt). */
void lv_engine_webhook_secret(const lv_engine *e, const lv_key_rec *key, unsigned char out[32]);

/* The master key kept in <data_dir>/master.key (hashed as the engine uses it); LV_ENOTFOUND
 * when there is no such file. */
int lv_engine_file_master_key(const lv_engine *e, unsigned char out[32]);

/* Replace the public URL (used when the server bound an ephemeral port and none was configured). */
int lv_engine_update_public_url(lv_engine *e, const char *url);

#endif
