/*
 * What the fake vendors (tests/fakes/fake_*.h) share: answers built by handlers, kept until the fake is
 * stopped; scripted answers consumed in order before a fake's own behaviour; the credential a request
 * carried; multipart fields; request bodies for assertions; storyboards an LLM fake answers with; clips a
 * video fake serves.
 *
 * Every fake owns its lv_fake server (fake_X_start / fake_X_stop) and a public behaviour struct: set its
 * fields before the requests they govern, or under fake_X_lock once requests may be running.  Requests
 * are recorded by the server (lv_fake_count, lv_fake_last, lv_fake_request_get on fake_X_server()).
 */
#ifndef LV_TEST_FAKE_UTIL_H
#define LV_TEST_FAKE_UTIL_H

#include "fakevendor.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ---- answers built by handlers ---------------------------------------------------------------------------- */

/* The server copies a handler's answer after the handler returns; strings built for it are kept here until
 * the fake is stopped. */
typedef struct fake_arena {
	pthread_mutex_t mu;
	char **items;
	size_t n, cap;
} fake_arena;

void fake_arena_init(fake_arena *a);
void fake_arena_free(fake_arena *a);
/* Take ownership of s (NULL passes through). */
const char *fake_keep(fake_arena *a, char *s);
const char *fake_printf(fake_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- scripted answers --------------------------------------------------------------------------------------- */

#define FAKE_SCRIPT_MAX 32

/* Answers given in order, before the fake's own behaviour: each serves `times` requests (0: every request
 * from then on).  In a body or in headers, "{{key}}" stands for the credential the request carried (as a
 * vendor or a proxy might echo it). */
typedef struct fake_script {
	lv_fake_response r[FAKE_SCRIPT_MAX];
	int times[FAKE_SCRIPT_MAX];
	int n, pos, served_at_pos;
	int used;   /* answers given from the script so far */
	int sticky; /* set: once used up, the last answer keeps answering (as lv_fake_on queues do) */
} fake_script;

/* Append an answer (its strings copied into the arena).  Call under the fake's lock. */
void fake_script_add(fake_script *s, fake_arena *a, const lv_fake_response *r, int times);
/* The next scripted answer for req into *out (1), or 0 when the script is used up (and not sticky). */
int fake_script_next(fake_script *s, fake_arena *a, const lv_fake_request *req, lv_fake_response *out);
void fake_script_clear(fake_script *s);

/* ---- requests ------------------------------------------------------------------------------------------------- */

/* The credential a request carried: x-api-key or x-goog-api-key, else the Bearer token (or fal's "Key" token) of
 * Authorization; "" when none. */
const char *fake_request_key(const lv_fake_request *req, char *buf, size_t cap);
/* 1 when no key is expected or the request carried exactly `expected`. */
int fake_key_ok(const char *expected, const lv_fake_request *req);
/* A text with every "{{key}}" replaced by `key` (kept in the arena). */
const char *fake_expand_key(fake_arena *a, const char *text, const char *key);

/* The value of a multipart/form-data text field: 1 if found. */
int fake_mp_field(const lv_fake_request *req, const char *name, char *buf, size_t cap);
/* The JSON body of the nth request (0 = first) to exactly METHOD PATH; fails the test when there is none
 * or it is not JSON.  *req (when given) gets the request (free with lv_fake_request_free). */
cJSON *fake_sent_json(lv_fake *f, const char *method, const char *path, size_t nth, lv_fake_request **req);

/* ---- storyboards ------------------------------------------------------------------------------------------------ */

/* Shots showing the character: bit i set = shot i (FAKE_CAST_ALL: every shot). */
#define FAKE_CAST_ALL 0xffffffffu

/* A storyboard for n shots of these lengths: English, one character ("c1", Ada, a lighthouse keeper) in the
 * shots of `cast`.  A shot with her: "Ada climbs the lighthouse stairs as waves break below"; without:
 * "Waves break on the empty rocks below the lighthouse".  Caller frees. */
char *fake_storyboard(size_t n, const int *secs, unsigned cast);
/* The shot lengths the adapter asked for ("- shot N: duration D s" lines of the prompt): how many. */
size_t fake_plan(const char *prompt, int *secs, size_t max);
/* The text of the first message with role "user" in a request body (a string content), or "". */
const char *fake_user_text(const cJSON *body);

/* ---- media -------------------------------------------------------------------------------------------------------- */

/* A clip of this size and length (H.264 + AAC, 24 fps, as a vendor's) in dir, made once with the ffmpeg CLI;
 * its path into out.  0 on success. */
int fake_clip(char *out, size_t cap, const char *dir, int w, int h, int seconds);

#endif
