/*
 * The storage vtable, proven the same way on every backend: local directories, and S3 on the
 * S3-compatible server the test run provides (scripts/s3.sh: LV_TEST_S3_ENDPOINT, _BUCKET,
 * _ACCESS_KEY, _SECRET_KEY), path-style and virtual-hosted.  Then what only S3 has: multipart uploads
 * (and their abort on failure, against a scripted fake), presigned URLs (AWS's published example and a
 * real fetch), refused credentials, missing buckets, unreachable endpoints, and one task end to end
 * whose film FFmpeg reads through its capability URL (302 to the bucket) and /content (Range).
 */
#include "compose/compose.h"
#include "config/config.h"
#include "core/engine.h"
#include "fakevendor.h"
#include "harness.h"
#include "longvideo.h"
#include "longvideo/sys/storage.h"
#include "pipeline_util.h"
#include "storage/s3.h"
#include "storage/storage.h"
#include "testutil.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"

#include <libavformat/avformat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PART ((int64_t)5 << 20)

/* ---- the S3 server of the run ------------------------------------------------------------------ */

static const char *s3_endpoint(void)
{
	const char *e = getenv("LV_TEST_S3_ENDPOINT");
	if (e && *e)
		return e;
	ck_assert_msg(!getenv("LV_TEST_S3_REQUIRED") || strcmp(getenv("LV_TEST_S3_REQUIRED"), "1") != 0,
	              "LV_TEST_S3_REQUIRED=1 but LV_TEST_S3_ENDPOINT is not set (start scripts/s3.sh)");
	fprintf(stderr, "SKIP: no S3 server for this run (eval \"$(scripts/s3.sh start)\" to test S3)\n");
	return NULL;
}

static const char *bucket(void)
{
	const char *b = getenv("LV_TEST_S3_BUCKET");
	return b && *b ? b : "lvtest";
}

/* A config for the run's server: path-style unless `vhost` (then s3.localhost:PORT, which libcurl
 * resolves to loopback and s3rver maps to the bucket). */
static void s3_conf(lv_s3_conf *c, const char *endpoint, const char *bkt, int vhost, const char *prefix)
{
	static char vh[128];
	memset(c, 0, sizeof(*c));
	if (vhost) {
		const char *port = strrchr(endpoint, ':');
		snprintf(vh, sizeof(vh), "http://s3.localhost%s", port);
		c->endpoint = vh;
	} else {
		c->endpoint = (char *)endpoint;
	}
	c->bucket = (char *)bkt;
	c->region = (char *)"us-east-1";
	c->prefix = (char *)prefix;
	c->path_style = !vhost;
	c->access_key_env = (char *)"LV_TEST_S3_ACCESS_KEY";
	c->secret_key_env = (char *)"LV_TEST_S3_SECRET_KEY";
	c->presign_seconds = 600;
}

static char *unique(const char *tag)
{
	static unsigned n;
	return lv_asprintf("%s-%ld-%u", tag, (long)getpid(), ++n);
}

/* A file of `size` bytes of a position-dependent pattern. */
static char *pattern_file(const char *dir, const char *name, size_t size)
{
	char *path = lv_path_join(dir, name), *data = malloc(size ? size : 1);
	size_t i;
	FILE *f;
	ck_assert_ptr_nonnull(path);
	ck_assert_ptr_nonnull(data);
	for (i = 0; i < size; i++)
		data[i] = (char)((i * 2654435761u) >> 13);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	ck_assert_uint_eq(fwrite(data, 1, size, f), size);
	fclose(f);
	free(data);
	return path;
}

typedef struct collect {
	lv_buf b;
	int stop_after;
} collect;

static int collect_sink(void *ctx, const void *data, size_t n)
{
	collect *c = ctx;
	if (c->stop_after && c->b.len >= (size_t)c->stop_after)
		return 1;
	return lv_buf_put(&c->b, data, n) == LV_OK ? 0 : 1;
}

/* ---- conformance: the same assertions on every backend ------------------------------------------- */

static void conformance(lv_storage *st, const char *dir, int remote, const char *ns)
{
	const lv_storage_ops *o = st->ops;
	lv_storage_object info;
	collect c;
	char *k1 = lv_asprintf("tasks/%s/a.txt", ns), *k2 = lv_asprintf("tasks/%s/sub/b.bin", ns);
	char *kother = lv_asprintf("tasks/%s0/keep.txt", ns), *kmedia = lv_asprintf("media/%s/tok/final.mp4", ns);
	char *prefix = lv_asprintf("tasks/%s", ns), *src, *src2, *dest = lv_path_join(dir, "got/a.txt"), *out = NULL;
	char *data = NULL, *url = NULL;
	size_t len = 0;
	int found = -1;

	ck_assert_int_eq(o->version, LV_STORAGE_OPS_VERSION);
	ck_assert_int_eq(o->check(st), LV_OK);
	src = lv_test_write_file(dir, "a.txt", "hello, storage");
	src2 = pattern_file(dir, "b.bin", 70000);

	/* put / exists / head / get */
	ck_assert_msg(o->put_file(st, k1, src, "text/plain") == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(o->exists(st, k1, &found), LV_OK);
	ck_assert_int_eq(found, 1);
	ck_assert_int_eq(o->head(st, k1, &info), LV_OK);
	ck_assert_int_eq(info.size, 14);
	if (remote) /* the type stored with the object comes back */
		ck_assert_str_eq(info.content_type, "text/plain");
	ck_assert_int_eq(o->get_file(st, k1, dest, &out), LV_OK);
	ck_assert_int_eq(lv_test_read_file(&data, &len, out), 0);
	ck_assert_uint_eq(len, 14);
	ck_assert(memcmp(data, "hello, storage", 14) == 0);
	free(data);
	free(out);
	out = NULL;

	/* overwrite: readers see the new object */
	ck_assert_int_eq(o->put_file(st, k1, src2, "application/octet-stream"), LV_OK);
	ck_assert_int_eq(o->head(st, k1, &info), LV_OK);
	ck_assert_int_eq(info.size, 70000);
	ck_assert_int_eq(o->put_file(st, k1, src, "text/plain"), LV_OK);

	/* read: whole, a range, to the end, and a sink that stops */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(o->put_file(st, k2, src2, "application/octet-stream"), LV_OK);
	ck_assert_int_eq(o->read(st, k2, 0, -1, collect_sink, &c), LV_OK);
	ck_assert_uint_eq(c.b.len, 70000);
	ck_assert_int_eq(lv_test_read_file(&data, &len, src2), 0);
	ck_assert(memcmp(c.b.data, data, 70000) == 0);
	c.b.len = 0;
	ck_assert_int_eq(o->read(st, k2, 1000, 5000, collect_sink, &c), LV_OK);
	ck_assert_uint_eq(c.b.len, 5000);
	ck_assert(memcmp(c.b.data, data + 1000, 5000) == 0);
	c.b.len = 0;
	ck_assert_int_eq(o->read(st, k2, 69990, -1, collect_sink, &c), LV_OK);
	ck_assert_uint_eq(c.b.len, 10);
	ck_assert(memcmp(c.b.data, data + 69990, 10) == 0);
	c.b.len = 0;
	c.stop_after = 1;
	ck_assert_int_eq(o->read(st, k2, 0, -1, collect_sink, &c), LV_EIO);
	lv_buf_free(&c.b);
	free(data);

	/* absent objects: "not there" is not an error, and every reader says LV_ENOTFOUND */
	{
		char *missing = lv_asprintf("tasks/%s/missing.txt", ns);
		memset(&c, 0, sizeof(c));
		ck_assert_int_eq(o->exists(st, missing, &found), LV_OK);
		ck_assert_int_eq(found, 0);
		ck_assert_int_eq(o->head(st, missing, &info), LV_ENOTFOUND);
		ck_assert_int_eq(o->get_file(st, missing, dest, &out), LV_ENOTFOUND);
		ck_assert_ptr_null(out);
		ck_assert_int_eq(o->read(st, missing, 0, -1, collect_sink, &c), LV_ENOTFOUND);
		ck_assert_int_eq(o->remove(st, missing), LV_OK);
		if (remote) { /* a presigned URL to nothing is refused with a clear error */
			ck_assert_int_eq(o->presign(st, missing, 0, &url), LV_ENOTFOUND);
			ck_assert_ptr_null(url);
			ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "missing.txt"));
		} else {
			ck_assert_int_eq(o->presign(st, missing, 0, &url), LV_EINVALID);
		}
		free(missing);
		lv_buf_free(&c.b);
	}

	/* move: the object is at the new key, with its bytes and type, and gone from the old one */
	{
		char *mfrom = lv_asprintf("tasks/%s/out/0/moved.bin", ns), *mto = lv_asprintf("media/%s/tok2/moved.bin", ns);
		ck_assert_int_eq(o->put_file(st, mfrom, src2, "video/mp4"), LV_OK);
		ck_assert_msg(o->move(st, mfrom, mto, "video/mp4") == LV_OK, "%s", lv_error_last()->message);
		ck_assert_int_eq(o->exists(st, mfrom, &found), LV_OK);
		ck_assert_int_eq(found, 0);
		ck_assert_int_eq(o->head(st, mto, &info), LV_OK);
		ck_assert_int_eq(info.size, 70000);
		if (remote)
			ck_assert_str_eq(info.content_type, "video/mp4");
		memset(&c, 0, sizeof(c));
		ck_assert_int_eq(o->read(st, mto, 0, -1, collect_sink, &c), LV_OK);
		ck_assert_int_eq(lv_test_read_file(&data, &len, src2), 0);
		ck_assert(c.b.len == 70000 && memcmp(c.b.data, data, 70000) == 0);
		free(data);
		lv_buf_free(&c.b);
		ck_assert_int_eq(o->move(st, mfrom, mto, "video/mp4"), LV_ENOTFOUND);
		ck_assert_int_eq(o->remove(st, mto), LV_OK);
		free(mfrom);
		free(mto);
	}

	/* invalid keys are refused, never mapped somewhere */
	ck_assert_int_eq(o->put_file(st, "../escape", src, NULL), LV_EINVALID);
	ck_assert_int_eq(o->exists(st, "/abs", &found), LV_EINVALID);

	/* published keys: the capability path, or the public base + the full key */
	ck_assert_int_eq(o->put_file(st, kmedia, src2, "video/mp4"), LV_OK);
	ck_assert_int_eq(o->head(st, kmedia, &info), LV_OK);
	ck_assert_str_eq(info.content_type, "video/mp4");
	ck_assert_int_eq(o->url(st, kmedia, &url), LV_OK);
	ck_assert_str_eq(url + 1, kmedia);
	free(url);
	ck_assert_int_eq(o->url(st, k1, &url), LV_EINVALID); /* working artifacts are never published */
	if (!remote) {
		ck_assert_int_eq(o->local_path(st, kmedia, &out), LV_OK);
		free(out);
		out = NULL;
	} else {
		ck_assert_int_eq(o->local_path(st, kmedia, &out), LV_EINVALID);
	}

	/* remove and remove_prefix (which stays inside its prefix) */
	ck_assert_int_eq(o->put_file(st, kother, src, "text/plain"), LV_OK);
	ck_assert_int_eq(o->remove_prefix(st, prefix), LV_OK);
	ck_assert_int_eq(o->exists(st, k1, &found), LV_OK);
	ck_assert_int_eq(found, 0);
	ck_assert_int_eq(o->exists(st, k2, &found), LV_OK);
	ck_assert_int_eq(found, 0);
	ck_assert_int_eq(o->exists(st, kother, &found), LV_OK);
	ck_assert_int_eq(found, 1);
	ck_assert_int_eq(o->remove(st, kother), LV_OK);
	ck_assert_int_eq(o->exists(st, kother, &found), LV_OK);
	ck_assert_int_eq(found, 0);
	ck_assert_int_eq(o->remove(st, kmedia), LV_OK);

	free(k1);
	free(k2);
	free(kother);
	free(kmedia);
	free(prefix);
	free(src);
	free(src2);
	free(dest);
}

START_TEST(local_conformance)
{
	char *dir = lv_test_mkdtemp("st-local"), *root = lv_path_join(dir, "objects");
	lv_storage *st = NULL;
	ck_assert_int_eq(lv_storage_local_open(&st, root), LV_OK);
	conformance(st, dir, 0, "loc");
	lv_storage_close(st);
	lv_test_rmdir(dir);
	free(root);
	free(dir);
}
END_TEST

START_TEST(s3_conformance_path_style_with_prefix)
{
	const char *ep = s3_endpoint();
	char *dir, *ns;
	lv_s3_conf c;
	lv_storage *st = NULL;
	if (!ep)
		return;
	dir = lv_test_mkdtemp("st-s3");
	ns = unique("ps");
	s3_conf(&c, ep, bucket(), 0, "deploy/a/");
	ck_assert_msg(lv_storage_s3_open(&st, &c, 0) == LV_OK, "%s", lv_error_last()->message);
	conformance(st, dir, 1, ns);
	lv_storage_close(st);
	lv_test_rmdir(dir);
	free(dir);
	free(ns);
}
END_TEST

START_TEST(s3_conformance_virtual_hosted)
{
	const char *ep = s3_endpoint();
	char *dir, *ns;
	lv_s3_conf c;
	lv_storage *st = NULL;
	if (!ep)
		return;
	dir = lv_test_mkdtemp("st-s3vh");
	ns = unique("vh");
	s3_conf(&c, ep, bucket(), 1, "");
	ck_assert_msg(lv_storage_s3_open(&st, &c, 0) == LV_OK, "%s", lv_error_last()->message);
	conformance(st, dir, 1, ns);
	lv_storage_close(st);
	lv_test_rmdir(dir);
	free(dir);
	free(ns);
}
END_TEST

/* ---- S3 only ------------------------------------------------------------------------------------ */

START_TEST(s3_multipart_upload_of_a_big_file)
{
	const char *ep = s3_endpoint();
	char *dir, *ns, *key, *src, *dest, *out = NULL, *a = NULL, *b = NULL, *url = NULL, etag[80], buf[80];
	size_t la = 0, lb = 0;
	lv_s3_conf c;
	lv_storage *st = NULL;
	lv_storage_object info;
	lv_test_response r;
	if (!ep)
		return;
	dir = lv_test_mkdtemp("st-mp");
	ns = unique("mp");
	key = lv_asprintf("tasks/%s/big.mp4", ns);
	s3_conf(&c, ep, bucket(), 0, "");
	ck_assert_int_eq(lv_storage_s3_open(&st, &c, PART), LV_OK);
	/* two full parts and a short last one */
	src = pattern_file(dir, "big.bin", (size_t)(2 * PART + 12345));
	ck_assert_msg(st->ops->put_file(st, key, src, "video/mp4") == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(st->ops->head(st, key, &info), LV_OK);
	ck_assert_int_eq(info.size, 2 * PART + 12345);
	ck_assert_str_eq(info.content_type, "video/mp4");
	/* A plain client reads the assembled object through a presigned URL. */
	ck_assert_int_eq(st->ops->presign(st, key, 60, &url), LV_OK);
	ck_assert_int_eq(lv_test_http(&r, "HEAD", url, NULL, NULL, 0), 0);
	ck_assert_int_eq(r.status, 200);
	snprintf(etag, sizeof(etag), "%lld", (long long)(2 * PART + 12345));
	ck_assert_str_eq(lv_test_header(&r, "Content-Length", buf, sizeof(buf)), etag);
	lv_test_response_free(&r);
	/* streamed back to a file, byte for byte */
	dest = lv_path_join(dir, "down/big.bin");
	ck_assert_int_eq(st->ops->get_file(st, key, dest, &out), LV_OK);
	ck_assert_int_eq(lv_test_read_file(&a, &la, src), 0);
	ck_assert_int_eq(lv_test_read_file(&b, &lb, out), 0);
	ck_assert_uint_eq(la, lb);
	ck_assert(memcmp(a, b, la) == 0);
	ck_assert_int_eq(st->ops->remove(st, key), LV_OK);
	free(a);
	free(b);
	free(out);
	free(url);
	free(dest);
	free(src);
	free(key);
	lv_storage_close(st);
	lv_test_rmdir(dir);
	free(dir);
	free(ns);
}
END_TEST

/* A scripted S3: the bucket answers HEAD, an upload starts, part 1 is taken, part 2 always fails. */
static void fake_part(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	(void)f;
	(void)ctx;
	if (strstr(req->query, "partNumber=1&")) {
		out->status = 200;
		out->headers = "ETag: \"etag-one\"\r\n";
		out->body = "";
	} else {
		out->status = 500;
		out->content_type = "application/xml";
		out->body = "<Error><Code>InternalError</Code><Message>disk on fire</Message></Error>";
	}
}

static lv_fake *fake_s3(void)
{
	lv_fake *f = lv_fake_start();
	lv_fake_response ok = { 200, NULL, "", 0, NULL, "application/xml", 0, 0 };
	lv_fake_response init = { 200, NULL,
		                  "<InitiateMultipartUploadResult><Bucket>fakebucket</Bucket><Key>k</Key>"
		                  "<UploadId>up/1+2=</UploadId></InitiateMultipartUploadResult>",
		                  0, NULL, "application/xml", 0, 0 };
	ck_assert_ptr_nonnull(f);
	lv_fake_on(f, "HEAD", "/fakebucket", &ok);
	lv_fake_on(f, "POST", "/fakebucket/*", &init);
	lv_fake_on(f, "DELETE", "/fakebucket/*", &ok);
	lv_fake_handle(f, "PUT", "/fakebucket/*", fake_part, NULL);
	return f;
}

/* The parts as S3 wants them: canonical queries, exact sizes, every ETag in the completion, in order. */
static void fake_part_ok(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	static const char *const etags[] = { "ETag: \"e1\"\r\n", "ETag: \"e2\"\r\n", "ETag: \"e3\"\r\n" };
	int n = atoi(req->query + strlen("partNumber="));
	(void)f;
	(void)ctx;
	out->status = n >= 1 && n <= 3 ? 200 : 400;
	out->headers = n >= 1 && n <= 3 ? etags[n - 1] : NULL;
	out->body = "";
}

START_TEST(s3_multipart_parts_and_completion)
{
	lv_fake *f = lv_fake_start();
	lv_fake_response ok = { 200, NULL, "", 0, NULL, "application/xml", 0, 0 };
	lv_fake_response init = { 200, NULL, "<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>",
		                  0, NULL, "application/xml", 0, 0 };
	lv_fake_response done = { 200, NULL, "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag></CompleteMultipartUploadResult>",
		                  0, NULL, "application/xml", 0, 0 };
	char *dir = lv_test_mkdtemp("st-parts"), *src;
	lv_s3_conf c;
	lv_storage *st = NULL;
	lv_fake_request *rq;
	size_t i, n, part = 0;
	const size_t sizes[] = { (size_t)PART, (size_t)PART, 777 };
	ck_assert_ptr_nonnull(f);
	lv_fake_on(f, "HEAD", "/fakebucket", &ok);
	lv_fake_on(f, "POST", "/fakebucket/*", &init);
	lv_fake_on(f, "POST", "/fakebucket/*", &done);
	lv_fake_handle(f, "PUT", "/fakebucket/*", fake_part_ok, NULL);
	setenv("LV_TEST_FAKE_AK", "AKIDFAKE", 1);
	setenv("LV_TEST_FAKE_SK", "fake-secret", 1);
	s3_conf(&c, lv_fake_url(f), "fakebucket", 0, "pre/");
	c.access_key_env = (char *)"LV_TEST_FAKE_AK";
	c.secret_key_env = (char *)"LV_TEST_FAKE_SK";
	ck_assert_int_eq(lv_storage_s3_open(&st, &c, PART), LV_OK);
	src = pattern_file(dir, "big.bin", (size_t)(2 * PART + 777));
	ck_assert_msg(st->ops->put_file(st, "tasks/y/big.mp4", src, "video/mp4") == LV_OK, "%s", lv_error_last()->message);
	n = lv_fake_requests(f);
	for (i = 0; i < n; i++) {
		char want[64];
		rq = lv_fake_request_get(f, i);
		if (!strcmp(rq->method, "PUT")) {
			ck_assert_str_eq(rq->path, "/fakebucket/pre/tasks/y/big.mp4");
			snprintf(want, sizeof(want), "partNumber=%zu&uploadId=U1", part + 1);
			ck_assert_str_eq(rq->query, want);
			ck_assert_uint_eq(rq->body_len, sizes[part]);
			part++;
		}
		lv_fake_request_free(rq);
	}
	ck_assert_uint_eq(part, 3);
	rq = lv_fake_last(f, "POST", "/fakebucket/pre/tasks/y/big.mp4");
	ck_assert_str_eq(rq->query, "uploadId=U1");
	ck_assert_str_eq(rq->body, "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"
	                           "<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part>"
	                           "<Part><PartNumber>3</PartNumber><ETag>\"e3\"</ETag></Part></CompleteMultipartUpload>");
	lv_fake_request_free(rq);
	ck_assert_uint_eq(lv_fake_count(f, "DELETE", "/fakebucket/*"), 0);
	lv_storage_close(st);
	lv_fake_stop(f);
	free(src);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(s3_a_failed_multipart_upload_is_aborted)
{
	lv_fake *f = fake_s3();
	char *dir = lv_test_mkdtemp("st-abort"), *src, buf[300];
	lv_s3_conf c;
	lv_storage *st = NULL;
	lv_fake_request *rq;
	size_t i, n, puts = 0;
	setenv("LV_TEST_FAKE_AK", "AKIDFAKE", 1);
	setenv("LV_TEST_FAKE_SK", "fake-secret-never-shown", 1);
	s3_conf(&c, lv_fake_url(f), "fakebucket", 0, "");
	c.access_key_env = (char *)"LV_TEST_FAKE_AK";
	c.secret_key_env = (char *)"LV_TEST_FAKE_SK";
	ck_assert_msg(lv_storage_s3_open(&st, &c, PART) == LV_OK, "%s", lv_error_last()->message);
	src = pattern_file(dir, "big.bin", (size_t)(PART + 1000));
	ck_assert_int_eq(st->ops->put_file(st, "tasks/x/big.mp4", src, "video/mp4"), LV_EIO);
	ck_assert_msg(strstr(lv_error_last()->message, "InternalError") && strstr(lv_error_last()->message, "fakebucket"),
	              "%s", lv_error_last()->message);
	ck_assert_ptr_null(strstr(lv_error_last()->message, "fake-secret"));
	/* Started with ?uploads=, then DELETE ?uploadId=<escaped id>, and never completed. */
	n = lv_fake_requests(f);
	for (i = 0; i < n; i++) {
		rq = lv_fake_request_get(f, i);
		if (!strcmp(rq->method, "PUT")) {
			puts++;
			ck_assert_ptr_nonnull(lv_fake_header(rq, "authorization", buf, sizeof(buf)));
			ck_assert(strncmp(buf, "AWS4-HMAC-SHA256 Credential=AKIDFAKE/", 37) == 0);
			ck_assert_str_eq(lv_fake_header(rq, "x-amz-content-sha256", buf, sizeof(buf)), "UNSIGNED-PAYLOAD");
		}
		lv_fake_request_free(rq);
	}
	ck_assert_uint_ge(puts, 2);
	rq = lv_fake_last(f, "POST", "/fakebucket/tasks/x/big.mp4");
	ck_assert_ptr_nonnull(rq);
	ck_assert_str_eq(rq->query, "uploads=");
	ck_assert_str_eq(lv_fake_header(rq, "content-type", buf, sizeof(buf)), "video/mp4");
	lv_fake_request_free(rq);
	ck_assert_uint_eq(lv_fake_count(f, "POST", "/fakebucket/tasks/x/big.mp4"), 1);
	rq = lv_fake_last(f, "DELETE", "/fakebucket/tasks/x/big.mp4");
	ck_assert_ptr_nonnull(rq);
	ck_assert_str_eq(rq->query, "uploadId=up%2F1%2B2%3D");
	lv_fake_request_free(rq);
	lv_storage_close(st);
	lv_fake_stop(f);
	free(src);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

/* An answer that is neither "here" nor "not here" is an error, never taken for absence. */
START_TEST(s3_errors_are_not_absence)
{
	lv_fake *f = lv_fake_start();
	lv_fake_response ok = { 200, NULL, "", 0, NULL, "application/xml", 0, 0 };
	lv_fake_response denied = { 403, NULL, "", 0, NULL, "application/xml", 0, 0 };
	lv_fake_response broken = { 503, NULL, "", 0, NULL, "application/xml", 0, 0 };
	lv_fake_response gone = { 404, NULL, "", 0, NULL, "application/xml", 0, 0 };
	lv_s3_conf c;
	lv_storage *st = NULL;
	lv_storage_object info;
	int found = -1;
	ck_assert_ptr_nonnull(f);
	lv_fake_on(f, "HEAD", "/fakebucket", &ok);
	lv_fake_on(f, "HEAD", "/fakebucket/tasks/a/denied.png", &denied);
	lv_fake_on(f, "HEAD", "/fakebucket/tasks/a/broken.png", &broken);
	lv_fake_on(f, "HEAD", "/fakebucket/tasks/a/gone.png", &gone);
	setenv("LV_TEST_FAKE_AK", "AKIDFAKE", 1);
	setenv("LV_TEST_FAKE_SK", "fake-secret", 1);
	s3_conf(&c, lv_fake_url(f), "fakebucket", 0, "");
	c.access_key_env = (char *)"LV_TEST_FAKE_AK";
	c.secret_key_env = (char *)"LV_TEST_FAKE_SK";
	ck_assert_int_eq(lv_storage_s3_open(&st, &c, 0), LV_OK);
	ck_assert_int_eq(st->ops->exists(st, "tasks/a/gone.png", &found), LV_OK);
	ck_assert_int_eq(found, 0);
	ck_assert_int_eq(st->ops->exists(st, "tasks/a/denied.png", &found), LV_EIO);
	ck_assert_int_eq(found, 0);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "access refused"));
	ck_assert_int_eq(st->ops->head(st, "tasks/a/broken.png", &info), LV_EIO);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "HTTP 503"));
	ck_assert_uint_eq(lv_fake_count(f, "HEAD", "/fakebucket/tasks/a/broken.png"), 3); /* retried twice */
	lv_storage_close(st);
	lv_fake_stop(f);
}
END_TEST

/* AWS's published example of a presigned URL (S3 API reference, "Authenticating Requests: Using Query
 * Parameters (AWS Signature Version 4)"). */
START_TEST(presign_matches_the_aws_example)
{
	lv_s3_presign_in in;
	char *url = NULL;
	memset(&in, 0, sizeof(in));
	in.scheme = "https";
	in.host = "examplebucket.s3.amazonaws.com";
	in.path = "/test.txt";
	in.region = "us-east-1";
	in.access_key = "AKIAIOSFODNN7EXAMPLE";
	in.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	in.now = 1369353600; /* 2013-05-24T00:00:00Z */
	in.expires = 86400;
	ck_assert_int_eq(lv_s3_presign(&url, &in), LV_OK);
	ck_assert_str_eq(url, "https://examplebucket.s3.amazonaws.com/test.txt"
	                      "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	                      "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
	                      "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
	                      "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	free(url);
	in.expires = 0;
	ck_assert_int_eq(lv_s3_presign(&url, &in), LV_EINVALID);
}
END_TEST

START_TEST(s3_presigned_url_fetches_the_object)
{
	const char *ep = s3_endpoint();
	char *dir, *ns, *key, *src, *url = NULL, buf[100];
	lv_s3_conf c;
	lv_storage *st = NULL;
	lv_test_response r;
	const char *range[] = { "Range: bytes=7-13", NULL };
	if (!ep)
		return;
	dir = lv_test_mkdtemp("st-pre");
	ns = unique("pre");
	key = lv_asprintf("media/%s/tok/final.vtt", ns);
	s3_conf(&c, ep, bucket(), 0, "p/");
	ck_assert_int_eq(lv_storage_s3_open(&st, &c, 0), LV_OK);
	src = lv_test_write_file(dir, "f.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n");
	ck_assert_int_eq(st->ops->put_file(st, key, src, "text/vtt; charset=utf-8"), LV_OK);
	ck_assert_int_eq(st->ops->presign(st, key, 0, &url), LV_OK);
	ck_assert_msg(strstr(url, "X-Amz-Expires=600&") && strstr(url, "X-Amz-Signature="), "%s", url);
	ck_assert_msg(strncmp(url, ep, strlen(ep)) == 0 && strstr(url, "/p/media/"), "%s", url);
	/* a plain client (no credentials) gets the object and its type, and ranges work against the store */
	ck_assert_int_eq(lv_test_http(&r, "GET", url, NULL, NULL, 0), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, 35);
	ck_assert(memcmp(r.body, "WEBVTT", 6) == 0);
	ck_assert_str_eq(lv_test_header(&r, "Content-Type", buf, sizeof(buf)), "text/vtt; charset=utf-8");
	lv_test_response_free(&r);
	ck_assert_int_eq(lv_test_http(&r, "GET", url, range, NULL, 0), 0);
	ck_assert_int_eq(r.status, 206);
	ck_assert_uint_eq(r.body_len, 7);
	ck_assert(memcmp(r.body, "\n00:00.", 7) == 0);
	lv_test_response_free(&r);
	ck_assert_int_eq(st->ops->remove(st, key), LV_OK);
	free(url);
	free(src);
	free(key);
	lv_storage_close(st);
	lv_test_rmdir(dir);
	free(dir);
	free(ns);
}
END_TEST

START_TEST(s3_public_base_url_joins_the_full_key)
{
	const char *ep = s3_endpoint();
	lv_s3_conf c;
	lv_storage *st = NULL;
	char *url = NULL;
	if (!ep)
		return;
	s3_conf(&c, ep, bucket(), 0, "films/");
	c.public_base_url = (char *)"https://cdn.example.com/v";
	ck_assert_int_eq(lv_storage_s3_open(&st, &c, 0), LV_OK);
	ck_assert_int_eq(st->ops->url(st, "media/vid_1/tok/final.mp4", &url), LV_OK);
	ck_assert_str_eq(url, "https://cdn.example.com/v/films/media/vid_1/tok/final.mp4");
	free(url);
	lv_storage_close(st);
}
END_TEST

/* Start-up failures: each names the endpoint and the bucket. */
START_TEST(s3_refusals_at_open)
{
	const char *ep = s3_endpoint();
	lv_s3_conf c;
	lv_storage *st = NULL;
	const char *msg;
	lv_fake *f;
	lv_fake_response denied = { 403, NULL, "", 0, NULL, "application/xml", 0, 0 };
	if (!ep)
		return;
	/* a bucket that does not exist */
	s3_conf(&c, ep, "no-such-bucket-here", 0, "");
	ck_assert_int_eq(lv_storage_s3_open(&st, &c, 0), LV_EIO);
	ck_assert_ptr_null(st);
	msg = lv_error_last()->message;
	ck_assert_msg(strstr(msg, "no-such-bucket-here") && strstr(msg, ep) && strstr(msg, "does not exist"), "%s", msg);
	/* credentials the server does not know */
	setenv("LV_TEST_WRONG_AK", "NOT-A-KEY", 1);
	s3_conf(&c, ep, bucket(), 0, "");
	c.access_key_env = (char *)"LV_TEST_WRONG_AK";
	ck_assert_int_eq(lv_storage_s3_open(&st, &c, 0), LV_EIO);
	msg = lv_error_last()->message;
	ck_assert_msg(strstr(msg, "refused the credentials") && strstr(msg, bucket()) && strstr(msg, ep), "%s", msg);
	/* a wrong secret, where the server checks signatures (scripted) */
	f = lv_fake_start();
	lv_fake_on(f, "HEAD", "/fakebucket", &denied);
	setenv("LV_TEST_FAKE_AK", "AKIDFAKE", 1);
	setenv("LV_TEST_FAKE_SK", "wrong-secret-never-shown", 1);
	s3_conf(&c, lv_fake_url(f), "fakebucket", 0, "");
	c.access_key_env = (char *)"LV_TEST_FAKE_AK";
	c.secret_key_env = (char *)"LV_TEST_FAKE_SK";
	ck_assert_int_eq(lv_storage_s3_open(&st, &c, 0), LV_EIO);
	msg = lv_error_last()->message;
	ck_assert_msg(strstr(msg, "refused the credentials") && strstr(msg, "fakebucket") && !strstr(msg, "wrong-secret"),
	              "%s", msg);
	lv_fake_stop(f);
	/* nothing listening */
	s3_conf(&c, "http://127.0.0.1:1", bucket(), 0, "");
	ck_assert_int_eq(lv_storage_s3_open(&st, &c, 0), LV_EIO);
	msg = lv_error_last()->message;
	ck_assert_msg(strstr(msg, "cannot reach") && strstr(msg, "http://127.0.0.1:1") && strstr(msg, bucket()), "%s",
	              msg);
	/* keys missing from the environment */
	unsetenv("LV_TEST_UNSET_SK");
	s3_conf(&c, ep, bucket(), 0, "");
	c.secret_key_env = (char *)"LV_TEST_UNSET_SK";
	ck_assert_int_eq(lv_storage_s3_open(&st, &c, 0), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "LV_TEST_UNSET_SK"));
}
END_TEST

/* ---- configuration ------------------------------------------------------------------------------- */

static int load(const char *json, lv_config **cfg)
{
	return lv_config_load(cfg, NULL, json, NULL);
}

static void refused(const char *storage, const char *want)
{
	lv_config *cfg = NULL;
	char *json = lv_asprintf("{\"storage\":%s}", storage);
	ck_assert_int_eq(load(json, &cfg), LV_ECONFIG);
	ck_assert_msg(strstr(lv_error_last()->message, want), "%s: %s", storage, lv_error_last()->message);
	free(json);
}

START_TEST(s3_config_is_validated)
{
	lv_config *cfg = NULL;
	refused("{\"type\":\"s3\",\"bucket\":\"b-1\"}", "storage.endpoint: required");
	refused("{\"type\":\"s3\",\"endpoint\":\"http://127.0.0.1:9000\"}", "storage.bucket: required");
	refused("{\"type\":\"s3\",\"endpoint\":\"http://h\",\"bucket\":\"b-1\",\"dir\":\"x\"}", "storage.dir: unknown key");
	refused("{\"type\":\"s3\",\"endpoint\":\"http://h\",\"bucket\":\"b-1\",\"secret_key\":\"x\"}",
	        "storage.secret_key: credentials are never read from the config file");
	refused("{\"type\":\"s3\",\"endpoint\":\"http://h/bucket\",\"bucket\":\"b-1\"}", "storage.endpoint");
	refused("{\"type\":\"s3\",\"endpoint\":\"ftp://h\",\"bucket\":\"b-1\"}", "storage.endpoint");
	refused("{\"type\":\"s3\",\"endpoint\":\"http://h\",\"bucket\":\"B_1\"}", "storage.bucket");
	refused("{\"type\":\"s3\",\"endpoint\":\"http://h\",\"bucket\":\"b-1\",\"prefix\":\"../x\"}", "storage.prefix");
	refused("{\"type\":\"s3\",\"endpoint\":\"http://h\",\"bucket\":\"b-1\",\"path_style\":\"yes\"}",
	        "storage.path_style");
	refused("{\"type\":\"s3\",\"endpoint\":\"http://h\",\"bucket\":\"b-1\",\"presign_seconds\":0}",
	        "storage.presign_seconds");
	refused("{\"type\":\"s3\",\"endpoint\":\"http://h\",\"bucket\":\"b-1\",\"access_key_env\":\"not a name\"}",
	        "storage.access_key_env");
	refused("{\"type\":\"local\",\"bucket\":\"b-1\"}", "storage.bucket: unknown key");
	/* the shape of SPEC §7, with its defaults */
	ck_assert_int_eq(load("{\"storage\":{\"type\":\"s3\",\"endpoint\":\"https://s3.example.com/\",\"region\":\"eu-west-1\","
	                      "\"bucket\":\"longvideo\",\"prefix\":\"prod\",\"path_style\":false,"
	                      "\"access_key_env\":\"AWS_ACCESS_KEY_ID\",\"secret_key_env\":\"AWS_SECRET_ACCESS_KEY\","
	                      "\"public_base_url\":null}}",
	                      &cfg),
	                 LV_OK);
	ck_assert_str_eq(cfg->s3.endpoint, "https://s3.example.com");
	ck_assert_str_eq(cfg->s3.region, "eu-west-1");
	ck_assert_str_eq(cfg->s3.prefix, "prod/");
	ck_assert_int_eq(cfg->s3.path_style, 0);
	ck_assert_int_eq(cfg->s3.presign_seconds, 3600);
	ck_assert_ptr_null(cfg->s3.public_base_url);
	lv_config_free(cfg);
}
END_TEST

/* ---- end to end ---------------------------------------------------------------------------------- */

static char *s3_config_json(const char *ep, const char *prefix)
{
	return lv_asprintf("{\"storage\":{\"type\":\"s3\",\"endpoint\":\"%s\",\"bucket\":\"%s\",\"prefix\":\"%s\","
	                   "\"path_style\":true,\"access_key_env\":\"LV_TEST_S3_ACCESS_KEY\","
	                   "\"secret_key_env\":\"LV_TEST_S3_SECRET_KEY\",\"presign_seconds\":300},"
	                   "\"pipeline\":{\"lease_seconds\":5}}",
	                   ep, bucket(), prefix);
}

/* Read a film over HTTP with FFmpeg (following redirects): its duration and video packets. */
static void ffmpeg_reads(const char *url, double seconds)
{
	AVFormatContext *fc = NULL;
	AVPacket *pkt = av_packet_alloc();
	int vs, packets = 0, rc;
	rc = avformat_open_input(&fc, url, NULL, NULL);
	ck_assert_msg(rc == 0, "open %s: %d", url, rc);
	ck_assert_int_ge(avformat_find_stream_info(fc, NULL), 0);
	vs = av_find_best_stream(fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	ck_assert_int_ge(vs, 0);
	ck_assert_int_ge(av_find_best_stream(fc, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0), 0);
	ck_assert_msg(fabs((double)fc->duration / AV_TIME_BASE - seconds) < 0.2, "duration %.3f",
	              (double)fc->duration / AV_TIME_BASE);
	while (av_read_frame(fc, pkt) >= 0) {
		packets += pkt->stream_index == vs;
		av_packet_unref(pkt);
	}
	ck_assert_int_ge(packets, (int)(seconds * 20));
	av_packet_free(&pkt);
	avformat_close_input(&fc);
}

START_TEST(s3_task_end_to_end)
{
	const char *ep = s3_endpoint();
	char *json, *prefix, id[64], url[600], loc[1200], buf[200], auth[160], media[300], *cfgpath, *path, *key;
	lv_pt pt;
	lv_task *t;
	cJSON *j;
	lv_test_server srv;
	lv_test_response r;
	lv_storage_object info;
	collect head;
	int found = 0;
	const char *hk[] = { auth, NULL };
	const char *hr[] = { auth, "Range: bytes=100-1099", NULL };
	const char *hbad[] = { auth, "Range: bytes=999999999-", NULL };
	if (!ep)
		return;
	prefix = unique("e2e");
	json = s3_config_json(ep, prefix);
	lv_pt_open(&pt, "st-e2e", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"A lighthouse keeper named Ada watches a storm\",\"duration\":4}", id);
	t = lv_pt_wait(&pt, id, -1, 300);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_COMPLETED);
	lv_task_free(t);
	lv_workers_stop(pt.workers);
	pt.workers = NULL;

	/* Everything the task made is in the bucket; nothing under the data dir's media. */
	j = lv_pt_json(&pt, id);
	snprintf(url, sizeof(url), "%s", lv_json_get_str(j, "result_url"));
	cJSON_Delete(j);
	ck_assert_msg(!strncmp(url, "http://127.0.0.1:9/media/", 25), "%s", url);
	lv_strlcpy(media, url + 18, sizeof(media));
	/* (No style frame is made: anchors are the characters' pictures; the segment's type is checked.) */
	key = lv_asprintf("tasks/%s/segments/000.mp4", id);
	ck_assert_int_eq(pt.engine->storage->ops->head(pt.engine->storage, key, &info), LV_OK);
	ck_assert_str_eq(info.content_type, "video/mp4");
	free(key);
	key = lv_asprintf("tasks/%s/segments/000.mp4", id);
	ck_assert_int_eq(pt.engine->storage->ops->exists(pt.engine->storage, key, &found), LV_OK);
	ck_assert_msg(found, "%s not in the bucket", key);
	free(key);
	ck_assert_int_eq(pt.engine->storage->ops->head(pt.engine->storage, media + 1, &info), LV_OK);
	ck_assert_str_eq(info.content_type, "video/mp4");
	{ /* the quality report beside the film in the bucket, the same as the task's qc */
		char *qkey = lv_asprintf("%.*s/qc.json", (int)(strrchr(media, '/') - media - 1), media + 1);
		cJSON *stored, *task = lv_pt_json(&pt, id);
		collect q;
		memset(&q, 0, sizeof(q));
		ck_assert_int_eq(pt.engine->storage->ops->head(pt.engine->storage, qkey, &info), LV_OK);
		ck_assert_str_eq(info.content_type, "application/json");
		ck_assert_int_eq(pt.engine->storage->ops->read(pt.engine->storage, qkey, 0, -1, collect_sink, &q), LV_OK);
		stored = cJSON_ParseWithLength(q.b.data, q.b.len);
		ck_assert_ptr_nonnull(stored);
		ck_assert(cJSON_IsObject(cJSON_GetObjectItem(stored, "loudness_lufs")));
		ck_assert(cJSON_Compare(stored, cJSON_GetObjectItem(task, "qc"), 1));
		cJSON_Delete(stored);
		cJSON_Delete(task);
		lv_buf_free(&q.b);
		free(qkey);
	}
	path = lv_path_join(pt.dir, "media");
	ck_assert(!lv_path_exists(path));
	free(path);

	/* lvserver on the same store and bucket */
	cfgpath = lv_test_write_file(pt.dir, "config.json", json);
	ck_assert_int_eq(lv_test_server_start(&srv, pt.dir, cfgpath, (const char *const[]){ "--workers", "0", NULL }),
	                 0);
	snprintf(url, sizeof(url), "%s%s", srv.base_url, media);
	/* the capability URL: 302, not cached, to a presigned URL of the bucket */
	ck_assert_int_eq(lv_test_http(&r, "GET", url, NULL, NULL, 0), 0);
	ck_assert_int_eq(r.status, 302);
	ck_assert_ptr_nonnull(lv_test_header(&r, "Location", loc, sizeof(loc)));
	ck_assert_msg(!strncmp(loc, ep, strlen(ep)) && strstr(loc, "X-Amz-Signature=") && strstr(loc, "X-Amz-Expires=300"),
	              "%s", loc);
	ck_assert_str_eq(lv_test_header(&r, "Cache-Control", buf, sizeof(buf)), "no-store");
	lv_test_response_free(&r);
	/* FFmpeg follows it and reads the whole film (seeking with ranges against the store) */
	ffmpeg_reads(url, 4.0);

	/* /content streams through the server, with Range */
	snprintf(url, sizeof(url), "%s/v1/videos/%s/content", srv.base_url, id);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", lv_key_secret(pt.key));
	memset(&head, 0, sizeof(head));
	ck_assert_int_eq(pt.engine->storage->ops->read(pt.engine->storage, media + 1, 0, -1, collect_sink, &head), LV_OK);
	ck_assert_int_eq(lv_test_http(&r, "GET", url, hk, NULL, 0), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, head.b.len);
	ck_assert(memcmp(r.body, head.b.data, head.b.len) == 0);
	ck_assert_str_eq(lv_test_header(&r, "Content-Type", buf, sizeof(buf)), "video/mp4");
	ck_assert_str_eq(lv_test_header(&r, "Accept-Ranges", buf, sizeof(buf)), "bytes");
	lv_test_response_free(&r);
	ck_assert_int_eq(lv_test_http(&r, "GET", url, hr, NULL, 0), 0);
	ck_assert_int_eq(r.status, 206);
	ck_assert_uint_eq(r.body_len, 1000);
	ck_assert(memcmp(r.body, head.b.data + 100, 1000) == 0);
	snprintf(loc, sizeof(loc), "bytes 100-1099/%zu", head.b.len);
	ck_assert_str_eq(lv_test_header(&r, "Content-Range", buf, sizeof(buf)), loc);
	lv_test_response_free(&r);
	ck_assert_int_eq(lv_test_http(&r, "GET", url, hbad, NULL, 0), 0);
	ck_assert_int_eq(r.status, 416);
	lv_test_response_free(&r);
	ck_assert_int_eq(lv_test_http(&r, "HEAD", url, hk, NULL, 0), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, 0);
	snprintf(loc, sizeof(loc), "%zu", head.b.len);
	ck_assert_str_eq(lv_test_header(&r, "Content-Length", buf, sizeof(buf)), loc);
	lv_test_response_free(&r);
	lv_buf_free(&head.b);
	ck_assert_int_eq(lv_test_server_stop(&srv), 0);

	/* any process prints the same URLs: lvctl with --public-url (as server.public_url) */
	{
		lv_test_run run;
		char envkey[160];
		const char *argv[] = { "--config", cfgpath, "--data-dir", pt.dir, "--public-url", "https://lb.example.com",
			               "--json", "get", id, NULL };
		const char *env[] = { envkey, NULL };
		snprintf(envkey, sizeof(envkey), "LV_API_KEY=%s", lv_key_secret(pt.key));
		ck_assert_int_eq(lv_test_exec(&run, "lvctl", argv, NULL, env), 0);
		ck_assert_msg(run.exit_code == 0, "%s", run.err);
		j = cJSON_Parse(run.out);
		snprintf(loc, sizeof(loc), "https://lb.example.com%s", media);
		ck_assert_str_eq(lv_json_get_str(j, "result_url"), loc);
		cJSON_Delete(j);
		lv_test_run_free(&run);
	}

	/* the film saved from the bucket is a film */
	{
		lv_media_info mi;
		char *dest = lv_path_join(pt.dir, "saved.mp4");
		ck_assert_int_eq(lv_media_save_film(pt.engine, pt.key, id, dest), LV_OK);
		ck_assert_int_eq(lv_media_probe(&mi, dest), LV_OK);
		ck_assert(mi.has_video && mi.has_audio);
		free(dest);
	}
	free(cfgpath);
	lv_pt_close(&pt);
	free(json);
	free(prefix);
}
END_TEST

/* A worker process killed mid-task, its data directory gone: another process with its own data
 * directory resumes the task from the store and the bucket alone, and the film plays. */
START_TEST(s3_another_process_resumes_from_the_bucket)
{
	const char *ep = s3_endpoint();
	char *base, *dira, *dirb, *dirt, *json, *cfg, *prefix, id[64], url[700];
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *e = NULL;
	lv_key *k = NULL;
	lv_task *t = NULL;
	lv_test_server a, b;
	cJSON *j;
	int status = 0, i;
	const char *extra[] = { "--workers", "1", NULL };
	if (!ep)
		return;
	base = lv_test_mkdtemp("st-resume");
	dira = lv_path_join(base, "a");
	dirb = lv_path_join(base, "b");
	dirt = lv_path_join(base, "t");
	prefix = unique("resume");
	ck_assert_int_eq(lv_mkdir_p(dira, 0), LV_OK);
	ck_assert_int_eq(lv_mkdir_p(dirb, 0), LV_OK);
	setenv("LV_MASTER_KEY", "c2hhcmVkLW1hc3Rlci1rZXktZm9yLWFsbC1wcm9jZXNzZXMtb2YtdGhlLXRlc3Q=", 1);
	json = lv_asprintf("{\"store\":\"sqlite:%s/shared.db\","
	                   "\"storage\":{\"type\":\"s3\",\"endpoint\":\"%s\",\"bucket\":\"%s\",\"prefix\":\"%s\","
	                   "\"path_style\":true,\"access_key_env\":\"LV_TEST_S3_ACCESS_KEY\","
	                   "\"secret_key_env\":\"LV_TEST_S3_SECRET_KEY\"},"
	                   "\"pipeline\":{\"lease_seconds\":2},"
	                   "\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":2500}}}",
	                   base, ep, bucket(), prefix);
	cfg = lv_test_write_file(base, "config.json", json);
	o.config_path = cfg;
	o.data_dir = dirt;
	ck_assert_msg(lv_engine_open(&e, &o) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_key_create(&k, e, "resume", 100000000), LV_OK);
	{
		const char *body = "{\"prompt\":\"A lighthouse keeper named Ada\",\"duration\":4}";
		ck_assert_int_eq(lv_task_create_json(&t, e, k, body, strlen(body), NULL), LV_OK);
		snprintf(id, sizeof(id), "%s", lv_task_id(t));
		lv_task_free(t);
	}
	ck_assert_int_eq(lv_test_server_start(&a, dira, cfg, extra), 0);
	/* kill it while the shots are being generated (anchors are in the bucket by then) */
	for (i = 0; i < 1200; i++) {
		ck_assert_int_eq(lv_task_get(&t, e, k, id), LV_OK);
		status = (int)lv_task_get_status(t);
		lv_task_free(t);
		if (status == LV_TASK_GENERATING || lv_task_status_is_terminal((lv_task_status)status))
			break;
		usleep(50000);
	}
	ck_assert_int_eq(status, LV_TASK_GENERATING);
	lv_test_server_kill(&a);
	lv_test_rmdir(dira);
	ck_assert(!lv_path_exists(dira));
	ck_assert_int_eq(lv_test_server_start(&b, dirb, cfg, extra), 0);
	for (i = 0; i < 2400; i++) {
		ck_assert_int_eq(lv_task_get(&t, e, k, id), LV_OK);
		status = (int)lv_task_get_status(t);
		lv_task_free(t);
		if (lv_task_status_is_terminal((lv_task_status)status))
			break;
		usleep(50000);
	}
	ck_assert_int_eq(status, LV_TASK_COMPLETED);
	ck_assert_int_eq(lv_task_get(&t, e, k, id), LV_OK);
	{
		char *tj = NULL;
		ck_assert_int_eq(lv_task_to_json(&tj, t, 0), LV_OK);
		j = cJSON_Parse(tj);
		lv_free(tj);
	}
	lv_task_free(t);
	snprintf(url, sizeof(url), "%s%s", b.base_url, strstr(lv_json_get_str(j, "result_url"), "/media/"));
	cJSON_Delete(j);
	ffmpeg_reads(url, 4.0);
	ck_assert_int_eq(lv_test_server_stop(&b), 0);
	{
		char *report = NULL;
		ck_assert_msg(lv_ledger_verify(e, &report) == LV_OK, "%s", report ? report : "");
		lv_free(report);
	}
	lv_key_free(k);
	lv_engine_close(e);
	unsetenv("LV_MASTER_KEY");
	lv_test_rmdir(base);
	free(base);
	free(dira);
	free(dirb);
	free(dirt);
	free(json);
	free(cfg);
	free(prefix);
}
END_TEST

/* A process that cannot use its bucket exits non-zero at start-up, naming endpoint and bucket; lvctl
 * doctor reports the same. */
START_TEST(s3_processes_refuse_to_start_without_their_bucket)
{
	const char *ep = s3_endpoint();
	char *dir, *cfg, *json;
	lv_test_run run;
	if (!ep)
		return;
	dir = lv_test_mkdtemp("st-start");
	json = lv_asprintf("{\"storage\":{\"type\":\"s3\",\"endpoint\":\"%s\",\"bucket\":\"missing-bucket\","
	                   "\"path_style\":true,\"access_key_env\":\"LV_TEST_S3_ACCESS_KEY\","
	                   "\"secret_key_env\":\"LV_TEST_S3_SECRET_KEY\"}}",
	                   ep);
	cfg = lv_test_write_file(dir, "config.json", json);
	{
		const char *argv[] = { "--config", cfg, "--data-dir", dir, "--listen", "127.0.0.1:0", NULL };
		ck_assert_int_eq(lv_test_exec(&run, "lvserver", argv, NULL, NULL), 0);
		ck_assert_int_ne(run.exit_code, 0);
		ck_assert_msg(strstr(run.err, "missing-bucket") && strstr(run.err, ep), "%s", run.err);
		lv_test_run_free(&run);
	}
	{
		const char *argv[] = { "--config", cfg, "--data-dir", dir, "keys", "list", NULL };
		ck_assert_int_eq(lv_test_exec(&run, "lvctl", argv, NULL, NULL), 0);
		ck_assert_int_ne(run.exit_code, 0);
		ck_assert_msg(strstr(run.err, "missing-bucket") && strstr(run.err, ep), "%s", run.err);
		lv_test_run_free(&run);
	}
	{
		const char *argv[] = { "--config", cfg, "--data-dir", dir, "doctor", NULL };
		ck_assert_int_eq(lv_test_exec(&run, "lvctl", argv, NULL, NULL), 0);
		ck_assert_int_eq(run.exit_code, 8);
		ck_assert_msg(strstr(run.out, "FAIL") && strstr(run.out, "storage") && strstr(run.out, "missing-bucket"),
		              "%s", run.out);
		lv_test_run_free(&run);
	}
	free(json);
	free(cfg);
	json = lv_asprintf("{\"storage\":{\"type\":\"s3\",\"endpoint\":\"%s\",\"bucket\":\"%s\","
	                   "\"path_style\":true,\"access_key_env\":\"LV_TEST_S3_ACCESS_KEY\","
	                   "\"secret_key_env\":\"LV_TEST_S3_SECRET_KEY\"}}",
	                   ep, bucket());
	cfg = lv_test_write_file(dir, "config.json", json);
	{
		const char *argv[] = { "--config", cfg, "--data-dir", dir, "doctor", NULL };
		ck_assert_int_eq(lv_test_exec(&run, "lvctl", argv, NULL, NULL), 0);
		ck_assert_msg(run.exit_code == 0 && strstr(run.out, "accepts the credentials"), "%s%s", run.out, run.err);
		lv_test_run_free(&run);
	}
	free(json);
	free(cfg);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- a program's storage type (longvideo/sys/storage.h) ------------------------------------------ */

/* What the program's type saw: one counter per operation, filled through type_data. */
enum { C_PUT, C_GET, C_EXISTS, C_HEAD, C_READ, C_LOCAL, C_REMOVE, C_PREFIX, C_CHECK, C_MOVE, C_DESTROY, C_N };

typedef struct counting {
	lv_storage *inner; /* the objects live in a local storage under storage.root */
	int *calls;
} counting;

#define INNER(self) (((counting *)(self))->inner)
#define COUNT(self, op) (((counting *)(self))->calls[op]++)

static int cs_put(void *self, const char *key, const char *path, const char *type)
{
	COUNT(self, C_PUT);
	return INNER(self)->ops->put_file(INNER(self), key, path, type);
}
static int cs_get(void *self, const char *key, const char *dest_hint, char **out)
{
	COUNT(self, C_GET);
	return INNER(self)->ops->get_file(INNER(self), key, dest_hint, out);
}
static int cs_exists(void *self, const char *key, int *found)
{
	COUNT(self, C_EXISTS);
	return INNER(self)->ops->exists(INNER(self), key, found);
}
static int cs_head(void *self, const char *key, lv_storage_stat *info)
{
	lv_storage_object o;
	int rc;
	COUNT(self, C_HEAD);
	if ((rc = INNER(self)->ops->head(INNER(self), key, &o)))
		return rc;
	info->size = o.size;
	snprintf(info->content_type, sizeof(info->content_type), "%s", o.content_type);
	return LV_OK;
}
static int cs_read(void *self, const char *key, int64_t off, int64_t len, lv_storage_write_fn w, void *ctx)
{
	COUNT(self, C_READ);
	return INNER(self)->ops->read(INNER(self), key, off, len, w, ctx);
}
static int cs_local(void *self, const char *key, char **out)
{
	COUNT(self, C_LOCAL);
	return INNER(self)->ops->local_path(INNER(self), key, out);
}
static int cs_remove(void *self, const char *key)
{
	COUNT(self, C_REMOVE);
	return INNER(self)->ops->remove(INNER(self), key);
}
static int cs_prefix(void *self, const char *prefix)
{
	COUNT(self, C_PREFIX);
	char dir[600];
	size_t n = strlen(prefix);
	ck_assert(n > 1 && n < sizeof(dir) && prefix[n - 1] == '/'); /* always given as a directory */
	memcpy(dir, prefix, n - 1);
	dir[n - 1] = '\0';
	return INNER(self)->ops->remove_prefix(INNER(self), dir);
}
static int cs_check(void *self)
{
	COUNT(self, C_CHECK);
	return INNER(self)->ops->check(INNER(self));
}
static int cs_move(void *self, const char *from, const char *to, const char *type)
{
	COUNT(self, C_MOVE);
	return INNER(self)->ops->move(INNER(self), from, to, type);
}
static void cs_destroy(void *self)
{
	COUNT(self, C_DESTROY);
	lv_storage_close(INNER(self));
	free(self);
}

static const lv_storage_backend_ops counting_ops = {
	LV_STORAGE_BACKEND_OPS_VERSION, cs_put, cs_get, cs_exists, cs_head, cs_read, NULL, NULL, cs_local,
	cs_remove, cs_prefix, cs_check, cs_move, cs_destroy,
};

static int cs_create(lv_storage_backend *b, const lv_storage_conf *conf, void *type_data)
{
	const char *root;
	counting *c;
	int rc;
	ck_assert_uint_eq(b->version, LV_STORAGE_BACKEND_OPS_VERSION);
	ck_assert_ptr_nonnull(lv_storage_conf_data_dir(conf));
	if ((rc = lv_storage_conf_str(&root, conf, "root", NULL)))
		return rc;
	if (!root)
		return lv_storage_fail(LV_ECONFIG, "config: storage.root: required with storage.type \"counting\"");
	c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	c->calls = type_data;
	if ((rc = lv_storage_local_open(&c->inner, root))) {
		free(c);
		return rc;
	}
	b->self = c;
	b->ops = &counting_ops;
	return LV_OK;
}

static const char *const counting_keys[] = { "root", NULL };

START_TEST(program_storage_type)
{
	int calls[C_N] = { 0 }, i;
	lv_storage_type t = { LV_STORAGE_TYPE_VERSION, "counting", counting_keys, cs_create, NULL }, bad;
	lv_engine_options eo = LV_ENGINE_OPTIONS_INIT, old = LV_ENGINE_OPTIONS_INIT;
	lv_config_overrides ov;
	lv_config *cfg = NULL;
	lv_storage *st = NULL;
	lv_engine *e = NULL;
	char *dir = lv_test_mkdtemp("st-plugin"), *root = lv_path_join(dir, "objects"), *json;
	t.type_data = calls;

	/* Registration checks the type. */
	bad = t;
	bad.name = NULL;
	ck_assert_int_eq(lv_engine_register_storage_type(&eo, &bad), LV_EINVALID);
	ck_assert_str_eq(lv_error_last()->message, "storage type: name is required");
	bad.name = "s3";
	ck_assert_int_eq(lv_engine_register_storage_type(&eo, &bad), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "'s3': a built-in type has this name"));
	bad.name = "local";
	ck_assert_int_eq(lv_engine_register_storage_type(&eo, &bad), LV_EINVALID);
	bad.name = "x";
	bad.create = NULL;
	ck_assert_int_eq(lv_engine_register_storage_type(&eo, &bad), LV_EINVALID);
	ck_assert_str_eq(lv_error_last()->message, "storage type: create is required");
	bad = t;
	bad.version = 7;
	ck_assert_int_eq(lv_engine_register_storage_type(&eo, &bad), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "unsupported version 7"));
	old.version = 2; /* options of version 2 end before the storage types */
	ck_assert_int_eq(lv_engine_register_storage_type(&old, &t), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "options version 2 has no storage types"));
	ck_assert_int_eq(lv_engine_register_storage_type(&eo, &t), LV_OK);
	ck_assert_int_eq(lv_engine_register_storage_type(&eo, &t), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "'counting': registered twice"));
	ck_assert_uint_eq(eo.n_storage_types, 1);
	ck_assert_ptr_eq(eo.storage_types[0], &t);

	/* A config naming a type nobody registered is refused, naming it and how to add one. */
	json = lv_asprintf("{\"data_dir\":\"%s\",\"storage\":{\"type\":\"counting\",\"root\":\"%s\"}}", dir, root);
	old.config_json = json;
	old.flags = LV_ENGINE_NO_STORE;
	ck_assert_int_eq(lv_engine_open(&e, &old), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "storage.type: unknown type 'counting'"));
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "lv_engine_register_storage_type()"));
	refused("{\"type\":\"counting\"}", "unknown type 'counting'");

	/* With it, the block's keys are checked and the type's own getters name theirs. */
	memset(&ov, 0, sizeof(ov));
	ov.workers = -1;
	ov.storage_types = eo.storage_types;
	ov.n_storage_types = eo.n_storage_types;
	ck_assert_int_eq(lv_config_load(&cfg, NULL, "{\"storage\":{\"type\":\"counting\",\"colour\":1}}", &ov),
	                 LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "storage.colour: unknown key"));
	ck_assert_int_eq(lv_config_load(&cfg, NULL, "{\"storage\":{\"type\":\"counting\",\"root\":5}}", &ov), LV_OK);
	ck_assert_int_eq(lv_storage_open(&st, cfg), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "storage.root: must be a non-empty string"));
	ck_assert_ptr_null(st);
	lv_config_free(cfg);
	ck_assert_int_eq(lv_config_load(&cfg, NULL, "{\"storage\":{\"type\":\"counting\"}}", &ov), LV_OK);
	ck_assert_int_eq(lv_storage_open(&st, cfg), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "storage.root: required"));
	lv_config_free(cfg);

	/* Behind the adapter the type passes the same conformance as the built-in backends, and every
	 * operation reached it (url and presign are the defaults: the capability path, none). */
	ck_assert_int_eq(lv_config_load(&cfg, NULL, json, &ov), LV_OK);
	ck_assert_msg(lv_storage_open(&st, cfg) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(calls[C_CHECK], 1); /* checked at open */
	conformance(st, dir, 0, "plg");
	for (i = 0; i < C_DESTROY; i++)
		ck_assert_msg(calls[i] > 0, "operation %d never reached the type", i);
	/* keys are checked before the type sees them */
	{
		int found = 0;
		ck_assert_int_eq(st->ops->exists(st, "tasks/x/../y", &found), LV_EINVALID);
		ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "storage 'counting'"));
	}
	lv_storage_close(st);
	ck_assert_int_eq(calls[C_DESTROY], 1);
	lv_config_free(cfg);

	/* An engine opened with the options uses it. */
	memset(calls, 0, sizeof(calls));
	eo.config_json = json;
	ck_assert_msg(lv_engine_open(&e, &eo) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(calls[C_CHECK], 1);
	ck_assert_int_eq(lv_engine_check_storage(e), LV_OK); /* doctor's storage check is the type's */
	ck_assert_int_eq(calls[C_CHECK], 2);
	lv_engine_close(e);
	ck_assert_int_eq(calls[C_DESTROY], 1);

	free(json);
	free(root);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("storage");
	TCase *tc = tcase_create("storage");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, local_conformance);
	tcase_add_test(tc, program_storage_type);
	tcase_add_test(tc, presign_matches_the_aws_example);
	tcase_add_test(tc, s3_config_is_validated);
	tcase_add_test(tc, s3_conformance_path_style_with_prefix);
	tcase_add_test(tc, s3_conformance_virtual_hosted);
	tcase_add_test(tc, s3_multipart_upload_of_a_big_file);
	tcase_add_test(tc, s3_errors_are_not_absence);
	tcase_add_test(tc, s3_multipart_parts_and_completion);
	tcase_add_test(tc, s3_a_failed_multipart_upload_is_aborted);
	tcase_add_test(tc, s3_presigned_url_fetches_the_object);
	tcase_add_test(tc, s3_public_base_url_joins_the_full_key);
	tcase_add_test(tc, s3_refusals_at_open);
	tcase_add_test(tc, s3_processes_refuse_to_start_without_their_bucket);
	tcase_add_test(tc, s3_task_end_to_end);
	tcase_add_test(tc, s3_another_process_resumes_from_the_bucket);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
