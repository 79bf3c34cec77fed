/* Video vendors' answers to a status check, as each adapter's poll reads them: DashScope's task, OpenAI's
 * video object, ComfyUI's /history entry.  The first byte picks the vendor, the second the HTTP status. */
#include "fuzz_util.h"
#include "core/engine.h"
#include "providers/video_http.h"

#include <stdlib.h>
#include <string.h>

static const void *comfy_self(void)
{
	static const void *self;
	if (!self) {
		lv_engine *e = lv_fuzz_engine_config(
		        "{\"providers\":{\"comfy\":{\"type\":\"comfyui\",\"base_url\":\"http://127.0.0.1:9\","
		        "\"workflow\":\"" LV_FUZZ_SOURCE_DIR "/examples/comfyui/wan2.1_t2v_api.json\","
		        "\"rates\":{\"720p\":1,\"1080p\":1}}}}");
		const lv_provider *p = lv_providers_get(e->providers, "comfy");
		if (!p)
			abort();
		self = p->self;
	}
	return self;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[8] = { 200, 200, 200, 400, 401, 404, 429, 500 };
	lv_provider_conf conf;
	lv_vh_call c;
	lv_segment_job job;
	lv_job_status st;
	lv_provider_error err;
	lv_http_response resp;
	char *body;
	int found;
	if (size < 2)
		return 0;
	body = lv_fuzz_text(data + 2, size - 2);
	memset(&conf, 0, sizeof(conf));
	conf.name = "fuzz";
	memset(&c, 0, sizeof(c));
	c.conf = &conf;
	c.key = "sk-fuzz-secret";
	c.secrets[0] = c.key;
	memset(&job, 0, sizeof(job));
	job.task_id = "vid_fuzz";
	job.index = 3;
	job.job_id = "0f6c9a3e-9d2b-4c53-8f5e-1a2b3c4d5e6f";
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	memset(&resp, 0, sizeof(resp));
	resp.status = statuses[data[1] & 7];
	resp.body = body;
	resp.body_len = size - 2;
	switch (data[0] % 3) {
	case 0:
		lv_ds_read_status(&c, &resp, &job, 15000, &st, &err);
		break;
	case 1:
		lv_oa_videos_read_status(&c, &resp, &job, 15000, &st, &err);
		break;
	default:
		lv_comfy_read_history(comfy_self(), body, size - 2, &job, &found, &st, &err);
		break;
	}
	free(st.job_id);
	free(st.job_state);
	free(body);
	return 0;
}
