/* lvctl credits: the acting key's balance and reservations, or (--ledger) its ledger entries. */
#include "cli.h"

#include <limits.h>

/* The ledger, one page (or every page with --all): a line per entry, or each page's JSON document. */
static int print_ledger(cli_ctx *ctx, lv_engine *engine, lv_key *key, int limit, const char *after, int all)
{
	char cursor[64];
	for (;;) {
		lv_ledger_page *page = NULL;
		const char *next;
		size_t i;
		int rc = lv_key_ledger(&page, engine, key, limit, after);
		if (rc)
			return rc;
		if (ctx->json) {
			char *json = NULL;
			if ((rc = lv_ledger_page_to_json(&json, page))) {
				lv_ledger_page_free(page);
				return rc;
			}
			cli_print_json(json);
		} else {
			for (i = 0; i < lv_ledger_page_count(page); i++) {
				const lv_ledger_item *it = lv_ledger_page_get(page, i);
				char amount[32];
				printf("%-10s %-8s %12s  %s\n", it->id, it->kind, cli_credits(amount, sizeof(amount), it->amount),
				       it->task_id ? it->task_id : "-");
			}
		}
		next = lv_ledger_page_next_cursor(page);
		if (next)
			snprintf(cursor, sizeof(cursor), "%s", next);
		lv_ledger_page_free(page);
		if (!next)
			return LV_OK;
		if (!all) {
			if (!ctx->json)
				fprintf(stderr, "more entries: lvctl credits --ledger --after %s\n", cursor);
			return LV_OK;
		}
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
	lv_engine *engine;
	lv_key *key = NULL;
	lv_credits credits;
	char *json, bal[32], res[32];
	size_t npos;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (limit_text && (rc = cli_parse_int(ctx, &limit, "limit", limit_text, INT_MIN, INT_MAX))))
		return rc;
	if (limit_text && limit == 0)
		limit = -1; /* 0 would mean the default; here, as over HTTP, it is out of range */
	if (!ledger && (limit_text || after || all))
		return cli_fail(ctx, CLI_EUSAGE, "--limit, --after and --all go with --ledger");
	if ((rc = cli_acting_key(&key, &engine, ctx, key_text, key_id)))
		return rc;
	if (ledger) {
		rc = print_ledger(ctx, engine, key, limit, after, all);
		lv_key_free(key);
		return rc;
	}
	if ((rc = lv_key_credits(&credits, engine, key)) == LV_OK) {
		if (!ctx->json)
			printf("balance   %s\nreserved  %s\n", cli_credits(bal, sizeof(bal), credits.balance),
			       cli_credits(res, sizeof(res), credits.reserved));
		else if ((rc = lv_credits_to_json(&json, &credits)) == LV_OK)
			cli_print_json(json);
	}
	lv_key_free(key);
	return rc;
}
