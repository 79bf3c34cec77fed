/*
 * Internal: still images for the renderer and the cards: decoding with
 * libavcodec, scaling with libswscale, PNG encoding.  Also the temp-file
 * naming every media maker uses (write beside the target, rename at the end).
 */
#ifndef LV_MEDIA_IMAGE_H
#define LV_MEDIA_IMAGE_H

#include <stdint.h>

/*
 * Decode a PNG (or JPEG) file into packed RGBA with straight alpha (opaque
 * images get alpha 255), scaled to fit inside box_w x box_h with its aspect
 * ratio kept (0 x 0: native size).  *rgba (stride 4 * *w) is freed by the caller.
 */
int lv_image_load(uint8_t **rgba, int *w, int *h, const char *path, int box_w, int box_h);

/* Encode packed RGB24 as a PNG file, atomically. */
int lv_png_save_rgb24(const char *path, const uint8_t *rgb, int w, int h, int stride);

/* A unique temporary name beside `path` ("path.tmp-XXXXXX"), created empty with mode 0644; caller frees. */
int lv_media_tmpfile(char **tmp_path, const char *path);

#endif
