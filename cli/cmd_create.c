/* lvctl create: create a task as one API key (reserving its estimate). */
#include "cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

int cmd_create(cli_ctx *ctx, int argc, char **argv)
{
	lv_task_request req = LV_TASK_REQUEST_INIT;
	const char *duration_text = NULL, *idem = NULL, *key_text = NULL, *key_id = NULL, *pos[1];
	int no_narration = 0, no_music = 0;
	cli_list metadata = { { NULL }, 0 };
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "prompt", "P", "one sentence describing the film (required)", &req.prompt },
		{ CLI_OPT_VALUE, "duration", "D", "seconds, 3-180 (required)", &duration_text },
		{ CLI_OPT_VALUE, "resolution", "R", "720p (default) or 1080p", &req.resolution },
		{ CLI_OPT_VALUE, "aspect-ratio", "A", "16:9 (default), 9:16 or 1:1", &req.aspect_ratio },
		{ CLI_OPT_VALUE, "provider", "NAME", "video provider (default: the configured one)", &req.provider },
		{ CLI_OPT_VALUE, "language", "L", "BCP-47 language, e.g. zh or en (default: detected)", &req.language },
		{ CLI_OPT_SWITCH, "no-narration", NULL, "no spoken narration", &no_narration },
		{ CLI_OPT_SWITCH, "no-music", NULL, "no background music", &no_music },
		{ CLI_OPT_VALUE, "subtitles", "M", "soft (default), burn or none", &req.subtitles },
		{ CLI_OPT_VALUE, "webhook-url", "U", "POST the result to this http(s) URL", &req.webhook_url },
		{ CLI_OPT_LIST, "metadata", "K=V", "a metadata entry echoed in the task", &metadata },
		{ CLI_OPT_VALUE, "idempotency-key", "K", "repeat-safe create: the same K and request give the same task",
		  &idem },
		CLI_KEY_OPTS(&key_text, &key_id),
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = { "create", "--prompt P --duration D [options]",
		                "Create a task: validate, plan, reserve the estimate and queue it.  Prints the task\n"
		                "(with --json: the task object of the HTTP API).",
		                opts, 0, 0, NULL };
	lv_engine *engine;
	lv_key *key = NULL;
	lv_task *task = NULL;
	char *meta = NULL, *json;
	size_t npos;
	int rc;

	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (rc = cli_require(ctx, &spec, "prompt", req.prompt)) ||
	    (rc = cli_require(ctx, &spec, "duration", duration_text)) ||
	    (rc = cli_parse_int(ctx, &req.duration, "duration", duration_text, INT_MIN, INT_MAX)))
		return rc;
	if (req.duration == 0)
		req.duration = -1; /* in the C request 0 means "not given"; here it is just out of range */
	if (no_narration)
		req.narration = 0;
	if (no_music)
		req.music = 0;
	if (metadata.n > 0 && !(meta = metadata_json(ctx, &metadata)))
		return ctx->status;
	req.metadata_json = meta;
	if ((rc = cli_acting_key(&key, &engine, ctx, key_text, key_id)) == LV_OK &&
	    (rc = lv_task_create(&task, engine, key, &req, idem)) == LV_OK) {
		if (lv_task_replayed(task))
			fprintf(stderr, "replayed: idempotency key '%s' already created %s; nothing was charged\n", idem,
			        lv_task_id(task));
		if (!ctx->json)
			cli_print_task_line(task);
		else if ((rc = lv_task_to_json(&json, task, 0)) == LV_OK)
			cli_print_json(json);
	}
	free(meta);
	lv_task_free(task);
	lv_key_free(key);
	return rc;
}
