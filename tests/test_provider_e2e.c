/*
 * The provider adapters in combination, end to end through the real pipeline, against the fake vendors of
 * tests/fakes (each with its own key in its own environment variable, refusing any other):
 *   - Anthropic writes the storyboard; DashScope (HappyHorse) makes the shots, the one showing the character
 *     with the reference-to-video model and the anchor stage's card as a reference image;
 *   - OpenAI chat writes it; Sora makes 4/8/12 s clips (a 7 s shot is generated and billed at 8 s);
 *   - ComfyUI makes the shots (the character's with the r2v workflow and the uploaded anchor), OpenAI draws
 *     the anchors, speaks the narration and moderates, OpenAI chat writes: every stage but music on a fake.
 * Each pairing makes a film read back as media with the ledger checked, and fails once in the combination.
 * Then the secret sweep: lvserver with every stage on a fake, the fakes echoing keys in error bodies and
 * headers; no key, nor any 12-character slice of one, may appear in the server's log, an API response,
 * lvctl's output or any file of the data directory (database, WAL, storage).
 */
#include "testutil.h"
#include "compose/compose.h"
#include "core/engine.h"
#include "fakes/fake_anthropic.h"
#include "fakes/fake_comfyui.h"
#include "fakes/fake_dashscope.h"
#include "fakes/fake_fal.h"
#include "fakes/fake_replicate.h"
#include "fakes/fake_veo.h"
#include "fakes/fake_openai.h"
#include "harness.h"
#include "longvideo.h"
#include "pipeline_util.h"
#include "util/crypto.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <dirent.h>
#include <libavutil/log.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FRAME (1.0 / 24.0)
#define PROMPT "A lighthouse keeper named Ada watches a storm roll in"
#define WAN LV_TEST_SOURCE_DIR "/examples/comfyui/wan2.1_t2v_api.json"
#define WAN_R2V LV_TEST_SOURCE_DIR "/examples/comfyui/wan2.1_vace_r2v_api.json"

/* Each provider's key: distinctive, so that any 12 characters of one can be searched for. */
#define K_ANTHROPIC "sk-ant-api03-Rq7vXk2LmB9tW4pZ8nC3yH6dJ1fG5sA0"
#define K_CHAT "sk-proj-chat-Hn4Tq8Wv2Xz6Bm1Kc9Rf3Lp7Yd5Gs0Ja"
#define K_MODERATION "sk-proj-mod-Vb3Nx7Qw1Zt5Kr9Mh2Jc6Pf8Ld4Gy0Sa"
#define K_IMAGES "sk-proj-img-Ty6Ew2Ru8Io4Pa1Sd7Fg3Hj9Kl5Zx0Cv"
#define K_SPEECH "sk-proj-tts-Qm8Wn3Eb7Rv1Tc5Yx9Uz2Io6Pl4Ak0Sd"
#define K_SORA "sk-proj-sora-Gh5Jk9Lz3Xc7Vb1Nm6Qw2Er8Ty4Ui0Op"
#define K_DASHSCOPE "sk-ds-4f7c1e9a2b6d8e3f0a5c7b9d1e4f6a8c"
#define K_COMFY "cf-proxy-Zt8Yw4Xv1Us6Rq3Po9Nm5Lk2Ji7Hg0Fe"
#define K_FAL "fal-3c9d1b7e-5a2f:8e4c6a0b2d9f1e3a5c7b9d1f"
#define K_REPLICATE "r8_Wq3Ek7Rt1Yu5Io9Pa2Sd6Fg0Hj4Kl8Zx"
#define RP_MODEL "kwaivgi/kling-v2.1"
#define K_GEMINI "AIzaSyD-9tQ2wE4rT6yU8iO0pA1sD3fG5hJ7kL9z"
#define FAL_APP "fal-ai/kling-video"
#define FAL_MODEL FAL_APP "/v2.1/master/text-to-video"

typedef struct secret {
	const char *env, *value;
} secret;

static const secret secrets[] = {
	{ "LV_E2E_ANTHROPIC_KEY", K_ANTHROPIC }, { "LV_E2E_CHAT_KEY", K_CHAT },
	{ "LV_E2E_MODERATION_KEY", K_MODERATION }, { "LV_E2E_IMAGES_KEY", K_IMAGES },
	{ "LV_E2E_SPEECH_KEY", K_SPEECH },       { "LV_E2E_SORA_KEY", K_SORA },
	{ "LV_E2E_DASHSCOPE_KEY", K_DASHSCOPE }, { "LV_E2E_COMFY_KEY", K_COMFY },
	{ "LV_E2E_FAL_KEY", K_FAL },             { "LV_E2E_REPLICATE_KEY", K_REPLICATE },
	{ "LV_E2E_GEMINI_KEY", K_GEMINI },
};
#define N_SECRETS (sizeof(secrets) / sizeof(secrets[0]))

/* ---- fixtures ---------------------------------------------------------------------------------------------------- */

static char *tdir;             /* clips the video fakes serve (kept across tests: made once) */
static fake_openai_media fxm;  /* what the OpenAI images and speech endpoints answer with */
static fake_comfyui_outputs fxo; /* what ComfyUI's workflows "write" */

static void fixtures_make(void)
{
	av_log_set_level(AV_LOG_ERROR); /* as the workers set it */
	tdir = lv_test_mkdtemp("e2e-clips");
	ck_assert_ptr_nonnull(tdir);
	fake_openai_media_make(&fxm);
	fake_comfyui_outputs_make(&fxo);
}

static void fixtures_remove(void)
{
	fake_openai_media_free(&fxm);
	fake_comfyui_outputs_free(&fxo);
	lv_test_rmdir(tdir);
	free(tdir);
}

/* The vendors of one test (NULL: not used). */
typedef struct vendors {
	fake_anthropic *ant;
	fake_openai *oai;
	fake_dashscope *ds;
	fake_comfyui *comfy;
	fake_fal *fal;
	fake_replicate *rp;
	fake_veo *veo;
} vendors;

static vendors V;

static void setup(void)
{
	size_t i;
	memset(&V, 0, sizeof(V));
	for (i = 0; i < N_SECRETS; i++)
		setenv(secrets[i].env, secrets[i].value, 1);
}

static void teardown(void)
{
	fake_anthropic_stop(V.ant);
	fake_openai_stop(V.oai);
	fake_dashscope_stop(V.ds);
	fake_comfyui_stop(V.comfy);
	fake_fal_stop(V.fal);
	fake_replicate_stop(V.rp);
	fake_veo_stop(V.veo);
	memset(&V, 0, sizeof(V));
}

/* Start the fakes asked for, each expecting its own key(s). */
static void vendors_start(int ant, int oai, int ds, int comfy)
{
	if (ant) {
		V.ant = fake_anthropic_start();
		snprintf(V.ant->key, sizeof(V.ant->key), "%s", K_ANTHROPIC);
	}
	if (oai) {
		V.oai = fake_openai_start(&fxm, tdir);
		snprintf(V.oai->key[FAKE_OA_CHAT], sizeof(V.oai->key[0]), "%s", K_CHAT);
		snprintf(V.oai->key[FAKE_OA_MODERATION], sizeof(V.oai->key[0]), "%s", K_MODERATION);
		snprintf(V.oai->key[FAKE_OA_IMAGES], sizeof(V.oai->key[0]), "%s", K_IMAGES);
		snprintf(V.oai->key[FAKE_OA_SPEECH], sizeof(V.oai->key[0]), "%s", K_SPEECH);
		snprintf(V.oai->videos.key, sizeof(V.oai->videos.key), "%s", K_SORA);
	}
	if (ds) {
		V.ds = fake_dashscope_start(tdir);
		snprintf(V.ds->jobs.key, sizeof(V.ds->jobs.key), "%s", K_DASHSCOPE);
	}
	if (comfy) {
		V.comfy = fake_comfyui_start(&fxo);
		snprintf(V.comfy->key, sizeof(V.comfy->key), "%s", K_COMFY);
	}
}

/* A config with every provider whose fake runs, and these pipeline keys. */
static char *config(const char *pipeline)
{
	lv_buf b = LV_BUF_INIT;
	const char *sep = "";
	lv_buf_printf(&b, "{\"pipeline\":{\"segment_retries\":0,%s},\"providers\":{", pipeline);
	if (V.ant) {
		lv_buf_printf(&b,
		              "\"claude\":{\"type\":\"anthropic\",\"base_url\":\"%s\",\"api_key_env\":\"LV_E2E_ANTHROPIC_KEY\","
		              "\"model\":\"claude-test\",\"timeout_ms\":5000,\"max_retries\":2}",
		              fake_anthropic_url(V.ant));
		sep = ",";
	}
	if (V.oai) {
		const char *u = fake_openai_url(V.oai);
		lv_buf_printf(&b,
		              "%s\"gpt\":{\"type\":\"openai-chat\",\"base_url\":\"%s/v1\",\"api_key_env\":\"LV_E2E_CHAT_KEY\","
		              "\"model\":\"test-model\",\"timeout_ms\":5000,\"max_retries\":2},"
		              "\"omod\":{\"type\":\"openai-moderation\",\"base_url\":\"%s\",\"api_key_env\":"
		              "\"LV_E2E_MODERATION_KEY\",\"timeout_ms\":5000,\"max_retries\":2},"
		              "\"img\":{\"type\":\"openai-images\",\"base_url\":\"%s\",\"api_key_env\":\"LV_E2E_IMAGES_KEY\","
		              "\"timeout_ms\":5000,\"max_retries\":2},"
		              "\"tts\":{\"type\":\"openai-speech\",\"base_url\":\"%s/v1\",\"api_key_env\":\"LV_E2E_SPEECH_KEY\","
		              "\"timeout_ms\":5000,\"max_retries\":2},"
		              "\"sora\":{\"type\":\"openai-videos\",\"base_url\":\"%s/\",\"api_key_env\":\"LV_E2E_SORA_KEY\","
		              "\"rates\":{\"720p\":30},\"poll_interval_ms\":100,\"timeout_ms\":5000,\"max_retries\":2}",
		              sep, u, u, u, u, u);
		sep = ",";
	}
	if (V.ds) {
		lv_buf_printf(&b,
		              "%s\"happyhorse\":{\"type\":\"dashscope-video\",\"base_url\":\"%s/\",\"api_key_env\":"
		              "\"LV_E2E_DASHSCOPE_KEY\",\"poll_interval_ms\":100,\"timeout_ms\":5000,\"max_retries\":2},"
		              "\"dsimg\":{\"type\":\"dashscope-image\",\"base_url\":\"%s\",\"api_key_env\":"
		              "\"LV_E2E_DASHSCOPE_KEY\",\"poll_interval_ms\":50,\"timeout_ms\":5000,\"max_retries\":2},"
		              "\"dstts\":{\"type\":\"dashscope-speech\",\"base_url\":\"%s\",\"api_key_env\":"
		              "\"LV_E2E_DASHSCOPE_KEY\",\"timeout_ms\":5000,\"max_retries\":2}",
		              sep, fake_dashscope_url(V.ds), fake_dashscope_url(V.ds), fake_dashscope_url(V.ds));
		sep = ",";
	}
	if (V.fal) {
		lv_buf_printf(&b,
		              "%s\"fal\":{\"type\":\"fal-queue\",\"base_url\":\"%s\",\"api_url\":\"%s\",\"api_key_env\":"
		              "\"LV_E2E_FAL_KEY\",\"model\":\"" FAL_MODEL "\",\"rates\":{\"720p\":20,\"1080p\":40},"
		              "\"poll_interval_ms\":100,\"timeout_ms\":700,\"max_retries\":2,\"recover_delay_ms\":50}",
		              sep, fake_fal_url(V.fal), fake_fal_url(V.fal));
		sep = ",";
	}
	if (V.rp) {
		lv_buf_printf(&b,
		              "%s\"rep\":{\"type\":\"replicate\",\"base_url\":\"%s\",\"api_key_env\":\"LV_E2E_REPLICATE_KEY\","
		              "\"model\":\"" RP_MODEL "\",\"rates\":{\"720p\":25,\"1080p\":50},\"poll_interval_ms\":100,"
		              "\"timeout_ms\":700,\"max_retries\":2,\"recover_delay_ms\":50,\"recover_checks\":2}",
		              sep, fake_replicate_url(V.rp));
		sep = ",";
	}
	if (V.veo) {
		lv_buf_printf(&b,
		              "%s\"veo\":{\"type\":\"google-veo\",\"base_url\":\"%s\",\"api_key_env\":\"LV_E2E_GEMINI_KEY\","
		              "\"rates\":{\"720p\":40,\"1080p\":40},\"poll_interval_ms\":100,\"timeout_ms\":5000,"
		              "\"max_retries\":2}",
		              sep, fake_veo_url(V.veo));
		sep = ",";
	}
	if (V.comfy)
		lv_buf_printf(&b,
		              "%s\"comfy\":{\"type\":\"comfyui\",\"base_url\":\"%s\",\"api_key_env\":\"LV_E2E_COMFY_KEY\","
		              "\"workflow\":\"" WAN "\",\"workflow_r2v\":\"" WAN_R2V "\",\"rates\":{\"720p\":10,"
		              "\"1080p\":20},\"poll_interval_ms\":100,\"timeout_ms\":5000,\"max_retries\":2}",
		              sep, fake_comfyui_url(V.comfy));
	lv_buf_puts(&b, "}}");
	return lv_buf_detach(&b);
}

/* ---- checks ------------------------------------------------------------------------------------------------------- */

static void assert_status(lv_task *t, lv_task_status want)
{
	ck_assert_msg(lv_task_get_status(t) == want, "status %s (want %s): %s %s",
	              lv_task_status_name(lv_task_get_status(t)), lv_task_status_name(want),
	              lv_task_error_code(t) ? lv_task_error_code(t) : "",
	              lv_task_error_message(t) ? lv_task_error_message(t) : "");
}

/* The film: duration within a frame, H.264 + AAC, the size. */
static void check_film(lv_pt *pt, const char *id, double seconds, int width, int height)
{
	char *film = lv_pt_film(pt, id);
	lv_media_info mi;
	ck_assert_msg(lv_media_probe(&mi, film) == LV_OK, "probe: %s", lv_error_last()->message);
	ck_assert_msg(fabs(mi.duration - seconds) <= FRAME + 1e-3, "film lasts %.3f s, want %.0f", mi.duration, seconds);
	ck_assert_msg(fabs(mi.video_duration - seconds) <= FRAME + 1e-3, "video lasts %.3f s", mi.video_duration);
	ck_assert(mi.has_video && mi.has_audio);
	ck_assert_str_eq(mi.video_codec, "h264");
	ck_assert_str_eq(mi.audio_codec, "aac");
	ck_assert_int_eq(mi.width, width);
	ck_assert_int_eq(mi.height, height);
	free(film);
}

/* Settled exactly `settled` (thousandths), the rest of the reservation refunded, cost_actual the same; the
 * ledger as a whole balances. */
static void assert_ledger(lv_pt *pt, const char *id, int64_t settled)
{
	int64_t reserve, settle, refund;
	cJSON *j = lv_pt_json(pt, id);
	char *report = NULL;
	lv_pt_task_ledger(pt, id, &reserve, &settle, &refund);
	ck_assert_int_gt(reserve, 0);
	ck_assert_int_eq(settle, settled);
	ck_assert_int_eq(reserve, settle + refund);
	ck_assert_int_eq((int64_t)llround(cJSON_GetObjectItem(j, "cost_actual")->valuedouble * 1000), settled);
	cJSON_Delete(j);
	ck_assert_msg(lv_ledger_verify(pt->engine, &report) == LV_OK, "ledger: %s", report ? report : "");
	lv_free(report);
}

/* Every request to METHOD PATH carried `key` (as x-api-key or a Bearer token); how many there were. */
static size_t all_with_key(lv_fake *f, const char *method, const char *path, const char *key)
{
	size_t i, n = lv_fake_requests(f), seen = 0;
	char got[256];
	for (i = 0; i < n; i++) {
		lv_fake_request *r = lv_fake_request_get(f, i);
		size_t len = strlen(path);
		int match = !strcmp(r->method, method) &&
		            (path[len - 1] == '*' ? !strncmp(r->path, path, len - 1) : !strcmp(r->path, path));
		if (match) {
			ck_assert_msg(!strcmp(fake_request_key(r, got, sizeof(got)), key), "%s %s carried another key", method,
			              r->path);
			seen++;
		}
		lv_fake_request_free(r);
	}
	return seen;
}

/* The task's shots (JSON detail): how many, and the durations and statuses of the first ones. */
static int shots_of(lv_pt *pt, const char *id, int *secs, char status[][16], int *with_ada, int max)
{
	cJSON *j = lv_pt_json(pt, id);
	const cJSON *s, *script = cJSON_GetObjectItem(j, "script");
	int n = 0;
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(j, "shots"))
	{
		if (n < max) {
			secs[n] = cJSON_GetObjectItem(s, "duration")->valueint;
			snprintf(status[n], 16, "%s", lv_json_get_str(s, "status"));
			with_ada[n] = cJSON_GetArraySize(cJSON_GetObjectItem(
			                      cJSON_GetArrayItem(cJSON_GetObjectItem(script, "shots"), n), "characters")) > 0;
		}
		n++;
	}
	/* The storyboard is the fake model's. */
	ck_assert_str_eq(lv_json_get_str(script, "title"), "The Keeper");
	cJSON_Delete(j);
	return n;
}

static char *read_all(const char *path, size_t *len)
{
	char *data = NULL;
	ck_assert_msg(lv_file_read(&data, len, path) == LV_OK, "cannot read %s", path);
	return data;
}

/* The anchor stored for a task's character (bytes). */
static char *stored_anchor(lv_pt *pt, const char *id, const char *character, size_t *len)
{
	char *p = lv_asprintf("%s/media/tasks/%s/anchors/%s.png", pt->dir, id, character), *data = read_all(p, len);
	free(p);
	return data;
}

/* ---- Anthropic + DashScope ------------------------------------------------------------------------------------------ */

#define DS_PIPELINE "\"script\":\"claude\",\"default_video_provider\":\"happyhorse\""

START_TEST(anthropic_script_and_dashscope_reference_shots)
{
	lv_pt pt;
	char id[64], *cfg, *anchor, buf[256], status[4][16];
	size_t anchor_len, i, n, r2v = 0, t2v = 0;
	int secs[4], ada[4];
	lv_task *t;
	vendors_start(1, 1, 1, 0);
	V.ant->cast = 1u; /* Ada is in the first shot only */
	/* Her anchor is a picture from an image provider: a subject a video model can film. */
	cfg = config(DS_PIPELINE ",\"anchor\":\"img\"");
	lv_pt_open(&pt, "e2e-ds", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":9}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_COMPLETED);
	ck_assert_int_eq(lv_task_cost_estimate(t), 9 * 27500);
	ck_assert_int_eq(lv_task_cost_actual(t), 9 * 27500);
	lv_task_free(t);
	check_film(&pt, id, 9, 1280, 720);
	assert_ledger(&pt, id, 9 * 27500);
	/* Claude's storyboard for the plan (5 + 4 s), Ada in the first shot; her picture came from the image
	 * provider, once (no style frame is made). */
	ck_assert_int_eq(shots_of(&pt, id, secs, status, ada, 4), 2);
	ck_assert(secs[0] == 5 && secs[1] == 4 && ada[0] && !ada[1]);
	ck_assert_uint_eq(all_with_key(fake_anthropic_server(V.ant), "POST", "/v1/messages", K_ANTHROPIC), 1);
	anchor = stored_anchor(&pt, id, "c1", &anchor_len);
	ck_assert(anchor_len > 8 && !memcmp(anchor, "\x89PNG", 4));
	ck_assert_uint_eq(lv_fake_count(fake_openai_server(V.oai), "POST", "/v1/images/generations"), 1);

	/* DashScope: her shot went to r2v with her picture as the reference image, named character1 in the prompt
	 * as the model's reference asks; the other to t2v. */
	ck_assert_uint_eq(all_with_key(fake_dashscope_server(V.ds), "POST", FAKE_DS_SUBMIT, K_DASHSCOPE), 2);
	ck_assert_uint_ge(all_with_key(fake_dashscope_server(V.ds), "GET", "/api/v1/tasks/*", K_DASHSCOPE), 2);
	n = lv_fake_requests(fake_dashscope_server(V.ds));
	for (i = 0; i < n; i++) {
		lv_fake_request *r = lv_fake_request_get(fake_dashscope_server(V.ds), i);
		cJSON *body;
		const cJSON *in, *media, *m;
		const char *prompt, *model;
		if (strcmp(r->method, "POST") || strcmp(r->path, FAKE_DS_SUBMIT)) {
			if (!strncmp(r->path, "/oss/", 5)) /* the result's signed URL: no key */
				ck_assert_ptr_null(lv_fake_header(r, "authorization", buf, sizeof(buf)));
			lv_fake_request_free(r);
			continue;
		}
		body = cJSON_ParseWithLength(r->body, r->body_len);
		ck_assert_ptr_nonnull(body);
		in = cJSON_GetObjectItem(body, "input");
		media = cJSON_GetObjectItem(in, "media");
		prompt = lv_json_get_str(in, "prompt");
		model = lv_json_get_str(body, "model");
		ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "parameters"), "duration")->valueint,
		                 strstr(prompt, "character1 climbs") ? 5 : 4);
		ck_assert_ptr_null(strstr(prompt, ".."));
		if (strstr(prompt, "character1 climbs")) {
			ck_assert_ptr_null(strstr(prompt, "Ada"));
			ck_assert_str_eq(model, "happyhorse-1.0-r2v");
			ck_assert_int_eq(cJSON_GetArraySize(media), 1);
			cJSON_ArrayForEach(m, media)
			{
				const char *url = lv_json_get_str(m, "url"), *prefix = "data:image/png;base64,";
				unsigned char *png;
				long len;
				ck_assert_str_eq(lv_json_get_str(m, "type"), "reference_image");
				ck_assert_msg(url && !strncmp(url, prefix, strlen(prefix)), "not a PNG data URL");
				url += strlen(prefix);
				png = lv_malloc(strlen(url) / 4 * 3 + 4);
				len = lv_base64_decode(png, url, strlen(url));
				/* The very image stored as her anchor. */
				ck_assert_msg(len == (long)anchor_len && !memcmp(png, anchor, anchor_len),
				              "the reference (%ld bytes) is not the stored anchor (%zu bytes)", len, anchor_len);
				free(png);
			}
			r2v++;
		} else {
			ck_assert_ptr_nonnull(strstr(prompt, "Waves break on the empty rocks"));
			ck_assert_str_eq(model, "happyhorse-1.0-t2v");
			ck_assert_ptr_null(media);
			t2v++;
		}
		cJSON_Delete(body);
		lv_fake_request_free(r);
	}
	ck_assert_uint_eq(r2v, 1);
	ck_assert_uint_eq(t2v, 1);
	free(anchor);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

/* Claude and Alibaba Cloud only: DashScope draws the anchors (Wan text-to-image), speaks the narration
 * (Qwen-TTS) and makes the shots (HappyHorse), the character's with her picture as the r2v reference. */
#define DS_ONLY_PIPELINE DS_PIPELINE ",\"anchor\":\"dsimg\",\"speech\":\"dstts\""

START_TEST(claude_and_dashscope_alone_make_a_film)
{
	lv_pt pt;
	char id[64], *cfg, *anchor;
	size_t anchor_len, i, n, r2v = 0;
	lv_task *t;
	lv_fake *f;
	vendors_start(1, 0, 1, 0);
	V.ant->cast = 1u;
	cfg = config(DS_ONLY_PIPELINE);
	lv_pt_open(&pt, "e2e-ds-only", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":9}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_COMPLETED);
	lv_task_free(t);
	check_film(&pt, id, 9, 1280, 720);
	assert_ledger(&pt, id, 9 * 27500);
	f = fake_dashscope_server(V.ds);
	/* Her picture: one text-to-image task, stored as the vendor's 1024x1024 PNG. */
	ck_assert_uint_eq(all_with_key(f, "POST", FAKE_DS_IMAGE, K_DASHSCOPE), 1);
	{
		cJSON *b = fake_sent_json(f, "POST", FAKE_DS_IMAGE, 0, NULL);
		const cJSON *par = cJSON_GetObjectItem(b, "parameters");
		ck_assert_str_eq(lv_json_get_str(b, "model"), "wan2.2-t2i-flash");
		ck_assert_ptr_nonnull(strstr(lv_json_get_str(cJSON_GetObjectItem(b, "input"), "prompt"), "Ada"));
		ck_assert_str_eq(lv_json_get_str(par, "size"), "1024*1024");
		ck_assert_int_eq(cJSON_GetObjectItem(par, "n")->valueint, 1);
		cJSON_Delete(b);
	}
	anchor = stored_anchor(&pt, id, "c1", &anchor_len);
	{
		lv_media_info mi;
		char *path = lv_asprintf("%s/media/tasks/%s/anchors/c1.png", pt.dir, id);
		ck_assert_int_eq(lv_media_probe(&mi, path), LV_OK);
		ck_assert_int_eq(mi.width, 1024);
		free(path);
	}
	/* The narration from Qwen-TTS. */
	ck_assert_uint_ge(all_with_key(f, "POST", FAKE_DS_TTS, K_DASHSCOPE), 1);
	{
		cJSON *b = fake_sent_json(f, "POST", FAKE_DS_TTS, 0, NULL);
		const cJSON *in = cJSON_GetObjectItem(b, "input");
		ck_assert_str_eq(lv_json_get_str(b, "model"), "qwen3-tts-flash");
		ck_assert_str_eq(lv_json_get_str(in, "language_type"), "English");
		ck_assert(strlen(lv_json_get_str(in, "text")) > 0);
		cJSON_Delete(b);
	}
	/* Her shot: r2v with that picture, named character1. */
	n = lv_fake_requests(f);
	for (i = 0; i < n; i++) {
		lv_fake_request *r = lv_fake_request_get(f, i);
		if (!strcmp(r->method, "POST") && !strcmp(r->path, FAKE_DS_SUBMIT)) {
			cJSON *b = cJSON_ParseWithLength(r->body, r->body_len);
			const cJSON *in = cJSON_GetObjectItem(b, "input");
			const cJSON *media = cJSON_GetObjectItem(in, "media");
			if (cJSON_GetArraySize(media) == 1) {
				const char *url = lv_json_get_str(cJSON_GetArrayItem(media, 0), "url");
				unsigned char *png = lv_malloc(strlen(url));
				long len = lv_base64_decode(png, url + 22, strlen(url + 22));
				ck_assert_str_eq(lv_json_get_str(b, "model"), "happyhorse-1.0-r2v");
				ck_assert_ptr_nonnull(strstr(lv_json_get_str(in, "prompt"), "character1"));
				ck_assert(!strncmp(url, "data:image/png;base64,", 22));
				ck_assert_msg(len == (long)anchor_len && !memcmp(png, anchor, anchor_len), "not the stored anchor");
				free(png);
				r2v++;
			}
			cJSON_Delete(b);
		}
		lv_fake_request_free(r);
	}
	ck_assert_uint_eq(r2v, 1);
	free(anchor);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

START_TEST(dashscope_failing_after_an_anthropic_script)
{
	lv_pt pt;
	char id[64], *cfg, status[4][16];
	int secs[4], ada[4];
	lv_task *t;
	cJSON *j;
	const cJSON *e;
	vendors_start(1, 0, 1, 0);
	/* Shots one at a time: the first is made, the second job fails at the vendor (not worth retrying). */
	snprintf(V.ds->jobs.fail_code, sizeof(V.ds->jobs.fail_code), "InvalidParameter");
	snprintf(V.ds->jobs.fail_message, sizeof(V.ds->jobs.fail_message), "The prompt is not supported");
	V.ds->jobs.fail_job = 2;
	cfg = config(DS_PIPELINE ",\"segment_concurrency\":1");
	lv_pt_open(&pt, "e2e-ds-fail", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":9}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_FAILED);
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	e = cJSON_GetObjectItem(j, "error");
	ck_assert_str_eq(lv_json_get_str(e, "code"), "segment_failed");
	ck_assert_str_eq(lv_json_get_str(e, "stage"), "generating");
	ck_assert_int_eq(cJSON_GetObjectItem(e, "shot")->valueint, 1);
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(e, "message"), "InvalidParameter"));
	cJSON_Delete(j);
	/* The script cost nothing; the shot made (5 s) is charged, the rest refunded. */
	ck_assert_int_eq(shots_of(&pt, id, secs, status, ada, 4), 2);
	ck_assert_str_eq(status[0], "ready");
	ck_assert_str_ne(status[1], "ready");
	assert_ledger(&pt, id, 5 * 27500);
	ck_assert_uint_eq(all_with_key(fake_anthropic_server(V.ant), "POST", "/v1/messages", K_ANTHROPIC), 1);
	ck_assert_uint_eq(all_with_key(fake_dashscope_server(V.ds), "POST", FAKE_DS_SUBMIT, K_DASHSCOPE), 2);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

/* ---- Anthropic + fal.ai's queue ----------------------------------------------------------------------------------------- */

#define FAL_PIPELINE "\"script\":\"claude\",\"default_video_provider\":\"fal\""

static void fal_start(void)
{
	vendors_start(1, 0, 0, 0);
	V.fal = fake_fal_start(FAL_APP, tdir);
	snprintf(V.fal->jobs.key, sizeof(V.fal->jobs.key), "%s", K_FAL);
}

START_TEST(anthropic_script_and_fal_queue_clips)
{
	lv_pt pt;
	char id[64], *cfg, buf[256];
	size_t i, n, subs = 0;
	lv_task *t;
	lv_fake *f;
	fal_start();
	cfg = config(FAL_PIPELINE);
	lv_pt_open(&pt, "e2e-fal", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":9,\"aspect_ratio\":\"9:16\"}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_COMPLETED);
	ck_assert_int_eq(lv_task_cost_actual(t), 9 * 20000);
	lv_task_free(t);
	check_film(&pt, id, 9, 720, 1280);
	assert_ledger(&pt, id, 9 * 20000);
	f = fake_fal_server(V.fal);
	/* Submitted to the endpoint with the key as "Key ...", polled and read under the app, the clip fetched from
	 * the CDN without it. */
	ck_assert_uint_eq(all_with_key(f, "POST", "/" FAL_MODEL, K_FAL), 2);
	ck_assert_uint_ge(all_with_key(f, "GET", "/" FAL_APP "/requests/*", K_FAL), 4);
	n = lv_fake_requests(f);
	for (i = 0; i < n; i++) {
		lv_fake_request *r = lv_fake_request_get(f, i);
		if (!strcmp(r->method, "POST")) {
			cJSON *b = cJSON_ParseWithLength(r->body, r->body_len);
			const cJSON *d = cJSON_GetObjectItem(b, "duration");
			ck_assert_str_eq(lv_fake_header(r, "authorization", buf, sizeof(buf)), "Key " K_FAL);
			ck_assert(cJSON_IsNumber(d) && (d->valueint == 5 || d->valueint == 4));
			ck_assert_str_eq(lv_json_get_str(b, "aspect_ratio"), "9:16");
			ck_assert(strlen(lv_json_get_str(b, "prompt")) > 10);
			ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(b, "seed")));
			ck_assert_ptr_null(cJSON_GetObjectItem(b, "resolution")); /* not sent unless configured */
			cJSON_Delete(b);
			subs++;
		} else if (!strncmp(r->path, "/media/", 7)) {
			ck_assert_ptr_null(lv_fake_header(r, "authorization", buf, sizeof(buf)));
		}
		lv_fake_request_free(r);
	}
	ck_assert_uint_eq(subs, 2);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

START_TEST(fal_queue_failing_after_an_anthropic_script)
{
	lv_pt pt;
	char id[64], *cfg, status[4][16];
	int secs[4], ada[4];
	lv_task *t;
	cJSON *j;
	const cJSON *e;
	fal_start();
	/* The second request ends failed (COMPLETED with an error): the task fails, the shot made is charged. */
	snprintf(V.fal->jobs.fail_code, sizeof(V.fal->jobs.fail_code), "validation_error");
	snprintf(V.fal->jobs.fail_message, sizeof(V.fal->jobs.fail_message), "The prompt could not be processed");
	V.fal->jobs.fail_job = 2;
	cfg = config(FAL_PIPELINE ",\"segment_concurrency\":1");
	lv_pt_open(&pt, "e2e-fal-fail", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":9}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_FAILED);
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	e = cJSON_GetObjectItem(j, "error");
	ck_assert_str_eq(lv_json_get_str(e, "code"), "segment_failed");
	ck_assert_int_eq(cJSON_GetObjectItem(e, "shot")->valueint, 1);
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(e, "message"), "The prompt could not be processed"));
	ck_assert_ptr_null(strstr(lv_json_get_str(e, "message"), K_FAL));
	cJSON_Delete(j);
	ck_assert_int_eq(shots_of(&pt, id, secs, status, ada, 4), 2);
	ck_assert_str_eq(status[0], "ready");
	ck_assert_str_ne(status[1], "ready");
	assert_ledger(&pt, id, 5 * 20000);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

START_TEST(fal_queue_lost_submit_is_found_in_the_request_list)
{
	lv_pt pt;
	char id[64], *cfg;
	lv_task *t;
	lv_fake_response lost = { 200, NULL, "{\"request_id\":\"late\"}", 0, NULL, NULL, 1500, 0 };
	fal_start();
	fake_jobs_lock(&V.fal->jobs);
	fake_script_add(&V.fal->jobs.lost_script, &V.fal->arena, &lost, 1);
	fake_jobs_unlock(&V.fal->jobs);
	cfg = config(FAL_PIPELINE);
	lv_pt_open(&pt, "e2e-fal-lost", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":4}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_COMPLETED);
	lv_task_free(t);
	check_film(&pt, id, 4, 1280, 720);
	/* The answer was lost after the request was queued: found in the list, polled, paid once. */
	ck_assert_uint_eq(lv_fake_count(fake_fal_server(V.fal), "POST", "/" FAL_MODEL), 1);
	ck_assert_int_eq(V.fal->jobs.n_jobs, 1);
	ck_assert_uint_ge(all_with_key(fake_fal_server(V.fal), "GET", "/v1/models/requests/by-endpoint", K_FAL), 1);
	assert_ledger(&pt, id, 4 * 20000);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

/* ---- Anthropic + Replicate ------------------------------------------------------------------------------------------------ */

#define RP_PIPELINE "\"script\":\"claude\",\"default_video_provider\":\"rep\""

static void replicate_start(void)
{
	vendors_start(1, 0, 0, 0);
	V.rp = fake_replicate_start(tdir);
	snprintf(V.rp->jobs.key, sizeof(V.rp->jobs.key), "%s", K_REPLICATE);
}

START_TEST(anthropic_script_and_replicate_predictions)
{
	lv_pt pt;
	char id[64], *cfg, buf[256];
	size_t i, n;
	lv_task *t;
	lv_fake *f;
	replicate_start();
	cfg = config(RP_PIPELINE);
	lv_pt_open(&pt, "e2e-rep", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":9}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_COMPLETED);
	lv_task_free(t);
	check_film(&pt, id, 9, 1280, 720);
	assert_ledger(&pt, id, 9 * 25000);
	f = fake_replicate_server(V.rp);
	ck_assert_uint_eq(all_with_key(f, "POST", "/v1/predictions", K_REPLICATE), 2);
	ck_assert_uint_ge(all_with_key(f, "GET", "/v1/predictions/*", K_REPLICATE), 4);
	n = lv_fake_requests(f);
	for (i = 0; i < n; i++) {
		lv_fake_request *r = lv_fake_request_get(f, i);
		if (!strcmp(r->method, "POST") && !strcmp(r->path, "/v1/predictions")) {
			cJSON *b = cJSON_ParseWithLength(r->body, r->body_len);
			const cJSON *in = cJSON_GetObjectItem(b, "input");
			ck_assert_str_eq(lv_json_get_str(b, "version"), RP_MODEL);
			ck_assert(strlen(lv_json_get_str(in, "prompt")) > 10);
			ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(in, "duration")));
			ck_assert_str_eq(lv_json_get_str(in, "aspect_ratio"), "16:9");
			ck_assert_ptr_null(lv_fake_header(r, "prefer", buf, sizeof(buf))); /* never "Prefer: wait" */
			cJSON_Delete(b);
		} else if (!strncmp(r->path, "/delivery/", 10)) {
			ck_assert_ptr_null(lv_fake_header(r, "authorization", buf, sizeof(buf)));
		}
		lv_fake_request_free(r);
	}
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

START_TEST(replicate_failing_after_an_anthropic_script)
{
	lv_pt pt;
	char id[64], *cfg, status[4][16];
	int secs[4], ada[4];
	lv_task *t;
	cJSON *j;
	const cJSON *e;
	replicate_start();
	snprintf(V.rp->jobs.fail_code, sizeof(V.rp->jobs.fail_code), "failed");
	snprintf(V.rp->jobs.fail_message, sizeof(V.rp->jobs.fail_message), "CUDA out of memory");
	V.rp->jobs.fail_job = 2;
	cfg = config(RP_PIPELINE ",\"segment_concurrency\":1");
	lv_pt_open(&pt, "e2e-rep-fail", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":9}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_FAILED);
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	e = cJSON_GetObjectItem(j, "error");
	ck_assert_str_eq(lv_json_get_str(e, "code"), "segment_failed");
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(e, "message"), "CUDA out of memory"));
	cJSON_Delete(j);
	ck_assert_int_eq(shots_of(&pt, id, secs, status, ada, 4), 2);
	ck_assert_str_eq(status[0], "ready");
	assert_ledger(&pt, id, 5 * 25000);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

START_TEST(replicate_lost_submits_are_settled_by_the_prediction_list)
{
	lv_pt pt;
	char id[64], *cfg;
	lv_task *t;
	lv_fake_response lost = { 502, NULL, "<html>bad gateway</html>", 0, NULL, "text/html", 0, 0 };
	lv_fake_response none = { 503, NULL, "{\"title\":\"Service unavailable\",\"status\":503}", 0, NULL, NULL, 0, 0 };
	replicate_start();
	cfg = config(RP_PIPELINE);
	lv_pt_open(&pt, "e2e-rep-lost", cfg, 1);
	/* The prediction was created, its answer lost: found in the list, paid once. */
	fake_jobs_lock(&V.rp->jobs);
	fake_script_add(&V.rp->jobs.lost_script, &V.rp->arena, &lost, 1);
	fake_jobs_unlock(&V.rp->jobs);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":4}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_COMPLETED);
	lv_task_free(t);
	ck_assert_uint_eq(lv_fake_count(fake_replicate_server(V.rp), "POST", "/v1/predictions"), 1);
	ck_assert_int_eq(V.rp->jobs.n_jobs, 1);
	assert_ledger(&pt, id, 4 * 25000);
	/* Nothing was created: the list shows no such prediction, and the shot is sent again. */
	fake_jobs_lock(&V.rp->jobs);
	fake_script_add(&V.rp->jobs.submit_script, &V.rp->arena, &none, 1);
	fake_jobs_unlock(&V.rp->jobs);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":4}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_COMPLETED);
	lv_task_free(t);
	ck_assert_uint_eq(lv_fake_count(fake_replicate_server(V.rp), "POST", "/v1/predictions"), 3);
	ck_assert_int_eq(V.rp->jobs.n_jobs, 2);
	assert_ledger(&pt, id, 4 * 25000);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

/* ---- Anthropic + Google Veo (with OpenAI anchors) ------------------------------------------------------------------------ */

#define VEO_PIPELINE "\"script\":\"claude\",\"default_video_provider\":\"veo\""

static void veo_start(int images)
{
	vendors_start(1, images, 0, 0);
	V.veo = fake_veo_start(tdir);
	snprintf(V.veo->jobs.key, sizeof(V.veo->jobs.key), "%s", K_GEMINI);
}

START_TEST(anthropic_script_and_veo_clips_of_4_6_8_seconds)
{
	lv_pt pt;
	char id[64], *cfg, buf[256];
	size_t i, n, subs = 0;
	lv_task *t;
	lv_fake *f;
	veo_start(1);
	V.ant->cast = 1u; /* Ada in the first shot: her picture goes as a reference image */
	cfg = config(VEO_PIPELINE ",\"anchor\":\"img\"");
	lv_pt_open(&pt, "e2e-veo", cfg, 1);
	/* 9 s = 5 + 4: Veo makes 4, 6 or 8 s clips, so the 5 s shot is made (and billed) at 6 and trimmed. */
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":9}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_COMPLETED);
	ck_assert_int_eq(lv_task_cost_estimate(t), 10 * 40000);
	ck_assert_int_eq(lv_task_cost_actual(t), 10 * 40000);
	lv_task_free(t);
	check_film(&pt, id, 9, 1280, 720);
	assert_ledger(&pt, id, 10 * 40000);
	f = fake_veo_server(V.veo);
	n = lv_fake_requests(f);
	for (i = 0; i < n; i++) {
		lv_fake_request *r = lv_fake_request_get(f, i);
		ck_assert_str_eq(lv_fake_header(r, "x-goog-api-key", buf, sizeof(buf)), K_GEMINI);
		ck_assert_ptr_null(lv_fake_header(r, "authorization", buf, sizeof(buf)));
		if (!strcmp(r->method, "POST")) {
			cJSON *b = cJSON_ParseWithLength(r->body, r->body_len);
			const cJSON *inst = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "instances"), 0);
			const cJSON *par = cJSON_GetObjectItem(b, "parameters"), *refs = cJSON_GetObjectItem(inst, "referenceImages");
			int d = cJSON_GetObjectItem(par, "durationSeconds")->valueint;
			ck_assert_str_eq(r->path, "/v1beta/models/veo-3.1-generate-preview:predictLongRunning");
			ck_assert_str_eq(lv_json_get_str(par, "aspectRatio"), "16:9");
			ck_assert_str_eq(lv_json_get_str(par, "resolution"), "720p");
			ck_assert(d == 6 || d == 4);
			if (d == 6) { /* Ada's shot */
				const cJSON *img = cJSON_GetObjectItem(cJSON_GetArrayItem(refs, 0), "image");
				ck_assert_int_eq(cJSON_GetArraySize(refs), 1);
				ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(refs, 0), "referenceType"), "asset");
				ck_assert_str_eq(lv_json_get_str(img, "mimeType"), "image/png");
				ck_assert(strlen(lv_json_get_str(img, "bytesBase64Encoded")) > 100);
			} else {
				ck_assert_ptr_null(refs);
			}
			cJSON_Delete(b);
			subs++;
		}
		lv_fake_request_free(r);
	}
	ck_assert_uint_eq(subs, 2);
	ck_assert_uint_eq(lv_fake_count(f, "GET", "/v1beta/files/*"), 2);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

START_TEST(veo_failing_after_an_anthropic_script)
{
	lv_pt pt;
	char id[64], *cfg, status[4][16];
	int secs[4], ada[4];
	lv_task *t;
	cJSON *j;
	const cJSON *e;
	veo_start(0);
	/* The second shot's video is filtered for safety: the task fails, the first shot is charged (6 s billed). */
	snprintf(V.veo->jobs.fail_code, sizeof(V.veo->jobs.fail_code), "rai");
	snprintf(V.veo->jobs.fail_message, sizeof(V.veo->jobs.fail_message), "Video generation was blocked");
	V.veo->jobs.fail_job = 2;
	cfg = config(VEO_PIPELINE ",\"segment_concurrency\":1");
	lv_pt_open(&pt, "e2e-veo-fail", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":9}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_FAILED);
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	e = cJSON_GetObjectItem(j, "error");
	ck_assert_str_eq(lv_json_get_str(e, "code"), "moderation_rejected");
	ck_assert_ptr_nonnull(strstr(lv_json_get_str(e, "message"), "Video generation was blocked"));
	cJSON_Delete(j);
	ck_assert_int_eq(shots_of(&pt, id, secs, status, ada, 4), 2);
	ck_assert_str_eq(status[0], "ready");
	assert_ledger(&pt, id, 6 * 40000);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

/* ---- OpenAI chat + Sora ----------------------------------------------------------------------------------------------- */

#define SORA_PIPELINE "\"script\":\"gpt\",\"default_video_provider\":\"sora\""

START_TEST(openai_chat_script_and_sora_clips_of_allowed_lengths)
{
	lv_pt pt;
	char id[64], *cfg, status[4][16], buf[64];
	int secs[4], ada[4], i;
	lv_task *t;
	cJSON *chat;
	lv_fake *f;
	vendors_start(0, 1, 0, 0);
	cfg = config(SORA_PIPELINE);
	lv_pt_open(&pt, "e2e-sora", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":15}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_COMPLETED);
	/* 15 s = 8 + 7; Sora makes 4, 8 or 12 s: both generated, and billed, at 8 s; the film is trimmed to 15. */
	ck_assert_int_eq(lv_task_cost_estimate(t), 16 * 30000);
	ck_assert_int_eq(lv_task_cost_actual(t), 16 * 30000);
	lv_task_free(t);
	check_film(&pt, id, 15, 1280, 720);
	assert_ledger(&pt, id, 16 * 30000);
	ck_assert_int_eq(shots_of(&pt, id, secs, status, ada, 4), 2);
	ck_assert(secs[0] == 8 && secs[1] == 7);
	/* The chat model was asked for that plan, with its own key; Sora got 8 s twice, with its own. */
	f = fake_openai_server(V.oai);
	ck_assert_uint_eq(all_with_key(f, "POST", "/v1/chat/completions", K_CHAT), 1);
	chat = fake_sent_json(f, "POST", "/v1/chat/completions", 0, NULL);
	ck_assert_ptr_nonnull(strstr(fake_user_text(chat), "shot 1: duration 7 s"));
	cJSON_Delete(chat);
	ck_assert_uint_eq(all_with_key(f, "POST", "/v1/videos", K_SORA), 2);
	ck_assert_uint_ge(all_with_key(f, "GET", "/v1/videos/*", K_SORA), 4);
	for (i = 0; i < 2; i++) {
		lv_fake_request *r = NULL;
		size_t k, n = lv_fake_requests(f), seen = 0;
		for (k = 0; k < n && !r; k++) {
			lv_fake_request *q = lv_fake_request_get(f, k);
			if (!strcmp(q->method, "POST") && !strcmp(q->path, "/v1/videos") && seen++ == (size_t)i)
				r = q;
			else
				lv_fake_request_free(q);
		}
		ck_assert_ptr_nonnull(r);
		ck_assert(fake_mp_field(r, "seconds", buf, sizeof(buf)));
		ck_assert_str_eq(buf, "8");
		ck_assert(fake_mp_field(r, "size", buf, sizeof(buf)));
		ck_assert_str_eq(buf, "1280x720");
		lv_fake_request_free(r);
	}
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

START_TEST(sora_failing_after_an_openai_chat_script)
{
	lv_pt pt;
	char id[64], *cfg, status[4][16];
	int secs[4], ada[4];
	lv_task *t;
	cJSON *j;
	const cJSON *e;
	vendors_start(0, 1, 0, 0);
	snprintf(V.oai->videos.fail_code, sizeof(V.oai->videos.fail_code), "internal_error");
	snprintf(V.oai->videos.fail_message, sizeof(V.oai->videos.fail_message), "Video generation failed");
	V.oai->videos.fail_job = 2;
	cfg = config(SORA_PIPELINE ",\"segment_concurrency\":1");
	lv_pt_open(&pt, "e2e-sora-fail", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":15}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_FAILED);
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	e = cJSON_GetObjectItem(j, "error");
	ck_assert_str_eq(lv_json_get_str(e, "code"), "segment_failed");
	ck_assert_str_eq(lv_json_get_str(e, "stage"), "generating");
	cJSON_Delete(j);
	/* The first shot was made: its 8 s clip is what is charged (the script nothing); the rest refunded. */
	ck_assert_int_eq(shots_of(&pt, id, secs, status, ada, 4), 2);
	ck_assert_str_eq(status[0], "ready");
	ck_assert_str_ne(status[1], "ready");
	assert_ledger(&pt, id, 8 * 30000);
	ck_assert_uint_eq(all_with_key(fake_openai_server(V.oai), "POST", "/v1/chat/completions", K_CHAT), 1);
	ck_assert_uint_eq(all_with_key(fake_openai_server(V.oai), "POST", "/v1/videos", K_SORA), 2);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

/* ---- ComfyUI + OpenAI images, speech, moderation and chat -------------------------------------------------------------- */

#define COMFY_PIPELINE                                                                                               \
	"\"script\":\"gpt\",\"moderation\":\"omod\",\"anchor\":\"img\",\"speech\":\"tts\",\"music\":\"local\","         \
	"\"default_video_provider\":\"comfy\""

START_TEST(comfyui_with_openai_anchors_speech_and_moderation)
{
	lv_pt pt;
	char id[64], *cfg, *anchor, *path, status[4][16];
	size_t anchor_len;
	int secs[4], ada[4], i, r2v = 0;
	lv_media_info mi;
	lv_task *t;
	cJSON *b, *root;
	const cJSON *w;
	lv_fake *f;
	vendors_start(0, 1, 0, 1);
	V.oai->cast = 1u; /* Ada is in the first shot only */
	cfg = config(COMFY_PIPELINE);
	lv_pt_open(&pt, "e2e-comfy", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":8}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_COMPLETED);
	ck_assert_int_eq(lv_task_cost_actual(t), 8 * 10000);
	lv_task_free(t);
	check_film(&pt, id, 8, 1280, 720);
	assert_ledger(&pt, id, 8 * 10000);
	ck_assert_int_eq(shots_of(&pt, id, secs, status, ada, 4), 2);
	ck_assert(secs[0] == 4 && secs[1] == 4 && ada[0] && !ada[1]);
	f = fake_openai_server(V.oai);
	/* Script and moderation (the prompt first among the texts), each with its key. */
	ck_assert_uint_eq(all_with_key(f, "POST", "/v1/chat/completions", K_CHAT), 1);
	ck_assert_uint_eq(all_with_key(f, "POST", "/v1/moderations", K_MODERATION), 1);
	b = fake_sent_json(f, "POST", "/v1/moderations", 0, NULL);
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "input"), 0)->valuestring, PROMPT);
	cJSON_Delete(b);
	/* Anchors: Ada drawn by OpenAI (no style frame: no video provider takes one); stored as the vendor's 1024x1024 picture. */
	ck_assert_uint_eq(all_with_key(f, "POST", "/v1/images/generations", K_IMAGES), 1);
	path = lv_asprintf("%s/media/tasks/%s/anchors/c1.png", pt.dir, id);
	ck_assert_int_eq(lv_media_probe(&mi, path), LV_OK);
	ck_assert(mi.width == 1024 && mi.height == 1024);
	free(path);
	anchor = stored_anchor(&pt, id, "c1", &anchor_len);
	/* ComfyUI: her shot with the r2v workflow and that anchor uploaded; the other with the text workflow. */
	ck_assert_int_eq(fake_comfyui_prompts(V.comfy), 2);
	ck_assert_uint_eq(all_with_key(fake_comfyui_server(V.comfy), "POST", "/prompt", K_COMFY), 2);
	ck_assert_uint_eq(all_with_key(fake_comfyui_server(V.comfy), "POST", "/upload/image", K_COMFY), 1);
	ck_assert_int_eq(V.comfy->uploads, 1);
	ck_assert_msg(memmem(V.comfy->upload_bodies[0], V.comfy->upload_lens[0], anchor, anchor_len) != NULL,
	              "the uploaded picture is not the stored anchor");
	for (i = 0; i < 2; i++) {
		w = fake_comfyui_workflow(V.comfy, i, &root);
		if (strstr(cJSON_GetObjectItem(cJSON_GetObjectItem(w, "6"), "inputs") ?
		                   lv_json_get_str(cJSON_GetObjectItem(cJSON_GetObjectItem(w, "6"), "inputs"), "text") : "",
		           "Ada climbs")) {
			ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(cJSON_GetObjectItem(w, "60"), "inputs"), "image"),
			                 V.comfy->upload_names[0]);
			r2v++;
		} else {
			ck_assert_ptr_null(cJSON_GetObjectItem(w, "60"));
		}
		cJSON_Delete(root);
	}
	ck_assert_int_eq(r2v, 1);
	/* Narration: one line per shot, spoken by OpenAI. */
	ck_assert_uint_eq(all_with_key(f, "POST", "/v1/audio/speech", K_SPEECH), 2);
	free(anchor);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

START_TEST(comfyui_failing_after_openai_anchors)
{
	lv_pt pt;
	char id[64], *cfg, status[4][16];
	int secs[4], ada[4];
	lv_task *t;
	vendors_start(0, 1, 0, 1);
	V.comfy->fail_prompt = 2; /* the second shot's run fails in ComfyUI */
	cfg = config(COMFY_PIPELINE ",\"segment_concurrency\":1");
	lv_pt_open(&pt, "e2e-comfy-fail", cfg, 1);
	lv_pt_create(&pt, "{\"prompt\":\"" PROMPT "\",\"duration\":8}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	assert_status(t, LV_TASK_FAILED);
	ck_assert_str_eq(lv_task_error_code(t), "segment_failed");
	lv_task_free(t);
	/* Script, moderation and anchors cost nothing; the shot made is charged, the rest refunded. */
	ck_assert_int_eq(shots_of(&pt, id, secs, status, ada, 4), 2);
	ck_assert_str_eq(status[0], "ready");
	ck_assert_str_ne(status[1], "ready");
	assert_ledger(&pt, id, 4 * 10000);
	ck_assert_uint_eq(all_with_key(fake_openai_server(V.oai), "POST", "/v1/images/generations", K_IMAGES), 1);
	ck_assert_int_eq(fake_comfyui_prompts(V.comfy), 2);
	lv_pt_close(&pt);
	free(cfg);
}
END_TEST

/* ---- the secret sweep ------------------------------------------------------------------------------------------------------ */

/* Every 12-character slice of every key (a whole key contains its slices), found in one pass over the data:
 * the first two bytes of a window select the candidates. */
typedef struct needles {
	unsigned char first[65536 / 8];
	const char *slice[N_SECRETS * 64];
	const char *env[N_SECRETS * 64];
	size_t n;
} needles;

#define SLICE 12

static needles NS;

static void needles_init(void)
{
	size_t i, off;
	memset(&NS, 0, sizeof(NS));
	for (i = 0; i < N_SECRETS; i++)
		for (off = 0; off + SLICE <= strlen(secrets[i].value); off++) {
			const unsigned char *k = (const unsigned char *)secrets[i].value + off;
			unsigned two = (unsigned)k[0] << 8 | k[1];
			ck_assert_uint_lt(NS.n, sizeof(NS.slice) / sizeof(NS.slice[0]));
			NS.first[two / 8] |= (unsigned char)(1u << (two % 8));
			NS.slice[NS.n] = (const char *)k;
			NS.env[NS.n++] = secrets[i].env;
		}
}

/* The variable whose key (or a slice of it) is in data, with its offset; NULL when none is. */
static const char *leak_in(const char *data, size_t len, size_t *at)
{
	const unsigned char *d = (const unsigned char *)data;
	size_t pos, i;
	for (pos = 0; len >= SLICE && pos <= len - SLICE; pos++) {
		unsigned two = (unsigned)d[pos] << 8 | d[pos + 1];
		if (!(NS.first[two / 8] & (1u << (two % 8))))
			continue;
		for (i = 0; i < NS.n; i++)
			if (!memcmp(d + pos, NS.slice[i], SLICE)) {
				*at = pos;
				return NS.env[i];
			}
	}
	return NULL;
}

static void assert_clean(const char *what, const char *data, size_t len)
{
	size_t at = 0;
	const char *env = leak_in(data, len, &at);
	ck_assert_msg(env == NULL, "%s holds (a part of) the key in $%s at byte %zu", what, env, at);
}

/* Every regular file under dir; how many were read. */
static int assert_tree_clean(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char *p;
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = lv_path_join(dir, e->d_name);
		if (p && lstat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				files += assert_tree_clean(p);
			} else if (S_ISREG(st.st_mode)) {
				size_t len = 0;
				char *data = NULL;
				/* (A running server may remove a scratch file meanwhile.) */
				if (lv_file_read(&data, &len, p) == LV_OK) {
					assert_clean(p, data, len);
					files++;
				} else {
					ck_assert_msg(!lv_path_exists(p), "cannot read %s", p);
				}
				free(data);
			}
		}
		free(p);
	}
	closedir(d);
	return files;
}

/* What the API and lvctl said, for the scan. */
static lv_buf said;
static lv_test_server srv;
static char *sweep_dir, *sweep_config;
static char api_key[128];

static cJSON *api(const char *method, const char *path, const char *body, long *status)
{
	char url[512], auth[200];
	const char *headers[3] = { auth, body ? "Content-Type: application/json" : NULL, NULL };
	lv_test_response r;
	cJSON *j;
	snprintf(url, sizeof(url), "%s%s", srv.base_url, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", api_key);
	ck_assert_int_eq(lv_test_http(&r, method, url, headers, body, body ? strlen(body) : 0), 0);
	lv_buf_printf(&said, "%s %s -> %ld\n%s\n", method, path, r.status, r.headers ? r.headers : "");
	lv_buf_put(&said, r.body, r.body_len);
	lv_buf_puts(&said, "\n");
	if (status)
		*status = r.status;
	j = cJSON_ParseWithLength(r.body, r.body_len);
	ck_assert_msg(j != NULL, "%s %s: not JSON: %s", method, path, r.body);
	lv_test_response_free(&r);
	return j;
}

/* lvctl --config C --data-dir D args...: its exit code; stdout and stderr kept for the scan. */
static int ctl(char **out, const char *const *args)
{
	const char *argv[32];
	int argc = 0, code;
	lv_test_run r;
	argv[argc++] = "--config";
	argv[argc++] = sweep_config;
	argv[argc++] = "--data-dir";
	argv[argc++] = sweep_dir;
	while (*args && argc < 31)
		argv[argc++] = *args++;
	argv[argc] = NULL;
	ck_assert_int_eq(lv_test_exec(&r, "lvctl", argv, NULL, NULL), 0);
	lv_buf_printf(&said, "lvctl: %s\n%s\n", r.out ? r.out : "", r.err ? r.err : "");
	code = r.exit_code;
	if (out)
		*out = lv_strdup(r.out ? r.out : "");
	lv_test_run_free(&r);
	return code;
}

/* A failed check ends the test process: the server must not outlive it. */
static void server_kill(void)
{
	if (srv.pid > 0)
		lv_test_server_kill(&srv);
}

static void server_start(const char *config_text, const char *name)
{
	static const char *const extra[] = { "--workers", "1", NULL };
	free(sweep_config);
	sweep_config = lv_test_write_file(sweep_dir, name, config_text);
	ck_assert_msg(lv_test_server_start(&srv, sweep_dir, sweep_config, extra) == 0, "lvserver did not start");
}

static void server_stop(void)
{
	int st = lv_test_server_stop(&srv);
	ck_assert_msg(st == 0, "lvserver exited with status %d", st);
}

/* Create a task over the API; its id into id[64]. */
static void create(const char *body, char *id)
{
	long status = 0;
	cJSON *j = api("POST", "/v1/videos", body, &status);
	ck_assert_msg(status == 202, "create: HTTP %ld", status);
	snprintf(id, 64, "%s", lv_json_get_str(j, "task_id"));
	cJSON_Delete(j);
}

/* Poll the task over the API until it is terminal; its status. */
static char *await(const char *id)
{
	char path[128], *st = NULL;
	int64_t until = lv_mono_ms() + 120000;
	snprintf(path, sizeof(path), "/v1/videos/%s", id);
	for (;;) {
		cJSON *j = api("GET", path, NULL, NULL);
		const char *s = lv_json_get_str(j, "status");
		ck_assert_ptr_nonnull(s);
		if (!strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "canceled")) {
			st = lv_strdup(s);
			cJSON_Delete(j);
			return st;
		}
		cJSON_Delete(j);
		ck_assert_msg(lv_mono_ms() < until, "task %s is still %s", id, s);
		lv_sleep_ms(200);
	}
}

static void expect_status(const char *id, const char *want)
{
	char *st = await(id);
	ck_assert_msg(!strcmp(st, want), "task %s is %s, want %s", id, st, want);
	free(st);
}

/* A raw answer echoing the credential in its body and in a header. */
static lv_fake_response echo(int status, const char *body)
{
	lv_fake_response r;
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.headers = status == 429 ? "Retry-After: 1\r\nx-upstream-authorization: Bearer {{key}}\r\n"
	                          : "x-upstream-authorization: Bearer {{key}}\r\n";
	r.body = body;
	return r;
}

/* How many requests of a server carried `key`. */
static size_t carried(lv_fake *f, const char *key)
{
	size_t i, n = lv_fake_requests(f), k = 0;
	char got[256];
	for (i = 0; i < n; i++) {
		lv_fake_request *r = lv_fake_request_get(f, i);
		k += !strcmp(fake_request_key(r, got, sizeof(got)), key);
		lv_fake_request_free(r);
	}
	return k;
}

START_TEST(no_provider_secret_appears_in_logs_responses_or_files)
{
	char ok[64], sora[64], comfy[64], quoted[64], canceled[64], chat_ok[64], chat_refused[64], path[160], *out = NULL, *log, *log_path;
	const char *ids[7];
	size_t i, log_len;
	int files, jobs_before;
	long status;
	lv_fake_response r;
	cJSON *j;
	needles_init();
	memset(&said, 0, sizeof(said));
	atexit(server_kill);
	sweep_dir = lv_test_mkdtemp("e2e-secrets");
	ck_assert_ptr_nonnull(sweep_dir);
	vendors_start(1, 1, 1, 1);
	V.ant->cast = 1u;
	V.oai->cast = 1u;
	/* Every vendor echoes the key it got, in a body and in a header, before answering properly. */
	fake_anthropic_push(V.ant, 529, "x-upstream-authorization: Bearer {{key}}\r\n",
	                    "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded for "
	                    "key {{key}}\"}}",
	                    0, 1);
	r = echo(500, "{\"error\":{\"message\":\"The server had an error with key {{key}}\",\"type\":\"server_error\","
	              "\"param\":null,\"code\":null}}");
	fake_openai_push(V.oai, FAKE_OA_MODERATION, &r, 1);
	fake_openai_push(V.oai, FAKE_OA_IMAGES, &r, 1);
	r = echo(503, "{\"error\":{\"message\":\"The engine is currently overloaded ({{key}})\",\"type\":"
	              "\"server_error\"}}");
	fake_openai_push(V.oai, FAKE_OA_SPEECH, &r, 1);
	r = echo(429, "{\"code\":\"Throttling.RateQuota\",\"message\":\"Requests rate limit exceeded for {{key}}\","
	              "\"request_id\":\"req-throttled\"}");
	fake_script_add(&V.ds->jobs.submit_script, &V.ds->arena, &r, 1);
	r = echo(500, "{\"code\":\"InternalError\",\"message\":\"upstream said: Authorization: Bearer {{key}}\","
	              "\"request_id\":\"req-500\"}");
	fake_script_add(&V.ds->jobs.poll_script, &V.ds->arena, &r, 1);
	r = echo(429, "{\"error\":{\"message\":\"Rate limit reached for {{key}}\",\"type\":\"requests\",\"param\":null,"
	              "\"code\":\"rate_limit_exceeded\"}}");
	fake_script_add(&V.oai->videos.submit_script, &V.oai->arena, &r, 1);
	r = echo(502, "<html>Bad gateway; the request had Authorization: Bearer {{key}}</html>");
	r.content_type = "text/html";
	fake_script_add(&V.oai->videos.poll_script, &V.oai->arena, &r, 1);
	/* The ComfyUI proxy takes another key: the configured one is refused, echoed in a 401 body. */
	snprintf(V.comfy->key, sizeof(V.comfy->key), "cf-proxy-another-key-entirely");

	/* lvserver with every stage on a fake, logging at debug level to a file; everything through the API. */
	setenv("LV_LOG_LEVEL", "debug", 1);
	{
		char *cfg = config("\"script\":\"claude\",\"moderation\":\"omod\",\"anchor\":\"img\",\"speech\":\"tts\","
		                   "\"default_video_provider\":\"happyhorse\"");
		server_start(cfg, "config.json");
		free(cfg);
	}
	{
		const char *args[] = { "--json", "keys", "create", "--name", "sweep", "--credits", "100000", NULL };
		ck_assert_int_eq(ctl(&out, args), 0);
		j = cJSON_Parse(out);
		ck_assert_ptr_nonnull(j);
		snprintf(api_key, sizeof(api_key), "%s", lv_json_get_str(j, "api_key"));
		cJSON_Delete(j);
		free(out);
	}
	/* A film through every stage (each vendor failing once first), one on Sora, one refused by ComfyUI. */
	create("{\"prompt\":\"" PROMPT "\",\"duration\":9}", ok);
	expect_status(ok, "completed");
	create("{\"prompt\":\"" PROMPT "\",\"duration\":4,\"provider\":\"sora\"}", sora);
	expect_status(sora, "completed");
	create("{\"prompt\":\"" PROMPT "\",\"duration\":4,\"provider\":\"comfy\"}", comfy);
	expect_status(comfy, "failed");
	/* One failed by DashScope with a message quoting the start of the key (as some vendors echo a key). */
	fake_jobs_lock(&V.ds->jobs);
	snprintf(V.ds->jobs.fail_code, sizeof(V.ds->jobs.fail_code), "InvalidParameter");
	snprintf(V.ds->jobs.fail_message, sizeof(V.ds->jobs.fail_message), "model access denied for key %.18s...",
	         K_DASHSCOPE);
	fake_jobs_unlock(&V.ds->jobs);
	create("{\"prompt\":\"" PROMPT "\",\"duration\":4,\"music\":false}", quoted);
	expect_status(quoted, "failed");
	fake_jobs_lock(&V.ds->jobs);
	V.ds->jobs.fail_code[0] = '\0';
	fake_jobs_unlock(&V.ds->jobs);
	/* One canceled while its shot is at DashScope. */
	fake_jobs_lock(&V.ds->jobs);
	V.ds->jobs.run_polls = -1;
	jobs_before = V.ds->jobs.n_jobs;
	fake_jobs_unlock(&V.ds->jobs);
	create("{\"prompt\":\"" PROMPT "\",\"duration\":4,\"music\":false}", canceled);
	{
		int64_t until = lv_mono_ms() + 60000;
		int polled = 0;
		for (;;) {
			fake_jobs_lock(&V.ds->jobs);
			polled = V.ds->jobs.n_jobs > jobs_before && V.ds->jobs.jobs[jobs_before].polls > 0;
			fake_jobs_unlock(&V.ds->jobs);
			if (polled)
				break;
			ck_assert_msg(lv_mono_ms() < until, "the shot never reached DashScope");
			lv_sleep_ms(50);
		}
	}
	snprintf(path, sizeof(path), "/v1/videos/%s/cancel", canceled);
	j = api("POST", path, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(lv_json_get_str(j, "status"), "canceled");
	cJSON_Delete(j);
	{
		int64_t until = lv_mono_ms() + 20000;
		while (lv_fake_count(fake_dashscope_server(V.ds), "POST", "/api/v1/tasks/*") < 1 && lv_mono_ms() < until)
			lv_sleep_ms(50);
		ck_assert_uint_eq(lv_fake_count(fake_dashscope_server(V.ds), "POST", "/api/v1/tasks/*"), 1);
	}
	/* Read everything back: the API, lvctl, and a doctor that asks every provider with its key. */
	ids[0] = ok;
	ids[1] = sora;
	ids[2] = comfy;
	ids[3] = canceled;
	ids[4] = quoted;
	for (i = 0; i < 5; i++) {
		const char *args[] = { "--json", "get", ids[i], "--key", api_key, NULL };
		snprintf(path, sizeof(path), "/v1/videos/%s", ids[i]);
		cJSON_Delete(api("GET", path, NULL, NULL));
		ck_assert_int_eq(ctl(NULL, args), 0);
	}
	cJSON_Delete(api("GET", "/v1/videos?limit=100", NULL, NULL));
	cJSON_Delete(api("GET", "/v1/credits", NULL, NULL));
	{
		const char *list[] = { "--json", "list", "--key", api_key, "--limit", "100", NULL };
		const char *doctor[] = { "doctor", "--online", NULL };
		ck_assert_int_eq(ctl(NULL, list), 0);
		ctl(NULL, doctor);
	}
	/* The data directory while the server runs (the WAL holds the latest writes). */
	{
		char *wal = lv_path_join(sweep_dir, "longvideo.db-wal");
		ck_assert_msg(lv_path_exists(wal), "no WAL to scan");
		free(wal);
	}
	files = assert_tree_clean(sweep_dir);
	ck_assert_int_gt(files, 5);
	server_stop();

	/* The OpenAI chat model as script writer and moderator: once after an echoing 500, once refused (401). */
	r = echo(500, "{\"error\":{\"message\":\"The server had an error with key {{key}}\",\"type\":\"server_error\","
	              "\"param\":null,\"code\":null}}");
	fake_openai_push(V.oai, FAKE_OA_CHAT, &r, 1);
	fake_jobs_lock(&V.ds->jobs);
	V.ds->jobs.run_polls = 1;
	fake_jobs_unlock(&V.ds->jobs);
	{
		char *cfg = config("\"script\":\"gpt\",\"moderation\":\"gpt\",\"anchor\":\"img\",\"speech\":\"tts\","
		                   "\"default_video_provider\":\"happyhorse\"");
		server_start(cfg, "config-chat.json");
		free(cfg);
	}
	create("{\"prompt\":\"" PROMPT "\",\"duration\":4}", chat_ok);
	expect_status(chat_ok, "completed");
	fake_openai_lock(V.oai);
	snprintf(V.oai->key[FAKE_OA_CHAT], sizeof(V.oai->key[0]), "sk-proj-chat-another-key-entirely");
	fake_openai_unlock(V.oai);
	create("{\"prompt\":\"" PROMPT "\",\"duration\":4}", chat_refused);
	expect_status(chat_refused, "failed");
	ids[5] = chat_ok;
	ids[6] = chat_refused;
	for (i = 5; i < 7; i++) {
		const char *args[] = { "--json", "get", ids[i], "--key", api_key, NULL };
		ck_assert_int_eq(ctl(NULL, args), 0);
	}
	{
		const char *list[] = { "--json", "list", "--key", api_key, NULL };
		const char *doctor[] = { "doctor", "--online", NULL };
		ck_assert_int_eq(ctl(NULL, list), 0);
		ctl(NULL, doctor);
	}
	server_stop();
	unsetenv("LV_LOG_LEVEL");

	/* The keys went out, each to its vendor, and came back in the echoes... */
	ck_assert_uint_ge(carried(fake_anthropic_server(V.ant), K_ANTHROPIC), 2);
	ck_assert_uint_ge(carried(fake_openai_server(V.oai), K_CHAT), 3);
	ck_assert_uint_ge(carried(fake_openai_server(V.oai), K_MODERATION), 2);
	ck_assert_uint_ge(carried(fake_openai_server(V.oai), K_IMAGES), 3);
	ck_assert_uint_ge(carried(fake_openai_server(V.oai), K_SPEECH), 3);
	ck_assert_uint_ge(carried(fake_openai_server(V.oai), K_SORA), 3);
	ck_assert_uint_ge(carried(fake_dashscope_server(V.ds), K_DASHSCOPE), 4);
	ck_assert_uint_ge(carried(fake_comfyui_server(V.comfy), K_COMFY), 1);
	ck_assert_int_eq(V.ant->script.used, 1);
	ck_assert_int_eq(V.oai->script[FAKE_OA_MODERATION].used, 1);
	ck_assert_int_eq(V.oai->script[FAKE_OA_IMAGES].used, 1);
	ck_assert_int_eq(V.oai->script[FAKE_OA_SPEECH].used, 1);
	ck_assert_int_eq(V.oai->script[FAKE_OA_CHAT].used, 1);
	ck_assert_int_eq(V.ds->jobs.submit_script.used, 1);
	ck_assert_int_eq(V.ds->jobs.poll_script.used, 1);
	ck_assert_int_eq(V.oai->videos.submit_script.used, 1);
	ck_assert_int_eq(V.oai->videos.poll_script.used, 1);
	/* ...the log is at debug level, and the scan finds a key where one is (in what a vendor received). */
	log_path = lv_path_join(sweep_dir, "lvserver.log");
	log = read_all(log_path, &log_len);
	ck_assert_ptr_nonnull(memmem(log, log_len, "http: POST", 10));
	ck_assert_ptr_nonnull(memmem(log, log_len, "debug", 5));
	{
		lv_fake_request *q = lv_fake_last(fake_dashscope_server(V.ds), "POST", FAKE_DS_SUBMIT);
		size_t at;
		ck_assert_ptr_nonnull(leak_in(q->headers, strlen(q->headers), &at));
		lv_fake_request_free(q);
	}
	/* Nowhere in the server's log, any API response, lvctl's output, or any file of the data directory. */
	assert_clean("the server log", log, log_len);
	assert_clean("what the API and lvctl said", said.data, said.len);
	files = assert_tree_clean(sweep_dir);
	ck_assert_int_gt(files, 5);
	free(log);
	free(log_path);
	lv_buf_free(&said);
	lv_test_rmdir(sweep_dir);
	free(sweep_dir);
	free(sweep_config);
	sweep_config = NULL;
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("provider_e2e");
	TCase *tc = tcase_create("e2e");
	tcase_add_unchecked_fixture(tc, fixtures_make, fixtures_remove);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, anthropic_script_and_dashscope_reference_shots);
	tcase_add_test(tc, dashscope_failing_after_an_anthropic_script);
	tcase_add_test(tc, claude_and_dashscope_alone_make_a_film);
	tcase_add_test(tc, openai_chat_script_and_sora_clips_of_allowed_lengths);
	tcase_add_test(tc, sora_failing_after_an_openai_chat_script);
	tcase_add_test(tc, comfyui_with_openai_anchors_speech_and_moderation);
	tcase_add_test(tc, comfyui_failing_after_openai_anchors);
	tcase_add_test(tc, no_provider_secret_appears_in_logs_responses_or_files);
	tcase_add_test(tc, anthropic_script_and_fal_queue_clips);
	tcase_add_test(tc, fal_queue_failing_after_an_anthropic_script);
	tcase_add_test(tc, fal_queue_lost_submit_is_found_in_the_request_list);
	tcase_add_test(tc, anthropic_script_and_replicate_predictions);
	tcase_add_test(tc, replicate_failing_after_an_anthropic_script);
	tcase_add_test(tc, replicate_lost_submits_are_settled_by_the_prediction_list);
	tcase_add_test(tc, anthropic_script_and_veo_clips_of_4_6_8_seconds);
	tcase_add_test(tc, veo_failing_after_an_anthropic_script);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
