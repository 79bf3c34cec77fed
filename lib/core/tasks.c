/* Tasks: create (idempotent, reserving credits), get, list, cancel, compose. */
#include "core/creative.h"
#include "core/keys.h"
#include "core/request.h"
#include "core/retention.h"
#include "core/task.h"
#include "plan/plan.h"
#include "util/crypto.h"
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

/* ---- snapshots --------------------------------------------------------------------- */

lv_task *lv_task_wrap(lv_engine *e, lv_task_rec *rec, lv_segment_rec *segs, size_t n)
{
	lv_task *t = lv_calloc(1, sizeof(*t));
	if (!t || !(t->public_url = lv_strdup(e->cfg->public_url))) {
		free(t);
		lv_task_rec_clear(rec);
		lv_segment_recs_free(segs, n);
		return NULL;
	}
	t->rec = *rec;
	memset(rec, 0, sizeof(*rec));
	lv_task_events_token(t->events_token, e, t->rec.id);
	t->segs = segs;
	t->n_segs = n;
	return t;
}

void lv_task_free(lv_task *t)
{
	if (!t)
		return;
	lv_task_rec_clear(&t->rec);
	lv_segment_recs_free(t->segs, t->n_segs);
	free(t->public_url);
	free(t);
}

/* Read a task of `key_id` with its segments; LV_ENOTFOUND (with a message) if it is not theirs.
 * What t and *segs held (a retried transaction's earlier attempt) is released first. */
int lv_task_load_owned(lv_engine *e, lv_store_tx *tx, const char *key_id, const char *task_id, lv_task_rec *t,
                      lv_segment_rec **segs, size_t *n)
{
	int rc;
	lv_task_rec_clear(t);
	if (segs) {
		lv_segment_recs_free(*segs, *n);
		*segs = NULL;
		*n = 0;
	}
	rc = OPS(e)->task_get(tx, task_id, 1, t);
	if (rc == LV_OK && strcmp(t->key_id, key_id) != 0) {
		lv_task_rec_clear(t);
		rc = LV_ENOTFOUND;
	}
	if (rc == LV_ENOTFOUND)
		return lv_error_set(LV_ENOTFOUND, "task_id: no task '%s' for this API key", task_id);
	if (rc)
		return rc;
	if (segs && (rc = OPS(e)->segment_list(tx, task_id, segs, n)))
		lv_task_rec_clear(t);
	return rc;
}

int lv_task_check_id(const char *id)
{
	if (!id || strncmp(id, "vid_", 4) != 0 || strlen(id) >= LV_ID_MAX)
		return lv_error_set(LV_ENOTFOUND, "task_id: no task '%s' for this API key", id ? id : "");
	return LV_OK;
}

/* ---- create -------------------------------------------------------------------------- */

typedef struct {
	lv_engine *e;
	const lv_key *key;
	const lv_req *req;
	const lv_plan *plan;
	const char *idem_key;
	const char *hash;
	const char *characters; /* the stored characters (state JSON list), or NULL */
	lv_task_rec out;
	lv_segment_rec *segs;
	size_t n_segs;
	int replayed;
} create_ctx;

/* The pipeline state a task starts with: the review wish and the stored characters. */
static char *initial_state(int review, const char *characters)
{
	cJSON *s = cJSON_CreateObject();
	char *text;
	if (review)
		cJSON_AddTrueToObject(s, "review");
	if (characters)
		cJSON_AddItemToObject(s, "characters", cJSON_Parse(characters));
	text = lv_json_print(s);
	cJSON_Delete(s);
	return text;
}

static int create_tx(lv_store_tx *tx, void *p)
{
	create_ctx *c = p;
	lv_engine *e = c->e;
	const lv_store_ops *ops = OPS(e);
	int64_t now = lv_now_ms();
	lv_key_rec key;
	lv_task_rec *t = &c->out;
	char idpart[17];
	size_t i;
	int rc;

	/* A retried transaction starts again from nothing. */
	lv_task_rec_clear(t);
	lv_segment_recs_free(c->segs, c->n_segs);
	c->segs = NULL;
	c->n_segs = 0;
	c->replayed = 0;
	if (c->idem_key) {
		lv_idem_rec prior;
		/* Forget idempotency records past their time (kept at least 24 h; default 48 h). */
		if ((rc = ops->idem_purge(tx, now - (int64_t)e->cfg->idempotency_ttl_hours * 3600 * 1000)))
			return rc;
		rc = ops->idem_get(tx, c->key->rec.id, c->idem_key, &prior);
		if (rc == LV_OK) {
			int same = strcmp(prior.request_hash, c->hash) == 0;
			char task_id[LV_ID_MAX];
			lv_strlcpy(task_id, prior.task_id, sizeof(task_id));
			lv_idem_rec_clear(&prior);
			if (!same)
				return lv_error_set(LV_EIDEMPOTENCY,
				                    "Idempotency-Key: already used with a different request body "
				                    "for task %s", task_id);
			c->replayed = 1;
			return lv_task_load_owned(e, tx, c->key->rec.id, task_id, t, &c->segs, &c->n_segs);
		}
		if (rc != LV_ENOTFOUND)
			return rc;
	}
	if ((rc = ops->key_get(tx, c->key->rec.id, 1, &key)))
		return rc == LV_ENOTFOUND ? lv_error_set(LV_EAUTH, "the API key is unknown or revoked") : rc;
	if (key.revoked_at) {
		lv_key_rec_clear(&key);
		return lv_error_set(LV_EAUTH, "the API key is unknown or revoked");
	}
	if (key.balance < c->plan->total) {
		char need[32], have[32], details[128];
		lv_credits_format(need, sizeof(need), c->plan->total);
		lv_credits_format(have, sizeof(have), key.balance);
		lv_key_rec_clear(&key);
		lv_error_set(LV_ECREDITS, "credits: the task costs %s credits and the balance is %s", need, have);
		snprintf(details, sizeof(details), "{\"cost_estimate\":%s,\"balance\":%s}", need, have);
		lv_error_set_details(details);
		return LV_ECREDITS;
	}

	memset(t, 0, sizeof(*t));
	if (lv_random_base62(idpart, 16)) {
		lv_key_rec_clear(&key);
		return LV_EINTERNAL;
	}
	snprintf(t->id, sizeof(t->id), "vid_%s", idpart);
	lv_strlcpy(t->key_id, key.id, sizeof(t->key_id));
	t->status = LV_TASK_QUEUED;
	t->shots_total = (int)c->plan->n;
	t->duration = c->req->duration;
	lv_strlcpy(t->resolution, c->req->resolution, sizeof(t->resolution));
	lv_strlcpy(t->aspect_ratio, c->req->aspect_ratio, sizeof(t->aspect_ratio));
	lv_strlcpy(t->language, c->req->language, sizeof(t->language));
	t->narration = c->req->narration;
	t->music = c->req->music;
	t->subtitles = c->req->subtitles;
	t->cost_estimate = c->plan->total;
	t->cost_actual = -1;
	t->error_stage = -1;
	t->error_shot = -1;
	t->created_at = t->updated_at = now;
	if (!(t->prompt = lv_strdup(c->req->prompt)) || !(t->provider = lv_strdup(c->req->provider)) ||
	    !(t->metadata = lv_strdup(c->req->metadata)) ||
	    ((c->req->review || c->characters) && !(t->state = initial_state(c->req->review, c->characters))) ||
	    (c->req->webhook_url && !(t->webhook_url = lv_strdup(c->req->webhook_url)))) {
		lv_key_rec_clear(&key);
		return LV_ENOMEM;
	}
	/* The balance check, reservation, task, segments and idempotency record: one transaction. */
	rc = ops->task_insert(tx, t);
	if (rc == LV_OK)
		rc = lv_credits_reserve(tx, ops, &key, t->id, c->plan->total, now);
	lv_key_rec_clear(&key);
	if (rc)
		return rc;
	if (!(c->segs = lv_calloc(c->plan->n, sizeof(*c->segs))))
		return LV_ENOMEM;
	for (i = 0; i < c->plan->n; i++) {
		lv_segment_rec *s = &c->segs[i];
		const lv_plan_segment *ps = &c->plan->segments[i];
		lv_strlcpy(s->task_id, t->id, sizeof(s->task_id));
		s->idx = ps->index;
		s->start = ps->start;
		s->seconds = ps->seconds;
		s->billed_seconds = ps->billed_seconds;
		s->price = ps->price;
		s->status = LV_SEG_PENDING;
		s->updated_at = now;
		c->n_segs++;
		if ((rc = ops->segment_insert(tx, s)))
			return rc;
	}
	if (c->idem_key) {
		lv_idem_rec r;
		memset(&r, 0, sizeof(r));
		lv_strlcpy(r.key_id, c->key->rec.id, sizeof(r.key_id));
		r.idem_key = (char *)c->idem_key;
		lv_strlcpy(r.request_hash, c->hash, sizeof(r.request_hash));
		lv_strlcpy(r.task_id, t->id, sizeof(r.task_id));
		r.created_at = now;
		if ((rc = ops->idem_insert(tx, &r)))
			return rc;
	}
	return LV_OK;
}

static int create_common(lv_task **out, lv_engine *e, const lv_key *key, lv_req *req, const char *idem_key)
{
	const lv_provider_conf *pc;
	lv_plan *plan = NULL;
	create_ctx c;
	char hash[65], *characters = NULL;
	int rc;

	if (idem_key && lv_idempotency_key_check(idem_key))
		return LV_EINVALID;
	pc = lv_engine_video_provider(e, req->provider);
	if (!pc)
		return LV_EINVALID;
	if ((rc = lv_plan_compute(&plan, req->duration, lv_resolution_index(req->resolution), req->provider,
	                          &pc->video)))
		return rc;
	if ((rc = lv_req_hash(req, hash))) {
		lv_plan_free(plan);
		return rc;
	}
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.key = key;
	c.req = req;
	c.plan = plan;
	c.idem_key = idem_key;
	c.hash = hash;
	/* Character images are checked and stored before the task exists (a bad one is a 400 now). */
	if (req->characters && (rc = lv_characters_ingest(e, req->characters, &characters))) {
		lv_plan_free(plan);
		return rc;
	}
	c.characters = characters;
	rc = lv_engine_tx(e, 1, create_tx, &c);
	free(characters);
	lv_plan_free(plan);
	if (rc) {
		lv_task_rec_clear(&c.out);
		lv_segment_recs_free(c.segs, c.n_segs);
		return rc;
	}
	if (!(*out = lv_task_wrap(e, &c.out, c.segs, c.n_segs)))
		return LV_ENOMEM;
	(*out)->replayed = c.replayed;
	if (!c.replayed)
		LV_INFO("task %s created for key %s: %d s %s, %d shots, estimate %lld", (*out)->rec.id, key->rec.id,
		        req->duration, req->resolution, (*out)->rec.shots_total, (long long)(*out)->rec.cost_estimate);
	return LV_OK;
}

int lv_task_check_args(void *out, lv_engine *e, const lv_key *key, const char *fn)
{
	if (!out)
		return lv_error_set(LV_EINVALID, "%s: out is NULL", fn);
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if (!key)
		return lv_error_set(LV_EAUTH, "an API key is required");
	return LV_OK;
}

int lv_task_create(lv_task **out, lv_engine *e, const lv_key *key, const lv_task_request *request,
                   const char *idempotency_key)
{
	lv_req req;
	int rc;
	if ((rc = lv_task_check_args(out, e, key, "lv_task_create")))
		return rc;
	*out = NULL;
	if ((rc = lv_req_from_struct(&req, e, request)))
		return rc;
	rc = create_common(out, e, key, &req, idempotency_key);
	lv_req_clear(&req);
	return rc;
}

int lv_task_create_json(lv_task **out, lv_engine *e, const lv_key *key, const char *body, size_t len,
                        const char *idempotency_key)
{
	cJSON *json;
	lv_req req;
	int rc;
	if ((rc = lv_task_check_args(out, e, key, "lv_task_create_json")))
		return rc;
	*out = NULL;
	if ((rc = lv_json_parse(&json, body, len, "body")))
		return rc;
	rc = lv_req_from_json(&req, e, json);
	cJSON_Delete(json);
	if (rc)
		return rc;
	rc = create_common(out, e, key, &req, idempotency_key);
	lv_req_clear(&req);
	return rc;
}

int lv_task_estimate(lv_plan **out, lv_engine *e, const lv_task_request *request)
{
	const lv_provider_conf *pc;
	lv_req req;
	int rc;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_task_estimate: out is NULL");
	*out = NULL;
	if (!e)
		return lv_error_set(LV_EINVALID, "lv_task_estimate: engine is NULL");
	if ((rc = lv_req_from_struct(&req, e, request)))
		return rc;
	pc = lv_engine_video_provider(e, req.provider);
	rc = pc ? lv_plan_compute(out, req.duration, lv_resolution_index(req.resolution), req.provider, &pc->video)
	        : LV_EINVALID;
	lv_req_clear(&req);
	return rc;
}

/* ---- get ------------------------------------------------------------------------------ */

typedef struct {
	lv_engine *e;
	const char *key_id;
	const char *task_id;
	lv_task_rec t;
	lv_segment_rec *segs;
	size_t n;
	/* compose */
	const lv_compose_request *compose;
} one_ctx;

static int get_tx(lv_store_tx *tx, void *p)
{
	one_ctx *c = p;
	return lv_task_load_owned(c->e, tx, c->key_id, c->task_id, &c->t, &c->segs, &c->n);
}

static int run_one(lv_task **out, lv_engine *e, const lv_key *key, const char *task_id, int write, lv_tx_fn fn,
                   const lv_compose_request *compose)
{
	one_ctx c;
	int rc;
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.key_id = key->rec.id;
	c.task_id = task_id;
	c.compose = compose;
	if ((rc = lv_engine_tx(e, write, fn, &c))) {
		lv_task_rec_clear(&c.t);
		lv_segment_recs_free(c.segs, c.n);
		return rc;
	}
	return (*out = lv_task_wrap(e, &c.t, c.segs, c.n)) ? LV_OK : LV_ENOMEM;
}

int lv_task_get(lv_task **out, lv_engine *e, const lv_key *key, const char *task_id)
{
	int rc;
	if ((rc = lv_task_check_args(out, e, key, "lv_task_get")))
		return rc;
	*out = NULL;
	if ((rc = lv_task_check_id(task_id)))
		return rc;
	return run_one(out, e, key, task_id, 0, get_tx, NULL);
}

typedef struct {
	one_ctx one;
	const char *hash;
	int load;    /* the task id is well formed: read the task too */
	lv_key *key;
	int task_rc; /* the task's result, once the key is known */
} secret_ctx;

static int secret_tx(lv_store_tx *tx, void *p)
{
	secret_ctx *c = p;
	int rc;
	lv_key_free(c->key); /* a retried transaction starts over */
	c->key = NULL;
	if ((rc = lv_key_by_hash_tx(&c->key, c->one.e, tx, c->hash)))
		return rc;
	c->task_rc = LV_OK;
	if (!c->load)
		return LV_OK;
	c->one.key_id = c->key->rec.id;
	rc = lv_task_load_owned(c->one.e, tx, c->one.key_id, c->one.task_id, &c->one.t, &c->one.segs, &c->one.n);
	if (rc == LV_ENOTFOUND) {
		c->task_rc = rc; /* the key stands: the read ends normally */
		return LV_OK;
	}
	return rc;
}

int lv_task_get_with_secret(lv_task **out, lv_key **key_out, lv_engine *e, const char *api_key, const char *task_id)
{
	secret_ctx c;
	char hash[65];
	int rc;
	if (!out || !key_out)
		return lv_error_set(LV_EINVALID, "lv_task_get_with_secret: out and key_out are required");
	*out = NULL;
	*key_out = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if ((rc = lv_key_secret_hash(hash, api_key)))
		return rc;
	memset(&c, 0, sizeof(c));
	c.one.e = e;
	c.one.task_id = task_id;
	c.hash = hash;
	c.load = lv_task_check_id(task_id) == LV_OK;
	lv_error_clear(); /* a malformed id is reported after the key, below */
	rc = lv_engine_tx(e, 0, secret_tx, &c);
	if (rc == LV_OK)
		*key_out = c.key;
	else
		lv_key_free(c.key);
	if (rc == LV_OK && !c.load)
		rc = lv_task_check_id(task_id);
	else if (rc == LV_OK && c.task_rc)
		rc = lv_error_set(c.task_rc, "task_id: no task '%s' for this API key", task_id);
	if (rc) {
		lv_task_rec_clear(&c.one.t);
		lv_segment_recs_free(c.one.segs, c.one.n);
		return rc;
	}
	return (*out = lv_task_wrap(e, &c.one.t, c.one.segs, c.one.n)) ? LV_OK : LV_ENOMEM;
}

/* ---- list ----------------------------------------------------------------------------- */

typedef struct {
	lv_engine *e;
	const char *key_id;
	const char *after;
	int status;
	int limit;
	lv_task_rec *recs;
	size_t n;
} list_ctx;

static int list_tx(lv_store_tx *tx, void *p)
{
	list_ctx *c = p;
	int64_t before = 0;
	if (c->after) {
		lv_task_rec a;
		int rc = OPS(c->e)->task_get(tx, c->after, 0, &a);
		if (rc == LV_OK && strcmp(a.key_id, c->key_id) != 0) {
			lv_task_rec_clear(&a);
			rc = LV_ENOTFOUND;
		}
		if (rc == LV_ENOTFOUND)
			return lv_error_set(LV_EINVALID, "after: '%s' is not a task of this API key", c->after);
		if (rc)
			return rc;
		before = a.seq;
		lv_task_rec_clear(&a);
	}
	return OPS(c->e)->task_list(tx, c->key_id, before, c->status, c->limit + 1, &c->recs, &c->n);
}

int lv_task_list(lv_task_page **out, lv_engine *e, const lv_key *key, const lv_task_list_options *opts)
{
	lv_task_list_options defaults = LV_TASK_LIST_OPTIONS_INIT;
	lv_task_page *page;
	list_ctx c;
	size_t i;
	int rc;
	if ((rc = lv_task_check_args(out, e, key, "lv_task_list")))
		return rc;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != LV_TASK_LIST_OPTIONS_VERSION)
		return lv_error_set(LV_EINVALID, "lv_task_list: unsupported options version %u", opts->version);
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.key_id = key->rec.id;
	c.limit = opts->limit == 0 ? 20 : opts->limit;
	c.status = -1;
	if (c.limit < 1 || c.limit > 100)
		return lv_error_set(LV_EINVALID, "limit: must be an integer from 1 to 100");
	if (opts->status) {
		lv_task_status s;
		if (lv_task_status_parse(&s, opts->status))
			return LV_EINVALID;
		c.status = (int)s;
	}
	if (opts->after) {
		if (strncmp(opts->after, "vid_", 4) != 0 || strlen(opts->after) >= LV_ID_MAX)
			return lv_error_set(LV_EINVALID, "after: '%s' is not a task id", opts->after);
		c.after = opts->after;
	}
	if ((rc = lv_engine_tx(e, 0, list_tx, &c)))
		return rc;
	if (!(page = lv_calloc(1, sizeof(*page))) || !(page->tasks = lv_calloc(c.n, sizeof(*page->tasks)))) {
		free(page);
		lv_task_recs_free(c.recs, c.n);
		return LV_ENOMEM;
	}
	page->has_more = c.n > (size_t)c.limit;
	page->n = page->has_more ? (size_t)c.limit : c.n;
	for (i = 0; i < c.n; i++) {
		if (i < page->n)
			page->tasks[i].rec = c.recs[i];
		else
			lv_task_rec_clear(&c.recs[i]);
	}
	free(c.recs);
	for (i = 0; i < page->n; i++)
		lv_task_events_token(page->tasks[i].events_token, e, page->tasks[i].rec.id);
	for (i = 0; i < page->n; i++)
		if (!(page->tasks[i].public_url = lv_strdup(e->cfg->public_url))) {
			lv_task_page_free(page);
			return LV_ENOMEM;
		}
	if (page->has_more)
		lv_strlcpy(page->next_cursor, page->tasks[page->n - 1].rec.id, sizeof(page->next_cursor));
	*out = page;
	return LV_OK;
}

size_t lv_task_page_count(const lv_task_page *p)
{
	return p ? p->n : 0;
}

const lv_task *lv_task_page_get(const lv_task_page *p, size_t i)
{
	return p && i < p->n ? &p->tasks[i] : NULL;
}

int lv_task_page_has_more(const lv_task_page *p)
{
	return p ? p->has_more : 0;
}

const char *lv_task_page_next_cursor(const lv_task_page *p)
{
	return p && p->has_more ? p->next_cursor : NULL;
}

void lv_task_page_free(lv_task_page *p)
{
	size_t i;
	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		lv_task_rec_clear(&p->tasks[i].rec);
		free(p->tasks[i].public_url);
	}
	free(p->tasks);
	free(p);
}

int lv_task_page_to_json(char **out, const lv_task_page *p)
{
	cJSON *o = cJSON_CreateObject(), *data;
	size_t i;
	int ok = o != NULL;
	*out = NULL;
	ok = ok && cJSON_AddStringToObject(o, "object", "list");
	ok = ok && (data = cJSON_AddArrayToObject(o, "data")) != NULL;
	for (i = 0; ok && i < p->n; i++) {
		cJSON *t = lv_task_json_build(&p->tasks[i].rec, NULL, 0, p->tasks[i].public_url, 0);
		ok = t && lv_task_json_add_events_url(t, p->tasks[i].public_url, p->tasks[i].rec.id,
		                                      p->tasks[i].events_token) == LV_OK;
		ok = ok && cJSON_AddItemToArray(data, t);
		if (!ok)
			cJSON_Delete(t);
	}
	ok = ok && cJSON_AddBoolToObject(o, "has_more", p->has_more);
	ok = ok && lv_json_add_str(o, "next_cursor", p->has_more ? p->next_cursor : NULL) == LV_OK;
	if (ok)
		*out = lv_json_print(o);
	cJSON_Delete(o);
	return *out ? LV_OK : lv_error_nomem();
}

/* ---- terminal transitions (shared with the pipeline) -------------------------------- */

int64_t lv_segments_ready_price(const lv_segment_rec *segs, size_t n)
{
	int64_t sum = 0;
	size_t i;
	for (i = 0; i < n; i++)
		if (segs[i].status == LV_SEG_READY)
			sum += segs[i].price;
	return sum;
}

int lv_webhook_enqueue(lv_engine *e, lv_store_tx *tx, const lv_task_rec *t, int64_t now)
{
	lv_outbox_rec r;
	cJSON *o, *meta, *err;
	char idpart[25], *url, type[32], ts[21];
	int ok, rc;
	if (!t->webhook_url)
		return LV_OK;
	if (!(o = cJSON_CreateObject()))
		return lv_error_nomem();
	url = lv_media_url(e->cfg->public_url, t->status == LV_TASK_COMPLETED ? t->result_url : NULL);
	meta = lv_json_parse_text(t->metadata ? t->metadata : "{}");
	err = lv_task_error_json(t);
	snprintf(type, sizeof(type), "video.%s", lv_task_status_name((lv_task_status)t->status));
	lv_time_iso8601(ts, now);
	/* type and timestamp are part of the stored payload: every retry sends the same event. */
	ok = cJSON_AddStringToObject(o, "type", type) && cJSON_AddStringToObject(o, "timestamp", ts) &&
	     cJSON_AddStringToObject(o, "task_id", t->id) &&
	     cJSON_AddStringToObject(o, "status", lv_task_status_name((lv_task_status)t->status)) &&
	     lv_json_add_str(o, "result_url", url) == LV_OK && cJSON_AddNumberToObject(o, "duration", t->duration) &&
	     (t->cost_actual >= 0 ? lv_json_add_credits(o, "cost_actual", t->cost_actual) == LV_OK
	                          : cJSON_AddNullToObject(o, "cost_actual") != NULL) &&
	     err && cJSON_AddItemToObject(o, "error", err);
	if (!ok)
		cJSON_Delete(err);
	ok = ok && meta && cJSON_AddItemToObject(o, "metadata", meta);
	if (!ok && meta && !cJSON_GetObjectItemCaseSensitive(o, "metadata"))
		cJSON_Delete(meta);
	free(url);
	memset(&r, 0, sizeof(r));
	if (!ok || !(r.payload = lv_json_print(o)) || lv_random_base62(idpart, 24)) {
		cJSON_Delete(o);
		free(r.payload);
		return lv_error_last()->status ? lv_error_last()->status : lv_error_nomem();
	}
	cJSON_Delete(o);
	snprintf(r.id, sizeof(r.id), "msg_%s", idpart);
	lv_strlcpy(r.task_id, t->id, sizeof(r.task_id));
	lv_strlcpy(r.key_id, t->key_id, sizeof(r.key_id));
	r.url = t->webhook_url;
	r.status = LV_OUTBOX_PENDING;
	/* When it is due is compared by other processes: the store's clock decides it. */
	if ((rc = lv_store_now(e->store, tx, &r.created_at)) == LV_OK) {
		r.updated_at = r.created_at;
		r.next_attempt_at = r.created_at + e->cfg->webhook_delays_ms[0];
		rc = OPS(e)->outbox_insert(tx, &r);
	}
	free(r.payload);
	return rc;
}

int lv_task_finish(lv_engine *e, lv_store_tx *tx, lv_task_rec *t, int status, int64_t charge, int64_t now)
{
	int64_t cost;
	int rc;
	if ((rc = lv_credits_finalize(tx, OPS(e), t->key_id, t->id, charge, now, &cost)))
		return rc;
	t->status = status;
	t->cost_actual = cost;
	t->updated_at = now;
	t->completed_at = now;
	if (status == LV_TASK_COMPLETED)
		t->progress = 100;
	free(t->lease_owner);
	t->lease_owner = NULL;
	t->lease_until = 0;
	if ((rc = OPS(e)->task_update(tx, t)))
		return rc;
	return lv_webhook_enqueue(e, tx, t, now);
}

/* ---- cancel ---------------------------------------------------------------------------- */

static int cancel_tx(lv_store_tx *tx, void *p)
{
	one_ctx *c = p;
	int64_t now = lv_now_ms();
	int rc = lv_task_load_owned(c->e, tx, c->key_id, c->task_id, &c->t, &c->segs, &c->n);
	if (rc)
		return rc;
	if (lv_task_status_is_terminal((lv_task_status)c->t.status))
		return LV_OK; /* unchanged */
	/* Canceling a regeneration abandons it: the shot is refunded and the previous film stays. */
	if ((rc = lv_regen_abandon(c->e, tx, &c->t, "canceled", "canceled", "the regeneration was canceled", now)) != 1)
		return rc;
	/* Ready segments are settled; the rest of the reservation goes back. */
	return lv_task_finish(c->e, tx, &c->t, LV_TASK_CANCELED, lv_segments_ready_price(c->segs, c->n), now);
}

int lv_task_cancel(lv_task **out, lv_engine *e, const lv_key *key, const char *task_id)
{
	int rc;
	if ((rc = lv_task_check_args(out, e, key, "lv_task_cancel")))
		return rc;
	*out = NULL;
	if ((rc = lv_task_check_id(task_id)))
		return rc;
	if ((rc = run_one(out, e, key, task_id, 1, cancel_tx, NULL)) == LV_OK)
		LV_INFO("task %s: cancel requested (now %s)", task_id,
		        lv_task_status_name((lv_task_status)(*out)->rec.status));
	return rc;
}

/* ---- compose ---------------------------------------------------------------------------- */

static int compose_tx(lv_store_tx *tx, void *p)
{
	one_ctx *c = p;
	lv_task_rec *t = &c->t;
	lv_buf missing = LV_BUF_INIT;
	size_t i, ready = 0;
	int rc = lv_task_load_owned(c->e, tx, c->key_id, c->task_id, t, &c->segs, &c->n);
	if (rc)
		return rc;
	if (!lv_task_status_is_terminal((lv_task_status)t->status))
		return lv_error_set(LV_ENOTCOMPOSABLE, "task %s is %s: it can be re-composed once it is completed, "
		                                       "failed or canceled", t->id,
		                    lv_task_status_name((lv_task_status)t->status));
	{
		int64_t removed = 0;
		lv_retention_marks(t->state, NULL, &removed);
		if (removed)
			return lv_error_set(LV_ENOTCOMPOSABLE, "task %s: its working files were removed by the retention "
			                                       "policy (storage.keep_intermediates, lvctl gc): it can no "
			                                       "longer be re-composed", t->id);
	}
	for (i = 0; i < c->n; i++)
		if (c->segs[i].status == LV_SEG_READY)
			ready++;
	if (ready == 0)
		return lv_error_set(LV_ENOSEGMENTS, "task %s has no generated segments to compose", t->id);
	if (ready < c->n) {
		size_t shown = 0;
		lv_buf_puts(&missing, "{\"missing\":[");
		for (i = 0; i < c->n; i++)
			if (c->segs[i].status != LV_SEG_READY)
				lv_buf_printf(&missing, "%s%d", shown++ ? "," : "", c->segs[i].idx);
		lv_buf_puts(&missing, "]}");
		lv_error_set(LV_ESEGMENTS, "task %s: %zu of %zu segments are not ready", t->id, c->n - ready, c->n);
		lv_error_set_details(missing.data);
		lv_buf_free(&missing);
		return LV_ESEGMENTS;
	}
	if (c->compose->narration >= 0)
		t->narration = c->compose->narration != 0;
	if (c->compose->music >= 0)
		t->music = c->compose->music != 0;
	if (c->compose->subtitles)
		t->subtitles = lv_subtitles_parse(c->compose->subtitles);
	t->status = LV_TASK_COMPOSING;
	t->progress = lv_stage_progress(LV_TASK_COMPOSING);
	t->compose_generation++;
	t->updated_at = lv_now_ms();
	t->completed_at = 0;
	free(t->error_code);
	free(t->error_message);
	t->error_code = t->error_message = NULL;
	t->error_stage = t->error_shot = -1;
	free(t->lease_owner);
	t->lease_owner = NULL;
	t->lease_until = 0;
	return OPS(c->e)->task_update(tx, t);
}

int lv_task_compose(lv_task **out, lv_engine *e, const lv_key *key, const char *task_id,
                    const lv_compose_request *request)
{
	lv_compose_request defaults = LV_COMPOSE_REQUEST_INIT;
	int rc;
	if ((rc = lv_task_check_args(out, e, key, "lv_task_compose")))
		return rc;
	*out = NULL;
	if (!request)
		request = &defaults;
	if (request->version != LV_COMPOSE_REQUEST_VERSION)
		return lv_error_set(LV_EINVALID, "lv_task_compose: unsupported request version %u", request->version);
	if (request->subtitles && lv_subtitles_parse(request->subtitles) < 0)
		return lv_error_set(LV_EINVALID, "subtitles: must be \"soft\", \"burn\" or \"none\"");
	if ((rc = lv_task_check_id(task_id)))
		return rc;
	if ((rc = run_one(out, e, key, task_id, 1, compose_tx, request)) == LV_OK)
		LV_INFO("task %s: re-composition requested", task_id);
	return rc;
}

int lv_task_compose_json(lv_task **out, lv_engine *e, const lv_key *key, const char *task_id, const char *body,
                         size_t len)
{
	lv_compose_request r = LV_COMPOSE_REQUEST_INIT;
	cJSON *json = NULL;
	const cJSON *it;
	int rc;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_task_compose_json: out is NULL");
	*out = NULL;
	if (body && len > 0) {
		size_t i;
		for (i = 0; i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'); i++)
			;
		if (i < len) {
			if ((rc = lv_json_parse(&json, body, len, "body")))
				return rc;
			if (!cJSON_IsObject(json)) {
				cJSON_Delete(json);
				return lv_error_set(LV_EINVALID, "body: must be a JSON object");
			}
		}
	}
	cJSON_ArrayForEach(it, json)
	{
		const cJSON *other;
		for (other = json->child; other != it; other = other->next)
			if (!strcmp(other->string, it->string)) {
				rc = lv_error_set(LV_EINVALID, "%s: given more than once", it->string);
				goto out;
			}
		if (!strcmp(it->string, "narration") || !strcmp(it->string, "music")) {
			if (cJSON_IsNull(it))
				continue;
			if (!cJSON_IsBool(it)) {
				rc = lv_error_set(LV_EINVALID, "%s: must be true or false", it->string);
				goto out;
			}
			if (!strcmp(it->string, "narration"))
				r.narration = cJSON_IsTrue(it);
			else
				r.music = cJSON_IsTrue(it);
		} else if (!strcmp(it->string, "subtitles")) {
			if (cJSON_IsNull(it))
				continue;
			if (!cJSON_IsString(it) || lv_subtitles_parse(it->valuestring) < 0) {
				rc = lv_error_set(LV_EINVALID, "subtitles: must be \"soft\", \"burn\" or \"none\"");
				goto out;
			}
			r.subtitles = it->valuestring;
		} else {
			rc = lv_error_set(LV_EINVALID, "%s: unknown field (allowed: narration, music, subtitles)",
			                  it->string);
			goto out;
		}
	}
	rc = lv_task_compose(out, e, key, task_id, &r);
out:
	cJSON_Delete(json);
	return rc;
}

/* ---- accessors --------------------------------------------------------------------------- */

const char *lv_task_id(const lv_task *t)
{
	return t ? t->rec.id : NULL;
}
lv_task_status lv_task_get_status(const lv_task *t)
{
	return t ? (lv_task_status)t->rec.status : LV_TASK_QUEUED;
}
int lv_task_progress(const lv_task *t)
{
	return t ? t->rec.progress : 0;
}
int lv_task_shots_done(const lv_task *t)
{
	return t ? t->rec.shots_done : 0;
}
int lv_task_shots_total(const lv_task *t)
{
	return t ? t->rec.shots_total : 0;
}
int lv_task_duration(const lv_task *t)
{
	return t ? t->rec.duration : 0;
}
const char *lv_task_prompt(const lv_task *t)
{
	return t ? t->rec.prompt : NULL;
}
int64_t lv_task_cost_estimate(const lv_task *t)
{
	return t ? t->rec.cost_estimate : 0;
}
int64_t lv_task_cost_actual(const lv_task *t)
{
	return t ? t->rec.cost_actual : -1;
}
const char *lv_task_result_url(const lv_task *t)
{
	return t ? t->rec.result_url : NULL;
}
const char *lv_task_error_code(const lv_task *t)
{
	return t ? t->rec.error_code : NULL;
}
const char *lv_task_error_message(const lv_task *t)
{
	return t ? t->rec.error_message : NULL;
}
int lv_task_replayed(const lv_task *t)
{
	return t ? t->replayed : 0;
}

static double qc_value(const cJSON *qc, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(qc, key), "value");
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The one-line summary of a qc object; NULL (LV_OK) when qc is not an object. */
static int qc_summary(char **out, const cJSON *qc)
{
	const cJSON *f;
	lv_buf b = LV_BUF_INIT;
	const char *err;
	int rc = LV_OK, n = 0;
	*out = NULL;
	if (!cJSON_IsObject(qc))
		return LV_OK;
	err = lv_json_get_str(qc, "error");
	if (err) {
		rc = lv_buf_printf(&b, "not measured: %s", err);
	} else {
		rc = lv_buf_printf(&b, "%s", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(qc, "pass")) ? "pass" : "FAIL (");
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(qc, "failed"))
		{
			if (rc == LV_OK && cJSON_IsString(f))
				rc = lv_buf_printf(&b, "%s%s", n++ ? ", " : "", f->valuestring);
		}
		if (rc == LV_OK)
			rc = lv_buf_printf(&b, "%s: %.3f s, %.1f LUFS, %.1f dBTP, ducking %.1f dB, speech %.0f%%, %.0f subtitle "
			                       "cue(s) off the rules",
			                   n || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(qc, "pass")) ? ")" : "",
			                   qc_value(qc, "duration_s"), qc_value(qc, "loudness_lufs"),
			                   qc_value(qc, "true_peak_dbtp"), qc_value(qc, "ducking_db"),
			                   100.0 * qc_value(qc, "speech_coverage"), qc_value(qc, "subtitles"));
	}
	if (rc != LV_OK) {
		lv_buf_free(&b);
		return rc;
	}
	*out = lv_buf_detach(&b);
	return *out ? LV_OK : lv_error_nomem();
}

int lv_task_qc_summary(char **out, const lv_task *t)
{
	cJSON *state;
	int rc;
	if (!out || !t)
		return lv_error_set(LV_EINVALID, "lv_task_qc_summary: out and task are required");
	*out = NULL;
	state = t->rec.state ? lv_json_parse_text(t->rec.state) : NULL;
	rc = qc_summary(out, cJSON_GetObjectItemCaseSensitive(state, "qc"));
	cJSON_Delete(state);
	return rc;
}

int lv_qc_summary(char **out, const char *qc_json)
{
	cJSON *qc;
	int rc;
	if (!out || !qc_json)
		return lv_error_set(LV_EINVALID, "lv_qc_summary: out and qc_json are required");
	*out = NULL;
	if (!(qc = lv_json_parse_text(qc_json)))
		return lv_error_set(LV_EINVALID, "lv_qc_summary: qc_json is not a JSON object");
	rc = qc_summary(out, qc);
	cJSON_Delete(qc);
	return rc;
}

int lv_task_to_json(char **out, const lv_task *t, unsigned flags)
{
	cJSON *o;
	if (!out || !t)
		return lv_error_set(LV_EINVALID, "lv_task_to_json: out and task are required");
	*out = NULL;
	if (!(o = lv_task_json_build(&t->rec, t->segs, t->n_segs, t->public_url, flags)))
		return LV_ENOMEM;
	if (lv_task_json_add_events_url(o, t->public_url, t->rec.id, t->events_token)) {
		cJSON_Delete(o);
		return LV_ENOMEM;
	}
	*out = lv_json_print(o);
	cJSON_Delete(o);
	return *out ? LV_OK : LV_ENOMEM;
}
