/* lvctl: option parsing, output, engine and key helpers shared by the subcommands. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(cli_ctx *ctx, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->message, sizeof(ctx->message), fmt, ap);
	va_end(ap);
	ctx->status = status;
	return status;
}

/* ---- option parsing ------------------------------------------------------------------ */

static cli_opt *find_opt(cli_opt *opts, const char *name, size_t len)
{
	for (; opts && opts->kind != CLI_OPT_END; opts++)
		if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

void cli_spec_help(const cli_spec *spec, FILE *f)
{
	const cli_opt *o;
	fprintf(f, "usage: lvctl [global options] %s%s%s\n\n%s\n", spec->command, spec->synopsis ? " " : "",
	        spec->synopsis ? spec->synopsis : "", spec->about);
	if (spec->opts && spec->opts->kind != CLI_OPT_END) {
		fputs("\noptions:\n", f);
		for (o = spec->opts; o->kind != CLI_OPT_END; o++) {
			char left[64];
			snprintf(left, sizeof(left), "%s%s%s%s", o->name[1] ? "--" : "-", o->name, o->arg ? " " : "",
			         o->arg ? o->arg : "");
			fprintf(f, "  %-26s %s%s\n", left, o->help, o->kind == CLI_OPT_LIST ? " (repeatable)" : "");
		}
	}
	fputs("  -h, --help                 show this help\n\n"
	      "Global options (--config, --data-dir, --server, --key-file, --json) may be given anywhere;\n"
	      "see lvctl --help.\n",
	      f);
}

/* getopt_long's codes for the global options, which every command also accepts (anywhere on the line). */
enum {
	OPT_HELP = 'h',
	OPT_JSON = 0x100,
	OPT_CONFIG,
	OPT_DATA_DIR,
	OPT_KEY_FILE,
	OPT_PUBLIC_URL,
	OPT_SERVER,
	OPT_FIRST_OWN = 0x200
};

int cli_global_option(cli_ctx *ctx, const char *name, const char *value)
{
	const char **dest = NULL;
	if (!strcmp(name, "json")) {
		ctx->json = 1;
		return LV_OK;
	}
	if (!strcmp(name, "config"))
		dest = &ctx->config_path;
	else if (!strcmp(name, "key-file"))
		dest = &ctx->key_file;
	else if (!strcmp(name, "public-url"))
		dest = &ctx->public_url;
	else if (!strcmp(name, "data-dir"))
		dest = &ctx->data_dir;
	else if (!strcmp(name, "server"))
		dest = &ctx->server;
	else
		return cli_fail(ctx, CLI_EUSAGE, "unknown option '--%s' (see lvctl --help)", name);
	if (!value || !*value)
		return cli_fail(ctx, CLI_EUSAGE, "--%s: must not be empty", name);
	*dest = value;
	return LV_OK;
}

int cli_parse(cli_ctx *ctx, const cli_spec *spec, int argc, char **argv, const char **pos, size_t *npos)
{
	struct option lo[96];
	char shorts[32] = ":h"; /* one-letter options are short options ("-o FILE") */
	size_t n = 0, count = 0, ns = 2;
	cli_opt *o;
	int c, rc;
	*npos = 0;
	for (o = spec->opts; o && o->kind != CLI_OPT_END; o++)
		count++;
	if (count + 8 > sizeof(lo) / sizeof(lo[0]))
		return cli_fail(ctx, CLI_EUSAGE, "%s: too many options", spec->command);
	for (o = spec->opts; o && o->kind != CLI_OPT_END; o++)
		if (!o->name[1] && o->name[0] != 'h' && ns + 3 < sizeof(shorts)) {
			shorts[ns++] = o->name[0];
			if (o->kind != CLI_OPT_SWITCH)
				shorts[ns++] = ':';
			shorts[ns] = '\0';
		}
	for (o = spec->opts; o && o->kind != CLI_OPT_END; o++, n++)
		lo[n] = (struct option){ o->name, o->kind == CLI_OPT_SWITCH ? no_argument : required_argument, NULL,
			                 OPT_FIRST_OWN + (int)n };
	lo[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	lo[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	lo[n++] = (struct option){ "config", required_argument, NULL, OPT_CONFIG };
	lo[n++] = (struct option){ "data-dir", required_argument, NULL, OPT_DATA_DIR };
	lo[n++] = (struct option){ "key-file", required_argument, NULL, OPT_KEY_FILE };
	lo[n++] = (struct option){ "public-url", required_argument, NULL, OPT_PUBLIC_URL };
	lo[n++] = (struct option){ "server", required_argument, NULL, OPT_SERVER };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	/* GNU getopt: options and arguments in any order ("--" ends the options); ':' first reports a missing
	 * value apart from an unknown option; optind = 0 starts a fresh scan. */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const char *arg = argv[optind - 1];
		if (c == OPT_HELP) {
			cli_spec_help(spec, stdout);
			return CLI_DONE;
		}
		if (c == OPT_JSON || c == OPT_CONFIG || c == OPT_DATA_DIR || c == OPT_KEY_FILE || c == OPT_PUBLIC_URL ||
		    c == OPT_SERVER) {
			rc = cli_global_option(ctx,
			                       c == OPT_JSON         ? "json"
			                       : c == OPT_CONFIG     ? "config"
			                       : c == OPT_KEY_FILE   ? "key-file"
			                       : c == OPT_PUBLIC_URL ? "public-url"
			                       : c == OPT_SERVER     ? "server"
			                                             : "data-dir",
			                       optarg);
			if (rc)
				return rc;
			continue;
		}
		if (c == ':') {
			const char *name = arg + strspn(arg, "-");
			o = find_opt(spec->opts, name, strcspn(name, "="));
			return cli_fail(ctx, CLI_EUSAGE, "%s: --%s needs a value (%s)", spec->command, o ? o->name : name,
			                o && o->arg ? o->arg : "a value");
		}
		if (c == '?') {
			const char *name = arg + strspn(arg, "-"), *eq = strchr(name, '=');
			if (eq && (o = find_opt(spec->opts, name, (size_t)(eq - name))) && o->kind == CLI_OPT_SWITCH)
				return cli_fail(ctx, CLI_EUSAGE, "%s: --%s takes no value", spec->command, o->name);
			if (optopt && optopt != '?')
				return cli_fail(ctx, CLI_EUSAGE, "%s: unknown option -%c (see lvctl %s --help)", spec->command,
				                optopt, spec->command);
			return cli_fail(ctx, CLI_EUSAGE, "%s: unknown option --%.*s (see lvctl %s --help)", spec->command,
			                (int)(eq ? (size_t)(eq - name) : strlen(name)), name, spec->command);
		}
		if (c < OPT_FIRST_OWN) { /* a short option */
			for (o = spec->opts; o->kind != CLI_OPT_END && !(o->name[0] == c && !o->name[1]); o++)
				;
			if (o->kind == CLI_OPT_END)
				return cli_fail(ctx, CLI_EUSAGE, "%s: unknown option -%c", spec->command, c);
		} else {
			o = &spec->opts[c - OPT_FIRST_OWN];
		}
		if (o->kind == CLI_OPT_SWITCH) {
			*(int *)o->dest = 1;
		} else if (o->kind == CLI_OPT_VALUE) {
			*(const char **)o->dest = optarg;
		} else {
			cli_list *l = o->dest;
			if (l->n >= sizeof(l->items) / sizeof(l->items[0]))
				return cli_fail(ctx, CLI_EUSAGE, "%s: --%s given too many times", spec->command, o->name);
			l->items[l->n++] = optarg;
		}
	}
	for (; optind < argc; optind++) {
		if (*npos >= spec->pos_max)
			return spec->pos_max == 0
			               ? cli_fail(ctx, CLI_EUSAGE, "%s: unexpected argument '%s'", spec->command, argv[optind])
			               : cli_fail(ctx, CLI_EUSAGE, "%s: too many arguments (expected %s)", spec->command,
			                          spec->pos_name);
		pos[(*npos)++] = argv[optind];
	}
	if (*npos < spec->pos_min)
		return cli_fail(ctx, CLI_EUSAGE, "%s: missing %s (usage: lvctl %s %s)", spec->command, spec->pos_name,
		                spec->command, spec->synopsis ? spec->synopsis : "");
	return LV_OK;
}

int cli_require(cli_ctx *ctx, const cli_spec *spec, const char *name, const char *value)
{
	if (value)
		return LV_OK;
	return cli_fail(ctx, CLI_EUSAGE, "%s: --%s is required (usage: lvctl %s %s)", spec->command, name,
	                spec->command, spec->synopsis ? spec->synopsis : "");
}

int cli_parse_int(cli_ctx *ctx, int *out, const char *name, const char *text, int min, int max)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(text, &end, 10);
	if (!*text || isspace((unsigned char)*text) || *end)
		return cli_fail(ctx, CLI_EUSAGE, "--%s: '%s' is not an integer", name, text);
	if (errno == ERANGE || v < min || v > max)
		return cli_fail(ctx, CLI_EUSAGE, "--%s: %s is out of range", name, text);
	*out = (int)v;
	return LV_OK;
}

int cli_parse_onoff(cli_ctx *ctx, int *out, const char *name, const char *text)
{
	static const char *const on[] = { "on", "true", "yes", "1", NULL }, *const off[] = { "off", "false", "no", "0",
		                                                                                 NULL };
	size_t i;
	for (i = 0; on[i]; i++) {
		if (!strcmp(text, on[i])) {
			*out = 1;
			return LV_OK;
		}
		if (!strcmp(text, off[i])) {
			*out = 0;
			return LV_OK;
		}
	}
	return cli_fail(ctx, CLI_EUSAGE, "--%s: must be on or off (got '%s')", name, text);
}

int cli_parse_credits(cli_ctx *ctx, int64_t *out, const char *name, const char *text)
{
	if (lv_credits_parse(out, text) == LV_OK)
		return LV_OK;
	return cli_fail(ctx, CLI_EUSAGE, "%s: '%s' is not an amount of credits (a number with at most three decimals)",
	                name, text);
}

/* ---- the engine and the acting key ----------------------------------------------------- */

int cli_engine(lv_engine **out, cli_ctx *ctx, unsigned int flags)
{
	lv_engine_options opts = LV_ENGINE_OPTIONS_INIT;
	int rc;
	if (!ctx->engine) {
		opts.config_path = ctx->config_path;
		opts.data_dir = ctx->data_dir;
		opts.public_url = ctx->public_url;
		opts.flags = flags;
		if ((rc = lv_engine_open(&ctx->engine, &opts)) != LV_OK) {
			*out = NULL;
			return rc;
		}
	}
	*out = ctx->engine;
	return LV_OK;
}

int cli_read_key_file(cli_ctx *ctx, char *buf, size_t cap, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t n;
	if (!f)
		return cli_fail(ctx, CLI_EUSAGE, "--key-file %s: %s", path, strerror(errno));
	n = fread(buf, 1, cap - 1, f);
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0'; /* the first line, without its end */
	if (!*buf)
		return cli_fail(ctx, CLI_EUSAGE, "--key-file %s: the file is empty", path);
	return LV_OK;
}

int cli_key_from_env(cli_ctx *ctx, char *buf, size_t cap, const char **key)
{
	const char *v;
	if (ctx->key_file) {
		int rc = cli_read_key_file(ctx, buf, cap, ctx->key_file);
		*key = rc == LV_OK ? buf : NULL;
		return rc;
	}
	if (((v = getenv("LONGVIDEO_KEY")) && *v) || ((v = getenv("LV_API_KEY")) && *v))
		*key = v;
	return LV_OK;
}

int cli_acting_key(lv_key **out, lv_engine **engine, cli_ctx *ctx, const char *key, const char *key_id)
{
	int rc;
	*out = NULL;
	*engine = NULL;
	char file_key[256];
	if (key && key_id)
		return cli_fail(ctx, CLI_EUSAGE, "give either --key or --key-id, not both");
	if (!key && !key_id && (rc = cli_key_from_env(ctx, file_key, sizeof(file_key), &key)))
		return rc;
	if ((rc = cli_engine(engine, ctx, LV_ENGINE_EXISTING_STORE)))
		return rc;
	if (key_id)
		return lv_key_lookup(out, *engine, key_id);
	if (!key)
		return cli_fail(ctx, LV_EAUTH,
		                "no API key: give --key-file FILE or --key sk-..., set LONGVIDEO_KEY (or LV_API_KEY), or "
		                "(operators) --key-id key_...");
	rc = lv_key_authenticate(out, *engine, key);
	{
		volatile char *wipe = file_key; /* a key read from a file does not linger on the stack */
		size_t i;
		for (i = 0; i < sizeof(file_key); i++)
			wipe[i] = 0;
	}
	return rc;
}

/* ---- output --------------------------------------------------------------------------------- */

void cli_print_json(char *json)
{
	fputs(json, stdout);
	fputc('\n', stdout);
	lv_free(json);
}

void cli_print_json_text(char *json)
{
	fputs(json, stdout);
	fputc('\n', stdout);
	free(json);
}

const char *cli_credits(char *buf, size_t cap, int64_t amount)
{
	lv_credits_format(buf, cap, amount);
	return buf;
}

static int put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + n >= cap)
		return -1;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
	return 0;
}

int cli_json_string(char *buf, size_t cap, size_t *len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	if (put(buf, cap, len, "\"", 1))
		return -1;
	for (; *p; p++) {
		char esc[8];
		const char *out = esc;
		size_t n = 2;
		esc[0] = '\\';
		switch (*p) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			if (*p < 0x20) {
				n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *p);
			} else {
				out = (const char *)p;
				n = 1;
			}
		}
		if (put(buf, cap, len, out, n))
			return -1;
	}
	return put(buf, cap, len, "\"", 1);
}

void cli_block_stop_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
}

/* ---- the options of a task request (create, generate) ------------------------------------ */

/* Turn "--metadata k=v" options into a JSON object text (caller frees); NULL with a usage error. */
static char *metadata_json(cli_ctx *ctx, const cli_list *items)
{
	size_t cap = 3, len = 0, i;
	char *buf;
	for (i = 0; i < items->n; i++)
		cap += strlen(items->items[i]) * 6 + 8;
	if (!(buf = malloc(cap))) {
		cli_fail(ctx, LV_ENOMEM, "out of memory");
		return NULL;
	}
	buf[len++] = '{';
	buf[len] = '\0';
	for (i = 0; i < items->n; i++) {
		const char *item = items->items[i], *eq = strchr(item, '=');
		char *name;
		int bad;
		if (!eq || eq == item) {
			cli_fail(ctx, CLI_EUSAGE, "--metadata: expected KEY=VALUE (got '%s')", item);
			free(buf);
			return NULL;
		}
		if (!(name = malloc((size_t)(eq - item) + 1))) {
			cli_fail(ctx, LV_ENOMEM, "out of memory");
			free(buf);
			return NULL;
		}
		memcpy(name, item, (size_t)(eq - item));
		name[eq - item] = '\0';
		if (i > 0)
			buf[len++] = ',';
		bad = cli_json_string(buf, cap, &len, name);
		if (!bad) {
			buf[len++] = ':';
			bad = cli_json_string(buf, cap, &len, eq + 1);
		}
		free(name);
		if (bad) { /* cannot happen: cap is an upper bound */
			cli_fail(ctx, LV_EINTERNAL, "--metadata: cannot encode '%s'", item);
			free(buf);
			return NULL;
		}
	}
	buf[len++] = '}';
	buf[len] = '\0';
	return buf;
}

void cli_task_args_init(cli_task_args *a)
{
	lv_task_request init = LV_TASK_REQUEST_INIT;
	memset(a, 0, sizeof(*a));
	a->req = init;
}

int cli_task_args_finish(cli_ctx *ctx, const cli_spec *spec, cli_task_args *a)
{
	int rc;
	if ((rc = cli_require(ctx, spec, "prompt", a->req.prompt)) ||
	    (rc = cli_require(ctx, spec, "duration", a->duration_text)) ||
	    (rc = cli_parse_int(ctx, &a->req.duration, "duration", a->duration_text, INT_MIN, INT_MAX)))
		return rc;
	if (a->req.duration == 0)
		a->req.duration = -1; /* in the C request 0 means "not given"; here it is just out of range */
	if (a->no_narration)
		a->req.narration = 0;
	if (a->no_music)
		a->req.music = 0;
	if (a->metadata.n > 0 && !(a->meta = metadata_json(ctx, &a->metadata)))
		return ctx->status;
	a->req.metadata_json = a->meta;
	return LV_OK;
}

void cli_task_args_clear(cli_task_args *a)
{
	free(a->meta);
	a->meta = NULL;
}
