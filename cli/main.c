/*
 * lvctl — the operator and batch command line of liblongvideo.
 *
 *   lvctl [--config FILE] [--data-dir DIR] [--public-url URL] [--json] COMMAND [options]
 *
 * This file holds the global options, the table of commands, and the one
 * place where a failure becomes a message and an exit code.
 */
#include "cli.h"

#include <curl/curl.h>

#include <stdlib.h>
#include <string.h>

/* ---- exit codes: fixed, documented in --help and docs/cli.md ---------------------------- */

enum {
	EXIT_OK = 0,
	EXIT_FAILURE_OTHER = 1, /* internal, store, I/O and every other failure */
	EXIT_USAGE = 2,         /* unknown command or option, missing or malformed argument */
	EXIT_INVALID = 3,       /* the library rejected a value (LV_EINVALID) */
	EXIT_AUTH = 4,          /* missing, malformed, unknown or revoked API key */
	EXIT_CREDITS = 5,       /* insufficient credits */
	EXIT_NOT_FOUND = 6,     /* no such task or key */
	EXIT_CONFLICT = 7,      /* not_composable, no_segments, segments_not_ready, idempotency_key_reused */
	EXIT_CONFIG = 8,        /* the configuration is invalid */
	EXIT_TASK = 9,          /* generate: the task failed or was canceled */
	EXIT_INTERRUPTED = 130  /* generate: interrupted (Ctrl-C), the task canceled; as shells report SIGINT */
};

static int exit_code(int status)
{
	switch (status) {
	case LV_OK:
	case CLI_DONE:
		return EXIT_OK;
	case CLI_EUSAGE:
		return EXIT_USAGE;
	case LV_EINVALID:
		return EXIT_INVALID;
	case LV_EAUTH:
		return EXIT_AUTH;
	case LV_ECREDITS:
		return EXIT_CREDITS;
	case LV_ENOTFOUND:
	case LV_ENOKEY:
	case LV_EGONE:
		return EXIT_NOT_FOUND;
	case LV_ENOTCOMPOSABLE:
	case LV_ENOSEGMENTS:
	case LV_ESEGMENTS:
	case LV_EIDEMPOTENCY:
		return EXIT_CONFLICT;
	case LV_ECONFIG:
		return EXIT_CONFIG;
	case CLI_ETASK:
		return EXIT_TASK;
	case CLI_EINTR:
		return EXIT_INTERRUPTED;
	default:
		return EXIT_FAILURE_OTHER;
	}
}

/*
 * Report a failed command: "lvctl: <message>" on stderr and, with --json, an
 * error document shaped like the HTTP API's error body on stdout.  The message
 * is the one the command recorded (cli_fail), else the library's last error.
 */
static void report(const cli_ctx *ctx, int status)
{
	const lv_error *err = lv_error_last();
	const char *message, *details = NULL, *code;
	if (ctx->status == status && ctx->message[0]) {
		message = ctx->message;
		details = ctx->details[0] ? ctx->details : NULL;
	} else if (err->status == status && err->message[0]) {
		message = err->message;
		details = err->details_json;
	} else {
		message = lv_strerror(status);
	}
	code = ctx->status == status && ctx->code[0] ? ctx->code /* the server's own code */
	       : status == CLI_EUSAGE  ? "usage_error"
	       : status == CLI_ETASK ? "task_failed"
	       : status == CLI_EINTR ? "interrupted"
	                             : lv_status_code(status);
	if (ctx->status == status && ctx->code[0])
		fprintf(stderr, "lvctl: %s: %s\n", ctx->code, message); /* a server's error: its code too */
	else
		fprintf(stderr, "lvctl: %s\n", message);
	if (ctx->json) {
		char buf[4096];
		size_t len = 0;
		int n = snprintf(buf, sizeof(buf), "{\"error\":{\"code\":\"%s\",\"message\":", code);
		len = (size_t)n;
		if (cli_json_string(buf, sizeof(buf), &len, message) != 0) {
			len = (size_t)n;
			cli_json_string(buf, sizeof(buf), &len, lv_strerror(status));
		}
		printf("%s%s%s}}\n", buf, details ? ",\"details\":" : "", details ? details : "");
	}
}

/* ---- the commands -------------------------------------------------------------------------- */

typedef struct cli_command {
	const char *name;
	int (*run)(cli_ctx *ctx, int argc, char **argv);
	const char *args;    /* for the list in --help */
	const char *summary;
} cli_command;

/* Adding a command is one line here plus its cmd_<name>.c. */
static const cli_command commands[] = {
	{ "keys", cmd_keys, "create|list|grant|revoke", "manage API keys and credits (operators)" },
	{ "estimate", cmd_estimate, "--duration D", "the segment plan and price of a film" },
	{ "storyboard", cmd_storyboard, "--prompt P --duration D", "the storyboard the script provider writes (no task)" },
	{ "create", cmd_create, "--prompt P --duration D", "create a task" },
	{ "list", cmd_list, "", "the key's tasks, newest first" },
	{ "get", cmd_get, "ID", "one task" },
	{ "cancel", cmd_cancel, "ID", "cancel a task (unused credits are refunded)" },
	{ "compose", cmd_compose, "ID", "re-compose a finished task from its segments" },
	{ "compose-files", cmd_compose_files, "--clip F... --out DIR", "compose your own clips into one film" },
	{ "approve", cmd_approve, "ID", "approve the storyboard of a task awaiting review" },
	{ "regenerate", cmd_regenerate, "ID INDEX", "generate one shot of a finished task again" },
	{ "credits", cmd_credits, "[--ledger]", "the key's balance and reservations, or its ledger" },
	{ "generate", cmd_generate, "--prompt P --duration D", "create a task, follow it, save the film" },
	{ "worker", cmd_worker, "[--workers N]", "run pipeline workers until stopped" },
	{ "doctor", cmd_doctor, "[--online]", "check the configuration and the providers" },
	{ "store", cmd_store, "migrate|verify", "copy a SQLite store into PostgreSQL; check the ledger" },
	{ "download", cmd_download, "ID [-o FILE]", "save a completed task's film (or subtitles, thumbnail)" },
	{ "batch", cmd_batch, "FILE", "make many films from a JSON-lines or CSV file, resumably" },
	{ "gc", cmd_gc, "[--older-than DAYS] [--dry-run]", "remove old results and working files by policy" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;
	fputs("usage: lvctl [--config FILE] [--data-dir DIR] [--server URL] [--key-file FILE] [--public-url URL]\n"
	      "             [--json] COMMAND [options]\n"
	      "       lvctl help [COMMAND] | -h | --help | --version\n"
	      "\n"
	      "The operator and batch command line of liblongvideo.  It works on the same task store\n"
	      "as lvserver, also while the server runs, or (--server URL) as a client of a running lvserver.\n"
	      "\n"
	      "commands:\n",
	      f);
	for (i = 0; i < N_COMMANDS; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", commands[i].name, commands[i].args);
		fprintf(f, "  %-32s %s\n", left, commands[i].summary);
	}
	fputs("\n"
	      "Run lvctl COMMAND --help for a command's options.  Task commands (create, list, get, cancel,\n"
	      "compose, approve, regenerate, credits, generate, download, batch) act as one API key:\n"
	      "--key-file FILE, --key sk-..., $LONGVIDEO_KEY or $LV_API_KEY, or --key-id key_... for\n"
	      "operators with access to the store.  With --server URL (or $LONGVIDEO_BASE) they talk to that\n"
	      "lvserver over HTTP instead of opening the store, with the same output and exit codes.\n"
	      "\n"
	      "global options:\n"
	      "  --config FILE    configuration file (default: $LV_CONFIG, else built-in defaults)\n"
	      "  --data-dir DIR   data directory (overrides the config's data_dir; default lvdata)\n"
	      "  --server URL     task commands are requests to the lvserver at URL (default:\n"
	      "                   $LONGVIDEO_BASE; empty or unset: the local store)\n"
	      "  --key-file FILE  the API key task commands act as, from the file's first line (- : stdin);\n"
	      "                   safer than --key, which other users can see in the process list\n"
	      "  --public-url URL base URL of media links in output and webhooks (overrides\n"
	      "                   server.public_url: set it to the lvserver clients reach)\n"
	      "  --json           machine output: the library's JSON, one document per line; errors\n"
	      "                   also print {\"error\":{\"code\",\"message\"[,\"details\"]}} on stdout\n"
	      "  --help           show this help\n"
	      "  --version        show the version\n"
	      "\n"
	      "exit codes:\n"
	      "  0  success\n"
	      "  1  internal, store, I/O or other failure\n"
	      "  2  usage error: unknown command or option, missing or malformed argument\n"
	      "  3  invalid request: a value was rejected (invalid_request)\n"
	      "  4  authentication: missing, malformed, unknown or revoked API key (invalid_api_key)\n"
	      "  5  insufficient credits (insufficient_credits)\n"
	      "  6  not found: no such task or key (task_not_found)\n"
	      "  7  conflict: not_composable, no_segments, segments_not_ready, idempotency_key_reused\n"
	      "  8  configuration error (invalid_config)\n"
	      "  9  generate: the task failed or was canceled; batch: some task failed\n"
	      "  130  generate: interrupted (Ctrl-C); the task was canceled (without --detach);\n"
	      "       batch: interrupted, the tasks keep running (run the batch again to resume)\n"
	      "\n"
	      "environment:\n"
	      "  LV_CONFIG      configuration file when --config is not given\n"
	      "  LONGVIDEO_BASE the lvserver task commands talk to when --server is not given\n"
	      "  LONGVIDEO_KEY  the API key task commands act as when neither --key nor --key-file is given\n"
	      "  LV_API_KEY     the same, read when LONGVIDEO_KEY is not set\n"
	      "  LV_LOG_LEVEL   library log level on stderr: debug, info, warn, error, off (default warn)\n",
	      f);
}

/* Parse the global options up to the command; *cmd_index is the command's index in argv. */
static int parse_globals(cli_ctx *ctx, int argc, char **argv, int *cmd_index)
{
	int i;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *value = NULL;
		const char **dest = NULL;
		if (a[0] != '-' || !strcmp(a, "-"))
			break;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return CLI_DONE;
		}
		if (!strcmp(a, "--version")) {
			printf("lvctl %s (liblongvideo %s)\n", LV_VERSION, lv_version());
			return CLI_DONE;
		}
		if (!strcmp(a, "--json")) {
			ctx->json = 1;
			continue;
		}
		if (!strncmp(a, "--config", 8) && (a[8] == '\0' || a[8] == '='))
			dest = &ctx->config_path;
		else if (!strncmp(a, "--data-dir", 10) && (a[10] == '\0' || a[10] == '='))
			dest = &ctx->data_dir;
		else if (!strncmp(a, "--key-file", 10) && (a[10] == '\0' || a[10] == '='))
			dest = &ctx->key_file;
		else if (!strncmp(a, "--public-url", 12) && (a[12] == '\0' || a[12] == '='))
			dest = &ctx->public_url;
		else if (!strncmp(a, "--server", 8) && (a[8] == '\0' || a[8] == '='))
			dest = &ctx->server;
		else
			return cli_fail(ctx, CLI_EUSAGE, "unknown option '%s' (see lvctl --help)", a);
		value = strchr(a, '=');
		if (value)
			value++;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return cli_fail(ctx, CLI_EUSAGE, "%s needs a value", a);
		if (!*value)
			return cli_fail(ctx, CLI_EUSAGE, "%.*s: must not be empty", (int)strcspn(a, "="), a);
		*dest = value;
	}
	if (i >= argc) {
		usage(stderr);
		return cli_fail(ctx, CLI_EUSAGE, "no command given");
	}
	*cmd_index = i;
	return LV_OK;
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
	int idx = 0, rc;
	size_t i;
	if ((rc = parse_globals(ctx, argc, argv, &idx)) != LV_OK)
		return rc;
	/* "lvctl help" is the usage; "lvctl help CMD" is CMD's own help. */
	if (!strcmp(argv[idx], "help")) {
		char *help_argv[3];
		if (idx + 1 >= argc) {
			usage(stdout);
			return CLI_DONE;
		}
		help_argv[0] = argv[idx + 1];
		help_argv[1] = (char *)"--help";
		help_argv[2] = NULL;
		for (i = 0; i < N_COMMANDS; i++)
			if (!strcmp(argv[idx + 1], commands[i].name))
				return commands[i].run(ctx, 2, help_argv);
		return cli_fail(ctx, CLI_EUSAGE, "help: unknown command '%s' (see lvctl --help)", argv[idx + 1]);
	}
	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(argv[idx], commands[i].name))
			return commands[i].run(ctx, argc - idx, argv + idx);
	return cli_fail(ctx, CLI_EUSAGE, "unknown command '%s' (see lvctl --help)", argv[idx]);
}

int main(int argc, char **argv)
{
	cli_ctx ctx;
	int status, code;

	/* The library logs to stderr; a command line keeps that to warnings unless $LV_LOG_LEVEL asks for
	 * more.  FFmpeg's own messages follow the same level. */
	{
		const char *env = getenv("LV_LOG_LEVEL");
		lv_log_level level = LV_LOG_WARN;
		if (env && *env && lv_log_level_parse(&level, env) != LV_OK)
			level = LV_LOG_WARN;
		lv_log_set_level(level);
		lv_log_route_ffmpeg(1);
	}
	memset(&ctx, 0, sizeof(ctx));
	{
		const char *base = getenv("LONGVIDEO_BASE");
		if (base && *base)
			ctx.server = base;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "lvctl: cannot initialise libcurl\n");
		return EXIT_FAILURE_OTHER;
	}
	status = run(&ctx, argc, argv);
	if (status != LV_OK && status != CLI_DONE)
		report(&ctx, status);
	code = exit_code(status);
	lv_engine_close(ctx.engine);
	curl_global_cleanup();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "lvctl: cannot write the output\n");
		if (code == EXIT_OK)
			code = EXIT_FAILURE_OTHER;
	}
	return code;
}
