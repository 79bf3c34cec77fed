/*
 * Internal: what the `openai-images` and `openai-speech` adapters share — the server root, the
 * Bearer key from api_key_env, JSON POSTs with retries, and OpenAI's error object turned into a
 * task error that names the provider and says what to do (never the vendor's own message text,
 * which can carry request ids).
 */
#ifndef LV_PROVIDERS_OPENAI_MEDIA_H
#define LV_PROVIDERS_OPENAI_MEDIA_H

#include "http/http.h"
#include "providers/provider.h"

typedef struct lv_oai {
	const lv_provider_conf *conf;
	char *base;          /* server root without a trailing "/" or "/v1" */
	char *organization;  /* OpenAI-Organization header value, or NULL */
	char *project;       /* OpenAI-Project header value, or NULL */
} lv_oai;

/* The common keys of the block: base_url (default https://api.openai.com), organization, project.
 * api_key_env is required.  Config errors name the key. */
int lv_oai_init(lv_oai *o, const lv_provider_conf *conf);
void lv_oai_clear(lv_oai *o);

/*
 * POST {base}{path} (path starts with "/v1/") with a JSON body and the key as a Bearer token.
 * Retries 408/409/429/5xx and network failures up to max_retries with backoff, honouring
 * Retry-After: these calls are synchronous and leave no job behind, and OpenAI asks clients to
 * retry them.  LV_OK when a 200 answer arrived (free resp).  Another status fills err through
 * lv_oai_fail with `code` and `doing`; transport failures fill err with `code` (or provider_timeout)
 * and return LV_EPROVIDER, or LV_ECANCELED.  On failure resp holds nothing.
 */
int lv_oai_post(const lv_oai *o, const lv_call_ctx *ctx, const char *path, const char *json, const char *code,
                const char *doing, lv_http_response *resp, lv_provider_error *err);

/* GET an absolute URL without credentials (an image the vendor hands back by URL) into memory. */
int lv_oai_get_url(const lv_oai *o, const lv_call_ctx *ctx, const char *url, const char *code,
                   lv_http_response *resp, lv_provider_error *err);

/* Is the answer an OpenAI safety refusal?  categories (may be NULL) gets what it names, e.g. "violence". */
int lv_oai_is_safety_refusal(const lv_http_response *resp, char *categories, size_t cap);

/*
 * A non-2xx answer as a task error with `code` ("anchor_failed", "audio_failed").  `doing` says what was
 * asked ("drawing the character 'Mei'").  Returns LV_EPROVIDER.
 */
int lv_oai_fail(const lv_oai *o, const lv_http_response *resp, const char *code, const char *doing,
                lv_provider_error *err);

/* 1 if the model name starts with prefix. */
int lv_oai_model_is(const char *model, const char *prefix);

#endif
