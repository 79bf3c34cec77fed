/*
 * liblongvideo — pipeline workers and webhook delivery.
 *
 * Workers claim queued tasks from the store with a lease, run the stages
 * (scripting -> moderation -> anchoring -> generating -> audio -> composing
 * -> delivering), and persist every stage's output before moving on.  Any
 * number of processes may run workers on one store; a task held by a worker
 * that dies is resumed by another once its lease expires, from the last
 * persisted step.  Segment jobs are driven asynchronously by a few driver
 * threads, so one process carries many tasks in flight; CPU-heavy work
 * (rendering, speech, composition) is bounded by the number of cores.
 */
#ifndef LONGVIDEO_WORKER_H
#define LONGVIDEO_WORKER_H

#include "common.h"
#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lv_workers lv_workers;

#define LV_WORKER_OPTIONS_VERSION 1

typedef struct lv_worker_options {
	unsigned int version; /**< LV_WORKER_OPTIONS_VERSION */
	int workers;          /**< threads claiming tasks; -1: "pipeline.workers"; 0: none (webhooks only) */
	int webhooks;         /**< non-zero: also deliver queued webhooks */
	const char *owner;    /**< name recorded in leases; NULL: "<host>:<pid>:<random>" */
} lv_worker_options;

#define LV_WORKER_OPTIONS_INIT { LV_WORKER_OPTIONS_VERSION, -1, 1, NULL }

/** Start workers on an engine.  The engine must outlive them. */
LV_EXTERN(int) lv_workers_start(lv_workers **out, lv_engine *engine, const lv_worker_options *opts);

/**
 * Stop: claim nothing more, interrupt running work, release the leases of
 * held tasks so that another worker can resume them at once, join every
 * thread and free.  Nothing persisted is lost.  NULL-safe.
 */
LV_EXTERN(void) lv_workers_stop(lv_workers *workers);

/** Number of tasks this process holds right now. */
LV_EXTERN(size_t) lv_workers_active(lv_workers *workers);

#ifdef __cplusplus
}
#endif
#endif
