/*
 * A fake OpenAI API (and the gateways that copy it), answering with the documented shapes:
 *   POST /v1/chat/completions     chat.completion; by default the storyboard of the plan in the prompt
 *   POST /v1/moderations          one result per input ({"flagged", "categories", "category_scores"})
 *   POST /v1/images/generations   {"created", "data": [{"b64_json"}]} (or a URL served at GET /files/...)
 *   POST /v1/audio/speech         WAV bytes as OpenAI streams them (RIFF and data sizes 0xFFFFFFFF)
 *   POST /v1/videos               a video job (multipart, or JSON for gateways); GET /v1/videos/{id} its
 *                                 status; GET /v1/videos/{id}/content the MP4; DELETE /v1/videos/{id}
 *   GET  /v1/models               the model list (what `lvctl doctor --online` asks)
 * Errors use {"error": {"message", "type", "param", "code"}}.  Each endpoint family has its own expected key
 * (a request with another gets the documented 401 echoing the key it carried) and its own script of raw
 * answers, used before the behaviour below.
 */
#ifndef LV_TEST_FAKE_OPENAI_H
#define LV_TEST_FAKE_OPENAI_H

#include "fakes/fake_jobs.h"

/* Endpoint families. */
/* Endpoint families with a key and a script here; the videos endpoints keep theirs in `videos` (fake_jobs.h).
 * GET /v1/models takes any key set here or in videos.key. */
enum { FAKE_OA_CHAT, FAKE_OA_MODERATION, FAKE_OA_IMAGES, FAKE_OA_SPEECH, FAKE_OA_N };

/* What the n-th image or speech request gets (after the script of raw answers); past the list: OK. */
enum { FAKE_IMG_OK, FAKE_IMG_JPEG, FAKE_IMG_URL, FAKE_IMG_429, FAKE_IMG_500, FAKE_IMG_BLOCKED, FAKE_IMG_POLICY,
       FAKE_IMG_GARBAGE, FAKE_IMG_SLOW };
enum { FAKE_TTS_OK, FAKE_TTS_400, FAKE_TTS_401, FAKE_TTS_503, FAKE_TTS_GARBAGE, FAKE_TTS_MP3 };

/* Media the images and speech endpoints answer with. */
typedef struct fake_openai_media {
	char *dir;
	char *png;     /* 1024x1024 */
	char *jpg;     /* 1536x1024 */
	char *mp3;     /* 1.5 s of tone */
	char *b64_png, *b64_jpg;
} fake_openai_media;

/* Make them (ffmpeg CLI) in a new temporary directory; fails the test on error. */
void fake_openai_media_make(fake_openai_media *m);
void fake_openai_media_free(fake_openai_media *m);

typedef struct fake_openai {
	lv_fake *f;
	pthread_mutex_t mu;            /* guards the fields below (the video jobs have their own, in videos.mu) */
	fake_arena arena;
	char key[FAKE_OA_N][256];      /* set: the key each family expects */
	fake_script script[FAKE_OA_N]; /* raw answers per family, used first */
	/* chat */
	unsigned cast;                 /* default storyboard: the shots showing the character (FAKE_CAST_ALL) */
	int no_json_schema;            /* refuse response_format json_schema with a 400, as servers without
	                                  structured outputs do */
	/* moderation */
	int flag_input;                /* >= 0: this input is flagged (violence, violence/graphic); -1 none */
	/* images */
	int img_script[16], n_img_script, n_img;
	int64_t img_times[16];
	/* speech */
	int tts_script[16], n_tts_script, n_tts;
	double tts_seconds;            /* length at speed 1; 0: from the text */
	int wav_n;
	/* videos */
	fake_jobs videos;
	char seconds_field[32];        /* where the length is read from ("seconds"; a gateway may use another) */
	/* media */
	char *dir;                     /* the speech answers (and video clips unless told otherwise) */
	const fake_openai_media *media;
	fake_openai_media own_media;
} fake_openai;

/* Start on its own server.  media: the images and speech answers (NULL: made when first needed); video clips
 * are made in clip_dir (NULL: a directory of the fake's own). */
fake_openai *fake_openai_start(const fake_openai_media *media, const char *clip_dir);
void fake_openai_stop(fake_openai *o);
lv_fake *fake_openai_server(const fake_openai *o);
const char *fake_openai_url(const fake_openai *o);
void fake_openai_lock(fake_openai *o);
void fake_openai_unlock(fake_openai *o);

/* Add a raw answer to a family's script (see fake_script_add; takes the lock). */
void fake_openai_push(fake_openai *o, int family, const lv_fake_response *r, int times);
void fake_openai_push_body(fake_openai *o, int family, int status, const char *headers, const char *body,
                           int delay_ms, int times);
/* What the next image / speech requests get (counters reset). */
void fake_openai_script_images(fake_openai *o, int n, const int *what);
void fake_openai_script_speech(fake_openai *o, int n, const int *what);

/* A chat.completion whose message content is `content` (caller frees). */
char *fake_openai_chat_answer(const char *content, const char *finish_reason);

#endif
