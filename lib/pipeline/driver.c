/*
 * The segment driver: a timer heap of segment jobs and a few threads that
 * take the next due job, make one short provider call (submit, poll or
 * fetch), persist what it learned, and put the job back with its next due
 * time.  Fetches that are CPU work (local rendering) go to the CPU pool.
 */
#include "core/creative.h"
#include "core/task.h"
#include "pipeline/pipeline.h"
#include "pipeline/storyboard.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS(w) ((w)->e->store->ops)
#define DRIVER_THREADS 4
#define MAX_POLL_ERRORS 8
#define SEGMENT_TIMEOUT_MS (60LL * 60 * 1000)

/* ---- the timer heap (under dmu) ------------------------------------------------------------------ */

static void heap_swap(workers *w, size_t a, size_t b)
{
	seg_job *t = w->heap[a];
	w->heap[a] = w->heap[b];
	w->heap[b] = t;
}

static int heap_push(workers *w, seg_job *j)
{
	size_t i;
	if (w->heap_n == w->heap_cap) {
		size_t cap = w->heap_cap ? w->heap_cap * 2 : 64;
		seg_job **h = lv_realloc(w->heap, cap * sizeof(*h));
		if (!h)
			return LV_ENOMEM;
		w->heap = h;
		w->heap_cap = cap;
	}
	i = w->heap_n++;
	w->heap[i] = j;
	while (i > 0 && w->heap[(i - 1) / 2]->due > w->heap[i]->due) {
		heap_swap(w, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return LV_OK;
}

static seg_job *heap_pop(workers *w)
{
	seg_job *top = w->heap[0];
	size_t i = 0;
	w->heap[0] = w->heap[--w->heap_n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < w->heap_n && w->heap[l]->due < w->heap[m]->due)
			m = l;
		if (r < w->heap_n && w->heap[r]->due < w->heap[m]->due)
			m = r;
		if (m == i)
			break;
		heap_swap(w, i, m);
		i = m;
	}
	return top;
}

void lv_driver_schedule(workers *w, seg_job *j, int64_t due)
{
	pthread_mutex_lock(&w->dmu);
	j->due = due;
	j->queued = 1;
	if (heap_push(w, j) == LV_OK)
		pthread_cond_signal(&w->dcv);
	pthread_mutex_unlock(&w->dmu);
}

static void cpu_push(workers *w, seg_job *j)
{
	pthread_mutex_lock(&w->cmu);
	if (w->cq_n == w->cq_cap) {
		size_t cap = w->cq_cap ? w->cq_cap * 2 : 32;
		seg_job **q = lv_realloc(w->cq, cap * sizeof(*q));
		if (q) {
			w->cq = q;
			w->cq_cap = cap;
		}
	}
	if (w->cq_n < w->cq_cap) {
		w->cq[w->cq_n++] = j;
		pthread_cond_signal(&w->ccv);
	}
	pthread_mutex_unlock(&w->cmu);
}

/* ---- provider slots (under dmu) ------------------------------------------------------------------------ */

static provider_slots *slots_of(workers *w, const char *provider)
{
	size_t i;
	for (i = 0; i < w->n_slots; i++)
		if (!strcmp(w->slots[i].name, provider))
			return &w->slots[i];
	return NULL;
}

/* Take one of the provider's job slots for j, or queue j until one is free (returns 0). */
static int slot_take(workers *w, seg_job *j)
{
	provider_slots *s;
	int ok = 1;
	pthread_mutex_lock(&w->dmu);
	s = slots_of(w, j->task->provider);
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
	pthread_mutex_unlock(&w->dmu);
	return ok;
}

/* Give j's slot to the first job waiting for one (it runs at once), or back to the pool. */
static void slot_give(workers *w, seg_job *j)
{
	provider_slots *s;
	pthread_mutex_lock(&w->dmu);
	if (j->has_slot) {
		j->has_slot = 0;
		if ((s = slots_of(w, j->task->provider)) != NULL) {
			seg_job *next = s->wait_head;
			if (next) {
				s->wait_head = next->next_wait;
				if (!s->wait_head)
					s->wait_tail = NULL;
				next->has_slot = 1;
				next->due = lv_mono_ms();
				if (heap_push(w, next) == LV_OK)
					pthread_cond_signal(&w->dcv);
			} else {
				s->used--;
			}
		}
	}
	pthread_mutex_unlock(&w->dmu);
}

/* Waiting jobs of canceled tasks (all of them when stopping) go back to the heap to leave. */
static void slots_flush_canceled(workers *w, int64_t now)
{
	size_t i;
	for (i = 0; i < w->n_slots; i++) {
		provider_slots *s = &w->slots[i];
		seg_job **pp = &s->wait_head, *j;
		s->wait_tail = NULL;
		while ((j = *pp) != NULL) {
			if (j->task->cancel || w->stopping) {
				*pp = j->next_wait;
				j->due = now;
				heap_push(w, j);
			} else {
				s->wait_tail = j;
				pp = &j->next_wait;
			}
		}
	}
}

/* ---- a job leaves the driver ---------------------------------------------------------------------------- */

static void job_finished(workers *w, seg_job *j)
{
	held *h = j->task;
	int all_done, next_submit = -1, last;
	size_t i;
	slot_give(w, j);
	pthread_mutex_lock(&h->mu);
	j->queued = 0;
	h->inflight--;
	if (j->phase == SEG_DONE)
		h->done++;
	all_done = h->done == h->n_segs && !h->failed;
	/* Keep segment_concurrency jobs in flight: start the next one waiting. */
	if (!h->failed && !h->cancel) {
		for (i = 0; i < h->n_segs; i++)
			if (h->segs[i].phase == SEG_SUBMIT && !h->segs[i].queued) {
				next_submit = (int)i;
				h->segs[i].queued = 1;
				h->inflight++;
				break;
			}
	}
	/* Decided in the same critical section as the count: when the last two jobs finish at once on two
	 * threads, exactly one of them sees none left and ends the driver's hold. */
	last = h->inflight == 0;
	pthread_mutex_unlock(&h->mu);
	if (next_submit >= 0) {
		lv_driver_schedule(w, &h->segs[next_submit], lv_mono_ms());
		return;
	}
	if (last) {
		/* The driver's hold on the task ends: ready for the audio stage, or just released. */
		if (all_done && !h->cancel)
			lv_ready_push(w, h);
		else
			lv_held_put(w, h);
	}
}

/* ---- persisting a segment's progress ------------------------------------------------------------------------- */

typedef struct {
	workers *w;
	seg_job *j;
	int status;         /* LV_SEG_* to write */
	const char *output; /* storage key when ready */
	const char *error;
	int all_ready;      /* out */
} seg_ctx;

static int seg_tx(lv_store_tx *tx, void *p)
{
	seg_ctx *c = p;
	workers *w = c->w;
	lv_task_rec t;
	lv_segment_rec *segs = NULL, *s = NULL;
	size_t n = 0, i, ready = 0;
	int rc = lv_own(w, tx, c->j->task->id, LV_TASK_GENERATING, &t);
	if (rc)
		return rc;
	if ((rc = OPS(w)->segment_list(tx, t.id, &segs, &n)))
		goto out;
	for (i = 0; i < n; i++)
		if (segs[i].idx == c->j->idx)
			s = &segs[i];
	if (!s) {
		rc = lv_error_set(LV_EINTERNAL, "task %s has no segment %d", t.id, c->j->idx);
		goto out;
	}
	s->status = c->status;
	s->attempts = c->j->attempts;
	s->updated_at = lv_now_ms();
	if ((rc = lv_strset(&s->job_id, c->j->job_id)) || (rc = lv_strset(&s->job_state, c->j->job_state)) ||
	    (rc = lv_strset(&s->output, c->output)) || (rc = lv_strset(&s->error, c->error)))
		goto out;
	if ((rc = OPS(w)->segment_update(tx, s)))
		goto out;
	for (i = 0; i < n; i++)
		ready += segs[i].status == LV_SEG_READY;
	if (c->status == LV_SEG_READY) {
		int prog;
		t.shots_done = (int)ready;
		prog = lv_stage_progress(LV_TASK_GENERATING) +
		       (lv_stage_progress(LV_TASK_AUDIO) - lv_stage_progress(LV_TASK_GENERATING)) * (int)ready / (int)n;
		if (prog > t.progress)
			t.progress = prog;
		c->all_ready = ready == n;
		if (c->all_ready) {
			t.status = LV_TASK_AUDIO;
			if (t.progress < lv_stage_progress(LV_TASK_AUDIO))
				t.progress = lv_stage_progress(LV_TASK_AUDIO);
		}
		t.updated_at = lv_now_ms();
		rc = OPS(w)->task_update(tx, &t);
	}
out:
	lv_task_rec_clear(&t);
	lv_segment_recs_free(segs, n);
	return rc;
}

static int persist(workers *w, seg_job *j, int status, const char *output, const char *error, int *all_ready)
{
	seg_ctx c = { w, j, status, output, error, 0 };
	int rc = lv_engine_tx(w->e, 1, seg_tx, &c);
	if (all_ready)
		*all_ready = c.all_ready;
	if (rc == LV_ECANCELED && !j->task->cancel)
		lv_held_cancel(w, j->task);
	return rc;
}

/* ---- one step ------------------------------------------------------------------------------------------------ */

static const lv_provider *video_provider(workers *w, held *h)
{
	return lv_providers_get(w->e->providers, h->provider);
}

static void fill_job(held *h, seg_job *j, lv_segment_job *sj)
{
	memset(sj, 0, sizeof(*sj));
	sj->task_id = h->id;
	sj->index = j->idx;
	sj->seconds = j->billed_seconds;
	sj->resolution = h->resolution;
	sj->aspect_ratio = h->aspect_ratio;
	sj->width = h->width;
	sj->height = h->height;
	sj->prompt = j->prompt;
	sj->visual = j->visual;
	sj->camera = j->camera;
	sj->references = (const char *const *)j->refs;
	sj->reference_names = (const char *const *)j->ref_names;
	sj->n_references = j->n_refs;
	sj->language = h->language;
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
static char **reference_urls(workers *w, const seg_job *j)
{
	lv_storage *st = w->e->storage;
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

static void segment_failed(workers *w, seg_job *j, const lv_provider_error *err)
{
	held *h = j->task;
	char msg[700];
	int first;
	pthread_mutex_lock(&h->mu);
	first = !h->failed;
	h->failed = 1;
	pthread_mutex_unlock(&h->mu);
	j->phase = SEG_FAILED;
	if (!first)
		return;
	persist(w, j, LV_SEG_FAILED, NULL, err->message, NULL);
	snprintf(msg, sizeof(msg), "shot %d could not be generated: %s", j->idx, err->message);
	lv_fail_task(w, h, LV_TASK_GENERATING, err->code[0] ? err->code : "segment_failed", msg, j->idx);
	lv_held_cancel(w, h);
}

static int64_t backoff_ms(int n)
{
	int64_t d = 500LL << (n < 6 ? n : 6);
	return d > 30000 ? 30000 : d;
}

/* Fetch the finished clip, store it, mark the segment ready.  Runs on a driver or CPU thread. */
static void do_fetch(workers *w, seg_job *j)
{
	held *h = j->task;
	const lv_provider *p = video_provider(w, h);
	lv_provider_error err;
	lv_call_ctx ctx = { &h->cancel, h->id, h->work_dir };
	lv_segment_job sj;
	char *dir = lv_asprintf("%s/segments", h->work_dir), *path = NULL;
	char *key = h->regen_attempt > 0 ? lv_asprintf("tasks/%s/segments/%03d_r%d.mp4", h->id, j->idx, h->regen_attempt)
	                                 : lv_key_segment(h->id, j->idx);
	int rc, all_ready = 0;
	int64_t t0;
	memset(&err, 0, sizeof(err));
	fill_job(h, j, &sj);
	if (!dir || !key || lv_mkdir_p(dir, 0) || !(path = lv_asprintf("%s/%03d.mp4", dir, j->idx))) {
		lv_provider_fail(&err, "internal_error", 0, "%s", lv_error_last()->message);
		segment_failed(w, j, &err);
		goto out;
	}
	t0 = lv_mono_ms();
	rc = p->video->fetch(p->self, &ctx, &sj, path, &err);
	lv_count_call(w, p, LV_TASK_GENERATING, rc, t0);
	if (rc == LV_ECANCELED || h->cancel)
		goto out;
	if (rc) {
		if (err.retryable && j->poll_errors++ < MAX_POLL_ERRORS) {
			free(dir);
			free(path);
			free(key);
			lv_driver_schedule(w, j, lv_mono_ms() + backoff_ms(j->poll_errors));
			return;
		}
		segment_failed(w, j, &err);
		goto out;
	}
	if (w->e->storage->ops->put_file(w->e->storage, key, path, "video/mp4")) {
		lv_provider_fail(&err, "internal_error", 0, "storing shot %d: %s", j->idx, lv_error_last()->message);
		segment_failed(w, j, &err);
		goto out;
	}
	j->phase = SEG_DONE;
	if (persist(w, j, LV_SEG_READY, key, NULL, &all_ready) == LV_OK) {
		if (all_ready)
			lv_stage_ended(w, h, LV_TASK_GENERATING, LV_TASK_AUDIO);
		LV_INFO("task %s: shot %d ready%s", h->id, j->idx, all_ready ? " (all shots ready)" : "");
	} else {
		j->phase = SEG_FAILED; /* canceled meanwhile: the work is discarded */
	}
out:
	free(dir);
	free(path);
	free(key);
	job_finished(w, j);
}

static void step(workers *w, seg_job *j)
{
	held *h = j->task;
	const lv_provider *p = video_provider(w, h);
	lv_provider_error err;
	lv_call_ctx ctx = { &h->cancel, h->id, h->work_dir };
	lv_segment_job sj;
	lv_job_status st;
	int64_t t0;
	int rc;

	if (h->cancel || h->failed || w->stopping) {
		/* Abandoned: ask the vendor to stop a running job where it can (not when we are only stopping). */
		if (!w->stopping && j->phase == SEG_POLL && j->job_id && p && p->video->cancel) {
			fill_job(h, j, &sj);
			p->video->cancel(p->self, &ctx, &sj);
		}
		job_finished(w, j);
		return;
	}
	/* A job at the vendor counts against the provider's max_concurrent_jobs until it leaves. */
	if (!j->has_slot && (j->phase == SEG_SUBMIT || j->phase == SEG_POLL) && !slot_take(w, j))
		return; /* queued: slot_give schedules it */
	memset(&err, 0, sizeof(err));
	memset(&st, 0, sizeof(st));
	fill_job(h, j, &sj);
	switch (j->phase) {
	case SEG_SUBMIT:
		if (j->attempts > w->e->cfg->segment_retries) {
			lv_provider_fail(&err, "segment_failed", 0, "gave up after %d attempts", j->attempts);
			segment_failed(w, j, &err);
			job_finished(w, j);
			return;
		}
		{
			char **urls = reference_urls(w, j);
			sj.reference_urls = (const char *const *)urls;
			t0 = lv_mono_ms();
			rc = p->video->submit(p->self, &ctx, &sj, &st, &err);
			lv_count_call(w, p, LV_TASK_GENERATING, rc, t0);
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
			if (persist(w, j, LV_SEG_RUNNING, NULL, NULL, NULL)) {
				job_finished(w, j);
				return;
			}
			LV_DEBUG("task %s: shot %d submitted as %s", h->id, j->idx, j->job_id);
			lv_driver_schedule(w, j, lv_mono_ms() + (st.poll_after_ms > 0 ? st.poll_after_ms : 0));
			return;
		}
		free(st.job_id);
		free(st.job_state);
		if (err.retryable && j->poll_errors++ < MAX_POLL_ERRORS) {
			lv_driver_schedule(w, j, lv_mono_ms() + backoff_ms(j->poll_errors));
			return;
		}
		segment_failed(w, j, &err);
		job_finished(w, j);
		return;
	case SEG_POLL:
		t0 = lv_mono_ms();
		rc = p->video->poll(p->self, &ctx, &sj, &st, &err);
		lv_count_call(w, p, LV_TASK_GENERATING, rc, t0);
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
				                 "provider '%s' did not finish the shot within %lld minutes", h->provider,
				                 SEGMENT_TIMEOUT_MS / 60000);
				segment_failed(w, j, &err);
				job_finished(w, j);
				return;
			}
			lv_driver_schedule(w, j, lv_mono_ms() + (st.poll_after_ms > 0 ? st.poll_after_ms : 1000));
			return;
		}
		if (rc == LV_OK && st.state == LV_JOB_SUCCEEDED) {
			j->phase = SEG_FETCH;
			if (p->video->flags & LV_VIDEO_FETCH_IS_CPU)
				cpu_push(w, j);
			else
				do_fetch(w, j);
			return;
		}
		if (rc != LV_OK && st.state != LV_JOB_FAILED) {
			/* We could not learn the job's state.  Ask again a while; then give up on the shot rather
			 * than submit another job while this one may still run (and be billed) at the vendor. */
			if (err.retryable && j->poll_errors++ < MAX_POLL_ERRORS) {
				lv_driver_schedule(w, j, lv_mono_ms() + backoff_ms(j->poll_errors));
				return;
			}
			if (!err.code[0] || err.retryable) {
				char why[sizeof(err.message)];
				snprintf(why, sizeof(why), "%s", err.message[0] ? err.message : "no answer");
				lv_provider_fail(&err, "provider_timeout", 0,
				                 "provider '%s' could not report on shot %d's job after %d tries (%s)",
				                 h->provider, j->idx, MAX_POLL_ERRORS + 1, why);
			}
			segment_failed(w, j, &err);
			job_finished(w, j);
			return;
		}
		/* The vendor says the job failed: a transient failure gets a new job while retries last. */
		if (j->attempts <= w->e->cfg->segment_retries && err.retryable) {
			LV_WARN("task %s: shot %d failed (%s); submitting again", h->id, j->idx, err.message);
			j->phase = SEG_SUBMIT;
			lv_driver_schedule(w, j, lv_mono_ms() + backoff_ms(j->attempts));
			return;
		}
		if (!err.code[0])
			lv_provider_fail(&err, "segment_failed", 0, "provider '%s' reported the job failed", h->provider);
		segment_failed(w, j, &err);
		job_finished(w, j);
		return;
	case SEG_FETCH:
		do_fetch(w, j);
		return;
	default:
		job_finished(w, j);
		return;
	}
}

static void *driver_thread(void *arg)
{
	workers *w = arg;
	unsigned seen_cancel = 0;
	int flushed_stop = 0;
	pthread_mutex_lock(&w->dmu);
	for (;;) {
		seg_job *j;
		int64_t now = lv_mono_ms();
		/* Cancellations move a task's queued jobs forward; only when one happened, not on every wake-up. */
		if (seen_cancel != w->cancel_gen || (w->stopping && !flushed_stop)) {
			size_t i;
			seen_cancel = w->cancel_gen;
			flushed_stop = w->stopping;
			slots_flush_canceled(w, now);
			for (i = 0; i < w->heap_n; i++)
				if (w->heap[i]->task->cancel && w->heap[i]->due > now) {
					w->heap[i]->due = now;
					while (i > 0 && w->heap[(i - 1) / 2]->due > w->heap[i]->due) {
						heap_swap(w, i, (i - 1) / 2);
						i = (i - 1) / 2;
					}
				}
		}
		if (w->heap_n == 0 && w->stopping)
			break;
		if (w->heap_n == 0 || (w->heap[0]->due > now && !w->stopping && !w->heap[0]->task->cancel)) {
			struct timespec ts;
			int64_t wait = w->heap_n ? w->heap[0]->due - now : 500;
			if (wait > 500)
				wait = 500;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(wait / 1000);
			ts.tv_nsec += (long)(wait % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->dcv, &w->dmu, &ts);
			continue;
		}
		j = heap_pop(w);
		pthread_mutex_unlock(&w->dmu);
		step(w, j);
		pthread_mutex_lock(&w->dmu);
	}
	pthread_mutex_unlock(&w->dmu);
	return NULL;
}

static void *cpu_thread(void *arg)
{
	workers *w = arg;
	pthread_mutex_lock(&w->cmu);
	for (;;) {
		seg_job *j;
		while (w->cq_n == 0 && !w->stopping)
			pthread_cond_wait(&w->ccv, &w->cmu);
		if (w->cq_n == 0)
			break;
		j = w->cq[0];
		memmove(w->cq, w->cq + 1, (w->cq_n - 1) * sizeof(*w->cq));
		w->cq_n--;
		pthread_mutex_unlock(&w->cmu);
		if (j->task->cancel || w->stopping) {
			job_finished(w, j);
		} else {
			lv_cpu_acquire(w);
			do_fetch(w, j);
			lv_cpu_release(w);
		}
		pthread_mutex_lock(&w->cmu);
	}
	pthread_mutex_unlock(&w->cmu);
	return NULL;
}

int lv_driver_start(workers *w)
{
	int i;
	w->n_driver = DRIVER_THREADS;
	w->driver_threads = lv_calloc((size_t)w->n_driver, sizeof(pthread_t));
	w->cpu_threads = lv_calloc((size_t)w->n_cpu, sizeof(pthread_t));
	if (!w->driver_threads || !w->cpu_threads) {
		free(w->driver_threads);
		free(w->cpu_threads);
		w->driver_threads = w->cpu_threads = NULL;
		return LV_ENOMEM;
	}
	for (i = 0; i < w->n_driver; i++)
		if (pthread_create(&w->driver_threads[i], NULL, driver_thread, w) != 0) {
			w->n_driver = i; /* the ones started are joined by lv_driver_stop() */
			return lv_error_set(LV_EINTERNAL, "workers: cannot start a driver thread (%d started)", i);
		}
	for (i = 0; i < w->n_cpu; i++) {
		if (pthread_create(&w->cpu_threads[i], NULL, cpu_thread, w) != 0)
			return lv_error_set(LV_EINTERNAL, "workers: cannot start a CPU thread (%d started)", i);
		w->n_cpu_threads = i + 1;
	}
	return LV_OK;
}

void lv_driver_stop(workers *w)
{
	int i;
	if (!w->driver_threads)
		return;
	pthread_mutex_lock(&w->dmu);
	pthread_cond_broadcast(&w->dcv);
	pthread_mutex_unlock(&w->dmu);
	pthread_mutex_lock(&w->cmu);
	pthread_cond_broadcast(&w->ccv);
	pthread_mutex_unlock(&w->cmu);
	for (i = 0; i < w->n_driver; i++)
		pthread_join(w->driver_threads[i], NULL);
	for (i = 0; i < w->n_cpu_threads; i++)
		pthread_join(w->cpu_threads[i], NULL);
	free(w->driver_threads);
	free(w->cpu_threads);
	w->driver_threads = w->cpu_threads = NULL;
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
static int shot_refs(workers *w, held *h, const cJSON *sb, const cJSON *state, const cJSON *shot, seg_job *j)
{
	const cJSON *anchors = cJSON_GetObjectItemCaseSensitive(state, "anchors");
	const cJSON *who = cJSON_GetObjectItemCaseSensitive(shot, "characters"), *c, *k;
	const lv_provider *vp = lv_providers_get(w->e->providers, h->provider);
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
		int rc = w->e->storage->ops->get_file(w->e->storage, keys[i], dest, &path);
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

int lv_generation_start(workers *w, held *h, const lv_task_rec *t)
{
	lv_segment_rec *segs = NULL;
	size_t n = 0, i, started = 0;
	cJSON *sb = t->script ? lv_json_parse_text(t->script) : NULL, *state = t->state ? lv_json_parse_text(t->state) : NULL;
	const cJSON *shots = cJSON_GetObjectItemCaseSensitive(sb, "shots");
	lv_store_tx *tx = NULL;
	int rc;
	size_t *to_schedule = NULL, n_sched = 0;
	if (!lv_providers_get(w->e->providers, t->provider) ||
	    !lv_providers_get(w->e->providers, t->provider)->video) {
		cJSON_Delete(sb);
		cJSON_Delete(state);
		lv_fail_task(w, h, LV_TASK_GENERATING, "internal_error",
		             "the task's video provider is no longer configured", -1);
		return LV_EINVALID;
	}
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
			if (k && (rc = lv_moderate_texts(w, h, LV_TASK_GENERATING, texts, shot_of, k)) != LV_OK) {
				cJSON_Delete(sb);
				cJSON_Delete(state);
				return rc;
			}
			break;
		}
	}
	if ((rc = w->e->store->ops->begin(w->e->store, 0, &tx)) == LV_OK) {
		rc = w->e->store->ops->segment_list(tx, t->id, &segs, &n);
		w->e->store->ops->rollback(tx);
	}
	if (rc || !cJSON_IsArray(shots) || (size_t)cJSON_GetArraySize(shots) != n) {
		cJSON_Delete(sb);
		cJSON_Delete(state);
		lv_segment_recs_free(segs, n);
		if (!rc)
			lv_fail_task(w, h, LV_TASK_GENERATING, "internal_error", "the storyboard does not match the plan", -1);
		return rc ? rc : LV_EINTERNAL;
	}
	pthread_mutex_lock(&h->mu);
	lv_strlcpy(h->resolution, t->resolution, sizeof(h->resolution));
	lv_strlcpy(h->aspect_ratio, t->aspect_ratio, sizeof(h->aspect_ratio));
	lv_strlcpy(h->language, t->language, sizeof(h->language));
	lv_strlcpy(h->provider, t->provider, sizeof(h->provider));
	lv_task_size(t, &h->width, &h->height);
	h->concurrency = w->e->cfg->segment_concurrency;
	if (!lv_regen_running(t, &h->regen_attempt))
		h->regen_attempt = 0;
	h->failed = 0;
	h->done = 0;
	h->inflight = 0;
	h->segs = lv_calloc(n, sizeof(*h->segs));
	h->n_segs = h->segs ? n : 0;
	rc = h->segs ? LV_OK : LV_ENOMEM;
	for (i = 0; rc == LV_OK && i < n; i++) {
		seg_job *j = &h->segs[i];
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
			h->done++;
			continue;
		}
		if ((rc = shot_refs(w, h, sb, state, shot, j)))
			break;
		/* A job already submitted (by us before a crash, or by another worker) is polled, not resubmitted. */
		j->phase = segs[i].status == LV_SEG_RUNNING && j->job_id ? SEG_POLL : SEG_SUBMIT;
	}
	pthread_mutex_unlock(&h->mu);
	cJSON_Delete(sb);
	cJSON_Delete(state);
	lv_segment_recs_free(segs, n);
	if (rc)
		return rc;
	if (h->done == h->n_segs)
		return LV_OK; /* nothing left to generate */
	if (!(to_schedule = lv_calloc(h->n_segs, sizeof(*to_schedule))))
		return LV_ENOMEM;
	/* Resumed polls first (they cost nothing new), then new submissions up to the concurrency.
	 * Everything is counted in flight before the first job reaches the driver. */
	pthread_mutex_lock(&h->mu);
	for (i = 0; i < h->n_segs; i++)
		if (h->segs[i].phase == SEG_POLL) {
			h->segs[i].queued = 1;
			h->inflight++;
			to_schedule[n_sched++] = i;
			started++;
		}
	for (i = 0; i < h->n_segs && started < (size_t)h->concurrency; i++)
		if (h->segs[i].phase == SEG_SUBMIT) {
			h->segs[i].queued = 1;
			h->inflight++;
			to_schedule[n_sched++] = i;
			started++;
		}
	pthread_mutex_unlock(&h->mu);
	/* The driver holds one reference to the task while any of its jobs are in flight. */
	pthread_mutex_lock(&w->mu);
	h->refs++;
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < n_sched; i++)
		lv_driver_schedule(w, &h->segs[to_schedule[i]], lv_mono_ms());
	free(to_schedule);
	return 1; /* parked: the driver has it */
}
