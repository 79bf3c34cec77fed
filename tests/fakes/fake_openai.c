#include "fakes/fake_openai.h"
#include "testutil.h"
#include "util/crypto.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- media ----------------------------------------------------------------------------------------------------- */

static char *b64_file(const char *path)
{
	char *data = NULL, *out;
	size_t len = 0;
	ck_assert_int_eq(lv_file_read(&data, &len, path), LV_OK);
	out = lv_malloc(len / 3 * 4 + 8);
	ck_assert_ptr_nonnull(out);
	lv_base64_encode(out, data, len);
	free(data);
	return out;
}

void fake_openai_media_make(fake_openai_media *m)
{
	char *cmd;
	memset(m, 0, sizeof(*m));
	m->dir = lv_test_mkdtemp("oai-fx");
	ck_assert_ptr_nonnull(m->dir);
	m->png = lv_path_join(m->dir, "image.png");
	m->jpg = lv_path_join(m->dir, "image.jpg");
	m->mp3 = lv_path_join(m->dir, "speech.mp3");
	cmd = lv_asprintf("ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=1024x1024 -frames:v 1 %s && "
	                  "ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=1536x1024 -frames:v 1 %s && "
	                  "ffmpeg -hide_banner -loglevel error -y -f lavfi -i sine=frequency=300:sample_rate=24000 -t 1.5 "
	                  "-c:a libmp3lame %s",
	                  m->png, m->jpg, m->mp3);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	m->b64_png = b64_file(m->png);
	m->b64_jpg = b64_file(m->jpg);
}

void fake_openai_media_free(fake_openai_media *m)
{
	if (m->dir)
		lv_test_rmdir(m->dir);
	free(m->dir);
	free(m->png);
	free(m->jpg);
	free(m->mp3);
	free(m->b64_png);
	free(m->b64_jpg);
	memset(m, 0, sizeof(*m));
}

/* 16-bit mono 24 kHz WAV of a tone, as OpenAI streams it: RIFF and data sizes 0xFFFFFFFF. */
static void write_streamed_wav(const char *path, double seconds)
{
	uint32_t rate = 24000, n = (uint32_t)(seconds * rate), i;
	unsigned char h[44];
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	memcpy(h, "RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00", 24);
	h[24] = (unsigned char)(rate & 0xff);
	h[25] = (unsigned char)(rate >> 8);
	h[26] = h[27] = 0;
	h[28] = (unsigned char)((rate * 2) & 0xff);
	h[29] = (unsigned char)((rate * 2) >> 8);
	h[30] = (unsigned char)((rate * 2) >> 16);
	h[31] = 0;
	h[32] = 2;
	h[33] = 0;
	h[34] = 16;
	h[35] = 0;
	memcpy(h + 36, "data\xff\xff\xff\xff", 8);
	fwrite(h, 1, 44, f);
	for (i = 0; i < n; i++) {
		int16_t s = (int16_t)(8000 * sin(2 * M_PI * 220 * i / rate) * (0.6 + 0.4 * sin(2 * M_PI * 3 * i / rate)));
		unsigned char b[2] = { (unsigned char)(s & 0xff), (unsigned char)((uint16_t)s >> 8) };
		fwrite(b, 1, 2, f);
	}
	fclose(f);
}

/* ---- common ------------------------------------------------------------------------------------------------------ */

/* Under the lock: the media to answer with (made on first use when the fake was started without). */
static const fake_openai_media *media(fake_openai *o)
{
	if (!o->media) {
		fake_openai_media_make(&o->own_media);
		o->media = &o->own_media;
	}
	return o->media;
}

/* OpenAI's answer to a key it does not take, echoing (part of) the key it carried. */
static void refuse_key(fake_openai *o, const lv_fake_request *req, lv_fake_response *out)
{
	char key[256];
	out->status = 401;
	out->body = fake_printf(&o->arena,
	                        "{\"error\":{\"message\":\"Incorrect API key provided: %s. You can find your API key "
	                        "at https://platform.openai.com/account/api-keys.\",\"type\":\"invalid_request_error\","
	                        "\"param\":null,\"code\":\"invalid_api_key\"}}",
	                        fake_request_key(req, key, sizeof(key)));
}

/* Under the lock: a wrong key or a scripted answer for the family (1: answered). */
static int answered_first(fake_openai *o, int family, const lv_fake_request *req, lv_fake_response *out)
{
	if (!fake_key_ok(o->key[family], req)) {
		refuse_key(o, req, out);
		return 1;
	}
	return fake_script_next(&o->script[family], &o->arena, req, out);
}

/* ---- chat ----------------------------------------------------------------------------------------------------------- */

char *fake_openai_chat_answer(const char *content_text, const char *finish)
{
	cJSON *c = cJSON_CreateString(content_text);
	char *quoted = lv_json_print(c), *out;
	cJSON_Delete(c);
	out = lv_asprintf("{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion\",\"created\":1730000000,"
	                  "\"model\":\"test-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
	                  "\"content\":%s,\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"%s\"}],"
	                  "\"usage\":{\"prompt_tokens\":900,\"completion_tokens\":300,\"total_tokens\":1200}}",
	                  quoted, finish);
	free(quoted);
	return out;
}

static void chat_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_openai *o = ctx;
	(void)f;
	pthread_mutex_lock(&o->mu);
	if (o->no_json_schema && fake_key_ok(o->key[FAKE_OA_CHAT], req) && strstr(req->body, "\"json_schema\"")) {
		out->status = 400;
		out->body = "{\"error\":{\"message\":\"Invalid parameter: 'response_format' of type 'json_schema' is not "
		            "supported with this model.\",\"type\":\"invalid_request_error\",\"param\":\"response_format\","
		            "\"code\":null}}";
	} else if (!answered_first(o, FAKE_OA_CHAT, req, out)) {
		/* The storyboard of the plan in the prompt; without a plan it is a moderation request: all clear. */
		cJSON *body = cJSON_ParseWithLength(req->body, req->body_len);
		int secs[64];
		size_t n = fake_plan(fake_user_text(body), secs, 64);
		char *content = n ? fake_storyboard(n, secs, o->cast) : lv_strdup("{\"flagged\":false,\"categories\":[]}");
		out->body = fake_keep(&o->arena, fake_openai_chat_answer(content, "stop"));
		free(content);
		cJSON_Delete(body);
	}
	pthread_mutex_unlock(&o->mu);
}

/* ---- moderation ------------------------------------------------------------------------------------------------------ */

static void moderation_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_openai *o = ctx;
	cJSON *body;
	const cJSON *input;
	int n, i;
	lv_buf b = LV_BUF_INIT;
	(void)f;
	pthread_mutex_lock(&o->mu);
	if (answered_first(o, FAKE_OA_MODERATION, req, out)) {
		pthread_mutex_unlock(&o->mu);
		return;
	}
	body = cJSON_ParseWithLength(req->body, req->body_len);
	input = cJSON_GetObjectItem(body, "input");
	n = cJSON_IsString(input) ? 1 : cJSON_GetArraySize(input);
	lv_buf_puts(&b, "{\"id\":\"modr-970d409ef3bef3b70c73d8232df86e7d\",\"model\":\"omni-moderation-latest\",\"results\":[");
	for (i = 0; i < n; i++) {
		if (i)
			lv_buf_puts(&b, ",");
		lv_buf_puts(&b, i == o->flag_input
		                        ? "{\"flagged\":true,\"categories\":{\"sexual\":false,\"hate\":false,\"violence\":true,"
		                          "\"violence/graphic\":true,\"self-harm\":false},\"category_scores\":{\"violence\":0.92,"
		                          "\"violence/graphic\":0.71},\"category_applied_input_types\":{\"violence\":[\"text\"],"
		                          "\"violence/graphic\":[\"text\"]}}"
		                        : "{\"flagged\":false,\"categories\":{\"violence\":false,\"hate\":false},"
		                          "\"category_scores\":{\"violence\":0.01,\"hate\":0.001}}");
	}
	lv_buf_puts(&b, "]}");
	out->body = fake_keep(&o->arena, lv_buf_detach(&b));
	cJSON_Delete(body);
	pthread_mutex_unlock(&o->mu);
}

/* ---- images ------------------------------------------------------------------------------------------------------------ */

static void images_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_openai *o = ctx;
	int what;
	(void)f;
	pthread_mutex_lock(&o->mu);
	if (answered_first(o, FAKE_OA_IMAGES, req, out)) {
		pthread_mutex_unlock(&o->mu);
		return;
	}
	what = o->n_img < o->n_img_script ? o->img_script[o->n_img] : FAKE_IMG_OK;
	if (o->n_img < 16)
		o->img_times[o->n_img] = lv_mono_ms();
	o->n_img++;
	switch (what) {
	case FAKE_IMG_429:
		out->status = 429;
		out->headers = "Retry-After: 1\r\n";
		out->body = "{\"error\": {\"message\": \"Rate limit reached for gpt-image-1 on images per minute.\", \"type\": "
		            "\"requests\", \"param\": null, \"code\": \"rate_limit_exceeded\"}}";
		break;
	case FAKE_IMG_500:
		out->status = 500;
		out->body = "{\"error\": {\"message\": \"The server had an error while processing your request.\", \"type\": "
		            "\"server_error\", \"param\": null, \"code\": null}}";
		break;
	case FAKE_IMG_BLOCKED:
		out->status = 400;
		out->body = "{\"error\": {\"message\": \"Your request was rejected by the safety system. If you believe this "
		            "is an error, contact us at help.openai.com and include the request ID req_4f1c2b9e77. "
		            "safety_violations=[violence].\", \"type\": \"image_generation_user_error\", \"param\": null, "
		            "\"code\": \"moderation_blocked\", \"moderation_details\": {\"moderation_stage\": \"input\", "
		            "\"categories\": [\"violence\"]}}}";
		break;
	case FAKE_IMG_POLICY:
		out->status = 400;
		out->body = "{\"error\": {\"code\": \"content_policy_violation\", \"message\": \"Your request was rejected "
		            "as a result of our safety system. Your prompt may contain text that is not allowed by our "
		            "safety system.\", \"param\": null, \"type\": \"invalid_request_error\"}}";
		break;
	case FAKE_IMG_GARBAGE:
		out->body = "{\"created\": 1713833628, \"data\": [{\"b64_js";
		break;
	case FAKE_IMG_SLOW:
		out->delay_ms = 1500;
		out->body = "{}";
		break;
	case FAKE_IMG_URL:
		out->body = fake_printf(&o->arena,
		                        "{\"created\": 1713833628, \"data\": [{\"url\": \"%s/files/img-1.png\", "
		                        "\"revised_prompt\": \"A portrait\"}]}",
		                        lv_fake_url(o->f));
		break;
	default:
		out->body = fake_printf(&o->arena,
		                        "{\"created\": 1713833628, \"data\": [{\"b64_json\": \"%s\"}], \"usage\": "
		                        "{\"total_tokens\": 100, \"input_tokens\": 50, \"output_tokens\": 50, "
		                        "\"input_tokens_details\": {\"text_tokens\": 10, \"image_tokens\": 40}}}",
		                        what == FAKE_IMG_JPEG ? media(o)->b64_jpg : media(o)->b64_png);
		break;
	}
	pthread_mutex_unlock(&o->mu);
}

/* Where an image answer by URL points (no key needed, as for OpenAI's signed file URLs). */
static void file_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_openai *o = ctx;
	(void)f;
	(void)req;
	out->content_type = "image/png";
	pthread_mutex_lock(&o->mu);
	out->body_file = media(o)->png;
	pthread_mutex_unlock(&o->mu);
}

/* ---- speech --------------------------------------------------------------------------------------------------------------- */

static void speech_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_openai *o = ctx;
	cJSON *b;
	const cJSON *speed;
	const char *input;
	int what;
	double secs;
	(void)f;
	pthread_mutex_lock(&o->mu);
	if (answered_first(o, FAKE_OA_SPEECH, req, out)) {
		pthread_mutex_unlock(&o->mu);
		return;
	}
	b = cJSON_ParseWithLength(req->body, req->body_len);
	speed = cJSON_GetObjectItem(b, "speed");
	input = lv_json_get_str(b, "input");
	what = o->n_tts < o->n_tts_script ? o->tts_script[o->n_tts] : FAKE_TTS_OK;
	o->n_tts++;
	if (what == FAKE_TTS_400) {
		out->status = 400;
		out->body = "{\"error\": {\"message\": \"Invalid value for 'voice' = 'robot'. Request id req_77ab.\", "
		            "\"type\": \"invalid_request_error\", \"param\": \"voice\", \"code\": \"invalid_value\"}}";
	} else if (what == FAKE_TTS_401) {
		out->status = 401;
		out->body = "{\"error\": {\"message\": \"Incorrect API key provided: sk-test-***0123456789.\", \"type\": "
		            "\"invalid_request_error\", \"param\": null, \"code\": \"invalid_api_key\"}}";
	} else if (what == FAKE_TTS_MP3) {
		out->content_type = "audio/mpeg";
		out->body_file = media(o)->mp3;
	} else if (what == FAKE_TTS_GARBAGE) {
		out->content_type = "audio/wav";
		out->body = "<html><body>upstream proxy error</body></html>";
	} else if (what == FAKE_TTS_503) {
		out->status = 503;
		out->body = "{\"error\": {\"message\": \"The engine is currently overloaded.\", \"type\": \"server_error\"}}";
	} else {
		char name[32];
		char *path;
		secs = o->tts_seconds > 0 ? o->tts_seconds : fmin(2.0, 0.3 + 0.04 * (double)strlen(input ? input : ""));
		if (cJSON_IsNumber(speed))
			secs /= speed->valuedouble;
		snprintf(name, sizeof(name), "speech_%d.wav", o->wav_n++);
		path = lv_path_join(o->dir, name);
		write_streamed_wav(path, secs);
		out->body_file = fake_keep(&o->arena, path);
		out->content_type = "audio/wav";
	}
	pthread_mutex_unlock(&o->mu);
	cJSON_Delete(b);
}

/* ---- videos ------------------------------------------------------------------------------------------------------------------ */

static int videos_key_refused(fake_openai *o, const lv_fake_request *req, lv_fake_response *out)
{
	if (fake_key_ok(o->videos.key, req))
		return 0;
	refuse_key(o, req, out);
	return 1;
}

static void videos_submit_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_openai *o = ctx;
	char ct[128] = "", secs[16] = "4";
	int w = 1280, h = 720;
	fake_job *j;
	(void)f;
	lv_fake_header(req, "content-type", ct, sizeof(ct));
	fake_jobs_lock(&o->videos);
	fake_jobs_submitted(&o->videos);
	if (!videos_key_refused(o, req, out) && !fake_script_next(&o->videos.submit_script, &o->arena, req, out)) {
		char model[64] = "";
		int refs = 0;
		if (!strncmp(ct, "multipart/form-data", 19)) {
			char size[32] = "";
			fake_mp_field(req, o->seconds_field, secs, sizeof(secs));
			if (fake_mp_field(req, "size", size, sizeof(size)))
				sscanf(size, "%dx%d", &w, &h);
			fake_mp_field(req, "model", model, sizeof(model));
			refs = strstr(req->body, "name=\"input_reference\"") != NULL;
		} else {
			cJSON *b = cJSON_ParseWithLength(req->body, req->body_len);
			const cJSON *d = cJSON_GetObjectItem(b, o->seconds_field);
			if (cJSON_IsNumber(d))
				snprintf(secs, sizeof(secs), "%d", d->valueint);
			else if (cJSON_IsString(d))
				snprintf(secs, sizeof(secs), "%s", d->valuestring);
			fake_size_of(lv_json_get_str(b, "resolution"), lv_json_get_str(b, "ratio"), &w, &h);
			snprintf(model, sizeof(model), "%s", lv_json_get_str(b, "model") ? lv_json_get_str(b, "model") : "");
			cJSON_Delete(b);
		}
		j = fake_jobs_add(&o->videos, "video_68d7512d07848190b3e45da0", atoi(secs), w, h);
		if (j) {
			snprintf(j->model, sizeof(j->model), "%s", model);
			j->references = refs;
		}
		out->body = fake_printf(&o->arena,
		                        "{\"id\":\"%s\",\"object\":\"video\",\"model\":\"sora-2\",\"status\":\"queued\","
		                        "\"progress\":0,\"created_at\":1758941485,\"size\":\"%dx%d\",\"seconds\":\"%s\","
		                        "\"quality\":\"standard\"}",
		                        j ? j->id : "none", w, h, secs);
		out->headers = "openai-poll-after-ms: 150\r\n";
	}
	fake_jobs_unlock(&o->videos);
}

static void videos_get_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_openai *o = ctx;
	char id[64];
	const char *p = req->path + strlen("/v1/videos/"), *e = strstr(p, "/content");
	fake_job *j;
	(void)f;
	snprintf(id, sizeof(id), "%.*s", e ? (int)(e - p) : (int)strlen(p), p);
	fake_jobs_lock(&o->videos);
	if (videos_key_refused(o, req, out)) {
		fake_jobs_unlock(&o->videos);
		return;
	}
	if (e) {
		fake_jobs_unlock(&o->videos);
		fake_jobs_serve_clip(&o->videos, &o->arena, id, out);
		return;
	}
	if (fake_script_next(&o->videos.poll_script, &o->arena, req, out)) {
		fake_jobs_unlock(&o->videos);
		return;
	}
	if (!(j = fake_jobs_find(&o->videos, id))) {
		out->status = 404;
		out->body = fake_printf(&o->arena,
		                        "{\"error\":{\"message\":\"Video with id '%s' not found.\",\"type\":"
		                        "\"invalid_request_error\",\"param\":null,\"code\":null}}",
		                        id);
	} else {
		int s = fake_jobs_advance(&o->videos, j);
		if (s == 0)
			out->body = fake_printf(&o->arena,
			                        "{\"id\":\"%s\",\"object\":\"video\",\"status\":\"%s\",\"progress\":%d,"
			                        "\"seconds\":\"%d\"}",
			                        id, j->polls == 1 ? "queued" : "in_progress", j->polls == 1 ? 0 : 40, j->seconds);
		else if (s == 1)
			out->body = fake_printf(&o->arena,
			                        "{\"id\":\"%s\",\"object\":\"video\",\"status\":\"completed\",\"progress\":100,"
			                        "\"seconds\":\"%d\",\"completed_at\":1758941585,\"expires_at\":1759027985}",
			                        id, j->seconds);
		else
			out->body = fake_printf(&o->arena,
			                        "{\"id\":\"%s\",\"object\":\"video\",\"status\":\"failed\",\"progress\":0,"
			                        "\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
			                        id, o->videos.fail_code, o->videos.fail_message);
		out->headers = "openai-poll-after-ms: 120\r\nx-request-id: req_0b7f\r\n";
	}
	fake_jobs_unlock(&o->videos);
}

static void videos_delete_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_openai *o = ctx;
	const char *id = req->path + strlen("/v1/videos/");
	fake_job *j;
	(void)f;
	fake_jobs_lock(&o->videos);
	if (!videos_key_refused(o, req, out)) {
		o->videos.cancels++;
		if ((j = fake_jobs_find(&o->videos, id)) != NULL)
			j->canceled = 1;
		out->body = fake_printf(&o->arena, "{\"id\":\"%s\",\"object\":\"video.deleted\",\"deleted\":true}", id);
	}
	fake_jobs_unlock(&o->videos);
}

/* ---- models --------------------------------------------------------------------------------------------------------------------- */

static void models_h(lv_fake *f, const lv_fake_request *req, lv_fake_response *out, void *ctx)
{
	fake_openai *o = ctx;
	int i, any = 0, ok = 0;
	(void)f;
	pthread_mutex_lock(&o->mu);
	for (i = 0; i < FAKE_OA_N; i++)
		if (o->key[i][0]) {
			any = 1;
			ok |= fake_key_ok(o->key[i], req);
		}
	fake_jobs_lock(&o->videos);
	if (o->videos.key[0]) {
		any = 1;
		ok |= fake_key_ok(o->videos.key, req);
	}
	fake_jobs_unlock(&o->videos);
	if (any && !ok)
		refuse_key(o, req, out);
	else
		out->body = "{\"object\":\"list\",\"data\":[{\"id\":\"gpt-4o\",\"object\":\"model\",\"created\":1686935002,"
		            "\"owned_by\":\"openai\"},{\"id\":\"sora-2\",\"object\":\"model\",\"created\":1758000000,"
		            "\"owned_by\":\"openai\"}]}";
	pthread_mutex_unlock(&o->mu);
}

/* ---- the server ------------------------------------------------------------------------------------------------------------------- */

fake_openai *fake_openai_start(const fake_openai_media *media, const char *clip_dir)
{
	fake_openai *o = lv_calloc(1, sizeof(*o));
	ck_assert_ptr_nonnull(o);
	pthread_mutex_init(&o->mu, NULL);
	fake_arena_init(&o->arena);
	o->media = media;
	o->dir = lv_test_mkdtemp("oai-fake");
	ck_assert_ptr_nonnull(o->dir);
	fake_jobs_init(&o->videos, clip_dir ? clip_dir : o->dir);
	snprintf(o->seconds_field, sizeof(o->seconds_field), "seconds");
	o->cast = FAKE_CAST_ALL;
	o->flag_input = -1;
	o->f = lv_fake_start();
	ck_assert_ptr_nonnull(o->f);
	lv_fake_handle(o->f, "POST", "/v1/chat/completions", chat_h, o);
	lv_fake_handle(o->f, "POST", "/v1/moderations", moderation_h, o);
	lv_fake_handle(o->f, "POST", "/v1/images/generations", images_h, o);
	lv_fake_handle(o->f, "GET", "/files/*", file_h, o);
	lv_fake_handle(o->f, "POST", "/v1/audio/speech", speech_h, o);
	lv_fake_handle(o->f, "POST", "/v1/videos", videos_submit_h, o);
	lv_fake_handle(o->f, "GET", "/v1/videos/*", videos_get_h, o);
	lv_fake_handle(o->f, "DELETE", "/v1/videos/*", videos_delete_h, o);
	lv_fake_handle(o->f, "GET", "/v1/models", models_h, o);
	return o;
}

void fake_openai_stop(fake_openai *o)
{
	if (!o)
		return;
	lv_fake_stop(o->f);
	fake_jobs_destroy(&o->videos);
	fake_arena_free(&o->arena);
	fake_openai_media_free(&o->own_media);
	lv_test_rmdir(o->dir);
	free(o->dir);
	pthread_mutex_destroy(&o->mu);
	free(o);
}

lv_fake *fake_openai_server(const fake_openai *o)
{
	return o->f;
}

const char *fake_openai_url(const fake_openai *o)
{
	return lv_fake_url(o->f);
}

void fake_openai_lock(fake_openai *o)
{
	pthread_mutex_lock(&o->mu);
}

void fake_openai_unlock(fake_openai *o)
{
	pthread_mutex_unlock(&o->mu);
}

void fake_openai_push(fake_openai *o, int family, const lv_fake_response *r, int times)
{
	ck_assert(family >= 0 && family < FAKE_OA_N);
	pthread_mutex_lock(&o->mu);
	fake_script_add(&o->script[family], &o->arena, r, times);
	pthread_mutex_unlock(&o->mu);
}

void fake_openai_push_body(fake_openai *o, int family, int status, const char *headers, const char *body,
                           int delay_ms, int times)
{
	lv_fake_response r;
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.headers = headers;
	r.body = body;
	r.delay_ms = delay_ms;
	fake_openai_push(o, family, &r, times);
}

void fake_openai_script_images(fake_openai *o, int n, const int *what)
{
	ck_assert(n >= 0 && n <= 16);
	pthread_mutex_lock(&o->mu);
	memcpy(o->img_script, what, (size_t)n * sizeof(int));
	o->n_img_script = n;
	o->n_img = 0;
	pthread_mutex_unlock(&o->mu);
}

void fake_openai_script_speech(fake_openai *o, int n, const int *what)
{
	ck_assert(n >= 0 && n <= 16);
	pthread_mutex_lock(&o->mu);
	memcpy(o->tts_script, what, (size_t)n * sizeof(int));
	o->n_tts_script = n;
	o->n_tts = 0;
	pthread_mutex_unlock(&o->mu);
}
