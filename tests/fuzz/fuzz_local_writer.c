/* The built-in script writer on any prompt: a user's text (up to the API's 4,000 characters) through
 * lv_local_storyboard, whose storyboard must pass the pipeline's validation, and every shot's text
 * through what the renderer reads from it (scene, props, framing) and every character's description
 * through the card's reading.  The first byte chooses the language and the number of shots. */
#include "fuzz_util.h"
#include "media/local.h"
#include "media/scene.h"
#include "model/storyboard.h"
#include "providers/local/local_rules.h"

#include <stdlib.h>
#include <string.h>

#define PROMPT_MAX_BYTES (4000 * 4)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int seconds[8] = { 5, 8, 7, 8, 6, 8, 5, 8 };
	static const char *const languages[8] = { "en", "zh", "fr", "de", "es", "ja", "ar", "th" };
	lv_script_request req;
	char *prompt, *out = NULL, why[300];
	cJSON *sb;
	const cJSON *it;
	size_t n;
	if (size < 2 || size > PROMPT_MAX_BYTES)
		return 0;
	n = 1 + (data[0] & 7);
	prompt = lv_fuzz_text(data + 1, size - 1);
	memset(&req, 0, sizeof(req));
	req.prompt = prompt;
	req.language = languages[(data[0] >> 3) & 7];
	req.aspect_ratio = (data[0] & 0x40) ? "9:16" : "16:9";
	req.n_shots = n;
	req.shot_seconds = seconds;
	for (size_t i = 0; i < n; i++)
		req.duration += seconds[i];
	if (lv_local_storyboard(&req, &out) == LV_OK) {
		sb = cJSON_Parse(out);
		if (!sb || lv_storyboard_validate(sb, n, seconds, req.language, why, sizeof(why)) != LV_OK)
			abort(); /* the writer promises a valid storyboard */
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sb, "shots"))
		{
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "visual"),
			            *c = cJSON_GetObjectItemCaseSensitive(it, "camera");
			lv_scene_choice choice;
			if (cJSON_IsString(v)) {
				lv_scene_choose(v->valuestring, &choice);
				(void)lv_scene_framing(cJSON_IsString(c) ? c->valuestring : "", v->valuestring);
			}
		}
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sb, "characters"))
		{
			const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "description");
			if (cJSON_IsString(d))
				(void)lv_card_kind(d->valuestring);
		}
		cJSON_Delete(sb);
	}
	free(out);
	free(prompt);
	return 0;
}
