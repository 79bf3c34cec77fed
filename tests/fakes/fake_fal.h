/*
 * A fake fal.ai queue (and its platform API) answering as fal documents:
 *   POST /{endpoint}                          (Authorization: Key <key>) -> {"request_id", "status_url",
 *        "response_url", "cancel_url", "queue_position"}; the body is the model's input
 *   GET  /{app}/requests/{id}/status          -> {"status": "IN_QUEUE", "queue_position"} | IN_PROGRESS |
 *        COMPLETED (with "error" and "error_type" when the request failed)
 *   GET  /{app}/requests/{id}                 -> {"video": {"url": ".../media/{id}.mp4", ...}} or, failed,
 *        500 {"detail": "..."}
 *   PUT  /{app}/requests/{id}/cancel          -> 202 {"status": "CANCELLATION_REQUESTED"}
 *   GET  /v1/models/requests/by-endpoint      -> {"items": [{"request_id", "endpoint_id", "sent_at",
 *        "json_input"}], "next_cursor": null, "has_more": false}
 *   GET  /media/{id}.mp4                      the clip (a CDN: no key)
 * Errors are {"detail": ...}: 401 for another key, 422 for an input without a prompt.  Jobs, failures and
 * scripts are in `jobs` (fake_jobs.h); the app is the endpoint's first two path segments.
 */
#ifndef LV_TEST_FAKE_FAL_H
#define LV_TEST_FAKE_FAL_H

#include "fakes/fake_jobs.h"

typedef struct fake_fal {
	lv_fake *f;
	fake_jobs jobs;
	fake_arena arena;
	char app[128];  /* "fal-ai/kling-video": requests are under it */
} fake_fal;

/* Start serving endpoints under `app`; clips are made in clip_dir. */
fake_fal *fake_fal_start(const char *app, const char *clip_dir);
void fake_fal_stop(fake_fal *ff);
lv_fake *fake_fal_server(const fake_fal *ff);
const char *fake_fal_url(const fake_fal *ff);

#endif
