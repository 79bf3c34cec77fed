/* lvctl approve ID: approve the storyboard of a task awaiting review. */
#include "api.h"

int cmd_approve(cli_ctx *ctx, int argc, char **argv)
{
	const char *key_text = NULL, *key_id = NULL, *pos[1];
	cli_opt opts[] = { CLI_KEY_OPTS(&key_text, &key_id), { CLI_OPT_END, NULL, NULL, NULL, NULL } };
	const cli_spec spec = { "approve", "ID",
		                "Approve the storyboard of a task created with --review (status awaiting_review):\n"
		                "moderation checks it again and generation goes on.  With --json: the task object.",
		                opts, 1, 1, "task ID" };
	cli_api *api = NULL;
	char *json = NULL;
	size_t npos;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) || (rc = cli_api_open(&api, ctx, key_text, key_id)))
		return rc;
	if ((rc = cli_api_approve(api, pos[0], &json)) == LV_OK)
		rc = cli_print_task_doc(ctx, json);
	cli_api_close(api);
	return rc;
}
