#include "fuzz_util.h"
#include "util/fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir_buf[64];

static void remove_dir(void)
{
	lv_rm_rf(dir_buf);
}
static lv_engine *engine;
static lv_key *engine_key;

char *lv_fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

const char *lv_fuzz_dir(void)
{
	if (!dir_buf[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir_buf, sizeof(dir_buf), "%.40s/lvfuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir_buf))
			abort();
		atexit(remove_dir);
	}
	return dir_buf;
}

lv_engine *lv_fuzz_engine(lv_key **key)
{
	if (!engine) {
		lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
		o.data_dir = lv_fuzz_dir();
		o.config_json = "{}";
		if (lv_engine_open(&engine, &o) != LV_OK || lv_key_create(&engine_key, engine, "fuzz", 1000000000) != LV_OK) {
			fprintf(stderr, "fuzz: cannot open an engine in %s: %s\n", o.data_dir, lv_error_last()->message);
			abort();
		}
	}
	if (key)
		*key = engine_key;
	return engine;
}

lv_engine *lv_fuzz_engine_config(const char *config_json)
{
	static lv_engine *configured;
	if (!configured) {
		lv_engine_options o = LV_ENGINE_OPTIONS_INIT;
		char dir[256];
		snprintf(dir, sizeof(dir), "%s/configured", lv_fuzz_dir());
		o.data_dir = dir;
		o.config_json = config_json;
		if (lv_engine_open(&configured, &o) != LV_OK) {
			fprintf(stderr, "fuzz: cannot open an engine with %s: %s\n", config_json, lv_error_last()->message);
			abort();
		}
	}
	return configured;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Validation errors are logged at info level; the fuzzer's own output is what matters. */
	setenv("LV_LOG_LEVEL", "off", 0);
	return 0;
}
