/* The DashScope adapters' shared parts (dashscope.h). */
#include "providers/dashscope.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The region a base URL points at, for messages. */
static const char *region_of(const char *base)
{
	return strstr(base, LV_DS_INTL_HOST) ? "Singapore (international)"
	       : strstr(base, "dashscope.aliyuncs.com") ? "Beijing (China mainland)"
	                                                : "a custom endpoint";
}

/* ---- errors ---------------------------------------------------------------------------------------------- */

static int code_is(const char *code, const char *prefix)
{
	return code && !strncmp(code, prefix, strlen(prefix));
}

/* A vendor error code and message (from an error envelope or a FAILED task) as a task error. */
int lv_ds_error(lv_provider_error *err, const lv_vh_call *c, const lv_ds_what *w, long http_status, const char *code,
                const char *message, int is_submit)
{
	const char *name = c->conf->name, *base = c->conf->base_url ? c->conf->base_url : LV_DS_DEFAULT_BASE;
	char msg[200];
	lv_vh_summary(msg, sizeof(msg), message && *message ? message : "no details", c->key);
	if (!code || !*code)
		code = http_status ? "HTTP error" : "unknown error";
	if (code_is(code, "DataInspectionFailed") || code_is(code, "IPInfringementSuspect"))
		return lv_provider_fail(err, "moderation_rejected", 0,
		                        "provider '%s' refused the %s's content (%s: %s); rephrase the prompt", name, w->noun,
		                        code, msg);
	if (code_is(code, "InvalidApiKey") || http_status == 401)
		return lv_provider_fail(err, w->code, 0,
		                        "provider '%s' rejected the API key (%s); check the key in $%s; keys belong to one "
		                        "region and base_url %s is %s (Beijing: https://dashscope.aliyuncs.com, Singapore: "
		                        "https://" LV_DS_INTL_HOST ")",
		                        name, code, c->conf->api_key_env, base, region_of(base));
	if (code_is(code, "Arrearage"))
		return lv_provider_fail(err, w->code, 0,
		                        "provider '%s' refused the request: the account is not in good standing (%s); "
		                        "check its billing",
		                        name, code);
	if (code_is(code, "AccessDenied") || code_is(code, "Model.AccessDenied") || code_is(code, "ModelNotFound") ||
	    http_status == 403)
		return lv_provider_fail(err, w->code, 0,
		                        "provider '%s' refused access (%s: %s); check the model names in providers.%s and "
		                        "that the key's region matches base_url %s (%s)",
		                        name, code, msg, name, base, region_of(base));
	if (code_is(code, "Throttling") || http_status == 429)
		return lv_provider_fail(err, w->code, 1,
		                        "provider '%s' is throttling requests (%s: %s); it will be tried again later", name,
		                        code, msg);
	if (code_is(code, "InternalError") || code_is(code, "SystemError") || code_is(code, "ServiceUnavailable") ||
	    http_status >= 500) {
		if (is_submit) /* the vendor may have created the job: never pay twice */
			return lv_provider_fail(err, w->code, 0,
			                        "provider '%s' failed while accepting the %s (%s: %s); it may have started "
			                        "the job, so it is not sent again",
			                        name, w->noun, code, msg);
		return lv_provider_fail(err, w->code, 1, "provider '%s' failed the %s (%s: %s)", name, w->noun, code,
		                        msg);
	}
	return lv_provider_fail(err, w->code, 0,
	                        "provider '%s' rejected the request: %s (%s); check providers.%s", name, code, msg, name);
}

int lv_ds_http_error(lv_provider_error *err, const lv_vh_call *c, const lv_ds_what *w, const lv_http_response *resp,
                     const char *step, int is_submit)
{
	cJSON *j = lv_vh_json(resp);
	const char *code = lv_json_get_str(j, "code"), *message = lv_json_get_str(j, "message"),
	           *rid = lv_json_get_str(j, "request_id");
	int rc;
	LV_WARN("provider '%s': %s answered HTTP %ld %s (request_id %s)", c->conf->name, step, resp->status,
	        code ? code : "", rid ? rid : "none");
	rc = lv_ds_error(err, c, w, resp->status, code, message, is_submit);
	cJSON_Delete(j);
	return rc;
}

int lv_ds_read_task(const lv_vh_call *c, const lv_ds_what *w, const lv_http_response *resp, cJSON **j,
                    lv_provider_error *err)
{
	int rc = LV_OK;
	*j = NULL;
	if (resp->status < 200 || resp->status >= 300) {
		rc = lv_ds_http_error(err, c, w, resp, "status check", 0);
		/* A poll error other than a rejected key or access is transient: the job itself goes on. */
		if (resp->status == 404 || resp->status == 408 || resp->status == 409 || resp->status == 425)
			err->retryable = 1;
	} else if (!(*j = lv_vh_json(resp)) ||
	           !lv_json_get_str(cJSON_GetObjectItemCaseSensitive(*j, "output"), "task_status")) {
		cJSON_Delete(*j);
		*j = NULL;
		rc = lv_provider_fail(err, w->code, 1,
		                      "provider '%s' answered a status check with something that is not a task; will ask "
		                      "again",
		                      c->conf->name);
	}
	return rc;
}

int lv_ds_get_task(const char *base, const lv_vh_call *c, const lv_call_ctx *ctx, const lv_ds_what *w,
                   const char *task_id, cJSON **j, lv_provider_error *err)
{
	lv_http_response resp;
	char *url;
	int rc;
	*j = NULL;
	if (!task_id || !lv_vh_id_ok(task_id))
		return lv_provider_fail(err, "internal_error", 0, "provider '%s': the stored job id is not a DashScope task id",
		                        c->conf->name);
	if (!(url = lv_asprintf("%s/api/v1/tasks/%s", base, task_id)))
		return lv_provider_fail(err, "internal_error", 1, "out of memory");
	rc = lv_vh_status_get(c, ctx, url, &resp, err);
	free(url);
	if (rc == LV_OK)
		rc = lv_ds_read_task(c, w, &resp, j, err);
	lv_http_response_free(&resp);
	return rc;
}

int lv_ds_ping(const lv_provider_conf *conf, const char *base, lv_provider_error *err)
{
	return lv_vh_ping(conf, base, "/api/v1/tasks/00000000-0000-0000-0000-000000000000", err);
}
