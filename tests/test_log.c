/* The log callback and level of <longvideo/log.h>: lines reach the program's callback, filtered by
 * level, from any thread; FFmpeg's messages come through the same callback only when routed. */
#include "testutil.h"
#include "longvideo.h"
#include "util/log.h"

#include <libavutil/log.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct capture {
	pthread_mutex_t mu;
	int n, levels[64];
	char lines[64][160];
} capture;

static void on_line(lv_log_level level, const char *message, void *userdata)
{
	capture *c = userdata;
	pthread_mutex_lock(&c->mu);
	if (c->n < 64) {
		c->levels[c->n] = (int)level;
		snprintf(c->lines[c->n], sizeof(c->lines[0]), "%s", message);
		c->n++;
	}
	pthread_mutex_unlock(&c->mu);
}

static int find(capture *c, const char *text)
{
	int i;
	for (i = 0; i < c->n; i++)
		if (strstr(c->lines[i], text))
			return i;
	return -1;
}

START_TEST(callback_receives_lines_at_or_above_the_level)
{
	capture c = { .mu = PTHREAD_MUTEX_INITIALIZER };
	lv_log_level before = lv_log_get_level();
	lv_log_set_callback(on_line, &c);
	lv_log_set_level(LV_LOG_WARN);
	LV_DEBUG("debug line %d", 1);
	LV_INFO("info line %d", 2);
	LV_WARN("warn line %d", 3);
	LV_ERROR("error line %d", 4);
	ck_assert_int_eq(c.n, 2);
	ck_assert_int_eq(find(&c, "warn line 3"), 0);
	ck_assert_int_eq(c.levels[0], LV_LOG_WARN);
	ck_assert_int_eq(find(&c, "error line 4"), 1);
	ck_assert_int_eq(c.levels[1], LV_LOG_ERROR);
	ck_assert_ptr_null(strchr(c.lines[0], '\n'));
	lv_log_set_level(LV_LOG_OFF);
	LV_ERROR("silenced");
	ck_assert_int_eq(c.n, 2);
	lv_log_set_level(LV_LOG_DEBUG);
	LV_DEBUG("now debug");
	ck_assert_int_eq(find(&c, "now debug"), 2);
	/* NULL restores the stderr writer: nothing more reaches the old callback. */
	lv_log_set_callback(NULL, NULL);
	lv_log_set_level(LV_LOG_OFF);
	LV_ERROR("after reset");
	ck_assert_int_eq(c.n, 3);
	lv_log_set_level(before);
}
END_TEST

START_TEST(level_names_parse_and_print)
{
	lv_log_level l = LV_LOG_ERROR;
	ck_assert_int_eq(lv_log_level_parse(&l, "debug"), LV_OK);
	ck_assert_int_eq(l, LV_LOG_DEBUG);
	ck_assert_int_eq(lv_log_level_parse(&l, "off"), LV_OK);
	ck_assert_int_eq(l, LV_LOG_OFF);
	ck_assert_int_eq(lv_log_level_parse(&l, "loud"), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "'loud'"));
	ck_assert_str_eq(lv_log_level_name(LV_LOG_WARN), "warn");
}
END_TEST

static void *log_from_thread(void *arg)
{
	int i;
	(void)arg;
	for (i = 0; i < 10; i++)
		LV_WARN("thread line %d", i);
	return NULL;
}

START_TEST(lines_from_many_threads_all_arrive)
{
	capture c = { .mu = PTHREAD_MUTEX_INITIALIZER };
	lv_log_level before = lv_log_get_level();
	pthread_t t[4];
	int i;
	lv_log_set_level(LV_LOG_INFO);
	lv_log_set_callback(on_line, &c);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, log_from_thread, NULL), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	lv_log_set_callback(NULL, NULL);
	lv_log_set_level(before);
	ck_assert_int_eq(c.n, 40);
}
END_TEST

START_TEST(ffmpeg_messages_only_when_routed)
{
	capture c = { .mu = PTHREAD_MUTEX_INITIALIZER };
	lv_log_level before = lv_log_get_level();
	int av_before = av_log_get_level();
	lv_log_set_level(LV_LOG_DEBUG);
	lv_log_set_callback(on_line, &c);
	av_log_set_level(AV_LOG_QUIET); /* the default FFmpeg logger prints nothing during this test */
	av_log(NULL, AV_LOG_ERROR, "unrouted ffmpeg error\n");
	ck_assert_int_eq(c.n, 0);
	lv_log_route_ffmpeg(1);
	av_log(NULL, AV_LOG_ERROR, "routed ffmpeg error\n");
	av_log(NULL, AV_LOG_INFO, "routed ffmpeg info\n");
	av_log(NULL, AV_LOG_TRACE, "too detailed\n");
	lv_log_route_ffmpeg(0);
	av_log(NULL, AV_LOG_ERROR, "unrouted again\n");
	lv_log_set_callback(NULL, NULL);
	lv_log_set_level(before);
	av_log_set_level(av_before);
	ck_assert_int_eq(c.n, 2);
	ck_assert_int_eq(c.levels[find(&c, "routed ffmpeg error")], LV_LOG_WARN);
	ck_assert_int_eq(c.levels[find(&c, "routed ffmpeg info")], LV_LOG_DEBUG);
	ck_assert_int_eq(find(&c, "too detailed"), -1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, callback_receives_lines_at_or_above_the_level);
	tcase_add_test(tc, level_names_parse_and_print);
	tcase_add_test(tc, lines_from_many_threads_all_arrive);
	tcase_add_test(tc, ffmpeg_messages_only_when_routed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
