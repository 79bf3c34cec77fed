/* Unit tests for the internal utilities: credits, random ids, hashes, base64, JSON parsing. */
#include "testutil.h"
#include "longvideo.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* One print of each, compared byte for byte. */
static void assert_same_print(const cJSON *tree)
{
	char *ours = lv_json_print(tree), *theirs = cJSON_PrintUnformatted(tree);
	ck_assert_ptr_nonnull(ours);
	ck_assert_ptr_nonnull(theirs);
	ck_assert_msg(!strcmp(ours, theirs), "lv_json_print:\n%s\ncJSON:\n%s", ours, theirs);
	free(ours);
	cJSON_free(theirs);
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A random tree: numbers from random bits and from small integers and fractions, strings of any
 * byte (control characters, quotes, UTF-8), nested arrays and objects, raw values, literals. */
static cJSON *random_tree(uint64_t *s, int depth)
{
	uint64_t r = next_rand(s);
	int kind = depth > 3 ? (int)(r % 5) : (int)(r % 7), i, n;
	cJSON *o;
	char text[24];
	switch (kind) {
	case 0: {
		double d;
		uint64_t bits = next_rand(s);
		switch (r >> 8 & 3) {
		case 0: memcpy(&d, &bits, sizeof(d)); break;                          /* any double, NaN too */
		case 1: d = (double)(int64_t)(bits % 2000001) - 1000000; break;        /* small integers */
		case 2: d = (double)(int64_t)bits / (double)(1 + (bits >> 40)); break; /* fractions */
		default: d = ldexp((double)(bits % 1000), (int)(bits >> 50 & 127) - 63);
		}
		return cJSON_CreateNumber(d);
	}
	case 1:
		n = (int)((r >> 8) % 24);
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)(next_rand(s) & 0xff);
			text[i] = (char)(c ? c : 'x');
		}
		text[n] = '\0';
		return cJSON_CreateString(text);
	case 2: return cJSON_CreateBool(r >> 8 & 1);
	case 3: return cJSON_CreateNull();
	case 4: return cJSON_CreateRaw("{\"raw\":[1,2.5]}");
	case 5:
		o = cJSON_CreateArray();
		for (i = (int)((r >> 8) % 5); i > 0; i--)
			cJSON_AddItemToArray(o, random_tree(s, depth + 1));
		return o;
	default:
		o = cJSON_CreateObject();
		for (i = (int)((r >> 8) % 5); i > 0; i--) {
			snprintf(text, sizeof(text), "k%d\n\"%c", i, (char)(0x20 + (next_rand(s) % 90)));
			cJSON_AddItemToObject(o, text, random_tree(s, depth + 1));
		}
		return o;
	}
}

/* The project's JSON printer gives the very text cJSON gives (it exists for speed only). */
START_TEST(json_print_matches_cjson)
{
	static const char *const texts[] = {
		"{\"a\":0,\"b\":-0,\"c\":1,\"d\":-1,\"e\":999999999999999,\"f\":1000000000000000,\"g\":1e21,"
		"\"h\":0.1,\"i\":0.3333333333333333,\"j\":123456789012345678,\"k\":1e-300,\"l\":5e-324,"
		"\"m\":1.7976931348623157e308,\"n\":-2.5,\"o\":82.5,\"p\":-1e15,\"q\":4503599627370497}",
		"[\"\",\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\",\"\\u00e9\\u4e2d\\ud83d\\ude00\",\"\\u007f\"]",
		"{\"\":{\"x\":[[],{},[null,true,false]]},\"video\":{\"shots\":[{\"index\":0,\"start\":0,\"duration\":7.5}]}}",
	};
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t i;
	cJSON *t;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ck_assert_ptr_nonnull(t = cJSON_Parse(texts[i]));
		assert_same_print(t);
		cJSON_Delete(t);
	}
	ck_assert_ptr_nonnull(t = cJSON_CreateArray());
	cJSON_AddItemToArray(t, cJSON_CreateNumber(NAN));
	cJSON_AddItemToArray(t, cJSON_CreateNumber(INFINITY));
	cJSON_AddItemToArray(t, cJSON_CreateNumber(-INFINITY));
	cJSON_AddItemToArray(t, lv_json_credits(82500));
	assert_same_print(t);
	cJSON_Delete(t);
	for (i = 0; i < 3000; i++) {
		t = random_tree(&seed, 0);
		ck_assert_ptr_nonnull(t);
		assert_same_print(t);
		cJSON_Delete(t);
	}
	/* What cJSON cannot print, neither can we, and the error says so. */
	ck_assert_ptr_nonnull(t = cJSON_CreateRaw("x"));
	cJSON_free(t->valuestring);
	t->valuestring = NULL;
	ck_assert_ptr_null(cJSON_PrintUnformatted(t));
	ck_assert_ptr_null(lv_json_print(t));
	ck_assert_int_eq(lv_error_last()->status, LV_EINVALID);
	cJSON_Delete(t);
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
	tcase_add_test(tc, json_print_matches_cjson);
	tcase_add_test(tc, iso8601_formats_utc);
	tcase_add_test(tc, error_record_is_per_thread_and_clearable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
