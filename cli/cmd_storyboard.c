/* lvctl storyboard: the storyboard the configured script provider writes for a prompt, planned like a
 * task (the video provider's shot lengths) but without creating one: no store, no key, no charge. */
#include "cli.h"

#include <limits.h>
#include <stdlib.h>

int cmd_storyboard(cli_ctx *ctx, int argc, char **argv)
{
	const char *duration_text = NULL, *attempts_text = NULL, *pos[1];
	lv_task_request req = LV_TASK_REQUEST_INIT;
	lv_storyboard_options so = LV_STORYBOARD_OPTIONS_INIT;
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "prompt", "P", "one sentence describing the film (required)", &req.prompt },
		{ CLI_OPT_VALUE, "duration", "D", "seconds, 3-180 (required)", &duration_text },
		{ CLI_OPT_VALUE, "language", "L", "language of the narration and titles (default: en)", &so.language },
		{ CLI_OPT_VALUE, "aspect-ratio", "A", "16:9 (default), 9:16 or 1:1", &req.aspect_ratio },
		{ CLI_OPT_VALUE, "resolution", "R", "720p (default) or 1080p: only checked, as for a task",
		  &req.resolution },
		{ CLI_OPT_VALUE, "provider", "NAME", "video provider whose clip lengths plan the shots (default: the "
		  "configured one)", &req.provider },
		{ CLI_OPT_VALUE, "attempts", "N", "tries when the writer's output is invalid, 1-10 (default 3)",
		  &attempts_text },
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "storyboard", "--prompt P --duration D [options]",
		                "Print the storyboard that the configured script provider (pipeline.script) writes\n"
		                "for a prompt: the shots are planned as for a task of that duration, and the\n"
		                "storyboard is validated as the pipeline validates it.  No task is created and\n"
		                "nothing is charged; the store is not opened.  With --json: the storyboard JSON.",
		                opts, 0, 0, NULL };
	lv_engine *engine;
	lv_plan *plan = NULL;
	lv_provider *writer = NULL;
	char *json = NULL, *text = NULL;
	int *seconds = NULL, rc;
	size_t npos, i, n;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) || (rc = cli_require(ctx, &spec, "prompt", req.prompt)) ||
	    (rc = cli_require(ctx, &spec, "duration", duration_text)) ||
	    (rc = cli_parse_int(ctx, &req.duration, "duration", duration_text, INT_MIN, INT_MAX)) ||
	    (attempts_text && (rc = cli_parse_int(ctx, &so.attempts, "attempts", attempts_text, 1, 10))))
		return rc;
	if (req.duration == 0)
		req.duration = -1; /* 0 means "not given" in the C request; here it is out of range */
	req.language = so.language;
	if ((rc = cli_engine(&engine, ctx, LV_ENGINE_NO_STORE)) || (rc = lv_task_estimate(&plan, engine, &req)))
		return rc;
	n = lv_plan_segment_count(plan);
	if (!(seconds = calloc(n ? n : 1, sizeof(int)))) {
		lv_plan_free(plan);
		return LV_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		lv_plan_segment s;
		lv_plan_get_segment(&s, plan, i);
		seconds[i] = s.seconds;
	}
	so.prompt = req.prompt;
	so.duration = lv_plan_duration(plan);
	so.aspect_ratio = req.aspect_ratio;
	so.shot_seconds = seconds;
	so.n_shots = n;
	if ((rc = lv_engine_provider(&writer, engine, "script", NULL)) == LV_OK &&
	    (rc = lv_provider_write_storyboard(&json, writer, &so)) == LV_OK) {
		if (ctx->json) {
			cli_print_json(json);
			json = NULL;
		} else if ((rc = lv_storyboard_to_text(&text, json)) == LV_OK) {
			fputs(text, stdout);
		}
	}
	lv_free(text);
	lv_free(json);
	lv_provider_close(writer);
	free(seconds);
	lv_plan_free(plan);
	return rc;
}
