/*
 * Creative control: storyboard review (edit, approve) and regenerating one shot.
 *
 * The review state and the regeneration bookkeeping live in the task's `state` JSON:
 *   "review": true            the task stops in awaiting_review after moderation
 *   "approved": true          the storyboard was approved (moderation then goes on to anchoring)
 *   "review_deadline": ms     when an unapproved review times out
 *   "regen": {...}            the regeneration running now: what to restore if it fails
 *   "regenerations": [...]    every attempt: {index, status, error, cost, created_at}
 *   "seeds": {"3": n}         per-shot seeds chosen by regenerations
 * A task in awaiting_review has no lease owner and lease_until = its review deadline, so no worker
 * claims it before the deadline (and one claims it to time it out after).
 */
#include "core/creative.h"
#include "core/keys.h"
#include "core/request.h"
#include "core/retention.h"
#include "core/task.h"
#include "model/storyboard.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS(e) ((e)->store->ops)
#define TITLE_MAX 200
#define TEXT_MAX 2000
#define CAMERA_MAX 200

/* ---- small JSON helpers ------------------------------------------------------------------------------ */

static void put(cJSON *obj, const char *name, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, name))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, name, item);
	else
		cJSON_AddItemToObject(obj, name, item);
}

static cJSON *parse_state(const lv_task_rec *t)
{
	cJSON *s = t->state ? cJSON_Parse(t->state) : NULL;
	if (s && !cJSON_IsObject(s)) {
		cJSON_Delete(s);
		s = NULL;
	}
	return s ? s : cJSON_CreateObject();
}

static int store_json(char **dst, const cJSON *o)
{
	char *s = lv_json_print(o);
	if (!s)
		return LV_ENOMEM;
	free(*dst);
	*dst = s;
	return LV_OK;
}

/* 1 when the JSON object has a member named like an earlier one. */
static const cJSON *repeated_member(const cJSON *obj)
{
	const cJSON *it, *other;
	cJSON_ArrayForEach(it, obj)
	{
		for (other = obj->child; other != it; other = other->next)
			if (other->string && it->string && !strcmp(other->string, it->string))
				return it;
	}
	return NULL;
}

int lv_creative_parse_body(cJSON **out, const char *body, size_t len)
{
	size_t i;
	*out = NULL;
	if (!body)
		return LV_OK;
	for (i = 0; i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'); i++)
		;
	if (i == len)
		return LV_OK;
	if (lv_json_parse(out, body, len, "body"))
		return LV_EINVALID;
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return lv_error_set(LV_EINVALID, "body: must be a JSON object");
	}
	return LV_OK;
}

static int text_field(const cJSON *v, const char *name, size_t max, int allow_empty)
{
	long chars;
	if (!cJSON_IsString(v))
		return lv_error_set(LV_EINVALID, "%s: must be a string", name);
	chars = lv_utf8_length(v->valuestring, strlen(v->valuestring));
	if (chars < 0)
		return lv_error_set(LV_EINVALID, "%s: must be valid UTF-8", name);
	if ((!allow_empty && chars == 0) || (size_t)chars > max)
		return lv_error_set(LV_EINVALID, "%s: must be %s%zu characters", name,
		                    allow_empty ? "at most " : "a string of 1 to ", max);
	return LV_OK;
}

static int narration_fits(const char *name, const char *text, int seconds, const char *language, int idx)
{
	double need = lv_speech_estimate_seconds(text, language), budget = lv_narration_budget(seconds);
	if (need > budget)
		return lv_error_set(LV_EINVALID,
		                    "%s: takes about %.1f s to speak but shot %d lasts %d s (at most %.1f s of speech); "
		                    "shorten it",
		                    name, need, idx, seconds, budget);
	return LV_OK;
}

/* The storyboard's shot with this index, or NULL. */
static cJSON *shot_at(cJSON *sb, int idx)
{
	cJSON *s;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
	{
		const cJSON *i = cJSON_GetObjectItemCaseSensitive(s, "index");
		if (cJSON_IsNumber(i) && (int)i->valuedouble == idx)
			return s;
	}
	return NULL;
}

static int shot_seconds(const cJSON *shot)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(shot, "duration");
	return cJSON_IsNumber(d) ? (int)d->valuedouble : 0;
}

/* The id of the storyboard character called `name`, or NULL. */
static const char *character_id(const cJSON *sb, const char *name)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(sb, "characters"))
	{
		const char *n = lv_json_get_str(c, "name");
		if (n && !strcmp(n, name))
			return lv_json_get_str(c, "id");
	}
	return NULL;
}

/* ---- storyboard edits --------------------------------------------------------------------------------- */

static int edit_characters(cJSON *sb, const cJSON *list)
{
	const cJSON *c;
	int i = 0;
	char name[64];
	if (!cJSON_IsArray(list))
		return lv_error_set(LV_EINVALID, "characters: must be a list of {\"name\", \"description\"}");
	cJSON_ArrayForEach(c, list)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name"), *d, *it, *prev;
		cJSON *target = NULL, *sc;
		int k = 0;
		if (!cJSON_IsObject(c))
			return lv_error_set(LV_EINVALID, "characters[%d]: must be an object {\"name\", \"description\"}", i);
		if ((it = repeated_member(c)))
			return lv_error_set(LV_EINVALID, "characters[%d].%s: given more than once", i, it->string);
		cJSON_ArrayForEach(it, c)
		{
			if (strcmp(it->string, "name") && strcmp(it->string, "description"))
				return lv_error_set(LV_EINVALID, "characters[%d].%s: unknown field (allowed: name, description)",
				                    i, it->string);
		}
		if (!cJSON_IsString(n))
			return lv_error_set(LV_EINVALID, "characters[%d].name: required, the name of a storyboard character",
			                    i);
		cJSON_ArrayForEach(prev, list)
		{
			if (prev == c)
				break;
			if (!strcmp(lv_json_get_str(prev, "name") ? lv_json_get_str(prev, "name") : "", n->valuestring))
				return lv_error_set(LV_EINVALID, "characters[%d].name: '%s' is given more than once", i,
				                    n->valuestring);
			k++;
		}
		cJSON_ArrayForEach(sc, cJSON_GetObjectItemCaseSensitive(sb, "characters"))
		{
			if (lv_json_get_str(sc, "name") && !strcmp(lv_json_get_str(sc, "name"), n->valuestring))
				target = sc;
		}
		if (!target)
			return lv_error_set(LV_EINVALID, "characters[%d].name: the storyboard has no character named '%s'", i,
			                    n->valuestring);
		d = cJSON_GetObjectItemCaseSensitive(c, "description");
		if (d) {
			snprintf(name, sizeof(name), "characters[%d].description", i);
			if (text_field(d, name, TEXT_MAX, 0))
				return LV_EINVALID;
			put(target, "description", cJSON_CreateString(d->valuestring));
		}
		i++;
	}
	return LV_OK;
}

static int edit_shots(cJSON *sb, const cJSON *list, const char *language)
{
	const cJSON *s;
	int i = 0, n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sb, "shots"));
	char name[64];
	unsigned char *seen = lv_calloc((size_t)n + 1, 1);
	int rc = LV_OK;
	if (!seen)
		return LV_ENOMEM;
	if (!cJSON_IsArray(list)) {
		free(seen);
		return lv_error_set(LV_EINVALID, "shots: must be a list of {\"index\", ...} edits");
	}
	cJSON_ArrayForEach(s, list)
	{
		const cJSON *idx = cJSON_GetObjectItemCaseSensitive(s, "index"), *it;
		cJSON *shot;
		int k;
		if (!cJSON_IsObject(s)) {
			rc = lv_error_set(LV_EINVALID, "shots[%d]: must be an object with an \"index\"", i);
			break;
		}
		if ((it = repeated_member(s))) {
			rc = lv_error_set(LV_EINVALID, "shots[%d].%s: given more than once", i, it->string);
			break;
		}
		if (!cJSON_IsNumber(idx) || idx->valuedouble != floor(idx->valuedouble) || idx->valuedouble < 0 ||
		    idx->valuedouble >= n) {
			rc = lv_error_set(LV_EINVALID, "shots[%d].index: must be an integer from 0 to %d (the storyboard "
			                               "has %d shots)", i, n - 1, n);
			break;
		}
		k = (int)idx->valuedouble;
		if (seen[k]) {
			rc = lv_error_set(LV_EINVALID, "shots[%d].index: shot %d is edited more than once", i, k);
			break;
		}
		seen[k] = 1;
		shot = shot_at(sb, k);
		if (!shot) {
			rc = lv_error_set(LV_EINTERNAL, "the storyboard has no shot %d", k);
			break;
		}
		cJSON_ArrayForEach(it, s)
		{
			snprintf(name, sizeof(name), "shots[%d].%s", i, it->string);
			if (!strcmp(it->string, "index"))
				continue;
			if (!strcmp(it->string, "duration")) {
				rc = lv_error_set(LV_EINVALID, "%s: is fixed by the plan (and the bill) and cannot be edited",
				                  name);
			} else if (!strcmp(it->string, "visual")) {
				if (!(rc = text_field(it, name, TEXT_MAX, 0)))
					put(shot, "visual", cJSON_CreateString(it->valuestring));
			} else if (!strcmp(it->string, "camera")) {
				if (!(rc = text_field(it, name, CAMERA_MAX, 0)))
					put(shot, "camera", cJSON_CreateString(it->valuestring));
			} else if (!strcmp(it->string, "narration")) {
				if (!(rc = text_field(it, name, TEXT_MAX, 1)) &&
				    !(rc = narration_fits(name, it->valuestring, shot_seconds(shot), language, k)))
					put(shot, "narration", cJSON_CreateString(it->valuestring));
			} else if (!strcmp(it->string, "characters")) {
				const cJSON *c;
				cJSON *ids = cJSON_CreateArray();
				const cJSON *names = cJSON_IsArray(it) ? it : NULL;
				int j = 0;
				if (!cJSON_IsArray(it))
					rc = lv_error_set(LV_EINVALID, "%s: must be a list of character names", name);
				cJSON_ArrayForEach(c, names)
				{
					const char *cid = cJSON_IsString(c) ? character_id(sb, c->valuestring) : NULL;
					if (!cid) {
						rc = lv_error_set(LV_EINVALID, "%s[%d]: must name a storyboard character%s%s%s", name, j,
						                  cJSON_IsString(c) ? " ('" : "", cJSON_IsString(c) ? c->valuestring : "",
						                  cJSON_IsString(c) ? "' is not one)" : "");
						break;
					}
					cJSON_AddItemToArray(ids, cJSON_CreateString(cid));
					j++;
				}
				if (rc == LV_OK)
					put(shot, "characters", ids);
				else
					cJSON_Delete(ids);
			} else {
				rc = lv_error_set(LV_EINVALID,
				                  "%s: unknown field (allowed: index, visual, camera, narration, characters)", name);
			}
			if (rc)
				break;
		}
		if (rc)
			break;
		i++;
	}
	free(seen);
	return rc;
}

int lv_storyboard_apply_edit(cJSON *sb, const cJSON *body, const char *language)
{
	const cJSON *it;
	int rc;
	if ((it = repeated_member(body)))
		return lv_error_set(LV_EINVALID, "%s: given more than once", it->string);
	cJSON_ArrayForEach(it, body)
	{
		if (strcmp(it->string, "title") && strcmp(it->string, "characters") && strcmp(it->string, "shots"))
			return lv_error_set(LV_EINVALID, "%s: unknown field (allowed: title, characters, shots)", it->string);
	}
	if ((it = cJSON_GetObjectItemCaseSensitive(body, "title"))) {
		if (text_field(it, "title", TITLE_MAX, 0))
			return LV_EINVALID;
		put(sb, "title", cJSON_CreateString(it->valuestring));
	}
	if ((it = cJSON_GetObjectItemCaseSensitive(body, "characters")) && (rc = edit_characters(sb, it)))
		return rc;
	if ((it = cJSON_GetObjectItemCaseSensitive(body, "shots")) && (rc = edit_shots(sb, it, language)))
		return rc;
	return LV_OK;
}

typedef struct {
	lv_engine *e;
	const char *key_id;
	const char *task_id;
	const char *body;
	size_t body_len;
	lv_task_rec t;
	lv_segment_rec *segs;
	size_t n;
	/* regenerate */
	int index;
	const lv_regenerate_request *regen;
	cJSON *parsed; /* the regenerate body; the request's strings point into it */
} creative_ctx;

static int not_reviewable(const lv_task_rec *t)
{
	return lv_error_set(LV_ENOTREVIEWABLE, "task %s is %s: its storyboard can be edited and approved only while "
	                                       "it is awaiting_review (create it with \"review\": true)",
	                    t->id, lv_task_status_name((lv_task_status)t->status));
}

static int edit_tx(lv_store_tx *tx, void *p)
{
	creative_ctx *c = p;
	cJSON *body = NULL, *sb = NULL;
	int rc = lv_task_load_owned(c->e, tx, c->key_id, c->task_id, &c->t, &c->segs, &c->n);
	if (rc)
		return rc;
	if (c->t.status != LV_TASK_AWAITING_REVIEW)
		return not_reviewable(&c->t);
	if ((rc = lv_creative_parse_body(&body, c->body, c->body_len)))
		return rc;
	if (!(sb = c->t.script ? cJSON_Parse(c->t.script) : NULL)) {
		cJSON_Delete(body);
		return lv_error_set(LV_EINTERNAL, "task %s has no readable storyboard", c->t.id);
	}
	if (body && (rc = lv_storyboard_apply_edit(sb, body, c->t.language)) == LV_OK && (rc = store_json(&c->t.script, sb)) == LV_OK) {
		c->t.updated_at = lv_now_ms();
		rc = OPS(c->e)->task_update(tx, &c->t);
	}
	cJSON_Delete(body);
	cJSON_Delete(sb);
	return rc;
}

static int run(lv_task **out, lv_engine *e, const lv_key *key, const char *task_id, lv_tx_fn fn, creative_ctx *c,
               const char *what)
{
	int rc;
	if ((rc = lv_task_check_args(out, e, key, what)))
		return rc;
	*out = NULL;
	if ((rc = lv_task_check_id(task_id)))
		return rc;
	c->e = e;
	c->key_id = key->rec.id;
	c->task_id = task_id;
	if ((rc = lv_engine_tx(e, 1, fn, c))) {
		lv_task_rec_clear(&c->t);
		lv_segment_recs_free(c->segs, c->n);
		return rc;
	}
	return (*out = lv_task_wrap(e, &c->t, c->segs, c->n)) ? LV_OK : LV_ENOMEM;
}

int lv_task_storyboard_edit_json(lv_task **out, lv_engine *e, const lv_key *key, const char *task_id,
                                 const char *body, size_t body_len)
{
	creative_ctx c;
	int rc;
	memset(&c, 0, sizeof(c));
	c.body = body;
	c.body_len = body_len;
	if ((rc = run(out, e, key, task_id, edit_tx, &c, "lv_task_storyboard_edit_json")) == LV_OK)
		LV_INFO("task %s: storyboard edited", task_id);
	return rc;
}

/* ---- approve -------------------------------------------------------------------------------------------- */

static int approve_tx(lv_store_tx *tx, void *p)
{
	creative_ctx *c = p;
	cJSON *body = NULL, *state;
	int rc = lv_task_load_owned(c->e, tx, c->key_id, c->task_id, &c->t, &c->segs, &c->n);
	if (rc)
		return rc;
	if (c->t.status != LV_TASK_AWAITING_REVIEW)
		return not_reviewable(&c->t);
	if ((rc = lv_creative_parse_body(&body, c->body, c->body_len)))
		return rc;
	if (body && body->child) {
		rc = lv_error_set(LV_EINVALID, "%s: unknown field (approve takes no fields: send no body or {})",
		                  body->child->string);
		cJSON_Delete(body);
		return rc;
	}
	cJSON_Delete(body);
	if (!(state = parse_state(&c->t)))
		return LV_ENOMEM;
	put(state, "approved", cJSON_CreateTrue());
	cJSON_DeleteItemFromObjectCaseSensitive(state, "review_deadline");
	rc = store_json(&c->t.state, state);
	cJSON_Delete(state);
	if (rc)
		return rc;
	/* Moderation checks the edited text again; progress holds where review left it. */
	c->t.status = LV_TASK_MODERATION;
	c->t.updated_at = lv_now_ms();
	free(c->t.lease_owner);
	c->t.lease_owner = NULL;
	c->t.lease_until = 0;
	return OPS(c->e)->task_update(tx, &c->t);
}

int lv_task_approve(lv_task **out, lv_engine *e, const lv_key *key, const char *task_id, const char *body,
                    size_t body_len)
{
	creative_ctx c;
	int rc;
	memset(&c, 0, sizeof(c));
	c.body = body;
	c.body_len = body_len;
	if ((rc = run(out, e, key, task_id, approve_tx, &c, "lv_task_approve")) == LV_OK)
		LV_INFO("task %s: storyboard approved", task_id);
	return rc;
}

/* ---- review in the pipeline ---------------------------------------------------------------------------------- */

int lv_review_wanted(const lv_task_rec *t)
{
	cJSON *s = parse_state(t);
	int want = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "review")) &&
	           !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "approved"));
	cJSON_Delete(s);
	return want;
}

int lv_review_enter(lv_engine *e, lv_task_rec *t, int64_t now)
{
	int64_t deadline = now + (int64_t)llround(e->cfg->review_timeout_hours * 3600.0 * 1000.0);
	cJSON *s = parse_state(t);
	int rc;
	if (!s)
		return LV_ENOMEM;
	put(s, "review_deadline", cJSON_CreateNumber((double)deadline));
	rc = store_json(&t->state, s);
	cJSON_Delete(s);
	/* No owner, and not claimable before the deadline. */
	free(t->lease_owner);
	t->lease_owner = NULL;
	t->lease_until = deadline;
	return rc;
}

int lv_review_expire(lv_engine *e, lv_store_tx *tx, lv_task_rec *t, int64_t now)
{
	cJSON *s = parse_state(t);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(s, "review_deadline");
	int64_t deadline = cJSON_IsNumber(d) ? (int64_t)d->valuedouble : 0;
	int rc;
	cJSON_Delete(s);
	if (deadline > now) { /* claimed early (e.g. its lease was released): put it back to wait */
		free(t->lease_owner);
		t->lease_owner = NULL;
		t->lease_until = deadline;
		return OPS(e)->task_update(tx, t);
	}
	if ((rc = lv_strset(&t->error_code, "review_timeout")) ||
	    (rc = lv_strset(&t->error_message, "the storyboard was not approved in time; the task was canceled and "
	                                       "refunded in full")))
		return rc;
	t->error_stage = LV_TASK_AWAITING_REVIEW;
	t->error_shot = -1;
	return lv_task_finish(e, tx, t, LV_TASK_CANCELED, 0, now);
}

/* ---- regenerating one shot ------------------------------------------------------------------------------------ */

int lv_regen_request_from_json(lv_regenerate_request *r, const cJSON *body)
{
	const cJSON *it;
	if ((it = repeated_member(body)))
		return lv_error_set(LV_EINVALID, "%s: given more than once", it->string);
	cJSON_ArrayForEach(it, body)
	{
		if (!strcmp(it->string, "visual") || !strcmp(it->string, "camera") || !strcmp(it->string, "narration")) {
			if (cJSON_IsNull(it))
				continue;
			if (!cJSON_IsString(it))
				return lv_error_set(LV_EINVALID, "%s: must be a string", it->string);
			if (!strcmp(it->string, "visual"))
				r->visual = it->valuestring;
			else if (!strcmp(it->string, "camera"))
				r->camera = it->valuestring;
			else
				r->narration = it->valuestring;
		} else if (!strcmp(it->string, "seed")) {
			if (cJSON_IsNull(it))
				continue;
			if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || it->valuedouble < 0 ||
			    it->valuedouble > 2147483647.0)
				return lv_error_set(LV_EINVALID, "seed: must be an integer from 0 to 2147483647");
			r->seed = (long long)it->valuedouble;
		} else {
			return lv_error_set(LV_EINVALID, "%s: unknown field (allowed: visual, camera, narration, seed)",
			                    it->string);
		}
	}
	return LV_OK;
}

static cJSON *error_object(const char *code, const char *message)
{
	cJSON *e;
	if (!code)
		return cJSON_CreateNull();
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message ? message : "");
	return e;
}

static cJSON *segment_json(const lv_segment_rec *s)
{
	cJSON *o = cJSON_CreateObject();
	lv_json_add_str(o, "output", s->output);
	lv_json_add_str(o, "job_id", s->job_id);
	lv_json_add_str(o, "job_state", s->job_state);
	cJSON_AddNumberToObject(o, "attempts", s->attempts);
	return o;
}

static int regenerate_tx(lv_store_tx *tx, void *p)
{
	creative_ctx *c = p;
	lv_task_rec *t = &c->t;
	lv_regenerate_request req = *c->regen;
	lv_segment_rec *seg = NULL;
	cJSON *sb = NULL, *state = NULL, *shot, *regen, *list, *entry, *narr;
	lv_key_rec key;
	int64_t now = lv_now_ms();
	char name[16], ts[21];
	size_t i, missing = 0;
	int rc = lv_task_load_owned(c->e, tx, c->key_id, c->task_id, t, &c->segs, &c->n);
	if (rc)
		return rc;
	state = parse_state(t);
	if (!state)
		return LV_ENOMEM;
	if ((t->status != LV_TASK_COMPLETED && t->status != LV_TASK_FAILED) ||
	    cJSON_GetObjectItemCaseSensitive(state, "regen")) {
		cJSON_Delete(state);
		return lv_error_set(LV_ENOTCOMPOSABLE, "task %s is %s: a shot can be regenerated once the task is "
		                                       "completed (or failed with only that shot missing)",
		                    t->id, lv_task_status_name((lv_task_status)t->status));
	}
	{
		int64_t removed = 0;
		lv_retention_marks(t->state, NULL, &removed);
		if (removed) {
			cJSON_Delete(state);
			return lv_error_set(LV_ENOTCOMPOSABLE, "task %s: its working files were removed by the retention "
			                                       "policy (storage.keep_intermediates, lvctl gc): no shot can "
			                                       "be regenerated", t->id);
		}
	}
	if (c->index < 0 || (size_t)c->index >= c->n) {
		cJSON_Delete(state);
		return lv_error_set(LV_EINVALID, "index: must be a shot index from 0 to %zu", c->n ? c->n - 1 : 0);
	}
	for (i = 0; i < c->n; i++) {
		if (c->segs[i].idx == c->index)
			seg = &c->segs[i];
		else if (c->segs[i].status != LV_SEG_READY)
			missing++;
	}
	if (!seg || (t->status == LV_TASK_FAILED && missing > 0)) {
		cJSON_Delete(state);
		return lv_error_set(LV_ENOTCOMPOSABLE, "task %s failed with other shots missing: only a failed task whose "
		                                       "other shots are all ready can regenerate one", t->id);
	}
	cJSON_Delete(c->parsed); /* a retried transaction parses again */
	c->parsed = NULL;
	rc = lv_creative_parse_body(&c->parsed, c->body, c->body_len);
	if (rc == LV_OK && c->parsed)
		rc = lv_regen_request_from_json(&req, c->parsed);
	if (rc == LV_OK && !(sb = t->script ? cJSON_Parse(t->script) : NULL))
		rc = lv_error_set(LV_EINTERNAL, "task %s has no readable storyboard", t->id);
	shot = rc == LV_OK ? shot_at(sb, c->index) : NULL;
	if (rc == LV_OK && !shot)
		rc = lv_error_set(LV_EINTERNAL, "the storyboard has no shot %d", c->index);
	if (rc == LV_OK && req.seed != -1 && (req.seed < 0 || req.seed > 2147483647LL))
		rc = lv_error_set(LV_EINVALID, "seed: must be an integer from 0 to 2147483647");
	if (rc) {
		cJSON_Delete(sb);
		cJSON_Delete(state);
		return rc;
	}
	{
		/* Validate the new texts. */
		cJSON *v;
		if (req.visual && (v = cJSON_CreateString(req.visual))) {
			rc = text_field(v, "visual", TEXT_MAX, 0);
			cJSON_Delete(v);
		}
		if (rc == LV_OK && req.camera && (v = cJSON_CreateString(req.camera))) {
			rc = text_field(v, "camera", CAMERA_MAX, 0);
			cJSON_Delete(v);
		}
		if (rc == LV_OK && req.narration && (v = cJSON_CreateString(req.narration))) {
			rc = text_field(v, "narration", TEXT_MAX, 1);
			if (rc == LV_OK)
				rc = narration_fits("narration", req.narration, shot_seconds(shot), t->language, c->index);
			cJSON_Delete(v);
		}
	}
	if (rc) {
		cJSON_Delete(sb);
		cJSON_Delete(state);
		return rc;
	}
	/* The shot's price is reserved in this transaction, or nothing happens. */
	if ((rc = OPS(c->e)->key_get(tx, t->key_id, 1, &key))) {
		cJSON_Delete(sb);
		cJSON_Delete(state);
		return rc == LV_ENOTFOUND ? lv_error_set(LV_EAUTH, "the API key is unknown or revoked") : rc;
	}
	if (key.balance < seg->price) {
		char need[32], have[32], details[128];
		lv_credits_format(need, sizeof(need), seg->price);
		lv_credits_format(have, sizeof(have), key.balance);
		lv_key_rec_clear(&key);
		cJSON_Delete(sb);
		cJSON_Delete(state);
		lv_error_set(LV_ECREDITS, "credits: regenerating shot %d costs %s credits and the balance is %s", c->index,
		             need, have);
		snprintf(details, sizeof(details), "{\"cost\":%s,\"balance\":%s}", need, have);
		lv_error_set_details(details);
		return LV_ECREDITS;
	}
	rc = lv_credits_reserve(tx, OPS(c->e), &key, t->id, seg->price, now);
	lv_key_rec_clear(&key);
	if (rc) {
		cJSON_Delete(sb);
		cJSON_Delete(state);
		return rc;
	}

	/* What a failure restores: the shot's text, segment, narration, and the task's status and film. */
	list = cJSON_GetObjectItemCaseSensitive(state, "regenerations");
	if (!cJSON_IsArray(list)) {
		list = cJSON_CreateArray();
		put(state, "regenerations", list);
	}
	regen = cJSON_CreateObject();
	cJSON_AddNumberToObject(regen, "index", c->index);
	cJSON_AddNumberToObject(regen, "attempt", cJSON_GetArraySize(list) + 1);
	cJSON_AddNumberToObject(regen, "price", (double)seg->price);
	cJSON_AddStringToObject(regen, "prev_status", lv_task_status_name((lv_task_status)t->status));
	cJSON_AddItemToObject(regen, "prev_error", error_object(t->error_code, t->error_message));
	cJSON_AddNumberToObject(regen, "prev_error_stage", t->error_stage);
	cJSON_AddNumberToObject(regen, "prev_error_shot", t->error_shot);
	cJSON_AddNumberToObject(regen, "prev_generation", t->compose_generation);
	cJSON_AddNumberToObject(regen, "prev_progress", t->progress);
	cJSON_AddItemToObject(regen, "old_shot", cJSON_Duplicate(shot, 1));
	cJSON_AddItemToObject(regen, "old_segment", segment_json(seg));
	snprintf(name, sizeof(name), "%d", c->index);
	narr = cJSON_GetObjectItemCaseSensitive(state, "narration");
	cJSON_AddItemToObject(regen, "old_narration",
	                      cJSON_GetObjectItemCaseSensitive(narr, name)
	                              ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(narr, name), 1)
	                              : cJSON_CreateNull());
	entry = cJSON_CreateObject();
	cJSON_AddNumberToObject(entry, "index", c->index);
	cJSON_AddStringToObject(entry, "status", "running");
	cJSON_AddNullToObject(entry, "error");
	lv_json_add_credits(entry, "cost", seg->price);
	lv_time_iso8601(ts, now);
	cJSON_AddStringToObject(entry, "created_at", ts);
	cJSON_AddItemToArray(list, entry);
	{
		cJSON *seeds = cJSON_GetObjectItemCaseSensitive(state, "seeds");
		long long seed = req.seed;
		if (seed < 0) { /* a new picture: a seed of its own for this attempt */
			uint32_t h = 2166136261u;
			const char *ch;
			for (ch = t->id; *ch; ch++)
				h = (h ^ (uint8_t)*ch) * 16777619u;
			h = (h ^ (uint32_t)c->index) * 16777619u;
			h = (h ^ (uint32_t)cJSON_GetArraySize(list)) * 16777619u;
			seed = (long long)(h & 0x7fffffffu);
		}
		if (!cJSON_IsObject(seeds)) {
			seeds = cJSON_CreateObject();
			put(state, "seeds", seeds);
		}
		put(seeds, name, cJSON_CreateNumber((double)seed));
	}
	put(state, "regen", regen);
	/* New text goes into the storyboard; changed narration is spoken again. */
	if (req.visual)
		put(shot, "visual", cJSON_CreateString(req.visual));
	if (req.camera)
		put(shot, "camera", cJSON_CreateString(req.camera));
	if (req.narration) {
		const char *old = lv_json_get_str(shot, "narration");
		if (!old || strcmp(old, req.narration) != 0)
			cJSON_DeleteItemFromObjectCaseSensitive(narr, name);
		put(shot, "narration", cJSON_CreateString(req.narration));
	}
	if ((rc = store_json(&t->script, sb)) || (rc = store_json(&t->state, state))) {
		cJSON_Delete(sb);
		cJSON_Delete(state);
		return rc;
	}
	cJSON_Delete(sb);
	cJSON_Delete(state);
	/* The segment is generated again (the old clip stays in storage for a failure to restore). */
	seg->status = LV_SEG_PENDING;
	seg->attempts = 0;
	seg->updated_at = now;
	free(seg->job_id);
	free(seg->job_state);
	free(seg->output);
	free(seg->error);
	seg->job_id = seg->job_state = seg->output = seg->error = NULL;
	if ((rc = OPS(c->e)->segment_update(tx, seg)))
		return rc;
	t->status = LV_TASK_GENERATING;
	t->progress = lv_stage_progress(LV_TASK_GENERATING);
	t->shots_done = (int)(c->n - 1);
	t->compose_generation++;
	t->completed_at = 0;
	t->updated_at = now;
	free(t->error_code);
	free(t->error_message);
	t->error_code = t->error_message = NULL;
	t->error_stage = t->error_shot = -1;
	free(t->lease_owner);
	t->lease_owner = NULL;
	t->lease_until = 0;
	return OPS(c->e)->task_update(tx, t);
}

int lv_task_regenerate(lv_task **out, lv_engine *e, const lv_key *key, const char *task_id, int index,
                       const lv_regenerate_request *request)
{
	lv_regenerate_request defaults = LV_REGENERATE_REQUEST_INIT;
	creative_ctx c;
	int rc;
	if (!request)
		request = &defaults;
	if (request->version != LV_REGENERATE_REQUEST_VERSION)
		return lv_error_set(LV_EINVALID, "lv_task_regenerate: unsupported request version %u", request->version);
	memset(&c, 0, sizeof(c));
	c.index = index;
	c.regen = request;
	if ((rc = run(out, e, key, task_id, regenerate_tx, &c, "lv_task_regenerate")) == LV_OK)
		LV_INFO("task %s: regenerating shot %d", task_id, index);
	cJSON_Delete(c.parsed);
	return rc;
}

int lv_task_regenerate_json(lv_task **out, lv_engine *e, const lv_key *key, const char *task_id, int index,
                            const char *body, size_t body_len)
{
	lv_regenerate_request r = LV_REGENERATE_REQUEST_INIT;
	creative_ctx c;
	int rc;
	memset(&c, 0, sizeof(c));
	c.index = index;
	c.regen = &r;
	c.body = body;
	c.body_len = body_len;
	if ((rc = run(out, e, key, task_id, regenerate_tx, &c, "lv_task_regenerate_json")) == LV_OK)
		LV_INFO("task %s: regenerating shot %d", task_id, index);
	cJSON_Delete(c.parsed);
	return rc;
}

/* ---- how a regeneration ends ---------------------------------------------------------------------------------- */

/* Mark the last regeneration entry with `status` (and an error). */
static void mark_last(cJSON *state, const char *status, const char *code, const char *message)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(state, "regenerations");
	cJSON *last = cJSON_GetArrayItem(list, cJSON_GetArraySize(list) - 1);
	if (!last)
		return;
	put(last, "status", cJSON_CreateString(status));
	put(last, "error", error_object(code, message));
}

int lv_regen_running(const lv_task_rec *t, int *attempt)
{
	cJSON *s = parse_state(t);
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "regen");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "attempt");
	int running = cJSON_IsObject(r);
	if (attempt)
		*attempt = cJSON_IsNumber(a) ? a->valueint : 0;
	cJSON_Delete(s);
	return running;
}

int lv_regen_succeeded(cJSON *state)
{
	if (!cJSON_GetObjectItemCaseSensitive(state, "regen"))
		return 0;
	mark_last(state, "succeeded", NULL, NULL);
	cJSON_DeleteItemFromObjectCaseSensitive(state, "regen");
	return 1;
}

int lv_regen_abandon(lv_engine *e, lv_store_tx *tx, lv_task_rec *t, const char *status, const char *code,
                     const char *message, int64_t now)
{
	cJSON *state = parse_state(t), *regen, *sb = NULL, *old_shot, *narr;
	const cJSON *old_seg, *v;
	lv_segment_rec *segs = NULL;
	size_t n = 0, i;
	lv_task_status prev = LV_TASK_COMPLETED;
	char name[16];
	int idx, rc;
	if (!state)
		return LV_ENOMEM;
	regen = cJSON_GetObjectItemCaseSensitive(state, "regen");
	if (!cJSON_IsObject(regen)) {
		cJSON_Delete(state);
		return 1; /* not regenerating */
	}
	idx = cJSON_GetObjectItemCaseSensitive(regen, "index")->valueint;
	snprintf(name, sizeof(name), "%d", idx);
	/* The previous clip is the shot again. */
	if ((rc = OPS(e)->segment_list(tx, t->id, &segs, &n))) {
		cJSON_Delete(state);
		return rc;
	}
	old_seg = cJSON_GetObjectItemCaseSensitive(regen, "old_segment");
	for (i = 0; i < n; i++) {
		lv_segment_rec *s = &segs[i];
		if (s->idx != idx)
			continue;
		s->status = LV_SEG_READY;
		v = cJSON_GetObjectItemCaseSensitive(old_seg, "attempts");
		s->attempts = cJSON_IsNumber(v) ? v->valueint : 1;
		s->updated_at = now;
		if ((rc = lv_strset(&s->output, lv_json_get_str(old_seg, "output"))) ||
		    (rc = lv_strset(&s->job_id, lv_json_get_str(old_seg, "job_id"))) ||
		    (rc = lv_strset(&s->job_state, lv_json_get_str(old_seg, "job_state"))) ||
		    (rc = lv_strset(&s->error, NULL)) || (rc = OPS(e)->segment_update(tx, s)))
			break;
	}
	lv_segment_recs_free(segs, n);
	/* The storyboard's shot and its narration as they were. */
	if (rc == LV_OK && t->script && (sb = cJSON_Parse(t->script)) != NULL) {
		cJSON *shots = cJSON_GetObjectItemCaseSensitive(sb, "shots"), *s;
		int k = 0;
		old_shot = cJSON_DetachItemFromObjectCaseSensitive(regen, "old_shot");
		cJSON_ArrayForEach(s, shots)
		{
			if (cJSON_GetObjectItemCaseSensitive(s, "index") &&
			    cJSON_GetObjectItemCaseSensitive(s, "index")->valueint == idx)
				break;
			k++;
		}
		if (old_shot && s)
			cJSON_ReplaceItemInArray(shots, k, old_shot);
		else
			cJSON_Delete(old_shot);
		rc = store_json(&t->script, sb);
		cJSON_Delete(sb);
	}
	narr = cJSON_GetObjectItemCaseSensitive(state, "narration");
	v = cJSON_GetObjectItemCaseSensitive(regen, "old_narration");
	if (rc == LV_OK && cJSON_IsObject(narr)) {
		if (cJSON_IsObject(v))
			put(narr, name, cJSON_Duplicate(v, 1));
		else
			cJSON_DeleteItemFromObjectCaseSensitive(narr, name);
	}
	/* The task as it was: its film, URLs and (for a failed task) error. */
	if (rc == LV_OK) {
		const cJSON *pe = cJSON_GetObjectItemCaseSensitive(regen, "prev_error");
		lv_task_status_parse(&prev, lv_json_get_str(regen, "prev_status"));
		t->compose_generation = cJSON_GetObjectItemCaseSensitive(regen, "prev_generation")->valueint;
		t->progress = cJSON_GetObjectItemCaseSensitive(regen, "prev_progress")->valueint;
		t->shots_done = prev == LV_TASK_COMPLETED ? t->shots_total : t->shots_done;
		if ((rc = lv_strset(&t->error_code, lv_json_get_str(pe, "code"))) == LV_OK)
			rc = lv_strset(&t->error_message, lv_json_get_str(pe, "message"));
		t->error_stage = cJSON_GetObjectItemCaseSensitive(regen, "prev_error_stage")->valueint;
		t->error_shot = cJSON_GetObjectItemCaseSensitive(regen, "prev_error_shot")->valueint;
		mark_last(state, status, code, message);
		cJSON_DeleteItemFromObjectCaseSensitive(state, "regen");
	}
	if (rc == LV_OK)
		rc = store_json(&t->state, state);
	cJSON_Delete(state);
	/* The shot's reservation goes back; the webhook fires for the (unchanged) film. */
	if (rc == LV_OK)
		rc = lv_task_finish(e, tx, t, (int)prev, 0, now);
	return rc;
}
