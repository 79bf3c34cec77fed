/*
 * The workers, the top of the pipeline: stage threads that claim tasks and run their stages, the ready
 * queue of tasks the driver hands back, the monitor that renews leases and notices cancellations, the
 * webhook threads; starting and stopping all of it.  The other parts (scratch.h, held.h, cpu.h,
 * driver.h, stages.h) are embedded here and never call up: the driver hands a generated task back
 * through a callback, the registry says through one that a record left.
 */
#include "longvideo/worker.h"
#include "pipeline/scratch.h"
#include "pipeline/stages.h"
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

typedef struct lv_workers workers;

struct lv_workers {
	lv_engine *e;
	char owner[96];
	int n_stage;
	int webhooks;
	volatile int stopping;    /* read by every part (its own pointer to it) */
	lv_waiter stop;           /* the monitor's and the webhook threads' idle sleeps end at a stop */
	pthread_mutex_t mu;       /* the ready queue, admission, the idle-claim state */
	pthread_cond_t cv;        /* stage threads: work may be ready */
	held *ready_head, *ready_tail;
	/* admission (under mu): at most max_in_flight tasks held; claims in progress count too */
	size_t max_in_flight;
	size_t claiming;
	/* an idle claim is skipped while the store's change counter stands still (under mu) */
	int claim_empty;
	uint64_t claim_version;
	int64_t claim_empty_at;
	pthread_t *stage_threads;
	pthread_t monitor;
	int monitor_started;
	/* webhooks */
	pthread_t *hook_threads;
	int n_hook;
	/* the parts, bottom up */
	lv_scratch scratch;
	lv_held_tasks held;
	lv_cpu_pool cpu;
	lv_driver driver;
	lv_stages stages;
};

/* ---- the ready queue --------------------------------------------------------------------------------- */

/* A record left the registry: a stage thread may claim again. */
static void held_released(void *arg)
{
	workers *w = arg;
	pthread_mutex_lock(&w->mu);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Queue a held task for a stage thread (the reference moves to the queue): the driver's callback when
 * a task's segments are all generated. */
static void ready_push(void *arg, held *h)
{
	workers *w = arg;
	if (lv_held_defer(h)) { /* the thread still working on it carries on with it */
		lv_held_put(&w->held, h);
		return;
	}
	pthread_mutex_lock(&w->mu);
	if (h->in_ready) {
		pthread_mutex_unlock(&w->mu);
		lv_held_put(&w->held, h);
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
	if (lv_held_count(&w->held) + w->claiming >= w->max_in_flight ||
	    (have && w->claim_empty && w->claim_version == version && now - w->claim_empty_at < RECHECK_MS)) {
		pthread_mutex_unlock(&w->mu);
		return NULL;
	}
	w->claiming++;
	pthread_mutex_unlock(&w->mu);
	memset(&c, 0, sizeof(c));
	c.w = w;
	rc = lv_engine_tx(w->e, 1, claim_tx, &c);
	h = rc == LV_OK ? lv_held_get(&w->held, c.t.id, 1) : NULL;
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
			lv_run_task(&w->stages, h);
		lv_held_put(&w->held, h);
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
		n_held = lv_held_count(&w->held);
		if (now >= next_renew && n_held > 0) {
			renew_ctx r = { w };
			if (lv_engine_tx(w->e, 1, renew_tx, &r))
				LV_WARN("worker %s: lease renewal failed: %s", w->owner, lv_error_last()->message);
			next_renew = now + (int64_t)w->e->cfg->lease_seconds * 1000 / 3;
		}
		if (n_held == 0 || (have && looked && version == seen && now - last_look < RECHECK_MS)) {
			lv_waiter_sleep(&w->stop, MONITOR_MS);
			continue;
		}
		memset(&c, 0, sizeof(c));
		c.w = w;
		/* The ids are taken before the store is read: a task claimed after this is not judged. */
		if (lv_held_ids(&w->held, &c.ids, &c.n) == LV_OK && !(c.lost = lv_calloc(c.n + 1, sizeof(*c.lost))))
			c.n = 0;
		if (c.n > 0 && lv_engine_tx(w->e, 0, watch_tx, &c) == LV_OK) {
			seen = version;
			looked = 1;
			last_look = now;
			for (i = 0; i < c.n; i++) {
				if (!c.lost[i])
					continue;
				if ((h = lv_held_get(&w->held, c.ids[i], 0)) != NULL) {
					if (!h->cancel) {
						LV_INFO("worker %s: task %s was canceled or taken over; stopping its work",
						        w->owner, h->id);
						lv_driver_cancel(&w->driver, h);
					}
					lv_held_put(&w->held, h);
				}
			}
		}
		free(c.ids);
		free(c.lost);
		lv_waiter_sleep(&w->stop, MONITOR_MS);
	}
	return NULL;
}

/* A webhook thread: the outbox's sender until the workers stop. */
static void *outbox_main(void *arg)
{
	lv_workers *w = arg;
	lv_outbox_run(w->e, &w->stop);
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
	w->scratch.lock = -1;
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
	lv_waiter_init(&w->stop);
	/* The parts, bottom up; each gets what it uses and nothing above it. */
	lv_held_init(&w->held, e, w->owner, held_released, w);
	lv_cpu_init(&w->cpu, cores(), &w->stopping);
	w->max_in_flight = (size_t)lv_config_max_tasks_in_flight(e->cfg, w->cpu.n);
	if (lv_driver_init(&w->driver, e, &w->held, &w->cpu, &w->stopping, ready_push, w)) {
		lv_workers_stop(w);
		return LV_ENOMEM;
	}
	w->stages.e = e;
	w->stages.held = &w->held;
	w->stages.cpu = &w->cpu;
	w->stages.driver = &w->driver;
	w->stages.stopping = &w->stopping;
	if (w->n_stage > 0) {
		if (lv_scratch_open(&w->scratch, e->cfg->data_dir)) {
			lv_workers_stop(w);
			return lv_error_last()->status;
		}
		w->held.scratch = w->scratch.dir; /* claims' directories go inside */
		if (lv_driver_start(&w->driver) || lv_cpu_start(&w->cpu)) {
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
	        w->owner, w->n_stage, w->cpu.n, w->max_in_flight, w->webhooks ? "on" : "off");
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
	lv_waiter_stop(&w->stop);
	lv_held_cancel_all(&w->held);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->stage_threads)
		for (i = 0; i < w->n_stage; i++)
			pthread_join(w->stage_threads[i], NULL);
	if (w->monitor_started)
		pthread_join(w->monitor, NULL);
	lv_driver_stop(&w->driver);
	lv_cpu_stop(&w->cpu);
	if (w->hook_threads)
		for (i = 0; i < w->n_hook; i++)
			pthread_join(w->hook_threads[i], NULL);
	/* Whatever is left in the ready queue goes back to the store. */
	pthread_mutex_lock(&w->mu);
	while ((h = ready_pop(w)) != NULL) {
		pthread_mutex_unlock(&w->mu);
		lv_held_put(&w->held, h);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	if (w->n_stage > 0 && lv_engine_tx(w->e, 1, release_tx, w))
		LV_WARN("workers %s: could not release leases: %s", w->owner, lv_error_last()->message);
	lv_held_close(&w->held);
	lv_scratch_close(&w->scratch);
	lv_driver_destroy(&w->driver);
	lv_cpu_destroy(&w->cpu);
	free(w->stage_threads);
	free(w->hook_threads);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	lv_waiter_destroy(&w->stop);
	LV_INFO("workers %s: stopped", w->owner);
	free(w);
}

size_t lv_workers_active(lv_workers *w)
{
	return w ? lv_held_count(&w->held) : 0;
}
