/*
 * Internal: what the LLM-backed adapters share (anthropic, openai-chat, openai-moderation).
 *
 * - The storyboard JSON schema (SPEC §4), one definition used as Anthropic's tool `input_schema` and as
 *   OpenAI's `response_format.json_schema.schema`.  It stays inside the subset every vendor's strict
 *   mode accepts: every property required, `additionalProperties: false`, no length or count limits
 *   (the plan's shot count and durations are stated in the prompt and checked by the pipeline).
 * - The prompt text that asks for a storyboard of exactly the planned shots, in the task's language,
 *   with a speaking budget per shot, and that carries the validator's feedback on a retry.
 * - The moderation classifier schema and prompt used when a chat model moderates.
 * - One POST with bounded retries on transient outcomes, and the mapping of a failed exchange to a task
 *   error code and a message a user can act on (never the key, never a raw vendor body).
 */
#ifndef LV_PROVIDERS_LLM_H
#define LV_PROVIDERS_LLM_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "http/http.h"
#include "providers/provider.h"

/* The name of the storyboard tool (Anthropic) and of the json_schema (OpenAI). */
#define LV_LLM_STORYBOARD_NAME "write_storyboard"
#define LV_LLM_MODERATION_NAME "moderation_verdict"

/* How many times an adapter asks again, inside one call, when the answer was cut off (max_tokens /
 * length) or is not a usable storyboard; the second time with twice the output budget. */
#define LV_LLM_ATTEMPTS 2

/* ---- storyboard ------------------------------------------------------------------------------- */

/* The storyboard JSON schema (a new object; caller deletes). */
cJSON *lv_llm_storyboard_schema(void);

/* The system prompt for storyboards (static text). */
const char *lv_llm_storyboard_system(void);

/* The user prompt for a request: the idea, the language, the aspect ratio, every planned shot with its
 * duration and narration budget (seconds and roughly how many words or characters), the pipeline's
 * feedback (req->feedback) and `extra` (what was wrong with this adapter's previous answer, or NULL).
 * `closing` is the last sentence (how to answer).  With `with_schema`, the schema is written out too
 * (for servers that only have a JSON mode).  Caller frees. */
char *lv_llm_storyboard_prompt(const lv_script_request *req, const char *extra, const char *closing,
                               int with_schema);

/* Whether `sb` has the storyboard's shape: an object with title and style strings, characters
 * [{id,name,description}] and shots [{index,duration,camera,visual,narration,characters?}] of the right
 * types.  The plan itself (shot count, durations, narration length) is the pipeline's check.  On failure
 * returns LV_EINVALID and writes a one-line reason into `why`. */
int lv_llm_storyboard_check(const cJSON *sb, char *why, size_t cap);

/* ---- moderation by a chat model -------------------------------------------------------------------- */

/* The verdict schema {flagged, categories[], index} (a new object; caller deletes). */
cJSON *lv_llm_moderation_schema(void);
const char *lv_llm_moderation_system(void);
/* The texts (numbered) and the categories to check against.  Caller frees. */
char *lv_llm_moderation_prompt(const char *const *texts, size_t n, const char *const *categories,
                               size_t n_categories, int with_schema);
/* Read a verdict into `out`.  LV_EINVALID (reason in `why`) when it does not have the schema's shape. */
int lv_llm_moderation_verdict(const cJSON *v, size_t n_texts, lv_moderation_result *out, char *why, size_t cap);

/* ---- model output -------------------------------------------------------------------------------------- */

/* Parse a JSON object out of a model's text answer: plain JSON, JSON inside ``` fences, or JSON with
 * words around it.  NULL when there is none. */
cJSON *lv_llm_parse_text(const char *text);

/* ---- transport ------------------------------------------------------------------------------------------- */

/* A URL from a configured base and a path: "https://api.anthropic.com" + "/v1/messages".  Trailing
 * slashes of the base are dropped.  Caller frees. */
char *lv_llm_url(const char *base, const char *path);

/* The OpenAI-style base: the configured base_url as the OpenAI SDKs take it (it includes the API
 * version, "https://api.openai.com/v1"); a base with no path at all gets "/v1".  Caller frees. */
char *lv_llm_openai_base(const char *base_url);

/* An endpoint on an OpenAI-style server: lv_llm_openai_base(base_url) followed by `endpoint`
 * ("/chat/completions").  Caller frees; NULL when out of memory. */
char *lv_llm_openai_url(const char *base_url, const char *endpoint);

typedef struct lv_llm_post {
	const lv_provider_conf *conf;    /* timeouts, max_retries, name */
	const lv_call_ctx *ctx;          /* cancel */
	const char *url;
	const char *const *headers;
	const char *const *secrets;      /* the key: redacted from anything we say */
	const char *body;
	const char *what;                /* "provider 'claude'" */
	long timeout_ms;                 /* > 0: this request's timeout instead of conf->timeout_ms */
} lv_llm_post;

/* POST JSON, retrying transient outcomes up to conf->max_retries times with exponential backoff and
 * full jitter: failures to connect, timeouts, dropped connections, 408, 409, 429 and 5xx (529
 * included); Retry-After / retry-after-ms and `x-should-retry` are honoured, and a 429 that is a
 * spent quota (insufficient_quota, billing) is not retried.  A model call creates nothing at the
 * vendor, so resending it is safe (the vendors' own SDKs do the same).  Returns what
 * lv_http_perform returned for the last try; *attempts gets the number of tries. */
int lv_llm_send(const lv_llm_post *p, lv_http_response *resp, int *attempts);

/* The vendor's error, summarised: `type` and `code` identifiers and a short message (control
 * characters dropped, secrets redacted, at most about 160 bytes).  Empty strings when there is none. */
typedef struct lv_llm_vendor_error {
	char type[64];
	char code[64];
	char message[192];
} lv_llm_vendor_error;

void lv_llm_vendor_error_read(lv_llm_vendor_error *out, const char *body, const char *const *secrets);

/* Turn a failed exchange (rc != LV_OK, or a non-2xx status) into *err: `stage_code` ("script_failed",
 * "internal_error", ...) for most failures, "provider_timeout" for timeouts.  Messages name the
 * provider, the HTTP status and vendor error type, and what to do; retryable only for transient
 * failures.  Returns LV_ECANCELED when the call was canceled, else LV_EPROVIDER. */
int lv_llm_fail(lv_provider_error *err, const char *stage_code, const lv_provider_conf *conf, int rc,
                const lv_http_response *resp, int attempts, const char *const *secrets);

/* The API key for a call: from the environment variable conf->api_key_env.  When `optional` and no
 * variable is configured, *key is NULL and LV_OK.  A configured variable that is unset is an error
 * with `stage_code` naming the variable. */
int lv_llm_key(const lv_provider_conf *conf, int optional, const char *stage_code, const char **key,
               lv_provider_error *err);

/* The headers of an OpenAI-style call, NULL-terminated: "Content-Type: application/json", then
 * "Authorization: Bearer KEY" when there is a key (lv_llm_key with `optional` and `stage_code`).  *auth
 * holds that header (NULL without a key; free it with lv_provider_free_secret); secrets lists the key. */
int lv_llm_bearer_headers(const char *headers[3], const char *secrets[2], char **auth, const lv_provider_conf *conf,
                          int optional, const char *stage_code, lv_provider_error *err);

/* The URL of `url` with its last `suffix` replaced by `replacement` (caller frees); NULL if it does not end so. */
char *lv_llm_url_swap(const char *url, const char *suffix, const char *replacement);

/* The ping hook of an OpenAI-style server (lvctl doctor --online): GET the model list beside `url`, the
 * endpoint the provider posts to (its last `endpoint` replaced by "/models"), with the key as a Bearer
 * token when api_key_env is configured. */
int lv_llm_ping_models(const lv_provider_conf *conf, const char *url, const char *endpoint, lv_provider_error *err);

/* An integer config key in [lo, hi], or `fallback` when absent (lv_provider_conf_int as a long). */
int lv_llm_conf_int(const lv_provider_conf *conf, const char *key, long fallback, long lo, long hi, long *out);

/* ---- reading vendors' answers (pure functions: no I/O; tests/fuzz calls them) ------------------------------ */

/* Anthropic Messages, a 2xx answer: 0 the storyboard is in *out (caller frees); 1 retry (`problem` says why,
 * `extra` what to tell the model, *truncated when it ran out of tokens); 2 failed (*err is set). */
int lv_anthropic_read_answer(const lv_provider_conf *conf, const lv_http_response *resp, const char *const *secrets,
                             char **out, char *problem, size_t pcap, char *extra, size_t ecap, int *truncated,
                             lv_provider_error *err);
/* OpenAI chat completions, a 2xx body: 0 *obj is the JSON object answered (caller deletes); 1 retry (`problem`,
 * `extra`, *truncated as above); 2 the model refused. */
int lv_chat_read_answer(const char *body, cJSON **obj, int *truncated, char *problem, size_t pcap, char *extra,
                        size_t ecap);

#endif
