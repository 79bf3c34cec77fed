#include "http.h"
#include "ratelimit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- logging -------------------------------------------------------------------------- */

int srv_log_level_from_env(void)
{
	const char *v = getenv("LV_LOG_LEVEL");
	if (!v || !*v)
		return SRV_LOG_INFO;
	if (!strcmp(v, "debug"))
		return SRV_LOG_DEBUG;
	if (!strcmp(v, "warn"))
		return SRV_LOG_WARN;
	if (!strcmp(v, "error"))
		return SRV_LOG_ERROR;
	if (!strcmp(v, "off"))
		return SRV_LOG_OFF;
	return SRV_LOG_INFO;
}

void srv_log(const srv_context *srv, int level, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	char ts[32], line[2048];
	struct timespec now;
	struct tm tm;
	va_list ap;
	if (level < srv->log_level || level < SRV_LOG_DEBUG || level > SRV_LOG_ERROR)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line so that threads do not interleave within a line. */
	fprintf(stderr, "%s %s %s\n", ts, names[level], line);
}

int64_t srv_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a growable buffer for building response bodies ------------------------------------ */

typedef struct sbuf {
	char *data;
	size_t len, cap;
	int failed;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->data, cap))) {
			b->failed = 1;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if the bytes there are not one. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0; /* overlong, or a UTF-16 surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

/* A JSON string literal.  Invalid UTF-8 (an error message may quote what a client sent)
 * becomes U+FFFD so that the response is always valid JSON and valid UTF-8. */
static void sb_json_string(sbuf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	sb_put(b, "\"", 1);
	while (*s) {
		size_t n;
		char esc[8];
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			sb_put(b, esc, 2);
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *s);
			sb_put(b, esc, 6);
			s++;
		} else if ((n = utf8_seq(s)) > 0) {
			sb_put(b, (const char *)s, n);
			s += n;
		} else {
			sb_puts(b, "\\ufffd");
			s++;
		}
	}
	sb_put(b, "\"", 1);
}

/* ---- requests ------------------------------------------------------------------------- */

static const char *method(const srv_request *r)
{
	return r->ri && r->ri->request_method ? r->ri->request_method : "";
}

static const char *path(const srv_request *r)
{
	return r->ri && r->ri->local_uri ? r->ri->local_uri : "?";
}

void srv_request_init(srv_request *r, srv_context *srv, struct mg_connection *conn)
{
	unsigned long long n = atomic_fetch_add(&srv->next_request, 1) + 1;
	memset(r, 0, sizeof(*r));
	r->srv = srv;
	r->conn = conn;
	r->ri = mg_get_request_info(conn);
	r->started_ms = srv_mono_ms();
	snprintf(r->id, sizeof(r->id), "req_%s%08llx", srv->id_prefix, n & 0xffffffffull);
}

void srv_request_finish(srv_request *r)
{
	srv_log(r->srv, SRV_LOG_INFO, "%s %s %s %d %lldms%s%s", r->id, method(r), path(r), r->status,
	        (long long)(srv_mono_ms() - r->started_ms),
	        r->key ? " key " : "", r->key ? lv_key_id(r->key) : "");
	lv_key_free(r->key);
	/* The library keeps the last error (and its details) per thread: release it with the request,
	 * so that nothing is left behind when a civetweb thread ends. */
	lv_error_clear();
	free(r->body);
	free(r->query_buf);
	r->key = NULL;
	r->body = NULL;
	r->query_buf = NULL;
}

/* Whether part of the request body may still be unread on the connection.  civetweb reads a
 * POST without Content-Length or chunked coding until the connection closes, so such a request
 * counts as having a pending body too. */
static int body_pending(const srv_request *r)
{
	const char *te = mg_get_header(r->conn, "Transfer-Encoding");
	if (r->body_consumed)
		return 0;
	if (te && *te)
		return 1;
	if (r->ri->content_length > 0)
		return 1;
	if (r->ri->content_length < 0 && strcmp(method(r), "GET") != 0 && strcmp(method(r), "HEAD") != 0)
		return 1;
	return 0;
}

/* Whether a comma-separated header value lists `token` (case-insensitive). */
static int has_token(const char *value, const char *token)
{
	size_t tl = strlen(token);
	while (*value) {
		size_t n;
		while (*value == ' ' || *value == '\t' || *value == ',')
			value++;
		n = strcspn(value, ",");
		while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
			n--;
		if (n == tl && !strncasecmp(value, token, tl))
			return 1;
		value += strcspn(value, ",");
	}
	return 0;
}

/* Whether the connection stays open after this response, as civetweb will decide it: HTTP/1.1
 * unless the client asked to close, HTTP/1.0 only with "Connection: keep-alive". */
static int client_keeps_alive(const srv_request *r)
{
	const char *c = mg_get_header(r->conn, "Connection");
	const char *v = r->ri && r->ri->http_version ? r->ri->http_version : "";
	if (c)
		return has_token(c, "keep-alive");
	return !strcmp(v, "1.1");
}

int srv_send_json(srv_request *r, int status, const char *json, size_t len, const srv_header *extra,
                  size_t n_extra)
{
	const char *reason = mg_get_response_code_text(r->conn, status);
	const char *version = r->ri && r->ri->http_version && !strcmp(r->ri->http_version, "1.0") ? "1.0" : "1.1";
	int keep = client_keeps_alive(r);
	char date[64];
	struct tm tm;
	time_t now = time(NULL);
	sbuf b = { NULL, 0, 0, 0 };
	size_t i;

	/* A body we did not read stays on the connection: close it after this response instead of
	 * letting civetweb drain (or wait for) what the client still sends. */
	if (body_pending(r)) {
		mg_disable_keep_alive(r->conn);
		keep = 0;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	/* The head is written as raw HTTP/1.x rather than through mg_response_header_*(): those
	 * refuse to start a response once anything was written, and "100 Continue" may have been. */
	{
		char line[256];
		snprintf(line, sizeof(line),
		         "HTTP/%s %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %zu\r\n"
		         "Cache-Control: no-store\r\nDate: %s\r\nConnection: %s\r\nX-Request-Id: %s\r\n",
		         version, status, reason ? reason : "", len, date, keep ? "keep-alive" : "close", r->id);
		sb_puts(&b, line);
	}
	for (i = 0; i < n_extra; i++) {
		sb_puts(&b, extra[i].name);
		sb_puts(&b, ": ");
		sb_puts(&b, extra[i].value);
		sb_puts(&b, "\r\n");
	}
	sb_puts(&b, "\r\n");
	if (len > 0 && strcmp(method(r), "HEAD") != 0)
		sb_put(&b, json, len);
	if (!b.failed)
		mg_write(r->conn, b.data, b.len);
	else
		mg_disable_keep_alive(r->conn); /* out of memory: no response, just close */
	free(b.data);
	r->status = status;
	return status;
}

/* The error body; NULL when out of memory. */
static char *error_body(const char *code, const char *message, const char *details_json, size_t *len)
{
	sbuf b = { NULL, 0, 0, 0 };
	sb_puts(&b, "{\"error\":{\"code\":");
	sb_json_string(&b, code);
	sb_puts(&b, ",\"message\":");
	sb_json_string(&b, message);
	if (details_json && *details_json) {
		sb_puts(&b, ",\"details\":");
		sb_puts(&b, details_json);
	}
	sb_puts(&b, "}}");
	if (b.failed) {
		free(b.data);
		return NULL;
	}
	*len = b.len;
	return b.data;
}

int srv_send_error(srv_request *r, int status, const char *code, const char *message, const char *details_json,
                   const srv_header *extra, size_t n_extra)
{
	static const char fallback[] = "{\"error\":{\"code\":\"internal_error\",\"message\":\"out of memory\"}}";
	size_t len = 0;
	char *body = error_body(code, message, details_json, &len);
	if (!body)
		return srv_send_json(r, 500, fallback, sizeof(fallback) - 1, NULL, 0);
	srv_send_json(r, status, body, len, extra, n_extra);
	free(body);
	return status;
}

int srv_send_errorf(srv_request *r, int status, const char *code, const char *fmt, ...)
{
	char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return srv_send_error(r, status, code, message, NULL, NULL, 0);
}

static const srv_header auth_challenge[] = { { "WWW-Authenticate", "Bearer" } };

int srv_send_lv_error(srv_request *r, int rc)
{
	const lv_error *e = lv_error_last();
	const char *message = e->status == rc && e->message && *e->message ? e->message : lv_strerror(rc);
	const char *details = e->status == rc ? e->details_json : NULL;
	int status;

	switch (rc) {
	case LV_EINVALID:
		status = 400;
		break;
	case LV_EAUTH:
		return srv_send_error(r, 401, "invalid_api_key", message, NULL, auth_challenge, 1);
	case LV_ECREDITS:
		status = 402;
		break;
	case LV_ENOTFOUND:
		status = 404;
		break;
	case LV_ENOTCOMPOSABLE:
	case LV_ENOSEGMENTS:
	case LV_ESEGMENTS:
		status = 409;
		break;
	case LV_EIDEMPOTENCY:
		status = 422;
		break;
	case LV_ERATELIMIT: {
		static const srv_header retry[] = { { "Retry-After", "1" } };
		return srv_send_error(r, 429, "rate_limited", message, details, retry, 1);
	}
	default:
		/* Never send internals (store messages, paths) to a client: log them with the request id. */
		srv_log(r->srv, SRV_LOG_ERROR, "%s %s %s: %s (status %d): %s", r->id, method(r), path(r),
		        lv_strerror(rc), rc, message);
		return srv_send_errorf(r, 500, "internal_error",
		                       "internal server error; quote request id %s when reporting it", r->id);
	}
	return srv_send_error(r, status, lv_status_code(rc), message, details, NULL, 0);
}

/* ---- authentication and rate limiting -------------------------------------------------- */

int srv_authenticate(srv_request *r)
{
	const char *h = mg_get_header(r->conn, "Authorization");
	char token[128];
	size_t n;
	int rc;

	if (!h || !*h)
		return srv_send_error(r, 401, "invalid_api_key",
		                      "Authorization: missing; send the header \"Authorization: Bearer sk-...\"", NULL,
		                      auth_challenge, 1);
	while (*h == ' ' || *h == '\t')
		h++;
	/* The scheme name is case-insensitive (RFC 9110 §11.1). */
	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t' && h[6] != '\0'))
		return srv_send_error(r, 401, "invalid_api_key", "Authorization: the Bearer scheme is required", NULL,
		                      auth_challenge, 1);
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(token))
		return srv_send_error(r, 401, "invalid_api_key",
		                      "Authorization: the API key is malformed: expected sk- followed by 40 letters "
		                      "and digits",
		                      NULL, auth_challenge, 1);
	memcpy(token, h, n);
	token[n] = '\0';
	rc = lv_key_authenticate(&r->key, r->srv->engine, token);
	memset(token, 0, sizeof(token));
	if (rc == LV_EAUTH) {
		char message[512];
		snprintf(message, sizeof(message), "Authorization: %s", lv_error_last()->message);
		return srv_send_error(r, 401, "invalid_api_key", message, NULL, auth_challenge, 1);
	}
	if (rc)
		return srv_send_lv_error(r, rc);
	return 0;
}

int srv_rate_limit(srv_request *r)
{
	char retry[16];
	srv_header h[1];
	int wait;
	if (!r->srv->ratelimit || !r->key)
		return 0;
	wait = srv_ratelimit_take(r->srv->ratelimit, lv_key_id(r->key), srv_mono_ms());
	if (wait == 0)
		return 0;
	snprintf(retry, sizeof(retry), "%d", wait);
	h[0].name = "Retry-After";
	h[0].value = retry;
	{
		char message[256];
		snprintf(message, sizeof(message),
		         "rate limit: at most %d requests per minute per API key; retry in %d s",
		         r->srv->rate_limit_per_minute, wait);
		return srv_send_error(r, 429, "rate_limited", message, NULL, h, 1);
	}
}

/* ---- query strings ---------------------------------------------------------------------- */

int srv_parse_query(srv_request *r, const char *const *allowed)
{
	const char *q = r->ri->query_string;
	size_t qlen, used = 0;
	const char *p, *amp;

	if (!q || !*q)
		return 0;
	qlen = strlen(q);
	/* Decoded text is never longer than the encoded text: one buffer holds every name and value. */
	if (!(r->query_buf = malloc(2 * qlen + 2)))
		return srv_send_lv_error(r, LV_ENOMEM);
	for (p = q; p; p = amp ? amp + 1 : NULL) {
		const char *eq;
		size_t len, nlen, vlen;
		char *name = r->query_buf + used, *value;
		const char *const *a;
		size_t i;
		int dn, dv;

		amp = strchr(p, '&');
		len = amp ? (size_t)(amp - p) : strlen(p);
		if (len == 0)
			continue; /* "a=1&&b=2" or a trailing '&' */
		eq = memchr(p, '=', len);
		nlen = eq ? (size_t)(eq - p) : len;
		vlen = eq ? len - nlen - 1 : 0;
		dn = mg_url_decode(p, (int)nlen, name, (int)(nlen + 1), 1);
		value = name + (dn >= 0 ? dn : 0) + 1;
		dv = mg_url_decode(eq ? eq + 1 : "", (int)vlen, value, (int)(vlen + 1), 1);
		if (dn <= 0 || dv < 0 || strlen(name) != (size_t)dn || strlen(value) != (size_t)dv)
			return srv_send_error(r, 400, "invalid_request", "query: malformed query string", NULL, NULL, 0);
		used += (size_t)dn + 1 + (size_t)dv + 1;
		for (a = allowed; a && *a; a++)
			if (!strcmp(*a, name))
				break;
		if (!a || !*a) {
			char list[256] = "";
			for (a = allowed; a && *a; a++) {
				strncat(list, a == allowed ? "" : ", ", sizeof(list) - strlen(list) - 1);
				strncat(list, *a, sizeof(list) - strlen(list) - 1);
			}
			return srv_send_errorf(r, 400, "invalid_request", "%s: unknown query parameter (allowed: %s)",
			                       name, list[0] ? list : "none");
		}
		for (i = 0; i < r->n_params; i++)
			if (!strcmp(r->params[i].name, name))
				return srv_send_errorf(r, 400, "invalid_request", "%s: given more than once", name);
		if (r->n_params == SRV_MAX_PARAMS)
			return srv_send_error(r, 400, "invalid_request", "query: too many parameters", NULL, NULL, 0);
		r->params[r->n_params].name = name;
		r->params[r->n_params].value = value;
		r->n_params++;
	}
	return 0;
}

const char *srv_query_param(const srv_request *r, const char *name)
{
	size_t i;
	for (i = 0; i < r->n_params; i++)
		if (!strcmp(r->params[i].name, name))
			return r->params[i].value;
	return NULL;
}

/* ---- request bodies ----------------------------------------------------------------------- */

/* Content-Type, when given, must be application/json, optionally with charset=utf-8. */
static int check_content_type(srv_request *r)
{
	const char *ct = mg_get_header(r->conn, "Content-Type"), *semi, *p;
	size_t n;
	if (!ct)
		return 0;
	semi = strchr(ct, ';');
	n = semi ? (size_t)(semi - ct) : strlen(ct);
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	while (n > 0 && (*ct == ' ' || *ct == '\t')) {
		ct++;
		n--;
	}
	if (n != 16 || strncasecmp(ct, "application/json", 16) != 0)
		goto bad;
	for (p = semi; p && *p;) {
		const char *next = strchr(p + 1, ';');
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncasecmp(p, "charset=", 8)) {
			const char *v = p + 8;
			if (*v == '"')
				v++;
			if (strncasecmp(v, "utf-8", 5) != 0)
				goto bad;
		}
		p = next;
	}
	return 0;
bad:
	{
		const char *full = mg_get_header(r->conn, "Content-Type");
		char shown[128];
		snprintf(shown, sizeof(shown), "%s", full);
		return srv_send_errorf(r, 400, "invalid_request",
		                       "Content-Type: must be application/json (got \"%s\")", shown);
	}
}

static int too_large(srv_request *r)
{
	return srv_send_errorf(r, 413, "request_too_large", "body: larger than the limit of %lld bytes (server.%s)",
	                       (long long)(r->create_body ? r->srv->max_create_body_bytes : r->srv->max_body_bytes),
	                       r->create_body ? "max_create_body_bytes" : "max_body_bytes");
}

int srv_read_body(srv_request *r)
{
	const char *te = mg_get_header(r->conn, "Transfer-Encoding");
	const char *expect = mg_get_header(r->conn, "Expect");
	long long cl = r->ri->content_length;
	int64_t limit = r->create_body ? r->srv->max_create_body_bytes : r->srv->max_body_bytes;
	size_t cap, len = 0;
	int chunked = te && *te, st;

	if ((st = check_content_type(r)))
		return st;
	if (chunked && strcasecmp(te, "chunked") != 0)
		return srv_send_errorf(r, 400, "invalid_request", "Transfer-Encoding: only chunked is supported");
	if (!chunked && cl > limit)
		return too_large(r); /* answered without reading a byte of it */
	if (!chunked && cl <= 0) {
		/* No body.  (Without Content-Length, civetweb would read until the connection closes;
		 * the response then closes the connection, see body_pending().) */
		if (!(r->body = calloc(1, 1)))
			return srv_send_lv_error(r, LV_ENOMEM);
		r->body_consumed = cl == 0;
		return 0;
	}
	/* The client may wait for this before sending the body (civetweb does not send it). */
	if (expect && !strcasecmp(expect, "100-continue") && !strcmp(r->ri->http_version, "1.1"))
		mg_printf(r->conn, "HTTP/1.1 100 Continue\r\n\r\n");
	cap = chunked ? (limit < 4096 ? (size_t)limit + 1 : 4096) : (size_t)cl;
	if (!(r->body = malloc(cap + 1)))
		return srv_send_lv_error(r, LV_ENOMEM);
	for (;;) {
		int n;
		if (len == cap) {
			char *p;
			if (!chunked)
				break;
			if ((int64_t)len > limit)
				return too_large(r);
			cap = cap * 2 > (size_t)limit + 1 ? (size_t)limit + 1 : cap * 2;
			if (!(p = realloc(r->body, cap + 1)))
				return srv_send_lv_error(r, LV_ENOMEM);
			r->body = p;
		}
		n = mg_read(r->conn, r->body + len, cap - len);
		if (n < 0)
			return srv_send_error(r, 400, "invalid_request", "body: the request body could not be read",
			                      NULL, NULL, 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!chunked && len < (size_t)cl)
		return srv_send_errorf(r, 400, "invalid_request",
		                       "body: ended after %zu of the %lld bytes of Content-Length", len, cl);
	if ((int64_t)len > limit)
		return too_large(r);
	r->body[len] = '\0';
	r->body_len = len;
	r->body_consumed = 1;
	return 0;
}

/* ---- civetweb callbacks ---------------------------------------------------------------------- */

int srv_civetweb_http_error(struct mg_connection *conn, int status, const char *errmsg)
{
	srv_context *srv = mg_get_user_data(mg_get_context(conn));
	const char *code;
	srv_request r;
	char message[256];
	int st;

	if (!srv || status < 400)
		return 1; /* civetweb's own handling */
	switch (status) {
	case 404:
		code = "not_found";
		break;
	case 405:
		code = "method_not_allowed";
		break;
	case 413:
	case 431:
		code = "request_too_large";
		break;
	default:
		/* 505 (HTTP version) and 501 (unknown coding) are the client's; other 5xx are ours. */
		code = status >= 500 && status != 501 && status != 505 ? "internal_error" : "invalid_request";
	}
	snprintf(message, sizeof(message), "request: %s", errmsg && *errmsg ? errmsg : "could not be handled");
	/* Strip civetweb's trailing newline. */
	while (strlen(message) > 0 && (message[strlen(message) - 1] == '\n' || message[strlen(message) - 1] == '\r'))
		message[strlen(message) - 1] = '\0';
	srv_request_init(&r, srv, conn);
	/* A request civetweb rejected itself is not read any further. */
	mg_disable_keep_alive(conn);
	st = srv_send_error(&r, status, code, message, NULL, NULL, 0);
	srv_log(srv, SRV_LOG_INFO, "%s rejected by the HTTP layer: %d %s", r.id, st, message);
	free(r.body);
	free(r.query_buf);
	return 0;
}

int srv_civetweb_log_message(const struct mg_connection *conn, const char *message)
{
	srv_context *srv = conn ? mg_get_user_data(mg_get_context(conn)) : NULL;
	if (srv)
		srv_log(srv, SRV_LOG_WARN, "http: %s", message);
	else
		fprintf(stderr, "http: %s\n", message);
	return 1;
}
