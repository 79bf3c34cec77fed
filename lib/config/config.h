/*
 * Internal: the configuration (SPEC §6), parsed and validated once when the
 * engine opens.  Every key is optional; unknown keys are errors that name
 * the key, so that a typo never silently falls back to a default.
 */
#ifndef LV_CONFIG_H
#define LV_CONFIG_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "providers/caps.h"

typedef struct lv_provider_conf {
	char *name;
	char *type;
	const lv_provider_type_info *info;
	const cJSON *json;   /* the provider's block, owned by the config */
	lv_video_caps video; /* effective capabilities (type defaults, then config) */
	char *api_key_env;   /* the NAME of the environment variable holding the key */
	char *base_url;
	long timeout_ms;     /* total per request */
	long connect_timeout_ms;
	int max_retries;     /* for 429/5xx/network errors */
	int max_concurrent_jobs; /* video jobs in flight at once across the process (vendors limit them per account) */
	const struct lv_provider_type *plugin; /* a program's type (longvideo/sys/provider.h), or NULL: built in */
} lv_provider_conf;

enum { LV_STAGE_IDX_SCRIPT, LV_STAGE_IDX_MODERATION, LV_STAGE_IDX_ANCHOR, LV_STAGE_IDX_SPEECH,
       LV_STAGE_IDX_MUSIC, LV_STAGE_IDX_COUNT };

#define LV_MAX_WEBHOOK_DELAYS 16

/* storage.type "s3" (SPEC §7).  Credentials are never here: only the names of the variables holding them. */
typedef struct lv_s3_conf {
	char *endpoint;        /* scheme://host[:port], no path */
	char *region;          /* default "us-east-1" */
	char *bucket;
	char *prefix;          /* "" or "a/b/" (always ends in '/' when not empty) */
	int path_style;        /* 1: endpoint/bucket/key; 0: bucket.endpoint/key */
	char *access_key_env;  /* default "AWS_ACCESS_KEY_ID" */
	char *secret_key_env;  /* default "AWS_SECRET_ACCESS_KEY" */
	char *public_base_url; /* NULL: results are served through presigned URLs */
	int presign_seconds;   /* default 3600 */
} lv_s3_conf;

/* The "compose" section: what the composer aims at and what the quality report holds the film to. */
typedef struct lv_compose_conf {
	double target_lufs;         /* compose.target_lufs, default -16 */
	double true_peak_dbtp;      /* compose.true_peak_dbtp, default -1.5 */
	double segment_audio_db;    /* compose.segment_audio_db, default -18 */
	/* compose.qc */
	double loudness_tolerance_lu;     /* default 1 */
	double duration_tolerance_frames; /* default 1 */
	double min_ducking_db;            /* default 6 */
	double min_speech_coverage;       /* default 0.6 */
	double black_min_s, max_black_s;  /* default 0.1, 0 */
	double freeze_noise_db;           /* default -60 */
	double freeze_min_s, max_freeze_s; /* default 1, 0 */
	int max_line_chars, max_lines;    /* default 42, 2 */
	double min_cue_s, max_cue_s;      /* default 0.8, 7 */
	double max_chars_per_second;      /* default 20 */
} lv_compose_conf;

typedef struct lv_config {
	cJSON *root; /* the whole parsed file ({} when none) */
	cJSON *builtin_local; /* the block of the built-in "local" provider when the file has none */

	char *data_dir;
	char *store;         /* "sqlite:PATH" or "postgresql://..." */
	char *storage_type;  /* "local" | "s3" | a program's type (storage_plugin) */
	const struct lv_storage_type *storage_plugin; /* the program's type selected, or NULL: built in */
	char *storage_dir;
	const cJSON *storage_json;
	lv_s3_conf s3;       /* when storage_type is "s3" */
	int retention_days;     /* results of tasks finished longer ago are removed by gc; 0 = kept forever */
	int keep_intermediates; /* 0: a task's working files (tasks/{id}/) are removed once it is delivered */

	char *listen;
	char *public_url;
	int public_url_explicit; /* given by config or override (not derived from listen) */
	int threads;
	int64_t max_body_bytes;
	int64_t max_create_body_bytes; /* POST /v1/videos (character images) */
	int rate_limit_per_minute; /* per API key; 0 = off */
	int max_connections;        /* open client connections in all */
	int max_connections_per_ip; /* open client connections from one address */
	int edge_threads;           /* the edge's event loops; 0: one per online CPU, at most 16 */
	int max_event_streams;      /* live progress streams open at once (threads of their own) */
	int header_timeout_ms;      /* total time to receive a request head */
	int body_timeout_ms;        /* total time to receive a request body */
	char *trusted_proxies;      /* comma-separated addresses whose X-Forwarded-For is believed, or NULL */
	char *cors_origins;         /* comma-separated origins the JSON API answers with CORS, or NULL */
	int log_json;               /* server.log_format "json": one JSON object per log line */
	int edge_reads;             /* server.edge_reads: 1 "on", 0 "off", -1 "auto" (on with an SQLite store) */

	int workers;
	int segment_concurrency;
	int lease_seconds;
	int segment_retries;
	int max_tasks_in_flight; /* per process; 0: derived from cores and providers (lv_config_max_tasks_in_flight) */
	double review_timeout_hours; /* a task left in awaiting_review longer is canceled */
	char *default_video_provider;
	char *stage_provider[LV_STAGE_IDX_COUNT];

	lv_provider_conf *providers;
	size_t n_providers;

	int64_t webhook_delays_ms[LV_MAX_WEBHOOK_DELAYS];
	size_t n_webhook_delays;
	long webhook_timeout_ms;
	int webhook_allow_private;

	int idempotency_ttl_hours;
	char *master_key_env; /* env var with the base64 master key; else <data_dir>/master.key */
	char *store_password_env; /* env var with the PostgreSQL password, or NULL (libpq's PGPASSWORD/.pgpass) */
	int store_pool_size;      /* PostgreSQL connections per process at most; 0 = LV_STORE_DEFAULT_POOL */
	lv_compose_conf compose;

	/* Provider types of the program (lv_config_overrides.types), described for the checks above. */
	const struct lv_provider_type *const *plugins;
	lv_provider_type_info *plugin_infos;
	size_t n_plugins;
} lv_config;

typedef struct lv_config_overrides {
	const char *data_dir;
	const char *listen;
	const char *public_url;
	int workers; /* -1: none */
	const struct lv_provider_type *const *types; /* provider types of the program (may be NULL) */
	size_t n_types;
	const struct lv_storage_type *const *storage_types; /* storage types of the program (may be NULL) */
	size_t n_storage_types;
} lv_config_overrides;

/* One key the parser knows: section "" (top level), "server", "storage" (type local), "storage.s3"
 * (type s3), "pipeline", "webhooks", "secrets"; its default as JSON text ("null": none or derived). */
typedef struct lv_config_key {
	const char *section;
	const char *name;
	const char *def;
} lv_config_key;

/* Every key, ending with an entry whose name is NULL (provider blocks are described per type). */
extern const lv_config_key lv_config_keys[];
/* The built-in or program's type called `type`, or NULL. */
const lv_provider_type_info *lv_config_type_find(const lv_config *cfg, const char *type,
                                                 const struct lv_provider_type **plugin);

/* Load from JSON text (if not NULL), else from a file (if not NULL), else defaults. */
int lv_config_load(lv_config **out, const char *path, const char *json_text, const lv_config_overrides *ov);
void lv_config_free(lv_config *cfg);

const lv_provider_conf *lv_config_provider(const lv_config *cfg, const char *name);
/* The provider serving a stage (by LV_STAGE_IDX_*). */
const lv_provider_conf *lv_config_stage_provider(const lv_config *cfg, int stage_idx);
const char *lv_config_stage_name(int stage_idx);
/* Tasks one process holds at most: pipeline.max_tasks_in_flight, or when unset the larger of 4 per
 * core and what the video providers' max_concurrent_jobs can keep busy at segment_concurrency each. */
int lv_config_max_tasks_in_flight(const lv_config *cfg, int cores);
/* Replace the public URL (the server does this when it bound port 0 and none was configured). */
int lv_config_set_public_url(lv_config *cfg, const char *url);

#endif
