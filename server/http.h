/*
 * lvserver: the request helpers shared by the routes.
 *
 * Everything here is about HTTP (reading a request, writing a JSON response,
 * authentication, rate limiting, query strings); the business rules are in
 * the library.  Helpers that can end a request follow one convention: they
 * return 0 to go on, or the HTTP status of the response they have already
 * sent (so a route can `return` it as it is).
 */
#ifndef LVSERVER_HTTP_H
#define LVSERVER_HTTP_H

#include "parse.h"

#include <civetweb.h>
#include <longvideo.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum { SRV_LOG_DEBUG = 0, SRV_LOG_INFO, SRV_LOG_WARN, SRV_LOG_ERROR, SRV_LOG_OFF };

#if defined(__GNUC__)
#  define SRV_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define SRV_PRINTF(a, b)
#endif

typedef struct srv_ratelimit srv_ratelimit;
typedef struct srv_edge srv_edge;

/* Request counters for GET /metrics (Prometheus text format). */
#define SRV_LATENCY_BUCKETS 8
typedef struct srv_metrics {
	atomic_ullong requests[6];                          /* by status class: 1xx..5xx, [0] other */
	atomic_ullong latency[SRV_LATENCY_BUCKETS + 1];     /* cumulative-less counts per bucket, +Inf last */
	atomic_ullong latency_ms_sum;
	atomic_ullong rate_limited;
	atomic_ullong edge_reads;                           /* requests the edge answered (srv_serve_edge) */
} srv_metrics;

#define SRV_MAX_STREAM_KEYS 1024 /* keys with streams open at once (>= server.max_event_streams) */
#define SRV_STREAMS_PER_KEY 4

/* The server's one context object: everything a request needs, shared by the civetweb threads. */
typedef struct srv_context {
	lv_engine *engine;
	lv_workers *workers;         /* pipeline workers and webhook delivery in this process */
	int64_t max_body_bytes;      /* server.max_body_bytes */
	int64_t max_create_body_bytes; /* server.max_create_body_bytes (POST /v1/videos) */
	int rate_limit_per_minute;   /* server.rate_limit_per_minute (0: off) */
	srv_ratelimit *ratelimit;    /* NULL when off */
	int body_timeout_ms;         /* server.body_timeout_ms: a whole request body */
	srv_edge *edge;              /* the accepting edge (client addresses), NULL in tests of parts */
	const char *cors_origins;    /* server.cors_origins, comma-separated ("" for none) */
	int log_level;               /* SRV_LOG_*, from $LV_LOG_LEVEL */
	char id_prefix[9];           /* random per process: request ids are unique across restarts */
	atomic_ullong next_request;  /* request counter */
	srv_metrics metrics;
	/* live progress streams: each holds a request thread while open, so they are counted */
	atomic_int stopping;         /* the server is shutting down: streams end */
	pthread_mutex_t streams_mu;
	int max_streams;             /* at most this many open at once (half the request threads) */
	int streams_open;
	struct {
		char key_id[48];
		int n;
	} streams[SRV_MAX_STREAM_KEYS];
} srv_context;

typedef struct srv_header {
	const char *name;
	const char *value;
} srv_header;

typedef struct srv_param {
	const char *name;  /* URL-decoded, owned by the request */
	const char *value;
} srv_param;

#define SRV_MAX_PARAMS 16
#define SRV_PATH_PARAM_MAX 128

/* One request being handled.  Lives on the handler's stack.  It arrived either through CivetWeb
 * (`conn`) or whole at the edge, which answers some reads itself (srv_serve_edge): then its header
 * fields are `fields` and the response is collected in `out` for the edge to send. */
typedef struct srv_request {
	srv_context *srv;
	struct mg_connection *conn;           /* NULL when the edge serves the request */
	const char *method;                   /* "GET", ... */
	const char *path;                     /* the decoded path, without the query */
	const char *query;                    /* the raw query string (after '?'), or NULL */
	const char *version;                  /* "1.1" or "1.0" */
	long long content_length;             /* -1 when the head gives none */
	const srv_head_field *fields;         /* the edge's request: its header fields */
	size_t n_fields;
	char *out;                            /* the edge's request: the response, head and body */
	size_t out_len, out_cap;
	int out_failed;                       /* out of memory while writing `out` */
	int close_after;                      /* the edge's request: close the connection after it */
	char id[72];                          /* X-Request-Id: the client's (validated) or "req_..." */
	char client[64];                      /* the client's address (X-Forwarded-For behind a trusted proxy) */
	int64_t started_ms;                   /* monotonic */
	char path_id[SRV_PATH_PARAM_MAX];     /* the {id} segment of the route, if any */
	char *query_buf;                      /* decoded query parameters live here */
	srv_param params[SRV_MAX_PARAMS];
	size_t n_params;
	lv_key *key;                          /* after srv_authenticate() */
	char *body;                           /* after srv_read_body(): NUL-terminated */
	size_t body_len;
	int body_consumed;                    /* the request body was read to its end */
	int create_body;                      /* the body limit is server.max_create_body_bytes */
	int status;                           /* status of the response sent, 0 before */
	char always[768];                     /* header lines sent with every response (CORS, RateLimit) */
} srv_request;

/* A log line on stderr: "2026-11-24T08:00:41Z info message". */
void srv_log(const srv_context *srv, int level, const char *fmt, ...) SRV_PRINTF(3, 4);
/* $LV_LOG_LEVEL (debug|info|warn|error|off; default info). */
int srv_log_level_from_env(void);
/* Monotonic milliseconds. */
int64_t srv_mono_ms(void);

/* A new request id ("req_" + process prefix + counter) into out. */
void srv_request_id(srv_context *srv, char *out, size_t cap);
/* Whether this process can serve: the store answers a query and the media directory is writable.
 * Returns 0, or -1 with the reason in msg. */
int srv_check_ready(srv_context *srv, char *msg, size_t cap);

void srv_request_init(srv_request *r, srv_context *srv, struct mg_connection *conn);
/* The part of srv_request_init() after the transport fields are set: the start time and the
 * request id (the client's X-Request-Id when it is a plain token). */
void srv_request_start(srv_request *r);
/* r->client from Forwarded / X-Forwarded-For: for a request whose peer is a trusted proxy. */
void srv_client_behind_proxy(srv_request *r);
/* A request header field's value (the first of that name, case-insensitive), or NULL. */
const char *srv_header_value(const srv_request *r, const char *name);
/* Write response bytes; returns 0, or -1 when the client is gone (or memory ran out). */
int srv_write(srv_request *r, const void *data, size_t len);
/* The connection closes after this response. */
void srv_close_after(srv_request *r);
/* Write the access log line and release what the request holds. */
void srv_request_finish(srv_request *r);

/* Add "Name: value" to every response this request sends (CORS, RateLimit). */
void srv_add_header(srv_request *r, const char *name, const char *value);
/* Whether `origin` is one of server.cors_origins. */
int srv_cors_allowed(const srv_context *srv, const char *origin);

/* Send a file (a media result): one Cache-Control, ETag and Last-Modified, If-None-Match (304),
 * a single byte range per RFC 9110 (suffix and open ranges, If-Range, 416 with
 * "Content-Range: bytes *\/len"), HEAD.  `disposition` may be NULL.  Returns the status sent. */
int srv_send_file(srv_request *r, const char *path, const char *content_type, const char *cache_control,
                  const char *disposition);

/* The latency bucket bounds of srv_metrics, in milliseconds. */
extern const int srv_latency_bounds_ms[SRV_LATENCY_BUCKETS];

/* Send a complete JSON response: Content-Type, Content-Length, X-Request-Id and `extra` headers
 * (n_extra of them).  Returns `status`. */
int srv_send_json(srv_request *r, int status, const char *json, size_t len, const srv_header *extra,
                  size_t n_extra);
/* Send a non-JSON body of the given Content-Type (Cache-Control: no-store). */
int srv_send_text(srv_request *r, int status, const char *text, size_t len, const char *content_type);
/* Send {"error":{"code","message"[,"details"]}}; details_json is a JSON object text or NULL. */
int srv_send_error(srv_request *r, int status, const char *code, const char *message, const char *details_json,
                   const srv_header *extra, size_t n_extra);
/* printf-style message. */
int srv_send_errorf(srv_request *r, int status, const char *code, const char *fmt, ...) SRV_PRINTF(4, 5);
/* Send the error a library call just failed with (`rc`, with lv_error_last()): the API status
 * and code for client errors, a generic 500 (the real message goes to the log) otherwise. */
int srv_send_lv_error(srv_request *r, int rc);
/* The same with the error's message and details given (NULL: the generic text for rc, no details),
 * for an error kept while other library calls ran. */
int srv_send_lv_error_as(srv_request *r, int rc, const char *message, const char *details);

/* Authenticate "Authorization: Bearer sk-..." into r->key, or send 401 invalid_api_key. */
int srv_authenticate(srv_request *r);
/* The parts of srv_authenticate() for a route that authenticates in its own library call: the
 * token of the Authorization header into token (cap bytes, 128 suffice) or 401 sent; and the
 * response to that call's failure when it yielded no key (401 for LV_EAUTH). */
int srv_bearer_token(srv_request *r, char *token, size_t cap);
int srv_auth_failed(srv_request *r, int rc);
/* Take a token from the key's bucket, or send 429 rate_limited with Retry-After. */
int srv_rate_limit(srv_request *r);
/* Parse the query string into r->params; a parameter not in `allowed` (NULL-terminated, may be
 * NULL for none), a repeated one, or a malformed one is 400 invalid_request. */
int srv_parse_query(srv_request *r, const char *const *allowed);
/* The decoded value of query parameter `name`, or NULL. */
const char *srv_query_param(const srv_request *r, const char *name);
/* A POST body: Content-Type (if given) must be application/json; the body is read up to
 * server.max_body_bytes (413 request_too_large beyond, without reading a declared-too-long body). */
int srv_read_body(srv_request *r);

/* civetweb callbacks: its own error responses (malformed requests) become JSON, its log lines ours. */
int srv_civetweb_http_error(struct mg_connection *conn, int status, const char *errmsg);
int srv_civetweb_log_message(const struct mg_connection *conn, const char *message);

#endif
