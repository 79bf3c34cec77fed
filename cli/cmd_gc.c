/* lvctl gc: apply the retention policy (results of old tasks, working files of delivered ones). */
#include "cli.h"

int cmd_gc(cli_ctx *ctx, int argc, char **argv)
{
	const char *pos[1], *older = NULL;
	int dry_run = 0, intermediates = 0;
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "older-than", "DAYS",
		  "remove the results and working files of tasks finished more than DAYS days ago (0: every "
		  "finished task; default: storage.retention_days, where 0 keeps them)",
		  &older },
		{ CLI_OPT_SWITCH, "intermediates", NULL,
		  "also remove the working files of every completed task (as storage.keep_intermediates false does)",
		  &intermediates },
		{ CLI_OPT_SWITCH, "dry-run", NULL, "only count what would be removed", &dry_run },
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "gc", "[--older-than DAYS] [--intermediates] [--dry-run]",
		                "Remove, through the configured storage (local or S3), the results of tasks that\n"
		                "finished more than DAYS days ago and the working files (anchors, segments, audio)\n"
		                "of delivered tasks, per storage.retention_days and storage.keep_intermediates.\n"
		                "Tasks in progress are never touched.  A removed film's URLs answer 410\n"
		                "result_removed; such a task can no longer be re-composed.  Safe to run while\n"
		                "lvserver and workers run, e.g. daily from a timer.",
		                opts, 0, 0, NULL };
	lv_gc_options o;
	lv_gc_report r;
	lv_engine *engine;
	size_t npos;
	int rc;
	o.older_than_days = -1;
	o.intermediates = 0;
	o.dry_run = 0;
	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)))
		return rc;
	if (older && (rc = cli_parse_int(ctx, &o.older_than_days, "--older-than", older, 0, 36500)))
		return rc;
	o.intermediates = intermediates;
	o.dry_run = dry_run;
	if ((rc = cli_engine(&engine, ctx, 0)))
		return rc;
	rc = lv_engine_gc(engine, &o, &r);
	if (rc == LV_OK) {
		if (ctx->json)
			printf("{\"object\":\"gc\",\"dry_run\":%s,\"tasks_scanned\":%lld,\"results_removed\":%lld,"
			       "\"intermediates_removed\":%lld,\"skipped_running\":%lld}\n",
			       dry_run ? "true" : "false", (long long)r.tasks_scanned, (long long)r.results_removed,
			       (long long)r.intermediates_removed, (long long)r.skipped_running);
		else
			printf("%s%lld task(s) scanned: results of %lld %s, working files of %lld %s, %lld old but "
			       "still running\n",
			       dry_run ? "dry run: " : "", (long long)r.tasks_scanned, (long long)r.results_removed,
			       dry_run ? "would be removed" : "removed", (long long)r.intermediates_removed,
			       dry_run ? "would be removed" : "removed", (long long)r.skipped_running);
	}
	return rc;
}
