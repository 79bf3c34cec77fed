/* lvctl get ID: one of the acting key's tasks. */
#include "cli.h"

int cmd_get(cli_ctx *ctx, int argc, char **argv)
{
	const char *key_text = NULL, *key_id = NULL, *pos[1];
	cli_opt opts[] = { CLI_KEY_OPTS(&key_text, &key_id), { CLI_OPT_END, NULL, NULL, NULL, NULL } };
	const cli_spec spec = { "get", "ID",
		                "Show a task: its status line, prompt, result URL or error.  With --json: the task\n"
		                "object of GET /v1/videos/{id}, with shots, script and the quality report (qc).",
		                opts, 1, 1, "task ID" };
	lv_engine *engine;
	lv_key *key = NULL;
	lv_task *task = NULL;
	char *json;
	size_t npos;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (rc = cli_acting_key(&key, &engine, ctx, key_text, key_id)))
		return rc;
	if ((rc = lv_task_get(&task, engine, key, pos[0])) == LV_OK) {
		if (ctx->json) {
			if ((rc = lv_task_to_json(&json, task, LV_TASK_JSON_DETAIL)) == LV_OK)
				cli_print_json(json);
		} else {
			cli_print_task_line(task);
			printf("prompt    %s\nduration  %d s\n", lv_task_prompt(task), lv_task_duration(task));
			if (lv_task_result_url(task))
				printf("result    %s\n", lv_task_result_url(task));
			if (lv_task_qc_summary(&json, task) == LV_OK && json) {
				printf("qc        %s\n", json);
				lv_free(json);
			}
			if (lv_task_error_code(task))
				printf("error     %s: %s\n", lv_task_error_code(task),
				       lv_task_error_message(task) ? lv_task_error_message(task) : "");
		}
	}
	lv_task_free(task);
	lv_key_free(key);
	return rc;
}
