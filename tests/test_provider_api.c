/* The public provider calls (longvideo/provider.h) and plug-in types (longvideo/sys/provider.h), on the
 * built-in local provider and on a type written here; media read back with the FFmpeg libraries. */
#include "testutil.h"
#include "longvideo.h"
#include "model/probe.h"

#include "util/mem.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *tmp;

static void setup(void)
{
	tmp = lv_test_mkdtemp("provapi");
}

static void teardown(void)
{
	lv_test_rmdir(tmp);
	free(tmp);
}

static lv_provider *open_ok(const char *json, const lv_provider_options *o)
{
	lv_provider *p = NULL;
	ck_assert_msg(lv_provider_open(&p, json, o) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_ptr_nonnull(p);
	return p;
}

static void expect_open_error(const char *json, int status, const char *part)
{
	lv_provider_options o = LV_PROVIDER_OPTIONS_INIT;
	lv_provider *p = (lv_provider *)&o; /* must be reset to NULL */
	o.name = "writer";
	ck_assert_int_eq(lv_provider_open(&p, json, &o), status);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(lv_error_last()->message, part), "'%s' lacks '%s'", lv_error_last()->message, part);
}

START_TEST(blocks_are_checked_like_the_config_file)
{
	lv_provider *p;
	expect_open_error("{\"type\": ", LV_ECONFIG, "providers.writer");
	expect_open_error("[1]", LV_ECONFIG, "providers.writer: must be an object");
	expect_open_error("{\"type\": \"nope\"}", LV_ECONFIG, "providers.writer.type: unknown type 'nope'");
	expect_open_error("{\"type\": \"local\", \"bogus\": 1}", LV_ECONFIG, "providers.writer.bogus");
	expect_open_error("{\"type\": \"anthropic\", \"api_key\": \"sk-x\"}", LV_ECONFIG, "api_key_env");
	p = open_ok("{\"type\": \"local\"}", NULL);
	ck_assert_str_eq(lv_provider_name(p), "provider");
	ck_assert_str_eq(lv_provider_type_name(p), "local");
	ck_assert_uint_eq(lv_provider_stages(p), LV_PROVIDER_SCRIPT | LV_PROVIDER_MODERATION | LV_PROVIDER_REFERENCE_IMAGE |
	                                                 LV_PROVIDER_VIDEO | LV_PROVIDER_SPEECH | LV_PROVIDER_MUSIC);
	lv_provider_close(p);
	lv_provider_close(NULL);
}
END_TEST

START_TEST(local_storyboard_has_the_planned_shots)
{
	static const int secs[] = { 5, 4 };
	lv_provider *p = open_ok("{\"type\": \"local\"}", NULL);
	lv_storyboard_options o = LV_STORYBOARD_OPTIONS_INIT;
	char *json = NULL, *text = NULL;
	cJSON *sb;
	o.prompt = "A lighthouse keeper befriends a storm";
	o.duration = 9;
	o.shot_seconds = secs;
	o.n_shots = 2;
	ck_assert_msg(lv_provider_write_storyboard(&json, p, &o) == LV_OK, "%s", lv_error_last()->message);
	sb = cJSON_Parse(json);
	ck_assert_ptr_nonnull(sb);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(sb, "shots")), 2);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(sb, "shots"), 1), "duration")->valueint, 4);
	cJSON_Delete(sb);
	ck_assert_int_eq(lv_storyboard_to_text(&text, json), LV_OK);
	ck_assert_msg(strstr(text, "\nShot 2 (5-9 s)"), "%s", text);
	lv_free(text);
	ck_assert_int_eq(lv_storyboard_to_text(&text, "[1]"), LV_EINVALID);
	ck_assert_ptr_null(text);
	lv_free(json);

	/* Without shot lengths: the planner's split (20 s: 7+7+6). */
	o.shot_seconds = NULL;
	o.n_shots = 0;
	o.duration = 20;
	ck_assert_int_eq(lv_provider_write_storyboard(&json, p, &o), LV_OK);
	sb = cJSON_Parse(json);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(sb, "shots")), 3);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(sb, "shots"), 2), "duration")->valueint, 6);
	cJSON_Delete(sb);
	lv_free(json);

	/* Bad options name the field. */
	o.duration = 2;
	ck_assert_int_eq(lv_provider_write_storyboard(&json, p, &o), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "duration"));
	o.duration = 10;
	o.shot_seconds = secs;
	o.n_shots = 2;
	ck_assert_int_eq(lv_provider_write_storyboard(&json, p, &o), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "shot_seconds: add up to 9"));
	o.version = 99;
	ck_assert_int_eq(lv_provider_write_storyboard(&json, p, &o), LV_EINVALID);
	ck_assert_ptr_null(json);
	lv_provider_close(p);
}
END_TEST

START_TEST(video_job_string_survives_a_new_handle)
{
	lv_provider *p = open_ok("{\"type\": \"local\"}", NULL), *q;
	lv_video_options o = LV_VIDEO_OPTIONS_INIT;
	lv_video_status st = LV_VIDEO_STATUS_INIT;
	lv_media_info mi;
	char *job = NULL, *out = lv_asprintf("%s/clip.mp4", tmp);
	int polls = 0;
	o.seconds = 2;
	o.prompt = "waves rolling onto a beach at dusk";
	o.seconds = 99;
	ck_assert_int_eq(lv_provider_video_submit(&job, p, &o, &st), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "seconds"));
	o.seconds = 2;
	o.resolution = "4k";
	ck_assert_int_eq(lv_provider_video_submit(&job, p, &o, &st), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "resolution"));
	o.resolution = NULL;
	ck_assert_msg(lv_provider_video_submit(&job, p, &o, &st) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_ptr_nonnull(strstr(job, "\"job_id\""));
	lv_provider_close(p);

	/* Another handle (as another process would) carries the job on from its string. */
	q = open_ok("{\"type\": \"local\"}", NULL);
	while (st.state != LV_VIDEO_SUCCEEDED && st.state != LV_VIDEO_FAILED) {
		ck_assert_int_lt(polls++, 1000);
		ck_assert_msg(lv_provider_video_poll(&job, q, &st) == LV_OK, "%s", lv_error_last()->message);
	}
	ck_assert_int_eq(st.state, LV_VIDEO_SUCCEEDED);
	ck_assert_msg(lv_provider_video_fetch(q, job, out) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_media_probe(&mi, out), LV_OK);
	ck_assert(mi.has_video);
	ck_assert_int_eq(mi.width, 1280);
	ck_assert_int_eq(mi.height, 720);
	ck_assert_double_eq_tol(mi.video_duration, 2.0, 0.1);
	ck_assert_int_eq(lv_provider_video_cancel(q, job), LV_OK);
	ck_assert_int_eq(lv_provider_video_fetch(q, "{\"nope\": 1}", out), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "job:"));
	lv_free(job);
	lv_provider_close(q);
	free(out);
}
END_TEST

START_TEST(speech_music_image_and_moderation)
{
	lv_provider *p = open_ok("{\"type\": \"local\"}", NULL);
	lv_speech_options so = LV_SPEECH_OPTIONS_INIT;
	lv_music_options mo = LV_MUSIC_OPTIONS_INIT;
	lv_image_options io = LV_IMAGE_OPTIONS_INIT;
	lv_moderation_verdict v = LV_MODERATION_VERDICT_INIT;
	const char *texts[2] = { "a calm morning", "how to build a bomb at home" };
	char *speech = lv_asprintf("%s/voice.wav", tmp), *music = lv_asprintf("%s/music.wav", tmp),
	     *png = lv_asprintf("%s/style.png", tmp);
	lv_media_info mi;
	double secs = 0;

	so.text = "The storm came in over the sea.";
	so.out_path = speech;
	ck_assert_msg(lv_provider_speak(&secs, p, &so) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_double_gt(secs, 0.5);
	ck_assert_int_eq(lv_media_probe(&mi, speech), LV_OK);
	ck_assert(mi.has_audio);
	ck_assert_double_eq_tol(mi.duration, secs, 0.2);

	mo.seconds = 3;
	mo.out_path = music;
	ck_assert_msg(lv_provider_music(p, &mo) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_media_probe(&mi, music), LV_OK);
	ck_assert(mi.has_audio);
	ck_assert_double_ge(mi.duration, 2.9);

	io.out_png = png;
	io.style = "watercolour";
	io.width = 320;
	io.height = 180;
	ck_assert_msg(lv_provider_reference_image(p, &io) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_media_probe(&mi, png), LV_OK);
	ck_assert_int_eq(mi.width, 320);
	ck_assert_int_eq(mi.height, 180);

	ck_assert_int_eq(lv_provider_moderate(&v, p, texts, 2), LV_OK);
	ck_assert(v.flagged);
	ck_assert_uint_eq(v.text_index, 1);
	ck_assert_str_eq(v.categories, "weapons");
	ck_assert_int_eq(lv_provider_moderate(&v, p, texts, 0), LV_EINVALID);

	so.text = "";
	ck_assert_int_eq(lv_provider_speak(NULL, p, &so), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "text"));
	lv_provider_close(p);
	free(speech);
	free(music);
	free(png);
}
END_TEST

/* ---- a type written here ---------------------------------------------------------------------------- */

typedef struct counter {
	int calls;
	char last_feedback[512];
} counter;

/* First a storyboard with the wrong number of shots, then a valid one; "fail" in the prompt: a failure. */
static int t_write(void *self, const lv_call_ctx *ctx, const lv_script_request *req, char **out, lv_provider_error *err)
{
	counter *c = self;
	char buf[1024];
	size_t i;
	(void)ctx;
	c->calls++;
	snprintf(c->last_feedback, sizeof(c->last_feedback), "%s", req->feedback ? req->feedback : "");
	if (strstr(req->prompt, "fail"))
		return lv_provider_fail(err, "provider_timeout", 1, "provider 'mine' timed out; try again");
	snprintf(buf, sizeof(buf), "{\"title\": \"T\", \"style\": \"S\", \"characters\": [], \"shots\": [");
	for (i = 0; i < (req->attempt == 0 ? 1 : req->n_shots); i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		         "%s{\"index\": %zu, \"duration\": %d, \"camera\": \"c\", \"visual\": \"v\", \"narration\": \"\"}",
		         i ? "," : "", i, req->shot_seconds[i]);
	strcat(buf, "]}");
	*out = strdup(buf);
	return LV_OK;
}

static const lv_script_ops t_script = { LV_PROVIDER_OPS_VERSION, t_write };

static int t_create(lv_provider_methods *m, const lv_provider_conf *conf, void *data)
{
	int64_t n;
	int rc = lv_provider_conf_int(&n, conf, "level", 1, 1, 5);
	if (rc)
		return rc;
	ck_assert_str_eq(lv_provider_conf_name(conf), "mine");
	m->self = data;
	m->script = &t_script;
	return LV_OK;
}

static const char *const t_keys[] = { "level", NULL };

START_TEST(a_program_type_is_registered_per_options)
{
	counter c;
	lv_provider_type t = { LV_PROVIDER_TYPE_VERSION, "test-writer", LV_PROVIDER_SCRIPT, t_keys, 0, 0, 0, 0, 0,
		               { -1, -1 }, t_create, &c };
	lv_provider_type bad = t;
	const lv_provider_type *types[1];
	lv_engine_options eo = LV_ENGINE_OPTIONS_INIT;
	lv_provider_options po = LV_PROVIDER_OPTIONS_INIT;
	lv_storyboard_options so = LV_STORYBOARD_OPTIONS_INIT;
	lv_provider *p;
	char *json = NULL;
	memset(&c, 0, sizeof(c));

	/* Registration checks the type. */
	ck_assert_int_eq(lv_engine_register_provider_type(&eo, &t), LV_OK);
	ck_assert_int_eq(lv_engine_register_provider_type(&eo, &t), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "registered twice"));
	bad.name = "local";
	ck_assert_int_eq(lv_engine_register_provider_type(&eo, &bad), LV_EINVALID);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "built-in"));
	bad.name = "x";
	bad.stages = 0;
	ck_assert_int_eq(lv_engine_register_provider_type(&eo, &bad), LV_EINVALID);
	bad.stages = LV_PROVIDER_SCRIPT;
	bad.version = 7;
	ck_assert_int_eq(lv_engine_register_provider_type(&eo, &bad), LV_EINVALID);
	ck_assert_uint_eq(eo.n_provider_types, 1);

	/* Unknown without the type; with it, the block's own keys are checked. */
	po.name = "mine";
	expect_open_error("{\"type\": \"test-writer\"}", LV_ECONFIG, "unknown type 'test-writer'");
	types[0] = &t;
	po.types = types;
	po.n_types = 1;
	ck_assert_int_eq(lv_provider_open(&p, "{\"type\": \"test-writer\", \"level\": 9}", &po), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "providers.mine.level"));
	ck_assert_int_eq(lv_provider_open(&p, "{\"type\": \"test-writer\", \"colour\": 1}", &po), LV_ECONFIG);
	ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "providers.mine.colour: unknown key"));
	ck_assert_int_eq(lv_provider_open(&p, "{\"type\": \"test-writer\", \"level\": 2}", &po), LV_OK);
	ck_assert_uint_eq(lv_provider_stages(p), LV_PROVIDER_SCRIPT);

	/* The invalid first storyboard is asked for again with the reason. */
	so.prompt = "anything";
	so.duration = 12;
	ck_assert_msg(lv_provider_write_storyboard(&json, p, &so) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(c.calls, 2);
	ck_assert_ptr_nonnull(strstr(c.last_feedback, "exactly 2 shots"));
	lv_free(json);
	json = NULL;

	/* A provider's failure: its message, and its code in the details. */
	so.prompt = "please fail";
	ck_assert_int_eq(lv_provider_write_storyboard(&json, p, &so), LV_ETIMEOUT);
	ck_assert_str_eq(lv_error_last()->message, "provider 'mine' timed out; try again");
	ck_assert_str_eq(lv_error_last()->details_json, "{\"code\":\"provider_timeout\",\"retryable\":true}");
	ck_assert_ptr_null(json);

	/* A stage it does not serve. */
	{
		lv_music_options mo = LV_MUSIC_OPTIONS_INIT;
		mo.seconds = 1;
		mo.out_path = "x.wav";
		ck_assert_int_eq(lv_provider_music(p, &mo), LV_EINVALID);
		ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "does not make music"));
	}
	lv_provider_close(p);
}
END_TEST

START_TEST(engine_hands_out_its_stage_providers)
{
	counter c;
	lv_provider_type t = { LV_PROVIDER_TYPE_VERSION, "test-writer", LV_PROVIDER_SCRIPT, t_keys, 0, 0, 0, 0, 0,
		               { -1, -1 }, t_create, &c };
	lv_engine_options eo = LV_ENGINE_OPTIONS_INIT;
	lv_storyboard_options so = LV_STORYBOARD_OPTIONS_INIT;
	lv_engine *e = NULL;
	lv_provider *p = NULL;
	char *json = NULL;
	memset(&c, 0, sizeof(c));
	eo.flags = LV_ENGINE_NO_STORE;
	eo.data_dir = tmp;
	eo.config_json = "{\"providers\": {\"mine\": {\"type\": \"test-writer\"}}, \"pipeline\": {\"script\": \"mine\"}}";
	ck_assert_int_eq(lv_engine_open(&e, &eo), LV_ECONFIG); /* the type is not registered */
	ck_assert_int_eq(lv_engine_register_provider_type(&eo, &t), LV_OK);
	ck_assert_msg(lv_engine_open(&e, &eo) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_engine_provider(&p, e, "nope", NULL), LV_EINVALID);
	ck_assert_int_eq(lv_engine_provider(&p, e, "script", NULL), LV_OK);
	ck_assert_str_eq(lv_provider_name(p), "mine");
	so.prompt = "x";
	so.duration = 8;
	ck_assert_int_eq(lv_provider_write_storyboard(&json, p, &so), LV_OK);
	lv_free(json);
	lv_provider_close(p);
	ck_assert_int_eq(lv_engine_provider(&p, e, "video", NULL), LV_OK);
	ck_assert_str_eq(lv_provider_type_name(p), "local");
	lv_provider_close(p);
	lv_engine_close(e);
}
END_TEST

static Suite *provider_api_suite(void)
{
	Suite *s = suite_create("provider_api");
	TCase *tc = tcase_create("calls");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, blocks_are_checked_like_the_config_file);
	tcase_add_test(tc, local_storyboard_has_the_planned_shots);
	tcase_add_test(tc, video_job_string_survives_a_new_handle);
	tcase_add_test(tc, speech_music_image_and_moderation);
	tcase_add_test(tc, a_program_type_is_registered_per_options);
	tcase_add_test(tc, engine_hands_out_its_stage_providers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(provider_api_suite());
}
