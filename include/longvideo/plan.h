/*
 * liblongvideo — segment plan and cost estimate (SPEC §3).
 *
 * A film of `duration` seconds is cut into n = ceil(duration / max) segments
 * (max is 8 s, or less when the provider's maximum is lower) whose
 * whole-second lengths differ by at most one: 60 s -> 8,8,8,8,7,7,7,7.
 * Each segment is priced at the provider's per-second rate for the
 * resolution; the estimate is the sum.  Where a provider accepts only some
 * clip lengths (e.g. 4/8/12 s) a segment is generated at the next allowed
 * length, billed for that length, and trimmed at composition.
 */
#ifndef LONGVIDEO_PLAN_H
#define LONGVIDEO_PLAN_H

#include "common.h"
#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lv_plan lv_plan;

#define LV_PLAN_REQUEST_VERSION 1

typedef struct lv_plan_request {
	unsigned int version;   /**< LV_PLAN_REQUEST_VERSION */
	int duration;           /**< seconds, 3-180 */
	const char *resolution; /**< "720p" (default when NULL) or "1080p" */
	const char *provider;   /**< video provider name; NULL: the configured default */
} lv_plan_request;

#define LV_PLAN_REQUEST_INIT { LV_PLAN_REQUEST_VERSION, 0, NULL, NULL }

typedef struct lv_plan_segment {
	int index;          /**< 0-based shot index */
	int start;          /**< seconds from the film's start */
	int seconds;        /**< length used in the film */
	int billed_seconds; /**< length generated and billed (>= seconds) */
	int64_t price;      /**< thousandths of a credit */
} lv_plan_segment;

/** Plan a film.  LV_EINVALID names the field: duration, resolution or provider. */
LV_EXTERN(int) lv_plan_create(lv_plan **out, lv_engine *engine, const lv_plan_request *request);
LV_EXTERN(size_t) lv_plan_segment_count(const lv_plan *plan);
/** Copy segment `i` into `*out`; LV_EINVALID when out of range. */
LV_EXTERN(int) lv_plan_get_segment(lv_plan_segment *out, const lv_plan *plan, size_t i);
/** The estimate: the sum of the segments' prices, in thousandths. */
LV_EXTERN(int64_t) lv_plan_total(const lv_plan *plan);
LV_EXTERN(int) lv_plan_duration(const lv_plan *plan);
LV_EXTERN(const char *) lv_plan_resolution(const lv_plan *plan);
LV_EXTERN(const char *) lv_plan_provider(const lv_plan *plan);
/** {"object":"estimate","duration","resolution","provider","cost_estimate","segments":[...]} */
LV_EXTERN(int) lv_plan_to_json(char **out, const lv_plan *plan);
LV_EXTERN(void) lv_plan_free(lv_plan *plan);

#ifdef __cplusplus
}
#endif
#endif
