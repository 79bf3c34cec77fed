/* lvctl credits: the acting key's balance and reservations, or (--ledger) its ledger entries. */
#include "api.h"

#include <limits.h>

/* The ledger, one page (or every page with --all): a line per entry, or each page's JSON document. */
static int print_ledger(cli_ctx *ctx, cli_api *api, int limit, const char *after, int all)
{
	char cursor[64], next[64];
	for (;;) {
		char *json = NULL;
		int rc;
		if ((rc = cli_api_ledger(api, limit, after, &json)) || (rc = cli_print_ledger_page(ctx, json, next, sizeof(next))))
			return rc;
		if (!next[0])
			return LV_OK;
		if (!all) {
			if (!ctx->json)
				fprintf(stderr, "more entries: lvctl credits --ledger --after %s\n", next);
			return LV_OK;
		}
		snprintf(cursor, sizeof(cursor), "%s", next);
		after = cursor;
	}
}

int cmd_credits(cli_ctx *ctx, int argc, char **argv)
{
	const char *key_text = NULL, *key_id = NULL, *limit_text = NULL, *after = NULL, *pos[1];
	int ledger = 0, all = 0, limit = 0;
	cli_opt opts[] = { { CLI_OPT_SWITCH, "ledger", NULL, "list the ledger entries, newest first", &ledger },
		           { CLI_OPT_VALUE, "limit", "N", "ledger entries per page, 1-100 (default 20)", &limit_text },
		           { CLI_OPT_VALUE, "after", "ID", "ledger entries after this one (a next_cursor)", &after },
		           { CLI_OPT_SWITCH, "all", NULL, "follow the cursors and print every ledger page", &all },
		           CLI_KEY_OPTS(&key_text, &key_id),
		           { CLI_OPT_END, NULL, NULL, NULL, NULL } };
	const cli_spec spec = { "credits", "[--ledger [--limit N] [--after ID] [--all]]",
		                "Show the key's balance (what it can spend now) and reserved credits (held by running\n"
		                "tasks).  With --json: the document of GET /v1/credits.  With --ledger: the key's\n"
		                "ledger entries (grant, reserve, settle, refund), newest first; with --json each page\n"
		                "is the document of GET /v1/credits/ledger on its own line.",
		                opts, 0, 0, NULL };
	cli_api *api = NULL;
	char *json = NULL;
	size_t npos;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (limit_text && (rc = cli_parse_int(ctx, &limit, "limit", limit_text, INT_MIN, INT_MAX))))
		return rc;
	if (limit_text && limit == 0)
		limit = -1; /* 0 would mean the default; here, as over HTTP, it is out of range */
	if (!ledger && (limit_text || after || all))
		return cli_fail(ctx, CLI_EUSAGE, "--limit, --after and --all go with --ledger");
	if ((rc = cli_api_open(&api, ctx, key_text, key_id)))
		return rc;
	if (ledger)
		rc = print_ledger(ctx, api, limit, after, all);
	else if ((rc = cli_api_credits(api, &json)) == LV_OK)
		rc = cli_print_credits(ctx, json);
	cli_api_close(api);
	return rc;
}
