/*
 * S3-compatible storage (SPEC §7): objects in a bucket under storage.prefix.
 *
 * Requests are signed by libcurl (CURLOPT_AWS_SIGV4).  libcurl 7.88 signs the query string as given and
 * takes the payload hash from an x-amz-content-sha256 header, so every query here is built in canonical
 * form (sorted, "name=value", RFC 3986 escapes) and every request says UNSIGNED-PAYLOAD.  Presigned GET
 * URLs are the one piece libcurl does not make: lv_s3_presign() builds them with libcrypto's HMAC.
 *
 * Files larger than one part go up as a multipart upload (aborted on any failure); downloads stream to
 * a file or a sink; HEAD answers existence, and a failed HEAD is an error, never "not there".
 */
#include "config/config.h"
#include "http/http.h"
#include "storage/s3.h"
#include "storage/storage.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/mem.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIN_PART ((int64_t)5 << 20)  /* S3's smallest part (but the last) */
#define DEFAULT_PART ((int64_t)8 << 20)
#define MAX_PARTS 10000
#define XML_CAP ((size_t)4 << 20)    /* bodies of XML answers (listings, errors) */
#define LIST_MAX_ROUNDS 100000

typedef struct s3_storage {
	lv_storage base;
	char *scheme;    /* "http" | "https" */
	char *authority; /* host[:port] of the endpoint (no default port) */
	char *endpoint;  /* as configured, for messages */
	char *bucket, *region, *prefix, *public_base_url;
	int path_style, presign_seconds;
	int64_t part_size;
	char *access_key, *secret_key, *sigv4, *what;
	const char *secrets[3];
} s3_storage;

/* ---- presigned URLs --------------------------------------------------------------------------- */

static void hex(char *out, const unsigned char *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* RFC 3986 escaping as SigV4 wants it (unreserved characters kept, upper-case hex). */
static char *escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *copy;
	if (!e) {
		lv_error_nomem();
		return NULL;
	}
	copy = lv_strdup(e);
	curl_free(e);
	return copy;
}

int lv_s3_presign(char **out, const lv_s3_presign_in *in)
{
	char date[9], stamp[17], cr_hash[65], sig[65], *cred = NULL, *cred_enc = NULL, *query = NULL, *canon = NULL,
	                                                *sts = NULL, *key = NULL;
	unsigned char k[32], mac[32];
	struct tm tm;
	int rc = LV_OK;
	*out = NULL;
	if (!in->host || !in->path || in->path[0] != '/' || !in->access_key || !in->secret_key || !in->region ||
	    in->expires < 1 || in->expires > 604800)
		return lv_error_set(LV_EINVALID, "storage: presign: host, path, region, credentials and an expiry "
		                                 "of 1 to 604800 seconds are required");
	if (!gmtime_r(&in->now, &tm))
		return lv_error_set(LV_EINTERNAL, "storage: presign: the clock cannot be read");
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (!(cred = lv_asprintf("%s/%s/%s/s3/aws4_request", in->access_key, date, in->region)) ||
	    !(cred_enc = escape(cred)) ||
	    !(query = lv_asprintf("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s&X-Amz-Date=%s"
	                          "&X-Amz-Expires=%d&X-Amz-SignedHeaders=host",
	                          cred_enc, stamp, in->expires)) ||
	    !(canon = lv_asprintf("GET\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", in->path, query, in->host))) {
		rc = LV_ENOMEM;
		goto out;
	}
	lv_sha256_hex(cr_hash, canon, strlen(canon));
	if (!(sts = lv_asprintf("AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", stamp, date, in->region, cr_hash)) ||
	    !(key = lv_asprintf("AWS4%s", in->secret_key))) {
		rc = LV_ENOMEM;
		goto out;
	}
	lv_hmac_sha256(k, key, strlen(key), date, strlen(date));
	lv_hmac_sha256(k, k, sizeof(k), in->region, strlen(in->region));
	lv_hmac_sha256(k, k, sizeof(k), "s3", 2);
	lv_hmac_sha256(k, k, sizeof(k), "aws4_request", 12);
	lv_hmac_sha256(mac, k, sizeof(k), sts, strlen(sts));
	hex(sig, mac, sizeof(mac));
	if (!(*out = lv_asprintf("%s://%s%s?%s&X-Amz-Signature=%s", in->scheme ? in->scheme : "https", in->host,
	                         in->path, query, sig)))
		rc = LV_ENOMEM;
out:
	if (key)
		memset(key, 0, strlen(key));
	memset(k, 0, sizeof(k));
	free(cred);
	free(cred_enc);
	free(query);
	free(canon);
	free(sts);
	free(key);
	return rc;
}

/* ---- requests ----------------------------------------------------------------------------------- */

/* The full object key: prefix + key, after checking the key. */
static char *full_key(const s3_storage *s, const char *key)
{
	if (!lv_storage_key_valid(key)) {
		lv_error_set(LV_EINVALID, "storage: invalid key '%s'", key ? key : "");
		return NULL;
	}
	return lv_asprintf("%s%s", s->prefix, key);
}

/* Host and canonical path of an object ("" key: the bucket itself). */
static int locate(const s3_storage *s, const char *fkey, char **host, char **path)
{
	*host = s->path_style ? lv_strdup(s->authority) : lv_asprintf("%s.%s", s->bucket, s->authority);
	*path = s->path_style ? lv_asprintf("/%s%s%s", s->bucket, *fkey ? "/" : "", fkey) : lv_asprintf("/%s", fkey);
	if (!*host || !*path) {
		free(*host);
		free(*path);
		*host = *path = NULL;
		return LV_ENOMEM;
	}
	return LV_OK;
}

static char *object_url(const s3_storage *s, const char *fkey, const char *query)
{
	char *host, *path, *url;
	if (locate(s, fkey, &host, &path))
		return NULL;
	url = lv_asprintf("%s://%s%s%s%s", s->scheme, host, path, query ? "?" : "", query ? query : "");
	free(host);
	free(path);
	return url;
}

typedef struct s3_call {
	const char *method;
	const char *fkey;     /* "" for the bucket */
	const char *query;    /* canonical, or NULL */
	const char *content_type;
	const char *range;    /* "bytes=a-b" or NULL */
	const char *copy_source; /* x-amz-copy-source ("/bucket/key", escaped), or NULL */
	const char *body;
	size_t body_len;
	const char *upload_path;
	int64_t upload_offset, upload_len;
	const char *download_to;
	int (*on_data)(void *ctx, const void *data, size_t n);
	void *on_data_ctx;
	long timeout_ms;
	int retries;
} s3_call;

static int s3_perform(const s3_storage *s, const s3_call *c, lv_http_response *resp)
{
	lv_http_request req;
	lv_retry_policy pol = { c->retries, 200, 2000, 1 };
	char ct[200], range[100], copy[1300];
	const char *headers[6];
	size_t nh = 0;
	char *url = object_url(s, c->fkey, c->query);
	int rc;
	memset(resp, 0, sizeof(*resp));
	if (!url)
		return LV_ENOMEM;
	headers[nh++] = "x-amz-content-sha256: UNSIGNED-PAYLOAD";
	if (c->content_type) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", c->content_type);
		headers[nh++] = ct;
	}
	if (c->range) {
		snprintf(range, sizeof(range), "Range: %s", c->range);
		headers[nh++] = range;
	}
	if (c->copy_source) {
		snprintf(copy, sizeof(copy), "x-amz-copy-source: %s", c->copy_source);
		headers[nh++] = copy;
	}
	headers[nh] = NULL;
	memset(&req, 0, sizeof(req));
	req.method = c->method;
	req.url = url;
	req.headers = headers;
	req.body = c->body;
	req.body_len = c->body_len;
	req.upload_path = c->upload_path;
	req.upload_offset = c->upload_offset;
	req.upload_len = c->upload_len;
	req.download_to = c->download_to;
	req.on_data = c->on_data;
	req.on_data_ctx = c->on_data_ctx;
	req.no_redirect = 1;
	req.max_body = XML_CAP;
	req.timeout_ms = c->timeout_ms ? c->timeout_ms : 60000;
	req.connect_timeout_ms = 5000;
	req.secrets = s->secrets;
	req.what = s->what;
	req.aws_sigv4 = s->sigv4;
	req.username = s->access_key;
	req.password = s->secret_key;
	/* A streamed body cannot be taken back: no retry once bytes went to the sink or the file. */
	rc = c->on_data ? lv_http_perform(&req, resp) : lv_http_perform_retry(&req, &pol, resp, NULL);
	free(url);
	return rc;
}

/* The text of the first <tag>...</tag> in an XML body, or NULL. */
static const char *xml_text(const char *body, const char *tag, char *buf, size_t cap)
{
	char open[64], close[64];
	const char *a, *b;
	size_t n;
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if (!body || !(a = strstr(body, open)) || !(b = strstr(a + strlen(open), close)))
		return NULL;
	a += strlen(open);
	n = (size_t)(b - a);
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, a, n);
	buf[n] = '\0';
	return buf;
}

/* The error a non-2xx answer means, naming the bucket, the key and the S3 error code. */
static int http_error(const s3_storage *s, const lv_http_response *r, const char *doing, const char *fkey)
{
	char code[80] = "", msg[200] = "";
	xml_text(r->body, "Code", code, sizeof(code));
	xml_text(r->body, "Message", msg, sizeof(msg));
	lv_http_redact(msg, s->secrets);
	if (r->status == 401 || r->status == 403)
		return lv_error_set(LV_EIO,
		                    "storage: %s '%s' in bucket '%s' at %s: access refused (HTTP %ld%s%s): check the "
		                    "keys named by storage.access_key_env/secret_key_env and their rights on the bucket",
		                    doing, fkey, s->bucket, s->endpoint, r->status, code[0] ? " " : "", code);
	return lv_error_set(LV_EIO, "storage: %s '%s' in bucket '%s' at %s: HTTP %ld%s%s%s%s", doing, fkey, s->bucket,
	                    s->endpoint, r->status, code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
}

static int ok_status(long st)
{
	return st >= 200 && st < 300;
}

/* ---- the operations ----------------------------------------------------------------------------------- */

static int put_single(s3_storage *s, const char *fkey, const char *path, int64_t size, const char *type)
{
	s3_call c;
	lv_http_response r;
	int rc;
	memset(&c, 0, sizeof(c));
	c.method = "PUT";
	c.fkey = fkey;
	c.content_type = type;
	c.upload_path = path;
	c.upload_len = size;
	c.timeout_ms = 600000;
	c.retries = 2;
	rc = s3_perform(s, &c, &r);
	if (rc == LV_OK && !ok_status(r.status))
		rc = http_error(s, &r, "storing", fkey);
	lv_http_response_free(&r);
	return rc;
}

static void abort_upload(s3_storage *s, const char *fkey, const char *query)
{
	s3_call c;
	lv_http_response r;
	memset(&c, 0, sizeof(c));
	c.method = "DELETE";
	c.fkey = fkey;
	c.query = query;
	c.retries = 2;
	if (s3_perform(s, &c, &r) != LV_OK || !ok_status(r.status))
		LV_WARN("storage: could not abort the multipart upload of '%s' in bucket '%s' (HTTP %ld): a lifecycle "
		        "rule for incomplete uploads removes it",
		        fkey, s->bucket, r.status);
	lv_http_response_free(&r);
}

static int put_multipart(s3_storage *s, const char *fkey, const char *path, int64_t size, const char *type)
{
	s3_call c;
	lv_http_response r;
	lv_buf done = LV_BUF_INIT;
	char upload_id[512], *id_enc = NULL, *query = NULL, etag[200];
	int64_t part = s->part_size, off;
	int n, rc;
	while ((size + part - 1) / part > MAX_PARTS)
		part *= 2;
	memset(&c, 0, sizeof(c));
	c.method = "POST";
	c.fkey = fkey;
	c.query = "uploads=";
	c.content_type = type;
	c.body = "";
	c.retries = 2;
	if ((rc = s3_perform(s, &c, &r)))
		return rc;
	if (!ok_status(r.status)) {
		rc = http_error(s, &r, "starting the upload of", fkey);
		lv_http_response_free(&r);
		return rc;
	}
	if (!xml_text(r.body, "UploadId", upload_id, sizeof(upload_id)) || !upload_id[0]) {
		lv_http_response_free(&r);
		return lv_error_set(LV_EIO, "storage: %s gave no UploadId for '%s' in bucket '%s'", s->endpoint, fkey,
		                    s->bucket);
	}
	lv_http_response_free(&r);
	if (!(id_enc = escape(upload_id)) || !(query = lv_asprintf("uploadId=%s", id_enc)) ||
	    lv_buf_puts(&done, "<CompleteMultipartUpload>")) {
		rc = LV_ENOMEM;
		goto fail;
	}
	for (off = 0, n = 1; off < size; off += part, n++) {
		char q[600];
		snprintf(q, sizeof(q), "partNumber=%d&uploadId=%s", n, id_enc);
		memset(&c, 0, sizeof(c));
		c.method = "PUT";
		c.fkey = fkey;
		c.query = q;
		c.upload_path = path;
		c.upload_offset = off;
		c.upload_len = size - off < part ? size - off : part;
		c.timeout_ms = 600000;
		c.retries = 2;
		if ((rc = s3_perform(s, &c, &r)))
			goto fail;
		if (!ok_status(r.status) || !lv_http_header(&r, "ETag", etag, sizeof(etag))) {
			rc = ok_status(r.status) ? lv_error_set(LV_EIO, "storage: %s gave no ETag for part %d of '%s'",
			                                        s->endpoint, n, fkey)
			                         : http_error(s, &r, "uploading a part of", fkey);
			lv_http_response_free(&r);
			goto fail;
		}
		lv_http_response_free(&r);
		if (lv_buf_printf(&done, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", n, etag)) {
			rc = LV_ENOMEM;
			goto fail;
		}
	}
	if (lv_buf_puts(&done, "</CompleteMultipartUpload>")) {
		rc = LV_ENOMEM;
		goto fail;
	}
	memset(&c, 0, sizeof(c));
	c.method = "POST";
	c.fkey = fkey;
	c.query = query;
	c.content_type = "application/xml";
	c.body = done.data;
	c.body_len = done.len;
	c.timeout_ms = 600000;
	if ((rc = s3_perform(s, &c, &r)))
		goto fail;
	/* S3 may answer 200 and still fail the completion: the body then holds an <Error>. */
	if (!ok_status(r.status) || strstr(r.body ? r.body : "", "<Error>")) {
		rc = http_error(s, &r, "completing the upload of", fkey);
		lv_http_response_free(&r);
		goto fail;
	}
	lv_http_response_free(&r);
	free(id_enc);
	free(query);
	lv_buf_free(&done);
	return LV_OK;
fail:
	if (query) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", lv_error_last()->message);
		abort_upload(s, fkey, query);
		lv_error_set(rc, "%s", msg);
	}
	free(id_enc);
	free(query);
	lv_buf_free(&done);
	return rc;
}

static int s3_put_file(lv_storage *base, const char *key, const char *path, const char *content_type)
{
	s3_storage *s = (s3_storage *)base;
	struct stat sb;
	char *fkey = full_key(s, key);
	const char *type = content_type ? content_type : "application/octet-stream";
	int rc;
	if (!fkey)
		return lv_error_last()->status;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = lv_error_set(LV_EIO, "storage: cannot read %s: %s", path, strerror(errno ? errno : EINVAL));
	} else if ((int64_t)sb.st_size > s->part_size) {
		rc = put_multipart(s, fkey, path, (int64_t)sb.st_size, type);
	} else {
		rc = put_single(s, fkey, path, (int64_t)sb.st_size, type);
	}
	free(fkey);
	return rc;
}

static int s3_head(lv_storage *base, const char *key, lv_storage_object *info)
{
	s3_storage *s = (s3_storage *)base;
	s3_call c;
	lv_http_response r;
	char len[40], *fkey = full_key(s, key);
	int rc;
	memset(info, 0, sizeof(*info));
	if (!fkey)
		return lv_error_last()->status;
	memset(&c, 0, sizeof(c));
	c.method = "HEAD";
	c.fkey = fkey;
	c.timeout_ms = 30000;
	c.retries = 2;
	if ((rc = s3_perform(s, &c, &r)) == LV_OK) {
		if (r.status == 404)
			rc = lv_error_set(LV_ENOTFOUND, "storage: no object '%s' in bucket '%s'", fkey, s->bucket);
		else if (!ok_status(r.status))
			rc = http_error(s, &r, "looking up", fkey);
		else {
			info->size = lv_http_header(&r, "Content-Length", len, sizeof(len)) ? strtoll(len, NULL, 10) : 0;
			if (!lv_http_header(&r, "Content-Type", info->content_type, sizeof(info->content_type)))
				snprintf(info->content_type, sizeof(info->content_type), "application/octet-stream");
		}
	}
	lv_http_response_free(&r);
	free(fkey);
	return rc;
}

static int s3_exists(lv_storage *base, const char *key, int *found)
{
	lv_storage_object info;
	int rc = s3_head(base, key, &info);
	*found = rc == LV_OK;
	return rc == LV_ENOTFOUND ? LV_OK : rc;
}

static int s3_get_file(lv_storage *base, const char *key, const char *dest_hint, char **out)
{
	s3_storage *s = (s3_storage *)base;
	s3_call c;
	lv_http_response r;
	char *fkey, *dir, *slash;
	int rc;
	*out = NULL;
	if (!dest_hint)
		return lv_error_set(LV_EINVALID, "storage: a destination file is needed to fetch '%s'", key);
	if (!(fkey = full_key(s, key)))
		return lv_error_last()->status;
	if ((dir = lv_strdup(dest_hint)) && (slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if ((rc = lv_mkdir_p(dir, 0))) {
			free(dir);
			free(fkey);
			return rc;
		}
	}
	free(dir);
	memset(&c, 0, sizeof(c));
	c.method = "GET";
	c.fkey = fkey;
	c.download_to = dest_hint;
	c.timeout_ms = 1800000;
	c.retries = 2;
	if ((rc = s3_perform(s, &c, &r)) == LV_OK) {
		if (r.status == 404)
			rc = lv_error_set(LV_ENOTFOUND, "storage: no object '%s' in bucket '%s'", fkey, s->bucket);
		else if (!ok_status(r.status))
			rc = http_error(s, &r, "fetching", fkey);
		else if (!(*out = lv_strdup(dest_hint)))
			rc = LV_ENOMEM;
	}
	lv_http_response_free(&r);
	free(fkey);
	return rc;
}

static int s3_read(lv_storage *base, const char *key, int64_t offset, int64_t length, lv_storage_sink sink,
                   void *ctx)
{
	s3_storage *s = (s3_storage *)base;
	s3_call c;
	lv_http_response r;
	char range[80], *fkey = full_key(s, key);
	int rc;
	if (!fkey)
		return lv_error_last()->status;
	if (length == 0) {
		free(fkey);
		return LV_OK;
	}
	memset(&c, 0, sizeof(c));
	c.method = "GET";
	c.fkey = fkey;
	if (offset > 0 || length > 0) {
		if (length > 0)
			snprintf(range, sizeof(range), "bytes=%lld-%lld", (long long)offset, (long long)(offset + length - 1));
		else
			snprintf(range, sizeof(range), "bytes=%lld-", (long long)offset);
		c.range = range;
	}
	c.on_data = sink;
	c.on_data_ctx = ctx;
	c.timeout_ms = 3600000;
	if ((rc = s3_perform(s, &c, &r)) == LV_OK) {
		if (r.status == 404)
			rc = lv_error_set(LV_ENOTFOUND, "storage: no object '%s' in bucket '%s'", fkey, s->bucket);
		else if (!ok_status(r.status))
			rc = http_error(s, &r, "reading", fkey);
	}
	lv_http_response_free(&r);
	free(fkey);
	return rc;
}

static int s3_url(lv_storage *base, const char *key, char **out)
{
	s3_storage *s = (s3_storage *)base;
	*out = NULL;
	if (!lv_storage_key_valid(key) || strncmp(key, "media/", 6) != 0)
		return lv_error_set(LV_EINVALID, "storage: '%s' is not a published key", key ? key : "");
	/* Without a public base, the capability path: lvserver answers it with a fresh presigned URL. */
	*out = s->public_base_url ? lv_asprintf("%s/%s%s", s->public_base_url, s->prefix, key) : lv_asprintf("/%s", key);
	return *out ? LV_OK : LV_ENOMEM;
}

static int s3_presign(lv_storage *base, const char *key, int seconds, char **out)
{
	s3_storage *s = (s3_storage *)base;
	lv_storage_object info;
	lv_s3_presign_in in;
	char *fkey, *host = NULL, *path = NULL;
	int rc;
	*out = NULL;
	/* A URL to nothing would only fail later, at the client: say so now. */
	if ((rc = s3_head(base, key, &info)))
		return rc;
	if (!(fkey = full_key(s, key)))
		return lv_error_last()->status;
	if ((rc = locate(s, fkey, &host, &path)) == LV_OK) {
		memset(&in, 0, sizeof(in));
		in.scheme = s->scheme;
		in.host = host;
		in.path = path;
		in.region = s->region;
		in.access_key = s->access_key;
		in.secret_key = s->secret_key;
		in.now = time(NULL);
		in.expires = seconds > 0 ? seconds : s->presign_seconds;
		rc = lv_s3_presign(out, &in);
	}
	free(host);
	free(path);
	free(fkey);
	return rc;
}

static int s3_local_path(lv_storage *base, const char *key, char **out)
{
	(void)base;
	(void)key;
	*out = NULL;
	return lv_error_set(LV_EINVALID, "storage: objects in S3 storage have no local path");
}

static int s3_remove_full(s3_storage *s, const char *fkey)
{
	s3_call c;
	lv_http_response r;
	int rc;
	memset(&c, 0, sizeof(c));
	c.method = "DELETE";
	c.fkey = fkey;
	c.retries = 2;
	if ((rc = s3_perform(s, &c, &r)) == LV_OK && !ok_status(r.status) && r.status != 404)
		rc = http_error(s, &r, "removing", fkey);
	lv_http_response_free(&r);
	return rc;
}

static int s3_remove(lv_storage *base, const char *key)
{
	s3_storage *s = (s3_storage *)base;
	char *fkey = full_key(s, key);
	int rc;
	if (!fkey)
		return lv_error_last()->status;
	rc = s3_remove_full(s, fkey);
	free(fkey);
	return rc;
}

/* ListObjectsV2 under the prefix, removing each key listed. */
static int s3_remove_prefix(lv_storage *base, const char *prefix)
{
	s3_storage *s = (s3_storage *)base;
	char *fprefix = full_key(s, prefix), *penc = NULL, *token = NULL;
	int rc = LV_OK, round;
	if (!fprefix)
		return lv_error_last()->status;
	if (!(penc = escape(fprefix))) {
		free(fprefix);
		return LV_ENOMEM;
	}
	for (round = 0; rc == LV_OK && round < LIST_MAX_ROUNDS; round++) {
		s3_call c;
		lv_http_response r;
		char *query, *tenc = token ? escape(token) : NULL, more[16], next[1024];
		const char *p;
		if (token && !tenc) {
			rc = LV_ENOMEM;
			break;
		}
		query = tenc ? lv_asprintf("continuation-token=%s&list-type=2&prefix=%s", tenc, penc)
		             : lv_asprintf("list-type=2&prefix=%s", penc);
		free(tenc);
		if (!query) {
			rc = LV_ENOMEM;
			break;
		}
		memset(&c, 0, sizeof(c));
		c.method = "GET";
		c.fkey = "";
		c.query = query;
		c.retries = 2;
		rc = s3_perform(s, &c, &r);
		free(query);
		if (rc == LV_OK && !ok_status(r.status))
			rc = http_error(s, &r, "listing", fprefix);
		for (p = r.body; rc == LV_OK && p && (p = strstr(p, "<Key>")) != NULL;) {
			char k[1100];
			if (!xml_text(p, "Key", k, sizeof(k)))
				break;
			/* Only what the listing was asked for: the prefix is a directory of our own keys. */
			if (!strncmp(k, fprefix, strlen(fprefix)) && (k[strlen(fprefix)] == '/' || !k[strlen(fprefix)]))
				rc = s3_remove_full(s, k);
			p += 5;
		}
		free(token);
		token = NULL;
		if (rc == LV_OK && xml_text(r.body, "IsTruncated", more, sizeof(more)) && !strcmp(more, "true") &&
		    xml_text(r.body, "NextContinuationToken", next, sizeof(next)) && next[0]) {
			if (!(token = lv_strdup(next)))
				rc = LV_ENOMEM;
		}
		lv_http_response_free(&r);
		if (!token)
			break;
	}
	free(token);
	free(penc);
	free(fprefix);
	return rc;
}

/* HEAD on the bucket: reachable, present, and the credentials accepted. */
static int s3_check(lv_storage *base)
{
	s3_storage *s = (s3_storage *)base;
	s3_call c;
	lv_http_response r;
	int rc;
	memset(&c, 0, sizeof(c));
	c.method = "HEAD";
	c.fkey = "";
	c.timeout_ms = 10000;
	c.retries = 1;
	rc = s3_perform(s, &c, &r);
	if (rc != LV_OK)
		rc = lv_error_set(LV_EIO, "storage: cannot reach the endpoint %s (bucket '%s'): %s", s->endpoint,
		                  s->bucket, r.error[0] ? r.error : lv_error_last()->message);
	else if (r.status == 404)
		rc = lv_error_set(LV_EIO, "storage: the bucket '%s' does not exist at the endpoint %s", s->bucket,
		                  s->endpoint);
	else if (r.status == 401 || r.status == 403)
		rc = lv_error_set(LV_EIO,
		                  "storage: the endpoint %s refused the credentials for the bucket '%s' (HTTP %ld): check "
		                  "the keys in the environment variables named by storage.access_key_env and "
		                  "storage.secret_key_env",
		                  s->endpoint, s->bucket, r.status);
	else if (!ok_status(r.status))
		rc = lv_error_set(LV_EIO, "storage: the endpoint %s answered HTTP %ld for the bucket '%s'", s->endpoint,
		                  r.status, s->bucket);
	lv_http_response_free(&r);
	return rc;
}

/* CopyObject (a server-side copy: the bytes never come back through this process), then DELETE. */
static int s3_move(lv_storage *base, const char *from, const char *to, const char *content_type)
{
	s3_storage *s = (s3_storage *)base;
	char *fsrc = full_key(s, from), *fdst = fsrc ? full_key(s, to) : NULL, *src = NULL;
	s3_call c;
	lv_http_response r;
	int rc;
	if (!fsrc || !fdst) {
		free(fsrc);
		return lv_error_last()->status;
	}
	/* Keys are [A-Za-z0-9._-/] only (lv_storage_key_valid): nothing in them needs escaping. */
	if (!(src = lv_asprintf("/%s/%s", s->bucket, fsrc))) {
		rc = LV_ENOMEM;
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.method = "PUT";
	c.fkey = fdst;
	c.content_type = content_type;
	c.copy_source = src;
	c.timeout_ms = 600000;
	c.retries = 2;
	rc = s3_perform(s, &c, &r);
	/* A copy can fail after its 200 was sent: the body then holds an <Error>. */
	if (rc == LV_OK && r.status == 404)
		rc = lv_error_set(LV_ENOTFOUND, "storage: no object '%s'", from);
	else if (rc == LV_OK && (!ok_status(r.status) || (r.body && strstr(r.body, "<Error>"))))
		rc = http_error(s, &r, "copying to", fdst);
	lv_http_response_free(&r);
	if (rc == LV_OK)
		rc = s3_remove_full(s, fsrc);
out:
	free(src);
	free(fsrc);
	free(fdst);
	return rc;
}

static void s3_close(lv_storage *base)
{
	s3_storage *s = (s3_storage *)base;
	if (!s)
		return;
	if (s->secret_key)
		memset(s->secret_key, 0, strlen(s->secret_key));
	free(s->scheme);
	free(s->authority);
	free(s->endpoint);
	free(s->bucket);
	free(s->region);
	free(s->prefix);
	free(s->public_base_url);
	free(s->access_key);
	free(s->secret_key);
	free(s->sigv4);
	free(s->what);
	free(s);
}

static const lv_storage_ops s3_ops = {
	LV_STORAGE_OPS_VERSION, "s3", s3_put_file, s3_get_file, s3_exists, s3_head, s3_read, s3_url, s3_presign,
	s3_local_path, s3_remove, s3_remove_prefix, s3_check, s3_close, s3_move,
};

/* scheme and host[:port] of the endpoint, the scheme's default port left out (clients leave it out of
 * the Host header they sign). */
static int split_endpoint(s3_storage *s, const char *endpoint)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = LV_OK;
	if (!u)
		return lv_error_nomem();
	if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = lv_error_set(LV_ECONFIG, "config: storage.endpoint: '%s' is not a URL", endpoint);
	} else {
		int has_port = curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port;
		int dflt = has_port && ((!strcmp(scheme, "http") && !strcmp(port, "80")) ||
		                        (!strcmp(scheme, "https") && !strcmp(port, "443")));
		s->scheme = lv_strdup(scheme);
		s->authority = has_port && !dflt ? lv_asprintf("%s:%s", host, port) : lv_strdup(host);
		if (!s->scheme || !s->authority)
			rc = LV_ENOMEM;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

int lv_storage_s3_open(lv_storage **out, const lv_s3_conf *conf, int64_t part_size)
{
	s3_storage *s;
	const char *ak, *sk;
	int rc;
	*out = NULL;
	if (!conf->endpoint || !conf->bucket)
		return lv_error_set(LV_ECONFIG, "config: storage.%s: required with storage.type \"s3\"",
		                    conf->endpoint ? "bucket" : "endpoint");
	ak = conf->access_key_env ? getenv(conf->access_key_env) : NULL;
	sk = conf->secret_key_env ? getenv(conf->secret_key_env) : NULL;
	if (!ak || !*ak)
		return lv_error_set(LV_ECONFIG, "storage: the environment variable %s (storage.access_key_env) is not set: "
		                                "export the access key of the bucket '%s' there",
		                    conf->access_key_env ? conf->access_key_env : "?", conf->bucket);
	if (!sk || !*sk)
		return lv_error_set(LV_ECONFIG, "storage: the environment variable %s (storage.secret_key_env) is not set: "
		                                "export the secret key of the bucket '%s' there",
		                    conf->secret_key_env ? conf->secret_key_env : "?", conf->bucket);
	if (part_size && part_size < MIN_PART)
		return lv_error_set(LV_EINVALID, "storage: the part size must be at least %lld bytes", (long long)MIN_PART);
	if (!(s = lv_calloc(1, sizeof(*s))))
		return LV_ENOMEM;
	s->base.ops = &s3_ops;
	s->path_style = conf->path_style;
	s->presign_seconds = conf->presign_seconds > 0 ? conf->presign_seconds : 3600;
	s->part_size = part_size ? part_size : DEFAULT_PART;
	if ((rc = split_endpoint(s, conf->endpoint))) {
		s3_close(&s->base);
		return rc;
	}
	s->endpoint = lv_strdup(conf->endpoint);
	s->bucket = lv_strdup(conf->bucket);
	s->region = lv_strdup(conf->region ? conf->region : "us-east-1");
	s->prefix = lv_strdup(conf->prefix ? conf->prefix : "");
	s->public_base_url = lv_strdup(conf->public_base_url);
	s->access_key = lv_strdup(ak);
	s->secret_key = lv_strdup(sk);
	s->sigv4 = lv_asprintf("aws:amz:%s:s3", s->region ? s->region : "");
	s->what = lv_asprintf("storage (bucket '%s' at %s)", conf->bucket, conf->endpoint);
	if (!s->endpoint || !s->bucket || !s->region || !s->prefix || (conf->public_base_url && !s->public_base_url) ||
	    !s->access_key || !s->secret_key || !s->sigv4 || !s->what) {
		s3_close(&s->base);
		return LV_ENOMEM;
	}
	s->secrets[0] = s->secret_key;
	s->secrets[1] = NULL;
	/* At start-up: a process that cannot use its bucket says so now, naming endpoint and bucket. */
	if ((rc = s3_check(&s->base))) {
		s3_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return LV_OK;
}
