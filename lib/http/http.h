/*
 * Internal: HTTP for provider adapters, over libcurl.
 *
 * One request at a time per call (adapter calls are short; the segment driver
 * interleaves many of them).  Timeouts, cancellation, bounded retries with
 * exponential backoff and full jitter honouring Retry-After, and secrets kept
 * out of every log line and error message.
 */
#ifndef LV_HTTP_H
#define LV_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct lv_http_part {
	const char *name;          /* form field name */
	const char *filename;      /* for a file part: the file name sent, else NULL */
	const char *path;          /* a file to send, or NULL */
	const char *data;          /* or in-memory data */
	size_t data_len;
	const char *content_type;  /* may be NULL */
} lv_http_part;

typedef struct lv_http_request {
	const char *method;            /* "GET" (default), "POST", "DELETE", ... */
	const char *url;
	const char *const *headers;    /* "Name: value", NULL-terminated, or NULL */
	const char *body;              /* request body, or NULL */
	size_t body_len;
	const lv_http_part *parts;     /* multipart/form-data instead of body */
	size_t n_parts;
	const char *download_to;       /* write a 2xx response body to this file (atomically) */
	size_t max_body;               /* in-memory body cap; 0 = 32 MiB */
	long timeout_ms;               /* whole request; 0 = 120000 */
	long connect_timeout_ms;       /* 0 = 10000 */
	const volatile int *cancel;    /* non-zero aborts (LV_ECANCELED) */
	const char *const *secrets;    /* values never to show in logs or errors (NULL-terminated) */
	const char *what;              /* for messages: "provider 'claude'" */
	/* Object storage: SigV4 signing by libcurl (CURLOPT_AWS_SIGV4, e.g. "aws:amz:us-east-1:s3") with
	 * these credentials (put the secret in `secrets` too). */
	const char *aws_sigv4;
	const char *username, *password;
	/* Send bytes [upload_offset, upload_offset + upload_len) of this file as the body (method PUT). */
	const char *upload_path;
	int64_t upload_offset, upload_len;
	/* Stream a 2xx response body here instead of keeping it (non-zero stops: LV_EIO); other bodies are
	 * kept in resp->body as usual. */
	int (*on_data)(void *ctx, const void *data, size_t n);
	void *on_data_ctx;
	int no_redirect;               /* a GET does not follow redirects */
} lv_http_request;

typedef struct lv_http_response {
	long status;              /* HTTP status; 0 when no response */
	char *body;               /* NUL-terminated (empty when downloaded to a file) */
	size_t body_len;
	char *headers;            /* the raw header block of the final response */
	int64_t retry_after_ms;   /* Retry-After (seconds or HTTP date) or a vendor equivalent; -1 if none */
	int sent;                 /* 1 if the request may have reached the server (not a connect failure) */
	char error[256];          /* transport failure, secrets redacted */
} lv_http_response;

/* One exchange.  LV_OK when a response arrived (any status); LV_ETIMEOUT, LV_ECANCELED or LV_EIO
 * (message names `what` and the cause) otherwise.  Free resp with lv_http_response_free. */
int lv_http_perform(const lv_http_request *req, lv_http_response *resp);

typedef struct lv_retry_policy {
	int max_retries;      /* retries after the first try */
	int64_t base_ms;      /* first backoff (default 500) */
	int64_t max_ms;       /* cap (default 30000) */
	int idempotent;       /* 0: retry only when the server cannot have acted (429, connect failure) */
} lv_retry_policy;

/* 1 if this outcome may be retried under the policy: network errors and 408/409/425/429/500/502/503/504
 * for idempotent requests; for the others only 429 and failures to connect. */
int lv_http_retryable(const lv_retry_policy *p, int rc, const lv_http_response *resp);

/* The wait before retry number `attempt` (1-based): Retry-After when given, else exponential with full
 * jitter, capped. */
int64_t lv_http_backoff_ms(const lv_retry_policy *p, int attempt, const lv_http_response *resp);

/* lv_http_perform with retries; *attempts (may be NULL) gets the number of tries made. */
int lv_http_perform_retry(const lv_http_request *req, const lv_retry_policy *p, lv_http_response *resp,
                          int *attempts);

/* A response header (case-insensitive) copied into buf, or NULL. */
const char *lv_http_header(const lv_http_response *resp, const char *name, char *buf, size_t cap);

/* The same over a raw header block ("Name: value" lines ending in CRLF; NULL is an empty block): the
 * first header called `name` (case-insensitive), its value without surrounding blanks and cut to cap-1
 * bytes, copied into buf; NULL when there is none. */
const char *lv_http_header_find(const char *raw, const char *name, char *buf, size_t cap);

void lv_http_response_free(lv_http_response *resp);

/* Replace every occurrence of each secret in s (in place) with stars, and every run of 12 or more of a
 * secret's characters (a vendor quoting part of a key). */
void lv_http_redact(char *s, const char *const *secrets);

#endif
