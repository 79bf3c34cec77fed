/*
 * Internal: the stages of a task (stages.c).  Uses held.h, cpu.h and driver.h.
 *
 *   queued -> scripting -> moderation -> anchoring -> generating (the driver) -> audio -> composing
 *   -> delivering -> completed
 *
 * A stage thread runs a claimed task stage after stage until it parks (its segments go to the driver),
 * ends, or is canceled.  Each stage's output is stored (storage objects + the task's script/state) in the
 * transaction that moves the status on (lv_advance()), so a resumed task starts from the last stored step.
 * The stages keep no state of their own: lv_stages only names the parts they use.
 */
#ifndef LV_PIPELINE_STAGES_H
#define LV_PIPELINE_STAGES_H

#include "pipeline/cpu.h"
#include "pipeline/driver.h"
#include "pipeline/held.h"

typedef struct lv_stages {
	lv_engine *e;
	lv_held_tasks *held;
	lv_cpu_pool *cpu;
	lv_driver *driver;
	const volatile int *stopping; /* the workers' flag */
} lv_stages;

/* Run a claimed task until it parks (generating), ends, or is canceled. */
void lv_run_task(const lv_stages *sg, held *h);

#endif
