/*
 * liblongvideo — provider calls: any provider, opened from its config block, called directly.
 *
 * The pipeline calls providers for each stage of a film; a program can do the same without an engine
 * task: open a provider from the JSON block the config file would hold for it (or take the one an
 * engine's config names for a stage) and write a storyboard, moderate texts, draw a reference image,
 * run a video job, speak narration or make music.
 *
 *     lv_provider *p;
 *     lv_storyboard_options o = LV_STORYBOARD_OPTIONS_INIT;
 *     char *json;
 *     o.prompt = "A lighthouse keeper befriends a storm";
 *     o.duration = 20;
 *     if (lv_provider_open(&p, "{\"type\": \"local\"}", NULL) == LV_OK &&
 *         lv_provider_write_storyboard(&json, p, &o) == LV_OK) {
 *         puts(json);
 *         lv_free(json);
 *     }
 *     lv_provider_close(p);
 *
 * A failing call returns its status and leaves the message in lv_error_last(); when the provider
 * failed (LV_EPROVIDER, LV_ETIMEOUT) lv_error_last()->details_json is {"code": TASK_ERROR_CODE,
 * "retryable": BOOL}.  Keys come from the environment variable the block names in api_key_env, never
 * from the block.  A provider handle is safe to use from several threads at once.
 */
#ifndef LONGVIDEO_PROVIDER_H
#define LONGVIDEO_PROVIDER_H

#include "common.h"
#include "engine.h"
#include "sys/provider.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open provider.  Free with lv_provider_close(). */
typedef struct lv_provider lv_provider;

#define LV_PROVIDER_OPTIONS_VERSION 1

/** How to open a provider.  Initialise with LV_PROVIDER_OPTIONS_INIT. */
typedef struct lv_provider_options {
	unsigned int version;       /**< LV_PROVIDER_OPTIONS_VERSION */
	const char *name;           /**< its name in messages ("providers.NAME"); NULL: "provider" */
	const char *work_dir;       /**< an existing directory for scratch files; NULL: $TMPDIR or /tmp */
	const volatile int *cancel; /**< while a call runs, non-zero asks it to stop (LV_ECANCELED); may be NULL */
	/** Provider types of the program that the block may name (as registered on engine options). */
	const lv_provider_type *const *types;
	size_t n_types;
} lv_provider_options;

#define LV_PROVIDER_OPTIONS_INIT { LV_PROVIDER_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0 }

/**
 * Open a provider from its config block, a JSON object such as {"type": "anthropic", "api_key_env":
 * "ANTHROPIC_API_KEY", "model": "..."} — the same keys, checked the same way, as in the config file's
 * "providers" section.  The text is copied.  `opts` may be NULL.
 * Returns LV_OK with *out to close with lv_provider_close(), or LV_ECONFIG naming the key at fault
 * ("config: providers.NAME.type: unknown type ...").
 */
LV_EXTERN(int) lv_provider_open(lv_provider **out, const char *config_json, const lv_provider_options *opts);

/**
 * The provider an engine's config names for a pipeline stage: `stage` is "script", "moderation",
 * "anchor" (reference images), "speech", "music" (the keys of the config's "pipeline" section) or
 * "video" (pipeline.default_video_provider).  The handle borrows the engine's instance: close it
 * with lv_provider_close() before closing the engine.  `opts` (may be NULL) gives work_dir and cancel.
 * Works on an engine opened with LV_ENGINE_NO_STORE.  LV_EINVALID for an unknown stage.
 */
LV_EXTERN(int) lv_engine_provider(lv_provider **out, lv_engine *engine, const char *stage,
                                  const lv_provider_options *opts);

/** Release a provider handle.  NULL-safe. */
LV_EXTERN(void) lv_provider_close(lv_provider *provider);

/** Its name (config name or lv_provider_options.name).  Valid as long as the handle. */
LV_EXTERN(const char *) lv_provider_name(const lv_provider *provider);
/** Its type ("local", "anthropic", ...).  Valid as long as the handle. */
LV_EXTERN(const char *) lv_provider_type_name(const lv_provider *provider);
/** The LV_PROVIDER_* stages it serves. */
LV_EXTERN(unsigned int) lv_provider_stages(const lv_provider *provider);

/* ---- storyboard ------------------------------------------------------------------------------------------- */

#define LV_STORYBOARD_OPTIONS_VERSION 1

typedef struct lv_storyboard_options {
	unsigned int version;     /**< LV_STORYBOARD_OPTIONS_VERSION */
	const char *prompt;       /**< required */
	const char *language;     /**< primary tag; NULL: "en" */
	const char *aspect_ratio; /**< NULL: "16:9" */
	int duration;             /**< seconds, 3 to 180 */
	/** The shots' lengths in order, summing to duration; NULL: split as the planner would (shots of at
	 *  most 8 s whose lengths differ by at most one second). */
	const int *shot_seconds;
	size_t n_shots;
	int attempts;             /**< tries when the output is not a valid storyboard; 0: 3 */
} lv_storyboard_options;

#define LV_STORYBOARD_OPTIONS_INIT { LV_STORYBOARD_OPTIONS_VERSION, NULL, NULL, NULL, 0, NULL, 0, 0 }

/**
 * Have a script provider write a storyboard and validate it (SPEC §4: title, language, style,
 * characters, shots of exactly the planned lengths, narration that fits).  An invalid one is asked
 * for again with the reason, up to opts->attempts times.
 * Returns LV_OK with the storyboard as JSON text in *out (free with lv_free()); LV_EINVALID naming a
 * bad option; LV_EPROVIDER when the provider failed or never wrote a valid storyboard.
 */
LV_EXTERN(int) lv_provider_write_storyboard(char **out, lv_provider *provider, const lv_storyboard_options *opts);

/**
 * A storyboard (JSON text, at most 1 MiB) as text for people: the title, style and characters, then
 * one paragraph per shot ("Shot 1 (0-7 s), wide establishing: ..." and its narration).  *out is freed
 * with lv_free().  LV_EINVALID when the text is not a storyboard object.
 */
LV_EXTERN(int) lv_storyboard_to_text(char **out, const char *storyboard_json);

/* ---- moderation ---------------------------------------------------------------------------------------------- */

#define LV_MODERATION_VERDICT_VERSION 1

/** Initialise with LV_MODERATION_VERDICT_INIT. */
typedef struct lv_moderation_verdict {
	unsigned int version; /**< LV_MODERATION_VERDICT_VERSION */
	int flagged;          /**< non-zero: a text was flagged */
	size_t text_index;    /**< which one */
	char categories[256]; /**< comma-separated category names */
} lv_moderation_verdict;

#define LV_MODERATION_VERDICT_INIT { LV_MODERATION_VERDICT_VERSION, 0, 0, { 0 } }

/** Check `n` texts (at least one).  LV_OK with the verdict in *out (flagged or not). */
LV_EXTERN(int) lv_provider_moderate(lv_moderation_verdict *out, lv_provider *provider, const char *const *texts,
                                    size_t n);

/* ---- reference images -------------------------------------------------------------------------------------------- */

#define LV_IMAGE_OPTIONS_VERSION 1

typedef struct lv_image_options {
	unsigned int version;    /**< LV_IMAGE_OPTIONS_VERSION */
	const char *id;          /**< character id; NULL: "style" (the style frame) */
	const char *name;        /**< character name (NULL for the style frame) */
	const char *description; /**< what the character looks like */
	const char *style;       /**< the film's style line */
	int width, height;       /**< 0 and 0: 1280x720 */
	uint32_t seed;
	const char *language;    /**< NULL: "en" */
	const char *out_png;     /**< required: the picture is written here */
} lv_image_options;

#define LV_IMAGE_OPTIONS_INIT { LV_IMAGE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0u, NULL, NULL }

/** Draw a reference image (a character, or the style frame when id is NULL or "style") into out_png. */
LV_EXTERN(int) lv_provider_reference_image(lv_provider *provider, const lv_image_options *opts);

/* ---- video jobs --------------------------------------------------------------------------------------------------- */

#define LV_VIDEO_OPTIONS_VERSION 1

typedef struct lv_video_options {
	unsigned int version;         /**< LV_VIDEO_OPTIONS_VERSION */
	int seconds;                  /**< clip length, within the provider's min/max */
	const char *resolution;       /**< NULL: "720p" */
	const char *aspect_ratio;     /**< NULL: "16:9" */
	const char *prompt;           /**< required: the shot in words */
	const char *visual;           /**< the visual description alone; NULL: the prompt */
	const char *camera;           /**< camera move, or NULL */
	const char *negative_prompt;  /**< or NULL */
	const char *const *references; /**< reference pictures (PNG files), or NULL */
	const char *const *reference_names; /**< who each shows, or NULL */
	size_t n_references;
	uint32_t seed;
	const char *language;         /**< NULL: "en" */
} lv_video_options;

#define LV_VIDEO_OPTIONS_INIT                                                                                 \
	{ LV_VIDEO_OPTIONS_VERSION, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0u, NULL }

/** lv_video_status.state */
enum { LV_VIDEO_PENDING = 0, LV_VIDEO_RUNNING = 1, LV_VIDEO_SUCCEEDED = 2, LV_VIDEO_FAILED = 3 };

#define LV_VIDEO_STATUS_VERSION 1

/** Initialise with LV_VIDEO_STATUS_INIT. */
typedef struct lv_video_status {
	unsigned int version;  /**< LV_VIDEO_STATUS_VERSION */
	int state;             /**< LV_VIDEO_* */
	int64_t poll_after_ms; /**< pending or running: when to poll again */
} lv_video_status;

#define LV_VIDEO_STATUS_INIT { LV_VIDEO_STATUS_VERSION, LV_VIDEO_PENDING, 0 }

/**
 * Start a video job.  *job gets the job's state: JSON text that holds the request, the vendor's job id
 * and what the vendor needs to resume; store it anywhere (it holds no key), then poll, fetch or cancel
 * with it, from this process or from another one that opened the same provider block.  Free it with
 * lv_free().  `status` may be NULL.
 */
LV_EXTERN(int) lv_provider_video_submit(char **job, lv_provider *provider, const lv_video_options *opts,
                                        lv_video_status *status);

/**
 * Ask how a job is doing.  *job is read, and replaced by a new string (the old one freed with
 * lv_free()) when the vendor's state changed: store the new one.  A failed job is LV_OK with
 * status->state == LV_VIDEO_FAILED and the reason in lv_error_last() (status LV_EPROVIDER); a call that
 * could not ask returns its error.
 */
LV_EXTERN(int) lv_provider_video_poll(char **job, lv_provider *provider, lv_video_status *status);

/** Write a succeeded job's clip to out_path (MP4). */
LV_EXTERN(int) lv_provider_video_fetch(lv_provider *provider, const char *job, const char *out_path);

/** Ask the vendor to cancel the job (best effort: LV_OK also when the vendor offers no cancel). */
LV_EXTERN(int) lv_provider_video_cancel(lv_provider *provider, const char *job);

/* ---- speech and music ---------------------------------------------------------------------------------------------- */

#define LV_SPEECH_OPTIONS_VERSION 1

typedef struct lv_speech_options {
	unsigned int version; /**< LV_SPEECH_OPTIONS_VERSION */
	const char *text;     /**< required */
	const char *language; /**< NULL: "en" */
	double max_seconds;   /**< > 0: speak faster to fit; 0: natural pace */
	const char *out_path; /**< required: the audio file written */
} lv_speech_options;

#define LV_SPEECH_OPTIONS_INIT { LV_SPEECH_OPTIONS_VERSION, NULL, NULL, 0.0, NULL }

/** Speak opts->text into opts->out_path; *seconds (may be NULL) gets the audio's length. */
LV_EXTERN(int) lv_provider_speak(double *seconds, lv_provider *provider, const lv_speech_options *opts);

#define LV_MUSIC_OPTIONS_VERSION 1

typedef struct lv_music_options {
	unsigned int version; /**< LV_MUSIC_OPTIONS_VERSION */
	double seconds;       /**< required, > 0 */
	const char *mood;     /**< e.g. "calm", or NULL */
	uint32_t seed;
	const char *out_path; /**< required: the audio file written */
} lv_music_options;

#define LV_MUSIC_OPTIONS_INIT { LV_MUSIC_OPTIONS_VERSION, 0.0, NULL, 0u, NULL }

/** Make a music bed of opts->seconds into opts->out_path. */
LV_EXTERN(int) lv_provider_music(lv_provider *provider, const lv_music_options *opts);

#ifdef __cplusplus
}
#endif
#endif
