/* lvctl store migrate|verify: move an embedded deployment's SQLite store to PostgreSQL; check the ledger. */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

static int store_migrate(cli_ctx *ctx, int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *pos[1];
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "from", "sqlite:PATH", "the SQLite store to copy (default: the configured store)", &from },
		{ CLI_OPT_VALUE, "to", "postgresql://...", "the empty store to copy into (required)", &to },
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = {
		"store migrate", "--from sqlite:PATH --to postgresql://...",
		"Copy every key, ledger entry, task, segment, idempotency record and queued webhook of a SQLite\n"
		"store into an empty store (a PostgreSQL database), in one transaction, and check the ledger\n"
		"invariant on both sides.  Stop every process of the old deployment first.  The new store takes\n"
		"this process's master key: set LV_MASTER_KEY to the content of DATA_DIR/master.key (a\n"
		"different key is refused).  The password comes from PGPASSWORD, ~/.pgpass or store_password_env.",
		opts, 0, 0, NULL
	};
	lv_engine *engine;
	lv_store_migration n;
	char *report = NULL;
	size_t npos;
	int rc;
	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) || (rc = cli_require(ctx, &spec, "to", to)))
		return rc;
	if (from && strncmp(from, "sqlite:", 7) != 0)
		return cli_fail(ctx, CLI_EUSAGE, "--from: must be \"sqlite:PATH\"");
	if (strncmp(to, "postgresql://", 13) != 0 && strncmp(to, "postgres://", 11) != 0 && strncmp(to, "sqlite:", 7) != 0)
		return cli_fail(ctx, CLI_EUSAGE, "--to: must be a postgresql:// URL (or \"sqlite:PATH\")");
	if ((rc = cli_engine(&engine, ctx, 0)))
		return rc;
	rc = lv_store_migrate(engine, from, to, &n, &report);
	if (rc != LV_OK) {
		if (report)
			fprintf(stderr, "%s", report);
		lv_free(report);
		return rc;
	}
	if (ctx->json)
		printf("{\"keys\":%" PRId64 ",\"ledger_entries\":%" PRId64 ",\"tasks\":%" PRId64 ",\"segments\":%" PRId64
		       ",\"idempotency_keys\":%" PRId64 ",\"webhooks\":%" PRId64 ",\"ledger_verified\":true}\n",
		       n.keys, n.ledger_entries, n.tasks, n.segments, n.idempotency_keys, n.webhooks);
	else
		printf("copied %" PRId64 " keys, %" PRId64 " ledger entries, %" PRId64 " tasks, %" PRId64
		       " segments, %" PRId64 " idempotency keys, %" PRId64 " webhooks; the ledger invariant holds on "
		       "both stores\n",
		       n.keys, n.ledger_entries, n.tasks, n.segments, n.idempotency_keys, n.webhooks);
	return LV_OK;
}

static int store_verify(cli_ctx *ctx, int argc, char **argv)
{
	const char *pos[1];
	cli_opt opts[] = { { CLI_OPT_END, NULL, NULL, NULL, NULL } };
	const cli_spec spec = { "store verify", NULL,
		                "Check the ledger invariant of the configured store (lv_ledger_verify()): every key's\n"
		                "balance and reservations agree with its ledger, every task is fully reserved or fully\n"
		                "settled.  Exit 0 when it holds; otherwise each violation is printed and the exit code is 1.",
		                opts, 0, 0, NULL };
	lv_engine *engine;
	char *report = NULL;
	size_t npos;
	int rc;
	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) || (rc = cli_engine(&engine, ctx, 0)))
		return rc;
	rc = lv_ledger_verify(engine, &report);
	if (report)
		fprintf(stderr, "%s", report);
	lv_free(report);
	if (rc == LV_OK) {
		if (ctx->json)
			printf("{\"ledger_verified\":true}\n");
		else
			printf("the ledger invariant holds\n");
	}
	return rc;
}

int cmd_store(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "migrate"))
		return store_migrate(ctx, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return store_verify(ctx, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "--help")) {
		printf("usage: lvctl [global options] store migrate --from sqlite:PATH --to postgresql://...\n"
		       "       lvctl [global options] store verify\n"
		       "\n"
		       "Operate on the store itself (operators).  See lvctl store SUBCOMMAND --help.\n");
		return CLI_DONE;
	}
	return cli_fail(ctx, CLI_EUSAGE, "store: expected a subcommand: migrate or verify (see lvctl store --help)");
}
