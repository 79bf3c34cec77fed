/*
 * Internal: still images for the renderer, the cards and the provider outputs:
 * decoding with libavcodec, scaling with libswscale, PNG encoding.  Also the temp-file
 * naming every media maker uses (write beside the target, rename at the end).
 */
#ifndef LV_MEDIA_IMAGE_H
#define LV_MEDIA_IMAGE_H

#include <libavcodec/avcodec.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decode a PNG (or JPEG) file into packed RGBA with straight alpha (opaque
 * images get alpha 255), scaled to fit inside box_w x box_h with its aspect
 * ratio kept (0 x 0: native size).  *rgba (stride 4 * *w) is freed by the caller.
 */
int lv_image_load(uint8_t **rgba, int *w, int *h, const char *path, int box_w, int box_h);

/* Decode one still picture (a PNG, JPEG or WebP bitstream, by `id`) held in memory; *out is the frame
 * (caller frees with av_frame_free).  Errors name `path`. */
int lv_image_decode(AVFrame **out, enum AVCodecID id, const uint8_t *data, size_t len, const char *path);

/* A decoded picture as packed RGBA (straight alpha) scaled to dw x dh (its own size for no scaling);
 * *rgba (stride 4 * dw) is freed by the caller. */
int lv_image_frame_to_rgba(uint8_t **rgba, const AVFrame *f, int dw, int dh, const char *path);

/* Encode packed RGB24 as a PNG file, atomically. */
int lv_png_save_rgb24(const char *path, const uint8_t *rgb, int w, int h, int stride);

/* Set the last error to LV_EIO "path: what: <FFmpeg's message for averr>" and return LV_EIO. */
int lv_media_av_fail(int averr, const char *path, const char *what);

/* A unique temporary name beside `path` ("path.tmp-XXXXXX"), created empty with mode 0644; caller frees. */
int lv_media_tmpfile(char **tmp_path, const char *path);

#endif
