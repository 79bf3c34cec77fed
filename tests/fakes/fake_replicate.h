/*
 * A fake Replicate predictions API answering as Replicate documents:
 *   POST /v1/predictions              {"version", "input"} -> 201 {"id", "model", "version", "status": "starting",
 *                                     "input", "created_at", "urls": {"get", "cancel"}}
 *   GET  /v1/predictions/{id}         starting, processing, then succeeded (output: the clip's URL on the
 *                                     delivery host: http://localhost:PORT/delivery/{id}.mp4 here) or failed (error)
 *   POST /v1/predictions/{id}/cancel  -> the prediction, status canceled
 *   GET  /v1/predictions              {"results": [... newest first], "next": null, "previous": null}
 *   GET  /v1/account                  the token's account
 * Errors are problem details {"title", "detail", "status"}: 401 for another token, 422 for an input without a
 * prompt.  A "Prefer" header is refused with a 400: clips are long jobs.  Jobs, failures and scripts in `jobs`.
 */
#ifndef LV_TEST_FAKE_REPLICATE_H
#define LV_TEST_FAKE_REPLICATE_H

#include "fakes/fake_jobs.h"

typedef struct fake_replicate {
	lv_fake *f;
	fake_jobs jobs;
	fake_arena arena;
} fake_replicate;

fake_replicate *fake_replicate_start(const char *clip_dir);
void fake_replicate_stop(fake_replicate *fr);
lv_fake *fake_replicate_server(const fake_replicate *fr);
const char *fake_replicate_url(const fake_replicate *fr);

#endif
