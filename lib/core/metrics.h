/* Internal: the pipeline's counters for the operator's /metrics (Prometheus text format).  One object
 * per engine, written by the pipeline threads and read by a scrape; every counter is an atomic. */
#ifndef LV_CORE_METRICS_H
#define LV_CORE_METRICS_H

#include "util/mem.h"

#include <stdint.h>

typedef struct lv_metrics lv_metrics;

int lv_metrics_new(lv_metrics **out);
void lv_metrics_free(lv_metrics *m);

/* A stage (lv_task_status: scripting ... delivering) that this process ran ended after `ms`
 * milliseconds.  Other statuses (queued, awaiting_review, final ones) are not measured. */
void lv_metrics_stage(lv_metrics *m, int status, int64_t ms);

/* One call of the pipeline to provider `name` in stage `status` (lv_task_status), `ok` or not, that
 * took `ms` milliseconds.  Providers are counted under their configured names; past
 * LV_METRICS_PROVIDERS distinct names the rest are counted as "other". */
#define LV_METRICS_PROVIDERS 32
void lv_metrics_provider_call(lv_metrics *m, const char *name, int status, int ok, int64_t ms);

/* Append the counters to b in the Prometheus text format. */
int lv_metrics_write(lv_metrics *m, lv_buf *b);

#endif
