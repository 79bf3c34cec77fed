/*
 * Internal: the CPU pool (cpu.c), the bottom of the pipeline.
 *
 * CPU slots: at most `n` CPU-heavy jobs at once across the process (rendering, speech, music,
 * composition), taken by stage threads and by the pool's own threads alike.  The pool's threads run
 * the jobs queued with lv_cpu_push() (the driver's fetches that are CPU work), in order; each job takes
 * its slot itself.  Everything here is under the pool's own mutex.  Includes no other pipeline header.
 */
#ifndef LV_PIPELINE_CPU_H
#define LV_PIPELINE_CPU_H

#include <pthread.h>
#include <stddef.h>

typedef void (*lv_cpu_fn)(void *arg);

typedef struct lv_cpu_job {
	lv_cpu_fn fn;
	void *arg;
} lv_cpu_job;

typedef struct lv_cpu_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* the pool's threads: a job was queued, or the process stops */
	pthread_cond_t slot_cv; /* a slot came free */
	lv_cpu_job *q;          /* jobs waiting for a pool thread, oldest first */
	size_t q_n, q_cap;
	int n;                  /* slots (the core count) and pool threads */
	int free;               /* slots free */
	pthread_t *threads;
	int n_threads;          /* started (joined by lv_cpu_stop) */
	const volatile int *stopping; /* the workers' flag: queued jobs still run (and see it), then the threads end */
} lv_cpu_pool;

/* n slots; nothing runs yet.  Always pairs with lv_cpu_destroy(). */
void lv_cpu_init(lv_cpu_pool *c, int n, const volatile int *stopping);
/* Start the n pool threads. */
int lv_cpu_start(lv_cpu_pool *c);
/* Queue fn(arg) for a pool thread. */
void lv_cpu_push(lv_cpu_pool *c, lv_cpu_fn fn, void *arg);
/* Take (waiting while none is free) and give back one CPU slot. */
void lv_cpu_acquire(lv_cpu_pool *c);
void lv_cpu_release(lv_cpu_pool *c);
/* Wake the pool's threads and join them once *stopping is set (they empty the queue first). */
void lv_cpu_stop(lv_cpu_pool *c);
void lv_cpu_destroy(lv_cpu_pool *c);

#endif
