/*
 * A fake ComfyUI server replaying the routes of ComfyUI's server.py: POST /prompt (queue a workflow),
 * GET /history and /history/{id}, GET and POST /queue (list, delete pending), POST /interrupt,
 * POST /upload/image, GET /view (the outputs).  Prompts run one at a time: each waits at least queue_ms,
 * then runs run_ms, and its history then lists the outputs of its kind (SaveVideo MP4, VHS_VideoCombine,
 * animated WebP, GIF, or a PNG frame sequence), served from `outputs`.  Failures are injected by count.
 * With `key` set (a proxy in front), a request with another Bearer key gets a 401 echoing it.
 */
#ifndef LV_TEST_FAKE_COMFYUI_H
#define LV_TEST_FAKE_COMFYUI_H

#include "fakes/fake_util.h"

#define FAKE_COMFY_FRAMES 48 /* the frame sequence: 3 s at 16 fps */
#define FAKE_COMFY_PROMPTS 64

/* The output files a workflow writes. */
typedef struct fake_comfyui_outputs {
	char *dir;
	char *mp4;        /* 5 s, 1280x720, canonical (what a SaveVideo node would write) */
	char *webp;       /* animated, 320x240, 3 s at 16 fps */
	char *gif;        /* the same as a GIF */
	char *frames_dir; /* f_00001_.png ... 160x120 */
} fake_comfyui_outputs;

/* Make them in a new temporary directory; fails the test on error. */
void fake_comfyui_outputs_make(fake_comfyui_outputs *o);
void fake_comfyui_outputs_free(fake_comfyui_outputs *o);

enum { FAKE_COMFY_SAVEVIDEO, FAKE_COMFY_VHS, FAKE_COMFY_WEBP, FAKE_COMFY_GIF, FAKE_COMFY_FRAMES_OUT,
       FAKE_COMFY_NOTHING };

typedef struct fake_comfy_prompt {
	char id[48];
	char client_id[96];
	int64_t submitted, interrupted_at;
	int number, deleted, kind, fail; /* fail: 0 ok, 1 execution error, 2 out of memory */
	char *body;                      /* the /prompt request body */
} fake_comfy_prompt;

typedef struct fake_comfyui fake_comfyui;

typedef struct fake_comfyui_route {
	fake_comfyui *c;
	size_t i;
} fake_comfyui_route;

struct fake_comfyui {
	lv_fake *f;
	fake_comfyui_route routes[8];
	const fake_comfyui_outputs *outputs;
	pthread_mutex_t mu; /* guards everything below */
	fake_arena arena;
	/* the prompts queued */
	fake_comfy_prompt p[FAKE_COMFY_PROMPTS];
	int n;
	/* behaviour */
	int64_t queue_ms, run_ms;        /* defaults 50 and 300 */
	int kinds[8], n_kinds;           /* output kind by prompt number (cycled); none: SaveVideo */
	int fail_prompt, oom_prompt;     /* 1-based prompt numbers whose run fails */
	int prompt_429;                  /* the next n /prompt get 429 with Retry-After: 1 */
	int prompt_502_queued;           /* ... are queued, then answered 502 */
	int prompt_503_lost;             /* ... get 503 without being queued */
	int prompt_slow_ms;              /* the next /prompt is answered this late (once) */
	int prompt_garbage;              /* ... are queued, then answered with broken JSON */
	int prompt_400;                  /* ... get 400 with node_errors */
	int history_500, history_garbage;
	char key[256];
	/* counters */
	int64_t prompt_times[64];
	int n_prompt_times;
	int uploads;
	char upload_body_has_png, upload_has_overwrite, upload_has_type_input;
	char upload_names[8][128];
	char *upload_bodies[8];          /* the first uploads' bodies (multipart, binary) */
	size_t upload_lens[8];
};

fake_comfyui *fake_comfyui_start(const fake_comfyui_outputs *outputs);
void fake_comfyui_stop(fake_comfyui *c);
/* Back to a fresh state (no prompts, default behaviour) without restarting the server; the server's
 * request log keeps growing. */
void fake_comfyui_reset(fake_comfyui *c);
lv_fake *fake_comfyui_server(const fake_comfyui *c);
const char *fake_comfyui_url(const fake_comfyui *c);
void fake_comfyui_lock(fake_comfyui *c);
void fake_comfyui_unlock(fake_comfyui *c);

/* How many prompts were queued. */
int fake_comfyui_prompts(fake_comfyui *c);
/* The workflow (the "prompt" object) of the i-th queued prompt; *root gets the whole body to free. */
cJSON *fake_comfyui_workflow(fake_comfyui *c, int i, cJSON **root);
/* Under the lock: 0 gone (deleted), 1 pending, 2 running, 3 done. */
int fake_comfyui_prompt_state(const fake_comfyui *c, int i, int64_t now);

#endif
