/*
 * Webhook signing and one delivery attempt, per Standard Webhooks.
 *
 * Delivery policy:
 * - POST the JSON body with webhook-id, webhook-timestamp, webhook-signature, Content-Type and
 *   User-Agent; only a 2xx answer (with the response read to its end) is a delivery.
 * - Redirects are never followed: a 3xx is a failed attempt.
 * - Only http and https.  Proxies are never used, including those named by the environment
 *   (http_proxy, https_proxy, all_proxy): the SSRF guard must judge the address actually
 *   connected to, and through a proxy that address is the proxy's.
 * - The SSRF guard (unless allow_private) runs in the socket-open callback on every address
 *   libcurl is about to connect to, after name resolution, so a name that resolves (or later
 *   re-resolves) to a private address is refused before a single packet is sent to it.  The
 *   pre-request callback checks the connected peer address once more.
 * - The response body is read and thrown away, at most LV_WEBHOOK_MAX_RESPONSE bytes of it.
 * - The secret is used only as the HMAC key: it never reaches a header, a log or a message.
 *
 * libcurl's process-wide curl_global_init() belongs to whoever initialises the library's
 * networking; this file only uses easy handles.
 */
#include "webhook/webhook.h"
#include "webhook/ssrf.h"
#include "longvideo/common.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define LV_WEBHOOK_MAX_RESPONSE (64 * 1024)
#define LV_WEBHOOK_DEFAULT_TIMEOUT_MS 10000L
#define LV_WEBHOOK_SECRET_MIN 24
#define LV_WEBHOOK_SECRET_MAX 64
#define LV_WEBHOOK_MSG_ID_MAX 255
/* "v1," + base64 of 32 bytes (44 characters) + NUL */
#define LV_WEBHOOK_SIG_LEN 48

int lv_webhook_sign(char *out, size_t cap, const unsigned char *secret, size_t secret_len,
                    const char *msg_id, int64_t timestamp, const char *body, size_t body_len)
{
	lv_buf msg = LV_BUF_INIT;
	unsigned char mac[32];
	int rc;

	if (!out || cap < LV_WEBHOOK_SIG_LEN)
		return lv_error_set(LV_EINVALID, "webhook signature: output buffer too small");
	out[0] = '\0';
	if (!secret || secret_len == 0)
		return lv_error_set(LV_EINVALID, "webhook signature: empty secret");
	if (!msg_id || !*msg_id)
		return lv_error_set(LV_EINVALID, "webhook signature: empty message id");
	if (!body && body_len)
		return lv_error_set(LV_EINVALID, "webhook signature: missing body");

	rc = lv_buf_printf(&msg, "%s.%" PRId64 ".", msg_id, timestamp);
	if (rc == LV_OK && body_len)
		rc = lv_buf_put(&msg, body, body_len);
	if (rc != LV_OK) {
		lv_buf_free(&msg);
		return lv_error_prefix("webhook signature");
	}
	lv_hmac_sha256(mac, secret, secret_len, msg.data, msg.len);
	lv_buf_free(&msg);
	memcpy(out, "v1,", 3);
	lv_base64_encode(out + 3, mac, sizeof(mac));
	OPENSSL_cleanse(mac, sizeof(mac));
	return LV_OK;
}

static int is_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

long lv_webhook_secret_decode(unsigned char *out, size_t cap, const char *whsec)
{
	/* 64 bytes encode to 88 characters, which decode into at most 66. */
	unsigned char raw[66];
	const char *b64;
	size_t len, i, pad = 0;
	long n;

	if (!out || !whsec || strncmp(whsec, "whsec_", 6) != 0)
		return -1;
	b64 = whsec + 6;
	len = strlen(b64);
	if (len < 32 || len > 88 || len % 4 != 0)
		return -1;
	while (pad < 2 && b64[len - 1 - pad] == '=')
		pad++;
	for (i = 0; i < len - pad; i++)
		if (!is_base64_char(b64[i]))
			return -1;
	n = lv_base64_decode(raw, b64, len);
	if (n < LV_WEBHOOK_SECRET_MIN || n > LV_WEBHOOK_SECRET_MAX || (size_t)n > cap) {
		OPENSSL_cleanse(raw, sizeof(raw));
		return -1;
	}
	memcpy(out, raw, (size_t)n);
	OPENSSL_cleanse(raw, sizeof(raw));
	return n;
}

/* ---- delivery --------------------------------------------------------------------------- */

typedef struct deliver_ctx {
	lv_ssrf_guard g;     /* first: the guard's callbacks get this struct */
	size_t received;     /* response body bytes seen */
	int capped;          /* stopped reading at LV_WEBHOOK_MAX_RESPONSE */
} deliver_ctx;

static void note_refusal(lv_ssrf_guard *ctx, const char *addr, const char *kind)
{
	if (ctx->refused[0])
		return;
	snprintf(ctx->refused, sizeof(ctx->refused),
	         "refused: %s is %s address (set webhooks.allow_private to allow)", addr, kind);
}

curl_socket_t lv_ssrf_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	lv_ssrf_guard *ctx = clientp;
	int type = address->socktype;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (ctx->guard) {
		char text[INET6_ADDRSTRLEN];
		const char *kind;
		socklen_t need = address->family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6)
		                                             : (socklen_t)sizeof(struct sockaddr_in);
		if (address->addrlen < need)
			kind = "an unrecognised";
		else
			kind = lv_addr_classify(&address->addr);
		if (kind) {
			lv_addr_format(text, sizeof(text), &address->addr);
			note_refusal(ctx, text, kind);
			LV_DEBUG("ssrf guard: %s", ctx->refused);
			return CURL_SOCKET_BAD;
		}
	}
#ifdef SOCK_CLOEXEC
	type |= SOCK_CLOEXEC;
#endif
	return socket(address->family, type, address->protocol);
}

/* Second look, once connected: the peer address libcurl reports must be public as well. */
int lv_ssrf_check_peer(void *clientp, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	lv_ssrf_guard *ctx = clientp;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const char *kind = "an unrecognised";

	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	if (!ctx->guard)
		return CURL_PREREQFUNC_OK;
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (primary_ip && inet_pton(AF_INET, primary_ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		kind = lv_addr_classify((const struct sockaddr *)&sin);
	} else if (primary_ip && inet_pton(AF_INET6, primary_ip, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		kind = lv_addr_classify((const struct sockaddr *)&sin6);
	}
	if (!kind)
		return CURL_PREREQFUNC_OK;
	note_refusal(ctx, primary_ip ? primary_ip : "?", kind);
	return CURL_PREREQFUNC_ABORT;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	deliver_ctx *ctx = userdata;
	size_t n = size * nmemb;

	(void)ptr;
	ctx->received += n;
	if (ctx->received > LV_WEBHOOK_MAX_RESPONSE) {
		ctx->capped = 1;
		return 0; /* ends the transfer with CURLE_WRITE_ERROR */
	}
	return n;
}

static int msg_id_ok(const char *id)
{
	size_t i;
	if (!id || !id[0])
		return 0;
	for (i = 0; id[i]; i++) {
		unsigned char c = (unsigned char)id[i];
		if (i >= LV_WEBHOOK_MSG_ID_MAX || c <= 0x20 || c >= 0x7f || c == '.')
			return 0;
	}
	return 1;
}

static int fail_local(lv_webhook_result *result, int status, const char *what)
{
	lv_error_set(status, "webhook delivery: %s", what);
	lv_strlcpy(result->error, lv_error_last()->message, sizeof(result->error));
	return status;
}

static int url_scheme_ok(const char *url)
{
	return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

/* Appends "name: value", or "name:" alone (which tells libcurl not to send that header). */
static struct curl_slist *add_header(struct curl_slist *list, int *ok, const char *name,
                                     const char *value)
{
	char line[512];
	struct curl_slist *next;
	if (!*ok)
		return list;
	if (value)
		snprintf(line, sizeof(line), "%s: %s", name, value);
	else
		snprintf(line, sizeof(line), "%s:", name);
	next = curl_slist_append(list, line);
	if (!next) {
		*ok = 0;
		return list;
	}
	return next;
}

static void describe_failure(lv_webhook_result *result, const deliver_ctx *ctx, CURLcode res,
                             const char *errbuf, long timeout_ms)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(res);

	/* All addresses refused: libcurl reports that it could not connect (or that the
	 * pre-request check aborted).  Any other failure is reported as itself. */
	if (result->http_status == 0 && ctx->g.refused[0] &&
	    (res == CURLE_COULDNT_CONNECT || res == CURLE_ABORTED_BY_CALLBACK)) {
		lv_strlcpy(result->error, ctx->g.refused, sizeof(result->error));
	} else if (res == CURLE_OPERATION_TIMEDOUT) {
		/* libcurl's message is cut so that the whole line fits the record. */
		snprintf(result->error, sizeof(result->error), "timed out after %ld ms: %.200s", timeout_ms,
		         why);
	} else if (res != CURLE_OK && !(res == CURLE_WRITE_ERROR && ctx->capped)) {
		snprintf(result->error, sizeof(result->error), "%s", why);
	} else if (result->http_status >= 300 && result->http_status < 400) {
		snprintf(result->error, sizeof(result->error),
		         "receiver answered HTTP %ld (a redirect; redirects are not followed)",
		         result->http_status);
	} else {
		snprintf(result->error, sizeof(result->error), "receiver answered HTTP %ld",
		         result->http_status);
	}
}

int lv_webhook_deliver(const lv_webhook_request *req, lv_webhook_result *result)
{
	deliver_ctx ctx;
	char signature[64];
	char number[32];
	char user_agent[96];
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL;
	CURL *curl = NULL;
	CURLcode res;
	long timeout_ms;
	int ok = 1, rc;

	if (!result)
		return lv_error_set(LV_EINVALID, "webhook delivery: no result");
	memset(result, 0, sizeof(*result));
	if (!req)
		return fail_local(result, LV_EINVALID, "no request");
	if (!url_scheme_ok(req->url))
		return fail_local(result, LV_EINVALID, "url must be an absolute http or https URL");
	if (!msg_id_ok(req->msg_id))
		return fail_local(result, LV_EINVALID,
		                  "webhook-id must be 1-255 visible ASCII characters without '.'");
	if (!req->body && req->body_len)
		return fail_local(result, LV_EINVALID, "missing body");

	rc = lv_webhook_sign(signature, sizeof(signature), req->secret, req->secret_len, req->msg_id,
	                     req->timestamp, req->body, req->body_len);
	if (rc != LV_OK) {
		lv_strlcpy(result->error, lv_error_last()->message, sizeof(result->error));
		return rc;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.g.guard = !req->allow_private;
	timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : LV_WEBHOOK_DEFAULT_TIMEOUT_MS;
	errbuf[0] = '\0';
	snprintf(number, sizeof(number), "%" PRId64, req->timestamp);
	snprintf(user_agent, sizeof(user_agent), "liblongvideo-webhooks/%s", lv_version());

	headers = add_header(headers, &ok, "webhook-id", req->msg_id);
	headers = add_header(headers, &ok, "webhook-timestamp", number);
	headers = add_header(headers, &ok, "webhook-signature", signature);
	headers = add_header(headers, &ok, "Content-Type", "application/json");
	/* No "Expect: 100-continue" round trip for larger bodies. */
	headers = add_header(headers, &ok, "Expect", NULL);
	if (!ok) {
		curl_slist_free_all(headers);
		return fail_local(result, LV_ENOMEM, "out of memory building headers");
	}
	curl = curl_easy_init();
	if (!curl) {
		curl_slist_free_all(headers);
		return fail_local(result, LV_EINTERNAL, "cannot create a libcurl handle");
	}

	if (curl_easy_setopt(curl, CURLOPT_URL, req->url) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "") != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, lv_ssrf_open_socket) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &ctx) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, lv_ssrf_check_peer) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PREREQDATA, &ctx) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ctx) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK) {
		curl_easy_cleanup(curl);
		curl_slist_free_all(headers);
		return fail_local(result, LV_EINTERNAL, "libcurl lacks a required option");
	}

	res = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result->http_status);
	if ((res == CURLE_OK || (res == CURLE_WRITE_ERROR && ctx.capped)) &&
	    result->http_status >= 200 && result->http_status < 300) {
		result->delivered = 1;
		result->error[0] = '\0';
	} else {
		describe_failure(result, &ctx, res, errbuf, timeout_ms);
	}
	LV_DEBUG("webhook %s: %s", req->msg_id, result->delivered ? "delivered" : result->error);

	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	OPENSSL_cleanse(signature, sizeof(signature));
	return LV_OK;
}
