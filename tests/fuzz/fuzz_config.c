/* The configuration file. */
#include "fuzz_util.h"
#include "config/config.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = lv_fuzz_text(data, size);
	lv_config *cfg = NULL;
	if (lv_config_load(&cfg, NULL, text, NULL) == LV_OK)
		lv_config_free(cfg);
	free(text);
	return 0;
}
