/*
 * The pipeline's counters: how long each stage took in this process and how the calls to each
 * provider went.  Label sets are bounded: seven stages, the configured providers (at most
 * LV_METRICS_PROVIDERS, then "other"), two outcomes.
 */
#include "core/metrics.h"

#include "longvideo/task.h"
#include "util/error.h"
#include "util/mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The measured stages, in pipeline order: index = status - LV_TASK_SCRIPTING. */
#define STAGES 7
static const lv_task_status stage_status[STAGES] = { LV_TASK_SCRIPTING, LV_TASK_MODERATION, LV_TASK_ANCHORING,
	                                             LV_TASK_GENERATING, LV_TASK_AUDIO, LV_TASK_COMPOSING,
	                                             LV_TASK_DELIVERING };

/* Stages last seconds to tens of minutes; provider calls milliseconds to minutes. */
static const double stage_bounds[] = { 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600 };
static const double call_bounds[] = { 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300 };
#define STAGE_BUCKETS (sizeof(stage_bounds) / sizeof(stage_bounds[0]))
#define CALL_BUCKETS (sizeof(call_bounds) / sizeof(call_bounds[0]))

typedef struct {
	atomic_ullong bucket[STAGE_BUCKETS + 1]; /* the last one: above every bound */
	atomic_ullong sum_ms;
} stage_hist;

typedef struct {
	char name[64];
	atomic_ullong calls[STAGES][2]; /* [stage][ok] */
	atomic_ullong bucket[CALL_BUCKETS + 1];
	atomic_ullong sum_ms;
} provider_stats;

struct lv_metrics {
	stage_hist stages[STAGES];
	pthread_mutex_t mu;             /* adding a provider */
	atomic_size_t n_providers;      /* slots filled (a slot's name is written before it is counted) */
	provider_stats providers[LV_METRICS_PROVIDERS + 1]; /* the last one: "other" */
};

int lv_metrics_new(lv_metrics **out)
{
	lv_metrics *m = lv_calloc(1, sizeof(*m));
	*out = m;
	if (!m)
		return LV_ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	atomic_init(&m->n_providers, 0);
	lv_strlcpy(m->providers[LV_METRICS_PROVIDERS].name, "other", sizeof(m->providers[0].name));
	return LV_OK;
}

void lv_metrics_free(lv_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static int stage_index(int status)
{
	int i;
	for (i = 0; i < STAGES; i++)
		if ((int)stage_status[i] == status)
			return i;
	return -1;
}

static size_t bucket_of(const double *bounds, size_t n, int64_t ms)
{
	size_t i;
	for (i = 0; i < n && (double)ms / 1000.0 > bounds[i]; i++)
		;
	return i;
}

void lv_metrics_stage(lv_metrics *m, int status, int64_t ms)
{
	int s = stage_index(status);
	if (!m || s < 0)
		return;
	if (ms < 0)
		ms = 0;
	atomic_fetch_add(&m->stages[s].bucket[bucket_of(stage_bounds, STAGE_BUCKETS, ms)], 1);
	atomic_fetch_add(&m->stages[s].sum_ms, (unsigned long long)ms);
}

static provider_stats *provider_slot(lv_metrics *m, const char *name)
{
	size_t i, n = atomic_load(&m->n_providers);
	provider_stats *p = NULL;
	if (!name || !*name || strlen(name) >= sizeof(m->providers[0].name))
		return &m->providers[LV_METRICS_PROVIDERS];
	for (i = 0; i < n; i++)
		if (!strcmp(m->providers[i].name, name))
			return &m->providers[i];
	pthread_mutex_lock(&m->mu);
	n = atomic_load(&m->n_providers);
	for (i = 0; i < n && !p; i++)
		if (!strcmp(m->providers[i].name, name))
			p = &m->providers[i];
	if (!p && n < LV_METRICS_PROVIDERS) {
		p = &m->providers[n];
		lv_strlcpy(p->name, name, sizeof(p->name));
		atomic_store(&m->n_providers, n + 1);
	}
	pthread_mutex_unlock(&m->mu);
	return p ? p : &m->providers[LV_METRICS_PROVIDERS];
}

void lv_metrics_provider_call(lv_metrics *m, const char *name, int status, int ok, int64_t ms)
{
	int s = stage_index(status);
	provider_stats *p;
	if (!m || s < 0)
		return;
	if (ms < 0)
		ms = 0;
	p = provider_slot(m, name);
	atomic_fetch_add(&p->calls[s][ok ? 1 : 0], 1);
	atomic_fetch_add(&p->bucket[bucket_of(call_bounds, CALL_BUCKETS, ms)], 1);
	atomic_fetch_add(&p->sum_ms, (unsigned long long)ms);
}

/* Calls counted in a slot (to leave "other" out until something lands there). */
static unsigned long long calls_of(provider_stats *p)
{
	unsigned long long v = 0;
	int s;
	for (s = 0; s < STAGES; s++)
		v += atomic_load(&p->calls[s][0]) + atomic_load(&p->calls[s][1]);
	return v;
}

static int write_hist(lv_buf *b, const char *metric, const char *label, const char *value, const double *bounds,
                      size_t n, atomic_ullong *bucket, atomic_ullong *sum_ms)
{
	unsigned long long cum = 0;
	size_t i;
	int rc = LV_OK;
	for (i = 0; i <= n && rc == LV_OK; i++) {
		cum += atomic_load(&bucket[i]);
		if (i < n)
			rc = lv_buf_printf(b, "%s_bucket{%s=\"%s\",le=\"%g\"} %llu\n", metric, label, value, bounds[i], cum);
		else
			rc = lv_buf_printf(b, "%s_bucket{%s=\"%s\",le=\"+Inf\"} %llu\n", metric, label, value, cum);
	}
	if (rc == LV_OK)
		rc = lv_buf_printf(b, "%s_sum{%s=\"%s\"} %.3f\n%s_count{%s=\"%s\"} %llu\n", metric, label, value,
		                   (double)atomic_load(sum_ms) / 1000.0, metric, label, value, cum);
	return rc;
}

int lv_metrics_write(lv_metrics *m, lv_buf *b)
{
	size_t i, n = atomic_load(&m->n_providers), k;
	int rc, s;
	rc = lv_buf_puts(b, "# HELP longvideo_stage_duration_seconds Time this process's pipeline spent in each stage "
	                    "of a task, observed when the stage ended.\n"
	                    "# TYPE longvideo_stage_duration_seconds histogram\n");
	for (s = 0; s < STAGES && rc == LV_OK; s++)
		rc = write_hist(b, "longvideo_stage_duration_seconds", "stage", lv_task_status_name(stage_status[s]),
		                stage_bounds, STAGE_BUCKETS, m->stages[s].bucket, &m->stages[s].sum_ms);
	if (rc == LV_OK)
		rc = lv_buf_puts(b, "# HELP longvideo_provider_calls_total Calls of this process's pipeline to providers, "
		                    "by provider, stage and outcome.\n# TYPE longvideo_provider_calls_total counter\n");
	/* The configured providers that were called, then "other" once it was used. */
	for (k = 0; k <= LV_METRICS_PROVIDERS && rc == LV_OK; k++) {
		provider_stats *p;
		p = &m->providers[k];
		if (k < LV_METRICS_PROVIDERS ? k >= n : !calls_of(p))
			continue;
		for (s = 0; s < STAGES && rc == LV_OK; s++)
			for (i = 0; i < 2 && rc == LV_OK; i++) {
				unsigned long long v = atomic_load(&p->calls[s][1 - i]);
				if (v)
					rc = lv_buf_printf(b, "longvideo_provider_calls_total{provider=\"%s\",stage=\"%s\",outcome=\"%s\"} "
					                   "%llu\n", p->name, lv_task_status_name(stage_status[s]), i ? "error" : "ok", v);
			}
	}
	if (rc == LV_OK)
		rc = lv_buf_puts(b, "# HELP longvideo_provider_call_duration_seconds Time of each call to a provider "
		                    "(submit, poll and fetch are separate calls).\n"
		                    "# TYPE longvideo_provider_call_duration_seconds histogram\n");
	for (k = 0; k <= LV_METRICS_PROVIDERS && rc == LV_OK; k++) {
		provider_stats *p = &m->providers[k];
		if (k < LV_METRICS_PROVIDERS ? k >= n : !calls_of(p))
			continue;
		rc = write_hist(b, "longvideo_provider_call_duration_seconds", "provider", p->name, call_bounds, CALL_BUCKETS,
		                p->bucket, &p->sum_ms);
	}
	return rc;
}
