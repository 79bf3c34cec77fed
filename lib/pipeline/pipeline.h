/*
 * Internal: the pipeline — worker threads, the segment driver, the CPU pool.
 *
 * Ownership: a task this process works on is a `held` record in the
 * workers' list (reference counted under workers->mu).  Stage threads take
 * held tasks from the ready queue or claim new ones from the store; the
 * generating stage hands a task's segments to the driver and the stage
 * thread moves on.  The monitor thread renews leases and raises a task's
 * cancel flag when it was canceled (or its lease lost), which every piece of
 * running work checks.  Every write of a stage's result happens in a
 * transaction that first checks the task is still ours and in the expected
 * status, so nothing a worker finishes late can change a canceled task.
 */
#ifndef LV_PIPELINE_H
#define LV_PIPELINE_H

#include <cjson/cJSON.h>
#include <pthread.h>

#include "core/engine.h"
#include "longvideo/task.h"
#include "longvideo/worker.h"
#include "providers/provider.h"

typedef struct held held;
typedef struct lv_workers workers;

enum { SEG_SUBMIT = 0, SEG_POLL, SEG_FETCH, SEG_DONE, SEG_FAILED };

typedef struct seg_job {
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
	int has_slot;        /* holds one of its provider's max_concurrent_jobs (under dmu) */
	struct seg_job *next_wait; /* in its provider's wait list (under dmu) */
	long long seed;      /* chosen by a regeneration, or -1 (derived from the task and shot) */
} seg_job;

/* A video provider's jobs in flight across the process, and the jobs waiting for one (under dmu). */
typedef struct provider_slots {
	const char *name;
	int limit;
	int used;
	seg_job *wait_head, *wait_tail;
} provider_slots;

struct held {
	char id[LV_ID_MAX];
	volatile int cancel;
	int refs;
	held *next;          /* in workers->held */
	held *next_ready;    /* in workers->ready */
	int in_ready;
	char *work_dir;
	/* generating */
	pthread_mutex_t mu;
	seg_job *segs;
	size_t n_segs;
	size_t inflight;
	size_t done;
	int failed;          /* the task failed: stop everything */
	int concurrency;
	char resolution[8], aspect_ratio[8], language[16], provider[64];
	int width, height;
	int regen_attempt;   /* > 0 while a shot regeneration runs: its clip gets a key of its own */
	int stage;           /* the status this process saw the task enter or find it in (for metrics) */
	int64_t stage_since; /* monotonic ms it entered `stage` here, 0: not yet seen */
};

struct lv_workers {
	lv_engine *e;
	char owner[96];
	int n_stage;
	int webhooks;
	volatile int stopping;
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* stage threads: work may be ready */
	held *held;
	held *ready_head, *ready_tail;
	size_t n_held;
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
	/* the segment driver */
	pthread_mutex_t dmu;
	pthread_cond_t dcv;
	seg_job **heap;
	size_t heap_n, heap_cap;
	unsigned cancel_gen;      /* bumped when a held task is canceled: the driver looks for its jobs then */
	provider_slots *slots;
	size_t n_slots;
	pthread_t *driver_threads;
	int n_driver;
	int n_cpu_threads;   /* CPU-pool threads started (joined at stop) */
	/* the CPU pool */
	pthread_mutex_t cmu;
	pthread_cond_t ccv;
	seg_job **cq;
	size_t cq_n, cq_cap;
	pthread_t *cpu_threads;
	int n_cpu;
	int cpu_free;             /* CPU slots free (shared by the pool and stage threads) */
	pthread_cond_t slot_cv;
	/* webhooks */
	pthread_t *hook_threads;
	int n_hook;
	/* this process's scratch space (scratch.c) */
	char *scratch;            /* <data_dir>/work/<host>-<pid>-<random>.d */
	int scratch_lock;         /* the descriptor holding the lock that proves this process owns it */
	unsigned long scratch_seq; /* numbers the claims' directories (under mu) */
};

/* This process's scratch space: created (after removing that of processes that are gone) and removed. */
int lv_scratch_open(workers *w);
void lv_scratch_close(workers *w);

/* held tasks */
held *lv_held_get(workers *w, const char *id, int create);
void lv_held_put(workers *w, held *h);
void lv_ready_push(workers *w, held *h);

/* CPU slots: at most n_cpu CPU-heavy jobs at once across the process. */
void lv_cpu_acquire(workers *w);
void lv_cpu_release(workers *w);

/* stages (stages.c): run a claimed task until it parks (generating), ends, or is canceled. */
void lv_run_task(workers *w, held *h);

/* Check ownership and status inside a write transaction; LV_ECANCELED if the task is no longer ours. */
int lv_own(workers *w, lv_store_tx *tx, const char *id, int expect_status, lv_task_rec *out);

/* Fail the task (strict failure): settle ready segments, refund the rest, record the error. */
void lv_fail_task(workers *w, held *h, int stage, const char *code, const char *message, int shot);

/* Metrics: the task is (found) in `status` here; the task moved from `from` to `to` (the stage that
 * ended is observed with the time since this process saw it begin); one call to provider p in stage
 * `status` that returned rc after starting at t0 (monotonic ms; LV_ECANCELED is not counted). */
void lv_stage_seen(held *h, int status);
void lv_stage_ended(workers *w, held *h, int from, int to);
void lv_count_call(workers *w, const lv_provider *p, int status, int rc, int64_t t0);

/* Check texts with the moderation provider; on a flag or a provider failure the task fails (a running
 * regeneration is abandoned instead) and LV_ECANCELED is returned.  shot_of[i] names text i's shot, or -1. */
int lv_moderate_texts(workers *w, held *h, int stage, const char *const *texts, const int *shot_of, size_t n);

/* Raise a held task's cancel flag and tell the driver (its queued jobs leave at once). */
void lv_held_cancel(workers *w, held *h);

/* driver (driver.c) */
int lv_driver_start(workers *w);
void lv_driver_stop(workers *w);
void lv_driver_schedule(workers *w, seg_job *j, int64_t due);
/* Load a task's segments and schedule their next steps (new submissions or resumed polls). */
int lv_generation_start(workers *w, held *h, const lv_task_rec *t);

/* webhook outbox: lv_outbox_run() in webhook/outbox.h, run by worker.c's webhook threads */

/* the film's picture size for a task */
int lv_task_size(const lv_task_rec *t, int *width, int *height);

/* Storage keys of a task's artifacts. */
char *lv_key_segment(const char *task_id, int idx);

#endif
