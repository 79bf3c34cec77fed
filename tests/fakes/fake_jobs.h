/*
 * The asynchronous jobs of a fake video vendor (fake_dashscope, the videos endpoints of fake_openai):
 * created by a submit, advanced by each status check, ending done (a clip of the asked size and length is
 * served) or failed with a scripted code.  The behaviour fields are read under `mu`.
 */
#ifndef LV_TEST_FAKE_JOBS_H
#define LV_TEST_FAKE_JOBS_H

#include "fakes/fake_util.h"

#define FAKE_JOBS_MAX 64

typedef struct fake_job {
	char id[64];
	int number;                 /* 1-based order of submission */
	int seconds, width, height;
	int polls;                  /* status checks so far */
	int canceled;
	char model[64];             /* the model asked for (when the protocol names one) */
	int references;             /* reference images sent with it */
	int64_t created_ms;         /* wall clock of its creation */
	char prompt[2048];          /* the prompt it was asked for (when the protocol has one) */
} fake_job;

typedef struct fake_jobs {
	pthread_mutex_t mu;
	char clip_dir[512];         /* where the served clips are made */
	fake_job jobs[FAKE_JOBS_MAX];
	int n_jobs;
	/* behaviour */
	int run_polls;              /* status checks answered "running" before the end (default 2); < 0: until released */
	int released;
	char fail_code[64];         /* set: jobs end failed with this code and message */
	char fail_message[256];
	int fail_job;               /* with fail_code: 0 every job fails; n > 0 only the n-th job submitted */
	fake_script submit_script;  /* answered before a job is created */
	fake_script poll_script;    /* answered before a status check looks at the job */
	fake_script lost_script;    /* answered AFTER a job is created: the answer to a submit that did create a
	                             * job is lost (a 5xx, a delay past the client's timeout, a 2xx without an id) */
	fake_script list_script;    /* answered before a listing of jobs */
	int hide_prompt;            /* status answers do not show the job's prompt */
	char key[256];              /* set: a request with another credential gets the vendor's 401 */
	/* counters */
	int64_t submit_ms[16];      /* when each submit arrived (also the scripted ones) */
	int n_submits;
	int cancels;
} fake_jobs;

void fake_jobs_init(fake_jobs *j, const char *clip_dir);
void fake_jobs_destroy(fake_jobs *j);
void fake_jobs_lock(fake_jobs *j);
void fake_jobs_unlock(fake_jobs *j);

/* Under the lock: */
/* A new job (NULL when the table is full). */
fake_job *fake_jobs_add(fake_jobs *j, const char *prefix, int seconds, int w, int h);
fake_job *fake_jobs_find(fake_jobs *j, const char *id);
/* Where the job stands after one more status check: 0 running, 1 done, -1 failed. */
int fake_jobs_advance(fake_jobs *j, fake_job *job);
/* Record a submit's arrival. */
void fake_jobs_submitted(fake_jobs *j);

/* Serve the job's clip (takes the lock): body_file of a clip of the job's size and length, or a 404. */
void fake_jobs_serve_clip(fake_jobs *j, fake_arena *a, const char *id, lv_fake_response *out);

/* The size of a resolution ("720P", "1080p") at an aspect ratio. */
void fake_size_of(const char *resolution, const char *ratio, int *w, int *h);

#endif
