#include "fakes/fake_jobs.h"
#include "util/time.h"

#include <stdio.h>
#include <string.h>

void fake_jobs_init(fake_jobs *j, const char *clip_dir)
{
	memset(j, 0, sizeof(*j));
	pthread_mutex_init(&j->mu, NULL);
	snprintf(j->clip_dir, sizeof(j->clip_dir), "%s", clip_dir);
	j->run_polls = 2;
}

void fake_jobs_destroy(fake_jobs *j)
{
	pthread_mutex_destroy(&j->mu);
}

void fake_jobs_lock(fake_jobs *j)
{
	pthread_mutex_lock(&j->mu);
}

void fake_jobs_unlock(fake_jobs *j)
{
	pthread_mutex_unlock(&j->mu);
}

fake_job *fake_jobs_add(fake_jobs *j, const char *prefix, int seconds, int w, int h)
{
	fake_job *job;
	if (j->n_jobs == FAKE_JOBS_MAX)
		return NULL;
	job = &j->jobs[j->n_jobs++];
	memset(job, 0, sizeof(*job));
	job->number = j->n_jobs;
	snprintf(job->id, sizeof(job->id), "%s-%04d-9c1e", prefix, j->n_jobs);
	job->seconds = seconds;
	job->width = w;
	job->height = h;
	job->created_ms = lv_now_ms();
	return job;
}

fake_job *fake_jobs_find(fake_jobs *j, const char *id)
{
	int i;
	for (i = 0; i < j->n_jobs; i++)
		if (!strcmp(j->jobs[i].id, id))
			return &j->jobs[i];
	return NULL;
}

int fake_jobs_advance(fake_jobs *j, fake_job *job)
{
	char path[1024];
	job->polls++;
	if (j->run_polls < 0 ? !j->released : job->polls <= j->run_polls)
		return 0;
	if (j->fail_code[0] && (j->fail_job == 0 || j->fail_job == job->number))
		return -1;
	/* The clip is made as the job ends (a status check may be retried; the download had better be quick). */
	fake_clip(path, sizeof(path), j->clip_dir, job->width, job->height, job->seconds);
	return 1;
}

void fake_jobs_submitted(fake_jobs *j)
{
	if (j->n_submits < 16)
		j->submit_ms[j->n_submits++] = lv_mono_ms();
}

void fake_jobs_serve_clip(fake_jobs *j, fake_arena *a, const char *id, lv_fake_response *out)
{
	char path[1024];
	fake_job *job;
	int ok = 0;
	fake_jobs_lock(j);
	job = fake_jobs_find(j, id);
	/* Made under the lock: two requests never write the same file at once. */
	if (job)
		ok = fake_clip(path, sizeof(path), j->clip_dir, job->width, job->height, job->seconds) == 0;
	fake_jobs_unlock(j);
	if (!ok) {
		out->status = 404;
		out->body = "{\"error\":{\"message\":\"no such video\",\"type\":\"invalid_request_error\"}}";
		return;
	}
	out->body_file = fake_printf(a, "%s", path);
	out->content_type = "video/mp4";
}

void fake_size_of(const char *resolution, const char *ratio, int *w, int *h)
{
	int big = resolution && (strstr(resolution, "1080") != NULL);
	int l = big ? 1920 : 1280, s = big ? 1080 : 720;
	if (ratio && !strcmp(ratio, "9:16")) {
		*w = s;
		*h = l;
	} else if (ratio && !strcmp(ratio, "1:1")) {
		*w = s;
		*h = s;
	} else {
		*w = l;
		*h = s;
	}
}
