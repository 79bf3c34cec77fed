/*
 * Internal: held tasks and the rules every change of a task follows (held.c), the bottom of the pipeline.
 *
 * A task this process works on is a `held` record in the registry, reference counted under the
 * registry's mutex: the stage thread running it holds one reference, the ready queue one, the segment
 * driver one while any of the task's segment jobs is in flight.  The last reference unlinks the record
 * and removes its scratch directory.  A record's cancel flag is raised when the task was canceled, its
 * lease lost, it failed, or the process stops; every piece of running work checks it.
 *
 * Every write of a stage's result happens in a transaction that first checks the task is still ours
 * and in the expected status (lv_own()), so nothing a worker finishes late can change a canceled task;
 * every status change goes through lv_advance(), and a failure through lv_fail_task().
 *
 * Includes no other pipeline header: the driver, the stages and the workers use it.
 */
#ifndef LV_PIPELINE_HELD_H
#define LV_PIPELINE_HELD_H

#include <pthread.h>

#include "core/engine.h"
#include "longvideo/task.h"
#include "providers/provider.h"

typedef struct held held;
struct lv_gen; /* a task's segments while the driver drives them (driver.c) */

struct held {
	char id[LV_ID_MAX];
	volatile int cancel;
	int refs;            /* under the registry's mu */
	held *next;          /* in the registry (under its mu) */
	held *next_ready;    /* in the workers' ready queue (worker.c, under the workers' mu) */
	int in_ready;        /* idem */
	char *work_dir;      /* this claim's directory in the process's scratch space */
	struct lv_gen *gen;  /* set and freed by the driver (driver.c) while it holds the task */
	pthread_mutex_t mu;  /* stage, stage_since, busy, handed_back */
	int stage;           /* the status this process saw the task enter or find it in (for metrics) */
	int64_t stage_since; /* monotonic ms it entered `stage` here, 0: not yet seen */
	int busy;            /* a stage thread still works on the task while the driver holds it too */
	int handed_back;     /* the driver handed it back meanwhile: that thread carries on with it */
};

typedef struct lv_held_tasks {
	lv_engine *e;
	const char *owner;   /* the lease owner this process writes (the workers' name) */
	const char *scratch; /* the process's scratch directory: claims' directories go inside */
	pthread_mutex_t mu;
	held *list;
	size_t n;
	unsigned long seq;   /* numbers the claims' directories */
	/* Called (without the registry's mutex) when a record left: there is room for another claim. */
	void (*released)(void *arg);
	void *released_arg;
} lv_held_tasks;

/* Always pairs with lv_held_close(). */
void lv_held_init(lv_held_tasks *ht, lv_engine *e, const char *owner, void (*released)(void *), void *arg);
/* Free the records no one holds any more (their scratch goes with the process's scratch space). */
void lv_held_close(lv_held_tasks *ht);

/* The record of task id with one more reference (created when `create`), or NULL. */
held *lv_held_get(lv_held_tasks *ht, const char *id, int create);
/* One more reference to a record already held (the driver's, while jobs are in flight). */
void lv_held_ref(lv_held_tasks *ht, held *h);
/* Drop a reference; the last one unlinks the record, removes its scratch directory and frees it. */
void lv_held_put(lv_held_tasks *ht, held *h);
size_t lv_held_count(lv_held_tasks *ht);
/* Raise every held task's cancel flag (the process stops). */
void lv_held_cancel_all(lv_held_tasks *ht);
/* The ids held now, an array of *n (+1) entries (caller frees); LV_ENOMEM. */
int lv_held_ids(lv_held_tasks *ht, char (**ids)[LV_ID_MAX], size_t *n);

/* A stage thread that parked a task with the driver and keeps working on it (the audio made while the
 * shots are generated) marks it busy first.  While it is busy, a hand-back from the driver is not queued
 * for another thread: lv_held_defer() records it (1: the caller drops the hand-back's reference), and
 * lv_held_idle() ends the busy time, answering 1 when a hand-back came meanwhile: the same thread then
 * carries on with the task.  So one thread at a time runs a task's stages. */
void lv_held_busy(held *h);
int lv_held_defer(held *h);
int lv_held_idle(held *h);

/* Check ownership and status inside a write transaction; LV_ECANCELED if the task is no longer ours. */
int lv_own(lv_held_tasks *ht, lv_store_tx *tx, const char *id, int expect_status, lv_task_rec *out);

/* A change made in the transaction that moves a task on: t is the task as lv_own() read it; fn may
 * change it and write what belongs with it in tx.  *to is the status the task moves to; fn may keep it
 * where it is instead (*to = the `from` of lv_advance: the driver, for every shot but the last). */
typedef int (*lv_change_fn)(lv_store_tx *tx, lv_task_rec *t, void *ctx, int *to);

/* Move the task from `from` (it must be ours and there) to `to` in one transaction, with fn's change:
 * the status, the progress (at least the new stage's), the update time.  After the commit the stage
 * that ended is timed (metrics) and the move logged; LV_ECANCELED (no longer ours) raises the cancel flag. */
int lv_advance(lv_held_tasks *ht, held *h, int from, int to, lv_change_fn fn, void *ctx);

/* Fail the task (strict failure): settle ready segments, refund the rest, record the error; raises the
 * cancel flag. */
void lv_fail_task(lv_held_tasks *ht, held *h, int stage, const char *code, const char *message, int shot);

/* Metrics: the task is (found) in `status` here; the task moved from `from` to `to` (the stage that
 * ended is observed with the time since this process saw it begin); one call to provider p in stage
 * `status` that returned rc after starting at t0 (monotonic ms; LV_ECANCELED is not counted). */
void lv_stage_seen(held *h, int status);
void lv_stage_ended(lv_engine *e, held *h, int from, int to);
void lv_count_call(lv_engine *e, const lv_provider *p, int status, int rc, int64_t t0);

/* The film's picture size for a task. */
int lv_task_size(const lv_task_rec *t, int *width, int *height);

#endif
