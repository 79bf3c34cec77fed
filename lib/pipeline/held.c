/* Held tasks: the registry of the tasks this process works on, and the rules every change of one follows
 * (ownership, status moves, strict failure, metrics). */
#include "core/creative.h"
#include "core/metrics.h"
#include "core/task.h"
#include "media/h264.h"
#include "pipeline/held.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdlib.h>
#include <string.h>

#define OPS(ht) ((ht)->e->store->ops)

/* ---- the registry ------------------------------------------------------------------------------------ */

void lv_held_init(lv_held_tasks *ht, lv_engine *e, const char *owner, void (*released)(void *), void *arg)
{
	memset(ht, 0, sizeof(*ht));
	ht->e = e;
	ht->owner = owner;
	ht->released = released;
	ht->released_arg = arg;
	pthread_mutex_init(&ht->mu, NULL);
}

held *lv_held_get(lv_held_tasks *ht, const char *id, int create)
{
	held *h;
	pthread_mutex_lock(&ht->mu);
	for (h = ht->list; h; h = h->next)
		if (!strcmp(h->id, id))
			break;
	if (!h && create && (h = lv_calloc(1, sizeof(*h))) != NULL) {
		lv_strlcpy(h->id, id, sizeof(h->id));
		pthread_mutex_init(&h->mu, NULL);
		/* One directory per claim, inside this process's own scratch space. */
		h->work_dir = lv_asprintf("%s/%lu-%s", ht->scratch, ++ht->seq, id);
		h->next = ht->list;
		ht->list = h;
		ht->n++;
	}
	if (h)
		h->refs++;
	pthread_mutex_unlock(&ht->mu);
	return h;
}

void lv_held_ref(lv_held_tasks *ht, held *h)
{
	pthread_mutex_lock(&ht->mu);
	h->refs++;
	pthread_mutex_unlock(&ht->mu);
}

static void held_free(held *h)
{
	pthread_mutex_destroy(&h->mu);
	free(h->work_dir);
	free(h);
}

void lv_held_put(lv_held_tasks *ht, held *h)
{
	held **pp;
	int last;
	if (!h)
		return;
	pthread_mutex_lock(&ht->mu);
	last = --h->refs == 0;
	if (last)
		for (pp = &ht->list; *pp; pp = &(*pp)->next)
			if (*pp == h) {
				*pp = h->next;
				ht->n--;
				break;
			}
	pthread_mutex_unlock(&ht->mu);
	if (last) {
		if (ht->released)
			ht->released(ht->released_arg); /* room for another claim */
		/* The scratch directory is only a cache: the store and storage hold what matters. */
		if (h->work_dir)
			lv_rm_rf(h->work_dir);
		held_free(h);
	}
}

size_t lv_held_count(lv_held_tasks *ht)
{
	size_t n;
	pthread_mutex_lock(&ht->mu);
	n = ht->n;
	pthread_mutex_unlock(&ht->mu);
	return n;
}

void lv_held_cancel_all(lv_held_tasks *ht)
{
	held *h;
	pthread_mutex_lock(&ht->mu);
	for (h = ht->list; h; h = h->next)
		h->cancel = 1;
	pthread_mutex_unlock(&ht->mu);
}

int lv_held_ids(lv_held_tasks *ht, char (**ids)[LV_ID_MAX], size_t *n)
{
	held *h;
	pthread_mutex_lock(&ht->mu);
	*n = 0;
	*ids = lv_calloc(ht->n + 1, sizeof(**ids));
	for (h = ht->list; h && *ids; h = h->next)
		lv_strlcpy((*ids)[(*n)++], h->id, LV_ID_MAX);
	pthread_mutex_unlock(&ht->mu);
	return *ids ? LV_OK : LV_ENOMEM;
}

void lv_held_close(lv_held_tasks *ht)
{
	held *h;
	while ((h = ht->list) != NULL) { /* references still held by nobody: free them */
		ht->list = h->next;
		held_free(h);
	}
	ht->n = 0;
	pthread_mutex_destroy(&ht->mu);
}

void lv_held_busy(held *h)
{
	pthread_mutex_lock(&h->mu);
	h->busy = 1;
	h->handed_back = 0;
	pthread_mutex_unlock(&h->mu);
}

int lv_held_defer(held *h)
{
	int deferred;
	pthread_mutex_lock(&h->mu);
	deferred = h->busy;
	if (deferred)
		h->handed_back = 1;
	pthread_mutex_unlock(&h->mu);
	return deferred;
}

int lv_held_idle(held *h)
{
	int back;
	pthread_mutex_lock(&h->mu);
	back = h->handed_back;
	h->busy = 0;
	h->handed_back = 0;
	pthread_mutex_unlock(&h->mu);
	return back;
}

/* ---- ownership ----------------------------------------------------------------------------------------- */

int lv_own(lv_held_tasks *ht, lv_store_tx *tx, const char *id, int expect_status, lv_task_rec *out)
{
	int rc = OPS(ht)->task_get(tx, id, 1, out);
	if (rc)
		return rc == LV_ENOTFOUND ? lv_error_set(LV_ECANCELED, "task %s is gone", id) : rc;
	if (!out->lease_owner || strcmp(out->lease_owner, ht->owner) != 0 ||
	    lv_task_status_is_terminal((lv_task_status)out->status) ||
	    (expect_status >= 0 && out->status != expect_status)) {
		lv_task_rec_clear(out);
		return lv_error_set(LV_ECANCELED, "task %s is no longer held by this worker", id);
	}
	return LV_OK;
}

int lv_task_size(const lv_task_rec *t, int *width, int *height)
{
	return lv_video_size(t->resolution, t->aspect_ratio, width, height);
}

/* ---- moving a task on ----------------------------------------------------------------------------------- */

typedef struct {
	lv_held_tasks *ht;
	const char *id;
	int from, want, to; /* to: where the task went (want, or from when fn kept it there) */
	lv_change_fn fn;
	void *ctx;
} advance_ctx;

static int advance_tx(lv_store_tx *tx, void *p)
{
	advance_ctx *c = p;
	lv_task_rec t;
	int rc = lv_own(c->ht, tx, c->id, c->from, &t);
	c->to = c->want; /* a transaction tried again starts over */
	if (rc)
		return rc;
	if (c->fn && (rc = c->fn(tx, &t, c->ctx, &c->to))) {
		lv_task_rec_clear(&t);
		return rc;
	}
	t.status = c->to;
	if (t.progress < lv_stage_progress((lv_task_status)c->to))
		t.progress = lv_stage_progress((lv_task_status)c->to);
	t.updated_at = lv_now_ms();
	rc = OPS(c->ht)->task_update(tx, &t);
	lv_task_rec_clear(&t);
	return rc;
}

void lv_stage_seen(held *h, int status)
{
	pthread_mutex_lock(&h->mu);
	if (!h->stage_since || h->stage != status) {
		h->stage = status;
		h->stage_since = lv_mono_ms();
	}
	pthread_mutex_unlock(&h->mu);
}

void lv_stage_ended(lv_engine *e, held *h, int from, int to)
{
	int64_t now = lv_mono_ms(), since;
	if (from == to)
		return;
	pthread_mutex_lock(&h->mu);
	since = h->stage == from ? h->stage_since : 0;
	h->stage = to;
	h->stage_since = now;
	pthread_mutex_unlock(&h->mu);
	if (since)
		lv_metrics_stage(e->metrics, from, now - since);
}

void lv_count_call(lv_engine *e, const lv_provider *p, int status, int rc, int64_t t0)
{
	if (rc != LV_ECANCELED)
		lv_metrics_provider_call(e->metrics, p ? p->name : NULL, status, rc == LV_OK, lv_mono_ms() - t0);
}

int lv_advance(lv_held_tasks *ht, held *h, int from, int to, lv_change_fn fn, void *ctx)
{
	advance_ctx c = { ht, h->id, from, to, to, fn, ctx };
	int rc = lv_engine_tx(ht->e, 1, advance_tx, &c);
	if (rc == LV_OK)
		lv_stage_ended(ht->e, h, from, c.to);
	if (rc == LV_OK && c.to == to) /* not when fn kept the task where it was */
		LV_INFO("task %s: %s -> %s", h->id, lv_task_status_name((lv_task_status)from),
		        lv_task_status_name((lv_task_status)to));
	else if (rc == LV_ECANCELED)
		h->cancel = 1;
	return rc;
}

/* ---- failing a task ------------------------------------------------------------------------------------- */

typedef struct {
	lv_held_tasks *ht;
	const char *id;
	int stage;
	const char *code;
	const char *message;
	int shot;
} fail_ctx;

static int fail_tx(lv_store_tx *tx, void *p)
{
	fail_ctx *c = p;
	lv_task_rec t;
	lv_segment_rec *segs = NULL;
	size_t n = 0;
	int rc = lv_own(c->ht, tx, c->id, -1, &t);
	if (rc)
		return rc;
	/* A failed regeneration leaves the previous film in place and refunds the shot. */
	if ((rc = lv_regen_abandon(c->ht->e, tx, &t, "failed", c->code, c->message, lv_now_ms())) != 1) {
		lv_task_rec_clear(&t);
		return rc;
	}
	if ((rc = OPS(c->ht)->segment_list(tx, c->id, &segs, &n)) == LV_OK &&
	    (rc = lv_strset(&t.error_code, c->code)) == LV_OK && (rc = lv_strset(&t.error_message, c->message)) == LV_OK) {
		t.error_stage = c->stage;
		t.error_shot = c->shot;
		/* Strict failure: what was generated is charged, the rest of the reservation goes back. */
		rc = lv_task_finish(c->ht->e, tx, &t, LV_TASK_FAILED, lv_segments_ready_price(segs, n), lv_now_ms());
	}
	lv_segment_recs_free(segs, n);
	lv_task_rec_clear(&t);
	return rc;
}

void lv_fail_task(lv_held_tasks *ht, held *h, int stage, const char *code, const char *message, int shot)
{
	fail_ctx c = { ht, h->id, stage, code, message, shot };
	int rc = lv_engine_tx(ht->e, 1, fail_tx, &c);
	if (rc == LV_OK)
		LV_WARN("task %s failed in %s: %s: %s", h->id, lv_task_status_name((lv_task_status)stage), code, message);
	else if (rc != LV_ECANCELED)
		LV_ERROR("task %s: could not record its failure: %s", h->id, lv_error_last()->message);
	h->cancel = 1;
}
