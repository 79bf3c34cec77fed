/* lvctl worker: run pipeline workers (and webhook delivery) on the store until SIGINT/SIGTERM. */
#include "cli.h"

#include <signal.h>

/* A line of the worker's own on stderr, in the log format in force (always shown, whatever the level). */
static void say(const char *line)
{
	if (lv_log_get_format() == LV_LOG_FORMAT_JSON)
		lv_log_write(LV_LOG_INFO, NULL, line, NULL);
	else
		fprintf(stderr, "%s\n", line);
}

int cmd_worker(cli_ctx *ctx, int argc, char **argv)
{
	const char *workers_text = NULL, *log_format = NULL, *pos[1];
	int no_webhooks = 0;
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "workers", "N", "pipeline threads (default: the config's pipeline.workers)", &workers_text },
		{ CLI_OPT_SWITCH, "no-webhooks", NULL, "do not deliver webhooks from this process", &no_webhooks },
		{ CLI_OPT_VALUE, "log-format", "F",
		  "text or json (one JSON object per line); default: the config's server.log_format", &log_format },
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "worker", "[--workers N] [--log-format text|json]",
		                "Run pipeline workers on the store until SIGINT or SIGTERM.  Any number of worker\n"
		                "processes (and lvserver --workers N) may share a store; a task whose worker dies is\n"
		                "resumed by another when its lease runs out.",
		                opts, 0, 0, NULL };
	lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
	lv_log_format fmt = LV_LOG_FORMAT_TEXT;
	lv_workers *workers = NULL;
	lv_engine *engine;
	sigset_t sigs;
	size_t npos;
	char line[512];
	int rc, sig = 0;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (workers_text && (rc = cli_parse_int(ctx, &wo.workers, "workers", workers_text, 0, 256))))
		return rc;
	if (log_format && lv_log_format_parse(&fmt, log_format) != LV_OK)
		return cli_fail(ctx, CLI_EUSAGE, "--log-format: must be text or json (got '%s')", log_format);
	wo.webhooks = !no_webhooks;
	cli_block_stop_signals(&sigs);
	if (log_format) /* before the engine opens: its lines too */
		lv_log_set_format(fmt);
	if ((rc = cli_engine(&engine, ctx, 0)))
		return rc;
	if (!log_format && lv_log_format_parse(&fmt, lv_engine_setting(engine, "server.log_format")) == LV_OK)
		lv_log_set_format(fmt);
	if ((rc = lv_workers_start(&workers, engine, &wo)))
		return rc;
	snprintf(line, sizeof(line), "lvctl worker: %lld pipeline thread(s) on %s; SIGINT or SIGTERM stops",
	         (long long)(wo.workers >= 0 ? wo.workers : lv_engine_setting_int(engine, "pipeline.workers", 0)),
	         lv_engine_setting(engine, "store"));
	say(line);
	sigwait(&sigs, &sig);
	snprintf(line, sizeof(line), "lvctl worker: stopping (%s); held tasks are released for other workers",
	         sig == SIGINT ? "SIGINT" : "SIGTERM");
	say(line);
	lv_workers_stop(workers);
	return LV_OK;
}
