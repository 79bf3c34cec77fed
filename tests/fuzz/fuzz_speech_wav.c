/* A speech vendor's WAV answer: the header repair done before the audio is read back (streamed WAV from
 * OpenAI-compatible servers carries placeholder sizes). */
#include "fuzz_util.h"
#include "providers/clip.h"

#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[256];
	FILE *f;
	snprintf(path, sizeof(path), "%s/speech.wav", lv_fuzz_dir());
	if (!(f = fopen(path, "wb")))
		return 0;
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);
	lv_clip_wav_fix_sizes(path);
	unlink(path);
	return 0;
}
