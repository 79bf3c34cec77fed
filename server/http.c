#include "http.h"
#include "edge.h"
#include "ratelimit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
	char line[2048], rid[64] = "";
	const char *msg = line;
	va_list ap;
	if (level < srv->log_level || level < SRV_LOG_DEBUG || level > SRV_LOG_ERROR)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Lines about a request start with its id: in JSON lines it goes to "request_id". */
	if (lv_log_get_format() == LV_LOG_FORMAT_JSON && !strncmp(line, "req_", 4)) {
		size_t n = strcspn(line, " :");
		if (n < sizeof(rid)) {
			memcpy(rid, line, n);
			rid[n] = '\0';
			msg = line + n + strspn(line + n, " :");
		}
	}
	lv_log_write((lv_log_level)level, rid[0] ? rid : NULL, msg, NULL);
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
	return r->method ? r->method : "";
}

static const char *path(const srv_request *r)
{
	return r->path ? r->path : "?";
}

const char *srv_header_value(const srv_request *r, const char *name)
{
	size_t i;
	if (r->conn)
		return mg_get_header(r->conn, name);
	for (i = 0; i < r->n_fields; i++)
		if (!strcasecmp(r->fields[i].name, name))
			return r->fields[i].value;
	return NULL;
}

int srv_write(srv_request *r, const void *data, size_t len)
{
	if (r->conn)
		return mg_write(r->conn, data, len) > 0 || len == 0 ? 0 : -1;
	if (r->out_failed)
		return -1;
	if (r->out_len + len > r->out_cap) {
		size_t cap = r->out_cap ? r->out_cap : 1024;
		char *p;
		while (cap < r->out_len + len)
			cap *= 2;
		if (!(p = realloc(r->out, cap))) {
			r->out_failed = 1;
			return -1;
		}
		r->out = p;
		r->out_cap = cap;
	}
	memcpy(r->out + r->out_len, data, len);
	r->out_len += len;
	return 0;
}

void srv_close_after(srv_request *r)
{
	if (r->conn)
		mg_disable_keep_alive(r->conn);
	r->close_after = 1;
}

void srv_request_id(srv_context *srv, char *out, size_t cap)
{
	unsigned long long n = atomic_fetch_add(&srv->next_request, 1) + 1;
	snprintf(out, cap, "req_%s%08llx", srv->id_prefix, n & 0xffffffffull);
}

int srv_check_ready(srv_context *srv, char *msg, size_t cap)
{
	lv_key *k = NULL;
	const char *type = lv_engine_setting(srv->engine, "storage.type");
	/* A lookup of a key that cannot exist: a real read of the store, answered "not found". */
	int rc = lv_key_lookup(&k, srv->engine, "key_0");
	lv_key_free(k);
	if (rc != LV_OK && rc != LV_ENOKEY && rc != LV_ENOTFOUND) {
		snprintf(msg, cap, "store: %s", lv_strerror(rc));
		lv_error_clear();
		return -1;
	}
	lv_error_clear();
	/* The media storage: a writable directory, or an S3 bucket that answers and accepts the
	 * credentials (one HEAD of the bucket).  The probe's answer names neither path nor endpoint. */
	if (lv_engine_check_storage(srv->engine) != LV_OK) {
		snprintf(msg, cap, "%s", type && !strcmp(type, "s3") ? "storage: the S3 bucket does not answer"
		                                                     : "storage: the media directory is not writable");
		lv_error_clear();
		return -1;
	}
	msg[0] = '\0';
	return 0;
}

/* The client's address: the edge's peer, or what Forwarded / X-Forwarded-For report when the peer is a
 * trusted proxy. */
static void client_address(srv_request *r)
{
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	int trusted = 0;
	snprintf(r->client, sizeof(r->client), "%s", ri && ri->remote_addr[0] ? ri->remote_addr : "-");
	if (!ri || !r->srv->edge || srv_edge_peer(r->srv->edge, ri->remote_port, r->client, sizeof(r->client), &trusted))
		return;
	if (trusted)
		srv_client_behind_proxy(r);
}

void srv_client_behind_proxy(srv_request *r)
{
	/* Behind a trusted proxy the client is what it reports in Forwarded or X-Forwarded-For (the
	 * last entry: those further left were written by the client and prove nothing). */
	(void)srv_forwarded_client(srv_header_value(r, "Forwarded"), srv_header_value(r, "X-Forwarded-For"), r->client,
	                           sizeof(r->client));
}

int srv_cors_allowed(const srv_context *srv, const char *origin)
{
	const char *p = srv->cors_origins;
	size_t n = origin ? strlen(origin) : 0;
	if (!n || !p)
		return 0;
	while (*p) {
		size_t l = strcspn(p, ",");
		if (l == n && !memcmp(p, origin, n))
			return 1;
		p += l;
		if (*p == ',')
			p++;
	}
	return 0;
}

void srv_add_header(srv_request *r, const char *name, const char *value)
{
	size_t used = strlen(r->always);
	snprintf(r->always + used, sizeof(r->always) - used, "%s: %s\r\n", name, value);
}

void srv_request_start(srv_request *r)
{
	/* A client's own request id is kept (and echoed) when it is a plain token. */
	const char *given = srv_header_value(r, "X-Request-Id");
	r->started_ms = srv_mono_ms();
	if (given && srv_request_id_valid(given, strlen(given)))
		snprintf(r->id, sizeof(r->id), "%s", given);
	else
		srv_request_id(r->srv, r->id, sizeof(r->id));
}

void srv_request_init(srv_request *r, srv_context *srv, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	memset(r, 0, sizeof(*r));
	r->srv = srv;
	r->conn = conn;
	r->method = ri && ri->request_method ? ri->request_method : "";
	r->path = ri && ri->local_uri ? ri->local_uri : "";
	r->query = ri ? ri->query_string : NULL;
	r->version = ri && ri->http_version ? ri->http_version : "1.1";
	r->content_length = ri ? ri->content_length : -1;
	srv_request_start(r);
	client_address(r);
}

const int srv_latency_bounds_ms[SRV_LATENCY_BUCKETS] = { 5, 10, 25, 50, 100, 250, 1000, 5000 };

static void count_request(srv_metrics *m, int status, int64_t ms)
{
	int b;
	atomic_fetch_add(&m->requests[status >= 100 && status < 600 ? status / 100 : 0], 1);
	for (b = 0; b < SRV_LATENCY_BUCKETS && ms > srv_latency_bounds_ms[b]; b++)
		;
	atomic_fetch_add(&m->latency[b], 1);
	atomic_fetch_add(&m->latency_ms_sum, (unsigned long long)(ms > 0 ? ms : 0));
	if (status == 429)
		atomic_fetch_add(&m->rate_limited, 1);
}

void srv_request_finish(srv_request *r)
{
	count_request(&r->srv->metrics, r->status, srv_mono_ms() - r->started_ms);
	if (lv_log_get_format() == LV_LOG_FORMAT_JSON && r->srv->log_level <= SRV_LOG_INFO) {
		/* The access line as fields: {"method","path","status","ms","client"[,"key_id"]}. */
		sbuf b = { NULL, 0, 0, 0 };
		char num[64], msg[600];
		sb_puts(&b, "\"method\":");
		sb_json_string(&b, method(r));
		sb_puts(&b, ",\"path\":");
		sb_json_string(&b, path(r));
		snprintf(num, sizeof(num), ",\"status\":%d,\"ms\":%lld,\"client\":", r->status,
		         (long long)(srv_mono_ms() - r->started_ms));
		sb_puts(&b, num);
		sb_json_string(&b, r->client);
		if (r->key) {
			sb_puts(&b, ",\"key_id\":");
			sb_json_string(&b, lv_key_id(r->key));
		}
		snprintf(msg, sizeof(msg), "%s %s %d", method(r), path(r), r->status);
		lv_log_write(LV_LOG_INFO, r->id, msg, b.failed ? NULL : b.data);
		free(b.data);
	} else {
		srv_log(r->srv, SRV_LOG_INFO, "%s %s %s %d %lldms %s%s%s", r->id, method(r), path(r), r->status,
		        (long long)(srv_mono_ms() - r->started_ms), r->client, r->key ? " key " : "",
		        r->key ? lv_key_id(r->key) : "");
	}
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
	const char *te = srv_header_value(r, "Transfer-Encoding");
	if (r->body_consumed)
		return 0;
	if (te && *te)
		return 1;
	if (r->content_length > 0)
		return 1;
	if (r->content_length < 0 && strcmp(method(r), "GET") != 0 && strcmp(method(r), "HEAD") != 0 &&
	    strcmp(method(r), "OPTIONS") != 0)
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
	const char *c = srv_header_value(r, "Connection");
	const char *v = r->version ? r->version : "";
	if (c)
		return has_token(c, "keep-alive");
	return !strcmp(v, "1.1");
}

/* The status line and headers of a response, in b (without the final empty line). */
static int build_head(srv_request *r, sbuf *b, int status, const char *content_type, long long length,
                      const char *cache_control, const srv_header *extra, size_t n_extra)
{
	const char *reason = mg_get_response_code_text(r->conn, status);
	const char *version = r->version && !strcmp(r->version, "1.0") ? "1.0" : "1.1";
	int keep = client_keeps_alive(r) && !r->close_after;
	char date[64], line[512];
	struct tm tm;
	time_t now = time(NULL);
	size_t i;

	/* A body we did not read stays on the connection: close it after this response instead of
	 * letting civetweb drain (or wait for) what the client still sends. */
	if (body_pending(r)) {
		srv_close_after(r);
		keep = 0;
	}
	if (!keep)
		r->close_after = 1;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(line, sizeof(line), "HTTP/%s %d %s\r\n", version, status, reason ? reason : "");
	sb_puts(b, line);
	if (content_type) {
		sb_puts(b, "Content-Type: ");
		sb_puts(b, content_type);
		sb_puts(b, "\r\n");
	}
	if (length >= 0) {
		snprintf(line, sizeof(line), "Content-Length: %lld\r\n", length);
		sb_puts(b, line);
	}
	snprintf(line, sizeof(line), "Cache-Control: %s\r\nDate: %s\r\nConnection: %s\r\nX-Request-Id: %s\r\n",
	         cache_control, date, keep ? "keep-alive" : "close", r->id);
	sb_puts(b, line);
	sb_puts(b, r->always);
	for (i = 0; i < n_extra; i++) {
		sb_puts(b, extra[i].name);
		sb_puts(b, ": ");
		sb_puts(b, extra[i].value);
		sb_puts(b, "\r\n");
	}
	return keep;
}

static int send_body(srv_request *r, int status, const char *content_type, const char *body, size_t len,
                     const srv_header *extra, size_t n_extra)
{
	sbuf b = { NULL, 0, 0, 0 };
	int empty = status == 204 || status == 304;
	/* The head is written as raw HTTP/1.x rather than through mg_response_header_*(): those
	 * refuse to start a response once anything was written, and "100 Continue" may have been. */
	build_head(r, &b, status, empty ? NULL : content_type, empty ? -1 : (long long)len, "no-store", extra, n_extra);
	sb_puts(&b, "\r\n");
	if (len > 0 && strcmp(method(r), "HEAD") != 0 && !empty)
		sb_put(&b, body, len);
	if (!b.failed)
		(void)srv_write(r, b.data, b.len);
	else
		srv_close_after(r); /* out of memory: no response, just close */
	free(b.data);
	r->status = status;
	return status;
}

int srv_send_json(srv_request *r, int status, const char *json, size_t len, const srv_header *extra,
                  size_t n_extra)
{
	return send_body(r, status, "application/json; charset=utf-8", json, len, extra, n_extra);
}

int srv_send_text(srv_request *r, int status, const char *text, size_t len, const char *content_type)
{
	return send_body(r, status, content_type, text, len, NULL, 0);
}

/* ---- files ------------------------------------------------------------------------------------ */

int srv_send_file(srv_request *r, const char *path, const char *content_type, const char *cache_control,
                  const char *disposition)
{
	const char *range = srv_header_value(r, "Range"), *if_range = srv_header_value(r, "If-Range");
	const char *inm = srv_header_value(r, "If-None-Match");
	char etag[64], modified[64], crange[96];
	srv_header h[6];
	size_t nh = 0;
	long long first = 0, last = -1, size;
	struct stat st;
	struct tm tm;
	sbuf b = { NULL, 0, 0, 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC), status = 200, head_only = !strcmp(method(r), "HEAD");

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return srv_send_errorf(r, 404, "not_found", "no such media");
	}
	size = (long long)st.st_size;
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_mtime, (unsigned long long)size);
	gmtime_r(&st.st_mtime, &tm);
	strftime(modified, sizeof(modified), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	h[nh].name = "ETag";
	h[nh++].value = etag;
	h[nh].name = "Last-Modified";
	h[nh++].value = modified;
	h[nh].name = "Accept-Ranges";
	h[nh++].value = "bytes";
	if (disposition) {
		h[nh].name = "Content-Disposition";
		h[nh++].value = disposition;
	}
	if (inm && (strstr(inm, etag) || !strcmp(inm, "*"))) {
		close(fd);
		build_head(r, &b, 304, NULL, -1, cache_control, h, nh);
		status = 304;
		goto send_head;
	}
	/* If-Range: the range applies only to the representation the client already has part of. */
	if (range && if_range && strcmp(if_range, etag) != 0 && strcmp(if_range, modified) != 0)
		range = NULL;
	if (range) {
		int64_t f = 0, l = -1;
		int pr = srv_byte_range(range, size, &f, &l);
		first = f;
		last = l;
		if (pr < 0) {
			char message[128];
			close(fd);
			snprintf(crange, sizeof(crange), "bytes */%lld", size);
			h[nh].name = "Content-Range";
			h[nh++].value = crange;
			snprintf(message, sizeof(message), "Range: no byte of the range is in the file (%lld bytes)", size);
			return srv_send_error(r, 416, "range_not_satisfiable", message, NULL, h, nh);
		}
		if (pr > 0) {
			status = 206;
			snprintf(crange, sizeof(crange), "bytes %lld-%lld/%lld", first, last, size);
			h[nh].name = "Content-Range";
			h[nh++].value = crange;
		}
	}
	if (status == 200) {
		first = 0;
		last = size - 1;
	}
	build_head(r, &b, status, content_type, last - first + 1, cache_control, h, nh);
send_head:
	sb_puts(&b, "\r\n");
	if (b.failed || srv_write(r, b.data, b.len) != 0) {
		free(b.data);
		if (status != 304)
			close(fd);
		srv_close_after(r);
		r->status = status;
		return status;
	}
	free(b.data);
	if (status != 304) {
		if (!head_only) {
			char buf[65536];
			long long at = first;
			while (at <= last) {
				size_t want = (size_t)(last - at + 1 < (long long)sizeof(buf) ? last - at + 1 : (long long)sizeof(buf));
				ssize_t n = pread(fd, buf, want, (off_t)at);
				if (n <= 0 || srv_write(r, buf, (size_t)n) != 0) {
					/* The file shrank or the client left: the length sent is now wrong, close. */
					srv_close_after(r);
					break;
				}
				at += n;
			}
		}
		close(fd);
	}
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
	return srv_send_lv_error_as(r, rc, e->status == rc ? e->message : NULL, e->status == rc ? e->details_json : NULL);
}

int srv_send_lv_error_as(srv_request *r, int rc, const char *error_message, const char *details)
{
	const char *message = error_message && *error_message ? error_message : lv_strerror(rc);
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
	case LV_EGONE:
		status = 410;
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

int srv_bearer_token(srv_request *r, char *token, size_t cap)
{
	const char *h = srv_header_value(r, "Authorization");
	size_t n;

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
	if (n == 0 || n >= cap)
		return srv_send_error(r, 401, "invalid_api_key",
		                      "Authorization: the API key is malformed: expected sk- followed by 40 letters "
		                      "and digits",
		                      NULL, auth_challenge, 1);
	memcpy(token, h, n);
	token[n] = '\0';
	return 0;
}

int srv_auth_failed(srv_request *r, int rc)
{
	if (rc == LV_EAUTH) {
		char message[512];
		snprintf(message, sizeof(message), "Authorization: %s", lv_error_last()->message);
		return srv_send_error(r, 401, "invalid_api_key", message, NULL, auth_challenge, 1);
	}
	return srv_send_lv_error(r, rc);
}

int srv_authenticate(srv_request *r)
{
	char token[128];
	int rc;

	if ((rc = srv_bearer_token(r, token, sizeof(token))))
		return rc;
	rc = lv_key_authenticate(&r->key, r->srv->engine, token);
	memset(token, 0, sizeof(token));
	return rc ? srv_auth_failed(r, rc) : 0;
}

int srv_rate_limit(srv_request *r)
{
	char retry[16];
	srv_header h[1];
	int wait;
	int remaining = 0, reset = 0;
	char policy[64], state[64];
	int64_t count = 0, left_ms = 0;
	if (!r->srv->ratelimit || !r->key)
		return 0;
	/* On a store shared by many processes (PostgreSQL) the counters are the store's, so that every
	 * process applies one limit per key: a fixed one-minute window by the database's clock.  Else (or
	 * when the store cannot count just now) this process's own token bucket. */
	if (lv_key_rate_hit(r->srv->engine, lv_key_id(r->key), 60000, &count, &left_ms) == LV_OK) {
		int limit = r->srv->rate_limit_per_minute;
		reset = (int)((left_ms + 999) / 1000);
		if (reset < 1)
			reset = 1;
		remaining = count >= limit ? 0 : limit - (int)count;
		wait = count > limit ? reset : 0;
	} else {
		wait = srv_ratelimit_take(r->srv->ratelimit, lv_key_id(r->key), srv_mono_ms(), &remaining, &reset);
	}
	/* The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers): the policy (quota q per
	 * window w seconds) and the state (r left, t seconds until the quota is whole again). */
	snprintf(policy, sizeof(policy), "\"per-key\";q=%d;w=60", r->srv->rate_limit_per_minute);
	snprintf(state, sizeof(state), "\"per-key\";r=%d;t=%d", remaining, reset);
	srv_add_header(r, "RateLimit-Policy", policy);
	srv_add_header(r, "RateLimit", state);
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
	const char *q = r->query;
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
	const char *ct = srv_header_value(r, "Content-Type"), *semi, *p;
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
		const char *full = srv_header_value(r, "Content-Type");
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
	const char *te = srv_header_value(r, "Transfer-Encoding");
	const char *expect = srv_header_value(r, "Expect");
	long long cl = r->content_length;
	int64_t limit = r->create_body ? r->srv->max_create_body_bytes : r->srv->max_body_bytes, deadline;
	size_t cap, len = 0;
	int chunked = te && *te, st;

	if (!r->conn) {
		/* The edge serves only requests without a body. */
		if (!(r->body = calloc(1, 1)))
			return srv_send_lv_error(r, LV_ENOMEM);
		r->body_consumed = 1;
		return 0;
	}
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
	if (expect && !strcasecmp(expect, "100-continue") && !strcmp(r->version, "1.1"))
		mg_printf(r->conn, "HTTP/1.1 100 Continue\r\n\r\n");
	cap = chunked ? (limit < 4096 ? (size_t)limit + 1 : 4096) : (size_t)cl;
	if (!(r->body = malloc(cap + 1)))
		return srv_send_lv_error(r, LV_ENOMEM);
	deadline = srv_mono_ms() + r->srv->body_timeout_ms;
	for (;;) {
		int n;
		/* The whole body has one deadline, however it trickles in (one read waits at most
		 * CivetWeb's request_timeout_ms, which is the same value). */
		if (r->srv->body_timeout_ms > 0 && srv_mono_ms() > deadline)
			return srv_send_errorf(r, 408, "invalid_request",
			                       "body: not received within %d ms (server.body_timeout_ms)",
			                       r->srv->body_timeout_ms);
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
	{
		/* JSON text never holds a NUL byte; the library would see the text end there. */
		const char *nul = memchr(r->body, '\0', len);
		if (nul)
			return srv_send_errorf(r, 400, "invalid_request", "body: NUL byte at byte %zu; not JSON text",
			                       (size_t)(nul - r->body));
	}
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
