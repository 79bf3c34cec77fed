#include "providers/caps.h"

#include <cjson/cJSON.h>
#include <string.h>

#define ALL_RES ((1u << LV_RES_720P) | (1u << LV_RES_1080P))
#define ALL_ASPECTS ((1u << LV_ASPECT_16_9) | (1u << LV_ASPECT_9_16) | (1u << LV_ASPECT_1_1))
#define NO_RATES { -1, -1 }

/* HappyHorse's published rates are also the built-in provider's defaults (SPEC §3). */
#define HAPPYHORSE_RATES { 27500, 47200 }
/* HappyHorse 1.1: the same 720p rate, 1080p at 9/7 of it (1.1's 1080p/720p price ratio, 0.18/0.14, where
 * 1.0's is 1.72). */
static const int64_t happyhorse_11_rates[LV_RES_COUNT] = { 27500, 35400 };

static const lv_provider_type_info types[] = {
	{ "local",
	  LV_STAGE_SCRIPT | LV_STAGE_MODERATION | LV_STAGE_ANCHOR | LV_STAGE_VIDEO | LV_STAGE_SPEECH |
	          LV_STAGE_MUSIC,
	  { ALL_RES, ALL_ASPECTS, 1, 8, { 0 }, 0, HAPPYHORSE_RATES }, 0, 0 },
	{ "anthropic", LV_STAGE_SCRIPT, { 0, 0, 0, 0, { 0 }, 0, NO_RATES }, 1, 0 },
	{ "openai-chat", LV_STAGE_SCRIPT | LV_STAGE_MODERATION, { 0, 0, 0, 0, { 0 }, 0, NO_RATES }, 0, 1 },
	{ "openai-moderation", LV_STAGE_MODERATION, { 0, 0, 0, 0, { 0 }, 0, NO_RATES }, 1, 0 },
	/* HappyHorse on Model Studio: resolution "720P" | "1080P", ratio 16:9, 9:16, 1:1 (also 4:3, 3:4),
	 * duration any whole number of seconds from 3 to 15 (the planner never asks for more than 8). */
	{ "dashscope-video", LV_STAGE_VIDEO, { ALL_RES, ALL_ASPECTS, 3, 8, { 0 }, 0, HAPPYHORSE_RATES }, 1, 0 },
	/* OpenAI Videos (Sora 2): seconds "4" | "8" | "12" only; sizes 1280x720 and 720x1280 (sora-2-pro also
	 * 1792x1024 and 1024x1792, which is not our 1080p), so 720p in 16:9 and 9:16.  OpenAI bills in dollars:
	 * the credit rates must come from config. */
	{ "openai-videos", LV_STAGE_VIDEO,
	  { 1u << LV_RES_720P, (1u << LV_ASPECT_16_9) | (1u << LV_ASPECT_9_16), 4, 12, { 4, 8, 12 }, 3, NO_RATES },
	  1, 0 },
	/* Self-hosted: the workflow decides.  Wan 2.x makes 81 frames (about 5 s at 16 fps) by default and
	 * LTX-Video 5 s at 24 fps in its examples, so clips default to at most 5 s (config max_seconds raises
	 * it); no built-in rates: the operator prices the GPU time (rates is required). */
	{ "comfyui", LV_STAGE_VIDEO, { ALL_RES, ALL_ASPECTS, 1, 5, { 0 }, 0, NO_RATES }, 0, 1 },
	{ "openai-images", LV_STAGE_ANCHOR, { 0, 0, 0, 0, { 0 }, 0, NO_RATES }, 1, 0 },
	{ "openai-speech", LV_STAGE_SPEECH, { 0, 0, 0, 0, { 0 }, 0, NO_RATES }, 1, 0 },
	/* fal.ai's queue runs any model: its lengths and prices are the model's, so they come from config (rates
	 * required; the defaults fit Kling/Seedance-style 5 s clips at 720p and 1080p in 16:9, 9:16, 1:1). */
	{ "fal-queue", LV_STAGE_VIDEO, { ALL_RES, ALL_ASPECTS, 3, 8, { 0 }, 0, NO_RATES }, 1, 0 },
	/* Replicate runs any model too: the same defaults, rates from config. */
	{ "replicate", LV_STAGE_VIDEO, { ALL_RES, ALL_ASPECTS, 3, 8, { 0 }, 0, NO_RATES }, 1, 0 },
	/* Veo 3.1 on the Gemini API: durationSeconds 4, 6 or 8; 720p and 1080p; 16:9 and 9:16.  Google bills in
	 * dollars: the credit rates come from config. */
	{ "google-veo", LV_STAGE_VIDEO,
	  { ALL_RES, (1u << LV_ASPECT_16_9) | (1u << LV_ASPECT_9_16), 4, 8, { 4, 6, 8 }, 3, NO_RATES }, 1, 0 },
	{ "dashscope-image", LV_STAGE_ANCHOR, { 0, 0, 0, 0, { 0 }, 0, NO_RATES }, 1, 0 },
	{ "dashscope-speech", LV_STAGE_SPEECH, { 0, 0, 0, 0, { 0 }, 0, NO_RATES }, 1, 0 },
};

const lv_provider_type_info *lv_provider_type_find(const char *type)
{
	size_t i;
	for (i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i].type, type))
			return &types[i];
	return NULL;
}

void lv_provider_model_caps(const char *type, const cJSON *block, lv_video_caps *caps)
{
	static const char *const keys[] = { "model", "model_t2v", "model_r2v" };
	size_t i;
	if (!type || strcmp(type, "dashscope-video") != 0)
		return;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(block, keys[i]);
		if (cJSON_IsString(m) && strstr(m->valuestring, "happyhorse-1.1")) {
			memcpy(caps->rate, happyhorse_11_rates, sizeof(caps->rate));
			return;
		}
	}
}

const char *lv_provider_type_names(void)
{
	return "local, anthropic, openai-chat, openai-moderation, dashscope-video, openai-videos, comfyui, "
	       "openai-images, openai-speech, fal-queue, replicate, google-veo, dashscope-image, dashscope-speech";
}

static const char *const res_names[LV_RES_COUNT] = { "720p", "1080p" };
static const char *const aspect_names[LV_ASPECT_COUNT] = { "16:9", "9:16", "1:1" };

/* The position of name in names[0..n), or -1. */
static int name_index(const char *const *names, int n, const char *name)
{
	int i;
	for (i = 0; name && i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

int lv_resolution_index(const char *resolution)
{
	return name_index(res_names, LV_RES_COUNT, resolution);
}

const char *lv_resolution_name(int index)
{
	return index >= 0 && index < LV_RES_COUNT ? res_names[index] : NULL;
}

int lv_aspect_index(const char *aspect_ratio)
{
	return name_index(aspect_names, LV_ASPECT_COUNT, aspect_ratio);
}

const char *lv_aspect_name(int index)
{
	return index >= 0 && index < LV_ASPECT_COUNT ? aspect_names[index] : NULL;
}
