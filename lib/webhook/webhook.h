/*
 * Internal: webhook delivery per Standard Webhooks
 * (https://www.standardwebhooks.com/): signing, the SSRF guard, and one
 * delivery attempt over libcurl.  The outbox (retries at the configured
 * delays, surviving restarts) is in webhook/outbox.c and uses these.
 */
#ifndef LV_WEBHOOK_H
#define LV_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* "v1,<base64 HMAC-SHA256 of '{msg_id}.{timestamp}.{body}'>" keyed with the secret's bytes.
 * out needs at least 64 bytes. */
int lv_webhook_sign(char *out, size_t cap, const unsigned char *secret, size_t secret_len,
                    const char *msg_id, int64_t timestamp, const char *body, size_t body_len);

/* Parse "whsec_<base64>" into its bytes (24-64 of them).  Returns the length, or -1. */
long lv_webhook_secret_decode(unsigned char *out, size_t cap, const char *whsec);

/* 1 when the address is loopback, private (RFC 1918, ULA), link-local, CGNAT (100.64/10),
 * unspecified, multicast, broadcast or otherwise not publicly routable, including IPv4-mapped
 * and IPv4-compatible IPv6 forms of those.  0 for a public address. */
int lv_addr_is_private(const struct sockaddr *sa);

typedef struct lv_webhook_request {
	const char *url;
	const char *body;            /* JSON */
	size_t body_len;
	const char *msg_id;          /* webhook-id: stable across retries */
	int64_t timestamp;           /* webhook-timestamp: seconds */
	const unsigned char *secret; /* HMAC key bytes */
	size_t secret_len;
	long timeout_ms;             /* connect + total */
	int allow_private;           /* lift the SSRF guard */
} lv_webhook_request;

typedef struct lv_webhook_result {
	long http_status;  /* 0 when no response */
	int delivered;     /* 2xx */
	char error[256];   /* why not, for the outbox's record (never secrets) */
} lv_webhook_result;

/* One attempt: POST with the Standard Webhooks headers, no redirects followed, the SSRF guard
 * applied to the address actually connected to.  LV_OK when an attempt was made (see
 * result->delivered), an error status only for local failures. */
int lv_webhook_deliver(const lv_webhook_request *req, lv_webhook_result *result);

#endif
