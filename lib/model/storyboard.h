/*
 * Internal (model layer): the storyboard (SPEC §4) — validation shared by every script provider, and the
 * speaking-time estimate used both to write narration that fits and to check it.
 */
#ifndef LV_MODEL_STORYBOARD_H
#define LV_MODEL_STORYBOARD_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* How long `text` takes to speak in `language` at a natural pace (seconds), by script: CJK
 * ideographs 4.2 per second, kana (morae) 7.5; Hangul 4.5 syllables per second; words of letters in
 * any alphabetic script (accented Latin, Greek, Cyrillic, Arabic, Indic, full-width Latin...) 2.6 per
 * second (2.8 in English, 2.9 in French, Spanish, Italian and Portuguese, whose words are shorter), a number of n
 * digits counting as about n/2 words; punctuation adds short pauses.  Scripts written without spaces
 * between words other than CJK (Thai, Lao, Khmer) are undercounted. */
double lv_speech_estimate_seconds(const char *text, const char *language);

/* The longest narration a shot of `seconds` may carry: estimated speaking time <= this. */
double lv_narration_budget(int seconds);

/*
 * Validate a storyboard against the plan: an object with title, language, style, characters
 * [{id,name,description}], shots [{index,duration,camera,visual,characters,narration}] with exactly
 * n_shots shots of exactly these durations in order, known character ids, non-empty visuals, and
 * narration that fits its shot.  On failure returns LV_EINVALID and writes a one-line reason into
 * feedback (given to the script provider on the next attempt).
 */
int lv_storyboard_validate(const cJSON *sb, size_t n_shots, const int *shot_seconds, const char *language,
                           char *feedback, size_t cap);

#endif
