/*
 * The built-in `local` provider: every stage offline, no keys.  Storyboards and moderation are
 * rule-based, reference images and segments are rendered, narration is espeak-ng, music is
 * synthesised.  Options: latency_ms (simulated provider time per segment), fail_shots (shot
 * indices whose segments fail), speech_wpm, moderation (rule lists).
 */
#include "media/h264.h"
#include "media/local.h"
#include "providers/local/local_rules.h"
#include "providers/provider.h"
#include "util/error.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FAIL_SHOTS 64

typedef struct local_provider {
	const lv_provider_conf *conf;
	int64_t latency_ms;
	int fail_shots[MAX_FAIL_SHOTS];
	size_t n_fail;
	int speech_wpm;
	lv_local_rules *rules;
} local_provider;

/* ---- script and moderation ---------------------------------------------------------------- */

static int local_write(void *self, const lv_call_ctx *ctx, const lv_script_request *req, char **out,
                       lv_provider_error *err)
{
	(void)self;
	(void)ctx;
	if (lv_local_storyboard(req, out))
		return lv_provider_fail(err, "script_failed", 0, "local script writer: %s", lv_error_last()->message);
	return LV_OK;
}

static int local_check(void *self, const lv_call_ctx *ctx, const char *const *texts, size_t n,
                       lv_moderation_result *out, lv_provider_error *err)
{
	local_provider *lp = self;
	(void)ctx;
	if (lv_local_rules_check(lp->rules, texts, n, out))
		return lv_provider_fail(err, "internal_error", 0, "local moderation: %s", lv_error_last()->message);
	return LV_OK;
}

/* ---- anchors ----------------------------------------------------------------------------------- */

static int local_anchor(void *self, const lv_call_ctx *ctx, const lv_anchor_request *req, lv_provider_error *err)
{
	lv_card_params p;
	(void)self;
	(void)ctx;
	memset(&p, 0, sizeof(p));
	p.width = req->width;
	p.height = req->height;
	p.seed = req->seed;
	p.title = req->name;
	p.description = req->is_style_frame ? req->style : req->description;
	p.language = req->language;
	p.style_frame = req->is_style_frame;
	if (lv_render_card(&p, req->out_png))
		return lv_provider_fail(err, "anchor_failed", 0, "local anchor renderer: %s", lv_error_last()->message);
	return LV_OK;
}

/* ---- video: submit/poll (simulated latency) then render on fetch ------------------------------ */

static int shot_fails(const local_provider *lp, int index)
{
	size_t i;
	for (i = 0; i < lp->n_fail; i++)
		if (lp->fail_shots[i] == index)
			return 1;
	return 0;
}

static int local_submit(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                        lv_provider_error *err)
{
	local_provider *lp = self;
	int64_t ready_at = lv_now_ms() + lp->latency_ms;
	(void)ctx;
	st->job_id = lv_asprintf("local-%s-%d-%" PRId64, job->task_id, job->index, lv_now_ms());
	st->job_state = lv_asprintf("{\"ready_at\":%" PRId64 "}", ready_at);
	if (!st->job_id || !st->job_state)
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	st->state = LV_JOB_PENDING;
	st->poll_after_ms = lp->latency_ms;
	return LV_OK;
}

static int local_poll(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *st,
                      lv_provider_error *err)
{
	local_provider *lp = self;
	int64_t ready_at = 0, now = lv_now_ms();
	cJSON *s = job->job_state ? lv_json_parse_text(job->job_state) : NULL;
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "ready_at");
	(void)ctx;
	if (cJSON_IsNumber(r))
		ready_at = (int64_t)r->valuedouble;
	cJSON_Delete(s);
	if (now < ready_at) {
		st->state = LV_JOB_RUNNING;
		st->poll_after_ms = ready_at - now < 1000 ? ready_at - now : 1000;
		return LV_OK;
	}
	if (shot_fails(lp, job->index)) {
		st->state = LV_JOB_FAILED;
		return lv_provider_fail(err, "segment_failed", 0,
		                        "provider '%s' failed shot %d (it is listed in fail_shots)", lp->conf->name,
		                        job->index);
	}
	st->state = LV_JOB_SUCCEEDED;
	return LV_OK;
}

static int local_fetch(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
                       lv_provider_error *err)
{
	lv_render_params p;
	(void)self;
	memset(&p, 0, sizeof(p));
	p.width = job->width;
	p.height = job->height;
	p.seconds = job->seconds;
	p.seed = job->seed;
	p.text = job->visual;
	p.camera = job->camera;
	p.references = job->references;
	p.n_references = job->n_references;
	p.language = job->language;
	p.cancel = ctx->cancel;
	if (lv_render_segment(&p, out_path)) {
		if (lv_error_last()->status == LV_ECANCELED)
			return LV_ECANCELED;
		return lv_provider_fail(err, "segment_failed", 0, "local renderer, shot %d: %s", job->index,
		                        lv_error_last()->message);
	}
	return LV_OK;
}

/* ---- speech and music ----------------------------------------------------------------------------- */

static int local_speak(void *self, const lv_call_ctx *ctx, const char *text, const char *language, double max_seconds,
                       const char *out_path, double *seconds, lv_provider_error *err)
{
	local_provider *lp = self;
	/* at a narrator's pace (the configured one, or the storyboard's), sped up when it runs long */
	if (lv_tts_speak_paced(text, language, lp->speech_wpm, max_seconds, out_path, seconds, ctx->cancel)) {
		if (lv_error_last()->status == LV_ECANCELED)
			return LV_ECANCELED;
		return lv_provider_fail(err, "audio_failed", 0, "local speech (espeak-ng): %s", lv_error_last()->message);
	}
	return LV_OK;
}

static int local_music(void *self, const lv_call_ctx *ctx, double seconds, const char *mood, uint32_t seed,
                       const char *out_path, lv_provider_error *err)
{
	(void)self;
	if (lv_music_generate(seconds, seed, mood, out_path, ctx->cancel)) {
		if (lv_error_last()->status == LV_ECANCELED)
			return LV_ECANCELED;
		return lv_provider_fail(err, "audio_failed", 0, "local music: %s", lv_error_last()->message);
	}
	return LV_OK;
}

static const lv_script_ops script_ops = { LV_PROVIDER_ABI_VERSION, local_write };
static const lv_moderation_ops moderation_ops = { LV_PROVIDER_ABI_VERSION, local_check };
static const lv_anchor_ops anchor_ops = { LV_PROVIDER_ABI_VERSION, local_anchor };
static const lv_video_ops video_ops = { LV_PROVIDER_ABI_VERSION, LV_VIDEO_FETCH_IS_CPU, local_submit,
	                                local_poll, local_fetch, NULL };
static const lv_speech_ops speech_ops = { LV_PROVIDER_ABI_VERSION, local_speak };
static const lv_music_ops music_ops = { LV_PROVIDER_ABI_VERSION, local_music };

static void local_destroy(void *self)
{
	local_provider *lp = self;
	if (!lp)
		return;
	lv_local_rules_free(lp->rules);
	free(lp);
}

int lv_provider_local_create(lv_provider *p, const lv_provider_conf *conf);

int lv_provider_local_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "latency_ms", "fail_shots", "speech_wpm", "moderation", NULL };
	const cJSON *j = conf->json, *v, *it;
	local_provider *lp;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!(lp = lv_calloc(1, sizeof(*lp))))
		return LV_ENOMEM;
	lp->conf = conf;
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "latency_ms")) != NULL) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 3600000) {
			local_destroy(lp);
			return lv_error_set(LV_ECONFIG, "config: providers.%s.latency_ms: must be 0 to 3600000", conf->name);
		}
		lp->latency_ms = (int64_t)v->valuedouble;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "fail_shots")) != NULL) {
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > MAX_FAIL_SHOTS) {
			local_destroy(lp);
			return lv_error_set(LV_ECONFIG, "config: providers.%s.fail_shots: must be a list of shot indices",
			                    conf->name);
		}
		cJSON_ArrayForEach(it, v)
		{
			if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble != floor(it->valuedouble)) {
				local_destroy(lp);
				return lv_error_set(LV_ECONFIG,
				                    "config: providers.%s.fail_shots: entries must be shot indices (0, 1, ...)",
				                    conf->name);
			}
			lp->fail_shots[lp->n_fail++] = (int)it->valuedouble;
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(j, "speech_wpm")) != NULL) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 80 || v->valuedouble > 400) {
			local_destroy(lp);
			return lv_error_set(LV_ECONFIG, "config: providers.%s.speech_wpm: must be 80 to 400", conf->name);
		}
		lp->speech_wpm = (int)v->valuedouble;
	}
	if (lv_local_rules_build(&lp->rules, j)) {
		if (lv_error_last()->status == LV_ECONFIG)
			lv_error_prefix("config: providers.%s", conf->name);
		local_destroy(lp);
		return lv_error_last()->status;
	}
	p->self = lp;
	p->script = &script_ops;
	p->moderation = &moderation_ops;
	p->anchor = &anchor_ops;
	p->video = &video_ops;
	p->speech = &speech_ops;
	p->music = &music_ops;
	p->destroy = local_destroy;
	p->cpu_bound = 1;
	return LV_OK;
}
