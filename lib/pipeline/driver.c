/*
 * The segment driver: a timer heap of segment jobs and a few threads that
 * take the next due job, make one short provider call (submit, poll or
 * fetch), persist what it learned, and put the job back with its next due
 * time.  Fetches that are CPU work (local rendering) go to the CPU pool.
 * See driver.h for what it owns and how a task comes back from it.
 */
#include "core/creative.h"
#include "core/task.h"
#include "pipeline/driver.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS(d) ((d)->e->store->ops)
#define DRIVER_THREADS 4
#define MAX_POLL_ERRORS 8
#define SEGMENT_TIMEOUT_MS (60LL * 60 * 1000)

enum { SEG_SUBMIT = 0, SEG_POLL, SEG_FETCH, SEG_DONE, SEG_FAILED };

struct seg_job {
	held *task;
	int idx;
	int phase;
	int attempts;        /* submissions so far (stored) */
	int poll_errors;     /* consecutive transient errors */
	int64_t due;         /* monotonic ms */
	int64_t started;     /* monotonic ms of the current submission */
	int queued;          /* in the driver heap or being worked */
	int seconds;         /* used in the film */
	int billed_seconds;  /* generated */
	int start;
	char *job_id;
	char *job_state;
	char *prompt, *visual, *camera;
	char **refs;         /* local files of the reference images */
	char **ref_names;    /* the name of the character each one shows */
	char **ref_keys;     /* their storage keys (for URLs the vendor fetches) */
	size_t n_refs;
	int has_slot;        /* holds one of its provider's max_concurrent_jobs (under the driver's mu) */
	struct seg_job *next_wait; /* in its provider's wait list (under the driver's mu) */
	long long seed;      /* chosen by a regeneration, or -1 (derived from the task and shot) */
};

/* A video provider's jobs in flight across the process, and the jobs waiting for one (under the driver's mu). */
struct provider_slots {
	const char *name;
	int limit;
	int used;
	seg_job *wait_head, *wait_tail;
};

/* A task's generation (held->gen): made by lv_generation_start(), freed when the driver lets the task go. */
struct lv_gen {
	lv_driver *d;
	pthread_mutex_t mu; /* everything below, and the jobs' phase and queued */
	seg_job *segs;
	size_t n_segs;
	size_t inflight;
	size_t done;
	int failed;          /* the task failed: stop everything */
	int concurrency;
	char resolution[8], aspect_ratio[8], language[16], provider[64];
	int width, height;
	int regen_attempt;   /* > 0 while a shot regeneration runs: its clip gets a key of its own */
};

static void gen_free(struct lv_gen *g)
{
	size_t i, k;
	if (!g)
		return;
	for (i = 0; i < g->n_segs; i++) {
		seg_job *j = &g->segs[i];
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
	free(g->segs);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

char *lv_key_segment(const char *task_id, int idx)
{
	return lv_asprintf("tasks/%s/segments/%03d.mp4", task_id, idx);
}

/* ---- the timer heap (under mu) ------------------------------------------------------------------ */

static void heap_swap(lv_driver *d, size_t a, size_t b)
{
	seg_job *t = d->heap[a];
	d->heap[a] = d->heap[b];
	d->heap[b] = t;
}

static int heap_push(lv_driver *d, seg_job *j)
{
	size_t i;
	if (d->heap_n == d->heap_cap) {
		size_t cap = d->heap_cap ? d->heap_cap * 2 : 64;
		seg_job **h = lv_realloc(d->heap, cap * sizeof(*h));
		if (!h)
			return LV_ENOMEM;
		d->heap = h;
		d->heap_cap = cap;
	}
	i = d->heap_n++;
	d->heap[i] = j;
	while (i > 0 && d->heap[(i - 1) / 2]->due > d->heap[i]->due) {
		heap_swap(d, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return LV_OK;
}

static seg_job *heap_pop(lv_driver *d)
{
	seg_job *top = d->heap[0];
	size_t i = 0;
	d->heap[0] = d->heap[--d->heap_n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < d->heap_n && d->heap[l]->due < d->heap[m]->due)
			m = l;
		if (r < d->heap_n && d->heap[r]->due < d->heap[m]->due)
			m = r;
		if (m == i)
			break;
		heap_swap(d, i, m);
		i = m;
	}
	return top;
}

static void driver_schedule(lv_driver *d, seg_job *j, int64_t due)
{
	pthread_mutex_lock(&d->mu);
	j->due = due;
	j->queued = 1;
	if (heap_push(d, j) == LV_OK)
		pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

/* ---- provider slots (under mu) ------------------------------------------------------------------------ */

static provider_slots *slots_of(lv_driver *d, const char *provider)
{
	size_t i;
	for (i = 0; i < d->n_slots; i++)
		if (!strcmp(d->slots[i].name, provider))
			return &d->slots[i];
	return NULL;
}

/* Take one of the provider's job slots for j, or queue j until one is free (returns 0). */
static int slot_take(lv_driver *d, seg_job *j)
{
	provider_slots *s;
	int ok = 1;
	pthread_mutex_lock(&d->mu);
	s = slots_of(d, j->task->gen->provider);
	if (s && s->used >= s->limit) {
		j->next_wait = NULL;
		if (s->wait_tail)
			s->wait_tail->next_wait = j;
		else
			s->wait_head = j;
		s->wait_tail = j;
		ok = 0;
	} else {
		if (s)
			s->used++;
		j->has_slot = 1;
	}
	pthread_mutex_unlock(&d->mu);
	return ok;
}

/* Give j's slot to the first job waiting for one (it runs at once), or back to the pool. */
static void slot_give(lv_driver *d, seg_job *j)
{
	provider_slots *s;
	pthread_mutex_lock(&d->mu);
	if (j->has_slot) {
		j->has_slot = 0;
		if ((s = slots_of(d, j->task->gen->provider)) != NULL) {
			seg_job *next = s->wait_head;
			if (next) {
				s->wait_head = next->next_wait;
				if (!s->wait_head)
					s->wait_tail = NULL;
				next->has_slot = 1;
				next->due = lv_mono_ms();
				if (heap_push(d, next) == LV_OK)
					pthread_cond_signal(&d->cv);
			} else {
				s->used--;
			}
		}
	}
	pthread_mutex_unlock(&d->mu);
}

/* Waiting jobs of canceled tasks (all of them when stopping) go back to the heap to leave. */
static void slots_flush_canceled(lv_driver *d, int64_t now)
{
	size_t i;
	for (i = 0; i < d->n_slots; i++) {
		provider_slots *s = &d->slots[i];
		seg_job **pp = &s->wait_head, *j;
		s->wait_tail = NULL;
		while ((j = *pp) != NULL) {
			if (j->task->cancel || *d->stopping) {
				*pp = j->next_wait;
				j->due = now;
				heap_push(d, j);
			} else {
				s->wait_tail = j;
				pp = &j->next_wait;
			}
		}
	}
}

/* ---- a job leaves the driver ---------------------------------------------------------------------------- */

static void job_finished(lv_driver *d, seg_job *j)
{
	held *h = j->task;
	int all_done, next_submit = -1, last;
	size_t i;
	slot_give(d, j);
	pthread_mutex_lock(&h->gen->mu);
	j->queued = 0;
	h->gen->inflight--;
	if (j->phase == SEG_DONE)
		h->gen->done++;
	all_done = h->gen->done == h->gen->n_segs && !h->gen->failed;
	/* Keep segment_concurrency jobs in flight: start the next one waiting. */
	if (!h->gen->failed && !h->cancel) {
		for (i = 0; i < h->gen->n_segs; i++)
			if (h->gen->segs[i].phase == SEG_SUBMIT && !h->gen->segs[i].queued) {
				next_submit = (int)i;
				h->gen->segs[i].queued = 1;
				h->gen->inflight++;
				break;
			}
	}
	/* Decided in the same critical section as the count: when the last two jobs finish at once on two
	 * threads, exactly one of them sees none left and ends the driver's hold. */
	last = h->gen->inflight == 0;
	pthread_mutex_unlock(&h->gen->mu);
	if (next_submit >= 0) {
		driver_schedule(d, &h->gen->segs[next_submit], lv_mono_ms());
		return;
	}
	if (last) {
		/* The driver's hold on the task ends: its generation goes, and the task (with the driver's
		 * reference) goes back for the audio stage, or is just released. */
		struct lv_gen *g = h->gen;
		int generated = all_done && !h->cancel;
		h->gen = NULL;
		gen_free(g);
		if (generated)
			d->generated(d->generated_arg, h);
		else
			lv_held_put(d->held, h);
	}
}

/* ---- persisting a segment's progress ------------------------------------------------------------------------- */

typedef struct {
	lv_driver *d;
	seg_job *j;
	int status;         /* LV_SEG_* to write */
	const char *output; /* storage key when ready */
	const char *error;
	int all_ready;      /* out */
} seg_ctx;

/* Write the job's segment record in tx; *ready of the task's *n segments are ready then. */
static int seg_write(lv_store_tx *tx, seg_ctx *c, const char *id, size_t *ready, size_t *n)
{
	lv_driver *d = c->d;
	lv_segment_rec *segs = NULL, *s = NULL;
	size_t i;
	int rc;
	*ready = *n = 0;
	if ((rc = OPS(d)->segment_list(tx, id, &segs, n)))
		goto out;
	for (i = 0; i < *n; i++)
		if (segs[i].idx == c->j->idx)
			s = &segs[i];
	if (!s) {
		rc = lv_error_set(LV_EINTERNAL, "task %s has no segment %d", id, c->j->idx);
		goto out;
	}
	s->status = c->status;
	s->attempts = c->j->attempts;
	s->updated_at = lv_now_ms();
	if ((rc = lv_strset(&s->job_id, c->j->job_id)) || (rc = lv_strset(&s->job_state, c->j->job_state)) ||
	    (rc = lv_strset(&s->output, c->output)) || (rc = lv_strset(&s->error, c->error)))
		goto out;
	if ((rc = OPS(d)->segment_update(tx, s)))
		goto out;
	for (i = 0; i < *n; i++)
		*ready += segs[i].status == LV_SEG_READY;
out:
	lv_segment_recs_free(segs, *n);
	return rc;
}

/* Progress that moves nothing (a submission's job id and state, a failure): the task is not written. */
static int seg_tx(lv_store_tx *tx, void *p)
{
	seg_ctx *c = p;
	lv_task_rec t;
	size_t ready, n;
	int rc = lv_own(c->d->held, tx, c->j->task->id, LV_TASK_GENERATING, &t);
	if (rc)
		return rc;
	rc = seg_write(tx, c, t.id, &ready, &n);
	lv_task_rec_clear(&t);
	return rc;
}

/* A ready shot, in the transaction of lv_advance(): the task counts it, and the last one moves the task
 * on to audio (with the shot's record, so a crash leaves either both or neither); the others keep it in
 * generating. */
static int seg_ready(lv_store_tx *tx, lv_task_rec *t, void *p, int *to)
{
	seg_ctx *c = p;
	size_t ready, n;
	int prog, rc;
	c->all_ready = 0;
	if ((rc = seg_write(tx, c, t->id, &ready, &n)))
		return rc;
	t->shots_done = (int)ready;
	prog = lv_stage_progress(LV_TASK_GENERATING) +
	       (lv_stage_progress(LV_TASK_AUDIO) - lv_stage_progress(LV_TASK_GENERATING)) * (int)ready / (int)n;
	if (prog > t->progress)
		t->progress = prog;
	c->all_ready = ready == n;
	if (!c->all_ready)
		*to = LV_TASK_GENERATING;
	return LV_OK;
}

static int persist(lv_driver *d, seg_job *j, int status, const char *output, const char *error, int *all_ready)
{
	seg_ctx c = { d, j, status, output, error, 0 };
	held *h = j->task;
	int was_canceled = h->cancel, rc;
	if (status == LV_SEG_READY)
		rc = lv_advance(d->held, h, LV_TASK_GENERATING, LV_TASK_AUDIO, seg_ready, &c);
	else
		rc = lv_engine_tx(d->e, 1, seg_tx, &c);
	if (all_ready)
		*all_ready = c.all_ready;
	if (rc == LV_ECANCELED && !was_canceled)
		lv_driver_cancel(d, h);
	return rc;
}

/* ---- one step ------------------------------------------------------------------------------------------------ */

static const lv_provider *video_provider(lv_driver *d, held *h)
{
	return lv_providers_get(d->e->providers, h->gen->provider);
}

static void fill_job(held *h, seg_job *j, lv_segment_job *sj)
{
	memset(sj, 0, sizeof(*sj));
	sj->task_id = h->id;
	sj->index = j->idx;
	sj->seconds = j->billed_seconds;
	sj->resolution = h->gen->resolution;
	sj->aspect_ratio = h->gen->aspect_ratio;
	sj->width = h->gen->width;
	sj->height = h->gen->height;
	sj->prompt = j->prompt;
	sj->visual = j->visual;
	sj->camera = j->camera;
	sj->references = (const char *const *)j->refs;
	sj->reference_names = (const char *const *)j->ref_names;
	sj->n_references = j->n_refs;
	sj->language = h->gen->language;
	sj->job_id = j->job_id;
	sj->job_state = j->job_state;
	/* A stable seed per task and shot: a retry makes the same picture (a regeneration picks its own). */
	if (j->seed >= 0)
		sj->seed = (uint32_t)j->seed;
	else {
		uint32_t s = 2166136261u;
		const char *c;
		for (c = h->id; *c; c++)
			s = (s ^ (uint8_t)*c) * 16777619u;
		sj->seed = s ^ ((uint32_t)j->idx * 2654435761u);
	}
}

/* How long a reference's presigned URL stays valid: the vendor fetches it when the job starts, which a
 * queue at the vendor can delay. */
#define REFERENCE_URL_SECONDS (6 * 3600)

/* The URLs a vendor can fetch the shot's references from: the storage's public URL of the object, or a
 * presigned one.  NULL (base64 only) when the storage gives neither (local storage).  Free with
 * reference_urls_free. */
static char **reference_urls(lv_driver *d, const seg_job *j)
{
	lv_storage *st = d->e->storage;
	char **urls;
	size_t i, found = 0;
	if (j->n_refs == 0 || !j->ref_keys || !(urls = lv_calloc(j->n_refs, sizeof(char *))))
		return NULL;
	for (i = 0; i < j->n_refs; i++) {
		char *u = NULL;
		if (st->ops->url(st, j->ref_keys[i], &u) == LV_OK && u &&
		    (!strncmp(u, "https://", 8) || !strncmp(u, "http://", 7))) {
			urls[i] = u;
		} else {
			free(u);
			u = NULL;
			if (st->ops->presign && st->ops->presign(st, j->ref_keys[i], REFERENCE_URL_SECONDS, &u) == LV_OK)
				urls[i] = u;
			else
				free(u);
		}
		found += urls[i] != NULL;
	}
	lv_error_clear();
	if (found == 0) {
		free(urls);
		return NULL;
	}
	return urls;
}

static void reference_urls_free(char **urls, size_t n)
{
	size_t i;
	for (i = 0; urls && i < n; i++)
		free(urls[i]);
	free(urls);
}

static void segment_failed(lv_driver *d, seg_job *j, const lv_provider_error *err)
{
	held *h = j->task;
	char msg[700];
	int first;
	pthread_mutex_lock(&h->gen->mu);
	first = !h->gen->failed;
	h->gen->failed = 1;
	pthread_mutex_unlock(&h->gen->mu);
	j->phase = SEG_FAILED;
	if (!first)
		return;
	persist(d, j, LV_SEG_FAILED, NULL, err->message, NULL);
	snprintf(msg, sizeof(msg), "shot %d could not be generated: %s", j->idx, err->message);
	lv_fail_task(d->held, h, LV_TASK_GENERATING, err->code[0] ? err->code : "segment_failed", msg, j->idx);
	lv_driver_cancel(d, h);
}

static int64_t backoff_ms(int n)
{
	int64_t d = 500LL << (n < 6 ? n : 6);
	return d > 30000 ? 30000 : d;
}

/* Fetch the finished clip, store it, mark the segment ready.  Runs on a driver or CPU thread. */
static void do_fetch(lv_driver *d, seg_job *j)
{
	held *h = j->task;
	const lv_provider *p = video_provider(d, h);
	lv_provider_error err;
	lv_call_ctx ctx = { &h->cancel, h->id, h->work_dir };
	lv_segment_job sj;
	char *dir = lv_asprintf("%s/segments", h->work_dir), *path = NULL;
	char *key = h->gen->regen_attempt > 0 ? lv_asprintf("tasks/%s/segments/%03d_r%d.mp4", h->id, j->idx, h->gen->regen_attempt)
	                                 : lv_key_segment(h->id, j->idx);
	int rc, all_ready = 0;
	int64_t t0;
	memset(&err, 0, sizeof(err));
	fill_job(h, j, &sj);
	if (!dir || !key || lv_mkdir_p(dir, 0) || !(path = lv_asprintf("%s/%03d.mp4", dir, j->idx))) {
		lv_provider_fail(&err, "internal_error", 0, "%s", lv_error_last()->message);
		segment_failed(d, j, &err);
		goto out;
	}
	t0 = lv_mono_ms();
	rc = p->video->fetch(p->self, &ctx, &sj, path, &err);
	lv_count_call(d->e, p, LV_TASK_GENERATING, rc, t0);
	if (rc == LV_ECANCELED || h->cancel)
		goto out;
	if (rc) {
		if (err.retryable && j->poll_errors++ < MAX_POLL_ERRORS) {
			free(dir);
			free(path);
			free(key);
			driver_schedule(d, j, lv_mono_ms() + backoff_ms(j->poll_errors));
			return;
		}
		segment_failed(d, j, &err);
		goto out;
	}
	if (d->e->storage->ops->put_file(d->e->storage, key, path, "video/mp4")) {
		lv_provider_fail(&err, "internal_error", 0, "storing shot %d: %s", j->idx, lv_error_last()->message);
		segment_failed(d, j, &err);
		goto out;
	}
	j->phase = SEG_DONE;
	if (persist(d, j, LV_SEG_READY, key, NULL, &all_ready) == LV_OK) {
		LV_INFO("task %s: shot %d ready%s", h->id, j->idx, all_ready ? " (all shots ready)" : "");
	} else {
		j->phase = SEG_FAILED; /* canceled meanwhile: the work is discarded */
	}
out:
	free(dir);
	free(path);
	free(key);
	job_finished(d, j);
}

/* A fetch that is CPU work, on a thread of the CPU pool (which takes a slot for it). */
static void cpu_fetch(void *arg)
{
	seg_job *j = arg;
	lv_driver *d = j->task->gen->d;
	if (j->task->cancel || *d->stopping) {
		job_finished(d, j);
	} else {
		lv_cpu_acquire(d->cpu);
		do_fetch(d, j);
		lv_cpu_release(d->cpu);
	}
}

static void step(lv_driver *d, seg_job *j)
{
	held *h = j->task;
	const lv_provider *p = video_provider(d, h);
	lv_provider_error err;
	lv_call_ctx ctx = { &h->cancel, h->id, h->work_dir };
	lv_segment_job sj;
	lv_job_status st;
	int64_t t0;
	int rc;

	if (h->cancel || h->gen->failed || *d->stopping) {
		/* Abandoned: ask the vendor to stop a running job where it can (not when we are only stopping). */
		if (!*d->stopping && j->phase == SEG_POLL && j->job_id && p && p->video->cancel) {
			fill_job(h, j, &sj);
			p->video->cancel(p->self, &ctx, &sj);
		}
		job_finished(d, j);
		return;
	}
	/* A job at the vendor counts against the provider's max_concurrent_jobs until it leaves. */
	if (!j->has_slot && (j->phase == SEG_SUBMIT || j->phase == SEG_POLL) && !slot_take(d, j))
		return; /* queued: slot_give schedules it */
	memset(&err, 0, sizeof(err));
	memset(&st, 0, sizeof(st));
	fill_job(h, j, &sj);
	switch (j->phase) {
	case SEG_SUBMIT:
		if (j->attempts > d->e->cfg->segment_retries) {
			lv_provider_fail(&err, "segment_failed", 0, "gave up after %d attempts", j->attempts);
			segment_failed(d, j, &err);
			job_finished(d, j);
			return;
		}
		{
			char **urls = reference_urls(d, j);
			sj.reference_urls = (const char *const *)urls;
			t0 = lv_mono_ms();
			rc = p->video->submit(p->self, &ctx, &sj, &st, &err);
			lv_count_call(d->e, p, LV_TASK_GENERATING, rc, t0);
			sj.reference_urls = NULL;
			reference_urls_free(urls, j->n_refs);
		}
		if (rc == LV_OK && st.job_id) {
			free(j->job_id);
			free(j->job_state);
			j->job_id = st.job_id;
			j->job_state = st.job_state;
			st.job_id = st.job_state = NULL;
			j->attempts++;
			j->poll_errors = 0;
			j->started = lv_mono_ms();
			j->phase = SEG_POLL;
			/* The job id is stored before anything else: a restarted worker polls, it does not pay twice. */
			if (persist(d, j, LV_SEG_RUNNING, NULL, NULL, NULL)) {
				job_finished(d, j);
				return;
			}
			LV_DEBUG("task %s: shot %d submitted as %s", h->id, j->idx, j->job_id);
			driver_schedule(d, j, lv_mono_ms() + (st.poll_after_ms > 0 ? st.poll_after_ms : 0));
			return;
		}
		free(st.job_id);
		free(st.job_state);
		if (err.retryable && j->poll_errors++ < MAX_POLL_ERRORS) {
			driver_schedule(d, j, lv_mono_ms() + backoff_ms(j->poll_errors));
			return;
		}
		segment_failed(d, j, &err);
		job_finished(d, j);
		return;
	case SEG_POLL:
		t0 = lv_mono_ms();
		rc = p->video->poll(p->self, &ctx, &sj, &st, &err);
		lv_count_call(d->e, p, LV_TASK_GENERATING, rc, t0);
		if (st.job_state) {
			free(j->job_state);
			j->job_state = st.job_state;
			st.job_state = NULL;
		}
		free(st.job_id);
		if (rc == LV_OK && (st.state == LV_JOB_PENDING || st.state == LV_JOB_RUNNING)) {
			j->poll_errors = 0;
			if (lv_mono_ms() - j->started > SEGMENT_TIMEOUT_MS) {
				lv_provider_fail(&err, "provider_timeout", 0,
				                 "provider '%s' did not finish the shot within %lld minutes", h->gen->provider,
				                 SEGMENT_TIMEOUT_MS / 60000);
				segment_failed(d, j, &err);
				job_finished(d, j);
				return;
			}
			driver_schedule(d, j, lv_mono_ms() + (st.poll_after_ms > 0 ? st.poll_after_ms : 1000));
			return;
		}
		if (rc == LV_OK && st.state == LV_JOB_SUCCEEDED) {
			j->phase = SEG_FETCH;
			if (p->video->flags & LV_VIDEO_FETCH_IS_CPU)
				lv_cpu_push(d->cpu, cpu_fetch, j);
			else
				do_fetch(d, j);
			return;
		}
		if (rc != LV_OK && st.state != LV_JOB_FAILED) {
			/* We could not learn the job's state.  Ask again a while; then give up on the shot rather
			 * than submit another job while this one may still run (and be billed) at the vendor. */
			if (err.retryable && j->poll_errors++ < MAX_POLL_ERRORS) {
				driver_schedule(d, j, lv_mono_ms() + backoff_ms(j->poll_errors));
				return;
			}
			if (!err.code[0] || err.retryable) {
				char why[sizeof(err.message)];
				snprintf(why, sizeof(why), "%s", err.message[0] ? err.message : "no answer");
				lv_provider_fail(&err, "provider_timeout", 0,
				                 "provider '%s' could not report on shot %d's job after %d tries (%s)",
				                 h->gen->provider, j->idx, MAX_POLL_ERRORS + 1, why);
			}
			segment_failed(d, j, &err);
			job_finished(d, j);
			return;
		}
		/* The vendor says the job failed: a transient failure gets a new job while retries last. */
		if (j->attempts <= d->e->cfg->segment_retries && err.retryable) {
			LV_WARN("task %s: shot %d failed (%s); submitting again", h->id, j->idx, err.message);
			j->phase = SEG_SUBMIT;
			driver_schedule(d, j, lv_mono_ms() + backoff_ms(j->attempts));
			return;
		}
		if (!err.code[0])
			lv_provider_fail(&err, "segment_failed", 0, "provider '%s' reported the job failed", h->gen->provider);
		segment_failed(d, j, &err);
		job_finished(d, j);
		return;
	case SEG_FETCH:
		do_fetch(d, j);
		return;
	default:
		job_finished(d, j);
		return;
	}
}

static void *driver_thread(void *arg)
{
	lv_driver *d = arg;
	unsigned seen_cancel = 0;
	int flushed_stop = 0;
	pthread_mutex_lock(&d->mu);
	for (;;) {
		seg_job *j;
		int64_t now = lv_mono_ms();
		/* Cancellations move a task's queued jobs forward; only when one happened, not on every wake-up. */
		if (seen_cancel != d->cancel_gen || (*d->stopping && !flushed_stop)) {
			size_t i;
			seen_cancel = d->cancel_gen;
			flushed_stop = *d->stopping;
			slots_flush_canceled(d, now);
			for (i = 0; i < d->heap_n; i++)
				if (d->heap[i]->task->cancel && d->heap[i]->due > now) {
					d->heap[i]->due = now;
					while (i > 0 && d->heap[(i - 1) / 2]->due > d->heap[i]->due) {
						heap_swap(d, i, (i - 1) / 2);
						i = (i - 1) / 2;
					}
				}
		}
		if (d->heap_n == 0 && *d->stopping)
			break;
		if (d->heap_n == 0 || (d->heap[0]->due > now && !*d->stopping && !d->heap[0]->task->cancel)) {
			struct timespec ts;
			int64_t wait = d->heap_n ? d->heap[0]->due - now : 500;
			if (wait > 500)
				wait = 500;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(wait / 1000);
			ts.tv_nsec += (long)(wait % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
			continue;
		}
		j = heap_pop(d);
		pthread_mutex_unlock(&d->mu);
		step(d, j);
		pthread_mutex_lock(&d->mu);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

void lv_driver_cancel(lv_driver *d, held *h)
{
	h->cancel = 1;
	/* The driver looks for the task's queued jobs (only) when this count moves. */
	pthread_mutex_lock(&d->mu);
	d->cancel_gen++;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

int lv_driver_init(lv_driver *d, lv_engine *e, lv_held_tasks *ht, lv_cpu_pool *cpu, const volatile int *stopping,
                   lv_generated_fn generated, void *arg)
{
	size_t i;
	memset(d, 0, sizeof(*d));
	d->e = e;
	d->held = ht;
	d->cpu = cpu;
	d->stopping = stopping;
	d->generated = generated;
	d->generated_arg = arg;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	if (e->cfg->n_providers && !(d->slots = lv_calloc(e->cfg->n_providers, sizeof(*d->slots))))
		return LV_ENOMEM;
	for (i = 0; i < e->cfg->n_providers; i++)
		if (e->cfg->providers[i].info->stages & LV_STAGE_VIDEO) {
			d->slots[d->n_slots].name = e->cfg->providers[i].name;
			d->slots[d->n_slots++].limit = e->cfg->providers[i].max_concurrent_jobs;
		}
	return LV_OK;
}

int lv_driver_start(lv_driver *d)
{
	int i;
	if (!(d->threads = lv_calloc(DRIVER_THREADS, sizeof(pthread_t))))
		return LV_ENOMEM;
	for (i = 0; i < DRIVER_THREADS; i++) {
		if (pthread_create(&d->threads[i], NULL, driver_thread, d) != 0)
			return lv_error_set(LV_EINTERNAL, "workers: cannot start a driver thread (%d started)", i);
		d->n_threads = i + 1; /* the ones started are joined by lv_driver_stop() */
	}
	return LV_OK;
}

void lv_driver_stop(lv_driver *d)
{
	int i;
	if (!d->threads)
		return;
	pthread_mutex_lock(&d->mu);
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	for (i = 0; i < d->n_threads; i++)
		pthread_join(d->threads[i], NULL);
	free(d->threads);
	d->threads = NULL;
	d->n_threads = 0;
}

void lv_driver_destroy(lv_driver *d)
{
	free(d->heap);
	free(d->slots);
	d->heap = NULL;
	d->slots = NULL;
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
}

/* ---- starting (or resuming) a task's generation ----------------------------------------------------------- */

/* Append a sentence: the text, then one full stop unless it already ends a sentence (no "..", no "!."). */
static void add_sentence(lv_buf *b, const char *prefix, const char *text)
{
	size_t n = text ? strlen(text) : 0;
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n' || text[n - 1] == '\t'))
		n--;
	if (n == 0)
		return;
	lv_buf_printf(b, "%s%s%.*s%s", b->len ? " " : "", prefix, (int)n, text,
	              strchr(".!?", text[n - 1]) ? "" : ".");
}

static char *shot_prompt(const cJSON *sb, const cJSON *shot)
{
	const char *style = lv_json_get_str(sb, "style");
	const char *visual = lv_json_get_str(shot, "visual"), *camera = lv_json_get_str(shot, "camera");
	lv_buf b = LV_BUF_INIT;
	const cJSON *who = cJSON_GetObjectItemCaseSensitive(shot, "characters"), *c, *w;
	add_sentence(&b, "", visual);
	add_sentence(&b, "Camera: ", camera ? camera : "static");
	cJSON_ArrayForEach(w, who)
	{
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(sb, "characters"))
		{
			if (cJSON_IsString(w) && !strcmp(lv_json_get_str(c, "id"), w->valuestring)) {
				const char *name = lv_json_get_str(c, "name");
				char *pre = lv_asprintf("%s: ", name ? name : "");
				add_sentence(&b, pre ? pre : "", lv_json_get_str(c, "description"));
				free(pre);
			}
		}
	}
	add_sentence(&b, "Style: ", style);
	return lv_buf_detach(&b);
}

/* Local files of the reference images for a shot: the anchors of the characters it shows, with their names.
 * A shot without characters has none (the style is in the prompt).  Anchors the built-in provider drew
 * (flat cards with a caption) are not pictures of the characters: a video model would put the cards in the
 * film, so they serve only the built-in video provider; other providers make those shots from text. */
static int shot_refs(lv_driver *d, held *h, const cJSON *sb, const cJSON *state, const cJSON *shot, seg_job *j)
{
	const cJSON *anchors = cJSON_GetObjectItemCaseSensitive(state, "anchors");
	const cJSON *who = cJSON_GetObjectItemCaseSensitive(shot, "characters"), *c, *k;
	const lv_provider *vp = lv_providers_get(d->e->providers, h->gen->provider);
	const char *drawn = lv_json_get_str(state, "anchor_images");
	const char *keys[16], *names[16];
	size_t n = 0, i;
	if (drawn && !strcmp(drawn, "drawn") && vp && strcmp(vp->conf->type, "local") != 0)
		who = NULL;
	cJSON_ArrayForEach(c, who)
	{
		const char *key = cJSON_IsString(c) ? lv_json_get_str(anchors, c->valuestring) : NULL;
		if (!key || n >= 15)
			continue;
		names[n] = NULL;
		cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(sb, "characters"))
			if (lv_json_get_str(k, "id") && !strcmp(lv_json_get_str(k, "id"), c->valuestring))
				names[n] = lv_json_get_str(k, "name");
		keys[n++] = key;
	}
	j->refs = lv_calloc(n + 1, sizeof(char *));
	j->ref_names = lv_calloc(n + 1, sizeof(char *));
	j->ref_keys = lv_calloc(n + 1, sizeof(char *));
	if (!j->refs || !j->ref_names || !j->ref_keys)
		return LV_ENOMEM;
	for (i = 0; i < n; i++) {
		char *dest = lv_asprintf("%s/ref_%d_%zu.png", h->work_dir, j->idx, i), *path = NULL;
		int rc = d->e->storage->ops->get_file(d->e->storage, keys[i], dest, &path);
		free(dest);
		if (rc)
			return rc;
		if (!(j->ref_names[j->n_refs] = lv_strdup(names[i] ? names[i] : "")) ||
		    !(j->ref_keys[j->n_refs] = lv_strdup(keys[i]))) {
			free(j->ref_names[j->n_refs]);
			j->ref_names[j->n_refs] = NULL;
			free(path);
			return LV_ENOMEM;
		}
		j->refs[j->n_refs++] = path;
	}
	return LV_OK;
}

int lv_generation_start(lv_driver *d, held *h, const lv_task_rec *t)
{
	lv_segment_rec *segs = NULL;
	size_t n = 0, i, started = 0;
	cJSON *sb = t->script ? lv_json_parse_text(t->script) : NULL, *state = t->state ? lv_json_parse_text(t->state) : NULL;
	const cJSON *shots = cJSON_GetObjectItemCaseSensitive(sb, "shots");
	lv_store_tx *tx = NULL;
	struct lv_gen *g;
	int rc;
	size_t *to_schedule = NULL, n_sched = 0;
	if ((rc = d->e->store->ops->begin(d->e->store, 0, &tx)) == LV_OK) {
		rc = d->e->store->ops->segment_list(tx, t->id, &segs, &n);
		d->e->store->ops->rollback(tx);
	}
	if (rc || !cJSON_IsArray(shots) || (size_t)cJSON_GetArraySize(shots) != n) {
		cJSON_Delete(sb);
		cJSON_Delete(state);
		lv_segment_recs_free(segs, n);
		if (!rc)
			lv_fail_task(d->held, h, LV_TASK_GENERATING, "internal_error", "the storyboard does not match the plan", -1);
		return rc ? rc : LV_EINTERNAL;
	}
	if (!(g = lv_calloc(1, sizeof(*g)))) {
		cJSON_Delete(sb);
		cJSON_Delete(state);
		lv_segment_recs_free(segs, n);
		return LV_ENOMEM;
	}
	pthread_mutex_init(&g->mu, NULL);
	g->d = d;
	h->gen = g;
	pthread_mutex_lock(&g->mu);
	lv_strlcpy(g->resolution, t->resolution, sizeof(g->resolution));
	lv_strlcpy(g->aspect_ratio, t->aspect_ratio, sizeof(g->aspect_ratio));
	lv_strlcpy(g->language, t->language, sizeof(g->language));
	lv_strlcpy(g->provider, t->provider, sizeof(g->provider));
	lv_task_size(t, &g->width, &g->height);
	g->concurrency = d->e->cfg->segment_concurrency;
	if (!lv_regen_running(t, &g->regen_attempt))
		g->regen_attempt = 0;
	g->segs = lv_calloc(n, sizeof(*g->segs));
	g->n_segs = g->segs ? n : 0;
	rc = g->segs ? LV_OK : LV_ENOMEM;
	for (i = 0; rc == LV_OK && i < n; i++) {
		seg_job *j = &g->segs[i];
		const cJSON *shot = cJSON_GetArrayItem(shots, (int)i);
		j->task = h;
		j->idx = segs[i].idx;
		j->seconds = segs[i].seconds;
		j->billed_seconds = segs[i].billed_seconds;
		j->start = segs[i].start;
		j->attempts = segs[i].attempts;
		j->job_id = lv_strdup(segs[i].job_id);
		j->job_state = lv_strdup(segs[i].job_state);
		j->prompt = shot_prompt(sb, shot);
		j->visual = lv_strdup(lv_json_get_str(shot, "visual"));
		{
			char name[16];
			const cJSON *seed;
			snprintf(name, sizeof(name), "%d", j->idx);
			seed = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(state, "seeds"), name);
			j->seed = cJSON_IsNumber(seed) ? (long long)seed->valuedouble : -1;
		}
		j->camera = lv_strdup(lv_json_get_str(shot, "camera"));
		j->started = lv_mono_ms();
		if (segs[i].status == LV_SEG_READY) {
			j->phase = SEG_DONE;
			g->done++;
			continue;
		}
		if ((rc = shot_refs(d, h, sb, state, shot, j)))
			break;
		/* A job already submitted (by us before a crash, or by another worker) is polled, not resubmitted. */
		j->phase = segs[i].status == LV_SEG_RUNNING && j->job_id ? SEG_POLL : SEG_SUBMIT;
	}
	pthread_mutex_unlock(&g->mu);
	cJSON_Delete(sb);
	cJSON_Delete(state);
	lv_segment_recs_free(segs, n);
	if (rc == LV_OK && g->done < g->n_segs && !(to_schedule = lv_calloc(g->n_segs, sizeof(*to_schedule))))
		rc = LV_ENOMEM;
	if (!to_schedule) { /* nothing left to generate (LV_OK), or an error: the driver does not take the task */
		h->gen = NULL;
		gen_free(g);
		return rc;
	}
	/* Resumed polls first (they cost nothing new), then new submissions up to the concurrency.
	 * Everything is counted in flight before the first job reaches the driver. */
	pthread_mutex_lock(&g->mu);
	for (i = 0; i < g->n_segs; i++)
		if (g->segs[i].phase == SEG_POLL) {
			g->segs[i].queued = 1;
			g->inflight++;
			to_schedule[n_sched++] = i;
			started++;
		}
	for (i = 0; i < g->n_segs && started < (size_t)g->concurrency; i++)
		if (g->segs[i].phase == SEG_SUBMIT) {
			g->segs[i].queued = 1;
			g->inflight++;
			to_schedule[n_sched++] = i;
			started++;
		}
	pthread_mutex_unlock(&g->mu);
	/* The driver holds one reference to the task while any of its jobs are in flight. */
	lv_held_ref(d->held, h);
	for (i = 0; i < n_sched; i++)
		driver_schedule(d, &g->segs[to_schedule[i]], lv_mono_ms());
	free(to_schedule);
	return 1; /* parked: the driver has it */
}
