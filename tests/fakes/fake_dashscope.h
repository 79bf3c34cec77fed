/*
 * A fake DashScope (Alibaba Model Studio) serving HappyHorse's asynchronous video synthesis as documented:
 *   POST /api/v1/services/aigc/video-generation/video-synthesis  (X-DashScope-Async: enable)
 *        -> {"request_id", "output": {"task_id", "task_status": "PENDING"}}
 *   GET  /api/v1/tasks/{task_id}  -> PENDING, RUNNING, then SUCCEEDED with output.video_url (a signed URL on
 *        "object storage": GET /oss/{task_id}.mp4 here) and usage, or FAILED with output.code / message
 *   POST /api/v1/tasks/{task_id}/cancel
 *   GET  /api/v1/tasks?model_name=&start_time=&end_time=&page_no=&page_size=  the task list
 *   POST /api/v1/services/aigc/text2image/image-synthesis  (async) a picture task (Wan / Qwen-Image): RUNNING,
 *        then SUCCEEDED with output.results[0].url (a 1024x1024 PNG at /oss/{task_id}.png), or FAILED with
 *        image_fail_code
 *   POST /api/v1/services/aigc/multimodal-generation/generation  Qwen-TTS: output.audio.url (a WAV at
 *        /oss/tts-N.wav, 1.5 s), or tts_fail_code's error envelope
 * Status answers show the task's prompt as output.orig_prompt (unless jobs.hide_prompt); a submit can create
 * its job and lose the answer (jobs.lost_script).
 * Jobs, failures, scripted answers and counters are in `jobs` (fake_jobs.h).  With jobs.key set, a request
 * with another key gets DashScope's 401 InvalidApiKey, echoing the key it carried.
 */
#ifndef LV_TEST_FAKE_DASHSCOPE_H
#define LV_TEST_FAKE_DASHSCOPE_H

#include "fakes/fake_jobs.h"

#define FAKE_DS_SUBMIT "/api/v1/services/aigc/video-generation/video-synthesis"

#define FAKE_DS_IMAGE "/api/v1/services/aigc/text2image/image-synthesis"
#define FAKE_DS_TTS "/api/v1/services/aigc/multimodal-generation/generation"

typedef struct fake_ds_image {
	char id[64];
	int polls;
	char prompt[1024];
} fake_ds_image;

typedef struct fake_dashscope {
	lv_fake *f;
	fake_jobs jobs;          /* video tasks; its lock also guards the fields below */
	fake_arena arena;
	fake_ds_image images[32];
	int n_images;
	char image_fail_code[64]; /* set: picture tasks end FAILED with it */
	int tts_requests;
	char tts_fail_code[64];   /* set: speech requests get HTTP 400 with it */
	char png[512], wav[512];  /* the picture and the audio served */
} fake_dashscope;

/* Start on its own server; clips are made in clip_dir.  Fails the test when the server cannot start. */
fake_dashscope *fake_dashscope_start(const char *clip_dir);
void fake_dashscope_stop(fake_dashscope *ds);
lv_fake *fake_dashscope_server(const fake_dashscope *ds);
const char *fake_dashscope_url(const fake_dashscope *ds);

#endif
