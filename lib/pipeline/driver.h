/*
 * Internal: the segment driver (driver.c).  Uses held.h and cpu.h only.
 *
 * A process-wide timer heap of segment jobs and a few threads that take the next due job, make one short
 * provider call (submit, poll or fetch), persist what it learned and put the job back with its next due
 * time; fetches that are CPU work go to the CPU pool.  A video provider's max_concurrent_jobs caps its
 * jobs in flight across the process (slots, and a wait list per provider).  The heap, the slots and the
 * cancel count are under the driver's own mutex; a task's jobs under the mutex of its generation.
 *
 * The driver never calls up: when a task's last segment is stored (the task moved to `audio` in that
 * segment's transaction, through lv_advance()) it hands the task back through the `generated` callback
 * its owner gave it, with the driver's reference; a task that failed or was canceled is let go.
 */
#ifndef LV_PIPELINE_DRIVER_H
#define LV_PIPELINE_DRIVER_H

#include "pipeline/cpu.h"
#include "pipeline/held.h"

typedef struct seg_job seg_job;
typedef struct provider_slots provider_slots;

/* The task's segments are all generated: h (and one reference to it) goes back to the caller's side. */
typedef void (*lv_generated_fn)(void *arg, held *h);

typedef struct lv_driver {
	lv_engine *e;
	lv_held_tasks *held;
	lv_cpu_pool *cpu;
	const volatile int *stopping; /* the workers' flag */
	lv_generated_fn generated;
	void *generated_arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	seg_job **heap;
	size_t heap_n, heap_cap;
	unsigned cancel_gen; /* bumped when a held task is canceled: the threads look for its jobs then */
	provider_slots *slots;
	size_t n_slots;
	pthread_t *threads;
	int n_threads;
} lv_driver;

/* Set up (the video providers' slots from the config); nothing runs yet.  Always pairs with
 * lv_driver_destroy(), also when it fails. */
int lv_driver_init(lv_driver *d, lv_engine *e, lv_held_tasks *ht, lv_cpu_pool *cpu, const volatile int *stopping,
                   lv_generated_fn generated, void *arg);
int lv_driver_start(lv_driver *d);
/* Join the threads once *stopping is set (every queued job leaves first). */
void lv_driver_stop(lv_driver *d);
void lv_driver_destroy(lv_driver *d);

/* Raise a held task's cancel flag and tell the driver (its queued jobs leave at once). */
void lv_driver_cancel(lv_driver *d, held *h);

/* Load a task in `generating` (its video provider configured) and schedule its segments' next steps:
 * new submissions or resumed polls.  1: parked, the driver has it (and a reference); LV_OK: every shot is
 * ready already; otherwise an error (the task may have been failed). */
int lv_generation_start(lv_driver *d, held *h, const lv_task_rec *t);

/* Storage key of a task's segment. */
char *lv_key_segment(const char *task_id, int idx);

#endif
