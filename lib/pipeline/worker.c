/* Worker threads: claim tasks, run stages, renew leases, watch for cancellation. */
#include "media/h264.h"
#include "pipeline/pipeline.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"
#include "webhook/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPS(w) ((w)->e->store->ops)
#define CLAIM_IDLE_MS 200
#define MONITOR_MS 250
/* With nothing committed anywhere, idle loops skip the store; they look anyway this often, for
 * leases that expire without a commit. */
#define RECHECK_MS 2000

/* ---- held tasks ------------------------------------------------------------------------------ */

held *lv_held_get(workers *w, const char *id, int create)
{
	held *h;
	pthread_mutex_lock(&w->mu);
	for (h = w->held; h; h = h->next)
		if (!strcmp(h->id, id))
			break;
	if (!h && create && (h = lv_calloc(1, sizeof(*h))) != NULL) {
		lv_strlcpy(h->id, id, sizeof(h->id));
		pthread_mutex_init(&h->mu, NULL);
		/* One directory per claim, inside this process's own scratch space. */
		h->work_dir = lv_asprintf("%s/%lu-%s", w->scratch, ++w->scratch_seq, id);
		h->next = w->held;
		w->held = h;
		w->n_held++;
	}
	if (h)
		h->refs++;
	pthread_mutex_unlock(&w->mu);
	return h;
}

static void held_free(held *h)
{
	size_t i, k;
	for (i = 0; i < h->n_segs; i++) {
		seg_job *j = &h->segs[i];
		free(j->job_id);
		free(j->job_state);
		free(j->prompt);
		free(j->visual);
		free(j->camera);
		for (k = 0; k < j->n_refs; k++) {
			free(j->refs[k]);
			free(j->ref_names ? j->ref_names[k] : NULL);
			free(j->ref_keys ? j->ref_keys[k] : NULL);
		}
		free(j->refs);
		free(j->ref_names);
		free(j->ref_keys);
	}
	free(h->segs);
	pthread_mutex_destroy(&h->mu);
	free(h->work_dir);
	free(h);
}

/* Drop a reference; the last one unlinks the task from this process and frees it. */
void lv_held_put(workers *w, held *h)
{
	held **pp;
	int last;
	if (!h)
		return;
	pthread_mutex_lock(&w->mu);
	last = --h->refs == 0;
	if (last) {
		for (pp = &w->held; *pp; pp = &(*pp)->next)
			if (*pp == h) {
				*pp = h->next;
				w->n_held--;
				break;
			}
		pthread_cond_signal(&w->cv); /* room for another claim */
	}
	pthread_mutex_unlock(&w->mu);
	if (last) {
		/* The scratch directory is only a cache: the store and storage hold what matters. */
		if (h->work_dir)
			lv_rm_rf(h->work_dir);
		held_free(h);
	}
}

/* Queue a held task for a stage thread (the reference moves to the queue). */
void lv_ready_push(workers *w, held *h)
{
	pthread_mutex_lock(&w->mu);
	if (h->in_ready) {
		pthread_mutex_unlock(&w->mu);
		lv_held_put(w, h);
		return;
	}
	h->in_ready = 1;
	h->next_ready = NULL;
	if (w->ready_tail)
		w->ready_tail->next_ready = h;
	else
		w->ready_head = h;
	w->ready_tail = h;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static held *ready_pop(workers *w)
{
	held *h = w->ready_head;
	if (h) {
		w->ready_head = h->next_ready;
		if (!w->ready_head)
			w->ready_tail = NULL;
		h->in_ready = 0;
	}
	return h;
}

/* ---- CPU slots ------------------------------------------------------------------------------------ */

void lv_cpu_acquire(workers *w)
{
	pthread_mutex_lock(&w->cmu);
	while (w->cpu_free <= 0)
		pthread_cond_wait(&w->slot_cv, &w->cmu);
	w->cpu_free--;
	pthread_mutex_unlock(&w->cmu);
}

void lv_cpu_release(workers *w)
{
	pthread_mutex_lock(&w->cmu);
	w->cpu_free++;
	pthread_cond_signal(&w->slot_cv);
	pthread_mutex_unlock(&w->cmu);
}

/* ---- ownership ----------------------------------------------------------------------------------------- */

int lv_own(workers *w, lv_store_tx *tx, const char *id, int expect_status, lv_task_rec *out)
{
	int rc = OPS(w)->task_get(tx, id, 1, out);
	if (rc)
		return rc == LV_ENOTFOUND ? lv_error_set(LV_ECANCELED, "task %s is gone", id) : rc;
	if (!out->lease_owner || strcmp(out->lease_owner, w->owner) != 0 ||
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

char *lv_key_segment(const char *task_id, int idx)
{
	return lv_asprintf("tasks/%s/segments/%03d.mp4", task_id, idx);
}

/* ---- claiming ------------------------------------------------------------------------------------------- */

typedef struct {
	workers *w;
	lv_task_rec t;
} claim_ctx;

static int claim_tx(lv_store_tx *tx, void *p)
{
	claim_ctx *c = p;
	int64_t now = lv_now_ms();
	return OPS(c->w)->task_claim(tx, c->w->owner, now, now + (int64_t)c->w->e->cfg->lease_seconds * 1000, &c->t);
}

/* The store's change counter, or 0 when the backend has none (then nothing is ever skipped). */
static int changes(workers *w, uint64_t *v)
{
	*v = 0;
	return OPS(w)->change_counter && OPS(w)->change_counter(w->e->store, v) == LV_OK;
}

static held *claim(workers *w)
{
	claim_ctx c;
	held *h;
	uint64_t version;
	int have = changes(w, &version), rc;
	int64_t now = lv_mono_ms();
	pthread_mutex_lock(&w->mu);
	/* Admission: a full process leaves the queue to other workers; an idle store is not asked again
	 * until something commits (or RECHECK_MS passes, for leases that ran out). */
	if (w->n_held + w->claiming >= w->max_in_flight ||
	    (have && w->claim_empty && w->claim_version == version && now - w->claim_empty_at < RECHECK_MS)) {
		pthread_mutex_unlock(&w->mu);
		return NULL;
	}
	w->claiming++;
	pthread_mutex_unlock(&w->mu);
	memset(&c, 0, sizeof(c));
	c.w = w;
	rc = lv_engine_tx(w->e, 1, claim_tx, &c);
	h = rc == LV_OK ? lv_held_get(w, c.t.id, 1) : NULL;
	pthread_mutex_lock(&w->mu);
	w->claiming--;
	w->claim_empty = rc == LV_ENOTFOUND && have;
	w->claim_version = version;
	w->claim_empty_at = now;
	pthread_mutex_unlock(&w->mu);
	if (rc) {
		if (rc != LV_ENOTFOUND)
			LV_WARN("worker %s: claim failed: %s", w->owner, lv_error_last()->message);
		return NULL;
	}
	LV_INFO("worker %s: claimed task %s (%s)", w->owner, c.t.id, lv_task_status_name((lv_task_status)c.t.status));
	lv_task_rec_clear(&c.t);
	if (h)
		h->cancel = 0;
	return h;
}

static void *stage_thread(void *arg)
{
	workers *w = arg;
	for (;;) {
		held *h = NULL;
		pthread_mutex_lock(&w->mu);
		while (!w->stopping && !(h = ready_pop(w))) {
			pthread_mutex_unlock(&w->mu);
			h = claim(w);
			pthread_mutex_lock(&w->mu);
			if (h || w->stopping)
				break;
			{
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_nsec += CLAIM_IDLE_MS * 1000000L;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&w->cv, &w->mu, &ts);
			}
		}
		pthread_mutex_unlock(&w->mu);
		if (!h) {
			if (w->stopping)
				break;
			continue;
		}
		if (!w->stopping && !h->cancel)
			lv_run_task(w, h);
		lv_held_put(w, h);
	}
	return NULL;
}

/* ---- the monitor: leases and cancellation --------------------------------------------------------------- */

typedef struct {
	workers *w;
	char (*ids)[LV_ID_MAX]; /* held here, sorted */
	size_t n;
	int *lost;
} watch_ctx;

static int cmp_id(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Which of our held tasks the store no longer has leased to us (finished, canceled, taken over):
 * one index read of the ids leased to this owner. */
static int watch_tx(lv_store_tx *tx, void *p)
{
	watch_ctx *c = p;
	char (*mine)[LV_ID_MAX] = NULL;
	size_t n = 0, i;
	int rc;
	if (!OPS(c->w)->lease_held) { /* a backend without it: read each held task */
		for (i = 0; i < c->n; i++) {
			lv_task_rec t;
			rc = OPS(c->w)->task_get(tx, c->ids[i], 0, &t);
			if (rc == LV_ENOTFOUND) {
				c->lost[i] = 1;
				continue;
			}
			if (rc)
				return rc;
			c->lost[i] = lv_task_status_is_terminal((lv_task_status)t.status) || !t.lease_owner ||
			             strcmp(t.lease_owner, c->w->owner) != 0;
			lv_task_rec_clear(&t);
		}
		return LV_OK;
	}
	if ((rc = OPS(c->w)->lease_held(tx, c->w->owner, &mine, &n)))
		return rc;
	if (n > 0)
		qsort(mine, n, sizeof(*mine), cmp_id);
	for (i = 0; i < c->n; i++)
		c->lost[i] = n == 0 || !bsearch(c->ids[i], mine, n, sizeof(*mine), cmp_id);
	free(mine);
	return LV_OK;
}

typedef struct {
	workers *w;
} renew_ctx;

static int renew_tx(lv_store_tx *tx, void *p)
{
	renew_ctx *c = p;
	int64_t now = lv_now_ms();
	return OPS(c->w)->lease_renew(tx, c->w->owner, now, now + (int64_t)c->w->e->cfg->lease_seconds * 1000);
}

void lv_held_cancel(workers *w, held *h)
{
	h->cancel = 1;
	/* The driver looks for the task's queued jobs (only) when this count moves. */
	pthread_mutex_lock(&w->dmu);
	w->cancel_gen++;
	pthread_cond_broadcast(&w->dcv);
	pthread_mutex_unlock(&w->dmu);
}

/* Renew leases every third of their length; look for canceled or lost tasks only when the store
 * changed (its change counter moved) since the last look, so an idle process with many held tasks
 * costs next to nothing. */
static void *monitor_thread(void *arg)
{
	workers *w = arg;
	int64_t next_renew = 0, last_look = 0;
	uint64_t seen = 0;
	int looked = 0;
	while (!w->stopping) {
		watch_ctx c;
		held *h;
		size_t i = 0, n_held;
		int64_t now = lv_mono_ms();
		uint64_t version = 0;
		int have = changes(w, &version);
		pthread_mutex_lock(&w->mu);
		n_held = w->n_held;
		pthread_mutex_unlock(&w->mu);
		if (now >= next_renew && n_held > 0) {
			renew_ctx r = { w };
			if (lv_engine_tx(w->e, 1, renew_tx, &r))
				LV_WARN("worker %s: lease renewal failed: %s", w->owner, lv_error_last()->message);
			next_renew = now + (int64_t)w->e->cfg->lease_seconds * 1000 / 3;
		}
		if (n_held == 0 || (have && looked && version == seen && now - last_look < RECHECK_MS)) {
			lv_sleep_ms(MONITOR_MS);
			continue;
		}
		memset(&c, 0, sizeof(c));
		c.w = w;
		/* The ids are taken before the store is read: a task claimed after this is not judged. */
		pthread_mutex_lock(&w->mu);
		c.ids = lv_calloc(w->n_held + 1, sizeof(*c.ids));
		c.lost = lv_calloc(w->n_held + 1, sizeof(*c.lost));
		for (h = w->held; h && c.ids && c.lost; h = h->next)
			lv_strlcpy(c.ids[c.n++], h->id, LV_ID_MAX);
		pthread_mutex_unlock(&w->mu);
		if (c.n > 0 && lv_engine_tx(w->e, 0, watch_tx, &c) == LV_OK) {
			seen = version;
			looked = 1;
			last_look = now;
			for (i = 0; i < c.n; i++) {
				if (!c.lost[i])
					continue;
				if ((h = lv_held_get(w, c.ids[i], 0)) != NULL) {
					if (!h->cancel) {
						LV_INFO("worker %s: task %s was canceled or taken over; stopping its work",
						        w->owner, h->id);
						lv_held_cancel(w, h);
					}
					lv_held_put(w, h);
				}
			}
		}
		free(c.ids);
		free(c.lost);
		lv_sleep_ms(MONITOR_MS);
	}
	return NULL;
}

/* A webhook thread: the outbox's sender until the workers stop. */
static void *outbox_main(void *arg)
{
	lv_workers *w = arg;
	lv_outbox_run(w->e, &w->stopping);
	return NULL;
}

/* ---- start and stop --------------------------------------------------------------------------------------- */

static int release_tx(lv_store_tx *tx, void *p)
{
	workers *w = p;
	return OPS(w)->lease_release(tx, w->owner);
}

static int cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

int lv_workers_start(lv_workers **out, lv_engine *e, const lv_worker_options *opts)
{
	lv_worker_options defaults = LV_WORKER_OPTIONS_INIT;
	workers *w;
	int i;
	if (!out)
		return lv_error_set(LV_EINVALID, "lv_workers_start: out is NULL");
	*out = NULL;
	if (lv_engine_require_store(e))
		return LV_EINVALID;
	if (!opts)
		opts = &defaults;
	if (opts->version != LV_WORKER_OPTIONS_VERSION)
		return lv_error_set(LV_EINVALID, "lv_workers_start: unsupported options version %u", opts->version);
	if (!(w = lv_calloc(1, sizeof(*w))))
		return LV_ENOMEM;
	w->e = e;
	w->scratch_lock = -1;
	w->n_stage = opts->workers < 0 ? e->cfg->workers : opts->workers;
	w->webhooks = opts->webhooks != 0;
	if (opts->owner) {
		lv_strlcpy(w->owner, opts->owner, sizeof(w->owner));
	} else {
		char host[48] = "host", rnd[9];
		gethostname(host, sizeof(host) - 1);
		lv_random_base62(rnd, 8);
		snprintf(w->owner, sizeof(w->owner), "%.40s:%ld:%s", host, (long)getpid(), rnd);
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_mutex_init(&w->dmu, NULL);
	pthread_cond_init(&w->dcv, NULL);
	pthread_mutex_init(&w->cmu, NULL);
	pthread_cond_init(&w->ccv, NULL);
	pthread_cond_init(&w->slot_cv, NULL);
	w->n_cpu = cores();
	w->cpu_free = w->n_cpu;
	w->max_in_flight = (size_t)lv_config_max_tasks_in_flight(e->cfg, w->n_cpu);
	if (e->cfg->n_providers && !(w->slots = lv_calloc(e->cfg->n_providers, sizeof(*w->slots)))) {
		lv_workers_stop(w);
		return LV_ENOMEM;
	}
	for (i = 0; i < (int)e->cfg->n_providers; i++)
		if (e->cfg->providers[i].info->stages & LV_STAGE_VIDEO) {
			w->slots[w->n_slots].name = e->cfg->providers[i].name;
			w->slots[w->n_slots++].limit = e->cfg->providers[i].max_concurrent_jobs;
		}
	if (w->n_stage > 0) {
		if (lv_scratch_open(w) || lv_driver_start(w)) {
			lv_workers_stop(w);
			return lv_error_last()->status;
		}
		w->stage_threads = lv_calloc((size_t)w->n_stage, sizeof(pthread_t));
		if (!w->stage_threads) {
			lv_workers_stop(w);
			return LV_ENOMEM;
		}
		for (i = 0; i < w->n_stage; i++)
			if (pthread_create(&w->stage_threads[i], NULL, stage_thread, w) != 0) {
				w->n_stage = i; /* lv_workers_stop() joins the ones started */
				lv_workers_stop(w);
				return lv_error_set(LV_EINTERNAL, "workers: cannot start a pipeline thread (%d started)", i);
			}
		if (pthread_create(&w->monitor, NULL, monitor_thread, w) != 0) {
			lv_workers_stop(w);
			return lv_error_set(LV_EINTERNAL, "workers: cannot start the lease monitor thread");
		}
		w->monitor_started = 1;
	}
	if (w->webhooks) {
		w->n_hook = 2;
		w->hook_threads = lv_calloc((size_t)w->n_hook, sizeof(pthread_t));
		if (!w->hook_threads) {
			lv_workers_stop(w);
			return LV_ENOMEM;
		}
		for (i = 0; i < w->n_hook; i++)
			if (pthread_create(&w->hook_threads[i], NULL, outbox_main, w) != 0) {
				w->n_hook = i;
				lv_workers_stop(w);
				return lv_error_set(LV_EINTERNAL, "workers: cannot start a webhook thread (%d started)", i);
			}
	}
	LV_INFO("workers %s: %d pipeline thread(s), %d CPU slot(s), at most %zu task(s) in flight, webhooks %s",
	        w->owner, w->n_stage, w->n_cpu, w->max_in_flight, w->webhooks ? "on" : "off");
	*out = w;
	return LV_OK;
}

void lv_workers_stop(lv_workers *w)
{
	held *h;
	int i;
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	for (h = w->held; h; h = h->next)
		h->cancel = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->stage_threads)
		for (i = 0; i < w->n_stage; i++)
			pthread_join(w->stage_threads[i], NULL);
	if (w->monitor_started)
		pthread_join(w->monitor, NULL);
	lv_driver_stop(w);
	if (w->hook_threads)
		for (i = 0; i < w->n_hook; i++)
			pthread_join(w->hook_threads[i], NULL);
	/* Whatever is left in the ready queue goes back to the store. */
	pthread_mutex_lock(&w->mu);
	while ((h = ready_pop(w)) != NULL) {
		pthread_mutex_unlock(&w->mu);
		lv_held_put(w, h);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	if (w->n_stage > 0 && lv_engine_tx(w->e, 1, release_tx, w))
		LV_WARN("workers %s: could not release leases: %s", w->owner, lv_error_last()->message);
	while ((h = w->held) != NULL) { /* references still held by nobody: free them */
		w->held = h->next;
		held_free(h);
	}
	lv_scratch_close(w);
	free(w->stage_threads);
	free(w->hook_threads);
	free(w->heap);
	free(w->cq);
	free(w->slots);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->dmu);
	pthread_cond_destroy(&w->dcv);
	pthread_mutex_destroy(&w->cmu);
	pthread_cond_destroy(&w->ccv);
	pthread_cond_destroy(&w->slot_cv);
	LV_INFO("workers %s: stopped", w->owner);
	free(w);
}

size_t lv_workers_active(lv_workers *w)
{
	size_t n;
	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	n = w->n_held;
	pthread_mutex_unlock(&w->mu);
	return n;
}
