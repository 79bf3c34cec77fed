/* lvctl: printing the API's documents, the same for the local store and a remote server. */
#include "api.h"

#include <stdlib.h>
#include <string.h>

static const char *credits_text(char *buf, size_t cap, int64_t amount)
{
	return cli_credits(buf, cap, amount < 0 ? 0 : amount);
}

void cli_print_task_line(const cJSON *t)
{
	char est[32], cost[32];
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(t, "error");
	const char *code = cli_json_str(err, "code");
	int64_t actual = cli_json_credits(t, "cost_actual");
	printf("%s %s %d%% %d/%d shots est %s", cli_json_str(t, "task_id") ? cli_json_str(t, "task_id") : "?",
	       cli_json_str(t, "status") ? cli_json_str(t, "status") : "?", cli_json_int(t, "progress", 0),
	       cli_json_int(t, "shots_done", 0), cli_json_int(t, "shots_total", 0),
	       credits_text(est, sizeof(est), cli_json_credits(t, "cost_estimate")));
	if (actual >= 0)
		printf(" cost %s", cli_credits(cost, sizeof(cost), actual));
	if (code)
		printf(" error %s", code);
	putchar('\n');
}

/* Parse a document (consuming the text) or print it as it is with --json. */
static cJSON *take(cli_ctx *ctx, char *json, const char *what, int *printed)
{
	cJSON *doc;
	*printed = 0;
	if (ctx->json) {
		fputs(json, stdout);
		fputc('\n', stdout);
		free(json);
		*printed = 1;
		return NULL;
	}
	doc = cli_json_parse(ctx, json, strlen(json), what);
	free(json);
	return doc;
}

int cli_print_task_doc(cli_ctx *ctx, char *json)
{
	int printed;
	cJSON *doc = take(ctx, json, "task", &printed);
	if (printed)
		return LV_OK;
	if (!doc)
		return ctx->status;
	cli_print_task_line(doc);
	cJSON_Delete(doc);
	return LV_OK;
}

int cli_print_task_detail(cli_ctx *ctx, char *json)
{
	int printed;
	cJSON *doc = take(ctx, json, "task", &printed);
	const cJSON *err;
	if (printed)
		return LV_OK;
	if (!doc)
		return ctx->status;
	cli_print_task_line(doc);
	printf("prompt    %s\nduration  %d s\n", cli_json_str(doc, "prompt") ? cli_json_str(doc, "prompt") : "",
	       cli_json_int(doc, "duration", 0));
	if (cli_json_str(doc, "result_url"))
		printf("result    %s\n", cli_json_str(doc, "result_url"));
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "qc"))) {
		char *qc = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(doc, "qc")), *line = NULL;
		if (qc && lv_qc_summary(&line, qc) == LV_OK && line)
			printf("qc        %s\n", line);
		lv_free(line);
		cJSON_free(qc);
	}
	err = cJSON_GetObjectItemCaseSensitive(doc, "error");
	if (cli_json_str(err, "code"))
		printf("error     %s: %s\n", cli_json_str(err, "code"),
		       cli_json_str(err, "message") ? cli_json_str(err, "message") : "");
	cJSON_Delete(doc);
	return LV_OK;
}

/* The next cursor of a page document, or "" (also with --json, read before printing). */
static void next_cursor(const char *json, cli_ctx *ctx, char *next, size_t cap)
{
	cli_ctx scratch;
	cJSON *doc;
	(void)ctx;
	memset(&scratch, 0, sizeof(scratch));
	next[0] = '\0';
	if ((doc = cli_json_parse(&scratch, json, strlen(json), "page"))) {
		const char *c = cli_json_str(doc, "next_cursor");
		if (c && strlen(c) < cap)
			snprintf(next, cap, "%s", c);
		cJSON_Delete(doc);
	}
}

int cli_print_task_page(cli_ctx *ctx, char *json, char *next, size_t cap)
{
	int printed;
	cJSON *doc;
	const cJSON *t, *data;
	next_cursor(json, ctx, next, cap);
	doc = take(ctx, json, "list", &printed);
	if (printed)
		return LV_OK;
	if (!doc)
		return ctx->status;
	data = cJSON_GetObjectItemCaseSensitive(doc, "data");
	for (t = data ? data->child : NULL; t; t = t->next)
		cli_print_task_line(t);
	cJSON_Delete(doc);
	return LV_OK;
}

int cli_print_credits(cli_ctx *ctx, char *json)
{
	int printed;
	char bal[32], res[32];
	cJSON *doc = take(ctx, json, "credits", &printed);
	if (printed)
		return LV_OK;
	if (!doc)
		return ctx->status;
	printf("balance   %s\nreserved  %s\n", credits_text(bal, sizeof(bal), cli_json_credits(doc, "balance")),
	       credits_text(res, sizeof(res), cli_json_credits(doc, "reserved")));
	cJSON_Delete(doc);
	return LV_OK;
}

int cli_print_ledger_page(cli_ctx *ctx, char *json, char *next, size_t cap)
{
	int printed;
	cJSON *doc;
	const cJSON *it, *data;
	next_cursor(json, ctx, next, cap);
	doc = take(ctx, json, "ledger", &printed);
	if (printed)
		return LV_OK;
	if (!doc)
		return ctx->status;
	data = cJSON_GetObjectItemCaseSensitive(doc, "data");
	for (it = data ? data->child : NULL; it; it = it->next) {
		char amount[32];
		printf("%-10s %-8s %12s  %s\n", cli_json_str(it, "id") ? cli_json_str(it, "id") : "?",
		       cli_json_str(it, "kind") ? cli_json_str(it, "kind") : "?",
		       credits_text(amount, sizeof(amount), cli_json_credits(it, "amount")),
		       cli_json_str(it, "task_id") ? cli_json_str(it, "task_id") : "-");
	}
	cJSON_Delete(doc);
	return LV_OK;
}
