/* Unit tests for the internal utilities: credits, random ids, hashes, base64, JSON parsing. */
#include "testutil.h"
#include "longvideo.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <ctype.h>
#include <string.h>

START_TEST(credits_format_exact)
{
	char buf[32];
	lv_credits_format(buf, sizeof(buf), 82500);
	ck_assert_str_eq(buf, "82.5");
	lv_credits_format(buf, sizeof(buf), 1650000);
	ck_assert_str_eq(buf, "1650");
	lv_credits_format(buf, sizeof(buf), 8496000);
	ck_assert_str_eq(buf, "8496");
	lv_credits_format(buf, sizeof(buf), 125);
	ck_assert_str_eq(buf, "0.125");
	lv_credits_format(buf, sizeof(buf), 1050);
	ck_assert_str_eq(buf, "1.05");
	lv_credits_format(buf, sizeof(buf), 0);
	ck_assert_str_eq(buf, "0");
	lv_credits_format(buf, sizeof(buf), -27500);
	ck_assert_str_eq(buf, "-27.5");
}
END_TEST

START_TEST(credits_parse_good_and_bad)
{
	int64_t v;
	ck_assert_int_eq(lv_credits_parse(&v, "100"), LV_OK);
	ck_assert_int_eq(v, 100000);
	ck_assert_int_eq(lv_credits_parse(&v, "82.5"), LV_OK);
	ck_assert_int_eq(v, 82500);
	ck_assert_int_eq(lv_credits_parse(&v, "0.125"), LV_OK);
	ck_assert_int_eq(v, 125);
	ck_assert_int_eq(lv_credits_parse(&v, "1.0625"), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "three decimals"));
	ck_assert_int_eq(lv_credits_parse(&v, "-5"), LV_EINVALID);
	ck_assert_int_eq(lv_credits_parse(&v, ""), LV_EINVALID);
	ck_assert_int_eq(lv_credits_parse(&v, "1."), LV_EINVALID);
	ck_assert_int_eq(lv_credits_parse(&v, "abc"), LV_EINVALID);
	ck_assert_int_eq(lv_credits_parse(&v, "99999999999999999999"), LV_EINVALID);
}
END_TEST

START_TEST(random_base62_is_uniform_alphabet)
{
	char a[41], b[41];
	size_t i;
	ck_assert_int_eq(lv_random_base62(a, 40), LV_OK);
	ck_assert_int_eq(lv_random_base62(b, 40), LV_OK);
	ck_assert_int_eq(strlen(a), 40);
	ck_assert_str_ne(a, b);
	for (i = 0; i < 40; i++)
		ck_assert(isalnum((unsigned char)a[i]));
}
END_TEST

START_TEST(sha256_and_hmac_known_vectors)
{
	char hex[65];
	unsigned char mac[32];
	char b64[64];
	lv_sha256_hex(hex, "abc", 3);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* RFC 4231 test case 2 */
	lv_hmac_sha256(mac, "Jefe", 4, "what do ya want for nothing?", 28);
	lv_base64_encode(b64, mac, 32);
	ck_assert_str_eq(b64, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
	/* The same under a key prepared once, signing twice (each message starts from the keyed state),
	 * and through the fallback when there is no prepared key. */
	{
		lv_hmac_key *k = lv_hmac_key_new("Jefe", 4);
		int i;
		ck_assert_ptr_nonnull(k);
		for (i = 0; i < 2; i++) {
			memset(mac, 0, sizeof(mac));
			lv_hmac_key_sign(k, "wrong", 5, mac, "what do ya want for nothing?", 28);
			lv_base64_encode(b64, mac, 32);
			ck_assert_str_eq(b64, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
		}
		lv_hmac_key_free(k);
		memset(mac, 0, sizeof(mac));
		lv_hmac_key_sign(NULL, "Jefe", 4, mac, "what do ya want for nothing?", 28);
		lv_base64_encode(b64, mac, 32);
		ck_assert_str_eq(b64, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
	}
}
END_TEST

START_TEST(base64_round_trip)
{
	unsigned char out[16];
	char enc[32];
	size_t n = lv_base64_encode(enc, "hello", 5);
	ck_assert_str_eq(enc, "aGVsbG8=");
	ck_assert_int_eq(n, 8);
	ck_assert_int_eq(lv_base64_decode(out, enc, n), 5);
	ck_assert(memcmp(out, "hello", 5) == 0);
	ck_assert_int_eq(lv_base64_decode(out, "abc", 3), -1);
}
END_TEST

START_TEST(json_parse_errors_name_the_position)
{
	cJSON *j = NULL;
	ck_assert_int_eq(lv_json_parse(&j, "{\"a\":1", 6, "body"), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "body: malformed JSON"));
	ck_assert_int_eq(lv_json_parse(&j, "{} x", 4, "body"), LV_EINVALID);
	ck_assert_int_eq(lv_json_parse(&j, "{\"a\":1} \n", 9, "body"), LV_OK);
	cJSON_Delete(j);
}
END_TEST

START_TEST(iso8601_formats_utc)
{
	char ts[21];
	lv_time_iso8601(ts, 1795507241000LL);
	ck_assert_str_eq(ts, "2026-11-24T08:00:41Z");
}
END_TEST

START_TEST(error_record_is_per_thread_and_clearable)
{
	lv_error_clear();
	ck_assert_int_eq(lv_error_last()->status, LV_OK);
	ck_assert_str_eq(lv_error_last()->message, "");
	ck_assert_str_eq(lv_status_code(LV_EINVALID), "invalid_request");
	ck_assert_str_eq(lv_status_code(LV_ESEGMENTS), "segments_not_ready");
	ck_assert_str_eq(lv_status_code(9999), "internal_error");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, credits_format_exact);
	tcase_add_test(tc, credits_parse_good_and_bad);
	tcase_add_test(tc, random_base62_is_uniform_alphabet);
	tcase_add_test(tc, sha256_and_hmac_known_vectors);
	tcase_add_test(tc, base64_round_trip);
	tcase_add_test(tc, json_parse_errors_name_the_position);
	tcase_add_test(tc, iso8601_formats_utc);
	tcase_add_test(tc, error_record_is_per_thread_and_clearable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
