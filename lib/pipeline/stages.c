/*
 * The stages of a task, run by a stage thread:
 *   queued -> scripting -> moderation -> anchoring -> generating (driver) -> audio -> composing
 *   -> delivering -> completed
 * Each stage's output is stored (storage objects + the task's script/state) in the same
 * transaction that moves the status on, so a resumed task starts from the last stored step.
 * See stages.h for what it uses.
 */
#include "compose/compose.h"
#include "core/creative.h"
#include "core/retention.h"
#include "core/task.h"
#include "longvideo/media.h"
#include "media/local.h"
#include "pipeline/stages.h"
#include "pipeline/storyboard.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPS(sg) ((sg)->e->store->ops)
#define SCRIPT_ATTEMPTS 3
#define VOICE_LEAD_IN 0.3

static const lv_provider *stage_provider(const lv_stages *sg, int stage_idx)
{
	const lv_provider_conf *c = lv_config_stage_provider(sg->e->cfg, stage_idx);
	return c ? lv_providers_get(sg->e->providers, c->name) : NULL;
}

static uint32_t task_seed(const char *id, uint32_t salt)
{
	uint32_t s = 2166136261u ^ salt;
	for (; *id; id++)
		s = (s ^ (uint8_t)*id) * 16777619u;
	return s;
}

/* ---- scripting ---------------------------------------------------------------------------------------------- */

static int set_script(lv_store_tx *tx, lv_task_rec *t, void *ctx, int *to)
{
	(void)tx;
	(void)to;
	return lv_strset(&t->script, ctx);
}

static int load_plan(const lv_stages *sg, const char *id, int **seconds, size_t *n)
{
	lv_store_tx *tx;
	lv_segment_rec *segs = NULL;
	size_t i;
	int rc = OPS(sg)->begin(sg->e->store, 0, &tx);
	*seconds = NULL;
	if (rc)
		return rc;
	rc = OPS(sg)->segment_list(tx, id, &segs, n);
	OPS(sg)->rollback(tx);
	if (rc)
		return rc;
	if (!(*seconds = lv_calloc(*n, sizeof(int)))) {
		lv_segment_recs_free(segs, *n);
		return LV_ENOMEM;
	}
	for (i = 0; i < *n; i++)
		(*seconds)[i] = segs[i].seconds;
	lv_segment_recs_free(segs, *n);
	return LV_OK;
}

static int stage_script(const lv_stages *sg, held *h, const lv_task_rec *t)
{
	const lv_provider *p = stage_provider(sg, LV_STAGE_IDX_SCRIPT);
	lv_call_ctx ctx = { &h->cancel, h->id, h->work_dir };
	lv_script_request req;
	char feedback[512] = "";
	int *seconds = NULL, attempt, rc;
	int64_t t0;
	size_t n = 0;
	if (!p || !p->script) {
		lv_fail_task(sg->held, h, LV_TASK_SCRIPTING, "script_failed", "no script provider is configured", -1);
		return LV_ECANCELED;
	}
	if ((rc = load_plan(sg, t->id, &seconds, &n)))
		return rc;
	memset(&req, 0, sizeof(req));
	req.prompt = t->prompt;
	req.language = t->language;
	req.aspect_ratio = t->aspect_ratio;
	req.duration = t->duration;
	req.n_shots = n;
	req.shot_seconds = seconds;
	for (attempt = 0; attempt < SCRIPT_ATTEMPTS; attempt++) {
		lv_provider_error err;
		char *json = NULL, *canon;
		cJSON *sb;
		memset(&err, 0, sizeof(err));
		req.attempt = attempt;
		req.feedback = feedback[0] ? feedback : NULL;
		t0 = lv_mono_ms();
		rc = p->script->write(p->self, &ctx, &req, &json, &err);
		lv_count_call(sg->e, p, LV_TASK_SCRIPTING, rc, t0);
		if (rc == LV_ECANCELED || h->cancel) {
			free(json);
			free(seconds);
			return LV_ECANCELED;
		}
		if (rc) {
			free(json);
			if (err.retryable && attempt + 1 < SCRIPT_ATTEMPTS) {
				/* A transient failure is not the storyboard's fault: no feedback for the writer. */
				LV_WARN("task %s: script provider '%s' failed (%s); trying again", h->id, p->name, err.message);
				lv_sleep_ms(500LL << attempt);
				continue;
			}
			free(seconds);
			lv_fail_task(sg->held, h, LV_TASK_SCRIPTING, err.code[0] ? err.code : "script_failed", err.message, -1);
			return LV_ECANCELED;
		}
		sb = lv_json_parse_text(json);
		free(json);
		if (!sb) {
			snprintf(feedback, sizeof(feedback), "the output was not valid JSON");
			continue;
		}
		if (lv_storyboard_validate(sb, n, seconds, t->language, feedback, sizeof(feedback))) {
			LV_WARN("task %s: storyboard from '%s' rejected (attempt %d): %s", h->id, p->name, attempt + 1,
			        feedback);
			cJSON_Delete(sb);
			continue;
		}
		lv_characters_merge(sb, t); /* the client's own characters, by name and description */
		canon = lv_json_print(sb);
		cJSON_Delete(sb);
		free(seconds);
		if (!canon)
			return LV_ENOMEM;
		rc = lv_advance(sg->held, h, LV_TASK_SCRIPTING, LV_TASK_MODERATION, set_script, canon);
		free(canon);
		return rc;
	}
	free(seconds);
	{
		char msg[700];
		snprintf(msg, sizeof(msg),
		         "the script provider '%s' did not produce a valid storyboard in %d attempts (last problem: %s); "
		         "try a simpler or clearer prompt",
		         p->name, SCRIPT_ATTEMPTS, feedback);
		lv_fail_task(sg->held, h, LV_TASK_SCRIPTING, "script_failed", msg, -1);
	}
	return LV_ECANCELED;
}

/* ---- review ---------------------------------------------------------------------------------------------------- */

static int enter_review(lv_store_tx *tx, lv_task_rec *t, void *ctx, int *to)
{
	(void)tx;
	(void)to;
	return lv_review_enter(ctx, t, lv_now_ms());
}

typedef struct {
	const lv_stages *sg;
	const char *id;
} expire_ctx;

static int expire_tx(lv_store_tx *tx, void *p)
{
	expire_ctx *c = p;
	lv_task_rec t;
	int64_t now = 0;
	int rc = lv_own(c->sg->held, tx, c->id, LV_TASK_AWAITING_REVIEW, &t);
	if (rc)
		return rc;
	/* The deadline is compared with the clock the claim used: the store's. */
	if ((rc = lv_store_now(c->sg->e->store, tx, &now)) == LV_OK)
		rc = lv_review_expire(c->sg->e, tx, &t, now);
	if (rc == LV_OK && t.status == LV_TASK_CANCELED)
		LV_INFO("task %s: review timed out; canceled and refunded", c->id);
	lv_task_rec_clear(&t);
	return rc;
}

static int stage_review(const lv_stages *sg, held *h)
{
	expire_ctx c = { sg, h->id };
	int rc = lv_engine_tx(sg->e, 1, expire_tx, &c);
	return rc == LV_OK ? LV_ECANCELED : rc; /* either way this worker is done with it */
}

/* ---- moderation ---------------------------------------------------------------------------------------------- */

/* Check texts with the moderation provider (transient failures tried again).  On a flag the task fails
 * with `moderation_rejected` naming the shot (shot_of[i], -1 for the prompt or title) and LV_ECANCELED is
 * returned; a provider failure fails the task too.  LV_OK: every text passed. */
static int moderate_texts(const lv_stages *sg, held *h, int stage, const char *const *texts, const int *shot_of,
                          size_t n)
{
	const lv_provider *p = stage_provider(sg, LV_STAGE_IDX_MODERATION);
	lv_call_ctx ctx = { &h->cancel, h->id, h->work_dir };
	lv_moderation_result res;
	lv_provider_error err;
	int64_t t0;
	int rc, attempt;
	if (!p || !p->moderation) {
		lv_fail_task(sg->held, h, stage, "internal_error", "no moderation provider is configured", -1);
		return LV_ECANCELED;
	}
	/* Transient provider failures are tried again (the provider already retried its own requests). */
	for (attempt = 0;; attempt++) {
		memset(&res, 0, sizeof(res));
		memset(&err, 0, sizeof(err));
		t0 = lv_mono_ms();
		rc = p->moderation->check(p->self, &ctx, texts, n, &res, &err);
		lv_count_call(sg->e, p, LV_TASK_MODERATION, rc, t0);
		if (rc == LV_OK || rc == LV_ECANCELED || !err.retryable || attempt + 1 >= SCRIPT_ATTEMPTS || h->cancel)
			break;
		LV_WARN("task %s: moderation provider '%s' failed (%s); trying again", h->id, p->name, err.message);
		lv_sleep_ms(1000LL << attempt);
	}
	if (rc == LV_OK && res.flagged) {
		char msg[512];
		int shot = res.text_index < n ? shot_of[res.text_index] : -1;
		snprintf(msg, sizeof(msg), "content moderation rejected the %s (categories: %s); change the %s and try again",
		         shot >= 0 ? "storyboard" : "prompt", res.categories[0] ? res.categories : "unspecified",
		         shot >= 0 ? "shot's text" : "prompt");
		lv_fail_task(sg->held, h, stage, "moderation_rejected", msg, shot);
		return LV_ECANCELED;
	}
	if (rc != LV_OK && rc != LV_ECANCELED) {
		lv_fail_task(sg->held, h, stage, err.code[0] ? err.code : "internal_error", err.message, -1);
		return LV_ECANCELED;
	}
	return rc;
}

static int stage_moderation(const lv_stages *sg, held *h, const lv_task_rec *t)
{
	cJSON *sb = lv_json_parse_text(t->script ? t->script : "{}");
	const cJSON *shots = cJSON_GetObjectItemCaseSensitive(sb, "shots"), *s;
	const char **texts;
	int *shot_of;
	size_t n = 0, cap = 2 + 2 * (size_t)cJSON_GetArraySize(shots);
	int rc;
	texts = lv_calloc(cap, sizeof(*texts));
	shot_of = lv_calloc(cap, sizeof(*shot_of));
	if (!sb || !texts || !shot_of) {
		cJSON_Delete(sb);
		free(texts);
		free(shot_of);
		return LV_ENOMEM;
	}
	shot_of[n] = -1;
	texts[n++] = t->prompt;
	if (lv_json_get_str(sb, "title")) {
		shot_of[n] = -1;
		texts[n++] = lv_json_get_str(sb, "title");
	}
	cJSON_ArrayForEach(s, shots)
	{
		int idx = cJSON_GetObjectItemCaseSensitive(s, "index")->valueint;
		if (lv_json_get_str(s, "visual")) {
			shot_of[n] = idx;
			texts[n++] = lv_json_get_str(s, "visual");
		}
		if (lv_json_get_str(s, "narration") && *lv_json_get_str(s, "narration")) {
			shot_of[n] = idx;
			texts[n++] = lv_json_get_str(s, "narration");
		}
	}
	rc = moderate_texts(sg, h, LV_TASK_MODERATION, texts, shot_of, n);
	if (rc == LV_OK && lv_review_wanted(t)) {
		/* Stop for review: the lease goes, and the task waits (unclaimable) until approved or timed out. */
		rc = lv_advance(sg->held, h, LV_TASK_MODERATION, LV_TASK_AWAITING_REVIEW, enter_review, sg->e);
		if (rc == LV_OK)
			rc = LV_ECANCELED; /* nothing more for this worker to do */
	} else if (rc == LV_OK) {
		rc = lv_advance(sg->held, h, LV_TASK_MODERATION, LV_TASK_ANCHORING, NULL, NULL);
	}
	cJSON_Delete(sb);
	free(texts);
	free(shot_of);
	return rc;
}

/* ---- anchoring ------------------------------------------------------------------------------------------------ */

static int set_state(lv_task_rec *t, void *ctx)
{
	char *s = lv_json_print(ctx);
	if (!s)
		return LV_ENOMEM;
	free(t->state);
	t->state = s;
	return LV_OK;
}

/* set_state as the change of a move (lv_advance). */
static int change_state(lv_store_tx *tx, lv_task_rec *t, void *ctx, int *to)
{
	(void)tx;
	(void)to;
	return set_state(t, ctx);
}

static cJSON *state_of(const lv_task_rec *t)
{
	cJSON *s = t->state ? lv_json_parse_text(t->state) : NULL;
	return s ? s : cJSON_CreateObject();
}

/* Replace (or add) obj[name] = item. */
static void json_put(cJSON *obj, const char *name, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, name))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, name, item);
	else
		cJSON_AddItemToObject(obj, name, item);
}

/* Render one anchor image unless storage already has it (a resumed task). */
static int make_anchor(const lv_stages *sg, held *h, const lv_provider *p, lv_anchor_request *req, const char *key)
{
	lv_call_ctx ctx = { &h->cancel, h->id, h->work_dir };
	lv_provider_error err;
	char *dir = lv_asprintf("%s/anchors", h->work_dir), *path = NULL;
	int64_t t0;
	int found = 0, rc = sg->e->storage->ops->exists(sg->e->storage, key, &found);
	if (rc || found) { /* stored already, or storage cannot tell (an error, never taken for "absent") */
		free(dir);
		return rc;
	}
	memset(&err, 0, sizeof(err));
	if (!dir || lv_mkdir_p(dir, 0) || !(path = lv_asprintf("%s/%s.png", dir, req->id))) {
		free(dir);
		return lv_error_last()->status ? lv_error_last()->status : LV_ENOMEM;
	}
	req->out_png = path;
	if (p->cpu_bound)
		lv_cpu_acquire(sg->cpu);
	t0 = lv_mono_ms();
	rc = p->anchor->render(p->self, &ctx, req, &err);
	lv_count_call(sg->e, p, LV_TASK_ANCHORING, rc, t0);
	if (p->cpu_bound)
		lv_cpu_release(sg->cpu);
	if (rc == LV_OK)
		rc = sg->e->storage->ops->put_file(sg->e->storage, key, path, "image/png");
	else if (rc != LV_ECANCELED)
		lv_fail_task(sg->held, h, LV_TASK_ANCHORING, err.code[0] ? err.code : "anchor_failed", err.message, -1), rc = LV_ECANCELED;
	free(dir);
	free(path);
	return rc;
}

static int stage_anchor(const lv_stages *sg, held *h, const lv_task_rec *t)
{
	const lv_provider *p = stage_provider(sg, LV_STAGE_IDX_ANCHOR);
	cJSON *sb = lv_json_parse_text(t->script ? t->script : "{}"), *state = state_of(t), *anchors = cJSON_CreateObject();
	const cJSON *c;
	lv_anchor_request req;
	int rc = LV_OK;
	char *key = NULL, given[200];
	if (!p || !p->anchor) {
		cJSON_Delete(sb);
		cJSON_Delete(state);
		cJSON_Delete(anchors);
		lv_fail_task(sg->held, h, LV_TASK_ANCHORING, "anchor_failed", "no anchor provider is configured", -1);
		return LV_ECANCELED;
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(sb, "characters"))
	{
		memset(&req, 0, sizeof(req));
		req.id = lv_json_get_str(c, "id");
		req.name = lv_json_get_str(c, "name");
		req.description = lv_json_get_str(c, "description");
		req.style = lv_json_get_str(sb, "style");
		req.width = 512;
		req.height = 512;
		req.seed = task_seed(h->id, (uint32_t)cJSON_GetArraySize(anchors) + 1);
		req.language = t->language;
		free(key);
		key = NULL;
		if (req.id && lv_characters_image(t, req.name, given, sizeof(given))) {
			cJSON_AddStringToObject(anchors, req.id, given); /* the client's own picture, not a rendered one */
			continue;
		}
		if (!req.id || !(key = lv_asprintf("tasks/%s/anchors/%s.png", h->id, req.id)) ||
		    !lv_storage_key_valid(key)) {
			rc = lv_error_set(LV_EINTERNAL, "character id '%s' cannot name a file", req.id ? req.id : "");
			break;
		}
		if ((rc = make_anchor(sg, h, p, &req, key)))
			break;
		cJSON_AddStringToObject(anchors, req.id, key);
	}
	free(key);
	/* No style frame is made: no video provider takes one (the style travels in each shot's prompt). */
	if (rc == LV_OK) {
		json_put(state, "anchors", anchors);
		anchors = NULL;
		/* The built-in provider draws captioned cards, not pictures: real video models get no references. */
		json_put(state, "anchor_images",
		         cJSON_CreateString(!strcmp(p->conf->type, "local") ? "drawn" : "generated"));
		rc = lv_advance(sg->held, h, LV_TASK_ANCHORING, LV_TASK_GENERATING, change_state, state);
	}
	cJSON_Delete(anchors);
	cJSON_Delete(sb);
	cJSON_Delete(state);
	return rc;
}

/* ---- audio ------------------------------------------------------------------------------------------------------- */

/* Store an audio stem under `stem` + ".flac", compressed losslessly (a WAV of narration or music is
 * 3-5 times larger); a file FFmpeg cannot convert is stored as it came, under `stem` + ".wav".
 * *key is the key used (caller frees). */
static int put_stem(lv_storage *st, const char *stem, const char *path, char **key)
{
	char *flac = lv_asprintf("%s.flac", path);
	int rc;
	*key = NULL;
	if (!flac)
		return LV_ENOMEM;
	if (lv_audio_to_flac(path, flac) == LV_OK) {
		rc = (*key = lv_asprintf("%s.flac", stem)) ? st->ops->put_file(st, *key, flac, "audio/flac") : LV_ENOMEM;
		unlink(flac);
	} else {
		LV_WARN("%s: stored uncompressed: %s", stem, lv_error_last()->message);
		rc = (*key = lv_asprintf("%s.wav", stem)) ? st->ops->put_file(st, *key, path, "audio/wav") : LV_ENOMEM;
	}
	free(flac);
	return rc;
}

/* Make sure the narration (when on) and the music (when on) exist in storage and in the state. */
static int ensure_audio(const lv_stages *sg, held *h, const lv_task_rec *t, cJSON *state)
{
	lv_call_ctx ctx = { &h->cancel, h->id, h->work_dir };
	cJSON *sb = lv_json_parse_text(t->script ? t->script : "{}");
	const cJSON *shot;
	char *dir = lv_asprintf("%s/audio", h->work_dir);
	int64_t t0;
	int rc = LV_OK;
	if (!sb || !dir || lv_mkdir_p(dir, 0)) {
		cJSON_Delete(sb);
		free(dir);
		return lv_error_last()->status ? lv_error_last()->status : LV_ENOMEM;
	}
	if (t->narration) {
		const lv_provider *p = stage_provider(sg, LV_STAGE_IDX_SPEECH);
		cJSON *narr = cJSON_GetObjectItemCaseSensitive(state, "narration");
		if (!narr) {
			narr = cJSON_AddObjectToObject(state, "narration");
		}
		cJSON_ArrayForEach(shot, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
		{
			const char *text = lv_json_get_str(shot, "narration");
			int idx = cJSON_GetObjectItemCaseSensitive(shot, "index")->valueint;
			int secs = cJSON_GetObjectItemCaseSensitive(shot, "duration")->valueint;
			char name[16], *key, *path;
			double seconds = 0;
			int attempt = 0;
			lv_provider_error err;
			if (!text || !*text)
				continue;
			snprintf(name, sizeof(name), "%d", idx);
			if (cJSON_GetObjectItemCaseSensitive(narr, name))
				continue;
			if (!p || !p->speech) {
				lv_fail_task(sg->held, h, LV_TASK_AUDIO, "audio_failed", "no speech provider is configured", -1);
				rc = LV_ECANCELED;
				break;
			}
			/* A regeneration speaks under a key of its own: a failure restores the previous one intact. */
			if (lv_regen_running(t, &attempt))
				key = lv_asprintf("tasks/%s/audio/narration_%03d_r%d", h->id, idx, attempt);
			else
				key = lv_asprintf("tasks/%s/audio/narration_%03d", h->id, idx);
			path = lv_asprintf("%s/narration_%03d.wav", dir, idx);
			memset(&err, 0, sizeof(err));
			if (!key || !path) {
				free(key);
				free(path);
				rc = LV_ENOMEM;
				break;
			}
			if (p->cpu_bound) /* a remote provider only waits on the network */
				lv_cpu_acquire(sg->cpu);
			t0 = lv_mono_ms();
			rc = p->speech->speak(p->self, &ctx, text, t->language, (double)secs - VOICE_LEAD_IN - 0.2, path,
			                      &seconds, &err);
			lv_count_call(sg->e, p, LV_TASK_AUDIO, rc, t0);
			if (p->cpu_bound)
				lv_cpu_release(sg->cpu);
			if (rc == LV_OK) {
				char *stem = key;
				rc = put_stem(sg->e->storage, stem, path, &key);
				free(stem);
			} else if (rc != LV_ECANCELED) {
				char msg[700];
				snprintf(msg, sizeof(msg), "narration for shot %d: %s", idx, err.message);
				lv_fail_task(sg->held, h, LV_TASK_AUDIO, err.code[0] ? err.code : "audio_failed", msg, idx);
				rc = LV_ECANCELED;
			}
			if (rc == LV_OK) {
				cJSON *e = cJSON_CreateObject();
				cJSON_AddStringToObject(e, "key", key);
				cJSON_AddNumberToObject(e, "seconds", seconds);
				cJSON_AddItemToObject(narr, name, e);
			}
			free(key);
			free(path);
			if (rc)
				break;
		}
	}
	if (rc == LV_OK && t->music && !lv_json_get_str(state, "music")) {
		const lv_provider *p = stage_provider(sg, LV_STAGE_IDX_MUSIC);
		char *key = lv_asprintf("tasks/%s/audio/music", h->id), *path = lv_asprintf("%s/music.wav", dir);
		lv_provider_error err;
		memset(&err, 0, sizeof(err));
		if (!p || !p->music) {
			lv_fail_task(sg->held, h, LV_TASK_AUDIO, "audio_failed", "no music provider is configured", -1);
			rc = LV_ECANCELED;
		} else if (!key || !path) {
			rc = LV_ENOMEM;
		} else {
			const char *mood = lv_json_get_str(sb, "mood");
			if (p->cpu_bound)
				lv_cpu_acquire(sg->cpu);
			t0 = lv_mono_ms();
			rc = p->music->compose(p->self, &ctx, (double)t->duration, mood ? mood : "calm",
			                       task_seed(h->id, 7), path, &err);
			lv_count_call(sg->e, p, LV_TASK_AUDIO, rc, t0);
			if (p->cpu_bound)
				lv_cpu_release(sg->cpu);
			if (rc == LV_OK) {
				char *stem = key;
				rc = put_stem(sg->e->storage, stem, path, &key);
				free(stem);
			} else if (rc != LV_ECANCELED) {
				lv_fail_task(sg->held, h, LV_TASK_AUDIO, err.code[0] ? err.code : "audio_failed", err.message, -1);
				rc = LV_ECANCELED;
			}
			if (rc == LV_OK)
				cJSON_AddStringToObject(state, "music", key);
		}
		free(key);
		free(path);
	}
	cJSON_Delete(sb);
	free(dir);
	return rc;
}

static int stage_audio(const lv_stages *sg, held *h, const lv_task_rec *t)
{
	cJSON *state = state_of(t);
	int rc = ensure_audio(sg, h, t, state);
	if (rc == LV_OK)
		rc = lv_advance(sg->held, h, LV_TASK_AUDIO, LV_TASK_COMPOSING, change_state, state);
	cJSON_Delete(state);
	return rc;
}

/* The audio made while the shots are generated: narration and music depend on the storyboard only, so
 * the thread that parked the task with the driver makes them at once (a remote provider's wait, or the
 * CPU the renderer leaves idle between and after its shots) and records them in the task's state.  The
 * audio stage then finds them done.  A provider's refusal fails the task here as it would there (no
 * more shots are paid for a film that cannot be finished); any other error is left for the audio stage
 * to meet again and report. */
typedef struct {
	const lv_stages *sg;
	held *h;
	const cJSON *made;
} keep_audio_ctx;

static int keep_audio_tx(lv_store_tx *tx, void *p)
{
	keep_audio_ctx *c = p;
	static const char *const items[] = { "narration", "music" };
	lv_task_rec t;
	cJSON *state;
	size_t i;
	int rc = lv_own(c->sg->held, tx, c->h->id, -1, &t);
	if (rc)
		return rc;
	if (t.status != LV_TASK_GENERATING && t.status != LV_TASK_AUDIO) {
		lv_task_rec_clear(&t);
		return lv_error_set(LV_ECANCELED, "task %s moved on", c->h->id);
	}
	state = state_of(&t);
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->made, items[i]);
		cJSON *copy = v ? cJSON_Duplicate(v, 1) : NULL;
		if (v && !copy)
			rc = LV_ENOMEM;
		else if (copy)
			json_put(state, items[i], copy);
	}
	if (rc == LV_OK && (rc = set_state(&t, state)) == LV_OK) {
		t.updated_at = lv_now_ms();
		rc = OPS(c->sg)->task_update(tx, &t);
	}
	cJSON_Delete(state);
	lv_task_rec_clear(&t);
	return rc;
}

static void early_audio(const lv_stages *sg, held *h, const lv_task_rec *t)
{
	cJSON *state = state_of(t);
	keep_audio_ctx c = { sg, h, state };
	int rc = ensure_audio(sg, h, t, state);
	if (rc == LV_OK)
		rc = lv_engine_tx(sg->e, 1, keep_audio_tx, &c);
	if (rc && rc != LV_ECANCELED && !h->cancel)
		LV_WARN("task %s: audio made during generation was not kept (the audio stage makes it): %s", h->id,
		        lv_error_last()->message);
	cJSON_Delete(state);
}

/* ---- composing ------------------------------------------------------------------------------------------------------ */

static int compose_progress(void *ctx, double fraction)
{
	held *h = ctx;
	(void)fraction;
	return h->cancel;
}

static const char *const out_names[] = { "final.mp4", "final.srt", "final.vtt", "thumbnail.jpg", "qc.json" };

/* The quality report's limits from config (compose and compose.qc). */
static void qc_targets(lv_qc_targets *tg, const lv_compose_conf *c)
{
	memset(tg, 0, sizeof(*tg));
	tg->loudness_lufs = c->target_lufs;
	tg->loudness_tolerance_lu = c->loudness_tolerance_lu;
	tg->true_peak_dbtp = c->true_peak_dbtp;
	tg->duration_tolerance_frames = c->duration_tolerance_frames;
	tg->ducking_min_db = c->min_ducking_db;
	tg->speech_coverage_min = c->min_speech_coverage;
	tg->black_min_s = c->black_min_s;
	tg->black_max_s = c->max_black_s;
	tg->freeze_noise_db = c->freeze_noise_db;
	tg->freeze_min_s = c->freeze_min_s;
	tg->freeze_max_s = c->max_freeze_s;
	tg->line_chars_max = c->max_line_chars;
	tg->lines_max = c->max_lines;
	tg->cue_min_s = c->min_cue_s;
	tg->cue_max_s = c->max_cue_s;
	tg->cps_max = c->max_chars_per_second;
	tg->cut_slack_s = 0.04;
}

/*
 * Measure the composed film in outdir and write outdir/qc.json.  The report never fails the task: a film
 * that cannot be measured gets {"pass": false, "error": ...}.  Returns the report (NULL: out of memory).
 */
static cJSON *film_qc(const lv_stages *sg, const char *id, const lv_compose_job *job, const lv_segment_rec *segs, size_t n,
                      double ducking_db)
{
	lv_qc_targets tg;
	lv_qc_input in;
	cJSON *qc = NULL;
	double *cuts = n > 1 ? lv_calloc(n - 1, sizeof(*cuts)) : NULL;
	char *film = lv_path_join(job->out_dir, "final.mp4"), *srt = lv_path_join(job->out_dir, "final.srt");
	char *path = lv_path_join(job->out_dir, "qc.json"), *text;
	size_t i;
	int rc;
	qc_targets(&tg, &sg->e->cfg->compose);
	memset(&in, 0, sizeof(in));
	in.film = film;
	in.srt = job->subtitles == LV_SUBS_NONE ? NULL : srt;
	in.subtitle_track = job->subtitles == LV_SUBS_SOFT && job->n_cues > 0;
	for (i = 0; i < n; i++) {
		in.requested_seconds += segs[i].seconds;
		if (i > 0 && cuts)
			cuts[in.n_cuts++] = segs[i].start;
	}
	in.cuts = cuts;
	in.voices = job->voices;
	in.n_voices = job->n_voices;
	in.ducking_db = ducking_db;
	in.targets = &tg;
	rc = film && srt && path && (n < 2 || cuts) ? lv_qc_measure(&qc, &in) : LV_ENOMEM;
	if (rc != LV_OK) {
		LV_WARN("task %s: the quality report failed: %s", id, lv_error_last()->message);
		qc = cJSON_CreateObject();
		cJSON_AddBoolToObject(qc, "pass", 0);
		cJSON_AddStringToObject(qc, "error", lv_error_last()->message);
	} else {
		cJSON *f;
		LV_INFO("task %s: quality report %s", id, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(qc, "pass")) ? "passed" : "failed");
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(qc, "failed"))
		{
			LV_INFO("task %s: qc item %s failed", id, f->valuestring);
		}
	}
	text = qc && path ? lv_json_print(qc) : NULL;
	if (!text || lv_file_write_atomic(path, text, strlen(text), 0644) != LV_OK)
		LV_WARN("task %s: cannot write qc.json", id);
	free(text);
	free(cuts);
	free(film);
	free(srt);
	free(path);
	return qc;
}

static int stage_compose(const lv_stages *sg, held *h, const lv_task_rec *t)
{
	cJSON *state = state_of(t), *sb = lv_json_parse_text(t->script ? t->script : "{}"), *out, *qc = NULL;
	const cJSON *shot, *narr;
	lv_segment_rec *segs = NULL;
	lv_compose_segment *cs = NULL;
	lv_compose_voice *voices = NULL;
	lv_compose_cue *cues = NULL;
	lv_compose_job job;
	lv_compose_stats stats;
	char **paths = NULL, *music = NULL, *outdir = NULL, prefix[160];
	size_t n = 0, i, nv = 0, nc = 0;
	lv_store_tx *tx = NULL;
	int rc, width, height;

	snprintf(prefix, sizeof(prefix), "tasks/%s/out/%d", h->id, t->compose_generation);
	memset(&job, 0, sizeof(job));
	memset(&stats, 0, sizeof(stats));
	if ((rc = ensure_audio(sg, h, t, state)))
		goto out;
	if ((rc = OPS(sg)->begin(sg->e->store, 0, &tx)) == LV_OK) {
		rc = OPS(sg)->segment_list(tx, h->id, &segs, &n);
		OPS(sg)->rollback(tx);
	}
	if (rc)
		goto out;
	{
		char *k = lv_asprintf("%s/final.mp4", prefix);
		int have = 0;
		rc = k ? sg->e->storage->ops->exists(sg->e->storage, k, &have) : LV_ENOMEM;
		free(k);
		if (rc)
			goto out;
		if (have)
			goto stored; /* composed before a restart: deliver what is stored */
	}
	cs = lv_calloc(n, sizeof(*cs));
	/* One local file per segment, then at most one narration file per segment. */
	paths = lv_calloc(2 * n + 1, sizeof(*paths));
	voices = lv_calloc(n, sizeof(*voices));
	cues = lv_calloc(n, sizeof(*cues));
	outdir = lv_asprintf("%s/compose_%d", h->work_dir, t->compose_generation);
	if (!cs || !paths || !voices || !cues || !outdir || lv_mkdir_p(outdir, 0)) {
		rc = lv_error_last()->status ? lv_error_last()->status : LV_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		char *dest = lv_asprintf("%s/seg_%03d.mp4", h->work_dir, segs[i].idx);
		if (segs[i].status != LV_SEG_READY || !segs[i].output) {
			free(dest);
			rc = lv_error_set(LV_EINTERNAL, "shot %d is not ready", segs[i].idx);
			goto out;
		}
		rc = sg->e->storage->ops->get_file(sg->e->storage, segs[i].output, dest, &paths[i]);
		free(dest);
		if (rc)
			goto out;
		cs[i].path = paths[i];
		cs[i].seconds = segs[i].seconds;
	}
	narr = cJSON_GetObjectItemCaseSensitive(state, "narration");
	{
		/* the thumbnail: the middle of the first shot showing the main (first) character */
		const cJSON *main_c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sb, "characters"), 0);
		const char *main_id = lv_json_get_str(main_c, "id");
		cJSON_ArrayForEach(shot, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
		{
			const cJSON *who, *idx_j = cJSON_GetObjectItemCaseSensitive(shot, "index");
			int idx = cJSON_IsNumber(idx_j) ? idx_j->valueint : -1;
			if (!main_id || job.thumbnail_at > 0 || idx < 0 || (size_t)idx >= n)
				continue;
			cJSON_ArrayForEach(who, cJSON_GetObjectItemCaseSensitive(shot, "characters"))
			if (cJSON_IsString(who) && !strcmp(who->valuestring, main_id))
				job.thumbnail_at = segs[idx].start + 0.5 * segs[idx].seconds;
		}
	}
	cJSON_ArrayForEach(shot, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
	{
		int idx = cJSON_GetObjectItemCaseSensitive(shot, "index")->valueint;
		const char *text = lv_json_get_str(shot, "narration");
		char name[16];
		const cJSON *v;
		double start, seconds, end;
		if (!text || !*text || idx < 0 || (size_t)idx >= n)
			continue;
		if (nc >= n) /* a validated storyboard has one entry per shot; never write past the arrays */
			break;
		snprintf(name, sizeof(name), "%d", idx);
		v = cJSON_GetObjectItemCaseSensitive(narr, name);
		start = segs[idx].start + VOICE_LEAD_IN;
		seconds = lv_speech_estimate_seconds(text, t->language);
		if (t->narration && v) {
			const char *vkey = lv_json_get_str(v, "key"), *ext = vkey ? strrchr(vkey, '.') : NULL;
			char *dest = lv_asprintf("%s/voice_%03d%s", h->work_dir, idx, ext ? ext : "");
			rc = sg->e->storage->ops->get_file(sg->e->storage, lv_json_get_str(v, "key"), dest, &paths[n + nv]);
			free(dest);
			if (rc)
				goto out;
			voices[nv].path = paths[n + nv];
			voices[nv].start = start;
			nv++;
			seconds = cJSON_GetObjectItemCaseSensitive(v, "seconds")->valuedouble;
		}
		/* Subtitles follow the narration's timing (estimated when narration is off). */
		end = start + (seconds < 1.0 ? 1.0 : seconds);
		if (end > segs[idx].start + segs[idx].seconds - 0.05)
			end = segs[idx].start + segs[idx].seconds - 0.05;
		cues[nc].start = start;
		cues[nc].end = end;
		cues[nc].text = text;
		nc++;
	}
	if (t->music && lv_json_get_str(state, "music")) {
		const char *mext = strrchr(lv_json_get_str(state, "music"), '.');
		char *dest = lv_asprintf("%s/music%s", h->work_dir, mext ? mext : "");
		rc = sg->e->storage->ops->get_file(sg->e->storage, lv_json_get_str(state, "music"), dest, &music);
		free(dest);
		if (rc)
			goto out;
	}
	lv_task_size(t, &width, &height);
	job.segments = cs;
	job.n_segments = n;
	job.width = width;
	job.height = height;
	job.voices = voices;
	job.n_voices = nv;
	job.music_path = music;
	job.segment_audio_db = sg->e->cfg->compose.segment_audio_db;
	job.cues = cues;
	job.n_cues = nc;
	job.subtitles = t->subtitles == LV_SUBTITLES_BURN ? LV_SUBS_BURN
	                : t->subtitles == LV_SUBTITLES_NONE ? LV_SUBS_NONE
	                                                    : LV_SUBS_SOFT;
	job.language = t->language;
	job.font_file = NULL; /* fontconfig picks the family for the language and the text */
	job.out_dir = outdir;
	job.target_lufs = sg->e->cfg->compose.target_lufs;
	job.true_peak_db = sg->e->cfg->compose.true_peak_dbtp;
	job.progress = compose_progress;
	job.progress_ctx = h;
	lv_cpu_acquire(sg->cpu);
	rc = lv_compose_run(&job, &stats);
	lv_cpu_release(sg->cpu);
	if (rc == LV_ECANCELED || h->cancel) {
		rc = LV_ECANCELED;
		goto out;
	}
	if (rc) {
		char msg[700];
		snprintf(msg, sizeof(msg), "composition failed: %s", lv_error_last()->message);
		lv_fail_task(sg->held, h, LV_TASK_COMPOSING, "compose_failed", msg, -1);
		rc = LV_ECANCELED;
		goto out;
	}
	LV_INFO("task %s: composed %.2f s (%d segments copied, %d re-encoded)", h->id, stats.duration,
	        stats.copied_segments, stats.reencoded_segments);
	lv_cpu_acquire(sg->cpu);
	qc = film_qc(sg, h->id, &job, segs, n, stats.ducking_db);
	lv_cpu_release(sg->cpu);
	if (!qc) {
		rc = lv_error_nomem();
		goto out;
	}
	json_put(state, "qc", qc);
	/* Store the results; final.mp4 last, so its presence means all of them are there. */
	for (i = sizeof(out_names) / sizeof(out_names[0]); i-- > 0;) {
		char *src = lv_path_join(outdir, out_names[i]), *key = lv_asprintf("%s/%s", prefix, out_names[i]);
		if (src && key && lv_path_exists(src))
			rc = sg->e->storage->ops->put_file(sg->e->storage, key, src, lv_media_content_type(out_names[i]));
		free(src);
		free(key);
		if (rc)
			goto out;
	}
stored:
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(state, "qc"))) {
		/* composed before a restart: the report stored beside the film */
		char *k = lv_asprintf("%s/qc.json", prefix), *dest = lv_asprintf("%s/qc.json", h->work_dir), *path = NULL,
		     *text = NULL;
		size_t len = 0;
		int have = 0;
		if (k && dest && sg->e->storage->ops->exists(sg->e->storage, k, &have) == LV_OK && have &&
		    lv_mkdir_p(h->work_dir, 0) == LV_OK &&
		    sg->e->storage->ops->get_file(sg->e->storage, k, dest, &path) == LV_OK &&
		    lv_file_read(&text, &len, path) == LV_OK && (qc = lv_json_parse_n(text, len)) != NULL)
			json_put(state, "qc", qc);
		free(k);
		free(dest);
		free(path);
		free(text);
	}
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "generation", t->compose_generation);
	cJSON_AddStringToObject(out, "prefix", prefix);
	json_put(state, "output", out);
	rc = lv_advance(sg->held, h, LV_TASK_COMPOSING, LV_TASK_DELIVERING, change_state, state);
out:
	for (i = 0; paths && i < n + nv; i++)
		free(paths[i]);
	free(paths);
	free(cs);
	free(voices);
	free(cues);
	free(music);
	free(outdir);
	lv_segment_recs_free(segs, n);
	cJSON_Delete(sb);
	cJSON_Delete(state);
	return rc;
}

/* ---- delivering ---------------------------------------------------------------------------------------------------- */

typedef struct {
	const lv_stages *sg;
	const char *id;
	cJSON *state;
	char *result, *subs, *thumb;
} deliver_ctx;

static int deliver_tx(lv_store_tx *tx, void *p)
{
	deliver_ctx *c = p;
	lv_task_rec t;
	lv_segment_rec *segs = NULL;
	size_t n = 0;
	int rc = lv_own(c->sg->held, tx, c->id, LV_TASK_DELIVERING, &t);
	if (rc)
		return rc;
	lv_regen_succeeded(c->state);
	if ((rc = set_state(&t, c->state)) || (rc = lv_strset(&t.result_url, c->result)) ||
	    (rc = lv_strset(&t.subtitles_url, c->subs)) || (rc = lv_strset(&t.thumbnail_url, c->thumb)) ||
	    (rc = OPS(c->sg)->segment_list(tx, c->id, &segs, &n)))
		goto out;
	rc = lv_task_finish(c->sg->e, tx, &t, LV_TASK_COMPLETED, lv_segments_ready_price(segs, n), lv_now_ms());
out:
	lv_segment_recs_free(segs, n);
	lv_task_rec_clear(&t);
	return rc;
}

static int stage_deliver(const lv_stages *sg, held *h, const lv_task_rec *t)
{
	cJSON *state = state_of(t), *d = cJSON_GetObjectItemCaseSensitive(state, "delivery");
	const char *prefix = lv_json_get_str(cJSON_GetObjectItemCaseSensitive(state, "output"), "prefix");
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(d, "generation");
	const char *token = lv_json_get_str(d, "token");
	lv_storage *st = sg->e->storage;
	deliver_ctx c;
	char media[160], fresh[25];
	size_t i;
	int rc = LV_OK;
	memset(&c, 0, sizeof(c));
	if (!prefix) {
		cJSON_Delete(state);
		lv_fail_task(sg->held, h, LV_TASK_DELIVERING, "delivery_failed", "there is no composed film to deliver", -1);
		return LV_ECANCELED;
	}
	/* A new token per composition (a re-compose publishes under a new URL), chosen once and stored first. */
	if (!token || !cJSON_IsNumber(gen) || gen->valueint != t->compose_generation) {
		cJSON *nd = cJSON_CreateObject();
		if (lv_random_base62(fresh, 24)) {
			cJSON_Delete(nd);
			cJSON_Delete(state);
			return LV_EINTERNAL;
		}
		cJSON_AddNumberToObject(nd, "generation", t->compose_generation);
		cJSON_AddStringToObject(nd, "token", fresh);
		json_put(state, "delivery", nd);
		if ((rc = lv_advance(sg->held, h, LV_TASK_DELIVERING, LV_TASK_DELIVERING, change_state, state))) {
			cJSON_Delete(state);
			return rc;
		}
		token = fresh;
	}
	snprintf(media, sizeof(media), "media/%s/%s", h->id, token);
	for (i = 0; i < sizeof(out_names) / sizeof(out_names[0]) && rc == LV_OK; i++) {
		char *src_key = lv_asprintf("%s/%s", prefix, out_names[i]);
		char *dst_key = lv_asprintf("%s/%s", media, out_names[i]);
		int have_src = 0, have_dst = 0;
		if (!src_key || !dst_key) {
			rc = LV_ENOMEM;
		} else if ((rc = st->ops->exists(st, src_key, &have_src)) || (rc = st->ops->exists(st, dst_key, &have_dst))) {
			/* storage cannot tell: never taken for "absent" */
		} else if (have_src && !have_dst) {
			/* Published once: the composed file moves to its URL (a rename, or a copy inside the bucket
			 * and a delete), so the film is never stored twice.  A restart after the move finds it there. */
			if ((rc = st->ops->move(st, src_key, dst_key, lv_media_content_type(out_names[i]))) == LV_OK)
				have_dst = 1;
		}
		if (rc == LV_OK && have_dst) {
			char **slot = i == 0 ? &c.result : i == 2 ? &c.subs : i == 3 ? &c.thumb : NULL;
			if (slot && !(i == 2 && t->subtitles == LV_SUBTITLES_NONE))
				rc = st->ops->url(st, dst_key, slot);
		}
		free(src_key);
		free(dst_key);
	}
	if (rc == LV_OK && !c.result)
		rc = lv_error_set(LV_EINTERNAL, "the composed film is missing from storage");
	if (rc == LV_OK) {
		c.sg = sg;
		c.id = h->id;
		c.state = state;
		rc = lv_engine_tx(sg->e, 1, deliver_tx, &c);
		if (rc == LV_OK)
			lv_stage_ended(sg->e, h, LV_TASK_DELIVERING, LV_TASK_COMPLETED);
		if (rc == LV_OK)
			LV_INFO("task %s: completed, %s", h->id, c.result);
		if (rc == LV_OK && !sg->e->cfg->keep_intermediates) {
			/* storage.keep_intermediates false: the working files go as soon as the film is out (a
			 * failure here is only logged: lvctl gc finishes what is marked). */
			int done = 0;
			if (lv_retention_apply(sg->e, h->id, 0, 1, &done) != LV_OK)
				LV_WARN("task %s: removing its working files failed: %s", h->id, lv_error_last()->message);
		}
		else if (rc == LV_ECANCELED)
			h->cancel = 1;
	} else if (rc != LV_ECANCELED) {
		char msg[600];
		snprintf(msg, sizeof(msg), "publishing the film failed: %s", lv_error_last()->message);
		lv_fail_task(sg->held, h, LV_TASK_DELIVERING, "delivery_failed", msg, -1);
		rc = LV_ECANCELED;
	}
	free(c.result);
	free(c.subs);
	free(c.thumb);
	cJSON_Delete(state);
	return rc;
}

/* ---- generating ------------------------------------------------------------------------------------------------- */

/* Hand the task's segments to the driver (1: parked there).  A regeneration's new text is checked first. */
static int stage_generating(const lv_stages *sg, held *h, const lv_task_rec *t)
{
	cJSON *sb, *state;
	const cJSON *shots;
	int rc = LV_OK;
	if (!lv_providers_get(sg->e->providers, t->provider) ||
	    !lv_providers_get(sg->e->providers, t->provider)->video) {
		lv_fail_task(sg->held, h, LV_TASK_GENERATING, "internal_error",
		             "the task's video provider is no longer configured", -1);
		return LV_EINVALID;
	}
	sb = t->script ? lv_json_parse_text(t->script) : NULL;
	state = t->state ? lv_json_parse_text(t->state) : NULL;
	shots = cJSON_GetObjectItemCaseSensitive(sb, "shots");
	/* A regeneration's new text is checked like the storyboard was, before anything is generated:
	 * a flag abandons the regeneration (the previous film stays, the shot is refunded). */
	{
		const cJSON *regen = cJSON_GetObjectItemCaseSensitive(state, "regen");
		const cJSON *ri = cJSON_GetObjectItemCaseSensitive(regen, "index"), *s;
		cJSON_ArrayForEach(s, shots)
		{
			const cJSON *si = cJSON_GetObjectItemCaseSensitive(s, "index");
			const char *texts[2];
			int shot_of[2];
			size_t k = 0;
			if (!cJSON_IsNumber(ri) || !cJSON_IsNumber(si) || si->valueint != ri->valueint)
				continue;
			if (lv_json_get_str(s, "visual"))
				shot_of[k] = si->valueint, texts[k++] = lv_json_get_str(s, "visual");
			if (lv_json_get_str(s, "narration") && *lv_json_get_str(s, "narration"))
				shot_of[k] = si->valueint, texts[k++] = lv_json_get_str(s, "narration");
			if (k)
				rc = moderate_texts(sg, h, LV_TASK_GENERATING, texts, shot_of, k);
			break;
		}
	}
	cJSON_Delete(sb);
	cJSON_Delete(state);
	return rc == LV_OK ? lv_generation_start(sg->driver, h, t) : rc;
}

/* ---- the loop ---------------------------------------------------------------------------------------------------------- */

static int read_task(const lv_stages *sg, const char *id, lv_task_rec *t)
{
	lv_store_tx *tx;
	int rc = OPS(sg)->begin(sg->e->store, 0, &tx);
	if (rc)
		return rc;
	rc = OPS(sg)->task_get(tx, id, 0, t);
	OPS(sg)->rollback(tx);
	return rc;
}

void lv_run_task(const lv_stages *sg, held *h)
{
	for (;;) {
		lv_task_rec t;
		int rc, status;
		if (h->cancel || *sg->stopping)
			return;
		if (read_task(sg, h->id, &t))
			return;
		if (!t.lease_owner || strcmp(t.lease_owner, sg->held->owner) != 0 ||
		    lv_task_status_is_terminal((lv_task_status)t.status)) {
			lv_task_rec_clear(&t);
			return;
		}
		status = t.status;
		lv_stage_seen(h, status);
		switch (status) {
		case LV_TASK_QUEUED:
			rc = lv_advance(sg->held, h, LV_TASK_QUEUED, LV_TASK_SCRIPTING, NULL, NULL);
			break;
		case LV_TASK_SCRIPTING:
			rc = stage_script(sg, h, &t);
			break;
		case LV_TASK_MODERATION:
			rc = stage_moderation(sg, h, &t);
			break;
		case LV_TASK_ANCHORING:
			rc = stage_anchor(sg, h, &t);
			break;
		case LV_TASK_GENERATING:
			lv_held_busy(h);
			rc = stage_generating(sg, h, &t);
			if (rc == 1) { /* parked: the driver carries it on, this thread makes the audio meanwhile */
				early_audio(sg, h, &t);
				lv_task_rec_clear(&t);
				if (lv_held_idle(h)) /* the shots are done already: on to the audio stage */
					continue;
				return;
			}
			lv_held_idle(h); /* not parked: nothing can have been handed back */
			if (rc == LV_OK) /* every shot was already ready */
				rc = lv_advance(sg->held, h, LV_TASK_GENERATING, LV_TASK_AUDIO, NULL, NULL);
			break;
		case LV_TASK_AUDIO:
			rc = stage_audio(sg, h, &t);
			break;
		case LV_TASK_COMPOSING:
			rc = stage_compose(sg, h, &t);
			break;
		case LV_TASK_DELIVERING:
			rc = stage_deliver(sg, h, &t);
			break;
		case LV_TASK_AWAITING_REVIEW:
			rc = stage_review(sg, h);
			break;
		default:
			rc = LV_ECANCELED;
		}
		lv_task_rec_clear(&t);
		if (rc == LV_ECANCELED || h->cancel || *sg->stopping)
			return;
		if (rc) {
			char msg[700];
			snprintf(msg, sizeof(msg), "unexpected error in %s: %s", lv_task_status_name((lv_task_status)status),
			         lv_error_last()->message);
			LV_ERROR("task %s: %s", h->id, msg);
			lv_fail_task(sg->held, h, status, "internal_error", "an internal error stopped the task; it was refunded "
			                                             "for everything not generated", -1);
			return;
		}
	}
}
