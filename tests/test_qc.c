/* The film quality report: films with known loudness, black and frozen runs, speech and subtitle
 * faults, and what the report finds in them against independent measurements. */
#include "testutil.h"
#include "compose/compose.h"

#include <libavutil/log.h>
#include "config/config.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FF "ffmpeg -nostdin -hide_banner -loglevel error -y "

static char *fx;

static int run(const char *fmt, ...) LV_PRINTF(1, 2);
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static char *fx_path(const char *name)
{
	return lv_path_join(fx, name);
}

/*
 * film.mp4, 6 s at 24 fps, 320x240: moving test picture 0-2 s, black 2-3 s, one still frame 3-4.5 s,
 * moving again 4.5-6 s (cuts at 2, 3 and 4.5); a 997 Hz tone throughout.  voice.wav: 1 s of tone,
 * 1 s of silence, 1 s of tone.
 */
static void fixtures_setup(void)
{
	fx = lv_test_mkdtemp("qc-fx");
	ck_assert_ptr_nonnull(fx);
	ck_assert_int_eq(run(FF "-f lavfi -i testsrc2=size=320x240:rate=24:duration=2 -f lavfi "
	                        "-i color=black:size=320x240:rate=24:duration=1 -f lavfi "
	                        "-i testsrc2=size=320x240:rate=24:duration=3 "
	                        "-f lavfi -i \"aevalsrc=0.2*sin(2*PI*997*t)|0.2*sin(2*PI*997*t):s=48000:d=6\" "
	                        "-filter_complex \"[2:v]split[m][s];[s]trim=end_frame=1,loop=loop=35:size=1,"
	                        "setpts=N/24/TB[still];[m]trim=start=1.5,setpts=PTS-STARTPTS[rest];"
	                        "[0:v][1:v][still][rest]concat=n=4:v=1:a=0,format=yuv420p[v]\" "
	                        "-map \"[v]\" -map 3:a -c:v libx264 -preset ultrafast -c:a aac -b:a 128k "
	                        "-movflags +faststart %s/film.mp4",
	                     fx),
	                 0);
	ck_assert_int_eq(run(FF "-f lavfi -i \"aevalsrc=0.3*sin(2*PI*220*t)*lt(mod(t\\,2)\\,1):s=24000:d=3\" -ac 1 "
	                        "%s/voice.wav",
	                     fx),
	                 0);
}

static void fixtures_teardown(void)
{
	lv_test_rmdir(fx);
	free(fx);
	fx = NULL;
}

static void targets_default(lv_qc_targets *t)
{
	lv_qc_targets_default(t, -16, -1.5);
	ck_assert(t->speech_coverage_min == 0.6 && t->line_chars_max == 42 && t->cps_max == 20);
}

static const cJSON *qc_item(const cJSON *qc, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(qc, key);
	ck_assert_msg(cJSON_IsObject(it), "qc has no item %s", key);
	ck_assert_msg(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(it, "pass")), "%s: no pass", key);
	ck_assert_msg(cJSON_GetObjectItemCaseSensitive(it, "value") != NULL, "%s: no value", key);
	ck_assert_msg(cJSON_GetObjectItemCaseSensitive(it, "target") != NULL, "%s: no target", key);
	return it;
}

static double qc_num(const cJSON *qc, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(qc_item(qc, key), "value");
	ck_assert_msg(cJSON_IsNumber(v), "%s: value is not a number", key);
	return v->valuedouble;
}

static int qc_pass(const cJSON *qc, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(qc_item(qc, key), "pass"));
}

START_TEST(measures_a_film_with_known_faults)
{
	static const double cuts[] = { 2.0, 3.0, 4.5 };
	lv_qc_targets tg;
	lv_qc_input in;
	lv_compose_voice voice;
	lv_media_info mi;
	cJSON *qc = NULL;
	const cJSON *runs, *r;
	char *film = fx_path("film.mp4"), *srt = fx_path("cues.srt");
	double lufs = 0, tp = 0;
	FILE *f = fopen(srt, "w");
	ck_assert_ptr_nonnull(f);
	/* 0 fine; 1 lasts 8 s; 2 crosses the cut at 2 s; 3 has three lines; 4 has a 50-character line;
	 * 5 is 40 characters in 1 s */
	fputs("1\n00:00:00,100 --> 00:00:01,900\nA fine cue.\n\n"
	      "2\n00:00:00,000 --> 00:00:08,000\nFar too long on screen.\n\n"
	      "3\n00:00:01,500 --> 00:00:02,500\nAcross.\n\n"
	      "4\n00:00:03,000 --> 00:00:04,400\none\ntwo\nthree\n\n"
	      "5\n00:00:04,600 --> 00:00:05,900\n12345678901234567890123456789012345678901234567890\n\n"
	      "6\n00:00:05,000 --> 00:00:06,000\n1234567890123456789\n1234567890123456789\n\n",
	      f);
	fclose(f);
	voice.path = fx_path("voice.wav");
	voice.start = 1.0;
	targets_default(&tg);
	memset(&in, 0, sizeof(in));
	in.film = film;
	in.srt = srt;
	in.requested_seconds = 6.0;
	in.cuts = cuts;
	in.n_cuts = 3;
	in.voices = &voice;
	in.n_voices = 1;
	in.ducking_db = 9.5;
	in.targets = &tg;
	ck_assert_msg(lv_qc_measure(&qc, &in) == LV_OK, "%s", lv_error_last()->message);
	if (getenv("LV_TEST_VERBOSE")) {
		char *text = lv_json_print(qc);
		fprintf(stderr, "%s\n", text);
		free(text);
	}

	/* loudness and true peak equal a separate ebur128 measurement of the same file */
	ck_assert_int_eq(lv_media_loudness(film, &lufs, &tp), LV_OK);
	ck_assert_msg(fabs(qc_num(qc, "loudness_lufs") - lufs) <= 0.05, "qc %.2f LUFS, measured %.2f",
	              qc_num(qc, "loudness_lufs"), lufs);
	ck_assert_msg(fabs(qc_num(qc, "true_peak_dbtp") - tp) <= 0.05, "qc %.2f dBTP, measured %.2f",
	              qc_num(qc, "true_peak_dbtp"), tp);
	/* the verdicts follow the values */
	ck_assert_int_eq(qc_pass(qc, "loudness_lufs"), fabs(lufs + 16) <= 1);
	ck_assert_int_eq(qc_pass(qc, "true_peak_dbtp"), tp <= -1.5);

	/* duration against the probe */
	ck_assert_int_eq(lv_media_probe(&mi, film), LV_OK);
	ck_assert_msg(fabs(qc_num(qc, "duration_s") - mi.video_duration) < 0.002, "duration %.3f vs %.3f",
	              qc_num(qc, "duration_s"), mi.video_duration);
	ck_assert(qc_pass(qc, "duration_s"));
	ck_assert(qc_pass(qc, "streams")); /* video, audio, no subtitle track expected, faststart */

	/* the black second at 2-3 s */
	ck_assert_msg(fabs(qc_num(qc, "black_at_joins") - 1.0) <= 2.0 / 24, "black %.3f s", qc_num(qc, "black_at_joins"));
	ck_assert(!qc_pass(qc, "black_at_joins"));
	runs = cJSON_GetObjectItemCaseSensitive(qc_item(qc, "black_at_joins"), "runs");
	ck_assert_int_eq(cJSON_GetArraySize(runs), 1);
	r = cJSON_GetArrayItem(runs, 0);
	ck_assert_msg(fabs(cJSON_GetObjectItem(r, "start")->valuedouble - 2.0) <= 1.5 / 24, "black from %.3f",
	              cJSON_GetObjectItem(r, "start")->valuedouble);
	/* the still picture at 3-4.5 s (its first frame differs from the black before it); the black second is
	 * a frozen run too */
	ck_assert_msg(fabs(qc_num(qc, "frozen_at_joins") - 1.5) <= 2.0 / 24 + 0.1, "frozen %.3f s",
	              qc_num(qc, "frozen_at_joins"));
	ck_assert(!qc_pass(qc, "frozen_at_joins"));

	/* speech: 1 s + 1 s of the 6 s film */
	ck_assert_msg(fabs(qc_num(qc, "speech_coverage") - 2.0 / 6.0) <= 0.02, "coverage %.3f",
	              qc_num(qc, "speech_coverage"));
	ck_assert(!qc_pass(qc, "speech_coverage"));

	/* ducking is passed through from the composer and judged against the target */
	ck_assert(fabs(qc_num(qc, "ducking_db") - 9.5) < 1e-9);
	ck_assert(qc_pass(qc, "ducking_db"));

	/* subtitles: five of six cues break a rule */
	ck_assert_int_eq((int)qc_num(qc, "subtitles"), 5);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(qc_item(qc, "subtitles"), "violations")), 5);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(qc_item(qc, "subtitles"), "measured"), "cues_across_cuts")
	                         ->valueint,
	                 2); /* the 8 s cue crosses cuts too */
	ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(qc, "pass")));
	cJSON_Delete(qc);

	/* a wrong requested length and a missing subtitle track fail their items */
	in.requested_seconds = 6.5;
	in.subtitle_track = 1;
	f = fopen(srt, "w"); /* a film without cues has an empty final.srt */
	ck_assert_ptr_nonnull(f);
	fclose(f);
	in.ducking_db = NAN;
	ck_assert_int_eq(lv_qc_measure(&qc, &in), LV_OK);
	ck_assert(!qc_pass(qc, "duration_s"));
	ck_assert(!qc_pass(qc, "streams"));
	ck_assert(qc_pass(qc, "subtitles")); /* no cues: nothing breaks the rules */
	ck_assert_int_eq(cJSON_GetObjectItem(qc_item(qc, "subtitles"), "cues")->valueint, 0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(qc_item(qc, "ducking_db"), "value")));
	ck_assert(qc_pass(qc, "ducking_db"));
	cJSON_Delete(qc);

	/* an unreadable film is an error naming it */
	in.film = srt;
	ck_assert_int_ne(lv_qc_measure(&qc, &in), LV_OK);
	ck_assert_ptr_null(qc);
	free((char *)voice.path);
	free(film);
	free(srt);
}
END_TEST

/* The composer measures how far it brought the music down under the narration. */
/* The picture is decoded around the joins only, each window from the key frame before it: in a 20 s film
 * with a key frame every 2 s, a black second right after the join at 15 s is found where it is (the
 * decoding began at the key frame at 12 s, mid-film), and a still picture at 4-7 s, far from the joins at 10 and
 * 15 s, is neither decoded nor reported. */
START_TEST(the_picture_is_checked_around_the_joins)
{
	static const double cuts[] = { 10.0, 15.0 };
	lv_qc_targets tg;
	lv_qc_input in;
	cJSON *qc = NULL;
	const cJSON *it, *r;
	char *film = fx_path("long.mp4");
	double window;
	long frames;
	ck_assert_int_eq(run(FF "-f lavfi -i testsrc2=size=320x240:rate=24:duration=20 -f lavfi "
	                        "-i color=black:size=320x240:rate=24:duration=1 "
	                        "-f lavfi -i \"aevalsrc=0.2*sin(2*PI*997*t)|0.2*sin(2*PI*997*t):s=48000:d=20\" "
	                        "-filter_complex \"[0:v]split=4[a][b][c][d];[a]trim=end=4[p0];"
	                        "[b]trim=start=4:end=4.0417,loop=loop=71:size=1,setpts=N/24/TB[still];"
	                        "[c]trim=start=7:end=15,setpts=PTS-STARTPTS[p1];[d]trim=start=16,setpts=PTS-STARTPTS[p2];"
	                        "[p0][still][p1][1:v][p2]concat=n=5:v=1:a=0,format=yuv420p[v]\" "
	                        "-map \"[v]\" -map 2:a -c:v libx264 -preset ultrafast -g 48 -keyint_min 48 -sc_threshold 0 "
	                        "-c:a aac -b:a 128k -movflags +faststart %s",
	                     film),
	                 0);
	targets_default(&tg);
	memset(&in, 0, sizeof(in));
	in.film = film;
	in.requested_seconds = 20.0;
	in.cuts = cuts;
	in.n_cuts = 2;
	in.ducking_db = NAN;
	in.targets = &tg;
	ck_assert_msg(lv_qc_measure(&qc, &in) == LV_OK, "%s", lv_error_last()->message);
	it = qc_item(qc, "black_at_joins");
	ck_assert_msg(fabs(qc_num(qc, "black_at_joins") - 1.0) <= 2.0 / 24, "black %.3f s", qc_num(qc, "black_at_joins"));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(it, "runs")), 1);
	r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(it, "runs"), 0);
	ck_assert_msg(fabs(cJSON_GetObjectItem(r, "start")->valuedouble - 15.0) <= 1.5 / 24, "black from %.3f",
	              cJSON_GetObjectItem(r, "start")->valuedouble);
	window = cJSON_GetObjectItem(it, "window_s")->valuedouble;
	frames = (long)cJSON_GetObjectItem(it, "frames_checked")->valuedouble;
	ck_assert_msg(window >= tg.freeze_min_s + 0.5 && window < 3, "window %.3f s", window);
	/* 8-11.75 s and 12-16.75 s (from the key frames at 8 and 12 s, before 8.25 and 13.25 s): about 205
	 * pictures of the film's 480 */
	ck_assert_msg(frames >= 195 && frames <= 215, "%ld pictures checked", frames);
	/* the black second is the only frozen run: the still far from the joins was not decoded */
	it = qc_item(qc, "frozen_at_joins");
	ck_assert_int_eq(cJSON_GetObjectItem(it, "runs_total")->valueint, 1);
	ck_assert_msg(fabs(qc_num(qc, "frozen_at_joins") - 1.0) <= 2.0 / 24 + 0.1, "frozen %.3f s",
	              qc_num(qc, "frozen_at_joins"));
	cJSON_Delete(qc);
	free(film);
}
END_TEST

START_TEST(composer_measures_ducking)
{
	lv_compose_segment seg = { NULL, 6.0 };
	lv_compose_voice voice;
	lv_compose_job job;
	lv_compose_stats st;
	char *dir = lv_test_mkdtemp("qc-duck"), *music;
	ck_assert_int_eq(run(FF "-f lavfi -i \"aevalsrc=0.3*sin(2*PI*110*t)|0.3*sin(2*PI*165*t):s=48000:d=6\" "
	                        "%s/music.wav",
	                     dir),
	                 0);
	ck_assert_int_eq(run(FF "-f lavfi -i testsrc2=size=320x240:rate=24:duration=6 -c:v libx264 -preset ultrafast "
	                        "-pix_fmt yuv420p %s/seg.mp4",
	                     dir),
	                 0);
	seg.path = lv_path_join(dir, "seg.mp4");
	music = lv_path_join(dir, "music.wav");
	voice.path = fx_path("voice.wav");
	voice.start = 1.0;
	memset(&job, 0, sizeof(job));
	job.segments = &seg;
	job.n_segments = 1;
	job.width = 320;
	job.height = 240;
	job.voices = &voice;
	job.n_voices = 1;
	job.music_path = music;
	job.segment_audio_db = -18;
	job.subtitles = LV_SUBS_NONE;
	job.out_dir = dir;
	job.target_lufs = -16;
	job.true_peak_db = -1.5;
	ck_assert_msg(lv_compose_run(&job, &st) == LV_OK, "%s", lv_error_last()->message);
	if (getenv("LV_TEST_VERBOSE"))
		fprintf(stderr, "ducking %.2f dB\n", st.ducking_db);
	ck_assert_msg(isfinite(st.ducking_db) && st.ducking_db > 3 && st.ducking_db < 40, "ducking %.2f dB",
	              st.ducking_db);
	/* without narration there is nothing to duck under */
	job.n_voices = 0;
	ck_assert_int_eq(lv_compose_run(&job, &st), LV_OK);
	ck_assert(isnan(st.ducking_db));
	free((char *)seg.path);
	free((char *)voice.path);
	free(music);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

/* The composer's targets and the report's limits come from config, with documented defaults. */
START_TEST(targets_from_config)
{
	lv_config *cfg = NULL;
	ck_assert_int_eq(lv_config_load(&cfg, NULL, "{}", NULL), LV_OK);
	ck_assert(cfg->compose.target_lufs == -16 && cfg->compose.true_peak_dbtp == -1.5 &&
	          cfg->compose.segment_audio_db == -18);
	ck_assert(cfg->compose.loudness_tolerance_lu == 1 && cfg->compose.duration_tolerance_frames == 1 &&
	          cfg->compose.min_ducking_db == 6 && cfg->compose.min_speech_coverage == 0.6);
	ck_assert(cfg->compose.max_line_chars == 42 && cfg->compose.max_lines == 2 && cfg->compose.min_cue_s == 0.8 &&
	          cfg->compose.max_cue_s == 7 && cfg->compose.max_chars_per_second == 20);
	ck_assert(cfg->compose.max_black_s == 0 && cfg->compose.max_freeze_s == 0 && cfg->compose.freeze_min_s == 1);
	lv_config_free(cfg);
	cfg = NULL;
	ck_assert_int_eq(lv_config_load(&cfg, NULL,
	                                "{\"compose\":{\"target_lufs\":-23,\"true_peak_dbtp\":-2,\"segment_audio_db\":-12,"
	                                "\"qc\":{\"min_speech_coverage\":0.3,\"max_line_chars\":37}}}",
	                                NULL),
	                 LV_OK);
	ck_assert(cfg->compose.target_lufs == -23 && cfg->compose.true_peak_dbtp == -2 &&
	          cfg->compose.segment_audio_db == -12);
	ck_assert(cfg->compose.min_speech_coverage == 0.3 && cfg->compose.max_line_chars == 37);
	ck_assert(cfg->compose.min_ducking_db == 6);
	lv_config_free(cfg);
	cfg = NULL;
	ck_assert_int_eq(lv_config_load(&cfg, NULL, "{\"compose\":{\"target_lufs\":3}}", NULL), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "compose.target_lufs"));
	ck_assert_int_eq(lv_config_load(&cfg, NULL, "{\"compose\":{\"qc\":{\"min_speech_coverage\":\"most\"}}}", NULL),
	                 LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "compose.qc.min_speech_coverage"));
	ck_assert_int_eq(lv_config_load(&cfg, NULL, "{\"compose\":{\"qc\":{\"loudnes\":1}}}", NULL), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "compose.qc.loudnes"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("qc");
	TCase *tc = tcase_create("qc");
	tcase_add_unchecked_fixture(tc, fixtures_setup, fixtures_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, measures_a_film_with_known_faults);
	tcase_add_test(tc, the_picture_is_checked_around_the_joins);
	tcase_add_test(tc, composer_measures_ducking);
	tcase_add_test(tc, targets_from_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!getenv("LV_TEST_FFMPEG_LOG"))
		av_log_set_level(AV_LOG_ERROR);
	return lv_test_run_suite(suite());
}
