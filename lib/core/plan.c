/* lv_plan_create(): plan a film for an engine's video provider (the planner itself, lv_plan_compute(),
 * is below the engine in lib/plan/). */
#include "core/engine.h"
#include "plan/plan.h"
#include "util/error.h"

int lv_plan_create(lv_plan **out, lv_engine *engine, const lv_plan_request *req)
{
	const lv_provider_conf *pc;
	const char *res, *name;
	int r;
	*out = NULL;
	if (!engine || !req)
		return lv_error_set(LV_EINVALID, "lv_plan_create: engine and request are required");
	if (req->version != LV_PLAN_REQUEST_VERSION)
		return lv_error_set(LV_EINVALID, "lv_plan_create: unsupported request version %u", req->version);
	res = req->resolution ? req->resolution : "720p";
	name = req->provider ? req->provider : engine->cfg->default_video_provider;
	if (req->duration < 3 || req->duration > 180)
		return lv_error_set(LV_EINVALID, "duration: must be an integer from 3 to 180");
	if ((r = lv_resolution_index(res)) < 0)
		return lv_error_set(LV_EINVALID, "resolution: must be \"720p\" or \"1080p\"");
	if ((pc = lv_engine_video_provider(engine, name)) == NULL)
		return LV_EINVALID;
	if (!(pc->video.resolutions & (1u << r)))
		return lv_error_set(LV_EINVALID, "resolution: provider '%s' does not support %s", name, res);
	return lv_plan_compute(out, req->duration, r, name, &pc->video);
}
