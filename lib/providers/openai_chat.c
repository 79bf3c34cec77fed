/*
 * The `openai-chat` provider: storyboards and moderation from any server that speaks OpenAI's chat
 * completions (OpenAI, DeepSeek, Qwen's compatible mode, Ollama, llama.cpp server, vLLM, ...).
 *
 * POST {base}/chat/completions, where {base} is base_url as the OpenAI SDKs take it, including the API
 * version ("https://api.openai.com/v1", "https://dashscope.aliyuncs.com/compatible-mode/v1",
 * "http://127.0.0.1:11434/v1"); a base_url with no path at all gets "/v1".  Authorization: Bearer with
 * the key from api_key_env; with no api_key_env no Authorization header is sent (self-hosted servers).
 *
 * The answer is asked for as JSON: response_format {"type":"json_schema","json_schema":{"name",
 * "strict":true,"schema"}} by default; when the server rejects that (a 400/422 that names
 * response_format or json_schema) the provider falls back to {"type":"json_object"} with the schema
 * written into the prompt, and remembers it for later calls.  The content of choices[0].message is
 * read as JSON (``` fences and words around the object are tolerated).  message.refusal or
 * finish_reason "content_filter" is a content refusal; finish_reason "length" is asked again.
 *
 * As a moderation provider it asks the model for a verdict {flagged, categories[], index} against a
 * list of categories (OpenAI's moderation categories unless configured).
 *
 * Config keys: model (required), max_tokens (not sent unless set), max_tokens_field ("max_tokens" or
 * "max_completion_tokens"), temperature (0-2, not sent unless set), json_mode ("json_schema",
 * "json_object" or "none"), moderation_categories (list of names).
 */
#include "providers/llm.h"
#include "providers/provider.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lv_provider_openai_chat_create(lv_provider *p, const lv_provider_conf *conf);

#define MAX_CATEGORIES 32
#define MAX_MAX_TOKENS 1000000

enum { MODE_SCHEMA, MODE_OBJECT, MODE_NONE };
enum { ANSWER_OK, ANSWER_RETRY, ANSWER_REFUSED, ANSWER_FAIL };

static const char *const default_categories[] = { "sexual",        "sexual/minors",          "harassment",
	                                          "harassment/threatening", "hate",       "hate/threatening",
	                                          "illicit",       "illicit/violent",        "self-harm",
	                                          "self-harm/intent", "self-harm/instructions", "violence",
	                                          "violence/graphic" };

typedef struct openai_chat {
	const lv_provider_conf *conf;
	char *url;
	const char *model; /* strings point into the config's JSON, which outlives the provider */
	long max_tokens;   /* 0: not sent */
	const char *max_tokens_field;
	double temperature;
	int has_temperature;
	int mode;                  /* configured response format */
	atomic_int schema_refused; /* the server rejected json_schema once: use JSON mode from now on */
	const char *categories[MAX_CATEGORIES];
	size_t n_categories;
	char what[160];
} openai_chat;

/* One exchange's inputs. */
typedef struct chat_call {
	const lv_call_ctx *ctx;
	const char *stage_code;   /* error code for failures */
	const char *system;
	const char *user;         /* the prompt for json_schema mode */
	const char *user_schema;  /* the prompt with the schema written out (JSON mode, no format) */
	const char *schema_name;
	cJSON *(*schema)(void);
	long max_tokens;
	const char *const *headers;
	const char *const *secrets;
} chat_call;

/* A call with no prompt, schema or output budget yet: the caller sets those. */
static void call_init(chat_call *call, const lv_call_ctx *ctx, const char *stage_code, const char *const *headers,
                      const char *const *secrets)
{
	memset(call, 0, sizeof(*call));
	call->ctx = ctx;
	call->stage_code = stage_code;
	call->headers = headers;
	call->secrets = secrets;
}

static char *request_body(const openai_chat *c, const chat_call *call, int mode)
{
	cJSON *root = cJSON_CreateObject(), *msgs = NULL, *m = NULL, *rf = NULL, *js = NULL, *schema = NULL;
	char *out = NULL;
	int ok = root != NULL;
	ok = ok && cJSON_AddStringToObject(root, "model", c->model);
	ok = ok && (msgs = cJSON_AddArrayToObject(root, "messages"));
	ok = ok && (m = cJSON_CreateObject()) && cJSON_AddItemToArray(msgs, m) &&
	     cJSON_AddStringToObject(m, "role", "system") && cJSON_AddStringToObject(m, "content", call->system);
	ok = ok && (m = cJSON_CreateObject()) && cJSON_AddItemToArray(msgs, m) &&
	     cJSON_AddStringToObject(m, "role", "user") &&
	     cJSON_AddStringToObject(m, "content", mode == MODE_SCHEMA ? call->user : call->user_schema);
	if (ok && mode == MODE_SCHEMA) {
		ok = (rf = cJSON_AddObjectToObject(root, "response_format")) &&
		     cJSON_AddStringToObject(rf, "type", "json_schema") &&
		     (js = cJSON_AddObjectToObject(rf, "json_schema")) &&
		     cJSON_AddStringToObject(js, "name", call->schema_name) && cJSON_AddBoolToObject(js, "strict", 1) &&
		     (schema = call->schema()) != NULL;
		if (ok && cJSON_AddItemToObject(js, "schema", schema))
			schema = NULL;
		else
			ok = 0;
	} else if (ok && mode == MODE_OBJECT) {
		ok = (rf = cJSON_AddObjectToObject(root, "response_format")) &&
		     cJSON_AddStringToObject(rf, "type", "json_object");
	}
	if (ok && call->max_tokens > 0)
		ok = cJSON_AddNumberToObject(root, c->max_tokens_field, (double)call->max_tokens) != NULL;
	if (ok && c->has_temperature)
		ok = cJSON_AddNumberToObject(root, "temperature", c->temperature) != NULL;
	if (ok)
		out = lv_json_print(root);
	cJSON_Delete(root);
	cJSON_Delete(schema);
	return out;
}

/* A 400/422 about the response format: the server has no structured outputs. */
static int rejects_format(const lv_http_response *r)
{
	return (r->status == 400 || r->status == 422) && r->body &&
	       (strstr(r->body, "response_format") || strstr(r->body, "json_schema"));
}

/* Read a 2xx chat completion (pure: no I/O).  ANSWER_OK: *obj is the JSON object the model answered (caller
 * deletes); ANSWER_RETRY: `problem`/`extra` say why, *truncated when cut off for length; ANSWER_REFUSED. */
int lv_chat_read_answer(const char *body, cJSON **obj, int *truncated, char *problem, size_t pcap, char *extra,
                        size_t ecap)
{
	cJSON *j = body ? lv_json_parse_text(body) : NULL;
	const cJSON *choice, *msg, *refusal;
	const char *finish, *content;
	int answer = ANSWER_RETRY;
	*obj = NULL;
	*truncated = 0;
	choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
	msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
	refusal = cJSON_GetObjectItemCaseSensitive(msg, "refusal");
	finish = lv_json_get_str(choice, "finish_reason");
	content = lv_json_get_str(msg, "content");
	if (!cJSON_IsObject(j)) {
		snprintf(problem, pcap, "the response body was not valid JSON");
	} else if (!cJSON_IsObject(msg)) {
		snprintf(problem, pcap, "the response had no choices[0].message");
	} else if ((cJSON_IsString(refusal) && *refusal->valuestring) || (finish && !strcmp(finish, "content_filter"))) {
		answer = ANSWER_REFUSED;
	} else if (finish && !strcmp(finish, "length")) {
		*truncated = 1;
		snprintf(problem, pcap, "the answer was cut off (finish_reason length)");
		snprintf(extra, ecap, "it was cut off for length; keep every text field short");
	} else if (!(*obj = lv_llm_parse_text(content))) {
		snprintf(problem, pcap, "the answer was not a JSON object");
		snprintf(extra, ecap, "answer with the JSON object only");
	} else {
		answer = ANSWER_OK;
	}
	cJSON_Delete(j);
	return answer;
}

/* One chat exchange that should answer with a JSON object.  ANSWER_OK: *obj is it (caller deletes);
 * ANSWER_RETRY: `problem`/`extra` say why, *truncated when cut off for length; ANSWER_REFUSED: the model
 * refused; ANSWER_FAIL: *err is set (or *rc_out is LV_ECANCELED), also when a prompt is NULL (the
 * caller ran out of memory building it). */
static int chat_json(openai_chat *c, const chat_call *call, cJSON **obj, char *problem, size_t pcap, char *extra,
                     size_t ecap, int *truncated, int *rc_out, lv_provider_error *err)
{
	int mode = c->mode == MODE_SCHEMA && atomic_load(&c->schema_refused) ? MODE_OBJECT : c->mode;
	lv_http_response resp;
	int tries = 0, rc, answer;
	*obj = NULL;
	*truncated = 0;
	*rc_out = LV_OK;
	if (!call->user || !call->user_schema) { /* the caller could not build this attempt's prompts */
		*rc_out = lv_provider_fail(err, "internal_error", 1, "out of memory");
		return ANSWER_FAIL;
	}
	extra[0] = '\0';
	for (;;) {
		lv_llm_post post;
		char *body = request_body(c, call, mode);
		if (!body) {
			*rc_out = lv_provider_fail(err, "internal_error", 1, "out of memory");
			return ANSWER_FAIL;
		}
		memset(&post, 0, sizeof(post));
		post.conf = c->conf;
		post.ctx = call->ctx;
		post.url = c->url;
		post.headers = call->headers;
		post.secrets = call->secrets;
		post.body = body;
		post.what = c->what;
		rc = lv_llm_send(&post, &resp, &tries);
		free(body);
		if (rc == LV_OK && mode == MODE_SCHEMA && rejects_format(&resp)) {
			if (!atomic_exchange(&c->schema_refused, 1))
				LV_INFO("%s: the server does not take response_format json_schema; using JSON mode "
				        "(set providers.%s.json_mode to \"json_object\" to skip the first try)",
				        c->what, c->conf->name);
			lv_http_response_free(&resp);
			mode = MODE_OBJECT;
			continue;
		}
		break;
	}
	if (rc != LV_OK || resp.status < 200 || resp.status >= 300) {
		*rc_out = lv_llm_fail(err, call->stage_code, c->conf, rc, &resp, tries, call->secrets);
		if (rc == LV_OK && rejects_format(&resp))
			snprintf(err->message + strlen(err->message), sizeof(err->message) - strlen(err->message),
			         " (the server does not take response_format %s: set providers.%s.json_mode to \"none\")",
			         mode == MODE_OBJECT ? "json_object" : "json_schema", c->conf->name);
		lv_http_response_free(&resp);
		return ANSWER_FAIL;
	}
	answer = lv_chat_read_answer(resp.body, obj, truncated, problem, pcap, extra, ecap);
	lv_http_response_free(&resp);
	return answer;
}

static int chat_write(void *self, const lv_call_ctx *ctx, const lv_script_request *req, char **out,
                      lv_provider_error *err)
{
	static const char closing[] = "Answer with the storyboard as one JSON object and nothing else.";
	openai_chat *c = self;
	const char *headers[3], *secrets[2];
	char *auth = NULL, problem[300] = "", extra[300] = "";
	long max_tokens = c->max_tokens;
	chat_call call;
	int attempt, rc, crc, truncated = 0, failed = 1;
	*out = NULL;
	if ((rc = lv_llm_bearer_headers(headers, secrets, &auth, c->conf, 1, "script_failed", err)))
		return rc;
	call_init(&call, ctx, "script_failed", headers, secrets);
	call.system = lv_llm_storyboard_system();
	call.schema_name = LV_LLM_STORYBOARD_NAME;
	call.schema = lv_llm_storyboard_schema;
	for (attempt = 0; attempt < LV_LLM_ATTEMPTS; attempt++) {
		cJSON *sb = NULL;
		char why[200];
		char *user = lv_llm_storyboard_prompt(req, extra, closing, 0);
		char *user_schema = lv_llm_storyboard_prompt(req, extra, closing, 1);
		int answer;
		call.user = user;
		call.user_schema = user_schema;
		call.max_tokens = max_tokens;
		answer = chat_json(c, &call, &sb, problem, sizeof(problem), extra, sizeof(extra), &truncated, &crc, err);
		free(user);
		free(user_schema);
		if (answer == ANSWER_FAIL) {
			rc = crc;
			failed = 0;
			break;
		}
		if (answer == ANSWER_REFUSED) {
			rc = lv_provider_fail(err, "moderation_rejected", 0,
			                      "provider '%s' declined to write a storyboard for this prompt (the model "
			                      "refused on content grounds); change the prompt and try again",
			                      c->conf->name);
			failed = 0;
			break;
		}
		if (answer == ANSWER_OK) {
			if (lv_llm_storyboard_check(sb, why, sizeof(why)) == LV_OK) {
				*out = lv_json_print(sb);
				cJSON_Delete(sb);
				rc = *out ? LV_OK : lv_provider_fail(err, "internal_error", 1, "out of memory");
				failed = 0;
				break;
			}
			snprintf(problem, sizeof(problem), "the storyboard did not follow the schema: %s", why);
			snprintf(extra, sizeof(extra), "%s", why);
			cJSON_Delete(sb);
		}
		LV_WARN("%s: attempt %d of %d: %s", c->what, attempt + 1, LV_LLM_ATTEMPTS, problem);
		if (truncated && max_tokens > 0)
			max_tokens = max_tokens * 2 > MAX_MAX_TOKENS ? MAX_MAX_TOKENS : max_tokens * 2;
	}
	lv_provider_free_secret(auth);
	if (!failed)
		return rc;
	if (truncated && c->max_tokens > 0)
		return lv_provider_fail(err, "script_failed", 0,
		                        "provider '%s' ran out of output tokens %d times (max_tokens %ld, then %ld); raise "
		                        "providers.%s.max_tokens or ask for a shorter film",
		                        c->conf->name, LV_LLM_ATTEMPTS, c->max_tokens, max_tokens, c->conf->name);
	if (truncated)
		return lv_provider_fail(err, "script_failed", 0,
		                        "provider '%s' cut the storyboard off %d times at the server's output limit; set "
		                        "providers.%s.max_tokens (e.g. 8192) or ask for a shorter film",
		                        c->conf->name, LV_LLM_ATTEMPTS, c->conf->name);
	return lv_provider_fail(err, "script_failed", 0,
	                        "provider '%s' did not return a usable storyboard in %d tries (%s); try again, or "
	                        "choose a model that follows JSON instructions in providers.%s.model",
	                        c->conf->name, LV_LLM_ATTEMPTS, problem, c->conf->name);
}

static int chat_check(void *self, const lv_call_ctx *ctx, const char *const *texts, size_t n,
                      lv_moderation_result *out, lv_provider_error *err)
{
	openai_chat *c = self;
	const char *headers[3], *secrets[2];
	char *auth = NULL, problem[300] = "", extra[300] = "";
	chat_call call;
	int attempt, rc, crc, truncated = 0;
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return LV_OK;
	if ((rc = lv_llm_bearer_headers(headers, secrets, &auth, c->conf, 1, "internal_error", err)))
		return rc;
	call_init(&call, ctx, "internal_error", headers, secrets);
	call.system = lv_llm_moderation_system();
	call.schema_name = LV_LLM_MODERATION_NAME;
	call.schema = lv_llm_moderation_schema;
	call.max_tokens = c->max_tokens;
	rc = -1;
	for (attempt = 0; attempt < LV_LLM_ATTEMPTS && rc == -1; attempt++) {
		cJSON *v = NULL;
		char why[200];
		char *user = lv_llm_moderation_prompt(texts, n, c->categories, c->n_categories, 0);
		char *user_schema = lv_llm_moderation_prompt(texts, n, c->categories, c->n_categories, 1);
		int answer;
		call.user = user;
		call.user_schema = user_schema;
		answer = chat_json(c, &call, &v, problem, sizeof(problem), extra, sizeof(extra), &truncated, &crc, err);
		free(user);
		free(user_schema);
		if (answer == ANSWER_FAIL) {
			rc = crc;
			break;
		}
		if (answer == ANSWER_REFUSED) {
			/* A reviewer that will not look at the texts is treated as a rejection: the safe side. */
			out->flagged = 1;
			out->text_index = 0;
			snprintf(out->categories, sizeof(out->categories), "refused by the moderation model");
			rc = LV_OK;
			break;
		}
		if (answer == ANSWER_OK) {
			if (lv_llm_moderation_verdict(v, n, out, why, sizeof(why)) == LV_OK)
				rc = LV_OK;
			else
				snprintf(problem, sizeof(problem), "%s", why);
			cJSON_Delete(v);
		}
		if (rc == -1)
			LV_WARN("%s: moderation attempt %d of %d: %s", c->what, attempt + 1, LV_LLM_ATTEMPTS, problem);
	}
	lv_provider_free_secret(auth);
	if (rc == -1)
		return lv_provider_fail(err, "internal_error", 0,
		                        "provider '%s' did not return a usable moderation verdict in %d tries (%s); choose "
		                        "a model that follows JSON instructions in providers.%s.model",
		                        c->conf->name, LV_LLM_ATTEMPTS, problem, c->conf->name);
	return rc;
}

static const lv_script_ops script_ops = { LV_PROVIDER_ABI_VERSION, chat_write };
static const lv_moderation_ops moderation_ops = { LV_PROVIDER_ABI_VERSION, chat_check };

static void chat_destroy(void *self)
{
	openai_chat *c = self;
	if (!c)
		return;
	free(c->url);
	free(c);
}

static int parse_options(openai_chat *c, const lv_provider_conf *conf)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(conf->json, "temperature");
	const cJSON *cats = cJSON_GetObjectItemCaseSensitive(conf->json, "moderation_categories"), *it;
	const char *mode = NULL;
	size_t i;
	if (lv_provider_conf_str(&c->model, conf, "model", NULL) ||
	    lv_llm_conf_int(conf, "max_tokens", 0, 16, MAX_MAX_TOKENS, &c->max_tokens) ||
	    lv_provider_conf_str(&c->max_tokens_field, conf, "max_tokens_field", "max_tokens") ||
	    lv_provider_conf_str(&mode, conf, "json_mode", "json_schema"))
		return LV_ECONFIG;
	if (!c->model)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.model: is required (the model name the server knows, e.g. "
		                    "\"gpt-4o-mini\", \"deepseek-chat\", \"qwen-plus\", \"llama3.1\")",
		                    conf->name);
	if (strcmp(c->max_tokens_field, "max_tokens") && strcmp(c->max_tokens_field, "max_completion_tokens"))
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.max_tokens_field: must be \"max_tokens\" or "
		                    "\"max_completion_tokens\"",
		                    conf->name);
	if (!strcmp(mode, "json_schema"))
		c->mode = MODE_SCHEMA;
	else if (!strcmp(mode, "json_object"))
		c->mode = MODE_OBJECT;
	else if (!strcmp(mode, "none"))
		c->mode = MODE_NONE;
	else
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.json_mode: must be \"json_schema\", \"json_object\" or \"none\"",
		                    conf->name);
	if (t && (!cJSON_IsNumber(t) || t->valuedouble < 0 || t->valuedouble > 2))
		return lv_error_set(LV_ECONFIG, "config: providers.%s.temperature: must be a number from 0 to 2",
		                    conf->name);
	c->has_temperature = t != NULL;
	c->temperature = t ? t->valuedouble : 0;
	if (cats) {
		if (!cJSON_IsArray(cats) || cJSON_GetArraySize(cats) < 1 || cJSON_GetArraySize(cats) > MAX_CATEGORIES)
			return lv_error_set(LV_ECONFIG,
			                    "config: providers.%s.moderation_categories: must be a list of 1 to %d names",
			                    conf->name, MAX_CATEGORIES);
		cJSON_ArrayForEach(it, cats)
		{
			if (!cJSON_IsString(it) || !*it->valuestring)
				return lv_error_set(LV_ECONFIG,
				                    "config: providers.%s.moderation_categories: entries must be non-empty "
				                    "strings",
				                    conf->name);
			c->categories[c->n_categories++] = it->valuestring;
		}
	} else {
		for (i = 0; i < sizeof(default_categories) / sizeof(default_categories[0]); i++)
			c->categories[c->n_categories++] = default_categories[i];
	}
	return LV_OK;
}

/* lvctl doctor --online: list the models with the key. */
static int openai_chat_ping(void *self, lv_provider_error *err)
{
	const openai_chat *x = self;
	return lv_llm_ping_models(x->conf, x->url, "/chat/completions", err);
}

int lv_provider_openai_chat_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model", "max_tokens", "max_tokens_field", "temperature", "json_mode",
		                            "moderation_categories", NULL };
	openai_chat *c;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!conf->base_url)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.base_url: is required (the server's OpenAI-compatible base, e.g. "
		                    "\"https://api.openai.com/v1\" or \"http://127.0.0.1:11434/v1\")",
		                    conf->name);
	if (!(c = lv_calloc(1, sizeof(*c))))
		return LV_ENOMEM;
	c->conf = conf;
	atomic_init(&c->schema_refused, 0);
	if (parse_options(c, conf)) {
		chat_destroy(c);
		return LV_ECONFIG;
	}
	if (!(c->url = lv_llm_openai_url(conf->base_url, "/chat/completions"))) {
		chat_destroy(c);
		return LV_ENOMEM;
	}
	snprintf(c->what, sizeof(c->what), "provider '%s'", conf->name);
	p->self = c;
	p->script = &script_ops;
	p->moderation = &moderation_ops;
	p->destroy = chat_destroy;
	p->ping = openai_chat_ping;
	return LV_OK;
}
