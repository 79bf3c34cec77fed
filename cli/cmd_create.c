/* lvctl create: create a task as one API key (reserving its estimate). */
#include "api.h"

#include <stdlib.h>
#include <string.h>

int cmd_create(cli_ctx *ctx, int argc, char **argv)
{
	cli_task_args a;
	const char *key_text = NULL, *key_id = NULL, *pos[1];
	cli_opt opts[] = {
		CLI_TASK_OPTS(&a),
		{ CLI_OPT_SWITCH, "review", NULL, "stop after scripting for storyboard review (see approve)",
		  &a.req.review },
		CLI_KEY_OPTS(&key_text, &key_id),
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "create", "--prompt P --duration D [options]",
		                "Create a task: validate, plan, reserve the estimate and queue it.  Prints the task\n"
		                "(with --json: the task object of the HTTP API).",
		                opts, 0, 0, NULL };
	cli_api *api = NULL;
	char *json = NULL;
	int replayed = 0;
	size_t npos;
	int rc;

	cli_task_args_init(&a);
	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) || (rc = cli_task_args_finish(ctx, &spec, &a))) {
		cli_task_args_clear(&a);
		return rc;
	}
	if ((rc = cli_api_open(&api, ctx, key_text, key_id)) == LV_OK &&
	    (rc = cli_api_create(api, &a.req, a.idem, &json, &replayed)) == LV_OK) {
		if (replayed) {
			const char *at = strstr(json, "\"task_id\":\"");
			fprintf(stderr, "replayed: idempotency key '%s' already created %.*s; nothing was charged\n", a.idem,
			        at ? (int)strcspn(at + 11, "\"") : 1, at ? at + 11 : "?");
		}
		rc = cli_print_task_doc(ctx, json);
	}
	cli_task_args_clear(&a);
	cli_api_close(api);
	return rc;
}
