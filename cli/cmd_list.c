/* lvctl list: the acting key's tasks, newest first, one page or (--all) every page. */
#include "api.h"

#include <limits.h>

int cmd_list(cli_ctx *ctx, int argc, char **argv)
{
	lv_task_list_options lo = LV_TASK_LIST_OPTIONS_INIT;
	const char *limit_text = NULL, *key_text = NULL, *key_id = NULL, *pos[1];
	int all = 0;
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "limit", "N", "tasks per page, 1-100 (default 20)", &limit_text },
		{ CLI_OPT_VALUE, "after", "ID", "start after this task (the next_cursor of a page)", &lo.after },
		{ CLI_OPT_VALUE, "status", "S", "only tasks in this status (queued, ..., canceled)", &lo.status },
		{ CLI_OPT_SWITCH, "all", NULL, "follow the cursors and print every page", &all },
		CLI_KEY_OPTS(&key_text, &key_id),
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "list", "[--limit N] [--after ID] [--status S] [--all]",
		                "List the key's tasks, newest first, one line each.  Without --all, a note on stderr\n"
		                "gives the cursor of the next page.  With --json: each page's list document\n"
		                "({\"object\":\"list\",\"data\",\"has_more\",\"next_cursor\"}) on its own line.",
		                opts, 0, 0, NULL };
	cli_api *api = NULL;
	char cursor[64], next[64];
	size_t npos;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (limit_text && (rc = cli_parse_int(ctx, &lo.limit, "limit", limit_text, INT_MIN, INT_MAX))))
		return rc;
	if (limit_text && lo.limit == 0)
		lo.limit = -1; /* in the C options 0 means the default; here, as over HTTP, it is out of range */
	if ((rc = cli_api_open(&api, ctx, key_text, key_id)))
		return rc;
	for (;;) {
		char *json = NULL;
		if ((rc = cli_api_list(api, &lo, &json)) || (rc = cli_print_task_page(ctx, json, next, sizeof(next))))
			break;
		if (!next[0])
			break;
		if (!all) {
			if (!ctx->json)
				fprintf(stderr, "more tasks: lvctl list --after %s\n", next);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", next);
		lo.after = cursor;
	}
	cli_api_close(api);
	return rc;
}
