/*
 * A scripted HTTP server for provider tests: it answers like a vendor (responses queued per route, or a
 * handler for dynamic behaviour), records every request for assertions, and can misbehave on purpose
 * (delay, close without answering, malformed bodies).  Runs on 127.0.0.1 with an ephemeral port.
 */
#ifndef LV_TEST_FAKEVENDOR_H
#define LV_TEST_FAKEVENDOR_H

#include <stddef.h>

typedef struct lv_fake lv_fake;

typedef struct lv_fake_response {
	int status;               /* 0 = 200 */
	const char *headers;      /* extra header lines, each ending in "\r\n", or NULL */
	const char *body;         /* or NULL */
	size_t body_len;          /* 0: strlen(body) */
	const char *body_file;    /* send this file's bytes as the body instead */
	const char *content_type; /* NULL: application/json */
	int delay_ms;             /* wait before answering */
	int hang_up;              /* close the connection without any response */
} lv_fake_response;

typedef struct lv_fake_request {
	char method[16];
	char path[512];           /* without the query */
	char query[1024];
	char *headers;            /* "name: value\n" lines, names lower-cased */
	char *body;               /* NUL-terminated */
	size_t body_len;
} lv_fake_request;

typedef void (*lv_fake_handler)(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx);

/* Start; returns NULL on failure. */
lv_fake *lv_fake_start(void);
void lv_fake_stop(lv_fake *f);
/* "http://127.0.0.1:PORT" */
const char *lv_fake_url(const lv_fake *f);

/* Queue a response for METHOD PATH (a trailing '*' matches any suffix).  Queued responses are used in
 * order; the last one keeps answering.  The response's strings are copied. */
void lv_fake_on(lv_fake *f, const char *method, const char *path, const lv_fake_response *r);
/* Or answer METHOD PATH with a function (called on a server thread; keep its state locked). */
void lv_fake_handle(lv_fake *f, const char *method, const char *path, lv_fake_handler fn, void *ctx);

/* Requests seen so far (all routes), and how many matched METHOD PATH. */
size_t lv_fake_requests(lv_fake *f);
/* A copy of request i (free with lv_fake_request_free), or NULL. */
lv_fake_request *lv_fake_request_get(lv_fake *f, size_t i);
/* The last request to METHOD PATH (copy), or NULL. */
lv_fake_request *lv_fake_last(lv_fake *f, const char *method, const char *path);
size_t lv_fake_count(lv_fake *f, const char *method, const char *path);
void lv_fake_request_free(lv_fake_request *r);
/* A request header's value (name case-insensitive) copied into buf, or NULL. */
const char *lv_fake_header(const lv_fake_request *r, const char *name, char *buf, size_t cap);

#endif
