/* The provider HTTP layer against the fake vendor: retries, Retry-After, idempotency rules, timeouts,
 * cancellation, downloads, body caps and secret redaction. */
#include "testutil.h"
#include "fakevendor.h"
#include "http/http.h"
#include "longvideo.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdlib.h>
#include <string.h>

static lv_fake *f;

static void setup(void)
{
	f = lv_fake_start();
	ck_assert_ptr_nonnull(f);
}

static void teardown(void)
{
	lv_fake_stop(f);
}

static char *url(const char *path)
{
	return lv_asprintf("%s%s", lv_fake_url(f), path);
}

START_TEST(retry_after_is_honoured_on_429)
{
	lv_fake_response busy = { 429, "Retry-After: 1\r\n", "{\"error\":\"slow down\"}", 0, NULL, NULL, 0, 0 };
	lv_fake_response ok = { 200, NULL, "{\"ok\":true}", 0, NULL, NULL, 0, 0 };
	lv_http_request req = { 0 };
	lv_http_response resp;
	lv_retry_policy p = { 3, 50, 5000, 0 };
	char *u = url("/v1/things");
	int attempts = 0;
	int64_t t0;
	lv_fake_on(f, "POST", "/v1/things", &busy);
	lv_fake_on(f, "POST", "/v1/things", &ok);
	req.method = "POST";
	req.url = u;
	req.body = "{}";
	req.body_len = 2;
	t0 = lv_mono_ms();
	ck_assert_int_eq(lv_http_perform_retry(&req, &p, &resp, &attempts), LV_OK);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_int_eq(attempts, 2);
	ck_assert_int_ge(lv_mono_ms() - t0, 950); /* waited the server's Retry-After, not the 50 ms base */
	ck_assert_str_eq(resp.body, "{\"ok\":true}");
	lv_http_response_free(&resp);
	free(u);
}
END_TEST

START_TEST(server_errors_retry_only_idempotent_requests)
{
	lv_fake_response err = { 503, NULL, "oops", 0, NULL, NULL, 0, 0 };
	lv_http_request req = { 0 };
	lv_http_response resp;
	lv_retry_policy submit = { 3, 10, 50, 0 }, poll = { 3, 10, 50, 1 };
	char *u = url("/x");
	int attempts;
	lv_fake_on(f, "POST", "/x", &err);
	lv_fake_on(f, "GET", "/x", &err);
	req.method = "POST";
	req.url = u;
	ck_assert_int_eq(lv_http_perform_retry(&req, &submit, &resp, &attempts), LV_OK);
	ck_assert_int_eq(resp.status, 503);
	ck_assert_int_eq(attempts, 1); /* a submit that may have been accepted is not sent twice */
	lv_http_response_free(&resp);
	req.method = "GET";
	ck_assert_int_eq(lv_http_perform_retry(&req, &poll, &resp, &attempts), LV_OK);
	ck_assert_int_eq(attempts, 4);
	ck_assert_int_eq(lv_fake_count(f, "GET", "/x"), 4);
	lv_http_response_free(&resp);
	free(u);
}
END_TEST

START_TEST(connect_failures_retry_even_a_submit)
{
	lv_http_request req = { 0 };
	lv_http_response resp;
	lv_retry_policy submit = { 2, 10, 50, 0 };
	int attempts;
	req.method = "POST";
	req.url = "http://127.0.0.1:1/nothing-listens-here";
	req.what = "provider 'test'";
	ck_assert_int_eq(lv_http_perform_retry(&req, &submit, &resp, &attempts), LV_EIO);
	ck_assert_int_eq(attempts, 3);
	ck_assert_int_eq(resp.sent, 0);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "provider 'test'"));
	lv_http_response_free(&resp);
}
END_TEST

START_TEST(timeouts_and_hang_ups)
{
	lv_fake_response slow = { 200, NULL, "{}", 0, NULL, NULL, 900, 0 };
	lv_fake_response hang = { 0, NULL, NULL, 0, NULL, NULL, 0, 1 };
	lv_http_request req = { 0 };
	lv_http_response resp;
	char *u1 = url("/slow"), *u2 = url("/hang");
	lv_fake_on(f, "GET", "/slow", &slow);
	lv_fake_on(f, "GET", "/hang", &hang);
	req.url = u1;
	req.timeout_ms = 300;
	ck_assert_int_eq(lv_http_perform(&req, &resp), LV_ETIMEOUT);
	ck_assert_int_eq(resp.status, 0); /* gave up before the answer (sent after 900 ms) arrived */
	ck_assert_int_eq(lv_fake_count(f, "GET", "/slow"), 1);
	lv_http_response_free(&resp);
	req.url = u2;
	req.timeout_ms = 2000;
	ck_assert_int_eq(lv_http_perform(&req, &resp), LV_EIO);
	ck_assert_int_eq(resp.status, 0);
	lv_http_response_free(&resp);
	free(u1);
	free(u2);
}
END_TEST

START_TEST(cancel_stops_a_request)
{
	lv_fake_response slow = { 200, NULL, "{}", 0, NULL, NULL, 1200, 0 };
	lv_http_request req = { 0 };
	lv_http_response resp;
	volatile int cancel = 1;
	char *u = url("/slow");
	lv_fake_on(f, "GET", "/slow", &slow);
	req.url = u;
	req.cancel = &cancel;
	ck_assert_int_eq(lv_http_perform(&req, &resp), LV_ECANCELED);
	ck_assert_int_eq(resp.status, 0); /* stopped before the answer (sent after 1200 ms) arrived */
	ck_assert_ptr_null(strstr(lv_error_last()->message, "timed out"));
	lv_http_response_free(&resp);
	free(u);
}
END_TEST

START_TEST(downloads_land_whole_or_not_at_all)
{
	char *dir = lv_test_mkdtemp("http"), *dest = lv_path_join(dir, "clip.mp4"), *got = NULL;
	lv_fake_response file = { 200, NULL, "0123456789abcdef", 16, NULL, "video/mp4", 0, 0 };
	lv_fake_response gone = { 404, NULL, "{\"error\":\"expired\"}", 0, NULL, NULL, 0, 0 };
	lv_http_request req = { 0 };
	lv_http_response resp;
	size_t len = 0;
	char *u = url("/file"), *u2 = url("/gone"), *dest2 = lv_path_join(dir, "none.mp4");
	lv_fake_on(f, "GET", "/file", &file);
	lv_fake_on(f, "GET", "/gone", &gone);
	req.url = u;
	req.download_to = dest;
	ck_assert_int_eq(lv_http_perform(&req, &resp), LV_OK);
	ck_assert_int_eq(resp.status, 200);
	lv_http_response_free(&resp);
	ck_assert_int_eq(lv_test_read_file(&got, &len, dest), 0);
	ck_assert_uint_eq(len, 16);
	free(got);
	req.url = u2;
	req.download_to = dest2;
	ck_assert_int_eq(lv_http_perform(&req, &resp), LV_OK);
	ck_assert_int_eq(resp.status, 404);
	ck_assert(!lv_path_exists(dest2));
	lv_http_response_free(&resp);
	lv_test_rmdir(dir);
	free(dir);
	free(dest);
	free(dest2);
	free(u);
	free(u2);
}
END_TEST

START_TEST(bodies_are_capped_and_secrets_redacted)
{
	lv_fake_response big = { 200, NULL, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0, NULL, NULL, 0,
		                 0 };
	lv_http_request req = { 0 };
	lv_http_response resp;
	const char *secrets[] = { "sk-secret-value-123", NULL };
	char msg[] = "failed with key sk-secret-value-123 in it";
	char *u = url("/big");
	lv_fake_request *r;
	char hdr[128];
	const char *headers[] = { "Authorization: Bearer sk-secret-value-123", NULL };
	lv_fake_on(f, "GET", "/big", &big);
	req.url = u;
	req.max_body = 10;
	req.headers = headers;
	req.secrets = secrets;
	ck_assert_int_eq(lv_http_perform(&req, &resp), LV_EIO);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "larger than"));
	ck_assert_ptr_null(strstr(lv_error_last()->message, "sk-secret"));
	lv_http_response_free(&resp);
	r = lv_fake_last(f, "GET", "/big");
	ck_assert_str_eq(lv_fake_header(r, "authorization", hdr, sizeof(hdr)), "Bearer sk-secret-value-123");
	lv_fake_request_free(r);
	lv_http_redact(msg, secrets);
	ck_assert_ptr_null(strstr(msg, "sk-secret"));
	ck_assert_ptr_nonnull(strstr(msg, "failed with key"));
	free(u);
}
END_TEST

START_TEST(backoff_grows_with_jitter_and_caps)
{
	lv_retry_policy p = { 5, 100, 1000, 1 };
	int i;
	for (i = 0; i < 50; i++) {
		int64_t a = lv_http_backoff_ms(&p, 1, NULL), c = lv_http_backoff_ms(&p, 8, NULL);
		ck_assert(a >= 1 && a <= 100);
		ck_assert(c >= 1 && c <= 1000);
	}
}
END_TEST

START_TEST(multipart_uploads)
{
	lv_fake_response ok = { 200, NULL, "{\"name\":\"ref.png\"}", 0, NULL, NULL, 0, 0 };
	lv_http_part parts[2] = { { "image", "ref.png", NULL, "PNGDATA", 7, "image/png" },
		                  { "overwrite", NULL, NULL, "true", 4, NULL } };
	lv_http_request req = { 0 };
	lv_http_response resp;
	lv_fake_request *r;
	char *u = url("/upload/image");
	lv_fake_on(f, "POST", "/upload/image", &ok);
	req.method = "POST";
	req.url = u;
	req.parts = parts;
	req.n_parts = 2;
	ck_assert_int_eq(lv_http_perform(&req, &resp), LV_OK);
	ck_assert_int_eq(resp.status, 200);
	lv_http_response_free(&resp);
	r = lv_fake_last(f, "POST", "/upload/image");
	ck_assert_ptr_nonnull(strstr(r->body, "filename=\"ref.png\""));
	ck_assert_ptr_nonnull(strstr(r->body, "PNGDATA"));
	lv_fake_request_free(r);
	free(u);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("http_client");
	TCase *tc = tcase_create("http_client");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, retry_after_is_honoured_on_429);
	tcase_add_test(tc, server_errors_retry_only_idempotent_requests);
	tcase_add_test(tc, connect_failures_retry_even_a_submit);
	tcase_add_test(tc, timeouts_and_hang_ups);
	tcase_add_test(tc, cancel_stops_a_request);
	tcase_add_test(tc, downloads_land_whole_or_not_at_all);
	tcase_add_test(tc, bodies_are_capped_and_secrets_redacted);
	tcase_add_test(tc, backoff_grows_with_jitter_and_caps);
	tcase_add_test(tc, multipart_uploads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
