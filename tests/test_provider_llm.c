/* The LLM providers (anthropic, openai-chat, openai-moderation) against fake Anthropic and OpenAI servers that
 * answer with the vendors' documented shapes: what is sent (headers, tool and forced tool_choice,
 * response_format, model, the plan in the prompt), films end to end through the pipeline, retries inside
 * the adapter and in the pipeline, HTTP failures, refusals, the JSON-mode fallback, moderation, and the
 * API key kept out of logs, errors, task JSON and the database. */
#include "testutil.h"
#include "compose/compose.h"
#include "config/config.h"
#include "core/engine.h"
#include "fakes/fake_anthropic.h"
#include "fakes/fake_openai.h"
#include "harness.h"
#include "longvideo.h"
#include "pipeline_util.h"
#include "providers/llm.h"
#include "providers/provider.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/time.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define KEY "sk-test-Zq8wX3vB7nM2kL5pR9tY4uH6"
#define KEY_ENV "LV_TEST_LLM_KEY"
#define PROMPT "A lighthouse keeper named Ada watches a storm roll in"

static fake_anthropic *ant; /* the Anthropic API */
static fake_openai *oai;    /* the OpenAI API: chat completions and moderations */
static lv_fake *srv_a, *srv_o; /* their servers (request logs) */

/* Both fakes answer only what a test queues, in order, the last answer repeating. */
static void fakes_start(void)
{
	ant = fake_anthropic_start();
	ant->script.sticky = 1;
	srv_a = fake_anthropic_server(ant);
	oai = fake_openai_start(NULL, NULL);
	oai->script[FAKE_OA_CHAT].sticky = 1;
	oai->script[FAKE_OA_MODERATION].sticky = 1;
	srv_o = fake_openai_server(oai);
}

static void setup(void)
{
	fakes_start();
	setenv(KEY_ENV, KEY, 1);
}

static void teardown(void)
{
	fake_anthropic_stop(ant);
	fake_openai_stop(oai);
}

/* ---- vendor answers ------------------------------------------------------------------------------------- */

/* A storyboard for n shots of these lengths (English, one character in every shot). */
static char *storyboard(int n, const int *secs)
{
	return fake_storyboard((size_t)n, secs, FAKE_CAST_ALL);
}

#define claude_answer fake_anthropic_message
#define chat_answer fake_openai_chat_answer

/* Queue an answer for METHOD PATH (answered in order; the last one keeps answering). */
static void queue(const char *method, const char *path, int status, const char *headers, const char *body,
                  int delay_ms)
{
	ck_assert_str_eq(method, "POST");
	if (!strcmp(path, "/v1/messages"))
		fake_anthropic_push(ant, status, headers, body, delay_ms, 1);
	else
		fake_openai_push_body(oai, !strcmp(path, "/v1/moderations") ? FAKE_OA_MODERATION : FAKE_OA_CHAT, status,
		                      headers, body, delay_ms, 1);
}

static void queue_claude_ok(int n, const int *secs)
{
	char *sb = storyboard(n, secs), *a = claude_answer(sb, "tool_use");
	queue("POST", "/v1/messages", 200, "request-id: req_011CSHoEeqs5C35K2UUqR7Fy\r\n", a, 0);
	free(sb);
	free(a);
}

/* ---- configs --------------------------------------------------------------------------------------------- */

static char *claude_config(const char *extra_keys)
{
	return lv_asprintf("{\"pipeline\":{\"script\":\"claude\"},\"providers\":{\"claude\":{\"type\":\"anthropic\","
	                   "\"base_url\":\"%s\",\"api_key_env\":\"" KEY_ENV "\",\"model\":\"claude-test\","
	                   "\"max_tokens\":1000,\"max_retries\":2,\"timeout_ms\":3000%s}}}",
	                   lv_fake_url(srv_a), extra_keys ? extra_keys : "");
}

static char *chat_config(const char *stage, const char *extra_keys)
{
	return lv_asprintf("{\"pipeline\":{\"%s\":\"gpt\"},\"providers\":{\"gpt\":{\"type\":\"openai-chat\","
	                   "\"base_url\":\"%s/v1\",\"api_key_env\":\"" KEY_ENV "\",\"model\":\"test-model\","
	                   "\"max_retries\":2,\"timeout_ms\":3000%s}}}",
	                   stage, lv_fake_url(srv_o), extra_keys ? extra_keys : "");
}

/* ---- calling a provider directly -------------------------------------------------------------------------- */

typedef struct direct {
	lv_config *cfg;
	lv_providers *ps;
	const lv_provider *p;
	volatile int cancel;
} direct;

static void direct_open(direct *d, const char *config_json, const char *name)
{
	memset(d, 0, sizeof(*d));
	ck_assert_msg(lv_config_load(&d->cfg, NULL, config_json, NULL) == LV_OK, "config: %s", lv_error_last()->message);
	ck_assert_msg(lv_providers_build(&d->ps, d->cfg) == LV_OK, "providers: %s", lv_error_last()->message);
	d->p = lv_providers_get(d->ps, name);
	ck_assert_ptr_nonnull(d->p);
}

static void direct_close(direct *d)
{
	lv_providers_free(d->ps);
	lv_config_free(d->cfg);
}

static int direct_write(direct *d, size_t n, const int *secs, char **out, lv_provider_error *err)
{
	lv_call_ctx ctx = { &d->cancel, "vid_direct", "/tmp" };
	lv_script_request req;
	size_t i;
	memset(&req, 0, sizeof(req));
	memset(err, 0, sizeof(*err));
	req.prompt = PROMPT;
	req.language = "en";
	req.aspect_ratio = "16:9";
	req.n_shots = n;
	req.shot_seconds = secs;
	for (i = 0; i < n; i++)
		req.duration += secs[i];
	*out = NULL;
	return d->p->script->write(d->p->self, &ctx, &req, out, err);
}

/* The JSON body of request i to METHOD PATH (0 = first), parsed. */
static cJSON *sent_json(const char *method, const char *path, size_t nth)
{
	return fake_sent_json(!strcmp(path, "/v1/messages") ? srv_a : srv_o, method, path, nth, NULL);
}

#define user_text fake_user_text

/* ---- pipeline helpers ---------------------------------------------------------------------------------------- */

static void check_film(lv_pt *pt, const char *id, double seconds)
{
	lv_media_info mi;
	char *film = lv_pt_film(pt, id);
	ck_assert_msg(lv_media_probe(&mi, film) == LV_OK, "probe: %s", lv_error_last()->message);
	ck_assert_msg(fabs(mi.duration - seconds) <= 1.0 / 24 + 1e-3, "duration %.3f, want %.0f", mi.duration, seconds);
	ck_assert(mi.has_video && mi.has_audio);
	ck_assert_str_eq(mi.video_codec, "h264");
	ck_assert_str_eq(mi.audio_codec, "aac");
	ck_assert_int_eq(mi.width, 1280);
	ck_assert_int_eq(mi.height, 720);
	free(film);
}

/* Wait for a task to fail with `code` in `stage`; everything reserved must have been refunded. */
static cJSON *expect_failure(lv_pt *pt, const char *id, const char *code, const char *stage)
{
	lv_task *t = lv_pt_wait(pt, id, -1, 60);
	cJSON *j, *err;
	int64_t reserve, settle, refund;
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_FAILED, "status %s", lv_task_status_name(lv_task_get_status(t)));
	lv_task_free(t);
	j = lv_pt_json(pt, id);
	err = cJSON_GetObjectItemCaseSensitive(j, "error");
	ck_assert_msg(!strcmp(lv_json_get_str(err, "code"), code), "error code %s (%s), want %s",
	              lv_json_get_str(err, "code"), lv_json_get_str(err, "message"), code);
	ck_assert_str_eq(lv_json_get_str(err, "stage"), stage);
	lv_pt_task_ledger(pt, id, &reserve, &settle, &refund);
	ck_assert_int_gt(reserve, 0);
	ck_assert_int_eq(settle, 0);
	ck_assert_int_eq(refund, reserve);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(j, "cost_actual")->valuedouble, 0);
	return j;
}

static const char *error_message(const cJSON *task)
{
	return lv_json_get_str(cJSON_GetObjectItemCaseSensitive(task, "error"), "message");
}

#define TASK_9S "{\"prompt\":\"" PROMPT "\",\"duration\":9,\"language\":\"en\"}"
#define TASK_6S "{\"prompt\":\"" PROMPT "\",\"duration\":6,\"language\":\"en\"}"

/* ---- films end to end ------------------------------------------------------------------------------------------ */

START_TEST(anthropic_writes_the_script_of_a_film)
{
	static const int secs[] = { 5, 4 };
	char *cfg = claude_config(NULL), id[64], hdr[128];
	lv_fake_request *r;
	const cJSON *tools, *tool, *schema, *choice;
	cJSON *body, *task;
	lv_task *t;
	lv_pt pt;
	int64_t reserve, settle, refund;
	queue_claude_ok(2, secs);
	lv_pt_open(&pt, "llm-claude", cfg, 1);
	lv_pt_create(&pt, TASK_9S, id);
	t = lv_pt_wait(&pt, id, -1, 240);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "status %s: %s",
	              lv_task_status_name(lv_task_get_status(t)), lv_task_error_message(t) ? lv_task_error_message(t) : "");
	lv_task_free(t);
	check_film(&pt, id, 9);
	/* The storyboard is Claude's. */
	task = lv_pt_json(&pt, id);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItemCaseSensitive(task, "script"), "title"), "The Keeper");
	cJSON_Delete(task);
	lv_pt_task_ledger(&pt, id, &reserve, &settle, &refund);
	ck_assert_int_eq(settle, reserve);
	ck_assert_int_eq(refund, 0);
	lv_pt_close(&pt);

	/* What was sent: one POST /v1/messages with the documented headers and body. */
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 1);
	r = lv_fake_last(srv_a, "POST", "/v1/messages");
	ck_assert_str_eq(lv_fake_header(r, "x-api-key", hdr, sizeof(hdr)), KEY);
	ck_assert_str_eq(lv_fake_header(r, "anthropic-version", hdr, sizeof(hdr)), "2023-06-01");
	ck_assert_str_eq(lv_fake_header(r, "content-type", hdr, sizeof(hdr)), "application/json");
	ck_assert_ptr_null(lv_fake_header(r, "authorization", hdr, sizeof(hdr)));
	lv_fake_request_free(r);
	body = sent_json("POST", "/v1/messages", 0);
	ck_assert_str_eq(lv_json_get_str(body, "model"), "claude-test");
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(body, "max_tokens")->valueint, 1000);
	/* The fixed system prompt as one text block with a cache breakpoint (tools and system are cached). */
	{
		const cJSON *sys = cJSON_GetObjectItemCaseSensitive(body, "system"), *blk = cJSON_GetArrayItem(sys, 0);
		ck_assert_int_eq(cJSON_GetArraySize(sys), 1);
		ck_assert_str_eq(lv_json_get_str(blk, "type"), "text");
		ck_assert(strlen(lv_json_get_str(blk, "text")) > 100);
		ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItemCaseSensitive(blk, "cache_control"), "type"), "ephemeral");
	}
	tools = cJSON_GetObjectItemCaseSensitive(body, "tools");
	ck_assert_int_eq(cJSON_GetArraySize(tools), 1);
	tool = cJSON_GetArrayItem(tools, 0);
	ck_assert_str_eq(lv_json_get_str(tool, "name"), "write_storyboard");
	schema = cJSON_GetObjectItemCaseSensitive(tool, "input_schema");
	ck_assert_str_eq(lv_json_get_str(schema, "type"), "object");
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(schema, "properties"),
	                                                       "shots"));
	choice = cJSON_GetObjectItemCaseSensitive(body, "tool_choice");
	ck_assert_str_eq(lv_json_get_str(choice, "type"), "tool");
	ck_assert_str_eq(lv_json_get_str(choice, "name"), "write_storyboard");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(body, "messages")), 1);
	/* The plan: shot count and durations, with a speaking budget per shot. */
	ck_assert_ptr_nonnull(strstr(user_text(body), PROMPT));
	ck_assert_ptr_nonnull(strstr(user_text(body), "exactly 2 shots"));
	ck_assert_ptr_nonnull(strstr(user_text(body), "shot 0: duration 5 s; narration at most 4.4 s"));
	ck_assert_ptr_nonnull(strstr(user_text(body), "shot 1: duration 4 s; narration at most 3.4 s"));
	ck_assert_ptr_nonnull(strstr(user_text(body), "words"));
	ck_assert_ptr_nonnull(strstr(user_text(body), "Language: en, English;"));
	cJSON_Delete(body);
	free(cfg);
}
END_TEST

START_TEST(openai_chat_writes_the_script_of_a_film)
{
	static const int secs[] = { 6 };
	char *cfg = chat_config("script", NULL), id[64], hdr[128], *sb = storyboard(1, secs), *fenced, *answer;
	lv_fake_request *r;
	const cJSON *rf, *js;
	cJSON *body;
	lv_task *t;
	lv_pt pt;
	/* Content wrapped in a Markdown fence, as many models write it. */
	fenced = lv_asprintf("```json\n%s\n```", sb);
	answer = chat_answer(fenced, "stop");
	queue("POST", "/v1/chat/completions", 200, NULL, answer, 0);
	lv_pt_open(&pt, "llm-chat", cfg, 1);
	lv_pt_create(&pt, TASK_6S, id);
	t = lv_pt_wait(&pt, id, -1, 240);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "status %s: %s",
	              lv_task_status_name(lv_task_get_status(t)), lv_task_error_message(t) ? lv_task_error_message(t) : "");
	lv_task_free(t);
	check_film(&pt, id, 6);
	lv_pt_close(&pt);

	ck_assert_uint_eq(lv_fake_count(srv_o, "POST", "/v1/chat/completions"), 1);
	r = lv_fake_last(srv_o, "POST", "/v1/chat/completions");
	ck_assert_str_eq(lv_fake_header(r, "authorization", hdr, sizeof(hdr)), "Bearer " KEY);
	ck_assert_str_eq(lv_fake_header(r, "content-type", hdr, sizeof(hdr)), "application/json");
	lv_fake_request_free(r);
	body = sent_json("POST", "/v1/chat/completions", 0);
	ck_assert_str_eq(lv_json_get_str(body, "model"), "test-model");
	ck_assert_str_eq(lv_json_get_str(cJSON_GetArrayItem(cJSON_GetObjectItem(body, "messages"), 0), "role"), "system");
	rf = cJSON_GetObjectItemCaseSensitive(body, "response_format");
	ck_assert_str_eq(lv_json_get_str(rf, "type"), "json_schema");
	js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
	ck_assert_str_eq(lv_json_get_str(js, "name"), "write_storyboard");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(js, "strict")));
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItemCaseSensitive(js, "schema"), "type"), "object");
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(body, "max_tokens")); /* not configured: not sent */
	ck_assert_ptr_nonnull(strstr(user_text(body), "exactly 1 shot:"));
	ck_assert_ptr_nonnull(strstr(user_text(body), "shot 0: duration 6 s"));
	ck_assert_ptr_null(strstr(user_text(body), "following this JSON schema")); /* the schema travels in response_format */
	cJSON_Delete(body);
	free(cfg);
	free(sb);
	free(fenced);
	free(answer);
}
END_TEST

/* ---- retries inside the adapter ------------------------------------------------------------------------------- */

START_TEST(a_cut_off_answer_is_asked_again_with_more_tokens)
{
	static const int secs[] = { 5, 4 };
	char *cfg = claude_config(NULL), *cut = claude_answer("{\"title\":\"The Kee\"}", "max_tokens"), *out = NULL;
	lv_provider_error err;
	cJSON *second, *sb;
	direct d;
	queue("POST", "/v1/messages", 200, NULL, cut, 0);
	queue_claude_ok(2, secs);
	direct_open(&d, cfg, "claude");
	ck_assert_msg(direct_write(&d, 2, secs, &out, &err) == LV_OK, "%s", err.message);
	sb = cJSON_Parse(out);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(sb, "shots")), 2);
	cJSON_Delete(sb);
	free(out);
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 2);
	second = sent_json("POST", "/v1/messages", 1);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(second, "max_tokens")->valueint, 2000);
	ck_assert_ptr_nonnull(strstr(user_text(second), "cut off"));
	cJSON_Delete(second);

	/* Cut off every time: script_failed that says what to change. */
	queue("POST", "/v1/messages", 200, NULL, cut, 0);
	ck_assert_int_eq(direct_write(&d, 2, secs, &out, &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "script_failed");
	ck_assert_int_eq(err.retryable, 0);
	ck_assert_ptr_nonnull(strstr(err.message, "providers.claude.max_tokens"));
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 2 + LV_LLM_ATTEMPTS);
	direct_close(&d);
	free(cfg);

	/* The doubling stops at the model's output limit (8,192 for Claude 3.5 Haiku)... */
	cfg = lv_asprintf("{\"pipeline\":{\"script\":\"claude\"},\"providers\":{\"claude\":{\"type\":\"anthropic\","
	                  "\"base_url\":\"%s\",\"api_key_env\":\"" KEY_ENV "\",\"model\":\"claude-3-5-haiku-latest\","
	                  "\"max_tokens\":6000,\"max_retries\":0}}}",
	                  lv_fake_url(srv_a));
	queue("POST", "/v1/messages", 200, NULL, cut, 0);
	direct_open(&d, cfg, "claude");
	ck_assert_int_eq(direct_write(&d, 2, secs, &out, &err), LV_EPROVIDER);
	second = sent_json("POST", "/v1/messages", 2 + LV_LLM_ATTEMPTS);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(second, "max_tokens")->valueint, 6000);
	cJSON_Delete(second);
	second = sent_json("POST", "/v1/messages", 3 + LV_LLM_ATTEMPTS);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(second, "max_tokens")->valueint, 8192);
	cJSON_Delete(second);
	direct_close(&d);
	free(cfg);
	/* ... and a configured max_tokens above what one request that is not streamed should ask for is lowered. */
	cfg = lv_asprintf("{\"pipeline\":{\"script\":\"claude\"},\"providers\":{\"claude\":{\"type\":\"anthropic\","
	                  "\"base_url\":\"%s\",\"api_key_env\":\"" KEY_ENV "\",\"model\":\"claude-sonnet-4-5\","
	                  "\"max_tokens\":64000,\"max_retries\":0}}}",
	                  lv_fake_url(srv_a));
	queue_claude_ok(2, secs);
	direct_open(&d, cfg, "claude");
	ck_assert_msg(direct_write(&d, 2, secs, &out, &err) == LV_OK, "%s", err.message);
	free(out);
	second = sent_json("POST", "/v1/messages", 2 + 2 * LV_LLM_ATTEMPTS);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(second, "max_tokens")->valueint, 21333);
	cJSON_Delete(second);
	direct_close(&d);
	free(cfg);
	free(cut);
}
END_TEST

START_TEST(an_answer_off_the_schema_is_asked_again_with_the_reason)
{
	static const int secs[] = { 5, 4 };
	char *cfg = claude_config(NULL), *bad = claude_answer("{\"title\":\"The Keeper\",\"style\":\"ink\"}", "tool_use");
	char *out = NULL;
	lv_provider_error err;
	cJSON *second;
	direct d;
	queue("POST", "/v1/messages", 200, NULL, bad, 0);
	queue_claude_ok(2, secs);
	direct_open(&d, cfg, "claude");
	ck_assert_msg(direct_write(&d, 2, secs, &out, &err) == LV_OK, "%s", err.message);
	free(out);
	second = sent_json("POST", "/v1/messages", 1);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(second, "max_tokens")->valueint, 1000);
	ck_assert_ptr_nonnull(strstr(user_text(second), "could not be used: characters must be an array"));
	cJSON_Delete(second);
	direct_close(&d);
	free(cfg);
	free(bad);
}
END_TEST

START_TEST(a_storyboard_with_the_wrong_shot_count_fails_the_task_after_the_pipeline_retries)
{
	static const int three[] = { 3, 3, 3 };
	char *cfg = claude_config(NULL), id[64];
	cJSON *task, *body;
	lv_pt pt;
	size_t i;
	queue_claude_ok(3, three); /* the plan for 9 s is 2 shots */
	lv_pt_open(&pt, "llm-count", cfg, 1);
	lv_pt_create(&pt, TASK_9S, id);
	task = expect_failure(&pt, id, "script_failed", "scripting");
	ck_assert_ptr_nonnull(strstr(error_message(task), "exactly 2 shots"));
	ck_assert_ptr_nonnull(strstr(error_message(task), "'claude'"));
	cJSON_Delete(task);
	lv_pt_close(&pt);
	/* Three attempts; from the second on, the prompt carries the validator's feedback. */
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 3);
	body = sent_json("POST", "/v1/messages", 0);
	ck_assert_ptr_null(strstr(user_text(body), "rejected"));
	cJSON_Delete(body);
	for (i = 1; i < 3; i++) {
		body = sent_json("POST", "/v1/messages", i);
		ck_assert_ptr_nonnull(strstr(user_text(body), "was rejected: shots must be an array of exactly 2 shots"));
		cJSON_Delete(body);
	}
	free(cfg);
}
END_TEST

/* ---- HTTP failures ---------------------------------------------------------------------------------------------- */

START_TEST(rate_limits_wait_for_retry_after)
{
	static const int secs[] = { 6 };
	char *cfg = claude_config(NULL), *out = NULL;
	lv_provider_error err;
	int64_t t0;
	direct d;
	queue("POST", "/v1/messages", 429, "retry-after: 1\r\n",
	      "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"Number of request tokens has "
	      "exceeded your per-minute rate limit\"},\"request_id\":\"req_011CSHoEeqs5C35K2UUqR7Fy\"}",
	      0);
	queue_claude_ok(1, secs);
	direct_open(&d, cfg, "claude");
	t0 = lv_mono_ms();
	ck_assert_msg(direct_write(&d, 1, secs, &out, &err) == LV_OK, "%s", err.message);
	ck_assert_int_ge(lv_mono_ms() - t0, 950); /* the server's retry-after, not the 500 ms base backoff */
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 2);
	free(out);
	direct_close(&d);
	free(cfg);
}
END_TEST

START_TEST(overloaded_and_server_errors_are_retried)
{
	static const int secs[] = { 6 };
	char *cfg = claude_config(NULL), *out = NULL;
	const char *overloaded = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}";
	lv_provider_error err;
	direct d;
	queue("POST", "/v1/messages", 529, NULL, overloaded, 0);
	queue("POST", "/v1/messages", 500,
	      NULL, "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Internal server error\"}}", 0);
	queue_claude_ok(1, secs);
	direct_open(&d, cfg, "claude");
	ck_assert_msg(direct_write(&d, 1, secs, &out, &err) == LV_OK, "%s", err.message);
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 3);
	free(out);
	direct_close(&d);
	free(cfg);

	/* Overloaded on every try (max_retries 2): a transient script_failed that names the condition. */
	fake_anthropic_stop(ant);
	fake_openai_stop(oai);
	fakes_start();
	cfg = claude_config(NULL);
	queue("POST", "/v1/messages", 529, NULL, overloaded, 0);
	direct_open(&d, cfg, "claude");
	ck_assert_int_eq(direct_write(&d, 1, secs, &out, &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "script_failed");
	ck_assert_int_eq(err.retryable, 1);
	ck_assert_msg(strstr(err.message, "overloaded (HTTP 529 overloaded_error)") != NULL, "%s", err.message);
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 3);
	direct_close(&d);
	free(cfg);
}
END_TEST

START_TEST(a_provider_that_does_not_answer_in_time_fails_the_task)
{
	static const int secs[] = { 6 };
	char *cfg = lv_asprintf("{\"pipeline\":{\"script\":\"claude\"},\"providers\":{\"claude\":{\"type\":\"anthropic\","
	                        "\"base_url\":\"%s\",\"api_key_env\":\"" KEY_ENV "\",\"timeout_ms\":400,"
	                        "\"max_retries\":1}}}",
	                        lv_fake_url(srv_a));
	char *slow = NULL, id[64];
	cJSON *task;
	lv_pt pt;
	{
		char *sb = storyboard(1, secs);
		slow = claude_answer(sb, "tool_use");
		free(sb);
	}
	queue("POST", "/v1/messages", 200, NULL, slow, 1500);
	lv_pt_open(&pt, "llm-timeout", cfg, 1);
	lv_pt_create(&pt, TASK_6S, id);
	task = expect_failure(&pt, id, "provider_timeout", "scripting");
	ck_assert_ptr_nonnull(strstr(error_message(task), "providers.claude.timeout_ms"));
	cJSON_Delete(task);
	lv_pt_close(&pt);
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 2); /* max_retries 1 */
	free(slow);
	free(cfg);
}
END_TEST

START_TEST(a_malformed_answer_fails_the_task)
{
	char *cfg = claude_config(NULL), id[64];
	cJSON *task;
	lv_pt pt;
	queue("POST", "/v1/messages", 200, NULL, "{\"id\":\"msg_01\",\"type\":\"message\",\"content\":[{\"ty", 0);
	lv_pt_open(&pt, "llm-malformed", cfg, 1);
	lv_pt_create(&pt, TASK_6S, id);
	task = expect_failure(&pt, id, "script_failed", "scripting");
	ck_assert_ptr_nonnull(strstr(error_message(task), "not valid JSON"));
	ck_assert_ptr_null(strstr(error_message(task), "msg_01")); /* no raw body */
	cJSON_Delete(task);
	lv_pt_close(&pt);
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), LV_LLM_ATTEMPTS);
	free(cfg);
}
END_TEST

START_TEST(a_rejected_key_names_the_variable_and_is_not_retried)
{
	char *cfg = claude_config(NULL), id[64];
	cJSON *task;
	lv_pt pt;
	/* The vendor's message echoes the key: it must not reach the task. */
	queue("POST", "/v1/messages", 401, NULL,
	      "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key " KEY
	      "\"},\"request_id\":\"req_011CSHoEeqs5C35K2UUqR7Fy\"}",
	      0);
	lv_pt_open(&pt, "llm-auth", cfg, 1);
	lv_pt_create(&pt, TASK_6S, id);
	task = expect_failure(&pt, id, "script_failed", "scripting");
	ck_assert_ptr_nonnull(strstr(error_message(task), KEY_ENV));
	ck_assert_ptr_nonnull(strstr(error_message(task), "authentication_error"));
	ck_assert_ptr_null(strstr(error_message(task), "sk-test"));
	ck_assert_ptr_null(strstr(error_message(task), "req_011"));
	cJSON_Delete(task);
	lv_pt_close(&pt);
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 1);

	/* An unset variable is named too, and nothing is sent. */
	unsetenv(KEY_ENV);
	lv_pt_open(&pt, "llm-nokey", cfg, 1);
	lv_pt_create(&pt, TASK_6S, id);
	task = expect_failure(&pt, id, "script_failed", "scripting");
	ck_assert_ptr_nonnull(strstr(error_message(task), "environment variable " KEY_ENV " is not set"));
	cJSON_Delete(task);
	lv_pt_close(&pt);
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 1);

	/* A value that would break the header line is refused before anything is sent. */
	{
		static const int secs[] = { 6 };
		lv_provider_error err;
		char *out = NULL;
		direct d;
		setenv(KEY_ENV, "sk-test-abc\r\nx-injected: 1", 1);
		direct_open(&d, cfg, "claude");
		ck_assert_int_eq(direct_write(&d, 1, secs, &out, &err), LV_EPROVIDER);
		ck_assert_str_eq(err.code, "script_failed");
		ck_assert_ptr_nonnull(strstr(err.message, "control character"));
		ck_assert_ptr_null(strstr(err.message, "sk-test"));
		direct_close(&d);
		ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 1);
	}
	free(cfg);
}
END_TEST

START_TEST(refusals_are_moderation_rejections)
{
	static const int secs[] = { 6 };
	char *cfg = claude_config(NULL), id[64], *out = NULL;
	cJSON *task;
	lv_provider_error err;
	lv_pt pt;
	direct d;
	char *refusal;
	queue("POST", "/v1/messages", 200, NULL,
	      "{\"id\":\"msg_02\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-test\",\"content\":[],"
	      "\"stop_reason\":\"refusal\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":0}}",
	      0);
	lv_pt_open(&pt, "llm-refusal", cfg, 1);
	lv_pt_create(&pt, TASK_6S, id);
	task = expect_failure(&pt, id, "moderation_rejected", "scripting");
	ck_assert_ptr_nonnull(strstr(error_message(task), "change the prompt"));
	cJSON_Delete(task);
	lv_pt_close(&pt);
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 1);
	free(cfg);

	/* OpenAI: message.refusal instead of content. */
	cfg = chat_config("script", NULL);
	refusal = lv_strdup("{\"id\":\"chatcmpl-r\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"test-model\","
	                    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
	                    "\"refusal\":\"I'm sorry, I can't help with that request.\"},\"finish_reason\":\"stop\"}]}");
	queue("POST", "/v1/chat/completions", 200, NULL, refusal, 0);
	direct_open(&d, cfg, "gpt");
	ck_assert_int_eq(direct_write(&d, 1, secs, &out, &err), LV_EPROVIDER);
	ck_assert_str_eq(err.code, "moderation_rejected");
	ck_assert_int_eq(err.retryable, 0);
	ck_assert_ptr_null(strstr(err.message, "sorry"));
	ck_assert_uint_eq(lv_fake_count(srv_o, "POST", "/v1/chat/completions"), 1);
	direct_close(&d);
	free(refusal);
	free(cfg);
}
END_TEST

START_TEST(servers_without_json_schema_get_json_mode)
{
	static const int secs[] = { 5, 4 };
	char *cfg = chat_config("script", NULL), *sb = storyboard(2, secs), *text, *answer, *out = NULL;
	lv_provider_error err;
	cJSON *b0, *b1, *b2;
	direct d;
	/* JSON mode answers tend to have words around the object. */
	text = lv_asprintf("Here is the storyboard:\n%s\nEnjoy!", sb);
	answer = chat_answer(text, "stop");
	/* A server without structured outputs: json_schema is refused with a 400 naming response_format. */
	oai->no_json_schema = 1;
	queue("POST", "/v1/chat/completions", 200, NULL, answer, 0);
	direct_open(&d, cfg, "gpt");
	ck_assert_msg(direct_write(&d, 2, secs, &out, &err) == LV_OK, "%s", err.message);
	free(out);
	ck_assert_uint_eq(lv_fake_count(srv_o, "POST", "/v1/chat/completions"), 2);
	b0 = sent_json("POST", "/v1/chat/completions", 0);
	b1 = sent_json("POST", "/v1/chat/completions", 1);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(b0, "response_format"), "type"), "json_schema");
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(b1, "response_format"), "type"), "json_object");
	ck_assert_ptr_nonnull(strstr(user_text(b1), "following this JSON schema"));
	ck_assert_ptr_nonnull(strstr(user_text(b1), "\"narration\""));
	/* Remembered: the next call goes straight to JSON mode. */
	ck_assert_msg(direct_write(&d, 2, secs, &out, &err) == LV_OK, "%s", err.message);
	free(out);
	ck_assert_uint_eq(lv_fake_count(srv_o, "POST", "/v1/chat/completions"), 3);
	b2 = sent_json("POST", "/v1/chat/completions", 2);
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(b2, "response_format"), "type"), "json_object");
	cJSON_Delete(b0);
	cJSON_Delete(b1);
	cJSON_Delete(b2);
	direct_close(&d);
	free(cfg);

	/* Configured JSON mode, max_tokens under its other name, and a self-hosted server without a key. */
	cfg = lv_asprintf("{\"providers\":{\"ollama\":{\"type\":\"openai-chat\",\"base_url\":\"%s\",\"model\":\"llama3.1\","
	                  "\"json_mode\":\"json_object\",\"max_tokens\":4096,\"max_tokens_field\":\"max_completion_tokens\"}}}",
	                  lv_fake_url(srv_o));
	direct_open(&d, cfg, "ollama");
	ck_assert_msg(direct_write(&d, 2, secs, &out, &err) == LV_OK, "%s", err.message);
	free(out);
	{
		lv_fake_request *r = lv_fake_last(srv_o, "POST", "/v1/chat/completions");
		char hdr[128];
		ck_assert_ptr_null(lv_fake_header(r, "authorization", hdr, sizeof(hdr)));
		lv_fake_request_free(r);
	}
	b0 = sent_json("POST", "/v1/chat/completions", 3);
	ck_assert_str_eq(lv_json_get_str(b0, "model"), "llama3.1");
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(b0, "response_format"), "type"), "json_object");
	ck_assert_int_eq(cJSON_GetObjectItem(b0, "max_completion_tokens")->valueint, 4096);
	ck_assert_ptr_null(cJSON_GetObjectItem(b0, "max_tokens"));
	cJSON_Delete(b0);
	direct_close(&d);
	free(cfg);
	free(sb);
	free(text);
	free(answer);
}
END_TEST

START_TEST(a_length_cut_is_asked_again)
{
	static const int secs[] = { 6 };
	char *cfg = chat_config("script", ",\"max_tokens\":3000"), *sb = storyboard(1, secs), *cut, *ok, *out = NULL;
	lv_provider_error err;
	cJSON *b1;
	direct d;
	cut = chat_answer("{\"title\":\"The Ke", "length");
	ok = chat_answer(sb, "stop");
	queue("POST", "/v1/chat/completions", 200, NULL, cut, 0);
	queue("POST", "/v1/chat/completions", 200, NULL, ok, 0);
	direct_open(&d, cfg, "gpt");
	ck_assert_msg(direct_write(&d, 1, secs, &out, &err) == LV_OK, "%s", err.message);
	free(out);
	b1 = sent_json("POST", "/v1/chat/completions", 1);
	ck_assert_int_eq(cJSON_GetObjectItem(b1, "max_tokens")->valueint, 6000);
	cJSON_Delete(b1);
	direct_close(&d);
	free(cfg);
	free(sb);
	free(cut);
	free(ok);
}
END_TEST

/* ---- moderation -------------------------------------------------------------------------------------------------- */

START_TEST(openai_moderation_flags_fail_the_task_with_the_categories)
{
	char *cfg = lv_asprintf("{\"pipeline\":{\"moderation\":\"omod\"},\"providers\":{\"omod\":{\"type\":"
	                        "\"openai-moderation\",\"base_url\":\"%s\",\"api_key_env\":\"" KEY_ENV "\"}}}",
	                        lv_fake_url(srv_o));
	char id[64], hdr[128];
	lv_fake_request *r;
	const cJSON *input;
	cJSON *task, *body;
	lv_pt pt;
	int n;
	/* One result per input, in order; the second text (the title) is flagged. */
	oai->flag_input = 1;
	lv_pt_open(&pt, "llm-omod", cfg, 1);
	lv_pt_create(&pt, TASK_6S, id);
	task = expect_failure(&pt, id, "moderation_rejected", "moderation");
	ck_assert_msg(strstr(error_message(task), "categories: violence, violence/graphic") != NULL, "%s",
	              error_message(task));
	cJSON_Delete(task);
	lv_pt_close(&pt);
	ck_assert_uint_eq(lv_fake_count(srv_o, "POST", "/v1/moderations"), 1);
	r = lv_fake_last(srv_o, "POST", "/v1/moderations");
	ck_assert_str_eq(lv_fake_header(r, "authorization", hdr, sizeof(hdr)), "Bearer " KEY);
	lv_fake_request_free(r);
	body = sent_json("POST", "/v1/moderations", 0);
	ck_assert_str_eq(lv_json_get_str(body, "model"), "omni-moderation-latest");
	input = cJSON_GetObjectItemCaseSensitive(body, "input");
	n = cJSON_GetArraySize(input);
	/* The prompt, the title, then each shot's visual and narration (local script: 1 shot of 6 s). */
	ck_assert_int_ge(n, 3);
	ck_assert_str_eq(cJSON_GetArrayItem(input, 0)->valuestring, PROMPT);
	cJSON_Delete(body);
	free(cfg);
}
END_TEST

START_TEST(openai_moderation_in_batches_passes_clean_texts)
{
	char *cfg = lv_asprintf("{\"providers\":{\"omod\":{\"type\":\"openai-moderation\",\"base_url\":\"%s/v1\","
	                        "\"api_key_env\":\"" KEY_ENV "\",\"model\":\"text-moderation-stable\",\"batch_size\":2}}}",
	                        lv_fake_url(srv_o));
	const char *texts[] = { "a quiet harbour", "a lighthouse at dusk", "waves on rocks" };
	lv_call_ctx ctx = { NULL, "vid_direct", "/tmp" };
	lv_moderation_result res;
	lv_provider_error err;
	cJSON *b0, *b1;
	direct d;
	queue("POST", "/v1/moderations", 200, NULL,
	      "{\"id\":\"modr-1\",\"model\":\"text-moderation-stable\",\"results\":[{\"flagged\":false,\"categories\":{}},"
	      "{\"flagged\":false,\"categories\":{}}]}",
	      0);
	queue("POST", "/v1/moderations", 200, NULL,
	      "{\"id\":\"modr-2\",\"model\":\"text-moderation-stable\",\"results\":[{\"flagged\":false,\"categories\":{}}]}",
	      0);
	direct_open(&d, cfg, "omod");
	memset(&err, 0, sizeof(err));
	ck_assert_msg(d.p->moderation->check(d.p->self, &ctx, texts, 3, &res, &err) == LV_OK, "%s", err.message);
	ck_assert_int_eq(res.flagged, 0);
	ck_assert_uint_eq(lv_fake_count(srv_o, "POST", "/v1/moderations"), 2);
	b0 = sent_json("POST", "/v1/moderations", 0);
	b1 = sent_json("POST", "/v1/moderations", 1);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(b0, "input")), 2);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(b1, "input")), 1);
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(b1, "input"), 0)->valuestring, "waves on rocks");
	ck_assert_str_eq(lv_json_get_str(b0, "model"), "text-moderation-stable");
	cJSON_Delete(b0);
	cJSON_Delete(b1);
	direct_close(&d);
	free(cfg);
}
END_TEST

START_TEST(a_chat_model_can_moderate)
{
	char *cfg = chat_config("moderation", NULL), id[64], *verdict;
	const cJSON *rf;
	cJSON *task, *body;
	lv_pt pt;
	verdict = chat_answer("{\"flagged\":true,\"categories\":[\"violence\"],\"index\":0}", "stop");
	queue("POST", "/v1/chat/completions", 200, NULL, verdict, 0);
	lv_pt_open(&pt, "llm-chatmod", cfg, 1);
	lv_pt_create(&pt, TASK_6S, id);
	task = expect_failure(&pt, id, "moderation_rejected", "moderation");
	ck_assert_ptr_nonnull(strstr(error_message(task), "the prompt (categories: violence)"));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(task, "error"), "shot")));
	cJSON_Delete(task);
	lv_pt_close(&pt);
	body = sent_json("POST", "/v1/chat/completions", 0);
	rf = cJSON_GetObjectItemCaseSensitive(body, "response_format");
	ck_assert_str_eq(lv_json_get_str(rf, "type"), "json_schema");
	ck_assert_str_eq(lv_json_get_str(cJSON_GetObjectItem(rf, "json_schema"), "name"), "moderation_verdict");
	ck_assert_ptr_nonnull(strstr(user_text(body), "violence/graphic")); /* the category list */
	ck_assert_ptr_nonnull(strstr(user_text(body), PROMPT));             /* the texts */
	cJSON_Delete(body);
	free(verdict);
	free(cfg);
}
END_TEST

/* ---- configuration ----------------------------------------------------------------------------------------------- */

static void expect_config_error(const char *json, const char *needle)
{
	lv_config *cfg = NULL;
	lv_providers *ps = NULL;
	int rc = lv_config_load(&cfg, NULL, json, NULL);
	if (rc == LV_OK) {
		rc = lv_providers_build(&ps, cfg);
		lv_providers_free(ps);
		lv_config_free(cfg);
	}
	ck_assert_int_eq(rc, LV_ECONFIG);
	ck_assert_msg(strstr(lv_error_last()->message, needle) != NULL, "'%s' does not mention %s",
	              lv_error_last()->message, needle);
}

START_TEST(config_blocks_are_checked)
{
	expect_config_error("{\"providers\":{\"c\":{\"type\":\"anthropic\",\"api_key_env\":\"K\",\"modle\":\"x\"}}}",
	                    "providers.c.modle: unknown key");
	expect_config_error("{\"providers\":{\"c\":{\"type\":\"anthropic\"}}}", "providers.c.api_key_env: is required");
	expect_config_error("{\"providers\":{\"c\":{\"type\":\"anthropic\",\"api_key_env\":\"K\",\"max_tokens\":10}}}",
	                    "providers.c.max_tokens");
	expect_config_error("{\"providers\":{\"c\":{\"type\":\"anthropic\",\"api_key_env\":\"K\",\"temperature\":3}}}",
	                    "providers.c.temperature");
	expect_config_error("{\"providers\":{\"g\":{\"type\":\"openai-chat\",\"model\":\"m\"}}}",
	                    "providers.g.base_url: is required");
	expect_config_error("{\"providers\":{\"g\":{\"type\":\"openai-chat\",\"base_url\":\"http://h/v1\"}}}",
	                    "providers.g.model: is required");
	expect_config_error("{\"providers\":{\"g\":{\"type\":\"openai-chat\",\"base_url\":\"http://h/v1\",\"model\":\"m\","
	                    "\"json_mode\":\"yaml\"}}}",
	                    "providers.g.json_mode");
	expect_config_error("{\"providers\":{\"g\":{\"type\":\"openai-chat\",\"base_url\":\"http://h/v1\",\"model\":\"m\","
	                    "\"moderation_categories\":[]}}}",
	                    "providers.g.moderation_categories");
	expect_config_error("{\"providers\":{\"g\":{\"type\":\"openai-chat\",\"base_url\":\"http://h/v1\",\"model\":\"m\","
	                    "\"api_key\":\"sk-x\"}}}",
	                    "never read from the config file");
	expect_config_error("{\"providers\":{\"m\":{\"type\":\"openai-moderation\"}}}", "providers.m.api_key_env: is required");
	expect_config_error("{\"providers\":{\"m\":{\"type\":\"openai-moderation\",\"api_key_env\":\"K\",\"batch_size\":0}}}",
	                    "providers.m.batch_size");
	/* A type serves only its stages. */
	expect_config_error("{\"pipeline\":{\"script\":\"m\"},\"providers\":{\"m\":{\"type\":\"openai-moderation\","
	                    "\"api_key_env\":\"K\"}}}",
	                    "script");
	expect_config_error("{\"pipeline\":{\"default_video_provider\":\"c\"},\"providers\":{\"c\":{\"type\":\"anthropic\","
	                    "\"api_key_env\":\"K\"}}}",
	                    "default_video_provider");
}
END_TEST

START_TEST(base_urls_follow_each_vendor_convention)
{
	char *u;
	u = lv_llm_openai_base("https://api.openai.com");
	ck_assert_str_eq(u, "https://api.openai.com/v1");
	free(u);
	u = lv_llm_openai_base("https://api.openai.com/v1/");
	ck_assert_str_eq(u, "https://api.openai.com/v1");
	free(u);
	u = lv_llm_openai_base("https://dashscope.aliyuncs.com/compatible-mode/v1");
	ck_assert_str_eq(u, "https://dashscope.aliyuncs.com/compatible-mode/v1");
	free(u);
	u = lv_llm_openai_base("http://127.0.0.1:11434/");
	ck_assert_str_eq(u, "http://127.0.0.1:11434/v1");
	free(u);
	u = lv_llm_url("https://api.anthropic.com/", "/v1/messages");
	ck_assert_str_eq(u, "https://api.anthropic.com/v1/messages");
	free(u);
}
END_TEST

START_TEST(model_text_yields_its_json_object)
{
	cJSON *o;
	o = lv_llm_parse_text("  {\"a\":1}\n");
	ck_assert_ptr_nonnull(o);
	cJSON_Delete(o);
	o = lv_llm_parse_text("```json\n{\"a\":{\"b\":\"}\"}}\n```");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "a"), "b")->valuestring, "}");
	cJSON_Delete(o);
	o = lv_llm_parse_text("```{\"a\":2}```");
	ck_assert_ptr_nonnull(o);
	cJSON_Delete(o);
	o = lv_llm_parse_text("Sure! {\"a\":3} Hope it helps.");
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "a")->valueint, 3);
	cJSON_Delete(o);
	ck_assert_ptr_null(lv_llm_parse_text("[1,2]"));
	ck_assert_ptr_null(lv_llm_parse_text("no json here"));
	ck_assert_ptr_null(lv_llm_parse_text("{\"a\":"));
}
END_TEST

/* ---- the key stays secret ----------------------------------------------------------------------------------------- */

static int file_contains(const char *path, const char *needle)
{
	char *data = NULL;
	size_t len = 0, n = strlen(needle), i;
	int found = 0;
	if (lv_test_read_file(&data, &len, path) != 0)
		return 0;
	for (i = 0; !found && len >= n && i <= len - n; i++)
		found = !memcmp(data + i, needle, n);
	free(data);
	return found;
}

/* Every regular file under dir that contains needle: how many. */
static int tree_contains(const char *dir, const char *needle, char *first, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int hits = 0;
	while (d && (e = readdir(d)) != NULL) {
		char *p;
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = lv_path_join(dir, e->d_name);
		if (p && stat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				hits += tree_contains(p, needle, first, cap);
			else if (S_ISREG(st.st_mode) && file_contains(p, needle)) {
				if (!hits && first)
					snprintf(first, cap, "%s", p);
				hits++;
			}
		}
		free(p);
	}
	if (d)
		closedir(d);
	return hits;
}

START_TEST(the_key_never_leaves_the_request)
{
	static const int secs[] = { 6 };
	char *dir = lv_test_mkdtemp("llm-logs"), *log = lv_path_join(dir, "stderr.log"), id1[64], id2[64], where[512];
	char *cfg, *sb = storyboard(1, secs), *ok = claude_answer(sb, "tool_use"), *json = NULL;
	lv_task *t;
	lv_pt pt;
	int fd, saved;
	/* Everything this process logs goes to a file, at debug level. */
	lv_log_level saved_level = lv_log_get_level();
	lv_log_set_level(LV_LOG_DEBUG);
	fflush(stderr);
	saved = dup(2);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 2);
	close(fd);

	cfg = claude_config(NULL);
	/* Task 1: the vendor echoes the key in a 529, then in a 401.  Task 2: a 529, then success. */
	queue("POST", "/v1/messages", 529, NULL,
	      "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded for key " KEY "\"}}", 0);
	queue("POST", "/v1/messages", 401, NULL,
	      "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key: " KEY
	      "\"}}",
	      0);
	queue("POST", "/v1/messages", 529, NULL,
	      "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded for key " KEY "\"}}", 0);
	queue("POST", "/v1/messages", 200, NULL, ok, 0);
	lv_pt_open(&pt, "llm-secret", cfg, 1);
	lv_pt_create(&pt, TASK_6S, id1);
	t = lv_pt_wait(&pt, id1, -1, 60);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_FAILED);
	ck_assert_ptr_null(strstr(lv_task_error_message(t), KEY));
	ck_assert_int_eq(lv_task_to_json(&json, t, LV_TASK_JSON_DETAIL), LV_OK);
	ck_assert_ptr_null(strstr(json, KEY));
	lv_free(json);
	lv_task_free(t);
	lv_pt_create(&pt, TASK_6S, id2);
	t = lv_pt_wait(&pt, id2, -1, 240);
	ck_assert_int_eq(lv_task_get_status(t), LV_TASK_COMPLETED);
	ck_assert_int_eq(lv_task_to_json(&json, t, LV_TASK_JSON_DETAIL), LV_OK);
	ck_assert_ptr_null(strstr(json, KEY));
	lv_free(json);
	lv_task_free(t);
	lv_workers_stop(pt.workers);
	pt.workers = NULL;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lv_log_set_level(saved_level);
	/* The key was sent (4 times) and the log is real (debug lines of the requests, retry warnings)... */
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 4);
	ck_assert(file_contains(log, "http: POST"));
	ck_assert(file_contains(log, "trying again"));
	ck_assert(file_contains(log, KEY_ENV));
	/* ...but it is nowhere: not in the log, not in any file of the data directory (database, WAL, media). */
	ck_assert_msg(!file_contains(log, KEY), "the key is in the log");
	ck_assert_msg(!file_contains(log, "Zq8wX3vB"), "part of the key is in the log");
	where[0] = '\0';
	ck_assert_msg(tree_contains(pt.dir, KEY, where, sizeof(where)) == 0, "the key is in %s", where);
	lv_pt_close(&pt);
	lv_test_rmdir(dir);
	free(dir);
	free(log);
	free(cfg);
	free(sb);
	free(ok);
}
END_TEST

/* ---- a worker killed while the script is being written --------------------------------------------------------------- */

static pid_t spawn_worker(const char *data_dir, const char *config, const char *log)
{
	char *bin = lv_test_bin("lvctl");
	const char *argv[] = { bin, "--data-dir", data_dir, "--config", config, "worker", "--workers", "1", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	ck_assert_int_eq(posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	free(bin);
	return pid;
}

START_TEST(a_killed_worker_is_replaced_and_the_task_charged_once)
{
	static const int secs[] = { 6 };
	char *dir = lv_test_mkdtemp("llm-kill"), *cfgtext, *cfgpath, *log, *sb = storyboard(1, secs);
	char *ok = claude_answer(sb, "tool_use"), *report = NULL;
	lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
	lv_engine *eng = NULL;
	lv_key *key = NULL;
	lv_task *t = NULL;
	int64_t until, reserve, settle, refund;
	pid_t a, b;
	int st;
	lv_pt pt;
	char id[64];
	cfgtext = lv_asprintf("{\"pipeline\":{\"script\":\"claude\",\"lease_seconds\":2},\"providers\":{\"claude\":{"
	                      "\"type\":\"anthropic\",\"base_url\":\"%s\",\"api_key_env\":\"" KEY_ENV "\"}}}",
	                      lv_fake_url(srv_a));
	cfgpath = lv_test_write_file(dir, "config.json", cfgtext);
	log = lv_path_join(dir, "workers.log");
	queue("POST", "/v1/messages", 200, NULL, ok, 5000); /* the first answer comes too late */
	queue("POST", "/v1/messages", 200, NULL, ok, 0);
	o.data_dir = dir;
	o.config_path = cfgpath;
	ck_assert_int_eq(lv_engine_open(&eng, &o), LV_OK);
	ck_assert_int_eq(lv_key_create(&key, eng, "kill", 100000000), LV_OK);
	ck_assert_int_eq(lv_task_create_json(&t, eng, key, TASK_6S, strlen(TASK_6S), NULL), LV_OK);
	snprintf(id, sizeof(id), "%s", lv_task_id(t));
	lv_task_free(t);

	setenv("LV_LOG_LEVEL", "debug", 1);
	a = spawn_worker(dir, cfgpath, log);
	until = lv_mono_ms() + 30000;
	while (lv_fake_count(srv_a, "POST", "/v1/messages") < 1 && lv_mono_ms() < until)
		lv_sleep_ms(20);
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 1);
	kill(a, SIGKILL);
	waitpid(a, &st, 0);
	b = spawn_worker(dir, cfgpath, log);
	unsetenv("LV_LOG_LEVEL");
	until = lv_mono_ms() + 240000;
	for (;;) {
		ck_assert_int_eq(lv_task_get(&t, eng, key, id), LV_OK);
		if (lv_task_status_is_terminal(lv_task_get_status(t)) || lv_mono_ms() > until)
			break;
		lv_task_free(t);
		lv_sleep_ms(100);
	}
	kill(b, SIGTERM);
	waitpid(b, &st, 0);
	ck_assert_msg(lv_task_get_status(t) == LV_TASK_COMPLETED, "status %s: %s",
	              lv_task_status_name(lv_task_get_status(t)), lv_task_error_message(t) ? lv_task_error_message(t) : "");
	lv_task_free(t);
	/* The script was asked for again by the second worker: two requests, one charge. */
	ck_assert_uint_eq(lv_fake_count(srv_a, "POST", "/v1/messages"), 2);
	memset(&pt, 0, sizeof(pt));
	pt.engine = eng;
	lv_pt_task_ledger(&pt, id, &reserve, &settle, &refund);
	ck_assert_int_eq(settle, reserve);
	ck_assert_int_eq(refund, 0);
	ck_assert_msg(lv_ledger_verify(eng, &report) == LV_OK, "%s", report ? report : "");
	lv_free(report);
	/* The workers logged at debug level, without the key. */
	ck_assert(file_contains(log, "http: POST"));
	ck_assert_msg(!file_contains(log, KEY), "the key is in the workers' log");
	lv_key_free(key);
	lv_engine_close(eng);
	lv_test_rmdir(dir);
	free(dir);
	free(cfgtext);
	free(cfgpath);
	free(log);
	free(sb);
	free(ok);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("provider_llm");
	TCase *quick = tcase_create("adapters"), *films = tcase_create("films"), *pipe = tcase_create("failures");
	tcase_add_checked_fixture(quick, setup, teardown);
	tcase_add_checked_fixture(films, setup, teardown);
	tcase_add_checked_fixture(pipe, setup, teardown);
	tcase_add_test(quick, a_cut_off_answer_is_asked_again_with_more_tokens);
	tcase_add_test(quick, an_answer_off_the_schema_is_asked_again_with_the_reason);
	tcase_add_test(quick, rate_limits_wait_for_retry_after);
	tcase_add_test(quick, overloaded_and_server_errors_are_retried);
	tcase_add_test(quick, servers_without_json_schema_get_json_mode);
	tcase_add_test(quick, a_length_cut_is_asked_again);
	tcase_add_test(quick, openai_moderation_in_batches_passes_clean_texts);
	tcase_add_test(quick, config_blocks_are_checked);
	tcase_add_test(quick, base_urls_follow_each_vendor_convention);
	tcase_add_test(quick, model_text_yields_its_json_object);
	tcase_add_test(pipe, a_storyboard_with_the_wrong_shot_count_fails_the_task_after_the_pipeline_retries);
	tcase_add_test(pipe, a_provider_that_does_not_answer_in_time_fails_the_task);
	tcase_add_test(pipe, a_malformed_answer_fails_the_task);
	tcase_add_test(pipe, a_rejected_key_names_the_variable_and_is_not_retried);
	tcase_add_test(pipe, refusals_are_moderation_rejections);
	tcase_add_test(pipe, openai_moderation_flags_fail_the_task_with_the_categories);
	tcase_add_test(pipe, a_chat_model_can_moderate);
	tcase_add_test(films, anthropic_writes_the_script_of_a_film);
	tcase_add_test(films, openai_chat_writes_the_script_of_a_film);
	tcase_add_test(films, the_key_never_leaves_the_request);
	tcase_add_test(films, a_killed_worker_is_replaced_and_the_task_charged_once);
	suite_add_tcase(s, quick);
	suite_add_tcase(s, pipe);
	suite_add_tcase(s, films);
	return s;
}

int main(void)
{
	return lv_test_run_suite(suite());
}
