/* lvctl keys create|list|grant|revoke: API keys and their credits (operators). */
#include "cli.h"

#include <string.h>

/* ---- keys create ------------------------------------------------------------------------ */

static int keys_create(cli_ctx *ctx, int argc, char **argv)
{
	const char *name = NULL, *credits_text = NULL, *pos[1];
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "name", "N", "the key's name, 1-100 characters (required)", &name },
		{ CLI_OPT_VALUE, "credits", "C", "initial credits, up to three decimals (required)", &credits_text },
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "keys create", "--name N --credits C",
		                "Create an API key.  The first line of the output is the key (sk-...), the second its\n"
		                "webhook secret (whsec_...); they are shown only this once.  With --json: the key's\n"
		                "JSON, which includes api_key and webhook_secret.",
		                opts, 0, 0, NULL };
	lv_engine *engine;
	lv_key *key = NULL;
	int64_t credits;
	size_t npos;
	char *json;
	char amount[32];
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) || (rc = cli_require(ctx, &spec, "name", name)) ||
	    (rc = cli_require(ctx, &spec, "credits", credits_text)) ||
	    (rc = cli_parse_credits(ctx, &credits, "--credits", credits_text)))
		return rc;
	if ((rc = cli_engine(&engine, ctx, 0)) || (rc = lv_key_create(&key, engine, name, credits)))
		return rc;
	if (ctx->json) {
		if ((rc = lv_key_to_json(&json, key)) == LV_OK)
			cli_print_json(json);
	} else {
		printf("%s\n%s\n", lv_key_secret(key), lv_key_webhook_secret(key));
		fprintf(stderr, "created %s (%s) named '%s' with %s credits; the key and webhook secret above are "
		                "shown only once\n",
		        lv_key_id(key), lv_key_prefix(key), lv_key_name(key),
		        cli_credits(amount, sizeof(amount), credits));
	}
	lv_key_free(key);
	return rc;
}

/* ---- keys list ------------------------------------------------------------------------------ */

static int keys_list(cli_ctx *ctx, int argc, char **argv)
{
	const char *pos[1];
	cli_opt opts[] = { { CLI_OPT_END, NULL, NULL, NULL, NULL } };
	const cli_spec spec = { "keys list", NULL,
		                "List every API key, oldest first: id, name, prefix, balance, reserved, status.\n"
		                "With --json: one key document per line.",
		                opts, 0, 0, NULL };
	lv_engine *engine;
	lv_key_list *list = NULL;
	size_t npos, i, n;
	int rc, w_id = 2, w_name = 4, w_bal = 7, w_res = 8;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (rc = cli_engine(&engine, ctx, LV_ENGINE_EXISTING_STORE)) || (rc = lv_key_list_all(&list, engine)))
		return rc;
	n = lv_key_list_count(list);
	if (ctx->json) {
		for (i = 0; i < n && rc == LV_OK; i++) {
			char *json;
			if ((rc = lv_key_to_json(&json, lv_key_list_get(list, i))) == LV_OK)
				cli_print_json(json);
		}
		lv_key_list_free(list);
		return rc;
	}
	/* Two passes: measure the columns, then print. */
	for (i = 0; i < n; i++) {
		const lv_key *k = lv_key_list_get(list, i);
		char b[32];
		int l;
		if ((l = (int)strlen(lv_key_id(k))) > w_id)
			w_id = l;
		if ((l = (int)strlen(lv_key_name(k))) > w_name)
			w_name = l;
		if ((l = lv_credits_format(b, sizeof(b), lv_key_credits_snapshot(k)->balance)) > w_bal)
			w_bal = l;
		if ((l = lv_credits_format(b, sizeof(b), lv_key_credits_snapshot(k)->reserved)) > w_res)
			w_res = l;
	}
	printf("%-*s  %-*s  %-11s  %*s  %*s  %s\n", w_id, "ID", w_name, "NAME", "PREFIX", w_bal, "BALANCE", w_res,
	       "RESERVED", "STATUS");
	for (i = 0; i < n; i++) {
		const lv_key *k = lv_key_list_get(list, i);
		char bal[32], res[32];
		printf("%-*s  %-*s  %-11s  %*s  %*s  %s\n", w_id, lv_key_id(k), w_name, lv_key_name(k), lv_key_prefix(k),
		       w_bal, cli_credits(bal, sizeof(bal), lv_key_credits_snapshot(k)->balance), w_res,
		       cli_credits(res, sizeof(res), lv_key_credits_snapshot(k)->reserved),
		       lv_key_revoked(k) ? "revoked" : "active");
	}
	lv_key_list_free(list);
	return LV_OK;
}

/* ---- keys grant / revoke ----------------------------------------------------------------- */

/* Print a key after a change: its JSON, or one line. */
static int show_key(cli_ctx *ctx, lv_engine *engine, const char *key_id, const char *what)
{
	lv_key *key = NULL;
	char *json;
	char bal[32], res[32];
	int rc;
	if ((rc = lv_key_lookup(&key, engine, key_id)))
		return rc;
	if (ctx->json) {
		if ((rc = lv_key_to_json(&json, key)) == LV_OK)
			cli_print_json(json);
	} else {
		printf("%s %s: balance %s reserved %s%s\n", lv_key_id(key), what,
		       cli_credits(bal, sizeof(bal), lv_key_credits_snapshot(key)->balance),
		       cli_credits(res, sizeof(res), lv_key_credits_snapshot(key)->reserved),
		       lv_key_revoked(key) ? " (revoked)" : "");
	}
	lv_key_free(key);
	return rc;
}

static int keys_grant(cli_ctx *ctx, int argc, char **argv)
{
	const char *pos[2];
	cli_opt opts[] = { { CLI_OPT_END, NULL, NULL, NULL, NULL } };
	const cli_spec spec = { "keys grant", "KEY_ID CREDITS",
		                "Add credits (more than 0, up to three decimals) to a key's balance, as a ledger grant.",
		                opts, 2, 2, "KEY_ID and CREDITS" };
	lv_engine *engine;
	int64_t credits;
	size_t npos;
	int rc;
	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (rc = cli_parse_credits(ctx, &credits, "CREDITS", pos[1])) ||
	    (rc = cli_engine(&engine, ctx, LV_ENGINE_EXISTING_STORE)) ||
	    (rc = lv_key_grant(engine, pos[0], credits)))
		return rc;
	return show_key(ctx, engine, pos[0], "granted");
}

static int keys_revoke(cli_ctx *ctx, int argc, char **argv)
{
	const char *pos[1];
	cli_opt opts[] = { { CLI_OPT_END, NULL, NULL, NULL, NULL } };
	const cli_spec spec = { "keys revoke", "KEY_ID",
		                "Revoke a key: it no longer authenticates.  Its running tasks go on.  Revoking twice\n"
		                "is not an error.",
		                opts, 1, 1, "KEY_ID" };
	lv_engine *engine;
	size_t npos;
	int rc;
	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (rc = cli_engine(&engine, ctx, LV_ENGINE_EXISTING_STORE)) || (rc = lv_key_revoke(engine, pos[0])))
		return rc;
	return show_key(ctx, engine, pos[0], "revoked");
}

/* ---- dispatch ------------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(cli_ctx *ctx, int argc, char **argv);
} subcommands[] = {
	{ "create", keys_create },
	{ "list", keys_list },
	{ "grant", keys_grant },
	{ "revoke", keys_revoke },
};

static const char keys_help[] =
	"usage: lvctl [global options] keys create --name N --credits C\n"
	"       lvctl [global options] keys list\n"
	"       lvctl [global options] keys grant KEY_ID CREDITS\n"
	"       lvctl [global options] keys revoke KEY_ID\n"
	"\n"
	"Manage API keys and their credits (operators; needs the store).  See lvctl keys SUBCOMMAND --help.\n";

int cmd_keys(cli_ctx *ctx, int argc, char **argv)
{
	size_t i;
	if (argc < 2)
		return cli_fail(ctx, CLI_EUSAGE, "keys: missing subcommand (create, list, grant or revoke)");
	if (!strcmp(argv[1], "--help")) {
		fputs(keys_help, stdout);
		return CLI_DONE;
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(ctx, argc - 1, argv + 1);
	return cli_fail(ctx, CLI_EUSAGE, "keys: unknown subcommand '%s' (create, list, grant or revoke)", argv[1]);
}
