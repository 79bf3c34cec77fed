/*
 * Internal: what the HTTP video adapters (dashscope-video, openai-videos) share — URLs, the retry
 * policy from a provider's config, reference images as data URLs, vendor messages made safe to
 * show, transport failures as task errors, and the download of a finished clip.
 */
#ifndef LV_PROVIDERS_VIDEO_HTTP_H
#define LV_PROVIDERS_VIDEO_HTTP_H

#include <stddef.h>

#include "http/http.h"
#include "providers/provider.h"

/* Check a provider block's keys against the ones its type understands (registry.c). */
int lv_provider_check_keys(const lv_provider_conf *conf, const char *const *type_keys);

/* The base URL without trailing slashes (caller frees); NULL and LV_ENOMEM on failure. */
char *lv_vh_base(const char *base_url);

/* The retry policy for one call: the provider's max_retries, exponential backoff from 500 ms capped at
 * 10 s (so that a Retry-After of up to 40 s is honoured and a driver thread is never held longer). */
void lv_vh_policy(lv_retry_policy *p, const lv_provider_conf *conf, int idempotent);

/* 1 if a vendor's job id is safe to put in a URL path as it is ([A-Za-z0-9._:-], 1-200 chars). */
int lv_vh_id_ok(const char *id);

/* A reference image file as a data URL "data:<mime>;base64,<data>" (caller frees).  PNG, JPEG and WebP
 * are recognised by their magic bytes; files over max_bytes, or PNGs whose short side is under min_side
 * (0: no check), are refused with an anchor-related message naming the provider. */
int lv_vh_data_url(char **out, const char *path, size_t max_bytes, int min_side, const char *provider,
                   lv_provider_error *err);

/* A vendor's message made safe to show: one line of printable text, at most cap-1 bytes (cut on a UTF-8
 * boundary), with the secret (if any) starred out. */
void lv_vh_summary(char *out, size_t cap, const char *msg, const char *secret);

/* A failure without an HTTP response (rc from lv_http_perform*) as a task error.  For a submit, only a
 * request that never reached the vendor is retryable (it cannot have created a job); polls and downloads
 * always are.  Returns LV_ECANCELED for a cancel, else LV_EPROVIDER. */
int lv_vh_transport_error(lv_provider_error *err, const char *provider, const char *what, int rc,
                          const lv_http_response *resp, int is_submit);

/* Download a finished clip to out_path (GET, retried as idempotent; the file appears whole or not at all)
 * and check that it is a video.  headers may carry the vendor's key (then list it in secrets); a result
 * URL on another host must be fetched without it. */
int lv_vh_download(const lv_provider_conf *conf, const lv_call_ctx *ctx, const char *url,
                   const char *const *headers, const char *const *secrets, const char *out_path, int shot,
                   lv_provider_error *err);

#endif
