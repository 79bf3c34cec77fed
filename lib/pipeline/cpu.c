/* The CPU pool: slots that keep CPU-heavy work to the core count, and threads that run queued jobs. */
#include "pipeline/cpu.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

void lv_cpu_init(lv_cpu_pool *c, int n, const volatile int *stopping)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	pthread_cond_init(&c->slot_cv, NULL);
	c->n = n;
	c->free = n;
	c->stopping = stopping;
}

void lv_cpu_acquire(lv_cpu_pool *c)
{
	pthread_mutex_lock(&c->mu);
	while (c->free <= 0)
		pthread_cond_wait(&c->slot_cv, &c->mu);
	c->free--;
	pthread_mutex_unlock(&c->mu);
}

void lv_cpu_release(lv_cpu_pool *c)
{
	pthread_mutex_lock(&c->mu);
	c->free++;
	pthread_cond_signal(&c->slot_cv);
	pthread_mutex_unlock(&c->mu);
}

void lv_cpu_push(lv_cpu_pool *c, lv_cpu_fn fn, void *arg)
{
	pthread_mutex_lock(&c->mu);
	if (c->q_n == c->q_cap) {
		size_t cap = c->q_cap ? c->q_cap * 2 : 32;
		lv_cpu_job *q = lv_realloc(c->q, cap * sizeof(*q));
		if (q) {
			c->q = q;
			c->q_cap = cap;
		}
	}
	if (c->q_n < c->q_cap) {
		c->q[c->q_n].fn = fn;
		c->q[c->q_n++].arg = arg;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
}

static void *cpu_thread(void *arg)
{
	lv_cpu_pool *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		lv_cpu_job job;
		while (c->q_n == 0 && !*c->stopping)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->q_n == 0)
			break;
		job = c->q[0];
		memmove(c->q, c->q + 1, (c->q_n - 1) * sizeof(*c->q));
		c->q_n--;
		pthread_mutex_unlock(&c->mu);
		job.fn(job.arg);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int lv_cpu_start(lv_cpu_pool *c)
{
	int i;
	if (!(c->threads = lv_calloc((size_t)c->n, sizeof(pthread_t))))
		return LV_ENOMEM;
	for (i = 0; i < c->n; i++) {
		if (pthread_create(&c->threads[i], NULL, cpu_thread, c) != 0)
			return lv_error_set(LV_EINTERNAL, "workers: cannot start a CPU thread (%d started)", i);
		c->n_threads = i + 1;
	}
	return LV_OK;
}

void lv_cpu_stop(lv_cpu_pool *c)
{
	int i;
	if (!c->threads)
		return;
	pthread_mutex_lock(&c->mu);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	for (i = 0; i < c->n_threads; i++)
		pthread_join(c->threads[i], NULL);
	free(c->threads);
	c->threads = NULL;
	c->n_threads = 0;
}

void lv_cpu_destroy(lv_cpu_pool *c)
{
	free(c->q);
	c->q = NULL;
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	pthread_cond_destroy(&c->slot_cv);
}
