/* lvctl credits: the acting key's balance and reservations. */
#include "cli.h"

int cmd_credits(cli_ctx *ctx, int argc, char **argv)
{
	const char *key_text = NULL, *key_id = NULL, *pos[1];
	cli_opt opts[] = { CLI_KEY_OPTS(&key_text, &key_id), { CLI_OPT_END, NULL, NULL, NULL, NULL } };
	const cli_spec spec = { "credits", NULL,
		                "Show the key's balance (what it can spend now) and reserved credits (held by running\n"
		                "tasks).  With --json: the document of GET /v1/credits.",
		                opts, 0, 0, NULL };
	lv_engine *engine;
	lv_key *key = NULL;
	lv_credits credits;
	char *json, bal[32], res[32];
	size_t npos;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (rc = cli_acting_key(&key, &engine, ctx, key_text, key_id)))
		return rc;
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
