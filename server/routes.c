#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Route flags. */
#define R_AUTH 0x1u /* Bearer API key (and the rate limit) */
#define R_BODY 0x2u /* a JSON request body is read (Content-Type check, size limit) */

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

static int h_create(srv_request *r)
{
	const char *idem = mg_get_header(r->conn, "Idempotency-Key");
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

static int h_get(srv_request *r)
{
	lv_task *task = NULL;
	int rc = lv_task_get(&task, r->srv->engine, r->key, r->path_id);
	if (rc)
		return srv_send_lv_error(r, rc);
	return send_task(r, 200, task, LV_TASK_JSON_DETAIL, 0);
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

/* Take a stream slot for the task owner's key; 0 when over a limit. */
static int stream_acquire(srv_context *s, const char *key_id)
{
	int i, free_slot = -1, ok = 0;
	pthread_mutex_lock(&s->streams_mu);
	if (s->streams_open < s->max_streams) {
		for (i = 0; i < SRV_MAX_STREAM_KEYS; i++) {
			if (s->streams[i].n > 0 && !strcmp(s->streams[i].key_id, key_id))
				break;
			if (s->streams[i].n == 0 && free_slot < 0)
				free_slot = i;
		}
		if (i == SRV_MAX_STREAM_KEYS && free_slot >= 0) {
			i = free_slot;
			snprintf(s->streams[i].key_id, sizeof(s->streams[i].key_id), "%s", key_id);
		}
		if (i < SRV_MAX_STREAM_KEYS && s->streams[i].n < SRV_STREAMS_PER_KEY) {
			s->streams[i].n++;
			s->streams_open++;
			ok = 1;
		}
	}
	pthread_mutex_unlock(&s->streams_mu);
	return ok;
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
	const char *lei = mg_get_header(r->conn, "Last-Event-ID");
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
	if (!stream_acquire(r->srv, owner)) {
		srv_header h[1] = { { "Retry-After", "5" } };
		lv_task_events_free(ev);
		return srv_send_error(r, 429, "rate_limited",
		                      "events: too many open event streams (at most 4 per API key); close one first", NULL,
		                      h, 1);
	}
	mg_disable_keep_alive(r->conn);
	mg_printf(r->conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
	                   "Connection: close\r\nX-Accel-Buffering: no\r\nX-Request-Id: %s\r\n\r\n", r->id);
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

/* A result file with Range support (civetweb's static file handling: 206, If-None-Match, HEAD). */
static int send_file(srv_request *r, const char *path, const char *name, const char *disposition)
{
	char headers[512];
	snprintf(headers, sizeof(headers),
	         "X-Request-Id: %s\r\nCache-Control: %s\r\nAccess-Control-Allow-Origin: *\r\n"
	         "Access-Control-Expose-Headers: Content-Length, Content-Range, Accept-Ranges\r\n%s%s%s",
	         r->id, disposition ? "private, max-age=3600" : "public, max-age=31536000, immutable",
	         disposition ? "Content-Disposition: " : "", disposition ? disposition : "", disposition ? "\r\n" : "");
	/* civetweb adds Content-Type, Content-Length, Accept-Ranges, Last-Modified and ETag. */
	mg_send_mime_file2(r->conn, path, lv_media_content_type(name), headers);
	r->status = mg_get_header(r->conn, "Range") ? 206 : 200;
	return r->status;
}

/* GET /media/{task_id}/{token}/{name}: the capability URL of a result; no key needed. */
static int h_media(srv_request *r)
{
	char key[SRV_PATH_PARAM_MAX + 8], *path = NULL;
	const char *name;
	int st;
	snprintf(key, sizeof(key), "media/%s", r->path_id);
	if (lv_media_resolve(&path, r->srv->engine, key) != LV_OK)
		return srv_send_errorf(r, 404, "not_found", "no such media: /%s", key);
	name = strrchr(key, '/') + 1;
	st = send_file(r, path, name, NULL);
	lv_free(path);
	return st;
}

/* GET /v1/videos/{id}/content: the film of one of the key's tasks (a redirect when storage is remote). */
static int h_content(srv_request *r)
{
	char *path = NULL, *url = NULL, disposition[200];
	int rc = lv_media_task_film(&path, &url, r->srv->engine, r->key, r->path_id), st;
	if (rc)
		return srv_send_lv_error(r, rc);
	if (url) {
		srv_header h[1] = { { "Location", url } };
		char body[64];
		int n = snprintf(body, sizeof(body), "{\"redirect\":true}");
		st = srv_send_json(r, 302, body, (size_t)n, h, 1);
		lv_free(url);
		return st;
	}
	snprintf(disposition, sizeof(disposition), "inline; filename=\"%s.mp4\"", r->path_id);
	st = send_file(r, path, "final.mp4", disposition);
	lv_free(path);
	return st;
}

/* ---- the table ----------------------------------------------------------------------------- */

static const char *const list_query[] = { "limit", "after", "status", NULL };
static const char *const ledger_query[] = { "limit", "after", NULL };

static const route routes[] = {
	{ "GET", "/healthz", 0, NULL, h_healthz },
	{ "GET", "/v1/videos", R_AUTH, list_query, h_list },
	{ "POST", "/v1/videos", R_AUTH | R_BODY, NULL, h_create },
	{ "GET", "/v1/videos/{id}", R_AUTH, NULL, h_get },
	{ "POST", "/v1/videos/{id}/cancel", R_AUTH | R_BODY, NULL, h_cancel },
	{ "POST", "/v1/videos/{id}/compose", R_AUTH | R_BODY, NULL, h_compose },
	{ "PATCH", "/v1/videos/{id}/storyboard", R_AUTH | R_BODY, NULL, h_storyboard },
	{ "POST", "/v1/videos/{id}/approve", R_AUTH | R_BODY, NULL, h_approve },
	{ "POST", "/v1/videos/{id}/shots/{n}/regenerate", R_AUTH | R_BODY, NULL, h_regenerate },
	{ "GET", "/v1/credits", R_AUTH, NULL, h_credits },
	{ "GET", "/v1/videos/{id}/events", R_AUTH, NULL, h_events },
	{ "GET", "/v1/events/{id}/{n}", 0, NULL, h_events_token },
	{ "GET", "/v1/credits/ledger", R_AUTH, ledger_query, h_ledger },
	{ "GET", "/v1/videos/{id}/content", R_AUTH, NULL, h_content },
	{ "HEAD", "/v1/videos/{id}/content", R_AUTH, NULL, h_content },
	{ "GET", "/media/{rest}", 0, NULL, h_media },
	{ "HEAD", "/media/{rest}", 0, NULL, h_media },
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* Whether `path` matches `pattern`; the {id} segment (or, for a final {rest}, everything left) is copied
 * into `id` (cap bytes). */
static int match(const char *pattern, const char *path, char *id, size_t cap)
{
	while (*pattern && *path) {
		if (!strcmp(pattern, "{rest}")) {
			size_t n = strlen(path);
			if (n == 0 || n >= cap)
				return 0;
			memcpy(id, path, n + 1);
			return 1;
		}
		if (!strncmp(pattern, "{n}", 3)) {
			/* A second parameter is appended to the first as "/value". */
			size_t n = strcspn(path, "/"), used = strlen(id);
			if (n == 0 || used + 1 + n >= cap)
				return 0;
			id[used] = '/';
			memcpy(id + used + 1, path, n);
			id[used + 1 + n] = '\0';
			path += n;
			pattern += 3;
			continue;
		}
		if (!strncmp(pattern, "{id}", 4)) {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= cap)
				return 0;
			memcpy(id, path, n);
			id[n] = '\0';
			path += n;
			pattern += 4;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return *pattern == '\0' && *path == '\0';
}

int srv_dispatch(struct mg_connection *conn, void *cbdata)
{
	srv_request r;
	const route *hit = NULL;
	char allow[64] = "";
	const char *path, *method;
	size_t i;
	int st;

	srv_request_init(&r, cbdata, conn);
	path = r.ri->local_uri ? r.ri->local_uri : "";
	method = r.ri->request_method ? r.ri->request_method : "";
	for (i = 0; i < N_ROUTES; i++) {
		char id[SRV_PATH_PARAM_MAX];
		if (!match(routes[i].pattern, path, id, sizeof(id)))
			continue;
		if (!strcmp(routes[i].method, method)) {
			hit = &routes[i];
			r.create_body = hit->fn == h_create; /* character images: server.max_create_body_bytes */
			memcpy(r.path_id, id, sizeof(id));
			break;
		}
		if (!strstr(allow, routes[i].method)) {
			strncat(allow, allow[0] ? ", " : "", sizeof(allow) - strlen(allow) - 1);
			strncat(allow, routes[i].method, sizeof(allow) - strlen(allow) - 1);
		}
	}
	if (!hit && !allow[0]) {
		st = srv_send_errorf(&r, 404, "not_found", "no such endpoint: %s %s", method, path);
	} else if (!hit) {
		srv_header h[1] = { { "Allow", allow } };
		char message[256];
		snprintf(message, sizeof(message), "%s is not allowed on %s (allowed: %s)", method, path, allow);
		st = srv_send_error(&r, 405, "method_not_allowed", message, NULL, h, 1);
	} else if (!((hit->flags & R_AUTH) && ((st = srv_authenticate(&r)) || (st = srv_rate_limit(&r)))) &&
	           !(st = srv_parse_query(&r, hit->query)) && !((hit->flags & R_BODY) && (st = srv_read_body(&r)))) {
		st = hit->fn(&r);
	}
	srv_request_finish(&r);
	return st;
}
