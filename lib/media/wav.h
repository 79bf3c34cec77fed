/*
 * Internal: writing 16-bit PCM WAV files in blocks.  The data goes to a
 * temporary file beside the target; lv_wav_finish() patches the RIFF sizes
 * and renames it into place, lv_wav_abort() removes it.
 */
#ifndef LV_MEDIA_WAV_H
#define LV_MEDIA_WAV_H

#include <stdint.h>
#include <stdio.h>

typedef struct lv_wav_writer {
	FILE *f;
	char *tmp_path;
	char *path;
	int channels, rate;
	uint64_t frames; /* sample frames written so far */
} lv_wav_writer;

int lv_wav_open(lv_wav_writer *w, const char *path, int channels, int rate);
/* Append `frames` interleaved sample frames. */
int lv_wav_write(lv_wav_writer *w, const int16_t *samples, size_t frames);
/* Finish the header and move the file into place; the writer is released either way. */
int lv_wav_finish(lv_wav_writer *w);
/* Drop the temporary file; safe on a zeroed or finished writer. */
void lv_wav_abort(lv_wav_writer *w);

#endif
