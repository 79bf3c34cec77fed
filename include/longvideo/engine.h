/*
 * liblongvideo — the engine: configuration, task store, providers.
 *
 * One engine per process is typical; it is safe to use from many threads
 * at once.  Several processes (lvserver, lvctl, your program) may open
 * engines on the same store at the same time.
 */
#ifndef LONGVIDEO_ENGINE_H
#define LONGVIDEO_ENGINE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lv_engine lv_engine;

/** Do not open the task store: only planning and estimates work. */
#define LV_ENGINE_NO_STORE 0x1u
/** Open the task store only if it exists (LV_ECONFIG naming it otherwise) instead of creating a new one:
 *  for tools that read or act on existing tasks, so a mistyped data directory is an error, not a new
 *  empty store. */
#define LV_ENGINE_EXISTING_STORE 0x2u

#define LV_ENGINE_OPTIONS_VERSION 3

struct lv_provider_type; /* longvideo/sys/provider.h */
struct lv_storage_type;  /* longvideo/sys/storage.h */
/** Provider types one lv_engine_options can carry. */
#define LV_ENGINE_MAX_PROVIDER_TYPES 16
/** Storage types one lv_engine_options can carry. */
#define LV_ENGINE_MAX_STORAGE_TYPES 4

typedef struct lv_engine_options {
	unsigned int version;    /**< LV_ENGINE_OPTIONS_VERSION */
	const char *config_path; /**< JSON config file; NULL: $LV_CONFIG if set, else built-in defaults */
	const char *config_json; /**< config given as JSON text instead of a file (wins over config_path) */
	const char *data_dir;    /**< overrides "data_dir" (default "lvdata") */
	const char *listen;      /**< overrides "server.listen" */
	const char *public_url;  /**< overrides "server.public_url" */
	int workers;             /**< overrides "pipeline.workers"; -1 keeps the config's value */
	unsigned int flags;      /**< LV_ENGINE_* flags */
	/* Since version 2: provider types of the program, added with lv_engine_register_provider_type()
	 * (longvideo/sys/provider.h). */
	const struct lv_provider_type *provider_types[LV_ENGINE_MAX_PROVIDER_TYPES];
	size_t n_provider_types;
	/* Since version 3: storage types of the program, added with lv_engine_register_storage_type()
	 * (longvideo/sys/storage.h). */
	const struct lv_storage_type *storage_types[LV_ENGINE_MAX_STORAGE_TYPES];
	size_t n_storage_types;
} lv_engine_options;

#define LV_ENGINE_OPTIONS_INIT \
	{ LV_ENGINE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, -1, 0u, { NULL }, 0, { NULL }, 0 }

/**
 * Load the configuration, apply the overrides in `opts` (NULL: defaults),
 * open (and migrate) the store and build the providers.
 * On success `*out` is an engine to release with lv_engine_close().
 */
LV_EXTERN(int) lv_engine_open(lv_engine **out, const lv_engine_options *opts);

/** Close the store and release the engine.  NULL-safe. */
LV_EXTERN(void) lv_engine_close(lv_engine *engine);

/**
 * The effective value of a setting after defaults and overrides, as text.
 * Names: "data_dir", "store", "storage.type", "storage.dir", "server.listen",
 * "server.public_url", "server.threads", "server.max_body_bytes",
 * "server.rate_limit_per_minute", "server.max_connections",
 * "server.max_connections_per_ip", "server.edge_threads", "server.max_event_streams",
 * "server.header_timeout_ms", "server.body_timeout_ms",
 * "server.trusted_proxies", "server.cors_origins" (comma-separated lists), "pipeline.workers",
 * "pipeline.default_video_provider".  Returns NULL for an unknown name.
 * The string lives as long as the engine.
 */
LV_EXTERN(const char *) lv_engine_setting(const lv_engine *engine, const char *name);

/** lv_engine_setting() parsed as an integer; `fallback` when unset or not a number. */
LV_EXTERN(int64_t) lv_engine_setting_int(const lv_engine *engine, const char *name, int64_t fallback);

/**
 * Set the public base URL used to build absolute media URLs, unless one was
 * configured ("server.public_url" or the public_url option), in which case
 * the configured one stays and this returns LV_OK without change.  A server
 * calls this after binding, e.g. when it listened on port 0.  Call it before
 * other threads use the engine.
 */
LV_EXTERN(int) lv_engine_set_public_url(lv_engine *engine, const char *url);

/** lv_engine_doctor(): also ask each provider over the network whether it answers. */
#define LV_DOCTOR_ONLINE 0x1u

typedef struct lv_doctor lv_doctor;

/** One finding of lv_engine_doctor(). */
typedef struct lv_doctor_check {
	const char *check;    /**< "stage", "api_key_env", "base_url", "build", "online", "store" */
	const char *provider; /**< the provider concerned, or NULL */
	int ok;
	const char *message;  /**< what was found, and what to do when not ok */
} lv_doctor_check;

/**
 * Whether the engine's media storage answers now (for readiness probes): an S3 bucket is reached and
 * accepts the credentials; a local media directory is writable.  LV_OK, or an error whose message
 * names the endpoint and bucket (or the directory).  No-op (LV_OK) on an engine without storage.
 */
LV_EXTERN(int) lv_engine_check_storage(lv_engine *engine);

/**
 * Check the configuration as deployed: the providers every pipeline stage names exist and can serve
 * it, every provider's api_key_env is set, base URLs parse, workflow files load, and, with
 * LV_DOCTOR_ONLINE, that each provider answers and that a PostgreSQL store can be reached and logged
 * in to (without changing it).  Returns LV_OK with the findings in *out (also when
 * some checks failed: see lv_doctor_ok()).  Works on an engine opened with LV_ENGINE_NO_STORE.
 */
LV_EXTERN(int) lv_engine_doctor(lv_doctor **out, lv_engine *engine, unsigned int flags);
LV_EXTERN(size_t) lv_doctor_count(const lv_doctor *doctor);
/** The i-th finding; owned by the doctor object. */
LV_EXTERN(const lv_doctor_check *) lv_doctor_get(const lv_doctor *doctor, size_t i);
/** 1 when every check passed. */
LV_EXTERN(int) lv_doctor_ok(const lv_doctor *doctor);
/** {"ok": bool, "checks": [{"check","provider","ok","message"}, ...]} */
LV_EXTERN(int) lv_doctor_to_json(char **out, const lv_doctor *doctor);
LV_EXTERN(void) lv_doctor_free(lv_doctor *doctor);

/**
 * This process's pipeline metrics and the store's credit totals in the Prometheus text format
 * (version 0.0.4), for an operator's scrape: longvideo_stage_duration_seconds (histogram by stage),
 * longvideo_provider_calls_total (by provider, stage, outcome), longvideo_provider_call_duration_seconds
 * (histogram by provider) and longvideo_credits (gauge by kind, from the running totals the keys
 * carry: one aggregate over the keys, never over the ledger).  The counters are kept by the engine
 * (thread-safe) and count what this process's workers did since the engine was opened.  *out is
 * NUL-terminated, *len (may be NULL) its length; free *out with lv_free().
 */
LV_EXTERN(int) lv_engine_metrics_text(lv_engine *engine, char **out, size_t *len);

/** What lv_engine_gc() removes. */
typedef struct lv_gc_options {
	int older_than_days; /**< results and working files of tasks finished more than this many days ago
	                          (0: every finished task); -1: storage.retention_days (0 there: none) */
	int intermediates;   /**< 1: also the working files of every completed task, whatever
	                          storage.keep_intermediates says (0: only when it is false) */
	int dry_run;         /**< 1: count what would be removed, remove and mark nothing */
} lv_gc_options;

/** What lv_engine_gc() found and did (tasks, not objects). */
typedef struct lv_gc_report {
	int64_t tasks_scanned;         /**< every task of every key */
	int64_t results_removed;       /**< tasks whose published results were removed */
	int64_t intermediates_removed; /**< tasks whose working files (tasks/{id}/) were removed */
	int64_t skipped_running;       /**< old enough but not finished (or held by a worker): left alone */
} lv_gc_report;

/**
 * Apply the retention policy once, through the storage backend (local or S3): for every task in a
 * final state (completed, failed, canceled) and not held by a worker, remove its results when it
 * finished more than `older_than_days` days ago, and its working files then too, or (completed tasks)
 * whenever storage.keep_intermediates is false or `intermediates` is set.  The task is marked first,
 * in the store: its result URLs then answer LV_EGONE (HTTP 410 result_removed), and re-compose and
 * regenerate refuse it (LV_ENOTCOMPOSABLE).  Tasks in progress are never touched.  A removal that
 * fails is retried by the next run.  `opts` NULL: the configured policy.
 */
LV_EXTERN(int) lv_engine_gc(lv_engine *engine, const lv_gc_options *opts, lv_gc_report *report);

#ifdef __cplusplus
}
#endif
#endif
