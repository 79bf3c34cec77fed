/* Internal: storyboard review and shot regeneration, the parts the pipeline and cancel share. */
#ifndef LV_CORE_CREATIVE_H
#define LV_CORE_CREATIVE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "core/engine.h"
#include "longvideo/task.h"
#include "store/store.h"

/* 1 when the task asked for review and its storyboard is not approved yet. */
int lv_review_wanted(const lv_task_rec *t);
/* Prepare `t` (about to become awaiting_review): record the deadline, drop the lease owner and make
 * the task claimable only after the deadline.  The caller writes t. */
int lv_review_enter(lv_engine *e, lv_task_rec *t, int64_t now);
/* A claimed task in awaiting_review: past its deadline it is canceled with review_timeout and a full
 * refund (the webhook fires); before, it goes back to waiting.  Writes t inside tx. */
int lv_review_expire(lv_engine *e, lv_store_tx *tx, lv_task_rec *t, int64_t now);

/* 1 while a shot regeneration runs (its attempt number in *attempt, if not NULL). */
int lv_regen_running(const lv_task_rec *t, int *attempt);
/* The regeneration recorded in `state` succeeded (its entry says so; the bookkeeping goes).
 * Returns 1 if there was one. */
int lv_regen_succeeded(cJSON *state);
/* End a running regeneration without a new film (`status` "failed" or "canceled", with the error):
 * the previous clip, storyboard shot, narration and film come back, the shot's reservation is
 * refunded, the task returns to its previous status (completed) and the webhook fires.  Writes t
 * inside tx.  Returns 1 (nothing done) when no regeneration runs. */
int lv_regen_abandon(lv_engine *e, lv_store_tx *tx, lv_task_rec *t, const char *status, const char *code,
                     const char *message, int64_t now);

/* The request bodies of creative control, checked before anything changes (the fuzz harness
 * fuzz_request_storyboard calls these as the API does):
 *   lv_creative_parse_body: a body that must be empty or a JSON object, parsed into *out (NULL when empty);
 *   lv_storyboard_apply_edit: a PATCH /v1/videos/{id}/storyboard body applied to the storyboard `sb` (in
 *     place), LV_EINVALID naming the field on the first problem (sb may then be partly edited);
 *   lv_regen_request_from_json: a regenerate body into *r (its strings point into body). */
int lv_creative_parse_body(cJSON **out, const char *body, size_t len);
int lv_storyboard_apply_edit(cJSON *sb, const cJSON *body, const char *language);
int lv_regen_request_from_json(lv_regenerate_request *r, const cJSON *body);

/* Check and store the images of a create request's characters (canonical JSON from the request):
 * data URLs are decoded, http(s) URLs fetched through the SSRF guard (10 s, 3 redirects, 10 MiB);
 * each must be a PNG, JPEG or WebP of at most 10 MiB (20 MiB together) with a short side of at least
 * 256 px.  Each is stored as a PNG; *out is the JSON list kept in the task's state:
 * [{"name","description","image": storage key,"image_url"}].  A bad image is LV_EINVALID naming
 * characters[i].image and why. */
int lv_characters_ingest(lv_engine *e, const char *characters_json, char **out);
/* Put the task's own characters into a storyboard the writer made: the writer's i-th character
 * takes the i-th given name and description; characters beyond the writer's are added to every shot. */
int lv_characters_merge(cJSON *sb, const lv_task_rec *t);
/* The storage key of the image given for the character called `name` (copied into buf), or NULL. */
const char *lv_characters_image(const lv_task_rec *t, const char *name, char *buf, size_t cap);

#endif
