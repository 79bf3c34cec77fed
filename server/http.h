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

#define SRV_MAX_STREAM_KEYS 64
#define SRV_STREAMS_PER_KEY 4

/* The server's one context object: everything a request needs, shared by the civetweb threads. */
typedef struct srv_context {
	lv_engine *engine;
	lv_workers *workers;         /* pipeline workers and webhook delivery in this process */
	int64_t max_body_bytes;      /* server.max_body_bytes */
	int64_t max_create_body_bytes; /* server.max_create_body_bytes (POST /v1/videos) */
	int rate_limit_per_minute;   /* server.rate_limit_per_minute (0: off) */
	srv_ratelimit *ratelimit;    /* NULL when off */
	int log_level;               /* SRV_LOG_*, from $LV_LOG_LEVEL */
	char id_prefix[9];           /* random per process: request ids are unique across restarts */
	atomic_ullong next_request;  /* request counter */
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

/* One request being handled.  Lives on the handler's stack. */
typedef struct srv_request {
	srv_context *srv;
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	char id[32];                          /* "req_..." sent as X-Request-Id */
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
} srv_request;

/* A log line on stderr: "2026-11-24T08:00:41Z info message". */
void srv_log(const srv_context *srv, int level, const char *fmt, ...) SRV_PRINTF(3, 4);
/* $LV_LOG_LEVEL (debug|info|warn|error|off; default info). */
int srv_log_level_from_env(void);
/* Monotonic milliseconds. */
int64_t srv_mono_ms(void);

void srv_request_init(srv_request *r, srv_context *srv, struct mg_connection *conn);
/* Write the access log line and release what the request holds. */
void srv_request_finish(srv_request *r);

/* Send a complete JSON response: Content-Type, Content-Length, X-Request-Id and `extra` headers
 * (n_extra of them).  Returns `status`. */
int srv_send_json(srv_request *r, int status, const char *json, size_t len, const srv_header *extra,
                  size_t n_extra);
/* Send {"error":{"code","message"[,"details"]}}; details_json is a JSON object text or NULL. */
int srv_send_error(srv_request *r, int status, const char *code, const char *message, const char *details_json,
                   const srv_header *extra, size_t n_extra);
/* printf-style message. */
int srv_send_errorf(srv_request *r, int status, const char *code, const char *fmt, ...) SRV_PRINTF(4, 5);
/* Send the error a library call just failed with (`rc`, with lv_error_last()): the API status
 * and code for client errors, a generic 500 (the real message goes to the log) otherwise. */
int srv_send_lv_error(srv_request *r, int rc);

/* Authenticate "Authorization: Bearer sk-..." into r->key, or send 401 invalid_api_key. */
int srv_authenticate(srv_request *r);
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
