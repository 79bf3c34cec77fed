/*
 * estimate — plan a film and print what it costs, using only the installed library.
 *
 *   cc estimate.c $(pkg-config --cflags --libs longvideo) -o estimate
 *   ./estimate 60 720p            # duration in seconds, resolution
 */
#include <longvideo.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	lv_engine_options opts = LV_ENGINE_OPTIONS_INIT;
	lv_plan_request req = LV_PLAN_REQUEST_INIT;
	lv_engine *engine = NULL;
	lv_plan *plan = NULL;
	char total[32];
	size_t i;

	req.duration = argc > 1 ? atoi(argv[1]) : 60;
	req.resolution = argc > 2 ? argv[2] : "720p";
	opts.flags = LV_ENGINE_NO_STORE; /* planning needs no task store */

	if (lv_engine_open(&engine, &opts) != LV_OK ||
	    lv_plan_create(&plan, engine, &req) != LV_OK) {
		fprintf(stderr, "estimate: %s\n", lv_error_last()->message);
		lv_engine_close(engine);
		return 1;
	}
	printf("liblongvideo %s: %d s at %s with provider %s\n", lv_version(), lv_plan_duration(plan),
	       lv_plan_resolution(plan), lv_plan_provider(plan));
	for (i = 0; i < lv_plan_segment_count(plan); i++) {
		lv_plan_segment s;
		char price[32];
		lv_plan_get_segment(&s, plan, i);
		lv_credits_format(price, sizeof(price), s.price);
		printf("  shot %2d  %3d s + %d s  %s credits\n", s.index, s.start, s.seconds, price);
	}
	lv_credits_format(total, sizeof(total), lv_plan_total(plan));
	printf("cost_estimate: %s credits\n", total);
	lv_plan_free(plan);
	lv_engine_close(engine);
	return 0;
}
