#include "http/http.h"
#include "longvideo/common.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY ((size_t)32 << 20)

/* Shorter runs of a secret's characters are left alone: too common to be told from ordinary text. */
#define REDACT_RUN 12

void lv_http_redact(char *s, const char *const *secrets)
{
	for (; s && secrets && *secrets; secrets++) {
		const char *k = *secrets;
		size_t n = strlen(k), off;
		char *p;
		if (n < 4) /* too short to be a real secret, and would mangle the text */
			continue;
		while ((p = strstr(s, k)) != NULL)
			memset(p, '*', n);
		/* A vendor may quote part of a key (its start, or a cut copy): any run of REDACT_RUN or more of the
		 * secret's characters in a row goes too, as far as it agrees with the secret. */
		for (off = 0; off + REDACT_RUN <= n; off++) {
			char slice[REDACT_RUN + 1];
			memcpy(slice, k + off, REDACT_RUN);
			slice[REDACT_RUN] = '\0';
			while ((p = strstr(s, slice)) != NULL) {
				size_t len = REDACT_RUN;
				while (off + len < n && p[len] == k[off + len])
					len++;
				memset(p, '*', len);
			}
		}
	}
}

typedef struct sink {
	lv_buf body;
	lv_buf headers;
	FILE *file;
	size_t max;
	int overflow;
	int stopped;
	const volatile int *cancel;
	CURL *curl;
	int (*on_data)(void *ctx, const void *data, size_t n);
	void *on_data_ctx;
	FILE *upload;
	int64_t upload_left;
} sink;

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	sink *s = p;
	size_t len = size * n;
	if (s->on_data) {
		long status = 0;
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			if (s->on_data(s->on_data_ctx, data, len)) {
				s->stopped = 1;
				return 0;
			}
			return len;
		}
	}
	if (s->file)
		return fwrite(data, 1, len, s->file);
	if (s->body.len + len > s->max) {
		s->overflow = 1;
		return 0;
	}
	return lv_buf_put(&s->body, data, len) == LV_OK ? len : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *p)
{
	sink *s = p;
	size_t len = size * n;
	/* Keep only the final response's headers (after 100 Continue or a redirect). */
	if (len >= 5 && !strncmp(data, "HTTP/", 5))
		s->headers.len = 0;
	return lv_buf_put(&s->headers, data, len) == LV_OK ? len : 0;
}

static size_t on_upload(char *buf, size_t size, size_t n, void *p)
{
	sink *s = p;
	size_t want = size * n, got;
	if ((int64_t)want > s->upload_left)
		want = (size_t)s->upload_left;
	if (want == 0)
		return 0;
	got = fread(buf, 1, want, s->upload);
	if (got == 0) /* the file is shorter than announced */
		return CURL_READFUNC_ABORT;
	s->upload_left -= (int64_t)got;
	return got;
}

static int on_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const sink *s = p;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return s->cancel && *s->cancel ? 1 : 0;
}

const char *lv_http_header(const lv_http_response *resp, const char *name, char *buf, size_t cap)
{
	return lv_http_header_find(resp ? resp->headers : NULL, name, buf, cap);
}

const char *lv_http_header_find(const char *raw, const char *name, char *buf, size_t cap)
{
	const char *p = raw;
	size_t nl = strlen(name);
	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t vl;
			while (*v == ' ' || *v == '\t')
				v++;
			vl = (size_t)(p + len - v);
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= cap)
				vl = cap - 1;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return buf;
		}
		p = eol ? eol + 2 : p + len;
	}
	return NULL;
}

/* Retry-After: delta seconds or an HTTP date; retry-after-ms (OpenAI) wins when present. */
static int64_t retry_after(const lv_http_response *r)
{
	char buf[64];
	if (lv_http_header(r, "retry-after-ms", buf, sizeof(buf))) {
		char *end;
		double ms = strtod(buf, &end);
		if (end != buf && ms >= 0)
			return (int64_t)ms;
	}
	if (lv_http_header(r, "retry-after", buf, sizeof(buf))) {
		char *end;
		double secs = strtod(buf, &end);
		time_t when;
		if (end != buf && *end == '\0' && secs >= 0)
			return (int64_t)(secs * 1000);
		when = curl_getdate(buf, NULL);
		if (when > 0) {
			int64_t d = (int64_t)when * 1000 - lv_now_ms();
			return d > 0 ? d : 0;
		}
	}
	return -1;
}

static void url_for_log(char *out, size_t cap, const char *url)
{
	size_t n = strcspn(url, "?#");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}

int lv_http_perform(const lv_http_request *req, lv_http_response *resp)
{
	CURL *c;
	struct curl_slist *hl = NULL;
	curl_mime *mime = NULL;
	sink s;
	char errbuf[CURL_ERROR_SIZE] = "", *tmp = NULL, logurl[256];
	const char *method = req->method ? req->method : "GET", *what = req->what ? req->what : "HTTP";
	const char *const *h;
	CURLcode cc;
	int rc = LV_OK;
	int64_t t0 = lv_mono_ms();

	memset(resp, 0, sizeof(*resp));
	resp->retry_after_ms = -1;
	memset(&s, 0, sizeof(s));
	s.max = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
	s.cancel = req->cancel;
	s.on_data = req->on_data;
	s.on_data_ctx = req->on_data_ctx;
	if (!(c = curl_easy_init()))
		return lv_error_set(LV_ENOMEM, "%s: cannot create an HTTP handle", what);
	s.curl = c;
	if (req->upload_path) {
		if (!(s.upload = fopen(req->upload_path, "rb")) ||
		    fseeko(s.upload, (off_t)req->upload_offset, SEEK_SET) != 0) {
			rc = lv_error_set(LV_EIO, "%s: cannot read %s: %s", what, req->upload_path, strerror(errno));
			goto out;
		}
		s.upload_left = req->upload_len;
	}
	for (h = req->headers; h && *h; h++)
		hl = curl_slist_append(hl, *h);
	if (req->download_to) {
		if (!(tmp = lv_asprintf("%s.part.%ld", req->download_to, (long)getpid())) || !(s.file = fopen(tmp, "wb"))) {
			rc = lv_error_set(LV_EIO, "%s: cannot write %s: %s", what, req->download_to, strerror(errno));
			goto out;
		}
	}
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 120000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "liblongvideo/" LV_VERSION);
	if (req->aws_sigv4) {
		curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->aws_sigv4);
		curl_easy_setopt(c, CURLOPT_USERNAME, req->username ? req->username : "");
		curl_easy_setopt(c, CURLOPT_PASSWORD, req->password ? req->password : "");
	}
	if (req->upload_path) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(c, CURLOPT_READDATA, &s);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->upload_len);
		if (strcmp(method, "PUT") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	} else if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "GET")) {
		/* Result downloads may be redirected to object storage. */
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, req->no_redirect ? 0L : 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	} else if (!strcmp(method, "POST") && !req->parts) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
	} else if (!req->parts) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (req->body) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		}
	}
	if (req->parts) {
		size_t i;
		mime = curl_mime_init(c);
		for (i = 0; i < req->n_parts; i++) {
			const lv_http_part *p = &req->parts[i];
			curl_mimepart *mp = curl_mime_addpart(mime);
			curl_mime_name(mp, p->name);
			if (p->path)
				curl_mime_filedata(mp, p->path);
			else
				curl_mime_data(mp, p->data ? p->data : "", p->data_len);
			if (p->filename)
				curl_mime_filename(mp, p->filename);
			if (p->content_type)
				curl_mime_type(mp, p->content_type);
		}
		curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	}
	/* Expect: 100-continue only slows small uploads down. */
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);

	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->sent = !(cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
	               cc == CURLE_COULDNT_RESOLVE_PROXY);
	resp->headers = lv_buf_detach(&s.headers);
	resp->body_len = s.body.len;
	resp->body = lv_buf_detach(&s.body);
	resp->retry_after_ms = retry_after(resp);
	url_for_log(logurl, sizeof(logurl), req->url);
	if (cc != CURLE_OK) {
		const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
		snprintf(resp->error, sizeof(resp->error), "%s", why);
		lv_http_redact(resp->error, req->secrets);
		if (cc == CURLE_ABORTED_BY_CALLBACK && req->cancel && *req->cancel)
			rc = lv_error_set(LV_ECANCELED, "%s: canceled", what);
		else if (cc == CURLE_WRITE_ERROR && s.overflow)
			rc = lv_error_set(LV_EIO, "%s: the response is larger than %zu bytes", what, s.max);
		else if (cc == CURLE_WRITE_ERROR && s.stopped)
			rc = lv_error_set(LV_EIO, "%s: the reader of the response stopped", what);
		else if (cc == CURLE_OPERATION_TIMEDOUT)
			rc = lv_error_set(LV_ETIMEOUT, "%s: no complete answer within %ld ms", what,
			                  req->timeout_ms > 0 ? req->timeout_ms : 120000L);
		else
			rc = lv_error_set(LV_EIO, "%s: %s", what, resp->error);
		resp->status = cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_ABORTED_BY_CALLBACK ? 0 : resp->status;
	}
	LV_DEBUG("http: %s %s -> %ld in %lld ms%s%s", method, logurl, resp->status, (long long)(lv_mono_ms() - t0),
	         rc ? ": " : "", rc ? resp->error : "");
	if (s.file) {
		int ok = fclose(s.file) == 0;
		s.file = NULL;
		if (rc == LV_OK && resp->status >= 200 && resp->status < 300) {
			if (!ok || rename(tmp, req->download_to) != 0)
				rc = lv_error_set(LV_EIO, "%s: cannot write %s", what, req->download_to);
		} else {
			unlink(tmp);
		}
	}
out:
	if (s.file) {
		fclose(s.file);
		unlink(tmp);
	}
	if (s.upload)
		fclose(s.upload);
	free(tmp);
	curl_mime_free(mime);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc;
}

int lv_http_retryable(const lv_retry_policy *p, int rc, const lv_http_response *resp)
{
	long s = resp->status;
	if (rc == LV_ECANCELED)
		return 0;
	if (rc != LV_OK) /* no response: retry if idempotent, or if it never reached the server */
		return p->idempotent || !resp->sent;
	if (s == 429)
		return 1;
	if (!p->idempotent)
		return 0;
	return s == 408 || s == 409 || s == 425 || s == 500 || s == 502 || s == 503 || s == 504;
}

int64_t lv_http_backoff_ms(const lv_retry_policy *p, int attempt, const lv_http_response *resp)
{
	int64_t base = p->base_ms > 0 ? p->base_ms : 500, cap = p->max_ms > 0 ? p->max_ms : 30000, ceiling;
	uint32_t r = 0;
	if (resp && resp->retry_after_ms >= 0)
		return resp->retry_after_ms < cap * 4 ? resp->retry_after_ms : cap * 4;
	ceiling = base << (attempt - 1 < 10 ? attempt - 1 : 10);
	if (ceiling > cap)
		ceiling = cap;
	/* Full jitter: a uniformly random wait up to the exponential ceiling (never zero). */
	lv_random_below((uint32_t)ceiling, &r);
	return (int64_t)r + 1;
}

int lv_http_perform_retry(const lv_http_request *req, const lv_retry_policy *p, lv_http_response *resp,
                          int *attempts)
{
	int attempt = 0, rc;
	for (;;) {
		int64_t wait, until;
		attempt++;
		rc = lv_http_perform(req, resp);
		if (attempts)
			*attempts = attempt;
		if (attempt > p->max_retries || !lv_http_retryable(p, rc, resp))
			return rc;
		if (rc == LV_OK && resp->status >= 200 && resp->status < 300)
			return rc;
		wait = lv_http_backoff_ms(p, attempt, resp);
		LV_WARN("%s: %s; retrying in %lld ms (attempt %d of %d)", req->what ? req->what : "HTTP",
		        rc ? resp->error : "server busy", (long long)wait, attempt + 1, p->max_retries + 1);
		lv_http_response_free(resp);
		until = lv_mono_ms() + wait;
		while (lv_mono_ms() < until) {
			if (req->cancel && *req->cancel)
				return lv_error_set(LV_ECANCELED, "%s: canceled", req->what ? req->what : "HTTP");
			lv_sleep_ms(until - lv_mono_ms() < 50 ? until - lv_mono_ms() : 50);
		}
	}
}

void lv_http_response_free(lv_http_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	free(resp->headers);
	resp->body = resp->headers = NULL;
	resp->body_len = 0;
}
