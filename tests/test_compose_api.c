/* The public composition call: option checks that name the option, and the SubRip reader. */
#include "testutil.h"
#include "longvideo.h"

#include <stdlib.h>
#include <string.h>

static char *dir;

static void expect_invalid(const lv_compose_options *o, const char *needle)
{
	ck_assert_int_eq(lv_compose_files(o, NULL), LV_EINVALID);
	ck_assert_msg(strstr(lv_error_last()->message, needle), "'%s' lacks '%s'", lv_error_last()->message, needle);
}

START_TEST(options_are_checked_by_name)
{
	lv_compose_segment seg[2] = { { "a.mp4", 2 }, { "b.mp4", -1 } };
	lv_compose_voice v = { "v.wav", -3 };
	lv_compose_cue c = { 2.0, 1.0, "backwards" };
	lv_compose_options o = LV_COMPOSE_OPTIONS_INIT, bad = LV_COMPOSE_OPTIONS_INIT;
	lv_compose_result r = LV_COMPOSE_RESULT_INIT;
	expect_invalid(&o, "segments");
	o.segments = seg;
	o.n_segments = 2;
	expect_invalid(&o, "segments[1].seconds");
	seg[1].seconds = 0;
	seg[1].path = "";
	expect_invalid(&o, "segments[1].path");
	seg[1].path = "b.mp4";
	o.voices = &v;
	o.n_voices = 1;
	expect_invalid(&o, "voices[0].start");
	v.start = 1;
	o.cues = &c;
	o.n_cues = 1;
	expect_invalid(&o, "cues[0]");
	c.end = 3;
	o.subtitles = 7;
	expect_invalid(&o, "subtitles");
	o.subtitles = LV_SUBS_BURN;
	o.width = 641;
	o.height = 360;
	expect_invalid(&o, "width and height");
	o.width = 640;
	o.target_lufs = 3;
	expect_invalid(&o, "target_lufs");
	o.target_lufs = -16;
	expect_invalid(&o, "out_dir");
	o.out_dir = dir;
	/* Everything is well formed now: the missing clip (used whole, so probed first) is the error, named
	 * with its position. */
	ck_assert_int_ne(lv_compose_files(&o, NULL), LV_OK);
	ck_assert_msg(strstr(lv_error_last()->message, "segment 1 (b.mp4)"), "%s", lv_error_last()->message);
	bad.version = 99;
	expect_invalid(&bad, "LV_COMPOSE_OPTIONS_INIT");
	r.version = 0;
	ck_assert_int_eq(lv_compose_files(&o, &r), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "LV_COMPOSE_RESULT_INIT"));
}
END_TEST

START_TEST(srt_reads_cues_and_names_bad_lines)
{
	lv_compose_cue *cues = NULL;
	size_t n = 0;
	char *p = lv_test_write_file(dir, "ok.srt",
	                             "\xEF\xBB\xBF"
	                             "1\r\n00:00:00,500 --> 00:00:02,000\r\nFirst line\r\n\r\n"
	                             "2\n00:01:02.250 --> 00:01:04,800\nSecond cue\ntwo lines\n\n\n"
	                             "00:01:05,000 --> 00:01:06,000\nno counter\n");
	ck_assert_int_eq(lv_compose_read_srt(&cues, &n, p), LV_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert(cues[0].start == 0.5 && cues[0].end == 2.0);
	ck_assert_str_eq(cues[0].text, "First line");
	ck_assert(cues[1].start == 62.25 && cues[1].end == 64.8);
	ck_assert_str_eq(cues[1].text, "Second cue\ntwo lines");
	ck_assert_str_eq(cues[2].text, "no counter");
	lv_free(cues);
	free(p);

	p = lv_test_write_file(dir, "bad.srt", "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n00:00:05,000 -> 00:00:06,000\nbad\n");
	ck_assert_int_eq(lv_compose_read_srt(&cues, &n, p), LV_EINVALID);
	ck_assert_ptr_null(cues);
	ck_assert_msg(strstr(lv_error_last()->message, "bad.srt:6"), "%s", lv_error_last()->message);
	free(p);
	p = lv_test_write_file(dir, "backwards.srt", "1\n00:00:03,000 --> 00:00:02,000\nx\n");
	ck_assert_int_eq(lv_compose_read_srt(&cues, &n, p), LV_EINVALID);
	free(p);
	p = lv_test_write_file(dir, "empty.srt", "\n\n");
	ck_assert_int_eq(lv_compose_read_srt(&cues, &n, p), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "no subtitle cue"));
	free(p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("compose_api");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, options_are_checked_by_name);
	tcase_add_test(tc, srt_reads_cues_and_names_bad_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	dir = lv_test_mkdtemp("compose-api");
	return lv_test_run_suite(suite());
}
