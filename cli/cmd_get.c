/* lvctl get ID: one of the acting key's tasks. */
#include "api.h"

int cmd_get(cli_ctx *ctx, int argc, char **argv)
{
	const char *key_text = NULL, *key_id = NULL, *pos[1];
	cli_opt opts[] = { CLI_KEY_OPTS(&key_text, &key_id), { CLI_OPT_END, NULL, NULL, NULL, NULL } };
	const cli_spec spec = { "get", "ID",
		                "Show a task: its status line, prompt, result URL or error.  With --json: the task\n"
		                "object of GET /v1/videos/{id}, with shots, script and the quality report (qc).",
		                opts, 1, 1, "task ID" };
	cli_api *api = NULL;
	char *json = NULL;
	size_t npos;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) || (rc = cli_api_open(&api, ctx, key_text, key_id)))
		return rc;
	if ((rc = cli_api_get(api, pos[0], 1, &json)) == LV_OK)
		rc = cli_print_task_detail(ctx, json);
	cli_api_close(api);
	return rc;
}
