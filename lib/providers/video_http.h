/*
 * Internal: what the HTTP video adapters (dashscope-video, openai-videos) share — URLs, the key as a
 * Bearer header, requests with the provider's timeouts and the retry policy from its config, reference
 * images as data URLs, vendor messages made safe to show, transport failures as task errors, the
 * request that asks a vendor to stop a job, the download of a finished clip and the doctor's ping.
 */
#ifndef LV_PROVIDERS_VIDEO_HTTP_H
#define LV_PROVIDERS_VIDEO_HTTP_H

#include <pthread.h>
#include <stddef.h>

#include "http/http.h"
#include "providers/provider.h"

/* The cap on an answer read into memory: the vendors' JSON answers are small. */
#define LV_VH_BODY_CAP ((size_t)1 << 20)

/* A vendor's JSON answer, parsed with the project's limits (size LV_VH_BODY_CAP, nesting depth); NULL when it
 * is not JSON.  Caller frees. */
cJSON *lv_vh_json(const lv_http_response *resp);

/* One call's credentials: the key from api_key_env, the Authorization header made from it, the secrets
 * list that keeps it out of every message, and the provider's name for messages. */
typedef struct lv_vh_call {
	const lv_provider_conf *conf;
	const char *key;
	char *auth;            /* "Authorization: Bearer <key>" */
	const char *secrets[2];
	char what[160];        /* "provider 'NAME'" */
} lv_vh_call;

/* Start a call: a missing key is a segment_failed error naming the variable.  A failed start holds
 * nothing (lv_vh_call_end is harmless after it). */
int lv_vh_call_begin(lv_vh_call *c, const lv_provider_conf *conf, lv_provider_error *err);

/* The same with the key in another header: `header_prefix` is everything before the key, e.g.
 * "Authorization: Key " (fal) or "x-goog-api-key: " (Google). */
int lv_vh_call_begin_as(lv_vh_call *c, const lv_provider_conf *conf, const char *header_prefix,
                        lv_provider_error *err);

/* The ping hook with the call's own header: GET url (lv_provider_ping_url). */
int lv_vh_ping_as(const lv_provider_conf *conf, const char *header_prefix, const char *url, lv_provider_error *err);

/* 1 when url is on the same scheme, host and port as base (the key may go with it). */
int lv_vh_same_host(const char *url, const char *base);

/* The job ids a provider instance has given to shots (the most recent LV_VH_KNOWN): a job found in a vendor's
 * list after a lost answer is adopted only when no shot holds it already. */
#define LV_VH_KNOWN 256
typedef struct lv_vh_known {
	pthread_mutex_t mu;
	char ids[LV_VH_KNOWN][64];
	size_t n;
} lv_vh_known;
void lv_vh_known_init(lv_vh_known *k);
void lv_vh_known_destroy(lv_vh_known *k);
void lv_vh_known_add(lv_vh_known *k, const char *id);
int lv_vh_known_has(lv_vh_known *k, const char *id);

/* Wait ms (in steps of at most 100 ms), or less when the task's cancel flag is set: LV_ECANCELED then. */
int lv_vh_wait(const lv_call_ctx *ctx, int64_t ms);

/* "YYYY-MM-DDThh:mm:ssZ" of a wall-clock time in ms. */
void lv_vh_iso_time(char *out, size_t cap, int64_t ms);

/* ---- a model's input object (job APIs that run any model: fal's queue, Replicate) -------------------------------
 * The fields a shot can fill, their names in the model's input (NULL: not sent), how the length and the
 * resolution are spelled, and static fields added to every input.  Read from a provider block's keys
 * `fields` ({"duration": "num_seconds", "seed": null, ...}), `duration_format` ("number" | "string" |
 * "seconds": "5s"), `resolution_format` ("720p" | "720P" | "none") and `extra_input` (an object). */
enum { LV_VH_IN_PROMPT, LV_VH_IN_DURATION, LV_VH_IN_ASPECT, LV_VH_IN_RESOLUTION, LV_VH_IN_SEED,
       LV_VH_IN_NEGATIVE, LV_VH_IN_IMAGE, LV_VH_IN_IMAGES, LV_VH_IN_COUNT };

typedef struct lv_vh_input {
	char *field[LV_VH_IN_COUNT];
	int duration_format;   /* 0 number, 1 string, 2 "5s" */
	int resolution_format; /* 0 "720p", 1 "720P", 2 not sent */
	cJSON *extra;
} lv_vh_input;

/* The block's `fields` object: names[k] gets the wire name of keys[k] (defaults[k] unless the object renames
 * it, or NULL when the object gives null).  An unknown key or a bad value is LV_ECONFIG naming it, listing
 * `known`; the field keys[prompt] cannot be left out. */
int lv_vh_field_names(char **names, const char *const *keys, const char *const *defaults, size_t n, size_t prompt,
                      const lv_provider_conf *conf, const char *known);

/* Parse the keys above; `defaults` gives each field's default name (NULL: not sent unless configured).
 * LV_ECONFIG naming the key on a bad value. */
int lv_vh_input_parse(lv_vh_input *in, const lv_provider_conf *conf, const char *const defaults[LV_VH_IN_COUNT]);
void lv_vh_input_free(lv_vh_input *in);

/* The input object for a shot; `refs` (n data URLs or https URLs) fill the image fields: IMAGE gets the
 * first, IMAGES all of them.  Our fields win over extra_input's.  NULL when out of memory. */
cJSON *lv_vh_input_build(const lv_vh_input *in, const lv_segment_job *job, const char *const *refs, size_t n);

/* How references reach the vendor (a provider's "reference_delivery"):
 *   auto    the storage's https URL of the object when it has one (S3 with public_base_url, or presigned),
 *           else a data URL within the byte budget (the default);
 *   url     always the storage's URL, http too (an error when the storage gives none: local storage);
 *   base64  always a data URL. */
enum { LV_VH_REF_AUTO = 0, LV_VH_REF_URL, LV_VH_REF_BASE64 };
/* Parse providers.<name>.reference_delivery into *mode (default auto); LV_ECONFIG naming it. */
int lv_vh_ref_mode_conf(int *mode, const lv_provider_conf *conf);

/* Reference i of a shot as the vendor gets it, by `mode`: the URL the job carries
 * (job->reference_urls[i]) or lv_vh_reference_url's data URL.  Caller frees *out. */
int lv_vh_reference(char **out, const lv_segment_job *job, size_t i, int mode, size_t max_bytes, int min_side,
                    size_t budget, const char *provider, lv_provider_error *err);

/* The data URLs of a shot's references within `budget` bytes in all (lv_vh_reference_url each), at most
 * `max` of them; *urls (n strings) freed with lv_vh_refs_free. */
int lv_vh_refs(char ***urls, size_t *n, const lv_segment_job *job, int mode, size_t max, size_t budget,
               const char *provider,
               lv_provider_error *err);
void lv_vh_refs_free(char **urls, size_t n);

/* A string at a dotted path in a JSON answer ("video.url", "output.0"): objects by key, arrays by index. */
const char *lv_vh_json_path(const cJSON *j, const char *path);

/* Wipe and free the Authorization header. */
void lv_vh_call_end(lv_vh_call *c);

/* A request under the call: its secrets and name, the provider's timeouts, answers up to LV_VH_BODY_CAP. */
void lv_vh_request(lv_http_request *req, const lv_vh_call *c, const char *method, const char *url,
                   const char *const *headers, const volatile int *cancel);

/* Perform a request with the provider's retry policy: a submit (is_submit) is retried only when nothing
 * can have been created, a status check always.  LV_OK when an answer arrived (any status); a failure
 * without one fills err through lv_vh_transport_error with `step` ("submit", "status check").  *attempts
 * (may be NULL) gets the number of tries; free resp in every case. */
int lv_vh_perform(const lv_vh_call *c, const lv_http_request *req, int is_submit, const char *step,
                  lv_http_response *resp, int *attempts, lv_provider_error *err);

/* GET url with the key as a status check (retried; a transport failure fills err).  As lv_vh_perform. */
int lv_vh_status_get(const lv_vh_call *c, const lv_call_ctx *ctx, const char *url, lv_http_response *resp,
                     lv_provider_error *err);

/* Keep the job id a 2xx submit answer gave (NULL: none) as st->job_id.  A missing id, or one not safe in a
 * URL (lv_vh_id_ok), is a segment_failed error that is not retried: the vendor may have started the job.
 * `noun` says what the vendor calls its jobs ("task", "video"). */
int lv_vh_job_id(lv_job_status *st, const char *id, const char *noun, const lv_provider_conf *conf, int shot,
                 lv_provider_error *err);

/* Ask the vendor to stop a job (`method` on `url` with the key): one try of at most 10 s, not aborted by
 * the task's cancel flag, which is already set.  Returns what lv_http_perform returned; free resp. */
int lv_vh_stop(const lv_vh_call *c, const char *method, const char *url, lv_http_response *resp);

/* Ask the vendor to stop a shot's job: `method` on `url` with the key in `header_prefix`'s header (as
 * lv_vh_call_begin_as), once, at most 10 s, and log the answer.  Returns what lv_vh_stop returned. */
int lv_vh_cancel(const lv_provider_conf *conf, const char *header_prefix, const char *method, const char *url,
                 const lv_segment_job *job);

/* How a vendor's error answer becomes a task error (the adapter's own mapping). */
typedef int (*lv_vh_http_error_fn)(lv_provider_error *err, const lv_vh_call *c, const lv_http_response *resp,
                                   int is_submit);

/* A status check: GET url under the call; a 2xx JSON answer into *j (caller frees).  An error answer goes
 * through on_error (404, 408, 409 and 425 made retryable: the job goes on), an answer that is not JSON is a
 * retryable segment_failed. */
int lv_vh_get_json(const lv_vh_call *c, const lv_call_ctx *ctx, const char *url, lv_vh_http_error_fn on_error,
                   cJSON **j, lv_provider_error *err);

/* The ping hook (lvctl doctor --online): GET base + path with the key as a Bearer token. */
int lv_vh_ping(const lv_provider_conf *conf, const char *base, const char *path, lv_provider_error *err);

/* The base URL without trailing slashes (caller frees); NULL and LV_ENOMEM on failure. */
char *lv_vh_base(const char *base_url);

/* The retry policy for one call: the provider's max_retries, exponential backoff from 500 ms capped at
 * 10 s (so that a Retry-After of up to 40 s is honoured and a driver thread is never held longer). */
void lv_vh_policy(lv_retry_policy *p, const lv_provider_conf *conf, int idempotent);

/* 1 if a model path ("owner/name/sub") is safe in a URL: 1-8 segments, each as lv_vh_id_ok. */
int lv_vh_path_ok(const char *path);

/* 1 if a vendor's job id is safe to put in a URL path as it is ([A-Za-z0-9._:-], 1-200 chars). */
int lv_vh_id_ok(const char *id);

/* A reference image file as a data URL "data:<mime>;base64,<data>" (caller frees).  PNG, JPEG and WebP
 * are recognised by their magic bytes; files over max_bytes, or PNGs whose short side is under min_side
 * (0: no check), are refused with an anchor-related message naming the provider. */
int lv_vh_data_url(char **out, const char *path, size_t max_bytes, int min_side, const char *provider,
                   lv_provider_error *err);

/* A reference image as the vendor gets it within a per-image budget of `budget` bytes of URL text: the file's
 * own data URL (lv_vh_data_url's checks) when it fits, else the picture re-encoded as JPEG with its short side
 * at most 1024 px (then 768, then 512) until it fits — never below min_side.  A picture that fits at no size
 * is refused naming the budget. */
int lv_vh_reference_url(char **out, const char *path, size_t max_bytes, int min_side, size_t budget,
                        const char *provider, lv_provider_error *err);

/* A vendor's message made safe to show: one line of printable text, at most cap-1 bytes (cut on a UTF-8
 * boundary), with the secret (if any) starred out. */
void lv_vh_summary(char *out, size_t cap, const char *msg, const char *secret);

/* A failure without an HTTP response (rc from lv_http_perform*) as a task error.  For a submit, only a
 * request that never reached the vendor is retryable (it cannot have created a job); polls and downloads
 * always are.  Returns LV_ECANCELED for a cancel, else LV_EPROVIDER. */
int lv_vh_transport_error(lv_provider_error *err, const char *provider, const char *what, int rc,
                          const lv_http_response *resp, int is_submit);

/* Download a vendor's result file to out_path (GET, retried as idempotent; whole or not at all) with the
 * errors lv_vh_download gives, `what` naming it in messages ("clip", "image", "audio"), `code` the task
 * error code and `shot` the shot it is for (-1: none). */
int lv_vh_fetch_file(const lv_provider_conf *conf, const lv_call_ctx *ctx, const char *url,
                     const char *const *headers, const char *const *secrets, const char *out_path, const char *what,
                     const char *code, int shot, lv_provider_error *err);

/* Fetch the clip whose URL the job's state keeps ({"video_url"}): the key (in header_prefix's header) goes
 * with it only when the URL is on `base`'s host.  No URL yet is a retryable segment_failed. */
int lv_vh_fetch_state_clip(const lv_provider_conf *conf, const char *header_prefix, const char *base,
                           const lv_call_ctx *ctx, const lv_segment_job *job, const char *out_path,
                           lv_provider_error *err);

/* Download a finished clip to out_path (GET, retried as idempotent; the file appears whole or not at all)
 * and check that it is a video.  headers may carry the vendor's key (then list it in secrets); a result
 * URL on another host must be fetched without it. */
int lv_vh_download(const lv_provider_conf *conf, const lv_call_ctx *ctx, const char *url,
                   const char *const *headers, const char *const *secrets, const char *out_path, int shot,
                   lv_provider_error *err);

/* Reading a status check's answer (pure functions: no I/O; any HTTP status), as each adapter's poll does:
 * the job's state into *st, or the vendor's error into *err.  poll_ms is the provider's default wait.
 * tests/fuzz calls them with vendors' answers. */
int lv_ds_read_status(const lv_vh_call *c, const lv_http_response *resp, const lv_segment_job *job, int64_t poll_ms,
                      lv_job_status *st, lv_provider_error *err);
int lv_oa_videos_read_status(const lv_vh_call *c, const lv_http_response *resp, const lv_segment_job *job,
                             int64_t poll_ms, lv_job_status *st, lv_provider_error *err);
/* ComfyUI: the body of GET /history/{prompt_id} for the job (self is a comfyui provider); *found is 0 while the
 * prompt is not in it (still queued or running), else *st is the finished run's state. */
int lv_comfy_read_history(const void *self, const char *body, size_t len, const lv_segment_job *job, int *found,
                          lv_job_status *st, lv_provider_error *err);

#endif
