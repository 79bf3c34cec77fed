/*
 * A fake Gemini API serving Veo's long-running video operations as Google documents them:
 *   POST /v1beta/models/{model}:predictLongRunning  (x-goog-api-key) {"instances": [{"prompt",
 *        "referenceImages"?}], "parameters": {"aspectRatio", "resolution", "durationSeconds", ...}}
 *        -> {"name": "models/{model}/operations/{id}"}; 400 INVALID_ARGUMENT for a length other than 4, 6 or 8
 *   GET  /v1beta/models/{model}/operations/{id}  -> {"name", "done": false} until the end, then done with
 *        response.generateVideoResponse.generatedSamples[0].video.uri (a file of the API,
 *        /v1beta/files/{id}:download?alt=media, read with the key) or, failed, error {code, message, status};
 *        with jobs.fail_code "rai" the samples are empty and raiMediaFilteredCount is 1
 *   GET  /v1beta/models/{model}                  the model (what `lvctl doctor --online` reads)
 * Errors are {"error": {"code", "message", "status"}}; another key gets 400 INVALID_ARGUMENT "API key not
 * valid" as the Gemini API answers it.
 */
#ifndef LV_TEST_FAKE_VEO_H
#define LV_TEST_FAKE_VEO_H

#include "fakes/fake_jobs.h"

typedef struct fake_veo {
	lv_fake *f;
	fake_jobs jobs;
	fake_arena arena;
	int last_refs; /* referenceImages in the last submit */
} fake_veo;

fake_veo *fake_veo_start(const char *clip_dir);
void fake_veo_stop(fake_veo *fv);
lv_fake *fake_veo_server(const fake_veo *fv);
const char *fake_veo_url(const fake_veo *fv);

#endif
