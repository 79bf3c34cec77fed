/*
 * The `openai-moderation` provider: content review with OpenAI's moderation endpoint.
 *
 * POST {base}/moderations with {"model", "input": [texts...]} (the prompt, the title and every shot's
 * visual and narration, as the pipeline passes them), Authorization: Bearer with the key from
 * api_key_env.  {base} follows the OpenAI SDKs: it includes the API version (default
 * "https://api.openai.com/v1"; a base_url with no path gets "/v1").  The answer has one result per
 * input, in order: results[i].flagged and results[i].categories (name -> bool).  The first flagged text
 * is reported with the names of its true categories.
 *
 * Config keys: model (default "omni-moderation-latest"), batch_size (texts per request, default 32).
 */
#include "providers/llm.h"
#include "providers/provider.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lv_provider_openai_moderation_create(lv_provider *p, const lv_provider_conf *conf);

#define DEFAULT_MODEL "omni-moderation-latest"
#define DEFAULT_BATCH 32

typedef struct openai_moderation {
	const lv_provider_conf *conf;
	char *url;
	const char *model; /* in the config's JSON, which outlives the provider */
	long batch;
	char what[160];
} openai_moderation;

static char *request_body(const openai_moderation *m, const char *const *texts, size_t n)
{
	cJSON *root = cJSON_CreateObject(), *input = NULL;
	char *out = NULL;
	size_t i;
	int ok = root && cJSON_AddStringToObject(root, "model", m->model) &&
	         (input = cJSON_AddArrayToObject(root, "input"));
	for (i = 0; ok && i < n; i++) {
		cJSON *s = cJSON_CreateString(texts[i] ? texts[i] : "");
		ok = s && cJSON_AddItemToArray(input, s);
		if (!ok)
			cJSON_Delete(s);
	}
	if (ok)
		out = lv_json_print(root);
	cJSON_Delete(root);
	return out;
}

/* Read one batch's answer.  1: flagged (out filled), 0: nothing flagged, -1: not the documented shape. */
static int read_results(const char *body, size_t n, size_t base, lv_moderation_result *out)
{
	cJSON *j = lv_json_parse_text(body);
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(j, "results"), *r;
	size_t i = 0;
	int verdict = 0;
	if (!cJSON_IsArray(results) || (size_t)cJSON_GetArraySize(results) != n) {
		cJSON_Delete(j);
		return -1;
	}
	cJSON_ArrayForEach(r, results)
	{
		const cJSON *flagged = cJSON_GetObjectItemCaseSensitive(r, "flagged"), *c;
		size_t len = 0;
		if (!cJSON_IsBool(flagged)) {
			verdict = -1;
			break;
		}
		if (cJSON_IsTrue(flagged)) {
			out->flagged = 1;
			out->text_index = base + i;
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "categories"))
			{
				int w;
				if (!cJSON_IsTrue(c) || !c->string)
					continue;
				w = snprintf(out->categories + len, sizeof(out->categories) - len, "%s%s", len ? ", " : "",
				             c->string);
				if (w < 0 || (size_t)w >= sizeof(out->categories) - len)
					break;
				len += (size_t)w;
			}
			out->categories[len] = '\0';
			verdict = 1;
			break;
		}
		i++;
	}
	cJSON_Delete(j);
	return verdict;
}

static int moderation_check(void *self, const lv_call_ctx *ctx, const char *const *texts, size_t n,
                            lv_moderation_result *out, lv_provider_error *err)
{
	openai_moderation *m = self;
	const char *headers[3], *secrets[2];
	char *auth;
	size_t start;
	int rc = LV_OK;
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return LV_OK;
	if ((rc = lv_llm_bearer_headers(headers, secrets, &auth, m->conf, 0, "internal_error", err)))
		return rc;
	for (start = 0; start < n && rc == LV_OK && !out->flagged; start += (size_t)m->batch) {
		size_t count = n - start < (size_t)m->batch ? n - start : (size_t)m->batch;
		int attempt, verdict = -1;
		for (attempt = 0; attempt < LV_LLM_ATTEMPTS && verdict < 0 && rc == LV_OK; attempt++) {
			lv_llm_post post;
			lv_http_response resp;
			char *body = request_body(m, texts + start, count);
			int tries = 0;
			if (!body) {
				rc = lv_provider_fail(err, "internal_error", 1, "out of memory");
				break;
			}
			memset(&post, 0, sizeof(post));
			post.conf = m->conf;
			post.ctx = ctx;
			post.url = m->url;
			post.headers = headers;
			post.secrets = secrets;
			post.body = body;
			post.what = m->what;
			rc = lv_llm_send(&post, &resp, &tries);
			free(body);
			if (rc != LV_OK || resp.status < 200 || resp.status >= 300)
				rc = lv_llm_fail(err, "internal_error", m->conf, rc, &resp, tries, secrets);
			else if ((verdict = read_results(resp.body, count, start, out)) < 0)
				LV_WARN("%s: attempt %d of %d: the answer did not have one result per text", m->what,
				        attempt + 1, LV_LLM_ATTEMPTS);
			lv_http_response_free(&resp);
		}
		if (rc == LV_OK && verdict < 0)
			rc = lv_provider_fail(err, "internal_error", 1,
			                      "provider '%s' answered %d times without one moderation result per text; check "
			                      "providers.%s.base_url (it must be an OpenAI-compatible moderation endpoint)",
			                      m->conf->name, LV_LLM_ATTEMPTS, m->conf->name);
	}
	lv_provider_free_secret(auth);
	return rc;
}

static const lv_moderation_ops moderation_ops = { LV_PROVIDER_ABI_VERSION, moderation_check };

static void moderation_destroy(void *self)
{
	openai_moderation *m = self;
	if (!m)
		return;
	free(m->url);
	free(m);
}

/* lvctl doctor --online: list the models with the key. */
static int openai_moderation_ping(void *self, lv_provider_error *err)
{
	const openai_moderation *x = self;
	return lv_llm_ping_models(x->conf, x->url, "/moderations", err);
}

int lv_provider_openai_moderation_create(lv_provider *p, const lv_provider_conf *conf)
{
	static const char *const keys[] = { "model", "batch_size", NULL };
	openai_moderation *m;
	if (lv_provider_check_keys(conf, keys))
		return LV_ECONFIG;
	if (!conf->api_key_env)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.api_key_env: is required: the name of the environment variable "
		                    "holding the OpenAI API key (e.g. \"OPENAI_API_KEY\")",
		                    conf->name);
	if (!(m = lv_calloc(1, sizeof(*m))))
		return LV_ENOMEM;
	m->conf = conf;
	if (lv_provider_conf_str(&m->model, conf, "model", DEFAULT_MODEL) ||
	    lv_llm_conf_int(conf, "batch_size", DEFAULT_BATCH, 1, 1000, &m->batch)) {
		moderation_destroy(m);
		return LV_ECONFIG;
	}
	m->url = lv_llm_openai_url(conf->base_url ? conf->base_url : "https://api.openai.com/v1", "/moderations");
	if (!m->url) {
		moderation_destroy(m);
		return LV_ENOMEM;
	}
	snprintf(m->what, sizeof(m->what), "provider '%s'", conf->name);
	p->self = m;
	p->moderation = &moderation_ops;
	p->destroy = moderation_destroy;
	p->ping = openai_moderation_ping;
	return LV_OK;
}
