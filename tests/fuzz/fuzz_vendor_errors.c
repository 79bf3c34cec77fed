/* Vendors' error and verdict answers: the OpenAI/Anthropic error envelope, OpenAI's safety refusals, a
 * moderation verdict from a language model. */
#include "fuzz_util.h"
#include "http/http.h"
#include "providers/llm.h"
#include "providers/openai_media.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const secrets[] = { "sk-fuzz-secret", NULL };
	char *text = lv_fuzz_text(data, size), cats[200], why[300];
	lv_llm_vendor_error v;
	lv_http_response resp;
	lv_moderation_result mr;
	cJSON *verdict;
	lv_llm_vendor_error_read(&v, text, secrets);
	memset(&resp, 0, sizeof(resp));
	resp.status = 400;
	resp.body = text;
	resp.body_len = size;
	lv_oai_is_safety_refusal(&resp, cats, sizeof(cats));
	if ((verdict = lv_llm_parse_text(text)) != NULL) {
		memset(&mr, 0, sizeof(mr));
		lv_llm_moderation_verdict(verdict, 3, &mr, why, sizeof(why));
		cJSON_Delete(verdict);
	}
	free(text);
	return 0;
}
