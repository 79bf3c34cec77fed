/*
 * Internal: the provider interfaces, one versioned vtable per stage kind.
 *
 * A provider instance is built from its config block by the registry
 * (registry.c) according to its `type`; one instance may serve several
 * stages (the built-in `local` serves all six).  Calls are made from pipeline
 * threads; an instance must be safe to call from several threads at once.
 *
 * Synchronous stages (script, moderation, anchor, speech, music) are one
 * call each.  Video is asynchronous by nature — submit, poll, fetch — and
 * each of those calls is short (one HTTP exchange or a little local work),
 * so a few driver threads carry hundreds of jobs: between calls a job waits
 * in the driver's timer queue, not in a thread.
 *
 * Failure is data: a failing call fills an lv_provider_error with a task
 * error code ("script_failed", "segment_failed", "provider_timeout", ...)
 * and a message a user can act on.  Messages never contain keys or raw
 * vendor bodies.
 */
#ifndef LV_PROVIDERS_PROVIDER_H
#define LV_PROVIDERS_PROVIDER_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "http/http.h"
#include "providers/caps.h"

#define LV_PROVIDER_ABI_VERSION 1

typedef struct lv_provider_error {
	char code[32];     /* task error code */
	char message[512]; /* names the provider and what to do */
	int retryable;     /* a transient failure: the pipeline may try again */
} lv_provider_error;

/* Fill an error (returns LV_EPROVIDER). */
int lv_provider_fail(lv_provider_error *err, const char *code, int retryable, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* What every call gets. */
typedef struct lv_call_ctx {
	const volatile int *cancel; /* non-zero: stop soon, return LV_ECANCELED */
	const char *task_id;
	const char *work_dir;       /* a private scratch directory for this task on this machine */
} lv_call_ctx;

/* ---- script ------------------------------------------------------------------------- */

typedef struct lv_script_request {
	const char *prompt;
	const char *language;     /* primary tag: narration and titles in this language */
	const char *aspect_ratio;
	int duration;
	size_t n_shots;
	const int *shot_seconds;  /* exactly these durations, in order */
	int attempt;              /* 0 first; > 0 after invalid output (feedback below) */
	const char *feedback;     /* why the previous attempt was rejected, or NULL */
} lv_script_request;

typedef struct lv_script_ops {
	unsigned version;
	/* The storyboard (SPEC §4) as JSON text in *out (caller frees). */
	int (*write)(void *self, const lv_call_ctx *ctx, const lv_script_request *req, char **out,
	             lv_provider_error *err);
} lv_script_ops;

/* ---- moderation ----------------------------------------------------------------------- */

typedef struct lv_moderation_result {
	int flagged;
	size_t text_index;     /* which text was flagged */
	char categories[256];  /* comma-separated category names */
} lv_moderation_result;

typedef struct lv_moderation_ops {
	unsigned version;
	int (*check)(void *self, const lv_call_ctx *ctx, const char *const *texts, size_t n,
	             lv_moderation_result *out, lv_provider_error *err);
} lv_moderation_ops;

/* ---- anchor images ----------------------------------------------------------------------- */

typedef struct lv_anchor_request {
	const char *id;          /* character id, or "style" for the style frame */
	const char *name;
	const char *description;
	const char *style;       /* the film's style line */
	int is_style_frame;
	int width, height;
	uint32_t seed;
	const char *language;
	const char *out_png;
} lv_anchor_request;

typedef struct lv_anchor_ops {
	unsigned version;
	int (*render)(void *self, const lv_call_ctx *ctx, const lv_anchor_request *req, lv_provider_error *err);
} lv_anchor_ops;

/* ---- video segments (asynchronous) ---------------------------------------------------------- */

typedef struct lv_segment_job {
	const char *task_id;
	int index;
	int seconds;            /* length to generate (the billed length; >= the length used) */
	const char *resolution; /* "720p" | "1080p" */
	const char *aspect_ratio;
	int width, height;
	const char *prompt;     /* the shot: visual + camera + style, in words for a model */
	const char *visual;     /* the shot's visual description alone */
	const char *camera;
	const char *negative_prompt;
	const char *const *references; /* reference image files (PNG) for the characters in the shot: only real
	                                * pictures (from an image provider or the user), never drawn cards */
	const char *const *reference_names; /* the character each reference shows, in the same order (or NULL) */
	const char *const *reference_urls;  /* where the vendor can fetch each reference itself (storage's public or
	                                     * presigned URL), in the same order; NULL, or NULL entries, when the
	                                     * storage gives none (local storage) */
	size_t n_references;
	uint32_t seed;
	const char *language;
	const char *job_id;     /* when resuming: the id returned by submit */
	const char *job_state;  /* when resuming: the state returned with it (JSON) or NULL */
} lv_segment_job;

enum { LV_JOB_PENDING = 0, LV_JOB_RUNNING, LV_JOB_SUCCEEDED, LV_JOB_FAILED };

typedef struct lv_job_status {
	int state;              /* LV_JOB_* */
	int64_t poll_after_ms;  /* when to ask again (pending/running) */
	char *job_id;           /* submit: the vendor's id (caller frees) */
	char *job_state;        /* submit/poll: data to keep for resuming, JSON (caller frees) or NULL */
} lv_job_status;

/* Flags in lv_video_ops.flags. */
#define LV_VIDEO_FETCH_IS_CPU 0x1u /* fetch does CPU-heavy work: run it on the CPU pool */

typedef struct lv_video_ops {
	unsigned version;
	unsigned flags;
	/* Start a job.  Must set status->job_id; the pipeline stores it before it polls. */
	int (*submit)(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *status,
	              lv_provider_error *err);
	/* One status check. */
	int (*poll)(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *status,
	            lv_provider_error *err);
	/* Write the finished clip to out_path (MP4). */
	int (*fetch)(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
	             lv_provider_error *err);
	/* Ask the vendor to cancel (best effort; NULL when the vendor cannot). */
	int (*cancel)(void *self, const lv_call_ctx *ctx, const lv_segment_job *job);
} lv_video_ops;

/* ---- speech and music ------------------------------------------------------------------------- */

typedef struct lv_speech_ops {
	unsigned version;
	/* Speak text to an audio file; *seconds gets its length.  max_seconds: try to fit (rate). */
	int (*speak)(void *self, const lv_call_ctx *ctx, const char *text, const char *language, double max_seconds,
	             const char *out_path, double *seconds, lv_provider_error *err);
} lv_speech_ops;

typedef struct lv_music_ops {
	unsigned version;
	int (*compose)(void *self, const lv_call_ctx *ctx, double seconds, const char *mood, uint32_t seed,
	               const char *out_path, lv_provider_error *err);
} lv_music_ops;

/* ---- an instance ------------------------------------------------------------------------------------ */

typedef struct lv_provider {
	unsigned version;              /* LV_PROVIDER_ABI_VERSION */
	const char *name;              /* config name */
	const lv_provider_conf *conf;
	void *self;
	const lv_script_ops *script;   /* NULL where the type does not serve the stage */
	const lv_moderation_ops *moderation;
	const lv_anchor_ops *anchor;
	const lv_video_ops *video;
	const lv_speech_ops *speech;
	const lv_music_ops *music;
	int cpu_bound;                 /* calls are local CPU work (take a CPU slot); 0: network waits */
	void (*destroy)(void *self);
	/* Online check (lvctl doctor --online): one cheap authenticated request; NULL when there is none. */
	int (*ping)(void *self, lv_provider_error *err);
} lv_provider;

/* The provider's API key from the environment variable its config names (api_key_env).  *out is the
 * variable's value (not a copy: do not free, do not log).  A missing variable fails with `stage_code`
 * (the stage's error code, e.g. "segment_failed") and a message naming the variable, never the value. */
int lv_provider_api_key(const lv_provider_conf *conf, const char *stage_code, const char **out,
                        lv_provider_error *err);

/* Check a provider block's keys against the ones its type understands (plus the common ones): an unknown
 * or repeated key is LV_ECONFIG naming it. */
int lv_provider_check_keys(const lv_provider_conf *conf, const char *const *type_keys);

/* Optional keys of a provider block: an absent key gives the default, one of the wrong kind is LV_ECONFIG
 * naming providers.NAME.KEY.  A non-empty string (*out points into the config, which outlives the
 * provider), an integer from min to max, true or false. */
int lv_provider_conf_str(const char **out, const lv_provider_conf *conf, const char *key, const char *fallback);
int lv_provider_conf_int(int64_t *out, const lv_provider_conf *conf, const char *key, int64_t def, int64_t min,
                         int64_t max);
int lv_provider_conf_bool(int *out, const lv_provider_conf *conf, const char *key, int def);

/* Free a string that held a secret (a header with the key), wiping it first (NULL is fine). */
void lv_provider_free_secret(char *s);

/* A request to the provider: `method`, `url`, `headers`, `secrets` and `what` (the provider's name for
 * messages, "provider 'NAME'") as given, the provider's timeout_ms and connect_timeout_ms, the rest zero. */
void lv_provider_request(lv_http_request *req, const lv_provider_conf *conf, const char *method, const char *url,
                         const char *const *headers, const char *const *secrets, const char *what);

/* For ping hooks (lvctl doctor --online): GET `url` — an endpoint any valid key may read, such as the
 * vendor's model list — with `headers`; LV_OK on 2xx, else an error saying whether the key was refused
 * or the server could not be reached. */
int lv_provider_ping_url(const lv_provider_conf *conf, const char *url, const char *const *headers,
                         const char *const *secrets, lv_provider_error *err);

/* lv_provider_ping_url with the key (if not NULL) as "Authorization: Bearer KEY". */
int lv_provider_ping_bearer(const lv_provider_conf *conf, const char *url, const char *key, lv_provider_error *err);

/* A provider type's constructor. */
typedef int (*lv_provider_factory)(lv_provider *p, const lv_provider_conf *conf);

/* The constructor for a type, or NULL when this build has none. */
lv_provider_factory lv_provider_factory_find(const char *type);

/* All configured providers, built. */
typedef struct lv_providers {
	lv_provider *items;
	size_t n;
} lv_providers;

int lv_providers_build(lv_providers **out, const lv_config *cfg);
const lv_provider *lv_providers_get(const lv_providers *ps, const char *name);
void lv_providers_free(lv_providers *ps);

#endif
