#include "routes.h"
#include "edge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Route flags. */
#define R_AUTH 0x1u /* Bearer API key (and the rate limit) */
#define R_BODY 0x2u /* a JSON request body is read (Content-Type check, size limit) */
#define R_OWNED 0x4u /* the {id} task must be the key's: checked before the body is read or parsed */
#define R_SELF 0x8u  /* the handler authenticates, rate-limits and parses the query itself (in that order) */
#define R_EDGE 0x10u /* a read the edge may answer itself (a bounded JSON body, no stream, no file) */

typedef int (*route_fn)(srv_request *r);

typedef struct route {
	const char *method;
	const char *pattern;       /* segments; "{id}" matches one non-empty segment into r->path_id */
	unsigned flags;
	const char *const *query;  /* allowed query parameters (NULL: none) */
	route_fn fn;
} route;

/* ---- handlers ------------------------------------------------------------------------------ */

static int send_owned_json(srv_request *r, int status, char *json, const srv_header *extra, size_t n_extra)
{
	srv_send_json(r, status, json, strlen(json), extra, n_extra);
	lv_free(json);
	return status;
}

/* A task as the response, with the given status (and Location/replay headers for create). */
static int send_task(srv_request *r, int status, lv_task *task, unsigned flags, int created)
{
	char location[160];
	srv_header h[2];
	size_t nh = 0;
	char *json = NULL;
	int rc = lv_task_to_json(&json, task, flags);
	if (rc) {
		lv_task_free(task);
		return srv_send_lv_error(r, rc);
	}
	if (created) {
		snprintf(location, sizeof(location), "/v1/videos/%s", lv_task_id(task));
		h[nh].name = "Location";
		h[nh++].value = location;
		if (lv_task_replayed(task)) {
			h[nh].name = "Idempotent-Replayed";
			h[nh++].value = "true";
		}
	}
	lv_task_free(task);
	return send_owned_json(r, status, json, h, nh);
}

/* srv_send_lv_error(), plus the codes of creative control. */
static int send_lv_error(srv_request *r, int rc)
{
	const lv_error *e = lv_error_last();
	if (rc == LV_ENOTREVIEWABLE)
		return srv_send_error(r, 409, lv_status_code(rc), e->status == rc ? e->message : lv_strerror(rc), NULL,
		                      NULL, 0);
	return srv_send_lv_error(r, rc);
}

static int h_healthz(srv_request *r)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "{\"status\":\"ok\",\"version\":\"%s\"}", lv_version());
	return srv_send_json(r, 200, body, (size_t)n, NULL, 0);
}

/* GET /readyz on a connection that already carried a request (a fresh one is answered by the edge). */
static int h_readyz(srv_request *r)
{
	char msg[256], body[512];
	int n;
	if (srv_check_ready(r->srv, msg, sizeof(msg)) == 0) {
		n = snprintf(body, sizeof(body), "{\"status\":\"ready\",\"version\":\"%s\"}", lv_version());
		return srv_send_json(r, 200, body, (size_t)n, NULL, 0);
	}
	{
		srv_header h[1] = { { "Retry-After", "1" } };
		n = snprintf(body, sizeof(body), "{\"status\":\"unavailable\",\"version\":\"%s\",\"error\":\"%s\"}",
		             lv_version(), msg);
		return srv_send_json(r, 503, body, (size_t)n, h, 1);
	}
}

/* GET /metrics: Prometheus text format, from counters kept in memory and three grouped store queries
 * (tasks and webhooks by status, credit totals over the keys). */
static int h_metrics(srv_request *r)
{
	const srv_metrics *m = &r->srv->metrics;
	static const char *const classes[] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };
	unsigned long long open_now, refused, rejected, probes, cum = 0;
	char *out, line[256];
	size_t cap = 8192, len = 0, i;
	int st;
#define PUT(...)                                                                                                   \
	do {                                                                                                       \
		int n_ = snprintf(line, sizeof(line), __VA_ARGS__);                                                \
		if (n_ > 0 && len + (size_t)n_ < cap) {                                                            \
			memcpy(out + len, line, (size_t)n_);                                                       \
			len += (size_t)n_;                                                                         \
		}                                                                                                  \
	} while (0)
	if (!(out = malloc(cap)))
		return srv_send_lv_error(r, LV_ENOMEM);
	PUT("# HELP lvserver_http_requests_total Requests answered by the API, by status class.\n"
	    "# TYPE lvserver_http_requests_total counter\n");
	for (i = 0; i < 6; i++)
		PUT("lvserver_http_requests_total{code=\"%s\"} %llu\n", classes[i], atomic_load(&m->requests[i]));
	PUT("# HELP lvserver_http_request_duration_seconds Time from request head to response.\n"
	    "# TYPE lvserver_http_request_duration_seconds histogram\n");
	for (i = 0; i < SRV_LATENCY_BUCKETS; i++) {
		cum += atomic_load(&m->latency[i]);
		PUT("lvserver_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", srv_latency_bounds_ms[i] / 1000.0, cum);
	}
	cum += atomic_load(&m->latency[SRV_LATENCY_BUCKETS]);
	PUT("lvserver_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
	PUT("lvserver_http_request_duration_seconds_sum %.3f\n", atomic_load(&m->latency_ms_sum) / 1000.0);
	PUT("lvserver_http_request_duration_seconds_count %llu\n", cum);
	PUT("# HELP lvserver_rate_limited_total Requests answered 429 by the per-key rate limit.\n"
	    "# TYPE lvserver_rate_limited_total counter\nlvserver_rate_limited_total %llu\n",
	    atomic_load(&m->rate_limited));
	srv_edge_stats(r->srv->edge, &open_now, &refused, &rejected, &probes);
	PUT("# HELP lvserver_connections_open Client connections open now.\n"
	    "# TYPE lvserver_connections_open gauge\nlvserver_connections_open %llu\n", open_now);
	PUT("# HELP lvserver_connections_refused_total Connections refused at accept (connection limits).\n"
	    "# TYPE lvserver_connections_refused_total counter\nlvserver_connections_refused_total %llu\n", refused);
	PUT("# HELP lvserver_requests_rejected_total Request heads answered with an error before routing "
	    "(400, 408, 431).\n# TYPE lvserver_requests_rejected_total counter\n"
	    "lvserver_requests_rejected_total %llu\n", rejected);
	PUT("# HELP lvserver_probes_total /healthz and /readyz requests answered.\n"
	    "# TYPE lvserver_probes_total counter\nlvserver_probes_total %llu\n", probes);
	PUT("# HELP lvserver_edge_reads_total JSON reads the edge answered itself (server.edge_reads).\n"
	    "# TYPE lvserver_edge_reads_total counter\nlvserver_edge_reads_total %llu\n",
	    atomic_load(&r->srv->metrics.edge_reads));
	PUT("# HELP lvserver_tasks_in_progress Tasks this process's pipeline workers hold now.\n"
	    "# TYPE lvserver_tasks_in_progress gauge\nlvserver_tasks_in_progress %zu\n",
	    r->srv->workers ? lv_workers_active(r->srv->workers) : (size_t)0);
	{
		/* Store-wide counts: one grouped COUNT per table over an indexed status column. */
		lv_status_counts sc;
		if (lv_status_counts_get(&sc, r->srv->engine) == LV_OK) {
			int v;
			PUT("# HELP longvideo_tasks Tasks in the store by status (every process, every key).\n"
			    "# TYPE longvideo_tasks gauge\n");
			for (v = 0; v < 16 && lv_task_status_name((lv_task_status)v); v++)
				PUT("longvideo_tasks{status=\"%s\"} %lld\n", lv_task_status_name((lv_task_status)v),
				    (long long)sc.tasks[v]);
			PUT("# HELP longvideo_queue_depth Tasks waiting for a worker.\n"
			    "# TYPE longvideo_queue_depth gauge\nlongvideo_queue_depth %lld\n",
			    (long long)sc.tasks[LV_TASK_QUEUED]);
			PUT("# HELP longvideo_webhooks Webhook deliveries in the outbox by outcome.\n"
			    "# TYPE longvideo_webhooks gauge\nlongvideo_webhooks{outcome=\"pending\"} %lld\n"
			    "longvideo_webhooks{outcome=\"delivered\"} %lld\nlongvideo_webhooks{outcome=\"failed\"} %lld\n",
			    (long long)sc.webhooks_pending, (long long)sc.webhooks_delivered, (long long)sc.webhooks_failed);
		} else {
			PUT("# the store could not be counted: %s\n", lv_error_last()->message);
			lv_error_clear();
		}
	}
#undef PUT
	{
		/* The pipeline's stage and provider metrics and the credit totals, from the engine. */
		char *more = NULL, *all;
		size_t more_len = 0;
		int mrc = lv_engine_metrics_text(r->srv->engine, &more, &more_len);
		if (mrc != LV_OK) {
			free(out);
			return srv_send_lv_error(r, mrc);
		}
		if (!(all = realloc(out, len + more_len + 1))) {
			free(out);
			lv_free(more);
			return srv_send_lv_error(r, LV_ENOMEM);
		}
		out = all;
		memcpy(out + len, more, more_len);
		len += more_len;
		lv_free(more);
	}
	st = srv_send_text(r, 200, out, len, "text/plain; version=0.0.4; charset=utf-8");
	free(out);
	return st;
}

/* GET /v1/openapi.json: the API's OpenAPI 3.1 document (docs/openapi.json, compiled in). */
extern const unsigned char srv_openapi_json[];
extern const size_t srv_openapi_json_len;

static int h_openapi(srv_request *r)
{
	return srv_send_json(r, 200, (const char *)srv_openapi_json, srv_openapi_json_len, NULL, 0);
}

static int h_create(srv_request *r)
{
	const char *idem = srv_header_value(r, "Idempotency-Key");
	lv_task *task = NULL;
	int rc = lv_task_create_json(&task, r->srv->engine, r->key, r->body, r->body_len, idem);
	if (rc)
		return srv_send_lv_error(r, rc);
	return send_task(r, 202, task, 0, 1);
}

/* A `limit` query parameter: strictly 1-100 in decimal digits ("0" is not "the default" here); 0 if bad. */
static int parse_limit(const char *limit)
{
	size_t i, n = strlen(limit);
	int v = 0;
	for (i = 0; i < n && i < 4 && limit[i] >= '0' && limit[i] <= '9'; i++)
		v = v * 10 + (limit[i] - '0');
	return n == 0 || i != n || v < 1 || v > 100 ? 0 : v;
}

static int h_list(srv_request *r)
{
	lv_task_list_options opts = LV_TASK_LIST_OPTIONS_INIT;
	const char *limit = srv_query_param(r, "limit"), *after = srv_query_param(r, "after"), *status = srv_query_param(r, "status");
	lv_task_page *page = NULL;
	char *json = NULL;
	int rc;

	if (limit && (opts.limit = parse_limit(limit)) == 0)
		return srv_send_errorf(r, 400, "invalid_request", "limit: must be an integer from 1 to 100");
	if (after && !*after)
		return srv_send_errorf(r, 400, "invalid_request", "after: must be a task id from a previous page");
	if (status && !*status)
		return srv_send_errorf(r, 400, "invalid_request", "status: must be one task status, e.g. queued");
	opts.after = after;
	opts.status = status;
	if ((rc = lv_task_list(&page, r->srv->engine, r->key, &opts)))
		return srv_send_lv_error(r, rc);
	rc = lv_task_page_to_json(&json, page);
	lv_task_page_free(page);
	if (rc)
		return srv_send_lv_error(r, rc);
	return send_owned_json(r, 200, json, NULL, 0);
}

/* The key and the task are read together (one store transaction); the answers come in the order of
 * every authenticated route: 401, 429, 400 for the query, then the task's own result. */
static int h_get(srv_request *r)
{
	lv_task *task = NULL;
	char token[128], message[512] = "", *details = NULL;
	const lv_error *e;
	int rc, st;
	if ((st = srv_bearer_token(r, token, sizeof(token))))
		return st;
	rc = lv_task_get_with_secret(&task, &r->key, r->srv->engine, token, r->path_id);
	memset(token, 0, sizeof(token));
	if (!r->key)
		return srv_auth_failed(r, rc);
	e = lv_error_last();
	if (rc && e->status == rc) {
		/* The rate limit's own calls replace the library's last error: keep this one. */
		snprintf(message, sizeof(message), "%s", e->message ? e->message : "");
		if (e->details_json && !(details = strdup(e->details_json))) {
			lv_task_free(task);
			return srv_send_lv_error(r, LV_ENOMEM);
		}
	}
	if (!(st = srv_rate_limit(r)) && !(st = srv_parse_query(r, NULL)))
		st = rc ? srv_send_lv_error_as(r, rc, message, details) : send_task(r, 200, task, LV_TASK_JSON_DETAIL, 0);
	else
		lv_task_free(task);
	free(details);
	return st;
}

/* Cancel takes no fields: an empty body or an empty object. */
static int empty_object(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (!*s)
		return 1;
	if (*s++ != '{')
		return 0;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s++ != '}')
		return 0;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return *s == '\0';
}

static int h_cancel(srv_request *r)
{
	lv_task *task = NULL;
	int rc;
	if (strlen(r->body) != r->body_len || !empty_object(r->body))
		return srv_send_errorf(r, 400, "invalid_request", "body: cancel takes no fields (send no body or {})");
	if ((rc = lv_task_cancel(&task, r->srv->engine, r->key, r->path_id)))
		return srv_send_lv_error(r, rc);
	return send_task(r, 200, task, 0, 0);
}

static int h_compose(srv_request *r)
{
	lv_task *task = NULL;
	int rc = lv_task_compose_json(&task, r->srv->engine, r->key, r->path_id, r->body, r->body_len);
	if (rc)
		return srv_send_lv_error(r, rc);
	return send_task(r, 202, task, 0, 0);
}

static int h_credits(srv_request *r)
{
	lv_credits credits;
	char *json = NULL;
	int rc = lv_key_credits(&credits, r->srv->engine, r->key);
	if (rc == LV_OK)
		rc = lv_credits_to_json(&json, &credits);
	if (rc)
		return srv_send_lv_error(r, rc);
	return send_owned_json(r, 200, json, NULL, 0);
}

/* GET /v1/credits/ledger?limit=&after=: the key's ledger entries, newest first. */
static int h_ledger(srv_request *r)
{
	const char *limit = srv_query_param(r, "limit"), *after = srv_query_param(r, "after");
	lv_ledger_page *page = NULL;
	char *json = NULL;
	int v = 0, rc;
	if (limit && (v = parse_limit(limit)) == 0)
		return srv_send_errorf(r, 400, "invalid_request", "limit: must be an integer from 1 to 100");
	if ((rc = lv_key_ledger(&page, r->srv->engine, r->key, v, after)) == LV_OK)
		rc = lv_ledger_page_to_json(&json, page);
	lv_ledger_page_free(page);
	if (rc)
		return srv_send_lv_error(r, rc);
	return send_owned_json(r, 200, json, NULL, 0);
}

/* PATCH /v1/videos/{id}/storyboard: edit the storyboard of a task awaiting review. */
static int h_storyboard(srv_request *r)
{
	lv_task *task = NULL;
	int rc = lv_task_storyboard_edit_json(&task, r->srv->engine, r->key, r->path_id, r->body, r->body_len);
	if (rc)
		return send_lv_error(r, rc);
	return send_task(r, 200, task, LV_TASK_JSON_DETAIL, 0);
}

/* POST /v1/videos/{id}/approve: the storyboard is approved; generation goes on. */
static int h_approve(srv_request *r)
{
	lv_task *task = NULL;
	int rc = lv_task_approve(&task, r->srv->engine, r->key, r->path_id, r->body, r->body_len);
	if (rc)
		return send_lv_error(r, rc);
	return send_task(r, 202, task, 0, 0);
}

/* POST /v1/videos/{id}/shots/{index}/regenerate (the dispatcher leaves "ID/INDEX" in path_id). */
static int h_regenerate(srv_request *r)
{
	lv_task *task = NULL;
	char *slash = strchr(r->path_id, '/'), *end = NULL;
	long idx = -1;
	int rc;
	if (slash) {
		*slash = '\0';
		if (slash[1] >= '0' && slash[1] <= '9' && strlen(slash + 1) <= 4)
			idx = strtol(slash + 1, &end, 10);
		if (!end || *end)
			idx = -1;
	}
	/* A malformed index is checked by the library after the task and its status (401, 404, 409, 400). */
	rc = lv_task_regenerate_json(&task, r->srv->engine, r->key, r->path_id, (int)(idx < 0 ? -1 : idx), r->body,
	                             r->body_len);
	if (rc)
		return send_lv_error(r, rc);
	return send_task(r, 202, task, 0, 0);
}

/* ---- live progress (Server-Sent Events) -------------------------------------------------------- */

#define EVENTS_POLL_MS 250
#define EVENTS_HEARTBEAT_MS 10000

/* Take a stream slot for the task owner's key: 0, or 1 when the key has its streams open already, 2 when
 * the server has server.max_event_streams open. */
static int stream_acquire(srv_context *s, const char *key_id)
{
	int i, free_slot = -1, over = 0;
	pthread_mutex_lock(&s->streams_mu);
	for (i = 0; i < SRV_MAX_STREAM_KEYS; i++) {
		if (s->streams[i].n > 0 && !strcmp(s->streams[i].key_id, key_id))
			break;
		if (s->streams[i].n == 0 && free_slot < 0)
			free_slot = i;
	}
	if (i < SRV_MAX_STREAM_KEYS && s->streams[i].n >= SRV_STREAMS_PER_KEY)
		over = 1;
	else if (s->streams_open >= s->max_streams || (i == SRV_MAX_STREAM_KEYS && free_slot < 0))
		over = 2;
	else {
		if (i == SRV_MAX_STREAM_KEYS) {
			i = free_slot;
			snprintf(s->streams[i].key_id, sizeof(s->streams[i].key_id), "%s", key_id);
		}
		s->streams[i].n++;
		s->streams_open++;
	}
	pthread_mutex_unlock(&s->streams_mu);
	return over;
}

static void stream_release(srv_context *s, const char *key_id)
{
	int i;
	pthread_mutex_lock(&s->streams_mu);
	for (i = 0; i < SRV_MAX_STREAM_KEYS; i++)
		if (s->streams[i].n > 0 && !strcmp(s->streams[i].key_id, key_id)) {
			s->streams[i].n--;
			s->streams_open--;
			break;
		}
	pthread_mutex_unlock(&s->streams_mu);
}

/* Write the events of a poll; returns -1 when the client is gone, 1 after a terminal event, else 0. */
static int write_events(srv_request *r, const lv_task_events *ev, int64_t *last)
{
	size_t i;
	for (i = 0; i < lv_task_events_count(ev); i++) {
		const char *data = lv_task_events_data(ev, i);
		if (mg_printf(r->conn, "id: %lld\nevent: task\ndata: ", (long long)lv_task_events_id(ev, i)) <= 0 ||
		    mg_write(r->conn, data, strlen(data)) <= 0 || mg_write(r->conn, "\n\n", 2) <= 0)
			return -1;
		*last = lv_task_events_id(ev, i);
		if (lv_task_events_terminal(ev, i))
			return 1;
	}
	return 0;
}

/* The stream: the current state first (or what followed Last-Event-ID), then each change, a comment
 * every 10 s of silence, and the end after the terminal event.  The task may run in any process:
 * everything comes from the store. */
static int stream_events(srv_request *r, const lv_key *key, const char *token, const char *task_id)
{
	const char *lei = srv_header_value(r, "Last-Event-ID");
	lv_task_events *ev = NULL;
	const struct timespec pause = { 0, EVENTS_POLL_MS * 1000000L };
	int64_t last = -1, quiet = 0;
	char owner[48];
	int rc, st = 0;
	if (lei && *lei && strlen(lei) < 19 && strspn(lei, "0123456789") == strlen(lei))
		last = strtoll(lei, NULL, 10);
	if ((rc = lv_task_events_poll(&ev, r->srv->engine, key, token, task_id, last)))
		return send_lv_error(r, rc);
	snprintf(owner, sizeof(owner), "%s", lv_task_events_owner(ev));
	if ((rc = stream_acquire(r->srv, owner)) != 0) {
		srv_header h[1] = { { "Retry-After", "5" } };
		lv_task_events_free(ev);
		if (rc == 1)
			return srv_send_error(r, 429, "rate_limited",
			                      "events: too many open event streams (at most 4 per API key); close one first",
			                      NULL, h, 1);
		return srv_send_error(r, 429, "rate_limited",
		                      "events: the server has as many event streams open as server.max_event_streams "
		                      "allows; poll GET /v1/videos/{id} or try again later",
		                      NULL, h, 1);
	}
	mg_disable_keep_alive(r->conn);
	/* r->always: CORS for the configured origins (EventSource on a page of another origin) and the
	 * rate-limit fields, as on every other response. */
	mg_printf(r->conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
	                   "Connection: close\r\nX-Accel-Buffering: no\r\nX-Request-Id: %s\r\n%s\r\n", r->id,
	          r->always);
	r->status = 200;
	while (!(st = write_events(r, ev, &last)) && !(lv_task_events_count(ev) == 0 && lv_task_events_done(ev))) {
		lv_task_events_free(ev);
		ev = NULL;
		nanosleep(&pause, NULL);
		quiet += EVENTS_POLL_MS;
		if (atomic_load(&r->srv->stopping))
			break;
		if (quiet >= EVENTS_HEARTBEAT_MS) {
			if (mg_printf(r->conn, ": keep-alive\n\n") <= 0)
				break;
			quiet = 0;
		}
		if (lv_task_events_poll(&ev, r->srv->engine, key, token, task_id, last))
			break; /* the task is gone, or the store failed: end the stream; the client reconnects */
		if (lv_task_events_count(ev) > 0)
			quiet = 0;
	}
	lv_task_events_free(ev);
	stream_release(r->srv, owner);
	return 200;
}

/* GET /v1/videos/{id}/events (Bearer). */
static int h_events(srv_request *r)
{
	return stream_events(r, r->key, NULL, r->path_id);
}

/* GET /v1/events/{id}/{token}: the same stream at its capability URL, for EventSource. */
static int h_events_token(srv_request *r)
{
	char *slash = strchr(r->path_id, '/');
	if (!slash)
		return srv_send_errorf(r, 404, "not_found", "no such event stream");
	*slash = '\0';
	return stream_events(r, NULL, slash + 1, r->path_id);
}

/* ---- media ----------------------------------------------------------------------------------- */

/* A result file: Range, If-Range, ETag, HEAD (srv_send_file). */
static int send_file(srv_request *r, const char *path, const char *name, const char *disposition)
{
	return srv_send_file(r, path, lv_media_content_type(name),
	                     disposition ? "private, max-age=3600" : "public, max-age=31536000, immutable", disposition);
}

/* GET /media/{task_id}/{token}/{name}: the capability URL of a result; no key needed.  With remote
 * storage it answers 302 to a freshly presigned URL (Cache-Control: no-store), so it never expires. */
static int h_media(srv_request *r)
{
	char key[SRV_PATH_PARAM_MAX + 8], *path = NULL, *redirect = NULL;
	const char *name;
	int st, rc;
	snprintf(key, sizeof(key), "media/%s", r->path_id);
	rc = lv_media_locate(&path, &redirect, r->srv->engine, key);
	if (rc == LV_ENOTFOUND)
		return srv_send_errorf(r, 404, "not_found", "no such media: /%s", key);
	if (rc)
		return srv_send_lv_error(r, rc);
	if (redirect) {
		static const char body[] = "{\"redirect\":true}";
		srv_header h[1] = { { "Location", redirect } };
		st = srv_send_json(r, 302, body, sizeof(body) - 1, h, 1); /* srv_send_json sends no-store */
		lv_free(redirect);
		return st;
	}
	name = strrchr(key, '/') + 1;
	st = send_file(r, path, name, NULL);
	lv_free(path);
	return st;
}

static int write_to_client(void *ctx, const void *data, size_t n)
{
	struct mg_connection *conn = ctx;
	return mg_write(conn, data, n) == (int)n ? 0 : 1;
}

/* The film streamed from remote storage through the server, with one byte range at most. */
static int stream_film(srv_request *r, const char *disposition)
{
	lv_media_object o;
	int64_t from = 0, to = 0;
	int rc = lv_media_film_info(&o, r->srv->engine, r->key, r->path_id), ranged, status;
	char range[100] = "";
	if (rc)
		return srv_send_lv_error(r, rc);
	ranged = srv_byte_range(srv_header_value(r, "Range"), o.size, &from, &to);
	if (ranged < 0) {
		char cr[64];
		srv_header h[1] = { { "Content-Range", cr } };
		snprintf(cr, sizeof(cr), "bytes */%lld", (long long)o.size);
		return srv_send_error(r, 416, "range_not_satisfiable", "the requested range is outside the film", NULL,
		                      h, 1);
	}
	if (!ranged) {
		from = 0;
		to = o.size - 1;
	} else {
		snprintf(range, sizeof(range), "Content-Range: bytes %lld-%lld/%lld\r\n", (long long)from, (long long)to,
		         (long long)o.size);
	}
	status = ranged ? 206 : 200;
	mg_printf(r->conn,
	          "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %lld\r\nAccept-Ranges: bytes\r\n%s"
	          "X-Request-Id: %s\r\nCache-Control: private, max-age=3600\r\nContent-Disposition: %s\r\n%s\r\n",
	          status, ranged ? "Partial Content" : "OK", o.content_type, (long long)(to - from + 1), range, r->id,
	          disposition, r->always); /* r->always: CORS (configured origins), rate-limit fields */
	r->status = status;
	if (strcmp(r->method, "HEAD") != 0 && to >= from &&
	    lv_media_film_read(r->srv->engine, r->key, r->path_id, from, to - from + 1, write_to_client, r->conn)) {
		/* Headers are out: all that is left is to cut the connection so the client sees a short body. */
		srv_log(r->srv, SRV_LOG_WARN, "%s: streaming the film of %s stopped: %s", r->id, r->path_id,
		        lv_error_last()->message);
		mg_disable_keep_alive(r->conn);
	}
	return status;
}

/* GET /v1/videos/{id}/content: the film of one of the key's tasks, with Range.  Local files go out
 * through civetweb; films in remote storage are streamed through the server (a redirect would carry
 * the client's Authorization header to the object store, which refuses it). */
static int h_content(srv_request *r)
{
	char *path = NULL, *url = NULL, disposition[200];
	int rc = lv_media_task_film(&path, &url, r->srv->engine, r->key, r->path_id), st;
	if (rc)
		return srv_send_lv_error(r, rc);
	snprintf(disposition, sizeof(disposition), "inline; filename=\"%s.mp4\"", r->path_id);
	if (!path) {
		lv_free(url);
		return stream_film(r, disposition);
	}
	st = send_file(r, path, "final.mp4", disposition);
	lv_free(path);
	return st;
}

/* ---- the table ----------------------------------------------------------------------------- */

static const char *const list_query[] = { "limit", "after", "status", NULL };
static const char *const ledger_query[] = { "limit", "after", NULL };

static const route routes[] = {
	{ "GET", "/healthz", 0, NULL, h_healthz },
	{ "GET", "/readyz", 0, NULL, h_readyz },
	{ "GET", "/metrics", 0, NULL, h_metrics },
	{ "GET", "/v1/openapi.json", 0, NULL, h_openapi },
	{ "GET", "/v1/videos", R_AUTH | R_EDGE, list_query, h_list },
	{ "POST", "/v1/videos", R_AUTH | R_BODY, NULL, h_create },
	{ "GET", "/v1/videos/{id}", R_SELF | R_EDGE, NULL, h_get },
	{ "POST", "/v1/videos/{id}/cancel", R_AUTH | R_OWNED | R_BODY, NULL, h_cancel },
	{ "POST", "/v1/videos/{id}/compose", R_AUTH | R_OWNED | R_BODY, NULL, h_compose },
	{ "PATCH", "/v1/videos/{id}/storyboard", R_AUTH | R_OWNED | R_BODY, NULL, h_storyboard },
	{ "POST", "/v1/videos/{id}/approve", R_AUTH | R_OWNED | R_BODY, NULL, h_approve },
	{ "POST", "/v1/videos/{id}/shots/{n}/regenerate", R_AUTH | R_OWNED | R_BODY, NULL, h_regenerate },
	{ "GET", "/v1/credits", R_AUTH | R_EDGE, NULL, h_credits },
	{ "GET", "/v1/videos/{id}/events", R_AUTH, NULL, h_events },
	{ "GET", "/v1/events/{id}/{n}", 0, NULL, h_events_token },
	{ "GET", "/v1/credits/ledger", R_AUTH | R_EDGE, ledger_query, h_ledger },
	{ "GET", "/v1/videos/{id}/content", R_AUTH, NULL, h_content },
	{ "GET", "/media/{rest}", 0, NULL, h_media },
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* 404 task_not_found unless the {id} task exists and belongs to the calling key: an unknown id is
 * answered without reading (or parsing) a byte of the body. */
static int check_owned(srv_request *r)
{
	lv_task *task = NULL;
	char id[SRV_PATH_PARAM_MAX];
	int rc;
	/* A route with {id}/{n} leaves "ID/N" in path_id: the task is the part before the slash. */
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(r->path_id, "/"), r->path_id);
	rc = lv_task_get(&task, r->srv->engine, r->key, id);
	lv_task_free(task);
	return rc ? srv_send_lv_error(r, rc) : 0;
}

/* Whether a route of method `route_method` serves a request of `method`: HEAD is GET without the body. */
static int method_matches(const char *route_method, const char *method)
{
	return !strcmp(route_method, method) || (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

static void allow_add(char *allow, size_t cap, const char *m)
{
	const char *p = allow;
	size_t n = strlen(m);
	while ((p = strstr(p, m)))
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return;
		else
			p += n;
	strncat(allow, allow[0] ? ", " : "", cap - strlen(allow) - 1);
	strncat(allow, m, cap - strlen(allow) - 1);
}

/* The request headers a browser may send cross-origin (answered to a preflight). */
#define CORS_ALLOW_HEADERS "Authorization, Content-Type, Idempotency-Key, X-Request-Id, Last-Event-ID"
#define CORS_EXPOSE_HEADERS                                                                                      \
	"X-Request-Id, Location, Idempotent-Replayed, Retry-After, RateLimit, RateLimit-Policy, Content-Range, "  \
	"Content-Length, Accept-Ranges, ETag"

/* CORS on every response of this request: media capability URLs are for any page (one "*"); the
 * JSON API only for the configured origins. */
static int cors_headers(srv_request *r, int media)
{
	const char *origin = srv_header_value(r, "Origin");
	if (media) {
		srv_add_header(r, "Access-Control-Allow-Origin", "*");
		srv_add_header(r, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
		return 1;
	}
	if (r->srv->cors_origins && *r->srv->cors_origins)
		srv_add_header(r, "Vary", "Origin");
	if (!origin || !srv_cors_allowed(r->srv, origin))
		return 0;
	srv_add_header(r, "Access-Control-Allow-Origin", origin);
	srv_add_header(r, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
	return 1;
}

/* OPTIONS on a real route: a CORS preflight (204 with the route's methods) when the origin may
 * use it, else a plain answer listing the methods. */
static int preflight(srv_request *r, const char *allow, int cors)
{
	const char *want = srv_header_value(r, "Access-Control-Request-Method");
	srv_header h[3];
	size_t nh = 0;
	h[nh].name = "Allow";
	h[nh++].value = allow;
	if (cors && want) {
		char m[16];
		snprintf(m, sizeof(m), "%s", want);
		if (!strstr(allow, m) || !*m) {
			/* Like every 405: the Allow header lists the methods the endpoint has. */
			char message[256];
			snprintf(message, sizeof(message), "%s is not allowed on %s (allowed: %s)", m, r->path,
			         allow);
			return srv_send_error(r, 405, "method_not_allowed", message, NULL, h, nh);
		}
		h[nh].name = "Access-Control-Allow-Methods";
		h[nh++].value = allow;
		h[nh].name = "Access-Control-Allow-Headers";
		h[nh++].value = CORS_ALLOW_HEADERS;
		srv_add_header(r, "Access-Control-Max-Age", "600");
	}
	return srv_send_json(r, 204, "", 0, h, nh);
}

/* The request through the table: its route's checks, then its handler; 404 not_found or 405
 * method_not_allowed when nothing matches.  Returns the status sent. */
static int route_request(srv_request *r)
{
	const route *hit = NULL;
	char allow[64] = "";
	const char *path = r->path, *method = r->method;
	size_t i;
	int st, cors;

	cors = cors_headers(r, !strncmp(path, "/media/", 7));
	for (i = 0; i < N_ROUTES; i++) {
		char id[SRV_PATH_PARAM_MAX];
		if (!srv_route_match(routes[i].pattern, path, id, sizeof(id)))
			continue;
		if (!hit && method_matches(routes[i].method, method)) {
			hit = &routes[i];
			r->create_body = hit->fn == h_create; /* character images: server.max_create_body_bytes */
			memcpy(r->path_id, id, sizeof(id));
		}
		allow_add(allow, sizeof(allow), routes[i].method);
		if (!strcmp(routes[i].method, "GET"))
			allow_add(allow, sizeof(allow), "HEAD");
	}
	if (allow[0])
		allow_add(allow, sizeof(allow), "OPTIONS");
	if (!hit && !allow[0]) {
		st = srv_send_errorf(r, 404, "not_found", "no such endpoint: %s %s", method, path);
	} else if (!hit && !strcmp(method, "OPTIONS")) {
		st = preflight(r, allow, cors);
	} else if (!hit) {
		srv_header h[1] = { { "Allow", allow } };
		char message[256];
		snprintf(message, sizeof(message), "%s is not allowed on %s (allowed: %s)", method, path, allow);
		st = srv_send_error(r, 405, "method_not_allowed", message, NULL, h, 1);
	} else if (hit->flags & R_SELF) {
		st = hit->fn(r);
	} else if (!((hit->flags & R_AUTH) && ((st = srv_authenticate(r)) || (st = srv_rate_limit(r)))) &&
	           !(st = srv_parse_query(r, hit->query)) && !((hit->flags & R_OWNED) && (st = check_owned(r))) &&
	           !((hit->flags & R_BODY) && (st = srv_read_body(r)))) {
		st = hit->fn(r);
	}
	return st;
}

int srv_dispatch(struct mg_connection *conn, void *cbdata)
{
	srv_request r;
	int st;
	srv_request_init(&r, cbdata, conn);
	st = route_request(&r);
	srv_request_finish(&r);
	return st;
}

int srv_edge_serves(const srv_head *h)
{
	char path[SRV_PATH_PARAM_MAX + 64], id[SRV_PATH_PARAM_MAX];
	size_t n, i;
	if (!h->method || h->n_te || h->cl > 0 || h->version_len != 8 ||
	    (memcmp(h->version, "HTTP/1.1", 8) != 0 && memcmp(h->version, "HTTP/1.0", 8) != 0) ||
	    !((h->method_len == 3 && !memcmp(h->method, "GET", 3)) || (h->method_len == 4 && !memcmp(h->method, "HEAD", 4))))
		return 0;
	if (!(n = srv_path_plain(h->target, h->target_len)) || n >= sizeof(path))
		return 0;
	memcpy(path, h->target, n);
	path[n] = '\0';
	for (i = 0; i < N_ROUTES; i++)
		if (srv_route_match(routes[i].pattern, path, id, sizeof(id)))
			return (routes[i].flags & R_EDGE) && !strcmp(routes[i].method, "GET");
	return 0;
}

int srv_serve_edge(srv_context *srv, const char *head, size_t len, const char *client, int trusted, char **out,
                   size_t *out_len, int *keep)
{
	srv_head_field fields[SRV_MAX_HEADERS];
	const char *method = NULL, *target = NULL, *version = NULL;
	char *copy = malloc(len + 1), *q;
	srv_request r;
	int n, st;

	*out = NULL;
	*out_len = 0;
	*keep = 0;
	if (!copy || (n = srv_head_split((char *)memcpy(copy, head, len), len, &method, &target, &version, fields,
	                                 SRV_MAX_HEADERS)) < 0) {
		free(copy);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.srv = srv;
	r.method = method;
	r.version = version;
	r.fields = fields;
	r.n_fields = (size_t)n;
	r.content_length = -1;
	/* The path is plain (srv_edge_serves): it is what CivetWeb would have decoded. */
	if ((q = strchr(target, '?')) != NULL) {
		*q = '\0';
		r.query = q + 1;
	}
	r.path = target;
	srv_request_start(&r);
	snprintf(r.client, sizeof(r.client), "%s", client);
	if (trusted)
		srv_client_behind_proxy(&r);
	st = route_request(&r);
	srv_request_finish(&r);
	atomic_fetch_add(&srv->metrics.edge_reads, 1);
	free(copy);
	if (r.out_failed || !r.out_len) {
		free(r.out);
		return -1;
	}
	*keep = !r.close_after;
	*out = r.out;
	*out_len = r.out_len;
	return st;
}
