/* lvctl estimate: the segment plan and price of a film (SPEC §3); needs no store. */
#include "cli.h"

#include <limits.h>

int cmd_estimate(cli_ctx *ctx, int argc, char **argv)
{
	const char *duration_text = NULL, *pos[1];
	lv_task_request req = LV_TASK_REQUEST_INIT;
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "duration", "D", "seconds, 3-180 (required)", &duration_text },
		{ CLI_OPT_VALUE, "resolution", "R", "720p (default) or 1080p", &req.resolution },
		{ CLI_OPT_VALUE, "aspect-ratio", "A", "16:9 (default), 9:16 or 1:1", &req.aspect_ratio },
		{ CLI_OPT_VALUE, "provider", "NAME", "video provider (default: the configured one)", &req.provider },
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "estimate", "--duration D [--resolution R] [--aspect-ratio A] [--provider NAME]",
		                "Print the plan of a film: its segments, billed seconds, prices and the total\n"
		                "(cost_estimate).  Works without a store.  With --json: the estimate document.",
		                opts, 0, 0, NULL };
	lv_engine *engine;
	lv_plan *plan = NULL;
	size_t npos, i, n;
	char *json;
	char total[32];
	int rc, billed = 0;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (rc = cli_require(ctx, &spec, "duration", duration_text)) ||
	    (rc = cli_parse_int(ctx, &req.duration, "duration", duration_text, INT_MIN, INT_MAX)))
		return rc;
	if (req.duration == 0)
		req.duration = -1; /* in the C request 0 means "not given"; here it is just out of range */
	/* The prompt does not change the plan; lv_task_estimate() wants one because it validates the
	 * whole request, including the provider's resolutions and aspect ratios. */
	req.prompt = "estimate";
	if ((rc = cli_engine(&engine, ctx, LV_ENGINE_NO_STORE)) || (rc = lv_task_estimate(&plan, engine, &req)))
		return rc;
	if (ctx->json) {
		if ((rc = lv_plan_to_json(&json, plan)) == LV_OK)
			cli_print_json(json);
		lv_plan_free(plan);
		return rc;
	}
	n = lv_plan_segment_count(plan);
	printf("duration    %d s\nresolution  %s\nprovider    %s\nsegments    %zu (", lv_plan_duration(plan),
	       lv_plan_resolution(plan), lv_plan_provider(plan), n);
	for (i = 0; i < n; i++) {
		lv_plan_segment s;
		lv_plan_get_segment(&s, plan, i);
		printf("%s%d", i ? "+" : "", s.seconds);
		billed += s.billed_seconds;
	}
	printf(" s)\nbilled      %d s\nestimate    %s credits\n\nshot  start  seconds  billed  price\n", billed,
	       cli_credits(total, sizeof(total), lv_plan_total(plan)));
	for (i = 0; i < n; i++) {
		lv_plan_segment s;
		char price[32];
		lv_plan_get_segment(&s, plan, i);
		printf("%4d  %5d  %7d  %6d  %5s\n", s.index, s.start, s.seconds, s.billed_seconds,
		       cli_credits(price, sizeof(price), s.price));
	}
	printf("total %s\n", total);
	lv_plan_free(plan);
	return LV_OK;
}
