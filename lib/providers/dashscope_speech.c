/*
 * The `dashscope-speech` provider: narration from Qwen-TTS on Alibaba Cloud Model Studio.
 *
 *   POST {base_url}/api/v1/services/aigc/multimodal-generation/generation
 *        {"model": "qwen3-tts-flash", "input": {"text", "voice", "language_type"}}
 *   -> {"output": {"audio": {"url", "expires_at", ...}, "finish_reason": "stop"}, "usage", "request_id"}
 *   the audio: GET output.audio.url (a WAV on object storage, valid 24 hours; no key)
 *
 * The call leaves nothing behind at the vendor, so transient failures are retried.  A line longer than its
 * shot is played faster here (pitch kept), up to max_speed.
 */
#include "model/probe.h"
#include "providers/clip.h"
#include "providers/dashscope.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DST_PATH "/api/v1/services/aigc/multimodal-generation/generation"

typedef struct dst_provider {
	const lv_provider_conf *conf;
	char *base;
	const char *model, *voice;
	double max_speed;
} dst_provider;

static const lv_ds_what line = { "audio_failed", "line" };

/* Qwen-TTS's language_type for a language tag ("Auto" when it has none). */
static const char *language_type(const char *tag)
{
	static const char *const map[][2] = { { "zh", "Chinese" }, { "en", "English" }, { "ja", "Japanese" },
		                              { "ko", "Korean" },  { "de", "German" },  { "fr", "French" },
		                              { "ru", "Russian" }, { "it", "Italian" }, { "es", "Spanish" },
		                              { "pt", "Portuguese" } };
	size_t i;
	for (i = 0; tag && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strncmp(tag, map[i][0], 2) && (!tag[2] || tag[2] == '-'))
			return map[i][1];
	return "Auto";
}

/* POST the line; the audio's URL into *url (caller frees). */
static int synthesize(const dst_provider *sp, const lv_vh_call *c, const lv_call_ctx *ctx, const char *text,
                      const char *language, char **url, lv_provider_error *err)
{
	lv_http_request req;
	lv_http_response resp;
	const char *headers[3], *u;
	cJSON *root = cJSON_CreateObject(), *in = NULL, *j = NULL;
	char *body = NULL, *endpoint = lv_asprintf("%s" DST_PATH, sp->base);
	int rc;
	*url = NULL;
	memset(&resp, 0, sizeof(resp));
	if (!root || !endpoint || !cJSON_AddStringToObject(root, "model", sp->model) ||
	    !(in = cJSON_AddObjectToObject(root, "input")) || !cJSON_AddStringToObject(in, "text", text) ||
	    !cJSON_AddStringToObject(in, "voice", sp->voice) ||
	    !cJSON_AddStringToObject(in, "language_type", language_type(language)) ||
	    !(body = cJSON_PrintUnformatted(root))) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		goto out;
	}
	headers[0] = c->auth;
	headers[1] = "Content-Type: application/json";
	headers[2] = NULL;
	lv_vh_request(&req, c, "POST", endpoint, headers, ctx->cancel);
	req.body = body;
	req.body_len = strlen(body);
	if ((rc = lv_vh_perform(c, &req, 0, "speech request", &resp, NULL, err))) {
		if (rc != LV_ECANCELED && strcmp(err->code, "provider_timeout") != 0)
			snprintf(err->code, sizeof(err->code), "%s", line.code);
		goto out;
	}
	if (resp.status < 200 || resp.status >= 300) {
		rc = lv_ds_http_error(err, c, &line, &resp, "speech request", 0);
		goto out;
	}
	j = lv_vh_json(&resp);
	u = lv_vh_json_path(j, "output.audio.url");
	if (!u || strncmp(u, "http", 4) != 0) {
		rc = lv_provider_fail(err, line.code, 1, "provider '%s' answered with no audio URL (output.audio.url)",
		                      sp->conf->name);
		goto out;
	}
	rc = (*url = lv_strdup(u)) ? LV_OK : lv_provider_fail(err, "internal_error", 1, "out of memory");
out:
	cJSON_Delete(j);
	cJSON_Delete(root);
	lv_http_response_free(&resp);
	free(body);
	free(endpoint);
	return rc;
}

static int dst_speak(void *self, const lv_call_ctx *ctx, const char *text, const char *language, double max_seconds,
                     const char *out_path, double *seconds, lv_provider_error *err)
{
	dst_provider *sp = self;
	lv_vh_call c;
	char *url = NULL, *raw = NULL;
	double secs = 0;
	int rc;
	*seconds = 0;
	if (!text || !*text)
		return lv_provider_fail(err, line.code, 0, "provider '%s': nothing to say", sp->conf->name);
	if (lv_vh_call_begin(&c, sp->conf, err)) {
		snprintf(err->code, sizeof(err->code), "%s", line.code);
		return LV_EPROVIDER;
	}
	if ((rc = synthesize(sp, &c, ctx, text, language, &url, err)))
		goto out;
	if (!(raw = lv_asprintf("%s.download", out_path))) {
		rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
		goto out;
	}
	if ((rc = lv_vh_fetch_file(sp->conf, ctx, url, NULL, NULL, raw, "audio", line.code, -1, err)))
		goto out;
	/* Whatever the container, a clean 16-bit WAV with its length measured. */
	if (lv_clip_audio_to_wav(raw, out_path, 1.0, &secs) || secs <= 0 ||
	    lv_clip_fit_wav(out_path, secs, max_seconds, sp->max_speed, &secs)) {
		rc = lv_provider_fail(err, line.code, 0, "provider '%s': the audio it returned cannot be used: %s",
		                      sp->conf->name, lv_error_last()->message);
		goto out;
	}
	*seconds = secs;
	rc = LV_OK;
out:
	if (raw)
		unlink(raw);
	free(raw);
	free(url);
	lv_vh_call_end(&c);
	return rc;
}

static const lv_speech_ops speech_ops = { LV_PROVIDER_ABI_VERSION, dst_speak };

static void dst_destroy(void *self)
{
	dst_provider *sp = self;
	if (!sp)
		return;
	free(sp->base);
	free(sp);
}

static int dst_ping(void *self, lv_provider_error *err)
{
	const dst_provider *sp = self;
	return lv_ds_ping(sp->conf, sp->base, err);
}

int lv_provider_dashscope_speech_create(lv_provider *p, const lv_provider_conf *conf);

int lv_provider_dashscope_speech_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model", "voice", "max_speed_percent", NULL };
	dst_provider *sp;
	int64_t pct;
	int rc;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!conf->api_key_env)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.api_key_env: is required (the environment variable holding the "
		                    "DashScope key, e.g. \"DASHSCOPE_API_KEY\")",
		                    conf->name);
	if (!(sp = lv_calloc(1, sizeof(*sp))))
		return LV_ENOMEM;
	sp->conf = conf;
	if ((rc = lv_provider_conf_str(&sp->model, conf, "model", "qwen3-tts-flash")) ||
	    (rc = lv_provider_conf_str(&sp->voice, conf, "voice", "Cherry")) ||
	    (rc = lv_provider_conf_int(&pct, conf, "max_speed_percent", 140, 100, 200))) {
		dst_destroy(sp);
		return rc;
	}
	sp->max_speed = (double)pct / 100.0;
	if (!(sp->base = lv_vh_base(conf->base_url ? conf->base_url : LV_DS_DEFAULT_BASE))) {
		dst_destroy(sp);
		return LV_ENOMEM;
	}
	p->self = sp;
	p->speech = &speech_ops;
	p->destroy = dst_destroy;
	p->ping = dst_ping;
	return LV_OK;
}
