/*
 * lvctl — helpers shared by the subcommands: option parsing, output,
 * opening the engine, resolving the acting API key.
 *
 * Every command is `int cmd_NAME(cli_ctx *ctx, int argc, char **argv)`
 * where argv[0] is the command's name.  It returns LV_OK, an lv_status from
 * a failed library call (the library's last error holds the message), or
 * one of the CLI_* statuses below.  main.c turns that into a message and an
 * exit code, in one place.
 */
#ifndef LVCTL_CLI_H
#define LVCTL_CLI_H

#include <longvideo.h>

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

/* Statuses of the command line itself (outside the lv_status range). */
#define CLI_EUSAGE (-1) /* the command line is malformed; the message is in ctx->message */
#define CLI_DONE (-2)   /* nothing more to do (help was printed): exit 0 */
#define CLI_ETASK (-3)  /* the task ended failed or canceled (generate) */
#define CLI_EINTR (-4)  /* interrupted by Ctrl-C (SIGINT) or SIGTERM: exit 130 */

#if defined(__GNUC__)
#  define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define CLI_PRINTF(a, b)
#endif

typedef struct cli_ctx {
	const char *config_path; /* --config, or NULL ($LV_CONFIG, then defaults) */
	const char *data_dir;    /* --data-dir, or NULL */
	const char *key_file;    /* --key-file, or NULL: the API key is the file's first line ("-": stdin) */
	const char *public_url;  /* --public-url, or NULL (server.public_url) */
	const char *server;      /* --server URL or $LONGVIDEO_BASE: task commands talk to that lvserver */
	int json;                /* --json */
	lv_engine *engine;       /* opened on demand by cli_engine(); closed by main */
	int status;              /* a status recorded by cli_fail(), 0 if none */
	char message[1024];      /* its message */
	char code[64];           /* a server's API error code for it, or "" */
	char details[1024];      /* a server's error details (JSON), or "" */
} cli_ctx;

/* ---- option parsing --------------------------------------------------------------- */

typedef enum cli_opt_kind {
	CLI_OPT_END = 0,
	CLI_OPT_SWITCH, /* --name            dest: int *, set to 1 */
	CLI_OPT_VALUE,  /* --name V          dest: const char **, the last one wins */
	CLI_OPT_LIST    /* --name V ...      dest: cli_list *, every one is kept */
} cli_opt_kind;

typedef struct cli_list {
	const char *items[256];
	size_t n;
} cli_list;

typedef struct cli_opt {
	cli_opt_kind kind;
	const char *name; /* without the leading "--" */
	const char *arg;  /* the value's placeholder in help ("D"), NULL for a switch */
	const char *help;
	void *dest;
} cli_opt;

/* What a command accepts; used for parsing and for its --help. */
typedef struct cli_spec {
	const char *command;  /* "keys create" */
	const char *synopsis; /* "--name N --credits C" */
	const char *about;    /* a sentence or two */
	cli_opt *opts;        /* ends with an entry of kind CLI_OPT_END */
	size_t pos_min;       /* positional arguments required */
	size_t pos_max;       /* and allowed */
	const char *pos_name; /* "ID", for messages */
} cli_spec;

/*
 * Parse argv[1..argc-1] (argv[0] is the command) against `spec` with getopt_long:
 * "--name value", "--name=value", options and arguments in any order, and "--"
 * (the rest are positional).  The global options (--json, --config, --data-dir)
 * are accepted here too.  "-h"/"--help" prints the command's help on stdout and
 * returns CLI_DONE.  Positional
 * arguments go to pos[0..*npos-1] (pos has room for spec->pos_max).
 * Unknown options, missing values and a wrong number of positional
 * arguments are CLI_EUSAGE with a message.
 */
int cli_parse(cli_ctx *ctx, const cli_spec *spec, int argc, char **argv, const char **pos, size_t *npos);

/* A global option (json, config, data-dir) given before or after the command; `value` NULL for --json. */
int cli_global_option(cli_ctx *ctx, const char *name, const char *value);

/* Print a command's help to `f`. */
void cli_spec_help(const cli_spec *spec, FILE *f);

/* Record a status and message (for main.c to report); returns `status`. */
int cli_fail(cli_ctx *ctx, int status, const char *fmt, ...) CLI_PRINTF(3, 4);

/* "--name: required" as a usage error, unless `value` is set; returns LV_OK or CLI_EUSAGE. */
int cli_require(cli_ctx *ctx, const cli_spec *spec, const char *name, const char *value);

/* An integer option value in [min, max]; CLI_EUSAGE naming the option otherwise. */
int cli_parse_int(cli_ctx *ctx, int *out, const char *name, const char *text, int min, int max);

/* "on"/"off" (also "true"/"false", "yes"/"no", "1"/"0") to 1/0; CLI_EUSAGE otherwise. */
int cli_parse_onoff(cli_ctx *ctx, int *out, const char *name, const char *text);

/* A credit amount through lv_credits_parse(); a malformed amount is CLI_EUSAGE. */
int cli_parse_credits(cli_ctx *ctx, int64_t *out, const char *name, const char *text);

/* ---- the engine and the acting key ---------------------------------------------------- */

/* Open the engine once (ctx->engine) with the global options and `flags` (LV_ENGINE_*). */
int cli_engine(lv_engine **out, cli_ctx *ctx, unsigned int flags);

/*
 * Open the engine and find the key a task command acts as: `--key sk-...`
 * (else $LV_API_KEY), authenticated like the HTTP API, or `--key-id key_...`
 * looked up in the store (operators).  Both given is a usage error (found
 * before the store is opened); neither is LV_EAUTH.
 */
int cli_acting_key(lv_key **out, lv_engine **engine, cli_ctx *ctx, const char *key, const char *key_id);

/* The API key when neither --key nor --key-id was given: the first line of --key-file, else
 * $LONGVIDEO_KEY, else $LV_API_KEY, else *key stays NULL.  `buf` holds a key read from a file. */
int cli_key_from_env(cli_ctx *ctx, char *buf, size_t cap, const char **key);
/* The first line of a key file ("-": standard input) into buf. */
int cli_read_key_file(cli_ctx *ctx, char *buf, size_t cap, const char *path);

/* The --key / --key-id entries of a task command's option table. */
#define CLI_KEY_OPTS(key, key_id) \
	{ CLI_OPT_VALUE, "key", "sk-...", "act as this API key (default: --key-file, $LONGVIDEO_KEY, $LV_API_KEY)", (key) }, \
	{ CLI_OPT_VALUE, "key-id", "key_...", "act as the key with this id (operators; needs the store)", (key_id) }

/* ---- a task request's options (create, generate) ---------------------------------------- */

typedef struct cli_task_args {
	lv_task_request req;
	const char *duration_text;
	const char *idem;
	int no_narration, no_music;
	cli_list metadata;
	char *meta; /* the metadata as JSON, owned */
} cli_task_args;

#define CLI_TASK_OPTS(a)                                                                                          \
	{ CLI_OPT_VALUE, "prompt", "P", "one sentence describing the film (required)", &(a)->req.prompt },        \
	{ CLI_OPT_VALUE, "duration", "D", "seconds, 3-180 (required)", &(a)->duration_text },                     \
	{ CLI_OPT_VALUE, "resolution", "R", "720p (default) or 1080p", &(a)->req.resolution },                    \
	{ CLI_OPT_VALUE, "aspect-ratio", "A", "16:9 (default), 9:16 or 1:1", &(a)->req.aspect_ratio },            \
	{ CLI_OPT_VALUE, "provider", "NAME", "video provider (default: the configured one)", &(a)->req.provider }, \
	{ CLI_OPT_VALUE, "language", "L", "BCP-47 language, e.g. zh or en (default: detected)",                   \
	  &(a)->req.language },                                                                                   \
	{ CLI_OPT_SWITCH, "no-narration", NULL, "no spoken narration", &(a)->no_narration },                      \
	{ CLI_OPT_SWITCH, "no-music", NULL, "no background music", &(a)->no_music },                              \
	{ CLI_OPT_VALUE, "subtitles", "M", "soft (default), burn or none", &(a)->req.subtitles },                 \
	{ CLI_OPT_VALUE, "webhook-url", "U", "POST the result to this http(s) URL", &(a)->req.webhook_url },      \
	{ CLI_OPT_LIST, "metadata", "K=V", "a metadata entry echoed in the task", &(a)->metadata },               \
	{ CLI_OPT_VALUE, "idempotency-key", "K", "repeat-safe create: the same K and request give the same task",  \
	  &(a)->idem }

void cli_task_args_init(cli_task_args *a);
/* Check the required options and turn the values into a request (usage errors name the option). */
int cli_task_args_finish(cli_ctx *ctx, const cli_spec *spec, cli_task_args *a);
void cli_task_args_clear(cli_task_args *a);

/* ---- output ----------------------------------------------------------------------------- */

/* Print a JSON document from the library on one line of stdout, then free it. */
void cli_print_json(char *json);
/* The same for a document the command owns (freed with free()). */
void cli_print_json_text(char *json);

/* A credit amount as text: 1650000 -> "1650". */
const char *cli_credits(char *buf, size_t cap, int64_t amount);

/* Append `s` to `buf` as a JSON string literal (with quotes); returns 0, or -1 if it does not fit. */
int cli_json_string(char *buf, size_t cap, size_t *len, const char *s);

/* Block SIGINT and SIGTERM in this thread and every thread started from it, so that the command can
 * take them synchronously (sigwait, sigtimedwait) from *sigs. */
void cli_block_stop_signals(sigset_t *sigs);

/* ---- the subcommands ---------------------------------------------------------------------- */

int cmd_keys(cli_ctx *ctx, int argc, char **argv);
int cmd_estimate(cli_ctx *ctx, int argc, char **argv);
int cmd_storyboard(cli_ctx *ctx, int argc, char **argv);
int cmd_create(cli_ctx *ctx, int argc, char **argv);
int cmd_list(cli_ctx *ctx, int argc, char **argv);
int cmd_get(cli_ctx *ctx, int argc, char **argv);
int cmd_cancel(cli_ctx *ctx, int argc, char **argv);
int cmd_compose(cli_ctx *ctx, int argc, char **argv);
int cmd_compose_files(cli_ctx *ctx, int argc, char **argv);
int cmd_approve(cli_ctx *ctx, int argc, char **argv);
int cmd_regenerate(cli_ctx *ctx, int argc, char **argv);
int cmd_credits(cli_ctx *ctx, int argc, char **argv);
int cmd_generate(cli_ctx *ctx, int argc, char **argv);
int cmd_worker(cli_ctx *ctx, int argc, char **argv);
int cmd_doctor(cli_ctx *ctx, int argc, char **argv);
int cmd_store(cli_ctx *ctx, int argc, char **argv);
int cmd_download(cli_ctx *ctx, int argc, char **argv);
int cmd_batch(cli_ctx *ctx, int argc, char **argv);
int cmd_gc(cli_ctx *ctx, int argc, char **argv);

#endif
