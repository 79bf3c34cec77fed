/* Shared HTTP and error handling of the OpenAI image and speech adapters. */
#include "providers/openai_media.h"
#include "util/error.h"
#include "util/json.h"
#include "util/mem.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int opt_string(char **out, const lv_provider_conf *conf, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf->json, key);
	*out = NULL;
	if (!v)
		return LV_OK;
	if (!cJSON_IsString(v) || !*v->valuestring || strpbrk(v->valuestring, "\r\n"))
		return lv_error_set(LV_ECONFIG, "config: providers.%s.%s: must be a non-empty one-line string", conf->name,
		                    key);
	return (*out = lv_strdup(v->valuestring)) ? LV_OK : LV_ENOMEM;
}

int lv_oai_init(lv_oai *o, const lv_provider_conf *conf)
{
	size_t n;
	memset(o, 0, sizeof(*o));
	o->conf = conf;
	if (!conf->api_key_env)
		return lv_error_set(LV_ECONFIG,
		                    "config: providers.%s.api_key_env: is required (the environment variable holding the "
		                    "API key, e.g. \"OPENAI_API_KEY\")",
		                    conf->name);
	if (!(o->base = lv_strdup(conf->base_url ? conf->base_url : "https://api.openai.com")))
		return LV_ENOMEM;
	/* "https://host/v1" and "https://host" both work: the paths carry "/v1". */
	n = strlen(o->base);
	while (n > 0 && o->base[n - 1] == '/')
		o->base[--n] = '\0';
	if (n >= 3 && !strcmp(o->base + n - 3, "/v1"))
		o->base[n - 3] = '\0';
	if (opt_string(&o->organization, conf, "organization") || opt_string(&o->project, conf, "project")) {
		int rc = lv_error_last()->status;
		lv_oai_clear(o);
		return rc;
	}
	return LV_OK;
}

void lv_oai_clear(lv_oai *o)
{
	free(o->base);
	free(o->organization);
	free(o->project);
	memset(o, 0, sizeof(*o));
}

int lv_oai_model_is(const char *model, const char *prefix)
{
	return model && !strncmp(model, prefix, strlen(prefix));
}

static int transport_fail(const lv_oai *o, int rc, const lv_http_response *resp, const char *code,
                          lv_provider_error *err)
{
	if (rc == LV_ECANCELED)
		return rc;
	if (rc == LV_ETIMEOUT)
		return lv_provider_fail(err, "provider_timeout", 1,
		                        "provider '%s' did not answer within %ld ms; try again later or raise its "
		                        "timeout_ms",
		                        o->conf->name, o->conf->timeout_ms);
	return lv_provider_fail(err, code, 1, "provider '%s' cannot be reached (%s); check base_url and the network",
	                        o->conf->name, resp->error[0] ? resp->error : "network error");
}

static int exchange(const lv_oai *o, const lv_call_ctx *ctx, const char *method, const char *url, const char *json,
                    int with_key, const char *code, lv_http_response *resp, lv_provider_error *err)
{
	const char *key = NULL, *headers[6], *secrets[2] = { NULL, NULL };
	char *auth = NULL, *org = NULL, *proj = NULL, what[96];
	size_t nh = 0;
	lv_http_request req;
	lv_retry_policy pol = { o->conf->max_retries, 500, 30000, 1 };
	int rc;
	memset(resp, 0, sizeof(*resp));
	if (with_key) {
		if (lv_provider_api_key(o->conf, code, &key, err))
			return LV_EPROVIDER; /* a missing key is the operator's to fix, in the stage's terms */
		secrets[0] = key;
		if (!(auth = lv_asprintf("Authorization: Bearer %s", key)))
			return lv_provider_fail(err, "internal_error", 1, "out of memory");
		headers[nh++] = auth;
		if (o->organization && (org = lv_asprintf("OpenAI-Organization: %s", o->organization)))
			headers[nh++] = org;
		if (o->project && (proj = lv_asprintf("OpenAI-Project: %s", o->project)))
			headers[nh++] = proj;
	}
	if (json)
		headers[nh++] = "Content-Type: application/json";
	headers[nh] = NULL;
	snprintf(what, sizeof(what), "provider '%s'", o->conf->name);
	lv_provider_request(&req, o->conf, method, url, headers, secrets, what);
	req.body = json;
	req.body_len = json ? strlen(json) : 0;
	req.cancel = ctx ? ctx->cancel : NULL;
	rc = lv_http_perform_retry(&req, &pol, resp, NULL);
	lv_provider_free_secret(auth);
	free(org);
	free(proj);
	return rc ? transport_fail(o, rc, resp, code, err) : LV_OK;
}

int lv_oai_post(const lv_oai *o, const lv_call_ctx *ctx, const char *path, const char *json, const char *code,
                const char *doing, lv_http_response *resp, lv_provider_error *err)
{
	char *url = lv_asprintf("%s%s", o->base, path);
	int rc;
	memset(resp, 0, sizeof(*resp));
	if (!url)
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	rc = exchange(o, ctx, "POST", url, json, 1, code, resp, err);
	free(url);
	if (rc == LV_OK && resp->status != 200)
		rc = lv_oai_fail(o, resp, code, doing, err);
	if (rc)
		lv_http_response_free(resp);
	return rc;
}

int lv_oai_get_url(const lv_oai *o, const lv_call_ctx *ctx, const char *url, const char *code,
                   lv_http_response *resp, lv_provider_error *err)
{
	return exchange(o, ctx, "GET", url, NULL, 0, code, resp, err);
}

/* error.code / error.type / error.param of an OpenAI error body (any may be NULL). */
static cJSON *error_fields(const lv_http_response *resp, const char **code, const char **type, const char **param,
                           const char **message)
{
	cJSON *j = resp->body ? lv_json_parse_n(resp->body, resp->body_len) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	*code = *type = *param = *message = NULL;
	if (cJSON_IsObject(e)) {
		*code = lv_json_get_str(e, "code");
		*type = lv_json_get_str(e, "type");
		*param = lv_json_get_str(e, "param");
		*message = lv_json_get_str(e, "message");
	}
	return j;
}

/* Keep a short token of safe characters (codes, parameter names). */
static void token(char *out, size_t cap, const char *s)
{
	size_t i = 0;
	for (; s && *s && i + 1 < cap; s++)
		if (isalnum((unsigned char)*s) || strchr("_-.[]/ ,", *s))
			out[i++] = *s;
	out[i] = '\0';
}

int lv_oai_is_safety_refusal(const lv_http_response *resp, char *categories, size_t cap)
{
	const char *code, *type, *param, *message;
	cJSON *j = error_fields(resp, &code, &type, &param, &message);
	int yes = resp->status == 400 && code &&
	          (!strcmp(code, "content_policy_violation") || !strcmp(code, "moderation_blocked"));
	if (categories && cap) {
		const cJSON *md = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "error"),
		                                                   "moderation_details");
		const cJSON *c;
		categories[0] = '\0';
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(md, "categories"))
		{
			char t[40];
			if (!cJSON_IsString(c))
				continue;
			token(t, sizeof(t), c->valuestring);
			if (strlen(categories) + strlen(t) + 3 < cap)
				snprintf(categories + strlen(categories), cap - strlen(categories), "%s%s",
				         categories[0] ? ", " : "", t);
		}
		/* The message also names them: "... safety_violations=[violence]." */
		if (!categories[0] && message) {
			const char *p = strstr(message, "safety_violations=[");
			if (p) {
				const char *e = strchr(p, ']');
				char t[128];
				size_t n = e ? (size_t)(e - p - 19) : 0;
				snprintf(t, sizeof(t), "%.*s", (int)(n < sizeof(t) - 1 ? n : sizeof(t) - 1), p + 19);
				token(categories, cap, t);
			}
		}
	}
	cJSON_Delete(j);
	return yes;
}

int lv_oai_fail(const lv_oai *o, const lv_http_response *resp, const char *code, const char *doing,
                lv_provider_error *err)
{
	const char *ecode, *etype, *eparam, *emsg, *name = o->conf->name;
	char c[64] = "", p[64] = "", cats[128] = "";
	long s = resp->status;
	cJSON *j;
	int rc;
	if (lv_oai_is_safety_refusal(resp, cats, sizeof(cats)))
		return lv_provider_fail(err, code, 0,
		                        "provider '%s' refused %s: OpenAI's safety system blocked it%s%s%s; rephrase the "
		                        "prompt (or the character's description) and create the video again",
		                        name, doing, cats[0] ? " (" : "", cats, cats[0] ? ")" : "");
	j = error_fields(resp, &ecode, &etype, &eparam, &emsg);
	(void)emsg; /* the vendor's text may carry request ids: only codes and names are repeated */
	token(c, sizeof(c), ecode ? ecode : etype);
	token(p, sizeof(p), eparam);
	cJSON_Delete(j);
	if (s == 401)
		rc = lv_provider_fail(err, code, 0,
		                      "provider '%s' did not accept the API key in %s (HTTP 401); check the key", name,
		                      o->conf->api_key_env);
	else if (s == 403)
		rc = lv_provider_fail(err, code, 0,
		                      "provider '%s' is not allowed %s (HTTP 403%s%s); check the account's access to the "
		                      "model (some models need a verified organization)",
		                      name, doing, c[0] ? ": " : "", c);
	else if (s == 404)
		rc = lv_provider_fail(err, code, 0,
		                      "provider '%s': the model or endpoint was not found (HTTP 404%s%s); check model and "
		                      "base_url",
		                      name, c[0] ? ": " : "", c);
	else if (s == 429 && !strcmp(c, "insufficient_quota"))
		rc = lv_provider_fail(err, code, 0,
		                      "provider '%s': the account's quota is used up (insufficient_quota); check its billing",
		                      name);
	else if (s == 429)
		rc = lv_provider_fail(err, code, 1,
		                      "provider '%s' is rate limiting %s (HTTP 429) beyond the retries allowed; try again "
		                      "later or raise max_retries",
		                      name, doing);
	else if (s >= 500)
		rc = lv_provider_fail(err, code, 1,
		                      "provider '%s' failed %s (HTTP %ld, a server error) after its retries; try again later",
		                      name, doing, s);
	else
		rc = lv_provider_fail(err, code, 0,
		                      "provider '%s' rejected %s (HTTP %ld%s%s%s%s); check the settings of providers.%s",
		                      name, doing, s, c[0] ? ": " : "", c, p[0] ? ", parameter " : "", p, name);
	return rc;
}
