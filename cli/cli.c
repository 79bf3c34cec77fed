/* lvctl: option parsing, output, engine and key helpers shared by the subcommands. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
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

/* The global options, as they are written before the command. */
static const struct {
	const char *name;
	const char *usage;
} global_opts[] = { { "json", "--json" }, { "config", "--config FILE" }, { "data-dir", "--data-dir DIR" },
	            { "public-url", "--public-url URL" }, { "version", "--version" } };

static const char *global_option_usage(const char *name, size_t len)
{
	size_t i;
	for (i = 0; i < sizeof(global_opts) / sizeof(global_opts[0]); i++)
		if (strlen(global_opts[i].name) == len && !strncmp(global_opts[i].name, name, len))
			return global_opts[i].usage;
	return NULL;
}

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
			snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
			fprintf(f, "  %-26s %s%s\n", left, o->help, o->kind == CLI_OPT_LIST ? " (repeatable)" : "");
		}
	}
	fputs("  --help                     show this help\n\n"
	      "Global options (--config, --data-dir, --json) go before the command; see lvctl --help.\n",
	      f);
}

/* Does this argument look like an option?  "-5" and "-" do not. */
static int looks_like_option(const char *a)
{
	return a[0] == '-' && (a[1] == '-' || isalpha((unsigned char)a[1]));
}

int cli_parse(cli_ctx *ctx, const cli_spec *spec, int argc, char **argv, const char **pos, size_t *npos)
{
	int i, only_positional = 0;
	*npos = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *value = NULL;
		size_t len;
		cli_opt *o;
		if (only_positional || !looks_like_option(a)) {
			if (*npos >= spec->pos_max)
				return spec->pos_max == 0
				               ? cli_fail(ctx, CLI_EUSAGE, "%s: unexpected argument '%s'", spec->command, a)
				               : cli_fail(ctx, CLI_EUSAGE, "%s: too many arguments (expected %s)",
				                          spec->command, spec->pos_name);
			pos[(*npos)++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_positional = 1;
			continue;
		}
		if (!strcmp(a, "--help")) {
			cli_spec_help(spec, stdout);
			return CLI_DONE;
		}
		if (a[1] != '-')
			return cli_fail(ctx, CLI_EUSAGE, "%s: unknown option '%s' (see lvctl %s --help)", spec->command, a,
			                spec->command);
		name = a + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		if (!(o = find_opt(spec->opts, name, len))) {
			const char *global = global_option_usage(name, len);
			if (global)
				return cli_fail(ctx, CLI_EUSAGE,
				                "%s: unknown option --%.*s (global options go before the command: "
				                "lvctl %s %s ...)",
				                spec->command, (int)len, name, global, spec->command);
			return cli_fail(ctx, CLI_EUSAGE, "%s: unknown option --%.*s (see lvctl %s --help)", spec->command,
			                (int)len, name, spec->command);
		}
		if (o->kind == CLI_OPT_SWITCH) {
			if (eq)
				return cli_fail(ctx, CLI_EUSAGE, "%s: --%s takes no value", spec->command, o->name);
			*(int *)o->dest = 1;
			continue;
		}
		if (eq)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return cli_fail(ctx, CLI_EUSAGE, "%s: --%s needs a value (%s)", spec->command, o->name, o->arg);
		if (o->kind == CLI_OPT_VALUE) {
			*(const char **)o->dest = value;
		} else {
			cli_list *l = o->dest;
			if (l->n >= sizeof(l->items) / sizeof(l->items[0]))
				return cli_fail(ctx, CLI_EUSAGE, "%s: --%s given too many times", spec->command, o->name);
			l->items[l->n++] = value;
		}
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

int cli_acting_key(lv_key **out, lv_engine **engine, cli_ctx *ctx, const char *key, const char *key_id)
{
	int rc;
	*out = NULL;
	*engine = NULL;
	if (key && key_id)
		return cli_fail(ctx, CLI_EUSAGE, "give either --key or --key-id, not both");
	if ((rc = cli_engine(engine, ctx, 0)))
		return rc;
	if (key_id)
		return lv_key_lookup(out, *engine, key_id);
	if (!key) {
		key = getenv("LV_API_KEY");
		if (!key || !*key)
			return cli_fail(ctx, LV_EAUTH,
			                "no API key: give --key sk-..., set LV_API_KEY, or (operators) --key-id key_...");
	}
	return lv_key_authenticate(out, *engine, key);
}

/* ---- output --------------------------------------------------------------------------------- */

void cli_print_json(char *json)
{
	fputs(json, stdout);
	fputc('\n', stdout);
	lv_free(json);
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

void cli_print_task_line(const lv_task *t)
{
	char est[32], cost[32];
	printf("%s %s %d%% %d/%d shots est %s", lv_task_id(t), lv_task_status_name(lv_task_get_status(t)),
	       lv_task_progress(t), lv_task_shots_done(t), lv_task_shots_total(t),
	       cli_credits(est, sizeof(est), lv_task_cost_estimate(t)));
	if (lv_task_cost_actual(t) >= 0)
		printf(" cost %s", cli_credits(cost, sizeof(cost), lv_task_cost_actual(t)));
	if (lv_task_error_code(t))
		printf(" error %s", lv_task_error_code(t));
	putchar('\n');
}

int cli_print_task(const cli_ctx *ctx, const lv_task *task)
{
	char *json;
	int rc;
	if (!ctx->json) {
		cli_print_task_line(task);
		return LV_OK;
	}
	if ((rc = lv_task_to_json(&json, task, 0)) == LV_OK)
		cli_print_json(json);
	return rc;
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
