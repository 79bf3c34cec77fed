/*
 * Internal: the built-in `local` script writer and moderation — rule-based, offline, deterministic.
 */
#ifndef LV_PROVIDERS_LOCAL_RULES_H
#define LV_PROVIDERS_LOCAL_RULES_H

#include <cjson/cJSON.h>

#include "providers/provider.h"

/*
 * Write a storyboard (SPEC §4) for the request, as JSON text (*out, caller frees):
 * {"title","language","style","mood","characters":[{"id","name","description"}],
 *  "shots":[{"index","duration","camera","visual","characters":[ids],"narration"}]}
 * with exactly req->n_shots shots of req->shot_seconds, every shot a distinct camera and visual
 * derived from the prompt, characters named when the prompt names them, narration in
 * req->language that fits lv_narration_budget() by lv_speech_estimate_seconds().  The same
 * request always gives the same storyboard.  It must pass lv_storyboard_validate().
 */
int lv_local_storyboard(const lv_script_request *req, char **out);

typedef struct lv_local_rules lv_local_rules;

/*
 * Build the moderation rules from the provider's config block (may be NULL):
 *   "moderation": {"builtin": true, "categories": {"name": ["term", ...], ...}}
 * Built-in categories cover Chinese and English terms; config categories add to them (or replace
 * them with "builtin": false).  A config error names the key (LV_ECONFIG).
 */
int lv_local_rules_build(lv_local_rules **out, const cJSON *provider_block);
/* Check texts; out->flagged with the first hit's text index and the categories it matched. */
int lv_local_rules_check(const lv_local_rules *rules, const char *const *texts, size_t n,
                         lv_moderation_result *out);
void lv_local_rules_free(lv_local_rules *rules);

#endif
