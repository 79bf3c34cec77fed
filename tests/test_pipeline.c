/* The pipeline end to end with the built-in providers: films read back as media, strict failure,
 * cancel while generating, re-composition, moderation. */
#include "testutil.h"
#include "compose/compose.h"
#include "core/engine.h"
#include "longvideo.h"
#include "pipeline_util.h"
#include "store_util.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME (1.0 / 24.0)

static int narrated_shots(const cJSON *task)
{
	const cJSON *s;
	int n = 0;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(task, "script"), "shots"))
	{
		const char *t = lv_json_get_str(s, "narration");
		n += t && *t;
	}
	return n;
}

static void check_film(const char *path, double seconds, int width, int height, int want_subs)
{
	lv_media_info mi;
	double lufs = 0, peak = 0;
	ck_assert_msg(lv_media_probe(&mi, path) == LV_OK, "probe %s: %s", path, lv_error_last()->message);
	ck_assert_msg(fabs(mi.duration - seconds) <= FRAME + 1e-3, "duration %.4f, want %.0f", mi.duration, seconds);
	ck_assert_msg(fabs(mi.video_duration - seconds) <= FRAME + 1e-3, "video %.4f", mi.video_duration);
	ck_assert(mi.has_video && mi.has_audio);
	ck_assert_str_eq(mi.video_codec, "h264");
	ck_assert_str_eq(mi.audio_codec, "aac");
	ck_assert_int_eq(mi.width, width);
	ck_assert_int_eq(mi.height, height);
	ck_assert(mi.faststart);
	if (want_subs >= 0) {
		ck_assert(mi.has_subtitles);
		ck_assert_int_eq(mi.subtitle_packets, want_subs);
	} else {
		ck_assert(!mi.has_subtitles);
	}
	ck_assert_int_eq(lv_media_loudness(path, &lufs, &peak), LV_OK);
	ck_assert_msg(fabs(lufs + 16.0) <= 1.5, "loudness %.2f LUFS", lufs);
	ck_assert_msg(peak <= -1.0, "true peak %.2f dBTP", peak);
}

/* The task's quality report: every item with value, target and pass; qc.json beside the film says the same;
 * the figures agree with independent measurements of the film. */
static void check_qc(const cJSON *task, const char *film, int with_music)
{
	static const char *const items[] = { "duration_s",      "streams",        "loudness_lufs", "true_peak_dbtp",
		                             "ducking_db",      "speech_coverage", "black_at_joins", "frozen_at_joins",
		                             "subtitles",       NULL };
	const cJSON *qc = cJSON_GetObjectItemCaseSensitive(task, "qc"), *it;
	char *dir = strdup(film), *path, *text = NULL;
	cJSON *stored;
	lv_media_info mi;
	double lufs = 0, tp = 0;
	size_t len = 0, i;
	int all = 1;
	ck_assert_msg(cJSON_IsObject(qc), "the task has no qc");
	for (i = 0; items[i]; i++) {
		it = cJSON_GetObjectItemCaseSensitive(qc, items[i]);
		ck_assert_msg(cJSON_IsObject(it), "qc.%s missing", items[i]);
		ck_assert_msg(cJSON_GetObjectItemCaseSensitive(it, "value") && cJSON_GetObjectItemCaseSensitive(it, "target"),
		              "qc.%s: value or target missing", items[i]);
		ck_assert_msg(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(it, "pass")), "qc.%s: pass missing", items[i]);
		all = all && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "pass"));
	}
	ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(qc, "pass")), all);
	ck_assert_int_eq(lv_media_loudness(film, &lufs, &tp), LV_OK);
	it = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(qc, "loudness_lufs"), "value");
	ck_assert_msg(fabs(it->valuedouble - lufs) <= 0.05, "qc %.2f LUFS, measured %.2f", it->valuedouble, lufs);
	it = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(qc, "true_peak_dbtp"), "value");
	ck_assert_msg(fabs(it->valuedouble - tp) <= 0.05, "qc %.2f dBTP, measured %.2f", it->valuedouble, tp);
	ck_assert_int_eq(lv_media_probe(&mi, film), LV_OK);
	it = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(qc, "duration_s"), "value");
	ck_assert_msg(fabs(it->valuedouble - mi.video_duration) <= 0.002, "qc %.3f s, film %.3f", it->valuedouble,
	              mi.video_duration);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(qc, "duration_s"), "pass")));
	it = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(qc, "ducking_db"), "value");
	if (with_music)
		ck_assert_msg(cJSON_IsNumber(it) && it->valuedouble > 3, "ducking %g", cJSON_IsNumber(it) ? it->valuedouble : -1);
	else
		ck_assert(cJSON_IsNull(it));
	it = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(qc, "speech_coverage"), "value");
	ck_assert_msg(it->valuedouble > 0.05 && it->valuedouble <= 1, "speech coverage %g", it->valuedouble);
	/* qc.json published beside final.mp4 */
	*strrchr(dir, '/') = '\0';
	path = lv_path_join(dir, "qc.json");
	ck_assert_int_eq(lv_test_read_file(&text, &len, path), 0);
	stored = cJSON_Parse(text);
	ck_assert_ptr_nonnull(stored);
	ck_assert(cJSON_Compare(stored, qc, 1));
	cJSON_Delete(stored);
	free(text);
	free(path);
	free(dir);
}

START_TEST(short_chinese_film_is_complete)
{
	lv_pt pt;
	char id[64], *film, *dir;
	lv_task *t;
	cJSON *j;
	int64_t reserve, settle, refund;
	lv_pt_open(&pt, "pipe-zh", NULL, 2);
	lv_pt_create(&pt, "{\"prompt\":\"城市清晨的延时风光\",\"duration\":10}", id);
	t = lv_pt_wait(&pt, id, -1, 240);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "status %s: %s",
	              lv_task_status_name(lv_task_get_status(t)), lv_task_error_message(t) ? lv_task_error_message(t) : "");
	ck_assert_int_eq(lv_task_progress(t), 100);
	ck_assert_int_eq(lv_task_shots_done(t), 2);
	ck_assert_int_eq(lv_task_cost_actual(t), lv_task_cost_estimate(t));
	{ /* the one-line report lvctl get prints */
		char *sum = NULL;
		ck_assert_int_eq(lv_task_qc_summary(&sum, t), LV_OK);
		ck_assert_ptr_nonnull(sum);
		ck_assert_msg((!strncmp(sum, "pass: ", 6) || !strncmp(sum, "FAIL (", 6)) && strstr(sum, " LUFS, ") &&
		                  strstr(sum, " dBTP, ducking "),
		              "%s", sum);
		lv_free(sum);
	}
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	ck_assert(strncmp(lv_json_get_str(j, "result_url"), "http://127.0.0.1:9/media/", 25) == 0);
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(j, "result_url"), "/final.mp4"));
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(j, "subtitles_url"), "/final.vtt"));
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(j, "thumbnail_url"), "/thumbnail.jpg"));
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(j, "script"), "language"), "zh");
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "shots"), 1), "status"), "ready");
	ck_assert_ptr_nonnull(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "shots"), 1), "description"));
	film = lv_pt_film(&pt, id);
	check_film(film, 10, 1280, 720, narrated_shots(j));
	check_qc(j, film, 1);
	/* The subtitle files and thumbnail are published beside the film. */
	dir = strdup(film);
	*strrchr(dir, '/') = '\0';
	{
		char *srt = lv_path_join(dir, "final.srt"), *vtt = lv_path_join(dir, "final.vtt"),
		     *jpg = lv_path_join(dir, "thumbnail.jpg"), *text = NULL;
		size_t len = 0;
		lv_media_info mi;
		ck_assert_int_eq(lv_test_read_file(&text, &len, vtt), 0);
		ck_assert(strncmp(text, "WEBVTT", 6) == 0);
		free(text);
		ck_assert_int_eq(lv_test_read_file(&text, &len, srt), 0);
		ck_assert_ptr_nonnull(strstr(text, " --> "));
		free(text);
		ck_assert_int_eq(lv_media_probe(&mi, jpg), LV_OK);
		ck_assert_int_eq(mi.width, 1280);
		free(srt);
		free(vtt);
		free(jpg);
	}
	free(dir);
	free(film);
	cJSON_Delete(j);
	lv_pt_task_ledger(&pt, id, &reserve, &settle, &refund);
	ck_assert_int_eq(reserve, 10 * 27500);
	ck_assert_int_eq(settle, 10 * 27500);
	ck_assert_int_eq(refund, 0);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(portrait_english_without_music_or_subtitles)
{
	lv_pt pt;
	char id[64], *film;
	lv_task *t;
	lv_pt_open(&pt, "pipe-en", NULL, 1);
	lv_pt_create(&pt, "{\"prompt\":\"A lighthouse keeper named Ada watches a storm roll in\",\"duration\":5,"
	                  "\"aspect_ratio\":\"9:16\",\"music\":false,\"subtitles\":\"none\"}",
	             id);
	t = lv_pt_wait(&pt, id, -1, 240);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_COMPLETED);
	lv_task_free(t);
	film = lv_pt_film(&pt, id);
	check_film(film, 5, 720, 1280, -1);
	{
		cJSON *j = lv_pt_json(&pt, id);
		check_qc(j, film, 0);
		cJSON_Delete(j);
	}
	free(film);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(a_failing_shot_fails_the_task_and_refunds_the_rest)
{
	lv_pt pt;
	char id[64];
	lv_task *t;
	cJSON *j, *err;
	int64_t reserve, settle, refund, ready = 0;
	const cJSON *s;
	lv_credits c;
	/* Three short shots (clips of at most 3 s) of which the third fails. */
	lv_pt_open(&pt, "pipe-fail",
	           "{\"providers\":{\"local\":{\"type\":\"local\",\"fail_shots\":[2],\"latency_ms\":300,"
	           "\"max_seconds\":3}}}",
	           1);
	lv_pt_create(&pt, "{\"prompt\":\"Harbour at dusk\",\"duration\":9,\"narration\":false}", id);
	t = lv_pt_wait(&pt, id, -1, 240);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	ck_assert_str_eq(lv_task_error_code(t), "segment_failed");
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	err = cJSON_GetObjectItem(j, "error");
	ck_assert_str_eq(lv_json_get_str(err, "stage"), "generating");
	ck_assert_int_eq(cJSON_GetObjectItem(err, "shot")->valueint, 2);
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(err, "message"), "shot 2"));
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(j, "shots"))
	{
		if (!strcmp(lv_json_get_str(s, "status"), "ready"))
			ready += cJSON_GetObjectItem(s, "duration")->valueint * 27500;
	}
	/* Strict failure: only generated shots are charged, everything else goes back. */
	ck_assert_int_eq((int64_t)llround(cJSON_GetObjectItem(j, "cost_actual")->valuedouble * 1000), ready);
	lv_pt_task_ledger(&pt, id, &reserve, &settle, &refund);
	ck_assert_int_eq(settle, ready);
	ck_assert_int_eq(reserve, settle + refund);
	ck_assert_int_eq(lv_key_credits(&c, pt.engine, pt.key), LV_OK);
	ck_assert_int_eq(c.reserved, 0);
	ck_assert_int_eq(c.balance, 100000000 - ready);
	cJSON_Delete(j);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(cancel_while_generating_stops_promptly)
{
	lv_pt pt;
	char id[64];
	lv_task *t, *c = NULL;
	int64_t reserve, settle, refund, t0;
	lv_pt_open(&pt, "pipe-cancel", "{\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":2500}}}", 1);
	lv_pt_create(&pt, "{\"prompt\":\"Night train through snow\",\"duration\":24}", id);
	lv_task_free(lv_pt_wait(&pt, id, LV_TASK_GENERATING, 120));
	lv_sleep_ms(300);
	ck_assert_int_eq(lv_task_cancel(&c, pt.engine, pt.key, id), LV_OK);
	ck_assert_int_eq(lv_task_get_status(c), LV_TASK_CANCELED);
	lv_task_free(c);
	/* The worker lets go of the task (the wait only keeps a broken build from hanging). */
	t0 = lv_mono_ms();
	while (lv_workers_active(pt.workers) > 0 && lv_mono_ms() - t0 < 60000)
		lv_sleep_ms(20);
	ck_assert_uint_eq(lv_workers_active(pt.workers), 0);
	/* Nothing the worker would have finished later (the shots were due 2.5 s after they were submitted)
	 * changes the canceled task. */
	lv_sleep_ms(3000);
	t = lv_pt_wait(&pt, id, -1, 5);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_CANCELED);
	ck_assert_int_eq(lv_task_shots_done(t), 0);
	ck_assert_int_eq(lv_task_cost_actual(t), 0);
	lv_task_free(t);
	lv_pt_task_ledger(&pt, id, &reserve, &settle, &refund);
	ck_assert_int_eq(settle, 0);
	ck_assert_int_eq(refund, reserve);
	lv_pt_close(&pt);
}
END_TEST

/* The task's status and internal state as the store has them (caller frees the state). */
static char *stored_state(lv_pt *pt, const char *id, int *status)
{
	const lv_store_ops *ops = pt->engine->store->ops;
	lv_store_tx *tx;
	lv_task_rec t;
	char *s;
	ck_assert_int_eq(ops->begin(pt->engine->store, 0, &tx), LV_OK);
	ck_assert_int_eq(ops->task_get(tx, id, 0, &t), LV_OK);
	ops->rollback(tx);
	*status = t.status;
	s = strdup(t.state ? t.state : "{}");
	lv_task_rec_clear(&t);
	return s;
}

/* Narration and music depend on the storyboard only: they are made and recorded while the shots are
 * still being generated, and the audio stage then finds them (nothing is spoken twice). */
START_TEST(audio_is_made_while_the_shots_generate)
{
	lv_pt pt;
	char id[64], *state = NULL;
	cJSON *during, *after, *task;
	lv_task *t;
	int status = -1;
	int64_t t0;
	lv_pt_open(&pt, "pipe-early-audio", "{\"providers\":{\"local\":{\"type\":\"local\",\"latency_ms\":6000}}}", 1);
	lv_pt_create(&pt, "{\"prompt\":\"A lighthouse keeper named Ada watches a storm roll in\",\"duration\":16}", id);
	lv_task_free(lv_pt_wait(&pt, id, LV_TASK_GENERATING, 120));
	t0 = lv_mono_ms();
	for (;;) {
		free(state);
		state = stored_state(&pt, id, &status);
		if (status != LV_TASK_GENERATING || (strstr(state, "\"music\"") && strstr(state, "\"narration\"")) ||
		    lv_mono_ms() - t0 > 60000)
			break;
		lv_sleep_ms(20);
	}
	ck_assert_msg(status == LV_TASK_GENERATING, "the shots were done before the audio (status %d): %s", status,
	              state);
	during = cJSON_Parse(state);
	ck_assert_ptr_nonnull(during);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(during, "narration")), 2);
	t = lv_pt_wait(&pt, id, -1, 300);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_COMPLETED);
	lv_task_free(t);
	free(state);
	state = stored_state(&pt, id, &status);
	after = cJSON_Parse(state);
	ck_assert_ptr_nonnull(after);
	/* the same stems: the audio stage made nothing again */
	ck_assert(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(during, "narration"),
	                        cJSON_GetObjectItemCaseSensitive(after, "narration"), 1));
	ck_assert_str_eq(lv_json_get_str(during, "music"), lv_json_get_str(after, "music"));
	task = lv_pt_json(&pt, id);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(task, "qc"), "pass")));
	cJSON_Delete(task);
	cJSON_Delete(during);
	cJSON_Delete(after);
	free(state);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(recompose_publishes_a_new_film_and_charges_nothing)
{
	lv_pt pt;
	char id[64], *first, *second, first_url[512];
	lv_task *t, *r = NULL;
	lv_credits before, after;
	cJSON *j;
	lv_pt_open(&pt, "pipe-recompose", NULL, 1);
	lv_pt_create(&pt, "{\"prompt\":\"A quiet forest after rain\",\"duration\":6}", id);
	t = lv_pt_wait(&pt, id, -1, 240);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_COMPLETED);
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	snprintf(first_url, sizeof(first_url), "%s", lv_json_get_str(j, "result_url"));
	cJSON_Delete(j);
	first = lv_pt_film(&pt, id);
	ck_assert_int_eq(lv_key_credits(&before, pt.engine, pt.key), LV_OK);
	ck_assert_int_eq(lv_task_compose_json(&r, pt.engine, pt.key, id, "{\"subtitles\":\"burn\",\"music\":false}", 34),
	                 LV_OK);
	ck_assert_int_eq(lv_task_get_status(r), LV_TASK_COMPOSING);
	lv_task_free(r);
	t = lv_pt_wait(&pt, id, LV_TASK_COMPLETED, 240);
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	ck_assert_str_ne(lv_json_get_str(j, "result_url"), first_url);
	ck_assert_str_eq(lv_json_get_str(j, "subtitles"), "burn");
	second = lv_pt_film(&pt, id);
	ck_assert(lv_path_exists(first)); /* the first URL stays valid */
	check_film(second, 6, 1280, 720, -1);
	/* the new film is measured again: no music now, so no ducking; its own qc.json beside it */
	check_qc(j, second, 0);
	cJSON_Delete(j);
	ck_assert_int_eq(lv_key_credits(&after, pt.engine, pt.key), LV_OK);
	ck_assert_int_eq(after.balance, before.balance);
	ck_assert_int_eq(after.settled, before.settled);
	free(first);
	free(second);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(moderation_rejects_and_refunds_everything)
{
	lv_pt pt;
	char id[64];
	lv_task *t;
	cJSON *j;
	int64_t reserve, settle, refund;
	lv_pt_open(&pt, "pipe-mod",
	           "{\"providers\":{\"local\":{\"type\":\"local\",\"moderation\":{\"categories\":{\"test_rule\":"
	           "[\"forbidden-word\"]}}}}}",
	           1);
	lv_pt_create(&pt, "{\"prompt\":\"a forbidden-word in the city\",\"duration\":8}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	ck_assert_str_eq(lv_task_error_code(t), "moderation_rejected");
	ck_assert_int_eq(lv_task_cost_actual(t), 0);
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(j, "error"), "stage"), "moderation");
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(cJSON_GetObjectItem(j, "error"), "message"), "test_rule"));
	cJSON_Delete(j);
	lv_pt_task_ledger(&pt, id, &reserve, &settle, &refund);
	ck_assert_int_eq(settle, 0);
	ck_assert_int_eq(refund, reserve);
	{
		lv_task *c = NULL;
		ck_assert_int_eq(lv_task_compose(&c, pt.engine, pt.key, id, NULL), LV_ENOSEGMENTS);
	}
	lv_pt_close(&pt);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("pipeline");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, short_chinese_film_is_complete);
	if (lv_test_pg_server()) {
		/* On PostgreSQL (tests/on_pg.sh): one film end to end, and a failure's refund. */
		tcase_add_test(tc, a_failing_shot_fails_the_task_and_refunds_the_rest);
		suite_add_tcase(s, tc);
		return s;
	}
	tcase_add_test(tc, portrait_english_without_music_or_subtitles);
	tcase_add_test(tc, a_failing_shot_fails_the_task_and_refunds_the_rest);
	tcase_add_test(tc, cancel_while_generating_stops_promptly);
	tcase_add_test(tc, audio_is_made_while_the_shots_generate);
	tcase_add_test(tc, recompose_publishes_a_new_film_and_charges_nothing);
	tcase_add_test(tc, moderation_rejects_and_refunds_everything);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
