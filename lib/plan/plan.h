/* Internal: the segment plan (SPEC §3). */
#ifndef LV_PLAN_H
#define LV_PLAN_H

#include "longvideo/plan.h"
#include "providers/caps.h"

struct lv_plan {
	int duration;
	char resolution[8];
	char *provider;
	size_t n;
	lv_plan_segment *segments;
	int64_t total;
};

/* Split and price: n = ceil(duration / max) segments whose lengths differ by at most one, max being
 * min(8 s, the provider's longest clip); each billed at the shortest length the provider makes that is
 * at least its length.  Fills a new lv_plan (caller frees with lv_plan_free). */
int lv_plan_compute(lv_plan **out, int duration, int res_index, const char *provider, const lv_video_caps *caps);

/* The length the provider generates for a clip used for `seconds`: >= seconds, >= min, an allowed length. */
int lv_plan_billed_seconds(const lv_video_caps *caps, int seconds);

#endif
