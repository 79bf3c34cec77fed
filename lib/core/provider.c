/* lv_engine_provider(): the provider an engine's config names for a stage, as a public handle. */
#include "core/engine.h"
#include "longvideo/provider.h"
#include "util/error.h"

#include <string.h>

int lv_engine_provider(lv_provider **out, lv_engine *e, const char *stage, const lv_provider_options *opts)
{
	const lv_provider_conf *conf = NULL;
	const lv_provider *p;
	int i;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_engine_provider: out is NULL");
	*out = NULL;
	if (!e || !stage)
		return lv_error_set(LV_EINVALID, "lv_engine_provider: %s is NULL", e ? "stage" : "engine");
	if (!strcmp(stage, "video")) {
		if (!(conf = lv_engine_video_provider(e, e->cfg->default_video_provider)))
			return lv_error_last()->status;
	} else {
		for (i = 0; i < LV_STAGE_IDX_COUNT && strcmp(lv_config_stage_name(i), stage); i++)
			;
		if (i == LV_STAGE_IDX_COUNT)
			return lv_error_set(LV_EINVALID,
			                    "stage: '%s' is not one of script, moderation, anchor, speech, music, video", stage);
		conf = lv_config_stage_provider(e->cfg, i);
	}
	if (!conf || !(p = lv_providers_get(e->providers, conf->name)))
		return lv_error_set(LV_ECONFIG, "config: pipeline.%s: no provider is configured", stage);
	return lv_provider_borrow(out, p, opts);
}
