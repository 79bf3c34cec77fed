/*
 * The comfyui video provider against a fake ComfyUI server that replays the routes of ComfyUI's
 * server.py: /prompt, /history, /queue, /view, /upload/image, /interrupt.  What the adapter sent is
 * asserted (the workflow with placeholders filled, numbers as numbers; the uploaded reference image);
 * films are made through the whole pipeline and read back as media; failures are mapped to task errors
 * with the ledger balanced; a worker killed after submitting resumes polling without submitting again;
 * cancel stops the prompt on the server.  The clip conversions (animated WebP, GIF, frame sequences)
 * are checked picture by picture.
 */
#include "testutil.h"
#include "compose/compose.h"
#include "config/config.h"
#include "core/engine.h"
#include "fakes/fake_comfyui.h"
#include "fakes/fake_openai.h"
#include "harness.h"
#include "longvideo.h"
#include "pipeline_util.h"
#include "providers/clip.h"
#include "providers/provider.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define WAN LV_TEST_SOURCE_DIR "/examples/comfyui/wan2.1_t2v_api.json"
#define WAN_R2V LV_TEST_SOURCE_DIR "/examples/comfyui/wan2.1_vace_r2v_api.json"
#define LTX LV_TEST_SOURCE_DIR "/examples/comfyui/ltxv_t2v_api.json"
#define FRAME (1.0 / 24.0)

/* ---- the fake ComfyUI and the outputs it serves (made once, before the tests fork) ------------------------------ */

static fake_comfyui_outputs fxo;
static fake_comfyui *fc;

static void fixtures_make(void)
{
	fake_comfyui_outputs_make(&fxo);
}

static void fixtures_remove(void)
{
	fake_comfyui_outputs_free(&fxo);
}

static void run_ffmpeg(const char *args)
{
	char *cmd = lv_asprintf("ffmpeg -hide_banner -loglevel error -y %s", args);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	free(cmd);
}

static void fake_start(void)
{
	fc = fake_comfyui_start(&fxo);
}

static void fake_stop(void)
{
	fake_comfyui_stop(fc);
	fc = NULL;
}

static int prompts(void)
{
	return fc ? fake_comfyui_prompts(fc) : 0;
}

/* The workflow (the "prompt" object) of the i-th /prompt the fake accepted, parsed. */
static cJSON *sent_workflow(int i, cJSON **root)
{
	return fake_comfyui_workflow(fc, i, root);
}

static const cJSON *input(const cJSON *wf, const char *node, const char *name)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(wf, node), "inputs"), name);
}

/* ---- config ------------------------------------------------------------------------------------------------ */

static char *comfy_config(const char *workflow, const char *extra_provider, const char *extra_pipeline)
{
	int own_timeout = extra_provider && strstr(extra_provider, "timeout_ms");
	int own_retries = extra_provider && strstr(extra_provider, "max_retries");
	return lv_asprintf("{\"pipeline\":{\"workers\":1,\"default_video_provider\":\"comfy\"%s%s},"
	                   "\"providers\":{\"comfy\":{\"type\":\"comfyui\",\"base_url\":\"%s\",\"workflow\":\"%s\","
	                   "\"rates\":{\"720p\":10,\"1080p\":20},\"poll_interval_ms\":100%s%s%s%s}}}",
	                   extra_pipeline ? "," : "", extra_pipeline ? extra_pipeline : "",
	                   fc ? lv_fake_url(fc->f) : "http://127.0.0.1:9", workflow,
	                   own_timeout ? "" : ",\"timeout_ms\":3000", own_retries ? "" : ",\"max_retries\":2",
	                   extra_provider ? "," : "", extra_provider ? extra_provider : "");
}

/* Build the providers of a config and return the one named "comfy" (or fail with the config error). */
static int build(lv_config **cfg, lv_providers **ps, const char *json)
{
	*cfg = NULL;
	*ps = NULL;
	if (lv_config_load(cfg, NULL, json, NULL))
		return lv_error_last()->status;
	return lv_providers_build(ps, *cfg);
}

static void expect_build_error(const char *json, const char *needle)
{
	lv_config *cfg;
	lv_providers *ps;
	ck_assert_int_eq(build(&cfg, &ps, json), LV_ECONFIG);
	ck_assert_msg(strstr(lv_error_last()->message, needle) != NULL, "'%s' lacks '%s'", lv_error_last()->message,
	              needle);
	lv_providers_free(ps);
	lv_config_free(cfg);
}

static void check_film(const char *path, double seconds, int width, int height)
{
	lv_media_info mi;
	ck_assert_msg(lv_media_probe(&mi, path) == LV_OK, "probe %s: %s", path, lv_error_last()->message);
	ck_assert_msg(fabs(mi.duration - seconds) <= FRAME + 1e-3, "duration %.4f, want %.0f", mi.duration, seconds);
	ck_assert_msg(fabs(mi.video_duration - seconds) <= FRAME + 1e-3, "video %.4f", mi.video_duration);
	ck_assert(mi.has_video && mi.has_audio);
	ck_assert_str_eq(mi.video_codec, "h264");
	ck_assert_int_eq(mi.width, width);
	ck_assert_int_eq(mi.height, height);
	ck_assert(mi.faststart);
}

static void ledger_balanced_for(lv_pt *pt, const char *id, int64_t rate_per_s)
{
	cJSON *j = lv_pt_json(pt, id);
	const cJSON *s;
	int64_t ready = 0, reserve, settle, refund;
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(j, "shots"))
	{
		if (!strcmp(lv_json_get_str(s, "status"), "ready"))
			ready += cJSON_GetObjectItem(s, "duration")->valueint * rate_per_s;
	}
	lv_pt_task_ledger(pt, id, &reserve, &settle, &refund);
	ck_assert_int_eq(settle, ready);
	ck_assert_int_eq(reserve, settle + refund);
	ck_assert_int_eq((int64_t)llround(cJSON_GetObjectItem(j, "cost_actual")->valuedouble * 1000), ready);
	cJSON_Delete(j);
}

/* ---- tests: configuration ------------------------------------------------------------------------------------- */

START_TEST(workflow_files_are_checked_when_built)
{
	char *dir = lv_test_mkdtemp("comfy-cfg"), *json;
	char *ui = lv_test_write_file(dir, "ui.json", "{\"last_node_id\": 9, \"nodes\": [], \"links\": []}");
	char *typo = lv_test_write_file(dir, "typo.json",
	                                "{\"6\": {\"class_type\": \"CLIPTextEncode\", \"inputs\": {\"text\": \"{{promt}}\"}}}");
	char *noprompt = lv_test_write_file(dir, "np.json", "{\"6\": {\"class_type\": \"X\", \"inputs\": {\"seed\": \"{{seed}}\"}}}");
	char *badnode = lv_test_write_file(dir, "bn.json", "{\"6\": {\"inputs\": {\"text\": \"{{prompt}}\"}}}");
	char *garbage = lv_test_write_file(dir, "g.json", "{\"6\": ");
	lv_config *cfg;
	lv_providers *ps;
	json = comfy_config("/nonexistent/workflow_api.json", NULL, NULL);
	expect_build_error(json, "providers.comfy.workflow: cannot read /nonexistent/workflow_api.json");
	free(json);
	json = lv_asprintf("{\"providers\":{\"comfy\":{\"type\":\"comfyui\",\"base_url\":\"http://h\",\"rates\":"
	                   "{\"720p\":1,\"1080p\":1}}}}");
	expect_build_error(json, "providers.comfy.workflow: must be the path");
	free(json);
	json = lv_asprintf("{\"providers\":{\"comfy\":{\"type\":\"comfyui\",\"workflow\":\"%s\",\"rates\":"
	                   "{\"720p\":1,\"1080p\":1}}}}",
	                   WAN);
	expect_build_error(json, "providers.comfy.base_url: is required");
	free(json);
	json = comfy_config(ui, NULL, NULL);
	expect_build_error(json, "editor's format");
	free(json);
	json = comfy_config(typo, NULL, NULL);
	expect_build_error(json, "unknown placeholder {{promt}}");
	free(json);
	json = comfy_config(noprompt, NULL, NULL);
	expect_build_error(json, "no \"{{prompt}}\" placeholder");
	free(json);
	json = comfy_config(badnode, NULL, NULL);
	expect_build_error(json, "needs \"class_type\" and \"inputs\"");
	free(json);
	json = comfy_config(garbage, NULL, NULL);
	expect_build_error(json, "is not a JSON object");
	free(json);
	json = comfy_config(WAN_R2V, NULL, NULL);
	expect_build_error(json, "put that workflow in workflow_r2v");
	free(json);
	json = comfy_config(WAN, "\"workflow_r2v\":\"" WAN "\"", NULL);
	expect_build_error(json, "providers.comfy.workflow_r2v: " WAN " has no \"{{reference_image}}\"");
	free(json);
	json = comfy_config(WAN, "\"frames_multiple_of\":0", NULL);
	expect_build_error(json, "providers.comfy.frames_multiple_of");
	free(json);
	json = comfy_config(WAN, "\"sizes\":{\"1280x720\":\"big\"}", NULL);
	expect_build_error(json, "providers.comfy.sizes.1280x720");
	free(json);
	json = comfy_config(WAN, "\"output_node\":\"999\"", NULL);
	expect_build_error(json, "providers.comfy.output_node: the workflow has no node \"999\"");
	free(json);
	json = comfy_config(WAN, "\"workflow_i2v\":\"x\"", NULL);
	expect_build_error(json, "providers.comfy.workflow_i2v: unknown key");
	free(json);
	/* The shipped examples load. */
	json = comfy_config(WAN, "\"workflow_r2v\":\"" WAN_R2V "\"", NULL);
	ck_assert_msg(build(&cfg, &ps, json) == LV_OK, "%s", lv_error_last()->message);
	ck_assert_ptr_nonnull(lv_providers_get(ps, "comfy")->video);
	lv_providers_free(ps);
	lv_config_free(cfg);
	free(json);
	json = comfy_config(LTX, "\"fps\":24,\"frames_multiple_of\":8,\"size_multiple_of\":32", NULL);
	ck_assert_msg(build(&cfg, &ps, json) == LV_OK, "%s", lv_error_last()->message);
	lv_providers_free(ps);
	lv_config_free(cfg);
	free(json);
	free(ui);
	free(typo);
	free(noprompt);
	free(badnode);
	free(garbage);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(unsupported_resolution_and_aspect_are_invalid_requests)
{
	lv_pt pt;
	lv_task *t = NULL;
	char *json = comfy_config(WAN, "\"resolutions\":[\"720p\"],\"aspect_ratios\":[\"16:9\",\"9:16\"]", NULL);
	const char *b1 = "{\"prompt\":\"A harbour\",\"duration\":5,\"resolution\":\"1080p\"}";
	const char *b2 = "{\"prompt\":\"A harbour\",\"duration\":5,\"aspect_ratio\":\"1:1\"}";
	lv_pt_open(&pt, "comfy-caps", json, 0);
	ck_assert_int_eq(lv_task_create_json(&t, pt.engine, pt.key, b1, strlen(b1), NULL), LV_EINVALID);
	ck_assert_msg(!strncmp(lv_error_last()->message, "resolution", 10), "%s", lv_error_last()->message);
	ck_assert_int_eq(lv_task_create_json(&t, pt.engine, pt.key, b2, strlen(b2), NULL), LV_EINVALID);
	ck_assert_msg(!strncmp(lv_error_last()->message, "aspect_ratio", 12), "%s", lv_error_last()->message);
	ck_assert_int_eq(prompts(), 0);
	lv_pt_close(&pt);
	free(json);
}
END_TEST

/* ---- tests: direct calls ---------------------------------------------------------------------------------------- */

typedef struct direct {
	lv_config *cfg;
	lv_providers *ps;
	const lv_provider *p;
	lv_call_ctx ctx;
	volatile int cancel;
	lv_segment_job job;
	char *dir;
} direct;

static void direct_open(direct *d, const char *json)
{
	memset(d, 0, sizeof(*d));
	ck_assert_msg(build(&d->cfg, &d->ps, json) == LV_OK, "%s", lv_error_last()->message);
	d->p = lv_providers_get(d->ps, "comfy");
	ck_assert_ptr_nonnull(d->p);
	d->dir = lv_test_mkdtemp("comfy-direct");
	d->ctx.cancel = &d->cancel;
	d->ctx.task_id = "vid_direct";
	d->ctx.work_dir = d->dir;
	d->job.task_id = "vid_direct";
	d->job.index = 2;
	d->job.seconds = 5;
	d->job.resolution = "720p";
	d->job.aspect_ratio = "16:9";
	d->job.width = 1280;
	d->job.height = 720;
	d->job.prompt = "A lighthouse on a cliff at dusk. Camera: push in. Style: painterly.";
	d->job.visual = "A lighthouse on a cliff at dusk";
	d->job.camera = "push in";
	d->job.seed = 3000000000u;
	d->job.language = "en";
}

static void direct_close(direct *d)
{
	lv_providers_free(d->ps);
	lv_config_free(d->cfg);
	lv_test_rmdir(d->dir);
	free(d->dir);
}

START_TEST(placeholders_are_filled_with_typed_values)
{
	char *dir = lv_test_mkdtemp("comfy-ph");
	char *wf = lv_test_write_file(dir, "wf.json",
	                              "{\"1\": {\"class_type\": \"T\", \"inputs\": {\"text\": \"{{prompt}}\", \"neg\": "
	                              "\"{{negative_prompt}}\", \"seed\": \"{{seed}}\", \"n\": \"{{frames}}\", \"fps\": "
	                              "\"{{fps}}\", \"w\": \"{{width}}\", \"h\": \"{{height}}\", \"s\": \"{{seconds}}\", "
	                              "\"prefix\": \"lv/{{task_id}}_{{shot}}_{{seed}}\", \"literal\": \"{{x\", \"list\": "
	                              "[\"{{frames}}\", 3], \"link\": [\"2\", 0]}}}");
	char *json = comfy_config(wf, "\"sizes\":{\"1280x720\":\"832x480\"},\"negative_prompt\":\"no blur\"", NULL);
	direct d;
	lv_job_status st;
	lv_provider_error err;
	cJSON *root;
	const cJSON *w;
	direct_open(&d, json);
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	ck_assert_msg(d.p->video->submit(d.p->self, &d.ctx, &d.job, &st, &err) == LV_OK, "%s", err.message);
	ck_assert_str_eq(st.job_id, "0f1e2d3c-0000-4000-8000-000000000001");
	ck_assert_int_eq(st.state, LV_JOB_PENDING);
	ck_assert_int_eq(st.poll_after_ms, 100);
	w = sent_workflow(0, &root);
	{
		/* The client id sent is kept with the job (to find an unanswered submission again). */
		cJSON *js = cJSON_Parse(st.job_state);
		ck_assert_str_eq(lv_json_get_str(root, "client_id"), lv_json_get_str(js, "client_id"));
		cJSON_Delete(js);
	}
	ck_assert(!strncmp(lv_json_get_str(root, "client_id"), "longvideo-", 10));
	ck_assert_str_eq(input(w, "1", "text")->valuestring, d.job.prompt);
	ck_assert_str_eq(input(w, "1", "neg")->valuestring, "no blur");
	ck_assert(cJSON_IsNumber(input(w, "1", "seed")));
	ck_assert(input(w, "1", "seed")->valuedouble == 3000000000.0);
	ck_assert(cJSON_IsNumber(input(w, "1", "n")));
	ck_assert_int_eq(input(w, "1", "n")->valueint, 81); /* 5 s x 16 fps = 80 -> 4k+1 */
	ck_assert_int_eq(input(w, "1", "fps")->valueint, 16);
	ck_assert_int_eq(input(w, "1", "w")->valueint, 832); /* the sizes map */
	ck_assert_int_eq(input(w, "1", "h")->valueint, 480);
	ck_assert_int_eq(input(w, "1", "s")->valueint, 5);
	ck_assert_str_eq(input(w, "1", "prefix")->valuestring, "lv/vid_direct_2_3000000000");
	ck_assert_str_eq(input(w, "1", "literal")->valuestring, "{{x");
	ck_assert_int_eq(cJSON_GetArrayItem(input(w, "1", "list"), 0)->valueint, 81);
	ck_assert_str_eq(cJSON_GetArrayItem(input(w, "1", "link"), 0)->valuestring, "2");
	cJSON_Delete(root);
	free(st.job_id);
	free(st.job_state);
	direct_close(&d);
	free(json);
	/* LTX-style numbers: 24 fps, 8k+1 frames, sizes rounded down to multiples of 32. */
	json = comfy_config(LTX, "\"fps\":24,\"frames_multiple_of\":8,\"size_multiple_of\":32", NULL);
	direct_open(&d, json);
	d.job.index = 3; /* another shot (the same one would be found on the server and not sent again) */
	memset(&st, 0, sizeof(st));
	ck_assert_msg(d.p->video->submit(d.p->self, &d.ctx, &d.job, &st, &err) == LV_OK, "%s", err.message);
	w = sent_workflow(1, &root);
	ck_assert_int_eq(input(w, "70", "length")->valueint, 121); /* 5 s x 24 = 120 -> 8k+1 */
	ck_assert_int_eq(input(w, "70", "width")->valueint, 1280);
	ck_assert_int_eq(input(w, "70", "height")->valueint, 704);
	ck_assert_int_eq(input(w, "69", "frame_rate")->valueint, 24);
	ck_assert(cJSON_IsNumber(input(w, "72", "noise_seed")));
	ck_assert_str_eq(input(w, "41", "filename_prefix")->valuestring, "longvideo/vid_direct_shot3");
	cJSON_Delete(root);
	free(st.job_id);
	free(st.job_state);
	direct_close(&d);
	free(json);
	free(wf);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(a_shot_already_on_the_server_is_not_sent_again)
{
	char *json = comfy_config(WAN, NULL, NULL);
	direct d;
	lv_job_status st, again;
	lv_provider_error err;
	direct_open(&d, json);
	memset(&st, 0, sizeof(st));
	memset(&again, 0, sizeof(again));
	memset(&err, 0, sizeof(err));
	ck_assert_msg(d.p->video->submit(d.p->self, &d.ctx, &d.job, &st, &err) == LV_OK, "%s", err.message);
	/* Submitted again (a worker died before it stored the id): the queued prompt is taken over. */
	ck_assert_msg(d.p->video->submit(d.p->self, &d.ctx, &d.job, &again, &err) == LV_OK, "%s", err.message);
	ck_assert_str_eq(again.job_id, st.job_id);
	ck_assert_uint_eq(lv_fake_count(fc->f, "POST", "/prompt"), 1);
	free(again.job_id);
	free(again.job_state);
	/* Finished successfully: still that one (its clip is this shot's). */
	lv_sleep_ms(500);
	memset(&again, 0, sizeof(again));
	ck_assert_int_eq(d.p->video->submit(d.p->self, &d.ctx, &d.job, &again, &err), LV_OK);
	ck_assert_str_eq(again.job_id, st.job_id);
	ck_assert_uint_eq(lv_fake_count(fc->f, "POST", "/prompt"), 1);
	free(again.job_id);
	free(again.job_state);
	/* A run that failed is what a new submission replaces: sent. */
	fake_comfyui_lock(fc);
	fc->p[0].fail = 1;
	fake_comfyui_unlock(fc);
	memset(&again, 0, sizeof(again));
	ck_assert_int_eq(d.p->video->submit(d.p->self, &d.ctx, &d.job, &again, &err), LV_OK);
	ck_assert_str_ne(again.job_id, st.job_id);
	ck_assert_uint_eq(lv_fake_count(fc->f, "POST", "/prompt"), 2);
	free(again.job_id);
	free(again.job_state);
	free(st.job_id);
	free(st.job_state);
	direct_close(&d);
	free(json);
}
END_TEST

START_TEST(direct_failures_are_mapped)
{
	char *json = comfy_config(WAN, "\"max_retries\":1,\"timeout_ms\":400", NULL);
	direct d;
	lv_job_status st;
	lv_provider_error err;
	direct_open(&d, json);
	/* 400 with node_errors: not retryable, says which node and what. */
	fc->prompt_400 = 1;
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.p->video->submit(d.p->self, &d.ctx, &d.job, &st, &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "segment_failed");
	ck_assert_int_eq(err.retryable, 0);
	ck_assert_msg(strstr(err.message, "node 37 (UNETLoader): Value not in list (unet_name)") &&
	                      strstr(err.message, "providers.comfy.workflow"),
	              "%s", err.message);
	ck_assert_ptr_null(strstr(err.message, "safetensors"));
	ck_assert_ptr_null(st.job_id);
	fc->prompt_garbage = 1;
	memset(&err, 0, sizeof(err));
	{
		/* The garbage answer did queue it: the adapter finds it by client id and adopts it. */
		size_t gets = lv_fake_count(fc->f, "GET", "/queue");
		ck_assert_msg(d.p->video->submit(d.p->self, &d.ctx, &d.job, &st, &err) == LV_OK, "%s", err.message);
		ck_assert_str_eq(st.job_id, "0f1e2d3c-0000-4000-8000-000000000001");
		ck_assert_uint_gt(lv_fake_count(fc->f, "GET", "/queue"), gets);
		ck_assert_int_eq(prompts(), 1);
		free(st.job_id);
		free(st.job_state);
	}
	/* A lost 503 (nothing queued): retryable, nothing adopted. */
	fc->prompt_503_lost = 1;
	d.job.index = 4;
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.p->video->submit(d.p->self, &d.ctx, &d.job, &st, &err), LV_EPROVIDER);
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_msg(strstr(err.message, "HTTP 503") && strstr(err.message, "did not queue it"), "%s", err.message);
	ck_assert_ptr_null(st.job_id);
	ck_assert_int_eq(prompts(), 1);
	/* Malformed /history: retryable. */
	fc->history_garbage = 1;
	d.job.job_id = "0f1e2d3c-0000-4000-8000-000000000001";
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.p->video->poll(d.p->self, &d.ctx, &d.job, &st, &err), LV_EPROVIDER);
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_ptr_nonnull(strstr(err.message, "not JSON"));
	/* An unknown prompt (the server restarted): failed, retryable, so the pipeline submits again. */
	d.job.job_id = "no-such-prompt";
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.p->video->poll(d.p->self, &d.ctx, &d.job, &st, &err), LV_EPROVIDER);
	ck_assert_int_eq(st.state, LV_JOB_FAILED);
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_ptr_nonnull(strstr(err.message, "no longer knows prompt no-such-prompt"));
	/* A server that never answers: provider_timeout after the retries. */
	{
		lv_fake_response slow = { 200, NULL, "{}", 0, NULL, NULL, 1500, 0 };
		lv_fake_on(fc->f, "GET", "/history/*", &slow);
		lv_fake_on(fc->f, "GET", "/queue", &slow);
	}
	d.job.job_id = "0f1e2d3c-0000-4000-8000-000000000001";
	memset(&err, 0, sizeof(err));
	{
		size_t before = lv_fake_count(fc->f, "GET", "/history/*");
		ck_assert_int_eq(d.p->video->poll(d.p->self, &d.ctx, &d.job, &st, &err), LV_EPROVIDER);
		ck_assert_msg(!strcmp(err.code, "provider_timeout"), "%s: %s", err.code, err.message);
		ck_assert_int_eq(err.retryable, 1);
		ck_assert_uint_eq(lv_fake_count(fc->f, "GET", "/history/*") - before, 2); /* 1 + max_retries */
	}
	/* Nobody listening: names base_url. */
	direct_close(&d);
	free(json);
	json = lv_asprintf("{\"providers\":{\"comfy\":{\"type\":\"comfyui\",\"base_url\":\"http://127.0.0.1:1\","
	                   "\"workflow\":\"%s\",\"rates\":{\"720p\":1,\"1080p\":1},\"max_retries\":0}}}",
	                   WAN);
	direct_open(&d, json);
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.p->video->submit(d.p->self, &d.ctx, &d.job, &st, &err), LV_EPROVIDER);
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_msg(strstr(err.message, "cannot reach ComfyUI at http://127.0.0.1:1"), "%s", err.message);
	direct_close(&d);
	free(json);
}
END_TEST

START_TEST(bearer_key_for_a_proxy_is_sent_and_never_shown)
{
	char *json = comfy_config(WAN, "\"api_key_env\":\"LV_TEST_COMFY_KEY\"", NULL);
	direct d;
	lv_job_status st;
	lv_provider_error err;
	lv_fake_request *r;
	char h[128];
	setenv("LV_TEST_COMFY_KEY", "sk-comfy-proxy-secret-0001", 1);
	direct_open(&d, json);
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.p->video->submit(d.p->self, &d.ctx, &d.job, &st, &err), LV_OK);
	r = lv_fake_last(fc->f, "POST", "/prompt");
	ck_assert_str_eq(lv_fake_header(r, "authorization", h, sizeof(h)), "Bearer sk-comfy-proxy-secret-0001");
	lv_fake_request_free(r);
	free(st.job_id);
	free(st.job_state);
	/* A 401 from the proxy names the variable, never the value. */
	{
		lv_fake_response no = { 401, NULL, "{\"error\":\"bad key sk-comfy-proxy-secret-0001\"}", 0, NULL, NULL, 0, 0 };
		lv_fake_on(fc->f, "POST", "/prompt", &no);
	}
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	d.job.index = 3;
	ck_assert_int_eq(d.p->video->submit(d.p->self, &d.ctx, &d.job, &st, &err), LV_EPROVIDER);
	ck_assert_int_eq(err.retryable, 0);
	ck_assert_ptr_nonnull(strstr(err.message, "LV_TEST_COMFY_KEY"));
	ck_assert_ptr_null(strstr(err.message, "sk-comfy"));
	unsetenv("LV_TEST_COMFY_KEY");
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(d.p->video->submit(d.p->self, &d.ctx, &d.job, &st, &err), LV_EPROVIDER);
	ck_assert_ptr_nonnull(strstr(err.message, "LV_TEST_COMFY_KEY is not set"));
	direct_close(&d);
	free(json);
}
END_TEST

/* ---- tests: the clip conversions ---------------------------------------------------------------------------------- */

/* PSNR (dB) between two videos' luma, frame by frame, with the ffmpeg CLI (test only). */
static double psnr(const char *a, const char *b)
{
	char *cmd = lv_asprintf("ffmpeg -hide_banner -nostats -i %s -i %s -lavfi \"[0:v][1:v]psnr\" -f null - 2>&1 | "
	                        "grep -o 'average:[0-9.inf]*' | tail -1 | cut -d: -f2",
	                        a, b);
	FILE *p = popen(cmd, "r");
	char buf[64] = "";
	free(cmd);
	ck_assert_ptr_nonnull(p);
	if (!fgets(buf, sizeof(buf), p))
		buf[0] = '\0';
	pclose(p);
	if (!strncmp(buf, "inf", 3))
		return 1000;
	return atof(buf);
}

START_TEST(animated_webp_gif_and_frames_become_canonical_mp4)
{
	char *dir = lv_test_mkdtemp("comfy-clip");
	char *in = lv_path_join(dir, "in.webp"), *out = lv_path_join(dir, "webp.mp4"), *ref = lv_path_join(dir, "ref.mp4");
	char *gif_out = lv_path_join(dir, "gif.mp4"), *frames_out = lv_path_join(dir, "frames.mp4"), *a;
	char *pngs[FAKE_COMFY_FRAMES];
	lv_media_info mi;
	int converted = 0, i;
	double q;
	/* A lossless animated WebP of 3 s at 16 fps (frames after the first are blended sub-rectangles)... */
	a = lv_asprintf("-f lavfi -i testsrc=size=320x240:rate=16 -t 3 -loop 0 -lossless 1 -c:v libwebp_anim %s", in);
	run_ffmpeg(a);
	free(a);
	ck_assert(lv_clip_webp_is_animated(in));
	ck_assert_int_eq(lv_clip_to_mp4(in, out, 640, 360, NULL, &converted), LV_OK);
	ck_assert_int_eq(converted, 1);
	ck_assert_int_eq(lv_media_probe(&mi, out), LV_OK);
	ck_assert_str_eq(mi.video_codec, "h264");
	ck_assert_int_eq(mi.width, 640);
	ck_assert_int_eq(mi.height, 360);
	ck_assert(fabs(mi.fps - 24) < 0.01);
	ck_assert_int_eq(mi.video_frames, 72);
	ck_assert(fabs(mi.video_duration - 3.0) < 1e-6);
	ck_assert(mi.faststart);
	/* ...must picture the same as the same frames given as PNGs (both go through the same encoder). */
	a = lv_asprintf("-f lavfi -i testsrc=size=320x240:rate=16 -t 3 %s/r_%%03d.png", dir);
	run_ffmpeg(a);
	free(a);
	for (i = 0; i < FAKE_COMFY_FRAMES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "r_%03d.png", i + 1);
		pngs[i] = lv_path_join(dir, name);
	}
	ck_assert_int_eq(lv_clip_frames_to_mp4((const char *const *)pngs, FAKE_COMFY_FRAMES, 16, ref, 640, 360, NULL), LV_OK);
	q = psnr(out, ref);
	ck_assert_msg(q > 45, "animated WebP vs PNG frames: PSNR %.2f dB", q);
	/* Frames from the fixture: 160x120 fitted into 16:9 with bars, 48 frames at 16 fps = 3 s. */
	for (i = 0; i < FAKE_COMFY_FRAMES; i++) {
		char name[32];
		free(pngs[i]);
		snprintf(name, sizeof(name), "f_%05d_.png", i + 1);
		pngs[i] = lv_path_join(fxo.frames_dir, name);
	}
	ck_assert_int_eq(lv_clip_frames_to_mp4((const char *const *)pngs, FAKE_COMFY_FRAMES, 16, frames_out, 1280, 720, NULL),
	                 LV_OK);
	ck_assert_int_eq(lv_media_probe(&mi, frames_out), LV_OK);
	ck_assert_int_eq(mi.width, 1280);
	ck_assert_int_eq(mi.video_frames, 72);
	/* GIF (palette, so compared loosely with the lossless source). */
	a = lv_asprintf("%s.copy", fxo.gif);
	{
		char *data = NULL;
		size_t len;
		ck_assert_int_eq(lv_file_read(&data, &len, fxo.gif), LV_OK);
		ck_assert_int_eq(lv_file_write_atomic(a, data, len, 0644), LV_OK);
		free(data);
	}
	ck_assert_int_eq(lv_clip_to_mp4(a, gif_out, 640, 360, NULL, &converted), LV_OK);
	free(a);
	ck_assert_int_eq(converted, 1);
	ck_assert_int_eq(lv_media_probe(&mi, gif_out), LV_OK);
	ck_assert(fabs(mi.video_duration - 3.0) < 0.05);
	q = psnr(gif_out, ref);
	ck_assert_msg(q > 20, "GIF vs PNG frames: PSNR %.2f dB", q);
	/* Junk is refused with the file named. */
	{
		char *junk = lv_test_write_file(dir, "junk.bin", "<html>oops</html>");
		ck_assert_int_eq(lv_clip_to_mp4(junk, out, 640, 360, NULL, NULL), LV_EINVALID);
		ck_assert_ptr_nonnull(strstr(lv_error_last()->message, "junk.bin"));
		free(junk);
	}
	for (i = 0; i < FAKE_COMFY_FRAMES; i++)
		free(pngs[i]);
	free(in);
	free(out);
	free(ref);
	free(gif_out);
	free(frames_out);
	lv_test_rmdir(dir);
	free(dir);
}
END_TEST

/* ---- tests: through the pipeline ------------------------------------------------------------------------------------ */

START_TEST(films_through_the_pipeline_from_mp4_and_webp_outputs)
{
	lv_pt pt;
	char id[64], *film, *json = comfy_config(WAN, NULL, NULL);
	lv_task *t;
	cJSON *root, *task;
	const cJSON *w;
	int i, n;
	size_t views;
	fc->kinds[0] = FAKE_COMFY_SAVEVIDEO;
	fc->kinds[1] = FAKE_COMFY_VHS;
	fc->n_kinds = 2;
	lv_pt_open(&pt, "comfy-film", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Fishing boats leave the harbour at dawn\",\"duration\":8}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "%s: %s", lv_task_status_name(lv_task_get_status(t)),
	              lv_task_error_message(t) ? lv_task_error_message(t) : "");
	ck_assert_int_eq(lv_task_shots_done(t), 2);
	ck_assert_int_eq(lv_task_cost_actual(t), 8 * 10000);
	lv_task_free(t);
	film = lv_pt_film(&pt, id);
	check_film(film, 8, 1280, 720);
	free(film);
	/* What was sent: one /prompt per shot, the Wan workflow filled in with numbers as numbers. */
	n = prompts();
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(lv_fake_count(fc->f, "POST", "/prompt"), 2);
	task = lv_pt_json(&pt, id);
	for (i = 0; i < n; i++) {
		const cJSON *shot = NULL, *s;
		int secs;
		w = sent_workflow(i, &root);
		/* Shots are submitted concurrently: find the one this prompt is for by its description. */
		cJSON_ArrayForEach(s, cJSON_GetObjectItem(cJSON_GetObjectItem(task, "script"), "shots"))
		{
			if (strstr(input(w, "6", "text")->valuestring, lv_json_get_str(s, "visual")))
				shot = s;
		}
		ck_assert_msg(shot != NULL, "prompt %d is for no shot: %s", i, input(w, "6", "text")->valuestring);
		secs = cJSON_GetObjectItem(shot, "duration")->valueint;
		ck_assert(!strncmp(lv_json_get_str(root, "client_id"), "longvideo-", 10));
		ck_assert(cJSON_IsString(input(w, "7", "text")) && *input(w, "7", "text")->valuestring);
		ck_assert(cJSON_IsNumber(input(w, "3", "seed")));
		ck_assert(cJSON_IsNumber(input(w, "40", "width")) && input(w, "40", "width")->valueint == 1280);
		ck_assert_int_eq(input(w, "40", "height")->valueint, 720);
		ck_assert_int_eq(input(w, "40", "length")->valueint, (secs * 16 + 3) / 4 * 4 + 1);
		ck_assert_int_eq(input(w, "50", "fps")->valueint, 16);
		ck_assert_str_eq(cJSON_GetArrayItem(input(w, "3", "model"), 0)->valuestring, "48"); /* links untouched */
		cJSON_Delete(root);
	}
	/* Both shots are fetched with /view from the history's outputs (never the temp preview). */
	ck_assert_uint_eq(lv_fake_count(fc->f, "GET", "/view"), 2);
	{
		lv_fake_request *r = lv_fake_last(fc->f, "GET", "/view");
		ck_assert_ptr_nonnull(strstr(r->query, "filename=clip.mp4"));
		ck_assert_ptr_nonnull(strstr(r->query, "type=output"));
		lv_fake_request_free(r);
	}
	cJSON_Delete(task);
	lv_pt_close(&pt);
	free(json);
	/* LTX-Video: SaveAnimatedWEBP output, and a frame sequence for the second shot. */
	fake_comfyui_reset(fc);
	views = lv_fake_count(fc->f, "GET", "/view");
	fc->kinds[0] = FAKE_COMFY_WEBP;
	fc->kinds[1] = FAKE_COMFY_FRAMES_OUT;
	fc->n_kinds = 2;
	json = comfy_config(LTX, "\"fps\":24,\"frames_multiple_of\":8,\"size_multiple_of\":32", NULL);
	lv_pt_open(&pt, "comfy-ltx", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Snow falls on a quiet mountain village\",\"duration\":6,\"music\":false}", id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "%s", lv_task_error_message(t) ? lv_task_error_message(t) : "");
	lv_task_free(t);
	film = lv_pt_film(&pt, id);
	check_film(film, 6, 1280, 720);
	free(film);
	w = sent_workflow(0, &root);
	ck_assert_int_eq(input(w, "70", "length")->valueint, 3 * 24 + 1);
	ck_assert_int_eq(input(w, "41", "fps")->valueint, 24);
	cJSON_Delete(root);
	ck_assert_uint_eq(lv_fake_count(fc->f, "GET", "/view") - views, 1 + FAKE_COMFY_FRAMES);
	lv_pt_close(&pt);
	free(json);
}
END_TEST

START_TEST(reference_images_are_uploaded_for_r2v)
{
	lv_pt pt;
	/* The characters' pictures come from an image provider (drawn cards would not be sent as references). */
	fake_openai *fo = fake_openai_start(NULL, NULL);
	char id[64], *json = lv_asprintf("{\"pipeline\":{\"workers\":1,\"default_video_provider\":\"comfy\",\"anchor\":"
	                                 "\"img\"},\"providers\":{\"comfy\":{\"type\":\"comfyui\",\"base_url\":\"%s\","
	                                 "\"workflow\":\"" WAN "\",\"workflow_r2v\":\"" WAN_R2V "\",\"rates\":{\"720p\":10,"
	                                 "\"1080p\":20},\"poll_interval_ms\":100,\"timeout_ms\":3000,\"max_retries\":2},"
	                                 "\"img\":{\"type\":\"openai-images\",\"base_url\":\"%s\",\"api_key_env\":"
	                                 "\"LV_TEST_COMFY_IMAGES_KEY\"}}}",
	                                 lv_fake_url(fc->f), fake_openai_url(fo));
	lv_task *t;
	cJSON *task, *root;
	const cJSON *shot, *w;
	int with_chars = 0, i = 0, r2v = 0;
	setenv("LV_TEST_COMFY_IMAGES_KEY", "sk-img-comfy-test", 1);
	lv_pt_open(&pt, "comfy-r2v", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"A lighthouse keeper named Ada watches a storm roll in\",\"duration\":5,"
	                  "\"narration\":false,\"music\":false,\"subtitles\":\"none\"}",
	             id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "%s", lv_task_error_message(t) ? lv_task_error_message(t) : "");
	lv_task_free(t);
	task = lv_pt_json(&pt, id);
	cJSON_ArrayForEach(shot, cJSON_GetObjectItem(cJSON_GetObjectItem(task, "script"), "shots"))
	{
		int chars = cJSON_GetArraySize(cJSON_GetObjectItem(shot, "characters")) > 0;
		with_chars += chars;
		w = sent_workflow(i++, &root);
		if (chars) {
			/* The r2v workflow, its LoadImage given the name ComfyUI returned for the upload. */
			ck_assert_ptr_nonnull(cJSON_GetObjectItem(w, "60"));
			ck_assert_str_eq(input(w, "60", "image")->valuestring, fc->upload_names[r2v]);
			ck_assert(cJSON_IsNumber(input(w, "49", "length")));
			r2v++;
		} else {
			ck_assert_ptr_null(cJSON_GetObjectItem(w, "60"));
		}
		cJSON_Delete(root);
	}
	ck_assert_msg(with_chars > 0, "the storyboard has no shot with a character");
	ck_assert_int_eq(fc->uploads, with_chars);
	ck_assert(fc->upload_body_has_png);
	{
		char want[128];
		lv_fake_request *r = lv_fake_last(fc->f, "POST", "/upload/image");
		snprintf(want, sizeof(want), "filename=\"lv_%s_", id);
		ck_assert_ptr_nonnull(strstr(r->body, want));
		ck_assert_ptr_nonnull(strstr(r->body, "name=\"image\""));
		ck_assert_ptr_nonnull(strstr(r->body, "Content-Type: image/png"));
		ck_assert(fc->upload_has_overwrite);
		ck_assert(fc->upload_has_type_input);
		lv_fake_request_free(r);
	}
	cJSON_Delete(task);
	lv_pt_close(&pt);
	fake_openai_stop(fo);
	free(json);
}
END_TEST

START_TEST(busy_and_flaky_servers_are_retried_without_double_submits)
{
	lv_pt pt;
	char id[64], *json = comfy_config(WAN, NULL, NULL);
	lv_task *t;
	size_t posts;
	/* 429 with Retry-After: 1 on the first /prompt; the second 502s after queueing (found in /queue, not
	 * sent again); /history fails once with 500 and once with garbage. */
	fc->prompt_429 = 1;
	fc->prompt_502_queued = 1;
	fc->history_500 = 1;
	fc->history_garbage = 1;
	lv_pt_open(&pt, "comfy-flaky", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Fishing boats leave the harbour at dawn\",\"duration\":8,\"narration\":false,"
	                  "\"music\":false,\"subtitles\":\"none\"}",
	             id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "%s", lv_task_error_message(t) ? lv_task_error_message(t) : "");
	lv_task_free(t);
	ck_assert_int_eq(prompts(), 2); /* two shots, two prompts queued: nothing twice */
	ck_assert_uint_eq(lv_fake_count(fc->f, "POST", "/prompt"), 3); /* + the 429 */
	ck_assert_int_eq(fc->n_prompt_times, 3);
	{
		/* The retry after the 429 waited the server's Retry-After (the two shots' first tries may interleave). */
		int64_t gap = fc->prompt_times[2] - fc->prompt_times[0];
		ck_assert_msg(gap >= 950, "retried after %lld ms", (long long)gap);
	}
	ck_assert_uint_ge(lv_fake_count(fc->f, "GET", "/queue"), 1);
	ledger_balanced_for(&pt, id, 10000);
	lv_pt_close(&pt);
	free(json);
	/* A 503 that queued nothing: sent again, once. */
	fake_comfyui_reset(fc);
	posts = lv_fake_count(fc->f, "POST", "/prompt");
	fc->prompt_503_lost = 1;
	json = comfy_config(WAN, NULL, "\"segment_concurrency\":1");
	lv_pt_open(&pt, "comfy-503", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Harbour\",\"duration\":4,\"narration\":false,\"music\":false,\"subtitles\":\"none\"}",
	             id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "%s", lv_task_error_message(t) ? lv_task_error_message(t) : "");
	lv_task_free(t);
	ck_assert_uint_eq(lv_fake_count(fc->f, "POST", "/prompt") - posts, 2);
	ck_assert_int_eq(prompts(), 1);
	lv_pt_close(&pt);
	free(json);
}
END_TEST

START_TEST(a_slow_answer_is_found_in_the_queue_not_sent_twice)
{
	lv_pt pt;
	char id[64], *json = comfy_config(WAN, "\"timeout_ms\":400,\"max_retries\":0", NULL);
	lv_task *t;
	/* ComfyUI queues the prompt but its answer comes after the adapter's timeout. */
	fc->prompt_slow_ms = 1200;
	lv_pt_open(&pt, "comfy-slow", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Harbour\",\"duration\":4,\"narration\":false,\"music\":false,\"subtitles\":\"none\"}",
	             id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "%s", lv_task_error_message(t) ? lv_task_error_message(t) : "");
	lv_task_free(t);
	ck_assert_int_eq(prompts(), 1);
	ck_assert_uint_eq(lv_fake_count(fc->f, "POST", "/prompt"), 1);
	lv_pt_close(&pt);
	free(json);
}
END_TEST

START_TEST(execution_errors_fail_the_task_and_refund)
{
	lv_pt pt;
	char id[64], *json = comfy_config(WAN, NULL, "\"segment_concurrency\":1");
	lv_task *t;
	cJSON *j;
	const char *msg;
	size_t posts;
	fc->fail_prompt = 2; /* the second shot's run fails */
	lv_pt_open(&pt, "comfy-fail", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Fishing boats leave the harbour at dawn\",\"duration\":8,\"narration\":false,"
	                  "\"music\":false,\"subtitles\":\"none\"}",
	             id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	ck_assert_str_eq(lv_task_error_code(t), "segment_failed");
	lv_task_free(t);
	j = lv_pt_json(&pt, id);
	msg = lv_json_get_str(cJSON_GetObjectItem(j, "error"), "message");
	ck_assert_msg(strstr(msg, "node 3 (KSampler): RuntimeError") && strstr(msg, "shot 1"), "%s", msg);
	ck_assert_ptr_null(strstr(msg, "/srv/secret")); /* no traceback */
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "shot")->valueint, 1);
	cJSON_Delete(j);
	ck_assert_int_eq(prompts(), 2); /* a broken workflow is not run again */
	ledger_balanced_for(&pt, id, 10000);
	lv_pt_close(&pt);
	free(json);
	/* Out of GPU memory is worth another try: submitted again, and the film completes. */
	fake_comfyui_reset(fc);
	fc->oom_prompt = 1;
	json = comfy_config(WAN, NULL, NULL);
	lv_pt_open(&pt, "comfy-oom", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Harbour\",\"duration\":4,\"narration\":false,\"music\":false,\"subtitles\":\"none\"}",
	             id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "%s", lv_task_error_message(t) ? lv_task_error_message(t) : "");
	lv_task_free(t);
	ck_assert_int_eq(prompts(), 2);
	lv_pt_close(&pt);
	free(json);
	/* A workflow ComfyUI rejects (400 node_errors) fails the task at once, everything refunded. */
	fake_comfyui_reset(fc);
	posts = lv_fake_count(fc->f, "POST", "/prompt");
	fc->prompt_400 = 5;
	json = comfy_config(WAN, NULL, NULL);
	lv_pt_open(&pt, "comfy-400", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Harbour\",\"duration\":4,\"narration\":false,\"music\":false,\"subtitles\":\"none\"}",
	             id);
	t = lv_pt_wait(&pt, id, -1, 120);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	ck_assert_msg(strstr(lv_task_error_message(t), "rejected the workflow"), "%s", lv_task_error_message(t));
	ck_assert_int_eq(lv_task_cost_actual(t), 0);
	lv_task_free(t);
	ck_assert_uint_eq(lv_fake_count(fc->f, "POST", "/prompt") - posts, 1);
	ledger_balanced_for(&pt, id, 10000);
	lv_pt_close(&pt);
	free(json);
}
END_TEST

START_TEST(cancel_interrupts_the_running_prompt_and_dequeues_the_rest)
{
	lv_pt pt;
	char id[64], *json = comfy_config(WAN, NULL, NULL);
	lv_task *c = NULL;
	int64_t until;
	fc->run_ms = 20000;
	lv_pt_open(&pt, "comfy-cancel", json, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Fishing boats leave the harbour at dawn\",\"duration\":8,\"narration\":false,"
	                  "\"music\":false,\"subtitles\":\"none\"}",
	             id);
	until = lv_mono_ms() + 60000;
	for (;;) {
		int64_t second = 0;
		fake_comfyui_lock(fc);
		if (fc->n >= 2)
			second = fc->p[1].submitted;
		fake_comfyui_unlock(fc);
		if (second && lv_mono_ms() - second >= 300)
			break;
		ck_assert_msg(lv_mono_ms() < until, "the shots were not submitted");
		lv_sleep_ms(20);
	}
	ck_assert_int_eq(lv_task_cancel(&c, pt.engine, pt.key, id), LV_OK);
	ck_assert_int_eq(lv_task_get_status(c), LV_TASK_CANCELED);
	lv_task_free(c);
	/* The jobs are canceled in no set order: when the running one is stopped first, the pending one starts
	 * running at once and is interrupted rather than dropped from the queue. */
	until = lv_mono_ms() + 10000;
	while (lv_fake_count(fc->f, "POST", "/interrupt") < 1 ||
	       (lv_fake_count(fc->f, "POST", "/queue") < 1 && lv_fake_count(fc->f, "POST", "/interrupt") < 2)) {
		ck_assert_msg(lv_mono_ms() < until, "cancel did not reach ComfyUI");
		lv_sleep_ms(20);
	}
	lv_sleep_ms(500);
	{
		/* Every interrupt names its prompt (never a global stop); the pending one was asked to be dropped,
		 * or, when it had started running as the first was stopped, interrupted too. */
		size_t i, n = lv_fake_requests(fc->f), deletes = 0, interrupts = 0;
		for (i = 0; i < n; i++) {
			lv_fake_request *r = lv_fake_request_get(fc->f, i);
			cJSON *b = cJSON_Parse(r->body);
			if (!strcmp(r->method, "POST") && !strcmp(r->path, "/interrupt")) {
				const char *pid = lv_json_get_str(b, "prompt_id");
				ck_assert_ptr_nonnull(pid);
				ck_assert(!strcmp(pid, fc->p[0].id) || !strcmp(pid, fc->p[1].id));
				interrupts++;
			} else if (!strcmp(r->method, "POST") && !strcmp(r->path, "/queue")) {
				ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "delete"), 0)->valuestring, fc->p[1].id);
				deletes++;
			}
			cJSON_Delete(b);
			lv_fake_request_free(r);
		}
		ck_assert_uint_ge(interrupts, 1);
		ck_assert_msg(deletes >= 1 || interrupts >= 2, "the second prompt was neither dropped nor interrupted");
	}
	fake_comfyui_lock(fc);
	ck_assert(fc->p[0].interrupted_at > 0);
	ck_assert(fc->p[1].deleted || fc->p[1].interrupted_at > 0);
	ck_assert_int_eq(fake_comfyui_prompt_state(fc, 1, lv_mono_ms() + 60000) != 2, 1); /* nothing left running */
	fake_comfyui_unlock(fc);
	ledger_balanced_for(&pt, id, 10000);
	lv_pt_close(&pt);
	free(json);
}
END_TEST

/* ---- the worker killed between submit and completion --------------------------------------------------------------- */

typedef struct snap_ctx {
	lv_engine *e;
	const char *id;
	lv_segment_rec *segs;
	size_t n;
} snap_ctx;

static int snap_tx(lv_store_tx *tx, void *p)
{
	snap_ctx *c = p;
	return c->e->store->ops->segment_list(tx, c->id, &c->segs, &c->n);
}

static pid_t start_worker(const char *dir, const char *config)
{
	char *bin = lv_test_bin("lvctl"), *log = lv_path_join(dir, "worker.log");
	const char *argv[] = { bin, "--data-dir", dir, "--config", config, "worker", "--workers", "1", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	ck_assert_int_eq(posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	free(bin);
	free(log);
	return pid;
}

static void kill9(pid_t pid)
{
	int st;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

START_TEST(a_killed_worker_resumes_polling_without_a_second_prompt)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *eng = NULL;
	lv_key *key = NULL;
	lv_task *t = NULL;
	char *dir = lv_test_mkdtemp("comfy-kill"), *cfgtext, *config, id[64], jobs[4][64], *report = NULL;
	const char *body = "{\"prompt\":\"Fishing boats leave the harbour at dawn\",\"duration\":8,\"narration\":false,"
	                   "\"music\":false,\"subtitles\":\"none\"}";
	snap_ctx c;
	size_t i, n;
	int64_t until, estimate;
	pid_t a;
	fc->run_ms = 2500;
	cfgtext = comfy_config(WAN, NULL, "\"lease_seconds\":2");
	config = lv_test_write_file(dir, "config.json", cfgtext);
	o.data_dir = dir;
	o.config_path = config;
	ck_assert_int_eq(lv_engine_open(&eng, &o), LV_OK);
	ck_assert_int_eq(lv_key_create(&key, eng, "kill", 100000000), LV_OK);
	ck_assert_int_eq(lv_task_create_json(&t, eng, key, body, strlen(body), NULL), LV_OK);
	snprintf(id, sizeof(id), "%s", lv_task_id(t));
	estimate = lv_task_cost_estimate(t);
	lv_task_free(t);
	a = start_worker(dir, config);
	/* Both shots submitted (ids stored), none finished: kill the worker. */
	until = lv_mono_ms() + 60000;
	for (;;) {
		size_t submitted = 0;
		memset(&c, 0, sizeof(c));
		c.e = eng;
		c.id = id;
		ck_assert_int_eq(lv_engine_tx(eng, 0, snap_tx, &c), LV_OK);
		for (i = 0; i < c.n; i++)
			submitted += c.segs[i].job_id != NULL;
		if (c.n > 0 && submitted == c.n)
			break;
		lv_segment_recs_free(c.segs, c.n);
		ck_assert_msg(lv_mono_ms() < until, "the shots were never submitted");
		lv_sleep_ms(20);
	}
	kill9(a);
	n = c.n;
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(c.segs[i].status, LV_SEG_RUNNING);
		snprintf(jobs[i], sizeof(jobs[i]), "%s", c.segs[i].job_id);
	}
	lv_segment_recs_free(c.segs, c.n);
	ck_assert_int_eq(prompts(), 2);
	/* Another worker takes over once the lease runs out. */
	a = start_worker(dir, config);
	until = lv_mono_ms() + 120000;
	for (;;) {
		ck_assert_int_eq(lv_task_get(&t, eng, key, id), LV_OK);
		if (lv_task_status_is_terminal(lv_task_get_status(t)))
			break;
		lv_task_free(t);
		ck_assert_msg(lv_mono_ms() < until, "the task did not finish");
		lv_sleep_ms(100);
	}
	kill9(a);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "%s", lv_task_error_message(t) ? lv_task_error_message(t) : "");
	ck_assert_int_eq(lv_task_cost_actual(t), estimate);
	lv_task_free(t);
	ck_assert_int_eq(prompts(), 2);
	ck_assert_uint_eq(lv_fake_count(fc->f, "POST", "/prompt"), 2); /* polled, not submitted again */
	memset(&c, 0, sizeof(c));
	c.e = eng;
	c.id = id;
	ck_assert_int_eq(lv_engine_tx(eng, 0, snap_tx, &c), LV_OK);
	for (i = 0; i < c.n; i++) {
		ck_assert_str_eq(c.segs[i].job_id, jobs[i]);
		ck_assert_int_eq(c.segs[i].attempts, 1);
		ck_assert_int_eq(c.segs[i].status, LV_SEG_READY);
	}
	lv_segment_recs_free(c.segs, c.n);
	ck_assert_msg(lv_ledger_verify(eng, &report) == LV_OK, "%s", report ? report : "");
	lv_free(report);
	lv_key_free(key);
	lv_engine_close(eng);
	lv_test_rmdir(dir);
	free(dir);
	free(cfgtext);
	free(config);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("provider_comfy");
	TCase *cfg = tcase_create("config"), *clip = tcase_create("clip"), *tc = tcase_create("comfy");
	tcase_add_test(cfg, workflow_files_are_checked_when_built);
	tcase_add_test(cfg, unsupported_resolution_and_aspect_are_invalid_requests);
	suite_add_tcase(s, cfg);
	tcase_add_unchecked_fixture(clip, fixtures_make, fixtures_remove);
	tcase_add_test(clip, animated_webp_gif_and_frames_become_canonical_mp4);
	suite_add_tcase(s, clip);
	tcase_add_unchecked_fixture(tc, fixtures_make, fixtures_remove);
	tcase_add_checked_fixture(tc, fake_start, fake_stop);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, placeholders_are_filled_with_typed_values);
	tcase_add_test(tc, a_shot_already_on_the_server_is_not_sent_again);
	tcase_add_test(tc, direct_failures_are_mapped);
	tcase_add_test(tc, bearer_key_for_a_proxy_is_sent_and_never_shown);
	tcase_add_test(tc, films_through_the_pipeline_from_mp4_and_webp_outputs);
	tcase_add_test(tc, reference_images_are_uploaded_for_r2v);
	tcase_add_test(tc, busy_and_flaky_servers_are_retried_without_double_submits);
	tcase_add_test(tc, a_slow_answer_is_found_in_the_queue_not_sent_twice);
	tcase_add_test(tc, execution_errors_fail_the_task_and_refund);
	tcase_add_test(tc, cancel_interrupts_the_running_prompt_and_dequeues_the_rest);
	tcase_add_test(tc, a_killed_worker_resumes_polling_without_a_second_prompt);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
