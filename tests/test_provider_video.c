/* The video provider adapters against fake vendors that speak their documented wire formats: DashScope's
 * asynchronous video-synthesis API (HappyHorse) and OpenAI's Videos API (Sora, and a gateway that resells
 * HappyHorse on it).  Each test drives the real pipeline to a composed film or to a failure, asserts what
 * the adapter sent, and checks the ledger. */
#include "testutil.h"
#include "compose/compose.h"
#include "core/engine.h"
#include "fakes/fake_dashscope.h"
#include "fakes/fake_openai.h"
#include "harness.h"
#include "longvideo.h"
#include "pipeline_util.h"
#include "media/image.h"
#include "http/http.h"
#include "providers/video_http.h"
#include "util/crypto.h"
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

#define DS_KEY "sk-ds-test-4f1c9a7e2b61"
#define OA_KEY "sk-oa-test-8d3b6e0a5c94"
#define DS_SUBMIT FAKE_DS_SUBMIT
#define FRAME (1.0 / 24.0)

/* ---- the fake vendors ------------------------------------------------------------------------------------ */

static fake_dashscope *ds; /* DashScope (HappyHorse) */
static fake_openai *oa;    /* OpenAI's videos endpoints (Sora, and a gateway on the same protocol) */
static lv_fake *dsf, *oaf; /* their servers (request logs) */
static char *tdir;         /* the clips they serve (made once, kept across tests) */

#define DS (&ds->jobs)
#define OA (&oa->videos)

/* A scripted answer, given once, before the job behaviour. */
static void push(fake_jobs *j, fake_script *s, const lv_fake_response *r)
{
	fake_arena *a = j == DS ? &ds->arena : &oa->arena;
	fake_jobs_lock(j);
	fake_script_add(s, a, r, 1);
	fake_jobs_unlock(j);
}

static void clips_dir_make(void)
{
	tdir = lv_test_mkdtemp("pvideo");
	ck_assert_ptr_nonnull(tdir);
}

static void clips_dir_remove(void)
{
	lv_test_rmdir(tdir);
	free(tdir);
	tdir = NULL;
}

static void setup(void)
{
	ds = fake_dashscope_start(tdir);
	oa = fake_openai_start(NULL, tdir);
	dsf = fake_dashscope_server(ds);
	oaf = fake_openai_server(oa);
	setenv("LV_TEST_DASHSCOPE_KEY", DS_KEY, 1);
	setenv("LV_TEST_OPENAI_KEY", OA_KEY, 1);
}

static void teardown(void)
{
	fake_dashscope_stop(ds);
	fake_openai_stop(oa);
	ds = NULL;
	oa = NULL;
}

/* ---- helpers --------------------------------------------------------------------------------------------- */

/* A config with the fake as the video provider `name`: type, extra provider keys, extra pipeline keys.  (Keys
 * given by the caller replace the defaults: JSON objects here never repeat a key.) */
static char *config(const char *name, const char *type, const char *provider_keys, const char *pipeline_keys)
{
	int dashscope = !strcmp(type, "dashscope-video");
	const char *env = dashscope ? "LV_TEST_DASHSCOPE_KEY" : "LV_TEST_OPENAI_KEY";
	const char *pk = provider_keys ? provider_keys : "", *pl = pipeline_keys ? pipeline_keys : "";
	return lv_asprintf("{\"pipeline\":{\"default_video_provider\":\"%s\"%s%s%s},"
	                   "\"providers\":{\"%s\":{\"type\":\"%s\",\"base_url\":\"%s/\",\"api_key_env\":\"%s\","
	                   "\"poll_interval_ms\":100%s%s%s%s}}}",
	                   name, strstr(pl, "segment_retries") ? "" : ",\"segment_retries\":0", *pl ? "," : "", pl, name,
	                   type, lv_fake_url(dashscope ? dsf : oaf), env,
	                   strstr(pk, "timeout_ms") ? "" : ",\"timeout_ms\":5000",
	                   strstr(pk, "max_retries") ? "" : ",\"max_retries\":2", *pk ? "," : "", pk);
}

static void open_with(lv_pt *pt, const char *tag, const char *name, const char *type, const char *provider_keys,
                      const char *pipeline_keys, int workers)
{
	char *cfg = config(name, type, provider_keys, pipeline_keys);
	lv_pt_open(pt, tag, cfg, workers);
	free(cfg);
}

static void check_film(lv_pt *pt, const char *id, double seconds, int width, int height)
{
	char *film = lv_pt_film(pt, id);
	lv_media_info mi;
	ck_assert_msg(lv_media_probe(&mi, film) == LV_OK, "probe: %s", lv_error_last()->message);
	ck_assert_msg(fabs(mi.duration - seconds) <= FRAME + 1e-3, "film lasts %.3f s, want %.0f", mi.duration, seconds);
	ck_assert_msg(fabs(mi.video_duration - seconds) <= FRAME + 1e-3, "video lasts %.3f s", mi.video_duration);
	ck_assert(mi.has_video && mi.has_audio);
	ck_assert_str_eq(mi.video_codec, "h264");
	ck_assert_int_eq(mi.width, width);
	ck_assert_int_eq(mi.height, height);
	free(film);
}

static lv_task *wait_terminal(lv_pt *pt, const char *id)
{
	return lv_pt_wait(pt, id, -1, 120);
}

static void assert_completed(lv_task *t)
{
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "status %s: %s %s",
	              lv_task_status_name(lv_task_get_status(t)), lv_task_error_code(t) ? lv_task_error_code(t) : "",
	              lv_task_error_message(t) ? lv_task_error_message(t) : "");
}

/* Charged exactly the estimate (completed) or nothing at all (failed before any shot was made). */
static void assert_ledger(lv_pt *pt, const char *id, int64_t settled)
{
	int64_t reserve, settle, refund;
	lv_pt_task_ledger(pt, id, &reserve, &settle, &refund);
	ck_assert_int_eq(settle, settled);
	ck_assert_int_eq(reserve, settle + refund);
	ck_assert_int_eq(lv_ledger_verify(pt->engine, NULL), LV_OK);
}

/* The failed task's error: code, message (caller frees the JSON). */
static cJSON *task_error(lv_pt *pt, const char *id, const char **code, const char **message)
{
	cJSON *j = lv_pt_json(pt, id), *e = cJSON_GetObjectItem(j, "error");
	*code = lv_json_get_str(e, "code");
	*message = lv_json_get_str(e, "message");
	ck_assert_ptr_nonnull(*code);
	ck_assert_ptr_nonnull(*message);
	ck_assert_str_eq(lv_json_get_str(e, "stage"), "generating");
	/* Nothing upstream leaks: no key, no request id, no raw body. */
	ck_assert_ptr_null(strstr(*message, DS_KEY));
	ck_assert_ptr_null(strstr(*message, OA_KEY));
	ck_assert_ptr_null(strstr(*message, "req-"));
	ck_assert_ptr_null(strstr(*message, "{"));
	return j;
}

static const char *hdr(const lv_fake_request *r, const char *name, char *buf, size_t cap)
{
	const char *v = lv_fake_header(r, name, buf, cap);
	return v ? v : "";
}

/* ---- DashScope (HappyHorse) ------------------------------------------------------------------------------ */

static int is_png_data_url(const char *url)
{
	const char *prefix = "data:image/png;base64,";
	unsigned char raw[16];
	if (!url || strncmp(url, prefix, strlen(prefix)) != 0)
		return 0;
	url += strlen(prefix);
	return lv_base64_decode(raw, url, 12) == 9 && raw[1] == 'P' && raw[2] == 'N' && raw[3] == 'G';
}

/* The submits sent so far, by model: r2v ones checked for reference images named characterN in the prompt. */
static void count_ds_submits(size_t from, size_t *r2v, size_t *t2v, int want_jpeg)
{
	size_t i, n = lv_fake_requests(dsf);
	char buf[256];
	*r2v = *t2v = 0;
	for (i = from; i < n; i++) {
		lv_fake_request *r = lv_fake_request_get(dsf, i);
		if (!strcmp(r->method, "POST") && !strcmp(r->path, DS_SUBMIT)) {
			cJSON *body = cJSON_ParseWithLength(r->body, r->body_len);
			const cJSON *in = cJSON_GetObjectItem(body, "input"), *par = cJSON_GetObjectItem(body, "parameters");
			const cJSON *media = cJSON_GetObjectItem(in, "media"), *m, *seed = cJSON_GetObjectItem(par, "seed");
			const char *model = lv_json_get_str(body, "model"), *prompt = lv_json_get_str(in, "prompt");
			ck_assert_ptr_nonnull(body);
			ck_assert_str_eq(hdr(r, "authorization", buf, sizeof(buf)), "Bearer " DS_KEY);
			ck_assert_str_eq(hdr(r, "x-dashscope-async", buf, sizeof(buf)), "enable");
			ck_assert_str_eq(hdr(r, "content-type", buf, sizeof(buf)), "application/json");
			ck_assert_str_eq(lv_json_get_str(par, "resolution"), "720P");
			ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(par, "watermark")));
			ck_assert(cJSON_IsNumber(seed) && seed->valuedouble >= 0 && seed->valuedouble <= 2147483647.0);
			ck_assert(strlen(prompt) > 10);
			ck_assert_msg(!strstr(prompt, ".."), "a doubled full stop in: %s", prompt);
			if (cJSON_GetArraySize(media) > 0) {
				ck_assert_str_eq(model, "happyhorse-1.0-r2v");
				/* Named as the model's reference says: character1 for the first image; her name is gone. */
				ck_assert_msg(strstr(prompt, "character1 ") != NULL, "prompt: %s", prompt);
				ck_assert_ptr_null(strstr(prompt, "Ada"));
				cJSON_ArrayForEach(m, media)
				{
					ck_assert_str_eq(lv_json_get_str(m, "type"), "reference_image");
					if (want_jpeg)
						ck_assert(!strncmp(lv_json_get_str(m, "url"), "data:image/jpeg;base64,", 23));
					else
						ck_assert_msg(is_png_data_url(lv_json_get_str(m, "url")), "not a PNG data URL");
				}
				(*r2v)++;
			} else {
				ck_assert_ptr_null(media);
				ck_assert_str_eq(model, "happyhorse-1.0-t2v");
				(*t2v)++;
			}
			cJSON_Delete(body);
		} else if (!strncmp(r->path, "/oss/", 5)) {
			/* The result URL is on object storage: the key never goes there. */
			ck_assert_ptr_null(lv_fake_header(r, "authorization", buf, sizeof(buf)));
			ck_assert_str_eq(r->query, "Expires=1777777777&Signature=abc%3D");
		}
		lv_fake_request_free(r);
	}
}

START_TEST(dashscope_text_and_reference_shots_make_films)
{
	lv_pt pt;
	char a[64], b[64];
	size_t r2v = 0, t2v = 0;
	lv_task *t;
	open_with(&pt, "ds-films", "happyhorse", "dashscope-video", NULL, NULL, 2);
	/* A named character, but the built-in anchor stage only draws captioned cards: sent as subjects they would
	 * be filmed as cards, so every shot is made from text. */
	lv_pt_create(&pt,
	             "{\"prompt\":\"A lighthouse keeper named Ada watches a storm roll in\",\"duration\":10,"
	             "\"aspect_ratio\":\"9:16\",\"music\":false}",
	             a);
	lv_pt_create(&pt, "{\"prompt\":\"Fishing boats leave the harbour at dawn\",\"duration\":4}", b);
	t = wait_terminal(&pt, a);
	assert_completed(t);
	ck_assert_int_eq(lv_task_cost_actual(t), lv_task_cost_estimate(t));
	assert_ledger(&pt, a, lv_task_cost_estimate(t));
	lv_task_free(t);
	t = wait_terminal(&pt, b);
	assert_completed(t);
	assert_ledger(&pt, b, 4 * 27500);
	lv_task_free(t);
	check_film(&pt, a, 10, 720, 1280);
	check_film(&pt, b, 4, 1280, 720);
	count_ds_submits(0, &r2v, &t2v, 0);
	ck_assert_uint_eq(r2v, 0);
	ck_assert_uint_eq(t2v, 3);
	ck_assert_uint_ge(lv_fake_count(dsf, "GET", "/oss/*"), 3); /* a slow download may be asked again */
	lv_pt_close(&pt);
}
END_TEST

/* A config with an image provider (OpenAI images on the fake) for the anchors and HappyHorse for the video. */
static char *config_with_images(const char *video_keys)
{
	return lv_asprintf("{\"pipeline\":{\"default_video_provider\":\"hh\",\"segment_retries\":0,\"anchor\":\"img\"},"
	                   "\"providers\":{\"hh\":{\"type\":\"dashscope-video\",\"base_url\":\"%s\",\"api_key_env\":"
	                   "\"LV_TEST_DASHSCOPE_KEY\",\"poll_interval_ms\":100,\"timeout_ms\":5000%s%s},"
	                   "\"img\":{\"type\":\"openai-images\",\"base_url\":\"%s\",\"api_key_env\":\"LV_TEST_OPENAI_KEY\"}}}",
	                   lv_fake_url(dsf), video_keys ? "," : "", video_keys ? video_keys : "", lv_fake_url(oaf));
}

typedef struct usage_ctx {
	lv_engine *e;
	const char *id;
	lv_segment_rec *segs;
	size_t n;
} usage_ctx;

static int usage_tx(lv_store_tx *tx, void *p)
{
	usage_ctx *c = p;
	return c->e->store->ops->segment_list(tx, c->id, &c->segs, &c->n);
}

START_TEST(dashscope_real_anchor_images_are_references_named_as_the_model_expects)
{
	lv_pt pt;
	char a[64], *cfg;
	size_t r2v = 0, t2v = 0;
	lv_task *t;
	/* The 10 s film: Ada in both shots (the default storyboard of the built-in script). */
	cfg = config_with_images(NULL);
	lv_pt_open(&pt, "ds-refs", cfg, 1);
	free(cfg);
	lv_pt_create(&pt,
	             "{\"prompt\":\"A lighthouse keeper named Ada watches a storm roll in\",\"duration\":10,"
	             "\"aspect_ratio\":\"9:16\",\"music\":false}",
	             a);
	t = wait_terminal(&pt, a);
	assert_completed(t);
	assert_ledger(&pt, a, lv_task_cost_estimate(t));
	lv_task_free(t);
	check_film(&pt, a, 10, 720, 1280);
	count_ds_submits(0, &r2v, &t2v, 0);
	ck_assert_uint_ge(r2v, 1);
	ck_assert_uint_eq(r2v + t2v, 2);
	/* One image per character: no style frame is drawn (no video provider takes one). */
	ck_assert_uint_eq(lv_fake_count(oaf, "POST", "/v1/images/generations"), 1);
	/* The vendor's usage is kept with each segment. */
	{
		usage_ctx uc;
		size_t k, with_usage = 0;
		memset(&uc, 0, sizeof(uc));
		uc.e = pt.engine;
		uc.id = a;
		ck_assert_int_eq(lv_engine_tx(pt.engine, 0, usage_tx, &uc), LV_OK);
		ck_assert_uint_eq(uc.n, 2);
		for (k = 0; k < uc.n; k++) {
			cJSON *st = cJSON_Parse(uc.segs[k].job_state ? uc.segs[k].job_state : "{}");
			const cJSON *u = cJSON_GetObjectItem(st, "usage");
			if (u) {
				ck_assert_int_eq(cJSON_GetObjectItem(u, "duration")->valueint, 5);
				ck_assert_int_eq(cJSON_GetObjectItem(u, "resolution")->valueint, 720);
				ck_assert_ptr_null(cJSON_GetObjectItem(st, "usage_differs"));
				with_usage++;
			}
			cJSON_Delete(st);
		}
		lv_segment_recs_free(uc.segs, uc.n);
		ck_assert_uint_eq(with_usage, 2);
	}
	lv_pt_close(&pt);

}
END_TEST

/* With storage that gives URLs (S3 here), references reach the vendor as URLs it fetches itself, not as
 * base64 in the request; the URL is a working presigned GET of the anchor. */
START_TEST(dashscope_references_go_as_storage_urls_when_storage_has_them)
{
	const char *ep = getenv("LV_TEST_S3_ENDPOINT"), *bkt = getenv("LV_TEST_S3_BUCKET");
	lv_pt pt;
	char a[64], *cfg, *json;
	size_t i, n, urls = 0;
	lv_task *t;
	if (!ep || !*ep) {
		ck_assert_msg(!getenv("LV_TEST_S3_REQUIRED") || strcmp(getenv("LV_TEST_S3_REQUIRED"), "1") != 0,
		              "LV_TEST_S3_REQUIRED=1 but LV_TEST_S3_ENDPOINT is not set (start scripts/s3.sh)");
		return; /* no S3 server in this run */
	}
	/* The test server speaks http: "url" sends it anyway ("auto" would send only https URLs). */
	cfg = config_with_images("\"reference_delivery\":\"url\"");
	json = lv_asprintf("%.*s,\"storage\":{\"type\":\"s3\",\"endpoint\":\"%s\",\"bucket\":\"%s\",\"prefix\":"
	                   "\"refs-%ld/\",\"path_style\":true,\"access_key_env\":\"LV_TEST_S3_ACCESS_KEY\","
	                   "\"secret_key_env\":\"LV_TEST_S3_SECRET_KEY\"}}",
	                   (int)strlen(cfg) - 1, cfg, ep, bkt && *bkt ? bkt : "lvtest", (long)getpid());
	free(cfg);
	lv_pt_open(&pt, "ds-ref-urls", json, 1);
	free(json);
	lv_pt_create(&pt,
	             "{\"prompt\":\"A lighthouse keeper named Ada watches a storm roll in\",\"duration\":10,"
	             "\"aspect_ratio\":\"9:16\",\"music\":false}",
	             a);
	t = wait_terminal(&pt, a);
	assert_completed(t);
	lv_task_free(t);
	n = lv_fake_requests(dsf);
	for (i = 0; i < n; i++) {
		lv_fake_request *r = lv_fake_request_get(dsf, i);
		cJSON *body = !strcmp(r->method, "POST") && !strcmp(r->path, DS_SUBMIT)
		                  ? cJSON_ParseWithLength(r->body, r->body_len)
		                  : NULL;
		const cJSON *m;
		cJSON_ArrayForEach(m, cJSON_GetObjectItem(cJSON_GetObjectItem(body, "input"), "media"))
		{
			const char *u = lv_json_get_str(m, "url");
			lv_http_request req;
			lv_http_response resp;
			ck_assert_msg(u && !strncmp(u, ep, strlen(ep)) && strstr(u, "X-Amz-Signature="), "not a presigned URL: %.80s",
			              u ? u : "(none)");
			/* The vendor can fetch it: the anchor, a PNG. */
			memset(&req, 0, sizeof(req));
			memset(&resp, 0, sizeof(resp));
			req.url = u;
			ck_assert_int_eq(lv_http_perform(&req, &resp), LV_OK);
			ck_assert_int_eq(resp.status, 200);
			ck_assert(resp.body_len > 8 && !memcmp(resp.body + 1, "PNG", 3));
			lv_http_response_free(&resp);
			urls++;
		}
		cJSON_Delete(body);
		lv_fake_request_free(r);
	}
	ck_assert_uint_ge(urls, 1);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(dashscope_throttling_errors_and_bad_answers_are_retried)
{
	lv_pt pt;
	char id[64];
	lv_task *t;
	lv_fake_response busy = { 429, "Retry-After: 1\r\n",
		                  "{\"code\":\"Throttling.RateQuota\",\"message\":\"Requests rate limit exceeded, please "
		                  "try again later.\",\"request_id\":\"req-throttled\"}",
		                  0, NULL, NULL, 0, 0 };
	lv_fake_response poll_busy = { 429, "Retry-After: 1\r\n",
		                       "{\"code\":\"Throttling\",\"message\":\"Too many requests\",\"request_id\":\"r\"}", 0,
		                       NULL, NULL, 0, 0 };
	lv_fake_response oops = { 503, NULL,
		                  "{\"code\":\"InternalError\",\"message\":\"Service unavailable\",\"request_id\":\"r\"}", 0,
		                  NULL, NULL, 0, 0 };
	lv_fake_response slow = { 200, NULL, "{\"output\":{\"task_status\":\"RUNNING\"}}", 0, NULL, NULL, 1500, 0 };
	lv_fake_response garbled = { 200, NULL, "{\"output\":{\"task_status\":", 0, NULL, NULL, 0, 0 };
	push(DS, &DS->submit_script, &busy);
	push(DS, &DS->poll_script, &poll_busy);
	push(DS, &DS->poll_script, &oops);
	push(DS, &DS->poll_script, &slow);    /* times out (timeout_ms 800) */
	push(DS, &DS->poll_script, &garbled); /* malformed JSON: asked again later */
	open_with(&pt, "ds-retry", "hh", "dashscope-video", "\"timeout_ms\":800,\"max_retries\":3", NULL, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Rain on a tin roof\",\"duration\":3,\"music\":false}", id);
	t = wait_terminal(&pt, id);
	assert_completed(t);
	lv_task_free(t);
	check_film(&pt, id, 3, 1280, 720);
	/* The throttled submit was sent again after the server's Retry-After, and only then. */
	ck_assert_uint_eq(lv_fake_count(dsf, "POST", DS_SUBMIT), 2);
	ck_assert_int_eq(DS->n_submits, 2);
	ck_assert_msg(DS->submit_ms[1] - DS->submit_ms[0] >= 900, "resent after %lld ms",
	              (long long)(DS->submit_ms[1] - DS->submit_ms[0]));
	ck_assert_int_eq(DS->poll_script.used, 4);
	ck_assert_uint_ge(lv_fake_count(dsf, "GET", "/api/v1/tasks/*"), 7);
	assert_ledger(&pt, id, 3 * 27500);
	lv_pt_close(&pt);
}
END_TEST

/* One 3 s film; returns its final task (caller frees). */
static lv_task *one_film(lv_pt *pt, char *id)
{
	lv_pt_create(pt, "{\"prompt\":\"Rain on a tin roof\",\"duration\":3}", id);
	return wait_terminal(pt, id);
}

START_TEST(dashscope_lost_submit_answers_are_found_in_the_task_list)
{
	lv_pt pt;
	char id[64];
	const char *code, *msg;
	lv_task *t;
	cJSON *j;
	size_t i;
	/* Answers lost after the job was created: too slow for the client, a 5xx, a 2xx that is not JSON. */
	lv_fake_response lost[3] = {
		{ 200, NULL, "{\"output\":{\"task_id\":\"late\",\"task_status\":\"PENDING\"}}", 0, NULL, NULL, 1500, 0 },
		{ 500, NULL, "{\"code\":\"InternalError\",\"message\":\"oops\",\"request_id\":\"r\"}", 0, NULL, NULL, 0, 0 },
		{ 200, NULL, "<html>gateway says hello</html>", 0, NULL, "text/html", 0, 0 },
	};
	lv_fake_response down = { 500, NULL, "{\"code\":\"InternalError\",\"message\":\"oops\",\"request_id\":\"r\"}", 0,
		                  NULL, NULL, 0, 0 };
	lv_fake_response list_down = { 503, NULL, "{\"code\":\"ServiceUnavailable\",\"message\":\"busy\"}", 0, NULL, NULL,
		                       0, 0 };
	open_with(&pt, "ds-lost", "hh", "dashscope-video",
	          "\"timeout_ms\":700,\"max_retries\":3,\"recover_checks\":2,\"recover_delay_ms\":50",
	          "\"segment_retries\":2", 1);
	for (i = 0; i < 3; i++) {
		push(DS, &DS->lost_script, &lost[i]);
		t = one_film(&pt, id);
		assert_completed(t);
		lv_task_free(t);
		check_film(&pt, id, 3, 1280, 720);
		/* One submit, one job: found in the task list, polled to its end, paid once. */
		ck_assert_uint_eq(lv_fake_count(dsf, "POST", DS_SUBMIT), i + 1);
		ck_assert_int_eq(DS->n_jobs, (int)i + 1);
		ck_assert_uint_ge(lv_fake_count(dsf, "GET", "/api/v1/tasks"), i + 1);
		assert_ledger(&pt, id, 3 * 27500);
	}
	/* The query does not show prompts: the one task nobody holds is the shot's. */
	DS->hide_prompt = 1;
	push(DS, &DS->lost_script, &lost[1]);
	t = one_film(&pt, id);
	assert_completed(t);
	lv_task_free(t);
	ck_assert_uint_eq(lv_fake_count(dsf, "POST", DS_SUBMIT), 4);
	ck_assert_int_eq(DS->n_jobs, 4);
	DS->hide_prompt = 0;
	/* A 5xx that created nothing: the list proves it, and the shot is sent again. */
	push(DS, &DS->submit_script, &down);
	t = one_film(&pt, id);
	assert_completed(t);
	lv_task_free(t);
	ck_assert_uint_eq(lv_fake_count(dsf, "POST", DS_SUBMIT), 6);
	ck_assert_int_eq(DS->n_jobs, 5);
	assert_ledger(&pt, id, 3 * 27500);
	/* The list cannot be read: nothing is decided, nothing sent again; the shot fails as before. */
	push(DS, &DS->submit_script, &down);
	fake_jobs_lock(DS);
	fake_script_add(&DS->list_script, &ds->arena, &list_down, 0);
	fake_jobs_unlock(DS);
	t = one_film(&pt, id);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	ck_assert_int_eq(lv_task_cost_actual(t), 0);
	lv_task_free(t);
	j = task_error(&pt, id, &code, &msg);
	ck_assert_str_eq(code, "segment_failed");
	ck_assert_ptr_nonnull(strstr(msg, "not sent again"));
	ck_assert_ptr_nonnull(strstr(msg, "task list could not be read"));
	cJSON_Delete(j);
	ck_assert_uint_eq(lv_fake_count(dsf, "POST", DS_SUBMIT), 7);
	ck_assert_int_eq(DS->n_jobs, 5);
	assert_ledger(&pt, id, 0);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(dashscope_failed_jobs_fail_the_task_with_a_summary)
{
	lv_pt pt;
	char a[64], b[64], c[64], d[64];
	const char *code, *msg;
	lv_task *t;
	cJSON *j;
	lv_fake_response bad_key = { 401, NULL,
		                     "{\"code\":\"InvalidApiKey\",\"message\":\"Invalid API-key provided: " DS_KEY "\","
		                     "\"request_id\":\"req-401\"}",
		                     0, NULL, NULL, 0, 0 };
	open_with(&pt, "ds-failed", "happyhorse", "dashscope-video", NULL, "\"segment_retries\":1", 1);
	/* A parameter the vendor rejects: not retried. */
	snprintf(DS->fail_code, sizeof(DS->fail_code), "InvalidParameter");
	snprintf(DS->fail_message, sizeof(DS->fail_message), "The duration is not supported, key " DS_KEY);
	lv_pt_create(&pt, "{\"prompt\":\"Rain on a tin roof\",\"duration\":3}", a);
	t = wait_terminal(&pt, a);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	lv_task_free(t);
	j = task_error(&pt, a, &code, &msg);
	ck_assert_str_eq(code, "segment_failed");
	ck_assert_ptr_nonnull(strstr(msg, "provider 'happyhorse' rejected the request: InvalidParameter"));
	ck_assert_ptr_nonnull(strstr(msg, "The duration is not supported"));
	ck_assert_ptr_nonnull(strstr(msg, "providers.happyhorse"));
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "shot")->valueint, 0);
	cJSON_Delete(j);
	ck_assert_uint_eq(lv_fake_count(dsf, "POST", DS_SUBMIT), 1);
	assert_ledger(&pt, a, 0);

	/* A transient vendor failure: one new job (segment_retries 1), then the task fails. */
	snprintf(DS->fail_code, sizeof(DS->fail_code), "InternalError.Timeout");
	snprintf(DS->fail_message, sizeof(DS->fail_message), "An internal timeout occurred");
	lv_pt_create(&pt, "{\"prompt\":\"Rain on a tin roof\",\"duration\":3}", b);
	t = wait_terminal(&pt, b);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	ck_assert_str_eq(lv_task_error_code(t), "segment_failed");
	lv_task_free(t);
	ck_assert_uint_eq(lv_fake_count(dsf, "POST", DS_SUBMIT), 3);
	assert_ledger(&pt, b, 0);

	/* Content moderation at the vendor. */
	snprintf(DS->fail_code, sizeof(DS->fail_code), "DataInspectionFailed");
	snprintf(DS->fail_message, sizeof(DS->fail_message), "Output data may contain inappropriate content.");
	lv_pt_create(&pt, "{\"prompt\":\"Rain on a tin roof\",\"duration\":3}", c);
	t = wait_terminal(&pt, c);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	lv_task_free(t);
	j = task_error(&pt, c, &code, &msg);
	ck_assert_str_eq(code, "moderation_rejected");
	ck_assert_ptr_nonnull(strstr(msg, "DataInspectionFailed"));
	cJSON_Delete(j);
	ck_assert_uint_eq(lv_fake_count(dsf, "POST", DS_SUBMIT), 4);
	assert_ledger(&pt, c, 0);

	/* A rejected key: the message names the variable, never the value (which the vendor echoed). */
	push(DS, &DS->submit_script, &bad_key);
	lv_pt_create(&pt, "{\"prompt\":\"Rain on a tin roof\",\"duration\":3}", d);
	t = wait_terminal(&pt, d);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	lv_task_free(t);
	j = task_error(&pt, d, &code, &msg);
	ck_assert_ptr_nonnull(strstr(msg, "$LV_TEST_DASHSCOPE_KEY"));
	/* Keys belong to a region: the message names base_url and both regions' hosts. */
	ck_assert_ptr_nonnull(strstr(msg, "base_url"));
	ck_assert_ptr_nonnull(strstr(msg, "dashscope-intl.aliyuncs.com"));
	cJSON_Delete(j);
	ck_assert_uint_eq(lv_fake_count(dsf, "POST", DS_SUBMIT), 5);
	assert_ledger(&pt, d, 0);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(dashscope_cancel_asks_the_vendor_to_cancel)
{
	lv_pt pt;
	char id[64], buf[256];
	lv_task *c = NULL;
	lv_fake_request *r;
	int64_t until;
	DS->run_polls = -1; /* the job stays pending */
	open_with(&pt, "ds-cancel", "hh", "dashscope-video", NULL, NULL, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Rain on a tin roof\",\"duration\":3}", id);
	until = lv_mono_ms() + 60000;
	while (lv_fake_count(dsf, "GET", "/api/v1/tasks/*") < 2 && lv_mono_ms() < until)
		lv_sleep_ms(20);
	ck_assert_int_eq(lv_task_cancel(&c, pt.engine, pt.key, id), LV_OK);
	ck_assert_int_eq(lv_task_get_status(c), LV_TASK_CANCELED);
	lv_task_free(c);
	until = lv_mono_ms() + 10000;
	while (lv_fake_count(dsf, "POST", "/api/v1/tasks/*") < 1 && lv_mono_ms() < until)
		lv_sleep_ms(20);
	ck_assert_uint_eq(lv_fake_count(dsf, "POST", "/api/v1/tasks/*"), 1);
	r = lv_fake_last(dsf, "POST", "/api/v1/tasks/*");
	ck_assert_str_eq(r->path, "/api/v1/tasks/ds-task-0001-9c1e/cancel");
	ck_assert_str_eq(hdr(r, "authorization", buf, sizeof(buf)), "Bearer " DS_KEY);
	lv_fake_request_free(r);
	ck_assert_int_eq(DS->jobs[0].canceled, 1);
	assert_ledger(&pt, id, 0);
	lv_pt_close(&pt);
}
END_TEST

/* ---- OpenAI Videos (Sora) and a gateway on the same protocol --------------------------------------------- */

static void check_sora_submits(size_t want, const char *seconds, const char *size)
{
	size_t i, n = lv_fake_requests(oaf), seen = 0;
	char buf[512];
	for (i = 0; i < n; i++) {
		lv_fake_request *r = lv_fake_request_get(oaf, i);
		if (!strcmp(r->method, "POST") && !strcmp(r->path, "/v1/videos")) {
			ck_assert_str_eq(hdr(r, "authorization", buf, sizeof(buf)), "Bearer " OA_KEY);
			ck_assert(!strncmp(hdr(r, "content-type", buf, sizeof(buf)), "multipart/form-data; boundary=", 30));
			ck_assert(fake_mp_field(r, "model", buf, sizeof(buf)));
			ck_assert_str_eq(buf, "sora-2");
			ck_assert(fake_mp_field(r, "seconds", buf, sizeof(buf)));
			ck_assert_str_eq(buf, seconds);
			ck_assert(fake_mp_field(r, "size", buf, sizeof(buf)));
			ck_assert_str_eq(buf, size);
			ck_assert(fake_mp_field(r, "prompt", buf, sizeof(buf)) && strlen(buf) > 10);
			/* Sora takes input_reference as the first frame, so character cards are not sent by default. */
			ck_assert_ptr_null(strstr(r->body, "name=\"input_reference\""));
			seen++;
		} else if (!strncmp(r->path, "/v1/videos/", 11)) {
			ck_assert_str_eq(r->method, "GET");
			ck_assert_str_eq(hdr(r, "authorization", buf, sizeof(buf)), "Bearer " OA_KEY);
			if (strstr(r->path, "/content"))
				ck_assert_str_eq(r->query, "variant=video");
		}
		lv_fake_request_free(r);
	}
	ck_assert_uint_eq(seen, want);
}

START_TEST(sora_film_with_a_7_second_shot_is_billed_8_and_trimmed)
{
	lv_pt pt;
	char id[64];
	lv_task *t;
	open_with(&pt, "oa-film", "sora", "openai-videos", "\"rates\":{\"720p\":30}", NULL, 1);
	/* 15 s = 8 + 7; Sora makes 4, 8 or 12 s clips: both shots are generated (and billed) at 8 s. */
	lv_pt_create(&pt, "{\"prompt\":\"A paper boat drifts down a rainy street\",\"duration\":15}", id);
	t = wait_terminal(&pt, id);
	assert_completed(t);
	ck_assert_int_eq(lv_task_cost_estimate(t), 16 * 30000);
	ck_assert_int_eq(lv_task_cost_actual(t), 16 * 30000);
	lv_task_free(t);
	check_film(&pt, id, 15, 1280, 720);
	check_sora_submits(2, "8", "1280x720");
	ck_assert_uint_eq(lv_fake_count(oaf, "DELETE", "/v1/videos/*"), 0);
	assert_ledger(&pt, id, 16 * 30000);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(sora_rate_limits_timeouts_and_server_errors_are_retried)
{
	lv_pt pt;
	char id[64];
	lv_task *t;
	lv_fake_response limited = { 429, "retry-after-ms: 700\r\n",
		                     "{\"error\":{\"message\":\"Rate limit reached for requests\",\"type\":\"requests\","
		                     "\"param\":null,\"code\":\"rate_limit_exceeded\"}}",
		                     0, NULL, NULL, 0, 0 };
	lv_fake_response slow = { 200, NULL, "{\"id\":\"x\",\"status\":\"in_progress\"}", 0, NULL, NULL, 1500, 0 };
	lv_fake_response oops = { 502, NULL, "<html>Bad gateway</html>", 0, NULL, "text/html", 0, 0 };
	lv_fake_response garbled = { 200, NULL, "{\"id\":", 0, NULL, NULL, 0, 0 };
	push(OA, &OA->submit_script, &limited);
	push(OA, &OA->poll_script, &slow);
	push(OA, &OA->poll_script, &oops);
	push(OA, &OA->poll_script, &garbled);
	open_with(&pt, "oa-retry", "sora", "openai-videos", "\"rates\":{\"720p\":30},\"timeout_ms\":800,\"max_retries\":3",
	          NULL, 1);
	lv_pt_create(&pt, "{\"prompt\":\"A paper boat drifts down a rainy street\",\"duration\":4,\"music\":false}", id);
	t = wait_terminal(&pt, id);
	assert_completed(t);
	lv_task_free(t);
	check_film(&pt, id, 4, 1280, 720);
	check_sora_submits(2, "4", "1280x720");
	ck_assert_msg(OA->submit_ms[1] - OA->submit_ms[0] >= 650, "resent after %lld ms",
	              (long long)(OA->submit_ms[1] - OA->submit_ms[0]));
	ck_assert_int_eq(OA->poll_script.used, 3);
	assert_ledger(&pt, id, 4 * 30000);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(sora_failures_moderation_and_quota)
{
	lv_pt pt;
	char a[64], b[64], c[64];
	const char *code, *msg;
	lv_task *t;
	cJSON *j;
	lv_fake_response quota = { 429, NULL,
		                   "{\"error\":{\"message\":\"You exceeded your current quota.\",\"type\":\"insufficient_quota\","
		                   "\"param\":null,\"code\":\"insufficient_quota\"}}",
		                   0, NULL, NULL, 0, 0 };
	open_with(&pt, "oa-failed", "sora", "openai-videos", "\"rates\":{\"720p\":30},\"max_retries\":0", NULL, 1);
	snprintf(OA->fail_code, sizeof(OA->fail_code), "moderation_blocked");
	snprintf(OA->fail_message, sizeof(OA->fail_message), "Your request was blocked by our moderation system.");
	lv_pt_create(&pt, "{\"prompt\":\"A paper boat drifts down a rainy street\",\"duration\":4}", a);
	t = wait_terminal(&pt, a);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	lv_task_free(t);
	j = task_error(&pt, a, &code, &msg);
	ck_assert_str_eq(code, "moderation_rejected");
	ck_assert_ptr_nonnull(strstr(msg, "provider 'sora' refused the shot's content (moderation_blocked"));
	cJSON_Delete(j);
	assert_ledger(&pt, a, 0);

	snprintf(OA->fail_code, sizeof(OA->fail_code), "internal_error");
	snprintf(OA->fail_message, sizeof(OA->fail_message), "Video generation failed");
	lv_pt_create(&pt, "{\"prompt\":\"A paper boat drifts down a rainy street\",\"duration\":4}", b);
	t = wait_terminal(&pt, b);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	ck_assert_str_eq(lv_task_error_code(t), "segment_failed");
	lv_task_free(t);
	assert_ledger(&pt, b, 0);

	push(OA, &OA->submit_script, &quota);
	lv_pt_create(&pt, "{\"prompt\":\"A paper boat drifts down a rainy street\",\"duration\":4}", c);
	t = wait_terminal(&pt, c);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	lv_task_free(t);
	j = task_error(&pt, c, &code, &msg);
	ck_assert_ptr_nonnull(strstr(msg, "out of quota"));
	cJSON_Delete(j);
	ck_assert_uint_eq(lv_fake_count(oaf, "POST", "/v1/videos"), 3);
	assert_ledger(&pt, c, 0);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(gateway_reselling_happyhorse_on_the_videos_protocol)
{
	lv_pt pt;
	char id[64], buf[256];
	lv_task *t;
	lv_fake_request *r;
	cJSON *body;
	snprintf(oa->seconds_field, sizeof(oa->seconds_field), "duration");
	open_with(&pt, "oa-gateway", "hhgw", "openai-videos",
	          "\"model\":\"happyhorse-1.0-t2v\",\"multipart\":false,\"size_format\":\"720P\","
	          "\"seconds_format\":\"number\",\"fields\":{\"seconds\":\"duration\",\"size\":\"resolution\","
	          "\"aspect_ratio\":\"ratio\",\"seed\":\"seed\"},\"extra_fields\":{\"watermark\":false,\"model\":\"x\"},"
	          "\"allowed_seconds\":[],\"min_seconds\":3,\"max_seconds\":8,\"aspect_ratios\":[\"16:9\",\"9:16\",\"1:1\"],"
	          "\"rates\":{\"720p\":27.5},\"cancel_with_delete\":true",
	          NULL, 1);
	lv_pt_create(&pt, "{\"prompt\":\"A paper boat drifts down a rainy street\",\"duration\":7,\"aspect_ratio\":\"9:16\"}",
	             id);
	t = wait_terminal(&pt, id);
	assert_completed(t);
	ck_assert_int_eq(lv_task_cost_actual(t), 7 * 27500); /* any whole length: no rounding up */
	lv_task_free(t);
	check_film(&pt, id, 7, 720, 1280);
	r = lv_fake_last(oaf, "POST", "/v1/videos");
	ck_assert_str_eq(hdr(r, "content-type", buf, sizeof(buf)), "application/json");
	ck_assert_str_eq(hdr(r, "authorization", buf, sizeof(buf)), "Bearer " OA_KEY);
	body = cJSON_ParseWithLength(r->body, r->body_len);
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(lv_json_get_str(body, "model"), "happyhorse-1.0-t2v"); /* ours wins over extra_fields */
	ck_assert_int_eq(cJSON_GetObjectItem(body, "duration")->valueint, 7);
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(body, "duration")));
	ck_assert_str_eq(lv_json_get_str(body, "resolution"), "720P");
	ck_assert_str_eq(lv_json_get_str(body, "ratio"), "9:16");
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(body, "seed")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(body, "watermark")));
	ck_assert_ptr_null(cJSON_GetObjectItem(body, "seconds"));
	ck_assert_ptr_null(cJSON_GetObjectItem(body, "size"));
	ck_assert_ptr_null(cJSON_GetObjectItem(body, "input_reference"));
	cJSON_Delete(body);
	lv_fake_request_free(r);
	assert_ledger(&pt, id, 7 * 27500);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(gateway_cancel_with_delete)
{
	lv_pt pt;
	char id[64], buf[256];
	lv_task *c = NULL;
	lv_fake_request *r;
	int64_t until;
	OA->run_polls = -1;
	open_with(&pt, "oa-cancel", "gw", "openai-videos", "\"rates\":{\"720p\":30},\"cancel_with_delete\":true", NULL, 1);
	lv_pt_create(&pt, "{\"prompt\":\"A paper boat drifts down a rainy street\",\"duration\":4}", id);
	until = lv_mono_ms() + 60000;
	while (lv_fake_count(oaf, "GET", "/v1/videos/*") < 2 && lv_mono_ms() < until)
		lv_sleep_ms(20);
	ck_assert_int_eq(lv_task_cancel(&c, pt.engine, pt.key, id), LV_OK);
	lv_task_free(c);
	until = lv_mono_ms() + 10000;
	while (lv_fake_count(oaf, "DELETE", "/v1/videos/*") < 1 && lv_mono_ms() < until)
		lv_sleep_ms(20);
	ck_assert_uint_eq(lv_fake_count(oaf, "DELETE", "/v1/videos/*"), 1);
	r = lv_fake_last(oaf, "DELETE", "/v1/videos/*");
	ck_assert_str_eq(r->path, "/v1/videos/video_68d7512d07848190b3e45da0-0001-9c1e");
	ck_assert_str_eq(hdr(r, "authorization", buf, sizeof(buf)), "Bearer " OA_KEY);
	lv_fake_request_free(r);
	assert_ledger(&pt, id, 0);
	lv_pt_close(&pt);
}
END_TEST

/* ---- a worker killed between submit and completion ------------------------------------------------------- */

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

static pid_t start_worker(const char *dir, const char *cfg)
{
	char *bin = lv_test_bin("lvctl"), *log = lv_path_join(dir, "worker.log");
	const char *argv[] = { bin, "--data-dir", dir, "--config", cfg, "worker", "--workers", "1", NULL };
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

static void killed_worker_resumes(const char *name, const char *type, const char *keys, const char *submit_path,
                                  const char *poll_path)
{
	lv_pt pt;
	char id[64], *cfg = config(name, type, keys, "\"lease_seconds\":2"), *cfg_path, jobs[8][64];
	snap_ctx c;
	size_t i, n;
	int64_t until, estimate;
	lv_task *t;
	pid_t w;
	fake_jobs *J = !strcmp(type, "dashscope-video") ? DS : OA;
	lv_fake *fk = !strcmp(type, "dashscope-video") ? dsf : oaf;
	J->run_polls = -1; /* jobs stay pending until released */
	lv_pt_open(&pt, "killed", cfg, 0);
	cfg_path = lv_test_write_file(pt.dir, "config.json", cfg);
	lv_pt_create(&pt, "{\"prompt\":\"A paper boat drifts down a rainy street\",\"duration\":12}", id);
	t = lv_pt_wait(&pt, id, LV_TASK_QUEUED, 5);
	estimate = lv_task_cost_estimate(t);
	lv_task_free(t);
	w = start_worker(pt.dir, cfg_path);
	/* Wait until both shots are submitted (job ids stored) and being polled. */
	until = lv_mono_ms() + 60000;
	for (;;) {
		size_t stored = 0;
		memset(&c, 0, sizeof(c));
		c.e = pt.engine;
		c.id = id;
		ck_assert_int_eq(lv_engine_tx(pt.engine, 0, snap_tx, &c), LV_OK);
		for (i = 0; i < c.n; i++)
			stored += c.segs[i].job_id != NULL;
		if (c.n == 2 && stored == 2 && lv_fake_count(fk, "GET", poll_path) >= 2)
			break;
		lv_segment_recs_free(c.segs, c.n);
		ck_assert_msg(lv_mono_ms() < until, "the shots were never submitted");
		lv_sleep_ms(20);
	}
	kill9(w);
	n = c.n;
	for (i = 0; i < n; i++)
		snprintf(jobs[i], sizeof(jobs[i]), "%s", c.segs[i].job_id);
	lv_segment_recs_free(c.segs, c.n);
	ck_assert_uint_eq(lv_fake_count(fk, "POST", submit_path), 2);
	fake_jobs_lock(J);
	J->released = 1;
	fake_jobs_unlock(J);

	/* Another worker takes the task over once the lease runs out: it polls, it does not submit again. */
	w = start_worker(pt.dir, cfg_path);
	t = lv_pt_wait(&pt, id, -1, 120);
	kill9(w);
	assert_completed(t);
	lv_task_free(t);
	ck_assert_uint_eq(lv_fake_count(fk, "POST", submit_path), 2);
	memset(&c, 0, sizeof(c));
	c.e = pt.engine;
	c.id = id;
	ck_assert_int_eq(lv_engine_tx(pt.engine, 0, snap_tx, &c), LV_OK);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(c.segs[i].job_id, jobs[i]);
		ck_assert_int_eq(c.segs[i].attempts, 1);
		ck_assert_int_eq(c.segs[i].status, LV_SEG_READY);
	}
	lv_segment_recs_free(c.segs, c.n);
	check_film(&pt, id, 12, 1280, 720);
	assert_ledger(&pt, id, estimate);
	free(cfg_path);
	free(cfg);
	lv_pt_close(&pt);
}

START_TEST(dashscope_killed_worker_resumes_polling)
{
	killed_worker_resumes("happyhorse", "dashscope-video", NULL, DS_SUBMIT, "/api/v1/tasks/*");
}
END_TEST

START_TEST(sora_killed_worker_resumes_polling)
{
	killed_worker_resumes("sora", "openai-videos", "\"rates\":{\"720p\":30}", "/v1/videos", "/v1/videos/*");
}
END_TEST

/* ---- capabilities and configuration ---------------------------------------------------------------------- */

static int open_engine(lv_engine **e, const char *dir, const char *json)
{
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	o.data_dir = dir;
	o.config_json = json;
	*e = NULL;
	return lv_engine_open(e, &o);
}

static void expect_config_error(const char *json, const char *needle)
{
	lv_engine *e = NULL;
	char *dir = lv_test_mkdtemp("pvconf");
	ck_assert_int_eq(open_engine(&e, dir, json), LV_ECONFIG);
	ck_assert_msg(strstr(lv_error_last()->message, needle) != NULL, "'%s' does not mention '%s'",
	              lv_error_last()->message, needle);
	lv_engine_close(e);
	lv_test_rmdir(dir);
	free(dir);
}

START_TEST(unsupported_resolutions_and_aspects_are_refused_at_create)
{
	lv_pt pt;
	lv_task *t = NULL;
	const char *body;
	char *cfg = lv_asprintf("{\"providers\":{\"sora\":{\"type\":\"openai-videos\",\"api_key_env\":\"LV_TEST_OPENAI_KEY\","
	                        "\"rates\":{\"720p\":30}},\"hh\":{\"type\":\"dashscope-video\",\"api_key_env\":"
	                        "\"LV_TEST_DASHSCOPE_KEY\",\"resolutions\":[\"720p\"]}}}");
	lv_pt_open(&pt, "pv-caps", cfg, 0);
	body = "{\"prompt\":\"x\",\"duration\":8,\"provider\":\"sora\",\"resolution\":\"1080p\"}";
	ck_assert_int_eq(lv_task_create_json(&t, pt.engine, pt.key, body, strlen(body), NULL), LV_EINVALID);
	ck_assert_msg(!strncmp(lv_error_last()->message, "resolution:", 11), "%s", lv_error_last()->message);
	body = "{\"prompt\":\"x\",\"duration\":8,\"provider\":\"sora\",\"aspect_ratio\":\"1:1\"}";
	ck_assert_int_eq(lv_task_create_json(&t, pt.engine, pt.key, body, strlen(body), NULL), LV_EINVALID);
	ck_assert_msg(!strncmp(lv_error_last()->message, "aspect_ratio:", 13), "%s", lv_error_last()->message);
	body = "{\"prompt\":\"x\",\"duration\":8,\"provider\":\"hh\",\"resolution\":\"1080p\"}";
	ck_assert_int_eq(lv_task_create_json(&t, pt.engine, pt.key, body, strlen(body), NULL), LV_EINVALID);
	ck_assert_msg(!strncmp(lv_error_last()->message, "resolution:", 11), "%s", lv_error_last()->message);
	/* What is supported is planned at the provider's lengths: Sora 3 s -> 4 s billed; HappyHorse 1:1 is fine. */
	body = "{\"prompt\":\"x\",\"duration\":3,\"provider\":\"sora\",\"aspect_ratio\":\"9:16\"}";
	ck_assert_int_eq(lv_task_create_json(&t, pt.engine, pt.key, body, strlen(body), NULL), LV_OK);
	ck_assert_int_eq(lv_task_cost_estimate(t), 4 * 30000);
	lv_task_free(t);
	body = "{\"prompt\":\"x\",\"duration\":3,\"provider\":\"hh\",\"aspect_ratio\":\"1:1\"}";
	ck_assert_int_eq(lv_task_create_json(&t, pt.engine, pt.key, body, strlen(body), NULL), LV_OK);
	ck_assert_int_eq(lv_task_cost_estimate(t), 3 * 27500);
	lv_task_free(t);
	free(cfg);
	lv_pt_close(&pt);
}
END_TEST

START_TEST(provider_blocks_are_validated)
{
	expect_config_error("{\"providers\":{\"hh\":{\"type\":\"dashscope-video\",\"api_key_env\":\"K\",\"modle\":\"x\"}}}",
	                    "providers.hh.modle");
	expect_config_error("{\"providers\":{\"hh\":{\"type\":\"dashscope-video\"}}}", "providers.hh.api_key_env");
	expect_config_error("{\"providers\":{\"hh\":{\"type\":\"dashscope-video\",\"api_key_env\":\"K\",\"watermark\":\"no\"}}}",
	                    "providers.hh.watermark");
	expect_config_error("{\"providers\":{\"hh\":{\"type\":\"dashscope-video\",\"api_key_env\":\"K\",\"max_references\":10}}}",
	                    "providers.hh.max_references");
	expect_config_error("{\"providers\":{\"hh\":{\"type\":\"dashscope-video\",\"api_key_env\":\"K\","
	                    "\"reference_delivery\":\"ftp\"}}}",
	                    "providers.hh.reference_delivery");
	expect_config_error("{\"providers\":{\"hh\":{\"type\":\"dashscope-video\",\"api_key_env\":\"K\",\"model_r2v\":\"\"}}}",
	                    "providers.hh.model_r2v");
	expect_config_error("{\"providers\":{\"s\":{\"type\":\"openai-videos\",\"api_key_env\":\"K\",\"rates\":{\"720p\":1},"
	                    "\"size_format\":\"big\"}}}",
	                    "providers.s.size_format");
	expect_config_error("{\"providers\":{\"s\":{\"type\":\"openai-videos\",\"api_key_env\":\"K\",\"rates\":{\"720p\":1},"
	                    "\"fields\":{\"colour\":\"x\"}}}}",
	                    "providers.s.fields.colour");
	expect_config_error("{\"providers\":{\"s\":{\"type\":\"openai-videos\",\"api_key_env\":\"K\",\"rates\":{\"720p\":1},"
	                    "\"fields\":{\"prompt\":null}}}}",
	                    "providers.s.fields.prompt");
	expect_config_error("{\"providers\":{\"s\":{\"type\":\"openai-videos\",\"api_key_env\":\"K\",\"rates\":{\"720p\":1},"
	                    "\"extra_fields\":{\"a\":[1]}}}}",
	                    "providers.s.extra_fields.a");
	expect_config_error("{\"providers\":{\"s\":{\"type\":\"openai-videos\",\"api_key_env\":\"K\"}}}", "providers.s.rates");
	/* The new adapters: required keys and their own values are named. */
	expect_config_error("{\"providers\":{\"f\":{\"type\":\"fal-queue\",\"api_key_env\":\"K\",\"rates\":{\"720p\":1,"
	                    "\"1080p\":2}}}}",
	                    "providers.f.model");
	expect_config_error("{\"providers\":{\"f\":{\"type\":\"fal-queue\",\"api_key_env\":\"K\",\"model\":\"a/b\","
	                    "\"rates\":{\"720p\":1,\"1080p\":2},\"duration_format\":\"minutes\"}}}",
	                    "providers.f.duration_format");
	expect_config_error("{\"providers\":{\"r\":{\"type\":\"replicate\",\"api_key_env\":\"K\",\"model\":\"a/b\","
	                    "\"rates\":{\"720p\":1,\"1080p\":2},\"fields\":{\"colour\":\"c\"}}}}",
	                    "providers.r.fields.colour");
	expect_config_error("{\"providers\":{\"v\":{\"type\":\"google-veo\",\"api_key_env\":\"K\"}}}", "providers.v.rates");
	expect_config_error("{\"providers\":{\"i\":{\"type\":\"dashscope-image\"}}}", "providers.i.api_key_env");
	expect_config_error("{\"providers\":{\"t\":{\"type\":\"dashscope-speech\",\"api_key_env\":\"K\","
	                    "\"max_speed_percent\":300}}}",
	                    "providers.t.max_speed_percent");
	/* HappyHorse 1.1 has its own rates (1080p at 9/7 of 720p); 1.0 keeps its own. */
	{
		lv_config *cfg = NULL;
		ck_assert_int_eq(lv_config_load(&cfg, NULL,
		                                "{\"providers\":{\"h11\":{\"type\":\"dashscope-video\",\"api_key_env\":\"K\","
		                                "\"model\":\"happyhorse-1.1-r2v\"},\"h10\":{\"type\":\"dashscope-video\","
		                                "\"api_key_env\":\"K\"}}}",
		                                NULL),
		                 LV_OK);
		ck_assert_int_eq(lv_config_provider(cfg, "h11")->video.rate[LV_RES_720P], 27500);
		ck_assert_int_eq(lv_config_provider(cfg, "h11")->video.rate[LV_RES_1080P], 35400);
		ck_assert_int_eq(lv_config_provider(cfg, "h10")->video.rate[LV_RES_1080P], 47200);
		lv_config_free(cfg);
	}
}
END_TEST

START_TEST(a_missing_key_variable_is_named_not_guessed)
{
	lv_pt pt;
	char id[64];
	const char *code, *msg;
	lv_task *t;
	cJSON *j;
	unsetenv("LV_TEST_DASHSCOPE_KEY");
	open_with(&pt, "ds-nokey", "hh", "dashscope-video", NULL, NULL, 1);
	lv_pt_create(&pt, "{\"prompt\":\"Rain on a tin roof\",\"duration\":3}", id);
	t = wait_terminal(&pt, id);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	lv_task_free(t);
	j = task_error(&pt, id, &code, &msg);
	ck_assert_ptr_nonnull(strstr(msg, "LV_TEST_DASHSCOPE_KEY is not set"));
	cJSON_Delete(j);
	ck_assert_uint_eq(lv_fake_count(dsf, "POST", DS_SUBMIT), 0);
	assert_ledger(&pt, id, 0);
	lv_pt_close(&pt);
}
END_TEST


/* ---- the shared helpers ---------------------------------------------------------------------------------- */

static char *write_png(const char *dir, const char *name, int w, int h)
{
	/* Only the signature and the IHDR size matter to the checks. */
	unsigned char png[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R' };
	char *path = lv_path_join(dir, name);
	png[16] = (unsigned char)(w >> 24);
	png[17] = (unsigned char)(w >> 16);
	png[18] = (unsigned char)(w >> 8);
	png[19] = (unsigned char)w;
	png[20] = (unsigned char)(h >> 24);
	png[21] = (unsigned char)(h >> 16);
	png[22] = (unsigned char)(h >> 8);
	png[23] = (unsigned char)h;
	ck_assert_int_eq(lv_file_write_atomic(path, png, sizeof(png), 0644), LV_OK);
	return path;
}

START_TEST(helpers_summarise_encode_and_check)
{
	char out[32], *url = NULL, *big, *small, *jpg;
	lv_provider_error err;
	/* Vendor messages: one line, whitespace collapsed, the key starred out, cut on a UTF-8 boundary. */
	lv_vh_summary(out, sizeof(out), "  bad\n\tvalue  for " DS_KEY, DS_KEY);
	ck_assert_str_eq(out, "bad value for *****************");
	ck_assert_uint_eq(strlen(out), sizeof(out) - 1);
	/* A vendor quoting the start of the key (or any 12 characters of it): that part is starred out too. */
	lv_vh_summary(out, sizeof(out), "no access: sk-ds-test-4f1c9a...", DS_KEY);
	ck_assert_str_eq(out, "no access: *****************...");
	lv_vh_summary(out, sizeof(out), "key test-4f1c9a7e2b", DS_KEY);
	ck_assert_str_eq(out, "key ***************");
	lv_vh_summary(out, sizeof(out), "prefix sk-ds-test-4 only", DS_KEY);
	ck_assert_str_eq(out, "prefix ************ only");
	lv_vh_summary(out, sizeof(out), "prefix sk-ds-test- only", DS_KEY); /* 11 characters: not a key */
	ck_assert_str_eq(out, "prefix sk-ds-test- only");
	lv_vh_summary(out, 12, "时长不支持时长", NULL);
	ck_assert_str_eq(out, "时长不");
	lv_vh_summary(out, sizeof(out), NULL, NULL);
	ck_assert_str_eq(out, "");
	/* Job ids go into URL paths only when they are plain. */
	ck_assert(lv_vh_id_ok("0385dc79-5ff8-4d82-bcb6-xxxxxx"));
	ck_assert(lv_vh_id_ok("video_68d7512d07848190b3e45da0"));
	ck_assert(!lv_vh_id_ok(""));
	ck_assert(!lv_vh_id_ok(".."));
	ck_assert(!lv_vh_id_ok("a/../b"));
	ck_assert(!lv_vh_id_ok("a?b=c"));
	/* Reference images: data URLs with the right type; the vendor's limits are checked first. */
	big = write_png(tdir, "big.png", 512, 512);
	ck_assert_int_eq(lv_vh_data_url(&url, big, 1 << 20, 400, "hh", &err), LV_OK);
	ck_assert(is_png_data_url(url));
	free(url);
	small = write_png(tdir, "small.png", 640, 300);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(lv_vh_data_url(&url, small, 1 << 20, 400, "hh", &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "anchor_failed");
	ck_assert_ptr_nonnull(strstr(err.message, "640x300"));
	ck_assert_int_eq(lv_vh_data_url(&url, big, 16, 400, "hh", &err), LV_EPROVIDER);
	ck_assert_ptr_nonnull(strstr(err.message, "up to"));
	jpg = lv_test_write_file(tdir, "x.jpg", "\xff\xd8\xff\xe0 jpeg");
	ck_assert_int_eq(lv_vh_data_url(&url, jpg, 1 << 20, 400, "hh", &err), LV_OK);
	ck_assert(!strncmp(url, "data:image/jpeg;base64,", 23));
	free(url);
	ck_assert_int_eq(lv_vh_data_url(&url, "/nonexistent/a.png", 1 << 20, 400, "hh", &err), LV_EPROVIDER);
	/* Within a budget: a picture whose data URL is too long goes as a JPEG with its short side at most 1024. */
	{
		int w = 1600, h = 1200, x, y;
		uint32_t r = 12345;
		uint8_t *rgb = lv_malloc((size_t)w * h * 3);
		char *photo = lv_path_join(tdir, "photo.png");
		unsigned char *raw;
		long len;
		for (y = 0; y < h; y++)
			for (x = 0; x < w * 3; x++) {
				r = r * 1103515245u + 12345u;
				rgb[(size_t)y * w * 3 + x] = (uint8_t)((x / 3 + y) / 8 + ((r >> 16) & 15));
			}
		ck_assert_int_eq(lv_png_save_rgb24(photo, rgb, w, h, w * 3), LV_OK);
		free(rgb);
		ck_assert_int_eq(lv_vh_reference_url(&url, photo, 20 << 20, 400, 0, "hh", &err), LV_OK);
		ck_assert(is_png_data_url(url) && strlen(url) > 400 * 1024);
		free(url);
		ck_assert_int_eq(lv_vh_reference_url(&url, photo, 20 << 20, 400, 400 * 1024, "hh", &err), LV_OK);
		ck_assert(!strncmp(url, "data:image/jpeg;base64,", 23));
		ck_assert_uint_le(strlen(url), 400 * 1024);
		raw = lv_malloc(strlen(url));
		len = lv_base64_decode(raw, url + 23, strlen(url + 23));
		ck_assert(len > 1000 && raw[0] == 0xff && raw[1] == 0xd8);
		ck_assert_int_eq(lv_file_write_atomic(photo, raw, (size_t)len, 0644), LV_OK);
		{
			uint8_t *px = NULL;
			int jw = 0, jh = 0;
			ck_assert_int_eq(lv_image_load(&px, &jw, &jh, photo, 0, 0), LV_OK);
			ck_assert_int_eq(jh, 1024); /* the short side */
			ck_assert_int_eq(jw, 1364);
			free(px);
		}
		free(raw);
		free(url);
		/* By delivery mode: a job's https URL goes as it is under "auto", an http one only under "url";
		 * "base64" never sends URLs; "url" without one is an error naming the setting. */
		{
			const char *paths[1] = { photo }, *https[1] = { "https://cdn.example/ref.png" },
			           *http[1] = { "http://minio.internal/ref.png" };
			lv_segment_job job;
			memset(&job, 0, sizeof(job));
			job.references = paths;
			job.n_references = 1;
			job.reference_urls = https;
			ck_assert_int_eq(lv_vh_reference(&url, &job, 0, LV_VH_REF_AUTO, 20 << 20, 400, 400 * 1024, "hh", &err), LV_OK);
			ck_assert_str_eq(url, "https://cdn.example/ref.png");
			free(url);
			ck_assert_int_eq(lv_vh_reference(&url, &job, 0, LV_VH_REF_BASE64, 20 << 20, 400, 400 * 1024, "hh", &err),
			                 LV_OK);
			ck_assert(!strncmp(url, "data:image/", 11));
			free(url);
			job.reference_urls = http;
			ck_assert_int_eq(lv_vh_reference(&url, &job, 0, LV_VH_REF_AUTO, 20 << 20, 400, 400 * 1024, "hh", &err), LV_OK);
			ck_assert(!strncmp(url, "data:image/", 11));
			free(url);
			ck_assert_int_eq(lv_vh_reference(&url, &job, 0, LV_VH_REF_URL, 20 << 20, 400, 400 * 1024, "hh", &err), LV_OK);
			ck_assert_str_eq(url, "http://minio.internal/ref.png");
			free(url);
			job.reference_urls = NULL;
			ck_assert_int_eq(lv_vh_reference(&url, &job, 0, LV_VH_REF_URL, 20 << 20, 400, 400 * 1024, "hh", &err),
			                 LV_EPROVIDER);
			ck_assert_ptr_nonnull(strstr(err.message, "reference_delivery"));
		}
		/* A budget no size fits: refused by name. */
		ck_assert_int_eq(lv_vh_reference_url(&url, big, 20 << 20, 0, 8, "hh", &err), LV_EPROVIDER);
		free(photo);
	}
	free(big);
	free(small);
	free(jpg);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("provider_video");
	TCase *tds = tcase_create("dashscope"), *toa = tcase_create("openai"), *cf = tcase_create("config");
	tcase_add_unchecked_fixture(tds, clips_dir_make, clips_dir_remove);
	tcase_add_unchecked_fixture(toa, clips_dir_make, clips_dir_remove);
	tcase_add_unchecked_fixture(cf, clips_dir_make, clips_dir_remove);
	tcase_add_checked_fixture(tds, setup, teardown);
	tcase_add_checked_fixture(toa, setup, teardown);
	tcase_add_checked_fixture(cf, setup, teardown);
	tcase_set_timeout(tds, 300);
	tcase_set_timeout(toa, 300);
	tcase_set_timeout(cf, 120);
	tcase_add_test(tds, dashscope_text_and_reference_shots_make_films);
	tcase_add_test(tds, dashscope_throttling_errors_and_bad_answers_are_retried);
	tcase_add_test(tds, dashscope_real_anchor_images_are_references_named_as_the_model_expects);
	tcase_add_test(tds, dashscope_references_go_as_storage_urls_when_storage_has_them);
	tcase_add_test(tds, dashscope_lost_submit_answers_are_found_in_the_task_list);
	tcase_add_test(tds, dashscope_failed_jobs_fail_the_task_with_a_summary);
	tcase_add_test(tds, dashscope_cancel_asks_the_vendor_to_cancel);
	tcase_add_test(tds, dashscope_killed_worker_resumes_polling);
	tcase_add_test(toa, sora_film_with_a_7_second_shot_is_billed_8_and_trimmed);
	tcase_add_test(toa, sora_rate_limits_timeouts_and_server_errors_are_retried);
	tcase_add_test(toa, sora_failures_moderation_and_quota);
	tcase_add_test(toa, gateway_reselling_happyhorse_on_the_videos_protocol);
	tcase_add_test(toa, gateway_cancel_with_delete);
	tcase_add_test(toa, sora_killed_worker_resumes_polling);
	tcase_add_test(cf, helpers_summarise_encode_and_check);
	tcase_add_test(cf, unsupported_resolutions_and_aspects_are_refused_at_create);
	tcase_add_test(cf, provider_blocks_are_validated);
	tcase_add_test(cf, a_missing_key_variable_is_named_not_guessed);
	suite_add_tcase(s, tds);
	suite_add_tcase(s, toa);
	suite_add_tcase(s, cf);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
