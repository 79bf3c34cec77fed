/*
 * lvctl batch FILE: one task per line of a JSON-lines or CSV file, N at a time, followed to the end with
 * a progress display, then a summary.  Each line's idempotency key is derived from the line (its
 * number and text, and for CSV the header), so running the same file again after an interruption or
 * a crash finds the tasks already created instead of creating (and paying for) them twice.
 */
#include "api.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX_ROWS 10000
#define BATCH_MAX_FILE (16u * 1024u * 1024u)
#define BATCH_MAX_THREADS 64

typedef struct row {
	int line;           /* 1-based line number in the file */
	char *body;         /* the create request (JSON), owned */
	char idem[80];      /* the derived idempotency key */
	char id[64];        /* the task, once created */
	char status[32];    /* "pending" until created; then the task's status; "error" when create failed */
	int progress, shots_done, shots_total, replayed, changed;
	int64_t cost_actual;
	char code[64];      /* the task's or the create call's error code */
	char message[300];  /* and its message */
	char file[600];     /* --out: where the film was saved */
	int finished;
} row;

typedef struct batch {
	cli_ctx *ctx;
	cli_api *api;
	row *rows;
	size_t n, next;
	const char *out_dir;
	int poll_ms;
	pthread_mutex_t mu;
	atomic_int stop; /* set by the main thread on a stop signal, or by a worker that saw one */
} batch;

/* ---- reading the file ------------------------------------------------------------------------ */

static void hex_key(char *out, size_t cap, const char *kind, const char *header, int line, const char *text)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	char num[32];
	size_t n;
	snprintf(num, sizeof(num), "\n%d\n", line);
	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) || !EVP_DigestUpdate(c, kind, strlen(kind)) ||
	    !EVP_DigestUpdate(c, header, strlen(header)) || !EVP_DigestUpdate(c, num, strlen(num)) ||
	    !EVP_DigestUpdate(c, text, strlen(text)) || !EVP_DigestFinal_ex(c, md, &mdlen))
		mdlen = 0;
	EVP_MD_CTX_free(c);
	n = (size_t)snprintf(out, cap, "lvctl-batch-");
	for (i = 0; i < mdlen && i < 16 && n + 3 < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02x", md[i]);
	if (mdlen == 0) /* cannot happen with a working libcrypto; keep the line number at least */
		snprintf(out + n, cap - n, "line-%d", line);
}

/* One CSV record from *p (RFC 4180: quoted fields, "" inside quotes, CRLF or LF); fields point into
 * `buf` (a copy of the record). Returns the number of fields, -1 on a malformed or too wide record. */
static int csv_record(char **p, char *buf, size_t cap, char **fields, int max)
{
	char *s = *p, *o = buf;
	int n = 0, quoted;
	if (!*s)
		return 0;
	for (;;) {
		if (n >= max)
			return -1;
		fields[n++] = o;
		quoted = *s == '"';
		if (quoted)
			s++;
		for (;;) {
			if ((size_t)(o - buf) + 2 >= cap)
				return -1;
			if (quoted) {
				if (!*s)
					return -1; /* an unterminated quote */
				if (*s == '"' && s[1] == '"') {
					*o++ = '"';
					s += 2;
					continue;
				}
				if (*s == '"') {
					s++;
					quoted = 0;
					continue;
				}
				*o++ = *s++;
			} else {
				if (!*s || *s == ',' || *s == '\n' || *s == '\r')
					break;
				*o++ = *s++;
			}
		}
		*o++ = '\0';
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == '\r')
			s++;
		if (*s == '\n')
			s++;
		break;
	}
	*p = s;
	return n;
}

/* A CSV cell as a JSON value of the create request: duration a number, narration/music/review booleans,
 * metadata.K into the metadata object, everything else a string. */
static int csv_cell(cli_ctx *ctx, cJSON *obj, const char *name, const char *v, int line)
{
	cJSON *item = NULL;
	if (!*v)
		return LV_OK; /* an empty cell: the default */
	if (!strncmp(name, "metadata.", 9) && name[9]) {
		cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
		if (!m && !(m = cJSON_AddObjectToObject(obj, "metadata")))
			return cli_fail(ctx, LV_ENOMEM, "out of memory");
		return cJSON_AddStringToObject(m, name + 9, v) ? LV_OK : cli_fail(ctx, LV_ENOMEM, "out of memory");
	}
	if (!strcmp(name, "duration")) {
		char *end;
		double d = strtod(v, &end);
		if (end == v || *end)
			return cli_fail(ctx, CLI_EUSAGE, "line %d: duration: '%s' is not a number", line, v);
		item = cJSON_CreateNumber(d);
	} else if (!strcmp(name, "narration") || !strcmp(name, "music") || !strcmp(name, "review")) {
		int on;
		if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "on"))
			on = 1;
		else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") || !strcasecmp(v, "off"))
			on = 0;
		else
			return cli_fail(ctx, CLI_EUSAGE, "line %d: %s: '%s' is not true or false", line, name, v);
		item = cJSON_CreateBool(on);
	} else {
		item = cJSON_CreateString(v);
	}
	if (!item || !cJSON_AddItemToObject(obj, name, item)) {
		cJSON_Delete(item);
		return cli_fail(ctx, LV_ENOMEM, "out of memory");
	}
	return LV_OK;
}

static int add_row(batch *b, int line, char *body, const char *kind, const char *header, const char *text)
{
	row *r;
	if (b->n >= BATCH_MAX_ROWS) {
		free(body);
		return cli_fail(b->ctx, CLI_EUSAGE, "batch: more than %d tasks in one file", BATCH_MAX_ROWS);
	}
	r = &b->rows[b->n++];
	memset(r, 0, sizeof(*r));
	r->line = line;
	r->body = body;
	r->cost_actual = -1;
	snprintf(r->status, sizeof(r->status), "pending");
	hex_key(r->idem, sizeof(r->idem), kind, header, line, text);
	return LV_OK;
}

static int read_jsonl(batch *b, char *text)
{
	char *line = text, *nl;
	int no = 0, rc;
	for (; line && *line; line = nl ? nl + 1 : NULL) {
		cJSON *doc;
		char *t = line, *body;
		size_t len;
		no++;
		if ((nl = strchr(line, '\n')))
			*nl = '\0';
		t += strspn(t, " \t\r");
		len = strlen(t);
		while (len > 0 && (t[len - 1] == '\r' || t[len - 1] == ' ' || t[len - 1] == '\t'))
			t[--len] = '\0';
		if (!len || *t == '#')
			continue; /* blank lines and comments */
		if (!(doc = cli_json_parse(b->ctx, t, len, "line")))
			return cli_fail(b->ctx, CLI_EUSAGE, "line %d: %s", no, b->ctx->message);
		if (!cJSON_IsObject(doc)) {
			cJSON_Delete(doc);
			return cli_fail(b->ctx, CLI_EUSAGE, "line %d: expected a JSON object (a create request)", no);
		}
		cJSON_Delete(doc);
		if (!(body = strdup(t)))
			return cli_fail(b->ctx, LV_ENOMEM, "out of memory");
		if ((rc = add_row(b, no, body, "jsonl", "", t)))
			return rc;
	}
	return LV_OK;
}

static int read_csv(batch *b, char *text)
{
	size_t cap = strlen(text) + 2;
	char *hbuf = malloc(cap), *buf = malloc(cap), *p = text, *header_start, *fields[64], *names[64];
	char header_text[4096] = "";
	int nnames, no = 1, rc = LV_OK, i;
	if (!hbuf || !buf) {
		free(hbuf);
		free(buf);
		return cli_fail(b->ctx, LV_ENOMEM, "out of memory");
	}
	header_start = p;
	nnames = csv_record(&p, hbuf, cap, names, 64);
	snprintf(header_text, sizeof(header_text), "%.*s", (int)(p - header_start), header_start);
	if (nnames <= 0)
		rc = cli_fail(b->ctx, CLI_EUSAGE, "line 1: a CSV file starts with a header of field names (prompt,duration,...)");
	for (i = 0; rc == LV_OK && i < nnames; i++)
		if (!*names[i])
			rc = cli_fail(b->ctx, CLI_EUSAGE, "line 1: column %d has no name", i + 1);
	while (rc == LV_OK && *p) {
		char *start = p, *body, save;
		int nf;
		cJSON *obj;
		no++;
		nf = csv_record(&p, buf, cap, fields, 64);
		if (nf < 0) {
			rc = cli_fail(b->ctx, CLI_EUSAGE, "line %d: malformed CSV (an unterminated quote or over 64 fields)", no);
			break;
		}
		if (nf == 1 && !*fields[0])
			continue; /* a blank line */
		if (nf != nnames) {
			rc = cli_fail(b->ctx, CLI_EUSAGE, "line %d: %d fields, the header has %d", no, nf, nnames);
			break;
		}
		if (!(obj = cJSON_CreateObject())) {
			rc = cli_fail(b->ctx, LV_ENOMEM, "out of memory");
			break;
		}
		for (i = 0; rc == LV_OK && i < nf; i++)
			rc = csv_cell(b->ctx, obj, names[i], fields[i], no);
		body = rc == LV_OK ? cJSON_PrintUnformatted(obj) : NULL;
		cJSON_Delete(obj);
		if (rc)
			break;
		if (!body) {
			rc = cli_fail(b->ctx, LV_ENOMEM, "out of memory");
			break;
		}
		{
			char *copy = strdup(body);
			cJSON_free(body);
			if (!copy) {
				rc = cli_fail(b->ctx, LV_ENOMEM, "out of memory");
				break;
			}
			save = *p;
			*p = '\0';
			rc = add_row(b, no, copy, "csv", header_text, start);
			*p = save;
		}
	}
	free(hbuf);
	free(buf);
	return rc;
}

static int read_file(batch *b, const char *path, const char *format)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *text;
	size_t n;
	int rc, csv;
	if (!f)
		return cli_fail(b->ctx, CLI_EUSAGE, "batch: %s: %s", path, strerror(errno));
	if (!(text = malloc(BATCH_MAX_FILE + 1))) {
		if (f != stdin)
			fclose(f);
		return cli_fail(b->ctx, LV_ENOMEM, "out of memory");
	}
	n = fread(text, 1, BATCH_MAX_FILE + 1, f);
	if (f != stdin)
		fclose(f);
	if (n > BATCH_MAX_FILE) {
		free(text);
		return cli_fail(b->ctx, CLI_EUSAGE, "batch: %s: larger than %u bytes", path, BATCH_MAX_FILE);
	}
	text[n] = '\0';
	if (memchr(text, '\0', n)) {
		free(text);
		return cli_fail(b->ctx, CLI_EUSAGE, "batch: %s: a NUL byte; not a text file", path);
	}
	if (format)
		csv = !strcmp(format, "csv");
	else {
		size_t len = strlen(path);
		csv = (len > 4 && !strcasecmp(path + len - 4, ".csv")) || text[strspn(text, " \t\r\n")] != '{';
	}
	if (!(b->rows = calloc(BATCH_MAX_ROWS, sizeof(row)))) {
		free(text);
		return cli_fail(b->ctx, LV_ENOMEM, "out of memory");
	}
	rc = csv ? read_csv(b, text) : read_jsonl(b, text);
	free(text);
	if (rc == LV_OK && b->n == 0)
		rc = cli_fail(b->ctx, CLI_EUSAGE, "batch: %s holds no task", path);
	return rc;
}

/* ---- running ----------------------------------------------------------------------------------- */

static int is_terminal(const char *status)
{
	lv_task_status st;
	return lv_task_status_parse(&st, status) == LV_OK && lv_task_status_is_terminal(st);
}

/* Copy a task document's state into the row (under the lock). */
static void update_row(batch *b, row *r, const cJSON *t)
{
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(t, "error");
	const char *status = cli_json_str(t, "status") ? cli_json_str(t, "status") : "?";
	pthread_mutex_lock(&b->mu);
	if (cli_json_str(t, "task_id"))
		snprintf(r->id, sizeof(r->id), "%s", cli_json_str(t, "task_id"));
	if (strcmp(r->status, status) || r->progress != cli_json_int(t, "progress", 0))
		r->changed = 1;
	snprintf(r->status, sizeof(r->status), "%s", status);
	r->progress = cli_json_int(t, "progress", 0);
	r->shots_done = cli_json_int(t, "shots_done", 0);
	r->shots_total = cli_json_int(t, "shots_total", 0);
	r->cost_actual = cli_json_credits(t, "cost_actual");
	if (cli_json_str(err, "code")) {
		snprintf(r->code, sizeof(r->code), "%s", cli_json_str(err, "code"));
		snprintf(r->message, sizeof(r->message), "%.299s", cli_json_str(err, "message") ? cli_json_str(err, "message") : "");
	}
	pthread_mutex_unlock(&b->mu);
}

static void row_error(batch *b, row *r, const cli_ctx *c, int rc)
{
	pthread_mutex_lock(&b->mu);
	snprintf(r->status, sizeof(r->status), "error");
	snprintf(r->code, sizeof(r->code), "%s", c->code[0] ? c->code : rc < 0 ? "usage_error" : lv_status_code(rc));
	snprintf(r->message, sizeof(r->message), "%.299s", c->message[0] ? c->message : lv_strerror(rc));
	r->changed = 1;
	r->finished = 1;
	pthread_mutex_unlock(&b->mu);
}

static int stopped(batch *b, int rc)
{
	if (rc == CLI_EINTR)
		b->stop = 1;
	return b->stop;
}

/* Create (or find again) and follow one row's task. */
static void run_row(batch *b, cli_api *api, cli_ctx *c, row *r)
{
	char *json = NULL;
	cJSON *doc;
	int rc, replayed = 0;
	memset(c->message, 0, sizeof(c->message));
	c->code[0] = '\0';
	c->status = 0;
	rc = cli_api_create_json(api, r->body, r->idem, &json, &replayed);
	if (rc) {
		if (!stopped(b, rc))
			row_error(b, r, c, rc);
		return;
	}
	pthread_mutex_lock(&b->mu);
	r->replayed = replayed;
	pthread_mutex_unlock(&b->mu);
	for (;;) {
		const char *status;
		int end;
		if (!(doc = cli_json_parse(c, json, strlen(json), "task"))) {
			free(json);
			row_error(b, r, c, c->status);
			return;
		}
		free(json);
		json = NULL;
		update_row(b, r, doc);
		status = cli_json_str(doc, "status");
		/* A task created for review waits for its approval: nothing more to follow here. */
		end = status && (is_terminal(status) || !strcmp(status, "awaiting_review"));
		cJSON_Delete(doc);
		if (end)
			break;
		{
			struct timespec ts = { b->poll_ms / 1000, (long)(b->poll_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		if (b->stop)
			return;
		if ((rc = cli_api_get(api, r->id, 0, &json))) {
			if (stopped(b, rc))
				return;
			row_error(b, r, c, rc);
			return;
		}
	}
	if (b->out_dir && !strcmp(r->status, "completed")) {
		char path[600];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s.mp4", b->out_dir, r->id);
		if (stat(path, &st) != 0 && (rc = cli_api_download(api, r->id, "film", path))) {
			if (stopped(b, rc))
				return;
			row_error(b, r, c, rc);
			return;
		}
		pthread_mutex_lock(&b->mu);
		snprintf(r->file, sizeof(r->file), "%s", path);
		pthread_mutex_unlock(&b->mu);
	}
	pthread_mutex_lock(&b->mu);
	r->finished = 1;
	pthread_mutex_unlock(&b->mu);
}

static void *worker_main(void *arg)
{
	batch *b = arg;
	cli_ctx c;
	cli_api *api = NULL;
	memset(&c, 0, sizeof(c));
	c.json = b->ctx->json;
	if (cli_api_fork(&api, b->api, &c)) {
		b->stop = 1;
		return NULL;
	}
	while (!b->stop) {
		size_t i;
		pthread_mutex_lock(&b->mu);
		i = b->next < b->n ? b->next++ : b->n;
		pthread_mutex_unlock(&b->mu);
		if (i >= b->n)
			break;
		run_row(b, api, &c, &b->rows[i]);
	}
	cli_api_close(api);
	return NULL;
}

/* ---- display ------------------------------------------------------------------------------------ */

typedef struct counts {
	size_t done, completed, failed, running, pending;
	int64_t charged;
} counts;

static counts count(const batch *b)
{
	counts k;
	size_t i;
	memset(&k, 0, sizeof(k));
	for (i = 0; i < b->n; i++) {
		const row *r = &b->rows[i];
		if (r->cost_actual > 0)
			k.charged += r->cost_actual;
		if (!strcmp(r->status, "pending"))
			k.pending++;
		else if (!is_terminal(r->status) && strcmp(r->status, "error"))
			k.running++;
		else if (!strcmp(r->status, "completed"))
			k.completed++;
		else
			k.failed++;
	}
	k.done = k.completed + k.failed;
	return k;
}

/* A terminal: a compact table of the running tasks under a counts line, redrawn in place.  Otherwise: a
 * line for each change of a task's status. */
static void show(batch *b, int tty, int *drawn)
{
	size_t i, shown = 0;
	counts k;
	pthread_mutex_lock(&b->mu);
	k = count(b);
	if (tty) {
		char cr[32];
		if (*drawn > 0)
			fprintf(stderr, "\033[%dA", *drawn);
		fprintf(stderr, "\033[J%zu/%zu done: %zu completed, %zu failed, %zu running, %zu waiting; charged %s\n",
		        k.done, b->n, k.completed, k.failed, k.running, k.pending, cli_credits(cr, sizeof(cr), k.charged));
		for (i = 0; i < b->n && shown < 20; i++) {
			const row *r = &b->rows[i];
			char bar[21];
			int j, filled = (r->progress < 0 ? 0 : r->progress > 100 ? 100 : r->progress) / 5;
			if (!strcmp(r->status, "pending") || r->finished)
				continue;
			for (j = 0; j < 20; j++)
				bar[j] = j < filled ? '#' : '-';
			bar[20] = '\0';
			fprintf(stderr, "  line %-5d %-22s [%s] %3d%%  %-10s  shots %d/%d\n", r->line, r->id, bar, r->progress,
			        r->status, r->shots_done, r->shots_total);
			shown++;
		}
		*drawn = (int)shown + 1;
	} else {
		for (i = 0; i < b->n; i++) {
			row *r = &b->rows[i];
			if (!r->changed)
				continue;
			r->changed = 0;
			fprintf(stderr, "line %d: %s %s %d%%%s%s%s\n", r->line, r->id[0] ? r->id : "-", r->status, r->progress,
			        r->replayed && !strcmp(r->status, "completed") ? " (already made)" : "", r->code[0] ? " " : "",
			        r->code);
		}
	}
	fflush(stderr);
	pthread_mutex_unlock(&b->mu);
}

static int summary(cli_ctx *ctx, const batch *b)
{
	counts k = count(b);
	size_t i;
	char cr[32];
	if (ctx->json) {
		cJSON *o = cJSON_CreateObject(), *data = o ? cJSON_AddArrayToObject(o, "data") : NULL;
		char *text;
		int ok = data != NULL;
		for (i = 0; ok && i < b->n; i++) {
			const row *r = &b->rows[i];
			cJSON *j = cJSON_CreateObject();
			ok = j && cJSON_AddItemToArray(data, j);
			if (!ok) {
				cJSON_Delete(j);
				break;
			}
			ok = cJSON_AddNumberToObject(j, "line", r->line) && cJSON_AddStringToObject(j, "idempotency_key", r->idem) &&
			     (r->id[0] ? cJSON_AddStringToObject(j, "task_id", r->id) : cJSON_AddNullToObject(j, "task_id")) &&
			     cJSON_AddStringToObject(j, "status", r->status) &&
			     (r->cost_actual >= 0 ? cJSON_AddNumberToObject(j, "cost_actual", (double)r->cost_actual / 1000.0)
			                          : cJSON_AddNullToObject(j, "cost_actual")) &&
			     (r->file[0] ? cJSON_AddStringToObject(j, "file", r->file) : cJSON_AddNullToObject(j, "file"));
			if (ok && r->code[0]) {
				cJSON *e = cJSON_AddObjectToObject(j, "error");
				ok = e && cJSON_AddStringToObject(e, "code", r->code) && cJSON_AddStringToObject(e, "message", r->message);
			} else if (ok) {
				ok = cJSON_AddNullToObject(j, "error") != NULL;
			}
		}
		ok = ok && cJSON_AddStringToObject(o, "object", "batch") &&
		     cJSON_AddNumberToObject(o, "total", (double)b->n) &&
		     cJSON_AddNumberToObject(o, "completed", (double)k.completed) &&
		     cJSON_AddNumberToObject(o, "failed", (double)k.failed) &&
		     cJSON_AddNumberToObject(o, "unfinished", (double)(k.running + k.pending)) &&
		     cJSON_AddNumberToObject(o, "charged", (double)k.charged / 1000.0);
		text = ok ? cJSON_PrintUnformatted(o) : NULL;
		cJSON_Delete(o);
		if (!text)
			return cli_fail(ctx, LV_ENOMEM, "out of memory");
		puts(text);
		cJSON_free(text);
		return LV_OK;
	}
	printf("%-6s %-22s %-10s %10s  %s\n", "LINE", "TASK", "STATUS", "COST", "FILE / ERROR");
	for (i = 0; i < b->n; i++) {
		const row *r = &b->rows[i];
		char cost[32] = "-";
		if (r->cost_actual >= 0)
			cli_credits(cost, sizeof(cost), r->cost_actual);
		printf("%-6d %-22s %-10s %10s  %s%s%s%s\n", r->line, r->id[0] ? r->id : "-", r->status, cost, r->file,
		       r->code, r->code[0] ? ": " : "", r->message);
	}
	printf("%zu tasks: %zu completed, %zu failed, %zu unfinished; charged %s credits\n", b->n, k.completed, k.failed,
	       k.running + k.pending, cli_credits(cr, sizeof(cr), k.charged));
	return LV_OK;
}

int cmd_batch(cli_ctx *ctx, int argc, char **argv)
{
	const char *key_text = NULL, *key_id = NULL, *conc_text = NULL, *workers_text = NULL, *format = NULL,
	           *poll_text = NULL, *pos[1];
	int quiet = 0;
	cli_opt opts[] = {
		{ CLI_OPT_VALUE, "concurrency", "N", "tasks followed at once, 1-64 (default 4)", &conc_text },
		{ CLI_OPT_VALUE, "out", "DIR", "save each completed film as DIR/<task_id>.mp4", NULL },
		{ CLI_OPT_VALUE, "format", "F", "jsonl or csv (default: csv for *.csv or text not starting with '{')",
		  &format },
		{ CLI_OPT_VALUE, "workers", "N",
		  "pipeline threads in this process (local mode; default: the config's pipeline.workers)", &workers_text },
		{ CLI_OPT_VALUE, "poll-ms", "MS", "how often each task is looked at, 100-60000 (default 1000)", &poll_text },
		{ CLI_OPT_SWITCH, "quiet", NULL, "no progress display", &quiet },
		CLI_KEY_OPTS(&key_text, &key_id),
		{ CLI_OPT_END, NULL, NULL, NULL, NULL }
	};
	const cli_spec spec = {
		"batch", "FILE [--concurrency N] [--out DIR] [--format jsonl|csv]",
		"Make one film per line of FILE ('-': standard input): JSON lines, each a create request\n"
		"({\"prompt\":...,\"duration\":...}), or CSV with a header naming the fields (prompt,duration,\n"
		"resolution,...,metadata.KEY).  Each line gets an idempotency key derived from its number and\n"
		"text, so running the same file again (after Ctrl-C, a crash or a kill) finds the tasks already\n"
		"created and charges nothing twice.  Progress goes to stderr; then a summary table (with --json:\n"
		"one document) on stdout.  Exit 9 if any task failed; Ctrl-C leaves the tasks running and exits 130.",
		opts, 1, 1, "FILE"
	};
	batch b;
	lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
	lv_workers *workers = NULL;
	pthread_t threads[BATCH_MAX_THREADS];
	size_t nthreads = 0, npos, i;
	sigset_t sigs;
	int rc, conc = 4, poll_ms = 1000, tty = isatty(2), drawn = 0;
	counts k;

	memset(&b, 0, sizeof(b));
	opts[1].dest = &b.out_dir;
	b.ctx = ctx;
	if ((rc = cli_parse(ctx, &spec, argc, argv, pos, &npos)) ||
	    (conc_text && (rc = cli_parse_int(ctx, &conc, "concurrency", conc_text, 1, BATCH_MAX_THREADS))) ||
	    (poll_text && (rc = cli_parse_int(ctx, &poll_ms, "poll-ms", poll_text, 100, 60000))) ||
	    (workers_text && (rc = cli_parse_int(ctx, &wo.workers, "workers", workers_text, 0, 64))))
		return rc;
	if (format && strcmp(format, "jsonl") && strcmp(format, "csv"))
		return cli_fail(ctx, CLI_EUSAGE, "--format: must be jsonl or csv (got '%s')", format);
	if (workers_text && ctx->server)
		return cli_fail(ctx, CLI_EUSAGE, "--workers runs the pipeline in this process; with --server the server runs it");
	if (b.out_dir) {
		struct stat st;
		if (stat(b.out_dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(b.out_dir, W_OK) != 0)
			return cli_fail(ctx, CLI_EUSAGE, "--out %s: not a writable directory (nothing was charged)", b.out_dir);
	}
	b.poll_ms = poll_ms;
	if (pthread_mutex_init(&b.mu, NULL) != 0)
		return cli_fail(ctx, LV_EINTERNAL, "cannot create a lock");
	if ((rc = read_file(&b, pos[0], format)))
		goto out;
	cli_block_stop_signals(&sigs);
	if ((rc = cli_api_open(&b.api, ctx, key_text, key_id)))
		goto out;
	if (!cli_api_is_remote(b.api) && wo.workers != 0 &&
	    (rc = lv_workers_start(&workers, cli_api_engine(b.api), &wo)))
		goto out;
	if ((size_t)conc > b.n)
		conc = (int)b.n;
	for (i = 0; i < (size_t)conc; i++) {
		if (pthread_create(&threads[nthreads], NULL, worker_main, &b) != 0)
			break;
		nthreads++;
	}
	if (nthreads == 0) {
		rc = cli_fail(ctx, LV_EINTERNAL, "cannot start a thread");
		goto out;
	}
	for (;;) {
		struct timespec wait = { 0, 500 * 1000000L };
		int all_done;
		if (sigtimedwait(&sigs, NULL, &wait) > 0)
			b.stop = 1;
		if (!quiet)
			show(&b, tty, &drawn);
		pthread_mutex_lock(&b.mu);
		for (all_done = 1, i = 0; i < b.n && all_done; i++)
			all_done = b.rows[i].finished;
		pthread_mutex_unlock(&b.mu);
		if (all_done || b.stop)
			break;
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	nthreads = 0;
	if (!quiet)
		show(&b, tty, &drawn);
	lv_workers_stop(workers);
	workers = NULL;
	if ((rc = summary(ctx, &b)))
		goto out;
	k = count(&b);
	if (b.stop)
		rc = cli_fail(ctx, CLI_EINTR,
		              "interrupted: %zu of %zu tasks finished; the others keep running: run the same batch again to "
		              "follow them (nothing is created or charged twice)",
		              k.done, b.n);
	else if (k.failed > 0)
		rc = cli_fail(ctx, CLI_ETASK, "%zu of %zu tasks did not complete", k.failed, b.n);
out:
	b.stop = 1;
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	lv_workers_stop(workers);
	cli_api_close(b.api);
	for (i = 0; i < b.n; i++)
		free(b.rows[i].body);
	free(b.rows);
	pthread_mutex_destroy(&b.mu);
	return rc;
}
