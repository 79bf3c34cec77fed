/*
 * The openai-images (anchors) and openai-speech (narration) providers against a fake OpenAI server that
 * replays the documented shapes: POST /v1/images/generations -> {"created", "data": [{"b64_json"}]},
 * POST /v1/audio/speech -> WAV bytes streamed with placeholder sizes, and the error object
 * {"error": {"message", "type", "param", "code"}} including the safety refusals.  What was sent is
 * asserted (key, model, prompt, size, voice, format, speed); a film is made through the pipeline with
 * both; failures become anchor_failed / audio_failed with the ledger balanced.
 */
#include "testutil.h"
#include "compose/compose.h"
#include "config/config.h"
#include "core/engine.h"
#include "fakes/fake_openai.h"
#include "longvideo.h"
#include "pipeline_util.h"
#include "providers/clip.h"
#include "providers/provider.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <libavutil/log.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY_ENV "LV_TEST_OPENAI_KEY"
#define KEY "sk-test-openai-media-0123456789"

/* ---- the fake OpenAI and the media it answers with (made once, before the tests fork) ------------------------- */

static fake_openai_media fxm;
static fake_openai *fo;

static void fixtures_make(void)
{
	av_log_set_level(AV_LOG_ERROR); /* as the workers set it */
	fake_openai_media_make(&fxm);
}

static void fixtures_remove(void)
{
	fake_openai_media_free(&fxm);
}

static void fake_start(void)
{
	fo = fake_openai_start(&fxm, NULL);
	setenv(KEY_ENV, KEY, 1);
}

static void fake_stop(void)
{
	fake_openai_stop(fo);
	fo = NULL;
	unsetenv(KEY_ENV);
}

static void script_images(int n, const int *what)
{
	fake_openai_script_images(fo, n, what);
}

static void script_speech(int n, const int *what)
{
	fake_openai_script_speech(fo, n, what);
}

/* ---- config and direct calls ------------------------------------------------------------------------------------- */

static char *config(const char *img_extra, const char *tts_extra)
{
	/* timeout_ms and max_retries default here unless the extra keys set them (a key given twice would be
	 * read from its first appearance). */
	int img_own = img_extra && strstr(img_extra, "timeout_ms"), tts_own = tts_extra && strstr(tts_extra, "timeout_ms");
	return lv_asprintf("{\"pipeline\":{\"workers\":1,\"anchor\":\"img\",\"speech\":\"tts\"},\"providers\":{"
	                   "\"img\":{\"type\":\"openai-images\",\"base_url\":\"%s\",\"api_key_env\":\"" KEY_ENV "\""
	                   "%s%s%s},"
	                   "\"tts\":{\"type\":\"openai-speech\",\"base_url\":\"%s/v1\",\"api_key_env\":\"" KEY_ENV "\""
	                   "%s%s%s}}}",
	                   fo ? lv_fake_url(fo->f) : "http://127.0.0.1:9",
	                   img_own ? "" : ",\"timeout_ms\":3000,\"max_retries\":2", img_extra ? "," : "",
	                   img_extra ? img_extra : "", fo ? lv_fake_url(fo->f) : "http://127.0.0.1:9",
	                   tts_own ? "" : ",\"timeout_ms\":3000,\"max_retries\":2", tts_extra ? "," : "",
	                   tts_extra ? tts_extra : "");
}

typedef struct direct {
	lv_config *cfg;
	lv_providers *ps;
	const lv_provider *img, *tts;
	lv_call_ctx ctx;
	volatile int cancel;
	char *dir;
} direct;

static void direct_open(direct *d, const char *json)
{
	memset(d, 0, sizeof(*d));
	ck_assert_msg(lv_config_load(&d->cfg, NULL, json, NULL) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_msg(lv_providers_build(&d->ps, d->cfg) == LV_OK, "%s", lv_error_last()->message);
	d->img = lv_providers_get(d->ps, "img");
	d->tts = lv_providers_get(d->ps, "tts");
	ck_assert(d->img && d->img->anchor && d->tts && d->tts->speech);
	d->dir = lv_test_mkdtemp("oai-direct");
	d->ctx.cancel = &d->cancel;
	d->ctx.task_id = "vid_direct";
	d->ctx.work_dir = d->dir;
}

static void direct_close(direct *d)
{
	lv_providers_free(d->ps);
	lv_config_free(d->cfg);
	lv_test_rmdir(d->dir);
	free(d->dir);
}

static void anchor_req(lv_anchor_request *r, direct *d, int style, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->id = style ? "style" : "ada";
	r->name = name;
	r->description = "a weathered lighthouse keeper with a grey beard and a yellow raincoat";
	r->style = "moody painterly seascape, teal and amber";
	r->is_style_frame = style;
	r->width = style ? 640 : 512;
	r->height = style ? 360 : 512;
	r->language = "en";
	r->out_png = lv_path_join(d->dir, style ? "style.png" : "ada.png");
}

/* The i-th request to METHOD PATH, parsed body. */
static cJSON *sent(const char *method, const char *path, size_t nth, lv_fake_request **out)
{
	return fake_sent_json(fo->f, method, path, nth, out);
}

static int is_png(const char *path, int *w, int *h)
{
	lv_media_info mi;
	if (lv_clip_sniff_file(path) != LV_CLIP_PNG || lv_media_probe(&mi, path) != LV_OK)
		return 0;
	*w = mi.width;
	*h = mi.height;
	return 1;
}

/* ---- tests: configuration -------------------------------------------------------------------------------------- */

static void expect_config_error(const char *json, const char *needle)
{
	lv_config *cfg = NULL;
	lv_providers *ps = NULL;
	int rc = lv_config_load(&cfg, NULL, json, NULL);
	if (rc == LV_OK)
		rc = lv_providers_build(&ps, cfg);
	ck_assert_int_eq(rc, LV_ECONFIG);
	ck_assert_msg(strstr(lv_error_last()->message, needle) != NULL, "'%s' lacks '%s'", lv_error_last()->message,
	              needle);
	lv_providers_free(ps);
	lv_config_free(cfg);
}

START_TEST(config_keys_are_checked)
{
	char *j;
	expect_config_error("{\"providers\":{\"img\":{\"type\":\"openai-images\"}}}", "providers.img.api_key_env: is required");
	expect_config_error("{\"providers\":{\"tts\":{\"type\":\"openai-speech\"}}}", "providers.tts.api_key_env: is required");
	j = config("\"size\":\"800x600\"", NULL);
	expect_config_error(j, "providers.img.size: '800x600' is not one of the documented values");
	free(j);
	j = config("\"style\":\"vivid\"", NULL);
	expect_config_error(j, "providers.img.style: only dall-e-3 takes a style");
	free(j);
	j = config("\"modle\":\"dall-e-3\"", NULL);
	expect_config_error(j, "providers.img.modle: unknown key");
	free(j);
	j = config(NULL, "\"speed\":5");
	expect_config_error(j, "providers.tts.speed: must be a number from 0.25 to 4.0");
	free(j);
	j = config(NULL, "\"model\":\"tts-1\",\"instructions\":\"Speak warmly\"");
	expect_config_error(j, "providers.tts.instructions: tts-1 does not take instructions");
	free(j);
	j = config(NULL, "\"voices\":{\"zh\":3}");
	expect_config_error(j, "providers.tts.voices.zh");
	free(j);
	j = config(NULL, "\"speed\":1.2,\"max_speed\":1.1");
	expect_config_error(j, "providers.tts.max_speed");
	free(j);
}
END_TEST

/* ---- tests: images ------------------------------------------------------------------------------------------------- */

START_TEST(images_send_the_documented_request)
{
	char *json = config(NULL, NULL);
	direct d;
	lv_anchor_request r;
	lv_provider_error err;
	lv_fake_request *fr = NULL;
	cJSON *b;
	char h[128];
	int w = 0, hh = 0;
	direct_open(&d, json);
	anchor_req(&r, &d, 0, "Ada");
	memset(&err, 0, sizeof(err));
	ck_assert_msg(d.img->anchor->render(d.img->self, &d.ctx, &r, &err) == LV_OK, "%s", err.message);
	ck_assert(is_png(r.out_png, &w, &hh));
	ck_assert_int_eq(w, 1024);
	ck_assert_int_eq(hh, 1024);
	b = sent("POST", "/v1/images/generations", 0, &fr);
	ck_assert_str_eq(lv_fake_header(fr, "authorization", h, sizeof(h)), "Bearer " KEY);
	ck_assert_str_eq(lv_fake_header(fr, "content-type", h, sizeof(h)), "application/json");
	ck_assert_str_eq(lv_json_get_str(b, "model"), "gpt-image-1");
	ck_assert_str_eq(lv_json_get_str(b, "size"), "1024x1024");
	ck_assert_int_eq(cJSON_GetObjectItem(b, "n")->valueint, 1);
	ck_assert_str_eq(lv_json_get_str(b, "output_format"), "png");
	ck_assert_ptr_null(cJSON_GetObjectItem(b, "response_format")); /* gpt-image-1 does not take it */
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(b, "prompt"), "Ada: a weathered lighthouse keeper"));
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(b, "prompt"), "moody painterly seascape"));
	cJSON_Delete(b);
	lv_fake_request_free(fr);
	free((char *)r.out_png);
	/* The style frame of a 16:9 film: landscape, and a JPEG answer still lands as PNG. */
	script_images(1, (const int[]){ FAKE_IMG_JPEG });
	anchor_req(&r, &d, 1, "Storm Watch");
	ck_assert_msg(d.img->anchor->render(d.img->self, &d.ctx, &r, &err) == LV_OK, "%s", err.message);
	ck_assert(is_png(r.out_png, &w, &hh));
	ck_assert_int_eq(w, 1536);
	b = sent("POST", "/v1/images/generations", 1, NULL);
	ck_assert_str_eq(lv_json_get_str(b, "size"), "1536x1024");
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(b, "prompt"), "Storm Watch"));
	cJSON_Delete(b);
	free((char *)r.out_png);
	direct_close(&d);
	free(json);
	/* dall-e-3: asks for b64_json, its own sizes; an answer by URL is fetched without the key. */
	json = config("\"model\":\"dall-e-3\",\"quality\":\"hd\",\"style\":\"natural\"", NULL);
	direct_open(&d, json);
	script_images(1, (const int[]){ FAKE_IMG_URL });
	anchor_req(&r, &d, 1, "Storm Watch");
	ck_assert_msg(d.img->anchor->render(d.img->self, &d.ctx, &r, &err) == LV_OK, "%s", err.message);
	ck_assert(is_png(r.out_png, &w, &hh));
	b = sent("POST", "/v1/images/generations", 2, NULL);
	ck_assert_str_eq(lv_json_get_str(b, "model"), "dall-e-3");
	ck_assert_str_eq(lv_json_get_str(b, "response_format"), "b64_json");
	ck_assert_ptr_null(cJSON_GetObjectItem(b, "output_format"));
	ck_assert_str_eq(lv_json_get_str(b, "size"), "1792x1024");
	ck_assert_str_eq(lv_json_get_str(b, "quality"), "hd");
	ck_assert_str_eq(lv_json_get_str(b, "style"), "natural");
	cJSON_Delete(b);
	fr = lv_fake_last(fo->f, "GET", "/files/*");
	ck_assert_ptr_nonnull(fr);
	ck_assert_ptr_null(lv_fake_header(fr, "authorization", h, sizeof(h)));
	lv_fake_request_free(fr);
	free((char *)r.out_png);
	direct_close(&d);
	free(json);
}
END_TEST

START_TEST(images_retry_busy_and_failing_servers)
{
	char *json = config(NULL, NULL);
	direct d;
	lv_anchor_request r;
	lv_provider_error err;
	int w, h;
	direct_open(&d, json);
	/* 429 with Retry-After: 1, then a 500, then the image. */
	script_images(2, (const int[]){ FAKE_IMG_429, FAKE_IMG_500 });
	anchor_req(&r, &d, 0, "Ada");
	memset(&err, 0, sizeof(err));
	ck_assert_msg(d.img->anchor->render(d.img->self, &d.ctx, &r, &err) == LV_OK, "%s", err.message);
	ck_assert_int_eq(fo->n_img, 3);
	ck_assert_msg(fo->img_times[1] - fo->img_times[0] >= 950, "retried after %lld ms",
	              (long long)(fo->img_times[1] - fo->img_times[0]));
	ck_assert(is_png(r.out_png, &w, &h));
	/* Always 500: a retryable anchor_failed after 1 + max_retries tries. */
	script_images(3, (const int[]){ FAKE_IMG_500, FAKE_IMG_500, FAKE_IMG_500 });
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.img->anchor->render(d.img->self, &d.ctx, &r, &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "anchor_failed");
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_int_eq(fo->n_img, 3);
	ck_assert_msg(strstr(err.message, "provider 'img' failed drawing the character 'Ada' (HTTP 500"), "%s", err.message);
	/* Malformed JSON. */
	script_images(1, (const int[]){ FAKE_IMG_GARBAGE });
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.img->anchor->render(d.img->self, &d.ctx, &r, &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "anchor_failed");
	ck_assert_ptr_nonnull(strstr(err.message, "not the documented JSON"));
	free((char *)r.out_png);
	direct_close(&d);
	free(json);
	/* No answer within timeout_ms. */
	json = config("\"timeout_ms\":300,\"max_retries\":0", NULL);
	direct_open(&d, json);
	script_images(1, (const int[]){ FAKE_IMG_SLOW });
	anchor_req(&r, &d, 0, "Ada");
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.img->anchor->render(d.img->self, &d.ctx, &r, &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "provider_timeout");
	ck_assert_ptr_nonnull(strstr(err.message, "300 ms"));
	/* The key missing from the environment: names the variable. */
	unsetenv(KEY_ENV);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.img->anchor->render(d.img->self, &d.ctx, &r, &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "anchor_failed");
	ck_assert_ptr_nonnull(strstr(err.message, KEY_ENV " is not set"));
	setenv(KEY_ENV, KEY, 1);
	free((char *)r.out_png);
	direct_close(&d);
	free(json);
}
END_TEST

START_TEST(images_safety_refusals_are_anchor_failed)
{
	char *json = config("\"model\":\"dall-e-3\"", NULL);
	direct d;
	lv_anchor_request r;
	lv_provider_error err;
	direct_open(&d, json);
	script_images(1, (const int[]){ FAKE_IMG_POLICY });
	anchor_req(&r, &d, 0, "Ada");
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.img->anchor->render(d.img->self, &d.ctx, &r, &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "anchor_failed");
	ck_assert_int_eq(err.retryable, 0);
	ck_assert_msg(strstr(err.message, "refused drawing the character 'Ada': OpenAI's safety system blocked it") &&
	                      strstr(err.message, "rephrase"),
	              "%s", err.message);
	ck_assert_int_eq(fo->n_img, 1); /* a refusal is not retried */
	ck_assert(!lv_path_exists(r.out_png));
	free((char *)r.out_png);
	direct_close(&d);
	free(json);
}
END_TEST

/* ---- tests: speech ------------------------------------------------------------------------------------------------ */

static int wav_sizes_ok(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	uint32_t riff, dsz;
	int ok;
	ck_assert_int_eq(lv_file_read(&data, &len, path), LV_OK);
	riff = (uint32_t)(unsigned char)data[4] | (uint32_t)(unsigned char)data[5] << 8 |
	       (uint32_t)(unsigned char)data[6] << 16 | (uint32_t)(unsigned char)data[7] << 24;
	dsz = (uint32_t)(unsigned char)data[40] | (uint32_t)(unsigned char)data[41] << 8 |
	      (uint32_t)(unsigned char)data[42] << 16 | (uint32_t)(unsigned char)data[43] << 24;
	ok = len > 44 && !memcmp(data + 36, "data", 4) && riff == len - 8 && dsz == len - 44;
	free(data);
	return ok;
}

START_TEST(speech_fits_lines_with_speed_then_tempo)
{
	char *json = config(NULL, "\"model\":\"tts-1\",\"voice\":\"onyx\",\"voices\":{\"zh\":\"nova\"}");
	direct d;
	lv_provider_error err;
	lv_fake_request *fr = NULL;
	lv_media_info mi;
	char *out, h[128];
	double secs = 0;
	cJSON *b;
	direct_open(&d, json);
	out = lv_path_join(d.dir, "line.wav");
	/* 4.5 s at speed 1 into 3 s: asked again at 1.5x (max_speed), which fits. */
	fo->tts_seconds = 4.5;
	memset(&err, 0, sizeof(err));
	ck_assert_msg(d.tts->speech->speak(d.tts->self, &d.ctx, "The storm rolls in over the cliffs.", "en", 3.0, out,
	                                   &secs, &err) == LV_OK,
	              "%s", err.message);
	ck_assert_int_eq(fo->n_tts, 2);
	b = sent("POST", "/v1/audio/speech", 0, &fr);
	ck_assert_str_eq(lv_fake_header(fr, "authorization", h, sizeof(h)), "Bearer " KEY);
	lv_fake_request_free(fr);
	ck_assert_str_eq(lv_json_get_str(b, "model"), "tts-1");
	ck_assert_str_eq(lv_json_get_str(b, "input"), "The storm rolls in over the cliffs.");
	ck_assert_str_eq(lv_json_get_str(b, "voice"), "onyx");
	ck_assert_str_eq(lv_json_get_str(b, "response_format"), "wav");
	ck_assert(fabs(cJSON_GetObjectItem(b, "speed")->valuedouble - 1.0) < 1e-9);
	ck_assert_ptr_null(cJSON_GetObjectItem(b, "instructions"));
	cJSON_Delete(b);
	b = sent("POST", "/v1/audio/speech", 1, NULL);
	ck_assert(fabs(cJSON_GetObjectItem(b, "speed")->valuedouble - 1.5) < 1e-9);
	cJSON_Delete(b);
	ck_assert_msg(fabs(secs - 3.0) < 0.01, "%.3f s", secs);
	ck_assert(wav_sizes_ok(out)); /* the streamed header's placeholder sizes were repaired */
	ck_assert_int_eq(lv_media_probe(&mi, out), LV_OK);
	ck_assert(mi.has_audio);
	ck_assert_int_eq(mi.audio_sample_rate, 24000);
	ck_assert(fabs(mi.duration - 3.0) < 0.01);
	/* Chinese uses the voice mapped for it; a short line is asked once. */
	fo->tts_seconds = 1.0;
	ck_assert_int_eq(d.tts->speech->speak(d.tts->self, &d.ctx, "暴风雨来了。", "zh", 3.0, out, &secs, &err), LV_OK);
	b = sent("POST", "/v1/audio/speech", 2, NULL);
	ck_assert_str_eq(lv_json_get_str(b, "voice"), "nova");
	cJSON_Delete(b);
	ck_assert_int_eq(fo->n_tts, 3);
	/* 6 s into 3 s: 1.5x is the most it may be sped up, so 4 s it is. */
	fo->tts_seconds = 6.0;
	ck_assert_int_eq(d.tts->speech->speak(d.tts->self, &d.ctx, "A much longer line.", "en", 3.0, out, &secs, &err), LV_OK);
	ck_assert_msg(fabs(secs - 4.0) < 0.02, "%.3f s", secs);
	free(out);
	direct_close(&d);
	free(json);
	/* gpt-4o-mini-tts ignores speed: never sent; instructions are; the line is sped up here instead. */
	json = config(NULL, "\"instructions\":\"Calm documentary narrator.\"");
	direct_open(&d, json);
	out = lv_path_join(d.dir, "line.wav");
	fo->tts_seconds = 4.5;
	fo->n_tts = 0;
	ck_assert_msg(d.tts->speech->speak(d.tts->self, &d.ctx, "The storm rolls in.", "en", 3.6, out, &secs, &err) == LV_OK,
	              "%s", err.message);
	ck_assert_int_eq(fo->n_tts, 1);
	b = sent("POST", "/v1/audio/speech", 5, NULL); /* after the five above */
	ck_assert_str_eq(lv_json_get_str(b, "model"), "gpt-4o-mini-tts");
	ck_assert_str_eq(lv_json_get_str(b, "voice"), "alloy");
	ck_assert_ptr_null(cJSON_GetObjectItem(b, "speed"));
	ck_assert_str_eq(lv_json_get_str(b, "instructions"), "Calm documentary narrator.");
	cJSON_Delete(b);
	ck_assert_int_eq(lv_media_probe(&mi, out), LV_OK);
	ck_assert_msg(secs <= 3.6 && secs > 3.3, "%.3f s", secs);
	ck_assert_msg(fabs(mi.audio_duration - secs) < 0.02, "%.3f vs %.3f", mi.audio_duration, secs);
	free(out);
	direct_close(&d);
	free(json);
}
END_TEST

START_TEST(speech_failures_are_audio_failed)
{
	char *json = config(NULL, NULL);
	direct d;
	lv_provider_error err;
	char *out;
	double secs;
	direct_open(&d, json);
	out = lv_path_join(d.dir, "line.wav");
	/* 400: not retried, names the parameter, never the vendor's text (request ids). */
	script_speech(1, (const int[]){ FAKE_TTS_400 });
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.tts->speech->speak(d.tts->self, &d.ctx, "Hello.", "en", 3, out, &secs, &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "audio_failed");
	ck_assert_int_eq(err.retryable, 0);
	ck_assert_msg(strstr(err.message, "rejected speaking a narration line (HTTP 400: invalid_value, parameter voice)"),
	              "%s", err.message);
	ck_assert_ptr_null(strstr(err.message, "req_"));
	ck_assert_int_eq(fo->n_tts, 1);
	/* 401: names the variable, not the key (not even the vendor's masked echo of it). */
	script_speech(1, (const int[]){ FAKE_TTS_401 });
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.tts->speech->speak(d.tts->self, &d.ctx, "Hello.", "en", 3, out, &secs, &err), LV_EPROVIDER);
	ck_assert_ptr_nonnull(strstr(err.message, KEY_ENV));
	ck_assert_ptr_null(strstr(err.message, "sk-"));
	/* 200 with something that is not audio. */
	script_speech(1, (const int[]){ FAKE_TTS_GARBAGE });
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.tts->speech->speak(d.tts->self, &d.ctx, "Hello.", "en", 3, out, &secs, &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "audio_failed");
	ck_assert_msg(strstr(err.message, "the audio it returned cannot be used"), "%s", err.message);
	ck_assert(!lv_path_exists(out));
	/* A server that ignores response_format and answers MP3: decoded and written as WAV. */
	script_speech(1, (const int[]){ FAKE_TTS_MP3 });
	memset(&err, 0, sizeof(err));
	ck_assert_msg(d.tts->speech->speak(d.tts->self, &d.ctx, "Hello.", "en", 3, out, &secs, &err) == LV_OK, "%s",
	              err.message);
	ck_assert(wav_sizes_ok(out));
	ck_assert_msg(fabs(secs - 1.5) < 0.06, "%.3f s", secs);
	/* 503 twice, then audio. */
	script_speech(2, (const int[]){ FAKE_TTS_503, FAKE_TTS_503 });
	memset(&err, 0, sizeof(err));
	ck_assert_msg(d.tts->speech->speak(d.tts->self, &d.ctx, "Hello.", "en", 3, out, &secs, &err) == LV_OK, "%s",
	              err.message);
	ck_assert_int_eq(fo->n_tts, 3);
	ck_assert(secs > 0.3);
	free(out);
	direct_close(&d);
	free(json);
}
END_TEST

/* ---- tests: through the pipeline ------------------------------------------------------------------------------------- */

static void ledger_balanced(lv_pt *pt, const char *id)
{
	cJSON *j = lv_pt_json(pt, id);
	const cJSON *s;
	int64_t ready = 0, reserve, settle, refund;
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(j, "shots"))
	{
		if (!strcmp(lv_json_get_str(s, "status"), "ready"))
			ready += cJSON_GetObjectItem(s, "duration")->valueint * 27500;
	}
	lv_pt_task_ledger(pt, id, &reserve, &settle, &refund);
	ck_assert_int_eq(settle, ready);
	ck_assert_int_eq(reserve, settle + refund);
	ck_assert_int_eq((int64_t)llround(cJSON_GetObjectItem(j, "cost_actual")->valuedouble * 1000), ready);
	cJSON_Delete(j);
}

START_TEST(a_film_with_openai_anchors_and_narration)
{
	lv_pt pt;
	char id[64], *film, *json = config(NULL, "\"voices\":{\"en\":\"nova\"}");
	lv_task *t;
	cJSON *task, *b;
	const cJSON *c, *shot;
	lv_media_info mi;
	double lufs = 0, peak = 0;
	int chars = 0, narrated = 0, i;
	lv_pt_open(&pt, "oai-film", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"A lighthouse keeper named Ada watches a storm roll in\",\"duration\":8}", id);
	t = lv_pt_wait(&pt, id, -1, 180);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "%s: %s", lv_task_status_name(lv_task_get_status(t)),
	              lv_task_error_message(t) ? lv_task_error_message(t) : "");
	ck_assert_int_eq(lv_task_cost_actual(t), lv_task_cost_estimate(t));
	lv_task_free(t);
	film = lv_pt_film(&pt, id);
	ck_assert_int_eq(lv_media_probe(&mi, film), LV_OK);
	ck_assert(fabs(mi.duration - 8) <= 1.0 / 24 + 1e-3);
	ck_assert(mi.has_video && mi.has_audio);
	ck_assert_int_eq(mi.width, 1280);
	ck_assert_int_eq(lv_media_loudness(film, &lufs, &peak), LV_OK);
	ck_assert_msg(fabs(lufs + 16.0) <= 1.5, "loudness %.2f LUFS", lufs);
	free(film);
	task = lv_pt_json(&pt, id);
	/* One image per character (no style frame: no video provider takes one). */
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(task, "script"), "characters"))
	{
		b = sent("POST", "/v1/images/generations", (size_t)chars, NULL);
		ck_assert_str_eq(lv_json_get_str(b, "size"), "1024x1024");
		ck_assert_ptr_nonnull(strstr(lv_json_get_str(b, "prompt"), lv_json_get_str(c, "name")));
		cJSON_Delete(b);
		chars++;
		/* The anchor stored for the character is the vendor's PNG. */
		{
			char *p = lv_asprintf("%s/media/tasks/%s/anchors/%s.png", pt.dir, id, lv_json_get_str(c, "id"));
			int w = 0, h = 0;
			ck_assert_msg(is_png(p, &w, &h) && w == 1024 && h == 1024, "%s", p);
			free(p);
		}
	}
	ck_assert_int_gt(chars, 0);
	ck_assert_uint_eq(lv_fake_count(fo->f, "POST", "/v1/images/generations"), (size_t)chars);
	/* One speech request per narrated shot, in English with the mapped voice. */
	i = 0;
	cJSON_ArrayForEach(shot, cJSON_GetObjectItem(cJSON_GetObjectItem(task, "script"), "shots"))
	{
		const char *text = lv_json_get_str(shot, "narration");
		if (!text || !*text)
			continue;
		b = sent("POST", "/v1/audio/speech", (size_t)i++, NULL);
		ck_assert_str_eq(lv_json_get_str(b, "voice"), "nova");
		ck_assert_str_eq(lv_json_get_str(b, "response_format"), "wav");
		cJSON_Delete(b);
		narrated++;
	}
	ck_assert_int_gt(narrated, 0);
	ck_assert_uint_eq(lv_fake_count(fo->f, "POST", "/v1/audio/speech"), (size_t)narrated);
	cJSON_Delete(task);
	lv_pt_close(&pt);
	free(json);
}
END_TEST

START_TEST(refusals_and_speech_errors_fail_the_task_with_the_ledger_balanced)
{
	lv_pt pt;
	char id[64], *json = config(NULL, NULL);
	lv_task *t;
	cJSON *j;
	const cJSON *e;
	/* A safety refusal of the first character: anchoring fails, nothing generated, everything refunded. */
	script_images(1, (const int[]){ FAKE_IMG_BLOCKED });
	lv_pt_open(&pt, "oai-refuse", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"A lighthouse keeper named Ada watches a storm roll in\",\"duration\":5}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	ck_assert_str_eq(lv_task_error_code(t), "anchor_failed");
	ck_assert_int_eq(lv_task_cost_actual(t), 0);
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	e = cJSON_GetObjectItem(j, "error");
	ck_assert_str_eq(lv_json_get_str(e, "stage"), "anchoring");
	ck_assert_msg(strstr(lv_json_get_str(e, "message"), "blocked it (violence)"), "%s", lv_json_get_str(e, "message"));
	ck_assert_ptr_null(strstr(lv_json_get_str(e, "message"), "req_"));
	cJSON_Delete(j);
	ledger_balanced(&pt, id);
	lv_pt_close(&pt);
	/* Speech refused (400): fails in audio, which is made while the shots are generated, so the task
	 * fails at once; only shots already generated are charged. */
	script_speech(5, (const int[]){ FAKE_TTS_400, FAKE_TTS_400, FAKE_TTS_400, FAKE_TTS_400, FAKE_TTS_400 });
	lv_pt_open(&pt, "oai-tts400", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Fishing boats leave the harbour at dawn\",\"duration\":5}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	ck_assert_str_eq(lv_task_error_code(t), "audio_failed");
	ck_assert_int_le(lv_task_cost_actual(t), lv_task_cost_estimate(t));
	ck_assert_int_eq(lv_task_cost_actual(t) > 0, lv_task_shots_done(t) > 0);
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	e = cJSON_GetObjectItem(j, "error");
	ck_assert_str_eq(lv_json_get_str(e, "stage"), "audio");
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(e, "message"), "narration for shot"));
	cJSON_Delete(j);
	ledger_balanced(&pt, id);
	lv_pt_close(&pt);
	free(json);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("provider_openai_media");
	TCase *cfg = tcase_create("config"), *tc = tcase_create("openai_media");
	tcase_add_test(cfg, config_keys_are_checked);
	suite_add_tcase(s, cfg);
	tcase_add_unchecked_fixture(tc, fixtures_make, fixtures_remove);
	tcase_add_checked_fixture(tc, fake_start, fake_stop);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, images_send_the_documented_request);
	tcase_add_test(tc, images_retry_busy_and_failing_servers);
	tcase_add_test(tc, images_safety_refusals_are_anchor_failed);
	tcase_add_test(tc, speech_fits_lines_with_speed_then_tempo);
	tcase_add_test(tc, speech_failures_are_audio_failed);
	tcase_add_test(tc, a_film_with_openai_anchors_and_narration);
	tcase_add_test(tc, refusals_and_speech_errors_fail_the_task_with_the_ledger_balanced);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
