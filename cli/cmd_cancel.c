/* lvctl cancel ID: cancel a task; ready segments are settled and the rest refunded. */
#include "api.h"

int cmd_cancel(cli_ctx *ctx, int argc, char **argv)
{
	const char *key_text = NULL, *key_id = NULL, *pos[1];
	cli_opt opts[] = { CLI_KEY_OPTS(&key_text, &key_id), { CLI_OPT_END, NULL, NULL, NULL, NULL } };
	const cli_spec spec = { "cancel", "ID",
		                "Cancel a queued or running task: work stops, ready segments are settled and the rest\n"
		                "of the reservation is refunded.  A finished task is shown unchanged.  With --json: the\n"
		                "task object.",
		                opts, 1, 1, "task ID" };
	cli_api *api = NULL;
	char *json = NULL;
	size_t npos;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) || (rc = cli_api_open(&api, ctx, key_text, key_id)))
		return rc;
	if ((rc = cli_api_cancel(api, pos[0], &json)) == LV_OK)
		rc = cli_print_task_doc(ctx, json);
	cli_api_close(api);
	return rc;
}
