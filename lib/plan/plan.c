#include "plan/plan.h"
#include "util/error.h"
#include "util/json.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

/* The longest clip the planner asks for: 8 s, or less where the provider's limits say so. */
static int max_clip(const lv_video_caps *caps)
{
	int max = LV_SEGMENT_MAX_SECONDS, best = 0;
	size_t i;
	if (caps->max_seconds > 0 && caps->max_seconds < max)
		max = caps->max_seconds;
	if (caps->n_allowed == 0)
		return max;
	/* With a fixed set of lengths, a clip must fit one of them: never plan longer than the largest. */
	for (i = 0; i < caps->n_allowed; i++)
		if (caps->allowed[i] > best)
			best = caps->allowed[i];
	return best < max ? best : max;
}

int lv_plan_billed_seconds(const lv_video_caps *caps, int seconds)
{
	int billed = seconds < caps->min_seconds ? caps->min_seconds : seconds, best = 0;
	size_t i;
	if (caps->n_allowed == 0)
		return billed;
	for (i = 0; i < caps->n_allowed; i++)
		if (caps->allowed[i] >= billed && (best == 0 || caps->allowed[i] < best))
			best = caps->allowed[i];
	return best ? best : billed;
}

int lv_plan_compute(lv_plan **out, int duration, int res_index, const char *provider, const lv_video_caps *caps)
{
	lv_plan *p;
	int max = max_clip(caps), base, extra, start = 0;
	size_t i;
	*out = NULL;
	if (duration < 3 || duration > 180)
		return lv_error_set(LV_EINVALID, "duration: must be an integer from 3 to 180");
	if (res_index < 0 || res_index >= LV_RES_COUNT || caps->rate[res_index] < 0)
		return lv_error_set(LV_EINVALID, "resolution: provider '%s' has no rate for it", provider);
	if (max < 1)
		return lv_error_set(LV_ECONFIG, "provider '%s' has no usable clip length", provider);
	p = lv_calloc(1, sizeof(*p));
	if (!p)
		return LV_ENOMEM;
	p->duration = duration;
	lv_strlcpy(p->resolution, lv_resolution_name(res_index), sizeof(p->resolution));
	p->n = (size_t)((duration + max - 1) / max);
	p->provider = lv_strdup(provider);
	p->segments = lv_calloc(p->n, sizeof(*p->segments));
	if (!p->provider || !p->segments) {
		lv_plan_free(p);
		return LV_ENOMEM;
	}
	base = duration / (int)p->n;
	extra = duration % (int)p->n;
	for (i = 0; i < p->n; i++) {
		lv_plan_segment *s = &p->segments[i];
		s->index = (int)i;
		s->start = start;
		s->seconds = base + ((int)i < extra ? 1 : 0);
		s->billed_seconds = lv_plan_billed_seconds(caps, s->seconds);
		s->price = (int64_t)s->billed_seconds * caps->rate[res_index];
		p->total += s->price;
		start += s->seconds;
	}
	*out = p;
	return LV_OK;
}

size_t lv_plan_segment_count(const lv_plan *plan)
{
	return plan ? plan->n : 0;
}

int lv_plan_get_segment(lv_plan_segment *out, const lv_plan *plan, size_t i)
{
	if (!plan || i >= plan->n)
		return lv_error_set(LV_EINVALID, "segment index %zu is out of range", i);
	*out = plan->segments[i];
	return LV_OK;
}

int64_t lv_plan_total(const lv_plan *plan)
{
	return plan ? plan->total : 0;
}

int lv_plan_duration(const lv_plan *plan)
{
	return plan ? plan->duration : 0;
}

const char *lv_plan_resolution(const lv_plan *plan)
{
	return plan ? plan->resolution : NULL;
}

const char *lv_plan_provider(const lv_plan *plan)
{
	return plan ? plan->provider : NULL;
}

int lv_plan_to_json(char **out, const lv_plan *plan)
{
	cJSON *o = cJSON_CreateObject(), *segs;
	size_t i;
	int ok = o != NULL;
	*out = NULL;
	ok = ok && cJSON_AddStringToObject(o, "object", "estimate");
	ok = ok && cJSON_AddNumberToObject(o, "duration", plan->duration);
	ok = ok && cJSON_AddStringToObject(o, "resolution", plan->resolution);
	ok = ok && cJSON_AddStringToObject(o, "provider", plan->provider);
	ok = ok && lv_json_add_credits(o, "cost_estimate", plan->total) == LV_OK;
	ok = ok && cJSON_AddNumberToObject(o, "shots_total", (double)plan->n);
	ok = ok && (segs = cJSON_AddArrayToObject(o, "segments")) != NULL;
	for (i = 0; ok && i < plan->n; i++) {
		const lv_plan_segment *s = &plan->segments[i];
		cJSON *j = cJSON_CreateObject();
		ok = j && cJSON_AddItemToArray(segs, j);
		ok = ok && cJSON_AddNumberToObject(j, "index", s->index);
		ok = ok && cJSON_AddNumberToObject(j, "start", s->start);
		ok = ok && cJSON_AddNumberToObject(j, "duration", s->seconds);
		ok = ok && cJSON_AddNumberToObject(j, "billed_seconds", s->billed_seconds);
		ok = ok && lv_json_add_credits(j, "price", s->price) == LV_OK;
	}
	if (ok)
		*out = lv_json_print(o);
	cJSON_Delete(o);
	return *out ? LV_OK : lv_error_nomem();
}

void lv_plan_free(lv_plan *plan)
{
	if (!plan)
		return;
	free(plan->provider);
	free(plan->segments);
	free(plan);
}
