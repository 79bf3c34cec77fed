/* H.264 parameter sets as a vendor's clip carries them (the composer decides copy or re-encode on them). */
#include "fuzz_util.h"
#include "compose/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lv_h264_params p;
	lv_h264_params_parse(&p, data, size);
	return 0;
}
