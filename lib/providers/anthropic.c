/*
 * The `anthropic` provider: storyboards from Claude through the Anthropic Messages API.
 *
 * POST {base_url}/v1/messages with x-api-key, anthropic-version: 2023-06-01 and a JSON body: model,
 * max_tokens, system, one user message, one tool ("write_storyboard") whose input_schema is the
 * storyboard schema, and tool_choice {"type": "tool", "name": "write_storyboard"} so that the model must
 * answer with the tool.  The storyboard is the tool_use block's `input`.
 *
 * Inside one call: a cut-off answer (stop_reason max_tokens) is asked again with twice the max_tokens, and
 * an answer that is not a usable storyboard is asked again with the reason; LV_LLM_ATTEMPTS in all.
 * stop_reason "refusal" is a content refusal (moderation_rejected).  HTTP failures go through
 * lv_llm_send (retries) and lv_llm_fail (error mapping).
 *
 * The system prompt (with the tool before it) carries a cache_control breakpoint: the fixed instructions
 * and the storyboard schema are written to Anthropic's prompt cache once and read from it by later calls
 * (a prompt shorter than the model's minimum is simply not cached).
 *
 * Timeouts follow the official SDKs' rule for requests that are not streamed: ten minutes (a request is
 * expected to take up to an hour per 128,000 output tokens, so max_tokens stays at or under 21,333, where
 * that estimate reaches ten minutes).  A timeout_ms in the config wins.  max_tokens (also when doubled after
 * a cut-off answer) never exceeds the model's output limit.
 *
 * Config keys: model (default "claude-sonnet-4-5"), max_tokens (default 8192), temperature (0-1, not
 * sent unless set); base_url (default https://api.anthropic.com; a trailing /v1 is accepted) and
 * api_key_env (required) are the common keys.
 */
#include "providers/llm.h"
#include "providers/provider.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lv_provider_anthropic_create(lv_provider *p, const lv_provider_conf *conf);

#define ANTHROPIC_VERSION "2023-06-01"
#define DEFAULT_MODEL "claude-sonnet-4-5"
#define DEFAULT_MAX_TOKENS 8192
#define MAX_MAX_TOKENS 128000
#define SDK_TIMEOUT_MS 600000L        /* the SDKs' default for requests that are not streamed */
#define NONSTREAMING_MAX_TOKENS 21333 /* 3600 s * max_tokens / 128000 reaches the 600 s default here */

/* Output token limits by model id prefix (Anthropic's models overview); unknown models: the lowest current. */
static long model_output_limit(const char *model)
{
	static const struct {
		const char *prefix;
		long limit;
	} limits[] = {
		{ "claude-opus-4-1", 32000 },   { "claude-opus-4-0", 32000 },  { "claude-opus-4-2", 32000 },
		{ "claude-opus-4-5", 64000 },   { "claude-opus-4", 32000 },    { "claude-sonnet-4", 64000 },
		{ "claude-haiku-4", 64000 },    { "claude-3-7-sonnet", 64000 }, { "claude-3-5-haiku", 8192 },
		{ "claude-3-5-sonnet", 8192 },  { "claude-3-haiku", 4096 },    { "claude-3-opus", 4096 },
	};
	size_t i;
	for (i = 0; model && i < sizeof(limits) / sizeof(limits[0]); i++)
		if (!strncmp(model, limits[i].prefix, strlen(limits[i].prefix)))
			return limits[i].limit;
	return 8192;
}

typedef struct anthropic {
	const lv_provider_conf *conf;
	char *url;
	const char *model; /* in the config's JSON, which outlives the provider */
	long max_tokens;
	long max_tokens_cap;  /* the model's limit and the non-streaming ceiling */
	long timeout_ms;      /* per request */
	double temperature;
	int has_temperature;
	char what[160];
} anthropic;

enum { ANSWER_OK, ANSWER_RETRY, ANSWER_FAIL };

static char *request_body(const anthropic *a, const lv_script_request *req, const char *extra, long max_tokens)
{
	cJSON *root = cJSON_CreateObject(), *msgs = NULL, *msg = NULL, *tools = NULL, *tool = NULL, *choice = NULL;
	cJSON *schema = lv_llm_storyboard_schema();
	char *prompt = lv_llm_storyboard_prompt(req, extra, "Record the storyboard with the " LV_LLM_STORYBOARD_NAME
	                                                    " tool.",
	                                        0);
	char *out = NULL;
	int ok = root && schema && prompt;
	ok = ok && cJSON_AddStringToObject(root, "model", a->model);
	ok = ok && cJSON_AddNumberToObject(root, "max_tokens", (double)max_tokens);
	/* The system prompt as a text block with a cache breakpoint: tools and system are cached together. */
	{
		cJSON *sys = NULL, *blk = NULL, *cc = NULL;
		ok = ok && (sys = cJSON_AddArrayToObject(root, "system")) && (blk = cJSON_CreateObject()) &&
		     cJSON_AddItemToArray(sys, blk) && cJSON_AddStringToObject(blk, "type", "text") &&
		     cJSON_AddStringToObject(blk, "text", lv_llm_storyboard_system()) &&
		     (cc = cJSON_AddObjectToObject(blk, "cache_control")) && cJSON_AddStringToObject(cc, "type", "ephemeral");
	}
	ok = ok && (msgs = cJSON_AddArrayToObject(root, "messages")) && (msg = cJSON_CreateObject()) &&
	     cJSON_AddItemToArray(msgs, msg);
	ok = ok && cJSON_AddStringToObject(msg, "role", "user") && cJSON_AddStringToObject(msg, "content", prompt);
	ok = ok && (tools = cJSON_AddArrayToObject(root, "tools")) && (tool = cJSON_CreateObject()) &&
	     cJSON_AddItemToArray(tools, tool);
	ok = ok && cJSON_AddStringToObject(tool, "name", LV_LLM_STORYBOARD_NAME) &&
	     cJSON_AddStringToObject(tool, "description",
	                             "Record the film's storyboard: title, language, style, mood, characters and "
	                             "exactly the planned shots.");
	if (ok && cJSON_AddItemToObject(tool, "input_schema", schema))
		schema = NULL;
	else
		ok = 0;
	ok = ok && (choice = cJSON_AddObjectToObject(root, "tool_choice")) &&
	     cJSON_AddStringToObject(choice, "type", "tool") &&
	     cJSON_AddStringToObject(choice, "name", LV_LLM_STORYBOARD_NAME);
	if (ok && a->has_temperature)
		ok = cJSON_AddNumberToObject(root, "temperature", a->temperature) != NULL;
	if (ok)
		out = lv_json_print(root);
	cJSON_Delete(root);
	cJSON_Delete(schema);
	free(prompt);
	return out;
}

/* Read a 2xx answer (pure: no I/O).  ANSWER_OK: *out is the storyboard; ANSWER_RETRY: `problem` says why
 * (and `extra` what to tell the model; *truncated when it ran out of tokens); ANSWER_FAIL: *err is set. */
int lv_anthropic_read_answer(const lv_provider_conf *conf, const lv_http_response *resp, const char *const *secrets,
                             char **out, char *problem, size_t pcap, char *extra, size_t ecap, int *truncated,
                             lv_provider_error *err)
{
	cJSON *j = NULL;
	const cJSON *content, *block, *input = NULL;
	const char *stop;
	char why[200];
	int rc = ANSWER_RETRY;
	*truncated = 0;
	extra[0] = '\0';
	/* The answer within the project's JSON limits (size and nesting depth). */
	if (lv_json_parse(&j, resp->body, resp->body_len, "the answer") != LV_OK || !cJSON_IsObject(j)) {
		snprintf(problem, pcap, "the response body was not valid JSON");
		cJSON_Delete(j);
		return ANSWER_RETRY;
	}
	if (!strcmp(lv_json_get_str(j, "type") ? lv_json_get_str(j, "type") : "", "error")) {
		/* An error object with a 2xx status: map it by its type. */
		lv_llm_fail(err, "script_failed", conf, LV_OK, resp, 1, secrets);
		cJSON_Delete(j);
		return ANSWER_FAIL;
	}
	stop = lv_json_get_str(j, "stop_reason");
	content = cJSON_GetObjectItemCaseSensitive(j, "content");
	cJSON_ArrayForEach(block, content)
	{
		const char *type = lv_json_get_str(block, "type"), *name = lv_json_get_str(block, "name");
		if (type && !strcmp(type, "tool_use") && name && !strcmp(name, LV_LLM_STORYBOARD_NAME)) {
			input = cJSON_GetObjectItemCaseSensitive(block, "input");
			break;
		}
	}
	if (stop && !strcmp(stop, "refusal")) {
		lv_provider_fail(err, "moderation_rejected", 0,
		                 "provider '%s' declined to write a storyboard for this prompt (the model refused on "
		                 "content grounds); change the prompt and try again",
		                 conf->name);
		rc = ANSWER_FAIL;
	} else if (stop && (!strcmp(stop, "max_tokens") || !strcmp(stop, "model_context_window_exceeded"))) {
		*truncated = 1;
		snprintf(problem, pcap, "the answer was cut off (stop_reason %s)", stop);
		snprintf(extra, ecap, "it was cut off for length; keep every text field short");
	} else if (!cJSON_IsObject(input)) {
		snprintf(problem, pcap, "the answer did not call the %s tool", LV_LLM_STORYBOARD_NAME);
		snprintf(extra, ecap, "record the storyboard by calling the %s tool", LV_LLM_STORYBOARD_NAME);
	} else if (lv_llm_storyboard_check(input, why, sizeof(why))) {
		snprintf(problem, pcap, "the storyboard did not follow the schema: %s", why);
		snprintf(extra, ecap, "%s", why);
	} else if (!(*out = lv_json_print(input))) {
		lv_provider_fail(err, "internal_error", 1, "out of memory");
		rc = ANSWER_FAIL;
	} else {
		rc = ANSWER_OK;
	}
	cJSON_Delete(j);
	return rc;
}

static int anthropic_write(void *self, const lv_call_ctx *ctx, const lv_script_request *req, char **out,
                           lv_provider_error *err)
{
	anthropic *a = self;
	const char *key = NULL;
	const char *secrets[2] = { NULL, NULL };
	const char *headers[5] = { NULL, "anthropic-version: " ANTHROPIC_VERSION, "content-type: application/json",
		                   "accept: application/json", NULL };
	char *auth, problem[300] = "", extra[300] = "";
	long max_tokens = a->max_tokens;
	int attempt, rc = LV_OK, truncated = 0;
	*out = NULL;
	if ((rc = lv_llm_key(a->conf, 0, "script_failed", &key, err)))
		return rc;
	secrets[0] = key;
	if (!(auth = lv_asprintf("x-api-key: %s", key)))
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	headers[0] = auth;
	for (attempt = 0; attempt < LV_LLM_ATTEMPTS; attempt++) {
		lv_llm_post post;
		lv_http_response resp;
		char *body = request_body(a, req, extra, max_tokens);
		int tries = 0, answer;
		if (!body) {
			rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
			break;
		}
		memset(&post, 0, sizeof(post));
		post.conf = a->conf;
		post.ctx = ctx;
		post.url = a->url;
		post.headers = headers;
		post.secrets = secrets;
		post.body = body;
		post.what = a->what;
		post.timeout_ms = a->timeout_ms;
		rc = lv_llm_send(&post, &resp, &tries);
		free(body);
		if (rc != LV_OK || resp.status < 200 || resp.status >= 300) {
			rc = lv_llm_fail(err, "script_failed", a->conf, rc, &resp, tries, secrets);
			lv_http_response_free(&resp);
			break;
		}
		answer = lv_anthropic_read_answer(a->conf, &resp, secrets, out, problem, sizeof(problem), extra,
		                                  sizeof(extra), &truncated, err);
		lv_http_response_free(&resp);
		if (answer == ANSWER_OK) {
			rc = LV_OK;
			break;
		}
		if (answer == ANSWER_FAIL) {
			rc = LV_EPROVIDER;
			break;
		}
		LV_WARN("%s: attempt %d of %d: %s", a->what, attempt + 1, LV_LLM_ATTEMPTS, problem);
		if (truncated)
			max_tokens = max_tokens * 2 > a->max_tokens_cap ? a->max_tokens_cap : max_tokens * 2;
		rc = -1;
	}
	lv_provider_free_secret(auth);
	if (rc == -1) {
		if (truncated)
			return lv_provider_fail(err, "script_failed", 0,
			                        "provider '%s' ran out of output tokens %d times (max_tokens %ld, then %ld); "
			                        "raise providers.%s.max_tokens or ask for a shorter film",
			                        a->conf->name, LV_LLM_ATTEMPTS, a->max_tokens, max_tokens, a->conf->name);
		return lv_provider_fail(err, "script_failed", 0,
		                        "provider '%s' did not return a usable storyboard in %d tries (%s); try again, "
		                        "or choose a more capable model in providers.%s.model",
		                        a->conf->name, LV_LLM_ATTEMPTS, problem, a->conf->name);
	}
	return rc;
}

static const lv_script_ops script_ops = { LV_PROVIDER_ABI_VERSION, anthropic_write };

static void anthropic_destroy(void *self)
{
	anthropic *a = self;
	if (!a)
		return;
	free(a->url);
	free(a);
}

/* lvctl doctor --online: list the models with the key. */
static int anthropic_ping(void *self, lv_provider_error *err)
{
	anthropic *x = self;
	const char *key = NULL;
	char *url = lv_llm_url_swap(x->url, "/v1/messages", "/v1/models"), *auth = NULL;
	const char *headers[3] = { NULL, NULL, NULL }, *secrets[2] = { NULL, NULL };
	int rc;
	if (!url)
		return lv_provider_fail(err, "internal_error", 0, "provider '%s': cannot form its model list URL",
		                        x->conf->name);
	rc = lv_llm_key(x->conf, 0, "internal_error", &key, err);
	if (rc == LV_OK && !(auth = lv_asprintf("x-api-key: %s", key)))
		rc = LV_ENOMEM;
	headers[0] = auth;
	headers[1] = "anthropic-version: 2023-06-01";
	secrets[0] = key;
	rc = rc ? rc : lv_provider_ping_url(x->conf, url, headers, secrets, err);
	lv_provider_free_secret(auth);
	free(url);
	return rc;
}

int lv_provider_anthropic_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model", "max_tokens", "temperature", NULL };
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(conf->json, "temperature");
	const char *base = conf->base_url ? conf->base_url : "https://api.anthropic.com";
	anthropic *a;
	size_t n;
	char *trimmed;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!conf->api_key_env)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.api_key_env: is required: the name of the environment variable "
		                    "holding the Anthropic API key (e.g. \"ANTHROPIC_API_KEY\")",
		                    conf->name);
	if (t && (!cJSON_IsNumber(t) || t->valuedouble < 0 || t->valuedouble > 1))
		return lv_error_set(LV_ECONFIG, "config: providers.%s.temperature: must be a number from 0 to 1",
		                    conf->name);
	if (!(a = lv_calloc(1, sizeof(*a))))
		return LV_ENOMEM;
	a->conf = conf;
	if (lv_provider_conf_str(&a->model, conf, "model", DEFAULT_MODEL) ||
	    lv_llm_conf_int(conf, "max_tokens", DEFAULT_MAX_TOKENS, 256, MAX_MAX_TOKENS, &a->max_tokens)) {
		anthropic_destroy(a);
		return LV_ECONFIG;
	}
	/* The model's output limit and the SDKs' non-streaming ceiling bound max_tokens, also when doubled. */
	a->max_tokens_cap = model_output_limit(a->model);
	if (a->max_tokens_cap > NONSTREAMING_MAX_TOKENS)
		a->max_tokens_cap = NONSTREAMING_MAX_TOKENS;
	if (a->max_tokens > a->max_tokens_cap) {
		LV_WARN("provider '%s': max_tokens %ld is above what %s can return in one request (%ld); using %ld",
		        conf->name, a->max_tokens, a->model, a->max_tokens_cap, a->max_tokens_cap);
		a->max_tokens = a->max_tokens_cap;
	}
	a->timeout_ms = cJSON_GetObjectItemCaseSensitive(conf->json, "timeout_ms") ? conf->timeout_ms : SDK_TIMEOUT_MS;
	a->has_temperature = t != NULL;
	a->temperature = t ? t->valuedouble : 0;
	/* The SDKs' base is the host; accept a base that already ends in /v1 too. */
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n >= 3 && !strncmp(base + n - 3, "/v1", 3))
		n -= 3;
	trimmed = lv_strndup(base, n);
	a->url = trimmed ? lv_llm_url(trimmed, "/v1/messages") : NULL;
	free(trimmed);
	if (!a->url) {
		anthropic_destroy(a);
		return LV_ENOMEM;
	}
	snprintf(a->what, sizeof(a->what), "provider '%s'", conf->name);
	p->self = a;
	p->script = &script_ops;
	p->destroy = anthropic_destroy;
	p->ping = anthropic_ping;
	return LV_OK;
}
