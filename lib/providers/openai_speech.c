/*
 * The `openai-speech` provider: narration from OpenAI's speech endpoint (or a server that speaks it).
 *
 *   POST {base_url}/v1/audio/speech
 *     {"model", "input", "voice", "response_format": "wav",
 *      "speed" (0.25-4.0; models that honour it: not gpt-4o-mini-tts),
 *      "instructions" (models that take it: not tts-1 / tts-1-hd)}
 *   -> the audio bytes
 *
 * OpenAI streams WAV with placeholder sizes (0xFFFFFFFF) in the RIFF header; the real sizes are
 * written before the file is used.  Fitting a line into its shot (max_seconds) works like the local
 * provider: the length is measured (lv_media_probe) and, when it runs long, the line is requested
 * again faster (speed, up to max_speed); a model that ignores speed, or a line still too long at
 * max_speed, is sped up here with FFmpeg's atempo filter (pitch kept), within max_speed overall.
 */
#include "model/probe.h"
#include "providers/clip.h"
#include "providers/openai_media.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lv_provider_openai_speech_create(lv_provider *p, const lv_provider_conf *conf);

#define MAX_VOICES 32
#define SPEED_TRIES 3

typedef struct voice_map {
	char lang[16];
	char *voice;
} voice_map;

typedef struct speech {
	lv_oai oai;
	char *model, *voice, *instructions;
	voice_map voices[MAX_VOICES];
	size_t n_voices;
	double speed, max_speed;
	int takes_speed, takes_instructions;
} speech;

static const char *voice_for(const speech *s, const char *language)
{
	size_t i;
	for (i = 0; language && i < s->n_voices; i++)
		if (!strcmp(s->voices[i].lang, language))
			return s->voices[i].voice;
	return s->voice;
}

static char *request_body(const speech *s, const char *text, const char *language, double speed)
{
	cJSON *b = cJSON_CreateObject();
	char *out = NULL;
	if (b && cJSON_AddStringToObject(b, "model", s->model) && cJSON_AddStringToObject(b, "input", text) &&
	    cJSON_AddStringToObject(b, "voice", voice_for(s, language)) &&
	    cJSON_AddStringToObject(b, "response_format", "wav") &&
	    (!s->takes_speed || cJSON_AddNumberToObject(b, "speed", round(speed * 1000) / 1000)) &&
	    (!s->takes_instructions || !s->instructions || cJSON_AddStringToObject(b, "instructions", s->instructions)))
		out = lv_json_print(b);
	cJSON_Delete(b);
	return out;
}

/* One request: the audio as a WAV file at path, its length in *seconds. */
static int speak_once(const speech *s, const lv_call_ctx *ctx, const char *text, const char *language, double speed,
                      const char *path, double *seconds, lv_provider_error *err)
{
	char *body = request_body(s, text, language, speed), *raw = NULL;
	lv_http_response resp;
	lv_media_info mi;
	int rc, is_wav;
	*seconds = 0;
	if (!body)
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	rc = lv_oai_post(&s->oai, ctx, "/v1/audio/speech", body, "audio_failed", "speaking a narration line", &resp,
	                 err);
	free(body);
	if (rc)
		return rc;
	if (resp.body_len < 12) {
		lv_http_response_free(&resp);
		return lv_provider_fail(err, "audio_failed", 1, "provider '%s' answered with no audio", s->oai.conf->name);
	}
	is_wav = !memcmp(resp.body, "RIFF", 4) && !memcmp(resp.body + 8, "WAVE", 4);
	if (!(raw = lv_asprintf("%s.download", path))) {
		lv_http_response_free(&resp);
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	}
	rc = lv_file_write_atomic(raw, resp.body, resp.body_len, 0600);
	lv_http_response_free(&resp);
	if (rc == LV_OK && !is_wav) {
		/* Not WAV (a server that ignored response_format, e.g. MP3): decode it to WAV, if it is audio. */
		if ((rc = lv_media_probe(&mi, raw)) == LV_OK && !mi.has_audio)
			rc = lv_error_set(LV_EINVALID, "the answer holds no audio");
		if (rc == LV_OK)
			rc = lv_clip_audio_to_wav(raw, path, 1.0, seconds);
	} else if (rc == LV_OK) {
		rc = lv_clip_wav_fix_sizes(raw);
		if (rc == LV_OK && rename(raw, path) != 0)
			rc = lv_error_set(LV_EIO, "%s: cannot move the audio into place", path);
		if (rc == LV_OK && (rc = lv_media_probe(&mi, path)) == LV_OK) {
			*seconds = mi.audio_duration > 0 ? mi.audio_duration : mi.duration;
			if (!mi.has_audio || *seconds <= 0)
				rc = lv_error_set(LV_EINVALID, "%s: no audio in the answer", path);
		}
	}
	unlink(raw);
	free(raw);
	if (rc)
		return lv_provider_fail(err, "audio_failed", 0, "provider '%s': the audio it returned cannot be used: %s",
		                        s->oai.conf->name, lv_error_last()->message);
	return LV_OK;
}

static int speech_speak(void *self, const lv_call_ctx *ctx, const char *text, const char *language, double max_seconds,
                        const char *out_path, double *seconds, lv_provider_error *err)
{
	speech *s = self;
	double speed = s->speed, secs = 0;
	int attempt, rc;
	*seconds = 0;
	if (!text || !*text)
		return lv_provider_fail(err, "audio_failed", 0, "provider '%s': nothing to say", s->oai.conf->name);
	for (attempt = 0; attempt < SPEED_TRIES; attempt++) {
		if ((rc = speak_once(s, ctx, text, language, speed, out_path, &secs, err)))
			return rc;
		if (max_seconds <= 0 || secs <= max_seconds || !s->takes_speed || speed >= s->max_speed - 1e-6)
			break;
		/* Too long: ask again a little faster than the ratio says (rates are not exactly linear). */
		speed = fmin(s->max_speed, speed * (secs / max_seconds) * 1.05);
		LV_DEBUG("provider '%s': %.2f s is over %.2f s; asking again at speed %.2f", s->oai.conf->name, secs,
		         max_seconds, speed);
	}
	if (max_seconds > 0 && secs > max_seconds) {
		/* Still long (or the model ignores speed): tempo here, within max_speed overall. */
		double natural = s->takes_speed ? speed : 1.0;
		double fitted = secs;
		if (lv_clip_fit_wav(out_path, secs, max_seconds, s->max_speed / natural, &fitted))
			return lv_provider_fail(err, "audio_failed", 0, "provider '%s': cannot speed up the line: %s",
			                        s->oai.conf->name, lv_error_last()->message);
		if (fitted != secs)
			LV_DEBUG("provider '%s': %.2f s sped up to %.2f s", s->oai.conf->name, secs, fitted);
		secs = fitted;
	}
	*seconds = secs;
	return LV_OK;
}

static const lv_speech_ops speech_ops = { LV_PROVIDER_ABI_VERSION, speech_speak };

static void speech_destroy(void *self)
{
	speech *s = self;
	size_t i;
	if (!s)
		return;
	lv_oai_clear(&s->oai);
	free(s->model);
	free(s->voice);
	free(s->instructions);
	for (i = 0; i < s->n_voices; i++)
		free(s->voices[i].voice);
	free(s);
}

static int str_key(char **out, const lv_provider_conf *conf, const char *key, const char *def)
{
	const char *v;
	*out = NULL;
	if (lv_provider_conf_str(&v, conf, key, def))
		return LV_ECONFIG;
	return v && !(*out = lv_strdup(v)) ? LV_ENOMEM : LV_OK;
}

static int num_key(double *out, const lv_provider_conf *conf, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf->json, key);
	*out = def;
	if (!v)
		return LV_OK;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0.25 || v->valuedouble > 4.0)
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: must be a number from 0.25 to 4.0", conf->name,
		                    key);
	*out = v->valuedouble;
	return LV_OK;
}

int lv_provider_openai_speech_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model",     "voice",        "voices",       "instructions", "speed",
		                            "max_speed", "organization", "project",      NULL };
	const cJSON *v, *it;
	speech *s;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!(s = lv_calloc(1, sizeof(*s))))
		return LV_ENOMEM;
	if (lv_oai_init(&s->oai, conf) || str_key(&s->model, conf, "model", "gpt-4o-mini-tts") ||
	    str_key(&s->voice, conf, "voice", "alloy") || str_key(&s->instructions, conf, "instructions", NULL) ||
	    num_key(&s->speed, conf, "speed", 1.0) || num_key(&s->max_speed, conf, "max_speed", 1.5))
		goto fail;
	/* Per the API reference: speed "does not work with gpt-4o-mini-tts"; instructions "do not work with
	 * tts-1 or tts-1-hd".  Other models (compatible servers) are sent speed. */
	s->takes_speed = !lv_oai_model_is(s->model, "gpt-4o-mini-tts");
	s->takes_instructions = !lv_oai_model_is(s->model, "tts-1");
	if (s->instructions && !s->takes_instructions) {
		lv_error_set(LV_ECONFIG, "config: providers.%s.instructions: %s does not take instructions", conf->name,
		             s->model);
		goto fail;
	}
	if (s->max_speed < s->speed) {
		lv_error_set(LV_ECONFIG, "config: providers.%s.max_speed: must not be below speed", conf->name);
		goto fail;
	}
	v = cJSON_GetObjectItemCaseSensitive(conf->json, "voices");
	if (v && (!cJSON_IsObject(v) || cJSON_GetArraySize(v) > MAX_VOICES)) {
		lv_error_set(LV_ECONFIG,
		             "config: providers.%s.voices: must map languages to voices, like {\"zh\": \"nova\"} (at most %d)",
		             conf->name, MAX_VOICES);
		goto fail;
	}
	cJSON_ArrayForEach(it, v)
	{
		if (!cJSON_IsString(it) || !*it->valuestring || strlen(it->string) >= sizeof(s->voices[0].lang)) {
			lv_error_set(LV_ECONFIG, "config: providers.%s.voices.%s: must be a voice name", conf->name, it->string);
			goto fail;
		}
		snprintf(s->voices[s->n_voices].lang, sizeof(s->voices[0].lang), "%s", it->string);
		if (!(s->voices[s->n_voices].voice = lv_strdup(it->valuestring)))
			goto fail;
		s->n_voices++;
	}
	p->self = s;
	p->speech = &speech_ops;
	p->destroy = speech_destroy;
	return LV_OK;
fail:
	speech_destroy(s);
	return lv_error_last()->status ? lv_error_last()->status : LV_ECONFIG;
}
