/* Language-model answers as the script providers read them: an Anthropic Messages body (the storyboard is a
 * tool call) and an OpenAI chat completion (the storyboard is the message text). */
#include "fuzz_util.h"
#include "providers/llm.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const secrets[] = { "sk-ant-fuzz-secret", NULL };
	lv_provider_conf conf;
	lv_provider_error err;
	lv_http_response resp;
	char *text = lv_fuzz_text(data, size), *out = NULL, problem[300], extra[300];
	cJSON *obj = NULL;
	int truncated;
	memset(&conf, 0, sizeof(conf));
	conf.name = "fuzz";
	conf.type = "anthropic";
	memset(&err, 0, sizeof(err));
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	resp.body = text;
	resp.body_len = size;
	extra[0] = problem[0] = '\0';
	if (lv_anthropic_read_answer(&conf, &resp, secrets, &out, problem, sizeof(problem), extra, sizeof(extra),
	                             &truncated, &err) == 0 && !out)
		__builtin_trap();
	free(out);
	extra[0] = problem[0] = '\0';
	if (lv_chat_read_answer(text, &obj, &truncated, problem, sizeof(problem), extra, sizeof(extra)) == 0 && !obj)
		__builtin_trap();
	cJSON_Delete(obj);
	free(text);
	return 0;
}
