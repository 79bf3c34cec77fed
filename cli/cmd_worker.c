/* lvctl worker: run pipeline workers (and webhook delivery) on the store until SIGINT/SIGTERM. */
#include "cli.h"

#include <signal.h>

int cmd_worker(cli_ctx *ctx, int argc, char **argv)
{
	const char *workers_text = NULL, *pos[1];
	int no_webhooks = 0;
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "workers", "N", "pipeline threads (default: the config's pipeline.workers)", &workers_text },
		{ CLI_OPT_SWITCH, "no-webhooks", NULL, "do not deliver webhooks from this process", &no_webhooks },
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "worker", "[--workers N]",
		                "Run pipeline workers on the store until SIGINT or SIGTERM.  Any number of worker\n"
		                "processes (and lvserver --workers N) may share a store; a task whose worker dies is\n"
		                "resumed by another when its lease runs out.",
		                opts, 0, 0, NULL };
	lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
	lv_workers *workers = NULL;
	lv_engine *engine;
	sigset_t sigs;
	size_t npos;
	int rc, sig = 0;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (workers_text && (rc = cli_parse_int(ctx, &wo.workers, "workers", workers_text, 0, 256))))
		return rc;
	wo.webhooks = !no_webhooks;
	cli_block_stop_signals(&sigs);
	if ((rc = cli_engine(&engine, ctx, 0)) || (rc = lv_workers_start(&workers, engine, &wo)))
		return rc;
	fprintf(stderr, "lvctl worker: %lld pipeline thread(s) on %s; SIGINT or SIGTERM stops\n",
	        (long long)(wo.workers >= 0 ? wo.workers : lv_engine_setting_int(engine, "pipeline.workers", 0)),
	        lv_engine_setting(engine, "store"));
	sigwait(&sigs, &sig);
	fprintf(stderr, "lvctl worker: stopping (%s); held tasks are released for other workers\n",
	        sig == SIGINT ? "SIGINT" : "SIGTERM");
	lv_workers_stop(workers);
	return LV_OK;
}
