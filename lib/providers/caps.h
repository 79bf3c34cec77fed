/*
 * Internal: what a provider type can do — the stages it can serve and, for
 * video, its capabilities (resolutions, aspect ratios, clip lengths, rates).
 * The planner and request validation read these; config may override them.
 */
#ifndef LV_PROVIDERS_CAPS_H
#define LV_PROVIDERS_CAPS_H

#include <stddef.h>
#include <stdint.h>

enum {
	LV_STAGE_SCRIPT = 1u << 0,
	LV_STAGE_MODERATION = 1u << 1,
	LV_STAGE_ANCHOR = 1u << 2,
	LV_STAGE_VIDEO = 1u << 3,
	LV_STAGE_SPEECH = 1u << 4,
	LV_STAGE_MUSIC = 1u << 5
};

enum { LV_RES_720P = 0, LV_RES_1080P = 1, LV_RES_COUNT = 2 };
enum { LV_ASPECT_16_9 = 0, LV_ASPECT_9_16 = 1, LV_ASPECT_1_1 = 2, LV_ASPECT_COUNT = 3 };

#define LV_MAX_ALLOWED_LENGTHS 16
#define LV_SEGMENT_MAX_SECONDS 8

typedef struct lv_video_caps {
	unsigned resolutions;   /* bit (1 << LV_RES_*) */
	unsigned aspects;       /* bit (1 << LV_ASPECT_*) */
	int min_seconds;        /* shortest clip the provider makes */
	int max_seconds;        /* longest clip (the planner never exceeds LV_SEGMENT_MAX_SECONDS) */
	int allowed[LV_MAX_ALLOWED_LENGTHS]; /* when n_allowed > 0: the only clip lengths it accepts */
	size_t n_allowed;
	int64_t rate[LV_RES_COUNT]; /* thousandths of a credit per generated second; -1 unset */
} lv_video_caps;

typedef struct lv_provider_type_info {
	const char *type;           /* "local", "anthropic", ... */
	unsigned stages;            /* LV_STAGE_* it can serve */
	lv_video_caps video;        /* defaults for video types */
	int needs_api_key;          /* api_key_env is required */
	int needs_base_url;
} lv_provider_type_info;

/* The built-in table entry for a type, or NULL. */
const lv_provider_type_info *lv_provider_type_find(const char *type);
/* Adjust a type's default video capabilities to the model its block names (`model`, `model_t2v`,
 * `model_r2v` in the block's JSON): HappyHorse 1.1 on dashscope-video has its own rates.  Config keys
 * (rates, ...) are applied after this. */
struct cJSON;
void lv_provider_model_caps(const char *type, const struct cJSON *block, lv_video_caps *caps);
/* Comma-separated list of known types, for error messages.  Static string. */
const char *lv_provider_type_names(void);

int lv_resolution_index(const char *resolution);   /* -1 if unknown */
const char *lv_resolution_name(int index);
int lv_aspect_index(const char *aspect_ratio);     /* -1 if unknown */
const char *lv_aspect_name(int index);

#endif
