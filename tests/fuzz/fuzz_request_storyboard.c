/* PATCH /v1/videos/{id}/storyboard and POST /v1/videos/{id}/shots/{n}/regenerate: a body through the
 * parsing and validation the API runs once the task is found (lv_creative_parse_body, then
 * lv_storyboard_apply_edit on a stored storyboard, or lv_regen_request_from_json).  The first byte
 * chooses the endpoint and the task's language; the rest is the body. */
#include "fuzz_util.h"
#include "core/creative.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

/* A storyboard as the pipeline stores it: two characters, three shots of 5, 10 and 5 s. */
static const char storyboard[] =
	"{\"title\":\"The lighthouse\",\"language\":\"en\",\"style\":\"cinematic\","
	"\"characters\":[{\"id\":\"c1\",\"name\":\"Mara\",\"description\":\"a keeper in a yellow coat\"},"
	"{\"id\":\"c2\",\"name\":\"Tom\",\"description\":\"a fisherman\"}],"
	"\"shots\":[{\"index\":0,\"duration\":5,\"camera\":\"wide\",\"visual\":\"a lighthouse at dusk\","
	"\"characters\":[\"c1\"],\"narration\":\"The light came on.\"},"
	"{\"index\":1,\"duration\":10,\"camera\":\"close-up\",\"visual\":\"Mara climbs the stairs\","
	"\"characters\":[\"c1\"],\"narration\":\"\"},"
	"{\"index\":2,\"duration\":5,\"camera\":\"aerial\",\"visual\":\"a boat in the storm\","
	"\"characters\":[\"c2\"],\"narration\":\"Tom saw it.\"}]}";

static int shot_duration(const cJSON *sb, int i)
{
	const cJSON *shot = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sb, "shots"), i);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(shot, "duration");
	return cJSON_IsNumber(d) ? (int)d->valuedouble : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const languages[4] = { "en", "zh", "ja", "de" };
	cJSON *body = NULL;
	if (size < 1)
		return 0;
	if (lv_creative_parse_body(&body, (const char *)data + 1, size - 1) != LV_OK || !body)
		return 0;
	if (data[0] & 1) {
		lv_regenerate_request r = LV_REGENERATE_REQUEST_INIT;
		if (lv_regen_request_from_json(&r, body) == LV_OK) {
			/* What was accepted is what the API stores: a seed in range, texts as given. */
			if (r.seed < -1 || r.seed > 2147483647LL)
				__builtin_trap();
			if ((r.visual && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "visual"))) ||
			    (r.narration && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "narration"))))
				__builtin_trap();
		}
	} else {
		cJSON *sb = cJSON_Parse(storyboard);
		if (!sb)
			abort();
		if (lv_storyboard_apply_edit(sb, body, languages[(data[0] >> 1) & 3]) == LV_OK) {
			char *out;
			/* An accepted edit never changes what the plan (and the bill) fixed. */
			if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sb, "shots")) != 3 || shot_duration(sb, 0) != 5 ||
			    shot_duration(sb, 1) != 10 || shot_duration(sb, 2) != 5)
				__builtin_trap();
			if (!(out = lv_json_print(sb)))
				abort();
			free(out);
		}
		cJSON_Delete(sb);
	}
	cJSON_Delete(body);
	return 0;
}
