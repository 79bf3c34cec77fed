#include "media/wav.h"
#include "media/image.h"
#include "util/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)((v >> 8) & 0xff);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

/* The canonical 44-byte header for PCM s16le. */
static void header(unsigned char h[44], int channels, int rate, uint32_t data_bytes)
{
	memcpy(h, "RIFF", 4);
	put32(h + 4, 36 + data_bytes);
	memcpy(h + 8, "WAVEfmt ", 8);
	put32(h + 16, 16);
	put16(h + 20, 1); /* PCM */
	put16(h + 22, (uint32_t)channels);
	put32(h + 24, (uint32_t)rate);
	put32(h + 28, (uint32_t)rate * (uint32_t)channels * 2);
	put16(h + 32, (uint32_t)channels * 2);
	put16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	put32(h + 40, data_bytes);
}

static int io_fail(lv_wav_writer *w, const char *what)
{
	int e = errno;
	return lv_error_set(LV_EIO, "%s: %s: %s", w->path, what, strerror(e ? e : EIO));
}

int lv_wav_open(lv_wav_writer *w, const char *path, int channels, int rate)
{
	unsigned char h[44];
	int err;
	memset(w, 0, sizeof(*w));
	w->channels = channels;
	w->rate = rate;
	w->path = lv_strdup(path);
	if (!w->path)
		return LV_ENOMEM;
	err = lv_media_tmpfile(&w->tmp_path, path);
	if (err) {
		lv_wav_abort(w);
		return err;
	}
	w->f = fopen(w->tmp_path, "wb");
	if (!w->f) {
		err = io_fail(w, "cannot open a temporary file");
		lv_wav_abort(w);
		return err;
	}
	header(h, channels, rate, 0);
	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h)) {
		err = io_fail(w, "cannot write");
		lv_wav_abort(w);
		return err;
	}
	return LV_OK;
}

int lv_wav_write(lv_wav_writer *w, const int16_t *samples, size_t frames)
{
	unsigned char buf[4096];
	size_t n = frames * (size_t)w->channels, i = 0;
	if ((w->frames + frames) * (uint64_t)w->channels * 2 > 0xffffffffu - 64)
		return lv_error_set(LV_EINVALID, "%s: too long for a WAV file", w->path);
	while (i < n) {
		size_t k = 0;
		for (; i < n && k + 2 <= sizeof(buf); i++, k += 2)
			put16(buf + k, (uint16_t)samples[i]);
		if (fwrite(buf, 1, k, w->f) != k)
			return io_fail(w, "cannot write");
	}
	w->frames += frames;
	return LV_OK;
}

int lv_wav_finish(lv_wav_writer *w)
{
	unsigned char h[44];
	int err = LV_OK;
	header(h, w->channels, w->rate, (uint32_t)(w->frames * (uint64_t)w->channels * 2));
	if (fseek(w->f, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof(h), w->f) != sizeof(h) || fflush(w->f) != 0)
		err = io_fail(w, "cannot write the header");
	if (fclose(w->f) != 0 && !err)
		err = io_fail(w, "cannot close");
	w->f = NULL;
	if (!err && rename(w->tmp_path, w->path) != 0)
		err = io_fail(w, "cannot rename the temporary file");
	if (err) {
		lv_wav_abort(w);
		return err;
	}
	free(w->tmp_path);
	free(w->path);
	memset(w, 0, sizeof(*w));
	return LV_OK;
}

void lv_wav_abort(lv_wav_writer *w)
{
	if (w->f)
		fclose(w->f);
	if (w->tmp_path)
		unlink(w->tmp_path);
	free(w->tmp_path);
	free(w->path);
	memset(w, 0, sizeof(*w));
}
