/* Internal: storyboard review and shot regeneration, the parts the pipeline and cancel share. */
#ifndef LV_CORE_CREATIVE_H
#define LV_CORE_CREATIVE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "core/engine.h"
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

#endif
