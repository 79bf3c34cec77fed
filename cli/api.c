/* lvctl: the task commands' backends, the local store or a running lvserver over HTTP (libcurl). */
#include "api.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct cli_api {
	cli_ctx *ctx;
	int remote;
	char base[1024]; /* the server's URL without a trailing '/' */
	char key[256];   /* the API key (remote) */
	lv_engine *engine;
	lv_key *key_obj;
	int shared;      /* a fork: the engine and key belong to the parent */
	time_t deadline; /* following a task gives up at this time (0: never) */
	int timed_out;
};

/* ---- JSON ------------------------------------------------------------------------------------- */

cJSON *cli_json_parse(cli_ctx *ctx, const char *text, size_t len, const char *what)
{
	size_t i, depth = 0;
	int in_str = 0;
	cJSON *j;
	const char *end = NULL;
	if (len > CLI_JSON_MAX_BYTES) {
		cli_fail(ctx, LV_EINVALID, "%s: larger than %u bytes", what, CLI_JSON_MAX_BYTES);
		return NULL;
	}
	/* The depth limit before cJSON recurses: brackets outside strings. */
	for (i = 0; i < len; i++) {
		char c = text[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > CLI_JSON_MAX_DEPTH) {
				cli_fail(ctx, LV_EINVALID, "%s: nesting deeper than %d (at byte %zu)", what, CLI_JSON_MAX_DEPTH,
				         i);
				return NULL;
			}
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!j)
		cli_fail(ctx, LV_EINVALID, "%s: malformed JSON near byte %zu", what,
		         end && end >= text ? (size_t)(end - text) : (size_t)0);
	return j;
}

int64_t cli_json_credits(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (!cJSON_IsNumber(v))
		return -1;
	return (int64_t)llround(v->valuedouble * 1000.0);
}

const char *cli_json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int cli_json_int(const cJSON *obj, const char *name, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsNumber(v) ? v->valueint : dflt;
}

/* A library JSON text (lv_free) as one the caller frees with free(). */
static int take_lv_json(cli_api *api, int rc, char *lv_json, char **json)
{
	*json = NULL;
	if (rc) {
		lv_free(lv_json);
		return rc;
	}
	*json = strdup(lv_json);
	lv_free(lv_json);
	return *json ? LV_OK : cli_fail(api->ctx, LV_ENOMEM, "out of memory");
}

/* A task call's outcome as its JSON text; `task` is read after the call (rc) has run. */
static int task_json(cli_api *api, int rc, lv_task **taskp, unsigned flags, char **json, int *replayed)
{
	lv_task *task = *taskp;
	char *text = NULL;
	if (rc == LV_OK) {
		if (replayed)
			*replayed = lv_task_replayed(task);
		rc = lv_task_to_json(&text, task, flags);
	}
	lv_task_free(task);
	return take_lv_json(api, rc, text, json);
}

/* ---- HTTP -------------------------------------------------------------------------------------- */

typedef struct body_buf {
	char *p;
	size_t n, cap;
	int too_big;
} body_buf;

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	body_buf *b = arg;
	size_t n = size * nmemb;
	if (b->n + n > CLI_JSON_MAX_BYTES) {
		b->too_big = 1;
		return 0;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	int *replayed = arg;
	size_t n = size * nmemb;
	if (replayed && n >= 21 && !strncasecmp(data, "Idempotent-Replayed:", 20))
		*replayed = strstr(data + 20, "true") != NULL;
	return n;
}

static int stop_pending(void)
{
	sigset_t pending;
	return sigpending(&pending) == 0 && (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1);
}

/* A pending stop signal is taken (so that the requests that follow, such as the cancel, go through) and
 * reported as CLI_EINTR. */
static int interrupted(cli_api *api)
{
	sigset_t sigs;
	const struct timespec zero = { 0, 0 };
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	while (sigtimedwait(&sigs, NULL, &zero) > 0)
		;
	return cli_fail(api->ctx, CLI_EINTR, "interrupted");
}

static int past_deadline(cli_api *api)
{
	if (api->deadline && time(NULL) >= api->deadline)
		api->timed_out = 1;
	return api->timed_out;
}

/* libcurl's progress callback: a pending SIGINT or SIGTERM (blocked by the command), or the deadline of
 * following a task, stops the transfer. */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	return stop_pending() || past_deadline(arg);
}

/* An API error code back to the library's status, so that exit codes follow the local mode's. */
static int status_of_code(const char *code, long http)
{
	int s;
	for (s = 1; s < 64 && code; s++)
		if (!strcmp(lv_status_code(s), code))
			return s;
	return http == 401 ? LV_EAUTH : http == 402 ? LV_ECREDITS : http == 429 ? LV_ERATELIMIT : LV_EIO;
}

/* Record an HTTP error answer: the API's error code and message (and details). */
static int http_error(cli_api *api, long http, const char *body, size_t len)
{
	cli_ctx *ctx = api->ctx;
	cli_ctx scratch;
	cJSON *doc, *err;
	const char *code = NULL, *msg = NULL;
	int status;
	memset(&scratch, 0, sizeof(scratch));
	doc = len ? cli_json_parse(&scratch, body, len, "error body") : NULL;
	err = cJSON_GetObjectItemCaseSensitive(doc, "error");
	code = cli_json_str(err, "code");
	msg = cli_json_str(err, "message");
	status = status_of_code(code, http);
	if (code) {
		const cJSON *details = cJSON_GetObjectItemCaseSensitive(err, "details");
		char *d = details ? cJSON_PrintUnformatted(details) : NULL;
		cli_fail(ctx, status, "%s", msg ? msg : code);
		snprintf(ctx->code, sizeof(ctx->code), "%s", code);
		if (d && strlen(d) < sizeof(ctx->details))
			snprintf(ctx->details, sizeof(ctx->details), "%s", d);
		free(d);
	} else {
		cli_fail(ctx, status, "%s: HTTP %ld without an API error body", api->base, http);
	}
	cJSON_Delete(doc);
	return status;
}

/* Common options of every request to the server. */
static struct curl_slist *auth_headers(cli_api *api, const char *idem, int json_body)
{
	char h[512];
	struct curl_slist *l = NULL, *t;
	snprintf(h, sizeof(h), "Authorization: Bearer %s", api->key);
	l = curl_slist_append(l, h);
	if (l && json_body && (t = curl_slist_append(l, "Content-Type: application/json")))
		l = t;
	if (l && idem) {
		snprintf(h, sizeof(h), "Idempotency-Key: %s", idem);
		if ((t = curl_slist_append(l, h)))
			l = t;
	}
	if (l && (t = curl_slist_append(l, "Expect:")))
		l = t;
	return l;
}

static int transport_error(cli_api *api, CURLcode cc, const char *url, const char *errbuf)
{
	if (cc == CURLE_ABORTED_BY_CALLBACK && api->timed_out)
		return cli_fail(api->ctx, LV_ETIMEOUT, "timed out");
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		return interrupted(api);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return cli_fail(api->ctx, LV_ETIMEOUT, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
	return cli_fail(api->ctx, LV_EIO, "cannot reach the server: %s: %s", url,
	                errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

/* One API call: METHOD base+path with the key, an optional JSON body; a 2xx answer's JSON into *json. */
static int call(cli_api *api, const char *method, const char *path, const char *body, const char *idem,
                char **json, int *replayed)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs;
	body_buf b = { NULL, 0, 0, 0 };
	char url[2048], errbuf[CURL_ERROR_SIZE] = "";
	long http = 0;
	CURLcode cc;
	int rc = LV_OK;
	*json = NULL;
	if (!c)
		return cli_fail(api->ctx, LV_ENOMEM, "out of memory");
	snprintf(url, sizeof(url), "%s%s", api->base, path);
	hdrs = auth_headers(api, idem, body != NULL);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, replayed);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, api);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
	if (b.too_big)
		rc = cli_fail(api->ctx, LV_EIO, "%s: the answer is larger than %u bytes", url, CLI_JSON_MAX_BYTES);
	else if (cc != CURLE_OK)
		rc = transport_error(api, cc, url, errbuf);
	else if (http < 200 || http > 299)
		rc = http_error(api, http, b.p, b.n);
	else if (!b.p)
		rc = cli_fail(api->ctx, LV_EIO, "%s: an empty answer", url);
	if (rc == LV_OK) {
		/* The document on one line, as the local mode prints it. */
		while (b.n > 0 && (b.p[b.n - 1] == '\n' || b.p[b.n - 1] == '\r'))
			b.p[--b.n] = '\0';
		*json = b.p;
		b.p = NULL;
	}
	free(b.p);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
}

/* A path segment or query value, percent-encoded. */
static int escaped(cli_api *api, char *out, size_t cap, const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	int ok = e && strlen(e) < cap;
	if (ok)
		snprintf(out, cap, "%s", e);
	curl_free(e);
	return ok ? LV_OK : cli_fail(api->ctx, LV_EINVALID, "'%.40s': too long", s);
}

/* ---- opening ------------------------------------------------------------------------------------ */

int cli_api_open(cli_api **out, cli_ctx *ctx, const char *key_text, const char *key_id)
{
	cli_api *api = calloc(1, sizeof(*api));
	int rc;
	*out = NULL;
	if (!api)
		return cli_fail(ctx, LV_ENOMEM, "out of memory");
	api->ctx = ctx;
	if (!ctx->server) {
		if ((rc = cli_acting_key(&api->key_obj, &api->engine, ctx, key_text, key_id))) {
			lv_key_free(api->key_obj);
			free(api);
			return rc;
		}
		*out = api;
		return LV_OK;
	}
	api->remote = 1;
	if (key_id) {
		free(api);
		return cli_fail(ctx, CLI_EUSAGE, "--key-id needs the store; with --server give the API key (--key-file, "
		                                 "$LONGVIDEO_KEY)");
	}
	if (strncmp(ctx->server, "http://", 7) && strncmp(ctx->server, "https://", 8)) {
		free(api);
		return cli_fail(ctx, CLI_EUSAGE, "--server: '%s' is not an http:// or https:// URL", ctx->server);
	}
	snprintf(api->base, sizeof(api->base), "%s", ctx->server);
	while (*api->base && api->base[strlen(api->base) - 1] == '/')
		api->base[strlen(api->base) - 1] = '\0';
	if (key_text)
		snprintf(api->key, sizeof(api->key), "%s", key_text);
	else if ((rc = cli_key_from_env(ctx, api->key, sizeof(api->key), &key_text))) {
		free(api);
		return rc;
	} else if (key_text && key_text != api->key)
		snprintf(api->key, sizeof(api->key), "%s", key_text);
	if (!api->key[0]) {
		free(api);
		return cli_fail(ctx, LV_EAUTH, "no API key: give --key-file FILE or --key sk-..., or set LONGVIDEO_KEY");
	}
	if (strpbrk(api->key, "\r\n")) {
		free(api);
		return cli_fail(ctx, LV_EAUTH, "the API key holds a line break");
	}
	*out = api;
	return LV_OK;
}

int cli_api_fork(cli_api **out, const cli_api *parent, cli_ctx *ctx)
{
	cli_api *api = malloc(sizeof(*api));
	*out = NULL;
	if (!api)
		return cli_fail(ctx, LV_ENOMEM, "out of memory");
	*api = *parent;
	api->ctx = ctx;
	api->shared = 1;
	api->deadline = 0;
	api->timed_out = 0;
	*out = api;
	return LV_OK;
}

void cli_api_close(cli_api *api)
{
	if (!api)
		return;
	if (!api->shared)
		lv_key_free(api->key_obj);
	{
		volatile char *wipe = api->key; /* the key does not linger in freed memory */
		size_t i;
		for (i = 0; i < sizeof(api->key); i++)
			wipe[i] = 0;
	}
	free(api);
}

int cli_api_is_remote(const cli_api *api)
{
	return api->remote;
}

lv_engine *cli_api_engine(const cli_api *api)
{
	return api->engine;
}

const lv_key *cli_api_key(const cli_api *api)
{
	return api->key_obj;
}

/* ---- the calls ---------------------------------------------------------------------------------- */

/* The HTTP body of a request (only the fields given; the server applies the same defaults). */
static char *request_body(cli_api *api, const lv_task_request *req)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	int ok = o != NULL;
	ok = ok && cJSON_AddStringToObject(o, "prompt", req->prompt ? req->prompt : "");
	ok = ok && cJSON_AddNumberToObject(o, "duration", req->duration);
#define OPT_STR(field, name) \
	if (ok && req->field)  \
		ok = cJSON_AddStringToObject(o, name, req->field) != NULL;
	OPT_STR(resolution, "resolution")
	OPT_STR(aspect_ratio, "aspect_ratio")
	OPT_STR(provider, "provider")
	OPT_STR(language, "language")
	OPT_STR(subtitles, "subtitles")
	OPT_STR(webhook_url, "webhook_url")
#undef OPT_STR
	if (ok && req->narration >= 0)
		ok = cJSON_AddBoolToObject(o, "narration", req->narration) != NULL;
	if (ok && req->music >= 0)
		ok = cJSON_AddBoolToObject(o, "music", req->music) != NULL;
	if (ok && req->review)
		ok = cJSON_AddBoolToObject(o, "review", 1) != NULL;
	if (ok && req->metadata_json) {
		cJSON *m = cli_json_parse(api->ctx, req->metadata_json, strlen(req->metadata_json), "--metadata");
		ok = m && cJSON_AddItemToObject(o, "metadata", m);
		if (!ok && m)
			cJSON_Delete(m);
	}
	if (ok)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text && !api->ctx->status)
		cli_fail(api->ctx, LV_ENOMEM, "out of memory");
	return text;
}

int cli_api_create(cli_api *api, const lv_task_request *req, const char *idem, char **json, int *replayed)
{
	lv_task *task = NULL;
	char *body;
	int rc;
	*replayed = 0;
	if (!api->remote)
		return task_json(api, lv_task_create(&task, api->engine, api->key_obj, req, idem), &task, 0, json, replayed);
	if (!(body = request_body(api, req)))
		return api->ctx->status;
	rc = call(api, "POST", "/v1/videos", body, idem, json, replayed);
	cJSON_free(body);
	return rc;
}

int cli_api_create_json(cli_api *api, const char *body, const char *idem, char **json, int *replayed)
{
	lv_task *task = NULL;
	*replayed = 0;
	if (!api->remote)
		return task_json(api, lv_task_create_json(&task, api->engine, api->key_obj, body, strlen(body), idem), &task,
		                 0, json, replayed);
	return call(api, "POST", "/v1/videos", body, idem, json, replayed);
}

int cli_api_get(cli_api *api, const char *id, int detail, char **json)
{
	char path[600], eid[256];
	lv_task *task = NULL;
	int rc;
	if (!api->remote)
		return task_json(api, lv_task_get(&task, api->engine, api->key_obj, id), &task,
		                 detail ? LV_TASK_JSON_DETAIL : 0, json, NULL);
	if ((rc = escaped(api, eid, sizeof(eid), id)))
		return rc;
	snprintf(path, sizeof(path), "/v1/videos/%s", eid);
	return call(api, "GET", path, NULL, NULL, json, NULL);
}

int cli_api_list(cli_api *api, const lv_task_list_options *lo, char **json)
{
	char path[800], v[256];
	size_t n;
	int rc;
	if (!api->remote) {
		lv_task_page *page = NULL;
		char *text = NULL;
		rc = lv_task_list(&page, api->engine, api->key_obj, lo);
		if (rc == LV_OK)
			rc = lv_task_page_to_json(&text, page);
		lv_task_page_free(page);
		return take_lv_json(api, rc, text, json);
	}
	n = (size_t)snprintf(path, sizeof(path), "/v1/videos?");
	if (lo->limit)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "limit=%d&", lo->limit);
	if (lo->after) {
		if ((rc = escaped(api, v, sizeof(v), lo->after)))
			return rc;
		n += (size_t)snprintf(path + n, sizeof(path) - n, "after=%s&", v);
	}
	if (lo->status) {
		if ((rc = escaped(api, v, sizeof(v), lo->status)))
			return rc;
		n += (size_t)snprintf(path + n, sizeof(path) - n, "status=%s&", v);
	}
	path[n - 1] = '\0'; /* the last '&' or the '?' */
	return call(api, "GET", path, NULL, NULL, json, NULL);
}

/* POST /v1/videos/{id}/ACTION with a JSON body. */
static int post_action(cli_api *api, const char *id, const char *action, const char *body, char **json)
{
	char path[700], eid[256];
	int rc;
	if ((rc = escaped(api, eid, sizeof(eid), id)))
		return rc;
	snprintf(path, sizeof(path), "/v1/videos/%s/%s", eid, action);
	return call(api, "POST", path, body, NULL, json, NULL);
}

int cli_api_cancel(cli_api *api, const char *id, char **json)
{
	lv_task *task = NULL;
	if (!api->remote)
		return task_json(api, lv_task_cancel(&task, api->engine, api->key_obj, id), &task, 0, json, NULL);
	return post_action(api, id, "cancel", "{}", json);
}

int cli_api_approve(cli_api *api, const char *id, char **json)
{
	lv_task *task = NULL;
	if (!api->remote)
		return task_json(api, lv_task_approve(&task, api->engine, api->key_obj, id, NULL, 0), &task, 0, json, NULL);
	return post_action(api, id, "approve", "{}", json);
}

int cli_api_compose(cli_api *api, const char *id, const lv_compose_request *req, char **json)
{
	lv_task *task = NULL;
	char body[128];
	size_t n = 1;
	if (!api->remote)
		return task_json(api, lv_task_compose(&task, api->engine, api->key_obj, id, req), &task, 0, json, NULL);
	body[0] = '{';
	body[1] = '\0';
	if (req->narration >= 0)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "\"narration\":%s,", req->narration ? "true" : "false");
	if (req->music >= 0)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "\"music\":%s,", req->music ? "true" : "false");
	if (req->subtitles) {
		size_t len = n;
		if (cli_json_string(body, sizeof(body) - 2, &len, req->subtitles) || len + 14 >= sizeof(body))
			return cli_fail(api->ctx, CLI_EUSAGE, "--subtitles: '%.20s' is too long", req->subtitles);
		memmove(body + n + 12, body + n, len - n + 1);
		memcpy(body + n, "\"subtitles\":", 12);
		n = len + 12;
		body[n++] = ',';
	}
	if (n > 1)
		n--; /* the last comma */
	snprintf(body + n, sizeof(body) - n, "}");
	return post_action(api, id, "compose", body, json);
}

int cli_api_regenerate(cli_api *api, const char *id, int index, const lv_regenerate_request *req, char **json)
{
	lv_task *task = NULL;
	cJSON *o;
	char action[64], *body;
	int ok, rc;
	if (!api->remote)
		return task_json(api, lv_task_regenerate(&task, api->engine, api->key_obj, id, index, req), &task, 0, json,
		                 NULL);
	o = cJSON_CreateObject();
	ok = o != NULL;
	if (ok && req->visual)
		ok = cJSON_AddStringToObject(o, "visual", req->visual) != NULL;
	if (ok && req->camera)
		ok = cJSON_AddStringToObject(o, "camera", req->camera) != NULL;
	if (ok && req->narration)
		ok = cJSON_AddStringToObject(o, "narration", req->narration) != NULL;
	if (ok && req->seed >= 0)
		ok = cJSON_AddNumberToObject(o, "seed", (double)req->seed) != NULL;
	body = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!body)
		return cli_fail(api->ctx, LV_ENOMEM, "out of memory");
	snprintf(action, sizeof(action), "shots/%d/regenerate", index);
	rc = post_action(api, id, action, body, json);
	cJSON_free(body);
	return rc;
}

int cli_api_credits(cli_api *api, char **json)
{
	lv_credits credits;
	char *text = NULL;
	int rc;
	if (api->remote)
		return call(api, "GET", "/v1/credits", NULL, NULL, json, NULL);
	if ((rc = lv_key_credits(&credits, api->engine, api->key_obj)) == LV_OK)
		rc = lv_credits_to_json(&text, &credits);
	return take_lv_json(api, rc, text, json);
}

int cli_api_ledger(cli_api *api, int limit, const char *after, char **json)
{
	char path[600], v[256];
	size_t n;
	int rc;
	if (!api->remote) {
		lv_ledger_page *page = NULL;
		char *text = NULL;
		if ((rc = lv_key_ledger(&page, api->engine, api->key_obj, limit, after)) == LV_OK)
			rc = lv_ledger_page_to_json(&text, page);
		lv_ledger_page_free(page);
		return take_lv_json(api, rc, text, json);
	}
	n = (size_t)snprintf(path, sizeof(path), "/v1/credits/ledger?");
	if (limit)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "limit=%d&", limit);
	if (after) {
		if ((rc = escaped(api, v, sizeof(v), after)))
			return rc;
		n += (size_t)snprintf(path + n, sizeof(path) - n, "after=%s&", v);
	}
	path[n - 1] = '\0';
	return call(api, "GET", path, NULL, NULL, json, NULL);
}

/* ---- download ------------------------------------------------------------------------------------ */

static const char *url_field(const char *which)
{
	return !strcmp(which, "subtitles") ? "subtitles_url" : !strcmp(which, "thumbnail") ? "thumbnail_url" : "result_url";
}

/* The URL (or, locally, the capability path) of one of the task's files; LV_ENOTFOUND if it has none. */
static int file_url(cli_api *api, const char *id, const char *which, char *url, size_t cap)
{
	char *json = NULL;
	cJSON *doc;
	const char *u;
	int rc = cli_api_get(api, id, 0, &json);
	if (rc)
		return rc;
	doc = cli_json_parse(api->ctx, json, strlen(json), "task");
	free(json);
	if (!doc)
		return api->ctx->status;
	u = cli_json_str(doc, url_field(which));
	if (!u || strlen(u) >= cap)
		rc = cli_fail(api->ctx, LV_ENOTFOUND, "task %s has no %s yet (status %s)", id,
		              !strcmp(which, "film") ? "film" : which,
		              cli_json_str(doc, "status") ? cli_json_str(doc, "status") : "unknown");
	else
		snprintf(url, cap, "%s", u);
	cJSON_Delete(doc);
	return rc;
}

typedef struct file_sink {
	FILE *f;
	long http;   /* the status of the answer being received (the last one after redirects) */
	int failed;
	int began;   /* body bytes of a 2xx answer were written */
	body_buf err; /* an error answer's body */
} file_sink;

static size_t on_file_header(char *data, size_t size, size_t nmemb, void *arg)
{
	file_sink *s = arg;
	size_t n = size * nmemb;
	if (n > 9 && !strncmp(data, "HTTP/", 5)) {
		const char *sp = memchr(data, ' ', n);
		if (sp)
			s->http = strtol(sp + 1, NULL, 10);
	}
	return n;
}

static size_t on_file_data(char *data, size_t size, size_t nmemb, void *arg)
{
	file_sink *s = arg;
	size_t n = size * nmemb;
	if (s->http < 200 || s->http > 299)
		return on_body(data, size, nmemb, &s->err);
	if (!s->began && s->http == 200 && ftell(s->f) > 0) { /* the whole file instead of the range: start over */
		if (ftruncate(fileno(s->f), 0) != 0 || fseek(s->f, 0, SEEK_SET) != 0) {
			s->failed = 1;
			return 0;
		}
	}
	s->began = 1;
	if (fwrite(data, 1, n, s->f) != n) {
		s->failed = 1;
		return 0;
	}
	return n;
}

/* GET url into part (resuming it with Range when it holds bytes), following redirects; no key is sent
 * (media URLs are capability URLs; a presigned redirect target must not see the key). */
static int fetch_to(cli_api *api, const char *url, const char *part)
{
	struct stat st;
	char range[64], errbuf[CURL_ERROR_SIZE] = "";
	file_sink s;
	CURL *c;
	CURLcode cc;
	long have = stat(part, &st) == 0 && S_ISREG(st.st_mode) ? (long)st.st_size : 0;
	int rc = LV_OK;
	memset(&s, 0, sizeof(s));
	if (!(s.f = fopen(part, have > 0 ? "r+b" : "wb")))
		return cli_fail(api->ctx, LV_EIO, "%s: %s", part, strerror(errno));
	if (have > 0 && fseek(s.f, 0, SEEK_END) != 0) {
		fclose(s.f);
		return cli_fail(api->ctx, LV_EIO, "%s: %s", part, strerror(errno));
	}
	if (!(c = curl_easy_init())) {
		fclose(s.f);
		return cli_fail(api->ctx, LV_ENOMEM, "out of memory");
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (have > 0) {
		snprintf(range, sizeof(range), "%ld-", have);
		curl_easy_setopt(c, CURLOPT_RANGE, range);
	}
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_file_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_file_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, api);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	if (s.failed)
		rc = cli_fail(api->ctx, LV_EIO, "%s: cannot write: %s", part, strerror(errno));
	else if (s.http == 416 && have > 0)
		rc = LV_OK; /* the range starts at the end: the partial file is already whole */
	else if (cc != CURLE_OK && !(s.http >= 400 && cc == CURLE_WRITE_ERROR))
		rc = transport_error(api, cc, url, errbuf);
	else if (s.http < 200 || s.http > 299)
		rc = s.err.n ? http_error(api, s.http, s.err.p, s.err.n)
		             : cli_fail(api->ctx, LV_EIO, "%s: HTTP %ld", url, s.http);
	if (fclose(s.f) != 0 && rc == LV_OK)
		rc = cli_fail(api->ctx, LV_EIO, "%s: %s", part, strerror(errno));
	free(s.err.p);
	curl_easy_cleanup(c);
	return rc;
}

int cli_api_download(cli_api *api, const char *id, const char *which, const char *dest)
{
	char url[4096], part[4096];
	int rc;
	if (strlen(dest) + 6 > sizeof(part))
		return cli_fail(api->ctx, CLI_EUSAGE, "--output: the path is too long");
	snprintf(part, sizeof(part), "%s.part", dest);
	if (!api->remote && !strcmp(which, "film"))
		return lv_media_save_film(api->engine, api->key_obj, id, dest);
	if ((rc = file_url(api, id, which, url, sizeof(url))))
		return rc;
	if (!api->remote) {
		/* The local file behind the capability URL ".../media/{id}/{token}/{name}". */
		const char *m = strstr(url, "/media/");
		char *path = NULL, *slash;
		FILE *in, *out;
		char buf[65536];
		size_t n;
		if ((slash = strchr(url, '?')))
			*slash = '\0';
		if (!m || lv_media_resolve(&path, api->engine, m + 1) != LV_OK) {
			/* Not a local file (object storage with a public base URL): fetch its URL as a client would. */
			if (slash)
				*slash = '?';
			if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
				return cli_fail(api->ctx, LV_ENOTFOUND, "task %s: its %s is not in this store's storage", id,
				                which);
			if ((rc = fetch_to(api, url, part)))
				return rc;
			if (rename(part, dest) != 0)
				return cli_fail(api->ctx, LV_EIO, "%s: %s", dest, strerror(errno));
			return LV_OK;
		}
		in = fopen(path, "rb");
		lv_free(path);
		if (!in)
			return cli_fail(api->ctx, LV_EIO, "task %s: cannot open its %s: %s", id, which, strerror(errno));
		if (!(out = fopen(part, "wb"))) {
			fclose(in);
			return cli_fail(api->ctx, LV_EIO, "%s: %s", part, strerror(errno));
		}
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			if (fwrite(buf, 1, n, out) != n)
				break;
		rc = ferror(in) || ferror(out) ? LV_EIO : LV_OK;
		fclose(in);
		if (fclose(out) != 0)
			rc = LV_EIO;
		if (rc) {
			unlink(part);
			return cli_fail(api->ctx, rc, "%s: cannot write: %s", part, strerror(errno));
		}
	} else if ((rc = fetch_to(api, url, part))) {
		return rc;
	}
	if (rename(part, dest) != 0)
		return cli_fail(api->ctx, LV_EIO, "%s: %s", dest, strerror(errno));
	return LV_OK;
}

/* ---- following a task ---------------------------------------------------------------------------- */

/* Wait ms milliseconds; then CLI_EINTR when a stop signal is pending, LV_ETIMEOUT past the deadline. */
static int nap(cli_api *api, int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	if (stop_pending())
		return interrupted(api);
	if (past_deadline(api))
		return cli_fail(api->ctx, LV_ETIMEOUT, "timed out");
	return LV_OK;
}

void cli_api_set_deadline(cli_api *api, time_t deadline)
{
	api->deadline = deadline;
	api->timed_out = 0;
}

/* Hand a task document to the callback; 1 when it is terminal. */
static int deliver(cli_api *api, const char *text, size_t len, int (*on_task)(void *, const cJSON *), void *arg,
                   int *rc)
{
	cJSON *doc = cli_json_parse(api->ctx, text, len, "task");
	lv_task_status st;
	int terminal;
	if (!doc) {
		*rc = api->ctx->status;
		return 1;
	}
	terminal = lv_task_status_parse(&st, cli_json_str(doc, "status") ? cli_json_str(doc, "status") : "") == LV_OK &&
	           lv_task_status_is_terminal(st);
	*rc = on_task(arg, doc);
	cJSON_Delete(doc);
	return terminal || *rc;
}

typedef struct sse {
	cli_api *api;
	int (*on_task)(void *, const cJSON *);
	void *arg;
	body_buf line;     /* the line being received */
	body_buf data;     /* the event's data lines */
	char id[32];       /* the event's id */
	char last_id[32];  /* the id of the last event handled (Last-Event-ID) */
	int events;        /* events handled on this connection */
	int done, rc;
	long http;
	body_buf err;
} sse;

static void sse_line(sse *s, char *line, size_t n)
{
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n == 0) { /* the end of an event */
		if (s->data.n > 0 && !s->done) {
			s->done = deliver(s->api, s->data.p, s->data.n, s->on_task, s->arg, &s->rc);
			s->events++;
			if (s->id[0])
				snprintf(s->last_id, sizeof(s->last_id), "%s", s->id);
		}
		s->data.n = 0;
		s->id[0] = '\0';
		return;
	}
	if (line[0] == ':')
		return; /* a comment: the heartbeat */
	if (!strncmp(line, "data:", 5)) {
		const char *v = line + 5 + (line[5] == ' ');
		if (s->data.n > 0)
			on_body("\n", 1, 1, &s->data);
		on_body((char *)v, 1, strlen(v), &s->data);
	} else if (!strncmp(line, "id:", 3)) {
		const char *v = line + 3 + (line[3] == ' ');
		if (strlen(v) < sizeof(s->id))
			snprintf(s->id, sizeof(s->id), "%s", v);
	}
}

static size_t on_sse(char *data, size_t size, size_t nmemb, void *arg)
{
	sse *s = arg;
	size_t n = size * nmemb, i = 0;
	if (s->http != 200)
		return on_body(data, size, nmemb, &s->err);
	while (i < n) {
		const char *nl = memchr(data + i, '\n', n - i);
		size_t take = nl ? (size_t)(nl - (data + i)) : n - i;
		if (take && on_body(data + i, 1, take, &s->line) != take)
			return 0; /* a line beyond the size limit (or no memory): the stream is dropped */
		i += take;
		if (!nl)
			break;
		i++;
		sse_line(s, s->line.p ? s->line.p : (char *)"", s->line.n);
		s->line.n = 0;
		if (s->line.p)
			s->line.p[0] = '\0';
		if (s->done)
			return 0; /* the terminal event: stop reading */
	}
	return n;
}

static size_t on_sse_header(char *data, size_t size, size_t nmemb, void *arg)
{
	sse *s = arg;
	size_t n = size * nmemb;
	if (n > 9 && !strncmp(data, "HTTP/", 5)) {
		const char *sp = memchr(data, ' ', n);
		if (sp)
			s->http = strtol(sp + 1, NULL, 10);
	}
	return n;
}

/* One connection to the event stream.  LV_OK with s->done at the end of the task; LV_EIO when the stream
 * broke (the caller reconnects); an API error (e.g. task_not_found) as its status. */
static int sse_connect(sse *s, const char *task_id)
{
	cli_api *api = s->api;
	char url[2048], eid[256], errbuf[CURL_ERROR_SIZE] = "", h[80];
	struct curl_slist *hdrs, *t;
	CURL *c;
	CURLcode cc;
	int rc;
	if ((rc = escaped(api, eid, sizeof(eid), task_id)))
		return rc;
	if (!(c = curl_easy_init()))
		return cli_fail(api->ctx, LV_ENOMEM, "out of memory");
	snprintf(url, sizeof(url), "%s/v1/videos/%s/events", api->base, eid);
	hdrs = auth_headers(api, NULL, 0);
	if (hdrs && (t = curl_slist_append(hdrs, "Accept: text/event-stream")))
		hdrs = t;
	if (hdrs && s->last_id[0]) {
		snprintf(h, sizeof(h), "Last-Event-ID: %s", s->last_id);
		if ((t = curl_slist_append(hdrs, h)))
			hdrs = t;
	}
	s->http = 0;
	s->line.n = 0;
	s->data.n = 0;
	s->err.n = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_sse_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_sse);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, api);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	/* Heartbeats come every 10 s: 30 s of silence means a dead stream. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	if (s->done)
		rc = s->rc;
	else if (cc == CURLE_ABORTED_BY_CALLBACK)
		rc = transport_error(api, cc, url, errbuf);
	else if (s->http >= 400)
		rc = http_error(api, s->http, s->err.p, s->err.n);
	else
		rc = LV_EIO; /* the stream ended or broke before the terminal event: reconnect */
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
}

/* Poll GET /v1/videos/{id} (or the store) until the task ends. */
static int poll_task(cli_api *api, const char *id, int interval_ms, int (*on_task)(void *, const cJSON *), void *arg)
{
	char *last = NULL;
	for (;;) {
		char *json = NULL;
		int rc = cli_api_get(api, id, 0, &json), end = 0;
		if (rc) {
			free(last);
			return rc;
		}
		if (!last || strcmp(last, json) != 0)
			end = deliver(api, json, strlen(json), on_task, arg, &rc);
		free(last);
		last = json;
		if (end) {
			free(last);
			return rc;
		}
		if ((rc = nap(api, interval_ms))) {
			free(last);
			return rc;
		}
	}
}

int cli_api_follow(cli_api *api, const char *id, int interval_ms, int (*on_task)(void *arg, const cJSON *task),
                   void *arg)
{
	sse *s;
	int rc = LV_EIO, failures = 0;
	if (!api->remote)
		return poll_task(api, id, interval_ms, on_task, arg);
	if (!(s = calloc(1, sizeof(*s))))
		return cli_fail(api->ctx, LV_ENOMEM, "out of memory");
	s->api = api;
	s->on_task = on_task;
	s->arg = arg;
	/* The stream, reconnecting with Last-Event-ID; after three connections in a row that brought no
	 * event (a proxy that buffers, a server without the stream, too many streams open), polling. */
	while (failures < 3) {
		s->events = 0;
		rc = sse_connect(s, id);
		if (s->done || rc == CLI_EINTR || rc == LV_ETIMEOUT || rc == LV_ENOTFOUND || rc == LV_EAUTH)
			break;
		failures = s->events > 0 ? 0 : failures + 1;
		if ((rc = nap(api, failures * 500)))
			break;
	}
	if (!s->done && failures >= 3 && rc != CLI_EINTR && rc != LV_ETIMEOUT) {
		fprintf(stderr, "lvctl: the event stream is not available (%s%s%s); polling instead\n", api->ctx->code,
		        api->ctx->code[0] ? ": " : "", api->ctx->message[0] ? api->ctx->message : "no events");
		api->ctx->status = 0;
		api->ctx->message[0] = '\0';
		api->ctx->code[0] = '\0';
		rc = poll_task(api, id, interval_ms, on_task, arg);
	}
	free(s->line.p);
	free(s->data.p);
	free(s->err.p);
	free(s);
	return rc;
}
