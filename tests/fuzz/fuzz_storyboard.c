/* A storyboard as a language model writes it: the text of its answer (JSON, maybe fenced or with prose
 * around it) through extraction, the schema check and the storyboard validation. */
#include "fuzz_util.h"
#include "pipeline/storyboard.h"
#include "providers/llm.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int seconds[6] = { 5, 10, 5, 8, 3, 10 };
	static const char *const languages[4] = { "en", "zh", "ja", "ar" };
	char *text, why[300];
	cJSON *sb;
	size_t n;
	const char *lang;
	if (size < 1)
		return 0;
	/* The first byte chooses the number of shots and the language. */
	n = 1 + data[0] % 6;
	lang = languages[(data[0] >> 4) & 3];
	text = lv_fuzz_text(data + 1, size - 1);
	if ((sb = lv_llm_parse_text(text)) != NULL) {
		lv_llm_storyboard_check(sb, why, sizeof(why));
		lv_storyboard_validate(sb, n, seconds, lang, why, sizeof(why));
		cJSON_Delete(sb);
	}
	free(text);
	return 0;
}
