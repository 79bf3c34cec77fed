/* Internal: a create request, validated and normalised (defaults applied). */
#ifndef LV_CORE_REQUEST_H
#define LV_CORE_REQUEST_H

#include <cjson/cJSON.h>

#include "core/engine.h"
#include "longvideo/task.h"
#include "model/language.h"
#include "util/utf8.h"

#define LV_PROMPT_MAX_CHARS 4000
#define LV_WEBHOOK_URL_MAX 2048
#define LV_METADATA_MAX_KEYS 16
#define LV_METADATA_KEY_MAX 64
#define LV_METADATA_VALUE_MAX 512
#define LV_IDEMPOTENCY_KEY_MAX 255
#define LV_CHARACTERS_MAX 9
#define LV_CHARACTER_NAME_MAX 100
#define LV_CHARACTER_DESCRIPTION_MAX 1000

typedef struct lv_req {
	char *prompt; /* trimmed */
	int duration;
	char resolution[8];
	char aspect_ratio[8];
	char *provider;
	char language[16];
	int narration;
	int music;
	int subtitles;     /* LV_SUBTITLES_* */
	char *webhook_url; /* or NULL */
	char *metadata;    /* canonical JSON object text (keys sorted) */
	int review;        /* stop for storyboard review */
	char *characters;  /* your own characters: canonical JSON [{"name","description","image"}], or NULL */
} lv_req;

/* Validate a JSON body; every message names the field first. */
int lv_req_from_json(lv_req *out, lv_engine *e, const cJSON *body);
/* Validate a C request (it is turned into the same JSON and validated once). */
int lv_req_from_struct(lv_req *out, lv_engine *e, const lv_task_request *r);
/* SHA-256 hex of the normalised request: equal requests, equal hashes. */
int lv_req_hash(const lv_req *r, char out[65]);
void lv_req_clear(lv_req *r);

/* 1-255 printable ASCII characters. */
int lv_idempotency_key_check(const char *key);

#endif
