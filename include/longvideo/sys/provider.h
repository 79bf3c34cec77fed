/*
 * liblongvideo — plug-in providers: the versioned provider interface.
 *
 * A program that links the library can add its own provider type: describe it with an
 * lv_provider_type (its name, the stages it serves, what its clips cost) and a create function that
 * fills an lv_provider_methods with one vtable per stage it serves.  Register the type on the engine
 * options with lv_engine_register_provider_type(); config blocks then name it in "type" like any
 * built-in type, and the pipeline, the server and lv_provider_open() use it.  The same interface is
 * what the built-in providers implement.
 *
 *     static const lv_script_ops my_script = { LV_PROVIDER_OPS_VERSION, my_write };
 *     static int my_create(lv_provider_methods *m, const lv_provider_conf *conf, void *data)
 *     {
 *         m->self = data;
 *         m->script = &my_script;
 *         return LV_OK;
 *     }
 *     static const lv_provider_type my_type = { LV_PROVIDER_TYPE_VERSION, "my-writer",
 *         LV_PROVIDER_SCRIPT, NULL, 0, 0, 0, 0, 0, { -1, -1 }, my_create, NULL };
 *
 * Every call may come from several pipeline threads at once: an instance must be safe to call
 * concurrently.  Synchronous stages (script, moderation, reference image, speech, music) are one call
 * each.  Video is asynchronous: submit, then poll until it succeeds or fails, then fetch; each call
 * should be short (one request), since the pipeline drives many jobs from few threads.
 *
 * Failure is data: a failing call fills its lv_provider_error with lv_provider_fail() — a task error
 * code ("script_failed", "segment_failed", "provider_timeout", ...), a message a user can act on
 * (never a key or a raw vendor body), and whether trying again may help — and returns LV_EPROVIDER.
 *
 * Structs the library hands to a provider may grow at their end in later versions; a provider never
 * allocates them.  Structs a provider hands to the library (the *_ops vtables, lv_provider_type)
 * start with a version that the provider sets to the constant it was compiled with.
 */
#ifndef LONGVIDEO_SYS_PROVIDER_H
#define LONGVIDEO_SYS_PROVIDER_H

#include "../common.h"
#include "../engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Stages a provider type can serve (lv_provider_type.stages, lv_provider_stages()). */
#define LV_PROVIDER_SCRIPT 0x1u          /**< writes storyboards */
#define LV_PROVIDER_MODERATION 0x2u      /**< checks texts */
#define LV_PROVIDER_REFERENCE_IMAGE 0x4u /**< draws character and style reference images */
#define LV_PROVIDER_VIDEO 0x8u           /**< generates video clips (asynchronous jobs) */
#define LV_PROVIDER_SPEECH 0x10u         /**< speaks narration */
#define LV_PROVIDER_MUSIC 0x20u          /**< makes a music bed */

/** The version of the *_ops vtables and lv_provider_methods in this header. */
#define LV_PROVIDER_OPS_VERSION 1

/** A provider's config block, as given in "providers": {"NAME": {...}}.  Owned by the library; valid
 *  as long as the provider instance it was given to. */
typedef struct lv_provider_conf lv_provider_conf;

/** The provider's name in the config ("providers": {"NAME": ...}).  Valid as long as `conf`. */
LV_EXTERN(const char *) lv_provider_conf_name(const lv_provider_conf *conf);

/**
 * A string key of the block: *out points into the config (valid as long as `conf`; do not free), or
 * is `fallback` when the key is absent.  LV_ECONFIG naming providers.NAME.KEY when it is not a non-empty
 * string.
 */
LV_EXTERN(int) lv_provider_conf_str(const char **out, const lv_provider_conf *conf, const char *key,
                                    const char *fallback);
/** An integer key from `min` to `max`; `def` when absent.  LV_ECONFIG naming the key otherwise. */
LV_EXTERN(int) lv_provider_conf_int(int64_t *out, const lv_provider_conf *conf, const char *key, int64_t def,
                                    int64_t min, int64_t max);
/** A true/false key; `def` when absent.  LV_ECONFIG naming the key otherwise. */
LV_EXTERN(int) lv_provider_conf_bool(int *out, const lv_provider_conf *conf, const char *key, int def);

/**
 * The value of the environment variable the block names in "api_key_env", or NULL when it names none
 * or the variable is unset.  Not a copy: do not free it, and never log it or put it in a message.
 */
LV_EXTERN(const char *) lv_provider_conf_api_key(const lv_provider_conf *conf);

/** Why a provider call failed. */
typedef struct lv_provider_error {
	char code[32];     /**< task error code: "script_failed", "segment_failed", "provider_timeout", ... */
	char message[512]; /**< names the provider and what to do; never a key or a raw vendor body */
	int retryable;     /**< non-zero: a transient failure, trying again may succeed */
} lv_provider_error;

/** Fill `err` (which may be NULL) and return LV_EPROVIDER. */
LV_EXTERN(int) lv_provider_fail(lv_provider_error *err, const char *code, int retryable, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
        __attribute__((format(printf, 4, 5)))
#endif
        ;

/** What every call gets. */
typedef struct lv_call_ctx {
	const volatile int *cancel; /**< non-zero: stop soon and return LV_ECANCELED; may be NULL */
	const char *task_id;        /**< the task served, or NULL outside a task */
	const char *work_dir;       /**< an existing private scratch directory for this call */
} lv_call_ctx;

/* ---- script (storyboards) ---------------------------------------------------------------------------- */

/** What to write: a storyboard (SPEC §4) of exactly n_shots shots of exactly these lengths. */
typedef struct lv_script_request {
	const char *prompt;
	const char *language;     /**< primary tag: narration and titles in this language */
	const char *aspect_ratio; /**< "16:9", "9:16" or "1:1" */
	int duration;             /**< seconds */
	size_t n_shots;
	const int *shot_seconds;  /**< exactly these durations, in order */
	int attempt;              /**< 0 first; > 0 after an invalid storyboard (see feedback) */
	const char *feedback;     /**< why the previous attempt was rejected, or NULL */
} lv_script_request;

typedef struct lv_script_ops {
	unsigned int version; /**< LV_PROVIDER_OPS_VERSION */
	/** The storyboard as JSON text in *out, allocated with malloc (the library frees it). */
	int (*write)(void *self, const lv_call_ctx *ctx, const lv_script_request *req, char **out,
	             lv_provider_error *err);
} lv_script_ops;

/* ---- moderation --------------------------------------------------------------------------------------------- */

typedef struct lv_moderation_result {
	int flagged;          /**< non-zero: one of the texts was flagged */
	size_t text_index;    /**< which text was flagged */
	char categories[256]; /**< comma-separated category names */
} lv_moderation_result;

typedef struct lv_moderation_ops {
	unsigned int version; /**< LV_PROVIDER_OPS_VERSION */
	/** Check n texts; fill *out (zeroed by the library before the call). */
	int (*check)(void *self, const lv_call_ctx *ctx, const char *const *texts, size_t n, lv_moderation_result *out,
	             lv_provider_error *err);
} lv_moderation_ops;

/* ---- reference images ------------------------------------------------------------------------------------------ */

typedef struct lv_anchor_request {
	const char *id;          /**< character id, or "style" for the style frame */
	const char *name;
	const char *description;
	const char *style;       /**< the film's style line */
	int is_style_frame;
	int width, height;
	uint32_t seed;
	const char *language;
	const char *out_png;     /**< write the picture here (PNG) */
} lv_anchor_request;

typedef struct lv_anchor_ops {
	unsigned int version; /**< LV_PROVIDER_OPS_VERSION */
	int (*render)(void *self, const lv_call_ctx *ctx, const lv_anchor_request *req, lv_provider_error *err);
} lv_anchor_ops;

/* ---- video clips (asynchronous) --------------------------------------------------------------------------------- */

typedef struct lv_segment_job {
	const char *task_id;
	int index;              /**< the shot's index in the film */
	int seconds;            /**< length to generate (the billed length; >= the length used) */
	const char *resolution; /**< "720p" | "1080p" */
	const char *aspect_ratio;
	int width, height;
	const char *prompt;     /**< the shot: visual + camera + style, in words for a model */
	const char *visual;     /**< the shot's visual description alone */
	const char *camera;
	const char *negative_prompt;
	const char *const *references;      /**< reference pictures (PNG) of the characters in the shot */
	const char *const *reference_names; /**< the character each reference shows, same order (or NULL) */
	size_t n_references;
	uint32_t seed;
	const char *language;
	const char *job_id;     /**< after submit: the id it returned */
	const char *job_state;  /**< after submit: the state last returned with it (JSON) or NULL */
	/** submit: where the vendor can fetch each reference itself (the storage's public or presigned URL),
	 *  same order as references; NULL, or NULL entries, when the storage gives none (local storage). */
	const char *const *reference_urls;
} lv_segment_job;

/** lv_job_status.state */
enum { LV_JOB_PENDING = 0, LV_JOB_RUNNING, LV_JOB_SUCCEEDED, LV_JOB_FAILED };

typedef struct lv_job_status {
	int state;              /**< LV_JOB_* */
	int64_t poll_after_ms;  /**< pending/running: when to ask again */
	char *job_id;           /**< submit: the vendor's job id, allocated with malloc (the library frees it) */
	char *job_state;        /**< submit/poll: data to keep for the next calls, JSON, malloc'd, or NULL */
} lv_job_status;

/** lv_video_ops.flags: fetch does CPU-heavy work (the pipeline runs it on its CPU pool). */
#define LV_VIDEO_FETCH_IS_CPU 0x1u

typedef struct lv_video_ops {
	unsigned int version; /**< LV_PROVIDER_OPS_VERSION */
	unsigned int flags;   /**< LV_VIDEO_* */
	/** Start a job.  Must set status->job_id; it is stored before the first poll. */
	int (*submit)(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *status,
	              lv_provider_error *err);
	/** One status check of job->job_id. */
	int (*poll)(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *status,
	            lv_provider_error *err);
	/** Write the finished clip to out_path (MP4). */
	int (*fetch)(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
	             lv_provider_error *err);
	/** Ask the vendor to cancel (best effort); NULL when it cannot. */
	int (*cancel)(void *self, const lv_call_ctx *ctx, const lv_segment_job *job);
} lv_video_ops;

/* ---- speech and music ------------------------------------------------------------------------------------------ */

typedef struct lv_speech_ops {
	unsigned int version; /**< LV_PROVIDER_OPS_VERSION */
	/** Speak text into an audio file; *seconds gets its length.  max_seconds: try to fit (speak faster). */
	int (*speak)(void *self, const lv_call_ctx *ctx, const char *text, const char *language, double max_seconds,
	             const char *out_path, double *seconds, lv_provider_error *err);
} lv_speech_ops;

typedef struct lv_music_ops {
	unsigned int version; /**< LV_PROVIDER_OPS_VERSION */
	/** A music bed of `seconds` in `mood` (may be NULL) to an audio file. */
	int (*compose)(void *self, const lv_call_ctx *ctx, double seconds, const char *mood, uint32_t seed,
	               const char *out_path, lv_provider_error *err);
} lv_music_ops;

/* ---- a provider type ------------------------------------------------------------------------------------------- */

/** What a provider instance serves: filled by lv_provider_type.create. */
typedef struct lv_provider_methods {
	unsigned int version;                /**< set by the library (LV_PROVIDER_OPS_VERSION) */
	void *self;                          /**< passed to every call */
	const lv_script_ops *script;         /**< NULL where the instance does not serve the stage */
	const lv_moderation_ops *moderation;
	const lv_anchor_ops *anchor;
	const lv_video_ops *video;
	const lv_speech_ops *speech;
	const lv_music_ops *music;
	int cpu_bound;                       /**< non-zero: calls are local CPU work (the pipeline bounds them by cores) */
	void (*destroy)(void *self);         /**< release self; may be NULL */
} lv_provider_methods;

#define LV_PROVIDER_TYPE_VERSION 1

/** A provider type.  The library keeps a pointer to it: it must outlive every engine that uses it. */
typedef struct lv_provider_type {
	unsigned int version;      /**< LV_PROVIDER_TYPE_VERSION */
	const char *name;          /**< the "type" config blocks name; must not be a built-in type's name */
	unsigned int stages;       /**< LV_PROVIDER_* stages it can serve */
	const char *const *keys;   /**< the block keys it reads besides the common ones, NULL-terminated; NULL: none */
	int needs_api_key;         /**< non-zero: blocks must name api_key_env */
	/* Video clips (LV_PROVIDER_VIDEO): defaults that a block may override with the common keys. */
	int min_seconds;           /**< shortest clip it makes (0: 1) */
	int max_seconds;           /**< longest clip it makes (0: 8) */
	unsigned int resolutions;  /**< bit 0: 720p, bit 1: 1080p (0: 720p only) */
	unsigned int aspects;      /**< bit 0: 16:9, bit 1: 9:16, bit 2: 1:1 (0: all three) */
	int64_t rate[2];           /**< thousandths of a credit per generated second at 720p and 1080p; -1: the
	                                block must give "rates" */
	/** Build an instance from its block: fill `m` (zeroed, version set) and return LV_OK, or return a
	 *  status (LV_ECONFIG from the lv_provider_conf_* getters names the key; the library adds the
	 *  provider's name).  Called when an engine opens or lv_provider_open() runs. */
	int (*create)(lv_provider_methods *m, const lv_provider_conf *conf, void *type_data);
	void *type_data;           /**< passed to create */
} lv_provider_type;

/**
 * Let an engine opened with `opts` use `type`: config blocks may then name type->name.  The options
 * keep the pointer (not a copy); `type` must outlive the engine.  At most LV_ENGINE_MAX_PROVIDER_TYPES
 * per options struct.  Returns LV_OK, or LV_EINVALID naming what is wrong: an unknown version, no name
 * or create function, no stage, the name of a built-in type or of a type already registered here, or
 * too many types.  Nothing is registered process-wide: every engine gets the types of its own options.
 */
LV_EXTERN(int) lv_engine_register_provider_type(struct lv_engine_options *opts, const lv_provider_type *type);

#ifdef __cplusplus
}
#endif
#endif
