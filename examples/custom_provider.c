/*
 * custom_provider — a provider type written in this program, registered on an engine and named in its
 * config, used by a whole pipeline run from a prompt to a finished film.
 *
 *   cc custom_provider.c $(pkg-config --cflags --libs longvideo) -o custom_provider
 *   ./custom_provider DATA_DIR FILM.mp4 ["prompt"]
 *
 * The type "example-studio" serves two stages:
 *  - script: it writes the storyboard itself (one shot per planned clip, a short narration each);
 *  - video: an asynchronous job service of its own — submit returns an id, the job is "running" at the
 *    first poll (the state it reports back is kept by the pipeline, not by the provider) and done at the
 *    second, and fetch renders the clip with the built-in offline renderer, opened through the public
 *    provider API.
 * Narration, music, reference images and moderation stay with the built-in "local" provider.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <longvideo.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the provider ----------------------------------------------------------------------------------------- */

typedef struct studio {
	lv_provider *renderer; /* the built-in offline renderer: safe to call from several threads */
	const char *look;      /* the block's "look" key: words added to every shot */
} studio;

/* Append `s` to buf as the inside of a JSON string (quotes, backslashes and control characters dropped). */
static void add_text(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf);
	for (; *s && n + 1 < cap; s++)
		if (*s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
			buf[n++] = *s;
	buf[n] = '\0';
}

static int studio_write(void *self, const lv_call_ctx *ctx, const lv_script_request *req, char **out,
                        lv_provider_error *err)
{
	static const char *const cameras[] = { "wide establishing", "slow push-in", "close-up", "tracking shot" };
	studio *st = self;
	size_t cap = 1024 + req->n_shots * 512, i;
	char *json = malloc(cap);
	(void)ctx;
	if (!json)
		return lv_provider_fail(err, "script_failed", 1, "provider 'studio': out of memory");
	snprintf(json, cap, "{\"title\": \"");
	add_text(json, 160, req->prompt);
	snprintf(json + strlen(json), cap - strlen(json), "\", \"language\": \"%s\", \"style\": \"%s\", "
	         "\"characters\": [], \"shots\": [", req->language, st->look);
	for (i = 0; i < req->n_shots; i++) {
		size_t n = strlen(json);
		snprintf(json + n, cap - n, "%s{\"index\": %zu, \"duration\": %d, \"camera\": \"%s\", \"visual\": \"", i ? ", " : "",
		         i, req->shot_seconds[i], cameras[i % 4]);
		add_text(json, n + 300, req->prompt);
		n = strlen(json);
		snprintf(json + n, cap - n, ", part %zu\", \"characters\": [], \"narration\": \"Part %zu.\"}", i + 1, i + 1);
	}
	snprintf(json + strlen(json), cap - strlen(json), "]}");
	*out = json;
	return LV_OK;
}

static const lv_script_ops studio_script = { LV_PROVIDER_OPS_VERSION, studio_write };

static char *dup_text(const char *s)
{
	char *d = malloc(strlen(s) + 1);
	return d ? strcpy(d, s) : NULL;
}

static int studio_submit(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *status,
                         lv_provider_error *err)
{
	char id[96];
	(void)self;
	/* A real service would start the job here; this one derives its id from the shot. */
	snprintf(id, sizeof(id), "studio-%s-%d", ctx->task_id ? ctx->task_id : "call", job->index);
	if (!(status->job_id = dup_text(id)) || !(status->job_state = dup_text("{\"polls\": 0}")))
		return lv_provider_fail(err, "segment_failed", 1, "provider 'studio': out of memory");
	status->state = LV_JOB_PENDING;
	status->poll_after_ms = 50;
	return LV_OK;
}

static int studio_poll(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, lv_job_status *status,
                       lv_provider_error *err)
{
	/* The state the last call returned comes back with the job: nothing is kept in the provider. */
	int polls = job->job_state && strstr(job->job_state, "\"polls\": 0") ? 0 : 1;
	(void)self;
	(void)ctx;
	if (polls == 0) {
		if (!(status->job_state = dup_text("{\"polls\": 1}")))
			return lv_provider_fail(err, "segment_failed", 1, "provider 'studio': out of memory");
		status->state = LV_JOB_RUNNING;
		status->poll_after_ms = 50;
		return LV_OK;
	}
	status->state = LV_JOB_SUCCEEDED;
	return LV_OK;
}

static int studio_fetch(void *self, const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
                        lv_provider_error *err)
{
	studio *st = self;
	lv_video_options vo = LV_VIDEO_OPTIONS_INIT;
	lv_video_status vs = LV_VIDEO_STATUS_INIT;
	char *render = NULL, prompt[600];
	int rc;
	(void)ctx;
	snprintf(prompt, sizeof(prompt), "%s, %s", job->visual ? job->visual : job->prompt, st->look);
	vo.seconds = job->seconds;
	vo.resolution = job->resolution;
	vo.aspect_ratio = job->aspect_ratio;
	vo.prompt = prompt;
	vo.camera = job->camera;
	vo.seed = job->seed;
	vo.language = job->language;
	rc = lv_provider_video_submit(&render, st->renderer, &vo, &vs);
	while (rc == LV_OK && vs.state != LV_VIDEO_SUCCEEDED && vs.state != LV_VIDEO_FAILED)
		rc = lv_provider_video_poll(&render, st->renderer, &vs);
	if (rc == LV_OK && vs.state == LV_VIDEO_SUCCEEDED)
		rc = lv_provider_video_fetch(st->renderer, render, out_path);
	else if (rc == LV_OK)
		rc = LV_EPROVIDER;
	lv_free(render);
	if (rc != LV_OK)
		return lv_provider_fail(err, "segment_failed", 0, "provider 'studio' could not render shot %d: %s", job->index,
		                        lv_error_last()->message);
	return LV_OK;
}

static const lv_video_ops studio_video = { LV_PROVIDER_OPS_VERSION, LV_VIDEO_FETCH_IS_CPU, studio_submit,
	                                   studio_poll, studio_fetch, NULL };

static void studio_destroy(void *self)
{
	studio *st = self;
	lv_provider_close(st->renderer);
	free(st);
}

static int studio_create(lv_provider_methods *m, const lv_provider_conf *conf, void *type_data)
{
	lv_provider_options po = LV_PROVIDER_OPTIONS_INIT;
	studio *st = calloc(1, sizeof(*st));
	int rc;
	(void)type_data;
	if (!st)
		return LV_ENOMEM;
	po.name = "studio-renderer";
	if ((rc = lv_provider_conf_str(&st->look, conf, "look", "soft morning light, painterly")) != LV_OK ||
	    (rc = lv_provider_open(&st->renderer, "{\"type\": \"local\"}", &po)) != LV_OK) {
		free(st);
		return rc;
	}
	m->self = st;
	m->script = &studio_script;
	m->video = &studio_video;
	m->destroy = studio_destroy;
	return LV_OK;
}

static const char *const studio_keys[] = { "look", NULL };

static const lv_provider_type studio_type = {
	LV_PROVIDER_TYPE_VERSION, "example-studio", LV_PROVIDER_SCRIPT | LV_PROVIDER_VIDEO, studio_keys,
	0,        /* needs no API key */
	1, 8,     /* clips of 1 to 8 seconds */
	0x1u,     /* 720p */
	0,        /* every aspect ratio */
	{ 1000, -1 }, /* 1 credit per generated second at 720p */
	studio_create, NULL
};

/* ---- a film with it ------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	lv_engine_options eo = LV_ENGINE_OPTIONS_INIT;
	lv_task_request req = LV_TASK_REQUEST_INIT;
	lv_worker_options wo = LV_WORKER_OPTIONS_INIT;
	lv_engine *engine = NULL;
	lv_workers *workers = NULL;
	lv_key *key = NULL;
	lv_task *task = NULL;
	char config[1024], id[64] = "", cost[32];
	lv_task_status status = LV_TASK_QUEUED;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: custom_provider DATA_DIR FILM.mp4 [PROMPT]\n");
		return 2;
	}
	snprintf(config, sizeof(config),
	         "{\"providers\": {\"studio\": {\"type\": \"example-studio\", \"look\": \"watercolour, warm dusk\"}},"
	         " \"pipeline\": {\"script\": \"studio\", \"default_video_provider\": \"studio\", \"workers\": 1}}");
	eo.config_json = config;
	eo.data_dir = argv[1];
	if ((rc = lv_engine_register_provider_type(&eo, &studio_type)) != LV_OK ||
	    (rc = lv_engine_open(&engine, &eo)) != LV_OK || (rc = lv_key_create(&key, engine, "example", 100000)) != LV_OK)
		goto out;
	req.prompt = argc > 3 ? argv[3] : "A paper boat sails across a rainy city";
	req.duration = 6;
	req.resolution = "720p";
	if ((rc = lv_task_create(&task, engine, key, &req, NULL)) != LV_OK)
		goto out;
	snprintf(id, sizeof(id), "%s", lv_task_id(task));
	wo.webhooks = 0;
	if ((rc = lv_workers_start(&workers, engine, &wo)) != LV_OK)
		goto out;
	while (!lv_task_status_is_terminal(status)) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		lv_task_free(task);
		task = NULL;
		if ((rc = lv_task_get(&task, engine, key, id)) != LV_OK)
			goto out;
		status = lv_task_get_status(task);
	}
	lv_workers_stop(workers);
	workers = NULL;
	printf("task %s: %s\n", id, lv_task_status_name(status));
	if (status != LV_TASK_COMPLETED) {
		fprintf(stderr, "custom_provider: %s: %s\n", lv_task_error_code(task) ? lv_task_error_code(task) : "",
		        lv_task_error_message(task) ? lv_task_error_message(task) : "");
		rc = 1;
		goto out;
	}
	if ((rc = lv_media_save_film(engine, key, id, argv[2])) != LV_OK)
		goto out;
	lv_credits_format(cost, sizeof(cost), lv_task_cost_actual(task));
	printf("film: %s (%d s, %s credits)\n", argv[2], lv_task_duration(task), cost);
out:
	if (rc != LV_OK && rc != 1)
		fprintf(stderr, "custom_provider: %s\n", lv_error_last()->message);
	lv_workers_stop(workers);
	lv_task_free(task);
	lv_key_free(key);
	lv_engine_close(engine);
	return rc == LV_OK ? 0 : 1;
}
