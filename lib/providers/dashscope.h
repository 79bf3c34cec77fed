/*
 * Internal: what the DashScope adapters (dashscope-video, dashscope-image, dashscope-speech) share — the
 * default host and its regions, the error envelope {"code", "message", "request_id"} and the codes of
 * failed tasks turned into task errors, and the query of an asynchronous task.
 */
#ifndef LV_PROVIDERS_DASHSCOPE_H
#define LV_PROVIDERS_DASHSCOPE_H

#include "providers/video_http.h"

#define LV_DS_DEFAULT_BASE "https://dashscope.aliyuncs.com"
#define LV_DS_INTL_HOST "dashscope-intl.aliyuncs.com"

/* Who fails and how: the stage's task error code ("segment_failed", "anchor_failed", "audio_failed") and
 * what the request made, for messages ("shot", "image", "line"). */
typedef struct lv_ds_what {
	const char *code;
	const char *noun;
} lv_ds_what;

/* A vendor error code and message (an error envelope, or a FAILED task's output) as a task error.  Keys
 * refused (401, InvalidApiKey) and access refused (403) name base_url and its region.  A 5xx on a submit
 * is not retryable: the vendor may have created the task. */
int lv_ds_error(lv_provider_error *err, const lv_vh_call *c, const lv_ds_what *w, long http_status, const char *code,
                const char *message, int is_submit);

/* A non-2xx answer as lv_ds_error; the request id goes to the log only. */
int lv_ds_http_error(lv_provider_error *err, const lv_vh_call *c, const lv_ds_what *w, const lv_http_response *resp,
                     const char *step, int is_submit);

/* Read an answer to GET /api/v1/tasks/{id} (pure: no I/O; any HTTP status): *j gets the task (LV_OK) or err
 * is filled, as lv_ds_get_task says. */
int lv_ds_read_task(const lv_vh_call *c, const lv_ds_what *w, const lv_http_response *resp, cJSON **j,
                    lv_provider_error *err);

/* GET {base}/api/v1/tasks/{task_id}: *j the answer (with output.task_status) or err (a 404, 408, 409, 425 and
 * an answer that is not a task are retryable). */
int lv_ds_get_task(const char *base, const lv_vh_call *c, const lv_call_ctx *ctx, const lv_ds_what *w,
                   const char *task_id, cJSON **j, lv_provider_error *err);

/* lvctl doctor --online: query a task id that cannot exist with the key — the task API answers it with
 * status UNKNOWN when the key is valid, 401 InvalidApiKey when not. */
int lv_ds_ping(const lv_provider_conf *conf, const char *base, lv_provider_error *err);

#endif
